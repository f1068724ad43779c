/* SCSI Command, Data-Out/R2T, Data-In and SCSI Response (transport/isc_scsi.c): RFC 7143 10.7, 10.8, 11.3-11.8.
 *
 * Fixture (isc_harness.h): LU 0 = 4 MiB mem, 512-byte blocks; the initiator declares MaxRecvDataSegmentLength
 * 8192. Each test logs in with the keys it needs and runs with whole-PDU, byte-by-byte and random feeding. */
#include "isc_harness.h"

static void login_keys(struct h *h, const char *ir2t, const char *fbl, const char *mbl, const char *mor2t)
{
    char k1[64], k2[64], k3[64], k4[64];
    snprintf(k1, sizeof(k1), "InitialR2T=%s", ir2t);
    snprintf(k2, sizeof(k2), "FirstBurstLength=%s", fbl);
    snprintf(k3, sizeof(k3), "MaxBurstLength=%s", mbl);
    snprintf(k4, sizeof(k4), "MaxOutstandingR2T=%s", mor2t);
    const char *const keys[] = {"ImmediateData=Yes", k1, k2, k3, k4, NULL};
    h_login_ex(h, false, false, keys);
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)((i * 131u + seed * 7u) ^ (i >> 9));
}

static void test_data_in_split_at_initiator_mrdsl_with_status_collapsed_in_last_pdu(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x28, 0, 64); /* 32 KiB */
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0xc0, cdb, 32768, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    for (uint32_t i = 0; i < 4; i++) {
        h_expect(h, ISC_OP_DATA_IN, &p);
        assert_int_equal(p.len, 8192);
        assert_int_equal(prt_get_be32(p.bhs + 36), i);        /* DataSN */
        assert_int_equal(prt_get_be32(p.bhs + 40), i * 8192); /* Buffer Offset */
        assert_int_equal(prt_get_be32(p.bhs + 20), 0xffffffffu);
        /* RFC 7143 11.7.4: S (and F) only on the last PDU, which then carries status and StatSN. */
        assert_int_equal(p.bhs[1] & 0x01, i == 3 ? 1 : 0);
        if (i == 3) {
            assert_int_equal(p.bhs[1] & 0x80, 0x80);
            assert_int_equal(p.bhs[3], TGT_STATUS_GOOD);
            assert_int_equal(p.bhs[1] & 0x06, 0);
        }
        h_pdu_free(&p);
    }
    h_expect_none(h);
}

static void test_data_in_sequences_end_with_f_bit_at_max_burst_length(void **state)
{
    struct h *h = *state;
    login_keys(h, "Yes", "8192", "16384", "1");
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x28, 0, 64);
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0xc0, cdb, 32768, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    for (uint32_t i = 0; i < 4; i++) {
        h_expect(h, ISC_OP_DATA_IN, &p);
        /* RFC 7143 13.13: a Data-In sequence is at most MaxBurstLength (here 2 PDUs); F closes each one. */
        assert_int_equal(!!(p.bhs[1] & 0x80), i % 2 == 1);
        h_pdu_free(&p);
    }
}

static void test_read_edtl_larger_than_transfer_reports_underflow_residual(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x28, 0, 1);
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0xc0, cdb, 10000, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_DATA_IN, &p);
    assert_int_equal(p.len, 512);
    assert_int_equal(p.bhs[1] & 0x07, 0x01 | 0x02); /* S + U */
    assert_int_equal(prt_get_be32(p.bhs + 44), 10000 - 512);
    h_pdu_free(&p);
}

static void test_read_edtl_smaller_than_transfer_sends_edtl_and_reports_overflow(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x28, 0, 2);
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0xc0, cdb, 200, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_DATA_IN, &p);
    assert_int_equal(p.len, 200);
    assert_int_equal(p.bhs[1] & 0x07, 0x01 | 0x04); /* S + O */
    assert_int_equal(prt_get_be32(p.bhs + 44), 1024 - 200);
    h_pdu_free(&p);
}

static void test_read_with_edtl_zero_answers_scsi_response_with_overflow(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x28, 0, 1);
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0x80, cdb, 0, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(p.bhs[3], TGT_STATUS_GOOD);
    assert_int_equal(p.bhs[1] & 0x06, 0x04);
    assert_int_equal(prt_get_be32(p.bhs + 44), 512);
    h_pdu_free(&p);
}

static void test_check_condition_sends_sense_length_and_sense_in_scsi_response(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x28, H_LU_SIZE / 512, 1); /* one block past the end */
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0xc0, cdb, 512, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(p.bhs[3], TGT_STATUS_CHECK_CONDITION);
    assert_true(p.len >= 2 + 18);
    uint16_t sl = prt_get_be16(p.data);
    assert_int_equal(sl, p.len - 2);
    assert_int_equal(p.data[2 + 2] & 0x0f, 0x05); /* ILLEGAL REQUEST */
    assert_int_equal(p.data[2 + 12], 0x21);       /* LBA OUT OF RANGE */
    h_pdu_free(&p);
}

static void test_write_with_immediate_and_unsolicited_data_then_r2t_for_the_rest(void **state)
{
    struct h *h = *state;
    login_keys(h, "No", "16384", "32768", "1");
    static uint8_t data[65536], back[65536];
    fill(data, sizeof(data), 3);
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x2a, 100, 128);
    uint32_t itt = h->itt++;
    /* 4 KiB immediate data, F=0: unsolicited Data-Out up to FirstBurstLength (16 KiB) follows. */
    h_scsi(h, itt, 0x20, cdb, sizeof(data), data, 4096, false);
    h_data_out(h, itt, 0xffffffffu, 0, 4096, data + 4096, 8192, false);
    h_data_out(h, itt, 0xffffffffu, 1, 12288, data + 12288, 4096, true);
    h_flush(h);
    struct h_pdu p;
    uint32_t off = 16384;
    uint32_t r2tsn = 0;
    while (off < sizeof(data)) {
        h_expect(h, ISC_OP_R2T, &p);
        assert_int_equal(isc_bhs_itt(p.bhs), itt);
        assert_int_equal(prt_get_be32(p.bhs + 36), r2tsn++);
        assert_int_equal(prt_get_be32(p.bhs + 40), off);
        uint32_t len = prt_get_be32(p.bhs + 44);
        assert_true(len <= 32768);
        uint32_t ttt = prt_get_be32(p.bhs + 20);
        h_pdu_free(&p);
        h_expect_none(h); /* MaxOutstandingR2T=1 */
        for (uint32_t o = 0, sn = 0; o < len; o += 8192, sn++)
            h_data_out(h, itt, ttt, sn, off + o, data + off + o, 8192, o + 8192 == len);
        h_flush(h);
        off += len;
    }
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(p.bhs[3], TGT_STATUS_GOOD);
    assert_int_equal(prt_get_be32(p.bhs + 36), r2tsn); /* ExpDataSN counts the R2Ts */
    h_pdu_free(&p);
    assert_int_equal(h_read10(h, 100, 128, back), TGT_STATUS_GOOD);
    assert_memory_equal(back, data, sizeof(data));
}

static void test_write_with_several_outstanding_r2ts(void **state)
{
    struct h *h = *state;
    login_keys(h, "Yes", "8192", "8192", "4");
    static uint8_t data[49152], back[49152];
    fill(data, sizeof(data), 9);
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x2a, 300, 96);
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0xa0, cdb, sizeof(data), NULL, 0, false);
    h_flush(h);
    /* RFC 7143 13.17: up to MaxOutstandingR2T (4) R2Ts at once, each one MaxBurstLength (8 KiB). */
    struct h_pdu p;
    uint32_t ttt[6];
    for (int i = 0; i < 4; i++) {
        h_expect(h, ISC_OP_R2T, &p);
        assert_int_equal(prt_get_be32(p.bhs + 40), (uint32_t)i * 8192);
        assert_int_equal(prt_get_be32(p.bhs + 44), 8192);
        ttt[i] = prt_get_be32(p.bhs + 20);
        h_pdu_free(&p);
    }
    h_expect_none(h);
    h_data_out(h, itt, ttt[0], 0, 0, data, 8192, true);
    h_flush(h);
    /* Completing one sequence opens room for the next R2T. */
    h_expect(h, ISC_OP_R2T, &p);
    assert_int_equal(prt_get_be32(p.bhs + 40), 4 * 8192);
    ttt[4] = prt_get_be32(p.bhs + 20);
    h_pdu_free(&p);
    for (int i = 1; i < 4; i++)
        h_data_out(h, itt, ttt[i], 0, (uint32_t)i * 8192, data + i * 8192, 8192, true);
    h_flush(h);
    h_expect(h, ISC_OP_R2T, &p);
    assert_int_equal(prt_get_be32(p.bhs + 40), 5 * 8192);
    ttt[5] = prt_get_be32(p.bhs + 20);
    h_pdu_free(&p);
    h_data_out(h, itt, ttt[4], 0, 4 * 8192, data + 4 * 8192, 8192, true);
    h_data_out(h, itt, ttt[5], 0, 5 * 8192, data + 5 * 8192, 8192, true);
    h_flush(h);
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(p.bhs[3], TGT_STATUS_GOOD);
    h_pdu_free(&p);
    assert_int_equal(h_read10(h, 300, 96, back), TGT_STATUS_GOOD);
    assert_memory_equal(back, data, sizeof(data));
}

static void test_data_out_with_wrong_datasn_is_rejected_and_task_gets_no_status(void **state)
{
    struct h *h = *state;
    login_keys(h, "No", "65536", "262144", "1");
    uint8_t data[1024] = {0};
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x2a, 0, 2);
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0x20, cdb, 1024, NULL, 0, false);
    h_data_out(h, itt, 0xffffffffu, 1, 0, data, 512, false); /* DataSN must start at 0 */
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_REJECT, &p);
    assert_int_equal(p.bhs[2], ISC_REJECT_PROTOCOL_ERROR);
    assert_int_equal(p.len, ISC_BHS_LEN);
    assert_int_equal(isc_bhs_opcode(p.data), ISC_OP_DATA_OUT);
    h_pdu_free(&p);
    /* The data was discarded: the write keeps waiting (no GOOD status), other commands still work. */
    assert_false(h->closed);
    h_expect_none(h);
    assert_int_equal(h_tur(h, NULL), TGT_STATUS_GOOD);
    h_expect_none(h);
}

static void test_data_out_with_wrong_buffer_offset_is_rejected_and_task_gets_no_status(void **state)
{
    struct h *h = *state;
    login_keys(h, "No", "65536", "262144", "1");
    uint8_t data[1024] = {0};
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x2a, 0, 2);
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0x20, cdb, 1024, NULL, 0, false);
    h_data_out(h, itt, 0xffffffffu, 0, 512, data, 512, false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_REJECT, &p);
    assert_int_equal(p.bhs[2], ISC_REJECT_PROTOCOL_ERROR);
    h_pdu_free(&p);
    assert_false(h->closed);
    /* The right Data-Out is still accepted afterwards. */
    h_data_out(h, itt, 0xffffffffu, 0, 0, data, 1024, true);
    h_flush(h);
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(p.bhs[3], TGT_STATUS_GOOD);
    h_pdu_free(&p);
}

static void test_immediate_data_with_bad_data_digest_is_rejected(void **state)
{
    struct h *h = *state;
    static const char *const keys[] = {"ImmediateData=Yes", NULL};
    h_login_ex(h, false, true, keys);
    uint8_t data[512] = {1, 2, 3};
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x2a, 0, 1);
    uint8_t b[ISC_BHS_LEN];
    isc_bhs_init(b, ISC_OP_SCSI_CMD, 0xa0);
    prt_put_be32(b + 16, 0x4242);
    prt_put_be32(b + 20, 512);
    prt_put_be32(b + 24, h->cmdsn++);
    memcpy(b + 32, cdb, 16);
    isc_bhs_set_data_len(b, 512);
    uint8_t wire[ISC_BHS_LEN + 512 + 4];
    memcpy(wire, b, ISC_BHS_LEN);
    memcpy(wire + ISC_BHS_LEN, data, 512);
    isc_digest_put(wire + ISC_BHS_LEN + 512, isc_crc32c(data, 512) ^ 1u);
    h_feed(h, wire, sizeof(wire));
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_REJECT, &p);
    assert_int_equal(p.bhs[2], ISC_REJECT_DATA_DIGEST);
    h_pdu_free(&p);
    assert_false(h->closed);
    /* The rejected command used up its CmdSN: the next command is served. */
    assert_int_equal(h_tur(h, NULL), TGT_STATUS_GOOD);
}

static void test_immediate_data_without_write_bit_is_rejected(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x28, 0, 1);
    uint8_t data[16] = {0};
    h_scsi(h, h->itt++, 0xc0, cdb, 512, data, sizeof(data), false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_REJECT, &p);
    assert_int_equal(p.bhs[2], ISC_REJECT_PROTOCOL_ERROR);
    h_pdu_free(&p);
    assert_int_equal(h_tur(h, NULL), TGT_STATUS_GOOD);
}

static void test_write_edtl_larger_than_cdb_length_reports_underflow(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t data[1024];
    fill(data, sizeof(data), 1);
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x2a, 40, 1);
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0xa0, cdb, 1024, data, 1024, false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(p.bhs[3], TGT_STATUS_GOOD);
    /* RFC 7143 11.4.5: the CDB asked for 512 bytes of the 1024 sent. */
    assert_int_equal(p.bhs[1] & 0x06, 0x02);
    assert_int_equal(prt_get_be32(p.bhs + 44), 512);
    h_pdu_free(&p);
}

static void test_many_commands_reuse_tasks_and_buffers(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t data[4096], back[4096];
    for (unsigned i = 0; i < 600; i++) {
        fill(data, sizeof(data), i);
        uint8_t cdb[16];
        h_cdb_rw10(cdb, 0x2a, i % 64 * 8, 8);
        uint32_t itt = h->itt++;
        h_scsi(h, itt, 0xa0, cdb, 4096, data, 4096, false);
        h_flush(h);
        struct h_pdu p;
        h_expect(h, ISC_OP_SCSI_RSP, &p);
        assert_int_equal(p.bhs[3], TGT_STATUS_GOOD);
        h_pdu_free(&p);
        assert_int_equal(h_read10(h, i % 64 * 8, 8, back), TGT_STATUS_GOOD);
        assert_memory_equal(back, data, sizeof(data));
    }
}

static void test_edtl_beyond_buffer_limit_gets_iscsi_target_failure_even_when_held(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x28, 0, 1);
    uint32_t sn = h->cmdsn;
    /* Arrives ahead of its CmdSN, then the gap fills. */
    h->cmdsn = sn + 1;
    h_scsi(h, 0x901, 0xc0, cdb, 0x7fffffffu, NULL, 0, false);
    h_flush(h);
    h_expect_none(h);
    h->cmdsn = sn;
    h_scsi(h, 0x900, 0xc0, cdb, 0x7fffffffu, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    for (uint32_t itt = 0x900; itt <= 0x901; itt++) {
        h_expect(h, ISC_OP_SCSI_RSP, &p);
        assert_int_equal(isc_bhs_itt(p.bhs), itt);
        /* RFC 7143 11.4.3: Response 0x01 "Target Failure", no SCSI status. */
        assert_int_equal(p.bhs[2], 0x01);
        h_pdu_free(&p);
    }
    h->cmdsn = sn + 2;
    assert_int_equal(h_tur(h, NULL), TGT_STATUS_GOOD);
}

static void test_data_in_and_sense_carry_correct_digests_over_every_slice(void **state)
{
    struct h *h = *state;
    static const char *const keys[] = {"ImmediateData=Yes", "MaxBurstLength=16384", NULL};
    h_login_ex(h, true, true, keys);
    static uint8_t data[20000 / 512 * 512], back[sizeof(data)];
    fill(data, sizeof(data), 5);
    uint8_t cdb[16];
    uint16_t blocks = (uint16_t)(sizeof(data) / 512);
    /* Write it with immediate data (a digest over a segment not a multiple of 4 would show), read it back in
     * several Data-In PDUs: h_recv() checks the header and data digest of every PDU. */
    h_cdb_rw10(cdb, 0x2a, 50, 1);
    uint8_t odd[510];
    memset(odd, 0x3c, sizeof(odd));
    h_scsi(h, h->itt++, 0xa0, cdb, sizeof(odd), odd, sizeof(odd), false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(p.bhs[1] & 0x06, 0x04); /* the CDB wanted 512 of the 510 bytes: overflow */
    h_pdu_free(&p);
    h_cdb_rw10(cdb, 0x2a, 60, blocks);
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0xa0, cdb, sizeof(data), data, 8192, false);
    h_flush(h);
    uint32_t off = 8192;
    while (off < sizeof(data)) {
        h_expect(h, ISC_OP_R2T, &p);
        uint32_t ttt = prt_get_be32(p.bhs + 20), len = prt_get_be32(p.bhs + 44);
        assert_int_equal(prt_get_be32(p.bhs + 40), off);
        h_pdu_free(&p);
        for (uint32_t o = 0, sn = 0; o < len; sn++) {
            uint32_t l = len - o < 8192 ? len - o : 8192;
            h_data_out(h, itt, ttt, sn, off + o, data + off + o, l, o + l == len);
            o += l;
        }
        h_flush(h);
        off += len;
    }
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(p.bhs[3], TGT_STATUS_GOOD);
    h_pdu_free(&p);
    assert_int_equal(h_read10(h, 60, blocks, back), TGT_STATUS_GOOD);
    assert_memory_equal(back, data, sizeof(data));
    /* A CHECK CONDITION: sense data segment (2 + sense length, padded) under the data digest. */
    h_cdb_rw10(cdb, 0x28, H_LU_SIZE / 512, 1);
    h_scsi(h, h->itt++, 0xc0, cdb, 512, NULL, 0, false);
    h_flush(h);
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(p.bhs[3], TGT_STATUS_CHECK_CONDITION);
    h_pdu_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        H_TEST(test_data_in_split_at_initiator_mrdsl_with_status_collapsed_in_last_pdu),
        H_TEST(test_data_in_sequences_end_with_f_bit_at_max_burst_length),
        H_TEST(test_data_in_and_sense_carry_correct_digests_over_every_slice),
        H_TEST(test_read_edtl_larger_than_transfer_reports_underflow_residual),
        H_TEST(test_read_edtl_smaller_than_transfer_sends_edtl_and_reports_overflow),
        H_TEST(test_read_with_edtl_zero_answers_scsi_response_with_overflow),
        H_TEST(test_check_condition_sends_sense_length_and_sense_in_scsi_response),
        H_TEST(test_write_with_immediate_and_unsolicited_data_then_r2t_for_the_rest),
        H_TEST(test_write_with_several_outstanding_r2ts),
        H_TEST(test_data_out_with_wrong_datasn_is_rejected_and_task_gets_no_status),
        H_TEST(test_data_out_with_wrong_buffer_offset_is_rejected_and_task_gets_no_status),
        H_TEST(test_immediate_data_with_bad_data_digest_is_rejected),
        H_TEST(test_immediate_data_without_write_bit_is_rejected),
        H_TEST(test_write_edtl_larger_than_cdb_length_reports_underflow),
        H_TEST(test_edtl_beyond_buffer_limit_gets_iscsi_target_failure_even_when_held),
        cmocka_unit_test_setup_teardown(test_many_commands_reuse_tasks_and_buffers, h_setup_whole, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
