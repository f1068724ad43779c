/* Unit tests for target/media.c: removable medium, load/eject (START STOP UNIT LOEJ), PREVENT ALLOW MEDIUM
 * REMOVAL per I_T nexus, and MEDIUM NOT PRESENT while the medium is out.
 *
 * Fixture: one target port, two LUs, two I_T nexuses.
 *
 *   nexus 0: iqn.2026-11.test:n0 --+                +-- LU 0: mem 1 MiB, removable
 *                                  +-- port 1 ------+
 *   nexus 1: iqn.2026-11.test:n1 --+                +-- LU 1: mem 1 MiB, fixed
 */
#include "disk_harness.h"

#define BS 512u

static int setup(void **state)
{
    static const struct dh_lu lus[] = { { .size = 1 << 20, .block_size = BS, .removable = true },
                                        { .size = 1 << 20, .block_size = BS } };
    static const uint16_t ports[] = { 1, 1 };

    *state = dh_new(1, lus, 2, ports, 2);
    return 0;
}

static int teardown(void **state)
{
    dh_free(*state);
    return 0;
}

static struct tgt_cmd *start_stop(struct dh *h, int n, uint64_t lun, uint8_t pc, bool loej, bool start)
{
    uint8_t cdb[6] = { 0x1b, 0, 0, 0, 0, 0 };

    cdb[4] = (uint8_t)((pc << 4) | (loej ? 0x02 : 0) | (start ? 0x01 : 0));
    return dh_run(h, n, lun, cdb, 6, 0);
}

static struct tgt_cmd *prevent_allow(struct dh *h, int n, uint64_t lun, uint8_t prevent)
{
    uint8_t cdb[6] = { 0x1e, 0, 0, 0, prevent, 0 };

    return dh_run(h, n, lun, cdb, 6, 0);
}

static struct tgt_cmd *inquiry_std(struct dh *h, int n, uint64_t lun)
{
    uint8_t cdb[6] = { 0x12, 0, 0, 0, 96, 0 };

    return dh_run(h, n, lun, cdb, 6, 0);
}

static void test_inquiry_reports_rmb_only_for_removable_lu(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd *c = inquiry_std(h, 0, 0);

    dh_assert_good(c);
    assert_int_equal(dh_din(c)[1] & 0x80, 0x80);
    c = inquiry_std(h, 0, 1);
    dh_assert_good(c);
    assert_int_equal(dh_din(c)[1] & 0x80, 0);
}

static void test_eject_makes_medium_access_not_ready_medium_not_present(void **state)
{
    struct dh *h = *state;
    static const uint8_t rc10[10] = { 0x25 };
    static const uint8_t ms6[6] = { 0x1a, 0x08, 0x3f, 0, 0xff, 0 };

    dh_assert_good(start_stop(h, 0, 0, 0, true, false));
    dh_assert_sense(dh_tur(h, 0, 0), TGT_SK_NOT_READY, 0x3a, 0x02);
    dh_assert_sense(dh_read10(h, 0, 0, 0, 1), TGT_SK_NOT_READY, 0x3a, 0x02);
    dh_assert_sense(dh_write10(h, 0, 0, 0, 1, 0x11, BS), TGT_SK_NOT_READY, 0x3a, 0x02);
    dh_assert_sense(dh_run(h, 0, 0, rc10, 10, 0), TGT_SK_NOT_READY, 0x3a, 0x02);
    /* The other nexus sees the same medium. */
    dh_assert_sense(dh_tur(h, 1, 0), TGT_SK_NOT_READY, 0x3a, 0x02);
    /* Commands that do not need the medium keep working. */
    dh_assert_good(inquiry_std(h, 0, 0));
    dh_assert_good(dh_run(h, 0, 0, ms6, 6, 0));
    dh_assert_good(prevent_allow(h, 0, 0, 0));
    /* The fixed LU is not affected. */
    dh_assert_good(dh_tur(h, 0, 1));
}

static void test_load_brings_the_same_data_back_and_tells_other_nexuses(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd *c;

    dh_assert_good(dh_write10(h, 0, 0, 5, 2, 0x5a, BS));
    dh_assert_good(start_stop(h, 0, 0, 0, true, false));
    dh_assert_good(start_stop(h, 0, 0, 0, true, true));
    /* The loading nexus needs no unit attention; the other one learns the medium may have changed. */
    dh_assert_good(dh_tur(h, 0, 0));
    dh_assert_sense(dh_tur(h, 1, 0), TGT_SK_UNIT_ATTENTION, 0x28, 0x00);
    dh_assert_good(dh_tur(h, 1, 0));
    c = dh_read10(h, 0, 0, 5, 2);
    dh_assert_good(c);
    assert_true(dh_all(dh_din(c), 2 * BS, 0x5a));
}

static void test_eject_and_load_are_idempotent(void **state)
{
    struct dh *h = *state;

    dh_assert_good(start_stop(h, 0, 0, 0, true, true));
    dh_assert_good(dh_tur(h, 0, 0));
    dh_assert_good(start_stop(h, 0, 0, 0, true, false));
    dh_assert_good(start_stop(h, 0, 0, 0, true, false));
    dh_assert_sense(dh_tur(h, 0, 0), TGT_SK_NOT_READY, 0x3a, 0x02);
}

static void test_prevent_refuses_eject_and_load_with_medium_removal_prevented(void **state)
{
    struct dh *h = *state;

    dh_assert_good(prevent_allow(h, 0, 0, 1));
    dh_assert_sense(start_stop(h, 0, 0, 0, true, false), TGT_SK_ILLEGAL_REQUEST, 0x53, 0x02);
    dh_assert_good(dh_tur(h, 0, 0));
    dh_assert_good(prevent_allow(h, 0, 0, 0));
    dh_assert_good(start_stop(h, 0, 0, 0, true, false));
    dh_assert_good(prevent_allow(h, 0, 0, 1));
    dh_assert_sense(start_stop(h, 0, 0, 0, true, true), TGT_SK_ILLEGAL_REQUEST, 0x53, 0x02);
    dh_assert_sense(dh_tur(h, 0, 0), TGT_SK_NOT_READY, 0x3a, 0x02);
    dh_assert_good(prevent_allow(h, 0, 0, 0));
    dh_assert_good(start_stop(h, 0, 0, 0, true, true));
    dh_assert_good(dh_tur(h, 0, 0));
}

static void test_prevent_of_one_nexus_refuses_eject_from_another(void **state)
{
    struct dh *h = *state;

    dh_assert_good(prevent_allow(h, 0, 0, 1));
    dh_assert_sense(start_stop(h, 1, 0, 0, true, false), TGT_SK_ILLEGAL_REQUEST, 0x53, 0x02);
    /* ALLOW from the other nexus clears only its own (absent) prevention. */
    dh_assert_good(prevent_allow(h, 1, 0, 0));
    dh_assert_sense(start_stop(h, 1, 0, 0, true, false), TGT_SK_ILLEGAL_REQUEST, 0x53, 0x02);
    dh_assert_good(prevent_allow(h, 0, 0, 0));
    dh_assert_good(start_stop(h, 1, 0, 0, true, false));
}

static void test_logout_ends_the_prevent_of_that_nexus(void **state)
{
    struct dh *h = *state;

    dh_assert_good(prevent_allow(h, 0, 0, 1));
    tgt_nexus_logout(h->nx[0]);
    dh_assert_good(start_stop(h, 1, 0, 0, true, false));
    dh_assert_sense(dh_tur(h, 1, 0), TGT_SK_NOT_READY, 0x3a, 0x02);
}

static void test_lun_reset_ends_every_prevent(void **state)
{
    struct dh *h = *state;

    dh_assert_good(prevent_allow(h, 0, 0, 1));
    dh_assert_good(prevent_allow(h, 1, 0, 1));
    assert_int_equal(tgt_tmf(h->srv, h->nx[0], TGT_TMF_LUN_RESET, 0, NULL), TGT_TMF_COMPLETE);
    dh_clear_ua(h);
    dh_assert_good(start_stop(h, 0, 0, 0, true, false));
}

static void test_target_reset_ends_every_prevent(void **state)
{
    struct dh *h = *state;

    dh_assert_good(prevent_allow(h, 1, 0, 1));
    assert_int_equal(tgt_tmf(h->srv, h->nx[0], TGT_TMF_TARGET_WARM_RESET, 0, NULL), TGT_TMF_COMPLETE);
    dh_clear_ua(h);
    dh_assert_good(start_stop(h, 0, 0, 0, true, false));
}

static void test_it_nexus_reset_ends_the_prevent_of_that_nexus(void **state)
{
    struct dh *h = *state;

    dh_assert_good(prevent_allow(h, 0, 0, 1));
    dh_assert_good(prevent_allow(h, 1, 0, 1));
    assert_int_equal(tgt_tmf(h->srv, h->nx[0], TGT_TMF_IT_NEXUS_RESET, 0, NULL), TGT_TMF_COMPLETE);
    dh_clear_ua(h);
    /* Nexus 1 still prevents. */
    dh_assert_sense(start_stop(h, 0, 0, 0, true, false), TGT_SK_ILLEGAL_REQUEST, 0x53, 0x02);
    dh_assert_good(prevent_allow(h, 1, 0, 0));
    dh_assert_good(start_stop(h, 0, 0, 0, true, false));
}

static void test_loej_on_a_fixed_lu_is_invalid_field_in_cdb(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd *c = start_stop(h, 0, 1, 0, true, false);

    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    dh_assert_field(c, true, 4, 1);
}

static void test_prevent_on_a_fixed_lu_has_no_effect(void **state)
{
    struct dh *h = *state;

    dh_assert_good(prevent_allow(h, 0, 1, 1));
    dh_assert_good(dh_tur(h, 0, 1));
    dh_assert_good(prevent_allow(h, 0, 1, 0));
}

static void test_obsolete_prevent_values_are_invalid_field_in_cdb(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd *c = prevent_allow(h, 0, 0, 2);

    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    dh_assert_field(c, true, 4, 1);
    c = prevent_allow(h, 0, 0, 3);
    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
}

static void test_prevent_reserved_bits_are_rejected_by_the_usage_mask(void **state)
{
    struct dh *h = *state;
    uint8_t cdb[6] = { 0x1e, 0, 0, 0, 0x05, 0 };
    struct tgt_cmd *c = dh_run(h, 0, 0, cdb, 6, 0);

    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    dh_assert_field(c, true, 4, 2);
}

static void test_prevent_conflicts_with_another_nexus_reservation(void **state)
{
    struct dh *h = *state;
    static const uint8_t reserve6[6] = { 0x16 };

    dh_assert_good(dh_run(h, 1, 0, reserve6, 6, 0));
    assert_int_equal(prevent_allow(h, 0, 0, 1)->status, TGT_STATUS_RESERVATION_CONFLICT);
    /* SPC-4 5.13.1 Table 63: PREVENT=0 is never in conflict. */
    dh_assert_good(prevent_allow(h, 0, 0, 0));
    dh_assert_good(prevent_allow(h, 1, 0, 1));
}

static void test_power_condition_ignores_loej(void **state)
{
    struct dh *h = *state;

    dh_assert_good(start_stop(h, 0, 0, 1, true, false));
    dh_assert_good(dh_tur(h, 0, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inquiry_reports_rmb_only_for_removable_lu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eject_makes_medium_access_not_ready_medium_not_present, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_brings_the_same_data_back_and_tells_other_nexuses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_eject_and_load_are_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prevent_refuses_eject_and_load_with_medium_removal_prevented, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prevent_of_one_nexus_refuses_eject_from_another, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logout_ends_the_prevent_of_that_nexus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lun_reset_ends_every_prevent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_reset_ends_every_prevent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_it_nexus_reset_ends_the_prevent_of_that_nexus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loej_on_a_fixed_lu_is_invalid_field_in_cdb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prevent_on_a_fixed_lu_has_no_effect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_obsolete_prevent_values_are_invalid_field_in_cdb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prevent_reserved_bits_are_rejected_by_the_usage_mask, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prevent_conflicts_with_another_nexus_reservation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_condition_ignores_loej, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
