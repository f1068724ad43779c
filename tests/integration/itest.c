/* Helpers of the integration tests; see itest.h. */
#include "tests/integration/itest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#ifndef ITEST_PRTARGET
#define ITEST_PRTARGET "prtarget"
#endif

const char *itest_prtarget_path(void)
{
    const char *p = getenv("PRTARGET");
    return p && *p ? p : ITEST_PRTARGET;
}

static long itest__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How many readiness lines args will produce: one per portal and LUN (design.md). */
static unsigned itest__expected_ready(const char *const *args, bool *has_listen)
{
    unsigned listens = 0, luns = 0;
    for (unsigned i = 0; args && args[i]; i++) {
        if (strcmp(args[i], "--listen") == 0 || strncmp(args[i], "--listen=", 9) == 0)
            listens++;
        if (strcmp(args[i], "--lun") == 0 || strncmp(args[i], "--lun=", 6) == 0)
            luns++;
    }
    *has_listen = listens != 0;
    return (listens ? listens : 1) * (luns ? luns : 1);
}

static pid_t itest__spawn_to(const char *const *args, bool add_listen, int *out_fd, int *err_fd,
                             const char *err_path);

static pid_t itest__spawn(const char *const *args, bool add_listen, int *out_fd, int *err_fd)
{
    return itest__spawn_to(args, add_listen, out_fd, err_fd, NULL);
}

static pid_t itest__spawn_to(const char *const *args, bool add_listen, int *out_fd, int *err_fd,
                             const char *err_path)
{
    const char *argv[128];
    unsigned n = 0;
    argv[n++] = itest_prtarget_path();
    if (add_listen) {
        argv[n++] = "--listen";
        argv[n++] = "127.0.0.1:0";
    }
    for (unsigned i = 0; args && args[i] && n < 126; i++)
        argv[n++] = args[i];
    argv[n] = NULL;

    int op[2], ep[2] = { -1, -1 };
    if (pipe(op) != 0)
        return -1;
    if (err_fd && pipe(ep) != 0) {
        close(op[0]);
        close(op[1]);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(op[1], 1);
        close(op[0]);
        close(op[1]);
        if (err_fd) {
            dup2(ep[1], 2);
            close(ep[0]);
            close(ep[1]);
        } else if (err_path) {
            int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd >= 0) {
                dup2(fd, 2);
                close(fd);
            }
        }
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "itest: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(op[1]);
    if (err_fd)
        close(ep[1]);
    if (pid < 0) {
        close(op[0]);
        if (err_fd)
            close(ep[0]);
        return -1;
    }
    *out_fd = op[0];
    if (err_fd)
        *err_fd = ep[0];
    return pid;
}

/* Every prtarget started and not yet stopped: a failed assertion longjmps out of the test, and a target left
 * running would keep ctest waiting on the inherited output pipes until its timeout. */
static pid_t itest__live[64];
static bool itest__atexit_set;

static void itest__kill_live(void)
{
    for (size_t i = 0; i < sizeof itest__live / sizeof itest__live[0]; i++) {
        if (itest__live[i] > 0) {
            kill(itest__live[i], SIGKILL);
            waitpid(itest__live[i], NULL, 0);
            itest__live[i] = 0;
        }
    }
}

static void itest__track(pid_t pid, bool add)
{
    if (!itest__atexit_set) {
        atexit(itest__kill_live);
        itest__atexit_set = true;
    }
    for (size_t i = 0; i < sizeof itest__live / sizeof itest__live[0]; i++) {
        if (add && itest__live[i] == 0) {
            itest__live[i] = pid;
            return;
        }
        if (!add && itest__live[i] == pid) {
            itest__live[i] = 0;
            return;
        }
    }
}

int itest_start(struct itest_target *t, const char *const *args)
{
    return itest_start_logged(t, args, NULL);
}

int itest_start_logged(struct itest_target *t, const char *const *args, const char *stderr_path)
{
    bool has_listen;
    unsigned want = itest__expected_ready(args, &has_listen);
    memset(t, 0, sizeof *t);
    t->pid = itest__spawn_to(args, !has_listen, &t->out_fd, NULL, stderr_path);
    if (t->pid < 0) {
        fprintf(stderr, "itest: cannot start %s\n", itest_prtarget_path());
        return -1;
    }
    itest__track(t->pid, true);
    char line[1024];
    size_t have = 0;
    long deadline = itest__now_ms() + 20000;
    while (t->n_ready < want) {
        long left = deadline - itest__now_ms();
        struct pollfd pfd = { .fd = t->out_fd, .events = POLLIN };
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
            fprintf(stderr, "itest: prtarget not ready after 20 s (%u of %u lines)\n", t->n_ready, want);
            itest_stop(t, SIGKILL);
            return -1;
        }
        ssize_t n = read(t->out_fd, line + have, 1);
        if (n <= 0) {
            fprintf(stderr, "itest: prtarget exited before it was ready\n");
            itest_stop(t, SIGKILL);
            return -1;
        }
        if (line[have] != '\n') {
            if (have < sizeof line - 1)
                have++;
            continue;
        }
        line[have] = '\0';
        have = 0;
        const char *prefix = "prtarget: ready ";
        if (strncmp(line, prefix, strlen(prefix)) != 0) {
            fprintf(stderr, "itest: unexpected stdout line: %s\n", line);
            continue;
        }
        const char *url = line + strlen(prefix);
        const char *hp = url + strlen("iscsi://");
        const char *slash = strchr(hp, '/');
        if (strncmp(url, "iscsi://", 8) != 0 || !slash || (size_t)(slash - hp) >= sizeof t->portal[0]) {
            fprintf(stderr, "itest: malformed ready line: %s\n", line);
            itest_stop(t, SIGKILL);
            return -1;
        }
        int un = snprintf(t->url[t->n_ready], sizeof t->url[0], "%s", url);
        if (un < 0 || (size_t)un >= sizeof t->url[0]) {
            fprintf(stderr, "itest: ready line too long: %s\n", line);
            itest_stop(t, SIGKILL);
            return -1;
        }
        memcpy(t->portal[t->n_ready], hp, (size_t)(slash - hp));
        t->portal[t->n_ready][slash - hp] = '\0';
        t->n_ready++;
    }
    return 0;
}

static int itest__wait(pid_t pid, int timeout_ms)
{
    long deadline = itest__now_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(st))
                return WEXITSTATUS(st);
            if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
            return -1;
        }
        if (r < 0)
            return -1;
        if (itest__now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        usleep(10000);
    }
}

int itest_stop(struct itest_target *t, int sig)
{
    if (t->pid <= 0)
        return -1;
    kill(t->pid, sig);
    int rc = itest__wait(t->pid, 20000);
    itest__track(t->pid, false);
    if (t->out_fd >= 0)
        close(t->out_fd);
    t->out_fd = -1;
    t->pid = 0;
    return rc;
}

int itest_port(const struct itest_target *t, unsigned i)
{
    const char *c = strrchr(t->portal[i], ':');
    return c ? atoi(c + 1) : -1;
}

/* Drain both pipes into the buffers until EOF on both. */
static void itest__collect(int ofd, char *out, size_t outcap, int efd, char *err, size_t errcap, long deadline)
{
    size_t on = 0, en = 0;
    bool oopen = true, eopen = true;
    while ((oopen || eopen) && itest__now_ms() < deadline) {
        struct pollfd p[2] = { { .fd = oopen ? ofd : -1, .events = POLLIN },
                               { .fd = eopen ? efd : -1, .events = POLLIN } };
        if (poll(p, 2, 200) < 0)
            break;
        char buf[4096];
        if (p[0].revents) {
            ssize_t n = read(ofd, buf, sizeof buf);
            if (n <= 0)
                oopen = false;
            for (ssize_t i = 0; i < n && on + 1 < outcap; i++)
                out[on++] = buf[i];
        }
        if (p[1].revents) {
            ssize_t n = read(efd, buf, sizeof buf);
            if (n <= 0)
                eopen = false;
            for (ssize_t i = 0; i < n && en + 1 < errcap; i++)
                err[en++] = buf[i];
        }
    }
    if (outcap)
        out[on] = '\0';
    if (errcap)
        err[en] = '\0';
}

int itest_run(const char *const *args, char *out, size_t outcap, char *err, size_t errcap)
{
    int ofd, efd;
    pid_t pid = itest__spawn(args, false, &ofd, &efd);
    if (pid < 0)
        return -1;
    itest__collect(ofd, out, outcap, efd, err, errcap, itest__now_ms() + 20000);
    close(ofd);
    close(efd);
    return itest__wait(pid, 20000);
}

int itest_mkdtemp(char *path, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    if ((size_t)snprintf(path, cap, "%s/prt-itest-XXXXXX", tmp) >= cap)
        return -1;
    return mkdtemp(path) ? 0 : -1;
}

static int itest__rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void itest_rmdir(const char *path)
{
    nftw(path, itest__rm, 16, FTW_DEPTH | FTW_PHYS);
}

long itest_rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

uint64_t itest_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

void itest_pattern(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = itest_rand(&s);
        for (size_t k = 0; k < 8 && i + k < len; k++)
            buf[i + k] = (uint8_t)(v >> (8 * k));
    }
}

void itest_clear_ua(struct iscsi_context *iscsi, int lun)
{
    /* SAM-5 5.14: the first command of a new I_T nexus reports POWER ON, RESET (29h/00h) as a unit attention;
     * like a real initiator, consume it so the tests see only the effects of their own commands. */
    for (int i = 0; i < 8; i++) {
        struct scsi_task *task = iscsi_testunitready_sync(iscsi, lun);
        bool ua = task && task->status == SCSI_STATUS_CHECK_CONDITION &&
                  task->sense.key == SCSI_SENSE_UNIT_ATTENTION;
        if (task)
            scsi_free_scsi_task(task);
        if (!ua)
            break;
    }
}

struct iscsi_context *itest_login(const char *url, const char *iname, int hd, int *lun)
{
    struct iscsi_context *iscsi = iscsi_create_context(iname);
    if (!iscsi) {
        fprintf(stderr, "itest: iscsi_create_context failed\n");
        return NULL;
    }
    struct iscsi_url *u = iscsi_parse_full_url(iscsi, url);
    if (!u) {
        fprintf(stderr, "itest: bad url %s: %s\n", url, iscsi_get_error(iscsi));
        iscsi_destroy_context(iscsi);
        return NULL;
    }
    iscsi_set_targetname(iscsi, u->target);
    iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
    iscsi_set_header_digest(iscsi, (enum iscsi_header_digest)hd);
    iscsi_set_timeout(iscsi, 20);
    if (iscsi_full_connect_sync(iscsi, u->portal, u->lun) != 0) {
        fprintf(stderr, "itest: login to %s as %s failed: %s\n", url, iname, iscsi_get_error(iscsi));
        iscsi_destroy_url(u);
        iscsi_destroy_context(iscsi);
        return NULL;
    }
    if (lun)
        *lun = u->lun;
    itest_clear_ua(iscsi, u->lun);
    iscsi_destroy_url(u);
    return iscsi;
}

void itest_logout(struct iscsi_context *iscsi)
{
    if (!iscsi)
        return;
    iscsi_logout_sync(iscsi);
    iscsi_destroy_context(iscsi);
}

/* ---- raw initiator ------------------------------------------------------------------------------------ */

uint32_t itest_crc32c(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
    }
    return crc ^ 0xffffffffu;
}

static void itest__put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t itest__get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* The digest goes on the wire least significant byte first (RFC 7143 13.1). */
static void itest__put_digest(uint8_t *p, uint32_t crc)
{
    p[0] = (uint8_t)crc;
    p[1] = (uint8_t)(crc >> 8);
    p[2] = (uint8_t)(crc >> 16);
    p[3] = (uint8_t)(crc >> 24);
}

static uint32_t itest__get_digest(const uint8_t *p)
{
    return p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

int itest_raw_connect(struct itest_raw *r, int port)
{
    memset(r, 0, sizeof *r);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (r->fd < 0)
        return -1;
    struct timeval tv = { .tv_sec = 10 };
    setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(r->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(r->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(r->fd);
        r->fd = -1;
        return -1;
    }
    r->target_mrdsl = 8192;
    r->first_burst = 65536;
    r->max_burst = 262144;
    r->initial_r2t = true;
    r->immediate_data = true;
    r->itt = 0x1000;
    return 0;
}

void itest_raw_close(struct itest_raw *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

int itest_raw_send_bytes(struct itest_raw *r, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = send(r->fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int itest_raw_send(struct itest_raw *r, const uint8_t bhs[48], const void *data, uint32_t len)
{
    uint8_t hdr[52];
    memcpy(hdr, bhs, 48);
    hdr[5] = (uint8_t)(len >> 16);
    hdr[6] = (uint8_t)(len >> 8);
    hdr[7] = (uint8_t)len;
    size_t hlen = 48;
    if (r->hd) {
        itest__put_digest(hdr + 48, itest_crc32c(hdr, 48));
        hlen = 52;
    }
    if (itest_raw_send_bytes(r, hdr, hlen))
        return -1;
    if (len == 0)
        return 0;
    uint8_t pad[4] = { 0 };
    uint32_t padn = (4 - (len & 3)) & 3;
    if (itest_raw_send_bytes(r, data, len) || itest_raw_send_bytes(r, pad, padn))
        return -1;
    if (r->dd) {
        uint8_t *tmp = malloc(len + padn);
        if (!tmp)
            return -1;
        memcpy(tmp, data, len);
        memset(tmp + len, 0, padn);
        uint8_t dg[4];
        itest__put_digest(dg, itest_crc32c(tmp, len + padn));
        free(tmp);
        return itest_raw_send_bytes(r, dg, 4);
    }
    return 0;
}

static int itest__recv_all(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = recv(fd, p, len, 0);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int itest_raw_recv(struct itest_raw *r, struct itest_pdu *p)
{
    memset(p, 0, sizeof *p);
    if (itest__recv_all(r->fd, p->bhs, 48))
        return -1;
    uint32_t ahs = (uint32_t)p->bhs[4] * 4;
    uint8_t ahsbuf[1024 + 4];
    if (ahs && itest__recv_all(r->fd, ahsbuf, ahs))
        return -1;
    if (r->hd) {
        uint8_t dg[4];
        if (itest__recv_all(r->fd, dg, 4))
            return -1;
        uint8_t whole[48 + 1024];
        memcpy(whole, p->bhs, 48);
        memcpy(whole + 48, ahsbuf, ahs);
        if (itest__get_digest(dg) != itest_crc32c(whole, 48 + ahs))
            return -2;
    }
    p->data_len = ((uint32_t)p->bhs[5] << 16) | ((uint32_t)p->bhs[6] << 8) | p->bhs[7];
    if (p->data_len) {
        uint32_t padded = p->data_len + ((4 - (p->data_len & 3)) & 3);
        p->data = malloc(padded);
        if (!p->data || itest__recv_all(r->fd, p->data, padded))
            return -1;
        if (r->dd) {
            uint8_t dg[4];
            if (itest__recv_all(r->fd, dg, 4))
                return -1;
            if (itest__get_digest(dg) != itest_crc32c(p->data, padded))
                return -2;
        }
    }
    return 0;
}

void itest_pdu_free(struct itest_pdu *p)
{
    free(p->data);
    p->data = NULL;
}

bool itest_raw_wait_closed(struct itest_raw *r, int timeout_ms, uint64_t *saw)
{
    long deadline = itest__now_ms() + timeout_ms;
    uint8_t buf[4096];
    if (saw)
        *saw = 0;
    size_t off = 0; /* bytes of the current 48-byte header seen, to note the opcodes of answers */
    while (itest__now_ms() < deadline) {
        struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
        int pr = poll(&pfd, 1, 100);
        if (pr < 0)
            return false;
        if (pr == 0)
            continue;
        ssize_t n = recv(r->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return true;
        /* Only the first PDU's opcode is reliable without a full parse; that is the one the tests ask for. */
        if (n > 0 && off == 0 && saw)
            *saw |= 1ull << (buf[0] & 0x3f);
        if (n > 0)
            off += (size_t)n;
    }
    return false;
}

/* "Key=Value" lookup in a login/text data segment. */
static const char *itest__key(const struct itest_pdu *p, const char *key, char *val, size_t cap)
{
    size_t klen = strlen(key);
    const char *s = (const char *)p->data, *end = s + p->data_len;
    while (s < end) {
        size_t l = strnlen(s, (size_t)(end - s));
        if (l > klen && strncmp(s, key, klen) == 0 && s[klen] == '=') {
            snprintf(val, cap, "%.*s", (int)(l - klen - 1), s + klen + 1);
            return val;
        }
        s += l + 1;
    }
    return NULL;
}

static size_t itest__add_key(char *buf, size_t off, size_t cap, const char *kv)
{
    size_t l = strlen(kv) + 1;
    if (off + l > cap)
        return off;
    memcpy(buf + off, kv, l);
    return off + l;
}

int itest_raw_login(struct itest_raw *r, const char *iname, const char *target, bool want_hd, bool want_dd,
                    const char *extra_keys, size_t extra_len)
{
    char keys[4096];
    size_t n = 0;
    char kv[512];
    snprintf(kv, sizeof kv, "InitiatorName=%s", iname);
    n = itest__add_key(keys, n, sizeof keys, kv);
    snprintf(kv, sizeof kv, "TargetName=%s", target);
    n = itest__add_key(keys, n, sizeof keys, kv);
    n = itest__add_key(keys, n, sizeof keys, "SessionType=Normal");
    n = itest__add_key(keys, n, sizeof keys, want_hd ? "HeaderDigest=CRC32C" : "HeaderDigest=None");
    n = itest__add_key(keys, n, sizeof keys, want_dd ? "DataDigest=CRC32C" : "DataDigest=None");
    n = itest__add_key(keys, n, sizeof keys, "InitialR2T=Yes");
    if (extra_keys && extra_len && n + extra_len <= sizeof keys) {
        memcpy(keys + n, extra_keys, extra_len);
        n += extra_len;
    }
    if (r->isid[0] == 0 && r->isid[5] == 0)
        memcpy(r->isid, (const uint8_t[6]){ 0x80, 0x12, 0x34, 0x56, 0x00, 0x01 }, 6);
    r->cmdsn = 1;
    uint32_t itt = r->itt++;
    bool hd_on = false, dd_on = false;
    for (int round = 0; round < 4; round++) {
        uint8_t bhs[48] = { 0 };
        bhs[0] = 0x40 | 0x03;
        /* Transit from operational negotiation (CSG 1) to full feature phase (NSG 3), RFC 7143 11.12. */
        bhs[1] = 0x80 | (1 << 2) | 3;
        memcpy(bhs + 8, r->isid, 6);
        bhs[14] = (uint8_t)(r->tsih >> 8);
        bhs[15] = (uint8_t)r->tsih;
        itest__put32(bhs + 16, itt);
        itest__put32(bhs + 24, r->cmdsn);
        itest__put32(bhs + 28, r->exp_statsn);
        if (itest_raw_send(r, bhs, round == 0 ? keys : NULL, round == 0 ? (uint32_t)n : 0))
            return -1;
        struct itest_pdu p;
        if (itest_raw_recv(r, &p)) {
            fprintf(stderr, "itest_raw_login: no login response\n");
            return -1;
        }
        if ((p.bhs[0] & 0x3f) != 0x23 || p.bhs[36] != 0) {
            fprintf(stderr, "itest_raw_login: opcode 0x%02x status %02x%02x\n", p.bhs[0] & 0x3f, p.bhs[36],
                    p.bhs[37]);
            itest_pdu_free(&p);
            return -1;
        }
        r->exp_statsn = itest__get32(p.bhs + 24) + 1;
        r->cmdsn = itest__get32(p.bhs + 28);
        char v[256];
        if (itest__key(&p, "MaxRecvDataSegmentLength", v, sizeof v))
            r->target_mrdsl = (uint32_t)strtoul(v, NULL, 10);
        if (itest__key(&p, "MaxBurstLength", v, sizeof v))
            r->max_burst = (uint32_t)strtoul(v, NULL, 10);
        if (itest__key(&p, "FirstBurstLength", v, sizeof v))
            r->first_burst = (uint32_t)strtoul(v, NULL, 10);
        if (itest__key(&p, "ImmediateData", v, sizeof v))
            r->immediate_data = strcmp(v, "Yes") == 0;
        if (itest__key(&p, "InitialR2T", v, sizeof v))
            r->initial_r2t = strcmp(v, "Yes") == 0;
        if (itest__key(&p, "HeaderDigest", v, sizeof v))
            hd_on = strcmp(v, "CRC32C") == 0;
        if (itest__key(&p, "DataDigest", v, sizeof v))
            dd_on = strcmp(v, "CRC32C") == 0;
        bool done = (p.bhs[1] & 0x80) && (p.bhs[1] & 3) == 3;
        r->tsih = (uint16_t)((p.bhs[14] << 8) | p.bhs[15]);
        itest_pdu_free(&p);
        if (done) {
            /* Digests start with the first PDU after the final Login Response (RFC 7143 13.1). */
            r->hd = hd_on;
            r->dd = dd_on;
            if (want_hd != hd_on || want_dd != dd_on) {
                fprintf(stderr, "itest_raw_login: digests negotiated %d/%d, wanted %d/%d\n", hd_on, dd_on,
                        want_hd, want_dd);
                return -1;
            }
            /* Consume the power-on unit attention of the new nexus on LUN 0 (SAM-5 5.14). */
            static const uint8_t tur[6] = { 0 };
            for (int i = 0; i < 8; i++) {
                int st = itest_raw_scsi(r, tur, 6, 0, NULL, 0, NULL, 0, NULL, NULL);
                if (st < 0)
                    return -1;
                if (st == 0)
                    break;
            }
            return 0;
        }
    }
    fprintf(stderr, "itest_raw_login: target never moved to full feature phase\n");
    return -1;
}

static int itest__nop_reply(struct itest_raw *r, const struct itest_pdu *p)
{
    uint32_t ttt = itest__get32(p->bhs + 20);
    if (ttt == 0xffffffffu)
        return 0;
    uint8_t bhs[48] = { 0 };
    bhs[0] = 0x40 | 0x00;
    bhs[1] = 0x80;
    memcpy(bhs + 8, p->bhs + 8, 8);
    itest__put32(bhs + 16, 0xffffffffu);
    itest__put32(bhs + 20, ttt);
    itest__put32(bhs + 24, r->cmdsn);
    itest__put32(bhs + 28, r->exp_statsn);
    return itest_raw_send(r, bhs, p->data, p->data_len);
}

static int itest__data_out(struct itest_raw *r, uint32_t itt, uint32_t ttt, uint32_t lun, const uint8_t *data,
                           uint32_t offset, uint32_t len)
{
    uint32_t seg = r->target_mrdsl ? r->target_mrdsl : 8192;
    uint32_t datasn = 0;
    for (uint32_t done = 0; done < len;) {
        uint32_t n = len - done < seg ? len - done : seg;
        uint8_t bhs[48] = { 0 };
        bhs[0] = 0x05;
        bhs[1] = done + n == len ? 0x80 : 0;
        bhs[9] = (uint8_t)lun;
        itest__put32(bhs + 16, itt);
        itest__put32(bhs + 20, ttt);
        itest__put32(bhs + 28, r->exp_statsn);
        itest__put32(bhs + 36, datasn++);
        itest__put32(bhs + 40, offset + done);
        if (itest_raw_send(r, bhs, data + offset + done, n))
            return -1;
        done += n;
    }
    return 0;
}

int itest_raw_scsi(struct itest_raw *r, const uint8_t *cdb, unsigned cdb_len, uint32_t lun, const void *data_out,
                   uint32_t out_len, void *data_in, uint32_t in_len, unsigned *din_pdus, unsigned *r2ts)
{
    uint32_t itt = r->itt++;
    uint8_t bhs[48] = { 0 };
    bhs[0] = 0x01;
    bhs[1] = 0x80 | (out_len ? 0x20 : 0) | (in_len ? 0x40 : 0) | 0x01;
    bhs[9] = (uint8_t)lun;
    itest__put32(bhs + 16, itt);
    itest__put32(bhs + 20, out_len ? out_len : in_len);
    itest__put32(bhs + 24, r->cmdsn++);
    itest__put32(bhs + 28, r->exp_statsn);
    memcpy(bhs + 32, cdb, cdb_len > 16 ? 16 : cdb_len);
    uint32_t imm = 0;
    if (out_len && r->immediate_data) {
        imm = out_len;
        if (imm > r->first_burst)
            imm = r->first_burst;
        if (imm > r->target_mrdsl)
            imm = r->target_mrdsl;
    }
    if (itest_raw_send(r, bhs, data_out, imm))
        return -1;
    if (din_pdus)
        *din_pdus = 0;
    if (r2ts)
        *r2ts = 0;
    for (;;) {
        struct itest_pdu p;
        int rc = itest_raw_recv(r, &p);
        if (rc) {
            fprintf(stderr, "itest_raw_scsi: receive failed (%d)\n", rc);
            return -1;
        }
        uint8_t op = p.bhs[0] & 0x3f;
        if (op == 0x20) { /* NOP-In: answer pings so the target keeps the connection */
            rc = itest__nop_reply(r, &p);
            itest_pdu_free(&p);
            if (rc)
                return -1;
            continue;
        }
        if (op == 0x32) { /* Async Message: not for this command */
            itest_pdu_free(&p);
            continue;
        }
        if (itest__get32(p.bhs + 16) != itt) {
            fprintf(stderr, "itest_raw_scsi: opcode 0x%02x for ITT 0x%x, expected 0x%x\n", op,
                    itest__get32(p.bhs + 16), itt);
            itest_pdu_free(&p);
            return -1;
        }
        if (op == 0x31) { /* R2T */
            uint32_t ttt = itest__get32(p.bhs + 20);
            uint32_t off = itest__get32(p.bhs + 40), len = itest__get32(p.bhs + 44);
            itest_pdu_free(&p);
            if (r2ts)
                ++*r2ts;
            if ((uint64_t)off + len > out_len) {
                fprintf(stderr, "itest_raw_scsi: R2T beyond the data (%u+%u > %u)\n", off, len, out_len);
                return -1;
            }
            if (itest__data_out(r, itt, ttt, lun, data_out, off, len))
                return -1;
            continue;
        }
        if (op == 0x25) { /* Data-In */
            uint32_t off = itest__get32(p.bhs + 40);
            if (din_pdus)
                ++*din_pdus;
            if ((uint64_t)off + p.data_len > in_len) {
                fprintf(stderr, "itest_raw_scsi: Data-In beyond the buffer (%u+%u > %u)\n", off, p.data_len,
                        in_len);
                itest_pdu_free(&p);
                return -1;
            }
            memcpy((uint8_t *)data_in + off, p.data, p.data_len);
            if (p.bhs[1] & 0x01) {
                r->exp_statsn = itest__get32(p.bhs + 24) + 1;
                int status = p.bhs[3];
                itest_pdu_free(&p);
                return status;
            }
            itest_pdu_free(&p);
            continue;
        }
        if (op == 0x21) { /* SCSI Response */
            r->exp_statsn = itest__get32(p.bhs + 24) + 1;
            int status = p.bhs[2] == 0 ? p.bhs[3] : -1;
            itest_pdu_free(&p);
            return status;
        }
        fprintf(stderr, "itest_raw_scsi: unexpected opcode 0x%02x\n", op);
        itest_pdu_free(&p);
        return -1;
    }
}

int itest_raw_logout(struct itest_raw *r)
{
    uint8_t bhs[48] = { 0 };
    bhs[0] = 0x40 | 0x06;
    bhs[1] = 0x80; /* reason 0: close the session */
    itest__put32(bhs + 16, r->itt++);
    itest__put32(bhs + 24, r->cmdsn);
    itest__put32(bhs + 28, r->exp_statsn);
    if (itest_raw_send(r, bhs, NULL, 0))
        return -1;
    for (int i = 0; i < 8; i++) {
        struct itest_pdu p;
        if (itest_raw_recv(r, &p))
            return -1;
        uint8_t op = p.bhs[0] & 0x3f;
        int resp = p.bhs[2];
        itest_pdu_free(&p);
        if (op == 0x26)
            return resp == 0 ? 0 : -1;
    }
    return -1;
}
