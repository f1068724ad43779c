/* Asymmetric logical unit access (SPC-4 5.16): target port groups, their access states, REPORT TARGET PORT
 * GROUPS and SET TARGET PORT GROUPS, and the commands each state refuses.
 *
 * Every target port (every --listen portal, relative target port identifier 1..n_ports) is its own target port
 * group, with the group id equal to the relative port id; VPD page 83h reports that id in its target port group
 * designator (spc.c). All LUs share the groups: a state is a property of the path, not of the LU. The states
 * live in struct tgt_server (struct tgt_alua), so the per-command check is one array read.
 *
 * The device server supports both implicit ALUA (the operator changes a state with tgt_alua_set_state(), from
 * the configuration or the control socket) and explicit ALUA (SET TARGET PORT GROUPS), so INQUIRY reports
 * TPGS=11b. A state changes at once: the transitioning state is only entered when the operator sets it.
 */
#include <errno.h>
#include <string.h>

#include "target/tgt_internal.h"

/* SPC-4 6.36 Table 290 STATUS CODE values. */
#define STATUS_NONE 0x00
#define STATUS_SET_TPG 0x01      /* altered by SET TARGET PORT GROUPS */
#define STATUS_IMPLICIT 0x02     /* altered by implicit asymmetric access behaviour */

/* Supported states bits of a target port group descriptor (SPC-4 6.36 Table 288): T_SUP, O_SUP, U_SUP, S_SUP,
 * AN_SUP, AO_SUP. LBA dependent is not supported. */
#define SUPPORTED_STATES 0xcf

/* Seconds an initiator should allow for an implicit transition (SPC-4 6.36 extended header): ours are
 * immediate, but 0 means "unspecified", so report the smallest real value. */
#define IMPLICIT_TRANSITION_SECS 1

uint8_t tgt__alua_tpgs_bits(void)
{
    /* SPC-4 6.6.2 Table 142: TPGS 11b, both implicit and explicit asymmetric access are supported. */
    return 0x30;
}

static bool valid_state(unsigned s)
{
    switch (s) {
    case TGT_ALUA_ACTIVE_OPTIMIZED:
    case TGT_ALUA_ACTIVE_NON_OPTIMIZED:
    case TGT_ALUA_STANDBY:
    case TGT_ALUA_UNAVAILABLE:
    case TGT_ALUA_OFFLINE:
    case TGT_ALUA_TRANSITIONING:
        return true;
    default:
        return false;
    }
}

/* The operator's spelling of each state; the order is the ASYMMETRIC ACCESS STATE code order of SPC-4 6.36
 * Table 289, so listings read the same way as the standard. */
static const struct {
    const char *name;
    enum tgt_alua_state state;
} state_names[] = {
    { "active-optimized", TGT_ALUA_ACTIVE_OPTIMIZED },
    { "active-nonoptimized", TGT_ALUA_ACTIVE_NON_OPTIMIZED },
    { "standby", TGT_ALUA_STANDBY },
    { "unavailable", TGT_ALUA_UNAVAILABLE },
    { "offline", TGT_ALUA_OFFLINE },
    { "transitioning", TGT_ALUA_TRANSITIONING },
};

const char *tgt_alua_state_name(enum tgt_alua_state state)
{
    for (size_t i = 0; i < sizeof state_names / sizeof state_names[0]; i++)
        if (state_names[i].state == state)
            return state_names[i].name;
    return "unknown";
}

int tgt_alua_state_parse(const char *name, enum tgt_alua_state *out)
{
    if (!name)
        return -EINVAL;
    for (size_t i = 0; i < sizeof state_names / sizeof state_names[0]; i++) {
        if (strcmp(state_names[i].name, name) == 0) {
            *out = state_names[i].state;
            return 0;
        }
    }
    return -EINVAL;
}

unsigned tgt_alua_group_count(const struct tgt_server *srv)
{
    return srv ? srv->n_ports : 0;
}

enum tgt_alua_state tgt_alua_get_state(const struct tgt_server *srv, uint16_t tpg)
{
    if (tpg == 0 || tpg > TGT_ALUA_MAX_TPG || tpg > srv->n_ports)
        return TGT_ALUA_ACTIVE_OPTIMIZED;
    return (enum tgt_alua_state)srv->alua.state[tpg - 1];
}

/* SPC-4 5.16.2.2: after a change of the asymmetric access state of a target port group, every I_T nexus of
 * every LU reachable through it gets ASYMMETRIC ACCESS STATE CHANGED (2Ah/06h), except the nexus whose SET
 * TARGET PORT GROUPS made the change. All LUs are reachable through every group, and the state matters to
 * every nexus (a multipath initiator picks its path from it), so all nexuses are told. */
static void announce_change(struct tgt_server *srv, uint32_t except_itn)
{
    for (unsigned i = 0; i < srv->n_lus; i++)
        tgt__ua_raise_all(srv->lus[i], 0x2a, 0x06, except_itn);
}

int tgt_alua_set_state(struct tgt_server *srv, uint16_t tpg, enum tgt_alua_state state)
{
    if (!srv || tpg == 0 || tpg > srv->n_ports)
        return -ENOENT;
    if (tpg > TGT_ALUA_MAX_TPG || !valid_state((unsigned)state))
        return -EINVAL;
    if (srv->alua.state[tpg - 1] == (uint8_t)state)
        return 0;
    srv->alua.state[tpg - 1] = (uint8_t)state;
    srv->alua.status[tpg - 1] = STATUS_IMPLICIT;
    announce_change(srv, PR_ITN_NONE);
    return 0;
}

/* ---- the per-state access rules ------------------------------------------------------------------------ */

static bool is_report_tpg(const uint8_t *cdb)
{
    return cdb[0] == 0xa3 && (cdb[1] & 0x1f) == 0x0a;
}

static bool is_set_tpg(const uint8_t *cdb)
{
    return cdb[0] == 0xa4 && (cdb[1] & 0x1f) == 0x0a;
}

static bool is_rsoc(const uint8_t *cdb)
{
    return cdb[0] == 0xa3 && (cdb[1] & 0x1f) == 0x0c;
}

/* Commands every state accepts: INQUIRY, REPORT LUNS, REQUEST SENSE (the TGT_F_SKIP_UA rows), REPORT TARGET
 * PORT GROUPS, and REPORT SUPPORTED OPERATION CODES, which describes the device rather than the path. */
static bool always_allowed(const struct tgt_cmd_row *row, const uint8_t *cdb)
{
    return (row->flags & TGT_F_SKIP_UA) || is_report_tpg(cdb) || is_rsoc(cdb);
}

/* SPC-4 5.16.2.4.4: the standby state also accepts the mode, log and diagnostic commands, SET TARGET PORT
 * GROUPS and the persistent reservation commands, so that a path can be examined and reconfigured. */
static bool standby_allowed(const uint8_t *cdb)
{
    switch (cdb[0]) {
    case 0x15: /* MODE SELECT(6) */
    case 0x1a: /* MODE SENSE(6) */
    case 0x1c: /* RECEIVE DIAGNOSTIC RESULTS */
    case 0x1d: /* SEND DIAGNOSTIC */
    case 0x4c: /* LOG SELECT */
    case 0x4d: /* LOG SENSE */
    case 0x55: /* MODE SELECT(10) */
    case 0x5a: /* MODE SENSE(10) */
    case 0x5e: /* PERSISTENT RESERVE IN */
    case 0x5f: /* PERSISTENT RESERVE OUT */
        return true;
    default:
        return is_set_tpg(cdb);
    }
}

bool tgt__alua_gate(struct tgt_cmd *cmd, const struct tgt_cmd_row *row)
{
    struct tgt_server *srv = cmd->nexus ? cmd->nexus->srv : NULL;
    enum tgt_alua_state st;

    if (!srv)
        return false;
    st = tgt_alua_get_state(srv, tgt_cmd_rtpi(cmd));
    if (st == TGT_ALUA_ACTIVE_OPTIMIZED || st == TGT_ALUA_ACTIVE_NON_OPTIMIZED)
        return false;
    if (always_allowed(row, cmd->cdb))
        return false;
    switch (st) {
    case TGT_ALUA_STANDBY:
        if (standby_allowed(cmd->cdb))
            return false;
        /* SPC-4 5.16.2.4.4: LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN STANDBY STATE. */
        tgt_set_not_ready(cmd, 0x04, 0x0b);
        return true;
    case TGT_ALUA_UNAVAILABLE:
        /* SPC-4 5.16.2.4.5: SET TARGET PORT GROUPS is still accepted (it is how the path comes back). */
        if (is_set_tpg(cmd->cdb))
            return false;
        tgt_set_not_ready(cmd, 0x04, 0x0c); /* TARGET PORT IN UNAVAILABLE STATE */
        return true;
    case TGT_ALUA_OFFLINE:
        /* SPC-4 5.16.2.4.7: the port is not usable for the LU; LOGICAL UNIT NOT READY, OFFLINE. */
        tgt_set_not_ready(cmd, 0x04, 0x12);
        return true;
    case TGT_ALUA_TRANSITIONING:
        /* SPC-4 5.16.2.5: LOGICAL UNIT NOT ACCESSIBLE, ASYMMETRIC ACCESS STATE TRANSITION. */
        tgt_set_not_ready(cmd, 0x04, 0x0a);
        return true;
    default:
        return false;
    }
}

/* ---- REPORT TARGET PORT GROUPS (MAINTENANCE IN 0Ah) ------------------------------------------------------ */

#define TPG_DESC_LEN 12 /* 8-byte descriptor header plus one 4-byte target port descriptor */

enum tgt_exec_result tgt_alua_report_tpg(struct tgt_cmd *cmd)
{
    struct tgt_server *srv = cmd->lu->srv;
    uint8_t fmt = cmd->cdb[1] >> 5;
    uint32_t alloc = prt_get_be32(cmd->cdb + 6);
    size_t hdr = fmt == 1 ? 8 : 4;
    size_t max_groups = (cmd->buf_cap - hdr) / TPG_DESC_LEN;
    size_t n = srv->n_ports;
    uint8_t *d = cmd->buf;
    size_t len;

    /* SPC-4 6.36 Table 285: PARAMETER DATA FORMAT 000b (length only header) and 001b (extended header). */
    if (fmt > 1) {
        tgt_set_invalid_field_cdb(cmd, 1, 7);
        return TGT_DONE;
    }
    if (n > max_groups)
        n = max_groups;
    len = hdr + n * TPG_DESC_LEN;
    memset(d, 0, len);
    prt_put_be32(d, (uint32_t)(len - 4)); /* RETURN DATA LENGTH: the bytes after this field */
    if (fmt == 1) {
        d[4] = 0x10; /* FORMAT TYPE 001b */
        d[5] = IMPLICIT_TRANSITION_SECS;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t *g = d + hdr + i * TPG_DESC_LEN;
        uint16_t id = (uint16_t)(i + 1);

        g[0] = (uint8_t)tgt_alua_get_state(srv, id); /* PREF=0: no group is preferred over another */
        g[1] = SUPPORTED_STATES;
        prt_put_be16(g + 2, id);
        g[5] = id <= TGT_ALUA_MAX_TPG ? srv->alua.status[id - 1] : STATUS_NONE;
        g[7] = 1;                    /* TARGET PORT COUNT */
        prt_put_be16(g + 10, id);    /* RELATIVE TARGET PORT IDENTIFIER of the group's only port */
    }
    tgt_cmd_data_in(cmd, d, len, alloc);
    return TGT_DONE;
}

/* ---- SET TARGET PORT GROUPS (MAINTENANCE OUT 0Ah) -------------------------------------------------------- */

enum tgt_exec_result tgt_alua_set_tpg(struct tgt_cmd *cmd)
{
    struct tgt_server *srv = cmd->lu->srv;
    uint32_t plen = prt_get_be32(cmd->cdb + 6);
    const uint8_t *p = cmd->buf;
    size_t n;

    /* SPC-4 6.44: a PARAMETER LIST LENGTH of zero is not an error and changes nothing. */
    if (plen == 0) {
        tgt_set_good(cmd);
        return TGT_DONE;
    }
    /* SPC-4 6.44 Table 349: a 4-byte header and 4-byte set target port group descriptors; a length that cuts a
     * descriptor is a PARAMETER LIST LENGTH ERROR. Checked before the Data-Out is looked at. */
    if (plen < 4 || (plen - 4) % 4 != 0 || plen > cmd->buf_cap) {
        tgt_set_param_list_length_error(cmd);
        return TGT_DONE;
    }
    cmd->dout_want = plen;
    if (cmd->dout_len < plen) {
        tgt_set_invalid_field_iu(cmd);
        return TGT_DONE;
    }
    n = (plen - 4) / 4;
    /* Check every descriptor before changing anything, so a bad list leaves all states as they were. */
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = p + 4 + i * 4;
        unsigned st = e[0] & 0x0f;
        uint16_t id = prt_get_be16(e + 2);
        size_t off = 4 + i * 4;

        /* SPC-4 6.44: transitioning (and LBA dependent, which we do not support) cannot be requested. */
        if (!valid_state(st) || st == TGT_ALUA_TRANSITIONING) {
            tgt_set_invalid_field_param(cmd, (int)off, 3);
            return TGT_DONE;
        }
        if (id == 0 || id > srv->n_ports || id > TGT_ALUA_MAX_TPG) {
            tgt_set_invalid_field_param(cmd, (int)off + 2, 7);
            return TGT_DONE;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = p + 4 + i * 4;
        uint16_t id = prt_get_be16(e + 2);

        if (srv->alua.state[id - 1] != (e[0] & 0x0f)) {
            srv->alua.state[id - 1] = e[0] & 0x0f;
            srv->alua.status[id - 1] = STATUS_SET_TPG;
            announce_change(srv, tgt_cmd_itn(cmd));
        }
    }
    tgt_set_good(cmd);
    return TGT_DONE;
}
