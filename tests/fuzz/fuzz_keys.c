/* Fuzz target: text keys (transport/isc_keys.c) and CHAP (transport/isc_chap.c).
 *
 * Input layout: byte 0 = flags (bit 0 discovery session, bit 1 full feature phase, bit 2 CRC32C allowed,
 * bit 3 mutual CHAP configured, bit 4 run CHAP on the CHAP_* keys), the rest = a text data segment.
 *
 * Oracle: every pair the iterator yields is a valid key name and value; every answer the negotiation writes
 * parses back as key=value pairs; after negotiation each parameter lies inside its RFC 7143 13 range and
 * inside our limits; a key offered twice is reported by the seen set. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/isc_chap.h"
#include "transport/isc_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fixed_random(void *ctx, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 37 + 11);
    return 0;
}

static void check_answers(const struct isc_text *out)
{
    static char k[ISC_KEY_NAME_MAX + 1], v[ISC_VALUE_MAX + 1];
    struct isc_text_iter it;
    isc_text_iter_init(&it, (const uint8_t *)out->buf, out->len);
    int r;
    while ((r = isc_text_next(&it, k, sizeof(k), v, sizeof(v))) == 1)
        ;
    if (r != 0)
        abort();
}

static void check_params(const struct isc_params *p, const struct isc_limits *lim)
{
    if (p->max_burst < 512 || p->max_burst > lim->max_burst)
        abort();
    if (p->first_burst < 512 || p->first_burst > p->max_burst)
        abort();
    if (p->max_send_dsl < 512 || p->max_send_dsl > 16777215)
        abort();
    if (p->max_outstanding_r2t < 1 || p->max_outstanding_r2t > lim->max_outstanding_r2t)
        abort();
    if (p->default_time2wait > 3600 || p->default_time2retain > 3600)
        abort();
    if (p->error_recovery_level != 0 || p->max_connections != 1)
        abort();
    if (!p->data_pdu_in_order || !p->data_seq_in_order)
        abort();
    if ((p->header_digest || p->data_digest) && !lim->allow_crc32c)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    struct isc_params p;
    struct isc_limits lim;
    struct isc_text out;
    struct isc_key_seen seen;
    struct isc_key_ctx ctx = {.discovery = flags & 1, .ffp = (flags & 2) != 0};
    static char key[ISC_KEY_NAME_MAX + 1], val[ISC_VALUE_MAX + 1];

    isc_params_defaults(&p);
    isc_limits_defaults(&lim);
    lim.allow_crc32c = flags & 4;
    isc_text_init(&out);
    isc_key_seen_reset(&seen);

    struct isc_chap_cfg cfg = {
        .user = "iqn.2026-11.org.fuzz:init",
        .secret = "fuzz-initiator-secret",
        .target_user = (flags & 8) ? "iqn.2026-11.org.prtarget:disk" : NULL,
        .target_secret = (flags & 8) ? "fuzz-target-secret-2" : NULL,
        .random = fixed_random,
    };
    struct isc_chap chap;
    if (isc_chap_start(&chap, &cfg) != 0)
        abort();
    struct isc_kv kv[8];
    char kvbuf[8][2][ISC_VALUE_MAX + 1];
    unsigned nkv = 0;

    struct isc_text_iter it;
    isc_text_iter_init(&it, data + 1, size - 1);
    int r;
    while ((r = isc_text_next(&it, key, sizeof(key), val, sizeof(val))) != 0) {
        if (r < 0)
            continue;
        size_t kl = strlen(key);
        if (kl == 0 || kl > ISC_KEY_NAME_MAX || strlen(val) > ISC_VALUE_MAX)
            abort();
        bool known = isc_key_props(key) != 0;
        bool dup = isc_key_seen_test_and_mark(&seen, key);
        if (!known && dup)
            abort();
        if (known && !isc_key_seen_test(&seen, key))
            abort();

        uint32_t num;
        uint8_t bin[64];
        (void)isc_parse_number(val, &num);
        (void)isc_parse_binary(val, bin, sizeof(bin));

        if ((flags & 16) && strncmp(key, "CHAP_", 5) == 0) {
            if (nkv < 8) {
                strcpy(kvbuf[nkv][0], key);
                strcpy(kvbuf[nkv][1], val);
                kv[nkv].key = kvbuf[nkv][0];
                kv[nkv].value = kvbuf[nkv][1];
                nkv++;
            }
            continue;
        }
        enum isc_key_result res = isc_key_negotiate_ex(&p, &lim, &ctx, key, val, &out);
        if (res > ISC_KEY_FATAL)
            abort();
    }
    if (nkv) {
        /* One exchange with the CHAP_A found, then one with the rest, as two Login Requests would. */
        struct isc_text chap_out;
        isc_text_init(&chap_out);
        enum isc_chap_result cr = isc_chap_step(&chap, kv, 1, &chap_out);
        if (cr == ISC_CHAP_CONTINUE && nkv > 1)
            cr = isc_chap_step(&chap, kv + 1, nkv - 1, &chap_out);
        if (cr > ISC_CHAP_TARGET_ERROR)
            abort();
        check_answers(&chap_out);
        isc_text_free(&chap_out);
    }
    if (isc_key_declare_missing(&p, &lim, ctx.discovery, &seen, &out) != 0)
        abort();
    isc_params_finalize(&p, &lim);
    check_answers(&out);
    check_params(&p, &lim);
    isc_text_free(&out);
    return 0;
}
