/* File-backed LU backend (file:PATH[:SIZE]).
 *
 * Every operation here blocks, so dispatch runs it on the executor's worker threads (ops->blocking) and
 * finishes the command back on the loop thread. FUA and SYNCHRONIZE CACHE become fdatasync(); UNMAP punches
 * holes, which read back as zeros (LBPRZ=1, SBC-3 4.7.4.5).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/tgt_internal.h"

static int file_read(struct tgt_lu *lu, void *dst, uint64_t off, size_t len)
{
    uint8_t *p = dst;

    while (len) {
        ssize_t n = pread(lu->fd, p, len, (off_t)off);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0) {
            /* Past the end of a file that shrank under us: the missing part reads as zeros. */
            memset(p, 0, len);
            return 0;
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int file_write(struct tgt_lu *lu, const void *src, uint64_t off, size_t len)
{
    const uint8_t *p = src;

    while (len) {
        ssize_t n = pwrite(lu->fd, p, len, (off_t)off);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int file_flush(struct tgt_lu *lu)
{
    if (lu->read_only)
        return 0;
    return fdatasync(lu->fd) == 0 ? 0 : -errno;
}

static const uint8_t file__zeros[65536];

/* Write zeros over [off, off+len) in large chunks, so the blocks stay (or become) mapped: WRITE SAME of a zero
 * block with UNMAP=0 (SBC-3 5.42). FALLOC_FL_ZERO_RANGE is not used because the unwritten extents it leaves
 * read back through SEEK_DATA as holes, and GET LBA STATUS would then call mapped blocks deallocated. */
static int file_zero(struct tgt_lu *lu, uint64_t off, uint64_t len)
{
    while (len) {
        size_t n = len > sizeof(file__zeros) ? sizeof(file__zeros) : (size_t)len;
        int rc = file_write(lu, file__zeros, off, n);

        if (rc < 0)
            return rc;
        off += n;
        len -= n;
    }
    return 0;
}

static int file_unmap(struct tgt_lu *lu, uint64_t off, uint64_t len)
{
    if (fallocate(lu->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return 0;
    if (errno != EOPNOTSUPP && errno != ENOSYS)
        return -errno;
    /* The file system cannot punch holes: unmapped blocks must still read as zeros (LBPRZ=1). */
    return file_zero(lu, off, len);
}

static int file_lba_status(struct tgt_lu *lu, uint64_t off, bool *mapped, uint64_t *run)
{
    off_t data = lseek(lu->fd, (off_t)off, SEEK_DATA);
    off_t end;

    if (data < 0) {
        if (errno != ENXIO)
            return -errno;
        /* No data at or after off: the rest of the LU is a hole. */
        *mapped = false;
        *run = lu->size - off;
        return 0;
    }
    if ((uint64_t)data > off) {
        *mapped = false;
        *run = (uint64_t)data - off;
        return 0;
    }
    end = lseek(lu->fd, (off_t)off, SEEK_HOLE);
    if (end < 0)
        return -errno;
    if ((uint64_t)end > lu->size)
        end = (off_t)lu->size;
    *mapped = true;
    *run = (uint64_t)end > off ? (uint64_t)end - off : lu->size - off;
    return 0;
}

static uint64_t file_capacity(const struct tgt_lu *lu)
{
    return lu->size;
}

static void file_close(struct tgt_lu *lu)
{
    if (lu->fd >= 0) {
        if (!lu->read_only)
            (void)fdatasync(lu->fd);
        close(lu->fd);
    }
    lu->fd = -1;
}

static const struct tgt_lu_ops file_ops = {
    .name = "file",
    .blocking = true,
    .map = NULL,
    .read = file_read,
    .write = file_write,
    .flush = file_flush,
    .unmap = file_unmap,
    .zero = file_zero,
    .lba_status = file_lba_status,
    .capacity = file_capacity,
    .close = file_close,
};

int tgt__lu_file_open(struct tgt_lu *lu, const struct tgt_lu_cfg *cfg, char *err, size_t errlen)
{
    int flags = (cfg->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    struct stat st;
    int fd, e;

    if (!cfg->path || !cfg->path[0]) {
        snprintf(err, errlen, "file LU %llu: no path", (unsigned long long)lu->lun);
        return -EINVAL;
    }
    if (cfg->size && !cfg->read_only)
        flags |= O_CREAT;
    fd = open(cfg->path, flags, 0644);
    if (fd < 0) {
        e = errno;
        snprintf(err, errlen, "%s: %s", cfg->path, strerror(e));
        return -e;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", cfg->path);
        close(fd);
        return -EINVAL;
    }
    lu->fd = fd;
    lu->ops = &file_ops; /* from here on lu_free() closes fd */
    if (cfg->size) {
        if ((uint64_t)st.st_size < cfg->size) {
            if (cfg->read_only) {
                snprintf(err, errlen, "%s: smaller than the requested size and read-only", cfg->path);
                return -EINVAL;
            }
            if (ftruncate(fd, (off_t)cfg->size) != 0) {
                e = errno;
                snprintf(err, errlen, "%s: cannot extend to %llu bytes: %s", cfg->path,
                         (unsigned long long)cfg->size, strerror(e));
                return -e;
            }
        }
        lu->size = cfg->size;
    } else {
        lu->size = (uint64_t)st.st_size;
    }
    lu->size &= ~(uint64_t)(lu->block_size - 1);
    lu->path = strdup(cfg->path);
    lu->thin = true;
    return 0;
}
