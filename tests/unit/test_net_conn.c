/* Unit tests of transport/net_conn.c: accepted connections reach the protocol layer, its answers go out before
 * a flushing close, a malformed stream drops only its own connection, and a stop releases every connection.
 * A real loop, a real isc_server and target (mem LU) on 127.0.0.1:0; the peers are plain sockets driven from a
 * second thread, which ends each test with SIGTERM as an operator would.
 *
 *   client thread ──TCP──> net_loop (main thread) ──> isc_server ──> tgt_server (mem:1M)
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "transport/isc.h"
#include "transport/net.h"

#define IQN "iqn.2026-11.org.prtarget.unit:net"

struct fixture {
    struct net_loop *nl;
    struct tgt_server *tgt;
    struct isc_server *isc;
    struct isc_portal portal;
    char bound[64];
    int port;
};

static void fixture_init(struct fixture *f)
{
    char err[256] = "";
    memset(f, 0, sizeof *f);
    struct net_cfg nc = { .shutdown_grace_ms = 500 };
    f->nl = net_loop_new(&nc);
    assert_non_null(f->nl);
    struct tgt_server_cfg tc = { .target_name = IQN, .n_ports = 1, .exec = net_exec(f->nl), .now_ms = net_now_ms,
                                 .now_ctx = f->nl };
    f->tgt = tgt_server_new(&tc, err, sizeof err);
    assert_non_null(f->tgt);
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = 1u << 20, .block_size = 512 };
    assert_int_equal(tgt_server_add_lu(f->tgt, &lc, err, sizeof err), 0);
    assert_int_equal(net_listen(f->nl, "127.0.0.1:0", 1, f->bound, sizeof f->bound), 0);
    f->port = atoi(strrchr(f->bound, ':') + 1);
    f->portal = (struct isc_portal){ .addr = f->bound, .tpgt = 1 };
    struct isc_server_cfg ic = { .target_name = IQN, .tgt = f->tgt, .portals = &f->portal, .n_portals = 1,
                                 .nop_interval_ms = 5000, .nop_timeout_ms = 30000, .login_timeout_ms = 15000,
                                 .now_ms = net_now_ms, .now_ctx = f->nl };
    f->isc = isc_server_new(&ic, err, sizeof err);
    assert_non_null(f->isc);
    assert_int_equal(net_start(f->nl, f->isc), 0);
}

static void fixture_fini(struct fixture *f)
{
    assert_int_equal(tgt_server_flush(f->tgt), 0);
    isc_server_free(f->isc);
    tgt_server_free(f->tgt);
    net_loop_free(f->nl);
}

static int client_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { .tv_sec = 5 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads until EOF or error; returns the bytes read, or -1 when the 5 s receive timeout hit first. */
static long read_to_eof(int fd, uint8_t *buf, size_t cap)
{
    size_t have = 0;
    for (;;) {
        uint8_t scratch[4096];
        ssize_t n = recv(fd, scratch, sizeof scratch, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return (long)have;
        if (n < 0)
            return -1;
        for (ssize_t i = 0; i < n && have < cap; i++)
            buf[have++] = scratch[i];
    }
}

/* True when fd is still open and silent for ms milliseconds. */
static bool still_open(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, ms) == 0;
}

struct outcome {
    int port;
    long garbage_read;       /* bytes the target sent before dropping the garbage connection */
    bool bystander_open;     /* the second connection survived */
    long login_read;
    uint8_t login_rsp[256];
    int idle_fds[8];
    bool connected;
};

static void *client_garbage_and_bystander(void *arg)
{
    struct outcome *o = arg;
    int bad = client_connect(o->port), good = client_connect(o->port);
    o->connected = bad >= 0 && good >= 0;
    if (o->connected) {
        /* RFC 7143 6.1: the first PDU of a connection must be a Login Request; this is opcode 3Fh with a
         * DataSegmentLength of 16 MiB - 1. */
        uint8_t junk[48] = { 0x3f, 0x80, 0, 0, 0, 0xff, 0xff, 0xff };
        (void)send(bad, junk, sizeof junk, MSG_NOSIGNAL);
        uint8_t sink[512];
        o->garbage_read = read_to_eof(bad, sink, sizeof sink);
        o->bystander_open = still_open(good, 300);
    }
    if (bad >= 0)
        close(bad);
    if (good >= 0)
        close(good);
    kill(getpid(), SIGTERM);
    return NULL;
}

static void test_malformed_stream_drops_only_its_own_connection(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    struct outcome o = { .port = f.port };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, client_garbage_and_bystander, &o), 0);
    assert_int_equal(net_run(f.nl), 0);
    pthread_join(th, NULL);
    assert_true(o.connected);
    assert_true(o.garbage_read >= 0); /* closed by the target, not left hanging until the timeout */
    assert_true(o.bystander_open);
    assert_int_equal(net_stop_signal(f.nl), SIGTERM);
    fixture_fini(&f);
}

static void *client_bad_login(void *arg)
{
    struct outcome *o = arg;
    int fd = client_connect(o->port);
    o->connected = fd >= 0;
    if (fd >= 0) {
        static const char keys[] = "InitiatorName=iqn.2026-11.org.prtarget.unit:client\0SessionType=Normal\0"
                                   "TargetName=iqn.2026-11.org.nobody:none";
        uint8_t pdu[48 + sizeof keys + 3] = { 0x43, 0x80 | (1 << 2) | 3 };
        pdu[7] = (uint8_t)sizeof keys;
        pdu[8] = 0x80; /* ISID: random format */
        pdu[13] = 1;
        pdu[19] = 1;   /* ITT */
        pdu[27] = 1;   /* CmdSN */
        memcpy(pdu + 48, keys, sizeof keys);
        size_t len = 48 + ((sizeof keys + 3) & ~(size_t)3);
        (void)send(fd, pdu, len, MSG_NOSIGNAL);
        o->login_read = read_to_eof(fd, o->login_rsp, sizeof o->login_rsp);
        close(fd);
    }
    kill(getpid(), SIGTERM);
    return NULL;
}

/* The Login Response refusing an unknown target is written and flushed before the connection is closed
 * (RFC 7143 11.13: a login failure ends the connection after the response). */
static void test_final_login_response_is_flushed_before_the_close(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    struct outcome o = { .port = f.port };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, client_bad_login, &o), 0);
    assert_int_equal(net_run(f.nl), 0);
    pthread_join(th, NULL);
    assert_true(o.connected);
    assert_true(o.login_read >= 48);
    assert_int_equal(o.login_rsp[0] & 0x3f, 0x23); /* Login Response */
    assert_int_equal(o.login_rsp[36], 0x02);        /* status class: initiator error */
    fixture_fini(&f);
}

static void *client_idle_then_stop(void *arg)
{
    struct outcome *o = arg;
    o->connected = true;
    for (unsigned i = 0; i < 8; i++) {
        o->idle_fds[i] = client_connect(o->port);
        o->connected = o->connected && o->idle_fds[i] >= 0;
    }
    usleep(100 * 1000);
    kill(getpid(), SIGTERM);
    return NULL;
}

/* design.md: SIGTERM stops accepting and ends every connection; the loop returns once all are released. */
static void test_stop_releases_every_connection_and_returns(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    struct outcome o = { .port = f.port };
    pthread_t th;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pthread_create(&th, NULL, client_idle_then_stop, &o), 0);
    assert_int_equal(net_run(f.nl), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    assert_true(o.connected);
    /* Grace is 500 ms here; the loop must not wait for the idle peers beyond it. */
    assert_true(t1.tv_sec - t0.tv_sec < 3);
    for (unsigned i = 0; i < 8; i++) {
        uint8_t buf[256];
        assert_true(read_to_eof(o.idle_fds[i], buf, sizeof buf) >= 0);
        close(o.idle_fds[i]);
    }
    /* The portal no longer accepts. */
    assert_int_equal(client_connect(f.port), -1);
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_stream_drops_only_its_own_connection),
        cmocka_unit_test(test_final_login_response_is_flushed_before_the_close),
        cmocka_unit_test(test_stop_releases_every_connection_and_returns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
