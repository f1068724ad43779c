/* Per-LU persistent reservation state: lifetime, the access check, SPC-2 reservations, profiles, inspection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prstate/pr_internal.h"

#define PR_DEFAULT_MAX_REGS 1024u

#define PR_TYPE_BIT(t) ((uint16_t)(1u << (t)))
#define PR_ALL_TYPES (PR_TYPE_BIT(PR_TYPE_WE) | PR_TYPE_BIT(PR_TYPE_EA) | PR_TYPE_BIT(PR_TYPE_WE_RO) | \
                      PR_TYPE_BIT(PR_TYPE_EA_RO) | PR_TYPE_BIT(PR_TYPE_WE_AR) | PR_TYPE_BIT(PR_TYPE_EA_AR))

struct pr_profile {
    const char *name;
    struct pr_caps caps;
};

/* Each profile is what one class of real device accepts; REPORT CAPABILITIES reports it verbatim (SPC-4 6.15.4).
 * ALLOW COMMANDS 011b (SPC-4 6.15.4): TEST UNIT READY passes Write Exclusive and Exclusive Access reservations,
 * and MODE SENSE, READ BUFFER, RECEIVE DIAGNOSTIC RESULTS, REPORT SUPPORTED OPERATION CODES and the rest of that
 * list pass Write Exclusive ones, which is what PR_ACCESS_READ and PR_ACCESS_TUR implement. */
static const struct pr_profile pr_profiles[] = {
    { "full", { .out_sa_mask = 0x01ff, .type_mask = PR_ALL_TYPES, .allow_commands = 3, .spc3_tur = false,
                .ptpl = true, .sip_c = true, .atp_c = true, .crh = true, .tmv = true } },
    /* SPC-3 devices have no REPLACE LOST RESERVATION, no ALLOW COMMANDS, and conflict TEST UNIT READY under
     * Exclusive Access types (SPC-3 5.6.1 Table 31). */
    { "spc3", { .out_sa_mask = 0x00ff, .type_mask = PR_ALL_TYPES, .allow_commands = 0, .spc3_tur = true,
                .ptpl = true, .sip_c = true, .atp_c = true, .crh = true, .tmv = true } },
    { "dlt-s4", { .out_sa_mask = 0x00ff,
                  .type_mask = PR_TYPE_BIT(PR_TYPE_WE) | PR_TYPE_BIT(PR_TYPE_EA) | PR_TYPE_BIT(PR_TYPE_WE_RO) |
                               PR_TYPE_BIT(PR_TYPE_EA_RO),
                  .allow_commands = 0, .spc3_tur = true, .ptpl = true, .sip_c = false, .atp_c = false,
                  .crh = true, .tmv = true } },
    { "sl150", { .out_sa_mask = 0x00ff,
                 .type_mask = PR_TYPE_BIT(PR_TYPE_EA) | PR_TYPE_BIT(PR_TYPE_EA_RO) | PR_TYPE_BIT(PR_TYPE_EA_AR),
                 .allow_commands = 0, .spc3_tur = true, .ptpl = true, .sip_c = false, .atp_c = false,
                 .crh = true, .tmv = true } },
};

struct pr_state *pr_state_new(struct pr_itn_tab *tab)
{
    if (!tab)
        return NULL;
    struct pr_state *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->tab = tab;
    st->holder = PR_ITN_NONE;
    st->spc2_holder = PR_ITN_NONE;
    st->max_regs = PR_DEFAULT_MAX_REGS;
    st->caps = pr_profiles[0].caps;
    strcpy(st->profile, pr_profiles[0].name);
    /* The table tells every state about new nexuses (device registrations, struct pr_devreg). */
    if (tab->n_states == tab->states_cap) {
        uint32_t cap = tab->states_cap ? tab->states_cap * 2 : 4;
        struct pr_state **v = realloc(tab->states, (size_t)cap * sizeof(*v));
        if (!v) {
            free(st);
            return NULL;
        }
        tab->states = v;
        tab->states_cap = cap;
    }
    tab->states[tab->n_states++] = st;
    return st;
}

void pr_state_free(struct pr_state *st)
{
    if (!st)
        return;
    struct pr_itn_tab *tab = st->tab;
    for (uint32_t i = 0; i < tab->n_states; i++) {
        if (tab->states[i] == st) {
            tab->states[i] = tab->states[--tab->n_states];
            break;
        }
    }
    free(st->devregs);
    free(st->regs);
    free(st->path);
    free(st->lu_id);
    free(st);
}

/* ---- results ------------------------------------------------------------------------------------------------ */

void pr_result_init(struct pr_result *res)
{
    memset(res, 0, sizeof(*res));
    res->field_byte = -1;
    res->field_bit = -1;
}

void pr_result_free(struct pr_result *res)
{
    free(res->ua);
    free(res->abort);
    pr_result_init(res);
}

void pr__result_clear(struct pr_result *res)
{
    res->n_ua = 0;
    res->n_abort = 0;
}

int pr__ua_add(struct pr_result *res, uint32_t itn, enum pr_ua_kind kind)
{
    /* SPC-4 5.13.6: one unit attention per affected I_T nexus for one event. */
    for (size_t i = 0; i < res->n_ua; i++)
        if (res->ua[i].itn == itn)
            return 0;
    if (res->n_ua == res->ua_cap) {
        size_t cap = res->ua_cap ? res->ua_cap * 2 : 8;
        struct pr_ua *ua = realloc(res->ua, cap * sizeof(*ua));
        if (!ua)
            return -ENOMEM;
        res->ua = ua;
        res->ua_cap = cap;
    }
    res->ua[res->n_ua].itn = itn;
    res->ua[res->n_ua].kind = kind;
    res->n_ua++;
    return 0;
}

int pr__abort_add(struct pr_result *res, uint32_t itn)
{
    for (size_t i = 0; i < res->n_abort; i++)
        if (res->abort[i] == itn)
            return 0;
    if (res->n_abort == res->abort_cap) {
        size_t cap = res->abort_cap ? res->abort_cap * 2 : 8;
        uint32_t *a = realloc(res->abort, cap * sizeof(*a));
        if (!a)
            return -ENOMEM;
        res->abort = a;
        res->abort_cap = cap;
    }
    res->abort[res->n_abort++] = itn;
    return 0;
}

/* ---- registrations ---------------------------------------------------------------------------------------------- */

int pr__regs_reserve(struct pr_state *st, uint32_t itn)
{
    if (itn == PR_ITN_NONE)
        return -EINVAL;
    if (itn < st->regs_cap)
        return 0;
    uint32_t cap = st->regs_cap ? st->regs_cap : 16;
    while (cap <= itn)
        cap = cap > UINT32_MAX / 2 ? itn + 1 : cap * 2;
    struct pr_reg *r = realloc(st->regs, (size_t)cap * sizeof(*r));
    if (!r)
        return -ENOMEM;
    memset(r + st->regs_cap, 0, (size_t)(cap - st->regs_cap) * sizeof(*r));
    st->regs = r;
    st->regs_cap = cap;
    return 0;
}

void pr__register(struct pr_state *st, uint32_t itn, uint64_t key, bool all_tg_pt)
{
    struct pr_reg *r = &st->regs[itn];
    if (!(r->flags & PR_REG_REGISTERED))
        st->n_regs++;
    r->key = key;
    r->flags = (uint8_t)(PR_REG_REGISTERED | (all_tg_pt ? PR_REG_ALL_TG_PT : 0));
}

void pr__unregister(struct pr_state *st, uint32_t itn)
{
    if (!pr__is_registered(st, itn))
        return;
    st->regs[itn].flags = 0;
    st->regs[itn].key = 0;
    st->n_regs--;
    /* SPC-4 5.13.11.2.3: unregistering the holder of a non-All-Registrants reservation releases it; an All
     * Registrants reservation lasts until the last registrant is gone (SPC-4 5.13.10). */
    if (st->reserved && ((!pr__type_is_ar(st->type) && st->holder == itn) ||
                         (pr__type_is_ar(st->type) && st->n_regs == 0))) {
        st->reserved = false;
        st->type = 0;
        st->scope = 0;
        st->holder = PR_ITN_NONE;
    }
}

/* ---- device registrations (name-only TransportIDs) ---------------------------------------------------------- */

int pr__devreg_add(struct pr_state *st, const char *iname, uint64_t key, uint16_t rtpi)
{
    for (uint32_t i = 0; i < st->n_devregs; i++) {
        if (st->devregs[i].rtpi == rtpi && strcmp(st->devregs[i].iname, iname) == 0) {
            st->devregs[i].key = key;
            return 0;
        }
    }
    if (st->n_devregs == st->devregs_cap) {
        uint32_t cap = st->devregs_cap ? st->devregs_cap * 2 : 4;
        struct pr_devreg *v = realloc(st->devregs, (size_t)cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        st->devregs = v;
        st->devregs_cap = cap;
    }
    struct pr_devreg *d = &st->devregs[st->n_devregs++];
    memset(d, 0, sizeof(*d));
    snprintf(d->iname, sizeof(d->iname), "%s", iname);
    d->key = key;
    d->rtpi = rtpi;
    return 0;
}

uint32_t pr__devreg_drop_key(struct pr_state *st, uint64_t key, bool any_key)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < st->n_devregs;) {
        if (any_key || st->devregs[i].key == key) {
            st->devregs[i] = st->devregs[--st->n_devregs];
            n++;
        } else {
            i++;
        }
    }
    return n;
}

void pr__devreg_drop_name_key(struct pr_state *st, const char *iname, uint64_t key)
{
    for (uint32_t i = 0; i < st->n_devregs;) {
        if (st->devregs[i].key == key && strcmp(st->devregs[i].iname, iname) == 0)
            st->devregs[i] = st->devregs[--st->n_devregs];
        else
            i++;
    }
}

void pr__state_itn_added(struct pr_state *st, uint32_t itn)
{
    if (st->n_devregs == 0 || st->lost)
        return;
    const struct pr_itn *id = pr_itn_get(st->tab, itn);
    if (!id)
        return;
    for (uint32_t i = 0; i < st->n_devregs; i++) {
        const struct pr_devreg *d = &st->devregs[i];
        if ((d->rtpi != 0 && d->rtpi != id->rtpi) || strcmp(d->iname, id->iname) != 0)
            continue;
        /* SPC-4 5.13.7.1: beyond the device server's registration resources the port stays unregistered; the
         * initiator sees that in READ KEYS and can register it itself. */
        if (pr__is_registered(st, itn) || st->n_regs >= st->max_regs || pr__regs_reserve(st, itn) != 0)
            return;
        pr__register(st, itn, d->key, d->rtpi == 0);
        /* SPC-4 5.13.4: with APTPL in effect the new registration reaches the state file too. A failed write
         * leaves the previous file, which still holds the device registration that recreates this one. */
        if (st->aptpl && st->path && !st->in_pr_out)
            (void)pr__persist_write(st);
        return;
    }
}

bool pr_state_registered(const struct pr_state *st, uint32_t itn, uint64_t *key)
{
    if (!pr__is_registered(st, itn))
        return false;
    if (key)
        *key = st->regs[itn].key;
    return true;
}

/* ---- the access check -------------------------------------------------------------------------------------------- */

enum pr_status pr_check_access(const struct pr_state *st, uint32_t itn, enum pr_access cls)
{
    if (cls == PR_ACCESS_ALLOWED)
        return PR_OK;
    /* SPC-5 5.13.5.3: while the reservation is lost, only commands that do not touch the medium or the PR state
     * proceed, so that the application client can read the state and issue REPLACE LOST RESERVATION. */
    if (st->lost && cls != PR_ACCESS_ALLOWED_PR && cls != PR_ACCESS_PR_OUT)
        return PR_RESERVATION_LOST;
    /* SPC-2 5.5.1: an SPC-2 logical unit reservation conflicts every command from other I_T nexuses except
     * INQUIRY, REPORT LUNS, REQUEST SENSE and RELEASE (a no-op for them); PERSISTENT RESERVE IN/OUT conflict too
     * (SPC-2 7.11, 7.12). RESERVE and RELEASE decide for themselves in pr_spc2_*. */
    if (st->spc2_holder != PR_ITN_NONE && st->spc2_holder != itn)
        return cls == PR_ACCESS_SPC2 ? PR_OK : PR_CONFLICT;
    if (!st->reserved)
        return PR_OK;
    switch (cls) {
    case PR_ACCESS_ALLOWED:
    case PR_ACCESS_ALLOWED_PR:
    case PR_ACCESS_PR_OUT: /* SPC-4 5.13.1 Table 63: PR OUT is decided by its service action. */
    case PR_ACCESS_SPC2:   /* SPC-4 5.13.3: decided by pr_spc2_reserve/release. */
        return PR_OK;
    default:
        break;
    }
    if (pr__is_holder(st, itn))
        return PR_OK;
    bool registered = pr__is_registered(st, itn);
    /* SPC-4 5.13.1 Table 63 / SBC-3 Table 13: under Registrants Only and All Registrants types a registered
     * I_T nexus has the access of the holder. */
    if (registered && pr__type_is_ro_or_ar(st->type))
        return PR_OK;
    bool exclusive_access = st->type == PR_TYPE_EA || st->type == PR_TYPE_EA_RO || st->type == PR_TYPE_EA_AR;
    switch (cls) {
    case PR_ACCESS_TUR:
        /* SPC-4 5.13.1 Table 63: TEST UNIT READY is allowed under every type; SPC-3 5.6.1 Table 31 conflicted
         * it under Exclusive Access types, which the spc3 profiles reproduce. */
        return st->caps.spc3_tur && exclusive_access ? PR_CONFLICT : PR_OK;
    case PR_ACCESS_READ:
        /* SPC-4 5.13.1 Table 63, SBC-3 Table 13: reads pass Write Exclusive types, conflict Exclusive Access. */
        return exclusive_access ? PR_CONFLICT : PR_OK;
    case PR_ACCESS_WRITE:
    default:
        /* SPC-4 5.13.1 Table 63, SBC-3 Table 13: writes conflict for every non-holder of every type. */
        return PR_CONFLICT;
    }
}

/* ---- SPC-2 reservations --------------------------------------------------------------------------------------------- */

/* SPC-4 5.13.3: with registrations present, RESERVE and RELEASE complete with GOOD and change nothing when they
 * come from a persistent reservation holder, or from a registered I_T nexus under a Registrants Only or All
 * Registrants reservation; in every other case SPC-2 applies, which conflicts them while registrations exist
 * (SPC-2 5.5.1). */
static bool pr_spc2_crh_exempt(const struct pr_state *st, uint32_t itn)
{
    if (!st->reserved)
        return false;
    if (pr__is_holder(st, itn))
        return true;
    return pr__is_registered(st, itn) && pr__type_is_ro_or_ar(st->type);
}

enum pr_status pr_spc2_reserve(struct pr_state *st, uint32_t itn)
{
    if (itn == PR_ITN_NONE)
        return PR_CONFLICT;
    if (st->n_regs > 0 || st->reserved)
        return pr_spc2_crh_exempt(st, itn) ? PR_OK : PR_CONFLICT;
    /* SPC-2 7.21: a reservation held by another initiator conflicts; the holder may reserve again. */
    if (st->spc2_holder != PR_ITN_NONE && st->spc2_holder != itn)
        return PR_CONFLICT;
    st->spc2_holder = itn;
    return PR_OK;
}

enum pr_status pr_spc2_release(struct pr_state *st, uint32_t itn)
{
    if (st->n_regs > 0 || st->reserved)
        return pr_spc2_crh_exempt(st, itn) ? PR_OK : PR_CONFLICT;
    /* SPC-2 7.17: a RELEASE from an I_T nexus that does not hold the reservation is GOOD and changes nothing. */
    if (st->spc2_holder == itn)
        st->spc2_holder = PR_ITN_NONE;
    return PR_OK;
}

uint32_t pr_spc2_holder(const struct pr_state *st) { return st->spc2_holder; }

void pr_state_nexus_lost(struct pr_state *st, uint32_t itn)
{
    if (st->spc2_holder == itn)
        st->spc2_holder = PR_ITN_NONE;
}

void pr_state_lu_reset(struct pr_state *st) { st->spc2_holder = PR_ITN_NONE; }

/* ---- profiles, limits, faults ----------------------------------------------------------------------------------------- */

const struct pr_caps *pr__profile_lookup(const char *name)
{
    for (size_t i = 0; name && i < sizeof(pr_profiles) / sizeof(pr_profiles[0]); i++)
        if (strcmp(name, pr_profiles[i].name) == 0)
            return &pr_profiles[i].caps;
    return NULL;
}

int pr_state_set_profile(struct pr_state *st, const char *name)
{
    const struct pr_caps *c = pr__profile_lookup(name);
    if (!c)
        return -EINVAL;
    st->caps = *c;
    snprintf(st->profile, sizeof(st->profile), "%s", name);
    return 0;
}

const struct pr_caps *pr_state_caps(const struct pr_state *st) { return &st->caps; }

const char *pr_state_profile(const struct pr_state *st) { return st->profile; }

void pr_state_set_max_registrations(struct pr_state *st, uint32_t max) { st->max_regs = max; }

static void pr_state_drop_all(struct pr_state *st)
{
    st->n_devregs = 0;
    if (st->regs)
        memset(st->regs, 0, (size_t)st->regs_cap * sizeof(*st->regs));
    st->n_regs = 0;
    st->reserved = false;
    st->type = 0;
    st->scope = 0;
    st->holder = PR_ITN_NONE;
}

void pr_state_set_lost(struct pr_state *st)
{
    pr_state_drop_all(st);
    st->lost = true;
}

bool pr_state_lost(const struct pr_state *st) { return st->lost; }

void pr_state_reset(struct pr_state *st)
{
    pr_state_drop_all(st);
    st->spc2_holder = PR_ITN_NONE;
    st->generation = 0;
    st->aptpl = false;
    st->lost = false;
}

void pr_state_power_on(struct pr_state *st)
{
    if (!st->aptpl) {
        pr_state_reset(st);
        return;
    }
    st->spc2_holder = PR_ITN_NONE;
    st->generation = 0;
}

int pr_state_set_lu_id(struct pr_state *st, const char *lu_id)
{
    char *dup = lu_id ? strdup(lu_id) : NULL;
    if (lu_id && !dup)
        return -ENOMEM;
    free(st->lu_id);
    st->lu_id = dup;
    return 0;
}

/* ---- inspection --------------------------------------------------------------------------------------------------------- */

bool pr_state_reg_next(const struct pr_state *st, uint32_t *cursor, struct pr_reg_info *out)
{
    for (uint32_t i = *cursor; i < st->regs_cap; i++) {
        if (!(st->regs[i].flags & PR_REG_REGISTERED))
            continue;
        out->itn = i;
        out->key = st->regs[i].key;
        out->all_tg_pt = (st->regs[i].flags & PR_REG_ALL_TG_PT) != 0;
        out->holder = pr__is_holder(st, i);
        *cursor = i + 1;
        return true;
    }
    *cursor = st->regs_cap;
    return false;
}

uint32_t pr_state_reg_count(const struct pr_state *st) { return st->n_regs; }

void pr_state_reservation(const struct pr_state *st, struct pr_resv_info *out)
{
    memset(out, 0, sizeof(*out));
    out->holder = PR_ITN_NONE;
    if (!st->reserved)
        return;
    out->reserved = true;
    out->type = st->type;
    out->scope = st->scope;
    /* SPC-4 6.15.3: an All Registrants reservation reports reservation key 0; otherwise the holder's key. */
    if (!pr__type_is_ar(st->type)) {
        out->holder = st->holder;
        out->key = pr__is_registered(st, st->holder) ? st->regs[st->holder].key : 0;
    }
}

uint32_t pr_state_generation(const struct pr_state *st) { return st->generation; }

bool pr_state_aptpl(const struct pr_state *st) { return st->aptpl; }

/* ---- snapshots ------------------------------------------------------------------------------------------------------------ */

int pr__snapshot_take(const struct pr_state *st, struct pr_snapshot *snap)
{
    memset(snap, 0, sizeof(*snap));
    if (st->n_devregs) {
        snap->devregs = malloc((size_t)st->n_devregs * sizeof(*snap->devregs));
        if (!snap->devregs)
            return -ENOMEM;
        memcpy(snap->devregs, st->devregs, (size_t)st->n_devregs * sizeof(*snap->devregs));
        snap->n_devregs = st->n_devregs;
    }
    if (st->regs_cap) {
        snap->regs = malloc((size_t)st->regs_cap * sizeof(*snap->regs));
        if (!snap->regs) {
            pr__snapshot_drop(snap);
            return -ENOMEM;
        }
        memcpy(snap->regs, st->regs, (size_t)st->regs_cap * sizeof(*snap->regs));
    }
    snap->n_itn = pr_itn_count(st->tab);
    snap->regs_cap = st->regs_cap;
    snap->n_regs = st->n_regs;
    snap->generation = st->generation;
    snap->holder = st->holder;
    snap->reserved = st->reserved;
    snap->aptpl = st->aptpl;
    snap->lost = st->lost;
    snap->type = st->type;
    snap->scope = st->scope;
    return 0;
}

void pr__snapshot_restore(struct pr_state *st, struct pr_snapshot *snap)
{
    /* regs[] only grows, so the saved prefix fits; entries beyond it were unregistered when the copy was taken. */
    if (st->regs)
        memset(st->regs, 0, (size_t)st->regs_cap * sizeof(*st->regs));
    if (snap->regs_cap)
        memcpy(st->regs, snap->regs, (size_t)snap->regs_cap * sizeof(*st->regs));
    /* devregs[] never shrinks its allocation, so the saved entries fit. */
    if (snap->n_devregs)
        memcpy(st->devregs, snap->devregs, (size_t)snap->n_devregs * sizeof(*st->devregs));
    st->n_devregs = snap->n_devregs;
    st->n_regs = snap->n_regs;
    st->generation = snap->generation;
    st->holder = snap->holder;
    st->reserved = snap->reserved;
    st->aptpl = snap->aptpl;
    st->lost = snap->lost;
    st->type = snap->type;
    st->scope = snap->scope;
    /* Nexuses interned while the undone command ran (SPEC_I_PT, ALL_TG_PT, REGISTER AND MOVE) stay in the table;
     * a device registration that covered them at their first sight must cover them again. */
    uint32_t n_itn = pr_itn_count(st->tab);
    for (uint32_t id = snap->n_itn; id < n_itn; id++)
        pr__state_itn_added(st, id);
    pr__snapshot_drop(snap);
}

void pr__snapshot_drop(struct pr_snapshot *snap)
{
    free(snap->regs);
    snap->regs = NULL;
    free(snap->devregs);
    snap->devregs = NULL;
}
