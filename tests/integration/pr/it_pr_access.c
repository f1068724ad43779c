/* The persistent reservation access table over the wire (SPC-4 5.13.1 Table 63, SBC-3 4.17 Table 13): for every
 * reservation type, a registered and an unregistered non-holder send one command of each access class, and the
 * status is what the table says. The holder is always allowed.
 *
 *   H (initiator-a, q1) --portal 1--+   holder (for All Registrants types: one of the registrants)
 *   R (initiator-b, q1) --portal 2--+--> prtarget LU 0, a removable medium (PREVENT ALLOW MEDIUM REMOVAL)
 *   U (initiator-c, q1) --portal 1--+   never registered
 */
#include "tests/integration/pr/pr_it.h"

#define KEY_H 0x4001ull
#define KEY_R 0x4002ull

enum cmdk { C_READ, C_WRITE, C_TUR, C_PREVENT, C_ALLOW, C_INQUIRY, C_READ_CAPACITY, C_MODE_SENSE, C_N };

static const char *const cmd_name[C_N] = { "READ(10)", "WRITE(10)", "TEST UNIT READY", "PREVENT(1)",
                                            "PREVENT(0)", "INQUIRY", "READ CAPACITY(10)", "MODE SENSE(6)" };

static int run(struct iscsi_context *c, enum cmdk k)
{
    struct prit_sense s;
    uint8_t buf[256];
    switch (k) {
    case C_READ: return prit_read(c, 30, &s);
    case C_WRITE: return prit_write(c, 30, &s);
    case C_TUR: return prit_tur(c, &s);
    case C_PREVENT:
    case C_ALLOW: {
        uint8_t cdb[6] = { 0x1e, 0, 0, 0, k == C_PREVENT ? 1 : 0, 0 };
        return prit_cmd(c, cdb, 6, NULL, 0, NULL, 0, NULL, &s);
    }
    case C_INQUIRY: {
        uint8_t cdb[6] = { 0x12, 0, 0, 0, 96, 0 };
        return prit_cmd(c, cdb, 6, NULL, 0, buf, 96, NULL, &s);
    }
    case C_READ_CAPACITY: {
        uint8_t cdb[10] = { 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        return prit_cmd(c, cdb, 10, NULL, 0, buf, 8, NULL, &s);
    }
    case C_MODE_SENSE:
    default: {
        uint8_t cdb[6] = { 0x1a, 0x08, 0x3f, 0, 255, 0 };
        return prit_cmd(c, cdb, 6, NULL, 0, buf, 255, NULL, &s);
    }
    }
}

/* Expected outcome for a non-holder: true = RESERVATION CONFLICT. ex: Exclusive Access family; ro_ar:
 * Registrants Only / All Registrants, where registered nexuses have the holder's access (Table 63 notes). */
static bool conflicts(uint8_t type, bool registered, enum cmdk k)
{
    bool ex = type == 3 || type == 6 || type == 8;
    bool ro_ar = type >= 5;
    if (ro_ar && registered)
        return false;
    switch (k) {
    case C_READ:
    case C_MODE_SENSE:
        return ex;
    case C_WRITE:
    case C_PREVENT:
        return true;
    default:
        /* TEST UNIT READY (ALLOW COMMANDS 011b), PREVENT=0, INQUIRY and READ CAPACITY never conflict. */
        return false;
    }
}

static int access_setup(void **state)
{
    struct prit_target *pt = calloc(1, sizeof(*pt));
    const char *args[] = { "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--lun", "mem:16M,removable",
                           NULL };
    if (!pt || itest_start(&pt->t, args) != 0) {
        free(pt);
        return -1;
    }
    *state = pt;
    return 0;
}

static void test_access_table_for_every_type_and_command_class(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *h = prit_login(pt, 0, ITEST_INAME_A, 1);
    struct iscsi_context *r = prit_login(pt, 1, ITEST_INAME_B, 1);
    struct iscsi_context *u = prit_login(pt, 0, PRIT_INAME_C, 1);
    assert_non_null(h);
    assert_non_null(r);
    assert_non_null(u);
    assert_int_equal(prit_register(h, 0, KEY_H), SCSI_STATUS_GOOD);
    assert_int_equal(prit_register(r, 0, KEY_R), SCSI_STATUS_GOOD);
    const uint8_t types[] = { 1, 3, 5, 6, 7, 8 };
    int failures = 0;
    for (size_t t = 0; t < sizeof(types); t++) {
        assert_int_equal(prit_reserve(h, KEY_H, types[t]), SCSI_STATUS_GOOD);
        for (int k = 0; k < C_N; k++) {
            struct {
                struct iscsi_context *c;
                bool registered;
                const char *who;
            } nx[3] = { { h, true, "holder" }, { r, true, "registered" }, { u, false, "unregistered" } };
            for (int n = 0; n < 3; n++) {
                bool want_conflict = n == 0 ? false : conflicts(types[t], nx[n].registered, (enum cmdk)k);
                int st = run(nx[n].c, (enum cmdk)k);
                bool ok = want_conflict ? st == SCSI_STATUS_RESERVATION_CONFLICT : st == SCSI_STATUS_GOOD;
                if (!ok) {
                    fprintf(stderr, "type %u, %s, %s: status 0x%x, expected %s\n", types[t], nx[n].who,
                            cmd_name[k], st, want_conflict ? "RESERVATION CONFLICT" : "GOOD");
                    failures++;
                }
            }
            /* Leave no prevention behind: it would block nothing here, but keeps each case independent. */
            if (k == C_PREVENT)
                for (int n = 0; n < 3; n++)
                    run(nx[n].c, C_ALLOW);
        }
        assert_int_equal(prit_release(h, KEY_H, types[t]), SCSI_STATUS_GOOD);
        /* Releasing a Registrants Only / All Registrants reservation tells R (SPC-4 5.13.11.2.2). */
        itest_clear_ua(r, 0);
    }
    assert_int_equal(failures, 0);
    itest_logout(h);
    itest_logout(r);
    itest_logout(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_access_table_for_every_type_and_command_class, access_setup,
                                        prit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
