/* Unit tests of prstate/pr_itn.c: the I_T nexus table (initiator name + ISID + relative target port -> id).
 * Topology: a table of two target ports; initiators are made up per test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "prstate/pr.h"

static const uint8_t isid1[6] = { 0x40, 0, 0, 0, 0, 1 };
static const uint8_t isid2[6] = { 0x40, 0, 0, 0, 0, 2 };

static void test_same_name_isid_and_port_give_the_same_id(void **state)
{
    struct pr_itn_tab *t = pr_itn_tab_new(2);
    uint32_t a = pr_itn_intern(t, "iqn.a", isid1, 1);
    assert_int_not_equal(a, PR_ITN_NONE);
    assert_int_equal(pr_itn_intern(t, "iqn.a", isid1, 1), a);
    assert_int_equal(pr_itn_count(t), 1);
    pr_itn_tab_free(t);
}

static void test_new_isid_or_other_port_is_a_new_nexus(void **state)
{
    struct pr_itn_tab *t = pr_itn_tab_new(2);
    uint32_t a = pr_itn_intern(t, "iqn.a", isid1, 1);
    uint32_t b = pr_itn_intern(t, "iqn.a", isid2, 1);
    uint32_t c = pr_itn_intern(t, "iqn.a", isid1, 2);
    uint32_t d = pr_itn_intern(t, "iqn.b", isid1, 1);
    assert_int_not_equal(a, b);
    assert_int_not_equal(a, c);
    assert_int_not_equal(b, c);
    assert_int_not_equal(a, d);
    assert_int_equal(pr_itn_count(t), 4);
    const struct pr_itn *e = pr_itn_get(t, c);
    assert_string_equal(e->iname, "iqn.a");
    assert_memory_equal(e->isid, isid1, 6);
    assert_int_equal(e->rtpi, 2);
    pr_itn_tab_free(t);
}

static void test_bad_identities_are_refused(void **state)
{
    struct pr_itn_tab *t = pr_itn_tab_new(2);
    char longname[PR_INAME_MAX + 8];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(pr_itn_intern(t, "", isid1, 1), PR_ITN_NONE);
    assert_int_equal(pr_itn_intern(t, longname, isid1, 1), PR_ITN_NONE);
    assert_int_equal(pr_itn_intern(t, "iqn.a", isid1, 0), PR_ITN_NONE);
    assert_int_equal(pr_itn_intern(t, "iqn.a", isid1, 3), PR_ITN_NONE);
    assert_int_equal(pr_itn_count(t), 0);
    assert_null(pr_itn_get(t, 0));
    assert_null(pr_itn_tab_new(0));
    /* 223 bytes is the longest legal name (RFC 7143 4.2.7.1). */
    longname[PR_INAME_MAX - 1] = '\0';
    assert_int_not_equal(pr_itn_intern(t, longname, isid1, 1), PR_ITN_NONE);
    pr_itn_tab_free(t);
}

static void test_ids_stay_stable_as_the_table_grows(void **state)
{
    struct pr_itn_tab *t = pr_itn_tab_new(4);
    uint32_t ids[1000];
    char name[32];
    for (unsigned i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "iqn.n%u", i);
        ids[i] = pr_itn_intern(t, name, isid1, (uint16_t)(1 + i % 4));
        assert_int_equal(ids[i], i);
    }
    for (unsigned i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "iqn.n%u", i);
        assert_int_equal(pr_itn_intern(t, name, isid1, (uint16_t)(1 + i % 4)), ids[i]);
    }
    assert_int_equal(pr_itn_count(t), 1000);
    assert_int_equal(pr_itn_ports(t), 4);
    pr_itn_tab_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_name_isid_and_port_give_the_same_id),
        cmocka_unit_test(test_new_isid_or_other_port_is_a_new_nexus),
        cmocka_unit_test(test_bad_identities_are_refused),
        cmocka_unit_test(test_ids_stay_stable_as_the_table_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
