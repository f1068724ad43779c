/* Shared fixture of the complete-disk unit tests (test_alua.c, test_media.c, test_sanitize.c, test_xcopy.c,
 * test_atomic.c): a target device with memory LUs and logged-in I_T nexuses, commands run synchronously through
 * tgt_cmd_submit() (no executor), so every test also exercises the command table row and dispatch order.
 *
 * Header-only and static: each test executable includes it once.
 */
#ifndef DISK_HARNESS_H
#define DISK_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/tgt_internal.h"

#define DH_BUF (1u << 20)
#define DH_MAX_NX 4

struct dh {
    struct tgt_server *srv;
    struct tgt_nexus *nx[DH_MAX_NX];
    uint8_t *buf;
    struct tgt_cmd cmd;
    int done_calls;
};

struct dh_lu {
    uint64_t size;
    uint32_t block_size;
    bool read_only, removable, sanitize;
    const char *path;       /* non-NULL: a file LU at this path (created), else a mem LU */
};

/* A fresh temporary file path for a file LU; the caller unlinks it (and its .prstate.json) with dh_unlink. */
static inline void dh_tmp_path(char *out, size_t len, const char *tag)
{
    snprintf(out, len, "/tmp/prt-disk-test-%s-%ld.img", tag, (long)getpid());
    unlink(out);
}

static inline void dh_unlink(const char *path)
{
    char st[512];

    unlink(path);
    snprintf(st, sizeof(st), "%s.prstate.json", path);
    unlink(st);
}

static const uint8_t dh_isid[DH_MAX_NX][6] = {
    { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x01 },
    { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x02 },
    { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x03 },
    { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x04 },
};

static inline void dh_on_done(struct tgt_cmd *c)
{
    ((struct dh *)c->owner)->done_calls++;
}

/* Pop every pending unit attention of every nexus on every LU (TEST UNIT READY until GOOD or not a UA). */
static inline void dh_clear_ua(struct dh *h)
{
    for (unsigned l = 0; l < tgt_server_lu_count(h->srv); l++) {
        for (int n = 0; n < DH_MAX_NX; n++) {
            uint8_t asc, ascq;

            if (!h->nx[n])
                continue;
            while (tgt__ua_pop(tgt_server_lu(h->srv, l), tgt_nexus_id(h->nx[n]), &asc, &ascq))
                ;
        }
    }
}

/* n_ports target ports; nexus i logs in on port rtpi[i] (0 = no nexus). */
static inline struct dh *dh_new(uint16_t n_ports, const struct dh_lu *lus, unsigned n_lus, const uint16_t *rtpi,
                         unsigned n_nx)
{
    struct dh *h = calloc(1, sizeof(*h));
    struct tgt_server_cfg cfg = { .target_name = "iqn.2026-11.org.prtarget:disk-test", .n_ports = n_ports };
    char err[256];

    assert_non_null(h);
    h->srv = tgt_server_new(&cfg, err, sizeof(err));
    assert_non_null(h->srv);
    for (unsigned i = 0; i < n_lus; i++) {
        struct tgt_lu_cfg lc = { .backend = lus[i].path ? TGT_BACKEND_FILE : TGT_BACKEND_MEM, .path = lus[i].path,
                                 .size = lus[i].size, .block_size = lus[i].block_size,
                                 .read_only = lus[i].read_only, .removable = lus[i].removable,
                                 .sanitize = lus[i].sanitize };

        assert_int_equal(tgt_server_add_lu(h->srv, &lc, err, sizeof(err)), 0);
    }
    for (unsigned i = 0; i < n_nx && i < DH_MAX_NX; i++) {
        char name[64];

        snprintf(name, sizeof(name), "iqn.2026-11.test:n%u", i);
        h->nx[i] = tgt_nexus_login(h->srv, name, dh_isid[i], rtpi[i]);
        assert_non_null(h->nx[i]);
    }
    h->buf = calloc(1, DH_BUF);
    assert_non_null(h->buf);
    dh_clear_ua(h);
    return h;
}

static inline void dh_free(struct dh *h)
{
    tgt_server_free(h->srv);
    free(h->buf);
    free(h);
}

/* Run one command from nexus n to lun; the Data-Out (dout_len bytes) must already be in h->buf. Returns the
 * command, whose Data-In (if any) is in din[0]. */
static inline struct tgt_cmd *dh_run(struct dh *h, int n, uint64_t lun, const uint8_t *cdb, size_t cdb_len,
                              size_t dout_len)
{
    struct tgt_cmd *c = &h->cmd;
    int before = h->done_calls;

    memset(c, 0, sizeof(*c));
    c->nexus = h->nx[n];
    c->lun = lun;
    memcpy(c->cdb, cdb, cdb_len);
    c->cdb_len = cdb_len < 16 ? 16 : (uint8_t)cdb_len;
    c->exp_len = DH_BUF;
    c->buf = h->buf;
    c->buf_cap = DH_BUF;
    c->dout_len = dout_len;
    c->done = dh_on_done;
    c->owner = h;
    tgt_cmd_submit(h->srv, c);
    assert_int_equal(h->done_calls, before + 1);
    return c;
}

static inline uint8_t dh_key(const struct tgt_cmd *c) { return c->sense[0] == 0x72 ? c->sense[1] & 0xf : c->sense[2] & 0xf; }
static inline uint8_t dh_asc(const struct tgt_cmd *c) { return c->sense[0] == 0x72 ? c->sense[2] : c->sense[12]; }
static inline uint8_t dh_ascq(const struct tgt_cmd *c) { return c->sense[0] == 0x72 ? c->sense[3] : c->sense[13]; }

static inline void dh_assert_good(const struct tgt_cmd *c)
{
    if (c->status != TGT_STATUS_GOOD)
        print_error("status %02x sense %x/%02x/%02x\n", c->status, dh_key(c), dh_asc(c), dh_ascq(c));
    assert_int_equal(c->status, TGT_STATUS_GOOD);
}

static inline void dh_assert_sense(const struct tgt_cmd *c, uint8_t key, uint8_t asc, uint8_t ascq)
{
    assert_int_equal(c->status, TGT_STATUS_CHECK_CONDITION);
    assert_int_equal(dh_key(c), key);
    assert_int_equal(dh_asc(c), asc);
    assert_int_equal(dh_ascq(c), ascq);
}

/* Fixed-format field pointer of INVALID FIELD IN CDB / PARAMETER LIST: C/D, byte, and bit when bit >= 0. */
static inline void dh_assert_field(const struct tgt_cmd *c, bool in_cdb, int byte, int bit)
{
    assert_true(c->sense[15] & 0x80);
    assert_int_equal(!!(c->sense[15] & 0x40), in_cdb);
    if (bit >= 0) {
        assert_true(c->sense[15] & 0x08);
        assert_int_equal(c->sense[15] & 0x07, bit);
    }
    assert_int_equal(prt_get_be16(c->sense + 16), byte);
}

static inline const uint8_t *dh_din(const struct tgt_cmd *c)
{
    return c->din_cnt ? c->din[0].base : NULL;
}

/* Handy CDBs. */
static inline struct tgt_cmd *dh_tur(struct dh *h, int n, uint64_t lun)
{
    static const uint8_t cdb[6] = { 0x00 };

    return dh_run(h, n, lun, cdb, 6, 0);
}

static inline struct tgt_cmd *dh_write10(struct dh *h, int n, uint64_t lun, uint32_t lba, uint16_t blocks, uint8_t fill,
                                  uint32_t bs)
{
    uint8_t cdb[10] = { 0x2a };

    prt_put_be32(cdb + 2, lba);
    prt_put_be16(cdb + 7, blocks);
    memset(h->buf, fill, (size_t)blocks * bs);
    return dh_run(h, n, lun, cdb, 10, (size_t)blocks * bs);
}

static inline struct tgt_cmd *dh_read10(struct dh *h, int n, uint64_t lun, uint32_t lba, uint16_t blocks)
{
    uint8_t cdb[10] = { 0x28 };

    prt_put_be32(cdb + 2, lba);
    prt_put_be16(cdb + 7, blocks);
    return dh_run(h, n, lun, cdb, 10, 0);
}

static inline bool dh_all(const uint8_t *p, size_t n, uint8_t v)
{
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

#endif
