/* Unit tests for target/lu.c: the target device, adding LUs, their identity and persistent-state files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/tgt_internal.h"

static struct tgt_server *new_server(void)
{
    struct tgt_server_cfg cfg = { .target_name = "iqn.2026-11.org.prtarget:lu", .n_ports = 2 };
    char err[256];
    struct tgt_server *srv = tgt_server_new(&cfg, err, sizeof(err));

    assert_non_null(srv);
    return srv;
}

static void test_server_needs_a_target_name(void **state)
{
    struct tgt_server_cfg cfg = { .target_name = "", .n_ports = 1 };
    char err[256] = "";

    (void)state;
    assert_null(tgt_server_new(&cfg, err, sizeof(err)));
    assert_true(strlen(err) > 0);
    cfg.target_name = NULL;
    assert_null(tgt_server_new(&cfg, err, sizeof(err)));
}

static void test_only_512_and_4096_byte_blocks_are_accepted(void **state)
{
    struct tgt_server *srv = new_server();
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = 1u << 20, .block_size = 1024 };
    char err[256] = "";

    (void)state;
    assert_int_equal(tgt_server_add_lu(srv, &lc, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "1024"));
    lc.block_size = 4096;
    assert_int_equal(tgt_server_add_lu(srv, &lc, err, sizeof(err)), 0);
    assert_int_equal(tgt_server_lu(srv, 0)->block_size, 4096);
    lc.block_size = 0;
    assert_int_equal(tgt_server_add_lu(srv, &lc, err, sizeof(err)), 0);
    assert_int_equal(tgt_server_lu(srv, 1)->block_size, 512);
    tgt_server_free(srv);
}

static void test_luns_are_numbered_in_order_of_adding(void **state)
{
    struct tgt_server *srv = new_server();
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = 1u << 20 };
    char err[256];

    (void)state;
    for (int i = 0; i < 5; i++)
        assert_int_equal(tgt_server_add_lu(srv, &lc, err, sizeof(err)), 0);
    assert_int_equal(tgt_server_lu_count(srv), 5);
    for (unsigned i = 0; i < 5; i++) {
        struct tgt_lu *lu = tgt_server_lu(srv, i);

        assert_true(tgt_lu_number(lu) == i);
        assert_ptr_equal(tgt_lu_server(lu), srv);
        assert_non_null(tgt_lu_pr(lu));
    }
    assert_null(tgt_server_lu(srv, 5));
    assert_non_null(tgt_server_itn_tab(srv));
    assert_int_equal(tgt_server_flush(srv), 0);
    tgt_server_free(srv);
}

static void test_default_serial_follows_the_naa_hash_and_vendor_is_padded(void **state)
{
    struct tgt_server *srv = new_server();
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = 1u << 20 };
    struct tgt_lu_cfg named = { .backend = TGT_BACKEND_MEM, .size = 1u << 20, .serial = "SN42", .vendor = "ACME" };
    char err[256];

    (void)state;
    assert_int_equal(tgt_server_add_lu(srv, &lc, err, sizeof(err)), 0);
    assert_int_equal(tgt_server_add_lu(srv, &named, err, sizeof(err)), 0);
    assert_int_equal(strlen(tgt_server_lu(srv, 0)->serial), 16);
    assert_string_equal(tgt_server_lu(srv, 1)->serial, "SN42");
    assert_memory_equal(tgt_server_lu(srv, 1)->vendor, "ACME    ", 8);
    assert_int_equal(tgt_server_lu(srv, 0)->naa[0] >> 4, 3);
    tgt_server_free(srv);
}

static void test_a_corrupt_state_file_refuses_the_lu_naming_the_file(void **state)
{
    char dir[] = "/tmp/test_lu.XXXXXX";
    char path[128];
    struct tgt_server *srv = new_server();
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = 1u << 20 };
    char err[512] = "";
    FILE *fp;

    (void)state;
    assert_non_null(mkdtemp(dir));
    /* design.md: state_dir/<target name sanitized>.lun<N>.prstate.json */
    snprintf(path, sizeof(path), "%s/iqn.2026-11.org.prtarget_lu.lun0.prstate.json", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{ this is not json", fp);
    fclose(fp);
    lc.state_dir = dir;
    assert_true(tgt_server_add_lu(srv, &lc, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, path));
    assert_int_equal(tgt_server_lu_count(srv), 0);
    unlink(path);
    /* Without the corrupt file the same LU comes up. */
    assert_int_equal(tgt_server_add_lu(srv, &lc, err, sizeof(err)), 0);
    tgt_server_free(srv);
    unlink(path);
    rmdir(dir);
}

static void test_adding_an_lu_tells_logged_in_nexuses(void **state)
{
    struct tgt_server *srv = new_server();
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = 1u << 20 };
    const uint8_t isid[6] = { 0x80, 0, 0, 0, 0, 1 };
    char err[256];
    struct tgt_nexus *nx;
    uint8_t asc, ascq;

    (void)state;
    assert_int_equal(tgt_server_add_lu(srv, &lc, err, sizeof(err)), 0);
    nx = tgt_nexus_login(srv, "iqn.2026-11.test:x", isid, 2);
    assert_non_null(nx);
    assert_true(tgt__ua_pop(tgt_server_lu(srv, 0), tgt_nexus_id(nx), &asc, &ascq));
    assert_int_equal(asc, 0x29);
    assert_int_equal(tgt_server_add_lu(srv, &lc, err, sizeof(err)), 0);
    /* SPC-4 6.33: REPORTED LUNS DATA HAS CHANGED on the old LU, POWER ON on the new one. */
    assert_true(tgt__ua_pop(tgt_server_lu(srv, 0), tgt_nexus_id(nx), &asc, &ascq));
    assert_int_equal(asc, 0x3f);
    assert_int_equal(ascq, 0x0e);
    assert_true(tgt__ua_pop(tgt_server_lu(srv, 1), tgt_nexus_id(nx), &asc, &ascq));
    assert_int_equal(asc, 0x29);
    assert_int_equal(ascq, 0x00);
    tgt_server_free(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_needs_a_target_name),
        cmocka_unit_test(test_only_512_and_4096_byte_blocks_are_accepted),
        cmocka_unit_test(test_luns_are_numbered_in_order_of_adding),
        cmocka_unit_test(test_default_serial_follows_the_naa_hash_and_vendor_is_padded),
        cmocka_unit_test(test_a_corrupt_state_file_refuses_the_lu_naming_the_file),
        cmocka_unit_test(test_adding_an_lu_tells_logged_in_nexuses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
