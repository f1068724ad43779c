/* The control socket's methods (see prt_control.h and docs/control.md).
 *
 * Every request is validated completely before anything changes: unknown parameters, wrong types and values out
 * of range are JSON-RPC "invalid params" errors, so a typo in a script never half-applies. Responses are built
 * with jansson; the control socket is far from the I/O path.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "app/prt_app.h"
#include "app/prt_control.h"
#include "app/prt_events.h"
#include "prstate/pr.h"
#include "target/tgt.h"
#include "transport/isc.h"
#include "transport/net_control.h"

/* More unit attentions than this pending for one nexus on one LU are not listed (the target keeps 8). */
#define PRT_UA_LIST_MAX 16

struct prt_control {
    struct prt_control_env env;
    /* Where state-changing requests announce themselves to `watch` (set by prt_tools_start). */
    void (*publish)(void *ctx, unsigned topics, const char *line, size_t len);
    void *publish_ctx;
    uint64_t started_ms;
    /* The target the request in progress is about (prt__one): its name and portals, and whether the request
     * named it with "target" (docs/control.md: some methods cover every target unless one is named). */
    const char *cur_name;
    const char *const *cur_portals;
    unsigned cur_n_portals;
    bool target_given;
};

/* The outcome of one method: either result (a new reference) or an error code and message. */
struct prt_rpc_out {
    json_t *result;
    int code;
    char msg[256];
};

typedef void (*prt_method_fn)(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub);

static void prt__fail(struct prt_rpc_out *out, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void prt__fail(struct prt_rpc_out *out, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->msg, sizeof out->msg, fmt, ap);
    va_end(ap);
    out->code = code;
    json_decref(out->result);
    out->result = NULL;
}

/* ---- parameter helpers ------------------------------------------------------------------------------------ */

/* Every key of params must be one of allowed (NULL-terminated); params may be absent (NULL) or an object. */
static bool prt__check_keys(json_t *params, const char *const *allowed, struct prt_rpc_out *out)
{
    const char *k;
    json_t *v;

    if (!params)
        return true;
    if (!json_is_object(params)) {
        prt__fail(out, PRT_RPC_INVALID_PARAMS, "params must be an object");
        return false;
    }
    json_object_foreach(params, k, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++)
            ok = ok || strcmp(k, allowed[i]) == 0;
        if (!ok) {
            prt__fail(out, PRT_RPC_INVALID_PARAMS, "unknown parameter '%s'", k);
            return false;
        }
    }
    (void)v;
    return true;
}

/* An unsigned integer parameter: a JSON integer, or a string in decimal or 0x hex. */
static int prt__uint_param(json_t *v, uint64_t max, uint64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || (uint64_t)i > max)
            return -ERANGE;
        *out = (uint64_t)i;
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = strlen(s);
        char *end;
        int base = 10;
        /* "0x2a" and SCSI's own "2Ah" are hex; plain digits are decimal. */
        if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            base = 16;
            s += 2;
        } else if (n > 1 && (s[n - 1] == 'h' || s[n - 1] == 'H')) {
            base = 16;
        }
        if (!isxdigit((unsigned char)s[0]))
            return -EINVAL;
        errno = 0;
        unsigned long long u = strtoull(s, &end, base);
        if (base == 16 && (*end == 'h' || *end == 'H') && end[1] == '\0')
            end++;
        if (errno || *end != '\0')
            return -EINVAL;
        if (u > max)
            return -ERANGE;
        *out = u;
        return 0;
    }
    return -EINVAL;
}

/* The optional "lun" parameter: *all = true when absent. */
static bool prt__lun_param(struct prt_control *ctl, json_t *params, bool required, uint64_t *lun, bool *all,
                           struct prt_rpc_out *out)
{
    json_t *v = params ? json_object_get(params, "lun") : NULL;

    *all = false;
    if (!v || json_is_null(v)) {
        if (required) {
            prt__fail(out, PRT_RPC_INVALID_PARAMS, "missing parameter 'lun'");
            return false;
        }
        *all = true;
        return true;
    }
    if (prt__uint_param(v, UINT64_MAX, lun) != 0) {
        prt__fail(out, PRT_RPC_INVALID_PARAMS, "lun: expected a LUN number");
        return false;
    }
    if (*lun >= tgt_server_lu_count(ctl->env.tgt)) {
        prt__fail(out, PRT_RPC_INVALID_PARAMS, "lun %llu: no such LU (%u configured)", (unsigned long long)*lun,
                  tgt_server_lu_count(ctl->env.tgt));
        return false;
    }
    return true;
}

/* "0x23d000000001", "23d000000001": the six bytes of an ISID (RFC 7143 11.12.5). */
static int prt__parse_isid(const char *s, uint8_t isid[6])
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    if (strlen(s) != 12)
        return -EINVAL;
    for (int i = 0; i < 6; i++) {
        char b[3] = { s[2 * i], s[2 * i + 1], 0 };
        if (!isxdigit((unsigned char)b[0]) || !isxdigit((unsigned char)b[1]))
            return -EINVAL;
        isid[i] = (uint8_t)strtoul(b, NULL, 16);
    }
    return 0;
}

static void prt__isid_str(const uint8_t isid[6], char out[16])
{
    snprintf(out, 16, "0x%02x%02x%02x%02x%02x%02x", isid[0], isid[1], isid[2], isid[3], isid[4], isid[5]);
}

static void prt__changed(struct prt_control *ctl)
{
    const char *n = prt_control_changed_notification();
    if (ctl->publish)
        ctl->publish(ctl->publish_ctx, PRT_TOPIC_CHANGES, n, strlen(n));
}

/* ---- status, sessions, luns ------------------------------------------------------------------------------- */

struct prt_sess_walk {
    struct prt_control *ctl;
    json_t *arr;
    unsigned n;
    const char *only; /* count only the Normal sessions of this target; NULL = every session */
};

static void prt__sess_add(void *arg, const struct isc_session_info *si)
{
    struct prt_sess_walk *w = arg;
    char isid[16];
    const char *portal = "";

    if (w->only && (!si->target_name || strcmp(si->target_name, w->only) != 0))
        return;
    w->n++;
    if (!w->arr)
        return;
    prt__isid_str(si->isid, isid);
    bool first = !si->target_name || !*si->target_name || !w->ctl->env.target_name ||
                 strcmp(si->target_name, w->ctl->env.target_name) == 0;
    /* The portal table is the first target's; another target's tags number its own portals, so its
     * sessions show the address they came in on. */
    if (!first && si->local_addr)
        portal = si->local_addr;
    else if (si->tpgt >= 1 && si->tpgt <= w->ctl->env.n_portals)
        portal = w->ctl->env.portals[si->tpgt - 1];
    json_array_append_new(
        w->arr, json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:b, s:s, s:s, s:i}", "initiator", si->initiator_name,
                          "isid", isid, "tsih", (int)si->tsih, "tpgt", (int)si->tpgt, "portal", portal, "peer",
                          si->peer_addr ? si->peer_addr : "", "discovery", (int)si->discovery, "header_digest",
                          si->header_digest ? "CRC32C" : "None", "data_digest",
                          si->data_digest ? "CRC32C" : "None", "cmds_in_flight", (int)si->cmds_in_flight));
    json_t *last = json_array_get(w->arr, json_array_size(w->arr) - 1);
    if (last)
        json_object_set_new(last, "target", json_string(si->target_name ? si->target_name : ""));
}

static json_t *prt__fault_json(struct prt_control *ctl)
{
    struct tgt_fault_next rules[TGT_FAULT_MAX];
    unsigned n = tgt_fault_list(ctl->env.tgt, rules, TGT_FAULT_MAX);
    json_t *next = json_array(), *delay = json_array(), *lost = json_array();

    for (unsigned i = 0; i < n && i < TGT_FAULT_MAX; i++) {
        char what[32];
        if (rules[i].has_sense)
            snprintf(what, sizeof what, "%x/%02x/%02x", rules[i].sense_key, rules[i].asc, rules[i].ascq);
        else
            snprintf(what, sizeof what, "%s", prt_scsi_status_name(rules[i].status));
        json_t *r = json_pack("{s:I, s:I, s:s, s:s}", "lun", (json_int_t)rules[i].lun, "count",
                              (json_int_t)rules[i].count, rules[i].has_sense ? "sense" : "status", what, "status_code",
                              prt_scsi_status_name(rules[i].status));
        if (r && rules[i].opcode != TGT_FAULT_ANY_OPCODE) {
            char op[8];
            snprintf(op, sizeof op, "0x%02x", rules[i].opcode);
            json_object_set_new(r, "opcode", json_string(op));
        }
        json_array_append_new(next, r);
    }
    for (unsigned l = 0; l < tgt_server_lu_count(ctl->env.tgt); l++) {
        uint32_t ms = tgt_fault_delay(ctl->env.tgt, l);
        if (ms)
            json_array_append_new(delay, json_pack("{s:i, s:I}", "lun", (int)l, "ms", (json_int_t)ms));
        if (pr_state_lost(tgt_lu_pr_state(ctl->env.tgt, l)))
            json_array_append_new(lost, json_integer(l));
    }
    return json_pack("{s:o, s:o, s:o}", "next", next, "delay", delay, "lost_reservation", lost);
}

static json_t *prt__portals_json(const char *const *addr, unsigned n)
{
    json_t *a = json_array();

    for (unsigned i = 0; addr && i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:i}", "address", addr[i] ? addr[i] : "", "tpgt", (int)i + 1));
    return a;
}

/* One entry per target of the process, the first first: name, portals, LU and session counts. */
static json_t *prt__targets_json(struct prt_control *ctl)
{
    json_t *a = json_array();

    for (unsigned t = 0; t <= ctl->env.n_more; t++) {
        struct tgt_server *tgt = t ? ctl->env.more_tgt[t - 1] : ctl->env.tgt;
        const char *name = t ? ctl->env.more_names[t - 1] : ctl->env.target_name;
        const char *const *addr = t ? (ctl->env.more_portals ? ctl->env.more_portals[t - 1] : NULL) : ctl->env.portals;
        unsigned n = t ? (ctl->env.more_n_portals ? ctl->env.more_n_portals[t - 1] : 0) : ctl->env.n_portals;
        struct prt_sess_walk w = { .ctl = ctl, .only = name ? name : "" };
        if (ctl->env.isc)
            isc_server_foreach_session(ctl->env.isc, prt__sess_add, &w);
        json_array_append_new(a, json_pack("{s:s, s:o, s:i, s:i}", "name", name ? name : "", "portals",
                                           prt__portals_json(addr, n), "luns", (int)tgt_server_lu_count(tgt),
                                           "sessions", (int)w.n));
    }
    return a;
}

static void prt__m_status(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { NULL };
    struct prt_sess_walk w = { .ctl = ctl };
    json_t *portals;

    (void)sub;
    if (!prt__check_keys(params, keys, out))
        return;
    if (ctl->env.isc)
        isc_server_foreach_session(ctl->env.isc, prt__sess_add, &w);
    portals = prt__portals_json(ctl->cur_portals, ctl->cur_n_portals);
    out->result = json_pack("{s:s, s:s, s:o, s:i, s:i, s:o, s:s?}", "version",
                            ctl->env.version ? ctl->env.version : "", "target",
                            ctl->cur_name ? ctl->cur_name : "", "portals", portals, "luns",
                            (int)tgt_server_lu_count(ctl->env.tgt), "sessions", (int)w.n, "faults",
                            prt__fault_json(ctl), "event_log", ctl->env.event_log);
    if (out->result && ctl->env.net)
        json_object_set_new(out->result, "uptime_ms",
                            json_integer((json_int_t)(net_now_ms(ctl->env.net) - ctl->started_ms)));
    if (out->result && ctl->env.events)
        json_object_set_new(out->result, "events_logged", json_integer((json_int_t)prt_events_count(ctl->env.events)));
    /* docs/control.md: without "target", a daemon with several targets lists each of them, so that an operator
     * (and `prtargetctl status`/`watch`) sees every target, grouped, from one request. */
    if (out->result && !ctl->target_given && ctl->env.n_more)
        json_object_set_new(out->result, "targets", prt__targets_json(ctl));
}

static void prt__m_sessions(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { NULL };
    struct prt_sess_walk w = { .ctl = ctl };

    (void)sub;
    if (!prt__check_keys(params, keys, out))
        return;
    w.arr = json_array();
    if (ctl->env.isc)
        isc_server_foreach_session(ctl->env.isc, prt__sess_add, &w);
    out->result = w.arr;
}

static json_t *prt__lu_json(struct prt_control *ctl, uint64_t lun)
{
    struct tgt_lu_info li;
    struct pr_resv_info rv;
    char naa[20];
    const struct pr_state *pr = tgt_lu_pr_state(ctl->env.tgt, lun);

    if (tgt_server_lu_info(ctl->env.tgt, lun, &li) != 0 || !pr)
        return NULL;
    snprintf(naa, sizeof naa, "0x%02x%02x%02x%02x%02x%02x%02x%02x", li.naa[0], li.naa[1], li.naa[2], li.naa[3],
             li.naa[4], li.naa[5], li.naa[6], li.naa[7]);
    pr_state_reservation(pr, &rv);
    return json_pack("{s:I, s:s, s:s?, s:I, s:i, s:b, s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:b, s:b, s:I}", "lun",
                     (json_int_t)lun, "backend", li.backend, "path", li.path, "size", (json_int_t)li.size,
                     "block_size", (int)li.block_size, "read_only", (int)li.read_only, "vendor", li.vendor,
                     "product", li.product, "serial", li.serial, "naa", naa, "pr_profile", pr_state_profile(pr),
                     "aptpl", (int)pr_state_aptpl(pr), "registrations", (int)pr_state_reg_count(pr), "reserved",
                     (int)rv.reserved, "lost", (int)pr_state_lost(pr), "delay_ms",
                     (json_int_t)tgt_fault_delay(ctl->env.tgt, lun));
}

static void prt__m_luns(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { NULL };

    (void)sub;
    if (!prt__check_keys(params, keys, out))
        return;
    out->result = json_array();
    for (unsigned l = 0; l < tgt_server_lu_count(ctl->env.tgt); l++) {
        json_t *lu = prt__lu_json(ctl, l);
        if (lu && ctl->cur_name)
            json_object_set_new(lu, "target", json_string(ctl->cur_name));
        json_array_append_new(out->result, lu);
    }
}

/* ---- pr.* -------------------------------------------------------------------------------------------------- */

static json_t *prt__pr_show_lu(struct prt_control *ctl, uint64_t lun)
{
    const struct pr_state *pr = tgt_lu_pr_state(ctl->env.tgt, lun);
    struct pr_resv_info rv;
    struct pr_reg_info ri;
    uint32_t cursor = 0;
    json_t *regs = json_array(), *uas = json_array(), *resv;
    char key[19];

    pr_state_reservation(pr, &rv);
    while (pr_state_reg_next(pr, &cursor, &ri)) {
        json_t *r = prt_nexus_json(ctl->env.tgt, ri.itn);
        if (!json_is_object(r)) {
            json_decref(r);
            continue;
        }
        snprintf(key, sizeof key, "0x%016llx", (unsigned long long)ri.key);
        json_object_set_new(r, "key", json_string(key));
        json_object_set_new(r, "all_tg_pt", json_boolean(ri.all_tg_pt));
        json_object_set_new(r, "holder", json_boolean(ri.holder));
        json_object_set_new(r, "logged_in", json_boolean(tgt_server_itn_logged_in(ctl->env.tgt, ri.itn)));
        json_array_append_new(regs, r);
    }
    if (rv.reserved) {
        snprintf(key, sizeof key, "0x%016llx", (unsigned long long)rv.key);
        resv = json_pack("{s:i, s:s, s:i, s:s, s:o}", "type", (int)rv.type, "type_name", prt_pr_type_name(rv.type),
                         "scope", (int)rv.scope, "key", key, "holder",
                         rv.holder == PR_ITN_NONE ? json_string("all registrants")
                                                  : prt_nexus_json(ctl->env.tgt, rv.holder));
    } else {
        resv = json_null();
    }
    /* SAM-5 5.14 / SPC-4 5.14: unit attentions are kept per I_T nexus, so they are listed per nexus. */
    uint32_t n_itn = pr_itn_count(tgt_server_itn_tab(ctl->env.tgt));
    for (uint32_t itn = 0; itn < n_itn; itn++) {
        uint8_t ua[PRT_UA_LIST_MAX][2];
        unsigned n = tgt_lu_pending_ua(ctl->env.tgt, lun, itn, ua, PRT_UA_LIST_MAX);
        if (n == 0)
            continue;
        json_t *list = json_array();
        for (unsigned i = 0; i < n && i < PRT_UA_LIST_MAX; i++) {
            char code[8];
            snprintf(code, sizeof code, "%02x/%02x", ua[i][0], ua[i][1]);
            json_array_append_new(list, json_pack("{s:s, s:s}", "ua", code, "name", prt_ua_name(ua[i][0], ua[i][1])));
        }
        json_array_append_new(uas, json_pack("{s:o, s:o}", "nexus", prt_nexus_json(ctl->env.tgt, itn), "pending",
                                             list));
    }
    const struct pr_caps *caps = pr_state_caps(pr);
    uint32_t spc2 = pr_spc2_holder(pr);
    return json_pack("{s:I, s:I, s:b, s:s, s:b, s:b, s:o, s:o, s:o, s:o, s:i}", "lun", (json_int_t)lun, "generation",
                     (json_int_t)pr_state_generation(pr), "aptpl", (int)pr_state_aptpl(pr), "profile",
                     pr_state_profile(pr), "ptpl_capable", (int)caps->ptpl, "lost", (int)pr_state_lost(pr),
                     "reservation", resv, "registrations", regs, "unit_attentions", uas, "spc2_holder",
                     spc2 == PR_ITN_NONE ? json_null() : prt_nexus_json(ctl->env.tgt, spc2), "type_mask",
                     (int)caps->type_mask);
}

static void prt__m_pr_show(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { "lun", NULL };
    uint64_t lun;
    bool all;

    (void)sub;
    if (!prt__check_keys(params, keys, out) || !prt__lun_param(ctl, params, false, &lun, &all, out))
        return;
    out->result = json_array();
    for (unsigned l = 0; l < tgt_server_lu_count(ctl->env.tgt); l++)
        if (all || l == lun)
            json_array_append_new(out->result, prt__pr_show_lu(ctl, l));
}

static void prt__m_pr_reset(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { "lun", NULL };
    uint64_t lun;
    bool all;

    (void)sub;
    if (!prt__check_keys(params, keys, out) || !prt__lun_param(ctl, params, false, &lun, &all, out))
        return;
    json_t *done = json_array();
    for (unsigned l = 0; l < tgt_server_lu_count(ctl->env.tgt); l++) {
        if (!all && l != lun)
            continue;
        struct pr_state *st = tgt_lu_pr_state(ctl->env.tgt, l);
        pr_state_reset(st);
        /* The APTPL file must follow, or a restart would bring back what the operator just cleared. */
        int rc = pr_state_save(st);
        if (rc) {
            json_decref(done);
            prt__fail(out, PRT_RPC_INTERNAL_ERROR, "lun %u: state reset but the state file was not written: %s", l,
                      strerror(-rc));
            prt__changed(ctl);
            return;
        }
        json_array_append_new(done, json_integer(l));
    }
    out->result = json_pack("{s:o}", "reset", done);
    prt__changed(ctl);
}

static void prt__m_pr_dump(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { "lun", NULL };
    uint64_t lun;
    bool all;

    (void)sub;
    if (!prt__check_keys(params, keys, out) || !prt__lun_param(ctl, params, false, &lun, &all, out))
        return;
    out->result = json_array();
    for (unsigned l = 0; l < tgt_server_lu_count(ctl->env.tgt); l++) {
        if (!all && l != lun)
            continue;
        char *text = pr_state_to_json(tgt_lu_pr_state(ctl->env.tgt, l));
        json_t *st = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        if (!st) {
            prt__fail(out, PRT_RPC_INTERNAL_ERROR, "lun %u: cannot serialise the PR state", l);
            return;
        }
        json_array_append_new(out->result, json_pack("{s:i, s:o}", "lun", (int)l, "state", st));
    }
}

static void prt__m_pr_load(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { "lun", "state", NULL };
    uint64_t lun = 0;
    bool all;
    char err[256] = "";
    char *text;

    (void)sub;
    if (!prt__check_keys(params, keys, out) || !prt__lun_param(ctl, params, false, &lun, &all, out))
        return;
    if (all)
        lun = 0;
    json_t *st = params ? json_object_get(params, "state") : NULL;
    if (json_is_string(st))
        text = strdup(json_string_value(st));
    else if (json_is_object(st))
        text = json_dumps(st, JSON_COMPACT);
    else {
        prt__fail(out, PRT_RPC_INVALID_PARAMS, "state: expected the PR state object (as pr.dump returns it)");
        return;
    }
    if (!text) {
        prt__fail(out, PRT_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    int rc = pr_state_from_json(tgt_lu_pr_state(ctl->env.tgt, lun), text, "state", err, sizeof err);
    free(text);
    if (rc) {
        prt__fail(out, PRT_RPC_INVALID_PARAMS, "%s", err[0] ? err : "not a valid PR state");
        return;
    }
    rc = pr_state_save(tgt_lu_pr_state(ctl->env.tgt, lun));
    if (rc) {
        prt__fail(out, PRT_RPC_INTERNAL_ERROR, "lun %u: state loaded but the state file was not written: %s",
                  (unsigned)lun, strerror(-rc));
        prt__changed(ctl);
        return;
    }
    out->result = json_pack("{s:I, s:I, s:I}", "lun", (json_int_t)lun, "registrations",
                            (json_int_t)pr_state_reg_count(tgt_lu_pr_state(ctl->env.tgt, lun)), "generation",
                            (json_int_t)pr_state_generation(tgt_lu_pr_state(ctl->env.tgt, lun)));
    prt__changed(ctl);
}

/* ---- fault.* ---------------------------------------------------------------------------------------------- */

struct prt_drop_walk {
    const char *iname;
    const char *target; /* only sessions logged in to this target; NULL = every target */
    const uint8_t *isid;
    char (*peers)[72];
    unsigned n, cap;
};

static void prt__drop_match(void *arg, const struct isc_session_info *si)
{
    struct prt_drop_walk *w = arg;

    if (si->discovery || strcmp(si->initiator_name, w->iname) != 0 || (w->isid && memcmp(si->isid, w->isid, 6)))
        return;
    if (w->target && (!si->target_name || strcmp(si->target_name, w->target) != 0))
        return;
    if (w->n < w->cap && si->peer_addr)
        snprintf(w->peers[w->n], sizeof w->peers[0], "%s", si->peer_addr);
    w->n++;
}

static void prt__m_drop_nexus(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { "initiator", "isid", NULL };
    uint8_t isid[6];
    char peers[64][72];
    /* docs/control.md: with "target", only the I_T nexuses of that target are lost; without it, the
     * initiator's connections to every target of the process are dropped. */
    struct prt_drop_walk w = { .peers = peers, .cap = 64, .target = ctl->target_given ? ctl->cur_name : NULL };

    (void)sub;
    if (!prt__check_keys(params, keys, out))
        return;
    json_t *in = params ? json_object_get(params, "initiator") : NULL;
    json_t *is = params ? json_object_get(params, "isid") : NULL;
    if (!json_is_string(in) || json_string_length(in) == 0) {
        prt__fail(out, PRT_RPC_INVALID_PARAMS, "initiator: expected an iSCSI initiator name");
        return;
    }
    w.iname = json_string_value(in);
    if (is && !json_is_null(is)) {
        if (!json_is_string(is) || prt__parse_isid(json_string_value(is), isid) != 0) {
            prt__fail(out, PRT_RPC_INVALID_PARAMS, "isid: expected 12 hex digits such as 0x23d000000001");
            return;
        }
        w.isid = isid;
    }
    if (!ctl->env.isc || !ctl->env.net) {
        prt__fail(out, PRT_RPC_FAILED, "no iSCSI transport to drop sessions from");
        return;
    }
    isc_server_foreach_session(ctl->env.isc, prt__drop_match, &w);
    if (w.n == 0) {
        prt__fail(out, PRT_RPC_FAILED, "no session of %s%s%s is logged in%s%s", w.iname,
                  w.isid ? " with ISID " : "", w.isid ? json_string_value(is) : "", w.target ? " to " : "",
                  w.target ? w.target : "");
        return;
    }
    unsigned dropped = 0;
    for (unsigned i = 0; i < w.n && i < w.cap; i++)
        dropped += net_drop_peer(ctl->env.net, peers[i]);
    out->result = json_pack("{s:i}", "dropped", (int)dropped);
    prt__changed(ctl);
}

static void prt__m_power_loss(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { "lun", NULL };
    uint64_t lun;
    bool all;

    (void)sub;
    if (!prt__check_keys(params, keys, out) || !prt__lun_param(ctl, params, false, &lun, &all, out))
        return;
    /* Drop the connections first so that no command slips in between the state change and the link loss. */
    unsigned dropped = ctl->env.net ? net_drop_peer(ctl->env.net, NULL) : 0;
    tgt_fault_power_loss(ctl->env.tgt, all ? -1 : (int64_t)lun);
    json_t *luns = json_array();
    for (unsigned l = 0; l < tgt_server_lu_count(ctl->env.tgt); l++)
        if (all || l == lun)
            json_array_append_new(luns, json_integer(l));
    out->result = json_pack("{s:o, s:i}", "luns", luns, "dropped", (int)dropped);
    prt__changed(ctl);
}

/* Status names of SAM-5 5.3.1 as an operator types them ("RESERVATION_CONFLICT", "reservation-conflict"),
 * or a number. */
static int prt__parse_status(json_t *v, uint8_t *out)
{
    static const struct { const char *name; uint8_t code; } names[] = {
        { "GOOD", TGT_STATUS_GOOD },
        { "CHECK_CONDITION", TGT_STATUS_CHECK_CONDITION },
        { "CONDITION_MET", TGT_STATUS_CONDITION_MET },
        { "BUSY", TGT_STATUS_BUSY },
        { "RESERVATION_CONFLICT", TGT_STATUS_RESERVATION_CONFLICT },
        { "TASK_SET_FULL", TGT_STATUS_TASK_SET_FULL },
        { "ACA_ACTIVE", TGT_STATUS_ACA_ACTIVE },
        { "TASK_ABORTED", TGT_STATUS_TASK_ABORTED },
    };
    uint64_t u;

    if (json_is_string(v)) {
        char norm[32];
        const char *s = json_string_value(v);
        size_t i;
        for (i = 0; s[i] && i + 1 < sizeof norm; i++)
            norm[i] = (s[i] == '-' || s[i] == ' ') ? '_' : (char)toupper((unsigned char)s[i]);
        norm[i] = '\0';
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            if (strcmp(norm, names[k].name) == 0) {
                *out = names[k].code;
                return 0;
            }
        }
    }
    if (prt__uint_param(v, 0xff, &u) != 0)
        return -EINVAL;
    *out = (uint8_t)u;
    return 0;
}

/* "KEY/ASC/ASCQ" in hex, e.g. "3/11/00" (MEDIUM ERROR, UNRECOVERED READ ERROR) or "0x6/0x29/0x00". */
static int prt__parse_sense(const char *s, uint8_t *key, uint8_t *asc, uint8_t *ascq)
{
    unsigned long v[3];
    const char *p = s;

    for (int i = 0; i < 3; i++) {
        char *end;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
            p += 2;
        if (!isxdigit((unsigned char)*p))
            return -EINVAL;
        v[i] = strtoul(p, &end, 16);
        if (v[i] > (i == 0 ? 0x0fu : 0xffu))
            return -ERANGE;
        if (i < 2 && *end != '/')
            return -EINVAL;
        if (i == 2 && *end != '\0')
            return -EINVAL;
        p = end + 1;
    }
    *key = (uint8_t)v[0];
    *asc = (uint8_t)v[1];
    *ascq = (uint8_t)v[2];
    return 0;
}

static void prt__m_fault_next(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { "lun", "count", "opcode", "status", "sense", NULL };
    struct tgt_fault_next f = { .opcode = TGT_FAULT_ANY_OPCODE };
    uint64_t lun, u;
    bool all;

    (void)sub;
    if (!prt__check_keys(params, keys, out) || !prt__lun_param(ctl, params, true, &lun, &all, out))
        return;
    f.lun = lun;
    json_t *count = json_object_get(params, "count"), *op = json_object_get(params, "opcode");
    json_t *status = json_object_get(params, "status"), *sense = json_object_get(params, "sense");
    if (!count)
        f.count = 1;
    else if (prt__uint_param(count, UINT32_MAX, &u) != 0 || u == 0) {
        prt__fail(out, PRT_RPC_INVALID_PARAMS, "count: expected a positive number of commands");
        return;
    } else {
        f.count = (uint32_t)u;
    }
    if (op && !json_is_null(op)) {
        if (prt__uint_param(op, 0xff, &u) != 0) {
            prt__fail(out, PRT_RPC_INVALID_PARAMS, "opcode: expected an operation code such as 0x2a");
            return;
        }
        f.opcode = (int)u;
    }
    if ((status != NULL) == (sense != NULL)) {
        prt__fail(out, PRT_RPC_INVALID_PARAMS, "exactly one of 'status' and 'sense' is needed");
        return;
    }
    if (sense) {
        if (!json_is_string(sense) || prt__parse_sense(json_string_value(sense), &f.sense_key, &f.asc, &f.ascq)) {
            prt__fail(out, PRT_RPC_INVALID_PARAMS, "sense: expected KEY/ASC/ASCQ in hex, such as 3/11/00");
            return;
        }
        f.has_sense = true;
        f.status = TGT_STATUS_CHECK_CONDITION;
    } else if (prt__parse_status(status, &f.status) != 0) {
        prt__fail(out, PRT_RPC_INVALID_PARAMS, "status: expected a SCSI status name (BUSY, TASK_SET_FULL, ...) "
                                               "or code");
        return;
    }
    int rc = tgt_fault_add_next(ctl->env.tgt, &f);
    if (rc == -EINVAL) {
        prt__fail(out, PRT_RPC_INVALID_PARAMS, "status 0x%02x cannot be injected%s", f.status,
                  f.status == TGT_STATUS_CHECK_CONDITION ? " without sense (use 'sense')" : "");
        return;
    }
    if (rc == -ENOSPC) {
        prt__fail(out, PRT_RPC_FAILED, "%d fault rules are armed already (fault clear)", TGT_FAULT_MAX);
        return;
    }
    if (rc) {
        prt__fail(out, PRT_RPC_FAILED, "%s", strerror(-rc));
        return;
    }
    out->result = prt__fault_json(ctl);
    prt__changed(ctl);
}

static void prt__m_fault_delay(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { "lun", "ms", NULL };
    uint64_t lun, ms;
    bool all;

    (void)sub;
    if (!prt__check_keys(params, keys, out) || !prt__lun_param(ctl, params, true, &lun, &all, out))
        return;
    json_t *v = json_object_get(params, "ms");
    /* An hour is longer than any initiator waits for a command; beyond it is surely a typo. */
    if (!v || prt__uint_param(v, 3600000, &ms) != 0) {
        prt__fail(out, PRT_RPC_INVALID_PARAMS, "ms: expected milliseconds, 0 to 3600000");
        return;
    }
    int rc = tgt_fault_set_delay(ctl->env.tgt, lun, (uint32_t)ms);
    if (rc) {
        prt__fail(out, PRT_RPC_FAILED, "%s", rc == -ENOSPC ? "too many delays armed (fault clear)" : strerror(-rc));
        return;
    }
    out->result = prt__fault_json(ctl);
    prt__changed(ctl);
}

static void prt__m_fault_lost(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { "lun", NULL };
    uint64_t lun;
    bool all;

    (void)sub;
    if (!prt__check_keys(params, keys, out) || !prt__lun_param(ctl, params, true, &lun, &all, out))
        return;
    tgt_fault_lost_reservation(ctl->env.tgt, lun);
    out->result = json_pack("{s:I, s:b}", "lun", (json_int_t)lun, "lost", 1);
    prt__changed(ctl);
}

static void prt__m_fault_clear(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { NULL };

    (void)sub;
    if (!prt__check_keys(params, keys, out))
        return;
    tgt_fault_clear(ctl->env.tgt);
    out->result = prt__fault_json(ctl);
    prt__changed(ctl);
}

static void prt__m_fault_list(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { NULL };

    (void)sub;
    if (!prt__check_keys(params, keys, out))
        return;
    out->result = prt__fault_json(ctl);
}

/* ---- events, watch ----------------------------------------------------------------------------------------- */

static void prt__m_events(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { "limit", "follow", NULL };
    uint64_t limit = 0;

    if (!prt__check_keys(params, keys, out))
        return;
    json_t *l = params ? json_object_get(params, "limit") : NULL;
    json_t *f = params ? json_object_get(params, "follow") : NULL;
    if (l && prt__uint_param(l, PRT_EVENTS_KEEP, &limit) != 0) {
        prt__fail(out, PRT_RPC_INVALID_PARAMS, "limit: expected 0 to %d", PRT_EVENTS_KEEP);
        return;
    }
    if (f && !json_is_boolean(f)) {
        prt__fail(out, PRT_RPC_INVALID_PARAMS, "follow: expected true or false");
        return;
    }
    out->result = ctl->env.events ? prt_events_recent(ctl->env.events, (size_t)limit) : json_array();
    if (json_is_true(f))
        *sub |= PRT_TOPIC_EVENTS;
}

static void prt__m_watch(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { NULL };

    if (!prt__check_keys(params, keys, out))
        return;
    *sub |= PRT_TOPIC_CHANGES;
    out->result = json_pack("{s:b}", "watching", 1);
}

/* ---- ALUA (SPC-4 5.16): one target port group per portal, group id = TPGT = relative target port id ---------- */

static json_t *prt__alua_group_json(struct prt_control *ctl, unsigned tpg)
{
    enum tgt_alua_state st = tgt_alua_get_state(ctl->env.tgt, (uint16_t)tpg);
    json_t *portals = json_array();

    if (tpg >= 1 && tpg <= ctl->cur_n_portals && ctl->cur_portals)
        json_array_append_new(portals, json_string(ctl->cur_portals[tpg - 1]));
    /* PREF is always 0: REPORT TARGET PORT GROUPS reports no group as preferred (target/alua.c). */
    return json_pack("{s:i, s:o, s:s, s:i, s:b}", "tpg", (int)tpg, "portals", portals, "state",
                     tgt_alua_state_name(st), "state_code", (int)st, "preferred", 0);
}

static void prt__m_alua_show(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { NULL };

    (void)sub;
    if (!prt__check_keys(params, keys, out))
        return;
    out->result = json_array();
    for (unsigned g = 1; g <= tgt_alua_group_count(ctl->env.tgt); g++)
        json_array_append_new(out->result, prt__alua_group_json(ctl, g));
}

static void prt__m_alua_set(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { "tpg", "state", NULL };
    unsigned n = tgt_alua_group_count(ctl->env.tgt);
    json_t *v = params ? json_object_get(params, "tpg") : NULL;
    const char *name = params ? json_string_value(json_object_get(params, "state")) : NULL;
    enum tgt_alua_state st, was;
    uint64_t tpg;

    (void)sub;
    if (!prt__check_keys(params, keys, out))
        return;
    if (!v || prt__uint_param(v, 0xffff, &tpg) != 0 || tpg == 0 || tpg > n) {
        prt__fail(out, PRT_RPC_INVALID_PARAMS, "\"tpg\" must be a target port group id, 1..%u", n);
        return;
    }
    if (!name || tgt_alua_state_parse(name, &st) != 0) {
        prt__fail(out, PRT_RPC_INVALID_PARAMS,
                  "\"state\" must be one of active-optimized, active-nonoptimized, standby, unavailable, offline, "
                  "transitioning");
        return;
    }
    was = tgt_alua_get_state(ctl->env.tgt, (uint16_t)tpg);
    int rc = tgt_alua_set_state(ctl->env.tgt, (uint16_t)tpg, st);
    if (rc) {
        /* Groups past TGT_ALUA_MAX_TPG exist but keep their state (target/alua.c). */
        prt__fail(out, PRT_RPC_FAILED, "target port group %u: %s", (unsigned)tpg, strerror(-rc));
        return;
    }
    out->result = prt__alua_group_json(ctl, (unsigned)tpg);
    json_object_set_new(out->result, "previous", json_string(tgt_alua_state_name(was)));
    if (was != st)
        prt__changed(ctl);
}

static void prt__m_methods(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub);

static const struct {
    const char *name;
    prt_method_fn fn;
} prt__methods[] = {
    { "status", prt__m_status },
    { "sessions", prt__m_sessions },
    { "luns", prt__m_luns },
    { "pr.show", prt__m_pr_show },
    { "pr.reset", prt__m_pr_reset },
    { "pr.dump", prt__m_pr_dump },
    { "pr.load", prt__m_pr_load },
    { "alua.show", prt__m_alua_show },
    { "alua.set", prt__m_alua_set },
    { "fault.power_loss", prt__m_power_loss },
    { "fault.drop_nexus", prt__m_drop_nexus },
    { "fault.next", prt__m_fault_next },
    { "fault.delay", prt__m_fault_delay },
    { "fault.lost_reservation", prt__m_fault_lost },
    { "fault.clear", prt__m_fault_clear },
    { "fault.list", prt__m_fault_list },
    { "events", prt__m_events },
    { "watch", prt__m_watch },
    { "methods", prt__m_methods },
};

static void prt__m_methods(struct prt_control *ctl, json_t *params, struct prt_rpc_out *out, unsigned *sub)
{
    static const char *const keys[] = { NULL };

    (void)ctl;
    (void)sub;
    if (!prt__check_keys(params, keys, out))
        return;
    out->result = json_array();
    for (size_t i = 0; i < sizeof prt__methods / sizeof prt__methods[0]; i++)
        json_array_append_new(out->result, json_string(prt__methods[i].name));
}

/* ---- JSON-RPC framing ---------------------------------------------------------------------------------------- */

static json_t *prt__error(json_t *id, int code, const char *msg)
{
    return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error", "code", code,
                     "message", msg);
}

/* One request object. Returns the response (new reference) or NULL for a notification. */
static json_t *prt__one(struct prt_control *ctl, json_t *req, unsigned *sub)
{
    struct prt_rpc_out out = { .result = NULL, .code = 0 };
    json_t *id, *method, *params, *ver;
    bool notification;

    if (!json_is_object(req))
        return prt__error(NULL, PRT_RPC_INVALID_REQUEST, "a request must be a JSON object");
    id = json_object_get(req, "id");
    notification = id == NULL;
    /* JSON-RPC 2.0 section 4: an id is a string, a number or null. */
    if (id && !json_is_string(id) && !json_is_integer(id) && !json_is_real(id) && !json_is_null(id))
        return prt__error(NULL, PRT_RPC_INVALID_REQUEST, "id must be a string, a number or null");
    ver = json_object_get(req, "jsonrpc");
    method = json_object_get(req, "method");
    params = json_object_get(req, "params");
    {
        const char *k;
        json_t *v;
        json_object_foreach(req, k, v) {
            if (strcmp(k, "jsonrpc") && strcmp(k, "id") && strcmp(k, "method") && strcmp(k, "params"))
                return prt__error(id, PRT_RPC_INVALID_REQUEST, "unknown member in the request");
        }
    }
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0)
        return prt__error(id, PRT_RPC_INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\"");
    if (!json_is_string(method))
        return prt__error(id, PRT_RPC_INVALID_REQUEST, "\"method\" must be a string");
    /* Section 4.2: params, when present, is an object or an array; ours are all named. */
    if (params && json_is_null(params))
        params = NULL;
    if (params && !json_is_object(params))
        return prt__error(id, PRT_RPC_INVALID_PARAMS, "params must be an object");

    const char *name = json_string_value(method);
    prt_method_fn fn = NULL;
    for (size_t i = 0; i < sizeof prt__methods / sizeof prt__methods[0]; i++)
        if (strcmp(prt__methods[i].name, name) == 0)
            fn = prt__methods[i].fn;
    if (!fn) {
        char msg[128];
        snprintf(msg, sizeof msg, "no method '%.64s' (see \"methods\")", name);
        return notification ? NULL : prt__error(id, PRT_RPC_METHOD_NOT_FOUND, msg);
    }
    /* docs/control.md: every method works on the first target unless "target" names another; the method sees
     * the chosen target as the one it serves. */
    struct tgt_server *tgt0 = ctl->env.tgt;
    json_t *tv = params ? json_object_get(params, "target") : NULL;
    ctl->cur_name = ctl->env.target_name;
    ctl->cur_portals = ctl->env.portals;
    ctl->cur_n_portals = ctl->env.n_portals;
    ctl->target_given = tv != NULL;
    if (tv) {
        const char *tn = json_string_value(tv);
        struct tgt_server *pick = NULL;
        if (tn && ctl->env.target_name && strcmp(tn, ctl->env.target_name) == 0)
            pick = tgt0;
        for (unsigned i = 0; tn && !pick && i < ctl->env.n_more; i++) {
            if (strcmp(tn, ctl->env.more_names[i]) == 0) {
                pick = ctl->env.more_tgt[i];
                ctl->cur_name = ctl->env.more_names[i];
                ctl->cur_portals = ctl->env.more_portals ? ctl->env.more_portals[i] : NULL;
                ctl->cur_n_portals = ctl->env.more_n_portals ? ctl->env.more_n_portals[i] : 0;
            }
        }
        if (!pick) {
            char msg[160];
            snprintf(msg, sizeof msg, "target: %s%.100s%s is not a target of this prtarget", tn ? "\"" : "",
                     tn ? tn : "not a string", tn ? "\"" : "");
            return notification ? NULL : prt__error(id, PRT_RPC_INVALID_PARAMS, msg);
        }
        ctl->env.tgt = pick;
        json_object_del(params, "target");
    }
    fn(ctl, params, &out, sub);
    ctl->env.tgt = tgt0;
    if (!out.result && out.code == 0)
        prt__fail(&out, PRT_RPC_INTERNAL_ERROR, "out of memory");
    if (notification) {
        json_decref(out.result);
        return NULL;
    }
    if (out.code) {
        json_decref(out.result);
        return prt__error(id, out.code, out.msg);
    }
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", out.result);
}

char *prt_control_handle(struct prt_control *ctl, const char *line, size_t len, unsigned *subscribe)
{
    json_error_t je;
    json_t *req, *rsp = NULL;
    char *text;

    *subscribe = 0;
    req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!req) {
        char msg[200];
        snprintf(msg, sizeof msg, "parse error at column %d: %s", je.column, je.text);
        rsp = prt__error(NULL, PRT_RPC_PARSE_ERROR, msg);
    } else if (json_is_array(req)) {
        /* Section 6: a batch; an empty one is an invalid request, and an all-notification batch gets nothing. */
        if (json_array_size(req) == 0) {
            rsp = prt__error(NULL, PRT_RPC_INVALID_REQUEST, "empty batch");
        } else {
            size_t i;
            json_t *r;
            rsp = json_array();
            json_array_foreach(req, i, r) {
                json_t *one = prt__one(ctl, r, subscribe);
                if (one)
                    json_array_append_new(rsp, one);
            }
            if (json_array_size(rsp) == 0) {
                json_decref(rsp);
                rsp = NULL;
            }
        }
    } else {
        rsp = prt__one(ctl, req, subscribe);
    }
    json_decref(req);
    if (!rsp)
        return NULL;
    text = json_dumps(rsp, JSON_COMPACT);
    json_decref(rsp);
    return text;
}

char *prt_control_event_notification(const char *event_line, size_t len)
{
    static const char head[] = "{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":";
    char *n = malloc(sizeof head - 1 + len + 2);

    if (!n)
        return NULL;
    memcpy(n, head, sizeof head - 1);
    memcpy(n + sizeof head - 1, event_line, len);
    n[sizeof head - 1 + len] = '}';
    n[sizeof head + len] = '\0';
    return n;
}

const char *prt_control_changed_notification(void)
{
    return "{\"jsonrpc\":\"2.0\",\"method\":\"changed\"}";
}

struct prt_control *prt_control_new(const struct prt_control_env *env)
{
    struct prt_control *ctl;

    if (!env || !env->tgt)
        return NULL;
    ctl = calloc(1, sizeof *ctl);
    if (ctl) {
        ctl->env = *env;
        ctl->started_ms = env->net ? net_now_ms(env->net) : 0;
    }
    return ctl;
}

void prt_control_free(struct prt_control *ctl)
{
    free(ctl);
}

/* ---- daemon glue --------------------------------------------------------------------------------------------- */

struct prt_tools {
    const char *portals[PRT_MAX_PORTALS];
    const char *more_names[PRT_MAX_TARGETS];
    struct tgt_server *more_tgt[PRT_MAX_TARGETS];
    const char *more_addr[PRT_MAX_TARGETS][PRT_MAX_PORTALS];
    const char *const *more_portals[PRT_MAX_TARGETS];
    unsigned more_n_portals[PRT_MAX_TARGETS];
    unsigned n_more;
    char control_path[PRT_CONTROL_PATH_MAX];
    struct prt_control *ctl;
    struct prt_events *events;
    struct net_control *sock;
    struct tgt_server *tgt;
};

static char *prt__sock_handle(void *ctx, const char *line, size_t len, unsigned *subscribe)
{
    return prt_control_handle(ctx, line, len, subscribe);
}

static void prt__publish(void *ctx, unsigned topics, const char *line, size_t len)
{
    struct prt_tools *t = ctx;
    net_control_publish(t->sock, topics, line, len);
}

/* Each event-log line goes to the followers of the log, and tells `watch` that the PR picture changed. */
static void prt__publish_event(void *ctx, const char *line, size_t len)
{
    struct prt_tools *t = ctx;
    char *n;

    if (!t->sock)
        return;
    if (!line) {
        /* Nobody follows the text (prt__wants_lines); `watch` still hears that the PR picture changed. */
        prt__changed(t->ctl);
        return;
    }
    n = prt_control_event_notification(line, len);
    if (n) {
        net_control_publish(t->sock, PRT_TOPIC_EVENTS, n, strlen(n));
        free(n);
    }
    prt__changed(t->ctl);
}

/* Whether any control client follows the event text: without one, events are not formatted at all. */
static bool prt__wants_lines(void *ctx)
{
    struct prt_tools *t = ctx;
    return net_control_followers(t->sock, PRT_TOPIC_EVENTS) > 0;
}

int prt_tools_start(struct prt_tools **out, const struct prt_control_env *env, const char *control_path,
                    bool control_explicit, const char *event_log, char *err, size_t errlen)
{
    struct prt_tools *t = calloc(1, sizeof *t);
    struct prt_control_env e = *env;
    int rc;

    *out = NULL;
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    t->tgt = env->tgt;
    for (unsigned i = 0; i < env->n_portals && i < PRT_MAX_PORTALS; i++)
        t->portals[i] = env->portals[i];
    e.portals = t->portals;
    for (unsigned i = 0; i < env->n_more && i < PRT_MAX_TARGETS; i++) {
        t->more_names[i] = env->more_names[i];
        t->more_tgt[i] = env->more_tgt[i];
        t->more_n_portals[i] = env->more_n_portals ? env->more_n_portals[i] : 0;
        if (t->more_n_portals[i] > PRT_MAX_PORTALS)
            t->more_n_portals[i] = PRT_MAX_PORTALS;
        for (unsigned j = 0; j < t->more_n_portals[i]; j++)
            t->more_addr[i][j] = env->more_portals[i][j];
        t->more_portals[i] = t->more_addr[i];
        t->n_more = i + 1;
    }
    e.more_names = t->more_names;
    e.more_tgt = t->more_tgt;
    e.n_more = t->n_more;
    e.more_portals = t->more_portals;
    e.more_n_portals = t->more_n_portals;
    if (control_path)
        snprintf(t->control_path, sizeof t->control_path, "%s", control_path);
    struct prt_events_cfg ec = { .path = event_log, .tgt = env->tgt, .target_name = env->target_name,
                                 .publish = prt__publish_event,
                                 .publish_ctx = t, .wants_lines = prt__wants_lines };
    if ((rc = prt_events_open(&t->events, &ec, err, errlen)) != 0) {
        char why[PRT_TOOLS_ERR];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "--event-log %s", why);
        free(t);
        return rc;
    }
    e.events = t->events;
    e.event_log = event_log;
    t->ctl = prt_control_new(&e);
    if (!t->ctl) {
        prt_tools_stop(t);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    t->ctl->publish = prt__publish;
    t->ctl->publish_ctx = t;
    tgt_server_set_event_sink(env->tgt, prt_events_sink, t->events);
    /* Every target's PR outcomes and unit attentions go to the one log, each tagged with its target. */
    for (unsigned i = 0; i < t->n_more; i++) {
        void *src = prt_events_add_target(t->events, t->more_tgt[i], t->more_names[i]);
        if (src)
            tgt_server_set_event_sink(t->more_tgt[i], prt_events_target_sink, src);
    }
    if (control_path && env->net) {
        struct net_control_cfg nc = { .path = control_path, .handle = prt__sock_handle, .ctx = t->ctl };
        rc = net_control_open(env->net, &nc, &t->sock);
        if (rc) {
            snprintf(err, errlen, "--control %s: %s", control_path,
                     rc == -EADDRINUSE ? "another prtarget is serving this socket" : strerror(-rc));
            /* Only a socket the operator asked for is worth refusing to start over; the default one is a
             * convenience (parallel test daemons share it). */
            if (control_explicit) {
                prt_tools_stop(t);
                return rc;
            }
            *out = t;
            return 1;
        }
    }
    *out = t;
    return 0;
}

void prt_tools_stop(struct prt_tools *t)
{
    if (!t)
        return;
    if (t->tgt)
        tgt_server_set_event_sink(t->tgt, NULL, NULL);
    for (unsigned i = 0; i < t->n_more; i++)
        tgt_server_set_event_sink(t->more_tgt[i], NULL, NULL);
    net_control_close(t->sock);
    prt_control_free(t->ctl);
    prt_events_close(t->events);
    free(t);
}

int prt_default_control_path(char *out, size_t len, bool root)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;

    if (root)
        n = snprintf(out, len, "/run/prtarget.sock");
    else if (xdg && xdg[0] == '/')
        n = snprintf(out, len, "%s/prtarget.sock", xdg);
    else
        return -ENOENT;
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int prt_app_tools_start(struct prt_app *app)
{
    char err[PRT_ERR_LEN] = "";
    char def[PRT_CONTROL_PATH_MAX];
    const char *path = app->cfg.control;
    struct prt_control_env env = {
        .tgt = app->tgt,
        .isc = app->isc,
        .net = app->net,
        .target_name = app->cfg.target,
        .n_portals = app->cfg.n_listen,
        .version = PRT_VERSION,
    };
    const char *portals[PRT_MAX_PORTALS];
    const char *more_names[PRT_MAX_TARGETS];
    const char *more_addr[PRT_MAX_TARGETS][PRT_MAX_PORTALS];
    const char *const *more_portals[PRT_MAX_TARGETS];
    unsigned more_n[PRT_MAX_TARGETS];
    int rc;

    for (unsigned t = 0; t < app->cfg.n_more; t++) {
        more_names[t] = app->cfg.more[t].target;
        for (unsigned i = 0; i < app->cfg.more[t].n_luns; i++) {
            const char *prof = app->cfg.pr_profile ? app->cfg.pr_profile : app->cfg.more[t].luns[i].pr_profile;
            if (prof && pr_state_set_profile(tgt_lu_pr_state(app->tgt_more[t], i), prof) != 0) {
                fprintf(stderr, "prtarget: %s LUN %u: PR profile %s is not known to the PR engine\n",
                        app->cfg.more[t].target, i, prof);
                return PRT_EXIT_USAGE;
            }
        }
    }
    env.more_tgt = app->tgt_more;
    env.more_names = more_names;
    env.n_more = app->cfg.n_more;
    for (unsigned t = 0; t < app->cfg.n_more; t++) {
        more_n[t] = app->cfg.more[t].n_listen;
        for (unsigned j = 0; j < more_n[t] && j < PRT_MAX_PORTALS; j++)
            more_addr[t][j] = app->bound[app->more_listener[t][j]];
        more_portals[t] = more_addr[t];
    }
    env.more_portals = more_portals;
    env.more_n_portals = more_n;

    /* PR profiles: --pr-profile wins over the config file's per-LU and per-target choice (docs/config.md). */
    for (unsigned i = 0; i < app->cfg.n_luns; i++) {
        const char *prof = app->cfg.pr_profile ? app->cfg.pr_profile : app->cfg.luns[i].pr_profile;
        if (prof && pr_state_set_profile(tgt_lu_pr_state(app->tgt, i), prof) != 0) {
            fprintf(stderr, "prtarget: LUN %u: PR profile %s is not known to the PR engine\n", i, prof);
            return PRT_EXIT_USAGE;
        }
    }
    /* The configured NAA designator travels in tgt_lu_cfg.naa; say so if the target layer did not take it, rather
     * than let INQUIRY report an identity the operator did not ask for without a word. */
    for (unsigned i = 0; i < app->cfg.n_luns; i++) {
        struct tgt_lu_info li;
        if (app->cfg.luns[i].has_naa && tgt_server_lu_info(app->tgt, i, &li) == 0 &&
            memcmp(li.naa, app->cfg.luns[i].naa, sizeof li.naa) != 0)
            prt_log(&app->log, PRT_LOG_WARN, "LUN %u: identity.naa from the config file is not applied by the target "
                                             "layer; VPD 83h reports its derived NAA", i);
    }
    for (unsigned i = 0; i < app->cfg.n_listen && i < PRT_MAX_PORTALS; i++)
        portals[i] = app->bound[i];
    env.portals = portals;
    if (!path && prt_default_control_path(def, sizeof def, geteuid() == 0) == 0)
        path = def;
    rc = prt_tools_start(&app->tools, &env, path, app->cfg.control != NULL, app->cfg.event_log, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "prtarget: %s\n", err);
        return rc == -EINVAL || rc == -ENAMETOOLONG || rc == -EEXIST ? PRT_EXIT_USAGE : PRT_EXIT_RUNTIME;
    }
    if (rc > 0)
        prt_log(&app->log, PRT_LOG_WARN, "%s; running without a control socket", err);
    else if (path)
        prt_log(&app->log, PRT_LOG_INFO, "control socket %s", path);
    else
        prt_log(&app->log, PRT_LOG_INFO, "no control socket: XDG_RUNTIME_DIR is not set and --control was not given");
    return 0;
}
