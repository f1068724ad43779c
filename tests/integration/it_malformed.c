/* Malformed input over a raw TCP socket (house rule: bad input never crashes or corrupts; RFC 7143 7.2, 11.17):
 * the target answers with a Reject or drops that one connection, and a second, concurrent libiscsi session
 * keeps working and keeps its data.
 *
 *   raw attacker (initiator-b) ──garbage──> portal ──> prtarget
 *   libiscsi     (initiator-a) ──READ/WRITE─┘ must keep working after every case
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

struct fixture {
    struct itest_target t;
    struct iscsi_context *victim;
    int lun;
    uint8_t block[4096];
};

static int setup(void **state)
{
    static struct fixture f;
    const char *args[] = { "--lun", "mem:16M", NULL };
    if (itest_start(&f.t, args) != 0)
        return -1;
    f.victim = itest_login(f.t.url[0], ITEST_INAME_A, ISCSI_HEADER_DIGEST_NONE, &f.lun);
    if (!f.victim)
        return -1;
    itest_pattern(f.block, sizeof f.block, 42);
    struct scsi_task *task = iscsi_write10_sync(f.victim, f.lun, 100, f.block, sizeof f.block, 512, 0, 0, 0, 0, 0);
    if (!task || task->status != SCSI_STATUS_GOOD)
        return -1;
    scsi_free_scsi_task(task);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    itest_logout(f->victim);
    return itest_stop(&f->t, SIGTERM) == 0 ? 0 : -1;
}

/* The bystander session still reads what it wrote before the attack. */
static void assert_victim_unharmed(struct fixture *f)
{
    struct scsi_task *task = iscsi_read10_sync(f->victim, f->lun, 100, sizeof f->block, 512, 0, 0, 0, 0, 0);
    assert_non_null(task);
    assert_int_equal(task->status, SCSI_STATUS_GOOD);
    assert_memory_equal(task->datain.data, f->block, sizeof f->block);
    scsi_free_scsi_task(task);
}

static void test_random_garbage_before_login_drops_only_that_connection(void **state)
{
    struct fixture *f = *state;
    struct itest_raw r;
    assert_int_equal(itest_raw_connect(&r, itest_port(&f->t, 0)), 0);
    uint8_t junk[4096];
    itest_pattern(junk, sizeof junk, 7);
    junk[0] = 0x7f; /* not a login: RFC 7143 6.1, the first PDU must be a Login Request */
    (void)itest_raw_send_bytes(&r, junk, sizeof junk);
    assert_true(itest_raw_wait_closed(&r, 20000, NULL));
    itest_raw_close(&r);
    assert_victim_unharmed(f);
}

static void test_non_login_first_pdu_is_refused(void **state)
{
    struct fixture *f = *state;
    struct itest_raw r;
    assert_int_equal(itest_raw_connect(&r, itest_port(&f->t, 0)), 0);
    uint8_t bhs[48] = { 0x01, 0x80 }; /* a SCSI Command before any login */
    assert_int_equal(itest_raw_send(&r, bhs, NULL, 0), 0);
    assert_true(itest_raw_wait_closed(&r, 20000, NULL));
    itest_raw_close(&r);
    assert_victim_unharmed(f);
}

static void test_unknown_opcode_in_full_feature_phase_is_rejected_or_dropped(void **state)
{
    struct fixture *f = *state;
    struct itest_raw r;
    assert_int_equal(itest_raw_connect(&r, itest_port(&f->t, 0)), 0);
    assert_int_equal(itest_raw_login(&r, ITEST_INAME_B, ITEST_IQN, false, false, NULL, 0), 0);
    uint8_t bhs[48] = { 0 };
    bhs[0] = 0x1e; /* no such initiator opcode */
    bhs[1] = 0x80;
    bhs[16] = 0x77;
    assert_int_equal(itest_raw_send(&r, bhs, NULL, 0), 0);
    struct itest_pdu p;
    int rc = itest_raw_recv(&r, &p);
    if (rc == 0) {
        /* RFC 7143 11.17.1: Reject with reason "Command not supported" (05h) or "Protocol Error" (04h). */
        assert_int_equal(p.bhs[0] & 0x3f, 0x3f);
        assert_true(p.bhs[2] == 0x04 || p.bhs[2] == 0x05);
        itest_pdu_free(&p);
        /* The connection stays usable after a Reject. */
        static const uint8_t tur[6] = { 0 };
        assert_int_equal(itest_raw_scsi(&r, tur, 6, 0, NULL, 0, NULL, 0, NULL, NULL), 0);
    }
    itest_raw_close(&r);
    assert_victim_unharmed(f);
}

static void test_oversized_data_segment_length_drops_the_connection(void **state)
{
    struct fixture *f = *state;
    struct itest_raw r;
    assert_int_equal(itest_raw_connect(&r, itest_port(&f->t, 0)), 0);
    assert_int_equal(itest_raw_login(&r, ITEST_INAME_B, ITEST_IQN, false, false, NULL, 0), 0);
    uint8_t hdr[48] = { 0 };
    hdr[0] = 0x01;
    hdr[1] = 0xa1; /* F, W, SIMPLE */
    hdr[5] = 0xff; /* DataSegmentLength 16 MiB - 1, far beyond MaxRecvDataSegmentLength (RFC 7143 13.12) */
    hdr[6] = 0xff;
    hdr[7] = 0xff;
    hdr[16] = 0x55;
    hdr[20] = 0x01; /* EDTL 16 MiB */
    hdr[32] = 0x2a;
    assert_int_equal(itest_raw_send_bytes(&r, hdr, sizeof hdr), 0);
    assert_true(itest_raw_wait_closed(&r, 20000, NULL));
    itest_raw_close(&r);
    assert_victim_unharmed(f);
}

static void test_bad_header_digest_drops_the_connection(void **state)
{
    struct fixture *f = *state;
    struct itest_raw r;
    assert_int_equal(itest_raw_connect(&r, itest_port(&f->t, 0)), 0);
    assert_int_equal(itest_raw_login(&r, ITEST_INAME_B, ITEST_IQN, true, false, NULL, 0), 0);
    uint8_t pdu[52] = { 0x40, 0x80 }; /* NOP-Out, immediate */
    pdu[16] = 0x12;
    memset(pdu + 20, 0xff, 4);
    pdu[48] = 0xde; /* a digest that cannot match (RFC 7143 7.8: header digest errors are not recoverable) */
    pdu[49] = 0xad;
    assert_int_equal(itest_raw_send_bytes(&r, pdu, sizeof pdu), 0);
    assert_true(itest_raw_wait_closed(&r, 20000, NULL));
    itest_raw_close(&r);
    assert_victim_unharmed(f);
}

static void test_bad_data_digest_is_rejected_or_dropped_and_writes_nothing(void **state)
{
    struct fixture *f = *state;
    struct itest_raw r;
    assert_int_equal(itest_raw_connect(&r, itest_port(&f->t, 0)), 0);
    assert_int_equal(itest_raw_login(&r, ITEST_INAME_B, ITEST_IQN, false, true, NULL, 0), 0);
    /* WRITE(10) of block 100 (the victim's data) with 512 bytes of immediate data and a wrong data digest. */
    uint8_t pdu[48 + 512 + 4] = { 0x01, 0xa1 };
    pdu[7] = 0x02; /* DataSegmentLength 512 */
    pdu[16] = 0x66;
    pdu[22] = 0x02; /* EDTL 512 */
    pdu[27] = r.cmdsn & 0xff;
    pdu[24] = (uint8_t)(r.cmdsn >> 24);
    pdu[25] = (uint8_t)(r.cmdsn >> 16);
    pdu[26] = (uint8_t)(r.cmdsn >> 8);
    pdu[28] = (uint8_t)(r.exp_statsn >> 24);
    pdu[29] = (uint8_t)(r.exp_statsn >> 16);
    pdu[30] = (uint8_t)(r.exp_statsn >> 8);
    pdu[31] = (uint8_t)r.exp_statsn;
    pdu[32] = 0x2a;
    pdu[37] = 100;
    pdu[40] = 1;
    memset(pdu + 48, 0xee, 512);
    memset(pdu + 560, 0, 4);
    assert_int_equal(itest_raw_send_bytes(&r, pdu, sizeof pdu), 0);
    struct itest_pdu p;
    int rc = itest_raw_recv(&r, &p);
    if (rc == 0) {
        /* RFC 7143 7.8: a data digest error is answered with Reject, reason Data (payload) Digest Error. */
        if ((p.bhs[0] & 0x3f) != 0x3f)
            fprintf(stderr, "answer opcode 0x%02x status 0x%02x\n", p.bhs[0] & 0x3f, p.bhs[3]);
        assert_int_equal(p.bhs[0] & 0x3f, 0x3f);
        assert_int_equal(p.bhs[2], 0x02);
        itest_pdu_free(&p);
    }
    itest_raw_close(&r);
    assert_victim_unharmed(f);
}

static void test_many_idle_connections_do_not_starve_a_working_session(void **state)
{
    struct fixture *f = *state;
    struct itest_raw r[64];
    for (unsigned i = 0; i < 64; i++)
        assert_int_equal(itest_raw_connect(&r[i], itest_port(&f->t, 0)), 0);
    /* Half of them send half a header and stall. */
    uint8_t half[20] = { 0x43, 0x87 };
    for (unsigned i = 0; i < 64; i += 2)
        assert_int_equal(itest_raw_send_bytes(&r[i], half, sizeof half), 0);
    assert_victim_unharmed(f);
    for (unsigned i = 0; i < 64; i++)
        itest_raw_close(&r[i]);
    assert_victim_unharmed(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_garbage_before_login_drops_only_that_connection),
        cmocka_unit_test(test_non_login_first_pdu_is_refused),
        cmocka_unit_test(test_unknown_opcode_in_full_feature_phase_is_rejected_or_dropped),
        cmocka_unit_test(test_oversized_data_segment_length_drops_the_connection),
        cmocka_unit_test(test_bad_header_digest_drops_the_connection),
        cmocka_unit_test(test_bad_data_digest_is_rejected_or_dropped_and_writes_nothing),
        cmocka_unit_test(test_many_idle_connections_do_not_starve_a_working_session),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
