/* prtargetctl alua: show and change the asymmetric access states of the target port groups (SPC-4 5.16,
 * docs/control.md `alua.show` / `alua.set`, man/prtargetctl.8).
 *
 * The state names are checked here as well as by the daemon, so that a typo is a usage error (exit 2) even when
 * no daemon runs; a group id is only known to the daemon, so a bad one is its refusal (exit 1).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/prtargetctl.h"

/* The daemon's names (target/alua.c tgt_alua_state_name); prtargetctl links no layer library. */
static const char *const prt_ctl_alua_states[] = { "active-optimized", "active-nonoptimized", "standby",
                                                   "unavailable",      "offline",             "transitioning" };

static int prt_ctl_alua_fail(int code, const char *what)
{
    fprintf(stderr, "prtargetctl: %s\n", what);
    return code;
}

/* target (--target, or NULL for the daemon's first target) goes with every request: each target has its own
 * target port groups (docs/control.md). */
static int prt_ctl_alua_call(struct prt_ctl_conn *conn, const char *socket, const char *target, const char *method,
                             json_t *params, json_t **result)
{
    char err[512], line[700];
    int rc;

    if (conn->fd < 0 && (rc = prt_ctl_connect(conn, socket)) != 0) {
        snprintf(line, sizeof line, "%s: %s (is prtarget running with --control %s?)", socket, strerror(-rc),
                 socket);
        return prt_ctl_alua_fail(PRT_CTL_EXIT_CONNECT, line);
    }
    json_t *p = params ? json_deep_copy(params) : json_object();
    if (!p || (target && json_object_set_new(p, "target", json_string(target)) != 0)) {
        json_decref(p);
        return prt_ctl_alua_fail(PRT_CTL_EXIT_FAILED, "out of memory");
    }
    rc = prt_ctl_call_raw(conn, method, p, result, NULL, err, sizeof err);
    json_decref(p);
    if (rc == -EREMOTEIO) {
        snprintf(line, sizeof line, "alua: %s", err);
        return prt_ctl_alua_fail(PRT_CTL_EXIT_FAILED, line);
    }
    if (rc)
        return prt_ctl_alua_fail(PRT_CTL_EXIT_CONNECT, err);
    return 0;
}

static void prt_ctl_alua_print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);

    if (s) {
        puts(s);
        free(s);
    }
}

static void prt_ctl_alua_print_table(json_t *groups)
{
    size_t i, k;
    json_t *g, *p;

    printf("%-4s %-20s %-5s %s\n", "TPG", "STATE", "PREF", "PORTALS");
    json_array_foreach(groups, i, g) {
        printf("%-4lld %-20s %-5s ", (long long)json_integer_value(json_object_get(g, "tpg")),
               json_string_value(json_object_get(g, "state")) ? json_string_value(json_object_get(g, "state")) : "?",
               json_is_true(json_object_get(g, "preferred")) ? "yes" : "no");
        json_array_foreach(json_object_get(g, "portals"), k, p)
            printf("%s%s", k ? "," : "", json_string_value(p) ? json_string_value(p) : "?");
        if (json_array_size(json_object_get(g, "portals")) == 0)
            fputs("-", stdout);
        putchar('\n');
    }
}

/* A group id as typed: decimal digits only, 1..65535 (the TPGT range of RFC 7143 13.9). */
static int prt_ctl_alua_tpg(const char *s, unsigned long *out)
{
    char *end;

    if (!s || !isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    *out = strtoul(s, &end, 10);
    if (errno || *end || *out == 0 || *out > 0xffff)
        return -EINVAL;
    return 0;
}

int prt_ctl_alua(struct prt_ctl_conn *conn, const char *socket, const char *target, bool json, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    json_t *res = NULL;
    char line[300];
    int rc;

    if (strcmp(sub, "show") == 0) {
        if (argc != 1)
            return prt_ctl_alua_fail(PRT_CTL_EXIT_USAGE, "alua show takes no arguments");
        if ((rc = prt_ctl_alua_call(conn, socket, target, "alua.show", NULL, &res)) != 0)
            return rc;
        if (json)
            prt_ctl_alua_print_json(res);
        else
            prt_ctl_alua_print_table(res);
        json_decref(res);
        return PRT_CTL_EXIT_OK;
    }
    if (strcmp(sub, "set") == 0) {
        unsigned long tpg;
        bool known = false;

        if (argc != 3)
            return prt_ctl_alua_fail(PRT_CTL_EXIT_USAGE, "alua set: expected TPG STATE");
        if (prt_ctl_alua_tpg(argv[1], &tpg) != 0) {
            snprintf(line, sizeof line, "alua set: '%.40s' is not a target port group id (1, 2, ...)", argv[1]);
            return prt_ctl_alua_fail(PRT_CTL_EXIT_USAGE, line);
        }
        for (size_t i = 0; i < sizeof prt_ctl_alua_states / sizeof prt_ctl_alua_states[0]; i++)
            known = known || strcmp(argv[2], prt_ctl_alua_states[i]) == 0;
        if (!known) {
            snprintf(line, sizeof line,
                     "alua set: '%.40s' is not active-optimized, active-nonoptimized, standby, unavailable, "
                     "offline or transitioning",
                     argv[2]);
            return prt_ctl_alua_fail(PRT_CTL_EXIT_USAGE, line);
        }
        json_t *params = json_pack("{s:I, s:s}", "tpg", (json_int_t)tpg, "state", argv[2]);
        rc = prt_ctl_alua_call(conn, socket, target, "alua.set", params, &res);
        json_decref(params);
        if (rc)
            return rc;
        if (json) {
            prt_ctl_alua_print_json(res);
        } else {
            const char *was = json_string_value(json_object_get(res, "previous"));
            const char *now = json_string_value(json_object_get(res, "state"));
            printf("target port group %lu: %s -> %s\n", tpg, was ? was : "?", now ? now : "?");
        }
        json_decref(res);
        return PRT_CTL_EXIT_OK;
    }
    snprintf(line, sizeof line, "alua%s%.40s: expected show or set", argc ? " " : "", sub);
    return prt_ctl_alua_fail(PRT_CTL_EXIT_USAGE, line);
}
