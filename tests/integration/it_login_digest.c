/* Login with each digest setting (RFC 7143 13.1: HeaderDigest, DataDigest = None or CRC32C) and move data
 * through each. libiscsi negotiates header digests only, so data digests go through the raw initiator, which
 * computes CRC32C independently of the target's code.
 *
 *   libiscsi (initiator-a): None | CRC32C header
 *   raw      (initiator-b): CRC32C data | CRC32C header + data
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
    const char *args[] = { "--lun", "mem:64M", NULL };
    if (itest_start(&t, args) != 0)
        return -1;
    *state = &t;
    return 0;
}

static int teardown(void **state)
{
    return itest_stop(*state, SIGTERM) == 0 ? 0 : -1;
}

static void libiscsi_roundtrip(struct itest_target *t, int hd, uint32_t lba)
{
    int lun;
    struct iscsi_context *iscsi = itest_login(t->url[0], ITEST_INAME_A, hd, &lun);
    assert_non_null(iscsi);
    uint8_t out[65536];
    itest_pattern(out, sizeof out, lba);
    struct scsi_task *task = iscsi_write10_sync(iscsi, lun, lba, out, sizeof out, 512, 0, 0, 0, 0, 0);
    assert_non_null(task);
    assert_int_equal(task->status, SCSI_STATUS_GOOD);
    scsi_free_scsi_task(task);
    task = iscsi_read10_sync(iscsi, lun, lba, sizeof out, 512, 0, 0, 0, 0, 0);
    assert_non_null(task);
    assert_int_equal(task->status, SCSI_STATUS_GOOD);
    assert_int_equal(task->datain.size, sizeof out);
    assert_memory_equal(task->datain.data, out, sizeof out);
    scsi_free_scsi_task(task);
    itest_logout(iscsi);
}

static void raw_roundtrip(struct itest_target *t, bool hd, bool dd, uint32_t lba)
{
    struct itest_raw r;
    assert_int_equal(itest_raw_connect(&r, itest_port(t, 0)), 0);
    assert_int_equal(itest_raw_login(&r, ITEST_INAME_B, ITEST_IQN, hd, dd, NULL, 0), 0);
    assert_int_equal(r.hd, hd);
    assert_int_equal(r.dd, dd);
    static uint8_t out[131072], in[131072];
    itest_pattern(out, sizeof out, lba + 7);
    uint16_t blocks = sizeof out / 512;
    uint8_t wcdb[10] = { 0x2a, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16), (uint8_t)(lba >> 8), (uint8_t)lba,
                         0, (uint8_t)(blocks >> 8), (uint8_t)blocks, 0 };
    assert_int_equal(itest_raw_scsi(&r, wcdb, 10, 0, out, sizeof out, NULL, 0, NULL, NULL), 0);
    uint8_t rcdb[10] = { 0x28, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16), (uint8_t)(lba >> 8), (uint8_t)lba,
                         0, (uint8_t)(blocks >> 8), (uint8_t)blocks, 0 };
    memset(in, 0, sizeof in);
    assert_int_equal(itest_raw_scsi(&r, rcdb, 10, 0, NULL, 0, in, sizeof in, NULL, NULL), 0);
    assert_memory_equal(in, out, sizeof out);
    assert_int_equal(itest_raw_logout(&r), 0);
    itest_raw_close(&r);
}

static void test_login_without_digests_moves_data_intact(void **state)
{
    libiscsi_roundtrip(*state, ISCSI_HEADER_DIGEST_NONE, 0);
}

static void test_login_with_header_crc32c_moves_data_intact(void **state)
{
    libiscsi_roundtrip(*state, ISCSI_HEADER_DIGEST_CRC32C, 2048);
}

static void test_login_with_data_crc32c_moves_data_intact(void **state)
{
    raw_roundtrip(*state, false, true, 4096);
}

static void test_login_with_header_and_data_crc32c_moves_data_intact(void **state)
{
    raw_roundtrip(*state, true, true, 8192);
}

static void test_login_with_header_crc32c_raw_agrees_with_libiscsi(void **state)
{
    raw_roundtrip(*state, true, false, 12288);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_without_digests_moves_data_intact),
        cmocka_unit_test(test_login_with_header_crc32c_moves_data_intact),
        cmocka_unit_test(test_login_with_data_crc32c_moves_data_intact),
        cmocka_unit_test(test_login_with_header_and_data_crc32c_moves_data_intact),
        cmocka_unit_test(test_login_with_header_crc32c_raw_agrees_with_libiscsi),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
