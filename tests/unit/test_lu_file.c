/* Unit tests for target/lu_file.c: file-backed LUs (created, extended, persisted, holes punched, async I/O). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/tgt_internal.h"

#define BUFSZ 65536

struct ffx {
    char dir[64];
    char path[96];
    struct tgt_work *q[8];
    int nq;
    int done_calls;
    uint8_t buf[BUFSZ];
};

static const uint8_t isid[6] = { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x01 };

static int fake_queue(void *ctx, struct tgt_work *w)
{
    struct ffx *f = ctx;

    if (f->nq == 8)
        return -EAGAIN;
    f->q[f->nq++] = w;
    return 0;
}

static void run_queued(struct ffx *f)
{
    while (f->nq) {
        struct tgt_work *w = f->q[--f->nq];

        w->work(w);
        w->done(w);
    }
}

static void on_done(struct tgt_cmd *c)
{
    ((struct ffx *)c->owner)->done_calls++;
}

static struct tgt_server *server(struct ffx *f, bool async, uint64_t size, bool ro, int *rc, char *err,
                                 size_t errlen)
{
    struct tgt_server_cfg cfg = { .target_name = "iqn.2026-11.org.prtarget:file", .n_ports = 1 };
    struct tgt_lu_cfg lc = { .backend = TGT_BACKEND_FILE, .path = f->path, .size = size, .read_only = ro };
    struct tgt_server *srv;

    if (async) {
        cfg.exec.queue = fake_queue;
        cfg.exec.ctx = f;
    }
    srv = tgt_server_new(&cfg, err, errlen);
    assert_non_null(srv);
    *rc = tgt_server_add_lu(srv, &lc, err, errlen);
    return srv;
}

static void run(struct ffx *f, struct tgt_server *srv, struct tgt_nexus *nx, struct tgt_cmd *c,
                const uint8_t *cdb, size_t dout, uint32_t exp)
{
    memset(c, 0, sizeof(*c));
    c->nexus = nx;
    memcpy(c->cdb, cdb, 16);
    c->cdb_len = 16;
    c->exp_len = exp;
    c->buf = f->buf;
    c->buf_cap = BUFSZ;
    c->dout_len = dout;
    c->done = on_done;
    c->owner = f;
    tgt_cmd_submit(srv, c);
}

/* Log in and consume the power-on unit attention. */
static struct tgt_nexus *login(struct ffx *f, struct tgt_server *srv)
{
    struct tgt_nexus *nx = tgt_nexus_login(srv, "iqn.2026-11.test:a", isid, 1);
    struct tgt_cmd c;
    const uint8_t tur[16] = { 0 };

    assert_non_null(nx);
    run(f, srv, nx, &c, tur, 0, 0);
    run_queued(f);
    return nx;
}

static void rw10(struct ffx *f, struct tgt_server *srv, struct tgt_nexus *nx, struct tgt_cmd *c, uint8_t op,
                 uint32_t lba, uint16_t n)
{
    uint8_t cdb[16] = { op };

    prt_put_be32(cdb + 2, lba);
    prt_put_be16(cdb + 7, n);
    run(f, srv, nx, c, cdb, op == 0x2a ? (size_t)n * 512 : 0, (uint32_t)n * 512);
}

static int setup(void **state)
{
    struct ffx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_lu_file.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/disk.img", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct ffx *f = *state;
    char p[128];

    unlink(f->path);
    snprintf(p, sizeof(p), "%s.prstate.json", f->path);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void test_file_with_size_is_created_and_sized(void **state)
{
    struct ffx *f = *state;
    char err[256];
    int rc;
    struct tgt_server *srv = server(f, false, 1u << 20, false, &rc, err, sizeof(err));
    struct stat st;

    assert_int_equal(rc, 0);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_size, 1 << 20);
    assert_true(tgt_server_lu(srv, 0)->nblocks == 2048);
    tgt_server_free(srv);
}

static void test_missing_file_without_size_fails_naming_the_path(void **state)
{
    struct ffx *f = *state;
    char err[256] = "";
    int rc;
    struct tgt_server *srv = server(f, false, 0, false, &rc, err, sizeof(err));

    assert_int_equal(rc, -ENOENT);
    assert_non_null(strstr(err, f->path));
    assert_int_equal(tgt_server_lu_count(srv), 0);
    tgt_server_free(srv);
}

static void test_existing_file_without_size_uses_its_size(void **state)
{
    struct ffx *f = *state;
    char err[256];
    int rc, fd = open(f->path, O_CREAT | O_WRONLY, 0644);
    struct tgt_server *srv;

    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 3 * 4096 + 100), 0); /* a partial block at the end is not addressable */
    close(fd);
    srv = server(f, false, 0, false, &rc, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_true(tgt_server_lu(srv, 0)->nblocks == 24);
    tgt_server_free(srv);
}

static void test_written_data_survives_a_restart(void **state)
{
    struct ffx *f = *state;
    char err[256];
    int rc;
    struct tgt_server *srv = server(f, false, 1u << 20, false, &rc, err, sizeof(err));
    struct tgt_nexus *nx = login(f, srv);
    struct tgt_cmd c;

    memset(f->buf, 0x3c, 4096);
    rw10(f, srv, nx, &c, 0x2a, 100, 8);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(tgt_server_flush(srv), 0);
    tgt_server_free(srv);

    srv = server(f, false, 0, false, &rc, err, sizeof(err));
    assert_int_equal(rc, 0);
    nx = login(f, srv);
    memset(f->buf, 0, 4096);
    rw10(f, srv, nx, &c, 0x28, 100, 8);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(c.din_len, 4096);
    assert_ptr_equal(c.din[0].base, f->buf);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(f->buf[i], 0x3c);
    tgt_server_free(srv);
}

static void test_io_runs_on_the_executor_and_completes_when_it_returns(void **state)
{
    struct ffx *f = *state;
    char err[256];
    int rc;
    struct tgt_server *srv = server(f, true, 1u << 20, false, &rc, err, sizeof(err));
    struct tgt_nexus *nx = login(f, srv);
    struct tgt_cmd c;
    int before;

    memset(f->buf, 0x71, 512);
    before = f->done_calls;
    rw10(f, srv, nx, &c, 0x2a, 5, 1);
    assert_int_equal(f->done_calls, before);
    assert_int_equal(f->nq, 1);
    assert_int_equal(tgt_nexus_cmds_in_flight(nx), 1);
    run_queued(f);
    assert_int_equal(f->done_calls, before + 1);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    memset(f->buf, 0, 512);
    rw10(f, srv, nx, &c, 0x28, 5, 1);
    run_queued(f);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_int_equal(f->buf[511], 0x71);
    assert_int_equal(tgt_nexus_cmds_in_flight(nx), 0);
    tgt_server_free(srv);
}

static void test_unmap_punches_a_hole_that_reads_as_zeros(void **state)
{
    struct ffx *f = *state;
    char err[256];
    int rc;
    struct tgt_server *srv = server(f, false, 1u << 20, false, &rc, err, sizeof(err));
    struct tgt_nexus *nx = login(f, srv);
    struct tgt_cmd c;
    uint8_t cdb[16] = { 0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0 };
    uint8_t gls[16] = { 0x9e, 0x12 };

    memset(f->buf, 0xaa, 64 * 512);
    rw10(f, srv, nx, &c, 0x2a, 0, 64);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    memset(f->buf, 0, 24);
    prt_put_be16(f->buf, 22);
    prt_put_be16(f->buf + 2, 16);
    prt_put_be64(f->buf + 8, 16);
    prt_put_be32(f->buf + 16, 16);
    run(f, srv, nx, &c, cdb, 24, 24);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    rw10(f, srv, nx, &c, 0x28, 0, 64);
    for (int i = 0; i < 64 * 512; i++)
        assert_int_equal(f->buf[i], (i >= 16 * 512 && i < 32 * 512) ? 0 : 0xaa);
    /* GET LBA STATUS sees the hole where the file system has one. */
    prt_put_be64(gls + 2, 16);
    prt_put_be32(gls + 10, 24);
    run(f, srv, nx, &c, gls, 0, 24);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    assert_true(prt_get_be64(f->buf + 8) == 16);
    if (lseek(tgt_server_lu(srv, 0)->fd, 16 * 512, SEEK_HOLE) == 16 * 512)
        assert_int_equal(f->buf[8 + 12] & 0x0f, 1);
    tgt_server_free(srv);
}

static void test_write_same_of_a_zero_block_to_the_end_writes_zeros_and_leaves_blocks_mapped(void **state)
{
    struct ffx *f = *state;
    char err[256];
    int rc;
    struct tgt_server *srv = server(f, false, 1u << 20, false, &rc, err, sizeof(err));
    struct tgt_nexus *nx = login(f, srv);
    struct tgt_lu *lu = tgt_server_lu(srv, 0);
    struct tgt_cmd c;
    uint8_t ws[16] = { 0x93 };
    bool mapped;
    uint64_t run_len;

    memset(f->buf, 0xaa, 64 * 512);
    rw10(f, srv, nx, &c, 0x2a, 1984, 64);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    /* WRITE SAME(16), UNMAP=0, NUMBER OF LOGICAL BLOCKS 0 from LBA 1000: every block to the last one. */
    memset(f->buf, 0, 512);
    prt_put_be64(ws + 2, 1000);
    run(f, srv, nx, &c, ws, 512, 512);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    rw10(f, srv, nx, &c, 0x28, 1984, 64);
    for (int i = 0; i < 64 * 512; i++)
        assert_int_equal(f->buf[i], 0);
    assert_int_equal(lu->ops->lba_status(lu, 1000 * 512, &mapped, &run_len), 0);
    assert_true(mapped);
    assert_true(run_len == (2048 - 1000) * 512);
    tgt_server_free(srv);
}

static void test_read_only_file_lu_refuses_writes(void **state)
{
    struct ffx *f = *state;
    char err[256];
    int rc, fd = open(f->path, O_CREAT | O_WRONLY, 0644);
    struct tgt_server *srv;
    struct tgt_nexus *nx;
    struct tgt_cmd c;

    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 1 << 20), 0);
    close(fd);
    srv = server(f, false, 0, true, &rc, err, sizeof(err));
    assert_int_equal(rc, 0);
    nx = login(f, srv);
    rw10(f, srv, nx, &c, 0x2a, 0, 1);
    assert_int_equal(c.status, TGT_STATUS_CHECK_CONDITION);
    assert_int_equal(c.sense[2] & 0xf, TGT_SK_DATA_PROTECT);
    assert_int_equal(c.sense[12], 0x27);
    rw10(f, srv, nx, &c, 0x28, 0, 1);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    tgt_server_free(srv);
}

static void test_compare_and_write_on_a_file_lu_is_atomic_under_the_exclusive_lock(void **state)
{
    struct ffx *f = *state;
    char err[256];
    int rc;
    struct tgt_server *srv = server(f, true, 1u << 20, false, &rc, err, sizeof(err));
    struct tgt_nexus *nx = login(f, srv);
    struct tgt_cmd c;
    uint8_t cdb[16] = { 0x89 };

    cdb[13] = 1;
    memset(f->buf, 0, 512);
    memset(f->buf + 512, 0xcd, 512);
    run(f, srv, nx, &c, cdb, 1024, 1024);
    /* Held by the worker: the lock is free until it runs. */
    assert_int_equal(pthread_rwlock_trywrlock(&tgt_server_lu(srv, 0)->io_lock), 0);
    pthread_rwlock_unlock(&tgt_server_lu(srv, 0)->io_lock);
    run_queued(f);
    assert_int_equal(c.status, TGT_STATUS_GOOD);
    run(f, srv, nx, &c, cdb, 1024, 1024); /* compares zeros with 0xcd now */
    run_queued(f);
    assert_int_equal(c.status, TGT_STATUS_CHECK_CONDITION);
    assert_int_equal(c.sense[2] & 0xf, TGT_SK_MISCOMPARE);
    tgt_server_free(srv);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_file_with_size_is_created_and_sized),
        T(test_missing_file_without_size_fails_naming_the_path),
        T(test_existing_file_without_size_uses_its_size),
        T(test_written_data_survives_a_restart),
        T(test_io_runs_on_the_executor_and_completes_when_it_returns),
        T(test_unmap_punches_a_hole_that_reads_as_zeros),
        T(test_write_same_of_a_zero_block_to_the_end_writes_zeros_and_leaves_blocks_mapped),
        T(test_read_only_file_lu_refuses_writes),
        T(test_compare_and_write_on_a_file_lu_is_atomic_under_the_exclusive_lock),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
