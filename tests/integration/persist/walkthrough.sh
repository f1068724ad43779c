#!/usr/bin/env bash
# The seed sg_persist walkthrough (EXPRESSCLUSTER "SG_UTILS for Windows": register 123abc, reserve type 3, read
# keys, read reservation, release, clear), every command verbatim with "-d PD2" replaced by an iscsi:// URL, run
# with iscsi-persist from two initiator names against a fresh prtarget. Each step checks the exact stdout, the
# exact stderr and the exit status that sg_persist semantics and SPC-4 require.
#
# Usage: walkthrough.sh [PRTARGET [ISCSI_PERSIST]]
#   PRTARGET, ISCSI_PERSIST  paths of the two programs (arguments win over the environment variables).
#   PERSIST_URL              optional: use this already-running target instead of starting prtarget
#                            (for example tgt, to compare; see docs/iscsi-persist.md).
# Exit status: 0 all steps passed, 1 a step failed, 77 a program is missing (ctest SKIP_RETURN_CODE).
set -u

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

TMP=$(mktemp -d "${TMPDIR:-/tmp}/persist-walkthrough.XXXXXX")
TARGET_PID=""
cleanup() {
    if [ -n "$TARGET_PID" ]; then
        kill "$TARGET_PID" 2>/dev/null
        wait "$TARGET_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

if [ -z "$URL" ]; then
    # A private runtime directory keeps this prtarget's default control socket away from any other instance.
    mkdir -p "$TMP/run"
    XDG_RUNTIME_DIR="$TMP/run" "$PRTARGET" --listen 127.0.0.1:0 >"$TMP/target.out" 2>"$TMP/target.err" &
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
fi
echo "# target: $URL"

A=iqn.2026-11.org.prtarget:walkthrough-a
B=iqn.2026-11.org.prtarget:walkthrough-b
N=0
FAILED=0
INQ=""   # the two INQUIRY lines, learnt from the first step and expected before every later result

# step DESCRIPTION INITIATOR EXPECTED_EXIT EXPECTED_STDOUT EXPECTED_STDERR -- iscsi-persist arguments...
step() {
    local desc=$1 iname=$2 want_rc=$3 want_out=$4 want_err=$5
    shift 6
    N=$((N + 1))
    "$ISCSI_PERSIST" --initiator-name="$iname" "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    local out err ok=1
    out=$(cat "$TMP/out")
    err=$(cat "$TMP/err")
    if [ -z "$INQ" ] && [ "$rc" -eq 0 ]; then
        # SPC-4 6.6.2 standard INQUIRY data, printed as sg_persist does: vendor (8), product (16), revision (4),
        # then the peripheral device type of a direct-access block device.
        INQ=$(head -n 2 "$TMP/out")
        if ! printf '%s\n' "$INQ" | head -n 1 | grep -Eq '^  .{8}  .{16}  .{4}$' ||
           [ "$(printf '%s\n' "$INQ" | sed -n 2p)" != "  Peripheral device type: disk" ]; then
            ok=0
        fi
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
        echo "#   command: iscsi-persist --initiator-name=$iname $*"
        echo "#   exit: got $rc, want $want_rc"
        diff <(printf '%s\n' "$want_out") <(printf '%s\n' "$out") | sed 's/^/#   stdout: /'
        diff <(printf '%s\n' "$want_err") <(printf '%s\n' "$err") | sed 's/^/#   stderr: /'
    fi
}

CONFLICT_RESERVE=$'PR out (Reserve): Reservation conflict\niscsi-persist failed: Reservation conflict'

# A fresh logical unit: no registrations, PRgeneration 0 (SPC-4 6.14.2).
step "fresh LU has no registrations" "$A" 0 \
    $'@INQ@\n  PR generation=0x0, there are NO registered reservation keys' "" -- -i -k -d "$URL"

# Walkthrough 1: "Create a key on the device". REGISTER from an unregistered nexus with SARK 123abc.
step "walkthrough: sg_persist -o -G -S 123abc -d PD2" "$A" 0 '@INQ@' "" -- -o -G -S 123abc -d "$URL"

# Walkthrough 2: "Use the key to reserve the device", type 3 Exclusive Access (SPC-4 5.13.9).
step "walkthrough: sg_persist -o -R -K 123abc -T 3 -d PD2" "$A" 0 '@INQ@' "" -- -o -R -K 123abc -T 3 -d "$URL"

# Walkthrough 3: "Query keys". REGISTER incremented PRgeneration, RESERVE did not (SPC-4 6.14.2).
step "walkthrough: sg_persist -i -k -d PD2" "$A" 0 \
    $'@INQ@\n  PR generation=0x1, 1 registered reservation key follows:\n    0x123abc' "" -- -i -k -d "$URL"

# Walkthrough 4: "Query reservations" (SPC-4 6.14.3).
step "walkthrough: sg_persist -i -r -d PD2" "$A" 0 \
    $'@INQ@\n  PR generation=0x1, Reservation follows:\n    Key=0x123abc\n    scope: LU_SCOPE,  type: Exclusive Access' \
    "" -- -i -r -d "$URL"

# The second initiator sees the same state: PERSISTENT RESERVE IN is allowed from every I_T nexus even under an
# Exclusive Access reservation (SPC-4 5.13.1, Table 63).
step "second initiator: sg_persist -i -k -d PD2 sees the first one's key" "$B" 0 \
    $'@INQ@\n  PR generation=0x1, 1 registered reservation key follows:\n    0x123abc' "" -- -i -k -d "$URL"
step "second initiator: sg_persist -i -r -d PD2 sees the first one's reservation" "$B" 0 \
    $'@INQ@\n  PR generation=0x1, Reservation follows:\n    Key=0x123abc\n    scope: LU_SCOPE,  type: Exclusive Access' \
    "" -- -i -r -d "$URL"

# Walkthrough 2 verbatim from the second, unregistered initiator: RESERVATION CONFLICT (SPC-4 5.13.9: only a
# registered I_T nexus whose key matches may reserve), exit status 24 as sg_persist.
step "second initiator: sg_persist -o -R -K 123abc -T 3 -d PD2 conflicts (exit 24)" "$B" 24 '@INQ@' \
    "$CONFLICT_RESERVE" -- -o -R -K 123abc -T 3 -d "$URL"

# The second initiator registers a key of its own (REGISTER is allowed under any reservation, SPC-4 5.13.1) and
# still cannot reserve while the first holds the reservation (SPC-4 5.13.9).
step "second initiator: sg_persist -o -G -S 456def -d PD2" "$B" 0 '@INQ@' "" -- -o -G -S 456def -d "$URL"
step "second initiator: sg_persist -o -R -K 456def -T 3 -d PD2 conflicts (exit 24)" "$B" 24 '@INQ@' \
    "$CONFLICT_RESERVE" -- -o -R -K 456def -T 3 -d "$URL"
SORTED=1 step "both keys are registered, generation 2" "$A" 0 \
    $'@INQ@\n  PR generation=0x2, 2 registered reservation keys follow:\n    0x123abc\n    0x456def' "" \
    -- -i -k -d "$URL"
# REGISTER with SARK 0 unregisters the second initiator (SPC-4 5.13.11.3); PRgeneration counts it.
step "second initiator unregisters: sg_persist -o -G -K 456def -d PD2" "$B" 0 '@INQ@' "" \
    -- -o -G -K 456def -d "$URL"

# Walkthrough 5: "Release the reservation" with the holder's key and type (SPC-4 5.13.11.2).
step "walkthrough: sg_persist -o -L -K 123abc -T 3 -d PD2" "$A" 0 '@INQ@' "" -- -o -L -K 123abc -T 3 -d "$URL"
step "no reservation after release" "$A" 0 $'@INQ@\n  PR generation=0x3, there is NO reservation held' "" \
    -- -i -r -d "$URL"

# Walkthrough 6: "Release the reservation and clear all reservation keys" (SPC-4 5.13.11.6), which
# counts in PRgeneration (SPC-4 6.14.2). Nobody else is registered, so no unit attention is due.
step "walkthrough: sg_persist -o -C -K 123abc -d PD2" "$A" 0 '@INQ@' "" -- -o -C -K 123abc -d "$URL"
step "no registrations after clear, generation 4" "$A" 0 \
    $'@INQ@\n  PR generation=0x4, there are NO registered reservation keys' "" -- -i -k -d "$URL"
step "second initiator sees the cleared state" "$B" 0 \
    $'@INQ@\n  PR generation=0x4, there are NO registered reservation keys' "" -- -i -k -d "$URL"

if [ "$FAILED" -ne 0 ]; then
    echo "FAIL: iscsi-persist walkthrough ($N steps)"
    exit 1
fi
echo "PASS: iscsi-persist walkthrough ($N steps)"
exit 0
