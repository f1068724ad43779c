/* One iSCSI connection: receive path (reassembler -> PDU dispatch), transmit helpers, NOP-In/NOP-Out, Logout,
 * Reject, Async Message, timers and the connection's lifetime. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transport/isc_internal.h"

static char *isc__conn_strdup(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s ? s : "", n);
    return d;
}

struct isc_conn *isc_conn_new(struct isc_server *srv, uint16_t tpgt, const char *local_addr, const char *peer_addr,
                              const struct isc_conn_ops *ops, void *net)
{
    if (!srv || !ops || !ops->write || !ops->close)
        return NULL;
    struct isc_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->srv = srv;
    c->ops = ops;
    c->net = net;
    c->tpgt = tpgt;
    c->listener = tpgt;
    c->local_addr = isc__conn_strdup(local_addr);
    c->peer_addr = isc__conn_strdup(peer_addr);
    if (!c->local_addr || !c->peer_addr) {
        free(c->local_addr);
        free(c->peer_addr);
        free(c);
        return NULL;
    }
    isc_rx_init(&c->rx, srv->limits.max_recv_dsl > ISC_LOGIN_DSL ? srv->limits.max_recv_dsl : ISC_LOGIN_DSL);
    isc_text_init(&c->login_acc);
    isc_text_init(&c->text_req);
    isc_text_init(&c->text_rsp);
    isc_key_seen_reset(&c->seen);
    c->created_ms = isc__server_now(srv);
    c->last_rx_ms = c->created_ms;
    c->ping_ttt = ISC_RSVD_TAG;
    c->next_ping_ttt = 1;
    c->text_ttt = ISC_RSVD_TAG;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    return c;
}

static void isc__conn_free(struct isc_conn *c)
{
    struct isc_server *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else if (srv->conns == c)
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->sess)
        isc__session_free(c->sess);
    while (c->tx_free) {
        struct isc_tx *tx = c->tx_free;
        c->tx_free = tx->next;
        free(tx->data);
        free(tx);
    }
    isc_rx_free(&c->rx);
    isc_text_free(&c->login_acc);
    isc_text_free(&c->text_req);
    isc_text_free(&c->text_rsp);
    free(c->local_addr);
    free(c->peer_addr);
    free(c);
}

static bool isc__conn_freeable(const struct isc_conn *c)
{
    return c->released && c->busy == 0 && c->writes_out == 0 && (!c->sess || c->sess->in_target == 0);
}

void isc__conn_hold(struct isc_conn *c)
{
    c->busy++;
}

void isc__conn_put(struct isc_conn *c)
{
    c->busy--;
    if (isc__conn_freeable(c))
        isc__conn_free(c);
}

void isc__conn_drop(struct isc_conn *c, bool flush)
{
    if (c->state == ISC_CONN_CLOSED)
        return;
    c->state = ISC_CONN_CLOSED;
    if (c->sess)
        isc__session_end(c->sess);
    if (!c->released && !c->close_called) {
        c->close_called = true;
        c->ops->close(c->net, flush);
    }
}

void isc_conn_peer_gone(struct isc_conn *c)
{
    if (!c || c->state == ISC_CONN_CLOSED)
        return;
    isc__conn_hold(c);
    /* RFC 7143 6.3.4: at ErrorRecoveryLevel 0 a failed connection fails its session at once. */
    c->state = ISC_CONN_CLOSED;
    if (c->sess)
        isc__session_end(c->sess);
    isc__conn_put(c);
}

void isc_conn_release(struct isc_conn *c)
{
    if (!c)
        return;
    isc__conn_hold(c);
    isc_conn_peer_gone(c);
    c->released = true;
    isc__conn_put(c);
}

/* ---- transmit ---------------------------------------------------------------------------------------------- */

uint32_t isc__pdu_digest(const void *a, size_t alen, const void *b, size_t blen)
{
    uint32_t crc = isc_crc32c_init();
    if (alen)
        crc = isc_crc32c_update(crc, a, alen);
    if (blen)
        crc = isc_crc32c_update(crc, b, blen);
    return isc_crc32c_final(crc);
}

void isc__conn_stamp(struct isc_conn *c, uint8_t *bhs, bool advance_statsn)
{
    prt_put_be32(bhs + 24, c->stat_sn);
    if (advance_statsn)
        c->stat_sn++;
    if (c->sess) {
        isc__session_update_window(c->sess);
        prt_put_be32(bhs + 28, c->sess->exp_cmdsn);
        prt_put_be32(bhs + 32, c->sess->max_cmdsn);
    }
}

void isc__conn_write_done(struct isc_conn *c)
{
    c->writes_out--;
    if (isc__conn_freeable(c))
        isc__conn_free(c);
}

int isc__conn_write(struct isc_conn *c, const struct isc_iov *iov, unsigned n, void (*done)(void *, int),
                    void *arg)
{
    if (c->state == ISC_CONN_CLOSED || c->released)
        return -ENOTCONN;
    c->writes_out++;
    int rc = c->ops->write(c->net, iov, n, done, arg);
    if (rc < 0) {
        c->writes_out--;
        isc__conn_drop(c, false);
    }
    return rc;
}

static void isc__tx_done(void *arg, int status)
{
    struct isc_tx *tx = arg;
    struct isc_conn *c = tx->conn;
    (void)status;
    tx->next = c->tx_free;
    c->tx_free = tx;
    isc__conn_write_done(c);
}

int isc__conn_send(struct isc_conn *c, const uint8_t *bhs, const void *data, size_t len)
{
    if (c->state == ISC_CONN_CLOSED || c->released)
        return -ENOTCONN;
    if (len > 0xffffff)
        return -EINVAL;
    struct isc_tx *tx = c->tx_free;
    if (tx) {
        c->tx_free = tx->next;
    } else {
        tx = calloc(1, sizeof(*tx));
        if (!tx) {
            isc__conn_drop(c, false);
            return -ENOMEM;
        }
        tx->conn = c;
    }
    if (len > tx->data_cap) {
        uint8_t *nd = realloc(tx->data, len);
        if (!nd) {
            tx->next = c->tx_free;
            c->tx_free = tx;
            isc__conn_drop(c, false);
            return -ENOMEM;
        }
        tx->data = nd;
        tx->data_cap = len;
    }
    memcpy(tx->hdr, bhs, ISC_BHS_LEN);
    isc_bhs_set_data_len(tx->hdr, (uint32_t)len);
    if (len)
        memcpy(tx->data, data, len);
    struct isc_iov iov[3];
    unsigned n = 0;
    size_t hlen = ISC_BHS_LEN;
    if (c->tx_hdigest) {
        isc_digest_put(tx->hdr + ISC_BHS_LEN, isc_crc32c(tx->hdr, ISC_BHS_LEN));
        hlen += ISC_DIGEST_LEN;
    }
    iov[n++] = (struct isc_iov){tx->hdr, hlen};
    if (len) {
        uint32_t pad = isc_pad4((uint32_t)len);
        memset(tx->tail, 0, sizeof(tx->tail));
        size_t tlen = pad;
        iov[n++] = (struct isc_iov){tx->data, len};
        if (c->tx_ddigest) {
            isc_digest_put(tx->tail + pad, isc__pdu_digest(tx->data, len, tx->tail, pad));
            tlen += ISC_DIGEST_LEN;
        }
        if (tlen)
            iov[n++] = (struct isc_iov){tx->tail, tlen};
    }
    int rc = isc__conn_write(c, iov, n, isc__tx_done, tx);
    if (rc < 0) {
        tx->next = c->tx_free;
        c->tx_free = tx;
    }
    return rc;
}

int isc__conn_reject(struct isc_conn *c, const uint8_t *bhs, uint8_t reason)
{
    uint8_t r[ISC_BHS_LEN] = {0};
    r[0] = ISC_OP_REJECT;
    r[1] = 0x80;
    r[2] = reason;
    prt_put_be32(r + 16, ISC_RSVD_TAG);
    /* RFC 7143 11.17: a Reject carries a status sequence number like any response. */
    isc__conn_stamp(c, r, true);
    return isc__conn_send(c, r, bhs, ISC_BHS_LEN);
}

/* ---- NOP (RFC 7143 11.18, 11.19) ----------------------------------------------------------------------------- */

static void isc__nop_out(struct isc_conn *c, const uint8_t *bhs, const uint8_t *data, size_t len)
{
    uint32_t itt = isc_bhs_itt(bhs);
    uint32_t ttt = prt_get_be32(bhs + 20);
    if (itt == ISC_RSVD_TAG) {
        /* RFC 7143 11.18.2: an answer to our NOP-In (TTT echoed) or a mere ExpStatSN update; no response. */
        if (ttt != ISC_RSVD_TAG && ttt == c->ping_ttt)
            c->ping_ttt = ISC_RSVD_TAG;
        return;
    }
    uint8_t r[ISC_BHS_LEN] = {0};
    r[0] = ISC_OP_NOP_IN;
    r[1] = 0x80;
    memcpy(r + 8, bhs + 8, 8);
    prt_put_be32(r + 16, itt);
    prt_put_be32(r + 20, ISC_RSVD_TAG);
    isc__conn_stamp(c, r, true);
    /* RFC 7143 11.19.1: the ping data is returned; never more than the initiator can receive. */
    size_t n = len;
    if (c->sess && n > c->sess->params.max_send_dsl)
        n = c->sess->params.max_send_dsl;
    isc__conn_send(c, r, data, n);
}

static void isc__nop_ping(struct isc_conn *c, uint64_t now)
{
    uint8_t r[ISC_BHS_LEN] = {0};
    r[0] = ISC_OP_NOP_IN;
    r[1] = 0x80;
    prt_put_be32(r + 16, ISC_RSVD_TAG);
    uint32_t ttt = c->next_ping_ttt++;
    if (c->next_ping_ttt == ISC_RSVD_TAG)
        c->next_ping_ttt = 1;
    prt_put_be32(r + 20, ttt);
    /* RFC 7143 11.19.3: a target-initiated NOP-In does not advance StatSN. */
    isc__conn_stamp(c, r, false);
    c->ping_ttt = ttt;
    c->ping_sent_ms = now;
    isc__conn_send(c, r, NULL, 0);
}

void isc__conn_tick(struct isc_conn *c, uint64_t now)
{
    struct isc_server *srv = c->srv;
    if (c->state == ISC_CONN_LOGIN) {
        if (srv->login_timeout_ms && now - c->created_ms >= srv->login_timeout_ms)
            isc__conn_drop(c, false);
        return;
    }
    if (c->state != ISC_CONN_FFP)
        return;
    if (c->ping_ttt != ISC_RSVD_TAG) {
        if (now - c->ping_sent_ms >= srv->nop_timeout_ms)
            isc__conn_drop(c, false);
        return;
    }
    if (srv->nop_interval_ms && now - c->last_rx_ms >= srv->nop_interval_ms)
        isc__nop_ping(c, now);
}

/* ---- Logout and Async Message (RFC 7143 11.14, 11.15, 11.9) ---------------------------------------------------- */

static void isc__logout(struct isc_conn *c, const uint8_t *bhs)
{
    uint8_t reason = bhs[1] & 0x7f;
    uint8_t r[ISC_BHS_LEN] = {0};
    r[0] = ISC_OP_LOGOUT_RSP;
    r[1] = 0x80;
    prt_put_be32(r + 16, isc_bhs_itt(bhs));
    bool close = true;
    if (reason == 1 && prt_get_be16(bhs + 20) != c->cid) {
        r[2] = 1; /* RFC 7143 11.15.1: CID not found */
        close = false;
    } else if (reason == 2) {
        r[2] = 2; /* connection recovery is not supported at ErrorRecoveryLevel 0 (RFC 7143 11.15.1) */
        close = false;
    } else if (reason > 2) {
        isc__conn_reject(c, bhs, ISC_REJECT_INVALID_PDU_FIELD);
        return;
    }
    if (c->sess) {
        /* RFC 7143 11.15.2/11.15.3: with ErrorRecoveryLevel 0 there is nothing to wait or retain for. */
        prt_put_be16(r + 40, (uint16_t)c->sess->params.default_time2wait);
        prt_put_be16(r + 42, (uint16_t)c->sess->params.default_time2retain);
    }
    isc__conn_stamp(c, r, true);
    isc__conn_send(c, r, NULL, 0);
    if (close) {
        c->state = ISC_CONN_LOGOUT;
        c->logged_out = true;
        isc__conn_drop(c, true);
    }
}

void isc__conn_async_logout(struct isc_conn *c)
{
    if (c->state == ISC_CONN_LOGIN) {
        isc__conn_drop(c, false);
        return;
    }
    if (c->state != ISC_CONN_FFP)
        return;
    uint8_t r[ISC_BHS_LEN] = {0};
    r[0] = ISC_OP_ASYNC;
    r[1] = 0x80;
    prt_put_be64(r + 8, 0);
    prt_put_be32(r + 16, ISC_RSVD_TAG);
    isc__conn_stamp(c, r, true);
    r[36] = 1; /* RFC 7143 11.9.1 AsyncEvent 1: the target requests a logout */
    prt_put_be16(r + 42, 5); /* Parameter3: seconds the initiator has to log out */
    isc__conn_send(c, r, NULL, 0);
}

/* ---- receive ------------------------------------------------------------------------------------------------- */

void isc__conn_dispatch_ffp(struct isc_conn *c, const struct isc_pdu *pdu)
{
    const uint8_t *bhs = pdu->bhs;
    uint8_t op = isc_bhs_opcode(bhs);
    struct isc_session *s = c->sess;
    switch (op) {
    case ISC_OP_NOP_OUT:
        if (isc_bhs_itt(bhs) == ISC_RSVD_TAG) {
            /* RFC 7143 11.18: ITT 0xffffffff requires the I bit; it carries no CmdSN of its own. */
            if (!isc_bhs_immediate(bhs)) {
                isc__conn_reject(c, bhs, ISC_REJECT_PROTOCOL_ERROR);
                return;
            }
            if (pdu->data_digest_bad) {
                isc__conn_reject(c, bhs, ISC_REJECT_DATA_DIGEST);
                return;
            }
            isc__nop_out(c, bhs, pdu->data, pdu->data_len);
            return;
        }
        /* fall through - a ping request is a command and obeys CmdSN ordering */
    case ISC_OP_SCSI_CMD:
    case ISC_OP_TMF_REQ:
    case ISC_OP_TEXT_REQ:
    case ISC_OP_LOGOUT_REQ:
        c->exp_stat_sn = prt_get_be32(bhs + 28);
        isc__session_command(s, pdu);
        return;
    case ISC_OP_DATA_OUT:
        if (s->discovery) {
            isc__conn_reject(c, bhs, ISC_REJECT_PROTOCOL_ERROR);
            return;
        }
        isc__scsi_data_out(s, pdu);
        return;
    case ISC_OP_SNACK:
        /* RFC 7143 7.1.2 / 11.16: SNACK needs ErrorRecoveryLevel > 0, which we never agree to. */
        isc__conn_reject(c, bhs, ISC_REJECT_PROTOCOL_ERROR);
        return;
    case ISC_OP_LOGIN_REQ:
        /* RFC 7143 6: a login request after the login phase is a protocol error. */
        isc__conn_reject(c, bhs, ISC_REJECT_PROTOCOL_ERROR);
        return;
    default:
        /* RFC 7143 11.17.1: an opcode the target does not know is answered "Command not supported". */
        isc__conn_reject(c, bhs, ISC_REJECT_CMD_NOT_SUPPORTED);
        return;
    }
}

void isc__session_exec(struct isc_session *s, const struct isc_pdu *pdu)
{
    struct isc_conn *c = s->conn;
    const uint8_t *bhs = pdu->bhs;
    uint8_t op = isc_bhs_opcode(bhs);
    if (pdu->data_digest_bad && op != ISC_OP_SCSI_CMD) {
        isc__conn_reject(c, bhs, ISC_REJECT_DATA_DIGEST);
        return;
    }
    switch (op) {
    case ISC_OP_NOP_OUT:
        isc__nop_out(c, bhs, pdu->data, pdu->data_len);
        return;
    case ISC_OP_TEXT_REQ:
        isc__text_pdu(c, bhs, pdu->data, pdu->data_len);
        return;
    case ISC_OP_LOGOUT_REQ:
        isc__logout(c, bhs);
        return;
    case ISC_OP_TMF_REQ:
        if (s->discovery) {
            isc__conn_reject(c, bhs, ISC_REJECT_PROTOCOL_ERROR);
            return;
        }
        isc__tmf_pdu(s, bhs);
        return;
    default:
        return;
    }
}

int isc_conn_feed(struct isc_conn *c, const uint8_t *data, size_t len)
{
    if (!c)
        return -EINVAL;
    if (c->state == ISC_CONN_CLOSED || c->state == ISC_CONN_LOGOUT)
        return c->logged_out ? 0 : -ECONNRESET;
    isc__conn_hold(c);
    int rc = 0;
    while (len > 0 && (c->state == ISC_CONN_LOGIN || c->state == ISC_CONN_FFP)) {
        size_t used = 0;
        struct isc_pdu pdu;
        enum isc_rx_result r = isc_rx_feed(&c->rx, data, len, &used, &pdu);
        if (used > len)
            used = len;
        data += used;
        len -= used;
        if (r == ISC_RX_NEED_MORE) {
            if (used == 0)
                break;
            continue;
        }
        if (r != ISC_RX_PDU) {
            /* RFC 7143 7.8 / 13.1: a header digest error or an impossible length leaves the framing of the
             * stream unknown; the connection cannot continue. */
            isc__conn_drop(c, false);
            break;
        }
        c->last_rx_ms = isc__server_now(c->srv);
        if (c->state == ISC_CONN_LOGIN) {
            if (isc_bhs_opcode(pdu.bhs) != ISC_OP_LOGIN_REQ) {
                /* RFC 7143 6: only Login Requests are allowed before the full feature phase. */
                isc__conn_drop(c, false);
                break;
            }
            if (isc__login_pdu(c, &pdu) < 0)
                break;
        } else {
            isc__conn_dispatch_ffp(c, &pdu);
        }
    }
    if (c->state == ISC_CONN_CLOSED && !c->logged_out)
        rc = -ECONNRESET;
    isc__conn_put(c);
    return rc;
}
