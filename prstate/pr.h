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
    PR_RESERVATION_LOST,          /* SPC-5 5.13.5.3: the reservation was lost; DATA PROTECT, 44h/01h PERSISTENT
                                     RESERVATION INFORMATION LOST (see pr_cmd.c) */
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
    PR_ACCESS_ALLOWED_PR,  /* never conflicts with a persistent reservation, but conflicts with an SPC-2
                              reservation held by another I_T nexus (SPC-2 5.5.1): PERSISTENT RESERVE IN, READ
                              CAPACITY, LOG SENSE, REPORT TARGET PORT GROUPS, REPORT SUPPORTED TMF. Only INQUIRY,
                              REPORT LUNS and REQUEST SENSE stay PR_ACCESS_ALLOWED. */
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
/* CONTRACT: the identity behind an id, or NULL for an id never returned by pr_itn_intern(). The pointer stays
 * valid until the next pr_itn_intern() on the same table (the table may grow); copy what you keep. */
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

/* ---- reservation types, service actions ---------------------------------------------------------------- */

/* SPC-4 6.16.2 Table (persistent reservation type codes). */
enum pr_type {
    PR_TYPE_NONE = 0,
    PR_TYPE_WE = 1,     /* Write Exclusive */
    PR_TYPE_EA = 3,     /* Exclusive Access */
    PR_TYPE_WE_RO = 5,  /* Write Exclusive - Registrants Only */
    PR_TYPE_EA_RO = 6,  /* Exclusive Access - Registrants Only */
    PR_TYPE_WE_AR = 7,  /* Write Exclusive - All Registrants */
    PR_TYPE_EA_AR = 8,  /* Exclusive Access - All Registrants */
};
#define PR_SCOPE_LU 0   /* SPC-4 6.16.2: LU_SCOPE is the only scope this device server supports */

/* SPC-4 6.16.2 / SPC-5 6.17.2: PERSISTENT RESERVE OUT service actions. */
enum pr_out_sa {
    PR_OUT_REGISTER = 0x00,
    PR_OUT_RESERVE = 0x01,
    PR_OUT_RELEASE = 0x02,
    PR_OUT_CLEAR = 0x03,
    PR_OUT_PREEMPT = 0x04,
    PR_OUT_PREEMPT_AND_ABORT = 0x05,
    PR_OUT_REGISTER_IGNORE = 0x06,
    PR_OUT_REGISTER_AND_MOVE = 0x07,
    PR_OUT_REPLACE_LOST = 0x08,
};

/* SPC-4 6.15.1: PERSISTENT RESERVE IN service actions. */
enum pr_in_sa {
    PR_IN_READ_KEYS = 0x00,
    PR_IN_READ_RESERVATION = 0x01,
    PR_IN_REPORT_CAPABILITIES = 0x02,
    PR_IN_READ_FULL_STATUS = 0x03,
};

/* ---- results: the effects a decision has on other I_T nexuses --------------------------------------------- */

/* The unit attention conditions persistent reservations raise (SPC-4 5.13.6); pr_cmd.c maps them to 2Ah/03h,
 * 2Ah/04h, 2Ah/05h. */
enum pr_ua_kind {
    PR_UA_RESERVATIONS_PREEMPTED = 1,
    PR_UA_RESERVATIONS_RELEASED,
    PR_UA_REGISTRATIONS_PREEMPTED,
};

struct pr_ua {
    uint32_t itn;
    enum pr_ua_kind kind;
};

/* Filled by every state-changing call. Owned by the caller: pr_result_init() before, pr_result_free() after.
 * Each I_T nexus appears at most once in ua[] (SPC-4 5.13.6 names one condition per nexus per event). */
struct pr_result {
    int field_byte;   /* for PR_INVALID_FIELD_*: byte of the CDB or parameter list; -1 when not known */
    int field_bit;    /* bit within field_byte; -1 when the whole byte is meant */
    struct pr_ua *ua;
    size_t n_ua, ua_cap;
    uint32_t *abort;  /* PREEMPT AND ABORT: abort every task of these nexuses (SPC-4 5.13.11.2.6) */
    size_t n_abort, abort_cap;
};

void pr_result_init(struct pr_result *res);
void pr_result_free(struct pr_result *res);

/* ---- PERSISTENT RESERVE OUT ------------------------------------------------------------------------------- */

/* A decoded PERSISTENT RESERVE OUT command (CDB + parameter list; target/pr_cmd.c decodes, prstate decides). */
struct pr_out_req {
    uint8_t sa;           /* enum pr_out_sa */
    uint8_t scope, type;  /* CDB byte 2 */
    uint64_t key;         /* RESERVATION KEY */
    uint64_t sa_key;      /* SERVICE ACTION RESERVATION KEY */
    bool spec_i_pt, all_tg_pt, aptpl, unreg;
    uint16_t rtpi;        /* REGISTER AND MOVE: RELATIVE TARGET PORT IDENTIFIER of the destination */
    const uint8_t *tid;   /* SPEC_I_PT: the TransportID list; REGISTER AND MOVE: the TransportID; else NULL */
    size_t tid_len;
    uint32_t tid_off;     /* offset of tid[0] in the parameter list, for field pointers */
};

/* Decide and apply one PERSISTENT RESERVE OUT from I_T nexus itn. The state is changed only on PR_OK (all or
 * nothing); res lists the unit attentions and aborts to apply and, on PR_INVALID_FIELD_*, the field. When APTPL
 * is in effect the state file is written before this returns; if that fails the change is undone and
 * PR_PERSIST_FAILED is returned. */
enum pr_status pr_out(struct pr_state *st, uint32_t itn, const struct pr_out_req *req, struct pr_result *res);

/* ---- PERSISTENT RESERVE IN -------------------------------------------------------------------------------- */

/* Build the parameter data of PR IN service action sa into buf (at most cap bytes written). Returns the full
 * length of the parameter data (which may exceed cap; ADDITIONAL LENGTH always describes the full data, SPC-4
 * 6.15.1), or 0 with *status set for an unsupported service action. rtpi of the requester is not needed: READ
 * FULL STATUS reports every I_T nexus. */
size_t pr_in(const struct pr_state *st, uint8_t sa, uint8_t *buf, size_t cap, enum pr_status *status);

/* ---- SPC-2 RESERVE / RELEASE and events -------------------------------------------------------------------- */

/* RESERVE(6/10) and RELEASE(6/10) from itn: SPC-2 logical unit reservations with the SPC-4 5.13.3 exceptions
 * (CRH=1). PR_OK or PR_CONFLICT. */
enum pr_status pr_spc2_reserve(struct pr_state *st, uint32_t itn);
enum pr_status pr_spc2_release(struct pr_state *st, uint32_t itn);
/* The holder of the SPC-2 reservation, or PR_ITN_NONE. */
uint32_t pr_spc2_holder(const struct pr_state *st);
/* SPC-2 5.5.1: an SPC-2 reservation ends with the I_T nexus loss (logout, connection loss, I_T NEXUS RESET) of
 * its holder; persistent reservations and registrations do not (SPC-4 5.13.1). The target calls this. */
void pr_state_nexus_lost(struct pr_state *st, uint32_t itn);
/* SPC-2 5.5.1: LOGICAL UNIT RESET and target resets release an SPC-2 reservation; persistent state survives
 * (SPC-4 5.13.1). The target calls this. */
void pr_state_lu_reset(struct pr_state *st);

/* ---- profiles, fault injection, limits ----------------------------------------------------------------------- */

/* What the device server accepts; REPORT CAPABILITIES reports exactly this. */
struct pr_caps {
    uint16_t out_sa_mask;   /* bit n: PR OUT service action n is supported */
    uint16_t type_mask;     /* bit n: reservation type n is supported (SPC-4 6.15.4 PERSISTENT RESERVATION TYPE MASK) */
    uint8_t allow_commands; /* SPC-4 6.15.4 ALLOW COMMANDS */
    bool spc3_tur;          /* SPC-3 Table 31: TEST UNIT READY conflicts under Exclusive Access types */
    bool ptpl;              /* may persist through power loss (PTPL_C also needs a state file) */
    bool sip_c, atp_c, crh, tmv;
};

/* Select a capability profile: "full" (the default), "spc3", "dlt-s4", "sl150". Returns 0 or -EINVAL. */
int pr_state_set_profile(struct pr_state *st, const char *name);
const struct pr_caps *pr_state_caps(const struct pr_state *st);
const char *pr_state_profile(const struct pr_state *st);
/* Registrations this LU accepts before PR OUT answers INSUFFICIENT REGISTRATION RESOURCES (default 1024). */
void pr_state_set_max_registrations(struct pr_state *st, uint32_t max);
/* Fault injection (SPC-5 5.13.5.3): the device server lost its persistent reservation. Registrations and the
 * reservation are gone; until a REPLACE LOST RESERVATION succeeds, commands that access the medium get
 * PR_RESERVATION_LOST from pr_check_access(). */
void pr_state_set_lost(struct pr_state *st);
bool pr_state_lost(const struct pr_state *st);
/* A power on (or simulated power loss) of the LU: SPC-4 5.13.4 keeps registrations and the persistent
 * reservation only when APTPL was in effect, an SPC-2 reservation never survives (SPC-2 5.5.1), and PRgeneration
 * restarts at zero (SPC-4 6.15.2). */
void pr_state_power_on(struct pr_state *st);
/* Drop every registration and the reservation (both kinds), PRgeneration 0; the profile and file stay. */
void pr_state_reset(struct pr_state *st);
/* Write the state file now, crash-safely, when the state has one (0 when it has none). For operator changes made
 * outside PR OUT (pr reset, pr load): without it a restart would bring back the state they replaced. */
int pr_state_save(struct pr_state *st);

/* ---- identity, persistence, inspection ------------------------------------------------------------------------ */

/* The identity of the LU (e.g. its NAA designator or serial) written to, and checked in, the state file. */
int pr_state_set_lu_id(struct pr_state *st, const char *lu_id);
/* The persisted form (the same JSON as the state file). Returns a malloc'd NUL-terminated string or NULL. */
char *pr_state_to_json(const struct pr_state *st);
/* Replace the state by the JSON text (as written by pr_state_to_json). Returns 0, or -EINVAL with a one-line
 * reason naming the field in err; on error st is unchanged. what names the source in messages (a path). */
int pr_state_from_json(struct pr_state *st, const char *text, const char *what, char *err, size_t errlen);

struct pr_reg_info {
    uint32_t itn;
    uint64_t key;
    bool all_tg_pt;
    bool holder;     /* this I_T nexus is a persistent reservation holder (SPC-4 5.13.10) */
};

struct pr_resv_info {
    bool reserved;
    uint8_t type, scope;
    uint32_t holder;     /* I_T nexus of the holder; PR_ITN_NONE for All Registrants types */
    uint64_t key;        /* the reservation key READ RESERVATION reports (0 for All Registrants types) */
};

/* Iterate over registrations: *cursor = 0 first; returns false after the last one. */
bool pr_state_reg_next(const struct pr_state *st, uint32_t *cursor, struct pr_reg_info *out);
uint32_t pr_state_reg_count(const struct pr_state *st);
void pr_state_reservation(const struct pr_state *st, struct pr_resv_info *out);
uint32_t pr_state_generation(const struct pr_state *st);
bool pr_state_aptpl(const struct pr_state *st);
/* The registration of itn: true and *key when registered. */
bool pr_state_registered(const struct pr_state *st, uint32_t itn, uint64_t *key);

/* ---- TransportIDs (SPC-4 7.6.4.6, iSCSI) ------------------------------------------------------------------------ */

/* Write the format 01b TransportID of an initiator port ("name,i,0xISID") into buf; returns its length (a
 * multiple of 4, at least 24) even when larger than cap (then nothing is written). */
size_t pr_tid_format(const struct pr_itn *id, uint8_t *buf, size_t cap);

#endif
