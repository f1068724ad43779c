/* Unit tests of transport/isc_pdu.c: CRC32C and digests (RFC 7143 13.1, Appendix B.4), LUN addressing
 * (SAM-5 4.6), BHS builders (RFC 7143 11). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "transport/isc_pdu.h"

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void expect_digest_bytes(const void *data, size_t len, const uint8_t want[4])
{
    uint8_t got[4];
    isc_digest_put(got, isc_crc32c(data, len));
    assert_memory_equal(got, want, 4);
}

/* RFC 7143 B.4 gives each example as the four digest bytes in wire order. */
static void test_crc32c_matches_rfc7143_appendix_b4_examples(void **state)
{
    uint8_t zeros[32] = {0}, ones[32], up[32], down[32];
    for (int i = 0; i < 32; i++) {
        ones[i] = 0xff;
        up[i] = (uint8_t)i;
        down[i] = (uint8_t)(31 - i);
    }
    static const uint8_t read_pdu[48] = {0x01, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                         0x14, 0, 0, 0, 0, 0, 0x04, 0, 0, 0, 0, 0x14, 0, 0, 0, 0x18,
                                         0x28, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0};
    expect_digest_bytes(zeros, 32, (const uint8_t[]){0xaa, 0x36, 0x91, 0x8a});
    expect_digest_bytes(ones, 32, (const uint8_t[]){0x43, 0xab, 0xa8, 0x62});
    expect_digest_bytes(up, 32, (const uint8_t[]){0x4e, 0x79, 0xdd, 0x46});
    expect_digest_bytes(down, 32, (const uint8_t[]){0x5c, 0xdb, 0x3f, 0x11});
    expect_digest_bytes(read_pdu, 48, (const uint8_t[]){0x56, 0x3a, 0x96, 0xd9});
}

static void test_crc32c_check_value_of_123456789(void **state)
{
    /* The catalogued check value of CRC-32C (Castagnoli) for the ASCII string "123456789". */
    assert_int_equal(isc_crc32c("123456789", 9), 0xe3069283u);
    assert_int_equal(isc_crc32c(NULL, 0), 0);
}

static void test_crc32c_portable_and_sse42_agree_on_every_length_and_alignment(void **state)
{
    uint8_t buf[600];
    uint32_t seed = 12345;
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)xorshift(&seed);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof(buf); len += (len < 64 ? 1 : 37)) {
            uint32_t a = isc__crc32c_sw(0xffffffffu, buf + off, len);
            uint32_t b = isc__crc32c_hw(0xffffffffu, buf + off, len);
            assert_int_equal(a, b);
        }
}

static void test_crc32c_three_lane_path_matches_portable_on_long_buffers(void **state)
{
    /* Lengths around the 3 x 128 and 3 x 1024 byte blocks of the interleaved SSE4.2 path, and a 256 KiB segment. */
    static uint8_t buf[262144 + 16];
    uint32_t seed = 777;
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)xorshift(&seed);
    static const size_t lens[] = {383, 384, 385, 390, 767, 768, 1151, 3071, 3072, 3073, 3456, 3457, 4096, 6143,
                                  6144, 8192, 9000, 65536, 262144};
    for (size_t off = 0; off < 9; off++)
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            uint32_t start = xorshift(&seed);
            assert_int_equal(isc__crc32c_hw(start, buf + off, lens[i]), isc__crc32c_sw(start, buf + off, lens[i]));
        }
}

static void test_crc32c_incremental_pieces_equal_one_shot(void **state)
{
    uint8_t buf[4096];
    uint32_t seed = 99;
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)xorshift(&seed);
    uint32_t whole = isc_crc32c(buf, sizeof(buf));
    for (int round = 0; round < 200; round++) {
        uint32_t crc = isc_crc32c_init();
        size_t pos = 0;
        while (pos < sizeof(buf)) {
            size_t n = xorshift(&seed) % 300;
            if (n > sizeof(buf) - pos)
                n = sizeof(buf) - pos;
            crc = isc_crc32c_update(crc, buf + pos, n);
            pos += n;
        }
        assert_int_equal(isc_crc32c_final(crc), whole);
    }
}

static void test_digest_is_sent_least_significant_byte_first(void **state)
{
    uint8_t b[4];
    isc_digest_put(b, 0x8a9136aau);
    assert_int_equal(b[0], 0xaa);
    assert_int_equal(b[1], 0x36);
    assert_int_equal(b[2], 0x91);
    assert_int_equal(b[3], 0x8a);
    assert_int_equal(isc_digest_get(b), 0x8a9136aau);
}

static void test_data_digest_covers_zero_padding(void **state)
{
    uint8_t padded[8] = {'a', 'b', 'c', 'd', 'e', 0, 0, 0};
    assert_int_equal(isc_data_digest(padded, 5), isc_crc32c(padded, 8));
    assert_int_not_equal(isc_data_digest(padded, 5), isc_crc32c(padded, 5));
    /* A multiple of four has no padding. */
    assert_int_equal(isc_data_digest(padded, 4), isc_crc32c(padded, 4));
}

static void test_lun_below_256_uses_peripheral_addressing(void **state)
{
    assert_int_equal(isc_lun_encode(0), 0);
    assert_int_equal(isc_lun_encode(1), 0x0001000000000000ull);
    assert_int_equal(isc_lun_encode(255), 0x00ff000000000000ull);
    assert_int_equal(isc_lun_decode(0x0005000000000000ull), 5);
}

static void test_lun_256_to_16383_uses_flat_addressing(void **state)
{
    assert_int_equal(isc_lun_encode(256), 0x4100000000000000ull);
    assert_int_equal(isc_lun_encode(16383), 0x7fff000000000000ull);
    assert_int_equal(isc_lun_decode(0x4100000000000000ull), 256);
    /* Flat addressing may also name a small LUN. */
    assert_int_equal(isc_lun_decode(0x4001000000000000ull), 1);
}

static void test_lun_encode_decode_round_trip_whole_flat_space(void **state)
{
    for (uint64_t lun = 0; lun <= ISC_LUN_MAX_FLAT; lun++)
        assert_int_equal(isc_lun_decode(isc_lun_encode(lun)), lun);
    assert_true(isc_lun_encode(16384) == ISC_LUN_INVALID);
}

static void test_lun_decode_rejects_bus_levels_and_other_methods(void **state)
{
    /* Peripheral addressing with a non-zero bus identifier. */
    assert_true(isc_lun_decode(0x0101000000000000ull) == ISC_LUN_INVALID);
    /* A second addressing level. */
    assert_true(isc_lun_decode(0x0001000100000000ull) == ISC_LUN_INVALID);
    /* Logical unit addressing (10b) and extended addressing (11b, e.g. REPORT LUNS well-known LUN C101h). */
    assert_true(isc_lun_decode(0x8001000000000000ull) == ISC_LUN_INVALID);
    assert_true(isc_lun_decode(0xc101000000000000ull) == ISC_LUN_INVALID);
}

static void test_bhs_setters_write_rfc7143_offsets(void **state)
{
    uint8_t b[ISC_BHS_LEN];
    memset(b, 0xee, sizeof(b));
    isc_bhs_init(b, ISC_OP_SCSI_RSP, ISC_FLAG_FINAL);
    assert_int_equal(b[0], 0x21);
    assert_int_equal(b[1], 0x80);
    for (int i = 2; i < ISC_BHS_LEN; i++)
        assert_int_equal(b[i], 0);
    isc_bhs_set_itt(b, 0x11223344u);
    isc_bhs_set_sn(b, 0x01020304u, 0x05060708u, 0x090a0b0cu);
    isc_bhs_set_resid(b, 0xa1a2a3a4u);
    isc_bhs_set_data_len(b, 0x123456);
    static const uint8_t want_itt[] = {0x11, 0x22, 0x33, 0x44};
    static const uint8_t want_sn[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    static const uint8_t want_resid[] = {0xa1, 0xa2, 0xa3, 0xa4};
    assert_memory_equal(b + 16, want_itt, 4);
    assert_memory_equal(b + 24, want_sn, 12);
    assert_memory_equal(b + 44, want_resid, 4);
    assert_int_equal(isc_bhs_data_len(b), 0x123456);
    assert_int_equal(isc_bhs_itt(b), 0x11223344u);

    isc_bhs_init(b, ISC_OP_R2T, ISC_FLAG_FINAL);
    isc_bhs_set_ttt(b, 7);
    isc_bhs_set_datasn(b, 3);
    isc_bhs_set_bufoff(b, 8192);
    isc_bhs_set_ddtl(b, 65536);
    assert_int_equal(prt_get_be32(b + 20), 7);
    assert_int_equal(prt_get_be32(b + 36), 3);
    assert_int_equal(prt_get_be32(b + 40), 8192);
    assert_int_equal(prt_get_be32(b + 44), 65536);

    isc_bhs_init(b, ISC_OP_LOGIN_RSP, ISC_FLAG_LOGIN_TRANSIT | 0x04 | 0x03);
    isc_bhs_set_login_status(b, 2, 1);
    isc_bhs_set_tsih(b, 0xbeef);
    assert_int_equal(isc_login_csg(b), 1);
    assert_int_equal(isc_login_nsg(b), 3);
    assert_int_equal(b[36], 2);
    assert_int_equal(b[37], 1);
    assert_int_equal(isc_bhs_tsih(b), 0xbeef);
}

static void test_reject_header_has_reason_ffffffff_itt_and_48_byte_data(void **state)
{
    uint8_t b[ISC_BHS_LEN];
    isc_bhs_init_reject(b, ISC_REJECT_DATA_DIGEST);
    assert_int_equal(isc_bhs_opcode(b), ISC_OP_REJECT);
    assert_true(isc_bhs_final(b));
    assert_int_equal(b[2], 0x02);
    assert_int_equal(isc_bhs_itt(b), 0xffffffffu);
    assert_int_equal(isc_bhs_data_len(b), 48);
}

static void test_initiator_field_getters_read_rfc7143_offsets(void **state)
{
    uint8_t b[ISC_BHS_LEN] = {0};
    b[0] = 0x40 | ISC_OP_SCSI_CMD;
    b[4] = 3;
    prt_put_be32(b + 20, 4096);
    prt_put_be32(b + 24, 77);
    prt_put_be32(b + 28, 78);
    b[32] = 0x28;
    assert_true(isc_bhs_immediate(b));
    assert_int_equal(isc_bhs_opcode(b), ISC_OP_SCSI_CMD);
    assert_int_equal(isc_bhs_ahs_len(b), 12);
    assert_int_equal(isc_bhs_edtl(b), 4096);
    assert_int_equal(isc_bhs_cmdsn(b), 77);
    assert_int_equal(isc_bhs_expstatsn(b), 78);
    assert_int_equal(isc_bhs_cdb(b)[0], 0x28);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_matches_rfc7143_appendix_b4_examples),
        cmocka_unit_test(test_crc32c_check_value_of_123456789),
        cmocka_unit_test(test_crc32c_portable_and_sse42_agree_on_every_length_and_alignment),
        cmocka_unit_test(test_crc32c_three_lane_path_matches_portable_on_long_buffers),
        cmocka_unit_test(test_crc32c_incremental_pieces_equal_one_shot),
        cmocka_unit_test(test_digest_is_sent_least_significant_byte_first),
        cmocka_unit_test(test_data_digest_covers_zero_padding),
        cmocka_unit_test(test_lun_below_256_uses_peripheral_addressing),
        cmocka_unit_test(test_lun_256_to_16383_uses_flat_addressing),
        cmocka_unit_test(test_lun_encode_decode_round_trip_whole_flat_space),
        cmocka_unit_test(test_lun_decode_rejects_bus_levels_and_other_methods),
        cmocka_unit_test(test_bhs_setters_write_rfc7143_offsets),
        cmocka_unit_test(test_reject_header_has_reason_ffffffff_itt_and_48_byte_data),
        cmocka_unit_test(test_initiator_field_getters_read_rfc7143_offsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
