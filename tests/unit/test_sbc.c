/* Unit tests for target/sbc.c: block commands on a mem LU (2048 blocks of 512 bytes unless said otherwise). */
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

static void rw16(struct fx *f, struct tgt_cmd *c, uint8_t op, uint64_t lba, uint32_t n, size_t dout)
{
    uint8_t cdb[16] = { op };

    prt_put_be64(cdb + 2, lba);
    prt_put_be32(cdb + 10, n);
    fx_run(f, c, f->a, 0, cdb, 16, dout, (uint32_t)(n * 512));
}

static void write_pattern(struct fx *f, uint64_t lba, uint32_t n, uint8_t v)
{
    struct tgt_cmd c;

    memset(f->buf, v, n * 512);
    rw16(f, &c, 0x8a, lba, n, n * 512);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
}

static void read_expect(struct fx *f, uint64_t lba, uint32_t n, uint8_t v)
{
    struct tgt_cmd c;

    rw16(f, &c, 0x88, lba, n, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(c.din_len, n * 512);
    for (size_t i = 0; i < n * 512; i++)
        assert_int_equal(fx_din(&c)[i], v);
}

static void test_read_capacity10_and_16_report_last_lba_and_block_length(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    uint8_t rc10[10] = { 0x25 };
    uint8_t rc16[16] = { 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0 };

    fx_run(f, &c, f->a, 0, rc10, 10, 0, 8);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(prt_get_be32(fx_din(&c)), 2047);
    assert_int_equal(prt_get_be32(fx_din(&c) + 4), 512);
    fx_run(f, &c, f->a, 0, rc16, 16, 0, 32);
    assert_int_equal(c.din_len, 32);
    assert_true(prt_get_be64(fx_din(&c)) == 2047);
    assert_int_equal(prt_get_be32(fx_din(&c) + 8), 512);
    assert_int_equal(fx_din(&c)[14] & 0xc0, 0xc0); /* LBPME, LBPRZ */
    rc16[13] = 12;
    fx_run(f, &c, f->a, 0, rc16, 16, 0, 12);
    assert_int_equal(c.din_len, 12);
}

static void test_read_capacity10_lba_without_pmi_is_invalid_field(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    uint8_t rc10[10] = { 0x25, 0, 0, 0, 0, 1 };

    fx_run(f, &c, f->a, 0, rc10, 10, 0, 8);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    rc10[8] = 1; /* PMI */
    fx_run(f, &c, f->a, 0, rc10, 10, 0, 8);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
}

static void test_write_then_read_round_trips_and_reads_are_zero_copy(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);

    write_pattern(f, 10, 4, 0xa5);
    read_expect(f, 10, 4, 0xa5);
    read_expect(f, 14, 1, 0x00);
    rw16(f, &c, 0x88, 10, 4, 0);
    /* The Data-In points into the LU's own memory: no copy was made. */
    assert_ptr_equal(c.din[0].base, lu->mem + 10 * 512);
}

static void test_every_read_and_write_size_addresses_the_same_blocks(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t w6[6] = { 0x0a, 0, 0, 5, 1, 0 };
    const uint8_t r10[10] = { 0x28, 0, 0, 0, 0, 5, 0, 0, 1, 0 };
    const uint8_t w12[12] = { 0xaa, 0, 0, 0, 0, 6, 0, 0, 0, 1, 0, 0 };
    const uint8_t r12[12] = { 0xa8, 0, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0 };

    memset(f->buf, 0x11, 512);
    fx_run(f, &c, f->a, 0, w6, 6, 512, 512);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    fx_run(f, &c, f->a, 0, r10, 10, 0, 512);
    assert_int_equal(fx_din(&c)[0], 0x11);
    memset(f->buf, 0x22, 512);
    fx_run(f, &c, f->a, 0, w12, 12, 512, 512);
    fx_run(f, &c, f->a, 0, r12, 12, 0, 1024);
    assert_int_equal(fx_din(&c)[0], 0x11);
    assert_int_equal(fx_din(&c)[512], 0x22);
}

static void test_read6_transfer_length_zero_means_256_blocks(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t r6[6] = { 0x08, 0, 0, 0, 0, 0 };

    fx_run(f, &c, f->a, 0, r6, 6, 0, 256 * 512);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(c.din_len, 256 * 512);
}

static void test_zero_blocks_transfers_nothing_but_lba_is_still_checked(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    uint8_t r10[10] = { 0x28 };

    fx_run(f, &c, f->a, 0, r10, 10, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(c.din_len, 0);
    prt_put_be32(r10 + 2, 2049);
    fx_run(f, &c, f->a, 0, r10, 10, 0, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
}

static void test_lba_out_of_range_at_and_past_the_end(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    rw16(f, &c, 0x88, 2047, 1, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    rw16(f, &c, 0x88, 2047, 2, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
    rw16(f, &c, 0x88, UINT64_MAX, 1, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
    memset(f->buf, 1, 512);
    rw16(f, &c, 0x8a, 2048, 1, 512);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
}

static void test_transfer_above_maximum_transfer_length_is_invalid_field(void **state)
{
    struct fx *f = fx_new(64u << 20, 512, false);
    struct tgt_cmd c;

    (void)state;
    fx_clear_ua(f);
    rw16(f, &c, 0x88, 0, (32u << 20) / 512 + 1, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    fx_assert_field(&c, true, 10, 7);
    /* PRE-FETCH is bounded by MAXIMUM PREFETCH LENGTH, reported equal to the transfer limit. */
    rw16(f, &c, 0x90, 0, (32u << 20) / 512 + 1, 0);
    fx_assert_field(&c, true, 10, 7);
    rw16(f, &c, 0x90, 0, (32u << 20) / 512, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    fx_free(f);
}

static void test_short_data_out_writes_only_what_arrived(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    write_pattern(f, 0, 2, 'a');
    memset(f->buf, 'b', 1024);
    rw16(f, &c, 0x8a, 0, 2, 700);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(c.dout_want, 1024);
    rw16(f, &c, 0x88, 0, 2, 0);
    assert_int_equal(fx_din(&c)[699], 'b');
    assert_int_equal(fx_din(&c)[700], 'a');
}

static void test_rdprotect_and_wrprotect_are_rejected_without_protection_information(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    uint8_t cdb[16] = { 0x8a, 0x20 };

    prt_put_be32(cdb + 10, 1);
    fx_run(f, &c, f->a, 0, cdb, 16, 512, 512);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    fx_assert_field(&c, true, 1, 5);
    cdb[0] = 0x88;
    cdb[1] = 0xe0;
    fx_run(f, &c, f->a, 0, cdb, 16, 0, 512);
    fx_assert_field(&c, true, 1, 7);
}

static void verify16(struct fx *f, struct tgt_cmd *c, uint8_t bytchk, uint64_t lba, uint32_t n, size_t dout)
{
    uint8_t cdb[16] = { 0x8f, (uint8_t)(bytchk << 1) };

    prt_put_be64(cdb + 2, lba);
    prt_put_be32(cdb + 10, n);
    fx_run(f, c, f->a, 0, cdb, 16, dout, (uint32_t)dout);
}

static void test_verify_bytchk_1_reports_miscompare_offset(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    write_pattern(f, 100, 2, 0x33);
    memset(f->buf, 0x33, 1024);
    verify16(f, &c, 1, 100, 2, 1024);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    f->buf[700] = 0x34;
    verify16(f, &c, 1, 100, 2, 1024);
    fx_assert_sense(&c, TGT_SK_MISCOMPARE, 0x1d, 0x00);
    assert_int_equal(prt_get_be32(c.sense + 3), 700);
}

static void test_verify_bytchk_3_compares_one_block_with_every_block(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    write_pattern(f, 0, 3, 0x44);
    memset(f->buf, 0x44, 512);
    verify16(f, &c, 3, 0, 3, 512);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    write_pattern(f, 2, 1, 0x45);
    memset(f->buf, 0x44, 512);
    verify16(f, &c, 3, 0, 3, 512);
    fx_assert_sense(&c, TGT_SK_MISCOMPARE, 0x1d, 0x00);
    assert_int_equal(prt_get_be32(c.sense + 3), 1024);
}

static void test_verify_bytchk_0_needs_no_data_and_bytchk_2_is_reserved(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    verify16(f, &c, 0, 0, 8, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    verify16(f, &c, 2, 0, 8, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    verify16(f, &c, 0, 2048, 1, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
}

static void caw(struct fx *f, struct tgt_cmd *c, uint64_t lba, uint8_t n, size_t dout)
{
    uint8_t cdb[16] = { 0x89 };

    prt_put_be64(cdb + 2, lba);
    cdb[13] = n;
    fx_run(f, c, f->a, 0, cdb, 16, dout, (uint32_t)dout);
}

static void test_compare_and_write_writes_only_when_everything_matches(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    write_pattern(f, 50, 2, 'A');
    memset(f->buf, 'A', 1024);
    memset(f->buf + 1024, 'B', 1024);
    caw(f, &c, 50, 2, 2048);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    read_expect(f, 50, 2, 'B');
    /* Now the medium holds B; comparing with A fails at offset 0 and nothing is written. */
    memset(f->buf, 'A', 1024);
    memset(f->buf + 1024, 'C', 1024);
    f->buf[0] = 'B';
    caw(f, &c, 50, 2, 2048);
    fx_assert_sense(&c, TGT_SK_MISCOMPARE, 0x1d, 0x00);
    assert_int_equal(prt_get_be32(c.sense + 3), 1);
    read_expect(f, 50, 2, 'B');
}

static void test_compare_and_write_refuses_data_out_of_the_wrong_size(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    memset(f->buf, 0, 4096);
    caw(f, &c, 0, 1, 2048);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x0e, 0x03);
    caw(f, &c, 0, 3, 2048);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x0e, 0x03);
    /* 256 blocks wrap to 0 in the 8-bit field: the CDB, not the data, is wrong. */
    caw(f, &c, 0, 0, 2 * 256 * 512);
    fx_assert_field(&c, true, 13, 7);
    caw(f, &c, 0, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
}

static void ws(struct fx *f, struct tgt_cmd *c, uint8_t op, uint8_t flags, uint64_t lba, uint32_t n, size_t dout)
{
    uint8_t cdb[16] = { op, flags };

    if (op == 0x41) {
        prt_put_be32(cdb + 2, (uint32_t)lba);
        prt_put_be16(cdb + 7, (uint16_t)n);
    } else {
        prt_put_be64(cdb + 2, lba);
        prt_put_be32(cdb + 10, n);
    }
    fx_run(f, c, f->a, 0, cdb, op == 0x41 ? 10 : 16, dout, (uint32_t)dout);
}

static bool lba_mapped(struct fx *f, uint64_t lba)
{
    struct tgt_cmd c;
    uint8_t cdb[16] = { 0x9e, 0x12 };

    prt_put_be64(cdb + 2, lba);
    prt_put_be32(cdb + 10, 24);
    fx_run(f, &c, f->a, 0, cdb, 16, 0, 24);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_true(prt_get_be64(fx_din(&c) + 8) == lba);
    return (fx_din(&c)[8 + 12] & 0x0f) == 0;
}

static void test_write_same_replicates_the_block(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    memset(f->buf, 0x77, 512);
    ws(f, &c, 0x41, 0, 30, 5, 512);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    read_expect(f, 30, 5, 0x77);
    read_expect(f, 35, 1, 0);
}

static void test_write_same_with_unmap_deallocates_and_reads_back_zero(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    write_pattern(f, 0, 64, 0xee);
    assert_true(lba_mapped(f, 16));
    memset(f->buf, 0, 512);
    ws(f, &c, 0x93, 0x08, 0, 64, 512);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    read_expect(f, 0, 64, 0);
    assert_false(lba_mapped(f, 16));
    /* NDOB: no Data-Out, zeros implied. */
    write_pattern(f, 0, 16, 0xee);
    ws(f, &c, 0x93, 0x08 | 0x01, 0, 16, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    read_expect(f, 0, 16, 0);
}

static void test_write_same_zero_blocks_writes_from_lba_to_end_of_medium(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    memset(f->buf, 0x5a, 512);
    ws(f, &c, 0x41, 0, 2000, 0, 512);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    read_expect(f, 1999, 1, 0);
    read_expect(f, 2000, 48, 0x5a);
    memset(f->buf, 0x3c, 512);
    ws(f, &c, 0x93, 0, 2047, 0, 512);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    read_expect(f, 2046, 1, 0x5a);
    read_expect(f, 2047, 1, 0x3c);
}

static void test_write_same_zero_blocks_at_or_past_capacity_is_lba_out_of_range(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    memset(f->buf, 0, 512);
    ws(f, &c, 0x41, 0, 2048, 0, 512);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
    ws(f, &c, 0x93, 0, UINT64_MAX, 0, 512);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
    ws(f, &c, 0x93, 0, 1ull << 63, 0, 512);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
}

static void test_write_same_zero_blocks_beyond_maximum_write_same_length_is_invalid_field(void **state)
{
    /* 64 MiB of 512-byte blocks: more than MAXIMUM WRITE SAME LENGTH from LBA 0 (memory is never touched). */
    uint64_t nblocks = (64ull << 20) / 512;
    struct fx *f = fx_new(nblocks * 512, 512, false);
    struct tgt_cmd c;

    (void)state;
    fx_clear_ua(f);
    memset(f->buf, 0, 512);
    ws(f, &c, 0x93, 0, nblocks - TGT_MAX_WS_BLOCKS - 1, 0, 512);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    fx_assert_field(&c, true, 10, 7);
    ws(f, &c, 0x41, 0, 0, 0, 512);
    fx_assert_field(&c, true, 7, 7);
    ws(f, &c, 0x93, 0, 0, TGT_MAX_WS_BLOCKS + 1, 512);
    fx_assert_field(&c, true, 10, 7);
    /* Exactly MAXIMUM WRITE SAME LENGTH blocks to the end: a zero block maps them without writing. */
    ws(f, &c, 0x93, 0, nblocks - TGT_MAX_WS_BLOCKS, 0, 512);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_true(lba_mapped(f, nblocks - 1));
    assert_false(lba_mapped(f, nblocks - TGT_MAX_WS_BLOCKS - 8));
    fx_free(f);
}

static void test_write_same_of_zero_block_without_unmap_leaves_blocks_mapped_and_zero(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    write_pattern(f, 8, 8, 0xee);
    assert_false(lba_mapped(f, 64));
    memset(f->buf, 0, 512);
    ws(f, &c, 0x93, 0, 4, 68, 512);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    read_expect(f, 4, 68, 0);
    assert_true(lba_mapped(f, 8));
    assert_true(lba_mapped(f, 64));
    assert_false(lba_mapped(f, 72));
}

static void test_write_same_rejects_anchor_and_wrong_data_size(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    memset(f->buf, 0, 1024);
    ws(f, &c, 0x41, 0x10, 0, 1, 512);
    fx_assert_field(&c, true, 1, 4); /* ANCHOR without ANC_SUP */
    ws(f, &c, 0x41, 0, 0, 1, 1024);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x0e, 0x03);
    ws(f, &c, 0x41, 0, 2049, 0, 512);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
}

static void unmap(struct fx *f, struct tgt_cmd *c, const uint64_t *lbas, const uint32_t *cnts, size_t n,
                  size_t plen)
{
    uint8_t cdb[10] = { 0x42 };

    memset(f->buf, 0, 8 + n * 16);
    prt_put_be16(f->buf, (uint16_t)(6 + n * 16));
    prt_put_be16(f->buf + 2, (uint16_t)(n * 16));
    for (size_t i = 0; i < n; i++) {
        prt_put_be64(f->buf + 8 + i * 16, lbas[i]);
        prt_put_be32(f->buf + 8 + i * 16 + 8, cnts[i]);
    }
    prt_put_be16(cdb + 7, (uint16_t)plen);
    fx_run(f, c, f->a, 0, cdb, 10, plen, (uint32_t)plen);
}

static void test_unmap_deallocates_every_descriptor(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint64_t lbas[2] = { 0, 64 };
    const uint32_t cnts[2] = { 8, 16 };

    write_pattern(f, 0, 128, 0x5c);
    unmap(f, &c, lbas, cnts, 2, 8 + 32);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    read_expect(f, 0, 8, 0);
    read_expect(f, 8, 56, 0x5c);
    read_expect(f, 64, 16, 0);
    read_expect(f, 80, 48, 0x5c);
    assert_false(lba_mapped(f, 64));
    assert_true(lba_mapped(f, 8));
}

static void test_unmap_checks_lengths_and_ranges_before_unmapping_anything(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint64_t lbas[2] = { 0, 2047 };
    const uint32_t cnts[2] = { 8, 2 };

    write_pattern(f, 0, 8, 0x5c);
    unmap(f, &c, lbas, cnts, 2, 8 + 32);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
    read_expect(f, 0, 8, 0x5c);
    unmap(f, &c, lbas, cnts, 0, 4);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
    unmap(f, &c, lbas, cnts, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
}

static void test_get_lba_status_reports_runs_and_rejects_lba_past_the_end(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    uint8_t cdb[16] = { 0x9e, 0x12 };

    assert_false(lba_mapped(f, 0));
    write_pattern(f, 0, 8, 1);
    assert_true(lba_mapped(f, 0));
    prt_put_be64(cdb + 2, 2048);
    prt_put_be32(cdb + 10, 24);
    fx_run(f, &c, f->a, 0, cdb, 16, 0, 24);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
}

static void test_orwrite_ors_the_data_into_the_medium(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    write_pattern(f, 7, 1, 0x0f);
    memset(f->buf, 0xf0, 512);
    rw16(f, &c, 0x8b, 7, 1, 512);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    read_expect(f, 7, 1, 0xff);
}

static void test_synchronize_cache_and_prefetch_check_the_range(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    uint8_t sc[10] = { 0x35 };
    uint8_t pf[16] = { 0x90 };

    fx_run(f, &c, f->a, 0, sc, 10, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    prt_put_be32(sc + 2, 2040);
    prt_put_be16(sc + 7, 9);
    fx_run(f, &c, f->a, 0, sc, 10, 0, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
    prt_put_be64(pf + 2, 2000);
    prt_put_be32(pf + 10, 48);
    fx_run(f, &c, f->a, 0, pf, 16, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    prt_put_be32(pf + 10, 49);
    fx_run(f, &c, f->a, 0, pf, 16, 0, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
}

static void test_read_defect_data_returns_empty_lists(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t rdd10[10] = { 0x37, 0, 0x18, 0, 0, 0, 0, 0, 64, 0 };
    const uint8_t rdd12[12] = { 0xb7, 0x0d, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0 };

    fx_run(f, &c, f->a, 0, rdd10, 10, 0, 64);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(c.din_len, 4);
    assert_int_equal(fx_din(&c)[1], 0x18);
    assert_int_equal(prt_get_be16(fx_din(&c) + 2), 0);
    fx_run(f, &c, f->a, 0, rdd12, 12, 0, 64);
    assert_int_equal(c.din_len, 8);
    assert_int_equal(prt_get_be32(fx_din(&c) + 4), 0);
}

static void test_4096_byte_blocks_scale_capacity_and_offsets(void **state)
{
    struct fx *f = fx_new(1u << 20, 4096, false);
    struct tgt_cmd c;
    uint8_t rc10[10] = { 0x25 };
    uint8_t wr[10] = { 0x2a, 0, 0, 0, 0, 3, 0, 0, 1, 0 };
    uint8_t rd[10] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 1, 0 };

    (void)state;
    fx_clear_ua(f);
    fx_run(f, &c, f->a, 0, rc10, 10, 0, 8);
    assert_int_equal(prt_get_be32(fx_din(&c)), 255);
    assert_int_equal(prt_get_be32(fx_din(&c) + 4), 4096);
    memset(f->buf, 0x99, 4096);
    fx_run(f, &c, f->a, 0, wr, 10, 4096, 4096);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    fx_run(f, &c, f->a, 0, rd, 10, 0, 4096);
    assert_int_equal(c.din_len, 4096);
    assert_ptr_equal(c.din[0].base, tgt_server_lu(f->srv, 0)->mem + 3 * 4096);
    assert_int_equal(fx_din(&c)[4095], 0x99);
    fx_free(f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_read_capacity10_and_16_report_last_lba_and_block_length),
        T(test_read_capacity10_lba_without_pmi_is_invalid_field),
        T(test_write_then_read_round_trips_and_reads_are_zero_copy),
        T(test_every_read_and_write_size_addresses_the_same_blocks),
        T(test_read6_transfer_length_zero_means_256_blocks),
        T(test_zero_blocks_transfers_nothing_but_lba_is_still_checked),
        T(test_lba_out_of_range_at_and_past_the_end),
        cmocka_unit_test(test_transfer_above_maximum_transfer_length_is_invalid_field),
        T(test_short_data_out_writes_only_what_arrived),
        T(test_rdprotect_and_wrprotect_are_rejected_without_protection_information),
        T(test_verify_bytchk_1_reports_miscompare_offset),
        T(test_verify_bytchk_3_compares_one_block_with_every_block),
        T(test_verify_bytchk_0_needs_no_data_and_bytchk_2_is_reserved),
        T(test_compare_and_write_writes_only_when_everything_matches),
        T(test_compare_and_write_refuses_data_out_of_the_wrong_size),
        T(test_write_same_replicates_the_block),
        T(test_write_same_with_unmap_deallocates_and_reads_back_zero),
        T(test_write_same_rejects_anchor_and_wrong_data_size),
        T(test_write_same_zero_blocks_writes_from_lba_to_end_of_medium),
        T(test_write_same_zero_blocks_at_or_past_capacity_is_lba_out_of_range),
        T(test_write_same_of_zero_block_without_unmap_leaves_blocks_mapped_and_zero),
        cmocka_unit_test(test_write_same_zero_blocks_beyond_maximum_write_same_length_is_invalid_field),
        T(test_unmap_deallocates_every_descriptor),
        T(test_unmap_checks_lengths_and_ranges_before_unmapping_anything),
        T(test_get_lba_status_reports_runs_and_rejects_lba_past_the_end),
        T(test_orwrite_ors_the_data_into_the_medium),
        T(test_synchronize_cache_and_prefetch_check_the_range),
        T(test_read_defect_data_returns_empty_lists),
        cmocka_unit_test(test_4096_byte_blocks_scale_capacity_and_offsets),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
