/* Unit tests of app/prt_log.c: level filtering, the text line format, and JSON lines that stay valid JSON
 * whatever the message holds (RFC 8259 7: quote, backslash and control characters escaped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/prt_app.h"

/* Runs fn with stderr redirected to a temporary file; returns what was written (static buffer). */
static const char *capture(void (*fn)(const struct prt_log *), const struct prt_log *log)
{
    static char out[8192];
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), 2);
    fn(log);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, sizeof out - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return out;
}

static void log_three_levels(const struct prt_log *log)
{
    prt_log(log, PRT_LOG_ERROR, "disk %d failed", 3);
    prt_log(log, PRT_LOG_INFO, "ready");
    prt_log(log, PRT_LOG_DEBUG, "noise");
}

static void log_hostile(const struct prt_log *log)
{
    prt_log_str(log, PRT_LOG_WARN, "quote \" backslash \\ newline \n tab \t bell \a end");
}

static void test_levels_above_the_configured_one_are_dropped(void **state)
{
    (void)state;
    struct prt_log log = { .level = PRT_LOG_INFO, .json = false };
    const char *out = capture(log_three_levels, &log);
    assert_non_null(strstr(out, "prtarget error: disk 3 failed\n"));
    assert_non_null(strstr(out, "prtarget info: ready\n"));
    assert_null(strstr(out, "noise"));
    log.level = PRT_LOG_ERROR;
    out = capture(log_three_levels, &log);
    assert_non_null(strstr(out, "disk 3 failed"));
    assert_null(strstr(out, "ready"));
}

static void test_text_lines_start_with_a_utc_timestamp(void **state)
{
    (void)state;
    struct prt_log log = { .level = PRT_LOG_DEBUG };
    const char *out = capture(log_three_levels, &log);
    /* 2026-11-21T13:37:29.871Z */
    assert_true(strlen(out) > 24);
    assert_int_equal(out[4], '-');
    assert_int_equal(out[10], 'T');
    assert_int_equal(out[23], 'Z');
    unsigned lines = 0;
    for (const char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3);
}

static void test_json_lines_escape_what_would_break_them(void **state)
{
    (void)state;
    struct prt_log log = { .level = PRT_LOG_DEBUG, .json = true };
    const char *out = capture(log_hostile, &log);
    assert_true(strncmp(out, "{\"ts\":\"", 7) == 0);
    assert_non_null(strstr(out, "\"level\":\"warn\""));
    assert_non_null(strstr(out, "quote \\\" backslash \\\\ newline \\u000a tab \\u0009 bell \\u0007 end\"}\n"));
    /* One line: the embedded newline did not split the record. */
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_above_the_configured_one_are_dropped),
        cmocka_unit_test(test_text_lines_start_with_a_utc_timestamp),
        cmocka_unit_test(test_json_lines_escape_what_would_break_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
