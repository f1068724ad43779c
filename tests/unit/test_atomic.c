/* Unit tests for target/atomic.c: WRITE ATOMIC(16) (SBC-4 5.48) and its Block Limits VPD fields.
 *
 * Fixture: one target port, one nexus, two LUs.
 *
 *   nexus 0: n0 --- port 1 --+-- LU 0: mem 1 MiB, 512-byte blocks (2048 blocks)
 *                            +-- LU 1: mem 1 MiB, read-only
 */
#include "disk_harness.h"

#define BS 512u
#define NBLOCKS 2048u

static int setup(void **state)
{
    static const struct dh_lu lus[] = { { .size = 1 << 20, .block_size = BS },
                                        { .size = 1 << 20, .block_size = BS, .read_only = true } };
    static const uint16_t ports[] = { 1 };

    *state = dh_new(1, lus, 2, ports, 1);
    return 0;
}

static int teardown(void **state)
{
    dh_free(*state);
    return 0;
}

static void wa16_cdb(uint8_t *cdb, uint64_t lba, uint16_t blocks, uint8_t byte1)
{
    memset(cdb, 0, 16);
    cdb[0] = 0x9c;
    cdb[1] = byte1;
    prt_put_be64(cdb + 2, lba);
    prt_put_be16(cdb + 12, blocks);
}

static struct tgt_cmd *write_atomic(struct dh *h, uint64_t lun, uint64_t lba, uint16_t blocks, uint8_t fill)
{
    uint8_t cdb[16];

    wa16_cdb(cdb, lba, blocks, 0);
    memset(h->buf, fill, (size_t)blocks * BS);
    return dh_run(h, 0, lun, cdb, 16, (size_t)blocks * BS);
}

static void test_write_atomic_writes_every_block(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd *c;

    dh_assert_good(write_atomic(h, 0, 10, 8, 0xa6));
    c = dh_read10(h, 0, 0, 10, 8);
    dh_assert_good(c);
    assert_true(dh_all(dh_din(c), 8 * BS, 0xa6));
    dh_assert_good(write_atomic(h, 0, NBLOCKS - 256, 256, 0x5c));
    c = dh_read10(h, 0, 0, NBLOCKS - 256, 256);
    assert_true(dh_all(dh_din(c), 256 * BS, 0x5c));
}

static void test_write_atomic_of_zero_blocks_is_good_and_writes_nothing(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd *c;

    dh_assert_good(write_atomic(h, 0, 0, 1, 0x11));
    dh_assert_good(write_atomic(h, 0, 0, 0, 0x22));
    c = dh_read10(h, 0, 0, 0, 1);
    assert_true(dh_all(dh_din(c), BS, 0x11));
    /* Zero blocks at the very end is still within the capacity. */
    dh_assert_good(write_atomic(h, 0, NBLOCKS, 0, 0x22));
}

static void test_write_atomic_past_the_end_is_lba_out_of_range(void **state)
{
    struct dh *h = *state;

    dh_assert_sense(write_atomic(h, 0, NBLOCKS - 1, 2, 0), TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
    dh_assert_sense(write_atomic(h, 0, NBLOCKS + 1, 0, 0), TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
    dh_assert_sense(write_atomic(h, 0, 0xffffffffffffffffull, 1, 0), TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
}

static void test_write_atomic_above_maximum_atomic_transfer_length_is_invalid_field_in_cdb(void **state)
{
    struct dh *h = *state;
    uint32_t max = TGT_MAX_XFER_BYTES / BS;
    static const struct dh_lu big[] = { { .size = 64u << 20, .block_size = BS } };
    static const uint16_t ports[] = { 1 };
    struct dh *h2 = dh_new(1, big, 1, ports, 1);
    uint8_t cdb[16];
    struct tgt_cmd *c;

    (void)h;
    wa16_cdb(cdb, 0, (uint16_t)(max + 1), 0);
    c = dh_run(h2, 0, 0, cdb, 16, 0);
    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    dh_assert_field(c, true, 12, 7);
    dh_free(h2);
}

static void test_write_atomic_on_a_read_only_lu_is_write_protected(void **state)
{
    struct dh *h = *state;

    dh_assert_sense(write_atomic(h, 1, 0, 1, 0x33), TGT_SK_DATA_PROTECT, 0x27, 0x00);
}

static void test_write_atomic_nonzero_atomic_boundary_or_wrprotect_is_invalid_field_in_cdb(void **state)
{
    struct dh *h = *state;
    uint8_t cdb[16];
    struct tgt_cmd *c;

    wa16_cdb(cdb, 0, 1, 0);
    cdb[10] = 0x01;
    c = dh_run(h, 0, 0, cdb, 16, BS);
    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    dh_assert_field(c, true, 10, 0);
    wa16_cdb(cdb, 0, 1, 0x20);
    c = dh_run(h, 0, 0, cdb, 16, BS);
    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    dh_assert_field(c, true, 1, 5);
}

static void test_write_atomic_accepts_dpo_and_fua(void **state)
{
    struct dh *h = *state;
    uint8_t cdb[16];

    wa16_cdb(cdb, 4, 1, 0x18);
    memset(h->buf, 0x77, BS);
    dh_assert_good(dh_run(h, 0, 0, cdb, 16, BS));
    assert_true(dh_all(dh_din(dh_read10(h, 0, 0, 4, 1)), BS, 0x77));
}

static void test_write_atomic_with_short_data_out_writes_nothing(void **state)
{
    struct dh *h = *state;
    uint8_t cdb[16];
    struct tgt_cmd *c;

    wa16_cdb(cdb, 20, 4, 0);
    memset(h->buf, 0x99, 4 * BS);
    c = dh_run(h, 0, 0, cdb, 16, 3 * BS);
    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x0e, 0x03);
    assert_int_equal(c->dout_want, 4 * BS);
    assert_true(dh_all(dh_din(dh_read10(h, 0, 0, 20, 4)), 4 * BS, 0x00));
}

static void test_block_limits_vpd_reports_the_atomic_limits(void **state)
{
    struct dh *h = *state;
    uint8_t cdb[6] = { 0x12, 0x01, 0xb0, 0, 0xff, 0 };
    struct tgt_cmd *c = dh_run(h, 0, 0, cdb, 6, 0);
    const uint8_t *d;

    dh_assert_good(c);
    d = dh_din(c);
    assert_int_equal(prt_get_be16(d + 2), 0x3c);
    assert_int_equal(prt_get_be32(d + 44), TGT_MAX_XFER_BYTES / BS);
    /* Never above MAXIMUM TRANSFER LENGTH (SBC-4 6.6.4). */
    assert_true(prt_get_be32(d + 44) <= prt_get_be32(d + 8));
    assert_int_equal(prt_get_be32(d + 48), 0);
    assert_int_equal(prt_get_be32(d + 52), 0);
    assert_int_equal(prt_get_be32(d + 60), 0);
}

static void test_rsoc_reports_write_atomic_with_dpo_fua_usage(void **state)
{
    struct dh *h = *state;
    uint8_t cdb[12] = { 0xa3, 0x0c, 0x01, 0x9c, 0, 0, 0, 0, 0x01, 0x00, 0, 0 };
    struct tgt_cmd *c = dh_run(h, 0, 0, cdb, 12, 0);
    const uint8_t *d;

    dh_assert_good(c);
    d = dh_din(c);
    assert_int_equal(d[1] & 0x07, 0x03);
    assert_int_equal(prt_get_be16(d + 2), 16);
    assert_int_equal(d[4], 0x9c);
    assert_int_equal(d[5] & 0x18, 0x18);
    assert_int_equal(d[4 + 10], 0);
}

static void test_write_atomic_on_a_file_lu_writes_through_the_worker_path(void **state)
{
    char path[128];
    struct dh_lu lus[] = { { .size = 1 << 20, .block_size = BS } };
    static const uint16_t ports[] = { 1 };
    struct dh *h;

    (void)state;
    dh_tmp_path(path, sizeof(path), "atomic");
    lus[0].path = path;
    h = dh_new(1, lus, 1, ports, 1);
    dh_assert_good(write_atomic(h, 0, 7, 64, 0x3c));
    assert_true(dh_all(dh_din(dh_read10(h, 0, 0, 7, 64)), 64 * BS, 0x3c));
    dh_free(h);
    dh_unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_atomic_writes_every_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_atomic_of_zero_blocks_is_good_and_writes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_write_atomic_past_the_end_is_lba_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_write_atomic_above_maximum_atomic_transfer_length_is_invalid_field_in_cdb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_atomic_on_a_read_only_lu_is_write_protected, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_write_atomic_nonzero_atomic_boundary_or_wrprotect_is_invalid_field_in_cdb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_atomic_accepts_dpo_and_fua, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_atomic_with_short_data_out_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_limits_vpd_reports_the_atomic_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rsoc_reports_write_atomic_with_dpo_fua_usage, setup, teardown),
        cmocka_unit_test(test_write_atomic_on_a_file_lu_writes_through_the_worker_path),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
