/* iSCSI text keys (RFC 7143 6, 13): key=value parsing, building, and the negotiation rules of every
 * operational key. Owned by isc_keys.c. Pure functions over struct isc_params: no session state machine here. */
#ifndef ISC_KEYS_H
#define ISC_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Operational parameters of a session and its connection, as negotiated. */
struct isc_params {
    bool header_digest, data_digest;      /* CRC32C in effect */
    uint32_t max_recv_dsl;                /* ours (declared by the target): largest Data segment we accept */
    uint32_t max_send_dsl;                /* the initiator's MaxRecvDataSegmentLength: largest we may send */
    uint32_t first_burst, max_burst;
    uint32_t max_outstanding_r2t;
    bool initial_r2t, immediate_data, data_pdu_in_order, data_seq_in_order;
    uint32_t default_time2wait, default_time2retain;
    uint32_t error_recovery_level;
    uint32_t max_connections;
};

/* What this target offers/accepts at most (from configuration). */
struct isc_limits {
    uint32_t max_recv_dsl;      /* we declare this MaxRecvDataSegmentLength (default 262144) */
    uint32_t max_burst;         /* our upper bound for MaxBurstLength (default 1048576... up to 16777215) */
    uint32_t first_burst;       /* our upper bound for FirstBurstLength */
    uint32_t max_outstanding_r2t;
    bool allow_crc32c;          /* offer/accept CRC32C digests */
    /* additions (codec): */
    bool initial_r2t;           /* true: we require an R2T before any Data-Out (InitialR2T=Yes); default false */
    bool immediate_data;        /* we accept immediate data (ImmediateData=Yes); default true */
    uint32_t default_time2retain; /* our DefaultTime2Retain (Min function); default 20 */
};

/* RFC 7143 13 defaults (before negotiation). */
void isc_params_defaults(struct isc_params *p);
void isc_limits_defaults(struct isc_limits *l);

/* Growable buffer of "key=value\0" pairs (a text or login data segment being built). */
struct isc_text {
    char *buf;
    size_t len, cap;
};
void isc_text_init(struct isc_text *t);
void isc_text_free(struct isc_text *t);
void isc_text_reset(struct isc_text *t);
int isc_text_add(struct isc_text *t, const char *key, const char *value); /* 0 or -ENOMEM */

/* Iterate key=value pairs of a received data segment. Returns 1 with the pair (NUL-terminated copies in the
 * caller's buffers), 0 at the end, -EINVAL on a malformed pair (no '=', key too long, value > 8192 bytes...). */
struct isc_text_iter {
    const uint8_t *p, *end;
};
void isc_text_iter_init(struct isc_text_iter *it, const uint8_t *data, size_t len);
int isc_text_next(struct isc_text_iter *it, char *key, size_t keycap, char *val, size_t valcap);

enum isc_key_result {
    ISC_KEY_OK = 0,          /* answered (appended to out) or accepted silently */
    ISC_KEY_NOT_OPERATIONAL, /* not an operational key: the login/text state machine handles it (InitiatorName,
                                SessionType, TargetName, AuthMethod, CHAP_*, SendTargets, ...) */
    ISC_KEY_REJECT,          /* a value outside the key's domain, answered Reject */
    ISC_KEY_FATAL,           /* negotiation failure: the login must fail with Initiator Error (0x0200...) */
};

/* Negotiate one operational key offered by the initiator during login operational negotiation (or Text in
 * full feature phase for the keys allowed there), updating p and appending the target's answer to out:
 * numeric keys by min/max rules, boolean by AND/OR rules, lists by first acceptable value, MaxRecvDataSegment-
 * Length as a declaration (no answer), unknown keys answered NotUnderstood, keys irrelevant to a discovery
 * session answered Irrelevant. */
enum isc_key_result isc_key_negotiate(struct isc_params *p, const struct isc_limits *lim, bool discovery,
                                      const char *key, const char *value, struct isc_text *out);

/* Keys the target must send by itself when the initiator did not offer them, at the end of operational
 * negotiation (e.g. MaxRecvDataSegmentLength declaration). `offered` tells which were seen. */
struct isc_key_seen {
    uint32_t mask;           /* bit per key, internal to isc_keys.c */
};
void isc_key_seen_reset(struct isc_key_seen *s);
void isc_key_mark_seen(struct isc_key_seen *s, const char *key);
int isc_key_declare_missing(const struct isc_params *p, const struct isc_limits *lim, bool discovery,
                            const struct isc_key_seen *s, struct isc_text *out);

/* ---- additions (codec) ---------------------------------------------------------------------------------- */

#define ISC_KEY_NAME_MAX 63      /* RFC 7143 6.1: key names are at most 63 bytes */
#define ISC_VALUE_MAX 8192       /* longest value isc_text_next() accepts (an 8192-byte data segment's worth) */
#define ISC_SIMPLE_VALUE_MAX 255 /* RFC 7143 6.1: a simple value is at most 255 bytes */
#define ISC_NAME_MAX 223         /* RFC 7143 4.2.7.1 / 6.1: iSCSI names are at most 223 bytes */

/* Where a negotiation happens; isc_key_negotiate() is isc_key_negotiate_ex() with a login (ffp = false). */
struct isc_key_ctx {
    bool discovery; /* SessionType=Discovery */
    bool ffp;       /* a Text Request in full feature phase: only keys of Use "ALL" may be negotiated */
};
enum isc_key_result isc_key_negotiate_ex(struct isc_params *p, const struct isc_limits *lim,
                                         const struct isc_key_ctx *ctx, const char *key, const char *value,
                                         struct isc_text *out);

/* Properties of a key (RFC 7143 13: "Use" and "Scope" of each key). 0 for a key this codec does not know. */
enum {
    ISC_KEYP_KNOWN = 1u << 0,
    ISC_KEYP_OPERATIONAL = 1u << 1, /* negotiated by isc_key_negotiate() */
    ISC_KEYP_LO = 1u << 2,          /* Use: LO, leading connection only */
    ISC_KEYP_IO = 1u << 3,          /* Use: IO, at connection login only */
    ISC_KEYP_ALL = 1u << 4,         /* Use: ALL, also in full feature phase */
    ISC_KEYP_SECURITY = 1u << 5,    /* security negotiation stage (AuthMethod, CHAP_*) */
    ISC_KEYP_SESSION_WIDE = 1u << 6,/* Scope: SW (otherwise CO) */
    ISC_KEYP_DECLARATIVE = 1u << 7,
};
unsigned isc_key_props(const char *key);

/* RFC 7143 6.1: a key may be offered only once in one negotiation. Returns true when key was already marked
 * (the caller fails the login with Initiator Error or answers a Text Request with Reject), then marks it. Keys
 * the codec does not know are not tracked (false). */
bool isc_key_seen_test_and_mark(struct isc_key_seen *s, const char *key);
bool isc_key_seen_test(const struct isc_key_seen *s, const char *key);

/* Apply our own declarations and cross-key constraints once operational negotiation is complete:
 * max_recv_dsl becomes lim->max_recv_dsl (which isc_key_declare_missing() declared), FirstBurstLength is capped
 * by MaxBurstLength (RFC 7143 13.14). Call after the final operational answer. */
void isc_params_finalize(struct isc_params *p, const struct isc_limits *lim);

/* Parse a numerical value (RFC 7143 6.1: decimal-constant or hex-constant "0x..."), < 2^32. 0 or -EINVAL. */
int isc_parse_number(const char *s, uint32_t *out);
/* Decode a binary value (RFC 7143 6.1: "0x"/"0X" hex or "0b"/"0B" base64) into out (cap bytes). Returns the
 * byte count or -EINVAL (malformed, empty, or longer than cap). */
int isc_parse_binary(const char *s, uint8_t *out, size_t cap);

#endif
