/* Internals of the target layer, shared by target/*.c (including pr_cmd.c). Not for the transport. */
#ifndef TGT_INTERNAL_H
#define TGT_INTERNAL_H

#include "common/prt_be.h"
#include "prstate/pr.h"
#include "target/tgt.h"

/* ---- command table ------------------------------------------------------------------------------------- */

/* A handler returns TGT_DONE once status/sense/data are set (dispatch then calls done()), or TGT_ASYNC when it
 * queued work and will call tgt_cmd_complete() itself later. */
enum tgt_exec_result { TGT_DONE = 0, TGT_ASYNC = 1 };
typedef enum tgt_exec_result (*tgt_handler_fn)(struct tgt_cmd *cmd);

/* Row flags. */
#define TGT_F_NO_LU      0x0001u /* runs on a LUN with no LU behind it (INQUIRY, REPORT LUNS, REQUEST SENSE) */
#define TGT_F_SKIP_UA    0x0002u /* does not report or clear unit attentions (INQUIRY, REPORT LUNS, REQUEST SENSE) */
#define TGT_F_DATA_IN    0x0004u
#define TGT_F_DATA_OUT   0x0008u
#define TGT_F_MEDIUM_WR  0x0010u /* writes the medium: DATA PROTECT / WRITE PROTECTED on a read-only LU */
#define TGT_F_SA         0x0020u /* row is one service action of opcode (sa field valid) */

/* One row per opcode (and per service action). usage[] is the CDB USAGE DATA of REPORT SUPPORTED OPERATION
 * CODES: bit set = the bit may be set in the CDB. Dispatch rejects any other bit with INVALID FIELD IN CDB
 * (field pointer on the first offending byte/bit) before the handler runs. */
struct tgt_cmd_row {
    uint8_t opcode;
    uint16_t sa;
    uint8_t cdb_len;
    uint8_t usage[TGT_CDB_MAX];
    enum pr_access pr;
    uint32_t flags;
    tgt_handler_fn fn;
    const char *name;
};

const struct tgt_cmd_row *tgt_cmd_table_lookup(uint8_t opcode, uint16_t sa, bool *opcode_known);
/* All rows, for REPORT SUPPORTED OPERATION CODES. */
const struct tgt_cmd_row *tgt_cmd_table_rows(size_t *n);

/* PR and SPC-2 reservation handlers (target/pr_cmd.c). */
enum tgt_exec_result tgt_pr_in(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_pr_out(struct tgt_cmd *cmd);
enum tgt_exec_result tgt_reserve(struct tgt_cmd *cmd);  /* RESERVE(6) and RESERVE(10) */
enum tgt_exec_result tgt_release(struct tgt_cmd *cmd);  /* RELEASE(6) and RELEASE(10) */
/* Map a PR decision to status/sense on cmd (the only place that does). */
void tgt_pr_status_to_sense(struct tgt_cmd *cmd, enum pr_status st, int field_byte, int field_bit);

/* ---- sense (target/sense.c): the only place sense bytes are built ------------------------------------- */

#define TGT_SK_NO_SENSE 0x0
#define TGT_SK_RECOVERED_ERROR 0x1
#define TGT_SK_NOT_READY 0x2
#define TGT_SK_MEDIUM_ERROR 0x3
#define TGT_SK_HARDWARE_ERROR 0x4
#define TGT_SK_ILLEGAL_REQUEST 0x5
#define TGT_SK_UNIT_ATTENTION 0x6
#define TGT_SK_DATA_PROTECT 0x7
#define TGT_SK_ABORTED_COMMAND 0xb
#define TGT_SK_MISCOMPARE 0xe

void tgt_set_good(struct tgt_cmd *cmd);
/* CHECK CONDITION with fixed-format sense (or descriptor format when the control mode page D_SENSE=1). */
void tgt_set_sense(struct tgt_cmd *cmd, uint8_t key, uint8_t asc, uint8_t ascq);
void tgt_set_invalid_opcode(struct tgt_cmd *cmd);                        /* 20h/00h */
void tgt_set_invalid_field_cdb(struct tgt_cmd *cmd, int byte, int bit);   /* 24h/00h, SKSV field pointer; bit<0: none */
void tgt_set_invalid_field_param(struct tgt_cmd *cmd, int byte, int bit); /* 26h/00h, SKSV field pointer */
void tgt_set_param_list_length_error(struct tgt_cmd *cmd);                /* 1Ah/00h */
void tgt_set_lba_out_of_range(struct tgt_cmd *cmd);                       /* 21h/00h */
void tgt_set_lun_not_supported(struct tgt_cmd *cmd);                      /* 25h/00h */
void tgt_set_write_protected(struct tgt_cmd *cmd);                        /* DATA PROTECT 27h/00h */
void tgt_set_reservation_conflict(struct tgt_cmd *cmd);                   /* status 18h, no sense */
void tgt_set_medium_error(struct tgt_cmd *cmd, bool write);               /* 0Ch/00h or 11h/00h */

/* Copy len bytes of parameter data to the Data-In of cmd, truncated to alloc_len (and to buf_cap). */
void tgt_cmd_data_in(struct tgt_cmd *cmd, const void *data, size_t len, size_t alloc_len);
/* Complete an asynchronous (TGT_ASYNC) command: removes it from the task set and calls done(). */
void tgt_cmd_complete(struct tgt_cmd *cmd);

/* ---- logical units ---------------------------------------------------------------------------------------- */

struct tgt_lu;

struct pr_state *tgt_lu_pr(struct tgt_lu *lu);
struct tgt_server *tgt_lu_server(struct tgt_lu *lu);
uint64_t tgt_lu_number(const struct tgt_lu *lu);
/* Raise a unit attention for I_T nexus itn on lu (queued per LU per nexus; duplicates are merged; the nexus
 * need not be logged in now: it sees the UA when it next sends a command to lu). */
void tgt_ua_raise(struct tgt_lu *lu, uint32_t itn, uint8_t asc, uint8_t ascq);
/* Terminate every task of itn in lu's task set except `except` (PREEMPT AND ABORT, SPC-4 5.13.11.2.5). With the
 * control mode page TAS=1 they complete with TASK ABORTED; else silently. */
void tgt_lu_abort_nexus_tasks(struct tgt_lu *lu, uint32_t itn, const struct tgt_cmd *except);
/* The itn id of the nexus a command came from. */
uint32_t tgt_cmd_itn(const struct tgt_cmd *cmd);
/* The relative target port identifier of a nexus (for READ FULL STATUS, ALL_TG_PT). */
uint16_t tgt_cmd_rtpi(const struct tgt_cmd *cmd);

#endif
