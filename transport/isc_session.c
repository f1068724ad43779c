/* The iSCSI session: command numbering (CmdSN window and in-order delivery), the task pool, ITT/TTT lookup and
 * the session's end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transport/isc_internal.h"

struct isc_session *isc__session_new(struct isc_conn *c)
{
    struct isc_session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->srv = c->srv;
    s->conn = c;
    s->tpgt = c->tpgt;
    isc_params_defaults(&s->params);
    s->params.max_recv_dsl = c->srv->limits.max_recv_dsl;
    return s;
}

void isc__session_end(struct isc_session *s)
{
    if (s->ended)
        return;
    s->ended = true;
    s->registered = false;
    /* Tasks the target does not hold yet die with the session (RFC 7143 6.3.4: at ErrorRecoveryLevel 0 a
     * failed connection fails the session and its tasks). */
    while (s->held) {
        struct isc_held *h = s->held;
        s->held = h->next;
        if (!h->task) {
            free(h->data);
            free(h);
        }
    }
    struct isc_task *t = s->tasks;
    while (t) {
        struct isc_task *next = t->anext;
        if (t->state == ISC_TASK_DATA)
            isc__task_put(t);
        t = next;
    }
    if (s->nexus) {
        tgt_nexus_logout(s->nexus);
        s->nexus = NULL;
    }
    s->tmf_active = false;
}

void isc__session_free(struct isc_session *s)
{
    isc__session_end(s);
    /* Tasks still marked busy here are those whose write never completed; the connection is only freed when
     * every write has finished, so all of them are back on the free list by now. */
    for (unsigned i = 0; i < s->pool_n; i++) {
        struct isc_task *t = s->pool[i];
        if (t->has_buf)
            isc__buf_put(s->srv, t->cmd.buf, t->buf_cls);
        free(t->slots);
        free(t->iov);
        free(t);
    }
    free(s->pool);
    free(s->iname);
    free(s);
}

/* ---- CmdSN window (RFC 7143 4.2.2.1) ---------------------------------------------------------------------- */

void isc__session_update_window(struct isc_session *s)
{
    /* The window holds the commands not received yet; commands received and not answered keep their slot.
     * MaxCmdSN never moves backwards (RFC 7143 4.2.2.1). */
    uint32_t room = s->active >= ISC_QUEUE_DEPTH ? 0 : ISC_QUEUE_DEPTH - s->active;
    uint32_t m = s->exp_cmdsn + room - 1;
    if ((int32_t)(m - s->max_cmdsn) > 0)
        s->max_cmdsn = m;
}

bool isc__cmdsn_in_window(const struct isc_session *s, uint32_t cmdsn)
{
    return (int32_t)(cmdsn - s->exp_cmdsn) >= 0 && (int32_t)(s->max_cmdsn - cmdsn) >= 0;
}

static void isc__held_insert(struct isc_session *s, struct isc_held *h)
{
    struct isc_held **pp = &s->held;
    while (*pp && (int32_t)((*pp)->cmdsn - h->cmdsn) < 0)
        pp = &(*pp)->next;
    h->next = *pp;
    *pp = h;
}

static bool isc__held_has(const struct isc_session *s, uint32_t cmdsn)
{
    for (const struct isc_held *h = s->held; h; h = h->next)
        if (h->cmdsn == cmdsn)
            return true;
    return false;
}

/* Deliver the held PDUs whose turn has come. */
static void isc__session_drain(struct isc_session *s)
{
    while (s->held && s->held->cmdsn == s->exp_cmdsn && !s->ended) {
        struct isc_held *h = s->held;
        s->held = h->next;
        s->exp_cmdsn++;
        if (h->phantom) {
            free(h);
        } else if (h->task) {
            isc__scsi_ordered(h->task);
        } else {
            struct isc_pdu pdu = {.data = h->data, .data_len = (uint32_t)h->len};
            memcpy(pdu.bhs, h->bhs, ISC_BHS_LEN);
            isc__session_exec(s, &pdu);
            free(h->data);
            free(h);
        }
    }
}

void isc__session_phantom(struct isc_session *s, uint32_t cmdsn)
{
    if (isc__held_has(s, cmdsn) || !isc__cmdsn_in_window(s, cmdsn))
        return;
    if (cmdsn == s->exp_cmdsn) {
        s->exp_cmdsn++;
        isc__session_drain(s);
        return;
    }
    struct isc_held *h = calloc(1, sizeof(*h));
    if (!h)
        return;
    h->cmdsn = cmdsn;
    h->phantom = true;
    isc__held_insert(s, h);
}

void isc__session_command(struct isc_session *s, const struct isc_pdu *pdu)
{
    struct isc_conn *c = s->conn;
    const uint8_t *bhs = pdu->bhs;
    uint8_t op = isc_bhs_opcode(bhs);
    uint32_t cmdsn = prt_get_be32(bhs + 24);
    bool immediate = isc_bhs_immediate(bhs);

    if (s->discovery && op != ISC_OP_TEXT_REQ && op != ISC_OP_LOGOUT_REQ && op != ISC_OP_NOP_OUT) {
        /* RFC 7143 4.3: a discovery session carries only Text, Logout and NOP. The command still uses up its
         * CmdSN so that the session does not stall behind it. */
        if (!immediate && cmdsn == s->exp_cmdsn) {
            s->exp_cmdsn++;
            isc__session_drain(s);
        }
        isc__conn_reject(c, bhs, ISC_REJECT_PROTOCOL_ERROR);
        return;
    }
    if (immediate) {
        /* RFC 7143 3.2.2.1: an immediate command is delivered at once and does not advance ExpCmdSN. */
        if (op == ISC_OP_SCSI_CMD)
            isc__scsi_cmd(s, pdu, true);
        else
            isc__session_exec(s, pdu);
        return;
    }
    isc__session_update_window(s);
    if (!isc__cmdsn_in_window(s, cmdsn) || isc__held_has(s, cmdsn)) {
        /* RFC 7143 4.2.2.1: a non-immediate command outside [ExpCmdSN, MaxCmdSN] is silently ignored. */
        return;
    }
    if (cmdsn != s->exp_cmdsn) {
        if (op == ISC_OP_SCSI_CMD) {
            isc__scsi_cmd(s, pdu, false);
            return;
        }
        struct isc_held *h = calloc(1, sizeof(*h));
        if (!h) {
            isc__conn_drop(c, false);
            return;
        }
        h->cmdsn = cmdsn;
        memcpy(h->bhs, bhs, ISC_BHS_LEN);
        if (pdu->data_len) {
            h->data = malloc(pdu->data_len);
            if (!h->data) {
                free(h);
                isc__conn_drop(c, false);
                return;
            }
            memcpy(h->data, pdu->data, pdu->data_len);
            h->len = pdu->data_len;
        }
        isc__held_insert(s, h);
        return;
    }
    s->exp_cmdsn++;
    if (op == ISC_OP_SCSI_CMD)
        isc__scsi_cmd(s, pdu, true);
    else
        isc__session_exec(s, pdu);
    isc__session_drain(s);
}

/* ---- tasks -------------------------------------------------------------------------------------------------- */

struct isc_task *isc__task_get(struct isc_session *s)
{
    struct isc_task *t = s->task_free;
    if (t) {
        s->task_free = t->fnext;
    } else {
        if (s->pool_n >= ISC_TASK_HARD_MAX)
            return NULL;
        if (s->pool_n == s->pool_cap) {
            unsigned ncap = s->pool_cap ? s->pool_cap * 2 : 32;
            struct isc_task **np = realloc(s->pool, ncap * sizeof(*np));
            if (!np)
                return NULL;
            s->pool = np;
            s->pool_cap = ncap;
        }
        t = calloc(1, sizeof(*t));
        if (!t)
            return NULL;
        t->sess = s;
        t->index = (uint16_t)s->pool_n;
        s->pool[s->pool_n++] = t;
    }
    t->fnext = NULL;
    t->anext = s->tasks;
    t->aprev = NULL;
    if (s->tasks)
        s->tasks->aprev = t;
    s->tasks = t;
    s->n_tasks++;
    t->state = ISC_TASK_DATA;
    t->ordered = t->counted = t->immediate = t->tmf_wait = false;
    t->iscsi_response = 0;
    t->n_r2t = 0;
    t->dout_have = t->unsol_end = t->exp_datasn = t->r2t_next = t->r2tsn = 0;
    t->unsol_open = false;
    t->datasn_sent = 0;
    t->r2tsn_base++;
    memset(&t->held, 0, sizeof(t->held));
    return t;
}

void isc__task_uncount(struct isc_task *t)
{
    if (t->counted) {
        t->counted = false;
        t->sess->active--;
    }
}

void isc__task_put(struct isc_task *t)
{
    struct isc_session *s = t->sess;
    if (t->state == ISC_TASK_FREE)
        return;
    isc__task_uncount(t);
    if (t->in_hash)
        isc__task_hash_del(t);
    if (t->held.task) {
        /* Still waiting for its CmdSN: take it off the ordering list. */
        struct isc_held **pp = &s->held;
        while (*pp && *pp != &t->held)
            pp = &(*pp)->next;
        if (*pp)
            *pp = t->held.next;
        t->held.task = NULL;
    }
    if (t->aprev)
        t->aprev->anext = t->anext;
    else
        s->tasks = t->anext;
    if (t->anext)
        t->anext->aprev = t->aprev;
    t->anext = t->aprev = NULL;
    s->n_tasks--;
    if (t->has_buf && t->buf_cls > 1) {
        /* Large buffers go back to the server so that one big command does not pin memory in every slot. */
        isc__buf_put(s->srv, t->cmd.buf, t->buf_cls);
        t->has_buf = false;
        t->cmd.buf = NULL;
        t->cmd.buf_cap = 0;
    }
    bool waited = t->tmf_wait;
    t->tmf_wait = false;
    t->state = ISC_TASK_FREE;
    t->fnext = s->task_free;
    s->task_free = t;
    if (waited)
        isc__tmf_task_gone(s);
}

static unsigned isc__itt_bucket(uint32_t itt)
{
    return (itt ^ (itt >> 8) ^ (itt >> 16)) & (ISC_ITT_BUCKETS - 1);
}

void isc__task_hash_add(struct isc_task *t)
{
    unsigned b = isc__itt_bucket(t->itt);
    t->hnext = t->sess->itt_hash[b];
    t->sess->itt_hash[b] = t;
    t->in_hash = true;
}

void isc__task_hash_del(struct isc_task *t)
{
    struct isc_task **pp = &t->sess->itt_hash[isc__itt_bucket(t->itt)];
    while (*pp && *pp != t)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = t->hnext;
    t->in_hash = false;
}

struct isc_task *isc__task_by_itt(struct isc_session *s, uint32_t itt)
{
    for (struct isc_task *t = s->itt_hash[isc__itt_bucket(itt)]; t; t = t->hnext)
        if (t->itt == itt)
            return t;
    return NULL;
}

struct isc_task *isc__task_by_ttt(struct isc_session *s, uint32_t ttt)
{
    uint32_t idx = ttt & 0xffff;
    if (idx >= s->pool_n)
        return NULL;
    struct isc_task *t = s->pool[idx];
    return t->state == ISC_TASK_DATA ? t : NULL;
}
