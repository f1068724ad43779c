/* Incremental PDU reassembler (RFC 7143 11.2: BHS, AHS, HeaderDigest, DataSegment + padding, DataDigest).
 *
 * The reassembler never reads a socket: the caller feeds whatever bytes arrived and gets whole PDUs back. The
 * header part (at most 48 + 1020 + 4 bytes) lives in the struct itself; the data segment goes to one heap buffer
 * that grows, up to the negotiated limit, only when a PDU needs more than it has, so a steady stream of PDUs
 * allocates nothing.
 *
 * Ownership: the caller embeds struct isc_rx, calls isc_rx_init() and isc_rx_free(); the data buffer belongs to
 * the reassembler. */
#include "transport/isc_rx.h"

#include <stdlib.h>
#include <string.h>

enum { RX_HDR = 0, RX_DATA = 1, RX_BROKEN = 2 };

/* The digest trails the padded segment; a PDU without a data segment carries no DataDigest (RFC 7143 11.2). */
static uint32_t rx__data_need(const struct isc_rx *rx)
{
    if (rx->data_len == 0)
        return 0;
    return rx->data_len + isc_pad4(rx->data_len) + (rx->cur_ddigest ? ISC_DIGEST_LEN : 0);
}

static void rx__next_pdu(struct isc_rx *rx)
{
    rx->state = RX_HDR;
    rx->hdr_have = 0;
    rx->hdr_need = ISC_BHS_LEN;
    rx->data_have = 0;
    rx->data_need = 0;
    rx->data_len = 0;
    rx->direct = NULL;
}

void isc_rx_init(struct isc_rx *rx, uint32_t max_data_len)
{
    memset(rx, 0, sizeof(*rx));
    rx->max_data_len = max_data_len > ISC_MAX_DSL ? ISC_MAX_DSL : max_data_len;
    rx__next_pdu(rx);
}

void isc_rx_free(struct isc_rx *rx)
{
    free(rx->data);
    rx->data = NULL;
    rx->data_cap = 0;
}

void isc_rx_set_digests(struct isc_rx *rx, bool header, bool data)
{
    /* Latched into cur_* when the next BHS is complete, so a PDU already under way keeps its own layout. */
    rx->header_digest = header;
    rx->data_digest = data;
}

void isc_rx_set_max_data_len(struct isc_rx *rx, uint32_t max)
{
    rx->max_data_len = max > ISC_MAX_DSL ? ISC_MAX_DSL : max;
}

void isc_rx_set_zero_copy(struct isc_rx *rx, bool on) { rx->zero_copy = on; }

bool isc_rx_idle(const struct isc_rx *rx) { return rx->state == RX_HDR && rx->hdr_have == 0; }

static enum isc_rx_result rx__fail(struct isc_rx *rx, enum isc_rx_result err)
{
    rx->state = RX_BROKEN;
    rx->err = err;
    return err;
}

/* Make room for need bytes. Growth is geometric but never beyond the largest segment the limit allows, so a
 * connection's buffer is bounded by its negotiated MaxRecvDataSegmentLength. */
static int rx__reserve(struct isc_rx *rx, uint32_t need)
{
    if (need <= rx->data_cap)
        return 0;
    uint64_t ceiling = (uint64_t)rx->max_data_len + 3 + ISC_DIGEST_LEN;
    uint64_t cap = rx->data_cap ? (uint64_t)rx->data_cap * 2 : 8192;
    if (cap > ceiling)
        cap = ceiling;
    if (cap < need)
        cap = need;
    uint8_t *p = realloc(rx->data, (size_t)cap);
    if (!p)
        return -1;
    rx->data = p;
    rx->data_cap = (uint32_t)cap;
    return 0;
}

static void rx__deliver(struct isc_rx *rx, struct isc_pdu *out)
{
    const uint8_t *seg = rx->direct ? rx->direct : rx->data;

    memcpy(out->bhs, rx->hdr, ISC_BHS_LEN);
    out->ahs_len = isc_bhs_ahs_len(rx->hdr);
    /* Empty parts still get a valid pointer so that callers may pass them to memcpy with length 0. */
    out->ahs = rx->hdr + ISC_BHS_LEN;
    out->data_len = rx->data_len;
    out->data = rx->data_len ? seg : rx->hdr;
    out->data_digest_bad = false;
    if (rx->data_len && rx->cur_ddigest) {
        uint32_t padded = rx->data_len + isc_pad4(rx->data_len);
        /* RFC 7143 13.1: the digest covers the padding bytes as they were sent. */
        uint32_t crc = isc_crc32c(seg, padded);
        out->data_digest_bad = crc != isc_digest_get(seg + padded);
    }
    rx__next_pdu(rx);
}

/* The header (BHS, AHS, HeaderDigest) is complete: check it and size the data part. */
static enum isc_rx_result rx__header_done(struct isc_rx *rx)
{
    if (rx->cur_hdigest) {
        uint32_t covered = rx->hdr_need - ISC_DIGEST_LEN;
        /* RFC 7143 13.1 / 7.8: a header digest error means the PDU boundaries cannot be trusted; the
         * connection has to go (the caller drops it). */
        if (isc_crc32c(rx->hdr, covered) != isc_digest_get(rx->hdr + covered))
            return rx__fail(rx, ISC_RX_ERR_HDIGEST);
    }
    rx->data_len = isc_bhs_data_len(rx->hdr);
    /* RFC 7143 13.12: a sender must not exceed the receiver's declared MaxRecvDataSegmentLength; we cannot
     * resynchronise without buffering an unbounded amount, so the caller drops the connection. */
    if (rx->data_len > rx->max_data_len)
        return rx__fail(rx, ISC_RX_ERR_TOO_LONG);
    rx->data_need = rx__data_need(rx);
    rx->data_have = 0;
    rx->direct = NULL;
    rx->state = RX_DATA;
    return ISC_RX_NEED_MORE;
}

enum isc_rx_result isc_rx_feed(struct isc_rx *rx, const uint8_t *in, size_t len, size_t *consumed,
                               struct isc_pdu *out)
{
    size_t used = 0;
    enum isc_rx_result r;

    *consumed = 0;
    if (rx->state == RX_BROKEN)
        return rx->err;
    for (;;) {
        if (rx->state == RX_HDR) {
            if (rx->hdr_have < rx->hdr_need) {
                size_t n = rx->hdr_need - rx->hdr_have;
                if (n > len - used)
                    n = len - used;
                memcpy(rx->hdr + rx->hdr_have, in + used, n);
                rx->hdr_have += (uint32_t)n;
                used += n;
            }
            if (rx->hdr_have == ISC_BHS_LEN && rx->hdr_need == ISC_BHS_LEN) {
                rx->cur_hdigest = rx->header_digest;
                rx->cur_ddigest = rx->data_digest;
                rx->hdr_need = ISC_BHS_LEN + isc_bhs_ahs_len(rx->hdr) + (rx->cur_hdigest ? ISC_DIGEST_LEN : 0);
                if (rx->hdr_need > ISC_BHS_LEN)
                    continue;
            }
            if (rx->hdr_have < rx->hdr_need) {
                *consumed = used;
                return ISC_RX_NEED_MORE;
            }
            r = rx__header_done(rx);
            if (r != ISC_RX_NEED_MORE) {
                *consumed = used;
                return r;
            }
        }
        /* RX_DATA */
        if (rx->data_have == 0 && rx->zero_copy && rx->data_need && len - used >= rx->data_need) {
            rx->direct = in + used;
            rx->data_have = rx->data_need;
            used += rx->data_need;
        } else if (rx->data_have < rx->data_need) {
            if (rx__reserve(rx, rx->data_need) < 0) {
                *consumed = used;
                return rx__fail(rx, ISC_RX_ERR_NOMEM);
            }
            size_t n = rx->data_need - rx->data_have;
            if (n > len - used)
                n = len - used;
            memcpy(rx->data + rx->data_have, in + used, n);
            rx->data_have += (uint32_t)n;
            used += n;
        }
        if (rx->data_have < rx->data_need) {
            *consumed = used;
            return ISC_RX_NEED_MORE;
        }
        rx__deliver(rx, out);
        *consumed = used;
        return ISC_RX_PDU;
    }
}
