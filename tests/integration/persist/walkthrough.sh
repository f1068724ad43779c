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
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
persist_start_target

A=iqn.2026-11.org.prtarget:walkthrough-a
B=iqn.2026-11.org.prtarget:walkthrough-b
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

persist_finish "iscsi-persist walkthrough"
