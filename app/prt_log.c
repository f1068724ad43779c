/* Logging to stderr, as text lines or JSON lines, so that a supervisor (systemd, a test harness) can read it
 * while stdout carries only the readiness lines. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "app/prt_app.h"

static const char *const prt__level_names[] = { "error", "warn", "info", "debug" };

/* JSON string body (RFC 8259 7): quote, backslash and control characters escaped. */
static void prt__json_str(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

void prt_log_str(const struct prt_log *log, enum prt_log_level level, const char *msg)
{
    if (level > log->level)
        return;
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char when[96];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
    /* One fprintf per line under the stream lock, so that lines never interleave. */
    flockfile(stderr);
    if (log->json) {
        fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", when, prt__level_names[level]);
        prt__json_str(stderr, msg);
        fputs("\"}\n", stderr);
    } else {
        fprintf(stderr, "%s prtarget %s: %s\n", when, prt__level_names[level], msg);
    }
    funlockfile(stderr);
}

void prt_log(const struct prt_log *log, enum prt_log_level level, const char *fmt, ...)
{
    if (level > log->level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    prt_log_str(log, level, msg);
}
