/* Unit tests of prstate/pr_out.c: every PERSISTENT RESERVE OUT service action, success and error paths, with
 * PRgeneration and the unit attentions checked after every call.
 *
 * Fixture topology (two target ports):
 *
 *      iqn.a isid 01 ──port 1──┐               ┌──port 2── iqn.a isid 01   (A2: same initiator port as A)
 *      iqn.b isid 01 ──port 1──┤   LU 0 (st)   ├──port 2── iqn.c isid 01   (C)
 *      iqn.b isid 02 ──port 1──┘               │
 *        A = (a,01,1)   B = (b,01,1)   B2 = (b,02,1)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/prt_be.h"
#include "prstate/pr.h"

struct fx {
    struct pr_itn_tab *tab;
    struct pr_state *st;
    uint32_t a, b, b2, c, a2;
    struct pr_result res;
};

static const uint8_t isid1[6] = { 0x40, 0, 0, 0, 0, 0x01 };
static const uint8_t isid2[6] = { 0x40, 0, 0, 0, 0, 0x02 };

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->tab = pr_itn_tab_new(2);
    f->st = pr_state_new(f->tab);
    f->a = pr_itn_intern(f->tab, "iqn.a", isid1, 1);
    f->b = pr_itn_intern(f->tab, "iqn.b", isid1, 1);
    f->b2 = pr_itn_intern(f->tab, "iqn.b", isid2, 1);
    f->c = pr_itn_intern(f->tab, "iqn.c", isid1, 2);
    f->a2 = pr_itn_intern(f->tab, "iqn.a", isid1, 2);
    pr_result_init(&f->res);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    pr_result_free(&f->res);
    pr_state_free(f->st);
    pr_itn_tab_free(f->tab);
    free(f);
    return 0;
}

static enum pr_status out(struct fx *f, uint32_t itn, uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key)
{
    struct pr_out_req r = { .sa = sa, .type = type, .key = key, .sa_key = sa_key };
    return pr_out(f->st, itn, &r, &f->res);
}

static enum pr_status out_req(struct fx *f, uint32_t itn, struct pr_out_req *r)
{
    return pr_out(f->st, itn, r, &f->res);
}

static void reg(struct fx *f, uint32_t itn, uint64_t key)
{
    assert_int_equal(out(f, itn, PR_OUT_REGISTER, 0, 0, key), PR_OK);
}

static bool has_ua(const struct fx *f, uint32_t itn, enum pr_ua_kind kind)
{
    for (size_t i = 0; i < f->res.n_ua; i++)
        if (f->res.ua[i].itn == itn && f->res.ua[i].kind == kind)
            return true;
    return false;
}

static uint64_t key_of(const struct fx *f, uint32_t itn)
{
    uint64_t k = 0;
    return pr_state_registered(f->st, itn, &k) ? k : 0;
}

/* Build an iSCSI TransportID (SPC-4 7.6.4.6) into p; returns its length. */
static size_t tid(uint8_t *p, const char *s, bool with_isid)
{
    size_t n = strlen(s) + 1;
    size_t add = (n + 3) & ~(size_t)3;
    if (add < 20)
        add = 20;
    memset(p, 0, 4 + add);
    p[0] = (uint8_t)((with_isid ? 0x40 : 0x00) | 0x05);
    prt_put_be16(p + 2, (uint16_t)add);
    memcpy(p + 4, s, n - 1);
    return 4 + add;
}

/* ---- REGISTER ---------------------------------------------------------------------------------------------- */

static void test_register_unregistered_nonzero_key_registers_and_bumps_generation(void **state)
{
    struct fx *f = *state;
    assert_int_equal(out(f, f->a, PR_OUT_REGISTER, 0, 0, 0x123abc), PR_OK);
    assert_int_equal(key_of(f, f->a), 0x123abc);
    assert_int_equal(pr_state_generation(f->st), 1);
    assert_int_equal(pr_state_reg_count(f->st), 1);
    assert_int_equal(f->res.n_ua, 0);
}

static void test_register_unregistered_with_nonzero_reservation_key_conflicts(void **state)
{
    struct fx *f = *state;
    assert_int_equal(out(f, f->a, PR_OUT_REGISTER, 0, 5, 6), PR_CONFLICT);
    assert_false(pr_state_registered(f->st, f->a, NULL));
    assert_int_equal(pr_state_generation(f->st), 0);
}

static void test_register_unregistered_zero_sa_key_is_a_noop(void **state)
{
    struct fx *f = *state;
    assert_int_equal(out(f, f->a, PR_OUT_REGISTER, 0, 0, 0), PR_OK);
    assert_int_equal(pr_state_reg_count(f->st), 0);
    assert_int_equal(pr_state_generation(f->st), 0);
}

static void test_register_registered_wrong_key_conflicts(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_REGISTER, 0, 2, 3), PR_CONFLICT);
    assert_int_equal(key_of(f, f->a), 1);
    assert_int_equal(pr_state_generation(f->st), 1);
}

static void test_register_registered_right_key_replaces_key(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_REGISTER, 0, 1, 7), PR_OK);
    assert_int_equal(key_of(f, f->a), 7);
    assert_int_equal(pr_state_generation(f->st), 2);
}

static void test_register_registered_zero_sa_key_unregisters(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_REGISTER, 0, 1, 0), PR_OK);
    assert_false(pr_state_registered(f->st, f->a, NULL));
    assert_int_equal(pr_state_generation(f->st), 2);
}

static void test_unregister_holder_of_write_exclusive_releases_without_ua(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0), PR_OK);
    assert_int_equal(out(f, f->a, PR_OUT_REGISTER, 0, 1, 0), PR_OK);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_false(ri.reserved);
    assert_int_equal(f->res.n_ua, 0);
}

static void test_unregister_holder_of_registrants_only_releases_with_ua_to_other_registrants(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    reg(f, f->c, 3);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE_RO, 1, 0), PR_OK);
    assert_int_equal(out(f, f->a, PR_OUT_REGISTER, 0, 1, 0), PR_OK);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_false(ri.reserved);
    assert_int_equal(f->res.n_ua, 2);
    assert_true(has_ua(f, f->b, PR_UA_RESERVATIONS_RELEASED));
    assert_true(has_ua(f, f->c, PR_UA_RESERVATIONS_RELEASED));
}

static void test_unregister_one_all_registrants_holder_keeps_reservation(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA_AR, 1, 0), PR_OK);
    assert_int_equal(out(f, f->a, PR_OUT_REGISTER, 0, 1, 0), PR_OK);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_true(ri.reserved);
    assert_int_equal(ri.type, PR_TYPE_EA_AR);
    /* The last registrant leaving ends it. */
    assert_int_equal(out(f, f->b, PR_OUT_REGISTER, 0, 2, 0), PR_OK);
    pr_state_reservation(f->st, &ri);
    assert_false(ri.reserved);
}

static void test_register_aptpl_without_state_file_is_invalid_field_in_parameter_list(void **state)
{
    struct fx *f = *state;
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 1, .aptpl = true };
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM);
    assert_int_equal(f->res.field_byte, 20);
    assert_int_equal(f->res.field_bit, 0);
    assert_int_equal(pr_state_reg_count(f->st), 0);
    assert_int_equal(pr_state_generation(f->st), 0);
}

static void test_register_all_tg_pt_registers_the_initiator_port_on_every_target_port(void **state)
{
    struct fx *f = *state;
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 9, .all_tg_pt = true };
    assert_int_equal(out_req(f, f->a, &r), PR_OK);
    assert_int_equal(key_of(f, f->a), 9);
    assert_int_equal(key_of(f, f->a2), 9);
    assert_int_equal(pr_state_reg_count(f->st), 2);
    assert_int_equal(pr_state_generation(f->st), 1);
    uint32_t cur = 0;
    struct pr_reg_info ri;
    while (pr_state_reg_next(f->st, &cur, &ri))
        assert_true(ri.all_tg_pt);
}

static void test_register_spec_i_pt_registers_every_listed_initiator_port(void **state)
{
    struct fx *f = *state;
    uint8_t list[256];
    size_t n = tid(list, "iqn.b,i,0x400000000001", true);
    n += tid(list + n, "iqn.new,i,0x400000000009", true);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 5, .spec_i_pt = true, .tid = list, .tid_len = n,
                            .tid_off = 28 };
    assert_int_equal(out_req(f, f->a, &r), PR_OK);
    assert_int_equal(key_of(f, f->a), 5);
    assert_int_equal(key_of(f, f->b), 5);
    assert_false(pr_state_registered(f->st, f->b2, NULL));
    const uint8_t isid9[6] = { 0x40, 0, 0, 0, 0, 0x09 };
    assert_int_equal(key_of(f, pr_itn_intern(f->tab, "iqn.new", isid9, 1)), 5);
    assert_int_equal(pr_state_reg_count(f->st), 3);
    assert_int_equal(pr_state_generation(f->st), 1);
}

static void test_register_spec_i_pt_name_only_covers_every_known_isid_of_that_name(void **state)
{
    struct fx *f = *state;
    uint8_t list[64];
    size_t n = tid(list, "iqn.b", false);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 5, .spec_i_pt = true, .tid = list, .tid_len = n,
                            .tid_off = 28 };
    assert_int_equal(out_req(f, f->a, &r), PR_OK);
    assert_int_equal(key_of(f, f->b), 5);
    assert_int_equal(key_of(f, f->b2), 5);
}

static void test_register_spec_i_pt_name_only_of_unseen_device_registers_its_ports_when_they_log_in(void **state)
{
    struct fx *f = *state;
    uint8_t list[64];
    size_t n = tid(list, "iqn.later", false);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 7, .spec_i_pt = true, .tid = list, .tid_len = n,
                            .tid_off = 28 };
    /* SPC-4 7.6.4.6: format 00b names the initiator device; with no port of it seen yet only the issuer's own
     * registration exists now, and the command succeeds. */
    assert_int_equal(out_req(f, f->a, &r), PR_OK);
    assert_int_equal(pr_state_reg_count(f->st), 1);
    assert_int_equal(pr_state_generation(f->st), 1);
    /* A port of that device logging in through the issuer's target port is registered with the key; through the
     * other target port (ALL_TG_PT=0) it is not. */
    const uint8_t isid7[6] = { 0x40, 0, 0, 0, 0, 0x07 };
    uint32_t p1 = pr_itn_intern(f->tab, "iqn.later", isid7, 1);
    uint32_t p2 = pr_itn_intern(f->tab, "iqn.later", isid7, 2);
    assert_int_equal(key_of(f, p1), 7);
    assert_false(pr_state_registered(f->st, p2, NULL));
    uint32_t q1 = pr_itn_intern(f->tab, "iqn.later", isid2, 1);
    assert_int_equal(key_of(f, q1), 7);
    assert_int_equal(pr_state_reg_count(f->st), 3);
    /* Registration by a later login is no PERSISTENT RESERVE OUT command: PRgeneration stays (SPC-4 6.15.2). */
    assert_int_equal(pr_state_generation(f->st), 1);
}

static void test_register_spec_i_pt_name_only_with_all_tg_pt_covers_every_target_port(void **state)
{
    struct fx *f = *state;
    uint8_t list[64];
    size_t n = tid(list, "iqn.later", false);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 7, .spec_i_pt = true, .all_tg_pt = true, .tid = list,
                            .tid_len = n, .tid_off = 28 };
    assert_int_equal(out_req(f, f->a, &r), PR_OK);
    const uint8_t isid7[6] = { 0x40, 0, 0, 0, 0, 0x07 };
    assert_int_equal(key_of(f, pr_itn_intern(f->tab, "iqn.later", isid7, 2)), 7);
    assert_int_equal(key_of(f, pr_itn_intern(f->tab, "iqn.later", isid7, 1)), 7);
}

static void test_device_registration_ends_with_clear_preempt_or_unregister_of_one_of_its_ports(void **state)
{
    struct fx *f = *state;
    const uint8_t isid7[6] = { 0x40, 0, 0, 0, 0, 0x07 }, isid8[6] = { 0x40, 0, 0, 0, 0, 0x08 };
    uint8_t list[64];
    size_t n = tid(list, "iqn.later", false);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 7, .spec_i_pt = true, .tid = list, .tid_len = n,
                            .tid_off = 28 };
    assert_int_equal(out_req(f, f->a, &r), PR_OK);
    /* A port of the device unregisters: ports that log in later are no longer registered by name. */
    uint32_t p7 = pr_itn_intern(f->tab, "iqn.later", isid7, 1);
    assert_int_equal(out(f, p7, PR_OUT_REGISTER, 0, 7, 0), PR_OK);
    assert_false(pr_state_registered(f->st, pr_itn_intern(f->tab, "iqn.later", isid8, 1), NULL));

    /* PREEMPT of the key with no port logged in removes the device registration (and counts as removing one). */
    pr_state_reset(f->st);
    n = tid(list, "iqn.other", false);
    r.tid_len = n;
    r.sa_key = 8;
    assert_int_equal(out_req(f, f->b, &r), PR_OK);
    reg(f, f->c, 3);
    /* The issuer B registered with 8 too; PREEMPT from C removes both the device registration and B's. */
    assert_int_equal(out(f, f->c, PR_OUT_PREEMPT, 0, 3, 8), PR_OK);
    assert_false(pr_state_registered(f->st, pr_itn_intern(f->tab, "iqn.other", isid1, 1), NULL));

    /* CLEAR removes device registrations too (SPC-4 5.13.11.2.7: every registration). */
    pr_state_reset(f->st);
    n = tid(list, "iqn.third", false);
    r.tid_len = n;
    assert_int_equal(out_req(f, f->b, &r), PR_OK);
    assert_int_equal(out(f, f->b, PR_OUT_CLEAR, 0, 8, 0), PR_OK);
    assert_false(pr_state_registered(f->st, pr_itn_intern(f->tab, "iqn.third", isid1, 1), NULL));
}

static void test_undone_command_keeps_device_registration_of_ports_it_interned(void **state)
{
    struct fx *f = *state;
    uint8_t list[64];
    size_t n = tid(list, "iqn.later", false);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 7, .spec_i_pt = true, .all_tg_pt = true, .tid = list,
                            .tid_len = n, .tid_off = 28 };
    assert_int_equal(out_req(f, f->a, &r), PR_OK);
    /* B names a never-seen port of that device by ISID: interning it registers it by name, so the list names
     * a registered nexus and the command fails (SPC-4 6.16.3)... */
    n = tid(list, "iqn.later,i,0x400000000009", true);
    struct pr_out_req r2 = { .sa = PR_OUT_REGISTER, .sa_key = 8, .spec_i_pt = true, .tid = list, .tid_len = n,
                             .tid_off = 28 };
    assert_int_equal(out_req(f, f->b, &r2), PR_INVALID_FIELD_PARAM);
    /* ...and undoing it must not undo the registration the port got by name. */
    const uint8_t isid9[6] = { 0x40, 0, 0, 0, 0, 0x09 };
    assert_int_equal(key_of(f, pr_itn_intern(f->tab, "iqn.later", isid9, 1)), 7);
    assert_false(pr_state_registered(f->st, f->b, NULL));
}

static void test_failed_register_leaves_no_device_registration(void **state)
{
    struct fx *f = *state;
    uint8_t list[128];
    size_t n = tid(list, "iqn.later", false);
    n += tid(list + n, "iqn.c,i,0xZZ0000000001", true);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 7, .spec_i_pt = true, .tid = list, .tid_len = n,
                            .tid_off = 28 };
    /* SPC-4 6.16.3: all or nothing; the name-only TransportID before the bad one registers nobody either. */
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM);
    const uint8_t isid7[6] = { 0x40, 0, 0, 0, 0, 0x07 };
    assert_false(pr_state_registered(f->st, pr_itn_intern(f->tab, "iqn.later", isid7, 1), NULL));
    assert_int_equal(pr_state_reg_count(f->st), 0);
}

static void test_register_spec_i_pt_bad_transport_id_registers_nothing(void **state)
{
    struct fx *f = *state;
    uint8_t list[128];
    size_t n = tid(list, "iqn.b,i,0x400000000001", true);
    size_t bad_at = n;
    n += tid(list + n, "iqn.c,i,0xZZ0000000001", true);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 5, .spec_i_pt = true, .tid = list, .tid_len = n,
                            .tid_off = 28 };
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM);
    assert_true(f->res.field_byte >= (int)(28 + bad_at));
    assert_int_equal(pr_state_reg_count(f->st), 0);
    assert_int_equal(pr_state_generation(f->st), 0);
}

static void test_register_spec_i_pt_naming_a_registered_port_is_invalid(void **state)
{
    struct fx *f = *state;
    reg(f, f->b, 2);
    uint8_t list[64];
    size_t n = tid(list, "iqn.b,i,0x400000000001", true);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 5, .spec_i_pt = true, .tid = list, .tid_len = n,
                            .tid_off = 28 };
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM);
    assert_int_equal(f->res.field_byte, 28);
    assert_false(pr_state_registered(f->st, f->a, NULL));
    assert_int_equal(pr_state_generation(f->st), 1);
}

static void test_register_spec_i_pt_from_registered_nexus_is_invalid_field(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    uint8_t list[64];
    size_t n = tid(list, "iqn.c,i,0x400000000001", true);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .key = 1, .sa_key = 5, .spec_i_pt = true, .tid = list,
                            .tid_len = n, .tid_off = 28 };
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM);
    assert_int_equal(f->res.field_byte, 20);
    assert_int_equal(f->res.field_bit, 3);
    assert_int_equal(key_of(f, f->a), 1);
}

static void test_register_beyond_max_registrations_is_insufficient_resources(void **state)
{
    struct fx *f = *state;
    pr_state_set_max_registrations(f->st, 2);
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    assert_int_equal(out(f, f->c, PR_OUT_REGISTER, 0, 0, 3), PR_INSUFFICIENT_RESOURCES);
    assert_int_equal(pr_state_reg_count(f->st), 2);
    assert_int_equal(pr_state_generation(f->st), 2);
    /* ALL_TG_PT needing two slots fails as a whole. */
    pr_state_set_max_registrations(f->st, 3);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER, .sa_key = 9, .all_tg_pt = true };
    assert_int_equal(out(f, f->a, PR_OUT_REGISTER, 0, 1, 0), PR_OK);
    reg(f, f->c, 3);
    assert_int_equal(out_req(f, f->a, &r), PR_INSUFFICIENT_RESOURCES);
    assert_false(pr_state_registered(f->st, f->a, NULL));
}

/* ---- REGISTER AND IGNORE EXISTING KEY ------------------------------------------------------------------------ */

static void test_register_and_ignore_replaces_key_whatever_reservation_key_says(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_REGISTER_IGNORE, 0, 0xdead, 2), PR_OK);
    assert_int_equal(key_of(f, f->a), 2);
    assert_int_equal(pr_state_generation(f->st), 2);
    assert_int_equal(out(f, f->b, PR_OUT_REGISTER_IGNORE, 0, 0xbeef, 3), PR_OK);
    assert_int_equal(key_of(f, f->b), 3);
    assert_int_equal(pr_state_generation(f->st), 3);
    assert_int_equal(out(f, f->b, PR_OUT_REGISTER_IGNORE, 0, 0xbeef, 0), PR_OK);
    assert_false(pr_state_registered(f->st, f->b, NULL));
    assert_int_equal(pr_state_generation(f->st), 4);
}

static void test_register_and_ignore_with_spec_i_pt_is_invalid_field(void **state)
{
    struct fx *f = *state;
    struct pr_out_req r = { .sa = PR_OUT_REGISTER_IGNORE, .sa_key = 2, .spec_i_pt = true };
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM);
    assert_int_equal(f->res.field_byte, 20);
    assert_int_equal(f->res.field_bit, 3);
    assert_int_equal(pr_state_generation(f->st), 0);
}

static void test_spec_i_pt_with_any_service_action_but_register_is_invalid_field(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    const uint8_t sas[] = { PR_OUT_RESERVE, PR_OUT_RELEASE, PR_OUT_CLEAR, PR_OUT_PREEMPT,
                            PR_OUT_PREEMPT_AND_ABORT, PR_OUT_REPLACE_LOST };
    for (size_t i = 0; i < sizeof(sas); i++) {
        struct pr_out_req r = { .sa = sas[i], .type = PR_TYPE_WE, .key = 1, .sa_key = 1, .spec_i_pt = true };
        assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM);
        assert_int_equal(f->res.field_byte, 20);
        assert_int_equal(f->res.field_bit, 3);
    }
    assert_int_equal(pr_state_reg_count(f->st), 1);
    assert_int_equal(pr_state_generation(f->st), 1);
}

/* ---- RESERVE ---------------------------------------------------------------------------------------------------- */

static void test_reserve_from_unregistered_nexus_conflicts(void **state)
{
    struct fx *f = *state;
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 0, 0), PR_CONFLICT);
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 2, 0), PR_CONFLICT);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_false(ri.reserved);
}

static void test_reserve_creates_reservation_without_changing_generation(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 0x123abc);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA, 0x123abc, 0), PR_OK);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_true(ri.reserved);
    assert_int_equal(ri.type, PR_TYPE_EA);
    assert_int_equal(ri.holder, f->a);
    assert_int_equal(ri.key, 0x123abc);
    assert_int_equal(pr_state_generation(f->st), 1);
}

static void test_reserve_again_by_holder_with_same_type_is_good(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0), PR_OK);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0), PR_OK);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA, 1, 0), PR_CONFLICT);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_int_equal(ri.type, PR_TYPE_WE);
}

static void test_reserve_while_another_nexus_holds_conflicts(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE_RO, 1, 0), PR_OK);
    assert_int_equal(out(f, f->b, PR_OUT_RESERVE, PR_TYPE_WE_RO, 2, 0), PR_CONFLICT);
    /* A different ISID of the same initiator name is a different I_T nexus. */
    reg(f, f->b2, 3);
    assert_int_equal(out(f, f->b2, PR_OUT_RESERVE, PR_TYPE_WE_RO, 3, 0), PR_CONFLICT);
}

static void test_reserve_all_registrants_by_another_registrant_is_good(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE_AR, 1, 0), PR_OK);
    assert_int_equal(out(f, f->b, PR_OUT_RESERVE, PR_TYPE_WE_AR, 2, 0), PR_OK);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_int_equal(ri.key, 0);
    assert_int_equal(ri.holder, PR_ITN_NONE);
}

static void test_reserve_invalid_type_is_invalid_field_in_cdb(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    const uint8_t bad[] = { 0, 2, 4, 9, 15 };
    for (size_t i = 0; i < sizeof(bad); i++) {
        assert_int_equal(out(f, f->a, PR_OUT_RESERVE, bad[i], 1, 0), PR_INVALID_FIELD_CDB);
        assert_int_equal(f->res.field_byte, 2);
        assert_int_equal(f->res.field_bit, 3);
    }
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_false(ri.reserved);
}

static void test_reserve_non_lu_scope_is_invalid_field_in_cdb(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    struct pr_out_req r = { .sa = PR_OUT_RESERVE, .type = PR_TYPE_WE, .scope = 2, .key = 1 };
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_CDB);
    assert_int_equal(f->res.field_byte, 2);
    assert_int_equal(f->res.field_bit, 7);
}

static void test_reserve_type_outside_profile_is_invalid_field_in_cdb(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_state_set_profile(f->st, "dlt-s4"), 0);
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE_AR, 1, 0), PR_INVALID_FIELD_CDB);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA_RO, 1, 0), PR_OK);
}

/* ---- RELEASE ---------------------------------------------------------------------------------------------------- */

static void test_release_without_reservation_is_good(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_RELEASE, PR_TYPE_WE, 1, 0), PR_OK);
    assert_int_equal(pr_state_generation(f->st), 1);
}

static void test_release_from_unregistered_or_wrong_key_conflicts(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0), PR_OK);
    assert_int_equal(out(f, f->b, PR_OUT_RELEASE, PR_TYPE_WE, 0, 0), PR_CONFLICT);
    assert_int_equal(out(f, f->a, PR_OUT_RELEASE, PR_TYPE_WE, 5, 0), PR_CONFLICT);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_true(ri.reserved);
}

static void test_release_by_registered_non_holder_is_good_and_changes_nothing(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA, 1, 0), PR_OK);
    assert_int_equal(out(f, f->b, PR_OUT_RELEASE, PR_TYPE_EA, 2, 0), PR_OK);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_true(ri.reserved);
    assert_int_equal(ri.holder, f->a);
}

static void test_release_with_wrong_type_is_invalid_release(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0), PR_OK);
    assert_int_equal(out(f, f->a, PR_OUT_RELEASE, PR_TYPE_EA, 1, 0), PR_INVALID_RELEASE);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_true(ri.reserved);
}

static void test_release_write_exclusive_raises_no_ua(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0), PR_OK);
    assert_int_equal(out(f, f->a, PR_OUT_RELEASE, PR_TYPE_WE, 1, 0), PR_OK);
    assert_int_equal(f->res.n_ua, 0);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_false(ri.reserved);
    assert_int_equal(pr_state_generation(f->st), 2);
}

static void test_release_registrants_only_raises_released_ua_once_per_other_registrant(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    reg(f, f->b2, 2);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA_RO, 1, 0), PR_OK);
    assert_int_equal(out(f, f->a, PR_OUT_RELEASE, PR_TYPE_EA_RO, 1, 0), PR_OK);
    assert_int_equal(f->res.n_ua, 2);
    assert_true(has_ua(f, f->b, PR_UA_RESERVATIONS_RELEASED));
    assert_true(has_ua(f, f->b2, PR_UA_RESERVATIONS_RELEASED));
    assert_false(has_ua(f, f->c, PR_UA_RESERVATIONS_RELEASED));
}

static void test_release_all_registrants_by_any_registrant_releases(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE_AR, 1, 0), PR_OK);
    assert_int_equal(out(f, f->b, PR_OUT_RELEASE, PR_TYPE_WE_AR, 2, 0), PR_OK);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_false(ri.reserved);
    assert_int_equal(f->res.n_ua, 1);
    assert_true(has_ua(f, f->a, PR_UA_RESERVATIONS_RELEASED));
}

/* ---- CLEAR ---------------------------------------------------------------------------------------------------------- */

static void test_clear_removes_everything_and_raises_preempted_ua_on_others(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    reg(f, f->c, 3);
    assert_int_equal(out(f, f->b, PR_OUT_RESERVE, PR_TYPE_EA, 2, 0), PR_OK);
    assert_int_equal(out(f, f->a, PR_OUT_CLEAR, 0, 1, 0), PR_OK);
    assert_int_equal(pr_state_reg_count(f->st), 0);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_false(ri.reserved);
    assert_int_equal(pr_state_generation(f->st), 4);
    assert_int_equal(f->res.n_ua, 2);
    assert_true(has_ua(f, f->b, PR_UA_RESERVATIONS_PREEMPTED));
    assert_true(has_ua(f, f->c, PR_UA_RESERVATIONS_PREEMPTED));
}

static void test_clear_with_wrong_key_conflicts(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_CLEAR, 0, 9, 0), PR_CONFLICT);
    assert_int_equal(out(f, f->b, PR_OUT_CLEAR, 0, 0, 0), PR_CONFLICT);
    assert_int_equal(pr_state_reg_count(f->st), 1);
    assert_int_equal(pr_state_generation(f->st), 1);
}

/* ---- PREEMPT -------------------------------------------------------------------------------------------------------- */

static void test_preempt_without_reservation_removes_registrations_of_key(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    reg(f, f->b2, 1);
    assert_int_equal(out(f, f->b, PR_OUT_PREEMPT, PR_TYPE_EA, 2, 1), PR_OK);
    assert_false(pr_state_registered(f->st, f->a, NULL));
    assert_false(pr_state_registered(f->st, f->b2, NULL));
    assert_int_equal(key_of(f, f->b), 2);
    assert_int_equal(pr_state_generation(f->st), 4);
    assert_int_equal(f->res.n_ua, 2);
    assert_true(has_ua(f, f->a, PR_UA_REGISTRATIONS_PREEMPTED));
    assert_true(has_ua(f, f->b2, PR_UA_REGISTRATIONS_PREEMPTED));
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_false(ri.reserved);
    assert_int_equal(f->res.n_abort, 0);
}

static void test_preempt_without_reservation_zero_key_is_invalid_field_in_parameter_list(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_PREEMPT, PR_TYPE_EA, 1, 0), PR_INVALID_FIELD_PARAM);
    assert_int_equal(f->res.field_byte, 8);
    assert_int_equal(pr_state_generation(f->st), 1);
}

static void test_preempt_unknown_key_conflicts(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_PREEMPT, PR_TYPE_EA, 1, 77), PR_CONFLICT);
    assert_int_equal(out(f, f->b, PR_OUT_PREEMPT, PR_TYPE_EA, 0, 1), PR_CONFLICT);
    assert_int_equal(pr_state_generation(f->st), 1);
    assert_int_equal(f->res.n_ua, 0);
}

static void test_preempt_holder_takes_over_reservation_and_removes_holder(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    reg(f, f->c, 3);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA, 1, 0), PR_OK);
    assert_int_equal(out(f, f->b, PR_OUT_PREEMPT, PR_TYPE_WE, 2, 1), PR_OK);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_true(ri.reserved);
    assert_int_equal(ri.holder, f->b);
    assert_int_equal(ri.type, PR_TYPE_WE);
    assert_false(pr_state_registered(f->st, f->a, NULL));
    assert_int_equal(pr_state_generation(f->st), 4);
    assert_true(has_ua(f, f->a, PR_UA_REGISTRATIONS_PREEMPTED));
    /* SPC-4 5.13.11.2.4.3 f): the type changed, so the remaining registrant C learns the reservation went. */
    assert_true(has_ua(f, f->c, PR_UA_RESERVATIONS_RELEASED));
    assert_int_equal(f->res.n_ua, 2);
}

static void test_preempt_self_to_change_type_keeps_registration(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0), PR_OK);
    assert_int_equal(out(f, f->a, PR_OUT_PREEMPT, PR_TYPE_EA, 1, 1), PR_OK);
    assert_int_equal(key_of(f, f->a), 1);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_int_equal(ri.type, PR_TYPE_EA);
    assert_int_equal(ri.holder, f->a);
    assert_int_equal(f->res.n_ua, 1);
    assert_true(has_ua(f, f->b, PR_UA_RESERVATIONS_RELEASED));
}

static void test_preempt_non_holder_key_removes_registration_and_keeps_reservation(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    reg(f, f->c, 3);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE_RO, 1, 0), PR_OK);
    assert_int_equal(out(f, f->b, PR_OUT_PREEMPT, PR_TYPE_WE_RO, 2, 3), PR_OK);
    assert_false(pr_state_registered(f->st, f->c, NULL));
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_int_equal(ri.holder, f->a);
    assert_int_equal(f->res.n_ua, 1);
    assert_true(has_ua(f, f->c, PR_UA_REGISTRATIONS_PREEMPTED));
}

static void test_preempt_zero_key_under_non_all_registrants_is_invalid_field(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0), PR_OK);
    assert_int_equal(out(f, f->b, PR_OUT_PREEMPT, PR_TYPE_WE, 2, 0), PR_INVALID_FIELD_PARAM);
    assert_int_equal(f->res.field_byte, 8);
    assert_int_equal(pr_state_generation(f->st), 2);
}

static void test_preempt_all_registrants_key0_removes_others_and_raises_ua(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    reg(f, f->c, 3);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA_AR, 1, 0), PR_OK);
    assert_int_equal(out(f, f->b, PR_OUT_PREEMPT, PR_TYPE_WE_RO, 2, 0), PR_OK);
    assert_int_equal(pr_state_reg_count(f->st), 1);
    assert_int_equal(key_of(f, f->b), 2);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_int_equal(ri.type, PR_TYPE_WE_RO);
    assert_int_equal(ri.holder, f->b);
    assert_int_equal(f->res.n_ua, 2);
    assert_true(has_ua(f, f->a, PR_UA_REGISTRATIONS_PREEMPTED));
    assert_true(has_ua(f, f->c, PR_UA_REGISTRATIONS_PREEMPTED));
    assert_int_equal(pr_state_generation(f->st), 4);
}

static void test_preempt_all_registrants_nonzero_key_only_removes_that_key(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    reg(f, f->c, 3);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE_AR, 1, 0), PR_OK);
    assert_int_equal(out(f, f->b, PR_OUT_PREEMPT, PR_TYPE_WE_AR, 2, 3), PR_OK);
    assert_false(pr_state_registered(f->st, f->c, NULL));
    assert_int_equal(pr_state_reg_count(f->st), 2);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_int_equal(ri.type, PR_TYPE_WE_AR);
    assert_int_equal(f->res.n_ua, 1);
}

/* ---- PREEMPT AND ABORT ------------------------------------------------------------------------------------------------ */

static void test_preempt_and_abort_lists_the_preempted_nexuses_for_abort(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    reg(f, f->b2, 1);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA, 1, 0), PR_OK);
    assert_int_equal(out(f, f->b, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_EA, 2, 1), PR_OK);
    assert_int_equal(f->res.n_abort, 2);
    bool sa = false, sb2 = false;
    for (size_t i = 0; i < f->res.n_abort; i++) {
        sa |= f->res.abort[i] == f->a;
        sb2 |= f->res.abort[i] == f->b2;
        assert_int_not_equal(f->res.abort[i], f->b);
    }
    assert_true(sa && sb2);
    assert_true(has_ua(f, f->a, PR_UA_REGISTRATIONS_PREEMPTED));
    assert_true(has_ua(f, f->b2, PR_UA_REGISTRATIONS_PREEMPTED));
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_int_equal(ri.holder, f->b);
    assert_int_equal(pr_state_generation(f->st), 4);
}

static void test_preempt_and_abort_failure_lists_no_aborts(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_EA, 1, 42), PR_CONFLICT);
    assert_int_equal(f->res.n_abort, 0);
    assert_int_equal(f->res.n_ua, 0);
}

static void test_preempt_and_abort_all_registrants_key0_aborts_every_registered_nexus(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    reg(f, f->c, 3);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE_AR, 1, 0), PR_OK);
    assert_int_equal(out(f, f->b, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_EA, 2, 0), PR_OK);
    /* SPC-4 5.13.11.2.6: key 0 under All Registrants aborts the commands of every registered nexus (the caller
     * spares the PREEMPT AND ABORT command itself). */
    assert_int_equal(f->res.n_abort, 3);
    assert_int_equal(pr_state_reg_count(f->st), 1);
    assert_int_equal(f->res.n_ua, 2);
}

static void test_preempt_and_abort_self_preempt_aborts_the_issuers_other_commands(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0), PR_OK);
    assert_int_equal(out(f, f->a, PR_OUT_PREEMPT_AND_ABORT, PR_TYPE_WE, 1, 1), PR_OK);
    assert_int_equal(f->res.n_abort, 1);
    assert_int_equal(f->res.abort[0], f->a);
    assert_int_equal(key_of(f, f->a), 1);
    /* Same type and scope: nobody hears anything (SPC-4 5.13.11.2.4.3 f). */
    assert_int_equal(f->res.n_ua, 0);
}

static void test_preempt_removing_registrations_ignores_scope_and_type(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    struct pr_out_req r = { .sa = PR_OUT_PREEMPT, .type = 0x0f, .scope = 3, .key = 1, .sa_key = 2 };
    assert_int_equal(out_req(f, f->a, &r), PR_OK);
    assert_false(pr_state_registered(f->st, f->b, NULL));
    /* Preempting the reservation itself needs a valid type. */
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0), PR_OK);
    r.sa_key = 1;
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_CDB);
    assert_int_equal(f->res.field_byte, 2);
}

/* ---- REGISTER AND MOVE ------------------------------------------------------------------------------------------------ */

static void test_register_and_move_registers_destination_and_moves_reservation(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE_RO, 1, 0), PR_OK);
    uint8_t t[64];
    size_t n = tid(t, "iqn.c,i,0x400000000001", true);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER_AND_MOVE, .key = 1, .sa_key = 33, .rtpi = 2, .tid = t,
                            .tid_len = n, .tid_off = 24 };
    assert_int_equal(out_req(f, f->a, &r), PR_OK);
    assert_int_equal(key_of(f, f->c), 33);
    assert_int_equal(key_of(f, f->a), 1);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_int_equal(ri.holder, f->c);
    assert_int_equal(ri.type, PR_TYPE_WE_RO);
    assert_int_equal(pr_state_generation(f->st), 2);
}

static void test_register_and_move_unreg_unregisters_the_source(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA, 1, 0), PR_OK);
    uint8_t t[64];
    size_t n = tid(t, "iqn.b", false);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER_AND_MOVE, .key = 1, .sa_key = 8, .rtpi = 1, .unreg = true,
                            .tid = t, .tid_len = n, .tid_off = 24 };
    /* iqn.b has two initiator ports on port 1: a name-only TransportID is ambiguous. */
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM);
    n = tid(t, "iqn.b,i,0x400000000002", true);
    r.tid_len = n;
    assert_int_equal(out_req(f, f->a, &r), PR_OK);
    assert_false(pr_state_registered(f->st, f->a, NULL));
    assert_int_equal(key_of(f, f->b2), 8);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_int_equal(ri.holder, f->b2);
}

static void test_register_and_move_needs_a_reservation_not_all_registrants_held_by_the_sender(void **state)
{
    struct fx *f = *state;
    uint8_t t[64];
    size_t n = tid(t, "iqn.c,i,0x400000000001", true);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER_AND_MOVE, .key = 1, .sa_key = 8, .rtpi = 2, .tid = t,
                            .tid_len = n, .tid_off = 24 };
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_CDB); /* no reservation (SPC-4 5.13.8) */
    assert_int_equal(f->res.field_byte, -1);
    assert_int_equal(out_req(f, f->c, &r), PR_CONFLICT); /* unregistered */
    assert_int_equal(out(f, f->b, PR_OUT_RESERVE, PR_TYPE_WE, 2, 0), PR_OK);
    assert_int_equal(out_req(f, f->a, &r), PR_CONFLICT); /* not the holder */
    assert_int_equal(out(f, f->b, PR_OUT_RELEASE, PR_TYPE_WE, 2, 0), PR_OK);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE_AR, 1, 0), PR_OK);
    assert_int_equal(out_req(f, f->a, &r), PR_CONFLICT); /* All Registrants */
    assert_false(pr_state_registered(f->st, f->c, NULL));
    assert_int_equal(pr_state_generation(f->st), 2);
}

static void test_register_and_move_invalid_parameters_are_invalid_fields(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0), PR_OK);
    uint8_t t[64];
    size_t n = tid(t, "iqn.a,i,0x400000000001", true);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER_AND_MOVE, .key = 1, .sa_key = 8, .rtpi = 1, .tid = t,
                            .tid_len = n, .tid_off = 24 };
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM); /* to itself */
    assert_int_equal(f->res.field_byte, 24);
    r.rtpi = 3;
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM); /* no such target port */
    assert_int_equal(f->res.field_byte, 18);
    r.rtpi = 2;
    r.sa_key = 0;
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM); /* key 0 */
    assert_int_equal(f->res.field_byte, 8);
    r.sa_key = 8;
    t[0] = 0x41; /* protocol 1: not iSCSI */
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM);
    assert_int_equal(f->res.field_byte, 24);
    t[0] = 0x45;
    r.aptpl = true;
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM); /* no state file */
    assert_int_equal(f->res.field_byte, 17);
    r.aptpl = false;
    /* Another initiator port through the same target port is a valid destination. */
    n = tid(t, "iqn.b,i,0x400000000001", true);
    r.tid_len = n;
    r.rtpi = 1;
    assert_int_equal(out_req(f, f->a, &r), PR_OK);
    assert_int_equal(key_of(f, f->b), 8);
}

static void test_register_and_move_to_own_initiator_port_on_another_target_port_is_invalid_field(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_WE, 1, 0), PR_OK);
    uint8_t t[64];
    size_t n = tid(t, "iqn.a,i,0x400000000001", true);
    struct pr_out_req r = { .sa = PR_OUT_REGISTER_AND_MOVE, .key = 1, .sa_key = 8, .rtpi = 2, .tid = t,
                            .tid_len = n, .tid_off = 24 };
    /* SPC-4 5.13.8: the TransportID names the sender's initiator port; port 2 makes it another I_T nexus (A2) but
     * not another initiator port. */
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM);
    assert_int_equal(f->res.field_byte, 24);
    assert_false(pr_state_registered(f->st, f->a2, NULL));
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_int_equal(ri.holder, f->a);
    assert_int_equal(pr_state_generation(f->st), 1);
    /* A name-only TransportID that resolves to the sender's initiator port is refused the same way. */
    n = tid(t, "iqn.a", false);
    r.tid_len = n;
    assert_int_equal(out_req(f, f->a, &r), PR_INVALID_FIELD_PARAM);
    assert_int_equal(f->res.field_byte, 24);
}

/* ---- REPLACE LOST RESERVATION ----------------------------------------------------------------------------------------- */

static void test_replace_lost_reservation_when_nothing_was_lost_is_invalid_release(void **state)
{
    struct fx *f = *state;
    assert_int_equal(out(f, f->a, PR_OUT_REPLACE_LOST, PR_TYPE_WE, 0, 1), PR_INVALID_RELEASE);
    assert_int_equal(pr_state_reg_count(f->st), 0);
    assert_int_equal(pr_state_generation(f->st), 0);
}

static void test_lost_reservation_blocks_other_service_actions_until_replaced(void **state)
{
    struct fx *f = *state;
    reg(f, f->a, 1);
    reg(f, f->b, 2);
    assert_int_equal(out(f, f->a, PR_OUT_RESERVE, PR_TYPE_EA, 1, 0), PR_OK);
    pr_state_set_lost(f->st);
    assert_true(pr_state_lost(f->st));
    assert_int_equal(pr_state_reg_count(f->st), 0);
    assert_int_equal(out(f, f->a, PR_OUT_REGISTER, 0, 0, 1), PR_RESERVATION_LOST);
    /* SPC-5 5.13.11.3: RESERVATION KEY must be zero and the new key nonzero. */
    assert_int_equal(out(f, f->b, PR_OUT_REPLACE_LOST, PR_TYPE_WE, 2, 7), PR_CONFLICT);
    assert_int_equal(out(f, f->b, PR_OUT_REPLACE_LOST, PR_TYPE_WE, 0, 0), PR_INVALID_FIELD_PARAM);
    assert_int_equal(f->res.field_byte, 8);
    assert_int_equal(out(f, f->b, PR_OUT_REPLACE_LOST, 2, 0, 7), PR_INVALID_FIELD_CDB);
    struct pr_out_req r = { .sa = PR_OUT_REPLACE_LOST, .type = PR_TYPE_WE, .sa_key = 7, .aptpl = true };
    assert_int_equal(out_req(f, f->b, &r), PR_INVALID_FIELD_PARAM); /* APTPL without a state file */
    assert_int_equal(f->res.field_byte, 20);
    assert_int_equal(f->res.field_bit, 0);
    assert_true(pr_state_lost(f->st));
    assert_int_equal(out(f, f->b, PR_OUT_REPLACE_LOST, PR_TYPE_WE, 0, 7), PR_OK);
    assert_false(pr_state_lost(f->st));
    assert_int_equal(key_of(f, f->b), 7);
    assert_int_equal(pr_state_reg_count(f->st), 1);
    struct pr_resv_info ri;
    pr_state_reservation(f->st, &ri);
    assert_int_equal(ri.holder, f->b);
    assert_int_equal(ri.type, PR_TYPE_WE);
    /* SPC-5 5.13.11.3 e): PRgeneration restarts at zero; no unit attentions. */
    assert_int_equal(pr_state_generation(f->st), 0);
    assert_int_equal(f->res.n_ua, 0);
    assert_int_equal(out(f, f->b, PR_OUT_REPLACE_LOST, PR_TYPE_WE, 0, 7), PR_INVALID_RELEASE);
}

static void test_replace_lost_reservation_unsupported_by_spc3_profile(void **state)
{
    struct fx *f = *state;
    assert_int_equal(pr_state_set_profile(f->st, "spc3"), 0);
    pr_state_set_lost(f->st);
    assert_int_equal(out(f, f->a, PR_OUT_REPLACE_LOST, PR_TYPE_EA, 1, 0), PR_INVALID_FIELD_CDB);
    assert_int_equal(f->res.field_byte, 1);
    assert_int_equal(f->res.field_bit, 4);
}

static void test_unknown_service_action_is_invalid_field_in_cdb(void **state)
{
    struct fx *f = *state;
    for (uint8_t sa = 9; sa < 0x20; sa++) {
        assert_int_equal(out(f, f->a, sa, 0, 0, 1), PR_INVALID_FIELD_CDB);
        assert_int_equal(f->res.field_byte, 1);
        assert_int_equal(f->res.field_bit, 4);
    }
    assert_int_equal(pr_state_reg_count(f->st), 0);
}

static void test_relogin_with_same_identity_finds_its_registration(void **state)
{
    struct fx *f = *state;
    reg(f, f->b2, 4);
    /* The target interns the same (name, ISID, port) on re-login and gets the same id back. */
    uint32_t again = pr_itn_intern(f->tab, "iqn.b", isid2, 1);
    assert_int_equal(again, f->b2);
    assert_int_equal(key_of(f, again), 4);
    assert_false(pr_state_registered(f->st, f->b, NULL));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_register_unregistered_nonzero_key_registers_and_bumps_generation),
        T(test_register_unregistered_with_nonzero_reservation_key_conflicts),
        T(test_register_unregistered_zero_sa_key_is_a_noop),
        T(test_register_registered_wrong_key_conflicts),
        T(test_register_registered_right_key_replaces_key),
        T(test_register_registered_zero_sa_key_unregisters),
        T(test_unregister_holder_of_write_exclusive_releases_without_ua),
        T(test_unregister_holder_of_registrants_only_releases_with_ua_to_other_registrants),
        T(test_unregister_one_all_registrants_holder_keeps_reservation),
        T(test_register_aptpl_without_state_file_is_invalid_field_in_parameter_list),
        T(test_register_all_tg_pt_registers_the_initiator_port_on_every_target_port),
        T(test_register_spec_i_pt_registers_every_listed_initiator_port),
        T(test_register_spec_i_pt_name_only_covers_every_known_isid_of_that_name),
        T(test_register_spec_i_pt_name_only_of_unseen_device_registers_its_ports_when_they_log_in),
        T(test_register_spec_i_pt_name_only_with_all_tg_pt_covers_every_target_port),
        T(test_device_registration_ends_with_clear_preempt_or_unregister_of_one_of_its_ports),
        T(test_failed_register_leaves_no_device_registration),
        T(test_undone_command_keeps_device_registration_of_ports_it_interned),
        T(test_register_spec_i_pt_bad_transport_id_registers_nothing),
        T(test_register_spec_i_pt_naming_a_registered_port_is_invalid),
        T(test_register_spec_i_pt_from_registered_nexus_is_invalid_field),
        T(test_register_beyond_max_registrations_is_insufficient_resources),
        T(test_register_and_ignore_replaces_key_whatever_reservation_key_says),
        T(test_register_and_ignore_with_spec_i_pt_is_invalid_field),
        T(test_spec_i_pt_with_any_service_action_but_register_is_invalid_field),
        T(test_reserve_from_unregistered_nexus_conflicts),
        T(test_reserve_creates_reservation_without_changing_generation),
        T(test_reserve_again_by_holder_with_same_type_is_good),
        T(test_reserve_while_another_nexus_holds_conflicts),
        T(test_reserve_all_registrants_by_another_registrant_is_good),
        T(test_reserve_invalid_type_is_invalid_field_in_cdb),
        T(test_reserve_non_lu_scope_is_invalid_field_in_cdb),
        T(test_reserve_type_outside_profile_is_invalid_field_in_cdb),
        T(test_release_without_reservation_is_good),
        T(test_release_from_unregistered_or_wrong_key_conflicts),
        T(test_release_by_registered_non_holder_is_good_and_changes_nothing),
        T(test_release_with_wrong_type_is_invalid_release),
        T(test_release_write_exclusive_raises_no_ua),
        T(test_release_registrants_only_raises_released_ua_once_per_other_registrant),
        T(test_release_all_registrants_by_any_registrant_releases),
        T(test_clear_removes_everything_and_raises_preempted_ua_on_others),
        T(test_clear_with_wrong_key_conflicts),
        T(test_preempt_without_reservation_removes_registrations_of_key),
        T(test_preempt_without_reservation_zero_key_is_invalid_field_in_parameter_list),
        T(test_preempt_unknown_key_conflicts),
        T(test_preempt_holder_takes_over_reservation_and_removes_holder),
        T(test_preempt_self_to_change_type_keeps_registration),
        T(test_preempt_non_holder_key_removes_registration_and_keeps_reservation),
        T(test_preempt_zero_key_under_non_all_registrants_is_invalid_field),
        T(test_preempt_all_registrants_key0_removes_others_and_raises_ua),
        T(test_preempt_all_registrants_nonzero_key_only_removes_that_key),
        T(test_preempt_and_abort_lists_the_preempted_nexuses_for_abort),
        T(test_preempt_and_abort_failure_lists_no_aborts),
        T(test_preempt_and_abort_all_registrants_key0_aborts_every_registered_nexus),
        T(test_preempt_and_abort_self_preempt_aborts_the_issuers_other_commands),
        T(test_preempt_removing_registrations_ignores_scope_and_type),
        T(test_register_and_move_registers_destination_and_moves_reservation),
        T(test_register_and_move_unreg_unregisters_the_source),
        T(test_register_and_move_needs_a_reservation_not_all_registrants_held_by_the_sender),
        T(test_register_and_move_invalid_parameters_are_invalid_fields),
        T(test_register_and_move_to_own_initiator_port_on_another_target_port_is_invalid_field),
        T(test_replace_lost_reservation_when_nothing_was_lost_is_invalid_release),
        T(test_lost_reservation_blocks_other_service_actions_until_replaced),
        T(test_replace_lost_reservation_unsupported_by_spc3_profile),
        T(test_unknown_service_action_is_invalid_field_in_cdb),
        T(test_relogin_with_same_identity_finds_its_registration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
