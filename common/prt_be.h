/* Big-endian field access for wire formats (CDBs, parameter data, iSCSI PDUs).
 * Header-only; every layer may include it. */
#ifndef PRT_BE_H
#define PRT_BE_H

#include <stdint.h>

static inline uint16_t prt_get_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t prt_get_be24(const uint8_t *p)
{
    return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}
static inline uint32_t prt_get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t prt_get_be64(const uint8_t *p)
{
    return ((uint64_t)prt_get_be32(p) << 32) | prt_get_be32(p + 4);
}
static inline void prt_put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void prt_put_be24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16); p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)v;
}
static inline void prt_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void prt_put_be64(uint8_t *p, uint64_t v)
{
    prt_put_be32(p, (uint32_t)(v >> 32)); prt_put_be32(p + 4, (uint32_t)v);
}

#define PRT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
