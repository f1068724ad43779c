#!/usr/bin/env bash
# Bad iscsi-persist arguments and refused PR commands against a live prtarget: each gets one line (or sg_persist's
# fixed lines) on stderr and sg_persist's non-zero exit status, and the target keeps serving afterwards.
#
# Usage: errors.sh [PRTARGET [ISCSI_PERSIST]]  (see lib.sh; PERSIST_URL runs against a running target)
# Exit status: 0 all steps passed, 1 a step failed, 77 a program is missing.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
persist_start_target

A=iqn.2026-11.org.prtarget:errors-a

# one_line_error DESCRIPTION EXPECTED_EXIT STDERR_REGEX -- iscsi-persist arguments...
# The refusal must be exactly one line matching the regex, with nothing on stdout.
one_line_error() {
    local desc=$1 want_rc=$2 re=$3
    shift 4
    N=$((N + 1))
    "$ISCSI_PERSIST" "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$? ok=1
    [ "$rc" -eq "$want_rc" ] || ok=0
    [ ! -s "$TMP/out" ] || ok=0
    [ "$(wc -l <"$TMP/err")" -eq 1 ] || ok=0
    grep -Eq "$re" "$TMP/err" || ok=0
    if [ "$ok" -eq 1 ]; then
        echo "ok $N - $desc"
    else
        FAILED=1
        echo "not ok $N - $desc"
        echo "#   command: iscsi-persist $*"
        echo "#   exit: got $rc, want $want_rc"
        sed 's/^/#   stdout: /' "$TMP/out"
        sed 's/^/#   stderr: /' "$TMP/err"
    fi
}

HOSTPORT=${URL#iscsi://}
HOSTPORT=${HOSTPORT%%/*}

# Command-line refusals: sg_persist's SG_LIB_SYNTAX_ERROR (1) and SG_LIB_CONTRADICT (31).
one_line_error "key that is not hex" 1 "^bad argument to '--param-rk'$" -- -o -R -K 12xyz -T 3 "$URL"
one_line_error "type wider than 4 bits" 1 "^bad argument to '--prout-type'$" -- -o -R -K 1 -T 1f "$URL"
one_line_error "unknown option" 1 "^iscsi-persist: unrecognised option '--frobnicate'$" -- --frobnicate "$URL"
one_line_error "Windows device name instead of a URL" 1 "not 'PD2'$" -- -i -k -d PD2
one_line_error "URL without a LUN" 1 "^iscsi-persist: device must be an iscsi://" -- -k "iscsi://$HOSTPORT/iqn.x"
one_line_error "no device at all" 1 "^No device name given$" -- -k
one_line_error "--in with --out" 31 "^choose '--in' _or_ '--out' \(not both\)$" -- -i -o -G "$URL"
one_line_error "PR OUT service action without --out" 31 "'--out' option must be given" -- -G -S 1 "$URL"
one_line_error "two PR IN service actions" 31 "^Too many service actions given" -- -k -r "$URL"
one_line_error "REGISTER AND MOVE without a TransportID" 31 "one \(and only one\) --transport-id" \
    -- -o -M -K 1 -S 2 -T 3 "$URL"
one_line_error "malformed TransportID" 1 "^bad argument to '--transport-id': " -- -o -G -S 1 -X "5,zz" "$URL"
one_line_error "ISID libiscsi cannot send" 1 "^bad argument to '--isid'$" -- --isid=ff0000000000 -k "$URL"
# The login fails (RFC 7143 11.13.5 status 0203h, target not found): sg_persist's "error opening" line, exit 15.
one_line_error "unknown target name" 15 "^iscsi-persist: error opening file .* \(rw\): login failed: " \
    -- -k "iscsi://$HOSTPORT/iqn.2026-11.org.prtarget:no-such-target/0"

# Refusals by the device server, printed as sg_persist prints them.
step "register a key" "$A" 0 '' "" -- -n -o -G -S 1 "$URL"
# SPC-4 6.15.1: TYPE 0 is not a persistent reservation type: ILLEGAL REQUEST, INVALID FIELD IN CDB (exit 5).
step "RESERVE with type 0 is an illegal request (exit 5)" "$A" 5 '' \
    $'warning>>> --prout-type probably needs to be given\nPR out (Reserve): bad field in cdb or parameter list (perhaps unsupported service action)\niscsi-persist failed: Illegal request' \
    -- -n -o -R -K 1 "$URL"
# SPC-4 5.13.9: a RESERVE whose key is not this nexus's registered key is a RESERVATION CONFLICT (exit 24).
step "RESERVE with a key this nexus did not register conflicts (exit 24)" "$A" 24 '' \
    $'PR out (Reserve): Reservation conflict\niscsi-persist failed: Reservation conflict' \
    -- -n -o -R -K 2 -T 1 "$URL"

# After all of that the target still serves.
step "the target still answers READ KEYS" "$A" 0 \
    $'  PR generation=0x1, 1 registered reservation key follows:\n    0x1' "" -- -n -i -k "$URL"
step "clean up" "$A" 0 '' "" -- -n -o -C -K 1 "$URL"

persist_finish "iscsi-persist errors"
