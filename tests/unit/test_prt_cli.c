/* Unit tests of app/prt_cli.c: the command-line contract of design.md (defaults, repeatable flags, LUN specs,
 * sizes with binary suffixes, one-line errors naming the flag). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "app/prt_app.h"

static enum prt_cli_result parse(struct prt_config *cfg, char *err, size_t errlen, ...)
{
    char *argv[32] = { (char *)"prtarget" };
    int argc = 1;
    va_list ap;
    va_start(ap, errlen);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 31;)
        argv[argc++] = (char *)a;
    va_end(ap);
    FILE *out = tmpfile();
    enum prt_cli_result r = prt_cli_parse(argc, argv, cfg, out, err, errlen);
    fclose(out);
    return r;
}

static void test_size_suffixes_are_binary_multiples(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(prt_parse_size("512", &v), 0);
    assert_int_equal(v, 512);
    assert_int_equal(prt_parse_size("4K", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(prt_parse_size("1G", &v), 0);
    assert_int_equal(v, 1ull << 30);
    assert_int_equal(prt_parse_size("1GiB", &v), 0);
    assert_int_equal(v, 1ull << 30);
    assert_int_equal(prt_parse_size("2t", &v), 0);
    assert_int_equal(v, 2ull << 40);
}

static void test_size_rejects_zero_junk_and_overflow(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(prt_parse_size("0", &v), -EINVAL);
    assert_int_equal(prt_parse_size("", &v), -EINVAL);
    assert_int_equal(prt_parse_size("G", &v), -EINVAL);
    assert_int_equal(prt_parse_size("1X", &v), -EINVAL);
    assert_int_equal(prt_parse_size("1G2", &v), -EINVAL);
    assert_int_equal(prt_parse_size("-1", &v), -EINVAL);
    assert_int_equal(prt_parse_size("99999999999999999999", &v), -EINVAL);
    assert_int_equal(prt_parse_size("16777216T", &v), -EINVAL); /* 2^64 bytes */
    assert_int_equal(v, 7);
}

static void test_lun_specs_mem_file_and_file_with_size(void **state)
{
    (void)state;
    struct prt_lun_spec l;
    char err[PRT_ERR_LEN];
    assert_int_equal(prt_parse_lun("mem:1G", &l, err, sizeof err), 0);
    assert_false(l.file);
    assert_int_equal(l.size, 1ull << 30);
    assert_int_equal(l.block_size, 512);
    assert_false(l.read_only);

    assert_int_equal(prt_parse_lun("file:/var/lib/lu0.img", &l, err, sizeof err), 0);
    assert_true(l.file);
    assert_string_equal(l.path, "/var/lib/lu0.img");
    assert_int_equal(l.size, 0);

    assert_int_equal(prt_parse_lun("file:/var/lib/lu0.img:10M", &l, err, sizeof err), 0);
    assert_string_equal(l.path, "/var/lib/lu0.img");
    assert_int_equal(l.size, 10ull << 20);

    /* A ':' inside the path is part of the path when what follows is not a size. */
    assert_int_equal(prt_parse_lun("file:/srv/a:b/lu.img", &l, err, sizeof err), 0);
    assert_string_equal(l.path, "/srv/a:b/lu.img");
    assert_int_equal(l.size, 0);
}

static void test_lun_options_read_only_and_4k_blocks(void **state)
{
    (void)state;
    struct prt_lun_spec l;
    char err[PRT_ERR_LEN];
    assert_int_equal(prt_parse_lun("mem:64M,ro,bs=4096", &l, err, sizeof err), 0);
    assert_true(l.read_only);
    assert_int_equal(l.block_size, 4096);
    assert_int_equal(prt_parse_lun("mem:64M,bs=1000", &l, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "bs=1000"));
}

static void test_lun_size_must_be_a_multiple_of_the_block_size(void **state)
{
    (void)state;
    struct prt_lun_spec l;
    char err[PRT_ERR_LEN];
    assert_int_equal(prt_parse_lun("mem:1000", &l, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "multiple"));
    assert_int_equal(prt_parse_lun("mem:6K,bs=4096", &l, err, sizeof err), -EINVAL);
    assert_int_equal(prt_parse_lun("mem:8K,bs=4096", &l, err, sizeof err), 0);
}

static void test_lun_spec_errors_say_what_is_wrong(void **state)
{
    (void)state;
    struct prt_lun_spec l;
    char err[PRT_ERR_LEN];
    assert_int_equal(prt_parse_lun("disk:1G", &l, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "backend"));
    assert_int_equal(prt_parse_lun("mem:lots", &l, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "size"));
    assert_int_equal(prt_parse_lun("file:", &l, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "path"));
    assert_int_equal(prt_parse_lun("file:/x:12Q", &l, err, sizeof err), -EINVAL);
}

/* design.md: default portal 127.0.0.1:3260, target iqn.2026-11.org.prtarget:disk, one mem:1G LUN. */
static void test_no_flags_gives_the_documented_defaults(void **state)
{
    (void)state;
    struct prt_config cfg;
    char err[PRT_ERR_LEN];
    assert_int_equal(parse(&cfg, err, sizeof err, NULL), PRT_CLI_RUN);
    assert_int_equal(cfg.n_listen, 1);
    assert_string_equal(cfg.listen[0], "127.0.0.1:3260");
    assert_string_equal(cfg.target, "iqn.2026-11.org.prtarget:disk");
    assert_int_equal(cfg.n_luns, 1);
    assert_false(cfg.luns[0].file);
    assert_int_equal(cfg.luns[0].size, 1ull << 30);
    assert_int_equal(cfg.log_level, PRT_LOG_INFO);
    assert_false(cfg.log_json);
}

static void test_listen_and_lun_are_repeatable_and_keep_their_order(void **state)
{
    (void)state;
    struct prt_config cfg;
    char err[PRT_ERR_LEN];
    assert_int_equal(parse(&cfg, err, sizeof err, "--listen", "127.0.0.1:0", "--listen=[::1]:3261", "--lun",
                           "mem:1M", "--lun=mem:2M", "--log-format", "json", "--log-level=debug", NULL),
                     PRT_CLI_RUN);
    assert_int_equal(cfg.n_listen, 2);
    assert_string_equal(cfg.listen[0], "127.0.0.1:0");
    assert_string_equal(cfg.listen[1], "[::1]:3261");
    assert_int_equal(cfg.n_luns, 2);
    assert_int_equal(cfg.luns[0].size, 1u << 20);
    assert_int_equal(cfg.luns[1].size, 2u << 20);
    assert_true(cfg.log_json);
    assert_int_equal(cfg.log_level, PRT_LOG_DEBUG);
}

static void test_bad_flags_fail_with_one_line_naming_the_flag(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b, *names;
    } cases[] = {
        { "--bogus", NULL, "--bogus" },
        { "--lun", NULL, "--lun" },
        { "--lun", "mem:", "--lun" },
        { "--listen", "localhost:3260", "--listen" },
        { "--listen", "127.0.0.1", "--listen" },
        { "--listen", "127.0.0.1:65536", "--listen" },
        { "--listen", "[::1]3260", "--listen" },
        { "--listen", "[zz::1]:3260", "--listen" },
        { "--target", "disk", "--target" },
        { "--log-level", "chatty", "--log-level" },
        { "--log-format", "yaml", "--log-format" },
        { "--help=yes", NULL, "--help" },
        { "stray", NULL, "stray" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct prt_config cfg;
        char err[PRT_ERR_LEN] = "";
        assert_int_equal(parse(&cfg, err, sizeof err, cases[i].a, cases[i].b, NULL), PRT_CLI_ERROR);
        assert_non_null(strstr(err, cases[i].names));
        assert_null(strchr(err, '\n'));
    }
}

static void test_help_and_version_ask_for_a_clean_exit(void **state)
{
    (void)state;
    struct prt_config cfg;
    char err[PRT_ERR_LEN];
    assert_int_equal(parse(&cfg, err, sizeof err, "--help", NULL), PRT_CLI_EXIT);
    assert_int_equal(parse(&cfg, err, sizeof err, "--lun", "mem:1M", "--version", NULL), PRT_CLI_EXIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_suffixes_are_binary_multiples),
        cmocka_unit_test(test_size_rejects_zero_junk_and_overflow),
        cmocka_unit_test(test_lun_specs_mem_file_and_file_with_size),
        cmocka_unit_test(test_lun_options_read_only_and_4k_blocks),
        cmocka_unit_test(test_lun_size_must_be_a_multiple_of_the_block_size),
        cmocka_unit_test(test_lun_spec_errors_say_what_is_wrong),
        cmocka_unit_test(test_no_flags_gives_the_documented_defaults),
        cmocka_unit_test(test_listen_and_lun_are_repeatable_and_keep_their_order),
        cmocka_unit_test(test_bad_flags_fail_with_one_line_naming_the_flag),
        cmocka_unit_test(test_help_and_version_ask_for_a_clean_exit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
