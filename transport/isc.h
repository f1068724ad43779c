/* transport: the iSCSI target protocol (RFC 7143) over an abstract byte stream.
 *
 * Public API used by transport/net_*.c (the libuv glue) and app/. The net layer owns sockets; for each accepted
 * connection it creates a struct isc_conn, feeds it every byte received, and performs the writes and the close
 * the connection asks for through struct isc_conn_ops. Time reaches the protocol as now_ms arguments.
 *
 * Ownership: the application creates/frees struct isc_server. The net layer creates a connection with
 * isc_conn_new() and, after its socket is closed (in the close callback), calls isc_conn_release(); the
 * connection frees itself once no write or SCSI command of it is outstanding.
 */
#ifndef ISC_H
#define ISC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target/tgt.h"

struct isc_server;
struct isc_conn;

struct isc_portal {
    const char *addr;      /* "127.0.0.1:3260", "[::1]:3260", "0.0.0.0:3260" (wildcard) — as listening */
    uint16_t tpgt;         /* target portal group tag = relative target port id, 1..n */
};

/* Addition: one target of a server that serves several (isc_server_cfg.targets). Each target is its own SCSI
 * target device (its own struct tgt_server, so its own relative target port ids and PR state) with its own
 * CHAP and access list. portals names the listeners that expose it: addr is the same string as one of
 * isc_server_cfg.portals[].addr, tpgt is this target's own tag for that portal (1..n per target, RFC 7143
 * 4.4.1: a portal group tag is unique within one target only). The server copies the strings. */
struct isc_target_cfg {
    const char *name;                    /* iqn... */
    const char *alias;                   /* NULL = none */
    struct tgt_server *tgt;
    const struct isc_portal *portals;
    unsigned n_portals;
    const char *chap_user, *chap_secret;             /* as isc_server_cfg.chap_* */
    const char *chap_target_user, *chap_target_secret;
    const char *const *acl;                          /* as isc_server_cfg.acl */
    unsigned n_acl;
};

struct isc_server_cfg {
    const char *target_name;             /* iqn... */
    const char *target_alias;            /* NULL = none */
    struct tgt_server *tgt;              /* the SCSI target device behind target_name */
    const struct isc_portal *portals;    /* every portal, for SendTargets */
    unsigned n_portals;
    uint32_t nop_interval_ms;            /* NOP-In ping of an idle initiator; 0 = never (default 5000) */
    uint32_t nop_timeout_ms;             /* no answer to a ping within this: drop the connection (default 30000) */
    uint32_t login_timeout_ms;           /* a connection not in full feature phase after this is dropped */
    uint64_t (*now_ms)(void *ctx);
    void *now_ctx;
    /* Addition: CHAP (RFC 7143 12.1.3). chap_user == NULL: logins use AuthMethod=None. Secrets are at least 12
     * bytes (RFC 7143 9.2.1); chap_target_user/secret enable mutual CHAP (NULL: an initiator asking for it is
     * refused). */
    const char *chap_user, *chap_secret;
    const char *chap_target_user, *chap_target_secret;
    /* Addition: initiator access list. n_acl == 0: every initiator may log in. Otherwise only the iSCSI names
     * listed (compared exactly, RFC 7143 4.2.7.2 names are already normalised by the initiator) may open a
     * Normal session, and SendTargets names the target only to them. The server copies the strings. */
    const char *const *acl;
    unsigned n_acl;
    /* Addition: several targets. n_targets == 0: the fields above describe the only target, exposed on every
     * portal with the portal's tpgt. n_targets > 0: target_name, target_alias, tgt, acl are ignored; portals
     * lists the listeners (addr as listening, tpgt = the listener id the net layer passes to isc_conn_new)
     * and each target says which of them expose it. The chap_* fields above then guard Discovery sessions
     * only, which name no target. */
    const struct isc_target_cfg *targets;
    unsigned n_targets;
};

struct isc_iov {
    const void *base;
    size_t len;
};

struct isc_conn_ops {
    /* Queue an ordered, vectored write of n buffers. The buffers stay valid until done(arg, status) is called
     * (status 0 or -errno). Returns 0 or -errno (then done is not called). */
    int (*write)(void *net, const struct isc_iov *iov, unsigned n, void (*done)(void *arg, int status), void *arg);
    /* Close the connection (after queued writes are flushed, if flush). The net layer calls
     * isc_conn_release() from its close callback. */
    void (*close)(void *net, bool flush);
};

struct isc_server *isc_server_new(const struct isc_server_cfg *cfg, char *err, size_t errlen);
void isc_server_free(struct isc_server *srv);

/* A new TCP connection accepted on the portal with tag tpgt (with several targets: the listener id of
 * isc_server_cfg.portals; the target's own tag is chosen at login). local_addr is the address the connection came in
 * on ("127.0.0.1:3260"), used to answer SendTargets for a wildcard portal. */
struct isc_conn *isc_conn_new(struct isc_server *srv, uint16_t tpgt, const char *local_addr, const char *peer_addr,
                              const struct isc_conn_ops *ops, void *net);
/* Bytes received. Returns 0, or -errno when the connection must be closed (the connection has already called
 * ops->close itself in that case). */
int isc_conn_feed(struct isc_conn *c, const uint8_t *data, size_t len);
/* The socket is gone (EOF, error, or after ops->close). No ops may be called after this; the connection is
 * freed once its outstanding target commands complete. */
void isc_conn_release(struct isc_conn *c);
/* The peer is gone (EOF or a read error), before the socket's close has completed: end the session now, so the
 * I_T nexus loss (SPC-2 reservation released, PREVENT ended) is in effect before any other connection's next
 * command is processed, even one read in the same loop iteration. Ops may still complete (write callbacks);
 * isc_conn_release() follows from the close callback as usual. */
void isc_conn_peer_gone(struct isc_conn *c);
/* Timers: called periodically (e.g. every second) with the current time. */
void isc_server_tick(struct isc_server *srv, uint64_t now_ms);
/* Stop: log every session out (Async logout request), abort what is outstanding. */
void isc_server_shutdown(struct isc_server *srv);
/* Sessions, for the control socket: calls fn once per session. */
struct isc_session_info {
    const char *initiator_name;
    uint8_t isid[6];
    uint16_t tsih;
    uint16_t tpgt;
    const char *peer_addr;
    bool discovery;
    bool header_digest, data_digest;
    unsigned cmds_in_flight;
    const char *target_name;    /* addition: the target of a Normal session; "" for Discovery */
    const char *local_addr;     /* addition: the address the connection came in on */
};
void isc_server_foreach_session(struct isc_server *srv, void (*fn)(void *arg, const struct isc_session_info *),
                                void *arg);

#endif
