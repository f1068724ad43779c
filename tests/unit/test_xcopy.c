/* Unit tests for target/xcopy.c: EXTENDED COPY (LID1) and RECEIVE COPY RESULTS (SPC-4 6.4, 6.18), the
 * third-party copy VPD page.
 *
 * Fixture: one target port, two nexuses, four LUs (mem 1 MiB, 512-byte blocks, 2048 blocks each).
 *
 *   nexus 0: n0 --+                +-- LU 0: plain
 *                 +-- port 1 ------+-- LU 1: plain
 *   nexus 1: n1 --+                +-- LU 2: read-only
 *                                  +-- LU 3: removable
 */
#include "disk_harness.h"

#define BS 512u
#define NBLOCKS 2048u

static int setup(void **state)
{
    static const struct dh_lu lus[] = { { .size = 1 << 20, .block_size = BS },
                                        { .size = 1 << 20, .block_size = BS },
                                        { .size = 1 << 20, .block_size = BS, .read_only = true },
                                        { .size = 1 << 20, .block_size = BS, .removable = true } };
    static const uint16_t ports[] = { 1, 1 };

    *state = dh_new(1, lus, 4, ports, 2);
    return 0;
}

static int teardown(void **state)
{
    dh_free(*state);
    return 0;
}

/* A parameter list under construction in h->buf. */
struct plist {
    uint8_t *p;
    size_t tdl, sdl, len;
};

static void pl_begin(struct dh *h, struct plist *pl, uint8_t list_id, uint8_t usage)
{
    memset(h->buf, 0, 16 + 64 * 32 + 128 * 28);
    pl->p = h->buf;
    pl->p[0] = list_id;
    pl->p[1] = (uint8_t)(usage << 3);
    pl->tdl = pl->sdl = 0;
    pl->len = 16;
}

/* Identification target descriptor naming LU lun by its NAA designator, as an initiator copies it from VPD 83h. */
static void pl_target(struct dh *h, struct plist *pl, uint8_t type, uint64_t lun, uint8_t byte1)
{
    uint8_t *td = pl->p + pl->len;

    td[0] = type;
    td[1] = byte1;
    td[4] = 0x01;         /* code set binary */
    td[5] = 0x03;         /* association LU, type NAA */
    td[7] = 8;
    memcpy(td + 8, tgt_server_lu(h->srv, lun)->naa, 8);
    prt_put_be24(td + 29, BS);
    pl->len += 32;
    pl->tdl += 32;
}

static void pl_b2b(struct plist *pl, uint16_t src, uint16_t dst, uint16_t blocks, uint64_t src_lba,
                   uint64_t dst_lba)
{
    uint8_t *sd = pl->p + pl->len;

    sd[0] = 0x02;
    prt_put_be16(sd + 2, 0x18);
    prt_put_be16(sd + 4, src);
    prt_put_be16(sd + 6, dst);
    prt_put_be16(sd + 10, blocks);
    prt_put_be64(sd + 12, src_lba);
    prt_put_be64(sd + 20, dst_lba);
    pl->len += 28;
    pl->sdl += 28;
}

static void pl_end(struct plist *pl)
{
    prt_put_be16(pl->p + 2, (uint16_t)pl->tdl);
    prt_put_be32(pl->p + 8, (uint32_t)pl->sdl);
}

static struct tgt_cmd *xcopy(struct dh *h, int n, uint64_t lun, uint32_t plen)
{
    uint8_t cdb[16] = { 0x83, 0x00 };

    prt_put_be32(cdb + 10, plen);
    return dh_run(h, n, lun, cdb, 16, plen);
}

static struct tgt_cmd *copy_status(struct dh *h, int n, uint64_t lun, uint8_t list_id)
{
    uint8_t cdb[16] = { 0x84, 0x00, list_id };

    prt_put_be32(cdb + 10, 1024);
    return dh_run(h, n, lun, cdb, 16, 0);
}

/* One target descriptor for each of src_lun and dst_lun, one segment. */
static uint32_t simple_list(struct dh *h, uint64_t src_lun, uint64_t dst_lun, uint16_t blocks, uint64_t src_lba,
                            uint64_t dst_lba, uint8_t usage)
{
    struct plist pl;

    pl_begin(h, &pl, 1, usage);
    pl_target(h, &pl, 0xe4, src_lun, 0);
    pl_target(h, &pl, 0xe4, dst_lun, 0);
    pl_b2b(&pl, 0, 1, blocks, src_lba, dst_lba);
    pl_end(&pl);
    return (uint32_t)pl.len;
}

static void test_copy_between_two_lus_moves_the_blocks(void **state)
{
    struct dh *h = *state;
    uint32_t plen;

    dh_assert_good(dh_write10(h, 0, 0, 0, 256, 'A', BS));
    plen = simple_list(h, 0, 1, 256, 0, NBLOCKS - 256, 0x02);
    dh_assert_good(xcopy(h, 0, 0, plen));
    assert_true(dh_all(dh_din(dh_read10(h, 0, 1, NBLOCKS - 256, 256)), 256 * BS, 'A'));
    assert_true(dh_all(dh_din(dh_read10(h, 0, 1, 0, 1)), BS, 0));
}

static void test_copy_within_one_lu_handles_overlapping_ranges(void **state)
{
    struct dh *h = *state;
    struct plist pl;
    const uint8_t *d;

    for (uint32_t i = 0; i < 8; i++)
        dh_assert_good(dh_write10(h, 0, 0, i, 1, (uint8_t)('0' + i), BS));
    pl_begin(h, &pl, 1, 0x02);
    pl_target(h, &pl, 0xe4, 0, 0);
    pl_b2b(&pl, 0, 0, 6, 0, 2);
    pl_end(&pl);
    dh_assert_good(xcopy(h, 0, 0, (uint32_t)pl.len));
    d = dh_din(dh_read10(h, 0, 0, 0, 8));
    for (uint32_t i = 0; i < 8; i++)
        assert_int_equal(d[i * BS], i < 2 ? '0' + i : '0' + i - 2);
}

static void test_parameter_list_length_zero_is_good_and_copies_nothing(void **state)
{
    struct dh *h = *state;

    dh_assert_good(xcopy(h, 0, 0, 0));
}

static void test_truncated_descriptors_are_parameter_list_length_errors(void **state)
{
    struct dh *h = *state;

    simple_list(h, 0, 1, 16, 0, 100, 0);
    dh_assert_sense(xcopy(h, 0, 0, 16 + 31), TGT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
    simple_list(h, 0, 1, 16, 0, 100, 0);
    dh_assert_sense(xcopy(h, 0, 0, 16 + 64 + 27), TGT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
    dh_assert_sense(xcopy(h, 0, 0, 8), TGT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
    dh_assert_sense(xcopy(h, 0, 0, 0xffffffffu), TGT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
}

static void test_too_many_target_descriptors(void **state)
{
    struct dh *h = *state;
    struct plist pl;

    pl_begin(h, &pl, 1, 0);
    for (int i = 0; i < 9; i++)
        pl_target(h, &pl, 0xe4, 0, 0);
    pl_b2b(&pl, 0, 0, 1, 0, 1);
    pl_end(&pl);
    dh_assert_sense(xcopy(h, 0, 0, (uint32_t)pl.len), TGT_SK_ILLEGAL_REQUEST, 0x26, 0x06);
}

static void test_too_many_segment_descriptors(void **state)
{
    struct dh *h = *state;
    struct plist pl;

    pl_begin(h, &pl, 1, 0);
    pl_target(h, &pl, 0xe4, 0, 0);
    for (int i = 0; i < 65; i++)
        pl_b2b(&pl, 0, 0, 1, 0, 1);
    pl_end(&pl);
    dh_assert_sense(xcopy(h, 0, 0, (uint32_t)pl.len), TGT_SK_ILLEGAL_REQUEST, 0x26, 0x08);
}

static void test_unsupported_descriptor_type_codes(void **state)
{
    struct dh *h = *state;
    struct plist pl;
    uint8_t *sd;

    /* Fibre Channel N_Port_Name target descriptor (E0h). */
    pl_begin(h, &pl, 1, 0);
    pl_target(h, &pl, 0xe0, 0, 0);
    pl_b2b(&pl, 0, 0, 1, 0, 1);
    pl_end(&pl);
    dh_assert_sense(xcopy(h, 0, 0, (uint32_t)pl.len), TGT_SK_ILLEGAL_REQUEST, 0x26, 0x07);
    /* Stream-to-stream segment descriptor (03h). */
    pl_begin(h, &pl, 1, 0);
    pl_target(h, &pl, 0xe4, 0, 0);
    sd = pl.p + pl.len;
    sd[0] = 0x03;
    prt_put_be16(sd + 2, 0x10);
    pl.len += 20;
    pl.sdl += 20;
    pl_end(&pl);
    dh_assert_sense(xcopy(h, 0, 0, (uint32_t)pl.len), TGT_SK_ILLEGAL_REQUEST, 0x26, 0x09);
}

static void test_reserved_lu_id_type_is_invalid_field_in_parameter_list(void **state)
{
    struct dh *h = *state;
    struct plist pl;
    struct tgt_cmd *c;

    pl_begin(h, &pl, 1, 0);
    pl_target(h, &pl, 0xe4, 0, 0x80);
    pl_b2b(&pl, 0, 0, 1, 0, 1);
    pl_end(&pl);
    c = xcopy(h, 0, 0, (uint32_t)pl.len);
    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
    dh_assert_field(c, false, 17, 7);
}

static void test_nul_target_is_copy_aborted(void **state)
{
    struct dh *h = *state;
    struct plist pl;

    pl_begin(h, &pl, 1, 0);
    pl_target(h, &pl, 0xe4, 0, 0x20);
    pl_b2b(&pl, 0, 0, 1, 0, 1);
    pl_end(&pl);
    dh_assert_sense(xcopy(h, 0, 0, (uint32_t)pl.len), 0x0a, 0x0d, 0x02);
}

static void test_index_without_target_descriptor_is_copy_aborted_unreachable(void **state)
{
    struct dh *h = *state;
    struct plist pl;

    pl_begin(h, &pl, 1, 0);
    pl_target(h, &pl, 0xe4, 0, 0);
    pl_b2b(&pl, 0, 1, 1, 0, 1);
    pl_end(&pl);
    dh_assert_sense(xcopy(h, 0, 0, (uint32_t)pl.len), 0x0a, 0x08, 0x04);
}

static void test_unknown_designator_is_copy_aborted_unreachable(void **state)
{
    struct dh *h = *state;
    struct plist pl;

    pl_begin(h, &pl, 1, 0);
    pl_target(h, &pl, 0xe4, 0, 0);
    pl.p[16 + 8] ^= 0xff;
    pl_b2b(&pl, 0, 0, 1, 0, 1);
    pl_end(&pl);
    dh_assert_sense(xcopy(h, 0, 0, (uint32_t)pl.len), 0x0a, 0x08, 0x04);
}

static void test_past_the_end_is_copy_aborted_and_copies_nothing(void **state)
{
    struct dh *h = *state;
    struct plist pl;

    dh_assert_good(dh_write10(h, 0, 0, 0, 16, 'Q', BS));
    /* Second segment runs past the end of the destination; the first must not be copied either. */
    pl_begin(h, &pl, 1, 0);
    pl_target(h, &pl, 0xe4, 0, 0);
    pl_target(h, &pl, 0xe4, 1, 0);
    pl_b2b(&pl, 0, 1, 16, 0, 0);
    pl_b2b(&pl, 0, 1, 16, 0, NBLOCKS - 1);
    pl_end(&pl);
    assert_int_equal(xcopy(h, 0, 0, (uint32_t)pl.len)->sense[2] & 0x0f, 0x0a);
    assert_true(dh_all(dh_din(dh_read10(h, 0, 1, 0, 16)), 16 * BS, 0));
}

static void test_write_protected_destination_is_copy_aborted(void **state)
{
    struct dh *h = *state;
    uint32_t plen = simple_list(h, 0, 2, 1, 0, 0, 0);

    dh_assert_sense(xcopy(h, 0, 0, plen), 0x0a, 0x27, 0x00);
}

static void test_ejected_copy_target_is_unreachable(void **state)
{
    struct dh *h = *state;
    uint8_t eject[6] = { 0x1b, 0, 0, 0, 0x02, 0 };
    uint32_t plen;

    dh_assert_good(dh_run(h, 0, 3, eject, 6, 0));
    plen = simple_list(h, 0, 3, 1, 0, 0, 0);
    dh_assert_sense(xcopy(h, 0, 0, plen), 0x0a, 0x08, 0x04);
}

static void test_inline_data_and_reserved_list_id_usage_are_invalid_field_in_parameter_list(void **state)
{
    struct dh *h = *state;
    uint32_t plen = simple_list(h, 0, 1, 1, 0, 0, 0);
    struct tgt_cmd *c;

    prt_put_be32(h->buf + 12, 4);
    c = xcopy(h, 0, 0, plen + 4);
    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
    dh_assert_field(c, false, 12, 7);
    plen = simple_list(h, 0, 1, 1, 0, 0, 0x01);
    c = xcopy(h, 0, 0, plen);
    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
    dh_assert_field(c, false, 1, 4);
}

static void test_copy_status_is_held_per_nexus_and_list_id_for_usage_00b(void **state)
{
    struct dh *h = *state;
    uint32_t plen = simple_list(h, 0, 1, 100, 0, 0, 0x00);
    struct tgt_cmd *c;
    const uint8_t *d;

    dh_assert_good(xcopy(h, 0, 0, plen));
    /* Another nexus has no result under that list identifier. */
    c = copy_status(h, 1, 0, 1);
    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    dh_assert_field(c, true, 2, 7);
    c = copy_status(h, 0, 0, 1);
    dh_assert_good(c);
    d = dh_din(c);
    assert_int_equal(prt_get_be32(d), 8);
    assert_int_equal(d[4], 0x01);
    assert_int_equal(prt_get_be16(d + 5), 1);
    assert_int_equal(d[7], 0x00);
    assert_int_equal(prt_get_be32(d + 8), 100 * BS);
    /* Returned once, then no longer held. */
    dh_assert_sense(copy_status(h, 0, 0, 1), TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
}

static void test_copy_status_is_not_held_for_other_list_id_usages(void **state)
{
    struct dh *h = *state;
    uint32_t plen = simple_list(h, 0, 1, 1, 0, 0, 0x02);

    dh_assert_good(xcopy(h, 0, 0, plen));
    dh_assert_sense(copy_status(h, 0, 0, 1), TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
}

static void test_operating_parameters_report_the_enforced_limits(void **state)
{
    struct dh *h = *state;
    uint8_t cdb[16] = { 0x84, 0x03 };
    struct tgt_cmd *c;
    const uint8_t *d;

    prt_put_be32(cdb + 10, 1024);
    c = dh_run(h, 0, 0, cdb, 16, 0);
    dh_assert_good(c);
    d = dh_din(c);
    assert_int_equal(prt_get_be32(d), c->din_len - 4);
    assert_int_equal(prt_get_be16(d + 8), 8);
    assert_int_equal(prt_get_be16(d + 10), 64);
    assert_true(prt_get_be32(d + 12) >= 16 + 9 * 32 + 28);
    assert_int_equal(prt_get_be32(d + 20), 0);
    assert_int_equal(d[43], 2);
    assert_int_equal(d[44], 0x02);
    assert_int_equal(d[45], 0xe4);
    /* LIST IDENTIFIER is reserved for this service action. */
    cdb[2] = 1;
    dh_assert_sense(dh_run(h, 0, 0, cdb, 16, 0), TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
}

static void test_third_party_copy_vpd_lists_both_commands_and_their_service_actions(void **state)
{
    struct dh *h = *state;
    uint8_t cdb[6] = { 0x12, 0x01, 0x8f, 0, 0xff, 0 };
    uint8_t sup[6] = { 0x12, 0x01, 0x00, 0, 0xff, 0 };
    struct tgt_cmd *c = dh_run(h, 0, 0, sup, 6, 0);
    const uint8_t *d;
    bool listed = false;

    dh_assert_good(c);
    d = dh_din(c);
    for (unsigned i = 0; i < d[3]; i++)
        listed = listed || d[4 + i] == 0x8f;
    assert_true(listed);
    c = dh_run(h, 0, 0, cdb, 6, 0);
    dh_assert_good(c);
    d = dh_din(c);
    assert_int_equal(d[1], 0x8f);
    assert_int_equal(prt_get_be16(d + 2) + 4, c->din_len);
    assert_int_equal(prt_get_be16(d + 4), 0x0001);
    assert_int_equal(prt_get_be16(d + 6) % 4, 0);
    assert_int_equal(d[9], 0x83);
    assert_int_equal(d[10], 1);
    assert_int_equal(d[11], 0x00);
    assert_int_equal(d[12], 0x84);
    assert_int_equal(d[13], 2);
    assert_int_equal(d[14], 0x00);
    assert_int_equal(d[15], 0x03);
}

static void test_extended_copy_conflicts_with_another_nexus_reservation(void **state)
{
    struct dh *h = *state;
    static const uint8_t reserve6[6] = { 0x16 };
    uint32_t plen;

    dh_assert_good(dh_run(h, 1, 1, reserve6, 6, 0));
    /* The copy manager LU (0) is free, but the destination (1) is reserved by nexus 1. */
    plen = simple_list(h, 0, 1, 1, 0, 0, 0);
    assert_int_equal(xcopy(h, 0, 0, plen)->status, TGT_STATUS_RESERVATION_CONFLICT);
}

/* Fixture variant: LU 0 in memory, LU 1 a file, so the copy runs through the executor path (inline here). */
static void test_copy_between_memory_and_file_lus_goes_both_ways(void **state)
{
    char path[128];
    struct dh_lu lus[] = { { .size = 1 << 20, .block_size = BS }, { .size = 1 << 20, .block_size = BS } };
    static const uint16_t ports[] = { 1 };
    struct dh *h;
    uint32_t plen;

    (void)state;
    dh_tmp_path(path, sizeof(path), "xcopy");
    lus[1].path = path;
    h = dh_new(1, lus, 2, ports, 1);
    dh_assert_good(dh_write10(h, 0, 0, 0, 300, 'm', BS));
    plen = simple_list(h, 0, 1, 300, 0, 1000, 0x00);
    dh_assert_good(xcopy(h, 0, 0, plen));
    assert_true(dh_all(dh_din(dh_read10(h, 0, 1, 1000, 300)), 300 * BS, 'm'));
    /* File to file within LU 1, then file to memory; the second one bounces through the command buffer. */
    plen = simple_list(h, 1, 1, 300, 1000, 1500, 0x02);
    dh_assert_good(xcopy(h, 0, 1, plen));
    plen = simple_list(h, 1, 0, 300, 1500, 600, 0x02);
    dh_assert_good(xcopy(h, 0, 0, plen));
    assert_true(dh_all(dh_din(dh_read10(h, 0, 0, 600, 300)), 300 * BS, 'm'));
    dh_assert_good(copy_status(h, 0, 0, 1));
    assert_int_equal(prt_get_be32(dh_din(&h->cmd) + 8), 300 * BS);
    dh_free(h);
    dh_unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy_between_two_lus_moves_the_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_within_one_lu_handles_overlapping_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parameter_list_length_zero_is_good_and_copies_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_truncated_descriptors_are_parameter_list_length_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_too_many_target_descriptors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_segment_descriptors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_descriptor_type_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserved_lu_id_type_is_invalid_field_in_parameter_list, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nul_target_is_copy_aborted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_without_target_descriptor_is_copy_aborted_unreachable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_designator_is_copy_aborted_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_past_the_end_is_copy_aborted_and_copies_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_protected_destination_is_copy_aborted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ejected_copy_target_is_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_inline_data_and_reserved_list_id_usage_are_invalid_field_in_parameter_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_status_is_held_per_nexus_and_list_id_for_usage_00b, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_copy_status_is_not_held_for_other_list_id_usages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operating_parameters_report_the_enforced_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_third_party_copy_vpd_lists_both_commands_and_their_service_actions,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_extended_copy_conflicts_with_another_nexus_reservation, setup,
                                        teardown),
        cmocka_unit_test(test_copy_between_memory_and_file_lus_goes_both_ways),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
