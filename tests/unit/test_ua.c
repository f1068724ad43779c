/* Unit tests for target/ua.c: unit attention queues per (LU, I_T nexus). */
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

    fx_clear_ua(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

static void expect_pop(struct tgt_lu *lu, uint32_t itn, uint8_t asc, uint8_t ascq)
{
    uint8_t a, q;

    assert_true(tgt__ua_pop(lu, itn, &a, &q));
    assert_int_equal(a, asc);
    assert_int_equal(q, ascq);
}

static void test_duplicate_conditions_are_merged(void **state)
{
    struct fx *f = *state;
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);
    uint32_t a = tgt_nexus_id(f->a);
    uint8_t x, y;

    tgt_ua_raise(lu, a, 0x2a, 0x03);
    tgt_ua_raise(lu, a, 0x2a, 0x03);
    expect_pop(lu, a, 0x2a, 0x03);
    assert_false(tgt__ua_pop(lu, a, &x, &y));
}

static void test_resets_are_reported_before_parameter_changes(void **state)
{
    struct fx *f = *state;
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);
    uint32_t a = tgt_nexus_id(f->a);

    tgt_ua_raise(lu, a, 0x3f, 0x0e);
    tgt_ua_raise(lu, a, 0x2a, 0x01);
    tgt_ua_raise(lu, a, 0x29, 0x07);
    tgt_ua_raise(lu, a, 0x29, 0x03);
    expect_pop(lu, a, 0x29, 0x03);
    expect_pop(lu, a, 0x29, 0x07);
    expect_pop(lu, a, 0x2a, 0x01);
    expect_pop(lu, a, 0x3f, 0x0e);
}

static void test_reporting_power_on_reset_clears_the_other_reset_conditions_of_that_nexus(void **state)
{
    struct fx *f = *state;
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);
    uint32_t a = tgt_nexus_id(f->a), b = tgt_nexus_id(f->b);
    uint8_t x, y;

    tgt_ua_raise(lu, a, 0x29, 0x02);
    tgt_ua_raise(lu, a, 0x2a, 0x01);
    tgt_ua_raise(lu, a, 0x29, 0x07);
    tgt_ua_raise(lu, a, 0x29, 0x00);
    tgt_ua_raise(lu, b, 0x29, 0x02);
    expect_pop(lu, a, 0x29, 0x00);
    expect_pop(lu, a, 0x2a, 0x01);
    assert_false(tgt__ua_pop(lu, a, &x, &y));
    /* Another nexus keeps its own reset condition. */
    expect_pop(lu, b, 0x29, 0x02);
}

static void test_relogin_after_a_reset_reports_the_reset_then_the_nexus_loss_and_a_new_nexus_only_power_on(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t tur[6] = { 0 };
    static const uint8_t isid_c[6] = { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x03 };
    struct tgt_nexus *nc, *nd;

    /* Nexus C exists (logged in once, then out) when a LUN reset raises 29h/03h for it; its next login adds
     * I_T NEXUS LOSS. A brand-new nexus D only ever sees POWER ON. */
    nc = tgt_nexus_login(f->srv, "iqn.2026-11.test:c", isid_c, 1);
    assert_non_null(nc);
    fx_run(f, &c, nc, 0, tur, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_UNIT_ATTENTION, 0x29, 0x00);
    tgt_nexus_logout(nc);
    assert_int_equal(tgt_tmf(f->srv, f->a, TGT_TMF_LUN_RESET, 0, NULL), TGT_TMF_COMPLETE);
    assert_ptr_equal(tgt_nexus_login(f->srv, "iqn.2026-11.test:c", isid_c, 1), nc);
    fx_run(f, &c, nc, 0, tur, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_UNIT_ATTENTION, 0x29, 0x03);
    fx_run(f, &c, nc, 0, tur, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_UNIT_ATTENTION, 0x29, 0x07);
    fx_run(f, &c, nc, 0, tur, 6, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    nd = tgt_nexus_login(f->srv, "iqn.2026-11.test:d", isid_c, 1);
    assert_non_null(nd);
    fx_run(f, &c, nd, 0, tur, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_UNIT_ATTENTION, 0x29, 0x00);
    fx_run(f, &c, nd, 0, tur, 6, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
}

static void test_conditions_of_equal_rank_come_out_in_arrival_order(void **state)
{
    struct fx *f = *state;
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);
    uint32_t a = tgt_nexus_id(f->a);

    tgt_ua_raise(lu, a, 0x2a, 0x03);
    tgt_ua_raise(lu, a, 0x2a, 0x05);
    tgt_ua_raise(lu, a, 0x2a, 0x04);
    expect_pop(lu, a, 0x2a, 0x03);
    expect_pop(lu, a, 0x2a, 0x05);
    expect_pop(lu, a, 0x2a, 0x04);
}

static void test_full_queue_makes_room_only_for_a_more_important_condition(void **state)
{
    struct fx *f = *state;
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);
    uint32_t a = tgt_nexus_id(f->a);
    uint8_t x, y;
    unsigned n = 0;

    for (uint8_t i = 0; i < TGT_UA_MAX; i++)
        tgt_ua_raise(lu, a, 0x3f, i);
    tgt_ua_raise(lu, a, 0x3f, 0x40); /* same rank: dropped */
    tgt_ua_raise(lu, a, 0x29, 0x03); /* outranks: replaces the newest 3Fh */
    expect_pop(lu, a, 0x29, 0x03);
    while (tgt__ua_pop(lu, a, &x, &y)) {
        assert_int_equal(x, 0x3f);
        assert_int_not_equal(y, 0x40);
        n++;
    }
    assert_int_equal(n, TGT_UA_MAX - 1);
}

static void test_queues_are_per_nexus(void **state)
{
    struct fx *f = *state;
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);
    uint32_t a = tgt_nexus_id(f->a), b = tgt_nexus_id(f->b);
    uint8_t x, y;

    tgt_ua_raise(lu, a, 0x2a, 0x01);
    assert_false(tgt__ua_pending(lu, b));
    assert_false(tgt__ua_pop(lu, b, &x, &y));
    assert_true(tgt__ua_pending(lu, a));
}

static void test_raise_for_a_nexus_beyond_the_table_grows_it(void **state)
{
    struct fx *f = *state;
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);

    tgt_ua_raise(lu, 1000, 0x2a, 0x03);
    assert_true(lu->ua_cap > 1000);
    expect_pop(lu, 1000, 0x2a, 0x03);
    /* PR_ITN_NONE is never a queue. */
    tgt_ua_raise(lu, PR_ITN_NONE, 0x2a, 0x03);
    assert_false(tgt__ua_pending(lu, PR_ITN_NONE));
}

static void test_raise_all_skips_the_excepted_nexus(void **state)
{
    struct fx *f = *state;
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);
    uint32_t a = tgt_nexus_id(f->a), b = tgt_nexus_id(f->b);

    tgt__ua_raise_all(lu, 0x2a, 0x01, a);
    assert_false(tgt__ua_pending(lu, a));
    expect_pop(lu, b, 0x2a, 0x01);
}

static void test_remove_drops_one_condition_and_clear_drops_all(void **state)
{
    struct fx *f = *state;
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);
    uint32_t a = tgt_nexus_id(f->a);

    tgt_ua_raise(lu, a, 0x3f, 0x0e);
    tgt_ua_raise(lu, a, 0x2a, 0x01);
    tgt__ua_remove(lu, a, 0x3f, 0x0e);
    expect_pop(lu, a, 0x2a, 0x01);
    assert_false(tgt__ua_pending(lu, a));
    tgt_ua_raise(lu, a, 0x3f, 0x0e);
    tgt_ua_raise(lu, a, 0x2a, 0x01);
    tgt__ua_clear(lu, a);
    assert_false(tgt__ua_pending(lu, a));
}

static void test_a_command_reports_one_condition_and_clears_only_that_one(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);
    const uint8_t tur[6] = { 0 };

    tgt_ua_raise(lu, tgt_nexus_id(f->a), 0x2a, 0x01);
    tgt_ua_raise(lu, tgt_nexus_id(f->a), 0x29, 0x03);
    fx_run(f, &c, f->a, 0, tur, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_UNIT_ATTENTION, 0x29, 0x03);
    fx_run(f, &c, f->a, 0, tur, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_UNIT_ATTENTION, 0x2a, 0x01);
    fx_run(f, &c, f->a, 0, tur, 6, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_duplicate_conditions_are_merged),
        T(test_resets_are_reported_before_parameter_changes),
        T(test_reporting_power_on_reset_clears_the_other_reset_conditions_of_that_nexus),
        T(test_relogin_after_a_reset_reports_the_reset_then_the_nexus_loss_and_a_new_nexus_only_power_on),
        T(test_conditions_of_equal_rank_come_out_in_arrival_order),
        T(test_full_queue_makes_room_only_for_a_more_important_condition),
        T(test_queues_are_per_nexus),
        T(test_raise_for_a_nexus_beyond_the_table_grows_it),
        T(test_raise_all_skips_the_excepted_nexus),
        T(test_remove_drops_one_condition_and_clear_drops_all),
        T(test_a_command_reports_one_condition_and_clears_only_that_one),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
