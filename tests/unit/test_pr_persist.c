/* Unit tests of prstate/pr_persist.c: the APTPL state file (SPC-4 5.13.4) and the JSON form of the state.
 *
 * Fixture topology (two target ports; "restart" = a fresh table and state attached to the same file):
 *
 *      A = iqn.a isid 400000000001 ── port 1 ──┐
 *      B = iqn.b isid 400000000002 ── port 2 ──┴── LU "lu-0" (st) ── DIR/lu0.prstate.json
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/prt_be.h"
#include "prstate/pr.h"

static const uint8_t isid_a[6] = { 0x40, 0, 0, 0, 0, 1 };
static const uint8_t isid_b[6] = { 0x40, 0, 0, 0, 0, 2 };

struct fx {
    char dir[64];
    char path[128];
    struct pr_itn_tab *tab;
    struct pr_state *st;
    uint32_t a, b;
    char err[512];
};

static void fx_open(struct fx *f)
{
    f->tab = pr_itn_tab_new(2);
    f->st = pr_state_new(f->tab);
    assert_int_equal(pr_state_set_lu_id(f->st, "lu-0"), 0);
    f->a = pr_itn_intern(f->tab, "iqn.a", isid_a, 1);
    f->b = pr_itn_intern(f->tab, "iqn.b", isid_b, 2);
}

static void fx_close(struct fx *f)
{
    pr_state_free(f->st);
    pr_itn_tab_free(f->tab);
    f->st = NULL;
    f->tab = NULL;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_pr_persist.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/lu0.prstate.json", f->dir);
    fx_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    fx_close(f);
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
    unlink(tmp);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static enum pr_status out_full(struct fx *f, uint32_t itn, uint8_t sa, uint8_t type, uint64_t key,
                               uint64_t sa_key, bool aptpl)
{
    struct pr_result res;
    pr_result_init(&res);
    struct pr_out_req r = { .sa = sa, .type = type, .key = key, .sa_key = sa_key, .aptpl = aptpl };
    enum pr_status s = pr_out(f->st, itn, &r, &res);
    pr_result_free(&res);
    return s;
}

static bool file_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void restart(struct fx *f)
{
    fx_close(f);
    fx_open(f);
    assert_int_equal(pr_state_attach_file(f->st, f->path, f->err, sizeof(f->err)), 0);
}

static char *slurp(const char *p)
{
    FILE *fp = fopen(p, "r");
    assert_non_null(fp);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void spit(const char *p, const char *s)
{
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(s, fp);
    fclose(fp);
}

static void test_attach_missing_file_loads_nothing_and_enables_ptpl_c(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_state_attach_file(f->st, f->path, f->err, sizeof(f->err)), 0);
    assert_int_equal(pr_state_reg_count(f->st), 0);
    uint8_t caps[8];
    enum pr_status s;
    pr_in(f->st, PR_IN_REPORT_CAPABILITIES, caps, sizeof(caps), &s);
    assert_int_equal(caps[2] & 0x01, 0x01); /* PTPL_C */
    assert_int_equal(caps[3] & 0x01, 0);    /* PTPL_A */
    assert_false(file_exists(f->path));
}

static void test_aptpl_register_writes_the_file_before_completing(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_state_attach_file(f->st, f->path, f->err, sizeof(f->err)), 0);
    assert_int_equal(out_full(f, f->a, PR_OUT_REGISTER, 0, 0, 0x123abc, true), PR_OK);
    assert_true(file_exists(f->path));
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
    assert_false(file_exists(tmp));
    const char *text = slurp(f->path);
    assert_non_null(strstr(text, "\"0x0000000000123abc\""));
    assert_non_null(strstr(text, "\"iqn.a,i,0x400000000001\""));
    assert_non_null(strstr(text, "\"lu-0\""));
    assert_true(pr_state_aptpl(f->st));
}

static void test_registrations_and_reservation_survive_restart_with_generation_zero(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_state_attach_file(f->st, f->path, f->err, sizeof(f->err)), 0);
    assert_int_equal(out_full(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa, true), PR_OK);
    assert_int_equal(out_full(f, f->b, PR_OUT_REGISTER, 0, 0, 0xb, true), PR_OK);
    assert_int_equal(out_full(f, f->b, PR_OUT_RESERVE, PR_TYPE_WE_RO, 0xb, 0, false), PR_OK);
    assert_int_equal(pr_state_generation(f->st), 2);
    restart(f);
    uint64_t k;
    assert_true(pr_state_registered(f->st, f->a, &k));
    assert_int_equal(k, 0xa);
    assert_true(pr_state_registered(f->st, f->b, &k));
    assert_int_equal(k, 0xb);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_true(ri.reserved);
    assert_int_equal(ri.holder, f->b);
    assert_int_equal(ri.type, PR_TYPE_WE_RO);
    /* SPC-4 6.15.2: PRgeneration is zero after power on. */
    assert_int_equal(pr_state_generation(f->st), 0);
    assert_true(pr_state_aptpl(f->st));
    assert_int_equal(pr_check_access(f->st, f->a, PR_ACCESS_WRITE), PR_OK);
}

static void test_device_registration_by_name_survives_restart_and_registers_a_later_login(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_state_attach_file(f->st, f->path, f->err, sizeof(f->err)), 0);
    /* A format 00b (name only) TransportID for an initiator device that has not logged in (SPC-4 7.6.4.6). */
    uint8_t tid[24] = { 0x05, 0, 0, 20 };
    memcpy(tid + 4, "iqn.later", 9);
    struct pr_result res;
    pr_result_init(&res);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 0x77, .spec_i_pt = true, .aptpl = true, .tid = tid,
                            .tid_len = sizeof(tid), .tid_off = 28 };
    assert_int_equal(pr_out(f->st, f->a, &r, &res), PR_OK);
    pr_result_free(&res);
    assert_non_null(strstr(slurp(f->path), "device_registrations"));
    restart(f);
    /* SPC-4 5.13.4: with APTPL the registration by name persists like any other. */
    assert_int_equal(pr_state_reg_count(f->st), 1);
    uint64_t key = 0;
    uint32_t later = pr_itn_intern(f->tab, "iqn.later", isid_b, 1);
    assert_true(pr_state_registered(f->st, later, &key));
    assert_int_equal(key, 0x77);
    /* The registration the login created reached the file as well. */
    restart(f);
    assert_int_equal(pr_state_reg_count(f->st), 2);
}

static void test_turning_aptpl_off_means_a_restart_restores_nothing(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_state_attach_file(f->st, f->path, f->err, sizeof(f->err)), 0);
    assert_int_equal(out_full(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa, true), PR_OK);
    assert_int_equal(out_full(f, f->a, PR_OUT_REGISTER, 0, 0xa, 0xa2, false), PR_OK);
    assert_false(pr_state_aptpl(f->st));
    restart(f);
    assert_int_equal(pr_state_reg_count(f->st), 0);
    assert_false(pr_state_aptpl(f->st));
}

static void test_state_without_aptpl_never_writes_a_file(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_state_attach_file(f->st, f->path, f->err, sizeof(f->err)), 0);
    assert_int_equal(out_full(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa, false), PR_OK);
    assert_false(file_exists(f->path));
}

static void test_write_failure_undoes_the_change_and_reports_persist_failed(void **state)
{
    struct fx *f = *state;
    char sub[96], p[160];
    snprintf(sub, sizeof(sub), "%s/gone", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(p, sizeof(p), "%s/state.json", sub);
    assert_int_equal(pr_state_attach_file(f->st, p, f->err, sizeof(f->err)), 0);
    assert_int_equal(rmdir(sub), 0);
    assert_int_equal(out_full(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa, true), PR_PERSIST_FAILED);
    assert_int_equal(pr_state_reg_count(f->st), 0);
    assert_int_equal(pr_state_generation(f->st), 0);
    assert_false(pr_state_aptpl(f->st));
}

static void write_valid_then(struct fx *f)
{
    assert_int_equal(pr_state_attach_file(f->st, f->path, f->err, sizeof(f->err)), 0);
    assert_int_equal(out_full(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa, true), PR_OK);
}

static void expect_refusal(struct fx *f, const char *field)
{
    fx_close(f);
    fx_open(f);
    f->err[0] = '\0';
    assert_int_equal(pr_state_attach_file(f->st, f->path, f->err, sizeof(f->err)), -EINVAL);
    assert_non_null(strstr(f->err, f->path));
    assert_non_null(strstr(f->err, field));
    assert_null(strchr(f->err, '\n'));
    assert_int_equal(pr_state_reg_count(f->st), 0);
}

static void test_corrupt_checksum_is_refused_naming_file_and_field(void **state)
{
    struct fx *f = *state;
    write_valid_then(f);
    char *text = slurp(f->path);
    char *k = strstr(text, "0x000000000000000a");
    assert_non_null(k);
    k[17] = 'b';
    spit(f->path, text);
    expect_refusal(f, "'checksum'");
}

static void test_unknown_version_is_refused(void **state)
{
    struct fx *f = *state;
    write_valid_then(f);
    char *text = slurp(f->path);
    char *v = strstr(text, "\"version\": 1");
    assert_non_null(v);
    v[11] = '7';
    spit(f->path, text);
    expect_refusal(f, "'version'");
}

static void test_truncated_json_is_refused(void **state)
{
    struct fx *f = *state;
    write_valid_then(f);
    char *text = slurp(f->path);
    text[strlen(text) / 2] = '\0';
    spit(f->path, text);
    expect_refusal(f, "'(json)'");
}

static void test_file_of_another_lu_is_refused(void **state)
{
    struct fx *f = *state;
    write_valid_then(f);
    fx_close(f);
    fx_open(f);
    assert_int_equal(pr_state_set_lu_id(f->st, "lu-1"), 0);
    assert_int_equal(pr_state_attach_file(f->st, f->path, f->err, sizeof(f->err)), -EINVAL);
    assert_non_null(strstr(f->err, "'lu'"));
}

static void test_file_naming_a_target_port_that_does_not_exist_is_refused(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_state_attach_file(f->st, f->path, f->err, sizeof(f->err)), 0);
    assert_int_equal(out_full(f, f->b, PR_OUT_REGISTER, 0, 0, 0xb, true), PR_OK);
    fx_close(f);
    f->tab = pr_itn_tab_new(1);
    f->st = pr_state_new(f->tab);
    assert_int_equal(pr_state_set_lu_id(f->st, "lu-0"), 0);
    assert_int_equal(pr_state_attach_file(f->st, f->path, f->err, sizeof(f->err)), -EINVAL);
    assert_non_null(strstr(f->err, "registrations[0].target_port"));
}

static void test_json_round_trip_keeps_everything_including_generation(void **state)
{
    struct fx *f = *state;
    assert_int_equal(out_full(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa, false), PR_OK);
    assert_int_equal(out_full(f, f->b, PR_OUT_REGISTER, 0, 0, 0xb, false), PR_OK);
    assert_int_equal(out_full(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA_AR, 0xa, 0, false), PR_OK);
    char *js = pr_state_to_json(f->st);
    assert_non_null(js);
    struct pr_itn_tab *tab2 = pr_itn_tab_new(2);
    struct pr_state *st2 = pr_state_new(tab2);
    assert_int_equal(pr_state_set_lu_id(st2, "lu-0"), 0);
    assert_int_equal(pr_state_from_json(st2, js, "ctl", f->err, sizeof(f->err)), 0);
    assert_int_equal(pr_state_generation(st2), 2);
    assert_int_equal(pr_state_reg_count(st2), 2);
    struct pr_resv_info ri;
    pr_state_reservation(st2, &ri);
    assert_true(ri.reserved);
    assert_int_equal(ri.type, PR_TYPE_EA_AR);
    char *js2 = pr_state_to_json(st2);
    pr_state_free(st2);
    pr_itn_tab_free(tab2);
    /* Ids may differ between tables, but the text names nexuses, not ids. */
    assert_string_equal(js, js2);
    free(js);
    free(js2);
}

static void test_from_json_error_leaves_the_state_unchanged(void **state)
{
    struct fx *f = *state;
    assert_int_equal(out_full(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa, false), PR_OK);
    assert_int_equal(pr_state_from_json(f->st, "{\"format\": \"nope\"}", "ctl", f->err, sizeof(f->err)), -EINVAL);
    assert_non_null(strstr(f->err, "ctl: field 'format'"));
    assert_int_equal(pr_state_reg_count(f->st), 1);
    assert_int_equal(pr_state_generation(f->st), 1);
}

/* An operator reset (prtargetctl pr reset) rewrites the state file: a restart must not bring back the cleared
 * APTPL registrations. */
static void test_operator_reset_rewrites_the_state_file(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_state_attach_file(f->st, f->path, f->err, sizeof(f->err)), 0);
    assert_int_equal(out_full(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa, true), PR_OK);
    pr_state_reset(f->st);
    assert_int_equal(pr_state_save(f->st), 0);
    restart(f);
    assert_int_equal(pr_state_reg_count(f->st), 0);
    assert_false(pr_state_registered(f->st, f->a, NULL));
}

/* An operator load (prtargetctl pr load) reaches the state file too, so the loaded APTPL state survives. */
static void test_operator_load_is_saved_and_survives_restart(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_state_attach_file(f->st, f->path, f->err, sizeof(f->err)), 0);
    assert_int_equal(out_full(f, f->a, PR_OUT_REGISTER, 0, 0, 0xa, true), PR_OK);
    char *text = pr_state_to_json(f->st);
    assert_non_null(text);
    pr_state_reset(f->st);
    assert_int_equal(pr_state_save(f->st), 0);
    assert_int_equal(pr_state_from_json(f->st, text, "test", f->err, sizeof(f->err)), 0);
    free(text);
    assert_int_equal(pr_state_save(f->st), 0);
    restart(f);
    uint64_t k;
    assert_true(pr_state_registered(f->st, f->a, &k));
    assert_int_equal(k, 0xa);
}

/* A state with no file has nothing to save, and that is not an error. */
static void test_save_without_a_state_file_is_a_no_op(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_state_save(f->st), 0);
    assert_false(file_exists(f->path));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_attach_missing_file_loads_nothing_and_enables_ptpl_c),
        T(test_aptpl_register_writes_the_file_before_completing),
        T(test_registrations_and_reservation_survive_restart_with_generation_zero),
        T(test_turning_aptpl_off_means_a_restart_restores_nothing),
        T(test_state_without_aptpl_never_writes_a_file),
        T(test_write_failure_undoes_the_change_and_reports_persist_failed),
        T(test_corrupt_checksum_is_refused_naming_file_and_field),
        T(test_unknown_version_is_refused),
        T(test_truncated_json_is_refused),
        T(test_file_of_another_lu_is_refused),
        T(test_file_naming_a_target_port_that_does_not_exist_is_refused),
        T(test_json_round_trip_keeps_everything_including_generation),
        T(test_device_registration_by_name_survives_restart_and_registers_a_later_login),
        T(test_from_json_error_leaves_the_state_unchanged),
        T(test_operator_reset_rewrites_the_state_file),
        T(test_operator_load_is_saved_and_survives_restart),
        T(test_save_without_a_state_file_is_a_no_op),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
