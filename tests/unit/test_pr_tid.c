/* Unit tests of prstate/pr_tid.c: iSCSI TransportIDs (SPC-4 7.6.4.6), as parsed from SPEC_I_PT lists and
 * REGISTER AND MOVE, and as formatted for READ FULL STATUS. pr__tid_parse is module-internal and reached through
 * pr_out(); pr_tid_format is public. No nexus topology: one target port, initiator A registers others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/prt_be.h"
#include "prstate/pr.h"

static void test_format_01b_transport_id_has_name_isid_nul_and_padding(void **state)
{
    struct pr_itn id = { .isid = { 0x23, 0x3d, 0, 0, 0, 0x01 }, .rtpi = 1 };
    strcpy(id.iname, "iqn.2026-11.org.x:i1");
    uint8_t b[128];
    memset(b, 0xee, sizeof(b));
    size_t n = pr_tid_format(&id, b, sizeof(b));
    /* "iqn.2026-11.org.x:i1,i,0x233d00000001" is 37 bytes, + NUL = 38, padded to 40. */
    assert_int_equal(n, 44);
    assert_int_equal(b[0], 0x45);
    assert_int_equal(b[1], 0);
    assert_int_equal(prt_get_be16(b + 2), 40);
    assert_string_equal((const char *)b + 4, "iqn.2026-11.org.x:i1,i,0x233d00000001");
    assert_int_equal(b[41], 0);
    assert_int_equal(b[42], 0);
    assert_int_equal(b[43], 0);
    assert_int_equal(b[44], 0xee);
}

static void test_format_short_name_is_padded_to_the_minimum_of_twenty(void **state)
{
    struct pr_itn id = { .isid = { 0 }, .rtpi = 1 };
    strcpy(id.iname, "a");
    uint8_t b[64];
    size_t n = pr_tid_format(&id, b, sizeof(b));
    assert_int_equal(n, 24);
    assert_int_equal(prt_get_be16(b + 2), 20);
}

static void test_format_into_a_too_small_buffer_writes_nothing_and_reports_length(void **state)
{
    struct pr_itn id = { .isid = { 1, 2, 3, 4, 5, 6 }, .rtpi = 1 };
    strcpy(id.iname, "iqn.x");
    uint8_t b[8];
    memset(b, 0xee, sizeof(b));
    assert_int_equal(pr_tid_format(&id, b, sizeof(b)), 28);
    assert_int_equal(b[0], 0xee);
}

/* Parsing is observed through REGISTER with SPEC_I_PT: a TransportID either registers its port or is refused
 * with INVALID FIELD IN PARAMETER LIST pointing into it. */
struct fx {
    struct pr_itn_tab *tab;
    struct pr_state *st;
    uint32_t a;
    struct pr_result res;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    static const uint8_t isid[6] = { 0x40, 0, 0, 0, 0, 1 };
    f->tab = pr_itn_tab_new(1);
    f->st = pr_state_new(f->tab);
    f->a = pr_itn_intern(f->tab, "iqn.a", isid, 1);
    pr_result_init(&f->res);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    pr_result_free(&f->res);
    pr_state_free(f->st);
    pr_itn_tab_free(f->tab);
    free(f);
    return 0;
}

static enum pr_status spec_i_pt(struct fx *f, const uint8_t *t, size_t n)
{
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 1, .spec_i_pt = true, .tid = t, .tid_len = n,
                            .tid_off = 28 };
    return pr_out(f->st, f->a, &r, &f->res);
}

static size_t mk(uint8_t *p, uint8_t b0, const char *s, uint16_t add)
{
    memset(p, 0, 4 + (size_t)add);
    p[0] = b0;
    prt_put_be16(p + 2, add);
    memcpy(p + 4, s, strlen(s));
    return 4 + (size_t)add;
}

static void test_parse_accepts_format_01b_with_isid(void **state)
{
    struct fx *f = *state;
    uint8_t t[64];
    size_t n = mk(t, 0x45, "iqn.b,i,0x0000000000ff", 24);
    assert_int_equal(spec_i_pt(f, t, n), PR_OK);
    static const uint8_t isid[6] = { 0, 0, 0, 0, 0, 0xff };
    assert_true(pr_state_registered(f->st, pr_itn_intern(f->tab, "iqn.b", isid, 1), NULL));
}

static void test_parse_accepts_uppercase_separator_and_hex(void **state)
{
    struct fx *f = *state;
    uint8_t t[64];
    size_t n = mk(t, 0x45, "iqn.b,I,0X0000000000FF", 24);
    assert_int_equal(spec_i_pt(f, t, n), PR_OK);
}

static void test_parse_rejects_other_protocols_and_formats(void **state)
{
    struct fx *f = *state;
    uint8_t t[64];
    const uint8_t bad_b0[] = { 0x40 /* FC */, 0x44 /* SAS */, 0x85 /* format 10b */, 0xc5, 0x55 /* reserved */ };
    for (size_t i = 0; i < sizeof(bad_b0); i++) {
        size_t n = mk(t, bad_b0[i], "iqn.b,i,0x000000000001", 24);
        assert_int_equal(spec_i_pt(f, t, n), PR_INVALID_FIELD_PARAM);
        assert_int_equal(f->res.field_byte, 28);
    }
    assert_int_equal(pr_state_reg_count(f->st), 0);
}

static void test_parse_rejects_bad_additional_length(void **state)
{
    struct fx *f = *state;
    uint8_t t[64];
    size_t n = mk(t, 0x45, "iqn.b,i,0x000000000001", 24);
    prt_put_be16(t + 2, 22); /* not a multiple of four */
    assert_int_equal(spec_i_pt(f, t, n), PR_INVALID_FIELD_PARAM);
    assert_int_equal(f->res.field_byte, 30);
    prt_put_be16(t + 2, 16); /* below the minimum of 20 */
    assert_int_equal(spec_i_pt(f, t, n), PR_INVALID_FIELD_PARAM);
    prt_put_be16(t + 2, 28); /* runs past the list */
    assert_int_equal(spec_i_pt(f, t, n), PR_INVALID_FIELD_PARAM);
}

static void test_parse_rejects_unterminated_name_and_malformed_isid(void **state)
{
    struct fx *f = *state;
    uint8_t t[64];
    size_t n = mk(t, 0x45, "iqn.b,i,0x000000000001xx", 24); /* fills all 24 bytes: no NUL */
    assert_int_equal(spec_i_pt(f, t, n), PR_INVALID_FIELD_PARAM);
    n = mk(t, 0x45, "iqn.b,i,0x00000001", 20); /* ISID too short */
    assert_int_equal(spec_i_pt(f, t, n), PR_INVALID_FIELD_PARAM);
    n = mk(t, 0x45, "iqn.b-no-isid-here", 20); /* format 01b without ",i,0x" */
    assert_int_equal(spec_i_pt(f, t, n), PR_INVALID_FIELD_PARAM);
    n = mk(t, 0x45, ",i,0x000000000001", 20); /* empty name */
    assert_int_equal(spec_i_pt(f, t, n), PR_INVALID_FIELD_PARAM);
    n = mk(t, 0x05, "", 20); /* format 00b with an empty name */
    assert_int_equal(spec_i_pt(f, t, n), PR_INVALID_FIELD_PARAM);
    assert_int_equal(pr_state_reg_count(f->st), 0);
}

static void test_parse_truncated_header_is_invalid(void **state)
{
    struct fx *f = *state;
    uint8_t t[3] = { 0x45, 0, 0 };
    assert_int_equal(spec_i_pt(f, t, sizeof(t)), PR_INVALID_FIELD_PARAM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_01b_transport_id_has_name_isid_nul_and_padding),
        cmocka_unit_test(test_format_short_name_is_padded_to_the_minimum_of_twenty),
        cmocka_unit_test(test_format_into_a_too_small_buffer_writes_nothing_and_reports_length),
        cmocka_unit_test_setup_teardown(test_parse_accepts_format_01b_with_isid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_accepts_uppercase_separator_and_hex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_rejects_other_protocols_and_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_rejects_bad_additional_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_rejects_unterminated_name_and_malformed_isid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_truncated_header_is_invalid, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
