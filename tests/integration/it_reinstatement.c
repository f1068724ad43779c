/* Session reinstatement (RFC 7143 6.3.5, 4.4.3): a login with the InitiatorName and ISID of an existing session
 * and TSIH 0 closes the old session and the new one works; a different ISID is a different session (and a
 * different I_T nexus) that leaves the first alone.
 *
 *   raw A (initiator-a, ISID X) ─┐
 *   raw B (initiator-a, ISID X) ─┴─> same session identity: B replaces A
 *   raw C (initiator-a, ISID Y) ───> coexists with B
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/integration/itest.h"

static const uint8_t isid_x[6] = { 0x80, 0xaa, 0xbb, 0xcc, 0x00, 0x01 };
static const uint8_t isid_y[6] = { 0x80, 0xaa, 0xbb, 0xcc, 0x00, 0x02 };

static int setup(void **state)
{
    static struct itest_target t;
    const char *args[] = { "--lun", "mem:16M", NULL };
    if (itest_start(&t, args) != 0)
        return -1;
    *state = &t;
    return 0;
}

static int teardown(void **state)
{
    return itest_stop(*state, SIGTERM) == 0 ? 0 : -1;
}

static void login_with_isid(struct itest_target *t, struct itest_raw *r, const uint8_t isid[6])
{
    assert_int_equal(itest_raw_connect(r, itest_port(t, 0)), 0);
    memcpy(r->isid, isid, 6);
    assert_int_equal(itest_raw_login(r, ITEST_INAME_A, ITEST_IQN, false, false, NULL, 0), 0);
}

static int read_block0(struct itest_raw *r, uint8_t *buf)
{
    static const uint8_t cdb[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
    return itest_raw_scsi(r, cdb, 10, 0, NULL, 0, buf, 512, NULL, NULL);
}

static void test_same_name_and_isid_login_closes_the_old_session(void **state)
{
    struct itest_target *t = *state;
    struct itest_raw a, b;
    uint8_t buf[512];
    login_with_isid(t, &a, isid_x);
    assert_int_equal(read_block0(&a, buf), 0);
    login_with_isid(t, &b, isid_x);
    assert_true(itest_raw_wait_closed(&a, 10000, NULL));
    assert_int_equal(read_block0(&b, buf), 0);
    assert_int_equal(itest_raw_logout(&b), 0);
    itest_raw_close(&a);
    itest_raw_close(&b);
}

static void test_different_isid_is_a_separate_session_that_both_keep(void **state)
{
    struct itest_target *t = *state;
    struct itest_raw b, c;
    uint8_t buf[512];
    login_with_isid(t, &b, isid_x);
    login_with_isid(t, &c, isid_y);
    assert_false(itest_raw_wait_closed(&b, 500, NULL));
    assert_int_equal(read_block0(&b, buf), 0);
    assert_int_equal(read_block0(&c, buf), 0);
    assert_int_equal(itest_raw_logout(&b), 0);
    assert_int_equal(itest_raw_logout(&c), 0);
    itest_raw_close(&b);
    itest_raw_close(&c);
}

static void test_reinstated_session_can_be_reinstated_again(void **state)
{
    struct itest_target *t = *state;
    struct itest_raw r[4];
    uint8_t buf[512];
    for (unsigned i = 0; i < 4; i++) {
        login_with_isid(t, &r[i], isid_y);
        if (i)
            assert_true(itest_raw_wait_closed(&r[i - 1], 10000, NULL));
        assert_int_equal(read_block0(&r[i], buf), 0);
    }
    assert_int_equal(itest_raw_logout(&r[3]), 0);
    for (unsigned i = 0; i < 4; i++)
        itest_raw_close(&r[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_name_and_isid_login_closes_the_old_session),
        cmocka_unit_test(test_different_isid_is_a_separate_session_that_both_keep),
        cmocka_unit_test(test_reinstated_session_can_be_reinstated_again),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
