/* Fuzz target: the PDU reassembler (transport/isc_rx.c).
 *
 * Input layout: byte 0 = flags (bit 0 HeaderDigest, bit 1 DataDigest, bit 2 zero copy, bit 3 repair digests,
 * bits 4..7 pick the data segment limit), bytes 1..4 = seed of the split points, the rest = the byte stream.
 * With "repair digests" the harness first writes correct CRC32C digests into the stream wherever the PDU
 * layout puts them, so that the fuzzer reaches the data path behind the digest checks.
 *
 * Oracle: the stream is fed twice, once in pseudo-random splits and once in a single piece. Both runs must
 * yield the same PDUs (compared by digest of every field) and end in the same verdict, and every PDU must be
 * consistent with its own BHS and the limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/isc_rx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
    uint32_t pdus;
    uint32_t hash;
    int verdict;
};

static const uint32_t limits[16] = {0, 1, 4, 48, 512, 1000, 4096, 8192, 8192, 16384, 65536, 65536,
                                    262144, 262144, 1048576, ISC_MAX_DSL};

static uint32_t next_rand(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void check_pdu(const struct isc_pdu *p, uint32_t limit, struct run *r)
{
    if (p->ahs_len != isc_bhs_ahs_len(p->bhs) || p->data_len != isc_bhs_data_len(p->bhs) ||
        p->data_len > limit || !p->ahs || !p->data)
        abort();
    uint32_t h = isc_crc32c(p->bhs, ISC_BHS_LEN);
    h = isc_crc32c_update(h, p->ahs, p->ahs_len);
    h = isc_crc32c_update(h, p->data, p->data_len);
    r->hash = r->hash * 31u + h + (p->data_digest_bad ? 1u : 0u);
    r->pdus++;
}

static void feed(const uint8_t *s, size_t len, uint8_t flags, uint32_t seed, bool split, struct run *r)
{
    struct isc_rx rx;
    uint32_t limit = limits[flags >> 4];
    size_t pos = 0;

    memset(r, 0, sizeof(*r));
    isc_rx_init(&rx, limit);
    isc_rx_set_digests(&rx, flags & 1, flags & 2);
    isc_rx_set_zero_copy(&rx, flags & 4);
    while (pos < len) {
        size_t n = len - pos;
        if (split) {
            size_t want = 1 + next_rand(&seed) % 97;
            if (want < n)
                n = want;
        }
        /* Each chunk gets its own exact-size buffer, as a socket read would, so a PDU pointing past what was
         * fed is caught by the sanitizer. */
        uint8_t *chunk = malloc(n);
        if (!chunk)
            abort();
        memcpy(chunk, s + pos, n);
        size_t off = 0;
        while (off < n) {
            size_t used = 0;
            struct isc_pdu pdu;
            enum isc_rx_result res = isc_rx_feed(&rx, chunk + off, n - off, &used, &pdu);
            if (used > n - off)
                abort();
            off += used;
            if (res == ISC_RX_PDU) {
                check_pdu(&pdu, limit, r);
                continue;
            }
            if (res == ISC_RX_NEED_MORE) {
                if (off != n)
                    abort();
                continue;
            }
            r->verdict = (int)res;
            free(chunk);
            isc_rx_free(&rx);
            return;
        }
        free(chunk);
        pos += n;
    }
    isc_rx_free(&rx);
}

/* Write correct digests where the RFC 7143 11.2 layout puts them. */
static void repair(uint8_t *s, size_t len, uint8_t flags)
{
    bool hd = flags & 1, dd = flags & 2;
    uint32_t limit = limits[flags >> 4];
    size_t pos = 0;
    while (len - pos >= ISC_BHS_LEN) {
        uint8_t *b = s + pos;
        size_t hdr = ISC_BHS_LEN + isc_bhs_ahs_len(b);
        if (hd) {
            if (len - pos < hdr + ISC_DIGEST_LEN)
                return;
            isc_digest_put(s + pos + hdr, isc_crc32c(b, hdr));
            hdr += ISC_DIGEST_LEN;
        }
        uint32_t dsl = isc_bhs_data_len(b);
        if (dsl > limit)
            return;
        size_t seg = dsl ? (size_t)dsl + isc_pad4(dsl) : 0;
        if (len - pos < hdr + seg)
            return;
        if (dd && dsl) {
            if (len - pos < hdr + seg + ISC_DIGEST_LEN)
                return;
            isc_digest_put(s + pos + hdr + seg, isc_crc32c(s + pos + hdr, seg));
            seg += ISC_DIGEST_LEN;
        }
        pos += hdr + seg;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    uint8_t flags = data[0];
    uint32_t seed = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;
    size_t len = size - 5;
    uint8_t *s = malloc(len ? len : 1);
    if (!s)
        abort();
    memcpy(s, data + 5, len);
    if (flags & 8)
        repair(s, len, flags);

    struct run a, b;
    feed(s, len, flags, seed, true, &a);
    feed(s, len, flags, seed, false, &b);
    if (a.pdus != b.pdus || a.hash != b.hash || a.verdict != b.verdict)
        abort();
    free(s);
    return 0;
}
