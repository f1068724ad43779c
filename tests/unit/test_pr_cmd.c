/* Unit tests of target/pr_cmd.c: CDB and parameter list decoding, the pr_status -> sense mapping, and PR
 * commands run through the whole target (dispatch, access check, unit attentions).
 *
 * Fixture: one target device with two target ports and LU 0 = mem:1 MiB.
 *
 *   A: iqn.2026-11.test:a ISID 00 02 3d 00 00 01 ── port 1 ──┐
 *   B: iqn.2026-11.test:b ISID 00 02 3d 00 00 02 ── port 1 ──┼── LU 0
 *   C: iqn.2026-11.test:c ISID 00 02 3d 00 00 03 ── port 2 ──┘
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "target/pr_cmd.h"

#define FX_BUF (1u << 17)

struct fx {
    struct tgt_server *srv;
    struct tgt_nexus *a, *b, *c;
    uint8_t *buf;
    struct tgt_cmd cmd;
    int done;
};

static const uint8_t isid_a[6] = { 0x00, 0x02, 0x3d, 0, 0, 1 };
static const uint8_t isid_b[6] = { 0x00, 0x02, 0x3d, 0, 0, 2 };
static const uint8_t isid_c[6] = { 0x00, 0x02, 0x3d, 0, 0, 3 };

static void on_done(struct tgt_cmd *c) { ((struct fx *)c->owner)->done++; }

/* Run one command; data-out (dout bytes) must already be in f->buf. */
static struct tgt_cmd *run(struct fx *f, struct tgt_nexus *nx, const uint8_t *cdb, size_t cdb_len, size_t dout,
                           uint32_t exp_len)
{
    struct tgt_cmd *c = &f->cmd;
    memset(c, 0, sizeof(*c));
    c->nexus = nx;
    c->lun = 0;
    memcpy(c->cdb, cdb, cdb_len);
    c->cdb_len = (uint8_t)(cdb_len < 16 ? 16 : cdb_len);
    c->exp_len = exp_len;
    c->dir = dout ? TGT_DIR_WRITE : TGT_DIR_READ;
    c->buf = f->buf;
    c->buf_cap = FX_BUF;
    c->dout_len = dout;
    c->done = on_done;
    c->owner = f;
    int before = f->done;
    tgt_cmd_submit(f->srv, c);
    assert_int_equal(f->done, before + 1);
    return c;
}

static uint8_t sk(const struct tgt_cmd *c) { return c->sense[0] == 0x72 ? c->sense[1] & 0xf : c->sense[2] & 0xf; }
static uint8_t asc(const struct tgt_cmd *c) { return c->sense[0] == 0x72 ? c->sense[2] : c->sense[12]; }
static uint8_t ascq(const struct tgt_cmd *c) { return c->sense[0] == 0x72 ? c->sense[3] : c->sense[13]; }

static void expect_sense(const struct tgt_cmd *c, uint8_t key, uint8_t a, uint8_t q)
{
    assert_int_equal(c->status, TGT_STATUS_CHECK_CONDITION);
    assert_int_equal(sk(c), key);
    assert_int_equal(asc(c), a);
    assert_int_equal(ascq(c), q);
}

/* Fixed-format sense key specific field pointer (SPC-4 4.5.2.4.2). */
static void expect_field(const struct tgt_cmd *c, bool in_cdb, int byte, int bit)
{
    assert_int_equal(c->sense[0] & 0x7f, 0x70);
    assert_true(c->sense[15] & 0x80);
    assert_int_equal(!!(c->sense[15] & 0x40), in_cdb);
    if (bit >= 0) {
        assert_true(c->sense[15] & 0x08);
        assert_int_equal(c->sense[15] & 0x07, bit);
    }
    assert_int_equal(prt_get_be16(c->sense + 16), byte);
}

static void tur_until_good(struct fx *f, struct tgt_nexus *nx)
{
    const uint8_t cdb[6] = { 0x00 };
    for (int i = 0; i < 16; i++)
        if (run(f, nx, cdb, 6, 0, 0)->status == TGT_STATUS_GOOD)
            return;
    fail_msg("unit attentions never cleared");
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct tgt_server_cfg cfg = { .target_name = "iqn.2026-11.org.prtarget:test", .n_ports = 2 };
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = 1u << 20, .block_size = 512 };
    char err[256];
    f->srv = tgt_server_new(&cfg, err, sizeof(err));
    assert_non_null(f->srv);
    assert_int_equal(tgt_server_add_lu(f->srv, &lc, err, sizeof(err)), 0);
    f->a = tgt_nexus_login(f->srv, "iqn.2026-11.test:a", isid_a, 1);
    f->b = tgt_nexus_login(f->srv, "iqn.2026-11.test:b", isid_b, 1);
    f->c = tgt_nexus_login(f->srv, "iqn.2026-11.test:c", isid_c, 2);
    assert_non_null(f->a);
    assert_non_null(f->b);
    assert_non_null(f->c);
    f->buf = calloc(1, FX_BUF);
    assert_non_null(f->buf);
    tur_until_good(f, f->a);
    tur_until_good(f, f->b);
    tur_until_good(f, f->c);
    *state = f;
    return 0;
}

/* The same topology with LU 0 removable (INQUIRY RMB=1), for the PREVENT side effects of PREEMPT AND ABORT. */
static int setup_removable(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct tgt_server_cfg cfg = { .target_name = "iqn.2026-11.org.prtarget:test", .n_ports = 2 };
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = 1u << 20, .block_size = 512, .removable = true };
    char err[256];
    f->srv = tgt_server_new(&cfg, err, sizeof(err));
    assert_non_null(f->srv);
    assert_int_equal(tgt_server_add_lu(f->srv, &lc, err, sizeof(err)), 0);
    f->a = tgt_nexus_login(f->srv, "iqn.2026-11.test:a", isid_a, 1);
    f->b = tgt_nexus_login(f->srv, "iqn.2026-11.test:b", isid_b, 1);
    f->c = tgt_nexus_login(f->srv, "iqn.2026-11.test:c", isid_c, 2);
    assert_non_null(f->a);
    assert_non_null(f->b);
    assert_non_null(f->c);
    f->buf = calloc(1, FX_BUF);
    assert_non_null(f->buf);
    tur_until_good(f, f->a);
    tur_until_good(f, f->b);
    tur_until_good(f, f->c);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tgt_server_free(f->srv);
    free(f->buf);
    free(f);
    return 0;
}

/* PERSISTENT RESERVE OUT with the basic 24-byte parameter list (SPC-4 6.16.3). */
static struct tgt_cmd *prout(struct fx *f, struct tgt_nexus *nx, uint8_t sa, uint8_t type, uint64_t key,
                             uint64_t sa_key, uint8_t flags)
{
    uint8_t cdb[10] = { 0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0 };
    memset(f->buf, 0, 24);
    prt_put_be64(f->buf, key);
    prt_put_be64(f->buf + 8, sa_key);
    f->buf[20] = flags;
    return run(f, nx, cdb, 10, 24, 24);
}

static struct tgt_cmd *prin(struct fx *f, struct tgt_nexus *nx, uint8_t sa, uint16_t alloc)
{
    uint8_t cdb[10] = { 0x5e, sa, 0, 0, 0, 0, 0, 0, 0, 0 };
    prt_put_be16(cdb + 7, alloc);
    return run(f, nx, cdb, 10, 0, alloc);
}

static struct tgt_cmd *write10(struct fx *f, struct tgt_nexus *nx)
{
    const uint8_t cdb[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
    memset(f->buf, 0x5a, 512);
    return run(f, nx, cdb, 10, 512, 512);
}

static struct tgt_cmd *read10(struct fx *f, struct tgt_nexus *nx)
{
    const uint8_t cdb[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
    return run(f, nx, cdb, 10, 0, 512);
}

/* ---- decoding ------------------------------------------------------------------------------------------------ */

static void test_param_list_length_ffffffff_is_rejected_without_touching_the_data(void **state)
{
    struct pr_out_req r;
    for (uint8_t sa = 0; sa <= 8; sa++) {
        uint8_t cdb[10] = { 0x5f, sa, 0x01, 0, 0, 0xff, 0xff, 0xff, 0xff, 0 };
        /* No buffer at all: the decoder must decide from the CDB alone. */
        assert_int_equal(tgt__pr_out_decode(cdb, NULL, 0, &r), PR_PARAM_LIST_LENGTH);
    }
}

static void test_basic_service_actions_need_exactly_24_bytes(void **state)
{
    uint8_t p[64] = { 0 };
    struct pr_out_req r;
    const uint32_t bad[] = { 0, 8, 23, 25, 28, 64 };
    for (uint8_t sa = 1; sa <= 8; sa++) {
        if (sa == PR_OUT_REGISTER_AND_MOVE)
            continue;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            uint8_t cdb[10] = { 0x5f, sa, 0x01, 0, 0, 0, 0, 0, 0, 0 };
            prt_put_be32(cdb + 5, bad[i]);
            assert_int_equal(tgt__pr_out_decode(cdb, p, sizeof(p), &r), PR_PARAM_LIST_LENGTH);
        }
        uint8_t cdb[10] = { 0x5f, sa, 0x01, 0, 0, 0, 0, 0, 24, 0 };
        assert_int_equal(tgt__pr_out_decode(cdb, p, sizeof(p), &r), PR_OK);
    }
}

static void test_register_longer_than_24_bytes_needs_spec_i_pt_and_a_matching_length(void **state)
{
    uint8_t p[128] = { 0 };
    struct pr_out_req r;
    uint8_t cdb[10] = { 0x5f, 0x00, 0, 0, 0, 0, 0, 0, 52, 0 };
    assert_int_equal(tgt__pr_out_decode(cdb, p, sizeof(p), &r), PR_PARAM_LIST_LENGTH); /* no SPEC_I_PT */
    p[20] = 0x08;
    prt_put_be32(p + 24, 24);
    assert_int_equal(tgt__pr_out_decode(cdb, p, sizeof(p), &r), PR_OK);
    assert_true(r.spec_i_pt);
    assert_ptr_equal(r.tid, p + 28);
    assert_int_equal(r.tid_len, 24);
    assert_int_equal(r.tid_off, 28);
    prt_put_be32(p + 24, 28); /* TransportIDs claim more than the list holds */
    assert_int_equal(tgt__pr_out_decode(cdb, p, sizeof(p), &r), PR_PARAM_LIST_LENGTH);
    cdb[8] = 26; /* too short for the TRANSPORTID PARAMETER DATA LENGTH */
    assert_int_equal(tgt__pr_out_decode(cdb, p, sizeof(p), &r), PR_PARAM_LIST_LENGTH);
}

static void test_register_and_move_length_must_match_its_transport_id(void **state)
{
    uint8_t p[128] = { 0 };
    struct pr_out_req r;
    uint8_t cdb[10] = { 0x5f, 0x07, 0x01, 0, 0, 0, 0, 0, 48, 0 };
    prt_put_be64(p, 1);
    prt_put_be64(p + 8, 2);
    p[17] = 0x03;
    prt_put_be16(p + 18, 2);
    prt_put_be32(p + 20, 24);
    assert_int_equal(tgt__pr_out_decode(cdb, p, sizeof(p), &r), PR_OK);
    assert_int_equal(r.key, 1);
    assert_int_equal(r.sa_key, 2);
    assert_true(r.unreg);
    assert_true(r.aptpl);
    assert_int_equal(r.rtpi, 2);
    assert_int_equal(r.tid_off, 24);
    assert_int_equal(r.tid_len, 24);
    prt_put_be32(p + 20, 20);
    assert_int_equal(tgt__pr_out_decode(cdb, p, sizeof(p), &r), PR_PARAM_LIST_LENGTH);
    cdb[8] = 20;
    assert_int_equal(tgt__pr_out_decode(cdb, p, sizeof(p), &r), PR_PARAM_LIST_LENGTH);
}

static void test_data_out_shorter_than_the_parameter_list_length_is_a_length_error(void **state)
{
    uint8_t p[24] = { 0 };
    struct pr_out_req r;
    uint8_t cdb[10] = { 0x5f, 0x01, 0x01, 0, 0, 0, 0, 0, 24, 0 };
    assert_int_equal(tgt__pr_out_decode(cdb, p, 23, &r), PR_PARAM_LIST_LENGTH);
}

static void test_decode_takes_keys_flags_scope_and_type(void **state)
{
    uint8_t p[24] = { 0 };
    struct pr_out_req r;
    uint8_t cdb[10] = { 0x5f, 0x04, 0x25, 0, 0, 0, 0, 0, 24, 0 };
    prt_put_be64(p, 0x1122334455667788ull);
    prt_put_be64(p + 8, 0x99aabbccddeeff00ull);
    p[20] = 0x05;
    assert_int_equal(tgt__pr_out_decode(cdb, p, sizeof(p), &r), PR_OK);
    assert_int_equal(r.sa, 4);
    assert_int_equal(r.scope, 2);
    assert_int_equal(r.type, 5);
    assert_int_equal(r.key, 0x1122334455667788ull);
    assert_int_equal(r.sa_key, 0x99aabbccddeeff00ull);
    assert_true(r.all_tg_pt);
    assert_true(r.aptpl);
    assert_false(r.spec_i_pt);
    assert_null(r.tid);
}

static void test_ua_codes_are_2a_03_04_05(void **state)
{
    uint8_t a, q;
    tgt__pr_ua_code(PR_UA_RESERVATIONS_PREEMPTED, &a, &q);
    assert_int_equal(a, 0x2a);
    assert_int_equal(q, 0x03);
    tgt__pr_ua_code(PR_UA_RESERVATIONS_RELEASED, &a, &q);
    assert_int_equal(q, 0x04);
    tgt__pr_ua_code(PR_UA_REGISTRATIONS_PREEMPTED, &a, &q);
    assert_int_equal(q, 0x05);
}

static void test_status_to_sense_mapping(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd *c = &f->cmd;
    memset(c, 0, sizeof(*c));
    c->lu = tgt_server_lu(f->srv, 0);
    tgt_pr_status_to_sense(c, PR_OK, -1, -1);
    assert_int_equal(c->status, TGT_STATUS_GOOD);
    tgt_pr_status_to_sense(c, PR_CONFLICT, -1, -1);
    assert_int_equal(c->status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(c->sense_len, 0);
    tgt_pr_status_to_sense(c, PR_INVALID_FIELD_CDB, 2, 3);
    expect_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    expect_field(c, true, 2, 3);
    tgt_pr_status_to_sense(c, PR_INVALID_FIELD_PARAM, 20, 0);
    expect_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
    expect_field(c, false, 20, 0);
    tgt_pr_status_to_sense(c, PR_PARAM_LIST_LENGTH, -1, -1);
    expect_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
    tgt_pr_status_to_sense(c, PR_INVALID_RELEASE, -1, -1);
    expect_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x04);
    tgt_pr_status_to_sense(c, PR_INSUFFICIENT_RESOURCES, -1, -1);
    expect_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x55, 0x04);
    tgt_pr_status_to_sense(c, PR_INVALID_OPCODE, -1, -1);
    expect_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x20, 0x00);
    tgt_pr_status_to_sense(c, PR_RESERVATION_LOST, -1, -1);
    expect_sense(c, TGT_SK_DATA_PROTECT, 0x44, 0x01);
    tgt_pr_status_to_sense(c, PR_PERSIST_FAILED, -1, -1);
    expect_sense(c, TGT_SK_HARDWARE_ERROR, 0x44, 0x00);
    tgt_pr_status_to_sense(c, PR_NO_RESOURCES, -1, -1);
    expect_sense(c, TGT_SK_HARDWARE_ERROR, 0x44, 0x00);
}

/* ---- through the target ----------------------------------------------------------------------------------------- */

static void test_sg_persist_sequence_from_two_initiators(void **state)
{
    struct fx *f = *state;
    /* sg_persist -o -G -S 123abc (A), and B registers too. */
    assert_int_equal(prout(f, f->a, PR_OUT_REGISTER, 0, 0, 0x123abc, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(prout(f, f->b, PR_OUT_REGISTER, 0, 0, 0x456def, 0)->status, TGT_STATUS_GOOD);
    /* sg_persist -o -R -K 123abc -T 3 */
    assert_int_equal(prout(f, f->a, PR_OUT_RESERVE, 3, 0x123abc, 0, 0)->status, TGT_STATUS_GOOD);
    /* sg_persist -i -k from B */
    struct tgt_cmd *c = prin(f, f->b, PR_IN_READ_KEYS, 1024);
    assert_int_equal(c->status, TGT_STATUS_GOOD);
    assert_int_equal(c->din_len, 24);
    assert_int_equal(prt_get_be32(f->buf), 2);
    assert_int_equal(prt_get_be64(f->buf + 8), 0x123abc);
    assert_int_equal(prt_get_be64(f->buf + 16), 0x456def);
    /* sg_persist -i -r from B */
    c = prin(f, f->b, PR_IN_READ_RESERVATION, 1024);
    assert_int_equal(c->din_len, 24);
    assert_int_equal(prt_get_be64(f->buf + 8), 0x123abc);
    assert_int_equal(f->buf[21], 0x03);
    /* Exclusive Access: B may neither read nor write, A may do both. */
    assert_int_equal(read10(f, f->b)->status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(write10(f, f->b)->status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(write10(f, f->a)->status, TGT_STATUS_GOOD);
    /* sg_persist -o -L -K 123abc -T 3 */
    assert_int_equal(prout(f, f->a, PR_OUT_RELEASE, 3, 0x123abc, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(write10(f, f->b)->status, TGT_STATUS_GOOD);
    /* sg_persist -o -C -K 123abc */
    assert_int_equal(prout(f, f->a, PR_OUT_CLEAR, 0, 0x123abc, 0, 0)->status, TGT_STATUS_GOOD);
    c = prin(f, f->a, PR_IN_READ_KEYS, 1024);
    assert_int_equal(prt_get_be32(f->buf + 4), 0);
    assert_int_equal(prt_get_be32(f->buf), 3);
    /* B was registered when A cleared: it hears RESERVATIONS PREEMPTED (SPC-4 5.13.11.2.7). */
    const uint8_t tur[6] = { 0 };
    expect_sense(run(f, f->b, tur, 6, 0, 0), TGT_SK_UNIT_ATTENTION, 0x2a, 0x03);
    assert_int_equal(run(f, f->b, tur, 6, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(run(f, f->a, tur, 6, 0, 0)->status, TGT_STATUS_GOOD);
}

static void test_pr_out_with_length_ffffffff_through_dispatch_is_parameter_list_length_error(void **state)
{
    struct fx *f = *state;
    uint8_t cdb[10] = { 0x5f, 0x00, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0 };
    struct tgt_cmd *c = run(f, f->a, cdb, 10, 24, 24);
    expect_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
}

static void test_release_with_wrong_type_is_26h_04h(void **state)
{
    struct fx *f = *state;
    prout(f, f->a, PR_OUT_REGISTER, 0, 0, 1, 0);
    prout(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0, 0);
    expect_sense(prout(f, f->a, PR_OUT_RELEASE, PR_TYPE_EA, 1, 0, 0), TGT_SK_ILLEGAL_REQUEST, 0x26, 0x04);
}

static void test_invalid_type_is_invalid_field_in_cdb_with_pointer(void **state)
{
    struct fx *f = *state;
    prout(f, f->a, PR_OUT_REGISTER, 0, 0, 1, 0);
    struct tgt_cmd *c = prout(f, f->a, PR_OUT_RESERVE, 0x02, 1, 0, 0);
    expect_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    expect_field(c, true, 2, 3);
}

static void test_aptpl_without_state_file_points_at_byte_20_bit_0(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd *c = prout(f, f->a, PR_OUT_REGISTER, 0, 0, 1, 0x01);
    expect_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
    expect_field(c, false, 20, 0);
}

static void test_preempt_raises_registrations_preempted_only_on_the_preempted_nexus(void **state)
{
    struct fx *f = *state;
    prout(f, f->a, PR_OUT_REGISTER, 0, 0, 1, 0);
    prout(f, f->b, PR_OUT_REGISTER, 0, 0, 2, 0);
    prout(f, f->c, PR_OUT_REGISTER, 0, 0, 3, 0);
    prout(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0, 0);
    assert_int_equal(prout(f, f->b, PR_OUT_PREEMPT, PR_TYPE_WE, 2, 1, 0)->status, TGT_STATUS_GOOD);
    const uint8_t tur[6] = { 0 };
    expect_sense(run(f, f->a, tur, 6, 0, 0), TGT_SK_UNIT_ATTENTION, 0x2a, 0x05);
    assert_int_equal(run(f, f->a, tur, 6, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(run(f, f->b, tur, 6, 0, 0)->status, TGT_STATUS_GOOD);
    /* C kept its registration and the type did not change: nothing for C. */
    assert_int_equal(run(f, f->c, tur, 6, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(write10(f, f->b)->status, TGT_STATUS_GOOD);
    assert_int_equal(write10(f, f->a)->status, TGT_STATUS_RESERVATION_CONFLICT);
}

static void on_held_done(struct tgt_cmd *c) { (*(int *)c->owner)++; }

/* A task of nx that stays in LU 0's task set (as one waiting on a worker thread would) until it is aborted;
 * *completed counts its completions. */
static void hold_task(struct fx *f, struct tgt_cmd *held, struct tgt_nexus *nx, int *completed)
{
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);
    memset(held, 0, sizeof(*held));
    held->nexus = nx;
    held->lu = lu;
    held->cdb[0] = 0x2a;
    held->cdb_len = 16;
    held->done = on_held_done;
    held->owner = completed;
    held->ts_prev = lu->ts_tail;
    if (lu->ts_tail)
        lu->ts_tail->ts_next = held;
    else
        lu->ts_head = held;
    lu->ts_tail = held;
    held->cflags |= TGT__CF_IN_TASK_SET;
}

static void test_preempt_and_abort_with_tas_ends_held_task_with_task_aborted_and_no_commands_cleared(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd held;
    prout(f, f->a, PR_OUT_REGISTER, 0, 0, 1, 0);
    prout(f, f->b, PR_OUT_REGISTER, 0, 0, 2, 0);
    prout(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0, 0);
    int completed = 0;
    hold_task(f, &held, f->a, &completed);
    assert_int_equal(prout(f, f->b, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_WE, 2, 1, 0)->status, TGT_STATUS_GOOD);
    /* SAM-5 5.6, SPC-4 7.5.8 (TAS=1, the default): the aborted task of the other nexus completes with TASK
     * ABORTED; its nexus then sees only REGISTRATIONS PREEMPTED (SPC-4 5.13.11.2.6). */
    assert_int_equal(completed, 1);
    assert_true(held.aborted);
    assert_int_equal(held.status, TGT_STATUS_TASK_ABORTED);
    assert_null(tgt_server_lu(f->srv, 0)->ts_head);
    const uint8_t tur[6] = { 0 };
    expect_sense(run(f, f->a, tur, 6, 0, 0), TGT_SK_UNIT_ATTENTION, 0x2a, 0x05);
    assert_int_equal(run(f, f->a, tur, 6, 0, 0)->status, TGT_STATUS_GOOD);
}

static void test_preempt_and_abort_without_tas_ends_held_task_silently_and_raises_commands_cleared(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd held;
    tgt_server_lu(f->srv, 0)->mode.tas = false;
    prout(f, f->a, PR_OUT_REGISTER, 0, 0, 1, 0);
    prout(f, f->b, PR_OUT_REGISTER, 0, 0, 2, 0);
    prout(f, f->c, PR_OUT_REGISTER, 0, 0, 3, 0);
    prout(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0, 0);
    int completed = 0;
    hold_task(f, &held, f->a, &completed);
    assert_int_equal(prout(f, f->b, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_WE, 2, 1, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(completed, 1);
    assert_true(held.aborted);
    assert_int_equal(held.status, TGT_STATUS_GOOD);
    /* SAM-5 5.6: with TAS=0 the nexus whose task was aborted hears COMMANDS CLEARED BY ANOTHER INITIATOR as
     * well as REGISTRATIONS PREEMPTED, each once; C (no task aborted, registration kept) hears nothing. */
    const uint8_t tur[6] = { 0 };
    expect_sense(run(f, f->a, tur, 6, 0, 0), TGT_SK_UNIT_ATTENTION, 0x2f, 0x00);
    expect_sense(run(f, f->a, tur, 6, 0, 0), TGT_SK_UNIT_ATTENTION, 0x2a, 0x05);
    assert_int_equal(run(f, f->a, tur, 6, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(run(f, f->c, tur, 6, 0, 0)->status, TGT_STATUS_GOOD);
}

/* A transport that holds one write of some nexus still collecting Data-Out (tgt_server_set_held_abort). */
struct held_fx {
    uint32_t itn;
    unsigned held;
    int calls;
    bool last_tas;
};

static unsigned held_abort(void *ctx, uint32_t itn, uint64_t lun, bool tas)
{
    struct held_fx *h = ctx;
    (void)lun;
    if (itn != h->itn || h->held == 0)
        return 0;
    h->calls++;
    h->last_tas = tas;
    unsigned n = h->held;
    h->held = 0;
    return n;
}

static void test_preempt_and_abort_ends_writes_held_by_the_transport_per_tas(void **state)
{
    struct fx *f = *state;
    const uint8_t tur[6] = { 0 };
    struct held_fx h = { .itn = tgt_nexus_id(f->a), .held = 1 };
    tgt_server_set_held_abort(f->srv, held_abort, &h);
    prout(f, f->a, PR_OUT_REGISTER, 0, 0, 1, 0);
    prout(f, f->b, PR_OUT_REGISTER, 0, 0, 2, 0);
    prout(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0, 0);
    /* TAS=1: the transport ends A's held write with TASK ABORTED; no 2Fh/00h (SAM-5 5.6). */
    assert_int_equal(prout(f, f->b, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_WE, 2, 1, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(h.calls, 1);
    assert_true(h.last_tas);
    expect_sense(run(f, f->a, tur, 6, 0, 0), TGT_SK_UNIT_ATTENTION, 0x2a, 0x05);
    assert_int_equal(run(f, f->a, tur, 6, 0, 0)->status, TGT_STATUS_GOOD);

    /* TAS=0: ended silently, and A hears COMMANDS CLEARED BY ANOTHER INITIATOR. */
    tgt_server_lu(f->srv, 0)->mode.tas = false;
    prout(f, f->a, PR_OUT_REGISTER, 0, 0, 1, 0);
    prout(f, f->b, PR_OUT_RELEASE, PR_TYPE_WE, 2, 0, 0);
    prout(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0, 0);
    h.held = 1;
    assert_int_equal(prout(f, f->b, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_WE, 2, 1, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(h.calls, 2);
    assert_false(h.last_tas);
    expect_sense(run(f, f->a, tur, 6, 0, 0), TGT_SK_UNIT_ATTENTION, 0x2f, 0x00);
    expect_sense(run(f, f->a, tur, 6, 0, 0), TGT_SK_UNIT_ATTENTION, 0x2a, 0x05);
    assert_int_equal(run(f, f->a, tur, 6, 0, 0)->status, TGT_STATUS_GOOD);
    tgt_server_set_held_abort(f->srv, NULL, NULL);
}

static void test_preempt_and_abort_of_a_nexus_without_tasks_raises_no_commands_cleared(void **state)
{
    struct fx *f = *state;
    tgt_server_lu(f->srv, 0)->mode.tas = false;
    prout(f, f->a, PR_OUT_REGISTER, 0, 0, 1, 0);
    prout(f, f->b, PR_OUT_REGISTER, 0, 0, 2, 0);
    prout(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0, 0);
    assert_int_equal(prout(f, f->b, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_WE, 2, 1, 0)->status, TGT_STATUS_GOOD);
    const uint8_t tur[6] = { 0 };
    expect_sense(run(f, f->a, tur, 6, 0, 0), TGT_SK_UNIT_ATTENTION, 0x2a, 0x05);
    assert_int_equal(run(f, f->a, tur, 6, 0, 0)->status, TGT_STATUS_GOOD);
}

/* Collects the PR OUT events of the operator's event sink (target/fault.c). */
struct ev_log {
    struct tgt_event ev[8];
    int n;
};

static void ev_sink(void *ctx, const struct tgt_event *ev)
{
    struct ev_log *l = ctx;
    if (ev->kind == TGT_EVENT_PR_OUT && l->n < 8)
        l->ev[l->n++] = *ev;
}

static void test_every_pr_out_outcome_reaches_the_event_sink_once(void **state)
{
    struct fx *f = *state;
    struct ev_log log = { .n = 0 };
    tgt_server_set_event_sink(f->srv, ev_sink, &log);
    prout(f, f->a, PR_OUT_REGISTER, 0, 0, 0x10, 0);
    prout(f, f->b, PR_OUT_RESERVE, PR_TYPE_WE, 0x20, 0, 0);
    /* A parameter list length error is decided before the list is read: the event has no keys. */
    uint8_t cdb[10] = { 0x5f, PR_OUT_CLEAR, 0, 0, 0, 0, 0, 0, 23, 0 };
    run(f, f->a, cdb, 10, 23, 23);
    tgt_server_set_event_sink(f->srv, NULL, NULL);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.ev[0].sa, PR_OUT_REGISTER);
    assert_true(log.ev[0].sa_key == 0x10);
    assert_int_equal(log.ev[0].pr_status, PR_OK);
    assert_int_equal(log.ev[0].generation, 1);
    assert_int_equal(log.ev[1].pr_status, PR_CONFLICT);
    assert_int_equal(log.ev[1].status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(log.ev[2].pr_status, PR_PARAM_LIST_LENGTH);
    assert_int_equal(log.ev[2].asc, 0x1a);
    assert_true(log.ev[2].key == 0);
}

static void test_release_of_registrants_only_raises_reservations_released_on_other_registrants(void **state)
{
    struct fx *f = *state;
    prout(f, f->a, PR_OUT_REGISTER, 0, 0, 1, 0);
    prout(f, f->c, PR_OUT_REGISTER, 0, 0, 3, 0);
    prout(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE_RO, 1, 0, 0);
    assert_int_equal(prout(f, f->a, PR_OUT_RELEASE, PR_TYPE_WE_RO, 1, 0, 0)->status, TGT_STATUS_GOOD);
    const uint8_t tur[6] = { 0 };
    expect_sense(run(f, f->c, tur, 6, 0, 0), TGT_SK_UNIT_ATTENTION, 0x2a, 0x04);
    assert_int_equal(run(f, f->a, tur, 6, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(run(f, f->b, tur, 6, 0, 0)->status, TGT_STATUS_GOOD);
}

static void test_pr_in_truncated_by_allocation_length_keeps_full_additional_length(void **state)
{
    struct fx *f = *state;
    prout(f, f->a, PR_OUT_REGISTER, 0, 0, 1, 0);
    prout(f, f->b, PR_OUT_REGISTER, 0, 0, 2, 0);
    struct tgt_cmd *c = prin(f, f->a, PR_IN_READ_KEYS, 8);
    assert_int_equal(c->status, TGT_STATUS_GOOD);
    assert_int_equal(c->din_len, 8);
    assert_int_equal(prt_get_be32(f->buf + 4), 16);
    c = prin(f, f->a, PR_IN_READ_FULL_STATUS, 4);
    assert_int_equal(c->din_len, 4);
}

static void test_pr_in_report_capabilities_through_the_target(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd *c = prin(f, f->a, PR_IN_REPORT_CAPABILITIES, 8);
    assert_int_equal(c->status, TGT_STATUS_GOOD);
    assert_int_equal(c->din_len, 8);
    assert_int_equal(prt_get_be16(f->buf), 8);
    /* A mem LU without a state dir cannot persist: PTPL_C = 0. */
    assert_int_equal(f->buf[2] & 0x01, 0);
    assert_int_equal(f->buf[2] & 0x10, 0x10);
}

static void test_pr_in_unknown_service_action_is_invalid_field_in_cdb(void **state)
{
    struct fx *f = *state;
    for (uint8_t sa = 4; sa < 0x20; sa++) {
        struct tgt_cmd *c = prin(f, f->a, sa, 1024);
        expect_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
        expect_field(c, true, 1, 4);
    }
}

static void test_insufficient_registration_resources_is_55h_04h(void **state)
{
    struct fx *f = *state;
    pr_state_set_max_registrations(tgt_lu_pr(tgt_server_lu(f->srv, 0)), 1);
    assert_int_equal(prout(f, f->a, PR_OUT_REGISTER, 0, 0, 1, 0)->status, TGT_STATUS_GOOD);
    expect_sense(prout(f, f->b, PR_OUT_REGISTER, 0, 0, 2, 0), TGT_SK_ILLEGAL_REQUEST, 0x55, 0x04);
}

static void test_lost_reservation_blocks_reads_with_44h_01h_until_replaced(void **state)
{
    struct fx *f = *state;
    prout(f, f->a, PR_OUT_REGISTER, 0, 0, 1, 0);
    pr_state_set_lost(tgt_lu_pr(tgt_server_lu(f->srv, 0)));
    expect_sense(read10(f, f->b), TGT_SK_DATA_PROTECT, 0x44, 0x01);
    assert_int_equal(prin(f, f->b, PR_IN_READ_KEYS, 64)->status, TGT_STATUS_GOOD);
    expect_sense(prout(f, f->a, PR_OUT_REGISTER, 0, 1, 0, 0), TGT_SK_DATA_PROTECT, 0x44, 0x01);
    assert_int_equal(prout(f, f->a, PR_OUT_REPLACE_LOST, PR_TYPE_WE, 0, 1, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(read10(f, f->b)->status, TGT_STATUS_GOOD);
    assert_int_equal(write10(f, f->b)->status, TGT_STATUS_RESERVATION_CONFLICT);
}

static void test_reserve6_conflicts_other_nexus_and_release6_from_it_is_a_noop(void **state)
{
    struct fx *f = *state;
    const uint8_t reserve6[6] = { 0x16 }, release6[6] = { 0x17 }, mode_sense6[6] = { 0x1a, 0, 0x3f, 0, 0xff, 0 };
    assert_int_equal(run(f, f->a, reserve6, 6, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(run(f, f->a, reserve6, 6, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(run(f, f->b, reserve6, 6, 0, 0)->status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(run(f, f->b, release6, 6, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(run(f, f->a, mode_sense6, 6, 0, 255)->status, TGT_STATUS_GOOD);
    assert_int_equal(run(f, f->b, mode_sense6, 6, 0, 255)->status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prin(f, f->b, PR_IN_READ_KEYS, 64)->status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(run(f, f->a, release6, 6, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(run(f, f->b, reserve6, 6, 0, 0)->status, TGT_STATUS_GOOD);
    /* SPC-2 5.5.1: the reservation ends with its holder's I_T nexus. */
    tgt_nexus_logout(f->b);
    assert_int_equal(run(f, f->a, reserve6, 6, 0, 0)->status, TGT_STATUS_GOOD);
}

static void test_replace_lost_reservation_without_loss_is_26h_04h(void **state)
{
    struct fx *f = *state;
    expect_sense(prout(f, f->a, PR_OUT_REPLACE_LOST, PR_TYPE_WE, 0, 1, 0), TGT_SK_ILLEGAL_REQUEST, 0x26, 0x04);
}

static void test_reserve10_third_party_is_invalid_field_in_cdb(void **state)
{
    struct fx *f = *state;
    const uint8_t reserve10[10] = { 0x56, 0x10, 0, 0, 0, 0, 0, 0, 0, 0 };
    struct tgt_cmd *c = run(f, f->a, reserve10, 10, 0, 0);
    expect_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
}

static void test_reserve6_with_registrations_present_conflicts_unless_holder(void **state)
{
    struct fx *f = *state;
    const uint8_t reserve6[6] = { 0x16 }, release6[6] = { 0x17 };
    prout(f, f->a, PR_OUT_REGISTER, 0, 0, 1, 0);
    assert_int_equal(run(f, f->b, reserve6, 6, 0, 0)->status, TGT_STATUS_RESERVATION_CONFLICT);
    prout(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0, 0);
    assert_int_equal(run(f, f->a, reserve6, 6, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(run(f, f->a, release6, 6, 0, 0)->status, TGT_STATUS_GOOD);
    /* CRH: the persistent reservation is untouched. */
    struct tgt_cmd *c = prin(f, f->b, PR_IN_READ_RESERVATION, 64);
    assert_int_equal(c->din_len, 24);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* ---- access table (SPC-4 5.13.1 Table 65) --------------------------------------------------------------------- */

static struct tgt_cmd *rsoc_all(struct fx *f, struct tgt_nexus *nx)
{
    const uint8_t cdb[12] = { 0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0 };
    return run(f, nx, cdb, 12, 0, 4096);
}

static struct tgt_cmd *receive_copy_operating_parameters(struct fx *f, struct tgt_nexus *nx)
{
    const uint8_t cdb[16] = { 0x84, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0 };
    return run(f, nx, cdb, 16, 0, 4096);
}

static void test_rsoc_passes_write_exclusive_and_conflicts_exclusive_access_for_non_registrants(void **state)
{
    struct fx *f = *state;
    assert_int_equal(prout(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(prout(f, f->b, PR_OUT_REGISTER, 0, 0, 0xb, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(prout(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA, 0xa, 0, 0)->status, TGT_STATUS_GOOD);
    /* SPC-4 Table 65: under Exclusive Access a non-holder, registered or not, is in conflict. */
    assert_int_equal(rsoc_all(f, f->c)->status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(rsoc_all(f, f->b)->status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(rsoc_all(f, f->a)->status, TGT_STATUS_GOOD);
    assert_int_equal(prout(f, f->a, PR_OUT_RELEASE, PR_TYPE_EA, 0xa, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(prout(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 0xa, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(rsoc_all(f, f->c)->status, TGT_STATUS_GOOD);
    assert_int_equal(prout(f, f->a, PR_OUT_RELEASE, PR_TYPE_WE, 0xa, 0, 0)->status, TGT_STATUS_GOOD);
    /* Registrants Only: every registrant has the holder's access. */
    assert_int_equal(prout(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA_RO, 0xa, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(rsoc_all(f, f->b)->status, TGT_STATUS_GOOD);
    assert_int_equal(rsoc_all(f, f->c)->status, TGT_STATUS_RESERVATION_CONFLICT);
}

static void test_receive_copy_results_passes_every_reservation_type(void **state)
{
    struct fx *f = *state;
    assert_int_equal(prout(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa, 0)->status, TGT_STATUS_GOOD);
    static const uint8_t types[] = { PR_TYPE_WE, PR_TYPE_EA, PR_TYPE_WE_RO, PR_TYPE_EA_RO, PR_TYPE_WE_AR,
                                     PR_TYPE_EA_AR };
    for (size_t i = 0; i < sizeof(types); i++) {
        assert_int_equal(prout(f, f->a, PR_OUT_RESERVE, types[i], 0xa, 0, 0)->status, TGT_STATUS_GOOD);
        /* SPC-4 Table 65: RECEIVE COPY OPERATING PARAMETERS is Allowed in every column. */
        assert_int_equal(receive_copy_operating_parameters(f, f->c)->status, TGT_STATUS_GOOD);
        assert_int_equal(prout(f, f->a, PR_OUT_RELEASE, types[i], 0xa, 0, 0)->status, TGT_STATUS_GOOD);
    }
}

/* ---- PREEMPT AND ABORT side effects ------------------------------------------------------------------------- */

static struct tgt_cmd *prevent(struct fx *f, struct tgt_nexus *nx, uint8_t on)
{
    const uint8_t cdb[6] = { 0x1e, 0, 0, 0, on, 0 };
    return run(f, nx, cdb, 6, 0, 0);
}

static struct tgt_cmd *eject(struct fx *f, struct tgt_nexus *nx)
{
    const uint8_t cdb[6] = { 0x1b, 0, 0, 0, 0x02, 0 }; /* LOEJ=1 START=0 */
    return run(f, nx, cdb, 6, 0, 0);
}

static void test_preempt_and_abort_ends_the_preempted_nexus_prevent_medium_removal(void **state)
{
    struct fx *f = *state;
    assert_int_equal(prout(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(prout(f, f->b, PR_OUT_REGISTER, 0, 0, 0xb, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(prout(f, f->b, PR_OUT_RESERVE, PR_TYPE_WE, 0xb, 0, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(prevent(f, f->b, 1)->status, TGT_STATUS_GOOD);
    /* While B prevents removal the medium stays in (SPC-4 6.13), even for the new holder. */
    assert_int_equal(prout(f, f->a, PR_OUT_PREEMPT, PR_TYPE_WE, 0xa, 0xb, 0)->status, TGT_STATUS_GOOD);
    expect_sense(eject(f, f->a), TGT_SK_ILLEGAL_REQUEST, 0x53, 0x02);
    /* SPC-4 5.13.11.2.6 h): PREEMPT AND ABORT acts as PREVENT=0 from every preempted nexus. */
    assert_int_equal(prout(f, f->b, PR_OUT_REGISTER, 0, 0, 0xb, 0)->status, TGT_STATUS_CHECK_CONDITION);
    tur_until_good(f, f->b);
    assert_int_equal(prout(f, f->b, PR_OUT_REGISTER, 0, 0, 0xb, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(prout(f, f->a, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_WE, 0xa, 0xb, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(eject(f, f->a)->status, TGT_STATUS_GOOD);
}

static void test_preempt_and_abort_leaves_the_prevent_of_nexuses_not_preempted(void **state)
{
    struct fx *f = *state;
    assert_int_equal(prout(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(prout(f, f->b, PR_OUT_REGISTER, 0, 0, 0xb, 0)->status, TGT_STATUS_GOOD);
    assert_int_equal(prout(f, f->b, PR_OUT_RESERVE, PR_TYPE_WE_RO, 0xb, 0, 0)->status, TGT_STATUS_GOOD);
    /* C is not registered: under Write Exclusive - Registrants Only PREVENT=1 from it conflicts, so A prevents. */
    assert_int_equal(prevent(f, f->a, 1)->status, TGT_STATUS_GOOD);
    assert_int_equal(prout(f, f->a, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_WE_RO, 0xa, 0xb, 0)->status,
                     TGT_STATUS_GOOD);
    /* SPC-4 6.13: A's own prevention is untouched; only the preempted nexus B had its PREVENT ended. */
    expect_sense(eject(f, f->a), TGT_SK_ILLEGAL_REQUEST, 0x53, 0x02);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_list_length_ffffffff_is_rejected_without_touching_the_data),
        cmocka_unit_test(test_basic_service_actions_need_exactly_24_bytes),
        cmocka_unit_test(test_register_longer_than_24_bytes_needs_spec_i_pt_and_a_matching_length),
        cmocka_unit_test(test_register_and_move_length_must_match_its_transport_id),
        cmocka_unit_test(test_data_out_shorter_than_the_parameter_list_length_is_a_length_error),
        cmocka_unit_test(test_decode_takes_keys_flags_scope_and_type),
        cmocka_unit_test(test_ua_codes_are_2a_03_04_05),
        cmocka_unit_test_setup_teardown(
            test_rsoc_passes_write_exclusive_and_conflicts_exclusive_access_for_non_registrants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_copy_results_passes_every_reservation_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preempt_and_abort_ends_the_preempted_nexus_prevent_medium_removal,
                                        setup_removable, teardown),
        cmocka_unit_test_setup_teardown(test_preempt_and_abort_leaves_the_prevent_of_nexuses_not_preempted,
                                        setup_removable, teardown),
        T(test_status_to_sense_mapping),
        T(test_sg_persist_sequence_from_two_initiators),
        T(test_pr_out_with_length_ffffffff_through_dispatch_is_parameter_list_length_error),
        T(test_release_with_wrong_type_is_26h_04h),
        T(test_invalid_type_is_invalid_field_in_cdb_with_pointer),
        T(test_aptpl_without_state_file_points_at_byte_20_bit_0),
        T(test_preempt_raises_registrations_preempted_only_on_the_preempted_nexus),
        T(test_preempt_and_abort_with_tas_ends_held_task_with_task_aborted_and_no_commands_cleared),
        T(test_preempt_and_abort_without_tas_ends_held_task_silently_and_raises_commands_cleared),
        T(test_preempt_and_abort_of_a_nexus_without_tasks_raises_no_commands_cleared),
        T(test_preempt_and_abort_ends_writes_held_by_the_transport_per_tas),
        T(test_every_pr_out_outcome_reaches_the_event_sink_once),
        T(test_release_of_registrants_only_raises_reservations_released_on_other_registrants),
        T(test_pr_in_truncated_by_allocation_length_keeps_full_additional_length),
        T(test_pr_in_report_capabilities_through_the_target),
        T(test_pr_in_unknown_service_action_is_invalid_field_in_cdb),
        T(test_insufficient_registration_resources_is_55h_04h),
        T(test_lost_reservation_blocks_reads_with_44h_01h_until_replaced),
        T(test_reserve6_conflicts_other_nexus_and_release6_from_it_is_a_noop),
        T(test_replace_lost_reservation_without_loss_is_26h_04h),
        T(test_reserve10_third_party_is_invalid_field_in_cdb),
        T(test_reserve6_with_registrations_present_conflicts_unless_holder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
