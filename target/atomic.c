/* WRITE ATOMIC(16) (SBC-4 5.48) and the atomic limits of the Block Limits VPD page (SBC-4 6.6.4).
 *
 * An atomic write is all-or-nothing with respect to every other command on the LU: no read sees part of it and
 * no other write interleaves with it. A mem LU runs every command on the loop thread, one at a time, so a
 * single copy into the mapping is atomic. A file LU runs I/O on worker threads that hold the LU's io_lock
 * shared; the atomic write takes it exclusive, like COMPARE AND WRITE. Neither backend promises atomicity
 * across a host crash (a file LU's pwrite may be torn by power loss); SBC-4 4.29 asks for atomicity with
 * respect to other commands and this is what is offered.
 *
 * Limits: any transfer up to MAXIMUM TRANSFER LENGTH is atomic, with no alignment or granularity constraint,
 * and no atomic boundary (ATOMIC BOUNDARY must be zero, which the command table's usage mask enforces).
 */
#include <string.h>

#include "target/tgt_internal.h"

#define AF_FUA 0x01 /* cmd->flags: flush before completing (SBC-3 4.15) */

static uint32_t max_atomic_blocks(const struct tgt_lu *lu)
{
    return TGT_MAX_XFER_BYTES >> lu->bs_shift;
}

void tgt__atomic_vpd_b0(const struct tgt_lu *lu, uint8_t *page)
{
    /* SBC-4 6.6.4 Table 220: MAXIMUM ATOMIC TRANSFER LENGTH, ATOMIC ALIGNMENT (0: any LBA), ATOMIC TRANSFER
     * LENGTH GRANULARITY (0: any length), and the boundary fields, zero because atomic boundaries are not
     * supported. The page length must be 3Ch for these bytes to be part of it. */
    prt_put_be32(page + 44, max_atomic_blocks(lu));
    prt_put_be32(page + 48, 0);
    prt_put_be32(page + 52, 0);
    prt_put_be32(page + 56, 0);
    prt_put_be32(page + 60, 0);
}

static void atomic_work(struct tgt_work *w)
{
    struct tgt_cmd *cmd = tgt__cmd_of_work(w);
    struct tgt_lu *lu = cmd->lu;
    uint64_t off = cmd->lba << lu->bs_shift;
    size_t len = (size_t)cmd->nblocks << lu->bs_shift;

    pthread_rwlock_wrlock(&lu->io_lock);
    cmd->io_err = lu->ops->write(lu, cmd->buf, off, len);
    if (cmd->io_err == 0 && (cmd->flags & AF_FUA))
        cmd->io_err = lu->ops->flush(lu);
    pthread_rwlock_unlock(&lu->io_lock);
}

static void atomic_finish(struct tgt_cmd *cmd)
{
    if (cmd->io_err < 0)
        tgt_set_medium_error(cmd, true);
    else
        tgt_set_good(cmd);
}

static void atomic_done(struct tgt_work *w)
{
    struct tgt_cmd *cmd = tgt__cmd_of_work(w);

    if (tgt__work_finished(cmd))
        return;
    atomic_finish(cmd);
    tgt_cmd_complete(cmd);
}

enum tgt_exec_result tgt_atomic_write16(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    uint64_t lba = prt_get_be64(cmd->cdb + 2);
    uint32_t n = prt_get_be16(cmd->cdb + 12);
    size_t len;

    /* SBC-4 5.48: the LBA range must lie within the capacity (LBA OUT OF RANGE), even for zero blocks. */
    if (lba > lu->nblocks || n > lu->nblocks - lba) {
        tgt_set_lba_out_of_range(cmd);
        return TGT_DONE;
    }
    /* SBC-4 5.48: a TRANSFER LENGTH above MAXIMUM ATOMIC TRANSFER LENGTH is INVALID FIELD IN CDB. */
    if (n > max_atomic_blocks(lu)) {
        tgt_set_invalid_field_cdb(cmd, 12, 7);
        return TGT_DONE;
    }
    /* SBC-4 5.48: zero blocks transfer nothing and are not an error. */
    if (n == 0) {
        tgt_set_good(cmd);
        return TGT_DONE;
    }
    len = (size_t)n << lu->bs_shift;
    cmd->dout_want = len;
    /* SAM-5 5.4.2: less Data-Out than the CDB describes leaves nothing written (see sbc.c check_dout). */
    if (cmd->dout_len < len || cmd->buf_cap < len) {
        tgt_set_invalid_field_iu(cmd);
        return TGT_DONE;
    }
    cmd->lba = lba;
    cmd->nblocks = n;
    /* SBC-3 4.15: FUA writes through to stable storage before the command completes. */
    cmd->flags = (cmd->cdb[1] & 0x08) ? AF_FUA : 0;
    if (lu->ops->blocking) {
        cmd->work.work = atomic_work;
        cmd->work.done = atomic_done;
        return tgt__queue_work(cmd);
    }
    /* A non-blocking backend runs on the loop thread, where nothing else can run in the middle of this copy. */
    cmd->io_err = lu->ops->write(lu, cmd->buf, lba << lu->bs_shift, len);
    if (cmd->io_err == 0 && (cmd->flags & AF_FUA))
        cmd->io_err = lu->ops->flush(lu);
    atomic_finish(cmd);
    return TGT_DONE;
}
