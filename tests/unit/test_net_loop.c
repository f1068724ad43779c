/* Unit tests of transport/net_loop.c: portal address parsing, binding with an ephemeral port, time, and stop
 * before start. Real libuv, loopback only. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "transport/net.h"

static void test_parse_addr_accepts_ipv4_and_bracketed_ipv6(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    assert_int_equal(net_parse_addr("127.0.0.1:3260", &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 3260);
    assert_int_equal(net_parse_addr("0.0.0.0:0", &ss), 0);
    assert_int_equal(net_parse_addr("[::1]:3261", &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 3261);
}

static void test_parse_addr_rejects_malformed_portals(void **state)
{
    (void)state;
    static const char *const bad[] = { "", "127.0.0.1", "127.0.0.1:", ":3260", "127.0.0.1:65536", "127.0.0.1:-1",
                                       "127.0.0.1:32a", "::1:3260", "[::1]3260", "[::1]:", "[nope]:3260",
                                       "host.example:3260", "127.0.0.1:123456" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sockaddr_storage ss;
        if (net_parse_addr(bad[i], &ss) != -EINVAL)
            fail_msg("accepted '%s'", bad[i]);
    }
    struct sockaddr_storage ss;
    assert_int_equal(net_parse_addr(NULL, &ss), -EINVAL);
}

static void test_listen_on_port_0_reports_the_real_port(void **state)
{
    (void)state;
    struct net_loop *nl = net_loop_new(NULL);
    assert_non_null(nl);
    char bound[64];
    assert_int_equal(net_listen(nl, "127.0.0.1:0", 1, bound, sizeof bound), 0);
    assert_true(strncmp(bound, "127.0.0.1:", 10) == 0);
    assert_true(atoi(bound + 10) > 0);
    /* The same port again is in use: the error comes back as -errno, not as a crash or a silent success. */
    char again[64];
    assert_int_equal(net_listen(nl, bound, 2, again, sizeof again), -EADDRINUSE);
    assert_int_equal(net_listen(nl, "not-an-address", 3, again, sizeof again), -EINVAL);
    net_loop_free(nl);
}

static void test_listen_on_ipv6_loopback_uses_brackets(void **state)
{
    (void)state;
    struct net_loop *nl = net_loop_new(NULL);
    assert_non_null(nl);
    char bound[64];
    if (net_listen(nl, "[::1]:0", 1, bound, sizeof bound) != 0) {
        net_loop_free(nl);
        skip(); /* no IPv6 loopback here */
    }
    assert_true(strncmp(bound, "[::1]:", 6) == 0);
    net_loop_free(nl);
}

static void test_now_ms_is_monotonic(void **state)
{
    (void)state;
    uint64_t a = net_now_ms(NULL), b = net_now_ms(NULL);
    assert_true(b >= a);
    assert_true(a > 0);
}

static void test_stop_before_start_is_harmless(void **state)
{
    (void)state;
    struct net_loop *nl = net_loop_new(NULL);
    assert_non_null(nl);
    net_stop(nl);
    assert_int_equal(net_stop_signal(nl), 0);
    assert_int_equal(net_run(nl), 0);
    net_loop_free(nl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_addr_accepts_ipv4_and_bracketed_ipv6),
        cmocka_unit_test(test_parse_addr_rejects_malformed_portals),
        cmocka_unit_test(test_listen_on_port_0_reports_the_real_port),
        cmocka_unit_test(test_listen_on_ipv6_loopback_uses_brackets),
        cmocka_unit_test(test_now_ms_is_monotonic),
        cmocka_unit_test(test_stop_before_start_is_harmless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
