/* Unit attentions of persistent reservations (SPC-4 5.13.6 and the service action clauses): RESERVATIONS
 * RELEASED (2Ah/04h), RESERVATIONS PREEMPTED (2Ah/03h) and REGISTRATIONS PREEMPTED (2Ah/05h) go to exactly the
 * nexuses SPC-4 names, once each, and never to the nexus that caused them or to unregistered ones.
 *
 *   A (initiator-a, q1) --portal 1--+
 *   B (initiator-b, q1) --portal 2--+--> prtarget LU 0
 *   C (initiator-c, q1) --portal 1--+     (C stays unregistered unless a test says otherwise)
 */
#include "tests/integration/pr/pr_it.h"

#define KEY_A 0xa0a0ull
#define KEY_B 0xb0b0ull
#define KEY_C 0xc0c0ull

struct trio {
    struct iscsi_context *a, *b, *c;
};

static void trio_login(struct prit_target *pt, struct trio *t)
{
    t->a = prit_login(pt, 0, ITEST_INAME_A, 1);
    t->b = prit_login(pt, 1, ITEST_INAME_B, 1);
    t->c = prit_login(pt, 0, PRIT_INAME_C, 1);
    assert_non_null(t->a);
    assert_non_null(t->b);
    assert_non_null(t->c);
}

static void trio_logout(struct trio *t)
{
    itest_logout(t->a);
    itest_logout(t->b);
    itest_logout(t->c);
}

static void test_release_of_registrants_only_reservation_tells_other_registrants_released(void **state)
{
    struct trio t;
    trio_login(*state, &t);
    assert_int_equal(prit_register(t.a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(t.b, 0, KEY_B), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(t.a, KEY_A, 5), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.11.2.2: releasing a Registrants Only reservation raises RESERVATIONS RELEASED for every
     * registered nexus except the releaser; C is not registered and hears nothing. */
    assert_int_equal(prit_release(t.a, KEY_A, 5), SCSI_STATUS_GOOD);
    prit_assert_ua_once(t.b, 0x2a, 0x04);
    prit_assert_no_ua(t.a);
    prit_assert_no_ua(t.c);
    trio_logout(&t);
}

static void test_release_of_write_exclusive_or_exclusive_access_raises_no_unit_attention(void **state)
{
    struct trio t;
    trio_login(*state, &t);
    assert_int_equal(prit_register(t.a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(t.b, 0, KEY_B), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.11.2.2: Write Exclusive and Exclusive Access releases are silent (tgt tells everybody). */
    for (uint8_t type = 1; type <= 3; type += 2) {
        assert_int_equal(prit_reserve(t.a, KEY_A, type), SCSI_STATUS_GOOD);
        assert_int_equal(prit_release(t.a, KEY_A, type), SCSI_STATUS_GOOD);
        prit_assert_no_ua(t.b);
        prit_assert_no_ua(t.c);
    }
    trio_logout(&t);
}

static void test_release_of_all_registrants_reservation_by_any_registrant_tells_the_others(void **state)
{
    struct trio t;
    trio_login(*state, &t);
    assert_int_equal(prit_register(t.a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(t.b, 0, KEY_B), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(t.c, 0, KEY_C), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(t.a, KEY_A, 8), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.10: under All Registrants every registrant holds the reservation and may release it. */
    assert_int_equal(prit_release(t.b, KEY_B, 8), SCSI_STATUS_GOOD);
    prit_assert_ua_once(t.a, 0x2a, 0x04);
    prit_assert_ua_once(t.c, 0x2a, 0x04);
    prit_assert_no_ua(t.b);
    trio_logout(&t);
}

static void test_preempt_of_holder_tells_preempted_registrations_preempted_and_nobody_else(void **state)
{
    struct trio t;
    trio_login(*state, &t);
    struct prit_sense s;
    assert_int_equal(prit_register(t.a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(t.b, 0, KEY_B), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(t.a, KEY_A, 1), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.11.2.4.3: B preempts A with the same type: A's registration goes, A is told REGISTRATIONS
     * PREEMPTED (tgt says 2Ah/03h here), the issuer and the unregistered C are told nothing. */
    assert_int_equal(prit_prout_basic(t.b, 0x04, 1, KEY_B, KEY_A, 0, &s), SCSI_STATUS_GOOD);
    prit_assert_ua_once(t.a, 0x2a, 0x05);
    prit_assert_no_ua(t.b);
    prit_assert_no_ua(t.c);
    assert_false(prit_has_key(t.b, KEY_A));
    uint64_t key;
    assert_true(prit_read_reservation(t.c, &key, NULL));
    assert_true(key == KEY_B);
    trio_logout(&t);
}

static void test_preempt_with_type_change_tells_remaining_registrants_released(void **state)
{
    struct trio t;
    trio_login(*state, &t);
    struct prit_sense s;
    assert_int_equal(prit_register(t.a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(t.b, 0, KEY_B), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(t.c, 0, KEY_C), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(t.a, KEY_A, 1), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.11.2.4.3: the preempted holder gets 2Ah/05h; because the type changes (1 -> 3), every other
     * registrant that kept its registration gets RESERVATIONS RELEASED; each nexus hears exactly one. */
    assert_int_equal(prit_prout_basic(t.b, 0x04, 3, KEY_B, KEY_A, 0, &s), SCSI_STATUS_GOOD);
    prit_assert_ua_once(t.a, 0x2a, 0x05);
    prit_assert_ua_once(t.c, 0x2a, 0x04);
    prit_assert_no_ua(t.b);
    trio_logout(&t);
}

static void test_preempt_without_reservation_removes_registration_with_registrations_preempted(void **state)
{
    struct trio t;
    trio_login(*state, &t);
    struct prit_sense s;
    uint32_t g0, g1;
    uint64_t keys[8];
    assert_int_equal(prit_register(t.a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(t.b, 0, KEY_B), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(t.c, 0, KEY_C), SCSI_STATUS_GOOD);
    assert_int_equal(prit_read_keys(t.a, &g0, keys, 8), 3);
    /* SPC-4 5.13.11.2.5: with no reservation, PREEMPT removes the registrations with the key, tells their nexus
     * REGISTRATIONS PREEMPTED and adds one to PRgeneration. */
    assert_int_equal(prit_prout_basic(t.b, 0x04, 0, KEY_B, KEY_C, 0, &s), SCSI_STATUS_GOOD);
    prit_assert_ua_once(t.c, 0x2a, 0x05);
    prit_assert_no_ua(t.a);
    prit_assert_no_ua(t.b);
    assert_int_equal(prit_read_keys(t.a, &g1, keys, 8), 2);
    assert_int_equal(g1, g0 + 1);
    trio_logout(&t);
}

static void test_clear_tells_every_other_registrant_reservations_preempted(void **state)
{
    struct trio t;
    trio_login(*state, &t);
    struct prit_sense s;
    assert_int_equal(prit_register(t.a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(t.b, 0, KEY_B), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(t.b, KEY_B, 6), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.11.2.7: CLEAR from A: B (registered, holder) gets RESERVATIONS PREEMPTED; C never registered. */
    assert_int_equal(prit_prout_basic(t.a, 0x03, 0, KEY_A, 0, 0, &s), SCSI_STATUS_GOOD);
    prit_assert_ua_once(t.b, 0x2a, 0x03);
    prit_assert_no_ua(t.a);
    prit_assert_no_ua(t.c);
    trio_logout(&t);
}

static void test_pending_unit_attention_is_reported_on_the_next_command_whatever_it_is(void **state)
{
    struct trio t;
    trio_login(*state, &t);
    struct prit_sense s;
    assert_int_equal(prit_register(t.a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(t.b, 0, KEY_B), SCSI_STATUS_GOOD);
    assert_int_equal(prit_prout_basic(t.a, 0x03, 0, KEY_A, 0, 0, &s), SCSI_STATUS_GOOD);
    /* SAM-5 5.14: the first command after the event (here a WRITE) reports the condition and is not executed;
     * the condition is then cleared and the retry succeeds. */
    assert_int_equal(prit_write(t.b, 9, &s), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(s.key, SCSI_SENSE_UNIT_ATTENTION);
    assert_int_equal(s.asc, 0x2a);
    assert_int_equal(s.ascq, 0x03);
    assert_int_equal(prit_write(t.b, 9, &s), SCSI_STATUS_GOOD);
    trio_logout(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_release_of_registrants_only_reservation_tells_other_registrants_released, prit_setup,
            prit_teardown),
        cmocka_unit_test_setup_teardown(
            test_release_of_write_exclusive_or_exclusive_access_raises_no_unit_attention, prit_setup,
            prit_teardown),
        cmocka_unit_test_setup_teardown(
            test_release_of_all_registrants_reservation_by_any_registrant_tells_the_others, prit_setup,
            prit_teardown),
        cmocka_unit_test_setup_teardown(
            test_preempt_of_holder_tells_preempted_registrations_preempted_and_nobody_else, prit_setup,
            prit_teardown),
        cmocka_unit_test_setup_teardown(test_preempt_with_type_change_tells_remaining_registrants_released,
                                        prit_setup, prit_teardown),
        cmocka_unit_test_setup_teardown(
            test_preempt_without_reservation_removes_registration_with_registrations_preempted, prit_setup,
            prit_teardown),
        cmocka_unit_test_setup_teardown(test_clear_tells_every_other_registrant_reservations_preempted,
                                        prit_setup, prit_teardown),
        cmocka_unit_test_setup_teardown(test_pending_unit_attention_is_reported_on_the_next_command_whatever_it_is,
                                        prit_setup, prit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
