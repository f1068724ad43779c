/* PERSISTENT RESERVE IN parameter data (SPC-4 6.15). Every builder returns the full length and writes only what
 * fits, so ADDITIONAL LENGTH describes the whole data whatever the allocation length (SPC-4 6.15.1). */
#include <string.h>

#include "common/prt_be.h"
#include "prstate/pr_internal.h"

/* Copy n bytes at offset off of the parameter data, keeping only what fits in cap. */
static void pr_put(uint8_t *buf, size_t cap, size_t off, const void *src, size_t n)
{
    if (off >= cap)
        return;
    if (n > cap - off)
        n = cap - off;
    memcpy(buf + off, src, n);
}

static size_t pr_in_read_keys(const struct pr_state *st, uint8_t *buf, size_t cap)
{
    /* SPC-4 6.15.2: PRGENERATION, ADDITIONAL LENGTH, then one 8-byte key per registered I_T nexus. */
    size_t len = 8 + (size_t)st->n_regs * 8;
    uint8_t hdr[8];
    prt_put_be32(hdr, st->generation);
    prt_put_be32(hdr + 4, (uint32_t)(len - 8));
    pr_put(buf, cap, 0, hdr, 8);
    size_t off = 8;
    for (uint32_t i = 0; i < st->regs_cap && off < cap; i++) {
        if (!(st->regs[i].flags & PR_REG_REGISTERED))
            continue;
        uint8_t k[8];
        prt_put_be64(k, st->regs[i].key);
        pr_put(buf, cap, off, k, 8);
        off += 8;
    }
    return len;
}

static size_t pr_in_read_reservation(const struct pr_state *st, uint8_t *buf, size_t cap)
{
    /* SPC-4 6.15.3: 8-byte header, then a 16-byte descriptor when a reservation exists. */
    uint8_t d[24];
    memset(d, 0, sizeof(d));
    prt_put_be32(d, st->generation);
    size_t len = 8;
    if (st->reserved) {
        struct pr_resv_info ri;
        pr_state_reservation(st, &ri);
        prt_put_be32(d + 4, 16);
        prt_put_be64(d + 8, ri.key);
        d[8 + 13] = (uint8_t)(st->scope << 4 | st->type);
        len = 24;
    }
    pr_put(buf, cap, 0, d, len);
    return len;
}

static size_t pr_in_report_capabilities(const struct pr_state *st, uint8_t *buf, size_t cap)
{
    const struct pr_caps *c = &st->caps;
    uint8_t d[8];
    memset(d, 0, sizeof(d));
    /* SPC-4 6.15.4: LENGTH is 8. */
    prt_put_be16(d, 8);
    /* SPC-5 6.16.4: RLR_C (bit 7) says REPLACE LOST RESERVATION is supported; SPC-4 6.15.4: CRH, SIP_C, ATP_C,
     * PTPL_C. PTPL_C needs a state file to write. */
    bool rlr = (c->out_sa_mask & (1u << PR_OUT_REPLACE_LOST)) != 0;
    bool ptpl_c = c->ptpl && st->path != NULL;
    d[2] = (uint8_t)((rlr ? 0x80 : 0) | (c->crh ? 0x10 : 0) | (c->sip_c ? 0x08 : 0) | (c->atp_c ? 0x04 : 0) |
                     (ptpl_c ? 0x01 : 0));
    /* SPC-4 6.15.4: TMV says the type mask is valid; ALLOW COMMANDS in bits 6-4; PTPL_A is the APTPL state. */
    d[3] = (uint8_t)((c->tmv ? 0x80 : 0) | (c->allow_commands & 7) << 4 | (ptpl_c && st->aptpl ? 0x01 : 0));
    /* SPC-4 6.15.4 PERSISTENT RESERVATION TYPE MASK: byte 4 WR_EX_AR(7) EX_AC_RO(6) WR_EX_RO(5) EX_AC(3)
     * WR_EX(1); byte 5 bit 0 EX_AC_AR(8). */
    uint16_t m = c->type_mask;
    d[4] = (uint8_t)(((m >> PR_TYPE_WE_AR) & 1) << 7 | ((m >> PR_TYPE_EA_RO) & 1) << 6 |
                     ((m >> PR_TYPE_WE_RO) & 1) << 5 | ((m >> PR_TYPE_EA) & 1) << 3 | ((m >> PR_TYPE_WE) & 1) << 1);
    d[5] = (uint8_t)((m >> PR_TYPE_EA_AR) & 1);
    pr_put(buf, cap, 0, d, 8);
    return 8;
}

static size_t pr_in_read_full_status(const struct pr_state *st, uint8_t *buf, size_t cap)
{
    /* SPC-4 6.15.5: one full status descriptor per registered I_T nexus: key, R_HOLDER, scope/type,
     * RELATIVE TARGET PORT IDENTIFIER, and the initiator port's TransportID (format 01b, with the ISID). */
    size_t off = 8;
    for (uint32_t i = 0; i < st->regs_cap; i++) {
        if (!(st->regs[i].flags & PR_REG_REGISTERED))
            continue;
        const struct pr_itn *id = pr_itn_get(st->tab, i);
        if (!id)
            continue;
        uint8_t tid[PR_INAME_MAX + 32];
        size_t tlen = pr_tid_format(id, tid, sizeof(tid));
        uint8_t d[24];
        memset(d, 0, sizeof(d));
        prt_put_be64(d, st->regs[i].key);
        bool holder = pr__is_holder(st, i);
        /* SPC-4 6.15.5: each descriptor stands for one I_T nexus (a registration made with ALL_TG_PT=1 has one
         * per target port), so ALL_TG_PT is zero and the RELATIVE TARGET PORT IDENTIFIER is meaningful. */
        d[12] = (uint8_t)(holder ? 0x01 : 0);
        if (holder)
            d[13] = (uint8_t)(st->scope << 4 | st->type);
        prt_put_be16(d + 18, id->rtpi);
        prt_put_be32(d + 20, (uint32_t)tlen);
        pr_put(buf, cap, off, d, 24);
        pr_put(buf, cap, off + 24, tid, tlen);
        off += 24 + tlen;
    }
    uint8_t hdr[8];
    prt_put_be32(hdr, st->generation);
    prt_put_be32(hdr + 4, (uint32_t)(off - 8));
    pr_put(buf, cap, 0, hdr, 8);
    return off;
}

size_t pr_in(const struct pr_state *st, uint8_t sa, uint8_t *buf, size_t cap, enum pr_status *status)
{
    *status = PR_OK;
    switch (sa) {
    case PR_IN_READ_KEYS: return pr_in_read_keys(st, buf, cap);
    case PR_IN_READ_RESERVATION: return pr_in_read_reservation(st, buf, cap);
    case PR_IN_REPORT_CAPABILITIES: return pr_in_report_capabilities(st, buf, cap);
    case PR_IN_READ_FULL_STATUS: return pr_in_read_full_status(st, buf, cap);
    default:
        /* SPC-4 6.15.1: an unsupported service action is an invalid field in the CDB. */
        *status = PR_INVALID_FIELD_CDB;
        return 0;
    }
}
