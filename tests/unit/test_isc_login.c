/* Login phase (transport/isc_login.c): RFC 7143 6, 11.12, 11.13.
 *
 * Fixture (isc_harness.h): one target (LU 0, 4 MiB mem), portals 127.0.0.1:3260 (TPGT 1) and 0.0.0.0:3261
 * (TPGT 2); the connection under test arrived on TPGT 1. Every test runs with whole-PDU, byte-by-byte and random
 * feeding. */
#include "isc_harness.h"
#include "transport/isc_chap.h"

static void send_login(struct h *h, uint8_t flags, const uint8_t *txt, uint32_t n)
{
    uint8_t b[ISC_BHS_LEN];
    h_login_bhs(h, b, flags);
    h_send(h, b, txt, n);
    h_flush(h);
}

static uint16_t login_once(struct h *h, uint8_t flags, const uint8_t *txt, uint32_t n, struct h_pdu *p)
{
    send_login(h, flags, txt, n);
    h_expect(h, ISC_OP_LOGIN_RSP, p);
    return h_login_status(p);
}

static void test_login_each_digest_combination_reaches_ffp_and_serves_commands(void **state)
{
    for (int combo = 0; combo < 4; combo++) {
        struct h *h = combo == 0 ? *state : h_new(((struct h *)*state)->mode);
        bool hd = combo & 1, dd = combo & 2;
        static const char *const keys[] = {"ImmediateData=Yes", NULL};
        h_login_ex(h, hd, dd, keys);
        /* A write with immediate data and a read back exercise both digests in both directions. */
        uint8_t cdb[16], data[1024], back[1024];
        for (unsigned i = 0; i < sizeof(data); i++)
            data[i] = (uint8_t)(i * 7 + combo);
        h_cdb_rw10(cdb, 0x2a, 8, 2);
        uint32_t itt = h->itt++;
        h_scsi(h, itt, 0x80 | 0x20, cdb, sizeof(data), data, sizeof(data), false);
        h_flush(h);
        struct h_pdu p;
        h_expect(h, ISC_OP_SCSI_RSP, &p);
        assert_int_equal(p.bhs[3], TGT_STATUS_GOOD);
        h_pdu_free(&p);
        memset(back, 0, sizeof(back));
        assert_int_equal(h_read10(h, 8, 2, back), TGT_STATUS_GOOD);
        assert_memory_equal(back, data, sizeof(data));
        assert_false(h->closed);
        if (combo != 0)
            h_free(h);
    }
}

static void test_login_first_response_carries_tpgt_alias_and_our_mrdsl(void **state)
{
    struct h *h = *state;
    uint8_t txt[1024];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, "AuthMethod=None",
                      NULL);
    assert_int_equal(login_once(h, 0x80 | 0x01, txt, n, &p), 0);
    /* RFC 7143 13.9: TargetPortalGroupTag in the first Login Response of a Normal session; 13.7 alias. */
    assert_true(h_has_kv(&p, "TargetPortalGroupTag=1"));
    assert_true(h_has_kv(&p, "TargetAlias=test-alias"));
    assert_int_equal(prt_get_be16(p.bhs + 14), 0); /* no TSIH before the final response */
    h_pdu_free(&p);
    n = h_kv(txt, sizeof(txt), "MaxBurstLength=131072", NULL);
    assert_int_equal(login_once(h, 0x80 | (1 << 2) | 3, txt, n, &p), 0);
    /* RFC 7143 13.12: the target declares its own MaxRecvDataSegmentLength. */
    char want[64];
    snprintf(want, sizeof(want), "MaxRecvDataSegmentLength=%u", 262144u);
    assert_true(h_has_kv(&p, want));
    assert_true(h_has_kv(&p, "MaxBurstLength=131072"));
    assert_int_not_equal(prt_get_be16(p.bhs + 14), 0);
    h_pdu_free(&p);
}

static void test_login_without_initiator_name_fails_missing_parameter(void **state)
{
    struct h *h = *state;
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "TargetName=" H_TARGET, "AuthMethod=None", NULL);
    assert_int_equal(login_once(h, 0x80 | 0x01, txt, n, &p), 0x0207);
    h_pdu_free(&p);
    assert_true(h->closed);
}

static void test_login_normal_session_without_target_name_fails_missing_parameter(void **state)
{
    struct h *h = *state;
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "AuthMethod=None", NULL);
    assert_int_equal(login_once(h, 0x80 | 0x01, txt, n, &p), 0x0207);
    h_pdu_free(&p);
    assert_true(h->closed);
}

static void test_login_unknown_target_name_fails_not_found(void **state)
{
    struct h *h = *state;
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=iqn.2026-11.org.nope:x",
                      "AuthMethod=None", NULL);
    assert_int_equal(login_once(h, 0x80 | 0x01, txt, n, &p), 0x0203);
    h_pdu_free(&p);
    assert_true(h->closed);
}

static void test_login_version_min_above_zero_fails_unsupported_version(void **state)
{
    struct h *h = *state;
    uint8_t txt[256], b[ISC_BHS_LEN];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, NULL);
    h_login_bhs(h, b, 0x80 | 0x01);
    b[2] = 2;
    b[3] = 1;
    h_send(h, b, txt, n);
    h_flush(h);
    h_expect(h, ISC_OP_LOGIN_RSP, &p);
    assert_int_equal(h_login_status(&p), 0x0205);
    h_pdu_free(&p);
    assert_true(h->closed);
}

static void test_login_nonzero_tsih_of_unknown_session_fails_session_does_not_exist(void **state)
{
    struct h *h = *state;
    uint8_t txt[256];
    struct h_pdu p;
    h->tsih = 77;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, NULL);
    assert_int_equal(login_once(h, 0x80 | 0x01, txt, n, &p), 0x020a);
    h_pdu_free(&p);
}

static void test_login_chap_only_fails_authentication(void **state)
{
    struct h *h = *state;
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n =
        h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, "AuthMethod=CHAP", NULL);
    assert_int_equal(login_once(h, 0x80 | 0x01, txt, n, &p), 0x0201);
    h_pdu_free(&p);
    assert_true(h->closed);
}

static void test_login_unknown_key_is_answered_not_understood(void **state)
{
    struct h *h = *state;
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, "AuthMethod=None",
                      "X-org.example.Foo=1", NULL);
    assert_int_equal(login_once(h, 0x80 | 0x01, txt, n, &p), 0);
    assert_true(h_has_kv(&p, "X-org.example.Foo=NotUnderstood"));
    h_pdu_free(&p);
}

static void test_login_key_offered_twice_fails_initiator_error(void **state)
{
    struct h *h = *state;
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, "AuthMethod=None",
                      "AuthMethod=None", NULL);
    assert_int_equal(login_once(h, 0x80 | 0x01, txt, n, &p), 0x0200);
    h_pdu_free(&p);
}

static void test_login_text_continued_with_c_bit_is_answered_after_the_last_piece(void **state)
{
    struct h *h = *state;
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, "AuthMethod=None",
                      NULL);
    /* Split in the middle of a key: RFC 7143 6.1 allows a pair to span PDUs. */
    uint32_t cut = 20;
    assert_int_equal(login_once(h, 0x40 | 0x00, txt, cut, &p), 0);
    assert_int_equal(p.len, 0);
    assert_int_equal(p.bhs[1] & 0xc0, 0);
    h_pdu_free(&p);
    assert_int_equal(login_once(h, 0x80 | 0x01, txt + cut, n - cut, &p), 0);
    assert_true(h_has_kv(&p, "AuthMethod=None"));
    assert_true(p.bhs[1] & 0x80);
    h_pdu_free(&p);
}

static void test_login_transit_and_continue_together_fail_initiator_error(void **state)
{
    struct h *h = *state;
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, NULL);
    assert_int_equal(login_once(h, 0xc0 | 0x01, txt, n, &p), 0x0200);
    h_pdu_free(&p);
}

static void test_login_reserved_stage_fails_initiator_error(void **state)
{
    struct h *h = *state;
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, NULL);
    assert_int_equal(login_once(h, 0x80 | (2 << 2) | 3, txt, n, &p), 0x0200);
    h_pdu_free(&p);
}

static void test_login_skipping_security_stage_goes_straight_to_ffp(void **state)
{
    struct h *h = *state;
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, NULL);
    assert_int_equal(login_once(h, 0x80 | (1 << 2) | 3, txt, n, &p), 0);
    assert_int_not_equal(prt_get_be16(p.bhs + 14), 0);
    h_pdu_free(&p);
    /* SAM-5 6.3.2: the new I_T nexus reported to the target sees POWER ON, RESET first. */
    uint32_t sense;
    assert_int_equal(h_tur(h, &sense), TGT_STATUS_CHECK_CONDITION);
    assert_int_equal(sense, 0x062900);
    h_clear_ua(h);
    uint8_t back[512];
    assert_int_equal(h_read10(h, 0, 1, back), TGT_STATUS_GOOD);
}

static void test_login_non_login_pdu_before_ffp_drops_connection(void **state)
{
    struct h *h = *state;
    uint8_t cdb[16] = {0};
    h_scsi(h, 1, 0x80, cdb, 0, NULL, 0, false);
    h_flush(h);
    assert_true(h->closed);
    h_expect_none(h);
}

static void test_login_timeout_drops_connection(void **state)
{
    struct h *h = *state;
    h->now += 14999;
    isc_server_tick(h->srv, h->now);
    assert_false(h->closed);
    h->now += 1;
    isc_server_tick(h->srv, h->now);
    assert_true(h->closed);
}

static void test_login_discovery_session_needs_no_target_name(void **state)
{
    struct h *h = *state;
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "SessionType=Discovery", "AuthMethod=None",
                      NULL);
    assert_int_equal(login_once(h, 0x80 | 0x01, txt, n, &p), 0);
    assert_false(h_has_kv(&p, "TargetPortalGroupTag=1"));
    h_pdu_free(&p);
    n = h_kv(txt, sizeof(txt), "MaxBurstLength=4096", NULL);
    assert_int_equal(login_once(h, 0x80 | (1 << 2) | 3, txt, n, &p), 0);
    /* RFC 7143 13.13: session keys of data transfer are Irrelevant in a discovery session. */
    assert_true(h_has_kv(&p, "MaxBurstLength=Irrelevant"));
    h_pdu_free(&p);
}

static void test_login_same_name_and_isid_reinstates_and_closes_old_session(void **state)
{
    struct h *h = *state;
    h_login(h);
    /* A second connection: same InitiatorName and ISID, TSIH 0 (RFC 7143 6.3.5). */
    struct h *h2 = calloc(1, sizeof(*h2));
    assert_non_null(h2);
    *h2 = *h;
    h2->out = NULL;
    h2->out_len = h2->out_cap = h2->out_pos = 0;
    h2->n_dones = 0;
    h2->closed = h2->released = false;
    h2->tsih = 0;
    h2->hd = h2->dd = false;
    h2->c = isc_conn_new(h->srv, 1, "127.0.0.1:3260", "127.0.0.1:50001", &h_ops, h2);
    assert_non_null(h2->c);
    h_login(h2);
    assert_true(h->closed);
    assert_false(h2->closed);
    uint8_t back[512];
    assert_int_equal(h_read10(h2, 0, 1, back), TGT_STATUS_GOOD);
    h_release(h2);
    free(h2->out);
    free(h2);
}

static void test_login_while_shutting_down_fails_service_unavailable(void **state)
{
    struct h *h = *state;
    isc_server_shutdown(h->srv);
    h_flush(h);
    struct h *h2 = calloc(1, sizeof(*h2));
    assert_non_null(h2);
    h2->mode = h->mode;
    h2->c = isc_conn_new(h->srv, 1, "127.0.0.1:3260", "127.0.0.1:50009", &h_ops, h2);
    assert_non_null(h2->c);
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, NULL);
    assert_int_equal(login_once(h2, 0x80 | 0x01, txt, n, &p), 0x0301);
    h_pdu_free(&p);
    assert_true(h2->closed);
    h_release(h2);
    free(h2->out);
    free(h2);
}

static void test_login_digest_list_gets_first_value_we_support(void **state)
{
    struct h *h = *state;
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, "AuthMethod=None",
                      NULL);
    assert_int_equal(login_once(h, 0x80 | 0x01, txt, n, &p), 0);
    h_pdu_free(&p);
    /* RFC 7143 13.1 / 6.2.1: a list value is answered with the first value the target supports. */
    n = h_kv(txt, sizeof(txt), "HeaderDigest=CRC32C,None", "DataDigest=None,CRC32C", "ErrorRecoveryLevel=2",
             "MaxConnections=4", NULL);
    assert_int_equal(login_once(h, 0x80 | (1 << 2) | 3, txt, n, &p), 0);
    assert_true(h_has_kv(&p, "HeaderDigest=CRC32C"));
    assert_true(h_has_kv(&p, "DataDigest=None"));
    /* RFC 7143 13.20 / 13.2: numerical Minimum keys settle at what this target implements. */
    assert_true(h_has_kv(&p, "ErrorRecoveryLevel=0"));
    assert_true(h_has_kv(&p, "MaxConnections=1"));
    h_pdu_free(&p);
    /* Header digests are on from the next PDU in both directions. */
    h->hd = true;
    h->itt++;
    h_clear_ua(h);
    assert_int_equal(h_tur(h, NULL), TGT_STATUS_GOOD);
}

#define CHAP_USER "alice"
#define CHAP_SECRET "0123456789abcdef"

/* A second server on the same target that requires CHAP, and a connection to it driven like h. */
static struct h *chap_fixture(struct h *h, struct isc_server **srv)
{
    char err[256];
    struct isc_server_cfg ic = {
        .target_name = H_TARGET, .tgt = h->tgt, .portals = h->portals, .n_portals = h->n_portals,
        .now_ms = h_now, .now_ctx = h, .chap_user = CHAP_USER, .chap_secret = CHAP_SECRET,
    };
    *srv = isc_server_new(&ic, err, sizeof(err));
    assert_non_null(*srv);
    struct h *h2 = calloc(1, sizeof(*h2));
    assert_non_null(h2);
    h2->mode = h->mode;
    h2->seed = 99;
    h2->tgt = h->tgt;
    h2->srv = *srv;
    h2->tpgt = 1;
    h2->itt = 0x10;
    memcpy(h2->isid, "\x80\x00\x00\x00\x00\x07", 6);
    h2->c = isc_conn_new(*srv, 1, "127.0.0.1:3260", "127.0.0.1:50010", &h_ops, h2);
    assert_non_null(h2->c);
    return h2;
}

static void chap_fixture_free(struct h *h2, struct isc_server *srv)
{
    h_release(h2);
    free(h2->out);
    free(h2);
    isc_server_free(srv);
}

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch - 'A' + 10;
}

/* From the target's CHAP_I/CHAP_C, the CHAP_R an initiator with `secret` answers (RFC 1994 4.1). */
static void chap_answer(const struct h_pdu *p, const char *secret, char *out, size_t cap)
{
    unsigned id = 1000;
    uint8_t chal[64];
    size_t clen = 0;
    for (uint32_t i = 0; i < p->len;) {
        const char *kv = (const char *)p->data + i;
        if (strncmp(kv, "CHAP_I=", 7) == 0)
            id = (unsigned)atoi(kv + 7);
        if (strncmp(kv, "CHAP_C=0x", 9) == 0)
            for (const char *x = kv + 9; x[0] && x[1] && clen < sizeof(chal); x += 2)
                chal[clen++] = (uint8_t)(hexval(x[0]) << 4 | hexval(x[1]));
        i += (uint32_t)strlen(kv) + 1;
    }
    assert_true(id < 256);
    assert_true(clen > 0);
    struct isc_md5 m;
    uint8_t idb = (uint8_t)id, d[ISC_MD5_LEN];
    isc_md5_init(&m);
    isc_md5_update(&m, &idb, 1);
    isc_md5_update(&m, secret, strlen(secret));
    isc_md5_update(&m, chal, clen);
    isc_md5_final(&m, d);
    size_t o = (size_t)snprintf(out, cap, "CHAP_R=0x");
    for (int i = 0; i < ISC_MD5_LEN; i++)
        o += (size_t)snprintf(out + o, cap - o, "%02x", d[i]);
}

static uint16_t chap_login(struct h *h2, const char *secret, struct h_pdu *last)
{
    uint8_t txt[512];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET,
                      "AuthMethod=None,CHAP", NULL);
    assert_int_equal(login_once(h2, 0x80 | 0x01, txt, n, &p), 0);
    /* RFC 7143 12.1: the target picks CHAP from the list and does not transit before CHAP is done. */
    assert_true(h_has_kv(&p, "AuthMethod=CHAP"));
    assert_int_equal(p.bhs[1] & 0x80, 0);
    h_pdu_free(&p);
    n = h_kv(txt, sizeof(txt), "CHAP_A=7,5", NULL);
    assert_int_equal(login_once(h2, 0x80 | 0x01, txt, n, &p), 0);
    assert_true(h_has_kv(&p, "CHAP_A=5"));
    assert_int_equal(p.bhs[1] & 0x80, 0);
    char r[64];
    chap_answer(&p, secret, r, sizeof(r));
    h_pdu_free(&p);
    n = h_kv(txt, sizeof(txt), "CHAP_N=" CHAP_USER, r, NULL);
    return login_once(h2, 0x80 | 0x01, txt, n, last);
}

static void test_login_chap_with_right_secret_authenticates_and_transits(void **state)
{
    struct h *h = *state;
    struct isc_server *srv;
    struct h *h2 = chap_fixture(h, &srv);
    struct h_pdu p;
    assert_int_equal(chap_login(h2, CHAP_SECRET, &p), 0);
    assert_int_equal(p.bhs[1] & 0x80, 0x80);
    h_pdu_free(&p);
    uint8_t txt[64];
    uint32_t n = h_kv(txt, sizeof(txt), "HeaderDigest=None", NULL);
    assert_int_equal(login_once(h2, 0x80 | (1 << 2) | 3, txt, n, &p), 0);
    assert_int_not_equal(prt_get_be16(p.bhs + 14), 0);
    h_pdu_free(&p);
    assert_false(h2->closed);
    chap_fixture_free(h2, srv);
}

static void test_login_chap_with_wrong_secret_fails_authentication(void **state)
{
    struct h *h = *state;
    struct isc_server *srv;
    struct h *h2 = chap_fixture(h, &srv);
    struct h_pdu p;
    assert_int_equal(chap_login(h2, "not-the-secret-at-all", &p), 0x0201);
    h_pdu_free(&p);
    assert_true(h2->closed);
    chap_fixture_free(h2, srv);
}

static void test_login_chap_target_refuses_none_and_skipped_security_stage(void **state)
{
    struct h *h = *state;
    struct isc_server *srv;
    struct h *h2 = chap_fixture(h, &srv);
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, "AuthMethod=None",
                      NULL);
    assert_int_equal(login_once(h2, 0x80 | 0x01, txt, n, &p), 0x0201);
    assert_true(h_has_kv(&p, "AuthMethod=Reject") || p.len == 0);
    h_pdu_free(&p);
    chap_fixture_free(h2, srv);
    h2 = chap_fixture(h, &srv);
    n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, NULL);
    assert_int_equal(login_once(h2, 0x80 | (1 << 2) | 3, txt, n, &p), 0x0201);
    h_pdu_free(&p);
    chap_fixture_free(h2, srv);
}

static void test_login_initiator_not_on_the_acl_fails_authorization_and_listed_one_succeeds(void **state)
{
    struct h *h = *state;
    static const char *const acl[] = {"iqn.2026-11.org.test:other", H_INITIATOR};
    static const char *const others[] = {"iqn.2026-11.org.test:other"};
    struct isc_server *srv;
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET, "AuthMethod=None",
                      NULL);

    struct h *h2 = acl_fixture(h, acl, 2, &srv);
    assert_int_equal(login_once(h2, 0x80 | 0x01, txt, n, &p), 0);
    h_pdu_free(&p);
    assert_false(h2->closed);
    acl_fixture_free(h2, srv);

    /* RFC 7143 11.13.5: Status-Class 02h, Status-Detail 02h, authorization failure; the connection closes. */
    h2 = acl_fixture(h, others, 1, &srv);
    assert_int_equal(login_once(h2, 0x80 | 0x01, txt, n, &p), 0x0202);
    assert_int_equal(p.bhs[36], 0x02);
    assert_int_equal(p.bhs[37], 0x02);
    h_pdu_free(&p);
    assert_true(h2->closed);
    acl_fixture_free(h2, srv);
}

static void test_login_discovery_session_is_open_to_an_initiator_not_on_the_acl(void **state)
{
    struct h *h = *state;
    static const char *const others[] = {"iqn.2026-11.org.test:other"};
    struct isc_server *srv;
    uint8_t txt[256];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "SessionType=Discovery", "AuthMethod=None",
                      NULL);

    struct h *h2 = acl_fixture(h, others, 1, &srv);
    assert_int_equal(login_once(h2, 0x80 | 0x01, txt, n, &p), 0);
    h_pdu_free(&p);
    assert_false(h2->closed);
    acl_fixture_free(h2, srv);
}

static void test_server_with_short_chap_secret_is_refused(void **state)
{
    struct h *h = *state;
    char err[256] = "";
    struct isc_server_cfg ic = {.target_name = H_TARGET, .tgt = h->tgt, .chap_user = "u", .chap_secret = "short"};
    assert_null(isc_server_new(&ic, err, sizeof(err)));
    assert_non_null(strstr(err, "CHAP"));
}

/* ---- several targets (fixture h_multi in isc_harness.h) ----------------------------------------------------- */

static void test_login_multi_target_picks_the_target_by_name_with_its_own_tpgt_and_alias(void **state)
{
    struct h *h = *state;
    struct h_multi m;
    struct h_pdu p;
    h_multi_new(h, &m);
    /* Listener 2 exposes both targets, under tag 2 for A and tag 1 for B (RFC 7143 13.9: the tag is the
     * target's own). */
    struct h *a = h_multi_conn(h, &m, 2, 1);
    assert_int_equal(h_multi_login(a, H_INITIATOR, H_TARGET, &p), 0);
    assert_true(h_has_kv(&p, "TargetPortalGroupTag=2"));
    assert_true(h_has_kv(&p, "TargetAlias=alias-a"));
    h_pdu_free(&p);
    struct h *b = h_multi_conn(h, &m, 2, 2);
    assert_int_equal(h_multi_login(b, H_INITIATOR, H_TARGET_B, &p), 0);
    assert_true(h_has_kv(&p, "TargetPortalGroupTag=1"));
    assert_true(h_has_kv(&p, "TargetAlias=alias-b"));
    h_pdu_free(&p);
    /* The LUs behind each name are those of its own SCSI target device: a pattern written through A is not
     * on B's LU 0. */
    uint8_t cdb[16], data[512], back[512];
    memset(data, 0xa5, sizeof(data));
    h_cdb_rw10(cdb, 0x2a, 4, 1);
    h_scsi(a, a->itt++, 0x80 | 0x20, cdb, sizeof(data), data, sizeof(data), false);
    h_flush(a);
    h_expect(a, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(p.bhs[3], TGT_STATUS_GOOD);
    h_pdu_free(&p);
    assert_int_equal(h_read10(a, 4, 1, back), TGT_STATUS_GOOD);
    assert_memory_equal(back, data, sizeof(data));
    assert_int_equal(h_read10(b, 4, 1, back), TGT_STATUS_GOOD);
    assert_memory_not_equal(back, data, sizeof(data));
    h_multi_conn_free(a);
    h_multi_conn_free(b);
    h_multi_free(&m);
}

static void test_login_multi_target_unknown_name_or_portal_not_exposing_it_is_not_found(void **state)
{
    struct h *h = *state;
    struct h_multi m;
    struct h_pdu p;
    h_multi_new(h, &m);
    /* RFC 7143 11.13.5: 0203h, the name does not exist at this address. */
    struct h *x = h_multi_conn(h, &m, 2, 1);
    assert_int_equal(h_multi_login(x, H_INITIATOR, "iqn.2026-11.org.prtarget:nosuch", &p), 0x0203);
    h_pdu_free(&p);
    assert_true(x->closed);
    h_multi_conn_free(x);
    /* Listener 3 exposes only B, listener 1 only A. */
    x = h_multi_conn(h, &m, 3, 2);
    assert_int_equal(h_multi_login(x, H_INITIATOR, H_TARGET, &p), 0x0203);
    h_pdu_free(&p);
    h_multi_conn_free(x);
    x = h_multi_conn(h, &m, 1, 3);
    assert_int_equal(h_multi_login(x, H_INITIATOR, H_TARGET_B, &p), 0x0203);
    h_pdu_free(&p);
    h_multi_conn_free(x);
    x = h_multi_conn(h, &m, 3, 4);
    assert_int_equal(h_multi_login(x, H_INITIATOR, H_TARGET_B, &p), 0);
    assert_true(h_has_kv(&p, "TargetPortalGroupTag=2"));
    h_pdu_free(&p);
    h_multi_conn_free(x);
    h_multi_free(&m);
}

static void test_login_multi_target_acl_applies_to_its_own_target_only(void **state)
{
    struct h *h = *state;
    struct h_multi m;
    struct h_pdu p;
    h_multi_new(h, &m);
    /* RFC 7143 11.13.5: 0202h authorization failure, from B's access list; A has none. */
    struct h *x = h_multi_conn(h, &m, 2, 1);
    assert_int_equal(h_multi_login(x, H_OTHER_INITIATOR, H_TARGET_B, &p), 0x0202);
    h_pdu_free(&p);
    h_multi_conn_free(x);
    x = h_multi_conn(h, &m, 2, 2);
    assert_int_equal(h_multi_login(x, H_OTHER_INITIATOR, H_TARGET, &p), 0);
    h_pdu_free(&p);
    h_multi_conn_free(x);
    h_multi_free(&m);
}

static void test_login_multi_target_same_isid_to_another_target_is_not_a_reinstatement(void **state)
{
    struct h *h = *state;
    struct h_multi m;
    struct h_pdu p;
    h_multi_new(h, &m);
    /* RFC 7143 4.4.3 / 6.3.5: a session is (initiator, ISID, target portal group); the portal group belongs
     * to one target, so the same ISID to the other target through the same listener is another session. */
    struct h *a = h_multi_conn(h, &m, 2, 7);
    assert_int_equal(h_multi_login(a, H_INITIATOR, H_TARGET, &p), 0);
    h_pdu_free(&p);
    struct h *b = h_multi_conn(h, &m, 2, 7);
    assert_int_equal(h_multi_login(b, H_INITIATOR, H_TARGET_B, &p), 0);
    h_pdu_free(&p);
    assert_false(a->closed);
    assert_int_equal(h_tur(a, NULL), TGT_STATUS_GOOD);
    /* The same ISID to the same target again does reinstate. */
    struct h *a2 = h_multi_conn(h, &m, 2, 7);
    assert_int_equal(h_multi_login(a2, H_INITIATOR, H_TARGET, &p), 0);
    h_pdu_free(&p);
    assert_true(a->closed);
    assert_false(b->closed);
    h_multi_conn_free(a);
    h_multi_conn_free(a2);
    h_multi_conn_free(b);
    h_multi_free(&m);
}

static void test_server_multi_target_refuses_a_portal_that_is_not_a_listener_and_a_duplicate_name(void **state)
{
    struct h *h = *state;
    char err[256];
    struct isc_portal l[1] = {{"127.0.0.1:3260", 1}}, bad[1] = {{"127.0.0.1:9999", 1}};
    struct isc_target_cfg t1[1] = {{.name = H_TARGET, .tgt = h->tgt, .portals = bad, .n_portals = 1}};
    struct isc_server_cfg ic = {.portals = l, .n_portals = 1, .targets = t1, .n_targets = 1};
    assert_null(isc_server_new(&ic, err, sizeof(err)));
    assert_non_null(strstr(err, "127.0.0.1:9999"));
    struct isc_target_cfg t2[2] = {{.name = H_TARGET, .tgt = h->tgt, .portals = l, .n_portals = 1},
                                   {.name = H_TARGET, .tgt = h->tgt, .portals = l, .n_portals = 1}};
    ic.targets = t2;
    ic.n_targets = 2;
    assert_null(isc_server_new(&ic, err, sizeof(err)));
    assert_non_null(strstr(err, "twice"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        H_TEST(test_login_each_digest_combination_reaches_ffp_and_serves_commands),
        H_TEST(test_login_first_response_carries_tpgt_alias_and_our_mrdsl),
        H_TEST(test_login_without_initiator_name_fails_missing_parameter),
        H_TEST(test_login_normal_session_without_target_name_fails_missing_parameter),
        H_TEST(test_login_unknown_target_name_fails_not_found),
        H_TEST(test_login_version_min_above_zero_fails_unsupported_version),
        H_TEST(test_login_nonzero_tsih_of_unknown_session_fails_session_does_not_exist),
        H_TEST(test_login_chap_only_fails_authentication),
        H_TEST(test_login_unknown_key_is_answered_not_understood),
        H_TEST(test_login_digest_list_gets_first_value_we_support),
        H_TEST(test_login_key_offered_twice_fails_initiator_error),
        H_TEST(test_login_text_continued_with_c_bit_is_answered_after_the_last_piece),
        H_TEST(test_login_transit_and_continue_together_fail_initiator_error),
        H_TEST(test_login_reserved_stage_fails_initiator_error),
        H_TEST(test_login_skipping_security_stage_goes_straight_to_ffp),
        H_TEST(test_login_non_login_pdu_before_ffp_drops_connection),
        H_TEST(test_login_timeout_drops_connection),
        H_TEST(test_login_discovery_session_needs_no_target_name),
        H_TEST(test_login_same_name_and_isid_reinstates_and_closes_old_session),
        H_TEST(test_login_while_shutting_down_fails_service_unavailable),
        H_TEST(test_login_chap_with_right_secret_authenticates_and_transits),
        H_TEST(test_login_chap_with_wrong_secret_fails_authentication),
        H_TEST(test_login_chap_target_refuses_none_and_skipped_security_stage),
        cmocka_unit_test_setup_teardown(test_server_with_short_chap_secret_is_refused, h_setup_whole, h_teardown),
        H_TEST(test_login_initiator_not_on_the_acl_fails_authorization_and_listed_one_succeeds),
        H_TEST(test_login_discovery_session_is_open_to_an_initiator_not_on_the_acl),
        H_TEST(test_login_multi_target_picks_the_target_by_name_with_its_own_tpgt_and_alias),
        H_TEST(test_login_multi_target_unknown_name_or_portal_not_exposing_it_is_not_found),
        H_TEST(test_login_multi_target_acl_applies_to_its_own_target_only),
        H_TEST(test_login_multi_target_same_isid_to_another_target_is_not_a_reinstatement),
        cmocka_unit_test_setup_teardown(test_server_multi_target_refuses_a_portal_that_is_not_a_listener_and_a_duplicate_name,
                                        h_setup_whole, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
