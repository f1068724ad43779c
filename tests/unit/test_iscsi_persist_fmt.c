/* Unit tests for app/iscsi_persist_fmt.c: the PR IN/OUT CDBs and parameter lists byte for byte (SPC-4 6.14,
 * 6.15), and the text sg_persist 0.67 prints for each kind of PR IN data, line for line. The source is included so
 * that the test needs no library of the app. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "app/iscsi_persist_fmt.c"

/* Output capture: every printing function writes to a FILE; the tests compare what it wrote. */
struct cap {
    FILE *f;
    char *buf;
    size_t len;
};

static void cap_open(struct cap *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
}

static const char *cap_text(struct cap *c)
{
    fflush(c->f);
    return c->buf;
}

static void cap_close(struct cap *c)
{
    fclose(c->f);
    free(c->buf);
}

static struct prt_persist_opts *opts_for(int prin_sa)
{
    struct prt_persist_opts *o = calloc(1, sizeof(*o));
    assert_non_null(o);
    o->pr_in = true;
    o->prin_sa = prin_sa;
    o->prout_sa = -1;
    o->alloc_len = PRT_PERSIST_MAX_ALLOC;
    return o;
}

/* Run prt_persist_print_prin() over len bytes and compare stdout and the return value. */
static void expect_prin(const struct prt_persist_opts *o, const uint8_t *data, size_t len, const char *want_out,
                        int want_rc)
{
    struct cap out, err;
    cap_open(&out);
    cap_open(&err);
    int rc = prt_persist_print_prin(out.f, err.f, o, data, len);
    assert_int_equal(rc, want_rc);
    assert_string_equal(cap_text(&out), want_out);
    cap_close(&out);
    cap_close(&err);
}

/* ---- CDBs and parameter lists ------------------------------------------------------------------------- */

static void test_prin_cdb_carries_service_action_and_allocation_length(void **state)
{
    (void)state;
    uint8_t cdb[10];
    prt_persist_prin_cdb(cdb, PRT_PRIN_READ_FULL_STATUS, 8192);
    static const uint8_t want[10] = {0x5e, 0x03, 0, 0, 0, 0, 0, 0x20, 0x00, 0};
    assert_memory_equal(cdb, want, 10);
}

static void test_prout_cdb_has_lu_scope_type_and_parameter_list_length(void **state)
{
    (void)state;
    uint8_t cdb[10];
    prt_persist_prout_cdb(cdb, PRT_PROUT_RESERVE, 3, 24);
    static const uint8_t want[10] = {0x5f, 0x01, 0x03, 0, 0, 0, 0, 0, 24, 0};
    assert_memory_equal(cdb, want, 10);
    prt_persist_prout_cdb(cdb, PRT_PROUT_REPLACE_LOST, 8, 0x01020304);
    assert_int_equal(cdb[1], 0x08);
    assert_int_equal(cdb[2], 0x08); /* SCOPE 0h (LU_SCOPE) in the high nibble */
    assert_int_equal(prt_get_be32(cdb + 5), 0x01020304);
}

static void test_register_parameter_list_is_24_bytes_with_flags_in_byte_20(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(0);
    o->prout_sa = PRT_PROUT_REGISTER;
    o->param_rk = 0x0102030405060708ull;
    o->param_sark = 0x123abc;
    o->param_alltgpt = true;
    o->param_aptpl = true;
    uint8_t buf[PRT_PERSIST_PROUT_MAX];
    memset(buf, 0xee, sizeof(buf));
    size_t len = prt_persist_prout_params(o, buf, sizeof(buf));
    assert_int_equal(len, 24);
    assert_true(prt_get_be64(buf) == 0x0102030405060708ull);
    assert_true(prt_get_be64(buf + 8) == 0x123abc);
    assert_int_equal(buf[20], 0x05); /* ALL_TG_PT | APTPL, SPEC_I_PT clear */
    for (int i = 16; i < 24; i++)
        if (i != 20)
            assert_int_equal(buf[i], 0);
    free(o);
}

/* An iSCSI TransportID of format 00b for name, as SPC-4 7.6.4.6 lays it out; returns its length. */
static size_t make_iscsi_tid(uint8_t *tid, const char *name)
{
    size_t n = strlen(name), alen = (n + 1 + 3) & ~(size_t)3;
    if (alen < 20)
        alen = 20;
    memset(tid, 0, 4 + alen);
    tid[0] = 0x05;
    prt_put_be16(tid + 2, (uint16_t)alen);
    memcpy(tid + 4, name, n);
    return 4 + alen;
}

static void test_register_with_transport_ids_sets_spec_i_pt_and_appends_the_list(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(0);
    o->prout_sa = PRT_PROUT_REGISTER;
    o->param_sark = 0x77;
    o->tids_len = make_iscsi_tid(o->tids, "iqn.2026-11.org.test:one");
    o->tids_len += make_iscsi_tid(o->tids + o->tids_len, "iqn.2026-11.org.test:two");
    o->n_tids = 2;
    uint8_t buf[PRT_PERSIST_PROUT_MAX];
    size_t len = prt_persist_prout_params(o, buf, sizeof(buf));
    /* SPC-4 6.15.3: 24 fixed bytes, TRANSPORTID PARAMETER DATA LENGTH, then the TransportIDs. */
    assert_int_equal(len, 28 + o->tids_len);
    assert_int_equal(buf[20], 0x08);
    assert_int_equal(prt_get_be32(buf + 24), o->tids_len);
    assert_memory_equal(buf + 28, o->tids, o->tids_len);
    free(o);
}

static void test_register_and_move_uses_its_own_layout(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(0);
    o->prout_sa = PRT_PROUT_REGISTER_MOVE;
    o->param_rk = 0x123abc;
    o->param_sark = 0x456def;
    o->param_unreg = true;
    o->param_aptpl = true;
    o->param_alltgpt = true; /* not part of the REGISTER AND MOVE list: must not appear */
    o->param_rtp = 2;
    o->tids_len = make_iscsi_tid(o->tids, "iqn.2026-11.org.test:two");
    o->n_tids = 1;
    uint8_t buf[PRT_PERSIST_PROUT_MAX];
    size_t len = prt_persist_prout_params(o, buf, sizeof(buf));
    /* SPC-4 6.15.4 (Table 190). */
    assert_int_equal(len, 24 + o->tids_len);
    assert_true(prt_get_be64(buf) == 0x123abc);
    assert_true(prt_get_be64(buf + 8) == 0x456def);
    assert_int_equal(buf[16], 0);
    assert_int_equal(buf[17], 0x03);
    assert_int_equal(prt_get_be16(buf + 18), 2);
    assert_int_equal(prt_get_be32(buf + 20), o->tids_len);
    assert_memory_equal(buf + 24, o->tids, o->tids_len);
    free(o);
}

static void test_parameter_list_never_exceeds_the_buffer(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(0);
    o->prout_sa = PRT_PROUT_REGISTER;
    o->tids_len = make_iscsi_tid(o->tids, "iqn.2026-11.org.test:one");
    o->n_tids = 1;
    uint8_t small[30];
    assert_int_equal(prt_persist_prout_params(o, small, 10), 0);
    /* Room for the fixed part but not the TransportIDs: the list is sent without them, never overrun. */
    assert_int_equal(prt_persist_prout_params(o, small, sizeof(small)), 24);
    free(o);
}

/* ---- READ KEYS (SPC-4 6.14.2) --------------------------------------------------------------------------- */

static void test_read_keys_with_no_registrations(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(PRT_PRIN_READ_KEYS);
    uint8_t d[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    expect_prin(o, d, sizeof(d), "  PR generation=0x0, there are NO registered reservation keys\n", 0);
    free(o);
}

static void test_read_keys_with_one_key_uses_the_singular(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(PRT_PRIN_READ_KEYS);
    uint8_t d[16] = {0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0x12, 0x3a, 0xbc};
    expect_prin(o, d, sizeof(d), "  PR generation=0x1, 1 registered reservation key follows:\n    0x123abc\n", 0);
    free(o);
}

static void test_read_keys_with_several_keys(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(PRT_PRIN_READ_KEYS);
    uint8_t d[24] = {0, 0, 0x01, 0x0f, 0, 0, 0, 16};
    prt_put_be64(d + 8, 0x123abc);
    prt_put_be64(d + 16, 0xffffffffffffffffull);
    expect_prin(o, d, sizeof(d),
                "  PR generation=0x10f, 2 registered reservation keys follow:\n    0x123abc\n"
                "    0xffffffffffffffff\n",
                0);
    free(o);
}

static void test_read_keys_prints_only_keys_that_arrived(void **state)
{
    (void)state;
    /* ADDITIONAL LENGTH says three keys, the allocation length let one arrive (SPC-4 4.3.5.6 truncation). */
    struct prt_persist_opts *o = opts_for(PRT_PRIN_READ_KEYS);
    uint8_t d[16] = {0, 0, 0, 3, 0, 0, 0, 24};
    prt_put_be64(d + 8, 0xabc);
    expect_prin(o, d, sizeof(d), "  PR generation=0x3, 3 registered reservation keys follow:\n    0xabc\n", 0);
    /* A response shorter than its 8-byte header reads as zeros. */
    expect_prin(o, d, 3, "  PR generation=0x0, there are NO registered reservation keys\n", 0);
    free(o);
}

/* ---- READ RESERVATION (SPC-4 6.14.3) -------------------------------------------------------------------- */

static void test_read_reservation_when_none_is_held(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(PRT_PRIN_READ_RESERVATION);
    uint8_t d[8] = {0, 0, 0, 2, 0, 0, 0, 0};
    expect_prin(o, d, sizeof(d), "  PR generation=0x2, there is NO reservation held\n", 0);
    free(o);
}

static void test_read_reservation_shows_key_scope_and_type(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(PRT_PRIN_READ_RESERVATION);
    uint8_t d[24] = {0, 0, 0, 1, 0, 0, 0, 16};
    prt_put_be64(d + 8, 0x123abc);
    d[8 + 13] = 0x03; /* LU_SCOPE, Exclusive Access */
    expect_prin(o, d, sizeof(d),
                "  PR generation=0x1, Reservation follows:\n    Key=0x123abc\n"
                "    scope: LU_SCOPE,  type: Exclusive Access\n",
                0);
    d[8 + 13] = 0x28; /* a scope SPC-4 no longer defines, and type 8 */
    expect_prin(o, d, sizeof(d),
                "  PR generation=0x1, Reservation follows:\n    Key=0x123abc\n"
                "    scope: 2  type: Exclusive Access, all registrants\n",
                0);
    free(o);
}

/* ---- READ FULL STATUS (SPC-4 6.14.5) -------------------------------------------------------------------- */

static void test_full_status_without_descriptors(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(PRT_PRIN_READ_FULL_STATUS);
    uint8_t d[8] = {0, 0, 0, 4};
    expect_prin(o, d, sizeof(d), "  PR generation=0x4\n  No full status descriptors\n", 0);
    o->verbose = 1;
    expect_prin(o, d, sizeof(d),
                "  PR generation=0x4\n  No full status descriptors\n  So there are no registered IT nexuses\n", 0);
    free(o);
}

static void test_full_status_shows_holder_ports_and_iscsi_transport_ids(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(PRT_PRIN_READ_FULL_STATUS);
    uint8_t d[512] = {0};
    size_t off = 8;
    /* Descriptor 1: the holder, relative target port 1, initiator port name with ISID (format 01b). */
    uint8_t *a = d + off;
    prt_put_be64(a, 0x123abc);
    a[12] = 0x01;
    a[13] = 0x03;
    prt_put_be16(a + 18, 1);
    const char *n1 = "iqn.2026-11.org.test:a,i,0x800000000001";
    size_t t1 = make_iscsi_tid(a + 24, n1);
    a[24] |= 0x40;
    prt_put_be32(a + 20, (uint32_t)t1);
    off += 24 + t1;
    /* Descriptor 2: registered on all target ports, not the holder, name only (format 00b). */
    uint8_t *b = d + off;
    prt_put_be64(b, 0x456def);
    b[12] = 0x02;
    size_t t2 = make_iscsi_tid(b + 24, "iqn.2026-11.org.test:b");
    prt_put_be32(b + 20, (uint32_t)t2);
    off += 24 + t2;
    prt_put_be32(d, 7);
    prt_put_be32(d + 4, (uint32_t)(off - 8));
    expect_prin(o, d, off,
                "  PR generation=0x7\n"
                "    Key=0x123abc\n"
                "      All target ports bit clear\n"
                "      Relative port address: 0x1\n"
                "      << Reservation holder >>\n"
                "      scope: LU_SCOPE,  type: Exclusive Access\n"
                "      Transport Id of initiator:\n"
                "        iSCSI world wide unique port id: iqn.2026-11.org.test:a,i,0x800000000001\n"
                "    Key=0x456def\n"
                "      All target ports bit set\n"
                "      not reservation holder\n"
                "      Transport Id of initiator:\n"
                "        iSCSI name: iqn.2026-11.org.test:b\n",
                0);
    free(o);
}

static void test_full_status_with_overstated_descriptor_length_stays_in_bounds(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(PRT_PRIN_READ_FULL_STATUS);
    /* Exactly 8 + 24 + 4 bytes arrive; the descriptor claims 4000 bytes of TransportID. */
    uint8_t *d = calloc(1, 36);
    assert_non_null(d);
    prt_put_be32(d + 4, 4028);
    prt_put_be64(d + 8, 0x1);
    prt_put_be32(d + 8 + 20, 4000);
    d[32] = 0x05;
    expect_prin(o, d, 36,
                "  PR generation=0x0\n"
                "    Key=0x1\n"
                "      All target ports bit clear\n"
                "      Relative port address: 0x0\n"
                "      not reservation holder\n"
                "      Transport Id short or not multiple of 4 [length=4]:\n"
                "        iSCSI name: \n",
                0);
    free(d);
    free(o);
}

/* ---- REPORT CAPABILITIES (SPC-4 6.14.4) ----------------------------------------------------------------- */

static void test_report_capabilities_decodes_every_bit(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(PRT_PRIN_REPORT_CAPABILITIES);
    uint8_t d[8] = {0, 8, 0x9d, 0x91, 0xea, 0x01, 0, 0};
    expect_prin(o, d, sizeof(d),
                "Report capabilities response:\n"
                "  Replace Lost Reservation Capable(RLR_C): 1\n"
                "  Compatible Reservation Handling(CRH): 1\n"
                "  Specify Initiator Ports Capable(SIP_C): 1\n"
                "  All Target Ports Capable(ATP_C): 1\n"
                "  Persist Through Power Loss Capable(PTPL_C): 1\n"
                "  Type Mask Valid(TMV): 1\n"
                "  Allow Commands: 1\n"
                "  Persist Through Power Loss Active(PTPL_A): 1\n"
                "    Support indicated in Type mask:\n"
                "      Write Exclusive, all registrants: 1\n"
                "      Exclusive Access, registrants only: 1\n"
                "      Write Exclusive, registrants only: 1\n"
                "      Exclusive Access: 1\n"
                "      Write Exclusive: 1\n"
                "      Exclusive Access, all registrants: 1\n",
                0);
    /* The sl150 capability set: types 3, 6, 8 only, no RLR_C, TMV set. */
    uint8_t e[8] = {0, 8, 0x00, 0x80, 0x48, 0x01, 0, 0};
    expect_prin(o, e, sizeof(e),
                "Report capabilities response:\n"
                "  Replace Lost Reservation Capable(RLR_C): 0\n"
                "  Compatible Reservation Handling(CRH): 0\n"
                "  Specify Initiator Ports Capable(SIP_C): 0\n"
                "  All Target Ports Capable(ATP_C): 0\n"
                "  Persist Through Power Loss Capable(PTPL_C): 0\n"
                "  Type Mask Valid(TMV): 1\n"
                "  Allow Commands: 0\n"
                "  Persist Through Power Loss Active(PTPL_A): 0\n"
                "    Support indicated in Type mask:\n"
                "      Write Exclusive, all registrants: 0\n"
                "      Exclusive Access, registrants only: 1\n"
                "      Write Exclusive, registrants only: 0\n"
                "      Exclusive Access: 1\n"
                "      Write Exclusive: 0\n"
                "      Exclusive Access, all registrants: 1\n",
                0);
    free(o);
}

static void test_report_capabilities_of_wrong_length_is_malformed(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(PRT_PRIN_REPORT_CAPABILITIES);
    uint8_t d[8] = {0, 6, 0, 0, 0, 0, 0, 0};
    struct cap out, err;
    cap_open(&out);
    cap_open(&err);
    assert_int_equal(prt_persist_print_prin(out.f, err.f, o, d, sizeof(d)), PRT_EXIT_MALFORMED);
    assert_string_equal(cap_text(&err), "Unexpected response for PRIN Report Capabilities\n");
    assert_string_equal(cap_text(&out), "");
    cap_close(&out);
    cap_close(&err);
    free(o);
}

/* ---- --hex -------------------------------------------------------------------------------------------- */

static void test_hex_once_prints_generation_length_and_the_data(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(PRT_PRIN_READ_KEYS);
    o->hex = 1;
    uint8_t d[24] = {0, 0, 0, 2, 0, 0, 0, 16};
    prt_put_be64(d + 8, 0x123abc);
    prt_put_be64(d + 16, 0xabc);
    expect_prin(o, d, sizeof(d),
                "  PR generation=0x2, Additional length=16\n"
                " 00     00 00 00 00 00 12 3a bc  00 00 00 00 00 00 0a bc\n",
                0);
    free(o);
}

static void test_hex_once_with_zero_length_prints_the_length_twice_as_sg_persist(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(PRT_PRIN_READ_RESERVATION);
    o->hex = 1;
    uint8_t d[8] = {0, 0, 0, 2, 0, 0, 0, 0};
    expect_prin(o, d, sizeof(d), "  PR generation=0x2, Additional length=0\nAdditional length=0\n", 0);
    free(o);
}

static void test_hex_once_truncates_an_oversized_length_to_the_allocation(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(PRT_PRIN_READ_KEYS);
    o->hex = 1;
    o->alloc_len = 16;
    uint8_t d[16] = {0, 0, 0, 1, 0, 0, 0, 64, 1, 2, 3, 4, 5, 6, 7, 8};
    expect_prin(o, d, sizeof(d),
                "  PR generation=0x1, Additional length too large=64, truncate\n"
                " 00     01 02 03 04 05 06 07 08\n",
                0);
    free(o);
}

static void test_hex_twice_and_thrice_dump_header_and_data(void **state)
{
    (void)state;
    struct prt_persist_opts *o = opts_for(PRT_PRIN_READ_KEYS);
    uint8_t d[16] = {0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0x12, 0x3a, 0xbc};
    o->hex = 2;
    expect_prin(o, d, sizeof(d), " 00     00 00 00 02 00 00 00 08  00 00 00 00 00 12 3a bc\n", 0);
    o->hex = 3;
    expect_prin(o, d, sizeof(d), "00 00 00 02 00 00 00 08  00 00 00 00 00 12 3a bc\n", 0);
    o->prin_sa = PRT_PRIN_REPORT_CAPABILITIES;
    o->hex = 1;
    uint8_t c[8] = {0, 8, 0, 0x80, 0xea, 0x01, 0, 0};
    expect_prin(o, c, sizeof(c), " 00     00 08 00 80 ea 01 00 00\n", 0);
    free(o);
}

static void test_hex_dump_with_ascii_and_addresses(void **state)
{
    (void)state;
    struct cap out;
    uint8_t d[18];
    for (int i = 0; i < 18; i++)
        d[i] = (uint8_t)('A' + i);
    d[17] = 0x01;
    cap_open(&out);
    prt_persist_hex(out.f, d, sizeof(d), 0);
    assert_string_equal(cap_text(&out),
                        " 00     41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50    ABCDEFGHIJKLMNOP\n"
                        " 10     51 01                                               Q.\n");
    cap_close(&out);
}

/* ---- INQUIRY, sense, exit statuses -------------------------------------------------------------------- */

static void test_inquiry_prints_vendor_product_revision_and_device_type(void **state)
{
    (void)state;
    uint8_t inq[36] = {0x00, 0, 6, 2, 31};
    memcpy(inq + 8, "PRTARGET", 8);
    memcpy(inq + 16, "MEMDISK         ", 16);
    memcpy(inq + 32, "0001", 4);
    struct cap out;
    cap_open(&out);
    prt_persist_print_inquiry(out.f, inq, sizeof(inq));
    assert_string_equal(cap_text(&out), "  PRTARGET  MEMDISK           0001\n  Peripheral device type: disk\n");
    cap_close(&out);
    inq[0] = 0x01; /* sequential-access */
    cap_open(&out);
    prt_persist_print_inquiry(out.f, inq, 5); /* short data: the strings read as empty */
    assert_string_equal(cap_text(&out), "      \n  Peripheral device type: tape\n");
    cap_close(&out);
}

static void test_reservation_conflict_status_is_exit_24(void **state)
{
    (void)state;
    assert_int_equal(prt_persist_category(0x18, NULL), PRT_EXIT_RES_CONFLICT);
    assert_int_equal(PRT_EXIT_RES_CONFLICT, 24);
    assert_string_equal(prt_persist_category_str(PRT_EXIT_RES_CONFLICT), "Reservation conflict");
    assert_string_equal(prt_persist_exit_str(PRT_EXIT_RES_CONFLICT), "Reservation conflict");
}

static void test_sense_keys_map_to_sg3_utils_categories(void **state)
{
    (void)state;
    struct prt_persist_sense s = {.response_code = 0x70};
    s.key = 0x6;
    s.asc = 0x2a;
    s.ascq = 0x03;
    assert_int_equal(prt_persist_category(0x02, &s), PRT_EXIT_UNIT_ATTENTION);
    s.key = 0x5;
    s.asc = 0x24;
    s.ascq = 0;
    assert_int_equal(prt_persist_category(0x02, &s), PRT_EXIT_ILLEGAL_REQ);
    s.asc = 0x20;
    assert_int_equal(prt_persist_category(0x02, &s), PRT_EXIT_INVALID_OP);
    s.asc = 0x21;
    assert_int_equal(prt_persist_category(0x02, &s), PRT_EXIT_LBA_OUT_OF_RANGE);
    s.key = 0x2;
    assert_int_equal(prt_persist_category(0x02, &s), PRT_EXIT_NOT_READY);
    s.key = 0x4;
    assert_int_equal(prt_persist_category(0x02, &s), PRT_EXIT_MEDIUM_HARD);
    s.key = 0xb;
    s.asc = 0x10;
    assert_int_equal(prt_persist_category(0x02, &s), PRT_EXIT_PROTECTION);
    s.asc = 0x47;
    assert_int_equal(prt_persist_category(0x02, &s), PRT_EXIT_ABORTED_COMMAND);
    s.key = 0xd;
    assert_int_equal(prt_persist_category(0x02, &s), PRT_EXIT_SENSE);
    assert_int_equal(prt_persist_category(0x00, NULL), PRT_EXIT_OK);
    assert_int_equal(prt_persist_category(0x08, NULL), PRT_EXIT_BUSY);
    assert_int_equal(prt_persist_category(0x28, NULL), PRT_EXIT_TASK_SET_FULL);
    assert_int_equal(prt_persist_category(0x40, NULL), PRT_EXIT_TASK_ABORTED);
    assert_int_equal(prt_persist_category(0x22, NULL), PRT_EXIT_OTHER);
    assert_string_equal(prt_persist_exit_str(PRT_EXIT_UNIT_ATTENTION), "Unit attention");
    assert_string_equal(prt_persist_exit_str(PRT_EXIT_ILLEGAL_REQ), "Illegal request");
    assert_null(prt_persist_exit_str(PRT_EXIT_OK));
}

static void test_unit_attention_sense_prints_as_sg3_utils(void **state)
{
    (void)state;
    struct prt_persist_sense s = {.response_code = 0x70, .key = 0x6, .asc = 0x2a, .ascq = 0x03};
    struct cap out;
    cap_open(&out);
    prt_persist_print_sense(out.f, &s);
    assert_string_equal(cap_text(&out),
                        "Fixed format, current; Sense key: Unit Attention\nAdditional sense: Reservations preempted\n");
    cap_close(&out);
}

static void test_illegal_request_sense_prints_the_field_pointer(void **state)
{
    (void)state;
    struct prt_persist_sense s = {.response_code = 0x72, .key = 0x5, .asc = 0x26, .ascq = 0x00,
                                  .sksv = true, .cd = false, .bpv = true, .bit_pointer = 3,
                                  .field_pointer = 20};
    struct cap out;
    cap_open(&out);
    prt_persist_print_sense(out.f, &s);
    assert_string_equal(cap_text(&out), "Descriptor format, current; Sense key: Illegal Request\n"
                                        "Additional sense: Invalid field in parameter list\n"
                                        "  Sense Key Specific: Error in Parameter: byte 20 bit 3\n");
    cap_close(&out);
    struct prt_persist_sense u = {.response_code = 0x70, .key = 0x5, .asc = 0x99, .ascq = 0x12,
                                  .sksv = true, .cd = true, .field_pointer = 2};
    cap_open(&out);
    prt_persist_print_sense(out.f, &u);
    assert_string_equal(cap_text(&out), "Fixed format, current; Sense key: Illegal Request\n"
                                        "ASC=99, ASCQ=12 (hex)\n"
                                        "  Sense Key Specific: Error in Command: byte 2\n");
    cap_close(&out);
}

static void test_type_and_service_action_names(void **state)
{
    (void)state;
    assert_string_equal(prt_persist_type_str(1), "Write Exclusive");
    assert_string_equal(prt_persist_type_str(5), "Write Exclusive, registrants only");
    assert_string_equal(prt_persist_type_str(0xf), "obsolete [0xf]");
    assert_string_equal(prt_persist_prin_sa_str(PRT_PRIN_READ_FULL_STATUS), "Read full status");
    assert_string_equal(prt_persist_prout_sa_str(PRT_PROUT_REGISTER_IGNORE), "Register and ignore existing key");
    assert_string_equal(prt_persist_prout_sa_str(PRT_PROUT_REPLACE_LOST), "Replace lost reservation");
    assert_string_equal(prt_persist_prout_sa_str(42), "[reserved]");
}

static void test_verbose_cdb_line(void **state)
{
    (void)state;
    uint8_t cdb[10];
    prt_persist_prin_cdb(cdb, PRT_PRIN_READ_KEYS, 8192);
    struct cap out;
    cap_open(&out);
    prt_persist_print_cdb(out.f, "Persistent reserve in", cdb, sizeof(cdb));
    assert_string_equal(cap_text(&out), "    Persistent reserve in cdb: 5e 00 00 00 00 00 00 20 00 00 \n");
    cap_close(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prin_cdb_carries_service_action_and_allocation_length),
        cmocka_unit_test(test_prout_cdb_has_lu_scope_type_and_parameter_list_length),
        cmocka_unit_test(test_register_parameter_list_is_24_bytes_with_flags_in_byte_20),
        cmocka_unit_test(test_register_with_transport_ids_sets_spec_i_pt_and_appends_the_list),
        cmocka_unit_test(test_register_and_move_uses_its_own_layout),
        cmocka_unit_test(test_parameter_list_never_exceeds_the_buffer),
        cmocka_unit_test(test_read_keys_with_no_registrations),
        cmocka_unit_test(test_read_keys_with_one_key_uses_the_singular),
        cmocka_unit_test(test_read_keys_with_several_keys),
        cmocka_unit_test(test_read_keys_prints_only_keys_that_arrived),
        cmocka_unit_test(test_read_reservation_when_none_is_held),
        cmocka_unit_test(test_read_reservation_shows_key_scope_and_type),
        cmocka_unit_test(test_full_status_without_descriptors),
        cmocka_unit_test(test_full_status_shows_holder_ports_and_iscsi_transport_ids),
        cmocka_unit_test(test_full_status_with_overstated_descriptor_length_stays_in_bounds),
        cmocka_unit_test(test_report_capabilities_decodes_every_bit),
        cmocka_unit_test(test_report_capabilities_of_wrong_length_is_malformed),
        cmocka_unit_test(test_hex_once_prints_generation_length_and_the_data),
        cmocka_unit_test(test_hex_once_with_zero_length_prints_the_length_twice_as_sg_persist),
        cmocka_unit_test(test_hex_once_truncates_an_oversized_length_to_the_allocation),
        cmocka_unit_test(test_hex_twice_and_thrice_dump_header_and_data),
        cmocka_unit_test(test_hex_dump_with_ascii_and_addresses),
        cmocka_unit_test(test_inquiry_prints_vendor_product_revision_and_device_type),
        cmocka_unit_test(test_reservation_conflict_status_is_exit_24),
        cmocka_unit_test(test_sense_keys_map_to_sg3_utils_categories),
        cmocka_unit_test(test_unit_attention_sense_prints_as_sg3_utils),
        cmocka_unit_test(test_illegal_request_sense_prints_the_field_pointer),
        cmocka_unit_test(test_type_and_service_action_names),
        cmocka_unit_test(test_verbose_cdb_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
