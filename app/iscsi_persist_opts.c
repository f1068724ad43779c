/* iscsi-persist command line: sg_persist 0.67's options, parsed the same way and refused with the same exit
 * statuses, plus the two things an iSCSI initiator needs that a device node does not (--initiator-name and
 * --isid select the I_T nexus). Every refusal is one line on the error stream. */
#include "app/iscsi_persist.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <string.h>

#include "common/prt_be.h"
#include "common/prt_hex.h"

#define ME "iscsi-persist"

/* Long-only options get values outside the range of a short option character. */
enum { OPT_INITIATOR_NAME = 0x100, OPT_ISID };

/* SPC-4 7.6.1 (Table 444) protocol identifiers that have a symbolic TransportID form in sg_persist. */
enum {
    TPROTO_FCP = 0x0,
    TPROTO_SPI = 0x1,
    TPROTO_1394 = 0x3,
    TPROTO_SRP = 0x4,
    TPROTO_ISCSI = 0x5,
    TPROTO_SAS = 0x6,
    TPROTO_SOP = 0xa,
};

/* RFC 7143 4.2.7.1: an iSCSI name is at most 223 bytes. */
#define ISCSI_NAME_MAX 223u
/* SPC-4 7.6.4.1: every TransportID except iSCSI's is exactly 24 bytes; iSCSI's is at least 24. */
#define TID_MIN_LEN 24u

static const struct option long_opts[] = {
    {"alloc-length", required_argument, NULL, 'l'},
    {"alloc_length", required_argument, NULL, 'l'},
    {"clear", no_argument, NULL, 'C'},
    {"device", required_argument, NULL, 'd'},
    {"help", no_argument, NULL, 'h'},
    {"hex", no_argument, NULL, 'H'},
    {"in", no_argument, NULL, 'i'},
    {"initiator-name", required_argument, NULL, OPT_INITIATOR_NAME},
    {"initiator_name", required_argument, NULL, OPT_INITIATOR_NAME},
    {"isid", required_argument, NULL, OPT_ISID},
    {"maxlen", required_argument, NULL, 'm'},
    {"no-inquiry", no_argument, NULL, 'n'},
    {"no_inquiry", no_argument, NULL, 'n'},
    {"out", no_argument, NULL, 'o'},
    {"param-alltgpt", no_argument, NULL, 'Y'},
    {"param_alltgpt", no_argument, NULL, 'Y'},
    {"param-aptpl", no_argument, NULL, 'Z'},
    {"param_aptpl", no_argument, NULL, 'Z'},
    {"param-rk", required_argument, NULL, 'K'},
    {"param_rk", required_argument, NULL, 'K'},
    {"param-sark", required_argument, NULL, 'S'},
    {"param_sark", required_argument, NULL, 'S'},
    {"param-unreg", no_argument, NULL, 'U'},
    {"param_unreg", no_argument, NULL, 'U'},
    {"preempt", no_argument, NULL, 'P'},
    {"preempt-abort", no_argument, NULL, 'A'},
    {"preempt_abort", no_argument, NULL, 'A'},
    {"prout-type", required_argument, NULL, 'T'},
    {"prout_type", required_argument, NULL, 'T'},
    {"read-full-status", no_argument, NULL, 's'},
    {"read_full_status", no_argument, NULL, 's'},
    {"read-keys", no_argument, NULL, 'k'},
    {"read_keys", no_argument, NULL, 'k'},
    {"readonly", no_argument, NULL, 'y'},
    {"read-reservation", no_argument, NULL, 'r'},
    {"read_reservation", no_argument, NULL, 'r'},
    {"read-status", no_argument, NULL, 's'},
    {"read_status", no_argument, NULL, 's'},
    {"register", no_argument, NULL, 'G'},
    {"register-ignore", no_argument, NULL, 'I'},
    {"register_ignore", no_argument, NULL, 'I'},
    {"register-move", no_argument, NULL, 'M'},
    {"register_move", no_argument, NULL, 'M'},
    {"release", no_argument, NULL, 'L'},
    {"relative-target-port", required_argument, NULL, 'Q'},
    {"relative_target_port", required_argument, NULL, 'Q'},
    {"replace-lost", no_argument, NULL, 'z'},
    {"replace_lost", no_argument, NULL, 'z'},
    {"report-capabilities", no_argument, NULL, 'c'},
    {"report_capabilities", no_argument, NULL, 'c'},
    {"reserve", no_argument, NULL, 'R'},
    {"transport-id", required_argument, NULL, 'X'},
    {"transport_id", required_argument, NULL, 'X'},
    {"unreg", no_argument, NULL, 'U'},
    {"verbose", no_argument, NULL, 'v'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* The leading ':' makes getopt report a missing argument as ':' and stay silent, so every message is ours.
 * '-x' is accepted for REPLACE LOST RESERVATION because sg_persist's own --help names it, although its parser
 * only knows '-z'. */
static const char short_opts[] = ":AcCd:GHhiIkK:l:Lm:MnoPQ:rRsS:T:UvVxX:yYzZ";


static const char *skip_0x(const char *s)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return s + 2;
    return s;
}

int prt_persist_parse_hex64(const char *s, uint64_t *v)
{
    uint64_t acc = 0;
    size_t n = 0;

    s = skip_0x(s);
    for (; s[n] != '\0'; n++) {
        int d = prt_hexval((unsigned char)s[n]);
        if (d < 0 || n >= 16)
            return -EINVAL;
        acc = (acc << 4) | (uint64_t)d;
    }
    if (n == 0)
        return -EINVAL;
    *v = acc;
    return 0;
}

static int parse_hex32_max(const char *s, uint32_t max, uint32_t *v)
{
    uint64_t x;

    if (prt_persist_parse_hex64(s, &x) != 0 || x > max)
        return -EINVAL;
    *v = (uint32_t)x;
    return 0;
}

int prt_persist_parse_num(const char *s, uint32_t *v)
{
    uint64_t acc = 0;
    size_t len = strlen(s);

    if (len == 0)
        return -EINVAL;
    /* sg3_utils' sg_get_num(): "0x" prefix or "h" suffix means hex. */
    if ((s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) || s[len - 1] == 'h' || s[len - 1] == 'H') {
        char tmp[24];
        const char *digits = s;
        size_t dl = len;
        if (s[len - 1] == 'h' || s[len - 1] == 'H')
            dl = len - 1;
        if (dl == 0 || dl >= sizeof(tmp))
            return -EINVAL;
        memcpy(tmp, digits, dl);
        tmp[dl] = '\0';
        if (prt_persist_parse_hex64(tmp, &acc) != 0 || acc > UINT32_MAX)
            return -EINVAL;
        *v = (uint32_t)acc;
        return 0;
    }
    size_t i = 0;
    for (; i < len && isdigit((unsigned char)s[i]); i++) {
        acc = acc * 10 + (uint64_t)(s[i] - '0');
        if (acc > UINT32_MAX)
            return -EINVAL;
    }
    if (i == 0)
        return -EINVAL;
    if (i < len) {
        uint64_t mult;
        if (i + 1 != len)
            return -EINVAL;
        switch (s[i]) {
        case 'k': case 'K': mult = 1024; break;
        case 'm': case 'M': mult = 1024 * 1024; break;
        case 'c': case 'C': mult = 1; break;
        default: return -EINVAL;
        }
        acc *= mult;
        if (acc > UINT32_MAX)
            return -EINVAL;
    }
    *v = (uint32_t)acc;
    return 0;
}

int prt_persist_parse_isid(const char *s, uint8_t isid[6])
{
    uint8_t b[6];
    s = skip_0x(s);
    if (strlen(s) != 12)
        return -EINVAL;
    for (int i = 0; i < 6; i++) {
        int hi = prt_hexval((unsigned char)s[2 * i]), lo = prt_hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        b[i] = (uint8_t)((hi << 4) | lo);
    }
    /* RFC 7143 10.12.5: the T field (top two bits) picks the ISID format. libiscsi can only send an OUI-format
     * ISID with any A field, and fixes the rest of byte 0 to zero for the EN and random formats and the whole
     * ISID to zero for the reserved format, so anything else could not be the ISID actually logged in with. */
    switch (b[0] >> 6) {
    case 0:
        break;
    case 1:
    case 2:
        if ((b[0] & 0x3f) != 0)
            return -EINVAL;
        break;
    default:
        if (b[0] != 0xc0 || b[1] || b[2] || b[3] || b[4] || b[5])
            return -EINVAL;
        break;
    }
    memcpy(isid, b, 6);
    return 0;
}

static bool is_iscsi_name_start(const char *s, size_t len)
{
    /* RFC 7143 4.2.7.2: the three iSCSI name types start with these prefixes. */
    return len > 4 && (strncmp(s, "iqn.", 4) == 0 || strncmp(s, "eui.", 4) == 0 || strncmp(s, "naa.", 4) == 0);
}

int prt_persist_iscsi_tid(const char *s, size_t slen, uint8_t *tid)
{
    static const char sep[] = ",i,0x";
    const size_t seplen = sizeof(sep) - 1;
    size_t namelen = slen;
    bool with_isid = false;

    if (!is_iscsi_name_start(s, slen))
        return -EINVAL;
    for (size_t i = 0; i + seplen <= slen; i++) {
        if (memcmp(s + i, sep, seplen) == 0) {
            namelen = i;
            with_isid = true;
            break;
        }
    }
    if (namelen > ISCSI_NAME_MAX)
        return -EINVAL;
    if (with_isid) {
        /* SPC-4 7.6.4.6 format 01b: the separator is followed by the ISID as 12 hex digits. */
        const char *isid = s + namelen + seplen;
        size_t isidlen = slen - namelen - seplen;
        if (isidlen != 12)
            return -EINVAL;
        for (size_t i = 0; i < isidlen; i++)
            if (prt_hexval((unsigned char)isid[i]) < 0)
                return -EINVAL;
    }
    for (size_t i = 0; i < namelen; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == ',')
            return -EINVAL;
    /* SPC-4 7.6.4.6: the name is NUL-terminated and padded to a multiple of four bytes, and the ADDITIONAL
     * LENGTH (bytes 2-3) is at least 20 so that the TransportID is at least 24 bytes long. */
    size_t alen = (slen + 1 + 3) & ~(size_t)3;
    if (alen < TID_MIN_LEN - 4)
        alen = TID_MIN_LEN - 4;
    if (4 + alen > PRT_PERSIST_TID_MAX)
        return -EINVAL;
    memset(tid, 0, 4 + alen);
    tid[0] = (uint8_t)((with_isid ? 0x40 : 0x00) | TPROTO_ISCSI);
    prt_put_be16(tid + 2, (uint16_t)alen);
    memcpy(tid + 4, s, slen);
    return (int)(4 + alen);
}

/* "sas,<16 hex>" and friends: a fixed number of hex digits written big-endian at a fixed offset. */
static int hex_digits_to(const char *s, size_t slen, size_t ndigits, uint8_t *dst)
{
    if (slen != ndigits)
        return -EINVAL;
    for (size_t i = 0; i < ndigits; i += 2) {
        int hi = prt_hexval((unsigned char)s[i]), lo = prt_hexval((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        dst[i / 2] = (uint8_t)((hi << 4) | lo);
    }
    return 0;
}

static bool prefix_ci(const char *s, size_t slen, const char *lower)
{
    size_t n = strlen(lower);
    if (slen < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)s[i]) != lower[i])
            return false;
    return true;
}

static int parse_decimal(const char *s, size_t len, uint32_t max, uint32_t *v)
{
    uint64_t acc = 0;
    if (len == 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -EINVAL;
        acc = acc * 10 + (uint64_t)(s[i] - '0');
        if (acc > max)
            return -EINVAL;
    }
    *v = (uint32_t)acc;
    return 0;
}

/* One TransportID in a transport-specific symbolic form (sg_persist(8) "TRANSPORT IDs"). Returns its length,
 * 0 when s is not symbolic, or -EINVAL when it is symbolic but malformed. */
static int symbolic_tid(const char *s, size_t slen, uint8_t *tid)
{
    if (is_iscsi_name_start(s, slen))
        return prt_persist_iscsi_tid(s, slen, tid);
    memset(tid, 0, TID_MIN_LEN);
    /* SPC-4 7.6.4.7 (SAS): SAS ADDRESS in bytes 4-11. */
    if (prefix_ci(s, slen, "sas,")) {
        tid[0] = TPROTO_SAS;
        return hex_digits_to(s + 4, slen - 4, 16, tid + 4) ? -EINVAL : (int)TID_MIN_LEN;
    }
    /* SPC-4 7.6.4.2 (FCP): N_PORT_NAME in bytes 8-15. */
    if (prefix_ci(s, slen, "fcp,")) {
        tid[0] = TPROTO_FCP;
        return hex_digits_to(s + 4, slen - 4, 16, tid + 8) ? -EINVAL : (int)TID_MIN_LEN;
    }
    /* SPC-4 7.6.4.4 (IEEE 1394): EUI-64 NAME in bytes 8-15. */
    if (prefix_ci(s, slen, "sbp,")) {
        tid[0] = TPROTO_1394;
        return hex_digits_to(s + 4, slen - 4, 16, tid + 8) ? -EINVAL : (int)TID_MIN_LEN;
    }
    /* SPC-4 7.6.4.5 (SRP): INITIATOR PORT IDENTIFIER in bytes 8-23. */
    if (prefix_ci(s, slen, "srp,")) {
        tid[0] = TPROTO_SRP;
        return hex_digits_to(s + 4, slen - 4, 32, tid + 8) ? -EINVAL : (int)TID_MIN_LEN;
    }
    /* SPC-4 7.6.4.3 (SPI): SCSI ADDRESS in bytes 2-3, RELATIVE TARGET PORT IDENTIFIER in bytes 6-7. */
    if (prefix_ci(s, slen, "spi,")) {
        const char *a = s + 4, *comma = memchr(a, ',', slen - 4);
        uint32_t addr, rtpi;
        if (comma == NULL || parse_decimal(a, (size_t)(comma - a), 0xffff, &addr) != 0 ||
            parse_decimal(comma + 1, slen - (size_t)(comma + 1 - s), 0xffff, &rtpi) != 0)
            return -EINVAL;
        tid[0] = TPROTO_SPI;
        prt_put_be16(tid + 2, (uint16_t)addr);
        prt_put_be16(tid + 6, (uint16_t)rtpi);
        return (int)TID_MIN_LEN;
    }
    /* SPC-4 7.6.4.8 (SOP): ROUTING ID in bytes 2-3. */
    if (prefix_ci(s, slen, "sop,")) {
        char tmp[8];
        uint64_t rid;
        if (slen - 4 == 0 || slen - 4 >= sizeof(tmp))
            return -EINVAL;
        memcpy(tmp, s + 4, slen - 4);
        tmp[slen - 4] = '\0';
        if (prt_persist_parse_hex64(tmp, &rid) != 0 || rid > 0xffff)
            return -EINVAL;
        tid[0] = TPROTO_SOP;
        prt_put_be16(tid + 2, (uint16_t)rid);
        return (int)TID_MIN_LEN;
    }
    return 0;
}

/* A TransportID as a list of hex bytes separated by commas, spaces or tabs. The length comes from the bytes
 * themselves: an iSCSI TransportID's ADDITIONAL LENGTH, every other protocol's fixed 24 bytes. The contents are
 * otherwise taken as given, so that a tester can send a malformed TransportID on purpose. */
static int hex_list_tid(const char *s, size_t slen, uint8_t *tid, FILE *err, const char *where)
{
    size_t n = 0, i = 0;

    memset(tid, 0, PRT_PERSIST_TID_MAX);
    while (i < slen) {
        while (i < slen && (s[i] == ',' || s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i >= slen)
            break;
        size_t start = i;
        if (s[i] == '0' && i + 1 < slen && (s[i + 1] == 'x' || s[i + 1] == 'X'))
            i += 2;
        unsigned v = 0, digits = 0;
        while (i < slen && prt_hexval((unsigned char)s[i]) >= 0) {
            v = (v << 4) | (unsigned)prt_hexval((unsigned char)s[i]);
            if (++digits > 2) {
                fprintf(err, "%s: hex number larger than 0xff at pos %zu\n", where, start + 1);
                return -EINVAL;
            }
            i++;
        }
        if (digits == 0 || (i < slen && s[i] != ',' && s[i] != ' ' && s[i] != '\t')) {
            fprintf(err, "%s: error at pos %zu\n", where, i + 1);
            return -EINVAL;
        }
        if (n >= PRT_PERSIST_TID_MAX) {
            fprintf(err, "%s: array length exceeded\n", where);
            return -EINVAL;
        }
        tid[n++] = (uint8_t)v;
    }
    if (n == 0) {
        fprintf(err, "%s: no TransportID bytes\n", where);
        return -EINVAL;
    }
    size_t len = TID_MIN_LEN;
    if ((tid[0] & 0x0f) == TPROTO_ISCSI && n >= 4) {
        len = 4u + prt_get_be16(tid + 2);
        if (len < TID_MIN_LEN)
            len = TID_MIN_LEN;
    }
    if (len > PRT_PERSIST_TID_MAX || n > len) {
        fprintf(err, "%s: %zu bytes given but the TransportID is %zu bytes long\n", where, n, len);
        return -EINVAL;
    }
    return (int)len;
}

static int append_tid(struct prt_persist_opts *o, const uint8_t *tid, size_t len, FILE *err, const char *where)
{
    if (o->n_tids >= PRT_PERSIST_MAX_TIDS || o->tids_len + len > sizeof(o->tids)) {
        fprintf(err, "%s: too many TransportIDs (at most %u)\n", where, PRT_PERSIST_MAX_TIDS);
        return -EINVAL;
    }
    memcpy(o->tids + o->tids_len, tid, len);
    o->tids_len += len;
    o->n_tids++;
    return 0;
}

/* One TransportID in any accepted form (symbolic or hex list). */
static int add_one_tid(struct prt_persist_opts *o, const char *s, size_t slen, FILE *err, const char *where)
{
    uint8_t tid[PRT_PERSIST_TID_MAX];
    int len = symbolic_tid(s, slen, tid);

    if (len < 0) {
        fprintf(err, "%s: badly formed symbolic TransportID: %.*s\n", where, (int)slen, s);
        return -EINVAL;
    }
    if (len == 0) {
        len = hex_list_tid(s, slen, tid, err, where);
        if (len < 0)
            return len;
    }
    return append_tid(o, tid, (size_t)len, err, where);
}

int prt_persist_add_tid_stream(struct prt_persist_opts *o, FILE *in, const char *name, FILE *err)
{
    char line[1024];
    unsigned lineno = 0;

    while (fgets(line, sizeof(line), in) != NULL) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            fprintf(err, "%s line %u: line too long\n", name, lineno);
            return -EINVAL;
        }
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        len = strlen(p);
        while (len > 0 && isspace((unsigned char)p[len - 1]))
            p[--len] = '\0';
        if (len == 0)
            continue;
        /* A symbolic TransportID ends at the first blank, as in sg_persist's file syntax. */
        if (is_iscsi_name_start(p, len)) {
            size_t tok = strcspn(p, " \t");
            len = tok;
        }
        char where[64];
        snprintf(where, sizeof(where), "%s line %u", name, lineno);
        if (add_one_tid(o, p, len, err, where) != 0)
            return -EINVAL;
    }
    if (ferror(in)) {
        fprintf(err, "%s: read error\n", name);
        return -EIO;
    }
    return 0;
}

/* Messages about a TransportID on the command line start like sg_persist's one-line refusal. */
#define TID_ARG "bad argument to '--transport-id'"

int prt_persist_add_tids(struct prt_persist_opts *o, const char *arg, FILE *err)
{
    if (strcmp(arg, "-") == 0)
        return prt_persist_add_tid_stream(o, stdin, "stdin", err);
    if (strncmp(arg, "file=", 5) == 0 || strncmp(arg, "FILE=", 5) == 0) {
        FILE *f = fopen(arg + 5, "r");
        if (f == NULL) {
            fprintf(err, TID_ARG ": unable to open %s: %s\n", arg + 5, strerror(errno));
            return -EINVAL;
        }
        int rc = prt_persist_add_tid_stream(o, f, arg + 5, err);
        fclose(f);
        return rc;
    }
    return add_one_tid(o, arg, strlen(arg), err, TID_ARG);
}

int prt_persist_check_url(const char *url)
{
    if (strncmp(url, "iscsi://", 8) != 0)
        return -EINVAL;
    const char *rest = url + 8;
    const char *lun = strrchr(rest, '/');
    if (lun == NULL || lun[1] == '\0')
        return -EINVAL;
    uint32_t v;
    /* SAM-5 4.7.7 flat space addressing, which libiscsi uses above LUN 255, reaches LUN 16383. */
    if (parse_decimal(lun + 1, strlen(lun + 1), 16383, &v) != 0)
        return -EINVAL;
    const char *target = memchr(rest, '/', (size_t)(lun - rest));
    if (target == NULL || target == rest || target + 1 == lun)
        return -EINVAL;
    for (const char *p = rest; p < lun; p++)
        if ((unsigned char)*p <= ' ')
            return -EINVAL;
    return 0;
}

static void opts_init(struct prt_persist_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->action = PRT_PERSIST_RUN;
    o->initiator_name = PRT_PERSIST_DEFAULT_INAME;
    /* A fixed ISID makes every invocation with the same initiator name the same initiator port, and so the
     * same I_T nexus: SPC-4 5.13.7 keeps registrations per I_T nexus, so a key registered by one run must
     * still be this nexus's key in the next. Random format (10b) with a constant value. */
    static const uint8_t def_isid[6] = {0x80, 0x00, 0x00, 0x00, 0x00, 0x01};
    memcpy(o->isid, def_isid, sizeof(def_isid));
    o->inquiry = true;
    o->pr_in = true;
    o->prin_sa = -1;
    o->prout_sa = -1;
    o->alloc_len = PRT_PERSIST_MAX_ALLOC;
}

static int bad_arg(FILE *err, const char *opt)
{
    fprintf(err, "bad argument to '--%s'\n", opt);
    return PRT_EXIT_SYNTAX;
}

int prt_persist_parse_args(struct prt_persist_opts *o, int argc, char *argv[], FILE *err)
{
    bool want_in = false, want_out = false, version = false;
    int n_prin_sa = 0, n_prout_sa = 0, c;

    opts_init(o);
    optind = 0; /* GNU getopt: 0 re-initialises, so the parser can run more than once per process */
    opterr = 0;
    while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
        switch (c) {
        case 'A': o->prout_sa = PRT_PROUT_PREEMPT_ABORT; n_prout_sa++; break;
        case 'c': o->prin_sa = PRT_PRIN_REPORT_CAPABILITIES; n_prin_sa++; break;
        case 'C': o->prout_sa = PRT_PROUT_CLEAR; n_prout_sa++; break;
        case 'd': o->device = optarg; break;
        case 'G': o->prout_sa = PRT_PROUT_REGISTER; n_prout_sa++; break;
        case 'h': o->help_level++; break;
        case 'H': o->hex++; break;
        case 'i': want_in = true; break;
        case 'I': o->prout_sa = PRT_PROUT_REGISTER_IGNORE; n_prout_sa++; break;
        case 'k': o->prin_sa = PRT_PRIN_READ_KEYS; n_prin_sa++; break;
        case 'K':
            if (prt_persist_parse_hex64(optarg, &o->param_rk) != 0)
                return bad_arg(err, "param-rk");
            break;
        case 'l':
            if (parse_hex32_max(optarg, UINT32_MAX, &o->alloc_len) != 0)
                return bad_arg(err, "alloc-length");
            if (o->alloc_len > PRT_PERSIST_MAX_ALLOC) {
                fprintf(err, "'--alloc-length' argument exceeds maximum value (%u)\n", PRT_PERSIST_MAX_ALLOC);
                return PRT_EXIT_SYNTAX;
            }
            break;
        case 'm':
            if (prt_persist_parse_num(optarg, &o->alloc_len) != 0)
                return bad_arg(err, "maxlen");
            if (o->alloc_len > PRT_PERSIST_MAX_ALLOC) {
                fprintf(err, "'--maxlen' argument exceeds maximum value (%u)\n", PRT_PERSIST_MAX_ALLOC);
                return PRT_EXIT_SYNTAX;
            }
            break;
        case 'L': o->prout_sa = PRT_PROUT_RELEASE; n_prout_sa++; break;
        case 'M': o->prout_sa = PRT_PROUT_REGISTER_MOVE; n_prout_sa++; break;
        case 'n': o->inquiry = false; break;
        case 'o': want_out = true; break;
        case 'P': o->prout_sa = PRT_PROUT_PREEMPT; n_prout_sa++; break;
        case 'Q':
            if (parse_hex32_max(optarg, UINT32_MAX, &o->param_rtp) != 0)
                return bad_arg(err, "relative-target-port");
            if (o->param_rtp > 0xffff) {
                fprintf(err, "argument to '--relative-target-port' 0 to ffff inclusive\n");
                return PRT_EXIT_SYNTAX;
            }
            break;
        case 'r': o->prin_sa = PRT_PRIN_READ_RESERVATION; n_prin_sa++; break;
        case 'R': o->prout_sa = PRT_PROUT_RESERVE; n_prout_sa++; break;
        case 's': o->prin_sa = PRT_PRIN_READ_FULL_STATUS; n_prin_sa++; break;
        case 'S':
            if (prt_persist_parse_hex64(optarg, &o->param_sark) != 0)
                return bad_arg(err, "param-sark");
            break;
        case 'T':
            /* SPC-4 6.15.1: TYPE is a 4-bit field; sg_persist reads it as hex. */
            if (parse_hex32_max(optarg, 0xf, &o->prout_type) != 0)
                return bad_arg(err, "prout-type");
            break;
        case 'U': o->param_unreg = true; break;
        case 'v': o->verbose++; break;
        case 'V': version = true; break;
        case 'x':
        case 'z': o->prout_sa = PRT_PROUT_REPLACE_LOST; n_prout_sa++; break;
        case 'X':
            /* prt_persist_add_tids() has written the one line that says what is wrong. */
            if (prt_persist_add_tids(o, optarg, err) != 0)
                return PRT_EXIT_SYNTAX;
            break;
        case 'y': o->readonly++; break;
        case 'Y': o->param_alltgpt = true; break;
        case 'Z': o->param_aptpl = true; break;
        case OPT_INITIATOR_NAME:
            if (optarg[0] == '\0' || strlen(optarg) > ISCSI_NAME_MAX)
                return bad_arg(err, "initiator-name");
            o->initiator_name = optarg;
            break;
        case OPT_ISID:
            if (prt_persist_parse_isid(optarg, o->isid) != 0)
                return bad_arg(err, "isid");
            break;
        case ':':
            fprintf(err, "%s: option '%s' requires an argument\n", ME, argv[optind - 1]);
            return PRT_EXIT_SYNTAX;
        default:
            if (optopt == '?') { /* sg_persist's "-?" asks for the usage message */
                o->help_level++;
                break;
            }
            /* sg_persist prints the usage and exits 0 here; a bad argument must fail, in one line. */
            if (optopt != 0)
                fprintf(err, "%s: unrecognised option '-%c'\n", ME, optopt);
            else
                fprintf(err, "%s: unrecognised option '%s'\n", ME, argv[optind - 1]);
            return PRT_EXIT_SYNTAX;
        }
    }
    if (optind < argc) {
        if (o->device == NULL)
            o->device = argv[optind++];
        if (optind < argc) {
            fprintf(err, "Unexpected extra argument: %s\n", argv[optind]);
            return PRT_EXIT_SYNTAX;
        }
    }
    if (o->help_level > 0) {
        o->action = PRT_PERSIST_HELP;
        return 0;
    }
    if (version) {
        o->action = PRT_PERSIST_VERSION_ONLY;
        return 0;
    }
    if (o->device == NULL) {
        fprintf(err, "No device name given\n");
        return PRT_EXIT_SYNTAX;
    }
    if (prt_persist_check_url(o->device) != 0) {
        fprintf(err, "%s: device must be an iscsi://HOST[:PORT]/TARGET-IQN/LUN URL, not '%s'\n", ME, o->device);
        return PRT_EXIT_SYNTAX;
    }
    /* sg_persist 0.67 answers every contradiction between options with SG_LIB_CONTRADICT (31). Its two-line
     * messages are joined into one line here. */
    if (want_in && want_out) {
        fprintf(err, "choose '--in' _or_ '--out' (not both)\n");
        return PRT_EXIT_CONTRADICT;
    }
    if (want_out) {
        o->pr_in = false;
        if (n_prout_sa != 1 || n_prin_sa != 0) {
            fprintf(err, ">> For Persistent Reserve Out one and only one appropriate service action must be "
                         "chosen (e.g. '--register')\n");
            return PRT_EXIT_CONTRADICT;
        }
    } else {
        if (n_prout_sa > 0) {
            fprintf(err, ">> When a service action for Persistent Reserve Out is chosen the '--out' option "
                         "must be given (as a safeguard)\n");
            return PRT_EXIT_CONTRADICT;
        }
        if (n_prin_sa == 0) {
            fprintf(err, ">> No service action given; assume Persistent Reserve In command\n"
                         ">> with Read Keys service action\n");
            o->prin_sa = PRT_PRIN_READ_KEYS;
        } else if (n_prin_sa > 1) {
            fprintf(err, "Too many service actions given; choose one only\n");
            return PRT_EXIT_CONTRADICT;
        }
    }
    if ((o->param_unreg || o->param_rtp) && o->prout_sa != PRT_PROUT_REGISTER_MOVE) {
        fprintf(err, "--unreg or --relative-target-port only useful with --register-move\n");
        return PRT_EXIT_CONTRADICT;
    }
    if (o->prout_sa == PRT_PROUT_REGISTER_MOVE && o->n_tids != 1) {
        fprintf(err, "with --register-move one (and only one) --transport-id should be given\n");
        return PRT_EXIT_CONTRADICT;
    }
    if ((o->prout_sa == PRT_PROUT_RESERVE || o->prout_sa == PRT_PROUT_RELEASE ||
         o->prout_sa == PRT_PROUT_PREEMPT || o->prout_sa == PRT_PROUT_PREEMPT_ABORT) &&
        o->prout_type == 0)
        fprintf(err, "warning>>> --prout-type probably needs to be given\n");
    return 0;
}

void prt_persist_usage(FILE *out, int level)
{
    if (level < 2) {
        fputs("Usage: iscsi-persist [OPTIONS] [URL]\n"
              "  where the main OPTIONS are:\n"
              "    --clear|-C                 PR Out: Clear\n"
              "    --help|-h                  print usage message, twice for more\n"
              "    --in|-i                    request PR In command (default)\n"
              "    --out|-o                   request PR Out command\n"
              "    --param-rk=RK|-K RK        PR Out parameter reservation key\n"
              "                               (RK is in hex)\n"
              "    --param-sark=SARK|-S SARK    PR Out parameter service action\n"
              "                                 reservation key (SARK is in hex)\n"
              "    --preempt|-P               PR Out: Preempt\n"
              "    --preempt-abort|-A         PR Out: Preempt and Abort\n"
              "    --prout-type=TYPE|-T TYPE    PR Out type field (see '-hh')\n"
              "    --read-full-status|-s      PR In: Read Full Status\n"
              "    --read-keys|-k             PR In: Read Keys (default)\n"
              "    --read-reservation|-r      PR In: Read Reservation\n"
              "    --read-status|-s           PR In: Read Full Status\n"
              "    --register|-G              PR Out: Register\n"
              "    --register-ignore|-I       PR Out: Register and Ignore\n"
              "    --register-move|-M         PR Out: Register and Move\n"
              "    --release|-L               PR Out: Release\n"
              "    --replace-lost|-z          PR Out: Replace Lost Reservation\n"
              "    --report-capabilities|-c   PR In: Report Capabilities\n"
              "    --reserve|-R               PR Out: Reserve\n"
              "    --unreg|-U                 optional with PR Out Register and Move\n"
              "  and the iSCSI nexus:\n"
              "    --initiator-name=IQN       initiator name (def: " PRT_PERSIST_DEFAULT_INAME ")\n"
              "    --isid=HEX                 ISID, 12 hex digits (def: 800000000001)\n\n"
              "URL is iscsi://[USER[%PASSWORD]@]HOST[:PORT]/TARGET-IQN/LUN, given as an\n"
              "argument or with --device=URL. Invoking 'iscsi-persist URL' will do a PR In\n"
              "Read Keys command. Use '-hh' for more options and TYPE meanings.\n",
              out);
        return;
    }
    fputs("Usage: iscsi-persist [OPTIONS] [URL]\n"
          "  where the other OPTIONS are:\n"
          "    --alloc-length=LEN|-l LEN    allocation length hex value (used with\n"
          "                                 PR In only) (default: 8192 (2000 in hex))\n"
          "    --device=URL|-d URL        supply URL as an option rather than\n"
          "                               an argument\n"
          "    --hex|-H                   output response in hex (for PR In commands)\n"
          "    --maxlen=LEN|-m LEN        allocation length in decimal, by default.\n"
          "                               like --alloc-len= (def: 8192, 8k, 2000h)\n"
          "    --no-inquiry|-n            skip INQUIRY (default: do INQUIRY)\n"
          "    --param-alltgpt|-Y         PR Out parameter 'ALL_TG_PT'\n"
          "    --param-aptpl|-Z           PR Out parameter 'APTPL'\n"
          "    --readonly|-y              accepted for sg_persist compatibility; no effect\n"
          "    --relative-target-port=RTPI|-Q RTPI    relative target port identifier\n"
          "    --transport-id=TIDS|-X TIDS    one or more TransportIDs can\n"
          "                                   be given in several forms\n"
          "    --verbose|-v               output additional debug information\n"
          "    --version|-V               output version string\n\n"
          "For the main options use '--help' or '-h' once.\n\n\n"
          "PR Out TYPE field value meanings:\n"
          "  0:    obsolete (was 'read shared' in SPC)\n"
          "  1:    write exclusive\n"
          "  2:    obsolete (was 'read exclusive')\n"
          "  3:    exclusive access\n"
          "  4:    obsolete (was 'shared access')\n"
          "  5:    write exclusive, registrants only\n"
          "  6:    exclusive access, registrants only\n"
          "  7:    write exclusive, all registrants\n"
          "  8:    exclusive access, all registrants\n",
          out);
}
