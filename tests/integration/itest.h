/* Shared helpers of the integration tests: start a real prtarget on 127.0.0.1 with an ephemeral port, wait for
 * its readiness lines, stop it and collect its exit status; temporary directories; libiscsi logins; and a tiny
 * raw iSCSI initiator (itest_raw_*) for what libiscsi cannot do (data digests, small MaxRecvDataSegmentLength,
 * fixed ISIDs, deliberately malformed PDUs).
 *
 * Every test program starts its own target, so the tests are independent and may run in parallel. */
#ifndef ITEST_H
#define ITEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ITEST_MAX_READY 64
#define ITEST_IQN "iqn.2026-11.org.prtarget:disk"
#define ITEST_INAME_A "iqn.2026-11.org.prtarget.test:initiator-a"
#define ITEST_INAME_B "iqn.2026-11.org.prtarget.test:initiator-b"

struct itest_target {
    pid_t pid;
    int out_fd;                               /* prtarget's stdout (readiness lines) */
    char url[ITEST_MAX_READY][256];           /* "iscsi://127.0.0.1:41234/iqn.../0", as printed */
    char portal[ITEST_MAX_READY][64];         /* "127.0.0.1:41234" of each ready line */
    unsigned n_ready;
};

/* The prtarget binary under test (env PRTARGET overrides the build's path). */
const char *itest_prtarget_path(void);

/* Start prtarget with args (NULL-terminated; "--listen 127.0.0.1:0" is added when args have no --listen) and
 * wait up to 20 s for all its readiness lines (portals x LUNs). Returns 0, or -1 after printing why. */
int itest_start(struct itest_target *t, const char *const *args);
/* The same, with prtarget's stderr (its log) going to the file stderr_path (NULL: inherited). */
int itest_start_logged(struct itest_target *t, const char *const *args, const char *stderr_path);
/* Send sig and wait up to 20 s for the exit. Returns the exit code, 128+signal if killed by one, or -1 on a
 * timeout (the process is then SIGKILLed). */
int itest_stop(struct itest_target *t, int sig);
/* Port of ready line i. */
int itest_port(const struct itest_target *t, unsigned i);

/* Run prtarget to completion with args, capturing stdout and stderr (NUL-terminated, truncated to cap).
 * Returns the exit code, or -1. Gives up (SIGKILL) after 20 s. */
int itest_run(const char *const *args, char *out, size_t outcap, char *err, size_t errcap);

/* A fresh directory under $TMPDIR (or /tmp), removed recursively by itest_rmdir(). */
int itest_mkdtemp(char *path, size_t cap);
void itest_rmdir(const char *path);

/* VmRSS of pid in KiB, or -1. */
long itest_rss_kib(pid_t pid);

/* Fill buf with a deterministic pattern derived from seed. */
void itest_pattern(uint8_t *buf, size_t len, uint64_t seed);
/* xorshift64* */
uint64_t itest_rand(uint64_t *state);

struct iscsi_context;
/* A logged-in libiscsi session to url with initiator name iname and header digest hd (enum
 * iscsi_header_digest). Returns NULL after printing the libiscsi error. *lun receives the LUN of the url. */
struct iscsi_context *itest_login(const char *url, const char *iname, int hd, int *lun);
void itest_logout(struct iscsi_context *iscsi);
/* Send TEST UNIT READY until no unit attention is reported (itest_login does it for the url's LUN). */
void itest_clear_ua(struct iscsi_context *iscsi, int lun);

/* ---- raw initiator ------------------------------------------------------------------------------------ */

struct itest_raw {
    int fd;
    bool hd, dd;              /* digests in effect (after login) */
    uint32_t cmdsn, exp_statsn, itt;
    uint32_t target_mrdsl;    /* the target's MaxRecvDataSegmentLength: our Data-Out segment limit */
    uint32_t max_burst, first_burst;
    bool initial_r2t, immediate_data;
    uint16_t tsih;
    uint8_t isid[6];
};

struct itest_pdu {
    uint8_t bhs[48];
    uint8_t *data;            /* malloc'd, data_len bytes (NULL when 0) */
    uint32_t data_len;
};

/* TCP connect to 127.0.0.1:port with 10 s socket timeouts. Returns 0 or -1. */
int itest_raw_connect(struct itest_raw *r, int port);
void itest_raw_close(struct itest_raw *r);
/* Send a PDU (digests as r->hd/r->dd say; data padded to 4). Returns 0 or -1. */
int itest_raw_send(struct itest_raw *r, const uint8_t bhs[48], const void *data, uint32_t len);
/* Send bytes as they are. */
int itest_raw_send_bytes(struct itest_raw *r, const void *buf, size_t len);
/* Receive one PDU, checking digests. Returns 0, -1 on error/EOF/timeout, -2 on a digest mismatch. */
int itest_raw_recv(struct itest_raw *r, struct itest_pdu *p);
void itest_pdu_free(struct itest_pdu *p);
/* True when the target closed the connection (EOF or reset) within timeout_ms, reading and discarding any
 * PDUs that arrive before (they are returned in *saw_opcode_mask as bits 1 << (opcode & 0x3f)... low 64). */
bool itest_raw_wait_closed(struct itest_raw *r, int timeout_ms, uint64_t *saw_opcode_mask);

/* Login to a normal session in one operational-stage exchange (no security stage). extra_keys is a
 * "Key=Value\0Key=Value\0" block (may be NULL) added after the mandatory keys. Digests requested with
 * want_hd/want_dd take effect after the final response. Returns 0, or -1 (status printed). */
int itest_raw_login(struct itest_raw *r, const char *iname, const char *target, bool want_hd, bool want_dd,
                    const char *extra_keys, size_t extra_len);
/* Run one SCSI command: for a write, data_out (len bytes) goes out as immediate/unsolicited data and
 * Data-Out PDUs answering R2Ts, each at most target_mrdsl; for a read, Data-In is gathered into data_in
 * (cap bytes). Returns the SCSI status (>= 0), or -1 on a protocol failure. *din_pdus counts Data-In PDUs and
 * *r2ts the R2Ts received (either may be NULL). */
int itest_raw_scsi(struct itest_raw *r, const uint8_t *cdb, unsigned cdb_len, uint32_t lun, const void *data_out,
                   uint32_t out_len, void *data_in, uint32_t in_len, unsigned *din_pdus, unsigned *r2ts);
/* Logout (close the session). Returns 0 or -1. */
int itest_raw_logout(struct itest_raw *r);

/* CRC32C as iSCSI uses it (RFC 7143 13.1; Castagnoli polynomial), computed independently of the target's. */
uint32_t itest_crc32c(const void *data, size_t len);

#endif
