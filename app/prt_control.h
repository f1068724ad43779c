/* The control socket's methods: JSON-RPC 2.0 (https://www.jsonrpc.org/specification) over newline-delimited
 * JSON. transport/net_control.c moves the lines; this file decides what each request means. The method list and
 * their parameters are documented in docs/control.md.
 *
 * Ownership: the application creates one struct prt_control after the target device, the iSCSI server and the
 * event log exist, and frees it after the control socket is closed. Nothing here keeps references to the
 * request text after prt_control_handle() returns.
 */
#ifndef PRT_CONTROL_H
#define PRT_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct tgt_server;
struct isc_server;
struct net_loop;
struct prt_events;

/* JSON-RPC 2.0 section 5.1 error codes, and the server-defined range for our own failures. */
#define PRT_RPC_PARSE_ERROR (-32700)
#define PRT_RPC_INVALID_REQUEST (-32600)
#define PRT_RPC_METHOD_NOT_FOUND (-32601)
#define PRT_RPC_INVALID_PARAMS (-32602)
#define PRT_RPC_INTERNAL_ERROR (-32603)
#define PRT_RPC_FAILED (-32000) /* the request was valid but the operation failed */

/* Topics a client may follow (net_control_cfg.handle's *subscribe). */
#define PRT_TOPIC_EVENTS 0x1u   /* every event-log line, as an "event" notification */
#define PRT_TOPIC_CHANGES 0x2u  /* a "changed" notification whenever something `watch` shows may have changed */

struct prt_control_env {
    struct tgt_server *tgt;          /* required */
    struct isc_server *isc;          /* NULL: no sessions to list or drop (unit tests) */
    struct net_loop *net;            /* NULL: connections cannot be dropped (unit tests) */
    struct prt_events *events;       /* NULL: no event log */
    const char *target_name;
    const char *const *portals;      /* bound portal addresses; portal i has TPGT i + 1 */
    unsigned n_portals;
    const char *version;
    const char *event_log;           /* path of the event log file, or NULL */
    /* Further targets of the process (targets[1..] of the config file): a request's optional "target"
     * parameter picks one of them by name; without it, requests are about tgt/target_name. */
    struct tgt_server *const *more_tgt;
    const char *const *more_names;
    unsigned n_more;
    /* more_portals[i][j]: the address of portal j (TPGT j + 1) of more_tgt[i], more_n_portals[i] of them;
     * NULL: the further targets' portals are not known (alua.show lists none, status shows none). */
    const char *const *const *more_portals;
    const unsigned *more_n_portals;
};

struct prt_control;

struct prt_control *prt_control_new(const struct prt_control_env *env);
void prt_control_free(struct prt_control *ctl);

/* One request line (a JSON-RPC request, notification or batch). Returns the response line (malloc'd, no
 * newline) or NULL when nothing is to be sent (notifications). *subscribe gets the PRT_TOPIC_* bits the client
 * asked to follow (events.follow, watch). Never fails on bad input: that is what the error responses are for. */
char *prt_control_handle(struct prt_control *ctl, const char *line, size_t len, unsigned *subscribe);

/* The notification sent to followers of PRT_TOPIC_EVENTS for one event-log line (malloc'd), and the one sent
 * to followers of PRT_TOPIC_CHANGES. */
char *prt_control_event_notification(const char *event_line, size_t len);
const char *prt_control_changed_notification(void);

/* ---- daemon glue ---- */

#define PRT_TOOLS_ERR 256
#define PRT_CONTROL_PATH_MAX 108 /* sizeof sockaddr_un.sun_path on Linux */
struct prt_tools;

/* Open the event log (event_log may be NULL), make it the target's event sink, and serve the control socket on
 * control_path (NULL = none) on env->net's loop. Returns 0; 1 when the default socket (control_explicit false)
 * could not be opened and the daemon runs without it (err says why, for a warning); or -errno with a one-line
 * reason naming the flag in err. On 0 and 1, *out must later go to prt_tools_stop(). */
int prt_tools_start(struct prt_tools **out, const struct prt_control_env *env, const char *control_path,
                    bool control_explicit, const char *event_log, char *err, size_t errlen);
/* After net_run() returned and before net_loop_free(): close the socket, detach the sink, close the log. */
void prt_tools_stop(struct prt_tools *t);
/* The default control socket: /run/prtarget.sock for root, else $XDG_RUNTIME_DIR/prtarget.sock. -ENOENT when
 * neither applies. */
int prt_default_control_path(char *out, size_t len, bool root);

#endif
