/* REPLACE LOST RESERVATION (SPC-5 5.13.5.3, 5.13.11.3, 6.17.3) over the wire: the loss is injected through the
 * control socket (JSON-RPC "fault.lost_reservation"); until an application client replaces the reservation,
 * commands that touch the medium fail with PERSISTENT RESERVATION INFORMATION LOST while PR IN still works.
 *
 *   A (initiator-a, q1) --portal 1--+--> prtarget LU 0, --control DIR/ctl.sock
 *   B (initiator-b, q1) --portal 2--+
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/integration/pr/pr_it.h"

#define KEY_A 0x1057a001ull
#define KEY_B 0x1057b002ull
#define KEY_NEW 0x4e3eull

struct lost_fx {
    struct prit_target pt;
    char sock[300];
};

static int lost_setup(void **state)
{
    struct lost_fx *f = calloc(1, sizeof(*f));
    if (!f || itest_mkdtemp(f->pt.state_dir, sizeof(f->pt.state_dir)) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->sock, sizeof(f->sock), "%s/ctl.sock", f->pt.state_dir);
    const char *args[] = { "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--lun", "mem:16M", "--control",
                           f->sock, NULL };
    if (itest_start(&f->pt.t, args) != 0) {
        itest_rmdir(f->pt.state_dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

/* prit_teardown frees its argument: the fixture starts with its struct prit_target. */
static int lost_teardown(void **state) { return prit_teardown(state); }

/* One JSON-RPC 2.0 request on the control socket (newline-delimited JSON); the reply line lands in reply. */
static void control_call(const struct lost_fx *f, const char *request, char *reply, size_t cap)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t sl = strlen(f->sock);
    assert_true(sl < sizeof(sa.sun_path));
    memcpy(sa.sun_path, f->sock, sl + 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    size_t len = strlen(request);
    assert_true(write(fd, request, len) == (ssize_t)len);
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, reply + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (memchr(reply, '\n', n))
            break;
    }
    reply[n] = '\0';
    close(fd);
}

static void expect_lost(int status, const struct prit_sense *s)
{
    /* SPC-5 5.13.5.3: DATA PROTECT, PERSISTENT RESERVATION INFORMATION LOST. */
    assert_int_equal(status, SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(s->key, SCSI_SENSE_DATA_PROTECTION);
    assert_int_equal(s->asc, 0x44);
    assert_int_equal(s->ascq, 0x01);
}

static void test_lost_reservation_blocks_the_medium_until_replace_lost_reservation(void **state)
{
    struct lost_fx *f = *state;
    struct iscsi_context *a = prit_login(&f->pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *b = prit_login(&f->pt, 1, ITEST_INAME_B, 1);
    assert_non_null(a);
    assert_non_null(b);
    struct prit_sense s;
    uint8_t caps[8];
    uint32_t len, gen;
    uint64_t keys[8], key;
    uint8_t type;

    /* SPC-5 6.16.4: RLR_C says REPLACE LOST RESERVATION is supported. */
    assert_int_equal(prit_prin(a, 0x02, caps, sizeof(caps), &len), SCSI_STATUS_GOOD);
    assert_true(caps[2] & 0x80);
    assert_int_equal(prit_register(a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(b, 0, KEY_B), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(a, KEY_A, 1), SCSI_STATUS_GOOD);
    /* SPC-5 5.13.11.3: with nothing lost there is nothing to replace. */
    assert_int_equal(prit_prout_basic(a, 0x08, 1, 0, KEY_NEW, 0, &s), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(s.key, SCSI_SENSE_ILLEGAL_REQUEST);
    assert_int_equal(s.asc, 0x26);
    assert_int_equal(s.ascq, 0x04);

    char reply[1024];
    control_call(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"fault.lost_reservation\",\"params\":{\"lun\":0}}\n",
                 reply, sizeof(reply));
    assert_non_null(strstr(reply, "\"lost\""));

    /* The medium is out of reach for everybody, the former holder included; PR IN and INQUIRY still work. */
    expect_lost(prit_write(a, 40, &s), &s);
    expect_lost(prit_read(b, 40, &s), &s);
    assert_int_equal(prit_read_keys(b, NULL, keys, 8), 0);
    assert_false(prit_read_reservation(b, NULL, NULL));
    /* SPC-5 5.13.5.3: only REPLACE LOST RESERVATION may change PR state now. */
    expect_lost(prit_register(b, 0, KEY_B), &s);

    /* SPC-5 5.13.11.3: RESERVATION KEY zero, the new key in SERVICE ACTION RESERVATION KEY; the issuer is
     * registered, holds the new reservation, and PRgeneration restarts at zero. */
    assert_int_equal(prit_prout_basic(a, 0x08, 1, KEY_A, KEY_NEW, 0, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_prout_basic(a, 0x08, 1, 0, KEY_NEW, 0, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_read_keys(b, &gen, keys, 8), 1);
    assert_true(keys[0] == KEY_NEW);
    assert_int_equal(gen, 0);
    assert_true(prit_read_reservation(b, &key, &type));
    assert_true(key == KEY_NEW);
    assert_int_equal(type, 1);
    assert_int_equal(prit_write(a, 40, &s), SCSI_STATUS_GOOD);
    /* B's registration did not come back: Write Exclusive conflicts it. */
    assert_int_equal(prit_write(b, 40, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    assert_int_equal(prit_read(b, 40, &s), SCSI_STATUS_GOOD);
    itest_logout(a);
    itest_logout(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lost_reservation_blocks_the_medium_until_replace_lost_reservation,
                                        lost_setup, lost_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
