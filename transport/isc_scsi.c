/* SCSI Command, Data-Out, R2T, Data-In and SCSI Response (RFC 7143 11.3 - 11.8, 10.7, 10.8).
 *
 * Hot path rules: a task and its data buffer come from pools (no allocation per command once warm); Data-In is
 * sent straight from the memory the target points at (cmd->din[], possibly LU memory) with all PDUs of a
 * command in one vectored write whose headers live in the task until the write completes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transport/isc_internal.h"

static const uint8_t isc__zero_pad[4];

static void isc__scsi_done(struct tgt_cmd *cmd);

/* ---- responses without data ----------------------------------------------------------------------------------- */

/* A SCSI Response for a command that never became a task (no slot left): TASK SET FULL (SAM-5 5.3.1). */
static void isc__scsi_busy(struct isc_session *s, const uint8_t *bhs)
{
    uint8_t r[ISC_BHS_LEN];
    isc_bhs_init(r, ISC_OP_SCSI_RSP, ISC_FLAG_FINAL);
    isc_bhs_set_status(r, TGT_STATUS_TASK_SET_FULL);
    isc_bhs_set_itt(r, isc_bhs_itt(bhs));
    isc__conn_stamp(s->conn, r, true);
    isc__conn_send(s->conn, r, NULL, 0);
}

/* ---- command arrival -------------------------------------------------------------------------------------------- */

static unsigned isc__cdb_len(const uint8_t *cdb, unsigned avail)
{
    unsigned n;
    switch (cdb[0] >> 5) {
    case 0:
        n = 6;
        break;
    case 1:
    case 2:
        n = 10;
        break;
    case 3:
        /* SPC-4 4.2.3: variable length CDBs carry their additional length in byte 7. */
        n = cdb[0] == 0x7f ? 8u + cdb[7] : avail;
        break;
    case 4:
        n = 16;
        break;
    case 5:
        n = 12;
        break;
    default:
        n = avail;
        break;
    }
    return n > avail ? avail : n;
}

/* Copy the CDB, extended by an Extended-CDB AHS (RFC 7143 11.2.1.3, type 1). Returns its length or -EINVAL. */
static int isc__scsi_cdb(const struct isc_pdu *pdu, uint8_t *cdb)
{
    memcpy(cdb, isc_bhs_cdb(pdu->bhs), 16);
    unsigned avail = 16;
    uint32_t off = 0;
    while (off + 4 <= pdu->ahs_len) {
        const uint8_t *a = pdu->ahs + off;
        uint32_t alen = prt_get_be16(a);
        uint8_t type = a[2];
        uint32_t total = (4 + alen + 3) & ~3u;
        if (alen == 0 || off + 3 + alen > pdu->ahs_len)
            return -EINVAL;
        if (type == 1) {
            /* AHSLength counts the reserved byte before the extra CDB bytes. */
            uint32_t extra = alen - 1;
            if (avail != 16 || 16 + extra > TGT_CDB_MAX)
                return -EINVAL;
            memcpy(cdb + 16, a + 4, extra);
            avail += extra;
        } else if (type != 2) {
            return -EINVAL;
        }
        off += total;
    }
    return (int)isc__cdb_len(cdb, avail);
}

static void isc__scsi_start_r2t(struct isc_task *t);
static void isc__scsi_progress(struct isc_task *t);

static void isc__held_add(struct isc_session *s, struct isc_task *t)
{
    t->held.cmdsn = t->cmdsn;
    t->held.task = t;
    struct isc_held **pp = &s->held;
    while (*pp && (int32_t)((*pp)->cmdsn - t->cmdsn) < 0)
        pp = &(*pp)->next;
    t->held.next = *pp;
    *pp = &t->held;
}

void isc__scsi_cmd(struct isc_session *s, const struct isc_pdu *pdu, bool ordered)
{
    struct isc_conn *c = s->conn;
    const struct isc_params *p = &s->params;
    const uint8_t *bhs = pdu->bhs;
    uint8_t flags = bhs[1];
    bool rd = flags & ISC_FLAG_CMD_READ, wr = flags & ISC_FLAG_CMD_WRITE, fin = flags & ISC_FLAG_FINAL;
    bool immediate = isc_bhs_immediate(bhs);
    uint32_t itt = isc_bhs_itt(bhs), edtl = isc_bhs_edtl(bhs), cmdsn = isc_bhs_cmdsn(bhs);
    uint32_t dsl = pdu->data_len;
    uint32_t unsol_max = edtl < p->first_burst ? edtl : p->first_burst;

    uint8_t reason = 0;
    if (pdu->data_digest_bad)
        reason = ISC_REJECT_DATA_DIGEST; /* RFC 7143 7.8: the command is not executed */
    else if (itt == ISC_RSVD_TAG)
        reason = ISC_REJECT_INVALID_PDU_FIELD;
    else if (dsl && (!wr || !p->immediate_data || dsl > unsol_max))
        /* RFC 7143 10.4 / 13.11: immediate data only for writes, only when negotiated, at most FirstBurstLength
         * and never beyond the EDTL. */
        reason = ISC_REJECT_PROTOCOL_ERROR;
    else if (!fin && (!wr || p->initial_r2t || dsl >= edtl))
        /* RFC 7143 11.3.1 / 13.10: F=0 announces unsolicited Data-Out, allowed only with InitialR2T=No. */
        reason = ISC_REJECT_PROTOCOL_ERROR;
    else if (isc__task_by_itt(s, itt))
        reason = ISC_REJECT_TASK_IN_PROGRESS; /* RFC 7143 11.2.1.8: an ITT names one task at a time */
    uint8_t cdb[TGT_CDB_MAX] = {0};
    int cdb_len = reason ? 0 : isc__scsi_cdb(pdu, cdb);
    if (!reason && cdb_len < 1)
        reason = ISC_REJECT_INVALID_PDU_FIELD;
    if (reason) {
        isc__conn_reject(c, bhs, reason);
        /* The rejected command still used up its CmdSN: in-order delivery (RFC 7143 4.2.2.1) must not wait for a
         * command that will never be delivered. */
        if (!ordered)
            isc__session_phantom(s, cmdsn);
        return;
    }

    struct isc_task *t = isc__task_get(s);
    if (!t) {
        if (!ordered)
            isc__session_phantom(s, cmdsn);
        isc__scsi_busy(s, bhs);
        return;
    }
    t->itt = itt;
    t->cmdsn = cmdsn;
    t->edtl = edtl;
    t->lun_field = isc_bhs_lun(bhs);
    t->immediate = immediate;
    t->read = rd;
    t->write = wr;
    struct tgt_cmd *cmd = &t->cmd;
    uint8_t *keep_buf = t->has_buf ? cmd->buf : NULL;
    size_t keep_cap = cmd->buf_cap;
    memset(cmd, 0, sizeof(*cmd));
    cmd->buf = keep_buf;
    cmd->buf_cap = keep_cap;
    cmd->owner = t;
    isc__task_hash_add(t);
    if (ordered) {
        t->ordered = true;
        if (!immediate) {
            t->counted = true;
            s->active++;
        }
    } else {
        isc__held_add(s, t);
    }

    if (edtl > ISC_MAX_EDTL) {
        /* Larger than any buffer we hand out: answer at once with an iSCSI-level failure (RFC 7143 11.4.3). */
        t->iscsi_response = 0x01;
        t->unsol_open = false;
        t->dout_have = 0;
        if (t->ordered) {
            t->state = ISC_TASK_TARGET;
            s->in_target++;
            isc__scsi_done(cmd);
        }
        return;
    }
    if (!t->has_buf || cmd->buf_cap < edtl) {
        if (t->has_buf) {
            isc__buf_put(s->srv, cmd->buf, t->buf_cls);
            t->has_buf = false;
        }
        size_t cap;
        unsigned cls;
        cmd->buf = isc__buf_get(s->srv, edtl, &cap, &cls);
        if (!cmd->buf) {
            cmd->buf_cap = 0;
            isc__conn_drop(c, false);
            return;
        }
        cmd->buf_cap = cap;
        t->buf_cls = cls;
        t->has_buf = true;
    }
    cmd->nexus = s->nexus;
    uint64_t lun = isc_lun_decode(t->lun_field);
    cmd->lun = lun;
    memcpy(cmd->cdb, cdb, sizeof(cdb));
    cmd->cdb_len = (uint8_t)cdb_len;
    cmd->task_attr = flags & ISC_FLAG_CMD_ATTR_MASK;
    cmd->tag = itt;
    cmd->exp_len = edtl;
    cmd->dir = (uint8_t)((rd ? TGT_DIR_READ : 0) | (wr ? TGT_DIR_WRITE : 0));
    cmd->dout_want = wr ? edtl : 0;
    cmd->done = isc__scsi_done;
    cmd->owner = t;

    if (wr && edtl) {
        if (dsl)
            memcpy(cmd->buf, pdu->data, dsl);
        t->dout_have = dsl;
        t->unsol_open = !fin;
        t->unsol_end = fin ? dsl : unsol_max;
        t->exp_datasn = 0;
        t->r2t_next = t->unsol_open ? t->unsol_end : dsl;
    }
    isc__scsi_progress(t);
}

void isc__scsi_ordered(struct isc_task *t)
{
    t->held.task = NULL;
    t->ordered = true;
    if (!t->immediate) {
        t->counted = true;
        t->sess->active++;
    }
    if (t->iscsi_response) {
        t->state = ISC_TASK_TARGET;
        t->sess->in_target++;
        isc__scsi_done(&t->cmd);
        return;
    }
    isc__scsi_progress(t);
}

/* ---- Data-Out and R2T (RFC 7143 10.7, 10.8, 11.7, 11.8) --------------------------------------------------------- */

static void isc__scsi_send_r2t(struct isc_task *t, const struct isc_r2t *r, uint32_t r2tsn)
{
    struct isc_conn *c = t->sess->conn;
    uint8_t b[ISC_BHS_LEN];
    isc_bhs_init(b, ISC_OP_R2T, ISC_FLAG_FINAL);
    isc_bhs_set_lun(b, t->lun_field);
    isc_bhs_set_itt(b, t->itt);
    isc_bhs_set_ttt(b, r->ttt);
    /* RFC 7143 11.8: an R2T carries the next StatSN without advancing it. */
    isc__conn_stamp(c, b, false);
    isc_bhs_set_datasn(b, r2tsn);
    isc_bhs_set_bufoff(b, r->offset);
    isc_bhs_set_ddtl(b, r->len);
    isc__conn_send(c, b, NULL, 0);
}

static void isc__scsi_start_r2t(struct isc_task *t)
{
    const struct isc_params *p = &t->sess->params;
    uint32_t max_out = p->max_outstanding_r2t ? p->max_outstanding_r2t : 1;
    if (max_out > ISC_MAX_R2T)
        max_out = ISC_MAX_R2T;
    if (t->r2t_next < t->dout_have)
        t->r2t_next = t->dout_have;
    /* RFC 7143 10.8 / 13.17: up to MaxOutstandingR2T R2Ts at a time, each for at most MaxBurstLength. */
    while (!t->unsol_open && t->n_r2t < max_out && t->r2t_next < t->edtl && t->state == ISC_TASK_DATA) {
        uint32_t len = t->edtl - t->r2t_next;
        if (len > p->max_burst)
            len = p->max_burst;
        struct isc_r2t *r = &t->r2t[t->n_r2t++];
        uint32_t sn = t->r2tsn++;
        r->ttt = ((uint32_t)((t->r2tsn_base * 31u + sn) & 0x7fff) << 16) | t->index;
        r->offset = t->r2t_next;
        r->len = len;
        t->r2t_next += len;
        isc__scsi_send_r2t(t, r, sn);
    }
}

static void isc__scsi_submit(struct isc_task *t)
{
    struct isc_session *s = t->sess;
    t->state = ISC_TASK_TARGET;
    s->in_target++;
    t->cmd.dout_len = t->dout_have;
    t->cmd.nexus = s->nexus;
    tgt_cmd_submit(s->target->tgt, &t->cmd);
}

static void isc__scsi_progress(struct isc_task *t)
{
    if (t->state != ISC_TASK_DATA)
        return;
    if (t->write && t->dout_have < t->edtl) {
        isc__scsi_start_r2t(t);
        return;
    }
    if (t->ordered)
        isc__scsi_submit(t);
}

/* A Data-Out that breaks the sequence rules (DataSN, Buffer Offset, TTT, length). The framing of the stream is
 * intact, so the connection stays up: the PDU is rejected and its data discarded (RFC 7143 11.17.1, 7.8). At
 * ErrorRecoveryLevel 0 the initiator cannot resend it, so the task never completes with status; the initiator
 * times it out and aborts it (this is what libiscsi's iSCSIdatasn test expects). */
static void isc__scsi_dout_fatal(struct isc_session *s, const uint8_t *bhs)
{
    isc__conn_reject(s->conn, bhs, ISC_REJECT_PROTOCOL_ERROR);
}

void isc__scsi_data_out(struct isc_session *s, const struct isc_pdu *pdu)
{
    const uint8_t *bhs = pdu->bhs;
    uint32_t itt = isc_bhs_itt(bhs), ttt = isc_bhs_ttt(bhs);
    struct isc_task *t = ttt == ISC_RSVD_TAG ? isc__task_by_itt(s, itt) : isc__task_by_ttt(s, ttt);
    if (!t || t->state != ISC_TASK_DATA || t->itt != itt) {
        /* RFC 7143 11.5.1: Data-Out for a task that was aborted (or never existed) is discarded. */
        return;
    }
    if (pdu->data_digest_bad) {
        /* RFC 7143 7.8 / 11.17.1: the Data-Out is rejected and its data dropped. */
        isc__conn_reject(s->conn, bhs, ISC_REJECT_DATA_DIGEST);
        return;
    }
    uint32_t off = isc_bhs_bufoff(bhs), datasn = isc_bhs_datasn(bhs), len = pdu->data_len;
    uint32_t seq_end;
    if (ttt == ISC_RSVD_TAG) {
        if (!t->unsol_open)
            return isc__scsi_dout_fatal(s, bhs);
        seq_end = t->unsol_end;
    } else {
        if (t->n_r2t == 0 || t->r2t[0].ttt != ttt)
            return isc__scsi_dout_fatal(s, bhs);
        seq_end = t->r2t[0].offset + t->r2t[0].len;
    }
    /* DataPDUInOrder=Yes and DataSequenceInOrder=Yes (RFC 7143 13.18, 13.19): every Data-Out continues exactly
     * where the previous one ended, and DataSN counts up from 0 in each sequence (RFC 7143 11.7.5). */
    if (off != t->dout_have || len > seq_end - off || datasn != t->exp_datasn)
        return isc__scsi_dout_fatal(s, bhs);
    if (len)
        memcpy(t->cmd.buf + off, pdu->data, len);
    t->dout_have += len;
    t->exp_datasn++;
    bool fin = bhs[1] & ISC_FLAG_FINAL;
    if (ttt == ISC_RSVD_TAG) {
        if (fin || t->dout_have == seq_end) {
            t->unsol_open = false;
            t->exp_datasn = 0;
        }
    } else if (t->dout_have == seq_end) {
        memmove(&t->r2t[0], &t->r2t[1], (t->n_r2t - 1) * sizeof(t->r2t[0]));
        t->n_r2t--;
        t->exp_datasn = 0;
    } else if (fin) {
        /* RFC 7143 11.7.1: F=1 ends the sequence; an R2T's sequence must deliver what it asked for. */
        return isc__scsi_dout_fatal(s, bhs);
    }
    isc__scsi_progress(t);
}

void isc__scsi_abort_local(struct isc_task *t)
{
    struct isc_session *s = t->sess;
    bool held = t->held.task != NULL;
    uint32_t cmdsn = t->cmdsn;
    isc__task_put(t);
    /* RFC 7143 11.5.1: the aborted command's CmdSN counts as received, so later commands do not wait for it. */
    if (held)
        isc__session_phantom(s, cmdsn);
}

void isc__scsi_abort_tas(struct isc_task *t)
{
    struct tgt_cmd *cmd = &t->cmd;
    /* SAM-5 5.6: with TAS=1 a task aborted by another I_T nexus's action completes with TASK ABORTED status; it
     * carries no data and no sense. The response goes through the normal completion path, so the CmdSN window
     * and the task's release work as for any answered command. */
    cmd->aborted = true;
    cmd->status = TGT_STATUS_TASK_ABORTED;
    cmd->sense_len = 0;
    cmd->din_cnt = 0;
    t->n_r2t = 0;
    t->state = ISC_TASK_TARGET;
    t->sess->in_target++;
    isc__scsi_done(cmd);
}

/* ---- Data-In and SCSI Response (RFC 7143 11.4, 11.7) -------------------------------------------------------- */

static int isc__task_reserve(struct isc_task *t, unsigned slots, unsigned iovs)
{
    if (slots > t->slots_cap) {
        uint8_t *ns = realloc(t->slots, (size_t)slots * ISC_HDR_SLOT);
        if (!ns)
            return -ENOMEM;
        t->slots = ns;
        t->slots_cap = slots;
    }
    if (iovs > t->iov_cap) {
        struct isc_iov *ni = realloc(t->iov, (size_t)iovs * sizeof(*ni));
        if (!ni)
            return -ENOMEM;
        t->iov = ni;
        t->iov_cap = iovs;
    }
    return 0;
}

static void isc__scsi_tx_done(void *arg, int status)
{
    struct isc_task *t = arg;
    struct isc_conn *c = t->sess->conn;
    (void)status;
    isc__conn_hold(c);
    isc__task_put(t);
    isc__conn_write_done(c);
    isc__conn_put(c);
}

/* Residual of a command (RFC 7143 11.4.5): reads against the Data-In the device server produced, writes against
 * the Data-Out the CDB asked for. */
static void isc__scsi_residual(const struct isc_task *t, uint8_t *uflags, uint32_t *resid)
{
    const struct tgt_cmd *cmd = &t->cmd;
    uint64_t want = t->write && !t->read ? cmd->dout_want : cmd->din_len;
    *uflags = 0;
    *resid = 0;
    if (want > t->edtl) {
        *uflags = ISC_FLAG_RSP_OVERFLOW;
        uint64_t r = want - t->edtl;
        *resid = r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
    } else if (want < t->edtl) {
        *uflags = ISC_FLAG_RSP_UNDERFLOW;
        *resid = (uint32_t)(t->edtl - want);
    }
}

static void isc__slot_tail(struct isc_conn *c, uint8_t *slot, uint32_t len, uint32_t crc, struct isc_iov *iov,
                           unsigned *n)
{
    uint32_t pad = isc_pad4(len);
    uint8_t *tail = slot + 56 - pad;
    memset(slot + 52, 0, 4);
    size_t tlen = pad;
    if (c->tx_ddigest) {
        crc = isc_crc32c_update(crc, isc__zero_pad, pad);
        isc_digest_put(slot + 56, isc_crc32c_final(crc));
        tlen += ISC_DIGEST_LEN;
    }
    if (tlen)
        iov[(*n)++] = (struct isc_iov){tail, tlen};
}

static void isc__scsi_respond(struct isc_task *t)
{
    struct isc_session *s = t->sess;
    struct isc_conn *c = s->conn;
    struct tgt_cmd *cmd = &t->cmd;
    const struct isc_params *p = &s->params;
    uint8_t uflags = 0;
    uint32_t resid = 0;
    uint64_t send = 0;
    unsigned din_cnt = cmd->din_cnt > TGT_CMD_MAX_IOV ? TGT_CMD_MAX_IOV : cmd->din_cnt;
    /* The command is answered: its slot of the CmdSN window is free again, and the MaxCmdSN in this very
     * response already says so (RFC 7143 4.2.2.1). */
    isc__task_uncount(t);
    if (!t->iscsi_response) {
        isc__scsi_residual(t, &uflags, &resid);
        if (t->read) {
            uint64_t have = 0;
            for (unsigned i = 0; i < din_cnt; i++)
                have += cmd->din[i].len;
            if (have > cmd->din_len)
                have = cmd->din_len;
            send = have < t->edtl ? have : t->edtl;
        }
    }
    uint32_t mrdsl = p->max_send_dsl ? p->max_send_dsl : ISC_LOGIN_DSL;
    uint32_t mburst = p->max_burst ? p->max_burst : mrdsl;
    /* RFC 7143 11.7.4 / 10.4: status may ride on the last Data-In only when there is no sense data. */
    bool collapse = send > 0 && cmd->sense_len == 0 && !t->iscsi_response;
    uint64_t npdu = 0;
    for (uint64_t off = 0, burst = 0; off < send;) {
        uint64_t l = send - off;
        if (l > mrdsl)
            l = mrdsl;
        if (l > mburst - burst)
            l = mburst - burst;
        off += l;
        burst += l;
        if (burst == mburst)
            burst = 0;
        npdu++;
    }
    unsigned nslots = (unsigned)npdu + (collapse ? 0 : 1);
    unsigned niov = (unsigned)npdu * (2 + din_cnt) + 3;
    if (isc__task_reserve(t, nslots, niov) < 0) {
        isc__task_put(t);
        isc__conn_drop(c, false);
        return;
    }
    unsigned n = 0, slot_i = 0;
    size_t hlen = ISC_BHS_LEN + (c->tx_hdigest ? ISC_DIGEST_LEN : 0);
    unsigned di = 0;
    size_t doff = 0;
    uint64_t off = 0, burst = 0;
    uint32_t datasn = 0;
    while (off < send) {
        uint64_t l = send - off;
        if (l > mrdsl)
            l = mrdsl;
        if (l > mburst - burst)
            l = mburst - burst;
        bool last = off + l == send;
        bool seq_end = last || burst + l == mburst;
        uint8_t *slot = t->slots + (size_t)slot_i++ * ISC_HDR_SLOT;
        uint8_t fl = seq_end ? ISC_FLAG_FINAL : 0;
        if (last && collapse)
            fl |= ISC_FLAG_DATA_STATUS | uflags;
        isc_bhs_init(slot, ISC_OP_DATA_IN, fl);
        isc_bhs_set_data_len(slot, (uint32_t)l);
        isc_bhs_set_lun(slot, t->lun_field);
        isc_bhs_set_itt(slot, t->itt);
        isc_bhs_set_ttt(slot, ISC_RSVD_TAG);
        if (last && collapse) {
            isc_bhs_set_status(slot, cmd->status);
            isc__conn_stamp(c, slot, true);
            isc_bhs_set_resid(slot, resid);
        } else {
            /* RFC 7143 11.7.4: StatSN is only meaningful with S=1; it does not advance here. */
            isc__conn_stamp(c, slot, false);
        }
        isc_bhs_set_datasn(slot, datasn++);
        isc_bhs_set_bufoff(slot, (uint32_t)off);
        if (c->tx_hdigest)
            isc_digest_put(slot + ISC_BHS_LEN, isc_crc32c(slot, ISC_BHS_LEN));
        t->iov[n++] = (struct isc_iov){slot, hlen};
        uint32_t crc = isc_crc32c_init();
        uint64_t need = l;
        while (need > 0 && di < din_cnt) {
            size_t avail = cmd->din[di].len - doff;
            size_t take = avail < need ? avail : (size_t)need;
            const uint8_t *src = (const uint8_t *)cmd->din[di].base + doff;
            if (take) {
                t->iov[n++] = (struct isc_iov){src, take};
                if (c->tx_ddigest)
                    crc = isc_crc32c_update(crc, src, take);
            }
            need -= take;
            doff += take;
            if (doff == cmd->din[di].len) {
                di++;
                doff = 0;
            }
        }
        isc__slot_tail(c, slot, (uint32_t)l, crc, t->iov, &n);
        off += l;
        burst += l;
        if (burst == mburst)
            burst = 0;
    }
    if (!collapse) {
        uint8_t *slot = t->slots + (size_t)slot_i++ * ISC_HDR_SLOT;
        isc_bhs_init(slot, ISC_OP_SCSI_RSP, ISC_FLAG_FINAL | (t->iscsi_response ? 0 : uflags));
        isc_bhs_set_response(slot, t->iscsi_response);
        isc_bhs_set_status(slot, t->iscsi_response ? 0 : cmd->status);
        isc_bhs_set_itt(slot, t->itt);
        isc__conn_stamp(c, slot, true);
        /* RFC 7143 11.4.8: ExpDataSN counts the Data-In (or R2T) PDUs sent for the command. */
        isc_bhs_set_datasn(slot, t->read ? datasn : t->r2tsn);
        isc_bhs_set_resid(slot, resid);
        uint32_t slen = 0;
        if (cmd->sense_len && !t->iscsi_response) {
            /* RFC 7143 11.4.7: the data segment is SenseLength (2 bytes) followed by the sense data. The sense
             * is shifted by two bytes inside the command so it stays contiguous with its length. */
            uint8_t sl = cmd->sense_len > TGT_SENSE_MAX - 2 ? TGT_SENSE_MAX - 2 : cmd->sense_len;
            memmove(cmd->sense + 2, cmd->sense, sl);
            prt_put_be16(cmd->sense, sl);
            slen = 2u + sl;
        }
        isc_bhs_set_data_len(slot, slen);
        if (c->tx_hdigest)
            isc_digest_put(slot + ISC_BHS_LEN, isc_crc32c(slot, ISC_BHS_LEN));
        t->iov[n++] = (struct isc_iov){slot, hlen};
        if (slen) {
            t->iov[n++] = (struct isc_iov){cmd->sense, slen};
            uint32_t crc = c->tx_ddigest ? isc_crc32c_update(isc_crc32c_init(), cmd->sense, slen) : 0;
            isc__slot_tail(c, slot, slen, crc, t->iov, &n);
        }
    }
    t->datasn_sent = datasn;
    t->state = ISC_TASK_TX;
    if (isc__conn_write(c, t->iov, n, isc__scsi_tx_done, t) < 0)
        isc__task_put(t);
}

static void isc__scsi_done(struct tgt_cmd *cmd)
{
    struct isc_task *t = cmd->owner;
    struct isc_session *s = t->sess;
    struct isc_conn *c = s->conn;
    isc__conn_hold(c);
    s->in_target--;
    if (s->ended || c->state == ISC_CONN_CLOSED || c->released ||
        (cmd->aborted && cmd->status != TGT_STATUS_TASK_ABORTED)) {
        /* SAM-5 5.6 / tgt.h: an aborted task is answered only when TAS asks for TASK ABORTED status. */
        isc__task_put(t);
    } else {
        isc__scsi_respond(t);
    }
    isc__conn_put(c);
}
