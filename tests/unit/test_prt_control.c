/* Unit tests for app/prt_control.c: JSON-RPC 2.0 framing and errors, and every method against a real target
 * device (no transport: sessions are empty and drops are refused).
 *
 * Fixture: a target device with two mem LUs and two I_T nexuses on target port 1; PR state is changed through
 * prstate directly, as a PERSISTENT RESERVE OUT would.
 *
 *   nexus A: iqn.2026-11.test:a, ISID 00 02 3d 00 00 01 --+           +-- LU 0 (mem 1 MiB)
 *                                                         +-- port 1 -+
 *   nexus B: iqn.2026-11.test:b, ISID 00 02 3d 00 00 02 --+           +-- LU 1 (mem 2 MiB)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/prt_control.h"
#include "app/prt_events.h"
#include "prstate/pr.h"
#include "target/tgt.h"

struct fx {
    struct tgt_server *srv;
    struct prt_control *ctl;
    struct prt_events *ev;
    uint32_t a, b;
};

static const uint8_t isid_a[6] = { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x01 };
static const uint8_t isid_b[6] = { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x02 };
static const char *const portals[] = { "127.0.0.1:3260" };

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct tgt_server_cfg cfg = { .target_name = "iqn.2026-11.org.prtarget:test", .n_ports = 1 };
    struct tgt_lu_cfg l0 = { .backend = TGT_BACKEND_MEM, .size = 1 << 20 };
    struct tgt_lu_cfg l1 = { .backend = TGT_BACKEND_MEM, .size = 2 << 20 };
    char err[256];

    if (!f)
        return -1;
    f->srv = tgt_server_new(&cfg, err, sizeof err);
    if (!f->srv || tgt_server_add_lu(f->srv, &l0, err, sizeof err) || tgt_server_add_lu(f->srv, &l1, err, sizeof err))
        return -1;
    f->a = tgt_nexus_id(tgt_nexus_login(f->srv, "iqn.2026-11.test:a", isid_a, 1));
    f->b = tgt_nexus_id(tgt_nexus_login(f->srv, "iqn.2026-11.test:b", isid_b, 1));
    struct prt_events_cfg ec = { .tgt = f->srv };
    if (prt_events_open(&f->ev, &ec, err, sizeof err))
        return -1;
    struct prt_control_env env = { .tgt = f->srv, .events = f->ev, .target_name = "iqn.2026-11.org.prtarget:test",
                                   .portals = portals, .n_portals = 1, .version = "9.9" };
    f->ctl = prt_control_new(&env);
    if (!f->ctl)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    prt_control_free(f->ctl);
    prt_events_close(f->ev);
    tgt_server_free(f->srv);
    free(f);
    return 0;
}

/* Send one request line; return the parsed response (NULL when none) and the subscription bits. */
static json_t *rpc(struct fx *f, const char *line, unsigned *sub)
{
    unsigned s = 0;
    char *out = prt_control_handle(f->ctl, line, strlen(line), &s);
    if (sub)
        *sub = s;
    if (!out)
        return NULL;
    json_t *r = json_loads(out, 0, NULL);
    assert_non_null(r);
    free(out);
    return r;
}

static int error_code(json_t *r)
{
    return (int)json_integer_value(json_object_get(json_object_get(r, "error"), "code"));
}

/* Call method with params (JSON text or NULL) and return a new reference to its result, failing the test on an
 * error response. */
static json_t *call(struct fx *f, const char *method, const char *params)
{
    char line[4096];
    snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"%s\"%s%s}", method,
             params ? ",\"params\":" : "", params ? params : "");
    json_t *r = rpc(f, line, NULL);
    assert_non_null(r);
    if (json_object_get(r, "error"))
        fprintf(stderr, "%s: %s\n", method, json_string_value(json_object_get(json_object_get(r, "error"), "message")));
    assert_null(json_object_get(r, "error"));
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
    json_t *res = json_incref(json_object_get(r, "result"));
    json_decref(r);
    return res;
}

static int call_error(struct fx *f, const char *method, const char *params)
{
    char line[4096];
    snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", method, params);
    json_t *r = rpc(f, line, NULL);
    int code = error_code(r);
    assert_true(json_is_string(json_object_get(json_object_get(r, "error"), "message")));
    json_decref(r);
    return code;
}

static enum pr_status pr_register(struct fx *f, uint64_t lun, uint32_t itn, uint64_t key)
{
    struct pr_out_req req = { .sa = PR_OUT_REGISTER, .sa_key = key };
    struct pr_result res;
    pr_result_init(&res);
    enum pr_status s = pr_out(tgt_lu_pr_state(f->srv, lun), itn, &req, &res);
    pr_result_free(&res);
    return s;
}

static enum pr_status pr_reserve(struct fx *f, uint64_t lun, uint32_t itn, uint64_t key, uint8_t type)
{
    struct pr_out_req req = { .sa = PR_OUT_RESERVE, .key = key, .type = type };
    struct pr_result res;
    pr_result_init(&res);
    enum pr_status s = pr_out(tgt_lu_pr_state(f->srv, lun), itn, &req, &res);
    pr_result_free(&res);
    return s;
}

/* JSON-RPC 2.0 section 5.1 and 4.1. */
static void test_parse_errors_and_invalid_requests_get_their_codes_with_null_id(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *line;
        int code;
    } cases[] = {
        { "{", PRT_RPC_PARSE_ERROR },
        { "nonsense", PRT_RPC_PARSE_ERROR },
        { "{\"a\":1,\"a\":2}", PRT_RPC_PARSE_ERROR },
        { "42", PRT_RPC_INVALID_REQUEST },
        { "{\"id\":1,\"method\":\"status\"}", PRT_RPC_INVALID_REQUEST },
        { "{\"jsonrpc\":\"2.1\",\"id\":1,\"method\":\"status\"}", PRT_RPC_INVALID_REQUEST },
        { "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"status\"}", PRT_RPC_INVALID_REQUEST },
        { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":[\"status\"]}", PRT_RPC_INVALID_REQUEST },
        { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"extra\":1}", PRT_RPC_INVALID_REQUEST },
        { "[]", PRT_RPC_INVALID_REQUEST },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *r = rpc(f, cases[i].line, NULL);
        assert_non_null(r);
        assert_string_equal(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
        assert_int_equal(error_code(r), cases[i].code);
        json_decref(r);
    }
    json_t *r = rpc(f, "{\"jsonrpc\":\"2.0\",\"method\":\"status\",\"id\":1,\"extra\":1}", NULL);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
    json_decref(r);
    r = rpc(f, "{", NULL);
    assert_true(json_is_null(json_object_get(r, "id")));
    json_decref(r);
}

static void test_unknown_method_is_32601_and_notifications_get_no_response(void **state)
{
    struct fx *f = *state;
    json_t *r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"method\":\"pr.explode\"}", NULL);
    assert_int_equal(error_code(r), PRT_RPC_METHOD_NOT_FOUND);
    assert_string_equal(json_string_value(json_object_get(r, "id")), "q");
    json_decref(r);
    /* Section 4.1: a request without an id is a notification; even its errors are not answered. */
    assert_null(rpc(f, "{\"jsonrpc\":\"2.0\",\"method\":\"pr.explode\"}", NULL));
    assert_null(rpc(f, "{\"jsonrpc\":\"2.0\",\"method\":\"status\"}", NULL));
    r = call(f, "methods", NULL);
    assert_true(json_array_size(r) >= 16);
    json_decref(r);
}

static void test_invalid_params_are_32602_and_change_nothing(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_register(f, 0, f->a, 0x1), PR_OK);
    assert_int_equal(call_error(f, "pr.reset", "{\"lun\":\"all\"}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "pr.reset", "{\"lun\":2}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "pr.reset", "{\"lun\":-1}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "pr.reset", "{\"lun\":0,\"force\":true}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "pr.reset", "[0]"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "status", "{\"x\":1}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "fault.delay", "{\"lun\":0}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "fault.delay", "{\"lun\":0,\"ms\":3600001}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "fault.lost_reservation", "{}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "events", "{\"follow\":\"yes\"}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(pr_state_reg_count(tgt_lu_pr_state(f->srv, 0)), 1);
    assert_false(pr_state_lost(tgt_lu_pr_state(f->srv, 0)));
    assert_int_equal(tgt_fault_delay(f->srv, 0), 0);
}

static void test_batch_answers_each_request_and_skips_notifications(void **state)
{
    struct fx *f = *state;
    json_t *r = rpc(f, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"luns\"},{\"jsonrpc\":\"2.0\",\"method\":\"luns\"},"
                       "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"},5]",
                    NULL);
    assert_true(json_is_array(r));
    assert_int_equal(json_array_size(r), 3);
    assert_int_equal(json_array_size(json_object_get(json_array_get(r, 0), "result")), 2);
    assert_int_equal(error_code(json_array_get(r, 1)), PRT_RPC_METHOD_NOT_FOUND);
    assert_int_equal(error_code(json_array_get(r, 2)), PRT_RPC_INVALID_REQUEST);
    json_decref(r);
    assert_null(rpc(f, "[{\"jsonrpc\":\"2.0\",\"method\":\"luns\"}]", NULL));
}

static void test_status_luns_and_sessions_describe_the_device(void **state)
{
    struct fx *f = *state;
    json_t *s = call(f, "status", NULL);
    assert_string_equal(json_string_value(json_object_get(s, "version")), "9.9");
    assert_string_equal(json_string_value(json_object_get(s, "target")), "iqn.2026-11.org.prtarget:test");
    assert_int_equal(json_integer_value(json_object_get(s, "luns")), 2);
    assert_int_equal(json_integer_value(json_object_get(s, "sessions")), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(s, "portals"), 0), "address")),
                        "127.0.0.1:3260");
    json_decref(s);
    json_t *l = call(f, "luns", NULL);
    assert_int_equal(json_array_size(l), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(l, 1), "size")), 2 << 20);
    assert_string_equal(json_string_value(json_object_get(json_array_get(l, 1), "backend")), "mem");
    assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "pr_profile")), "full");
    json_decref(l);
    json_t *ss = call(f, "sessions", NULL);
    assert_true(json_is_array(ss));
    assert_int_equal(json_array_size(ss), 0);
    json_decref(ss);
}

static void test_pr_show_lists_registrations_holder_and_pending_unit_attentions(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_register(f, 1, f->a, 0xaa), PR_OK);
    assert_int_equal(pr_register(f, 1, f->b, 0xbb), PR_OK);
    assert_int_equal(pr_reserve(f, 1, f->b, 0xbb, PR_TYPE_WE_RO), PR_OK);
    json_t *r = call(f, "pr.show", "{\"lun\":1}");
    assert_int_equal(json_array_size(r), 1);
    json_t *l = json_array_get(r, 0);
    assert_int_equal(json_integer_value(json_object_get(l, "lun")), 1);
    assert_int_equal(json_integer_value(json_object_get(l, "generation")), 2);
    json_t *regs = json_object_get(l, "registrations");
    assert_int_equal(json_array_size(regs), 2);
    unsigned holders = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *g = json_array_get(regs, i);
        bool is_b = strcmp(json_string_value(json_object_get(g, "initiator")), "iqn.2026-11.test:b") == 0;
        assert_string_equal(json_string_value(json_object_get(g, "key")), is_b ? "0x00000000000000bb" : "0x00000000000000aa");
        holders += json_is_true(json_object_get(g, "holder"));
        assert_true(json_is_true(json_object_get(g, "logged_in")));
    }
    assert_int_equal(holders, 1);
    json_t *resv = json_object_get(l, "reservation");
    assert_string_equal(json_string_value(json_object_get(resv, "type_name")), "WE_RO");
    assert_string_equal(json_string_value(json_object_get(json_object_get(resv, "holder"), "initiator")),
                        "iqn.2026-11.test:b");
    /* Both logins queued POWER ON for LU 1; they are pending per nexus. */
    json_t *uas = json_object_get(l, "unit_attentions");
    assert_int_equal(json_array_size(uas), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(json_array_get(uas, 0),
                                                                                         "pending"),
                                                                         0),
                                                          "ua")),
                        "29/00");
    json_decref(r);
    r = call(f, "pr.show", NULL);
    assert_int_equal(json_array_size(r), 2);
    assert_true(json_is_null(json_object_get(json_array_get(r, 0), "reservation")));
    json_decref(r);
}

/* A second target device beside the fixture's: "target" picks it, the default stays the first, and an unknown
 * name is refused before the method runs (docs/control.md "Several targets"). */
static void test_target_param_picks_another_target_and_an_unknown_one_is_32602(void **state)
{
    struct fx *f = *state;
    char err[256];
    struct tgt_server_cfg cfg = { .target_name = "iqn.2026-11.org.prtarget:other", .n_ports = 1 };
    struct tgt_lu_cfg l0 = { .backend = TGT_BACKEND_MEM, .size = 4 << 20 };
    struct tgt_server *other = tgt_server_new(&cfg, err, sizeof err);
    assert_non_null(other);
    assert_int_equal(tgt_server_add_lu(other, &l0, err, sizeof err), 0);
    uint32_t itn = tgt_nexus_id(tgt_nexus_login(other, "iqn.2026-11.test:a", isid_a, 1));
    struct pr_out_req req = { .sa = PR_OUT_REGISTER, .sa_key = 0x77 };
    struct pr_result res;
    pr_result_init(&res);
    assert_int_equal(pr_out(tgt_lu_pr_state(other, 0), itn, &req, &res), PR_OK);
    pr_result_free(&res);
    assert_int_equal(pr_register(f, 0, f->a, 0x1), PR_OK);

    struct tgt_server *const more[] = { other };
    const char *const names[] = { "iqn.2026-11.org.prtarget:other" };
    struct prt_control_env env = { .tgt = f->srv, .target_name = "iqn.2026-11.org.prtarget:test",
                                   .portals = portals, .n_portals = 1, .version = "9.9",
                                   .more_tgt = more, .more_names = names, .n_more = 1 };
    prt_control_free(f->ctl);
    f->ctl = prt_control_new(&env);
    assert_non_null(f->ctl);

    json_t *r = call(f, "luns", "{\"target\":\"iqn.2026-11.org.prtarget:other\"}");
    assert_int_equal(json_array_size(r), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "size")), 4 << 20);
    json_decref(r);
    r = call(f, "pr.show", "{\"target\":\"iqn.2026-11.org.prtarget:other\",\"lun\":0}");
    json_t *regs = json_object_get(json_array_get(r, 0), "registrations");
    assert_int_equal(json_array_size(regs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(regs, 0), "key")), "0x0000000000000077");
    json_decref(r);
    /* The first target by name and by default; pr.reset of the other leaves the first alone. */
    r = call(f, "pr.reset", "{\"target\":\"iqn.2026-11.org.prtarget:other\"}");
    json_decref(r);
    assert_int_equal(pr_state_reg_count(tgt_lu_pr_state(other, 0)), 0);
    assert_int_equal(pr_state_reg_count(tgt_lu_pr_state(f->srv, 0)), 1);
    r = call(f, "luns", "{\"target\":\"iqn.2026-11.org.prtarget:test\"}");
    assert_int_equal(json_array_size(r), 2);
    json_decref(r);
    r = call(f, "luns", NULL);
    assert_int_equal(json_array_size(r), 2);
    json_decref(r);
    assert_int_equal(call_error(f, "luns", "{\"target\":\"iqn.2026-11.org.prtarget:nosuch\"}"), -32602);
    assert_int_equal(call_error(f, "pr.show", "{\"target\":7}"), -32602);
    tgt_server_free(other);
}

/* docs/control.md "Several targets": status without "target" lists every target with its own portals and LU
 * count; with it, the named target only. alua.show/alua.set act on the named target's groups, whose portals are
 * its own. */
static void test_status_lists_every_target_and_alua_honours_target(void **state)
{
    struct fx *f = *state;
    char err[256];
    struct tgt_server_cfg cfg = { .target_name = "iqn.2026-11.org.prtarget:other", .n_ports = 2 };
    struct tgt_lu_cfg l0 = { .backend = TGT_BACKEND_MEM, .size = 4 << 20 };
    struct tgt_server *other = tgt_server_new(&cfg, err, sizeof err);
    assert_non_null(other);
    assert_int_equal(tgt_server_add_lu(other, &l0, err, sizeof err), 0);
    struct tgt_server *const more[] = { other };
    const char *const names[] = { "iqn.2026-11.org.prtarget:other" };
    const char *const other_portals[] = { "127.0.0.1:3260", "127.0.0.2:3261" };
    const char *const *const more_portals[] = { other_portals };
    const unsigned more_n[] = { 2 };
    struct prt_control_env env = { .tgt = f->srv, .target_name = "iqn.2026-11.org.prtarget:test",
                                   .portals = portals, .n_portals = 1, .version = "9.9",
                                   .more_tgt = more, .more_names = names, .n_more = 1,
                                   .more_portals = more_portals, .more_n_portals = more_n };
    prt_control_free(f->ctl);
    f->ctl = prt_control_new(&env);
    assert_non_null(f->ctl);

    json_t *r = call(f, "status", NULL);
    json_t *ts = json_object_get(r, "targets");
    assert_int_equal(json_array_size(ts), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ts, 0), "name")),
                        "iqn.2026-11.org.prtarget:test");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ts, 0), "luns")), 2);
    json_t *t1 = json_array_get(ts, 1);
    assert_string_equal(json_string_value(json_object_get(t1, "name")), "iqn.2026-11.org.prtarget:other");
    assert_int_equal(json_integer_value(json_object_get(t1, "luns")), 1);
    json_t *p1 = json_object_get(t1, "portals");
    assert_int_equal(json_array_size(p1), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(p1, 1), "address")), "127.0.0.2:3261");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(p1, 1), "tpgt")), 2);
    json_decref(r);
    r = call(f, "status", "{\"target\":\"iqn.2026-11.org.prtarget:other\"}");
    assert_null(json_object_get(r, "targets"));
    assert_string_equal(json_string_value(json_object_get(r, "target")), "iqn.2026-11.org.prtarget:other");
    assert_int_equal(json_array_size(json_object_get(r, "portals")), 2);
    assert_int_equal(json_integer_value(json_object_get(r, "luns")), 1);
    json_decref(r);
    r = call(f, "luns", "{\"target\":\"iqn.2026-11.org.prtarget:other\"}");
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "target")),
                        "iqn.2026-11.org.prtarget:other");
    json_decref(r);

    /* SPC-4 5.16: the other target's group 2 goes to standby; the first target's only group stays as it was. */
    r = call(f, "alua.set", "{\"target\":\"iqn.2026-11.org.prtarget:other\",\"tpg\":2,\"state\":\"standby\"}");
    assert_string_equal(json_string_value(json_object_get(r, "state")), "standby");
    assert_string_equal(json_string_value(json_array_get(json_object_get(r, "portals"), 0)), "127.0.0.2:3261");
    json_decref(r);
    assert_int_equal(tgt_alua_get_state(other, 2), TGT_ALUA_STANDBY);
    assert_int_equal(tgt_alua_get_state(f->srv, 1), TGT_ALUA_ACTIVE_OPTIMIZED);
    r = call(f, "alua.show", NULL);
    assert_int_equal(json_array_size(r), 1);
    json_decref(r);
    r = call(f, "alua.show", "{\"target\":\"iqn.2026-11.org.prtarget:other\"}");
    assert_int_equal(json_array_size(r), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 1), "state")), "standby");
    json_decref(r);
    /* The first target has one group: its group 2 does not exist. */
    assert_int_equal(call_error(f, "alua.set", "{\"tpg\":2,\"state\":\"standby\"}"), -32602);
    tgt_server_free(other);
}

static void test_pr_reset_returns_the_lu_to_no_registrations(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_register(f, 0, f->a, 0x1), PR_OK);
    assert_int_equal(pr_register(f, 1, f->a, 0x2), PR_OK);
    json_t *r = call(f, "pr.reset", "{\"lun\":1}");
    assert_int_equal(json_array_size(json_object_get(r, "reset")), 1);
    json_decref(r);
    assert_int_equal(pr_state_reg_count(tgt_lu_pr_state(f->srv, 0)), 1);
    assert_int_equal(pr_state_reg_count(tgt_lu_pr_state(f->srv, 1)), 0);
    assert_int_equal(pr_state_generation(tgt_lu_pr_state(f->srv, 1)), 0);
    r = call(f, "pr.reset", NULL);
    json_decref(r);
    assert_int_equal(pr_state_reg_count(tgt_lu_pr_state(f->srv, 0)), 0);
}

static void test_pr_dump_then_load_restores_the_state_and_bad_state_changes_nothing(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_register(f, 0, f->a, 0x77), PR_OK);
    assert_int_equal(pr_reserve(f, 0, f->a, 0x77, PR_TYPE_EA), PR_OK);
    json_t *d = call(f, "pr.dump", "{\"lun\":0}");
    json_t *st = json_object_get(json_array_get(d, 0), "state");
    assert_int_equal(json_array_size(json_object_get(st, "registrations")), 1);
    char *text = json_dumps(st, JSON_COMPACT);
    json_decref(d);

    json_decref(call(f, "pr.reset", "{\"lun\":0}"));
    assert_int_equal(pr_state_reg_count(tgt_lu_pr_state(f->srv, 0)), 0);
    char params[8192];
    snprintf(params, sizeof params, "{\"lun\":0,\"state\":%s}", text);
    free(text);
    json_t *r = call(f, "pr.load", params);
    assert_int_equal(json_integer_value(json_object_get(r, "registrations")), 1);
    json_decref(r);
    uint64_t key = 0;
    assert_true(pr_state_registered(tgt_lu_pr_state(f->srv, 0), f->a, &key));
    assert_true(key == 0x77);
    struct pr_resv_info rv;
    pr_state_reservation(tgt_lu_pr_state(f->srv, 0), &rv);
    assert_true(rv.reserved);
    assert_int_equal(rv.type, PR_TYPE_EA);

    assert_int_equal(call_error(f, "pr.load", "{\"lun\":0,\"state\":{\"format\":\"other\"}}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "pr.load", "{\"lun\":0,\"state\":\"{not json\"}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "pr.load", "{\"lun\":0}"), PRT_RPC_INVALID_PARAMS);
    assert_true(pr_state_registered(tgt_lu_pr_state(f->srv, 0), f->a, &key));
}

static void test_fault_next_accepts_status_names_codes_and_sense_and_lists_them(void **state)
{
    struct fx *f = *state;
    json_t *r = call(f, "fault.next", "{\"lun\":0,\"count\":3,\"status\":\"task-set-full\",\"opcode\":\"2Ah\"}");
    json_t *n = json_object_get(r, "next");
    assert_int_equal(json_array_size(n), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(n, 0), "status")), "TASK SET FULL");
    assert_string_equal(json_string_value(json_object_get(json_array_get(n, 0), "opcode")), "0x2a");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(n, 0), "count")), 3);
    json_decref(r);
    json_decref(call(f, "fault.next", "{\"lun\":1,\"status\":\"0x08\"}"));
    json_decref(call(f, "fault.next", "{\"lun\":1,\"status\":24}"));
    json_decref(call(f, "fault.next", "{\"lun\":1,\"sense\":\"0x3/0x11/0x0\"}"));
    struct tgt_fault_next rules[8];
    assert_int_equal(tgt_fault_list(f->srv, rules, 8), 4);
    assert_int_equal(rules[0].opcode, 0x2a);
    assert_int_equal(rules[1].status, TGT_STATUS_BUSY);
    assert_int_equal(rules[1].count, 1);
    assert_int_equal(rules[2].status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_true(rules[3].has_sense);
    assert_int_equal(rules[3].sense_key, 3);
    assert_int_equal(rules[3].asc, 0x11);

    assert_int_equal(call_error(f, "fault.next", "{\"lun\":0}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "fault.next", "{\"lun\":0,\"status\":\"BUSY\",\"sense\":\"3/11/00\"}"),
                     PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "fault.next", "{\"lun\":0,\"status\":\"SLOW\"}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "fault.next", "{\"lun\":0,\"status\":\"CHECK_CONDITION\"}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "fault.next", "{\"lun\":0,\"sense\":\"16/00/00\"}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "fault.next", "{\"lun\":0,\"sense\":\"3/11\"}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "fault.next", "{\"lun\":0,\"count\":0,\"status\":\"BUSY\"}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "fault.next", "{\"lun\":0,\"opcode\":256,\"status\":\"BUSY\"}"),
                     PRT_RPC_INVALID_PARAMS);
    assert_int_equal(tgt_fault_list(f->srv, rules, 8), 4);

    r = call(f, "fault.clear", NULL);
    assert_int_equal(json_array_size(json_object_get(r, "next")), 0);
    json_decref(r);
    assert_int_equal(tgt_fault_list(f->srv, rules, 8), 0);
}

static void test_fault_delay_lost_reservation_and_power_loss_reach_the_target(void **state)
{
    struct fx *f = *state;
    json_t *r = call(f, "fault.delay", "{\"lun\":1,\"ms\":250}");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(r, "delay"), 0), "ms")), 250);
    json_decref(r);
    assert_int_equal(tgt_fault_delay(f->srv, 1), 250);

    r = call(f, "fault.lost_reservation", "{\"lun\":0}");
    json_decref(r);
    assert_true(pr_state_lost(tgt_lu_pr_state(f->srv, 0)));
    r = call(f, "status", NULL);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(json_object_get(r, "faults"),
                                                                       "lost_reservation"),
                                                       0)),
                     0);
    json_decref(r);

    assert_int_equal(pr_register(f, 1, f->a, 0x5), PR_OK);
    r = call(f, "fault.power_loss", "{\"lun\":1}");
    assert_int_equal(json_integer_value(json_object_get(r, "dropped")), 0);
    assert_int_equal(json_array_size(json_object_get(r, "luns")), 1);
    json_decref(r);
    assert_int_equal(pr_state_reg_count(tgt_lu_pr_state(f->srv, 1)), 0);
    uint8_t ua[8][2];
    assert_int_equal(tgt_lu_pending_ua(f->srv, 1, f->a, ua, 8), 1);
    assert_int_equal(ua[0][1], 0x01);
}

static void test_drop_nexus_needs_an_initiator_and_a_transport(void **state)
{
    struct fx *f = *state;
    assert_int_equal(call_error(f, "fault.drop_nexus", "{}"), PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "fault.drop_nexus", "{\"initiator\":\"iqn.x\",\"isid\":\"0x12\"}"),
                     PRT_RPC_INVALID_PARAMS);
    assert_int_equal(call_error(f, "fault.drop_nexus", "{\"initiator\":\"iqn.2026-11.test:a\",\"isid\":\"00023d000001\"}"),
                     PRT_RPC_FAILED);
}

static void test_events_follow_and_watch_subscribe_the_client(void **state)
{
    struct fx *f = *state;
    unsigned sub = 0;
    struct tgt_event e = { .kind = TGT_EVENT_UA_RAISED, .itn = f->a, .asc = 0x2a, .ascq = 0x04 };

    prt_events_sink(f->ev, &e);
    json_t *r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"events\",\"params\":{\"follow\":true}}", &sub);
    assert_int_equal(sub, PRT_TOPIC_EVENTS);
    json_t *evs = json_object_get(r, "result");
    assert_int_equal(json_array_size(evs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 0), "ua_name")), "RESERVATIONS RELEASED");
    json_decref(r);
    r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"events\"}", &sub);
    assert_int_equal(sub, 0);
    json_decref(r);
    r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"watch\"}", &sub);
    assert_int_equal(sub, PRT_TOPIC_CHANGES);
    json_decref(r);

    char *n = prt_control_event_notification("{\"x\":1}", 7);
    json_t *nj = json_loads(n, 0, NULL);
    free(n);
    assert_string_equal(json_string_value(json_object_get(nj, "method")), "event");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(nj, "params"), "x")), 1);
    assert_null(json_object_get(nj, "id"));
    json_decref(nj);
    nj = json_loads(prt_control_changed_notification(), 0, NULL);
    assert_string_equal(json_string_value(json_object_get(nj, "method")), "changed");
    json_decref(nj);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Bad input never crashes: valid requests with bytes flipped, cut or repeated, and raw noise, always get either
 * nothing (a notification) or one well-formed JSON-RPC response line. */
static void test_mutated_and_random_requests_always_get_wellformed_answers(void **state)
{
    struct fx *f = *state;
    static const char *const seeds[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pr.show\",\"params\":{\"lun\":0}}",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"fault.next\",\"params\":{\"lun\":1,\"count\":2,"
        "\"sense\":\"3/11/00\",\"opcode\":\"0x28\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"pr.load\",\"params\":{\"lun\":0,\"state\":{\"format\":"
        "\"prtarget-pr-state\",\"version\":1,\"registrations\":[]}}}",
        "[{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"luns\"},{\"jsonrpc\":\"2.0\",\"method\":\"status\"}]",
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"fault.delay\",\"params\":{\"lun\":\"0x1\",\"ms\":\"10\"}}",
    };
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    char line[1024];

    for (int iter = 0; iter < 20000; iter++) {
        const char *base = seeds[iter % 5];
        size_t len = strlen(base);
        memcpy(line, base, len);
        int kind = (int)(xorshift(&seed) % 4);
        if (kind == 0) {
            for (int k = 0; k < 4; k++)
                line[xorshift(&seed) % len] = (char)(xorshift(&seed) & 0xff);
        } else if (kind == 1) {
            len = (size_t)(xorshift(&seed) % len);
        } else if (kind == 2) {
            size_t at = (size_t)(xorshift(&seed) % len), n = (size_t)(xorshift(&seed) % 16);
            if (len + n < sizeof line) {
                memmove(line + at + n, line + at, len - at);
                memcpy(line + at, base + (xorshift(&seed) % (strlen(base) - n)), n);
                len += n;
            }
        } else {
            len = (size_t)(xorshift(&seed) % 64);
            for (size_t k = 0; k < len; k++)
                line[k] = (char)(xorshift(&seed) & 0xff);
        }
        unsigned sub = 0;
        char *out = prt_control_handle(f->ctl, line, len, &sub);
        if (!out)
            continue;
        json_t *r = json_loads(out, JSON_DECODE_ANY, NULL);
        assert_non_null(r);
        assert_null(strchr(out, '\n'));
        free(out);
        json_t *one = json_is_array(r) ? json_array_get(r, 0) : r;
        assert_string_equal(json_string_value(json_object_get(one, "jsonrpc")), "2.0");
        assert_true((json_object_get(one, "result") != NULL) != (json_object_get(one, "error") != NULL));
        json_decref(r);
    }
    tgt_fault_clear(f->srv);
}

static void test_default_control_path_follows_root_and_xdg_runtime_dir(void **state)
{
    (void)state;
    char p[128];
    assert_int_equal(prt_default_control_path(p, sizeof p, true), 0);
    assert_string_equal(p, "/run/prtarget.sock");
    setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
    assert_int_equal(prt_default_control_path(p, sizeof p, false), 0);
    assert_string_equal(p, "/run/user/1000/prtarget.sock");
    unsetenv("XDG_RUNTIME_DIR");
    assert_int_equal(prt_default_control_path(p, sizeof p, false), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_errors_and_invalid_requests_get_their_codes_with_null_id, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_method_is_32601_and_notifications_get_no_response, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invalid_params_are_32602_and_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_answers_each_request_and_skips_notifications, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_luns_and_sessions_describe_the_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pr_show_lists_registrations_holder_and_pending_unit_attentions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pr_reset_returns_the_lu_to_no_registrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pr_dump_then_load_restores_the_state_and_bad_state_changes_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_next_accepts_status_names_codes_and_sense_and_lists_them, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fault_delay_lost_reservation_and_power_loss_reach_the_target, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_drop_nexus_needs_an_initiator_and_a_transport, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_follow_and_watch_subscribe_the_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_lists_every_target_and_alua_honours_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_param_picks_another_target_and_an_unknown_one_is_32602, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mutated_and_random_requests_always_get_wellformed_answers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_default_control_path_follows_root_and_xdg_runtime_dir, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
