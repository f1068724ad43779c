/* Several targets in one prtarget (docs/config.md "Several targets"), seen from libiscsi initiators and
 * prtargetctl.
 *
 *   it_tools_multi ──writes──> DIR/prt.json ──spawns──> prtarget --config DIR/prt.json --control DIR/ctl.sock
 *
 *   portal P1 127.0.0.1:0 ─┬─ target A  (TPGT 1)  LU 0: 16 MiB               every initiator
 *                          └─ target B  (TPGT 1)  LU 0, LU 1: 8 MiB each     ACL: initiator-a only
 *   portal P2 127.0.0.2:0 ─── target B  (TPGT 2)
 *
 * Events go to DIR/events.jsonl (the config's event_log) as well as to `prtargetctl events`.
 *
 * The readiness lines are read here (A: 1 portal x 1 LU, B: 2 portals x 2 LUs) because the shared itest helper
 * counts the lines of one target only.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "tests/integration/tools/tools_util.h"

#define TA "iqn.2026-11.org.prtarget.test:multi-a"
#define TB "iqn.2026-11.org.prtarget.test:multi-b"
#define N_READY 5u

struct fx {
    char dir[256], cfg[300], sock[300], events[300];
    pid_t pid;
    int out_fd;
    char p1[64], p2[64]; /* the two bound portals, "127.0.0.1:41234" */
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Read one "prtarget: ready iscsi://HOST:PORT/IQN/LUN" line; 0 or -1 (timeout, EOF, malformed). */
static int read_ready(struct fx *f, char *portal, size_t pcap, char *iqn, size_t icap)
{
    char line[512];
    size_t n = 0;
    long deadline = now_ms() + 20000;
    while (n + 1 < sizeof line) {
        struct pollfd p = { .fd = f->out_fd, .events = POLLIN };
        if (now_ms() > deadline || poll(&p, 1, 200) < 0)
            return -1;
        if (!p.revents)
            continue;
        if (read(f->out_fd, &line[n], 1) != 1)
            return -1;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    const char *pre = "prtarget: ready iscsi://";
    if (strncmp(line, pre, strlen(pre)) != 0)
        return -1;
    const char *hp = line + strlen(pre), *s1 = strchr(hp, '/'), *s2 = s1 ? strrchr(s1 + 1, '/') : NULL;
    if (!s1 || !s2)
        return -1;
    snprintf(portal, pcap, "%.*s", (int)(s1 - hp), hp);
    snprintf(iqn, icap, "%.*s", (int)(s2 - s1 - 1), s1 + 1);
    return 0;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f || itest_mkdtemp(f->dir, sizeof f->dir) != 0)
        return -1;
    snprintf(f->cfg, sizeof f->cfg, "%s/prt.json", f->dir);
    snprintf(f->sock, sizeof f->sock, "%s/ctl.sock", f->dir);
    snprintf(f->events, sizeof f->events, "%s/events.jsonl", f->dir);
    FILE *fp = fopen(f->cfg, "w");
    if (!fp)
        return -1;
    fprintf(fp,
            "{\"targets\":[\n"
            " {\"name\":\"%s\",\"portals\":[\"127.0.0.1:0\"],\"luns\":[{\"size\":\"16M\"}]},\n"
            " {\"name\":\"%s\",\"portals\":[\"127.0.0.1:0\",\"127.0.0.2:0\"],\n"
            "  \"luns\":[{\"size\":\"8M\"},{\"size\":\"8M\"}],\"acl\":[\"%s\"]}\n"
            "],\"control\":\"%s\",\"event_log\":\"%s\"}\n",
            TA, TB, ITEST_INAME_A, f->sock, f->events);
    fclose(fp);
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    f->pid = fork();
    if (f->pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0 && !getenv("IT_VERBOSE"))
            dup2(null, 2);
        execl(itest_prtarget_path(), "prtarget", "--config", f->cfg, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    f->out_fd = pfd[0];
    if (f->pid < 0)
        return -1;
    for (unsigned i = 0; i < N_READY; i++) {
        char portal[64], iqn[256];
        if (read_ready(f, portal, sizeof portal, iqn, sizeof iqn) != 0) {
            fprintf(stderr, "it_tools_multi: prtarget not ready (%u of %u lines)\n", i, N_READY);
            return -1;
        }
        if (strncmp(portal, "127.0.0.1:", 10) == 0)
            snprintf(f->p1, sizeof f->p1, "%s", portal);
        else
            snprintf(f->p2, sizeof f->p2, "%s", portal);
    }
    *state = f;
    return f->p1[0] && f->p2[0] ? 0 : -1;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int st = 0;
    kill(f->pid, SIGTERM);
    waitpid(f->pid, &st, 0);
    close(f->out_fd);
    itest_rmdir(f->dir);
    free(f);
    /* design.md: SIGTERM is an orderly stop, exit 0. */
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static struct iscsi_context *login(const char *portal, const char *target, int lun, const char *iname)
{
    char url[400];
    snprintf(url, sizeof url, "iscsi://%s/%s/%d", portal, target, lun);
    return itest_login(url, iname, ISCSI_HEADER_DIGEST_NONE, NULL);
}

/* The discovery answer as "NAME=portal,portal;NAME=..." in the order the target sent it. */
static void discover(const char *portal, const char *iname, char *out, size_t cap)
{
    struct iscsi_context *c = iscsi_create_context(iname);
    assert_non_null(c);
    iscsi_set_session_type(c, ISCSI_SESSION_DISCOVERY);
    assert_int_equal(iscsi_full_connect_sync(c, portal, -1), 0);
    struct iscsi_discovery_address *da = iscsi_discovery_sync(c);
    size_t n = 0;
    out[0] = '\0';
    for (struct iscsi_discovery_address *a = da; a; a = a->next) {
        n += (size_t)snprintf(out + n, cap - n, "%s=", a->target_name);
        for (struct iscsi_target_portal *p = a->portals; p; p = p->next)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", p->portal, p->next ? "," : "");
        n += (size_t)snprintf(out + n, cap - n, ";");
    }
    if (da)
        iscsi_free_discovery_data(c, da);
    iscsi_logout_sync(c);
    iscsi_destroy_context(c);
}

static void test_discovery_lists_each_target_with_the_portals_and_tpgts_that_expose_it(void **state)
{
    struct fx *f = *state;
    char got[2048], want[1024];
    /* RFC 7143 Appendix C / 13.8: each target with every portal that exposes it and its own tag there. */
    discover(f->p1, ITEST_INAME_A, got, sizeof got);
    snprintf(want, sizeof want, "%s=%s,1;%s=%s,1,%s,2;", TA, f->p1, TB, f->p1, f->p2);
    assert_string_equal(got, want);
    /* Target B's access list leaves initiator-b out: it hears of A only. */
    discover(f->p2, ITEST_INAME_B, got, sizeof got);
    snprintf(want, sizeof want, "%s=%s,1;", TA, f->p1);
    assert_string_equal(got, want);
}

static void test_logins_reach_each_targets_own_lus_and_a_portal_not_exposing_a_target_refuses_it(void **state)
{
    struct fx *f = *state;
    struct iscsi_context *a = login(f->p1, TA, 0, ITEST_INAME_A);
    struct iscsi_context *b = login(f->p1, TB, 0, ITEST_INAME_A);
    assert_non_null(a);
    assert_non_null(b);
    uint8_t pat[4096], back[4096];
    itest_pattern(pat, sizeof pat, 0x5eed);
    struct scsi_task *t = iscsi_write10_sync(a, 0, 8, pat, sizeof pat, 512, 0, 0, 0, 0, 0);
    assert_non_null(t);
    assert_int_equal(t->status, SCSI_STATUS_GOOD);
    scsi_free_scsi_task(t);
    t = iscsi_read10_sync(a, 0, 8, sizeof back, 512, 0, 0, 0, 0, 0);
    assert_non_null(t);
    assert_int_equal(t->status, SCSI_STATUS_GOOD);
    assert_memory_equal(t->datain.data, pat, sizeof pat);
    scsi_free_scsi_task(t);
    /* Target B is another SCSI target device: its LU 0 (8 MiB) does not hold what was written to A's LU 0. */
    t = iscsi_readcapacity16_sync(b, 0);
    assert_non_null(t);
    assert_int_equal(t->status, SCSI_STATUS_GOOD);
    struct scsi_readcapacity16 *rc16 = scsi_datain_unmarshall(t);
    assert_non_null(rc16);
    assert_int_equal(rc16->returned_lba + 1, (8u << 20) / 512);
    scsi_free_scsi_task(t);
    t = iscsi_read10_sync(b, 0, 8, sizeof back, 512, 0, 0, 0, 0, 0);
    assert_non_null(t);
    assert_int_equal(t->status, SCSI_STATUS_GOOD);
    assert_memory_not_equal(t->datain.data, pat, sizeof pat);
    scsi_free_scsi_task(t);
    /* B's second LU is reachable through B's own portal. */
    struct iscsi_context *b1 = login(f->p2, TB, 1, ITEST_INAME_A);
    assert_non_null(b1);
    itest_logout(b1);
    /* RFC 7143 11.13.5: A does not exist at P2 (Not found). */
    assert_null(login(f->p2, TA, 0, ITEST_INAME_A));

    /* `sessions` names the target of each session. */
    json_t *ss = tu_ctl_json(f->sock, "sessions", NULL);
    assert_int_equal(json_array_size(ss), 2);
    unsigned seen_a = 0, seen_b = 0;
    for (size_t i = 0; i < json_array_size(ss); i++) {
        const char *tn = json_string_value(json_object_get(json_array_get(ss, i), "target"));
        assert_non_null(tn);
        seen_a += strcmp(tn, TA) == 0;
        seen_b += strcmp(tn, TB) == 0;
    }
    assert_int_equal(seen_a, 1);
    assert_int_equal(seen_b, 1);
    json_decref(ss);
    itest_logout(a);
    itest_logout(b);
}

static void test_pr_state_is_separate_per_target_and_prtargetctl_target_shows_each(void **state)
{
    struct fx *f = *state;
    struct iscsi_context *a = login(f->p1, TA, 0, ITEST_INAME_A);
    struct iscsi_context *b = login(f->p1, TB, 0, ITEST_INAME_A);
    assert_non_null(a);
    assert_non_null(b);
    uint64_t keys[8];
    uint32_t gen = 0;
    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0xa1, false, NULL), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.1: persistent reservations belong to a logical unit of one SCSI target device. */
    assert_int_equal(tu_read_keys(b, 0, keys, 8, &gen), 0);
    assert_int_equal(gen, 0);
    assert_int_equal(tu_pr_out(b, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0xb2, false, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(tu_read_keys(a, 0, keys, 8, &gen), 1);
    assert_int_equal(keys[0], 0xa1);

    json_t *pa = tu_ctl_json(f->sock, "pr", "show", "0", NULL);
    json_t *pb = tu_ctl_json(f->sock, "--target", TB, "pr", "show", "0", NULL);
    assert_non_null(pa);
    assert_non_null(pb);
    json_t *ra = json_object_get(json_array_get(pa, 0), "registrations");
    json_t *rb = json_object_get(json_array_get(pb, 0), "registrations");
    assert_int_equal(json_array_size(ra), 1);
    assert_int_equal(json_array_size(rb), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ra, 0), "key")), "0x00000000000000a1");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rb, 0), "key")), "0x00000000000000b2");
    json_decref(pa);
    json_decref(pb);

    /* pr reset of B leaves A's registration. */
    char out[4096], err[1024];
    assert_int_equal(tu_ctl(f->sock, out, sizeof out, err, sizeof err, "--target", TB, "pr", "reset", NULL), 0);
    assert_int_equal(tu_read_keys(b, 0, keys, 8, &gen), 0);
    assert_int_equal(tu_read_keys(a, 0, keys, 8, &gen), 1);
    /* An unknown target is one line on stderr and a non-zero exit; the daemon keeps serving. */
    assert_int_not_equal(tu_ctl(f->sock, out, sizeof out, err, sizeof err, "--target", "iqn.2026-11.org.nosuch:x",
                                "pr", "show", NULL),
                         0);
    assert_non_null(strstr(err, "not a target"));
    assert_int_equal(tu_lines(err), 1);
    assert_int_equal(tu_tur(a, 0, NULL), SCSI_STATUS_GOOD);
    itest_logout(a);
    itest_logout(b);
}

static void test_acl_is_enforced_per_target(void **state)
{
    struct fx *f = *state;
    /* RFC 7143 11.13.5: B refuses initiator-b (authorization failure); A, without a list, lets it in. */
    assert_null(login(f->p1, TB, 0, ITEST_INAME_B));
    assert_null(login(f->p2, TB, 0, ITEST_INAME_B));
    struct iscsi_context *a = login(f->p1, TA, 0, ITEST_INAME_B);
    assert_non_null(a);
    assert_int_equal(tu_tur(a, 0, NULL), SCSI_STATUS_GOOD);
    itest_logout(a);
}

/* The first object of arr whose member k is the string v, or NULL. */
static json_t *find_by(json_t *arr, const char *k, const char *v)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_object_get(json_array_get(arr, i), k));
        if (s && strcmp(s, v) == 0)
            return json_array_get(arr, i);
    }
    return NULL;
}

/* docs/control.md "Several targets": the one event log takes every target's PR OUT outcomes, each naming the
 * target whose logical unit it happened on. */
static void test_events_of_every_target_reach_the_log_and_name_their_target(void **state)
{
    struct fx *f = *state;
    struct iscsi_context *a = login(f->p1, TA, 0, ITEST_INAME_A);
    struct iscsi_context *b = login(f->p2, TB, 1, ITEST_INAME_A);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(tu_pr_out(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0xa1, false, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(tu_pr_out(b, 1, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0xb2, false, NULL), SCSI_STATUS_GOOD);

    char resp[65536];
    assert_int_equal(tu_rpc_raw(f->sock, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"events\"}", resp, sizeof resp), 0);
    json_t *rsp = json_loads(resp, 0, NULL);
    assert_non_null(rsp);
    json_t *ev = json_object_get(rsp, "result");
    assert_true(json_is_array(ev));
    json_t *ea = find_by(ev, "sa_key", "0x00000000000000a1");
    json_t *eb = find_by(ev, "sa_key", "0x00000000000000b2");
    assert_non_null(ea);
    assert_non_null(eb);
    assert_string_equal(json_string_value(json_object_get(ea, "target")), TA);
    assert_string_equal(json_string_value(json_object_get(eb, "target")), TB);
    assert_int_equal(json_integer_value(json_object_get(eb, "lun")), 1);
    /* The nexus is named from B's own I_T nexus table: B's port on P2 is relative target port 2. */
    json_t *nx = json_object_get(eb, "nexus");
    assert_string_equal(json_string_value(json_object_get(nx, "initiator")), ITEST_INAME_A);
    assert_int_equal(json_integer_value(json_object_get(nx, "target_port")), 2);
    json_decref(rsp);
    /* prtargetctl events names the target at the end of each line. */
    char out[16384], err[1024];
    assert_int_equal(tu_ctl(f->sock, out, sizeof out, err, sizeof err, "events", NULL), 0);
    assert_non_null(strstr(out, " on " TB "\n"));
    assert_non_null(strstr(out, " on " TA "\n"));

    /* The file has the same lines: every one names a target, and B's is among them. */
    FILE *fp = fopen(f->events, "r");
    assert_non_null(fp);
    char line[2048];
    unsigned n = 0, of_b = 0;
    while (fgets(line, sizeof line, fp)) {
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        const char *tn = json_string_value(json_object_get(o, "target"));
        assert_non_null(tn);
        of_b += strcmp(tn, TB) == 0;
        n++;
        json_decref(o);
    }
    fclose(fp);
    assert_true(n >= 2);
    assert_true(of_b >= 1);
    itest_logout(a);
    itest_logout(b);
}

/* SPC-4 5.16: each target's target port groups are its own; docs/control.md: alua.set with "target". */
static void test_alua_set_on_b_changes_only_bs_group(void **state)
{
    struct fx *f = *state;
    char out[4096], err[1024];
    /* Logged in before the change: libiscsi's login probes the LU with commands a standby port refuses. */
    struct iscsi_context *b = login(f->p2, TB, 0, ITEST_INAME_A);
    struct iscsi_context *a = login(f->p1, TA, 0, ITEST_INAME_A);
    assert_non_null(b);
    assert_non_null(a);
    assert_int_equal(
        tu_ctl(f->sock, out, sizeof out, err, sizeof err, "--target", TB, "alua", "set", "2", "standby", NULL), 0);
    assert_non_null(strstr(out, "active-optimized -> standby"));

    json_t *gb = tu_ctl_json(f->sock, "--target", TB, "alua", "show", NULL);
    json_t *ga = tu_ctl_json(f->sock, "alua", "show", NULL);
    assert_non_null(gb);
    assert_non_null(ga);
    assert_int_equal(json_array_size(gb), 2);
    assert_int_equal(json_array_size(ga), 1);
    json_t *b2 = json_array_get(gb, 1);
    assert_string_equal(json_string_value(json_object_get(b2, "state")), "standby");
    /* B's group 2 is B's second portal, P2, not the first target's table. */
    assert_string_equal(json_string_value(json_array_get(json_object_get(b2, "portals"), 0)), f->p2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(gb, 0), "state")), "active-optimized");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ga, 0), "state")), "active-optimized");
    json_decref(ga);
    json_decref(gb);
    /* A has one portal, so one group: group 2 of A does not exist. */
    assert_int_not_equal(tu_ctl(f->sock, out, sizeof out, err, sizeof err, "alua", "set", "2", "standby", NULL), 0);
    assert_int_equal(tu_lines(err), 1);

    /* SPC-4 5.16.2.4.4: a READ through B's standby port is refused with NOT READY / 04h 0Bh; A's LU through
     * the shared portal still reads. */
    struct scsi_task *t = NULL;
    /* SPC-4 5.16.2.2: the state change is first announced as a unit attention (2Ah/06h), then READ is refused. */
    for (int i = 0; i < 3; i++) {
        if (t)
            scsi_free_scsi_task(t);
        t = iscsi_read10_sync(b, 0, 0, 512, 512, 0, 0, 0, 0, 0);
        assert_non_null(t);
        if (t->status != SCSI_STATUS_CHECK_CONDITION || t->sense.key != SCSI_SENSE_UNIT_ATTENTION)
            break;
    }
    assert_non_null(t);
    assert_int_equal(t->status, SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(t->sense.key, SCSI_SENSE_NOT_READY);
    assert_int_equal(t->sense.ascq, 0x040b);
    scsi_free_scsi_task(t);
    t = iscsi_read10_sync(a, 0, 0, 512, 512, 0, 0, 0, 0, 0);
    assert_non_null(t);
    assert_int_equal(t->status, SCSI_STATUS_GOOD);
    scsi_free_scsi_task(t);
    itest_logout(a);
    itest_logout(b);
}

/* docs/control.md: without --target, status, luns and watch show every target, grouped; with it, that one. */
static void test_status_luns_and_watch_list_both_targets_unless_one_is_named(void **state)
{
    struct fx *f = *state;
    char out[16384], err[1024];
    struct iscsi_context *b = login(f->p1, TB, 0, ITEST_INAME_A);
    assert_non_null(b);

    json_t *st = tu_ctl_json(f->sock, "status", NULL);
    assert_non_null(st);
    json_t *ts = json_object_get(st, "targets");
    assert_int_equal(json_array_size(ts), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ts, 0), "name")), TA);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ts, 1), "name")), TB);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ts, 0), "luns")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ts, 1), "luns")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ts, 0), "sessions")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ts, 1), "sessions")), 1);
    assert_int_equal(json_array_size(json_object_get(json_array_get(ts, 1), "portals")), 2);
    json_decref(st);
    st = tu_ctl_json(f->sock, "--target", TB, "status", NULL);
    assert_non_null(st);
    assert_string_equal(json_string_value(json_object_get(st, "target")), TB);
    assert_null(json_object_get(st, "targets"));
    json_decref(st);

    json_t *lu = tu_ctl_json(f->sock, "luns", NULL);
    assert_int_equal(json_array_size(lu), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(lu, 0), "target")), TA);
    assert_string_equal(json_string_value(json_object_get(json_array_get(lu, 2), "target")), TB);
    json_decref(lu);
    assert_int_equal(tu_ctl(f->sock, out, sizeof out, err, sizeof err, "luns", NULL), 0);
    assert_non_null(strstr(out, "target " TA "\n"));
    assert_non_null(strstr(out, "target " TB "\n"));

    assert_int_equal(tu_ctl(f->sock, out, sizeof out, err, sizeof err, "watch", "--frames", "1", NULL), 0);
    const char *wa = strstr(out, "== target " TA " ==");
    const char *wb = strstr(out, "== target " TB " ==");
    assert_non_null(wa);
    assert_non_null(wb);
    assert_true(wa < wb);
    /* B's session is listed under B only. */
    const char *first = strstr(wa, ITEST_INAME_A);
    assert_true(first == NULL || first > wb);
    assert_non_null(strstr(wb, ITEST_INAME_A));
    assert_int_equal(tu_ctl(f->sock, out, sizeof out, err, sizeof err, "--target", TB, "watch", "--frames", "1",
                            NULL),
                     0);
    assert_null(strstr(out, "== target"));
    assert_non_null(strstr(out, "target " TB));
    itest_logout(b);
}

/* docs/control.md fault.drop_nexus: with "target", only the initiator's sessions to that target are dropped;
 * without it, its sessions to every target. */
static void test_drop_nexus_with_target_drops_only_that_targets_sessions(void **state)
{
    struct fx *f = *state;
    char out[4096], err[1024];
    struct iscsi_context *a = login(f->p1, TA, 0, ITEST_INAME_A);
    struct iscsi_context *b = login(f->p1, TB, 0, ITEST_INAME_A);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(
        tu_ctl(f->sock, out, sizeof out, err, sizeof err, "--target", TB, "fault", "drop-nexus", ITEST_INAME_A, NULL),
        0);
    json_t *ss = NULL;
    for (int i = 0; i < 50; i++) {
        json_decref(ss);
        ss = tu_ctl_json(f->sock, "sessions", NULL);
        if (json_array_size(ss) == 1)
            break;
        usleep(20000);
    }
    assert_int_equal(json_array_size(ss), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ss, 0), "target")), TA);
    json_decref(ss);
    assert_int_equal(tu_tur(a, 0, NULL), SCSI_STATUS_GOOD);
    /* No session of the initiator is left on B: a second drop there fails, one line. */
    assert_int_not_equal(
        tu_ctl(f->sock, out, sizeof out, err, sizeof err, "--target", TB, "fault", "drop-nexus", ITEST_INAME_A, NULL),
        0);
    assert_non_null(strstr(err, TB));
    itest_logout(a);
    iscsi_destroy_context(b);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_discovery_lists_each_target_with_the_portals_and_tpgts_that_expose_it,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_logins_reach_each_targets_own_lus_and_a_portal_not_exposing_a_target_refuses_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pr_state_is_separate_per_target_and_prtargetctl_target_shows_each,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_acl_is_enforced_per_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_of_every_target_reach_the_log_and_name_their_target, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_alua_set_on_b_changes_only_bs_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_luns_and_watch_list_both_targets_unless_one_is_named, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_drop_nexus_with_target_drops_only_that_targets_sessions, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
