/* Connection (transport/isc_conn.c): NOP-Out/NOP-In both ways (RFC 7143 11.18, 11.19), Reject (11.17), Logout
 * (11.14, 11.15), Async Message (11.9), stream faults and the connection's lifetime.
 *
 * Fixture (isc_harness.h): logged-in normal session without digests unless the test says so; nop_interval 5 s,
 * nop_timeout 30 s, time injected through h->now. Every test runs with whole-PDU, byte-by-byte and random
 * feeding. */
#include "isc_harness.h"
#include "target/tgt_internal.h"

static void test_nop_out_ping_is_echoed_with_its_data(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t ping[37];
    for (unsigned i = 0; i < sizeof(ping); i++)
        ping[i] = (uint8_t)i;
    uint32_t sn = h->cmdsn;
    h_nop_out(h, 0x1234, 0xffffffffu, ping, sizeof(ping), false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_NOP_IN, &p);
    assert_int_equal(isc_bhs_itt(p.bhs), 0x1234);
    assert_int_equal(prt_get_be32(p.bhs + 20), 0xffffffffu);
    assert_int_equal(p.len, sizeof(ping));
    assert_memory_equal(p.data, ping, sizeof(ping));
    /* A non-immediate NOP-Out uses up a CmdSN (RFC 7143 11.18). */
    assert_int_equal(prt_get_be32(p.bhs + 28), sn + 1);
    h_pdu_free(&p);
}

static void test_nop_out_with_reserved_itt_gets_no_answer(void **state)
{
    struct h *h = *state;
    h_login(h);
    h_nop_out(h, 0xffffffffu, 0xffffffffu, NULL, 0, true);
    h_flush(h);
    h_expect_none(h);
    assert_false(h->closed);
}

static void test_idle_initiator_is_pinged_and_answer_keeps_connection(void **state)
{
    struct h *h = *state;
    h_login(h);
    h->now += 4999;
    isc_server_tick(h->srv, h->now);
    h_flush(h);
    h_expect_none(h);
    h->now += 1;
    isc_server_tick(h->srv, h->now);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_NOP_IN, &p);
    /* RFC 7143 11.19: a target ping has ITT 0xffffffff and a TTT the initiator must echo. */
    assert_int_equal(isc_bhs_itt(p.bhs), 0xffffffffu);
    uint32_t ttt = prt_get_be32(p.bhs + 20);
    assert_int_not_equal(ttt, 0xffffffffu);
    h_pdu_free(&p);
    h->now += 1000;
    h_nop_out(h, 0xffffffffu, ttt, NULL, 0, true);
    h_flush(h);
    h_expect_none(h);
    h->now += 29000;
    isc_server_tick(h->srv, h->now);
    assert_false(h->closed);
}

static void test_unanswered_ping_drops_connection_after_timeout(void **state)
{
    struct h *h = *state;
    h_login(h);
    h->now += 5000;
    isc_server_tick(h->srv, h->now);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_NOP_IN, &p);
    h_pdu_free(&p);
    h->now += 29999;
    isc_server_tick(h->srv, h->now);
    assert_false(h->closed);
    h->now += 1;
    isc_server_tick(h->srv, h->now);
    assert_true(h->closed);
}

static void test_unknown_opcode_is_rejected_with_the_offending_header(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t b[ISC_BHS_LEN];
    isc_bhs_init(b, 0x1c, 0x80);
    prt_put_be32(b + 16, 0xabcd);
    h_send(h, b, NULL, 0);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_REJECT, &p);
    assert_int_equal(p.bhs[2], ISC_REJECT_CMD_NOT_SUPPORTED);
    assert_int_equal(p.len, ISC_BHS_LEN);
    assert_int_equal(p.data[0] & 0x3f, 0x1c);
    assert_int_equal(prt_get_be32(p.data + 16), 0xabcd);
    h_pdu_free(&p);
    assert_false(h->closed);
    assert_int_equal(h_tur(h, NULL), TGT_STATUS_GOOD);
}

static void test_snack_is_rejected_at_error_recovery_level_0(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t b[ISC_BHS_LEN];
    isc_bhs_init(b, ISC_OP_SNACK, 0x80);
    h_send(h, b, NULL, 0);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_REJECT, &p);
    assert_int_equal(p.bhs[2], ISC_REJECT_PROTOCOL_ERROR);
    h_pdu_free(&p);
}

static void test_header_digest_error_drops_connection(void **state)
{
    struct h *h = *state;
    static const char *const keys[] = {NULL};
    h_login_ex(h, true, false, keys);
    uint8_t wire[ISC_BHS_LEN + 4] = {0};
    isc_bhs_init(wire, ISC_OP_NOP_OUT, 0x80);
    wire[0] |= 0x40;
    prt_put_be32(wire + 16, 1);
    prt_put_be32(wire + 20, 0xffffffffu);
    isc_digest_put(wire + ISC_BHS_LEN, isc_crc32c(wire, ISC_BHS_LEN) + 1);
    h_feed(h, wire, sizeof(wire));
    h_flush(h);
    assert_true(h->closed);
    assert_true(h->feed_rc < 0);
    h_expect_none(h);
}

static void test_logout_close_session_answers_then_closes_after_flush(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t b[ISC_BHS_LEN];
    isc_bhs_init(b, ISC_OP_LOGOUT_REQ, 0x80 | 0);
    prt_put_be32(b + 16, 0x99);
    prt_put_be32(b + 24, h->cmdsn++);
    h_send(h, b, NULL, 0);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_LOGOUT_RSP, &p);
    assert_int_equal(p.bhs[2], 0);
    assert_int_equal(isc_bhs_itt(p.bhs), 0x99);
    assert_int_equal(prt_get_be16(p.bhs + 40), 2);  /* DefaultTime2Wait */
    assert_int_equal(prt_get_be16(p.bhs + 42), 20); /* DefaultTime2Retain */
    h_pdu_free(&p);
    assert_true(h->closed);
    assert_true(h->close_flush);
    /* A logout is an orderly end, not a fault for the net layer to report. */
    assert_int_equal(h->feed_rc, 0);
}

static void test_logout_for_recovery_is_refused_at_error_recovery_level_0(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t b[ISC_BHS_LEN];
    isc_bhs_init(b, ISC_OP_LOGOUT_REQ, 0x80 | 2);
    prt_put_be32(b + 16, 0x98);
    prt_put_be32(b + 24, h->cmdsn++);
    h_send(h, b, NULL, 0);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_LOGOUT_RSP, &p);
    assert_int_equal(p.bhs[2], 2);
    h_pdu_free(&p);
    assert_false(h->closed);
}

static void test_shutdown_sends_async_logout_request(void **state)
{
    struct h *h = *state;
    h_login(h);
    isc_server_shutdown(h->srv);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_ASYNC, &p);
    assert_int_equal(p.bhs[36], 1);
    h_pdu_free(&p);
}

static void test_release_with_writes_in_flight_frees_after_their_completion(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x28, 0, 16);
    h_scsi(h, h->itt++, 0xc0, cdb, 8192, NULL, 0, false);
    /* The Data-In write is still queued when the socket goes away; the connection waits for its done. */
    assert_true(h->n_dones > 0);
    h->released = true;
    isc_conn_release(h->c);
    assert_false(h->closed); /* released by the net layer: the connection itself must not call ops any more */
    h_flush(h);
    assert_int_equal(h->n_dones, 0);
    /* The Data-In bytes were all written before the release (ASan checks that nothing leaks). */
    size_t before = h->out_pos;
    struct h_pdu p;
    h_expect(h, ISC_OP_DATA_IN, &p);
    assert_int_equal(p.len, 8192);
    h_pdu_free(&p);
    assert_true(h->out_pos > before);
}

static void test_bytes_after_close_are_refused(void **state)
{
    struct h *h = *state;
    uint8_t cdb[16] = {0};
    h_scsi(h, 1, 0x80, cdb, 0, NULL, 0, false);
    assert_true(h->closed);
    uint8_t junk[48] = {0};
    assert_true(isc_conn_feed(h->c, junk, sizeof(junk)) < 0);
}

/* RFC 7143 6.3.4 + SPC-2 5.5.1: when the peer goes away the session ends at once, so its SPC-2 reservation is
 * released before any other connection's next command is processed, even before the socket's close completes. */
static void test_peer_gone_ends_the_session_and_releases_its_spc2_reservation_before_release(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t reserve6[16] = {0x16};
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0x80, reserve6, 0, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(p.bhs[3], TGT_STATUS_GOOD);
    h_pdu_free(&p);

    static const uint8_t isid_b[6] = {0x80, 0, 0, 0, 0, 0x42};
    struct tgt_nexus *other = tgt_nexus_login(h->tgt, "iqn.2026-11.org.test:other", isid_b, 1);
    assert_non_null(other);
    const struct pr_state *pr = tgt_lu_pr(tgt_server_lu(h->tgt, 0));
    assert_int_equal(pr_check_access(pr, tgt_nexus_id(other), PR_ACCESS_WRITE), PR_CONFLICT);

    isc_conn_peer_gone(h->c);
    assert_int_equal(pr_check_access(pr, tgt_nexus_id(other), PR_ACCESS_WRITE), PR_OK);
    assert_int_equal(isc_conn_feed(h->c, reserve6, sizeof(reserve6)) < 0, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        H_TEST(test_nop_out_ping_is_echoed_with_its_data),
        H_TEST(test_nop_out_with_reserved_itt_gets_no_answer),
        H_TEST(test_idle_initiator_is_pinged_and_answer_keeps_connection),
        H_TEST(test_unanswered_ping_drops_connection_after_timeout),
        H_TEST(test_unknown_opcode_is_rejected_with_the_offending_header),
        H_TEST(test_snack_is_rejected_at_error_recovery_level_0),
        H_TEST(test_header_digest_error_drops_connection),
        H_TEST(test_logout_close_session_answers_then_closes_after_flush),
        H_TEST(test_logout_for_recovery_is_refused_at_error_recovery_level_0),
        H_TEST(test_shutdown_sends_async_logout_request),
        H_TEST(test_release_with_writes_in_flight_frees_after_their_completion),
        H_TEST(test_bytes_after_close_are_refused),
        H_TEST(test_peer_gone_ends_the_session_and_releases_its_spc2_reservation_before_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
