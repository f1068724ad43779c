/* Text Request / Text Response (RFC 7143 11.10, 11.11) in full feature phase: SendTargets (Appendix C) and the
 * keys negotiable there, with long requests and responses carried over several PDUs (C bit + Target Transfer
 * Tag). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/isc_internal.h"

/* Split "host:port" at its last colon; hosts keep their IPv6 brackets. */
static void isc__split_addr(const char *addr, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon = strrchr(addr, ':');
    const char *rb = strrchr(addr, ']');
    if (!colon || (rb && colon < rb)) {
        snprintf(host, hcap, "%s", addr);
        snprintf(port, pcap, "3260");
        return;
    }
    size_t hl = (size_t)(colon - addr);
    if (hl >= hcap)
        hl = hcap - 1;
    memcpy(host, addr, hl);
    host[hl] = 0;
    snprintf(port, pcap, "%s", colon + 1);
}

static bool isc__wildcard_host(const char *h)
{
    return !*h || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "[::]") == 0 || strcmp(h, "::") == 0 ||
           strcmp(h, "*") == 0;
}

/* One target's entry: its name and the address of every portal that exposes it, with its own tag. */
static int isc__send_target(struct isc_conn *c, const struct isc_target *t, struct isc_text *out)
{
    struct isc_server *srv = c->srv;
    if (isc_text_add(out, "TargetName", t->name) < 0)
        return -ENOMEM;
    char lhost[300], lport[16];
    isc__split_addr(c->local_addr, lhost, sizeof(lhost), lport, sizeof(lport));
    for (unsigned i = 0; i < srv->n_portals; i++) {
        uint16_t tag = isc__target_tpgt(t, srv->portals[i].tpgt);
        if (!tag)
            continue;
        char host[300], port[16], val[400];
        isc__split_addr(srv->portals[i].addr, host, sizeof(host), port, sizeof(port));
        /* design.md: a wildcard portal is advertised with the address the request came in on, so that an
         * initiator is only sent back to an address it can reach. */
        const char *h = isc__wildcard_host(host) ? lhost : host;
        bool v6 = strchr(h, ':') && h[0] != '[';
        /* RFC 7143 13.8: TargetAddress carries the portal group tag of the target named before it. */
        snprintf(val, sizeof(val), "%s%s%s:%s,%u", v6 ? "[" : "", h, v6 ? "]" : "", port, (unsigned)tag);
        if (isc_text_add(out, "TargetAddress", val) < 0)
            return -ENOMEM;
    }
    return 0;
}

int isc__send_targets(struct isc_conn *c, const char *what, struct isc_text *out)
{
    struct isc_server *srv = c->srv;
    struct isc_session *s = c->sess;
    const char *iname = s ? s->iname : NULL;
    if (*what == 0) {
        /* Appendix C: an empty value asks for the session's own target, which a discovery session has not. */
        if (!s || s->discovery || !s->target)
            return 0;
        return isc__target_acl_allows(s->target, iname) ? isc__send_target(c, s->target, out) : 0;
    }
    bool all = strcmp(what, "All") == 0;
    for (unsigned i = 0; i < srv->n_targets; i++) {
        const struct isc_target *t = &srv->targets[i];
        if (!all && strcmp(what, t->name) != 0)
            continue;
        /* RFC 7143 Appendix C: SendTargets reports the targets the initiator is allowed to access, so a name
         * an access list leaves out hears nothing of that target. */
        if (!isc__target_acl_allows(t, iname))
            continue;
        int rc = isc__send_target(c, t, out);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static uint32_t isc__text_new_ttt(struct isc_conn *c)
{
    uint32_t t = c->next_ping_ttt++;
    if (c->next_ping_ttt == ISC_RSVD_TAG)
        c->next_ping_ttt = 1;
    return t;
}

/* Send the next piece of the pending response, at most what the initiator receives in one PDU. */
static void isc__text_send_piece(struct isc_conn *c, const uint8_t *req)
{
    struct isc_session *s = c->sess;
    size_t max = s->params.max_send_dsl ? s->params.max_send_dsl : ISC_LOGIN_DSL;
    size_t left = c->text_rsp.len - c->text_rsp_off;
    size_t n = left < max ? left : max;
    bool last = n == left;
    uint8_t r[ISC_BHS_LEN];
    /* RFC 7143 11.11.1/11.11.4: a response continued in another PDU has C=1, F=0 and a TTT the initiator echoes
     * to fetch the rest; the last piece has F=1 and TTT 0xffffffff. */
    isc_bhs_init(r, ISC_OP_TEXT_RSP, last ? ISC_FLAG_FINAL : ISC_FLAG_TEXT_CONTINUE);
    memcpy(r + 8, req + 8, 8);
    isc_bhs_set_itt(r, isc_bhs_itt(req));
    c->text_itt = isc_bhs_itt(req);
    c->text_ttt = last ? ISC_RSVD_TAG : isc__text_new_ttt(c);
    isc_bhs_set_ttt(r, c->text_ttt);
    isc__conn_stamp(c, r, true);
    isc__conn_send(c, r, c->text_rsp.buf ? c->text_rsp.buf + c->text_rsp_off : NULL, n);
    c->text_rsp_off += n;
    if (last) {
        isc_text_reset(&c->text_rsp);
        c->text_rsp_off = 0;
    }
}

static int isc__text_keys(struct isc_conn *c, struct isc_text *out)
{
    struct isc_session *s = c->sess;
    struct isc_text_iter it;
    char key[ISC_KEY_NAME_MAX + 2];
    char *val = malloc(ISC_VALUE_MAX + 1);
    if (!val)
        return -ENOMEM;
    struct isc_key_seen seen;
    isc_key_seen_reset(&seen);
    struct isc_key_ctx kctx = {.discovery = s->discovery, .ffp = true};
    int rc = 0;
    isc_text_iter_init(&it, (const uint8_t *)c->text_req.buf, c->text_req.len);
    for (;;) {
        int r = isc_text_next(&it, key, sizeof(key), val, ISC_VALUE_MAX + 1);
        if (r == 0)
            break;
        if (r < 0) {
            rc = -EINVAL;
            break;
        }
        if (isc_key_seen_test_and_mark(&seen, key)) {
            rc = -EINVAL;
            break;
        }
        if (strcmp(key, "SendTargets") == 0) {
            rc = isc__send_targets(c, val, out);
        } else {
            enum isc_key_result kr = isc_key_negotiate_ex(&s->params, &c->srv->limits, &kctx, key, val, out);
            if (kr == ISC_KEY_FATAL) {
                rc = -EINVAL;
            } else if (kr == ISC_KEY_NOT_OPERATIONAL) {
                /* RFC 7143 6.2: login-only keys in a Text Request are answered Reject. */
                rc = isc_text_add(out, key, strcmp(key, "InitiatorAlias") == 0 ? "Irrelevant" : "Reject");
            }
        }
        if (rc < 0)
            break;
    }
    free(val);
    return rc;
}

void isc__text_pdu(struct isc_conn *c, const uint8_t *bhs, const uint8_t *data, size_t len)
{
    uint32_t itt = isc_bhs_itt(bhs);
    uint32_t ttt = isc_bhs_ttt(bhs);
    bool cont = bhs[1] & ISC_FLAG_TEXT_CONTINUE;
    bool final = bhs[1] & ISC_FLAG_FINAL;
    if (cont && final) {
        /* RFC 7143 11.10.2: C=1 requires F=0. */
        isc__conn_reject(c, bhs, ISC_REJECT_PROTOCOL_ERROR);
        return;
    }
    if (ttt != ISC_RSVD_TAG) {
        /* RFC 7143 11.10.4: a TTT continues the exchange we started; anything else is a stale or invented tag. */
        if (ttt != c->text_ttt || itt != c->text_itt) {
            isc__conn_reject(c, bhs, ISC_REJECT_INVALID_PDU_FIELD);
            return;
        }
        if (c->text_rsp.len > c->text_rsp_off) {
            if (len) {
                isc__conn_reject(c, bhs, ISC_REJECT_PROTOCOL_ERROR);
                return;
            }
            isc__text_send_piece(c, bhs);
            return;
        }
    } else {
        /* RFC 7143 11.10.4: TTT 0xffffffff starts a new exchange and abandons any earlier one. */
        isc_text_reset(&c->text_rsp);
        c->text_rsp_off = 0;
        c->text_ttt = ISC_RSVD_TAG;
        if (c->text_req.len && c->text_req_itt != itt)
            isc_text_reset(&c->text_req);
    }
    c->text_req_itt = itt;
    if (c->text_req.len + len > ISC_LOGIN_MAX_TEXT) {
        isc_text_reset(&c->text_req);
        isc__conn_reject(c, bhs, ISC_REJECT_PROTOCOL_ERROR);
        return;
    }
    if (len) {
        size_t need = c->text_req.len + len;
        if (need > c->text_req.cap) {
            char *nb = realloc(c->text_req.buf, need);
            if (!nb) {
                isc__conn_drop(c, false);
                return;
            }
            c->text_req.buf = nb;
            c->text_req.cap = need;
        }
        memcpy(c->text_req.buf + c->text_req.len, data, len);
        c->text_req.len = need;
    }
    if (cont) {
        /* RFC 7143 11.10.2: more request text follows; answer with an empty response and a TTT. */
        uint8_t r[ISC_BHS_LEN];
        isc_bhs_init(r, ISC_OP_TEXT_RSP, 0);
        memcpy(r + 8, bhs + 8, 8);
        isc_bhs_set_itt(r, itt);
        c->text_itt = itt;
        c->text_ttt = isc__text_new_ttt(c);
        isc_bhs_set_ttt(r, c->text_ttt);
        isc__conn_stamp(c, r, true);
        isc__conn_send(c, r, NULL, 0);
        return;
    }
    isc_text_reset(&c->text_rsp);
    c->text_rsp_off = 0;
    int rc = isc__text_keys(c, &c->text_rsp);
    isc_text_reset(&c->text_req);
    if (rc < 0) {
        isc_text_reset(&c->text_rsp);
        isc__conn_reject(c, bhs, ISC_REJECT_PROTOCOL_ERROR);
        return;
    }
    isc__text_send_piece(c, bhs);
}
