/* EXTENDED COPY (LID1) and RECEIVE COPY RESULTS (SPC-4 6.4, 6.18): the copy manager of this target, copying
 * blocks between LUs of the same SCSI target device (the offload VMware calls XCOPY).
 *
 * Supported: target descriptor E4h (identification descriptor) naming one of our LUs by the NAA designator of
 * its VPD page 83h, and segment descriptor 02h (block device to block device). No inline or embedded data, no
 * held data. A copy runs segment after segment; between two memory LUs it is one memmove per segment on the
 * loop thread, otherwise it runs on the executor with the LUs' io_locks held shared, through the part of the
 * command buffer after the parameter list as a bounce buffer, so no copy allocates.
 *
 * Results of copies with LIST ID USAGE 00b are held per I_T nexus and list identifier for RECEIVE COPY RESULTS
 * (COPY STATUS); the newest XCOPY_HELD results are kept.
 *
 * Ownership: struct tgt_xcopy_log belongs to its LU, allocated on the first EXTENDED COPY and freed by
 * tgt__xcopy_free() from the LU destructor.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target/tgt_internal.h"

/* Limits reported by OPERATING PARAMETERS and enforced below. */
#define XCOPY_MAX_TGT_DESC 8
#define XCOPY_MAX_SEG_DESC 64
#define XCOPY_MAX_DESC_LIST 4096       /* bytes of target plus segment descriptor lists */
#define XCOPY_MAX_CONCURRENT 8          /* copies in progress on one LU */
#define XCOPY_HELD 16                   /* held copy status entries per LU */

#define SK_COPY_ABORTED 0x0a
#define TD_LEN 32                       /* identification target descriptor (SPC-4 6.4.6.2) */
#define HDR_LEN 16                      /* LID1 parameter list header (SPC-4 6.4.3) */

struct xcopy_entry {
    bool used;
    uint32_t itn;
    uint8_t list_id;
    uint8_t status;                     /* COPY MANAGER STATUS: 00h in progress, 01h good, 02h error */
    uint16_t segments;
    uint64_t bytes;
};

struct tgt_xcopy_log {
    unsigned next;                      /* round-robin slot for the next held result */
    unsigned in_progress;
    struct xcopy_entry e[XCOPY_HELD];
};

void tgt__xcopy_free(struct tgt_lu *lu);

void tgt__xcopy_free(struct tgt_lu *lu)
{
    free(lu->xcopy);
    lu->xcopy = NULL;
}

/* One parsed block-to-block segment. cmd->buf holds the parameter list while the copy runs, so segments are
 * re-read from it rather than stored. */
struct b2b {
    struct tgt_lu *src, *dst;
    uint64_t src_lba, dst_lba;
    uint32_t nblocks;
};

/* ---- sense helpers -------------------------------------------------------------------------------------- */

static void copy_aborted(struct tgt_cmd *cmd, uint8_t asc, uint8_t ascq)
{
    tgt_set_sense(cmd, SK_COPY_ABORTED, asc, ascq);
}

/* ---- parameter list checks -------------------------------------------------------------------------------- */

/* Find our LU named by the designation descriptor of an identification target descriptor. */
static struct tgt_lu *lu_by_designator(struct tgt_server *srv, const uint8_t *des)
{
    uint8_t code_set = des[0] & 0x0f;
    uint8_t assoc = (des[1] >> 4) & 0x03;
    uint8_t type = des[1] & 0x0f;
    uint8_t len = des[3];

    /* Our LUs are named by a binary NAA 3h designator with LU association (spc.c VPD 83h). */
    if (code_set != 0x1 || assoc != 0 || type != 0x3 || len != 8)
        return NULL;
    for (unsigned i = 0; i < srv->n_lus; i++)
        if (memcmp(srv->lus[i]->naa, des + 4, 8) == 0)
            return srv->lus[i];
    return NULL;
}

/* A LU that can take part in a copy right now: medium present, no sanitize running or failed. */
static bool reachable(const struct tgt_lu *lu)
{
    return tgt__media_present(lu) && !tgt__sanitize_busy(lu);
}

/* Resolve target descriptor index idx to a LU; sets sense and returns NULL on failure. */
static struct tgt_lu *resolve_td(struct tgt_cmd *cmd, const uint8_t *tds, unsigned ntd, uint16_t idx)
{
    const uint8_t *td;
    struct tgt_lu *lu;

    /* SPC-4 6.4.5: a segment descriptor naming a target descriptor that does not exist names a copy target
     * the copy manager cannot reach. */
    if (idx >= ntd) {
        copy_aborted(cmd, 0x08, 0x04); /* UNREACHABLE COPY TARGET */
        return NULL;
    }
    td = tds + (size_t)idx * TD_LEN;
    /* SPC-4 6.4.6.1: NUL=1 names no logical unit; a block-to-block segment cannot move data to or from it. */
    if (td[1] & 0x20) {
        copy_aborted(cmd, 0x0d, 0x02); /* COPY TARGET DEVICE NOT REACHABLE */
        return NULL;
    }
    lu = lu_by_designator(cmd->lu->srv, td + 4);
    if (!lu || !reachable(lu)) {
        copy_aborted(cmd, 0x08, 0x04);
        return NULL;
    }
    /* SPC-4 6.4.6.1 / 6.4.6.2: DISK BLOCK LENGTH must be the copy target's logical block length. */
    if (prt_get_be24(td + 29) != lu->block_size) {
        copy_aborted(cmd, 0x0d, 0x03); /* INCORRECT COPY TARGET DEVICE TYPE */
        return NULL;
    }
    return lu;
}

/* Check the target descriptors that do not depend on a segment (SPC-4 6.4.6). */
static bool check_target_descriptors(struct tgt_cmd *cmd, const uint8_t *tds, unsigned ntd)
{
    for (unsigned i = 0; i < ntd; i++) {
        const uint8_t *td = tds + (size_t)i * TD_LEN;
        int off = HDR_LEN + (int)(i * TD_LEN);

        /* SPC-4 6.4.6.1: target descriptor types we do not implement: UNSUPPORTED TARGET DESCRIPTOR TYPE CODE. */
        if (td[0] != 0xe4) {
            tgt_set_sense(cmd, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x07);
            return false;
        }
        /* SPC-4 6.4.6.2: LU ID TYPE 00b (logical unit identified by the designator); 01b proxy tokens are
         * not supported and 10b/11b are reserved. */
        if ((td[1] >> 6) != 0) {
            tgt_set_invalid_field_param(cmd, off + 1, 7);
            return false;
        }
        /* Only block devices (PERIPHERAL DEVICE TYPE 00h) are copy targets here. */
        if ((td[1] & 0x1f) != 0) {
            tgt_set_invalid_field_param(cmd, off + 1, 4);
            return false;
        }
        /* The designator must fit in the 20 bytes the descriptor gives it (SPC-4 6.4.6.2). */
        if (td[7] > 16) {
            tgt_set_invalid_field_param(cmd, off + 7, 7);
            return false;
        }
    }
    return true;
}

/* Walk the segment descriptor list: counts descriptors and checks their framing and types. */
static bool check_segments(struct tgt_cmd *cmd, const uint8_t *sds, uint32_t sdl, unsigned *nseg, int base)
{
    uint32_t off = 0;
    unsigned n = 0;

    while (off < sdl) {
        uint32_t dlen;

        if (sdl - off < 4) {
            tgt_set_param_list_length_error(cmd);
            return false;
        }
        dlen = prt_get_be16(sds + off + 2) + 4u;
        if (dlen > sdl - off) {
            tgt_set_param_list_length_error(cmd);
            return false;
        }
        n++;
        off += dlen;
    }
    /* SPC-4 6.4.3: more segment descriptors than MAXIMUM SEGMENT DESCRIPTOR COUNT. */
    if (n > XCOPY_MAX_SEG_DESC) {
        tgt_set_sense(cmd, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x08);
        return false;
    }
    off = 0;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *sd = sds + off;

        /* SPC-4 6.4.5: a type we do not implement is UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE. */
        if (sd[0] != 0x02) {
            tgt_set_sense(cmd, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x09);
            return false;
        }
        /* SPC-4 6.4.5.5 Table 34: the block to block descriptor has DESCRIPTOR LENGTH 0018h. */
        if (prt_get_be16(sd + 2) != 0x18) {
            tgt_set_invalid_field_param(cmd, base + (int)off + 2, 7);
            return false;
        }
        off += prt_get_be16(sd + 2) + 4u;
    }
    *nseg = n;
    return true;
}

/* Decode segment i (already checked) and resolve its LUs and ranges; false with sense set. */
static bool decode_b2b(struct tgt_cmd *cmd, const uint8_t *sd, const uint8_t *tds, unsigned ntd, struct b2b *b)
{
    uint32_t itn = tgt_cmd_itn(cmd);

    b->src = resolve_td(cmd, tds, ntd, prt_get_be16(sd + 4));
    if (!b->src)
        return false;
    b->dst = resolve_td(cmd, tds, ntd, prt_get_be16(sd + 6));
    if (!b->dst)
        return false;
    /* SPC-4 6.4.5.5: with DC=0 NUMBER OF BLOCKS counts source blocks, with DC=1 destination blocks; the block
     * lengths are equal (resolve_td checked both against the descriptors, which we require to match). */
    if (b->src->block_size != b->dst->block_size) {
        copy_aborted(cmd, 0x0d, 0x03);
        return false;
    }
    b->nblocks = prt_get_be16(sd + 10);
    b->src_lba = prt_get_be64(sd + 12);
    b->dst_lba = prt_get_be64(sd + 20);
    if (b->src_lba > b->src->nblocks || b->nblocks > b->src->nblocks - b->src_lba ||
        b->dst_lba > b->dst->nblocks || b->nblocks > b->dst->nblocks - b->dst_lba) {
        /* SPC-4 6.4.3: an error found while processing a segment ends the copy with COPY ABORTED; the copy
         * target's own complaint (LBA OUT OF RANGE) has no standard COPY ABORTED code, so none is claimed. */
        copy_aborted(cmd, 0x00, 0x00);
        return false;
    }
    /* The copy manager writes the destination for this nexus: its write protection and reservations apply
     * as if the nexus wrote there itself (SPC-4 5.13.1, SBC-3 4.9). */
    if (b->dst->read_only || b->dst->mode.swp) {
        copy_aborted(cmd, 0x27, 0x00);
        return false;
    }
    if ((b->dst->pr && pr_check_access(b->dst->pr, itn, PR_ACCESS_WRITE) == PR_CONFLICT) ||
        (b->src->pr && pr_check_access(b->src->pr, itn, PR_ACCESS_READ) == PR_CONFLICT)) {
        tgt_set_reservation_conflict(cmd);
        return false;
    }
    return true;
}

/* ---- held results ----------------------------------------------------------------------------------------- */

static struct xcopy_entry *find_entry(struct tgt_xcopy_log *log, uint32_t itn, uint8_t list_id)
{
    if (!log)
        return NULL;
    for (unsigned i = 0; i < XCOPY_HELD; i++)
        if (log->e[i].used && log->e[i].itn == itn && log->e[i].list_id == list_id)
            return &log->e[i];
    return NULL;
}

static struct xcopy_entry *new_entry(struct tgt_xcopy_log *log, uint32_t itn, uint8_t list_id)
{
    struct xcopy_entry *e = find_entry(log, itn, list_id);

    if (!e) {
        /* Reuse the oldest slot that is not in progress. */
        for (unsigned k = 0; k < XCOPY_HELD; k++) {
            struct xcopy_entry *c = &log->e[(log->next + k) % XCOPY_HELD];

            if (!c->used || c->status != 0x00) {
                e = c;
                log->next = (unsigned)((c - log->e) + 1) % XCOPY_HELD;
                break;
            }
        }
    }
    if (e) {
        memset(e, 0, sizeof(*e));
        e->used = true;
        e->itn = itn;
        e->list_id = list_id;
    }
    return e;
}

/* ---- the copy ---------------------------------------------------------------------------------------------- */

/* Copy one segment. bounce: scratch space of bounce_len bytes (a whole number of blocks, at least one). */
static int copy_segment(const struct b2b *b, uint8_t *bounce, size_t bounce_len)
{
    uint32_t shift = b->src->bs_shift;
    uint64_t soff = b->src_lba << shift, doff = b->dst_lba << shift;
    size_t len = (size_t)b->nblocks << shift;
    size_t done = 0;

    if (len == 0)
        return 0;
    if (b->src->ops->map && b->dst->ops->map) {
        /* Both in memory: one move, which also handles overlap within one LU. */
        memmove(b->dst->ops->map(b->dst, doff, len), b->src->ops->map(b->src, soff, len), len);
        return 0;
    }
    if (b->src->ops->map)
        return b->dst->ops->write(b->dst, b->src->ops->map(b->src, soff, len), doff, len);
    while (done < len) {
        size_t k = len - done > bounce_len ? bounce_len : len - done;
        int rc = b->src->ops->read(b->src, bounce, soff + done, k);

        if (rc == 0)
            rc = b->dst->ops->write(b->dst, bounce, doff + done, k);
        if (rc < 0)
            return rc;
        done += k;
    }
    return 0;
}

/* Where the parameter list ends in cmd->buf: the rest is the bounce buffer. */
static size_t plist_len(const struct tgt_cmd *cmd)
{
    return prt_get_be32(cmd->cdb + 10);
}

/* Runs every segment. While a copy runs, the command's private scratch fields mean: nblocks = number of
 * segments, info = segments completed, lba = bytes transferred, io_err = 0 or the first -errno. */
static void run_segments(struct tgt_cmd *cmd, bool take_locks)
{
    const uint8_t *p = cmd->buf;
    unsigned ntd = prt_get_be16(p + 2) / TD_LEN;
    const uint8_t *tds = p + HDR_LEN;
    const uint8_t *sds = tds + (size_t)ntd * TD_LEN;
    size_t start = (plist_len(cmd) + 4095) & ~(size_t)4095;
    uint8_t *bounce = cmd->buf + start;
    size_t bounce_len = (cmd->buf_cap - start) & ~(size_t)4095;
    uint32_t off = 0;

    cmd->io_err = 0;
    for (uint32_t i = 0; i < cmd->nblocks; i++) {
        const uint8_t *sd = sds + off;
        struct b2b b = {
            .nblocks = prt_get_be16(sd + 10),
            .src_lba = prt_get_be64(sd + 12),
            .dst_lba = prt_get_be64(sd + 20),
        };
        int rc;

        /* Segments were resolved on the loop thread; the LUs are looked up again by the same rule, which
         * cannot fail now because LUs are never removed while the server runs. */
        b.src = lu_by_designator(cmd->lu->srv, tds + (size_t)prt_get_be16(sd + 4) * TD_LEN + 4);
        b.dst = lu_by_designator(cmd->lu->srv, tds + (size_t)prt_get_be16(sd + 6) * TD_LEN + 4);
        if (take_locks) {
            /* Shared locks, always taken in address order so two copies in opposite directions cannot
             * deadlock against a COMPARE AND WRITE waiting for one of them. */
            struct tgt_lu *first = b.src < b.dst ? b.src : b.dst, *second = b.src < b.dst ? b.dst : b.src;

            pthread_rwlock_rdlock(&first->io_lock);
            if (second != first)
                pthread_rwlock_rdlock(&second->io_lock);
            rc = copy_segment(&b, bounce, bounce_len);
            if (second != first)
                pthread_rwlock_unlock(&second->io_lock);
            pthread_rwlock_unlock(&first->io_lock);
        } else {
            rc = copy_segment(&b, bounce, bounce_len);
        }
        if (rc < 0) {
            cmd->io_err = rc;
            return;
        }
        cmd->info = i + 1;
        cmd->lba += (uint64_t)b.nblocks << b.src->bs_shift; /* bytes transferred */
        off += prt_get_be16(sd + 2) + 4u;
    }
}

/* Account for a copy that ended (completed, failed or aborted): the held results and the concurrency count. */
static void record_copy(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    struct xcopy_entry *e = find_entry(lu->xcopy, tgt_cmd_itn(cmd), cmd->buf[0]);

    if (lu->xcopy && lu->xcopy->in_progress)
        lu->xcopy->in_progress--;
    if (e && e->status == 0x00) {
        e->status = cmd->io_err < 0 ? 0x02 : 0x01;
        e->segments = (uint16_t)cmd->info;
        e->bytes = cmd->lba;
    }
}

static void copy_status(struct tgt_cmd *cmd)
{
    if (cmd->io_err < 0)
        /* SPC-4 6.4.3: a copy target that failed the transfer: COPY ABORTED; the data moved so far stays. */
        copy_aborted(cmd, 0x0d, 0x01); /* THIRD PARTY DEVICE FAILURE */
    else
        tgt_set_good(cmd);
}

static void copy_work(struct tgt_work *w)
{
    run_segments(tgt__cmd_of_work(w), true);
}

static void copy_done(struct tgt_work *w)
{
    struct tgt_cmd *cmd = tgt__cmd_of_work(w);

    record_copy(cmd);
    if (tgt__work_finished(cmd))
        return;
    copy_status(cmd);
    tgt_cmd_complete(cmd);
}

enum tgt_exec_result tgt_xcopy_lid1(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    uint32_t plen = prt_get_be32(cmd->cdb + 10);
    const uint8_t *p = cmd->buf;
    uint32_t tdl, sdl, idl;
    uint8_t usage;
    unsigned ntd, nseg;
    const uint8_t *tds, *sds;
    bool blocking = false;
    uint32_t off;

    /* SPC-4 6.4.1: PARAMETER LIST LENGTH 0 is not an error; nothing is copied. */
    if (plen == 0) {
        tgt_set_good(cmd);
        return TGT_DONE;
    }
    /* Bound before looking: the header, and no more than the descriptor lists we accept. */
    if (plen < HDR_LEN || plen > HDR_LEN + XCOPY_MAX_DESC_LIST) {
        tgt_set_param_list_length_error(cmd);
        return TGT_DONE;
    }
    cmd->dout_want = plen;
    if (cmd->dout_len < plen || cmd->buf_cap < plen) {
        tgt_set_invalid_field_iu(cmd);
        return TGT_DONE;
    }
    tdl = prt_get_be16(p + 2);
    sdl = prt_get_be32(p + 8);
    idl = prt_get_be32(p + 12);
    /* SPC-4 6.4.3: the lists must fit in the parameter list (a truncated descriptor), and together within
     * MAXIMUM DESCRIPTOR LIST LENGTH; either is a PARAMETER LIST LENGTH ERROR. */
    if ((uint64_t)HDR_LEN + tdl + sdl + idl > plen || (uint64_t)tdl + sdl > XCOPY_MAX_DESC_LIST) {
        tgt_set_param_list_length_error(cmd);
        return TGT_DONE;
    }
    usage = (p[1] >> 3) & 0x03;
    /* SPC-4 6.4.3 Table 28: LIST ID USAGE 01b is reserved; 11b requires LIST IDENTIFIER 0. */
    if (usage == 0x01 || (usage == 0x03 && p[0] != 0)) {
        tgt_set_invalid_field_param(cmd, 1, 4);
        return TGT_DONE;
    }
    /* MAXIMUM INLINE DATA LENGTH is 0. */
    if (idl) {
        tgt_set_invalid_field_param(cmd, 12, 7);
        return TGT_DONE;
    }
    if (tdl % TD_LEN) {
        tgt_set_invalid_field_param(cmd, 2, 7);
        return TGT_DONE;
    }
    ntd = tdl / TD_LEN;
    /* SPC-4 6.4.3: more target descriptors than MAXIMUM TARGET DESCRIPTOR COUNT. */
    if (ntd > XCOPY_MAX_TGT_DESC) {
        tgt_set_sense(cmd, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x06);
        return TGT_DONE;
    }
    tds = p + HDR_LEN;
    sds = tds + tdl;
    if (!check_segments(cmd, sds, sdl, &nseg, (int)(HDR_LEN + tdl)))
        return TGT_DONE;
    if (!check_target_descriptors(cmd, tds, ntd))
        return TGT_DONE;
    /* Resolve every segment before moving any data, so a bad descriptor copies nothing. */
    off = 0;
    for (unsigned i = 0; i < nseg; i++) {
        struct b2b b;

        if (!decode_b2b(cmd, sds + off, tds, ntd, &b))
            return TGT_DONE;
        blocking = blocking || b.src->ops->blocking || b.dst->ops->blocking;
        off += prt_get_be16(sds + off + 2) + 4u;
    }
    if (!lu->xcopy) {
        lu->xcopy = calloc(1, sizeof(*lu->xcopy));
        if (!lu->xcopy) {
            tgt_set_internal_error(cmd);
            return TGT_DONE;
        }
    }
    if (usage != 0x03) {
        struct xcopy_entry *busy = find_entry(lu->xcopy, tgt_cmd_itn(cmd), p[0]);

        /* SPC-4 6.4.3: a list identifier already in use by a copy in progress: OPERATION IN PROGRESS. */
        if (busy && busy->status == 0x00) {
            tgt_set_sense(cmd, TGT_SK_ILLEGAL_REQUEST, 0x00, 0x16);
            return TGT_DONE;
        }
    }
    if (lu->xcopy->in_progress >= XCOPY_MAX_CONCURRENT) {
        /* SAM-5 5.3.1: BUSY, the device server cannot take another copy now. */
        cmd->status = TGT_STATUS_BUSY;
        cmd->sense_len = 0;
        return TGT_DONE;
    }
    if (usage == 0x00) {
        /* SPC-4 6.4.3: LIST ID USAGE 00b: hold the results for RECEIVE COPY RESULTS. */
        if (!new_entry(lu->xcopy, tgt_cmd_itn(cmd), p[0])) {
            /* Every held slot belongs to a copy in progress, which the concurrency limit rules out. */
            tgt_set_internal_error(cmd);
            return TGT_DONE;
        }
    }
    lu->xcopy->in_progress++;
    cmd->nblocks = nseg;
    cmd->info = 0;
    cmd->lba = 0;
    if (blocking) {
        cmd->work.work = copy_work;
        cmd->work.done = copy_done;
        return tgt__queue_work(cmd);
    }
    run_segments(cmd, false);
    record_copy(cmd);
    copy_status(cmd);
    return TGT_DONE;
}

/* ---- RECEIVE COPY RESULTS --------------------------------------------------------------------------------- */

static size_t op_params(const struct tgt_lu *lu, uint8_t *d)
{
    /* SPC-4 6.18.4 Table 120: 44 bytes then the implemented descriptor type codes. */
    static const uint8_t implemented[] = { 0x02, 0xe4 };
    size_t len = 44 + sizeof(implemented);

    memset(d, 0, len);
    prt_put_be32(d, (uint32_t)(len - 4));           /* AVAILABLE DATA */
    d[4] = 0;                                       /* SNLID=0: a list identifier is always used */
    prt_put_be16(d + 8, XCOPY_MAX_TGT_DESC);
    prt_put_be16(d + 10, XCOPY_MAX_SEG_DESC);
    prt_put_be32(d + 12, XCOPY_MAX_DESC_LIST);
    /* MAXIMUM SEGMENT LENGTH: the most one block-to-block descriptor can describe (65535 blocks). */
    prt_put_be32(d + 16, 0xffffu << lu->bs_shift);
    prt_put_be32(d + 20, 0);                        /* MAXIMUM INLINE DATA LENGTH */
    prt_put_be32(d + 24, 0);                        /* HELD DATA LIMIT */
    prt_put_be32(d + 28, 0);                        /* MAXIMUM STREAM DEVICE TRANSFER SIZE */
    prt_put_be16(d + 34, XCOPY_MAX_CONCURRENT);     /* TOTAL CONCURRENT COPIES */
    d[36] = XCOPY_MAX_CONCURRENT;                   /* MAXIMUM CONCURRENT COPIES */
    d[37] = lu->bs_shift;                           /* DATA SEGMENT GRANULARITY (log2 bytes): whole blocks */
    d[38] = 0;                                      /* INLINE DATA GRANULARITY */
    d[39] = 0;                                      /* HELD DATA GRANULARITY */
    d[43] = sizeof(implemented);                    /* IMPLEMENTED DESCRIPTOR LIST LENGTH */
    memcpy(d + 44, implemented, sizeof(implemented));
    return len;
}

enum tgt_exec_result tgt_xcopy_receive_results(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    uint8_t sa = cmd->cdb[1] & 0x1f;
    uint32_t alloc = prt_get_be32(cmd->cdb + 10);
    uint8_t *d = cmd->buf;
    size_t len;

    if (sa == 0x03) {
        len = op_params(lu, d);
    } else {
        struct xcopy_entry *e = find_entry(lu->xcopy, tgt_cmd_itn(cmd), cmd->cdb[2]);

        /* SPC-4 6.18.2: no held results for this nexus and LIST IDENTIFIER: INVALID FIELD IN CDB. */
        if (!e) {
            tgt_set_invalid_field_cdb(cmd, 2, 7);
            return TGT_DONE;
        }
        /* SPC-4 6.18.2 Table 117: COPY STATUS parameter data, 12 bytes. */
        len = 12;
        memset(d, 0, len);
        prt_put_be32(d, 8);
        d[4] = e->status;
        prt_put_be16(d + 5, e->segments);
        if (e->bytes <= 0xffffffffu) {
            d[7] = 0x00;                             /* TRANSFER COUNT UNITS: bytes */
            prt_put_be32(d + 8, (uint32_t)e->bytes);
        } else {
            d[7] = 0x01;                             /* kibibytes */
            prt_put_be32(d + 8, (uint32_t)(e->bytes >> 10));
        }
        /* SPC-4 6.18.2: once a completed copy's status is returned it is no longer held. */
        if (e->status != 0x00)
            e->used = false;
    }
    tgt_cmd_data_in(cmd, d, len, alloc);
    return TGT_DONE;
}

size_t tgt__xcopy_vpd_8f(const struct tgt_lu *lu, uint8_t *d, size_t cap)
{
    /* SPC-4 7.8.17: third-party copy descriptors; one Supported Commands descriptor (type 0001h) listing
     * EXTENDED COPY(LID1) and RECEIVE COPY RESULTS with the service actions we implement. */
    static const uint8_t cmds[] = {
        0x83, 1, 0x00,          /* EXTENDED COPY: LID1 */
        0x84, 2, 0x00, 0x03,    /* RECEIVE COPY RESULTS: COPY STATUS, OPERATING PARAMETERS */
    };
    size_t dlen = (1 + sizeof(cmds) + 3) & ~(size_t)3; /* descriptor data, padded to a multiple of 4 */
    size_t len = 4 + 4 + dlen;

    (void)lu;
    if (cap < len)
        return 0;
    memset(d + 4, 0, len - 4);
    d[1] = 0x8f;
    prt_put_be16(d + 2, (uint16_t)(len - 4));
    prt_put_be16(d + 4, 0x0001);
    prt_put_be16(d + 6, (uint16_t)dlen);
    d[8] = sizeof(cmds);
    memcpy(d + 9, cmds, sizeof(cmds));
    return len;
}
