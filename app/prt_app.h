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
#define PRT_MAX_PORTALS 16
#define PRT_MAX_LUNS 64
#define PRT_ERR_LEN 256

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

/* The running daemon. Lives on main()'s stack; owns the three layer objects it creates. */
struct prt_app {
    struct prt_config cfg;
    struct prt_log log;
    struct net_loop *net;
    struct tgt_server *tgt;
    struct isc_server *isc;
    char bound[PRT_MAX_PORTALS][64]; /* each portal as actually bound ("127.0.0.1:41234") */
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

void prt_log(const struct prt_log *log, enum prt_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A finished message (from a layer that formats its own, such as net_cfg.log). */
void prt_log_str(const struct prt_log *log, enum prt_log_level level, const char *msg);

#endif
