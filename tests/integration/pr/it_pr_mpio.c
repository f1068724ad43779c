/* MPIO: one initiator name with several paths. Every path is its own I_T nexus (SAM-5 4.6.4, RFC 7143 4.4.3:
 * initiator port = name + ISID, and the target port), so registrations, holder status and unit attentions are per
 * nexus. LIO's defects listed in /work/shared/peers.md (unit attentions per initiator name, a partial ISID compare
 * for the holder, the whole initiator unregistered when one path unregisters) must not appear.
 *
 *   P1 (initiator-a, q1) --portal 1 (RTPI 1)--+
 *   P2 (initiator-a, q2) --portal 2 (RTPI 2)--+--> prtarget LU 0
 *   B  (initiator-b, q1) --portal 1 (RTPI 1)--+
 *
 * q1 and q2 differ only in the last ISID byte, which a partial ISID compare would miss.
 */
#include "tests/integration/pr/pr_it.h"

#define KEY_P1 0x9101ull
#define KEY_P2 0x9202ull
#define KEY_B 0xb0b0ull

struct paths {
    struct iscsi_context *p1, *p2, *b;
};

static void paths_login(struct prit_target *pt, struct paths *p)
{
    p->p1 = prit_login(pt, 0, ITEST_INAME_A, 1);
    p->p2 = prit_login(pt, 1, ITEST_INAME_A, 2);
    p->b = prit_login(pt, 0, ITEST_INAME_B, 1);
    assert_non_null(p->p1);
    assert_non_null(p->p2);
    assert_non_null(p->b);
}

static void paths_logout(struct paths *p)
{
    itest_logout(p->p1);
    itest_logout(p->p2);
    itest_logout(p->b);
}

static void test_each_path_registers_separately(void **state)
{
    struct paths p;
    paths_login(*state, &p);
    /* SPC-4 5.13.7.2: P2 is not registered just because P1 (same name) is; it must register from key 0. */
    assert_int_equal(prit_register(p.p1, 0, KEY_P1), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(p.p2, KEY_P1, KEY_P2), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_register(p.p2, 0, KEY_P2), SCSI_STATUS_GOOD);
    uint64_t keys[8];
    assert_int_equal(prit_read_keys(p.b, NULL, keys, 8), 2);
    struct prit_fs fs[4];
    assert_int_equal(prit_full_status(p.b, fs, 4), 2);
    char t1[300], t2[300];
    prit_tid_name(t1, sizeof(t1), ITEST_INAME_A, 1);
    prit_tid_name(t2, sizeof(t2), ITEST_INAME_A, 2);
    for (int i = 0; i < 2; i++) {
        if (fs[i].key == KEY_P1) {
            assert_string_equal(fs[i].tid, t1);
            assert_int_equal(fs[i].rtpi, 1);
        } else {
            assert_true(fs[i].key == KEY_P2);
            assert_string_equal(fs[i].tid, t2);
            assert_int_equal(fs[i].rtpi, 2);
        }
    }
    paths_logout(&p);
}

static void test_holder_is_one_path_and_the_other_path_conflicts(void **state)
{
    struct paths p;
    paths_login(*state, &p);
    struct prit_sense s;
    assert_int_equal(prit_register(p.p1, 0, KEY_P1), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(p.p2, 0, KEY_P2), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(p.p1, KEY_P1, 3), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.1 Table 63: Exclusive Access holds for the holder's I_T nexus only; the other path of the same
     * initiator is a registered non-holder and conflicts (the ISIDs differ in their last byte only). */
    assert_int_equal(prit_write(p.p1, 11, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(p.p2, 11, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_read(p.p2, 11, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    /* SPC-4 5.13.9: the other path cannot take the reservation either, and RELEASE from it changes nothing. */
    assert_int_equal(prit_reserve(p.p2, KEY_P2, 3), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_release(p.p2, KEY_P2, 3), SCSI_STATUS_GOOD);
    uint64_t key;
    assert_true(prit_read_reservation(p.b, &key, NULL));
    assert_true(key == KEY_P1);
    paths_logout(&p);
}

static void test_unregistering_one_path_leaves_the_other_registered(void **state)
{
    struct paths p;
    paths_login(*state, &p);
    struct prit_sense s;
    assert_int_equal(prit_register(p.p1, 0, KEY_P1), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(p.p2, 0, KEY_P2), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(p.b, 0, KEY_B), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(p.b, KEY_B, 5), SCSI_STATUS_GOOD);
    /* Write Exclusive - Registrants Only: both paths write while registered. */
    assert_int_equal(prit_write(p.p1, 12, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(p.p2, 12, &s), SCSI_STATUS_GOOD);
    /* P1 unregisters: P2 stays registered and keeps its access (LIO drops the whole initiator). */
    assert_int_equal(prit_register(p.p1, KEY_P1, 0), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(p.p1, 12, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_write(p.p2, 12, &s), SCSI_STATUS_GOOD);
    assert_true(prit_has_key(p.b, KEY_P2));
    assert_false(prit_has_key(p.b, KEY_P1));
    paths_logout(&p);
}

static void test_unit_attentions_go_to_the_preempted_path_only(void **state)
{
    struct paths p;
    paths_login(*state, &p);
    struct prit_sense s;
    assert_int_equal(prit_register(p.p1, 0, KEY_P1), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(p.p2, 0, KEY_P2), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(p.b, 0, KEY_B), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(p.p1, KEY_P1, 1), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.11.2.4.3: B preempts P1 (same type): P1 gets REGISTRATIONS PREEMPTED; P2, the same initiator
     * name on another path, keeps its registration and gets no unit attention (LIO keys UAs by name). */
    assert_int_equal(prit_prout_basic(p.b, 0x04, 1, KEY_B, KEY_P1, 0, &s), SCSI_STATUS_GOOD);
    prit_assert_ua_once(p.p1, 0x2a, 0x05);
    prit_assert_no_ua(p.p2);
    assert_true(prit_has_key(p.p2, KEY_P2));
    assert_false(prit_has_key(p.p2, KEY_P1));

    /* Now the other way round: releasing a Registrants Only reservation tells P2 but not the unregistered P1. */
    assert_int_equal(prit_release(p.b, KEY_B, 1), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(p.b, KEY_B, 6), SCSI_STATUS_GOOD);
    assert_int_equal(prit_release(p.b, KEY_B, 6), SCSI_STATUS_GOOD);
    prit_assert_ua_once(p.p2, 0x2a, 0x04);
    prit_assert_no_ua(p.p1);
    paths_logout(&p);
}

static void test_same_isid_through_two_portals_is_two_nexuses_and_two_sessions(void **state)
{
    struct prit_target *pt = *state;
    /* RFC 7143 4.4.3: a session is identified by the initiator name, the ISID and the target portal group, so
     * logging in with the same ISID through the other portal group opens a second session (no reinstatement)
     * and, in SCSI terms, a second I_T nexus (same initiator port, other target port). */
    struct iscsi_context *p1 = prit_login(pt, 0, ITEST_INAME_A, 1);
    assert_non_null(p1);
    assert_int_equal(prit_register(p1, 0, KEY_P1), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(p1, KEY_P1, 3), SCSI_STATUS_GOOD);
    struct iscsi_context *p1b = prit_login(pt, 1, ITEST_INAME_A, 1);
    assert_non_null(p1b);
    struct prit_sense s;
    /* The first session must still be there: its next command sees no unit attention (a reinstated session
     * would have been reconnected by libiscsi and report 29h/00h or 29h/07h). */
    prit_assert_no_ua(p1);
    assert_int_equal(prit_write(p1, 13, &s), SCSI_STATUS_GOOD);
    /* The second nexus is unregistered and conflicts under Exclusive Access. */
    assert_int_equal(prit_write(p1b, 13, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_register(p1b, 0, KEY_P2), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(p1b, 13, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    itest_logout(p1);
    itest_logout(p1b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_path_registers_separately, prit_setup, prit_teardown),
        cmocka_unit_test_setup_teardown(test_holder_is_one_path_and_the_other_path_conflicts, prit_setup,
                                        prit_teardown),
        cmocka_unit_test_setup_teardown(test_unregistering_one_path_leaves_the_other_registered, prit_setup,
                                        prit_teardown),
        cmocka_unit_test_setup_teardown(test_unit_attentions_go_to_the_preempted_path_only, prit_setup,
                                        prit_teardown),
        cmocka_unit_test_setup_teardown(test_same_isid_through_two_portals_is_two_nexuses_and_two_sessions,
                                        prit_setup, prit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
