/* prbench's command line. A hand-written parser rather than getopt_long: --vs takes two arguments, and the parser
 * keeps no state outside the structure it fills, so the unit tests can call it any number of times. */
#include "app/prbench.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define ME "prbench"

static const char *const workload_names[PRT_BENCH_W_COUNT] = {
    [PRT_BENCH_W_RANDREAD] = "randread",   [PRT_BENCH_W_RANDWRITE] = "randwrite", [PRT_BENCH_W_SEQREAD] = "seqread",
    [PRT_BENCH_W_SEQWRITE] = "seqwrite",   [PRT_BENCH_W_MIXED] = "mixed",         [PRT_BENCH_W_PR_ACCESS] = "pr-access",
    [PRT_BENCH_W_PR_CHURN] = "pr-churn",   [PRT_BENCH_W_PR_READKEYS] = "pr-readkeys",
};

const char *prt_bench_workload_name(enum prt_bench_workload w)
{
    return (unsigned)w < PRT_BENCH_W_COUNT ? workload_names[w] : "?";
}

int prt_bench_workload_from_name(const char *s, enum prt_bench_workload *w)
{
    for (unsigned i = 0; i < PRT_BENCH_W_COUNT; i++) {
        if (strcmp(s, workload_names[i]) == 0) {
            *w = (enum prt_bench_workload)i;
            return 0;
        }
    }
    return -EINVAL;
}

bool prt_bench_workload_is_pr(enum prt_bench_workload w)
{
    return w == PRT_BENCH_W_PR_ACCESS || w == PRT_BENCH_W_PR_CHURN || w == PRT_BENCH_W_PR_READKEYS;
}

bool prt_bench_workload_reads(enum prt_bench_workload w)
{
    return w == PRT_BENCH_W_RANDREAD || w == PRT_BENCH_W_SEQREAD || w == PRT_BENCH_W_MIXED;
}

/* Persistent reservation TYPE codes (SPC-4 6.15.3; their access rules in 5.13.1); the short names are
 * sg_persist's. Type 0 is not a reservation type: here it means "register only, reserve nothing". */
static const struct {
    const char *name;
    int type;
} pr_types[] = {
    {"none", 0}, {"wr-ex", 1}, {"ex-ac", 3}, {"wr-ex-ro", 5}, {"ex-ac-ro", 6}, {"wr-ex-ar", 7}, {"ex-ac-ar", 8},
};

int prt_bench_pr_type_from_name(const char *s, int *type)
{
    for (size_t i = 0; i < sizeof(pr_types) / sizeof(pr_types[0]); i++) {
        if (strcmp(s, pr_types[i].name) == 0) {
            *type = pr_types[i].type;
            return 0;
        }
    }
    uint64_t v;
    if (prt_bench_parse_u64(s, &v) == 0) {
        for (size_t i = 0; i < sizeof(pr_types) / sizeof(pr_types[0]); i++) {
            if ((uint64_t)pr_types[i].type == v) {
                *type = (int)v;
                return 0;
            }
        }
    }
    return -EINVAL;
}

const char *prt_bench_pr_type_name(int type)
{
    for (size_t i = 0; i < sizeof(pr_types) / sizeof(pr_types[0]); i++)
        if (pr_types[i].type == type)
            return pr_types[i].name;
    return "?";
}

int prt_bench_parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -EINVAL;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    if (*s != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

int prt_bench_parse_size(const char *s, uint64_t *out, bool *had_suffix)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -EINVAL;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    unsigned shift = 0;
    bool suffix = false;
    if (*s != '\0') {
        switch (*s) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        case 't': case 'T': shift = 40; break;
        default: return -EINVAL;
        }
        suffix = true;
        s++;
        /* "4KiB" and "4KB" are read as the binary multiple too: block sizes are never decimal. */
        if (*s == 'i' || *s == 'I')
            s++;
        if (*s == 'b' || *s == 'B')
            s++;
        if (*s != '\0')
            return -EINVAL;
    }
    if (shift != 0 && v > (UINT64_MAX >> shift))
        return -ERANGE;
    *out = v << shift;
    if (had_suffix != NULL)
        *had_suffix = suffix;
    return 0;
}

static void defaults(struct prt_bench_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->workload = PRT_BENCH_W_COUNT;
    o->bs = 4096;
    o->sessions = 1;
    o->seconds = 10.0;
    o->read_pct = 70;
    o->login_batch = 32;
    o->pr_type = -1;
    o->access_io = PRT_BENCH_W_RANDREAD;
    o->prin = PRT_BENCH_PRIN_READ_KEYS;
    o->rounds = 3;
    o->seed = 1;
    o->iname = PRT_BENCH_DEFAULT_INAME;
}

static int bad(FILE *err, const char *fmt, const char *a, const char *b)
{
    fprintf(err, ME ": ");
    fprintf(err, fmt, a, b);
    fputc('\n', err);
    return PRT_BENCH_EXIT_USAGE;
}

/* A count option within [lo, hi]. */
static int count_opt(FILE *err, const char *opt, const char *val, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t v;
    if (prt_bench_parse_u64(val, &v) != 0 || v < lo || v > hi) {
        fprintf(err, ME ": %s: '%s' is not a number from %" PRIu64 " to %" PRIu64 "\n", opt, val, lo, hi);
        return PRT_BENCH_EXIT_USAGE;
    }
    *out = v;
    return 0;
}

static int parse_seconds(const char *s, double *out)
{
    if (s == NULL || *s == '\0')
        return -EINVAL;
    /* strtod accepts "inf", "nan", exponents and hex floats; a run length is a plain positive decimal. */
    for (const char *c = s; *c != '\0'; c++)
        if ((*c < '0' || *c > '9') && *c != '.')
            return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(v > 0.0) || v > 86400.0)
        return -EINVAL;
    *out = v;
    return 0;
}

int prt_bench_parse_args(struct prt_bench_opts *o, int argc, char **argv, FILE *err)
{
    defaults(o);
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    bool qd_set = false, type_set = false;
    bool seconds_set = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0) {
            if (strcmp(a, "--") == 0) {
                if (i + 1 < argc)
                    a = argv[++i];
                else
                    break;
            }
            if (npos == 2)
                return bad(err, "unexpected argument '%s'%s", a, "");
            pos[npos++] = a;
            continue;
        }
        /* --opt=value and --opt value are both accepted. */
        char name[32];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t nlen = eq != NULL ? (size_t)(eq - a) : strlen(a);
        if (nlen >= sizeof(name))
            return bad(err, "unknown option '%s'%s", a, "");
        memcpy(name, a, nlen);
        name[nlen] = '\0';

        if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
            o->help = true;
            return 0;
        }
        if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
            o->version = true;
            return 0;
        }
        if (strcmp(name, "--json") == 0 || strcmp(name, "--quiet") == 0 || strcmp(name, "-q") == 0 ||
            strcmp(name, "--drop-registrants") == 0) {
            if (eq != NULL)
                return bad(err, "%s takes no value%s", name, "");
            if (strcmp(name, "--json") == 0)
                o->json = true;
            else if (strcmp(name, "--drop-registrants") == 0)
                o->drop_registrants = true;
            else
                o->quiet = true;
            continue;
        }
        if (strcmp(name, "--vs") == 0) {
            if (eq != NULL || i + 2 >= argc)
                return bad(err, "--vs needs two URLs: --vs URL_A URL_B%s%s", "", "");
            o->vs[0] = argv[++i];
            o->vs[1] = argv[++i];
            o->compare = true;
            continue;
        }
        if (eq != NULL) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc)
                return bad(err, "%s needs a value%s", name, "");
            val = argv[++i];
        }

        uint64_t v;
        bool suffix;
        int rc;
        if (strcmp(name, "--bs") == 0 || strcmp(name, "-b") == 0) {
            if (prt_bench_parse_size(val, &v, NULL) != 0 || v == 0 || v > PRT_BENCH_MAX_BS)
                return bad(err, "--bs: '%s' is not a size from 1 to 16M%s", val, "");
            o->bs = (uint32_t)v;
        } else if (strcmp(name, "--qd") == 0 || strcmp(name, "-d") == 0) {
            if ((rc = count_opt(err, "--qd", val, 1, PRT_BENCH_MAX_QD, &v)) != 0)
                return rc;
            o->qd = (uint32_t)v;
            qd_set = true;
        } else if (strcmp(name, "--sessions") == 0 || strcmp(name, "-s") == 0) {
            if ((rc = count_opt(err, "--sessions", val, 1, PRT_BENCH_MAX_SESSIONS, &v)) != 0)
                return rc;
            o->sessions = (uint32_t)v;
        } else if (strcmp(name, "--seconds") == 0 || strcmp(name, "-t") == 0) {
            if (parse_seconds(val, &o->seconds) != 0)
                return bad(err, "--seconds: '%s' is not a duration from 0 to 86400 seconds%s", val, "");
            seconds_set = true;
        } else if (strcmp(name, "--ios") == 0 || strcmp(name, "-n") == 0) {
            if ((rc = count_opt(err, "--ios", val, 1, UINT64_MAX, &v)) != 0)
                return rc;
            o->ios = v;
        } else if (strcmp(name, "--lba-range") == 0) {
            if (prt_bench_parse_size(val, &v, &suffix) != 0 || v == 0)
                return bad(err, "--lba-range: '%s' is not a block count or a size (K/M/G/T)%s", val, "");
            o->lba_range = v;
            o->lba_range_bytes = suffix;
        } else if (strcmp(name, "--read-pct") == 0) {
            if ((rc = count_opt(err, "--read-pct", val, 0, 100, &v)) != 0)
                return rc;
            o->read_pct = (uint32_t)v;
        } else if (strcmp(name, "--registrants") == 0 || strcmp(name, "-r") == 0) {
            if ((rc = count_opt(err, "--registrants", val, 0, PRT_BENCH_MAX_REGISTRANTS, &v)) != 0)
                return rc;
            o->registrants = (uint32_t)v;
        } else if (strcmp(name, "--login-batch") == 0) {
            if ((rc = count_opt(err, "--login-batch", val, 1, 1024, &v)) != 0)
                return rc;
            o->login_batch = (uint32_t)v;
        } else if (strcmp(name, "--type") == 0) {
            if (prt_bench_pr_type_from_name(val, &o->pr_type) != 0)
                return bad(err, "--type: '%s' is not a PR type (none wr-ex ex-ac wr-ex-ro ex-ac-ro wr-ex-ar "
                                "ex-ac-ar, or 0 1 3 5 6 7 8)%s", val, "");
            type_set = true;
        } else if (strcmp(name, "--io") == 0) {
            enum prt_bench_workload w;
            if (prt_bench_workload_from_name(val, &w) != 0 || prt_bench_workload_is_pr(w))
                return bad(err, "--io: '%s' is not a data workload (randread randwrite seqread seqwrite mixed)%s",
                           val, "");
            o->access_io = w;
        } else if (strcmp(name, "--prin") == 0) {
            if (strcmp(val, "read-keys") == 0 || strcmp(val, "keys") == 0)
                o->prin = PRT_BENCH_PRIN_READ_KEYS;
            else if (strcmp(val, "read-full-status") == 0 || strcmp(val, "full") == 0)
                o->prin = PRT_BENCH_PRIN_READ_FULL_STATUS;
            else
                return bad(err, "--prin: '%s' is not read-keys or read-full-status%s", val, "");
        } else if (strcmp(name, "--rounds") == 0) {
            if ((rc = count_opt(err, "--rounds", val, 1, PRT_BENCH_MAX_ROUNDS, &v)) != 0)
                return rc;
            o->rounds = (uint32_t)v;
        } else if (strcmp(name, "--seed") == 0) {
            if ((rc = count_opt(err, "--seed", val, 0, UINT64_MAX, &v)) != 0)
                return rc;
            o->seed = v;
        } else if (strcmp(name, "--initiator") == 0 || strcmp(name, "-i") == 0) {
            /* Registrant names append ".r" and up to five digits (RFC 7143 4.2.7.1 caps a name at 223 bytes). */
            if (val[0] == '\0' || strlen(val) > PRT_BENCH_INAME_MAX - 1 - 8)
                return bad(err, "--initiator: name must be 1 to 215 bytes%s%s", "", "");
            o->iname = val;
        } else {
            return bad(err, "unknown option '%s'%s", name, "");
        }
    }

    if (npos == 0)
        return bad(err, "no workload given (randread randwrite seqread seqwrite mixed pr-access pr-churn "
                        "pr-readkeys); see --help%s%s", "", "");
    if (prt_bench_workload_from_name(pos[0], &o->workload) != 0)
        return bad(err, "unknown workload '%s'%s", pos[0], "");
    if (o->compare) {
        if (npos > 1)
            return bad(err, "a URL and --vs URL_A URL_B exclude each other ('%s')%s", pos[1], "");
    } else {
        if (npos < 2)
            return bad(err, "no iscsi:// URL given (or --vs URL_A URL_B)%s%s", "", "");
        o->url = pos[1];
    }
    const char *urls[2] = {o->compare ? o->vs[0] : o->url, o->compare ? o->vs[1] : NULL};
    for (int k = 0; k < 2; k++)
        if (urls[k] != NULL && strncmp(urls[k], "iscsi://", 8) != 0)
            return bad(err, "'%s' is not an iscsi:// URL%s", urls[k], "");
    if (o->ios != 0 && seconds_set)
        return bad(err, "--seconds and --ios exclude each other%s%s", "", "");

    if (!qd_set) {
        /* A PR OUT sequence depends on the previous command's outcome; readkeys measures one command's cost. */
        if (o->workload == PRT_BENCH_W_PR_CHURN || o->workload == PRT_BENCH_W_PR_READKEYS)
            o->qd = 1;
        else if (o->workload == PRT_BENCH_W_SEQREAD || o->workload == PRT_BENCH_W_SEQWRITE)
            o->qd = 8;
        else
            o->qd = 32;
    }
    if (o->workload == PRT_BENCH_W_PR_CHURN && o->qd != 1)
        return bad(err, "pr-churn runs one command at a time per session (each step needs the last); use "
                        "--sessions for concurrency%s%s", "", "");
    if (!type_set) {
        /* pr-access: under Exclusive Access - Registrants Only every READ and WRITE is allowed or refused by
         * whether its I_T nexus is registered (SPC-4 5.13.1, type 6h), so the device server cannot
         * short-cut its access check on "no reservation" and the lookup cost is what gets measured.
         * pr-churn: Write Exclusive - All Registrants lets several sessions reserve at once, since every
         * registrant is a holder of an all-registrants reservation (SPC-4 5.13.10). */
        o->pr_type = o->workload == PRT_BENCH_W_PR_CHURN ? 7 : 6;
    }
    if (o->workload == PRT_BENCH_W_PR_CHURN && o->pr_type == 0)
        return bad(err, "pr-churn needs a reservation type (--type none only fits pr-access)%s%s", "", "");
    if (!prt_bench_workload_is_pr(o->workload) && (o->registrants != 0 || type_set))
        return bad(err, "--registrants and --type apply to pr-access, pr-churn and pr-readkeys, not %s%s",
                   prt_bench_workload_name(o->workload), "");
    return 0;
}

void prt_bench_usage(FILE *out)
{
    fputs("usage: prbench WORKLOAD [options] iscsi://HOST[:PORT]/IQN/LUN\n"
          "       prbench WORKLOAD [options] --vs URL_A URL_B [--rounds N]\n"
          "workloads: randread randwrite seqread seqwrite mixed   (data path)\n"
          "           pr-access    I/O while --registrants other initiator ports hold registrations\n"
          "           pr-churn     PR OUT REGISTER, RESERVE, RELEASE, unregister: rate and latency\n"
          "           pr-readkeys  PR IN READ KEYS (or --prin read-full-status) latency\n"
          "options:\n"
          "  -b, --bs SIZE          bytes per I/O (4K)\n"
          "  -d, --qd N             commands in flight per session (32; seq* 8; pr-churn, pr-readkeys 1)\n"
          "  -s, --sessions N       sessions, each its own I_T nexus (1)\n"
          "  -t, --seconds S        measured interval (10)\n"
          "  -n, --ios N            stop after N commands instead\n"
          "      --lba-range N|SIZE blocks (or bytes with K/M/G/T) addressed from LBA 0 (whole LU)\n"
          "      --read-pct P       mixed: percentage of reads (70)\n"
          "  -r, --registrants N    pr-access, pr-readkeys: other registered initiator ports (0)\n"
          "      --drop-registrants log registrants out once registered (default: keep them logged in)\n"
          "      --login-batch N    registrant logins in flight at once (32)\n"
          "      --type T           PR type: none wr-ex ex-ac wr-ex-ro ex-ac-ro wr-ex-ar ex-ac-ar\n"
          "                         (pr-access ex-ac-ro; pr-churn wr-ex-ar)\n"
          "      --io WORKLOAD      pr-access: the data workload (randread)\n"
          "      --prin SA          pr-readkeys: read-keys or read-full-status\n"
          "      --vs URL_A URL_B   compare: alternate A and B for --rounds rounds (3), print medians and A/B\n"
          "      --seed N           random LBA seed (1)\n"
          "  -i, --initiator IQN    base initiator name (" PRT_BENCH_DEFAULT_INAME ")\n"
          "      --json             one JSON object per line instead of text\n"
          "  -q, --quiet            compare mode: only the summary\n"
          "exit status: 0 success, 1 login or I/O failure, 2 bad arguments\n",
          out);
}
