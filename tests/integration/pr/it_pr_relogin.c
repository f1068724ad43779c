/* Nexus identity across logins (SPC-4 5.13.1, SAM-5 4.6.4, RFC 7143 4.4.3): registrations belong to the I_T
 * nexus, i.e. to the initiator port (iSCSI name + ISID) and the target port, not to a session. A re-login with the
 * same name and ISID is the same nexus and finds its registration and reservation; a new ISID from the same name
 * is a new, unregistered nexus. Logout, connection loss and LOGICAL UNIT RESET leave persistent state alone.
 *
 *   A  (initiator-a, q1) --portal 1--> login, register, reserve, logout / drop, login again
 *   A' (initiator-a, q9) --portal 1--> a different initiator port of the same initiator device
 *   B  (initiator-b, q1) --portal 2--> observer
 */
#include "tests/integration/pr/pr_it.h"

#define KEY_A 0xa11ce001ull

static void test_relogin_with_same_isid_finds_registration_and_reservation_after_logout(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *b = prit_login(pt, 1, ITEST_INAME_B, 1);
    assert_non_null(a);
    assert_non_null(b);
    struct prit_sense s;
    uint64_t key;

    assert_int_equal(prit_register(a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(a, KEY_A, 1), SCSI_STATUS_GOOD);
    itest_logout(a);
    /* SPC-4 5.13.1: persistent reservations and registrations are not affected by the loss of the nexus. */
    assert_true(prit_read_reservation(b, &key, NULL));
    assert_true(key == KEY_A);
    assert_int_equal(prit_write(b, 5, &s), SCSI_STATUS_RESERVATION_CONFLICT);

    a = prit_login(pt, 0, ITEST_INAME_A, 1);
    assert_non_null(a);
    /* The same initiator port through the same target port: still the holder, still registered with KEY_A. */
    assert_int_equal(prit_write(a, 5, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(a, 0, KEY_A + 1), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_release(a, KEY_A, 1), SCSI_STATUS_GOOD);
    assert_false(prit_read_reservation(b, NULL, NULL));
    itest_logout(a);
    itest_logout(b);
}

static void test_relogin_after_connection_loss_keeps_registration(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    assert_non_null(a);
    struct prit_sense s;

    assert_int_equal(prit_register(a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(a, KEY_A, 3), SCSI_STATUS_GOOD);
    /* Drop the TCP connection without a Logout (I_T nexus loss, SAM-5 6.3.4). */
    iscsi_destroy_context(a);

    a = prit_login(pt, 0, ITEST_INAME_A, 1);
    assert_non_null(a);
    assert_int_equal(prit_write(a, 6, &s), SCSI_STATUS_GOOD);
    uint64_t key;
    uint8_t type;
    assert_true(prit_read_reservation(a, &key, &type));
    assert_true(key == KEY_A);
    assert_int_equal(type, 3);
    itest_logout(a);
}

static void test_new_isid_from_same_name_is_an_unregistered_nexus_that_conflicts(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    assert_non_null(a);
    struct prit_sense s;

    assert_int_equal(prit_register(a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(a, KEY_A, 5), SCSI_STATUS_GOOD);
    itest_logout(a);

    struct iscsi_context *a9 = prit_login(pt, 0, ITEST_INAME_A, 9);
    assert_non_null(a9);
    /* Write Exclusive - Registrants Only: the new initiator port is not registered, so it may read but not
     * write (SPC-4 5.13.1 Table 63), and the old key does not identify it (5.13.7.2). */
    assert_int_equal(prit_read(a9, 7, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(a9, 7, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_register(a9, KEY_A, KEY_A), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_reserve(a9, KEY_A, 5), SCSI_STATUS_RESERVATION_CONFLICT);
    /* Once registered itself, it gets the registrants' access. */
    assert_int_equal(prit_register(a9, 0, KEY_A + 9), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(a9, 7, &s), SCSI_STATUS_GOOD);
    uint64_t keys[8];
    assert_int_equal(prit_read_keys(a9, NULL, keys, 8), 2);
    itest_logout(a9);
}

static void test_lun_reset_keeps_registrations_and_reservation(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *b = prit_login(pt, 1, ITEST_INAME_B, 1);
    assert_non_null(a);
    assert_non_null(b);
    struct prit_sense s;

    assert_int_equal(prit_register(a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(a, KEY_A, 1), SCSI_STATUS_GOOD);
    assert_int_equal(iscsi_task_mgmt_lun_reset_sync(b, 0), 0);
    /* SAM-5 6.3.3: the reset is reported (29h/03h BUS DEVICE RESET FUNCTION OCCURRED) to both nexuses... */
    prit_assert_ua_once(a, 0x29, 0x03);
    prit_assert_ua_once(b, 0x29, 0x03);
    /* ...and SPC-4 5.13.1: the persistent reservation and the registration survive it. */
    assert_int_equal(prit_write(b, 8, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_write(a, 8, &s), SCSI_STATUS_GOOD);
    assert_true(prit_has_key(b, KEY_A));
    itest_logout(a);
    itest_logout(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_relogin_with_same_isid_finds_registration_and_reservation_after_logout,
                                        prit_setup, prit_teardown),
        cmocka_unit_test_setup_teardown(test_relogin_after_connection_loss_keeps_registration, prit_setup,
                                        prit_teardown),
        cmocka_unit_test_setup_teardown(test_new_isid_from_same_name_is_an_unregistered_nexus_that_conflicts,
                                        prit_setup, prit_teardown),
        cmocka_unit_test_setup_teardown(test_lun_reset_keeps_registrations_and_reservation, prit_setup,
                                        prit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
