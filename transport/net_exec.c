/* The executor of the target layer (tgt_exec): blocking work, such as file I/O of a file LU, runs on libuv's
 * thread pool and completes back on the loop thread, where the target state lives. */
#include <errno.h>
#include <stdlib.h>

#include "transport/net_internal.h"

/* Work items are allocated in slabs of this many and recycled, so a command costs no allocation once the
 * pool has reached the deepest queue seen. */
#define NET_WORK_SLAB 64

static void net__work_cb(uv_work_t *req)
{
    struct net_work *nw = req->data;
    nw->w->work(nw->w);
}

static void net__after_work_cb(uv_work_t *req, int status)
{
    struct net_work *nw = req->data;
    struct net_loop *nl = req->loop->data;
    struct tgt_work *w = nw->w;
    (void)status; /* never cancelled: every queued item runs to completion */
    nw->w = NULL;
    nw->next_free = nl->work_free;
    nl->work_free = nw;
    nl->work_in_flight--;
    w->done(w);
}

static int net__exec_queue(void *ctx, struct tgt_work *w)
{
    struct net_loop *nl = ctx;
    if (!w || !w->work || !w->done)
        return -EINVAL;
    if (!nl->work_free) {
        struct net_work_slab *slab = calloc(1, sizeof *slab + NET_WORK_SLAB * sizeof(struct net_work));
        if (!slab)
            return -ENOMEM;
        slab->n = NET_WORK_SLAB;
        slab->next = nl->work_slabs;
        nl->work_slabs = slab;
        for (unsigned i = 0; i < NET_WORK_SLAB; i++) {
            slab->items[i].next_free = nl->work_free;
            nl->work_free = &slab->items[i];
        }
    }
    struct net_work *nw = nl->work_free;
    nl->work_free = nw->next_free;
    nw->w = w;
    nw->req.data = nw;
    w->impl[0] = nw;
    int rc = uv_queue_work(&nl->loop, &nw->req, net__work_cb, net__after_work_cb);
    if (rc) {
        nw->w = NULL;
        nw->next_free = nl->work_free;
        nl->work_free = nw;
        return rc;
    }
    nl->work_in_flight++;
    return 0;
}

struct tgt_exec net_exec(struct net_loop *nl)
{
    struct tgt_exec ex = { .queue = net__exec_queue, .ctx = nl };
    return ex;
}

void net__exec_free(struct net_loop *nl)
{
    while (nl->work_slabs) {
        struct net_work_slab *s = nl->work_slabs;
        nl->work_slabs = s->next;
        free(s);
    }
    nl->work_free = NULL;
}
