/* Unit tests of transport/isc_chap.c: MD5 (RFC 1321 A.5 test suite) and the target side of iSCSI CHAP
 * (RFC 7143 12.1.3, RFC 1994). Expected CHAP responses were computed independently as
 * MD5(identifier || secret || challenge). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "transport/isc_chap.h"

static void hex(char *out, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void expect_md5(const char *msg, const char *want)
{
    uint8_t d[ISC_MD5_LEN];
    char h[2 * ISC_MD5_LEN + 1];
    isc_md5(msg, strlen(msg), d);
    hex(h, d, sizeof(d));
    assert_string_equal(h, want);
}

static void test_md5_matches_rfc1321_test_suite(void **state)
{
    expect_md5("", "d41d8cd98f00b204e9800998ecf8427e");
    expect_md5("a", "0cc175b9c0f1b6a831c399e269772661");
    expect_md5("abc", "900150983cd24fb0d6963f7d28e17f72");
    expect_md5("message digest", "f96b697d7cb7938d525a2f31aaf161d0");
    expect_md5("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b");
    expect_md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
               "d174ab98d277d9f5a5611c2c9f419d9f");
    expect_md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890",
               "57edf4a22be3c955ac49da2e2107b67a");
}

static void test_md5_fed_in_pieces_equals_one_shot(void **state)
{
    uint8_t msg[200], whole[ISC_MD5_LEN], part[ISC_MD5_LEN];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7);
    for (size_t len = 0; len <= sizeof(msg); len += 13) {
        isc_md5(msg, len, whole);
        for (size_t cut = 0; cut <= len; cut += 5) {
            struct isc_md5 m;
            isc_md5_init(&m);
            isc_md5_update(&m, msg, cut);
            isc_md5_update(&m, msg + cut, len - cut);
            isc_md5_final(&m, part);
            assert_memory_equal(whole, part, ISC_MD5_LEN);
        }
    }
}

/* ---- CHAP fixture ----
 * Initiator "iqn.2026-11.org.test:init" with secret "initiator-secret-1"; the target, for mutual CHAP, is
 * "iqn.2026-11.org.prtarget:disk" with secret "target-secret-000002". The random source hands out identifier
 * 0x2a and the challenge 00 01 02 .. 0f. */

struct fx {
    struct isc_chap_cfg cfg;
    struct isc_chap chap;
    struct isc_text out;
    int random_calls;
    int random_fail;
};

static int fake_random(void *ctx, uint8_t *buf, size_t len)
{
    struct fx *f = ctx;
    f->random_calls++;
    if (f->random_fail)
        return -EIO;
    assert_int_equal(len, 1 + ISC_CHAP_CHALLENGE_LEN);
    buf[0] = 0x2a;
    for (size_t i = 1; i < len; i++)
        buf[i] = (uint8_t)(i - 1);
    return 0;
}

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof(f));
    f.cfg.user = "iqn.2026-11.org.test:init";
    f.cfg.secret = "initiator-secret-1";
    f.cfg.target_user = "iqn.2026-11.org.prtarget:disk";
    f.cfg.target_secret = "target-secret-000002";
    f.cfg.random = fake_random;
    f.cfg.random_ctx = &f;
    isc_text_init(&f.out);
    assert_int_equal(isc_chap_start(&f.chap, &f.cfg), 0);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    isc_text_free(&f->out);
    return 0;
}

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

static enum isc_chap_result step1(struct fx *f, const char *alg)
{
    struct isc_kv kv[] = {{"CHAP_A", alg}};
    isc_text_reset(&f->out);
    return isc_chap_step(&f->chap, kv, 1, &f->out);
}

#define GOOD_R "0xe79fdcbe5e09993799a5f67c719b8cdc"
#define MUTUAL_C "0xdeadbeefdeadbeefdeadbeefdeadbeef"
#define MUTUAL_R "0xef7af3668b267206865860b7d4a57d85"

static enum isc_chap_result step2(struct fx *f, const struct isc_kv *kv, unsigned n)
{
    isc_text_reset(&f->out);
    return isc_chap_step(&f->chap, kv, n, &f->out);
}

static void test_md5_offered_gets_algorithm_identifier_and_challenge(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step1(f, "7,5"), ISC_CHAP_CONTINUE);
    assert_string_equal(answered(f, "CHAP_A"), "5");
    assert_string_equal(answered(f, "CHAP_I"), "42");
    assert_string_equal(answered(f, "CHAP_C"), "0x000102030405060708090a0b0c0d0e0f");
}

static void test_no_md5_in_chap_a_answers_reject_and_fails(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step1(f, "6,7"), ISC_CHAP_AUTH_FAIL);
    assert_string_equal(answered(f, "CHAP_A"), "Reject");
    assert_null(answered(f, "CHAP_C"));
}

static void test_correct_response_authenticates_initiator(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    struct isc_kv kv[] = {{"CHAP_N", "iqn.2026-11.org.test:init"}, {"CHAP_R", GOOD_R}};
    assert_int_equal(step2(f, kv, 2), ISC_CHAP_DONE);
    assert_int_equal(f->out.len, 0);
}

static void test_response_in_base64_is_accepted(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    /* The same 16 bytes as GOOD_R, base64-encoded (RFC 7143 6.1 "0b" constants). */
    struct isc_kv kv[] = {{"CHAP_N", "iqn.2026-11.org.test:init"}, {"CHAP_R", "0b55/cvl4JmTeZpfZ8cZuM3A=="}};
    assert_int_equal(step2(f, kv, 2), ISC_CHAP_DONE);
}

static void test_wrong_response_fails_authentication(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    struct isc_kv kv[] = {{"CHAP_N", "iqn.2026-11.org.test:init"}, {"CHAP_R", "0xe79fdcbe5e09993799a5f67c719b8cdd"}};
    assert_int_equal(step2(f, kv, 2), ISC_CHAP_AUTH_FAIL);
    /* A response of the wrong length fails the same way. */
    assert_int_equal(isc_chap_start(&f->chap, &f->cfg), 0);
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    kv[1].value = "0xe79fdcbe5e09993799a5f67c719b8c";
    assert_int_equal(step2(f, kv, 2), ISC_CHAP_AUTH_FAIL);
}

static void test_wrong_name_fails_authentication(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    struct isc_kv kv[] = {{"CHAP_N", "iqn.2026-11.org.test:other"}, {"CHAP_R", GOOD_R}};
    assert_int_equal(step2(f, kv, 2), ISC_CHAP_AUTH_FAIL);
}

static void test_missing_or_malformed_response_is_initiator_error(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    struct isc_kv only_n[] = {{"CHAP_N", "iqn.2026-11.org.test:init"}};
    assert_int_equal(step2(f, only_n, 1), ISC_CHAP_PROTO_ERROR);

    assert_int_equal(isc_chap_start(&f->chap, &f->cfg), 0);
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    struct isc_kv garbage[] = {{"CHAP_N", "iqn.2026-11.org.test:init"}, {"CHAP_R", "e79fdcbe"}};
    assert_int_equal(step2(f, garbage, 2), ISC_CHAP_PROTO_ERROR);

    assert_int_equal(isc_chap_start(&f->chap, &f->cfg), 0);
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    struct isc_kv twice[] = {{"CHAP_N", "iqn.2026-11.org.test:init"}, {"CHAP_R", GOOD_R}, {"CHAP_R", GOOD_R}};
    assert_int_equal(step2(f, twice, 3), ISC_CHAP_PROTO_ERROR);
}

static void test_chap_i_without_chap_c_is_initiator_error(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    struct isc_kv kv[] = {{"CHAP_N", "iqn.2026-11.org.test:init"}, {"CHAP_R", GOOD_R}, {"CHAP_I", "7"}};
    assert_int_equal(step2(f, kv, 3), ISC_CHAP_PROTO_ERROR);
}

static void test_mutual_chap_answers_target_name_and_response(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    struct isc_kv kv[] = {{"CHAP_N", "iqn.2026-11.org.test:init"},
                          {"CHAP_R", GOOD_R},
                          {"CHAP_I", "7"},
                          {"CHAP_C", MUTUAL_C}};
    assert_int_equal(step2(f, kv, 4), ISC_CHAP_DONE);
    assert_string_equal(answered(f, "CHAP_N"), "iqn.2026-11.org.prtarget:disk");
    assert_string_equal(answered(f, "CHAP_R"), MUTUAL_R);
}

static void test_mutual_chap_is_refused_without_target_credentials(void **state)
{
    struct fx *f = *state;
    f->cfg.target_user = NULL;
    f->cfg.target_secret = NULL;
    assert_int_equal(isc_chap_start(&f->chap, &f->cfg), 0);
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    struct isc_kv kv[] = {{"CHAP_N", "iqn.2026-11.org.test:init"},
                          {"CHAP_R", GOOD_R},
                          {"CHAP_I", "7"},
                          {"CHAP_C", MUTUAL_C}};
    assert_int_equal(step2(f, kv, 4), ISC_CHAP_AUTH_FAIL);
    assert_null(answered(f, "CHAP_R"));
}

static void test_reflected_challenge_fails_authentication(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    struct isc_kv kv[] = {{"CHAP_N", "iqn.2026-11.org.test:init"},
                          {"CHAP_R", GOOD_R},
                          {"CHAP_I", "42"},
                          {"CHAP_C", "0x000102030405060708090a0b0c0d0e0f"}};
    assert_int_equal(step2(f, kv, 4), ISC_CHAP_AUTH_FAIL);
    assert_null(answered(f, "CHAP_R"));
}

static void test_mutual_response_is_withheld_when_initiator_fails(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    struct isc_kv kv[] = {{"CHAP_N", "iqn.2026-11.org.test:init"},
                          {"CHAP_R", "0x00000000000000000000000000000000"},
                          {"CHAP_I", "7"},
                          {"CHAP_C", MUTUAL_C}};
    assert_int_equal(step2(f, kv, 4), ISC_CHAP_AUTH_FAIL);
    assert_int_equal(f->out.len, 0);
}

static void test_mutual_identifier_out_of_range_is_initiator_error(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    struct isc_kv kv[] = {{"CHAP_N", "iqn.2026-11.org.test:init"},
                          {"CHAP_R", GOOD_R},
                          {"CHAP_I", "256"},
                          {"CHAP_C", MUTUAL_C}};
    assert_int_equal(step2(f, kv, 4), ISC_CHAP_PROTO_ERROR);
}

static void test_response_before_challenge_is_initiator_error(void **state)
{
    struct fx *f = *state;
    struct isc_kv kv[] = {{"CHAP_N", "iqn.2026-11.org.test:init"}, {"CHAP_R", GOOD_R}};
    assert_int_equal(step2(f, kv, 2), ISC_CHAP_PROTO_ERROR);
    assert_int_equal(step2(f, NULL, 0), ISC_CHAP_AUTH_FAIL); /* failed for good */
    assert_int_equal(f->random_calls, 0);
}

static void test_chap_keys_after_success_are_initiator_error(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    struct isc_kv kv[] = {{"CHAP_N", "iqn.2026-11.org.test:init"}, {"CHAP_R", GOOD_R}};
    assert_int_equal(step2(f, kv, 2), ISC_CHAP_DONE);
    assert_int_equal(step2(f, kv, 2), ISC_CHAP_PROTO_ERROR);
}

static void test_config_check_rejects_short_missing_or_shared_secrets(void **state)
{
    struct fx *f = *state;
    struct isc_chap_cfg c = f->cfg;
    assert_int_equal(isc_chap_cfg_check(&c), 0);
    c.secret = "short-11byt"; /* 11 bytes: below 96 bits */
    assert_int_equal(isc_chap_cfg_check(&c), -EINVAL);
    c = f->cfg;
    c.target_secret = c.secret;
    assert_int_equal(isc_chap_cfg_check(&c), -EINVAL);
    c = f->cfg;
    c.target_user = NULL;
    assert_int_equal(isc_chap_cfg_check(&c), -EINVAL);
    c = f->cfg;
    c.user = NULL;
    assert_int_equal(isc_chap_cfg_check(&c), -EINVAL);
    assert_int_equal(isc_chap_cfg_check(NULL), -EINVAL);
    assert_int_equal(isc_chap_start(&f->chap, &c), -EINVAL);
    /* A chap object whose start failed never authenticates anyone. */
    assert_int_equal(step1(f, "5"), ISC_CHAP_AUTH_FAIL);
}

static void test_random_source_failure_is_target_error(void **state)
{
    struct fx *f = *state;
    f->random_fail = 1;
    assert_int_equal(step1(f, "5"), ISC_CHAP_TARGET_ERROR);
}

static void test_system_random_gives_fresh_challenges(void **state)
{
    struct fx *f = *state;
    char first[2 * ISC_CHAP_CHALLENGE_LEN + 3];
    f->cfg.random = NULL;
    assert_int_equal(isc_chap_start(&f->chap, &f->cfg), 0);
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    strcpy(first, answered(f, "CHAP_C"));
    assert_int_equal(strlen(first), 2 + 2 * ISC_CHAP_CHALLENGE_LEN);
    assert_int_equal(isc_chap_start(&f->chap, &f->cfg), 0);
    assert_int_equal(step1(f, "5"), ISC_CHAP_CONTINUE);
    assert_string_not_equal(answered(f, "CHAP_C"), first);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md5_matches_rfc1321_test_suite),
        cmocka_unit_test(test_md5_fed_in_pieces_equals_one_shot),
        T(test_md5_offered_gets_algorithm_identifier_and_challenge),
        T(test_no_md5_in_chap_a_answers_reject_and_fails),
        T(test_correct_response_authenticates_initiator),
        T(test_response_in_base64_is_accepted),
        T(test_wrong_response_fails_authentication),
        T(test_wrong_name_fails_authentication),
        T(test_missing_or_malformed_response_is_initiator_error),
        T(test_chap_i_without_chap_c_is_initiator_error),
        T(test_mutual_chap_answers_target_name_and_response),
        T(test_mutual_chap_is_refused_without_target_credentials),
        T(test_reflected_challenge_fails_authentication),
        T(test_mutual_response_is_withheld_when_initiator_fails),
        T(test_mutual_identifier_out_of_range_is_initiator_error),
        T(test_response_before_challenge_is_initiator_error),
        T(test_chap_keys_after_success_are_initiator_error),
        T(test_config_check_rejects_short_missing_or_shared_secrets),
        T(test_random_source_failure_is_target_error),
        T(test_system_random_gives_fresh_challenges),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
