/* File-backed LUs: data written is never lost on SIGTERM (the daemon flushes before exit 0), the file keeps
 * its size across a restart, and the LU identity (VPD page 83h, SPC-4 7.8.6) stays the same.
 *
 *   run 1: prtarget --lun file:DIR/lu.img:16M   <── initiator-a writes, then SIGTERM
 *   run 2: prtarget --lun file:DIR/lu.img       <── initiator-b reads back
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "tests/integration/itest.h"

#define LU_BYTES (16u << 20)

static void test_file_lun_data_survives_sigterm_and_restart(void **state)
{
    (void)state;
    char dir[256], spec[512], spec2[512], img[300];
    assert_int_equal(itest_mkdtemp(dir, sizeof dir), 0);
    snprintf(img, sizeof img, "%s/lu.img", dir);
    snprintf(spec, sizeof spec, "file:%s:16M", img);
    snprintf(spec2, sizeof spec2, "file:%s", img);

    struct itest_target t;
    const char *args1[] = { "--lun", spec, NULL };
    assert_int_equal(itest_start(&t, args1), 0);
    int lun;
    struct iscsi_context *a = itest_login(t.url[0], ITEST_INAME_A, ISCSI_HEADER_DIGEST_NONE, &lun);
    assert_non_null(a);
    static uint8_t out[8][65536];
    static const uint32_t lbas[8] = { 0, 200, 777, 4096, 10000, 20000, 30000, LU_BYTES / 512 - 128 };
    for (unsigned i = 0; i < 8; i++) {
        itest_pattern(out[i], sizeof out[i], lbas[i] + 1);
        struct scsi_task *task = iscsi_write10_sync(a, lun, lbas[i], out[i], sizeof out[i], 512, 0, 0, 0, 0, 0);
        assert_non_null(task);
        assert_int_equal(task->status, SCSI_STATUS_GOOD);
        scsi_free_scsi_task(task);
    }
    struct scsi_task *vpd1 = iscsi_inquiry_sync(a, lun, 1, 0x83, 255);
    assert_non_null(vpd1);
    assert_int_equal(vpd1->status, SCSI_STATUS_GOOD);
    /* No logout and no SYNCHRONIZE CACHE: the stop itself must make the writes durable. */
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
    iscsi_destroy_context(a);

    struct stat st;
    assert_int_equal(stat(img, &st), 0);
    assert_int_equal(st.st_size, LU_BYTES);

    const char *args2[] = { "--lun", spec2, NULL };
    assert_int_equal(itest_start(&t, args2), 0);
    struct iscsi_context *b = itest_login(t.url[0], ITEST_INAME_B, ISCSI_HEADER_DIGEST_NONE, &lun);
    assert_non_null(b);
    for (unsigned i = 0; i < 8; i++) {
        struct scsi_task *task = iscsi_read10_sync(b, lun, lbas[i], sizeof out[i], 512, 0, 0, 0, 0, 0);
        assert_non_null(task);
        assert_int_equal(task->status, SCSI_STATUS_GOOD);
        assert_int_equal(task->datain.size, sizeof out[i]);
        assert_memory_equal(task->datain.data, out[i], sizeof out[i]);
        scsi_free_scsi_task(task);
    }
    struct scsi_task *cap = iscsi_readcapacity16_sync(b, lun);
    assert_non_null(cap);
    struct scsi_readcapacity16 *rc16 = scsi_datain_unmarshall(cap);
    assert_non_null(rc16);
    assert_int_equal(rc16->returned_lba, LU_BYTES / 512 - 1);
    scsi_free_scsi_task(cap);

    /* SPC-4 7.8.6.1 and the issue: the NAA designator of an LU is stable across restarts. */
    struct scsi_task *vpd2 = iscsi_inquiry_sync(b, lun, 1, 0x83, 255);
    assert_non_null(vpd2);
    assert_int_equal(vpd2->status, SCSI_STATUS_GOOD);
    assert_int_equal(vpd2->datain.size, vpd1->datain.size);
    assert_memory_equal(vpd2->datain.data, vpd1->datain.data, vpd1->datain.size);
    scsi_free_scsi_task(vpd1);
    scsi_free_scsi_task(vpd2);
    itest_logout(b);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
    itest_rmdir(dir);
}

static void test_existing_file_lun_takes_the_file_size(void **state)
{
    (void)state;
    char dir[256], spec[512], img[300];
    assert_int_equal(itest_mkdtemp(dir, sizeof dir), 0);
    snprintf(img, sizeof img, "%s/small.img", dir);
    FILE *f = fopen(img, "w");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 3u << 20), 0);
    fclose(f);
    snprintf(spec, sizeof spec, "file:%s", img);
    struct itest_target t;
    const char *args[] = { "--lun", spec, NULL };
    assert_int_equal(itest_start(&t, args), 0);
    int lun;
    struct iscsi_context *a = itest_login(t.url[0], ITEST_INAME_A, ISCSI_HEADER_DIGEST_NONE, &lun);
    assert_non_null(a);
    struct scsi_task *cap = iscsi_readcapacity10_sync(a, lun, 0, 0);
    assert_non_null(cap);
    struct scsi_readcapacity10 *rc10 = scsi_datain_unmarshall(cap);
    assert_non_null(rc10);
    assert_int_equal(rc10->lba, (3u << 20) / 512 - 1);
    assert_int_equal(rc10->block_size, 512);
    scsi_free_scsi_task(cap);
    itest_logout(a);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
    itest_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_lun_data_survives_sigterm_and_restart),
        cmocka_unit_test(test_existing_file_lun_takes_the_file_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
