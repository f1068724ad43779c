#!/usr/bin/env bash
# Conformance against libiscsi's iscsi-test-cu (design.md, "Conformance oracles").
#
# Starts a fresh prtarget with two portals (ephemeral ports, so the multipath tests run), runs
#   iscsi-test-cu -d -S -v -V -t ALL.<Family> -i INAME1 -I INAME2 URL URL2
# once per test family (-V because libiscsi logs "[SKIPPED]" only at its verbose level; without it a skipped
# test is indistinguishable from a passed one) (each run under a timeout, so a hung test is killed and reported instead of hanging CI),
# scores every test as passed / failed / skipped (a test that prints [SKIPPED] is skipped, although CUnit counts
# it as passed), prints a per-family table, and compares with tests/conformance/expected.txt: the run fails on a
# regression (a test that does not pass and is not listed, or is listed with another outcome) and when the list
# is stale (a listed test now passes or no longer exists).
#
#   scripts/conformance.sh [--vs-tgt] [--family REGEX] [--keep]
#     --vs-tgt        also run the same suite against tgt (shared/peers.md) and print both tables side by side
#     --family REGEX  only families matching REGEX (no comparison with expected.txt then)
#     --keep          keep the work directory with the raw logs
# Environment: PRTARGET (binary; default build/app/prtarget), PRT_CONF_TIMEOUT (seconds per family, 300).
set -uo pipefail
export LC_ALL=C

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prtarget="${PRTARGET:-$root/build/app/prtarget}"
expected="$root/tests/conformance/expected.txt"
per_family_timeout="${PRT_CONF_TIMEOUT:-300}"
iname1="iqn.2026-11.org.prtarget.conformance:init1"
iname2="iqn.2026-11.org.prtarget.conformance:init2"
vs_tgt=0
family_re=""
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --vs-tgt) vs_tgt=1 ;;
        --family) family_re="$2"; shift ;;
        --keep) keep=1 ;;
        *) echo "conformance.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

command -v iscsi-test-cu >/dev/null || { echo "conformance.sh: iscsi-test-cu missing (scripts/setup.sh)" >&2; exit 2; }
[ -x "$prtarget" ] || { echo "conformance.sh: $prtarget not built" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/prt-conformance.XXXXXX")"
tgt_pid=""
tgt_ctl=""
prt_pid=""
# tgtd keeps running on SIGTERM while it has targets: delete them, ask the daemon to exit, then make sure.
stop_tgt() {
    [ -n "$tgt_pid" ] || return 0
    tgtadm -C "$tgt_ctl" --lld iscsi --op delete --mode target --tid 1 --force >/dev/null 2>&1
    tgtadm -C "$tgt_ctl" --op delete --mode system --force >/dev/null 2>&1
    kill "$tgt_pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$tgt_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$tgt_pid" 2>/dev/null
    wait "$tgt_pid" 2>/dev/null
    tgt_pid=""
}
cleanup() {
    [ -n "$prt_pid" ] && kill "$prt_pid" 2>/dev/null && wait "$prt_pid" 2>/dev/null
    stop_tgt
    if [ $keep -eq 1 ]; then echo "conformance.sh: logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Families and their tests, from the tool itself.
iscsi-test-cu -l | tr -d '\r' >"$work/list"
grep -E '^ALL\.[^.]+$' "$work/list" | sed 's/^ALL\.//' >"$work/families"
if [ -n "$family_re" ]; then
    grep -E "$family_re" "$work/families" >"$work/families.sel" || true
    mv "$work/families.sel" "$work/families"
fi

# Start prtarget with two portals; sets prt_pid, url1, url2.
start_prtarget() {
    local out="$work/prtarget.ready.$1"
    "$prtarget" --listen 127.0.0.1:0 --listen 127.0.0.1:0 --lun mem:256M --log-level warn \
        >"$out" 2>>"$work/prtarget.log" &
    prt_pid=$!
    for _ in $(seq 1 200); do
        [ "$(grep -c '^prtarget: ready ' "$out" 2>/dev/null)" -ge 2 ] && break
        kill -0 "$prt_pid" 2>/dev/null || break
        sleep 0.05
    done
    url1="$(sed -n 's/^prtarget: ready //p' "$out" | sed -n 1p)"
    url2="$(sed -n 's/^prtarget: ready //p' "$out" | sed -n 2p)"
    if [ -z "$url1" ] || [ -z "$url2" ]; then
        echo "conformance.sh: prtarget did not become ready; its log:" >&2
        cat "$work/prtarget.log" >&2
        exit 1
    fi
}

# A free loopback TCP port in [from, from+100): tgtd cannot pick an ephemeral port itself.
free_port() {
    local p
    for p in $(seq "$1" $(($1 + 99))); do
        if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return 0; fi
    done
    return 1
}

# Start tgtd as shared/peers.md describes; sets tgt_pid, url1, url2.
start_tgt() {
    command -v tgtd >/dev/null || { echo "conformance.sh: tgt is not installed (scripts/setup.sh --with-tgt)" >&2; exit 2; }
    # Our own tgtd on its own management channel (-C) and portals, so a tgtd someone else runs is left alone.
    local port1 port2
    tgt_ctl=$(( 1000 + $$ % 8000 ))
    port1="$(free_port 3270)"
    port2="$(free_port $((port1 + 1)))"
    truncate -s 256M "$work/tgt.img"
    tgtd -f -C "$tgt_ctl" --iscsi portal=127.0.0.1:$port1,portal=127.0.0.1:$port2 >"$work/tgtd.log" 2>&1 &
    tgt_pid=$!
    sleep 1
    tgtadm -C "$tgt_ctl" --lld iscsi --op new --mode target --tid 1 -T iqn.2026-11.org.peer:tgt
    tgtadm -C "$tgt_ctl" --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$work/tgt.img"
    tgtadm -C "$tgt_ctl" --lld iscsi --op bind --mode target --tid 1 -I ALL
    url1="iscsi://127.0.0.1:$port1/iqn.2026-11.org.peer:tgt/1"
    url2="iscsi://127.0.0.1:$port2/iqn.2026-11.org.peer:tgt/1"
}

# Score one iscsi-test-cu log: prints "FAMILY.TEST STATUS" per test that started. CUnit's verbose mode prints
# "  Test: NAME ..." then the test's own log lines, then "passed" or "FAILED"; libiscsi's tests print
# "[SKIPPED]" when the device lacks a feature, and such a test counts as skipped.
score_log() {
    local family="$1" log="$2"
    tr -d '\r' <"$log" | awk -v fam="$family" '
        function finish() {
            if (cur == "") return
            st = result
            if (st == "") st = "failed"            # never finished: killed by the timeout or the tool died
            if (st == "passed" && skipped) st = "skipped"
            print fam "." cur, st
            cur = ""
        }
        {
            line = $0
            if (match(line, /Test: [^ ]+ \.\.\./)) {
                finish()
                cur = substr(line, RSTART + 6, RLENGTH - 10)
                result = ""; skipped = 0
                line = substr(line, RSTART + RLENGTH)
            }
            if (cur == "") next
            if (line ~ /\[SKIPPED\]/) skipped = 1
            # CUnit writes its verdict right after the last log line of the test, at the start of a line (teardown
            # output may follow on the same line).
            if (result == "" && line ~ /^passed/) result = "passed"
            if (result == "" && line ~ /^FAILED/) result = "failed"
        }
        END { finish() }'
}

# Run every selected family against url1/url2, restarting the target if it died; writes $1 (results file).
run_suite() {
    local results="$1" who="$2"
    : >"$results"
    while read -r fam; do
        local log="$work/$who.$fam.log"
        local t0 rc
        t0=$(date +%s)
        timeout -k 10 "$per_family_timeout" \
            iscsi-test-cu -d -S -v -V -i "$iname1" -I "$iname2" -t "ALL.$fam" "$url1" "$url2" >"$log" 2>&1 </dev/null
        rc=$?
        score_log "$fam" "$log" >"$work/scored"
        # Tests of the family that never started (timeout, crash) count as failed.
        grep -E "^ALL\.$fam\.[^.]+$" "$work/list" | sed 's/^ALL\.//' | while read -r t; do
            grep -q "^$t " "$work/scored" || echo "$t failed"
        done >>"$work/scored"
        cat "$work/scored" >>"$results"
        if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
            echo "conformance.sh: $who: family $fam killed after ${per_family_timeout} s (hung test)" >&2
        fi
        if [ "$who" = prtarget ] && ! kill -0 "$prt_pid" 2>/dev/null; then
            echo "conformance.sh: prtarget died during family $fam; restarting it (see $work/prtarget.log)" >&2
            wait "$prt_pid" 2>/dev/null
            echo "prtarget-died-in $fam" >>"$work/crashes"
            start_prtarget "after-$fam"
        fi
        printf '  %-28s %3ss\n' "$fam" "$(( $(date +%s) - t0 ))" >&2
    done <"$work/families"
}

# Per-family table of a results file: FAMILY PASSED FAILED SKIPPED.
table() {
    awk '{ split($1, a, "."); f = a[1]; fams[f] = 1; n[f, $2]++ }
         END { for (f in fams) printf "%s %d %d %d\n", f, n[f, "passed"], n[f, "failed"], n[f, "skipped"] }' "$1" |
        sort
}

print_table() {
    local t="$1"
    printf '%-28s %7s %7s %8s\n' family passed failed skipped
    awk '{ printf "%-28s %7d %7d %8d\n", $1, $2, $3, $4; p += $2; f += $3; s += $4 }
         END { printf "%-28s %7d %7d %8d   (of %d)\n", "TOTAL", p, f, s, p + f + s }' "$t"
}

start_prtarget first
echo "conformance.sh: prtarget $url1 $url2" >&2
t_start=$(date +%s)
run_suite "$work/prtarget.results" prtarget
kill "$prt_pid" 2>/dev/null
wait "$prt_pid"
prt_exit=$?
prt_pid=""
table "$work/prtarget.results" >"$work/prtarget.table"
echo
echo "iscsi-test-cu on prtarget ($(( $(date +%s) - t_start )) s):"
print_table "$work/prtarget.table"

if [ $vs_tgt -eq 1 ]; then
    start_tgt
    run_suite "$work/tgt.results" tgt
    stop_tgt
    table "$work/tgt.results" >"$work/tgt.table"
    echo
    echo "side by side (passed/failed/skipped):"
    printf '%-28s %-14s %-14s\n' family prtarget tgt
    join -a1 -a2 -e0 -o 0,1.2,1.3,1.4,2.2,2.3,2.4 "$work/prtarget.table" "$work/tgt.table" |
        awk '{ printf "%-28s %-14s %-14s\n", $1, $2 "/" $3 "/" $4, $5 "/" $6 "/" $7 }'
fi

status=0
if [ -s "$work/crashes" ]; then
    echo "conformance.sh: FAIL: prtarget crashed: $(tr '\n' ' ' <"$work/crashes")"
    status=1
fi
if [ $prt_exit -ne 0 ]; then
    echo "conformance.sh: FAIL: prtarget exited $prt_exit on SIGTERM (want 0)"
    status=1
fi

if [ -n "$family_re" ]; then
    echo "conformance.sh: --family given: not comparing with $expected"
    exit $status
fi

# Compare with expected.txt: "FAMILY.TEST failed|skipped reason..." per line, # comments.
grep -vE '^\s*(#|$)' "$expected" 2>/dev/null | awk '{ print $1, $2 }' | sort >"$work/expected"
awk '$2 != "passed"' "$work/prtarget.results" | sort >"$work/notpassed"
regress="$(join -v1 "$work/notpassed" "$work/expected")"
changed="$(join "$work/notpassed" "$work/expected" | awk '$2 != $3 { print $1 ": now " $2 ", listed as " $3 }')"
stale="$(join -v2 "$work/notpassed" "$work/expected" | awk '{ print $1 " (listed as " $2 ")" }')"
if [ -n "$regress" ]; then
    echo "conformance.sh: FAIL: tests that do not pass and are not in tests/conformance/expected.txt:"
    echo "$regress" | sed 's/^/  /'
    status=1
fi
if [ -n "$changed" ]; then
    echo "conformance.sh: FAIL: tests whose outcome differs from tests/conformance/expected.txt:"
    echo "$changed" | sed 's/^/  /'
    status=1
fi
if [ -n "$stale" ]; then
    echo "conformance.sh: FAIL: stale entries in tests/conformance/expected.txt (they pass now or no longer exist):"
    echo "$stale" | sed 's/^/  /'
    status=1
fi
[ $status -eq 0 ] && echo "conformance.sh: OK: every test passes or is listed in tests/conformance/expected.txt"
exit $status
