/* Unit tests for target/alua.c: target port groups, REPORT / SET TARGET PORT GROUPS and the commands each
 * asymmetric access state refuses (SPC-4 5.16, 6.36, 6.44).
 *
 * Fixture: two target ports (two portals), one LU, three I_T nexuses.
 *
 *   nexus 0: n0 --- port 1 (group 1) --+
 *   nexus 1: n1 --- port 1 (group 1) --+-- LU 0: mem 1 MiB
 *   nexus 2: n2 --- port 2 (group 2) --+
 */
#include <errno.h>

#include "disk_harness.h"

static int setup(void **state)
{
    static const struct dh_lu lus[] = { { .size = 1 << 20, .block_size = 512 } };
    static const uint16_t ports[] = { 1, 1, 2 };

    *state = dh_new(2, lus, 1, ports, 3);
    return 0;
}

static int teardown(void **state)
{
    dh_free(*state);
    return 0;
}

static struct tgt_cmd *report_tpg(struct dh *h, int n, bool extended, uint32_t alloc)
{
    uint8_t cdb[12] = { 0xa3, 0x0a };

    if (extended)
        cdb[1] |= 0x20;
    prt_put_be32(cdb + 6, alloc);
    return dh_run(h, n, 0, cdb, 12, 0);
}

/* SET TARGET PORT GROUPS with n descriptors (state, group) after the 4-byte header. */
static struct tgt_cmd *set_tpg(struct dh *h, int n, const uint8_t (*desc)[2], unsigned count, uint32_t plen)
{
    uint8_t cdb[12] = { 0xa4, 0x0a };

    memset(h->buf, 0, 4 + 4 * count);
    for (unsigned i = 0; i < count; i++) {
        h->buf[4 + 4 * i] = desc[i][0];
        prt_put_be16(h->buf + 4 + 4 * i + 2, desc[i][1]);
    }
    prt_put_be32(cdb + 6, plen);
    return dh_run(h, n, 0, cdb, 12, plen);
}

static void test_inquiry_reports_tpgs_implicit_and_explicit(void **state)
{
    struct dh *h = *state;
    uint8_t cdb[6] = { 0x12, 0, 0, 0, 96, 0 };
    struct tgt_cmd *c = dh_run(h, 0, 0, cdb, 6, 0);

    dh_assert_good(c);
    assert_int_equal(dh_din(c)[5] & 0x30, 0x30);
}

static void test_report_tpg_lists_one_group_per_port_with_its_state(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd *c;
    const uint8_t *d;

    assert_int_equal(tgt_alua_set_state(h->srv, 2, TGT_ALUA_STANDBY), 0);
    /* SAM-5 5.14: REPORT TARGET PORT GROUPS reports the state change's unit attention first. */
    dh_assert_sense(report_tpg(h, 0, false, 4096), TGT_SK_UNIT_ATTENTION, 0x2a, 0x06);
    c = report_tpg(h, 0, false, 4096);
    dh_assert_good(c);
    d = dh_din(c);
    assert_int_equal(prt_get_be32(d), 24);
    assert_int_equal(c->din_len, 28);
    /* Group 1: active/optimized, port 1. */
    assert_int_equal(d[4] & 0x0f, TGT_ALUA_ACTIVE_OPTIMIZED);
    assert_int_equal(d[5], 0xcf);
    assert_int_equal(prt_get_be16(d + 6), 1);
    assert_int_equal(d[11], 1);
    assert_int_equal(prt_get_be16(d + 14), 1);
    /* Group 2: standby, changed implicitly, port 2. */
    assert_int_equal(d[16] & 0x0f, TGT_ALUA_STANDBY);
    assert_int_equal(prt_get_be16(d + 18), 2);
    assert_int_equal(d[21], 0x02);
    assert_int_equal(prt_get_be16(d + 26), 2);
}

static void test_report_tpg_extended_header_has_format_type_and_transition_time(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd *c = report_tpg(h, 0, true, 4096);
    const uint8_t *d;

    dh_assert_good(c);
    d = dh_din(c);
    assert_int_equal(prt_get_be32(d), 28);
    assert_int_equal(d[4] & 0x70, 0x10);
    assert_int_not_equal(d[5], 0);
    assert_int_equal(prt_get_be16(d + 8 + 2), 1);
}

static void test_report_tpg_truncates_to_allocation_length_but_reports_full_length(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd *c = report_tpg(h, 0, false, 6);

    dh_assert_good(c);
    assert_int_equal(c->din_len, 6);
    assert_int_equal(prt_get_be32(dh_din(c)), 24);
}

static void test_report_tpg_reserved_format_is_invalid_field_in_cdb(void **state)
{
    struct dh *h = *state;
    uint8_t cdb[12] = { 0xa3, 0x4a, 0, 0, 0, 0, 0, 0, 0x10, 0 };
    struct tgt_cmd *c = dh_run(h, 0, 0, cdb, 12, 0);

    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    dh_assert_field(c, true, 1, 6);
}

static void test_standby_refuses_block_access_with_target_port_in_standby(void **state)
{
    struct dh *h = *state;
    uint8_t ms6[6] = { 0x1a, 0x08, 0x3f, 0, 0xff, 0 };
    uint8_t prin[10] = { 0x5e, 0x00, 0, 0, 0, 0, 0, 0, 0xff, 0 };
    uint8_t inq[6] = { 0x12, 0, 0, 0, 96, 0 };

    assert_int_equal(tgt_alua_set_state(h->srv, 2, TGT_ALUA_STANDBY), 0);
    dh_clear_ua(h);
    dh_assert_sense(dh_tur(h, 2, 0), TGT_SK_NOT_READY, 0x04, 0x0b);
    dh_assert_sense(dh_read10(h, 2, 0, 0, 1), TGT_SK_NOT_READY, 0x04, 0x0b);
    dh_assert_sense(dh_write10(h, 2, 0, 0, 1, 0x33, 512), TGT_SK_NOT_READY, 0x04, 0x0b);
    /* SPC-4 5.16.2.4.4: what a standby port still accepts. */
    dh_assert_good(dh_run(h, 2, 0, inq, 6, 0));
    dh_assert_good(report_tpg(h, 2, false, 4096));
    dh_assert_good(dh_run(h, 2, 0, ms6, 6, 0));
    dh_assert_good(dh_run(h, 2, 0, prin, 10, 0));
    /* The other port is unaffected. */
    dh_assert_good(dh_read10(h, 0, 0, 0, 1));
}

static void test_unavailable_refuses_with_target_port_in_unavailable_state_but_accepts_set_tpg(void **state)
{
    struct dh *h = *state;
    static const uint8_t back[][2] = { { TGT_ALUA_ACTIVE_OPTIMIZED, 2 } };
    uint8_t ms6[6] = { 0x1a, 0x08, 0x3f, 0, 0xff, 0 };

    assert_int_equal(tgt_alua_set_state(h->srv, 2, TGT_ALUA_UNAVAILABLE), 0);
    dh_clear_ua(h);
    dh_assert_sense(dh_tur(h, 2, 0), TGT_SK_NOT_READY, 0x04, 0x0c);
    dh_assert_sense(dh_run(h, 2, 0, ms6, 6, 0), TGT_SK_NOT_READY, 0x04, 0x0c);
    dh_assert_good(report_tpg(h, 2, false, 4096));
    dh_assert_good(set_tpg(h, 2, back, 1, 8));
    dh_assert_good(dh_tur(h, 2, 0));
}

static void test_offline_and_transitioning_refuse_with_their_own_codes(void **state)
{
    struct dh *h = *state;

    assert_int_equal(tgt_alua_set_state(h->srv, 2, TGT_ALUA_OFFLINE), 0);
    dh_clear_ua(h);
    dh_assert_sense(dh_tur(h, 2, 0), TGT_SK_NOT_READY, 0x04, 0x12);
    assert_int_equal(tgt_alua_set_state(h->srv, 2, TGT_ALUA_TRANSITIONING), 0);
    dh_clear_ua(h);
    dh_assert_sense(dh_tur(h, 2, 0), TGT_SK_NOT_READY, 0x04, 0x0a);
    dh_assert_good(report_tpg(h, 2, false, 4096));
}

static void test_active_non_optimized_accepts_everything(void **state)
{
    struct dh *h = *state;

    assert_int_equal(tgt_alua_set_state(h->srv, 2, TGT_ALUA_ACTIVE_NON_OPTIMIZED), 0);
    dh_clear_ua(h);
    dh_assert_good(dh_write10(h, 2, 0, 3, 1, 0x44, 512));
    dh_assert_good(dh_read10(h, 2, 0, 3, 1));
}

static void test_operator_state_change_raises_asymmetric_access_state_changed_for_every_nexus(void **state)
{
    struct dh *h = *state;

    assert_int_equal(tgt_alua_set_state(h->srv, 1, TGT_ALUA_ACTIVE_NON_OPTIMIZED), 0);
    for (int n = 0; n < 3; n++) {
        dh_assert_sense(dh_tur(h, n, 0), TGT_SK_UNIT_ATTENTION, 0x2a, 0x06);
        dh_assert_good(dh_tur(h, n, 0));
    }
    /* Setting the state it already has changes nothing and tells nobody. */
    assert_int_equal(tgt_alua_set_state(h->srv, 1, TGT_ALUA_ACTIVE_NON_OPTIMIZED), 0);
    dh_assert_good(dh_tur(h, 0, 0));
}

static void test_set_tpg_changes_state_and_tells_every_other_nexus(void **state)
{
    struct dh *h = *state;
    static const uint8_t desc[][2] = { { TGT_ALUA_STANDBY, 1 }, { TGT_ALUA_ACTIVE_NON_OPTIMIZED, 2 } };
    struct tgt_cmd *c;

    dh_assert_good(set_tpg(h, 2, desc, 2, 12));
    assert_int_equal(tgt_alua_get_state(h->srv, 1), TGT_ALUA_STANDBY);
    assert_int_equal(tgt_alua_get_state(h->srv, 2), TGT_ALUA_ACTIVE_NON_OPTIMIZED);
    dh_assert_good(dh_tur(h, 2, 0));
    dh_assert_sense(dh_tur(h, 1, 0), TGT_SK_UNIT_ATTENTION, 0x2a, 0x06);
    c = report_tpg(h, 2, false, 4096);
    dh_assert_good(c);
    assert_int_equal(dh_din(c)[9], 0x01); /* STATUS CODE: altered by SET TARGET PORT GROUPS */
}

static void test_set_tpg_transitioning_is_invalid_field_in_parameter_list(void **state)
{
    struct dh *h = *state;
    static const uint8_t desc[][2] = { { TGT_ALUA_TRANSITIONING, 2 } };
    struct tgt_cmd *c = set_tpg(h, 0, desc, 1, 8);

    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
    dh_assert_field(c, false, 4, 3);
    assert_int_equal(tgt_alua_get_state(h->srv, 2), TGT_ALUA_ACTIVE_OPTIMIZED);
}

static void test_set_tpg_unknown_group_changes_nothing(void **state)
{
    struct dh *h = *state;
    static const uint8_t desc[][2] = { { TGT_ALUA_STANDBY, 1 }, { TGT_ALUA_STANDBY, 3 } };
    struct tgt_cmd *c = set_tpg(h, 0, desc, 2, 12);

    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
    dh_assert_field(c, false, 10, 7);
    assert_int_equal(tgt_alua_get_state(h->srv, 1), TGT_ALUA_ACTIVE_OPTIMIZED);
}

static void test_set_tpg_length_cutting_a_descriptor_is_parameter_list_length_error(void **state)
{
    struct dh *h = *state;
    static const uint8_t desc[][2] = { { TGT_ALUA_STANDBY, 1 } };

    dh_assert_sense(set_tpg(h, 0, desc, 1, 6), TGT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
    dh_assert_sense(set_tpg(h, 0, desc, 1, 0xffffffffu), TGT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
    dh_assert_good(set_tpg(h, 0, desc, 1, 0));
    assert_int_equal(tgt_alua_get_state(h->srv, 1), TGT_ALUA_ACTIVE_OPTIMIZED);
}

static void test_set_state_api_rejects_unknown_group_and_bad_state(void **state)
{
    struct dh *h = *state;

    assert_int_equal(tgt_alua_set_state(h->srv, 0, TGT_ALUA_STANDBY), -ENOENT);
    assert_int_equal(tgt_alua_set_state(h->srv, 3, TGT_ALUA_STANDBY), -ENOENT);
    assert_int_equal(tgt_alua_set_state(h->srv, 1, (enum tgt_alua_state)0x4), -EINVAL);
    assert_int_equal(tgt_alua_get_state(h->srv, 1), TGT_ALUA_ACTIVE_OPTIMIZED);
}

/* SPC-4 5.16.2.4.4: a standby port processes PERSISTENT RESERVE OUT, so a cluster can register its keys on
 * every path before it needs one of them. */
static void test_standby_accepts_persistent_reserve_out_register(void **state)
{
    struct dh *h = *state;
    uint8_t prout[10] = { 0x5f, 0x00, 0, 0, 0, 0, 0, 0, 24, 0 };
    uint8_t prin[10] = { 0x5e, 0x00, 0, 0, 0, 0, 0, 0, 0xff, 0 };
    struct tgt_cmd *c;

    assert_int_equal(tgt_alua_set_state(h->srv, 2, TGT_ALUA_STANDBY), 0);
    dh_clear_ua(h);
    memset(h->buf, 0, 24);
    prt_put_be64(h->buf + 8, 0xabcdULL);
    dh_assert_good(dh_run(h, 2, 0, prout, 10, 24));
    /* READ KEYS through the active port sees the key registered through the standby one. */
    c = dh_run(h, 0, 0, prin, 10, 0);
    dh_assert_good(c);
    assert_int_equal(prt_get_be32(dh_din(c) + 4), 8);
    assert_true(prt_get_be64(dh_din(c) + 8) == 0xabcdULL);
}

/* SPC-4 5.16.2.4.5: the unavailable state's list of accepted commands has no persistent reservation command,
 * so PR IN and PR OUT get TARGET PORT IN UNAVAILABLE STATE like any other command. */
static void test_unavailable_refuses_persistent_reserve_in_and_out(void **state)
{
    struct dh *h = *state;
    uint8_t prout[10] = { 0x5f, 0x00, 0, 0, 0, 0, 0, 0, 24, 0 };
    uint8_t prin[10] = { 0x5e, 0x00, 0, 0, 0, 0, 0, 0, 0xff, 0 };

    assert_int_equal(tgt_alua_set_state(h->srv, 2, TGT_ALUA_UNAVAILABLE), 0);
    dh_clear_ua(h);
    dh_assert_sense(dh_run(h, 2, 0, prin, 10, 0), TGT_SK_NOT_READY, 0x04, 0x0c);
    memset(h->buf, 0, 24);
    prt_put_be64(h->buf + 8, 0x1234ULL);
    dh_assert_sense(dh_run(h, 2, 0, prout, 10, 24), TGT_SK_NOT_READY, 0x04, 0x0c);
    /* Nothing was registered: READ KEYS through port 1 lists no key. */
    struct tgt_cmd *c = dh_run(h, 0, 0, prin, 10, 0);
    dh_assert_good(c);
    assert_int_equal(prt_get_be32(dh_din(c) + 4), 0);
}

/* SPC-4 5.16.2.4.5, 5.16.2.5: INQUIRY, REPORT LUNS, REQUEST SENSE and REPORT TARGET PORT GROUPS are processed in
 * every state, so an initiator can always find out why a path refuses I/O. */
static void test_every_state_answers_inquiry_report_luns_request_sense_and_report_tpg(void **state)
{
    struct dh *h = *state;
    static const enum tgt_alua_state states[] = { TGT_ALUA_STANDBY, TGT_ALUA_UNAVAILABLE, TGT_ALUA_OFFLINE,
                                                  TGT_ALUA_TRANSITIONING };
    uint8_t inq[6] = { 0x12, 0, 0, 0, 96, 0 };
    uint8_t rl[12] = { 0xa0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0 };
    uint8_t rs[6] = { 0x03, 0, 0, 0, 252, 0 };

    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        assert_int_equal(tgt_alua_set_state(h->srv, 2, states[i]), 0);
        dh_clear_ua(h);
        dh_assert_good(dh_run(h, 2, 0, inq, 6, 0));
        dh_assert_good(dh_run(h, 2, 0, rl, 12, 0));
        dh_assert_good(dh_run(h, 2, 0, rs, 6, 0));
        dh_assert_good(report_tpg(h, 2, false, 4096));
        assert_int_equal(dh_din(report_tpg(h, 2, false, 4096))[16] & 0x0f, states[i]);
    }
}

/* The operator's state names (config file, control socket, prtargetctl) map one to one onto the SPC-4 6.36
 * Table 289 codes, and anything else is refused rather than guessed. */
static void test_state_names_round_trip_and_unknown_names_are_refused(void **state)
{
    static const enum tgt_alua_state states[] = { TGT_ALUA_ACTIVE_OPTIMIZED, TGT_ALUA_ACTIVE_NON_OPTIMIZED,
                                                  TGT_ALUA_STANDBY, TGT_ALUA_UNAVAILABLE, TGT_ALUA_OFFLINE,
                                                  TGT_ALUA_TRANSITIONING };
    enum tgt_alua_state got = TGT_ALUA_OFFLINE;

    (void)state;
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        assert_int_equal(tgt_alua_state_parse(tgt_alua_state_name(states[i]), &got), 0);
        assert_int_equal(got, states[i]);
    }
    assert_string_equal(tgt_alua_state_name(TGT_ALUA_ACTIVE_NON_OPTIMIZED), "active-nonoptimized");
    assert_string_equal(tgt_alua_state_name((enum tgt_alua_state)0x4), "unknown");
    assert_int_equal(tgt_alua_state_parse("Standby", &got), -EINVAL);
    assert_int_equal(tgt_alua_state_parse("", &got), -EINVAL);
    assert_int_equal(tgt_alua_state_parse(NULL, &got), -EINVAL);
    assert_int_equal(got, TGT_ALUA_TRANSITIONING);
}

static void test_one_target_port_group_per_port(void **state)
{
    struct dh *h = *state;

    assert_int_equal(tgt_alua_group_count(h->srv), 2);
    assert_int_equal(tgt_alua_group_count(NULL), 0);
}

static void test_vpd83_names_the_target_port_group_of_the_receiving_port(void **state)
{
    struct dh *h = *state;
    uint8_t cdb[6] = { 0x12, 0x01, 0x83, 0x01, 0x00, 0 };
    const uint8_t *d, *p, *end;
    int found = 0;

    for (int n = 0; n < 3; n += 2) {
        struct tgt_cmd *c = dh_run(h, n, 0, cdb, 6, 0);

        dh_assert_good(c);
        d = dh_din(c);
        end = d + 4 + prt_get_be16(d + 2);
        for (p = d + 4; p + 4 <= end; p += 4 + p[3]) {
            if ((p[1] & 0x0f) == 0x05 && ((p[1] >> 4) & 0x03) == 1) {
                assert_int_equal(prt_get_be16(p + 6), n == 0 ? 1 : 2);
                found++;
            }
        }
    }
    assert_int_equal(found, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inquiry_reports_tpgs_implicit_and_explicit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_tpg_lists_one_group_per_port_with_its_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_tpg_extended_header_has_format_type_and_transition_time,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_tpg_truncates_to_allocation_length_but_reports_full_length,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_tpg_reserved_format_is_invalid_field_in_cdb, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_standby_refuses_block_access_with_target_port_in_standby, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_unavailable_refuses_with_target_port_in_unavailable_state_but_accepts_set_tpg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline_and_transitioning_refuse_with_their_own_codes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_active_non_optimized_accepts_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_operator_state_change_raises_asymmetric_access_state_changed_for_every_nexus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_tpg_changes_state_and_tells_every_other_nexus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_tpg_transitioning_is_invalid_field_in_parameter_list, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_set_tpg_unknown_group_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_tpg_length_cutting_a_descriptor_is_parameter_list_length_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_state_api_rejects_unknown_group_and_bad_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vpd83_names_the_target_port_group_of_the_receiving_port, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_standby_accepts_persistent_reserve_out_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unavailable_refuses_persistent_reserve_in_and_out, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_every_state_answers_inquiry_report_luns_request_sense_and_report_tpg, setup, teardown),
        cmocka_unit_test(test_state_names_round_trip_and_unknown_names_are_refused),
        cmocka_unit_test_setup_teardown(test_one_target_port_group_per_port, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
