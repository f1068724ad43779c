/* PREEMPT AND ABORT with commands in flight (SPC-4 5.13.11.2.6, SAM-5 5.6, SPC-4 7.5.8 TAS): the preempted
 * nexus has WRITEs outstanding (sent without data, each waiting for its R2T to be answered) when another
 * initiator preempts it. Every one of those tasks is aborted; with TAS=1 each ends with TASK ABORTED status, with
 * TAS=0 it ends without a response and the nexus gets COMMANDS CLEARED BY ANOTHER INITIATOR (2Fh/00h); in both
 * cases the preempted nexus then gets REGISTRATIONS PREEMPTED (2Ah/05h), once.
 *
 *   A (raw initiator, initiator-a, fixed ISID) --portal 1--+--> prtarget LU 0
 *   B (libiscsi, initiator-b, q1)              --portal 2--+
 */
#include <poll.h>

#include "tests/integration/pr/pr_it.h"

#define KEY_A 0xabab0001ull
#define KEY_B 0xabab0002ull
#define WRITE_BLOCKS 64u

static const uint8_t isid_a[6] = { 0x80, 0x5e, 0xed, 0x00, 0x00, 0x0a };

/* A SCSI Response that arrived for another task while waiting. */
struct seen {
    uint32_t itt;
    int status;
};

struct raw_a {
    struct itest_raw r;
    struct seen seen[8];
    int n_seen;
};

/* Send a SCSI Command PDU without any data (RFC 7143 11.3); returns its ITT. */
static uint32_t raw_send_cmd(struct raw_a *a, const uint8_t *cdb, uint32_t edtl, bool write)
{
    struct itest_raw *r = &a->r;
    uint32_t itt = r->itt++;
    uint8_t bhs[48] = { 0 };
    bhs[0] = 0x01;
    bhs[1] = (uint8_t)(0x80 | (write ? 0x20 : 0) | (!write && edtl ? 0x40 : 0) | 0x01);
    prit_be32(bhs + 16, itt);
    prit_be32(bhs + 20, edtl);
    prit_be32(bhs + 24, r->cmdsn++);
    prit_be32(bhs + 28, r->exp_statsn);
    memcpy(bhs + 32, cdb, cdb[0] < 0x20 ? 6 : 10);
    assert_int_equal(itest_raw_send(r, bhs, NULL, 0), 0);
    return itt;
}

/* Read PDUs until the SCSI Response (or final Data-In) of want arrives or timeout_ms pass; answer pings, note
 * the responses of other tasks and, for want, its sense. Returns the status of want, -2 on timeout, -1 on error.
 * When want_r2t is set, an R2T for want ends the wait instead (returns 0x100). */
static int raw_wait(struct raw_a *a, uint32_t want, bool want_r2t, int timeout_ms, struct prit_sense *s)
{
    struct itest_raw *r = &a->r;
    if (s)
        memset(s, 0, sizeof(*s));
    for (;;) {
        struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
        int pr = poll(&pfd, 1, timeout_ms);
        if (pr == 0)
            return -2;
        if (pr < 0)
            return -1;
        struct itest_pdu p;
        if (itest_raw_recv(r, &p) != 0)
            return -1;
        uint8_t op = p.bhs[0] & 0x3f;
        uint32_t itt = prit_get32(p.bhs + 16);
        int result = -3;
        if (op == 0x20 && prit_get32(p.bhs + 20) != 0xffffffffu) {
            /* NOP-In ping: answer it (RFC 7143 11.18) so the target keeps the connection. */
            uint8_t bhs[48] = { 0 };
            bhs[0] = 0x40;
            bhs[1] = 0x80;
            prit_be32(bhs + 16, 0xffffffffu);
            memcpy(bhs + 20, p.bhs + 20, 4);
            prit_be32(bhs + 24, r->cmdsn);
            prit_be32(bhs + 28, r->exp_statsn);
            itest_raw_send(r, bhs, NULL, 0);
        } else if (op == 0x31 && itt == want && want_r2t) {
            result = 0x100;
        } else if (op == 0x21 || (op == 0x25 && (p.bhs[1] & 0x01))) {
            r->exp_statsn = prit_get32(p.bhs + 24) + 1;
            int status = p.bhs[3];
            if (itt == want) {
                if (s && op == 0x21 && status == SCSI_STATUS_CHECK_CONDITION && p.data_len >= 2 + 14) {
                    const uint8_t *sd = p.data + 2;
                    bool desc = (sd[0] & 0x7f) >= 0x72;
                    s->key = (desc ? sd[1] : sd[2]) & 0x0f;
                    s->asc = desc ? sd[2] : sd[12];
                    s->ascq = desc ? sd[3] : sd[13];
                }
                result = status;
            } else if (a->n_seen < 8) {
                a->seen[a->n_seen].itt = itt;
                a->seen[a->n_seen].status = status;
                a->n_seen++;
            }
        }
        itest_pdu_free(&p);
        if (result != -3)
            return result;
    }
}

static int raw_prout(struct raw_a *a, uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key)
{
    uint8_t cdb[10] = { 0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0 };
    uint8_t p[24] = { 0 };
    prit_be64(p, key);
    prit_be64(p + 8, sa_key);
    return itest_raw_scsi(&a->r, cdb, 10, 0, p, sizeof(p), NULL, 0, NULL, NULL);
}

static int raw_tur(struct raw_a *a, struct prit_sense *s)
{
    static const uint8_t cdb[6] = { 0 };
    uint32_t itt = raw_send_cmd(a, cdb, 0, false);
    return raw_wait(a, itt, false, 5000, s);
}

/* Two WRITE(10)s from A, each left waiting for its Data-Out after the target's first R2T. */
static void start_two_writes(struct raw_a *a, uint32_t itt[2])
{
    for (int i = 0; i < 2; i++) {
        uint8_t cdb[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        prit_be32(cdb + 2, 100u + 100u * (uint32_t)i);
        cdb[8] = WRITE_BLOCKS;
        itt[i] = raw_send_cmd(a, cdb, WRITE_BLOCKS * PRIT_BS, true);
        assert_int_equal(raw_wait(a, itt[i], true, 5000, NULL), 0x100);
    }
}

static struct raw_a *login_a(struct prit_target *pt)
{
    struct raw_a *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    assert_int_equal(itest_raw_connect(&a->r, itest_port(&pt->t, 0)), 0);
    memcpy(a->r.isid, isid_a, 6);
    assert_int_equal(itest_raw_login(&a->r, ITEST_INAME_A, ITEST_IQN, false, false, NULL, 0), 0);
    assert_int_equal(raw_prout(a, 0x00, 0, 0, KEY_A), SCSI_STATUS_GOOD);
    assert_int_equal(raw_prout(a, 0x01, 1, KEY_A, 0), SCSI_STATUS_GOOD);
    return a;
}

/* The state after the preemption: B holds, A is unregistered and conflicts on WRITE. */
static void check_b_holds(struct raw_a *a, struct iscsi_context *b)
{
    struct prit_sense s;
    uint64_t key, keys[8];
    assert_true(prit_read_reservation(b, &key, NULL));
    assert_true(key == KEY_B);
    assert_int_equal(prit_read_keys(b, NULL, keys, 8), 1);
    assert_true(keys[0] == KEY_B);
    assert_int_equal(prit_write(b, 1, &s), SCSI_STATUS_GOOD);
    uint8_t cdb[10] = { 0x2a, 0, 0, 0, 0, 1, 0, 0, 1, 0 };
    uint8_t data[PRIT_BS] = { 0 };
    assert_int_equal(itest_raw_scsi(&a->r, cdb, 10, 0, data, sizeof(data), NULL, 0, NULL, NULL),
                     SCSI_STATUS_RESERVATION_CONFLICT);
}

static void test_preempt_and_abort_with_tas_ends_waiting_writes_with_task_aborted(void **state)
{
    struct prit_target *pt = *state;
    struct raw_a *a = login_a(pt);
    struct iscsi_context *b = prit_login(pt, 1, ITEST_INAME_B, 1);
    assert_non_null(b);
    struct prit_sense s;
    assert_int_equal(prit_register(b, 0, KEY_B), SCSI_STATUS_GOOD);

    uint32_t itt[2];
    start_two_writes(a, itt);
    /* SPC-4 5.13.11.2.6: B preempts A's key and aborts every task of A's nexus. */
    assert_int_equal(prit_prout_basic(b, 0x05, 1, KEY_B, KEY_A, 0, &s), SCSI_STATUS_GOOD);
    /* TAS=1 (the default control mode page): each aborted task of another nexus completes with TASK ABORTED
     * (SAM-5 5.6), without A having to send the data the R2Ts asked for. */
    for (int i = 0; i < 2; i++) {
        int st = raw_wait(a, itt[i], false, 3000, NULL);
        if (st == -3 || st == -2) {
            for (int k = 0; k < a->n_seen; k++)
                if (a->seen[k].itt == itt[i])
                    st = a->seen[k].status;
        }
        assert_int_equal(st, SCSI_STATUS_TASK_ABORTED);
    }
    /* Then REGISTRATIONS PREEMPTED, once (no 2Fh/00h with TAS=1). */
    assert_int_equal(raw_tur(a, &s), SCSI_STATUS_CHECK_CONDITION);
    assert_int_equal(s.key, SCSI_SENSE_UNIT_ATTENTION);
    assert_int_equal(s.asc, 0x2a);
    assert_int_equal(s.ascq, 0x05);
    assert_int_equal(raw_tur(a, &s), SCSI_STATUS_GOOD);
    check_b_holds(a, b);
    prit_assert_no_ua(b);
    itest_raw_logout(&a->r);
    itest_raw_close(&a->r);
    free(a);
    itest_logout(b);
}

/* Set TAS in the Control mode page (SPC-4 7.5.8) with MODE SENSE(6) / MODE SELECT(6). */
static void set_tas(struct iscsi_context *c, bool tas)
{
    uint8_t cdb[6] = { 0x1a, 0x08, 0x0a, 0, 255, 0 };
    uint8_t buf[255];
    uint32_t len;
    assert_int_equal(prit_cmd(c, cdb, 6, NULL, 0, buf, sizeof(buf), &len, NULL), SCSI_STATUS_GOOD);
    assert_true(len >= 4 + 12);
    uint8_t page[4 + 12] = { 0 };
    memcpy(page + 4, buf + 4 + buf[3], 12);
    page[4] &= 0x3f;
    page[4 + 5] = (uint8_t)((page[4 + 5] & ~0x40) | (tas ? 0x40 : 0));
    uint8_t sel[6] = { 0x15, 0x10, 0, 0, sizeof(page), 0 };
    struct prit_sense s;
    assert_int_equal(prit_cmd(c, sel, 6, page, sizeof(page), NULL, 0, NULL, &s), SCSI_STATUS_GOOD);
}

static void test_preempt_and_abort_without_tas_ends_writes_silently_with_commands_cleared(void **state)
{
    struct prit_target *pt = *state;
    struct iscsi_context *b = prit_login(pt, 1, ITEST_INAME_B, 1);
    assert_non_null(b);
    set_tas(b, false);
    /* SPC-4 7.5.8: the mode change is a parameter change the other nexuses hear about; A logs in after it. */
    itest_clear_ua(b, 0);
    struct raw_a *a = login_a(pt);
    struct prit_sense s;
    assert_int_equal(prit_register(b, 0, KEY_B), SCSI_STATUS_GOOD);

    uint32_t itt[2];
    start_two_writes(a, itt);
    assert_int_equal(prit_prout_basic(b, 0x05, 1, KEY_B, KEY_A, 0, &s), SCSI_STATUS_GOOD);
    /* TAS=0: the aborted tasks end without any response (SAM-5 5.6)... */
    int st = raw_tur(a, &s);
    for (int k = 0; k < a->n_seen; k++)
        assert_true(a->seen[k].itt != itt[0] && a->seen[k].itt != itt[1]);
    /* ...and A is told, once each, COMMANDS CLEARED BY ANOTHER INITIATOR and REGISTRATIONS PREEMPTED (the
     * order between two pending conditions is the device server's choice, SAM-5 5.14). */
    bool cleared = false, preempted = false;
    for (int i = 0; i < 2; i++) {
        if (i)
            st = raw_tur(a, &s);
        assert_int_equal(st, SCSI_STATUS_CHECK_CONDITION);
        assert_int_equal(s.key, SCSI_SENSE_UNIT_ATTENTION);
        if (s.asc == 0x2f && s.ascq == 0x00 && !cleared)
            cleared = true;
        else if (s.asc == 0x2a && s.ascq == 0x05 && !preempted)
            preempted = true;
        else
            fail_msg("unexpected unit attention %02xh/%02xh", s.asc, s.ascq);
    }
    assert_true(cleared && preempted);
    assert_int_equal(raw_tur(a, &s), SCSI_STATUS_GOOD);
    check_b_holds(a, b);
    itest_raw_close(&a->r);
    free(a);
    itest_logout(b);
}

static void test_preempt_without_abort_leaves_commands_of_the_preempted_nexus_running(void **state)
{
    struct prit_target *pt = *state;
    struct raw_a *a = login_a(pt);
    struct iscsi_context *b = prit_login(pt, 1, ITEST_INAME_B, 1);
    assert_non_null(b);
    struct prit_sense s;
    assert_int_equal(prit_register(b, 0, KEY_B), SCSI_STATUS_GOOD);
    uint32_t itt[2];
    start_two_writes(a, itt);
    /* SPC-4 5.13.11.2.4: plain PREEMPT aborts nothing: no response arrives for A's waiting WRITEs. */
    assert_int_equal(prit_prout_basic(b, 0x04, 1, KEY_B, KEY_A, 0, &s), SCSI_STATUS_GOOD);
    assert_int_equal(raw_wait(a, itt[0], false, 500, NULL), -2);
    assert_int_equal(a->n_seen, 0);
    itest_raw_close(&a->r);
    free(a);
    itest_logout(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_preempt_and_abort_with_tas_ends_waiting_writes_with_task_aborted,
                                        prit_setup, prit_teardown),
        cmocka_unit_test_setup_teardown(
            test_preempt_and_abort_without_tas_ends_writes_silently_with_commands_cleared, prit_setup,
            prit_teardown),
        cmocka_unit_test_setup_teardown(test_preempt_without_abort_leaves_commands_of_the_preempted_nexus_running,
                                        prit_setup, prit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
