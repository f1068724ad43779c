/* target: the SCSI device server (SPC-4 / SBC-3) of one SCSI target device.
 *
 * Public API used by the transport (transport/isc_*.c) and the application (app/). The transport turns an iSCSI
 * SCSI Command PDU into a struct tgt_cmd, submits it, and gets it back through cmd->done(). Nothing here knows
 * about iSCSI or libuv: blocking work (file I/O) is handed to the executor the application supplies.
 *
 * Ownership: the application creates and frees the struct tgt_server; LUs and nexuses belong to it.
 * struct tgt_cmd is owned by the transport (embedded in its task), lent to the target from tgt_cmd_submit()
 * until cmd->done() is called, exactly once.
 */
#ifndef TGT_H
#define TGT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tgt_server;
struct tgt_lu;
struct tgt_nexus;
struct pr_itn_tab;
struct pr_state;

/* ---- executor: how blocking work leaves the event-loop thread ---------------------------------------- */

struct tgt_work {
    void (*work)(struct tgt_work *w); /* runs on a worker thread; must not touch target state */
    void (*done)(struct tgt_work *w); /* runs back on the loop thread */
    void *impl[4];                    /* for the executor implementation (e.g. a uv_work_t pointer) */
};

struct tgt_exec {
    /* Queue w: w->work on some thread, then w->done on the loop thread. Returns 0 or -errno. */
    int (*queue)(void *ctx, struct tgt_work *w);
    void *ctx;
};

/* ---- server and logical units ------------------------------------------------------------------------- */

struct tgt_server_cfg {
    const char *target_name;   /* iSCSI target name, e.g. iqn.2026-11.org.prtarget:disk */
    uint16_t n_ports;          /* target ports (= target portal groups); relative target port ids 1..n_ports */
    struct tgt_exec exec;      /* exec.queue == NULL: blocking work runs inline (tests) */
    uint64_t (*now_ms)(void *ctx); /* monotonic time, for tests to control; NULL = none needed */
    void *now_ctx;
};

enum tgt_backend { TGT_BACKEND_MEM = 0, TGT_BACKEND_FILE };

struct tgt_lu_cfg {
    enum tgt_backend backend;
    const char *path;          /* file backend: the file */
    uint64_t size;             /* bytes; mem: required; file: 0 = the file's size, else create/extend to it */
    uint32_t block_size;       /* 512 (default when 0) or 4096 */
    bool read_only;
    const char *state_dir;     /* where APTPL state lives; NULL = beside a file LU, none for a mem LU */
    const char *vendor, *product, *serial; /* NULL = defaults */
    const uint8_t *naa;        /* 8 bytes of NAA designator (VPD 83h); NULL = derived from the LU's name */
    bool removable;            /* INQUIRY RMB (SPC-4 6.6.2) */
    bool sanitize;             /* the LU accepts SANITIZE (SBC-3 5.30); off by default since it erases everything */
};

/* Returns NULL with a one-line reason in err on failure. */
struct tgt_server *tgt_server_new(const struct tgt_server_cfg *cfg, char *err, size_t errlen);
/* Adds LUN n (n = number of LUs added so far). Returns 0, or -errno with a one-line reason in err
 * (naming the path/field), e.g. a missing file or a corrupt APTPL state file. */
int tgt_server_add_lu(struct tgt_server *srv, const struct tgt_lu_cfg *cfg, char *err, size_t errlen);
unsigned tgt_server_lu_count(const struct tgt_server *srv);
struct tgt_lu *tgt_server_lu(struct tgt_server *srv, uint64_t lun); /* NULL if no such LU */
/* Emulated SANITIZE duration of a LU that opted in (cfg.sanitize): each operation stays in progress at least ms
 * milliseconds from its start, measured with the server's now_ms (SBC-3 4.11.2). 0 = no added time. Returns 0,
 * or -EINVAL when the LU does not accept SANITIZE. */
int tgt_lu_set_sanitize_ms(struct tgt_lu *lu, uint64_t ms);
struct pr_itn_tab *tgt_server_itn_tab(struct tgt_server *srv);
/* Flush every LU (file backends fsync). Synchronous; for shutdown. Returns 0 or -errno. */
int tgt_server_flush(struct tgt_server *srv);
/* Frees everything. No command may be outstanding. */
void tgt_server_free(struct tgt_server *srv);

/* ---- I_T nexus ---------------------------------------------------------------------------------------- */

/* A login on target port rtpi by initiator port (iname, isid). The same triple gives the same nexus again
 * (registrations and reservations are kept across logout and re-login). The first login of a nexus gets a
 * POWER ON, RESET OR BUS DEVICE RESET OCCURRED (29h/00h) unit attention on every LU; a re-login after the nexus
 * was lost gets I_T NEXUS LOSS OCCURRED (29h/07h). Returns NULL on bad identity or out of memory. */
struct tgt_nexus *tgt_nexus_login(struct tgt_server *srv, const char *iname, const uint8_t isid[6],
                                  uint16_t rtpi);
/* The session ended (logout or connection loss). The nexus object stays valid (it is owned by the server). */
void tgt_nexus_logout(struct tgt_nexus *nx);
uint32_t tgt_nexus_id(const struct tgt_nexus *nx);

/* ---- commands ------------------------------------------------------------------------------------------ */

enum tgt_dir { TGT_DIR_NONE = 0, TGT_DIR_READ = 1, TGT_DIR_WRITE = 2, TGT_DIR_BIDI = 3 };

enum tgt_task_attr { TGT_TASK_UNTAGGED = 0, TGT_TASK_SIMPLE = 1, TGT_TASK_ORDERED = 2, TGT_TASK_HOQ = 3,
                     TGT_TASK_ACA = 4 };

#define TGT_SENSE_MAX 96
#define TGT_CDB_MAX 32
#define TGT_CMD_MAX_IOV 4

/* SCSI status codes (SAM-5). */
#define TGT_STATUS_GOOD 0x00
#define TGT_STATUS_CHECK_CONDITION 0x02
#define TGT_STATUS_CONDITION_MET 0x04
#define TGT_STATUS_BUSY 0x08
#define TGT_STATUS_RESERVATION_CONFLICT 0x18
#define TGT_STATUS_TASK_SET_FULL 0x28
#define TGT_STATUS_ACA_ACTIVE 0x30
#define TGT_STATUS_TASK_ABORTED 0x40

struct tgt_iov {
    void *base;
    size_t len;
};

struct tgt_cmd {
    /* In: set by the transport before tgt_cmd_submit(). */
    struct tgt_nexus *nexus;
    uint64_t lun;                 /* LUN number (flat/peripheral addressing decoded) */
    uint8_t cdb[TGT_CDB_MAX];
    uint8_t cdb_len;
    uint8_t task_attr;            /* enum tgt_task_attr */
    uint64_t tag;                 /* task tag (iSCSI ITT) */
    uint32_t exp_len;             /* expected data transfer length (iSCSI EDTL) */
    uint8_t dir;                  /* enum tgt_dir, from the iSCSI R/W bits */
    uint8_t *buf;                 /* transport-owned, buf_cap >= max(exp_len, TGT_CMD_MIN_BUF): */
    size_t buf_cap;               /*   holds the Data-Out on entry; a handler may build Data-In in it */
    size_t dout_len;              /* bytes of Data-Out received in buf (may be < exp_len) */
    void (*done)(struct tgt_cmd *cmd);
    void *owner;                  /* for the transport */

    /* Out: valid when done() runs. */
    uint8_t status;
    uint8_t sense_len;
    uint8_t sense[TGT_SENSE_MAX];
    struct tgt_iov din[TGT_CMD_MAX_IOV]; /* Data-In to send, in order; may point into LU memory (zero-copy) */
    unsigned din_cnt;
    size_t din_len;               /* sum of din[].len; the transport clips to exp_len and computes residuals */
    bool aborted;                 /* terminated by a task management function or PREEMPT AND ABORT: the
                                     transport sends no response unless status == TASK ABORTED (TAS=1) */
    size_t dout_want;             /* bytes of Data-Out the CDB asks for (the SCSI transfer length of a write,
                                     SPDTL); the transport computes write residuals from it against exp_len */

    /* Private to the target. */
    struct tgt_lu *lu;
    const void *row;
    struct tgt_cmd *ts_prev, *ts_next; /* task set membership */
    struct tgt_work work;
    int io_err;
    uint64_t lba;
    uint32_t nblocks;
    uint8_t flags;
    uint8_t op;                   /* which blocking operation work.work runs (target/sbc.c) */
    uint16_t cflags;              /* TGT__CF_* state bits */
    uint64_t info;                /* e.g. miscompare offset, filled by the worker */
};

#define TGT_CMD_MIN_BUF 65536 /* every allocation length of a command we answer from buf fits in this */

/* Executes cmd; cmd->done(cmd) is called exactly once, possibly before this returns. */
void tgt_cmd_submit(struct tgt_server *srv, struct tgt_cmd *cmd);

/* ---- task management ------------------------------------------------------------------------------------ */

enum tgt_tmf {
    TGT_TMF_ABORT_TASK = 1,
    TGT_TMF_ABORT_TASK_SET,
    TGT_TMF_CLEAR_ACA,
    TGT_TMF_CLEAR_TASK_SET,
    TGT_TMF_LUN_RESET,
    TGT_TMF_TARGET_WARM_RESET,
    TGT_TMF_TARGET_COLD_RESET,
    TGT_TMF_IT_NEXUS_RESET,
    TGT_TMF_QUERY_TASK,
};

enum tgt_tmf_result {
    TGT_TMF_COMPLETE = 0,
    TGT_TMF_TASK_NOT_FOUND = 1,    /* also QUERY TASK: task not in the task set */
    TGT_TMF_LUN_NOT_FOUND = 2,
    TGT_TMF_NOT_SUPPORTED = 5,
    TGT_TMF_REJECTED = 255,
    TGT_TMF_SUCCEEDED = 0x100,     /* QUERY TASK: the task is in the task set */
};

/* Task management from nexus nx. For ABORT TASK, task is the command to abort (found by the transport from the
 * referenced task tag) or NULL if the transport has no such task. Commands terminated here get aborted=true;
 * those still running on a worker thread call done() later as usual. Unit attentions required by SAM-5/SPC-4
 * after resets (29h/03h LUN reset, 29h/00h warm and 29h/01h cold target reset, 2Fh/00h commands cleared by another initiator when
 * TAS=0... ) are raised here. */
enum tgt_tmf_result tgt_tmf(struct tgt_server *srv, struct tgt_nexus *nx, enum tgt_tmf fn, uint64_t lun,
                            struct tgt_cmd *task);

/* Number of commands of nexus nx still inside the target (submitted, done() not yet called). */
unsigned tgt_nexus_cmds_in_flight(const struct tgt_nexus *nx);

/* Commands the transport has received but not submitted yet (a write still collecting its Data-Out, RFC 7143
 * 10.7) are in the task set all the same (SAM-5 5.6). When the target terminates tasks of an I_T nexus other
 * than the one whose command or function asked for it (PREEMPT AND ABORT, CLEAR TASK SET, LOGICAL UNIT RESET,
 * target resets), it also calls fn for that nexus: fn terminates every such task of nexus itn addressed to lun,
 * ending each with TASK ABORTED when tas is true and silently otherwise, and returns how many it terminated.
 * The requester's own tasks the transport terminates itself before calling tgt_tmf().
 * fn runs on the loop thread and must not call back into the target; fn == NULL removes it. */
void tgt_server_set_held_abort(struct tgt_server *srv, unsigned (*fn)(void *ctx, uint32_t itn, uint64_t lun, bool tas),
                               void *ctx);

/* ---- operator hooks (target/fault.c): event sink, fault injection, read-only views ------------------------ */

/* Something the operator may want to see happen (the PR event log of the control socket). */
enum tgt_event_kind {
    TGT_EVENT_PR_OUT = 1,      /* a PERSISTENT RESERVE OUT completed (whatever its outcome) */
    TGT_EVENT_UA_RAISED,       /* a unit attention condition was queued for an I_T nexus */
    TGT_EVENT_UA_REPORTED,     /* a unit attention condition was reported to (and cleared for) its nexus */
};

struct tgt_event {
    enum tgt_event_kind kind;
    uint64_t lun;
    uint32_t itn;              /* PR OUT: the requesting nexus; UA: the nexus the condition is for */
    uint8_t sa, scope, type;   /* PR OUT: service action and CDB byte 2 */
    uint64_t key, sa_key;      /* PR OUT: RESERVATION KEY and SERVICE ACTION RESERVATION KEY */
    bool aptpl;
    int pr_status;             /* PR OUT: the enum pr_status of the decision */
    uint8_t status;            /* PR OUT: SCSI status sent */
    uint8_t sense_key, asc, ascq; /* PR OUT: sense of a CHECK CONDITION; UA: the condition */
    uint32_t generation;       /* PRgeneration after the event */
};

/* fn is called on the loop thread, synchronously, for every event; it must not call back into the target.
 * fn == NULL removes the sink. */
void tgt_server_set_event_sink(struct tgt_server *srv, void (*fn)(void *ctx, const struct tgt_event *ev),
                               void *ctx);

#define TGT_FAULT_MAX 16   /* armed "next" rules and delays, each */
#define TGT_FAULT_ANY_OPCODE (-1)

/* "The next count commands to lun (with opcode, unless TGT_FAULT_ANY_OPCODE) get this answer." */
struct tgt_fault_next {
    uint64_t lun;
    int opcode;
    uint32_t count;            /* commands still to fail */
    uint8_t status;            /* SCSI status; with has_sense it is CHECK CONDITION */
    bool has_sense;
    uint8_t sense_key, asc, ascq;
};

/* 0, -ENOENT (no such LU), -EINVAL (count 0, a bad status), -ENOSPC (TGT_FAULT_MAX rules armed). */
int tgt_fault_add_next(struct tgt_server *srv, const struct tgt_fault_next *f);
/* Every command to lun waits ms before its handler runs (0 removes the delay). 0, -ENOENT, -ENOSPC. */
int tgt_fault_set_delay(struct tgt_server *srv, uint64_t lun, uint32_t ms);
/* The armed rules (count of them, at most cap copied) and the delay of a LU (0 = none). */
unsigned tgt_fault_list(const struct tgt_server *srv, struct tgt_fault_next *out, unsigned cap);
uint32_t tgt_fault_delay(const struct tgt_server *srv, uint64_t lun);
/* Disarm every "next" rule and delay. Lost reservations stay lost (REPLACE LOST RESERVATION recovers them). */
void tgt_fault_clear(struct tgt_server *srv);
/* The device server side of a power cycle of lun (every LU when lun < 0). The transport must drop the
 * connections itself. 0 or -ENOENT. */
int tgt_fault_power_loss(struct tgt_server *srv, int64_t lun);
/* SPC-5 5.14.11: lun lost its persistent reservation information. 0 or -ENOENT. */
int tgt_fault_lost_reservation(struct tgt_server *srv, uint64_t lun);

/* A read-only view of one LU, for the control socket. Strings point into the LU and live as long as it. */
struct tgt_lu_info {
    uint64_t lun;
    const char *backend;       /* "mem" or "file" */
    const char *path;          /* file backend, else NULL */
    uint64_t size;
    uint32_t block_size;
    bool read_only;
    const char *vendor, *product, *serial;
    uint8_t naa[8];
};
int tgt_server_lu_info(struct tgt_server *srv, uint64_t lun, struct tgt_lu_info *out); /* 0 or -ENOENT */
/* The unit attention conditions pending for nexus itn on lun, in no particular order: writes at most cap
 * (asc, ascq) pairs to out and returns how many are pending. */
unsigned tgt_lu_pending_ua(struct tgt_server *srv, uint64_t lun, uint32_t itn, uint8_t (*out)[2], unsigned cap);
/* The PR state of lun (NULL when there is no such LU), for inspection and operator resets. */
struct pr_state *tgt_lu_pr_state(struct tgt_server *srv, uint64_t lun);
/* Whether nexus itn is logged in now. */
bool tgt_server_itn_logged_in(const struct tgt_server *srv, uint32_t itn);

/* ---- ALUA (target/alua.c): asymmetric access states of the target port groups (SPC-4 5.16) ----------------- */

/* SPC-4 6.36 Table 289 ASYMMETRIC ACCESS STATE values. */
enum tgt_alua_state {
    TGT_ALUA_ACTIVE_OPTIMIZED = 0x0,
    TGT_ALUA_ACTIVE_NON_OPTIMIZED = 0x1,
    TGT_ALUA_STANDBY = 0x2,
    TGT_ALUA_UNAVAILABLE = 0x3,
    TGT_ALUA_OFFLINE = 0xe,
    TGT_ALUA_TRANSITIONING = 0xf,
};

/* Set the state of target port group tpg (= the relative target port id of a portal, 1..n_ports). Every I_T
 * nexus gets ASYMMETRIC ACCESS STATE CHANGED (SPC-4 5.16.2.2). 0, -ENOENT (no such group) or -EINVAL. */
int tgt_alua_set_state(struct tgt_server *srv, uint16_t tpg, enum tgt_alua_state state);
/* The state of group tpg; TGT_ALUA_ACTIVE_OPTIMIZED for an unknown group. */
enum tgt_alua_state tgt_alua_get_state(const struct tgt_server *srv, uint16_t tpg);
/* How many target port groups there are (ids 1..n, one per portal). */
unsigned tgt_alua_group_count(const struct tgt_server *srv);
/* The operator's names of the states (active-optimized, active-nonoptimized, standby, unavailable, offline,
 * transitioning), used by the configuration file, the control socket and prtargetctl. The name of a value that
 * is not a state is "unknown"; parsing an unknown name returns -EINVAL. */
const char *tgt_alua_state_name(enum tgt_alua_state state);
int tgt_alua_state_parse(const char *name, enum tgt_alua_state *out);

#endif
