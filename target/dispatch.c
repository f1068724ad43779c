/* Command dispatch: every SCSI command enters the device server here.
 *
 * Order of checks (SAM-5 5.14, SPC-4 5.13.1): LU lookup, command table row, CDB usage mask (reserved and
 * unsupported bits, including NACA in the CONTROL byte), pending unit attention, reservation access check,
 * write protection, and only then the handler. Nothing here allocates: a command lives in the transport's
 * struct tgt_cmd and joins its LU's task set through the embedded ts_prev/ts_next links.
 */
#include <stddef.h>
#include <string.h>

#include "target/tgt_internal.h"

uint32_t tgt_cmd_itn(const struct tgt_cmd *cmd)
{
    return cmd->nexus ? cmd->nexus->itn : PR_ITN_NONE;
}

uint16_t tgt_cmd_rtpi(const struct tgt_cmd *cmd)
{
    return cmd->nexus ? cmd->nexus->rtpi : 0;
}

static void task_set_add(struct tgt_lu *lu, struct tgt_cmd *cmd)
{
    cmd->ts_next = NULL;
    cmd->ts_prev = lu->ts_tail;
    if (lu->ts_tail)
        lu->ts_tail->ts_next = cmd;
    else
        lu->ts_head = cmd;
    lu->ts_tail = cmd;
    cmd->cflags |= TGT__CF_IN_TASK_SET;
}

void tgt__task_set_remove(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;

    if (!(cmd->cflags & TGT__CF_IN_TASK_SET) || !lu)
        return;
    if (cmd->ts_prev)
        cmd->ts_prev->ts_next = cmd->ts_next;
    else
        lu->ts_head = cmd->ts_next;
    if (cmd->ts_next)
        cmd->ts_next->ts_prev = cmd->ts_prev;
    else
        lu->ts_tail = cmd->ts_prev;
    cmd->ts_prev = cmd->ts_next = NULL;
    cmd->cflags &= (uint16_t)~TGT__CF_IN_TASK_SET;
}

void tgt_cmd_complete(struct tgt_cmd *cmd)
{
    if (cmd->cflags & TGT__CF_COMPLETED)
        return;
    tgt__task_set_remove(cmd);
    if ((cmd->cflags & TGT__CF_COUNTED) && cmd->nexus && cmd->nexus->in_flight)
        cmd->nexus->in_flight--;
    cmd->cflags |= TGT__CF_COMPLETED;
    cmd->done(cmd);
}

void tgt__task_abort(struct tgt_cmd *cmd, bool tas)
{
    tgt__task_set_remove(cmd);
    cmd->aborted = true;
    /* SAM-5 5.6 / SPC-4 7.5.8: with TAS=1 a task aborted on behalf of another I_T nexus completes with TASK
     * ABORTED; otherwise it is terminated without a response. */
    if (tas)
        tgt_set_task_aborted(cmd);
    /* A command whose blocking work is still running completes when that work comes back (see
     * tgt__work_finished); its data must not be released under the worker's feet. */
    if (!(cmd->cflags & TGT__CF_IN_WORKER))
        tgt_cmd_complete(cmd);
}

void tgt_lu_abort_nexus_tasks(struct tgt_lu *lu, uint32_t itn, const struct tgt_cmd *except)
{
    struct tgt_cmd *c = lu->ts_head;

    while (c) {
        struct tgt_cmd *next = c->ts_next;

        if (c != except && tgt_cmd_itn(c) == itn)
            tgt__task_abort(c, lu->mode.tas);
        c = next;
    }
    /* SPC-4 5.13.11.2.5: the preempted nexus's writes still waiting for Data-Out are aborted as well; the PR OUT
     * itself is in the target, never among them. */
    tgt__abort_held(lu->srv, itn, lu->lun, lu->mode.tas && (!except || tgt_cmd_itn(except) != itn));
}

void tgt_server_set_held_abort(struct tgt_server *srv, unsigned (*fn)(void *ctx, uint32_t itn, uint64_t lun, bool tas),
                               void *ctx)
{
    srv->held_abort = fn;
    srv->held_ctx = fn ? ctx : NULL;
}

unsigned tgt__abort_held(struct tgt_server *srv, uint32_t itn, uint64_t lun, bool tas)
{
    if (!srv->held_abort || itn == PR_ITN_NONE)
        return 0;
    return srv->held_abort(srv->held_ctx, itn, lun, tas);
}

struct tgt_cmd *tgt__cmd_of_work(struct tgt_work *w)
{
    return (struct tgt_cmd *)(void *)((char *)w - offsetof(struct tgt_cmd, work));
}

enum tgt_exec_result tgt__queue_work(struct tgt_cmd *cmd)
{
    struct tgt_server *srv = cmd->lu->srv;

    cmd->cflags |= TGT__CF_IN_WORKER;
    if (srv->exec.queue) {
        int rc = srv->exec.queue(srv->exec.ctx, &cmd->work);

        if (rc == 0)
            return TGT_ASYNC;
        cmd->cflags &= (uint16_t)~TGT__CF_IN_WORKER;
        tgt_set_internal_error(cmd);
        return TGT_DONE;
    }
    /* No executor (unit tests, or a backend that never blocks): run both halves here. work.done completes the
     * command, so the handler's caller must not. */
    cmd->work.work(&cmd->work);
    cmd->work.done(&cmd->work);
    return TGT_ASYNC;
}

/* The first bit of the CDB that the row does not allow, as (byte, bit); false when the CDB is clean. */
static bool stray_bit(const struct tgt_cmd_row *row, const uint8_t *cdb, int *byte, int *bit)
{
    for (int i = 1; i < row->cdb_len; i++) {
        uint8_t stray = cdb[i] & (uint8_t)~row->usage[i];

        if (stray) {
            int b = 7;

            while (!(stray & (1u << b)))
                b--;
            *byte = i;
            *bit = b;
            return true;
        }
    }
    return false;
}

void tgt_cmd_submit(struct tgt_server *srv, struct tgt_cmd *cmd)
{
    const struct tgt_cmd_row *row;
    struct tgt_lu *lu;
    uint16_t sa;
    bool has_sa, known = false;
    int byte, bit;
    uint32_t itn;

    cmd->status = TGT_STATUS_GOOD;
    cmd->sense_len = 0;
    cmd->din_cnt = 0;
    cmd->din_len = 0;
    cmd->aborted = false;
    cmd->dout_want = 0;
    cmd->row = NULL;
    cmd->ts_prev = cmd->ts_next = NULL;
    cmd->io_err = 0;
    cmd->info = 0;
    cmd->cflags = 0;
    cmd->op = 0;
    if (cmd->nexus) {
        cmd->nexus->in_flight++;
        cmd->cflags |= TGT__CF_COUNTED;
    }
    itn = tgt_cmd_itn(cmd);

    lu = tgt_server_lu(srv, cmd->lun);
    cmd->lu = lu;
    has_sa = tgt__cdb_sa(cmd->cdb, &sa);
    row = tgt_cmd_table_lookup(cmd->cdb[0], sa, &known);

    /* SPC-4 4.6.20 / SAM-5 5.9.5: commands to a LUN with no LU behind it fail with LOGICAL UNIT NOT SUPPORTED,
     * except INQUIRY, REPORT LUNS and REQUEST SENSE which answer for the target. */
    if (!lu && !(row && (row->flags & TGT_F_NO_LU))) {
        tgt_set_lun_not_supported(cmd);
        goto done;
    }
    if (!row) {
        /* SPC-4 4.2.5.1: an unsupported operation code is INVALID COMMAND OPERATION CODE; an unsupported
         * service action of a supported code is INVALID FIELD IN CDB pointing at the SERVICE ACTION field. */
        if (known && has_sa) {
            if (cmd->cdb[0] == 0x7f)
                tgt_set_invalid_field_cdb(cmd, 8, 7);
            else
                tgt_set_invalid_field_cdb(cmd, 1, 4);
        } else {
            tgt_set_invalid_opcode(cmd);
        }
        goto done;
    }
    cmd->row = row;
    if (row->cdb_len > cmd->cdb_len || row->cdb_len > TGT_CDB_MAX) {
        tgt_set_invalid_field_cdb(cmd, cmd->cdb_len ? cmd->cdb_len - 1 : 0, -1);
        goto done;
    }
    /* SPC-4 4.2.5.1 / SAM-5 5.2: a set reserved bit or an unsupported field value is INVALID FIELD IN CDB with
     * the field pointer on the offending bit; NACA=1 is rejected the same way because ACA is not supported
     * (SAM-5 5.11.1). */
    if (stray_bit(row, cmd->cdb, &byte, &bit)) {
        tgt_set_invalid_field_cdb(cmd, byte, bit);
        goto done;
    }
    if (lu) {
        uint8_t asc, ascq;

        /* SAM-5 5.14: a pending unit attention is reported (and cleared) instead of running the command,
         * except for INQUIRY, REPORT LUNS and REQUEST SENSE. */
        if (!(row->flags & TGT_F_SKIP_UA) && itn != PR_ITN_NONE && tgt__ua_pop(lu, itn, &asc, &ascq)) {
            tgt_set_unit_attention(cmd, asc, ascq);
            goto done;
        }
        /* SPC-4 5.16.2.4 (ALUA state of the port), SBC-3 4.11.2 (sanitize in progress) and SPC-4 6.47
         * (medium not present): the LU cannot run the command now (alua.c, sanitize.c, media.c). */
        if (tgt__alua_gate(cmd, row) || tgt__sanitize_gate(cmd, row) || tgt__media_gate(cmd, row))
            goto done;
        /* SPC-4 5.13.1: the reservation decides before the command touches anything. */
        if (lu->pr) {
            enum pr_status st = pr_check_access(lu->pr, itn, tgt__row_pr_access(row, cmd->cdb));

            if (st != PR_OK) {
                /* PR_CONFLICT, or PR_RESERVATION_LOST (SPC-5 5.14.11); pr_cmd.c owns the mapping. */
                tgt_pr_status_to_sense(cmd, st, -1, -1);
                goto done;
            }
        }
        /* SBC-3 4.9 / SPC-4 7.5.8 (SWP): a write-protected LU refuses commands that write the medium. */
        if ((row->flags & TGT_F_MEDIUM_WR) && (lu->read_only || lu->mode.swp)) {
            tgt_set_write_protected(cmd);
            goto done;
        }
        task_set_add(lu, cmd);
    }
    if (tgt__fault_intercept(cmd)) /* operator-injected faults (fault.c) */
        return;
    if (row->fn(cmd) == TGT_ASYNC)
        return;
done:
    tgt_cmd_complete(cmd);
}

bool tgt__work_finished(struct tgt_cmd *cmd)
{
    cmd->cflags &= (uint16_t)~TGT__CF_IN_WORKER;
    if (cmd->aborted) {
        tgt_cmd_complete(cmd);
        return true;
    }
    return false;
}
