/* Shared helpers of the persistent reservation integration tests (tests/integration/pr/it_*.c).
 *
 * Every test starts its own prtarget with two portals (TPGT 1 and 2, relative target port identifiers 1 and 2)
 * and logs initiators in through libiscsi with a fixed ISID, so that each (initiator name, ISID, portal) is a
 * known I_T nexus whose TransportID the test can write out. PERSISTENT RESERVE IN/OUT go out as raw CDBs so
 * that every parameter list of SPC-4 6.16 (SPEC_I_PT lists, REGISTER AND MOVE) can be built byte by byte.
 *
 * The helpers are static inline: each test program is one translation unit and uses only some of them.
 */
#ifndef PR_IT_H
#define PR_IT_H

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "tests/integration/itest.h"

#define PRIT_INAME_C "iqn.2026-11.org.prtarget.test:initiator-c"
/* ISIDs are type 01b (IANA enterprise number, RFC 7143 10.12.5): 40h, a 24-bit number, a 16-bit qualifier. */
#define PRIT_ISID_EN 0x00bee5u
#define PRIT_BS 512u

/* Sense key and additional sense code of the last command, as the tests compare them. */
struct prit_sense {
    int key;
    uint8_t asc, ascq;
};

/* One live prtarget: url[0] is reached through TPGT 1 (relative target port 1), url[1] through TPGT 2. */
struct prit_target {
    struct itest_target t;
    char state_dir[256]; /* "" unless started with a state directory */
};

static inline void prit_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void prit_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void prit_be64(uint8_t *p, uint64_t v)
{
    prit_be32(p, (uint32_t)(v >> 32));
    prit_be32(p + 4, (uint32_t)v);
}

static inline uint32_t prit_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t prit_get64(const uint8_t *p)
{
    return (uint64_t)prit_get32(p) << 32 | prit_get32(p + 4);
}

/* Start prtarget with two portals, one 16 MiB LU, and (when state_dir is not NULL) a state directory. */
static inline int prit_start_in(struct prit_target *pt, const char *state_dir)
{
    const char *args[] = { "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--lun", "mem:16M",
                           state_dir ? "--state-dir" : NULL, state_dir, NULL };
    if (state_dir && state_dir != pt->state_dir)
        snprintf(pt->state_dir, sizeof(pt->state_dir), "%s", state_dir);
    if (itest_start(&pt->t, args) != 0)
        return -1;
    return pt->t.n_ready == 2 ? 0 : -1;
}

/* cmocka setup/teardown: a fresh prtarget per test, allocated per test. */
static inline int prit_setup(void **state)
{
    struct prit_target *pt = calloc(1, sizeof(*pt));
    if (!pt)
        return -1;
    if (prit_start_in(pt, NULL) != 0) {
        free(pt);
        return -1;
    }
    *state = pt;
    return 0;
}

static inline int prit_teardown(void **state)
{
    struct prit_target *pt = *state;
    int rc = pt->t.pid > 0 ? itest_stop(&pt->t, SIGTERM) : 0;
    if (pt->state_dir[0])
        itest_rmdir(pt->state_dir);
    free(pt);
    return rc == 0 ? 0 : -1;
}

/* The ISID prit_login gives qualifier q. */
static inline void prit_isid(uint16_t q, uint8_t isid[6])
{
    isid[0] = 0x40;
    isid[1] = (uint8_t)(PRIT_ISID_EN >> 16);
    isid[2] = (uint8_t)(PRIT_ISID_EN >> 8);
    isid[3] = (uint8_t)PRIT_ISID_EN;
    isid[4] = (uint8_t)(q >> 8);
    isid[5] = (uint8_t)q;
}

/* Log in to portal `port` (0 or 1) as iname with ISID qualifier q, without consuming unit attentions. */
static inline struct iscsi_context *prit_login_raw_ua(struct prit_target *pt, unsigned port, const char *iname,
                                                      uint16_t q)
{
    struct iscsi_context *c = iscsi_create_context(iname);
    if (!c)
        return NULL;
    struct iscsi_url *u = iscsi_parse_full_url(c, pt->t.url[port]);
    if (!u) {
        iscsi_destroy_context(c);
        return NULL;
    }
    iscsi_set_targetname(c, u->target);
    iscsi_set_session_type(c, ISCSI_SESSION_NORMAL);
    iscsi_set_header_digest(c, ISCSI_HEADER_DIGEST_NONE);
    iscsi_set_isid_en(c, PRIT_ISID_EN, q);
    iscsi_set_timeout(c, 20);
    if (iscsi_full_connect_sync(c, u->portal, u->lun) != 0) {
        fprintf(stderr, "pr_it: login to %s as %s failed: %s\n", pt->t.url[port], iname, iscsi_get_error(c));
        iscsi_destroy_url(u);
        iscsi_destroy_context(c);
        return NULL;
    }
    iscsi_destroy_url(u);
    return c;
}

/* Log in and consume the power-on unit attention of the new nexus (SAM-5 5.14), as an initiator does. */
static inline struct iscsi_context *prit_login(struct prit_target *pt, unsigned port, const char *iname, uint16_t q)
{
    struct iscsi_context *c = prit_login_raw_ua(pt, port, iname, q);
    if (c)
        itest_clear_ua(c, 0);
    return c;
}

/* Run one CDB on LUN 0. dout/dout_len go out; up to din_cap bytes of Data-In land in din (*din_len set).
 * Returns the SCSI status, or -1 when the command did not complete (sense then says nothing). */
static inline int prit_cmd(struct iscsi_context *c, const uint8_t *cdb, int cdb_len, const void *dout,
                           uint32_t dout_len, void *din, uint32_t din_cap, uint32_t *din_len, struct prit_sense *s)
{
    struct prit_sense dummy;
    if (!s)
        s = &dummy;
    memset(s, 0, sizeof(*s));
    int dir = dout_len ? SCSI_XFER_WRITE : (din_cap ? SCSI_XFER_READ : SCSI_XFER_NONE);
    struct scsi_task *task =
        scsi_create_task(cdb_len, (unsigned char *)cdb, dir, (int)(dout_len ? dout_len : din_cap));
    if (!task)
        return -1;
    struct iscsi_data d = { .size = dout_len, .data = (unsigned char *)dout };
    struct scsi_task *r = iscsi_scsi_command_sync(c, 0, task, dout_len ? &d : NULL);
    if (!r) {
        scsi_free_scsi_task(task);
        return -1;
    }
    int status = task->status;
    if (status == SCSI_STATUS_CHECK_CONDITION) {
        s->key = task->sense.key;
        s->asc = (uint8_t)(task->sense.ascq >> 8);
        s->ascq = (uint8_t)task->sense.ascq;
    }
    if (din_len)
        *din_len = 0;
    if (din && task->datain.size > 0) {
        uint32_t n = (uint32_t)task->datain.size < din_cap ? (uint32_t)task->datain.size : din_cap;
        memcpy(din, task->datain.data, n);
        if (din_len)
            *din_len = n;
    }
    scsi_free_scsi_task(task);
    return status;
}

/* PERSISTENT RESERVE OUT (SPC-4 6.16.1): service action sa, LU_SCOPE, type, parameter list param/len. */
static inline int prit_prout(struct iscsi_context *c, uint8_t sa, uint8_t type, const uint8_t *param, uint32_t len,
                             struct prit_sense *s)
{
    uint8_t cdb[10] = { 0x5f, sa, type, 0, 0, 0, 0, 0, 0, 0 };
    prit_be32(cdb + 5, len);
    return prit_cmd(c, cdb, 10, param, len, NULL, 0, NULL, s);
}

#define PRIT_SPEC_I_PT 0x08
#define PRIT_ALL_TG_PT 0x04
#define PRIT_APTPL 0x01

/* The basic PR OUT parameter list (SPC-4 6.16.3): key, service action key, flags byte 20. */
static inline int prit_prout_basic(struct iscsi_context *c, uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key,
                                   uint8_t flags, struct prit_sense *s)
{
    uint8_t p[24] = { 0 };
    prit_be64(p, key);
    prit_be64(p + 8, sa_key);
    p[20] = flags;
    return prit_prout(c, sa, type, p, sizeof(p), s);
}

static inline int prit_register(struct iscsi_context *c, uint64_t old_key, uint64_t new_key)
{
    return prit_prout_basic(c, 0x00, 0, old_key, new_key, 0, NULL);
}

static inline int prit_reserve(struct iscsi_context *c, uint64_t key, uint8_t type)
{
    return prit_prout_basic(c, 0x01, type, key, 0, 0, NULL);
}

static inline int prit_release(struct iscsi_context *c, uint64_t key, uint8_t type)
{
    return prit_prout_basic(c, 0x02, type, key, 0, 0, NULL);
}

/* An iSCSI TransportID (SPC-4 7.6.4.6): format 01b "name,i,0xISID" when isid is given, else format 00b (name
 * only); NUL-terminated and padded to a multiple of four. Returns its length. */
static inline size_t prit_tid(uint8_t *buf, size_t cap, const char *iname, const uint8_t *isid)
{
    char s[300];
    int n = isid ? snprintf(s, sizeof(s), "%s,i,0x%02x%02x%02x%02x%02x%02x", iname, isid[0], isid[1], isid[2],
                            isid[3], isid[4], isid[5])
                 : snprintf(s, sizeof(s), "%s", iname);
    size_t add = ((size_t)n + 1 + 3) & ~(size_t)3;
    if (add < 20)
        add = 20;
    if (4 + add > cap)
        return 0;
    memset(buf, 0, 4 + add);
    buf[0] = (uint8_t)((isid ? 0x40 : 0x00) | 0x05);
    prit_be16(buf + 2, (uint16_t)add);
    memcpy(buf + 4, s, (size_t)n);
    return 4 + add;
}

/* PERSISTENT RESERVE IN (SPC-4 6.15.1) into buf; returns the SCSI status. */
static inline int prit_prin(struct iscsi_context *c, uint8_t sa, uint8_t *buf, uint32_t cap, uint32_t *len)
{
    uint8_t cdb[10] = { 0x5e, sa, 0, 0, 0, 0, 0, 0, 0, 0 };
    cdb[7] = (uint8_t)(cap >> 8);
    cdb[8] = (uint8_t)cap;
    return prit_cmd(c, cdb, 10, NULL, 0, buf, cap, len, NULL);
}

/* READ KEYS (SPC-4 6.15.2): the PRgeneration and up to max keys; returns how many keys, -1 on failure. */
static inline int prit_read_keys(struct iscsi_context *c, uint32_t *gen, uint64_t *keys, int max)
{
    uint8_t buf[1024];
    uint32_t len;
    if (prit_prin(c, 0x00, buf, sizeof(buf), &len) != SCSI_STATUS_GOOD || len < 8)
        return -1;
    if (gen)
        *gen = prit_get32(buf);
    int n = (int)(prit_get32(buf + 4) / 8);
    for (int i = 0; i < n && i < max && 8 + 8 * (uint32_t)i + 8 <= len; i++)
        keys[i] = prit_get64(buf + 8 + 8 * i);
    return n;
}

static inline bool prit_has_key(struct iscsi_context *c, uint64_t key)
{
    uint64_t keys[64];
    int n = prit_read_keys(c, NULL, keys, 64);
    for (int i = 0; i < n && i < 64; i++)
        if (keys[i] == key)
            return true;
    return false;
}

/* READ RESERVATION (SPC-4 6.15.3): true when a reservation exists, with its key and type. */
static inline bool prit_read_reservation(struct iscsi_context *c, uint64_t *key, uint8_t *type)
{
    uint8_t buf[64];
    uint32_t len;
    if (prit_prin(c, 0x01, buf, sizeof(buf), &len) != SCSI_STATUS_GOOD || len < 8 || prit_get32(buf + 4) < 16)
        return false;
    if (key)
        *key = prit_get64(buf + 8);
    if (type)
        *type = buf[21] & 0x0f;
    return true;
}

/* One READ FULL STATUS descriptor (SPC-4 6.15.5). */
struct prit_fs {
    uint64_t key;
    bool all_tg_pt, holder;
    uint8_t type;
    uint16_t rtpi;
    char tid[300];  /* the TransportID's name field ("name,i,0xISID") */
    uint8_t tid_fmt; /* FORMAT CODE of the TransportID */
};

/* Returns the number of descriptors parsed into out (at most max), -1 on failure. */
static inline int prit_full_status(struct iscsi_context *c, struct prit_fs *out, int max)
{
    uint8_t buf[4096];
    uint32_t len;
    if (prit_prin(c, 0x03, buf, sizeof(buf), &len) != SCSI_STATUS_GOOD || len < 8)
        return -1;
    uint32_t end = 8 + prit_get32(buf + 4);
    if (end > len)
        return -1;
    int n = 0;
    for (uint32_t off = 8; off + 24 <= end && n < max; n++) {
        const uint8_t *d = buf + off;
        uint32_t tlen = prit_get32(d + 20);
        if (off + 24 + tlen > end || tlen < 24)
            return -1;
        struct prit_fs *f = &out[n];
        memset(f, 0, sizeof(*f));
        f->key = prit_get64(d);
        f->all_tg_pt = (d[12] & 0x02) != 0;
        f->holder = (d[12] & 0x01) != 0;
        f->type = d[13] & 0x0f;
        f->rtpi = (uint16_t)(d[18] << 8 | d[19]);
        f->tid_fmt = d[24] >> 6;
        size_t nl = strnlen((const char *)d + 28, tlen - 4);
        if (nl >= sizeof(f->tid))
            nl = sizeof(f->tid) - 1;
        memcpy(f->tid, d + 28, nl);
        f->tid[nl] = '\0';
        off += 24 + tlen;
    }
    return n;
}

/* The TransportID name field READ FULL STATUS shows for (iname, ISID qualifier q). */
static inline void prit_tid_name(char *out, size_t cap, const char *iname, uint16_t q)
{
    uint8_t isid[6];
    prit_isid(q, isid);
    snprintf(out, cap, "%s,i,0x%02x%02x%02x%02x%02x%02x", iname, isid[0], isid[1], isid[2], isid[3], isid[4],
             isid[5]);
}

/* READ(10) / WRITE(10) of one block at lba; return the SCSI status. */
static inline int prit_read(struct iscsi_context *c, uint32_t lba, struct prit_sense *s)
{
    uint8_t cdb[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
    uint8_t buf[PRIT_BS];
    prit_be32(cdb + 2, lba);
    return prit_cmd(c, cdb, 10, NULL, 0, buf, sizeof(buf), NULL, s);
}

static inline int prit_write(struct iscsi_context *c, uint32_t lba, struct prit_sense *s)
{
    uint8_t cdb[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
    uint8_t buf[PRIT_BS];
    memset(buf, 0xa5, sizeof(buf));
    prit_be32(cdb + 2, lba);
    return prit_cmd(c, cdb, 10, buf, sizeof(buf), NULL, 0, NULL, s);
}

/* TEST UNIT READY: the command that reports a pending unit attention (SAM-5 5.14). */
static inline int prit_tur(struct iscsi_context *c, struct prit_sense *s)
{
    static const uint8_t cdb[6] = { 0 };
    return prit_cmd(c, cdb, 6, NULL, 0, NULL, 0, NULL, s);
}

/* Assert that the next command of c reports exactly the unit attention asc/ascq, and that nothing further is
 * pending afterwards (SPC-4 5.13.6: once per nexus). */
#define prit_assert_ua_once(c, asc_, ascq_)                                                                      \
    do {                                                                                                         \
        struct prit_sense s_;                                                                                    \
        assert_int_equal(prit_tur((c), &s_), SCSI_STATUS_CHECK_CONDITION);                                       \
        assert_int_equal(s_.key, SCSI_SENSE_UNIT_ATTENTION);                                                     \
        assert_int_equal(s_.asc, (asc_));                                                                        \
        assert_int_equal(s_.ascq, (ascq_));                                                                      \
        assert_int_equal(prit_tur((c), &s_), SCSI_STATUS_GOOD);                                                  \
    } while (0)

/* Assert that c has no unit attention pending. */
#define prit_assert_no_ua(c)                                                                                     \
    do {                                                                                                         \
        struct prit_sense s_;                                                                                    \
        int st_ = prit_tur((c), &s_);                                                                            \
        if (st_ != SCSI_STATUS_GOOD)                                                                             \
            fprintf(stderr, "unexpected status %d sense %d/%02xh/%02xh\n", st_, s_.key, s_.asc, s_.ascq);       \
        assert_int_equal(st_, SCSI_STATUS_GOOD);                                                                 \
    } while (0)

#endif
