/* Unit tests for target/sanitize.c: SANITIZE (SBC-3 5.30) and the sanitize rules of SBC-3 4.11.
 *
 * Fixture: one target port, two nexuses, two LUs.
 *
 *   nexus 0: n0 --+                +-- LU 0: mem 1 MiB, 512-byte blocks (2048), SANITIZE enabled
 *                 +-- port 1 ------+
 *   nexus 1: n1 --+                +-- LU 1: mem 1 MiB, SANITIZE not enabled
 *
 * Tests that need the operation to be "in progress" install a fake executor that parks the work until the test
 * runs it, which is what the real thread pool does for a while.
 */
#include <errno.h>

#include "disk_harness.h"

#define BS 512u
#define NBLOCKS 2048u

static int setup(void **state)
{
    static const struct dh_lu lus[] = { { .size = 1 << 20, .block_size = BS, .sanitize = true },
                                        { .size = 1 << 20, .block_size = BS } };
    static const uint16_t ports[] = { 1, 1 };

    *state = dh_new(1, lus, 2, ports, 2);
    return 0;
}

static int teardown(void **state)
{
    dh_free(*state);
    return 0;
}

/* A parking executor: queue() keeps the work; the test runs it with run_parked(). */
static struct tgt_work *parked;

static int park(void *ctx, struct tgt_work *w)
{
    (void)ctx;
    parked = w;
    return 0;
}

static void run_parked(void)
{
    struct tgt_work *w = parked;

    assert_non_null(w);
    parked = NULL;
    w->work(w);
    w->done(w);
}

static struct tgt_cmd *sanitize(struct dh *h, int n, uint64_t lun, uint8_t byte1, uint16_t plen, size_t dout)
{
    uint8_t cdb[10] = { 0x48, byte1 };

    prt_put_be16(cdb + 7, plen);
    return dh_run(h, n, lun, cdb, 10, dout);
}

/* OVERWRITE parameter list: byte 0 (INVERT, TEST, COUNT), pattern of len bytes of value v. */
static uint16_t overwrite_params(struct dh *h, uint8_t byte0, uint16_t len, uint8_t v)
{
    memset(h->buf, 0, 4 + (size_t)len);
    h->buf[0] = byte0;
    prt_put_be16(h->buf + 2, len);
    memset(h->buf + 4, v, len);
    return (uint16_t)(4 + len);
}

static void fill_ends(struct dh *h)
{
    dh_assert_good(dh_write10(h, 0, 0, 0, 256, 'a', BS));
    dh_assert_good(dh_write10(h, 0, 0, NBLOCKS - 256, 256, 'a', BS));
}

static void assert_ends(struct dh *h, uint8_t v)
{
    assert_true(dh_all(dh_din(dh_read10(h, 0, 0, 0, 256)), 256 * BS, v));
    assert_true(dh_all(dh_din(dh_read10(h, 0, 0, NBLOCKS - 256, 256)), 256 * BS, v));
}

static void test_block_erase_deallocates_every_block_and_reads_back_zeros(void **state)
{
    struct dh *h = *state;
    uint8_t gls[16] = { 0x9e, 0x12 };
    struct tgt_cmd *c;
    const uint8_t *d;

    fill_ends(h);
    dh_assert_good(sanitize(h, 0, 0, 0x02, 0, 0));
    assert_ends(h, 0);
    /* SBC-3 5.30.3: after BLOCK ERASE no block is mapped; GET LBA STATUS shows one deallocated extent. */
    prt_put_be32(gls + 10, 256);
    c = dh_run(h, 0, 0, gls, 16, 0);
    dh_assert_good(c);
    d = dh_din(c);
    assert_int_equal(prt_get_be64(d + 8), 0);
    assert_int_equal(prt_get_be32(d + 16), NBLOCKS);
    assert_int_equal(d[20] & 0x0f, 0x01);
}

static void test_crypto_erase_leaves_none_of_the_old_data(void **state)
{
    struct dh *h = *state;

    fill_ends(h);
    dh_assert_good(sanitize(h, 0, 0, 0x03, 0, 0));
    assert_ends(h, 0);
}

static void test_overwrite_repeats_the_pattern_over_every_block(void **state)
{
    struct dh *h = *state;
    uint16_t plen;
    const uint8_t *d;

    fill_ends(h);
    plen = overwrite_params(h, 0x01, 4, 0);
    memcpy(h->buf + 4, "WXYZ", 4);
    dh_assert_good(sanitize(h, 0, 0, 0x01, plen, plen));
    d = dh_din(dh_read10(h, 0, 0, NBLOCKS - 1, 1));
    for (unsigned i = 0; i < BS; i++)
        assert_int_equal(d[i], "WXYZ"[i % 4]);
    plen = overwrite_params(h, 0x01, BS, 0xaa);
    dh_assert_good(sanitize(h, 0, 0, 0x01, plen, plen));
    assert_ends(h, 0xaa);
}

static void test_overwrite_with_invert_and_even_count_leaves_the_inverted_pattern(void **state)
{
    struct dh *h = *state;
    uint16_t plen = overwrite_params(h, 0x80 | 0x02, 1, 0x0f);

    dh_assert_good(sanitize(h, 0, 0, 0x01, plen, plen));
    assert_ends(h, 0xf0);
    plen = overwrite_params(h, 0x80 | 0x03, 1, 0x0f);
    dh_assert_good(sanitize(h, 0, 0, 0x01, plen, plen));
    assert_ends(h, 0x0f);
}

static void test_overwrite_parameter_list_length_outside_5_to_block_plus_4_is_invalid_field_in_cdb(void **state)
{
    struct dh *h = *state;

    for (uint16_t plen = 0; plen < 5; plen++) {
        struct tgt_cmd *c;

        overwrite_params(h, 0x01, 1, 0x55);
        c = sanitize(h, 0, 0, 0x01, plen, plen);
        dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
        dh_assert_field(c, true, 7, 7);
    }
    overwrite_params(h, 0x01, BS, 0x55);
    dh_assert_sense(sanitize(h, 0, 0, 0x01, BS + 5, BS + 5), TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
}

static void test_overwrite_parameter_errors_are_invalid_field_in_parameter_list(void **state)
{
    struct dh *h = *state;
    uint16_t plen;
    struct tgt_cmd *c;

    fill_ends(h);
    /* OVERWRITE COUNT 0. */
    plen = overwrite_params(h, 0x00, BS, 0x55);
    c = sanitize(h, 0, 0, 0x01, plen, plen);
    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
    dh_assert_field(c, false, 0, 4);
    /* INITIALIZATION PATTERN LENGTH 0. */
    plen = overwrite_params(h, 0x01, BS, 0x55);
    prt_put_be16(h->buf + 2, 0);
    c = sanitize(h, 0, 0, 0x01, plen, plen);
    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
    dh_assert_field(c, false, 2, 7);
    /* INITIALIZATION PATTERN LENGTH above the block length. */
    prt_put_be16(h->buf + 2, BS + 4);
    h->buf[0] = 0x01;
    dh_assert_sense(sanitize(h, 0, 0, 0x01, plen, plen), TGT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
    /* TEST field. */
    plen = overwrite_params(h, 0x21, 4, 0x55);
    dh_assert_sense(sanitize(h, 0, 0, 0x01, plen, plen), TGT_SK_ILLEGAL_REQUEST, 0x26, 0x00);
    /* A pattern longer than the parameter list. */
    plen = overwrite_params(h, 0x01, 16, 0x55);
    dh_assert_sense(sanitize(h, 0, 0, 0x01, 8, 8), TGT_SK_ILLEGAL_REQUEST, 0x1a, 0x00);
    /* Nothing was overwritten by any of them. */
    assert_ends(h, 'a');
}

static void test_erase_and_exit_failure_mode_take_no_parameter_list(void **state)
{
    struct dh *h = *state;
    static const uint8_t sas[] = { 0x02, 0x03, 0x1f };

    fill_ends(h);
    memset(h->buf, 0, 8);
    for (size_t i = 0; i < sizeof(sas); i++) {
        struct tgt_cmd *c = sanitize(h, 0, 0, sas[i], 8, 8);

        dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
        dh_assert_field(c, true, 7, 7);
    }
    assert_ends(h, 'a');
}

static void test_unsupported_service_actions_are_invalid_field_in_cdb(void **state)
{
    struct dh *h = *state;

    for (uint8_t sa = 0; sa < 0x1f; sa++) {
        struct tgt_cmd *c;

        if (sa >= 1 && sa <= 3)
            continue;
        c = sanitize(h, 0, 0, sa, 0, 0);
        dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
        dh_assert_field(c, true, 1, 4);
    }
}

static void test_reserved_bits_and_bytes_are_invalid_field_in_cdb(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd *c;

    c = sanitize(h, 0, 0, 0x02 | 0x40, 0, 0);
    dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    dh_assert_field(c, true, 1, 6);
    for (int byte = 2; byte <= 6; byte++) {
        uint8_t cdb[10] = { 0x48, 0x02 };

        cdb[byte] = (uint8_t)byte;
        c = dh_run(h, 0, 0, cdb, 10, 0);
        dh_assert_sense(c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
        dh_assert_field(c, true, byte, -1);
    }
}

static void test_sanitize_on_a_lu_that_did_not_opt_in_is_invalid_opcode(void **state)
{
    struct dh *h = *state;

    dh_assert_good(dh_write10(h, 0, 1, 0, 1, 'k', BS));
    dh_assert_sense(sanitize(h, 0, 1, 0x02, 0, 0), TGT_SK_ILLEGAL_REQUEST, 0x20, 0x00);
    assert_true(dh_all(dh_din(dh_read10(h, 0, 1, 0, 1)), BS, 'k'));
}

static void test_sanitize_conflicts_with_another_nexus_reservation(void **state)
{
    struct dh *h = *state;
    static const uint8_t reserve6[6] = { 0x16 }, release6[6] = { 0x17 };
    uint16_t plen;

    fill_ends(h);
    dh_assert_good(dh_run(h, 1, 0, reserve6, 6, 0));
    plen = overwrite_params(h, 0x01, BS, 0xaa);
    assert_int_equal(sanitize(h, 0, 0, 0x01, plen, plen)->status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(sanitize(h, 0, 0, 0x02, 0, 0)->status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(sanitize(h, 0, 0, 0x03, 0, 0)->status, TGT_STATUS_RESERVATION_CONFLICT);
    dh_assert_good(dh_run(h, 1, 0, release6, 6, 0));
    assert_ends(h, 'a');
}

static void test_sanitize_under_software_write_protect_is_write_protected(void **state)
{
    struct dh *h = *state;

    tgt_server_lu(h->srv, 0)->mode.swp = true;
    dh_assert_sense(sanitize(h, 0, 0, 0x02, 0, 0), TGT_SK_DATA_PROTECT, 0x27, 0x00);
    tgt_server_lu(h->srv, 0)->mode.swp = false;
}

static void test_immed_sanitize_completes_at_once_and_the_lu_is_not_ready_until_it_ends(void **state)
{
    struct dh *h = *state;
    uint8_t inq[6] = { 0x12, 0, 0, 0, 96, 0 };
    struct tgt_cmd *c;

    fill_ends(h);
    h->srv->exec.queue = park;
    c = sanitize(h, 0, 0, 0x80 | 0x02, 0, 0);
    dh_assert_good(c);
    assert_non_null(parked);
    /* SBC-3 4.11.2: only INQUIRY, REPORT LUNS and REQUEST SENSE while it runs, for every nexus. */
    dh_assert_sense(dh_tur(h, 0, 0), TGT_SK_NOT_READY, 0x04, 0x1b);
    dh_assert_sense(dh_read10(h, 1, 0, 0, 1), TGT_SK_NOT_READY, 0x04, 0x1b);
    dh_assert_sense(sanitize(h, 1, 0, 0x02, 0, 0), TGT_SK_NOT_READY, 0x04, 0x1b);
    dh_assert_good(dh_run(h, 1, 0, inq, 6, 0));
    /* Another LU is not affected. */
    dh_assert_good(dh_tur(h, 0, 1));
    run_parked();
    h->srv->exec.queue = NULL;
    dh_assert_good(dh_tur(h, 0, 0));
    assert_ends(h, 0);
}

static void test_sanitize_without_immed_completes_when_the_operation_ends(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd *c = &h->cmd;
    uint8_t cdb[10] = { 0x48, 0x02 };
    int before;

    h->srv->exec.queue = park;
    memset(c, 0, sizeof(*c));
    c->nexus = h->nx[0];
    memcpy(c->cdb, cdb, 10);
    c->cdb_len = 16;
    c->buf = h->buf;
    c->buf_cap = DH_BUF;
    c->done = dh_on_done;
    c->owner = h;
    before = h->done_calls;
    tgt_cmd_submit(h->srv, c);
    assert_int_equal(h->done_calls, before);
    run_parked();
    h->srv->exec.queue = NULL;
    assert_int_equal(h->done_calls, before + 1);
    dh_assert_good(c);
}

static void test_aborting_the_command_does_not_stop_the_operation(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd c;
    uint8_t cdb[10] = { 0x48, 0x02 };
    int before;

    fill_ends(h);
    h->srv->exec.queue = park;
    memset(&c, 0, sizeof(c));
    c.nexus = h->nx[0];
    memcpy(c.cdb, cdb, 10);
    c.cdb_len = 16;
    c.buf = h->buf;
    c.buf_cap = DH_BUF;
    c.done = dh_on_done;
    c.owner = h;
    before = h->done_calls;
    tgt_cmd_submit(h->srv, &c);
    assert_int_equal(tgt_tmf(h->srv, h->nx[0], TGT_TMF_ABORT_TASK, 0, &c), TGT_TMF_COMPLETE);
    /* The command waits for the operation even when aborted. */
    assert_int_equal(h->done_calls, before);
    assert_int_equal(tgt_tmf(h->srv, h->nx[0], TGT_TMF_LUN_RESET, 0, NULL), TGT_TMF_COMPLETE);
    dh_assert_sense(dh_read10(h, 1, 0, 0, 1), TGT_SK_UNIT_ATTENTION, 0x29, 0x03);
    dh_assert_sense(dh_read10(h, 1, 0, 0, 1), TGT_SK_NOT_READY, 0x04, 0x1b);
    run_parked();
    h->srv->exec.queue = NULL;
    /* The two READs above, then the aborted SANITIZE itself, exactly once. */
    assert_int_equal(h->done_calls, before + 3);
    assert_true(c.aborted);
    dh_clear_ua(h);
    assert_ends(h, 0);
}

/* A backend whose writes fail, to drive the LU into sanitize failure mode. */
static struct tgt_lu_ops failing_ops;
static int failing_write(struct tgt_lu *lu, const void *src, uint64_t off, size_t len)
{
    (void)lu, (void)src, (void)off, (void)len;
    return -EIO;
}

static void test_failed_overwrite_enters_failure_mode_until_exit_with_ause(void **state)
{
    struct dh *h = *state;
    struct tgt_lu *lu = tgt_server_lu(h->srv, 0);
    const struct tgt_lu_ops *real = lu->ops;
    uint16_t plen;

    failing_ops = *real;
    failing_ops.write = failing_write;
    lu->ops = &failing_ops;
    plen = overwrite_params(h, 0x01, 4, 0x5a);
    dh_assert_sense(sanitize(h, 0, 0, 0x01, plen, plen), TGT_SK_MEDIUM_ERROR, 0x31, 0x03);
    lu->ops = real;
    /* SBC-3 4.11.3: block access fails; identification does not. */
    dh_assert_sense(dh_read10(h, 0, 0, 0, 1), TGT_SK_MEDIUM_ERROR, 0x31, 0x03);
    dh_assert_good(dh_tur(h, 0, 0));
    /* AUSE was 0: EXIT FAILURE MODE is refused, a new SANITIZE succeeds and ends failure mode. */
    dh_assert_sense(sanitize(h, 0, 0, 0x1f, 0, 0), TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    dh_assert_good(sanitize(h, 0, 0, 0x02, 0, 0));
    dh_assert_good(dh_read10(h, 0, 0, 0, 1));
    /* With AUSE=1 the failure can be left by EXIT FAILURE MODE. */
    lu->ops = &failing_ops;
    plen = overwrite_params(h, 0x01, 4, 0x5a);
    dh_assert_sense(sanitize(h, 0, 0, 0x20 | 0x01, plen, plen), TGT_SK_MEDIUM_ERROR, 0x31, 0x03);
    lu->ops = real;
    dh_assert_good(sanitize(h, 0, 0, 0x1f, 0, 0));
    dh_assert_good(dh_read10(h, 0, 0, 0, 1));
}

static void test_exit_failure_mode_outside_failure_mode_is_good(void **state)
{
    struct dh *h = *state;

    dh_assert_good(sanitize(h, 0, 0, 0x1f, 0, 0));
}

static void test_block_device_characteristics_report_wabereq_and_wacereq_only_when_enabled(void **state)
{
    struct dh *h = *state;
    uint8_t cdb[6] = { 0x12, 0x01, 0xb1, 0, 0xff, 0 };
    struct tgt_cmd *c = dh_run(h, 0, 0, cdb, 6, 0);

    dh_assert_good(c);
    assert_int_equal(dh_din(c)[7] & 0xf0, 0x50);
    c = dh_run(h, 0, 1, cdb, 6, 0);
    dh_assert_good(c);
    assert_int_equal(dh_din(c)[7] & 0xf0, 0x00);
}

static void test_erase_and_overwrite_on_a_file_lu(void **state)
{
    char path[128];
    struct dh_lu lus[] = { { .size = 1 << 20, .block_size = BS, .sanitize = true } };
    static const uint16_t ports[] = { 1 };
    struct dh *h;
    uint16_t plen;

    (void)state;
    dh_tmp_path(path, sizeof(path), "sanitize");
    lus[0].path = path;
    h = dh_new(1, lus, 1, ports, 1);
    fill_ends(h);
    dh_assert_good(sanitize(h, 0, 0, 0x02, 0, 0));
    assert_ends(h, 0);
    plen = overwrite_params(h, 0x01, 2, 0xc3);
    dh_assert_good(sanitize(h, 0, 0, 0x01, plen, plen));
    assert_ends(h, 0xc3);
    dh_free(h);
    dh_unlink(path);
}

/* ---- emulated duration (tgt_lu_set_sanitize_ms) ---------------------------------------------------------- */

/* The server clock the tests move by hand. */
static uint64_t fake_now;

static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

/* LU 0 gets an emulated duration of ms and the server the hand-moved clock, set to start. */
static void use_duration(struct dh *h, uint64_t ms, uint64_t start)
{
    fake_now = start;
    h->srv->now_ms = fake_clock;
    h->srv->now_ctx = NULL;
    assert_int_equal(tgt_lu_set_sanitize_ms(tgt_server_lu(h->srv, 0), ms), 0);
}

/* Submits an IMMED=0 BLOCK ERASE from nexus 0 in c, which the test keeps; it must not complete yet. */
static void submit_waiting_erase(struct dh *h, struct tgt_cmd *c)
{
    memset(c, 0, sizeof(*c));
    c->nexus = h->nx[0];
    c->cdb[0] = 0x48;
    c->cdb[1] = 0x02;
    c->cdb_len = 16;
    c->buf = h->buf;
    c->buf_cap = DH_BUF;
    c->done = dh_on_done;
    c->owner = h;
    tgt_cmd_submit(h->srv, c);
}

static struct tgt_cmd *request_sense(struct dh *h, int n, bool desc)
{
    uint8_t cdb[6] = { 0x03, desc ? 0x01 : 0x00, 0, 0, 252, 0 };

    return dh_run(h, n, 0, cdb, 6, 0);
}

static void test_set_sanitize_ms_on_a_lu_without_sanitize_is_einval(void **state)
{
    struct dh *h = *state;

    assert_int_equal(tgt_lu_set_sanitize_ms(tgt_server_lu(h->srv, 1), 1000), -EINVAL);
    assert_int_equal(tgt_lu_set_sanitize_ms(NULL, 1000), -EINVAL);
    assert_int_equal(tgt_lu_set_sanitize_ms(tgt_server_lu(h->srv, 0), 1000), 0);
}

static void test_emulated_duration_keeps_an_immed_sanitize_in_progress_until_its_completion_time(void **state)
{
    struct dh *h = *state;
    uint8_t inq[6] = { 0x12, 0, 0, 0, 96, 0 };

    fill_ends(h);
    use_duration(h, 10000, 5000);
    /* SBC-3 5.30.1: IMMED=1 returns GOOD at once, although the erase itself is done by now (no executor). */
    dh_assert_good(sanitize(h, 0, 0, 0x80 | 0x02, 0, 0));
    /* SBC-3 4.11.2: until the completion time every nexus gets SANITIZE IN PROGRESS; INQUIRY still works. */
    fake_now = 14999;
    dh_assert_sense(dh_tur(h, 0, 0), TGT_SK_NOT_READY, 0x04, 0x1b);
    dh_assert_sense(dh_read10(h, 1, 0, 0, 1), TGT_SK_NOT_READY, 0x04, 0x1b);
    dh_assert_sense(sanitize(h, 1, 0, 0x80 | 0x02, 0, 0), TGT_SK_NOT_READY, 0x04, 0x1b);
    dh_assert_good(dh_run(h, 1, 0, inq, 6, 0));
    dh_assert_good(dh_tur(h, 0, 1));
    fake_now = 15000;
    dh_assert_good(dh_tur(h, 0, 0));
    assert_ends(h, 0);
}

static void test_emulated_duration_survives_lun_reset_and_logout(void **state)
{
    struct dh *h = *state;

    use_duration(h, 10000, 100);
    dh_assert_good(sanitize(h, 0, 0, 0x80 | 0x02, 0, 0));
    /* SBC-3 4.11.2: a reset or the end of the I_T nexus does not stop a sanitize operation. */
    assert_int_equal(tgt_tmf(h->srv, h->nx[0], TGT_TMF_LUN_RESET, 0, NULL), TGT_TMF_COMPLETE);
    tgt_nexus_logout(h->nx[0]);
    fake_now = 5000;
    dh_assert_sense(dh_tur(h, 1, 0), TGT_SK_UNIT_ATTENTION, 0x29, 0x03);
    dh_assert_sense(dh_tur(h, 1, 0), TGT_SK_NOT_READY, 0x04, 0x1b);
    fake_now = 10100;
    dh_assert_good(dh_tur(h, 1, 0));
}

static void test_request_sense_reports_sanitize_in_progress_with_the_elapsed_fraction(void **state)
{
    struct dh *h = *state;
    const uint8_t *d;
    struct tgt_cmd *c;

    use_duration(h, 10000, 1000);
    dh_assert_good(sanitize(h, 0, 0, 0x80 | 0x03, 0, 0));
    /* SPC-4 4.5.2.4.4: a quarter of the duration gone is a PROGRESS INDICATION of 4000h of 10000h. */
    fake_now = 3500;
    c = request_sense(h, 1, false);
    dh_assert_good(c);
    d = dh_din(c);
    assert_int_equal(d[0] & 0x7f, 0x70);
    assert_int_equal(d[2] & 0x0f, TGT_SK_NOT_READY);
    assert_int_equal(d[12], 0x04);
    assert_int_equal(d[13], 0x1b);
    assert_int_equal(d[15], 0x80);
    assert_int_equal(prt_get_be16(d + 16), 0x4000);
    /* Descriptor format carries the same condition. */
    fake_now = 8500;
    c = request_sense(h, 0, true);
    dh_assert_good(c);
    d = dh_din(c);
    assert_int_equal(d[0], 0x72);
    assert_int_equal(d[1] & 0x0f, TGT_SK_NOT_READY);
    assert_int_equal(d[2], 0x04);
    assert_int_equal(d[3], 0x1b);
    /* Once it ends there is nothing to report. */
    fake_now = 11000;
    c = request_sense(h, 0, false);
    dh_assert_good(c);
    assert_int_equal(dh_din(c)[2] & 0x0f, TGT_SK_NO_SENSE);
    assert_int_equal(dh_din(c)[12], 0);
}

static void test_request_sense_reports_a_pending_unit_attention_before_the_sanitize(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd *c;

    use_duration(h, 10000, 1000);
    dh_assert_good(sanitize(h, 0, 0, 0x80 | 0x02, 0, 0));
    assert_int_equal(tgt_tmf(h->srv, h->nx[0], TGT_TMF_LUN_RESET, 0, NULL), TGT_TMF_COMPLETE);
    /* SAM-5 5.14: the unit attention is returned (and cleared) first, the sanitize condition after it. */
    c = request_sense(h, 1, false);
    dh_assert_good(c);
    assert_int_equal(dh_din(c)[2] & 0x0f, TGT_SK_UNIT_ATTENTION);
    assert_int_equal(dh_din(c)[12], 0x29);
    c = request_sense(h, 1, false);
    dh_assert_good(c);
    assert_int_equal(dh_din(c)[2] & 0x0f, TGT_SK_NOT_READY);
    assert_int_equal(dh_din(c)[13], 0x1b);
}

static void test_sanitize_without_immed_completes_only_after_the_emulated_duration(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd c;
    int before = h->done_calls;

    use_duration(h, 10000, 1000);
    h->srv->exec.queue = park;
    submit_waiting_erase(h, &c);
    run_parked(); /* the erase itself */
    /* SBC-3 5.30.1: IMMED=0 returns status when the operation ends, which is the end of the duration. */
    assert_int_equal(h->done_calls, before);
    assert_non_null(parked);
    dh_assert_sense(dh_tur(h, 0, 0), TGT_SK_NOT_READY, 0x04, 0x1b);
    before = h->done_calls;
    fake_now = 10990;
    run_parked(); /* a slice of the wait: the time is not up yet */
    assert_int_equal(h->done_calls, before);
    assert_non_null(parked);
    fake_now = 11000;
    run_parked();
    assert_null(parked);
    h->srv->exec.queue = NULL;
    assert_int_equal(h->done_calls, before + 1);
    dh_assert_good(&c);
    dh_assert_good(dh_tur(h, 0, 0));
}

static void test_aborting_a_waiting_sanitize_ends_the_command_but_not_the_operation(void **state)
{
    struct dh *h = *state;
    struct tgt_cmd c;
    int before = h->done_calls;

    use_duration(h, 10000, 1000);
    h->srv->exec.queue = park;
    submit_waiting_erase(h, &c);
    run_parked();
    assert_int_equal(tgt_tmf(h->srv, h->nx[0], TGT_TMF_ABORT_TASK, 0, &c), TGT_TMF_COMPLETE);
    /* The abort is seen at the end of the current slice, long before the duration is over. */
    assert_int_equal(h->done_calls, before);
    run_parked();
    assert_null(parked);
    h->srv->exec.queue = NULL;
    assert_int_equal(h->done_calls, before + 1);
    assert_true(c.aborted);
    /* SBC-3 4.11.2: the operation goes on after its command is aborted. */
    dh_assert_sense(dh_tur(h, 0, 0), TGT_SK_NOT_READY, 0x04, 0x1b);
    fake_now = 11000;
    dh_assert_good(dh_tur(h, 0, 0));
}

static void test_without_a_server_clock_the_duration_adds_no_time(void **state)
{
    struct dh *h = *state;

    assert_int_equal(tgt_lu_set_sanitize_ms(tgt_server_lu(h->srv, 0), 10000), 0);
    dh_assert_good(sanitize(h, 0, 0, 0x80 | 0x02, 0, 0));
    dh_assert_good(dh_tur(h, 0, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_block_erase_deallocates_every_block_and_reads_back_zeros, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_crypto_erase_leaves_none_of_the_old_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overwrite_repeats_the_pattern_over_every_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overwrite_with_invert_and_even_count_leaves_the_inverted_pattern,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_overwrite_parameter_list_length_outside_5_to_block_plus_4_is_invalid_field_in_cdb, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_overwrite_parameter_errors_are_invalid_field_in_parameter_list,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_erase_and_exit_failure_mode_take_no_parameter_list, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_service_actions_are_invalid_field_in_cdb, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reserved_bits_and_bytes_are_invalid_field_in_cdb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sanitize_on_a_lu_that_did_not_opt_in_is_invalid_opcode, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sanitize_conflicts_with_another_nexus_reservation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sanitize_under_software_write_protect_is_write_protected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_immed_sanitize_completes_at_once_and_the_lu_is_not_ready_until_it_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sanitize_without_immed_completes_when_the_operation_ends, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_aborting_the_command_does_not_stop_the_operation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_overwrite_enters_failure_mode_until_exit_with_ause, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_exit_failure_mode_outside_failure_mode_is_good, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_block_device_characteristics_report_wabereq_and_wacereq_only_when_enabled, setup, teardown),
        cmocka_unit_test(test_erase_and_overwrite_on_a_file_lu),
        cmocka_unit_test_setup_teardown(test_set_sanitize_ms_on_a_lu_without_sanitize_is_einval, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_emulated_duration_keeps_an_immed_sanitize_in_progress_until_its_completion_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emulated_duration_survives_lun_reset_and_logout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_sense_reports_sanitize_in_progress_with_the_elapsed_fraction,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_sense_reports_a_pending_unit_attention_before_the_sanitize,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_sanitize_without_immed_completes_only_after_the_emulated_duration,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_aborting_a_waiting_sanitize_ends_the_command_but_not_the_operation,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_a_server_clock_the_duration_adds_no_time, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
