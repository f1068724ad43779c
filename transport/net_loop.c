/* The event loop: listeners, the protocol tick, signals and the orderly stop. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/net_internal.h"

void net__log(struct net_loop *nl, enum net_log_level level, const char *fmt, ...)
{
    if (!nl->cfg.log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nl->cfg.log(nl->cfg.log_ctx, level, msg);
}

struct net_loop *net_loop_new(const struct net_cfg *cfg)
{
    struct net_loop *nl = calloc(1, sizeof *nl);
    if (!nl)
        return NULL;
    if (cfg)
        nl->cfg = *cfg;
    if (nl->cfg.shutdown_grace_ms == 0)
        nl->cfg.shutdown_grace_ms = NET_DEFAULT_GRACE_MS;
    if (nl->cfg.read_buf_size == 0)
        nl->cfg.read_buf_size = NET_DEFAULT_READ_BUF;
    if (uv_loop_init(&nl->loop) != 0) {
        free(nl);
        return NULL;
    }
    nl->loop.data = nl;
    /* A peer that resets its connection while we write must cost us an EPIPE on that socket, not the
     * process. */
    signal(SIGPIPE, SIG_IGN);
    return nl;
}

static void net__count_walk(uv_handle_t *h, void *arg)
{
    (void)h;
    ++*(unsigned *)arg;
}

void net_loop_free(struct net_loop *nl)
{
    if (!nl)
        return;
    /* Listeners bound but never started (a startup error) still need their close callbacks to run before
     * the loop can be closed. */
    for (unsigned i = 0; i < nl->n_listeners; i++)
        if (!uv_is_closing((uv_handle_t *)&nl->listeners[i].tcp))
            uv_close((uv_handle_t *)&nl->listeners[i].tcp, NULL);
    if (nl->started && !nl->handles_closed) {
        uv_close((uv_handle_t *)&nl->tick, NULL);
        uv_close((uv_handle_t *)&nl->grace, NULL);
        uv_close((uv_handle_t *)&nl->sig_term, NULL);
        uv_close((uv_handle_t *)&nl->sig_int, NULL);
        nl->handles_closed = true;
    }
    uv_run(&nl->loop, UV_RUN_DEFAULT);
    unsigned left = 0;
    uv_walk(&nl->loop, net__count_walk, &left);
    if (left == 0)
        uv_loop_close(&nl->loop);
    net__exec_free(nl);
    free(nl);
}

uint64_t net_now_ms(void *ctx)
{
    (void)ctx;
    return uv_hrtime() / 1000000u;
}

int net_parse_addr(const char *addr, struct sockaddr_storage *out)
{
    char host[NET_ADDR_STRLEN];
    const char *port_s;
    memset(out, 0, sizeof *out);
    if (!addr)
        return -EINVAL;
    bool v6 = addr[0] == '[';
    if (v6) {
        const char *rb = strchr(addr, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - addr - 1) >= sizeof host)
            return -EINVAL;
        memcpy(host, addr + 1, (size_t)(rb - addr - 1));
        host[rb - addr - 1] = '\0';
        port_s = rb + 2;
    } else {
        const char *colon = strrchr(addr, ':');
        if (!colon || (size_t)(colon - addr) >= sizeof host || strchr(addr, ':') != colon)
            return -EINVAL;
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = '\0';
        port_s = colon + 1;
    }
    if (*port_s == '\0' || strlen(port_s) > 5)
        return -EINVAL;
    unsigned long port = 0;
    for (const char *p = port_s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        port = port * 10 + (unsigned long)(*p - '0');
    }
    if (port > 65535)
        return -EINVAL;
    if (v6) {
        if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)out) != 0)
            return -EINVAL;
    } else {
        if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)out) != 0)
            return -EINVAL;
    }
    return 0;
}

int net__format_addr(const struct sockaddr *sa, char *out, size_t outlen)
{
    char host[INET6_ADDRSTRLEN];
    int n;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        if (uv_ip4_name(in, host, sizeof host) != 0)
            return -EINVAL;
        n = snprintf(out, outlen, "%s:%u", host, (unsigned)ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (uv_ip6_name(in6, host, sizeof host) != 0)
            return -EINVAL;
        n = snprintf(out, outlen, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
    } else {
        return -EAFNOSUPPORT;
    }
    return n < 0 || (size_t)n >= outlen ? -ENOSPC : 0;
}

int net_listen(struct net_loop *nl, const char *addr, uint16_t tpgt, char *bound, size_t boundlen)
{
    struct sockaddr_storage ss;
    int rc = net_parse_addr(addr, &ss);
    if (rc)
        return rc;
    if (nl->n_listeners == NET_MAX_LISTENERS)
        return -EMFILE;
    struct net_listener *l = &nl->listeners[nl->n_listeners];
    memset(l, 0, sizeof *l);
    rc = uv_tcp_init(&nl->loop, &l->tcp);
    if (rc)
        return rc;
    nl->n_listeners++;
    l->nl = nl;
    l->tpgt = tpgt;
    l->tcp.data = l;
    /* An IPv6 wildcard portal is its own portal; IPv4 clients reach the IPv4 portals the user listed. */
    unsigned flags = ss.ss_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
    rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&ss, flags);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&l->tcp, 128, net__on_connection);
    if (rc == 0) {
        struct sockaddr_storage name;
        int len = sizeof name;
        rc = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&name, &len);
        if (rc == 0)
            rc = net__format_addr((const struct sockaddr *)&name, l->bound, sizeof l->bound);
    }
    if (rc)
        return rc; /* the handle is closed by net_loop_free() */
    if (bound && boundlen) {
        if (strlen(l->bound) >= boundlen)
            return -ENOSPC;
        strcpy(bound, l->bound);
    }
    return 0;
}

static void net__on_tick(uv_timer_t *t)
{
    struct net_loop *nl = t->loop->data;
    uint64_t now = net_now_ms(nl);
    if (nl->srv)
        isc_server_tick(nl->srv, now);
    net__sweep_flushing(nl, now);
}

/* Once every connection is gone after a stop, close the remaining handles so uv_run() can return when the
 * last queued work item completes. */
static void net__maybe_finish(struct net_loop *nl)
{
    if (!nl->stopping || nl->n_conns != 0 || nl->handles_closed)
        return;
    nl->handles_closed = true;
    uv_close((uv_handle_t *)&nl->tick, NULL);
    uv_close((uv_handle_t *)&nl->grace, NULL);
    uv_close((uv_handle_t *)&nl->sig_term, NULL);
    uv_close((uv_handle_t *)&nl->sig_int, NULL);
    net__log(nl, NET_LOG_INFO, "all connections closed; %u work items still running", nl->work_in_flight);
}

void net__conn_gone(struct net_loop *nl)
{
    net__maybe_finish(nl);
}

static void net__on_grace(uv_timer_t *t)
{
    struct net_loop *nl = t->loop->data;
    if (nl->n_conns) {
        net__log(nl, NET_LOG_WARN, "shutdown grace expired: closing %u connection(s)", nl->n_conns);
        nl->forced = true;
        net__close_all_conns(nl);
    }
}

void net_stop(struct net_loop *nl)
{
    if (!nl->started)
        return;
    if (nl->stopping) {
        /* A second request means the operator does not want to wait for initiators to log out. */
        if (!nl->forced) {
            nl->forced = true;
            net__close_all_conns(nl);
        }
        return;
    }
    nl->stopping = true;
    for (unsigned i = 0; i < nl->n_listeners; i++)
        if (!uv_is_closing((uv_handle_t *)&nl->listeners[i].tcp))
            uv_close((uv_handle_t *)&nl->listeners[i].tcp, NULL);
    if (nl->srv)
        isc_server_shutdown(nl->srv);
    uv_timer_start(&nl->grace, net__on_grace, nl->cfg.shutdown_grace_ms, 0);
    net__maybe_finish(nl);
}

static void net__on_signal(uv_signal_t *s, int signum)
{
    struct net_loop *nl = s->loop->data;
    if (!nl->stop_signal)
        nl->stop_signal = signum;
    net__log(nl, NET_LOG_INFO, "signal %d: stopping", signum);
    net_stop(nl);
}

int net_start(struct net_loop *nl, struct isc_server *srv)
{
    if (nl->started)
        return -EALREADY;
    nl->srv = srv;
    int rc = uv_timer_init(&nl->loop, &nl->tick);
    if (rc)
        return rc;
    uv_timer_init(&nl->loop, &nl->grace);
    uv_signal_init(&nl->loop, &nl->sig_term);
    uv_signal_init(&nl->loop, &nl->sig_int);
    nl->started = true;
    if ((rc = uv_timer_start(&nl->tick, net__on_tick, 1000, 1000)) != 0 ||
        (rc = uv_signal_start(&nl->sig_term, net__on_signal, SIGTERM)) != 0 ||
        (rc = uv_signal_start(&nl->sig_int, net__on_signal, SIGINT)) != 0)
        return rc;
    return 0;
}

int net_run(struct net_loop *nl)
{
    return uv_run(&nl->loop, UV_RUN_DEFAULT) < 0 ? -EIO : 0;
}

int net_stop_signal(const struct net_loop *nl)
{
    return nl->stop_signal;
}
