/* Unit tests for target/fault.c: injected answers and delays, power loss, lost reservations, the event sink and
 * the read-only views the control socket uses.
 *
 * Fixture: one target device, two mem LUs, two I_T nexuses on target port 1; no executor, so a delayed command
 * sleeps inline and completes before tgt_cmd_submit() returns.
 *
 *   nexus A: iqn.2026-11.test:a, ISID 00 02 3d 00 00 01 --+           +-- LU 0 (mem 1 MiB)
 *                                                         +-- port 1 -+
 *   nexus B: iqn.2026-11.test:b, ISID 00 02 3d 00 00 02 --+           +-- LU 1 (mem 1 MiB)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "target/tgt_internal.h"

#define FX_BUF (1u << 16)

struct fx {
    struct tgt_server *srv;
    struct tgt_nexus *a, *b;
    uint8_t buf[FX_BUF];
    int done_calls;
    struct tgt_event ev[32];
    unsigned n_ev;
};

static const uint8_t isid_a[6] = { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x01 };
static const uint8_t isid_b[6] = { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x02 };

static void on_event(void *ctx, const struct tgt_event *e)
{
    struct fx *f = ctx;
    if (f->n_ev < 32)
        f->ev[f->n_ev++] = *e;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct tgt_server_cfg cfg = { .target_name = "iqn.2026-11.org.prtarget:test", .n_ports = 1 };
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = 1 << 20 };
    char err[256];

    if (!f)
        return -1;
    f->srv = tgt_server_new(&cfg, err, sizeof err);
    if (!f->srv || tgt_server_add_lu(f->srv, &lc, err, sizeof err) || tgt_server_add_lu(f->srv, &lc, err, sizeof err))
        return -1;
    f->a = tgt_nexus_login(f->srv, "iqn.2026-11.test:a", isid_a, 1);
    f->b = tgt_nexus_login(f->srv, "iqn.2026-11.test:b", isid_b, 1);
    if (!f->a || !f->b)
        return -1;
    /* The logins queued POWER ON unit attentions; the tests start from a quiet device. */
    for (unsigned l = 0; l < 2; l++) {
        tgt__ua_clear(f->srv->lus[l], tgt_nexus_id(f->a));
        tgt__ua_clear(f->srv->lus[l], tgt_nexus_id(f->b));
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tgt_server_free(f->srv);
    free(f);
    return 0;
}

static void on_done(struct tgt_cmd *c)
{
    ((struct fx *)c->owner)->done_calls++;
}

static void run(struct fx *f, struct tgt_cmd *c, struct tgt_nexus *nx, uint64_t lun, const uint8_t *cdb,
                uint8_t cdb_len, size_t dout_len)
{
    int before = f->done_calls;
    memset(c, 0, sizeof *c);
    c->nexus = nx;
    c->lun = lun;
    memcpy(c->cdb, cdb, cdb_len);
    c->cdb_len = cdb_len < 16 ? 16 : cdb_len;
    c->exp_len = (uint32_t)(dout_len ? dout_len : 512);
    c->dir = dout_len ? TGT_DIR_WRITE : TGT_DIR_READ;
    c->buf = f->buf;
    c->buf_cap = FX_BUF;
    c->dout_len = dout_len;
    c->done = on_done;
    c->owner = f;
    tgt_cmd_submit(f->srv, c);
    assert_int_equal(f->done_calls, before + 1);
}

static const uint8_t tur[6] = { 0x00 };
static const uint8_t read10[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

static uint8_t sense_key(const struct tgt_cmd *c)
{
    return (c->sense[0] & 0x7f) == 0x72 ? c->sense[1] & 0x0f : c->sense[2] & 0x0f;
}

static uint16_t sense_asc(const struct tgt_cmd *c)
{
    return (c->sense[0] & 0x7f) == 0x72 ? (uint16_t)(c->sense[2] << 8 | c->sense[3])
                                        : (uint16_t)(c->sense[12] << 8 | c->sense[13]);
}

/* PR OUT REGISTER (SPC-4 6.16.2) of sa_key from nx on lun, with APTPL as given. */
static uint8_t pr_register(struct fx *f, struct tgt_nexus *nx, uint64_t lun, uint64_t sa_key, bool aptpl)
{
    struct tgt_cmd c;
    uint8_t cdb[10] = { 0x5f, 0x00, 0, 0, 0, 0, 0, 0, 24, 0 };
    memset(f->buf, 0, 24);
    prt_put_be64(f->buf + 8, sa_key);
    f->buf[20] = aptpl ? 1 : 0;
    run(f, &c, nx, lun, cdb, 10, 24);
    return c.status;
}

static void test_fault_next_status_answers_count_matching_commands_then_disarms(void **state)
{
    struct fx *f = *state;
    struct tgt_fault_next r = { .lun = 0, .opcode = 0x00, .count = 2, .status = TGT_STATUS_BUSY };
    struct tgt_cmd c;

    assert_int_equal(tgt_fault_add_next(f->srv, &r), 0);
    run(f, &c, f->a, 0, tur, 6, 0);
    assert_int_equal(c.status, TGT_STATUS_BUSY);
    assert_int_equal(c.sense_len, 0);
    /* Another opcode and another LU are not matched. */
    run(f, &c, f->a, 0, read10, 10, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    run(f, &c, f->a, 1, tur, 6, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    run(f, &c, f->b, 0, tur, 6, 0);
    assert_int_equal(c.status, TGT_STATUS_BUSY);
    run(f, &c, f->a, 0, tur, 6, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(tgt_fault_list(f->srv, NULL, 0), 0);
    assert_false(f->srv->hooks.armed);
}

static void test_fault_next_sense_is_check_condition_with_that_sense(void **state)
{
    struct fx *f = *state;
    struct tgt_fault_next r = { .lun = 1, .opcode = TGT_FAULT_ANY_OPCODE, .count = 1, .has_sense = true,
                                .sense_key = 0x3, .asc = 0x11, .ascq = 0x00 };
    struct tgt_cmd c;

    assert_int_equal(tgt_fault_add_next(f->srv, &r), 0);
    run(f, &c, f->a, 1, read10, 10, 0);
    assert_int_equal(c.status, TGT_STATUS_CHECK_CONDITION);
    assert_int_equal(sense_key(&c), 0x3);
    assert_int_equal(sense_asc(&c), 0x1100);
    run(f, &c, f->a, 1, read10, 10, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
}

static void test_fault_next_refuses_bad_rules(void **state)
{
    struct fx *f = *state;
    struct tgt_fault_next r = { .lun = 0, .opcode = TGT_FAULT_ANY_OPCODE, .count = 1,
                                .status = TGT_STATUS_CHECK_CONDITION };

    /* SAM-5 5.3.1: CHECK CONDITION needs sense data. */
    assert_int_equal(tgt_fault_add_next(f->srv, &r), -EINVAL);
    r.status = 0x7e;
    assert_int_equal(tgt_fault_add_next(f->srv, &r), -EINVAL);
    r.status = TGT_STATUS_BUSY;
    r.count = 0;
    assert_int_equal(tgt_fault_add_next(f->srv, &r), -EINVAL);
    r.count = 1;
    r.lun = 2;
    assert_int_equal(tgt_fault_add_next(f->srv, &r), -ENOENT);
    r.lun = 0;
    r.opcode = 0x100;
    assert_int_equal(tgt_fault_add_next(f->srv, &r), -EINVAL);
    r.opcode = TGT_FAULT_ANY_OPCODE;
    for (unsigned i = 0; i < TGT_FAULT_MAX; i++)
        assert_int_equal(tgt_fault_add_next(f->srv, &r), 0);
    assert_int_equal(tgt_fault_add_next(f->srv, &r), -ENOSPC);
    tgt_fault_clear(f->srv);
    assert_int_equal(tgt_fault_list(f->srv, NULL, 0), 0);
    assert_false(f->srv->hooks.armed);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void test_fault_delay_holds_commands_of_that_lu_then_runs_the_handler(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    assert_int_equal(tgt_fault_set_delay(f->srv, 0, 120), 0);
    assert_int_equal(tgt_fault_delay(f->srv, 0), 120);
    assert_int_equal(tgt_fault_delay(f->srv, 1), 0);
    long t0 = now_ms();
    run(f, &c, f->a, 0, read10, 10, 0);
    assert_true(now_ms() - t0 >= 115);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(c.din_len, 512);
    t0 = now_ms();
    run(f, &c, f->a, 1, read10, 10, 0);
    assert_true(now_ms() - t0 < 100);
    assert_int_equal(tgt_fault_set_delay(f->srv, 0, 0), 0);
    assert_false(f->srv->hooks.armed);
    assert_int_equal(tgt_fault_set_delay(f->srv, 5, 10), -ENOENT);
}

static void test_power_loss_without_aptpl_drops_registrations_and_raises_power_on(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    uint8_t ua[8][2];

    assert_int_equal(pr_register(f, f->a, 0, 0x1111, false), TGT_STATUS_GOOD);
    assert_int_equal(pr_state_reg_count(tgt_lu_pr_state(f->srv, 0)), 1);
    assert_int_equal(tgt_fault_power_loss(f->srv, -1), 0);
    assert_int_equal(pr_state_reg_count(tgt_lu_pr_state(f->srv, 0)), 0);
    assert_int_equal(pr_state_generation(tgt_lu_pr_state(f->srv, 0)), 0);
    /* SAM-5 6.3.1: every nexus on every LU sees POWER ON OCCURRED first, and nothing else is left pending. */
    assert_int_equal(tgt_lu_pending_ua(f->srv, 1, tgt_nexus_id(f->b), ua, 8), 1);
    assert_int_equal(ua[0][0], 0x29);
    assert_int_equal(ua[0][1], 0x01);
    run(f, &c, f->a, 0, tur, 6, 0);
    assert_int_equal(c.status, TGT_STATUS_CHECK_CONDITION);
    assert_int_equal(sense_key(&c), TGT_SK_UNIT_ATTENTION);
    assert_int_equal(sense_asc(&c), 0x2901);
    run(f, &c, f->a, 0, tur, 6, 0);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(tgt_fault_power_loss(f->srv, 2), -ENOENT);
}

static void test_power_loss_of_one_lu_leaves_the_others_alone(void **state)
{
    struct fx *f = *state;
    uint8_t ua[8][2];

    assert_int_equal(pr_register(f, f->a, 0, 0x1, false), TGT_STATUS_GOOD);
    assert_int_equal(pr_register(f, f->a, 1, 0x2, false), TGT_STATUS_GOOD);
    assert_int_equal(tgt_fault_power_loss(f->srv, 1), 0);
    assert_int_equal(pr_state_reg_count(tgt_lu_pr_state(f->srv, 0)), 1);
    assert_int_equal(pr_state_reg_count(tgt_lu_pr_state(f->srv, 1)), 0);
    assert_int_equal(tgt_lu_pending_ua(f->srv, 0, tgt_nexus_id(f->a), ua, 8), 0);
    assert_int_equal(tgt_lu_pending_ua(f->srv, 1, tgt_nexus_id(f->a), ua, 8), 1);
}

static void test_lost_reservation_fails_medium_access_with_information_lost(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;

    assert_int_equal(pr_register(f, f->a, 0, 0x42, false), TGT_STATUS_GOOD);
    assert_int_equal(tgt_fault_lost_reservation(f->srv, 0), 0);
    assert_true(pr_state_lost(tgt_lu_pr_state(f->srv, 0)));
    assert_int_equal(pr_state_reg_count(tgt_lu_pr_state(f->srv, 0)), 0);
    run(f, &c, f->a, 0, read10, 10, 0);
    assert_int_equal(c.status, TGT_STATUS_CHECK_CONDITION);
    assert_int_equal(sense_asc(&c), 0x4401);
    assert_int_equal(tgt_fault_lost_reservation(f->srv, 9), -ENOENT);
    /* fault clear does not bring a lost reservation back: only REPLACE LOST RESERVATION does (SPC-5 5.14.11). */
    tgt_fault_clear(f->srv);
    assert_true(pr_state_lost(tgt_lu_pr_state(f->srv, 0)));
}

static void test_event_sink_sees_pr_out_outcome_with_status_and_generation(void **state)
{
    struct fx *f = *state;
    struct tgt_cmd c;
    struct pr_out_req req = { .sa = PR_OUT_REGISTER, .key = 0x5, .sa_key = 0x6 };

    tgt_server_set_event_sink(f->srv, on_event, f);
    memset(&c, 0, sizeof c);
    c.nexus = f->a;
    c.lu = f->srv->lus[1];
    c.cdb[0] = 0x5f;
    c.cdb[1] = 0x01;
    c.cdb[2] = 0x03;
    tgt_set_reservation_conflict(&c);
    tgt__event_pr_out(&c, &req, PR_CONFLICT);
    assert_int_equal(f->n_ev, 1);
    assert_int_equal(f->ev[0].kind, TGT_EVENT_PR_OUT);
    assert_int_equal(f->ev[0].lun, 1);
    assert_int_equal(f->ev[0].itn, tgt_nexus_id(f->a));
    assert_int_equal(f->ev[0].sa, PR_OUT_RESERVE);
    assert_int_equal(f->ev[0].type, 3);
    assert_int_equal(f->ev[0].key, 0x5);
    assert_int_equal(f->ev[0].pr_status, PR_CONFLICT);
    assert_int_equal(f->ev[0].status, TGT_STATUS_RESERVATION_CONFLICT);

    tgt_set_sense(&c, TGT_SK_ILLEGAL_REQUEST, 0x24, 0x00);
    tgt__event_pr_out(&c, NULL, PR_INVALID_FIELD_CDB);
    assert_int_equal(f->n_ev, 2);
    assert_int_equal(f->ev[1].sense_key, TGT_SK_ILLEGAL_REQUEST);
    assert_int_equal(f->ev[1].asc, 0x24);

    tgt__event_ua(f->srv->lus[0], tgt_nexus_id(f->b), 0x2a, 0x03, true);
    assert_int_equal(f->n_ev, 3);
    assert_int_equal(f->ev[2].kind, TGT_EVENT_UA_REPORTED);
    assert_int_equal(f->ev[2].asc, 0x2a);
    assert_int_equal(f->ev[2].ascq, 0x03);

    tgt_server_set_event_sink(f->srv, NULL, f);
    tgt__event_ua(f->srv->lus[0], tgt_nexus_id(f->b), 0x2a, 0x03, false);
    assert_int_equal(f->n_ev, 3);
}

static void test_views_describe_lus_ua_queues_and_logins(void **state)
{
    struct fx *f = *state;
    struct tgt_lu_info li;
    uint8_t ua[8][2];

    assert_int_equal(tgt_server_lu_info(f->srv, 1, &li), 0);
    assert_int_equal(li.lun, 1);
    assert_string_equal(li.backend, "mem");
    assert_null(li.path);
    assert_int_equal(li.size, 1 << 20);
    assert_int_equal(li.block_size, 512);
    /* SPC-4 7.8.6.6.3: the derived designator is NAA 3h. */
    assert_int_equal(li.naa[0] >> 4, 3);
    assert_int_equal(tgt_server_lu_info(f->srv, 2, &li), -ENOENT);
    assert_null(tgt_lu_pr_state(f->srv, 2));

    tgt_ua_raise(f->srv->lus[0], tgt_nexus_id(f->b), 0x2a, 0x05);
    tgt_ua_raise(f->srv->lus[0], tgt_nexus_id(f->b), 0x2a, 0x03);
    assert_int_equal(tgt_lu_pending_ua(f->srv, 0, tgt_nexus_id(f->b), ua, 1), 2);
    assert_int_equal(tgt_lu_pending_ua(f->srv, 0, PR_ITN_NONE, ua, 8), 0);

    assert_true(tgt_server_itn_logged_in(f->srv, tgt_nexus_id(f->a)));
    tgt_nexus_logout(f->a);
    assert_false(tgt_server_itn_logged_in(f->srv, tgt_nexus_id(f->a)));
    assert_false(tgt_server_itn_logged_in(f->srv, 999));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fault_next_status_answers_count_matching_commands_then_disarms, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fault_next_sense_is_check_condition_with_that_sense, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_next_refuses_bad_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_delay_holds_commands_of_that_lu_then_runs_the_handler, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_power_loss_without_aptpl_drops_registrations_and_raises_power_on, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_power_loss_of_one_lu_leaves_the_others_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_reservation_fails_medium_access_with_information_lost, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_event_sink_sees_pr_out_outcome_with_status_and_generation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_views_describe_lus_ua_queues_and_logins, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
