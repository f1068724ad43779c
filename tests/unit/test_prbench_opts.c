/* Unit tests for app/prbench_opts.c: prbench's command line, its defaults per workload, and its one-line refusals
 * (exit status 2). The source is included so that the test needs no library of the app. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "app/prbench_opts.c"

#define URL "iscsi://127.0.0.1:3260/iqn.2026-11.org.prtarget:disk/0"
#define URL2 "iscsi://127.0.0.1:3270/iqn.2026-11.org.peer:tgt/1"

struct parsed {
    struct prt_bench_opts o;
    int rc;
    char *err;
    size_t err_len;
};

static struct parsed *parse(const char *first, ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"prbench";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a != NULL && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    struct parsed *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    FILE *err = open_memstream(&p->err, &p->err_len);
    assert_non_null(err);
    p->rc = prt_bench_parse_args(&p->o, argc, argv, err);
    fclose(err);
    return p;
}

static void done(struct parsed *p)
{
    free(p->err);
    free(p);
}

static size_t lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* A refusal is exit status 2 and exactly one line on the error stream, which names the problem. */
static void assert_refused(struct parsed *p, const char *needle)
{
    assert_int_equal(p->rc, PRT_BENCH_EXIT_USAGE);
    assert_int_equal(lines(p->err), 1);
    assert_non_null(strstr(p->err, "prbench: "));
    assert_non_null(strstr(p->err, needle));
}

static void test_randread_defaults_are_4k_qd32_one_session_ten_seconds(void **state)
{
    struct parsed *p = parse("randread", URL, NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->err_len, 0);
    assert_int_equal(p->o.workload, PRT_BENCH_W_RANDREAD);
    assert_string_equal(p->o.url, URL);
    assert_int_equal(p->o.bs, 4096);
    assert_int_equal(p->o.qd, 32);
    assert_int_equal(p->o.sessions, 1);
    assert_true(p->o.seconds == 10.0);
    assert_int_equal(p->o.ios, 0);
    assert_false(p->o.compare);
    assert_false(p->o.json);
    done(p);
}

static void test_sequential_workloads_default_to_qd8(void **state)
{
    struct parsed *p = parse("seqread", URL, NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.qd, 8);
    done(p);
    p = parse("seqwrite", URL, NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.qd, 8);
    done(p);
}

static void test_pr_churn_defaults_to_qd1_and_write_exclusive_all_registrants(void **state)
{
    struct parsed *p = parse("pr-churn", URL, NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.qd, 1);
    assert_int_equal(p->o.pr_type, 7);
    done(p);
}

static void test_pr_access_defaults_to_exclusive_access_registrants_only_and_randread(void **state)
{
    struct parsed *p = parse("pr-access", URL, "--registrants", "1000", NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.pr_type, 6);
    assert_int_equal(p->o.registrants, 1000);
    assert_int_equal(p->o.access_io, PRT_BENCH_W_RANDREAD);
    assert_int_equal(p->o.qd, 32);
    assert_false(p->o.drop_registrants);
    done(p);
}

static void test_options_accept_both_separate_and_equals_values(void **state)
{
    struct parsed *p = parse("--bs=128K", "seqread", "--qd", "8", "--sessions=4", URL, "-t", "2.5", "--json", NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.workload, PRT_BENCH_W_SEQREAD);
    assert_int_equal(p->o.bs, 131072);
    assert_int_equal(p->o.qd, 8);
    assert_int_equal(p->o.sessions, 4);
    assert_true(p->o.seconds == 2.5);
    assert_true(p->o.json);
    done(p);
}

static void test_pr_options_are_parsed(void **state)
{
    struct parsed *p = parse("pr-access", URL, "--type", "wr-ex-ro", "--io", "randwrite", "--drop-registrants",
                             "--login-batch", "8", "-r", "100", NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.pr_type, 5);
    assert_int_equal(p->o.access_io, PRT_BENCH_W_RANDWRITE);
    assert_true(p->o.drop_registrants);
    assert_int_equal(p->o.login_batch, 8);
    assert_int_equal(p->o.registrants, 100);
    done(p);
    p = parse("pr-readkeys", URL, "--prin", "read-full-status", NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.prin, PRT_BENCH_PRIN_READ_FULL_STATUS);
    done(p);
    p = parse("pr-access", URL, "--type", "none", NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.pr_type, 0);
    done(p);
}

static void test_vs_takes_two_urls_and_rounds(void **state)
{
    struct parsed *p = parse("pr-access", "--vs", URL, URL2, "--rounds", "5", "-r", "100", NULL);
    assert_int_equal(p->rc, 0);
    assert_true(p->o.compare);
    assert_null(p->o.url);
    assert_string_equal(p->o.vs[0], URL);
    assert_string_equal(p->o.vs[1], URL2);
    assert_int_equal(p->o.rounds, 5);
    done(p);
}

static void test_vs_with_one_url_is_refused(void **state)
{
    struct parsed *p = parse("randread", "--vs", URL, NULL);
    assert_refused(p, "--vs needs two URLs");
    done(p);
}

static void test_vs_and_a_positional_url_exclude_each_other(void **state)
{
    struct parsed *p = parse("randread", URL, "--vs", URL, URL2, NULL);
    assert_refused(p, "exclude each other");
    done(p);
}

static void test_missing_workload_or_url_is_refused(void **state)
{
    struct parsed *p = parse(NULL);
    assert_refused(p, "no workload");
    done(p);
    p = parse("randread", NULL);
    assert_refused(p, "no iscsi:// URL");
    done(p);
}

static void test_unknown_workload_and_option_are_refused(void **state)
{
    struct parsed *p = parse("randrw", URL, NULL);
    assert_refused(p, "unknown workload 'randrw'");
    done(p);
    p = parse("randread", URL, "--depth", "4", NULL);
    assert_refused(p, "unknown option '--depth'");
    done(p);
}

static void test_a_url_that_is_not_iscsi_is_refused(void **state)
{
    struct parsed *p = parse("randread", "http://127.0.0.1/", NULL);
    assert_refused(p, "not an iscsi:// URL");
    done(p);
}

static void test_out_of_range_counts_are_refused(void **state)
{
    struct parsed *p = parse("randread", URL, "--qd", "0", NULL);
    assert_refused(p, "--qd");
    done(p);
    p = parse("randread", URL, "--qd", "1025", NULL);
    assert_refused(p, "--qd");
    done(p);
    p = parse("randread", URL, "--sessions", "-1", NULL);
    assert_refused(p, "--sessions");
    done(p);
    p = parse("mixed", URL, "--read-pct", "101", NULL);
    assert_refused(p, "--read-pct");
    done(p);
    p = parse("pr-access", URL, "--registrants", "65536", NULL);
    assert_refused(p, "--registrants");
    done(p);
    p = parse("randread", URL, "--ios", "99999999999999999999999", NULL);
    assert_refused(p, "--ios");
    done(p);
}

static void test_bad_sizes_are_refused(void **state)
{
    struct parsed *p = parse("randread", URL, "--bs", "0", NULL);
    assert_refused(p, "--bs");
    done(p);
    p = parse("randread", URL, "--bs", "17M", NULL);
    assert_refused(p, "--bs");
    done(p);
    p = parse("randread", URL, "--bs", "4X", NULL);
    assert_refused(p, "--bs");
    done(p);
    p = parse("randread", URL, "--lba-range", "", NULL);
    assert_refused(p, "--lba-range");
    done(p);
}

static void test_seconds_must_be_a_positive_plain_number(void **state)
{
    const char *bad_values[] = {"0", "-1", "nan", "inf", "1e9", "0x10", "2s", ""};
    for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
        struct parsed *p = parse("randread", URL, "--seconds", bad_values[i], NULL);
        assert_refused(p, "--seconds");
        done(p);
    }
}

static void test_seconds_and_ios_exclude_each_other(void **state)
{
    struct parsed *p = parse("randread", URL, "--seconds", "3", "--ios", "100", NULL);
    assert_refused(p, "--seconds and --ios");
    done(p);
    p = parse("randread", URL, "--ios", "100", NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.ios, 100);
    done(p);
}

static void test_option_without_value_is_refused(void **state)
{
    struct parsed *p = parse("randread", URL, "--bs", NULL);
    assert_refused(p, "--bs needs a value");
    done(p);
}

static void test_pr_churn_refuses_queue_depth_above_one(void **state)
{
    struct parsed *p = parse("pr-churn", URL, "--qd", "4", NULL);
    assert_refused(p, "one command at a time");
    done(p);
}

static void test_pr_churn_refuses_type_none(void **state)
{
    struct parsed *p = parse("pr-churn", URL, "--type", "none", NULL);
    assert_refused(p, "needs a reservation type");
    done(p);
}

static void test_pr_options_on_a_data_workload_are_refused(void **state)
{
    struct parsed *p = parse("randread", URL, "--registrants", "10", NULL);
    assert_refused(p, "--registrants and --type apply");
    done(p);
}

static void test_pr_type_accepts_names_and_spc4_codes_only(void **state)
{
    int t = -1;
    assert_int_equal(prt_bench_pr_type_from_name("ex-ac-ar", &t), 0);
    assert_int_equal(t, 8);
    assert_int_equal(prt_bench_pr_type_from_name("3", &t), 0);
    assert_int_equal(t, 3);
    /* SPC-4 6.15.3: 2h and 4h are obsolete, 9h and above reserved. */
    assert_int_equal(prt_bench_pr_type_from_name("2", &t), -EINVAL);
    assert_int_equal(prt_bench_pr_type_from_name("4", &t), -EINVAL);
    assert_int_equal(prt_bench_pr_type_from_name("9", &t), -EINVAL);
    assert_int_equal(prt_bench_pr_type_from_name("wr", &t), -EINVAL);
    assert_string_equal(prt_bench_pr_type_name(5), "wr-ex-ro");
    assert_string_equal(prt_bench_pr_type_name(2), "?");
}

static void test_size_suffixes_are_binary_and_overflow_is_caught(void **state)
{
    uint64_t v = 0;
    bool suffix = true;
    assert_int_equal(prt_bench_parse_size("512", &v, &suffix), 0);
    assert_int_equal(v, 512);
    assert_false(suffix);
    assert_int_equal(prt_bench_parse_size("4k", &v, &suffix), 0);
    assert_int_equal(v, 4096);
    assert_true(suffix);
    assert_int_equal(prt_bench_parse_size("128KiB", &v, NULL), 0);
    assert_int_equal(v, 131072);
    assert_int_equal(prt_bench_parse_size("1G", &v, NULL), 0);
    assert_int_equal(v, 1ull << 30);
    assert_int_equal(prt_bench_parse_size("2T", &v, NULL), 0);
    assert_int_equal(v, 2ull << 40);
    assert_int_equal(prt_bench_parse_size("16777216T", &v, NULL), -ERANGE);
    assert_int_equal(prt_bench_parse_size("18446744073709551616", &v, NULL), -ERANGE);
    assert_int_equal(prt_bench_parse_size("4KX", &v, NULL), -EINVAL);
    assert_int_equal(prt_bench_parse_size("-4", &v, NULL), -EINVAL);
    assert_int_equal(prt_bench_parse_size(NULL, &v, NULL), -EINVAL);
}

static void test_lba_range_is_blocks_without_suffix_and_bytes_with_one(void **state)
{
    struct parsed *p = parse("randread", URL, "--lba-range", "1000", NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.lba_range, 1000);
    assert_false(p->o.lba_range_bytes);
    done(p);
    p = parse("randread", URL, "--lba-range", "64M", NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.lba_range, 64ull << 20);
    assert_true(p->o.lba_range_bytes);
    done(p);
}

static void test_help_and_version_stop_parsing_without_error(void **state)
{
    struct parsed *p = parse("--help", NULL);
    assert_int_equal(p->rc, 0);
    assert_true(p->o.help);
    assert_int_equal(p->err_len, 0);
    done(p);
    p = parse("randread", "-V", NULL);
    assert_int_equal(p->rc, 0);
    assert_true(p->o.version);
    done(p);
}

static void test_initiator_name_longer_than_iscsi_allows_is_refused(void **state)
{
    char name[260];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    struct parsed *p = parse("randread", URL, "--initiator", name, NULL);
    assert_refused(p, "--initiator");
    done(p);
}

static void test_usage_names_every_workload_and_the_exit_statuses(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    prt_bench_usage(f);
    fclose(f);
    for (unsigned w = 0; w < PRT_BENCH_W_COUNT; w++)
        assert_non_null(strstr(buf, prt_bench_workload_name((enum prt_bench_workload)w)));
    assert_non_null(strstr(buf, "exit status: 0 success, 1 login or I/O failure, 2 bad arguments"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_randread_defaults_are_4k_qd32_one_session_ten_seconds),
        cmocka_unit_test(test_sequential_workloads_default_to_qd8),
        cmocka_unit_test(test_pr_churn_defaults_to_qd1_and_write_exclusive_all_registrants),
        cmocka_unit_test(test_pr_access_defaults_to_exclusive_access_registrants_only_and_randread),
        cmocka_unit_test(test_options_accept_both_separate_and_equals_values),
        cmocka_unit_test(test_pr_options_are_parsed),
        cmocka_unit_test(test_vs_takes_two_urls_and_rounds),
        cmocka_unit_test(test_vs_with_one_url_is_refused),
        cmocka_unit_test(test_vs_and_a_positional_url_exclude_each_other),
        cmocka_unit_test(test_missing_workload_or_url_is_refused),
        cmocka_unit_test(test_unknown_workload_and_option_are_refused),
        cmocka_unit_test(test_a_url_that_is_not_iscsi_is_refused),
        cmocka_unit_test(test_out_of_range_counts_are_refused),
        cmocka_unit_test(test_bad_sizes_are_refused),
        cmocka_unit_test(test_seconds_must_be_a_positive_plain_number),
        cmocka_unit_test(test_seconds_and_ios_exclude_each_other),
        cmocka_unit_test(test_option_without_value_is_refused),
        cmocka_unit_test(test_pr_churn_refuses_queue_depth_above_one),
        cmocka_unit_test(test_pr_churn_refuses_type_none),
        cmocka_unit_test(test_pr_options_on_a_data_workload_are_refused),
        cmocka_unit_test(test_pr_type_accepts_names_and_spc4_codes_only),
        cmocka_unit_test(test_size_suffixes_are_binary_and_overflow_is_caught),
        cmocka_unit_test(test_lba_range_is_blocks_without_suffix_and_bytes_with_one),
        cmocka_unit_test(test_help_and_version_stop_parsing_without_error),
        cmocka_unit_test(test_initiator_name_longer_than_iscsi_allows_is_refused),
        cmocka_unit_test(test_usage_names_every_workload_and_the_exit_statuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
