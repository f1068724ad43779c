/* Test harness for the iSCSI connection state machine (tests/unit/test_isc_*.c): a real target (tgt_server with a
 * mem LU, blocking work inline) behind a real isc_server, one connection driven through isc_conn_feed() by an
 * initiator simulated here, and a fake net layer whose ops->write captures every byte the target sends.
 *
 * Feeding mode is part of the fixture: whole PDUs, one byte at a time, or random splits; each scripted test runs
 * in every mode (the reassembler must not care how the bytes arrive).
 *
 *   test initiator ──h_send()──▶ isc_conn_feed ──▶ isc_conn / isc_session ──▶ tgt_server ─▶ LU 0 (mem, 4 MiB)
 *        ▲                                                   │
 *        └──────h_recv()◀── captured stream ◀── fake ops->write (done deferred until h_flush())
 */
#ifndef ISC_HARNESS_H
#define ISC_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/tgt.h"
#include "transport/isc.h"
#include "transport/isc_keys.h"
#include "transport/isc_pdu.h"

enum h_mode { H_WHOLE = 0, H_BYTES = 1, H_RANDOM = 2 };

#define H_LU_SIZE (4u << 20)
#define H_TARGET "iqn.2026-11.org.prtarget:test"
#define H_INITIATOR "iqn.2026-11.org.test:initiator"
#define H_MAX_DONE 4096

struct h_done {
    void (*done)(void *arg, int status);
    void *arg;
};

struct h_pdu {
    uint8_t bhs[ISC_BHS_LEN];
    uint8_t *data;
    uint32_t len;
};

struct h {
    enum h_mode mode;
    unsigned seed;
    uint64_t now;
    struct tgt_server *tgt;
    struct isc_server *srv;
    struct isc_portal portals[2];
    unsigned n_portals;
    struct isc_conn *c;
    const char *local_addr;
    /* captured target output */
    uint8_t *out;
    size_t out_len, out_cap, out_pos;
    struct h_done dones[H_MAX_DONE];
    unsigned n_dones;
    unsigned writes;
    bool closed, close_flush, released;
    int feed_rc;
    /* initiator state */
    bool hd, dd;            /* digests the initiator sends with (and expects) */
    uint32_t cmdsn, expstatsn;
    uint32_t itt;
    uint16_t tsih;
    uint8_t isid[6];
    uint32_t maxcmdsn, expcmdsn;
    /* negotiated by the test's login */
    uint32_t mrdsl;         /* initiator's MaxRecvDataSegmentLength */
    uint16_t tpgt;          /* portal group the connection came in on */
    FILE *record;           /* ISC_SEED_DIR set: the initiator stream is saved as a fuzz_conn seed */
    /* Deferred executor (h_new_ex): blocking work waits here until h_run_work(), like a worker thread. */
    struct tgt_work *work[64];
    unsigned n_work;
    char lu_path[64];
};

static inline int h_exec_queue(void *ctx, struct tgt_work *w)
{
    struct h *h = ctx;
    assert_true(h->n_work < 64);
    h->work[h->n_work++] = w;
    return 0;
}

/* Let the "worker thread" finish everything queued, then run the completions on the "loop". */
static inline void h_run_work(struct h *h)
{
    while (h->n_work) {
        struct tgt_work *w = h->work[--h->n_work];
        w->work(w);
        w->done(w);
    }
}

static inline uint64_t h_now(void *ctx) { return ((struct h *)ctx)->now; }

static inline int h_write(void *net, const struct isc_iov *iov, unsigned n, void (*done)(void *, int), void *arg)
{
    struct h *h = net;
    assert_false(h->closed && !h->close_flush);
    for (unsigned i = 0; i < n; i++) {
        if (h->out_len + iov[i].len > h->out_cap) {
            size_t nc = (h->out_cap ? h->out_cap * 2 : 65536);
            while (nc < h->out_len + iov[i].len)
                nc *= 2;
            h->out = realloc(h->out, nc);
            assert_non_null(h->out);
            h->out_cap = nc;
        }
        memcpy(h->out + h->out_len, iov[i].base, iov[i].len);
        h->out_len += iov[i].len;
    }
    assert_true(h->n_dones < H_MAX_DONE);
    h->dones[h->n_dones++] = (struct h_done){done, arg};
    h->writes++;
    return 0;
}

static inline void h_close(void *net, bool flush)
{
    struct h *h = net;
    h->closed = true;
    h->close_flush = flush;
}

static const struct isc_conn_ops h_ops = {h_write, h_close};

/* Run the write-done callbacks (as the net layer does once the socket took the bytes). */
static inline void h_flush(struct h *h)
{
    while (h->n_dones) {
        unsigned n = h->n_dones;
        struct h_done d[H_MAX_DONE];
        memcpy(d, h->dones, n * sizeof(d[0]));
        h->n_dones = 0;
        for (unsigned i = 0; i < n; i++)
            d[i].done(d[i].arg, 0);
    }
}

static inline struct h *h_new_ex(enum h_mode mode, bool deferred_exec)
{
    struct h *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    h->mode = mode;
    h->seed = 12345;
    h->now = 1000;
    char err[256];
    struct tgt_server_cfg tc = {.target_name = H_TARGET, .n_ports = 2};
    if (deferred_exec)
        tc.exec = (struct tgt_exec){h_exec_queue, h};
    h->tgt = tgt_server_new(&tc, err, sizeof(err));
    assert_non_null(h->tgt);
    struct tgt_lu_cfg lc = {.backend = TGT_BACKEND_MEM, .size = H_LU_SIZE, .block_size = 512};
    if (deferred_exec) {
        /* Only a blocking backend hands work to the executor: LU 0 is then a file LU. */
        snprintf(h->lu_path, sizeof(h->lu_path), "/tmp/isc_harness_lu_XXXXXX");
        int fd = mkstemp(h->lu_path);
        assert_true(fd >= 0);
        close(fd);
        lc.backend = TGT_BACKEND_FILE;
        lc.path = h->lu_path;
        lc.state_dir = "/tmp";
    }
    assert_int_equal(tgt_server_add_lu(h->tgt, &lc, err, sizeof(err)), 0);
    h->portals[0] = (struct isc_portal){"127.0.0.1:3260", 1};
    h->portals[1] = (struct isc_portal){"0.0.0.0:3261", 2};
    h->n_portals = 2;
    struct isc_server_cfg ic = {
        .target_name = H_TARGET,
        .target_alias = "test-alias",
        .tgt = h->tgt,
        .portals = h->portals,
        .n_portals = h->n_portals,
        .nop_interval_ms = 5000,
        .nop_timeout_ms = 30000,
        .login_timeout_ms = 15000,
        .now_ms = h_now,
        .now_ctx = h,
    };
    h->srv = isc_server_new(&ic, err, sizeof(err));
    assert_non_null(h->srv);
    h->local_addr = "127.0.0.2:3261";
    h->tpgt = 1;
    h->c = isc_conn_new(h->srv, h->tpgt, h->local_addr, "127.0.0.1:50000", &h_ops, h);
    assert_non_null(h->c);
    memcpy(h->isid, "\x80\x12\x34\x56\x78\x9a", 6);
    h->itt = 0x100;
    h->mrdsl = 8192;
    const char *dir = getenv("ISC_SEED_DIR");
    if (dir && mode == H_WHOLE) {
        /* tests/fuzz/fuzz_conn.c input: flags 0 (the stream carries its own login), split seed, stream. */
        char path[512];
        snprintf(path, sizeof(path), "%s/unit_XXXXXX", dir);
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        h->record = fdopen(fd, "wb");
        assert_non_null(h->record);
        fputc(0, h->record);
        fputc(0, h->record);
    }
    return h;
}

static inline struct h *h_new(enum h_mode mode) { return h_new_ex(mode, false); }

/* Close the socket (if not yet), release, drain; the connection must then be gone (ASan checks leaks). */
static inline void h_release(struct h *h)
{
    if (h->c && !h->released) {
        h->released = true;
        isc_conn_release(h->c);
    }
    h_flush(h);
}

static inline void h_free(struct h *h)
{
    h_release(h);
    h_run_work(h);
    h_flush(h);
    if (h->record)
        fclose(h->record);
    isc_server_free(h->srv);
    tgt_server_free(h->tgt);
    if (h->lu_path[0]) {
        char st[128];
        unlink(h->lu_path);
        snprintf(st, sizeof(st), "%s.prstate.json", h->lu_path);
        unlink(st);
    }
    free(h->out);
    free(h);
}

/* Feed bytes according to the mode. */
static inline void h_feed(struct h *h, const uint8_t *p, size_t n)
{
    if (h->record)
        fwrite(p, 1, n, h->record);
    size_t off = 0;
    while (off < n) {
        size_t chunk = n - off;
        if (h->mode == H_BYTES)
            chunk = 1;
        else if (h->mode == H_RANDOM) {
            h->seed = h->seed * 1103515245u + 12345u;
            chunk = 1 + (h->seed >> 8) % 97;
            if (chunk > n - off)
                chunk = n - off;
        }
        int rc = isc_conn_feed(h->c, p + off, chunk);
        if (rc < 0) {
            h->feed_rc = rc;
            return;
        }
        off += chunk;
    }
}

/* Send one PDU as the initiator: BHS (+AHS) + header digest + data + padding + data digest as negotiated. */
static inline void h_send_ahs(struct h *h, uint8_t *bhs, const uint8_t *ahs, uint32_t ahs_len, const void *data,
                              uint32_t len)
{
    size_t pad = isc_pad4(len);
    size_t total = ISC_BHS_LEN + ahs_len + (h->hd ? 4 : 0) + len + pad + (h->dd && len ? 4 : 0);
    uint8_t *b = calloc(1, total);
    assert_non_null(b);
    bhs[4] = (uint8_t)(ahs_len / 4);
    isc_bhs_set_data_len(bhs, len);
    memcpy(b, bhs, ISC_BHS_LEN);
    if (ahs_len)
        memcpy(b + ISC_BHS_LEN, ahs, ahs_len);
    size_t o = ISC_BHS_LEN + ahs_len;
    if (h->hd) {
        isc_digest_put(b + o, isc_crc32c(b, o));
        o += 4;
    }
    if (len)
        memcpy(b + o, data, len);
    o += len + pad;
    if (h->dd && len) {
        isc_digest_put(b + o, isc_crc32c(b + o - len - pad, len + pad));
        o += 4;
    }
    h_feed(h, b, o);
    free(b);
}

static inline void h_send(struct h *h, uint8_t *bhs, const void *data, uint32_t len)
{
    h_send_ahs(h, bhs, NULL, 0, data, len);
}

/* Next PDU the target sent, or false when there is none; checks digests as negotiated. */
static inline bool h_recv(struct h *h, struct h_pdu *p)
{
    size_t avail = h->out_len - h->out_pos;
    if (avail < ISC_BHS_LEN)
        return false;
    const uint8_t *b = h->out + h->out_pos;
    memcpy(p->bhs, b, ISC_BHS_LEN);
    uint32_t ahs = isc_bhs_ahs_len(b);
    uint32_t len = isc_bhs_data_len(b);
    size_t o = ISC_BHS_LEN + ahs;
    if (h->hd) {
        assert_true(avail >= o + 4);
        assert_int_equal(isc_digest_get(b + o), isc_crc32c(b, o));
        o += 4;
    }
    size_t pad = isc_pad4(len);
    assert_true(avail >= o + len + pad + (h->dd && len ? 4 : 0));
    p->len = len;
    p->data = len ? malloc(len) : NULL;
    if (len)
        memcpy(p->data, b + o, len);
    if (h->dd && len) {
        assert_int_equal(isc_digest_get(b + o + len + pad), isc_crc32c(b + o, len + pad));
        o += 4;
    }
    o += len + pad;
    h->out_pos += o;
    uint8_t op = isc_bhs_opcode(p->bhs);
    if (op != ISC_OP_R2T && !(op == ISC_OP_DATA_IN && !(p->bhs[1] & 0x01)) &&
        !(op == ISC_OP_NOP_IN && isc_bhs_itt(p->bhs) == 0xffffffffu)) {
        h->expstatsn = prt_get_be32(p->bhs + 24) + 1;
    }
    h->expcmdsn = prt_get_be32(p->bhs + 28);
    h->maxcmdsn = prt_get_be32(p->bhs + 32);
    return true;
}

static inline void h_pdu_free(struct h_pdu *p)
{
    free(p->data);
    p->data = NULL;
}

/* The next PDU must have this opcode. */
static inline void h_expect(struct h *h, uint8_t opcode, struct h_pdu *p)
{
    assert_true(h_recv(h, p));
    assert_int_equal(isc_bhs_opcode(p->bhs), opcode);
}

static inline void h_expect_none(struct h *h)
{
    assert_int_equal(h->out_len - h->out_pos, 0);
}

/* Does the text segment contain "key=value"? */
static inline bool h_has_kv(const struct h_pdu *p, const char *kv)
{
    size_t n = strlen(kv);
    for (uint32_t i = 0; i + n <= p->len; ) {
        const char *s = (const char *)p->data + i;
        size_t l = strnlen(s, p->len - i);
        if (l == n && memcmp(s, kv, n) == 0)
            return true;
        i += (uint32_t)l + 1;
    }
    return false;
}

/* Text of key=value pairs, NUL-separated. */
static inline uint32_t h_kv(uint8_t *buf, size_t cap, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    size_t o = 0;
    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        size_t n = strlen(s) + 1;
        assert_true(o + n <= cap);
        memcpy(buf + o, s, n);
        o += n;
    }
    va_end(ap);
    return (uint32_t)o;
}

static inline void h_login_bhs(struct h *h, uint8_t *b, uint8_t flags)
{
    isc_bhs_init(b, ISC_OP_LOGIN_REQ, flags);
    b[0] |= 0x40;
    memcpy(b + 8, h->isid, 6);
    prt_put_be16(b + 14, h->tsih);
    prt_put_be32(b + 16, h->itt);
    prt_put_be32(b + 24, h->cmdsn);
    prt_put_be32(b + 28, h->expstatsn);
}

/* Login status of a Login Response. */
static inline uint16_t h_login_status(const struct h_pdu *p) { return prt_get_be16(p->bhs + 36); }

static inline void h_clear_ua(struct h *h);

/* A full login: security stage (AuthMethod=None) then operational stage with the given keys, to FFP. */
static inline void h_login_ex(struct h *h, bool hd, bool dd, const char *const *opkeys)
{
    uint8_t b[ISC_BHS_LEN], txt[4096];
    struct h_pdu p;
    uint32_t n = h_kv(txt, sizeof(txt), "InitiatorName=" H_INITIATOR, "TargetName=" H_TARGET,
                      "SessionType=Normal", "AuthMethod=None", NULL);
    h_login_bhs(h, b, 0x80 | (0 << 2) | 1);
    h_send(h, b, txt, n);
    h_flush(h);
    h_expect(h, ISC_OP_LOGIN_RSP, &p);
    assert_int_equal(h_login_status(&p), 0);
    assert_true(p.bhs[1] & 0x80);
    assert_true(h_has_kv(&p, "AuthMethod=None"));
    char k1[64], k2[64];
    snprintf(k1, sizeof(k1), "TargetPortalGroupTag=%u", (unsigned)(h->tpgt ? h->tpgt : 1));
    assert_true(h_has_kv(&p, k1));
    h_pdu_free(&p);
    snprintf(k1, sizeof(k1), "HeaderDigest=%s", hd ? "CRC32C" : "None");
    snprintf(k2, sizeof(k2), "DataDigest=%s", dd ? "CRC32C" : "None");
    n = h_kv(txt, sizeof(txt), k1, k2, "MaxRecvDataSegmentLength=8192", NULL);
    for (unsigned i = 0; opkeys && opkeys[i]; i++) {
        size_t l = strlen(opkeys[i]) + 1;
        memcpy(txt + n, opkeys[i], l);
        n += (uint32_t)l;
    }
    h_login_bhs(h, b, 0x80 | (1 << 2) | 3);
    h_send(h, b, txt, n);
    h_flush(h);
    h_expect(h, ISC_OP_LOGIN_RSP, &p);
    assert_int_equal(h_login_status(&p), 0);
    assert_int_equal(p.bhs[1], 0x80 | (1 << 2) | 3);
    h->tsih = prt_get_be16(p.bhs + 14);
    assert_int_not_equal(h->tsih, 0);
    assert_true(h_has_kv(&p, hd ? "HeaderDigest=CRC32C" : "HeaderDigest=None"));
    assert_true(h_has_kv(&p, dd ? "DataDigest=CRC32C" : "DataDigest=None"));
    h_pdu_free(&p);
    h->hd = hd;
    h->dd = dd;
    h->itt++;
    h_clear_ua(h);
}

static inline void h_login(struct h *h)
{
    static const char *const keys[] = {"InitialR2T=No", "ImmediateData=Yes", "FirstBurstLength=65536",
                                       "MaxBurstLength=262144", "MaxOutstandingR2T=1", NULL};
    h_login_ex(h, false, false, keys);
}

/* SCSI Command PDU. flags: ISC_FLAG_FINAL | R | W | attr. */
static inline void h_scsi(struct h *h, uint32_t itt, uint8_t flags, const uint8_t *cdb, uint32_t edtl,
                          const void *data, uint32_t dlen, bool immediate)
{
    uint8_t b[ISC_BHS_LEN];
    isc_bhs_init(b, ISC_OP_SCSI_CMD, flags);
    if (immediate)
        b[0] |= 0x40;
    prt_put_be64(b + 8, isc_lun_encode(0));
    prt_put_be32(b + 16, itt);
    prt_put_be32(b + 20, edtl);
    prt_put_be32(b + 24, h->cmdsn);
    prt_put_be32(b + 28, h->expstatsn);
    memcpy(b + 32, cdb, 16);
    if (!immediate)
        h->cmdsn++;
    h_send(h, b, data, dlen);
}

static inline void h_data_out(struct h *h, uint32_t itt, uint32_t ttt, uint32_t datasn, uint32_t off,
                              const void *data, uint32_t len, bool final)
{
    uint8_t b[ISC_BHS_LEN];
    isc_bhs_init(b, ISC_OP_DATA_OUT, final ? 0x80 : 0);
    prt_put_be64(b + 8, isc_lun_encode(0));
    prt_put_be32(b + 16, itt);
    prt_put_be32(b + 20, ttt);
    prt_put_be32(b + 28, h->expstatsn);
    prt_put_be32(b + 36, datasn);
    prt_put_be32(b + 40, off);
    h_send(h, b, data, len);
}

static inline void h_cdb_rw10(uint8_t *cdb, uint8_t op, uint32_t lba, uint16_t blocks)
{
    memset(cdb, 0, 16);
    cdb[0] = op;
    prt_put_be32(cdb + 2, lba);
    prt_put_be16(cdb + 7, blocks);
}

static inline void h_nop_out(struct h *h, uint32_t itt, uint32_t ttt, const void *data, uint32_t len,
                             bool immediate)
{
    uint8_t b[ISC_BHS_LEN];
    isc_bhs_init(b, ISC_OP_NOP_OUT, 0x80);
    if (immediate)
        b[0] |= 0x40;
    prt_put_be32(b + 16, itt);
    prt_put_be32(b + 20, ttt);
    prt_put_be32(b + 24, h->cmdsn);
    prt_put_be32(b + 28, h->expstatsn);
    if (!immediate)
        h->cmdsn++;
    h_send(h, b, data, len);
}

/* Read n bytes at lba with READ(10) through the whole path, collecting Data-In; returns the SCSI status. */
static inline uint8_t h_read10(struct h *h, uint32_t lba, uint16_t blocks, uint8_t *out)
{
    uint8_t cdb[16];
    h_cdb_rw10(cdb, 0x28, lba, blocks);
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0x80 | 0x40, cdb, blocks * 512u, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    for (;;) {
        assert_true(h_recv(h, &p));
        assert_int_equal(isc_bhs_itt(p.bhs), itt);
        uint8_t op = isc_bhs_opcode(p.bhs);
        if (op == ISC_OP_DATA_IN) {
            memcpy(out + prt_get_be32(p.bhs + 40), p.data, p.len);
            if (p.bhs[1] & 0x01) {
                uint8_t st = p.bhs[3];
                h_pdu_free(&p);
                return st;
            }
            h_pdu_free(&p);
            continue;
        }
        assert_int_equal(op, ISC_OP_SCSI_RSP);
        uint8_t st = p.bhs[3];
        h_pdu_free(&p);
        return st;
    }
}

/* TEST UNIT READY; returns the status, and the sense key/ASC/ASCQ of a CHECK CONDITION in *sk_asc_ascq
 * (0xKKAAQQ). */
static inline uint8_t h_tur(struct h *h, uint32_t *sk_asc_ascq)
{
    uint8_t cdb[16] = {0};
    uint32_t itt = h->itt++;
    h_scsi(h, itt, 0x80, cdb, 0, NULL, 0, false);
    h_flush(h);
    struct h_pdu p;
    h_expect(h, ISC_OP_SCSI_RSP, &p);
    assert_int_equal(isc_bhs_itt(p.bhs), itt);
    uint8_t st = p.bhs[3];
    if (sk_asc_ascq) {
        *sk_asc_ascq = 0;
        if (p.len >= 2 + 14) {
            const uint8_t *sn = p.data + 2;
            *sk_asc_ascq = ((uint32_t)(sn[2] & 0x0f) << 16) | ((uint32_t)sn[12] << 8) | sn[13];
        }
    }
    h_pdu_free(&p);
    return st;
}

/* Consume the unit attentions a new I_T nexus gets (SAM-5 6.3.2: POWER ON / RESET). */
static inline void h_clear_ua(struct h *h)
{
    for (int i = 0; i < 4; i++)
        if (h_tur(h, NULL) == TGT_STATUS_GOOD)
            return;
    fail_msg("unit attention does not clear");
}

/* cmocka fixtures: one per feeding mode. */
static inline int h_setup_whole(void **state) { *state = h_new(H_WHOLE); return 0; }
static inline int h_setup_bytes(void **state) { *state = h_new(H_BYTES); return 0; }
static inline int h_setup_random(void **state) { *state = h_new(H_RANDOM); return 0; }
static inline int h_teardown(void **state) { h_free(*state); return 0; }
#define H_TEST(fn)                                                                                                \
    cmocka_unit_test_setup_teardown(fn, h_setup_whole, h_teardown),                                            \
        cmocka_unit_test_setup_teardown(fn, h_setup_bytes, h_teardown),                                        \
        cmocka_unit_test_setup_teardown(fn, h_setup_random, h_teardown)

/* ---- several targets in one server ------------------------------------------------------------------------ */

#define H_TARGET_B "iqn.2026-11.org.prtarget:other"
#define H_OTHER_INITIATOR "iqn.2026-11.org.test:stranger"

/* A second server serving two targets, beside h's own:
 *
 *   listener 1  127.0.0.1:3260 ── target A (h->tgt)  tag 1
 *   listener 2  127.0.0.1:3261 ─┬ target A            tag 2
 *                               └ target B (tgt_b)    tag 1   (a shared portal)
 *   listener 3  0.0.0.0:3262   ── target B            tag 2   (B's own wildcard portal)
 *
 * Target B lets only H_INITIATOR in; target A has no access list. */
struct h_multi {
    struct tgt_server *tgt_b;
    struct isc_server *srv;
    struct isc_portal listeners[3];
    struct isc_portal a_portals[2], b_portals[2];
};

static inline void h_multi_new(struct h *h, struct h_multi *m)
{
    char err[256];
    struct tgt_server_cfg tc = {.target_name = H_TARGET_B, .n_ports = 2};
    m->tgt_b = tgt_server_new(&tc, err, sizeof(err));
    assert_non_null(m->tgt_b);
    struct tgt_lu_cfg lc = {.backend = TGT_BACKEND_MEM, .size = H_LU_SIZE, .block_size = 512};
    assert_int_equal(tgt_server_add_lu(m->tgt_b, &lc, err, sizeof(err)), 0);
    m->listeners[0] = (struct isc_portal){"127.0.0.1:3260", 1};
    m->listeners[1] = (struct isc_portal){"127.0.0.1:3261", 2};
    m->listeners[2] = (struct isc_portal){"0.0.0.0:3262", 3};
    m->a_portals[0] = (struct isc_portal){"127.0.0.1:3260", 1};
    m->a_portals[1] = (struct isc_portal){"127.0.0.1:3261", 2};
    m->b_portals[0] = (struct isc_portal){"127.0.0.1:3261", 1};
    m->b_portals[1] = (struct isc_portal){"0.0.0.0:3262", 2};
    static const char *const b_acl[] = {H_INITIATOR};
    struct isc_target_cfg targets[2] = {
        {.name = H_TARGET, .alias = "alias-a", .tgt = h->tgt, .portals = m->a_portals, .n_portals = 2},
        {.name = H_TARGET_B, .alias = "alias-b", .tgt = m->tgt_b, .portals = m->b_portals, .n_portals = 2,
         .acl = b_acl, .n_acl = 1},
    };
    struct isc_server_cfg ic = {
        .portals = m->listeners, .n_portals = 3, .now_ms = h_now, .now_ctx = h,
        .targets = targets, .n_targets = 2,
    };
    m->srv = isc_server_new(&ic, err, sizeof(err));
    assert_non_null(m->srv);
}

/* A connection to the multi-target server that came in on listener (1..3), driven like h. */
static inline struct h *h_multi_conn(struct h *h, struct h_multi *m, uint16_t listener, uint8_t isid_last)
{
    static const char *const local[] = {"127.0.0.1:3260", "127.0.0.1:3261", "127.0.0.3:3262"};
    struct h *h2 = calloc(1, sizeof(*h2));
    assert_non_null(h2);
    h2->mode = h->mode;
    h2->seed = 55u + isid_last;
    h2->tgt = h->tgt;
    h2->srv = m->srv;
    h2->itt = 0x10;
    h2->mrdsl = 8192;
    h2->local_addr = local[listener - 1];
    memcpy(h2->isid, "\x80\x00\x00\x00\x00\x00", 6);
    h2->isid[5] = isid_last;
    h2->c = isc_conn_new(m->srv, listener, h2->local_addr, "127.0.0.1:50100", &h_ops, h2);
    assert_non_null(h2->c);
    return h2;
}

/* One login request straight to full feature phase naming target tname as initiator iname. Returns the login
 * status; on success the unit attentions of the new nexus are cleared and p holds the response. */
static inline uint16_t h_multi_login(struct h *h2, const char *iname, const char *tname, struct h_pdu *p)
{
    uint8_t b[ISC_BHS_LEN], txt[1024];
    char ki[300], kt[300];
    snprintf(ki, sizeof(ki), "InitiatorName=%s", iname);
    snprintf(kt, sizeof(kt), "TargetName=%s", tname);
    uint32_t n = h_kv(txt, sizeof(txt), "AuthMethod=None", ki, kt, "SessionType=Normal", NULL);
    h_login_bhs(h2, b, 0x80 | 0x03);
    h_send(h2, b, txt, n);
    h_flush(h2);
    h_expect(h2, ISC_OP_LOGIN_RSP, p);
    uint16_t st = h_login_status(p);
    if (st == 0) {
        h2->tsih = prt_get_be16(p->bhs + 14);
        h2->itt++;
        h_clear_ua(h2);
    }
    return st;
}

static inline void h_multi_conn_free(struct h *h2)
{
    h_release(h2);
    free(h2->out);
    free(h2);
}

static inline void h_multi_free(struct h_multi *m)
{
    isc_server_free(m->srv);
    tgt_server_free(m->tgt_b);
}

/* A second server on the same target that lets only the names in acl log in, and a connection to it driven
 * like h (which it leaves untouched). */
static inline struct h *acl_fixture(struct h *h, const char *const *acl, unsigned n_acl, struct isc_server **srv)
{
    char err[256];
    struct isc_server_cfg ic = {
        .target_name = H_TARGET, .tgt = h->tgt, .portals = h->portals, .n_portals = h->n_portals,
        .now_ms = h_now, .now_ctx = h, .acl = acl, .n_acl = n_acl,
    };
    *srv = isc_server_new(&ic, err, sizeof(err));
    assert_non_null(*srv);
    struct h *h2 = calloc(1, sizeof(*h2));
    assert_non_null(h2);
    h2->mode = h->mode;
    h2->seed = 77;
    h2->tgt = h->tgt;
    h2->srv = *srv;
    h2->tpgt = 1;
    h2->itt = 0x10;
    memcpy(h2->isid, "\x80\x00\x00\x00\x00\x09", 6);
    h2->c = isc_conn_new(*srv, 1, "127.0.0.2:3261", "127.0.0.1:50011", &h_ops, h2);
    assert_non_null(h2->c);
    return h2;
}

static inline void acl_fixture_free(struct h *h2, struct isc_server *srv)
{
    h_release(h2);
    free(h2->out);
    free(h2);
    isc_server_free(srv);
}

#endif
