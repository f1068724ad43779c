/* Transfers larger than one burst and one PDU (RFC 7143 11.7.4, 11.8): writes continue through R2Ts after the
 * first burst, reads are split into Data-In PDUs no larger than the initiator's MaxRecvDataSegmentLength.
 *
 *   libiscsi (initiator-a): 4 MiB WRITE(16)/READ(16) with its default limits
 *   raw      (initiator-b): MaxRecvDataSegmentLength=512, MaxBurstLength=16384, ImmediateData=No
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "tests/integration/itest.h"

static int setup(void **state)
{
    static struct itest_target t;
    const char *args[] = { "--lun", "mem:128M", NULL };
    if (itest_start(&t, args) != 0)
        return -1;
    *state = &t;
    return 0;
}

static int teardown(void **state)
{
    return itest_stop(*state, SIGTERM) == 0 ? 0 : -1;
}

static void test_4mib_write_and_read_roundtrip_through_r2ts_and_data_in_pdus(void **state)
{
    struct itest_target *t = *state;
    int lun;
    struct iscsi_context *iscsi = itest_login(t->url[0], ITEST_INAME_A, ISCSI_HEADER_DIGEST_NONE, &lun);
    assert_non_null(iscsi);
    const size_t len = 4u << 20;
    uint8_t *out = malloc(len);
    assert_non_null(out);
    for (unsigned round = 0; round < 3; round++) {
        uint64_t lba = 1000 + round * 20000;
        itest_pattern(out, len, lba);
        struct scsi_task *task = iscsi_write16_sync(iscsi, lun, lba, out, (uint32_t)len, 512, 0, 0, 0, 0, 0);
        assert_non_null(task);
        assert_int_equal(task->status, SCSI_STATUS_GOOD);
        scsi_free_scsi_task(task);
        task = iscsi_read16_sync(iscsi, lun, lba, (uint32_t)len, 512, 0, 0, 0, 0, 0);
        assert_non_null(task);
        assert_int_equal(task->status, SCSI_STATUS_GOOD);
        assert_int_equal(task->datain.size, len);
        assert_memory_equal(task->datain.data, out, len);
        scsi_free_scsi_task(task);
    }
    free(out);
    itest_logout(iscsi);
}

static const char small_keys[] = "MaxRecvDataSegmentLength=512\0MaxBurstLength=16384\0FirstBurstLength=4096\0"
                                 "ImmediateData=No";

static void test_small_max_recv_data_segment_length_splits_data_in_and_r2ts(void **state)
{
    struct itest_target *t = *state;
    struct itest_raw r;
    assert_int_equal(itest_raw_connect(&r, itest_port(t, 0)), 0);
    assert_int_equal(itest_raw_login(&r, ITEST_INAME_B, ITEST_IQN, false, false, small_keys, sizeof small_keys),
                     0);
    assert_false(r.immediate_data);
    assert_true(r.max_burst <= 16384);
    const uint32_t len = 1u << 20;
    uint8_t *out = malloc(len), *in = calloc(1, len);
    assert_non_null(out);
    assert_non_null(in);
    itest_pattern(out, len, 99);
    uint32_t lba = 50000, blocks = len / 512;
    uint8_t wcdb[10] = { 0x2a, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16), (uint8_t)(lba >> 8), (uint8_t)lba,
                         0, (uint8_t)(blocks >> 8), (uint8_t)blocks, 0 };
    unsigned r2ts = 0, dins = 0;
    assert_int_equal(itest_raw_scsi(&r, wcdb, 10, 0, out, len, NULL, 0, NULL, &r2ts), 0);
    /* Without immediate data every byte is solicited, in bursts of at most MaxBurstLength. */
    assert_true(r2ts >= len / 16384);
    uint8_t rcdb[10] = { 0x28, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16), (uint8_t)(lba >> 8), (uint8_t)lba,
                         0, (uint8_t)(blocks >> 8), (uint8_t)blocks, 0 };
    assert_int_equal(itest_raw_scsi(&r, rcdb, 10, 0, NULL, 0, in, len, &dins, NULL), 0);
    assert_true(dins >= len / 512);
    assert_memory_equal(in, out, len);
    assert_int_equal(itest_raw_logout(&r), 0);
    itest_raw_close(&r);
    free(out);
    free(in);
}

/* A READ with an expected length shorter than the data gets the rest reported as residual overflow
 * (RFC 7143 11.4.5); the bytes it did get are the right ones. */
static void test_short_expected_length_read_delivers_the_prefix(void **state)
{
    struct itest_target *t = *state;
    struct itest_raw r;
    assert_int_equal(itest_raw_connect(&r, itest_port(t, 0)), 0);
    assert_int_equal(itest_raw_login(&r, ITEST_INAME_B, ITEST_IQN, false, false, NULL, 0), 0);
    static uint8_t out[8192], in[8192];
    itest_pattern(out, sizeof out, 5);
    uint8_t wcdb[10] = { 0x2a, 0, 0, 0, 0x10, 0, 0, 0, 16, 0 };
    assert_int_equal(itest_raw_scsi(&r, wcdb, 10, 0, out, sizeof out, NULL, 0, NULL, NULL), 0);
    uint8_t rcdb[10] = { 0x28, 0, 0, 0, 0x10, 0, 0, 0, 16, 0 };
    assert_int_equal(itest_raw_scsi(&r, rcdb, 10, 0, NULL, 0, in, 4096, NULL, NULL), 0);
    assert_memory_equal(in, out, 4096);
    assert_int_equal(itest_raw_logout(&r), 0);
    itest_raw_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_4mib_write_and_read_roundtrip_through_r2ts_and_data_in_pdus),
        cmocka_unit_test(test_small_max_recv_data_segment_length_splits_data_in_and_r2ts),
        cmocka_unit_test(test_short_expected_length_read_delivers_the_prefix),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
