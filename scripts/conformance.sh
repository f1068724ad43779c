#!/usr/bin/env bash
# Conformance against libiscsi's iscsi-test-cu (design.md, "Conformance oracles").
#
# What runs, exactly: for every test family F that `iscsi-test-cu -l` lists, a fresh prtarget is started with two
# portals (ephemeral loopback ports, so MultipathIO runs) and four LUs,
#   prtarget --listen 127.0.0.1:0 --listen 127.0.0.1:0 \
#            --lun mem:256M --lun mem:64M,removable --lun mem:64M,ro --lun mem:64M,sanitize=10s
# then the design's command with -V added, limited to F and pointed at the LU that F needs:
#   iscsi-test-cu -d -S -v -V -i INAME1 -I INAME2 -t ALL.F URL1/LUN URL2/LUN
# (LUN 1, removable: NoMedia, PreventAllow, StartStopUnit; LUN 2, read-only: ReadOnly; LUN 3, SANITIZE enabled:
# Sanitize; LUN 0: every other family), under a timeout, and the target is stopped with SIGTERM (it must exit 0).
# -V is there because libiscsi prints "[SKIPPED]" only at its verbose level; without it a skipped test cannot be
# told from a passed one. A fresh target per family means no family can fail because of what an earlier family
# left behind (MultipathIO.CompareAndWrite needs LBA 256 to be zero; ExtendedCopy writes there; PR families leave
# registrations; removable families leave the medium ejected).
#
# Every test is scored passed / failed / skipped (a test that prints [SKIPPED] is skipped, although CUnit counts
# it as passed; a test that never finishes because of the timeout or a dead target is failed), a per-family table
# is printed, and the result is compared with tests/conformance/expected.txt: the run fails on a regression (a test
# that does not pass and is not listed, or is listed with another outcome), when the list is stale (a listed test
# now passes or no longer exists), when prtarget dies during a family, or when it does not exit 0 on SIGTERM.
#
#   scripts/conformance.sh [--vs-tgt] [--family REGEX] [--keep]
#     --vs-tgt        also run the same suite against tgt (shared/peers.md: a private tgtd on a free loopback port
#                     and its own management port, stopped by its PID; fresh per family too; LUN 1 plain, LUN 2
#                     removable, LUN 3 read-only, since tgt's LUN 0 is its controller and it has no SANITIZE)
#                     and print both tables side by side. Needs `scripts/setup.sh --with-tgt`; not part of CI.
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
if [ $vs_tgt -eq 1 ]; then
    for c in tgtd tgtadm ss; do
        command -v "$c" >/dev/null || { echo "conformance.sh: --vs-tgt needs $c (scripts/setup.sh --with-tgt)" >&2; exit 2; }
    done
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/prt-conformance.XXXXXX")"
tgt_pid=""
tgt_ctl=""
prt_pid=""

# The LU each family runs against. Families that need a removable medium, a write-protected LU or SANITIZE get an
# LU configured that way; with a plain LU they would only skip themselves.
prt_luns=(mem:256M mem:64M,removable mem:64M,ro mem:64M,sanitize=10s)
prt_lun_for() {
    case "$1" in
        NoMedia|PreventAllow|StartStopUnit) echo 1 ;;
        ReadOnly) echo 2 ;;
        Sanitize) echo 3 ;;
        *) echo 0 ;;
    esac
}
# tgt's LUN 0 is its controller; LUN 1 is a plain disk, 2 removable, 3 write-protected. tgt has no SANITIZE, so
# that family runs on the plain disk.
tgt_lun_for() {
    case "$1" in
        NoMedia|PreventAllow|StartStopUnit) echo 2 ;;
        ReadOnly) echo 3 ;;
        *) echo 1 ;;
    esac
}

# tgtd keeps running on SIGTERM while it has targets: delete them, ask the daemon to exit, then make sure.
stop_tgt() {
    [ -n "$tgt_pid" ] || return 0
    tgtadm -C "$tgt_ctl" --lld iscsi --op delete --mode target --tid 1 --force >/dev/null 2>&1 </dev/null
    tgtadm -C "$tgt_ctl" --op delete --mode system --force >/dev/null 2>&1 </dev/null
    kill "$tgt_pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$tgt_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$tgt_pid" 2>/dev/null
    wait "$tgt_pid" 2>/dev/null
    tgt_pid=""
}
# Stops prtarget with SIGTERM; returns its exit status (design.md: 0 on SIGTERM).
stop_prtarget() {
    [ -n "$prt_pid" ] || return 0
    local rc
    kill "$prt_pid" 2>/dev/null
    wait "$prt_pid" 2>/dev/null
    rc=$?
    prt_pid=""
    return $rc
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

# Start a fresh prtarget with two portals and the LUs above; sets prt_pid, base1, base2 (portal URLs with the
# target name, without the LUN). Its own control socket keeps it clear of any prtarget already running.
start_prtarget() {
    local tag="$1" out="$work/prtarget.ready.$1" args=() l
    for l in "${prt_luns[@]}"; do args+=(--lun "$l"); done
    "$prtarget" --listen 127.0.0.1:0 --listen 127.0.0.1:0 "${args[@]}" --control "$work/ctl.sock" \
        --log-level warn >"$out" 2>>"$work/prtarget.log" </dev/null &
    prt_pid=$!
    local want=$(( 2 * ${#prt_luns[@]} ))
    local n
    # The ready file may not exist yet when the first check runs (the shell creates it in the child).
    for _ in $(seq 1 400); do
        n="$(grep -c '^prtarget: ready ' "$out" 2>/dev/null)"
        [ "${n:-0}" -ge "$want" ] && break
        kill -0 "$prt_pid" 2>/dev/null || break
        sleep 0.05
    done
    # One ready line per portal and LUN; the portals are the distinct URL prefixes, in order.
    sed -n 's/^prtarget: ready \(.*\)\/[0-9]*$/\1/p' "$out" | awk '!seen[$0]++' >"$work/bases.$tag"
    base1="$(sed -n 1p "$work/bases.$tag")"
    base2="$(sed -n 2p "$work/bases.$tag")"
    if [ -z "$base1" ] || [ -z "$base2" ]; then
        echo "conformance.sh: prtarget did not become ready ($tag); its log:" >&2
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

# Start a fresh tgtd as shared/peers.md describes, on its own management port (-C) and portals so that a tgtd
# someone else runs is left alone; sets tgt_pid, base1, base2.
start_tgt() {
    local port1 port2 l
    tgt_ctl=$(( 1000 + $$ % 8000 ))
    port1="$(free_port 3270)"
    port2="$(free_port $((port1 + 1)))"
    tgtd -f -C "$tgt_ctl" --iscsi portal=127.0.0.1:$port1,portal=127.0.0.1:$port2 >>"$work/tgtd.log" 2>&1 &
    tgt_pid=$!
    for _ in $(seq 1 100); do
        tgtadm -C "$tgt_ctl" --op show --mode system >/dev/null 2>&1 </dev/null && break
        sleep 0.05
    done
    tgtadm -C "$tgt_ctl" --lld iscsi --op new --mode target --tid 1 -T iqn.2026-11.org.peer:tgt </dev/null
    for l in 1 2 3; do
        rm -f "$work/tgt$l.img"
        truncate -s "$([ $l -eq 1 ] && echo 256M || echo 64M)" "$work/tgt$l.img"
        tgtadm -C "$tgt_ctl" --lld iscsi --op new --mode logicalunit --tid 1 --lun $l -b "$work/tgt$l.img" </dev/null
    done
    tgtadm -C "$tgt_ctl" --lld iscsi --op update --mode logicalunit --tid 1 --lun 2 --params removable=1 </dev/null
    tgtadm -C "$tgt_ctl" --lld iscsi --op update --mode logicalunit --tid 1 --lun 3 --params readonly=1 </dev/null
    tgtadm -C "$tgt_ctl" --lld iscsi --op bind --mode target --tid 1 -I ALL </dev/null
    base1="iscsi://127.0.0.1:$port1/iqn.2026-11.org.peer:tgt"
    base2="iscsi://127.0.0.1:$port2/iqn.2026-11.org.peer:tgt"
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

# Run every selected family against a fresh target each ($2: prtarget or tgt); writes $1 (results file).
run_suite() {
    local results="$1" who="$2"
    : >"$results"
    while read -r fam; do
        local log="$work/$who.$fam.log"
        local t0 rc lun
        t0=$(date +%s)
        if [ "$who" = prtarget ]; then
            start_prtarget "$fam"
            lun="$(prt_lun_for "$fam")"
        else
            start_tgt
            lun="$(tgt_lun_for "$fam")"
        fi
        timeout -k 10 "$per_family_timeout" \
            iscsi-test-cu -d -S -v -V -i "$iname1" -I "$iname2" -t "ALL.$fam" "$base1/$lun" "$base2/$lun" \
            >"$log" 2>&1 </dev/null
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
        if [ "$who" = prtarget ]; then
            if ! kill -0 "$prt_pid" 2>/dev/null; then
                wait "$prt_pid" 2>/dev/null
                prt_pid=""
                echo "conformance.sh: prtarget died during family $fam (see $work/prtarget.log)" >&2
                echo "$fam" >>"$work/crashes"
            elif ! stop_prtarget; then
                echo "$fam" >>"$work/bad-exit"
            fi
        else
            stop_tgt
        fi
        printf '  %-28s LUN %s %4ss\n' "$fam" "$lun" "$(( $(date +%s) - t0 ))" >&2
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

echo "conformance.sh: $prtarget, a fresh target per family, LUs: ${prt_luns[*]}" >&2
t_start=$(date +%s)
run_suite "$work/prtarget.results" prtarget
table "$work/prtarget.results" >"$work/prtarget.table"
echo
echo "iscsi-test-cu on prtarget ($(( $(date +%s) - t_start )) s):"
print_table "$work/prtarget.table"

if [ $vs_tgt -eq 1 ]; then
    echo "conformance.sh: tgt ($(tgtd --version 2>/dev/null | head -1)), a fresh tgtd per family" >&2
    t_start=$(date +%s)
    run_suite "$work/tgt.results" tgt
    table "$work/tgt.results" >"$work/tgt.table"
    echo
    echo "iscsi-test-cu on tgt ($(( $(date +%s) - t_start )) s):"
    print_table "$work/tgt.table"
    echo
    echo "side by side (passed/failed/skipped):"
    printf '%-28s %-14s %-14s\n' family prtarget tgt
    join -a1 -a2 -e0 -o 0,1.2,1.3,1.4,2.2,2.3,2.4 "$work/prtarget.table" "$work/tgt.table" |
        awk '{ printf "%-28s %-14s %-14s\n", $1, $2 "/" $3 "/" $4, $5 "/" $6 "/" $7
               for (i = 2; i <= 7; i++) t[i] += $i }
             END { printf "%-28s %-14s %-14s\n", "TOTAL", t[2] "/" t[3] "/" t[4], t[5] "/" t[6] "/" t[7] }'
fi

status=0
if [ -s "$work/crashes" ]; then
    echo "conformance.sh: FAIL: prtarget died during: $(tr '\n' ' ' <"$work/crashes")"
    status=1
fi
if [ -s "$work/bad-exit" ]; then
    echo "conformance.sh: FAIL: prtarget did not exit 0 on SIGTERM after: $(tr '\n' ' ' <"$work/bad-exit")"
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
