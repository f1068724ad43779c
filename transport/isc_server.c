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

/* Copy the four CHAP strings into cc; on is set when any is given. Returns 0, -ENOMEM, or -EINVAL when the
 * secrets are unusable (RFC 7143 9.2.1: at least 96 bits, and different secrets for the two directions). */
static int isc__chap_copy(struct isc_chap_cfg *cc, bool *on, const char *u, const char *sec, const char *tu,
                          const char *tsec)
{
    if (!u && !sec && !tu && !tsec)
        return 0;
    cc->user = isc__strdup(u);
    cc->secret = isc__strdup(sec);
    cc->target_user = isc__strdup(tu);
    cc->target_secret = isc__strdup(tsec);
    if ((u && !cc->user) || (sec && !cc->secret) || (tu && !cc->target_user) || (tsec && !cc->target_secret))
        return -ENOMEM;
    if (isc_chap_cfg_check(cc) < 0)
        return -EINVAL;
    *on = true;
    return 0;
}

static void isc__chap_free(struct isc_chap_cfg *cc)
{
    free((char *)cc->user);
    free((char *)cc->secret);
    free((char *)cc->target_user);
    free((char *)cc->target_secret);
}

static uint16_t isc__listener_of(const struct isc_server *srv, const char *addr)
{
    for (unsigned i = 0; i < srv->n_portals; i++)
        if (addr && strcmp(srv->portals[i].addr, addr) == 0)
            return srv->portals[i].tpgt;
    return 0;
}

/* Fill target t from tc. Returns 0, -ENOMEM, or -EINVAL with err written. */
static int isc__target_init(struct isc_server *srv, struct isc_target *t, const struct isc_target_cfg *tc,
                            char *err, size_t errlen)
{
    t->srv = srv;
    if (!tc->name || !*tc->name || !tc->tgt) {
        snprintf(err, errlen, "iscsi: a target name and a SCSI target are required");
        return -EINVAL;
    }
    t->name = isc__strdup(tc->name);
    t->alias = isc__strdup(tc->alias);
    t->tgt = tc->tgt;
    if (!t->name || (tc->alias && !t->alias))
        return -ENOMEM;
    if (tc->n_portals) {
        t->portals = calloc(tc->n_portals, sizeof(*t->portals));
        if (!t->portals)
            return -ENOMEM;
        for (unsigned i = 0; i < tc->n_portals; i++) {
            uint16_t l = isc__listener_of(srv, tc->portals[i].addr);
            if (!l || !tc->portals[i].tpgt) {
                snprintf(err, errlen, "iscsi: target %s: portal %s is not a listener", tc->name,
                         tc->portals[i].addr ? tc->portals[i].addr : "(null)");
                return -EINVAL;
            }
            t->portals[i] = (struct isc_target_portal){.listener = l, .tpgt = tc->portals[i].tpgt};
            t->n_portals = i + 1;
        }
    }
    if (tc->n_acl) {
        t->acl = calloc(tc->n_acl, sizeof(*t->acl));
        if (!t->acl)
            return -ENOMEM;
        for (unsigned i = 0; i < tc->n_acl; i++) {
            t->acl[i] = isc__strdup(tc->acl[i]);
            if (!t->acl[i])
                return -ENOMEM;
            t->n_acl = i + 1;
        }
    }
    int rc = isc__chap_copy(&t->chap_cfg, &t->chap_on, tc->chap_user, tc->chap_secret, tc->chap_target_user,
                            tc->chap_target_secret);
    if (rc == -EINVAL)
        snprintf(err, errlen, "iscsi: CHAP needs a user and a secret of at least %d bytes (and a different "
                              "target secret for mutual CHAP)", ISC_CHAP_MIN_SECRET);
    return rc;
}

struct isc_server *isc_server_new(const struct isc_server_cfg *cfg, char *err, size_t errlen)
{
    if (!cfg || (cfg->n_targets == 0 && (!cfg->target_name || !*cfg->target_name || !cfg->tgt))) {
        snprintf(err, errlen, "iscsi: a target name and a SCSI target are required");
        return NULL;
    }
    struct isc_server *srv = calloc(1, sizeof(*srv));
    if (!srv) {
        snprintf(err, errlen, "iscsi: out of memory");
        return NULL;
    }
    srv->nop_interval_ms = cfg->nop_interval_ms;
    srv->nop_timeout_ms = cfg->nop_timeout_ms ? cfg->nop_timeout_ms : 30000;
    srv->login_timeout_ms = cfg->login_timeout_ms ? cfg->login_timeout_ms : 15000;
    srv->now_ms = cfg->now_ms;
    srv->now_ctx = cfg->now_ctx;
    srv->next_tsih = 1;
    isc_limits_defaults(&srv->limits);
    /* RFC 7143 13.17: several R2Ts in flight per task keep large writes streaming. */
    srv->limits.max_outstanding_r2t = ISC_MAX_R2T;
    int rc;
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
    /* The single-target form is one target exposed on every portal, with the portal's own tag. */
    struct isc_target_cfg one = {
        .name = cfg->target_name, .alias = cfg->target_alias, .tgt = cfg->tgt,
        .chap_user = cfg->chap_user, .chap_secret = cfg->chap_secret,
        .chap_target_user = cfg->chap_target_user, .chap_target_secret = cfg->chap_target_secret,
        .acl = cfg->acl, .n_acl = cfg->n_acl,
    };
    const struct isc_target_cfg *tcs = cfg->n_targets ? cfg->targets : &one;
    unsigned nt = cfg->n_targets ? cfg->n_targets : 1;
    srv->targets = calloc(nt, sizeof(*srv->targets));
    if (!srv->targets)
        goto nomem;
    for (unsigned i = 0; i < nt; i++) {
        srv->n_targets = i + 1;
        err[0] = '\0';
        rc = isc__target_init(srv, &srv->targets[i], &tcs[i], err, errlen);
        if (rc == -ENOMEM)
            goto nomem;
        if (rc) {
            isc_server_free(srv);
            return NULL;
        }
        srv->targets[i].every_portal = cfg->n_targets == 0;
        for (unsigned j = 0; j < i; j++) {
            if (strcmp(srv->targets[j].name, srv->targets[i].name) == 0 || srv->targets[j].tgt == tcs[i].tgt) {
                snprintf(err, errlen, "iscsi: target %s is listed twice", tcs[i].name);
                isc_server_free(srv);
                return NULL;
            }
        }
    }
    rc = isc__chap_copy(&srv->chap_cfg, &srv->chap_on, cfg->chap_user, cfg->chap_secret, cfg->chap_target_user,
                        cfg->chap_target_secret);
    if (rc == -ENOMEM)
        goto nomem;
    if (rc) {
        snprintf(err, errlen, "iscsi: CHAP needs a user and a secret of at least %d bytes (and a different "
                              "target secret for mutual CHAP)", ISC_CHAP_MIN_SECRET);
        isc_server_free(srv);
        return NULL;
    }
    /* Writes still collecting Data-Out live here, not in the target: let the target's PREEMPT AND ABORT and
     * resets end them too (tgt.h, tgt_server_set_held_abort). */
    for (unsigned i = 0; i < srv->n_targets; i++)
        tgt_server_set_held_abort(srv->targets[i].tgt, isc__tmf_held_abort, &srv->targets[i]);
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
    for (unsigned i = 0; i < srv->n_targets; i++) {
        struct isc_target *t = &srv->targets[i];
        if (t->tgt)
            tgt_server_set_held_abort(t->tgt, NULL, NULL);
        for (unsigned k = 0; k < t->n_acl; k++)
            free(t->acl[k]);
        free(t->acl);
        free(t->portals);
        isc__chap_free(&t->chap_cfg);
        free(t->name);
        free(t->alias);
    }
    free(srv->targets);
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
    isc__chap_free(&srv->chap_cfg);
    free(srv);
}

bool isc__target_acl_allows(const struct isc_target *t, const char *iname)
{
    if (t->n_acl == 0)
        return true;
    for (unsigned i = 0; i < t->n_acl; i++)
        if (iname && strcmp(t->acl[i], iname) == 0)
            return true;
    return false;
}

struct isc_target *isc__server_find_target(struct isc_server *srv, const char *name)
{
    for (unsigned i = 0; i < srv->n_targets; i++)
        if (strcmp(srv->targets[i].name, name) == 0)
            return &srv->targets[i];
    return NULL;
}

uint16_t isc__target_tpgt(const struct isc_target *t, uint16_t listener)
{
    if (t->every_portal)
        return listener;
    for (unsigned i = 0; i < t->n_portals; i++)
        if (t->portals[i].listener == listener)
            return t->portals[i].tpgt;
    return 0;
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
         * through another portal group is another session (an MPIO path), not a reinstatement. The portal
         * group belongs to one target (4.4.1), so a session with another target is never reinstated either. */
        if (except && (s->tpgt != except->tpgt || s->target != except->target))
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
            .target_name = s->target ? s->target->name : "",
            .local_addr = c->local_addr ? c->local_addr : "",
        };
        memcpy(info.isid, s->isid, 6);
        fn(arg, &info);
    }
}
