/* Unit tests of prstate/pr_in.c: PERSISTENT RESERVE IN parameter data (SPC-4 6.15), byte by byte, with
 * truncation by the allocation length.
 *
 * Fixture topology (two target ports):
 *
 *      A = iqn.a isid 400000000001 ── port 1 ──┐
 *      B = iqn.b isid 400000000002 ── port 1 ──┼── LU (st)
 *      C = iqn.c isid 400000000003 ── port 2 ──┘
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/prt_be.h"
#include "prstate/pr.h"

struct fx {
    struct pr_itn_tab *tab;
    struct pr_state *st;
    uint32_t a, b, c;
    uint8_t buf[4096];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    static const uint8_t ia[6] = { 0x40, 0, 0, 0, 0, 1 }, ib[6] = { 0x40, 0, 0, 0, 0, 2 },
                         ic[6] = { 0x40, 0, 0, 0, 0, 3 };
    f->tab = pr_itn_tab_new(2);
    f->st = pr_state_new(f->tab);
    f->a = pr_itn_intern(f->tab, "iqn.a", ia, 1);
    f->b = pr_itn_intern(f->tab, "iqn.b", ib, 1);
    f->c = pr_itn_intern(f->tab, "iqn.c", ic, 2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    pr_state_free(f->st);
    pr_itn_tab_free(f->tab);
    free(f);
    return 0;
}

static void out(struct fx *f, uint32_t itn, uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key)
{
    struct pr_result res;
    pr_result_init(&res);
    struct pr_out_req r = { .sa = sa, .type = type, .key = key, .sa_key = sa_key };
    assert_int_equal(pr_out(f->st, itn, &r, &res), PR_OK);
    pr_result_free(&res);
}

static size_t in(struct fx *f, uint8_t sa, size_t cap)
{
    enum pr_status s;
    memset(f->buf, 0xee, sizeof(f->buf));
    size_t n = pr_in(f->st, sa, f->buf, cap, &s);
    assert_int_equal(s, PR_OK);
    return n;
}

static void test_read_keys_lists_every_key_with_generation(void **state)
{
    struct fx *f = *state;
    out(f, f->a, PR_OUT_REGISTER, 0, 0, 0x123abc);
    out(f, f->c, PR_OUT_REGISTER, 0, 0, 0xfeedface01020304ull);
    assert_int_equal(in(f, PR_IN_READ_KEYS, sizeof(f->buf)), 24);
    assert_int_equal(prt_get_be32(f->buf), 2);
    assert_int_equal(prt_get_be32(f->buf + 4), 16);
    assert_int_equal(prt_get_be64(f->buf + 8), 0x123abc);
    assert_int_equal(prt_get_be64(f->buf + 16), 0xfeedface01020304ull);
}

static void test_read_keys_truncated_still_reports_full_additional_length(void **state)
{
    struct fx *f = *state;
    out(f, f->a, PR_OUT_REGISTER, 0, 0, 1);
    out(f, f->b, PR_OUT_REGISTER, 0, 0, 2);
    out(f, f->c, PR_OUT_REGISTER, 0, 0, 3);
    assert_int_equal(in(f, PR_IN_READ_KEYS, 12), 32);
    assert_int_equal(prt_get_be32(f->buf + 4), 24);
    assert_int_equal(f->buf[12], 0xee); /* nothing written past the allocation length */
    assert_int_equal(in(f, PR_IN_READ_KEYS, 0), 32);
    assert_int_equal(f->buf[0], 0xee);
}

static void test_read_keys_empty_has_zero_additional_length(void **state)
{
    struct fx *f = *state;
    assert_int_equal(in(f, PR_IN_READ_KEYS, sizeof(f->buf)), 8);
    assert_int_equal(prt_get_be32(f->buf), 0);
    assert_int_equal(prt_get_be32(f->buf + 4), 0);
}

static void test_read_reservation_reports_holder_key_scope_and_type(void **state)
{
    struct fx *f = *state;
    assert_int_equal(in(f, PR_IN_READ_RESERVATION, sizeof(f->buf)), 8);
    assert_int_equal(prt_get_be32(f->buf + 4), 0);
    out(f, f->a, PR_OUT_REGISTER, 0, 0, 0x123abc);
    out(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA, 0x123abc, 0);
    assert_int_equal(in(f, PR_IN_READ_RESERVATION, sizeof(f->buf)), 24);
    assert_int_equal(prt_get_be32(f->buf), 1);
    assert_int_equal(prt_get_be32(f->buf + 4), 16);
    assert_int_equal(prt_get_be64(f->buf + 8), 0x123abc);
    assert_int_equal(f->buf[21], 0x03);
}

static void test_read_reservation_all_registrants_reports_key_zero(void **state)
{
    struct fx *f = *state;
    out(f, f->a, PR_OUT_REGISTER, 0, 0, 5);
    out(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA_AR, 5, 0);
    assert_int_equal(in(f, PR_IN_READ_RESERVATION, sizeof(f->buf)), 24);
    assert_int_equal(prt_get_be64(f->buf + 8), 0);
    assert_int_equal(f->buf[21], 0x08);
}

static void test_report_capabilities_full_profile_bits(void **state)
{
    struct fx *f = *state;
    assert_int_equal(in(f, PR_IN_REPORT_CAPABILITIES, sizeof(f->buf)), 8);
    assert_int_equal(prt_get_be16(f->buf), 8);
    /* RLR_C, CRH, SIP_C, ATP_C; no PTPL_C without a state file. */
    assert_int_equal(f->buf[2], 0x80 | 0x10 | 0x08 | 0x04);
    /* TMV, ALLOW COMMANDS 011b, PTPL_A 0. */
    assert_int_equal(f->buf[3], 0x80 | 0x30);
    /* WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX; EX_AC_AR. */
    assert_int_equal(f->buf[4], 0x80 | 0x40 | 0x20 | 0x08 | 0x02);
    assert_int_equal(f->buf[5], 0x01);
    assert_int_equal(f->buf[6], 0);
    assert_int_equal(f->buf[7], 0);
}

static void test_report_capabilities_tells_the_truth_for_each_profile(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_state_set_profile(f->st, "dlt-s4"), 0);
    in(f, PR_IN_REPORT_CAPABILITIES, sizeof(f->buf));
    assert_int_equal(f->buf[2] & 0x80, 0);
    assert_int_equal(f->buf[3] & 0x70, 0);
    assert_int_equal(f->buf[4], 0x40 | 0x20 | 0x08 | 0x02);
    assert_int_equal(f->buf[5], 0);
    assert_int_equal(pr_state_set_profile(f->st, "sl150"), 0);
    in(f, PR_IN_REPORT_CAPABILITIES, sizeof(f->buf));
    assert_int_equal(f->buf[4], 0x40 | 0x08);
    assert_int_equal(f->buf[5], 0x01);
}

static void test_read_full_status_one_descriptor_per_nexus_with_iscsi_transport_id(void **state)
{
    struct fx *f = *state;
    out(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa);
    out(f, f->c, PR_OUT_REGISTER, 0, 0, 0xc);
    out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE_RO, 0xa, 0);
    size_t n = in(f, PR_IN_READ_FULL_STATUS, sizeof(f->buf));
    assert_int_equal(prt_get_be32(f->buf), 2);
    assert_int_equal(prt_get_be32(f->buf + 4), n - 8);
    const uint8_t *d = f->buf + 8;
    /* A: holder, port 1, "iqn.a,i,0x400000000001" padded to 24 (+NUL = 23 -> 24). */
    assert_int_equal(prt_get_be64(d), 0xa);
    assert_int_equal(d[12], 0x01);
    assert_int_equal(d[13], 0x05);
    assert_int_equal(prt_get_be16(d + 18), 1);
    uint32_t tl = prt_get_be32(d + 20);
    assert_int_equal(tl, 28);
    assert_int_equal(d[24], 0x45);
    assert_int_equal(prt_get_be16(d + 26), 24);
    assert_string_equal((const char *)d + 28, "iqn.a,i,0x400000000001");
    d += 24 + tl;
    assert_int_equal(prt_get_be64(d), 0xc);
    assert_int_equal(d[12], 0x00);
    assert_int_equal(d[13], 0x00);
    assert_int_equal(prt_get_be16(d + 18), 2);
    assert_string_equal((const char *)d + 28, "iqn.c,i,0x400000000003");
    assert_int_equal(n, 8 + 2 * (24 + 28));
}

static void test_read_full_status_truncated_reports_full_length(void **state)
{
    struct fx *f = *state;
    out(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa);
    out(f, f->b, PR_OUT_REGISTER, 0, 0, 0xb);
    assert_int_equal(in(f, PR_IN_READ_FULL_STATUS, 30), 8 + 2 * 52);
    assert_int_equal(prt_get_be32(f->buf + 4), 2 * 52);
    assert_int_equal(f->buf[30], 0xee);
}

static void test_read_full_status_all_tg_pt_registration_lists_each_port_as_its_own_nexus(void **state)
{
    struct fx *f = *state;
    struct pr_result res;
    pr_result_init(&res);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 7, .all_tg_pt = true };
    assert_int_equal(pr_out(f->st, f->a, &r, &res), PR_OK);
    pr_result_free(&res);
    size_t n = in(f, PR_IN_READ_FULL_STATUS, sizeof(f->buf));
    assert_int_equal(n, 8 + 2 * 52);
    /* One descriptor per I_T nexus: ALL_TG_PT reads zero and each carries its own target port. */
    assert_int_equal(f->buf[8 + 12], 0x00);
    assert_int_equal(prt_get_be16(f->buf + 8 + 18), 1);
    assert_int_equal(f->buf[8 + 52 + 12], 0x00);
    assert_int_equal(prt_get_be16(f->buf + 8 + 52 + 18), 2);
}

static void test_unsupported_pr_in_service_action_is_invalid_field_in_cdb(void **state)
{
    struct fx *f = *state;
    for (uint8_t sa = 4; sa < 0x20; sa++) {
        enum pr_status s = PR_OK;
        assert_int_equal(pr_in(f->st, sa, f->buf, sizeof(f->buf), &s), 0);
        assert_int_equal(s, PR_INVALID_FIELD_CDB);
    }
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_read_keys_lists_every_key_with_generation),
        T(test_read_keys_truncated_still_reports_full_additional_length),
        T(test_read_keys_empty_has_zero_additional_length),
        T(test_read_reservation_reports_holder_key_scope_and_type),
        T(test_read_reservation_all_registrants_reports_key_zero),
        T(test_report_capabilities_full_profile_bits),
        T(test_report_capabilities_tells_the_truth_for_each_profile),
        T(test_read_full_status_one_descriptor_per_nexus_with_iscsi_transport_id),
        T(test_read_full_status_truncated_reports_full_length),
        T(test_read_full_status_all_tg_pt_registration_lists_each_port_as_its_own_nexus),
        T(test_unsupported_pr_in_service_action_is_invalid_field_in_cdb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
