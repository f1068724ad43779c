#!/usr/bin/env bash
# libiscsi's command-line tools against a live prtarget (issue 2, done-when 1: `iscsi-ls -s` lists the target
# and its LUNs). Two portals and two LUNs:
#   iscsi-ls -s      target, both portals with TPGT 1 and 2, LUN 0 and 1 with their sizes
#   iscsi-inq        standard INQUIRY of a LUN: a direct-access device
#   iscsi-readcapacity16   the block count and size of each LUN
# Usage: iscsi_tools.sh PRTARGET
set -uo pipefail
prtarget="$1"
for t in iscsi-ls iscsi-inq iscsi-readcapacity16; do
    command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
work="$(mktemp -d "${TMPDIR:-/tmp}/prt-tools.XXXXXX")"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- prtarget log:"; cat "$work/err"; exit 1; }

"$prtarget" --listen 127.0.0.1:0 --listen 127.0.0.1:0 --lun mem:64M --lun mem:16M,bs=4096 --log-level warn \
    --control "$work/ctl.sock" >"$work/ready" 2>"$work/err" &
pid=$!
for _ in $(seq 1 200); do
    [ "$(grep -c '^prtarget: ready ' "$work/ready")" -ge 4 ] && break
    kill -0 "$pid" 2>/dev/null || fail "prtarget exited before it was ready"
    sleep 0.05
done
[ "$(grep -c '^prtarget: ready ' "$work/ready")" -eq 4 ] || fail "expected 4 ready lines (2 portals x 2 LUNs)"
iqn=iqn.2026-11.org.prtarget:disk
p1="$(sed -n 's#^prtarget: ready iscsi://\([^/]*\)/.*/0$#\1#p' "$work/ready" | sed -n 1p)"
p2="$(sed -n 's#^prtarget: ready iscsi://\([^/]*\)/.*/0$#\1#p' "$work/ready" | sed -n 2p)"
[ -n "$p1" ] && [ -n "$p2" ] && [ "$p1" != "$p2" ] || fail "two distinct portals expected, got '$p1' '$p2'"

ls_out="$(timeout 30 iscsi-ls -s "iscsi://$p1" 2>&1)" || fail "iscsi-ls -s failed: $ls_out"
echo "$ls_out"
grep -qx "Target:$iqn Portal:$p1,1" <<<"$ls_out" || fail "iscsi-ls does not list $iqn at $p1 with TPGT 1"
grep -qx "Target:$iqn Portal:$p2,2" <<<"$ls_out" || fail "iscsi-ls does not list $iqn at $p2 with TPGT 2"
grep -qE '^Lun:0 +Type:DIRECT_ACCESS \(Size:6[0-9]M\)' <<<"$ls_out" || fail "LUN 0 (64M, direct access) not listed"
grep -qE '^Lun:1 +Type:DIRECT_ACCESS \(Size:1[0-9]M\)' <<<"$ls_out" || fail "LUN 1 (16M, direct access) not listed"

inq="$(timeout 30 iscsi-inq "iscsi://$p2/$iqn/0" 2>&1)" || fail "iscsi-inq failed: $inq"
grep -q "Peripheral Device Type:DIRECT_ACCESS" <<<"$inq" || fail "iscsi-inq: not a direct-access device: $inq"

rc0="$(timeout 30 iscsi-readcapacity16 "iscsi://$p1/$iqn/0" 2>&1)" || fail "iscsi-readcapacity16 LUN 0: $rc0"
grep -q "LOGICAL BLOCK LENGTH IN BYTES:512" <<<"$rc0" || fail "LUN 0 block length: $rc0"
grep -q "RETURNED LOGICAL BLOCK ADDRESS:131071" <<<"$rc0" || fail "LUN 0 last LBA: $rc0"
rc1="$(timeout 30 iscsi-readcapacity16 "iscsi://$p1/$iqn/1" 2>&1)" || fail "iscsi-readcapacity16 LUN 1: $rc1"
grep -q "LOGICAL BLOCK LENGTH IN BYTES:4096" <<<"$rc1" || fail "LUN 1 block length: $rc1"
grep -q "RETURNED LOGICAL BLOCK ADDRESS:4095" <<<"$rc1" || fail "LUN 1 last LBA: $rc1"

kill "$pid"
wait "$pid"
rc=$?
pid=""
[ $rc -eq 0 ] || fail "prtarget exited $rc on SIGTERM (want 0)"
echo "PASS"
