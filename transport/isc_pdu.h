/* iSCSI PDU layout (RFC 7143 11) and CRC32C digests. Owned by the codec (isc_pdu.c).
 * Only byte-layout helpers here: no sockets, no session state. */
#ifndef ISC_PDU_H
#define ISC_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/prt_be.h"

#define ISC_BHS_LEN 48
#define ISC_DIGEST_LEN 4

enum isc_opcode {
    /* initiator → target */
    ISC_OP_NOP_OUT = 0x00,
    ISC_OP_SCSI_CMD = 0x01,
    ISC_OP_TMF_REQ = 0x02,
    ISC_OP_LOGIN_REQ = 0x03,
    ISC_OP_TEXT_REQ = 0x04,
    ISC_OP_DATA_OUT = 0x05,
    ISC_OP_LOGOUT_REQ = 0x06,
    ISC_OP_SNACK = 0x10,
    /* target → initiator */
    ISC_OP_NOP_IN = 0x20,
    ISC_OP_SCSI_RSP = 0x21,
    ISC_OP_TMF_RSP = 0x22,
    ISC_OP_LOGIN_RSP = 0x23,
    ISC_OP_TEXT_RSP = 0x24,
    ISC_OP_DATA_IN = 0x25,
    ISC_OP_LOGOUT_RSP = 0x26,
    ISC_OP_R2T = 0x31,
    ISC_OP_ASYNC = 0x32,
    ISC_OP_REJECT = 0x3f,
};

/* Reject reasons (RFC 7143 11.17.1). */
enum isc_reject_reason {
    ISC_REJECT_DATA_DIGEST = 0x02,
    ISC_REJECT_SNACK = 0x03,
    ISC_REJECT_PROTOCOL_ERROR = 0x04,
    ISC_REJECT_CMD_NOT_SUPPORTED = 0x05,
    ISC_REJECT_IMMEDIATE_CMD = 0x06,
    ISC_REJECT_TASK_IN_PROGRESS = 0x07,
    ISC_REJECT_INVALID_DATA_ACK = 0x08,
    ISC_REJECT_INVALID_PDU_FIELD = 0x09,
    ISC_REJECT_LONG_OP = 0x0a,
    ISC_REJECT_NEGOTIATION_RESET = 0x0b,
    ISC_REJECT_WAITING_FOR_LOGOUT = 0x0c,
};

/* A whole received PDU. ahs/data point into the reassembler's buffer and stay valid until the next
 * isc_rx_feed() call. */
struct isc_pdu {
    uint8_t bhs[ISC_BHS_LEN];
    const uint8_t *ahs;
    uint32_t ahs_len;      /* bytes (TotalAHSLength * 4) */
    const uint8_t *data;
    uint32_t data_len;     /* DataSegmentLength, without padding */
    bool data_digest_bad;  /* DataDigest negotiated and wrong: the PDU is delivered so the caller can Reject */
};

/* Common BHS fields. */
static inline uint8_t isc_bhs_opcode(const uint8_t *b) { return b[0] & 0x3f; }
static inline bool isc_bhs_immediate(const uint8_t *b) { return (b[0] & 0x40) != 0; }
static inline bool isc_bhs_final(const uint8_t *b) { return (b[1] & 0x80) != 0; }
static inline uint32_t isc_bhs_ahs_len(const uint8_t *b) { return (uint32_t)b[4] * 4; }
static inline uint32_t isc_bhs_data_len(const uint8_t *b) { return prt_get_be24(b + 5); }
static inline uint64_t isc_bhs_lun(const uint8_t *b) { return prt_get_be64(b + 8); }
static inline uint32_t isc_bhs_itt(const uint8_t *b) { return prt_get_be32(b + 16); }
static inline void isc_bhs_set_data_len(uint8_t *b, uint32_t n) { prt_put_be24(b + 5, n); }

/* Bytes of padding after a data segment of n bytes (to a 4-byte boundary). */
static inline uint32_t isc_pad4(uint32_t n) { return (4 - (n & 3)) & 3; }

/* CRC32C (Castagnoli) as iSCSI uses it: isc_crc32c(NULL,0) initial state is ~0; feed pieces with
 * isc_crc32c_update and finish with isc_crc32c_final. The 4-byte digest is sent little-endian (RFC 7143 13.1). */
uint32_t isc_crc32c_update(uint32_t crc, const void *data, size_t len);
static inline uint32_t isc_crc32c_init(void) { return 0xffffffffu; }
static inline uint32_t isc_crc32c_final(uint32_t crc) { return crc ^ 0xffffffffu; }
uint32_t isc_crc32c(const void *data, size_t len);
void isc_digest_put(uint8_t out[4], uint32_t crc); /* wire order */
uint32_t isc_digest_get(const uint8_t in[4]);

/* LUN field (SAM-5 4.6): decode the 8-byte iSCSI LUN field to a LUN number (peripheral and flat addressing);
 * encode a LUN number for REPORT LUNS and PDUs. */
uint64_t isc_lun_decode(uint64_t field);
uint64_t isc_lun_encode(uint64_t lun);

#endif
