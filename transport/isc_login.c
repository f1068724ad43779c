/* The login phase (RFC 7143 6, 11.12, 11.13): security negotiation (AuthMethod=None), operational negotiation,
 * the transition to full feature phase, session creation and reinstatement. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/isc_internal.h"

/* Login status (RFC 7143 11.13.5). */
#define ISC_LS_INITIATOR_ERROR 0x0200
#define ISC_LS_AUTH_FAILURE 0x0201
#define ISC_LS_AUTHZ_FAILURE 0x0202
#define ISC_LS_NOT_FOUND 0x0203
#define ISC_LS_UNSUPPORTED_VERSION 0x0205
#define ISC_LS_TOO_MANY_CONNECTIONS 0x0206
#define ISC_LS_MISSING_PARAMETER 0x0207
#define ISC_LS_SESSION_TYPE 0x0209
#define ISC_LS_NO_SESSION 0x020a
#define ISC_LS_INVALID_DURING_LOGIN 0x020b
#define ISC_LS_TARGET_ERROR 0x0300
#define ISC_LS_SERVICE_UNAVAILABLE 0x0301
#define ISC_LS_OUT_OF_RESOURCES 0x0302

/* What one complete login request (all its C-bit pieces) asked for. */
struct isc_login_req {
    char iname[ISC_NAME_MAX + 1];
    char tname[ISC_NAME_MAX + 1];
    bool has_iname, has_tname, has_stype;
    bool discovery;
};

static void isc__login_respond(struct isc_conn *c, const uint8_t *req, uint8_t flags, uint16_t status,
                               const struct isc_text *txt)
{
    uint8_t r[ISC_BHS_LEN];
    isc_bhs_init(r, ISC_OP_LOGIN_RSP, flags);
    r[2] = 0x00; /* Version-max */
    r[3] = 0x00; /* Version-active (RFC 7143 11.13.2) */
    memcpy(r + 8, req + 8, 6);
    uint16_t tsih = c->sess && c->sess->registered ? c->sess->tsih : 0;
    isc_bhs_set_tsih(r, tsih);
    isc_bhs_set_itt(r, isc_bhs_itt(req));
    isc__conn_stamp(c, r, true);
    isc_bhs_set_login_status(r, (uint8_t)(status >> 8), (uint8_t)status);
    isc__conn_send(c, r, txt ? txt->buf : NULL, txt ? txt->len : 0);
}

/* RFC 7143 6.10 / 11.13.5: a failed login gets one response with the status and the connection is closed. */
static int isc__login_fail(struct isc_conn *c, const uint8_t *req, uint16_t status)
{
    uint8_t flags = (uint8_t)((req[1] & 0x0c));
    isc__login_respond(c, req, flags, status, NULL);
    isc__conn_drop(c, true);
    return -ECONNABORTED;
}

/* RFC 7143 6.3.5: a new session with the InitiatorName and ISID of a live one replaces it; the old session's
 * connection is closed and its tasks are terminated before the new session starts. */
static void isc__login_reinstate(struct isc_conn *c)
{
    struct isc_session *s = c->sess;
    struct isc_session *old = isc__server_find_session(c->srv, s->iname, s->isid, s);
    if (!old)
        return;
    struct isc_conn *oc = old->conn;
    isc__conn_hold(oc);
    if (old->nexus && old->in_target)
        tgt_tmf(old->target->tgt, old->nexus, TGT_TMF_IT_NEXUS_RESET, 0, NULL);
    isc__conn_drop(oc, false);
    isc__conn_put(oc);
}

/* CHAP of this login: the named target's own, or the server's Discovery CHAP before a target is named and for
 * Discovery sessions. */
static const struct isc_chap_cfg *isc__login_chap(const struct isc_conn *c, bool *on)
{
    if (c->target) {
        *on = c->target->chap_on;
        return &c->target->chap_cfg;
    }
    *on = c->srv->chap_on;
    return &c->srv->chap_cfg;
}

static int isc__login_auth(struct isc_conn *c, const char *val, struct isc_text *out, uint16_t *fail)
{
    bool chap_on;
    const struct isc_chap_cfg *cc = isc__login_chap(c, &chap_on);
    /* RFC 7143 12.1: AuthMethod is a list; the target picks the first value it accepts. With CHAP configured
     * only CHAP is accepted; otherwise only None. */
    const char *want = chap_on ? "CHAP" : "None";
    size_t wl = strlen(want);
    const char *p = val;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == wl && memcmp(p, want, wl) == 0) {
            if (chap_on) {
                if (isc_chap_start(&c->chap, cc) < 0) {
                    *fail = ISC_LS_TARGET_ERROR;
                    return 0;
                }
                c->chap_selected = true;
            } else {
                c->login_auth_done = true;
            }
            return isc_text_add(out, "AuthMethod", want);
        }
        if (!e)
            break;
        p = e + 1;
    }
    *fail = ISC_LS_AUTH_FAILURE;
    return isc_text_add(out, "AuthMethod", "Reject");
}

#define ISC_CHAP_MAX_KV 8

/* The CHAP_* pairs of one login request, handed to isc_chap_step() together (isc_chap.h). */
struct isc_chap_pairs {
    struct isc_kv kv[ISC_CHAP_MAX_KV];
    unsigned n;
};

static void isc__chap_pairs_free(struct isc_chap_pairs *cp)
{
    for (unsigned i = 0; i < cp->n; i++) {
        free((char *)cp->kv[i].key);
        free((char *)cp->kv[i].value);
    }
    cp->n = 0;
}

static uint16_t isc__chap_pairs_add(struct isc_chap_pairs *cp, const char *key, const char *val)
{
    if (cp->n == ISC_CHAP_MAX_KV)
        return ISC_LS_INITIATOR_ERROR;
    char *k = strdup(key), *v = strdup(val);
    if (!k || !v) {
        free(k);
        free(v);
        return ISC_LS_OUT_OF_RESOURCES;
    }
    cp->kv[cp->n++] = (struct isc_kv){k, v};
    return 0;
}

static uint16_t isc__chap_run(struct isc_conn *c, struct isc_chap_pairs *cp, struct isc_text *out)
{
    switch (isc_chap_step(&c->chap, cp->kv, cp->n, out)) {
    case ISC_CHAP_CONTINUE:
        return 0;
    case ISC_CHAP_DONE:
        c->login_auth_done = true;
        return 0;
    case ISC_CHAP_AUTH_FAIL:
        return ISC_LS_AUTH_FAILURE;
    case ISC_CHAP_PROTO_ERROR:
        return ISC_LS_INITIATOR_ERROR;
    default:
        return ISC_LS_TARGET_ERROR;
    }
}

/* RFC 7143 13.4: the first login request of a Normal session names its target. The keys are answered in the
 * order they arrive, and AuthMethod may come before TargetName, so the target (whose CHAP applies) is taken
 * from the whole first request before any key is answered. Malformed text is left to isc__login_keys(). */
static void isc__login_pick_target(struct isc_conn *c)
{
    struct isc_text_iter it;
    char key[ISC_KEY_NAME_MAX + 2];
    char *val = malloc(ISC_VALUE_MAX + 1);
    if (!val)
        return;
    struct isc_target *t = NULL;
    bool discovery = false;
    isc_text_iter_init(&it, (const uint8_t *)c->login_acc.buf, c->login_acc.len);
    while (isc_text_next(&it, key, sizeof(key), val, ISC_VALUE_MAX + 1) > 0) {
        if (strcmp(key, "TargetName") == 0 && !t)
            t = isc__server_find_target(c->srv, val);
        else if (strcmp(key, "SessionType") == 0)
            discovery = strcmp(val, "Discovery") == 0;
    }
    free(val);
    c->target = discovery ? NULL : t;
}

/* Walk the accumulated request text, answering keys into out. Returns 0 or a login status. */
static uint16_t isc__login_keys(struct isc_conn *c, struct isc_login_req *rq, struct isc_text *out)
{
    struct isc_session *s = c->sess;
    struct isc_text_iter it;
    char key[ISC_KEY_NAME_MAX + 2];
    static const size_t vcap = ISC_VALUE_MAX + 1;
    char *val = malloc(vcap);
    if (!val)
        return ISC_LS_OUT_OF_RESOURCES;
    uint16_t fail = 0;
    struct isc_chap_pairs chap = {.n = 0};
    isc_text_iter_init(&it, (const uint8_t *)c->login_acc.buf, c->login_acc.len);
    for (;;) {
        int r = isc_text_next(&it, key, sizeof(key), val, vcap);
        if (r == 0)
            break;
        if (r < 0) {
            fail = ISC_LS_INITIATOR_ERROR;
            break;
        }
        /* RFC 7143 6.1: a key offered twice in one negotiation is a protocol error. */
        if (isc_key_seen_test_and_mark(&c->seen, key)) {
            fail = ISC_LS_INITIATOR_ERROR;
            break;
        }
        if (strcmp(key, "InitiatorName") == 0) {
            if (strlen(val) > ISC_NAME_MAX || !*val) {
                fail = ISC_LS_INITIATOR_ERROR;
                break;
            }
            snprintf(rq->iname, sizeof(rq->iname), "%s", val);
            rq->has_iname = true;
        } else if (strcmp(key, "TargetName") == 0) {
            if (strlen(val) > ISC_NAME_MAX) {
                fail = ISC_LS_INITIATOR_ERROR;
                break;
            }
            snprintf(rq->tname, sizeof(rq->tname), "%s", val);
            rq->has_tname = true;
        } else if (strcmp(key, "SessionType") == 0) {
            rq->has_stype = true;
            if (strcmp(val, "Discovery") == 0) {
                rq->discovery = true;
            } else if (strcmp(val, "Normal") == 0) {
                rq->discovery = false;
            } else {
                fail = ISC_LS_SESSION_TYPE;
                break;
            }
        } else if (strcmp(key, "InitiatorAlias") == 0) {
            /* Declarative and informational (RFC 7143 13.6): nothing to answer. */
        } else if (strcmp(key, "AuthMethod") == 0) {
            if (c->login_csg != 0) {
                /* RFC 7143 6.3: security keys belong to the security negotiation stage only. */
                fail = ISC_LS_INITIATOR_ERROR;
                break;
            }
            if (isc__login_auth(c, val, out, &fail) < 0)
                fail = ISC_LS_OUT_OF_RESOURCES;
            if (fail)
                break;
        } else if (strncmp(key, "CHAP_", 5) == 0) {
            /* RFC 7143 12.1.3: CHAP keys follow an agreed AuthMethod=CHAP, in the security stage only. */
            if (!c->chap_selected || c->login_auth_done || c->login_csg != 0) {
                bool chap_on;
                isc__login_chap(c, &chap_on);
                fail = chap_on ? ISC_LS_INITIATOR_ERROR : ISC_LS_AUTH_FAILURE;
                break;
            }
            fail = isc__chap_pairs_add(&chap, key, val);
            if (fail)
                break;
        } else if (strcmp(key, "TargetAlias") == 0 || strcmp(key, "TargetAddress") == 0 ||
                   strcmp(key, "TargetPortalGroupTag") == 0 || strcmp(key, "SendTargets") == 0) {
            /* Target-declared keys, and SendTargets outside a Text Request, are not the initiator's to send
             * (RFC 7143 13.7, 13.8, 13.9, Appendix C). */
            if (isc_text_add(out, key, "Irrelevant") < 0)
                fail = ISC_LS_OUT_OF_RESOURCES;
        } else {
            bool disc = rq->has_stype ? rq->discovery : s->discovery;
            enum isc_key_result kr = isc_key_negotiate(&s->params, &c->srv->limits, disc, key, val, out);
            if (kr == ISC_KEY_FATAL) {
                fail = ISC_LS_INITIATOR_ERROR;
                break;
            }
            if (kr == ISC_KEY_NOT_OPERATIONAL && isc_text_add(out, key, "NotUnderstood") < 0)
                fail = ISC_LS_OUT_OF_RESOURCES;
        }
    }
    free(val);
    if (!fail && chap.n)
        fail = isc__chap_run(c, &chap, out);
    isc__chap_pairs_free(&chap);
    return fail;
}

/* The first complete login request fixes the session's identity (RFC 7143 6.3, 11.12). */
static uint16_t isc__login_first(struct isc_conn *c, const uint8_t *req, const struct isc_login_req *rq,
                                 struct isc_text *out)
{
    struct isc_session *s = c->sess;
    struct isc_server *srv = c->srv;
    /* RFC 7143 13.5: InitiatorName MUST be sent in the first login request of a connection. */
    if (!rq->has_iname)
        return ISC_LS_MISSING_PARAMETER;
    s->discovery = rq->has_stype && rq->discovery;
    if (!s->discovery) {
        /* RFC 7143 13.4: TargetName is required in the first login request of a Normal session. */
        if (!rq->has_tname)
            return ISC_LS_MISSING_PARAMETER;
        /* RFC 7143 11.13.5: Not found (0203h) is "the requested iSCSI target name does not exist at this
         * address". A target of this server that the portal the connection came in on does not expose does not
         * exist at this address either; a redirection (0101h/0102h) would announce a portal the initiator was
         * not given for that target, so it is not used. */
        struct isc_target *t = isc__server_find_target(srv, rq->tname);
        uint16_t tag = t ? isc__target_tpgt(t, c->listener) : 0;
        if (!t || !tag)
            return ISC_LS_NOT_FOUND;
        /* A CHAP exchange already started under another configuration cannot be switched (isc_login.c picks
         * the target from the first request's text before the keys are answered). */
        if (c->target != t)
            return ISC_LS_INITIATOR_ERROR;
        c->tpgt = tag;
        s->tpgt = tag;
        s->target = t;
        /* RFC 7143 11.13.5: Status-Class 2, Detail 2 (authorization failure) is the answer for an initiator
         * the target does not let at this target. Discovery sessions stay open to it; SendTargets then names
         * no target (isc_text.c). */
        if (!isc__target_acl_allows(t, rq->iname))
            return ISC_LS_AUTHZ_FAILURE;
    } else {
        c->target = NULL;
    }
    s->iname = malloc(strlen(rq->iname) + 1);
    if (!s->iname)
        return ISC_LS_OUT_OF_RESOURCES;
    strcpy(s->iname, rq->iname);
    uint16_t tsih = isc_bhs_tsih(req);
    if (tsih != 0) {
        /* RFC 7143 6.3.1 / 11.12.6: a non-zero TSIH adds a connection to an existing session. With
         * MaxConnections=1 that is never possible. */
        return isc__server_find_tsih(srv, tsih) ? ISC_LS_TOO_MANY_CONNECTIONS : ISC_LS_NO_SESSION;
    }
    if (!s->discovery) {
        /* RFC 7143 13.9: the target reports its portal group tag in the first Login Response of a Normal
         * session; the alias (13.7) travels with it. */
        char b[8];
        snprintf(b, sizeof(b), "%u", (unsigned)c->tpgt);
        if (isc_text_add(out, "TargetPortalGroupTag", b) < 0)
            return ISC_LS_OUT_OF_RESOURCES;
        if (s->target->alias && isc_text_add(out, "TargetAlias", s->target->alias) < 0)
            return ISC_LS_OUT_OF_RESOURCES;
    }
    return 0;
}

static uint16_t isc__login_to_ffp(struct isc_conn *c, struct isc_text *out)
{
    struct isc_session *s = c->sess;
    struct isc_server *srv = c->srv;
    if (isc_key_declare_missing(&s->params, &srv->limits, s->discovery, &c->seen, out) < 0)
        return ISC_LS_OUT_OF_RESOURCES;
    isc_params_finalize(&s->params, &srv->limits);
    /* RFC 7143 13.20: only ErrorRecoveryLevel 0 is implemented; MaxConnections is 1 (13.2). */
    s->params.error_recovery_level = 0;
    s->params.max_connections = 1;
    if (s->params.max_outstanding_r2t > ISC_MAX_R2T)
        s->params.max_outstanding_r2t = ISC_MAX_R2T;
    if (s->params.max_outstanding_r2t == 0)
        s->params.max_outstanding_r2t = 1;
    if (s->params.max_send_dsl < 512)
        s->params.max_send_dsl = 512;
    if (!s->discovery) {
        isc__login_reinstate(c);
        s->nexus = tgt_nexus_login(s->target->tgt, s->iname, s->isid, c->tpgt);
        if (!s->nexus)
            return ISC_LS_TARGET_ERROR;
    }
    s->tsih = isc__server_new_tsih(srv);
    if (s->tsih == 0)
        return ISC_LS_OUT_OF_RESOURCES;
    s->registered = true;
    return 0;
}

int isc__login_pdu(struct isc_conn *c, const struct isc_pdu *pdu)
{
    const uint8_t *req = pdu->bhs;
    uint8_t flags = req[1];
    bool transit = flags & ISC_FLAG_LOGIN_TRANSIT;
    bool cont = flags & ISC_FLAG_LOGIN_CONTINUE;
    unsigned csg = isc_login_csg(req), nsg = isc_login_nsg(req);

    if (!c->sess) {
        c->sess = isc__session_new(c);
        if (!c->sess) {
            isc__conn_drop(c, false);
            return -ENOMEM;
        }
        struct isc_session *s = c->sess;
        memcpy(s->isid, req + 8, 6);
        c->cid = isc_bhs_cid(req);
        c->login_itt = isc_bhs_itt(req);
        /* RFC 7143 4.2.2.1: the login request's CmdSN is the first ExpCmdSN; login PDUs are immediate. */
        s->exp_cmdsn = isc_bhs_cmdsn(req);
        s->max_cmdsn = s->exp_cmdsn - 1;
        isc__session_update_window(s);
        /* RFC 7143 4.2.2.2: the target chooses the first StatSN; taking the initiator's ExpStatSN keeps both
         * sides in step from the first response. */
        c->stat_sn = isc_bhs_expstatsn(req);
        c->login_csg = (int)csg;
        /* RFC 7143 11.12.4: Version-min above our only version 0x00 cannot be served. */
        if (req[3] > 0x00)
            return isc__login_fail(c, req, ISC_LS_UNSUPPORTED_VERSION);
    } else if (memcmp(c->sess->isid, req + 8, 6) != 0 || isc_bhs_itt(req) != c->login_itt) {
        /* RFC 7143 11.12.5/11.12.7: ISID and ITT stay the same through one login. */
        return isc__login_fail(c, req, ISC_LS_INITIATOR_ERROR);
    }
    c->exp_stat_sn = isc_bhs_expstatsn(req);
    if (c->srv->shutting_down)
        return isc__login_fail(c, req, ISC_LS_SERVICE_UNAVAILABLE); /* RFC 7143 11.13.5: the target is stopping */

    /* RFC 7143 11.12.2/11.12.3: C and T are exclusive; stage 2 is reserved; a transit goes forward only; the
     * stages never go back. */
    if ((transit && cont) || csg == 2 || csg == 3 || (transit && (nsg == 2 || nsg <= csg)) ||
        (int)csg < c->login_csg)
        return isc__login_fail(c, req, ISC_LS_INITIATOR_ERROR);
    if (pdu->ahs_len)
        return isc__login_fail(c, req, ISC_LS_INVALID_DURING_LOGIN);
    c->login_csg = (int)csg;

    if (c->login_acc.len + pdu->data_len > ISC_LOGIN_MAX_TEXT)
        return isc__login_fail(c, req, ISC_LS_OUT_OF_RESOURCES);
    if (pdu->data_len) {
        size_t need = c->login_acc.len + pdu->data_len;
        if (need > c->login_acc.cap) {
            char *nb = realloc(c->login_acc.buf, need);
            if (!nb)
                return isc__login_fail(c, req, ISC_LS_OUT_OF_RESOURCES);
            c->login_acc.buf = nb;
            c->login_acc.cap = need;
        }
        memcpy(c->login_acc.buf + c->login_acc.len, pdu->data, pdu->data_len);
        c->login_acc.len = need;
    }
    if (cont) {
        /* RFC 7143 11.12.2: the initiator has more text for this request; answer with an empty response. */
        isc__login_respond(c, req, (uint8_t)(csg << 2), 0, NULL);
        return 0;
    }

    struct isc_text out;
    isc_text_init(&out);
    struct isc_login_req rq;
    memset(&rq, 0, sizeof(rq));
    if (!c->login_first_done)
        isc__login_pick_target(c);
    uint16_t fail = isc__login_keys(c, &rq, &out);
    isc_text_reset(&c->login_acc);
    if (!fail && !c->login_first_done) {
        fail = isc__login_first(c, req, &rq, &out);
        if (!fail)
            c->login_first_done = true;
    } else if (!fail && (rq.has_iname || rq.has_tname || rq.has_stype) && c->sess->iname &&
               rq.has_iname && strcmp(rq.iname, c->sess->iname) != 0) {
        /* RFC 7143 13.5: the initiator's name does not change within a login. */
        fail = ISC_LS_INITIATOR_ERROR;
    }
    if (!fail && csg == 0 && transit && !c->login_auth_done) {
        if (c->chap_selected) {
            /* RFC 7143 6.2 / 12.1.3: the CHAP exchange is not finished; the target answers without T and the
             * initiator continues in the security stage. */
            transit = false;
        } else {
            /* RFC 7143 6.3 / 12: leaving the security stage requires an agreed AuthMethod. */
            fail = ISC_LS_AUTH_FAILURE;
        }
    }
    if (!fail && csg == 1 && !c->login_auth_done) {
        /* RFC 7143 6.3: skipping the security stage means AuthMethod=None, which a CHAP target refuses. */
        bool chap_on;
        isc__login_chap(c, &chap_on);
        if (chap_on)
            fail = ISC_LS_AUTH_FAILURE;
        else
            c->login_auth_done = true;
    }
    if (!fail && transit && nsg == 3)
        fail = isc__login_to_ffp(c, &out);
    if (fail) {
        isc_text_free(&out);
        return isc__login_fail(c, req, fail);
    }
    if (out.len > ISC_LOGIN_DSL) {
        /* Our answers are short; more than the 8192 bytes an initiator accepts during login means trouble. */
        isc_text_free(&out);
        return isc__login_fail(c, req, ISC_LS_TARGET_ERROR);
    }
    uint8_t rflags = (uint8_t)(csg << 2);
    if (transit)
        rflags |= (uint8_t)(ISC_FLAG_LOGIN_TRANSIT | nsg);
    isc__login_respond(c, req, rflags, 0, &out);
    isc_text_free(&out);
    if (transit && nsg == 3 && c->state == ISC_CONN_LOGIN) {
        struct isc_session *s = c->sess;
        c->state = ISC_CONN_FFP;
        /* RFC 7143 13.1: digests start with the first PDU after the final Login Response. */
        c->tx_hdigest = s->params.header_digest;
        c->tx_ddigest = s->params.data_digest;
        isc_rx_set_digests(&c->rx, s->params.header_digest, s->params.data_digest);
        isc_rx_set_max_data_len(&c->rx, s->params.max_recv_dsl);
        c->last_rx_ms = isc__server_now(c->srv);
        isc_text_free(&c->login_acc);
    } else if (transit && nsg == 1) {
        c->login_csg = 1;
        isc_key_seen_reset(&c->seen);
    }
    return c->state == ISC_CONN_CLOSED ? -ECONNABORTED : 0;
}
