/* The process contract of design.md: flags, readiness lines, exit codes, signals, and the idle memory budget.
 *
 *   it_lifecycle ──spawns──> prtarget --listen 127.0.0.1:0 [...]
 *        └── libiscsi session (initiator-a) for the signal tests
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "tests/integration/itest.h"

static unsigned count_lines(const char *s)
{
    unsigned n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_help_fits_one_screen_and_exits_0(void **state)
{
    (void)state;
    char out[8192], err[1024];
    const char *args[] = { "--help", NULL };
    assert_int_equal(itest_run(args, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "--listen"));
    assert_non_null(strstr(out, "--lun"));
    assert_true(count_lines(out) <= 24); /* one screen */
    assert_string_equal(err, "");
}

static void test_version_prints_version_and_exits_0(void **state)
{
    (void)state;
    char out[1024], err[1024];
    const char *args[] = { "--version", NULL };
    assert_int_equal(itest_run(args, out, sizeof out, err, sizeof err), 0);
    assert_true(strncmp(out, "prtarget ", 9) == 0);
    assert_int_equal(count_lines(out), 1);
}

/* design.md: a bad flag gives one line on stderr naming the flag and the problem, and exit 2. */
static void test_bad_flag_exits_2_with_one_line_naming_the_flag(void **state)
{
    (void)state;
    static const struct {
        const char *args[4];
        const char *names;
    } cases[] = {
        { { "--bogus", NULL }, "--bogus" },
        { { "--lun", "mem:xyz", NULL }, "--lun" },
        { { "--lun", "disk:1G", NULL }, "--lun" },
        { { "--lun", "mem:0", NULL }, "--lun" },
        { { "--lun", "mem:1G,bs=1000", NULL }, "--lun" },
        { { "--lun", NULL }, "--lun" },
        { { "--listen", "nohost", NULL }, "--listen" },
        { { "--listen", "127.0.0.1:70000", NULL }, "--listen" },
        { { "--listen", "300.1.1.1:3260", NULL }, "--listen" },
        { { "--log-level", "loud", NULL }, "--log-level" },
        { { "--log-format", "xml", NULL }, "--log-format" },
        { { "--target", "not an iqn", NULL }, "--target" },
        { { "--config", "/nonexistent/prtarget.json", NULL }, "--config" },
        { { "positional", NULL }, "positional" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[1024], err[2048];
        int rc = itest_run(cases[i].args, out, sizeof out, err, sizeof err);
        if (rc != 2 || count_lines(err) != 1 || !strstr(err, cases[i].names))
            fprintf(stderr, "case %zu (%s): exit %d, stderr: %s\n", i, cases[i].args[0], rc, err);
        assert_int_equal(rc, 2);
        assert_int_equal(count_lines(err), 1);
        assert_non_null(strstr(err, cases[i].names));
        assert_string_equal(out, "");
    }
}

static void test_missing_file_lun_exits_2_naming_the_lun(void **state)
{
    (void)state;
    char out[1024], err[2048];
    const char *args[] = { "--listen", "127.0.0.1:0", "--lun", "file:/nonexistent/dir/lu.img", NULL };
    int rc = itest_run(args, out, sizeof out, err, sizeof err);
    if (rc != 2)
        fprintf(stderr, "exit %d, stderr: %s\n", rc, err);
    assert_int_equal(rc, 2);
    assert_int_equal(count_lines(err), 1);
    assert_non_null(strstr(err, "--lun"));
}

static void test_port_in_use_fails_naming_the_listen_flag(void **state)
{
    (void)state;
    struct itest_target t;
    assert_int_equal(itest_start(&t, NULL), 0);
    char addr[80], out[1024], err[2048];
    snprintf(addr, sizeof addr, "%s", t.portal[0]);
    const char *args[] = { "--listen", addr, NULL };
    int rc = itest_run(args, out, sizeof out, err, sizeof err);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
    assert_true(rc != 0);
    assert_int_equal(count_lines(err), 1);
    assert_non_null(strstr(err, "--listen"));
}

/* design.md: one readiness line per portal x LUN, with the real port when 0 was asked. */
static void test_ready_lines_one_per_portal_and_lun(void **state)
{
    (void)state;
    struct itest_target t;
    const char *args[] = { "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--lun", "mem:1M",
                           "--lun", "mem:2M", "--target", "iqn.2026-11.org.prtarget.test:ready", NULL };
    assert_int_equal(itest_start(&t, args), 0);
    assert_int_equal(t.n_ready, 4);
    int p0 = itest_port(&t, 0), p1 = itest_port(&t, 2);
    assert_true(p0 > 0 && p1 > 0 && p0 != p1);
    char want[256];
    snprintf(want, sizeof want, "iscsi://127.0.0.1:%d/iqn.2026-11.org.prtarget.test:ready/0", p0);
    assert_string_equal(t.url[0], want);
    snprintf(want, sizeof want, "iscsi://127.0.0.1:%d/iqn.2026-11.org.prtarget.test:ready/1", p0);
    assert_string_equal(t.url[1], want);
    snprintf(want, sizeof want, "iscsi://127.0.0.1:%d/iqn.2026-11.org.prtarget.test:ready/1", p1);
    assert_string_equal(t.url[3], want);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

static void test_ipv6_portal_is_advertised_in_brackets(void **state)
{
    (void)state;
    struct itest_target t;
    const char *args[] = { "--listen", "[::1]:0", NULL };
    if (itest_start(&t, args) != 0)
        skip(); /* no IPv6 loopback in this container */
    assert_true(strncmp(t.url[0], "iscsi://[::1]:", 14) == 0);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

static void test_sigterm_with_a_logged_in_session_exits_0(void **state)
{
    (void)state;
    struct itest_target t;
    assert_int_equal(itest_start(&t, NULL), 0);
    struct iscsi_context *iscsi = itest_login(t.url[0], ITEST_INAME_A, ISCSI_HEADER_DIGEST_NONE, NULL);
    assert_non_null(iscsi);
    struct scsi_task *task = iscsi_testunitready_sync(iscsi, 0);
    assert_non_null(task);
    scsi_free_scsi_task(task);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
    iscsi_destroy_context(iscsi);
}

static void test_sigint_exits_0(void **state)
{
    (void)state;
    struct itest_target t;
    assert_int_equal(itest_start(&t, NULL), 0);
    assert_int_equal(itest_stop(&t, SIGINT), 0);
}

/* Issue 2, done-when 3: mem:1G with no I/O stays under 30 MiB resident (memory is committed only as written). */
static void test_idle_mem_1g_target_stays_under_30_mib_resident(void **state)
{
    (void)state;
#ifdef ITEST_SANITIZED
    skip();
#endif
    struct itest_target t;
    const char *args[] = { "--lun", "mem:1G", NULL };
    assert_int_equal(itest_start(&t, args), 0);
    /* A login and a few commands exercise the per-connection buffers too. */
    struct iscsi_context *iscsi = itest_login(t.url[0], ITEST_INAME_A, ISCSI_HEADER_DIGEST_NONE, NULL);
    assert_non_null(iscsi);
    struct scsi_task *task = iscsi_readcapacity16_sync(iscsi, 0);
    assert_non_null(task);
    assert_int_equal(task->status, SCSI_STATUS_GOOD);
    scsi_free_scsi_task(task);
    long kib = itest_rss_kib(t.pid);
    itest_logout(iscsi);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
    fprintf(stderr, "VmRSS with mem:1G after login: %ld KiB\n", kib);
    assert_true(kib > 0);
    assert_true(kib < 30 * 1024);
}

/* Logs go to stderr, one JSON object per line with --log-format json, so a supervisor can parse them; stdout
 * carries only the readiness lines. */
static void test_json_log_format_writes_one_object_per_line_on_stderr(void **state)
{
    (void)state;
    char dir[256], path[300];
    assert_int_equal(itest_mkdtemp(dir, sizeof dir), 0);
    snprintf(path, sizeof path, "%s/stderr.log", dir);
    struct itest_target t;
    const char *args[] = { "--log-format", "json", "--log-level", "info", NULL };
    assert_int_equal(itest_start_logged(&t, args, path), 0);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[2048];
    unsigned n = 0;
    bool saw_stop = false;
    while (fgets(line, sizeof line, f)) {
        n++;
        size_t len = strlen(line);
        assert_true(len >= 2 && line[len - 1] == '\n');
        assert_true(strncmp(line, "{\"ts\":\"", 7) == 0);
        assert_non_null(strstr(line, "\"level\":\""));
        assert_non_null(strstr(line, "\"msg\":\""));
        assert_true(strcmp(line + len - 3, "\"}\n") == 0);
        saw_stop = saw_stop || strstr(line, "stopping") != NULL;
    }
    fclose(f);
    assert_true(n >= 2);
    assert_true(saw_stop);
    itest_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_fits_one_screen_and_exits_0),
        cmocka_unit_test(test_version_prints_version_and_exits_0),
        cmocka_unit_test(test_bad_flag_exits_2_with_one_line_naming_the_flag),
        cmocka_unit_test(test_missing_file_lun_exits_2_naming_the_lun),
        cmocka_unit_test(test_port_in_use_fails_naming_the_listen_flag),
        cmocka_unit_test(test_ready_lines_one_per_portal_and_lun),
        cmocka_unit_test(test_ipv6_portal_is_advertised_in_brackets),
        cmocka_unit_test(test_sigterm_with_a_logged_in_session_exits_0),
        cmocka_unit_test(test_sigint_exits_0),
        cmocka_unit_test(test_idle_mem_1g_target_stays_under_30_mib_resident),
        cmocka_unit_test(test_json_log_format_writes_one_object_per_line_on_stderr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
