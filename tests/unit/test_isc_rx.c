/* Unit tests of transport/isc_rx.c: the incremental PDU reassembler (RFC 7143 11.2 layout, 13.1 digests).
 * Every stream is replayed one byte at a time and in random splits (seeded, many seeds), and each PDU that
 * comes out is compared with the PDU that went in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transport/isc_rx.h"

#define MAX_PDUS 64

struct pdu_spec {
    uint8_t bhs[ISC_BHS_LEN];
    uint8_t ahs[ISC_MAX_AHS_LEN];
    uint32_t ahs_len;
    uint8_t *data;
    uint32_t data_len;
};

struct stream {
    struct pdu_spec pdu[MAX_PDUS];
    unsigned n;
    uint8_t *bytes;
    size_t len, cap;
};

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s ? *s : 1;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void put(struct stream *st, const void *p, size_t n)
{
    if (st->len + n > st->cap) {
        st->cap = (st->len + n) * 2;
        st->bytes = realloc(st->bytes, st->cap);
        assert_non_null(st->bytes);
    }
    memcpy(st->bytes + st->len, p, n);
    st->len += n;
}

/* Append one PDU in wire form (RFC 7143 11.2): BHS, AHS, HeaderDigest, data, zero padding, DataDigest. */
static void emit(struct stream *st, const struct pdu_spec *p, bool hd, bool dd)
{
    static const uint8_t zeros[4];
    uint8_t dig[4];
    size_t start = st->len;
    put(st, p->bhs, ISC_BHS_LEN);
    put(st, p->ahs, p->ahs_len);
    if (hd) {
        isc_digest_put(dig, isc_crc32c(st->bytes + start, ISC_BHS_LEN + p->ahs_len));
        put(st, dig, 4);
    }
    if (p->data_len) {
        put(st, p->data, p->data_len);
        put(st, zeros, isc_pad4(p->data_len));
        if (dd) {
            isc_digest_put(dig, isc_data_digest(p->data, p->data_len));
            put(st, dig, 4);
        }
    }
}

static void make_stream(struct stream *st, uint32_t seed, unsigned n, bool hd, bool dd, uint32_t max_data)
{
    memset(st, 0, sizeof(*st));
    st->n = n;
    for (unsigned i = 0; i < n; i++) {
        struct pdu_spec *p = &st->pdu[i];
        for (int j = 0; j < ISC_BHS_LEN; j++)
            p->bhs[j] = (uint8_t)xorshift(&seed);
        p->bhs[0] = (uint8_t)(xorshift(&seed) & 0x7f);
        /* Mostly no AHS, sometimes a few words, now and then the largest possible. */
        uint32_t r = xorshift(&seed) % 10;
        uint32_t words = r < 6 ? 0 : r < 9 ? 1 + xorshift(&seed) % 4 : 255;
        p->bhs[4] = (uint8_t)words;
        p->ahs_len = words * 4;
        for (uint32_t j = 0; j < p->ahs_len; j++)
            p->ahs[j] = (uint8_t)xorshift(&seed);
        r = xorshift(&seed) % 4;
        p->data_len = r == 0 ? 0 : r == 1 ? xorshift(&seed) % 8 : xorshift(&seed) % (max_data + 1);
        isc_bhs_set_data_len(p->bhs, p->data_len);
        p->data = malloc(p->data_len ? p->data_len : 1);
        assert_non_null(p->data);
        for (uint32_t j = 0; j < p->data_len; j++)
            p->data[j] = (uint8_t)xorshift(&seed);
        emit(st, p, hd, dd);
    }
}

static void free_stream(struct stream *st)
{
    for (unsigned i = 0; i < st->n; i++)
        free(st->pdu[i].data);
    free(st->bytes);
}

static void check_pdu(const struct pdu_spec *want, const struct isc_pdu *got)
{
    assert_memory_equal(got->bhs, want->bhs, ISC_BHS_LEN);
    assert_int_equal(got->ahs_len, want->ahs_len);
    if (want->ahs_len)
        assert_memory_equal(got->ahs, want->ahs, want->ahs_len);
    assert_int_equal(got->data_len, want->data_len);
    if (want->data_len)
        assert_memory_equal(got->data, want->data, want->data_len);
    assert_false(got->data_digest_bad);
    assert_non_null(got->data);
    assert_non_null(got->ahs);
}

/* Feed the whole stream in chunks whose sizes come from chunk(); check every PDU. */
static void replay(const struct stream *st, bool hd, bool dd, bool zero_copy, uint32_t seed, uint32_t max_chunk)
{
    struct isc_rx rx;
    isc_rx_init(&rx, 1u << 16);
    isc_rx_set_digests(&rx, hd, dd);
    isc_rx_set_zero_copy(&rx, zero_copy);
    unsigned got = 0;
    size_t pos = 0;
    while (pos < st->len) {
        size_t n = max_chunk == 1 ? 1 : 1 + xorshift(&seed) % max_chunk;
        if (n > st->len - pos)
            n = st->len - pos;
        /* Copy each chunk into its own buffer so that a zero-copy PDU can only point into the chunk that was
         * fed, as with a real socket read buffer. */
        uint8_t *chunk = malloc(n);
        assert_non_null(chunk);
        memcpy(chunk, st->bytes + pos, n);
        size_t off = 0;
        while (off < n) {
            size_t used;
            struct isc_pdu pdu;
            enum isc_rx_result r = isc_rx_feed(&rx, chunk + off, n - off, &used, &pdu);
            assert_true(used <= n - off);
            off += used;
            if (r == ISC_RX_PDU) {
                assert_true(got < st->n);
                check_pdu(&st->pdu[got], &pdu);
                got++;
            } else {
                assert_int_equal(r, ISC_RX_NEED_MORE);
                assert_int_equal(off, n);
            }
        }
        free(chunk);
        pos += n;
    }
    assert_int_equal(got, st->n);
    assert_true(isc_rx_idle(&rx));
    isc_rx_free(&rx);
}

static void test_one_byte_at_a_time_yields_every_pdu_identical(void **state)
{
    for (int mode = 0; mode < 4; mode++) {
        bool hd = mode & 1, dd = mode & 2;
        struct stream st;
        make_stream(&st, 1000 + (uint32_t)mode, 40, hd, dd, 3000);
        replay(&st, hd, dd, false, 1, 1);
        replay(&st, hd, dd, true, 1, 1);
        free_stream(&st);
    }
}

static void test_random_splits_over_many_seeds_yield_every_pdu_identical(void **state)
{
    for (uint32_t seed = 1; seed <= 200; seed++) {
        bool hd = seed & 1, dd = seed & 2;
        struct stream st;
        make_stream(&st, seed * 7919u, 20, hd, dd, 9000);
        uint32_t max_chunk = seed % 3 == 0 ? 7 : seed % 3 == 1 ? 700 : 70000;
        replay(&st, hd, dd, (seed & 4) != 0, seed, max_chunk);
        free_stream(&st);
    }
}

static void test_whole_stream_in_one_feed_yields_pdus_one_per_call(void **state)
{
    struct stream st;
    make_stream(&st, 4242, 30, true, true, 5000);
    replay(&st, true, true, true, 3, (uint32_t)st.len);
    replay(&st, true, true, false, 3, (uint32_t)st.len);
    free_stream(&st);
}

static void build_simple(struct stream *st, uint32_t data_len, bool hd, bool dd)
{
    memset(st, 0, sizeof(*st));
    st->n = 1;
    struct pdu_spec *p = &st->pdu[0];
    isc_bhs_init(p->bhs, ISC_OP_SCSI_CMD, ISC_FLAG_FINAL);
    isc_bhs_set_itt(p->bhs, 0x1234);
    isc_bhs_set_data_len(p->bhs, data_len);
    p->data_len = data_len;
    p->data = malloc(data_len ? data_len : 1);
    assert_non_null(p->data);
    for (uint32_t i = 0; i < data_len; i++)
        p->data[i] = (uint8_t)(i * 3 + 1);
    emit(st, p, hd, dd);
}

static void test_header_digest_mismatch_is_fatal_and_stays_fatal(void **state)
{
    struct stream st;
    build_simple(&st, 100, true, false);
    st.bytes[ISC_BHS_LEN] ^= 0x01; /* first byte of the HeaderDigest */
    struct isc_rx rx;
    isc_rx_init(&rx, 8192);
    isc_rx_set_digests(&rx, true, false);
    size_t used;
    struct isc_pdu pdu;
    assert_int_equal(isc_rx_feed(&rx, st.bytes, st.len, &used, &pdu), ISC_RX_ERR_HDIGEST);
    assert_int_equal(used, ISC_BHS_LEN + 4);
    /* A broken stream cannot be resynchronised: later input gets the same verdict. */
    assert_int_equal(isc_rx_feed(&rx, st.bytes, st.len, &used, &pdu), ISC_RX_ERR_HDIGEST);
    assert_int_equal(used, 0);
    isc_rx_free(&rx);
    free_stream(&st);
}

static void test_corrupt_bhs_byte_under_header_digest_is_fatal(void **state)
{
    struct stream st;
    build_simple(&st, 0, true, true);
    st.bytes[17] ^= 0x80; /* a bit of the ITT */
    struct isc_rx rx;
    isc_rx_init(&rx, 8192);
    isc_rx_set_digests(&rx, true, true);
    size_t used;
    struct isc_pdu pdu;
    assert_int_equal(isc_rx_feed(&rx, st.bytes, st.len, &used, &pdu), ISC_RX_ERR_HDIGEST);
    isc_rx_free(&rx);
    free_stream(&st);
}

static void test_data_digest_mismatch_delivers_pdu_marked_bad_and_continues(void **state)
{
    struct stream st;
    build_simple(&st, 37, false, true);
    struct pdu_spec second = st.pdu[0];
    st.bytes[ISC_BHS_LEN + 5] ^= 0xff; /* a data byte */
    emit(&st, &second, false, true);  /* an intact PDU behind it */
    struct isc_rx rx;
    isc_rx_init(&rx, 8192);
    isc_rx_set_digests(&rx, false, true);
    size_t used, off = 0;
    struct isc_pdu pdu;
    assert_int_equal(isc_rx_feed(&rx, st.bytes, st.len, &used, &pdu), ISC_RX_PDU);
    assert_true(pdu.data_digest_bad);
    assert_int_equal(pdu.data_len, 37);
    /* RFC 7143 11.2: 37 data bytes, 3 padding, 4 digest. */
    assert_int_equal(used, ISC_BHS_LEN + 40 + 4);
    off += used;
    assert_int_equal(isc_rx_feed(&rx, st.bytes + off, st.len - off, &used, &pdu), ISC_RX_PDU);
    assert_false(pdu.data_digest_bad);
    assert_memory_equal(pdu.data, second.data, 37);
    isc_rx_free(&rx);
    free_stream(&st);
}

static void test_corrupt_padding_byte_fails_data_digest(void **state)
{
    struct stream st;
    build_simple(&st, 5, false, true);
    st.bytes[ISC_BHS_LEN + 6] = 0x55; /* padding after the five data bytes */
    struct isc_rx rx;
    isc_rx_init(&rx, 8192);
    isc_rx_set_digests(&rx, false, true);
    size_t used;
    struct isc_pdu pdu;
    assert_int_equal(isc_rx_feed(&rx, st.bytes, st.len, &used, &pdu), ISC_RX_PDU);
    assert_true(pdu.data_digest_bad);
    isc_rx_free(&rx);
    free_stream(&st);
}

static void test_data_segment_longer_than_limit_is_too_long_before_any_data(void **state)
{
    struct stream st;
    build_simple(&st, 8193, false, false);
    struct isc_rx rx;
    isc_rx_init(&rx, 8192);
    size_t used;
    struct isc_pdu pdu;
    assert_int_equal(isc_rx_feed(&rx, st.bytes, st.len, &used, &pdu), ISC_RX_ERR_TOO_LONG);
    assert_int_equal(used, ISC_BHS_LEN);
    /* Nothing was allocated for a segment that was refused. */
    assert_null(rx.data);
    isc_rx_free(&rx);
    free_stream(&st);
}

static void test_largest_24bit_length_is_refused_without_allocation(void **state)
{
    uint8_t bhs[ISC_BHS_LEN];
    isc_bhs_init(bhs, ISC_OP_DATA_OUT, ISC_FLAG_FINAL);
    isc_bhs_set_data_len(bhs, ISC_MAX_DSL);
    struct isc_rx rx;
    isc_rx_init(&rx, 262144);
    size_t used;
    struct isc_pdu pdu;
    assert_int_equal(isc_rx_feed(&rx, bhs, sizeof(bhs), &used, &pdu), ISC_RX_ERR_TOO_LONG);
    assert_null(rx.data);
    isc_rx_free(&rx);
}

static void test_limit_raised_after_login_accepts_larger_segments(void **state)
{
    struct stream st;
    build_simple(&st, 65536, false, false);
    struct isc_rx rx;
    isc_rx_init(&rx, 8192);
    isc_rx_set_max_data_len(&rx, 262144);
    size_t used;
    struct isc_pdu pdu;
    assert_int_equal(isc_rx_feed(&rx, st.bytes, st.len, &used, &pdu), ISC_RX_PDU);
    check_pdu(&st.pdu[0], &pdu);
    isc_rx_free(&rx);
    free_stream(&st);
}

static void test_steady_state_reuses_buffer_and_never_exceeds_limit(void **state)
{
    const uint32_t limit = 20000;
    struct stream st;
    make_stream(&st, 777, 60, false, true, limit);
    struct isc_rx rx;
    isc_rx_init(&rx, limit);
    isc_rx_set_digests(&rx, false, true);
    size_t off = 0, used;
    struct isc_pdu pdu;
    unsigned got = 0;
    uint8_t *buf_after_first_big = NULL;
    while (off < st.len) {
        enum isc_rx_result r = isc_rx_feed(&rx, st.bytes + off, st.len - off, &used, &pdu);
        off += used;
        assert_int_equal(r, ISC_RX_PDU);
        check_pdu(&st.pdu[got++], &pdu);
        assert_true(rx.data_cap <= limit + 3 + ISC_DIGEST_LEN);
        if (rx.data_cap == limit + 3 + ISC_DIGEST_LEN && !buf_after_first_big)
            buf_after_first_big = rx.data;
        if (buf_after_first_big)
            assert_ptr_equal(rx.data, buf_after_first_big);
    }
    assert_int_equal(got, st.n);
    assert_non_null(buf_after_first_big);
    isc_rx_free(&rx);
    free_stream(&st);
}

static void test_empty_data_segment_carries_no_data_digest(void **state)
{
    struct stream st;
    build_simple(&st, 0, true, true);
    assert_int_equal(st.len, ISC_BHS_LEN + 4);
    struct isc_rx rx;
    isc_rx_init(&rx, 8192);
    isc_rx_set_digests(&rx, true, true);
    size_t used;
    struct isc_pdu pdu;
    assert_int_equal(isc_rx_feed(&rx, st.bytes, st.len, &used, &pdu), ISC_RX_PDU);
    assert_int_equal(used, st.len);
    assert_int_equal(pdu.data_len, 0);
    isc_rx_free(&rx);
    free_stream(&st);
}

static void test_digests_switched_on_apply_from_the_next_pdu(void **state)
{
    /* A login exchange without digests, then full feature phase with both (RFC 7143 13.1). */
    struct stream st;
    build_simple(&st, 10, false, false);
    struct pdu_spec ffp = st.pdu[0];
    isc_bhs_set_itt(ffp.bhs, 0x5678);
    emit(&st, &ffp, true, true);
    struct isc_rx rx;
    isc_rx_init(&rx, 8192);
    size_t used, off = 0;
    struct isc_pdu pdu;
    assert_int_equal(isc_rx_feed(&rx, st.bytes, st.len, &used, &pdu), ISC_RX_PDU);
    assert_int_equal(isc_bhs_itt(pdu.bhs), 0x1234);
    off += used;
    isc_rx_set_digests(&rx, true, true);
    assert_int_equal(isc_rx_feed(&rx, st.bytes + off, st.len - off, &used, &pdu), ISC_RX_PDU);
    assert_int_equal(isc_bhs_itt(pdu.bhs), 0x5678);
    assert_false(pdu.data_digest_bad);
    assert_int_equal(off + used, st.len);
    isc_rx_free(&rx);
    free_stream(&st);
}

static void test_zero_copy_points_into_input_only_when_whole_segment_arrived(void **state)
{
    struct stream st;
    build_simple(&st, 1000, false, false);
    struct isc_rx rx;
    isc_rx_init(&rx, 8192);
    isc_rx_set_zero_copy(&rx, true);
    size_t used;
    struct isc_pdu pdu;
    assert_int_equal(isc_rx_feed(&rx, st.bytes, st.len, &used, &pdu), ISC_RX_PDU);
    assert_ptr_equal(pdu.data, st.bytes + ISC_BHS_LEN);
    assert_null(rx.data);
    /* Split inside the data: the segment must be assembled in the reassembler's buffer. */
    assert_int_equal(isc_rx_feed(&rx, st.bytes, 500, &used, &pdu), ISC_RX_NEED_MORE);
    assert_int_equal(isc_rx_feed(&rx, st.bytes + 500, st.len - 500, &used, &pdu), ISC_RX_PDU);
    assert_ptr_equal(pdu.data, rx.data);
    check_pdu(&st.pdu[0], &pdu);
    isc_rx_free(&rx);
    free_stream(&st);
}

static void test_partial_bhs_consumes_everything_and_needs_more(void **state)
{
    uint8_t bhs[ISC_BHS_LEN];
    isc_bhs_init(bhs, ISC_OP_NOP_OUT, ISC_FLAG_FINAL);
    struct isc_rx rx;
    isc_rx_init(&rx, 8192);
    size_t used;
    struct isc_pdu pdu;
    assert_int_equal(isc_rx_feed(&rx, bhs, 47, &used, &pdu), ISC_RX_NEED_MORE);
    assert_int_equal(used, 47);
    assert_false(isc_rx_idle(&rx));
    assert_int_equal(isc_rx_feed(&rx, bhs, 0, &used, &pdu), ISC_RX_NEED_MORE);
    assert_int_equal(used, 0);
    assert_int_equal(isc_rx_feed(&rx, bhs + 47, 1, &used, &pdu), ISC_RX_PDU);
    assert_int_equal(isc_bhs_opcode(pdu.bhs), ISC_OP_NOP_OUT);
    assert_true(isc_rx_idle(&rx));
    isc_rx_free(&rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_byte_at_a_time_yields_every_pdu_identical),
        cmocka_unit_test(test_random_splits_over_many_seeds_yield_every_pdu_identical),
        cmocka_unit_test(test_whole_stream_in_one_feed_yields_pdus_one_per_call),
        cmocka_unit_test(test_header_digest_mismatch_is_fatal_and_stays_fatal),
        cmocka_unit_test(test_corrupt_bhs_byte_under_header_digest_is_fatal),
        cmocka_unit_test(test_data_digest_mismatch_delivers_pdu_marked_bad_and_continues),
        cmocka_unit_test(test_corrupt_padding_byte_fails_data_digest),
        cmocka_unit_test(test_data_segment_longer_than_limit_is_too_long_before_any_data),
        cmocka_unit_test(test_largest_24bit_length_is_refused_without_allocation),
        cmocka_unit_test(test_limit_raised_after_login_accepts_larger_segments),
        cmocka_unit_test(test_steady_state_reuses_buffer_and_never_exceeds_limit),
        cmocka_unit_test(test_empty_data_segment_carries_no_data_digest),
        cmocka_unit_test(test_digests_switched_on_apply_from_the_next_pdu),
        cmocka_unit_test(test_zero_copy_points_into_input_only_when_whole_segment_arrived),
        cmocka_unit_test(test_partial_bhs_consumes_everything_and_needs_more),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
