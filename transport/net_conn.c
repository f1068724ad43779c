/* Accepted connections: bytes in to isc_conn_feed(), vectored ordered writes out, and the close handshake
 * with the protocol layer (isc_conn_release() only from the libuv close callback). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transport/net_internal.h"

/* A write request, reused through the connection's free list so steady-state I/O allocates nothing. */
struct net_wreq {
    uv_write_t req;
    struct net_conn *nc;
    void (*done)(void *arg, int status);
    void *arg;
    struct net_wreq *next_free;
};

/* Vectors per write that need no temporary allocation here: a 4 MiB read at the default 256 KiB segment
 * length is 16 Data-In PDUs of at most 6 pieces each, plus the response. */
#define NET_STACK_IOV 128

static void net__on_close(uv_handle_t *h)
{
    struct net_conn *nc = h->data;
    struct net_loop *nl = nc->nl;
    /* libuv has completed every write callback (with UV_ECANCELED for unsent ones) before this runs, so the
     * protocol layer sees its writes finish before it is told the socket is gone. */
    if (nc->ic && !nc->released) {
        nc->released = true;
        isc_conn_release(nc->ic);
    }
    if (nc->prev)
        nc->prev->next = nc->next;
    else
        nl->conns = nc->next;
    if (nc->next)
        nc->next->prev = nc->prev;
    nl->n_conns--;
    while (nc->wfree) {
        struct net_wreq *r = nc->wfree;
        nc->wfree = r->next_free;
        free(r);
    }
    free(nc->rbuf);
    net__log(nl, NET_LOG_DEBUG, "connection %s closed", nc->peer);
    free(nc);
    net__conn_gone(nl);
}

static void net__close_now(struct net_conn *nc)
{
    if (uv_is_closing((uv_handle_t *)&nc->tcp))
        return;
    nc->closing = true;
    uv_close((uv_handle_t *)&nc->tcp, net__on_close);
}

static void net__on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    net__close_now(req->data);
}

static void net__alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct net_conn *nc = h->data;
    /* The protocol layer copies what it keeps (the reassembler owns its PDU buffers), so one buffer per
     * connection is reused for every read. */
    buf->base = (char *)nc->rbuf;
    buf->len = nc->rbuf_size;
}

static void net__on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct net_conn *nc = s->data;
    (void)buf;
    if (nread == 0)
        return; /* EAGAIN: nothing to do */
    if (nread < 0) {
        if (nread != UV_EOF)
            net__log(nc->nl, NET_LOG_DEBUG, "connection %s: read: %s", nc->peer, uv_strerror((int)nread));
        uv_read_stop(s);
        /* End the session before this loop iteration reads another connection's command (isc.h). */
        if (!nc->released)
            isc_conn_peer_gone(nc->ic);
        net__close_now(nc);
        return;
    }
    if (nc->closing || nc->released)
        return;
    int rc = isc_conn_feed(nc->ic, nc->rbuf, (size_t)nread);
    if (rc < 0) {
        /* The protocol layer has asked for the close itself (isc.h); make sure no more bytes are fed. */
        net__log(nc->nl, NET_LOG_DEBUG, "connection %s: protocol closed it (%d)", nc->peer, rc);
        if (!uv_is_closing((uv_handle_t *)s))
            uv_read_stop(s);
    }
}

static void net__on_write(uv_write_t *req, int status)
{
    struct net_wreq *r = req->data;
    struct net_conn *nc = r->nc;
    void (*done)(void *, int) = r->done;
    void *arg = r->arg;
    r->next_free = nc->wfree;
    nc->wfree = r;
    nc->writes_pending--;
    if (done)
        done(arg, status);
}

static int net__write(void *net, const struct isc_iov *iov, unsigned n, void (*done)(void *arg, int status),
                      void *arg)
{
    struct net_conn *nc = net;
    if (nc->closing || n == 0)
        return -EPIPE;
    uv_buf_t stack_bufs[NET_STACK_IOV];
    uv_buf_t *bufs = stack_bufs;
    if (n > NET_STACK_IOV) {
        bufs = malloc(n * sizeof *bufs);
        if (!bufs)
            return -ENOMEM;
    }
    for (unsigned i = 0; i < n; i++)
        bufs[i] = uv_buf_init((char *)iov[i].base, (unsigned)iov[i].len);
    struct net_wreq *r = nc->wfree;
    if (r) {
        nc->wfree = r->next_free;
    } else {
        r = malloc(sizeof *r);
        if (!r) {
            if (bufs != stack_bufs)
                free(bufs);
            return -ENOMEM;
        }
    }
    r->nc = nc;
    r->done = done;
    r->arg = arg;
    r->req.data = r;
    /* uv_write copies the buffer descriptors (not the bytes), so the array may live on the stack; the bytes
     * stay where the protocol layer put them until done() runs. */
    int rc = uv_write(&r->req, (uv_stream_t *)&nc->tcp, bufs, n, net__on_write);
    if (bufs != stack_bufs)
        free(bufs);
    if (rc) {
        r->next_free = nc->wfree;
        nc->wfree = r;
        return rc;
    }
    nc->writes_pending++;
    return 0;
}

static void net__close(void *net, bool flush)
{
    struct net_conn *nc = net;
    if (nc->closing)
        return;
    nc->closing = true;
    uv_read_stop((uv_stream_t *)&nc->tcp);
    if (flush && nc->writes_pending) {
        /* A Logout Response or a final Login Response must reach the initiator before the socket goes
         * (RFC 7143 11.15, 11.13): let the queued writes drain, then close. */
        nc->shutdown_req.data = nc;
        if (uv_shutdown(&nc->shutdown_req, (uv_stream_t *)&nc->tcp, net__on_shutdown) == 0) {
            /* A peer that stops reading must not keep the connection (and its session) forever. */
            nc->flush_deadline = net_now_ms(nc->nl) + NET_FLUSH_TIMEOUT_MS;
            return;
        }
    }
    uv_close((uv_handle_t *)&nc->tcp, net__on_close);
}

static void net__free_handle(uv_handle_t *h)
{
    free(h);
}

static const struct isc_conn_ops net__conn_ops = {
    .write = net__write,
    .close = net__close,
};

void net__on_connection(uv_stream_t *server, int status)
{
    struct net_listener *l = server->data;
    struct net_loop *nl = l->nl;
    if (status < 0) {
        net__log(nl, NET_LOG_WARN, "accept on %s: %s", l->bound, uv_strerror(status));
        return;
    }
    struct net_conn *nc = calloc(1, sizeof *nc);
    uint8_t *rbuf = nc ? malloc(nl->cfg.read_buf_size) : NULL;
    if (!nc || !rbuf || uv_tcp_init(&nl->loop, &nc->tcp) != 0) {
        /* Out of memory: take the connection off the backlog and drop it, so the listener does not spin. */
        free(rbuf);
        free(nc);
        uv_tcp_t *tmp = malloc(sizeof *tmp);
        if (tmp && uv_tcp_init(&nl->loop, tmp) == 0) {
            if (uv_accept(server, (uv_stream_t *)tmp) != 0) {}
            uv_close((uv_handle_t *)tmp, net__free_handle);
        } else {
            free(tmp);
        }
        net__log(nl, NET_LOG_ERROR, "accept on %s: out of memory", l->bound);
        return;
    }
    nc->nl = nl;
    nc->rbuf = rbuf;
    nc->rbuf_size = nl->cfg.read_buf_size;
    nc->tcp.data = nc;
    nc->next = nl->conns;
    if (nl->conns)
        nl->conns->prev = nc;
    nl->conns = nc;
    nl->n_conns++;

    if (uv_accept(server, (uv_stream_t *)&nc->tcp) != 0 || nl->stopping || !nl->srv) {
        net__close_now(nc);
        return;
    }
    /* iSCSI is request/response with small PDUs (R2T, SCSI Response, NOP-In): Nagle would add a delay to
     * every one of them. */
    uv_tcp_nodelay(&nc->tcp, 1);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getsockname(&nc->tcp, (struct sockaddr *)&ss, &len) != 0 ||
        net__format_addr((const struct sockaddr *)&ss, nc->local, sizeof nc->local) != 0)
        strcpy(nc->local, l->bound);
    len = sizeof ss;
    if (uv_tcp_getpeername(&nc->tcp, (struct sockaddr *)&ss, &len) != 0 ||
        net__format_addr((const struct sockaddr *)&ss, nc->peer, sizeof nc->peer) != 0)
        strcpy(nc->peer, "?");

    nc->ic = isc_conn_new(nl->srv, l->tpgt, nc->local, nc->peer, &net__conn_ops, nc);
    if (!nc->ic) {
        net__log(nl, NET_LOG_ERROR, "connection from %s: cannot allocate protocol state", nc->peer);
        net__close_now(nc);
        return;
    }
    net__log(nl, NET_LOG_DEBUG, "connection from %s on %s (tpgt %u)", nc->peer, nc->local, (unsigned)l->tpgt);
    int rc = uv_read_start((uv_stream_t *)&nc->tcp, net__alloc, net__on_read);
    if (rc) {
        net__log(nl, NET_LOG_WARN, "connection from %s: %s", nc->peer, uv_strerror(rc));
        net__close_now(nc);
    }
}

void net__sweep_flushing(struct net_loop *nl, uint64_t now_ms)
{
    for (struct net_conn *nc = nl->conns; nc; nc = nc->next) {
        if (nc->flush_deadline && now_ms >= nc->flush_deadline && !uv_is_closing((uv_handle_t *)&nc->tcp)) {
            net__log(nl, NET_LOG_DEBUG, "connection %s: peer did not take its last writes; closing", nc->peer);
            uv_close((uv_handle_t *)&nc->tcp, net__on_close);
        }
    }
}

void net__close_all_conns(struct net_loop *nl)
{
    for (struct net_conn *nc = nl->conns; nc; nc = nc->next) {
        if (!uv_is_closing((uv_handle_t *)&nc->tcp)) {
            nc->closing = true;
            uv_close((uv_handle_t *)&nc->tcp, net__on_close);
        }
    }
}
