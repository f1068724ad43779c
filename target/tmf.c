/* Task management functions (SAM-5 7, RFC 7143 11.5).
 *
 * Tasks live in their LU's task set. Terminating one marks it aborted and completes it (or, when its blocking
 * work is still on a worker thread, lets it complete when that work returns). Tasks of the requesting I_T
 * nexus end silently; tasks of other nexuses end with TASK ABORTED when the control mode page says TAS=1
 * (SAM-5 5.6, SPC-4 7.5.8), otherwise silently with COMMANDS CLEARED BY ANOTHER INITIATOR queued for them.
 */
#include "target/tgt_internal.h"

/* Terminate every task of lu (of nexus only_itn, or of all nexuses when only_itn is PR_ITN_NONE). */
static void abort_tasks(struct tgt_lu *lu, uint32_t requester, uint32_t only_itn, bool ua_if_no_tas)
{
    struct tgt_server *srv = lu->srv;
    struct tgt_cmd *c = lu->ts_head;

    while (c) {
        struct tgt_cmd *next = c->ts_next;
        uint32_t itn = tgt_cmd_itn(c);

        if (only_itn == PR_ITN_NONE || itn == only_itn) {
            bool other = itn != requester;

            /* SAM-5 7.4 / SPC-4 7.5.8: with TAS=0 the other nexus is told through a unit attention. */
            if (other && !lu->mode.tas && ua_if_no_tas)
                tgt_ua_raise(lu, itn, 0x2f, 0x00);
            tgt__task_abort(c, other && lu->mode.tas);
        }
        c = next;
    }
    /* SAM-5 5.6: the other nexuses' writes still collecting Data-Out in the transport are tasks of this task set
     * too. The requester's own the transport has already terminated before asking for the function. */
    if (!srv->held_abort)
        return;
    for (uint32_t itn = 0; itn < srv->nexus_cap; itn++) {
        if (itn == requester || !srv->nexus[itn] || !srv->nexus[itn]->logged_in)
            continue;
        if (only_itn != PR_ITN_NONE && itn != only_itn)
            continue;
        if (tgt__abort_held(srv, itn, lu->lun, lu->mode.tas) && !lu->mode.tas && ua_if_no_tas)
            tgt_ua_raise(lu, itn, 0x2f, 0x00);
    }
}

/* SAM-5 6.3.3: what a logical unit reset does to one LU. */
static void lu_reset(struct tgt_lu *lu, uint32_t requester, uint8_t asc, uint8_t ascq)
{
    abort_tasks(lu, requester, PR_ITN_NONE, false);
    /* Mode parameters return to their saved values, and without saved values to their defaults. */
    tgt__mode_defaults(&lu->mode);
    /* SPC-4 5.13.3 / SAM-5 6.3.3: a reset releases SPC-2 reservations but leaves persistent reservations and
     * registrations alone. */
    pr_state_lu_reset(lu->pr);
    /* SPC-4 6.13: a logical unit reset ends every PREVENT MEDIUM REMOVAL. */
    tgt__media_lu_reset(lu);
    tgt__ua_raise_all(lu, asc, ascq, PR_ITN_NONE);
}

enum tgt_tmf_result tgt_tmf(struct tgt_server *srv, struct tgt_nexus *nx, enum tgt_tmf fn, uint64_t lun,
                            struct tgt_cmd *task)
{
    uint32_t requester = nx ? nx->itn : PR_ITN_NONE;
    struct tgt_lu *lu = tgt_server_lu(srv, lun);

    switch (fn) {
    case TGT_TMF_ABORT_TASK:
        /* SAM-5 7.2 / RFC 7143 11.5.1: a task the target no longer holds has completed; the function
         * completes either way, and the transport answers "task does not exist" when it had none. */
        if (!task)
            return TGT_TMF_TASK_NOT_FOUND;
        if (task->nexus != nx || !(task->cflags & TGT__CF_IN_TASK_SET))
            return TGT_TMF_TASK_NOT_FOUND;
        tgt__task_abort(task, false);
        return TGT_TMF_COMPLETE;

    case TGT_TMF_ABORT_TASK_SET:
        /* SAM-5 7.3: every task of the requesting nexus on this LU, no unit attention. */
        if (!lu)
            return TGT_TMF_LUN_NOT_FOUND;
        abort_tasks(lu, requester, requester, false);
        return TGT_TMF_COMPLETE;

    case TGT_TMF_CLEAR_TASK_SET:
        /* SAM-5 7.5: every task on the LU, whichever nexus sent it. */
        if (!lu)
            return TGT_TMF_LUN_NOT_FOUND;
        abort_tasks(lu, requester, PR_ITN_NONE, true);
        return TGT_TMF_COMPLETE;

    case TGT_TMF_CLEAR_ACA:
        /* SAM-5 7.4: NACA is not supported, so no ACA condition can exist; clearing none succeeds. */
        if (!lu)
            return TGT_TMF_LUN_NOT_FOUND;
        return TGT_TMF_COMPLETE;

    case TGT_TMF_LUN_RESET:
        if (!lu)
            return TGT_TMF_LUN_NOT_FOUND;
        /* SAM-5 6.3.3: BUS DEVICE RESET FUNCTION OCCURRED for every nexus. */
        lu_reset(lu, requester, 0x29, 0x03);
        return TGT_TMF_COMPLETE;

    case TGT_TMF_TARGET_WARM_RESET:
    case TGT_TMF_TARGET_COLD_RESET:
        /* SAM-5 6.3.2 / RFC 7143 11.5.1: a target reset is a hard reset of every LU; a cold reset is also a
         * power cycle of the target (29h/01h POWER ON OCCURRED). A warm reset reports the generic 29h/00h:
         * 29h/02h SCSI BUS RESET OCCURRED names a parallel-bus event iSCSI does not have. */
        for (unsigned i = 0; i < srv->n_lus; i++)
            lu_reset(srv->lus[i], requester, 0x29, fn == TGT_TMF_TARGET_COLD_RESET ? 0x01 : 0x00);
        return TGT_TMF_COMPLETE;

    case TGT_TMF_IT_NEXUS_RESET:
        /* SAM-5 6.3.4: the nexus's tasks end on every LU, its SPC-2 reservation is released, and it sees
         * I_T NEXUS LOSS OCCURRED; persistent registrations stay. */
        for (unsigned i = 0; i < srv->n_lus; i++) {
            abort_tasks(srv->lus[i], requester, requester, false);
            pr_state_nexus_lost(srv->lus[i]->pr, requester);
            tgt_ua_raise(srv->lus[i], requester, 0x29, 0x07);
        }
        /* SPC-4 6.13: the nexus loss ends its PREVENT MEDIUM REMOVAL (media.c). */
        tgt__media_nexus_lost(srv, requester);
        return TGT_TMF_COMPLETE;

    case TGT_TMF_QUERY_TASK:
        /* SAM-5 7.8: FUNCTION SUCCEEDED when the task is in the task set. */
        if (!lu)
            return TGT_TMF_LUN_NOT_FOUND;
        if (task && task->nexus == nx && (task->cflags & TGT__CF_IN_TASK_SET) && task->lu == lu)
            return TGT_TMF_SUCCEEDED;
        return TGT_TMF_TASK_NOT_FOUND;
    }
    return TGT_TMF_NOT_SUPPORTED;
}
