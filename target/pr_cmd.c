/* The PR command layer: PERSISTENT RESERVE IN/OUT and SPC-2 RESERVE/RELEASE handlers.
 *
 * Decodes CDBs and parameter lists, asks prstate for the decision, applies the effects prstate lists (unit
 * attentions, task aborts) and is the one place where an enum pr_status becomes SCSI status and sense.
 */
#include <string.h>

#include "target/pr_cmd.h"

/* Additional sense codes of persistent reservations (SPC-4 Annex D / SPC-5 Annex F). */
#define PR_ASC_RESERVATIONS 0x2a
#define PR_ASCQ_RESERVATIONS_PREEMPTED 0x03
#define PR_ASCQ_RESERVATIONS_RELEASED 0x04
#define PR_ASCQ_REGISTRATIONS_PREEMPTED 0x05
#define PR_ASC_INVALID_FIELD_PARAM 0x26
#define PR_ASCQ_INVALID_RELEASE 0x04
#define PR_ASC_INSUFFICIENT_RESOURCES 0x55
#define PR_ASCQ_INSUFFICIENT_REGISTRATION 0x04
#define PR_ASC_INTERNAL_TARGET_FAILURE 0x44
#define PR_ASCQ_INTERNAL_TARGET_FAILURE 0x00
#define PR_ASCQ_PR_INFORMATION_LOST 0x01
#define PR_ASC_COMMANDS_CLEARED 0x2f
#define PR_ASCQ_COMMANDS_CLEARED 0x00

/* Parameter list lengths (SPC-4 6.16.3, 6.16.4). */
#define PR_PARAM_BASIC 24
#define PR_PARAM_SPEC_I_PT_HDR 28
#define PR_PARAM_RM_HDR 24

void tgt__pr_ua_code(enum pr_ua_kind kind, uint8_t *asc, uint8_t *ascq)
{
    *asc = PR_ASC_RESERVATIONS;
    switch (kind) {
    case PR_UA_RESERVATIONS_PREEMPTED: *ascq = PR_ASCQ_RESERVATIONS_PREEMPTED; break;
    case PR_UA_RESERVATIONS_RELEASED: *ascq = PR_ASCQ_RESERVATIONS_RELEASED; break;
    case PR_UA_REGISTRATIONS_PREEMPTED:
    default: *ascq = PR_ASCQ_REGISTRATIONS_PREEMPTED; break;
    }
}

void tgt_pr_status_to_sense(struct tgt_cmd *cmd, enum pr_status st, int field_byte, int field_bit)
{
    switch (st) {
    case PR_OK:
        tgt_set_good(cmd);
        break;
    case PR_CONFLICT:
        tgt_set_reservation_conflict(cmd);
        break;
    case PR_INVALID_FIELD_CDB:
        tgt_set_invalid_field_cdb(cmd, field_byte, field_bit);
        break;
    case PR_INVALID_FIELD_PARAM:
        tgt_set_invalid_field_param(cmd, field_byte, field_bit);
        break;
    case PR_PARAM_LIST_LENGTH:
        tgt_set_param_list_length_error(cmd);
        break;
    case PR_INVALID_RELEASE:
        /* SPC-4 5.13.11.2.2: the holder releasing with the wrong type or scope. */
        tgt_set_sense(cmd, TGT_SK_ILLEGAL_REQUEST, PR_ASC_INVALID_FIELD_PARAM, PR_ASCQ_INVALID_RELEASE);
        break;
    case PR_INSUFFICIENT_RESOURCES:
        /* SPC-4 5.13.7.1: more registrations than the device server holds. */
        tgt_set_sense(cmd, TGT_SK_ILLEGAL_REQUEST, PR_ASC_INSUFFICIENT_RESOURCES,
                      PR_ASCQ_INSUFFICIENT_REGISTRATION);
        break;
    case PR_INVALID_OPCODE:
        tgt_set_invalid_opcode(cmd);
        break;
    case PR_RESERVATION_LOST:
        /* SPC-5 5.13.5.3: commands blocked while the reservation is lost report PERSISTENT RESERVATION
         * INFORMATION LOST (44h/01h). */
        tgt_set_sense(cmd, TGT_SK_DATA_PROTECT, PR_ASC_INTERNAL_TARGET_FAILURE, PR_ASCQ_PR_INFORMATION_LOST);
        break;
    case PR_PERSIST_FAILED:
    case PR_NO_RESOURCES:
    default:
        /* The state could not be kept (no memory, or the APTPL file could not be written): nothing changed,
         * and the initiator must learn that the command did not take effect. */
        tgt_set_sense(cmd, TGT_SK_HARDWARE_ERROR, PR_ASC_INTERNAL_TARGET_FAILURE, PR_ASCQ_INTERNAL_TARGET_FAILURE);
        break;
    }
}

enum pr_status tgt__pr_out_decode(const uint8_t *cdb, const uint8_t *param, size_t avail,
                                  struct pr_out_req *req)
{
    memset(req, 0, sizeof(*req));
    req->sa = cdb[1] & 0x1f;
    req->scope = cdb[2] >> 4;
    req->type = cdb[2] & 0x0f;
    uint32_t pll = prt_get_be32(cdb + 5);

    /* SPC-4 6.16.3: every service action but REGISTER (with SPEC_I_PT) and REGISTER AND MOVE carries exactly
     * 24 bytes; the bound is checked before the data is looked at, so 0xFFFFFFFF costs nothing. */
    if (req->sa == PR_OUT_REGISTER_AND_MOVE) {
        if (pll < PR_PARAM_RM_HDR || pll > TGT_PR_OUT_PARAM_MAX)
            return PR_PARAM_LIST_LENGTH;
    } else if (req->sa == PR_OUT_REGISTER) {
        if (pll < PR_PARAM_BASIC || pll > TGT_PR_OUT_PARAM_MAX)
            return PR_PARAM_LIST_LENGTH;
    } else if (pll != PR_PARAM_BASIC) {
        return PR_PARAM_LIST_LENGTH;
    }
    /* The initiator sent less than it announced. */
    if (!param || avail < pll)
        return PR_PARAM_LIST_LENGTH;

    req->key = prt_get_be64(param);
    req->sa_key = prt_get_be64(param + 8);
    if (req->sa == PR_OUT_REGISTER_AND_MOVE) {
        /* SPC-4 6.16.4: UNREG and APTPL in byte 17, RELATIVE TARGET PORT IDENTIFIER, TRANSPORTID PARAMETER DATA
         * LENGTH, then the TransportID; the list must end exactly where the TransportID does. */
        req->unreg = (param[17] & 0x02) != 0;
        req->aptpl = (param[17] & 0x01) != 0;
        req->rtpi = prt_get_be16(param + 18);
        uint32_t tlen = prt_get_be32(param + 20);
        if (tlen != pll - PR_PARAM_RM_HDR)
            return PR_PARAM_LIST_LENGTH;
        req->tid = param + PR_PARAM_RM_HDR;
        req->tid_len = tlen;
        req->tid_off = PR_PARAM_RM_HDR;
        return PR_OK;
    }
    req->spec_i_pt = (param[20] & 0x08) != 0;
    req->all_tg_pt = (param[20] & 0x04) != 0;
    req->aptpl = (param[20] & 0x01) != 0;
    if (req->sa == PR_OUT_REGISTER) {
        if (!req->spec_i_pt)
            return pll == PR_PARAM_BASIC ? PR_OK : PR_PARAM_LIST_LENGTH;
        /* SPC-4 6.16.3: with SPEC_I_PT the TRANSPORTID PARAMETER DATA LENGTH follows, and the list holds
         * exactly that many bytes of TransportIDs. */
        if (pll < PR_PARAM_SPEC_I_PT_HDR)
            return PR_PARAM_LIST_LENGTH;
        uint32_t tlen = prt_get_be32(param + 24);
        if (tlen != pll - PR_PARAM_SPEC_I_PT_HDR)
            return PR_PARAM_LIST_LENGTH;
        req->tid = param + PR_PARAM_SPEC_I_PT_HDR;
        req->tid_len = tlen;
        req->tid_off = PR_PARAM_SPEC_I_PT_HDR;
    }
    return PR_OK;
}

/* Whether itn has a task other than `except` in lu's task set. */
static bool pr_cmd_nexus_has_tasks(const struct tgt_lu *lu, uint32_t itn, const struct tgt_cmd *except)
{
    for (const struct tgt_cmd *c = lu->ts_head; c; c = c->ts_next)
        if (c != except && tgt_cmd_itn(c) == itn)
            return true;
    return false;
}

enum tgt_exec_result tgt_pr_out(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    struct pr_out_req req;
    enum pr_status s = tgt__pr_out_decode(cmd->cdb, cmd->buf, cmd->dout_len, &req);
    if (s != PR_OK) {
        tgt_pr_status_to_sense(cmd, s, -1, -1);
        /* The operator's event log records every PR OUT outcome (fault.c); the parameter list was not read. */
        tgt__event_pr_out(cmd, NULL, s);
        return TGT_DONE;
    }
    struct pr_result res;
    pr_result_init(&res);
    s = pr_out(tgt_lu_pr(lu), tgt_cmd_itn(cmd), &req, &res);
    if (s == PR_OK) {
        for (size_t i = 0; i < res.n_ua; i++) {
            uint8_t asc, ascq;
            tgt__pr_ua_code(res.ua[i].kind, &asc, &ascq);
            tgt_ua_raise(lu, res.ua[i].itn, asc, ascq);
        }
        /* SPC-4 5.13.11.2.6: PREEMPT AND ABORT aborts the commands of the preempted nexuses, except itself. */
        uint32_t me = tgt_cmd_itn(cmd);
        for (size_t i = 0; i < res.n_abort; i++) {
            uint32_t itn = res.abort[i];
            bool other = itn != me;
            bool had = pr_cmd_nexus_has_tasks(lu, itn, cmd);
            /* Writes still collecting Data-Out in the transport are tasks too (SAM-5 5.6); ending them first
             * tells us whether there were any (tgt_lu_abort_nexus_tasks then finds none left there). */
            had |= tgt__abort_held(lu->srv, itn, lu->lun, lu->mode.tas && other) > 0;
            /* SAM-5 5.6, SPC-4 7.5.8: with TAS=0 a nexus whose commands another nexus aborted gets no response for
             * them and learns of it from COMMANDS CLEARED BY ANOTHER INITIATOR; with TAS=1 TASK ABORTED tells it. */
            if (other && !lu->mode.tas && had)
                tgt_ua_raise(lu, itn, PR_ASC_COMMANDS_CLEARED, PR_ASCQ_COMMANDS_CLEARED);
            tgt_lu_abort_nexus_tasks(lu, itn, cmd);
            /* SPC-4 5.13.11.2.6 h): each preempted nexus is treated as if it sent PREVENT ALLOW MEDIUM REMOVAL
             * with PREVENT=0. */
            tgt__media_allow_removal(lu, itn);
        }
    }
    tgt_pr_status_to_sense(cmd, s, res.field_byte, res.field_bit);
    tgt__event_pr_out(cmd, &req, s);
    pr_result_free(&res);
    return TGT_DONE;
}

enum tgt_exec_result tgt_pr_in(struct tgt_cmd *cmd)
{
    uint8_t sa = cmd->cdb[1] & 0x1f;
    size_t alloc = prt_get_be16(cmd->cdb + 7);
    size_t cap = alloc < cmd->buf_cap ? alloc : cmd->buf_cap;
    enum pr_status s;
    size_t full = pr_in(tgt_lu_pr(cmd->lu), sa, cmd->buf, cap, &s);
    if (s != PR_OK) {
        /* SPC-4 6.15.1: the SERVICE ACTION field is byte 1 bits 4-0. */
        tgt_pr_status_to_sense(cmd, s, 1, 4);
        return TGT_DONE;
    }
    /* SPC-4 6.15.1: ADDITIONAL LENGTH already describes the full data; the transfer stops at the allocation
     * length. */
    tgt_set_good(cmd);
    tgt_cmd_data_in(cmd, cmd->buf, full < cap ? full : cap, alloc);
    return TGT_DONE;
}

/* RESERVE(10) and RELEASE(10) byte 1: 3RDPTY (bit 4) and LONGID (bit 1) ask for a third-party reservation
 * (SPC-2 7.21, 7.17), which this device server does not offer. */
static bool pr_cmd_third_party(const struct tgt_cmd *cmd, int *bit)
{
    if (cmd->cdb[0] != 0x56 && cmd->cdb[0] != 0x57)
        return false;
    if (cmd->cdb[1] & 0x10) {
        *bit = 4;
        return true;
    }
    if (cmd->cdb[1] & 0x02) {
        *bit = 1;
        return true;
    }
    return false;
}

enum tgt_exec_result tgt_reserve(struct tgt_cmd *cmd)
{
    int bit;
    if (pr_cmd_third_party(cmd, &bit)) {
        tgt_pr_status_to_sense(cmd, PR_INVALID_FIELD_CDB, 1, bit);
        return TGT_DONE;
    }
    /* SPC-2 7.21 with the SPC-4 5.13.3 exceptions (CRH=1), decided in prstate. */
    tgt_pr_status_to_sense(cmd, pr_spc2_reserve(tgt_lu_pr(cmd->lu), tgt_cmd_itn(cmd)), -1, -1);
    return TGT_DONE;
}

enum tgt_exec_result tgt_release(struct tgt_cmd *cmd)
{
    int bit;
    if (pr_cmd_third_party(cmd, &bit)) {
        tgt_pr_status_to_sense(cmd, PR_INVALID_FIELD_CDB, 1, bit);
        return TGT_DONE;
    }
    /* SPC-2 7.17 with the SPC-4 5.13.3 exceptions (CRH=1), decided in prstate. */
    tgt_pr_status_to_sense(cmd, pr_spc2_release(tgt_lu_pr(cmd->lu), tgt_cmd_itn(cmd)), -1, -1);
    return TGT_DONE;
}
