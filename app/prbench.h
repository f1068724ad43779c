/* prbench: a load generator for iSCSI logical units, on libiscsi's asynchronous API, that measures any iscsi:// URL
 * (prtarget, tgt, LIO, ...) with plain data workloads and with the persistent-reservation workloads no other tool
 * measures (access checks under many registrants, PR OUT churn, PR IN READ KEYS / READ FULL STATUS cost).
 *
 * The program is split so that everything except the network exchange is pure and unit-testable:
 *   prbench_opts.c   the command line (sizes, counts, workload and PR type names) and its one-line refusals;
 *   prbench_stats.c  the latency histogram, percentiles, medians, and the human and JSON result lines;
 *   prbench_io.c     sessions on libiscsi (login, poll loop, I/O workloads, PR setup and PR workloads);
 *   prbench.c        main(): one run or the A/B compare mode, and the exit statuses.
 * Only prbench_io.c includes libiscsi headers.
 *
 * Exit statuses: 0 success, 2 bad arguments (one line on stderr), 1 login or I/O failure.
 */
#ifndef PRBENCH_H
#define PRBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PRT_BENCH_VERSION "1.0 (prtarget 0.1.0)"
#define PRT_BENCH_DEFAULT_INAME "iqn.2026-11.org.prtarget:prbench"

enum prt_bench_exit {
    PRT_BENCH_EXIT_OK = 0,
    PRT_BENCH_EXIT_FAIL = 1,  /* login, I/O or protocol failure during a run */
    PRT_BENCH_EXIT_USAGE = 2, /* bad command line */
};

enum prt_bench_workload {
    PRT_BENCH_W_RANDREAD,
    PRT_BENCH_W_RANDWRITE,
    PRT_BENCH_W_SEQREAD,
    PRT_BENCH_W_SEQWRITE,
    PRT_BENCH_W_MIXED,
    PRT_BENCH_W_PR_ACCESS,
    PRT_BENCH_W_PR_CHURN,
    PRT_BENCH_W_PR_READKEYS,
    PRT_BENCH_W_COUNT
};

/* Which PR IN service action pr-readkeys issues (SPC-4 6.15.1). */
enum prt_bench_prin {
    PRT_BENCH_PRIN_READ_KEYS = 0,
    PRT_BENCH_PRIN_READ_FULL_STATUS = 3,
};

/* Upper bounds that keep every allocation bounded by the command line. */
#define PRT_BENCH_MAX_SESSIONS 256u
#define PRT_BENCH_MAX_QD 1024u
#define PRT_BENCH_MAX_BS (16u * 1024u * 1024u)
/* SPC-4 7.6.4.6: an iSCSI name is at most 223 bytes; registrant names append a suffix to the base name. */
#define PRT_BENCH_INAME_MAX 224u
/* A libiscsi ISID qualifier is 16 bits; each registrant needs its own I_T nexus. */
#define PRT_BENCH_MAX_REGISTRANTS 65535u
#define PRT_BENCH_MAX_ROUNDS 99u

struct prt_bench_opts {
    enum prt_bench_workload workload;
    const char *url;          /* single-run target (NULL in compare mode) */
    const char *vs[2];        /* compare mode: URL_A, URL_B */
    bool compare;
    uint32_t bs;              /* bytes per I/O; a multiple of the LU's block size (checked after login) */
    uint32_t qd;              /* commands in flight per session */
    uint32_t sessions;        /* measuring sessions, each its own I_T nexus (distinct ISID) */
    double seconds;           /* run length, unless ios is set */
    uint64_t ios;             /* stop after this many completed commands (0: run for seconds) */
    uint64_t lba_range;       /* logical blocks addressed from LBA 0 (0: the whole LU) */
    bool lba_range_bytes;     /* lba_range was given in bytes (a K/M/G/T suffix) and is converted after login */
    uint32_t read_pct;        /* mixed: share of reads, 0..100 */
    uint32_t registrants;     /* pr-access, pr-readkeys: other initiator ports that hold a registration */
    bool drop_registrants;    /* log registrant sessions out after they registered instead of keeping them */
    uint32_t login_batch;     /* registrant logins in flight at once */
    int pr_type;              /* PR type for pr-access (0: register only, no reservation) and pr-churn */
    enum prt_bench_workload access_io; /* the data pattern pr-access runs */
    enum prt_bench_prin prin;       /* pr-readkeys: READ KEYS or READ FULL STATUS */
    uint32_t rounds;          /* compare mode */
    uint64_t seed;
    const char *iname;        /* base initiator name */
    bool json;
    bool quiet;               /* no per-round lines in compare mode */
    bool help, version;
};

/* ---- prbench_opts.c ---------------------------------------------------------------------------------------- */

/* Parse argv into *o. Returns 0, or PRT_BENCH_EXIT_USAGE after writing exactly one line to err. --help and --version
 * set o->help / o->version and return 0. */
int prt_bench_parse_args(struct prt_bench_opts *o, int argc, char **argv, FILE *err);
void prt_bench_usage(FILE *out);
/* "4096", "4K", "128k", "1M", "1G", "1T" (binary multiples). 0 or -EINVAL / -ERANGE. */
int prt_bench_parse_size(const char *s, uint64_t *out, bool *had_suffix);
int prt_bench_parse_u64(const char *s, uint64_t *out);
const char *prt_bench_workload_name(enum prt_bench_workload w);
int prt_bench_workload_from_name(const char *s, enum prt_bench_workload *w);
bool prt_bench_workload_is_pr(enum prt_bench_workload w);
bool prt_bench_workload_reads(enum prt_bench_workload w);
/* PR type names as sg_persist's --prout-type numbers or short names (wr-ex, ex-ac, wr-ex-ro, ex-ac-ro, wr-ex-ar,
 * ex-ac-ar, none). Returns 0 or -EINVAL. */
int prt_bench_pr_type_from_name(const char *s, int *type);
const char *prt_bench_pr_type_name(int type);

/* ---- prbench_stats.c --------------------------------------------------------------------------------------- */

/* A log-linear latency histogram in nanoseconds: PRT_BENCH_HIST_SUB sub-buckets per power of two, so a reported
 * percentile is within 1/PRT_BENCH_HIST_SUB (1.6 %) of the true sample; fixed size, no allocation per sample. */
#define PRT_BENCH_HIST_SUB_BITS 6u
#define PRT_BENCH_HIST_SUB (1u << PRT_BENCH_HIST_SUB_BITS)
#define PRT_BENCH_HIST_BUCKETS ((64u - PRT_BENCH_HIST_SUB_BITS + 1u) * PRT_BENCH_HIST_SUB)

struct prt_bench_hist {
    uint64_t count;
    uint64_t sum_ns;
    uint64_t min_ns, max_ns;
    uint64_t bucket[PRT_BENCH_HIST_BUCKETS];
};

void prt_bench_hist_init(struct prt_bench_hist *h);
void prt_bench_hist_add(struct prt_bench_hist *h, uint64_t ns);
void prt_bench_hist_merge(struct prt_bench_hist *dst, const struct prt_bench_hist *src);
/* The sample at quantile q (0..1), nearest-rank, as the midpoint of its bucket clamped to [min, max]; 0 if empty. */
uint64_t prt_bench_hist_quantile(const struct prt_bench_hist *h, double q);
double prt_bench_hist_mean_ns(const struct prt_bench_hist *h);
/* Bucket index of a value, and the smallest value of a bucket (exposed for the unit tests). */
size_t prt_bench__hist_index(uint64_t ns);
uint64_t prt_bench__hist_lower(size_t idx);

/* The outcome of one run, as printed. */
struct prt_bench_result {
    enum prt_bench_workload workload;
    const char *url;
    uint32_t bs, qd, sessions, registrants;
    int pr_type;
    uint64_t ops;            /* completed, successful commands that were measured */
    uint64_t bytes;          /* data moved by them */
    uint64_t retries;        /* commands repeated after a UNIT ATTENTION */
    uint64_t conflicts;      /* pr-churn: RESERVATION CONFLICT replies (exclusive types with several sessions) */
    int64_t keys_seen;       /* registered keys READ KEYS reported after setup, or -1 when not asked */
    double elapsed_s;        /* measured interval */
    double setup_s;          /* logins and registrations before it */
    double iops, mbps;       /* MB = 10^6 bytes */
    double mean_us, p50_us, p99_us, p999_us, min_us, max_us;
};

/* Fill the derived fields (iops, mbps, latency figures) from the counters and the histogram. */
void prt_bench_result_finish(struct prt_bench_result *r, const struct prt_bench_hist *h);
/* One human-readable line (with '\n'). */
void prt_bench_result_print(FILE *out, const struct prt_bench_result *r);
/* One JSON object (with '\n'). Strings are escaped. */
void prt_bench_result_json(FILE *out, const struct prt_bench_result *r);
/* Median of n values (sorts v in place); 0 when n is 0. */
double prt_bench_median(double *v, size_t n);
/* Compare mode: medians of each metric over the rounds of A and of B, and A/B. */
struct prt_bench_compare {
    struct prt_bench_result a, b; /* medians (counters are those of the median-IOPS round) */
    double ratio_iops, ratio_mbps, ratio_mean, ratio_p50, ratio_p99, ratio_p999;
    uint32_t rounds;
};
int prt_bench_compare(struct prt_bench_compare *c, const struct prt_bench_result *a, const struct prt_bench_result *b,
                      size_t rounds);
void prt_bench_compare_print(FILE *out, const struct prt_bench_compare *c);
void prt_bench_compare_json(FILE *out, const struct prt_bench_compare *c);
void prt_bench_json_string(FILE *out, const char *s);

/* ---- prbench_io.c ------------------------------------------------------------------------------------------ */

/* One complete run against url: log in, set up PR state when the workload needs it, measure, clean up, log out.
 * Returns PRT_BENCH_EXIT_OK with *r filled, or PRT_BENCH_EXIT_FAIL / PRT_BENCH_EXIT_USAGE (a URL libiscsi cannot
 * parse, a --bs or --lba-range the LU does not fit) after writing one line naming the problem to err. */
int prt_bench_run(const struct prt_bench_opts *o, const char *url, struct prt_bench_result *r, FILE *err);

#endif
