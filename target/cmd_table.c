/* The command table: one row per operation code and per service action.
 *
 * Each row carries the CDB USAGE DATA of REPORT SUPPORTED OPERATION CODES (SPC-4 6.35.3): a bit is set when the
 * device server looks at that bit of the CDB. Dispatch rejects any other set bit before the handler runs, so a
 * handler only sees CDBs whose reserved, obsolete and unsupported fields are zero. Byte 0 is the operation code
 * itself; the CONTROL byte is 00h because neither NACA (SAM-5 5.11) nor linked commands are supported.
 *
 * The PR access class of each row is the SPC-4 5.13.1 Table 63 / SBC-3 4.17 Table 13 column for that command.
 * Rows are sorted by (opcode, service action) so lookup is a binary search.
 */
#include "target/tgt_internal.h"

#define RD  PR_ACCESS_READ
#define WR  PR_ACCESS_WRITE
#define OK  PR_ACCESS_ALLOWED
#define OKP PR_ACCESS_ALLOWED_PR /* allowed under persistent reservations, not under another's SPC-2 one */

#define DI TGT_F_DATA_IN
#define DO TGT_F_DATA_OUT
#define MW TGT_F_MEDIUM_WR
#define SA TGT_F_SA

/* Usage of the common CDB shapes. 6-byte READ/WRITE: 21-bit LBA. 10/12/16-byte: GROUP NUMBER bits 4-0. */
#define U_RW6(op)        { op, 0x1f, 0xff, 0xff, 0xff, 0x00 }
/* READ(10): DPO, FUA, RARC, FUA_NV (SBC-3 5.11); RDPROTECT is not set because no protection information. */
#define U_READ10(op)     { op, 0x1e, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00 }
#define U_WRITE10(op)    { op, 0x1a, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00 }
#define U_VERIFY10(op)   { op, 0x16, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00 }
#define U_READ12(op)     { op, 0x1e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00 }
#define U_WRITE12(op)    { op, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00 }
#define U_VERIFY12(op)   { op, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00 }
#define U_LBA16(op, b1)  { op, b1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00 }
#define U_LBA10(op, b1)  { op, b1, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00 }

/* PERSISTENT RESERVE IN (SPC-4 6.15): SA, ALLOCATION LENGTH. */
#define U_PRIN(sa)  { 0x5e, sa, 0, 0, 0, 0, 0, 0xff, 0xff, 0x00 }
/* PERSISTENT RESERVE OUT (SPC-4 6.16): SA, SCOPE and TYPE, PARAMETER LIST LENGTH. */
#define U_PROUT(sa) { 0x5f, sa, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x00 }

#define PRIN_ROW(sa, nm) { 0x5e, sa, 10, U_PRIN(sa), OKP, DI | SA, tgt_pr_in, nm }
#define PROUT_ROW(sa, nm) { 0x5f, sa, 10, U_PROUT(sa), PR_ACCESS_PR_OUT, DO | SA, tgt_pr_out, nm }

static const struct tgt_cmd_row rows[] = {
    { 0x00, 0, 6, { 0x00, 0, 0, 0, 0, 0 }, PR_ACCESS_TUR, 0, tgt_spc_test_unit_ready, "TEST UNIT READY" },
    /* SPC-4 6.39: DESC selects the sense format; REQUEST SENSE neither reports nor clears UAs through CHECK
     * CONDITION (it returns them as data), and answers on an unsupported LUN. */
    { 0x03, 0, 6, { 0x03, 0x01, 0, 0, 0xff, 0 }, OK, DI | TGT_F_SKIP_UA | TGT_F_NO_LU, tgt_spc_request_sense,
      "REQUEST SENSE" },
    { 0x08, 0, 6, U_RW6(0x08), RD, DI, tgt_sbc_read, "READ(6)" },
    { 0x0a, 0, 6, U_RW6(0x0a), WR, DO | MW, tgt_sbc_write, "WRITE(6)" },
    /* SPC-4 6.6: EVPD, PAGE CODE, ALLOCATION LENGTH (CMDDT is obsolete and rejected). */
    { 0x12, 0, 6, { 0x12, 0x01, 0xff, 0xff, 0xff, 0 }, OK, DI | TGT_F_SKIP_UA | TGT_F_NO_LU, tgt_spc_inquiry,
      "INQUIRY" },
    /* SPC-4 6.11: PF, SP, PARAMETER LIST LENGTH. */
    { 0x15, 0, 6, { 0x15, 0x11, 0, 0, 0xff, 0 }, WR, DO, tgt_spc_mode_select, "MODE SELECT(6)" },
    { 0x16, 0, 6, { 0x16, 0, 0, 0, 0, 0 }, PR_ACCESS_SPC2, 0, tgt_reserve, "RESERVE(6)" },
    { 0x17, 0, 6, { 0x17, 0, 0, 0, 0, 0 }, PR_ACCESS_SPC2, 0, tgt_release, "RELEASE(6)" },
    /* SPC-4 6.13: DBD, PC and PAGE CODE, SUBPAGE CODE, ALLOCATION LENGTH. */
    { 0x1a, 0, 6, { 0x1a, 0x08, 0xff, 0xff, 0xff, 0 }, RD, DI, tgt_spc_mode_sense, "MODE SENSE(6)" },
    /* SBC-3 5.25: IMMED, POWER CONDITION MODIFIER, POWER CONDITION, NO_FLUSH, LOEJ, START. */
    { 0x1b, 0, 6, { 0x1b, 0x01, 0, 0x0f, 0xf7, 0 }, WR, TGT_F_PR_CDB, tgt_spc_start_stop_unit,
      "START STOP UNIT" },
    /* SPC-4 6.14: PREVENT field; its class depends on the field (tgt__row_pr_access). */
    { 0x1e, 0, 6, { 0x1e, 0, 0, 0, 0x03, 0 }, WR, TGT_F_PR_CDB, tgt_spc_prevent_allow,
      "PREVENT ALLOW MEDIUM REMOVAL" },
    /* SBC-3 5.16: LBA and PMI are obsolete but still honoured the SBC-2 way. */
    { 0x25, 0, 10, { 0x25, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x01, 0 }, OKP, DI, tgt_sbc_read_capacity10,
      "READ CAPACITY(10)" },
    { 0x28, 0, 10, U_READ10(0x28), RD, DI, tgt_sbc_read, "READ(10)" },
    { 0x2a, 0, 10, U_WRITE10(0x2a), WR, DO | MW, tgt_sbc_write, "WRITE(10)" },
    { 0x2e, 0, 10, U_VERIFY10(0x2e), WR, DO | MW, tgt_sbc_write_verify, "WRITE AND VERIFY(10)" },
    { 0x2f, 0, 10, U_VERIFY10(0x2f), RD, DO, tgt_sbc_verify, "VERIFY(10)" },
    { 0x34, 0, 10, U_LBA10(0x34, 0x02), RD, 0, tgt_sbc_prefetch, "PRE-FETCH(10)" },
    /* SBC-3 5.22 / 5.23: SYNC_NV (bit 2) and IMMED (bit 1); SYNC_NV only says which cache to flush, and with no
     * non-volatile cache every flush goes to the medium, so it is accepted and changes nothing. */
    { 0x35, 0, 10, U_LBA10(0x35, 0x06), WR, 0, tgt_sbc_sync_cache, "SYNCHRONIZE CACHE(10)" },
    /* SBC-3 5.18: REQ_PLIST, REQ_GLIST, DEFECT LIST FORMAT, ALLOCATION LENGTH. */
    /* SBC-3 Table 13: READ DEFECT DATA conflicts under Write Exclusive too, like a write. */
    { 0x37, 0, 10, { 0x37, 0, 0x1f, 0, 0, 0, 0, 0xff, 0xff, 0 }, WR, DI, tgt_sbc_read_defect_data,
      "READ DEFECT DATA(10)" },
    /* SBC-3 5.42: ANCHOR, UNMAP; WRPROTECT unsupported (no protection information). */
    { 0x41, 0, 10, U_LBA10(0x41, 0x18), WR, DO | MW, tgt_sbc_write_same, "WRITE SAME(10)" },
    /* SBC-3 5.28: ANCHOR, GROUP NUMBER, PARAMETER LIST LENGTH. */
    { 0x42, 0, 10, { 0x42, 0x01, 0, 0, 0, 0, 0x1f, 0xff, 0xff, 0 }, WR, DO | MW, tgt_sbc_unmap, "UNMAP" },
    /* SBC-3 5.30: IMMED, AUSE, SERVICE ACTION, PARAMETER LIST LENGTH (sanitize.c). */
    { 0x48, 0x01, 10, { 0x48, 0xa1, 0, 0, 0, 0, 0, 0xff, 0xff, 0 }, WR, DO | MW | SA, tgt_sanitize,
      "SANITIZE / OVERWRITE" },
    { 0x48, 0x02, 10, { 0x48, 0xa2, 0, 0, 0, 0, 0, 0xff, 0xff, 0 }, WR, DO | MW | SA, tgt_sanitize,
      "SANITIZE / BLOCK ERASE" },
    { 0x48, 0x03, 10, { 0x48, 0xa3, 0, 0, 0, 0, 0, 0xff, 0xff, 0 }, WR, DO | MW | SA, tgt_sanitize,
      "SANITIZE / CRYPTO ERASE" },
    { 0x48, 0x1f, 10, { 0x48, 0xbf, 0, 0, 0, 0, 0, 0xff, 0xff, 0 }, WR, DO | MW | SA, tgt_sanitize,
      "SANITIZE / EXIT FAILURE MODE" },
    { 0x55, 0, 10, { 0x55, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, 0 }, WR, DO, tgt_spc_mode_select, "MODE SELECT(10)" },
    { 0x56, 0, 10, { 0x56, 0x12, 0, 0, 0, 0, 0, 0xff, 0xff, 0 }, PR_ACCESS_SPC2, DO, tgt_reserve, "RESERVE(10)" },
    { 0x57, 0, 10, { 0x57, 0x12, 0, 0, 0, 0, 0, 0xff, 0xff, 0 }, PR_ACCESS_SPC2, DO, tgt_release, "RELEASE(10)" },
    /* SPC-4 6.14: LLBAA, DBD, PC and PAGE CODE, SUBPAGE CODE, ALLOCATION LENGTH. */
    { 0x5a, 0, 10, { 0x5a, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0 }, RD, DI, tgt_spc_mode_sense,
      "MODE SENSE(10)" },
    PRIN_ROW(0x00, "PERSISTENT RESERVE IN / READ KEYS"),
    PRIN_ROW(0x01, "PERSISTENT RESERVE IN / READ RESERVATION"),
    PRIN_ROW(0x02, "PERSISTENT RESERVE IN / REPORT CAPABILITIES"),
    PRIN_ROW(0x03, "PERSISTENT RESERVE IN / READ FULL STATUS"),
    PROUT_ROW(0x00, "PERSISTENT RESERVE OUT / REGISTER"),
    PROUT_ROW(0x01, "PERSISTENT RESERVE OUT / RESERVE"),
    PROUT_ROW(0x02, "PERSISTENT RESERVE OUT / RELEASE"),
    PROUT_ROW(0x03, "PERSISTENT RESERVE OUT / CLEAR"),
    PROUT_ROW(0x04, "PERSISTENT RESERVE OUT / PREEMPT"),
    PROUT_ROW(0x05, "PERSISTENT RESERVE OUT / PREEMPT AND ABORT"),
    PROUT_ROW(0x06, "PERSISTENT RESERVE OUT / REGISTER AND IGNORE EXISTING KEY"),
    PROUT_ROW(0x07, "PERSISTENT RESERVE OUT / REGISTER AND MOVE"),
    PROUT_ROW(0x08, "PERSISTENT RESERVE OUT / REPLACE LOST RESERVATION"),
    /* SPC-4 6.4: EXTENDED COPY(LID1), PARAMETER LIST LENGTH (xcopy.c). */
    { 0x83, 0x00, 16, { 0x83, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0 }, WR, DO | SA,
      tgt_xcopy_lid1, "EXTENDED COPY(LID1)" },
    /* SPC-4 6.18: RECEIVE COPY RESULTS, LIST IDENTIFIER (COPY STATUS only), ALLOCATION LENGTH (xcopy.c). */
    /* SPC-4 5.13.1 Table 65: both pass every persistent reservation type. */
    { 0x84, 0x00, 16, { 0x84, 0x00, 0xff, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0 }, OKP, DI | SA,
      tgt_xcopy_receive_results, "RECEIVE COPY RESULTS / COPY STATUS" },
    { 0x84, 0x03, 16, { 0x84, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0 }, OKP, DI | SA,
      tgt_xcopy_receive_results, "RECEIVE COPY RESULTS / OPERATING PARAMETERS" },
    { 0x88, 0, 16, U_LBA16(0x88, 0x1e), RD, DI, tgt_sbc_read, "READ(16)" },
    /* SBC-3 5.3: DPO, FUA, FUA_NV, LBA, NUMBER OF LOGICAL BLOCKS (byte 13), GROUP NUMBER. */
    { 0x89, 0, 16, { 0x89, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0xff, 0x1f, 0 }, WR,
      DO | MW, tgt_sbc_compare_and_write, "COMPARE AND WRITE" },
    { 0x8a, 0, 16, U_LBA16(0x8a, 0x1a), WR, DO | MW, tgt_sbc_write, "WRITE(16)" },
    { 0x8b, 0, 16, U_LBA16(0x8b, 0x1a), WR, DO | MW, tgt_sbc_orwrite, "ORWRITE(16)" },
    { 0x8e, 0, 16, U_LBA16(0x8e, 0x16), WR, DO | MW, tgt_sbc_write_verify, "WRITE AND VERIFY(16)" },
    { 0x8f, 0, 16, U_LBA16(0x8f, 0x16), RD, DO, tgt_sbc_verify, "VERIFY(16)" },
    { 0x90, 0, 16, U_LBA16(0x90, 0x02), RD, 0, tgt_sbc_prefetch, "PRE-FETCH(16)" },
    { 0x91, 0, 16, U_LBA16(0x91, 0x06), WR, 0, tgt_sbc_sync_cache, "SYNCHRONIZE CACHE(16)" },
    /* SBC-3 5.43: ANCHOR, UNMAP, NDOB. */
    { 0x93, 0, 16, U_LBA16(0x93, 0x19), WR, DO | MW, tgt_sbc_write_same, "WRITE SAME(16)" },
    /* SBC-4 5.48: DPO, FUA, LBA, TRANSFER LENGTH, GROUP NUMBER; ATOMIC BOUNDARY (bytes 10-11) stays zero
     * because atomic boundaries are not supported (atomic.c). */
    { 0x9c, 0, 16, { 0x9c, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xff, 0xff, 0x1f, 0 }, WR,
      DO | MW, tgt_atomic_write16, "WRITE ATOMIC(16)" },
    /* SBC-3 5.16: READ CAPACITY(16) is SERVICE ACTION IN(16) 10h; the LBA and PMI fields are obsolete. */
    { 0x9e, 0x10, 16, { 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0 }, OKP, DI | SA,
      tgt_sbc_read_capacity16, "READ CAPACITY(16)" },
    /* SBC-3 5.7: GET LBA STATUS is SERVICE ACTION IN(16) 12h. */
    { 0x9e, 0x12, 16, { 0x9e, 0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
      0 }, RD, DI | SA, tgt_sbc_get_lba_status, "GET LBA STATUS" },
    /* SPC-4 6.27: SELECT REPORT, ALLOCATION LENGTH. */
    { 0xa0, 0, 12, { 0xa0, 0, 0xff, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0 }, OK,
      DI | TGT_F_NO_LU | TGT_F_SKIP_UA, tgt_spc_report_luns, "REPORT LUNS" },
    /* SPC-4 5.13.1 Table 65: REPORT SUPPORTED OPERATION CODES passes Write Exclusive, conflicts Exclusive Access. */
    /* SPC-4 6.35: RCTD, REPORTING OPTIONS, REQUESTED OPERATION CODE, REQUESTED SERVICE ACTION, ALLOCATION
     * LENGTH. */
    /* SPC-4 6.36: PARAMETER DATA FORMAT (bit 5: extended header), ALLOCATION LENGTH (alua.c). */
    { 0xa3, 0x0a, 12, { 0xa3, 0x2a, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0 }, OKP, DI | SA,
      tgt_alua_report_tpg, "REPORT TARGET PORT GROUPS" },
    { 0xa3, 0x0c, 12, { 0xa3, 0x0c, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0 }, RD, DI | SA,
      tgt_spc_rsoc, "REPORT SUPPORTED OPERATION CODES" },
    /* SPC-4 6.44: PARAMETER LIST LENGTH (alua.c). */
    { 0xa4, 0x0a, 12, { 0xa4, 0x0a, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0 }, WR, DO | SA, tgt_alua_set_tpg,
      "SET TARGET PORT GROUPS" },
    { 0xa8, 0, 12, U_READ12(0xa8), RD, DI, tgt_sbc_read, "READ(12)" },
    { 0xaa, 0, 12, U_WRITE12(0xaa), WR, DO | MW, tgt_sbc_write, "WRITE(12)" },
    { 0xae, 0, 12, U_VERIFY12(0xae), WR, DO | MW, tgt_sbc_write_verify, "WRITE AND VERIFY(12)" },
    { 0xaf, 0, 12, U_VERIFY12(0xaf), RD, DO, tgt_sbc_verify, "VERIFY(12)" },
    { 0xb7, 0, 12, { 0xb7, 0x1f, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0 }, WR, DI, tgt_sbc_read_defect_data,
      "READ DEFECT DATA(12)" },
};

bool tgt__cdb_sa(const uint8_t *cdb, uint16_t *sa)
{
    switch (cdb[0]) {
    case 0x5e: /* PERSISTENT RESERVE IN, SPC-4 6.15 */
    case 0x5f: /* PERSISTENT RESERVE OUT, SPC-4 6.16 */
    case 0x9e: /* SERVICE ACTION IN(16), SBC-3 5.16 */
    case 0x9f: /* SERVICE ACTION OUT(16) */
    case 0xa3: /* MAINTENANCE IN, SPC-4 6.35 */
    case 0xa4: /* MAINTENANCE OUT */
    case 0x48: /* SANITIZE, SBC-3 5.30 */
    case 0x83: /* THIRD-PARTY COPY OUT: EXTENDED COPY, SPC-4 6.4 */
    case 0x84: /* THIRD-PARTY COPY IN: RECEIVE COPY RESULTS, SPC-4 6.18 */
        *sa = cdb[1] & 0x1f;
        return true;
    case 0x7f: /* variable length CDB: SERVICE ACTION in bytes 8-9 (SPC-4 4.2.3) */
        *sa = prt_get_be16(cdb + 8);
        return true;
    default:
        *sa = 0;
        return false;
    }
}

const struct tgt_cmd_row *tgt_cmd_table_lookup(uint8_t opcode, uint16_t sa, bool *opcode_known)
{
    size_t lo = 0, hi = PRT_ARRAY_SIZE(rows);
    bool known = false;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct tgt_cmd_row *r = &rows[mid];
        uint32_t key = ((uint32_t)r->opcode << 16) | r->sa;
        uint32_t want = ((uint32_t)opcode << 16) | sa;

        if (r->opcode == opcode)
            known = true;
        if (key == want) {
            if (opcode_known)
                *opcode_known = true;
            return r;
        }
        if (key < want)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!known) {
        /* The binary search may not have touched a row of this opcode even when one exists. */
        for (size_t i = 0; i < PRT_ARRAY_SIZE(rows) && !known; i++)
            known = rows[i].opcode == opcode;
    }
    if (opcode_known)
        *opcode_known = known;
    return NULL;
}

enum pr_access tgt__row_pr_access(const struct tgt_cmd_row *row, const uint8_t *cdb)
{
    if (!(row->flags & TGT_F_PR_CDB))
        return row->pr;
    switch (row->opcode) {
    case 0x1b:
        /* SBC-3 Table 13: START STOP UNIT with START=1 and POWER CONDITION 0h never conflicts; stopping the
         * unit or changing its power condition conflicts like a write. */
        return ((cdb[4] & 0x01) && (cdb[4] >> 4) == 0) ? PR_ACCESS_ALLOWED : PR_ACCESS_WRITE;
    case 0x1e:
        /* SPC-4 Table 63: PREVENT ALLOW MEDIUM REMOVAL with PREVENT=0 never conflicts; preventing does. */
        return (cdb[4] & 0x03) == 0 ? PR_ACCESS_ALLOWED : PR_ACCESS_WRITE;
    default:
        return row->pr;
    }
}

const struct tgt_cmd_row *tgt_cmd_table_rows(size_t *n)
{
    *n = PRT_ARRAY_SIZE(rows);
    return rows;
}
