/* Discovery sessions (RFC 7143 4.3, SendTargets=All, Appendix C): every portal of the target is listed with
 * its target portal group tag, and each --listen is its own portal group.
 *
 *   initiator-a ── discovery session ──> portal 1 (TPGT 1) ─┐
 *                                        portal 2 (TPGT 2) ─┴── one target, two portal groups
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <iscsi/iscsi.h>

#include "tests/integration/itest.h"

static struct iscsi_discovery_address *discover(struct iscsi_context **out, const char *portal)
{
    struct iscsi_context *iscsi = iscsi_create_context(ITEST_INAME_A);
    assert_non_null(iscsi);
    iscsi_set_session_type(iscsi, ISCSI_SESSION_DISCOVERY);
    iscsi_set_timeout(iscsi, 20);
    if (iscsi_connect_sync(iscsi, portal) != 0 || iscsi_login_sync(iscsi) != 0) {
        fprintf(stderr, "discovery login to %s: %s\n", portal, iscsi_get_error(iscsi));
        iscsi_destroy_context(iscsi);
        fail();
    }
    struct iscsi_discovery_address *da = iscsi_discovery_sync(iscsi);
    if (!da)
        fprintf(stderr, "SendTargets: %s\n", iscsi_get_error(iscsi));
    *out = iscsi;
    return da;
}

static void test_sendtargets_lists_the_target_and_its_portal(void **state)
{
    (void)state;
    struct itest_target t;
    assert_int_equal(itest_start(&t, NULL), 0);
    struct iscsi_context *iscsi;
    struct iscsi_discovery_address *da = discover(&iscsi, t.portal[0]);
    assert_non_null(da);
    assert_string_equal(da->target_name, ITEST_IQN);
    assert_null(da->next);
    assert_non_null(da->portals);
    char want[96];
    snprintf(want, sizeof want, "%s,1", t.portal[0]);
    assert_string_equal(da->portals->portal, want);
    assert_null(da->portals->next);
    iscsi_free_discovery_data(iscsi, da);
    iscsi_logout_sync(iscsi);
    iscsi_destroy_context(iscsi);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

static void test_two_listen_flags_are_two_portal_groups(void **state)
{
    (void)state;
    struct itest_target t;
    const char *args[] = { "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", NULL };
    assert_int_equal(itest_start(&t, args), 0);
    assert_int_equal(t.n_ready, 2);
    /* Ask through the second portal: every portal is listed whichever one the request came in on. */
    struct iscsi_context *iscsi;
    struct iscsi_discovery_address *da = discover(&iscsi, t.portal[1]);
    assert_non_null(da);
    assert_string_equal(da->target_name, ITEST_IQN);
    char want1[96], want2[96];
    snprintf(want1, sizeof want1, "%s,1", t.portal[0]);
    snprintf(want2, sizeof want2, "%s,2", t.portal[1]);
    bool seen1 = false, seen2 = false;
    unsigned n = 0;
    for (struct iscsi_target_portal *p = da->portals; p; p = p->next, n++) {
        seen1 = seen1 || strcmp(p->portal, want1) == 0;
        seen2 = seen2 || strcmp(p->portal, want2) == 0;
    }
    if (!seen1 || !seen2)
        for (struct iscsi_target_portal *p = da->portals; p; p = p->next)
            fprintf(stderr, "listed portal: %s\n", p->portal);
    assert_int_equal(n, 2);
    assert_true(seen1);
    assert_true(seen2);
    iscsi_free_discovery_data(iscsi, da);
    iscsi_logout_sync(iscsi);
    iscsi_destroy_context(iscsi);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

/* design.md: a wildcard portal is advertised with the local address of the connection the request came in
 * on, so a loopback initiator is only ever sent back to loopback. */
static void test_wildcard_portal_is_advertised_with_the_local_address(void **state)
{
    (void)state;
    struct itest_target t;
    const char *args[] = { "--listen", "0.0.0.0:0", NULL };
    assert_int_equal(itest_start(&t, args), 0);
    char portal[64];
    snprintf(portal, sizeof portal, "127.0.0.1:%d", itest_port(&t, 0));
    struct iscsi_context *iscsi;
    struct iscsi_discovery_address *da = discover(&iscsi, portal);
    assert_non_null(da);
    assert_non_null(da->portals);
    char want[96];
    snprintf(want, sizeof want, "%s,1", portal);
    assert_string_equal(da->portals->portal, want);
    iscsi_free_discovery_data(iscsi, da);
    iscsi_logout_sync(iscsi);
    iscsi_destroy_context(iscsi);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sendtargets_lists_the_target_and_its_portal),
        cmocka_unit_test(test_two_listen_flags_are_two_portal_groups),
        cmocka_unit_test(test_wildcard_portal_is_advertised_with_the_local_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
