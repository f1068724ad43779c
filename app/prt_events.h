/* The PR event log: every PERSISTENT RESERVE OUT outcome and every unit attention raised or reported, as one
 * JSON object per line, to a file (--event-log) and to the followers of the control socket (events --follow).
 *
 * Ownership: the application opens one struct prt_events, registers prt_events_sink() as the tgt_server's event
 * sink, and closes it after the server stopped sending events. The last PRT_EVENTS_KEEP lines stay in memory
 * so that `prtargetctl events` can show what happened before it connected.
 *
 * Also home of the names shared by the control socket's output (reservation types, service actions, PR
 * decisions, unit attention conditions), so that the event log and `pr show` spell them the same way.
 */
#ifndef PRT_EVENTS_H
#define PRT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "target/tgt.h"

#define PRT_EVENTS_KEEP 1024
#define PRT_EVENTS_TARGETS 17 /* targets whose events one log takes: the first and PRT_MAX_TARGETS more */

struct prt_events;

struct prt_events_cfg {
    const char *path;             /* append JSON lines here; NULL = no file */
    struct tgt_server *tgt;       /* to name I_T nexuses */
    const char *target_name;      /* tgt's iSCSI name, the "target" of its events; NULL = events carry none */
    /* Each line (without its newline) as it is logged, for the followers; NULL = none. line is NULL (len 0)
     * when an event happened but wants_lines said nobody reads the text, so that a publisher can still say
     * "something changed" without the cost of formatting. */
    void (*publish)(void *ctx, const char *line, size_t len);
    void *publish_ctx;
    /* Whether the publisher has readers of the text right now (called with publish_ctx for every event).
     * NULL: it always has. With no file and no reader, an event is only kept in memory, unformatted. */
    bool (*wants_lines)(void *ctx);
    /* Wall-clock milliseconds since the epoch; NULL = the real clock (tests pin it). */
    int64_t (*wall_ms)(void *ctx);
    void *wall_ctx;
};

/* 0, or -errno with "PATH: reason" in err when the log file cannot be opened. */
int prt_events_open(struct prt_events **out, const struct prt_events_cfg *cfg, char *err, size_t errlen);
void prt_events_close(struct prt_events *ev);
/* Late binding of the publisher (the control socket starts after the event log). Keeps wants_lines. */
void prt_events_set_publish(struct prt_events *ev, void (*publish)(void *ctx, const char *line, size_t len),
                            void *ctx);
/* The tgt_server event sink of cfg.tgt: ctx is the struct prt_events. */
void prt_events_sink(void *ctx, const struct tgt_event *e);
/* Another target whose events go to the same log, each tagged with name (which must outlive ev). Returns the
 * context to register with prt_events_target_sink() on tgt, or NULL when PRT_EVENTS_TARGETS are taken. */
void *prt_events_add_target(struct prt_events *ev, struct tgt_server *tgt, const char *name);
void prt_events_target_sink(void *ctx, const struct tgt_event *e);
/* The most recent events, oldest first, at most max of them (0 = all kept), as a new JSON array. */
json_t *prt_events_recent(const struct prt_events *ev, size_t max);
/* Events logged since open (including those no longer kept in memory). */
uint64_t prt_events_count(const struct prt_events *ev);

/* One event of target tgt (named target; NULL = no "target" member) as a JSON object (new reference), as logged. */
json_t *prt_event_json(const struct tgt_event *e, struct tgt_server *tgt, const char *target, int64_t wall_ms);
/* An I_T nexus as {"initiator", "isid", "target_port", "i_t_nexus"} (new reference); null for an unknown id. */
json_t *prt_nexus_json(struct tgt_server *tgt, uint32_t itn);

/* Names. Each returns a static string; unknown codes get a generic name, never NULL. */
const char *prt_pr_type_name(uint8_t type);      /* "WE", "EA", "WE_RO", "EA_RO", "WE_AR", "EA_AR" */
const char *prt_pr_out_sa_name(uint8_t sa);      /* "REGISTER", ... "REPLACE LOST RESERVATION" */
const char *prt_pr_status_name(int status);      /* enum pr_status: "ok", "conflict", ... */
const char *prt_scsi_status_name(uint8_t status); /* "GOOD", "CHECK CONDITION", ... */
const char *prt_ua_name(uint8_t asc, uint8_t ascq); /* "RESERVATIONS PREEMPTED", ... */

#endif
