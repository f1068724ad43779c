/* The iSCSI target server: configuration, session registry (TSIH, reinstatement lookup), timers, shutdown and the
 * shared pool of command data buffers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/isc_internal.h"

static char *isc__strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

struct isc_server *isc_server_new(const struct isc_server_cfg *cfg, char *err, size_t errlen)
{
    if (!cfg || !cfg->target_name || !*cfg->target_name || !cfg->tgt) {
        snprintf(err, errlen, "iscsi: a target name and a SCSI target are required");
        return NULL;
    }
    struct isc_server *srv = calloc(1, sizeof(*srv));
    if (!srv) {
        snprintf(err, errlen, "iscsi: out of memory");
        return NULL;
    }
    srv->target_name = isc__strdup(cfg->target_name);
    srv->target_alias = isc__strdup(cfg->target_alias);
    srv->tgt = cfg->tgt;
    srv->nop_interval_ms = cfg->nop_interval_ms;
    srv->nop_timeout_ms = cfg->nop_timeout_ms ? cfg->nop_timeout_ms : 30000;
    srv->login_timeout_ms = cfg->login_timeout_ms ? cfg->login_timeout_ms : 15000;
    srv->now_ms = cfg->now_ms;
    srv->now_ctx = cfg->now_ctx;
    srv->next_tsih = 1;
    isc_limits_defaults(&srv->limits);
    /* RFC 7143 13.17: several R2Ts in flight per task keep large writes streaming. */
    srv->limits.max_outstanding_r2t = ISC_MAX_R2T;
    if (cfg->n_portals) {
        srv->portals = calloc(cfg->n_portals, sizeof(*srv->portals));
        if (!srv->portals)
            goto nomem;
        for (unsigned i = 0; i < cfg->n_portals; i++) {
            srv->portals[i].tpgt = cfg->portals[i].tpgt;
            srv->portals[i].addr = isc__strdup(cfg->portals[i].addr ? cfg->portals[i].addr : "");
            if (!srv->portals[i].addr)
                goto nomem;
            srv->n_portals = i + 1;
        }
    }
    if (!srv->target_name || (cfg->target_alias && !srv->target_alias))
        goto nomem;
    if (cfg->n_acl) {
        srv->acl = calloc(cfg->n_acl, sizeof(*srv->acl));
        if (!srv->acl)
            goto nomem;
        for (unsigned i = 0; i < cfg->n_acl; i++) {
            srv->acl[i] = isc__strdup(cfg->acl[i]);
            if (!srv->acl[i])
                goto nomem;
            srv->n_acl = i + 1;
        }
    }
    if (cfg->chap_user || cfg->chap_secret || cfg->chap_target_user || cfg->chap_target_secret) {
        srv->chap_cfg.user = isc__strdup(cfg->chap_user);
        srv->chap_cfg.secret = isc__strdup(cfg->chap_secret);
        srv->chap_cfg.target_user = isc__strdup(cfg->chap_target_user);
        srv->chap_cfg.target_secret = isc__strdup(cfg->chap_target_secret);
        if ((cfg->chap_user && !srv->chap_cfg.user) || (cfg->chap_secret && !srv->chap_cfg.secret) ||
            (cfg->chap_target_user && !srv->chap_cfg.target_user) ||
            (cfg->chap_target_secret && !srv->chap_cfg.target_secret))
            goto nomem;
        /* RFC 7143 9.2.1: secrets of at least 96 bits, and different secrets for the two directions. */
        if (isc_chap_cfg_check(&srv->chap_cfg) < 0) {
            snprintf(err, errlen, "iscsi: CHAP needs a user and a secret of at least %d bytes (and a different "
                                  "target secret for mutual CHAP)", ISC_CHAP_MIN_SECRET);
            isc_server_free(srv);
            return NULL;
        }
        srv->chap_on = true;
    }
    /* Writes still collecting Data-Out live here, not in the target: let the target's PREEMPT AND ABORT and
     * resets end them too (tgt.h, tgt_server_set_held_abort). */
    if (srv->tgt)
        tgt_server_set_held_abort(srv->tgt, isc__tmf_held_abort, srv);
    return srv;
nomem:
    snprintf(err, errlen, "iscsi: out of memory");
    isc_server_free(srv);
    return NULL;
}

void isc_server_free(struct isc_server *srv)
{
    if (!srv)
        return;
    if (srv->tgt)
        tgt_server_set_held_abort(srv->tgt, NULL, NULL);
    for (unsigned i = 0; i < srv->n_portals; i++)
        free((char *)srv->portals[i].addr);
    free(srv->portals);
    for (unsigned k = 0; k < ISC_BUF_CLASSES; k++) {
        while (srv->buf_free[k]) {
            struct isc_buf *b = srv->buf_free[k];
            srv->buf_free[k] = b->next;
            free(b);
        }
    }
    for (unsigned i = 0; i < srv->n_acl; i++)
        free(srv->acl[i]);
    free(srv->acl);
    free((char *)srv->chap_cfg.user);
    free((char *)srv->chap_cfg.secret);
    free((char *)srv->chap_cfg.target_user);
    free((char *)srv->chap_cfg.target_secret);
    free(srv->target_name);
    free(srv->target_alias);
    free(srv);
}

bool isc__server_acl_allows(const struct isc_server *srv, const char *iname)
{
    if (srv->n_acl == 0)
        return true;
    for (unsigned i = 0; i < srv->n_acl; i++)
        if (iname && strcmp(srv->acl[i], iname) == 0)
            return true;
    return false;
}

uint64_t isc__server_now(const struct isc_server *srv)
{
    return srv->now_ms ? srv->now_ms(srv->now_ctx) : 0;
}

uint16_t isc__server_new_tsih(struct isc_server *srv)
{
    /* RFC 7143 11.12.6: TSIH 0 is reserved for "new session"; skip any value still in use. */
    for (unsigned tries = 0; tries < 65536; tries++) {
        uint16_t t = srv->next_tsih++;
        if (srv->next_tsih == 0)
            srv->next_tsih = 1;
        if (t != 0 && !isc__server_find_tsih(srv, t))
            return t;
    }
    return 0;
}

struct isc_session *isc__server_find_session(struct isc_server *srv, const char *iname, const uint8_t isid[6],
                                             const struct isc_session *except)
{
    for (struct isc_conn *c = srv->conns; c; c = c->next) {
        struct isc_session *s = c->sess;
        if (!s || s == except || !s->registered || s->discovery || !s->iname)
            continue;
        /* RFC 7143 4.4.3: a session is named by the initiator name and SSID = (ISID, TPGT); the same ISID
         * through another portal group is another session (an MPIO path), not a reinstatement. */
        if (except && s->tpgt != except->tpgt)
            continue;
        if (memcmp(s->isid, isid, 6) == 0 && strcmp(s->iname, iname) == 0)
            return s;
    }
    return NULL;
}

struct isc_session *isc__server_find_tsih(struct isc_server *srv, uint16_t tsih)
{
    for (struct isc_conn *c = srv->conns; c; c = c->next)
        if (c->sess && c->sess->registered && c->sess->tsih == tsih)
            return c->sess;
    return NULL;
}

static unsigned isc__buf_class(size_t need)
{
    unsigned k = 0;
    size_t sz = TGT_CMD_MIN_BUF;
    while (sz < need && k + 1 < ISC_BUF_CLASSES) {
        sz <<= 1;
        k++;
    }
    return k;
}

void *isc__buf_get(struct isc_server *srv, size_t need, size_t *cap, unsigned *cls)
{
    if (need < TGT_CMD_MIN_BUF)
        need = TGT_CMD_MIN_BUF;
    unsigned k = isc__buf_class(need);
    size_t sz = (size_t)TGT_CMD_MIN_BUF << k;
    if (sz < need)
        return NULL;
    void *b = srv->buf_free[k];
    if (b) {
        srv->buf_free[k] = srv->buf_free[k]->next;
        srv->buf_free_cnt[k]--;
    } else {
        b = malloc(sz);
        if (!b)
            return NULL;
    }
    *cap = sz;
    *cls = k;
    return b;
}

void isc__buf_put(struct isc_server *srv, void *buf, unsigned cls)
{
    /* Keep enough buffers for a full queue of small commands; large ones are rare and expensive to keep. */
    unsigned keep = cls <= 1 ? ISC_QUEUE_DEPTH : cls <= 4 ? 16 : 2;
    if (srv->buf_free_cnt[cls] >= keep) {
        free(buf);
        return;
    }
    struct isc_buf *b = buf;
    b->next = srv->buf_free[cls];
    srv->buf_free[cls] = b;
    srv->buf_free_cnt[cls]++;
}

void isc_server_tick(struct isc_server *srv, uint64_t now_ms)
{
    struct isc_conn *c = srv->conns;
    while (c) {
        struct isc_conn *next = c->next;
        isc__conn_hold(c);
        isc__conn_tick(c, now_ms);
        next = c->next;
        isc__conn_put(c);
        c = next;
    }
}

void isc_server_shutdown(struct isc_server *srv)
{
    srv->shutting_down = true;
    struct isc_conn *c = srv->conns;
    while (c) {
        isc__conn_hold(c);
        isc__conn_async_logout(c);
        struct isc_conn *next = c->next;
        isc__conn_put(c);
        c = next;
    }
}

void isc_server_foreach_session(struct isc_server *srv, void (*fn)(void *arg, const struct isc_session_info *),
                                void *arg)
{
    for (struct isc_conn *c = srv->conns; c; c = c->next) {
        struct isc_session *s = c->sess;
        if (!s || !s->registered)
            continue;
        struct isc_session_info info = {
            .initiator_name = s->iname ? s->iname : "",
            .tsih = s->tsih,
            .tpgt = s->tpgt,
            .peer_addr = c->peer_addr ? c->peer_addr : "",
            .discovery = s->discovery,
            .header_digest = s->params.header_digest,
            .data_digest = s->params.data_digest,
            .cmds_in_flight = s->n_tasks,
        };
        memcpy(info.isid, s->isid, 6);
        fn(arg, &info);
    }
}
