/* ALL_TG_PT across the two portals of one target (SPC-4 6.16.3, 6.15.5): a REGISTER with ALL_TG_PT=1 registers
 * the initiator port on every target port of the device, so the registration is visible and effective through
 * both portals; READ FULL STATUS describes it per I_T nexus.
 *
 *   A@1 (initiator-a, q1) --portal 1 (RTPI 1)--+
 *   A@2 (initiator-a, q1) --portal 2 (RTPI 2)--+--> prtarget LU 0   (one initiator port, two I_T nexuses;
 *   B   (initiator-b, q1) --portal 2 (RTPI 2)--+                      A@1 and A@2 are logged in one at a time)
 */
#include "tests/integration/pr/pr_it.h"

#define KEY_A 0xa117a117ull

static void test_all_tg_pt_registration_is_effective_through_the_other_portal(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a1 = prit_login(pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *b = prit_login(pt, 1, ITEST_INAME_B, 1);
    assert_non_null(a1);
    assert_non_null(b);
    struct prit_sense s;
    uint64_t keys[8];
    uint32_t gen;

    /* SPC-4 6.16.3: ALL_TG_PT=1 applies the registration to the initiator port on every target port; one
     * REGISTER is one PRgeneration step. */
    assert_int_equal(prit_prout_basic(a1, 0x00, 0, 0, KEY_A, PRIT_ALL_TG_PT, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_read_keys(b, &gen, keys, 8), 2);
    assert_int_equal(gen, 1);
    assert_true(keys[0] == KEY_A && keys[1] == KEY_A);
    itest_logout(a1);

    struct iscsi_context *a2 = prit_login(pt, 1, ITEST_INAME_A, 1);
    assert_non_null(a2);
    /* Through portal 2 the nexus is registered: RESERVE with the key works and makes A@2 the holder. */
    assert_int_equal(prit_reserve(a2, KEY_A, 1), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(a2, 10, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(b, 10, &s), SCSI_STATUS_RESERVATION_CONFLICT);

    /* SPC-4 6.15.5: one descriptor per I_T nexus with ALL_TG_PT=0 and a meaningful RTPI; R_HOLDER only on the
     * nexus that reserved. A combined ALL_TG_PT=1 descriptor would have to claim that every nexus it stands
     * for holds the reservation, which is false for a Write Exclusive reservation made through one port. */
    struct prit_fs fs[8];
    char want[300];
    prit_tid_name(want, sizeof(want), ITEST_INAME_A, 1);
    assert_int_equal(prit_full_status(b, fs, 8), 2);
    bool seen1 = false, seen2 = false;
    for (int i = 0; i < 2; i++) {
        assert_false(fs[i].all_tg_pt);
        assert_true(fs[i].key == KEY_A);
        assert_int_equal(fs[i].tid_fmt, 1);
        assert_string_equal(fs[i].tid, want);
        if (fs[i].rtpi == 1) {
            seen1 = true;
            assert_false(fs[i].holder);
        } else {
            assert_int_equal(fs[i].rtpi, 2);
            seen2 = true;
            assert_true(fs[i].holder);
            assert_int_equal(fs[i].type, 1);
        }
    }
    assert_true(seen1 && seen2);
    itest_logout(a2);

    /* Back through portal 1: registered, but not the holder of this Write Exclusive reservation. */
    a1 = prit_login(pt, 0, ITEST_INAME_A, 1);
    assert_non_null(a1);
    assert_int_equal(prit_write(a1, 10, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_read(a1, 10, &s), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.7.2: the registration through port 1 carries the same key. */
    assert_int_equal(prit_register(a1, KEY_A, KEY_A), SCSI_STATUS_GOOD);
    itest_logout(a1);
    itest_logout(b);
}

static void test_unregistering_through_one_portal_leaves_the_other_nexus_registered(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a1 = prit_login(pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *b = prit_login(pt, 1, ITEST_INAME_B, 1);
    assert_non_null(a1);
    assert_non_null(b);
    struct prit_sense s;
    uint64_t keys[8];

    assert_int_equal(prit_prout_basic(a1, 0x00, 0, 0, KEY_A, PRIT_ALL_TG_PT, &s), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.7.2: unregistering applies to the I_T nexus the command came through. */
    assert_int_equal(prit_register(a1, KEY_A, 0), SCSI_STATUS_GOOD);
    assert_int_equal(prit_read_keys(b, NULL, keys, 8), 1);
    struct prit_fs fs[4];
    assert_int_equal(prit_full_status(b, fs, 4), 1);
    assert_int_equal(fs[0].rtpi, 2);
    itest_logout(a1);
    itest_logout(b);
}

static void test_register_and_ignore_existing_key_with_all_tg_pt_registers_every_target_port(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a1 = prit_login(pt, 0, ITEST_INAME_A, 1);
    assert_non_null(a1);
    struct prit_sense s;
    /* SPC-4 6.16.3: ALL_TG_PT is valid for REGISTER and REGISTER AND IGNORE EXISTING KEY; with REGISTER AND
     * IGNORE EXISTING KEY from an unregistered nexus it registers every target port as well. */
    assert_int_equal(prit_prout_basic(a1, 0x06, 0, 0, KEY_A, PRIT_ALL_TG_PT, &s), SCSI_STATUS_GOOD);
    uint64_t keys[8];
    assert_int_equal(prit_read_keys(a1, NULL, keys, 8), 2);
    itest_logout(a1);
}

static void test_truncated_read_full_status_and_read_keys_report_the_full_additional_length(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a1 = prit_login(pt, 0, ITEST_INAME_A, 1);
    assert_non_null(a1);
    struct prit_sense s;
    assert_int_equal(prit_prout_basic(a1, 0x00, 0, 0, KEY_A, PRIT_ALL_TG_PT, &s), SCSI_STATUS_GOOD);
    uint8_t full[1024], cut[16];
    uint32_t full_len = 0, cut_len = 0;
    assert_int_equal(prit_prin(a1, 0x03, full, sizeof(full), &full_len), SCSI_STATUS_GOOD);
    /* Two descriptors of 24 bytes plus a TransportID each. */
    assert_true(full_len > 8 + 2 * 24);
    assert_int_equal(prit_get32(full + 4), full_len - 8);
    /* SPC-4 6.15.1: the allocation length cuts the transfer, never the ADDITIONAL LENGTH (LIO reports the
     * truncated size here). */
    assert_int_equal(prit_prin(a1, 0x03, cut, sizeof(cut), &cut_len), SCSI_STATUS_GOOD);
    assert_int_equal(cut_len, sizeof(cut));
    assert_int_equal(prit_get32(cut + 4), full_len - 8);
    assert_memory_equal(cut, full, sizeof(cut));
    assert_int_equal(prit_prin(a1, 0x00, cut, 8, &cut_len), SCSI_STATUS_GOOD);
    assert_int_equal(cut_len, 8);
    assert_int_equal(prit_get32(cut + 4), 16);
    itest_logout(a1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_all_tg_pt_registration_is_effective_through_the_other_portal,
                                        prit_setup, prit_teardown),
        cmocka_unit_test_setup_teardown(test_unregistering_through_one_portal_leaves_the_other_nexus_registered,
                                        prit_setup, prit_teardown),
        cmocka_unit_test_setup_teardown(test_register_and_ignore_existing_key_with_all_tg_pt_registers_every_target_port,
                                        prit_setup, prit_teardown),
        cmocka_unit_test_setup_teardown(
            test_truncated_read_full_status_and_read_keys_report_the_full_additional_length, prit_setup,
            prit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
