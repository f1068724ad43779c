/* prbench main(): one run against a URL, or the compare mode that alternates two URLs round by round (A then B in
 * odd rounds, B then A in even ones, so neither always runs on a machine warmed by the other) and prints the
 * medians and A/B. Exit statuses are in prbench.h. */
#include "app/prbench.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static int run_one(const struct prt_bench_opts *o)
{
    struct prt_bench_result r;
    int ex = prt_bench_run(o, o->url, &r, stderr);
    if (ex != PRT_BENCH_EXIT_OK)
        return ex;
    if (o->json)
        prt_bench_result_json(stdout, &r);
    else
        prt_bench_result_print(stdout, &r);
    fflush(stdout);
    return PRT_BENCH_EXIT_OK;
}

static int run_compare(const struct prt_bench_opts *o)
{
    struct prt_bench_result *ra = calloc(o->rounds, sizeof(*ra));
    struct prt_bench_result *rb = calloc(o->rounds, sizeof(*rb));
    if (ra == NULL || rb == NULL) {
        free(ra);
        free(rb);
        fprintf(stderr, "prbench: out of memory\n");
        return PRT_BENCH_EXIT_FAIL;
    }
    int ex = PRT_BENCH_EXIT_OK;
    for (uint32_t round = 0; round < o->rounds && ex == PRT_BENCH_EXIT_OK; round++) {
        for (int k = 0; k < 2 && ex == PRT_BENCH_EXIT_OK; k++) {
            int side = (round % 2 == 0) ? k : 1 - k;
            struct prt_bench_result *r = side == 0 ? &ra[round] : &rb[round];
            ex = prt_bench_run(o, o->vs[side], r, stderr);
            if (ex != PRT_BENCH_EXIT_OK || o->quiet)
                continue;
            if (o->json) {
                prt_bench_result_json(stdout, r);
            } else {
                printf("round %u %c: ", round + 1, side == 0 ? 'A' : 'B');
                prt_bench_result_print(stdout, r);
            }
            fflush(stdout);
        }
    }
    if (ex == PRT_BENCH_EXIT_OK) {
        struct prt_bench_compare c;
        if (prt_bench_compare(&c, ra, rb, o->rounds) != 0) {
            fprintf(stderr, "prbench: out of memory\n");
            ex = PRT_BENCH_EXIT_FAIL;
        } else if (o->json) {
            prt_bench_compare_json(stdout, &c);
        } else {
            prt_bench_compare_print(stdout, &c);
        }
    }
    free(ra);
    free(rb);
    return ex;
}

int main(int argc, char **argv)
{
    struct prt_bench_opts o;
    int ex = prt_bench_parse_args(&o, argc, argv, stderr);
    if (ex != 0)
        return ex;
    if (o.help) {
        prt_bench_usage(stdout);
        return PRT_BENCH_EXIT_OK;
    }
    if (o.version) {
        printf("prbench %s\n", PRT_BENCH_VERSION);
        return PRT_BENCH_EXIT_OK;
    }
    /* A target that drops a connection must surface as a failed run, not kill the program on a write. */
    signal(SIGPIPE, SIG_IGN);
    return o.compare ? run_compare(&o) : run_one(&o);
}
