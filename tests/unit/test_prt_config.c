/* Unit tests for app/prt_config.c: the JSON config file, its one-line errors, and how flags combine with it
 * (docs/config.md). Each test writes its file into a fresh temporary directory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/prt_app.h"
#include "target/tgt.h"

struct fx {
    char dir[64];
    char path[128];
    struct prt_config cfg;
    char err[PRT_ERR_LEN];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/prt-cfg-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/prt.json", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    prt_config_release(&f->cfg);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static int load(struct fx *f, const char *json)
{
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs(json, fp);
    fclose(fp);
    prt_config_release(&f->cfg);
    f->err[0] = '\0';
    return prt_config_load(f->path, &f->cfg, f->err, sizeof f->err);
}

/* "FILE: PATH: problem", exactly one line. */
static void assert_error(struct fx *f, const char *json_path_and_problem)
{
    char want[PRT_ERR_LEN + 160];
    snprintf(want, sizeof want, "%s: %s", f->path, json_path_and_problem);
    if (strstr(f->err, want) != f->err)
        fprintf(stderr, "got: %s\nwant prefix: %s\n", f->err, want);
    assert_ptr_equal(strstr(f->err, want), f->err);
    assert_null(strchr(f->err, '\n'));
}

static void test_size_that_is_not_a_size_names_file_json_path_and_value(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"size\":\"1G\"},{\"size\":\"12X\"}]}]}"), -EINVAL);
    assert_error(f, "targets[0].luns[1].size: \"12X\" is not a size");
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"size\":-5}]}]}"), -EINVAL);
    assert_error(f, "targets[0].luns[0].size: -5 is not a size");
}

static void test_unknown_keys_are_errors_at_every_level(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load(f, "{\"targets\":[{}],\"contrl\":\"/x\"}"), -EINVAL);
    assert_error(f, "contrl: unknown key");
    assert_int_equal(load(f, "{\"targets\":[{\"portal\":[]}]}"), -EINVAL);
    assert_error(f, "targets[0].portal: unknown key");
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"size\":\"1M\",\"readonly\":true}]}]}"), -EINVAL);
    assert_error(f, "targets[0].luns[0].readonly: unknown key");
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"size\":\"1M\",\"identity\":{\"model\":\"x\"}}]}]}"),
                     -EINVAL);
    assert_error(f, "targets[0].luns[0].identity.model: unknown key");
    assert_int_equal(load(f, "{\"targets\":[{\"pr\":{\"aptpl\":true}}]}"), -EINVAL);
    assert_error(f, "targets[0].pr.aptpl: unknown key");
}

static void test_full_config_fills_target_portals_luns_identity_and_pr_options(void **state)
{
    struct fx *f = *state;
    assert_int_equal(
        load(f, "{\"version\":1,\"targets\":[{\"name\":\"iqn.2026-11.org.example:t1\","
                "\"portals\":[\"127.0.0.1:3260\",\"[::1]:3261\"],"
                "\"luns\":[{\"backend\":\"mem\",\"size\":\"1G\",\"identity\":{\"vendor\":\"ACME\",\"product\":\"Disk\","
                "\"serial\":\"S1\",\"naa\":\"0x5000000000000001\"}},"
                "{\"backend\":\"file\",\"path\":\"/var/lib/lu1.img\",\"size\":4096,\"block_size\":4096,"
                "\"read_only\":true,\"pr\":{\"profile\":\"sl150\"}}],"
                "\"acl\":[],\"pr\":{\"profile\":\"spc3\",\"state_dir\":\"/var/lib/prtarget\"}}],"
                "\"control\":\"/run/p.sock\",\"event_log\":\"/var/log/p.jsonl\",\"log_level\":\"debug\","
                "\"log_format\":\"json\"}"),
        0);
    struct prt_config *c = &f->cfg;
    assert_string_equal(c->target, "iqn.2026-11.org.example:t1");
    assert_int_equal(c->n_listen, 2);
    assert_string_equal(c->listen[1], "[::1]:3261");
    assert_int_equal(c->n_luns, 2);
    assert_false(c->luns[0].file);
    assert_int_equal(c->luns[0].size, 1ull << 30);
    assert_int_equal(c->luns[0].block_size, 512);
    assert_string_equal(c->luns[0].vendor, "ACME");
    assert_string_equal(c->luns[0].serial, "S1");
    assert_true(c->luns[0].has_naa);
    assert_int_equal(c->luns[0].naa[0], 0x50);
    assert_int_equal(c->luns[0].naa[7], 0x01);
    /* The target's profile is every LU's default; a LU may choose its own. */
    assert_string_equal(c->luns[0].pr_profile, "spc3");
    assert_string_equal(c->luns[1].pr_profile, "sl150");
    assert_true(c->luns[1].file);
    assert_string_equal(c->luns[1].path, "/var/lib/lu1.img");
    assert_int_equal(c->luns[1].block_size, 4096);
    assert_true(c->luns[1].read_only);
    assert_string_equal(c->luns[1].spec, "targets[0].luns[1]");
    assert_string_equal(c->state_dir, "/var/lib/prtarget");
    assert_string_equal(c->control, "/run/p.sock");
    assert_string_equal(c->event_log, "/var/log/p.jsonl");
    assert_int_equal(c->log_level, PRT_LOG_DEBUG);
    assert_true(c->log_json);
}

static void test_lu_shape_errors_name_the_field(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"backend\":\"file\"}]}]}"), -EINVAL);
    assert_error(f, "targets[0].luns[0].path: a file LU needs a path");
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"backend\":\"mem\"}]}]}"), -EINVAL);
    assert_error(f, "targets[0].luns[0].size: a mem LU needs a size");
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"size\":\"1M\",\"path\":\"/x\",\"backend\":\"mem\"}]}]}"),
                     -EINVAL);
    assert_error(f, "targets[0].luns[0].path");
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"backend\":\"nvme\",\"size\":\"1M\"}]}]}"), -EINVAL);
    assert_error(f, "targets[0].luns[0].backend: \"nvme\" is not a backend");
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"size\":\"1M\",\"block_size\":520}]}]}"), -EINVAL);
    assert_error(f, "targets[0].luns[0].block_size: 520 is not a block size");
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"size\":1000,\"block_size\":512}]}]}"), -EINVAL);
    assert_error(f, "targets[0].luns[0].size: 1000 is not a multiple of the block size 512");
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"size\":\"1M\",\"read_only\":\"yes\"}]}]}"), -EINVAL);
    assert_error(f, "targets[0].luns[0].read_only: \"yes\" is not true or false");
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[]}]}"), -EINVAL);
    assert_error(f, "targets[0].luns: expected a non-empty list");
}

static void test_identity_fields_follow_inquiry_limits(void **state)
{
    struct fx *f = *state;
    /* SPC-4 6.6.2: 8 bytes of vendor, 16 of product, printable ASCII. */
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"size\":\"1M\",\"identity\":{\"vendor\":\"NINECHARS\"}}]}]}"),
                     -EINVAL);
    assert_error(f, "targets[0].luns[0].identity.vendor: longer than 8 characters");
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"size\":\"1M\",\"identity\":{\"product\":\"tab\\there\"}}]}]}"),
                     -EINVAL);
    assert_error(f, "targets[0].luns[0].identity.product");
    /* SPC-4 7.8.6.6: eight-byte NAA designators are NAA 2h, 3h or 5h. */
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"size\":\"1M\",\"identity\":{\"naa\":\"6000000000000001\"}}]}]}"),
                     -EINVAL);
    assert_error(f, "targets[0].luns[0].identity.naa: \"6000000000000001\": NAA 6h is not an 8-byte NAA format");
    assert_int_equal(load(f, "{\"targets\":[{\"luns\":[{\"size\":\"1M\",\"identity\":{\"naa\":\"0x3xyz\"}}]}]}"),
                     -EINVAL);
    assert_error(f, "targets[0].luns[0].identity.naa: \"0x3xyz\" is not 16 hex digits");
}

static void test_target_name_portals_and_profile_are_checked(void **state)
{
    struct fx *f = *state;
    /* RFC 7143 4.2.7.1: iSCSI names start iqn., eui. or naa. */
    assert_int_equal(load(f, "{\"targets\":[{\"name\":\"disk0\"}]}"), -EINVAL);
    assert_error(f, "targets[0].name: \"disk0\" is not an iSCSI name");
    assert_int_equal(load(f, "{\"targets\":[{\"portals\":[\"127.0.0.1\"]}]}"), -EINVAL);
    assert_error(f, "targets[0].portals[0]: \"127.0.0.1\" is not HOST:PORT");
    assert_int_equal(load(f, "{\"targets\":[{\"portals\":[\"127.0.0.1:99999\"]}]}"), -EINVAL);
    assert_error(f, "targets[0].portals[0]");
    assert_int_equal(load(f, "{\"targets\":[{\"portals\":[\"[::1]:3260\",3260]}]}"), -EINVAL);
    assert_error(f, "targets[0].portals[1]: 3260 is not HOST:PORT");
    assert_int_equal(load(f, "{\"targets\":[{\"pr\":{\"profile\":\"full-ish\"}}]}"), -EINVAL);
    assert_error(f, "targets[0].pr.profile: \"full-ish\" is not a PR profile");
    assert_int_equal(load(f, "{\"targets\":[{}],\"version\":2}"), -EINVAL);
    assert_error(f, "version: only version 1 is understood");
}

static void test_what_the_daemon_cannot_serve_is_refused_by_name(void **state)
{
    struct fx *f = *state;
    /* The second target is checked like the first, and needs a name of its own. */
    assert_int_equal(load(f, "{\"targets\":[{},{\"luns\":[{\"size\":\"2Q\"}]}]}"), -EINVAL);
    assert_error(f, "targets[1].luns[0].size: \"2Q\" is not a size");
    assert_int_equal(load(f, "{\"targets\":[{},{}]}"), -EINVAL);
    assert_error(f, "targets[1].name: every target after the first needs a name");
    assert_int_equal(load(f, "{\"targets\":[{\"name\":\"iqn.2026-11.org.example:x\"},"
                             "{\"name\":\"iqn.2026-11.org.example:x\"}]}"),
                     -EINVAL);
    assert_error(f, "targets[1].name: \"iqn.2026-11.org.example:x\" is also targets[0].name");
    assert_int_equal(load(f, "{\"targets\":[{\"acl\":[\"not-a-name\"]}]}"), -EINVAL);
    assert_error(f, "targets[0].acl[0]: \"not-a-name\" is not an iSCSI name");
    /* RFC 7143 12.1.3: CHAP secrets of at least 12 bytes. */
    assert_int_equal(load(f, "{\"targets\":[{\"chap\":{\"user\":\"u\",\"secret\":\"tooshort\"}}]}"), -EINVAL);
    assert_error(f, "targets[0].chap.secret: shorter than 12 characters");
    assert_int_equal(load(f, "{\"targets\":[{\"chap\":{\"user\":\"u\",\"secret\":\"long-enough-secret\","
                             "\"mutual_user\":\"m\"}}]}"),
                     -EINVAL);
    assert_error(f, "targets[0].chap: mutual CHAP needs both");
    /* RFC 7143 9.2.1: the two directions of mutual CHAP use different secrets. */
    assert_int_equal(load(f, "{\"targets\":[{\"chap\":{\"user\":\"u\",\"secret\":\"long-enough-secret\","
                             "\"mutual_user\":\"m\",\"mutual_secret\":\"long-enough-secret\"}}]}"),
                     -EINVAL);
    assert_error(f, "targets[0].chap.mutual_secret: the mutual secret must differ");
    assert_int_equal(load(f, "{\"targets\":[{}]}"), 0);
}

static void test_acl_and_chap_of_the_file_reach_the_config(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load(f, "{\"targets\":[{\"acl\":[\"iqn.2026-11.org.x:a\",\"iqn.2026-11.org.x:b\"],"
                             "\"chap\":{\"user\":\"alice\",\"secret\":\"alice-secret-12\","
                             "\"mutual_user\":\"tgt\",\"mutual_secret\":\"target-secret-12\"}}]}"),
                     0);
    assert_int_equal(f->cfg.n_acl, 2);
    assert_string_equal(f->cfg.acl[1], "iqn.2026-11.org.x:b");
    assert_string_equal(f->cfg.chap_user, "alice");
    assert_string_equal(f->cfg.chap_secret, "alice-secret-12");
    assert_string_equal(f->cfg.chap_mutual_user, "tgt");
    assert_string_equal(f->cfg.chap_mutual_secret, "target-secret-12");
    /* An empty list allows every initiator. */
    assert_int_equal(load(f, "{\"targets\":[{\"acl\":[]}]}"), 0);
    assert_int_equal(f->cfg.n_acl, 0);
    assert_null(f->cfg.chap_user);
}

static void test_json_syntax_errors_give_line_and_column(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load(f, "{\n  \"targets\": [ { } ,\n}"), -EINVAL);
    assert_error(f, "line 3 column");
    assert_int_equal(load(f, "{\"targets\":[{}],\"targets\":[{}]}"), -EINVAL);
    assert_error(f, "line 1 column");
    assert_int_equal(load(f, "[]"), -EINVAL);
    assert_error(f, "(top): expected an object");
    prt_config_release(&f->cfg);
    assert_int_equal(prt_config_load("/nonexistent/prt.json", &f->cfg, f->err, sizeof f->err), -EINVAL);
    assert_non_null(strstr(f->err, "/nonexistent/prt.json"));
}

static int parse(struct prt_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    if (prt_cli_parse(argc, argv, cfg, stderr, err, errlen) != PRT_CLI_RUN)
        return -1;
    return prt_config_apply(cfg, argc, argv, err, errlen);
}

static void test_several_targets_each_keep_their_portals_luns_and_acl_and_flags_touch_only_the_first(void **state)
{
    struct fx *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("{\"targets\":[{\"name\":\"iqn.2026-11.org.example:a\",\"portals\":[\"127.0.0.1:3260\"]},"
          "{\"name\":\"iqn.2026-11.org.example:b\",\"portals\":[\"127.0.0.1:3260\",\"127.0.0.2:3260\"],"
          "\"luns\":[{\"size\":\"1M\"},{\"size\":\"2M\"}],\"acl\":[\"iqn.2026-11.org.example:host\"],"
          "\"pr\":{\"state_dir\":\"/b/state\"}},"
          "{\"name\":\"iqn.2026-11.org.example:c\"}]}",
          fp);
    fclose(fp);
    char *argv1[] = { "prtarget", "--config", f->path, "--lun", "mem:4M", NULL };
    assert_int_equal(parse(&f->cfg, 5, argv1, f->err, sizeof f->err), 0);
    assert_string_equal(f->cfg.target, "iqn.2026-11.org.example:a");
    assert_int_equal(f->cfg.n_luns, 1);
    assert_int_equal(f->cfg.luns[0].size, 4u << 20);
    assert_int_equal(f->cfg.n_more, 2);
    const struct prt_config *b = &f->cfg.more[0], *c = &f->cfg.more[1];
    assert_string_equal(b->target, "iqn.2026-11.org.example:b");
    assert_int_equal(b->n_listen, 2);
    assert_string_equal(b->listen[1], "127.0.0.2:3260");
    assert_int_equal(b->n_luns, 2);
    assert_int_equal(b->luns[1].size, 2u << 20);
    assert_int_equal(b->n_acl, 1);
    assert_string_equal(b->acl[0], "iqn.2026-11.org.example:host");
    assert_string_equal(b->state_dir, "/b/state");
    assert_int_equal(f->cfg.n_acl, 0);
    /* docs/config.md: a target without portals or LUs gets the first target's portals and one default LU. */
    assert_int_equal(c->n_listen, 1);
    assert_string_equal(c->listen[0], "127.0.0.1:3260");
    assert_int_equal(c->n_luns, 1);
    assert_int_equal(c->luns[0].size, 1ull << 30);
    prt_config_release(&f->cfg);

    /* --target renames the first target; a clash with another target's name is refused. */
    char *argv2[] = { "prtarget", "--config", f->path, "--target", "iqn.2026-11.org.example:b", NULL };
    assert_int_not_equal(parse(&f->cfg, 5, argv2, f->err, sizeof f->err), 0);
    assert_non_null(strstr(f->err, "targets[1].name"));
    assert_null(strchr(f->err, '\n'));
}

/* docs/config.md "Several targets": targets[N].alua is kept per target, and (SPC-4 5.16: one group per portal of
 * that target) a tpg past that target's own portals is refused, naming the entry; B's portals, not A's, count. */
static void test_each_targets_alua_is_kept_and_a_tpg_past_its_portals_is_refused(void **state)
{
    struct fx *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("{\"targets\":[{\"name\":\"iqn.2026-11.org.example:a\",\"portals\":[\"127.0.0.1:3260\"]},"
          "{\"name\":\"iqn.2026-11.org.example:b\",\"portals\":[\"127.0.0.1:3260\",\"127.0.0.2:3260\"],"
          "\"alua\":[{\"tpg\":2,\"state\":\"standby\"}]}]}",
          fp);
    fclose(fp);
    char *argv[] = { "prtarget", "--config", f->path, NULL };
    assert_int_equal(parse(&f->cfg, 3, argv, f->err, sizeof f->err), 0);
    assert_int_equal(f->cfg.n_alua, 0);
    assert_int_equal(f->cfg.more[0].n_alua, 1);
    assert_int_equal(f->cfg.more[0].alua[0].tpg, 2);
    assert_int_equal(f->cfg.more[0].alua[0].state, TGT_ALUA_STANDBY);
    prt_config_release(&f->cfg);

    fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("{\"targets\":[{\"name\":\"iqn.2026-11.org.example:a\",\"portals\":[\"127.0.0.1:3260\",\"127.0.0.2:3260\","
          "\"127.0.0.3:3260\"]},{\"name\":\"iqn.2026-11.org.example:b\",\"portals\":[\"127.0.0.2:3260\"],"
          "\"alua\":[{\"tpg\":2,\"state\":\"standby\"}]}]}",
          fp);
    fclose(fp);
    assert_int_not_equal(parse(&f->cfg, 3, argv, f->err, sizeof f->err), 0);
    assert_non_null(strstr(f->err, "targets[1].alua[0].tpg: target port group 2 but there is only 1 portal"));
    assert_null(strchr(f->err, '\n'));
}

static void test_flags_win_over_the_file_and_lists_replace_as_a_whole(void **state)
{
    struct fx *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("{\"targets\":[{\"name\":\"iqn.2026-11.org.example:file\",\"portals\":[\"127.0.0.1:3260\","
          "\"127.0.0.1:3261\"],\"luns\":[{\"size\":\"1M\"},{\"size\":\"2M\"}],\"pr\":{\"state_dir\":\"/from/file\"}}],"
          "\"log_level\":\"warn\"}",
          fp);
    fclose(fp);

    char *argv1[] = { "prtarget", "--config", f->path, "--target", "iqn.2026-11.org.example:flag", "--lun",
                      "mem:4M", NULL };
    assert_int_equal(parse(&f->cfg, 7, argv1, f->err, sizeof f->err), 0);
    assert_string_equal(f->cfg.target, "iqn.2026-11.org.example:flag");
    assert_int_equal(f->cfg.n_luns, 1);
    assert_int_equal(f->cfg.luns[0].size, 4u << 20);
    /* Not given as flags: the file's portals, state directory and log level. */
    assert_int_equal(f->cfg.n_listen, 2);
    assert_string_equal(f->cfg.listen[1], "127.0.0.1:3261");
    assert_string_equal(f->cfg.state_dir, "/from/file");
    assert_int_equal(f->cfg.log_level, PRT_LOG_WARN);
    prt_config_release(&f->cfg);

    char *argv2[] = { "prtarget", "--listen=127.0.0.1:0", "--config", f->path, "--log-level", "error", NULL };
    assert_int_equal(parse(&f->cfg, 6, argv2, f->err, sizeof f->err), 0);
    assert_int_equal(f->cfg.n_listen, 1);
    assert_string_equal(f->cfg.listen[0], "127.0.0.1:0");
    assert_int_equal(f->cfg.n_luns, 2);
    assert_int_equal(f->cfg.log_level, PRT_LOG_ERROR);
}

static void test_bad_pr_profile_flag_and_bad_file_name_the_flag(void **state)
{
    struct fx *f = *state;
    char *argv1[] = { "prtarget", "--pr-profile", "dlt", NULL };
    assert_int_equal(parse(&f->cfg, 3, argv1, f->err, sizeof f->err), -EINVAL);
    assert_string_equal(f->err, "--pr-profile dlt: not a PR profile (full, spc3, dlt-s4, sl150)");
    char *argv2[] = { "prtarget", "--pr-profile", "dlt-s4", NULL };
    assert_int_equal(parse(&f->cfg, 3, argv2, f->err, sizeof f->err), 0);
    assert_string_equal(f->cfg.pr_profile, "dlt-s4");

    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("{\"targets\":[{\"luns\":[{\"size\":\"12X\"}]}]}", fp);
    fclose(fp);
    char *argv3[] = { "prtarget", "--config", f->path, NULL };
    assert_int_equal(parse(&f->cfg, 3, argv3, f->err, sizeof f->err), -EINVAL);
    assert_ptr_equal(strstr(f->err, "--config "), f->err);
    assert_non_null(strstr(f->err, "targets[0].luns[0].size: \"12X\" is not a size"));
}

static void test_chap_flags_replace_the_file_and_keep_secrets_off_the_command_line(void **state)
{
    struct fx *f = *state;
    char cred[160];
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("{\"targets\":[{\"acl\":[\"iqn.2026-11.org.x:file\"],\"chap\":{\"user\":\"fileuser\","
          "\"secret\":\"file-secret-123\"}}]}",
          fp);
    fclose(fp);

    /* Flags win over the file: the access list and the credentials are replaced as a whole. */
    char *argv1[] = { "prtarget", "--config", f->path, "--chap", "bob:bob-secret-1234", "--allow-initiator",
                      "iqn.2026-11.org.x:flag", NULL };
    assert_int_equal(parse(&f->cfg, 7, argv1, f->err, sizeof f->err), 0);
    assert_string_equal(f->cfg.chap_user, "bob");
    assert_string_equal(f->cfg.chap_secret, "bob-secret-1234");
    assert_null(f->cfg.chap_mutual_user);
    assert_int_equal(f->cfg.n_acl, 1);
    assert_string_equal(f->cfg.acl[0], "iqn.2026-11.org.x:flag");
    prt_config_release(&f->cfg);

    /* Without flags, the file's. */
    char *argv2[] = { "prtarget", "--config", f->path, NULL };
    assert_int_equal(parse(&f->cfg, 3, argv2, f->err, sizeof f->err), 0);
    assert_string_equal(f->cfg.chap_user, "fileuser");
    assert_string_equal(f->cfg.acl[0], "iqn.2026-11.org.x:file");
    prt_config_release(&f->cfg);

    /* A bare user name takes its secret from the environment, so ps(1) never shows it. */
    setenv("PRTARGET_CHAP_SECRET", "env-secret-12345", 1);
    setenv("PRTARGET_CHAP_MUTUAL_SECRET", "env-mutual-secret", 1);
    char *argv3[] = { "prtarget", "--chap", "carol", "--chap-mutual", "tgt", NULL };
    assert_int_equal(parse(&f->cfg, 5, argv3, f->err, sizeof f->err), 0);
    assert_string_equal(f->cfg.chap_user, "carol");
    assert_string_equal(f->cfg.chap_secret, "env-secret-12345");
    assert_string_equal(f->cfg.chap_mutual_user, "tgt");
    assert_string_equal(f->cfg.chap_mutual_secret, "env-mutual-secret");
    unsetenv("PRTARGET_CHAP_SECRET");
    unsetenv("PRTARGET_CHAP_MUTUAL_SECRET");
    char *argv4[] = { "prtarget", "--chap", "carol", NULL };
    assert_int_equal(parse(&f->cfg, 3, argv4, f->err, sizeof f->err), -EINVAL);
    assert_non_null(strstr(f->err, "--chap carol: no secret"));

    /* --chap-file: the same two forms, one a line, comments allowed. */
    snprintf(cred, sizeof cred, "%s/chap", f->dir);
    fp = fopen(cred, "w");
    assert_non_null(fp);
    fputs("# lab credentials\nchap dave:dave-secret-123\n\nchap-mutual tgt:target-secret-12\n", fp);
    fclose(fp);
    char *argv5[] = { "prtarget", "--chap-file", cred, NULL };
    assert_int_equal(parse(&f->cfg, 3, argv5, f->err, sizeof f->err), 0);
    assert_string_equal(f->cfg.chap_user, "dave");
    assert_string_equal(f->cfg.chap_secret, "dave-secret-123");
    assert_string_equal(f->cfg.chap_mutual_secret, "target-secret-12");
    fp = fopen(cred, "w");
    assert_non_null(fp);
    fputs("chap dave\n", fp);
    fclose(fp);
    assert_int_equal(parse(&f->cfg, 3, argv5, f->err, sizeof f->err), -EINVAL);
    assert_non_null(strstr(f->err, "line 1: expected USER:SECRET"));
    unlink(cred);
}

static void test_bad_chap_and_acl_flags_name_the_flag(void **state)
{
    struct fx *f = *state;
    /* RFC 7143 9.2.1: at least 12 bytes of secret without IPsec; different secrets for the two directions. */
    char *argv1[] = { "prtarget", "--chap", "u:short", NULL };
    assert_int_equal(parse(&f->cfg, 3, argv1, f->err, sizeof f->err), -EINVAL);
    assert_string_equal(f->err, "--chap: secret shorter than 12 characters (RFC 7143 9.2.1)");
    char *argv2[] = { "prtarget", "--chap", "u:same-secret-123", "--chap-mutual", "t:same-secret-123", NULL };
    assert_int_equal(parse(&f->cfg, 5, argv2, f->err, sizeof f->err), -EINVAL);
    assert_ptr_equal(strstr(f->err, "--chap-mutual: mutual secret"), f->err);
    char *argv3[] = { "prtarget", "--chap-mutual", "t:target-secret-12", NULL };
    assert_int_equal(parse(&f->cfg, 3, argv3, f->err, sizeof f->err), -EINVAL);
    assert_non_null(strstr(f->err, "mutual CHAP needs --chap"));
    char *argv4[] = { "prtarget", "--chap", ":no-user-secret", NULL };
    assert_int_equal(parse(&f->cfg, 3, argv4, f->err, sizeof f->err), -EINVAL);
    assert_ptr_equal(strstr(f->err, "--chap: expected USER:SECRET"), f->err);
    char *argv5[] = { "prtarget", "--allow-initiator", "not a name", NULL };
    assert_int_equal(parse(&f->cfg, 3, argv5, f->err, sizeof f->err), -EINVAL);
    assert_ptr_equal(strstr(f->err, "--allow-initiator not a name: not an iSCSI name"), f->err);
    char *argv6[] = { "prtarget", "--chap-file", "/nonexistent/chap", NULL };
    assert_int_equal(parse(&f->cfg, 3, argv6, f->err, sizeof f->err), -ENOENT);
    assert_string_equal(f->err, "--chap-file /nonexistent/chap: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_size_that_is_not_a_size_names_file_json_path_and_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_keys_are_errors_at_every_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_config_fills_target_portals_luns_identity_and_pr_options, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lu_shape_errors_name_the_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_fields_follow_inquiry_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_name_portals_and_profile_are_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_what_the_daemon_cannot_serve_is_refused_by_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_syntax_errors_give_line_and_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_targets_alua_is_kept_and_a_tpg_past_its_portals_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flags_win_over_the_file_and_lists_replace_as_a_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_pr_profile_flag_and_bad_file_name_the_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acl_and_chap_of_the_file_reach_the_config, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_several_targets_each_keep_their_portals_luns_and_acl_and_flags_touch_only_the_first, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_chap_flags_replace_the_file_and_keep_secrets_off_the_command_line,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_chap_and_acl_flags_name_the_flag, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
