/* Internals shared by transport/net_*.c. Includes <uv.h>; nothing outside transport/net_*.c may include it. */
#ifndef NET_INTERNAL_H
#define NET_INTERNAL_H

#include <uv.h>

#include "transport/net.h"

#define NET_MAX_LISTENERS 64
#define NET_DEFAULT_READ_BUF (256u * 1024u)
#define NET_DEFAULT_GRACE_MS 3000u
#define NET_ADDR_STRLEN 64
#define NET_FLUSH_TIMEOUT_MS 5000u /* how long a closing connection may take to drain its last writes */ /* "[" + INET6_ADDRSTRLEN + "]:" + port, rounded up */

struct net_conn;

/* A listening socket of one portal. Allocated inside struct net_loop; closed at stop. */
struct net_listener {
    uv_tcp_t tcp;
    struct net_loop *nl;
    uint16_t tpgt;
    char bound[NET_ADDR_STRLEN];
};

/* Pooled libuv work request wrapping one struct tgt_work. Allocated in slabs, reused through a free list,
 * freed with the loop: a queued command costs no allocation once the pool has grown to the queue depth. */
struct net_work {
    uv_work_t req;
    struct tgt_work *w;
    struct net_work *next_free;
};

struct net_work_slab {
    struct net_work_slab *next;
    unsigned n;
    struct net_work items[];
};

struct net_loop {
    uv_loop_t loop;
    struct net_cfg cfg;
    struct isc_server *srv;

    struct net_listener listeners[NET_MAX_LISTENERS];
    unsigned n_listeners;

    uv_timer_t tick;
    uv_timer_t grace;
    uv_signal_t sig_term, sig_int;
    bool started;
    bool stopping;       /* stop requested: no more accepts */
    bool forced;         /* grace expired or second signal: connections closed without waiting */
    bool handles_closed; /* tick, grace and signal handles closed */
    int stop_signal;

    struct net_conn *conns; /* every connection whose close callback has not run yet */
    unsigned n_conns;

    struct net_work *work_free;
    struct net_work_slab *work_slabs;
    unsigned work_in_flight;
};

/* One accepted TCP connection. Allocated on accept, freed in its close callback after isc_conn_release(). */
struct net_conn {
    uv_tcp_t tcp;
    uv_shutdown_t shutdown_req;
    struct net_loop *nl;
    struct isc_conn *ic;
    uint8_t *rbuf;
    size_t rbuf_size;
    struct net_wreq *wfree; /* reusable write requests */
    unsigned writes_pending;
    bool closing;           /* uv_close (or a flush before it) has been requested */
    bool released;          /* isc_conn_release() done: no callbacks into the protocol any more */
    uint64_t flush_deadline; /* a flushing close (uv_shutdown) gives up at this net_now_ms(); 0 = none */
    struct net_conn *prev, *next;
    char local[NET_ADDR_STRLEN];
    char peer[NET_ADDR_STRLEN];
};

void net__log(struct net_loop *nl, enum net_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Format a socket address as "HOST:PORT" (IPv6 in brackets). Returns 0 or -errno. */
int net__format_addr(const struct sockaddr *sa, char *out, size_t outlen);
/* Accept callback of every listener (net_conn.c). */
void net__on_connection(uv_stream_t *server, int status);
/* Close the connections whose flushing close has waited past its deadline (net_conn.c, from the tick). */
void net__sweep_flushing(struct net_loop *nl, uint64_t now_ms);
/* Close every connection now, without waiting for queued writes (net_conn.c). */
void net__close_all_conns(struct net_loop *nl);
/* A connection's close callback ran; the loop may finish a pending stop (net_loop.c). */
void net__conn_gone(struct net_loop *nl);
/* Free the executor's pool (net_exec.c). */
void net__exec_free(struct net_loop *nl);

#endif
