/* APTPL across a restart of prtarget (SPC-4 5.13.4, 6.15.2, 6.16.3) with --state-dir: with APTPL=1 the
 * registrations and the reservation come back after the process is killed (the state reached the disk before GOOD
 * was returned) and PRgeneration restarts at zero; with APTPL=0 nothing comes back; a corrupt state file stops the
 * daemon from starting, with one line naming the file.
 *
 *   run 1: A (initiator-a, q1) --portal 1--+--> prtarget --state-dir D     ... SIGKILL
 *          B (initiator-b, q1) --portal 2--+
 *   run 2: A, B, C (initiator-c) log in again (new TCP ports, same portal groups)
 */
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "tests/integration/pr/pr_it.h"

#define KEY_A 0xa97b1001ull
#define KEY_B 0xa97b1002ull

static int aptpl_setup(void **state)
{
    struct prit_target *pt = calloc(1, sizeof(*pt));
    char dir[256];
    if (!pt || itest_mkdtemp(dir, sizeof(dir)) != 0 || prit_start_in(pt, dir) != 0) {
        free(pt);
        return -1;
    }
    *state = pt;
    return 0;
}

/* Kill prtarget without a chance to flush anything, then start it again on the same state directory. */
static void crash_and_restart(struct prit_target *pt)
{
    assert_int_equal(itest_stop(&pt->t, SIGKILL), 128 + SIGKILL);
    assert_int_equal(prit_start_in(pt, pt->state_dir), 0);
}

/* REPORT CAPABILITIES byte 2 bit 0 PTPL_C and byte 3 bit 0 PTPL_A (SPC-4 6.15.4). */
static void report_ptpl(struct iscsi_context *c, bool *ptpl_c, bool *ptpl_a)
{
    uint8_t buf[8];
    uint32_t len;
    assert_int_equal(prit_prin(c, 0x02, buf, sizeof(buf), &len), SCSI_STATUS_GOOD);
    assert_int_equal(len, 8);
    *ptpl_c = buf[2] & 0x01;
    *ptpl_a = buf[3] & 0x01;
}

static void test_aptpl_registrations_and_reservation_survive_a_crash_with_prgeneration_zero(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *b = prit_login(pt, 1, ITEST_INAME_B, 1);
    assert_non_null(a);
    assert_non_null(b);
    struct prit_sense s;
    bool ptpl_c, ptpl_a;

    report_ptpl(a, &ptpl_c, &ptpl_a);
    assert_true(ptpl_c);
    assert_false(ptpl_a);
    assert_int_equal(prit_prout_basic(a, 0x00, 0, 0, KEY_A, PRIT_APTPL, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_prout_basic(b, 0x00, 0, 0, KEY_B, PRIT_APTPL, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(a, KEY_A, 5), SCSI_STATUS_GOOD);
    report_ptpl(a, &ptpl_c, &ptpl_a);
    assert_true(ptpl_a);
    uint32_t gen;
    uint64_t keys[8];
    assert_int_equal(prit_read_keys(a, &gen, keys, 8), 2);
    assert_int_equal(gen, 2);
    /* The sessions die with the process; the contexts are only freed. */
    iscsi_destroy_context(a);
    iscsi_destroy_context(b);

    crash_and_restart(pt);

    a = prit_login(pt, 0, ITEST_INAME_A, 1);
    b = prit_login(pt, 1, ITEST_INAME_B, 1);
    struct iscsi_context *c = prit_login(pt, 0, PRIT_INAME_C, 1);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    /* SPC-4 5.13.4: both registrations and the Registrants Only reservation are back; SPC-4 6.15.2: the
     * PRgeneration starts again at zero after a power on. */
    assert_int_equal(prit_read_keys(c, &gen, keys, 8), 2);
    assert_int_equal(gen, 0);
    assert_true(prit_has_key(c, KEY_A));
    assert_true(prit_has_key(c, KEY_B));
    uint64_t key;
    uint8_t type;
    assert_true(prit_read_reservation(c, &key, &type));
    assert_true(key == KEY_A);
    assert_int_equal(type, 5);
    /* The restored state is effective per nexus: registrants write, the unregistered C does not. */
    assert_int_equal(prit_write(a, 14, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(b, 14, &s), SCSI_STATUS_GOOD);
    assert_int_equal(prit_write(c, 14, &s), SCSI_STATUS_RESERVATION_CONFLICT);
    struct prit_fs fs[4];
    assert_int_equal(prit_full_status(c, fs, 4), 2);
    for (int i = 0; i < 2; i++)
        assert_int_equal(fs[i].rtpi, fs[i].key == KEY_A ? 1 : 2);
    report_ptpl(c, &ptpl_c, &ptpl_a);
    assert_true(ptpl_a);
    /* The next change counts from zero. */
    assert_int_equal(prit_register(b, KEY_B, KEY_B + 1), SCSI_STATUS_GOOD);
    assert_int_equal(prit_read_keys(c, &gen, keys, 8), 2);
    assert_int_equal(gen, 1);
    itest_logout(a);
    itest_logout(b);
    itest_logout(c);
}

static void test_without_aptpl_nothing_survives_a_restart(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    assert_non_null(a);
    assert_int_equal(prit_register(a, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(prit_reserve(a, KEY_A, 1), SCSI_STATUS_GOOD);
    iscsi_destroy_context(a);
    crash_and_restart(pt);
    a = prit_login(pt, 0, ITEST_INAME_A, 1);
    assert_non_null(a);
    /* SPC-4 5.13.4: with the last APTPL bit zero, a power loss releases the reservation and every key. */
    uint32_t gen;
    uint64_t keys[8];
    assert_int_equal(prit_read_keys(a, &gen, keys, 8), 0);
    assert_int_equal(gen, 0);
    assert_false(prit_read_reservation(a, NULL, NULL));
    itest_logout(a);
}

static void test_turning_aptpl_off_is_persisted_too(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    assert_non_null(a);
    struct prit_sense s;
    assert_int_equal(prit_prout_basic(a, 0x00, 0, 0, KEY_A, PRIT_APTPL, &s), SCSI_STATUS_GOOD);
    /* SPC-4 5.13.4: the APTPL bit of the last REGISTER decides; re-registering with APTPL=0 ends persistence. */
    assert_int_equal(prit_prout_basic(a, 0x00, 0, KEY_A, KEY_A, 0, &s), SCSI_STATUS_GOOD);
    iscsi_destroy_context(a);
    crash_and_restart(pt);
    a = prit_login(pt, 0, ITEST_INAME_A, 1);
    assert_non_null(a);
    uint64_t keys[8];
    assert_int_equal(prit_read_keys(a, NULL, keys, 8), 0);
    itest_logout(a);
}

static void test_corrupt_state_file_refuses_to_start_naming_the_file(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    assert_non_null(a);
    struct prit_sense s;
    assert_int_equal(prit_prout_basic(a, 0x00, 0, 0, KEY_A, PRIT_APTPL, &s), SCSI_STATUS_GOOD);
    itest_logout(a);
    assert_int_equal(itest_stop(&pt->t, SIGTERM), 0);

    /* Flip one byte in the middle of every state file the run left behind. */
    DIR *d = opendir(pt->state_dir);
    assert_non_null(d);
    struct dirent *e;
    int corrupted = 0;
    char path[600] = "";
    while ((e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, ".json"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", pt->state_dir, e->d_name);
        int fd = open(path, O_RDWR);
        assert_true(fd >= 0);
        off_t size = lseek(fd, 0, SEEK_END);
        char ch;
        assert_true(pread(fd, &ch, 1, size / 2) == 1);
        ch = ch == '7' ? '8' : '7';
        assert_true(pwrite(fd, &ch, 1, size / 2) == 1);
        close(fd);
        corrupted++;
    }
    closedir(d);
    assert_int_equal(corrupted, 1);

    /* design.md: a bad state file is one line on stderr naming the file, and exit status 2. */
    const char *args[] = { "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--lun", "mem:16M",
                           "--state-dir", pt->state_dir, NULL };
    char out[4096], err[4096];
    assert_int_equal(itest_run(args, out, sizeof(out), err, sizeof(err)), 2);
    assert_non_null(strstr(err, path));
}

static void test_state_file_of_another_lu_is_refused(void **state)
{
    struct prit_target *pt = *state;
    /* Restart with two LUs on the same state directory; LU 0 persists a registration. */
    assert_int_equal(itest_stop(&pt->t, SIGTERM), 0);
    const char *args[] = { "--listen", "127.0.0.1:0", "--lun", "mem:16M", "--lun", "mem:16M", "--state-dir",
                           pt->state_dir, NULL };
    assert_int_equal(itest_start(&pt->t, args), 0);
    struct iscsi_context *a = prit_login(pt, 0, ITEST_INAME_A, 1);
    assert_non_null(a);
    struct prit_sense s;
    assert_int_equal(prit_prout_basic(a, 0x00, 0, 0, KEY_A, PRIT_APTPL, &s), SCSI_STATUS_GOOD);
    itest_logout(a);
    assert_int_equal(itest_stop(&pt->t, SIGTERM), 0);

    /* Hand LU 0's (valid, checksummed) file to LU 1. */
    DIR *d = opendir(pt->state_dir);
    assert_non_null(d);
    struct dirent *e;
    char from[600] = "", to[600] = "";
    while ((e = readdir(d)) != NULL) {
        const char *lun0 = strstr(e->d_name, ".lun0.prstate.json");
        if (!lun0)
            continue;
        snprintf(from, sizeof(from), "%s/%s", pt->state_dir, e->d_name);
        snprintf(to, sizeof(to), "%s/%.*s.lun1.prstate.json", pt->state_dir, (int)(lun0 - e->d_name), e->d_name);
    }
    closedir(d);
    assert_true(from[0] != '\0');
    assert_int_equal(rename(from, to), 0);

    /* SPC-4 5.13.4: the file names the LU it belongs to; LU 1 refuses LU 0's registrations and the daemon
     * does not start (design.md: one line naming the file, exit 2). */
    char out[4096], err[4096];
    assert_int_equal(itest_run(args, out, sizeof(out), err, sizeof(err)), 2);
    assert_non_null(strstr(err, to));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_aptpl_registrations_and_reservation_survive_a_crash_with_prgeneration_zero, aptpl_setup,
            prit_teardown),
        cmocka_unit_test_setup_teardown(test_without_aptpl_nothing_survives_a_restart, aptpl_setup, prit_teardown),
        cmocka_unit_test_setup_teardown(test_turning_aptpl_off_is_persisted_too, aptpl_setup, prit_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_state_file_refuses_to_start_naming_the_file, aptpl_setup,
                                        prit_teardown),
        cmocka_unit_test_setup_teardown(test_state_file_of_another_lu_is_refused, aptpl_setup, prit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
