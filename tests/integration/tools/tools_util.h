/* Helpers of the operator-tool integration tests: a prtarget started with a control socket in a fresh
 * directory, prtargetctl runs with captured output, raw control-socket exchanges, and the few PR commands the
 * tests send from a libiscsi initiator to see the effect of each prtargetctl command.
 *
 *   it_tools_* ──spawns──> prtarget --listen 127.0.0.1:0 --control DIR/ctl.sock [...]
 *        ├──runs──> prtargetctl --socket DIR/ctl.sock ...
 *        └── libiscsi sessions (initiator-a, initiator-b)
 */
#ifndef TOOLS_UTIL_H
#define TOOLS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tests/integration/itest.h"

struct iscsi_context;

struct tu_daemon {
    struct itest_target t;
    char dir[256];
    char sock[300];
    char events[300];
};

/* Start prtarget with --control DIR/ctl.sock and --event-log DIR/events.jsonl plus args (NULL-terminated,
 * may be NULL). Returns 0 or -1. */
int tu_start(struct tu_daemon *d, const char *const *args);
/* SIGTERM, wait, remove the directory. Returns prtarget's exit code. */
int tu_stop(struct tu_daemon *d);

/* The prtargetctl binary under test (env PRTARGETCTL overrides the build's path). */
const char *tu_ctl_path(void);
/* Run prtargetctl --socket SOCK ARGS... (NULL-terminated varargs), capturing stdout and stderr. Returns the
 * exit code, or -1. */
int tu_ctl(const char *sock, char *out, size_t outcap, char *err, size_t errcap, ...);
/* The same with --json; returns the parsed stdout (new reference) or NULL when the exit code was not 0. */
json_t *tu_ctl_json(const char *sock, ...);

/* Send one raw line to the control socket and read the one-line answer (NUL-terminated). Returns 0 or -1. */
int tu_rpc_raw(const char *sock, const char *line, char *resp, size_t cap);

/* PR commands from a libiscsi session: the SCSI status (or -1 on a transport failure); on CHECK CONDITION the
 * sense key/ASC/ASCQ go to *sense (key << 16 | asc << 8 | ascq) when sense is not NULL. */
int tu_pr_out(struct iscsi_context *iscsi, int lun, int sa, int type, uint64_t key, uint64_t sa_key, bool aptpl,
              uint32_t *sense);
/* READ KEYS: the number of keys (at most cap copied), or -1. *gen gets PRgeneration. */
int tu_read_keys(struct iscsi_context *iscsi, int lun, uint64_t *keys, int cap, uint32_t *gen);
/* TEST UNIT READY: status; sense as above. */
int tu_tur(struct iscsi_context *iscsi, int lun, uint32_t *sense);

/* Count of lines in s. */
unsigned tu_lines(const char *s);

#endif
