/* Unit tests for app/prt_events.c: the PR event log's JSON lines, its file, its followers and its memory.
 *
 * Fixture: a target device with one mem LU and one I_T nexus (so events can name it), a pinned wall clock, and
 * a publisher that records what followers would receive.
 *
 *   nexus A: iqn.2026-11.test:a, ISID 23 d0 00 00 00 01 -- port 1 -- LU 0 (mem 1 MiB)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/prt_events.h"
#include "prstate/pr.h"

struct fx {
    struct tgt_server *srv;
    uint32_t itn;
    char dir[64], path[128];
    char published[8][1024];
    unsigned n_published;
};

static const uint8_t isid_a[6] = { 0x23, 0xd0, 0x00, 0x00, 0x00, 0x01 };

static int64_t pinned_clock(void *ctx)
{
    (void)ctx;
    return 1795354200123; /* 2026-11-22T13:30:00.123Z */
}

static void publish(void *ctx, const char *line, size_t len)
{
    struct fx *f = ctx;
    if (f->n_published < 8) {
        snprintf(f->published[f->n_published], sizeof f->published[0], "%.*s", (int)len, line);
        f->n_published++;
    }
}

/* A publisher whose readers come and go: readers says whether anyone follows the text. */
struct lazy_pub {
    bool readers;
    unsigned bare, lines;
    char last[1024];
};

static bool lazy_wants(void *ctx)
{
    return ((struct lazy_pub *)ctx)->readers;
}

static void lazy_publish(void *ctx, const char *line, size_t len)
{
    struct lazy_pub *p = ctx;
    if (!line) {
        assert_int_equal(len, 0);
        p->bare++;
        return;
    }
    p->lines++;
    snprintf(p->last, sizeof p->last, "%.*s", (int)len, line);
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
    if (!f->srv || tgt_server_add_lu(f->srv, &lc, err, sizeof err))
        return -1;
    struct tgt_nexus *nx = tgt_nexus_login(f->srv, "iqn.2026-11.test:a", isid_a, 1);
    if (!nx)
        return -1;
    f->itn = tgt_nexus_id(nx);
    snprintf(f->dir, sizeof f->dir, "/tmp/prt-ev-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/events.jsonl", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tgt_server_free(f->srv);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct tgt_event pr_out_event(struct fx *f)
{
    struct tgt_event e = {
        .kind = TGT_EVENT_PR_OUT,
        .lun = 0,
        .itn = f->itn,
        .sa = PR_OUT_PREEMPT,
        .type = PR_TYPE_EA_RO,
        .key = 0xabc,
        .sa_key = 0x123,
        .pr_status = PR_OK,
        .status = TGT_STATUS_GOOD,
        .generation = 7,
    };
    return e;
}

static void test_pr_out_event_names_time_lu_nexus_action_key_type_result_generation(void **state)
{
    struct fx *f = *state;
    struct tgt_event e = pr_out_event(f);
    json_t *o = prt_event_json(&e, f->srv, NULL, pinned_clock(NULL));

    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "time")), "2026-11-22T13:30:00.123Z");
    assert_string_equal(json_string_value(json_object_get(o, "event")), "pr_out");
    assert_int_equal(json_integer_value(json_object_get(o, "lun")), 0);
    json_t *n = json_object_get(o, "nexus");
    assert_string_equal(json_string_value(json_object_get(n, "initiator")), "iqn.2026-11.test:a");
    assert_string_equal(json_string_value(json_object_get(n, "isid")), "0x23d000000001");
    assert_string_equal(json_string_value(json_object_get(n, "initiator_port")), "iqn.2026-11.test:a,i,0x23d000000001");
    assert_int_equal(json_integer_value(json_object_get(n, "target_port")), 1);
    assert_string_equal(json_string_value(json_object_get(o, "service_action")), "PREEMPT");
    assert_string_equal(json_string_value(json_object_get(o, "key")), "0x0000000000000abc");
    assert_string_equal(json_string_value(json_object_get(o, "sa_key")), "0x0000000000000123");
    assert_int_equal(json_integer_value(json_object_get(o, "type")), 6);
    assert_string_equal(json_string_value(json_object_get(o, "type_name")), "EA_RO");
    assert_string_equal(json_string_value(json_object_get(o, "result")), "ok");
    assert_string_equal(json_string_value(json_object_get(o, "status")), "GOOD");
    assert_int_equal(json_integer_value(json_object_get(o, "generation")), 7);
    assert_null(json_object_get(o, "sense"));
    json_decref(o);

    e.pr_status = PR_INVALID_FIELD_CDB;
    e.status = TGT_STATUS_CHECK_CONDITION;
    e.sense_key = 0x5;
    e.asc = 0x24;
    o = prt_event_json(&e, f->srv, NULL, 0);
    assert_string_equal(json_string_value(json_object_get(o, "result")), "invalid_field_cdb");
    assert_string_equal(json_string_value(json_object_get(o, "sense")), "5/24/00");
    json_decref(o);
}

static void test_ua_events_name_the_condition_and_whether_raised_or_reported(void **state)
{
    struct fx *f = *state;
    struct tgt_event e = { .kind = TGT_EVENT_UA_RAISED, .lun = 0, .itn = f->itn, .asc = 0x2a, .ascq = 0x03 };
    json_t *o = prt_event_json(&e, f->srv, NULL, 0);

    assert_string_equal(json_string_value(json_object_get(o, "event")), "ua_raised");
    assert_string_equal(json_string_value(json_object_get(o, "ua")), "2a/03");
    assert_string_equal(json_string_value(json_object_get(o, "ua_name")), "RESERVATIONS PREEMPTED");
    json_decref(o);
    e.kind = TGT_EVENT_UA_REPORTED;
    e.asc = 0x29;
    e.ascq = 0x07;
    o = prt_event_json(&e, f->srv, NULL, 0);
    assert_string_equal(json_string_value(json_object_get(o, "event")), "ua_reported");
    assert_string_equal(json_string_value(json_object_get(o, "ua_name")), "I_T NEXUS LOSS OCCURRED");
    json_decref(o);
    /* An id the target never gave out is reported as null rather than guessed. */
    e.itn = 4242;
    o = prt_event_json(&e, f->srv, NULL, 0);
    assert_true(json_is_null(json_object_get(o, "nexus")));
    json_decref(o);
}

static void test_sink_appends_one_line_per_event_to_the_file_and_publishes_it(void **state)
{
    struct fx *f = *state;
    struct prt_events *ev;
    char err[256];
    struct prt_events_cfg cfg = { .path = f->path, .tgt = f->srv, .publish = publish, .publish_ctx = f,
                                  .wall_ms = pinned_clock };
    struct tgt_event e = pr_out_event(f);

    assert_int_equal(prt_events_open(&ev, &cfg, err, sizeof err), 0);
    prt_events_sink(ev, &e);
    e.kind = TGT_EVENT_UA_RAISED;
    e.asc = 0x2a;
    e.ascq = 0x05;
    prt_events_sink(ev, &e);
    assert_int_equal(prt_events_count(ev), 2);
    assert_int_equal(f->n_published, 2);
    assert_non_null(strstr(f->published[0], "\"service_action\":\"PREEMPT\""));
    assert_null(strchr(f->published[0], '\n'));
    prt_events_close(ev);

    /* Reopening appends: history of earlier runs is kept. */
    assert_int_equal(prt_events_open(&ev, &cfg, err, sizeof err), 0);
    prt_events_sink(ev, &e);
    prt_events_close(ev);
    FILE *fp = fopen(f->path, "r");
    assert_non_null(fp);
    char line[2048];
    unsigned n = 0;
    while (fgets(line, sizeof line, fp)) {
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        json_decref(o);
        n++;
    }
    fclose(fp);
    assert_int_equal(n, 3);
    assert_non_null(strstr(line, "REGISTRATIONS PREEMPTED"));
}

static void test_memory_keeps_the_newest_events_and_limit_returns_the_last_n(void **state)
{
    struct fx *f = *state;
    struct prt_events *ev;
    char err[256];
    struct prt_events_cfg cfg = { .tgt = f->srv, .wall_ms = pinned_clock };
    struct tgt_event e = pr_out_event(f);

    assert_int_equal(prt_events_open(&ev, &cfg, err, sizeof err), 0);
    for (uint32_t i = 0; i < PRT_EVENTS_KEEP + 10; i++) {
        e.generation = i;
        prt_events_sink(ev, &e);
    }
    assert_int_equal(prt_events_count(ev), PRT_EVENTS_KEEP + 10);
    json_t *all = prt_events_recent(ev, 0);
    assert_int_equal(json_array_size(all), PRT_EVENTS_KEEP);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(all, 0), "generation")), 10);
    json_decref(all);
    json_t *last = prt_events_recent(ev, 3);
    assert_int_equal(json_array_size(last), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(last, 2), "generation")), PRT_EVENTS_KEEP + 9);
    json_decref(last);
    prt_events_close(ev);
}

static void test_event_nobody_reads_is_kept_unformatted_and_published_as_a_bare_change(void **state)
{
    struct fx *f = *state;
    struct prt_events *ev;
    char err[256];
    struct lazy_pub pub = { .readers = false };
    struct prt_events_cfg cfg = { .tgt = f->srv, .wall_ms = pinned_clock, .publish = lazy_publish,
                                  .publish_ctx = &pub, .wants_lines = lazy_wants };
    struct tgt_event e = pr_out_event(f);

    assert_int_equal(prt_events_open(&ev, &cfg, err, sizeof err), 0);
    prt_events_sink(ev, &e);
    /* No file and no reader: the publisher hears that something changed, without text. */
    assert_int_equal(pub.bare, 1);
    assert_int_equal(pub.lines, 0);

    /* The event formatted later reads exactly as it would have at once, nexus included. */
    json_t *all = prt_events_recent(ev, 0);
    assert_int_equal(json_array_size(all), 1);
    json_t *o = json_array_get(all, 0);
    assert_string_equal(json_string_value(json_object_get(o, "time")), "2026-11-22T13:30:00.123Z");
    assert_string_equal(json_string_value(json_object_get(o, "service_action")), "PREEMPT");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "nexus"), "initiator")),
                        "iqn.2026-11.test:a");
    json_decref(all);

    /* A follower arrives: from now on each event reaches it as a line. */
    pub.readers = true;
    e.generation = 8;
    prt_events_sink(ev, &e);
    assert_int_equal(pub.lines, 1);
    assert_int_equal(pub.bare, 1);
    assert_non_null(strstr(pub.last, "\"generation\":8"));
    assert_int_equal(prt_events_count(ev), 2);
    prt_events_close(ev);
}

static void test_file_gets_every_line_even_when_no_follower_reads_them(void **state)
{
    struct fx *f = *state;
    struct prt_events *ev;
    char err[256], line[2048];
    struct lazy_pub pub = { .readers = false };
    struct prt_events_cfg cfg = { .path = f->path, .tgt = f->srv, .wall_ms = pinned_clock,
                                  .publish = lazy_publish, .publish_ctx = &pub, .wants_lines = lazy_wants };
    struct tgt_event e = pr_out_event(f);

    assert_int_equal(prt_events_open(&ev, &cfg, err, sizeof err), 0);
    prt_events_sink(ev, &e);
    prt_events_close(ev);
    assert_int_equal(pub.bare, 1);
    FILE *fp = fopen(f->path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(line, sizeof line, fp));
    fclose(fp);
    assert_non_null(strstr(line, "\"service_action\":\"PREEMPT\""));
}

static void test_unwritable_log_path_fails_naming_the_path(void **state)
{
    struct fx *f = *state;
    struct prt_events *ev = (struct prt_events *)1;
    char err[256];
    struct prt_events_cfg cfg = { .path = "/nonexistent-dir/events.jsonl", .tgt = f->srv };

    assert_int_equal(prt_events_open(&ev, &cfg, err, sizeof err), -ENOENT);
    assert_null(ev);
    assert_non_null(strstr(err, "/nonexistent-dir/events.jsonl"));
}

static void test_names_cover_every_type_service_action_and_status(void **state)
{
    (void)state;
    /* SPC-4 6.16.2: types 1, 3, 5, 6, 7, 8; everything else is reserved. */
    static const char *const types[] = { "reserved", "WE", "reserved", "EA", "reserved", "WE_RO", "EA_RO", "WE_AR",
                                         "EA_AR", "reserved" };
    for (uint8_t t = 0; t < 10; t++)
        assert_string_equal(prt_pr_type_name(t), types[t]);
    assert_string_equal(prt_pr_out_sa_name(PR_OUT_REGISTER_IGNORE), "REGISTER AND IGNORE EXISTING KEY");
    assert_string_equal(prt_pr_out_sa_name(PR_OUT_REPLACE_LOST), "REPLACE LOST RESERVATION");
    assert_string_equal(prt_pr_out_sa_name(0x1f), "reserved");
    for (int s = PR_OK; s <= PR_RESERVATION_LOST; s++)
        assert_string_not_equal(prt_pr_status_name(s), "unknown");
    assert_string_equal(prt_pr_status_name(99), "unknown");
    assert_string_equal(prt_scsi_status_name(0x18), "RESERVATION CONFLICT");
    assert_string_equal(prt_scsi_status_name(0x01), "reserved");
    assert_string_equal(prt_ua_name(0x2a, 0x04), "RESERVATIONS RELEASED");
    assert_string_equal(prt_ua_name(0x55, 0x55), "UNIT ATTENTION");
}

/* docs/control.md "Several targets": one log takes the events of every target; each names its target, and its
 * nexus is named from that target's own I_T nexus table (the same id means another nexus on another target). */
static void test_events_of_another_target_carry_its_name_and_its_own_nexus(void **state)
{
    struct fx *f = *state;
    struct prt_events *ev;
    char err[256];
    struct tgt_server_cfg tc = { .target_name = "iqn.2026-11.org.prtarget:other", .n_ports = 2 };
    struct tgt_server *other = tgt_server_new(&tc, err, sizeof err);
    assert_non_null(other);
    static const uint8_t isid_b[6] = { 0x23, 0xd0, 0x00, 0x00, 0x00, 0x02 };
    struct tgt_nexus *nx = tgt_nexus_login(other, "iqn.2026-11.test:b", isid_b, 2);
    assert_non_null(nx);
    struct prt_events_cfg cfg = { .path = f->path, .tgt = f->srv, .target_name = "iqn.2026-11.org.prtarget:test",
                                  .publish = publish, .publish_ctx = f, .wall_ms = pinned_clock };
    struct tgt_event e = pr_out_event(f);

    assert_int_equal(prt_events_open(&ev, &cfg, err, sizeof err), 0);
    void *src = prt_events_add_target(ev, other, "iqn.2026-11.org.prtarget:other");
    assert_non_null(src);
    prt_events_sink(ev, &e);
    struct tgt_event eb = e;
    eb.itn = tgt_nexus_id(nx);
    eb.lun = 0;
    prt_events_target_sink(src, &eb);
    assert_int_equal(prt_events_count(ev), 2);
    assert_int_equal(f->n_published, 2);
    assert_non_null(strstr(f->published[0], "\"target\":\"iqn.2026-11.org.prtarget:test\""));
    assert_non_null(strstr(f->published[1], "\"target\":\"iqn.2026-11.org.prtarget:other\""));

    /* The in-memory history names each event's target and nexus the same way, however late it is read. */
    json_t *a = prt_events_recent(ev, 0);
    assert_int_equal(json_array_size(a), 2);
    json_t *o = json_array_get(a, 1);
    assert_string_equal(json_string_value(json_object_get(o, "target")), "iqn.2026-11.org.prtarget:other");
    json_t *n = json_object_get(o, "nexus");
    assert_string_equal(json_string_value(json_object_get(n, "initiator")), "iqn.2026-11.test:b");
    assert_int_equal(json_integer_value(json_object_get(n, "target_port")), 2);
    o = json_array_get(a, 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "nexus"), "initiator")),
                        "iqn.2026-11.test:a");
    json_decref(a);

    /* The table of sources is bounded: past PRT_EVENTS_TARGETS, adding one fails instead of overrunning. */
    unsigned added = 2;
    while (prt_events_add_target(ev, other, "x"))
        added++;
    assert_int_equal(added, PRT_EVENTS_TARGETS);
    prt_events_close(ev);
    tgt_server_free(other);
}

/* Without a target name (one target, or a caller that does not ask), events carry no "target" member. */
static void test_event_without_target_name_has_no_target_member(void **state)
{
    struct fx *f = *state;
    struct tgt_event e = pr_out_event(f);
    json_t *o = prt_event_json(&e, f->srv, NULL, 0);
    assert_null(json_object_get(o, "target"));
    json_decref(o);
    o = prt_event_json(&e, f->srv, "iqn.x:t", 0);
    assert_string_equal(json_string_value(json_object_get(o, "target")), "iqn.x:t");
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pr_out_event_names_time_lu_nexus_action_key_type_result_generation,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_nobody_reads_is_kept_unformatted_and_published_as_a_bare_change,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_gets_every_line_even_when_no_follower_reads_them, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ua_events_name_the_condition_and_whether_raised_or_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sink_appends_one_line_per_event_to_the_file_and_publishes_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_memory_keeps_the_newest_events_and_limit_returns_the_last_n, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_log_path_fails_naming_the_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_of_another_target_carry_its_name_and_its_own_nexus, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_event_without_target_name_has_no_target_member, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_cover_every_type_service_action_and_status, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
