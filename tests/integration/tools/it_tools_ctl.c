/* prtargetctl's inspection and PR commands, and the control socket's JSON-RPC errors, against a live prtarget;
 * every effect is checked from a libiscsi initiator.
 *
 *   it_tools_ctl ──spawns──> prtarget --listen 127.0.0.1:0 --control DIR/ctl.sock --lun mem:16M --lun mem:8M
 *        ├──runs──> prtargetctl --socket DIR/ctl.sock {status,sessions,luns,pr *,events,watch}
 *        ├── initiator-a (libiscsi) ──> LUN 0
 *        └── initiator-b (libiscsi) ──> LUN 0
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include <cmocka.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "tests/integration/tools/tools_util.h"

static const char *const two_luns[] = { "--lun", "mem:16M", "--lun", "mem:8M", NULL };

static int setup(void **state)
{
    struct tu_daemon *d = calloc(1, sizeof *d);
    if (!d || tu_start(d, two_luns) != 0) {
        free(d);
        return -1;
    }
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    struct tu_daemon *d = *state;
    int rc = tu_stop(d);
    free(d);
    return rc == 0 ? 0 : -1;
}

static struct iscsi_context *login(struct tu_daemon *d, const char *iname, int lun)
{
    char url[300];
    snprintf(url, sizeof url, "%.*s%d", (int)(strrchr(d->t.url[0], '/') + 1 - d->t.url[0]), d->t.url[0], lun);
    struct iscsi_context *c = itest_login(url, iname, ISCSI_HEADER_DIGEST_NONE, NULL);
    assert_non_null(c);
    return c;
}

static void test_status_sessions_and_luns_describe_the_live_daemon(void **state)
{
    struct tu_daemon *d = *state;
    struct iscsi_context *a = login(d, ITEST_INAME_A, 0);

    json_t *st = tu_ctl_json(d->sock, "status", NULL);
    assert_non_null(st);
    assert_string_equal(json_string_value(json_object_get(st, "target")), ITEST_IQN);
    assert_int_equal(json_integer_value(json_object_get(st, "luns")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "sessions")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(st, "portals"), 0), "address")),
                        d->t.portal[0]);
    json_decref(st);

    json_t *ss = tu_ctl_json(d->sock, "sessions", NULL);
    assert_int_equal(json_array_size(ss), 1);
    json_t *s0 = json_array_get(ss, 0);
    assert_string_equal(json_string_value(json_object_get(s0, "initiator")), ITEST_INAME_A);
    assert_int_equal(json_integer_value(json_object_get(s0, "tpgt")), 1);
    assert_string_equal(json_string_value(json_object_get(s0, "portal")), d->t.portal[0]);
    assert_string_equal(json_string_value(json_object_get(s0, "header_digest")), "None");
    assert_int_equal(strlen(json_string_value(json_object_get(s0, "isid"))), 14);
    json_decref(ss);

    json_t *lu = tu_ctl_json(d->sock, "luns", NULL);
    assert_int_equal(json_array_size(lu), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(lu, 0), "size")), 16 << 20);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(lu, 1), "size")), 8 << 20);
    assert_string_equal(json_string_value(json_object_get(json_array_get(lu, 1), "pr_profile")), "full");
    json_decref(lu);

    /* The human forms: one table each, exit 0. */
    char out[8192], err[1024];
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "sessions", NULL), 0);
    assert_non_null(strstr(out, ITEST_INAME_A));
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "luns", NULL), 0);
    assert_int_equal(tu_lines(out), 3);
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "status", NULL), 0);
    assert_non_null(strstr(out, ITEST_IQN));
    itest_logout(a);
}

static void test_pr_show_reports_registrations_holder_and_pending_unit_attentions(void **state)
{
    struct tu_daemon *d = *state;
    struct iscsi_context *a = login(d, ITEST_INAME_A, 0);
    struct iscsi_context *b = login(d, ITEST_INAME_B, 0);

    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0xabc, false, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(tu_pr_out(b, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0xdef, false, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_RESERVE, 3, 0xabc, 0, false, NULL), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.11.2.4: B preempts A; A gets REGISTRATIONS PREEMPTED (2Ah/05h), pending until it sends again. */
    assert_int_equal(tu_pr_out(b, 0, SCSI_PERSISTENT_RESERVE_PREEMPT, 3, 0xdef, 0xabc, false, NULL),
                     SCSI_STATUS_GOOD);

    json_t *pr = tu_ctl_json(d->sock, "pr", "show", "0", NULL);
    assert_int_equal(json_array_size(pr), 1);
    json_t *l0 = json_array_get(pr, 0);
    assert_int_equal(json_integer_value(json_object_get(l0, "generation")), 3);
    assert_false(json_is_true(json_object_get(l0, "aptpl")));
    json_t *regs = json_object_get(l0, "registrations");
    assert_int_equal(json_array_size(regs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(regs, 0), "initiator")), ITEST_INAME_B);
    assert_string_equal(json_string_value(json_object_get(json_array_get(regs, 0), "key")), "0x0000000000000def");
    assert_true(json_is_true(json_object_get(json_array_get(regs, 0), "holder")));
    json_t *resv = json_object_get(l0, "reservation");
    assert_int_equal(json_integer_value(json_object_get(resv, "type")), 3);
    assert_string_equal(json_string_value(json_object_get(json_object_get(resv, "holder"), "initiator")),
                        ITEST_INAME_B);
    json_t *uas = json_object_get(l0, "unit_attentions");
    bool saw = false;
    for (size_t i = 0; i < json_array_size(uas); i++) {
        json_t *u = json_array_get(uas, i);
        if (strcmp(json_string_value(json_object_get(json_object_get(u, "nexus"), "initiator")), ITEST_INAME_A) == 0)
            saw = strcmp(json_string_value(json_object_get(json_array_get(json_object_get(u, "pending"), 0), "ua")),
                         "2a/05") == 0;
    }
    assert_true(saw);
    json_decref(pr);

    char out[8192], err[1024];
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "pr", "show", NULL), 0);
    assert_non_null(strstr(out, "EA (type 3)"));
    assert_non_null(strstr(out, "REGISTRATIONS PREEMPTED"));
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "pr", "show", "9", NULL), 1);
    assert_int_equal(tu_lines(err), 1);
    itest_logout(a);
    itest_logout(b);
}

static void test_pr_reset_leaves_no_registration_for_read_keys(void **state)
{
    struct tu_daemon *d = *state;
    struct iscsi_context *a = login(d, ITEST_INAME_A, 1);
    uint64_t keys[4];
    uint32_t gen = 99;
    char out[1024], err[1024];

    assert_int_equal(tu_pr_out(a, 1, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0x1234, false, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(tu_read_keys(a, 1, keys, 4, &gen), 1);
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "pr", "reset", "1", NULL), 0);
    assert_int_equal(tu_read_keys(a, 1, keys, 4, &gen), 0);
    assert_int_equal(gen, 0);
    /* The initiator is unregistered now: a RESERVE from it conflicts (SPC-4 5.13.1). */
    assert_int_equal(tu_pr_out(a, 1, SCSI_PERSISTENT_RESERVE_RESERVE, 1, 0x1234, 0, false, NULL),
                     SCSI_STATUS_RESERVATION_CONFLICT);
    itest_logout(a);
}

static void test_pr_dump_and_load_round_trip_restores_the_registrations(void **state)
{
    struct tu_daemon *d = *state;
    struct iscsi_context *a = login(d, ITEST_INAME_A, 1);
    uint64_t keys[4];
    char out[65536], err[1024], file[400];

    assert_int_equal(tu_pr_out(a, 1, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0x5555, false, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "pr", "dump", "1", NULL), 0);
    json_t *st = json_loads(out, 0, NULL);
    assert_non_null(st);
    assert_int_equal(json_array_size(json_object_get(st, "registrations")), 1);
    json_decref(st);
    snprintf(file, sizeof file, "%s/dump.json", d->dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(out, f);
    fclose(f);

    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "pr", "reset", "1", NULL), 0);
    assert_int_equal(tu_read_keys(a, 1, keys, 4, NULL), 0);
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "pr", "load", file, "1", NULL), 0);
    assert_int_equal(tu_read_keys(a, 1, keys, 4, NULL), 1);
    assert_true(keys[0] == 0x5555);
    /* The registration is the initiator's again, so it may reserve with its key. */
    assert_int_equal(tu_pr_out(a, 1, SCSI_PERSISTENT_RESERVE_RESERVE, 1, 0x5555, 0, false, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(tu_pr_out(a, 1, SCSI_PERSISTENT_RESERVE_CLEAR, 0, 0x5555, 0, false, NULL), SCSI_STATUS_GOOD);
    itest_logout(a);
}

static void test_pr_load_of_a_bad_file_is_one_line_and_changes_nothing(void **state)
{
    struct tu_daemon *d = *state;
    char out[4096], err[1024], file[400];
    struct iscsi_context *a = login(d, ITEST_INAME_A, 1);
    uint64_t keys[4];

    assert_int_equal(tu_pr_out(a, 1, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0x77, false, NULL), SCSI_STATUS_GOOD);
    snprintf(file, sizeof file, "%s/bad.json", d->dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("{ \"format\": ", f);
    fclose(f);
    /* Not JSON at all: refused before the daemon sees it, as a usage error. */
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "pr", "load", file, "1", NULL), 2);
    assert_int_equal(tu_lines(err), 1);
    assert_non_null(strstr(err, file));
    /* JSON, but not a PR state: the daemon refuses it with the field it did not like. */
    f = fopen(file, "w");
    assert_non_null(f);
    fputs("{\"format\": \"something-else\"}", f);
    fclose(f);
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "pr", "load", file, "1", NULL), 1);
    assert_int_equal(tu_lines(err), 1);
    assert_int_equal(tu_read_keys(a, 1, keys, 4, NULL), 1);
    assert_true(keys[0] == 0x77);
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "pr", "reset", NULL), 0);
    itest_logout(a);
}

/* JSON-RPC 2.0 section 5.1: each malformed request gets its error code, and the daemon keeps serving both the
 * control socket and iSCSI afterwards. */
static void test_bad_rpc_requests_get_their_jsonrpc_error_and_the_daemon_keeps_serving(void **state)
{
    struct tu_daemon *d = *state;
    static const struct {
        const char *req;
        int code;
    } cases[] = {
        { "this is not json", -32700 },
        { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"", -32700 },
        { "{\"jsonrpc\":\"2.0\",\"id\":1}", -32600 },
        { "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"status\"}", -32600 },
        { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":42}", -32600 },
        { "[]", -32600 },
        { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"reboot\"}", -32601 },
        { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pr.show\",\"params\":{\"lun\":\"zero\"}}", -32602 },
        { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pr.show\",\"params\":{\"lun\":77}}", -32602 },
        { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"fault.next\",\"params\":{\"lun\":0,\"status\":\"BUSY\","
          "\"sense\":\"3/11/00\"}}", -32602 },
        { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":{\"verbose\":true}}", -32602 },
        { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":[1]}", -32602 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char resp[4096];
        assert_int_equal(tu_rpc_raw(d->sock, cases[i].req, resp, sizeof resp), 0);
        json_t *r = json_loads(resp, 0, NULL);
        assert_non_null(r);
        json_t *e = json_object_get(r, "error");
        if (json_integer_value(json_object_get(e, "code")) != cases[i].code)
            fprintf(stderr, "case %zu: %s -> %s\n", i, cases[i].req, resp);
        assert_int_equal(json_integer_value(json_object_get(e, "code")), cases[i].code);
        assert_true(json_is_string(json_object_get(e, "message")));
        json_decref(r);
    }
    /* The same through prtargetctl: one line on stderr, exit 1, and the daemon answers the next request. */
    char out[8192], err[1024];
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "call", "reboot", NULL), 1);
    assert_int_equal(tu_lines(err), 1);
    assert_non_null(strstr(err, "reboot"));
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "call", "pr.show", "{\"lun\":\"x\"}", NULL), 1);
    assert_int_equal(tu_lines(err), 1);
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "call", "methods", NULL), 0);
    assert_non_null(strstr(out, "fault.power_loss"));
    char resp[8192];
    assert_int_equal(tu_rpc_raw(d->sock, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"status\"}", resp, sizeof resp), 0);
    assert_non_null(strstr(resp, "\"result\""));
    assert_non_null(strstr(resp, "\"id\":\"x\""));
    struct iscsi_context *a = login(d, ITEST_INAME_A, 0);
    assert_int_equal(tu_tur(a, 0, NULL), SCSI_STATUS_GOOD);
    itest_logout(a);
}

static void test_prtargetctl_usage_errors_are_one_line_and_exit_2_and_no_daemon_is_exit_3(void **state)
{
    struct tu_daemon *d = *state;
    char out[4096], err[1024], nosock[400];

    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "frobnicate", NULL), 2);
    assert_int_equal(tu_lines(err), 1);
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "pr", "show", "x", NULL), 2);
    assert_int_equal(tu_lines(err), 1);
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "status", "extra", NULL), 2);
    assert_int_equal(tu_lines(err), 1);
    snprintf(nosock, sizeof nosock, "%s/nobody.sock", d->dir);
    assert_int_equal(tu_ctl(nosock, out, sizeof out, err, sizeof err, "status", NULL), 3);
    assert_int_equal(tu_lines(err), 1);
}

/* `events --json` prints one JSON object per line (for jq and tail -f alike); gather them into an array. */
static json_t *events_json(const char *sock)
{
    static char out[1 << 20];
    char err[1024];
    if (tu_ctl(sock, out, sizeof out, err, sizeof err, "--json", "events", NULL) != 0)
        return NULL;
    json_t *a = json_array();
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *e = json_loads(line, 0, NULL);
        assert_non_null(e);
        json_array_append_new(a, e);
    }
    return a;
}

static bool has_event(json_t *evs, const char *event, const char *what_key, const char *what)
{
    for (size_t i = 0; i < json_array_size(evs); i++) {
        json_t *e = json_array_get(evs, i);
        if (strcmp(json_string_value(json_object_get(e, "event")), event) == 0 &&
            strcmp(json_string_value(json_object_get(e, what_key)), what) == 0)
            return true;
    }
    return false;
}

static void test_events_log_every_pr_out_outcome_and_unit_attention(void **state)
{
    struct tu_daemon *d = *state;
    struct iscsi_context *a = login(d, ITEST_INAME_A, 0);
    struct iscsi_context *b = login(d, ITEST_INAME_B, 0);

    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0x10, false, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_RESERVE, 1, 0x10, 0, false, NULL), SCSI_STATUS_GOOD);
    /* An unregistered nexus reserving is a conflict (SPC-4 5.13.5); the log says so. */
    assert_int_equal(tu_pr_out(b, 0, SCSI_PERSISTENT_RESERVE_RESERVE, 1, 0x20, 0, false, NULL),
                     SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_CLEAR, 0, 0x10, 0, false, NULL), SCSI_STATUS_GOOD);

    json_t *evs = events_json(d->sock);
    assert_non_null(evs);
    assert_true(has_event(evs, "pr_out", "service_action", "REGISTER"));
    assert_true(has_event(evs, "pr_out", "result", "conflict"));
    assert_true(has_event(evs, "pr_out", "service_action", "CLEAR"));
    /* SPC-4 5.13.11.6: CLEAR raises RESERVATIONS PREEMPTED for the other registrants; B was not registered, but
     * both logins raised POWER ON UAs that the event log also records. */
    assert_true(has_event(evs, "ua_raised", "ua", "29/00"));
    json_t *last = NULL;
    for (size_t i = 0; i < json_array_size(evs); i++) {
        const char *sa = json_string_value(json_object_get(json_array_get(evs, i), "service_action"));
        if (sa && strcmp(sa, "CLEAR") == 0)
            last = json_array_get(evs, i);
    }
    assert_non_null(last);
    assert_string_equal(json_string_value(json_object_get(json_object_get(last, "nexus"), "initiator")), ITEST_INAME_A);
    assert_string_equal(json_string_value(json_object_get(last, "key")), "0x0000000000000010");
    assert_int_equal(json_integer_value(json_object_get(last, "generation")), 2);
    assert_true(json_is_string(json_object_get(last, "time")));
    json_decref(evs);

    /* The --event-log file holds the same lines. */
    FILE *f = fopen(d->events, "r");
    assert_non_null(f);
    char line[4096];
    unsigned n = 0, clear = 0;
    while (fgets(line, sizeof line, f)) {
        json_t *e = json_loads(line, 0, NULL);
        assert_non_null(e);
        n++;
        clear += strstr(line, "\"CLEAR\"") != NULL;
        json_decref(e);
    }
    fclose(f);
    assert_true(n >= 5);
    assert_true(clear >= 1);
    itest_logout(a);
    itest_logout(b);
}

static void test_events_follow_streams_events_as_they_happen(void **state)
{
    struct tu_daemon *d = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        const char *ctl = tu_ctl_path();
        execl(ctl, ctl, "--socket", d->sock, "--json", "events", "--follow", "--limit", "1", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    usleep(300000);
    struct iscsi_context *a = login(d, ITEST_INAME_A, 0);
    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0x4242, false, NULL), SCSI_STATUS_GOOD);

    char buf[65536];
    size_t have = 0;
    bool seen = false;
    while (!seen && have + 1 < sizeof buf) {
        struct pollfd pfd = { .fd = p[0], .events = POLLIN };
        if (poll(&pfd, 1, 5000) <= 0)
            break;
        ssize_t r = read(p[0], buf + have, sizeof buf - 1 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        buf[have] = '\0';
        seen = strstr(buf, "0x0000000000004242") != NULL;
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    close(p[0]);
    assert_true(seen);
    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0x4242, 0, false, NULL), SCSI_STATUS_GOOD);
    itest_logout(a);
}

static void test_watch_draws_targets_sessions_and_pr_state(void **state)
{
    struct tu_daemon *d = *state;
    struct iscsi_context *a = login(d, ITEST_INAME_A, 0);
    char out[16384], err[1024];

    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0x99, false, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(tu_ctl(d->sock, out, sizeof out, err, sizeof err, "watch", "--frames", "1", NULL), 0);
    assert_non_null(strstr(out, ITEST_IQN));
    assert_non_null(strstr(out, ITEST_INAME_A));
    assert_non_null(strstr(out, "0x0000000000000099"));
    assert_non_null(strstr(out, "LUN 1"));
    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0x99, 0, false, NULL), SCSI_STATUS_GOOD);
    itest_logout(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_status_sessions_and_luns_describe_the_live_daemon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pr_show_reports_registrations_holder_and_pending_unit_attentions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pr_reset_leaves_no_registration_for_read_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pr_dump_and_load_round_trip_restores_the_registrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pr_load_of_a_bad_file_is_one_line_and_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rpc_requests_get_their_jsonrpc_error_and_the_daemon_keeps_serving,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_prtargetctl_usage_errors_are_one_line_and_exit_2_and_no_daemon_is_exit_3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_log_every_pr_out_outcome_and_unit_attention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_follow_streams_events_as_they_happen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_draws_targets_sessions_and_pr_state, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
