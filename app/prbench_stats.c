/* prbench's statistics: a fixed-size log-linear latency histogram, percentiles, medians over compare rounds, and
 * the one-line text and JSON renderings of a result. Pure functions; no libiscsi, and no libm calls
 * (the program links only libiscsi). */
#include "app/prbench.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void prt_bench_hist_init(struct prt_bench_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min_ns = UINT64_MAX;
}

/* Values below PRT_BENCH_HIST_SUB get a bucket each; above, the bucket is chosen by the position of the highest set bit
 * (the power of two) and the PRT_BENCH_HIST_SUB_BITS bits below it (the linear step within that power). */
size_t prt_bench__hist_index(uint64_t ns)
{
    if (ns < PRT_BENCH_HIST_SUB)
        return (size_t)ns;
    unsigned msb = 63u - (unsigned)__builtin_clzll(ns);
    unsigned shift = msb - PRT_BENCH_HIST_SUB_BITS;
    uint64_t sub = (ns >> shift) & (PRT_BENCH_HIST_SUB - 1u);
    return (size_t)(shift + 1u) * PRT_BENCH_HIST_SUB + (size_t)sub;
}

uint64_t prt_bench__hist_lower(size_t idx)
{
    if (idx < PRT_BENCH_HIST_SUB)
        return idx;
    size_t shift = idx / PRT_BENCH_HIST_SUB - 1u;
    uint64_t sub = idx % PRT_BENCH_HIST_SUB;
    return (PRT_BENCH_HIST_SUB | sub) << shift;
}

static uint64_t hist_upper(size_t idx)
{
    if (idx + 1 >= PRT_BENCH_HIST_BUCKETS)
        return UINT64_MAX;
    return prt_bench__hist_lower(idx + 1) - 1u;
}

void prt_bench_hist_add(struct prt_bench_hist *h, uint64_t ns)
{
    h->count++;
    h->sum_ns += ns;
    if (ns < h->min_ns)
        h->min_ns = ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
    h->bucket[prt_bench__hist_index(ns)]++;
}

void prt_bench_hist_merge(struct prt_bench_hist *dst, const struct prt_bench_hist *src)
{
    if (src->count == 0)
        return;
    dst->count += src->count;
    dst->sum_ns += src->sum_ns;
    if (src->min_ns < dst->min_ns)
        dst->min_ns = src->min_ns;
    if (src->max_ns > dst->max_ns)
        dst->max_ns = src->max_ns;
    for (size_t i = 0; i < PRT_BENCH_HIST_BUCKETS; i++)
        dst->bucket[i] += src->bucket[i];
}

uint64_t prt_bench_hist_quantile(const struct prt_bench_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (!(q > 0.0))
        return h->min_ns;
    if (q >= 1.0)
        return h->max_ns;
    /* Nearest rank: the smallest sample with at least q * count samples at or below it. */
    double want = q * (double)h->count;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < PRT_BENCH_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            uint64_t lo = prt_bench__hist_lower(i), hi = hist_upper(i);
            uint64_t mid = lo + (hi - lo) / 2u;
            if (mid < h->min_ns)
                mid = h->min_ns;
            if (mid > h->max_ns)
                mid = h->max_ns;
            return mid;
        }
    }
    return h->max_ns;
}

double prt_bench_hist_mean_ns(const struct prt_bench_hist *h)
{
    return h->count == 0 ? 0.0 : (double)h->sum_ns / (double)h->count;
}

void prt_bench_result_finish(struct prt_bench_result *r, const struct prt_bench_hist *h)
{
    double t = r->elapsed_s > 0.0 ? r->elapsed_s : 0.0;
    r->iops = t > 0.0 ? (double)r->ops / t : 0.0;
    r->mbps = t > 0.0 ? (double)r->bytes / t / 1e6 : 0.0;
    r->mean_us = prt_bench_hist_mean_ns(h) / 1e3;
    r->p50_us = (double)prt_bench_hist_quantile(h, 0.50) / 1e3;
    r->p99_us = (double)prt_bench_hist_quantile(h, 0.99) / 1e3;
    r->p999_us = (double)prt_bench_hist_quantile(h, 0.999) / 1e3;
    r->min_us = h->count == 0 ? 0.0 : (double)h->min_ns / 1e3;
    r->max_us = (double)h->max_ns / 1e3;
}

static void size_text(char *buf, size_t n, uint64_t v)
{
    if (v != 0 && v % (1024u * 1024u) == 0)
        snprintf(buf, n, "%lluM", (unsigned long long)(v >> 20));
    else if (v != 0 && v % 1024u == 0)
        snprintf(buf, n, "%lluK", (unsigned long long)(v >> 10));
    else
        snprintf(buf, n, "%llu", (unsigned long long)v);
}

/* The workload's shape, shared by the text line and the compare summary. */
static void shape_text(FILE *out, const struct prt_bench_result *r)
{
    char bs[24];
    size_text(bs, sizeof(bs), r->bs);
    fprintf(out, "%s", prt_bench_workload_name(r->workload));
    if (r->workload != PRT_BENCH_W_PR_CHURN && r->workload != PRT_BENCH_W_PR_READKEYS)
        fprintf(out, " bs=%s", bs);
    fprintf(out, " qd=%u sessions=%u", r->qd, r->sessions);
    if (r->workload == PRT_BENCH_W_PR_ACCESS || r->workload == PRT_BENCH_W_PR_READKEYS)
        fprintf(out, " registrants=%u", r->registrants);
    if (r->workload == PRT_BENCH_W_PR_ACCESS || r->workload == PRT_BENCH_W_PR_CHURN)
        fprintf(out, " type=%s", prt_bench_pr_type_name(r->pr_type));
}

void prt_bench_result_print(FILE *out, const struct prt_bench_result *r)
{
    shape_text(out, r);
    fprintf(out, ": %.0f IOPS %.1f MB/s lat(us) mean=%.1f p50=%.1f p99=%.1f p99.9=%.1f", r->iops, r->mbps,
            r->mean_us, r->p50_us, r->p99_us, r->p999_us);
    fprintf(out, " [%llu ops in %.2f s", (unsigned long long)r->ops, r->elapsed_s);
    if (r->keys_seen >= 0)
        fprintf(out, ", keys=%lld", (long long)r->keys_seen);
    if (r->retries != 0)
        fprintf(out, ", ua-retries=%llu", (unsigned long long)r->retries);
    if (r->conflicts != 0)
        fprintf(out, ", conflicts=%llu", (unsigned long long)r->conflicts);
    fprintf(out, "] %s\n", r->url != NULL ? r->url : "");
}

void prt_bench_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s != NULL ? s : ""); *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* JSON has no NaN or infinity; a ratio with a zero denominator is written as null. */
static void json_num(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.3f", v);
    else
        fputs("null", out);
}

static void json_body(FILE *out, const struct prt_bench_result *r)
{
    fputs("\"workload\":", out);
    prt_bench_json_string(out, prt_bench_workload_name(r->workload));
    fputs(",\"url\":", out);
    prt_bench_json_string(out, r->url);
    fprintf(out, ",\"bs\":%u,\"qd\":%u,\"sessions\":%u,\"registrants\":%u,\"pr_type\":", r->bs, r->qd, r->sessions,
            r->registrants);
    if (r->pr_type >= 0)
        prt_bench_json_string(out, prt_bench_pr_type_name(r->pr_type));
    else
        fputs("null", out);
    fprintf(out, ",\"ops\":%llu,\"bytes\":%llu,\"retries\":%llu,\"conflicts\":%llu,\"keys_seen\":",
            (unsigned long long)r->ops, (unsigned long long)r->bytes, (unsigned long long)r->retries,
            (unsigned long long)r->conflicts);
    if (r->keys_seen >= 0)
        fprintf(out, "%lld", (long long)r->keys_seen);
    else
        fputs("null", out);
    fputs(",\"elapsed_s\":", out);
    json_num(out, r->elapsed_s);
    fputs(",\"setup_s\":", out);
    json_num(out, r->setup_s);
    fputs(",\"iops\":", out);
    json_num(out, r->iops);
    fputs(",\"mbps\":", out);
    json_num(out, r->mbps);
    fputs(",\"lat_us\":{\"mean\":", out);
    json_num(out, r->mean_us);
    fputs(",\"p50\":", out);
    json_num(out, r->p50_us);
    fputs(",\"p99\":", out);
    json_num(out, r->p99_us);
    fputs(",\"p999\":", out);
    json_num(out, r->p999_us);
    fputs(",\"min\":", out);
    json_num(out, r->min_us);
    fputs(",\"max\":", out);
    json_num(out, r->max_us);
    fputs("}", out);
}

void prt_bench_result_json(FILE *out, const struct prt_bench_result *r)
{
    fputc('{', out);
    json_body(out, r);
    fputs("}\n", out);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double prt_bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static double ratio(double a, double b)
{
    return b != 0.0 ? a / b : NAN;
}

/* Medians of every figure of one side; the counters come from the round whose IOPS is closest to the median, so
 * they describe a run that happened. */
static void median_side(struct prt_bench_result *m, const struct prt_bench_result *v, size_t n, double *tmp)
{
    size_t pick = 0;
    for (size_t i = 0; i < n; i++)
        tmp[i] = v[i].iops;
    double mid_iops = prt_bench_median(tmp, n);
    double best = INFINITY;
    for (size_t i = 0; i < n; i++) {
        double d = v[i].iops > mid_iops ? v[i].iops - mid_iops : mid_iops - v[i].iops;
        if (d < best) {
            best = d;
            pick = i;
        }
    }
    *m = v[pick];
    static const size_t fields[] = {
        offsetof(struct prt_bench_result, iops),    offsetof(struct prt_bench_result, mbps),
        offsetof(struct prt_bench_result, mean_us), offsetof(struct prt_bench_result, p50_us),
        offsetof(struct prt_bench_result, p99_us),  offsetof(struct prt_bench_result, p999_us),
        offsetof(struct prt_bench_result, elapsed_s), offsetof(struct prt_bench_result, setup_s),
    };
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        for (size_t i = 0; i < n; i++)
            memcpy(&tmp[i], (const char *)&v[i] + fields[f], sizeof(double));
        double med = prt_bench_median(tmp, n);
        memcpy((char *)m + fields[f], &med, sizeof(double));
    }
}

int prt_bench_compare(struct prt_bench_compare *c, const struct prt_bench_result *a, const struct prt_bench_result *b,
                      size_t rounds)
{
    if (rounds == 0)
        return -EINVAL;
    double *tmp = malloc(rounds * sizeof(*tmp));
    if (tmp == NULL)
        return -ENOMEM;
    memset(c, 0, sizeof(*c));
    median_side(&c->a, a, rounds, tmp);
    median_side(&c->b, b, rounds, tmp);
    free(tmp);
    c->rounds = (uint32_t)rounds;
    c->ratio_iops = ratio(c->a.iops, c->b.iops);
    c->ratio_mbps = ratio(c->a.mbps, c->b.mbps);
    c->ratio_mean = ratio(c->a.mean_us, c->b.mean_us);
    c->ratio_p50 = ratio(c->a.p50_us, c->b.p50_us);
    c->ratio_p99 = ratio(c->a.p99_us, c->b.p99_us);
    c->ratio_p999 = ratio(c->a.p999_us, c->b.p999_us);
    return 0;
}

static void side_line(FILE *out, const char *label, const struct prt_bench_result *r, uint32_t rounds)
{
    fprintf(out, "%s median of %u: %.0f IOPS %.1f MB/s lat(us) mean=%.1f p50=%.1f p99=%.1f p99.9=%.1f %s\n", label,
            rounds, r->iops, r->mbps, r->mean_us, r->p50_us, r->p99_us, r->p999_us, r->url != NULL ? r->url : "");
}

void prt_bench_compare_print(FILE *out, const struct prt_bench_compare *c)
{
    shape_text(out, &c->a);
    fputc('\n', out);
    side_line(out, "A", &c->a, c->rounds);
    side_line(out, "B", &c->b, c->rounds);
    /* Throughput ratios above 1 favour A; latency ratios below 1 favour A. A ratio without a denominator (no data
     * moved by PR OUT, say) prints as "-". */
    const double v[] = {c->ratio_iops, c->ratio_mbps, c->ratio_mean, c->ratio_p50, c->ratio_p99, c->ratio_p999};
    const char *const label[] = {"IOPS", "MB/s", "lat mean", "p50", "p99", "p99.9"};
    fputs("A/B:", out);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        if (isfinite(v[i]))
            fprintf(out, " %s %.2f", label[i], v[i]);
        else
            fprintf(out, " %s -", label[i]);
    }
    fputc('\n', out);
}

void prt_bench_compare_json(FILE *out, const struct prt_bench_compare *c)
{
    fprintf(out, "{\"compare\":true,\"rounds\":%u,\"a\":{", c->rounds);
    json_body(out, &c->a);
    fputs("},\"b\":{", out);
    json_body(out, &c->b);
    fputs("},\"ratio\":{\"iops\":", out);
    json_num(out, c->ratio_iops);
    fputs(",\"mbps\":", out);
    json_num(out, c->ratio_mbps);
    fputs(",\"mean\":", out);
    json_num(out, c->ratio_mean);
    fputs(",\"p50\":", out);
    json_num(out, c->ratio_p50);
    fputs(",\"p99\":", out);
    json_num(out, c->ratio_p99);
    fputs(",\"p999\":", out);
    json_num(out, c->ratio_p999);
    fputs("}}\n", out);
}
