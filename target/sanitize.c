/* SANITIZE (SBC-3 5.30, SBC-3 4.11): OVERWRITE, BLOCK ERASE, CRYPTO ERASE and EXIT FAILURE MODE, on a LU that
 * opted in (struct tgt_lu_cfg.sanitize).
 *
 * The operation runs off the loop thread on the server's executor, holding the LU's io_lock exclusive, and the
 * LU refuses every other command but INQUIRY, REPORT LUNS and REQUEST SENSE with NOT READY, SANITIZE IN
 * PROGRESS until it ends (SBC-3 4.11.2). With IMMED=1 the command completes as soon as its parameters are
 * checked and the operation continues alone; with IMMED=0 the command completes when the operation does. Task
 * management does not stop an operation that has started (SBC-3 4.11.2): an aborted SANITIZE command ends, the
 * operation goes on.
 *
 * How each kind erases an emulated medium:
 *  - BLOCK ERASE and CRYPTO ERASE deallocate every block (UNMAP of the whole LU), after which every block reads
 *    as zeros (LBPRZ=1) and GET LBA STATUS reports it deallocated. We keep no encryption key to change, and
 *    deallocation leaves nothing of the old data behind, which is what a cryptographic erase achieves.
 *  - OVERWRITE writes the initialization pattern, repeated to fill each block, over the whole LU. Only the
 *    last pass is written: every earlier pass is overwritten by the next one, and on an emulated medium there
 *    are no magnetic remnants for the extra passes to hide. An all-zero final pattern deallocates instead,
 *    which reads back the same (LBPRZ=1) without committing the memory of a mem LU.
 * A backend error leaves the LU in sanitize failure mode: block access answers MEDIUM ERROR, SANITIZE COMMAND
 * FAILED until a later SANITIZE succeeds or, when the failed one had AUSE=1, EXIT FAILURE MODE (SBC-3 4.11.3).
 *
 * An emulated duration (tgt_lu_set_sanitize_ms(), "--lun mem:64M,sanitize=10s") keeps the operation in progress
 * at least that long from its start, so initiators can be tested against a sanitize that takes time. It is a
 * completion time compared with the server's now_ms wherever the state is read, so nothing blocks the loop; an
 * IMMED=0 command is completed by a wait on the executor that sleeps in short slices and looks at the command
 * between them, so an abort, a reset or a dropped connection ends the command within one slice while the
 * operation itself stays in progress (SBC-3 4.11.2). Only one executor thread is taken per waiting command,
 * and only between slices it is given back, so file I/O keeps the rest of the pool. Without a server clock
 * (now_ms NULL) no time is added.
 *
 * Ownership: struct tgt_sanitize belongs to its LU (allocated by tgt__sanitize_init() from tgt__disk_lu_init(),
 * freed by tgt__sanitize_free()). The write buffer of an OVERWRITE lives from the command until the operation
 * ends. A LU must not be freed while its operation runs.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "target/tgt_internal.h"

#define SA_OVERWRITE 0x01
#define SA_BLOCK_ERASE 0x02
#define SA_CRYPTO_ERASE 0x03
#define SA_EXIT_FAILURE_MODE 0x1f

#define CHUNK_BYTES (1u << 20) /* OVERWRITE writes this much per backend call */
#define WAIT_SLICE_MS 100u     /* longest sleep of an IMMED=0 wait before it looks at its command again */

struct tgt_sanitize {
    struct tgt_lu *lu;
    struct tgt_work work;       /* owned by the LU, so an IMMED=1 operation outlives its command */
    bool in_progress;
    bool failed;                /* sanitize failure mode (SBC-3 4.11.3) */
    bool ause;                  /* the operation (if it fails) allows EXIT FAILURE MODE */
    uint8_t sa;
    int err;                    /* 0 or -errno, written by the worker */
    uint8_t *chunk;             /* OVERWRITE: the final pass's data, CHUNK_BYTES (or the LU size) long */
    size_t chunk_len;
    bool zero;                  /* OVERWRITE: the final pattern is all zeros */
    struct tgt_cmd *waiter;     /* the IMMED=0 command to complete when the operation ends */
    uint64_t duration_ms;       /* emulated duration; 0 = as long as the erase itself takes */
    uint64_t start_ms;          /* server now_ms when the operation started */
    uint64_t end_ms;            /* in progress until now_ms reaches this; 0 = no emulated duration pending */
    struct tgt_work wait;       /* the IMMED=0 command's wait for end_ms, one slice at a time */
    uint32_t slice_ms;          /* the length of the slice being slept, set on the loop thread */
};

int tgt__sanitize_init(struct tgt_lu *lu, char *err, size_t errlen);
void tgt__sanitize_free(struct tgt_lu *lu);

int tgt__sanitize_init(struct tgt_lu *lu, char *err, size_t errlen)
{
    lu->sanitize = calloc(1, sizeof(*lu->sanitize));
    if (!lu->sanitize) {
        snprintf(err, errlen, "LU %llu: out of memory", (unsigned long long)lu->lun);
        return -ENOMEM;
    }
    lu->sanitize->lu = lu;
    return 0;
}

void tgt__sanitize_free(struct tgt_lu *lu)
{
    if (!lu->sanitize)
        return;
    free(lu->sanitize->chunk);
    free(lu->sanitize);
    lu->sanitize = NULL;
}

int tgt_lu_set_sanitize_ms(struct tgt_lu *lu, uint64_t ms)
{
    if (!lu || !lu->sanitize)
        return -EINVAL;
    lu->sanitize->duration_ms = ms;
    return 0;
}

static uint64_t now_of(const struct tgt_server *srv)
{
    return srv && srv->now_ms ? srv->now_ms(srv->now_ctx) : 0;
}

/* SBC-3 4.11.2: the operation is in progress while the erase runs and, when a duration is emulated, until its
 * completion time. */
static bool running(const struct tgt_sanitize *s)
{
    return s->in_progress || (s->end_ms && now_of(s->lu->srv) < s->end_ms);
}

/* SPC-4 4.5.2.4.4: the PROGRESS INDICATION is the completed fraction of the operation in 65536ths. Without an
 * emulated duration the erase gives no measure of its own, so it reports none done until it ends. */
static uint16_t progress_of(const struct tgt_sanitize *s)
{
    uint64_t now = now_of(s->lu->srv), done;

    if (!s->end_ms || !s->duration_ms || now < s->start_ms)
        return 0;
    done = (now - s->start_ms) * 65536u / s->duration_ms;
    return done > 0xffff ? 0xffff : (uint16_t)done;
}

/* REQUEST SENSE while the operation is in progress (SBC-3 4.11.2): NOT READY, SANITIZE IN PROGRESS as parameter
 * data, with the progress indication in the sense key specific field. A pending unit attention of the nexus is
 * reported first by the ordinary handler (SPC-4 6.39, SAM-5 5.14). */
static bool request_sense_in_progress(struct tgt_cmd *cmd, const struct tgt_sanitize *s)
{
    struct tgt_sense_desc sd = { .key = TGT_SK_NOT_READY, .asc = 0x04, .ascq = 0x1b, .sksv = true };
    uint32_t itn = tgt_cmd_itn(cmd);
    uint16_t p = progress_of(s);
    size_t len;

    if (itn != PR_ITN_NONE && tgt__ua_pending(cmd->lu, itn))
        return false;
    sd.sks[0] = 0x80;
    sd.sks[1] = (uint8_t)(p >> 8);
    sd.sks[2] = (uint8_t)p;
    len = tgt__sense_build(cmd->buf, cmd->buf_cap, cmd->cdb[1] & 0x01, &sd);
    tgt_cmd_data_in(cmd, cmd->buf, len, cmd->cdb[4]);
    return true;
}

uint8_t tgt__sanitize_vpd_b1_byte7(const struct tgt_lu *lu)
{
    /* SBC-3 6.5.2: WABEREQ and WACEREQ 01b: a read of a block that was not written since a BLOCK / CRYPTO ERASE
     * completes with GOOD status (and reads zeros). 00b when SANITIZE is not supported. */
    return lu && lu->sanitize ? 0x50 : 0x00;
}

bool tgt__row_supported(const struct tgt_lu *lu, const struct tgt_cmd_row *row)
{
    /* SBC-3 5.30: SANITIZE is optional and offered only by LUs that opted in. */
    return row->opcode != 0x48 || (lu && lu->sanitize);
}

bool tgt__sanitize_busy(const struct tgt_lu *lu)
{
    return lu->sanitize && (running(lu->sanitize) || lu->sanitize->failed);
}

/* Commands that read or write blocks: refused in sanitize failure mode (SBC-3 4.11.3). */
static bool touches_blocks(uint8_t op)
{
    switch (op) {
    case 0x08: case 0x0a: case 0x28: case 0x2a: case 0x2e: case 0x2f: case 0x34: case 0x41: case 0x42:
    case 0x83: case 0x88: case 0x89: case 0x8a: case 0x8b: case 0x8e: case 0x8f: case 0x90: case 0x93:
    case 0x9c: case 0xa8: case 0xaa: case 0xae: case 0xaf:
        return true;
    default:
        return false;
    }
}

bool tgt__sanitize_gate(struct tgt_cmd *cmd, const struct tgt_cmd_row *row)
{
    struct tgt_sanitize *s = cmd->lu ? cmd->lu->sanitize : NULL;

    if (!s)
        return false;
    if (row->opcode == 0x03 && running(s))
        return request_sense_in_progress(cmd, s);
    if (row->flags & TGT_F_SKIP_UA)
        return false;
    if (running(s)) {
        /* SBC-3 4.11.2: LOGICAL UNIT NOT READY, SANITIZE IN PROGRESS for everything but INQUIRY, REPORT LUNS
         * and REQUEST SENSE (the rows that also skip unit attentions). */
        tgt_set_not_ready(cmd, 0x04, 0x1b);
        return true;
    }
    if (s->failed && touches_blocks(row->opcode)) {
        tgt_set_sense(cmd, TGT_SK_MEDIUM_ERROR, 0x31, 0x03); /* SANITIZE COMMAND FAILED */
        return true;
    }
    return false;
}

/* ---- the operation (worker thread, or inline without an executor) --------------------------------------- */

static int write_zeros(struct tgt_lu *lu)
{
    static const uint8_t zeros[65536];
    uint64_t off = 0;

    while (off < lu->size) {
        size_t k = lu->size - off > sizeof(zeros) ? sizeof(zeros) : (size_t)(lu->size - off);
        int rc = lu->ops->write(lu, zeros, off, k);

        if (rc < 0)
            return rc;
        off += k;
    }
    return 0;
}

static int deallocate_all(struct tgt_lu *lu)
{
    /* Deallocation reads back as zeros (LBPRZ); a backend that cannot deallocate gets zeros written. */
    if (lu->ops->unmap && lu->ops->unmap(lu, 0, lu->size) == 0)
        return 0;
    return write_zeros(lu);
}

static int overwrite_all(struct tgt_sanitize *s)
{
    struct tgt_lu *lu = s->lu;
    uint64_t off = 0;

    if (s->zero)
        return deallocate_all(lu);
    while (off < lu->size) {
        size_t k = lu->size - off > s->chunk_len ? s->chunk_len : (size_t)(lu->size - off);
        int rc = lu->ops->write(lu, s->chunk, off, k);

        if (rc < 0)
            return rc;
        off += k;
    }
    return lu->ops->flush ? lu->ops->flush(lu) : 0;
}

static void sanitize_work(struct tgt_work *w)
{
    struct tgt_sanitize *s = (struct tgt_sanitize *)(void *)((char *)w - offsetof(struct tgt_sanitize, work));
    struct tgt_lu *lu = s->lu;

    /* Exclusive: any block I/O of a blocking backend still on a worker finishes first, none starts after. */
    pthread_rwlock_wrlock(&lu->io_lock);
    s->err = s->sa == SA_OVERWRITE ? overwrite_all(s) : deallocate_all(lu);
    pthread_rwlock_unlock(&lu->io_lock);
}

static void wait_work(struct tgt_work *w)
{
    struct tgt_sanitize *s = (struct tgt_sanitize *)(void *)((char *)w - offsetof(struct tgt_sanitize, wait));
    struct timespec ts = { .tv_sec = s->slice_ms / 1000u, .tv_nsec = (long)(s->slice_ms % 1000u) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        continue;
}

/* Ends the IMMED=0 command, now or after the emulated duration. */
static void finish_waiter(struct tgt_sanitize *s)
{
    struct tgt_cmd *cmd = s->waiter;
    uint64_t now;

    if (!cmd)
        return;
    /* An aborted command ends at once; the operation does not (SBC-3 4.11.2). */
    if (!cmd->aborted && s->err == 0 && s->end_ms && (now = now_of(s->lu->srv)) < s->end_ms) {
        uint64_t left = s->end_ms - now;

        s->slice_ms = left < WAIT_SLICE_MS ? (uint32_t)left : WAIT_SLICE_MS;
        if (s->lu->srv->exec.queue && s->lu->srv->exec.queue(s->lu->srv->exec.ctx, &s->wait) == 0)
            return;
    }
    s->waiter = NULL;
    if (tgt__work_finished(cmd))
        return;
    /* SBC-3 5.30.1: an IMMED=0 SANITIZE returns its status when the operation ends; the in-progress state ends
     * with it even if the server clock has not quite caught up with the slices slept. */
    if (s->err == 0)
        s->end_ms = 0;
    if (s->err < 0)
        tgt_set_sense(cmd, TGT_SK_MEDIUM_ERROR, 0x31, 0x03);
    else
        tgt_set_good(cmd);
    tgt_cmd_complete(cmd);
}

static void wait_done(struct tgt_work *w)
{
    finish_waiter((struct tgt_sanitize *)(void *)((char *)w - offsetof(struct tgt_sanitize, wait)));
}

static void sanitize_done(struct tgt_work *w)
{
    struct tgt_sanitize *s = (struct tgt_sanitize *)(void *)((char *)w - offsetof(struct tgt_sanitize, work));

    s->in_progress = false;
    free(s->chunk);
    s->chunk = NULL;
    /* SBC-3 4.11.3: a failed operation puts the LU in sanitize failure mode, and ends at once; a successful one
     * ends failure mode. */
    s->failed = s->err < 0;
    if (s->failed)
        s->end_ms = 0;
    finish_waiter(s);
}

/* ---- the command --------------------------------------------------------------------------------------- */

/* OVERWRITE parameter list (SBC-3 5.30.2 Table 108): check it and build the final pass's data. */
static bool prepare_overwrite(struct tgt_cmd *cmd, struct tgt_sanitize *s, uint16_t plen)
{
    struct tgt_lu *lu = cmd->lu;
    const uint8_t *p = cmd->buf;
    bool invert = p[0] & 0x80;
    uint8_t test = (p[0] >> 5) & 0x03;
    uint8_t count = p[0] & 0x1f;
    uint16_t patlen = prt_get_be16(p + 2);
    bool flip;
    size_t chunk_len;

    /* TEST is for vendor testing only; 00b is the one defined value. */
    if (test) {
        tgt_set_invalid_field_param(cmd, 0, 6);
        return false;
    }
    if (count == 0) {
        tgt_set_invalid_field_param(cmd, 0, 4);
        return false;
    }
    /* SBC-3 5.30.2: the INITIALIZATION PATTERN LENGTH is 1 to the logical block length. */
    if (patlen == 0 || patlen > lu->block_size) {
        tgt_set_invalid_field_param(cmd, 2, 7);
        return false;
    }
    if ((size_t)patlen + 4 > plen) {
        tgt_set_param_list_length_error(cmd);
        return false;
    }
    chunk_len = lu->size < CHUNK_BYTES ? (size_t)lu->size : CHUNK_BYTES;
    s->chunk = malloc(chunk_len);
    if (!s->chunk) {
        tgt_set_internal_error(cmd);
        return false;
    }
    s->chunk_len = chunk_len;
    /* SBC-3 5.30.2: with INVERT=1 the pattern is inverted between consecutive passes, so the last of COUNT
     * passes is inverted when COUNT is even. The pattern repeats to fill each block (and the chunk, whose length
     * is a whole number of blocks). */
    flip = invert && (count % 2 == 0);
    s->zero = true;
    for (size_t i = 0; i < lu->block_size; i++) {
        uint8_t b = p[4 + i % patlen];

        s->chunk[i] = flip ? (uint8_t)~b : b;
        if (s->chunk[i])
            s->zero = false;
    }
    for (size_t off = lu->block_size; off < chunk_len; off += lu->block_size)
        memcpy(s->chunk + off, s->chunk, lu->block_size);
    return true;
}

enum tgt_exec_result tgt_sanitize(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    struct tgt_sanitize *s = lu->sanitize;
    struct tgt_server *srv = lu->srv;
    bool immed = cmd->cdb[1] & 0x80;
    bool ause = cmd->cdb[1] & 0x20;
    uint8_t sa = cmd->cdb[1] & 0x1f;
    uint16_t plen = prt_get_be16(cmd->cdb + 7);

    /* SBC-3 5.30: SANITIZE is optional; a LU that did not opt in does not implement it. */
    if (!s) {
        tgt_set_invalid_opcode(cmd);
        return TGT_DONE;
    }
    if (sa == SA_OVERWRITE) {
        /* SBC-3 5.30.2: the parameter list is a 4-byte header and a pattern of 1 to block-length bytes, so any
         * other PARAMETER LIST LENGTH is INVALID FIELD IN CDB. */
        if (plen < 5 || plen > lu->block_size + 4u) {
            tgt_set_invalid_field_cdb(cmd, 7, 7);
            return TGT_DONE;
        }
        cmd->dout_want = plen;
        if (cmd->dout_len < plen || cmd->buf_cap < plen) {
            tgt_set_invalid_field_iu(cmd);
            return TGT_DONE;
        }
    } else if (plen != 0) {
        /* SBC-3 5.30.3-5.30.5: BLOCK ERASE, CRYPTO ERASE and EXIT FAILURE MODE take no parameter list. */
        tgt_set_invalid_field_cdb(cmd, 7, 7);
        return TGT_DONE;
    }
    if (sa == SA_EXIT_FAILURE_MODE) {
        /* SBC-3 4.11.3: leaving failure mode this way needs the failed SANITIZE to have had AUSE=1; outside
         * failure mode there is nothing to leave and the command succeeds. */
        if (s->failed && !s->ause) {
            tgt_set_invalid_field_cdb(cmd, 1, 4);
            return TGT_DONE;
        }
        s->failed = false;
        tgt_set_good(cmd);
        return TGT_DONE;
    }
    if (sa == SA_OVERWRITE && !prepare_overwrite(cmd, s, plen))
        return TGT_DONE;

    s->sa = sa;
    s->ause = ause;
    s->err = 0;
    s->in_progress = true;
    s->work.work = sanitize_work;
    s->work.done = sanitize_done;
    s->wait.work = wait_work;
    s->wait.done = wait_done;
    /* The emulated duration counts from the start of the operation; it needs the server's clock. */
    s->start_ms = now_of(srv);
    s->end_ms = s->duration_ms && srv->now_ms ? s->start_ms + s->duration_ms : 0;
    if (!immed) {
        /* The command waits for the operation; marking it as in a worker makes an abort leave it for
         * sanitize_done to complete (dispatch.c tgt__task_abort). */
        s->waiter = cmd;
        cmd->cflags |= TGT__CF_IN_WORKER;
    } else {
        /* SBC-3 5.30.1: IMMED=1 returns status once the CDB and parameter list are checked. */
        tgt_set_good(cmd);
    }
    if (!srv->exec.queue || srv->exec.queue(srv->exec.ctx, &s->work) != 0) {
        /* No executor (unit tests) or it refused: the operation runs here, to the end. */
        sanitize_work(&s->work);
        sanitize_done(&s->work);
    }
    return immed ? TGT_DONE : TGT_ASYNC;
}
