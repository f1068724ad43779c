/* Task management (transport/isc_tmf.c): RFC 7143 11.5, 11.6 on top of the device server's tgt_tmf().
 *
 * Fixture (isc_harness.h): logged-in normal session, unit attentions cleared, InitialR2T=No so that a write with
 * no immediate data waits in the transport for its R2T data. Every test runs with whole-PDU, byte-by-byte and
 * random feeding. */
#include "isc_harness.h"
#include "transport/isc_internal.h"

static void tmf(struct h *h, uint8_t fn, uint32_t itt, uint32_t rtt, uint32_t refcmdsn, bool immediate)
{
    uint8_t b[ISC_BHS_LEN];
    isc_bhs_init(b, ISC_OP_TMF_REQ, 0x80 | fn);
    if (immediate)
        b[0] |= 0x40;
    prt_put_be64(b + 8, isc_lun_encode(0));
    prt_put_be32(b + 16, itt);
    prt_put_be32(b + 20, rtt);
    prt_put_be32(b + 24, h->cmdsn);
    prt_put_be32(b + 28, h->expstatsn);
    prt_put_be32(b + 32, refcmdsn);
    if (!immediate)
        h->cmdsn++;
    h_send(h, b, NULL, 0);
    h_flush(h);
}

static uint8_t tmf_response(struct h *h, uint32_t itt)
{
    struct h_pdu p;
    h_expect(h, ISC_OP_TMF_RSP, &p);
    assert_int_equal(isc_bhs_itt(p.bhs), itt);
    uint8_t r = p.bhs[2];
    h_pdu_free(&p);
    return r;
}

/* A write that waits for R2T data; returns the R2T's TTT. */
static uint32_t pending_write(struct h *h, uint32_t itt, uint32_t *cmdsn)
{
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x2a, 0, 1);
    *cmdsn = h->cmdsn;
    h_scsi(h, itt, 0xa0, cdb, 512, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_R2T, &p);
    uint32_t ttt = prt_get_be32(p.bhs + 20);
    h_pdu_free(&p);
    return ttt;
}

static void test_abort_task_of_write_waiting_for_data_completes_and_ignores_late_data(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint32_t sn;
    uint32_t ttt = pending_write(h, 0x700, &sn);
    tmf(h, 1, 0x701, 0x700, sn, true);
    assert_int_equal(tmf_response(h, 0x701), 0);
    /* RFC 7143 11.5.1: Data-Out for the aborted task is discarded; no response for the task. */
    uint8_t data[512] = {0};
    h_data_out(h, 0x700, ttt, 0, 0, data, 512, true);
    h_flush(h);
    h_expect_none(h);
    assert_false(h->closed);
    assert_int_equal(h_tur(h, NULL), TGT_STATUS_GOOD);
}

static void test_held_abort_with_tas_answers_a_write_waiting_for_data_with_task_aborted(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint32_t sn;
    uint32_t ttt = pending_write(h, 0x720, &sn);
    uint32_t itn = tgt_nexus_id(h->c->sess->nexus);
    /* Another nexus's PREEMPT AND ABORT reaches the transport through the target's held-abort hook (SAM-5 5.6). */
    assert_int_equal(isc__tmf_held_abort(&h->srv->targets[0], itn + 1, 0, true), 0);
    assert_int_equal(isc__tmf_held_abort(&h->srv->targets[0], itn, 1, true), 0);
    assert_int_equal(isc__tmf_held_abort(&h->srv->targets[0], itn, 0, true), 1);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(isc_bhs_itt(p.bhs), 0x720);
    assert_int_equal(p.bhs[3], TGT_STATUS_TASK_ABORTED);
    assert_int_equal(p.len, 0);
    h_pdu_free(&p);
    /* RFC 7143 11.5.1: the data the R2T asked for arrives too late and is discarded. */
    uint8_t data[512] = {0};
    h_data_out(h, 0x720, ttt, 0, 0, data, 512, true);
    h_flush(h);
    h_expect_none(h);
    assert_false(h->closed);
    assert_int_equal(h_tur(h, NULL), TGT_STATUS_GOOD);
}

static void test_held_abort_without_tas_ends_a_write_waiting_for_data_silently(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint32_t sn;
    uint32_t ttt = pending_write(h, 0x730, &sn);
    assert_int_equal(isc__tmf_held_abort(&h->srv->targets[0], tgt_nexus_id(h->c->sess->nexus), 0, false), 1);
    h_flush(h);
    h_expect_none(h);
    uint8_t data[512] = {0};
    h_data_out(h, 0x730, ttt, 0, 0, data, 512, true);
    h_flush(h);
    h_expect_none(h);
    /* The CmdSN window moved on: later commands run. */
    assert_int_equal(h_tur(h, NULL), TGT_STATUS_GOOD);
}

static void test_abort_task_unknown_with_refcmdsn_outside_window_answers_task_does_not_exist(void **state)
{
    struct h *h = *state;
    h_login(h);
    tmf(h, 1, 0x710, 0x999, h->cmdsn - 5, true);
    assert_int_equal(tmf_response(h, 0x710), 1);
}

static void test_abort_task_unknown_with_refcmdsn_in_window_counts_it_received(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint32_t lost = h->cmdsn;
    /* The command with CmdSN `lost` never arrives; the next one waits behind the gap. */
    h->cmdsn = lost + 1;
    uint8_t cdb[16] = {0};
    h_scsi(h, 0x720, 0x80, cdb, 0, NULL, 0, false);
    h_flush(h);
    h_expect_none(h);
    /* RFC 7143 11.5.1 b: RefCmdSN inside the window and before the TMF's CmdSN is considered received. */
    tmf(h, 1, 0x721, 0x722, lost, true);
    /* The gap closes at once, so the waiting command is answered before the function's response. */
    struct h_pdu p;
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(isc_bhs_itt(p.bhs), 0x720);
    h_pdu_free(&p);
    assert_int_equal(tmf_response(h, 0x721), 0);
}

static void test_abort_task_set_aborts_waiting_writes_and_completes(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint32_t sn;
    pending_write(h, 0x730, &sn);
    pending_write(h, 0x731, &sn);
    tmf(h, 2, 0x732, 0, 0, true);
    assert_int_equal(tmf_response(h, 0x732), 0);
    h_expect_none(h);
    assert_int_equal(h_tur(h, NULL), TGT_STATUS_GOOD);
}

static void test_lun_reset_completes_and_raises_reset_unit_attention(void **state)
{
    struct h *h = *state;
    h_login(h);
    tmf(h, 5, 0x740, 0, 0, true);
    assert_int_equal(tmf_response(h, 0x740), 0);
    uint32_t sense;
    /* SAM-5 6.3.2: 29h/03h LOGICAL UNIT RESET OCCURRED, raised by the device server. */
    assert_int_equal(h_tur(h, &sense), TGT_STATUS_CHECK_CONDITION);
    assert_int_equal(sense >> 16, 0x06);
    assert_int_equal((sense >> 8) & 0xff, 0x29);
}

static void test_target_warm_reset_completes_and_keeps_the_connection(void **state)
{
    struct h *h = *state;
    h_login(h);
    tmf(h, 6, 0x750, 0, 0, true);
    assert_int_equal(tmf_response(h, 0x750), 0);
    assert_false(h->closed);
}

static void test_target_cold_reset_answers_then_closes_the_connection(void **state)
{
    struct h *h = *state;
    h_login(h);
    tmf(h, 7, 0x760, 0, 0, true);
    assert_int_equal(tmf_response(h, 0x760), 0);
    assert_true(h->closed);
    assert_true(h->close_flush);
}

static void test_task_reassign_is_not_supported_at_error_recovery_level_0(void **state)
{
    struct h *h = *state;
    h_login(h);
    tmf(h, 8, 0x770, 0x1, 0, true);
    assert_int_equal(tmf_response(h, 0x770), 4);
}

static void test_unknown_tmf_function_is_not_supported(void **state)
{
    struct h *h = *state;
    h_login(h);
    tmf(h, 0x33, 0x780, 0, 0, true);
    assert_int_equal(tmf_response(h, 0x780), 5);
}

/* Fixture variant: blocking work waits for h_run_work(), as on a worker thread. */
static int setup_worker(void **state)
{
    *state = h_new_ex(H_WHOLE, true);
    return 0;
}

static void test_abort_task_response_waits_until_the_task_on_a_worker_is_terminated(void **state)
{
    struct h *h = *state;
    h_login(h);
    h_run_work(h);
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x28, 0, 8);
    uint32_t sn = h->cmdsn;
    h_scsi(h, 0x800, 0xc0, cdb, 4096, NULL, 0, false);
    h_flush(h);
    assert_true(h->n_work > 0); /* the read is on the "worker" */
    h_expect_none(h);
    tmf(h, 1, 0x801, 0x800, sn, true);
    /* RFC 7143 11.6 / SAM-5 7.1: no response while the task is still running. */
    h_expect_none(h);
    h_run_work(h);
    h_flush(h);
    struct h_pdu p;
    assert_true(h_recv(h, &p));
    /* The aborted read sends nothing unless TAS asks for TASK ABORTED status (tgt.h); then the TMF answer. */
    if (isc_bhs_opcode(p.bhs) == ISC_OP_SCSI_RSP) {
        assert_int_equal(p.bhs[3], TGT_STATUS_TASK_ABORTED);
        h_pdu_free(&p);
        assert_true(h_recv(h, &p));
    }
    assert_int_equal(isc_bhs_opcode(p.bhs), ISC_OP_TMF_RSP);
    assert_int_equal(isc_bhs_itt(p.bhs), 0x801);
    assert_int_equal(p.bhs[2], 0);
    h_pdu_free(&p);
    h_expect_none(h);
}

static void test_release_with_command_on_a_worker_frees_after_its_completion(void **state)
{
    struct h *h = *state;
    h_login(h);
    h_run_work(h);
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x28, 0, 8);
    h_scsi(h, 0x810, 0xc0, cdb, 4096, NULL, 0, false);
    h_flush(h);
    assert_true(h->n_work > 0);
    h->released = true;
    isc_conn_release(h->c);
    size_t before = h->out_len;
    /* The command completes after the socket is gone: nothing may be written, and the connection is freed
     * (LeakSanitizer checks the latter). */
    h_run_work(h);
    h_flush(h);
    assert_int_equal(h->out_len, before);
    assert_int_equal(h->n_dones, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        H_TEST(test_abort_task_of_write_waiting_for_data_completes_and_ignores_late_data),
        H_TEST(test_held_abort_with_tas_answers_a_write_waiting_for_data_with_task_aborted),
        H_TEST(test_held_abort_without_tas_ends_a_write_waiting_for_data_silently),
        H_TEST(test_abort_task_unknown_with_refcmdsn_outside_window_answers_task_does_not_exist),
        H_TEST(test_abort_task_unknown_with_refcmdsn_in_window_counts_it_received),
        H_TEST(test_abort_task_set_aborts_waiting_writes_and_completes),
        H_TEST(test_lun_reset_completes_and_raises_reset_unit_attention),
        H_TEST(test_target_warm_reset_completes_and_keeps_the_connection),
        H_TEST(test_target_cold_reset_answers_then_closes_the_connection),
        H_TEST(test_task_reassign_is_not_supported_at_error_recovery_level_0),
        H_TEST(test_unknown_tmf_function_is_not_supported),
        cmocka_unit_test_setup_teardown(test_abort_task_response_waits_until_the_task_on_a_worker_is_terminated,
                                        setup_worker, h_teardown),
        cmocka_unit_test_setup_teardown(test_release_with_command_on_a_worker_frees_after_its_completion,
                                        setup_worker, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
