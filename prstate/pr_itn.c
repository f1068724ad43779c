/* The I_T nexus table: (iSCSI initiator name, ISID, relative target port id) -> dense id.
 *
 * An I_T nexus is identified by its initiator port and target port (SAM-5 4.6.4, RFC 7143 4.4.3: the iSCSI
 * initiator port name is the initiator name plus the ISID). Ids are never reused, so a re-login with the same
 * name and ISID finds the same id and with it every registration held by that nexus.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "prstate/pr_internal.h"

struct pr_itn_tab *pr_itn_tab_new(uint16_t n_ports)
{
    if (n_ports == 0)
        return NULL;
    struct pr_itn_tab *tab = calloc(1, sizeof(*tab));
    if (!tab)
        return NULL;
    tab->n_ports = n_ports;
    return tab;
}

void pr_itn_tab_free(struct pr_itn_tab *tab)
{
    if (!tab)
        return;
    free(tab->v);
    free(tab->slots);
    free(tab->states);
    free(tab);
}

static uint32_t pr_itn_hash(const char *iname, const uint8_t isid[6], uint16_t rtpi)
{
    uint32_t h = 2166136261u;
    for (const char *c = iname; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    for (int i = 0; i < 6; i++)
        h = (h ^ isid[i]) * 16777619u;
    h = (h ^ (uint8_t)(rtpi >> 8)) * 16777619u;
    h = (h ^ (uint8_t)rtpi) * 16777619u;
    return h;
}

static int pr_itn_rehash(struct pr_itn_tab *tab, uint32_t hcap)
{
    uint32_t *slots = calloc(hcap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    for (uint32_t id = 0; id < tab->n; id++) {
        const struct pr_itn *e = &tab->v[id];
        uint32_t i = pr_itn_hash(e->iname, e->isid, e->rtpi) & (hcap - 1);
        while (slots[i])
            i = (i + 1) & (hcap - 1);
        slots[i] = id + 1;
    }
    free(tab->slots);
    tab->slots = slots;
    tab->hcap = hcap;
    return 0;
}

static uint32_t pr_itn_find(const struct pr_itn_tab *tab, const char *iname, const uint8_t isid[6],
                            uint16_t rtpi, uint32_t hash)
{
    if (!tab->hcap)
        return PR_ITN_NONE;
    for (uint32_t i = hash & (tab->hcap - 1);; i = (i + 1) & (tab->hcap - 1)) {
        uint32_t s = tab->slots[i];
        if (!s)
            return PR_ITN_NONE;
        const struct pr_itn *e = &tab->v[s - 1];
        if (e->rtpi == rtpi && memcmp(e->isid, isid, 6) == 0 && strcmp(e->iname, iname) == 0)
            return s - 1;
    }
}

uint32_t pr_itn_intern(struct pr_itn_tab *tab, const char *iname, const uint8_t isid[6], uint16_t rtpi)
{
    if (!tab || !iname || !isid || rtpi == 0 || rtpi > tab->n_ports)
        return PR_ITN_NONE;
    size_t nlen = strnlen(iname, PR_INAME_MAX);
    /* RFC 7143 4.2.7.1: an iSCSI name is at most 223 bytes. */
    if (nlen == 0 || nlen >= PR_INAME_MAX)
        return PR_ITN_NONE;
    uint32_t hash = pr_itn_hash(iname, isid, rtpi);
    uint32_t id = pr_itn_find(tab, iname, isid, rtpi, hash);
    if (id != PR_ITN_NONE)
        return id;
    if (tab->n >= PR_ITN_NONE - 1)
        return PR_ITN_NONE;
    if (tab->n == tab->cap) {
        uint32_t cap = tab->cap ? tab->cap * 2 : 16;
        struct pr_itn *v = realloc(tab->v, (size_t)cap * sizeof(*v));
        if (!v)
            return PR_ITN_NONE;
        tab->v = v;
        tab->cap = cap;
    }
    /* Keep the index at most half full so probes stay short. */
    if ((tab->n + 1) * 2 > tab->hcap && pr_itn_rehash(tab, tab->hcap ? tab->hcap * 2 : 32) != 0)
        return PR_ITN_NONE;
    struct pr_itn *e = &tab->v[tab->n];
    memset(e, 0, sizeof(*e));
    memcpy(e->iname, iname, nlen);
    memcpy(e->isid, isid, 6);
    e->rtpi = rtpi;
    id = tab->n++;
    uint32_t i = hash & (tab->hcap - 1);
    while (tab->slots[i])
        i = (i + 1) & (tab->hcap - 1);
    tab->slots[i] = id + 1;
    /* A nexus seen for the first time may be covered by a registration made through a name-only TransportID. */
    for (uint32_t k = 0; k < tab->n_states; k++)
        pr__state_itn_added(tab->states[k], id);
    return id;
}

const struct pr_itn *pr_itn_get(const struct pr_itn_tab *tab, uint32_t id)
{
    if (!tab || id >= tab->n)
        return NULL;
    return &tab->v[id];
}

uint32_t pr_itn_count(const struct pr_itn_tab *tab) { return tab ? tab->n : 0; }

uint16_t pr_itn_ports(const struct pr_itn_tab *tab) { return tab ? tab->n_ports : 0; }
