/* I_T nexuses of the SCSI target device.
 *
 * A nexus is named by (initiator name, ISID, relative target port id) and gets its dense id from the shared
 * pr_itn_tab, so PR state, unit attention queues and this table all index by the same number. The server owns
 * every nexus object for its whole life: a logout only marks it gone, so a re-login finds its registrations
 * (SPC-4 5.13.2) and learns through a unit attention that the nexus was lost (SAM-5 6.3.4).
 */
#include <stdlib.h>
#include <string.h>

#include "target/tgt_internal.h"

static int nexus_slot(struct tgt_server *srv, uint32_t itn)
{
    if (itn >= srv->nexus_cap) {
        uint32_t cap = srv->nexus_cap ? srv->nexus_cap : 16;
        struct tgt_nexus **n;

        while (cap <= itn)
            cap *= 2;
        n = realloc(srv->nexus, (size_t)cap * sizeof(*n));
        if (!n)
            return -12; /* -ENOMEM */
        memset(n + srv->nexus_cap, 0, (size_t)(cap - srv->nexus_cap) * sizeof(*n));
        srv->nexus = n;
        srv->nexus_cap = cap;
    }
    return 0;
}

struct tgt_nexus *tgt_nexus_login(struct tgt_server *srv, const char *iname, const uint8_t isid[6],
                                  uint16_t rtpi)
{
    uint32_t itn;
    struct tgt_nexus *nx;
    uint8_t asc, ascq;

    if (!iname || !isid)
        return NULL;
    itn = pr_itn_intern(srv->itn_tab, iname, isid, rtpi);
    if (itn == PR_ITN_NONE || nexus_slot(srv, itn) != 0)
        return NULL;
    nx = srv->nexus[itn];
    if (!nx) {
        nx = calloc(1, sizeof(*nx));
        if (!nx)
            return NULL;
        nx->srv = srv;
        nx->itn = itn;
        nx->rtpi = rtpi;
        srv->nexus[itn] = nx;
        /* SAM-5 6.3.1 / SPC-4 5.14: a new I_T nexus first sees POWER ON, RESET, OR BUS DEVICE RESET
         * OCCURRED on every LU. */
        asc = 0x29;
        ascq = 0x00;
    } else {
        /* SAM-5 6.3.4: the nexus existed before and was lost (logout, connection loss, or session
         * reinstatement); anything the initiator knew about LU state may be stale. */
        asc = 0x29;
        ascq = 0x07;
    }
    /* Conditions queued while the nexus was away (e.g. RESERVATIONS PREEMPTED) stay pending. */
    for (unsigned i = 0; i < srv->n_lus; i++)
        tgt_ua_raise(srv->lus[i], itn, asc, ascq);
    nx->logged_in = true;
    return nx;
}

void tgt_nexus_logout(struct tgt_nexus *nx)
{
    if (!nx)
        return;
    nx->logged_in = false;
    /* SPC-2 5.5.1: an SPC-2 reservation ends with its holder's I_T nexus; persistent ones do not. */
    for (unsigned i = 0; i < nx->srv->n_lus; i++)
        pr_state_nexus_lost(nx->srv->lus[i]->pr, nx->itn);
    /* SPC-4 6.13: an I_T nexus loss ends that nexus's PREVENT MEDIUM REMOVAL. */
    tgt__media_nexus_lost(nx->srv, nx->itn);
}

uint32_t tgt_nexus_id(const struct tgt_nexus *nx)
{
    return nx ? nx->itn : PR_ITN_NONE;
}

unsigned tgt_nexus_cmds_in_flight(const struct tgt_nexus *nx)
{
    return nx ? nx->in_flight : 0;
}
