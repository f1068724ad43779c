/* prtargetctl's fault injection against a live prtarget, each effect seen from libiscsi initiators.
 *
 *   it_tools_fault ──spawns──> prtarget --listen 127.0.0.1:0 --control DIR/ctl.sock --state-dir DIR/state
 *        ├──runs──> prtargetctl --socket DIR/ctl.sock fault {next,delay,clear,lost-reservation,power-loss,drop-nexus}
 *        ├── initiator-a (libiscsi) ──> LUN 0
 *        └── initiator-b (libiscsi) ──> LUN 0
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "tests/integration/tools/tools_util.h"

#define SENSE(k, asc, ascq) (((uint32_t)(k) << 16) | ((uint32_t)(asc) << 8) | (uint32_t)(ascq))

struct fx {
    struct tu_daemon d;
    char state_dir[400];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char dir[256];

    /* The state directory must exist before the daemon starts and outlive tu_start's own directory choice. */
    if (!f || itest_mkdtemp(dir, sizeof dir) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->state_dir, sizeof f->state_dir, "%s", dir);
    const char *args[] = { "--lun", "mem:8M", "--state-dir", f->state_dir, NULL };
    if (tu_start(&f->d, args) != 0) {
        itest_rmdir(f->state_dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = tu_stop(&f->d);
    itest_rmdir(f->state_dir);
    free(f);
    return rc == 0 ? 0 : -1;
}

static struct iscsi_context *login(struct fx *f, const char *iname)
{
    struct iscsi_context *c = itest_login(f->d.t.url[0], iname, ISCSI_HEADER_DIGEST_NONE, NULL);
    assert_non_null(c);
    return c;
}

/* A login that leaves the unit attentions pending, so the test can see the first one. */
static struct iscsi_context *login_keep_ua(struct fx *f, const char *iname)
{
    struct iscsi_context *c = iscsi_create_context(iname);
    assert_non_null(c);
    struct iscsi_url *u = iscsi_parse_full_url(c, f->d.t.url[0]);
    assert_non_null(u);
    iscsi_set_targetname(c, u->target);
    iscsi_set_session_type(c, ISCSI_SESSION_NORMAL);
    iscsi_set_timeout(c, 20);
    /* iscsi_full_connect_sync() would send its own TEST UNIT READY and swallow the unit attention. */
    assert_int_equal(iscsi_connect_sync(c, u->portal), 0);
    assert_int_equal(iscsi_login_sync(c), 0);
    iscsi_destroy_url(u);
    return c;
}

static int ctl(struct fx *f, char *err, size_t errlen, ...)
{
    static char out[65536];
    va_list ap;
    const char *a[16];
    int n = 0;
    va_start(ap, errlen);
    for (const char *s = va_arg(ap, const char *); s && n < 15; s = va_arg(ap, const char *))
        a[n++] = s;
    va_end(ap);
    a[n] = NULL;
    /* tu_ctl takes varargs; forward the fixed number used here. */
    return tu_ctl(f->d.sock, out, sizeof out, err, errlen, a[0], n > 1 ? a[1] : NULL, n > 2 ? a[2] : NULL,
                  n > 3 ? a[3] : NULL, n > 4 ? a[4] : NULL, n > 5 ? a[5] : NULL, n > 6 ? a[6] : NULL,
                  n > 7 ? a[7] : NULL, n > 8 ? a[8] : NULL, NULL);
}

/* libiscsi knows PR OUT service actions 00h-07h only, so REPLACE LOST RESERVATION goes out as a raw CDB:
 * SPC-5 6.17.1 (CDB) and 6.17.3 (the 24-byte basic parameter list, SERVICE ACTION RESERVATION KEY at byte 8). */
static int replace_lost(struct iscsi_context *c, int lun, int type, uint64_t new_key)
{
    struct scsi_task *t = calloc(1, sizeof *t);
    static uint8_t param[24];
    struct iscsi_data d = { .size = sizeof param, .data = param };

    assert_non_null(t);
    memset(param, 0, sizeof param);
    for (int i = 0; i < 8; i++)
        param[8 + i] = (uint8_t)(new_key >> (56 - 8 * i));
    t->cdb_size = 10;
    t->cdb[0] = 0x5f;
    t->cdb[1] = 0x08;
    t->cdb[2] = (uint8_t)type;
    t->cdb[8] = sizeof param;
    t->xfer_dir = SCSI_XFER_WRITE;
    t->expxferlen = sizeof param;
    struct scsi_task *r = iscsi_scsi_command_sync(c, lun, t, &d);
    int st = r ? r->status : -1;
    scsi_free_scsi_task(t);
    return st;
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000L + (t1.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* The number of sessions the daemon lists for iname (or all when NULL), polled until it equals want or 5 s. */
static int wait_sessions(struct fx *f, const char *iname, int want)
{
    int n = -1;
    for (int tries = 0; tries < 50; tries++) {
        json_t *ss = tu_ctl_json(f->d.sock, "sessions", NULL);
        n = 0;
        for (size_t i = 0; i < json_array_size(ss); i++) {
            const char *in = json_string_value(json_object_get(json_array_get(ss, i), "initiator"));
            n += !iname || (in && strcmp(in, iname) == 0);
        }
        json_decref(ss);
        if (n == want)
            break;
        usleep(100000);
    }
    return n;
}

static void test_fault_next_status_answers_the_next_n_matching_commands_then_stops(void **state)
{
    struct fx *f = *state;
    struct iscsi_context *a = login(f, ITEST_INAME_A);
    char err[1024];

    assert_int_equal(ctl(f, err, sizeof err, "fault", "next", "0", "--count", "2", "--status", "BUSY", "--opcode",
                         "0x00", NULL),
                     0);
    assert_int_equal(tu_tur(a, 0, NULL), SCSI_STATUS_BUSY);
    assert_int_equal(tu_tur(a, 0, NULL), SCSI_STATUS_BUSY);
    assert_int_equal(tu_tur(a, 0, NULL), SCSI_STATUS_GOOD);
    json_t *fl = tu_ctl_json(f->d.sock, "fault", "list", NULL);
    assert_int_equal(json_array_size(json_object_get(fl, "next")), 0);
    json_decref(fl);
    itest_logout(a);
}

static void test_fault_next_sense_hits_only_the_named_opcode(void **state)
{
    struct fx *f = *state;
    struct iscsi_context *a = login(f, ITEST_INAME_A);
    char err[1024];
    uint32_t sense = 0;

    assert_int_equal(ctl(f, err, sizeof err, "fault", "next", "0", "--sense", "3/11/00", "--opcode", "0x28", NULL), 0);
    assert_int_equal(tu_tur(a, 0, NULL), SCSI_STATUS_GOOD);
    struct scsi_task *t = iscsi_read10_sync(a, 0, 0, 512, 512, 0, 0, 0, 0, 0);
    assert_non_null(t);
    assert_int_equal(t->status, SCSI_STATUS_CHECK_CONDITION);
    sense = SENSE(t->sense.key, t->sense.ascq >> 8, t->sense.ascq & 0xff);
    scsi_free_scsi_task(t);
    assert_int_equal(sense, SENSE(0x3, 0x11, 0x00));
    t = iscsi_read10_sync(a, 0, 0, 512, 512, 0, 0, 0, 0, 0);
    assert_non_null(t);
    assert_int_equal(t->status, SCSI_STATUS_GOOD);
    scsi_free_scsi_task(t);
    itest_logout(a);
}

static void test_fault_next_refuses_bad_rules_with_one_line(void **state)
{
    struct fx *f = *state;
    char err[1024];

    /* SAM-5 5.3.1: CHECK CONDITION carries sense, so it needs --sense. */
    assert_int_equal(ctl(f, err, sizeof err, "fault", "next", "0", "--status", "CHECK_CONDITION", NULL), 1);
    assert_int_equal(tu_lines(err), 1);
    assert_int_equal(ctl(f, err, sizeof err, "fault", "next", "0", "--sense", "3/zz/00", NULL), 1);
    assert_int_equal(tu_lines(err), 1);
    assert_int_equal(ctl(f, err, sizeof err, "fault", "next", "5", "--status", "BUSY", NULL), 1);
    assert_int_equal(tu_lines(err), 1);
    assert_int_equal(ctl(f, err, sizeof err, "fault", "next", "0", NULL), 1);
    assert_int_equal(tu_lines(err), 1);
    assert_int_equal(ctl(f, err, sizeof err, "fault", "next", "0", "--count", "0", "--status", "BUSY", NULL), 2);
    assert_int_equal(tu_lines(err), 1);
    assert_int_equal(ctl(f, err, sizeof err, "fault", "next", NULL), 2);
    json_t *fl = tu_ctl_json(f->d.sock, "fault", "list", NULL);
    assert_int_equal(json_array_size(json_object_get(fl, "next")), 0);
    json_decref(fl);
}

static void test_fault_delay_slows_every_command_until_removed(void **state)
{
    struct fx *f = *state;
    struct iscsi_context *a = login(f, ITEST_INAME_A);
    char err[1024];
    struct timespec t0;

    assert_int_equal(ctl(f, err, sizeof err, "fault", "delay", "0", "400", NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(tu_tur(a, 0, NULL), SCSI_STATUS_GOOD);
    assert_true(elapsed_ms(&t0) >= 390);
    assert_int_equal(ctl(f, err, sizeof err, "fault", "delay", "0", "0", NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(tu_tur(a, 0, NULL), SCSI_STATUS_GOOD);
    assert_true(elapsed_ms(&t0) < 300);
    itest_logout(a);
}

static void test_fault_clear_disarms_next_and_delay(void **state)
{
    struct fx *f = *state;
    struct iscsi_context *a = login(f, ITEST_INAME_A);
    char err[1024];
    struct timespec t0;

    assert_int_equal(ctl(f, err, sizeof err, "fault", "next", "0", "--count", "5", "--status", "TASK_SET_FULL", NULL),
                     0);
    assert_int_equal(ctl(f, err, sizeof err, "fault", "delay", "0", "500", NULL), 0);
    assert_int_equal(ctl(f, err, sizeof err, "fault", "clear", NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(tu_tur(a, 0, NULL), SCSI_STATUS_GOOD);
    assert_true(elapsed_ms(&t0) < 400);
    itest_logout(a);
}

static void test_fault_lost_reservation_blocks_the_medium_until_replace_lost_reservation(void **state)
{
    struct fx *f = *state;
    struct iscsi_context *a = login(f, ITEST_INAME_A);
    char err[1024];
    uint64_t keys[4];

    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0xa1, false, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_RESERVE, 1, 0xa1, 0, false, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(ctl(f, err, sizeof err, "fault", "lost-reservation", "0", NULL), 0);
    /* SPC-5 5.14.11: the registrations are gone and the medium answers PERSISTENT RESERVATION INFORMATION LOST. */
    assert_int_equal(tu_read_keys(a, 0, keys, 4, NULL), 0);
    struct scsi_task *t = iscsi_read10_sync(a, 0, 0, 512, 512, 0, 0, 0, 0, 0);
    assert_non_null(t);
    assert_int_equal(t->status, SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(t->sense.ascq, 0x4401);
    scsi_free_scsi_task(t);
    json_t *lu = tu_ctl_json(f->d.sock, "luns", NULL);
    assert_true(json_is_true(json_object_get(json_array_get(lu, 0), "lost")));
    json_decref(lu);
    /* REPLACE LOST RESERVATION (SPC-5 6.17.2, service action 08h): key 0, the new key in SA KEY. */
    assert_int_equal(replace_lost(a, 0, 1, 0xb2), SCSI_STATUS_GOOD);
    t = iscsi_read10_sync(a, 0, 0, 512, 512, 0, 0, 0, 0, 0);
    assert_non_null(t);
    assert_int_equal(t->status, SCSI_STATUS_GOOD);
    scsi_free_scsi_task(t);
    assert_int_equal(tu_read_keys(a, 0, keys, 4, NULL), 1);
    assert_true(keys[0] == 0xb2);
    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_CLEAR, 0, 0xb2, 0, false, NULL), SCSI_STATUS_GOOD);
    itest_logout(a);
}

static void power_loss_case(struct fx *f, bool aptpl)
{
    struct iscsi_context *a = login(f, ITEST_INAME_A);
    char err[1024];
    uint64_t keys[4];

    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0xc3, aptpl, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_RESERVE, 5, 0xc3, 0, false, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(ctl(f, err, sizeof err, "fault", "power-loss", NULL), 0);
    /* Every nexus is dropped: the daemon lists no session once the connection is gone. */
    assert_int_equal(wait_sessions(f, NULL, 0), 0);
    iscsi_destroy_context(a);

    /* SAM-5 6.3.1: the first command after the power cycle sees POWER ON OCCURRED. */
    struct iscsi_context *b = login_keep_ua(f, ITEST_INAME_A);
    uint32_t sense = 0;
    assert_int_equal(tu_tur(b, 0, &sense), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(sense >> 16, 0x6);
    assert_int_equal(sense & 0xff00, 0x2900);
    itest_clear_ua(b, 0);
    /* SPC-4 5.13.2: registrations and the reservation persist only when APTPL was in effect. */
    assert_int_equal(tu_read_keys(b, 0, keys, 4, NULL), aptpl ? 1 : 0);
    json_t *pr = tu_ctl_json(f->d.sock, "pr", "show", NULL);
    json_t *resv = json_object_get(json_array_get(pr, 0), "reservation");
    if (aptpl) {
        assert_true(keys[0] == 0xc3);
        assert_int_equal(json_integer_value(json_object_get(resv, "type")), 5);
        /* libiscsi gives each context its own ISID, so this is a new, unregistered I_T nexus: under Write
         * Exclusive - Registrants Only its writes conflict (SPC-4 5.13.1), proof that the reservation is back. */
        static unsigned char block[512];
        struct scsi_task *w = iscsi_write10_sync(b, 0, 0, block, 512, 512, 0, 0, 0, 0, 0);
        assert_non_null(w);
        assert_int_equal(w->status, SCSI_STATUS_RESERVATION_CONFLICT);
        scsi_free_scsi_task(w);
    } else {
        assert_true(json_is_null(resv));
    }
    json_decref(pr);
    itest_logout(b);
}

static void test_fault_power_loss_without_aptpl_drops_registrations_and_raises_power_on(void **state)
{
    power_loss_case(*state, false);
}

static void test_fault_power_loss_with_aptpl_keeps_registrations_and_reservation(void **state)
{
    power_loss_case(*state, true);
}

static void test_fault_drop_nexus_drops_only_that_initiator_and_it_sees_nexus_loss(void **state)
{
    struct fx *f = *state;
    struct iscsi_context *a = login(f, ITEST_INAME_A);
    struct iscsi_context *b = login(f, ITEST_INAME_B);
    char err[1024], nexus[400];

    json_t *ss = tu_ctl_json(f->d.sock, "sessions", NULL);
    const char *isid = NULL;
    for (size_t i = 0; i < json_array_size(ss); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(ss, i), "initiator")), ITEST_INAME_A) == 0)
            isid = json_string_value(json_object_get(json_array_get(ss, i), "isid"));
    assert_non_null(isid);
    snprintf(nexus, sizeof nexus, "%s,i,%s", ITEST_INAME_A, isid);
    json_decref(ss);

    assert_int_equal(ctl(f, err, sizeof err, "fault", "drop-nexus", nexus, NULL), 0);
    assert_int_equal(wait_sessions(f, ITEST_INAME_A, 0), 0);
    assert_int_equal(wait_sessions(f, ITEST_INAME_B, 1), 1);
    assert_int_equal(tu_tur(b, 0, NULL), SCSI_STATUS_GOOD);
    iscsi_destroy_context(a);

    /* SAM-5 6.3.1, 6.3.4: the initiator logging in again sees a reset-class unit attention first (29h/00h for
     * the new I_T nexus libiscsi's fresh ISID makes, 29h/07h if it had kept the ISID). */
    struct iscsi_context *a2 = login_keep_ua(f, ITEST_INAME_A);
    uint32_t sense = 0;
    assert_int_equal(tu_tur(a2, 0, &sense), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(sense >> 16, 0x6);
    assert_int_equal(sense & 0xff00, 0x2900);
    itest_logout(a2);

    /* Nobody by that name: refused with one line, nothing dropped. */
    assert_int_equal(ctl(f, err, sizeof err, "fault", "drop-nexus", "iqn.2026-11.org.nobody:x", NULL), 1);
    assert_int_equal(tu_lines(err), 1);
    assert_int_equal(tu_tur(b, 0, NULL), SCSI_STATUS_GOOD);
    itest_logout(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fault_next_status_answers_the_next_n_matching_commands_then_stops, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fault_next_sense_hits_only_the_named_opcode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_next_refuses_bad_rules_with_one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_delay_slows_every_command_until_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_clear_disarms_next_and_delay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_lost_reservation_blocks_the_medium_until_replace_lost_reservation,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_power_loss_without_aptpl_drops_registrations_and_raises_power_on,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_power_loss_with_aptpl_keeps_registrations_and_reservation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fault_drop_nexus_drops_only_that_initiator_and_it_sees_nexus_loss, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
