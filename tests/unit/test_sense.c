/* Unit tests for target/sense.c: fixed and descriptor sense formats, field pointers, Data-In clipping. */
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

static void test_fixed_format_sense_has_key_asc_ascq_and_additional_length_10(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    fx_prep(f, &c, f->a, 0, (const uint8_t[6]){ 0 }, 6, 0, 0);
    c.lu = tgt_server_lu(f->srv, 0);
    tgt_set_sense(&c, TGT_SK_NOT_READY, 0x04, 0x02);
    assert_int_equal(c.status, TGT_STATUS_CHECK_CONDITION);
    assert_int_equal(c.sense_len, 18);
    assert_int_equal(c.sense[0], 0x70);
    assert_int_equal(c.sense[2], TGT_SK_NOT_READY);
    assert_int_equal(c.sense[7], 10);
    assert_int_equal(c.sense[12], 0x04);
    assert_int_equal(c.sense[13], 0x02);
    assert_int_equal(c.sense[15], 0); /* no SKSV */
}

static void test_cdb_field_pointer_sets_sksv_cd_bpv_and_bit(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    fx_prep(f, &c, f->a, 0, (const uint8_t[6]){ 0 }, 6, 0, 0);
    tgt_set_invalid_field_cdb(&c, 4, 1);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    /* SPC-4 4.5.2.4.2: SKSV=1, C/D=1, BPV=1, BIT POINTER=1, FIELD POINTER=4. */
    assert_int_equal(c.sense[15], 0x80 | 0x40 | 0x08 | 0x01);
    assert_int_equal(c.sense[16], 0);
    assert_int_equal(c.sense[17], 4);
}

static void test_field_pointer_without_bit_leaves_bpv_clear(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    fx_prep(f, &c, f->a, 0, (const uint8_t[6]){ 0 }, 6, 0, 0);
    tgt_set_invalid_field_cdb(&c, 7, -1);
    assert_int_equal(c.sense[15], 0x80 | 0x40);
    assert_int_equal(prt_get_be16(c.sense + 16), 7);
}

static void test_parameter_field_pointer_has_cd_clear(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    fx_prep(f, &c, f->a, 0, (const uint8_t[6]){ 0 }, 6, 0, 0);
    tgt_set_invalid_field_param(&c, 300, 6);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
    assert_int_equal(c.sense[15], 0x80 | 0x08 | 0x06);
    assert_int_equal(prt_get_be16(c.sense + 16), 300);
}

static void test_miscompare_puts_offset_in_information_field(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    fx_prep(f, &c, f->a, 0, (const uint8_t[6]){ 0 }, 6, 0, 0);
    tgt_set_miscompare(&c, 0x1234);
    fx_assert_sense(&c, TGT_SK_MISCOMPARE, 0x1d, 0x00);
    assert_int_equal(c.sense[0], 0xf0); /* VALID */
    assert_int_equal(prt_get_be32(c.sense + 3), 0x1234);
}

static void test_descriptor_format_when_control_page_d_sense_is_set(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    tgt_server_lu(f->srv, 0)->mode.d_sense = true;
    fx_prep(f, &c, f->a, 0, (const uint8_t[6]){ 0 }, 6, 0, 0);
    c.lu = tgt_server_lu(f->srv, 0);
    tgt_set_invalid_field_cdb(&c, 2, 7);
    assert_int_equal(c.sense[0], 0x72);
    assert_int_equal(c.sense[1], TGT_SK_ILLEGAL_REQUEST);
    assert_int_equal(c.sense[2], 0x24);
    assert_int_equal(c.sense[3], 0x00);
    /* One sense key specific descriptor (type 02h, 6 bytes). */
    assert_int_equal(c.sense[7], 8);
    assert_int_equal(c.sense[8], 0x02);
    assert_int_equal(c.sense[9], 0x06);
    assert_int_equal(c.sense[12], 0x80 | 0x40 | 0x08 | 7);
    assert_int_equal(prt_get_be16(c.sense + 13), 2);
    assert_int_equal(c.sense_len, 16);
}

static void test_descriptor_format_information_descriptor_holds_64_bits(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    tgt_server_lu(f->srv, 0)->mode.d_sense = true;
    fx_prep(f, &c, f->a, 0, (const uint8_t[6]){ 0 }, 6, 0, 0);
    c.lu = tgt_server_lu(f->srv, 0);
    tgt_set_miscompare(&c, 0x123456789aull);
    assert_int_equal(c.sense[0], 0x72);
    assert_int_equal(c.sense[8], 0x00);
    assert_int_equal(c.sense[9], 0x0a);
    assert_int_equal(c.sense[10], 0x80);
    assert_true(prt_get_be64(c.sense + 12) == 0x123456789aull);
}

static void test_dispatch_errors_follow_d_sense_end_to_end(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t bad[6] = { 0x02 };

    tgt_server_lu(f->srv, 0)->mode.d_sense = true;
    fx_run(f, &c, f->a, 0, bad, 6, 0, 0);
    assert_int_equal(c.sense[0], 0x72);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x20, 0x00);
}

static void test_reservation_conflict_and_task_aborted_carry_no_sense(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    fx_prep(f, &c, f->a, 0, (const uint8_t[6]){ 0 }, 6, 0, 0);
    tgt_set_reservation_conflict(&c);
    assert_int_equal(c.status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(c.sense_len, 0);
    tgt_set_task_aborted(&c);
    assert_int_equal(c.status, TGT_STATUS_TASK_ABORTED);
    assert_int_equal(c.sense_len, 0);
}

static void test_data_in_is_clipped_to_allocation_length(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    uint8_t src[100];

    for (int i = 0; i < 100; i++)
        src[i] = (uint8_t)i;
    fx_prep(f, &c, f->a, 0, (const uint8_t[6]){ 0 }, 6, 0, 0);
    tgt_cmd_data_in(&c, src, sizeof(src), 40);
    assert_int_equal(c.din_len, 40);
    assert_int_equal(c.din_cnt, 1);
    assert_memory_equal(c.din[0].base, src, 40);
    tgt_cmd_data_in(&c, src, sizeof(src), 0);
    assert_int_equal(c.din_len, 0);
    assert_int_equal(c.din_cnt, 0);
}

static void test_sense_build_truncates_to_capacity(void **state)
{
    struct tgt_sense_desc sd = { .key = TGT_SK_UNIT_ATTENTION, .asc = 0x29, .ascq = 0x00 };
    uint8_t out[8];

    (void)state;
    memset(out, 0xee, sizeof(out));
    assert_int_equal(tgt__sense_build(out, sizeof(out), false, &sd), 8);
    assert_int_equal(out[0], 0x70);
    assert_int_equal(out[2], TGT_SK_UNIT_ATTENTION);
    assert_int_equal(out[7], 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fixed_format_sense_has_key_asc_ascq_and_additional_length_10, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cdb_field_pointer_sets_sksv_cd_bpv_and_bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_field_pointer_without_bit_leaves_bpv_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parameter_field_pointer_has_cd_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_miscompare_puts_offset_in_information_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptor_format_when_control_page_d_sense_is_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptor_format_information_descriptor_holds_64_bits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dispatch_errors_follow_d_sense_end_to_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reservation_conflict_and_task_aborted_carry_no_sense, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_data_in_is_clipped_to_allocation_length, setup, teardown),
        cmocka_unit_test(test_sense_build_truncates_to_capacity),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
