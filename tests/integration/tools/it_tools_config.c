/* The --config file and PR profiles against a live prtarget: refused configs, what a good one serves (seen from
 * libiscsi), how flags combine with the file (docs/config.md), and what each PR profile reports and refuses.
 *
 *   it_tools_config ──writes──> DIR/prt.json
 *        ├──spawns──> prtarget --config DIR/prt.json --listen 127.0.0.1:0 [--pr-profile P] [--target IQN]
 *        ├──runs──> prtargetctl --socket DIR/ctl.sock {luns,status}
 *        └── initiator-a (libiscsi) ──> LUN 0, 1
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

/* Each test may start one daemon; teardown stops it even when an assertion ended the test early. */
struct fx {
    struct tu_daemon d;
    bool up;
    char dir[256];
    char path[400];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f || itest_mkdtemp(f->dir, sizeof f->dir) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/prt.json", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = f->up ? tu_stop(&f->d) : 0;
    itest_rmdir(f->dir);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void start(struct fx *f, const char *const *args)
{
    assert_int_equal(tu_start(&f->d, args), 0);
    f->up = true;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_bad_config_is_refused_with_file_json_path_and_problem_on_one_line(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *want;
    } cases[] = {
        { "{\"targets\":[{\"luns\":[{\"size\":\"1M\"},{\"size\":\"12X\"}]}]}",
          "targets[0].luns[1].size: \"12X\" is not a size" },
        { "{\"targets\":[{\"lunz\":[]}]}", "targets[0].lunz: unknown key" },
        { "{\"targets\":[{\"luns\":[{\"size\":\"1M\",\"block_size\":1000}]}]}", "targets[0].luns[0].block_size" },
        { "{\"targets\":[{\"luns\":[{\"size\":\"1M\",\"pr\":{\"profile\":\"dlt-s5\"}}]}]}",
          "targets[0].luns[0].pr.profile: \"dlt-s5\" is not a PR profile" },
        { "{\"targets\":[{\"luns\":[{\"backend\":\"file\"}]}]}", "targets[0].luns[0].path: a file LU needs a path" },
        { "{\"targets\":[{\"luns\":[{\"size\":\"1M\",\"identity\":{\"vendor\":\"TOOLONGVENDOR\"}}]}]}",
          "targets[0].luns[0].identity.vendor: longer than 8" },
        { "{\"targets\":[{\"luns\":[{\"size\":\"1M\",\"identity\":{\"naa\":\"0x1234\"}}]}]}",
          "targets[0].luns[0].identity.naa" },
        { "{\"targets\":[{\"portals\":[\"localhost\"]}]}", "targets[0].portals[0]" },
        { "{\"targets\":[{\"name\":\"disk\"}]}", "targets[0].name" },
        { "{\"targets\":[{},{\"luns\":[{\"size\":\"1Q\"}]}]}", "targets[1].luns[0].size" },
        { "{\"targets\":[{},{}]}", "targets[1].name: every target after the first needs a name" },
        { "{\"targets\":[{\"acl\":[\"iqn 2026\"]}]}", "targets[0].acl[0]" },
        { "{\"targets\":[{\"chap\":{\"user\":\"u\",\"secret\":\"short\"}}]}", "targets[0].chap.secret" },
        { "{\"targets\":[]}", "targets: expected a non-empty list" },
        { "{\"targets\":[{}],\"log_level\":\"loud\"}", "log_level" },
        { "{\"targets\":[{}], \"targets\":[{}]}", "line 1" },
        { "[1,2", "line 1" },
    };
    char dir[256], path[400];
    assert_int_equal(itest_mkdtemp(dir, sizeof dir), 0);
    snprintf(path, sizeof path, "%s/prt.json", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[1024], err[2048];
        write_file(path, cases[i].json);
        const char *args[] = { "--config", path, NULL };
        int rc = itest_run(args, out, sizeof out, err, sizeof err);
        if (rc != 2 || tu_lines(err) != 1 || !strstr(err, cases[i].want) || !strstr(err, path))
            fprintf(stderr, "case %zu: exit %d, stderr: %s", i, rc, err);
        assert_int_equal(rc, 2);
        assert_int_equal(tu_lines(err), 1);
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, cases[i].want));
    }
    itest_rmdir(dir);
}

static void test_config_serves_its_luns_with_their_identity_and_block_size(void **state)
{
    struct fx *f = *state;
    char json[1024];
    const char *path = f->path;
    snprintf(json, sizeof json,
             "{\"version\":1,\"targets\":[{\"name\":\"iqn.2026-11.org.prtarget:cfg\",\"luns\":["
             "{\"backend\":\"mem\",\"size\":\"8M\",\"identity\":{\"vendor\":\"ACME\",\"product\":\"Widget\","
             "\"serial\":\"SN-0001\",\"naa\":\"0x5001405aabbccdd1\"}},"
             "{\"size\":\"16M\",\"block_size\":4096,\"read_only\":true}],"
             "\"acl\":[],\"pr\":{\"profile\":\"full\"}}]}");
    write_file(path, json);
    const char *args[] = { "--config", path, NULL };
    start(f, args);

    json_t *lu = tu_ctl_json(f->d.sock, "luns", NULL);
    assert_int_equal(json_array_size(lu), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(lu, 0), "serial")), "SN-0001");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(lu, 1), "block_size")), 4096);
    assert_true(json_is_true(json_object_get(json_array_get(lu, 1), "read_only")));
    json_decref(lu);
    json_t *st = tu_ctl_json(f->d.sock, "status", NULL);
    assert_string_equal(json_string_value(json_object_get(st, "target")), "iqn.2026-11.org.prtarget:cfg");
    json_decref(st);

    struct iscsi_context *a = itest_login(f->d.t.url[0], ITEST_INAME_A, ISCSI_HEADER_DIGEST_NONE, NULL);
    assert_non_null(a);
    struct scsi_task *t = iscsi_inquiry_sync(a, 0, 0, 0, 96);
    assert_non_null(t);
    struct scsi_inquiry_standard *inq = scsi_datain_unmarshall(t);
    assert_non_null(inq);
    /* SPC-4 6.6.2: the identification fields are padded with spaces. */
    assert_true(strncmp(inq->vendor_identification, "ACME    ", 8) == 0);
    assert_true(strncmp(inq->product_identification, "Widget", 6) == 0);
    scsi_free_scsi_task(t);
    /* SPC-4 7.8.6: the Device Identification VPD page carries the configured NAA 5h designator as it is. */
    t = iscsi_inquiry_sync(a, 0, 1, SCSI_INQUIRY_PAGECODE_DEVICE_IDENTIFICATION, 255);
    assert_non_null(t);
    struct scsi_inquiry_device_identification *did = scsi_datain_unmarshall(t);
    assert_non_null(did);
    bool naa_seen = false;
    for (struct scsi_inquiry_device_designator *d = did->designators; d; d = d->next) {
        if (d->designator_type != SCSI_DESIGNATOR_TYPE_NAA || d->association != SCSI_ASSOCIATION_LOGICAL_UNIT)
            continue;
        assert_int_equal(d->designator_length, 8);
        assert_memory_equal(d->designator, "\x50\x01\x40\x5a\xab\xbc\xcd\xd1", 8);
        naa_seen = true;
    }
    assert_true(naa_seen);
    scsi_free_scsi_task(t);
    /* SBC-3 5.16: READ CAPACITY(16) reports the configured 4096-byte blocks of LUN 1. */
    itest_clear_ua(a, 1);
    t = iscsi_readcapacity16_sync(a, 1);
    assert_non_null(t);
    assert_int_equal(t->status, SCSI_STATUS_GOOD);
    struct scsi_readcapacity16 *rc16 = scsi_datain_unmarshall(t);
    assert_non_null(rc16);
    assert_int_equal(rc16->block_length, 4096);
    assert_int_equal(rc16->returned_lba + 1, (16 << 20) / 4096);
    scsi_free_scsi_task(t);
    itest_logout(a);
}

static void test_flags_override_the_config_file(void **state)
{
    struct fx *f = *state;
    const char *path = f->path;
    write_file(path, "{\"targets\":[{\"name\":\"iqn.2026-11.org.prtarget:file\",\"luns\":[{\"size\":\"8M\"},"
                     "{\"size\":\"8M\"}],\"pr\":{\"profile\":\"spc3\"}}]}");
    const char *args[] = { "--config", path, "--target", "iqn.2026-11.org.prtarget:flag", "--lun", "mem:4M",
                           "--pr-profile", "sl150", NULL };
    start(f, args);
    json_t *st = tu_ctl_json(f->d.sock, "status", NULL);
    assert_string_equal(json_string_value(json_object_get(st, "target")), "iqn.2026-11.org.prtarget:flag");
    json_decref(st);
    /* --lun replaces the file's list as a whole; --pr-profile wins over the file's profile. */
    json_t *lu = tu_ctl_json(f->d.sock, "luns", NULL);
    assert_int_equal(json_array_size(lu), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(lu, 0), "size")), 4 << 20);
    assert_string_equal(json_string_value(json_object_get(json_array_get(lu, 0), "pr_profile")), "sl150");
    json_decref(lu);
}

static void test_unknown_pr_profile_flag_exits_2_with_one_line(void **state)
{
    (void)state;
    char out[1024], err[2048];
    const char *args[] = { "--pr-profile", "dlt-s9", NULL };
    assert_int_equal(itest_run(args, out, sizeof out, err, sizeof err), 2);
    assert_int_equal(tu_lines(err), 1);
    assert_non_null(strstr(err, "--pr-profile dlt-s9"));
}

static uint16_t type_mask(struct iscsi_context *a, int lun)
{
    struct scsi_task *t = iscsi_persistent_reserve_in_sync(a, lun, SCSI_PERSISTENT_RESERVE_REPORT_CAPABILITIES, 8);
    assert_non_null(t);
    assert_int_equal(t->status, SCSI_STATUS_GOOD);
    struct scsi_persistent_reserve_in_report_capabilities *rc = scsi_datain_unmarshall(t);
    assert_non_null(rc);
    uint16_t m = rc->persistent_reservation_type_mask;
    scsi_free_scsi_task(t);
    return m;
}

/* Each profile's REPORT CAPABILITIES tells the truth, and a type it lacks is INVALID FIELD IN CDB (24h/00h). */
static void test_pr_profiles_report_their_types_and_refuse_the_others(void **state)
{
    struct fx *f = *state;
    const char *path = f->path;
    write_file(path, "{\"targets\":[{\"luns\":[{\"size\":\"8M\"},{\"size\":\"8M\",\"pr\":{\"profile\":\"dlt-s4\"}},"
                     "{\"size\":\"8M\",\"pr\":{\"profile\":\"sl150\"}}]}]}");
    const char *args[] = { "--config", path, NULL };
    start(f, args);
    struct iscsi_context *a = itest_login(f->d.t.url[0], ITEST_INAME_A, ISCSI_HEADER_DIGEST_NONE, NULL);
    assert_non_null(a);
    itest_clear_ua(a, 1);
    itest_clear_ua(a, 2);

    /* SPC-4 6.15.4 Table 166: WR_EX bit 9, EX_AC 11, WR_EX_RO 13, EX_AC_RO 14, WR_EX_AR 15, EX_AC_AR 0. */
    assert_int_equal(type_mask(a, 0), SCSI_PR_TYPE_MASK_ALL);
    assert_int_equal(type_mask(a, 1), SCSI_PR_TYPE_MASK_WR_EX | SCSI_PR_TYPE_MASK_EX_AC | SCSI_PR_TYPE_MASK_WR_EX_RO |
                                          SCSI_PR_TYPE_MASK_EX_AC_RO);
    assert_int_equal(type_mask(a, 2),
                     SCSI_PR_TYPE_MASK_EX_AC | SCSI_PR_TYPE_MASK_EX_AC_RO | SCSI_PR_TYPE_MASK_EX_AC_AR);

    uint32_t sense = 0;
    assert_int_equal(tu_pr_out(a, 1, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0x11, false, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(tu_pr_out(a, 1, SCSI_PERSISTENT_RESERVE_RESERVE, 7, 0x11, 0, false, &sense),
                     SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(sense, (0x5u << 16) | 0x2400);
    assert_int_equal(tu_pr_out(a, 1, SCSI_PERSISTENT_RESERVE_RESERVE, 5, 0x11, 0, false, NULL), SCSI_STATUS_GOOD);

    assert_int_equal(tu_pr_out(a, 2, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, 0x22, false, NULL), SCSI_STATUS_GOOD);
    assert_int_equal(tu_pr_out(a, 2, SCSI_PERSISTENT_RESERVE_RESERVE, 1, 0x22, 0, false, &sense),
                     SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(sense, (0x5u << 16) | 0x2400);
    assert_int_equal(tu_pr_out(a, 2, SCSI_PERSISTENT_RESERVE_RESERVE, 8, 0x22, 0, false, NULL), SCSI_STATUS_GOOD);

    json_t *pr = tu_ctl_json(f->d.sock, "pr", "show", NULL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(pr, 1), "profile")), "dlt-s4");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(pr, 2), "reservation"),
                                                        "type")),
                     8);
    json_decref(pr);
    itest_logout(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_config_is_refused_with_file_json_path_and_problem_on_one_line),
        cmocka_unit_test_setup_teardown(test_config_serves_its_luns_with_their_identity_and_block_size, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flags_override_the_config_file, setup, teardown),
        cmocka_unit_test(test_unknown_pr_profile_flag_exits_2_with_one_line),
        cmocka_unit_test_setup_teardown(test_pr_profiles_report_their_types_and_refuse_the_others, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
