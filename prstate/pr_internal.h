/* Internals of prstate, shared by the prstate sources and nothing else.
 *
 * Ownership: a struct pr_itn_tab is created by the target server (pr_itn_tab_new) and outlives every
 * struct pr_state that points at it; each LU owns its struct pr_state (pr_state_new / pr_state_free).
 */
#ifndef PR_INTERNAL_H
#define PR_INTERNAL_H

#include "prstate/pr.h"

struct pr_itn_tab {
    uint16_t n_ports;
    struct pr_itn *v;   /* id -> identity, dense */
    uint32_t n, cap;
    uint32_t *slots;    /* open-addressing index: id + 1, 0 = empty; size hcap (a power of two) */
    uint32_t hcap;
    struct pr_state **states; /* the LU states using this table, told about every newly interned nexus */
    uint32_t n_states, states_cap;
};

#define PR_REG_REGISTERED 0x01u
#define PR_REG_ALL_TG_PT  0x02u

/* One entry per I_T nexus id, so a lookup is an array index (O(1) access check). */
struct pr_reg {
    uint64_t key;
    uint8_t flags;
};

/* A registration made with a name-only iSCSI TransportID (SPEC_I_PT, format 00b). Format 00b names the iSCSI
 * initiator device, not one of its ports (SPC-4 7.6.4.6), so it stands for every initiator port of that device
 * through target port rtpi (0: every target port, ALL_TG_PT=1), including ports that log in later: each such I_T
 * nexus is registered with key the first time it is seen (pr__state_itn_added). */
struct pr_devreg {
    char iname[PR_INAME_MAX];
    uint64_t key;
    uint16_t rtpi;
};

struct pr_state {
    struct pr_itn_tab *tab;
    struct pr_devreg *devregs;
    uint32_t n_devregs, devregs_cap;
    struct pr_reg *regs;     /* indexed by itn id; ids >= regs_cap are unregistered */
    uint32_t regs_cap;
    uint32_t n_regs;
    uint32_t max_regs;
    uint32_t generation;     /* PRgeneration, SPC-4 6.15.2 */

    bool reserved;
    uint8_t type, scope;
    uint32_t holder;         /* non-AR types: the holder; AR types: the nexus that reserved (not reported) */

    uint32_t spc2_holder;    /* SPC-2 logical unit reservation, PR_ITN_NONE when none */
    bool aptpl;              /* the last APTPL bit accepted (SPC-4 5.13.4) */
    bool lost;               /* SPC-5 5.13.5.3 reservation lost */
    bool in_pr_out;          /* pr_out() is running: it writes the state file once, when it is done */

    struct pr_caps caps;
    char profile[16];
    char *path;              /* APTPL state file, NULL when none */
    char *lu_id;
};

/* The reservation type is one of the All Registrants types (SPC-4 5.13.10: every registrant is a holder). */
static inline bool pr__type_is_ar(uint8_t type) { return type == PR_TYPE_WE_AR || type == PR_TYPE_EA_AR; }
/* Registrants Only or All Registrants: registered nexuses get the holder's access (SPC-4 5.13.1 Table 63). */
static inline bool pr__type_is_ro_or_ar(uint8_t type)
{
    return type == PR_TYPE_WE_RO || type == PR_TYPE_EA_RO || pr__type_is_ar(type);
}
static inline bool pr__is_registered(const struct pr_state *st, uint32_t itn)
{
    return itn < st->regs_cap && (st->regs[itn].flags & PR_REG_REGISTERED);
}
static inline bool pr__is_holder(const struct pr_state *st, uint32_t itn)
{
    if (!st->reserved)
        return false;
    if (pr__type_is_ar(st->type))
        return pr__is_registered(st, itn);
    return st->holder == itn;
}

/* Make regs[] cover itn. Returns 0 or -ENOMEM. */
int pr__regs_reserve(struct pr_state *st, uint32_t itn);
void pr__register(struct pr_state *st, uint32_t itn, uint64_t key, bool all_tg_pt);
void pr__unregister(struct pr_state *st, uint32_t itn);
/* Record a unit attention (at most one per nexus) / an abort. Return 0 or -ENOMEM. */
int pr__ua_add(struct pr_result *res, uint32_t itn, enum pr_ua_kind kind);
int pr__abort_add(struct pr_result *res, uint32_t itn);
void pr__result_clear(struct pr_result *res);

/* Device registrations (struct pr_devreg): add one (replacing the key of the same name and port), drop those with
 * key (all when any_key), drop those of iname with key. pr__devreg_add returns 0 or -ENOMEM. */
int pr__devreg_add(struct pr_state *st, const char *iname, uint64_t key, uint16_t rtpi);
uint32_t pr__devreg_drop_key(struct pr_state *st, uint64_t key, bool any_key); /* returns how many */
void pr__devreg_drop_name_key(struct pr_state *st, const char *iname, uint64_t key);
/* Called by pr_itn_intern() for every new I_T nexus: register it when a device registration covers it. */
void pr__state_itn_added(struct pr_state *st, uint32_t itn);

/* A copy of the mutable PR part of a state, to undo a change whose persistence failed. */
struct pr_snapshot {
    struct pr_devreg *devregs;
    uint32_t n_devregs;
    uint32_t n_itn;          /* nexuses interned when the copy was taken */
    struct pr_reg *regs;
    uint32_t regs_cap, n_regs, generation, holder;
    bool reserved, aptpl, lost;
    uint8_t type, scope;
};
int pr__snapshot_take(const struct pr_state *st, struct pr_snapshot *snap);
void pr__snapshot_restore(struct pr_state *st, struct pr_snapshot *snap); /* consumes snap */
void pr__snapshot_drop(struct pr_snapshot *snap);

/* Parse one iSCSI TransportID (SPC-4 7.6.4.6) at p (avail bytes). On success *len is its length, iname gets
 * the name and *has_isid says whether format 01b gave an ISID (in isid). Returns 0 or -EINVAL with *bad set to
 * the offending byte offset within p. */
int pr__tid_parse(const uint8_t *p, size_t avail, size_t *len, char iname[PR_INAME_MAX], uint8_t isid[6],
                  bool *has_isid, size_t *bad);

/* The capabilities of a named profile, NULL when there is no such profile. */
const struct pr_caps *pr__profile_lookup(const char *name);

/* Write the state file (tmp, fsync, rename, fsync dir). Returns 0 or -errno. */
int pr__persist_write(const struct pr_state *st);

#endif
