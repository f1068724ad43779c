/* Unit tests for target/lu_mem.c: the in-memory backend commits memory only as written and reads zero-copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/tgt_internal.h"

static struct tgt_server *mem_server(uint64_t size, uint32_t bs, int *rc)
{
    struct tgt_server_cfg cfg = { .target_name = "iqn.2026-11.org.prtarget:mem", .n_ports = 1 };
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_MEM, .size = size, .block_size = bs };
    char err[256];
    struct tgt_server *srv = tgt_server_new(&cfg, err, sizeof(err));

    assert_non_null(srv);
    *rc = tgt_server_add_lu(srv, &lc, err, sizeof(err));
    return srv;
}

/* Pages of [p, p+len) resident in memory. */
static size_t resident_pages(const uint8_t *p, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), n = (len + page - 1) / page, r = 0;
    unsigned char *vec = malloc(n);

    assert_non_null(vec);
    assert_int_equal(mincore((void *)p, len, vec), 0);
    for (size_t i = 0; i < n; i++)
        r += vec[i] & 1;
    free(vec);
    return r;
}

static void test_memory_is_committed_only_where_written(void **state)
{
    int rc;
    struct tgt_server *srv = mem_server(256u << 20, 512, &rc);
    struct tgt_lu *lu = tgt_server_lu(srv, 0);
    uint8_t block[512];

    (void)state;
    assert_int_equal(rc, 0);
    assert_int_equal(resident_pages(lu->mem, lu->mem_len), 0);
    memset(block, 7, sizeof(block));
    assert_int_equal(lu->ops->write(lu, block, 100u << 20, sizeof(block)), 0);
    assert_int_equal(resident_pages(lu->mem, lu->mem_len), 1);
    tgt_server_free(srv);
}

static void test_unmap_returns_whole_pages_and_zeroes_partial_ones(void **state)
{
    int rc;
    struct tgt_server *srv = mem_server(1u << 20, 512, &rc);
    struct tgt_lu *lu = tgt_server_lu(srv, 0);
    uint8_t data[3 * 4096];
    bool mapped;
    uint64_t run;

    (void)state;
    memset(data, 0x5a, sizeof(data));
    assert_int_equal(lu->ops->write(lu, data, 0, sizeof(data)), 0);
    /* Bytes 2048..10240: half of page 0, all of page 1, half of page 2. */
    assert_int_equal(lu->ops->unmap(lu, 2048, 8192), 0);
    /* Checked before reading the page, which would map the shared zero page there. */
    assert_int_equal(resident_pages(lu->mem + 4096, 4096), 0);
    for (size_t i = 0; i < sizeof(data); i++)
        assert_int_equal(lu->mem[i], (i >= 2048 && i < 10240) ? 0 : 0x5a);
    assert_int_equal(lu->ops->lba_status(lu, 0, &mapped, &run), 0);
    assert_true(mapped);
    assert_true(run == 4096);
    assert_int_equal(lu->ops->lba_status(lu, 4096, &mapped, &run), 0);
    assert_false(mapped);
    assert_true(run == 4096);
    assert_int_equal(lu->ops->lba_status(lu, 8192, &mapped, &run), 0);
    assert_true(mapped);
    tgt_server_free(srv);
}

static void test_zero_maps_unwritten_pages_without_committing_them_and_clears_written_ones(void **state)
{
    int rc;
    struct tgt_server *srv = mem_server(16u << 20, 512, &rc);
    struct tgt_lu *lu = tgt_server_lu(srv, 0);
    uint8_t data[4096];
    bool mapped;
    uint64_t run;

    (void)state;
    memset(data, 0xa5, sizeof(data));
    assert_int_equal(lu->ops->write(lu, data, 8192, sizeof(data)), 0);
    /* Bytes 512..16 MiB: page 2 was written, every other page never was. */
    assert_int_equal(lu->ops->zero(lu, 512, (16u << 20) - 512), 0);
    assert_int_equal(resident_pages(lu->mem, lu->mem_len), 1);
    assert_int_equal(lu->ops->lba_status(lu, 0, &mapped, &run), 0);
    assert_true(mapped);
    assert_true(run == 16u << 20);
    for (size_t i = 0; i < sizeof(data); i++)
        assert_int_equal(lu->mem[8192 + i], 0);
    tgt_server_free(srv);
}

static void test_reads_point_into_the_mapping(void **state)
{
    int rc;
    struct tgt_server *srv = mem_server(1u << 20, 4096, &rc);
    struct tgt_lu *lu = tgt_server_lu(srv, 0);

    (void)state;
    assert_ptr_equal(lu->ops->map(lu, 8192, 4096), lu->mem + 8192);
    assert_false(lu->ops->blocking);
    assert_true(lu->ops->capacity(lu) == 1u << 20);
    tgt_server_free(srv);
}

static void test_size_is_rounded_down_to_whole_blocks_and_must_hold_one(void **state)
{
    int rc;
    struct tgt_server *srv = mem_server(10000, 4096, &rc);

    (void)state;
    assert_int_equal(rc, 0);
    assert_true(tgt_server_lu(srv, 0)->nblocks == 2);
    tgt_server_free(srv);
    srv = mem_server(100, 512, &rc);
    assert_int_equal(rc, -22);
    assert_int_equal(tgt_server_lu_count(srv), 0);
    tgt_server_free(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_is_committed_only_where_written),
        cmocka_unit_test(test_unmap_returns_whole_pages_and_zeroes_partial_ones),
        cmocka_unit_test(test_zero_maps_unwritten_pages_without_committing_them_and_clears_written_ones),
        cmocka_unit_test(test_reads_point_into_the_mapping),
        cmocka_unit_test(test_size_is_rounded_down_to_whole_blocks_and_must_hold_one),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
