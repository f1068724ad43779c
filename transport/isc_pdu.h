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

/* ---- additions (codec): everything below is additive to the contract above ------------------------------ */

/* isc_lun_decode() answers this for a field that names no LUN this target can have (an addressing method other
 * than peripheral or flat, a non-zero bus identifier, or a second addressing level); isc_lun_encode() answers it
 * for a LUN beyond the flat space (> 16383). */
#define ISC_LUN_INVALID UINT64_MAX
#define ISC_LUN_MAX_FLAT 16383u

/* Largest DataSegmentLength the 24-bit field can carry (RFC 7143 11.2.1.4). */
#define ISC_MAX_DSL 0xffffffu
/* Largest AHS (TotalAHSLength is one byte counting 4-byte words, RFC 7143 11.2.1.3). */
#define ISC_MAX_AHS_LEN 1020u

/* Byte offsets of BHS fields (RFC 7143 11.2 and the per-opcode layouts in 11.3 .. 11.18). Fields shared by
 * several PDU types sit at the same offset in all of them, so one name per offset is enough. */
enum isc_bhs_off {
    ISC_BHS_OFF_OPCODE = 0,
    ISC_BHS_OFF_FLAGS = 1,
    ISC_BHS_OFF_RESPONSE = 2,      /* SCSI Response, TMF Response, Logout Response: Response; Reject: Reason */
    ISC_BHS_OFF_STATUS = 3,        /* SCSI Response / Data-In with S: SCSI status */
    ISC_BHS_OFF_AHS_LEN = 4,
    ISC_BHS_OFF_DSL = 5,
    ISC_BHS_OFF_LUN = 8,           /* LUN, or ISID+TSIH in Login PDUs */
    ISC_BHS_OFF_ISID = 8,
    ISC_BHS_OFF_TSIH = 14,
    ISC_BHS_OFF_ITT = 16,
    ISC_BHS_OFF_TTT = 20,          /* also Expected Data Transfer Length in a SCSI Command, CID in Login/Logout */
    ISC_BHS_OFF_EDTL = 20,
    ISC_BHS_OFF_CID = 20,
    ISC_BHS_OFF_CMDSN = 24,        /* initiator PDUs */
    ISC_BHS_OFF_STATSN = 24,       /* target PDUs */
    ISC_BHS_OFF_EXPSTATSN = 28,    /* initiator PDUs */
    ISC_BHS_OFF_EXPCMDSN = 28,     /* target PDUs */
    ISC_BHS_OFF_MAXCMDSN = 32,     /* target PDUs */
    ISC_BHS_OFF_CDB = 32,          /* SCSI Command: 16-byte CDB */
    ISC_BHS_OFF_REFCMDSN = 32,     /* TMF Request */
    ISC_BHS_OFF_LOGIN_STATUS = 36, /* Login Response: Status-Class, Status-Detail */
    ISC_BHS_OFF_DATASN = 36,       /* Data-In/Out DataSN, R2T R2TSN, SCSI Response ExpDataSN, Reject DataSN/R2TSN */
    ISC_BHS_OFF_BUFOFF = 40,       /* Data-In/Out, R2T: Buffer Offset */
    ISC_BHS_OFF_BIDI_RESID = 40,   /* SCSI Response: Bidirectional Read Residual Count */
    ISC_BHS_OFF_TIME2WAIT = 40,    /* Logout Response */
    ISC_BHS_OFF_TIME2RETAIN = 42,  /* Logout Response */
    ISC_BHS_OFF_RESID = 44,        /* SCSI Response / Data-In: Residual Count */
    ISC_BHS_OFF_DDTL = 44,         /* R2T: Desired Data Transfer Length */
};

/* Flag bits in byte 1 (RFC 7143 11.3.1, 11.4.1, 11.7, 11.12, 11.13). */
#define ISC_FLAG_FINAL 0x80u
#define ISC_FLAG_CMD_READ 0x40u       /* SCSI Command R */
#define ISC_FLAG_CMD_WRITE 0x20u      /* SCSI Command W */
#define ISC_FLAG_CMD_ATTR_MASK 0x07u  /* SCSI Command task attribute */
#define ISC_FLAG_DATA_ACK 0x40u       /* Data-In A */
#define ISC_FLAG_RSP_BIDI_OVERFLOW 0x10u
#define ISC_FLAG_RSP_BIDI_UNDERFLOW 0x08u
#define ISC_FLAG_RSP_OVERFLOW 0x04u   /* SCSI Response / Data-In O */
#define ISC_FLAG_RSP_UNDERFLOW 0x02u  /* SCSI Response / Data-In U */
#define ISC_FLAG_DATA_STATUS 0x01u    /* Data-In S */
#define ISC_FLAG_LOGIN_TRANSIT 0x80u  /* Login T */
#define ISC_FLAG_LOGIN_CONTINUE 0x40u /* Login/Text C */
#define ISC_FLAG_TEXT_CONTINUE 0x40u
#define ISC_BHS_IMMEDIATE 0x40u       /* byte 0 I bit */

/* Login CSG/NSG stage codes (RFC 7143 11.12.3). */
static inline unsigned isc_login_csg(const uint8_t *b) { return (b[1] >> 2) & 3u; }
static inline unsigned isc_login_nsg(const uint8_t *b) { return b[1] & 3u; }

/* Start a target PDU: the whole BHS zeroed, then opcode and byte-1 flags. Bit 7 of byte 1 is the F bit for most
 * opcodes, so pass ISC_FLAG_FINAL where RFC 7143 requires it to be 1 (SCSI Response, Reject, NOP-In, R2T, ...). */
static inline void isc_bhs_init(uint8_t *b, uint8_t opcode, uint8_t flags)
{
    for (unsigned i = 0; i < ISC_BHS_LEN; i++)
        b[i] = 0;
    b[0] = opcode & 0x3fu;
    b[1] = flags;
}

static inline uint8_t isc_bhs_flags(const uint8_t *b) { return b[1]; }
static inline uint32_t isc_bhs_get32(const uint8_t *b, enum isc_bhs_off off) { return prt_get_be32(b + off); }
static inline void isc_bhs_put32(uint8_t *b, enum isc_bhs_off off, uint32_t v) { prt_put_be32(b + off, v); }

/* Field getters of initiator PDUs. */
static inline uint32_t isc_bhs_ttt(const uint8_t *b) { return prt_get_be32(b + ISC_BHS_OFF_TTT); }
static inline uint32_t isc_bhs_cmdsn(const uint8_t *b) { return prt_get_be32(b + ISC_BHS_OFF_CMDSN); }
static inline uint32_t isc_bhs_expstatsn(const uint8_t *b) { return prt_get_be32(b + ISC_BHS_OFF_EXPSTATSN); }
static inline uint32_t isc_bhs_edtl(const uint8_t *b) { return prt_get_be32(b + ISC_BHS_OFF_EDTL); }
static inline uint32_t isc_bhs_datasn(const uint8_t *b) { return prt_get_be32(b + ISC_BHS_OFF_DATASN); }
static inline uint32_t isc_bhs_bufoff(const uint8_t *b) { return prt_get_be32(b + ISC_BHS_OFF_BUFOFF); }
static inline uint16_t isc_bhs_cid(const uint8_t *b) { return prt_get_be16(b + ISC_BHS_OFF_CID); }
static inline uint16_t isc_bhs_tsih(const uint8_t *b) { return prt_get_be16(b + ISC_BHS_OFF_TSIH); }
static inline const uint8_t *isc_bhs_cdb(const uint8_t *b) { return b + ISC_BHS_OFF_CDB; }

/* Field setters of target PDUs. StatSN/ExpCmdSN/MaxCmdSN sit at 24/28/32 in every target PDU (RFC 7143 11.4,
 * 11.6, 11.7, 11.8, 11.9, 11.11, 11.13, 11.15, 11.17, 11.19), so isc_bhs_set_sn() serves them all. */
static inline void isc_bhs_set_itt(uint8_t *b, uint32_t itt) { prt_put_be32(b + ISC_BHS_OFF_ITT, itt); }
static inline void isc_bhs_set_ttt(uint8_t *b, uint32_t ttt) { prt_put_be32(b + ISC_BHS_OFF_TTT, ttt); }
static inline void isc_bhs_set_lun(uint8_t *b, uint64_t field) { prt_put_be64(b + ISC_BHS_OFF_LUN, field); }
static inline void isc_bhs_set_statsn(uint8_t *b, uint32_t v) { prt_put_be32(b + ISC_BHS_OFF_STATSN, v); }
static inline void isc_bhs_set_expcmdsn(uint8_t *b, uint32_t v) { prt_put_be32(b + ISC_BHS_OFF_EXPCMDSN, v); }
static inline void isc_bhs_set_maxcmdsn(uint8_t *b, uint32_t v) { prt_put_be32(b + ISC_BHS_OFF_MAXCMDSN, v); }
static inline void isc_bhs_set_sn(uint8_t *b, uint32_t statsn, uint32_t expcmdsn, uint32_t maxcmdsn)
{
    isc_bhs_set_statsn(b, statsn);
    isc_bhs_set_expcmdsn(b, expcmdsn);
    isc_bhs_set_maxcmdsn(b, maxcmdsn);
}
static inline void isc_bhs_set_datasn(uint8_t *b, uint32_t v) { prt_put_be32(b + ISC_BHS_OFF_DATASN, v); }
static inline void isc_bhs_set_bufoff(uint8_t *b, uint32_t v) { prt_put_be32(b + ISC_BHS_OFF_BUFOFF, v); }
static inline void isc_bhs_set_resid(uint8_t *b, uint32_t v) { prt_put_be32(b + ISC_BHS_OFF_RESID, v); }
static inline void isc_bhs_set_bidi_resid(uint8_t *b, uint32_t v) { prt_put_be32(b + ISC_BHS_OFF_BIDI_RESID, v); }
static inline void isc_bhs_set_ddtl(uint8_t *b, uint32_t v) { prt_put_be32(b + ISC_BHS_OFF_DDTL, v); }
static inline void isc_bhs_set_response(uint8_t *b, uint8_t v) { b[ISC_BHS_OFF_RESPONSE] = v; }
static inline void isc_bhs_set_status(uint8_t *b, uint8_t v) { b[ISC_BHS_OFF_STATUS] = v; }
static inline void isc_bhs_set_tsih(uint8_t *b, uint16_t v) { prt_put_be16(b + ISC_BHS_OFF_TSIH, v); }
/* Login Response (RFC 7143 11.13): Version-max and Version-active are both 0x00 (the only version). */
static inline void isc_bhs_set_login_status(uint8_t *b, uint8_t cls, uint8_t detail)
{
    b[ISC_BHS_OFF_LOGIN_STATUS] = cls;
    b[ISC_BHS_OFF_LOGIN_STATUS + 1] = detail;
}
/* Logout Response (RFC 7143 11.15.4, 11.15.5). */
static inline void isc_bhs_set_logout_times(uint8_t *b, uint16_t time2wait, uint16_t time2retain)
{
    prt_put_be16(b + ISC_BHS_OFF_TIME2WAIT, time2wait);
    prt_put_be16(b + ISC_BHS_OFF_TIME2RETAIN, time2retain);
}
/* Asynchronous Message (RFC 7143 11.9): AsyncEvent at 36, AsyncVCode 37, Parameter1..3 at 38, 40, 42. */
static inline void isc_bhs_set_async(uint8_t *b, uint8_t event, uint16_t p1, uint16_t p2, uint16_t p3)
{
    b[36] = event;
    b[37] = 0;
    prt_put_be16(b + 38, p1);
    prt_put_be16(b + 40, p2);
    prt_put_be16(b + 42, p3);
}

/* Build a Reject PDU header (RFC 7143 11.17): F bit set, the reason, ITT 0xffffffff, DataSegmentLength 48
 * because the data segment is the rejected PDU's BHS (which the caller sends as the data). */
void isc_bhs_init_reject(uint8_t *b, enum isc_reject_reason reason);

/* The data digest of a data segment of len bytes, including its zero padding (RFC 7143 13.1: padding bytes are
 * covered by the digest). */
uint32_t isc_data_digest(const void *data, size_t len);
/* True when this process uses the SSE4.2 CRC32 instruction (for logs and benchmarks). */
bool isc_crc32c_hw(void);
/* Module-internal, exposed for tests: the portable slicing-by-8 CRC, and the SSE4.2 one (which falls back to the
 * portable one where the instruction is missing). Same contract as isc_crc32c_update(). */
uint32_t isc__crc32c_sw(uint32_t crc, const void *data, size_t len);
uint32_t isc__crc32c_hw(uint32_t crc, const void *data, size_t len);

#endif
