/* The command line of prtarget (design.md, "Command-line contract"). Every problem becomes one line naming the
 * flag and what is wrong with it; the caller prints it and exits 2. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/prt_app.h"

static const char prt__usage[] =
    "usage: prtarget [--config FILE] [--listen HOST:PORT]... [--target IQN] [--lun SPEC]...\n"
    "                [--state-dir DIR] [--control PATH] [--event-log FILE] [--pr-profile NAME]\n"
    "                [--log-level error|warn|info|debug] [--log-format text|json] [--help] [--version]\n"
    "A user-space iSCSI target with SPC-4 persistent reservations.\n"
    "  --listen HOST:PORT   portal, repeatable; each is its own portal group (TPGT 1, 2, ...).\n"
    "                       Port 0 picks a free port. IPv6: [::1]:3260. Default " PRT_DEFAULT_LISTEN "\n"
    "  --target IQN         target name. Default " PRT_DEFAULT_TARGET "\n"
    "  --lun SPEC           repeatable, LUN 0, 1, ... in order. Default " PRT_DEFAULT_LUN "\n"
    "                       mem:SIZE          memory, committed only as written\n"
    "                       file:PATH         an existing file, its size\n"
    "                       file:PATH:SIZE    created or extended to SIZE\n"
    "                       SIZE takes K M G T suffixes; append ,ro for read-only, ,bs=4096 for 4K blocks,\n"
    "                       ,removable, ,sanitize to accept SANITIZE (,sanitize=10s or =500ms: emulated time)\n"
    "  --state-dir DIR      persistent state (APTPL, LU identities). Default: beside a file LU\n"
    "  --control PATH       control socket for prtargetctl. Default $XDG_RUNTIME_DIR/prtarget.sock,\n"
    "                       /run/prtarget.sock as root\n"
    "  --event-log FILE     append the PR event log (JSON lines) to FILE\n"
    "  --pr-profile NAME    PR capabilities of every LU: full (default), spc3, dlt-s4, sl150\n"
    "  --log-level LEVEL    error, warn, info (default) or debug; logs go to stderr\n"
    "  --log-format FMT     text (default) or json (one object per line)\n"
    "  --config FILE        JSON configuration file\n"
    "  --chap USER:SECRET   require CHAP (also --chap-mutual, --chap-file, --allow-initiator; config.md)\n"
    "Ready: one line per portal and LUN on stdout, \"prtarget: ready iscsi://HOST:PORT/IQN/LUN\".\n"
    "SIGTERM or SIGINT stops it cleanly (exit 0). A bad flag exits 2.\n";

static void prt__err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void prt__err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int prt_parse_size(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    unsigned shift = 0;
    switch (*p) {
    case '\0': break;
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    case 't': case 'T': shift = 40; p++; break;
    default: return -EINVAL;
    }
    /* "1G" and "1GiB" both read naturally; anything else after the suffix is a typo. */
    if (shift && (strcmp(p, "iB") == 0 || strcmp(p, "B") == 0))
        p += strlen(p);
    if (*p != '\0')
        return -EINVAL;
    if (shift && v > (UINT64_MAX >> shift))
        return -EINVAL;
    v <<= shift;
    if (v == 0)
        return -EINVAL;
    *out = v;
    return 0;
}

/* ",sanitize=TIME": the emulated SANITIZE duration, a whole number of seconds ("10s") or milliseconds ("500ms"),
 * at most a day, since a longer one would only leave the LU unusable for the length of a test run. */
static int prt__parse_sanitize_time(const char *t, uint64_t *ms)
{
    char *end = NULL;
    unsigned long long v;

    if (*t < '0' || *t > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(t, &end, 10);
    if (errno || v > PRT_SANITIZE_MAX_MS)
        return -EINVAL;
    if (strcmp(end, "s") == 0 && v <= PRT_SANITIZE_MAX_MS / 1000)
        *ms = v * 1000;
    else if (strcmp(end, "ms") == 0)
        *ms = v;
    else
        return -EINVAL;
    return 0;
}

/* Options after the first ',' of a LUN spec: "ro", "bs=512", "bs=4096", "removable", "sanitize[=TIME]". */
static int prt__parse_lun_opts(char *opts, struct prt_lun_spec *lun, char *err, size_t errlen)
{
    char *save = NULL;
    for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        if (strcmp(o, "ro") == 0) {
            lun->read_only = true;
        } else if (strcmp(o, "removable") == 0) {
            lun->removable = true;
        } else if (strcmp(o, "sanitize") == 0) {
            lun->sanitize = true;
        } else if (strncmp(o, "sanitize=", 9) == 0) {
            if (prt__parse_sanitize_time(o + 9, &lun->sanitize_ms) != 0) {
                prt__err(err, errlen, "'%s': the sanitize time is like 10s or 500ms, at most 86400s", o);
                return -EINVAL;
            }
            lun->sanitize = true;
        } else if (strcmp(o, "bs=512") == 0) {
            lun->block_size = 512;
        } else if (strcmp(o, "bs=4096") == 0 || strcmp(o, "bs=4K") == 0 || strcmp(o, "bs=4k") == 0) {
            lun->block_size = 4096;
        } else {
            prt__err(err, errlen, "unknown option '%s' (use ro, bs=512, bs=4096, removable or sanitize)", o);
            return -EINVAL;
        }
    }
    return 0;
}

int prt_parse_lun(const char *spec, struct prt_lun_spec *lun, char *err, size_t errlen)
{
    char buf[sizeof lun->path + 64];
    memset(lun, 0, sizeof *lun);
    lun->spec = spec;
    lun->block_size = 512;
    if (strlen(spec) >= sizeof buf) {
        prt__err(err, errlen, "too long");
        return -EINVAL;
    }
    strcpy(buf, spec);
    char *opts = strchr(buf, ',');
    if (opts) {
        *opts++ = '\0';
        if (prt__parse_lun_opts(opts, lun, err, errlen))
            return -EINVAL;
    }
    if (strncmp(buf, "mem:", 4) == 0) {
        if (prt_parse_size(buf + 4, &lun->size)) {
            prt__err(err, errlen, "bad size '%s' (e.g. mem:1G; suffixes K M G T)", buf + 4);
            return -EINVAL;
        }
    } else if (strncmp(buf, "file:", 5) == 0) {
        lun->file = true;
        char *path = buf + 5;
        /* file:PATH:SIZE when what follows the last ':' is a size; otherwise the whole rest is the path. */
        char *colon = strrchr(path, ':');
        if (colon && prt_parse_size(colon + 1, &lun->size) == 0)
            *colon = '\0';
        else if (colon && colon[1] >= '0' && colon[1] <= '9') {
            prt__err(err, errlen, "bad size '%s' (e.g. file:/var/lib/lu0.img:10G)", colon + 1);
            return -EINVAL;
        }
        if (*path == '\0') {
            prt__err(err, errlen, "missing path (file:PATH or file:PATH:SIZE)");
            return -EINVAL;
        }
        strcpy(lun->path, path);
    } else {
        prt__err(err, errlen, "unknown backend (use mem:SIZE, file:PATH or file:PATH:SIZE)");
        return -EINVAL;
    }
    if (lun->size && lun->size % lun->block_size) {
        prt__err(err, errlen, "size %llu is not a multiple of the block size %u", (unsigned long long)lun->size,
                 (unsigned)lun->block_size);
        return -EINVAL;
    }
    return 0;
}

/* "HOST:PORT" with a dotted IPv4 address or a bracketed IPv6 one; the net layer resolves it, this only makes
 * sure the shape is right so the message can name the flag. */
static int prt__check_listen(const char *a, char *err, size_t errlen)
{
    const char *port;
    if (a[0] == '[') {
        const char *rb = strchr(a, ']');
        if (!rb || rb == a + 1 || rb[1] != ':') {
            prt__err(err, errlen, "--listen %s: expected [IPV6]:PORT", a);
            return -EINVAL;
        }
        port = rb + 2;
    } else {
        const char *c = strchr(a, ':');
        if (!c || c == a || strchr(c + 1, ':')) {
            prt__err(err, errlen, "--listen %s: expected HOST:PORT (IPv6 as [::1]:3260)", a);
            return -EINVAL;
        }
        port = c + 1;
    }
    /* The host must be a numeric address: a name would need a resolver, and a typo must fail here, naming
     * the flag, rather than at bind time. */
    char host[64];
    const char *host_start = a[0] == '[' ? a + 1 : a;
    size_t host_len = (size_t)(port - host_start) - (a[0] == '[' ? 2 : 1);
    unsigned char addr_buf[sizeof(struct in6_addr)];
    if (host_len >= sizeof host) {
        prt__err(err, errlen, "--listen %s: host too long", a);
        return -EINVAL;
    }
    memcpy(host, host_start, host_len);
    host[host_len] = '\0';
    if (inet_pton(a[0] == '[' ? AF_INET6 : AF_INET, host, addr_buf) != 1) {
        prt__err(err, errlen, "--listen %s: '%s' is not a numeric %s address", a, host,
                 a[0] == '[' ? "IPv6" : "IPv4");
        return -EINVAL;
    }
    char *end;
    errno = 0;
    unsigned long p = strtoul(port, &end, 10);
    if (*port < '0' || *port > '9' || *end != '\0' || errno || p > 65535) {
        prt__err(err, errlen, "--listen %s: bad port '%s' (0-65535)", a, port);
        return -EINVAL;
    }
    return 0;
}

/* RFC 7143 4.2.7.1: an iqn. or eui. (or naa.) name of at most 223 bytes, no spaces. */
static int prt__check_iqn(const char *n, char *err, size_t errlen)
{
    size_t len = strlen(n);
    if (len == 0 || len > 223 || (strncmp(n, "iqn.", 4) && strncmp(n, "eui.", 4) && strncmp(n, "naa.", 4))) {
        prt__err(err, errlen, "--target %s: expected an iqn., eui. or naa. name of at most 223 bytes", n);
        return -EINVAL;
    }
    for (const char *p = n; *p; p++) {
        if (*p <= ' ' || *p == '/' || (unsigned char)*p >= 0x7f) {
            prt__err(err, errlen, "--target %s: character '%c' is not allowed in an iSCSI name", n, *p);
            return -EINVAL;
        }
    }
    return 0;
}

enum prt_cli_result prt_cli_parse(int argc, char **argv, struct prt_config *cfg, FILE *out, char *err,
                                  size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->target = PRT_DEFAULT_TARGET;
    cfg->log_level = PRT_LOG_INFO;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;
        char name[64];
        if (strncmp(arg, "--", 2) != 0) {
            prt__err(err, errlen, "%s: unexpected argument (flags start with --; see --help)", arg);
            return PRT_CLI_ERROR;
        }
        const char *eq = strchr(arg, '=');
        size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        if (nlen >= sizeof name) {
            prt__err(err, errlen, "%.40s...: unknown flag (see --help)", arg);
            return PRT_CLI_ERROR;
        }
        memcpy(name, arg, nlen);
        name[nlen] = '\0';
        if (strcmp(name, "--help") == 0 || strcmp(name, "--version") == 0) {
            if (eq) {
                prt__err(err, errlen, "%s takes no value", name);
                return PRT_CLI_ERROR;
            }
            fputs(name[2] == 'h' ? prt__usage : "prtarget " PRT_VERSION "\n", out);
            return PRT_CLI_EXIT;
        }
        static const char *const with_value[] = { "--config", "--listen", "--target", "--lun", "--state-dir",
                                                  "--control", "--log-level", "--log-format", "--event-log",
                                                  "--pr-profile", "--chap", "--chap-mutual", "--chap-file",
                                                  "--allow-initiator" };
        bool known = false;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            known = known || strcmp(name, with_value[k]) == 0;
        if (!known) {
            prt__err(err, errlen, "%s: unknown flag (see --help)", name);
            return PRT_CLI_ERROR;
        }
        if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            prt__err(err, errlen, "%s: missing value", name);
            return PRT_CLI_ERROR;
        }
        if (*val == '\0') {
            prt__err(err, errlen, "%s: empty value", name);
            return PRT_CLI_ERROR;
        }

        if (strcmp(name, "--listen") == 0) {
            if (cfg->n_listen == PRT_MAX_PORTALS) {
                prt__err(err, errlen, "--listen: at most %d portals", PRT_MAX_PORTALS);
                return PRT_CLI_ERROR;
            }
            if (prt__check_listen(val, err, errlen))
                return PRT_CLI_ERROR;
            cfg->listen[cfg->n_listen++] = val;
        } else if (strcmp(name, "--target") == 0) {
            if (prt__check_iqn(val, err, errlen))
                return PRT_CLI_ERROR;
            cfg->target = val;
        } else if (strcmp(name, "--lun") == 0) {
            if (cfg->n_luns == PRT_MAX_LUNS) {
                prt__err(err, errlen, "--lun: at most %d LUNs", PRT_MAX_LUNS);
                return PRT_CLI_ERROR;
            }
            char why[PRT_ERR_LEN];
            if (prt_parse_lun(val, &cfg->luns[cfg->n_luns], why, sizeof why)) {
                prt__err(err, errlen, "--lun %s: %s", val, why);
                return PRT_CLI_ERROR;
            }
            cfg->n_luns++;
        } else if (strcmp(name, "--state-dir") == 0) {
            cfg->state_dir = val;
        } else if (strcmp(name, "--control") == 0) {
            cfg->control = val;
        } else if (strcmp(name, "--config") == 0) {
            cfg->config_file = val;
        } else if (strcmp(name, "--event-log") == 0) {
            cfg->event_log = val;
        } else if (strcmp(name, "--chap") == 0) {
            cfg->chap_arg = val; /* USER:SECRET or USER; split and checked by prt_config_apply() */
        } else if (strcmp(name, "--chap-mutual") == 0) {
            cfg->chap_mutual_arg = val;
        } else if (strcmp(name, "--chap-file") == 0) {
            cfg->chap_file = val;
        } else if (strcmp(name, "--allow-initiator") == 0) {
            if (cfg->n_acl == PRT_MAX_ACL) {
                prt__err(err, errlen, "--allow-initiator: at most %d initiators", PRT_MAX_ACL);
                return PRT_CLI_ERROR;
            }
            cfg->acl[cfg->n_acl++] = val; /* the name is checked by prt_config_apply() */
        } else if (strcmp(name, "--pr-profile") == 0) {
            cfg->pr_profile = val; /* checked against the profile list when the LUs are built */
        } else if (strcmp(name, "--log-level") == 0) {
            static const char *const levels[] = { "error", "warn", "info", "debug" };
            bool ok = false;
            for (int l = 0; l < 4; l++) {
                if (strcmp(val, levels[l]) == 0) {
                    cfg->log_level = (enum prt_log_level)l;
                    ok = true;
                }
            }
            if (!ok) {
                prt__err(err, errlen, "--log-level %s: expected error, warn, info or debug", val);
                return PRT_CLI_ERROR;
            }
        } else { /* --log-format */
            if (strcmp(val, "text") == 0) {
                cfg->log_json = false;
            } else if (strcmp(val, "json") == 0) {
                cfg->log_json = true;
            } else {
                prt__err(err, errlen, "--log-format %s: expected text or json", val);
                return PRT_CLI_ERROR;
            }
        }
    }

    if (cfg->n_listen == 0)
        cfg->listen[cfg->n_listen++] = PRT_DEFAULT_LISTEN;
    if (cfg->n_luns == 0) {
        char why[PRT_ERR_LEN];
        if (prt_parse_lun(PRT_DEFAULT_LUN, &cfg->luns[0], why, sizeof why)) {
            prt__err(err, errlen, "default LUN: %s", why);
            return PRT_CLI_ERROR;
        }
        cfg->n_luns = 1;
    }
    return PRT_CLI_RUN;
}
