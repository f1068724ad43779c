/* CHAP for iSCSI login (RFC 7143 12.1.3, RFC 1994) and MD5 (RFC 1321). */
#include "transport/isc_chap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* ---- MD5 (RFC 1321 3.4) ---------------------------------------------------------------------------------- */

/* T[i] = floor(2^32 * |sin(i + 1)|) (RFC 1321 3.4). */
static const uint32_t md5_t[64] = {
    0xd76aa478u, 0xe8c7b756u, 0x242070dbu, 0xc1bdceeeu, 0xf57c0fafu, 0x4787c62au, 0xa8304613u, 0xfd469501u,
    0x698098d8u, 0x8b44f7afu, 0xffff5bb1u, 0x895cd7beu, 0x6b901122u, 0xfd987193u, 0xa679438eu, 0x49b40821u,
    0xf61e2562u, 0xc040b340u, 0x265e5a51u, 0xe9b6c7aau, 0xd62f105du, 0x02441453u, 0xd8a1e681u, 0xe7d3fbc8u,
    0x21e1cde6u, 0xc33707d6u, 0xf4d50d87u, 0x455a14edu, 0xa9e3e905u, 0xfcefa3f8u, 0x676f02d9u, 0x8d2a4c8au,
    0xfffa3942u, 0x8771f681u, 0x6d9d6122u, 0xfde5380cu, 0xa4beea44u, 0x4bdecfa9u, 0xf6bb4b60u, 0xbebfbc70u,
    0x289b7ec6u, 0xeaa127fau, 0xd4ef3085u, 0x04881d05u, 0xd9d4d039u, 0xe6db99e5u, 0x1fa27cf8u, 0xc4ac5665u,
    0xf4292244u, 0x432aff97u, 0xab9423a7u, 0xfc93a039u, 0x655b59c3u, 0x8f0ccc92u, 0xffeff47du, 0x85845dd1u,
    0x6fa87e4fu, 0xfe2ce6e0u, 0xa3014314u, 0x4e0811a1u, 0xf7537e82u, 0xbd3af235u, 0x2ad7d2bbu, 0xeb86d391u,
};

/* Per-round left rotations: four per round, repeated for the 16 steps of each round. */
static const uint8_t md5_s[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

static uint32_t rotl(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static void md5_block(uint32_t h[4], const uint8_t *blk)
{
    uint32_t x[16];
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];

    /* RFC 1321 3.4: words are little-endian. */
    for (unsigned i = 0; i < 16; i++)
        x[i] = (uint32_t)blk[4 * i] | (uint32_t)blk[4 * i + 1] << 8 | (uint32_t)blk[4 * i + 2] << 16 |
               (uint32_t)blk[4 * i + 3] << 24;
    for (unsigned i = 0; i < 64; i++) {
        uint32_t f;
        unsigned k, round = i / 16;
        switch (round) {
        case 0: f = (b & c) | (~b & d); k = i; break;
        case 1: f = (b & d) | (c & ~d); k = (5 * i + 1) & 15; break;
        case 2: f = b ^ c ^ d; k = (3 * i + 5) & 15; break;
        default: f = c ^ (b | ~d); k = (7 * i) & 15; break;
        }
        uint32_t t = d;
        d = c;
        c = b;
        b = b + rotl(a + f + md5_t[i] + x[k], md5_s[round][i & 3]);
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}

void isc_md5_init(struct isc_md5 *m)
{
    /* RFC 1321 3.3 */
    m->h[0] = 0x67452301u;
    m->h[1] = 0xefcdab89u;
    m->h[2] = 0x98badcfeu;
    m->h[3] = 0x10325476u;
    m->total = 0;
    m->used = 0;
}

void isc_md5_update(struct isc_md5 *m, const void *data, size_t len)
{
    const uint8_t *p = data;

    m->total += len;
    if (m->used) {
        size_t n = 64 - m->used;
        if (n > len)
            n = len;
        memcpy(m->block + m->used, p, n);
        m->used += (uint32_t)n;
        p += n;
        len -= n;
        if (m->used < 64)
            return;
        md5_block(m->h, m->block);
        m->used = 0;
    }
    while (len >= 64) {
        md5_block(m->h, p);
        p += 64;
        len -= 64;
    }
    if (len) {
        memcpy(m->block, p, len);
        m->used = (uint32_t)len;
    }
}

void isc_md5_final(struct isc_md5 *m, uint8_t out[ISC_MD5_LEN])
{
    uint64_t bits = m->total * 8;
    uint8_t pad[72] = {0x80};
    /* RFC 1321 3.1/3.2: a 1 bit, zeros to 56 mod 64, then the bit length little-endian. */
    size_t padlen = (m->used < 56) ? 56 - m->used : 120 - m->used;
    uint8_t lenb[8];

    for (unsigned i = 0; i < 8; i++)
        lenb[i] = (uint8_t)(bits >> (8 * i));
    isc_md5_update(m, pad, padlen);
    isc_md5_update(m, lenb, 8);
    for (unsigned i = 0; i < 4; i++)
        for (unsigned j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(m->h[i] >> (8 * j));
}

void isc_md5(const void *data, size_t len, uint8_t out[ISC_MD5_LEN])
{
    struct isc_md5 m;
    isc_md5_init(&m);
    isc_md5_update(&m, data, len);
    isc_md5_final(&m, out);
}

/* ---- CHAP ------------------------------------------------------------------------------------------------ */

enum { CHAP_WAIT_A = 0, CHAP_WAIT_NR, CHAP_DONE, CHAP_FAILED };

int isc_chap_cfg_check(const struct isc_chap_cfg *cfg)
{
    if (!cfg || !cfg->user || !cfg->secret || strlen(cfg->secret) < ISC_CHAP_MIN_SECRET)
        return -EINVAL;
    if (strlen(cfg->user) > ISC_SIMPLE_VALUE_MAX)
        return -EINVAL;
    if (cfg->target_user || cfg->target_secret) {
        if (!cfg->target_user || !cfg->target_secret || strlen(cfg->target_secret) < ISC_CHAP_MIN_SECRET ||
            strlen(cfg->target_user) > ISC_SIMPLE_VALUE_MAX)
            return -EINVAL;
        /* RFC 7143 9.2.1: the secret used to authenticate the initiator must not also authenticate the
         * target; otherwise an attacker can reflect one side's challenge to obtain the other's answer. */
        if (strcmp(cfg->secret, cfg->target_secret) == 0)
            return -EINVAL;
    }
    return 0;
}

int isc_chap_start(struct isc_chap *c, const struct isc_chap_cfg *cfg)
{
    memset(c, 0, sizeof(*c));
    if (isc_chap_cfg_check(cfg) < 0) {
        c->state = CHAP_FAILED;
        return -EINVAL;
    }
    c->cfg = cfg;
    c->state = CHAP_WAIT_A;
    return 0;
}

static int chap__random(const struct isc_chap_cfg *cfg, uint8_t *buf, size_t len)
{
    if (cfg->random)
        return cfg->random(cfg->random_ctx, buf, len);
    size_t got = 0;
    while (got < len) {
        ssize_t r = getrandom(buf + got, len - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)r;
    }
    return 0;
}

/* RFC 1994 4.1: Response = MD5(Identifier || secret || Challenge). */
static void chap__response(uint8_t id, const char *secret, const uint8_t *chal, size_t chal_len,
                           uint8_t out[ISC_MD5_LEN])
{
    struct isc_md5 m;
    isc_md5_init(&m);
    isc_md5_update(&m, &id, 1);
    isc_md5_update(&m, secret, strlen(secret));
    isc_md5_update(&m, chal, chal_len);
    isc_md5_final(&m, out);
}

static void chap__hex(char *dst, const uint8_t *src, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    dst[0] = '0';
    dst[1] = 'x';
    for (size_t i = 0; i < n; i++) {
        dst[2 + 2 * i] = digits[src[i] >> 4];
        dst[3 + 2 * i] = digits[src[i] & 15];
    }
    dst[2 + 2 * n] = '\0';
}

/* Compare without an early exit so that the time taken does not tell how much of a response was right. */
static bool chap__equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= a[i] ^ b[i];
    return diff == 0;
}

static enum isc_chap_result chap__fail(struct isc_chap *c, enum isc_chap_result r)
{
    c->state = CHAP_FAILED;
    return r;
}

/* RFC 7143 12.1.3: CHAP_A is a list of algorithm numbers; 5 (MD5, RFC 1994) is the only one we implement. */
static bool chap__offers_md5(const char *list)
{
    char item[16];
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len > 0 && len < sizeof(item)) {
            uint32_t v;
            memcpy(item, p, len);
            item[len] = '\0';
            if (isc_parse_number(item, &v) == 0 && v == 5)
                return true;
        }
        if (!comma)
            return false;
        p = comma + 1;
    }
}

static enum isc_chap_result chap__algorithm(struct isc_chap *c, const struct isc_kv *kv, unsigned n,
                                            struct isc_text *out)
{
    const char *alg = NULL;

    for (unsigned i = 0; i < n; i++) {
        /* Only CHAP_A belongs in the first CHAP exchange; a response before a challenge is an initiator
         * error (RFC 7143 12.1.3 fixes the order of the keys). */
        if (strcmp(kv[i].key, "CHAP_A") != 0 || alg)
            return chap__fail(c, ISC_CHAP_PROTO_ERROR);
        alg = kv[i].value;
    }
    if (!alg)
        return chap__fail(c, ISC_CHAP_PROTO_ERROR);
    if (!chap__offers_md5(alg)) {
        /* RFC 7143 12.1.3: no acceptable algorithm: answer Reject; authentication cannot proceed. */
        if (isc_text_add(out, "CHAP_A", "Reject") < 0)
            return chap__fail(c, ISC_CHAP_TARGET_ERROR);
        return chap__fail(c, ISC_CHAP_AUTH_FAIL);
    }

    uint8_t rnd[1 + ISC_CHAP_CHALLENGE_LEN];
    if (chap__random(c->cfg, rnd, sizeof(rnd)) < 0)
        return chap__fail(c, ISC_CHAP_TARGET_ERROR);
    c->id = rnd[0];
    memcpy(c->challenge, rnd + 1, ISC_CHAP_CHALLENGE_LEN);

    char idbuf[8], chal[3 + 2 * ISC_CHAP_CHALLENGE_LEN];
    snprintf(idbuf, sizeof(idbuf), "%u", (unsigned)c->id);
    chap__hex(chal, c->challenge, ISC_CHAP_CHALLENGE_LEN);
    if (isc_text_add(out, "CHAP_A", "5") < 0 || isc_text_add(out, "CHAP_I", idbuf) < 0 ||
        isc_text_add(out, "CHAP_C", chal) < 0)
        return chap__fail(c, ISC_CHAP_TARGET_ERROR);
    c->state = CHAP_WAIT_NR;
    return ISC_CHAP_CONTINUE;
}

static enum isc_chap_result chap__response_step(struct isc_chap *c, const struct isc_kv *kv, unsigned n,
                                                struct isc_text *out)
{
    const char *name = NULL, *resp = NULL, *ival = NULL, *cval = NULL;

    for (unsigned i = 0; i < n; i++) {
        const char **slot;
        if (strcmp(kv[i].key, "CHAP_N") == 0)
            slot = &name;
        else if (strcmp(kv[i].key, "CHAP_R") == 0)
            slot = &resp;
        else if (strcmp(kv[i].key, "CHAP_I") == 0)
            slot = &ival;
        else if (strcmp(kv[i].key, "CHAP_C") == 0)
            slot = &cval;
        else
            return chap__fail(c, ISC_CHAP_PROTO_ERROR);
        if (*slot) /* RFC 7143 6.1: a key is sent once */
            return chap__fail(c, ISC_CHAP_PROTO_ERROR);
        *slot = kv[i].value;
    }
    /* RFC 7143 12.1.3: CHAP_N and CHAP_R are both required; CHAP_I and CHAP_C come together or not at all. */
    if (!name || !resp || (!ival != !cval))
        return chap__fail(c, ISC_CHAP_PROTO_ERROR);

    uint8_t got[ISC_CHAP_MAX_CHALLENGE];
    int got_len = isc_parse_binary(resp, got, sizeof(got));
    if (got_len < 0)
        return chap__fail(c, ISC_CHAP_PROTO_ERROR);

    uint8_t want[ISC_MD5_LEN];
    chap__response(c->id, c->cfg->secret, c->challenge, ISC_CHAP_CHALLENGE_LEN, want);
    bool name_ok = strcmp(name, c->cfg->user) == 0;
    bool resp_ok = got_len == ISC_MD5_LEN && chap__equal(got, want, ISC_MD5_LEN);
    if (!name_ok || !resp_ok)
        return chap__fail(c, ISC_CHAP_AUTH_FAIL);

    if (!ival) {
        c->state = CHAP_DONE;
        return ISC_CHAP_DONE;
    }

    /* Mutual CHAP: the initiator authenticates us. */
    if (!c->cfg->target_user)
        return chap__fail(c, ISC_CHAP_AUTH_FAIL);
    uint32_t id;
    if (isc_parse_number(ival, &id) < 0 || id > 255)
        return chap__fail(c, ISC_CHAP_PROTO_ERROR);
    int chal_len = isc_parse_binary(cval, got, sizeof(got));
    if (chal_len <= 0)
        return chap__fail(c, ISC_CHAP_PROTO_ERROR);
    /* RFC 7143 9.2.1 / 12.1.3: a challenge equal to the one we sent is a reflection attempt (the attacker
     * would have us compute the answer to our own challenge); it fails authentication. */
    if (chal_len == ISC_CHAP_CHALLENGE_LEN && memcmp(got, c->challenge, ISC_CHAP_CHALLENGE_LEN) == 0)
        return chap__fail(c, ISC_CHAP_AUTH_FAIL);

    uint8_t mine[ISC_MD5_LEN];
    char hex[3 + 2 * ISC_MD5_LEN];
    chap__response((uint8_t)id, c->cfg->target_secret, got, (size_t)chal_len, mine);
    chap__hex(hex, mine, ISC_MD5_LEN);
    if (isc_text_add(out, "CHAP_N", c->cfg->target_user) < 0 || isc_text_add(out, "CHAP_R", hex) < 0)
        return chap__fail(c, ISC_CHAP_TARGET_ERROR);
    c->state = CHAP_DONE;
    return ISC_CHAP_DONE;
}

enum isc_chap_result isc_chap_step(struct isc_chap *c, const struct isc_kv *kv, unsigned n, struct isc_text *out)
{
    switch (c->state) {
    case CHAP_WAIT_A:
        return chap__algorithm(c, kv, n, out);
    case CHAP_WAIT_NR:
        return chap__response_step(c, kv, n, out);
    case CHAP_DONE:
        /* Authentication is over; more CHAP keys are out of place. */
        return chap__fail(c, ISC_CHAP_PROTO_ERROR);
    default:
        return ISC_CHAP_AUTH_FAIL;
    }
}
