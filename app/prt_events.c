/* The PR event log (see prt_events.h). Every PR OUT passes through here, so a PR OUT workload is as fast as
 * this file lets it be: an event is kept in memory as the raw struct tgt_event (a fixed ring allocated once)
 * and turned into JSON only when something reads it (the --event-log file, a follower of the control socket,
 * or `prtargetctl events`). I_T nexus ids never change meaning (pr_itn_intern), so naming the nexus late gives
 * the same text as naming it at once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/prt_events.h"
#include "prstate/pr.h"

struct prt__ev_rec {
    struct tgt_event e;
    int64_t wall_ms;
    uint8_t src; /* index into prt_events.src: the target the event came from */
};

/* One target whose events reach the log: the context its tgt_server's sink is called with. The nexus ids of an
 * event belong to the itn table of the server that raised it, so each event remembers its source. */
struct prt__ev_src {
    struct prt_events *ev;
    struct tgt_server *tgt;
    const char *name;
};

struct prt_events {
    struct prt_events_cfg cfg;
    FILE *file;
    struct prt__ev_src src[PRT_EVENTS_TARGETS]; /* src[0] is cfg.tgt / cfg.target_name */
    unsigned n_src;
    struct prt__ev_rec ring[PRT_EVENTS_KEEP]; /* the last events, oldest at ring[first], ring[(first + i) % KEEP] */
    size_t first, n;
    uint64_t total;
};

/* ---- names ------------------------------------------------------------------------------------------------ */

const char *prt_pr_type_name(uint8_t type)
{
    /* SPC-4 6.16.2, Table 170 (persistent reservation type codes). */
    switch (type) {
    case PR_TYPE_WE: return "WE";
    case PR_TYPE_EA: return "EA";
    case PR_TYPE_WE_RO: return "WE_RO";
    case PR_TYPE_EA_RO: return "EA_RO";
    case PR_TYPE_WE_AR: return "WE_AR";
    case PR_TYPE_EA_AR: return "EA_AR";
    default: return "reserved";
    }
}

const char *prt_pr_out_sa_name(uint8_t sa)
{
    /* SPC-4 6.16.2, Table 169; REPLACE LOST RESERVATION is SPC-5 6.17.2. */
    switch (sa) {
    case PR_OUT_REGISTER: return "REGISTER";
    case PR_OUT_RESERVE: return "RESERVE";
    case PR_OUT_RELEASE: return "RELEASE";
    case PR_OUT_CLEAR: return "CLEAR";
    case PR_OUT_PREEMPT: return "PREEMPT";
    case PR_OUT_PREEMPT_AND_ABORT: return "PREEMPT AND ABORT";
    case PR_OUT_REGISTER_IGNORE: return "REGISTER AND IGNORE EXISTING KEY";
    case PR_OUT_REGISTER_AND_MOVE: return "REGISTER AND MOVE";
    case PR_OUT_REPLACE_LOST: return "REPLACE LOST RESERVATION";
    default: return "reserved";
    }
}

const char *prt_pr_status_name(int status)
{
    switch ((enum pr_status)status) {
    case PR_OK: return "ok";
    case PR_CONFLICT: return "conflict";
    case PR_INVALID_FIELD_CDB: return "invalid_field_cdb";
    case PR_INVALID_FIELD_PARAM: return "invalid_field_param";
    case PR_PARAM_LIST_LENGTH: return "param_list_length";
    case PR_INVALID_RELEASE: return "invalid_release";
    case PR_INSUFFICIENT_RESOURCES: return "insufficient_resources";
    case PR_INVALID_OPCODE: return "invalid_opcode";
    case PR_PERSIST_FAILED: return "persist_failed";
    case PR_NO_RESOURCES: return "no_resources";
    case PR_RESERVATION_LOST: return "reservation_lost";
    }
    return "unknown";
}

const char *prt_scsi_status_name(uint8_t status)
{
    /* SAM-5 5.3.1, Table 33 (status codes). */
    switch (status) {
    case TGT_STATUS_GOOD: return "GOOD";
    case TGT_STATUS_CHECK_CONDITION: return "CHECK CONDITION";
    case TGT_STATUS_CONDITION_MET: return "CONDITION MET";
    case TGT_STATUS_BUSY: return "BUSY";
    case TGT_STATUS_RESERVATION_CONFLICT: return "RESERVATION CONFLICT";
    case TGT_STATUS_TASK_SET_FULL: return "TASK SET FULL";
    case TGT_STATUS_ACA_ACTIVE: return "ACA ACTIVE";
    case TGT_STATUS_TASK_ABORTED: return "TASK ABORTED";
    default: return "reserved";
    }
}

const char *prt_ua_name(uint8_t asc, uint8_t ascq)
{
    /* SPC-4 Annex D (ASC/ASCQ assignments): the unit attention conditions this device server raises. */
    static const struct { uint8_t asc, ascq; const char *name; } names[] = {
        { 0x29, 0x00, "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED" },
        { 0x29, 0x01, "POWER ON OCCURRED" },
        { 0x29, 0x02, "SCSI BUS RESET OCCURRED" },
        { 0x29, 0x03, "BUS DEVICE RESET FUNCTION OCCURRED" },
        { 0x29, 0x04, "DEVICE INTERNAL RESET" },
        { 0x29, 0x07, "I_T NEXUS LOSS OCCURRED" },
        { 0x2a, 0x01, "MODE PARAMETERS CHANGED" },
        { 0x2a, 0x03, "RESERVATIONS PREEMPTED" },
        { 0x2a, 0x04, "RESERVATIONS RELEASED" },
        { 0x2a, 0x05, "REGISTRATIONS PREEMPTED" },
        { 0x2a, 0x09, "CAPACITY DATA HAS CHANGED" },
        { 0x2f, 0x00, "COMMANDS CLEARED BY ANOTHER INITIATOR" },
        { 0x3f, 0x03, "INQUIRY DATA HAS CHANGED" },
        { 0x3f, 0x0e, "REPORTED LUNS DATA HAS CHANGED" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].asc == asc && names[i].ascq == ascq)
            return names[i].name;
    return "UNIT ATTENTION";
}

/* ---- formatting --------------------------------------------------------------------------------------------- */

static json_t *prt__event_json(const struct tgt_event *e, struct tgt_server *tgt, int64_t wall_ms);

json_t *prt_nexus_json(struct tgt_server *tgt, uint32_t itn)
{
    const struct pr_itn *id = tgt ? pr_itn_get(tgt_server_itn_tab(tgt), itn) : NULL;
    char isid[16], port[PR_INAME_MAX + 24];

    if (!id)
        return json_null();
    snprintf(isid, sizeof isid, "0x%02x%02x%02x%02x%02x%02x", id->isid[0], id->isid[1], id->isid[2], id->isid[3],
             id->isid[4], id->isid[5]);
    /* RFC 7143 13.5.1 / SPC-4 7.6.4.6: the iSCSI initiator port name is "iname,i,0xISID". */
    snprintf(port, sizeof port, "%s,i,%s", id->iname, isid);
    return json_pack("{s:s, s:s, s:i, s:s}", "initiator", id->iname, "isid", isid, "target_port",
                     (json_int_t)id->rtpi, "initiator_port", port);
}

static void prt__hex64(char out[19], uint64_t v)
{
    snprintf(out, 19, "0x%016llx", (unsigned long long)v);
}

static void prt__iso_time(char *out, size_t len, int64_t ms)
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&sec, &tm);
    size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, len - n, ".%03dZ", (int)(ms % 1000));
}

json_t *prt_event_json(const struct tgt_event *e, struct tgt_server *tgt, const char *target, int64_t wall_ms)
{
    json_t *o = prt__event_json(e, tgt, wall_ms);

    if (o && target)
        json_object_set_new(o, "target", json_string(target));
    return o;
}

static json_t *prt__event_json(const struct tgt_event *e, struct tgt_server *tgt, int64_t wall_ms)
{
    char when[40], key[19], sa_key[19], code[16];
    json_t *o;

    prt__iso_time(when, sizeof when, wall_ms);
    if (e->kind == TGT_EVENT_PR_OUT) {
        prt__hex64(key, e->key);
        prt__hex64(sa_key, e->sa_key);
        o = json_pack("{s:s, s:s, s:I, s:o, s:s, s:i, s:s, s:s, s:i, s:s, s:i, s:b, s:s, s:s, s:I}", "time", when,
                      "event", "pr_out", "lun", (json_int_t)e->lun, "nexus", prt_nexus_json(tgt, e->itn),
                      "service_action", prt_pr_out_sa_name(e->sa), "sa", (int)e->sa, "key", key, "sa_key", sa_key,
                      "type", (int)e->type, "type_name", prt_pr_type_name(e->type), "scope", (int)e->scope,
                      "aptpl", (int)e->aptpl, "result", prt_pr_status_name(e->pr_status), "status",
                      prt_scsi_status_name(e->status), "generation", (json_int_t)e->generation);
        if (o && e->status == TGT_STATUS_CHECK_CONDITION) {
            snprintf(code, sizeof code, "%x/%02x/%02x", e->sense_key, e->asc, e->ascq);
            json_object_set_new(o, "sense", json_string(code));
        }
        return o;
    }
    snprintf(code, sizeof code, "%02x/%02x", e->asc, e->ascq);
    return json_pack("{s:s, s:s, s:I, s:o, s:s, s:s, s:I}", "time", when, "event",
                     e->kind == TGT_EVENT_UA_REPORTED ? "ua_reported" : "ua_raised", "lun", (json_int_t)e->lun,
                     "nexus", prt_nexus_json(tgt, e->itn), "ua", code, "ua_name", prt_ua_name(e->asc, e->ascq),
                     "generation", (json_int_t)e->generation);
}

/* ---- the log ------------------------------------------------------------------------------------------------ */

int prt_events_open(struct prt_events **out, const struct prt_events_cfg *cfg, char *err, size_t errlen)
{
    struct prt_events *ev = calloc(1, sizeof *ev);

    *out = NULL;
    if (!ev) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    ev->cfg = *cfg;
    ev->src[0] = (struct prt__ev_src){ .ev = ev, .tgt = cfg->tgt, .name = cfg->target_name };
    ev->n_src = 1;
    if (cfg->path) {
        /* Append: an operator who restarts the daemon keeps the history of earlier runs. */
        ev->file = fopen(cfg->path, "ae");
        if (!ev->file) {
            int rc = -errno;
            snprintf(err, errlen, "%s: %s", cfg->path, strerror(errno));
            free(ev);
            return rc;
        }
    }
    *out = ev;
    return 0;
}

void prt_events_close(struct prt_events *ev)
{
    if (!ev)
        return;
    if (ev->file)
        fclose(ev->file);
    free(ev);
}

void prt_events_set_publish(struct prt_events *ev, void (*publish)(void *ctx, const char *line, size_t len),
                            void *ctx)
{
    ev->cfg.publish = publish;
    ev->cfg.publish_ctx = ctx;
}

static int64_t prt__now_wall_ms(const struct prt_events *ev)
{
    struct timespec ts;

    if (ev->cfg.wall_ms)
        return ev->cfg.wall_ms(ev->cfg.wall_ctx);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void *prt_events_add_target(struct prt_events *ev, struct tgt_server *tgt, const char *name)
{
    if (ev->n_src == PRT_EVENTS_TARGETS)
        return NULL;
    ev->src[ev->n_src] = (struct prt__ev_src){ .ev = ev, .tgt = tgt, .name = name };
    return &ev->src[ev->n_src++];
}

static void prt__sink(struct prt__ev_src *s, const struct tgt_event *e);

void prt_events_sink(void *ctx, const struct tgt_event *e)
{
    struct prt_events *ev = ctx;
    prt__sink(&ev->src[0], e);
}

void prt_events_target_sink(void *ctx, const struct tgt_event *e)
{
    prt__sink(ctx, e);
}

static void prt__sink(struct prt__ev_src *s, const struct tgt_event *e)
{
    struct prt_events *ev = s->ev;
    struct prt__ev_rec *r;

    if (ev->n == PRT_EVENTS_KEEP) {
        ev->first = (ev->first + 1) % PRT_EVENTS_KEEP;
        ev->n--;
    }
    r = &ev->ring[(ev->first + ev->n) % PRT_EVENTS_KEEP];
    r->e = *e;
    r->wall_ms = prt__now_wall_ms(ev);
    r->src = (uint8_t)(s - ev->src);
    ev->n++;
    ev->total++;

    bool readers = ev->cfg.publish && (!ev->cfg.wants_lines || ev->cfg.wants_lines(ev->cfg.publish_ctx));
    if (!ev->file && !readers) {
        if (ev->cfg.publish)
            ev->cfg.publish(ev->cfg.publish_ctx, NULL, 0);
        return;
    }
    json_t *o = prt_event_json(&r->e, s->tgt, s->name, r->wall_ms);
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!line) {
        /* Out of memory: losing one log line beats failing the SCSI command that caused it. */
        if (ev->cfg.publish)
            ev->cfg.publish(ev->cfg.publish_ctx, NULL, 0);
        return;
    }
    if (ev->file) {
        /* One write per line and a flush, so that `tail -f` and a crash both see whole lines. */
        fprintf(ev->file, "%s\n", line);
        fflush(ev->file);
    }
    if (ev->cfg.publish)
        ev->cfg.publish(ev->cfg.publish_ctx, readers ? line : NULL, readers ? strlen(line) : 0);
    free(line);
}

json_t *prt_events_recent(const struct prt_events *ev, size_t max)
{
    json_t *a = json_array();
    size_t skip = (max && ev->n > max) ? ev->n - max : 0;

    if (!a)
        return NULL;
    for (size_t i = skip; i < ev->n; i++) {
        const struct prt__ev_rec *r = &ev->ring[(ev->first + i) % PRT_EVENTS_KEEP];
        const struct prt__ev_src *s = &ev->src[r->src];
        json_t *o = prt_event_json(&r->e, s->tgt, s->name, r->wall_ms);
        if (o)
            json_array_append_new(a, o);
    }
    return a;
}

uint64_t prt_events_count(const struct prt_events *ev)
{
    return ev->total;
}
