/* net: the libuv glue between TCP sockets and the iSCSI protocol (transport/isc.h).
 *
 * transport/net_*.c are the only files of the tree that include <uv.h>; this header hides libuv from app/ so the
 * event loop stays at the edge. One struct net_loop owns the libuv loop, the listeners (one per portal), the
 * accepted connections, the 1 s protocol tick, the signal handlers and the executor that runs blocking target
 * work (file I/O) on libuv's thread pool.
 *
 * Ownership: the application creates the net_loop with net_loop_new() and frees it with net_loop_free() after
 * net_run() returned. Connections are allocated on accept and freed in their libuv close callback, after
 * isc_conn_release(). Everything here runs on the loop thread except tgt_work.work callbacks.
 *
 * Errors: every call that can fail returns 0 or -errno (libuv error codes are negative errno values on Unix).
 */
#ifndef NET_H
#define NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "target/tgt.h"
#include "transport/isc.h"

struct net_loop;

enum net_log_level { NET_LOG_ERROR = 0, NET_LOG_WARN, NET_LOG_INFO, NET_LOG_DEBUG };

struct net_cfg {
    /* One formatted message without a trailing newline; NULL = silent. */
    void (*log)(void *ctx, enum net_log_level level, const char *msg);
    void *log_ctx;
    /* After SIGTERM/SIGINT, how long sessions get to log out and in-flight commands to finish before the
     * remaining connections are closed (0 = default 3000 ms). */
    uint32_t shutdown_grace_ms;
    /* Per-connection receive buffer (0 = default 256 KiB). */
    size_t read_buf_size;
};

struct net_loop *net_loop_new(const struct net_cfg *cfg);
/* Frees the loop. Only after net_run() returned (every handle closed, every work item done). */
void net_loop_free(struct net_loop *nl);

/* Monotonic milliseconds; usable directly as the now_ms callback of tgt_server_cfg and isc_server_cfg with
 * ctx = the net_loop. */
uint64_t net_now_ms(void *nl);

/* The executor for tgt_server_cfg.exec: work runs on libuv's thread pool, done back on the loop thread. */
struct tgt_exec net_exec(struct net_loop *nl);

/* Parse "HOST:PORT" ("127.0.0.1:3260", "[::1]:3260", "0.0.0.0:0"). Returns 0 or -EINVAL. */
int net_parse_addr(const char *addr, struct sockaddr_storage *out);

/* Bind and listen on addr for portal group tpgt. The address actually bound (the real port when 0 was
 * asked) is written to bound as "HOST:PORT" (IPv6 in brackets). Connections are accepted once net_start()
 * has been called. Returns 0 or -errno (-EINVAL for a malformed address, -EADDRINUSE, ...). */
int net_listen(struct net_loop *nl, const char *addr, uint16_t tpgt, char *bound, size_t boundlen);

/* Serve srv: accept on every listener, tick the protocol timers every second, and shut down cleanly on
 * SIGTERM or SIGINT. Returns 0 or -errno. */
int net_start(struct net_loop *nl, struct isc_server *srv);

/* Run the loop until a stop was requested and every connection, timer and work item is finished.
 * Returns 0 or -errno. */
int net_run(struct net_loop *nl);

/* Request the same orderly stop a SIGTERM does: stop accepting, log sessions out, let in-flight commands
 * finish (bounded by shutdown_grace_ms), then close what is left. */
void net_stop(struct net_loop *nl);

/* The signal that caused the stop (SIGTERM, SIGINT), or 0. */
int net_stop_signal(const struct net_loop *nl);

#endif
