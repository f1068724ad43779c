/* Decoding helpers of target/pr_cmd.c, exposed for tests/unit/test_pr_cmd.c only. */
#ifndef TGT_PR_CMD_H
#define TGT_PR_CMD_H

#include "target/tgt_internal.h"

/* The most parameter data a PERSISTENT RESERVE OUT may carry (SPEC_I_PT TransportID lists, REGISTER AND MOVE):
 * anything longer is answered with PARAMETER LIST LENGTH ERROR before any of it is looked at. */
#define TGT_PR_OUT_PARAM_MAX ((size_t)TGT_CMD_MIN_BUF)

/* Decode a PERSISTENT RESERVE OUT CDB and its parameter list (avail bytes received at param) into req. Checks
 * the PARAMETER LIST LENGTH against the service action first (SPC-4 6.16.3, 6.16.4). Returns PR_OK or
 * PR_PARAM_LIST_LENGTH; req->tid points into param. */
enum pr_status tgt__pr_out_decode(const uint8_t *cdb, const uint8_t *param, size_t avail,
                                  struct pr_out_req *req);

/* The ASC/ASCQ of the unit attention a PR event raises (SPC-4 5.13.6). */
void tgt__pr_ua_code(enum pr_ua_kind kind, uint8_t *asc, uint8_t *ascq);

#endif
