/* Unit tests of transport/isc_keys.c: text key=value codec (RFC 7143 6.1) and the negotiation rule of every
 * operational key (RFC 7143 13). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "transport/isc_keys.h"

struct fx {
    struct isc_params p;
    struct isc_limits lim;
    struct isc_text out;
};

static int setup(void **state)
{
    static struct fx f;
    isc_params_defaults(&f.p);
    isc_limits_defaults(&f.lim);
    isc_text_init(&f.out);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    isc_text_free(&f->out);
    return 0;
}

/* The value answered for key in f->out, or NULL when the key was not answered. */
static const char *answered(struct fx *f, const char *key)
{
    static char k[ISC_KEY_NAME_MAX + 1], v[ISC_VALUE_MAX + 1];
    struct isc_text_iter it;
    isc_text_iter_init(&it, (const uint8_t *)f->out.buf, f->out.len);
    while (isc_text_next(&it, k, sizeof(k), v, sizeof(v)) == 1)
        if (strcmp(k, key) == 0)
            return v;
    return NULL;
}

static enum isc_key_result nego(struct fx *f, const char *key, const char *value)
{
    isc_text_reset(&f->out);
    return isc_key_negotiate(&f->p, &f->lim, false, key, value, &f->out);
}

static enum isc_key_result nego_disc(struct fx *f, const char *key, const char *value)
{
    isc_text_reset(&f->out);
    return isc_key_negotiate(&f->p, &f->lim, true, key, value, &f->out);
}

static void test_params_defaults_follow_rfc7143_13(void **state)
{
    struct isc_params p;
    memset(&p, 0xa5, sizeof(p));
    isc_params_defaults(&p);
    assert_false(p.header_digest);
    assert_false(p.data_digest);
    assert_int_equal(p.max_recv_dsl, 8192);
    assert_int_equal(p.max_send_dsl, 8192);
    assert_int_equal(p.max_burst, 262144);
    assert_int_equal(p.first_burst, 65536);
    assert_int_equal(p.max_outstanding_r2t, 1);
    assert_true(p.initial_r2t);
    assert_true(p.immediate_data);
    assert_true(p.data_pdu_in_order);
    assert_true(p.data_seq_in_order);
    assert_int_equal(p.default_time2wait, 2);
    assert_int_equal(p.default_time2retain, 20);
    assert_int_equal(p.error_recovery_level, 0);
    assert_int_equal(p.max_connections, 1);
}

static void test_digest_list_answers_first_value_we_support(void **state)
{
    struct fx *f = *state;
    assert_int_equal(nego(f, "HeaderDigest", "CRC32C,None"), ISC_KEY_OK);
    assert_string_equal(answered(f, "HeaderDigest"), "CRC32C");
    assert_true(f->p.header_digest);
    assert_int_equal(nego(f, "DataDigest", "None,CRC32C"), ISC_KEY_OK);
    assert_string_equal(answered(f, "DataDigest"), "None");
    assert_false(f->p.data_digest);
    /* Unknown list items are skipped, not fatal. */
    assert_int_equal(nego(f, "DataDigest", "MD5,CRC32C"), ISC_KEY_OK);
    assert_string_equal(answered(f, "DataDigest"), "CRC32C");
    assert_true(f->p.data_digest);
}

static void test_digest_list_without_acceptable_value_answers_reject(void **state)
{
    struct fx *f = *state;
    assert_int_equal(nego(f, "HeaderDigest", "MD5,SHA1"), ISC_KEY_REJECT);
    assert_string_equal(answered(f, "HeaderDigest"), "Reject");
    assert_false(f->p.header_digest);
    f->lim.allow_crc32c = false;
    assert_int_equal(nego(f, "HeaderDigest", "CRC32C"), ISC_KEY_REJECT);
    assert_int_equal(nego(f, "HeaderDigest", "CRC32C,None"), ISC_KEY_OK);
    assert_string_equal(answered(f, "HeaderDigest"), "None");
    /* An empty list item is malformed. */
    assert_int_equal(nego(f, "HeaderDigest", "CRC32C,,None"), ISC_KEY_REJECT);
}

static void test_max_burst_length_result_is_minimum_of_offer_and_limit(void **state)
{
    struct fx *f = *state;
    f->lim.max_burst = 1048576;
    assert_int_equal(nego(f, "MaxBurstLength", "262144"), ISC_KEY_OK);
    assert_string_equal(answered(f, "MaxBurstLength"), "262144");
    assert_int_equal(f->p.max_burst, 262144);
    assert_int_equal(nego(f, "MaxBurstLength", "16776192"), ISC_KEY_OK);
    assert_string_equal(answered(f, "MaxBurstLength"), "1048576");
    assert_int_equal(f->p.max_burst, 1048576);
}

static void test_first_burst_and_outstanding_r2t_are_bounded_by_our_limits(void **state)
{
    struct fx *f = *state;
    f->lim.first_burst = 65536;
    assert_int_equal(nego(f, "FirstBurstLength", "262144"), ISC_KEY_OK);
    assert_string_equal(answered(f, "FirstBurstLength"), "65536");
    assert_int_equal(f->p.first_burst, 65536);
    f->lim.max_outstanding_r2t = 4;
    assert_int_equal(nego(f, "MaxOutstandingR2T", "16"), ISC_KEY_OK);
    assert_string_equal(answered(f, "MaxOutstandingR2T"), "4");
    assert_int_equal(f->p.max_outstanding_r2t, 4);
}

static void test_numeric_value_outside_rfc_range_or_malformed_answers_reject(void **state)
{
    struct fx *f = *state;
    static const char *bad[] = {"511", "16777216", "abc", "", "0x", "-1", "+512", "99999999999", "1 024",
                                "0x1000000000", "4096 "};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        f->p.max_burst = 262144;
        assert_int_equal(nego(f, "MaxBurstLength", bad[i]), ISC_KEY_REJECT);
        assert_string_equal(answered(f, "MaxBurstLength"), "Reject");
        assert_int_equal(f->p.max_burst, 262144);
    }
    assert_int_equal(nego(f, "MaxOutstandingR2T", "0"), ISC_KEY_REJECT);
    assert_int_equal(nego(f, "MaxConnections", "65536"), ISC_KEY_REJECT);
    assert_int_equal(nego(f, "DefaultTime2Wait", "3601"), ISC_KEY_REJECT);
}

static void test_hex_constant_numeric_values_are_accepted(void **state)
{
    struct fx *f = *state;
    assert_int_equal(nego(f, "MaxBurstLength", "0x10000"), ISC_KEY_OK);
    assert_string_equal(answered(f, "MaxBurstLength"), "65536");
    uint32_t v;
    assert_int_equal(isc_parse_number("0XfFfF", &v), 0);
    assert_int_equal(v, 0xffff);
    assert_int_equal(isc_parse_number("4294967295", &v), 0);
    assert_int_equal(v, 4294967295u);
    assert_int_equal(isc_parse_number("4294967296", &v), -EINVAL);
}

static void test_default_time2wait_result_is_maximum_and_time2retain_minimum(void **state)
{
    struct fx *f = *state;
    assert_int_equal(nego(f, "DefaultTime2Wait", "0"), ISC_KEY_OK);
    assert_string_equal(answered(f, "DefaultTime2Wait"), "0");
    assert_int_equal(nego(f, "DefaultTime2Wait", "7"), ISC_KEY_OK);
    assert_string_equal(answered(f, "DefaultTime2Wait"), "7");
    assert_int_equal(f->p.default_time2wait, 7);
    f->lim.default_time2retain = 20;
    assert_int_equal(nego(f, "DefaultTime2Retain", "3600"), ISC_KEY_OK);
    assert_string_equal(answered(f, "DefaultTime2Retain"), "20");
    assert_int_equal(nego(f, "DefaultTime2Retain", "0"), ISC_KEY_OK);
    assert_string_equal(answered(f, "DefaultTime2Retain"), "0");
    assert_int_equal(f->p.default_time2retain, 0);
}

static void test_initial_r2t_result_is_or(void **state)
{
    struct fx *f = *state;
    f->lim.initial_r2t = false;
    assert_int_equal(nego(f, "InitialR2T", "No"), ISC_KEY_OK);
    assert_string_equal(answered(f, "InitialR2T"), "No");
    assert_false(f->p.initial_r2t);
    assert_int_equal(nego(f, "InitialR2T", "Yes"), ISC_KEY_OK);
    assert_string_equal(answered(f, "InitialR2T"), "Yes");
    f->lim.initial_r2t = true;
    assert_int_equal(nego(f, "InitialR2T", "No"), ISC_KEY_OK);
    assert_string_equal(answered(f, "InitialR2T"), "Yes");
    assert_true(f->p.initial_r2t);
}

static void test_immediate_data_result_is_and(void **state)
{
    struct fx *f = *state;
    f->lim.immediate_data = true;
    assert_int_equal(nego(f, "ImmediateData", "Yes"), ISC_KEY_OK);
    assert_string_equal(answered(f, "ImmediateData"), "Yes");
    assert_true(f->p.immediate_data);
    assert_int_equal(nego(f, "ImmediateData", "No"), ISC_KEY_OK);
    assert_string_equal(answered(f, "ImmediateData"), "No");
    assert_false(f->p.immediate_data);
    f->lim.immediate_data = false;
    assert_int_equal(nego(f, "ImmediateData", "Yes"), ISC_KEY_OK);
    assert_string_equal(answered(f, "ImmediateData"), "No");
}

static void test_data_order_keys_are_or_and_we_ask_for_order(void **state)
{
    struct fx *f = *state;
    assert_int_equal(nego(f, "DataPDUInOrder", "No"), ISC_KEY_OK);
    assert_string_equal(answered(f, "DataPDUInOrder"), "Yes");
    assert_true(f->p.data_pdu_in_order);
    assert_int_equal(nego(f, "DataSequenceInOrder", "No"), ISC_KEY_OK);
    assert_string_equal(answered(f, "DataSequenceInOrder"), "Yes");
    assert_true(f->p.data_seq_in_order);
}

static void test_boolean_value_other_than_yes_or_no_answers_reject(void **state)
{
    struct fx *f = *state;
    assert_int_equal(nego(f, "InitialR2T", "yes"), ISC_KEY_REJECT);
    assert_string_equal(answered(f, "InitialR2T"), "Reject");
    assert_int_equal(nego(f, "ImmediateData", "1"), ISC_KEY_REJECT);
    assert_int_equal(nego(f, "DataPDUInOrder", ""), ISC_KEY_REJECT);
}

static void test_error_recovery_level_is_negotiated_down_to_zero(void **state)
{
    struct fx *f = *state;
    assert_int_equal(nego(f, "ErrorRecoveryLevel", "2"), ISC_KEY_OK);
    assert_string_equal(answered(f, "ErrorRecoveryLevel"), "0");
    assert_int_equal(f->p.error_recovery_level, 0);
    assert_int_equal(nego(f, "ErrorRecoveryLevel", "3"), ISC_KEY_REJECT);
}

static void test_max_connections_is_negotiated_down_to_one(void **state)
{
    struct fx *f = *state;
    assert_int_equal(nego(f, "MaxConnections", "8"), ISC_KEY_OK);
    assert_string_equal(answered(f, "MaxConnections"), "1");
    assert_int_equal(f->p.max_connections, 1);
}

static void test_max_recv_data_segment_length_is_a_declaration_without_answer(void **state)
{
    struct fx *f = *state;
    assert_int_equal(nego(f, "MaxRecvDataSegmentLength", "65536"), ISC_KEY_OK);
    assert_null(answered(f, "MaxRecvDataSegmentLength"));
    assert_int_equal(f->out.len, 0);
    assert_int_equal(f->p.max_send_dsl, 65536);
    assert_int_equal(nego(f, "MaxRecvDataSegmentLength", "511"), ISC_KEY_REJECT);
    assert_int_equal(f->p.max_send_dsl, 65536);
    assert_int_equal(nego(f, "MaxRecvDataSegmentLength", "16777216"), ISC_KEY_REJECT);
}

static void test_unknown_and_private_extension_keys_answer_not_understood(void **state)
{
    struct fx *f = *state;
    assert_int_equal(nego(f, "X-com.example.Feature", "Yes"), ISC_KEY_OK);
    assert_string_equal(answered(f, "X-com.example.Feature"), "NotUnderstood");
    assert_int_equal(nego(f, "FancyNewKey", "1"), ISC_KEY_OK);
    assert_string_equal(answered(f, "FancyNewKey"), "NotUnderstood");
    assert_int_equal(nego(f, "X#com.example.Other", "1"), ISC_KEY_OK);
    assert_string_equal(answered(f, "X#com.example.Other"), "NotUnderstood");
}

static void test_session_keys_are_irrelevant_in_a_discovery_session(void **state)
{
    struct fx *f = *state;
    static const char *irr[][2] = {{"MaxConnections", "1"},    {"InitialR2T", "No"},
                                   {"ImmediateData", "Yes"},   {"MaxBurstLength", "262144"},
                                   {"FirstBurstLength", "65536"}, {"MaxOutstandingR2T", "1"},
                                   {"DataPDUInOrder", "Yes"},  {"DataSequenceInOrder", "Yes"}};
    for (unsigned i = 0; i < sizeof(irr) / sizeof(irr[0]); i++) {
        assert_int_equal(nego_disc(f, irr[i][0], irr[i][1]), ISC_KEY_OK);
        assert_string_equal(answered(f, irr[i][0]), "Irrelevant");
    }
    /* Connection keys still apply to a discovery session. */
    assert_int_equal(nego_disc(f, "HeaderDigest", "CRC32C"), ISC_KEY_OK);
    assert_string_equal(answered(f, "HeaderDigest"), "CRC32C");
    assert_int_equal(nego_disc(f, "MaxRecvDataSegmentLength", "32768"), ISC_KEY_OK);
    assert_int_equal(f->p.max_send_dsl, 32768);
}

static void test_obsolete_marker_keys_answer_reject(void **state)
{
    struct fx *f = *state;
    assert_int_equal(nego(f, "OFMarker", "No"), ISC_KEY_OK);
    assert_string_equal(answered(f, "OFMarker"), "Reject");
    assert_int_equal(nego(f, "IFMarker", "Yes"), ISC_KEY_OK);
    assert_string_equal(answered(f, "IFMarker"), "Reject");
    assert_int_equal(nego(f, "OFMarkInt", "2048~8192"), ISC_KEY_OK);
    assert_string_equal(answered(f, "OFMarkInt"), "Reject");
    assert_int_equal(nego(f, "IFMarkInt", "2048"), ISC_KEY_OK);
    assert_string_equal(answered(f, "IFMarkInt"), "Reject");
}

static void test_task_reporting_and_protocol_level_and_rdma(void **state)
{
    struct fx *f = *state;
    assert_int_equal(nego(f, "TaskReporting", "FastAbort,RFC3720"), ISC_KEY_OK);
    assert_string_equal(answered(f, "TaskReporting"), "RFC3720");
    assert_int_equal(nego(f, "TaskReporting", "FastAbort"), ISC_KEY_REJECT);
    assert_int_equal(nego(f, "iSCSIProtocolLevel", "2"), ISC_KEY_OK);
    assert_string_equal(answered(f, "iSCSIProtocolLevel"), "1");
    assert_int_equal(nego(f, "RDMAExtensions", "Yes"), ISC_KEY_OK);
    assert_string_equal(answered(f, "RDMAExtensions"), "No");
}

static void test_login_keys_are_returned_to_the_state_machine(void **state)
{
    struct fx *f = *state;
    static const char *k[] = {"InitiatorName", "SessionType", "TargetName", "AuthMethod", "CHAP_A", "SendTargets",
                              "InitiatorAlias"};
    for (unsigned i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        assert_int_equal(nego(f, k[i], "x"), ISC_KEY_NOT_OPERATIONAL);
        assert_int_equal(f->out.len, 0);
    }
}

static void test_leading_only_keys_are_rejected_in_full_feature_phase(void **state)
{
    struct fx *f = *state;
    struct isc_key_ctx ffp = {.discovery = false, .ffp = true};
    isc_text_reset(&f->out);
    f->p.max_burst = 262144;
    assert_int_equal(isc_key_negotiate_ex(&f->p, &f->lim, &ffp, "MaxBurstLength", "512", &f->out),
                     ISC_KEY_REJECT);
    assert_string_equal(answered(f, "MaxBurstLength"), "Reject");
    assert_int_equal(f->p.max_burst, 262144);
    isc_text_reset(&f->out);
    assert_int_equal(isc_key_negotiate_ex(&f->p, &f->lim, &ffp, "HeaderDigest", "CRC32C", &f->out),
                     ISC_KEY_REJECT);
    /* RFC 7143 13.12: MaxRecvDataSegmentLength (Use: ALL) may be redeclared in full feature phase. */
    isc_text_reset(&f->out);
    assert_int_equal(isc_key_negotiate_ex(&f->p, &f->lim, &ffp, "MaxRecvDataSegmentLength", "4096", &f->out),
                     ISC_KEY_OK);
    assert_int_equal(f->p.max_send_dsl, 4096);
}

static void test_key_offered_twice_is_detected(void **state)
{
    struct isc_key_seen s;
    isc_key_seen_reset(&s);
    assert_false(isc_key_seen_test_and_mark(&s, "MaxBurstLength"));
    assert_false(isc_key_seen_test_and_mark(&s, "InitiatorName"));
    assert_true(isc_key_seen_test_and_mark(&s, "MaxBurstLength"));
    assert_true(isc_key_seen_test(&s, "InitiatorName"));
    assert_false(isc_key_seen_test(&s, "FirstBurstLength"));
    /* Keys outside the table are not tracked. */
    assert_false(isc_key_seen_test_and_mark(&s, "X-foo"));
    assert_false(isc_key_seen_test_and_mark(&s, "X-foo"));
    isc_key_seen_reset(&s);
    assert_false(isc_key_seen_test(&s, "MaxBurstLength"));
}

static void test_key_properties_follow_rfc7143_use_and_scope(void **state)
{
    unsigned p = isc_key_props("MaxRecvDataSegmentLength");
    assert_true(p & ISC_KEYP_ALL);
    assert_true(p & ISC_KEYP_DECLARATIVE);
    assert_false(p & ISC_KEYP_SESSION_WIDE);
    p = isc_key_props("HeaderDigest");
    assert_true(p & ISC_KEYP_IO);
    assert_false(p & ISC_KEYP_SESSION_WIDE);
    p = isc_key_props("MaxBurstLength");
    assert_true(p & ISC_KEYP_LO);
    assert_true(p & ISC_KEYP_SESSION_WIDE);
    assert_true(isc_key_props("AuthMethod") & ISC_KEYP_SECURITY);
    assert_int_equal(isc_key_props("NoSuchKey"), 0);
}

static void test_declare_missing_declares_our_max_recv_data_segment_length(void **state)
{
    struct fx *f = *state;
    struct isc_key_seen s;
    isc_key_seen_reset(&s);
    f->lim.max_recv_dsl = 131072;
    isc_text_reset(&f->out);
    assert_int_equal(isc_key_declare_missing(&f->p, &f->lim, false, &s, &f->out), 0);
    assert_string_equal(answered(f, "MaxRecvDataSegmentLength"), "131072");
    isc_params_finalize(&f->p, &f->lim);
    assert_int_equal(f->p.max_recv_dsl, 131072);
}

static void test_finalize_caps_first_burst_by_max_burst(void **state)
{
    struct fx *f = *state;
    f->lim.max_burst = 1048576;
    f->lim.first_burst = 262144;
    assert_int_equal(nego(f, "FirstBurstLength", "262144"), ISC_KEY_OK);
    assert_int_equal(nego(f, "MaxBurstLength", "65536"), ISC_KEY_OK);
    isc_params_finalize(&f->p, &f->lim);
    assert_int_equal(f->p.first_burst, 65536);
    assert_int_equal(f->p.max_burst, 65536);
}

static void test_first_burst_is_irrelevant_when_no_unsolicited_data_can_flow(void **state)
{
    struct fx *f = *state;
    f->lim.initial_r2t = true;
    assert_int_equal(nego(f, "InitialR2T", "Yes"), ISC_KEY_OK);
    assert_int_equal(nego(f, "ImmediateData", "No"), ISC_KEY_OK);
    assert_int_equal(nego(f, "FirstBurstLength", "4096"), ISC_KEY_OK);
    assert_string_equal(answered(f, "FirstBurstLength"), "Irrelevant");
    assert_int_equal(f->p.first_burst, 65536);
    /* With immediate data it matters again. */
    assert_int_equal(nego(f, "ImmediateData", "Yes"), ISC_KEY_OK);
    assert_int_equal(nego(f, "FirstBurstLength", "4096"), ISC_KEY_OK);
    assert_string_equal(answered(f, "FirstBurstLength"), "4096");
}

static void test_simple_value_longer_than_255_bytes_answers_reject(void **state)
{
    struct fx *f = *state;
    char v[300];
    memset(v, '1', sizeof(v) - 1);
    v[sizeof(v) - 1] = '\0';
    assert_int_equal(nego(f, "MaxBurstLength", v), ISC_KEY_REJECT);
}

static void test_response_constants_offered_as_values_answer_nothing(void **state)
{
    struct fx *f = *state;
    f->p.max_burst = 262144;
    assert_int_equal(nego(f, "MaxBurstLength", "Reject"), ISC_KEY_OK);
    assert_int_equal(f->out.len, 0);
    assert_int_equal(nego(f, "InitialR2T", "NotUnderstood"), ISC_KEY_OK);
    assert_int_equal(nego(f, "ImmediateData", "Irrelevant"), ISC_KEY_OK);
    assert_int_equal(f->out.len, 0);
    assert_int_equal(f->p.max_burst, 262144);
}

/* ---- text codec ---- */

static void test_text_add_builds_nul_terminated_pairs(void **state)
{
    struct isc_text t;
    isc_text_init(&t);
    assert_int_equal(isc_text_add(&t, "A", "1"), 0);
    assert_int_equal(isc_text_add(&t, "Bee", ""), 0);
    assert_int_equal(t.len, 4 + 5);
    assert_memory_equal(t.buf, "A=1\0Bee=\0", 9);
    for (int i = 0; i < 2000; i++)
        assert_int_equal(isc_text_add(&t, "Key", "value"), 0);
    assert_int_equal(t.len, 9 + 2000 * 10);
    isc_text_reset(&t);
    assert_int_equal(t.len, 0);
    isc_text_free(&t);
    assert_null(t.buf);
}

static int next(struct isc_text_iter *it, char *k, char *v)
{
    return isc_text_next(it, k, ISC_KEY_NAME_MAX + 1, v, ISC_VALUE_MAX + 1);
}

static void test_text_iterator_yields_pairs_and_skips_stray_nuls(void **state)
{
    static const uint8_t d[] = "\0InitiatorName=iqn.x\0\0SessionType=Normal\0Empty=\0";
    struct isc_text_iter it;
    char k[ISC_KEY_NAME_MAX + 1], v[ISC_VALUE_MAX + 1];
    isc_text_iter_init(&it, d, sizeof(d) - 1);
    assert_int_equal(next(&it, k, v), 1);
    assert_string_equal(k, "InitiatorName");
    assert_string_equal(v, "iqn.x");
    assert_int_equal(next(&it, k, v), 1);
    assert_string_equal(k, "SessionType");
    assert_string_equal(v, "Normal");
    assert_int_equal(next(&it, k, v), 1);
    assert_string_equal(k, "Empty");
    assert_string_equal(v, "");
    assert_int_equal(next(&it, k, v), 0);
    assert_int_equal(next(&it, k, v), 0);
    isc_text_iter_init(&it, NULL, 0);
    assert_int_equal(next(&it, k, v), 0);
}

static void test_text_iterator_rejects_malformed_pairs_and_moves_on(void **state)
{
    struct isc_text_iter it;
    char k[ISC_KEY_NAME_MAX + 1], v[ISC_VALUE_MAX + 1];
    /* No '=', then an empty key, then a good pair. */
    static const uint8_t d1[] = "NoEquals\0=value\0Good=1\0";
    isc_text_iter_init(&it, d1, sizeof(d1) - 1);
    assert_int_equal(next(&it, k, v), -EINVAL);
    assert_int_equal(next(&it, k, v), -EINVAL);
    assert_int_equal(next(&it, k, v), 1);
    assert_string_equal(k, "Good");
    /* A last pair without its NUL. */
    static const uint8_t d2[] = {'A', '=', '1'};
    isc_text_iter_init(&it, d2, sizeof(d2));
    assert_int_equal(next(&it, k, v), -EINVAL);
    assert_int_equal(next(&it, k, v), 0);
    /* Non-ASCII and forbidden characters in a key, control characters in a value. */
    static const uint8_t d3[] = "K\xc3\xa9y=1\0Sp ace=1\0Ctl=a\x01z\0";
    isc_text_iter_init(&it, d3, sizeof(d3) - 1);
    assert_int_equal(next(&it, k, v), -EINVAL);
    assert_int_equal(next(&it, k, v), -EINVAL);
    assert_int_equal(next(&it, k, v), -EINVAL);
    assert_int_equal(next(&it, k, v), 0);
    /* UTF-8 in a value is allowed (InitiatorAlias may be any text). */
    static const uint8_t d4[] = "InitiatorAlias=caf\xc3\xa9\0";
    isc_text_iter_init(&it, d4, sizeof(d4) - 1);
    assert_int_equal(next(&it, k, v), 1);
    assert_string_equal(v, "caf\xc3\xa9");
}

static void test_text_iterator_enforces_key_and_value_lengths(void **state)
{
    struct isc_text_iter it;
    char k[ISC_KEY_NAME_MAX + 1], v[ISC_VALUE_MAX + 1];
    uint8_t buf[ISC_VALUE_MAX + 200];
    size_t n;
    /* A 63-byte key is the longest allowed (RFC 7143 6.1); 64 is too long. */
    for (int len = 63; len <= 64; len++) {
        memset(buf, 'k', (size_t)len);
        memcpy(buf + len, "=1", 3);
        isc_text_iter_init(&it, buf, (size_t)len + 3);
        assert_int_equal(next(&it, k, v), len == 63 ? 1 : -EINVAL);
    }
    /* An 8192-byte value is accepted, 8193 is not. */
    for (int len = ISC_VALUE_MAX; len <= ISC_VALUE_MAX + 1; len++) {
        memcpy(buf, "CHAP_C=", 7);
        memset(buf + 7, 'a', (size_t)len);
        buf[7 + len] = 0;
        n = 8 + (size_t)len;
        isc_text_iter_init(&it, buf, n);
        assert_int_equal(next(&it, k, v), len == ISC_VALUE_MAX ? 1 : -EINVAL);
    }
    /* A value that does not fit the caller's buffer is refused rather than truncated. */
    static const uint8_t d[] = "Key=123456\0";
    char small[4];
    isc_text_iter_init(&it, d, sizeof(d) - 1);
    assert_int_equal(isc_text_next(&it, k, sizeof(k), small, sizeof(small)), -EINVAL);
}

static void test_binary_values_decode_hex_and_base64(void **state)
{
    uint8_t out[16];
    assert_int_equal(isc_parse_binary("0x0102ff", out, sizeof(out)), 3);
    assert_int_equal(out[2], 0xff);
    /* An odd number of hex digits has an implied leading zero. */
    assert_int_equal(isc_parse_binary("0xabc", out, sizeof(out)), 2);
    assert_int_equal(out[0], 0x0a);
    assert_int_equal(out[1], 0xbc);
    assert_int_equal(isc_parse_binary("0bAQL/", out, sizeof(out)), 3);
    assert_int_equal(out[0], 0x01);
    assert_int_equal(out[1], 0x02);
    assert_int_equal(out[2], 0xff);
    assert_int_equal(isc_parse_binary("0bAQ==", out, sizeof(out)), 1);
    assert_int_equal(out[0], 0x01);
    static const char *bad[] = {"", "0", "0x", "0b", "12", "0xzz", "0bA", "0bAQ=A", "0bA===", "0q12"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(isc_parse_binary(bad[i], out, sizeof(out)), -EINVAL);
    /* Longer than the caller's buffer. */
    assert_int_equal(isc_parse_binary("0x000102030405060708090a0b0c0d0e0f10", out, sizeof(out)), -EINVAL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_params_defaults_follow_rfc7143_13),
        T(test_digest_list_answers_first_value_we_support),
        T(test_digest_list_without_acceptable_value_answers_reject),
        T(test_max_burst_length_result_is_minimum_of_offer_and_limit),
        T(test_first_burst_and_outstanding_r2t_are_bounded_by_our_limits),
        T(test_numeric_value_outside_rfc_range_or_malformed_answers_reject),
        T(test_hex_constant_numeric_values_are_accepted),
        T(test_default_time2wait_result_is_maximum_and_time2retain_minimum),
        T(test_initial_r2t_result_is_or),
        T(test_immediate_data_result_is_and),
        T(test_data_order_keys_are_or_and_we_ask_for_order),
        T(test_boolean_value_other_than_yes_or_no_answers_reject),
        T(test_error_recovery_level_is_negotiated_down_to_zero),
        T(test_max_connections_is_negotiated_down_to_one),
        T(test_max_recv_data_segment_length_is_a_declaration_without_answer),
        T(test_unknown_and_private_extension_keys_answer_not_understood),
        T(test_session_keys_are_irrelevant_in_a_discovery_session),
        T(test_obsolete_marker_keys_answer_reject),
        T(test_task_reporting_and_protocol_level_and_rdma),
        T(test_login_keys_are_returned_to_the_state_machine),
        T(test_leading_only_keys_are_rejected_in_full_feature_phase),
        T(test_key_offered_twice_is_detected),
        T(test_key_properties_follow_rfc7143_use_and_scope),
        T(test_declare_missing_declares_our_max_recv_data_segment_length),
        T(test_finalize_caps_first_burst_by_max_burst),
        T(test_first_burst_is_irrelevant_when_no_unsolicited_data_can_flow),
        T(test_simple_value_longer_than_255_bytes_answers_reject),
        T(test_response_constants_offered_as_values_answer_nothing),
        T(test_text_add_builds_nul_terminated_pairs),
        T(test_text_iterator_yields_pairs_and_skips_stray_nuls),
        T(test_text_iterator_rejects_malformed_pairs_and_moves_on),
        T(test_text_iterator_enforces_key_and_value_lengths),
        T(test_binary_values_decode_hex_and_base64),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
