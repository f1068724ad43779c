/* Server (transport/isc_server.c): configuration checks, session registry (TSIH, listing), timers and shutdown.
 *
 * Fixture (isc_harness.h): one target with LU 0, two portals; connections are added per test. */
#include "isc_harness.h"

struct seen_sessions {
    unsigned n;
    struct isc_session_info info[4];
    char names[4][64];
};

static void collect(void *arg, const struct isc_session_info *si)
{
    struct seen_sessions *s = arg;
    if (s->n < 4) {
        s->info[s->n] = *si;
        snprintf(s->names[s->n], sizeof(s->names[0]), "%s", si->initiator_name);
        s->n++;
    }
}

static void test_server_new_without_target_name_fails_with_reason(void **state)
{
    struct h *h = *state;
    char err[128] = "";
    struct isc_server_cfg cfg = {.tgt = h->tgt};
    assert_null(isc_server_new(&cfg, err, sizeof(err)));
    assert_true(strlen(err) > 0);
}

static void test_foreach_session_reports_logged_in_normal_session(void **state)
{
    struct h *h = *state;
    struct seen_sessions s = {0};
    isc_server_foreach_session(h->srv, collect, &s);
    assert_int_equal(s.n, 0); /* a connection still logging in is no session yet */
    static const char *const keys[] = {NULL};
    h_login_ex(h, true, false, keys);
    isc_server_foreach_session(h->srv, collect, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.names[0], H_INITIATOR);
    assert_memory_equal(s.info[0].isid, h->isid, 6);
    assert_int_equal(s.info[0].tsih, h->tsih);
    assert_int_equal(s.info[0].tpgt, 1);
    assert_true(s.info[0].header_digest);
    assert_false(s.info[0].data_digest);
    assert_false(s.info[0].discovery);
}

static void test_two_sessions_get_distinct_tsihs(void **state)
{
    struct h *h = *state;
    h_login(h);
    struct h *h2 = calloc(1, sizeof(*h2));
    assert_non_null(h2);
    h2->mode = h->mode;
    h2->seed = 7;
    h2->srv = h->srv;
    h2->tgt = h->tgt;
    memcpy(h2->isid, "\x80\x00\x00\x00\x00\x02", 6); /* another ISID: another session, another nexus */
    h2->itt = 1;
    h2->tpgt = 2;
    h2->c = isc_conn_new(h->srv, 2, "127.0.0.1:3261", "127.0.0.1:50002", &h_ops, h2);
    assert_non_null(h2->c);
    h_login(h2);
    assert_int_not_equal(h2->tsih, h->tsih);
    assert_false(h->closed);
    struct seen_sessions s = {0};
    isc_server_foreach_session(h->srv, collect, &s);
    assert_int_equal(s.n, 2);
    h_release(h2);
    free(h2->out);
    free(h2);
    memset(&s, 0, sizeof(s));
    isc_server_foreach_session(h->srv, collect, &s);
    assert_int_equal(s.n, 1);
}

static void test_tick_drops_only_connections_that_overstay_login(void **state)
{
    struct h *h = *state;
    h_login(h);
    struct h *h2 = calloc(1, sizeof(*h2));
    assert_non_null(h2);
    h2->c = isc_conn_new(h->srv, 1, "127.0.0.1:3260", "127.0.0.1:50003", &h_ops, h2);
    assert_non_null(h2->c);
    h->now += 15000;
    isc_server_tick(h->srv, h->now);
    assert_true(h2->closed);
    /* The logged-in connection was idle too: it gets a ping, not a drop. */
    assert_false(h->closed);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_NOP_IN, &p);
    h_pdu_free(&p);
    h_release(h2);
    free(h2->out);
    free(h2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_server_new_without_target_name_fails_with_reason, h_setup_whole,
                                        h_teardown),
        H_TEST(test_foreach_session_reports_logged_in_normal_session),
        H_TEST(test_two_sessions_get_distinct_tsihs),
        H_TEST(test_tick_drops_only_connections_that_overstay_login),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
