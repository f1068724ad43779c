/* The JSON configuration file (--config FILE; docs/config.md).
 *
 * The whole file is checked before anything is used, and every problem is reported as one line naming the
 * file, the JSON path and the problem: `prt.json: targets[0].luns[1].size: "12X" is not a size`. Unknown keys
 * are errors, because a misspelt option that is silently ignored is worse than a refused start.
 *
 * Strings in struct prt_config point into the parsed document, which cfg->config_owned keeps alive until
 * prt_config_release().
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app/prt_app.h"
#include "target/tgt.h"

#define PRT_CFG_PATH 128

struct prt_config_owned {
    json_t *root;
    char specs[PRT_MAX_LUNS][PRT_CFG_PATH]; /* "targets[0].luns[3]": the LU's name in later messages */
};

struct prt_cfg_ctx {
    const char *file;
    char *err;
    size_t errlen;
};

static int prt__cfg_err(struct prt_cfg_ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int prt__cfg_err(struct prt_cfg_ctx *c, const char *path, const char *fmt, ...)
{
    char what[PRT_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s: %s", c->file, path, what);
    return -EINVAL;
}

/* The value as it appeared, for messages: strings quoted, anything else in compact JSON, cut short. */
static void prt__cfg_show(json_t *v, char *out, size_t len)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(out, len, "%.60s%s", s ? s : "?", s && strlen(s) > 60 ? "..." : "");
    free(s);
}

static int prt__cfg_keys(struct prt_cfg_ctx *c, json_t *obj, const char *path, const char *const *allowed)
{
    const char *k;
    json_t *v;
    char p[PRT_CFG_PATH];

    if (!json_is_object(obj))
        return prt__cfg_err(c, path, "expected an object");
    json_object_foreach(obj, k, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++)
            ok = ok || strcmp(k, allowed[i]) == 0;
        if (!ok) {
            snprintf(p, sizeof p, "%s%s%s", path, path[0] ? "." : "", k);
            return prt__cfg_err(c, p, "unknown key");
        }
    }
    (void)v;
    return 0;
}

static void prt__cfg_path(char *out, const char *base, const char *key)
{
    /* A path longer than the buffer is cut; it only names the place of an error in a message. */
    if (snprintf(out, PRT_CFG_PATH, "%s%s%s", base, base[0] ? "." : "", key) >= PRT_CFG_PATH)
        out[PRT_CFG_PATH - 1] = '\0';
}

static int prt__cfg_string(struct prt_cfg_ctx *c, json_t *obj, const char *base, const char *key, size_t maxlen,
                           const char **out)
{
    json_t *v = json_object_get(obj, key);
    char p[PRT_CFG_PATH], shown[80];

    if (!v)
        return 0;
    prt__cfg_path(p, base, key);
    if (!json_is_string(v)) {
        prt__cfg_show(v, shown, sizeof shown);
        return prt__cfg_err(c, p, "%s is not a string", shown);
    }
    if (json_string_length(v) == 0)
        return prt__cfg_err(c, p, "must not be empty");
    if (maxlen && json_string_length(v) > maxlen)
        return prt__cfg_err(c, p, "longer than %zu characters", maxlen);
    *out = json_string_value(v);
    return 0;
}

static int prt__cfg_bool(struct prt_cfg_ctx *c, json_t *obj, const char *base, const char *key, bool *out)
{
    json_t *v = json_object_get(obj, key);
    char p[PRT_CFG_PATH], shown[80];

    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        prt__cfg_path(p, base, key);
        prt__cfg_show(v, shown, sizeof shown);
        return prt__cfg_err(c, p, "%s is not true or false", shown);
    }
    *out = json_is_true(v);
    return 0;
}

/* SPC-4 6.6.2: T10 VENDOR IDENTIFICATION and PRODUCT IDENTIFICATION are printable ASCII (20h-7Eh). */
static int prt__cfg_ascii(struct prt_cfg_ctx *c, const char *path, const char *s)
{
    for (const char *q = s; *q; q++)
        if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
            return prt__cfg_err(c, path, "\"%s\" has a character that is not printable ASCII", s);
    return 0;
}

static const char *const prt__profiles[] = { "full", "spc3", "dlt-s4", "sl150", NULL };

static int prt__cfg_profile(struct prt_cfg_ctx *c, json_t *pr, const char *base, const char **out)
{
    const char *name = NULL;
    char p[PRT_CFG_PATH];
    int rc = prt__cfg_string(c, pr, base, "profile", 32, &name);

    if (rc || !name)
        return rc;
    for (size_t i = 0; prt__profiles[i]; i++) {
        if (strcmp(name, prt__profiles[i]) == 0) {
            *out = name;
            return 0;
        }
    }
    prt__cfg_path(p, base, "profile");
    return prt__cfg_err(c, p, "\"%s\" is not a PR profile (full, spc3, dlt-s4, sl150)", name);
}

/* SPC-4 7.8.6.6: an eight-byte NAA designator is NAA 2h, 3h or 5h; the 16-byte 6h form does not fit here. */
static int prt__cfg_naa(struct prt_cfg_ctx *c, const char *path, const char *s, uint8_t naa[8])
{
    const char *h = s;

    if (h[0] == '0' && (h[1] == 'x' || h[1] == 'X'))
        h += 2;
    if (strlen(h) != 16)
        return prt__cfg_err(c, path, "\"%s\" is not 16 hex digits", s);
    for (int i = 0; i < 8; i++) {
        char b[3] = { h[2 * i], h[2 * i + 1], 0 };
        if (!isxdigit((unsigned char)b[0]) || !isxdigit((unsigned char)b[1]))
            return prt__cfg_err(c, path, "\"%s\" is not 16 hex digits", s);
        naa[i] = (uint8_t)strtoul(b, NULL, 16);
    }
    uint8_t kind = naa[0] >> 4;
    if (kind != 2 && kind != 3 && kind != 5)
        return prt__cfg_err(c, path, "\"%s\": NAA %xh is not an 8-byte NAA format (2h, 3h or 5h)", s, kind);
    return 0;
}

static int prt__cfg_lun(struct prt_cfg_ctx *c, json_t *lo, const char *base, const char *target_profile,
                        struct prt_lun_spec *lun)
{
    static const char *const keys[] = { "backend", "path", "size", "block_size", "read_only", "removable",
                                        "sanitize", "sanitize_seconds", "identity", "pr", NULL };
    static const char *const id_keys[] = { "vendor", "product", "serial", "naa", NULL };
    static const char *const pr_keys[] = { "profile", NULL };
    const char *backend = NULL, *path = NULL;
    char p[PRT_CFG_PATH], shown[80];
    json_t *v;
    int rc;

    if ((rc = prt__cfg_keys(c, lo, base, keys)) != 0)
        return rc;
    memset(lun, 0, sizeof *lun);
    lun->block_size = 512;
    lun->pr_profile = target_profile;
    if ((rc = prt__cfg_string(c, lo, base, "backend", 0, &backend)) != 0 ||
        (rc = prt__cfg_string(c, lo, base, "path", sizeof lun->path - 1, &path)) != 0)
        return rc;
    if (!backend)
        backend = path ? "file" : "mem";
    prt__cfg_path(p, base, "backend");
    if (strcmp(backend, "file") == 0) {
        lun->file = true;
        if (!path) {
            prt__cfg_path(p, base, "path");
            return prt__cfg_err(c, p, "a file LU needs a path");
        }
        strcpy(lun->path, path);
    } else if (strcmp(backend, "mem") == 0) {
        if (path) {
            prt__cfg_path(p, base, "path");
            return prt__cfg_err(c, p, "a mem LU has no path (use \"backend\": \"file\")");
        }
    } else {
        return prt__cfg_err(c, p, "\"%s\" is not a backend (mem or file)", backend);
    }

    prt__cfg_path(p, base, "size");
    if ((v = json_object_get(lo, "size")) != NULL) {
        if (json_is_integer(v) && json_integer_value(v) > 0) {
            lun->size = (uint64_t)json_integer_value(v);
        } else if (!json_is_string(v) || prt_parse_size(json_string_value(v), &lun->size) != 0) {
            prt__cfg_show(v, shown, sizeof shown);
            return prt__cfg_err(c, p, "%s is not a size", shown);
        }
    } else if (!lun->file) {
        return prt__cfg_err(c, p, "a mem LU needs a size (such as \"1G\")");
    }

    if ((v = json_object_get(lo, "block_size")) != NULL) {
        prt__cfg_path(p, base, "block_size");
        /* SBC-3 6.4.2: LOGICAL BLOCK LENGTH IN BYTES; this device server offers the two common ones. */
        if (!json_is_integer(v) || (json_integer_value(v) != 512 && json_integer_value(v) != 4096)) {
            prt__cfg_show(v, shown, sizeof shown);
            return prt__cfg_err(c, p, "%s is not a block size (512 or 4096)", shown);
        }
        lun->block_size = (uint32_t)json_integer_value(v);
    }
    if (lun->size && lun->size % lun->block_size) {
        prt__cfg_path(p, base, "size");
        return prt__cfg_err(c, p, "%llu is not a multiple of the block size %u", (unsigned long long)lun->size,
                            (unsigned)lun->block_size);
    }
    if ((rc = prt__cfg_bool(c, lo, base, "read_only", &lun->read_only)) != 0 ||
        (rc = prt__cfg_bool(c, lo, base, "removable", &lun->removable)) != 0 ||
        (rc = prt__cfg_bool(c, lo, base, "sanitize", &lun->sanitize)) != 0)
        return rc;
    if ((v = json_object_get(lo, "sanitize_seconds")) != NULL) {
        /* The emulated SANITIZE duration (target/sanitize.c); it only means something on a LU that accepts
         * SANITIZE, so asking for it alone is a mistake worth naming. */
        double secs = json_is_number(v) ? json_number_value(v) : -1;

        prt__cfg_path(p, base, "sanitize_seconds");
        if (secs < 0 || secs * 1000 > (double)PRT_SANITIZE_MAX_MS) {
            prt__cfg_show(v, shown, sizeof shown);
            return prt__cfg_err(c, p, "%s is not a number of seconds from 0 to 86400", shown);
        }
        if (!lun->sanitize)
            return prt__cfg_err(c, p, "needs \"sanitize\": true");
        lun->sanitize_ms = (uint64_t)(secs * 1000 + 0.5);
    }

    if ((v = json_object_get(lo, "identity")) != NULL) {
        char ib[PRT_CFG_PATH];
        const char *naa = NULL;
        prt__cfg_path(ib, base, "identity");
        if ((rc = prt__cfg_keys(c, v, ib, id_keys)) != 0)
            return rc;
        /* SPC-4 6.6.2: VENDOR IDENTIFICATION is 8 bytes, PRODUCT IDENTIFICATION 16; VPD 80h carries the
         * serial (we keep 32 bytes of it). */
        if ((rc = prt__cfg_string(c, v, ib, "vendor", 8, &lun->vendor)) != 0 ||
            (rc = prt__cfg_string(c, v, ib, "product", 16, &lun->product)) != 0 ||
            (rc = prt__cfg_string(c, v, ib, "serial", 32, &lun->serial)) != 0 ||
            (rc = prt__cfg_string(c, v, ib, "naa", 18, &naa)) != 0)
            return rc;
        const char *const *fields[] = { &lun->vendor, &lun->product, &lun->serial };
        const char *names[] = { "vendor", "product", "serial" };
        for (int i = 0; i < 3; i++) {
            prt__cfg_path(p, ib, names[i]);
            if (*fields[i] && (rc = prt__cfg_ascii(c, p, *fields[i])) != 0)
                return rc;
        }
        if (naa) {
            prt__cfg_path(p, ib, "naa");
            if ((rc = prt__cfg_naa(c, p, naa, lun->naa)) != 0)
                return rc;
            lun->has_naa = true;
        }
    }
    if ((v = json_object_get(lo, "pr")) != NULL) {
        char pb[PRT_CFG_PATH];
        prt__cfg_path(pb, base, "pr");
        if ((rc = prt__cfg_keys(c, v, pb, pr_keys)) != 0 || (rc = prt__cfg_profile(c, v, pb, &lun->pr_profile)) != 0)
            return rc;
    }
    return 0;
}

/* RFC 7143 9.2.1 / 12.1.3: a CHAP secret of at least 96 bits (12 bytes) when IPsec is not used, and the target's
 * secret for mutual CHAP differs from the initiator's, else a reflection attack answers one side's challenge
 * with the other's response. NULL when secret is fine. */
static const char *prt__chap_secret_problem(const char *secret, const char *other)
{
    if (strlen(secret) < 12)
        return "shorter than 12 characters (RFC 7143 9.2.1)";
    if (strlen(secret) > PRT_CHAP_MAX)
        return "longer than 255 characters";
    if (other && strcmp(secret, other) == 0)
        return "the mutual secret must differ from the initiator's secret (RFC 7143 9.2.1)";
    return NULL;
}

/* RFC 7143 4.2.7.1: iqn., eui. or naa. names of at most 223 bytes. */
static int prt__cfg_iscsi_name(struct prt_cfg_ctx *c, const char *path, const char *n)
{
    if (strlen(n) > 223 || (strncmp(n, "iqn.", 4) && strncmp(n, "eui.", 4) && strncmp(n, "naa.", 4)))
        return prt__cfg_err(c, path, "\"%.60s\" is not an iSCSI name (iqn., eui. or naa., at most 223 bytes)", n);
    for (const char *q = n; *q; q++)
        if (*q <= ' ' || (unsigned char)*q >= 0x7f)
            return prt__cfg_err(c, path, "\"%.60s\" has a character not allowed in an iSCSI name", n);
    return 0;
}

/* targets[0].alua: [{"tpg": 2, "state": "standby"}, ...]. Each portal is its own target port group with the id
 * of its TPGT (SPC-4 5.16.2.1, design.md), so a group is named by that number; groups not listed start
 * active/optimized. Whether the id names a portal is checked in prt_config_apply(), after --listen. */
static int prt__cfg_alua(struct prt_cfg_ctx *c, json_t *v, const char *p, struct prt_config *cfg)
{
    static const char *const keys[] = { "tpg", "state", NULL };
    char ep[PRT_CFG_PATH], fp[PRT_CFG_PATH], shown[80];
    json_t *e;
    size_t i;
    int rc;

    if (!json_is_array(v))
        return prt__cfg_err(c, p, "expected a list of {\"tpg\": N, \"state\": NAME}");
    if (json_array_size(v) > PRT_MAX_PORTALS)
        return prt__cfg_err(c, p, "at most %d target port groups", PRT_MAX_PORTALS);
    json_array_foreach(v, i, e) {
        json_t *t = json_object_get(e, "tpg"), *st = json_object_get(e, "state");
        enum tgt_alua_state state;

        snprintf(ep, sizeof ep, "%.100s[%zu]", p, i);
        if ((rc = prt__cfg_keys(c, e, ep, keys)) != 0)
            return rc;
        prt__cfg_path(fp, ep, "tpg");
        if (!t)
            return prt__cfg_err(c, fp, "missing (the TPGT of the portal: 1 for the first)");
        if (!json_is_integer(t) || json_integer_value(t) < 1 || json_integer_value(t) > PRT_MAX_PORTALS) {
            prt__cfg_show(t, shown, sizeof shown);
            return prt__cfg_err(c, fp, "%s is not a target port group id (1..%d)", shown, PRT_MAX_PORTALS);
        }
        for (unsigned k = 0; k < cfg->n_alua; k++)
            if (cfg->alua[k].tpg == json_integer_value(t))
                return prt__cfg_err(c, fp, "target port group %d is listed twice", (int)json_integer_value(t));
        prt__cfg_path(fp, ep, "state");
        if (!st)
            return prt__cfg_err(c, fp, "missing");
        if (tgt_alua_state_parse(json_string_value(st), &state) != 0) {
            prt__cfg_show(st, shown, sizeof shown);
            return prt__cfg_err(c, fp,
                                "%s is not active-optimized, active-nonoptimized, standby, unavailable, offline "
                                "or transitioning",
                                shown);
        }
        cfg->alua[cfg->n_alua].tpg = (uint16_t)json_integer_value(t);
        cfg->alua[cfg->n_alua].state = (uint8_t)state;
        cfg->n_alua++;
    }
    return 0;
}

static int prt__cfg_target(struct prt_cfg_ctx *c, json_t *to, const char *base, struct prt_config *cfg,
                           struct prt_config_owned *own)
{
    static const char *const keys[] = { "name", "portals", "luns", "acl", "chap", "pr", "alua", NULL };
    static const char *const pr_keys[] = { "profile", "state_dir", NULL };
    static const char *const chap_keys[] = { "user", "secret", "mutual_user", "mutual_secret", NULL };
    const char *profile = NULL;
    char p[PRT_CFG_PATH], shown[80];
    json_t *v, *e;
    size_t i;
    int rc;

    if ((rc = prt__cfg_keys(c, to, base, keys)) != 0)
        return rc;
    if ((rc = prt__cfg_string(c, to, base, "name", 223, &cfg->target)) != 0)
        return rc;
    if (cfg->target) {
        prt__cfg_path(p, base, "name");
        if ((rc = prt__cfg_iscsi_name(c, p, cfg->target)) != 0)
            return rc;
    }
    if ((v = json_object_get(to, "pr")) != NULL) {
        char pb[PRT_CFG_PATH];
        prt__cfg_path(pb, base, "pr");
        if ((rc = prt__cfg_keys(c, v, pb, pr_keys)) != 0 || (rc = prt__cfg_profile(c, v, pb, &profile)) != 0 ||
            (rc = prt__cfg_string(c, v, pb, "state_dir", 0, &cfg->state_dir)) != 0)
            return rc;
    }
    if ((v = json_object_get(to, "portals")) != NULL) {
        prt__cfg_path(p, base, "portals");
        if (!json_is_array(v) || json_array_size(v) == 0)
            return prt__cfg_err(c, p, "expected a non-empty list of \"HOST:PORT\"");
        if (json_array_size(v) > PRT_MAX_PORTALS)
            return prt__cfg_err(c, p, "at most %d portals", PRT_MAX_PORTALS);
        json_array_foreach(v, i, e) {
            char ep[PRT_CFG_PATH];
            snprintf(ep, sizeof ep, "%.100s[%zu]", p, i);
            const char *a = json_string_value(e);
            /* The same shape --listen takes: an IPv4 address or a bracketed IPv6 one, and a port. */
            const char *colon = a ? strrchr(a, ':') : NULL;
            char *end = NULL;
            unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
            bool ok = a && colon && colon != a && colon[1] >= '0' && colon[1] <= '9' && end && *end == '\0' &&
                      port <= 65535 && (a[0] == '[' ? colon[-1] == ']' : strchr(a, ':') == colon);
            if (!ok) {
                prt__cfg_show(e, shown, sizeof shown);
                return prt__cfg_err(c, ep, "%s is not HOST:PORT (IPv6 as [::1]:3260)", shown);
            }
            cfg->listen[cfg->n_listen++] = a;
        }
    }
    if ((v = json_object_get(to, "luns")) != NULL) {
        prt__cfg_path(p, base, "luns");
        if (!json_is_array(v) || json_array_size(v) == 0)
            return prt__cfg_err(c, p, "expected a non-empty list of LUs");
        if (json_array_size(v) > PRT_MAX_LUNS)
            return prt__cfg_err(c, p, "at most %d LUs", PRT_MAX_LUNS);
        json_array_foreach(v, i, e) {
            char local[PRT_CFG_PATH];
            char *spec = own ? own->specs[i] : local;
            snprintf(spec, PRT_CFG_PATH, "%.100s[%zu]", p, i);
            if ((rc = prt__cfg_lun(c, e, spec, profile, &cfg->luns[i])) != 0)
                return rc;
            cfg->luns[i].spec = own ? spec : NULL;
            cfg->n_luns++;
        }
    }
    if ((v = json_object_get(to, "alua")) != NULL) {
        prt__cfg_path(p, base, "alua");
        if ((rc = prt__cfg_alua(c, v, p, cfg)) != 0)
            return rc;
    }
    if ((v = json_object_get(to, "acl")) != NULL) {
        prt__cfg_path(p, base, "acl");
        if (!json_is_array(v))
            return prt__cfg_err(c, p, "expected a list of initiator names ([] allows every initiator)");
        json_array_foreach(v, i, e) {
            char ep[PRT_CFG_PATH];
            snprintf(ep, sizeof ep, "%.100s[%zu]", p, i);
            if (!json_is_string(e)) {
                prt__cfg_show(e, shown, sizeof shown);
                return prt__cfg_err(c, ep, "%s is not an initiator name", shown);
            }
            if ((rc = prt__cfg_iscsi_name(c, ep, json_string_value(e))) != 0)
                return rc;
            if (i >= PRT_MAX_ACL)
                return prt__cfg_err(c, ep, "at most %d initiator names", PRT_MAX_ACL);
            cfg->acl[cfg->n_acl++] = json_string_value(e);
        }
    }
    if ((v = json_object_get(to, "chap")) != NULL) {
        const char *user = NULL, *secret = NULL, *muser = NULL, *msecret = NULL;
        prt__cfg_path(p, base, "chap");
        if ((rc = prt__cfg_keys(c, v, p, chap_keys)) != 0 ||
            (rc = prt__cfg_string(c, v, p, "user", 255, &user)) != 0 ||
            (rc = prt__cfg_string(c, v, p, "secret", 255, &secret)) != 0 ||
            (rc = prt__cfg_string(c, v, p, "mutual_user", 255, &muser)) != 0 ||
            (rc = prt__cfg_string(c, v, p, "mutual_secret", 255, &msecret)) != 0)
            return rc;
        if (!user || !secret)
            return prt__cfg_err(c, p, "needs both \"user\" and \"secret\"");
        if (!muser != !msecret)
            return prt__cfg_err(c, p, "mutual CHAP needs both \"mutual_user\" and \"mutual_secret\"");
        char sp[PRT_CFG_PATH];
        const char *why = prt__chap_secret_problem(secret, NULL);
        if (why) {
            prt__cfg_path(sp, p, "secret");
            return prt__cfg_err(c, sp, "%s", why);
        }
        if (msecret && (why = prt__chap_secret_problem(msecret, secret)) != NULL) {
            prt__cfg_path(sp, p, "mutual_secret");
            return prt__cfg_err(c, sp, "%s", why);
        }
        cfg->chap_user = user;
        cfg->chap_secret = secret;
        cfg->chap_mutual_user = muser;
        cfg->chap_mutual_secret = msecret;
    }
    return 0;
}

/* targets[1..]: each needs its own name (RFC 7143 4.2.7: a target name identifies one target), and the names
 * differ from each other; the first target's name is compared in prt_config_apply(), once flags are applied. */
static int prt__cfg_more_names(struct prt_cfg_ctx *c, const struct prt_config *cfg)
{
    char p[PRT_CFG_PATH];
    for (unsigned i = 0; i < cfg->n_more; i++) {
        snprintf(p, sizeof p, "targets[%u].name", i + 1);
        if (!cfg->more[i].target)
            return prt__cfg_err(c, p, "every target after the first needs a name");
        for (unsigned j = 0; j < i; j++)
            if (strcmp(cfg->more[j].target, cfg->more[i].target) == 0)
                return prt__cfg_err(c, p, "\"%.60s\" is also targets[%u].name", cfg->more[i].target, j + 1);
        if (cfg->target && strcmp(cfg->target, cfg->more[i].target) == 0)
            return prt__cfg_err(c, p, "\"%.60s\" is also targets[0].name", cfg->more[i].target);
    }
    return 0;
}

static int prt__cfg_root(struct prt_cfg_ctx *c, json_t *root, struct prt_config *cfg, struct prt_config_owned *own)
{
    static const char *const keys[] = { "version", "targets", "control", "event_log", "log_level", "log_format",
                                        NULL };
    const char *lvl = NULL, *fmt = NULL;
    json_t *v, *t;
    size_t i;
    int rc;

    if (!json_is_object(root))
        return prt__cfg_err(c, "(top)", "expected an object with a \"targets\" list");
    if ((rc = prt__cfg_keys(c, root, "", keys)) != 0)
        return rc;
    if ((v = json_object_get(root, "version")) != NULL && !(json_is_integer(v) && json_integer_value(v) == 1))
        return prt__cfg_err(c, "version", "only version 1 is understood");
    v = json_object_get(root, "targets");
    if (!json_is_array(v) || json_array_size(v) == 0)
        return prt__cfg_err(c, "targets", "expected a non-empty list of targets");
    if (json_array_size(v) > PRT_MAX_TARGETS)
        return prt__cfg_err(c, "targets", "at most %d targets", PRT_MAX_TARGETS);
    if (json_array_size(v) > 1) {
        cfg->more = calloc(json_array_size(v) - 1, sizeof *cfg->more);
        if (!cfg->more)
            return prt__cfg_err(c, "targets", "out of memory");
    }
    /* Each further target is described by a struct prt_config of its own, with its own LU names. */
    json_array_foreach(v, i, t) {
        char base[PRT_CFG_PATH];
        snprintf(base, sizeof base, "targets[%zu]", i);
        struct prt_config *tc = cfg;
        struct prt_config_owned *to = own;
        if (i > 0) {
            tc = &cfg->more[i - 1];
            cfg->n_more = (unsigned)i;
            if (!(to = calloc(1, sizeof *to)))
                return prt__cfg_err(c, base, "out of memory");
            tc->config_owned = to;
        }
        if ((rc = prt__cfg_target(c, t, base, tc, to)) != 0)
            return rc;
    }
    if ((rc = prt__cfg_string(c, root, "", "control", 0, &cfg->control)) != 0 ||
        (rc = prt__cfg_string(c, root, "", "event_log", 0, &cfg->event_log)) != 0 ||
        (rc = prt__cfg_string(c, root, "", "log_level", 0, &lvl)) != 0 ||
        (rc = prt__cfg_string(c, root, "", "log_format", 0, &fmt)) != 0)
        return rc;
    if (lvl) {
        static const char *const levels[] = { "error", "warn", "info", "debug" };
        bool ok = false;
        for (int l = 0; l < 4; l++)
            if (strcmp(lvl, levels[l]) == 0) {
                cfg->log_level = (enum prt_log_level)l;
                ok = true;
            }
        if (!ok)
            return prt__cfg_err(c, "log_level", "\"%s\" is not error, warn, info or debug", lvl);
    }
    if (fmt) {
        if (strcmp(fmt, "text") && strcmp(fmt, "json"))
            return prt__cfg_err(c, "log_format", "\"%s\" is not text or json", fmt);
        cfg->log_json = strcmp(fmt, "json") == 0;
    }
    return prt__cfg_more_names(c, cfg);
}

int prt_config_load(const char *path, struct prt_config *cfg, char *err, size_t errlen)
{
    struct prt_cfg_ctx c = { .file = path, .err = err, .errlen = errlen };
    struct prt_config_owned *own;
    json_error_t je;
    json_t *root;
    int rc;

    memset(cfg, 0, sizeof *cfg);
    cfg->log_level = PRT_LOG_INFO;
    root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (je.line <= 0)
            snprintf(err, errlen, "%s: %s", path, je.text);
        else
            snprintf(err, errlen, "%s: line %d column %d: %s", path, je.line, je.column, je.text);
        return -EINVAL;
    }
    own = calloc(1, sizeof *own);
    if (!own) {
        json_decref(root);
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    own->root = root;
    cfg->config_owned = own;
    cfg->config_file = path;
    rc = prt__cfg_root(&c, root, cfg, own);
    if (rc)
        prt_config_release(cfg);
    return rc;
}

void prt_config_release(struct prt_config *cfg)
{
    struct prt_config_owned *own = cfg->config_owned;

    /* The further targets' own parts hold no JSON document: it is the first target's. */
    for (unsigned i = 0; i < cfg->n_more; i++)
        free(cfg->more[i].config_owned);
    free(cfg->more);
    cfg->more = NULL;
    cfg->n_more = 0;
    if (!own)
        return;
    json_decref(own->root);
    free(own);
    cfg->config_owned = NULL;
}

/* Whether flag was given on the command line. Every prtarget flag but --help/--version takes a value, so
 * values are skipped the same way prt_cli_parse() consumes them. */
static bool prt__flag_given(int argc, char **argv, const char *flag)
{
    size_t n = strlen(flag);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, flag, n) == 0 && (a[n] == '\0' || a[n] == '='))
            return true;
        if (strncmp(a, "--", 2) == 0 && !strchr(a, '=') && strcmp(a, "--help") && strcmp(a, "--version"))
            i++;
    }
    return false;
}

/* Copy USER:SECRET (or USER with the secret from env) into the two storage slots. 0 or -EINVAL with err set. */
static int prt__chap_split(const char *flag, const char *arg, const char *env, char *user, char *secret,
                           char *err, size_t errlen)
{
    const char *colon = strchr(arg, ':');
    const char *sec = colon ? colon + 1 : env ? getenv(env) : NULL;
    size_t ulen = colon ? (size_t)(colon - arg) : strlen(arg);

    if (ulen == 0 || ulen > PRT_CHAP_MAX) {
        snprintf(err, errlen, "%s: expected USER:SECRET with a user name of 1 to %d characters", flag, PRT_CHAP_MAX);
        return -EINVAL;
    }
    if (!sec && !env) {
        snprintf(err, errlen, "%s: expected USER:SECRET", flag);
        return -EINVAL;
    }
    if (!sec) {
        /* The secret is kept off the command line, where ps(1) would show it, only if it comes from elsewhere. */
        snprintf(err, errlen, "%s %.*s: no secret (give USER:SECRET, set %s, or use --chap-file)", flag, (int)ulen,
                 arg, env);
        return -EINVAL;
    }
    if (strlen(sec) > PRT_CHAP_MAX) {
        snprintf(err, errlen, "%s: secret longer than %d characters", flag, PRT_CHAP_MAX);
        return -EINVAL;
    }
    memcpy(user, arg, ulen);
    user[ulen] = '\0';
    strcpy(secret, sec);
    return 0;
}

/* --chap-file FILE: lines "chap USER:SECRET" and optionally "chap-mutual USER:SECRET"; blank lines and lines
 * starting with # are ignored. The file, unlike the command line, can be readable by its owner only. */
static int prt__chap_file(struct prt_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "re");
    char line[2 * PRT_CHAP_MAX + 32];
    unsigned lineno = 0;
    int rc = 0;

    if (!fp) {
        snprintf(err, errlen, "--chap-file %s: %s", path, strerror(errno));
        return -errno;
    }
    while (rc == 0 && fgets(line, sizeof line, fp)) {
        char what[PRT_ERR_LEN];
        size_t n = strlen(line);
        lineno++;
        if (n && line[n - 1] != '\n' && !feof(fp)) {
            snprintf(err, errlen, "--chap-file %s: line %u: too long", path, lineno);
            rc = -EINVAL;
            break;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        snprintf(what, sizeof what, "--chap-file %s: line %u", path, lineno);
        if (strncmp(line, "chap ", 5) == 0 && !cfg->chap_user) {
            rc = prt__chap_split(what, line + 5, NULL, cfg->chap_text[0], cfg->chap_text[1], err, errlen);
            cfg->chap_user = cfg->chap_text[0];
            cfg->chap_secret = cfg->chap_text[1];
        } else if (strncmp(line, "chap-mutual ", 12) == 0 && !cfg->chap_mutual_user) {
            rc = prt__chap_split(what, line + 12, NULL, cfg->chap_text[2], cfg->chap_text[3], err, errlen);
            cfg->chap_mutual_user = cfg->chap_text[2];
            cfg->chap_mutual_secret = cfg->chap_text[3];
        } else {
            snprintf(err, errlen, "%s: expected \"chap USER:SECRET\" or \"chap-mutual USER:SECRET\", once each", what);
            rc = -EINVAL;
        }
    }
    fclose(fp);
    if (rc == 0 && !cfg->chap_user) {
        snprintf(err, errlen, "--chap-file %s: no \"chap USER:SECRET\" line", path);
        rc = -EINVAL;
    }
    return rc;
}

/* CHAP credentials and the access list from the flags (which replace the file's), then checked as the config
 * file's are. */
static int prt__security_flags(struct prt_config *cfg, const struct prt_config *file, int argc, char **argv,
                               char *err, size_t errlen)
{
    bool chap_flags = cfg->chap_arg || cfg->chap_mutual_arg || cfg->chap_file;
    const char *why;
    int rc;

    for (unsigned i = 0; i < cfg->n_acl; i++) {
        char scratch[PRT_ERR_LEN];
        struct prt_cfg_ctx c = { .file = "", .err = scratch, .errlen = sizeof scratch };
        if ((rc = prt__cfg_iscsi_name(&c, "", cfg->acl[i])) != 0) {
            snprintf(err, errlen, "--allow-initiator %.60s: not an iSCSI name (iqn., eui. or naa., at most 223 "
                                  "bytes, no spaces)", cfg->acl[i]);
            return rc;
        }
    }
    if (file && !prt__flag_given(argc, argv, "--allow-initiator") && file->n_acl) {
        memcpy(cfg->acl, file->acl, sizeof cfg->acl);
        cfg->n_acl = file->n_acl;
    }
    if (!chap_flags) {
        if (file) {
            cfg->chap_user = file->chap_user;
            cfg->chap_secret = file->chap_secret;
            cfg->chap_mutual_user = file->chap_mutual_user;
            cfg->chap_mutual_secret = file->chap_mutual_secret;
        }
        return 0;
    }
    if (cfg->chap_file && cfg->chap_arg) {
        snprintf(err, errlen, "--chap-file: give the credentials either in the file or with --chap, not both");
        return -EINVAL;
    }
    if (cfg->chap_arg && (rc = prt__chap_split("--chap", cfg->chap_arg, "PRTARGET_CHAP_SECRET", cfg->chap_text[0],
                                               cfg->chap_text[1], err, errlen)) != 0)
        return rc;
    if (cfg->chap_arg) {
        cfg->chap_user = cfg->chap_text[0];
        cfg->chap_secret = cfg->chap_text[1];
    }
    if (cfg->chap_mutual_arg) {
        if ((rc = prt__chap_split("--chap-mutual", cfg->chap_mutual_arg, "PRTARGET_CHAP_MUTUAL_SECRET",
                                  cfg->chap_text[2], cfg->chap_text[3], err, errlen)) != 0)
            return rc;
        cfg->chap_mutual_user = cfg->chap_text[2];
        cfg->chap_mutual_secret = cfg->chap_text[3];
    }
    if (cfg->chap_file && (rc = prt__chap_file(cfg, cfg->chap_file, err, errlen)) != 0)
        return rc;
    if (!cfg->chap_user) {
        snprintf(err, errlen, "--chap-mutual: mutual CHAP needs --chap (or --chap-file) as well");
        return -EINVAL;
    }
    const char *src = cfg->chap_file ? "--chap-file" : "--chap";
    if ((why = prt__chap_secret_problem(cfg->chap_secret, NULL)) != NULL) {
        snprintf(err, errlen, "%s: secret %s", src, why);
        return -EINVAL;
    }
    if (cfg->chap_mutual_secret && (why = prt__chap_secret_problem(cfg->chap_mutual_secret, cfg->chap_secret))) {
        snprintf(err, errlen, "%s: mutual secret %s", cfg->chap_mutual_arg ? "--chap-mutual" : src, why);
        return -EINVAL;
    }
    return 0;
}

/* docs/config.md: the flags describe the first target only. A further target without portals is exposed on
 * the first target's portals (after the flags), without LUs gets one PRT_DEFAULT_LUN, and keeps its name apart
 * from the first target's (which --target may have changed). */
static int prt__more_targets(struct prt_config *cfg, char *err, size_t errlen)
{
    for (unsigned i = 0; i < cfg->n_more; i++) {
        struct prt_config *t = &cfg->more[i];
        if (strcmp(t->target, cfg->target ? cfg->target : PRT_DEFAULT_TARGET) == 0) {
            snprintf(err, errlen, "--config %s: targets[%u].name: \"%.60s\" is also the first target's name",
                     cfg->config_file, i + 1, t->target);
            return -EINVAL;
        }
        if (t->n_listen == 0) {
            memcpy(t->listen, cfg->listen, sizeof t->listen);
            t->n_listen = cfg->n_listen;
        }
        /* As for targets[0]: a state for a group without a portal would be silently lost (SPC-4 5.16). */
        for (unsigned k = 0; k < t->n_alua; k++) {
            if (t->alua[k].tpg > t->n_listen) {
                snprintf(err, errlen, "--config %s: targets[%u].alua[%u].tpg: target port group %u but %s%u portal%s",
                         cfg->config_file, i + 1, k, (unsigned)t->alua[k].tpg,
                         t->n_listen == 1 ? "there is only " : "there are only ", t->n_listen,
                         t->n_listen == 1 ? "" : "s");
                return -EINVAL;
            }
        }
        if (t->n_luns == 0) {
            if (prt_parse_lun(PRT_DEFAULT_LUN, &t->luns[0], err, errlen) != 0)
                return -EINVAL;
            t->luns[0].spec = PRT_DEFAULT_LUN;
            t->n_luns = 1;
        }
    }
    return 0;
}

int prt_config_apply(struct prt_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    struct prt_config file;
    int rc;

    if (cfg->pr_profile) {
        bool ok = false;
        for (size_t i = 0; prt__profiles[i]; i++)
            ok = ok || strcmp(cfg->pr_profile, prt__profiles[i]) == 0;
        if (!ok) {
            snprintf(err, errlen, "--pr-profile %s: not a PR profile (full, spc3, dlt-s4, sl150)", cfg->pr_profile);
            return -EINVAL;
        }
    }
    if (!cfg->config_file)
        return prt__security_flags(cfg, NULL, argc, argv, err, errlen);
    if ((rc = prt_config_load(cfg->config_file, &file, err, errlen)) != 0) {
        /* design.md: the one line names the flag as well as the file, path and problem. */
        char why[PRT_ERR_LEN];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "--config %s", why);
        return rc;
    }
    /* docs/config.md: the file is the base; a flag on the command line wins. --listen and --lun replace the
     * file's lists as a whole, so that the numbering of portals and LUNs never mixes two sources. */
    if (!prt__flag_given(argc, argv, "--listen") && file.n_listen) {
        memcpy(cfg->listen, file.listen, sizeof cfg->listen);
        cfg->n_listen = file.n_listen;
    }
    if (!prt__flag_given(argc, argv, "--lun") && file.n_luns) {
        memcpy(cfg->luns, file.luns, sizeof cfg->luns);
        cfg->n_luns = file.n_luns;
    }
    if (!prt__flag_given(argc, argv, "--target") && file.target)
        cfg->target = file.target;
    if (!prt__flag_given(argc, argv, "--state-dir") && file.state_dir)
        cfg->state_dir = file.state_dir;
    if (!prt__flag_given(argc, argv, "--control") && file.control)
        cfg->control = file.control;
    if (!prt__flag_given(argc, argv, "--event-log") && file.event_log)
        cfg->event_log = file.event_log;
    if (!prt__flag_given(argc, argv, "--log-level"))
        cfg->log_level = file.log_level;
    if (!prt__flag_given(argc, argv, "--log-format"))
        cfg->log_json = file.log_json;
    cfg->config_owned = file.config_owned;
    cfg->more = file.more; /* prt_config_release(cfg) frees them from here on */
    cfg->n_more = file.n_more;
    /* A state for a group without a portal would be silently lost, so it is refused; with --listen the groups
     * are the flag's portals. */
    for (unsigned k = 0; k < file.n_alua; k++) {
        if (file.alua[k].tpg > cfg->n_listen) {
            snprintf(err, errlen, "--config %s: targets[0].alua[%u].tpg: target port group %u but %s%u portal%s",
                     cfg->config_file, k, (unsigned)file.alua[k].tpg,
                     prt__flag_given(argc, argv, "--listen") ? "--listen gives "
                     : cfg->n_listen == 1                    ? "there is only "
                                                             : "there are only ",
                     cfg->n_listen, cfg->n_listen == 1 ? "" : "s");
            return -EINVAL;
        }
    }
    memcpy(cfg->alua, file.alua, sizeof cfg->alua);
    cfg->n_alua = file.n_alua;
    if ((rc = prt__more_targets(cfg, err, errlen)) != 0)
        return rc;
    return prt__security_flags(cfg, &file, argc, argv, err, errlen);
}
