/* The control socket (see net_control.h): a libuv UNIX-socket listener that frames newline-delimited JSON and
 * hands each line to the application. Operator traffic is rare and small next to iSCSI, so each write here
 * allocates its own buffer; nothing in this file is on the I/O path. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "transport/net_control.h"
#include "transport/net_internal.h"

#define NET_CTL_READ_CHUNK 65536

struct net_ctl_client {
    uv_pipe_t pipe;
    struct net_control *nc;
    struct net_ctl_client *prev, *next;
    char *in;                 /* bytes received and not yet framed into a line */
    size_t in_len, in_cap;
    char *rbuf;               /* libuv reads land here */
    unsigned topics;
    size_t backlog;           /* bytes queued for writing */
    bool closing;
};

struct net_control {
    uv_pipe_t listener;
    struct net_loop *nl;
    struct net_control_cfg cfg;
    char *path;
    struct net_ctl_client *clients;
    unsigned n_clients;
    unsigned handles;         /* listener + clients whose close callback has not run */
    bool closing;
};

struct net_ctl_wreq {
    uv_write_t req;
    struct net_ctl_client *cl;
    size_t len;
    char data[];
};

static void net__ctl_maybe_free(struct net_control *nc)
{
    if (nc->closing && nc->handles == 0) {
        free(nc->path);
        free(nc);
    }
}

static void net__ctl_client_closed(uv_handle_t *h)
{
    struct net_ctl_client *cl = h->data;
    struct net_control *nc = cl->nc;

    if (cl->prev)
        cl->prev->next = cl->next;
    else
        nc->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    nc->n_clients--;
    nc->handles--;
    free(cl->in);
    free(cl->rbuf);
    free(cl);
    net__ctl_maybe_free(nc);
}

static void net__ctl_client_close(struct net_ctl_client *cl)
{
    if (cl->closing)
        return;
    cl->closing = true;
    uv_close((uv_handle_t *)&cl->pipe, net__ctl_client_closed);
}

static void net__ctl_on_write(uv_write_t *req, int status)
{
    struct net_ctl_wreq *w = (struct net_ctl_wreq *)req;

    w->cl->backlog -= w->len;
    if (status < 0 && status != UV_ECANCELED)
        net__ctl_client_close(w->cl);
    free(w);
}

/* Queue line + '\n' to cl. Returns 0 or -errno; a client that cannot keep up is disconnected. */
static int net__ctl_send(struct net_ctl_client *cl, const char *line, size_t len)
{
    if (cl->closing)
        return -EPIPE;
    if (cl->backlog + len + 1 > NET_CONTROL_MAX_BACKLOG) {
        net__log(cl->nc->nl, NET_LOG_WARN, "control: a client fell %zu bytes behind; disconnecting it",
                 cl->backlog);
        net__ctl_client_close(cl);
        return -ENOBUFS;
    }
    struct net_ctl_wreq *w = malloc(sizeof *w + len + 1);
    if (!w)
        return -ENOMEM;
    memcpy(w->data, line, len);
    w->data[len] = '\n';
    w->cl = cl;
    w->len = len + 1;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)(len + 1));
    int rc = uv_write(&w->req, (uv_stream_t *)&cl->pipe, &b, 1, net__ctl_on_write);
    if (rc) {
        free(w);
        net__ctl_client_close(cl);
        return rc;
    }
    cl->backlog += len + 1;
    return 0;
}

static void net__ctl_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct net_ctl_client *cl = h->data;
    (void)suggested;
    *buf = uv_buf_init(cl->rbuf, NET_CTL_READ_CHUNK);
}

static void net__ctl_line(struct net_ctl_client *cl, const char *line, size_t len)
{
    unsigned sub = 0;

    if (len && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return;
    char *rsp = cl->nc->cfg.handle(cl->nc->cfg.ctx, line, len, &sub);
    cl->topics |= sub;
    if (rsp) {
        net__ctl_send(cl, rsp, strlen(rsp));
        free(rsp);
    }
}

static void net__ctl_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct net_ctl_client *cl = s->data;

    if (nread < 0) {
        net__ctl_client_close(cl);
        return;
    }
    if (nread == 0 || cl->closing)
        return;
    size_t need = cl->in_len + (size_t)nread;
    if (need > NET_CONTROL_MAX_LINE + NET_CTL_READ_CHUNK) {
        /* JSON-RPC 2.0 section 5.1: -32700 is the code for text that cannot be parsed; a line that never ends
         * cannot be, and the stream after it cannot be framed, so the client goes. */
        static const char too_long[] =
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"request line too long\"}}";
        net__ctl_send(cl, too_long, sizeof too_long - 1);
        uv_read_stop(s);
        net__ctl_client_close(cl);
        return;
    }
    if (need > cl->in_cap) {
        size_t cap = cl->in_cap ? cl->in_cap : 4096;
        while (cap < need)
            cap *= 2;
        char *p = realloc(cl->in, cap);
        if (!p) {
            net__ctl_client_close(cl);
            return;
        }
        cl->in = p;
        cl->in_cap = cap;
    }
    memcpy(cl->in + cl->in_len, buf->base, (size_t)nread);
    cl->in_len = need;

    size_t start = 0;
    for (size_t i = cl->in_len - (size_t)nread; i < cl->in_len && !cl->closing; i++) {
        if (cl->in[i] != '\n')
            continue;
        net__ctl_line(cl, cl->in + start, i - start);
        start = i + 1;
    }
    if (cl->closing)
        return;
    memmove(cl->in, cl->in + start, cl->in_len - start);
    cl->in_len -= start;
    if (cl->in_len > NET_CONTROL_MAX_LINE) {
        static const char too_long[] =
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"request line too long\"}}";
        net__ctl_send(cl, too_long, sizeof too_long - 1);
        uv_read_stop(s);
        net__ctl_client_close(cl);
    }
}

static void net__ctl_on_connection(uv_stream_t *server, int status)
{
    struct net_control *nc = server->data;
    struct net_ctl_client *cl;

    if (status < 0 || nc->closing)
        return;
    cl = calloc(1, sizeof *cl);
    if (cl)
        cl->rbuf = malloc(NET_CTL_READ_CHUNK);
    if (!cl || !cl->rbuf || uv_pipe_init(&nc->nl->loop, &cl->pipe, 0) != 0) {
        if (cl)
            free(cl->rbuf);
        free(cl);
        net__log(nc->nl, NET_LOG_ERROR, "control: out of memory accepting a client");
        return;
    }
    cl->nc = nc;
    cl->pipe.data = cl;
    cl->next = nc->clients;
    if (nc->clients)
        nc->clients->prev = cl;
    nc->clients = cl;
    nc->n_clients++;
    nc->handles++;
    /* An operator's open session must not keep a stopping daemon alive. */
    uv_unref((uv_handle_t *)&cl->pipe);
    if (uv_accept(server, (uv_stream_t *)&cl->pipe) != 0 ||
        uv_read_start((uv_stream_t *)&cl->pipe, net__ctl_alloc, net__ctl_on_read) != 0)
        net__ctl_client_close(cl);
}

/* A socket file left by a daemon that died is replaced; one that a live daemon answers on is not. */
static int net__ctl_clear_path(const char *path)
{
    struct stat st;
    struct sockaddr_un sun;
    int fd, rc;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun.sun_path)
        return -ENAMETOOLONG;
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
    close(fd);
    if (rc == 0)
        return -EADDRINUSE;
    return unlink(path) == 0 ? 0 : -errno;
}

static void net__ctl_listener_closed(uv_handle_t *h)
{
    struct net_control *nc = h->data;

    nc->handles--;
    net__ctl_maybe_free(nc);
}

int net_control_open(struct net_loop *nl, const struct net_control_cfg *cfg, struct net_control **out)
{
    struct net_control *nc;
    int rc;

    *out = NULL;
    if (!cfg || !cfg->path || !cfg->path[0] || !cfg->handle)
        return -EINVAL;
    if (strlen(cfg->path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return -ENAMETOOLONG;
    if ((rc = net__ctl_clear_path(cfg->path)) != 0)
        return rc;
    nc = calloc(1, sizeof *nc);
    if (!nc)
        return -ENOMEM;
    nc->path = strdup(cfg->path);
    if (!nc->path) {
        free(nc);
        return -ENOMEM;
    }
    nc->nl = nl;
    nc->cfg = *cfg;
    nc->cfg.path = nc->path;
    if ((rc = uv_pipe_init(&nl->loop, &nc->listener, 0)) != 0) {
        free(nc->path);
        free(nc);
        return rc;
    }
    nc->listener.data = nc;
    nc->handles = 1;
    rc = uv_pipe_bind(&nc->listener, nc->path);
    /* The socket can reset PR state and cut sessions: only its owner may connect. */
    if (rc == 0 && chmod(nc->path, 0600) != 0)
        rc = -errno;
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&nc->listener, 16, net__ctl_on_connection);
    if (rc) {
        bool bound = access(nc->path, F_OK) == 0;
        if (bound)
            unlink(nc->path);
        nc->closing = true;
        uv_close((uv_handle_t *)&nc->listener, net__ctl_listener_closed);
        return rc;
    }
    uv_unref((uv_handle_t *)&nc->listener);
    *out = nc;
    return 0;
}

void net_control_publish(struct net_control *nc, unsigned topics, const char *line, size_t len)
{
    if (!nc || nc->closing)
        return;
    for (struct net_ctl_client *cl = nc->clients, *next; cl; cl = next) {
        next = cl->next;
        if (cl->topics & topics)
            net__ctl_send(cl, line, len);
    }
}

unsigned net_control_clients(const struct net_control *nc)
{
    return nc ? nc->n_clients : 0;
}

unsigned net_control_followers(const struct net_control *nc, unsigned topics)
{
    unsigned n = 0;

    if (!nc || nc->closing)
        return 0;
    for (const struct net_ctl_client *cl = nc->clients; cl; cl = cl->next)
        n += (cl->topics & topics) != 0;
    return n;
}

void net_control_close(struct net_control *nc)
{
    if (!nc || nc->closing)
        return;
    nc->closing = true;
    unlink(nc->path);
    for (struct net_ctl_client *cl = nc->clients; cl; cl = cl->next)
        net__ctl_client_close(cl);
    uv_close((uv_handle_t *)&nc->listener, net__ctl_listener_closed);
}

unsigned net_drop_peer(struct net_loop *nl, const char *peer)
{
    unsigned n = 0;

    for (struct net_conn *c = nl->conns; c; c = c->next) {
        uv_os_fd_t fd;

        if (c->closing || (peer && strcmp(c->peer, peer) != 0))
            continue;
        /* Shutting the socket down makes our own read see EOF, so the connection goes through the ordinary
         * connection-loss path (RFC 7143 6.3: the session loses the connection; the I_T nexus is lost),
         * and the initiator sees the connection end as it would when a cable is pulled. */
        if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 && shutdown(fd, SHUT_RDWR) == 0)
            n++;
    }
    return n;
}
