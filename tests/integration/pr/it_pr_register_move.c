/* REGISTER AND MOVE (SPC-4 5.13.8, 6.16.4) between initiators over libiscsi: the holder names another
 * initiator port by its iSCSI TransportID (format 01b, with the ISID) and a relative target port identifier.
 *
 *   A  (initiator-a, q1) --portal 1 (RTPI 1)--+
 *   B1 (initiator-b, q2) --portal 1 (RTPI 1)--+--> prtarget LU 0
 *   B2 (initiator-b, q2) --portal 2 (RTPI 2)--+      B1 and B2: same initiator port, different I_T nexuses
 *   C  (initiator-c, q3) --portal 2 (RTPI 2)--+
 */
#include "tests/integration/pr/pr_it.h"

#define KEY_A 0xaaaa0001ull
#define KEY_B 0xbbbb0002ull
#define KEY_C 0xcccc0003ull

/* The REGISTER AND MOVE parameter list (SPC-4 6.16.4) naming (iname, ISID qualifier q) on target port rtpi. */
static int register_and_move(struct iscsi_context *c, uint64_t key, uint64_t sa_key, bool unreg, uint16_t rtpi,
                             const char *iname, uint16_t q, struct prit_sense *s)
{
    uint8_t p[24 + 300] = { 0 };
    uint8_t isid[6];
    prit_isid(q, isid);
    size_t tlen = prit_tid(p + 24, sizeof(p) - 24, iname, isid);
    prit_be64(p, key);
    prit_be64(p + 8, sa_key);
    p[17] = unreg ? 0x02 : 0x00;
    prit_be16(p + 18, rtpi);
    prit_be32(p + 20, (uint32_t)tlen);
    return prit_prout(c, 0x07, 1, p, (uint32_t)(24 + tlen), s);
}

static void test_register_and_move_registers_destination_nexus_moves_reservation_and_keeps_source(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *b1 = prit_login(pt, 0, ITEST_INAME_B, 4);
    struct iscsi_context *b2 = prit_login(pt, 1, ITEST_INAME_B, 2);
    assert_non_null(a);
    assert_non_null(b1);
    assert_non_null(b2);
    struct prit_sense s;
    uint32_t gen0, gen1;
    uint64_t keys[8], key;
    uint8_t type;

    assert_int_equal(prit_register(a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(a, KEY_A, 1), SCSI_STATUS_GOOD);
    assert_int_equal(prit_read_keys(a, &gen0, keys, 8), 1);

    /* SPC-4 5.13.8: the destination I_T nexus (initiator-b's port through target port 2) is registered with
     * the SERVICE ACTION RESERVATION KEY and becomes the holder; type and scope stay; UNREG=0 keeps the source
     * registered. PRgeneration counts the new registration (6.15.2). */
    assert_int_equal(register_and_move(a, KEY_A, KEY_B, false, 2, ITEST_INAME_B, 2, &s), SCSI_STATUS_GOOD);
    assert_true(prit_read_reservation(a, &key, &type));
    assert_true(key == KEY_B);
    assert_int_equal(type, 1);
    assert_int_equal(prit_read_keys(a, &gen1, keys, 8), 2);
    assert_int_equal(gen1, gen0 + 1);
    assert_true(prit_has_key(a, KEY_A));

    /* The move names one I_T nexus: B's port q2 through target port 2 holds, B's other port does not. */
    assert_int_equal(prit_write(b2, 3, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(b1, 3, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_write(a, 3, &s), SCSI_STATUS_RESERVATION_CONFLICT);

    struct prit_fs fs[8];
    char want[300];
    prit_tid_name(want, sizeof(want), ITEST_INAME_B, 2);
    int n = prit_full_status(a, fs, 8);
    assert_int_equal(n, 2);
    bool seen = false;
    for (int i = 0; i < n; i++) {
        if (fs[i].key == KEY_B) {
            assert_true(fs[i].holder);
            assert_int_equal(fs[i].rtpi, 2);
            assert_int_equal(fs[i].type, 1);
            assert_string_equal(fs[i].tid, want);
            seen = true;
        } else {
            assert_false(fs[i].holder);
        }
    }
    assert_true(seen);

    /* The new holder releases; only the source and B's port-2 nexus are registered. */
    assert_int_equal(prit_release(b2, KEY_B, 1), SCSI_STATUS_GOOD);
    assert_false(prit_read_reservation(a, NULL, NULL));
    itest_logout(a);
    itest_logout(b1);
    itest_logout(b2);
}

static void test_register_and_move_with_unreg_unregisters_the_source_nexus(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *c = prit_login(pt, 1, PRIT_INAME_C, 3);
    assert_non_null(a);
    assert_non_null(c);
    struct prit_sense s;
    uint64_t keys[8], key;

    assert_int_equal(prit_register(a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(a, KEY_A, 1), SCSI_STATUS_GOOD);
    /* SPC-4 6.16.4: UNREG=1 removes the registration of the I_T nexus that sent the command. */
    assert_int_equal(register_and_move(a, KEY_A, KEY_C, true, 2, PRIT_INAME_C, 3, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_read_keys(c, NULL, keys, 8), 1);
    assert_true(keys[0] == KEY_C);
    assert_true(prit_read_reservation(c, &key, NULL));
    assert_true(key == KEY_C);
    assert_int_equal(prit_write(c, 4, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(a, 4, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    /* SPC-4 5.13.7.2: the source is unregistered now, so its old key no longer identifies it. */
    assert_int_equal(prit_register(a, KEY_A, 0), SCSI_STATUS_RESERVATION_CONFLICT);
    itest_logout(a);
    itest_logout(c);
}

static void test_register_and_move_by_non_holder_or_without_reservation_is_refused(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *b = prit_login(pt, 1, ITEST_INAME_B, 2);
    assert_non_null(a);
    assert_non_null(b);
    struct prit_sense s;

    assert_int_equal(prit_register(a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(b, 0, KEY_B), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.8: with no persistent reservation there is nothing to move: INVALID FIELD IN CDB. */
    assert_int_equal(register_and_move(a, KEY_A, KEY_C, false, 2, PRIT_INAME_C, 3, &s), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(s.key, SCSI_SENSE_ILLEGAL_REQUEST);
    assert_int_equal(s.asc, 0x24);
    assert_int_equal(prit_reserve(a, KEY_A, 1), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.8: a registered nexus that does not hold the reservation gets RESERVATION CONFLICT. */
    assert_int_equal(register_and_move(b, KEY_B, KEY_C, false, 2, PRIT_INAME_C, 3, &s),
                     SCSI_STATUS_RESERVATION_CONFLICT);
    /* SPC-4 5.13.8: the holder naming itself as destination is an invalid field in the parameter list. */
    assert_int_equal(register_and_move(a, KEY_A, KEY_A, false, 1, ITEST_INAME_A, 1, &s), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(s.key, SCSI_SENSE_ILLEGAL_REQUEST);
    assert_int_equal(s.asc, 0x26);
    /* SPC-4 5.13.8: the same initiator port through the other target port is still the sender's own port. */
    assert_int_equal(register_and_move(a, KEY_A, KEY_A, false, 2, ITEST_INAME_A, 1, &s), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(s.key, SCSI_SENSE_ILLEGAL_REQUEST);
    assert_int_equal(s.asc, 0x26);
    /* A relative target port that does not exist is an invalid field too; nothing moved. */
    assert_int_equal(register_and_move(a, KEY_A, KEY_C, false, 3, PRIT_INAME_C, 3, &s), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(s.asc, 0x26);
    uint64_t key;
    assert_true(prit_read_reservation(b, &key, NULL));
    assert_true(key == KEY_A);
    itest_logout(a);
    itest_logout(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_register_and_move_registers_destination_nexus_moves_reservation_and_keeps_source, prit_setup,
            prit_teardown),
        cmocka_unit_test_setup_teardown(test_register_and_move_with_unreg_unregisters_the_source_nexus, prit_setup,
                                        prit_teardown),
        cmocka_unit_test_setup_teardown(test_register_and_move_by_non_holder_or_without_reservation_is_refused,
                                        prit_setup, prit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
