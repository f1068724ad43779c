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

static int prt__build_target(struct prt_app *app)
{
    char err[PRT_ERR_LEN] = "";
    struct tgt_server_cfg tc = {
        .target_name = app->cfg.target,
        .n_ports = (uint16_t)app->cfg.n_listen,
        .exec = net_exec(app->net),
        .now_ms = net_now_ms,
        .now_ctx = app->net,
    };
    app->tgt = tgt_server_new(&tc, err, sizeof err);
    if (!app->tgt)
        return prt__fail(PRT_EXIT_RUNTIME, "target: %s%s", err, "");
    for (unsigned i = 0; i < app->cfg.n_luns; i++) {
        const struct prt_lun_spec *ls = &app->cfg.luns[i];
        struct tgt_lu_cfg lc = {
            .backend = ls->file ? TGT_BACKEND_FILE : TGT_BACKEND_MEM,
            .path = ls->file ? ls->path : NULL,
            .size = ls->size,
            .block_size = ls->block_size,
            .read_only = ls->read_only,
            .state_dir = app->cfg.state_dir,
            .vendor = ls->vendor, .product = ls->product, .serial = ls->serial, /* config file identity */
            .naa = ls->has_naa ? ls->naa : NULL, .removable = ls->removable,
            .sanitize = ls->sanitize,
        };
        err[0] = '\0';
        int rc = tgt_server_add_lu(app->tgt, &lc, err, sizeof err);
        if (rc)
            return prt__fail(PRT_EXIT_USAGE, "--lun %s: %s", ls->spec, err[0] ? err : strerror(-rc));
    }
    /* Initial ALUA states from the config file (SPC-4 5.16): set before any portal listens, so no initiator
     * ever sees the default state first and no nexus exists yet to be told of a change. */
    for (unsigned i = 0; i < app->cfg.n_alua; i++) {
        int rc = tgt_alua_set_state(app->tgt, app->cfg.alua[i].tpg, (enum tgt_alua_state)app->cfg.alua[i].state);
        if (rc) {
            snprintf(err, sizeof err, "targets[0].alua[%u]: %s", i, strerror(-rc));
            return prt__fail(PRT_EXIT_USAGE, "--config %s: %s", app->cfg.config_file, err);
        }
    }
    return 0;
}

static int prt__bind_portals(struct prt_app *app, struct isc_portal *portals)
{
    for (unsigned i = 0; i < app->cfg.n_listen; i++) {
        int rc = net_listen(app->net, app->cfg.listen[i], (uint16_t)(i + 1), app->bound[i], sizeof app->bound[i]);
        if (rc)
            return prt__fail(rc == -EINVAL ? PRT_EXIT_USAGE : PRT_EXIT_RUNTIME, "--listen %s: %s",
                             app->cfg.listen[i], rc == -EINVAL ? "not a valid address" : strerror(-rc));
        portals[i].addr = app->bound[i];
        portals[i].tpgt = (uint16_t)(i + 1);
    }
    return 0;
}

static void prt__print_ready(const struct prt_app *app)
{
    for (unsigned p = 0; p < app->cfg.n_listen; p++)
        for (unsigned l = 0; l < app->cfg.n_luns; l++)
            printf("prtarget: ready iscsi://%s/%s/%u\n", app->bound[p], app->cfg.target, l);
    /* The readiness lines are the start-up handshake of scripts and tests reading a pipe. */
    fflush(stdout);
}

static int prt__run(struct prt_app *app)
{
    int rc;
    struct isc_portal portals[PRT_MAX_PORTALS];
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
    prt_log(&app->log, PRT_LOG_INFO, "ready: target %s, %u portal(s), %u LUN(s)", app->cfg.target,
            app->cfg.n_listen, app->cfg.n_luns);
    rc = net_run(app->net);
    if (rc)
        prt_log(&app->log, PRT_LOG_ERROR, "event loop: %s", strerror(-rc));

    /* design.md: data written is never lost on SIGTERM; the loop only returns once every in-flight command
     * has completed, so this flush covers all of them. */
    int frc = tgt_server_flush(app->tgt);
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
    net_loop_free(app.net);
    prt_config_release(&app.cfg);
    return code;
}
