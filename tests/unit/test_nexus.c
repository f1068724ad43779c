/* Unit tests for target/nexus.c: I_T nexus identity, login/logout unit attentions, in-flight counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "target/tgt_internal.h"

#include "tgt_fixture.h"

static int setup(void **state)
{
    struct fx *f = fx_new(1u << 20, 512, false);
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = 1u << 20 };
    char err[128];

    /* A second LU added before anyone logs in again. */
    assert_int_equal(tgt_server_add_lu(f->srv, &lc, err, sizeof(err)), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

static void tur_expect(struct fx *f, struct tgt_nexus *nx, uint64_t lun, uint8_t asc, uint8_t ascq)
{
    struct tgt_cmd c;
    const uint8_t tur[6] = { 0 };

    fx_run(f, &c, nx, lun, tur, 6, 0, 0);
    if (asc == 0)
        assert_int_equal(c.status, TGT_STATUS_GOOD);
    else
        fx_assert_sense(&c, TGT_SK_UNIT_ATTENTION, asc, ascq);
}

static void test_same_initiator_port_and_target_port_is_the_same_nexus(void **state)
{
    struct fx *f = *state;
    const uint8_t other_isid[6] = { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x09 };

    assert_ptr_equal(tgt_nexus_login(f->srv, "iqn.2026-11.test:a", fx_isid_a, 1), f->a);
    assert_int_not_equal(tgt_nexus_id(f->a), tgt_nexus_id(f->b));
    /* A different ISID from the same initiator name is another I_T nexus (MPIO). */
    assert_ptr_not_equal(tgt_nexus_login(f->srv, "iqn.2026-11.test:a", other_isid, 1), f->a);
}

static void test_invalid_identity_gives_no_nexus(void **state)
{
    struct fx *f = *state;

    assert_null(tgt_nexus_login(f->srv, "", fx_isid_a, 1));
    assert_null(tgt_nexus_login(f->srv, "iqn.2026-11.test:a", fx_isid_a, 0));
    assert_null(tgt_nexus_login(f->srv, "iqn.2026-11.test:a", fx_isid_a, 2)); /* only port 1 exists */
    assert_null(tgt_nexus_login(f->srv, NULL, fx_isid_a, 1));
}

static void test_first_login_sees_power_on_on_every_lu(void **state)
{
    struct fx *f = *state;

    tur_expect(f, f->a, 0, 0x29, 0x00);
    /* LU 1 was added after A logged in: LU 0 reports the new inventory, LU 1 its own power on. */
    tur_expect(f, f->a, 0, 0x3f, 0x0e);
    tur_expect(f, f->a, 0, 0, 0);
    tur_expect(f, f->a, 1, 0x29, 0x00);
    tur_expect(f, f->a, 1, 0, 0);
}

static void test_relogin_after_logout_sees_nexus_loss_and_keeps_queued_conditions(void **state)
{
    struct fx *f = *state;
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);

    fx_clear_ua(f);
    tgt__ua_clear(tgt_server_lu(f->srv, 1), tgt_nexus_id(f->a));
    tgt__ua_clear(tgt_server_lu(f->srv, 1), tgt_nexus_id(f->b));
    tgt_nexus_logout(f->a);
    tgt_ua_raise(lu, tgt_nexus_id(f->a), 0x2a, 0x03); /* e.g. preempted while away */
    assert_ptr_equal(tgt_nexus_login(f->srv, "iqn.2026-11.test:a", fx_isid_a, 1), f->a);
    tur_expect(f, f->a, 0, 0x29, 0x07);
    tur_expect(f, f->a, 0, 0x2a, 0x03);
    tur_expect(f, f->a, 0, 0, 0);
    tur_expect(f, f->a, 1, 0x29, 0x07);
    /* The other nexus saw nothing. */
    tur_expect(f, f->b, 0, 0, 0);
}

static void test_logout_releases_the_spc2_reservation_of_that_nexus(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t reserve6[6] = { 0x16 };
    const uint8_t wr[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

    fx_clear_ua(f);
    fx_run(f, &c, f->a, 0, reserve6, 6, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    memset(f->buf, 1, 512);
    fx_run(f, &c, f->b, 0, wr, 10, 512, 512);
    assert_int_equal(c.status, TGT_STATUS_RESERVATION_CONFLICT);
    tgt_nexus_logout(f->a);
    fx_run(f, &c, f->b, 0, wr, 10, 512, 512);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
}

static void test_in_flight_count_returns_to_zero_after_completion(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t rd[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

    assert_int_equal(tgt_nexus_cmds_in_flight(f->a), 0);
    fx_run(f, &c, f->a, 0, rd, 10, 0, 512);
    assert_int_equal(tgt_nexus_cmds_in_flight(f->a), 0);
    assert_int_equal(tgt_nexus_cmds_in_flight(NULL), 0);
    assert_int_equal(tgt_nexus_id(NULL), PR_ITN_NONE);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_same_initiator_port_and_target_port_is_the_same_nexus),
        T(test_invalid_identity_gives_no_nexus),
        T(test_first_login_sees_power_on_on_every_lu),
        T(test_relogin_after_logout_sees_nexus_loss_and_keeps_queued_conditions),
        T(test_logout_releases_the_spc2_reservation_of_that_nexus),
        T(test_in_flight_count_returns_to_zero_after_completion),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
