/* Unit tests for target/dispatch.c: the order of checks every command goes through. */
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

/* Register key on nexus nx and reserve with type. */
static void pr_register_reserve(struct fx *f, struct tgt_nexus *nx, uint64_t key, uint8_t type)
{
    struct tgt_cmd c;
    uint8_t reg[10] = { 0x5f, 0x00, 0x00, 0, 0, 0, 0, 0, 24, 0 };
    uint8_t res[10] = { 0x5f, 0x01, 0x00, 0, 0, 0, 0, 0, 24, 0 };

    memset(f->buf, 0, 24);
    prt_put_be64(f->buf + 8, key);
    fx_run(f, &c, nx, 0, reg, 10, 24, 24);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    res[2] = type;
    memset(f->buf, 0, 24);
    prt_put_be64(f->buf, key);
    fx_run(f, &c, nx, 0, res, 10, 24, 24);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
}

static void test_inquiry_on_missing_lun_reports_qualifier_011b(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t cdb[6] = { 0x12, 0, 0, 0, 96, 0 };

    fx_run(f, &c, f->a, 5, cdb, 6, 0, 96);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_true(c.din_len >= 36);
    assert_int_equal(fx_din(&c)[0], 0x7f);
}

static void test_report_luns_and_request_sense_work_on_missing_lun(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t rl[12] = { 0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
    const uint8_t rs[6] = { 0x03, 0, 0, 0, 18, 0 };

    fx_run(f, &c, f->a, 7, rl, 12, 0, 256);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(prt_get_be32(fx_din(&c)), 8); /* one LU */
    fx_run(f, &c, f->a, 7, rs, 6, 0, 18);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(fx_din(&c)[2] & 0xf, TGT_SK_ILLEGAL_REQUEST);
    assert_int_equal(fx_din(&c)[12], 0x25);
}

static void test_other_commands_on_missing_lun_get_lun_not_supported(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t tur[6] = { 0x00 };
    const uint8_t bogus[6] = { 0xff };

    fx_run(f, &c, f->a, 1, tur, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x25, 0x00);
    /* The LU check comes before the opcode check. */
    fx_run(f, &c, f->a, 1, bogus, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x25, 0x00);
}

static void test_unknown_opcode_is_invalid_command_operation_code(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t cdb[6] = { 0x02 };

    fx_run(f, &c, f->a, 0, cdb, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x20, 0x00);
}

static void test_unknown_service_action_points_at_sa_field(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t cdb[16] = { 0x9e, 0x1f };

    fx_run(f, &c, f->a, 0, cdb, 16, 0, 32);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    fx_assert_field(&c, true, 1, 4);
}

static void test_stray_cdb_bit_gives_field_pointer_to_first_offending_bit(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    /* READ(10) with RDPROTECT=001b (byte 1 bit 5) and a reserved bit in byte 6 (bit 6). */
    uint8_t cdb[10] = { 0x28, 0x20, 0, 0, 0, 0, 0x40, 0, 1, 0 };

    fx_run(f, &c, f->a, 0, cdb, 10, 0, 512);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    fx_assert_field(&c, true, 1, 5);
    cdb[1] = 0;
    fx_run(f, &c, f->a, 0, cdb, 10, 0, 512);
    fx_assert_field(&c, true, 6, 6);
}

static void test_naca_in_control_byte_is_rejected(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t cdb[6] = { 0x00, 0, 0, 0, 0, 0x04 };

    fx_run(f, &c, f->a, 0, cdb, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    fx_assert_field(&c, true, 5, 2);
}

static void test_unit_attention_is_reported_before_reservation_conflict(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t rd[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

    pr_register_reserve(f, f->a, 0xabc, 3 /* Exclusive Access */);
    tgt_ua_raise(tgt_server_lu(f->srv, 0), tgt_nexus_id(f->b), 0x2a, 0x01);
    fx_run(f, &c, f->b, 0, rd, 10, 0, 512);
    fx_assert_sense(&c, TGT_SK_UNIT_ATTENTION, 0x2a, 0x01);
    /* The UA was cleared by being reported; now the reservation speaks. */
    fx_run(f, &c, f->b, 0, rd, 10, 0, 512);
    assert_int_equal(c.status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(c.sense_len, 0);
}

static void test_reservation_conflict_stops_the_command_before_its_handler(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t wr[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
    const uint8_t rd[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

    pr_register_reserve(f, f->a, 0xabc, 1 /* Write Exclusive */);
    memset(f->buf, 0x5a, 512);
    fx_run(f, &c, f->b, 0, wr, 10, 512, 512);
    assert_int_equal(c.status, TGT_STATUS_RESERVATION_CONFLICT);
    /* Write Exclusive lets B read, and what it reads was never written. */
    fx_run(f, &c, f->b, 0, rd, 10, 0, 512);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(fx_din(&c)[0], 0);
    /* INQUIRY never conflicts. */
    {
        const uint8_t inq[6] = { 0x12, 0, 0, 0, 36, 0 };

        fx_run(f, &c, f->b, 0, inq, 6, 0, 36);
        assert_int_equal(c.status, TGT_STATUS_GOOD);
    }
}

static void test_inquiry_does_not_report_or_clear_unit_attention(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t inq[6] = { 0x12, 0, 0, 0, 36, 0 };
    const uint8_t tur[6] = { 0 };

    tgt_ua_raise(tgt_server_lu(f->srv, 0), tgt_nexus_id(f->a), 0x29, 0x03);
    fx_run(f, &c, f->a, 0, inq, 6, 0, 36);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    fx_run(f, &c, f->a, 0, tur, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_UNIT_ATTENTION, 0x29, 0x03);
    fx_run(f, &c, f->a, 0, tur, 6, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
}

static void test_completed_commands_leave_no_task_and_no_in_flight_count(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t rd[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0 };

    fx_run(f, &c, f->a, 0, rd, 10, 0, 4096);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(tgt_nexus_cmds_in_flight(f->a), 0);
    assert_null(tgt_server_lu(f->srv, 0)->ts_head);
    assert_false(c.aborted);
}

static void test_write_to_read_only_lu_is_data_protect(void **state)
{
    struct fx *f = fx_new(1u << 20, 512, true);
    struct tgt_cmd c;
    const uint8_t wr[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

    (void)state;
    fx_clear_ua(f);
    fx_run(f, &c, f->a, 0, wr, 10, 512, 512);
    fx_assert_sense(&c, TGT_SK_DATA_PROTECT, 0x27, 0x00);
    fx_free(f);
}

static unsigned held_abort_record(void *ctx, uint32_t itn, uint64_t lun, bool tas)
{
    uint64_t *rec = ctx;

    rec[0]++;
    rec[1] = itn;
    rec[2] = lun;
    rec[3] = tas;
    return 1;
}

static void test_preempt_and_abort_also_ends_the_preempted_nexus_writes_held_by_the_transport(void **state)
{
    struct fx *f = *state;
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);
    uint64_t rec[4] = { 0 };

    tgt_server_set_held_abort(f->srv, held_abort_record, rec);
    tgt_lu_abort_nexus_tasks(lu, tgt_nexus_id(f->b), NULL);
    assert_true(rec[0] == 1);
    assert_true(rec[1] == tgt_nexus_id(f->b));
    assert_true(rec[2] == 0);
    assert_true(rec[3] == 1); /* TAS=1 by default: TASK ABORTED */
    lu->mode.tas = false;
    tgt_lu_abort_nexus_tasks(lu, tgt_nexus_id(f->b), NULL);
    assert_true(rec[0] == 2);
    assert_true(rec[3] == 0);
    /* Without a transport hook nothing is called. */
    tgt_server_set_held_abort(f->srv, NULL, rec);
    tgt_lu_abort_nexus_tasks(lu, tgt_nexus_id(f->b), NULL);
    assert_true(rec[0] == 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inquiry_on_missing_lun_reports_qualifier_011b, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preempt_and_abort_also_ends_the_preempted_nexus_writes_held_by_the_transport,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_luns_and_request_sense_work_on_missing_lun, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_commands_on_missing_lun_get_lun_not_supported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_opcode_is_invalid_command_operation_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_service_action_points_at_sa_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stray_cdb_bit_gives_field_pointer_to_first_offending_bit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_naca_in_control_byte_is_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unit_attention_is_reported_before_reservation_conflict, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reservation_conflict_stops_the_command_before_its_handler, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_inquiry_does_not_report_or_clear_unit_attention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_completed_commands_leave_no_task_and_no_in_flight_count, setup,
                                        teardown),
        cmocka_unit_test(test_write_to_read_only_lu_is_data_protect),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
