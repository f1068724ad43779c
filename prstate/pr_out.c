/* PERSISTENT RESERVE OUT: every service action of SPC-4 6.16 and REPLACE LOST RESERVATION of SPC-5.
 *
 * Each service action validates everything before it changes anything; the whole call runs against a snapshot so
 * a late failure (out of memory, a state file that cannot be written) leaves the state exactly as it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/prt_be.h"
#include "prstate/pr_internal.h"

/* Byte offsets in the basic PR OUT parameter list (SPC-4 6.16.3) and in the REGISTER AND MOVE one (6.16.4). */
#define PR_P_KEY 0
#define PR_P_SA_KEY 8
#define PR_P_FLAGS 20      /* SPEC_I_PT bit 3, ALL_TG_PT bit 2, APTPL bit 0 */
#define PR_P_RM_FLAGS 17   /* REGISTER AND MOVE: UNREG bit 1, APTPL bit 0 */
#define PR_P_RM_RTPI 18

static enum pr_status pr_field(struct pr_result *res, enum pr_status s, int byte, int bit)
{
    res->field_byte = byte;
    res->field_bit = bit;
    return s;
}

static bool pr_type_supported(const struct pr_state *st, uint8_t type)
{
    return type < 16 && (st->caps.type_mask & (1u << type)) != 0;
}

/* SPC-4 6.16.2: LU_SCOPE is the only scope; a type the device server does not support is an invalid field. */
static enum pr_status pr_check_scope_type(const struct pr_state *st, const struct pr_out_req *req,
                                          struct pr_result *res)
{
    if (req->scope != PR_SCOPE_LU)
        return pr_field(res, PR_INVALID_FIELD_CDB, 2, 7);
    if (!pr_type_supported(st, req->type))
        return pr_field(res, PR_INVALID_FIELD_CDB, 2, 3);
    return PR_OK;
}

/* PTPL_C (SPC-4 6.15.4): persistence needs both the profile and a state file to write. */
static bool pr_ptpl_capable(const struct pr_state *st) { return st->caps.ptpl && st->path != NULL; }

/* SPC-4 5.13.7.2: the RESERVATION KEY must match the key the I_T nexus registered (0 when unregistered). */
static bool pr_key_matches(const struct pr_state *st, uint32_t itn, uint64_t key)
{
    if (!pr__is_registered(st, itn))
        return false;
    return st->regs[itn].key == key;
}

static void pr_reserve_set(struct pr_state *st, uint32_t holder, uint8_t type, uint8_t scope)
{
    st->reserved = true;
    st->holder = holder;
    st->type = type;
    st->scope = scope;
}

static void pr_reserve_clear(struct pr_state *st)
{
    st->reserved = false;
    st->holder = PR_ITN_NONE;
    st->type = 0;
    st->scope = 0;
}

/* ---- REGISTER, REGISTER AND IGNORE EXISTING KEY ----------------------------------------------------------- */

struct pr_itn_list {
    uint32_t *v;
    size_t n, cap;
};

static int pr_list_add(struct pr_itn_list *l, uint32_t itn)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == itn)
            return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        uint32_t *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = itn;
    return 0;
}

/* Every I_T nexus of initiator port (iname, isid) on target port rtpi, or on every port when all_ports. */
static int pr_add_port_nexuses(struct pr_state *st, struct pr_itn_list *l, const char *iname, const uint8_t isid[6],
                               uint16_t rtpi, bool all_ports)
{
    uint16_t first = all_ports ? 1 : rtpi, last = all_ports ? st->tab->n_ports : rtpi;
    for (uint16_t p = first; p >= 1 && p <= last; p++) {
        uint32_t id = pr_itn_intern(st->tab, iname, isid, p);
        if (id == PR_ITN_NONE || pr_list_add(l, id) != 0)
            return -ENOMEM;
    }
    return 0;
}

/* The iSCSI device names of the format 00b TransportIDs of one SPEC_I_PT list. */
struct pr_name_list {
    const char **v;
    size_t n;
};

/* SPC-4 6.16.3 SPEC_I_PT: resolve the TransportID list into I_T nexuses. A format 01b TransportID names one
 * initiator port; a format 00b one (name only) names the iSCSI initiator device, i.e. every initiator port with
 * that name (SPC-4 7.6.4.6): the nexuses of the ports seen so far are registered now, and the name is kept in
 * names (pointing into req->tid) so that ports which log in later are registered too (struct pr_devreg). */
static enum pr_status pr_resolve_spec_i_pt(struct pr_state *st, const struct pr_out_req *req, uint16_t rtpi,
                                           struct pr_itn_list *l, struct pr_name_list *names, struct pr_result *res)
{
    size_t off = 0;
    while (off < req->tid_len) {
        char iname[PR_INAME_MAX];
        uint8_t isid[6];
        bool has_isid;
        size_t len, bad;
        if (pr__tid_parse(req->tid + off, req->tid_len - off, &len, iname, isid, &has_isid, &bad) != 0)
            return pr_field(res, PR_INVALID_FIELD_PARAM, (int)(req->tid_off + off + bad), -1);
        size_t before = l->n;
        if (has_isid) {
            if (pr_add_port_nexuses(st, l, iname, isid, rtpi, req->all_tg_pt) != 0)
                return PR_NO_RESOURCES;
        } else {
            uint32_t n = pr_itn_count(st->tab);
            for (uint32_t id = 0; id < n; id++) {
                const struct pr_itn *e = pr_itn_get(st->tab, id);
                if (strcmp(e->iname, iname) == 0 && (req->all_tg_pt || e->rtpi == rtpi) &&
                    pr_list_add(l, id) != 0)
                    return PR_NO_RESOURCES;
            }
            /* The name is NUL-terminated inside the TransportID (checked by pr__tid_parse). */
            names->v[names->n++] = (const char *)req->tid + off + 4;
        }
        /* SPC-4 6.16.3: a TransportID naming an I_T nexus that is already registered is an invalid field. */
        for (size_t i = before; i < l->n; i++)
            if (pr__is_registered(st, l->v[i]))
                return pr_field(res, PR_INVALID_FIELD_PARAM, (int)(req->tid_off + off), -1);
        off += len;
    }
    return PR_OK;
}

static enum pr_status pr_out_register(struct pr_state *st, uint32_t itn, const struct pr_out_req *req,
                                      struct pr_result *res, bool ignore_key)
{
    bool registered = pr__is_registered(st, itn);
    /* SPC-4 6.16.3: SPEC_I_PT is valid only for REGISTER from an unregistered I_T nexus. */
    if (req->spec_i_pt && (ignore_key || registered))
        return pr_field(res, PR_INVALID_FIELD_PARAM, PR_P_FLAGS, 3);
    /* SPC-4 5.13.7.2 Table (register behaviors): an unregistered nexus must send key 0, a registered one its
     * own key; REGISTER AND IGNORE EXISTING KEY skips the check (5.13.7.3). */
    if (!ignore_key && (registered ? st->regs[itn].key != req->key : req->key != 0))
        return PR_CONFLICT;
    /* SPC-4 6.16.3: APTPL=1 on a device that cannot persist is an invalid field. */
    if (req->aptpl && req->sa_key != 0 && !pr_ptpl_capable(st))
        return pr_field(res, PR_INVALID_FIELD_PARAM, PR_P_FLAGS, 0);

    if (registered) {
        if (req->sa_key != 0) {
            /* SPC-4 5.13.7.2: a registered nexus replaces its key; PRgeneration counts it (6.15.2). */
            st->regs[itn].key = req->sa_key;
            st->aptpl = req->aptpl;
            st->generation++;
            return PR_OK;
        }
        /* SPC-4 5.13.11.2.3: unregistering the holder of a Registrants Only reservation releases it and every
         * other registrant gets RESERVATIONS RELEASED; for Write/Exclusive Access types the release is silent. */
        bool releases_ro = st->reserved && st->holder == itn &&
                           (st->type == PR_TYPE_WE_RO || st->type == PR_TYPE_EA_RO);
        if (releases_ro) {
            for (uint32_t i = 0; i < st->regs_cap; i++)
                if (i != itn && pr__is_registered(st, i) && pr__ua_add(res, i, PR_UA_RESERVATIONS_RELEASED) != 0)
                    return PR_NO_RESOURCES;
        }
        /* Unregistering a port of a device registered by name ends that device registration for ports that
         * have not logged in yet; the other ports already registered keep their registrations. */
        const struct pr_itn *me = pr_itn_get(st->tab, itn);
        pr__devreg_drop_name_key(st, me->iname, st->regs[itn].key);
        pr__unregister(st, itn);
        st->generation++;
        return PR_OK;
    }

    /* SPC-4 5.13.7.2: an unregistered nexus registering key 0 is a no-op with GOOD status. */
    if (req->sa_key == 0)
        return PR_OK;

    const struct pr_itn *me = pr_itn_get(st->tab, itn);
    char iname[PR_INAME_MAX];
    uint8_t isid[6];
    memcpy(iname, me->iname, sizeof(iname));
    memcpy(isid, me->isid, sizeof(isid));
    uint16_t rtpi = me->rtpi;

    struct pr_itn_list l = { 0 };
    enum pr_status s = PR_OK;
    struct pr_name_list names = { 0 }; /* before the first goto: the exit path frees it */
    if (pr_list_add(&l, itn) != 0) {
        s = PR_NO_RESOURCES;
        goto out;
    }
    /* SPC-4 6.16.3 ALL_TG_PT: register the initiator port on every target port of the device. */
    if (req->all_tg_pt && pr_add_port_nexuses(st, &l, iname, isid, rtpi, true) != 0) {
        s = PR_NO_RESOURCES;
        goto out;
    }
    /* A TransportID is at least 24 bytes, which bounds how many device names the list can hold. */
    if (req->spec_i_pt) {
        names.v = calloc(req->tid_len / 24 + 1, sizeof(*names.v));
        if (!names.v) {
            s = PR_NO_RESOURCES;
            goto out;
        }
        if ((s = pr_resolve_spec_i_pt(st, req, rtpi, &l, &names, res)) != PR_OK)
            goto out;
    }
    uint32_t fresh = 0, max_id = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (!pr__is_registered(st, l.v[i]))
            fresh++;
        if (l.v[i] > max_id)
            max_id = l.v[i];
    }
    /* SPC-4 5.13.7.1: registrations beyond what the device server can hold fail as a whole with
     * INSUFFICIENT REGISTRATION RESOURCES. */
    if (st->n_regs + fresh > st->max_regs) {
        s = PR_INSUFFICIENT_RESOURCES;
        goto out;
    }
    if (pr__regs_reserve(st, max_id) != 0) {
        s = PR_NO_RESOURCES;
        goto out;
    }
    for (size_t i = 0; i < l.n; i++)
        pr__register(st, l.v[i], req->sa_key, req->all_tg_pt);
    /* Initiator ports of a device named by a format 00b TransportID that log in later are registered then. */
    for (size_t i = 0; i < names.n; i++) {
        if (pr__devreg_add(st, names.v[i], req->sa_key, req->all_tg_pt ? 0 : rtpi) != 0) {
            s = PR_NO_RESOURCES;
            goto out;
        }
    }
    /* SPC-4 5.13.4: the APTPL bit of the last successful REGISTER decides persistence for the whole LU. */
    st->aptpl = req->aptpl;
    st->generation++;
out:
    free(names.v);
    free(l.v);
    return s;
}

/* ---- RESERVE, RELEASE, CLEAR --------------------------------------------------------------------------------------- */

static enum pr_status pr_out_reserve(struct pr_state *st, uint32_t itn, const struct pr_out_req *req,
                                     struct pr_result *res)
{
    enum pr_status s = pr_check_scope_type(st, req, res);
    if (s != PR_OK)
        return s;
    /* SPC-4 5.13.9: only a registered nexus with its own key may reserve. */
    if (!pr_key_matches(st, itn, req->key))
        return PR_CONFLICT;
    if (st->reserved) {
        /* SPC-4 5.13.9: another nexus's reservation, or a different type or scope, conflicts; the holder
         * repeating its reservation is GOOD and changes nothing. */
        if (!pr__is_holder(st, itn) || st->type != req->type || st->scope != req->scope)
            return PR_CONFLICT;
        return PR_OK;
    }
    /* SPC-4 6.15.2: RESERVE does not change PRgeneration. */
    pr_reserve_set(st, itn, req->type, req->scope);
    return PR_OK;
}

static enum pr_status pr_out_release(struct pr_state *st, uint32_t itn, const struct pr_out_req *req,
                                     struct pr_result *res)
{
    enum pr_status s = pr_check_scope_type(st, req, res);
    if (s != PR_OK)
        return s;
    if (!pr_key_matches(st, itn, req->key))
        return PR_CONFLICT;
    /* SPC-4 5.13.11.2.2: with no reservation, or from a nexus that does not hold it, RELEASE is GOOD and does
     * nothing. */
    if (!st->reserved || !pr__is_holder(st, itn))
        return PR_OK;
    /* SPC-4 5.13.11.2.2: the holder naming another type or scope gets INVALID RELEASE OF PERSISTENT RESERVATION. */
    if (st->type != req->type || st->scope != req->scope)
        return PR_INVALID_RELEASE;
    /* SPC-4 5.13.11.2.2: releasing a Registrants Only or All Registrants reservation raises RESERVATIONS
     * RELEASED for every other registered nexus; Write Exclusive and Exclusive Access releases are silent. */
    if (pr__type_is_ro_or_ar(st->type)) {
        for (uint32_t i = 0; i < st->regs_cap; i++)
            if (i != itn && pr__is_registered(st, i) && pr__ua_add(res, i, PR_UA_RESERVATIONS_RELEASED) != 0)
                return PR_NO_RESOURCES;
    }
    pr_reserve_clear(st);
    return PR_OK;
}

static enum pr_status pr_out_clear(struct pr_state *st, uint32_t itn, const struct pr_out_req *req,
                                   struct pr_result *res)
{
    if (!pr_key_matches(st, itn, req->key))
        return PR_CONFLICT;
    /* SPC-4 5.13.11.2.7: CLEAR ignores SCOPE and TYPE; every other registered nexus gets RESERVATIONS PREEMPTED. */
    for (uint32_t i = 0; i < st->regs_cap; i++)
        if (i != itn && pr__is_registered(st, i) && pr__ua_add(res, i, PR_UA_RESERVATIONS_PREEMPTED) != 0)
            return PR_NO_RESOURCES;
    memset(st->regs, 0, (size_t)st->regs_cap * sizeof(*st->regs));
    st->n_regs = 0;
    st->n_devregs = 0;
    pr_reserve_clear(st);
    st->generation++;
    return PR_OK;
}

/* ---- PREEMPT, PREEMPT AND ABORT ---------------------------------------------------------------------------------------- */

/* SPC-4 5.13.11.2.6: PREEMPT AND ABORT aborts the commands of every I_T nexus registered with the SERVICE ACTION
 * RESERVATION KEY (all registered nexuses for key 0 under All Registrants), holder or not, the issuer included;
 * the PR OUT command itself is spared by the caller. Collected before any registration is removed. */
static int pr_collect_aborts(const struct pr_state *st, uint64_t key, bool any_key, struct pr_result *res)
{
    for (uint32_t i = 0; i < st->regs_cap; i++)
        if (pr__is_registered(st, i) && (any_key || st->regs[i].key == key) && pr__abort_add(res, i) != 0)
            return -ENOMEM;
    return 0;
}

/* Remove every registration with key (except `keep`), with REGISTRATIONS PREEMPTED for each removed nexus other
 * than the issuer. Returns how many were removed, -1 on ENOMEM. */
static long pr_remove_key(struct pr_state *st, uint32_t itn, uint64_t key, bool any_key, uint32_t keep,
                          struct pr_result *res)
{
    /* A registration made by device name goes with the key too, so that no later login revives it; it counts
     * as a removed registration. */
    long n = (long)pr__devreg_drop_key(st, key, any_key);
    for (uint32_t i = 0; i < st->regs_cap; i++) {
        if (i == keep || !pr__is_registered(st, i) || (!any_key && st->regs[i].key != key))
            continue;
        /* SPC-4 5.13.11.2.4.3 e), 5.13.11.2.5 d): each nexus that lost its registration, except the issuer,
         * gets REGISTRATIONS PREEMPTED. */
        if (i != itn && pr__ua_add(res, i, PR_UA_REGISTRATIONS_PREEMPTED) != 0)
            return -1;
        st->regs[i].flags = 0;
        st->regs[i].key = 0;
        st->n_regs--;
        n++;
    }
    return n;
}

static enum pr_status pr_out_preempt(struct pr_state *st, uint32_t itn, const struct pr_out_req *req,
                                     struct pr_result *res, bool abort)
{
    if (!pr_key_matches(st, itn, req->key))
        return PR_CONFLICT;
    bool ar = st->reserved && pr__type_is_ar(st->type);
    uint64_t holder_key = st->reserved && !ar && pr__is_registered(st, st->holder) ? st->regs[st->holder].key : 0;
    /* SPC-4 5.13.11.2.4.1 Table 72: which of the two actions the key selects. */
    bool preempts_reservation = st->reserved && (ar ? req->sa_key == 0 : req->sa_key == holder_key);

    if (!preempts_reservation) {
        /* SPC-4 5.13.11.2.4.1 Table 72: key 0 names nobody unless an All Registrants reservation is present. */
        if (req->sa_key == 0)
            return pr_field(res, PR_INVALID_FIELD_PARAM, PR_P_SA_KEY, -1);
        /* SPC-4 5.13.11.2.5: removing registrations ignores SCOPE and TYPE and leaves the reservation alone. */
        if (abort && pr_collect_aborts(st, req->sa_key, false, res) != 0)
            return PR_NO_RESOURCES;
        long n = pr_remove_key(st, itn, req->sa_key, false, PR_ITN_NONE, res);
        if (n < 0)
            return PR_NO_RESOURCES;
        /* SPC-4 5.13.11.2.5: a key that matches no registration is a RESERVATION CONFLICT. */
        if (n == 0)
            return PR_CONFLICT;
        /* SPC-4 5.13.11.2.1 Table 71: a reservation ends when its holder (All Registrants: its last
         * registrant) is unregistered, which the issuer may do to itself with its own key. */
        if (st->reserved && (ar ? st->n_regs == 0 : !pr__is_registered(st, st->holder)))
            pr_reserve_clear(st);
        st->generation++;
        return PR_OK;
    }

    /* SPC-4 5.13.11.2.4.3: a new reservation is created, so its SCOPE and TYPE must be valid. */
    enum pr_status s = pr_check_scope_type(st, req, res);
    if (s != PR_OK)
        return s;
    bool changed = st->type != req->type || st->scope != req->scope;
    if (abort && pr_collect_aborts(st, req->sa_key, ar, res) != 0)
        return PR_NO_RESOURCES;
    /* SPC-4 5.13.11.2.4.3 a)-c): release the holder's reservation, remove every registration with the key (all
     * registrations for key 0 under All Registrants) except the issuer's, and reserve for the issuer. Preempting
     * itself keeps the issuer's registration. */
    if (pr_remove_key(st, itn, req->sa_key, ar, itn, res) < 0)
        return PR_NO_RESOURCES;
    pr_reserve_set(st, itn, req->type, req->scope);
    /* SPC-4 5.13.11.2.4.3 f): if the type or scope changed, every other nexus that kept its registration gets
     * RESERVATIONS RELEASED. */
    if (changed) {
        for (uint32_t i = 0; i < st->regs_cap; i++)
            if (i != itn && pr__is_registered(st, i) && pr__ua_add(res, i, PR_UA_RESERVATIONS_RELEASED) != 0)
                return PR_NO_RESOURCES;
    }
    st->generation++;
    return PR_OK;
}

/* ---- REGISTER AND MOVE -------------------------------------------------------------------------------------------------- */

static enum pr_status pr_out_register_and_move(struct pr_state *st, uint32_t itn, const struct pr_out_req *req,
                                               struct pr_result *res)
{
    /* SPC-4 5.13.8 Table 70: an unregistered nexus, or a wrong key, is a RESERVATION CONFLICT. */
    if (!pr_key_matches(st, itn, req->key))
        return PR_CONFLICT;
    /* SPC-4 5.13.8: with no persistent reservation there is nothing to move: INVALID FIELD IN CDB. */
    if (!st->reserved)
        return pr_field(res, PR_INVALID_FIELD_CDB, -1, -1);
    /* SPC-4 5.13.8: an All Registrants reservation cannot be moved, and only its holder may move another. */
    if (pr__type_is_ar(st->type) || st->holder != itn)
        return PR_CONFLICT;
    /* SPC-4 6.16.4: the destination needs a nonzero key. */
    if (req->sa_key == 0)
        return pr_field(res, PR_INVALID_FIELD_PARAM, PR_P_SA_KEY, -1);
    if (req->aptpl && !pr_ptpl_capable(st))
        return pr_field(res, PR_INVALID_FIELD_PARAM, PR_P_RM_FLAGS, 0);
    if (req->rtpi == 0 || req->rtpi > st->tab->n_ports)
        return pr_field(res, PR_INVALID_FIELD_PARAM, PR_P_RM_RTPI, -1);
    char iname[PR_INAME_MAX];
    uint8_t isid[6];
    bool has_isid;
    size_t len, bad;
    if (!req->tid || pr__tid_parse(req->tid, req->tid_len, &len, iname, isid, &has_isid, &bad) != 0)
        return pr_field(res, PR_INVALID_FIELD_PARAM, (int)(req->tid_off + (req->tid ? bad : 0)), -1);
    uint32_t dest = PR_ITN_NONE;
    if (has_isid) {
        dest = pr_itn_intern(st->tab, iname, isid, req->rtpi);
        if (dest == PR_ITN_NONE)
            return PR_NO_RESOURCES;
    } else {
        /* A name-only TransportID must name exactly one initiator port on the destination target port. */
        uint32_t n = pr_itn_count(st->tab), found = 0;
        for (uint32_t id = 0; id < n; id++) {
            const struct pr_itn *e = pr_itn_get(st->tab, id);
            if (e->rtpi == req->rtpi && strcmp(e->iname, iname) == 0) {
                dest = id;
                found++;
            }
        }
        if (found != 1)
            return pr_field(res, PR_INVALID_FIELD_PARAM, (int)req->tid_off, -1);
    }
    /* SPC-4 5.13.8: a TransportID naming the sender's own initiator port is an invalid field, whatever the
     * RELATIVE TARGET PORT IDENTIFIER says. */
    const struct pr_itn *d = pr_itn_get(st->tab, dest), *me = pr_itn_get(st->tab, itn);
    if (strcmp(d->iname, me->iname) == 0 && memcmp(d->isid, me->isid, sizeof(d->isid)) == 0)
        return pr_field(res, PR_INVALID_FIELD_PARAM, (int)req->tid_off, -1);
    if (!pr__is_registered(st, dest) && st->n_regs + 1 > st->max_regs)
        return PR_INSUFFICIENT_RESOURCES;
    if (pr__regs_reserve(st, dest) != 0)
        return PR_NO_RESOURCES;
    /* SPC-4 5.13.8: register the destination with the SERVICE ACTION RESERVATION KEY, move the reservation
     * (type and scope unchanged), and with UNREG=1 unregister the source. */
    pr__register(st, dest, req->sa_key, false);
    st->holder = dest;
    if (req->unreg)
        pr__unregister(st, itn);
    st->aptpl = req->aptpl;
    st->generation++;
    return PR_OK;
}

/* ---- REPLACE LOST RESERVATION ------------------------------------------------------------------------------------------- */

static enum pr_status pr_out_replace_lost(struct pr_state *st, uint32_t itn, const struct pr_out_req *req,
                                          struct pr_result *res)
{
    /* SPC-5 5.13.11.3: without a detected loss there is nothing to replace: INVALID RELEASE OF PERSISTENT
     * RESERVATION. */
    if (!st->lost)
        return PR_INVALID_RELEASE;
    enum pr_status s = pr_check_scope_type(st, req, res);
    if (s != PR_OK)
        return s;
    /* SPC-5 5.13.11.3: RESERVATION KEY is zero (nobody is registered any more); the new key is the SERVICE
     * ACTION RESERVATION KEY. */
    if (req->key != 0)
        return PR_CONFLICT;
    if (req->sa_key == 0)
        return pr_field(res, PR_INVALID_FIELD_PARAM, PR_P_SA_KEY, -1);
    /* SPC-5 6.17.3: APTPL is valid for REPLACE LOST RESERVATION. */
    if (req->aptpl && !pr_ptpl_capable(st))
        return pr_field(res, PR_INVALID_FIELD_PARAM, PR_P_FLAGS, 0);
    if (pr__regs_reserve(st, itn) != 0)
        return PR_NO_RESOURCES;
    st->aptpl = req->aptpl;
    /* SPC-5 5.13.11.3 a)-f): drop every registration without unit attentions, register the issuer with the new
     * key, replace the reservation, restart PRgeneration at zero, and stop failing commands. */
    memset(st->regs, 0, (size_t)st->regs_cap * sizeof(*st->regs));
    st->n_regs = 0;
    st->n_devregs = 0;
    pr__register(st, itn, req->sa_key, false);
    pr_reserve_set(st, itn, req->type, req->scope);
    st->generation = 0;
    st->lost = false;
    return PR_OK;
}

/* ---- entry point ---------------------------------------------------------------------------------------------------------- */

enum pr_status pr_out(struct pr_state *st, uint32_t itn, const struct pr_out_req *req, struct pr_result *res)
{
    pr__result_clear(res);
    res->field_byte = -1;
    res->field_bit = -1;
    if (!pr_itn_get(st->tab, itn))
        return PR_CONFLICT;
    /* SPC-4 6.16.1: a service action the device server does not support is an invalid field in the CDB. */
    if (req->sa > 15 || !(st->caps.out_sa_mask & (1u << req->sa)))
        return pr_field(res, PR_INVALID_FIELD_CDB, 1, 4);
    /* SPC-4 6.16.3 Table 216: SPEC_I_PT is valid only for REGISTER (REGISTER AND MOVE has no such bit). */
    if (req->spec_i_pt && req->sa != PR_OUT_REGISTER && req->sa != PR_OUT_REGISTER_AND_MOVE)
        return pr_field(res, PR_INVALID_FIELD_PARAM, PR_P_FLAGS, 3);
    /* SPC-5 5.13.5.3: while the reservation is lost only REPLACE LOST RESERVATION may change PR state. */
    if (st->lost && req->sa != PR_OUT_REPLACE_LOST)
        return PR_RESERVATION_LOST;

    struct pr_snapshot snap;
    if (pr__snapshot_take(st, &snap) != 0)
        return PR_NO_RESOURCES;
    bool aptpl_before = st->aptpl;
    enum pr_status s;
    st->in_pr_out = true;
    switch (req->sa) {
    case PR_OUT_REGISTER: s = pr_out_register(st, itn, req, res, false); break;
    case PR_OUT_REGISTER_IGNORE: s = pr_out_register(st, itn, req, res, true); break;
    case PR_OUT_RESERVE: s = pr_out_reserve(st, itn, req, res); break;
    case PR_OUT_RELEASE: s = pr_out_release(st, itn, req, res); break;
    case PR_OUT_CLEAR: s = pr_out_clear(st, itn, req, res); break;
    case PR_OUT_PREEMPT: s = pr_out_preempt(st, itn, req, res, false); break;
    case PR_OUT_PREEMPT_AND_ABORT: s = pr_out_preempt(st, itn, req, res, true); break;
    case PR_OUT_REGISTER_AND_MOVE: s = pr_out_register_and_move(st, itn, req, res); break;
    case PR_OUT_REPLACE_LOST: s = pr_out_replace_lost(st, itn, req, res); break;
    default: s = pr_field(res, PR_INVALID_FIELD_CDB, 1, 4); break;
    }
    st->in_pr_out = false;
    /* SPC-4 5.13.4: while APTPL is in effect (or when it is just being turned off) the new state reaches the
     * state file before the command completes, so a power loss after GOOD cannot lose it. */
    if (s == PR_OK && st->path && (aptpl_before || st->aptpl) && pr__persist_write(st) != 0)
        s = PR_PERSIST_FAILED;
    if (s == PR_OK) {
        pr__snapshot_drop(&snap);
    } else {
        pr__snapshot_restore(st, &snap);
        pr__result_clear(res);
    }
    return s;
}
