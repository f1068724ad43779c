/* Integration tests of login security: CHAP (RFC 7143 12.1.3) and the initiator access list (RFC 7143 11.13.5),
 * set up with prtarget's flags and config file, checked from libiscsi initiators and a raw initiator that can
 * say what libiscsi never would (an algorithm list without MD5, a reflected challenge).
 *
 *   it_tools_chap ──spawns──> prtarget --listen 127.0.0.1:0 --chap alice:... [--chap-mutual tgt:...]
 *        ├── libiscsi: iscsi://alice%SECRET@127.0.0.1:PORT/IQN/0 (initiator-a / initiator-b)
 *        └── raw TCP: the security stage PDU by PDU
 */
#include <ctype.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "tests/integration/tools/tools_util.h"
#include "transport/isc_chap.h"

#define USER "alice"
#define SECRET "alice-secret-1234"
#define TUSER "prtarget"
#define TSECRET "target-secret-5678"

static const char *const chap_args[] = { "--lun", "mem:16M", "--chap", USER ":" SECRET, NULL };
static const char *const mutual_args[] = { "--lun", "mem:16M", "--chap", USER ":" SECRET, "--chap-mutual",
                                           TUSER ":" TSECRET, NULL };

/* "iscsi://USER%SECRET@HOST:PORT/IQN/0" from the ready URL, or the URL itself when user is NULL. */
static void url_with(const struct itest_target *t, const char *user, const char *secret, char *out, size_t cap)
{
    const char *rest = t->url[0] + strlen("iscsi://");
    if (user)
        snprintf(out, cap, "iscsi://%s%%%s@%s", user, secret, rest);
    else
        snprintf(out, cap, "%s", t->url[0]);
}

/* Log in with libiscsi. Returns the context (logged in) or NULL with libiscsi's error text in why. */
static struct iscsi_context *try_login(const char *url, const char *iname, const char *tuser, const char *tsecret,
                                       char *why, size_t cap)
{
    struct iscsi_context *iscsi = iscsi_create_context(iname);
    assert_non_null(iscsi);
    struct iscsi_url *u = iscsi_parse_full_url(iscsi, url);
    assert_non_null(u);
    iscsi_set_targetname(iscsi, u->target);
    iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
    iscsi_set_timeout(iscsi, 20);
    if (tuser)
        assert_int_equal(iscsi_set_target_username_pwd(iscsi, tuser, tsecret), 0);
    int rc = iscsi_full_connect_sync(iscsi, u->portal, u->lun);
    iscsi_destroy_url(u);
    if (rc != 0) {
        snprintf(why, cap, "%s", iscsi_get_error(iscsi));
        iscsi_destroy_context(iscsi);
        return NULL;
    }
    why[0] = '\0';
    return iscsi;
}

/* libiscsi reports a refused login as "Failed to log in to target. Status: TEXT(N)" with N the 16-bit
 * Status-Class/Status-Detail (RFC 7143 11.13.5). -1 when the text has no such number. */
static int login_status(const char *why)
{
    const char *p = strstr(why, "Status:");
    const char *open = p ? strrchr(p, '(') : NULL;
    return open ? atoi(open + 1) : -1;
}

static void test_chap_right_secret_logs_in_and_serves_commands(void **state)
{
    (void)state;
    struct itest_target t;
    char url[512], why[512];
    assert_int_equal(itest_start(&t, chap_args), 0);
    url_with(&t, USER, SECRET, url, sizeof url);
    struct iscsi_context *iscsi = try_login(url, ITEST_INAME_A, NULL, NULL, why, sizeof why);
    assert_non_null(iscsi);
    itest_clear_ua(iscsi, 0);
    assert_int_equal(tu_tur(iscsi, 0, NULL), SCSI_STATUS_GOOD);
    itest_logout(iscsi);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

static void test_chap_wrong_secret_or_user_is_refused_with_authentication_failure(void **state)
{
    (void)state;
    struct itest_target t;
    char url[512], why[512];
    assert_int_equal(itest_start(&t, chap_args), 0);
    url_with(&t, USER, "not-the-secret-at-all", url, sizeof url);
    assert_null(try_login(url, ITEST_INAME_A, NULL, NULL, why, sizeof why));
    assert_int_equal(login_status(why), 0x0201);
    url_with(&t, "mallory", SECRET, url, sizeof url);
    assert_null(try_login(url, ITEST_INAME_A, NULL, NULL, why, sizeof why));
    assert_int_equal(login_status(why), 0x0201);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

static void test_chap_required_and_no_credentials_is_refused(void **state)
{
    (void)state;
    struct itest_target t;
    char url[512], why[512];
    assert_int_equal(itest_start(&t, chap_args), 0);
    /* Without credentials libiscsi offers AuthMethod=None, which a CHAP target refuses (RFC 7143 12). */
    url_with(&t, NULL, NULL, url, sizeof url);
    assert_null(try_login(url, ITEST_INAME_A, NULL, NULL, why, sizeof why));
    assert_int_equal(login_status(why), 0x0201);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

static void test_mutual_chap_authenticates_the_target_too(void **state)
{
    (void)state;
    struct itest_target t;
    char url[512], why[512];
    assert_int_equal(itest_start(&t, mutual_args), 0);
    url_with(&t, USER, SECRET, url, sizeof url);
    struct iscsi_context *iscsi = try_login(url, ITEST_INAME_A, TUSER, TSECRET, why, sizeof why);
    assert_non_null(iscsi);
    itest_clear_ua(iscsi, 0);
    assert_int_equal(tu_tur(iscsi, 0, NULL), SCSI_STATUS_GOOD);
    itest_logout(iscsi);
    /* An initiator holding another target secret finds our CHAP_R wrong and gives up itself. */
    assert_null(try_login(url, ITEST_INAME_A, TUSER, "some-other-secret-9", why, sizeof why));
    assert_non_null(strstr(why, "CHAP_R"));
    /* Only one-way CHAP configured: an initiator asking for mutual CHAP is refused. */
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
    assert_int_equal(itest_start(&t, chap_args), 0);
    url_with(&t, USER, SECRET, url, sizeof url);
    assert_null(try_login(url, ITEST_INAME_A, TUSER, TSECRET, why, sizeof why));
    assert_int_equal(login_status(why), 0x0201);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

static void test_chap_secret_from_a_file_stays_off_the_command_line(void **state)
{
    (void)state;
    struct itest_target t;
    char dir[256], path[300], url[512], why[512], cmdline[4096];
    assert_int_equal(itest_mkdtemp(dir, sizeof dir), 0);
    snprintf(path, sizeof path, "%s/chap", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "# test credentials\nchap %s:%s\n", USER, SECRET);
    fclose(fp);
    const char *args[] = { "--lun", "mem:16M", "--chap-file", path, NULL };
    assert_int_equal(itest_start(&t, args), 0);

    snprintf(url, sizeof url, "/proc/%d/cmdline", (int)t.pid);
    fp = fopen(url, "r");
    assert_non_null(fp);
    size_t n = fread(cmdline, 1, sizeof cmdline - 1, fp);
    fclose(fp);
    for (size_t i = 0; i < n; i++)
        cmdline[i] = cmdline[i] ? cmdline[i] : ' ';
    cmdline[n] = '\0';
    assert_null(strstr(cmdline, SECRET));

    url_with(&t, USER, SECRET, url, sizeof url);
    struct iscsi_context *iscsi = try_login(url, ITEST_INAME_A, NULL, NULL, why, sizeof why);
    assert_non_null(iscsi);
    itest_logout(iscsi);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
    itest_rmdir(dir);
}

/* ---- the security stage by hand (RFC 7143 12.1.3) ---------------------------------------------------------- */

static size_t add_key(char *buf, size_t n, size_t cap, const char *kv)
{
    size_t l = strlen(kv) + 1;
    assert_true(n + l <= cap);
    memcpy(buf + n, kv, l);
    return n + l;
}

/* Send one login request in the security stage (CSG 0), transit to operational (NSG 1) when transit. */
static void sec_send(struct itest_raw *r, bool transit, const char *keys, size_t n)
{
    uint8_t bhs[48] = { 0 };
    bhs[0] = 0x40 | 0x03;
    bhs[1] = transit ? 0x80 | 0x01 : 0x00;
    memcpy(bhs + 8, r->isid, 6);
    bhs[19] = 0x01; /* ITT 1 */
    bhs[27] = 0x01; /* CmdSN 1 */
    assert_int_equal(itest_raw_send(r, bhs, keys, (uint32_t)n), 0);
}

/* The value of key in a login response, or NULL. */
static const char *resp_key(const struct itest_pdu *p, const char *key)
{
    size_t kl = strlen(key);
    for (uint32_t off = 0; off < p->data_len;) {
        const char *kv = (const char *)p->data + off;
        size_t l = strnlen(kv, p->data_len - off);
        if (l > kl && memcmp(kv, key, kl) == 0 && kv[kl] == '=')
            return kv + kl + 1;
        off += (uint32_t)l + 1;
    }
    return NULL;
}

static uint16_t status_of(const struct itest_pdu *p)
{
    return (uint16_t)(p->bhs[36] << 8 | p->bhs[37]);
}

/* The first two exchanges: AuthMethod=CHAP, then CHAP_A=algs. Returns the second response. */
static void chap_start(struct itest_raw *r, int port, const char *algs, struct itest_pdu *p)
{
    char keys[512], kv[128];
    size_t n = 0;
    memset(r, 0, sizeof *r);
    memcpy(r->isid, (const uint8_t[6]){ 0x80, 0x00, 0x12, 0x34, 0x00, 0x02 }, 6);
    assert_int_equal(itest_raw_connect(r, port), 0);
    n = add_key(keys, n, sizeof keys, "InitiatorName=" ITEST_INAME_A);
    n = add_key(keys, n, sizeof keys, "TargetName=" ITEST_IQN);
    n = add_key(keys, n, sizeof keys, "SessionType=Normal");
    n = add_key(keys, n, sizeof keys, "AuthMethod=CHAP,None");
    sec_send(r, false, keys, n);
    assert_int_equal(itest_raw_recv(r, p), 0);
    assert_int_equal(status_of(p), 0);
    assert_string_equal(resp_key(p, "AuthMethod"), "CHAP");
    itest_pdu_free(p);
    snprintf(kv, sizeof kv, "CHAP_A=%s", algs);
    n = add_key(keys, 0, sizeof keys, kv);
    sec_send(r, false, keys, n);
    assert_int_equal(itest_raw_recv(r, p), 0);
}

static void hex_decode(const char *hex, uint8_t *out, size_t *len)
{
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        hex += 2;
    *len = 0;
    for (; isxdigit((unsigned char)hex[0]) && isxdigit((unsigned char)hex[1]); hex += 2) {
        char b[3] = { hex[0], hex[1], 0 };
        out[(*len)++] = (uint8_t)strtoul(b, NULL, 16);
    }
}

/* RFC 1994 4.1: the response is MD5(identifier, secret, challenge). */
static void chap_response_hex(uint8_t id, const char *secret, const uint8_t *chal, size_t chal_len, char *out)
{
    struct isc_md5 m;
    uint8_t d[ISC_MD5_LEN];
    isc_md5_init(&m);
    isc_md5_update(&m, &id, 1);
    isc_md5_update(&m, secret, strlen(secret));
    isc_md5_update(&m, chal, chal_len);
    isc_md5_final(&m, d);
    strcpy(out, "0x");
    for (int i = 0; i < ISC_MD5_LEN; i++)
        sprintf(out + 2 + 2 * i, "%02x", d[i]);
}

static void test_chap_a_list_gets_md5_and_a_list_without_it_is_refused(void **state)
{
    (void)state;
    struct itest_target t;
    struct itest_raw r;
    struct itest_pdu p;
    assert_int_equal(itest_start(&t, chap_args), 0);

    /* RFC 7143 12.1.3: the target picks the one algorithm it supports (5, MD5) from the initiator's list. */
    chap_start(&r, itest_port(&t, 0), "7,6,5", &p);
    assert_int_equal(status_of(&p), 0);
    assert_string_equal(resp_key(&p, "CHAP_A"), "5");
    assert_non_null(resp_key(&p, "CHAP_I"));
    assert_non_null(resp_key(&p, "CHAP_C"));
    itest_pdu_free(&p);
    itest_raw_close(&r);

    /* No algorithm it supports: CHAP_A=Reject and the login fails (authentication failure). */
    chap_start(&r, itest_port(&t, 0), "7,6", &p);
    assert_int_equal(status_of(&p), 0x0201);
    itest_pdu_free(&p);
    assert_true(itest_raw_wait_closed(&r, 5000, NULL));
    itest_raw_close(&r);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

static void test_chap_reflected_challenge_is_refused_and_a_fresh_one_answered(void **state)
{
    (void)state;
    struct itest_target t;
    struct itest_raw r;
    struct itest_pdu p;
    char keys[1024], kv[600], resp[40];
    uint8_t chal[1024];
    size_t chal_len, n;
    assert_int_equal(itest_start(&t, mutual_args), 0);

    for (int reflect = 1; reflect >= 0; reflect--) {
        chap_start(&r, itest_port(&t, 0), "5", &p);
        assert_int_equal(status_of(&p), 0);
        uint8_t id = (uint8_t)atoi(resp_key(&p, "CHAP_I"));
        const char *c = resp_key(&p, "CHAP_C");
        hex_decode(c, chal, &chal_len);
        assert_true(chal_len > 0);
        chap_response_hex(id, SECRET, chal, chal_len, resp);
        n = add_key(keys, 0, sizeof keys, "CHAP_N=" USER);
        snprintf(kv, sizeof kv, "CHAP_R=%s", resp);
        n = add_key(keys, n, sizeof keys, kv);
        n = add_key(keys, n, sizeof keys, "CHAP_I=9");
        /* RFC 7143 9.2.1: sending the target its own challenge back would make it answer it for us. */
        snprintf(kv, sizeof kv, "CHAP_C=%s", reflect ? c : "0x00112233445566778899aabbccddeeff");
        n = add_key(keys, n, sizeof keys, kv);
        itest_pdu_free(&p);
        sec_send(&r, true, keys, n);
        assert_int_equal(itest_raw_recv(&r, &p), 0);
        if (reflect) {
            assert_int_equal(status_of(&p), 0x0201);
            assert_null(resp_key(&p, "CHAP_R"));
            itest_pdu_free(&p);
            assert_true(itest_raw_wait_closed(&r, 5000, NULL));
        } else {
            uint8_t fresh[16];
            char want[40];
            assert_int_equal(status_of(&p), 0);
            assert_string_equal(resp_key(&p, "CHAP_N"), TUSER);
            memcpy(fresh, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16);
            chap_response_hex(9, TSECRET, fresh, 16, want);
            const char *got = resp_key(&p, "CHAP_R");
            assert_non_null(got);
            assert_int_equal(strcasecmp(got, want), 0);
            assert_int_equal(p.bhs[1] & 0x83, 0x81); /* T=1, NSG=1: on to operational negotiation */
            itest_pdu_free(&p);
        }
        itest_raw_close(&r);
    }
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

/* ---- initiator access list ------------------------------------------------------------------------------- */

/* SendTargets=All over a libiscsi discovery session: the number of targets reported. */
static int discovered_targets(const struct itest_target *t, const char *iname)
{
    struct iscsi_context *iscsi = iscsi_create_context(iname);
    assert_non_null(iscsi);
    iscsi_set_session_type(iscsi, ISCSI_SESSION_DISCOVERY);
    iscsi_set_timeout(iscsi, 20);
    assert_int_equal(iscsi_connect_sync(iscsi, t->portal[0]), 0);
    assert_int_equal(iscsi_login_sync(iscsi), 0);
    struct iscsi_discovery_address *list = iscsi_discovery_sync(iscsi);
    int n = 0;
    for (struct iscsi_discovery_address *a = list; a; a = a->next)
        n++;
    if (list)
        iscsi_free_discovery_data(iscsi, list);
    iscsi_logout_sync(iscsi);
    iscsi_destroy_context(iscsi);
    return n;
}

static void test_acl_admits_listed_initiators_and_refuses_others_with_authorization_failure(void **state)
{
    (void)state;
    struct itest_target t;
    char why[512];
    const char *args[] = { "--lun", "mem:16M", "--allow-initiator", ITEST_INAME_A, NULL };
    assert_int_equal(itest_start(&t, args), 0);
    struct iscsi_context *a = try_login(t.url[0], ITEST_INAME_A, NULL, NULL, why, sizeof why);
    assert_non_null(a);
    itest_logout(a);
    /* RFC 7143 11.13.5: 0202h, authorization failure. */
    assert_null(try_login(t.url[0], ITEST_INAME_B, NULL, NULL, why, sizeof why));
    assert_int_equal(login_status(why), 0x0202);
    /* Discovery stays open, but names the target only to an initiator that may log in to it. */
    assert_int_equal(discovered_targets(&t, ITEST_INAME_A), 1);
    assert_int_equal(discovered_targets(&t, ITEST_INAME_B), 0);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
}

static void test_config_file_chap_and_acl_are_enforced_together(void **state)
{
    (void)state;
    struct itest_target t;
    char dir[256], path[300], url[512], why[512];
    assert_int_equal(itest_mkdtemp(dir, sizeof dir), 0);
    snprintf(path, sizeof path, "%s/prt.json", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "{\"targets\":[{\"luns\":[{\"size\":\"16M\"}],\"acl\":[\"%s\"],\"chap\":{\"user\":\"%s\","
                "\"secret\":\"%s\",\"mutual_user\":\"%s\",\"mutual_secret\":\"%s\"}}]}",
            ITEST_INAME_B, USER, SECRET, TUSER, TSECRET);
    fclose(fp);
    const char *args[] = { "--config", path, NULL };
    assert_int_equal(itest_start(&t, args), 0);
    url_with(&t, USER, SECRET, url, sizeof url);
    struct iscsi_context *b = try_login(url, ITEST_INAME_B, TUSER, TSECRET, why, sizeof why);
    assert_non_null(b);
    itest_logout(b);
    assert_null(try_login(url, ITEST_INAME_A, TUSER, TSECRET, why, sizeof why));
    assert_int_equal(login_status(why), 0x0202);
    url_with(&t, NULL, NULL, url, sizeof url);
    assert_null(try_login(url, ITEST_INAME_B, NULL, NULL, why, sizeof why));
    assert_int_equal(login_status(why), 0x0201);
    assert_int_equal(itest_stop(&t, SIGTERM), 0);
    itest_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chap_right_secret_logs_in_and_serves_commands),
        cmocka_unit_test(test_chap_wrong_secret_or_user_is_refused_with_authentication_failure),
        cmocka_unit_test(test_chap_required_and_no_credentials_is_refused),
        cmocka_unit_test(test_mutual_chap_authenticates_the_target_too),
        cmocka_unit_test(test_chap_secret_from_a_file_stays_off_the_command_line),
        cmocka_unit_test(test_chap_a_list_gets_md5_and_a_list_without_it_is_refused),
        cmocka_unit_test(test_chap_reflected_challenge_is_refused_and_a_fresh_one_answered),
        cmocka_unit_test(test_acl_admits_listed_initiators_and_refuses_others_with_authorization_failure),
        cmocka_unit_test(test_config_file_chap_and_acl_are_enforced_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
