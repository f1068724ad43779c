/* ALUA as an operator drives it (SPC-4 5.16): prtargetctl alua show/set and the targets[0].alua config key,
 * checked from libiscsi initiators on both paths of a two-portal target.
 *
 *   it_tools_alua ──spawns──> prtarget --listen 127.0.0.1:0 --listen 127.0.0.1:0 --control DIR/ctl.sock
 *                                      [--config DIR/prt.json]
 *        ├──runs──> prtargetctl --socket DIR/ctl.sock alua {show,set TPG STATE}
 *        ├── initiator-a (libiscsi) ──> portal 1 (TPGT 1, target port group 1) ──┐
 *        └── initiator-a (libiscsi) ──> portal 2 (TPGT 2, target port group 2) ──┴── LUN 0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "tests/integration/tools/tools_util.h"

/* Sense as key << 16 | ASC << 8 | ASCQ, so a check names the whole additional sense code. */
#define SENSE(k, asc, ascq) (((uint32_t)(k) << 16) | ((uint32_t)(asc) << 8) | (uint32_t)(ascq))
#define UA_ALUA_CHANGED SENSE(SCSI_SENSE_UNIT_ATTENTION, 0x2a, 0x06)
#define NR_STANDBY SENSE(SCSI_SENSE_NOT_READY, 0x04, 0x0b)

struct fx {
    struct tu_daemon d;
    bool up;
    char dir[256];
    char cfg[400];
    struct iscsi_context *p1, *p2; /* one session per portal, same initiator name, so two I_T nexuses */
    int lun1, lun2;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);

    if (!f || itest_mkdtemp(f->dir, sizeof f->dir) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->cfg, sizeof f->cfg, "%s/prt.json", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc;

    if (f->p1)
        itest_logout(f->p1);
    if (f->p2)
        itest_logout(f->p2);
    rc = f->up ? tu_stop(&f->d) : 0;
    itest_rmdir(f->dir);
    free(f);
    return rc == 0 ? 0 : -1;
}

static int run(struct iscsi_context *iscsi, int lun, struct scsi_task *t, uint32_t *sense, struct scsi_task **keep);

/* A session without libiscsi's full connect: that one insists on TEST UNIT READY succeeding, which a standby
 * path correctly refuses (SPC-4 5.16.2.4.4 does not list it). The unit attentions of a new nexus are then
 * consumed with REPORT TARGET PORT GROUPS, which every state processes. */
static struct iscsi_context *login(const char *url, int *lun)
{
    struct iscsi_context *iscsi = iscsi_create_context(ITEST_INAME_A);
    struct iscsi_url *u;
    unsigned char cdb[12] = { 0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 0x04, 0x00, 0, 0 };
    uint32_t sense = 0;

    assert_non_null(iscsi);
    u = iscsi_parse_full_url(iscsi, url);
    assert_non_null(u);
    assert_int_equal(iscsi_set_targetname(iscsi, u->target), 0);
    assert_int_equal(iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL), 0);
    assert_int_equal(iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE), 0);
    if (iscsi_connect_sync(iscsi, u->portal) != 0 || iscsi_login_sync(iscsi) != 0)
        fail_msg("login to %s: %s", url, iscsi_get_error(iscsi));
    *lun = u->lun;
    iscsi_destroy_url(u);
    for (int i = 0; i < 10; i++) {
        int st = run(iscsi, *lun, scsi_create_task(12, cdb, SCSI_XFER_READ, 1024), &sense, NULL);
        if (st == SCSI_STATUS_GOOD)
            return iscsi;
        assert_int_equal(sense >> 16, SCSI_SENSE_UNIT_ATTENTION);
    }
    fail_msg("unit attentions do not stop on %s", url);
    return NULL;
}

/* Two portals (and the config file when with_config), then a session through each. */
static void start_two_portals(struct fx *f, bool with_config)
{
    const char *args[] = { "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--config", f->cfg, NULL };

    if (!with_config)
        args[4] = NULL;
    assert_int_equal(tu_start(&f->d, args), 0);
    f->up = true;
    assert_int_equal(f->d.t.n_ready, 2);
    f->p1 = login(f->d.t.url[0], &f->lun1);
    f->p2 = login(f->d.t.url[1], &f->lun2);
    assert_non_null(f->p1);
    assert_non_null(f->p2);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Run a task and return its status (-1 on a transport failure), the sense in *sense on CHECK CONDITION. The
 * task is returned in *keep when keep is not NULL (the caller frees it), else freed. */
static int run(struct iscsi_context *iscsi, int lun, struct scsi_task *t, uint32_t *sense, struct scsi_task **keep)
{
    struct scsi_task *r;
    int st;

    assert_non_null(t);
    r = iscsi_scsi_command_sync(iscsi, lun, t, NULL);
    if (!r) {
        scsi_free_scsi_task(t);
        return -1;
    }
    st = r->status;
    *sense = st == SCSI_STATUS_CHECK_CONDITION ? SENSE(r->sense.key, r->sense.ascq >> 8, r->sense.ascq & 0xff) : 0;
    if (keep)
        *keep = r;
    else
        scsi_free_scsi_task(r);
    return st;
}

static int read10(struct iscsi_context *iscsi, int lun, uint32_t *sense)
{
    unsigned char cdb[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

    return run(iscsi, lun, scsi_create_task(10, cdb, SCSI_XFER_READ, 512), sense, NULL);
}

/* REPORT TARGET PORT GROUPS (SPC-4 6.36): the asymmetric access state of each group id, in states[id - 1].
 * Returns the number of groups, or -1 when the command failed (its sense in *sense). */
static int report_tpg(struct iscsi_context *iscsi, int lun, uint8_t states[8], uint32_t *sense)
{
    unsigned char cdb[12] = { 0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 0x04, 0x00, 0, 0 };
    struct scsi_task *t = NULL;
    int n = 0;

    if (run(iscsi, lun, scsi_create_task(12, cdb, SCSI_XFER_READ, 1024), sense, &t) != SCSI_STATUS_GOOD) {
        if (t)
            scsi_free_scsi_task(t);
        return -1;
    }
    const uint8_t *d = t->datain.data;
    size_t len = (size_t)t->datain.size;
    assert_true(len >= 4);
    size_t end = 4 + (((size_t)d[0] << 24) | ((size_t)d[1] << 16) | ((size_t)d[2] << 8) | d[3]);
    assert_true(end <= len);
    for (size_t off = 4; off + 8 <= end; n++) {
        unsigned id = ((unsigned)d[off + 2] << 8) | d[off + 3];
        assert_true(id >= 1 && id <= 8);
        states[id - 1] = d[off] & 0x0f;
        assert_int_equal(d[off] & 0x80, 0); /* PREF: no group is preferred */
        off += 8 + 4u * d[off + 7];
    }
    scsi_free_scsi_task(t);
    return n;
}

/* The asymmetric access state of group id as `prtargetctl --json alua show` reports it. */
static const char *shown_state(struct fx *f, unsigned id)
{
    static char buf[32];
    json_t *a = tu_ctl_json(f->d.sock, "alua", "show", NULL);
    json_t *g;
    size_t i;

    assert_non_null(a);
    assert_true(json_is_array(a));
    buf[0] = '\0';
    json_array_foreach(a, i, g) {
        if (json_integer_value(json_object_get(g, "tpg")) == (json_int_t)id)
            snprintf(buf, sizeof buf, "%s", json_string_value(json_object_get(g, "state")));
    }
    json_decref(a);
    return buf;
}

static void test_two_portals_report_two_groups_both_active_optimized(void **state)
{
    struct fx *f = *state;
    uint8_t st[8];
    uint32_t sense = 0;
    char out[2048], err[512];

    start_two_portals(f, false);
    memset(st, 0xff, sizeof st);
    assert_int_equal(report_tpg(f->p1, f->lun1, st, &sense), 2);
    assert_int_equal(st[0], 0x0);
    assert_int_equal(st[1], 0x0);
    memset(st, 0xff, sizeof st);
    assert_int_equal(report_tpg(f->p2, f->lun2, st, &sense), 2);
    assert_int_equal(st[0], 0x0);
    assert_int_equal(st[1], 0x0);
    /* The human table: a header and one row per group, each naming its portal. */
    assert_int_equal(tu_ctl(f->d.sock, out, sizeof out, err, sizeof err, "alua", "show", NULL), 0);
    assert_int_equal(tu_lines(out), 3);
    assert_non_null(strstr(out, f->d.t.portal[0]));
    assert_non_null(strstr(out, f->d.t.portal[1]));
    assert_non_null(strstr(out, "active-optimized"));
}

/* SPC-4 5.16.2.4.4 and 5.16.2.2: the operator puts group 2 in standby; every initiator learns it once through a
 * unit attention, REPORT TARGET PORT GROUPS through either port shows it, I/O through port 2 is refused with
 * TARGET PORT IN STANDBY STATE while port 1 keeps working, and the way back restores I/O. */
static void test_operator_standby_refuses_io_on_that_port_only_and_is_announced_once(void **state)
{
    struct fx *f = *state;
    uint8_t st[8];
    uint32_t sense = 0;
    char out[1024], err[512];

    start_two_portals(f, false);
    assert_int_equal(tu_ctl(f->d.sock, out, sizeof out, err, sizeof err, "alua", "set", "2", "standby", NULL), 0);
    assert_non_null(strstr(out, "active-optimized -> standby"));
    assert_string_equal(shown_state(f, 2), "standby");

    /* Port 2's nexus: ASYMMETRIC ACCESS STATE CHANGED first, exactly once, then NOT READY 04h/0Bh. */
    assert_int_equal(read10(f->p2, f->lun2, &sense), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(sense, UA_ALUA_CHANGED);
    assert_int_equal(read10(f->p2, f->lun2, &sense), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(sense, NR_STANDBY);
    assert_int_equal(read10(f->p2, f->lun2, &sense), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(sense, NR_STANDBY);

    /* Port 1's nexus is told too (a multipath initiator picks its path from it), then reads work. */
    assert_int_equal(read10(f->p1, f->lun1, &sense), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(sense, UA_ALUA_CHANGED);
    assert_int_equal(read10(f->p1, f->lun1, &sense), SCSI_STATUS_GOOD);

    /* SPC-4 5.16.2.4.4: REPORT TARGET PORT GROUPS still works through the standby port. */
    memset(st, 0xff, sizeof st);
    assert_int_equal(report_tpg(f->p2, f->lun2, st, &sense), 2);
    assert_int_equal(st[0], 0x0);
    assert_int_equal(st[1], 0x2);
    memset(st, 0xff, sizeof st);
    assert_int_equal(report_tpg(f->p1, f->lun1, st, &sense), 2);
    assert_int_equal(st[1], 0x2);

    /* Back to active/optimized: announced again, then I/O through port 2 works. */
    assert_int_equal(
        tu_ctl(f->d.sock, out, sizeof out, err, sizeof err, "alua", "set", "2", "active-optimized", NULL), 0);
    assert_int_equal(read10(f->p2, f->lun2, &sense), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(sense, UA_ALUA_CHANGED);
    assert_int_equal(read10(f->p2, f->lun2, &sense), SCSI_STATUS_GOOD);
    assert_string_equal(shown_state(f, 2), "active-optimized");
}

/* SPC-4 5.16.2.4.5: unavailable refuses with its own code, and setting the state a group already has is not a
 * change (SPC-4 5.16.2.2 raises the unit attention only on a change). */
static void test_unavailable_has_its_own_code_and_an_unchanged_state_is_not_announced(void **state)
{
    struct fx *f = *state;
    uint32_t sense = 0;
    char out[1024], err[512];

    start_two_portals(f, false);
    assert_int_equal(tu_ctl(f->d.sock, out, sizeof out, err, sizeof err, "alua", "set", "2", "unavailable", NULL),
                     0);
    assert_int_equal(read10(f->p2, f->lun2, &sense), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(sense, UA_ALUA_CHANGED);
    assert_int_equal(read10(f->p2, f->lun2, &sense), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(sense, SENSE(SCSI_SENSE_NOT_READY, 0x04, 0x0c));
    assert_int_equal(read10(f->p1, f->lun1, &sense), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(sense, UA_ALUA_CHANGED);
    /* Group 1 is already active/optimized: the command succeeds and no nexus hears of it. */
    assert_int_equal(tu_ctl(f->d.sock, out, sizeof out, err, sizeof err, "alua", "set", "1", "active-optimized",
                            NULL),
                     0);
    assert_non_null(strstr(out, "active-optimized -> active-optimized"));
    assert_int_equal(read10(f->p1, f->lun1, &sense), SCSI_STATUS_GOOD);
    assert_int_equal(read10(f->p2, f->lun2, &sense), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(sense, SENSE(SCSI_SENSE_NOT_READY, 0x04, 0x0c));
}

/* docs/config.md targets[0].alua: the daemon starts with group 2 in standby, before any initiator logs in. */
static void test_config_file_starts_group_2_in_standby(void **state)
{
    struct fx *f = *state;
    uint8_t st[8];
    uint32_t sense = 0;

    write_file(f->cfg, "{\"targets\":[{\"alua\":[{\"tpg\":2,\"state\":\"standby\"}]}]}");
    start_two_portals(f, true);
    assert_string_equal(shown_state(f, 2), "standby");
    assert_string_equal(shown_state(f, 1), "active-optimized");
    memset(st, 0xff, sizeof st);
    assert_int_equal(report_tpg(f->p1, f->lun1, st, &sense), 2);
    assert_int_equal(st[0], 0x0);
    assert_int_equal(st[1], 0x2);
    assert_int_equal(read10(f->p2, f->lun2, &sense), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(sense, NR_STANDBY);
    assert_int_equal(read10(f->p1, f->lun1, &sense), SCSI_STATUS_GOOD);
}

static void test_bad_alua_config_is_one_line_and_exit_2(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *json;
        const char *want;
    } cases[] = {
        { "{\"targets\":[{\"alua\":[{\"tpg\":2,\"state\":\"standbye\"}]}]}",
          "targets[0].alua[0].state: \"standbye\" is not" },
        { "{\"targets\":[{\"alua\":[{\"tpg\":3,\"state\":\"standby\"}]}]}",
          "targets[0].alua[0].tpg: target port group 3 but --listen gives 2 portals" },
        { "{\"targets\":[{\"alua\":[{\"tpg\":0,\"state\":\"standby\"}]}]}", "targets[0].alua[0].tpg: 0 is not" },
        { "{\"targets\":[{\"alua\":[{\"tpg\":1}]}]}", "targets[0].alua[0].state: missing" },
        { "{\"targets\":[{\"alua\":{\"2\":\"standby\"}}]}", "targets[0].alua: expected a list" },
    };
    char out[1024], err[1024];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[] = { "--config", f->cfg, "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", NULL };

        write_file(f->cfg, cases[i].json);
        assert_int_equal(itest_run(args, out, sizeof out, err, sizeof err), 2);
        assert_int_equal(tu_lines(err), 1);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: stderr \"%s\" lacks \"%s\"", i, err, cases[i].want);
    }
}

/* Bad group ids and state names are one line on stderr and a non-zero exit, change nothing, and the daemon
 * keeps serving both the control socket and the initiators. */
static void test_bad_state_or_group_is_one_line_error_and_the_daemon_keeps_serving(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *tpg, *state;
        int exit;
        const char *want;
    } cases[] = {
        { "3", "standby", 1, "target port group id, 1..2" },
        { "0", "standby", 2, "not a target port group id" },
        { "two", "standby", 2, "not a target port group id" },
        { "2", "stand-by", 2, "'stand-by' is not active-optimized" },
        { "2", "Standby", 2, "is not active-optimized" },
        { "1", "", 2, "is not active-optimized" },
    };
    char out[1024], err[1024], resp[1024];
    uint32_t sense = 0;

    start_two_portals(f, false);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = tu_ctl(f->d.sock, out, sizeof out, err, sizeof err, "alua", "set", cases[i].tpg, cases[i].state,
                        NULL);
        if (rc != cases[i].exit || tu_lines(err) != 1 || !strstr(err, cases[i].want))
            fail_msg("case %zu: exit %d, stderr \"%s\"", i, rc, err);
        assert_string_equal(out, "");
    }
    assert_int_equal(tu_ctl(f->d.sock, out, sizeof out, err, sizeof err, "alua", "set", "2", NULL), 2);
    assert_int_equal(tu_lines(err), 1);
    assert_int_equal(tu_ctl(f->d.sock, out, sizeof out, err, sizeof err, "alua", "flip", NULL), 2);
    assert_int_equal(tu_lines(err), 1);
    /* The daemon's own checks, without prtargetctl in front: JSON-RPC invalid params. */
    assert_int_equal(tu_rpc_raw(f->d.sock,
                                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"alua.set\",\"params\":{\"tpg\":2,"
                                "\"state\":\"sideways\"}}",
                                resp, sizeof resp),
                     0);
    assert_non_null(strstr(resp, "-32602"));
    assert_int_equal(tu_rpc_raw(f->d.sock,
                                "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"alua.set\",\"params\":{\"tpg\":2,"
                                "\"state\":\"standby\",\"lun\":0}}",
                                resp, sizeof resp),
                     0);
    assert_non_null(strstr(resp, "unknown parameter 'lun'"));
    /* Nothing changed and nothing was announced: both paths read at once. */
    assert_string_equal(shown_state(f, 1), "active-optimized");
    assert_string_equal(shown_state(f, 2), "active-optimized");
    assert_int_equal(read10(f->p1, f->lun1, &sense), SCSI_STATUS_GOOD);
    assert_int_equal(read10(f->p2, f->lun2, &sense), SCSI_STATUS_GOOD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_portals_report_two_groups_both_active_optimized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operator_standby_refuses_io_on_that_port_only_and_is_announced_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_unavailable_has_its_own_code_and_an_unchanged_state_is_not_announced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_file_starts_group_2_in_standby, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_alua_config_is_one_line_and_exit_2, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_bad_state_or_group_is_one_line_error_and_the_daemon_keeps_serving, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
