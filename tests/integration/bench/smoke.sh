#!/usr/bin/env bash
# Smoke test of prbench against a private prtarget: every workload runs a fixed, small number of commands (--ios,
# never --seconds), and the test checks the output format, the registrations prbench reports and removes, and the
# exit statuses (0 success, 1 login or I/O failure, 2 bad arguments). It asserts nothing about speed, so a slow or
# busy machine cannot fail it.
#
#   tests/integration/bench/smoke.sh [PRTARGET [PRBENCH]]      (or the PRTARGET / PRBENCH environment variables)
# Exit: 0 pass, 1 a step failed, 77 a program is missing (ctest SKIP_RETURN_CODE).
set -u
export LC_ALL=C

PRTARGET=${1:-${PRTARGET:-}}
PRBENCH=${2:-${PRBENCH:-}}
for p in "$PRTARGET" "$PRBENCH"; do
    if [ -z "$p" ] || [ ! -x "$p" ]; then
        echo "SKIP: give prtarget and prbench as arguments 1 and 2 (or PRTARGET / PRBENCH)"
        exit 77
    fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/prbench-smoke.XXXXXX")
TARGET_PID=""
cleanup() {
    if [ -n "$TARGET_PID" ]; then
        kill "$TARGET_PID" 2>/dev/null
        wait "$TARGET_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

# A private runtime directory keeps this prtarget's control socket away from any other instance.
mkdir -p "$TMP/run"
XDG_RUNTIME_DIR="$TMP/run" "$PRTARGET" --listen 127.0.0.1:0 --lun mem:64M --log-level warn \
    >"$TMP/target.out" 2>"$TMP/target.err" &
TARGET_PID=$!
URL=""
for _ in $(seq 1 200); do
    URL=$(sed -n 's/^prtarget: ready \(iscsi:\/\/[^ ]*\)$/\1/p' "$TMP/target.out" | head -n 1)
    [ -n "$URL" ] && break
    kill -0 "$TARGET_PID" 2>/dev/null || { echo "FAIL: prtarget exited early"; cat "$TMP/target.err"; exit 1; }
    sleep 0.1
done
[ -n "$URL" ] || { echo "FAIL: prtarget printed no ready line"; cat "$TMP/target.err"; exit 1; }
echo "# target: $URL"

N=0
FAILED=0
ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() {
    N=$((N + 1)); FAILED=$((FAILED + 1))
    echo "not ok $N - $1"
    sed 's/^/#   stdout: /' "$TMP/out"
    sed 's/^/#   stderr: /' "$TMP/err"
}

# run DESCRIPTION EXPECTED_EXIT STDOUT_REGEX [STDOUT_REGEX...] -- prbench arguments
# Each regex must match some stdout line (grep -E); with EXPECTED_EXIT != 0, stderr must be exactly one line.
run() {
    local desc="$1" want="$2"
    shift 2
    local pats=()
    while [ "$1" != "--" ]; do pats+=("$1"); shift; done
    shift
    timeout -k 5 300 "$PRBENCH" "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then not_ok "$desc (exit $rc, want $want)"; return; fi
    if [ "$want" -ne 0 ] && [ "$(wc -l <"$TMP/err")" -ne 1 ]; then not_ok "$desc (stderr is not one line)"; return; fi
    for p in "${pats[@]}"; do
        if ! grep -Eq -- "$p" "$TMP/out"; then not_ok "$desc (no stdout line matches /$p/)"; return; fi
    done
    ok "$desc"
}

NUM='[0-9]+(\.[0-9]+)?'
LAT="lat\(us\) mean=$NUM p50=$NUM p99=$NUM p99\.9=$NUM"
for w in randread randwrite seqread seqwrite mixed; do
    run "$w prints one summary line" 0 \
        "^$w bs=4K qd=4 sessions=2: $NUM IOPS $NUM MB/s $LAT \[200 ops in $NUM s\] iscsi://" \
        -- "$w" "$URL" --ios 200 --qd 4 --sessions 2
done
run "the summary is the only stdout line" 0 '^randread ' -- randread "$URL" --ios 10
[ "$(wc -l <"$TMP/out")" -eq 1 ] && ok "one line per run" || not_ok "one line per run"

run "128K sequential reads over a 1M LBA range" 0 "^seqread bs=128K qd=8 sessions=1: .* \[64 ops in " \
    -- seqread "$URL" --bs 128K --lba-range 1M --ios 64

run "pr-access reports every registrant plus the measuring session" 0 \
    "^pr-access bs=4K qd=8 sessions=1 registrants=5 type=ex-ac-ro: $NUM IOPS .*\[100 ops in $NUM s, keys=6" \
    -- pr-access "$URL" --registrants 5 --ios 100 --qd 8
run "pr-access with dropped registrants keeps their registrations (SPC-4 5.13.4)" 0 \
    "registrants=4 type=wr-ex-ar: .*keys=6" \
    -- pr-access "$URL" --registrants 4 --sessions 2 --drop-registrants --type wr-ex-ar --io randwrite --ios 50
run "pr-churn counts every PR OUT" 0 "^pr-churn qd=1 sessions=1 type=wr-ex-ar: $NUM IOPS .*\[40 ops in " \
    -- pr-churn "$URL" --ios 40
run "pr-churn with an exclusive type and several sessions" 0 "^pr-churn qd=1 sessions=3 type=wr-ex: " \
    -- pr-churn "$URL" --ios 60 --sessions 3 --type wr-ex
run "pr-readkeys READ FULL STATUS" 0 "^pr-readkeys qd=1 sessions=1 registrants=3: .*keys=4" \
    -- pr-readkeys "$URL" --registrants 3 --prin read-full-status --ios 20
run "registrations were cleared after the PR runs" 0 "keys=1[],]" -- pr-readkeys "$URL" --ios 1

run "--json prints one object with the figures" 0 \
    "^\{\"workload\":\"randread\",\"url\":\"iscsi://.*\"ops\":50,.*\"iops\":$NUM,\"mbps\":$NUM,\"lat_us\":\{\"mean\":$NUM,\"p50\":$NUM,\"p99\":$NUM,\"p999\":$NUM,.*\}\}$" \
    -- randread "$URL" --ios 50 --json
if command -v python3 >/dev/null; then
    if python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ops"] == 50 and d["lat_us"]["p50"] > 0' <"$TMP/out" 2>/dev/null
    then ok "--json output parses"; else not_ok "--json output parses"; fi
fi

run "compare mode prints per-round lines, medians and A/B" 0 \
    "^round 1 A: randread " "^round 1 B: randread " "^round 2 B: randread " "^A median of 2: $NUM IOPS" \
    "^B median of 2: $NUM IOPS" "^A/B: IOPS $NUM MB/s $NUM lat mean $NUM p50 $NUM p99 $NUM p99\.9 $NUM$" \
    -- randread --vs "$URL" "$URL" --rounds 2 --ios 30 --qd 2
run "compare mode --json ends with the ratio object" 0 '^\{"compare":true,"rounds":1,"a":\{.*"ratio":\{"iops":' \
    -- pr-churn --vs "$URL" "$URL" --rounds 1 --ios 8 --json --quiet

run "a bad option is exit 2" 2 -- randread "$URL" --qd 0
run "an unknown workload is exit 2" 2 -- randsomething "$URL"
run "a --bs that is not a multiple of the block size is exit 2" 2 -- randread "$URL" --bs 1000 --ios 1
run "an --lba-range beyond the LU is exit 2" 2 -- randread "$URL" --lba-range 1G --ios 1
run "a URL libiscsi cannot parse is exit 2" 2 -- randread "iscsi://127.0.0.1:3260" --ios 1
run "a target nobody listens on is exit 1" 1 -- randread "iscsi://127.0.0.1:1/iqn.2026-11.org.prtarget:disk/0" --ios 1
run "a LUN that does not exist is exit 1" 1 -- randread "${URL%/*}/7" --ios 1
grep -q "login\|LUN\|lun" "$TMP/err" && ok "the login failure names what failed" || not_ok "the login failure names what failed"

# prtarget accepts 1024 registrations per LU; the 1025th answers INSUFFICIENT REGISTRATION RESOURCES (55h/04h).
run "more registrants than the LU accepts is exit 1" 1 -- pr-access "$URL" --registrants 1030 --drop-registrants --ios 1
grep -q "55h/04h" "$TMP/err" && ok "the failure names the sense" || not_ok "the failure names the sense"
run "a failed run still removes the registrations it made" 0 "keys=1[],]" -- pr-readkeys "$URL" --ios 1

kill -0 "$TARGET_PID" 2>/dev/null && ok "prtarget is still running" || not_ok "prtarget is still running"
echo "1..$N"
[ "$FAILED" -eq 0 ]
