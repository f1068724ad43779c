/* iSCSI TransportIDs (SPC-4 7.6.4.6): parsing the ones initiators send (SPEC_I_PT, REGISTER AND MOVE) and
 * formatting the ones READ FULL STATUS reports. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/prt_be.h"
#include "prstate/pr_internal.h"
#include "common/prt_hex.h"

#define PR_TID_PROTO_ISCSI 0x5
#define PR_TID_FMT_NAME 0x0      /* format 00b: iSCSI name only */
#define PR_TID_FMT_NAME_ISID 0x1 /* format 01b: "name,i,0xISID" */

int pr__tid_parse(const uint8_t *p, size_t avail, size_t *len, char iname[PR_INAME_MAX], uint8_t isid[6],
                  bool *has_isid, size_t *bad)
{
    *bad = 0;
    if (avail < 4)
        return -EINVAL;
    /* SPC-4 7.6.4.1: PROTOCOL IDENTIFIER in the low nibble of byte 0, FORMAT CODE in bits 7-6. */
    unsigned fmt = p[0] >> 6;
    if ((p[0] & 0x0f) != PR_TID_PROTO_ISCSI || (p[0] & 0x30) != 0 ||
        (fmt != PR_TID_FMT_NAME && fmt != PR_TID_FMT_NAME_ISID))
        return -EINVAL;
    size_t add = prt_get_be16(p + 2);
    /* SPC-4 7.6.4.6: ADDITIONAL LENGTH is a multiple of four and at least 20 (a padded name). */
    if (add < 20 || add % 4 != 0 || 4 + add > avail) {
        *bad = 2;
        return -EINVAL;
    }
    const uint8_t *name = p + 4;
    size_t nlen = strnlen((const char *)name, add);
    if (nlen == add || nlen == 0) {
        *bad = 4;
        return -EINVAL;
    }
    *has_isid = false;
    if (fmt == PR_TID_FMT_NAME_ISID) {
        /* SPC-4 7.6.4.6: "iSCSI name" + ",i,0x" + the ISID in hexadecimal (RFC 7143 4.2.7.1). */
        const char *sep = NULL;
        for (size_t i = 0; i + 5 <= nlen; i++)
            if (memcmp(name + i, ",i,0x", 5) == 0 || memcmp(name + i, ",I,0X", 5) == 0 ||
                memcmp(name + i, ",i,0X", 5) == 0 || memcmp(name + i, ",I,0x", 5) == 0)
                sep = (const char *)name + i;
        if (!sep) {
            *bad = 4;
            return -EINVAL;
        }
        size_t base = (size_t)((const uint8_t *)sep - name);
        const uint8_t *hex = (const uint8_t *)sep + 5;
        if (nlen - base - 5 != 12 || base == 0 || base >= PR_INAME_MAX) {
            *bad = 4 + base;
            return -EINVAL;
        }
        for (int i = 0; i < 6; i++) {
            int hi = prt_hexval(hex[2 * i]), lo = prt_hexval(hex[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                *bad = 4 + base + 5 + 2 * (size_t)i;
                return -EINVAL;
            }
            isid[i] = (uint8_t)(hi << 4 | lo);
        }
        memcpy(iname, name, base);
        iname[base] = '\0';
        *has_isid = true;
    } else {
        if (nlen >= PR_INAME_MAX) {
            *bad = 4;
            return -EINVAL;
        }
        memcpy(iname, name, nlen);
        iname[nlen] = '\0';
        memset(isid, 0, 6);
    }
    *len = 4 + add;
    return 0;
}

size_t pr_tid_format(const struct pr_itn *id, uint8_t *buf, size_t cap)
{
    char s[PR_INAME_MAX + 24];
    int n = snprintf(s, sizeof(s), "%s,i,0x%02x%02x%02x%02x%02x%02x", id->iname, id->isid[0], id->isid[1],
                     id->isid[2], id->isid[3], id->isid[4], id->isid[5]);
    if (n < 0)
        return 0;
    /* SPC-4 7.6.4.6: the name is NUL-terminated and padded with zeros to a multiple of four bytes. */
    size_t add = ((size_t)n + 1 + 3) & ~(size_t)3;
    if (add < 20)
        add = 20;
    size_t len = 4 + add;
    if (len > cap)
        return len;
    memset(buf, 0, len);
    buf[0] = (uint8_t)(PR_TID_FMT_NAME_ISID << 6 | PR_TID_PROTO_ISCSI);
    prt_put_be16(buf + 2, (uint16_t)add);
    memcpy(buf + 4, s, (size_t)n);
    return len;
}
