/* The target-layer unit-test fixture shared by test_dispatch.c, test_sbc.c, test_spc.c, test_sense.c, test_ua.c
 * and test_nexus.c: a real tgt_server with one mem LU, two logged-in nexuses, synchronous command runs (no
 * executor) and sense accessors. Header-only (static inline) so every test program stays one executable. */
#ifndef TGT_FIXTURE_H
#define TGT_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "target/tgt_internal.h"

/* Fixture: one target device, LU 0 = mem:1 MiB (512-byte blocks), two I_T nexuses on target port 1.
 *
 *   nexus A: iqn.2026-11.test:a, ISID 00 02 3d 00 00 01 --+
 *                                                         +-- port 1 -- LU 0 (mem, 2048 blocks)
 *   nexus B: iqn.2026-11.test:b, ISID 00 02 3d 00 00 02 --+
 */
#define FX_BUF (1u << 20)

struct fx {
    struct tgt_server *srv;
    struct tgt_nexus *a, *b;
    uint8_t *buf;
    int done_calls;
};

static const uint8_t fx_isid_a[6] = { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x01 };
static const uint8_t fx_isid_b[6] = { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x02 };

static inline struct fx *fx_new(uint64_t mem_size, uint32_t bs, bool read_only)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct tgt_server_cfg cfg = { .target_name = "iqn.2026-11.org.prtarget:test", .n_ports = 1 };
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = mem_size, .block_size = bs,
                             .read_only = read_only };
    char err[256];

    assert_non_null(f);
    f->srv = tgt_server_new(&cfg, err, sizeof(err));
    assert_non_null(f->srv);
    assert_int_equal(tgt_server_add_lu(f->srv, &lc, err, sizeof(err)), 0);
    f->a = tgt_nexus_login(f->srv, "iqn.2026-11.test:a", fx_isid_a, 1);
    f->b = tgt_nexus_login(f->srv, "iqn.2026-11.test:b", fx_isid_b, 1);
    assert_non_null(f->a);
    assert_non_null(f->b);
    f->buf = calloc(1, FX_BUF);
    assert_non_null(f->buf);
    return f;
}

static inline void fx_free(struct fx *f)
{
    tgt_server_free(f->srv);
    free(f->buf);
    free(f);
}

static inline void fx_on_done(struct tgt_cmd *c)
{
    ((struct fx *)c->owner)->done_calls++;
}

/* Prepare cmd for nexus nx with the given CDB; the Data-Out (if any) must already be in f->buf. */
static inline void fx_prep(struct fx *f, struct tgt_cmd *c, struct tgt_nexus *nx, uint64_t lun,
                           const uint8_t *cdb, size_t cdb_len, size_t dout_len, uint32_t exp_len)
{
    memset(c, 0, sizeof(*c));
    c->nexus = nx;
    c->lun = lun;
    memcpy(c->cdb, cdb, cdb_len);
    c->cdb_len = 16;
    if (cdb_len > 16)
        c->cdb_len = (uint8_t)cdb_len;
    c->exp_len = exp_len;
    c->buf = f->buf;
    c->buf_cap = FX_BUF;
    c->dout_len = dout_len;
    c->done = fx_on_done;
    c->owner = f;
}

/* Run one command synchronously (mem LU, no executor) and check done() ran exactly once. */
static inline void fx_run(struct fx *f, struct tgt_cmd *c, struct tgt_nexus *nx, uint64_t lun,
                          const uint8_t *cdb, size_t cdb_len, size_t dout_len, uint32_t exp_len)
{
    int before = f->done_calls;

    fx_prep(f, c, nx, lun, cdb, cdb_len, dout_len, exp_len);
    tgt_cmd_submit(f->srv, c);
    assert_int_equal(f->done_calls, before + 1);
}

/* Fixed-format sense accessors. */
static inline uint8_t fx_key(const struct tgt_cmd *c) { return c->sense[0] == 0x72 ? c->sense[1] & 0xf : c->sense[2] & 0xf; }
static inline uint8_t fx_asc(const struct tgt_cmd *c) { return c->sense[0] == 0x72 ? c->sense[2] : c->sense[12]; }
static inline uint8_t fx_ascq(const struct tgt_cmd *c) { return c->sense[0] == 0x72 ? c->sense[3] : c->sense[13]; }

static inline void fx_assert_sense(const struct tgt_cmd *c, uint8_t key, uint8_t asc, uint8_t ascq)
{
    assert_int_equal(c->status, TGT_STATUS_CHECK_CONDITION);
    assert_int_equal(fx_key(c), key);
    assert_int_equal(fx_asc(c), asc);
    assert_int_equal(fx_ascq(c), ascq);
}

/* Fixed-format field pointer: SKSV set, C/D, BPV and bit, byte. */
static inline void fx_assert_field(const struct tgt_cmd *c, bool cdb, int byte, int bit)
{
    assert_int_equal(c->sense[0] & 0x7f, 0x70);
    assert_true(c->sense[15] & 0x80);
    assert_int_equal(!!(c->sense[15] & 0x40), cdb);
    if (bit >= 0) {
        assert_true(c->sense[15] & 0x08);
        assert_int_equal(c->sense[15] & 0x07, bit);
    }
    assert_int_equal(prt_get_be16(c->sense + 16), byte);
}

/* Clear the power-on unit attentions both nexuses start with, so later checks see only what a test raises. */
static inline void fx_clear_ua(struct fx *f)
{
    struct tgt_cmd c;
    static const uint8_t tur[6] = { 0x00 };

    for (int i = 0; i < 4; i++) {
        fx_run(f, &c, f->a, 0, tur, 6, 0, 0);
        fx_run(f, &c, f->b, 0, tur, 6, 0, 0);
    }
}

static inline const uint8_t *fx_din(const struct tgt_cmd *c)
{
    return c->din_cnt ? c->din[0].base : NULL;
}

#endif
