/* Data integrity: what one session writes at queue depth 32, another session with a different initiator name
 * reads back bit for bit; blocks never written read as zeros.
 *
 *   initiator-a ── writes (async, QD32) ──> LUN 0 (mem:64M) <── reads ── initiator-b
 */
#include <poll.h>
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

#define LU_BYTES (64u << 20)
#define BLOCK 512u
#define QD 32u

struct pending {
    unsigned outstanding;
    unsigned failures;
};

static void write_cb(struct iscsi_context *iscsi, int status, void *command_data, void *private_data)
{
    struct pending *p = private_data;
    struct scsi_task *task = command_data;
    if (status != SCSI_STATUS_GOOD) {
        fprintf(stderr, "async write failed: %s\n", iscsi_get_error(iscsi));
        p->failures++;
    }
    if (task)
        scsi_free_scsi_task(task);
    p->outstanding--;
}

static void drain(struct iscsi_context *iscsi, struct pending *p)
{
    while (p->outstanding) {
        struct pollfd pfd = { .fd = iscsi_get_fd(iscsi), .events = (short)iscsi_which_events(iscsi) };
        int rc = poll(&pfd, 1, 20000);
        assert_true(rc > 0);
        assert_int_equal(iscsi_service(iscsi, pfd.revents), 0);
    }
}

static void test_random_writes_at_qd32_read_back_from_a_second_session(void **state)
{
    (void)state;
    struct itest_target t;
    const char *args[] = { "--lun", "mem:64M", NULL };
    assert_int_equal(itest_start(&t, args), 0);

    uint8_t *shadow = calloc(1, LU_BYTES);
    uint8_t *bufs = malloc(QD * 256 * BLOCK);
    assert_non_null(shadow);
    assert_non_null(bufs);

    int lun;
    struct iscsi_context *a = itest_login(t.url[0], ITEST_INAME_A, ISCSI_HEADER_DIGEST_NONE, &lun);
    assert_non_null(a);
    uint64_t rng = 12345;
    struct pending p = { 0 };
    /* Each batch writes QD extents in QD disjoint stripes, so their order cannot matter; batches overlap one
     * another, so later data must replace earlier data. */
    const uint32_t stripe_blocks = LU_BYTES / BLOCK / QD;
    for (unsigned batch = 0; batch < 12; batch++) {
        for (unsigned i = 0; i < QD; i++) {
            uint32_t nblk = 1 + (uint32_t)(itest_rand(&rng) % 256);
            uint32_t lba = i * stripe_blocks + (uint32_t)(itest_rand(&rng) % (stripe_blocks - nblk));
            uint8_t *buf = bufs + (size_t)i * 256 * BLOCK;
            itest_pattern(buf, (size_t)nblk * BLOCK, itest_rand(&rng));
            memcpy(shadow + (size_t)lba * BLOCK, buf, (size_t)nblk * BLOCK);
            struct scsi_task *task = iscsi_write10_task(a, lun, lba, buf, nblk * BLOCK, BLOCK, 0, 0, 0, 0, 0,
                                                        write_cb, &p);
            assert_non_null(task);
            p.outstanding++;
        }
        drain(a, &p);
        assert_int_equal(p.failures, 0);
    }
    itest_logout(a);

    struct iscsi_context *b = itest_login(t.url[0], ITEST_INAME_B, ISCSI_HEADER_DIGEST_NONE, &lun);
    assert_non_null(b);
    const uint32_t chunk = 1u << 20;
    for (uint32_t off = 0; off < LU_BYTES; off += chunk) {
        struct scsi_task *task = iscsi_read16_sync(b, lun, off / BLOCK, chunk, BLOCK, 0, 0, 0, 0, 0);
        assert_non_null(task);
        assert_int_equal(task->status, SCSI_STATUS_GOOD);
        assert_int_equal(task->datain.size, chunk);
        if (memcmp(task->datain.data, shadow + off, chunk) != 0)
            fprintf(stderr, "mismatch in the MiB at byte offset %u\n", off);
        assert_memory_equal(task->datain.data, shadow + off, chunk);
        scsi_free_scsi_task(task);
    }
    itest_logout(b);
    free(shadow);
    free(bufs);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

static void test_read_capacity_reports_the_configured_size(void **state)
{
    (void)state;
    struct itest_target t;
    const char *args[] = { "--lun", "mem:64M", "--lun", "mem:8M,bs=4096", NULL };
    assert_int_equal(itest_start(&t, args), 0);
    int lun;
    struct iscsi_context *a = itest_login(t.url[1], ITEST_INAME_A, ISCSI_HEADER_DIGEST_NONE, &lun);
    assert_non_null(a);
    assert_int_equal(lun, 1);
    struct scsi_task *task = iscsi_readcapacity16_sync(a, 1);
    assert_non_null(task);
    assert_int_equal(task->status, SCSI_STATUS_GOOD);
    struct scsi_readcapacity16 *rc16 = scsi_datain_unmarshall(task);
    assert_non_null(rc16);
    assert_int_equal(rc16->block_length, 4096);
    assert_int_equal(rc16->returned_lba, (8u << 20) / 4096 - 1);
    scsi_free_scsi_task(task);
    itest_clear_ua(a, 0);
    task = iscsi_readcapacity16_sync(a, 0);
    assert_non_null(task);
    rc16 = scsi_datain_unmarshall(task);
    assert_non_null(rc16);
    assert_int_equal(rc16->block_length, 512);
    assert_int_equal(rc16->returned_lba, LU_BYTES / 512 - 1);
    scsi_free_scsi_task(task);
    itest_logout(a);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

static void test_read_only_lun_refuses_writes_with_data_protect(void **state)
{
    (void)state;
    struct itest_target t;
    const char *args[] = { "--lun", "mem:8M,ro", NULL };
    assert_int_equal(itest_start(&t, args), 0);
    int lun;
    struct iscsi_context *a = itest_login(t.url[0], ITEST_INAME_A, ISCSI_HEADER_DIGEST_NONE, &lun);
    assert_non_null(a);
    uint8_t buf[512] = { 1 };
    struct scsi_task *task = iscsi_write10_sync(a, lun, 0, buf, sizeof buf, 512, 0, 0, 0, 0, 0);
    /* The first command after login reports the power-on unit attention; retry once past it. */
    if (task && task->status == SCSI_STATUS_CHECK_CONDITION && task->sense.key == SCSI_SENSE_UNIT_ATTENTION) {
        scsi_free_scsi_task(task);
        task = iscsi_write10_sync(a, lun, 0, buf, sizeof buf, 512, 0, 0, 0, 0, 0);
    }
    assert_non_null(task);
    assert_int_equal(task->status, SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(task->sense.key, SCSI_SENSE_DATA_PROTECTION);
    assert_int_equal(task->sense.ascq, 0x2700);
    scsi_free_scsi_task(task);
    itest_logout(a);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_writes_at_qd32_read_back_from_a_second_session),
        cmocka_unit_test(test_read_capacity_reports_the_configured_size),
        cmocka_unit_test(test_read_only_lun_refuses_writes_with_data_protect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
