/* iscsi-persist: an sg_persist-compatible PERSISTENT RESERVE IN/OUT client that reaches a logical unit through an
 * iscsi:// URL (libiscsi) instead of a local SCSI device node.
 *
 * The program is split so that everything except the network exchange is pure and unit-testable:
 *   iscsi_persist_opts.c  command line (sg_persist's options plus --initiator-name/--isid) and TransportID parsing;
 *   iscsi_persist_fmt.c   CDB and parameter-list building, decoding of PR IN data, sense and exit-status text;
 *   iscsi_persist.c       main(): libiscsi login, INQUIRY, the PR command, unit attention handling.
 * Only iscsi_persist.c includes libiscsi headers.
 *
 * Output and exit statuses follow sg_persist 0.67 (sg3_utils 1.46), whose exit statuses are sg3_utils' sg_lib.h
 * SG_LIB_* values; messages that name the program use "iscsi-persist" where sg_persist prints "sg_persist".
 */
#ifndef ISCSI_PERSIST_H
#define ISCSI_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PRT_PERSIST_VERSION "1.0 (prtarget 0.1.0; output as sg_persist 0.67)"
#define PRT_PERSIST_DEFAULT_INAME "iqn.2026-11.org.prtarget:iscsi-persist"

/* sg_persist's largest PR IN allocation length and its default. */
#define PRT_PERSIST_MAX_ALLOC 8192u
/* TransportIDs accepted on one command line, as sg_persist (MX_TIDS). */
#define PRT_PERSIST_MAX_TIDS 32u
/* Longest single TransportID: an iSCSI one is 4 header bytes plus at most 252 bytes of name (SPC-4 7.6.4.6). */
#define PRT_PERSIST_TID_MAX 256u
#define PRT_PERSIST_TIDS_BYTES (PRT_PERSIST_MAX_TIDS * PRT_PERSIST_TID_MAX)
/* A PR OUT parameter list: 24 fixed bytes, 4 bytes of TRANSPORTID PARAMETER DATA LENGTH, the TransportIDs. */
#define PRT_PERSIST_PROUT_MAX (28u + PRT_PERSIST_TIDS_BYTES)

/* PERSISTENT RESERVE IN service actions (SPC-4 6.14.1, Table 166). */
enum prt_persist_prin_sa {
    PRT_PRIN_READ_KEYS = 0x0,
    PRT_PRIN_READ_RESERVATION = 0x1,
    PRT_PRIN_REPORT_CAPABILITIES = 0x2,
    PRT_PRIN_READ_FULL_STATUS = 0x3,
};

/* PERSISTENT RESERVE OUT service actions (SPC-4 6.15.2, Table 183). */
enum prt_persist_prout_sa {
    PRT_PROUT_REGISTER = 0x0,
    PRT_PROUT_RESERVE = 0x1,
    PRT_PROUT_RELEASE = 0x2,
    PRT_PROUT_CLEAR = 0x3,
    PRT_PROUT_PREEMPT = 0x4,
    PRT_PROUT_PREEMPT_ABORT = 0x5,
    PRT_PROUT_REGISTER_IGNORE = 0x6,
    PRT_PROUT_REGISTER_MOVE = 0x7,
    PRT_PROUT_REPLACE_LOST = 0x8,
};

/* Exit statuses: sg3_utils sg_lib.h SG_LIB_* values, which sg_persist returns and scripts test for. */
enum prt_persist_exit {
    PRT_EXIT_OK = 0,
    PRT_EXIT_SYNTAX = 1,
    PRT_EXIT_NOT_READY = 2,
    PRT_EXIT_MEDIUM_HARD = 3,
    PRT_EXIT_ILLEGAL_REQ = 5,
    PRT_EXIT_UNIT_ATTENTION = 6,
    PRT_EXIT_DATA_PROTECT = 7,
    PRT_EXIT_INVALID_OP = 9,
    PRT_EXIT_COPY_ABORTED = 10,
    PRT_EXIT_ABORTED_COMMAND = 11,
    PRT_EXIT_MISCOMPARE = 14,
    PRT_EXIT_FILE_ERROR = 15,
    PRT_EXIT_NO_SENSE = 20,
    PRT_EXIT_RECOVERED = 21,
    PRT_EXIT_LBA_OUT_OF_RANGE = 22,
    PRT_EXIT_RES_CONFLICT = 24,
    PRT_EXIT_CONDITION_MET = 25,
    PRT_EXIT_BUSY = 26,
    PRT_EXIT_TASK_SET_FULL = 27,
    PRT_EXIT_ACA_ACTIVE = 28,
    PRT_EXIT_TASK_ABORTED = 29,
    PRT_EXIT_CONTRADICT = 31,
    PRT_EXIT_TIMEOUT = 33,
    PRT_EXIT_PROTECTION = 40,
    PRT_EXIT_MALFORMED = 97,
    PRT_EXIT_SENSE = 98,
    PRT_EXIT_OTHER = 99,
};

/* What main() does after the command line is parsed. */
enum prt_persist_action {
    PRT_PERSIST_RUN = 0,
    PRT_PERSIST_HELP,
    PRT_PERSIST_VERSION_ONLY,
};

/* Everything the command line selects. Filled by prt_persist_parse_args(); owned by the caller (main() allocates
 * it: it is about 8 KiB because of the TransportID array). */
struct prt_persist_opts {
    enum prt_persist_action action;
    int help_level;            /* 1: main options, 2: the others (sg_persist's -h / -hh) */
    const char *device;        /* iscsi:// URL, from -d or the positional argument; points into argv */
    const char *initiator_name;/* --initiator-name; points into argv or at PRT_PERSIST_DEFAULT_INAME */
    uint8_t isid[6];           /* --isid; with initiator_name this is the initiator port (RFC 7143 4.2.7.1) */
    bool inquiry;              /* false with -n */
    bool pr_in;                /* PR IN (default) or PR OUT (-o) */
    int prin_sa;               /* enum prt_persist_prin_sa */
    int prout_sa;              /* enum prt_persist_prout_sa, -1 when none */
    uint32_t prout_type;       /* -T */
    uint64_t param_rk;         /* -K */
    uint64_t param_sark;       /* -S */
    uint32_t param_rtp;        /* -Q, REGISTER AND MOVE only */
    bool param_alltgpt;        /* -Y */
    bool param_aptpl;          /* -Z */
    bool param_unreg;          /* -U, REGISTER AND MOVE only */
    int hex;                   /* -H count */
    int verbose;               /* -v count */
    int readonly;              /* -y count; accepted for compatibility, no meaning over iSCSI */
    uint32_t alloc_len;        /* -l / -m, PR IN ALLOCATION LENGTH */
    unsigned n_tids;           /* TransportIDs in tids[] */
    size_t tids_len;           /* bytes used in tids[]; TransportIDs are stored back to back, each at its
                                  own length (SPC-4 6.15.3: the list a SPEC_I_PT REGISTER carries) */
    uint8_t tids[PRT_PERSIST_TIDS_BYTES];
};

/* Sense data as libiscsi decodes it (SPC-4 4.5), the fields iscsi-persist reports. */
struct prt_persist_sense {
    uint8_t response_code;     /* 70h/71h fixed current/deferred, 72h/73h descriptor current/deferred */
    uint8_t key;
    uint8_t asc;
    uint8_t ascq;
    bool sksv;                 /* SENSE KEY SPECIFIC VALID with a field pointer (SPC-4 4.5.2.4.2) */
    bool cd;                   /* C/D: the field is in the CDB (1) or the parameter list (0) */
    bool bpv;                  /* BPV: bit_pointer is meaningful */
    uint8_t bit_pointer;
    uint16_t field_pointer;
};

/* ---- iscsi_persist_opts.c ------------------------------------------------------------------------------ */

/* Parse argv the way sg_persist 0.67 does, plus --initiator-name=IQN and --isid=HEX. Returns 0 when main()
 * should go on (see o->action), or the exit status for a bad command line after writing one line to err.
 * Notices that sg_persist prints without failing (the implied Read Keys, a missing --prout-type) go to err too. */
int prt_persist_parse_args(struct prt_persist_opts *o, int argc, char *argv[], FILE *err);

/* Add TransportIDs from the -X argument: hex bytes, a symbolic iSCSI name ("iqn.…", optionally
 * "iqn.…,i,0x<ISID>"), "file=NAME", or "-" (stdin). Returns 0 or -EINVAL with a one-line reason in err. */
int prt_persist_add_tids(struct prt_persist_opts *o, const char *arg, FILE *err);
/* The same for a stream of lines in sg_persist's TransportID file syntax (blank lines and '#' comments
 * ignored, one TransportID per line). name is used in messages only. */
int prt_persist_add_tid_stream(struct prt_persist_opts *o, FILE *in, const char *name, FILE *err);
/* Encode one symbolic iSCSI TransportID into tid (at least PRT_PERSIST_TID_MAX bytes). Returns its length,
 * or -EINVAL when s is not an iSCSI name or is too long (SPC-4 7.6.4.6). */
int prt_persist_iscsi_tid(const char *s, size_t slen, uint8_t *tid);
/* Parse up to 16 hex digits (sg_persist's -K/-S syntax; an optional 0x prefix). Returns 0 or -EINVAL. */
int prt_persist_parse_hex64(const char *s, uint64_t *v);
/* Parse a 6-byte ISID written as 12 hex digits (optional 0x). Only ISIDs that libiscsi can put on the wire
 * are accepted: type 00b (OUI), or types 01b/10b with the rest of byte 0 zero, or 11b all zero
 * (RFC 7143 10.12.5). Returns 0 or -EINVAL. */
int prt_persist_parse_isid(const char *s, uint8_t isid[6]);
/* sg3_utils' --maxlen syntax: decimal, 0x/h hex, or a k/m multiplier. Returns 0 or -EINVAL. */
int prt_persist_parse_num(const char *s, uint32_t *v);

/* 0 when url has the shape iscsi://[USER[%PASSWORD]@]HOST[:PORT]/TARGET/LUN (LUN decimal 0-16383, no blanks),
 * else -EINVAL. libiscsi parses the URL; this check lets a bad one be refused in one line first. */
int prt_persist_check_url(const char *url);

/* Usage text as sg_persist's -h (level 1) and -hh (level 2), plus iscsi-persist's own options. */
void prt_persist_usage(FILE *out, int level);

/* ---- iscsi_persist_fmt.c ------------------------------------------------------------------------------- */

/* The 10-byte PERSISTENT RESERVE IN CDB (SPC-4 6.14.1). */
void prt_persist_prin_cdb(uint8_t cdb[10], int sa, uint16_t alloc_len);
/* The 10-byte PERSISTENT RESERVE OUT CDB (SPC-4 6.15.1); scope is always LU_SCOPE (SPC-4 6.15.3.3). */
void prt_persist_prout_cdb(uint8_t cdb[10], int sa, uint32_t type, uint32_t param_len);
/* The PR OUT parameter list for o into buf (cap bytes, PRT_PERSIST_PROUT_MAX suffices). Returns its length.
 * REGISTER AND MOVE uses the SPC-4 6.15.4 layout; every other service action the 6.15.3 layout, with
 * SPEC_I_PT set when TransportIDs were given. */
size_t prt_persist_prout_params(const struct prt_persist_opts *o, uint8_t *buf, size_t cap);

/* Print a PR IN response (len valid bytes in buf) as sg_persist does for o->prin_sa and o->hex. Returns
 * PRT_EXIT_OK, or PRT_EXIT_MALFORMED for a REPORT CAPABILITIES response of the wrong length. */
int prt_persist_print_prin(FILE *out, FILE *err, const struct prt_persist_opts *o, const uint8_t *buf,
                           size_t len);
/* The two lines sg_persist prints from standard INQUIRY data. */
void prt_persist_print_inquiry(FILE *out, const uint8_t *inq, size_t len);
/* sg3_utils' hex dump (dStrHex): no_ascii > 0 address + hex, 0 also ASCII, < 0 hex only. */
void prt_persist_hex(FILE *out, const uint8_t *p, size_t len, int no_ascii);
/* Decode a TransportID list as sg3_utils' sg_decode_transportid_str() prints it. */
void prt_persist_print_tid(FILE *out, const char *leadin, const uint8_t *p, size_t len);

/* The exit status for a SCSI status byte plus (for CHECK CONDITION) its sense: sg_err_category_sense(). */
int prt_persist_category(int scsi_status, const struct prt_persist_sense *s);
/* sg_get_category_sense_str(): "Reservation conflict", "Unit attention", ... */
const char *prt_persist_category_str(int cat);
/* sg_exit2str(): the text after "iscsi-persist failed: " on a final error. NULL when none is known. */
const char *prt_persist_exit_str(int cat);
/* sg_get_sense_str() for decoded sense: "Fixed format, current; Sense key: ..." and the lines after it. */
void prt_persist_print_sense(FILE *out, const struct prt_persist_sense *s);
/* The PR type and service-action names sg_persist uses. */
const char *prt_persist_type_str(unsigned type);
const char *prt_persist_prin_sa_str(int sa);
const char *prt_persist_prout_sa_str(int sa);
/* "    <leadin> cdb: 5e 00 ..." as sg3_utils prints a CDB at -v. */
void prt_persist_print_cdb(FILE *out, const char *leadin, const uint8_t *cdb, size_t len);

#endif
