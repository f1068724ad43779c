/* Unit tests for target/spc.c: INQUIRY, VPD pages, REPORT LUNS, REQUEST SENSE, MODE SENSE/SELECT,
 * REPORT SUPPORTED OPERATION CODES, START STOP UNIT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "target/tgt_internal.h"

#include "tgt_fixture.h"

static int setup(void **state)
{
    struct fx *f = fx_new(1u << 20, 512, false);

    fx_clear_ua(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

static void inquiry(struct fx *f, struct tgt_cmd *c, bool evpd, uint8_t page, uint16_t alloc)
{
    uint8_t cdb[6] = { 0x12, evpd ? 1 : 0, page, (uint8_t)(alloc >> 8), (uint8_t)alloc, 0 };

    fx_run(f, c, f->a, 0, cdb, 6, 0, alloc);
}

static void test_standard_inquiry_claims_spc4_and_its_version_descriptors(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t *d;

    inquiry(f, &c, false, 0, 255);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    d = fx_din(&c);
    assert_int_equal(d[0], 0x00);            /* connected direct-access device */
    assert_int_equal(d[2], 0x06);            /* SPC-4 */
    assert_int_equal(d[3] & 0x0f, 2);        /* RESPONSE DATA FORMAT */
    assert_true(d[3] & 0x10);                /* HISUP */
    assert_int_equal(d[4], c.din_len - 5);   /* ADDITIONAL LENGTH */
    assert_int_equal(d[5] & 0x30, tgt__alua_tpgs_bits()); /* TPGS exactly as ALUA supports it */
    assert_true(d[7] & 0x02);                /* CMDQUE */
    assert_memory_equal(d + 8, "PRTARGET", 8);
    assert_int_equal(prt_get_be16(d + 58), 0x00a0); /* SAM-5 */
    assert_int_equal(prt_get_be16(d + 60), 0x0960); /* iSCSI */
    assert_int_equal(prt_get_be16(d + 62), 0x0460); /* SPC-4 */
    assert_int_equal(prt_get_be16(d + 64), 0x04c0); /* SBC-3 */
}

static void test_inquiry_allocation_length_clips_data_but_not_additional_length(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    inquiry(f, &c, false, 0, 5);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(c.din_len, 5);
    assert_true(fx_din(&c)[4] > 31);
    inquiry(f, &c, false, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(c.din_len, 0);
}

static void test_inquiry_page_code_without_evpd_is_invalid_field(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    inquiry(f, &c, false, 0x83, 255);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    fx_assert_field(&c, true, 2, 7);
    inquiry(f, &c, true, 0xc7, 255);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
}

static void test_vpd_00_lists_supported_pages_in_ascending_order(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    uint8_t list[64];
    size_t n;
    static const uint8_t required[] = { 0x00, 0x80, 0x83, 0x86, 0xb0, 0xb1, 0xb2 };

    inquiry(f, &c, true, 0x00, 255);
    assert_int_equal(fx_din(&c)[1], 0x00);
    n = prt_get_be16(fx_din(&c) + 2);
    assert_true(n >= sizeof(required) && n <= sizeof(list));
    memcpy(list, fx_din(&c) + 4, n);
    for (size_t i = 1; i < n; i++)
        assert_true(list[i - 1] < list[i]);
    for (size_t i = 0; i < sizeof(required); i++)
        assert_non_null(memchr(list, required[i], n));
    /* Every listed page answers with its own page code and a length matching the data. */
    for (size_t i = 0; i < n; i++) {
        inquiry(f, &c, true, list[i], 1024);
        assert_int_equal(c.status, TGT_STATUS_GOOD);
        assert_int_equal(fx_din(&c)[1], list[i]);
        assert_int_equal(prt_get_be16(fx_din(&c) + 2) + 4, c.din_len);
    }
}

/* The NAA designator (first designator of VPD 83h) of LU lun of a fresh server named name. */
static void naa_of(const char *name, unsigned lun, uint8_t out[8])
{
    struct tgt_server_cfg cfg = { .target_name = name, .n_ports = 1 };
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = 1u << 20 };
    char err[128];
    struct tgt_server *srv = tgt_server_new(&cfg, err, sizeof(err));
    uint8_t buf[4096];
    struct tgt_cmd c;
    struct fx f = { .srv = srv };
    const uint8_t cdb[6] = { 0x12, 1, 0x83, 0, 255, 0 };

    assert_non_null(srv);
    for (unsigned i = 0; i <= lun; i++)
        assert_int_equal(tgt_server_add_lu(srv, &lc, err, sizeof(err)), 0);
    memset(&c, 0, sizeof(c));
    memcpy(c.cdb, cdb, 6);
    c.cdb_len = 16;
    c.lun = lun;
    c.buf = buf;
    c.buf_cap = sizeof(buf);
    c.done = fx_on_done;
    c.owner = &f;
    tgt_cmd_submit(srv, &c);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    /* Designator header: code set binary, LU association, type NAA, length 8. */
    assert_int_equal(buf[4], 0x01);
    assert_int_equal(buf[5], 0x03);
    assert_int_equal(buf[7], 8);
    memcpy(out, buf + 8, 8);
    tgt_server_free(srv);
}

static void test_vpd_83_naa_is_locally_assigned_stable_and_unique_per_lu(void **state)
{
    uint8_t a0[8], a0again[8], a1[8], b0[8];

    (void)state;
    naa_of("iqn.2026-11.org.prtarget:one", 0, a0);
    naa_of("iqn.2026-11.org.prtarget:one", 0, a0again);
    naa_of("iqn.2026-11.org.prtarget:one", 1, a1);
    naa_of("iqn.2026-11.org.prtarget:two", 0, b0);
    assert_int_equal(a0[0] >> 4, 3); /* NAA 3h: locally assigned */
    assert_memory_equal(a0, a0again, 8);
    assert_memory_not_equal(a0, a1, 8);
    assert_memory_not_equal(a0, b0, 8);
}

static void test_vpd_83_names_target_port_relative_port_group_and_device(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t *d, *p, *end;
    bool port_name = false, rtpi = false, tpg = false, dev_name = false;

    inquiry(f, &c, true, 0x83, 1024);
    d = fx_din(&c);
    end = d + 4 + prt_get_be16(d + 2);
    for (p = d + 4; p < end; p += 4 + p[3]) {
        uint8_t assoc = (p[1] >> 4) & 3, type = p[1] & 0x0f;

        if (assoc == 1 && type == 8) {
            assert_int_equal(p[0] >> 4, 5); /* iSCSI */
            assert_string_equal((const char *)p + 4, "iqn.2026-11.org.prtarget:test,t,0x0001");
            assert_int_equal(p[3] % 4, 0);
            port_name = true;
        } else if (assoc == 1 && type == 4) {
            assert_int_equal(prt_get_be16(p + 6), 1);
            rtpi = true;
        } else if (assoc == 1 && type == 5) {
            tpg = true;
        } else if (assoc == 2 && type == 8) {
            assert_string_equal((const char *)p + 4, "iqn.2026-11.org.prtarget:test");
            dev_name = true;
        }
    }
    assert_true(port_name && rtpi && tpg && dev_name);
}

static void test_vpd_b0_reports_transfer_and_unmap_limits(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t *d;

    inquiry(f, &c, true, 0xb0, 255);
    d = fx_din(&c);
    assert_int_equal(prt_get_be16(d + 2), 0x3c);
    assert_int_equal(d[5], TGT_MAX_CAW_BLOCKS);
    assert_int_equal(d[4] & 0x01, 0); /* WSNZ=0: WRITE SAME accepts a zero count (to the end of the medium) */
    assert_int_equal(prt_get_be32(d + 8), (32u << 20) / 512);
    assert_int_equal(prt_get_be32(d + 16), (32u << 20) / 512);
    assert_int_equal(prt_get_be32(d + 20), TGT_MAX_UNMAP_BLOCKS);
    assert_int_equal(prt_get_be32(d + 24), TGT_MAX_UNMAP_DESCS);
    assert_true(prt_get_be64(d + 36) == TGT_MAX_WS_BLOCKS);
}

static void test_vpd_b1_reports_non_rotating_medium(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    inquiry(f, &c, true, 0xb1, 255);
    assert_int_equal(prt_get_be16(fx_din(&c) + 4), 1);
}

static void test_vpd_b2_claims_unmap_and_both_write_sames_with_lbprz(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t *d;

    inquiry(f, &c, true, 0xb2, 255);
    d = fx_din(&c);
    assert_int_equal(d[5] & 0xe4, 0xe4); /* LBPU, LBPWS, LBPWS10, LBPRZ */
    assert_int_equal(d[5] & 0x02, 0);    /* no ANC_SUP */
    assert_int_equal(d[6] & 0x07, 2);    /* thin provisioned */
}

static void test_report_luns_lists_each_lu_and_rejects_unknown_select_report(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = 1u << 20 };
    char err[128];
    uint8_t cdb[12] = { 0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 };

    assert_int_equal(tgt_server_add_lu(f->srv, &lc, err, sizeof(err)), 0);
    fx_run(f, &c, f->a, 0, cdb, 12, 0, 256);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(prt_get_be32(fx_din(&c)), 16);
    assert_int_equal(fx_din(&c)[8 + 1], 0);
    assert_int_equal(fx_din(&c)[16 + 1], 1);
    cdb[2] = 0x01; /* well-known LUs only: there are none */
    fx_run(f, &c, f->a, 0, cdb, 12, 0, 256);
    assert_int_equal(prt_get_be32(fx_din(&c)), 0);
    cdb[2] = 0x05;
    fx_run(f, &c, f->a, 0, cdb, 12, 0, 256);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    fx_assert_field(&c, true, 2, 7);
}

static void test_report_luns_clears_reported_luns_data_has_changed(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = 1u << 20 };
    char err[128];
    const uint8_t rl[12] = { 0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
    const uint8_t tur[6] = { 0 };

    assert_int_equal(tgt_server_add_lu(f->srv, &lc, err, sizeof(err)), 0);
    assert_true(tgt__ua_pending(tgt_server_lu(f->srv, 0), tgt_nexus_id(f->a)));
    fx_run(f, &c, f->a, 0, rl, 12, 0, 256);
    fx_run(f, &c, f->a, 0, tur, 6, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    /* B has not asked for the inventory yet. */
    fx_run(f, &c, f->b, 0, tur, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_UNIT_ATTENTION, 0x3f, 0x0e);
}

static void test_request_sense_returns_and_clears_the_highest_unit_attention(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    struct tgt_lu *lu = tgt_server_lu(f->srv, 0);
    uint8_t rs[6] = { 0x03, 0, 0, 0, 252, 0 };

    tgt_ua_raise(lu, tgt_nexus_id(f->a), 0x2a, 0x01);
    tgt_ua_raise(lu, tgt_nexus_id(f->a), 0x29, 0x03);
    fx_run(f, &c, f->a, 0, rs, 6, 0, 252);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(fx_din(&c)[0], 0x70);
    assert_int_equal(fx_din(&c)[2], TGT_SK_UNIT_ATTENTION);
    assert_int_equal(fx_din(&c)[12], 0x29);
    assert_int_equal(fx_din(&c)[13], 0x03);
    rs[1] = 0x01; /* DESC: descriptor format */
    fx_run(f, &c, f->a, 0, rs, 6, 0, 252);
    assert_int_equal(fx_din(&c)[0], 0x72);
    assert_int_equal(fx_din(&c)[1], TGT_SK_UNIT_ATTENTION);
    assert_int_equal(fx_din(&c)[2], 0x2a);
    assert_int_equal(fx_din(&c)[3], 0x01);
    rs[1] = 0;
    fx_run(f, &c, f->a, 0, rs, 6, 0, 252);
    assert_int_equal(fx_din(&c)[2], TGT_SK_NO_SENSE);
    assert_int_equal(fx_din(&c)[12], 0);
}

static void mode_sense6(struct fx *f, struct tgt_cmd *c, uint8_t dbd, uint8_t pc, uint8_t page, uint8_t sub)
{
    uint8_t cdb[6] = { 0x1a, dbd ? 0x08 : 0, (uint8_t)((pc << 6) | page), sub, 255, 0 };

    fx_run(f, c, f->a, 0, cdb, 6, 0, 255);
}

static void test_mode_sense6_has_header_block_descriptor_and_caching_page(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t *d;

    mode_sense6(f, &c, 0, 0, 0x08, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    d = fx_din(&c);
    assert_int_equal(d[0], c.din_len - 1); /* MODE DATA LENGTH */
    assert_int_equal(d[2] & 0x80, 0);      /* not write protected */
    assert_true(d[2] & 0x10);              /* DPOFUA */
    assert_int_equal(d[3], 8);
    assert_int_equal(prt_get_be32(d + 4), 2048);
    assert_int_equal(prt_get_be24(d + 9), 512);
    assert_int_equal(d[12] & 0x3f, 0x08);
    assert_int_equal(d[13], 0x12);
    assert_true(d[14] & 0x04); /* WCE */
    mode_sense6(f, &c, 1, 0, 0x08, 0);
    assert_int_equal(fx_din(&c)[3], 0); /* DBD: no block descriptor */
    assert_int_equal(fx_din(&c)[4], 0x08);
}

static void test_mode_sense10_llbaa_gives_long_block_descriptor(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t cdb[10] = { 0x5a, 0x10, 0x0a, 0, 0, 0, 0, 1, 0, 0 };
    const uint8_t *d;

    fx_run(f, &c, f->a, 0, cdb, 10, 0, 256);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    d = fx_din(&c);
    assert_int_equal(prt_get_be16(d), c.din_len - 2);
    assert_int_equal(d[4] & 1, 1); /* LONGLBA */
    assert_int_equal(prt_get_be16(d + 6), 16);
    assert_true(prt_get_be64(d + 8) == 2048);
    assert_int_equal(prt_get_be32(d + 20), 512);
    assert_int_equal(d[24] & 0x3f, 0x0a);
    assert_int_equal(d[25], 0x0a);
}

static void test_mode_sense_saved_values_are_not_supported(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    mode_sense6(f, &c, 0, 3, 0x3f, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x39, 0x00);
}

static void test_mode_sense_unknown_page_is_invalid_field_on_page_code(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    mode_sense6(f, &c, 1, 0, 0x19, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    fx_assert_field(&c, true, 2, 5);
}

static void test_mode_sense_all_pages_returns_caching_control_and_ie(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t *d, *p;
    unsigned seen = 0;

    mode_sense6(f, &c, 1, 0, 0x3f, 0);
    d = fx_din(&c);
    for (p = d + 4; p < d + c.din_len; p += 2 + p[1])
        seen |= 1u << ((p[0] & 0x3f) == 0x08 ? 0 : (p[0] & 0x3f) == 0x0a ? 1 : (p[0] & 0x3f) == 0x1c ? 2 : 3);
    assert_int_equal(seen, 7);
}

static void test_mode_sense_changeable_mask_shows_wce_dsense_swp_tas(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t *d;

    mode_sense6(f, &c, 1, 1, 0x0a, 0);
    d = fx_din(&c) + 4;
    assert_int_equal(d[2], 0x04);
    assert_int_equal(d[4], 0x08);
    assert_int_equal(d[5], 0x40);
    mode_sense6(f, &c, 1, 1, 0x08, 0);
    assert_int_equal(fx_din(&c)[4 + 2], 0x04);
}

/* MODE SELECT(6) of one page (after a 4-byte header, no block descriptor) from nexus nx. */
static void mode_select6(struct fx *f, struct tgt_cmd *c, struct tgt_nexus *nx, const uint8_t *page, size_t n)
{
    uint8_t cdb[6] = { 0x15, 0x10, 0, 0, (uint8_t)(4 + n), 0 };

    memset(f->buf, 0, 4);
    memcpy(f->buf + 4, page, n);
    fx_run(f, c, nx, 0, cdb, 6, 4 + n, (uint32_t)(4 + n));
}

static void test_mode_select_changes_wce_and_tells_other_nexuses(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    uint8_t page[20] = { 0x08, 0x12 };
    const uint8_t tur[6] = { 0 };

    mode_select6(f, &c, f->a, page, sizeof(page));
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_false(tgt_server_lu(f->srv, 0)->mode.wce);
    fx_run(f, &c, f->b, 0, tur, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_UNIT_ATTENTION, 0x2a, 0x01);
    /* The nexus that made the change is not told about it. */
    fx_run(f, &c, f->a, 0, tur, 6, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
}

static void test_mode_select_of_unchangeable_bit_points_at_that_bit(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    uint8_t page[20] = { 0x08, 0x12, 0x04 | 0x01 }; /* WCE (changeable) and RCD (not) */

    mode_select6(f, &c, f->a, page, sizeof(page));
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
    fx_assert_field(&c, false, 4 + 2, 0);
    /* All or nothing: WCE did not change either. */
    assert_true(tgt_server_lu(f->srv, 0)->mode.wce);
}

static void test_mode_select_wrong_page_length_is_invalid_field_in_parameter_list(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    uint8_t page[12] = { 0x08, 0x0a };

    mode_select6(f, &c, f->a, page, sizeof(page));
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
    fx_assert_field(&c, false, 5, 7);
}

static void test_mode_select_save_pages_is_invalid_field_in_cdb(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const uint8_t cdb[6] = { 0x15, 0x11, 0, 0, 0, 0 };

    fx_run(f, &c, f->a, 0, cdb, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    fx_assert_field(&c, true, 1, 0);
}

static void test_software_write_protect_refuses_writes(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    uint8_t page[12] = { 0x0a, 0x0a, 0, 0, 0x08, 0x40, 0, 0, 0xff, 0xff }; /* BUSY TIMEOUT echoed */
    const uint8_t wr[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

    mode_select6(f, &c, f->a, page, sizeof(page));
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    fx_run(f, &c, f->a, 0, wr, 10, 512, 512);
    fx_assert_sense(&c, TGT_SK_DATA_PROTECT, 0x27, 0x00);
    mode_sense6(f, &c, 1, 0, 0x0a, 0);
    assert_true(fx_din(&c)[2] & 0x80); /* WP in the device-specific parameter */
}

static void rsoc(struct fx *f, struct tgt_cmd *c, uint8_t opts, bool rctd, uint8_t op, uint16_t sa)
{
    uint8_t cdb[12] = { 0xa3, 0x0c, (uint8_t)((rctd ? 0x80 : 0) | opts), op, (uint8_t)(sa >> 8), (uint8_t)sa,
                        0, 0, 0xff, 0xff, 0, 0 };

    fx_run(f, c, f->a, 0, cdb, 12, 0, 0xffff);
}

static void test_rsoc_all_commands_lists_every_row_and_timeouts_with_rctd(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    size_t n;
    const struct tgt_cmd_row *rows = tgt_cmd_table_rows(&n);
    const uint8_t *d;

    rsoc(f, &c, 0, false, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    d = fx_din(&c);
    assert_int_equal(prt_get_be32(d), n * 8);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = d + 4 + i * 8;

        assert_int_equal(e[0], rows[i].opcode);
        assert_int_equal(prt_get_be16(e + 2), rows[i].sa);
        assert_int_equal(e[5] & 1, !!(rows[i].flags & TGT_F_SA));
        assert_int_equal(prt_get_be16(e + 6), rows[i].cdb_len);
    }
    rsoc(f, &c, 0, true, 0, 0);
    d = fx_din(&c);
    assert_int_equal(prt_get_be32(d), n * 20);
    assert_int_equal(d[4 + 5] & 0x02, 0x02);          /* CTDP */
    assert_int_equal(prt_get_be16(d + 4 + 8), 0x0a);  /* timeouts descriptor length */
}

static void test_rsoc_one_command_returns_the_usage_mask(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    const struct tgt_cmd_row *r = tgt_cmd_table_lookup(0x28, 0, NULL);
    const uint8_t *d;

    rsoc(f, &c, 1, false, 0x28, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    d = fx_din(&c);
    assert_int_equal(d[1] & 0x07, 3); /* supported per standard */
    assert_int_equal(prt_get_be16(d + 2), 10);
    assert_memory_equal(d + 4, r->usage, 10);
    rsoc(f, &c, 2, true, 0x9e, 0x10);
    d = fx_din(&c);
    assert_int_equal(d[1], 0x80 | 3);
    assert_int_equal(d[4], 0x9e);
    assert_int_equal(c.din_len, 4 + 16 + 12);
    rsoc(f, &c, 1, false, 0x02, 0);
    assert_int_equal(fx_din(&c)[1] & 0x07, 1); /* not supported */
}

static void test_rsoc_option_mismatching_service_actions_is_invalid_field(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    rsoc(f, &c, 1, false, 0x9e, 0x10);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    rsoc(f, &c, 2, false, 0x28, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    rsoc(f, &c, 5, false, 0x28, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    fx_assert_field(&c, true, 2, 2);
}

static void test_start_stop_unit_cannot_eject_fixed_medium_but_accepts_power_conditions(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    uint8_t cdb[6] = { 0x1b, 0, 0, 0, 0x02, 0 };

    fx_run(f, &c, f->a, 0, cdb, 6, 0, 0);
    fx_assert_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    fx_assert_field(&c, true, 4, 1);
    cdb[4] = 0x01; /* START */
    fx_run(f, &c, f->a, 0, cdb, 6, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    cdb[4] = 0x30 | 0x02; /* STANDBY: LOEJ is ignored */
    fx_run(f, &c, f->a, 0, cdb, 6, 0, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    cdb[4] = 0x40; /* reserved power condition */
    fx_run(f, &c, f->a, 0, cdb, 6, 0, 0);
    fx_assert_field(&c, true, 4, 7);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_standard_inquiry_claims_spc4_and_its_version_descriptors),
        T(test_inquiry_allocation_length_clips_data_but_not_additional_length),
        T(test_inquiry_page_code_without_evpd_is_invalid_field),
        T(test_vpd_00_lists_supported_pages_in_ascending_order),
        cmocka_unit_test(test_vpd_83_naa_is_locally_assigned_stable_and_unique_per_lu),
        T(test_vpd_83_names_target_port_relative_port_group_and_device),
        T(test_vpd_b0_reports_transfer_and_unmap_limits),
        T(test_vpd_b1_reports_non_rotating_medium),
        T(test_vpd_b2_claims_unmap_and_both_write_sames_with_lbprz),
        T(test_report_luns_lists_each_lu_and_rejects_unknown_select_report),
        T(test_report_luns_clears_reported_luns_data_has_changed),
        T(test_request_sense_returns_and_clears_the_highest_unit_attention),
        T(test_mode_sense6_has_header_block_descriptor_and_caching_page),
        T(test_mode_sense10_llbaa_gives_long_block_descriptor),
        T(test_mode_sense_saved_values_are_not_supported),
        T(test_mode_sense_unknown_page_is_invalid_field_on_page_code),
        T(test_mode_sense_all_pages_returns_caching_control_and_ie),
        T(test_mode_sense_changeable_mask_shows_wce_dsense_swp_tas),
        T(test_mode_select_changes_wce_and_tells_other_nexuses),
        T(test_mode_select_of_unchangeable_bit_points_at_that_bit),
        T(test_mode_select_wrong_page_length_is_invalid_field_in_parameter_list),
        T(test_mode_select_save_pages_is_invalid_field_in_cdb),
        T(test_software_write_protect_refuses_writes),
        T(test_rsoc_all_commands_lists_every_row_and_timeouts_with_rctd),
        T(test_rsoc_one_command_returns_the_usage_mask),
        T(test_rsoc_option_mismatching_service_actions_is_invalid_field),
        T(test_start_stop_unit_cannot_eject_fixed_medium_but_accepts_power_conditions),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
