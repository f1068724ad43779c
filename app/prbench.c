/* prbench main(): one run against a URL, or the compare mode that alternates two URLs round by round (A then B in
 * odd rounds, B then A in even ones, so neither always runs on a machine warmed by the other) and prints the
 * medians and A/B. Exit statuses are in prbench.h. */
#include "app/prbench.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static int run_one(const struct prb_opts *o)
{
    struct prb_result r;
    int ex = prb_run(o, o->url, &r, stderr);
    if (ex != PRB_EXIT_OK)
        return ex;
    if (o->json)
        prb_result_json(stdout, &r);
    else
        prb_result_print(stdout, &r);
    fflush(stdout);
    return PRB_EXIT_OK;
}

static int run_compare(const struct prb_opts *o)
{
    struct prb_result *ra = calloc(o->rounds, sizeof(*ra));
    struct prb_result *rb = calloc(o->rounds, sizeof(*rb));
    if (ra == NULL || rb == NULL) {
        free(ra);
        free(rb);
        fprintf(stderr, "prbench: out of memory\n");
        return PRB_EXIT_FAIL;
    }
    int ex = PRB_EXIT_OK;
    for (uint32_t round = 0; round < o->rounds && ex == PRB_EXIT_OK; round++) {
        for (int k = 0; k < 2 && ex == PRB_EXIT_OK; k++) {
            int side = (round % 2 == 0) ? k : 1 - k;
            struct prb_result *r = side == 0 ? &ra[round] : &rb[round];
            ex = prb_run(o, o->vs[side], r, stderr);
            if (ex != PRB_EXIT_OK || o->quiet)
                continue;
            if (o->json) {
                prb_result_json(stdout, r);
            } else {
                printf("round %u %c: ", round + 1, side == 0 ? 'A' : 'B');
                prb_result_print(stdout, r);
            }
            fflush(stdout);
        }
    }
    if (ex == PRB_EXIT_OK) {
        struct prb_compare c;
        if (prb_compare(&c, ra, rb, o->rounds) != 0) {
            fprintf(stderr, "prbench: out of memory\n");
            ex = PRB_EXIT_FAIL;
        } else if (o->json) {
            prb_compare_json(stdout, &c);
        } else {
            prb_compare_print(stdout, &c);
        }
    }
    free(ra);
    free(rb);
    return ex;
}

int main(int argc, char **argv)
{
    struct prb_opts o;
    int ex = prb_parse_args(&o, argc, argv, stderr);
    if (ex != 0)
        return ex;
    if (o.help) {
        prb_usage(stdout);
        return PRB_EXIT_OK;
    }
    if (o.version) {
        printf("prbench %s\n", PRB_VERSION);
        return PRB_EXIT_OK;
    }
    /* A target that drops a connection must surface as a failed run, not kill the program on a write. */
    signal(SIGPIPE, SIG_IGN);
    return o.compare ? run_compare(&o) : run_one(&o);
}
