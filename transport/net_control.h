/* The control socket: a UNIX stream socket speaking newline-delimited JSON (one JSON-RPC 2.0 request per line
 * in, one response per line out), served on the daemon's libuv loop next to the iSCSI portals.
 *
 * This file only moves lines: what a request means is decided by the application (app/prt_control.c) through
 * the handle callback. A client becomes a follower of one or more topics when the handler says so; published
 * lines then go to it as they happen (events --follow, watch).
 *
 * Ownership: net_control_open() allocates the struct net_control; net_control_close() closes the listener and
 * every client and frees everything in the close callbacks, which the loop runs (net_loop_free() runs the loop
 * one last time). The control handles do not keep the loop alive, so a SIGTERM stops the daemon whether or not
 * operators are connected; the application calls net_control_close() after net_run() returns.
 */
#ifndef NET_CONTROL_H
#define NET_CONTROL_H

#include <stddef.h>

#include "transport/net.h"

struct net_control;

/* The longest request line accepted (pr.load carries a whole PR state). A longer line gets a parse error and
 * the client is disconnected, since the rest of its stream cannot be framed any more. */
#define NET_CONTROL_MAX_LINE (1u << 20)
/* A follower that falls this far behind is disconnected rather than buffered without bound. */
#define NET_CONTROL_MAX_BACKLOG (8u << 20)

struct net_control_cfg {
    const char *path;
    /* One request line (without its newline, not NUL-terminated beyond len). Returns the response line, malloc'd,
     * without newline, or NULL for no response (a JSON-RPC notification). *subscribe: topics (a bit mask) the
     * client follows from now on; 0 leaves them unchanged. */
    char *(*handle)(void *ctx, const char *line, size_t len, unsigned *subscribe);
    void *ctx;
};

/* Bind and listen on cfg->path (an existing socket file there is replaced; any other file is an error).
 * Returns 0 or -errno. On error *out is NULL and nothing is left behind. */
int net_control_open(struct net_loop *nl, const struct net_control_cfg *cfg, struct net_control **out);
/* Send line (a newline is appended) to every client following one of topics. */
void net_control_publish(struct net_control *nc, unsigned topics, const char *line, size_t len);
/* Connected clients (followers or not). */
unsigned net_control_clients(const struct net_control *nc);
/* Connected clients following at least one of topics (0 for NULL). */
unsigned net_control_followers(const struct net_control *nc, unsigned topics);
/* Stop listening, remove the socket file, close every client. NULL is allowed. */
void net_control_close(struct net_control *nc);

/* Drop the TCP connections whose peer address is peer ("127.0.0.1:51234"), or every connection when peer is
 * NULL, as a network failure would: the socket is shut down in both directions and the normal connection-loss
 * path of the net layer runs. Returns how many connections were dropped. */
unsigned net_drop_peer(struct net_loop *nl, const char *peer);

#endif
