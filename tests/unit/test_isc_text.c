/* Text Request/Response and SendTargets (transport/isc_text.c): RFC 7143 11.10, 11.11, Appendix C.
 *
 * Fixture (isc_harness.h): portals 127.0.0.1:3260 (TPGT 1) and the wildcard 0.0.0.0:3261 (TPGT 2); the connection
 * came in on 127.0.0.2:3261, so the wildcard portal is advertised as 127.0.0.2:3261. Every test runs with
 * whole-PDU, byte-by-byte and random feeding. */
#include "isc_harness.h"

static void discovery_login(struct h *h, const char *mrdsl)
{
    uint8_t b[ISC_BHS_LEN], txt[512];
    char k[64];
    snprintf(k, sizeof(k), "MaxRecvDataSegmentLength=%s", mrdsl);
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "SessionType=Discovery", "AuthMethod=None",
                      NULL);
    h_login_bhs(h, b, 0x80 | 0x01);
    h_send(h, b, txt, n);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_LOGIN_RSP, &p);
    assert_int_equal(h_login_status(&p), 0);
    h_pdu_free(&p);
    n = h_kv(txt, sizeof(txt), k, NULL);
    h_login_bhs(h, b, 0x80 | (1 << 2) | 3);
    h_send(h, b, txt, n);
    h_flush(h);
    h_expect(h, ISC_OP_LOGIN_RSP, &p);
    assert_int_equal(h_login_status(&p), 0);
    h_pdu_free(&p);
    h->itt++;
}

static void text_req(struct h *h, uint32_t itt, uint32_t ttt, uint8_t flags, const void *txt, uint32_t n)
{
    uint8_t b[ISC_BHS_LEN];
    isc_bhs_init(b, ISC_OP_TEXT_REQ, flags);
    prt_put_be32(b + 16, itt);
    prt_put_be32(b + 20, ttt);
    prt_put_be32(b + 24, h->cmdsn++);
    prt_put_be32(b + 28, h->expstatsn);
    h_send(h, b, txt, n);
    h_flush(h);
}

static void test_send_targets_all_lists_every_portal_with_its_tpgt(void **state)
{
    struct h *h = *state;
    discovery_login(h, "8192");
    text_req(h, 0x10, 0xffffffffu, 0x80, "SendTargets=All", 16);
    struct h_pdu p;
    h_expect(h, ISC_OP_TEXT_RSP, &p);
    assert_int_equal(p.bhs[1] & 0xc0, 0x80);
    assert_int_equal(prt_get_be32(p.bhs + 20), 0xffffffffu);
    assert_true(h_has_kv(&p, "TargetName=" H_TARGET));
    assert_true(h_has_kv(&p, "TargetAddress=127.0.0.1:3260,1"));
    /* design.md: the wildcard portal is advertised with the local address of this connection. */
    assert_true(h_has_kv(&p, "TargetAddress=127.0.0.2:3261,2"));
    assert_false(h_has_kv(&p, "TargetAddress=0.0.0.0:3261,2"));
    h_pdu_free(&p);
}

static void test_send_targets_names_the_target_only_to_an_initiator_the_acl_allows(void **state)
{
    struct h *h = *state;
    static const char *const listed[] = {H_INITIATOR};
    static const char *const others[] = {"iqn.2026-11.org.test:other"};
    struct isc_server *srv;
    struct h_pdu p;

    struct h *h2 = acl_fixture(h, listed, 1, &srv);
    discovery_login(h2, "8192");
    text_req(h2, 0x10, 0xffffffffu, 0x80, "SendTargets=All", 16);
    h_expect(h2, ISC_OP_TEXT_RSP, &p);
    assert_true(h_has_kv(&p, "TargetName=" H_TARGET));
    h_pdu_free(&p);
    acl_fixture_free(h2, srv);

    /* RFC 7143 Appendix C: only targets the initiator may access are reported; here, none. */
    h2 = acl_fixture(h, others, 1, &srv);
    discovery_login(h2, "8192");
    text_req(h2, 0x10, 0xffffffffu, 0x80, "SendTargets=All", 16);
    h_expect(h2, ISC_OP_TEXT_RSP, &p);
    assert_false(h_has_kv(&p, "TargetName=" H_TARGET));
    assert_int_equal(p.len, 0);
    h_pdu_free(&p);
    acl_fixture_free(h2, srv);
}

static void test_send_targets_by_name_answers_only_that_target(void **state)
{
    struct h *h = *state;
    discovery_login(h, "8192");
    uint8_t txt[256];
    uint32_t n = h_kv(txt, sizeof(txt), "SendTargets=" H_TARGET, NULL);
    text_req(h, 0x11, 0xffffffffu, 0x80, txt, n);
    struct h_pdu p;
    h_expect(h, ISC_OP_TEXT_RSP, &p);
    assert_true(h_has_kv(&p, "TargetName=" H_TARGET));
    h_pdu_free(&p);
    n = h_kv(txt, sizeof(txt), "SendTargets=iqn.2026-11.org.other:none", NULL);
    text_req(h, 0x12, 0xffffffffu, 0x80, txt, n);
    h_expect(h, ISC_OP_TEXT_RSP, &p);
    assert_int_equal(p.len, 0);
    h_pdu_free(&p);
}

static void test_send_targets_empty_in_normal_session_reports_the_session_target(void **state)
{
    struct h *h = *state;
    h_login(h);
    text_req(h, 0x13, 0xffffffffu, 0x80, "SendTargets=", 13);
    struct h_pdu p;
    h_expect(h, ISC_OP_TEXT_RSP, &p);
    assert_true(h_has_kv(&p, "TargetName=" H_TARGET));
    assert_true(h_has_kv(&p, "TargetAddress=127.0.0.1:3260,1"));
    h_pdu_free(&p);
}

static void test_long_text_response_is_split_with_c_bit_and_ttt(void **state)
{
    struct h *h = *state;
    discovery_login(h, "512");
    /* Ten long unknown keys (each answered NotUnderstood) and SendTargets make an answer well beyond 512 bytes. */
    uint8_t txt[2048];
    uint32_t n = 0;
    for (char k = 'a'; k <= 'j'; k++) {
        char kv[80];
        snprintf(kv, sizeof(kv), "X-org.example.%.48s%c=1", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", k);
        memcpy(txt + n, kv, strlen(kv) + 1);
        n += (uint32_t)strlen(kv) + 1;
    }
    memcpy(txt + n, "SendTargets=All", 16);
    n += 16;
    text_req(h, 0x20, 0xffffffffu, 0x80, txt, n);
    uint8_t all[4096];
    size_t have = 0;
    struct h_pdu p;
    for (int i = 0; i < 10; i++) {
        h_expect(h, ISC_OP_TEXT_RSP, &p);
        assert_true(p.len <= 512);
        memcpy(all + have, p.data, p.len);
        have += p.len;
        uint32_t ttt = prt_get_be32(p.bhs + 20);
        bool last = p.bhs[1] & 0x80;
        if (last) {
            assert_int_equal(ttt, 0xffffffffu);
            h_pdu_free(&p);
            break;
        }
        /* RFC 7143 11.11: C=1, F=0 and a TTT the initiator echoes in an empty request to get the rest. */
        assert_int_equal(p.bhs[1] & 0x40, 0x40);
        assert_int_not_equal(ttt, 0xffffffffu);
        h_pdu_free(&p);
        text_req(h, 0x20, ttt, 0x80, NULL, 0);
    }
    struct h_pdu whole = {.data = all, .len = (uint32_t)have};
    assert_true(have > 512);
    assert_true(h_has_kv(&whole, "TargetAddress=127.0.0.2:3261,2"));
    assert_true(h_has_kv(&whole, "TargetName=" H_TARGET));
}

static void test_text_request_continued_with_c_bit_gets_empty_answers_until_complete(void **state)
{
    struct h *h = *state;
    discovery_login(h, "8192");
    text_req(h, 0x30, 0xffffffffu, 0x40, "SendTar", 7);
    struct h_pdu p;
    h_expect(h, ISC_OP_TEXT_RSP, &p);
    assert_int_equal(p.len, 0);
    uint32_t ttt = prt_get_be32(p.bhs + 20);
    assert_int_not_equal(ttt, 0xffffffffu);
    h_pdu_free(&p);
    text_req(h, 0x30, ttt, 0x80, "gets=All", 9);
    h_expect(h, ISC_OP_TEXT_RSP, &p);
    assert_true(h_has_kv(&p, "TargetAddress=127.0.0.1:3260,1"));
    h_pdu_free(&p);
}

static void test_scsi_command_in_discovery_session_is_rejected(void **state)
{
    struct h *h = *state;
    discovery_login(h, "8192");
    uint8_t cdb[16] = {0};
    h_scsi(h, 0x40, 0x80, cdb, 0, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_REJECT, &p);
    assert_int_equal(p.bhs[2], ISC_REJECT_PROTOCOL_ERROR);
    h_pdu_free(&p);
    /* The session goes on: a Text request still works. */
    text_req(h, 0x41, 0xffffffffu, 0x80, "SendTargets=All", 16);
    h_expect(h, ISC_OP_TEXT_RSP, &p);
    assert_true(h_has_kv(&p, "TargetName=" H_TARGET));
    h_pdu_free(&p);
}

static void test_text_with_invented_ttt_is_rejected(void **state)
{
    struct h *h = *state;
    discovery_login(h, "8192");
    text_req(h, 0x50, 0x1234, 0x80, NULL, 0);
    struct h_pdu p;
    h_expect(h, ISC_OP_REJECT, &p);
    assert_int_equal(p.bhs[2], ISC_REJECT_INVALID_PDU_FIELD);
    h_pdu_free(&p);
}

static void test_login_only_key_in_ffp_text_is_answered_reject(void **state)
{
    struct h *h = *state;
    h_login(h);
    uint8_t txt[128];
    uint32_t n = h_kv(txt, sizeof(txt), "MaxBurstLength=4096", NULL);
    text_req(h, 0x60, 0xffffffffu, 0x80, txt, n);
    struct h_pdu p;
    h_expect(h, ISC_OP_TEXT_RSP, &p);
    /* RFC 7143 13.13: MaxBurstLength is LO (leading connection, login only). */
    assert_true(h_has_kv(&p, "MaxBurstLength=Reject"));
    h_pdu_free(&p);
}

/* Discovery login to the multi-target server as iname. */
static void multi_discovery(struct h *h2, const char *iname)
{
    uint8_t b[ISC_BHS_LEN], txt[512];
    char ki[300];
    snprintf(ki, sizeof(ki), "InitiatorName=%s", iname);
    uint32_t n = h_kv(txt, sizeof(txt), ki, "SessionType=Discovery", "AuthMethod=None", NULL);
    h_login_bhs(h2, b, 0x80 | 0x03);
    h_send(h2, b, txt, n);
    h_flush(h2);
    struct h_pdu p;
    h_expect(h2, ISC_OP_LOGIN_RSP, &p);
    assert_int_equal(h_login_status(&p), 0);
    h_pdu_free(&p);
    h2->itt++;
}

static void test_send_targets_all_lists_every_target_with_the_portals_and_tags_that_expose_it(void **state)
{
    struct h *h = *state;
    struct h_multi m;
    struct h_pdu p;
    h_multi_new(h, &m);
    struct h *h2 = h_multi_conn(h, &m, 3, 1);
    multi_discovery(h2, H_INITIATOR);
    text_req(h2, 0x10, 0xffffffffu, 0x80, "SendTargets=All", 16);
    h_expect(h2, ISC_OP_TEXT_RSP, &p);
    /* RFC 7143 13.8 / Appendix C: each TargetName is followed by its own TargetAddress keys, each with that
     * target's tag for the portal; the wildcard portal is advertised with this connection's local address. */
    static const char want[] = "TargetName=" H_TARGET "\0TargetAddress=127.0.0.1:3260,1\0"
                               "TargetAddress=127.0.0.1:3261,2\0TargetName=" H_TARGET_B "\0"
                               "TargetAddress=127.0.0.1:3261,1\0TargetAddress=127.0.0.3:3262,2\0";
    assert_int_equal(p.len, sizeof(want) - 1);
    assert_memory_equal(p.data, want, sizeof(want) - 1);
    h_pdu_free(&p);
    h_multi_conn_free(h2);
    h_multi_free(&m);
}

static void test_send_targets_all_leaves_out_a_target_whose_acl_excludes_the_initiator(void **state)
{
    struct h *h = *state;
    struct h_multi m;
    struct h_pdu p;
    h_multi_new(h, &m);
    struct h *h2 = h_multi_conn(h, &m, 2, 1);
    multi_discovery(h2, H_OTHER_INITIATOR);
    text_req(h2, 0x10, 0xffffffffu, 0x80, "SendTargets=All", 16);
    h_expect(h2, ISC_OP_TEXT_RSP, &p);
    /* RFC 7143 Appendix C: only the targets this initiator may access. */
    assert_true(h_has_kv(&p, "TargetName=" H_TARGET));
    assert_false(h_has_kv(&p, "TargetName=" H_TARGET_B));
    assert_false(h_has_kv(&p, "TargetAddress=127.0.0.3:3262,2"));
    h_pdu_free(&p);
    h_multi_conn_free(h2);
    h_multi_free(&m);
}

static void test_send_targets_empty_in_a_normal_session_names_only_the_session_target(void **state)
{
    struct h *h = *state;
    struct h_multi m;
    struct h_pdu p;
    h_multi_new(h, &m);
    struct h *h2 = h_multi_conn(h, &m, 2, 1);
    assert_int_equal(h_multi_login(h2, H_INITIATOR, H_TARGET_B, &p), 0);
    h_pdu_free(&p);
    /* RFC 7143 Appendix C: an empty SendTargets value in a Normal session asks about its own target. */
    text_req(h2, 0x10, 0xffffffffu, 0x80, "SendTargets=", 13);
    h_expect(h2, ISC_OP_TEXT_RSP, &p);
    assert_true(h_has_kv(&p, "TargetName=" H_TARGET_B));
    assert_false(h_has_kv(&p, "TargetName=" H_TARGET));
    assert_true(h_has_kv(&p, "TargetAddress=127.0.0.1:3261,1"));
    h_pdu_free(&p);
    h_multi_conn_free(h2);
    h_multi_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        H_TEST(test_send_targets_all_lists_every_portal_with_its_tpgt),
        H_TEST(test_send_targets_names_the_target_only_to_an_initiator_the_acl_allows),
        H_TEST(test_send_targets_by_name_answers_only_that_target),
        H_TEST(test_send_targets_empty_in_normal_session_reports_the_session_target),
        H_TEST(test_long_text_response_is_split_with_c_bit_and_ttt),
        H_TEST(test_text_request_continued_with_c_bit_gets_empty_answers_until_complete),
        H_TEST(test_scsi_command_in_discovery_session_is_rejected),
        H_TEST(test_text_with_invented_ttt_is_rejected),
        H_TEST(test_login_only_key_in_ffp_text_is_answered_reject),
        H_TEST(test_send_targets_all_lists_every_target_with_the_portals_and_tags_that_expose_it),
        H_TEST(test_send_targets_all_leaves_out_a_target_whose_acl_excludes_the_initiator),
        H_TEST(test_send_targets_empty_in_a_normal_session_names_only_the_session_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
