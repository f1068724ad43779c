/* Incremental PDU reassembler: feed it whatever bytes arrived, get whole PDUs. Never reads a socket.
 * Owned by isc_rx.c. */
#ifndef ISC_RX_H
#define ISC_RX_H

#include "transport/isc_pdu.h"

enum isc_rx_result {
    ISC_RX_NEED_MORE = 0,   /* all input consumed, no PDU complete yet */
    ISC_RX_PDU,             /* *out holds a whole PDU; *consumed tells how much input was used */
    ISC_RX_ERR_HDIGEST,     /* header digest mismatch: the stream cannot be trusted, drop the connection */
    ISC_RX_ERR_TOO_LONG,    /* DataSegmentLength beyond the negotiated/absolute limit: drop the connection */
    ISC_RX_ERR_NOMEM,
};

struct isc_rx {
    uint8_t hdr[ISC_BHS_LEN + 1020 + ISC_DIGEST_LEN]; /* BHS + max AHS + header digest */
    uint32_t hdr_have, hdr_need;
    uint8_t *data;          /* data segment + padding + data digest */
    uint32_t data_cap, data_have, data_need;
    uint32_t max_data_len;  /* largest DataSegmentLength accepted */
    bool header_digest, data_digest;
    int state;
    /* additions (codec): */
    bool cur_hdigest, cur_ddigest; /* digests in effect for the PDU being received (latched at its BHS) */
    bool zero_copy;                /* see isc_rx_set_zero_copy() */
    uint32_t data_len;             /* DataSegmentLength of the PDU being received */
    const uint8_t *direct;         /* zero-copy: the data segment inside the caller's input, or NULL */
    enum isc_rx_result err;        /* sticky error once the stream is broken */
};

void isc_rx_init(struct isc_rx *rx, uint32_t max_data_len);
void isc_rx_free(struct isc_rx *rx);
/* Digests take effect for the next PDU (call right after the login response that negotiated them). */
void isc_rx_set_digests(struct isc_rx *rx, bool header, bool data);
void isc_rx_set_max_data_len(struct isc_rx *rx, uint32_t max);
/* Consume bytes from in[0..len). Returns ISC_RX_PDU as soon as one PDU is complete (remaining input is left
 * for the next call), ISC_RX_NEED_MORE when all input was consumed, or an error. */
enum isc_rx_result isc_rx_feed(struct isc_rx *rx, const uint8_t *in, size_t len, size_t *consumed,
                               struct isc_pdu *out);

/* additions (codec) */

/* Zero copy (off by default): when a PDU's whole data segment (with padding and digest) is inside one `in`
 * buffer, out->data points into `in` instead of being copied. Then out->data is valid only as long as both the
 * caller's input buffer and the next isc_rx_feed() call allow; a caller that keeps a PDU past its read callback
 * must copy it or leave this off. */
void isc_rx_set_zero_copy(struct isc_rx *rx, bool on);
/* True when no part of a PDU is buffered (between PDUs). */
bool isc_rx_idle(const struct isc_rx *rx);

#endif
