/* Unit tests for app/iscsi_persist_opts.c: sg_persist's command line, its refusals and exit statuses, the iSCSI
 * nexus options and TransportID parsing. The source is included so that the test needs no library of the app. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "app/iscsi_persist_opts.c"

#define URL "iscsi://127.0.0.1:3260/iqn.2026-11.org.prtarget:disk/0"

/* Parse a NULL-terminated argument list; err_text receives everything written to the error stream. */
struct parsed {
    struct prt_persist_opts o;
    int rc;
    char *err;
    size_t err_len;
};

static struct parsed *parse_v(const char *first, va_list ap)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"iscsi-persist";
    for (const char *a = first; a != NULL && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    argv[argc] = NULL;
    struct parsed *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    FILE *err = open_memstream(&p->err, &p->err_len);
    assert_non_null(err);
    p->rc = prt_persist_parse_args(&p->o, argc, argv, err);
    fclose(err);
    return p;
}

static struct parsed *parse(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    struct parsed *p = parse_v(first, ap);
    va_end(ap);
    return p;
}

static void done(struct parsed *p)
{
    free(p->err);
    free(p);
}

static size_t lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ---- the seed walkthrough's commands ------------------------------------------------------------------- */

static void test_walkthrough_register_sets_out_register_and_sark(void **state)
{
    (void)state;
    struct parsed *p = parse("-o", "-G", "-S", "123abc", "-d", URL, NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.action, PRT_PERSIST_RUN);
    assert_false(p->o.pr_in);
    assert_int_equal(p->o.prout_sa, PRT_PROUT_REGISTER);
    assert_true(p->o.param_sark == 0x123abc);
    assert_true(p->o.param_rk == 0);
    assert_string_equal(p->o.device, URL);
    assert_true(p->o.inquiry);
    assert_int_equal(p->err_len, 0);
    done(p);
}

static void test_walkthrough_reserve_sets_key_and_type_3(void **state)
{
    (void)state;
    struct parsed *p = parse("-o", "-R", "-K", "123abc", "-T", "3", "-d", URL, NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.prout_sa, PRT_PROUT_RESERVE);
    assert_true(p->o.param_rk == 0x123abc);
    assert_int_equal(p->o.prout_type, 3);
    assert_int_equal(p->err_len, 0);
    done(p);
}

static void test_walkthrough_query_keys_and_reservation_are_pr_in(void **state)
{
    (void)state;
    struct parsed *k = parse("-i", "-k", "-d", URL, NULL);
    assert_int_equal(k->rc, 0);
    assert_true(k->o.pr_in);
    assert_int_equal(k->o.prin_sa, PRT_PRIN_READ_KEYS);
    assert_int_equal(k->err_len, 0);
    done(k);
    struct parsed *r = parse("-i", "-r", "-d", URL, NULL);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->o.prin_sa, PRT_PRIN_READ_RESERVATION);
    done(r);
}

static void test_walkthrough_release_and_clear_parse(void **state)
{
    (void)state;
    struct parsed *l = parse("-o", "-L", "-K", "123abc", "-T", "3", "-d", URL, NULL);
    assert_int_equal(l->rc, 0);
    assert_int_equal(l->o.prout_sa, PRT_PROUT_RELEASE);
    done(l);
    struct parsed *c = parse("-o", "-C", "-K", "123abc", "-d", URL, NULL);
    assert_int_equal(c->rc, 0);
    assert_int_equal(c->o.prout_sa, PRT_PROUT_CLEAR);
    assert_int_equal(c->err_len, 0); /* CLEAR takes no type: no warning */
    done(c);
}

static void test_long_options_match_short_ones(void **state)
{
    (void)state;
    struct parsed *p = parse("--out", "--register-ignore", "--param-sark=0xfeed", "--param-aptpl",
                             "--param-alltgpt", "--no-inquiry", "--device=" URL, NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.prout_sa, PRT_PROUT_REGISTER_IGNORE);
    assert_true(p->o.param_sark == 0xfeed);
    assert_true(p->o.param_aptpl);
    assert_true(p->o.param_alltgpt);
    assert_false(p->o.inquiry);
    done(p);
}

static void test_replace_lost_accepts_z_and_x(void **state)
{
    (void)state;
    struct parsed *z = parse("-o", "-z", "-S", "1", "-T", "1", URL, NULL);
    assert_int_equal(z->rc, 0);
    assert_int_equal(z->o.prout_sa, PRT_PROUT_REPLACE_LOST);
    done(z);
    struct parsed *x = parse("--out", "--replace-lost", "-S", "1", URL, NULL);
    assert_int_equal(x->rc, 0);
    assert_int_equal(x->o.prout_sa, PRT_PROUT_REPLACE_LOST);
    done(x);
}

/* ---- defaults and the implied read keys ---------------------------------------------------------------- */

static void test_no_service_action_assumes_read_keys_with_notice(void **state)
{
    (void)state;
    struct parsed *p = parse(URL, NULL);
    assert_int_equal(p->rc, 0);
    assert_true(p->o.pr_in);
    assert_int_equal(p->o.prin_sa, PRT_PRIN_READ_KEYS);
    assert_string_equal(p->err, ">> No service action given; assume Persistent Reserve In command\n"
                                ">> with Read Keys service action\n");
    assert_int_equal(p->o.alloc_len, 8192);
    done(p);
}

static void test_default_nexus_is_fixed_initiator_name_and_isid(void **state)
{
    (void)state;
    static const uint8_t want[6] = {0x80, 0, 0, 0, 0, 0x01};
    struct parsed *p = parse("-k", URL, NULL);
    assert_string_equal(p->o.initiator_name, PRT_PERSIST_DEFAULT_INAME);
    assert_memory_equal(p->o.isid, want, 6);
    done(p);
}

static void test_initiator_name_and_isid_select_the_nexus(void **state)
{
    (void)state;
    static const uint8_t want[6] = {0x23, 0x45, 0x67, 0x89, 0xab, 0xcd};
    struct parsed *p = parse("--initiator-name=iqn.2026-11.org.test:two", "--isid=0x23456789abcd", "-k", URL, NULL);
    assert_int_equal(p->rc, 0);
    assert_string_equal(p->o.initiator_name, "iqn.2026-11.org.test:two");
    assert_memory_equal(p->o.isid, want, 6);
    done(p);
}

static void test_isid_that_libiscsi_cannot_send_is_refused(void **state)
{
    (void)state;
    uint8_t isid[6];
    assert_int_equal(prt_persist_parse_isid("400000000001", isid), 0);  /* EN format, byte 0 = 40h */
    assert_int_equal(prt_persist_parse_isid("c00000000000", isid), 0);  /* reserved format, all zero */
    assert_int_equal(prt_persist_parse_isid("410000000001", isid), -EINVAL);
    assert_int_equal(prt_persist_parse_isid("c00000000001", isid), -EINVAL);
    assert_int_equal(prt_persist_parse_isid("12345", isid), -EINVAL);
    assert_int_equal(prt_persist_parse_isid("zz0000000000", isid), -EINVAL);
    struct parsed *p = parse("--isid=8100000000ff", "-k", URL, NULL);
    assert_int_equal(p->rc, PRT_EXIT_SYNTAX);
    assert_string_equal(p->err, "bad argument to '--isid'\n");
    done(p);
}

static void test_initiator_name_longer_than_223_bytes_is_refused(void **state)
{
    (void)state;
    char arg[300];
    int n = snprintf(arg, sizeof(arg), "--initiator-name=iqn.");
    memset(arg + n, 'a', 220);
    arg[n + 220] = '\0';
    struct parsed *p = parse(arg, "-k", URL, NULL);
    assert_int_equal(p->rc, PRT_EXIT_SYNTAX);
    assert_int_equal(lines(p->err), 1);
    done(p);
}

/* ---- refusals: one line each, sg_persist's exit statuses ----------------------------------------------- */

static void test_bad_param_rk_is_syntax_error_in_one_line(void **state)
{
    (void)state;
    struct parsed *p = parse("-o", "-R", "-K", "12xyz", "-T", "3", URL, NULL);
    assert_int_equal(p->rc, PRT_EXIT_SYNTAX);
    assert_string_equal(p->err, "bad argument to '--param-rk'\n");
    done(p);
}

static void test_key_of_more_than_16_hex_digits_is_refused(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(prt_persist_parse_hex64("ffffffffffffffff", &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(prt_persist_parse_hex64("0x1ffffffffffffffff", &v), -EINVAL);
    assert_int_equal(prt_persist_parse_hex64("", &v), -EINVAL);
    assert_int_equal(prt_persist_parse_hex64("0x", &v), -EINVAL);
    struct parsed *p = parse("-o", "-G", "-S", "10000000000000000", URL, NULL);
    assert_int_equal(p->rc, PRT_EXIT_SYNTAX);
    assert_string_equal(p->err, "bad argument to '--param-sark'\n");
    done(p);
}

static void test_prout_type_wider_than_four_bits_is_refused(void **state)
{
    (void)state;
    struct parsed *p = parse("-o", "-R", "-K", "1", "-T", "10", URL, NULL);
    assert_int_equal(p->rc, PRT_EXIT_SYNTAX);
    assert_string_equal(p->err, "bad argument to '--prout-type'\n");
    done(p);
    struct parsed *q = parse("-o", "-R", "-K", "1", "-T", "f", URL, NULL);
    assert_int_equal(q->rc, 0);
    assert_int_equal(q->o.prout_type, 0xf);
    done(q);
}

static void test_unknown_option_fails_with_one_line(void **state)
{
    (void)state;
    struct parsed *p = parse("-q", URL, NULL);
    assert_int_equal(p->rc, PRT_EXIT_SYNTAX);
    assert_string_equal(p->err, "iscsi-persist: unrecognised option '-q'\n");
    done(p);
    struct parsed *l = parse("--bogus", URL, NULL);
    assert_int_equal(l->rc, PRT_EXIT_SYNTAX);
    assert_string_equal(l->err, "iscsi-persist: unrecognised option '--bogus'\n");
    done(l);
}

static void test_option_without_its_argument_fails_with_one_line(void **state)
{
    (void)state;
    struct parsed *p = parse(URL, "-K", NULL);
    assert_int_equal(p->rc, PRT_EXIT_SYNTAX);
    assert_string_equal(p->err, "iscsi-persist: option '-K' requires an argument\n");
    done(p);
}

static void test_missing_device_is_syntax_error(void **state)
{
    (void)state;
    struct parsed *p = parse("-k", NULL);
    assert_int_equal(p->rc, PRT_EXIT_SYNTAX);
    assert_string_equal(p->err, "No device name given\n");
    done(p);
}

static void test_device_that_is_not_an_iscsi_url_is_refused(void **state)
{
    (void)state;
    struct parsed *p = parse("-k", "-d", "PD2", NULL);
    assert_int_equal(p->rc, PRT_EXIT_SYNTAX);
    assert_int_equal(lines(p->err), 1);
    assert_non_null(strstr(p->err, "'PD2'"));
    done(p);
}

static void test_url_shape_is_checked_before_libiscsi_sees_it(void **state)
{
    (void)state;
    assert_int_equal(prt_persist_check_url(URL), 0);
    assert_int_equal(prt_persist_check_url("iscsi://[::1]:3260/iqn.2026-11.org.prtarget%3Adisk/16383"), 0);
    assert_int_equal(prt_persist_check_url("iscsi://user%secret@host/iqn.x/1"), 0);
    assert_int_equal(prt_persist_check_url("iscsi://127.0.0.1:3260/"), -EINVAL);
    assert_int_equal(prt_persist_check_url("iscsi://127.0.0.1:3260/iqn.x"), -EINVAL);
    assert_int_equal(prt_persist_check_url("iscsi://127.0.0.1:3260/iqn.x/"), -EINVAL);
    assert_int_equal(prt_persist_check_url("iscsi://127.0.0.1:3260//0"), -EINVAL);
    assert_int_equal(prt_persist_check_url("iscsi:///iqn.x/0"), -EINVAL);
    assert_int_equal(prt_persist_check_url("iscsi://h/iqn.x/16384"), -EINVAL);
    assert_int_equal(prt_persist_check_url("iscsi://h/iqn.x/1a"), -EINVAL);
    assert_int_equal(prt_persist_check_url("iscsi://h/iqn x/1"), -EINVAL);
    assert_int_equal(prt_persist_check_url("http://h/iqn.x/1"), -EINVAL);
    struct parsed *p = parse("-k", "iscsi://127.0.0.1:3260/", NULL);
    assert_int_equal(p->rc, PRT_EXIT_SYNTAX);
    assert_int_equal(lines(p->err), 1);
    done(p);
}

static void test_second_positional_argument_is_unexpected(void **state)
{
    (void)state;
    struct parsed *p = parse("-k", "-d", URL, "extra", NULL);
    assert_int_equal(p->rc, PRT_EXIT_SYNTAX);
    assert_string_equal(p->err, "Unexpected extra argument: extra\n");
    done(p);
}

static void test_in_and_out_together_contradict(void **state)
{
    (void)state;
    struct parsed *p = parse("-i", "-o", "-G", URL, NULL);
    assert_int_equal(p->rc, PRT_EXIT_CONTRADICT);
    assert_string_equal(p->err, "choose '--in' _or_ '--out' (not both)\n");
    done(p);
}

static void test_out_needs_exactly_one_prout_service_action(void **state)
{
    (void)state;
    struct parsed *none = parse("-o", URL, NULL);
    assert_int_equal(none->rc, PRT_EXIT_CONTRADICT);
    assert_int_equal(lines(none->err), 1);
    done(none);
    struct parsed *two = parse("-o", "-G", "-R", URL, NULL);
    assert_int_equal(two->rc, PRT_EXIT_CONTRADICT);
    done(two);
    struct parsed *mixed = parse("-o", "-G", "-k", URL, NULL);
    assert_int_equal(mixed->rc, PRT_EXIT_CONTRADICT);
    done(mixed);
}

static void test_prout_service_action_without_out_contradicts(void **state)
{
    (void)state;
    /* sg_persist's safeguard: a PR OUT service action needs an explicit --out. */
    struct parsed *p = parse("-G", "-S", "1", URL, NULL);
    assert_int_equal(p->rc, PRT_EXIT_CONTRADICT);
    assert_int_equal(lines(p->err), 1);
    done(p);
}

static void test_two_prin_service_actions_contradict(void **state)
{
    (void)state;
    struct parsed *p = parse("-k", "-r", URL, NULL);
    assert_int_equal(p->rc, PRT_EXIT_CONTRADICT);
    assert_string_equal(p->err, "Too many service actions given; choose one only\n");
    done(p);
}

static void test_unreg_and_relative_port_only_with_register_move(void **state)
{
    (void)state;
    struct parsed *p = parse("-o", "-G", "-U", URL, NULL);
    assert_int_equal(p->rc, PRT_EXIT_CONTRADICT);
    done(p);
    struct parsed *q = parse("-o", "-G", "-Q", "2", URL, NULL);
    assert_int_equal(q->rc, PRT_EXIT_CONTRADICT);
    done(q);
    struct parsed *big = parse("-o", "-M", "-Q", "10000", URL, NULL);
    assert_int_equal(big->rc, PRT_EXIT_SYNTAX);
    assert_string_equal(big->err, "argument to '--relative-target-port' 0 to ffff inclusive\n");
    done(big);
}

static void test_register_move_needs_exactly_one_transport_id(void **state)
{
    (void)state;
    struct parsed *none = parse("-o", "-M", "-K", "1", "-S", "2", "-T", "3", URL, NULL);
    assert_int_equal(none->rc, PRT_EXIT_CONTRADICT);
    done(none);
    struct parsed *one = parse("-o", "-M", "-K", "1", "-S", "2", "-T", "3", "-Q", "2", "-U",
                               "-X", "iqn.2026-11.org.test:two,i,0x800000000001", URL, NULL);
    assert_int_equal(one->rc, 0);
    assert_int_equal(one->o.n_tids, 1);
    assert_int_equal(one->o.param_rtp, 2);
    assert_true(one->o.param_unreg);
    done(one);
}

static void test_reserve_without_type_warns_but_runs(void **state)
{
    (void)state;
    struct parsed *p = parse("-o", "-R", "-K", "1", URL, NULL);
    assert_int_equal(p->rc, 0);
    assert_string_equal(p->err, "warning>>> --prout-type probably needs to be given\n");
    done(p);
}

static void test_alloc_length_is_hex_and_capped_at_8192(void **state)
{
    (void)state;
    struct parsed *p = parse("-l", "100", "-k", URL, NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.alloc_len, 0x100);
    done(p);
    struct parsed *q = parse("-l", "2001", "-k", URL, NULL);
    assert_int_equal(q->rc, PRT_EXIT_SYNTAX);
    assert_string_equal(q->err, "'--alloc-length' argument exceeds maximum value (8192)\n");
    done(q);
}

static void test_maxlen_takes_decimal_hex_and_multipliers(void **state)
{
    (void)state;
    uint32_t v;
    assert_int_equal(prt_persist_parse_num("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(prt_persist_parse_num("8k", &v), 0);
    assert_int_equal(v, 8192);
    assert_int_equal(prt_persist_parse_num("0x200", &v), 0);
    assert_int_equal(v, 0x200);
    assert_int_equal(prt_persist_parse_num("2000h", &v), 0);
    assert_int_equal(v, 0x2000);
    assert_int_equal(prt_persist_parse_num("12q", &v), -EINVAL);
    assert_int_equal(prt_persist_parse_num("", &v), -EINVAL);
    assert_int_equal(prt_persist_parse_num("99999999999", &v), -EINVAL);
    struct parsed *p = parse("-m", "9k", "-k", URL, NULL);
    assert_int_equal(p->rc, PRT_EXIT_SYNTAX);
    done(p);
}

static void test_help_version_and_question_mark(void **state)
{
    (void)state;
    struct parsed *h = parse("-h", NULL);
    assert_int_equal(h->rc, 0);
    assert_int_equal(h->o.action, PRT_PERSIST_HELP);
    assert_int_equal(h->o.help_level, 1);
    done(h);
    struct parsed *hh = parse("-hh", NULL);
    assert_int_equal(hh->o.help_level, 2);
    done(hh);
    struct parsed *q = parse("-?", NULL);
    assert_int_equal(q->rc, 0);
    assert_int_equal(q->o.action, PRT_PERSIST_HELP);
    done(q);
    struct parsed *v = parse("--version", NULL);
    assert_int_equal(v->rc, 0);
    assert_int_equal(v->o.action, PRT_PERSIST_VERSION_ONLY);
    done(v);
}

static void test_usage_lists_every_main_option(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    prt_persist_usage(f, 1);
    prt_persist_usage(f, 2);
    fclose(f);
    static const char *const opts[] = {
        "--clear|-C", "--in|-i", "--out|-o", "--param-rk=RK|-K", "--param-sark=SARK|-S", "--preempt|-P",
        "--preempt-abort|-A", "--prout-type=TYPE|-T", "--read-keys|-k", "--read-reservation|-r",
        "--read-status|-s", "--register|-G", "--register-ignore|-I", "--register-move|-M", "--release|-L",
        "--replace-lost|-z", "--report-capabilities|-c", "--reserve|-R", "--unreg|-U", "--initiator-name=IQN",
        "--isid=HEX", "--hex|-H", "--no-inquiry|-n", "--param-alltgpt|-Y", "--param-aptpl|-Z",
        "--transport-id=TIDS|-X", "--verbose|-v", "--version|-V", "--relative-target-port=RTPI|-Q",
    };
    for (size_t i = 0; i < PRT_ARRAY_SIZE(opts); i++)
        assert_non_null(strstr(buf, opts[i]));
    free(buf);
}

/* ---- TransportIDs (SPC-4 7.6.4) ----------------------------------------------------------------------- */

static void test_iscsi_name_transport_id_is_format_00_nul_padded_to_24(void **state)
{
    (void)state;
    uint8_t tid[PRT_PERSIST_TID_MAX];
    const char *name = "iqn.2026-11.org.t:a"; /* 19 bytes + NUL = 20: the minimum ADDITIONAL LENGTH */
    int n = prt_persist_iscsi_tid(name, strlen(name), tid);
    assert_int_equal(n, 24);
    assert_int_equal(tid[0], 0x05);
    assert_int_equal(tid[1], 0);
    assert_int_equal(prt_get_be16(tid + 2), 20);
    assert_memory_equal(tid + 4, name, strlen(name));
    assert_int_equal(tid[23], 0);
}

static void test_iscsi_name_transport_id_length_rounds_up_to_four(void **state)
{
    (void)state;
    uint8_t tid[PRT_PERSIST_TID_MAX];
    const char *name = "iqn.2026-11.org.prtarget:walkthrough-b"; /* 38 bytes + NUL = 39 -> 40 */
    int n = prt_persist_iscsi_tid(name, strlen(name), tid);
    assert_int_equal(n, 44);
    assert_int_equal(prt_get_be16(tid + 2), 40);
    assert_int_equal(tid[4 + 38], 0);
}

static void test_iscsi_name_with_isid_is_format_01(void **state)
{
    (void)state;
    uint8_t tid[PRT_PERSIST_TID_MAX];
    const char *s = "iqn.2026-11.org.test:two,i,0x800000000001";
    int n = prt_persist_iscsi_tid(s, strlen(s), tid);
    assert_true(n > 0);
    assert_int_equal(tid[0], 0x45);
    assert_int_equal(n % 4, 0);
    assert_memory_equal(tid + 4, s, strlen(s));
    assert_int_equal(prt_persist_iscsi_tid("iqn.x.y,i,0x1234", 16, tid), -EINVAL);   /* ISID too short */
    assert_int_equal(prt_persist_iscsi_tid("iqn.x.y,i,0x80000000000g", 24, tid), -EINVAL);
    assert_int_equal(prt_persist_iscsi_tid("iqn.a b", 7, tid), -EINVAL);              /* blank in a name */
    assert_int_equal(prt_persist_iscsi_tid("foo.bar", 7, tid), -EINVAL);
}

static void test_iscsi_name_longer_than_223_bytes_is_refused(void **state)
{
    (void)state;
    char name[240];
    uint8_t tid[PRT_PERSIST_TID_MAX];
    memcpy(name, "iqn.", 4);
    memset(name + 4, 'x', sizeof(name) - 4);
    assert_int_equal(prt_persist_iscsi_tid(name, 224, tid), -EINVAL);
    assert_true(prt_persist_iscsi_tid(name, 223, tid) > 0);
}

static void test_hex_list_transport_id_is_padded_to_24(void **state)
{
    (void)state;
    struct parsed *p = parse("-o", "-G", "-S", "1", "-X", "6,0,0,0,50,6,5,b0,0,6,f2,60", URL, NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.n_tids, 1);
    assert_int_equal(p->o.tids_len, 24);
    static const uint8_t want[24] = {6, 0, 0, 0, 0x50, 6, 5, 0xb0, 0, 6, 0xf2, 0x60};
    assert_memory_equal(p->o.tids, want, 24);
    done(p);
}

static void test_hex_list_iscsi_transport_id_takes_its_additional_length(void **state)
{
    (void)state;
    /* An iSCSI TransportID typed as bytes: ADDITIONAL LENGTH 20 -> 24 bytes, "iqn.a" then NULs. */
    struct parsed *p = parse("-o", "-G", "-S", "1", "-X", "5 0 0 14 69 71 6e 2e 61", URL, NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.tids_len, 24);
    assert_memory_equal(p->o.tids + 4, "iqn.a", 5);
    done(p);
}

static void test_hex_list_longer_than_its_transport_id_is_refused(void **state)
{
    (void)state;
    char arg[200] = "6";
    for (int i = 0; i < 24; i++)
        strcat(arg, ",1");
    struct parsed *p = parse("-o", "-G", "-S", "1", "-X", arg, URL, NULL);
    assert_int_equal(p->rc, PRT_EXIT_SYNTAX);
    assert_string_equal(p->err, "bad argument to '--transport-id': 25 bytes given but the TransportID is 24 "
                                "bytes long\n");
    done(p);
    struct parsed *big = parse("-o", "-G", "-S", "1", "-X", "6,100", URL, NULL);
    assert_int_equal(big->rc, PRT_EXIT_SYNTAX);
    done(big);
    struct parsed *junk = parse("-o", "-G", "-S", "1", "-X", "6,zz", URL, NULL);
    assert_int_equal(junk->rc, PRT_EXIT_SYNTAX);
    assert_string_equal(junk->err, "bad argument to '--transport-id': error at pos 3\n");
    done(junk);
}

static void test_symbolic_sas_fcp_spi_transport_ids(void **state)
{
    (void)state;
    struct parsed *p = parse("-o", "-G", "-S", "1", "-X", "sas,5000c50005b32001", "-X", "FCP,10000000C9F3A571",
                             "-X", "spi,7,1", URL, NULL);
    assert_int_equal(p->rc, 0);
    assert_int_equal(p->o.n_tids, 3);
    assert_int_equal(p->o.tids_len, 72);
    const uint8_t *sas = p->o.tids, *fcp = p->o.tids + 24, *spi = p->o.tids + 48;
    assert_int_equal(sas[0], 0x06);
    assert_true(prt_get_be64(sas + 4) == 0x5000c50005b32001ull);
    assert_int_equal(fcp[0], 0x00);
    assert_true(prt_get_be64(fcp + 8) == 0x10000000c9f3a571ull);
    assert_int_equal(spi[0], 0x01);
    assert_int_equal(prt_get_be16(spi + 2), 7);
    assert_int_equal(prt_get_be16(spi + 6), 1);
    done(p);
    struct parsed *bad = parse("-o", "-G", "-S", "1", "-X", "sas,5000", URL, NULL);
    assert_int_equal(bad->rc, PRT_EXIT_SYNTAX);
    done(bad);
}

static void test_transport_id_stream_skips_blanks_and_comments(void **state)
{
    (void)state;
    static const char text[] = "# TransportIDs for SPEC_I_PT\n"
                               "\n"
                               "    iqn.2026-11.org.test:one   # trailing comment\n"
                               "\t6,0,0,0,50,6,5,b0,0,6,f2,60\n"
                               "iqn.2026-11.org.test:two,i,0x800000000002\n";
    struct prt_persist_opts *o = calloc(1, sizeof(*o));
    assert_non_null(o);
    FILE *in = fmemopen((void *)text, sizeof(text) - 1, "r");
    FILE *err = fopen("/dev/null", "w");
    assert_int_equal(prt_persist_add_tid_stream(o, in, "test", err), 0);
    fclose(in);
    assert_int_equal(o->n_tids, 3);
    assert_int_equal(o->tids[0], 0x05);
    assert_memory_equal(o->tids + 4, "iqn.2026-11.org.test:one", 24);
    size_t first = 4u + prt_get_be16(o->tids + 2);
    assert_int_equal(o->tids[first], 0x06);
    assert_int_equal(o->tids[first + 24], 0x45);
    /* A malformed line names its place. */
    static const char badtext[] = "iqn.ok:a\n5,zz\n";
    char *msg = NULL;
    size_t mlen = 0;
    FILE *e2 = open_memstream(&msg, &mlen);
    in = fmemopen((void *)badtext, sizeof(badtext) - 1, "r");
    assert_int_equal(prt_persist_add_tid_stream(o, in, "f.txt", e2), -EINVAL);
    fclose(in);
    fclose(e2);
    assert_non_null(strstr(msg, "f.txt line 2"));
    free(msg);
    fclose(err);
    free(o);
}

static void test_transport_id_file_that_does_not_exist_fails(void **state)
{
    (void)state;
    struct parsed *p = parse("-o", "-G", "-S", "1", "-X", "file=/nonexistent/tids.txt", URL, NULL);
    assert_int_equal(p->rc, PRT_EXIT_SYNTAX);
    assert_int_equal(lines(p->err), 1);
    assert_non_null(strstr(p->err, "bad argument to '--transport-id': unable to open /nonexistent/tids.txt"));
    done(p);
}

static void test_more_than_32_transport_ids_are_refused(void **state)
{
    (void)state;
    struct prt_persist_opts *o = calloc(1, sizeof(*o));
    FILE *err = fopen("/dev/null", "w");
    for (unsigned i = 0; i < PRT_PERSIST_MAX_TIDS; i++)
        assert_int_equal(prt_persist_add_tids(o, "sas,5000c50005b32001", err), 0);
    assert_int_equal(prt_persist_add_tids(o, "sas,5000c50005b32001", err), -EINVAL);
    assert_int_equal(o->n_tids, PRT_PERSIST_MAX_TIDS);
    fclose(err);
    free(o);
}

static void test_parser_can_run_twice_in_one_process(void **state)
{
    (void)state;
    struct parsed *a = parse("-o", "-G", "-S", "1", URL, NULL);
    struct parsed *b = parse("-r", URL, NULL);
    assert_int_equal(a->o.prout_sa, PRT_PROUT_REGISTER);
    assert_true(b->o.pr_in);
    assert_int_equal(b->o.prin_sa, PRT_PRIN_READ_RESERVATION);
    assert_int_equal(b->o.prout_sa, -1);
    done(a);
    done(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walkthrough_register_sets_out_register_and_sark),
        cmocka_unit_test(test_walkthrough_reserve_sets_key_and_type_3),
        cmocka_unit_test(test_walkthrough_query_keys_and_reservation_are_pr_in),
        cmocka_unit_test(test_walkthrough_release_and_clear_parse),
        cmocka_unit_test(test_long_options_match_short_ones),
        cmocka_unit_test(test_replace_lost_accepts_z_and_x),
        cmocka_unit_test(test_no_service_action_assumes_read_keys_with_notice),
        cmocka_unit_test(test_default_nexus_is_fixed_initiator_name_and_isid),
        cmocka_unit_test(test_initiator_name_and_isid_select_the_nexus),
        cmocka_unit_test(test_isid_that_libiscsi_cannot_send_is_refused),
        cmocka_unit_test(test_initiator_name_longer_than_223_bytes_is_refused),
        cmocka_unit_test(test_bad_param_rk_is_syntax_error_in_one_line),
        cmocka_unit_test(test_key_of_more_than_16_hex_digits_is_refused),
        cmocka_unit_test(test_prout_type_wider_than_four_bits_is_refused),
        cmocka_unit_test(test_unknown_option_fails_with_one_line),
        cmocka_unit_test(test_option_without_its_argument_fails_with_one_line),
        cmocka_unit_test(test_missing_device_is_syntax_error),
        cmocka_unit_test(test_device_that_is_not_an_iscsi_url_is_refused),
        cmocka_unit_test(test_url_shape_is_checked_before_libiscsi_sees_it),
        cmocka_unit_test(test_second_positional_argument_is_unexpected),
        cmocka_unit_test(test_in_and_out_together_contradict),
        cmocka_unit_test(test_out_needs_exactly_one_prout_service_action),
        cmocka_unit_test(test_prout_service_action_without_out_contradicts),
        cmocka_unit_test(test_two_prin_service_actions_contradict),
        cmocka_unit_test(test_unreg_and_relative_port_only_with_register_move),
        cmocka_unit_test(test_register_move_needs_exactly_one_transport_id),
        cmocka_unit_test(test_reserve_without_type_warns_but_runs),
        cmocka_unit_test(test_alloc_length_is_hex_and_capped_at_8192),
        cmocka_unit_test(test_maxlen_takes_decimal_hex_and_multipliers),
        cmocka_unit_test(test_help_version_and_question_mark),
        cmocka_unit_test(test_usage_lists_every_main_option),
        cmocka_unit_test(test_iscsi_name_transport_id_is_format_00_nul_padded_to_24),
        cmocka_unit_test(test_iscsi_name_transport_id_length_rounds_up_to_four),
        cmocka_unit_test(test_iscsi_name_with_isid_is_format_01),
        cmocka_unit_test(test_iscsi_name_longer_than_223_bytes_is_refused),
        cmocka_unit_test(test_hex_list_transport_id_is_padded_to_24),
        cmocka_unit_test(test_hex_list_iscsi_transport_id_takes_its_additional_length),
        cmocka_unit_test(test_hex_list_longer_than_its_transport_id_is_refused),
        cmocka_unit_test(test_symbolic_sas_fcp_spi_transport_ids),
        cmocka_unit_test(test_transport_id_stream_skips_blanks_and_comments),
        cmocka_unit_test(test_transport_id_file_that_does_not_exist_fails),
        cmocka_unit_test(test_more_than_32_transport_ids_are_refused),
        cmocka_unit_test(test_parser_can_run_twice_in_one_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
