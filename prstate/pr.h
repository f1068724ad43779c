/* prstate: the SPC-4 persistent reservation state machine of one logical unit.
 *
 * Pure C: no sockets, no libuv, no sense bytes. Every operation returns an enum pr_status and, where SPC-4
 * requires side effects on other I_T nexuses, a list of effects (unit attentions to raise, tasks to abort) in a
 * struct pr_result that the caller (target/pr_cmd.c) applies. Only target/pr_cmd.c maps a status to sense.
 *
 * I_T nexuses are interned in a struct pr_itn_tab shared by every LU of one SCSI target device: an I_T nexus
 * (initiator port = iSCSI name + ISID, relative target port identifier) gets a dense id that stays valid for the
 * life of the table, so per-LU lookups are array indexing and the access check is O(1) in the number of
 * registrants. Nexuses named only by a TransportID (SPEC_I_PT, REGISTER AND MOVE) are interned the same way.
 *
 * The parts of this header marked CONTRACT are used by the rest of the tree; keep their names and meaning.
 */
#ifndef PR_H
#define PR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CONTRACT: outcome of a PR decision. Only target/pr_cmd.c turns these into SCSI status/sense. */
enum pr_status {
    PR_OK = 0,
    PR_CONFLICT,                  /* RESERVATION CONFLICT status */
    PR_INVALID_FIELD_CDB,         /* ILLEGAL REQUEST, 24h/00h; result.field_byte/field_bit say where */
    PR_INVALID_FIELD_PARAM,       /* ILLEGAL REQUEST, 26h/00h; result.field_byte/field_bit say where */
    PR_PARAM_LIST_LENGTH,         /* ILLEGAL REQUEST, 1Ah/00h */
    PR_INVALID_RELEASE,           /* ILLEGAL REQUEST, 26h/04h INVALID RELEASE OF PERSISTENT RESERVATION */
    PR_INSUFFICIENT_RESOURCES,    /* ILLEGAL REQUEST, 55h/04h INSUFFICIENT REGISTRATION RESOURCES */
    PR_INVALID_OPCODE,            /* ILLEGAL REQUEST, 20h/00h (service action not supported by the profile) */
    PR_PERSIST_FAILED,            /* APTPL state could not be written: HARDWARE ERROR / 44h/00h? see pr_cmd.c */
    PR_NO_RESOURCES,              /* out of memory */
};

/* CONTRACT: the access class of a command, one column of the command table (target/cmd_table.c).
 * The rules are SPC-4 5.13.1 Table 63 (SPC commands) and SBC-3 4.17 Table 13 (SBC commands). */
enum pr_access {
    PR_ACCESS_ALLOWED = 0, /* never conflicts: INQUIRY, REPORT LUNS, REQUEST SENSE, PR IN, READ CAPACITY,
                              REPORT SUPPORTED OPCODES, REPORT TARGET PORT GROUPS, LOG SENSE... */
    PR_ACCESS_READ,        /* reads the medium or device state: conflicts for a non-holder under Exclusive
                              Access types; allowed under Write Exclusive types (READ*, VERIFY*, MODE SENSE,
                              GET LBA STATUS, PRE-FETCH, READ DEFECT DATA, READ BUFFER ...) */
    PR_ACCESS_WRITE,       /* changes the medium or device state: conflicts for a non-holder under every type
                              (WRITE*, WRITE SAME, UNMAP, COMPARE AND WRITE, SYNCHRONIZE CACHE, MODE SELECT,
                              FORMAT UNIT, SANITIZE, START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL(prevent=1)...) */
    PR_ACCESS_TUR,         /* TEST UNIT READY: allowed per SPC-4 ALLOW COMMANDS; the spc3 profile conflicts it
                              under Exclusive Access types */
    PR_ACCESS_PR_OUT,      /* PERSISTENT RESERVE OUT: decided by the service action itself (SPC-4 5.13.1) */
    PR_ACCESS_SPC2,        /* RESERVE(6/10), RELEASE(6/10): SPC-4 5.13.3 interplay, decided by prstate */
};

/* ---- I_T nexus table ------------------------------------------------------------------------------- */

#define PR_INAME_MAX 224   /* iSCSI name: at most 223 bytes + NUL (RFC 7143 4.2.7.1) */
#define PR_ITN_NONE UINT32_MAX

struct pr_itn {
    char iname[PR_INAME_MAX]; /* iSCSI initiator name */
    uint8_t isid[6];          /* ISID: with iname, the initiator port */
    uint16_t rtpi;            /* relative target port identifier, 1..n_ports */
};

struct pr_itn_tab; /* CONTRACT: opaque */

/* CONTRACT. n_ports: relative target port identifiers are 1..n_ports (ALL_TG_PT covers all of them).
 * Returns NULL on allocation failure. */
struct pr_itn_tab *pr_itn_tab_new(uint16_t n_ports);
void pr_itn_tab_free(struct pr_itn_tab *tab);
/* CONTRACT: the dense id of (iname, isid, rtpi), interning it on first use; PR_ITN_NONE when out of memory or
 * when iname is empty/too long or rtpi is 0 or > n_ports. The same triple always gives the same id. */
uint32_t pr_itn_intern(struct pr_itn_tab *tab, const char *iname, const uint8_t isid[6], uint16_t rtpi);
/* CONTRACT: the identity behind an id, or NULL for an id never returned by pr_itn_intern(). */
const struct pr_itn *pr_itn_get(const struct pr_itn_tab *tab, uint32_t id);
uint32_t pr_itn_count(const struct pr_itn_tab *tab);
uint16_t pr_itn_ports(const struct pr_itn_tab *tab);

/* ---- per-LU state ------------------------------------------------------------------------------------ */

struct pr_state; /* CONTRACT: opaque; layout in pr_internal.h */

/* CONTRACT: a new, empty state (no registrations, no reservation, PRgeneration 0) for one LU. */
struct pr_state *pr_state_new(struct pr_itn_tab *tab);
void pr_state_free(struct pr_state *st);

/* CONTRACT: the access check every command goes through before its handler runs (SPC-4 5.13.1, SBC-3 4.17).
 * O(1). Returns PR_OK or PR_CONFLICT. Covers persistent reservations and SPC-2 reservations. */
enum pr_status pr_check_access(const struct pr_state *st, uint32_t itn, enum pr_access cls);

/* CONTRACT: bind st to its APTPL state file. If path exists it is loaded (registrations with APTPL=1 and the
 * reservation come back; SPC-4 5.13.2 PRgeneration handling at power on); if not, nothing is loaded. From then
 * on every change made while APTPL is in effect is written crash-safely (tmp, fsync, rename, fsync dir) before
 * the PR OUT command completes. Returns 0, or -errno with a one-line reason naming path and field in err
 * (corrupt, wrong version, bad checksum, mismatched LU): the daemon refuses to start. A state without a file
 * reports PTPL_C=0 and refuses APTPL=1. */
int pr_state_attach_file(struct pr_state *st, const char *path, char *err, size_t errlen);

#endif
