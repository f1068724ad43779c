/* Unit tests for app/prbench_stats.c: the log-linear latency histogram and its percentiles, medians and the A/B
 * comparison, and the text and JSON result lines. The sources are included so that the test needs no library of
 * the app (prbench_opts.c supplies the workload and PR type names the output uses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "app/prbench_opts.c"
#include "app/prbench_stats.c"

static struct prt_bench_hist *new_hist(void)
{
    struct prt_bench_hist *h = malloc(sizeof(*h));
    assert_non_null(h);
    prt_bench_hist_init(h);
    return h;
}

/* |got - want| <= want * tol */
static void assert_near(double got, double want, double tol)
{
    double d = got > want ? got - want : want - got;
    if (d > want * tol)
        fail_msg("got %f, want %f within %.1f %%", got, want, tol * 100.0);
}

static char *render(void (*fn)(FILE *, const struct prt_bench_result *), const struct prt_bench_result *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(f, r);
    fclose(f);
    return buf;
}

static void test_hist_index_is_monotonic_and_lower_bound_round_trips(void **state)
{
    size_t prev = 0;
    for (uint64_t v = 0; v < 1000000; v += 7) {
        size_t idx = prt_bench__hist_index(v);
        assert_true(idx >= prev);
        assert_true(idx < PRT_BENCH_HIST_BUCKETS);
        assert_true(prt_bench__hist_lower(idx) <= v);
        if (idx + 1 < PRT_BENCH_HIST_BUCKETS)
            assert_true(prt_bench__hist_lower(idx + 1) > v);
        prev = idx;
    }
    /* The largest value still lands inside the table. */
    assert_true(prt_bench__hist_index(UINT64_MAX) < PRT_BENCH_HIST_BUCKETS);
    assert_true(prt_bench__hist_lower(prt_bench__hist_index(UINT64_MAX)) <= UINT64_MAX);
}

static void test_hist_small_values_are_exact(void **state)
{
    for (uint64_t v = 0; v < PRT_BENCH_HIST_SUB; v++) {
        assert_int_equal(prt_bench__hist_index(v), v);
        assert_int_equal(prt_bench__hist_lower(v), v);
    }
}

static void test_hist_bucket_width_is_within_one_sixty_fourth_of_its_value(void **state)
{
    for (size_t idx = PRT_BENCH_HIST_SUB; idx + 1 < PRT_BENCH_HIST_BUCKETS; idx++) {
        uint64_t lo = prt_bench__hist_lower(idx), next = prt_bench__hist_lower(idx + 1);
        assert_true(next > lo);
        assert_true((next - lo) * PRT_BENCH_HIST_SUB <= lo);
    }
}

static void test_empty_hist_reports_zero(void **state)
{
    struct prt_bench_hist *h = new_hist();
    assert_int_equal(prt_bench_hist_quantile(h, 0.5), 0);
    assert_true(prt_bench_hist_mean_ns(h) == 0.0);
    struct prt_bench_result r = {.elapsed_s = 1.0};
    prt_bench_result_finish(&r, h);
    assert_true(r.iops == 0.0 && r.p99_us == 0.0 && r.min_us == 0.0);
    free(h);
}

static void test_quantiles_of_a_uniform_spread_are_within_bucket_precision(void **state)
{
    struct prt_bench_hist *h = new_hist();
    /* 1 us .. 10000 us, one sample each. */
    for (uint64_t us = 1; us <= 10000; us++)
        prt_bench_hist_add(h, us * 1000);
    assert_int_equal(h->count, 10000);
    assert_near((double)prt_bench_hist_quantile(h, 0.50), 5000e3, 1.0 / PRT_BENCH_HIST_SUB);
    assert_near((double)prt_bench_hist_quantile(h, 0.99), 9900e3, 1.0 / PRT_BENCH_HIST_SUB);
    assert_near((double)prt_bench_hist_quantile(h, 0.999), 9990e3, 1.0 / PRT_BENCH_HIST_SUB);
    assert_near(prt_bench_hist_mean_ns(h), 5000.5e3, 1e-9);
    assert_int_equal(prt_bench_hist_quantile(h, 0.0), 1000);
    assert_int_equal(prt_bench_hist_quantile(h, 1.0), 10000000);
    free(h);
}

static void test_quantile_of_one_sample_is_that_sample(void **state)
{
    struct prt_bench_hist *h = new_hist();
    prt_bench_hist_add(h, 123456);
    /* Clamping to [min, max] makes a single sample exact even though its bucket is wider. */
    assert_int_equal(prt_bench_hist_quantile(h, 0.5), 123456);
    assert_int_equal(prt_bench_hist_quantile(h, 0.999), 123456);
    free(h);
}

static void test_tail_quantiles_see_a_rare_outlier(void **state)
{
    struct prt_bench_hist *h = new_hist();
    for (int i = 0; i < 998; i++)
        prt_bench_hist_add(h, 100000);
    prt_bench_hist_add(h, 50000000);
    prt_bench_hist_add(h, 50000000);
    assert_near((double)prt_bench_hist_quantile(h, 0.50), 100000, 1.0 / PRT_BENCH_HIST_SUB);
    assert_near((double)prt_bench_hist_quantile(h, 0.99), 100000, 1.0 / PRT_BENCH_HIST_SUB);
    /* Nearest rank: the 999th of 1000 samples is an outlier. */
    assert_near((double)prt_bench_hist_quantile(h, 0.999), 50000000, 1.0 / PRT_BENCH_HIST_SUB);
    free(h);
}

static void test_merge_equals_adding_every_sample_to_one_hist(void **state)
{
    struct prt_bench_hist *a = new_hist(), *b = new_hist(), *all = new_hist();
    for (uint64_t v = 1; v < 5000; v++) {
        uint64_t x = v * 977 % 100003;
        prt_bench_hist_add(v % 2 ? a : b, x);
        prt_bench_hist_add(all, x);
    }
    prt_bench_hist_merge(a, b);
    assert_int_equal(a->count, all->count);
    assert_int_equal(a->sum_ns, all->sum_ns);
    assert_int_equal(a->min_ns, all->min_ns);
    assert_int_equal(a->max_ns, all->max_ns);
    assert_memory_equal(a->bucket, all->bucket, sizeof(a->bucket));
    free(a);
    free(b);
    free(all);
}

static void test_result_finish_derives_iops_mbps_and_microseconds(void **state)
{
    struct prt_bench_hist *h = new_hist();
    for (int i = 0; i < 100; i++)
        prt_bench_hist_add(h, 250000);
    struct prt_bench_result r = {.ops = 20000, .bytes = 20000ull * 4096, .elapsed_s = 2.0};
    prt_bench_result_finish(&r, h);
    assert_true(r.iops == 10000.0);
    assert_near(r.mbps, 40.96, 1e-9);
    assert_near(r.mean_us, 250.0, 1e-9);
    assert_true(r.p50_us == 250.0 && r.min_us == 250.0 && r.max_us == 250.0);
    free(h);
}

static void test_median_of_odd_and_even_counts(void **state)
{
    double odd[] = {5, 1, 3};
    assert_true(prt_bench_median(odd, 3) == 3.0);
    double even[] = {4, 1, 3, 2};
    assert_true(prt_bench_median(even, 4) == 2.5);
    assert_true(prt_bench_median(NULL, 0) == 0.0);
}

static struct prt_bench_result result_with(double iops, double p50)
{
    struct prt_bench_result r = {.workload = PRT_BENCH_W_PR_ACCESS, .url = "iscsi://a/x/0", .bs = 4096, .qd = 32,
                           .sessions = 1, .registrants = 1000, .pr_type = 6, .keys_seen = 1001,
                           .elapsed_s = 1.0, .iops = iops, .mbps = iops * 4096 / 1e6, .mean_us = p50,
                           .p50_us = p50, .p99_us = p50 * 2, .p999_us = p50 * 3, .ops = (uint64_t)iops};
    return r;
}

static void test_compare_takes_medians_per_side_and_ratio_a_over_b(void **state)
{
    struct prt_bench_result a[3] = {result_with(100, 10), result_with(300, 30), result_with(200, 20)};
    struct prt_bench_result b[3] = {result_with(50, 40), result_with(100, 20), result_with(1000, 5)};
    struct prt_bench_compare c;
    assert_int_equal(prt_bench_compare(&c, a, b, 3), 0);
    assert_true(c.a.iops == 200.0);
    assert_true(c.b.iops == 100.0);
    assert_true(c.ratio_iops == 2.0);
    assert_true(c.a.p50_us == 20.0 && c.b.p50_us == 20.0);
    assert_true(c.ratio_p50 == 1.0);
    /* Counters come from the round whose IOPS is the median. */
    assert_int_equal(c.a.ops, 200);
    assert_int_equal(c.b.ops, 100);
    assert_int_equal(c.rounds, 3);
    assert_int_equal(prt_bench_compare(&c, a, b, 0), -EINVAL);
}

static void test_compare_ratio_with_zero_denominator_is_json_null_and_a_dash_in_text(void **state)
{
    struct prt_bench_result a[1] = {result_with(100, 10)};
    struct prt_bench_result b[1] = {result_with(0, 0)};
    struct prt_bench_compare c;
    assert_int_equal(prt_bench_compare(&c, a, b, 1), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    prt_bench_compare_json(f, &c);
    fclose(f);
    assert_non_null(strstr(buf, "\"ratio\":{\"iops\":null"));
    assert_null(strstr(buf, "nan"));
    assert_null(strstr(buf, "inf"));
    free(buf);
    buf = NULL;
    f = open_memstream(&buf, &len);
    prt_bench_compare_print(f, &c);
    fclose(f);
    assert_non_null(strstr(buf, "\nA/B: IOPS - MB/s - lat mean - p50 - p99 - p99.9 -\n"));
    free(buf);
}

static void test_text_line_has_iops_mbps_and_latency_percentiles(void **state)
{
    struct prt_bench_result r = result_with(35123, 900);
    r.retries = 2;
    char *s = render(prt_bench_result_print, &r);
    assert_string_equal(s, "pr-access bs=4K qd=32 sessions=1 registrants=1000 type=ex-ac-ro: 35123 IOPS 143.9 MB/s "
                           "lat(us) mean=900.0 p50=900.0 p99=1800.0 p99.9=2700.0 [35123 ops in 1.00 s, keys=1001, "
                           "ua-retries=2] iscsi://a/x/0\n");
    free(s);
}

static void test_text_line_of_pr_churn_omits_block_size_and_registrants(void **state)
{
    struct prt_bench_result r = result_with(1000, 30);
    r.workload = PRT_BENCH_W_PR_CHURN;
    r.pr_type = 7;
    r.keys_seen = -1;
    r.conflicts = 5;
    char *s = render(prt_bench_result_print, &r);
    assert_null(strstr(s, "bs="));
    assert_null(strstr(s, "registrants="));
    assert_null(strstr(s, "keys="));
    assert_non_null(strstr(s, "pr-churn qd=32 sessions=1 type=wr-ex-ar: 1000 IOPS"));
    assert_non_null(strstr(s, "conflicts=5"));
    free(s);
}

static void test_json_line_is_one_object_with_escaped_strings(void **state)
{
    struct prt_bench_result r = result_with(10, 1);
    r.url = "iscsi://h/\"q\\\n/0";
    r.keys_seen = -1;
    r.pr_type = -1;
    char *s = render(prt_bench_result_json, &r);
    assert_int_equal(s[0], '{');
    assert_int_equal(s[strlen(s) - 2], '}');
    assert_int_equal(s[strlen(s) - 1], '\n');
    /* One line: the only newline is the last character. */
    assert_ptr_equal(strchr(s, '\n'), s + strlen(s) - 1);
    assert_non_null(strstr(s, "\"url\":\"iscsi://h/\\\"q\\\\\\u000a/0\""));
    assert_non_null(strstr(s, "\"keys_seen\":null"));
    assert_non_null(strstr(s, "\"pr_type\":null"));
    assert_non_null(strstr(s, "\"iops\":10.000"));
    assert_non_null(strstr(s, "\"lat_us\":{\"mean\":1.000,\"p50\":1.000,\"p99\":2.000,\"p999\":3.000"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hist_index_is_monotonic_and_lower_bound_round_trips),
        cmocka_unit_test(test_hist_small_values_are_exact),
        cmocka_unit_test(test_hist_bucket_width_is_within_one_sixty_fourth_of_its_value),
        cmocka_unit_test(test_empty_hist_reports_zero),
        cmocka_unit_test(test_quantiles_of_a_uniform_spread_are_within_bucket_precision),
        cmocka_unit_test(test_quantile_of_one_sample_is_that_sample),
        cmocka_unit_test(test_tail_quantiles_see_a_rare_outlier),
        cmocka_unit_test(test_merge_equals_adding_every_sample_to_one_hist),
        cmocka_unit_test(test_result_finish_derives_iops_mbps_and_microseconds),
        cmocka_unit_test(test_median_of_odd_and_even_counts),
        cmocka_unit_test(test_compare_takes_medians_per_side_and_ratio_a_over_b),
        cmocka_unit_test(test_compare_ratio_with_zero_denominator_is_json_null_and_a_dash_in_text),
        cmocka_unit_test(test_text_line_has_iops_mbps_and_latency_percentiles),
        cmocka_unit_test(test_text_line_of_pr_churn_omits_block_size_and_registrants),
        cmocka_unit_test(test_json_line_is_one_object_with_escaped_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
