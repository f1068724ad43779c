/* Unit tests for transport/net_control.c: line framing, several clients, followers, socket-file handling.
 *
 * Fixture: a net_loop with only the control socket on it (no portals), driven with UV_RUN_NOWAIT between the
 * steps of plain POSIX clients in the same thread. The handler answers "echo:<line>" and subscribes the client
 * to topic 1 when the line is "follow".
 *
 *   test ──AF_UNIX──> DIR/ctl.sock ──net_control──> handler
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "transport/net_control.h"
#include "transport/net_internal.h"

struct fx {
    struct net_loop *nl;
    uv_timer_t keepalive; /* the control handles are unref'd; in the daemon the portals keep the loop running */
    struct net_control *nc;
    char dir[64], path[128];
    unsigned handled;
};

static char *handler(void *ctx, const char *line, size_t len, unsigned *subscribe)
{
    struct fx *f = ctx;
    char *out = malloc(len + 8);

    f->handled++;
    if (len == 6 && memcmp(line, "follow", 6) == 0)
        *subscribe = 1;
    if (len == 6 && memcmp(line, "silent", 6) == 0) {
        free(out);
        return NULL;
    }
    memcpy(out, "echo:", 5);
    memcpy(out + 5, line, len);
    out[5 + len] = '\0';
    return out;
}

static void keepalive_cb(uv_timer_t *t)
{
    (void)t;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/prt-nc-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/ctl.sock", f->dir);
    f->nl = net_loop_new(NULL);
    if (!f->nl || uv_timer_init(&f->nl->loop, &f->keepalive) != 0 ||
        uv_timer_start(&f->keepalive, keepalive_cb, 3600000, 3600000) != 0)
        return -1;
    struct net_control_cfg cfg = { .path = f->path, .handle = handler, .ctx = f };
    if (net_control_open(f->nl, &cfg, &f->nc) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    net_control_close(f->nc);
    uv_close((uv_handle_t *)&f->keepalive, NULL);
    net_loop_free(f->nl);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static int client(struct fx *f)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    snprintf(sun.sun_path, sizeof sun.sun_path, "%.100s", f->path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    for (int i = 0; i < 5; i++)
        uv_run(&f->nl->loop, UV_RUN_NOWAIT);
    return fd;
}

static void send_str(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Turn the loop and collect what fd receives until want newlines arrived or 2 s passed. Returns the bytes read
 * (NUL-terminated in buf); *eof is set when the daemon closed the connection. */
static size_t collect(struct fx *f, int fd, char *buf, size_t cap, unsigned want, bool *eof)
{
    size_t have = 0;
    unsigned lines = 0;
    *eof = false;
    for (int i = 0; i < 400 && lines < want && !*eof; i++) {
        uv_run(&f->nl->loop, UV_RUN_NOWAIT);
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 5) <= 0)
            continue;
        ssize_t r = read(fd, buf + have, cap - 1 - have);
        if (r == 0 || (r < 0 && errno != EAGAIN)) {
            *eof = true;
            break;
        }
        for (ssize_t k = 0; k < r; k++)
            lines += buf[have + (size_t)k] == '\n';
        if (r > 0)
            have += (size_t)r;
    }
    buf[have] = '\0';
    return have;
}

static void test_each_line_gets_its_response_line_in_order_however_the_bytes_arrive(void **state)
{
    struct fx *f = *state;
    int fd = client(f);
    char buf[4096];
    bool eof;

    send_str(fd, "one\ntwo\nthr");
    collect(f, fd, buf, sizeof buf, 2, &eof);
    assert_string_equal(buf, "echo:one\necho:two\n");
    send_str(fd, "ee\r\n\n\nsilent\nfour\n");
    collect(f, fd, buf, sizeof buf, 2, &eof);
    /* CR LF ends a line too; empty lines are skipped; a handler returning nothing sends nothing. */
    assert_string_equal(buf, "echo:three\necho:four\n");
    assert_int_equal(f->handled, 5);
    assert_false(eof);
    close(fd);
}

static void test_several_clients_are_served_independently(void **state)
{
    struct fx *f = *state;
    int a = client(f), b = client(f);
    char buf[256];
    bool eof;

    assert_int_equal(net_control_clients(f->nc), 2);
    send_str(a, "from-a-part");
    send_str(b, "from-b\n");
    collect(f, b, buf, sizeof buf, 1, &eof);
    assert_string_equal(buf, "echo:from-b\n");
    send_str(a, "\n");
    collect(f, a, buf, sizeof buf, 1, &eof);
    assert_string_equal(buf, "echo:from-a-part\n");
    close(a);
    for (int i = 0; i < 200 && net_control_clients(f->nc) != 1; i++) {
        uv_run(&f->nl->loop, UV_RUN_NOWAIT);
        usleep(2000);
    }
    assert_int_equal(net_control_clients(f->nc), 1);
    close(b);
}

static void test_followers_alone_receive_published_lines_of_their_topics(void **state)
{
    struct fx *f = *state;
    int follower = client(f), other = client(f);
    char buf[256];
    bool eof;

    send_str(follower, "follow\n");
    collect(f, follower, buf, sizeof buf, 1, &eof);
    net_control_publish(f->nc, 2, "topic-two", 9);
    net_control_publish(f->nc, 1, "topic-one", 9);
    collect(f, follower, buf, sizeof buf, 1, &eof);
    assert_string_equal(buf, "topic-one\n");
    collect(f, other, buf, sizeof buf, 1, &eof);
    assert_string_equal(buf, "");
    close(follower);
    close(other);
}

static void test_overlong_line_gets_a_parse_error_and_the_client_is_dropped(void **state)
{
    struct fx *f = *state;
    int fd = client(f);
    char *big = malloc(NET_CONTROL_MAX_LINE + 1);
    char buf[512];
    bool eof = false;
    size_t sent = 0;

    memset(big, 'x', NET_CONTROL_MAX_LINE + 1);
    /* Feed the line in pieces while the loop reads, as a socket buffer would. */
    while (sent < NET_CONTROL_MAX_LINE + 1 && !eof) {
        ssize_t w = write(fd, big + sent, NET_CONTROL_MAX_LINE + 1 - sent);
        if (w > 0)
            sent += (size_t)w;
        uv_run(&f->nl->loop, UV_RUN_NOWAIT);
        if (net_control_clients(f->nc) == 0)
            break;
    }
    free(big);
    collect(f, fd, buf, sizeof buf, 1, &eof);
    assert_non_null(strstr(buf, "-32700"));
    collect(f, fd, buf, sizeof buf, 5, &eof);
    assert_true(eof);
    assert_int_equal(f->handled, 0);
    close(fd);
    /* The daemon keeps serving everyone else. */
    int fd2 = client(f);
    send_str(fd2, "still-here\n");
    collect(f, fd2, buf, sizeof buf, 1, &eof);
    assert_string_equal(buf, "echo:still-here\n");
    close(fd2);
}

static void test_live_socket_is_not_stolen_and_close_removes_the_file(void **state)
{
    struct fx *f = *state;
    struct net_control *second = NULL;
    struct net_control_cfg cfg = { .path = f->path, .handle = handler, .ctx = f };
    struct stat st;

    assert_int_equal(net_control_open(f->nl, &cfg, &second), -EADDRINUSE);
    assert_null(second);
    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    /* The socket can reset PR state and cut sessions, so only its owner may reach it. */
    assert_int_equal(st.st_mode & 0777, 0600);
    net_control_close(f->nc);
    f->nc = NULL;
    assert_int_equal(stat(f->path, &st), -1);
}

static void test_stale_socket_is_replaced_and_other_files_are_refused(void **state)
{
    struct fx *f = *state;
    char path[160];
    struct net_control *nc = NULL;
    struct net_control_cfg cfg = { .path = path, .handle = handler, .ctx = f };

    /* A socket file nobody listens on, as a killed daemon leaves behind. */
    snprintf(path, sizeof path, "%s/stale.sock", f->dir);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    snprintf(sun.sun_path, sizeof sun.sun_path, "%.100s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    close(fd);
    assert_int_equal(net_control_open(f->nl, &cfg, &nc), 0);
    net_control_close(nc);

    snprintf(path, sizeof path, "%s/regular", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(net_control_open(f->nl, &cfg, &nc), -EEXIST);
    unlink(path);

    snprintf(path, sizeof path, "/nonexistent-dir/x.sock");
    assert_true(net_control_open(f->nl, &cfg, &nc) < 0);
    cfg.handle = NULL;
    assert_int_equal(net_control_open(f->nl, &cfg, &nc), -EINVAL);
    assert_int_equal(net_drop_peer(f->nl, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_line_gets_its_response_line_in_order_however_the_bytes_arrive,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_several_clients_are_served_independently, setup, teardown),
        cmocka_unit_test_setup_teardown(test_followers_alone_receive_published_lines_of_their_topics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlong_line_gets_a_parse_error_and_the_client_is_dropped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_live_socket_is_not_stolen_and_close_removes_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_socket_is_replaced_and_other_files_are_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
