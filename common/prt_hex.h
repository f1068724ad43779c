/* Hex digits, for the text forms of ISIDs, keys, TransportIDs and iSCSI binary values. Header-only. */
#ifndef PRT_HEX_H
#define PRT_HEX_H

/* The value of hex digit c (either case), or -1 when c is not one. */
static inline int prt_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
