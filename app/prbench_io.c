/* prbench's engine: sessions on libiscsi's asynchronous API driven by one poll() loop, the data workloads, the
 * persistent-reservation setup (registrants from distinct initiator ports) and the PR workloads.
 *
 * Ownership: prt_bench_run() allocates every session, buffer and histogram of a run before the first login and frees
 * them after the last logout; nothing is allocated per command by this file. libiscsi itself allocates a
 * scsi_task and a PDU per command (its API offers no way around that); data moves through per-slot buffers that
 * libiscsi reads from and writes into directly (scsi_iovec), so no payload is copied here.
 *
 * Unit attentions: every new I_T nexus starts with a 29h POWER ON, RESET OR BUS DEVICE RESET OCCURRED unit
 * attention (SAM-5 5.14), and PR commands of one nexus raise 2Ah unit attentions on others (SPC-4 5.13.11.2).
 * They are part of the protocol, not failures: a command that gets one is repeated (at most PRT_BENCH_UA_RETRIES times)
 * and counted in "retries". Setup issues TEST UNIT READY first so the measured interval does not start with
 * them. */
#include "app/prbench.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define PRT_BENCH_UA_RETRIES 16
/* How often idle registrant sessions are serviced during a measurement (NOP-In replies, TCP housekeeping). */
#define PRT_BENCH_IDLE_SERVICE_NS 200000000ull
#define PRT_BENCH_SETUP_LIMIT_NS (300ull * 1000000000ull)
#define PRT_BENCH_LOGOUT_LIMIT_NS (10ull * 1000000000ull)
#define PRT_BENCH_DRAIN_LIMIT_NS (5ull * 1000000000ull)
/* A measurement in which no command completes for this long has a stuck target, not a slow one. */
#define PRT_BENCH_STALL_LIMIT_NS (30ull * 1000000000ull)
/* PR IN ALLOCATION LENGTH is a two-byte field (SPC-4 6.15.1). */
#define PRT_BENCH_PRIN_ALLOC 65535u
/* Data buffers of all slots together; beyond this the command line asks for more memory than a benchmark needs. */
#define PRT_BENCH_MAX_BUFFER_BYTES (1ull << 30)
/* ISID "random" format (RFC 7143 10.12.5, T=10b): 22 random bits plus a 16-bit qualifier. Measuring sessions and
 * registrants use different random parts so a registrant is never the same nexus as a measuring session. */
#define PRT_BENCH_ISID_IO 0x2b3a5u
#define PRT_BENCH_ISID_REG 0x2b3a6u
/* Reservation keys: a recognisable prefix plus the session or registrant number (never zero, SPC-4 6.16.3). */
#define PRT_BENCH_KEY_IO 0x7072623000000000ull
#define PRT_BENCH_KEY_REG 0x7072627200000000ull

enum prt_bench_sess_state { S_NEW, S_CONNECTING, S_READY, S_CLOSING, S_CLOSED, S_FAILED };

/* Setup and teardown steps a session runs in order (a script ends with ST_END). */
enum prt_bench_step { ST_END, ST_TUR, ST_READCAP, ST_REGISTER, ST_UNREGISTER, ST_RESERVE, ST_CLEAR, ST_READKEYS };

struct prt_bench_run;
struct prt_bench_sess;

/* One command slot of a measuring session: its buffer and the time its current command was issued. */
struct prt_bench_slot {
    struct prt_bench_sess *s;
    uint8_t *buf;
    struct scsi_iovec iov;
    uint64_t t0;
    uint64_t lba;
    bool write;
    unsigned ua_left;
};

struct prt_bench_sess {
    struct prt_bench_run *run;
    struct iscsi_context *ctx;
    enum prt_bench_sess_state state;
    uint32_t idx;
    bool registrant;
    bool registered; /* its REGISTER AND IGNORE EXISTING KEY succeeded */
    uint64_t key;
    const enum prt_bench_step *script;
    unsigned pos;
    unsigned ua_left;
    struct prt_bench_slot *slots; /* measuring sessions: o->qd of them */
    uint32_t inflight;
    uint64_t rng;
    uint64_t seq_next;
    unsigned churn_step;
    uint64_t churn_t0;
};

struct prt_bench_run {
    const struct prt_bench_opts *o;
    const char *url_text;
    struct iscsi_context *url_ctx;
    struct iscsi_url *url;
    char iname[PRT_BENCH_INAME_MAX];
    bool failed;
    uint64_t fail_t;
    char errmsg[512];

    struct prt_bench_sess *io;
    uint32_t nio;
    struct prt_bench_sess *reg;
    uint32_t nreg;
    uint32_t reg_started, reg_done;
    struct pollfd *pfd;
    uint32_t *pmap;
    size_t pcap;
    uint8_t *bufs;

    uint32_t pending; /* scripts still running */
    uint32_t block_size;
    uint64_t blocks;
    uint64_t range_slots;   /* LBA range / transfer length: the aligned positions an I/O may address */
    uint32_t xfer_blocks;
    int64_t keys_seen;

    bool measuring, stopping;
    bool halted;            /* teardown: let what is under way finish, start nothing new */
    bool teardown;          /* no registrant bookkeeping or new registrant logins any more */
    uint32_t script_inflight; /* setup commands queued and not yet completed */
    uint64_t t_start, t_end, deadline;
    uint64_t issued;
    uint32_t inflight;
    uint64_t last_idle;
    struct prt_bench_hist *hist;
    struct prt_bench_result *res;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 2, 3))) static void fail(struct prt_bench_run *run, const char *fmt, ...)
{
    if (run->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run->errmsg, sizeof(run->errmsg), fmt, ap);
    va_end(ap);
    /* libiscsi's error texts may span lines; the report of a failed run is one line. */
    for (char *c = run->errmsg; *c != '\0'; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    run->failed = true;
    run->stopping = true;
    run->fail_t = now_ns();
}

/* xorshift64*: a fast generator whose quality is ample for picking LBAs; seeded per session. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

static const char *sess_name(const struct prt_bench_sess *s, char *buf, size_t n)
{
    if (s->registrant)
        snprintf(buf, n, "registrant %u", s->idx);
    else
        snprintf(buf, n, "session %u", s->idx);
    return buf;
}

/* The text of a failed command's outcome, for the one-line error. */
static void outcome_text(char *buf, size_t n, struct iscsi_context *ctx, int status, const struct scsi_task *t)
{
    if (status == SCSI_STATUS_CHECK_CONDITION && t != NULL) {
        /* libiscsi names only the codes it knows; the numbers are always printed. */
        const char *key = scsi_sense_key_str(t->sense.key), *asc = scsi_sense_ascq_str(t->sense.ascq);
        snprintf(buf, n, "CHECK CONDITION %s, %s (%02xh/%02xh)", key != NULL ? key : "sense key",
                 asc != NULL ? asc : "additional sense", (unsigned)(t->sense.ascq >> 8) & 0xffu,
                 (unsigned)t->sense.ascq & 0xffu);
    }
    else if (status == SCSI_STATUS_RESERVATION_CONFLICT)
        snprintf(buf, n, "RESERVATION CONFLICT");
    else if (status == SCSI_STATUS_BUSY)
        snprintf(buf, n, "BUSY");
    else if (status == SCSI_STATUS_TASK_SET_FULL)
        snprintf(buf, n, "TASK SET FULL");
    else if (status == SCSI_STATUS_TASK_ABORTED)
        snprintf(buf, n, "TASK ABORTED");
    else
        snprintf(buf, n, "transport error: %s", iscsi_get_error(ctx));
}

static bool is_ua(int status, const struct scsi_task *t)
{
    return status == SCSI_STATUS_CHECK_CONDITION && t != NULL && t->sense.key == SCSI_SENSE_UNIT_ATTENTION;
}

/* ---- sessions -------------------------------------------------------------------------------------------- */

static void script_next(struct prt_bench_sess *s);
static void registrant_start_next(struct prt_bench_run *run);

static void logout_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
    struct prt_bench_sess *s = priv;
    s->state = S_CLOSED;
}

static void connect_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
    struct prt_bench_sess *s = priv;
    struct prt_bench_run *run = s->run;
    char who[48];
    if (s->state == S_CONNECTING) {
        if (status != SCSI_STATUS_GOOD) {
            s->state = S_FAILED;
            fail(run, "login to %s as %s failed: %s", run->url_text, sess_name(s, who, sizeof(who)),
                 iscsi_get_error(ctx));
            return;
        }
        s->state = S_READY;
        if (s->script != NULL && !run->halted)
            script_next(s);
        return;
    }
    /* libiscsi calls again when an established connection goes down; after our own logout that is expected. */
    if (s->state != S_CLOSING && s->state != S_CLOSED) {
        s->state = S_FAILED;
        fail(run, "%s lost its connection to %s: %s", sess_name(s, who, sizeof(who)), run->url_text,
             iscsi_get_error(ctx));
    }
}

static int sess_start(struct prt_bench_run *run, struct prt_bench_sess *s, const enum prt_bench_step *script)
{
    char name[PRT_BENCH_INAME_MAX + 16];
    if (s->registrant)
        snprintf(name, sizeof(name), "%s.r%u", run->iname, s->idx);
    else
        snprintf(name, sizeof(name), "%s", run->iname);
    s->ctx = iscsi_create_context(name);
    if (s->ctx == NULL) {
        fail(run, "cannot create an iSCSI context for %s", name);
        return -1;
    }
    iscsi_set_targetname(s->ctx, run->url->target);
    iscsi_set_session_type(s->ctx, ISCSI_SESSION_NORMAL);
    iscsi_set_header_digest(s->ctx, ISCSI_HEADER_DIGEST_NONE);
    /* Each session is its own I_T nexus: the initiator port name carries the ISID (RFC 7143 4.2.7.1), so sessions
     * differ by the ISID qualifier and registrants by their name as well. */
    iscsi_set_isid_random(s->ctx, s->registrant ? PRT_BENCH_ISID_REG : PRT_BENCH_ISID_IO, s->idx & 0xffffu);
    /* A silent reconnect would measure a new nexus (and on some targets lose its registrations); fail instead. */
    iscsi_set_noautoreconnect(s->ctx, 1);
    if (run->url->user[0] != '\0')
        iscsi_set_initiator_username_pwd(s->ctx, run->url->user, run->url->passwd);
    s->script = script;
    s->pos = 0;
    if (script != NULL)
        run->pending++;
    s->state = S_CONNECTING;
    if (iscsi_full_connect_async(s->ctx, run->url->portal, run->url->lun, connect_cb, s) != 0) {
        s->state = S_FAILED;
        fail(run, "cannot connect to %s: %s", run->url->portal, iscsi_get_error(s->ctx));
        return -1;
    }
    return 0;
}

static bool sess_pollable(const struct prt_bench_sess *s)
{
    return s->ctx != NULL && (s->state == S_CONNECTING || s->state == S_READY || s->state == S_CLOSING);
}

/* Service every pollable session of one set whose descriptor is ready; timeout_ms as poll(). */
static int poll_set(struct prt_bench_run *run, struct prt_bench_sess *set, uint32_t n, int timeout_ms)
{
    size_t k = 0;
    for (uint32_t i = 0; i < n && k < run->pcap; i++) {
        if (!sess_pollable(&set[i]))
            continue;
        run->pfd[k].fd = iscsi_get_fd(set[i].ctx);
        run->pfd[k].events = (short)iscsi_which_events(set[i].ctx);
        run->pfd[k].revents = 0;
        run->pmap[k] = i;
        k++;
    }
    if (k == 0)
        return 0;
    int rc = poll(run->pfd, (nfds_t)k, timeout_ms);
    if (rc < 0) {
        if (errno == EINTR)
            return 0;
        fail(run, "poll: %s", strerror(errno));
        return -1;
    }
    for (size_t j = 0; j < k && rc > 0; j++) {
        if (run->pfd[j].revents == 0)
            continue;
        struct prt_bench_sess *s = &set[run->pmap[j]];
        if (!sess_pollable(s))
            continue;
        if (iscsi_service(s->ctx, run->pfd[j].revents) < 0) {
            if (s->state == S_CLOSING) {
                /* The target closed the connection after (or instead of) the Logout Response. */
                s->state = S_CLOSED;
            } else if (s->state != S_CLOSED) {
                char who[48];
                fail(run, "%s: %s", sess_name(s, who, sizeof(who)), iscsi_get_error(s->ctx));
                s->state = S_FAILED;
            }
        }
        /* A context is destroyed outside its own callbacks: here, once its logout completed. */
        if (s->state == S_CLOSED && s->ctx != NULL) {
            iscsi_destroy_context(s->ctx);
            s->ctx = NULL;
        }
    }
    return 0;
}

/* Run the loop until done(run) or failure; limit_ns bounds setup phases (0: no bound). Idle registrants get
 * serviced every PRT_BENCH_IDLE_SERVICE_NS so that they answer NOP-Ins and stay logged in. */
static int drive(struct prt_bench_run *run, struct prt_bench_sess *set, uint32_t n,
                 bool (*done)(const struct prt_bench_run *), uint64_t limit_ns, const char *what)
{
    uint64_t start = now_ns();
    struct prt_bench_sess *other = set == run->reg ? run->io : run->reg;
    uint32_t nother = set == run->reg ? run->nio : run->nreg;
    while (!done(run)) {
        /* After a failure only commands already in flight are waited for, and not for long. */
        if (run->failed && (run->inflight == 0 || now_ns() - run->fail_t > PRT_BENCH_DRAIN_LIMIT_NS))
            return -1;
        if (poll_set(run, set, n, 100) != 0)
            return -1;
        uint64_t t = now_ns();
        if (nother != 0 && t - run->last_idle >= PRT_BENCH_IDLE_SERVICE_NS) {
            run->last_idle = t;
            if (poll_set(run, other, nother, 0) != 0)
                return -1;
        }
        if (run->measuring && run->inflight != 0 && t - run->t_end > PRT_BENCH_STALL_LIMIT_NS) {
            fail(run, "no command completed for %llu s (%u in flight)",
                 (unsigned long long)(PRT_BENCH_STALL_LIMIT_NS / 1000000000ull), run->inflight);
            return -1;
        }
        if (limit_ns != 0 && t - start > limit_ns) {
            fail(run, "%s did not finish within %llu s", what, (unsigned long long)(limit_ns / 1000000000ull));
            return -1;
        }
    }
    return run->failed ? -1 : 0;
}

static bool no_pending(const struct prt_bench_run *run) { return run->pending == 0; }

/* ---- setup scripts ----------------------------------------------------------------------------------------- */

static void script_cb(struct iscsi_context *ctx, int status, void *data, void *priv);

static void script_issue(struct prt_bench_sess *s)
{
    struct prt_bench_run *run = s->run;
    int lun = run->url->lun;
    struct scsi_persistent_reserve_out_basic b;
    memset(&b, 0, sizeof(b));
    struct scsi_task *t = NULL;
    const char *what = "?";
    switch (s->script[s->pos]) {
    case ST_TUR:
        what = "TEST UNIT READY";
        t = iscsi_testunitready_task(s->ctx, lun, script_cb, s);
        break;
    case ST_READCAP:
        what = "READ CAPACITY(16)";
        t = iscsi_readcapacity16_task(s->ctx, lun, script_cb, s);
        break;
    case ST_REGISTER:
        /* REGISTER AND IGNORE EXISTING KEY (SPC-4 5.13.7) registers whatever the nexus held before, so a run
         * after an interrupted one starts from a known key. */
        what = "PR OUT REGISTER AND IGNORE EXISTING KEY";
        b.service_action_reservation_key = s->key;
        t = iscsi_persistent_reserve_out_task(s->ctx, lun, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
                                              0, 0, &b, script_cb, s);
        break;
    case ST_UNREGISTER:
        /* SPC-4 5.13.11.2.3: a service action key of zero removes the nexus's registration. */
        what = "PR OUT unregister";
        t = iscsi_persistent_reserve_out_task(s->ctx, lun, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
                                              0, 0, &b, script_cb, s);
        break;
    case ST_RESERVE:
        what = "PR OUT RESERVE";
        b.reservation_key = s->key;
        t = iscsi_persistent_reserve_out_task(s->ctx, lun, SCSI_PERSISTENT_RESERVE_RESERVE,
                                              SCSI_PERSISTENT_RESERVE_SCOPE_LU, run->o->pr_type, &b, script_cb, s);
        break;
    case ST_CLEAR:
        /* SPC-4 5.13.11.2.7: CLEAR removes every registration and the reservation, leaving the LU as found. */
        what = "PR OUT CLEAR";
        b.reservation_key = s->key;
        t = iscsi_persistent_reserve_out_task(s->ctx, lun, SCSI_PERSISTENT_RESERVE_CLEAR, 0, 0, &b, script_cb, s);
        break;
    case ST_READKEYS:
        what = "PR IN READ KEYS";
        t = iscsi_persistent_reserve_in_task(s->ctx, lun, SCSI_PERSISTENT_RESERVE_READ_KEYS, 8, script_cb, s);
        break;
    case ST_END:
        break;
    }
    if (t == NULL) {
        char who[48];
        fail(run, "%s: cannot queue %s: %s", sess_name(s, who, sizeof(who)), what, iscsi_get_error(s->ctx));
        return;
    }
    run->script_inflight++;
}

static void script_next(struct prt_bench_sess *s)
{
    struct prt_bench_run *run = s->run;
    if (run->failed || run->halted)
        return;
    if (s->script[s->pos] == ST_END) {
        s->script = NULL;
        run->pending--;
        if (s->registrant && !run->teardown) {
            run->reg_done++;
            if (run->o->drop_registrants) {
                s->state = S_CLOSING;
                if (iscsi_logout_async(s->ctx, logout_cb, s) != 0)
                    s->state = S_CLOSED;
            }
            registrant_start_next(run);
        }
        return;
    }
    s->ua_left = PRT_BENCH_UA_RETRIES;
    script_issue(s);
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void script_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
    struct scsi_task *t = data;
    struct prt_bench_sess *s = priv;
    struct prt_bench_run *run = s->run;
    enum prt_bench_step step = s->script != NULL ? s->script[s->pos] : ST_END;
    run->script_inflight--;
    if (run->halted) {
        if (t != NULL)
            scsi_free_scsi_task(t);
        return;
    }
    if (is_ua(status, t) && s->ua_left > 0) {
        s->ua_left--;
        if (!s->registrant && run->res != NULL)
            run->res->retries++;
        scsi_free_scsi_task(t);
        script_issue(s);
        return;
    }
    if (status != SCSI_STATUS_GOOD) {
        char who[48], out[160];
        outcome_text(out, sizeof(out), ctx, status, t);
        static const char *const names[] = {"end", "TEST UNIT READY", "READ CAPACITY(16)", "PR OUT REGISTER",
                                            "PR OUT unregister", "PR OUT RESERVE", "PR OUT CLEAR",
                                            "PR IN READ KEYS"};
        fail(run, "%s: %s: %s", sess_name(s, who, sizeof(who)), names[step], out);
        if (t != NULL)
            scsi_free_scsi_task(t);
        return;
    }
    if (step == ST_READCAP) {
        struct scsi_readcapacity16 *rc16 = scsi_datain_unmarshall(t);
        if (rc16 == NULL || rc16->block_length == 0) {
            fail(run, "READ CAPACITY(16) returned no usable data");
        } else {
            run->block_size = rc16->block_length;
            run->blocks = rc16->returned_lba + 1;
        }
    } else if (step == ST_REGISTER) {
        s->registered = true;
    } else if (step == ST_UNREGISTER || step == ST_CLEAR) {
        s->registered = false;
    } else if (step == ST_READKEYS) {
        /* SPC-4 6.15.2: ADDITIONAL LENGTH counts every registered key even when the allocation length truncates
         * the list, so eight bytes tell the number of registrations. */
        if (t->datain.size >= 8)
            run->keys_seen = be32(t->datain.data + 4) / 8;
    }
    scsi_free_scsi_task(t);
    s->pos++;
    script_next(s);
}

/* Run one script on every measuring session (already logged in) and wait for all of them. */
static int io_script(struct prt_bench_run *run, const enum prt_bench_step *script, uint32_t first, uint32_t count,
                     const char *what)
{
    for (uint32_t i = first; i < first + count && i < run->nio; i++) {
        struct prt_bench_sess *s = &run->io[i];
        if (s->state != S_READY)
            continue;
        s->script = script;
        s->pos = 0;
        run->pending++;
        script_next(s);
    }
    return drive(run, run->io, run->nio, no_pending, PRT_BENCH_SETUP_LIMIT_NS, what);
}

static const enum prt_bench_step script_register[] = {ST_TUR, ST_REGISTER, ST_END};

static void registrant_start_next(struct prt_bench_run *run)
{
    while (!run->failed && !run->halted && !run->teardown && run->reg_started < run->nreg &&
           run->reg_started - run->reg_done < run->o->login_batch) {
        struct prt_bench_sess *s = &run->reg[run->reg_started++];
        if (sess_start(run, s, script_register) != 0)
            return;
    }
}

static bool registrants_done(const struct prt_bench_run *run) { return run->reg_done == run->nreg; }

/* ---- data workloads ---------------------------------------------------------------------------------------- */

static void io_cb(struct iscsi_context *ctx, int status, void *data, void *priv);

static void io_pick(struct prt_bench_slot *sl)
{
    struct prt_bench_sess *s = sl->s;
    struct prt_bench_run *run = s->run;
    const struct prt_bench_opts *o = run->o;
    enum prt_bench_workload w = o->workload == PRT_BENCH_W_PR_ACCESS ? o->access_io : o->workload;
    uint64_t pos;
    if (w == PRT_BENCH_W_SEQREAD || w == PRT_BENCH_W_SEQWRITE) {
        pos = s->seq_next++;
        if (s->seq_next >= run->range_slots)
            s->seq_next = 0;
    } else {
        pos = rng_next(&s->rng) % run->range_slots;
    }
    sl->lba = pos * run->xfer_blocks;
    if (w == PRT_BENCH_W_MIXED)
        sl->write = rng_next(&s->rng) % 100u >= o->read_pct;
    else
        sl->write = w == PRT_BENCH_W_RANDWRITE || w == PRT_BENCH_W_SEQWRITE;
}

static int io_issue(struct prt_bench_slot *sl)
{
    struct prt_bench_sess *s = sl->s;
    struct prt_bench_run *run = s->run;
    uint32_t bs = run->o->bs;
    struct scsi_task *t;
    sl->t0 = now_ns();
    if (sl->write)
        t = iscsi_write16_iov_task(s->ctx, run->url->lun, sl->lba, NULL, bs, (int)run->block_size, 0, 0, 0, 0, 0,
                                   io_cb, sl, &sl->iov, 1);
    else
        t = iscsi_read16_iov_task(s->ctx, run->url->lun, sl->lba, bs, (int)run->block_size, 0, 0, 0, 0, 0, io_cb,
                                  sl, &sl->iov, 1);
    if (t == NULL) {
        fail(run, "cannot queue %s(16): %s", sl->write ? "WRITE" : "READ", iscsi_get_error(s->ctx));
        return -1;
    }
    s->inflight++;
    run->inflight++;
    return 0;
}

/* Whether the run has issued all it should: the deadline passed or --ios commands are under way. */
static bool run_over(struct prt_bench_run *run, uint64_t t)
{
    if (run->stopping)
        return true;
    if (run->o->ios != 0 ? run->issued >= run->o->ios : t >= run->deadline) {
        run->stopping = true;
        return true;
    }
    return false;
}

static void io_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
    struct scsi_task *t = data;
    struct prt_bench_slot *sl = priv;
    struct prt_bench_sess *s = sl->s;
    struct prt_bench_run *run = s->run;
    uint64_t now = now_ns();
    s->inflight--;
    run->inflight--;
    if (status == SCSI_STATUS_GOOD) {
        prt_bench_hist_add(run->hist, now - sl->t0);
        run->res->ops++;
        run->res->bytes += run->o->bs;
        run->t_end = now;
    } else if (is_ua(status, t) && sl->ua_left > 0) {
        sl->ua_left--;
        run->res->retries++;
        scsi_free_scsi_task(t);
        if (!run->stopping)
            io_issue(sl);
        return;
    } else {
        char out[160];
        outcome_text(out, sizeof(out), ctx, status, t);
        fail(run, "%s(16) LBA %llu: %s", sl->write ? "WRITE" : "READ", (unsigned long long)sl->lba, out);
    }
    if (t != NULL)
        scsi_free_scsi_task(t);
    if (run_over(run, now))
        return;
    sl->ua_left = PRT_BENCH_UA_RETRIES;
    io_pick(sl);
    run->issued++;
    io_issue(sl);
}

/* ---- PR workloads ------------------------------------------------------------------------------------------ */

static void churn_cb(struct iscsi_context *ctx, int status, void *data, void *priv);

/* One pr-churn cycle per session: REGISTER a key, RESERVE, RELEASE, unregister (SPC-4 5.13.7, 5.13.9,
 * 5.13.11.2.2, 5.13.11.2.3). Every step is one timed command. */
static void churn_issue(struct prt_bench_slot *sl)
{
    struct prt_bench_sess *s = sl->s;
    struct prt_bench_run *run = s->run;
    int lun = run->url->lun;
    struct scsi_persistent_reserve_out_basic b;
    memset(&b, 0, sizeof(b));
    struct scsi_task *t = NULL;
    sl->t0 = now_ns();
    switch (s->churn_step) {
    case 0:
        b.service_action_reservation_key = s->key;
        t = iscsi_persistent_reserve_out_task(s->ctx, lun, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, &b, churn_cb, sl);
        break;
    case 1:
        b.reservation_key = s->key;
        t = iscsi_persistent_reserve_out_task(s->ctx, lun, SCSI_PERSISTENT_RESERVE_RESERVE,
                                              SCSI_PERSISTENT_RESERVE_SCOPE_LU, run->o->pr_type, &b, churn_cb, sl);
        break;
    case 2:
        b.reservation_key = s->key;
        t = iscsi_persistent_reserve_out_task(s->ctx, lun, SCSI_PERSISTENT_RESERVE_RELEASE,
                                              SCSI_PERSISTENT_RESERVE_SCOPE_LU, run->o->pr_type, &b, churn_cb, sl);
        break;
    default:
        b.reservation_key = s->key;
        t = iscsi_persistent_reserve_out_task(s->ctx, lun, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, &b, churn_cb, sl);
        break;
    }
    if (t == NULL) {
        fail(run, "cannot queue PR OUT: %s", iscsi_get_error(s->ctx));
        return;
    }
    s->inflight++;
    run->inflight++;
}

static void churn_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
    static const char *const steps[] = {"REGISTER", "RESERVE", "RELEASE", "unregister"};
    struct scsi_task *t = data;
    struct prt_bench_slot *sl = priv;
    struct prt_bench_sess *s = sl->s;
    struct prt_bench_run *run = s->run;
    uint64_t now = now_ns();
    s->inflight--;
    run->inflight--;
    if (is_ua(status, t) && sl->ua_left > 0) {
        sl->ua_left--;
        run->res->retries++;
        scsi_free_scsi_task(t);
        if (!run->stopping)
            churn_issue(sl);
        return;
    }
    if (status == SCSI_STATUS_GOOD) {
        prt_bench_hist_add(run->hist, now - sl->t0);
        run->res->ops++;
        run->t_end = now;
    } else if (status == SCSI_STATUS_RESERVATION_CONFLICT && s->churn_step == 1) {
        /* SPC-4 5.13.9: under an exclusive type only one nexus holds the reservation; the others' RESERVE
         * conflicts. That is the expected outcome with several sessions, so it is counted, not fatal. */
        run->res->conflicts++;
    } else {
        char out[160];
        outcome_text(out, sizeof(out), ctx, status, t);
        fail(run, "session %u: PR OUT %s: %s", s->idx, steps[s->churn_step & 3u], out);
    }
    if (t != NULL)
        scsi_free_scsi_task(t);
    s->churn_step = (s->churn_step + 1u) & 3u;
    if (run_over(run, now))
        return;
    sl->ua_left = PRT_BENCH_UA_RETRIES;
    run->issued++;
    churn_issue(sl);
}

static void readkeys_cb(struct iscsi_context *ctx, int status, void *data, void *priv);

static void readkeys_issue(struct prt_bench_slot *sl)
{
    struct prt_bench_sess *s = sl->s;
    struct prt_bench_run *run = s->run;
    sl->t0 = now_ns();
    struct scsi_task *t = iscsi_persistent_reserve_in_task(s->ctx, run->url->lun, (int)run->o->prin,
                                                           PRT_BENCH_PRIN_ALLOC, readkeys_cb, sl);
    if (t == NULL) {
        fail(run, "cannot queue PR IN: %s", iscsi_get_error(s->ctx));
        return;
    }
    s->inflight++;
    run->inflight++;
}

static void readkeys_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
    struct scsi_task *t = data;
    struct prt_bench_slot *sl = priv;
    struct prt_bench_sess *s = sl->s;
    struct prt_bench_run *run = s->run;
    uint64_t now = now_ns();
    s->inflight--;
    run->inflight--;
    if (is_ua(status, t) && sl->ua_left > 0) {
        sl->ua_left--;
        run->res->retries++;
        scsi_free_scsi_task(t);
        if (!run->stopping)
            readkeys_issue(sl);
        return;
    }
    if (status == SCSI_STATUS_GOOD) {
        prt_bench_hist_add(run->hist, now - sl->t0);
        run->res->ops++;
        run->res->bytes += (uint64_t)t->datain.size;
        run->t_end = now;
    } else {
        char out[160];
        outcome_text(out, sizeof(out), ctx, status, t);
        fail(run, "session %u: PR IN %s: %s", s->idx,
             run->o->prin == PRT_BENCH_PRIN_READ_KEYS ? "READ KEYS" : "READ FULL STATUS", out);
    }
    if (t != NULL)
        scsi_free_scsi_task(t);
    if (run_over(run, now))
        return;
    sl->ua_left = PRT_BENCH_UA_RETRIES;
    run->issued++;
    readkeys_issue(sl);
}

/* ---- a run ------------------------------------------------------------------------------------------------- */

static bool all_ready(const struct prt_bench_run *run)
{
    for (uint32_t i = 0; i < run->nio; i++)
        if (run->io[i].state != S_READY || run->io[i].script != NULL)
            return false;
    return true;
}

static bool drained(const struct prt_bench_run *run) { return run->stopping && run->inflight == 0; }

/* Nothing under way: no login, no setup command, no measured command. */
static bool settled(const struct prt_bench_run *run)
{
    if (run->inflight != 0 || run->script_inflight != 0)
        return false;
    for (uint32_t i = 0; i < run->nio; i++)
        if (run->io[i].state == S_CONNECTING)
            return false;
    for (uint32_t i = 0; i < run->nreg; i++)
        if (run->reg[i].state == S_CONNECTING)
            return false;
    return true;
}

static bool all_closed(const struct prt_bench_run *run)
{
    for (uint32_t i = 0; i < run->nio; i++)
        if (run->io[i].state == S_CLOSING)
            return false;
    for (uint32_t i = 0; i < run->nreg; i++)
        if (run->reg[i].state == S_CLOSING)
            return false;
    return true;
}

static void logout_set(struct prt_bench_sess *set, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        struct prt_bench_sess *s = &set[i];
        if (s->ctx != NULL && s->state == S_READY) {
            s->state = S_CLOSING;
            if (iscsi_logout_async(s->ctx, logout_cb, s) != 0)
                s->state = S_CLOSED;
        }
    }
}

static void destroy_set(struct prt_bench_sess *set, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (set[i].ctx != NULL) {
            iscsi_destroy_context(set[i].ctx);
            set[i].ctx = NULL;
        }
    }
}

/* A thousand registrant sessions need a thousand descriptors; raise the soft limit as far as the hard one. */
static void raise_fd_limit(uint64_t need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

static int alloc_run(struct prt_bench_run *run)
{
    const struct prt_bench_opts *o = run->o;
    run->nio = o->sessions;
    bool with_registrants = o->workload == PRT_BENCH_W_PR_ACCESS || o->workload == PRT_BENCH_W_PR_READKEYS;
    run->nreg = with_registrants ? o->registrants : 0;
    run->io = calloc(run->nio, sizeof(*run->io));
    run->reg = run->nreg != 0 ? calloc(run->nreg, sizeof(*run->reg)) : NULL;
    run->pcap = run->nio > run->nreg ? run->nio : run->nreg;
    run->pfd = calloc(run->pcap, sizeof(*run->pfd));
    run->pmap = calloc(run->pcap, sizeof(*run->pmap));
    run->hist = malloc(sizeof(*run->hist));
    uint64_t per = prt_bench_workload_is_pr(o->workload) && o->workload != PRT_BENCH_W_PR_ACCESS ? 0 : o->bs;
    uint64_t total = per * o->qd * run->nio;
    run->bufs = total != 0 ? malloc(total) : NULL;
    if (run->io == NULL || (run->nreg != 0 && run->reg == NULL) || run->pfd == NULL || run->pmap == NULL ||
        run->hist == NULL || (total != 0 && run->bufs == NULL))
        return -ENOMEM;
    prt_bench_hist_init(run->hist);
    /* A non-zero pattern, so that a target cannot answer writes of zeros by unmapping. */
    for (uint64_t i = 0; i < total; i++)
        run->bufs[i] = (uint8_t)(0x5a ^ (i * 131u >> 3));
    for (uint32_t i = 0; i < run->nio; i++) {
        struct prt_bench_sess *s = &run->io[i];
        s->run = run;
        s->idx = i;
        s->key = PRT_BENCH_KEY_IO | (i + 1u);
        s->rng = (o->seed + 1u) * 0x9e3779b97f4a7c15ull + i * 0xbf58476d1ce4e5b9ull + 1u;
        s->slots = calloc(o->qd, sizeof(*s->slots));
        if (s->slots == NULL)
            return -ENOMEM;
        for (uint32_t k = 0; k < o->qd; k++) {
            struct prt_bench_slot *sl = &s->slots[k];
            sl->s = s;
            sl->buf = per != 0 ? run->bufs + ((uint64_t)i * o->qd + k) * per : NULL;
            sl->iov.iov_base = sl->buf;
            sl->iov.iov_len = (size_t)per;
            sl->ua_left = PRT_BENCH_UA_RETRIES;
        }
    }
    for (uint32_t i = 0; i < run->nreg; i++) {
        run->reg[i].run = run;
        run->reg[i].idx = i;
        run->reg[i].registrant = true;
        run->reg[i].key = PRT_BENCH_KEY_REG | (i + 1u);
    }
    return 0;
}

static void free_run(struct prt_bench_run *run)
{
    destroy_set(run->io, run->io != NULL ? run->nio : 0);
    destroy_set(run->reg, run->reg != NULL ? run->nreg : 0);
    if (run->io != NULL)
        for (uint32_t i = 0; i < run->nio; i++)
            free(run->io[i].slots);
    free(run->io);
    free(run->reg);
    free(run->pfd);
    free(run->pmap);
    free(run->hist);
    free(run->bufs);
    if (run->url != NULL)
        iscsi_destroy_url(run->url);
    if (run->url_ctx != NULL)
        iscsi_destroy_context(run->url_ctx);
}

/* The addressed range in transfer-sized positions, from READ CAPACITY and --lba-range. PRT_BENCH_EXIT_USAGE when the
 * command line does not fit the LU. */
static int size_range(struct prt_bench_run *run, FILE *err)
{
    const struct prt_bench_opts *o = run->o;
    if (o->bs % run->block_size != 0) {
        fprintf(err, "prbench: --bs %u is not a multiple of the LU's %u-byte logical blocks\n", o->bs,
                run->block_size);
        return PRT_BENCH_EXIT_USAGE;
    }
    run->xfer_blocks = o->bs / run->block_size;
    uint64_t range = run->blocks;
    if (o->lba_range != 0) {
        range = o->lba_range_bytes ? o->lba_range / run->block_size : o->lba_range;
        if (range > run->blocks) {
            fprintf(err, "prbench: --lba-range of %llu blocks exceeds the LU's %llu blocks\n",
                    (unsigned long long)range, (unsigned long long)run->blocks);
            return PRT_BENCH_EXIT_USAGE;
        }
    }
    run->range_slots = range / run->xfer_blocks;
    if (run->range_slots == 0) {
        fprintf(err, "prbench: the LBA range (%llu blocks) is smaller than one %u-byte transfer\n",
                (unsigned long long)range, o->bs);
        return PRT_BENCH_EXIT_USAGE;
    }
    return PRT_BENCH_EXIT_OK;
}

static void start_measure(struct prt_bench_run *run)
{
    const struct prt_bench_opts *o = run->o;
    run->measuring = true;
    run->stopping = false;
    run->issued = 0;
    run->t_start = now_ns();
    run->t_end = run->t_start;
    run->deadline = run->t_start + (uint64_t)(o->seconds * 1e9);
    for (uint32_t i = 0; i < run->nio && !run->stopping; i++) {
        struct prt_bench_sess *s = &run->io[i];
        /* Sequential sessions start at evenly spaced positions so that they do not read the same blocks. */
        s->seq_next = run->range_slots != 0 ? (uint64_t)i * (run->range_slots / run->nio) : 0;
        uint32_t depth = o->workload == PRT_BENCH_W_PR_CHURN ? 1u : o->qd;
        for (uint32_t k = 0; k < depth && !run_over(run, run->t_start); k++) {
            struct prt_bench_slot *sl = &s->slots[k];
            run->issued++;
            if (o->workload == PRT_BENCH_W_PR_CHURN) {
                churn_issue(sl);
            } else if (o->workload == PRT_BENCH_W_PR_READKEYS) {
                readkeys_issue(sl);
            } else {
                io_pick(sl);
                io_issue(sl);
            }
        }
    }
}

static const enum prt_bench_step script_tur_readcap[] = {ST_TUR, ST_READCAP, ST_END};
static const enum prt_bench_step script_tur[] = {ST_TUR, ST_END};
static const enum prt_bench_step script_reg[] = {ST_REGISTER, ST_END};
static const enum prt_bench_step script_unreg[] = {ST_UNREGISTER, ST_END};
static const enum prt_bench_step script_reserve_readkeys[] = {ST_RESERVE, ST_READKEYS, ST_END};
static const enum prt_bench_step script_readkeys[] = {ST_READKEYS, ST_END};
static const enum prt_bench_step script_clear[] = {ST_CLEAR, ST_END};
static const enum prt_bench_step script_reg_clear[] = {ST_REGISTER, ST_CLEAR, ST_END};

/* Remove every registration and the reservation (SPC-4 5.13.11.2.7). CLEAR must come from a registered nexus:
 * measuring session 0 if it got as far as registering, else a registrant still logged in, else one logged in
 * again, else session 0 after registering now (which fails only when the LU has no room for one more). */
static int clear_all(struct prt_bench_run *run)
{
    struct prt_bench_sess *c = NULL, *set = run->io;
    uint32_t n = run->nio;
    const enum prt_bench_step *script = script_clear;
    if (run->nio != 0 && run->io[0].state == S_READY && run->io[0].registered)
        c = &run->io[0];
    for (uint32_t i = 0; c == NULL && i < run->nreg; i++) {
        if (run->reg[i].state == S_READY && run->reg[i].registered) {
            c = &run->reg[i];
            set = run->reg;
            n = run->nreg;
        }
    }
    /* A registrant that logged out (--drop-registrants) is still registered (SPC-4 5.13.4): logging in again with
     * the same name and ISID is the same I_T nexus, which may then CLEAR. */
    for (uint32_t i = 0; c == NULL && i < run->nreg; i++) {
        struct prt_bench_sess *r = &run->reg[i];
        if (r->state == S_CLOSED && r->registered) {
            if (r->ctx != NULL) {
                iscsi_destroy_context(r->ctx);
                r->ctx = NULL;
            }
            if (sess_start(run, r, script_clear) != 0)
                return -1;
            return drive(run, run->reg, run->nreg, no_pending, PRT_BENCH_SETUP_LIMIT_NS, "CLEAR");
        }
    }
    if (c == NULL && run->nio != 0 && run->io[0].state == S_READY) {
        c = &run->io[0];
        script = script_reg_clear;
    }
    if (c == NULL)
        return -1;
    c->script = script;
    c->pos = 0;
    run->pending++;
    script_next(c);
    return drive(run, set, n, no_pending, PRT_BENCH_SETUP_LIMIT_NS, "CLEAR");
}

int prt_bench_run(const struct prt_bench_opts *o, const char *url, struct prt_bench_result *r, FILE *err)
{
    struct prt_bench_run run;
    memset(&run, 0, sizeof(run));
    run.o = o;
    run.url_text = url;
    run.res = r;
    run.keys_seen = -1;
    snprintf(run.iname, sizeof(run.iname), "%s", o->iname);
    memset(r, 0, sizeof(*r));
    r->workload = o->workload;
    r->url = url;
    r->bs = o->bs;
    r->qd = o->workload == PRT_BENCH_W_PR_CHURN ? 1u : o->qd;
    r->sessions = o->sessions;
    bool registrants = o->workload == PRT_BENCH_W_PR_ACCESS || o->workload == PRT_BENCH_W_PR_READKEYS;
    r->registrants = registrants ? o->registrants : 0;
    r->pr_type = o->workload == PRT_BENCH_W_PR_ACCESS || o->workload == PRT_BENCH_W_PR_CHURN ? o->pr_type : -1;
    r->keys_seen = -1;

    run.url_ctx = iscsi_create_context(o->iname);
    if (run.url_ctx == NULL) {
        fprintf(err, "prbench: cannot create an iSCSI context\n");
        return PRT_BENCH_EXIT_FAIL;
    }
    run.url = iscsi_parse_full_url(run.url_ctx, url);
    if (run.url == NULL) {
        /* libiscsi explains a bad URL over several lines; the first one names the problem. */
        const char *why = iscsi_get_error(run.url_ctx);
        fprintf(err, "prbench: bad URL '%s': %.*s\n", url, (int)strcspn(why, "\n"), why);
        free_run(&run);
        return PRT_BENCH_EXIT_USAGE;
    }
    uint64_t per = o->workload == PRT_BENCH_W_PR_CHURN || o->workload == PRT_BENCH_W_PR_READKEYS ? 0 : o->bs;
    if (per * o->qd * o->sessions > PRT_BENCH_MAX_BUFFER_BYTES) {
        fprintf(err, "prbench: --bs x --qd x --sessions needs more than 1 GiB of buffers\n");
        free_run(&run);
        return PRT_BENCH_EXIT_USAGE;
    }
    if (alloc_run(&run) != 0) {
        fprintf(err, "prbench: out of memory\n");
        free_run(&run);
        return PRT_BENCH_EXIT_FAIL;
    }
    raise_fd_limit((uint64_t)run.nio + run.nreg + 64u);

    int ex = PRT_BENCH_EXIT_OK;
    uint64_t t_setup = now_ns();
    bool pr_state_made = false;

    /* Log the measuring sessions in; session 0 learns the LU's geometry, the others consume their 29h UA. */
    for (uint32_t i = 0; i < run.nio && !run.failed; i++)
        sess_start(&run, &run.io[i], i == 0 ? script_tur_readcap : script_tur);
    if (drive(&run, run.io, run.nio, all_ready, PRT_BENCH_SETUP_LIMIT_NS, "login") != 0)
        goto out;
    if ((ex = size_range(&run, err)) != PRT_BENCH_EXIT_OK)
        goto out;

    if (o->workload == PRT_BENCH_W_PR_ACCESS || o->workload == PRT_BENCH_W_PR_READKEYS) {
        /* The other initiator ports: each its own name and ISID, logged in, registered, and kept logged in
         * (or logged out with --drop-registrants; SPC-4 5.13.4 keeps registrations across I_T nexus loss, but not
         * every target does). */
        pr_state_made = true;
        registrant_start_next(&run);
        if (drive(&run, run.reg, run.nreg, registrants_done, PRT_BENCH_SETUP_LIMIT_NS, "registration") != 0)
            goto out;
        if (io_script(&run, script_reg, 0, run.nio, "registration") != 0)
            goto out;
        bool reserve = o->workload == PRT_BENCH_W_PR_ACCESS && o->pr_type != 0;
        const enum prt_bench_step *s0 = reserve ? script_reserve_readkeys : script_readkeys;
        if (io_script(&run, s0, 0, 1, "reservation") != 0)
            goto out;
        r->keys_seen = run.keys_seen;
        uint64_t want = (uint64_t)run.nreg + run.nio;
        if (run.keys_seen >= 0 && (uint64_t)run.keys_seen != want)
            fprintf(err, "prbench: warning: READ KEYS reports %lld registrations, %llu expected\n",
                    (long long)run.keys_seen, (unsigned long long)want);
    } else if (o->workload == PRT_BENCH_W_PR_CHURN) {
        /* Start from no registration, whatever an interrupted earlier run left behind. */
        pr_state_made = true;
        if (io_script(&run, script_unreg, 0, run.nio, "unregistration") != 0)
            goto out;
    }
    r->setup_s = (double)(now_ns() - t_setup) / 1e9;

    start_measure(&run);
    drive(&run, run.io, run.nio, drained, 0, "measurement");
    if (run.failed)
        goto out;
    r->elapsed_s = (double)(run.t_end - run.t_start) / 1e9;
    prt_bench_result_finish(r, run.hist);

out:
    if (run.failed) {
        fprintf(err, "prbench: %s\n", run.errmsg);
        if (ex == PRT_BENCH_EXIT_OK)
            ex = PRT_BENCH_EXIT_FAIL;
    }
    /* Teardown. First let logins and commands already under way finish, starting nothing new: libiscsi frees the
     * state of a login only when it completes, and a setup step still in flight must not advance a cleanup
     * script. Then leave the LU without our registrations and log every session out. Failures here are
     * reported but do not change a measurement that completed. */
    bool was_failed = run.failed;
    run.failed = false;
    run.stopping = true;
    run.halted = true;
    if (!settled(&run)) {
        if (run.nreg != 0)
            drive(&run, run.reg, run.nreg, settled, PRT_BENCH_DRAIN_LIMIT_NS, "draining");
        drive(&run, run.io, run.nio, settled, PRT_BENCH_DRAIN_LIMIT_NS, "draining");
    }
    run.halted = false;
    run.pending = 0;
    for (uint32_t i = 0; i < run.nio; i++)
        run.io[i].script = NULL;
    for (uint32_t i = 0; i < run.nreg; i++)
        run.reg[i].script = NULL;
    run.teardown = true;
    if (pr_state_made && !run.failed) {
        if (o->workload == PRT_BENCH_W_PR_CHURN)
            io_script(&run, script_unreg, 0, run.nio, "unregistration");
        else
            clear_all(&run);
    }
    if (run.failed && !was_failed)
        fprintf(err, "prbench: warning: cleanup: %s\n", run.errmsg);
    run.failed = false;
    logout_set(run.io, run.nio);
    logout_set(run.reg, run.nreg);
    drive(&run, run.io, run.nio, all_closed, PRT_BENCH_LOGOUT_LIMIT_NS, "logout");
    if (run.nreg != 0)
        drive(&run, run.reg, run.nreg, all_closed, PRT_BENCH_LOGOUT_LIMIT_NS, "logout");
    free_run(&run);
    return ex;
}
