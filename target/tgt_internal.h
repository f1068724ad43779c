/* Internals of the target layer, shared by the sources in target/ (including pr_cmd.c). Not for the transport. */
#ifndef TGT_INTERNAL_H
#define TGT_INTERNAL_H

#include "common/prt_be.h"
#include "prstate/pr.h"
#include "target/tgt.h"

/* ---- command table ------------------------------------------------------------------------------------- */

/* A handler returns TGT_DONE once status/sense/data are set (dispatch then calls done()), or TGT_ASYNC when it
 * queued work and will call tgt_cmd_complete() itself later. */
enum tgt_exec_result { TGT_DONE = 0, TGT_ASYNC = 1 };
typedef enum tgt_exec_result (*tgt_handler_fn)(struct tgt_cmd *cmd);

/* Row flags. */
#define TGT_F_NO_LU      0x0001u /* runs on a LUN with no LU behind it (INQUIRY, REPORT LUNS, REQUEST SENSE) */
#define TGT_F_SKIP_UA    0x0002u /* does not report or clear unit attentions (INQUIRY, REPORT LUNS, REQUEST SENSE) */
#define TGT_F_DATA_IN    0x0004u
#define TGT_F_DATA_OUT   0x0008u
#define TGT_F_MEDIUM_WR  0x0010u /* writes the medium: DATA PROTECT / WRITE PROTECTED on a read-only LU */
#define TGT_F_SA         0x0020u /* row is one service action of opcode (sa field valid) */
#define TGT_F_PR_CDB     0x0040u /* the PR access class depends on CDB fields: see tgt__row_pr_access() */

/* One row per opcode (and per service action). usage[] is the CDB USAGE DATA of REPORT SUPPORTED OPERATION
 * CODES: bit set = the bit may be set in the CDB. Dispatch rejects any other bit with INVALID FIELD IN CDB
 * (field pointer on the first offending byte/bit) before the handler runs. */
struct tgt_cmd_row {
    uint8_t opcode;
    uint16_t sa;
    uint8_t cdb_len;
    uint8_t usage[TGT_CDB_MAX];
    enum pr_access pr;
    uint32_t flags;
    tgt_handler_fn fn;
    const char *name;
};

const struct tgt_cmd_row *tgt_cmd_table_lookup(uint8_t opcode, uint16_t sa, bool *opcode_known);
/* The PR access class of a command: row->pr, refined by CDB fields for rows with TGT_F_PR_CDB. O(1). */
enum pr_access tgt__row_pr_access(const struct tgt_cmd_row *row, const uint8_t *cdb);
/* All rows, for REPORT SUPPORTED OPERATION CODES. */
const struct tgt_cmd_row *tgt_cmd_table_rows(size_t *n);

/* PR and SPC-2 reservation handlers (target/pr_cmd.c). */
enum tgt_exec_result tgt_pr_in(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_pr_out(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_reserve(struct tgt_cmd *cmd);  /* RESERVE(6) and RESERVE(10) */
enum tgt_exec_result tgt_release(struct tgt_cmd *cmd);  /* RELEASE(6) and RELEASE(10) */
/* Map a PR decision to status/sense on cmd (the only place that does). */
void tgt_pr_status_to_sense(struct tgt_cmd *cmd, enum pr_status st, int field_byte, int field_bit);

/* ---- sense (target/sense.c): the only place sense bytes are built ------------------------------------- */

#define TGT_SK_NO_SENSE 0x0
#define TGT_SK_RECOVERED_ERROR 0x1
#define TGT_SK_NOT_READY 0x2
#define TGT_SK_MEDIUM_ERROR 0x3
#define TGT_SK_HARDWARE_ERROR 0x4
#define TGT_SK_ILLEGAL_REQUEST 0x5
#define TGT_SK_UNIT_ATTENTION 0x6
#define TGT_SK_DATA_PROTECT 0x7
#define TGT_SK_ABORTED_COMMAND 0xb
#define TGT_SK_MISCOMPARE 0xe

void tgt_set_good(struct tgt_cmd *cmd);
/* CHECK CONDITION with fixed-format sense (or descriptor format when the control mode page D_SENSE=1). */
void tgt_set_sense(struct tgt_cmd *cmd, uint8_t key, uint8_t asc, uint8_t ascq);
void tgt_set_invalid_opcode(struct tgt_cmd *cmd);                        /* 20h/00h */
void tgt_set_invalid_field_cdb(struct tgt_cmd *cmd, int byte, int bit);   /* 24h/00h, SKSV field pointer; bit<0: none */
void tgt_set_invalid_field_param(struct tgt_cmd *cmd, int byte, int bit); /* 26h/00h, SKSV field pointer */
void tgt_set_param_list_length_error(struct tgt_cmd *cmd);                /* 1Ah/00h */
void tgt_set_lba_out_of_range(struct tgt_cmd *cmd);                       /* 21h/00h */
void tgt_set_lun_not_supported(struct tgt_cmd *cmd);                      /* 25h/00h */
void tgt_set_write_protected(struct tgt_cmd *cmd);                        /* DATA PROTECT 27h/00h */
void tgt_set_reservation_conflict(struct tgt_cmd *cmd);                   /* status 18h, no sense */
void tgt_set_medium_error(struct tgt_cmd *cmd, bool write);               /* 0Ch/00h or 11h/00h */

/* Copy len bytes of parameter data to the Data-In of cmd, truncated to alloc_len (and to buf_cap). */
void tgt_cmd_data_in(struct tgt_cmd *cmd, const void *data, size_t len, size_t alloc_len);
/* Complete an asynchronous (TGT_ASYNC) command: removes it from the task set and calls done(). */
void tgt_cmd_complete(struct tgt_cmd *cmd);

/* ---- logical units ---------------------------------------------------------------------------------------- */

struct tgt_lu;

struct pr_state *tgt_lu_pr(struct tgt_lu *lu);
struct tgt_server *tgt_lu_server(struct tgt_lu *lu);
uint64_t tgt_lu_number(const struct tgt_lu *lu);
/* Raise a unit attention for I_T nexus itn on lu (queued per LU per nexus; duplicates are merged; the nexus
 * need not be logged in now: it sees the UA when it next sends a command to lu). */
void tgt_ua_raise(struct tgt_lu *lu, uint32_t itn, uint8_t asc, uint8_t ascq);
/* Terminate every task of itn in lu's task set except `except` (PREEMPT AND ABORT, SPC-4 5.13.11.2.5). With the
 * control mode page TAS=1 they complete with TASK ABORTED; else silently. */
void tgt_lu_abort_nexus_tasks(struct tgt_lu *lu, uint32_t itn, const struct tgt_cmd *except);
/* The itn id of the nexus a command came from. */
uint32_t tgt_cmd_itn(const struct tgt_cmd *cmd);
/* The relative target port identifier of a nexus (for READ FULL STATUS, ALL_TG_PT). */
uint16_t tgt_cmd_rtpi(const struct tgt_cmd *cmd);

/* ---- layer-private definitions (sources in target/ only) --------------------------------------------------------- */

#include <pthread.h>

/* More named sense (target/sense.c). */
void tgt_set_unit_attention(struct tgt_cmd *cmd, uint8_t asc, uint8_t ascq);
void tgt_set_miscompare(struct tgt_cmd *cmd, uint64_t offset);            /* MISCOMPARE 1Dh/00h, INFORMATION */
void tgt_set_saving_params_unsupported(struct tgt_cmd *cmd);              /* 39h/00h */
void tgt_set_invalid_field_iu(struct tgt_cmd *cmd);                       /* 0Eh/03h */
void tgt_set_not_ready(struct tgt_cmd *cmd, uint8_t asc, uint8_t ascq);
void tgt_set_task_aborted(struct tgt_cmd *cmd);                           /* status 40h, no sense */
void tgt_set_internal_error(struct tgt_cmd *cmd);                         /* HARDWARE ERROR 44h/00h */
void tgt_set_sense_info(struct tgt_cmd *cmd, uint8_t key, uint8_t asc, uint8_t ascq, uint64_t info);

/* Sense data as a value, so REQUEST SENSE can return it as parameter data instead of as sense. */
struct tgt_sense_desc {
    uint8_t key, asc, ascq;
    bool sksv;
    uint8_t sks[3];           /* SPC-4 4.5.2.4: sense key specific bytes, SKSV bit included in sks[0] */
    bool info_valid;
    uint64_t info;
};
/* Build sense data into out (cap bytes) in fixed (70h) or descriptor (72h) format; returns its length. */
size_t tgt__sense_build(uint8_t *out, size_t cap, bool descriptor, const struct tgt_sense_desc *sd);

/* Command state bits (cmd->cflags). */
#define TGT__CF_IN_TASK_SET 0x0001u /* linked into lu's task set */
#define TGT__CF_IN_WORKER   0x0002u /* work.work queued or running: done() must wait for work.done */
#define TGT__CF_COUNTED     0x0004u /* counted in the nexus's in-flight total */
#define TGT__CF_COMPLETED   0x0008u /* done() already called */

/* Backend operations of a logical unit. Offsets and lengths are in bytes and already range-checked. Functions
 * marked "blocking" run on a worker thread when ops->blocking; they return 0 or -errno. */
struct tgt_lu_ops {
    const char *name;
    bool blocking;
    /* Zero-copy view of LU memory, or NULL when the backend has none (then read() is used). */
    uint8_t *(*map)(struct tgt_lu *lu, uint64_t off, size_t len);
    int (*read)(struct tgt_lu *lu, void *dst, uint64_t off, size_t len);              /* blocking */
    int (*write)(struct tgt_lu *lu, const void *src, uint64_t off, size_t len);       /* blocking */
    int (*flush)(struct tgt_lu *lu);                                                  /* blocking */
    int (*unmap)(struct tgt_lu *lu, uint64_t off, uint64_t len);                      /* blocking */
    /* Optional: make the range read as zeros and leave it mapped (WRITE SAME of a zero block, UNMAP=0). */
    int (*zero)(struct tgt_lu *lu, uint64_t off, uint64_t len);                       /* blocking */
    /* Provisioning status starting at off: sets *mapped and the length of the run with that status. */
    int (*lba_status)(struct tgt_lu *lu, uint64_t off, bool *mapped, uint64_t *run);  /* blocking */
    uint64_t (*capacity)(const struct tgt_lu *lu);
    void (*close)(struct tgt_lu *lu);
};

/* Mode parameters of one LU (shared by every I_T nexus; SPC-4 7.5.1 allows either, and a change raises
 * MODE PARAMETERS CHANGED for the other nexuses). */
struct tgt_mode {
    bool wce;      /* caching page 08h */
    bool rcd;
    bool d_sense;  /* control page 0Ah */
    bool tas;
    bool swp;
    uint8_t qerr;
    uint8_t ie_flags; /* informational exceptions page 1Ch byte 2 */
    uint8_t mrie;
    uint32_t ie_interval, ie_count;
};

#define TGT_UA_MAX 8 /* pending unit attentions per (LU, I_T nexus) */

struct tgt_ua_q {
    uint8_t n;
    struct { uint8_t asc, ascq; } e[TGT_UA_MAX];
};

struct tgt_lu {
    struct tgt_server *srv;
    uint64_t lun;
    const struct tgt_lu_ops *ops;
    uint64_t size;            /* bytes, a multiple of block_size */
    uint64_t nblocks;
    uint32_t block_size;
    uint8_t bs_shift;
    bool read_only;
    bool thin;                /* UNMAP really frees storage (mem: madvise; file: hole punching works) */
    struct tgt_mode mode;
    struct pr_state *pr;
    struct tgt_cmd *ts_head, *ts_tail; /* task set */
    struct tgt_ua_q *ua;      /* indexed by itn id, grown as ids appear */
    uint32_t ua_cap;
    uint8_t naa[8];           /* NAA 3h locally assigned designator (VPD 83h) */
    char serial[33];
    char vendor[9], product[17];
    char *path;               /* file backend */
    /* Backend state. */
    uint8_t *mem;             /* mem: the mapping */
    size_t mem_len;
    uint64_t *mem_mapped;     /* mem: one bit per page, set once written, cleared when unmapped */
    int fd;                   /* file */
    /* COMPARE AND WRITE must be atomic with respect to every other command (SBC-3 5.2); worker threads of a
     * blocking backend take this shared for ordinary I/O and exclusive for COMPARE AND WRITE. */
    pthread_rwlock_t io_lock;
    /* Optional disk features; NULL when the LU does not have them (media.c, sanitize.c, xcopy.c). */
    struct tgt_media *media;          /* removable medium: present/ejected, PREVENT per I_T nexus */
    struct tgt_sanitize *sanitize;    /* the LU opted in to SANITIZE */
    struct tgt_xcopy_log *xcopy;      /* held EXTENDED COPY results, allocated on first use */
};

struct tgt_nexus {
    struct tgt_server *srv;
    uint32_t itn;
    uint16_t rtpi;
    bool logged_in;
    unsigned in_flight;
};

/* Operator hooks of one server (fault.c): the event sink and the armed faults. Embedded in struct tgt_server so
 * that nothing needs freeing; `armed` keeps the per-command cost of fault injection to one test. */
struct tgt_hooks {
    void (*ev_fn)(void *ctx, const struct tgt_event *ev);
    void *ev_ctx;
    bool armed;
    unsigned n_next;
    struct tgt_fault_next next[TGT_FAULT_MAX];
    unsigned n_delay;
    struct { uint64_t lun; uint32_t ms; } delay[TGT_FAULT_MAX];
};

/* Fault injection and events (fault.c). tgt__fault_intercept runs just before a handler (after the unit
 * attention and reservation checks): true when it took the command over (answered or delayed it). */
bool tgt__fault_intercept(struct tgt_cmd *cmd);
void tgt__event_pr_out(struct tgt_cmd *cmd, const struct pr_out_req *req, enum pr_status st);
void tgt__event_ua(struct tgt_lu *lu, uint32_t itn, uint8_t asc, uint8_t ascq, bool reported);

/* ALUA (alua.c, SPC-4 5.16): one target port group per target port, group id = relative target port id.
 * State 0 is active/optimized, so a zeroed server starts with every group active/optimized. Ports above
 * TGT_ALUA_MAX_TPG stay active/optimized and cannot be changed. */
#define TGT_ALUA_MAX_TPG 64
struct tgt_alua {
    uint8_t state[TGT_ALUA_MAX_TPG];  /* enum tgt_alua_state, indexed by group id - 1 */
    uint8_t status[TGT_ALUA_MAX_TPG]; /* REPORT TARGET PORT GROUPS STATUS CODE (SPC-4 6.36 Table 290) */
};

struct tgt_server {
    struct tgt_hooks hooks;   /* fault.c */
    struct tgt_alua alua;     /* alua.c */
    char *target_name;
    uint16_t n_ports;
    struct tgt_exec exec;
    uint64_t (*now_ms)(void *ctx);
    void *now_ctx;
    struct pr_itn_tab *itn_tab;
    struct tgt_lu **lus;
    unsigned n_lus, cap_lus;
    struct tgt_nexus **nexus; /* indexed by itn id */
    uint32_t nexus_cap;
    /* tgt_server_set_held_abort(): the transport's unsubmitted tasks (dispatch.c). */
    unsigned (*held_abort)(void *ctx, uint32_t itn, uint64_t lun, bool tas);
    void *held_ctx;
};

/* Backends (lu_mem.c, lu_file.c): fill lu->ops, size and backend state. 0 or -errno with a reason in err. */
int tgt__lu_mem_open(struct tgt_lu *lu, const struct tgt_lu_cfg *cfg, char *err, size_t errlen);
int tgt__lu_file_open(struct tgt_lu *lu, const struct tgt_lu_cfg *cfg, char *err, size_t errlen);

/* Mode page defaults (spc.c), used at LU creation and after a LUN reset (SAM-5 6.3.3: mode parameters return to
 * their saved values, and we have no saved values, so to their defaults). */
void tgt__mode_defaults(struct tgt_mode *m);

/* Unit attentions (ua.c). */
void tgt__ua_raise_all(struct tgt_lu *lu, uint8_t asc, uint8_t ascq, uint32_t except_itn);
/* Pops the highest-priority pending UA of itn on lu; false when none. */
bool tgt__ua_pop(struct tgt_lu *lu, uint32_t itn, uint8_t *asc, uint8_t *ascq);
bool tgt__ua_pending(const struct tgt_lu *lu, uint32_t itn);
void tgt__ua_clear(struct tgt_lu *lu, uint32_t itn);
void tgt__ua_free(struct tgt_lu *lu);

/* Task set (dispatch.c). */
void tgt__task_set_remove(struct tgt_cmd *cmd);
/* Terminate the tasks the transport still holds for nexus itn on lun (tgt_server_set_held_abort); returns how
 * many it terminated, 0 when no transport registered. */
unsigned tgt__abort_held(struct tgt_server *srv, uint32_t itn, uint64_t lun, bool tas);
/* Terminate cmd because of a task management function or PREEMPT AND ABORT (SAM-5 5.6). tas: report TASK
 * ABORTED (control mode page TAS=1, and the task belongs to another I_T nexus than the requester). */
void tgt__task_abort(struct tgt_cmd *cmd, bool tas);

/* Executor glue (dispatch.c): run cmd's blocking work (work.work) on the server's executor, or inline. */
enum tgt_exec_result tgt__queue_work(struct tgt_cmd *cmd);
/* First call of every work.done: true when the command was aborted meanwhile and has now been completed. */
bool tgt__work_finished(struct tgt_cmd *cmd);
struct tgt_cmd *tgt__cmd_of_work(struct tgt_work *w);

/* Command table helpers (cmd_table.c). */
/* True when opcode carries a service action; *sa gets it from the CDB. */
bool tgt__cdb_sa(const uint8_t *cdb, uint16_t *sa);

/* Block limits: reported in VPD B0h (spc.c), enforced by the SBC handlers (sbc.c). */
/* MAXIMUM TRANSFER LENGTH and MAXIMUM PREFETCH LENGTH: 32 MiB worth of blocks, the largest Expected Data Transfer
 * Length the iSCSI transport buffers (ISC_MAX_EDTL). */
#define TGT_MAX_TRANSFER_BYTES (32u << 20)
/* The 8 MiB limit of the first release; WRITE ATOMIC(16) (atomic.c) bounds MAXIMUM ATOMIC TRANSFER LENGTH by it,
 * which SBC-4 6.6.4 allows since it stays below MAXIMUM TRANSFER LENGTH. */
#define TGT_MAX_XFER_BYTES (8u << 20)
#define TGT_OPT_XFER_BYTES (1u << 20)       /* OPTIMAL TRANSFER LENGTH */
#define TGT_MAX_CAW_BLOCKS 255u             /* MAXIMUM COMPARE AND WRITE LENGTH */
#define TGT_MAX_UNMAP_BLOCKS 0x100000u      /* MAXIMUM UNMAP LBA COUNT */
#define TGT_MAX_UNMAP_DESCS 256u            /* MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT */
/* MAXIMUM WRITE SAME LENGTH: a WRITE SAME of a non-zero block writes every block, so one command is bounded to the
 * work of the largest WRITE at 512-byte blocks (32 MiB). */
#define TGT_MAX_WS_BLOCKS 0x10000u
#define TGT_PHYS_BLOCK 4096u                /* the page size: granularity of unmapping on a mem LU */

/* Unit attention removal of one condition (REPORT LUNS clears REPORTED LUNS DATA HAS CHANGED, SPC-4 6.33). */
void tgt__ua_remove(struct tgt_lu *lu, uint32_t itn, uint8_t asc, uint8_t ascq);

/* Handlers (spc.c, sbc.c). */
enum tgt_exec_result tgt_spc_test_unit_ready(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_spc_request_sense(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_spc_inquiry(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_spc_mode_select(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_spc_mode_sense(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_spc_report_luns(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_spc_rsoc(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_spc_start_stop_unit(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_spc_prevent_allow(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_sbc_read_capacity10(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_sbc_read_capacity16(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_sbc_read(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_sbc_write(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_sbc_verify(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_sbc_write_verify(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_sbc_sync_cache(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_sbc_prefetch(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_sbc_write_same(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_sbc_unmap(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_sbc_get_lba_status(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_sbc_compare_and_write(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_sbc_orwrite(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_sbc_read_defect_data(struct tgt_cmd *cmd);

/* ---- complete-disk features (alua.c, media.c, sanitize.c, xcopy.c, atomic.c) ------------------------------ */

/* LU life cycle of the optional features: called by tgt_server_add_lu() once the backend is open, and by the
 * LU's destructor. 0 or -errno with a reason in err. */
int tgt__disk_lu_init(struct tgt_lu *lu, const struct tgt_lu_cfg *cfg, char *err, size_t errlen);
void tgt__disk_lu_free(struct tgt_lu *lu);

/* Gates run by dispatch after the unit attention check and before the reservation check: true when the
 * command was answered (NOT READY, MEDIUM ERROR ...) and must not reach its handler. */
bool tgt__alua_gate(struct tgt_cmd *cmd, const struct tgt_cmd_row *row);
bool tgt__sanitize_gate(struct tgt_cmd *cmd, const struct tgt_cmd_row *row);
bool tgt__media_gate(struct tgt_cmd *cmd, const struct tgt_cmd_row *row);

/* Removable medium (media.c). */
bool tgt__media_removable(const struct tgt_lu *lu);
/* False only for a removable LU whose medium is ejected. */
bool tgt__media_present(const struct tgt_lu *lu);
/* START STOP UNIT with POWER CONDITION 0h and LOEJ=1 (SBC-3 5.25): load (START=1) or eject (START=0). */
enum tgt_exec_result tgt__media_load_eject(struct tgt_cmd *cmd);
/* The I_T nexus itn is gone (logout, connection loss, I_T NEXUS RESET): its PREVENT ends (SPC-4 6.13). */
void tgt__media_nexus_lost(struct tgt_server *srv, uint32_t itn);
/* PREVENT=0 for itn on lu alone, as PREEMPT AND ABORT does for each preempted nexus (SPC-4 5.13.11.2.6 h). */
void tgt__media_allow_removal(struct tgt_lu *lu, uint32_t itn);
/* A LU reset (also every LU on a target reset or power loss): every PREVENT ends (SPC-4 6.13). */
void tgt__media_lu_reset(struct tgt_lu *lu);
enum tgt_exec_result tgt_media_prevent_allow(struct tgt_cmd *cmd);

/* ALUA (alua.c). */
enum tgt_exec_result tgt_alua_report_tpg(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_alua_set_tpg(struct tgt_cmd *cmd);
/* INQUIRY byte 5 TPGS field value (SPC-4 6.6.2), already shifted into bits 5-4. */
uint8_t tgt__alua_tpgs_bits(void);

/* SANITIZE (sanitize.c, SBC-3 5.30). */
enum tgt_exec_result tgt_sanitize(struct tgt_cmd *cmd);
/* VPD B1h byte 7: WABEREQ and WACEREQ (SBC-3 6.5.2) for this LU. */
uint8_t tgt__sanitize_vpd_b1_byte7(const struct tgt_lu *lu);
/* Whether lu implements the command of row: false for SANITIZE on a LU that did not opt in, so REPORT
 * SUPPORTED OPERATION CODES (spc.c) tells the truth about it. */
bool tgt__row_supported(const struct tgt_lu *lu, const struct tgt_cmd_row *row);
/* A sanitize operation runs on lu, or failed and left it in sanitize failure mode. */
bool tgt__sanitize_busy(const struct tgt_lu *lu);

/* EXTENDED COPY / RECEIVE COPY RESULTS (xcopy.c, SPC-4 6.4 and 6.18). */
enum tgt_exec_result tgt_xcopy_lid1(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_xcopy_receive_results(struct tgt_cmd *cmd);
/* Third-party copy VPD page 8Fh (SPC-4 7.8.17): writes the whole page into d (cap bytes), returns its length. */
size_t tgt__xcopy_vpd_8f(const struct tgt_lu *lu, uint8_t *d, size_t cap);

/* WRITE ATOMIC(16) (atomic.c, SBC-4 5.48). */
enum tgt_exec_result tgt_atomic_write16(struct tgt_cmd *cmd);
/* VPD B0h bytes 44-63 (atomic limits, SBC-4 6.6.4); page points at byte 0 of the page, at least 64 bytes. */
void tgt__atomic_vpd_b0(const struct tgt_lu *lu, uint8_t *page);

#endif
