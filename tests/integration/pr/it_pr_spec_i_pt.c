/* REGISTER with SPEC_I_PT (SPC-4 6.16.3, 7.6.4.6) over libiscsi: one command registers the sender and every
 * initiator port its TransportID list names, all or nothing.
 *
 *   A (initiator-a, q1) --portal 1 (RTPI 1)--+
 *   B (initiator-b, q2) --portal 1 (RTPI 1)--+--> prtarget LU 0
 *   C (initiator-c, q3) --portal 1 / 2 ------+   (C logs in only after the registration in the name-only test)
 */
#include "tests/integration/pr/pr_it.h"

#define KEY 0x5be1ull

/* REGISTER with SPEC_I_PT (and flags) carrying the TransportIDs tids (tlen bytes). */
static int register_spec(struct iscsi_context *c, uint64_t sa_key, uint8_t flags, const uint8_t *tids, size_t tlen,
                         struct prit_sense *s)
{
    uint8_t p[28 + 1024] = { 0 };
    prit_be64(p + 8, sa_key);
    p[20] = (uint8_t)(PRIT_SPEC_I_PT | flags);
    prit_be32(p + 24, (uint32_t)tlen);
    memcpy(p + 28, tids, tlen);
    return prit_prout(c, 0x00, 0, p, (uint32_t)(28 + tlen), s);
}

static void test_spec_i_pt_registers_sender_and_listed_ports_on_the_receiving_target_port(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *b = prit_login(pt, 0, ITEST_INAME_B, 2);
    assert_non_null(a);
    assert_non_null(b);
    struct prit_sense s;
    uint8_t tids[512], isid_b[6], isid_c[6];
    prit_isid(2, isid_b);
    prit_isid(3, isid_c);
    size_t n = prit_tid(tids, sizeof(tids), ITEST_INAME_B, isid_b);
    n += prit_tid(tids + n, sizeof(tids) - n, PRIT_INAME_C, isid_c);

    assert_int_equal(register_spec(a, KEY, 0, tids, n, &s), SCSI_STATUS_GOOD);
    /* SPC-4 6.16.3: A, B and C (not logged in yet) through target port 1: three registrations, one step. */
    uint32_t gen;
    uint64_t keys[8];
    assert_int_equal(prit_read_keys(b, &gen, keys, 8), 3);
    assert_int_equal(gen, 1);
    /* B is registered with the key without having sent a command of its own. */
    assert_int_equal(prit_register(b, KEY, KEY + 2), SCSI_STATUS_GOOD);
    struct iscsi_context *c1 = prit_login(pt, 0, PRIT_INAME_C, 3);
    struct iscsi_context *c2 = prit_login(pt, 1, PRIT_INAME_C, 4);
    assert_non_null(c1);
    assert_non_null(c2);
    assert_int_equal(prit_reserve(c1, KEY, 5), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(c1, 20, &s), SCSI_STATUS_GOOD);
    /* Another port of C through target port 2 was not named: unregistered, conflicts. */
    assert_int_equal(prit_write(c2, 20, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    itest_logout(a);
    itest_logout(b);
    itest_logout(c1);
    itest_logout(c2);
}

static void test_spec_i_pt_with_a_bad_transport_id_registers_nobody(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *b = prit_login(pt, 0, ITEST_INAME_B, 2);
    assert_non_null(a);
    assert_non_null(b);
    struct prit_sense s;
    uint8_t tids[512], isid_b[6];
    prit_isid(2, isid_b);
    size_t good = prit_tid(tids, sizeof(tids), ITEST_INAME_B, isid_b);
    /* The second TransportID says Fibre Channel (protocol identifier 0), which an iSCSI port cannot be. */
    size_t n = good + prit_tid(tids + good, sizeof(tids) - good, PRIT_INAME_C, NULL);
    tids[good] = 0x00;

    /* SPC-4 6.16.3: the whole command fails with INVALID FIELD IN PARAMETER LIST and registers nobody, not
     * even the sender or the valid TransportID before the bad one. */
    assert_int_equal(register_spec(a, KEY, 0, tids, n, &s), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(s.key, SCSI_SENSE_ILLEGAL_REQUEST);
    assert_int_equal(s.asc, 0x26);
    assert_int_equal(s.ascq, 0x00);
    uint32_t gen;
    uint64_t keys[8];
    assert_int_equal(prit_read_keys(b, &gen, keys, 8), 0);
    assert_int_equal(gen, 0);

    /* A TransportID list whose length disagrees with the parameter list is a PARAMETER LIST LENGTH ERROR. */
    uint8_t p[28 + 64] = { 0 };
    prit_be64(p + 8, KEY);
    p[20] = PRIT_SPEC_I_PT;
    prit_be32(p + 24, 60);
    memcpy(p + 28, tids, 24);
    assert_int_equal(prit_prout(a, 0x00, 0, p, 28 + 24, &s), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(s.asc, 0x1a);
    assert_int_equal(prit_read_keys(b, NULL, keys, 8), 0);

    /* The same list without the bad TransportID works. */
    assert_int_equal(register_spec(a, KEY, 0, tids, good, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_read_keys(b, NULL, keys, 8), 2);
    itest_logout(a);
    itest_logout(b);
}

static void test_spec_i_pt_name_only_transport_id_registers_every_port_of_that_initiator(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *b2 = prit_login(pt, 0, ITEST_INAME_B, 2);
    assert_non_null(a);
    assert_non_null(b2);
    struct prit_sense s;
    uint8_t tids[512];
    size_t n = prit_tid(tids, sizeof(tids), ITEST_INAME_B, NULL);
    n += prit_tid(tids + n, sizeof(tids) - n, PRIT_INAME_C, NULL);

    /* SPC-4 7.6.4.6: format 00b names the iSCSI initiator device. initiator-b has one port logged in (q2) and
     * initiator-c none; both names are accepted, the port seen so far is registered at once... */
    assert_int_equal(register_spec(a, KEY, PRIT_ALL_TG_PT, tids, n, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(b2, 21, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(a, KEY, 5), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(b2, 21, &s), SCSI_STATUS_GOOD);
    /* ...and ports that log in later, through either target port (ALL_TG_PT=1), are registered too. */
    struct iscsi_context *b5 = prit_login(pt, 1, ITEST_INAME_B, 5);
    struct iscsi_context *c = prit_login(pt, 1, PRIT_INAME_C, 6);
    struct iscsi_context *other = prit_login(pt, 1, ITEST_INAME_A, 7);
    assert_non_null(b5);
    assert_non_null(c);
    assert_non_null(other);
    assert_int_equal(prit_write(b5, 21, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(c, 21, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(c, KEY, KEY), SCSI_STATUS_GOOD);
    /* A port of a device the list did not name stays unregistered. */
    assert_int_equal(prit_write(other, 21, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    itest_logout(a);
    itest_logout(b2);
    itest_logout(b5);
    itest_logout(c);
    itest_logout(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_spec_i_pt_registers_sender_and_listed_ports_on_the_receiving_target_port, prit_setup,
            prit_teardown),
        cmocka_unit_test_setup_teardown(test_spec_i_pt_with_a_bad_transport_id_registers_nobody, prit_setup,
                                        prit_teardown),
        cmocka_unit_test_setup_teardown(test_spec_i_pt_name_only_transport_id_registers_every_port_of_that_initiator,
                                        prit_setup, prit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
