/* The JSON-RPC 2.0 client of prtargetctl: newline-delimited JSON over a UNIX stream socket. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "app/prtargetctl.h"

/* The daemon refuses longer lines, and answers are smaller than the state they describe. */
#define PRT_CTL_MAX_LINE (16u << 20)

int prt_ctl_connect(struct prt_ctl_conn *c, const char *path)
{
    struct sockaddr_un sun;

    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->next_id = 1;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun.sun_path)
        return -ENAMETOOLONG;
    strcpy(sun.sun_path, path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -errno;
    if (connect(c->fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
        int rc = -errno;
        close(c->fd);
        c->fd = -1;
        return rc;
    }
    return 0;
}

void prt_ctl_close(struct prt_ctl_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
}

static int prt_ctl_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

long prt_ctl_send(struct prt_ctl_conn *c, const char *method, json_t *params)
{
    long id = c->next_id++;
    json_t *req = json_pack("{s:s, s:I, s:s}", "jsonrpc", "2.0", "id", (json_int_t)id, "method", method);
    char *text;
    int rc;

    if (!req)
        return -ENOMEM;
    if (params)
        json_object_set(req, "params", params);
    text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text)
        return -ENOMEM;
    size_t n = strlen(text);
    rc = prt_ctl_write_all(c->fd, text, n);
    if (rc == 0)
        rc = prt_ctl_write_all(c->fd, "\n", 1);
    free(text);
    return rc ? rc : id;
}

int prt_ctl_recv(struct prt_ctl_conn *c, int timeout_ms, json_t **out)
{
    for (;;) {
        char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
        if (nl) {
            size_t line = (size_t)(nl - c->buf);
            json_t *j = json_loadb(c->buf, line, 0, NULL);
            memmove(c->buf, nl + 1, c->len - line - 1);
            c->len -= line + 1;
            if (!j)
                return -EPROTO;
            *out = j;
            return 0;
        }
        if (c->len >= PRT_CTL_MAX_LINE)
            return -EMSGSIZE;
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        int pr = poll(&pfd, 1, timeout_ms);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (pr == 0)
            return -ETIMEDOUT;
        if (c->cap - c->len < 65536) {
            size_t cap = c->cap ? c->cap * 2 : 131072;
            char *b = realloc(c->buf, cap);
            if (!b)
                return -ENOMEM;
            c->buf = b;
            c->cap = cap;
        }
        ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return -ECONNRESET;
        c->len += (size_t)r;
    }
}

int prt_ctl_call_raw(struct prt_ctl_conn *c, const char *method, json_t *params, json_t **result, bool *changed,
                 char *err, size_t errlen)
{
    long id = prt_ctl_send(c, method, params);

    *result = NULL;
    if (id < 0) {
        snprintf(err, errlen, "sending %s: %s", method, strerror((int)-id));
        return (int)id;
    }
    for (;;) {
        json_t *msg;
        int rc = prt_ctl_recv(c, 30000, &msg);
        if (rc) {
            snprintf(err, errlen, "%s: %s", method,
                     rc == -ECONNRESET ? "the daemon closed the connection"
                     : rc == -EPROTO   ? "the daemon sent something that is not JSON"
                                       : strerror(-rc));
            return rc;
        }
        json_t *mid = json_object_get(msg, "id");
        if (!mid) {
            /* A notification for a follower (events --follow, watch) that arrived before our answer. */
            if (changed)
                *changed = true;
            json_decref(msg);
            continue;
        }
        if (json_is_integer(mid) && json_integer_value(mid) != id) {
            json_decref(msg);
            continue;
        }
        json_t *e = json_object_get(msg, "error");
        if (e) {
            snprintf(err, errlen, "%s", json_string_value(json_object_get(e, "message"))
                                            ? json_string_value(json_object_get(e, "message"))
                                            : "the daemon reported an error");
            json_decref(msg);
            return -EREMOTEIO;
        }
        *result = json_incref(json_object_get(msg, "result"));
        json_decref(msg);
        if (!*result) {
            snprintf(err, errlen, "%s: a response without a result", method);
            return -EPROTO;
        }
        return 0;
    }
}
