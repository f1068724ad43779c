#!/usr/bin/env bash
# Throughput of prtarget against tgt (shared/peers.md), on equal LUs: both back a 1 GiB file on tmpfs; prtarget's
# mem:1G LU is measured as well. iscsi-perf runs 4 KiB random reads at QD32 and 128 KiB sequential reads at QD8
# against each target, alternating targets, three rounds; the script prints the medians and prtarget/tgt.
# Not part of CI (it needs tgt and a quiet machine). It runs its own tgtd on its own management port (-C).
#
#   scripts/bench.sh [--seconds N] [--rounds N]
# Environment: PRTARGET (binary; default build/app/prtarget, build it RelWithDebInfo or Release).
set -uo pipefail
export LC_ALL=C

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prtarget="${PRTARGET:-$root/build/app/prtarget}"
secs=10
rounds=3
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) secs="$2"; shift ;;
        --rounds) rounds="$2"; shift ;;
        *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

for c in iscsi-perf tgtd tgtadm; do
    command -v "$c" >/dev/null || { echo "bench.sh: $c missing (scripts/setup.sh --with-tgt)" >&2; exit 2; }
done
[ -x "$prtarget" ] || { echo "bench.sh: $prtarget not built" >&2; exit 2; }

# A free loopback TCP port in [from, from+100): tgtd cannot pick an ephemeral port itself.
free_port() {
    local p
    for p in $(seq "$1" $(($1 + 99))); do
        if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return 0; fi
    done
    return 1
}

shm="${PRT_BENCH_DIR:-/dev/shm}"
work="$(mktemp -d "$shm/prt-bench.XXXXXX")"
prt_pid=""
tgt_pid=""
tgt_ctl=""
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
    rm -rf "$work"
}
trap cleanup EXIT

truncate -s 1G "$work/tgt.img"
truncate -s 1G "$work/prt.img"
# Fill both files so that reads hit real pages on both sides, not holes.
dd if=/dev/zero of="$work/tgt.img" bs=1M count=1024 conv=notrunc status=none
dd if=/dev/zero of="$work/prt.img" bs=1M count=1024 conv=notrunc status=none

# Our own tgtd on its own management channel (-C) and portal, so a tgtd someone else runs is left alone.
tgt_port="$(free_port 3270)"
tgt_ctl=$(( 1000 + $$ % 8000 ))
tgtd -f -C "$tgt_ctl" --iscsi portal=127.0.0.1:$tgt_port >"$work/tgtd.log" 2>&1 &
tgt_pid=$!
sleep 1
tgtadm -C "$tgt_ctl" --lld iscsi --op new --mode target --tid 1 -T iqn.2026-11.org.peer:tgt
tgtadm -C "$tgt_ctl" --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$work/tgt.img"
tgtadm -C "$tgt_ctl" --lld iscsi --op bind --mode target --tid 1 -I ALL
tgt_url="iscsi://127.0.0.1:$tgt_port/iqn.2026-11.org.peer:tgt/1"

"$prtarget" --listen 127.0.0.1:0 --lun "file:$work/prt.img" --lun mem:1G --log-level warn >"$work/ready" 2>"$work/prtarget.log" &
prt_pid=$!
for _ in $(seq 1 100); do
    [ "$(grep -c '^prtarget: ready' "$work/ready")" -ge 2 ] && break
    sleep 0.05
done
prt_file_url="$(sed -n 's/^prtarget: ready //p' "$work/ready" | sed -n 1p)"
prt_mem_url="$(sed -n 's/^prtarget: ready //p' "$work/ready" | sed -n 2p)"
[ -n "$prt_mem_url" ] || { echo "bench.sh: prtarget did not start:" >&2; cat "$work/prtarget.log" >&2; exit 1; }

# The mem LU reads holes as zeros without touching memory; write it once so both paths move real pages.
iscsi-perf -m 8 -b 256 -t 3 -n "$prt_mem_url" >/dev/null 2>&1 || true

# One iscsi-perf run; prints its final "iops average N" figure.
perf() {
    local url="$1"; shift
    local out
    out="$(timeout -k 5 $((secs + 30)) iscsi-perf -i iqn.2026-11.org.prtarget.bench:init -t "$secs" "$@" "$url" 2>&1)"
    echo "$out" >>"$work/perf.log"
    echo "$out" | tr '\r' '\n' | grep -oE 'iops average [0-9]+' | tail -1 | awk '{ print $3 }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A res
loads=("rand4k_qd32:-m 32 -b 8 -r" "seq128k_qd8:-m 8 -b 256")
targets=("tgt:$tgt_url" "prt_file:$prt_file_url" "prt_mem:$prt_mem_url")
for r in $(seq 1 "$rounds"); do
    for l in "${loads[@]}"; do
        lname="${l%%:*}"
        largs="${l#*:}"
        # Alternate which target goes first, so neither always runs on a warmer machine.
        if [ $((r % 2)) -eq 1 ]; then order=(0 1 2); else order=(2 1 0); fi
        for i in "${order[@]}"; do
            t="${targets[$i]}"
            tname="${t%%:*}"
            turl="${t#*:}"
            # shellcheck disable=SC2086
            v="$(perf "$turl" $largs)"
            res[$tname.$lname]+="${v:-0} "
            echo "round $r  $lname  $tname: ${v:-?} IOPS" >&2
        done
    done
done

echo
printf '%-14s %14s %14s %14s %10s %10s\n' load tgt prt_file prt_mem file/tgt mem/tgt
for l in "${loads[@]}"; do
    lname="${l%%:*}"
    bs=4096
    [ "$lname" = seq128k_qd8 ] && bs=131072
    mt="$(tr ' ' '\n' <<<"${res[tgt.$lname]}" | grep . | median)"
    mf="$(tr ' ' '\n' <<<"${res[prt_file.$lname]}" | grep . | median)"
    mm="$(tr ' ' '\n' <<<"${res[prt_mem.$lname]}" | grep . | median)"
    awk -v l="$lname" -v t="$mt" -v f="$mf" -v m="$mm" -v bs="$bs" 'BEGIN {
        printf "%-14s %9.0f IOPS %9.0f IOPS %9.0f IOPS %10.2f %10.2f\n", l, t, f, m, (t ? f / t : 0), (t ? m / t : 0)
        printf "%-14s %9.0f MB/s %9.0f MB/s %9.0f MB/s\n", "", t * bs / 1e6, f * bs / 1e6, m * bs / 1e6 }'
done
echo "(medians of $rounds rounds of $secs s; ratio >= 1.0 means prtarget is at least level with tgt)"
