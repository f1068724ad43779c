/* Task Management Function Request / Response (RFC 7143 11.5, 11.6). The device server does the SAM-5 work
 * (tgt_tmf); the transport aborts what only it holds (tasks still collecting Data-Out or waiting for their CmdSN)
 * and answers only after every task of this session the function terminated is gone (RFC 7143 11.6; SAM-5 7.1:
 * a task management function completes once the tasks it affects are terminated). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transport/isc_internal.h"

/* TMF function codes (RFC 7143 11.5.1) and responses (11.6.1). */
enum {
    ISC_TMF_ABORT_TASK = 1,
    ISC_TMF_ABORT_TASK_SET = 2,
    ISC_TMF_CLEAR_ACA = 3,
    ISC_TMF_CLEAR_TASK_SET = 4,
    ISC_TMF_LUN_RESET = 5,
    ISC_TMF_TARGET_WARM_RESET = 6,
    ISC_TMF_TARGET_COLD_RESET = 7,
    ISC_TMF_TASK_REASSIGN = 8,
};
enum {
    ISC_TMF_RSP_COMPLETE = 0,
    ISC_TMF_RSP_NO_TASK = 1,
    ISC_TMF_RSP_NO_LUN = 2,
    ISC_TMF_RSP_REASSIGN_UNSUPPORTED = 4,
    ISC_TMF_RSP_NOT_SUPPORTED = 5,
    ISC_TMF_RSP_REJECTED = 255,
};

static void isc__tmf_respond(struct isc_session *s, const uint8_t *req, uint8_t response, bool cold)
{
    struct isc_conn *c = s->conn;
    uint8_t r[ISC_BHS_LEN];
    isc_bhs_init(r, ISC_OP_TMF_RSP, ISC_FLAG_FINAL);
    isc_bhs_set_response(r, response);
    isc_bhs_set_itt(r, isc_bhs_itt(req));
    isc__conn_stamp(c, r, true);
    isc__conn_send(c, r, NULL, 0);
    if (cold && response == ISC_TMF_RSP_COMPLETE) {
        /* RFC 7143 11.5.1: after a TARGET COLD RESET the target closes every connection, this one after the
         * response has been sent. The reset is of this SCSI target device only (SAM-5 6.3.2), so the sessions
         * of the other targets of a multi-target server stay. */
        struct isc_server *srv = s->srv;
        for (struct isc_conn *o = srv->conns; o; o = o->next)
            if (o != c && (o->target == c->target || srv->n_targets == 1))
                isc__conn_drop(o, false);
        isc__conn_drop(c, true);
    }
}

static uint8_t isc__tmf_map(enum tgt_tmf_result r)
{
    switch (r) {
    case TGT_TMF_COMPLETE:
    case TGT_TMF_SUCCEEDED:
        return ISC_TMF_RSP_COMPLETE;
    case TGT_TMF_TASK_NOT_FOUND:
        return ISC_TMF_RSP_NO_TASK;
    case TGT_TMF_LUN_NOT_FOUND:
        return ISC_TMF_RSP_NO_LUN;
    case TGT_TMF_NOT_SUPPORTED:
        return ISC_TMF_RSP_NOT_SUPPORTED;
    default:
        return ISC_TMF_RSP_REJECTED;
    }
}

/* Abort the tasks only the transport holds that the function covers (all LUNs when lun_field is NULL). */
static void isc__tmf_abort_local(struct isc_session *s, const uint64_t *lun_field)
{
    struct isc_task *t = s->tasks;
    while (t) {
        struct isc_task *next = t->anext;
        if (t->state == ISC_TASK_DATA && (!lun_field || t->lun_field == *lun_field)) {
            isc__scsi_abort_local(t);
            next = s->tasks; /* the list may have changed under us; restart (aborted ones are gone) */
        }
        t = next;
    }
}

unsigned isc__tmf_held_abort(void *ctx, uint32_t itn, uint64_t lun, bool tas)
{
    struct isc_target *tg = ctx;
    struct isc_server *srv = tg->srv;
    unsigned n = 0;

    /* SAM-5 5.6 / tgt.h: a write still collecting its Data-Out is in the task set although the target has not
     * seen it; PREEMPT AND ABORT, CLEAR TASK SET and the resets of another nexus end it like any other task. */
    for (struct isc_conn *c = srv->conns; c; c = c->next) {
        struct isc_session *s = c->sess;
        if (!s || s->discovery || s->ended || !s->nexus || s->target != tg || tgt_nexus_id(s->nexus) != itn)
            continue;
        isc__conn_hold(c);
        struct isc_task *t = s->tasks;
        while (t) {
            struct isc_task *next = t->anext;
            if (t->state == ISC_TASK_DATA && isc_lun_decode(t->lun_field) == lun) {
                /* A command still waiting for its CmdSN has not been received in order (RFC 7143 4.2.2.1);
                 * it ends silently and its CmdSN counts as received. */
                if (tas && t->ordered && c->state == ISC_CONN_FFP)
                    isc__scsi_abort_tas(t);
                else
                    isc__scsi_abort_local(t);
                n++;
                next = s->tasks; /* the list changed; ended tasks are no longer in DATA state */
            }
            t = next;
        }
        isc__conn_put(c);
    }
    return n;
}

static unsigned isc__tmf_mark_waiting(struct isc_session *s)
{
    unsigned n = 0;
    for (struct isc_task *t = s->tasks; t; t = t->anext) {
        if (((t->state == ISC_TASK_TARGET && t->cmd.aborted) ||
             (t->state == ISC_TASK_TX && t->cmd.aborted)) && !t->tmf_wait) {
            t->tmf_wait = true;
            n++;
        }
    }
    return n;
}

void isc__tmf_pdu(struct isc_session *s, const uint8_t *bhs)
{
    uint8_t fn = bhs[1] & 0x7f;
    uint64_t lun_field = isc_bhs_lun(bhs);
    uint64_t lun = isc_lun_decode(lun_field);
    uint32_t rtt = prt_get_be32(bhs + 20);
    uint32_t refcmdsn = prt_get_be32(bhs + ISC_BHS_OFF_REFCMDSN);
    uint32_t cmdsn = isc_bhs_cmdsn(bhs);
    uint8_t response;
    bool cold = false;

    if (s->tmf_active) {
        /* One function at a time: a second one while the first waits for its tasks is refused. */
        isc__tmf_respond(s, bhs, ISC_TMF_RSP_REJECTED, false);
        return;
    }
    switch (fn) {
    case ISC_TMF_ABORT_TASK: {
        struct isc_task *t = isc__task_by_itt(s, rtt);
        if (!t || t->state == ISC_TASK_TX) {
            /* RFC 7143 11.5.1 b/c: an unknown task whose RefCmdSN is inside the window and before this
             * function was never received: count it as received and report success. Otherwise the task
             * does not exist (or has already completed). */
            if (!t && isc__cmdsn_in_window(s, refcmdsn) && (int32_t)(refcmdsn - cmdsn) < 0) {
                isc__session_phantom(s, refcmdsn);
                response = ISC_TMF_RSP_COMPLETE;
            } else {
                response = ISC_TMF_RSP_NO_TASK;
            }
        } else if (t->state == ISC_TASK_DATA) {
            isc__scsi_abort_local(t);
            response = ISC_TMF_RSP_COMPLETE;
        } else {
            response = isc__tmf_map(tgt_tmf(s->target->tgt, s->nexus, TGT_TMF_ABORT_TASK, t->cmd.lun, &t->cmd));
        }
        break;
    }
    case ISC_TMF_ABORT_TASK_SET:
    case ISC_TMF_CLEAR_TASK_SET:
    case ISC_TMF_LUN_RESET:
    case ISC_TMF_CLEAR_ACA: {
        enum tgt_tmf f = fn == ISC_TMF_ABORT_TASK_SET   ? TGT_TMF_ABORT_TASK_SET
                         : fn == ISC_TMF_CLEAR_TASK_SET ? TGT_TMF_CLEAR_TASK_SET
                         : fn == ISC_TMF_LUN_RESET      ? TGT_TMF_LUN_RESET
                                                        : TGT_TMF_CLEAR_ACA;
        if (fn != ISC_TMF_CLEAR_ACA)
            isc__tmf_abort_local(s, &lun_field);
        response = isc__tmf_map(tgt_tmf(s->target->tgt, s->nexus, f, lun, NULL));
        break;
    }
    case ISC_TMF_TARGET_WARM_RESET:
    case ISC_TMF_TARGET_COLD_RESET:
        cold = fn == ISC_TMF_TARGET_COLD_RESET;
        isc__tmf_abort_local(s, NULL);
        response = isc__tmf_map(tgt_tmf(s->target->tgt, s->nexus,
                                        cold ? TGT_TMF_TARGET_COLD_RESET : TGT_TMF_TARGET_WARM_RESET, 0, NULL));
        break;
    case ISC_TMF_TASK_REASSIGN:
        /* RFC 7143 11.6.1: reassignment needs ErrorRecoveryLevel 2. */
        response = ISC_TMF_RSP_REASSIGN_UNSUPPORTED;
        break;
    default:
        response = ISC_TMF_RSP_NOT_SUPPORTED;
        break;
    }
    unsigned waiting = response == ISC_TMF_RSP_COMPLETE ? isc__tmf_mark_waiting(s) : 0;
    if (waiting) {
        s->tmf_active = true;
        memcpy(s->tmf_bhs, bhs, ISC_BHS_LEN);
        s->tmf_response = response;
        s->tmf_waiting = waiting;
        s->tmf_cold = cold;
        return;
    }
    isc__tmf_respond(s, bhs, response, cold);
}

void isc__tmf_task_gone(struct isc_session *s)
{
    if (!s->tmf_active || s->tmf_waiting == 0)
        return;
    if (--s->tmf_waiting)
        return;
    s->tmf_active = false;
    if (s->ended)
        return;
    isc__tmf_respond(s, s->tmf_bhs, s->tmf_response, s->tmf_cold);
}
