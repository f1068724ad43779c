/* prtargetctl: the operator's CLI for a running prtarget, over its control socket (docs/control.md).
 *
 * Plain POSIX sockets and jansson only, so the tool builds anywhere the daemon's protocol can be spoken.
 * prtargetctl_rpc.c is the JSON-RPC client; prtargetctl.c parses the command line and prints results.
 */
#ifndef PRTARGETCTL_H
#define PRTARGETCTL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Exit codes (man/prtargetctl.8). */
#define PRT_CTL_EXIT_OK 0
#define PRT_CTL_EXIT_FAILED 1   /* the daemon refused or could not do it */
#define PRT_CTL_EXIT_USAGE 2    /* a bad command line or input file */
#define PRT_CTL_EXIT_CONNECT 3  /* no daemon on the socket */

struct prt_ctl_conn {
    int fd;
    char *buf;          /* received bytes not yet returned as lines */
    size_t len, cap;
    long next_id;
};

/* Connect to the daemon's socket. 0 or -errno. */
int prt_ctl_connect(struct prt_ctl_conn *c, const char *path);
void prt_ctl_close(struct prt_ctl_conn *c);
/* Send one request (params may be NULL; a reference is NOT taken). Returns the id used, or -errno. */
long prt_ctl_send(struct prt_ctl_conn *c, const char *method, json_t *params);
/* The next JSON line from the daemon (a response or a notification). timeout_ms < 0 waits for ever.
 * Returns 0 and *out (new reference), -ETIMEDOUT, -ECONNRESET when the daemon closed the socket, -EPROTO on a
 * line that is not JSON, or another -errno. */
int prt_ctl_recv(struct prt_ctl_conn *c, int timeout_ms, json_t **out);
/* Send a request and wait for its response, skipping notifications (*changed is set when one was a "changed"
 * or "event" notification; it may be NULL). On success returns 0 and *result (new reference). On a JSON-RPC
 * error returns -EREMOTEIO with the daemon's message in err. */
int prt_ctl_call_raw(struct prt_ctl_conn *c, const char *method, json_t *params, json_t **result, bool *changed,
                 char *err, size_t errlen);

/* `prtargetctl alua show|set TPG STATE` (prtargetctl_alua.c). conn is connected to socket on first use; json
 * selects the daemon's JSON over the table. Returns an exit code; every failure is one line on stderr. */
int prt_ctl_alua(struct prt_ctl_conn *conn, const char *socket, const char *target, bool json, int argc,
                 char **argv);

#endif
