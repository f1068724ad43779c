/* Session command numbering (transport/isc_session.c): RFC 7143 4.2.2.1 CmdSN window and in-order delivery.
 *
 * Fixture (isc_harness.h): logged-in normal session, unit attentions cleared; queue depth 128. Every test runs
 * with whole-PDU, byte-by-byte and random feeding. */
#include "isc_harness.h"

static void test_window_after_login_is_queue_depth_wide(void **state)
{
    struct h *h = *state;
    h_login(h);
    assert_int_equal(h->expcmdsn, h->cmdsn);
    assert_int_equal(h->maxcmdsn - h->expcmdsn + 1, 128);
}

static void test_command_above_max_cmdsn_is_silently_ignored(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint32_t saved = h->cmdsn;
    h->cmdsn = h->maxcmdsn + 1;
    uint8_t cdb[16] = {0};
    h_scsi(h, h->itt++, 0x80, cdb, 0, NULL, 0, false);
    h_flush(h);
    h_expect_none(h);
    assert_false(h->closed);
    /* The window did not move: the command with CmdSN == ExpCmdSN is served. */
    h->cmdsn = saved;
    assert_int_equal(h_tur(h, NULL), TGT_STATUS_GOOD);
    assert_int_equal(h->expcmdsn, saved + 1);
}

static void test_command_below_exp_cmdsn_is_silently_ignored(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint32_t saved = h->cmdsn;
    h->cmdsn = saved - 1;
    uint8_t cdb[16] = {0};
    h_scsi(h, h->itt++, 0x80, cdb, 0, NULL, 0, false);
    h_flush(h);
    h_expect_none(h);
    h->cmdsn = saved;
    assert_int_equal(h_tur(h, NULL), TGT_STATUS_GOOD);
}

static void test_command_after_a_gap_waits_until_the_gap_fills(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint32_t sn = h->cmdsn;
    uint8_t cdb[16] = {0};
    h->cmdsn = sn + 1;
    h_scsi(h, 0x501, 0x80, cdb, 0, NULL, 0, false);
    h_flush(h);
    h_expect_none(h); /* CmdSN sn+1 waits for sn */
    h->cmdsn = sn;
    h_scsi(h, 0x500, 0x80, cdb, 0, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(isc_bhs_itt(p.bhs), 0x500);
    h_pdu_free(&p);
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(isc_bhs_itt(p.bhs), 0x501);
    assert_int_equal(prt_get_be32(p.bhs + 28), sn + 2);
    h_pdu_free(&p);
    h->cmdsn = sn + 2;
}

static void test_held_write_collects_its_data_before_its_turn(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint32_t sn = h->cmdsn;
    uint8_t cdb[16], data[512];
    memset(data, 0x5a, sizeof(data));
    h_cdb_rw10(cdb, 0x2a, 7, 1);
    h->cmdsn = sn + 1;
    h_scsi(h, 0x601, 0xa0, cdb, 512, data, 512, false);
    h_flush(h);
    h_expect_none(h);
    h->cmdsn = sn;
    uint8_t tur[16] = {0};
    h_scsi(h, 0x600, 0x80, tur, 0, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(isc_bhs_itt(p.bhs), 0x600);
    h_pdu_free(&p);
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(isc_bhs_itt(p.bhs), 0x601);
    assert_int_equal(p.bhs[3], TGT_STATUS_GOOD);
    h_pdu_free(&p);
    h->cmdsn = sn + 2;
    uint8_t back[512];
    assert_int_equal(h_read10(h, 7, 1, back), TGT_STATUS_GOOD);
    assert_memory_equal(back, data, 512);
}

static void test_immediate_command_does_not_advance_exp_cmdsn(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint32_t sn = h->cmdsn;
    uint8_t cdb[16] = {0};
    h_scsi(h, h->itt++, 0x80, cdb, 0, NULL, 0, true);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(p.bhs[3], TGT_STATUS_GOOD);
    assert_int_equal(prt_get_be32(p.bhs + 28), sn);
    h_pdu_free(&p);
}

static void test_max_cmdsn_advances_as_commands_finish(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint32_t max0 = h->maxcmdsn;
    /* A write waiting for its R2T data holds one slot; the window does not grow past it. */
    static const char *const keys[] = {NULL};
    (void)keys;
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x2a, 0, 1);
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0xa0, cdb, 512, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_R2T, &p);
    uint32_t ttt = prt_get_be32(p.bhs + 20);
    assert_int_equal(h->maxcmdsn, max0);
    h_pdu_free(&p);
    assert_int_equal(h_tur(h, NULL), TGT_STATUS_GOOD);
    assert_int_equal(h->maxcmdsn, max0 + 1);
    uint8_t data[512] = {0};
    h_data_out(h, itt, ttt, 0, 0, data, 512, true);
    h_flush(h);
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    h_pdu_free(&p);
    assert_int_equal(h_tur(h, NULL), TGT_STATUS_GOOD);
    assert_int_equal(h->maxcmdsn, max0 + 3);
}

static void test_duplicate_itt_of_a_live_task_is_rejected(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x2a, 0, 1);
    h_scsi(h, 0x77, 0xa0, cdb, 512, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_R2T, &p);
    h_pdu_free(&p);
    h_scsi(h, 0x77, 0xa0, cdb, 512, NULL, 0, false);
    h_flush(h);
    h_expect(h, ISC_OP_REJECT, &p);
    assert_int_equal(p.bhs[2], ISC_REJECT_TASK_IN_PROGRESS);
    h_pdu_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        H_TEST(test_window_after_login_is_queue_depth_wide),
        H_TEST(test_command_above_max_cmdsn_is_silently_ignored),
        H_TEST(test_command_below_exp_cmdsn_is_silently_ignored),
        H_TEST(test_command_after_a_gap_waits_until_the_gap_fills),
        H_TEST(test_held_write_collects_its_data_before_its_turn),
        H_TEST(test_immediate_command_does_not_advance_exp_cmdsn),
        H_TEST(test_max_cmdsn_advances_as_commands_finish),
        H_TEST(test_duplicate_itt_of_a_live_task_is_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
