/* Fuzz target: one iSCSI connection (transport/isc_conn.c and everything behind it: login, session ordering,
 * SCSI data path, TMF, text) in front of a real target with a 1 MiB mem LU.
 *
 * Input layout: byte 0 = flags, byte 1 = split seed, the rest = the byte stream an initiator sends.
 *   flags bit 0: log in first with a built-in Login sequence (so the stream starts in full feature phase);
 *         bit 1: with that built-in login, negotiate HeaderDigest=CRC32C;  bit 2: DataDigest=CRC32C;
 *         bit 3: complete writes at once (inside ops->write) instead of after each fed chunk;
 *         bit 4: advance the clock by 40 s between chunks (NOP-In pings, ping timeouts, login timeout);
 *         bit 5: release the connection in the middle of the stream.
 * Seeds in corpus/fuzz_conn/ are the initiator streams of the unit tests (flags 0: their login is part of the
 * stream), recorded with ISC_SEED_DIR (tests/unit/isc_harness.h), plus built-in-login variants.
 *
 * Oracle: no crash, no sanitizer report, no leak: after the release every connection object must be gone, which
 * LeakSanitizer checks at exit of the replay and per run under libFuzzer. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/tgt.h"
#include "transport/isc.h"
#include "transport/isc_pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_DONE 1024

struct fz_done {
    void (*done)(void *, int);
    void *arg;
};

struct fz {
    uint64_t now;
    bool sync_done, closed, released;
    struct fz_done dones[FZ_MAX_DONE];
    unsigned n_dones;
    size_t written;
};

static uint64_t fz_now(void *ctx) { return ((struct fz *)ctx)->now; }

static void fz_flush(struct fz *f)
{
    while (f->n_dones) {
        struct fz_done d = f->dones[--f->n_dones];
        d.done(d.arg, 0);
    }
}

static int fz_write(void *net, const struct isc_iov *iov, unsigned n, void (*done)(void *, int), void *arg)
{
    struct fz *f = net;
    if (f->released)
        abort(); /* isc.h: no ops after isc_conn_release() */
    for (unsigned i = 0; i < n; i++) {
        if (iov[i].len && !iov[i].base)
            abort();
        /* Touch every byte so that ASan sees a write of freed or uninitialised memory. */
        const volatile uint8_t *p = iov[i].base;
        for (size_t k = 0; k < iov[i].len; k += 64)
            (void)p[k];
        if (iov[i].len)
            (void)p[iov[i].len - 1];
        f->written += iov[i].len;
    }
    if (f->sync_done) {
        done(arg, 0);
        return 0;
    }
    if (f->n_dones == FZ_MAX_DONE)
        fz_flush(f);
    f->dones[f->n_dones++] = (struct fz_done){done, arg};
    return 0;
}

static void fz_close(void *net, bool flush)
{
    struct fz *f = net;
    if (f->released)
        abort();
    f->closed = true;
    (void)flush;
}

static const struct isc_conn_ops fz_ops = {fz_write, fz_close};

static size_t fz_text(uint8_t *out, const char *const *kv)
{
    size_t o = 0;
    for (unsigned i = 0; kv[i]; i++) {
        size_t n = strlen(kv[i]) + 1;
        memcpy(out + o, kv[i], n);
        o += n;
    }
    return o;
}

static size_t fz_login_pdu(uint8_t *out, uint8_t flags, const char *const *kv)
{
    uint8_t txt[512];
    size_t n = fz_text(txt, kv);
    memset(out, 0, ISC_BHS_LEN);
    out[0] = 0x43;
    out[1] = flags;
    memcpy(out + 8, "\x80\x01\x02\x03\x04\x05", 6);
    prt_put_be32(out + 16, 1);
    isc_bhs_set_data_len(out, (uint32_t)n);
    memcpy(out + ISC_BHS_LEN, txt, n);
    size_t total = ISC_BHS_LEN + n;
    while (total & 3)
        out[total++] = 0;
    return total;
}

static void fz_feed(struct isc_conn *c, struct fz *f, const uint8_t *p, size_t n)
{
    if (!f->closed && !f->released)
        (void)isc_conn_feed(c, p, n);
    fz_flush(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t flags = data[0];
    uint32_t seed = data[1] * 2654435761u + 1;
    data += 2;
    size -= 2;

    struct fz *f = calloc(1, sizeof(*f));
    if (!f)
        return 0;
    f->now = 1000;
    f->sync_done = flags & 8;
    char err[256];
    struct tgt_server_cfg tc = {.target_name = "iqn.2026-11.org.prtarget:test", .n_ports = 1};
    struct tgt_server *tgt = tgt_server_new(&tc, err, sizeof(err));
    if (!tgt)
        abort();
    struct tgt_lu_cfg lc = {.backend = TGT_BACKEND_MEM, .size = 1u << 20, .block_size = 512};
    if (tgt_server_add_lu(tgt, &lc, err, sizeof(err)) != 0)
        abort();
    struct isc_portal portal = {"0.0.0.0:3260", 1};
    struct isc_server_cfg ic = {
        .target_name = "iqn.2026-11.org.prtarget:test",
        .tgt = tgt,
        .portals = &portal,
        .n_portals = 1,
        .nop_interval_ms = 5000,
        .nop_timeout_ms = 30000,
        .login_timeout_ms = 15000,
        .now_ms = fz_now,
        .now_ctx = f,
    };
    struct isc_server *srv = isc_server_new(&ic, err, sizeof(err));
    if (!srv)
        abort();
    struct isc_conn *c = isc_conn_new(srv, 1, "127.0.0.1:3260", "127.0.0.1:40000", &fz_ops, f);
    if (!c)
        abort();

    if (flags & 1) {
        uint8_t pdu[1024];
        const char *const sec[] = {"InitiatorName=iqn.2026-11.org.fuzz:i", "TargetName=iqn.2026-11.org.prtarget:test",
                                   "AuthMethod=None", NULL};
        const char *const op[] = {(flags & 2) ? "HeaderDigest=CRC32C" : "HeaderDigest=None",
                                  (flags & 4) ? "DataDigest=CRC32C" : "DataDigest=None",
                                  "InitialR2T=No", "ImmediateData=Yes", "MaxOutstandingR2T=4",
                                  "FirstBurstLength=8192", "MaxBurstLength=16384", "MaxRecvDataSegmentLength=4096",
                                  NULL};
        size_t n = fz_login_pdu(pdu, 0x81, sec);
        fz_feed(c, f, pdu, n);
        n = fz_login_pdu(pdu, 0x87, op);
        fz_feed(c, f, pdu, n);
    }

    size_t pos = 0;
    size_t release_at = (flags & 32) ? size / 2 : (size_t)-1;
    while (pos < size) {
        seed = seed * 1103515245u + 12345u;
        size_t n = 1 + (seed >> 16) % 300;
        if (n > size - pos)
            n = size - pos;
        if (pos >= release_at && !f->released) {
            f->released = true;
            isc_conn_release(c);
            fz_flush(f);
            break;
        }
        fz_feed(c, f, data + pos, n);
        pos += n;
        if (flags & 16) {
            f->now += 40000;
            if (!f->released)
                isc_server_tick(srv, f->now);
            fz_flush(f);
        }
    }
    if (!f->released) {
        isc_server_shutdown(srv);
        fz_flush(f);
        f->released = true;
        isc_conn_release(c);
    }
    fz_flush(f);
    if (getenv("FUZZ_CONN_VERBOSE"))
        fprintf(stderr, "fuzz_conn: %zu input bytes, %zu bytes written, %s\n", size, f->written,
                f->closed ? "closed by target" : "open until release");
    isc_server_free(srv);
    tgt_server_free(tgt);
    free(f);
    return 0;
}
