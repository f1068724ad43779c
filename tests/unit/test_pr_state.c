/* Unit tests of prstate/pr_state.c: the access check (SPC-4 5.13.1 Table 63, SBC-3 Table 13) for every access
 * class x reservation type x holder / registered / unregistered nexus, SPC-2 reservations and their interplay
 * with persistent reservations (SPC-4 5.13.3), profiles, the lost state, reset and inspection.
 *
 * Fixture topology (one target port):
 *
 *      H = iqn.h isid 01 ──┐
 *      R = iqn.r isid 01 ──┼── port 1 ── LU (st)
 *      U = iqn.u isid 01 ──┘
 *   H reserves (and is registered), R is registered, U is not registered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prstate/pr.h"

struct fx {
    struct pr_itn_tab *tab;
    struct pr_state *st;
    uint32_t h, r, u;
};

static const uint8_t isid1[6] = { 0x40, 0, 0, 0, 0, 0x01 };

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->tab = pr_itn_tab_new(1);
    f->st = pr_state_new(f->tab);
    f->h = pr_itn_intern(f->tab, "iqn.h", isid1, 1);
    f->r = pr_itn_intern(f->tab, "iqn.r", isid1, 1);
    f->u = pr_itn_intern(f->tab, "iqn.u", isid1, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    pr_state_free(f->st);
    pr_itn_tab_free(f->tab);
    free(f);
    return 0;
}

static enum pr_status out(struct fx *f, uint32_t itn, uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key)
{
    struct pr_result res;
    pr_result_init(&res);
    struct pr_out_req r = { .sa = sa, .type = type, .key = key, .sa_key = sa_key };
    enum pr_status s = pr_out(f->st, itn, &r, &res);
    pr_result_free(&res);
    return s;
}

static void reserve(struct fx *f, uint8_t type)
{
    assert_int_equal(out(f, f->h, PR_OUT_REGISTER, 0, 0, 0x11), PR_OK);
    assert_int_equal(out(f, f->r, PR_OUT_REGISTER, 0, 0, 0x22), PR_OK);
    assert_int_equal(out(f, f->h, PR_OUT_RESERVE, type, 0x11, 0), PR_OK);
}

#define OK PR_OK
#define C PR_CONFLICT

struct access_row {
    enum pr_access cls;
    uint8_t type;
    enum pr_status holder, registered, unregistered;
};

/* The expected answers, written out from SPC-4 5.13.1 Table 63 and SBC-3 Table 13 (not computed). */
static const struct access_row access_table[] = {
    { PR_ACCESS_READ, PR_TYPE_WE, OK, OK, OK },
    { PR_ACCESS_READ, PR_TYPE_EA, OK, C, C },
    { PR_ACCESS_READ, PR_TYPE_WE_RO, OK, OK, OK },
    { PR_ACCESS_READ, PR_TYPE_EA_RO, OK, OK, C },
    { PR_ACCESS_READ, PR_TYPE_WE_AR, OK, OK, OK },
    { PR_ACCESS_READ, PR_TYPE_EA_AR, OK, OK, C },
    { PR_ACCESS_WRITE, PR_TYPE_WE, OK, C, C },
    { PR_ACCESS_WRITE, PR_TYPE_EA, OK, C, C },
    { PR_ACCESS_WRITE, PR_TYPE_WE_RO, OK, OK, C },
    { PR_ACCESS_WRITE, PR_TYPE_EA_RO, OK, OK, C },
    { PR_ACCESS_WRITE, PR_TYPE_WE_AR, OK, OK, C },
    { PR_ACCESS_WRITE, PR_TYPE_EA_AR, OK, OK, C },
    { PR_ACCESS_TUR, PR_TYPE_WE, OK, OK, OK },
    { PR_ACCESS_TUR, PR_TYPE_EA, OK, OK, OK },
    { PR_ACCESS_TUR, PR_TYPE_WE_RO, OK, OK, OK },
    { PR_ACCESS_TUR, PR_TYPE_EA_RO, OK, OK, OK },
    { PR_ACCESS_TUR, PR_TYPE_WE_AR, OK, OK, OK },
    { PR_ACCESS_TUR, PR_TYPE_EA_AR, OK, OK, OK },
};

static const enum pr_access never_conflicting[] = { PR_ACCESS_ALLOWED, PR_ACCESS_ALLOWED_PR, PR_ACCESS_PR_OUT,
                                                    PR_ACCESS_SPC2 };
static const uint8_t all_types[] = { PR_TYPE_WE, PR_TYPE_EA, PR_TYPE_WE_RO, PR_TYPE_EA_RO, PR_TYPE_WE_AR,
                                     PR_TYPE_EA_AR };

static void check_row(struct fx *f, const struct access_row *row)
{
    pr_state_reset(f->st);
    reserve(f, row->type);
    assert_int_equal(pr_check_access(f->st, f->h, row->cls), row->holder);
    assert_int_equal(pr_check_access(f->st, f->r, row->cls), row->registered);
    assert_int_equal(pr_check_access(f->st, f->u, row->cls), row->unregistered);
}

static void test_access_table_read_write_tur_for_every_type_and_nexus_role(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof(access_table) / sizeof(access_table[0]); i++)
        check_row(f, &access_table[i]);
}

static void test_access_allowed_pr_out_and_spc2_classes_never_conflict_with_a_persistent_reservation(void **state)
{
    struct fx *f = *state;
    for (size_t t = 0; t < sizeof(all_types); t++) {
        for (size_t c = 0; c < sizeof(never_conflicting) / sizeof(never_conflicting[0]); c++) {
            struct access_row row = { never_conflicting[c], all_types[t], OK, OK, OK };
            check_row(f, &row);
        }
    }
}

static void test_access_spc3_profile_conflicts_tur_under_exclusive_access_types(void **state)
{
    struct fx *f = *state;
    static const struct access_row spc3[] = {
        { PR_ACCESS_TUR, PR_TYPE_WE, OK, OK, OK },     { PR_ACCESS_TUR, PR_TYPE_EA, OK, C, C },
        { PR_ACCESS_TUR, PR_TYPE_WE_RO, OK, OK, OK },  { PR_ACCESS_TUR, PR_TYPE_EA_RO, OK, OK, C },
        { PR_ACCESS_TUR, PR_TYPE_WE_AR, OK, OK, OK },  { PR_ACCESS_TUR, PR_TYPE_EA_AR, OK, OK, C },
    };
    assert_int_equal(pr_state_set_profile(f->st, "spc3"), 0);
    for (size_t i = 0; i < sizeof(spc3) / sizeof(spc3[0]); i++)
        check_row(f, &spc3[i]);
}

static void test_access_without_reservation_allows_every_class_even_with_registrations(void **state)
{
    struct fx *f = *state;
    assert_int_equal(out(f, f->r, PR_OUT_REGISTER, 0, 0, 5), PR_OK);
    const enum pr_access all[] = { PR_ACCESS_ALLOWED, PR_ACCESS_READ, PR_ACCESS_WRITE, PR_ACCESS_TUR,
                                   PR_ACCESS_PR_OUT, PR_ACCESS_SPC2, PR_ACCESS_ALLOWED_PR };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        assert_int_equal(pr_check_access(f->st, f->u, all[i]), PR_OK);
        assert_int_equal(pr_check_access(f->st, f->r, all[i]), PR_OK);
    }
}

static void test_access_of_a_never_seen_nexus_id_is_unregistered(void **state)
{
    struct fx *f = *state;
    reserve(f, PR_TYPE_WE_RO);
    assert_int_equal(pr_check_access(f->st, 100000, PR_ACCESS_WRITE), PR_CONFLICT);
    assert_int_equal(pr_check_access(f->st, 100000, PR_ACCESS_READ), PR_OK);
}

/* ---- SPC-2 reservations --------------------------------------------------------------------------------------- */

static void test_spc2_reservation_conflicts_every_class_of_other_nexus_except_allowed_and_spc2(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_spc2_reserve(f->st, f->h), PR_OK);
    assert_int_equal(pr_spc2_holder(f->st), f->h);
    const enum pr_access conflicting[] = { PR_ACCESS_READ, PR_ACCESS_WRITE, PR_ACCESS_TUR, PR_ACCESS_PR_OUT,
                                           PR_ACCESS_ALLOWED_PR };
    for (size_t i = 0; i < sizeof(conflicting) / sizeof(conflicting[0]); i++) {
        assert_int_equal(pr_check_access(f->st, f->u, conflicting[i]), PR_CONFLICT);
        assert_int_equal(pr_check_access(f->st, f->h, conflicting[i]), PR_OK);
    }
    assert_int_equal(pr_check_access(f->st, f->u, PR_ACCESS_ALLOWED), PR_OK);
    assert_int_equal(pr_check_access(f->st, f->u, PR_ACCESS_SPC2), PR_OK);
}

static void test_spc2_reserve_by_second_nexus_conflicts_and_its_release_is_a_noop(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_spc2_reserve(f->st, f->h), PR_OK);
    assert_int_equal(pr_spc2_reserve(f->st, f->h), PR_OK);
    assert_int_equal(pr_spc2_reserve(f->st, f->u), PR_CONFLICT);
    assert_int_equal(pr_spc2_release(f->st, f->u), PR_OK);
    assert_int_equal(pr_spc2_holder(f->st), f->h);
    assert_int_equal(pr_spc2_release(f->st, f->h), PR_OK);
    assert_int_equal(pr_spc2_holder(f->st), PR_ITN_NONE);
    assert_int_equal(pr_spc2_reserve(f->st, f->u), PR_OK);
}

static void test_spc2_reserve_and_release_conflict_while_registrations_exist(void **state)
{
    struct fx *f = *state;
    assert_int_equal(out(f, f->r, PR_OUT_REGISTER, 0, 0, 5), PR_OK);
    assert_int_equal(pr_spc2_reserve(f->st, f->u), PR_CONFLICT);
    assert_int_equal(pr_spc2_reserve(f->st, f->r), PR_CONFLICT);
    assert_int_equal(pr_spc2_release(f->st, f->u), PR_CONFLICT);
    assert_int_equal(pr_spc2_holder(f->st), PR_ITN_NONE);
}

static void test_spc2_commands_from_pr_holder_are_good_and_change_nothing(void **state)
{
    struct fx *f = *state;
    reserve(f, PR_TYPE_WE);
    assert_int_equal(pr_spc2_reserve(f->st, f->h), PR_OK);
    assert_int_equal(pr_spc2_holder(f->st), PR_ITN_NONE);
    assert_int_equal(pr_spc2_release(f->st, f->h), PR_OK);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_true(ri.reserved);
    /* A registered non-holder under Write Exclusive is not exempt (SPC-4 5.13.3). */
    assert_int_equal(pr_spc2_reserve(f->st, f->r), PR_CONFLICT);
    assert_int_equal(pr_spc2_release(f->st, f->r), PR_CONFLICT);
}

static void test_spc2_commands_from_registrant_under_registrants_only_are_good(void **state)
{
    struct fx *f = *state;
    reserve(f, PR_TYPE_EA_RO);
    assert_int_equal(pr_spc2_reserve(f->st, f->r), PR_OK);
    assert_int_equal(pr_spc2_release(f->st, f->r), PR_OK);
    assert_int_equal(pr_spc2_reserve(f->st, f->u), PR_CONFLICT);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_true(ri.reserved);
    assert_int_equal(ri.type, PR_TYPE_EA_RO);
}

static void test_spc2_reservation_ends_with_holder_nexus_loss_but_not_another_one(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_spc2_reserve(f->st, f->h), PR_OK);
    pr_state_nexus_lost(f->st, f->u);
    assert_int_equal(pr_spc2_holder(f->st), f->h);
    pr_state_nexus_lost(f->st, f->h);
    assert_int_equal(pr_spc2_holder(f->st), PR_ITN_NONE);
}

static void test_lu_reset_ends_spc2_reservation_and_keeps_persistent_state(void **state)
{
    struct fx *f = *state;
    reserve(f, PR_TYPE_EA);
    pr_state_nexus_lost(f->st, f->h);
    pr_state_lu_reset(f->st);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_true(ri.reserved);
    assert_int_equal(ri.holder, f->h);
    assert_int_equal(pr_state_reg_count(f->st), 2);

    pr_state_reset(f->st);
    assert_int_equal(pr_spc2_reserve(f->st, f->u), PR_OK);
    pr_state_lu_reset(f->st);
    assert_int_equal(pr_spc2_holder(f->st), PR_ITN_NONE);
}

/* ---- profiles, lost, reset, inspection ----------------------------------------------------------------------- */

static void test_profiles_set_capabilities_and_unknown_names_are_rejected(void **state)
{
    struct fx *f = *state;
    assert_string_equal(pr_state_profile(f->st), "full");
    assert_int_equal(pr_state_caps(f->st)->out_sa_mask, 0x1ff);
    assert_int_equal(pr_state_set_profile(f->st, "sl150"), 0);
    assert_int_equal(pr_state_caps(f->st)->out_sa_mask, 0xff);
    assert_int_equal(pr_state_caps(f->st)->type_mask, (1 << 3) | (1 << 6) | (1 << 8));
    assert_int_equal(pr_state_set_profile(f->st, "dlt-s4"), 0);
    assert_int_equal(pr_state_caps(f->st)->type_mask, (1 << 1) | (1 << 3) | (1 << 5) | (1 << 6));
    assert_int_equal(pr_state_set_profile(f->st, "nonsense"), -22);
    assert_string_equal(pr_state_profile(f->st), "dlt-s4");
}

static void test_lost_reservation_blocks_medium_access_but_not_inquiry_pr_in_or_pr_out(void **state)
{
    struct fx *f = *state;
    reserve(f, PR_TYPE_WE);
    pr_state_set_lost(f->st);
    assert_int_equal(pr_check_access(f->st, f->h, PR_ACCESS_READ), PR_RESERVATION_LOST);
    assert_int_equal(pr_check_access(f->st, f->u, PR_ACCESS_WRITE), PR_RESERVATION_LOST);
    assert_int_equal(pr_check_access(f->st, f->u, PR_ACCESS_TUR), PR_RESERVATION_LOST);
    assert_int_equal(pr_check_access(f->st, f->u, PR_ACCESS_ALLOWED), PR_OK);
    assert_int_equal(pr_check_access(f->st, f->u, PR_ACCESS_ALLOWED_PR), PR_OK);
    assert_int_equal(pr_check_access(f->st, f->u, PR_ACCESS_PR_OUT), PR_OK);
}

static void test_reset_drops_registrations_reservations_and_generation(void **state)
{
    struct fx *f = *state;
    reserve(f, PR_TYPE_WE);
    pr_state_reset(f->st);
    assert_int_equal(pr_state_reg_count(f->st), 0);
    assert_int_equal(pr_state_generation(f->st), 0);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_false(ri.reserved);
    assert_int_equal(pr_check_access(f->st, f->u, PR_ACCESS_WRITE), PR_OK);
}

static void test_registration_iteration_reports_every_registrant_and_the_holder(void **state)
{
    struct fx *f = *state;
    reserve(f, PR_TYPE_EA_RO);
    uint32_t cur = 0, n = 0;
    struct pr_reg_info ri;
    while (pr_state_reg_next(f->st, &cur, &ri)) {
        n++;
        if (ri.itn == f->h) {
            assert_true(ri.holder);
            assert_int_equal(ri.key, 0x11);
        } else {
            assert_int_equal(ri.itn, f->r);
            assert_false(ri.holder);
            assert_int_equal(ri.key, 0x22);
        }
    }
    assert_int_equal(n, 2);
    assert_int_equal(pr_state_reg_count(f->st), 2);
}

static void test_all_registrants_reservation_makes_every_registrant_a_holder(void **state)
{
    struct fx *f = *state;
    reserve(f, PR_TYPE_WE_AR);
    uint32_t cur = 0;
    struct pr_reg_info ri;
    while (pr_state_reg_next(f->st, &cur, &ri))
        assert_true(ri.holder);
    struct pr_resv_info rv;
    pr_state_reservation(f->st, &rv);
    assert_int_equal(rv.key, 0);
    assert_int_equal(rv.holder, PR_ITN_NONE);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_access_table_read_write_tur_for_every_type_and_nexus_role),
        T(test_access_allowed_pr_out_and_spc2_classes_never_conflict_with_a_persistent_reservation),
        T(test_access_spc3_profile_conflicts_tur_under_exclusive_access_types),
        T(test_access_without_reservation_allows_every_class_even_with_registrations),
        T(test_access_of_a_never_seen_nexus_id_is_unregistered),
        T(test_spc2_reservation_conflicts_every_class_of_other_nexus_except_allowed_and_spc2),
        T(test_spc2_reserve_by_second_nexus_conflicts_and_its_release_is_a_noop),
        T(test_spc2_reserve_and_release_conflict_while_registrations_exist),
        T(test_spc2_commands_from_pr_holder_are_good_and_change_nothing),
        T(test_spc2_commands_from_registrant_under_registrants_only_are_good),
        T(test_spc2_reservation_ends_with_holder_nexus_loss_but_not_another_one),
        T(test_lu_reset_ends_spc2_reservation_and_keeps_persistent_state),
        T(test_profiles_set_capabilities_and_unknown_names_are_rejected),
        T(test_lost_reservation_blocks_medium_access_but_not_inquiry_pr_in_or_pr_out),
        T(test_reset_drops_registrations_reservations_and_generation),
        T(test_registration_iteration_reports_every_registrant_and_the_holder),
        T(test_all_registrants_reservation_makes_every_registrant_a_holder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
