/* Removable medium of a logical unit: load and eject (START STOP UNIT LOEJ), PREVENT ALLOW MEDIUM REMOVAL, and
 * MEDIUM NOT PRESENT while the medium is out.
 *
 * A LU is removable only when its configuration asks for it (struct tgt_lu_cfg.removable, INQUIRY RMB=1). Its
 * medium starts loaded. Ejecting it does not touch the data: loading it again gives the same blocks back, as a
 * real cartridge would.
 *
 * Prevention is per I_T nexus (SPC-4 6.13: "the device server shall maintain a prevent state for each I_T
 * nexus"); removal is prevented while any nexus holds it. It ends for a nexus when the nexus goes (logout,
 * connection loss, I_T NEXUS RESET) and for every nexus on a LU reset, a target reset or a power loss.
 *
 * This file also holds the life cycle of the optional LU features (media, sanitize, copy results), because the
 * LU creation path needs exactly one hook for all of them.
 *
 * Ownership: struct tgt_media is allocated by tgt__disk_lu_init() and freed by tgt__disk_lu_free(), both called
 * from target/lu.c; the prevent array grows on the loop thread when a new nexus sets PREVENT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/tgt_internal.h"

struct tgt_media {
    bool present;
    uint32_t n_prevent;   /* nexuses whose PREVENT is set; removal is prevented while this is non-zero */
    uint32_t cap;
    uint8_t *prevent;     /* indexed by itn id: 1 when that nexus set PREVENT */
};

/* Defined in sanitize.c and xcopy.c; only the LU life cycle here calls them. */
int tgt__sanitize_init(struct tgt_lu *lu, char *err, size_t errlen);
void tgt__sanitize_free(struct tgt_lu *lu);
void tgt__xcopy_free(struct tgt_lu *lu);

int tgt__disk_lu_init(struct tgt_lu *lu, const struct tgt_lu_cfg *cfg, char *err, size_t errlen)
{
    if (cfg->removable) {
        lu->media = calloc(1, sizeof(*lu->media));
        if (!lu->media) {
            snprintf(err, errlen, "LU %llu: out of memory", (unsigned long long)lu->lun);
            return -ENOMEM;
        }
        lu->media->present = true;
    }
    if (cfg->sanitize) {
        int rc = tgt__sanitize_init(lu, err, errlen);

        if (rc < 0)
            return rc;
    }
    return 0;
}

void tgt__disk_lu_free(struct tgt_lu *lu)
{
    if (lu->media) {
        free(lu->media->prevent);
        free(lu->media);
        lu->media = NULL;
    }
    tgt__sanitize_free(lu);
    tgt__xcopy_free(lu);
}

bool tgt__media_removable(const struct tgt_lu *lu)
{
    return lu && lu->media;
}

bool tgt__media_present(const struct tgt_lu *lu)
{
    return !lu->media || lu->media->present;
}

/* Commands that do not touch the medium and therefore still work while it is out. SPC-4 6.47 answers TEST UNIT
 * READY with NOT READY, MEDIUM NOT PRESENT when there is no medium; by the same reasoning every command that
 * reads or writes blocks or reports the medium's capacity fails, while identification, mode pages,
 * reservations and the medium-handling commands themselves keep working. */
static bool works_without_medium(uint8_t opcode)
{
    switch (opcode) {
    case 0x03: /* REQUEST SENSE */
    case 0x12: /* INQUIRY */
    case 0x15: /* MODE SELECT(6) */
    case 0x16: /* RESERVE(6) */
    case 0x17: /* RELEASE(6) */
    case 0x1a: /* MODE SENSE(6) */
    case 0x1b: /* START STOP UNIT: loads the medium */
    case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
    case 0x55: /* MODE SELECT(10) */
    case 0x56: /* RESERVE(10) */
    case 0x57: /* RELEASE(10) */
    case 0x5a: /* MODE SENSE(10) */
    case 0x5e: /* PERSISTENT RESERVE IN */
    case 0x5f: /* PERSISTENT RESERVE OUT */
    case 0x84: /* RECEIVE COPY RESULTS: reports on copies already done */
    case 0xa0: /* REPORT LUNS */
    case 0xa3: /* MAINTENANCE IN: REPORT SUPPORTED OPERATION CODES, REPORT TARGET PORT GROUPS */
    case 0xa4: /* MAINTENANCE OUT: SET TARGET PORT GROUPS */
        return true;
    default:
        return false;
    }
}

bool tgt__media_gate(struct tgt_cmd *cmd, const struct tgt_cmd_row *row)
{
    struct tgt_media *m = cmd->lu ? cmd->lu->media : NULL;

    if (!m || m->present || works_without_medium(row->opcode))
        return false;
    /* SPC-4 Annex D: 3Ah/02h MEDIUM NOT PRESENT - TRAY OPEN: our medium is only ever out because it was
     * ejected, which leaves the tray open. */
    tgt_set_not_ready(cmd, 0x3a, 0x02);
    return true;
}

static int prevent_slot(struct tgt_media *m, uint32_t itn)
{
    if (itn >= m->cap) {
        uint32_t cap = m->cap ? m->cap : 16;
        uint8_t *p;

        while (cap <= itn)
            cap *= 2;
        p = realloc(m->prevent, cap);
        if (!p)
            return -ENOMEM;
        memset(p + m->cap, 0, cap - m->cap);
        m->prevent = p;
        m->cap = cap;
    }
    return 0;
}

static void set_prevent(struct tgt_media *m, uint32_t itn, bool on)
{
    if (itn >= m->cap || m->prevent[itn] == on)
        return;
    m->prevent[itn] = on;
    if (on)
        m->n_prevent++;
    else
        m->n_prevent--;
}

enum tgt_exec_result tgt_media_prevent_allow(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    struct tgt_media *m = lu->media;
    uint8_t prevent = cmd->cdb[4] & 0x03;
    uint32_t itn = tgt_cmd_itn(cmd);

    /* SPC-4 6.13 Table 186: 00b allows and 01b prevents removal; 10b and 11b are obsolete (persistent prevent,
     * an MMC concept) and are refused. */
    if (prevent > 1) {
        tgt_set_invalid_field_cdb(cmd, 4, 1);
        return TGT_DONE;
    }
    /* SPC-4 6.13: without a removable medium there is nothing to prevent and the command has no effect. */
    if (!m) {
        tgt_set_good(cmd);
        return TGT_DONE;
    }
    /* SPC-4 5.13.1 Table 63: PREVENT=0 is allowed under every reservation, PREVENT=1 conflicts like a write. */
    if (prevent && lu->pr && pr_check_access(lu->pr, itn, PR_ACCESS_WRITE) == PR_CONFLICT) {
        tgt_set_reservation_conflict(cmd);
        return TGT_DONE;
    }
    if (itn == PR_ITN_NONE) {
        tgt_set_good(cmd);
        return TGT_DONE;
    }
    if (prevent && prevent_slot(m, itn) != 0) {
        tgt_set_internal_error(cmd);
        return TGT_DONE;
    }
    set_prevent(m, itn, prevent != 0);
    tgt_set_good(cmd);
    return TGT_DONE;
}

enum tgt_exec_result tgt__media_load_eject(struct tgt_cmd *cmd)
{
    struct tgt_lu *lu = cmd->lu;
    struct tgt_media *m = lu->media;
    bool start = cmd->cdb[4] & 0x01;

    /* SBC-3 5.25: LOEJ=1 on a device whose medium cannot be removed (RMB=0) is an invalid request. */
    if (!m) {
        tgt_set_invalid_field_cdb(cmd, 4, 1);
        return TGT_DONE;
    }
    /* SBC-3 5.25 / SPC-4 6.13: while any I_T nexus prevents removal, LOEJ is refused with MEDIUM REMOVAL
     * PREVENTED. Our medium sits in a tray that prevention locks, so loading is refused as well as ejecting
     * (libiscsi PreventAllow.Eject expects this; see tests/conformance/spc4-notes-disk.md). */
    if (m->n_prevent) {
        tgt_set_sense(cmd, TGT_SK_ILLEGAL_REQUEST, 0x53, 0x02);
        return TGT_DONE;
    }
    if (start) {
        if (!m->present) {
            m->present = true;
            /* SAM-5 5.14 / SPC-4 Annex D 28h/00h NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED: every
             * other I_T nexus learns that the medium may have changed; the nexus that loaded it knows. */
            tgt__ua_raise_all(lu, 0x28, 0x00, tgt_cmd_itn(cmd));
        }
    } else {
        /* Ejecting needs no cache flush: written data is already in the backend, and the "removed" medium
         * is the same backend storage that a later load brings back. */
        m->present = false;
    }
    tgt_set_good(cmd);
    return TGT_DONE;
}

void tgt__media_nexus_lost(struct tgt_server *srv, uint32_t itn)
{
    for (unsigned i = 0; i < srv->n_lus; i++) {
        struct tgt_media *m = srv->lus[i]->media;

        if (m)
            set_prevent(m, itn, false);
    }
}

void tgt__media_allow_removal(struct tgt_lu *lu, uint32_t itn)
{
    if (lu->media)
        set_prevent(lu->media, itn, false);
}

void tgt__media_lu_reset(struct tgt_lu *lu)
{
    struct tgt_media *m = lu->media;

    if (!m)
        return;
    if (m->prevent)
        memset(m->prevent, 0, m->cap);
    m->n_prevent = 0;
}
