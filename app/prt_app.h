/* prtarget, the daemon: configuration from the command line, logging, and the application object that ties
 * the layers together. No mutable globals: one struct prt_app is created in main() and passed around. */
#ifndef PRT_APP_H
#define PRT_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PRT_VERSION "0.1.0"
#define PRT_DEFAULT_LISTEN "127.0.0.1:3260"
#define PRT_DEFAULT_TARGET "iqn.2026-11.org.prtarget:disk"
#define PRT_DEFAULT_LUN "mem:1G"
/* The longest emulated SANITIZE duration a LU accepts (",sanitize=TIME", "sanitize_seconds"): one day. */
#define PRT_SANITIZE_MAX_MS (86400ull * 1000u)
#define PRT_MAX_PORTALS 16  /* listening sockets of the whole process, and portals of one target */
#define PRT_MAX_TARGETS 16
#define PRT_MAX_LUNS 64
#define PRT_ERR_LEN 256
#define PRT_MAX_ACL 64      /* initiator names in an access list */
#define PRT_CHAP_MAX 255    /* longest CHAP name or secret accepted */

/* Exit codes of the command-line contract (design.md). */
#define PRT_EXIT_OK 0
#define PRT_EXIT_RUNTIME 1 /* the environment failed us: a port in use, out of memory */
#define PRT_EXIT_USAGE 2   /* a bad flag, config or state file */

enum prt_log_level { PRT_LOG_ERROR = 0, PRT_LOG_WARN, PRT_LOG_INFO, PRT_LOG_DEBUG };

/* One --lun SPEC: mem:SIZE | file:PATH | file:PATH:SIZE, each optionally followed by ",ro" and ",bs=4096". */
struct prt_lun_spec {
    bool file;
    char path[4096];
    uint64_t size;       /* bytes; 0 for file:PATH = the file's size */
    uint32_t block_size; /* 512 or 4096 */
    bool read_only;
    const char *spec;    /* the argument as given, for messages (points into argv) */
    /* From a config file (app/prt_config.c); NULL/false = the defaults. */
    const char *vendor, *product, *serial;
    bool has_naa;
    uint8_t naa[8];
    bool removable;
    bool sanitize;       /* the LU accepts SANITIZE (",sanitize") */
    uint64_t sanitize_ms; /* emulated SANITIZE duration (",sanitize=10s"); 0 = as long as the erase takes */
    const char *pr_profile;
};

struct prt_config {
    const char *listen[PRT_MAX_PORTALS];
    unsigned n_listen;
    const char *target;
    struct prt_lun_spec luns[PRT_MAX_LUNS];
    unsigned n_luns;
    const char *state_dir;
    const char *control;
    const char *config_file;
    const char *event_log;   /* --event-log FILE */
    const char *pr_profile;  /* --pr-profile NAME: every LU (overrides the config file) */
    /* CHAP (RFC 7143 12.1.3) and the initiator access list, from targets[0].chap/.acl or the flags below;
     * prt_config_apply() resolves them (docs/config.md). NULL / 0: no CHAP, every initiator. */
    const char *chap_user, *chap_secret, *chap_mutual_user, *chap_mutual_secret;
    const char *acl[PRT_MAX_ACL];
    unsigned n_acl;
    const char *chap_arg, *chap_mutual_arg, *chap_file; /* --chap, --chap-mutual, --chap-file as given */
    char chap_text[4][PRT_CHAP_MAX + 1]; /* storage of names and secrets split from flags, a file or env */
    void *config_owned;      /* the parsed config file the strings above may point into (prt_config.c) */
    /* targets[1..] of the config file, each described by the target fields above (target, listen, luns,
     * state_dir, chap_*, acl); the flags never touch them (docs/config.md). Owned: prt_config_release(). */
    struct prt_config *more;
    unsigned n_more;
    /* Initial ALUA states from targets[0].alua (docs/config.md), in file order: target port group id (= TPGT)
     * and enum tgt_alua_state. prt_config_apply() checks every tpg against the portals in use. */
    struct { uint16_t tpg; uint8_t state; } alua[PRT_MAX_PORTALS];
    unsigned n_alua;
    enum prt_log_level log_level;
    bool log_json;
};

struct prt_log {
    enum prt_log_level level;
    bool json;
};

struct net_loop;
struct tgt_server;
struct isc_server;
struct prt_tools;

/* The running daemon. Lives on main()'s stack; owns the three layer objects it creates. */
struct prt_app {
    struct prt_config cfg;
    struct prt_log log;
    struct net_loop *net;
    struct tgt_server *tgt;          /* the first (or only) target */
    struct isc_server *isc;
    char bound[PRT_MAX_PORTALS][64]; /* each listener as actually bound ("127.0.0.1:41234"); the first
                                      * cfg.n_listen are the first target's portals, in order */
    unsigned n_bound;
    struct tgt_server *tgt_more[PRT_MAX_TARGETS]; /* cfg.more[i]'s SCSI target device */
    /* cfg.more[i].listen[j] is the listener bound[more_listener[i][j]] */
    uint8_t more_listener[PRT_MAX_TARGETS][PRT_MAX_PORTALS];
    struct prt_tools *tools;         /* control socket and event log (app/prt_control.c) */
};

enum prt_cli_result {
    PRT_CLI_RUN = 0,  /* configuration complete: start the target */
    PRT_CLI_EXIT,     /* --help or --version was printed: exit 0 */
    PRT_CLI_ERROR,    /* err holds one line naming the flag and the problem: exit 2 */
};

/* Parse argv into cfg (defaults applied). Help and version text go to out. */
enum prt_cli_result prt_cli_parse(int argc, char **argv, struct prt_config *cfg, FILE *out, char *err,
                                  size_t errlen);
/* "512", "4K", "1G", "2T" (binary multiples). Returns 0 or -EINVAL (also on overflow or a zero size). */
int prt_parse_size(const char *s, uint64_t *out);
/* Parse one --lun SPEC. Returns 0 or -EINVAL with the problem in err. */
int prt_parse_lun(const char *spec, struct prt_lun_spec *lun, char *err, size_t errlen);

/* Apply the --config file to cfg: flags given in argv win over the file (docs/config.md). Returns 0, or -errno
 * with "FILE: json.path: problem" in err (exit 2). Frees nothing; prt_config_release() does. */
int prt_config_apply(struct prt_config *cfg, int argc, char **argv, char *err, size_t errlen);
/* Load and check a config file into cfg as if no flag had been given. Same errors. */
int prt_config_load(const char *path, struct prt_config *cfg, char *err, size_t errlen);
void prt_config_release(struct prt_config *cfg);
/* Once the portals listen: PR profiles, the event log and the control socket (app/prt_control.c). Returns 0 or
 * an exit code, with the reason logged. prt_tools_stop(app->tools) undoes it. */
struct prt_app;
int prt_app_tools_start(struct prt_app *app);
void prt_tools_stop(struct prt_tools *t);

void prt_log(const struct prt_log *log, enum prt_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A finished message (from a layer that formats its own, such as net_cfg.log). */
void prt_log_str(const struct prt_log *log, enum prt_log_level level, const char *msg);

#endif
