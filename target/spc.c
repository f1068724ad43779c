/* SPC-4 primary commands: INQUIRY (standard and VPD), REPORT LUNS, TEST UNIT READY, REQUEST SENSE,
 * MODE SENSE/SELECT (6/10), REPORT SUPPORTED OPERATION CODES, START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL.
 *
 * Parameter data is built in cmd->buf (at least TGT_CMD_MIN_BUF bytes) and clipped to the allocation length by
 * tgt_cmd_data_in(); lengths inside the data always describe the full, unclipped data (SPC-4 4.2.5.6).
 */
#include <stdio.h>
#include <string.h>

#include "target/tgt_internal.h"

#define PDT_DISK 0x00

/* SPC-4 7.8.1: device type and qualifier of a VPD page header, the same byte as standard INQUIRY byte 0. */
static uint8_t pq_pdt(const struct tgt_lu *lu)
{
    /* SPC-4 6.6.2: qualifier 011b, type 1Fh: no logical unit can be supported at this LUN. */
    return lu ? PDT_DISK : 0x7f;
}

enum tgt_exec_result tgt_spc_test_unit_ready(struct tgt_cmd *cmd)
{
    /* SPC-4 6.47: the medium of a memory or file LU is always ready. */
    tgt_set_good(cmd);
    return TGT_DONE;
}

/* ---- INQUIRY ------------------------------------------------------------------------------------------ */

static size_t inquiry_standard(struct tgt_cmd *cmd, uint8_t *d)
{
    struct tgt_lu *lu = cmd->lu;
    static const uint16_t versions[] = {
        0x00a0, /* SAM-5 (no version claimed) */
        0x0960, /* iSCSI (no version claimed) */
        0x0460, /* SPC-4 (no version claimed) */
        0x04c0, /* SBC-3 (no version claimed) */
    };
    const size_t len = 74;

    memset(d, 0, len);
    d[0] = pq_pdt(lu);
    d[2] = 0x06;                 /* VERSION: SPC-4 */
    d[3] = 0x10 | 0x02;          /* HISUP=1, RESPONSE DATA FORMAT=2 (SPC-4 6.6.2) */
    d[4] = (uint8_t)(len - 5);   /* ADDITIONAL LENGTH */
    /* SPC-4 6.6.2: RMB for a removable medium (media.c); TPGS 11b, implicit and explicit ALUA (alua.c); 3PC,
     * EXTENDED COPY is supported (xcopy.c); no protection. */
    if (tgt__media_removable(lu))
        d[1] = 0x80;
    d[5] = (uint8_t)(tgt__alua_tpgs_bits() | 0x08);
    if (lu && lu->srv->n_ports > 1)
        d[6] = 0x10;             /* MULTIP: the LU is reachable through several target ports */
    d[7] = 0x02;                 /* CMDQUE: full task management model (SAM-5 8.7) */
    if (lu) {
        memcpy(d + 8, lu->vendor, 8);
        memcpy(d + 16, lu->product, 16);
    } else {
        memcpy(d + 8, "PRTARGET", 8);
        memcpy(d + 16, "no logical unit ", 16);
    }
    memcpy(d + 32, "0001", 4);
    for (size_t i = 0; i < PRT_ARRAY_SIZE(versions); i++)
        prt_put_be16(d + 58 + 2 * i, versions[i]);
    return len;
}

/* Write a SCSI name string designator (SPC-4 7.8.6.11): UTF-8, NUL-terminated, padded to a multiple of 4. */
static size_t put_name_designator(uint8_t *p, uint8_t assoc, const char *name, const char *suffix)
{
    size_t n = strlen(name) + strlen(suffix) + 1;
    size_t padded = (n + 3) & ~(size_t)3;

    if (padded > 252)
        padded = 252;
    p[0] = 0x50 | 0x03;              /* PROTOCOL IDENTIFIER 5h (iSCSI), CODE SET 3h (UTF-8) */
    p[1] = 0x80 | (uint8_t)(assoc << 4) | 0x08; /* PIV=1, ASSOCIATION, DESIGNATOR TYPE 8h */
    p[2] = 0;
    p[3] = (uint8_t)padded;
    memset(p + 4, 0, padded);
    snprintf((char *)p + 4, padded, "%s%s", name, suffix);
    return 4 + padded;
}

static size_t vpd_device_id(struct tgt_cmd *cmd, uint8_t *d)
{
    struct tgt_lu *lu = cmd->lu;
    uint16_t rtpi = tgt_cmd_rtpi(cmd) ? tgt_cmd_rtpi(cmd) : 1;
    char tpgt[16];
    uint8_t *p = d + 4;

    /* Logical unit: NAA 3h locally assigned (SPC-4 7.8.6.6.3), binary code set. */
    p[0] = 0x01;
    p[1] = 0x03;
    p[3] = 8;
    memcpy(p + 4, lu->naa, 8);
    p += 12;
    /* Logical unit: T10 vendor identification (SPC-4 7.8.6.4): vendor then a unique vendor-specific part. */
    p[0] = 0x02;
    p[1] = 0x01;
    p[3] = 8 + (uint8_t)strlen(lu->serial);
    memcpy(p + 4, lu->vendor, 8);
    memcpy(p + 12, lu->serial, strlen(lu->serial));
    p += 4 + p[3];
    /* Target port: its SCSI name, "<target>,t,0x<TPGT>" (RFC 7143 13.9 / SPC-4 7.8.6.11). */
    snprintf(tpgt, sizeof(tpgt), ",t,0x%04x", rtpi);
    p += put_name_designator(p, 1, lu->srv->target_name, tpgt);
    /* Target port: relative target port identifier (SPC-4 7.8.6.5). */
    p[0] = 0x51;
    p[1] = 0x80 | 0x10 | 0x04;
    p[3] = 4;
    prt_put_be16(p + 6, rtpi);
    p += 8;
    /* Target port: target port group (SPC-4 7.8.6.6); without ALUA each port is its own group. */
    p[0] = 0x51;
    p[1] = 0x80 | 0x10 | 0x05;
    p[3] = 4;
    prt_put_be16(p + 6, rtpi);
    p += 8;
    /* SCSI target device: its name (SPC-4 7.8.6.11). */
    p += put_name_designator(p, 2, lu->srv->target_name, "");
    return (size_t)(p - d);
}

static size_t vpd_page(struct tgt_cmd *cmd, uint8_t page, uint8_t *d, bool *ok)
{
    struct tgt_lu *lu = cmd->lu;
    static const uint8_t pages[] = { 0x00, 0x80, 0x83, 0x86, 0x8f, 0xb0, 0xb1, 0xb2 };
    size_t len;

    *ok = true;
    memset(d, 0, 64);
    d[0] = pq_pdt(lu);
    d[1] = page;
    switch (page) {
    case 0x00: /* SPC-4 7.8.13 supported VPD pages, ascending */
        memcpy(d + 4, pages, sizeof(pages));
        len = 4 + sizeof(pages);
        break;
    case 0x80: /* SPC-4 7.8.15 unit serial number */
        len = 4 + strlen(lu->serial);
        memcpy(d + 4, lu->serial, strlen(lu->serial));
        break;
    case 0x83: /* SPC-4 7.8.6 device identification */
        len = vpd_device_id(cmd, d);
        break;
    case 0x86: /* SPC-4 7.8.7 extended INQUIRY data */
        len = 64;
        d[5] = 0x01; /* SIMPSUP */
        d[7] = 0x01; /* LUICLR: unit attentions are kept and cleared per I_T nexus */
        break;
    case 0xb0: { /* SBC-3 6.5.3 block limits */
        uint32_t bs = lu->block_size;

        len = 64;
        /* WSNZ=0: WRITE SAME with NUMBER OF LOGICAL BLOCKS zero writes to the end of the medium (SBC-3 5.42). */
        d[5] = (uint8_t)TGT_MAX_CAW_BLOCKS;
        prt_put_be16(d + 6, (uint16_t)(TGT_PHYS_BLOCK / bs ? TGT_PHYS_BLOCK / bs : 1));
        prt_put_be32(d + 8, TGT_MAX_TRANSFER_BYTES / bs);
        prt_put_be32(d + 12, TGT_OPT_XFER_BYTES / bs);
        prt_put_be32(d + 16, TGT_MAX_TRANSFER_BYTES / bs);
        if (lu->thin) {
            prt_put_be32(d + 20, TGT_MAX_UNMAP_BLOCKS);
            prt_put_be32(d + 24, TGT_MAX_UNMAP_DESCS);
            prt_put_be32(d + 28, TGT_PHYS_BLOCK / bs ? TGT_PHYS_BLOCK / bs : 1);
            prt_put_be32(d + 32, 0x80000000u); /* UGAVALID, alignment 0 */
        }
        prt_put_be64(d + 36, TGT_MAX_WS_BLOCKS);
        tgt__atomic_vpd_b0(lu, d); /* SBC-4 6.6.4: bytes 44-63, the WRITE ATOMIC(16) limits */
        break;
    }
    case 0x8f: /* SPC-4 7.8.17 third-party copy (xcopy.c) */
        len = tgt__xcopy_vpd_8f(lu, d, cmd->buf_cap);
        return len;
    case 0xb1: /* SBC-3 6.5.2 block device characteristics */
        len = 64;
        prt_put_be16(d + 4, 0x0001); /* MEDIUM ROTATION RATE: non-rotating medium */
        d[7] = tgt__sanitize_vpd_b1_byte7(lu); /* WABEREQ, WACEREQ (sanitize.c) */
        break;
    case 0xb2: /* SBC-3 6.5.4 logical block provisioning */
        len = 8;
        if (lu->thin) {
            /* LBPU, LBPWS, LBPWS10: UNMAP and both WRITE SAMEs deallocate; LBPRZ: deallocated reads zero. */
            d[5] = 0x80 | 0x40 | 0x20 | 0x04;
            d[6] = 0x02; /* PROVISIONING TYPE: thin */
        }
        break;
    default:
        *ok = false;
        return 0;
    }
    prt_put_be16(d + 2, (uint16_t)(len - 4));
    return len;
}

enum tgt_exec_result tgt_spc_inquiry(struct tgt_cmd *cmd)
{
    bool evpd = cmd->cdb[1] & 0x01;
    uint8_t page = cmd->cdb[2];
    uint16_t alloc = prt_get_be16(cmd->cdb + 3);
    size_t len;
    bool ok;

    /* SPC-4 6.6.1: PAGE CODE must be zero when EVPD is zero. */
    if (!evpd && page != 0) {
        tgt_set_invalid_field_cdb(cmd, 2, 7);
        return TGT_DONE;
    }
    if (!evpd) {
        len = inquiry_standard(cmd, cmd->buf);
    } else {
        if (!cmd->lu) {
            tgt_set_lun_not_supported(cmd);
            return TGT_DONE;
        }
        len = vpd_page(cmd, page, cmd->buf, &ok);
        if (!ok) {
            tgt_set_invalid_field_cdb(cmd, 2, 7);
            return TGT_DONE;
        }
    }
    tgt_cmd_data_in(cmd, cmd->buf, len, alloc);
    return TGT_DONE;
}

/* ---- REPORT LUNS / REQUEST SENSE ------------------------------------------------------------------------ */

enum tgt_exec_result tgt_spc_report_luns(struct tgt_cmd *cmd)
{
    struct tgt_server *srv = cmd->lu ? cmd->lu->srv : NULL;
    uint8_t sel = cmd->cdb[2];
    uint32_t alloc = prt_get_be32(cmd->cdb + 6);
    uint8_t *d = cmd->buf;
    size_t n = 0, max = (cmd->buf_cap - 8) / 8;
    uint32_t itn = tgt_cmd_itn(cmd);

    if (!srv && cmd->nexus)
        srv = cmd->nexus->srv;
    /* SPC-4 6.33 Table 232: 00h and 02h list the LUs; 01h lists well-known LUs, of which there are none;
     * 10h-12h (administrative LUs) are answered like 00h-02h since no LU is administrative. */
    switch (sel) {
    case 0x00:
    case 0x02:
    case 0x10:
    case 0x12:
        n = srv ? srv->n_lus : 0;
        break;
    case 0x01:
    case 0x11:
        n = 0;
        break;
    default:
        tgt_set_invalid_field_cdb(cmd, 2, 7);
        return TGT_DONE;
    }
    if (n > max)
        n = max;
    memset(d, 0, 8 + n * 8);
    prt_put_be32(d, (uint32_t)(n * 8));
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = d + 8 + i * 8;

        /* SAM-5 4.7.7: peripheral device addressing below 256, flat space addressing up to 16383. */
        if (i < 256) {
            e[1] = (uint8_t)i;
        } else {
            e[0] = 0x40 | (uint8_t)((i >> 8) & 0x3f);
            e[1] = (uint8_t)i;
        }
    }
    /* SPC-4 6.33: reporting the inventory clears REPORTED LUNS DATA HAS CHANGED for this nexus. */
    if (srv && itn != PR_ITN_NONE)
        for (unsigned i = 0; i < srv->n_lus; i++)
            tgt__ua_remove(srv->lus[i], itn, 0x3f, 0x0e);
    tgt_cmd_data_in(cmd, d, 8 + n * 8, alloc);
    return TGT_DONE;
}

enum tgt_exec_result tgt_spc_request_sense(struct tgt_cmd *cmd)
{
    bool desc = cmd->cdb[1] & 0x01;
    uint8_t alloc = cmd->cdb[4];
    struct tgt_sense_desc sd = { .key = TGT_SK_NO_SENSE };
    uint32_t itn = tgt_cmd_itn(cmd);
    size_t len;

    if (!cmd->lu) {
        /* SPC-4 6.39: on a LUN without an LU, REQUEST SENSE reports LOGICAL UNIT NOT SUPPORTED as data. */
        sd.key = TGT_SK_ILLEGAL_REQUEST;
        sd.asc = 0x25;
    } else if (itn != PR_ITN_NONE && tgt__ua_pop(cmd->lu, itn, &sd.asc, &sd.ascq)) {
        /* SAM-5 5.14: REQUEST SENSE returns the unit attention as data and clears it. */
        sd.key = TGT_SK_UNIT_ATTENTION;
    }
    len = tgt__sense_build(cmd->buf, cmd->buf_cap, desc, &sd);
    tgt_cmd_data_in(cmd, cmd->buf, len, alloc);
    return TGT_DONE;
}

/* ---- mode pages ----------------------------------------------------------------------------------------- */

void tgt__mode_defaults(struct tgt_mode *m)
{
    memset(m, 0, sizeof(*m));
    m->wce = true;          /* data reaches stable storage on FUA, SYNCHRONIZE CACHE and shutdown */
    m->tas = true;          /* tasks aborted for another nexus report TASK ABORTED rather than vanish */
    m->ie_flags = 0x08;     /* DEXCPT: informational exception reporting disabled */
}

enum mode_which { MODE_CURRENT = 0, MODE_CHANGEABLE = 1, MODE_DEFAULT = 2 };

struct mode_page_def {
    uint8_t code;
    uint8_t len; /* PAGE LENGTH (bytes after the 2-byte header) */
};

static const struct mode_page_def mode_pages[] = {
    { 0x08, 0x12 }, /* caching, SBC-3 6.4.5 */
    { 0x0a, 0x0a }, /* control, SPC-4 7.5.8 */
    { 0x1c, 0x0a }, /* informational exceptions control, SPC-4 7.5.10 */
};

/* Build page code in p (len + 2 bytes) from m, or its changeable mask. */
static size_t build_page(uint8_t code, const struct tgt_mode *m, enum mode_which which, uint8_t *p)
{
    const struct mode_page_def *def = NULL;

    for (size_t i = 0; i < PRT_ARRAY_SIZE(mode_pages); i++)
        if (mode_pages[i].code == code)
            def = &mode_pages[i];
    if (!def)
        return 0;
    memset(p, 0, 2u + def->len);
    p[0] = code;
    p[1] = def->len;
    switch (code) {
    case 0x08:
        if (which == MODE_CHANGEABLE) {
            p[2] = 0x04; /* WCE */
        } else {
            p[2] = (uint8_t)((m->wce ? 0x04 : 0) | (m->rcd ? 0x01 : 0));
        }
        break;
    case 0x0a:
        if (which == MODE_CHANGEABLE) {
            p[2] = 0x04; /* D_SENSE */
            p[4] = 0x08; /* SWP */
            p[5] = 0x40; /* TAS */
        } else {
            p[2] = m->d_sense ? 0x04 : 0;
            p[3] = (uint8_t)(m->qerr << 1);
            p[4] = m->swp ? 0x08 : 0;
            p[5] = m->tas ? 0x40 : 0;
            prt_put_be16(p + 8, 0xffff); /* BUSY TIMEOUT PERIOD: unlimited */
        }
        break;
    case 0x1c:
        if (which == MODE_CHANGEABLE) {
            p[2] = 0x08 | 0x10; /* DEXCPT, EWASC */
            p[3] = 0x0f;        /* MRIE */
            memset(p + 4, 0xff, 8);
        } else {
            p[2] = m->ie_flags;
            p[3] = m->mrie;
            prt_put_be32(p + 4, m->ie_interval);
            prt_put_be32(p + 8, m->ie_count);
        }
        break;
    }
    return 2u + def->len;
}

static void parse_page(uint8_t code, const uint8_t *p, struct tgt_mode *m)
{
    switch (code) {
    case 0x08:
        m->wce = p[2] & 0x04;
        break;
    case 0x0a:
        m->d_sense = p[2] & 0x04;
        m->swp = p[4] & 0x08;
        m->tas = p[5] & 0x40;
        break;
    case 0x1c:
        m->ie_flags = p[2];
        m->mrie = p[3] & 0x0f;
        m->ie_interval = prt_get_be32(p + 4);
        m->ie_count = prt_get_be32(p + 8);
        break;
    }
}

enum tgt_exec_result tgt_spc_mode_sense(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    bool ten = cmd->cdb[0] == 0x5a;
    bool dbd = cmd->cdb[1] & 0x08;
    bool llbaa = ten && (cmd->cdb[1] & 0x10);
    uint8_t pc = cmd->cdb[2] >> 6, page = cmd->cdb[2] & 0x3f, sub = cmd->cdb[3];
    uint32_t alloc = ten ? prt_get_be16(cmd->cdb + 7) : cmd->cdb[4];
    struct tgt_mode defaults;
    const struct tgt_mode *m = &lu->mode;
    uint8_t *d = cmd->buf;
    size_t hdr = ten ? 8 : 4, bdl = 0, len;

    /* SPC-4 7.5.1: saved values are not supported (we keep none): SAVING PARAMETERS NOT SUPPORTED. */
    if (pc == 3) {
        tgt_set_saving_params_unsupported(cmd);
        return TGT_DONE;
    }
    if (pc == MODE_DEFAULT) {
        tgt__mode_defaults(&defaults);
        m = &defaults;
    }
    memset(d, 0, hdr);
    /* SBC-3 6.4.2: DEVICE-SPECIFIC PARAMETER: WP when writes are refused, DPOFUA since both are honoured. */
    d[ten ? 3 : 2] = (uint8_t)(((lu->read_only || lu->mode.swp) ? 0x80 : 0) | 0x10);
    if (!dbd) {
        uint8_t *b = d + hdr;

        if (llbaa) {
            /* SBC-3 6.4.2.3: long LBA block descriptor. */
            bdl = 16;
            memset(b, 0, bdl);
            prt_put_be64(b, lu->nblocks);
            prt_put_be32(b + 12, lu->block_size);
            d[4] = 0x01; /* LONGLBA */
        } else {
            bdl = 8;
            memset(b, 0, bdl);
            prt_put_be32(b, lu->nblocks > 0xffffffffull ? 0xffffffffu : (uint32_t)lu->nblocks);
            prt_put_be24(b + 5, lu->block_size);
        }
    }
    if (ten)
        prt_put_be16(d + 6, (uint16_t)bdl);
    else
        d[3] = (uint8_t)bdl;
    len = hdr + bdl;

    if (page == 0x3f) {
        /* SPC-4 7.5.1: page 3Fh returns every page; subpage 00h without subpages, FFh with them (we have no
         * subpages, so both give the same list). */
        if (sub != 0x00 && sub != 0xff) {
            tgt_set_invalid_field_cdb(cmd, 3, 7);
            return TGT_DONE;
        }
        for (size_t i = 0; i < PRT_ARRAY_SIZE(mode_pages); i++)
            len += build_page(mode_pages[i].code, m, (enum mode_which)pc, d + len);
    } else {
        size_t n;

        if (sub != 0x00 && sub != 0xff) {
            tgt_set_invalid_field_cdb(cmd, 3, 7);
            return TGT_DONE;
        }
        n = build_page(page, m, (enum mode_which)pc, d + len);
        if (n == 0) {
            tgt_set_invalid_field_cdb(cmd, 2, 5);
            return TGT_DONE;
        }
        len += n;
    }
    /* SPC-4 7.5.4: MODE DATA LENGTH excludes itself and is not cut by the allocation length. */
    if (ten)
        prt_put_be16(d, (uint16_t)(len - 2));
    else
        d[0] = (uint8_t)(len - 1);
    tgt_cmd_data_in(cmd, d, len, alloc);
    return TGT_DONE;
}

enum tgt_exec_result tgt_spc_mode_select(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    bool ten = cmd->cdb[0] == 0x55;
    size_t plen = ten ? prt_get_be16(cmd->cdb + 7) : cmd->cdb[4];
    size_t hdr = ten ? 8 : 4, bdl, off;
    const uint8_t *d = cmd->buf;
    struct tgt_mode m = lu->mode;

    /* SPC-4 6.11: SP=1 asks to save pages; with no saved pages that is INVALID FIELD IN CDB. */
    if (cmd->cdb[1] & 0x01) {
        tgt_set_invalid_field_cdb(cmd, 1, 0);
        return TGT_DONE;
    }
    cmd->dout_want = plen;
    /* SPC-4 6.11: a PARAMETER LIST LENGTH of zero transfers nothing and is not an error. */
    if (plen == 0)
        return TGT_DONE;
    if (cmd->dout_len < plen) {
        tgt_set_invalid_field_iu(cmd);
        return TGT_DONE;
    }
    if (plen < hdr) {
        tgt_set_param_list_length_error(cmd);
        return TGT_DONE;
    }
    /* SPC-4 7.5.4: MEDIUM TYPE is 00h for a direct-access device. */
    if (d[1] != 0) {
        tgt_set_invalid_field_param(cmd, 1, 7);
        return TGT_DONE;
    }
    bdl = ten ? prt_get_be16(d + 6) : d[3];
    if (hdr + bdl > plen) {
        tgt_set_param_list_length_error(cmd);
        return TGT_DONE;
    }
    if (bdl) {
        bool longlba = ten && (d[4] & 0x01);
        const uint8_t *b = d + hdr;
        uint64_t nb;
        uint32_t bl;

        if (bdl != (longlba ? 16u : 8u)) {
            tgt_set_invalid_field_param(cmd, ten ? 6 : 3, 7);
            return TGT_DONE;
        }
        nb = longlba ? prt_get_be64(b) : prt_get_be32(b);
        bl = longlba ? prt_get_be32(b + 12) : prt_get_be24(b + 5);
        /* SBC-3 6.4.2: the block length cannot change, and the number of blocks can only be left as is. */
        if (bl != lu->block_size) {
            tgt_set_invalid_field_param(cmd, (int)hdr + (longlba ? 12 : 5), 7);
            return TGT_DONE;
        }
        if (nb != 0 && nb != lu->nblocks &&
            !(!longlba && nb == 0xffffffffu && lu->nblocks > 0xffffffffull)) {
            tgt_set_invalid_field_param(cmd, (int)hdr, 7);
            return TGT_DONE;
        }
    }
    off = hdr + bdl;
    while (off < plen) {
        const uint8_t *p = d + off;
        uint8_t code = p[0] & 0x3f;
        uint8_t cur[64], chg[64];
        size_t n;

        if (plen - off < 2) {
            tgt_set_param_list_length_error(cmd);
            return TGT_DONE;
        }
        /* SPC-4 7.5.7: we have no subpages, so SPF=1 names a page we do not support. */
        if (p[0] & 0x40) {
            tgt_set_invalid_field_param(cmd, (int)off, 6);
            return TGT_DONE;
        }
        n = build_page(code, &m, MODE_CURRENT, cur);
        if (n == 0) {
            tgt_set_invalid_field_param(cmd, (int)off, 5);
            return TGT_DONE;
        }
        if (p[1] != cur[1]) {
            tgt_set_invalid_field_param(cmd, (int)off + 1, 7);
            return TGT_DONE;
        }
        if (plen - off < n) {
            tgt_set_param_list_length_error(cmd);
            return TGT_DONE;
        }
        build_page(code, &m, MODE_CHANGEABLE, chg);
        /* SPC-4 6.11: changing a bit the changeable mask does not allow is INVALID FIELD IN PARAMETER LIST,
         * pointing at that bit. The PS bit (byte 0 bit 7) is reserved in MODE SELECT and ignored. */
        for (size_t i = 2; i < n; i++) {
            uint8_t bad = (uint8_t)((p[i] ^ cur[i]) & ~chg[i]);

            if (bad) {
                int bit = 7;

                while (!(bad & (1u << bit)))
                    bit--;
                tgt_set_invalid_field_param(cmd, (int)(off + i), bit);
                return TGT_DONE;
            }
        }
        parse_page(code, p, &m);
        off += n;
    }
    if (memcmp(&m, &lu->mode, sizeof(m)) != 0) {
        lu->mode = m;
        /* SPC-4 7.5.1: the other I_T nexuses learn that shared mode parameters changed. */
        tgt__ua_raise_all(lu, 0x2a, 0x01, tgt_cmd_itn(cmd));
    }
    return TGT_DONE;
}

/* ---- REPORT SUPPORTED OPERATION CODES ---------------------------------------------------------------- */

/* SPC-4 6.35.4: command timeouts descriptor; we give a nominal time of 0 (unknown) and a recommended 30 s. */
static size_t put_timeouts(uint8_t *p)
{
    memset(p, 0, 12);
    prt_put_be16(p, 0x0a);
    prt_put_be32(p + 8, 30);
    return 12;
}

static bool opcode_has_sa(uint8_t opcode)
{
    uint8_t cdb[TGT_CDB_MAX] = { opcode };
    uint16_t sa;

    return tgt__cdb_sa(cdb, &sa);
}

enum tgt_exec_result tgt_spc_rsoc(struct tgt_cmd *cmd)
{
    bool rctd = cmd->cdb[2] & 0x80;
    uint8_t opts = cmd->cdb[2] & 0x07;
    uint8_t op = cmd->cdb[3];
    uint16_t rsa = prt_get_be16(cmd->cdb + 4);
    uint32_t alloc = prt_get_be32(cmd->cdb + 6);
    uint8_t *d = cmd->buf;
    const struct tgt_cmd_row *row;
    size_t len;

    if (opts == 0) {
        size_t n;
        const struct tgt_cmd_row *rows = tgt_cmd_table_rows(&n);
        size_t per = rctd ? 20 : 8;

        len = 4;
        for (size_t i = 0; i < n && len + per <= cmd->buf_cap; i++) {
            uint8_t *e = d + len;

            /* SPC-4 6.35.3 Table 255: command descriptor. */
            memset(e, 0, 8);
            e[0] = rows[i].opcode;
            prt_put_be16(e + 2, rows[i].sa);
            e[5] = (uint8_t)((rctd ? 0x02 : 0) | ((rows[i].flags & TGT_F_SA) ? 0x01 : 0));
            prt_put_be16(e + 6, rows[i].cdb_len);
            len += 8;
            if (rctd)
                len += put_timeouts(d + len);
        }
        prt_put_be32(d, (uint32_t)(len - 4));
        tgt_cmd_data_in(cmd, d, len, alloc);
        return TGT_DONE;
    }
    /* SPC-4 6.35.1 Table 253: option 1 names a command without service actions, option 2 one with, option 3
     * either; asking option 1 for a service-action opcode (or 2 for one without) is INVALID FIELD IN CDB. */
    switch (opts) {
    case 1:
        if (opcode_has_sa(op)) {
            tgt_set_invalid_field_cdb(cmd, 2, 2);
            return TGT_DONE;
        }
        rsa = 0;
        break;
    case 2:
        if (!opcode_has_sa(op)) {
            tgt_set_invalid_field_cdb(cmd, 2, 2);
            return TGT_DONE;
        }
        break;
    case 3:
        if (!opcode_has_sa(op))
            rsa = 0;
        break;
    default:
        tgt_set_invalid_field_cdb(cmd, 2, 2);
        return TGT_DONE;
    }
    row = tgt_cmd_table_lookup(op, rsa, NULL);
    memset(d, 0, 4);
    if (!row) {
        /* SUPPORT 001b: not supported; no usage data follows. */
        d[1] = 0x01;
        len = 4;
    } else {
        /* SUPPORT 011b: supported as the standard describes; CDB USAGE DATA is the row's mask. */
        d[1] = (uint8_t)((rctd ? 0x80 : 0) | 0x03);
        prt_put_be16(d + 2, row->cdb_len);
        memcpy(d + 4, row->usage, row->cdb_len);
        len = 4u + row->cdb_len;
        if (rctd)
            len += put_timeouts(d + len);
    }
    tgt_cmd_data_in(cmd, d, len, alloc);
    return TGT_DONE;
}

/* ---- START STOP UNIT / PREVENT ALLOW MEDIUM REMOVAL ----------------------------------------------------- */

enum tgt_exec_result tgt_spc_start_stop_unit(struct tgt_cmd *cmd)
{
    uint8_t pc = cmd->cdb[4] >> 4;

    /* SBC-3 5.25 Table 87: power conditions 0h, 1h, 2h, 3h, 7h, Ah, Bh are defined; the rest are reserved. */
    switch (pc) {
    case 0x0:
        /* LOEJ=1: load or eject a removable medium; refused when the medium cannot be removed (media.c). */
        if (cmd->cdb[4] & 0x02)
            return tgt__media_load_eject(cmd);
        break;
    case 0x1:
    case 0x2:
    case 0x3:
    case 0x7:
    case 0xa:
    case 0xb:
        /* SBC-3 5.25: with a power condition, START and LOEJ are ignored. A memory or file medium has no
         * power states to enter, so the transition completes at once. */
        break;
    default:
        tgt_set_invalid_field_cdb(cmd, 4, 7);
        return TGT_DONE;
    }
    return TGT_DONE;
}

enum tgt_exec_result tgt_spc_prevent_allow(struct tgt_cmd *cmd)
{
    /* SPC-4 6.13: per-nexus prevention of medium removal lives with the medium (media.c). */
    return tgt_media_prevent_allow(cmd);
}
