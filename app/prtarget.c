/* prtarget: the daemon. Parses the command line, builds the SCSI target device with its LUs, binds the
 * portals, prints the readiness lines and runs the event loop until SIGTERM/SIGINT. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/prt_app.h"
#include "target/tgt.h"
#include "transport/isc.h"
#include "transport/net.h"

static void prt__net_log(void *ctx, enum net_log_level level, const char *msg)
{
    prt_log_str(ctx, (enum prt_log_level)level, msg);
}

/* One line on stderr naming the flag and the problem (design.md: bad flag, config or state file). */
static int prt__fail(int code, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "prtarget: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return code;
}

static int prt__check_state_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || mkdir(dir, 0700) != 0)
            return prt__fail(PRT_EXIT_USAGE, "--state-dir %s: %s", dir, strerror(errno));
        return 0;
    }
    if (!S_ISDIR(st.st_mode))
        return prt__fail(PRT_EXIT_USAGE, "--state-dir %s: %s", dir, "not a directory");
    return 0;
}

/* One SCSI target device with the LUs of t (the first target, or one of cfg.more). */
static int prt__build_one(struct prt_app *app, const struct prt_config *t, const char *state_dir,
                          struct tgt_server **out)
{
    char err[PRT_ERR_LEN] = "";
    struct tgt_server_cfg tc = {
        .target_name = t->target,
        .n_ports = (uint16_t)t->n_listen,
        .exec = net_exec(app->net),
        .now_ms = net_now_ms,
        .now_ctx = app->net,
    };
    *out = tgt_server_new(&tc, err, sizeof err);
    if (!*out)
        return prt__fail(PRT_EXIT_RUNTIME, "target %s: %s", t->target, err);
    for (unsigned i = 0; i < t->n_luns; i++) {
        const struct prt_lun_spec *ls = &t->luns[i];
        struct tgt_lu_cfg lc = {
            .backend = ls->file ? TGT_BACKEND_FILE : TGT_BACKEND_MEM,
            .path = ls->file ? ls->path : NULL,
            .size = ls->size,
            .block_size = ls->block_size,
            .read_only = ls->read_only,
            .state_dir = state_dir,
            .vendor = ls->vendor, .product = ls->product, .serial = ls->serial, /* config file identity */
            .naa = ls->has_naa ? ls->naa : NULL, .removable = ls->removable,
            .sanitize = ls->sanitize,
        };
        err[0] = '\0';
        int rc = tgt_server_add_lu(*out, &lc, err, sizeof err);
        if (rc)
            return prt__fail(PRT_EXIT_USAGE, "--lun %s: %s", ls->spec, err[0] ? err : strerror(-rc));
        /* The emulated SANITIZE duration is a property of the LU once it exists (target/sanitize.c). */
        if (ls->sanitize_ms && (rc = tgt_lu_set_sanitize_ms(tgt_server_lu(*out, i), ls->sanitize_ms)) != 0)
            return prt__fail(PRT_EXIT_USAGE, "--lun %s: %s", ls->spec, strerror(-rc));
    }
    return 0;
}

/* Initial ALUA states of targets[idx] from the config file (SPC-4 5.16): set before any portal listens, so no
 * initiator ever sees the default state first and no nexus exists yet to be told of a change. Each target has
 * its own target port groups (one per portal of its own), so the states of one never reach another. */
static int prt__apply_alua(const struct prt_app *app, const struct prt_config *t, unsigned idx,
                           struct tgt_server *tgt)
{
    for (unsigned i = 0; i < t->n_alua; i++) {
        char err[PRT_ERR_LEN];
        int rc = tgt_alua_set_state(tgt, t->alua[i].tpg, (enum tgt_alua_state)t->alua[i].state);
        if (rc) {
            snprintf(err, sizeof err, "targets[%u].alua[%u]: %s", idx, i, strerror(-rc));
            return prt__fail(PRT_EXIT_USAGE, "--config %s: %s", app->cfg.config_file, err);
        }
    }
    return 0;
}

static int prt__build_target(struct prt_app *app)
{
    int rc = prt__build_one(app, &app->cfg, app->cfg.state_dir, &app->tgt);
    if (rc || (rc = prt__apply_alua(app, &app->cfg, 0, app->tgt)) != 0)
        return rc;
    for (unsigned i = 0; rc == 0 && i < app->cfg.n_more; i++) {
        const struct prt_config *t = &app->cfg.more[i];
        const char *dir = t->state_dir ? t->state_dir : app->cfg.state_dir;
        if (t->state_dir && (rc = prt__check_state_dir(t->state_dir)) != 0)
            return rc;
        if ((rc = prt__build_one(app, t, dir, &app->tgt_more[i])) == 0)
            rc = prt__apply_alua(app, t, i + 1, app->tgt_more[i]);
    }
    return rc;
}

static int prt__bind_one(struct prt_app *app, const char *addr)
{
    if (app->n_bound == PRT_MAX_PORTALS)
        return prt__fail(PRT_EXIT_USAGE, "--listen %s: %s", addr, "more than 16 distinct portals in all");
    unsigned i = app->n_bound;
    int rc = net_listen(app->net, addr, (uint16_t)(i + 1), app->bound[i], sizeof app->bound[i]);
    if (rc)
        return prt__fail(rc == -EINVAL ? PRT_EXIT_USAGE : PRT_EXIT_RUNTIME, "--listen %s: %s", addr,
                         rc == -EINVAL ? "not a valid address" : strerror(-rc));
    app->n_bound++;
    return 0;
}

/* One listening socket per distinct address: the first target's portals first, in order (their listener id is
 * their TPGT, as with one target), then every address of the other targets not listed before. A portal two
 * targets list is one socket whose connections may log in to either (transport/isc.h). listeners gets every
 * bound address with its listener id. */
static int prt__bind_portals(struct prt_app *app, struct isc_portal *listeners)
{
    const char *asked[PRT_MAX_PORTALS]; /* each listener's address as the configuration gave it */
    int rc;
    for (unsigned i = 0; i < app->cfg.n_listen; i++) {
        if ((rc = prt__bind_one(app, app->cfg.listen[i])) != 0)
            return rc;
        asked[i] = app->cfg.listen[i];
    }
    for (unsigned t = 0; t < app->cfg.n_more; t++) {
        const struct prt_config *mt = &app->cfg.more[t];
        for (unsigned j = 0; j < mt->n_listen; j++) {
            unsigned k = 0;
            while (k < app->n_bound && strcmp(asked[k], mt->listen[j]) != 0)
                k++;
            if (k == app->n_bound) {
                if ((rc = prt__bind_one(app, mt->listen[j])) != 0)
                    return rc;
                asked[k] = mt->listen[j];
            }
            app->more_listener[t][j] = (uint8_t)k;
        }
    }
    for (unsigned i = 0; i < app->n_bound; i++)
        listeners[i] = (struct isc_portal){ .addr = app->bound[i], .tpgt = (uint16_t)(i + 1) };
    return 0;
}

static void prt__print_ready(const struct prt_app *app)
{
    for (unsigned p = 0; p < app->cfg.n_listen; p++)
        for (unsigned l = 0; l < app->cfg.n_luns; l++)
            printf("prtarget: ready iscsi://%s/%s/%u\n", app->bound[p], app->cfg.target, l);
    for (unsigned t = 0; t < app->cfg.n_more; t++) {
        const struct prt_config *mt = &app->cfg.more[t];
        for (unsigned p = 0; p < mt->n_listen; p++)
            for (unsigned l = 0; l < mt->n_luns; l++)
                printf("prtarget: ready iscsi://%s/%s/%u\n", app->bound[app->more_listener[t][p]], mt->target, l);
    }
    /* The readiness lines are the start-up handshake of scripts and tests reading a pipe. */
    fflush(stdout);
}

static int prt__run(struct prt_app *app)
{
    int rc;
    struct isc_portal portals[PRT_MAX_PORTALS];
    struct isc_portal tportals[PRT_MAX_TARGETS][PRT_MAX_PORTALS];
    struct isc_target_cfg targets[PRT_MAX_TARGETS];
    struct net_cfg nc = { .log = prt__net_log, .log_ctx = &app->log };

    if (app->cfg.state_dir && (rc = prt__check_state_dir(app->cfg.state_dir)) != 0)
        return rc;

    app->net = net_loop_new(&nc);
    if (!app->net)
        return prt__fail(PRT_EXIT_RUNTIME, "%s%s", "cannot create the event loop", "");
    if ((rc = prt__build_target(app)) != 0)
        return rc;
    if ((rc = prt__bind_portals(app, portals)) != 0)
        return rc;

    char err[PRT_ERR_LEN] = "";
    struct isc_server_cfg ic = {
        .target_name = app->cfg.target,
        .tgt = app->tgt,
        .portals = portals,
        .n_portals = app->cfg.n_listen,
        .nop_interval_ms = 5000,
        .nop_timeout_ms = 30000,
        .login_timeout_ms = 15000,
        .now_ms = net_now_ms,
        .now_ctx = app->net,
        /* CHAP and the initiator access list (app/prt_config.c resolved the flags and the config file). */
        .chap_user = app->cfg.chap_user,
        .chap_secret = app->cfg.chap_secret,
        .chap_target_user = app->cfg.chap_mutual_user,
        .chap_target_secret = app->cfg.chap_mutual_secret,
        .acl = app->cfg.acl,
        .n_acl = app->cfg.n_acl,
    };
    if (app->cfg.n_more) {
        /* Several targets: each lists its own portals with its own tags 1..n (docs/config.md); Discovery
         * sessions are guarded by the first target's CHAP, as they name no target. */
        unsigned n = 0;
        targets[n++] = (struct isc_target_cfg){
            .name = app->cfg.target, .tgt = app->tgt, .portals = portals, .n_portals = app->cfg.n_listen,
            .chap_user = app->cfg.chap_user, .chap_secret = app->cfg.chap_secret,
            .chap_target_user = app->cfg.chap_mutual_user, .chap_target_secret = app->cfg.chap_mutual_secret,
            .acl = app->cfg.acl, .n_acl = app->cfg.n_acl,
        };
        for (unsigned t = 0; t < app->cfg.n_more; t++) {
            const struct prt_config *mt = &app->cfg.more[t];
            for (unsigned j = 0; j < mt->n_listen; j++)
                tportals[t][j] = (struct isc_portal){ .addr = app->bound[app->more_listener[t][j]],
                                                      .tpgt = (uint16_t)(j + 1) };
            targets[n++] = (struct isc_target_cfg){
                .name = mt->target, .tgt = app->tgt_more[t], .portals = tportals[t], .n_portals = mt->n_listen,
                .chap_user = mt->chap_user, .chap_secret = mt->chap_secret,
                .chap_target_user = mt->chap_mutual_user, .chap_target_secret = mt->chap_mutual_secret,
                .acl = mt->acl, .n_acl = mt->n_acl,
            };
        }
        ic.portals = portals;
        ic.n_portals = app->n_bound;
        ic.targets = targets;
        ic.n_targets = n;
    }
    app->isc = isc_server_new(&ic, err, sizeof err);
    if (!app->isc)
        return prt__fail(PRT_EXIT_RUNTIME, "iSCSI server: %s%s", err, "");
    if ((rc = net_start(app->net, app->isc)) != 0)
        return prt__fail(PRT_EXIT_RUNTIME, "event loop: %s%s", strerror(-rc), "");

    if ((rc = prt_app_tools_start(app)) != 0) /* control socket, event log, PR profiles (prt_control.c) */
        return rc;
    prt__print_ready(app);
    /* Only now: a start-up failure must leave exactly one line on stderr (design.md), so nothing is logged
     * before every step that can fail has succeeded. */
    for (unsigned i = 0; i < app->cfg.n_luns; i++)
        prt_log(&app->log, PRT_LOG_INFO, "LUN %u: %s", i, app->cfg.luns[i].spec ? app->cfg.luns[i].spec : "");
    for (unsigned i = 0; i < app->cfg.n_listen; i++)
        prt_log(&app->log, PRT_LOG_INFO, "portal %s (tpgt %u)", app->bound[i], i + 1);
    for (unsigned t = 0; t < app->cfg.n_more; t++)
        prt_log(&app->log, PRT_LOG_INFO, "also target %s: %u portal(s), %u LUN(s)", app->cfg.more[t].target,
                app->cfg.more[t].n_listen, app->cfg.more[t].n_luns);
    prt_log(&app->log, PRT_LOG_INFO, "ready: target %s, %u portal(s), %u LUN(s)", app->cfg.target,
            app->cfg.n_listen, app->cfg.n_luns);
    rc = net_run(app->net);
    if (rc)
        prt_log(&app->log, PRT_LOG_ERROR, "event loop: %s", strerror(-rc));

    /* design.md: data written is never lost on SIGTERM; the loop only returns once every in-flight command
     * has completed, so this flush covers all of them. */
    int frc = tgt_server_flush(app->tgt);
    for (unsigned t = 0; t < app->cfg.n_more && frc == 0; t++)
        frc = tgt_server_flush(app->tgt_more[t]);
    if (frc) {
        prt_log(&app->log, PRT_LOG_ERROR, "flush: %s", strerror(-frc));
        return PRT_EXIT_RUNTIME;
    }
    prt_log(&app->log, PRT_LOG_INFO, "stopped (signal %d)", net_stop_signal(app->net));
    return rc ? PRT_EXIT_RUNTIME : PRT_EXIT_OK;
}

int main(int argc, char **argv)
{
    struct prt_app app;
    char err[PRT_ERR_LEN];
    memset(&app, 0, sizeof app);

    switch (prt_cli_parse(argc, argv, &app.cfg, stdout, err, sizeof err)) {
    case PRT_CLI_EXIT:
        return PRT_EXIT_OK;
    case PRT_CLI_ERROR:
        fprintf(stderr, "prtarget: %s\n", err);
        return PRT_EXIT_USAGE;
    case PRT_CLI_RUN:
        break;
    }
    if (prt_config_apply(&app.cfg, argc, argv, err, sizeof err) != 0) {
        fprintf(stderr, "prtarget: %s\n", err);
        prt_config_release(&app.cfg);
        return PRT_EXIT_USAGE;
    }
    app.log.level = app.cfg.log_level;
    app.log.json = app.cfg.log_json;

    int code = prt__run(&app);

    prt_tools_stop(app.tools);

    if (app.isc)
        isc_server_free(app.isc);
    if (app.tgt)
        tgt_server_free(app.tgt);
    for (unsigned t = 0; t < app.cfg.n_more; t++)
        if (app.tgt_more[t])
            tgt_server_free(app.tgt_more[t]);
    net_loop_free(app.net);
    prt_config_release(&app.cfg);
    return code;
}
