/* Unit tests of transport/net_exec.c: the tgt_exec contract of target/tgt.h (work runs off the loop thread,
 * done runs back on it, exactly once each) and the pooled libuv requests behind it. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "transport/net.h"

struct job {
    struct tgt_work w; /* first: the done callback gets &w */
    pthread_t loop_thread, work_thread;
    int value;
    bool done_on_loop;
    unsigned *done_count;
};

static void job_work(struct tgt_work *w)
{
    struct job *j = (struct job *)w;
    j->work_thread = pthread_self();
    j->value *= 2;
}

static void job_done(struct tgt_work *w)
{
    struct job *j = (struct job *)w;
    j->done_on_loop = pthread_equal(pthread_self(), j->loop_thread);
    ++*j->done_count;
}

/* tgt.h: work runs on some thread that is not the loop's, done runs back on the loop thread; a few hundred
 * items exercise the pooled requests past their first slab. */
static void test_exec_runs_work_off_the_loop_and_done_on_it(void **state)
{
    (void)state;
    struct net_loop *nl = net_loop_new(NULL);
    assert_non_null(nl);
    struct tgt_exec ex = net_exec(nl);
    assert_non_null(ex.queue);
    enum { N = 300 };
    struct job *jobs = calloc(N, sizeof *jobs);
    assert_non_null(jobs);
    unsigned done = 0;
    for (unsigned round = 0; round < 2; round++) {
        done = 0;
        for (int i = 0; i < N; i++) {
            jobs[i] = (struct job){ .w = { .work = job_work, .done = job_done }, .loop_thread = pthread_self(),
                                    .value = i, .done_count = &done };
            assert_int_equal(ex.queue(ex.ctx, &jobs[i].w), 0);
        }
        assert_int_equal(net_run(nl), 0);
        assert_int_equal(done, N);
        for (int i = 0; i < N; i++) {
            assert_int_equal(jobs[i].value, 2 * i);
            assert_true(jobs[i].done_on_loop);
            assert_false(pthread_equal(jobs[i].work_thread, pthread_self()));
        }
    }
    free(jobs);
    net_loop_free(nl);
}

static void test_exec_refuses_a_work_item_without_callbacks(void **state)
{
    (void)state;
    struct net_loop *nl = net_loop_new(NULL);
    assert_non_null(nl);
    struct tgt_exec ex = net_exec(nl);
    struct tgt_work no_done = { .work = job_work };
    struct tgt_work no_work = { .done = job_done };
    assert_int_equal(ex.queue(ex.ctx, &no_done), -EINVAL);
    assert_int_equal(ex.queue(ex.ctx, &no_work), -EINVAL);
    assert_int_equal(ex.queue(ex.ctx, NULL), -EINVAL);
    assert_int_equal(net_run(nl), 0);
    net_loop_free(nl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec_runs_work_off_the_loop_and_done_on_it),
        cmocka_unit_test(test_exec_refuses_a_work_item_without_callbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
