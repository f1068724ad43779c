/* Unit attention conditions, queued per (logical unit, I_T nexus).
 *
 * SAM-5 5.14 and SPC-4 5.14 (LUICLR=1: unit attentions are per I_T nexus, never per initiator name): each
 * nexus has a small queue per LU, duplicates are merged, and one condition is reported per command in priority
 * order (resets first). Without UA_INTLCK_CTRL the reported condition is cleared as it is reported.
 */
#include <stdlib.h>
#include <string.h>

#include "target/tgt_internal.h"

/* Lower is reported first. SAM-5 5.14 lets the device server choose the order among several pending
 * conditions; a reset invalidates what the initiator knew, so it goes first, then cleared commands, then the
 * parameter-change conditions. */
static int ua_rank(uint8_t asc, uint8_t ascq)
{
    switch (asc) {
    case 0x29:
        return ascq <= 0x01 ? 0 : (ascq <= 0x04 ? 1 : 2);
    case 0x2f:
        return 3;
    case 0x2a:
        return 4;
    case 0x3f:
        return 5;
    default:
        return 6;
    }
}

static struct tgt_ua_q *ua_queue(struct tgt_lu *lu, uint32_t itn, bool grow)
{
    if (itn == PR_ITN_NONE)
        return NULL;
    if (itn >= lu->ua_cap) {
        uint32_t cap;
        struct tgt_ua_q *q;

        if (!grow)
            return NULL;
        cap = lu->ua_cap ? lu->ua_cap : 8;
        while (cap <= itn)
            cap *= 2;
        q = realloc(lu->ua, (size_t)cap * sizeof(*q));
        if (!q)
            return NULL;
        memset(q + lu->ua_cap, 0, (size_t)(cap - lu->ua_cap) * sizeof(*q));
        lu->ua = q;
        lu->ua_cap = cap;
    }
    return &lu->ua[itn];
}

void tgt_ua_raise(struct tgt_lu *lu, uint32_t itn, uint8_t asc, uint8_t ascq)
{
    struct tgt_ua_q *q = ua_queue(lu, itn, true);
    int rank = ua_rank(asc, ascq);

    if (!q)
        return;
    for (unsigned i = 0; i < q->n; i++)
        if (q->e[i].asc == asc && q->e[i].ascq == ascq)
            return;
    if (q->n == TGT_UA_MAX) {
        /* Full: the least important, most recent condition makes room if the new one outranks it. */
        unsigned worst = 0;

        for (unsigned i = 1; i < q->n; i++)
            if (ua_rank(q->e[i].asc, q->e[i].ascq) >= ua_rank(q->e[worst].asc, q->e[worst].ascq))
                worst = i;
        if (ua_rank(q->e[worst].asc, q->e[worst].ascq) <= rank)
            return;
        memmove(&q->e[worst], &q->e[worst + 1], (q->n - worst - 1) * sizeof(q->e[0]));
        q->n--;
    }
    q->e[q->n].asc = asc;
    q->e[q->n].ascq = ascq;
    q->n++;
    tgt__event_ua(lu, itn, asc, ascq, false); /* the PR event log (target/fault.c); no-op without a sink */
}

void tgt__ua_raise_all(struct tgt_lu *lu, uint8_t asc, uint8_t ascq, uint32_t except_itn)
{
    uint32_t n = pr_itn_count(lu->srv->itn_tab);

    for (uint32_t itn = 0; itn < n; itn++)
        if (itn != except_itn)
            tgt_ua_raise(lu, itn, asc, ascq);
}

bool tgt__ua_pending(const struct tgt_lu *lu, uint32_t itn)
{
    return itn != PR_ITN_NONE && itn < lu->ua_cap && lu->ua[itn].n > 0;
}

bool tgt__ua_pop(struct tgt_lu *lu, uint32_t itn, uint8_t *asc, uint8_t *ascq)
{
    struct tgt_ua_q *q = ua_queue(lu, itn, false);
    unsigned best = 0;

    if (!q || q->n == 0)
        return false;
    for (unsigned i = 1; i < q->n; i++)
        if (ua_rank(q->e[i].asc, q->e[i].ascq) < ua_rank(q->e[best].asc, q->e[best].ascq))
            best = i;
    *asc = q->e[best].asc;
    *ascq = q->e[best].ascq;
    memmove(&q->e[best], &q->e[best + 1], (q->n - best - 1) * sizeof(q->e[0]));
    q->n--;
    tgt__event_ua(lu, itn, *asc, *ascq, true);
    /* SAM-5 5.14: POWER ON, RESET, OR BUS DEVICE RESET OCCURRED is the generic form of every 29h condition
     * (SAM-5 6.3 lets each reset event be reported with it), so once it is reported the more specific ones of
     * this nexus tell the initiator nothing new and are cleared with it. */
    if (*asc == 0x29 && *ascq == 0x00) {
        unsigned k = 0;

        for (unsigned i = 0; i < q->n; i++)
            if (q->e[i].asc != 0x29)
                q->e[k++] = q->e[i];
        q->n = (uint8_t)k;
    }
    return true;
}

void tgt__ua_clear(struct tgt_lu *lu, uint32_t itn)
{
    struct tgt_ua_q *q = ua_queue(lu, itn, false);

    if (q)
        q->n = 0;
}

void tgt__ua_free(struct tgt_lu *lu)
{
    free(lu->ua);
    lu->ua = NULL;
    lu->ua_cap = 0;
}

void tgt__ua_remove(struct tgt_lu *lu, uint32_t itn, uint8_t asc, uint8_t ascq)
{
    struct tgt_ua_q *q = ua_queue(lu, itn, false);

    if (!q)
        return;
    for (unsigned i = 0; i < q->n; i++) {
        if (q->e[i].asc == asc && q->e[i].ascq == ascq) {
            memmove(&q->e[i], &q->e[i + 1], (q->n - i - 1) * sizeof(q->e[0]));
            q->n--;
            return;
        }
    }
}
