# Shared by the iscsi-persist integration scripts (sourced, not run): argument handling, starting a private
# prtarget, and the step checker. Every script takes [PRTARGET [ISCSI_PERSIST]] as arguments or environment
# variables, honours PERSIST_URL (an already running target instead of a fresh prtarget) and exits 0 (pass),
# 1 (a step failed) or 77 (a program is missing: ctest SKIP_RETURN_CODE).

PRTARGET=${1:-${PRTARGET:-}}
ISCSI_PERSIST=${2:-${ISCSI_PERSIST:-}}
URL=${PERSIST_URL:-}

if [ -z "$ISCSI_PERSIST" ] || [ ! -x "$ISCSI_PERSIST" ]; then
    echo "SKIP: iscsi-persist not found (give it as argument 2 or ISCSI_PERSIST)"
    exit 77
fi
if [ -z "$URL" ] && { [ -z "$PRTARGET" ] || [ ! -x "$PRTARGET" ]; }; then
    echo "SKIP: prtarget not found (give it as argument 1 or PRTARGET)"
    exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/persist-it.XXXXXX")
TARGET_PID=""
persist_cleanup() {
    if [ -n "$TARGET_PID" ]; then
        kill "$TARGET_PID" 2>/dev/null
        wait "$TARGET_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap persist_cleanup EXIT

# Start prtarget with the given extra arguments unless PERSIST_URL names a target; sets URL to the first
# "prtarget: ready" URL and URLS to all of them (one per portal x LUN).
persist_start_target() {
    URLS=$URL
    [ -n "$URL" ] && return 0
    # A private runtime directory keeps this prtarget's default control socket away from any other instance.
    mkdir -p "$TMP/run"
    XDG_RUNTIME_DIR="$TMP/run" "$PRTARGET" --listen 127.0.0.1:0 "$@" >"$TMP/target.out" 2>"$TMP/target.err" &
    TARGET_PID=$!
    for _ in $(seq 1 200); do
        URL=$(sed -n 's/^prtarget: ready \(iscsi:\/\/[^ ]*\)$/\1/p' "$TMP/target.out" | head -n 1)
        [ -n "$URL" ] && break
        if ! kill -0 "$TARGET_PID" 2>/dev/null; then
            echo "FAIL: prtarget exited before it was ready"; cat "$TMP/target.err"; TARGET_PID=""; exit 1
        fi
        sleep 0.1
    done
    if [ -z "$URL" ]; then
        echo "FAIL: prtarget printed no 'prtarget: ready' line in 20 s"; cat "$TMP/target.err"; exit 1
    fi
    sleep 0.2 # every portal prints its line before the first command; give the rest a moment to arrive
    URLS=$(sed -n 's/^prtarget: ready \(iscsi:\/\/[^ ]*\)$/\1/p' "$TMP/target.out")
    echo "# target: $URL"
}

N=0
FAILED=0
INQ=""   # the two INQUIRY lines, learnt from the first successful step and expected before later results

# step DESCRIPTION INITIATOR EXPECTED_EXIT EXPECTED_STDOUT EXPECTED_STDERR -- iscsi-persist arguments...
# "@INQ@" in EXPECTED_STDOUT stands for the INQUIRY lines. With SORTED=1 the stdout lines are compared as a set.
# An INITIATOR of "-" passes no --initiator-name (the default nexus).
step() {
    local desc=$1 iname=$2 want_rc=$3 want_out=$4 want_err=$5
    shift 6
    N=$((N + 1))
    local -a cmd=("$ISCSI_PERSIST")
    [ "$iname" != "-" ] && cmd+=("--initiator-name=$iname")
    "${cmd[@]}" "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    local out err ok=1
    out=$(cat "$TMP/out")
    err=$(cat "$TMP/err")
    if [ -z "$INQ" ] && [ "$rc" -eq 0 ] && [ "$(wc -l <"$TMP/out")" -ge 2 ] &&
       head -n 1 "$TMP/out" | grep -Eq '^  .{8}  .{16}  .{4}$'; then
        # SPC-4 6.6.2 standard INQUIRY data, printed as sg_persist does: vendor (8), product (16), revision (4),
        # then the peripheral device type of a direct-access block device.
        INQ=$(head -n 2 "$TMP/out")
        [ "$(sed -n 2p "$TMP/out")" == "  Peripheral device type: disk" ] || ok=0
    fi
    want_out=${want_out//@INQ@/$INQ}
    [ "$rc" -eq "$want_rc" ] || ok=0
    if [ -n "${SORTED:-}" ]; then
        # SPC-4 6.14.2 does not order the keys of READ KEYS; compare the lines as a set.
        [ "$(printf '%s\n' "$out" | sort)" == "$(printf '%s\n' "$want_out" | sort)" ] || ok=0
    else
        [ "$out" == "$want_out" ] || ok=0
    fi
    [ "$err" == "$want_err" ] || ok=0
    if [ "$ok" -eq 1 ]; then
        echo "ok $N - $desc"
    else
        FAILED=1
        echo "not ok $N - $desc"
        echo "#   command: ${cmd[*]} $*"
        echo "#   exit: got $rc, want $want_rc"
        diff <(printf '%s\n' "$want_out") <(printf '%s\n' "$out") | sed 's/^/#   stdout: /'
        diff <(printf '%s\n' "$want_err") <(printf '%s\n' "$err") | sed 's/^/#   stderr: /'
    fi
}

# persist_finish NAME: the verdict line and the exit status.
persist_finish() {
    if [ "$FAILED" -ne 0 ]; then
        echo "FAIL: $1 ($N steps)"
        exit 1
    fi
    echo "PASS: $1 ($N steps)"
    exit 0
}
