/* CHAP authentication of iSCSI logins (RFC 7143 12.1.3 over RFC 1994), target side, and the MD5 it needs
 * (RFC 1321). Owned by isc_chap.c.
 *
 * The login state machine drives one struct isc_chap per connection through the security negotiation stage:
 *   1. the initiator offers AuthMethod=CHAP (the login code answers it) and then CHAP_A=<list>;
 *   2. isc_chap_step() answers CHAP_A=5, CHAP_I=<id>, CHAP_C=<challenge>;
 *   3. the initiator sends CHAP_N, CHAP_R and, for mutual CHAP, CHAP_I and CHAP_C;
 *   4. isc_chap_step() checks the response and, when asked, answers CHAP_N and CHAP_R of the target.
 * Pass every CHAP_* pair of one Login Request (in order) to one isc_chap_step() call.
 *
 * Ownership: the caller embeds struct isc_chap; it holds no heap memory. cfg must outlive it. */
#ifndef ISC_CHAP_H
#define ISC_CHAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/isc_keys.h"

/* ---- MD5 (RFC 1321) ---------------------------------------------------------------------------------------- */

#define ISC_MD5_LEN 16

struct isc_md5 {
    uint32_t h[4];
    uint64_t total;     /* bytes fed so far */
    uint8_t block[64];
    uint32_t used;      /* bytes waiting in block */
};
void isc_md5_init(struct isc_md5 *m);
void isc_md5_update(struct isc_md5 *m, const void *data, size_t len);
void isc_md5_final(struct isc_md5 *m, uint8_t out[ISC_MD5_LEN]);
void isc_md5(const void *data, size_t len, uint8_t out[ISC_MD5_LEN]);

/* ---- CHAP ------------------------------------------------------------------------------------------------- */

#define ISC_CHAP_CHALLENGE_LEN 16    /* what we send: as long as the MD5 output */
#define ISC_CHAP_MAX_CHALLENGE 1024  /* largest challenge we accept from an initiator (RFC 7143 12.1.3) */
#define ISC_CHAP_MIN_SECRET 12       /* RFC 7143 9.2.1: at least 96 bits without IPsec */

struct isc_chap_cfg {
    const char *user;           /* the CHAP_N the initiator must present */
    const char *secret;         /* the initiator's secret */
    const char *target_user;    /* mutual CHAP: the CHAP_N we answer with; NULL: mutual CHAP is refused */
    const char *target_secret;  /* mutual CHAP: our secret */
    /* Fill buf with len random bytes; 0 or -errno. NULL: getrandom(2). Tests pass a deterministic source. */
    int (*random)(void *ctx, uint8_t *buf, size_t len);
    void *random_ctx;
};

/* A configuration this module will use: secrets at least ISC_CHAP_MIN_SECRET bytes, and different secrets for
 * the two directions (RFC 7143 9.2.1). 0 or -EINVAL. */
int isc_chap_cfg_check(const struct isc_chap_cfg *cfg);

enum isc_chap_result {
    ISC_CHAP_CONTINUE = 0, /* an answer was appended; the initiator speaks next */
    ISC_CHAP_DONE,         /* the initiator is authenticated (our mutual answer, if any, was appended) */
    ISC_CHAP_AUTH_FAIL,    /* login fails: Status-Class 2, Detail 1 (authentication failure) */
    ISC_CHAP_PROTO_ERROR,  /* login fails: Status-Class 2, Detail 0 (initiator error: missing/malformed key) */
    ISC_CHAP_TARGET_ERROR, /* login fails: Status-Class 3 (no randomness, no memory) */
};

struct isc_kv {
    const char *key, *value;
};

struct isc_chap {
    const struct isc_chap_cfg *cfg;
    int state;
    uint8_t id;
    uint8_t challenge[ISC_CHAP_CHALLENGE_LEN];
};

/* Prepare for a new security stage. 0, or -EINVAL when isc_chap_cfg_check() fails. */
int isc_chap_start(struct isc_chap *c, const struct isc_chap_cfg *cfg);
/* Feed the CHAP_* pairs of one Login Request and append the target's answer to out. */
enum isc_chap_result isc_chap_step(struct isc_chap *c, const struct isc_kv *kv, unsigned n, struct isc_text *out);

#endif
