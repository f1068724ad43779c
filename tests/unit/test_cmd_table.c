/* Unit tests for target/cmd_table.c: the command table is well formed and carries the SPC-4 / SBC-3 columns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "target/tgt_internal.h"

static const struct tgt_cmd_row *row(uint8_t op, uint16_t sa)
{
    const struct tgt_cmd_row *r = tgt_cmd_table_lookup(op, sa, NULL);

    assert_non_null(r);
    return r;
}

static void test_rows_are_sorted_and_unique_by_opcode_and_service_action(void **state)
{
    size_t n;
    const struct tgt_cmd_row *r = tgt_cmd_table_rows(&n);

    (void)state;
    assert_true(n > 40);
    for (size_t i = 1; i < n; i++) {
        uint32_t a = ((uint32_t)r[i - 1].opcode << 16) | r[i - 1].sa;
        uint32_t b = ((uint32_t)r[i].opcode << 16) | r[i].sa;

        assert_true(a < b);
    }
}

static void test_usage_data_starts_with_opcode_and_control_byte_allows_nothing(void **state)
{
    size_t n;
    const struct tgt_cmd_row *r = tgt_cmd_table_rows(&n);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(r[i].usage[0], r[i].opcode);
        /* NACA and LINK are not supported (SAM-5 5.11), so the CONTROL byte admits no bit. */
        assert_int_equal(r[i].usage[r[i].cdb_len - 1], 0);
        assert_non_null(r[i].fn);
        assert_non_null(r[i].name);
    }
}

static void test_cdb_length_matches_the_group_code(void **state)
{
    size_t n;
    const struct tgt_cmd_row *r = tgt_cmd_table_rows(&n);
    /* SPC-4 4.2.5.1 Table 8: group 0 is 6 bytes, 1-2 are 10, 4 is 16, 5 is 12. */
    static const uint8_t len_of_group[8] = { 6, 10, 10, 0, 16, 12, 0, 0 };

    (void)state;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(r[i].cdb_len, len_of_group[r[i].opcode >> 5]);
}

static void test_service_action_rows_are_flagged_and_found_by_the_cdb_decoder(void **state)
{
    size_t n;
    const struct tgt_cmd_row *r = tgt_cmd_table_rows(&n);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        uint8_t cdb[TGT_CDB_MAX] = { r[i].opcode, (uint8_t)r[i].sa };
        uint16_t sa;
        bool has = tgt__cdb_sa(cdb, &sa);

        assert_int_equal(has, !!(r[i].flags & TGT_F_SA));
        if (has)
            assert_int_equal(sa, r[i].sa);
    }
}

static void test_lookup_distinguishes_unknown_opcode_from_unknown_service_action(void **state)
{
    bool known = true;

    (void)state;
    assert_null(tgt_cmd_table_lookup(0x02, 0, &known));
    assert_false(known);
    assert_null(tgt_cmd_table_lookup(0x9e, 0x1f, &known));
    assert_true(known);
    assert_non_null(tgt_cmd_table_lookup(0x9e, 0x10, &known));
    assert_true(known);
    assert_string_equal(row(0x9e, 0x10)->name, "READ CAPACITY(16)");
}

static void test_pr_access_classes_follow_spc4_table_63_and_sbc3_table_13(void **state)
{
    (void)state;
    /* Never conflicting. */
    assert_int_equal(row(0x12, 0)->pr, PR_ACCESS_ALLOWED);    /* INQUIRY */
    assert_int_equal(row(0xa0, 0)->pr, PR_ACCESS_ALLOWED);    /* REPORT LUNS */
    assert_int_equal(row(0x03, 0)->pr, PR_ACCESS_ALLOWED);    /* REQUEST SENSE */
    /* Allowed under persistent reservations. */
    assert_int_equal(row(0x5e, 0)->pr, PR_ACCESS_ALLOWED_PR); /* PR IN */
    assert_int_equal(row(0x25, 0)->pr, PR_ACCESS_ALLOWED_PR); /* READ CAPACITY(10) */
    assert_int_equal(row(0x9e, 0x10)->pr, PR_ACCESS_ALLOWED_PR);
    /* SPC-4 Table 65: RECEIVE COPY STATUS(LID1) and RECEIVE COPY OPERATING PARAMETERS pass every type. */
    assert_int_equal(row(0x84, 0x00)->pr, PR_ACCESS_ALLOWED_PR);
    assert_int_equal(row(0x84, 0x03)->pr, PR_ACCESS_ALLOWED_PR);
    /* SPC-4 Table 65: REPORT SUPPORTED OPERATION CODES passes Write Exclusive, conflicts Exclusive Access. */
    assert_int_equal(row(0xa3, 0x0c)->pr, PR_ACCESS_READ);
    assert_int_equal(row(0x00, 0)->pr, PR_ACCESS_TUR);
    /* Reads of the medium. */
    static const uint8_t reads[] = { 0x08, 0x28, 0xa8, 0x88, 0x2f, 0xaf, 0x8f, 0x1a, 0x5a, 0x34, 0x90 };
    for (size_t i = 0; i < sizeof(reads); i++)
        assert_int_equal(row(reads[i], 0)->pr, PR_ACCESS_READ);
    assert_int_equal(row(0x9e, 0x12)->pr, PR_ACCESS_READ);   /* GET LBA STATUS */
    /* Writes of the medium or device state. */
    static const uint8_t writes[] = { 0x0a, 0x2a, 0xaa, 0x8a, 0x2e, 0xae, 0x8e, 0x41, 0x93, 0x42, 0x89, 0x8b,
                                      0x35, 0x91, 0x15, 0x55, 0x1b, 0x37, 0xb7 };
    for (size_t i = 0; i < sizeof(writes); i++)
        assert_int_equal(row(writes[i], 0)->pr, PR_ACCESS_WRITE);
    assert_int_equal(row(0x5f, 0x05)->pr, PR_ACCESS_PR_OUT);
    assert_int_equal(row(0x16, 0)->pr, PR_ACCESS_SPC2);
    assert_int_equal(row(0x17, 0)->pr, PR_ACCESS_SPC2);
    assert_int_equal(row(0x56, 0)->pr, PR_ACCESS_SPC2);
    assert_int_equal(row(0x57, 0)->pr, PR_ACCESS_SPC2);
}

static void test_start_stop_and_prevent_allow_are_classed_by_their_cdb(void **state)
{
    const struct tgt_cmd_row *ssu = row(0x1b, 0), *pa = row(0x1e, 0);
    uint8_t cdb[6] = { 0x1b, 0, 0, 0, 0x01, 0 };

    (void)state;
    /* SBC-3 Table 13: START=1 with POWER CONDITION 0h is allowed under every reservation. */
    assert_int_equal(tgt__row_pr_access(ssu, cdb), PR_ACCESS_ALLOWED);
    cdb[4] = 0x00;
    assert_int_equal(tgt__row_pr_access(ssu, cdb), PR_ACCESS_WRITE);
    cdb[4] = 0x21;
    assert_int_equal(tgt__row_pr_access(ssu, cdb), PR_ACCESS_WRITE);
    /* SPC-4 Table 63: PREVENT=0 is allowed, preventing conflicts. */
    cdb[0] = 0x1e;
    cdb[4] = 0;
    assert_int_equal(tgt__row_pr_access(pa, cdb), PR_ACCESS_ALLOWED);
    cdb[4] = 1;
    assert_int_equal(tgt__row_pr_access(pa, cdb), PR_ACCESS_WRITE);
    /* Other rows keep their column. */
    assert_int_equal(tgt__row_pr_access(row(0x28, 0), cdb), PR_ACCESS_READ);
}

static void test_medium_writers_are_flagged_for_write_protection(void **state)
{
    static const uint8_t writers[] = { 0x0a, 0x2a, 0xaa, 0x8a, 0x2e, 0xae, 0x8e, 0x41, 0x93, 0x42, 0x89, 0x8b };
    static const uint8_t readers[] = { 0x08, 0x28, 0xa8, 0x88, 0x2f, 0x12, 0x35 };

    (void)state;
    for (size_t i = 0; i < sizeof(writers); i++) {
        assert_true(row(writers[i], 0)->flags & TGT_F_MEDIUM_WR);
        assert_true(row(writers[i], 0)->flags & TGT_F_DATA_OUT);
    }
    for (size_t i = 0; i < sizeof(readers); i++)
        assert_false(row(readers[i], 0)->flags & TGT_F_MEDIUM_WR);
}

static void test_read10_usage_admits_dpo_fua_fua_nv_but_not_rdprotect(void **state)
{
    const struct tgt_cmd_row *r = row(0x28, 0);

    (void)state;
    /* SBC-3 5.11: DPO bit 4, FUA bit 3, RARC bit 2, FUA_NV bit 1; RDPROTECT (bits 7-5) needs protection
     * information, which no LU has. */
    assert_int_equal(r->usage[1], 0x1e);
    assert_int_equal(r->usage[6], 0x1f); /* GROUP NUMBER */
    assert_int_equal(row(0x2a, 0)->usage[1] & 0xe0, 0);
}

static void test_only_inquiry_report_luns_request_sense_run_without_lu_or_skip_ua(void **state)
{
    size_t n;
    const struct tgt_cmd_row *r = tgt_cmd_table_rows(&n);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        bool special = r[i].opcode == 0x12 || r[i].opcode == 0xa0 || r[i].opcode == 0x03;

        assert_int_equal(!!(r[i].flags & TGT_F_NO_LU), special);
        assert_int_equal(!!(r[i].flags & TGT_F_SKIP_UA), special);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_are_sorted_and_unique_by_opcode_and_service_action),
        cmocka_unit_test(test_usage_data_starts_with_opcode_and_control_byte_allows_nothing),
        cmocka_unit_test(test_cdb_length_matches_the_group_code),
        cmocka_unit_test(test_service_action_rows_are_flagged_and_found_by_the_cdb_decoder),
        cmocka_unit_test(test_lookup_distinguishes_unknown_opcode_from_unknown_service_action),
        cmocka_unit_test(test_pr_access_classes_follow_spc4_table_63_and_sbc3_table_13),
        cmocka_unit_test(test_start_stop_and_prevent_allow_are_classed_by_their_cdb),
        cmocka_unit_test(test_medium_writers_are_flagged_for_write_protection),
        cmocka_unit_test(test_read10_usage_admits_dpo_fua_fua_nv_but_not_rdprotect),
        cmocka_unit_test(test_only_inquiry_report_luns_request_sense_run_without_lu_or_skip_ua),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
