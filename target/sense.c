/* Sense data construction: the only place in the tree where sense bytes are laid out.
 *
 * Fixed format (70h) is the default; descriptor format (72h) is used when the LU's control mode page has
 * D_SENSE=1 (SPC-4 7.5.8). Field pointers follow SPC-4 4.5.2.4.2.
 */
#include <string.h>

#include "target/tgt_internal.h"

/* SPC-4 4.5.3 Table 48: fixed format sense is 18 bytes with an ADDITIONAL SENSE LENGTH of 10. */
#define FIXED_LEN 18
#define DESC_HDR_LEN 8

size_t tgt__sense_build(uint8_t *out, size_t cap, bool descriptor, const struct tgt_sense_desc *sd)
{
    uint8_t tmp[TGT_SENSE_MAX];
    size_t len;

    memset(tmp, 0, sizeof(tmp));
    if (!descriptor) {
        /* SPC-4 4.5.3: the INFORMATION field is only meaningful with VALID set; it holds the low 32 bits. */
        tmp[0] = 0x70 | (sd->info_valid ? 0x80 : 0);
        tmp[2] = sd->key & 0x0f;
        if (sd->info_valid)
            prt_put_be32(tmp + 3, (uint32_t)sd->info);
        tmp[7] = FIXED_LEN - 8;
        tmp[12] = sd->asc;
        tmp[13] = sd->ascq;
        if (sd->sksv)
            memcpy(tmp + 15, sd->sks, 3);
        len = FIXED_LEN;
    } else {
        size_t p = DESC_HDR_LEN;

        tmp[0] = 0x72;
        tmp[1] = sd->key & 0x0f;
        tmp[2] = sd->asc;
        tmp[3] = sd->ascq;
        if (sd->info_valid) {
            /* SPC-4 4.5.2.2: information descriptor, type 00h, 10 bytes after the header, VALID bit set. */
            tmp[p] = 0x00;
            tmp[p + 1] = 0x0a;
            tmp[p + 2] = 0x80;
            prt_put_be64(tmp + p + 4, sd->info);
            p += 12;
        }
        if (sd->sksv) {
            /* SPC-4 4.5.2.4: sense key specific descriptor, type 02h, additional length 06h. */
            tmp[p] = 0x02;
            tmp[p + 1] = 0x06;
            memcpy(tmp + p + 4, sd->sks, 3);
            p += 8;
        }
        tmp[7] = (uint8_t)(p - DESC_HDR_LEN);
        len = p;
    }
    if (len > cap)
        len = cap;
    memcpy(out, tmp, len);
    return len;
}

static bool want_descriptor(const struct tgt_cmd *cmd)
{
    return cmd->lu && cmd->lu->mode.d_sense;
}

static void set_check_condition(struct tgt_cmd *cmd, const struct tgt_sense_desc *sd)
{
    cmd->status = TGT_STATUS_CHECK_CONDITION;
    cmd->sense_len = (uint8_t)tgt__sense_build(cmd->sense, sizeof(cmd->sense), want_descriptor(cmd), sd);
    /* A failed command returns no parameter data. */
    cmd->din_cnt = 0;
    cmd->din_len = 0;
}

void tgt_set_good(struct tgt_cmd *cmd)
{
    cmd->status = TGT_STATUS_GOOD;
    cmd->sense_len = 0;
}

void tgt_set_sense(struct tgt_cmd *cmd, uint8_t key, uint8_t asc, uint8_t ascq)
{
    struct tgt_sense_desc sd = { .key = key, .asc = asc, .ascq = ascq };

    set_check_condition(cmd, &sd);
}

void tgt_set_sense_info(struct tgt_cmd *cmd, uint8_t key, uint8_t asc, uint8_t ascq, uint64_t info)
{
    struct tgt_sense_desc sd = { .key = key, .asc = asc, .ascq = ascq, .info_valid = true, .info = info };

    set_check_condition(cmd, &sd);
}

/* SPC-4 4.5.2.4.2 Table 45: field pointer bytes. C/D says whether the CDB (1) or the parameter list (0) is at
 * fault; BPV says whether BIT POINTER names the bit. */
static void set_field_pointer(struct tgt_cmd *cmd, uint8_t asc, bool in_cdb, int byte, int bit)
{
    struct tgt_sense_desc sd = { .key = TGT_SK_ILLEGAL_REQUEST, .asc = asc, .ascq = 0 };

    if (byte >= 0 && byte <= 0xffff) {
        sd.sksv = true;
        sd.sks[0] = 0x80 | (in_cdb ? 0x40 : 0);
        if (bit >= 0 && bit <= 7)
            sd.sks[0] |= 0x08 | (uint8_t)bit;
        sd.sks[1] = (uint8_t)(byte >> 8);
        sd.sks[2] = (uint8_t)byte;
    }
    set_check_condition(cmd, &sd);
}

void tgt_set_invalid_opcode(struct tgt_cmd *cmd)
{
    tgt_set_sense(cmd, TGT_SK_ILLEGAL_REQUEST, 0x20, 0x00);
}

void tgt_set_invalid_field_cdb(struct tgt_cmd *cmd, int byte, int bit)
{
    set_field_pointer(cmd, 0x24, true, byte, bit);
}

void tgt_set_invalid_field_param(struct tgt_cmd *cmd, int byte, int bit)
{
    set_field_pointer(cmd, 0x26, false, byte, bit);
}

void tgt_set_param_list_length_error(struct tgt_cmd *cmd)
{
    tgt_set_sense(cmd, TGT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
}

void tgt_set_lba_out_of_range(struct tgt_cmd *cmd)
{
    tgt_set_sense(cmd, TGT_SK_ILLEGAL_REQUEST, 0x21, 0x00);
}

void tgt_set_lun_not_supported(struct tgt_cmd *cmd)
{
    tgt_set_sense(cmd, TGT_SK_ILLEGAL_REQUEST, 0x25, 0x00);
}

void tgt_set_write_protected(struct tgt_cmd *cmd)
{
    tgt_set_sense(cmd, TGT_SK_DATA_PROTECT, 0x27, 0x00);
}

void tgt_set_reservation_conflict(struct tgt_cmd *cmd)
{
    /* SAM-5 5.3.1: RESERVATION CONFLICT carries no sense data. */
    cmd->status = TGT_STATUS_RESERVATION_CONFLICT;
    cmd->sense_len = 0;
    cmd->din_cnt = 0;
    cmd->din_len = 0;
}

void tgt_set_medium_error(struct tgt_cmd *cmd, bool write)
{
    /* SPC-4 Annex D: 0Ch/00h WRITE ERROR, 11h/00h UNRECOVERED READ ERROR. */
    if (write)
        tgt_set_sense(cmd, TGT_SK_MEDIUM_ERROR, 0x0c, 0x00);
    else
        tgt_set_sense(cmd, TGT_SK_MEDIUM_ERROR, 0x11, 0x00);
}

void tgt_set_unit_attention(struct tgt_cmd *cmd, uint8_t asc, uint8_t ascq)
{
    tgt_set_sense(cmd, TGT_SK_UNIT_ATTENTION, asc, ascq);
}

void tgt_set_miscompare(struct tgt_cmd *cmd, uint64_t offset)
{
    /* SBC-3 5.2 / 5.22: MISCOMPARE DURING VERIFY OPERATION with the offset of the first differing byte in
     * the INFORMATION field. */
    tgt_set_sense_info(cmd, TGT_SK_MISCOMPARE, 0x1d, 0x00, offset);
}

void tgt_set_saving_params_unsupported(struct tgt_cmd *cmd)
{
    tgt_set_sense(cmd, TGT_SK_ILLEGAL_REQUEST, 0x39, 0x00);
}

void tgt_set_invalid_field_iu(struct tgt_cmd *cmd)
{
    tgt_set_sense(cmd, TGT_SK_ILLEGAL_REQUEST, 0x0e, 0x03);
}

void tgt_set_not_ready(struct tgt_cmd *cmd, uint8_t asc, uint8_t ascq)
{
    tgt_set_sense(cmd, TGT_SK_NOT_READY, asc, ascq);
}

void tgt_set_task_aborted(struct tgt_cmd *cmd)
{
    /* SAM-5 5.3.1: TASK ABORTED carries no sense data. */
    cmd->status = TGT_STATUS_TASK_ABORTED;
    cmd->sense_len = 0;
    cmd->din_cnt = 0;
    cmd->din_len = 0;
}

void tgt_set_internal_error(struct tgt_cmd *cmd)
{
    tgt_set_sense(cmd, TGT_SK_HARDWARE_ERROR, 0x44, 0x00);
}

void tgt_cmd_data_in(struct tgt_cmd *cmd, const void *data, size_t len, size_t alloc_len)
{
    size_t n = len;

    /* SPC-4 4.2.5.6: the device server stops at the allocation length; that is not an error. */
    if (n > alloc_len)
        n = alloc_len;
    if (n > cmd->buf_cap)
        n = cmd->buf_cap;
    if (n && data != cmd->buf)
        memmove(cmd->buf, data, n);
    cmd->din[0].base = cmd->buf;
    cmd->din[0].len = n;
    cmd->din_cnt = n ? 1 : 0;
    cmd->din_len = n;
}
