/* SBC-3 block commands: READ CAPACITY, READ, WRITE, VERIFY, WRITE AND VERIFY, ORWRITE, COMPARE AND WRITE,
 * WRITE SAME, UNMAP, GET LBA STATUS, PRE-FETCH, SYNCHRONIZE CACHE, READ DEFECT DATA.
 *
 * Handlers check the CDB fields the usage mask cannot (ranges, lengths, combinations), then describe the medium
 * operation in cmd->op/lba/nblocks/flags. A backend that never blocks (mem) runs it at once: reads point the
 * Data-In into LU memory without a copy. A blocking backend (file) runs it on the executor and finishes on the
 * loop thread. No path allocates.
 */
#include <errno.h>
#include <string.h>

#include "target/tgt_internal.h"

enum sbc_op {
    OP_NONE = 0,
    OP_READ,
    OP_WRITE,
    OP_VERIFY,       /* compare Data-Out with the medium */
    OP_FLUSH,
    OP_UNMAP,        /* UNMAP: descriptors in cmd->buf */
    OP_WRITE_SAME,
    OP_CAW,
    OP_ORWRITE,
};

/* cmd->flags bits for the medium operation. */
#define SF_FUA      0x01 /* write through to stable storage (SBC-3 4.15) */
#define SF_ONEBLOCK 0x02 /* VERIFY BYTCHK=11b: one Data-Out block compared with every block */
#define SF_UNMAP    0x04 /* WRITE SAME: deallocate instead of writing zeros */
#define SF_NDOB     0x08 /* WRITE SAME(16) NDOB: no Data-Out, the block is zeros */

static uint32_t max_xfer_blocks(const struct tgt_lu *lu)
{
    return TGT_MAX_TRANSFER_BYTES >> lu->bs_shift;
}

/* ---- medium operations (worker thread for blocking backends) --------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Compare n bytes at medium offset off with data; *diff gets the index of the first differing byte. */
static int medium_compare(struct tgt_lu *lu, uint64_t off, const uint8_t *data, size_t n, size_t *diff,
                          bool *equal)
{
    uint8_t chunk[8192];
    size_t done = 0;

    *equal = true;
    if (lu->ops->map) {
        const uint8_t *m = lu->ops->map(lu, off, n);

        for (size_t i = 0; i < n; i++) {
            if (m[i] != data[i]) {
                *equal = false;
                *diff = i;
                return 0;
            }
        }
        return 0;
    }
    while (done < n) {
        size_t k = n - done > sizeof(chunk) ? sizeof(chunk) : n - done;
        int rc = lu->ops->read(lu, chunk, off + done, k);

        if (rc < 0)
            return rc;
        for (size_t i = 0; i < k; i++) {
            if (chunk[i] != data[done + i]) {
                *equal = false;
                *diff = done + i;
                return 0;
            }
        }
        done += k;
    }
    return 0;
}

static int do_verify(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    uint64_t off = cmd->lba << lu->bs_shift;
    size_t bs = lu->block_size;
    bool eq;
    size_t diff = 0;
    int rc;

    if (cmd->flags & SF_ONEBLOCK) {
        for (uint32_t i = 0; i < cmd->nblocks; i++) {
            rc = medium_compare(lu, off + (uint64_t)i * bs, cmd->buf, bs, &diff, &eq);
            if (rc < 0)
                return rc;
            if (!eq) {
                cmd->info = (uint64_t)i * bs + diff;
                return 1;
            }
        }
        return 0;
    }
    rc = medium_compare(lu, off, cmd->buf, (size_t)cmd->nblocks << lu->bs_shift, &diff, &eq);
    if (rc < 0)
        return rc;
    if (!eq) {
        cmd->info = diff;
        return 1;
    }
    return 0;
}

static int do_write_same(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    static const uint8_t zero_block[4096];
    const uint8_t *blk = (cmd->flags & SF_NDOB) ? zero_block : cmd->buf;
    uint64_t off = cmd->lba << lu->bs_shift;
    size_t bs = lu->block_size;

    /* SBC-3 5.42: with UNMAP=1 the device server may deallocate the blocks when reading them back gives the
     * same data; LBPRZ=1 makes that true exactly when the block is all zeros. */
    if ((cmd->flags & SF_UNMAP) && all_zero(blk, bs) && lu->ops->unmap)
        return lu->ops->unmap(lu, off, (uint64_t)cmd->nblocks << lu->bs_shift);
    /* With UNMAP=0 the blocks must end up mapped and zero; a backend that knows which blocks already read as
     * zero maps those without writing them (a zero count can name the whole medium). */
    if (lu->ops->zero && all_zero(blk, bs))
        return lu->ops->zero(lu, off, (uint64_t)cmd->nblocks << lu->bs_shift);
    for (uint32_t i = 0; i < cmd->nblocks; i++) {
        int rc = lu->ops->write(lu, blk, off + (uint64_t)i * bs, bs);

        if (rc < 0)
            return rc;
    }
    return 0;
}

static int do_orwrite(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    uint8_t chunk[8192];
    uint64_t off = cmd->lba << lu->bs_shift;
    size_t n = (size_t)cmd->nblocks << lu->bs_shift;

    /* SBC-3 5.12: ORWRITE with BMOP 000b ORs the Data-Out into the medium. */
    for (size_t done = 0; done < n;) {
        size_t k = n - done > sizeof(chunk) ? sizeof(chunk) : n - done;
        int rc = lu->ops->read(lu, chunk, off + done, k);

        if (rc < 0)
            return rc;
        for (size_t i = 0; i < k; i++)
            chunk[i] |= cmd->buf[done + i];
        rc = lu->ops->write(lu, chunk, off + done, k);
        if (rc < 0)
            return rc;
        done += k;
    }
    return 0;
}

static int do_unmap(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    const uint8_t *d = cmd->buf + 8;

    /* Descriptors were validated on the loop thread; cmd->nblocks holds their number. */
    for (uint32_t i = 0; i < cmd->nblocks; i++, d += 16) {
        uint64_t lba = prt_get_be64(d);
        uint32_t cnt = prt_get_be32(d + 8);
        int rc;

        if (!cnt)
            continue;
        rc = lu->ops->unmap(lu, lba << lu->bs_shift, (uint64_t)cnt << lu->bs_shift);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Runs the medium operation; 0, 1 (miscompare, cmd->info set) or -errno. */
static int do_io(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    uint64_t off = cmd->lba << lu->bs_shift;
    size_t len = (size_t)cmd->nblocks << lu->bs_shift;
    int rc = 0;

    switch ((enum sbc_op)cmd->op) {
    case OP_READ:
        if (lu->ops->map) {
            cmd->din[0].base = lu->ops->map(lu, off, len);
            cmd->din[0].len = len;
        } else {
            if (len > cmd->buf_cap)
                len = cmd->buf_cap; /* the transport never sends more than exp_len <= buf_cap */
            rc = lu->ops->read(lu, cmd->buf, off, len);
            cmd->din[0].base = cmd->buf;
            cmd->din[0].len = len;
        }
        break;
    case OP_WRITE:
        /* A short Data-Out (EDTL below the transfer length) writes what arrived and nothing beyond it. */
        if (len > cmd->dout_len)
            len = cmd->dout_len;
        rc = len ? lu->ops->write(lu, cmd->buf, off, len) : 0;
        if (rc == 0 && (cmd->flags & SF_FUA))
            rc = lu->ops->flush(lu);
        break;
    case OP_VERIFY:
        rc = do_verify(cmd);
        break;
    case OP_FLUSH:
        rc = lu->ops->flush(lu);
        break;
    case OP_UNMAP:
        rc = do_unmap(cmd);
        break;
    case OP_WRITE_SAME:
        rc = do_write_same(cmd);
        break;
    case OP_CAW:
        /* SBC-3 5.3: compare the first half of the Data-Out, write the second half only if all of it matched. */
        rc = do_verify(cmd);
        if (rc == 0)
            rc = lu->ops->write(lu, cmd->buf + len, off, len);
        if (rc == 0 && (cmd->flags & SF_FUA))
            rc = lu->ops->flush(lu);
        break;
    case OP_ORWRITE:
        rc = do_orwrite(cmd);
        break;
    case OP_NONE:
        break;
    }
    return rc;
}

static void io_work(struct tgt_work *w)
{
    struct tgt_cmd *cmd = tgt__cmd_of_work(w);
    struct tgt_lu *lu = cmd->lu;
    /* COMPARE AND WRITE and ORWRITE read, decide and write: nothing else may touch the LU meanwhile. */
    bool excl = cmd->op == OP_CAW || cmd->op == OP_ORWRITE;

    if (excl)
        pthread_rwlock_wrlock(&lu->io_lock);
    else
        pthread_rwlock_rdlock(&lu->io_lock);
    cmd->io_err = do_io(cmd);
    pthread_rwlock_unlock(&lu->io_lock);
}

static void io_finish(struct tgt_cmd *cmd)
{
    int rc = cmd->io_err;

    if (rc == 1) {
        tgt_set_miscompare(cmd, cmd->info);
        return;
    }
    if (rc < 0) {
        bool wr = cmd->op != OP_READ && cmd->op != OP_VERIFY;

        tgt_set_medium_error(cmd, wr);
        return;
    }
    tgt_set_good(cmd);
    if (cmd->op == OP_READ) {
        cmd->din_cnt = cmd->din[0].len ? 1 : 0;
        cmd->din_len = cmd->din[0].len;
    }
}

static void io_done(struct tgt_work *w)
{
    struct tgt_cmd *cmd = tgt__cmd_of_work(w);

    if (tgt__work_finished(cmd))
        return;
    io_finish(cmd);
    tgt_cmd_complete(cmd);
}

static enum tgt_exec_result run_io(struct tgt_cmd *cmd, enum sbc_op op)
{
    cmd->op = (uint8_t)op;
    if (cmd->lu->ops->blocking) {
        cmd->work.work = io_work;
        cmd->work.done = io_done;
        return tgt__queue_work(cmd);
    }
    cmd->io_err = do_io(cmd);
    io_finish(cmd);
    return TGT_DONE;
}

/* ---- CDB decoding --------------------------------------------------------------------------------------- */

/* LBA and length fields of the block commands (READ/WRITE/VERIFY, WRITE SAME, PRE-FETCH, SYNCHRONIZE CACHE share
 * one layout per CDB size); len_byte gets the length field's first byte. */
static void decode_lba_len(const uint8_t *cdb, uint64_t *lba, uint32_t *n, int *len_byte)
{
    switch (cdb[0] >> 5) {
    case 0: /* 6-byte CDB (SBC-3 5.12, 5.34): 21-bit LBA; TRANSFER LENGTH 0 means 256 blocks. */
        *lba = prt_get_be24(cdb + 1) & 0x1fffff;
        *n = cdb[4] ? cdb[4] : 256;
        *len_byte = 4;
        break;
    case 1:
    case 2: /* 10-byte CDB */
        *lba = prt_get_be32(cdb + 2);
        *n = prt_get_be16(cdb + 7);
        *len_byte = 7;
        break;
    case 5: /* 12-byte CDB */
        *lba = prt_get_be32(cdb + 2);
        *n = prt_get_be32(cdb + 6);
        *len_byte = 6;
        break;
    default: /* 16-byte CDB */
        *lba = prt_get_be64(cdb + 2);
        *n = prt_get_be32(cdb + 10);
        *len_byte = 10;
        break;
    }
}

/* SBC-3 4.5: the LBA plus the number of blocks must stay within the capacity (LBA OUT OF RANGE). */
static bool range_ok(const struct tgt_lu *lu, uint64_t lba, uint64_t n)
{
    return lba <= lu->nblocks && n <= lu->nblocks - lba;
}

/* Decode and check LBA and length; false when sense is set. */
static bool check_lba_len(struct tgt_cmd *cmd, bool limit_xfer)
{
    uint64_t lba;
    uint32_t n;
    int len_byte;

    decode_lba_len(cmd->cdb, &lba, &n, &len_byte);
    if (!range_ok(cmd->lu, lba, n)) {
        tgt_set_lba_out_of_range(cmd);
        return false;
    }
    /* SBC-3 6.5.3: a transfer longer than MAXIMUM TRANSFER LENGTH is INVALID FIELD IN CDB. */
    if (limit_xfer && n > max_xfer_blocks(cmd->lu)) {
        tgt_set_invalid_field_cdb(cmd, len_byte, 7);
        return false;
    }
    cmd->lba = lba;
    cmd->nblocks = n;
    return true;
}

/* The Data-Out must hold what the CDB describes. When the initiator sent less (iSCSI EDTL below the SCSI
 * transfer length), nothing is written: FCP-4 9.4.2 / SAM-5 5.4.2 allow terminating the command with ILLEGAL
 * REQUEST, INVALID FIELD IN COMMAND INFORMATION UNIT, and the transport reports the overflow residual. */
static bool check_dout(struct tgt_cmd *cmd, size_t need)
{
    cmd->dout_want = need;
    if (cmd->dout_len < need || cmd->buf_cap < need) {
        tgt_set_invalid_field_iu(cmd);
        return false;
    }
    return true;
}

/* WRITE and WRITE AND VERIFY: when the initiator sends less than the CDB describes (iSCSI EDTL below the SCSI
 * transfer length), the command is processed except that data beyond EDTL is neither requested nor written
 * (FCP-4 9.4.2 a), which RFC 7143 11.4.5.2 mirrors with the overflow residual the transport reports from
 * dout_want. */
static bool accept_short_dout(struct tgt_cmd *cmd, size_t need)
{
    cmd->dout_want = need;
    if (cmd->dout_len > cmd->buf_cap) {
        tgt_set_invalid_field_iu(cmd);
        return false;
    }
    return true;
}

/* COMPARE AND WRITE and WRITE SAME define their Data-Out exactly (SBC-3 5.3, 5.42): a Data-Out of any other
 * size means the initiator and the CDB disagree about the command, so it is refused before the medium is
 * touched, with the same sense as a short transfer. */
static bool check_dout_exact(struct tgt_cmd *cmd, size_t need)
{
    if (!check_dout(cmd, need))
        return false;
    if (cmd->exp_len != need) {
        tgt_set_invalid_field_iu(cmd);
        return false;
    }
    return true;
}

/* ---- handlers --------------------------------------------------------------------------------------------- */

enum tgt_exec_result tgt_sbc_read_capacity10(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    uint8_t *d = cmd->buf;
    uint64_t last = lu->nblocks - 1;

    /* SBC-2 5.10 (kept by SBC-3 as obsolete): with PMI=0 the LOGICAL BLOCK ADDRESS must be zero. */
    if (!(cmd->cdb[8] & 0x01) && prt_get_be32(cmd->cdb + 2) != 0) {
        tgt_set_invalid_field_cdb(cmd, 2, 7);
        return TGT_DONE;
    }
    memset(d, 0, 8);
    /* SBC-3 5.15: a capacity beyond 32 bits reports FFFFFFFFh so the initiator switches to READ CAPACITY(16). */
    prt_put_be32(d, last > 0xffffffffull ? 0xffffffffu : (uint32_t)last);
    prt_put_be32(d + 4, lu->block_size);
    tgt_cmd_data_in(cmd, d, 8, 8);
    return TGT_DONE;
}

enum tgt_exec_result tgt_sbc_read_capacity16(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    uint8_t *d = cmd->buf;
    uint32_t alloc = prt_get_be32(cmd->cdb + 10);

    memset(d, 0, 32);
    prt_put_be64(d, lu->nblocks - 1);
    prt_put_be32(d + 8, lu->block_size);
    /* SBC-3 5.16 Table 65: LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT: 512-byte blocks sit in 4 KiB pages. */
    d[13] = lu->block_size == 512 ? 3 : 0;
    /* SBC-3 4.7: LBPME=1 because UNMAP and WRITE SAME with UNMAP deallocate; LBPRZ=1 because deallocated
     * blocks read as zeros. */
    if (lu->thin)
        d[14] = 0x80 | 0x40;
    tgt_cmd_data_in(cmd, d, 32, alloc);
    return TGT_DONE;
}

enum tgt_exec_result tgt_sbc_read(struct tgt_cmd *cmd)
{
    if (!check_lba_len(cmd, true))
        return TGT_DONE;
    /* SBC-3 5.11: a TRANSFER LENGTH of zero transfers nothing and is not an error. */
    if (cmd->nblocks == 0)
        return TGT_DONE;
    cmd->flags = 0;
    return run_io(cmd, OP_READ);
}

enum tgt_exec_result tgt_sbc_write(struct tgt_cmd *cmd)
{
    if (!check_lba_len(cmd, true))
        return TGT_DONE;
    if (cmd->nblocks == 0)
        return TGT_DONE;
    if (!accept_short_dout(cmd, (size_t)cmd->nblocks << cmd->lu->bs_shift))
        return TGT_DONE;
    /* SBC-3 4.15: FUA=1, or a disabled write cache (WCE=0), means the data is on stable storage before GOOD. */
    cmd->flags = ((cmd->cdb[0] != 0x0a && (cmd->cdb[1] & 0x08)) || !cmd->lu->mode.wce) ? SF_FUA : 0;
    return run_io(cmd, OP_WRITE);
}

enum tgt_exec_result tgt_sbc_verify(struct tgt_cmd *cmd)
{
    uint8_t bytchk = (cmd->cdb[1] >> 1) & 0x03;

    /* SBC-3 5.34 Table 95: BYTCHK 10b is reserved. */
    if (bytchk == 2) {
        tgt_set_invalid_field_cdb(cmd, 1, 2);
        return TGT_DONE;
    }
    if (!check_lba_len(cmd, true))
        return TGT_DONE;
    if (cmd->nblocks == 0)
        return TGT_DONE;
    /* BYTCHK 00b: only check that the medium can be read; a memory or file medium always can. */
    if (bytchk == 0)
        return TGT_DONE;
    cmd->flags = bytchk == 3 ? SF_ONEBLOCK : 0;
    if (!check_dout(cmd, bytchk == 3 ? cmd->lu->block_size : (size_t)cmd->nblocks << cmd->lu->bs_shift))
        return TGT_DONE;
    return run_io(cmd, OP_VERIFY);
}

enum tgt_exec_result tgt_sbc_write_verify(struct tgt_cmd *cmd)
{
    uint8_t bytchk = (cmd->cdb[1] >> 1) & 0x03;

    /* SBC-3 5.40: WRITE AND VERIFY defines BYTCHK 00b and 01b only. */
    if (bytchk > 1) {
        tgt_set_invalid_field_cdb(cmd, 1, 2);
        return TGT_DONE;
    }
    if (!check_lba_len(cmd, true))
        return TGT_DONE;
    if (cmd->nblocks == 0)
        return TGT_DONE;
    if (!accept_short_dout(cmd, (size_t)cmd->nblocks << cmd->lu->bs_shift))
        return TGT_DONE;
    /* The verify step must read back what reached the medium, so the write goes through to stable storage;
     * comparing the Data-Out with itself afterwards cannot fail. */
    cmd->flags = SF_FUA;
    return run_io(cmd, OP_WRITE);
}

enum tgt_exec_result tgt_sbc_orwrite(struct tgt_cmd *cmd)
{
    if (!check_lba_len(cmd, true))
        return TGT_DONE;
    if (cmd->nblocks == 0)
        return TGT_DONE;
    if (!check_dout(cmd, (size_t)cmd->nblocks << cmd->lu->bs_shift))
        return TGT_DONE;
    cmd->flags = 0;
    return run_io(cmd, OP_ORWRITE);
}

enum tgt_exec_result tgt_sbc_compare_and_write(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    uint64_t lba = prt_get_be64(cmd->cdb + 2);
    uint32_t n = cmd->cdb[13];

    /* SBC-3 5.3: NUMBER OF LOGICAL BLOCKS above MAXIMUM COMPARE AND WRITE LENGTH is INVALID FIELD IN CDB. */
    if (n > TGT_MAX_CAW_BLOCKS || ((uint64_t)n << lu->bs_shift) * 2 > TGT_MAX_TRANSFER_BYTES) {
        tgt_set_invalid_field_cdb(cmd, 13, 7);
        return TGT_DONE;
    }
    if (!range_ok(lu, lba, n)) {
        tgt_set_lba_out_of_range(cmd);
        return TGT_DONE;
    }
    /* SBC-3 5.3: zero blocks is not an error and transfers nothing. A Data-Out with it means the initiator
     * wanted a count the 8-bit field cannot hold (256 blocks wraps to 0): that CDB field is invalid. */
    if (n == 0) {
        if (cmd->exp_len != 0)
            tgt_set_invalid_field_cdb(cmd, 13, 7);
        return TGT_DONE;
    }
    cmd->lba = lba;
    cmd->nblocks = n;
    if (!check_dout_exact(cmd, ((size_t)n << lu->bs_shift) * 2))
        return TGT_DONE;
    cmd->flags = ((cmd->cdb[1] & 0x08) || !lu->mode.wce) ? SF_FUA : 0;
    return run_io(cmd, OP_CAW);
}

enum tgt_exec_result tgt_sbc_sync_cache(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    uint64_t lba;
    uint32_t n;
    int len_byte;

    decode_lba_len(cmd->cdb, &lba, &n, &len_byte);
    /* SBC-3 5.22: NUMBER OF LOGICAL BLOCKS zero means through the last LBA; the range is still checked. */
    if (!range_ok(lu, lba, n)) {
        tgt_set_lba_out_of_range(cmd);
        return TGT_DONE;
    }
    cmd->lba = lba;
    cmd->nblocks = n;
    cmd->flags = 0;
    return run_io(cmd, OP_FLUSH);
}

enum tgt_exec_result tgt_sbc_prefetch(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    uint64_t lba;
    uint32_t n;
    int len_byte;

    decode_lba_len(cmd->cdb, &lba, &n, &len_byte);
    if (!range_ok(lu, lba, n)) {
        tgt_set_lba_out_of_range(cmd);
        return TGT_DONE;
    }
    /* SBC-3 6.5.3: a PREFETCH LENGTH above MAXIMUM PREFETCH LENGTH (VPD B0h) is INVALID FIELD IN CDB. */
    if (n > max_xfer_blocks(lu)) {
        tgt_set_invalid_field_cdb(cmd, len_byte, 7);
        return TGT_DONE;
    }
    /* SBC-3 5.9: GOOD (rather than CONDITION MET) says the blocks were not all placed in a cache; a memory LU
     * has no cache to place them in. */
    return TGT_DONE;
}

enum tgt_exec_result tgt_sbc_write_same(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    bool ws16 = cmd->cdb[0] == 0x93;
    uint64_t lba;
    uint32_t n;
    int len_byte;

    decode_lba_len(cmd->cdb, &lba, &n, &len_byte);
    /* SBC-3 5.42: ANCHOR=1 needs ANC_SUP=1 in VPD B2h, which we do not claim. */
    if (cmd->cdb[1] & 0x10) {
        tgt_set_invalid_field_cdb(cmd, 1, 4);
        return TGT_DONE;
    }
    if (!range_ok(lu, lba, n)) {
        tgt_set_lba_out_of_range(cmd);
        return TGT_DONE;
    }
    if (n == 0) {
        /* SBC-3 5.42/5.43: with WSNZ=0 (VPD B0h) a NUMBER OF LOGICAL BLOCKS of zero names every block from the
         * LBA to the last one, so the LBA itself must address a block. */
        if (lba >= lu->nblocks) {
            tgt_set_lba_out_of_range(cmd);
            return TGT_DONE;
        }
        n = lu->nblocks - lba > TGT_MAX_WS_BLOCKS ? TGT_MAX_WS_BLOCKS + 1 : (uint32_t)(lu->nblocks - lba);
    }
    /* SBC-3 5.42/5.43: more blocks than MAXIMUM WRITE SAME LENGTH (VPD B0h), whether counted in the CDB or
     * implied by a zero count, is INVALID FIELD IN CDB. */
    if (n > TGT_MAX_WS_BLOCKS) {
        tgt_set_invalid_field_cdb(cmd, len_byte, 7);
        return TGT_DONE;
    }
    cmd->lba = lba;
    cmd->nblocks = n;
    cmd->flags = (cmd->cdb[1] & 0x08) ? SF_UNMAP : 0;
    if (ws16 && (cmd->cdb[1] & 0x01))
        cmd->flags |= SF_NDOB;
    else if (!check_dout_exact(cmd, lu->block_size))
        return TGT_DONE;
    return run_io(cmd, OP_WRITE_SAME);
}

enum tgt_exec_result tgt_sbc_unmap(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    size_t plen = prt_get_be16(cmd->cdb + 7);
    size_t have, bdlen, ndesc;
    const uint8_t *d;

    /* SBC-3 5.28: ANCHOR=1 needs ANC_SUP=1, which we do not claim. */
    if (cmd->cdb[1] & 0x01) {
        tgt_set_invalid_field_cdb(cmd, 1, 0);
        return TGT_DONE;
    }
    cmd->dout_want = plen;
    /* SBC-3 5.28: a PARAMETER LIST LENGTH of zero is not an error and unmaps nothing. */
    if (plen == 0)
        return TGT_DONE;
    /* SBC-3 5.28: a parameter list shorter than its 8-byte header is a PARAMETER LIST LENGTH ERROR. */
    if (plen < 8) {
        tgt_set_param_list_length_error(cmd);
        return TGT_DONE;
    }
    have = cmd->dout_len < plen ? cmd->dout_len : plen;
    if (have < 8) {
        tgt_set_invalid_field_iu(cmd);
        return TGT_DONE;
    }
    bdlen = prt_get_be16(cmd->buf + 2);
    /* SBC-3 5.28.2: a BLOCK DESCRIPTOR DATA LENGTH that is not a multiple of 16 leaves a partial descriptor;
     * only whole descriptors within the parameter list are processed. */
    if (bdlen > have - 8)
        bdlen = have - 8;
    ndesc = bdlen / 16;
    if (ndesc > TGT_MAX_UNMAP_DESCS) {
        tgt_set_invalid_field_param(cmd, 2, 7);
        return TGT_DONE;
    }
    d = cmd->buf + 8;
    /* SBC-3 5.28.2: every descriptor is checked before any block is unmapped. */
    for (size_t i = 0; i < ndesc; i++, d += 16) {
        uint64_t lba = prt_get_be64(d);
        uint32_t cnt = prt_get_be32(d + 8);

        if (!range_ok(lu, lba, cnt)) {
            tgt_set_lba_out_of_range(cmd);
            return TGT_DONE;
        }
        if (cnt > TGT_MAX_UNMAP_BLOCKS) {
            tgt_set_invalid_field_param(cmd, (int)(8 + i * 16 + 8), 7);
            return TGT_DONE;
        }
    }
    if (ndesc == 0)
        return TGT_DONE;
    cmd->lba = 0;
    cmd->nblocks = (uint32_t)ndesc;
    cmd->flags = 0;
    return run_io(cmd, OP_UNMAP);
}

enum tgt_exec_result tgt_sbc_get_lba_status(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    uint64_t lba = prt_get_be64(cmd->cdb + 2);
    uint32_t alloc = prt_get_be32(cmd->cdb + 10);
    uint8_t *d = cmd->buf;
    size_t max_desc, n = 0;
    size_t cap = cmd->buf_cap < TGT_CMD_MIN_BUF ? cmd->buf_cap : TGT_CMD_MIN_BUF;

    /* SBC-3 5.7: a STARTING LOGICAL BLOCK ADDRESS beyond the last LBA is LBA OUT OF RANGE. */
    if (lba >= lu->nblocks) {
        tgt_set_lba_out_of_range(cmd);
        return TGT_DONE;
    }
    max_desc = (cap - 8) / 16;
    if (alloc >= 24 && (alloc - 8) / 16 < max_desc)
        max_desc = (alloc - 8) / 16;
    if (max_desc == 0)
        max_desc = 1;
    memset(d, 0, 8);
    while (lba < lu->nblocks && n < max_desc) {
        uint8_t *e = d + 8 + n * 16;
        bool mapped = true;
        uint64_t run = lu->size - (lba << lu->bs_shift);
        uint64_t blocks;

        if (lu->ops->lba_status && lu->ops->lba_status(lu, lba << lu->bs_shift, &mapped, &run) < 0) {
            mapped = true;
            run = lu->size - (lba << lu->bs_shift);
        }
        blocks = run >> lu->bs_shift;
        if (blocks == 0)
            blocks = 1;
        if (blocks > lu->nblocks - lba)
            blocks = lu->nblocks - lba;
        if (blocks > 0xffffffffu)
            blocks = 0xffffffffu;
        memset(e, 0, 16);
        prt_put_be64(e, lba);
        prt_put_be32(e + 8, (uint32_t)blocks);
        /* SBC-3 Table 29: PROVISIONING STATUS 0h mapped, 1h deallocated. */
        e[12] = mapped ? 0 : 1;
        lba += blocks;
        n++;
    }
    /* SBC-3 5.7.2: PARAMETER DATA LENGTH counts the bytes after itself. */
    prt_put_be32(d, (uint32_t)(4 + n * 16));
    tgt_cmd_data_in(cmd, d, 8 + n * 16, alloc);
    return TGT_DONE;
}

enum tgt_exec_result tgt_sbc_read_defect_data(struct tgt_cmd *cmd)
{
    uint8_t *d = cmd->buf;

    /* SBC-3 5.18/5.19: a memory or file medium has no defects; report empty lists in the requested format,
     * with PLISTV/GLISTV echoing what was asked for. */
    if (cmd->cdb[0] == 0x37) {
        memset(d, 0, 4);
        d[1] = cmd->cdb[2] & 0x1f;
        tgt_cmd_data_in(cmd, d, 4, prt_get_be16(cmd->cdb + 7));
    } else {
        memset(d, 0, 8);
        d[1] = cmd->cdb[1] & 0x1f;
        tgt_cmd_data_in(cmd, d, 8, prt_get_be32(cmd->cdb + 6));
    }
    return TGT_DONE;
}
