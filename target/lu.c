/* The SCSI target device and its logical units.
 *
 * Ownership: the application allocates the server with tgt_server_new() and frees it with tgt_server_free();
 * every LU, nexus and PR state belongs to the server and is freed with it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/tgt_internal.h"

struct tgt_server *tgt_server_new(const struct tgt_server_cfg *cfg, char *err, size_t errlen)
{
    struct tgt_server *srv;

    if (!cfg || !cfg->target_name || !cfg->target_name[0] || strlen(cfg->target_name) >= PR_INAME_MAX) {
        snprintf(err, errlen, "target name is empty or longer than %d bytes", PR_INAME_MAX - 1);
        return NULL;
    }
    srv = calloc(1, sizeof(*srv));
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    srv->target_name = strdup(cfg->target_name);
    srv->n_ports = cfg->n_ports ? cfg->n_ports : 1;
    srv->exec = cfg->exec;
    srv->now_ms = cfg->now_ms;
    srv->now_ctx = cfg->now_ctx;
    srv->itn_tab = pr_itn_tab_new(srv->n_ports);
    if (!srv->target_name || !srv->itn_tab) {
        snprintf(err, errlen, "out of memory");
        tgt_server_free(srv);
        return NULL;
    }
    return srv;
}

/* FNV-1a, 64 bits: a stable hash of the LU's name, so its identity survives restarts. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void lu_identity(struct tgt_lu *lu, const struct tgt_lu_cfg *cfg)
{
    uint64_t h = 0xcbf29ce484222325ull;
    char num[32];
    char real[PATH_MAX];

    h = fnv1a(h, lu->srv->target_name, strlen(lu->srv->target_name) + 1);
    snprintf(num, sizeof(num), "lun%llu", (unsigned long long)lu->lun);
    h = fnv1a(h, num, strlen(num) + 1);
    if (cfg->backend == TGT_BACKEND_FILE && cfg->path) {
        const char *p = realpath(cfg->path, real) ? real : cfg->path;

        h = fnv1a(h, p, strlen(p));
    }
    /* SPC-4 7.8.6.6.3: NAA 3h (locally assigned): the NAA nibble then 60 bits the administrator assigns. */
    prt_put_be64(lu->naa, (h & 0x0fffffffffffffffull) | (3ull << 60));
    /* An administrator-assigned NAA (config identity.naa, checked by the loader to be an 8-byte NAA 2h, 3h or
     * 5h designator) replaces the derived one, so a LU keeps the identity a cluster already knows it by. */
    if (cfg->naa)
        memcpy(lu->naa, cfg->naa, sizeof(lu->naa));
    if (cfg->serial && cfg->serial[0])
        snprintf(lu->serial, sizeof(lu->serial), "%s", cfg->serial);
    else
        snprintf(lu->serial, sizeof(lu->serial), "%016llx", (unsigned long long)h);
    snprintf(lu->vendor, sizeof(lu->vendor), "%-8.8s", cfg->vendor ? cfg->vendor : "PRTARGET");
    snprintf(lu->product, sizeof(lu->product), "%-16.16s", cfg->product ? cfg->product : "prtarget disk");
}

/* Where the APTPL state of this LU lives (design.md: --state-dir, else beside a file LU). */
static int state_path(const struct tgt_lu *lu, const struct tgt_lu_cfg *cfg, char *out, size_t outlen)
{
    int n;

    if (cfg->state_dir && cfg->state_dir[0]) {
        char name[PR_INAME_MAX];
        size_t i;

        for (i = 0; lu->srv->target_name[i] && i + 1 < sizeof(name); i++) {
            char c = lu->srv->target_name[i];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '-';

            name[i] = ok ? c : '_';
        }
        name[i] = '\0';
        n = snprintf(out, outlen, "%s/%s.lun%llu.prstate.json", cfg->state_dir, name,
                     (unsigned long long)lu->lun);
    } else if (cfg->backend == TGT_BACKEND_FILE && cfg->path) {
        n = snprintf(out, outlen, "%s.prstate.json", cfg->path);
    } else {
        return 0;
    }
    return (n < 0 || (size_t)n >= outlen) ? -ENAMETOOLONG : 1;
}

static void lu_free(struct tgt_lu *lu)
{
    if (!lu)
        return;
    if (lu->ops && lu->ops->close)
        lu->ops->close(lu);
    if (lu->pr)
        pr_state_free(lu->pr);
    tgt__ua_free(lu);
    tgt__disk_lu_free(lu);
    pthread_rwlock_destroy(&lu->io_lock);
    free(lu->path);
    free(lu);
}

int tgt_server_add_lu(struct tgt_server *srv, const struct tgt_lu_cfg *cfg, char *err, size_t errlen)
{
    struct tgt_lu *lu;
    uint32_t bs = cfg->block_size ? cfg->block_size : 512;
    char path[PATH_MAX];
    int rc;

    if (bs != 512 && bs != 4096) {
        snprintf(err, errlen, "block size %u: only 512 and 4096 are supported", bs);
        return -EINVAL;
    }
    if (srv->n_lus == srv->cap_lus) {
        unsigned cap = srv->cap_lus ? srv->cap_lus * 2 : 4;
        struct tgt_lu **l = realloc(srv->lus, cap * sizeof(*l));

        if (!l) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        srv->lus = l;
        srv->cap_lus = cap;
    }
    lu = calloc(1, sizeof(*lu));
    if (!lu) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    lu->srv = srv;
    lu->lun = srv->n_lus;
    lu->fd = -1;
    lu->block_size = bs;
    lu->bs_shift = bs == 4096 ? 12 : 9;
    lu->read_only = cfg->read_only;
    pthread_rwlock_init(&lu->io_lock, NULL);
    tgt__mode_defaults(&lu->mode);

    if (cfg->backend == TGT_BACKEND_MEM)
        rc = tgt__lu_mem_open(lu, cfg, err, errlen);
    else if (cfg->backend == TGT_BACKEND_FILE)
        rc = tgt__lu_file_open(lu, cfg, err, errlen);
    else {
        snprintf(err, errlen, "unknown backend %d", (int)cfg->backend);
        rc = -EINVAL;
    }
    if (rc < 0) {
        lu_free(lu);
        return rc;
    }
    lu->nblocks = lu->size >> lu->bs_shift;
    if (lu->nblocks == 0) {
        snprintf(err, errlen, "LU %u: size %llu is smaller than one %u-byte block", srv->n_lus,
                 (unsigned long long)lu->size, bs);
        lu_free(lu);
        return -EINVAL;
    }
    lu->size = lu->nblocks << lu->bs_shift;
    lu_identity(lu, cfg);
    rc = tgt__disk_lu_init(lu, cfg, err, errlen); /* removable medium, SANITIZE (media.c) */
    if (rc < 0) {
        lu_free(lu);
        return rc;
    }

    lu->pr = pr_state_new(srv->itn_tab);
    if (!lu->pr) {
        snprintf(err, errlen, "out of memory");
        lu_free(lu);
        return -ENOMEM;
    }
    rc = state_path(lu, cfg, path, sizeof(path));
    if (rc < 0) {
        snprintf(err, errlen, "state file path for LU %u is too long", srv->n_lus);
        lu_free(lu);
        return rc;
    }
    if (rc == 1) {
        /* SPC-4 5.13.4: the state file names the LU it belongs to (its NAA designator), so another LU's file
         * is refused instead of handing that LU's registrations to this one. */
        char lu_id[24];
        snprintf(lu_id, sizeof(lu_id), "naa.%016llx", (unsigned long long)prt_get_be64(lu->naa));
        rc = pr_state_set_lu_id(lu->pr, lu_id);
        if (rc == 0)
            rc = pr_state_attach_file(lu->pr, path, err, errlen);
        else
            snprintf(err, errlen, "out of memory");
        if (rc < 0) {
            lu_free(lu);
            return rc;
        }
    }

    /* SAM-5 5.14 / SPC-4 6.27: nexuses that already exist see the new LU come up, and every LU reports that
     * the LUN inventory changed. */
    if (pr_itn_count(srv->itn_tab) > 0) {
        for (unsigned i = 0; i < srv->n_lus; i++)
            tgt__ua_raise_all(srv->lus[i], 0x3f, 0x0e, PR_ITN_NONE);
        tgt__ua_raise_all(lu, 0x29, 0x00, PR_ITN_NONE);
    }
    srv->lus[srv->n_lus++] = lu;
    return 0;
}

unsigned tgt_server_lu_count(const struct tgt_server *srv)
{
    return srv->n_lus;
}

struct tgt_lu *tgt_server_lu(struct tgt_server *srv, uint64_t lun)
{
    return lun < srv->n_lus ? srv->lus[lun] : NULL;
}

struct pr_itn_tab *tgt_server_itn_tab(struct tgt_server *srv)
{
    return srv->itn_tab;
}

int tgt_server_flush(struct tgt_server *srv)
{
    int rc = 0;

    for (unsigned i = 0; i < srv->n_lus; i++) {
        struct tgt_lu *lu = srv->lus[i];
        int r = lu->ops->flush ? lu->ops->flush(lu) : 0;

        if (r < 0 && rc == 0)
            rc = r;
    }
    return rc;
}

void tgt_server_free(struct tgt_server *srv)
{
    if (!srv)
        return;
    for (unsigned i = 0; i < srv->n_lus; i++)
        lu_free(srv->lus[i]);
    free(srv->lus);
    for (uint32_t i = 0; i < srv->nexus_cap; i++)
        free(srv->nexus[i]);
    free(srv->nexus);
    if (srv->itn_tab)
        pr_itn_tab_free(srv->itn_tab);
    free(srv->target_name);
    free(srv);
}

struct pr_state *tgt_lu_pr(struct tgt_lu *lu)
{
    return lu->pr;
}

struct tgt_server *tgt_lu_server(struct tgt_lu *lu)
{
    return lu->srv;
}

uint64_t tgt_lu_number(const struct tgt_lu *lu)
{
    return lu->lun;
}
