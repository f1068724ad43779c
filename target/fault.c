/* Operator hooks of the device server: fault injection, the event sink, and read-only views for the control
 * socket (app/prt_control.c).
 *
 * Everything here runs on the loop thread. The state lives in struct tgt_hooks, embedded in struct tgt_server,
 * so arming a fault allocates nothing and the per-command cost when nothing is armed is one flag test.
 *
 * Fault injection exists so that initiator software can be tested against failures real devices produce:
 * "next" rules answer the next N matching commands with a chosen status or sense, a delay stalls a LU, a
 * power loss clears everything that does not persist, and a lost reservation puts a LU into the state that
 * REPLACE LOST RESERVATION (SPC-5 5.14.11) recovers from.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "target/tgt_internal.h"

/* ---- events ---------------------------------------------------------------------------------------------- */

void tgt_server_set_event_sink(struct tgt_server *srv, void (*fn)(void *ctx, const struct tgt_event *ev),
                               void *ctx)
{
    srv->hooks.ev_fn = fn;
    srv->hooks.ev_ctx = fn ? ctx : NULL;
}

/* The sense key and additional sense code of cmd's sense data, whichever format it was built in (SPC-4 4.5.2
 * descriptor format 72h/73h, 4.5.3 fixed format 70h/71h). */
static void fault__sense_codes(const struct tgt_cmd *cmd, uint8_t *key, uint8_t *asc, uint8_t *ascq)
{
    const uint8_t *s = cmd->sense;
    uint8_t code = cmd->sense_len ? (uint8_t)(s[0] & 0x7f) : 0;

    *key = *asc = *ascq = 0;
    if ((code == 0x72 || code == 0x73) && cmd->sense_len >= 4) {
        *key = s[1] & 0x0f;
        *asc = s[2];
        *ascq = s[3];
    } else if ((code == 0x70 || code == 0x71) && cmd->sense_len >= 14) {
        *key = s[2] & 0x0f;
        *asc = s[12];
        *ascq = s[13];
    }
}

void tgt__event_pr_out(struct tgt_cmd *cmd, const struct pr_out_req *req, enum pr_status st)
{
    struct tgt_server *srv = cmd->lu->srv;
    struct tgt_event ev;

    if (!srv->hooks.ev_fn)
        return;
    memset(&ev, 0, sizeof ev);
    ev.kind = TGT_EVENT_PR_OUT;
    ev.lun = cmd->lu->lun;
    ev.itn = tgt_cmd_itn(cmd);
    /* The CDB is authoritative for what was asked, even when the parameter list could not be decoded. */
    ev.sa = cmd->cdb[1] & 0x1f;
    ev.scope = cmd->cdb[2] >> 4;
    ev.type = cmd->cdb[2] & 0x0f;
    if (req) {
        ev.key = req->key;
        ev.sa_key = req->sa_key;
        ev.aptpl = req->aptpl;
    }
    ev.pr_status = (int)st;
    ev.status = cmd->status;
    if (cmd->status == TGT_STATUS_CHECK_CONDITION)
        fault__sense_codes(cmd, &ev.sense_key, &ev.asc, &ev.ascq);
    ev.generation = pr_state_generation(cmd->lu->pr);
    srv->hooks.ev_fn(srv->hooks.ev_ctx, &ev);
}

void tgt__event_ua(struct tgt_lu *lu, uint32_t itn, uint8_t asc, uint8_t ascq, bool reported)
{
    struct tgt_server *srv = lu->srv;
    struct tgt_event ev;

    if (!srv->hooks.ev_fn)
        return;
    memset(&ev, 0, sizeof ev);
    ev.kind = reported ? TGT_EVENT_UA_REPORTED : TGT_EVENT_UA_RAISED;
    ev.lun = lu->lun;
    ev.itn = itn;
    ev.sense_key = TGT_SK_UNIT_ATTENTION;
    ev.asc = asc;
    ev.ascq = ascq;
    ev.generation = lu->pr ? pr_state_generation(lu->pr) : 0;
    srv->hooks.ev_fn(srv->hooks.ev_ctx, &ev);
}

/* ---- fault rules -------------------------------------------------------------------------------------------- */

static void fault__rearm(struct tgt_hooks *h)
{
    h->armed = h->n_next > 0 || h->n_delay > 0;
}

/* The status codes SAM-5 5.3.1 defines; anything else would confuse an initiator for reasons that have
 * nothing to do with the fault being tested. */
static bool fault__status_ok(uint8_t s)
{
    switch (s) {
    case TGT_STATUS_GOOD:
    case TGT_STATUS_CHECK_CONDITION:
    case TGT_STATUS_CONDITION_MET:
    case TGT_STATUS_BUSY:
    case TGT_STATUS_RESERVATION_CONFLICT:
    case TGT_STATUS_TASK_SET_FULL:
    case TGT_STATUS_ACA_ACTIVE:
    case TGT_STATUS_TASK_ABORTED:
        return true;
    default:
        return false;
    }
}

int tgt_fault_add_next(struct tgt_server *srv, const struct tgt_fault_next *f)
{
    struct tgt_hooks *h = &srv->hooks;
    struct tgt_fault_next r = *f;

    if (f->lun >= srv->n_lus)
        return -ENOENT;
    if (f->count == 0 || f->opcode < TGT_FAULT_ANY_OPCODE || f->opcode > 0xff)
        return -EINVAL;
    if (f->has_sense) {
        /* SPC-4 4.5.6: sense keys are four bits. */
        if (f->sense_key > 0x0f)
            return -EINVAL;
        r.status = TGT_STATUS_CHECK_CONDITION;
    } else if (!fault__status_ok(f->status) || f->status == TGT_STATUS_CHECK_CONDITION) {
        /* SAM-5 5.3.1: CHECK CONDITION always carries sense data, so it needs --sense. */
        return -EINVAL;
    }
    if (h->n_next == TGT_FAULT_MAX)
        return -ENOSPC;
    h->next[h->n_next++] = r;
    fault__rearm(h);
    return 0;
}

int tgt_fault_set_delay(struct tgt_server *srv, uint64_t lun, uint32_t ms)
{
    struct tgt_hooks *h = &srv->hooks;

    if (lun >= srv->n_lus)
        return -ENOENT;
    for (unsigned i = 0; i < h->n_delay; i++) {
        if (h->delay[i].lun != lun)
            continue;
        if (ms) {
            h->delay[i].ms = ms;
        } else {
            h->delay[i] = h->delay[--h->n_delay];
        }
        fault__rearm(h);
        return 0;
    }
    if (!ms)
        return 0;
    if (h->n_delay == TGT_FAULT_MAX)
        return -ENOSPC;
    h->delay[h->n_delay].lun = lun;
    h->delay[h->n_delay].ms = ms;
    h->n_delay++;
    fault__rearm(h);
    return 0;
}

unsigned tgt_fault_list(const struct tgt_server *srv, struct tgt_fault_next *out, unsigned cap)
{
    const struct tgt_hooks *h = &srv->hooks;

    for (unsigned i = 0; i < h->n_next && i < cap; i++)
        out[i] = h->next[i];
    return h->n_next;
}

uint32_t tgt_fault_delay(const struct tgt_server *srv, uint64_t lun)
{
    for (unsigned i = 0; i < srv->hooks.n_delay; i++)
        if (srv->hooks.delay[i].lun == lun)
            return srv->hooks.delay[i].ms;
    return 0;
}

void tgt_fault_clear(struct tgt_server *srv)
{
    srv->hooks.n_next = 0;
    srv->hooks.n_delay = 0;
    fault__rearm(&srv->hooks);
}

/* The delay runs on a worker thread so that the loop keeps serving every other LU and nexus meanwhile; the
 * milliseconds travel in cmd->info, which no handler has used yet at this point. */
static void fault__delay_work(struct tgt_work *w)
{
    struct tgt_cmd *cmd = tgt__cmd_of_work(w);
    struct timespec ts = { .tv_sec = (time_t)(cmd->info / 1000), .tv_nsec = (long)(cmd->info % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void fault__delay_done(struct tgt_work *w)
{
    struct tgt_cmd *cmd = tgt__cmd_of_work(w);
    const struct tgt_cmd_row *row = cmd->row;

    if (tgt__work_finished(cmd))
        return;
    cmd->info = 0;
    if (row->fn(cmd) == TGT_DONE)
        tgt_cmd_complete(cmd);
}

bool tgt__fault_intercept(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    struct tgt_hooks *h;

    if (!lu || !lu->srv->hooks.armed)
        return false;
    h = &lu->srv->hooks;
    for (unsigned i = 0; i < h->n_next; i++) {
        struct tgt_fault_next *r = &h->next[i];

        if (r->lun != lu->lun || (r->opcode != TGT_FAULT_ANY_OPCODE && r->opcode != cmd->cdb[0]))
            continue;
        if (r->has_sense) {
            tgt_set_sense(cmd, r->sense_key, r->asc, r->ascq);
        } else {
            tgt_set_good(cmd);
            cmd->status = r->status;
        }
        if (--r->count == 0) {
            memmove(r, r + 1, (h->n_next - i - 1) * sizeof *r);
            h->n_next--;
            fault__rearm(h);
        }
        tgt_cmd_complete(cmd);
        return true;
    }
    for (unsigned i = 0; i < h->n_delay; i++) {
        if (h->delay[i].lun != lu->lun)
            continue;
        cmd->info = h->delay[i].ms;
        cmd->work.work = fault__delay_work;
        cmd->work.done = fault__delay_done;
        if (tgt__queue_work(cmd) == TGT_DONE)
            tgt_cmd_complete(cmd); /* the executor refused the work: internal error already set */
        return true;
    }
    return false;
}

/* ---- power loss, lost reservation ---------------------------------------------------------------------------- */

static void fault__power_cycle_lu(struct tgt_lu *lu)
{
    struct tgt_cmd *c = lu->ts_head;
    uint32_t n = pr_itn_count(lu->srv->itn_tab);

    /* SAM-5 6.3.1: a power on clears every task of every nexus; nobody is left to receive a response, so
     * they end without one. */
    while (c) {
        struct tgt_cmd *next = c->ts_next;

        tgt__task_abort(c, false);
        c = next;
    }
    /* SPC-4 5.13.4: registrations and the persistent reservation survive a power loss only when Activate
     * Persist Through Power Loss was in effect; an SPC-2 reservation never does (SPC-2 5.5.1); PRgeneration
     * restarts at zero (SPC-4 6.15.2). prstate applies all three. */
    pr_state_power_on(lu->pr);
    /* SAM-5 6.3.1: mode parameters return to their saved values, which here are the defaults. */
    tgt__mode_defaults(&lu->mode);
    /* SPC-4 6.13: a power on ends every PREVENT MEDIUM REMOVAL (media.c). */
    tgt__media_lu_reset(lu);
    /* SAM-5 6.3.1: POWER ON OCCURRED replaces whatever was pending; every nexus must see it first. */
    for (uint32_t itn = 0; itn < n; itn++) {
        tgt__ua_clear(lu, itn);
        tgt_ua_raise(lu, itn, 0x29, 0x01);
    }
}

int tgt_fault_power_loss(struct tgt_server *srv, int64_t lun)
{
    if (lun >= 0 && (uint64_t)lun >= srv->n_lus)
        return -ENOENT;
    for (unsigned i = 0; i < srv->n_lus; i++)
        if (lun < 0 || (uint64_t)lun == i)
            fault__power_cycle_lu(srv->lus[i]);
    return 0;
}

int tgt_fault_lost_reservation(struct tgt_server *srv, uint64_t lun)
{
    if (lun >= srv->n_lus)
        return -ENOENT;
    /* SPC-5 5.14.11: the registrations and the reservation are gone, and commands that need them fail with
     * PERSISTENT RESERVATION INFORMATION LOST until a REPLACE LOST RESERVATION succeeds (prstate decides). */
    pr_state_set_lost(srv->lus[lun]->pr);
    return 0;
}

/* ---- read-only views ----------------------------------------------------------------------------------------- */

int tgt_server_lu_info(struct tgt_server *srv, uint64_t lun, struct tgt_lu_info *out)
{
    struct tgt_lu *lu;

    if (lun >= srv->n_lus)
        return -ENOENT;
    lu = srv->lus[lun];
    memset(out, 0, sizeof *out);
    out->lun = lu->lun;
    out->backend = lu->path ? "file" : "mem";
    out->path = lu->path;
    out->size = lu->size;
    out->block_size = lu->block_size;
    out->read_only = lu->read_only;
    out->vendor = lu->vendor;
    out->product = lu->product;
    out->serial = lu->serial;
    memcpy(out->naa, lu->naa, sizeof out->naa);
    return 0;
}

unsigned tgt_lu_pending_ua(struct tgt_server *srv, uint64_t lun, uint32_t itn, uint8_t (*out)[2], unsigned cap)
{
    const struct tgt_ua_q *q;

    if (lun >= srv->n_lus || itn == PR_ITN_NONE || itn >= srv->lus[lun]->ua_cap)
        return 0;
    q = &srv->lus[lun]->ua[itn];
    for (unsigned i = 0; i < q->n && i < cap; i++) {
        out[i][0] = q->e[i].asc;
        out[i][1] = q->e[i].ascq;
    }
    return q->n;
}

bool tgt_server_itn_logged_in(const struct tgt_server *srv, uint32_t itn)
{
    return itn < srv->nexus_cap && srv->nexus[itn] && srv->nexus[itn]->logged_in;
}

struct pr_state *tgt_lu_pr_state(struct tgt_server *srv, uint64_t lun)
{
    return lun < srv->n_lus ? srv->lus[lun]->pr : NULL;
}
