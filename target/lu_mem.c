/* In-memory LU backend (mem:SIZE).
 *
 * One private anonymous mapping with MAP_NORESERVE: the kernel commits a page only when it is first written,
 * so an idle mem:1G LU costs almost nothing, and reads of never-written blocks see the shared zero page. Reads
 * are zero-copy (the Data-In points into the mapping); UNMAP gives whole pages back with MADV_DONTNEED, after
 * which they read as zeros again (LBPRZ=1, SBC-3 4.7.4.5).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "target/tgt_internal.h"

/* Provisioning is tracked per page in a bitmap rather than asked of the kernel: mincore() also counts pages
 * that were only read (the shared zero page), which were never provisioned. */
static void bits_set(uint64_t *bits, uint64_t first, uint64_t last, bool on)
{
    for (uint64_t p = first; p <= last; p++) {
        if (on)
            bits[p >> 6] |= 1ull << (p & 63);
        else
            bits[p >> 6] &= ~(1ull << (p & 63));
    }
}

static bool bit_get(const uint64_t *bits, uint64_t p)
{
    return bits[p >> 6] & (1ull << (p & 63));
}

static uint8_t *mem_map(struct tgt_lu *lu, uint64_t off, size_t len)
{
    (void)len;
    return lu->mem + off;
}

static int mem_read(struct tgt_lu *lu, void *dst, uint64_t off, size_t len)
{
    memcpy(dst, lu->mem + off, len);
    return 0;
}

static int mem_write(struct tgt_lu *lu, const void *src, uint64_t off, size_t len)
{
    memcpy(lu->mem + off, src, len);
    if (len)
        bits_set(lu->mem_mapped, off / TGT_PHYS_BLOCK, (off + len - 1) / TGT_PHYS_BLOCK, true);
    return 0;
}

static int mem_flush(struct tgt_lu *lu)
{
    (void)lu;
    return 0;
}

static int mem_unmap(struct tgt_lu *lu, uint64_t off, uint64_t len)
{
    const uint64_t page = TGT_PHYS_BLOCK;
    uint64_t end = off + len;
    uint64_t a = (off + page - 1) & ~(page - 1);
    uint64_t b = end & ~(page - 1);

    if (a >= b) {
        memset(lu->mem + off, 0, len);
        return 0;
    }
    /* Partial pages at either end are zeroed and stay provisioned; whole pages go back to the kernel. */
    memset(lu->mem + off, 0, a - off);
    memset(lu->mem + b, 0, end - b);
    if (madvise(lu->mem + a, b - a, MADV_DONTNEED) != 0)
        memset(lu->mem + a, 0, b - a);
    bits_set(lu->mem_mapped, a / page, b / page - 1, false);
    return 0;
}

/* Zero a range and leave it mapped. A page whose bit is clear was never written or was given back, so it
 * already reads as zeros and only its provisioning changes; this keeps WRITE SAME of a zero block over the
 * whole medium (NUMBER OF LOGICAL BLOCKS 0, SBC-3 5.42) from committing memory. */
static int mem_zero(struct tgt_lu *lu, uint64_t off, uint64_t len)
{
    const uint64_t page = TGT_PHYS_BLOCK;
    uint64_t end = off + len;

    while (off < end) {
        uint64_t p = off / page;
        uint64_t stop = (p + 1) * page < end ? (p + 1) * page : end;

        if (bit_get(lu->mem_mapped, p))
            memset(lu->mem + off, 0, stop - off);
        else
            bits_set(lu->mem_mapped, p, p, true);
        off = stop;
    }
    return 0;
}

static int mem_lba_status(struct tgt_lu *lu, uint64_t off, bool *mapped, uint64_t *run)
{
    uint64_t npages = (lu->mem_len + TGT_PHYS_BLOCK - 1) / TGT_PHYS_BLOCK;
    uint64_t p = off / TGT_PHYS_BLOCK;
    bool first = bit_get(lu->mem_mapped, p);
    uint64_t end;

    while (p < npages && bit_get(lu->mem_mapped, p) == first)
        p++;
    end = p * TGT_PHYS_BLOCK;
    if (end > lu->mem_len)
        end = lu->mem_len;
    *mapped = first;
    *run = end - off;
    return 0;
}

static uint64_t mem_capacity(const struct tgt_lu *lu)
{
    return lu->mem_len;
}

static void mem_close(struct tgt_lu *lu)
{
    if (lu->mem)
        munmap(lu->mem, lu->mem_len);
    lu->mem = NULL;
    free(lu->mem_mapped);
    lu->mem_mapped = NULL;
}

static const struct tgt_lu_ops mem_ops = {
    .name = "mem",
    .blocking = false,
    .map = mem_map,
    .read = mem_read,
    .write = mem_write,
    .flush = mem_flush,
    .unmap = mem_unmap,
    .zero = mem_zero,
    .lba_status = mem_lba_status,
    .capacity = mem_capacity,
    .close = mem_close,
};

int tgt__lu_mem_open(struct tgt_lu *lu, const struct tgt_lu_cfg *cfg, char *err, size_t errlen)
{
    uint64_t size = cfg->size & ~(uint64_t)(lu->block_size - 1);
    void *p;

    if (size == 0 || size > (uint64_t)SIZE_MAX / 2) {
        snprintf(err, errlen, "mem LU %llu: size %llu is invalid", (unsigned long long)lu->lun,
                 (unsigned long long)cfg->size);
        return -EINVAL;
    }
    p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        int e = errno;

        snprintf(err, errlen, "mem LU %llu: cannot map %llu bytes: %s", (unsigned long long)lu->lun,
                 (unsigned long long)size, strerror(e));
        return -e;
    }
    lu->mem = p;
    lu->mem_len = (size_t)size;
    lu->mem_mapped = calloc((size_t)((size / TGT_PHYS_BLOCK + 64) / 64), sizeof(uint64_t));
    lu->ops = &mem_ops; /* from here on lu_free() unmaps */
    if (!lu->mem_mapped) {
        snprintf(err, errlen, "mem LU %llu: out of memory", (unsigned long long)lu->lun);
        return -ENOMEM;
    }
    lu->size = size;
    lu->ops = &mem_ops;
    lu->thin = true;
    return 0;
}
