/* iscsi-persist main(): log in to an iSCSI target with libiscsi as the chosen initiator port, run INQUIRY (unless
 * -n) and one PERSISTENT RESERVE IN or OUT command, and report the outcome as sg_persist does.
 *
 * Unit attentions: every invocation is a fresh login, and a target reports a 29h UNIT ATTENTION (power on, reset,
 * I_T nexus loss; SAM-5 5.14, SPC-4 5.13.2/4.5.x) on the first command of a nexus it has not talked to since. A
 * kernel initiator consumes those during its scan, so sg_persist never sees them; iscsi-persist consumes them the
 * same way by repeating the command (at most PRT_UA_RETRIES times, each retry reported with -v). Every other unit
 * attention, in particular the 2Ah reservation and registration events SPC-4 5.13.11 raises on other nexuses, is
 * reported exactly as sg_persist reports it (sense printed, exit status 6), because that is the event a tester is
 * looking for. libiscsi's iscsi_full_connect_sync() is not used: its TEST UNIT READY after login would fail the
 * connection on such a unit attention and consume it unseen. */
#include "app/iscsi_persist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define ME "iscsi-persist"
/* A nexus may have several 29h unit attentions queued (SAM-5 5.14: one per event, oldest first). */
#define PRT_UA_RETRIES 8
/* sg3_utils' default pass-through timeout (DEF_PT_TIMEOUT), in seconds. */
#define PRT_CMD_TIMEOUT 60
/* SPC-4 6.6.1: 36 bytes of standard INQUIRY data are what every device returns (sg3_utils asks for 36). */
#define INQ_LEN 36

/* The outcome of one command exchange. */
struct prt_xfer {
    int status;                  /* SAM-5 status byte, or -1 when the transport failed */
    bool timed_out;
    struct prt_persist_sense sense;
    size_t got;                  /* data-in bytes copied to the caller's buffer */
};

static void fill_sense(struct prt_persist_sense *s, const struct scsi_task *t)
{
    memset(s, 0, sizeof(*s));
    s->response_code = t->sense.error_type;
    s->key = (uint8_t)t->sense.key;
    s->asc = (uint8_t)(t->sense.ascq >> 8);
    s->ascq = (uint8_t)(t->sense.ascq & 0xff);
    s->sksv = t->sense.sense_specific;
    s->cd = t->sense.ill_param_in_cdb;
    s->bpv = t->sense.bit_pointer_valid;
    s->bit_pointer = t->sense.bit_pointer;
    s->field_pointer = t->sense.field_pointer;
}

/* One CDB, once. dir is SCSI_XFER_READ (buf receives up to len bytes), SCSI_XFER_WRITE (buf holds len bytes)
 * or SCSI_XFER_NONE. */
static void exchange(struct iscsi_context *iscsi, int lun, const uint8_t *cdb, size_t cdb_len, int dir,
                     uint8_t *buf, size_t len, struct prt_xfer *x)
{
    memset(x, 0, sizeof(*x));
    x->status = -1;
    struct scsi_task *task = scsi_create_task((int)cdb_len, (unsigned char *)cdb, dir, (int)len);
    if (task == NULL)
        return;
    struct iscsi_data out = {.size = len, .data = buf};
    struct scsi_task *t = iscsi_scsi_command_sync(iscsi, lun, task, dir == SCSI_XFER_WRITE ? &out : NULL);
    if (t != NULL) {
        if (t->status == SCSI_STATUS_TIMEOUT)
            x->timed_out = true;
        else if (t->status >= 0 && t->status <= 0xff) {
            x->status = t->status;
            if (t->status == SCSI_STATUS_CHECK_CONDITION)
                fill_sense(&x->sense, t);
            if (dir == SCSI_XFER_READ && t->datain.data != NULL && t->datain.size > 0) {
                size_t n = (size_t)t->datain.size < len ? (size_t)t->datain.size : len;
                memcpy(buf, t->datain.data, n);
                x->got = n;
            }
        }
    }
    scsi_free_scsi_task(task);
}

/* One CDB, repeated while it meets the 29h unit attentions a fresh login brings (see the file comment). */
static void run(struct iscsi_context *iscsi, int lun, const struct prt_persist_opts *o, const char *leadin,
                const uint8_t *cdb, size_t cdb_len, int dir, uint8_t *buf, size_t len, struct prt_xfer *x)
{
    if (o->verbose)
        prt_persist_print_cdb(stderr, leadin, cdb, cdb_len);
    for (int attempt = 0;; attempt++) {
        if (dir == SCSI_XFER_READ)
            memset(buf, 0, len);
        exchange(iscsi, lun, cdb, cdb_len, dir, buf, len, x);
        bool login_ua = x->status == SCSI_STATUS_CHECK_CONDITION && x->sense.key == SCSI_SENSE_UNIT_ATTENTION &&
                        x->sense.asc == 0x29;
        if (!login_ua || attempt >= PRT_UA_RETRIES)
            return;
        if (o->verbose) {
            fprintf(stderr, "%s: unit attention after login, repeating the command:\n", leadin);
            prt_persist_print_sense(stderr, &x->sense);
        }
    }
}

/* Map an exchange to an sg3_utils category, printing what sg_cmds_process_resp() prints when "noisy". */
static int outcome(struct iscsi_context *iscsi, const struct prt_persist_opts *o, const char *leadin,
                   const struct prt_xfer *x)
{
    if (x->timed_out) {
        fprintf(stderr, "%s: pass-through timeout\n", leadin);
        return PRT_EXIT_TIMEOUT;
    }
    if (x->status < 0) {
        fprintf(stderr, "%s: transport: %s\n", leadin, iscsi_get_error(iscsi));
        return PRT_EXIT_OTHER;
    }
    int cat = prt_persist_category(x->status, &x->sense);
    if (x->status == SCSI_STATUS_CHECK_CONDITION) {
        /* sg3_utils prints the sense of these categories even when not verbose: the others have a message of
         * their own from the caller. */
        bool noisy = cat == PRT_EXIT_UNIT_ATTENTION || cat == PRT_EXIT_MEDIUM_HARD || cat == PRT_EXIT_RECOVERED ||
                     cat == PRT_EXIT_SENSE;
        if (o->verbose || noisy) {
            fprintf(stderr, "%s:\n", leadin);
            prt_persist_print_sense(stderr, &x->sense);
        }
    } else if (cat == PRT_EXIT_OTHER) {
        fprintf(stderr, "%s: scsi status: 0x%x\n", leadin, (unsigned)x->status);
    }
    return cat;
}

static int do_inquiry(struct iscsi_context *iscsi, int lun, const struct prt_persist_opts *o, bool *flagged)
{
    uint8_t cdb[6] = {0x12, 0, 0, 0, INQ_LEN, 0}; /* SPC-4 6.6.1 INQUIRY, standard data */
    uint8_t inq[INQ_LEN];
    struct prt_xfer x;

    run(iscsi, lun, o, "inquiry", cdb, sizeof(cdb), SCSI_XFER_READ, inq, sizeof(inq), &x);
    int cat = outcome(iscsi, o, "inquiry", &x);
    if (cat == PRT_EXIT_OK && x.got >= 5) {
        prt_persist_print_inquiry(stdout, inq, x.got);
        return PRT_EXIT_OK;
    }
    if (cat == PRT_EXIT_OK)
        cat = PRT_EXIT_MALFORMED;
    printf("%s: SCSI INQUIRY failed on %s\n", ME, o->device);
    *flagged = true;
    return cat;
}

static int do_prin(struct iscsi_context *iscsi, int lun, const struct prt_persist_opts *o)
{
    static const char leadin[] = "Persistent reserve in";
    uint8_t cdb[10];
    uint8_t *buf = calloc(1, o->alloc_len > 0 ? o->alloc_len : 1);
    struct prt_xfer x;

    if (buf == NULL) {
        fprintf(stderr, "%s: unable to allocate %u bytes on heap\n", ME, o->alloc_len);
        return PRT_EXIT_OTHER;
    }
    prt_persist_prin_cdb(cdb, o->prin_sa, (uint16_t)o->alloc_len);
    run(iscsi, lun, o, leadin, cdb, sizeof(cdb), SCSI_XFER_READ, buf, o->alloc_len, &x);
    int cat = outcome(iscsi, o, leadin, &x);
    if (cat != PRT_EXIT_OK) {
        const char *sa = prt_persist_prin_sa_str(o->prin_sa);
        if (cat == PRT_EXIT_INVALID_OP)
            fprintf(stderr, "PR in (%s): command not supported\n", sa);
        else if (cat == PRT_EXIT_ILLEGAL_REQ)
            fprintf(stderr, "PR in (%s): bad field in cdb or parameter list (perhaps unsupported service "
                            "action)\n", sa);
        else
            fprintf(stderr, "PR in (%s): %s\n", sa, prt_persist_category_str(cat));
        free(buf);
        return cat;
    }
    /* The whole allocation is passed, zero beyond what arrived, as sg3_utils zeroes the unfilled residue. */
    cat = prt_persist_print_prin(stdout, stderr, o, buf, o->alloc_len);
    free(buf);
    return cat;
}

static int do_prout(struct iscsi_context *iscsi, int lun, const struct prt_persist_opts *o)
{
    static const char leadin[] = "Persistent reserve out";
    uint8_t cdb[10];
    struct prt_xfer x;
    bool move = o->prout_sa == PRT_PROUT_REGISTER_MOVE;
    uint8_t *params = malloc(PRT_PERSIST_PROUT_MAX);

    if (params == NULL) {
        fprintf(stderr, "%s: unable to allocate %u bytes on heap\n", ME, PRT_PERSIST_PROUT_MAX);
        return PRT_EXIT_OTHER;
    }
    size_t len = prt_persist_prout_params(o, params, PRT_PERSIST_PROUT_MAX);
    prt_persist_prout_cdb(cdb, o->prout_sa, o->prout_type, (uint32_t)len);
    if (o->verbose > 1) {
        fprintf(stderr, "    %s parameter list:\n", leadin);
        prt_persist_hex(stderr, params, len, -1);
    }
    run(iscsi, lun, o, leadin, cdb, sizeof(cdb), SCSI_XFER_WRITE, params, len, &x);
    int cat = outcome(iscsi, o, leadin, &x);
    const char *sa = move ? "register and move" : prt_persist_prout_sa_str(o->prout_sa);
    if (cat == PRT_EXIT_INVALID_OP)
        fprintf(stderr, "PR out (%s): command not supported\n", sa);
    else if (cat == PRT_EXIT_ILLEGAL_REQ)
        fprintf(stderr, "PR out (%s): bad field in cdb or parameter list (perhaps unsupported service action)\n",
                sa);
    else if (cat != PRT_EXIT_OK)
        fprintf(stderr, "PR out (%s): %s\n", sa, prt_persist_category_str(cat));
    else if (o->verbose && move)
        fprintf(stderr, "PR out: 'register and move' command successful\n");
    else if (o->verbose)
        fprintf(stderr, "PR out: command (%s) successful\n", sa);
    free(params);
    return cat;
}

static void set_isid(struct iscsi_context *iscsi, const uint8_t b[6])
{
    /* RFC 7143 10.12.5: the T field selects which of libiscsi's setters can express the ISID;
     * prt_persist_parse_isid() admitted only ISIDs that one of them reproduces exactly. */
    switch (b[0] >> 6) {
    case 0:
        iscsi_set_isid_oui(iscsi, ((uint32_t)(b[0] & 0x3f) << 16) | ((uint32_t)b[1] << 8) | b[2],
                           ((uint32_t)b[3] << 16) | ((uint32_t)b[4] << 8) | b[5]);
        break;
    case 1:
        iscsi_set_isid_en(iscsi, ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3],
                          ((uint32_t)b[4] << 8) | b[5]);
        break;
    case 2:
        iscsi_set_isid_random(iscsi, ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3],
                              ((uint32_t)b[4] << 8) | b[5]);
        break;
    default:
        iscsi_set_isid_reserved(iscsi);
        break;
    }
}

/* libiscsi's error strings may span lines; every failure here is reported in one. */
static const char *one_line(const char *s, char *buf, size_t cap)
{
    size_t n = 0;
    for (; s != NULL && *s != '\0' && n + 1 < cap; s++)
        buf[n++] = (*s == '\n' || *s == '\r') ? ' ' : *s;
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
    return buf;
}

/* Everything after the command line: one login, INQUIRY, the PR command, the final one-line verdict. */
static int persist(const struct prt_persist_opts *o)
{
    bool flagged = false;
    int ret = PRT_EXIT_OK;
    char msg[256];

    struct iscsi_context *iscsi = iscsi_create_context(o->initiator_name);
    if (iscsi == NULL) {
        fprintf(stderr, "%s: cannot create an iSCSI context\n", ME);
        return PRT_EXIT_OTHER;
    }
    struct iscsi_url *url = iscsi_parse_full_url(iscsi, o->device);
    if (url == NULL) {
        fprintf(stderr, "%s: bad URL '%s': %s\n", ME, o->device, one_line(iscsi_get_error(iscsi), msg, sizeof(msg)));
        iscsi_destroy_context(iscsi);
        return PRT_EXIT_SYNTAX;
    }
    set_isid(iscsi, o->isid);
    iscsi_set_targetname(iscsi, url->target);
    iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
    iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE_CRC32C);
    iscsi_set_timeout(iscsi, PRT_CMD_TIMEOUT);
    if (url->user[0] != '\0')
        iscsi_set_initiator_username_pwd(iscsi, url->user, url->passwd);
    int lun = url->lun;

    const char *stage = NULL;
    if (iscsi_connect_sync(iscsi, url->portal) != 0)
        stage = "cannot connect to the portal";
    else if (iscsi_login_sync(iscsi) != 0)
        stage = "login failed";
    if (stage != NULL) {
        fprintf(stderr, "%s: error opening file %s (rw): %s: %s\n", ME, o->device, stage,
                one_line(iscsi_get_error(iscsi), msg, sizeof(msg)));
        iscsi_destroy_url(url);
        iscsi_destroy_context(iscsi);
        return PRT_EXIT_FILE_ERROR;
    }
    /* A dropped session must fail this one command, not be silently re-established and replayed. */
    iscsi_set_noautoreconnect(iscsi, 1);
    if (o->inquiry)
        ret = do_inquiry(iscsi, lun, o, &flagged);
    if (ret == PRT_EXIT_OK)
        ret = o->pr_in ? do_prin(iscsi, lun, o) : do_prout(iscsi, lun, o);

    if (ret != PRT_EXIT_OK && o->verbose == 0 && !flagged) {
        const char *s = prt_persist_exit_str(ret);
        if (s != NULL)
            fprintf(stderr, "%s failed: %s\n", ME, s);
        else
            fprintf(stderr, "Some error occurred [%d]\n", ret);
    }
    iscsi_logout_sync(iscsi);
    iscsi_destroy_url(url);
    iscsi_destroy_context(iscsi);
    return ret;
}

int main(int argc, char *argv[])
{
    /* About 8 KiB because of the TransportID array, hence on the heap. */
    struct prt_persist_opts *o = calloc(1, sizeof(*o));
    if (o == NULL) {
        fprintf(stderr, "%s: out of memory\n", ME);
        return PRT_EXIT_OTHER;
    }
    int ret = prt_persist_parse_args(o, argc, argv, stderr);
    if (ret == 0 && o->action == PRT_PERSIST_HELP)
        prt_persist_usage(stderr, o->help_level);
    else if (ret == 0 && o->action == PRT_PERSIST_VERSION_ONLY)
        fprintf(stderr, "version: %s\n", PRT_PERSIST_VERSION);
    else if (ret == 0)
        ret = persist(o);
    free(o);
    return ret;
}
