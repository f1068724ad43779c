/* Unit tests for target/tmf.c: task management functions against tasks held on a worker thread.
 *
 * Fixture: a file-backed LU 0 (blocking backend) behind a fake executor that keeps queued work until the test
 * runs it, so tasks stay in the task set as long as the test wants.
 *
 *   nexus A (iqn.2026-11.test:a, ISID ..01) --+
 *                                             +-- port 1 -- LU 0 (file, 2048 x 512 bytes)
 *   nexus B (iqn.2026-11.test:b, ISID ..02) --+
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/tgt_internal.h"

#define QMAX 16
#define BUFSZ 65536

struct tfx {
    struct tgt_server *srv;
    struct tgt_nexus *a, *b;
    struct tgt_work *q[QMAX];
    int nq;
    char path[64];
    int done_calls;
    struct tgt_cmd cmds[4];
    uint8_t bufs[4][BUFSZ];
};

static const uint8_t isid_a[6] = { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x01 };
static const uint8_t isid_b[6] = { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x02 };

static int fake_queue(void *ctx, struct tgt_work *w)
{
    struct tfx *t = ctx;

    if (t->nq == QMAX)
        return -11;
    t->q[t->nq++] = w;
    return 0;
}

static void run_queued(struct tfx *t)
{
    while (t->nq) {
        struct tgt_work *w = t->q[0];

        memmove(t->q, t->q + 1, (size_t)(t->nq - 1) * sizeof(t->q[0]));
        t->nq--;
        w->work(w);
        w->done(w);
    }
}

static void on_done(struct tgt_cmd *c)
{
    ((struct tfx *)c->owner)->done_calls++;
}

static void submit(struct tfx *t, int i, struct tgt_nexus *nx, const uint8_t *cdb, size_t len, uint32_t exp)
{
    struct tgt_cmd *c = &t->cmds[i];

    memset(c, 0, sizeof(*c));
    c->nexus = nx;
    memcpy(c->cdb, cdb, len);
    c->cdb_len = 16;
    c->tag = (uint64_t)i;
    c->exp_len = exp;
    c->buf = t->bufs[i];
    c->buf_cap = BUFSZ;
    c->done = on_done;
    c->owner = t;
    tgt_cmd_submit(t->srv, c);
}

static const uint8_t rd1[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
static const uint8_t tur[6] = { 0 };

static void expect_ua(struct tfx *t, struct tgt_nexus *nx, uint8_t asc, uint8_t ascq)
{
    struct tgt_cmd *c = &t->cmds[3];

    submit(t, 3, nx, tur, 6, 0);
    assert_int_equal(c->status, asc ? TGT_STATUS_CHECK_CONDITION : TGT_STATUS_GOOD);
    if (asc) {
        assert_int_equal(c->sense[2] & 0xf, TGT_SK_UNIT_ATTENTION);
        assert_int_equal(c->sense[12], asc);
        assert_int_equal(c->sense[13], ascq);
    }
}

static void drain_ua(struct tfx *t)
{
    for (int i = 0; i < 4; i++) {
        submit(t, 3, t->a, tur, 6, 0);
        submit(t, 3, t->b, tur, 6, 0);
    }
}

static int setup(void **state)
{
    struct tfx *t = calloc(1, sizeof(*t));
    struct tgt_server_cfg cfg = { .target_name = "iqn.2026-11.org.prtarget:tmf", .n_ports = 1 };
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_FILE, .size = 1u << 20 };
    char err[256];
    int fd;

    assert_non_null(t);
    snprintf(t->path, sizeof(t->path), "/tmp/test_tmf.XXXXXX");
    fd = mkstemp(t->path);
    assert_true(fd >= 0);
    close(fd);
    cfg.exec.queue = fake_queue;
    cfg.exec.ctx = t;
    t->srv = tgt_server_new(&cfg, err, sizeof(err));
    assert_non_null(t->srv);
    lc.path = t->path;
    assert_int_equal(tgt_server_add_lu(t->srv, &lc, err, sizeof(err)), 0);
    t->a = tgt_nexus_login(t->srv, "iqn.2026-11.test:a", isid_a, 1);
    t->b = tgt_nexus_login(t->srv, "iqn.2026-11.test:b", isid_b, 1);
    drain_ua(t);
    t->done_calls = 0;
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tfx *t = *state;
    char st[96];

    run_queued(t);
    tgt_server_free(t->srv);
    unlink(t->path);
    snprintf(st, sizeof(st), "%s.prstate.json", t->path);
    unlink(st);
    free(t);
    return 0;
}

static void test_abort_task_terminates_a_task_held_by_a_worker_silently(void **state)
{
    struct tfx *t = *state;
    struct tgt_cmd *c = &t->cmds[0];

    submit(t, 0, t->a, rd1, 10, 512);
    assert_int_equal(t->done_calls, 0);
    assert_int_equal(tgt_nexus_cmds_in_flight(t->a), 1);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_QUERY_TASK, 0, c), TGT_TMF_SUCCEEDED);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_ABORT_TASK, 0, c), TGT_TMF_COMPLETE);
    /* The worker still owns the buffer: no completion until it hands the task back. */
    assert_int_equal(t->done_calls, 0);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_QUERY_TASK, 0, c), TGT_TMF_TASK_NOT_FOUND);
    run_queued(t);
    assert_int_equal(t->done_calls, 1);
    assert_true(c->aborted);
    assert_int_not_equal(c->status, TGT_STATUS_TASK_ABORTED);
    assert_int_equal(tgt_nexus_cmds_in_flight(t->a), 0);
}

static void test_abort_task_of_unknown_or_foreign_task_is_not_found(void **state)
{
    struct tfx *t = *state;

    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_ABORT_TASK, 0, NULL), TGT_TMF_TASK_NOT_FOUND);
    submit(t, 0, t->b, rd1, 10, 512);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_ABORT_TASK, 0, &t->cmds[0]), TGT_TMF_TASK_NOT_FOUND);
    run_queued(t);
    assert_false(t->cmds[0].aborted);
    assert_int_equal(t->cmds[0].status, TGT_STATUS_GOOD);
}

static void test_abort_task_set_ends_only_the_requesters_tasks(void **state)
{
    struct tfx *t = *state;

    submit(t, 0, t->a, rd1, 10, 512);
    submit(t, 1, t->b, rd1, 10, 512);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_ABORT_TASK_SET, 0, NULL), TGT_TMF_COMPLETE);
    run_queued(t);
    assert_true(t->cmds[0].aborted);
    assert_false(t->cmds[1].aborted);
    assert_int_equal(t->cmds[1].status, TGT_STATUS_GOOD);
    assert_int_equal(t->cmds[1].din_len, 512);
}

static void test_clear_task_set_with_tas_reports_task_aborted_to_the_other_nexus(void **state)
{
    struct tfx *t = *state;

    submit(t, 0, t->a, rd1, 10, 512);
    submit(t, 1, t->b, rd1, 10, 512);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_CLEAR_TASK_SET, 0, NULL), TGT_TMF_COMPLETE);
    run_queued(t);
    assert_true(t->cmds[0].aborted);
    assert_int_not_equal(t->cmds[0].status, TGT_STATUS_TASK_ABORTED);
    assert_true(t->cmds[1].aborted);
    assert_int_equal(t->cmds[1].status, TGT_STATUS_TASK_ABORTED);
    assert_int_equal(t->done_calls, 2);
}

static void test_clear_task_set_without_tas_tells_the_other_nexus_by_unit_attention(void **state)
{
    struct tfx *t = *state;

    tgt_server_lu(t->srv, 0)->mode.tas = false;
    submit(t, 1, t->b, rd1, 10, 512);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_CLEAR_TASK_SET, 0, NULL), TGT_TMF_COMPLETE);
    run_queued(t);
    assert_true(t->cmds[1].aborted);
    assert_int_not_equal(t->cmds[1].status, TGT_STATUS_TASK_ABORTED);
    expect_ua(t, t->b, 0x2f, 0x00);
    expect_ua(t, t->a, 0, 0);
}

static void test_lun_reset_aborts_everything_and_raises_bus_device_reset_for_all(void **state)
{
    struct tfx *t = *state;
    struct tgt_lu *lu = tgt_server_lu(t->srv, 0);

    lu->mode.wce = false;
    submit(t, 0, t->a, rd1, 10, 512);
    submit(t, 1, t->b, rd1, 10, 512);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_LUN_RESET, 0, NULL), TGT_TMF_COMPLETE);
    run_queued(t);
    assert_true(t->cmds[0].aborted && t->cmds[1].aborted);
    assert_null(lu->ts_head);
    /* SAM-5 6.3.3: mode parameters return to their defaults. */
    assert_true(lu->mode.wce);
    expect_ua(t, t->a, 0x29, 0x03);
    expect_ua(t, t->b, 0x29, 0x03);
    expect_ua(t, t->b, 0, 0);
}

static void test_lun_reset_releases_spc2_reservations(void **state)
{
    struct tfx *t = *state;
    const uint8_t reserve6[6] = { 0x16 };

    submit(t, 0, t->b, reserve6, 6, 0);
    assert_int_equal(t->cmds[0].status, TGT_STATUS_GOOD);
    submit(t, 1, t->a, rd1, 10, 512);
    assert_int_equal(t->cmds[1].status, TGT_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_LUN_RESET, 0, NULL), TGT_TMF_COMPLETE);
    drain_ua(t);
    submit(t, 1, t->a, rd1, 10, 512);
    run_queued(t);
    assert_int_equal(t->cmds[1].status, TGT_STATUS_GOOD);
}

static void test_target_resets_raise_reset_or_power_on(void **state)
{
    struct tfx *t = *state;

    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_TARGET_WARM_RESET, 0, NULL), TGT_TMF_COMPLETE);
    expect_ua(t, t->b, 0x29, 0x00);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_TARGET_COLD_RESET, 0, NULL), TGT_TMF_COMPLETE);
    expect_ua(t, t->b, 0x29, 0x01);
}

static void test_it_nexus_reset_ends_the_nexus_tasks_and_only_it_sees_nexus_loss(void **state)
{
    struct tfx *t = *state;

    submit(t, 0, t->a, rd1, 10, 512);
    submit(t, 1, t->b, rd1, 10, 512);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_IT_NEXUS_RESET, 0, NULL), TGT_TMF_COMPLETE);
    run_queued(t);
    assert_true(t->cmds[0].aborted);
    assert_false(t->cmds[1].aborted);
    expect_ua(t, t->a, 0x29, 0x07);
    expect_ua(t, t->b, 0, 0);
}

static void test_lun_scoped_functions_on_a_missing_lu_report_lun_not_found(void **state)
{
    struct tfx *t = *state;

    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_LUN_RESET, 9, NULL), TGT_TMF_LUN_NOT_FOUND);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_ABORT_TASK_SET, 9, NULL), TGT_TMF_LUN_NOT_FOUND);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_CLEAR_TASK_SET, 9, NULL), TGT_TMF_LUN_NOT_FOUND);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_QUERY_TASK, 9, NULL), TGT_TMF_LUN_NOT_FOUND);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_CLEAR_ACA, 0, NULL), TGT_TMF_COMPLETE);
}

static void test_preempt_and_abort_hook_aborts_only_the_named_nexus(void **state)
{
    struct tfx *t = *state;

    submit(t, 0, t->a, rd1, 10, 512);
    submit(t, 1, t->b, rd1, 10, 512);
    tgt_lu_abort_nexus_tasks(tgt_server_lu(t->srv, 0), tgt_nexus_id(t->b), NULL);
    run_queued(t);
    assert_false(t->cmds[0].aborted);
    assert_true(t->cmds[1].aborted);
    assert_int_equal(t->cmds[1].status, TGT_STATUS_TASK_ABORTED); /* TAS=1 by default */
}

/* What the transport was asked to terminate among the tasks it holds (tgt_server_set_held_abort). */
struct held_log {
    int calls;
    uint32_t itn[8];
    uint64_t lun[8];
    bool tas[8];
    unsigned answer; /* how many tasks the fake transport says it terminated */
};

static unsigned held_abort(void *ctx, uint32_t itn, uint64_t lun, bool tas)
{
    struct held_log *h = ctx;

    if (h->calls < 8) {
        h->itn[h->calls] = itn;
        h->lun[h->calls] = lun;
        h->tas[h->calls] = tas;
    }
    h->calls++;
    return h->answer;
}

static void test_clear_task_set_also_ends_the_other_nexus_writes_held_by_the_transport(void **state)
{
    struct tfx *t = *state;
    struct held_log h = { .answer = 1 };

    tgt_server_set_held_abort(t->srv, held_abort, &h);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_CLEAR_TASK_SET, 0, NULL), TGT_TMF_COMPLETE);
    /* Only B: the requester's own held tasks the transport ends before asking for the function. */
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.itn[0], tgt_nexus_id(t->b));
    assert_true(h.lun[0] == 0);
    assert_true(h.tas[0]);
    /* TAS=1: the aborted task itself told B; no unit attention. */
    expect_ua(t, t->b, 0, 0);
    tgt_server_set_held_abort(t->srv, NULL, NULL);
}

static void test_held_writes_ended_without_tas_raise_commands_cleared_by_another_initiator(void **state)
{
    struct tfx *t = *state;
    struct held_log h = { .answer = 0 };

    tgt_server_lu(t->srv, 0)->mode.tas = false;
    tgt_server_set_held_abort(t->srv, held_abort, &h);
    /* Nothing held for B: nothing to tell it. */
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_CLEAR_TASK_SET, 0, NULL), TGT_TMF_COMPLETE);
    assert_int_equal(h.calls, 1);
    assert_false(h.tas[0]);
    expect_ua(t, t->b, 0, 0);
    /* One held write of B ended silently: SAM-5 7.5 / SPC-4 7.5.8 COMMANDS CLEARED BY ANOTHER INITIATOR. */
    h.answer = 1;
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_CLEAR_TASK_SET, 0, NULL), TGT_TMF_COMPLETE);
    expect_ua(t, t->b, 0x2f, 0x00);
    expect_ua(t, t->a, 0, 0);
    tgt_server_set_held_abort(t->srv, NULL, NULL);
}

static void test_lun_reset_asks_the_transport_only_for_other_logged_in_nexuses(void **state)
{
    struct tfx *t = *state;
    struct held_log h = { .answer = 0 };

    tgt_server_set_held_abort(t->srv, held_abort, &h);
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_LUN_RESET, 0, NULL), TGT_TMF_COMPLETE);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.itn[0], tgt_nexus_id(t->b));
    tgt_nexus_logout(t->b);
    h.calls = 0;
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_TARGET_WARM_RESET, 0, NULL), TGT_TMF_COMPLETE);
    assert_int_equal(h.calls, 0);
    /* ABORT TASK SET concerns the requester alone, whose held tasks the transport already ended. */
    assert_int_equal(tgt_tmf(t->srv, t->a, TGT_TMF_ABORT_TASK_SET, 0, NULL), TGT_TMF_COMPLETE);
    assert_int_equal(h.calls, 0);
    tgt_server_set_held_abort(t->srv, NULL, NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_abort_task_terminates_a_task_held_by_a_worker_silently),
        T(test_abort_task_of_unknown_or_foreign_task_is_not_found),
        T(test_abort_task_set_ends_only_the_requesters_tasks),
        T(test_clear_task_set_with_tas_reports_task_aborted_to_the_other_nexus),
        T(test_clear_task_set_without_tas_tells_the_other_nexus_by_unit_attention),
        T(test_clear_task_set_also_ends_the_other_nexus_writes_held_by_the_transport),
        T(test_held_writes_ended_without_tas_raise_commands_cleared_by_another_initiator),
        T(test_lun_reset_asks_the_transport_only_for_other_logged_in_nexuses),
        T(test_lun_reset_aborts_everything_and_raises_bus_device_reset_for_all),
        T(test_lun_reset_releases_spc2_reservations),
        T(test_target_resets_raise_reset_or_power_on),
        T(test_it_nexus_reset_ends_the_nexus_tasks_and_only_it_sees_nexus_loss),
        T(test_lun_scoped_functions_on_a_missing_lu_report_lun_not_found),
        T(test_preempt_and_abort_hook_aborts_only_the_named_nexus),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
