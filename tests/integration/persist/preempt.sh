#!/usr/bin/env bash
# PREEMPT from a second initiator and the unit attention it leaves for the first: the preempted nexus's next
# command reports UNIT ATTENTION / REGISTRATIONS PREEMPTED (exit 6, sense printed as sg_persist prints it), the
# command after that succeeds, and the reservation has moved to the preempting nexus.
#
# Usage: preempt.sh [PRTARGET [ISCSI_PERSIST]]  (see lib.sh; PERSIST_URL runs against a running target)
# Exit status: 0 all steps passed, 1 a step failed, 77 a program is missing.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
persist_start_target

A=iqn.2026-11.org.prtarget:preempt-a
B=iqn.2026-11.org.prtarget:preempt-b

step "first initiator registers aaa" "$A" 0 '' "" -- -n -o -G -S aaa -d "$URL"
step "first initiator reserves Write Exclusive" "$A" 0 '' "" -- -n -o -R -K aaa -T 1 -d "$URL"
step "second initiator registers bbb" "$B" 0 '' "" -- -n -o -G -S bbb -d "$URL"
# SPC-4 5.13.11.4.2: preempting the holder's key removes its registration, releases its reservation and
# reserves for the preempting nexus with the type given; PRgeneration counts the PREEMPT (SPC-4 6.14.2).
step "second initiator preempts the holder: sg_persist -o -P -K bbb -S aaa -T 1" "$B" 0 '' "" \
    -- -n -o -P -K bbb -S aaa -T 1 -d "$URL"
# SPC-4 5.13.11.4: the nexus that lost its registration gets REGISTRATIONS PREEMPTED (2Ah/05h). It is not one
# of the 29h login unit attentions, so iscsi-persist reports it and stops, as sg_persist would.
step "the preempted initiator's next command reports the unit attention (exit 6)" "$A" 6 '' \
    $'Persistent reserve in:\nFixed format, current; Sense key: Unit Attention\nAdditional sense: Registrations preempted\nPR in (Read keys): Unit attention\niscsi-persist failed: Unit attention' \
    -- -n -i -k -d "$URL"
step "the unit attention was reported once; only bbb is registered" "$A" 0 \
    $'  PR generation=0x3, 1 registered reservation key follows:\n    0xbbb' "" -- -n -i -k -d "$URL"
step "the reservation moved to the preempting initiator" "$A" 0 \
    $'  PR generation=0x3, Reservation follows:\n    Key=0xbbb\n    scope: LU_SCOPE,  type: Write Exclusive' "" \
    -- -n -i -r -d "$URL"
# SPC-4 5.13.9: the preempted, now unregistered, nexus cannot take the reservation back.
step "the preempted initiator cannot reserve (exit 24)" "$A" 24 '' \
    $'PR out (Reserve): Reservation conflict\niscsi-persist failed: Reservation conflict' \
    -- -n -o -R -K aaa -T 1 -d "$URL"
step "the preempting initiator clears" "$B" 0 '' "" -- -n -o -C -K bbb -d "$URL"

persist_finish "iscsi-persist preempt"
