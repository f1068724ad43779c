/* Helpers of the operator-tool integration tests (see tools_util.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "tests/integration/tools/tools_util.h"

const char *tu_ctl_path(void)
{
    const char *env = getenv("PRTARGETCTL");
    return env && *env ? env : ITEST_PRTARGETCTL;
}

int tu_start(struct tu_daemon *d, const char *const *args)
{
    const char *argv[64];
    unsigned n = 0;

    memset(d, 0, sizeof *d);
    if (itest_mkdtemp(d->dir, sizeof d->dir) != 0)
        return -1;
    snprintf(d->sock, sizeof d->sock, "%s/ctl.sock", d->dir);
    snprintf(d->events, sizeof d->events, "%s/events.jsonl", d->dir);
    argv[n++] = "--control";
    argv[n++] = d->sock;
    argv[n++] = "--event-log";
    argv[n++] = d->events;
    for (unsigned i = 0; args && args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    if (itest_start(&d->t, argv) != 0) {
        itest_rmdir(d->dir);
        return -1;
    }
    return 0;
}

int tu_stop(struct tu_daemon *d)
{
    int rc = itest_stop(&d->t, SIGTERM);
    itest_rmdir(d->dir);
    return rc;
}

static long tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Read both pipes until EOF on both or the deadline. */
static void tu_collect(int ofd, char *out, size_t outcap, int efd, char *err, size_t errcap, long deadline)
{
    size_t ol = 0, el = 0;
    bool oopen = true, eopen = true;

    while ((oopen || eopen) && tu_now_ms() < deadline) {
        struct pollfd p[2] = { { .fd = oopen ? ofd : -1, .events = POLLIN }, { .fd = eopen ? efd : -1, .events = POLLIN } };
        if (poll(p, 2, 200) <= 0)
            continue;
        char buf[4096];
        if (p[0].revents) {
            ssize_t r = read(ofd, buf, sizeof buf);
            if (r <= 0)
                oopen = false;
            for (ssize_t i = 0; i < r; i++)
                if (ol + 1 < outcap)
                    out[ol++] = buf[i];
        }
        if (p[1].revents) {
            ssize_t r = read(efd, buf, sizeof buf);
            if (r <= 0)
                eopen = false;
            for (ssize_t i = 0; i < r; i++)
                if (el + 1 < errcap)
                    err[el++] = buf[i];
        }
    }
    if (outcap)
        out[ol] = '\0';
    if (errcap)
        err[el] = '\0';
}

static int tu_vctl(const char *sock, bool json, char *out, size_t outcap, char *err, size_t errcap, va_list ap)
{
    const char *argv[64];
    unsigned n = 0;
    int op[2], ep[2];

    argv[n++] = tu_ctl_path();
    argv[n++] = "--socket";
    argv[n++] = sock;
    if (json)
        argv[n++] = "--json";
    for (const char *a = va_arg(ap, const char *); a && n < 63; a = va_arg(ap, const char *))
        argv[n++] = a;
    argv[n] = NULL;
    if (pipe(op) != 0)
        return -1;
    if (pipe(ep) != 0) {
        close(op[0]);
        close(op[1]);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(op[1], 1);
        dup2(ep[1], 2);
        close(op[0]);
        close(op[1]);
        close(ep[0]);
        close(ep[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(op[1]);
    close(ep[1]);
    tu_collect(op[0], out, outcap, ep[0], err, errcap, tu_now_ms() + 20000);
    close(op[0]);
    close(ep[0]);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int tu_ctl(const char *sock, char *out, size_t outcap, char *err, size_t errcap, ...)
{
    va_list ap;
    va_start(ap, errcap);
    int rc = tu_vctl(sock, false, out, outcap, err, errcap, ap);
    va_end(ap);
    return rc;
}

json_t *tu_ctl_json(const char *sock, ...)
{
    static const size_t cap = 1 << 20;
    char *out = malloc(cap), err[2048];
    va_list ap;
    json_t *j = NULL;

    if (!out)
        return NULL;
    va_start(ap, sock);
    int rc = tu_vctl(sock, true, out, cap, err, sizeof err, ap);
    va_end(ap);
    if (rc == 0)
        j = json_loads(out, JSON_DECODE_ANY, NULL);
    else
        fprintf(stderr, "tu_ctl_json: exit %d: %s", rc, err);
    free(out);
    return j;
}

int tu_rpc_raw(const char *sock, const char *line, char *resp, size_t cap)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    size_t have = 0;

    if (fd < 0)
        return -1;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock);
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0 || write(fd, line, strlen(line)) < 0 ||
        write(fd, "\n", 1) != 1) {
        close(fd);
        return -1;
    }
    while (have + 1 < cap) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 10000) <= 0)
            break;
        ssize_t r = read(fd, resp + have, 1);
        if (r <= 0 || resp[have] == '\n')
            break;
        have++;
    }
    resp[have] = '\0';
    close(fd);
    return have ? 0 : -1;
}

static int tu_status(struct scsi_task *t, uint32_t *sense)
{
    if (!t)
        return -1;
    int st = t->status;
    if (sense)
        *sense = st == SCSI_STATUS_CHECK_CONDITION
                     ? ((uint32_t)t->sense.key << 16) | (uint32_t)t->sense.ascq
                     : 0;
    scsi_free_scsi_task(t);
    return st;
}

int tu_pr_out(struct iscsi_context *iscsi, int lun, int sa, int type, uint64_t key, uint64_t sa_key, bool aptpl,
              uint32_t *sense)
{
    struct scsi_persistent_reserve_out_basic b = {
        .reservation_key = key,
        .service_action_reservation_key = sa_key,
        .aptpl = aptpl,
    };
    return tu_status(iscsi_persistent_reserve_out_sync(iscsi, lun, sa, SCSI_PERSISTENT_RESERVE_SCOPE_LU, type, &b),
                     sense);
}

int tu_read_keys(struct iscsi_context *iscsi, int lun, uint64_t *keys, int cap, uint32_t *gen)
{
    struct scsi_task *t = iscsi_persistent_reserve_in_sync(iscsi, lun, SCSI_PERSISTENT_RESERVE_READ_KEYS, 4096);
    if (!t || t->status != SCSI_STATUS_GOOD) {
        if (!t)
            fprintf(stderr, "tu_read_keys: %s\n", iscsi_get_error(iscsi));
        if (t) {
            fprintf(stderr, "tu_read_keys: status 0x%02x sense %x/%04x\n", t->status, t->sense.key, t->sense.ascq);
            scsi_free_scsi_task(t);
        }
        return -1;
    }
    struct scsi_persistent_reserve_in_read_keys *rk = scsi_datain_unmarshall(t);
    if (!rk) {
        fprintf(stderr, "tu_read_keys: cannot unmarshall %d bytes of READ KEYS data\n", t->datain.size);
        scsi_free_scsi_task(t);
        return -1;
    }
    int n = rk->num_keys;
    for (int i = 0; i < n && i < cap; i++)
        keys[i] = rk->keys[i];
    if (gen)
        *gen = rk->prgeneration;
    scsi_free_scsi_task(t);
    return n;
}

int tu_tur(struct iscsi_context *iscsi, int lun, uint32_t *sense)
{
    return tu_status(iscsi_testunitready_sync(iscsi, lun), sense);
}

unsigned tu_lines(const char *s)
{
    unsigned n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}
