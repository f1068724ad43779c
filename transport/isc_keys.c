/* iSCSI text keys (RFC 7143 6 and 13): the key=value codec and the target's side of operational negotiation.
 *
 * Everything here is a pure function over struct isc_params / struct isc_limits; the login and text state
 * machines (isc_conn*.c) decide when a key may appear and what a failure does to the login. */
#include "transport/isc_keys.h"

#include "common/prt_be.h"
#include "common/prt_hex.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- key table ------------------------------------------------------------------------------------------- */

enum key_type {
    KT_NONOP,       /* handled by the login/text state machine */
    KT_DIGEST,      /* list: None, CRC32C (RFC 7143 13.1) */
    KT_NUM_MIN,     /* numerical, result function Minimum */
    KT_NUM_MAX,     /* numerical, result function Maximum */
    KT_BOOL_AND,
    KT_BOOL_OR,
    KT_DECL_DSL,    /* MaxRecvDataSegmentLength: a declaration about the sender (RFC 7143 13.12) */
    KT_MARKER,      /* OFMarker / IFMarker, obsoleted (RFC 7143 13.25) */
    KT_MARKINT,     /* OFMarkInt / IFMarkInt, obsoleted (RFC 7143 13.25) */
    KT_TASKREPORT,  /* list: RFC3720, ResponseFence, FastAbort (RFC 7143 13.23) */
    KT_DECL_ANY,    /* declarative with nothing for us to do (X#NodeArchitecture, RFC 4850) */
};

enum key_param {
    KP_NONE,
    KP_HDIGEST,
    KP_DDIGEST,
    KP_MAXCONN,
    KP_IR2T,
    KP_IMMDATA,
    KP_MRDSL,
    KP_MAXBURST,
    KP_FIRSTBURST,
    KP_T2W,
    KP_T2R,
    KP_MAXR2T,
    KP_PDUORDER,
    KP_SEQORDER,
    KP_ERL,
    KP_PROTOLEVEL,
    KP_RDMA,
};

struct key_def {
    const char *name;
    unsigned char type;
    unsigned char param;
    bool irrelevant_in_discovery;
    uint32_t lo, hi;
    unsigned props;
};

#define OP ISC_KEYP_KNOWN | ISC_KEYP_OPERATIONAL
#define SW ISC_KEYP_SESSION_WIDE

/* The index of a row is its bit in struct isc_key_seen, so the table holds at most 32 rows. Ranges, result
 * functions, Use and Scope are those of RFC 7143 13.x (section in each comment). */
static const struct key_def key_tab[] = {
    /* 13.1 */
    {"HeaderDigest", KT_DIGEST, KP_HDIGEST, false, 0, 0, OP | ISC_KEYP_IO},
    {"DataDigest", KT_DIGEST, KP_DDIGEST, false, 0, 0, OP | ISC_KEYP_IO},
    /* 13.2: Irrelevant when SessionType=Discovery. */
    {"MaxConnections", KT_NUM_MIN, KP_MAXCONN, true, 1, 65535, OP | ISC_KEYP_LO | SW},
    /* 13.10, 13.11 */
    {"InitialR2T", KT_BOOL_OR, KP_IR2T, true, 0, 1, OP | ISC_KEYP_LO | SW},
    {"ImmediateData", KT_BOOL_AND, KP_IMMDATA, true, 0, 1, OP | ISC_KEYP_LO | SW},
    /* 13.12: Use ALL, declarative, connection scope. */
    {"MaxRecvDataSegmentLength", KT_DECL_DSL, KP_MRDSL, false, 512, 16777215,
     OP | ISC_KEYP_ALL | ISC_KEYP_DECLARATIVE},
    /* 13.13, 13.14 */
    {"MaxBurstLength", KT_NUM_MIN, KP_MAXBURST, true, 512, 16777215, OP | ISC_KEYP_LO | SW},
    {"FirstBurstLength", KT_NUM_MIN, KP_FIRSTBURST, true, 512, 16777215, OP | ISC_KEYP_LO | SW},
    /* 13.15 (Maximum), 13.16 (Minimum) */
    {"DefaultTime2Wait", KT_NUM_MAX, KP_T2W, false, 0, 3600, OP | ISC_KEYP_LO | SW},
    {"DefaultTime2Retain", KT_NUM_MIN, KP_T2R, false, 0, 3600, OP | ISC_KEYP_LO | SW},
    /* 13.17 */
    {"MaxOutstandingR2T", KT_NUM_MIN, KP_MAXR2T, true, 1, 65535, OP | ISC_KEYP_LO | SW},
    /* 13.18, 13.19 */
    {"DataPDUInOrder", KT_BOOL_OR, KP_PDUORDER, true, 0, 1, OP | ISC_KEYP_LO | SW},
    {"DataSequenceInOrder", KT_BOOL_OR, KP_SEQORDER, true, 0, 1, OP | ISC_KEYP_LO | SW},
    /* 13.20 */
    {"ErrorRecoveryLevel", KT_NUM_MIN, KP_ERL, false, 0, 2, OP | ISC_KEYP_LO | SW},
    /* 13.25 */
    {"OFMarker", KT_MARKER, KP_NONE, false, 0, 0, OP | ISC_KEYP_IO},
    {"IFMarker", KT_MARKER, KP_NONE, false, 0, 0, OP | ISC_KEYP_IO},
    {"OFMarkInt", KT_MARKINT, KP_NONE, false, 0, 0, OP | ISC_KEYP_IO},
    {"IFMarkInt", KT_MARKINT, KP_NONE, false, 0, 0, OP | ISC_KEYP_IO},
    /* 13.23 */
    {"TaskReporting", KT_TASKREPORT, KP_NONE, true, 0, 0, OP | ISC_KEYP_LO | SW},
    /* 13.24 (RFC 7144 2.1): this target implements protocol level 1, RFC 7143 itself. */
    {"iSCSIProtocolLevel", KT_NUM_MIN, KP_PROTOLEVEL, false, 0, 31, OP | ISC_KEYP_LO | SW},
    /* RFC 4850 / RFC 7143 13.26 */
    {"X#NodeArchitecture", KT_DECL_ANY, KP_NONE, false, 0, 0,
     OP | ISC_KEYP_LO | ISC_KEYP_ALL | ISC_KEYP_DECLARATIVE | SW},
    /* RFC 7145 (iSER): a TCP target answers No; the result function is AND. */
    {"RDMAExtensions", KT_BOOL_AND, KP_RDMA, false, 0, 1, OP | ISC_KEYP_LO | SW},
    /* Keys of the login and text state machines (RFC 7143 13.3 .. 13.9, 13.21, 12). */
    {"InitiatorName", KT_NONOP, KP_NONE, false, 0, 0,
     ISC_KEYP_KNOWN | ISC_KEYP_IO | ISC_KEYP_DECLARATIVE | SW},
    {"InitiatorAlias", KT_NONOP, KP_NONE, false, 0, 0,
     ISC_KEYP_KNOWN | ISC_KEYP_ALL | ISC_KEYP_DECLARATIVE | SW},
    {"TargetName", KT_NONOP, KP_NONE, false, 0, 0, ISC_KEYP_KNOWN | ISC_KEYP_IO | ISC_KEYP_DECLARATIVE | SW},
    {"SessionType", KT_NONOP, KP_NONE, false, 0, 0, ISC_KEYP_KNOWN | ISC_KEYP_LO | ISC_KEYP_DECLARATIVE | SW},
    {"AuthMethod", KT_NONOP, KP_NONE, false, 0, 0, ISC_KEYP_KNOWN | ISC_KEYP_SECURITY},
    {"SendTargets", KT_NONOP, KP_NONE, false, 0, 0, ISC_KEYP_KNOWN | ISC_KEYP_ALL},
    {"TargetAlias", KT_NONOP, KP_NONE, false, 0, 0, ISC_KEYP_KNOWN | ISC_KEYP_ALL | ISC_KEYP_DECLARATIVE | SW},
    {"TargetAddress", KT_NONOP, KP_NONE, false, 0, 0,
     ISC_KEYP_KNOWN | ISC_KEYP_ALL | ISC_KEYP_DECLARATIVE | SW},
    {"TargetPortalGroupTag", KT_NONOP, KP_NONE, false, 0, 0,
     ISC_KEYP_KNOWN | ISC_KEYP_IO | ISC_KEYP_DECLARATIVE | SW},
    {"CHAP_A", KT_NONOP, KP_NONE, false, 0, 0, ISC_KEYP_KNOWN | ISC_KEYP_SECURITY},
};

#undef OP
#undef SW

_Static_assert(sizeof(key_tab) / sizeof(key_tab[0]) <= 32, "struct isc_key_seen has one 32-bit mask");

static int key__index(const char *key)
{
    for (unsigned i = 0; i < PRT_ARRAY_SIZE(key_tab); i++)
        if (strcmp(key_tab[i].name, key) == 0)
            return (int)i;
    return -1;
}

unsigned isc_key_props(const char *key)
{
    int i = key__index(key);
    return i < 0 ? 0 : key_tab[i].props;
}

void isc_key_seen_reset(struct isc_key_seen *s) { s->mask = 0; }

void isc_key_mark_seen(struct isc_key_seen *s, const char *key)
{
    int i = key__index(key);
    if (i >= 0)
        s->mask |= 1u << i;
}

bool isc_key_seen_test(const struct isc_key_seen *s, const char *key)
{
    int i = key__index(key);
    return i >= 0 && (s->mask & (1u << i)) != 0;
}

bool isc_key_seen_test_and_mark(struct isc_key_seen *s, const char *key)
{
    bool was = isc_key_seen_test(s, key);
    isc_key_mark_seen(s, key);
    return was;
}

/* ---- defaults -------------------------------------------------------------------------------------------- */

void isc_params_defaults(struct isc_params *p)
{
    /* RFC 7143 13.1 .. 13.20: the value of each key before (or without) negotiation. */
    p->header_digest = false;
    p->data_digest = false;
    p->max_recv_dsl = 8192;
    p->max_send_dsl = 8192;
    p->first_burst = 65536;
    p->max_burst = 262144;
    p->max_outstanding_r2t = 1;
    p->initial_r2t = true;
    p->immediate_data = true;
    p->data_pdu_in_order = true;
    p->data_seq_in_order = true;
    p->default_time2wait = 2;
    p->default_time2retain = 20;
    p->error_recovery_level = 0;
    p->max_connections = 1;
}

void isc_limits_defaults(struct isc_limits *l)
{
    l->max_recv_dsl = 262144;
    l->max_burst = 1048576;
    l->first_burst = 262144;
    l->max_outstanding_r2t = 1;
    l->allow_crc32c = true;
    l->initial_r2t = false;
    l->immediate_data = true;
    l->default_time2retain = 20;
}

void isc_params_finalize(struct isc_params *p, const struct isc_limits *lim)
{
    p->max_recv_dsl = lim->max_recv_dsl;
    /* RFC 7143 13.14: FirstBurstLength MUST NOT exceed MaxBurstLength. The two keys are negotiated
     * independently (and in either order), so the bound is applied to the results. */
    if (p->first_burst > p->max_burst)
        p->first_burst = p->max_burst;
}

/* ---- text buffer ----------------------------------------------------------------------------------------- */

void isc_text_init(struct isc_text *t)
{
    t->buf = NULL;
    t->len = 0;
    t->cap = 0;
}

void isc_text_free(struct isc_text *t)
{
    free(t->buf);
    isc_text_init(t);
}

void isc_text_reset(struct isc_text *t) { t->len = 0; }

int isc_text_add(struct isc_text *t, const char *key, const char *value)
{
    size_t kl = strlen(key), vl = strlen(value);
    size_t need = t->len + kl + 1 + vl + 1;

    if (need < t->len)
        return -ENOMEM;
    if (need > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < need)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b)
            return -ENOMEM;
        t->buf = b;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, key, kl);
    t->buf[t->len + kl] = '=';
    memcpy(t->buf + t->len + kl + 1, value, vl);
    t->buf[t->len + kl + 1 + vl] = '\0';
    t->len = need;
    return 0;
}

/* ---- text iterator --------------------------------------------------------------------------------------- */

void isc_text_iter_init(struct isc_text_iter *it, const uint8_t *data, size_t len)
{
    it->p = data;
    it->end = data ? data + len : data;
}

/* RFC 7143 6.1: key names use letters, digits, '.', '-', '+', '@' and '_' (and '#' in X#... names, RFC 4850). */
static bool text__key_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '+' || c == '@' || c == '_' || c == '#';
}

int isc_text_next(struct isc_text_iter *it, char *key, size_t keycap, char *val, size_t valcap)
{
    /* Stray NUL delimiters (empty pairs, or zero padding a sender counted in DataSegmentLength) separate
     * nothing; skip them rather than fail a whole negotiation over them. */
    while (it->p < it->end && *it->p == 0)
        it->p++;
    if (it->p >= it->end)
        return 0;

    const uint8_t *start = it->p;
    const uint8_t *nul = memchr(start, 0, (size_t)(it->end - start));
    /* RFC 7143 6.1: every pair, including the last, is followed by a NUL. A pair cut off by the end of the
     * segment is malformed here; text continued over several PDUs (C bit) is joined by the caller first. */
    if (!nul) {
        it->p = it->end;
        return -EINVAL;
    }
    it->p = nul + 1;

    const uint8_t *eq = memchr(start, '=', (size_t)(nul - start));
    if (!eq || eq == start)
        return -EINVAL;
    size_t kl = (size_t)(eq - start), vl = (size_t)(nul - eq - 1);
    if (kl > ISC_KEY_NAME_MAX || kl >= keycap || vl > ISC_VALUE_MAX || vl >= valcap)
        return -EINVAL;
    for (size_t i = 0; i < kl; i++)
        if (!text__key_char(start[i]))
            return -EINVAL;
    /* Values are UTF-8 text (RFC 7143 6.1); control characters cannot occur in any defined value. */
    for (size_t i = 0; i < vl; i++)
        if (eq[1 + i] < 0x20 || eq[1 + i] == 0x7f)
            return -EINVAL;
    memcpy(key, start, kl);
    key[kl] = '\0';
    memcpy(val, eq + 1, vl);
    val[vl] = '\0';
    return 1;
}

/* ---- value parsing --------------------------------------------------------------------------------------- */


int isc_parse_number(const char *s, uint32_t *out)
{
    uint64_t v = 0;

    if (!s || !*s)
        return -EINVAL;
    /* RFC 7143 6.1: a regular numerical value is a decimal-constant or a hex-constant, less than 2^32. */
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        if (!*s)
            return -EINVAL;
        for (; *s; s++) {
            int h = prt_hexval((unsigned char)*s);
            if (h < 0)
                return -EINVAL;
            v = (v << 4) | (unsigned)h;
            if (v > UINT32_MAX)
                return -EINVAL;
        }
    } else {
        for (; *s; s++) {
            if (*s < '0' || *s > '9')
                return -EINVAL;
            v = v * 10 + (unsigned)(*s - '0');
            if (v > UINT32_MAX)
                return -EINVAL;
        }
    }
    *out = (uint32_t)v;
    return 0;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int isc_parse_binary(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;

    if (!s || s[0] != '0' || !s[1] || !s[2])
        return -EINVAL;
    if (s[1] == 'x' || s[1] == 'X') {
        /* RFC 7143 6.1 hex-constant: an odd digit count has an implied leading zero. */
        const char *d = s + 2;
        size_t nd = strlen(d);
        size_t i = 0;
        if (nd & 1) {
            int h = prt_hexval((unsigned char)d[0]);
            if (h < 0 || cap < 1)
                return -EINVAL;
            out[n++] = (uint8_t)h;
            i = 1;
        }
        for (; i < nd; i += 2) {
            int hi = prt_hexval((unsigned char)d[i]), lo = prt_hexval((unsigned char)d[i + 1]);
            if (hi < 0 || lo < 0 || n >= cap)
                return -EINVAL;
            out[n++] = (uint8_t)(hi << 4 | lo);
        }
    } else if (s[1] == 'b' || s[1] == 'B') {
        /* RFC 7143 6.1 base64-constant (RFC 4648 alphabet, '=' padding). */
        const char *d = s + 2;
        uint32_t acc = 0;
        unsigned bits = 0, pad = 0, chars = 0;
        for (; *d; d++) {
            if (*d == '=') {
                pad++;
                continue;
            }
            if (pad)
                return -EINVAL;
            int v = b64val((unsigned char)*d);
            if (v < 0)
                return -EINVAL;
            chars++;
            acc = (acc << 6) | (unsigned)v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                if (n >= cap)
                    return -EINVAL;
                out[n++] = (uint8_t)(acc >> bits);
            }
        }
        if (pad > 2 || ((chars + pad) & 3) != 0 || chars == 0)
            return -EINVAL;
    } else {
        return -EINVAL;
    }
    if (n > (size_t)INT32_MAX)
        return -EINVAL;
    return (int)n;
}

static int parse_bool(const char *v, bool *out)
{
    if (strcmp(v, "Yes") == 0) {
        *out = true;
        return 0;
    }
    if (strcmp(v, "No") == 0) {
        *out = false;
        return 0;
    }
    return -EINVAL;
}

/* ---- negotiation ----------------------------------------------------------------------------------------- */

static enum isc_key_result answer(struct isc_text *out, const char *key, const char *value,
                                  enum isc_key_result r)
{
    if (isc_text_add(out, key, value) < 0)
        return ISC_KEY_FATAL;
    return r;
}

static enum isc_key_result answer_num(struct isc_text *out, const char *key, uint32_t v)
{
    char b[16];
    snprintf(b, sizeof(b), "%u", (unsigned)v);
    return answer(out, key, b, ISC_KEY_OK);
}

/* RFC 7143 6.2.1: the responder answers with the first value of the offered list that it supports, or Reject
 * when it supports none. Returns the index in `ours` of the chosen value, or -1. */
static int pick_from_list(const char *list, const char *const *ours, unsigned n_ours, bool *malformed)
{
    const char *p = list;
    *malformed = false;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len > ISC_SIMPLE_VALUE_MAX) {
            *malformed = true;
            return -1;
        }
        for (unsigned i = 0; i < n_ours; i++)
            if (ours[i] && strlen(ours[i]) == len && memcmp(ours[i], p, len) == 0)
                return (int)i;
        if (!comma)
            return -1;
        p = comma + 1;
    }
}

static void set_num(struct isc_params *p, unsigned param, uint32_t v)
{
    switch (param) {
    case KP_MAXCONN: p->max_connections = v; break;
    case KP_MAXBURST: p->max_burst = v; break;
    case KP_FIRSTBURST: p->first_burst = v; break;
    case KP_T2W: p->default_time2wait = v; break;
    case KP_T2R: p->default_time2retain = v; break;
    case KP_MAXR2T: p->max_outstanding_r2t = v; break;
    case KP_ERL: p->error_recovery_level = v; break;
    default: break; /* iSCSIProtocolLevel has no field: level 1 changes nothing we do. */
    }
}

/* Our side of each Minimum/Maximum key: the value we would pick if the initiator allowed anything. */
static uint32_t our_num(const struct isc_limits *lim, unsigned param)
{
    switch (param) {
    case KP_MAXCONN:
        return 1; /* one connection per session: no multiple-connection sessions here */
    case KP_MAXBURST:
        return lim->max_burst;
    case KP_FIRSTBURST:
        return lim->first_burst;
    case KP_T2W:
        return 0; /* Maximum: answering the offered value is always allowed */
    case KP_T2R:
        return lim->default_time2retain;
    case KP_MAXR2T:
        return lim->max_outstanding_r2t ? lim->max_outstanding_r2t : 1;
    case KP_ERL:
        return 0; /* only within-connection recovery level 0 is implemented (RFC 7143 7.1.5) */
    case KP_PROTOLEVEL:
        return 1;
    default:
        return 0;
    }
}

static bool our_bool(const struct isc_limits *lim, unsigned param)
{
    switch (param) {
    case KP_IR2T:
        return lim->initial_r2t;
    case KP_IMMDATA:
        return lim->immediate_data;
    case KP_PDUORDER:
    case KP_SEQORDER:
        /* With ErrorRecoveryLevel 0 we keep no machinery for reordering Data-Out PDUs or sequences, so we
         * ask for ordered data; the result function OR then makes the result Yes. */
        return true;
    case KP_RDMA:
        return false;
    default:
        return false;
    }
}

static void set_bool(struct isc_params *p, unsigned param, bool v)
{
    switch (param) {
    case KP_IR2T: p->initial_r2t = v; break;
    case KP_IMMDATA: p->immediate_data = v; break;
    case KP_PDUORDER: p->data_pdu_in_order = v; break;
    case KP_SEQORDER: p->data_seq_in_order = v; break;
    default: break;
    }
}

static bool is_response_constant(const char *v)
{
    return strcmp(v, "Reject") == 0 || strcmp(v, "Irrelevant") == 0 || strcmp(v, "NotUnderstood") == 0;
}

enum isc_key_result isc_key_negotiate(struct isc_params *p, const struct isc_limits *lim, bool discovery,
                                      const char *key, const char *value, struct isc_text *out)
{
    struct isc_key_ctx ctx = {.discovery = discovery, .ffp = false};
    return isc_key_negotiate_ex(p, lim, &ctx, key, value, out);
}

enum isc_key_result isc_key_negotiate_ex(struct isc_params *p, const struct isc_limits *lim,
                                         const struct isc_key_ctx *ctx, const char *key, const char *value,
                                         struct isc_text *out)
{
    int idx = key__index(key);

    if (idx < 0) {
        /* RFC 7143 6.2 and 13.22: a key we do not know, private X- extensions included, is answered
         * NotUnderstood. */
        if (strlen(key) > ISC_KEY_NAME_MAX)
            return ISC_KEY_FATAL;
        return answer(out, key, "NotUnderstood", ISC_KEY_OK);
    }
    const struct key_def *d = &key_tab[idx];
    if (d->type == KT_NONOP)
        return ISC_KEY_NOT_OPERATIONAL;

    /* RFC 7143 6.2: Reject, Irrelevant and NotUnderstood are answers, never offers. The target offers none of
     * these keys, so such a value answers nothing; the key keeps its default. */
    if (is_response_constant(value))
        return ISC_KEY_OK;

    /* RFC 7143 6.1: outside of a list, a value is at most 255 bytes. */
    if (strlen(value) > ISC_SIMPLE_VALUE_MAX && d->type != KT_DIGEST && d->type != KT_TASKREPORT)
        return answer(out, key, "Reject", ISC_KEY_REJECT);

    /* Only keys of Use "ALL" may be negotiated in full feature phase (RFC 7143 6.2, 13 "Use"). */
    if (ctx->ffp && !(d->props & ISC_KEYP_ALL))
        return answer(out, key, "Reject", ISC_KEY_REJECT);

    /* RFC 7143 13.x "Irrelevant when: SessionType=Discovery". */
    if (ctx->discovery && d->irrelevant_in_discovery)
        return answer(out, key, "Irrelevant", ISC_KEY_OK);
    /* RFC 7143 13.14: FirstBurstLength is irrelevant when no unsolicited data can flow (InitialR2T=Yes and
     * ImmediateData=No). Only results already negotiated count: keys are answered in the order offered. */
    if (d->param == KP_FIRSTBURST && p->initial_r2t && !p->immediate_data)
        return answer(out, key, "Irrelevant", ISC_KEY_OK);

    switch (d->type) {
    case KT_DIGEST: {
        const char *ours[2] = {"None", lim->allow_crc32c ? "CRC32C" : NULL};
        bool bad;
        int i = pick_from_list(value, ours, 2, &bad);
        if (i < 0)
            return answer(out, key, "Reject", ISC_KEY_REJECT);
        if (d->param == KP_HDIGEST)
            p->header_digest = i == 1;
        else
            p->data_digest = i == 1;
        return answer(out, key, ours[i], ISC_KEY_OK);
    }
    case KT_TASKREPORT: {
        /* RFC 7143 13.23: only the RFC 3720 semantics are implemented (no ResponseFence, no FastAbort). */
        const char *ours[1] = {"RFC3720"};
        bool bad;
        if (pick_from_list(value, ours, 1, &bad) < 0)
            return answer(out, key, "Reject", ISC_KEY_REJECT);
        return answer(out, key, "RFC3720", ISC_KEY_OK);
    }
    case KT_NUM_MIN:
    case KT_NUM_MAX: {
        uint32_t v;
        if (isc_parse_number(value, &v) < 0 || v < d->lo || v > d->hi)
            return answer(out, key, "Reject", ISC_KEY_REJECT);
        uint32_t mine = our_num(lim, d->param);
        if (mine < d->lo)
            mine = d->lo;
        if (mine > d->hi)
            mine = d->hi;
        uint32_t res = d->type == KT_NUM_MIN ? (v < mine ? v : mine) : (v > mine ? v : mine);
        set_num(p, d->param, res);
        return answer_num(out, key, res);
    }
    case KT_BOOL_AND:
    case KT_BOOL_OR: {
        bool v;
        if (parse_bool(value, &v) < 0)
            return answer(out, key, "Reject", ISC_KEY_REJECT);
        bool mine = our_bool(lim, d->param);
        bool res = d->type == KT_BOOL_AND ? (v && mine) : (v || mine);
        set_bool(p, d->param, res);
        return answer(out, key, res ? "Yes" : "No", ISC_KEY_OK);
    }
    case KT_DECL_DSL: {
        uint32_t v;
        if (isc_parse_number(value, &v) < 0 || v < d->lo || v > d->hi)
            return answer(out, key, "Reject", ISC_KEY_REJECT);
        /* RFC 7143 13.12: the initiator declares what it can receive; it bounds what we send. No answer. */
        p->max_send_dsl = v;
        return ISC_KEY_OK;
    }
    case KT_MARKER:
        /* RFC 7143 13.25: markers are obsolete; an implementation SHOULD answer Reject (and must never answer
         * NotUnderstood). */
        return answer(out, key, "Reject", ISC_KEY_OK);
    case KT_MARKINT:
        /* RFC 7143 13.25: OFMarkInt/IFMarkInt MUST be answered Reject. */
        return answer(out, key, "Reject", ISC_KEY_OK);
    case KT_DECL_ANY:
        return ISC_KEY_OK;
    default:
        return answer(out, key, "NotUnderstood", ISC_KEY_OK);
    }
}

int isc_key_declare_missing(const struct isc_params *p, const struct isc_limits *lim, bool discovery,
                            const struct isc_key_seen *s, struct isc_text *out)
{
    char b[16];

    /* RFC 7143 13.12: MaxRecvDataSegmentLength is declared by each side for itself, whether or not the
     * initiator declared its own; without our declaration the initiator must assume the default 8192. */
    snprintf(b, sizeof(b), "%u", (unsigned)lim->max_recv_dsl);
    return isc_text_add(out, "MaxRecvDataSegmentLength", b);
}
