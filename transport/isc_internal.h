/* Internals of the iSCSI session and connection state machine (transport/isc_server.c, isc_conn.c, isc_login.c,
 * isc_session.c, isc_scsi.c, isc_tmf.c, isc_text.c). Not for the net layer: it sees only transport/isc.h.
 *
 * Object model (RFC 7143 4.4, with MaxConnections=1):
 *   isc_server  1 ── n  isc_conn  1 ── 0..1  isc_session  1 ── n  isc_task (pool, reused)
 * A connection owns its session: with one connection per session and ErrorRecoveryLevel 0 the session ends
 * when its only connection ends (RFC 7143 6.3.4, 7.1.1). The net layer allocates nothing of ours; the
 * connection is allocated by isc_conn_new() and frees itself (with its session and tasks) once the net layer
 * released it and no write or target command of it is outstanding.
 */
#ifndef ISC_INTERNAL_H
#define ISC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/isc.h"
#include "transport/isc_chap.h"
#include "transport/isc_keys.h"
#include "transport/isc_pdu.h"
#include "transport/isc_rx.h"

#define ISC_RSVD_TAG 0xffffffffu       /* RFC 7143 11.2.1.8 / 11.18: the reserved tag value */
#define ISC_QUEUE_DEPTH 128u           /* CmdSN window offered to each session */
#define ISC_TASK_HARD_MAX 1024u        /* tasks per session, whatever the initiator does */
#define ISC_MAX_R2T 8u                 /* upper bound for MaxOutstandingR2T we accept */
#define ISC_MAX_EDTL (32u << 20)       /* largest Expected Data Transfer Length we buffer */
#define ISC_LOGIN_MAX_TEXT 65536u      /* a login/text request split over C-bit PDUs may not exceed this */
#define ISC_BUF_CLASSES 10u            /* 64 KiB .. 32 MiB, powers of two */
#define ISC_ITT_BUCKETS 256u
#define ISC_LOGIN_DSL 8192u            /* RFC 7143 13.12: MaxRecvDataSegmentLength before it is negotiated */
#define ISC_HDR_SLOT 64u               /* per-PDU header slot: BHS + header digest + pad + data digest */

struct isc_session;
struct isc_task;

/* ---- server ----------------------------------------------------------------------------------------------- */

struct isc_buf {
    struct isc_buf *next;
};

/* One target the server serves (isc_target_cfg), owned by the server. */
struct isc_target_portal {
    uint16_t listener;                 /* the listener id isc_conn_new() receives */
    uint16_t tpgt;                     /* this target's tag for that listener */
};

struct isc_target {
    struct isc_server *srv;            /* back pointer: the held-abort hook's context is the target */
    char *name, *alias;
    struct tgt_server *tgt;
    struct isc_target_portal *portals;
    unsigned n_portals;
    bool every_portal;                 /* the single-target form: every listener, its id as the tag */
    struct isc_chap_cfg chap_cfg;      /* strings owned here */
    bool chap_on;
    char **acl;                        /* initiator names allowed; n_acl == 0: all */
    unsigned n_acl;
};

struct isc_server {
    struct isc_target *targets;        /* at least one */
    unsigned n_targets;
    struct isc_portal *portals;        /* the listeners: addr, tpgt = listener id */
    unsigned n_portals;
    uint32_t nop_interval_ms, nop_timeout_ms, login_timeout_ms;
    uint64_t (*now_ms)(void *ctx);
    void *now_ctx;
    struct isc_limits limits;
    struct isc_chap_cfg chap_cfg;      /* Discovery sessions' CHAP; strings owned by the server */
    bool chap_on;                      /* CHAP required for every Discovery login */
    struct isc_conn *conns;            /* every live connection (doubly linked through conn->next/prev) */
    uint16_t next_tsih;
    bool shutting_down;
    /* Data buffers of SCSI commands, by size class, reused across commands and sessions so that the steady
     * state allocates nothing per command. */
    struct isc_buf *buf_free[ISC_BUF_CLASSES];
    unsigned buf_free_cnt[ISC_BUF_CLASSES];
};

uint64_t isc__server_now(const struct isc_server *srv);
uint16_t isc__server_new_tsih(struct isc_server *srv);
/* The live normal session of (iname, isid), or NULL. */
struct isc_session *isc__server_find_session(struct isc_server *srv, const char *iname, const uint8_t isid[6],
                                             const struct isc_session *except);
struct isc_session *isc__server_find_tsih(struct isc_server *srv, uint16_t tsih);
/* Whether the initiator iname may log in to the target (the access list is empty or names it). */
bool isc__target_acl_allows(const struct isc_target *t, const char *iname);
/* The target called name, or NULL. */
struct isc_target *isc__server_find_target(struct isc_server *srv, const char *name);
/* The tag of target t for the listener, or 0 when that listener does not expose t. */
uint16_t isc__target_tpgt(const struct isc_target *t, uint16_t listener);
void *isc__buf_get(struct isc_server *srv, size_t need, size_t *cap, unsigned *cls);
void isc__buf_put(struct isc_server *srv, void *buf, unsigned cls);

/* ---- transmit buffers for control PDUs --------------------------------------------------------------------- */

/* A control PDU (login/text/NOP-In/R2T/TMF/logout/reject/async/response without task) being written. Taken
 * from the connection's free list and returned there in the write-done callback. */
struct isc_tx {
    struct isc_tx *next;
    struct isc_conn *conn;
    uint8_t hdr[ISC_BHS_LEN + ISC_DIGEST_LEN];
    uint8_t tail[8];                   /* padding (zeros) then data digest */
    uint8_t *data;
    size_t data_cap;
};

/* ---- connection ------------------------------------------------------------------------------------------- */

enum isc_conn_state {
    ISC_CONN_LOGIN = 0,     /* login phase (RFC 7143 6) */
    ISC_CONN_FFP,           /* full feature phase */
    ISC_CONN_LOGOUT,        /* logout response queued; waiting for the close */
    ISC_CONN_CLOSED,        /* ops->close called or socket released */
};

struct isc_conn {
    struct isc_conn *next, *prev;
    struct isc_server *srv;
    const struct isc_conn_ops *ops;
    void *net;
    char *local_addr, *peer_addr;
    uint16_t listener;      /* the listener id the connection came in on */
    uint16_t tpgt;          /* the listener id until login picks a target, then that target's tag */
    struct isc_target *target; /* the target the login names; NULL before that and for Discovery */
    enum isc_conn_state state;
    bool released;          /* isc_conn_release() was called: no ops from now on */
    bool close_called;
    bool logged_out;        /* closed by a Logout: not an error for the net layer */
    unsigned busy;          /* nesting of our own entry points: never free while > 0 */
    unsigned writes_out;    /* ops->write calls whose done has not run */
    struct isc_rx rx;
    struct isc_session *sess;

    /* Sequence numbers of this connection (RFC 7143 4.2.2.2). */
    uint32_t stat_sn, exp_stat_sn;
    uint16_t cid;
    bool tx_hdigest, tx_ddigest; /* digests on PDUs we send */

    /* Login (isc_login.c). */
    uint64_t created_ms;
    int login_csg;              /* current stage: 0 security, 1 operational */
    bool login_first_done;      /* the first login request was accepted (ISID/TSIH/names fixed) */
    bool login_sent_first_rsp;
    bool login_auth_done;
    bool chap_selected;         /* AuthMethod=CHAP agreed; login_auth_done once isc_chap_step() says DONE */
    struct isc_chap chap;
    uint32_t login_itt;
    struct isc_text login_acc;  /* request text accumulated across C-bit PDUs */
    struct isc_key_seen seen;

    /* Text (isc_text.c): a request accumulating over C-bit PDUs, a response being sent in pieces. */
    struct isc_text text_req;
    uint32_t text_req_itt;
    struct isc_text text_rsp;
    size_t text_rsp_off;
    uint32_t text_itt, text_ttt;
    bool text_busy;

    /* NOP-In pings of an idle initiator (RFC 7143 11.19). */
    uint64_t last_rx_ms;
    uint64_t ping_sent_ms;
    uint32_t ping_ttt;          /* ISC_RSVD_TAG: no ping outstanding */
    uint32_t next_ping_ttt;

    struct isc_tx *tx_free;
};

/* isc_conn.c */
void isc__conn_hold(struct isc_conn *c);
void isc__conn_put(struct isc_conn *c);
/* Drop the connection: end its session and ask the net layer to close the socket (after flushing queued
 * writes when flush). Safe to call more than once. */
void isc__conn_drop(struct isc_conn *c, bool flush);
/* Fill StatSN/ExpCmdSN/MaxCmdSN (bytes 24..35, common to every target PDU that carries them); advance StatSN
 * when the PDU is a status-carrying one (RFC 7143 4.2.2.2). */
void isc__conn_stamp(struct isc_conn *c, uint8_t *bhs, bool advance_statsn);
/* Queue a control PDU: bhs is copied, data (len bytes) is copied. Digests are added as negotiated. Returns 0
 * or -errno (the connection is then being dropped). */
int isc__conn_send(struct isc_conn *c, const uint8_t *bhs, const void *data, size_t len);
/* Queue a Reject (RFC 7143 11.17) carrying the offending BHS. */
int isc__conn_reject(struct isc_conn *c, const uint8_t *bhs, uint8_t reason);
/* Queue an ops->write; accounts writes_out. Returns 0 or -errno (the connection is then dropped). */
int isc__conn_write(struct isc_conn *c, const struct isc_iov *iov, unsigned n, void (*done)(void *, int),
                    void *arg);
void isc__conn_write_done(struct isc_conn *c);
uint32_t isc__pdu_digest(const void *a, size_t alen, const void *b, size_t blen);
void isc__conn_tick(struct isc_conn *c, uint64_t now);
void isc__conn_async_logout(struct isc_conn *c);
void isc__conn_dispatch_ffp(struct isc_conn *c, const struct isc_pdu *pdu);

/* isc_login.c */
/* One Login Request PDU. Returns 0, or -errno when the connection was dropped. */
int isc__login_pdu(struct isc_conn *c, const struct isc_pdu *pdu);

/* isc_text.c */
void isc__text_pdu(struct isc_conn *c, const uint8_t *bhs, const uint8_t *data, size_t len);
/* Build the SendTargets answer for `what` ("All", an iqn, or "" for the session's target). */
int isc__send_targets(struct isc_conn *c, const char *what, struct isc_text *out);

/* ---- session ---------------------------------------------------------------------------------------------- */

/* A PDU that arrived ahead of its CmdSN and waits for the gap to fill (RFC 7143 4.2.2.1). SCSI commands wait
 * as their task; other PDUs as a copy. A `phantom` entry stands for a CmdSN that ABORT TASK declared received
 * (RFC 7143 11.5.1 b). */
struct isc_held {
    struct isc_held *next;
    uint32_t cmdsn;
    struct isc_task *task;       /* SCSI command, or NULL */
    bool phantom;
    uint8_t bhs[ISC_BHS_LEN];
    uint8_t *data;
    size_t len;
};

enum isc_task_state {
    ISC_TASK_FREE = 0,
    ISC_TASK_DATA,        /* collecting Data-Out, or waiting for its CmdSN */
    ISC_TASK_TARGET,      /* submitted: cmd lent to the target until done() */
    ISC_TASK_TX,          /* Data-In/response queued; waiting for the write to finish */
};

struct isc_r2t {
    uint32_t ttt, offset, len;
};

/* One SCSI command. Allocated once per pool slot and reused; buffers from the server's size classes. */
struct isc_task {
    struct tgt_cmd cmd;
    struct isc_session *sess;
    struct isc_task *hnext;            /* ITT hash chain */
    struct isc_task *fnext;            /* free list */
    struct isc_task *anext, *aprev;    /* session's list of tasks not free */
    struct isc_held held;
    enum isc_task_state state;
    uint16_t index;                    /* pool slot; low 16 bits of every TTT of this task */
    uint16_t r2tsn_base;
    uint32_t itt, cmdsn, edtl;
    uint64_t lun_field;
    bool immediate, ordered, counted, read, write, tmf_wait, in_hash, has_buf;
    unsigned buf_cls;
    uint8_t iscsi_response;            /* non-zero: answer with this iSCSI Response and no SCSI status */
    /* Data-Out state (RFC 7143 10.7, DataPDUInOrder=Yes and DataSequenceInOrder=Yes). */
    uint32_t dout_have;                /* bytes received, always a prefix of the buffer */
    uint32_t unsol_end;                /* end of the unsolicited range (immediate + unsolicited Data-Out) */
    bool unsol_open;                   /* unsolicited Data-Out still expected (F=0 on the command) */
    uint32_t exp_datasn;               /* DataSN expected in the current sequence */
    uint32_t r2t_next;                 /* first byte not yet solicited */
    uint32_t r2tsn;                    /* R2TSN of the next R2T */
    struct isc_r2t r2t[ISC_MAX_R2T];   /* outstanding R2Ts, oldest first */
    unsigned n_r2t;
    /* Data-In transmission: per-PDU header slots and the iovec, grown once and kept with the slot. */
    uint8_t *slots;
    unsigned slots_cap;
    struct isc_iov *iov;
    unsigned iov_cap;
    uint32_t datasn_sent;
};

struct isc_session {
    struct isc_server *srv;
    struct isc_conn *conn;
    char *iname;
    uint8_t isid[6];
    uint16_t tsih;
    uint16_t tpgt;
    struct isc_target *target;         /* NULL for Discovery */
    bool discovery;
    bool registered;                   /* on the server's session list (conn on srv->conns + sess->tsih) */
    bool ended;                        /* nexus logged out */
    struct tgt_nexus *nexus;
    struct isc_params params;

    uint32_t exp_cmdsn, max_cmdsn;
    unsigned active;                   /* in-order commands not answered yet (hold window slots) */
    struct isc_held *held;             /* sorted by CmdSN */

    struct isc_task *itt_hash[ISC_ITT_BUCKETS];
    struct isc_task **pool;            /* every task ever allocated, by index */
    unsigned pool_n, pool_cap;
    struct isc_task *task_free;
    struct isc_task *tasks;            /* not free */
    unsigned in_target;                /* tasks lent to the target */
    unsigned n_tasks;

    /* One task management function at a time waits for the tasks it terminated (RFC 7143 11.6). */
    bool tmf_active;
    uint8_t tmf_bhs[ISC_BHS_LEN];
    uint8_t tmf_response;
    unsigned tmf_waiting;
    bool tmf_cold;
};

struct isc_session *isc__session_new(struct isc_conn *c);
void isc__session_free(struct isc_session *s);
/* The session ends: nexus logout, transport-held tasks freed. Target-held ones finish later. */
void isc__session_end(struct isc_session *s);
void isc__session_update_window(struct isc_session *s);
bool isc__cmdsn_in_window(const struct isc_session *s, uint32_t cmdsn);
/* A command-type PDU (carries CmdSN) arrived in full feature phase: order it (RFC 7143 4.2.2.1). */
void isc__session_command(struct isc_session *s, const struct isc_pdu *pdu);
/* Mark CmdSN received without a PDU (ABORT TASK of an unreceived command). */
void isc__session_phantom(struct isc_session *s, uint32_t cmdsn);
/* Execute a non-SCSI command PDU whose CmdSN came up (or that is immediate): NOP-Out, Text, Logout, TMF. */
void isc__session_exec(struct isc_session *s, const struct isc_pdu *pdu);
struct isc_task *isc__task_get(struct isc_session *s);
void isc__task_put(struct isc_task *t);
struct isc_task *isc__task_by_itt(struct isc_session *s, uint32_t itt);
struct isc_task *isc__task_by_ttt(struct isc_session *s, uint32_t ttt);
void isc__task_hash_add(struct isc_task *t);
void isc__task_hash_del(struct isc_task *t);
/* An in-order command's slot of the window is given back (MaxCmdSN may advance, RFC 7143 4.2.2.1). */
void isc__task_uncount(struct isc_task *t);

/* isc_scsi.c */
/* A SCSI Command PDU. ordered: its CmdSN is in sequence (or it is immediate); else it waits as `held`. */
void isc__scsi_cmd(struct isc_session *s, const struct isc_pdu *pdu, bool ordered);
/* The held command's CmdSN came up. */
void isc__scsi_ordered(struct isc_task *t);
void isc__scsi_data_out(struct isc_session *s, const struct isc_pdu *pdu);
/* Abort a task the target does not hold (collecting data / waiting for CmdSN). */
void isc__scsi_abort_local(struct isc_task *t);
/* Abort an in-order task still collecting Data-Out and answer it with TASK ABORTED status (TAS=1). */
void isc__scsi_abort_tas(struct isc_task *t);

/* isc_tmf.c */
void isc__tmf_pdu(struct isc_session *s, const uint8_t *bhs);
/* A task the TMF waited for is gone. */
void isc__tmf_task_gone(struct isc_session *s);
/* The tgt_server_set_held_abort() hook (ctx: the struct isc_target): end the tasks of nexus itn for lun that
 * only the transport holds. Returns how many ended. */
unsigned isc__tmf_held_abort(void *ctx, uint32_t itn, uint64_t lun, bool tas);

#endif
