/* The sg_persist walk-through of the seed documentation, from two initiators over libiscsi: register key
 * 0x123abc, reserve (type 3, then type 1), read keys, read reservation, the other initiator's conflicts,
 * release, clear.
 *
 *   A (initiator-a, ISID q1) --portal 1--+
 *                                        +--> prtarget LU 0
 *   B (initiator-b, ISID q1) --portal 2--+
 */
#include "tests/integration/pr/pr_it.h"

#define KEY_A 0x123abcull
#define KEY_B 0xb0b0ull

static void test_register_reserve_exclusive_access_read_keys_and_reservation_other_conflicts_release_clear(
    void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *b = prit_login(pt, 1, ITEST_INAME_B, 1);
    assert_non_null(a);
    assert_non_null(b);
    struct prit_sense s;
    uint32_t gen;
    uint64_t keys[8], key;
    uint8_t type;

    /* SPC-4 5.13.7.2: an unregistered nexus registers with RESERVATION KEY 0; PRgeneration counts it (6.15.2). */
    assert_int_equal(prit_read_keys(b, &gen, keys, 8), 0);
    assert_int_equal(gen, 0);
    assert_int_equal(prit_register(a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_read_keys(b, &gen, keys, 8), 1);
    assert_int_equal(gen, 1);
    assert_true(keys[0] == KEY_A);
    assert_false(prit_read_reservation(b, NULL, NULL));

    /* SPC-4 5.13.9: RESERVE with the registered key; it does not change PRgeneration (6.15.2). */
    assert_int_equal(prit_reserve(a, KEY_A, 3), SCSI_STATUS_GOOD);
    assert_true(prit_read_reservation(b, &key, &type));
    assert_true(key == KEY_A);
    assert_int_equal(type, 3);
    assert_int_equal(prit_read_keys(b, &gen, keys, 8), 1);
    assert_int_equal(gen, 1);

    /* SPC-4 5.13.1 Table 63 / SBC-3 4.17: Exclusive Access conflicts reads and writes of a non-holder. */
    assert_int_equal(prit_write(b, 1, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_read(b, 1, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_write(a, 1, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_read(a, 1, &s), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.9: another nexus reserving conflicts, registered or not. */
    assert_int_equal(prit_reserve(b, 0, 3), SCSI_STATUS_RESERVATION_CONFLICT);

    /* SPC-4 5.13.11.2.2: the holder releases with the same type; the Exclusive Access release is silent. */
    assert_int_equal(prit_release(a, KEY_A, 3), SCSI_STATUS_GOOD);
    assert_false(prit_read_reservation(b, NULL, NULL));
    prit_assert_no_ua(b);
    assert_int_equal(prit_write(b, 1, &s), SCSI_STATUS_GOOD);

    /* Type 1, Write Exclusive: the other initiator reads but does not write, registered or not. */
    assert_int_equal(prit_reserve(a, KEY_A, 1), SCSI_STATUS_GOOD);
    assert_true(prit_read_reservation(b, &key, &type));
    assert_int_equal(type, 1);
    assert_int_equal(prit_read(b, 2, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(b, 2, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_register(b, 0, KEY_B), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(b, 2, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_read_keys(a, &gen, keys, 8), 2);
    assert_int_equal(gen, 2);

    /* SPC-4 5.13.11.2.7: CLEAR removes every registration and the reservation, adds one to PRgeneration and
     * tells every other registered nexus RESERVATIONS PREEMPTED, once. */
    assert_int_equal(prit_prout_basic(a, 0x03, 0, KEY_A, 0, 0, &s), SCSI_STATUS_GOOD);
    prit_assert_ua_once(b, 0x2a, 0x03);
    prit_assert_no_ua(a);
    assert_int_equal(prit_read_keys(a, &gen, keys, 8), 0);
    assert_int_equal(gen, 3);
    assert_false(prit_read_reservation(a, NULL, NULL));
    assert_int_equal(prit_write(b, 2, &s), SCSI_STATUS_GOOD);

    itest_logout(a);
    itest_logout(b);
}

static void test_release_with_wrong_type_is_invalid_release_and_unregistered_release_conflicts(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *b = prit_login(pt, 0, ITEST_INAME_B, 1);
    assert_non_null(a);
    assert_non_null(b);
    struct prit_sense s;

    assert_int_equal(prit_register(a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(a, KEY_A, 3), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.11.2.2: the holder naming another type: ILLEGAL REQUEST, INVALID RELEASE OF PERSISTENT
     * RESERVATION (26h/04h); LIO answers a conflict here. */
    assert_int_equal(prit_prout_basic(a, 0x02, 1, KEY_A, 0, 0, &s), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(s.key, SCSI_SENSE_ILLEGAL_REQUEST);
    assert_int_equal(s.asc, 0x26);
    assert_int_equal(s.ascq, 0x04);
    assert_true(prit_read_reservation(b, NULL, NULL));
    /* SPC-4 5.13.11.2.2: a RELEASE from an unregistered nexus is a conflict and leaves the reservation. */
    assert_int_equal(prit_prout_basic(b, 0x02, 3, 0, 0, 0, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    /* SPC-4 5.13.9: RESERVE from an unregistered nexus with no key is a conflict, not NOT READY (LIO). */
    assert_int_equal(prit_release(a, KEY_A, 3), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(b, 0, 3), SCSI_STATUS_RESERVATION_CONFLICT);
    itest_logout(a);
    itest_logout(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_register_reserve_exclusive_access_read_keys_and_reservation_other_conflicts_release_clear,
            prit_setup, prit_teardown),
        cmocka_unit_test_setup_teardown(
            test_release_with_wrong_type_is_invalid_release_and_unregistered_release_conflicts, prit_setup,
            prit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
