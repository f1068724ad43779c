/* NOP-In pings (RFC 7143 11.19, 6.1.1 connection keepalive): the target pings an idle initiator with a
 * NOP-In carrying a valid Target Transfer Tag, and an answered ping keeps the connection; a NOP-Out from the
 * initiator is answered with a NOP-In echoing its data.
 *
 *   raw initiator-b ── idle ──> prtarget (pings every 5 s)
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/integration/itest.h"

static int setup(void **state)
{
    static struct itest_target t;
    const char *args[] = { "--lun", "mem:16M", NULL };
    if (itest_start(&t, args) != 0)
        return -1;
    *state = &t;
    return 0;
}

static int teardown(void **state)
{
    return itest_stop(*state, SIGTERM) == 0 ? 0 : -1;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void test_nop_out_ping_is_answered_with_its_data(void **state)
{
    struct itest_target *t = *state;
    struct itest_raw r;
    assert_int_equal(itest_raw_connect(&r, itest_port(t, 0)), 0);
    assert_int_equal(itest_raw_login(&r, ITEST_INAME_B, ITEST_IQN, false, false, NULL, 0), 0);
    static const char ping[] = "are you there?";
    uint8_t bhs[48] = { 0x40 | 0x00, 0x80 }; /* NOP-Out, immediate, F */
    put32(bhs + 16, 0x4242);
    put32(bhs + 20, 0xffffffffu); /* a ping from the initiator: reserved TTT (RFC 7143 11.18.3) */
    put32(bhs + 24, r.cmdsn);
    put32(bhs + 28, r.exp_statsn);
    assert_int_equal(itest_raw_send(&r, bhs, ping, sizeof ping), 0);
    struct itest_pdu p;
    for (;;) {
        assert_int_equal(itest_raw_recv(&r, &p), 0);
        if ((p.bhs[0] & 0x3f) == 0x20 && get32(p.bhs + 16) == 0x4242)
            break;
        itest_pdu_free(&p); /* a ping of the target's own may come first */
    }
    /* RFC 7143 11.19: the answer carries the initiator's ITT, a reserved TTT and the ping data back. */
    assert_int_equal(get32(p.bhs + 20), 0xffffffffu);
    assert_int_equal(p.data_len, sizeof ping);
    assert_memory_equal(p.data, ping, sizeof ping);
    itest_pdu_free(&p);
    assert_int_equal(itest_raw_logout(&r), 0);
    itest_raw_close(&r);
}

static void test_idle_initiator_is_pinged_and_an_answer_keeps_the_connection(void **state)
{
    struct itest_target *t = *state;
    struct itest_raw r;
    assert_int_equal(itest_raw_connect(&r, itest_port(t, 0)), 0);
    assert_int_equal(itest_raw_login(&r, ITEST_INAME_B, ITEST_IQN, false, false, NULL, 0), 0);
    /* The target pings after 5 s of silence; the raw socket waits up to 10 s per receive. */
    struct itest_pdu p;
    assert_int_equal(itest_raw_recv(&r, &p), 0);
    assert_int_equal(p.bhs[0] & 0x3f, 0x20);
    uint32_t ttt = get32(p.bhs + 20);
    /* RFC 7143 11.19.1: a target ping has ITT 0xffffffff and a TTT the initiator must echo. */
    assert_int_equal(get32(p.bhs + 16), 0xffffffffu);
    assert_true(ttt != 0xffffffffu);
    uint8_t bhs[48] = { 0x40 | 0x00, 0x80 };
    memcpy(bhs + 8, p.bhs + 8, 8);
    put32(bhs + 16, 0xffffffffu);
    put32(bhs + 20, ttt);
    put32(bhs + 24, r.cmdsn);
    put32(bhs + 28, r.exp_statsn);
    itest_pdu_free(&p);
    assert_int_equal(itest_raw_send(&r, bhs, NULL, 0), 0);
    /* Still served afterwards. */
    static const uint8_t tur[6] = { 0 };
    assert_int_equal(itest_raw_scsi(&r, tur, 6, 0, NULL, 0, NULL, 0, NULL, NULL), 0);
    assert_int_equal(itest_raw_logout(&r), 0);
    itest_raw_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nop_out_ping_is_answered_with_its_data),
        cmocka_unit_test(test_idle_initiator_is_pinged_and_an_answer_keeps_the_connection),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
