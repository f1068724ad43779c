/* iscsi-persist wire formats and text: the PR IN/OUT CDBs and parameter list (SPC-4 6.14, 6.15), and the text
 * sg_persist 0.67 prints for PR IN data, INQUIRY data, sense and failures. Pure functions over buffers and FILE
 * streams so that every byte and every line can be unit tested.
 *
 * Decoding never trusts a length field: the data the device returned bounds every read, so a response whose
 * ADDITIONAL LENGTH or descriptor length overstates what arrived is printed up to what arrived. */
#include "app/iscsi_persist.h"

#include <inttypes.h>
#include <string.h>

#include "common/prt_be.h"

/* SPC-4 Table 165/182 (PERSISTENT RESERVE IN/OUT operation codes). */
#define OP_PRIN 0x5e
#define OP_PROUT 0x5f

/* SAM-5 5.3.1 status codes. */
enum {
    ST_GOOD = 0x00,
    ST_CHECK_CONDITION = 0x02,
    ST_CONDITION_MET = 0x04,
    ST_BUSY = 0x08,
    ST_RESERVATION_CONFLICT = 0x18,
    ST_TASK_SET_FULL = 0x28,
    ST_ACA_ACTIVE = 0x30,
    ST_TASK_ABORTED = 0x40,
};

/* SPC-4 4.5.6 (Table 48) sense keys. */
enum {
    SK_NO_SENSE = 0x0,
    SK_RECOVERED = 0x1,
    SK_NOT_READY = 0x2,
    SK_MEDIUM = 0x3,
    SK_HARDWARE = 0x4,
    SK_ILLEGAL_REQUEST = 0x5,
    SK_UNIT_ATTENTION = 0x6,
    SK_DATA_PROTECT = 0x7,
    SK_BLANK_CHECK = 0x8,
    SK_COPY_ABORTED = 0xa,
    SK_ABORTED_COMMAND = 0xb,
    SK_MISCOMPARE = 0xe,
};

void prt_persist_prin_cdb(uint8_t cdb[10], int sa, uint16_t alloc_len)
{
    memset(cdb, 0, 10);
    cdb[0] = OP_PRIN;
    cdb[1] = (uint8_t)(sa & 0x1f);
    prt_put_be16(cdb + 7, alloc_len);
}

void prt_persist_prout_cdb(uint8_t cdb[10], int sa, uint32_t type, uint32_t param_len)
{
    memset(cdb, 0, 10);
    cdb[0] = OP_PROUT;
    cdb[1] = (uint8_t)(sa & 0x1f);
    /* SPC-4 6.15.1: SCOPE (bits 7-4) is LU_SCOPE (0h), the only scope SPC-4 defines; TYPE is bits 3-0. */
    cdb[2] = (uint8_t)(type & 0x0f);
    prt_put_be32(cdb + 5, param_len);
}

size_t prt_persist_prout_params(const struct prt_persist_opts *o, uint8_t *buf, size_t cap)
{
    size_t len = 24;

    if (cap < 24)
        return 0;
    memset(buf, 0, 24);
    prt_put_be64(buf + 0, o->param_rk);
    prt_put_be64(buf + 8, o->param_sark);
    if (o->prout_sa == PRT_PROUT_REGISTER_MOVE) {
        /* SPC-4 6.15.4 (Table 190): UNREG is byte 17 bit 1, APTPL bit 0; RELATIVE TARGET PORT IDENTIFIER is
         * bytes 18-19; TRANSPORTID PARAMETER DATA LENGTH bytes 20-23; the TransportID follows. */
        if (o->param_unreg)
            buf[17] |= 0x02;
        if (o->param_aptpl)
            buf[17] |= 0x01;
        prt_put_be16(buf + 18, (uint16_t)o->param_rtp);
        if (o->tids_len > 0 && len + o->tids_len <= cap) {
            prt_put_be32(buf + 20, (uint32_t)o->tids_len);
            memcpy(buf + 24, o->tids, o->tids_len);
            len += o->tids_len;
        }
        return len;
    }
    /* SPC-4 6.15.3 (Table 186): SPEC_I_PT is byte 20 bit 3, ALL_TG_PT bit 2, APTPL bit 0. With SPEC_I_PT the
     * TRANSPORTID PARAMETER DATA LENGTH (bytes 24-27) and the TransportIDs follow the 24 fixed bytes. */
    if (o->param_alltgpt)
        buf[20] |= 0x04;
    if (o->param_aptpl)
        buf[20] |= 0x01;
    if (o->tids_len > 0 && len + 4 + o->tids_len <= cap) {
        buf[20] |= 0x08;
        prt_put_be32(buf + 24, (uint32_t)o->tids_len);
        memcpy(buf + 28, o->tids, o->tids_len);
        len += 4 + o->tids_len;
    }
    return len;
}

/* ---- names ----------------------------------------------------------------------------------------------- */

const char *prt_persist_type_str(unsigned type)
{
    /* SPC-4 6.14.3.4 (Table 170) persistent reservation types, in sg_persist's words. */
    static const char *const names[16] = {
        "obsolete [0]", "Write Exclusive", "obsolete [2]", "Exclusive Access", "obsolete [4]",
        "Write Exclusive, registrants only", "Exclusive Access, registrants only",
        "Write Exclusive, all registrants", "Exclusive Access, all registrants", "obsolete [9]",
        "obsolete [0xa]", "obsolete [0xb]", "obsolete [0xc]", "obsolete [0xd]", "obsolete [0xe]",
        "obsolete [0xf]",
    };
    return names[type & 0xf];
}

const char *prt_persist_prin_sa_str(int sa)
{
    static const char *const names[8] = {
        "Read keys", "Read reservation", "Report capabilities", "Read full status",
        "[reserved 0x4]", "[reserved 0x5]", "[reserved 0x6]", "[reserved 0x7]",
    };
    return (sa >= 0 && sa < 8) ? names[sa] : "[reserved]";
}

const char *prt_persist_prout_sa_str(int sa)
{
    static const char *const names[10] = {
        "Register", "Reserve", "Release", "Clear", "Preempt", "Preempt and abort",
        "Register and ignore existing key", "Register and move", "Replace lost reservation", "[reserved 0x9]",
    };
    return (sa >= 0 && sa < 10) ? names[sa] : "[reserved]";
}

static const char *pdt_str(unsigned pdt)
{
    /* SPC-4 6.6.2 (Table 141) peripheral device types, in sg3_utils' words. */
    static const char *const names[32] = {
        "disk", "tape", "printer", "processor", "write once optical disk", "cd/dvd", "scanner",
        "optical memory device", "medium changer", "communications", "graphics [0xa]", "graphics [0xb]",
        "storage array controller", "enclosure services device", "simplified direct access device",
        "optical card reader/writer device", "bridge controller commands", "object based storage",
        "automation/driver interface", "security manager device", "host managed zoned block", "0x15", "0x16",
        "0x17", "0x18", "0x19", "0x1a", "0x1b", "0x1c", "0x1d", "well known logical unit",
        "unknown or no device type",
    };
    return names[pdt & 0x1f];
}

/* ---- hex dump -------------------------------------------------------------------------------------------- */

static void put_trimmed(FILE *out, char *line, size_t len)
{
    while (len > 0 && line[len - 1] == ' ')
        len--;
    fprintf(out, "%.*s\n", (int)len, line);
}

void prt_persist_hex(FILE *out, const uint8_t *p, size_t len, int no_ascii)
{
    static const char hx[] = "0123456789abcdef";
    char line[96];

    if (no_ascii < 0) {
        /* Hex only: 16 bytes a line, an extra space after the eighth. */
        for (size_t off = 0; off < len; off += 16) {
            size_t n = len - off < 16 ? len - off : 16, pos = 0;
            memset(line, ' ', sizeof(line));
            for (size_t i = 0; i < n; i++) {
                pos = 3 * i + (i >= 8 ? 1 : 0);
                line[pos] = hx[p[off + i] >> 4];
                line[pos + 1] = hx[p[off + i] & 0xf];
            }
            put_trimmed(out, line, pos + 2);
        }
        return;
    }
    /* Address at the left, the bytes from column 8, and (no_ascii == 0) the characters from column 60. */
    for (size_t off = 0; off < len; off += 16) {
        size_t n = len - off < 16 ? len - off : 16;
        memset(line, ' ', sizeof(line));
        int k = snprintf(line + 1, sizeof(line) - 1, "%.2zx", off);
        line[k + 1] = ' ';
        for (size_t i = 0; i < n; i++) {
            size_t pos = 8 + 3 * i + (i >= 8 ? 1 : 0);
            uint8_t c = p[off + i];
            line[pos] = hx[c >> 4];
            line[pos + 1] = hx[c & 0xf];
            if (no_ascii == 0)
                line[60 + i] = (c < ' ' || c >= 0x7f) ? '.' : (char)c;
        }
        if (no_ascii == 0)
            fprintf(out, "%.*s\n", (int)(60 + n), line);
        else
            put_trimmed(out, line, 60 + n);
    }
}

void prt_persist_print_cdb(FILE *out, const char *leadin, const uint8_t *cdb, size_t len)
{
    fprintf(out, "    %s cdb: ", leadin);
    for (size_t i = 0; i < len; i++)
        fprintf(out, "%02x ", cdb[i]);
    fputc('\n', out);
}

/* ---- TransportIDs ---------------------------------------------------------------------------------------- */

void prt_persist_print_tid(FILE *out, const char *leadin, const uint8_t *p, size_t len)
{
    /* A READ FULL STATUS descriptor carries exactly one TransportID (SPC-4 6.14.5, Table 174). */
    if (len < 24 || (len % 4) != 0)
        fprintf(out, "%sTransport Id short or not multiple of 4 [length=%zu]:\n", leadin, len);
    else
        fprintf(out, "%sTransport Id of initiator:\n", leadin);
    if (len < 4)
        return;
    unsigned fmt = p[0] >> 6, proto = p[0] & 0x0f;
    switch (proto) {
    case 0x5: { /* SPC-4 7.6.4.6 iSCSI: format 00b name, 01b name ",i,0x" ISID */
        size_t n = prt_get_be16(p + 2);
        if (n > len - 4)
            n = len - 4;
        const uint8_t *nul = memchr(p + 4, '\0', n);
        if (nul != NULL)
            n = (size_t)(nul - (p + 4));
        if (fmt == 0)
            fprintf(out, "%s  iSCSI name: %.*s\n", leadin, (int)n, (const char *)(p + 4));
        else if (fmt == 1)
            fprintf(out, "%s  iSCSI world wide unique port id: %.*s\n", leadin, (int)n, (const char *)(p + 4));
        else {
            fprintf(out, "%s  iSCSI   [Unexpected TPID format: %u]\n", leadin, fmt);
            prt_persist_hex(out, p, len, -1);
        }
        break;
    }
    case 0x6: /* SPC-4 7.6.4.7 SAS */
        if (len >= 12)
            fprintf(out, "%s  SAS address: 0x%016" PRIx64 "\n", leadin, prt_get_be64(p + 4));
        break;
    case 0x0: /* SPC-4 7.6.4.2 FCP */
        fprintf(out, "%s  FCP-2 World Wide Name:\n", leadin);
        if (len >= 16)
            prt_persist_hex(out, p + 8, 8, -1);
        break;
    case 0x1: /* SPC-4 7.6.4.3 SPI */
        if (len >= 8) {
            fprintf(out, "%s  Parallel SCSI initiator SCSI address: 0x%x\n", leadin, prt_get_be16(p + 2));
            fprintf(out, "%s  relative port number (of corresponding target): 0x%x\n", leadin,
                    prt_get_be16(p + 6));
        }
        break;
    default:
        fprintf(out, "%s  unknown protocol id=0x%x  TPID format=%u\n", leadin, proto, fmt);
        prt_persist_hex(out, p, len > 24 ? 24 : len, -1);
        break;
    }
}

/* ---- PR IN data ------------------------------------------------------------------------------------------- */

static int print_capabilities(FILE *out, FILE *err, const struct prt_persist_opts *o, const uint8_t *b,
                              size_t len)
{
    /* SPC-4 6.14.4 (Table 171): the REPORT CAPABILITIES parameter data is 8 bytes, LENGTH says so. */
    if (len < 8 || b[1] != 8) {
        fprintf(err, "Unexpected response for PRIN Report Capabilities\n");
        if (o->hex && len >= 2)
            prt_persist_hex(out, b, b[1] < len ? b[1] : len, 1);
        return PRT_EXIT_MALFORMED;
    }
    if (o->hex) {
        prt_persist_hex(out, b, 8, 1);
        return PRT_EXIT_OK;
    }
    fprintf(out, "Report capabilities response:\n");
    fprintf(out, "  Replace Lost Reservation Capable(RLR_C): %d\n", !!(b[2] & 0x80));
    fprintf(out, "  Compatible Reservation Handling(CRH): %d\n", !!(b[2] & 0x10));
    fprintf(out, "  Specify Initiator Ports Capable(SIP_C): %d\n", !!(b[2] & 0x08));
    fprintf(out, "  All Target Ports Capable(ATP_C): %d\n", !!(b[2] & 0x04));
    fprintf(out, "  Persist Through Power Loss Capable(PTPL_C): %d\n", !!(b[2] & 0x01));
    fprintf(out, "  Type Mask Valid(TMV): %d\n", !!(b[3] & 0x80));
    fprintf(out, "  Allow Commands: %d\n", (b[3] >> 4) & 0x7);
    fprintf(out, "  Persist Through Power Loss Active(PTPL_A): %d\n", !!(b[3] & 0x01));
    if (b[3] & 0x80) {
        /* SPC-4 6.14.4 (Table 173) PERSISTENT RESERVATION TYPE MASK bits. */
        fprintf(out, "    Support indicated in Type mask:\n");
        fprintf(out, "      %s: %d\n", prt_persist_type_str(7), !!(b[4] & 0x80));
        fprintf(out, "      %s: %d\n", prt_persist_type_str(6), !!(b[4] & 0x40));
        fprintf(out, "      %s: %d\n", prt_persist_type_str(5), !!(b[4] & 0x20));
        fprintf(out, "      %s: %d\n", prt_persist_type_str(3), !!(b[4] & 0x08));
        fprintf(out, "      %s: %d\n", prt_persist_type_str(1), !!(b[4] & 0x02));
        fprintf(out, "      %s: %d\n", prt_persist_type_str(8), !!(b[5] & 0x01));
    }
    return PRT_EXIT_OK;
}

static void print_scope_type(FILE *out, const char *indent, uint8_t scope_type)
{
    unsigned scope = scope_type >> 4;
    if (scope == 0)
        fprintf(out, "%sscope: LU_SCOPE, ", indent);
    else
        fprintf(out, "%sscope: %u ", indent, scope);
    fprintf(out, " type: %s\n", prt_persist_type_str(scope_type & 0xf));
}

static void print_full_status(FILE *out, const struct prt_persist_opts *o, const uint8_t *b, size_t avail,
                              uint32_t add_len)
{
    /* SPC-4 6.14.5 (Table 174): each full status descriptor is 24 bytes plus ADDITIONAL DESCRIPTOR LENGTH
     * bytes of TransportID. */
    if (add_len == 0) {
        fprintf(out, "  No full status descriptors\n");
        if (o->verbose)
            fprintf(out, "  So there are no registered IT nexuses\n");
    }
    size_t end = add_len < avail ? add_len : avail;
    for (size_t k = 0; k + 24 <= end;) {
        const uint8_t *d = b + k;
        uint32_t desc_len = prt_get_be32(d + 20);
        fprintf(out, "    Key=0x%" PRIx64 "\n", prt_get_be64(d));
        if (d[12] & 0x02)
            fprintf(out, "      All target ports bit set\n");
        else {
            fprintf(out, "      All target ports bit clear\n");
            fprintf(out, "      Relative port address: 0x%x\n", prt_get_be16(d + 18));
        }
        if (d[12] & 0x01) {
            fprintf(out, "      << Reservation holder >>\n");
            print_scope_type(out, "      ", d[13]);
        } else
            fprintf(out, "      not reservation holder\n");
        size_t tid_len = desc_len;
        if (tid_len > end - k - 24)
            tid_len = end - k - 24;
        if (desc_len > 0)
            prt_persist_print_tid(out, "      ", d + 24, tid_len);
        if ((uint64_t)desc_len > end - k - 24)
            break;
        k += 24 + desc_len;
    }
}

int prt_persist_print_prin(FILE *out, FILE *err, const struct prt_persist_opts *o, const uint8_t *buf,
                           size_t len)
{
    if (o->prin_sa == PRT_PRIN_REPORT_CAPABILITIES)
        return print_capabilities(out, err, o, buf, len);

    uint8_t head[8] = {0};
    memcpy(head, buf, len < 8 ? len : 8);
    /* SPC-4 6.14.2/6.14.3/6.14.5: PRGENERATION in bytes 0-3, ADDITIONAL LENGTH in bytes 4-7. */
    uint32_t gen = prt_get_be32(head);
    uint32_t add_len = prt_get_be32(head + 4);
    const uint8_t *body = buf + (len < 8 ? len : 8);
    size_t avail = len > 8 ? len - 8 : 0;

    if (o->hex) {
        if (o->hex > 1) {
            size_t n = (uint64_t)add_len + 8 < len ? add_len + 8 : len;
            prt_persist_hex(out, buf, n, o->hex == 2 ? 1 : -1);
            return PRT_EXIT_OK;
        }
        fprintf(out, "  PR generation=0x%x, ", gen);
        /* sg_persist prints the length twice when it is zero (or reads as negative); kept line for line. */
        if ((int32_t)add_len <= 0)
            fprintf(out, "Additional length=%d\n", (int32_t)add_len);
        uint32_t room = o->alloc_len > 8 ? o->alloc_len - 8 : 0;
        if (add_len > room) {
            fprintf(out, "Additional length too large=%d, truncate\n", (int32_t)add_len);
            prt_persist_hex(out, body, avail < room ? avail : room, 1);
        } else {
            fprintf(out, "Additional length=%d\n", (int32_t)add_len);
            prt_persist_hex(out, body, add_len < avail ? add_len : avail, 1);
        }
        return PRT_EXIT_OK;
    }
    switch (o->prin_sa) {
    case PRT_PRIN_READ_KEYS: {
        /* SPC-4 6.14.2 (Table 168): a list of 8-byte reservation keys. */
        uint32_t num = add_len / 8;
        fprintf(out, "  PR generation=0x%x, ", gen);
        if (num == 0) {
            fprintf(out, "there are NO registered reservation keys\n");
            break;
        }
        if (num == 1)
            fprintf(out, "1 registered reservation key follows:\n");
        else
            fprintf(out, "%u registered reservation keys follow:\n", num);
        for (uint32_t k = 0; k < num && (size_t)k * 8 + 8 <= avail; k++)
            fprintf(out, "    0x%" PRIx64 "\n", prt_get_be64(body + 8 * k));
        break;
    }
    case PRT_PRIN_READ_RESERVATION:
        /* SPC-4 6.14.3 (Table 169): one 16-byte descriptor when a reservation exists: key, then SCOPE/TYPE in
         * byte 13 of the descriptor. */
        fprintf(out, "  PR generation=0x%x, ", gen);
        if (add_len / 16 > 0 && avail >= 16) {
            fprintf(out, "Reservation follows:\n");
            fprintf(out, "    Key=0x%" PRIx64 "\n", prt_get_be64(body));
            print_scope_type(out, "    ", body[13]);
        } else if (add_len / 16 > 0) {
            fprintf(out, "Reservation follows:\n");
        } else
            fprintf(out, "there is NO reservation held\n");
        break;
    case PRT_PRIN_READ_FULL_STATUS:
        fprintf(out, "  PR generation=0x%x\n", gen);
        print_full_status(out, o, body, avail, add_len);
        break;
    default:
        break;
    }
    return PRT_EXIT_OK;
}

void prt_persist_print_inquiry(FILE *out, const uint8_t *inq, size_t len)
{
    /* SPC-4 6.6.2 (Table 140): T10 VENDOR IDENTIFICATION 8-15, PRODUCT IDENTIFICATION 16-31, PRODUCT REVISION
     * LEVEL 32-35, PERIPHERAL DEVICE TYPE byte 0 bits 4-0. Short data reads as zeros, as sg3_utils pre-zeroes. */
    uint8_t d[36] = {0};
    memcpy(d, inq, len < sizeof(d) ? len : sizeof(d));
    fprintf(out, "  %.8s  %.16s  %.4s\n", (const char *)d + 8, (const char *)d + 16, (const char *)d + 32);
    fprintf(out, "  Peripheral device type: %s\n", pdt_str(d[0] & 0x1f));
}

/* ---- status, sense, exit status -------------------------------------------------------------------------- */

int prt_persist_category(int scsi_status, const struct prt_persist_sense *s)
{
    switch (scsi_status) {
    case ST_GOOD: return PRT_EXIT_OK;
    case ST_CONDITION_MET: return PRT_EXIT_CONDITION_MET;
    case ST_BUSY: return PRT_EXIT_BUSY;
    case ST_RESERVATION_CONFLICT: return PRT_EXIT_RES_CONFLICT;
    case ST_TASK_SET_FULL: return PRT_EXIT_TASK_SET_FULL;
    case ST_ACA_ACTIVE: return PRT_EXIT_ACA_ACTIVE;
    case ST_TASK_ABORTED: return PRT_EXIT_TASK_ABORTED;
    case ST_CHECK_CONDITION: break;
    default: return PRT_EXIT_OTHER;
    }
    if (s == NULL)
        return PRT_EXIT_SENSE;
    switch (s->key) {
    case SK_NO_SENSE: return PRT_EXIT_NO_SENSE;
    case SK_RECOVERED: return PRT_EXIT_RECOVERED;
    case SK_NOT_READY: return PRT_EXIT_NOT_READY;
    case SK_MEDIUM:
    case SK_HARDWARE:
    case SK_BLANK_CHECK: return PRT_EXIT_MEDIUM_HARD;
    case SK_ILLEGAL_REQUEST:
        /* SPC-4 Annex D: 20h/00h INVALID COMMAND OPERATION CODE, 21h/00h LBA OUT OF RANGE get their own
         * categories in sg3_utils. */
        if (s->asc == 0x20 && s->ascq == 0x00)
            return PRT_EXIT_INVALID_OP;
        if (s->asc == 0x21 && s->ascq == 0x00)
            return PRT_EXIT_LBA_OUT_OF_RANGE;
        return PRT_EXIT_ILLEGAL_REQ;
    case SK_UNIT_ATTENTION: return PRT_EXIT_UNIT_ATTENTION;
    case SK_DATA_PROTECT: return PRT_EXIT_DATA_PROTECT;
    case SK_COPY_ABORTED: return PRT_EXIT_COPY_ABORTED;
    case SK_ABORTED_COMMAND: return s->asc == 0x10 ? PRT_EXIT_PROTECTION : PRT_EXIT_ABORTED_COMMAND;
    case SK_MISCOMPARE: return PRT_EXIT_MISCOMPARE;
    default: return PRT_EXIT_SENSE;
    }
}

const char *prt_persist_category_str(int cat)
{
    switch (cat) {
    case PRT_EXIT_OK: return "No errors";
    case PRT_EXIT_NOT_READY: return "Not ready";
    case PRT_EXIT_MEDIUM_HARD: return "Medium or hardware error";
    case PRT_EXIT_ILLEGAL_REQ: return "Illegal request";
    case PRT_EXIT_UNIT_ATTENTION: return "Unit attention";
    case PRT_EXIT_DATA_PROTECT: return "Data protect";
    case PRT_EXIT_INVALID_OP: return "Illegal request, invalid opcode";
    case PRT_EXIT_COPY_ABORTED: return "Copy aborted";
    case PRT_EXIT_ABORTED_COMMAND: return "Aborted command";
    case PRT_EXIT_MISCOMPARE: return "Miscompare";
    case PRT_EXIT_FILE_ERROR: return "File error";
    case PRT_EXIT_NO_SENSE: return "No sense key";
    case PRT_EXIT_RECOVERED: return "Recovered error";
    case PRT_EXIT_LBA_OUT_OF_RANGE: return "LBA out of range";
    case PRT_EXIT_RES_CONFLICT: return "Reservation conflict";
    case PRT_EXIT_CONDITION_MET: return "Condition met";
    case PRT_EXIT_BUSY: return "Busy";
    case PRT_EXIT_TASK_SET_FULL: return "Task set full";
    case PRT_EXIT_ACA_ACTIVE: return "ACA active";
    case PRT_EXIT_TASK_ABORTED: return "Task aborted";
    case PRT_EXIT_TIMEOUT: return "SCSI command timeout";
    case PRT_EXIT_PROTECTION: return "Aborted command, protection";
    case PRT_EXIT_MALFORMED: return "Malformed response";
    case PRT_EXIT_SENSE: return "Some other sense data problem";
    default: return "Some other error/warning has occurred, possible transport of driver issue";
    }
}

const char *prt_persist_exit_str(int cat)
{
    switch (cat) {
    case PRT_EXIT_SYNTAX: return "Syntax error";
    case PRT_EXIT_NOT_READY: return "Device not ready";
    case PRT_EXIT_MEDIUM_HARD: return "Medium or hardware error";
    case PRT_EXIT_ILLEGAL_REQ: return "Illegal request";
    case PRT_EXIT_UNIT_ATTENTION: return "Unit attention";
    case PRT_EXIT_DATA_PROTECT: return "Data protect";
    case PRT_EXIT_INVALID_OP: return "Illegal request, Invalid opcode";
    case PRT_EXIT_COPY_ABORTED: return "Copy aborted";
    case PRT_EXIT_ABORTED_COMMAND: return "Aborted command";
    case PRT_EXIT_MISCOMPARE: return "Miscompare";
    case PRT_EXIT_FILE_ERROR: return "File error";
    case PRT_EXIT_NO_SENSE: return "No sense key";
    case PRT_EXIT_RECOVERED: return "Recovered error (warning)";
    case PRT_EXIT_LBA_OUT_OF_RANGE: return "LBA out of range";
    case PRT_EXIT_RES_CONFLICT: return "Reservation conflict";
    case PRT_EXIT_CONDITION_MET: return "Condition met";
    case PRT_EXIT_BUSY: return "Busy";
    case PRT_EXIT_TASK_SET_FULL: return "Task set full";
    case PRT_EXIT_ACA_ACTIVE: return "ACA aactive"; /* sic: sg3_utils 1.46's spelling */
    case PRT_EXIT_TASK_ABORTED: return "Task aborted";
    case PRT_EXIT_CONTRADICT: return "Contradict";
    case PRT_EXIT_TIMEOUT: return "SCSI command timeout";
    case PRT_EXIT_PROTECTION: return "Aborted command, protection error";
    case PRT_EXIT_MALFORMED: return "Malformed SCSI command";
    case PRT_EXIT_SENSE: return "Some other sense error";
    case PRT_EXIT_OTHER: return "Some other error";
    default: return NULL;
    }
}

static const char *sense_key_str(unsigned key)
{
    /* SPC-4 4.5.6 (Table 48), in sg3_utils' words. */
    static const char *const names[16] = {
        "No Sense", "Recovered Error", "Not Ready", "Medium Error", "Hardware Error", "Illegal Request",
        "Unit Attention", "Data Protect", "Blank Check", "Vendor specific", "Copy Aborted", "Aborted Command",
        "Equal", "Volume Overflow", "Miscompare", "Completed",
    };
    return names[key & 0xf];
}

/* The additional sense codes a persistent reservation exchange can meet (SPC-4 Annex D, Table D.1). */
static const struct {
    uint8_t asc, ascq;
    const char *text;
} asc_names[] = {
    {0x04, 0x00, "Logical unit not ready, cause not reportable"},
    {0x04, 0x01, "Logical unit is in process of becoming ready"},
    {0x1a, 0x00, "Parameter list length error"},
    {0x20, 0x00, "Invalid command operation code"},
    {0x21, 0x00, "Logical block address out of range"},
    {0x24, 0x00, "Invalid field in cdb"},
    {0x25, 0x00, "Logical unit not supported"},
    {0x26, 0x00, "Invalid field in parameter list"},
    {0x26, 0x01, "Parameter not supported"},
    {0x26, 0x02, "Parameter value invalid"},
    {0x26, 0x04, "Invalid release of persistent reservation"},
    {0x27, 0x00, "Write protected"},
    {0x29, 0x00, "Power on, reset, or bus device reset occurred"},
    {0x29, 0x01, "Power on occurred"},
    {0x29, 0x02, "SCSI bus reset occurred"},
    {0x29, 0x03, "Bus device reset function occurred"},
    {0x29, 0x04, "Device internal reset"},
    {0x29, 0x07, "I_T nexus loss occurred"},
    {0x2a, 0x00, "Parameters changed"},
    {0x2a, 0x01, "Mode parameters changed"},
    {0x2a, 0x03, "Reservations preempted"},
    {0x2a, 0x04, "Reservations released"},
    {0x2a, 0x05, "Registrations preempted"},
    {0x2a, 0x09, "Capacity data has changed"},
    {0x2c, 0x00, "Command sequence error"},
    {0x2c, 0x09, "Previous reservation conflict status"},
    {0x2f, 0x00, "Commands cleared by another initiator"},
    {0x2f, 0x02, "Commands cleared by device server"},
    {0x3a, 0x00, "Medium not present"},
    {0x3f, 0x03, "Inquiry data has changed"},
    {0x3f, 0x0e, "Reported luns data has changed"},
    {0x44, 0x00, "Internal target failure"},
    {0x55, 0x04, "Insufficient registration resources"},
};

void prt_persist_print_sense(FILE *out, const struct prt_persist_sense *s)
{
    const char *fmt;
    switch (s->response_code & 0x7f) {
    case 0x70: fmt = "Fixed format, current"; break;
    case 0x71: fmt = "Fixed format, <<<deferred>>>"; break;
    case 0x72: fmt = "Descriptor format, current"; break;
    case 0x73: fmt = "Descriptor format, <<<deferred>>>"; break;
    default: fmt = "Fixed format, current"; break;
    }
    fprintf(out, "%s; Sense key: %s\n", fmt, sense_key_str(s->key));
    const char *text = NULL;
    for (size_t i = 0; i < PRT_ARRAY_SIZE(asc_names); i++)
        if (asc_names[i].asc == s->asc && asc_names[i].ascq == s->ascq)
            text = asc_names[i].text;
    if (text != NULL)
        fprintf(out, "Additional sense: %s\n", text);
    else
        fprintf(out, "ASC=%02x, ASCQ=%02x (hex)\n", s->asc, s->ascq);
    /* SPC-4 4.5.2.4.2: for ILLEGAL REQUEST the sense-key specific field points at the offending byte (and bit)
     * of the CDB (C/D=1) or the parameter list (C/D=0). */
    if (s->sksv && s->key == SK_ILLEGAL_REQUEST) {
        fprintf(out, "  Sense Key Specific: Error in %s: byte %u", s->cd ? "Command" : "Parameter",
                s->field_pointer);
        if (s->bpv)
            fprintf(out, " bit %u", s->bit_pointer);
        fputc('\n', out);
    }
}
