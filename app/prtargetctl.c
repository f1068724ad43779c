/* prtargetctl: look at and break a running prtarget (man/prtargetctl.8, docs/control.md).
 *
 * Every command is one JSON-RPC request to the daemon's control socket; the answer is printed as a table for
 * people or, with --json, as the daemon's JSON for scripts. Every failure is one line on stderr and a non-zero
 * exit: 1 when the daemon refused, 2 for a bad command line, 3 when no daemon answers.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/prtargetctl.h"

#define PRT_CTL_WATCH_TARGETS 17 /* the first target and PRT_MAX_TARGETS more */

#define PRT_CTL_VERSION "0.1.0"

static const char prt_ctl_usage[] =
    "usage: prtargetctl [--socket PATH] [--target IQN] [--json] COMMAND [ARGS]\n"
    "  --target IQN: the target a command is about (default: the daemon's first target)\n"
    "\n"
    "  status                         daemon, portals, LUs, sessions, armed faults\n"
    "  sessions                       initiator, ISID, portal, TPGT, digests, commands in flight\n"
    "  luns                           logical units and their PR summary\n"
    "  pr show [LUN]                  generation, APTPL, holder, registrations, pending unit attentions\n"
    "  pr reset [LUN]                 drop every registration and reservation\n"
    "  pr dump [LUN]                  PR state as JSON (the APTPL file format); LUN 0 by default\n"
    "  pr load FILE [LUN]             replace the PR state of LUN (default 0) by FILE\n"
    "  fault power-loss [LUN]         drop every nexus; PR state survives only with APTPL; POWER ON UA\n"
    "  fault drop-nexus INITIATOR[,ISID]\n"
    "  fault next LUN [--count N] (--status NAME|HEX | --sense KEY/ASC/ASCQ) [--opcode OP]\n"
    "  fault delay LUN MS             delay every command to LUN (0 removes the delay)\n"
    "  fault lost-reservation LUN     lose the PR state (REPLACE LOST RESERVATION recovers)\n"
    "  fault clear                    disarm every next/delay fault\n"
    "  fault list\n"
    "  alua show                      target port groups: id, ALUA state, preferred bit, portals\n"
    "  alua set TPG STATE             STATE: active-optimized|active-nonoptimized|standby|unavailable|\n"
    "                                 offline|transitioning\n"
    "  events [--follow] [--limit N]  the PR event log\n"
    "  watch [--frames N]             live view, redrawn on every change\n"
    "  call METHOD [PARAMS-JSON]      any control method, raw\n"
    "\n"
    "The socket defaults to $PRTARGET_SOCKET, then $XDG_RUNTIME_DIR/prtarget.sock, /run/prtarget.sock as root.\n"
    "Exit: 0 ok, 1 the daemon refused, 2 bad usage, 3 no daemon.\n";

struct prt_ctl {
    const char *socket;
    const char *target; /* --target: sent as every request's "target" parameter */
    bool json;
    struct prt_ctl_conn conn;
};

static int prt_ctl_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int prt_ctl_fail(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("prtargetctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

/* ---- small helpers ----------------------------------------------------------------------------------------- */

static const char *prt_ctl_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long prt_ctl_int(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static bool prt_ctl_bool(json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

static void prt_ctl_print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s) {
        puts(s);
        free(s);
    }
}

static void prt_ctl_size(unsigned long long b, char *out, size_t len)
{
    static const char units[] = "KMGTP";
    if (b < 1024 || b % 1024) {
        snprintf(out, len, "%llu", b);
        return;
    }
    int u = -1;
    while (b >= 1024 && b % 1024 == 0 && u < 4) {
        b /= 1024;
        u++;
    }
    snprintf(out, len, "%llu%c", b, units[u]);
}

/* "iqn...,i,0x23d000000001 (port 1)" */
static void prt_ctl_nexus(json_t *n, char *out, size_t len)
{
    if (!json_is_object(n)) {
        snprintf(out, len, "%s", json_is_string(n) ? json_string_value(n) : "-");
        return;
    }
    snprintf(out, len, "%s port %lld", prt_ctl_str(n, "initiator_port"), prt_ctl_int(n, "target_port"));
}

/* A LUN argument: a decimal number. */
static int prt_ctl_lun(const char *s, json_t *params)
{
    char *end;
    if (!s || !isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -EINVAL;
    json_object_set_new(params, "lun", json_integer((json_int_t)v));
    return 0;
}

/* Connect on the first request, so that a bad command line is reported as such even with no daemon running. */
static int prt_ctl_ensure_connected(struct prt_ctl *ctl)
{
    if (ctl->conn.fd >= 0)
        return 0;
    int rc = prt_ctl_connect(&ctl->conn, ctl->socket);
    if (rc)
        return prt_ctl_fail(PRT_CTL_EXIT_CONNECT, "%s: %s (is prtarget running with --control %s?)", ctl->socket,
                            strerror(-rc), ctl->socket);
    return 0;
}

static int prt_ctl_call(struct prt_ctl *ctl, const char *method, json_t *params, json_t **result)
{
    char err[512];
    int rc = prt_ctl_ensure_connected(ctl);
    if (rc) {
        json_decref(params);
        return rc;
    }
    if (ctl->target) {
        if (!params)
            params = json_object();
        if (!params || json_object_set_new(params, "target", json_string(ctl->target)) != 0) {
            json_decref(params);
            return prt_ctl_fail(PRT_CTL_EXIT_FAILED, "out of memory");
        }
    }
    rc = prt_ctl_call_raw(&ctl->conn, method, params, result, NULL, err, sizeof err);
    json_decref(params);
    if (rc == -EREMOTEIO)
        return prt_ctl_fail(PRT_CTL_EXIT_FAILED, "%s", err);
    if (rc)
        return prt_ctl_fail(PRT_CTL_EXIT_CONNECT, "%s", err);
    return 0;
}

/* ---- printers ------------------------------------------------------------------------------------------------ */

static void prt_ctl_print_faults(json_t *f)
{
    size_t i;
    json_t *r;
    bool any = false;

    json_array_foreach(json_object_get(f, "next"), i, r) {
        const char *what = json_object_get(r, "sense") ? prt_ctl_str(r, "sense") : prt_ctl_str(r, "status");
        printf("fault: LUN %lld: next %lld command%s%s%s get %s%s\n", prt_ctl_int(r, "lun"), prt_ctl_int(r, "count"),
               prt_ctl_int(r, "count") == 1 ? "" : "s", json_object_get(r, "opcode") ? " with opcode " : "",
               prt_ctl_str(r, "opcode"), json_object_get(r, "sense") ? "CHECK CONDITION " : "", what);
        any = true;
    }
    json_array_foreach(json_object_get(f, "delay"), i, r) {
        printf("fault: LUN %lld: every command delayed %lld ms\n", prt_ctl_int(r, "lun"), prt_ctl_int(r, "ms"));
        any = true;
    }
    json_array_foreach(json_object_get(f, "lost_reservation"), i, r) {
        printf("fault: LUN %lld: persistent reservation lost (awaiting REPLACE LOST RESERVATION)\n",
               (long long)json_integer_value(r));
        any = true;
    }
    if (!any)
        printf("faults: none armed\n");
}

static void prt_ctl_print_status(json_t *s)
{
    size_t i;
    json_t *p;

    printf("prtarget %s  target %s  uptime %llds\n", prt_ctl_str(s, "version"), prt_ctl_str(s, "target"),
           prt_ctl_int(s, "uptime_ms") / 1000);
    json_array_foreach(json_object_get(s, "portals"), i, p)
        printf("portal %s (tpgt %lld)\n", prt_ctl_str(p, "address"), prt_ctl_int(p, "tpgt"));
    printf("LUs: %lld  sessions: %lld  events logged: %lld%s%s\n", prt_ctl_int(s, "luns"), prt_ctl_int(s, "sessions"),
           prt_ctl_int(s, "events_logged"), json_is_string(json_object_get(s, "event_log")) ? "  event log: " : "",
           prt_ctl_str(s, "event_log"));
    prt_ctl_print_faults(json_object_get(s, "faults"));
    /* A daemon with several targets lists them all when no --target was given (docs/control.md). */
    json_array_foreach(json_object_get(s, "targets"), i, p) {
        size_t j;
        json_t *q;
        printf("target %s: %lld LU(s), %lld session(s), portals", prt_ctl_str(p, "name"), prt_ctl_int(p, "luns"),
               prt_ctl_int(p, "sessions"));
        json_array_foreach(json_object_get(p, "portals"), j, q)
            printf(" %s (tpgt %lld)", prt_ctl_str(q, "address"), prt_ctl_int(q, "tpgt"));
        printf("\n");
    }
}

/* The sessions of one target (and the Discovery sessions, which name none) when only is given, else all. */
static void prt_ctl_print_sessions_of(json_t *a, const char *only)
{
    size_t i, n = 0;
    json_t *s;

    json_array_foreach(a, i, s) {
        const char *t = prt_ctl_str(s, "target");
        n += !only || !*t || strcmp(t, only) == 0;
    }
    if (n == 0) {
        printf("no sessions\n");
        return;
    }
    printf("%-40s %-14s %-21s %4s %-21s %-6s %-6s %5s\n", "INITIATOR", "ISID", "PORTAL", "TPGT", "PEER", "HDRDG",
           "DATADG", "CMDS");
    json_array_foreach(a, i, s) {
        const char *t = prt_ctl_str(s, "target");
        if (only && *t && strcmp(t, only) != 0)
            continue;
        printf("%-40s %-14s %-21s %4lld %-21s %-6s %-6s %5lld%s\n", prt_ctl_str(s, "initiator"), prt_ctl_str(s, "isid"),
               prt_ctl_str(s, "portal"), prt_ctl_int(s, "tpgt"), prt_ctl_str(s, "peer"),
               prt_ctl_str(s, "header_digest"), prt_ctl_str(s, "data_digest"), prt_ctl_int(s, "cmds_in_flight"),
               prt_ctl_bool(s, "discovery") ? " (discovery)" : "");
    }
}

static void prt_ctl_print_sessions(json_t *a)
{
    prt_ctl_print_sessions_of(a, NULL);
}

static void prt_ctl_print_luns(json_t *a)
{
    size_t i;
    json_t *l;

    printf("%3s %-7s %7s %5s %-3s %-7s %-5s %4s %-4s %-4s %s\n", "LUN", "BACKEND", "SIZE", "BS", "RO", "PROFILE",
           "APTPL", "REGS", "RESV", "LOST", "SERIAL / PATH");
    json_array_foreach(a, i, l) {
        char size[32];
        prt_ctl_size((unsigned long long)prt_ctl_int(l, "size"), size, sizeof size);
        printf("%3lld %-7s %7s %5lld %-3s %-7s %-5s %4lld %-4s %-4s %s%s%s\n", prt_ctl_int(l, "lun"),
               prt_ctl_str(l, "backend"), size, prt_ctl_int(l, "block_size"),
               prt_ctl_bool(l, "read_only") ? "yes" : "no",
               prt_ctl_str(l, "pr_profile"), prt_ctl_bool(l, "aptpl") ? "yes" : "no", prt_ctl_int(l, "registrations"),
               prt_ctl_bool(l, "reserved") ? "yes" : "no", prt_ctl_bool(l, "lost") ? "yes" : "no",
               prt_ctl_str(l, "serial"), json_is_string(json_object_get(l, "path")) ? "  " : "",
               prt_ctl_str(l, "path"));
    }
}

static void prt_ctl_print_pr(json_t *a)
{
    size_t i, j;
    json_t *l, *r;

    json_array_foreach(a, i, l) {
        char who[300];
        json_t *resv = json_object_get(l, "reservation");
        printf("%sLUN %lld  generation %lld  APTPL %s  profile %s%s\n", i ? "\n" : "", prt_ctl_int(l, "lun"),
               prt_ctl_int(l, "generation"), prt_ctl_bool(l, "aptpl") ? "yes" : "no", prt_ctl_str(l, "profile"),
               prt_ctl_bool(l, "lost") ? "  RESERVATION LOST" : "");
        if (json_is_object(resv)) {
            prt_ctl_nexus(json_object_get(resv, "holder"), who, sizeof who);
            printf("  reservation: %s (type %lld), scope LU, key %s, holder %s\n", prt_ctl_str(resv, "type_name"),
                   prt_ctl_int(resv, "type"), prt_ctl_str(resv, "key"), who);
        } else {
            printf("  reservation: none\n");
        }
        if (json_is_object(json_object_get(l, "spc2_holder"))) {
            prt_ctl_nexus(json_object_get(l, "spc2_holder"), who, sizeof who);
            printf("  SPC-2 reservation: %s\n", who);
        }
        json_t *regs = json_object_get(l, "registrations");
        printf("  registrations: %zu\n", json_array_size(regs));
        if (json_array_size(regs))
            printf("    %-52s %5s %-18s %-9s %-6s %s\n", "INITIATOR PORT", "TPORT", "KEY", "ALL_TG_PT", "HOLDER",
                   "LOGGED IN");
        json_array_foreach(regs, j, r) {
            printf("    %-52s %5lld %-18s %-9s %-6s %s\n", prt_ctl_str(r, "initiator_port"),
                   prt_ctl_int(r, "target_port"),
                   prt_ctl_str(r, "key"), prt_ctl_bool(r, "all_tg_pt") ? "yes" : "no",
                   prt_ctl_bool(r, "holder") ? "yes" : "no", prt_ctl_bool(r, "logged_in") ? "yes" : "no");
        }
        json_t *uas = json_object_get(l, "unit_attentions");
        json_array_foreach(uas, j, r) {
            size_t k;
            json_t *u;
            prt_ctl_nexus(json_object_get(r, "nexus"), who, sizeof who);
            printf("  pending UA for %s:", who);
            json_array_foreach(json_object_get(r, "pending"), k, u)
                printf("%s %s %s", k ? "," : "", prt_ctl_str(u, "ua"), prt_ctl_str(u, "name"));
            printf("\n");
        }
    }
}

static void prt_ctl_print_event(json_t *e)
{
    char who[300];
    const char *ev = prt_ctl_str(e, "event");
    const char *t = prt_ctl_str(e, "time");
    /* The time of day is enough on a terminal; --json keeps the full timestamp. */
    const char *tod = strlen(t) > 11 ? t + 11 : t;

    prt_ctl_nexus(json_object_get(e, "nexus"), who, sizeof who);
    /* Every event names its target (one log serves all the daemon's targets); the line ends with it. */
    if (json_is_string(json_object_get(e, "target"))) {
        size_t n = strlen(who);
        snprintf(who + n, sizeof who - n, " on %s", prt_ctl_str(e, "target"));
    }
    if (strcmp(ev, "pr_out") == 0) {
        printf("%s LUN %lld PR OUT %s key %s sa_key %s type %s -> %s (%s%s%s) generation %lld by %s\n", tod,
               prt_ctl_int(e, "lun"), prt_ctl_str(e, "service_action"), prt_ctl_str(e, "key"), prt_ctl_str(e, "sa_key"),
               prt_ctl_str(e, "type_name"), prt_ctl_str(e, "result"), prt_ctl_str(e, "status"),
               json_object_get(e, "sense") ? " " : "", prt_ctl_str(e, "sense"), prt_ctl_int(e, "generation"), who);
    } else {
        printf("%s LUN %lld UA %s %s %s for %s\n", tod, prt_ctl_int(e, "lun"),
               strcmp(ev, "ua_reported") == 0 ? "reported" : "raised", prt_ctl_str(e, "ua"), prt_ctl_str(e, "ua_name"),
               who);
    }
}

/* ---- commands --------------------------------------------------------------------------------------------------- */

static int prt_ctl_simple(struct prt_ctl *ctl, const char *method, json_t *params, void (*print)(json_t *))
{
    json_t *res;
    int rc = prt_ctl_call(ctl, method, params, &res);
    if (rc)
        return rc;
    if (ctl->json || !print)
        prt_ctl_print_json(res);
    else
        print(res);
    json_decref(res);
    return 0;
}

static int prt_ctl_cmd_pr(struct prt_ctl *ctl, int argc, char **argv)
{
    json_t *params = json_object();
    const char *sub = argc > 0 ? argv[0] : "";

    if (strcmp(sub, "show") == 0 || strcmp(sub, "reset") == 0 || strcmp(sub, "dump") == 0) {
        if (argc > 2 || (argc == 2 && prt_ctl_lun(argv[1], params))) {
            json_decref(params);
            return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "pr %s: expected at most one LUN number", sub);
        }
        if (strcmp(sub, "show") == 0)
            return prt_ctl_simple(ctl, "pr.show", params, prt_ctl_print_pr);
        if (strcmp(sub, "reset") == 0) {
            json_t *res;
            int rc = prt_ctl_call(ctl, "pr.reset", params, &res);
            if (rc)
                return rc;
            if (ctl->json)
                prt_ctl_print_json(res);
            else
                printf("PR state reset on %zu LU(s)\n", json_array_size(json_object_get(res, "reset")));
            json_decref(res);
            return 0;
        }
        /* pr dump: the state of one LU, in exactly the form of its APTPL file, so `pr load` takes it back. */
        if (!json_object_get(params, "lun"))
            json_object_set_new(params, "lun", json_integer(0));
        json_t *res;
        int rc = prt_ctl_call(ctl, "pr.dump", params, &res);
        if (rc)
            return rc;
        prt_ctl_print_json(json_object_get(json_array_get(res, 0), "state"));
        json_decref(res);
        return 0;
    }
    if (strcmp(sub, "load") == 0) {
        json_error_t je;
        if (argc < 2 || argc > 3 || (argc == 3 && prt_ctl_lun(argv[2], params))) {
            json_decref(params);
            return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "pr load: expected FILE [LUN]");
        }
        json_t *state = json_load_file(argv[1], JSON_REJECT_DUPLICATES, &je);
        if (!state) {
            json_decref(params);
            if (je.line > 0)
                return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "%s: line %d: %s", argv[1], je.line, je.text);
            return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "%s: %s", argv[1], je.text);
        }
        json_object_set_new(params, "state", state);
        json_t *res;
        int rc = prt_ctl_call(ctl, "pr.load", params, &res);
        if (rc)
            return rc;
        if (ctl->json)
            prt_ctl_print_json(res);
        else
            printf("LUN %lld: loaded %lld registration(s), generation %lld\n", prt_ctl_int(res, "lun"),
                   prt_ctl_int(res, "registrations"), prt_ctl_int(res, "generation"));
        json_decref(res);
        return 0;
    }
    json_decref(params);
    return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "pr %s: expected show, reset, dump or load", sub);
}

static int prt_ctl_fault_next(struct prt_ctl *ctl, int argc, char **argv, json_t *params)
{
    if (argc < 2 || prt_ctl_lun(argv[1], params)) {
        json_decref(params);
        return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "fault next: expected LUN [--count N] (--status S | --sense K/A/Q) "
                                                "[--opcode OP]");
    }
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        if (i + 1 >= argc) {
            json_decref(params);
            return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "fault next: %s needs a value", o);
        }
        const char *v = argv[++i];
        if (strcmp(o, "--count") == 0) {
            char *end;
            errno = 0;
            unsigned long n = strtoul(v, &end, 10);
            if (!isdigit((unsigned char)v[0]) || *end || errno || n == 0 || n > 0xffffffffUL) {
                json_decref(params);
                return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "fault next: --count %s: expected a positive number", v);
            }
            json_object_set_new(params, "count", json_integer((json_int_t)n));
        } else if (strcmp(o, "--status") == 0 || strcmp(o, "--sense") == 0 || strcmp(o, "--opcode") == 0) {
            /* The daemon checks the values, so that scripts talking JSON get the same answers. */
            json_object_set_new(params, o + 2, json_string(v));
        } else {
            json_decref(params);
            return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "fault next: unknown option %s", o);
        }
    }
    return prt_ctl_simple(ctl, "fault.next", params, prt_ctl_print_faults);
}

static int prt_ctl_cmd_fault(struct prt_ctl *ctl, int argc, char **argv)
{
    json_t *params = json_object();
    const char *sub = argc > 0 ? argv[0] : "";

    if (strcmp(sub, "power-loss") == 0) {
        if (argc > 2 || (argc == 2 && prt_ctl_lun(argv[1], params))) {
            json_decref(params);
            return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "fault power-loss: expected at most one LUN number");
        }
        json_t *res;
        int rc = prt_ctl_call(ctl, "fault.power_loss", params, &res);
        if (rc)
            return rc;
        if (ctl->json)
            prt_ctl_print_json(res);
        else
            printf("power cycled %zu LU(s); dropped %lld connection(s)\n",
                   json_array_size(json_object_get(res, "luns")),
                   prt_ctl_int(res, "dropped"));
        json_decref(res);
        return 0;
    }
    if (strcmp(sub, "drop-nexus") == 0) {
        if (argc != 2) {
            json_decref(params);
            return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "fault drop-nexus: expected INITIATOR[,ISID]");
        }
        /* "iqn...,0x23d000000001" or the SCSI initiator port form "iqn...,i,0x23d000000001". */
        char name[512];
        snprintf(name, sizeof name, "%s", argv[1]);
        char *comma = strchr(name, ',');
        if (comma) {
            *comma++ = '\0';
            if (strncmp(comma, "i,", 2) == 0)
                comma += 2;
            json_object_set_new(params, "isid", json_string(comma));
        }
        json_object_set_new(params, "initiator", json_string(name));
        json_t *res;
        int rc = prt_ctl_call(ctl, "fault.drop_nexus", params, &res);
        if (rc)
            return rc;
        if (ctl->json)
            prt_ctl_print_json(res);
        else
            printf("dropped %lld connection(s)\n", prt_ctl_int(res, "dropped"));
        json_decref(res);
        return 0;
    }
    if (strcmp(sub, "next") == 0)
        return prt_ctl_fault_next(ctl, argc, argv, params);
    if (strcmp(sub, "delay") == 0) {
        char *end;
        if (argc != 3 || prt_ctl_lun(argv[1], params) || !isdigit((unsigned char)argv[2][0])) {
            json_decref(params);
            return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "fault delay: expected LUN MS");
        }
        unsigned long ms = strtoul(argv[2], &end, 10);
        if (*end) {
            json_decref(params);
            return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "fault delay: %s is not a number of milliseconds", argv[2]);
        }
        json_object_set_new(params, "ms", json_integer((json_int_t)ms));
        return prt_ctl_simple(ctl, "fault.delay", params, prt_ctl_print_faults);
    }
    if (strcmp(sub, "lost-reservation") == 0) {
        if (argc != 2 || prt_ctl_lun(argv[1], params)) {
            json_decref(params);
            return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "fault lost-reservation: expected LUN");
        }
        json_t *res;
        int rc = prt_ctl_call(ctl, "fault.lost_reservation", params, &res);
        if (rc)
            return rc;
        if (ctl->json)
            prt_ctl_print_json(res);
        else
            printf("LUN %lld: persistent reservation information lost\n", prt_ctl_int(res, "lun"));
        json_decref(res);
        return 0;
    }
    if ((strcmp(sub, "clear") == 0 || strcmp(sub, "list") == 0) && argc == 1)
        return prt_ctl_simple(ctl, sub[0] == 'c' ? "fault.clear" : "fault.list", params, prt_ctl_print_faults);
    json_decref(params);
    return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "fault %s: expected power-loss, drop-nexus, next, delay, "
                                            "lost-reservation, clear or list", sub);
}

static int prt_ctl_cmd_events(struct prt_ctl *ctl, int argc, char **argv)
{
    json_t *params = json_object();
    bool follow = false;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0) {
            follow = true;
        } else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc && isdigit((unsigned char)argv[i + 1][0])) {
            json_object_set_new(params, "limit", json_integer(strtol(argv[++i], NULL, 10)));
        } else {
            json_decref(params);
            return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "events: unknown argument %s (--follow, --limit N)", argv[i]);
        }
    }
    if (follow)
        json_object_set_new(params, "follow", json_true());
    json_t *res;
    int rc = prt_ctl_call(ctl, "events", params, &res);
    if (rc)
        return rc;
    size_t i;
    json_t *e;
    json_array_foreach(res, i, e) {
        if (ctl->json) {
            char *s = json_dumps(e, JSON_COMPACT);
            if (s)
                puts(s);
            free(s);
        } else {
            prt_ctl_print_event(e);
        }
    }
    json_decref(res);
    fflush(stdout);
    while (follow) {
        json_t *msg;
        rc = prt_ctl_recv(&ctl->conn, -1, &msg);
        if (rc == -ECONNRESET)
            return 0; /* the daemon stopped: the log is complete */
        if (rc)
            return prt_ctl_fail(PRT_CTL_EXIT_CONNECT, "events: %s", strerror(-rc));
        if (strcmp(prt_ctl_str(msg, "method"), "event") == 0) {
            json_t *ev = json_object_get(msg, "params");
            if (ctl->json) {
                char *s = json_dumps(ev, JSON_COMPACT);
                if (s)
                    puts(s);
                free(s);
            } else {
                prt_ctl_print_event(ev);
            }
            fflush(stdout);
        }
        json_decref(msg);
    }
    return 0;
}

/* One request about target (NULL: the daemon's default, or every target for status), without --target. */
static int prt_ctl_call_for(struct prt_ctl *ctl, const char *method, const char *target, json_t **result, bool *changed,
                            char *err, size_t errlen)
{
    json_t *params = target ? json_pack("{s:s}", "target", target) : NULL;
    int rc = prt_ctl_call_raw(&ctl->conn, method, params, result, changed, err, errlen);
    json_decref(params);
    return rc;
}

/* The targets a command without --target shows: every entry of status.targets, or the one target of a daemon
 * that serves one (status has no "targets" then). */
static size_t prt_ctl_target_count(json_t *st)
{
    size_t n = json_array_size(json_object_get(st, "targets"));
    return n ? n : 1;
}

static const char *prt_ctl_target_name(json_t *st, size_t i)
{
    json_t *t = json_array_get(json_object_get(st, "targets"), i);
    return t ? prt_ctl_str(t, "name") : prt_ctl_str(st, "target");
}

/* luns: with --target or one target, that target's table; else one table per target, under its name. */
static int prt_ctl_cmd_luns(struct prt_ctl *ctl)
{
    json_t *st, *all;
    int rc;

    if (ctl->target)
        return prt_ctl_simple(ctl, "luns", NULL, prt_ctl_print_luns);
    if ((rc = prt_ctl_call(ctl, "status", NULL, &st)) != 0)
        return rc;
    if (!json_object_get(st, "targets")) {
        json_decref(st);
        return prt_ctl_simple(ctl, "luns", NULL, prt_ctl_print_luns);
    }
    all = json_array();
    for (size_t i = 0; rc == 0 && i < prt_ctl_target_count(st); i++) {
        char err[512];
        json_t *res = NULL;
        const char *name = prt_ctl_target_name(st, i);
        rc = prt_ctl_call_for(ctl, "luns", name, &res, NULL, err, sizeof err);
        if (rc) {
            rc = prt_ctl_fail(rc == -EREMOTEIO ? PRT_CTL_EXIT_FAILED : PRT_CTL_EXIT_CONNECT, "luns: %s", err);
            break;
        }
        if (ctl->json) {
            json_array_extend(all, res);
        } else {
            printf("%starget %s\n", i ? "\n" : "", name);
            prt_ctl_print_luns(res);
        }
        json_decref(res);
    }
    if (rc == 0 && ctl->json)
        prt_ctl_print_json(all);
    json_decref(all);
    json_decref(st);
    return rc;
}

/* One frame of `watch`: the daemon's status, then per target (the --target one, or every target) its
 * sessions and who holds what. */
static int prt_ctl_watch_frame(struct prt_ctl *ctl, bool *changed)
{
    char err[512];
    json_t *st = NULL, *ss = NULL;
    int rc;
    time_t now = time(NULL);
    struct tm tm;
    char when[32];

    if ((rc = prt_ctl_call_for(ctl, "status", ctl->target, &st, changed, err, sizeof err)) != 0 ||
        (rc = prt_ctl_call_raw(&ctl->conn, "sessions", NULL, &ss, changed, err, sizeof err)) != 0) {
        json_decref(st);
        return prt_ctl_fail(rc == -EREMOTEIO ? PRT_CTL_EXIT_FAILED : PRT_CTL_EXIT_CONNECT, "watch: %s", err);
    }
    size_t n = ctl->target ? 1 : prt_ctl_target_count(st);
    bool several = n > 1;
    json_t *prs[PRT_CTL_WATCH_TARGETS] = { NULL };
    if (n > PRT_CTL_WATCH_TARGETS)
        n = PRT_CTL_WATCH_TARGETS;
    for (size_t i = 0; i < n; i++) {
        const char *name = ctl->target ? ctl->target : prt_ctl_target_name(st, i);
        rc = prt_ctl_call_for(ctl, "pr.show", several || ctl->target ? name : NULL, &prs[i], changed, err,
                              sizeof err);
        if (rc) {
            for (size_t k = 0; k < i; k++)
                json_decref(prs[k]);
            json_decref(st);
            json_decref(ss);
            return prt_ctl_fail(rc == -EREMOTEIO ? PRT_CTL_EXIT_FAILED : PRT_CTL_EXIT_CONNECT, "watch: %s", err);
        }
    }
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    /* ANSI: cursor home, clear screen; every terminal prtarget's users have understands it. */
    if (isatty(STDOUT_FILENO))
        fputs("\033[H\033[2J", stdout);
    printf("prtargetctl watch  %s  (Ctrl-C to stop)\n\n", when);
    prt_ctl_print_status(st);
    for (size_t i = 0; i < n; i++) {
        const char *name = ctl->target ? ctl->target : prt_ctl_target_name(st, i);
        if (several)
            printf("\n== target %s ==\n", name);
        printf("\n");
        prt_ctl_print_sessions_of(ss, several || ctl->target ? name : NULL);
        printf("\n");
        prt_ctl_print_pr(prs[i]);
        json_decref(prs[i]);
    }
    printf("\n");
    fflush(stdout);
    json_decref(st);
    json_decref(ss);
    return 0;
}

static int prt_ctl_cmd_watch(struct prt_ctl *ctl, int argc, char **argv)
{
    long frames = -1;
    json_t *res;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc && isdigit((unsigned char)argv[i + 1][0]))
            frames = strtol(argv[++i], NULL, 10);
        else
            return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "watch: unknown argument %s (--frames N)", argv[i]);
    }
    if ((rc = prt_ctl_call(ctl, "watch", NULL, &res)) != 0)
        return rc;
    json_decref(res);
    for (long n = 0; frames < 0 || n < frames; n++) {
        bool changed = false;
        if ((rc = prt_ctl_watch_frame(ctl, &changed)) != 0)
            return rc;
        if (frames >= 0 && n + 1 >= frames)
            break;
        /* Redraw on the next change; notifications that arrived while drawing count as one. A slow refresh
         * also catches what raises no event (a logout). */
        while (!changed) {
            json_t *msg;
            rc = prt_ctl_recv(&ctl->conn, 2000, &msg);
            if (rc == -ETIMEDOUT)
                break;
            if (rc == -ECONNRESET)
                return 0;
            if (rc)
                return prt_ctl_fail(PRT_CTL_EXIT_CONNECT, "watch: %s", strerror(-rc));
            changed = json_object_get(msg, "method") != NULL;
            json_decref(msg);
        }
    }
    return 0;
}

static int prt_ctl_cmd_call(struct prt_ctl *ctl, int argc, char **argv)
{
    json_t *params = NULL;
    json_error_t je;

    if (argc < 1 || argc > 2)
        return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "call: expected METHOD [PARAMS-JSON]");
    if (argc == 2) {
        params = json_loads(argv[1], JSON_REJECT_DUPLICATES, &je);
        if (!params)
            return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "call: params: %s", je.text);
    }
    json_t *res;
    int rc = prt_ctl_call(ctl, argv[0], params, &res);
    if (rc)
        return rc;
    prt_ctl_print_json(res);
    json_decref(res);
    return 0;
}

static const char *prt_ctl_default_socket(char *buf, size_t len)
{
    const char *env = getenv("PRTARGET_SOCKET");
    const char *xdg = getenv("XDG_RUNTIME_DIR");

    if (env && env[0])
        return env;
    /* The daemon's own default (prtarget --control): /run for root, the user's runtime directory otherwise. */
    if (geteuid() != 0 && xdg && xdg[0] == '/') {
        snprintf(buf, len, "%s/prtarget.sock", xdg);
        return buf;
    }
    return "/run/prtarget.sock";
}

int main(int argc, char **argv)
{
    struct prt_ctl ctl = { .socket = NULL, .conn = { .fd = -1 } };
    char defbuf[256];
    int i;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(prt_ctl_usage, stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            puts("prtargetctl " PRT_CTL_VERSION);
            return 0;
        }
        if (strcmp(a, "--json") == 0) {
            ctl.json = true;
        } else if (strcmp(a, "--socket") == 0 || strcmp(a, "-s") == 0) {
            if (i + 1 >= argc)
                return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "%s: missing PATH", a);
            ctl.socket = argv[++i];
        } else if (strncmp(a, "--socket=", 9) == 0) {
            ctl.socket = a + 9;
        } else if (strcmp(a, "--target") == 0 || strcmp(a, "-t") == 0) {
            if (i + 1 >= argc)
                return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "%s: missing IQN", a);
            ctl.target = argv[++i];
        } else if (strncmp(a, "--target=", 9) == 0) {
            ctl.target = a + 9;
        } else {
            return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "%s: unknown option (see --help)", a);
        }
    }
    if (i >= argc)
        return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "no command (see --help)");
    const char *cmd = argv[i];
    int sub_argc = argc - i - 1;
    char **sub_argv = argv + i + 1;
    /* --json may also follow the command, where people tend to type it. */
    for (int k = 0; k < sub_argc; k++) {
        if (strcmp(sub_argv[k], "--json") == 0) {
            ctl.json = true;
            memmove(&sub_argv[k], &sub_argv[k + 1], (size_t)(sub_argc - k - 1) * sizeof *sub_argv);
            sub_argc--;
            k--;
        }
    }
    static const char *const known[] = { "status", "sessions", "luns", "pr",   "fault",
                                         "events", "watch",    "call", "alua" };
    bool ok = false;
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        ok = ok || strcmp(cmd, known[k]) == 0;
    if (!ok)
        return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "%s: unknown command (see --help)", cmd);
    if ((strcmp(cmd, "status") == 0 || strcmp(cmd, "sessions") == 0 || strcmp(cmd, "luns") == 0) && sub_argc)
        return prt_ctl_fail(PRT_CTL_EXIT_USAGE, "%s takes no arguments", cmd);

    if (!ctl.socket)
        ctl.socket = prt_ctl_default_socket(defbuf, sizeof defbuf);
    int rc;
    /* A follower that is piped into `head` must end quietly when the pipe closes. */
    signal(SIGPIPE, SIG_DFL);

    if (strcmp(cmd, "status") == 0)
        rc = prt_ctl_simple(&ctl, "status", NULL, prt_ctl_print_status);
    else if (strcmp(cmd, "sessions") == 0)
        rc = prt_ctl_simple(&ctl, "sessions", NULL, prt_ctl_print_sessions);
    else if (strcmp(cmd, "luns") == 0)
        rc = prt_ctl_cmd_luns(&ctl);
    else if (strcmp(cmd, "pr") == 0)
        rc = prt_ctl_cmd_pr(&ctl, sub_argc, sub_argv);
    else if (strcmp(cmd, "fault") == 0)
        rc = prt_ctl_cmd_fault(&ctl, sub_argc, sub_argv);
    else if (strcmp(cmd, "events") == 0)
        rc = prt_ctl_cmd_events(&ctl, sub_argc, sub_argv);
    else if (strcmp(cmd, "watch") == 0)
        rc = prt_ctl_cmd_watch(&ctl, sub_argc, sub_argv);
    else if (strcmp(cmd, "alua") == 0)
        rc = prt_ctl_alua(&ctl.conn, ctl.socket, ctl.target, ctl.json, sub_argc, sub_argv);
    else
        rc = prt_ctl_cmd_call(&ctl, sub_argc, sub_argv);
    prt_ctl_close(&ctl.conn);
    return rc;
}
