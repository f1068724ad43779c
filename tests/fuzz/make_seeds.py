#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/seed-*).

Run from anywhere: python3 tests/fuzz/make_seeds.py. The output is deterministic, so rerunning it leaves the
committed seeds unchanged. Inputs found by fuzzing (crash-*, regress-*) live beside the seeds and are not
touched here.

fuzz_rx input:   flags(1) seed(4) stream     flags: 1 HeaderDigest, 2 DataDigest, 4 zero copy,
                                             8 repair digests, high nibble = limit index
fuzz_keys input: flags(1) text               flags: 1 discovery, 2 FFP, 4 CRC32C allowed, 8 mutual CHAP,
                                             16 run CHAP
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# CRC32C (Castagnoli), reflected, as RFC 7143 13.1; digest bytes least significant first.
_T = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    _T.append(c)


def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c = (c >> 8) ^ _T[(c ^ x) & 0xFF]
    return c ^ 0xFFFFFFFF


def pdu(opcode, flags=0, data=b"", ahs=b"", itt=1, fields=b"", hd=False, dd=False, immediate=False):
    bhs = bytearray(48)
    bhs[0] = opcode | (0x40 if immediate else 0)
    bhs[1] = flags
    assert len(ahs) % 4 == 0
    bhs[4] = len(ahs) // 4
    bhs[5:8] = len(data).to_bytes(3, "big")
    bhs[16:20] = itt.to_bytes(4, "big")
    bhs[20:20 + len(fields)] = fields
    out = bytes(bhs) + ahs
    if hd:
        out += struct.pack("<I", crc32c(out))
    if data:
        padded = data + b"\0" * ((4 - len(data) % 4) % 4)
        out += padded
        if dd:
            out += struct.pack("<I", crc32c(padded))
    return out


def keys(*pairs):
    return b"".join(k.encode() + b"=" + v.encode() + b"\0" for k, v in pairs)


LOGIN_KEYS = keys(("InitiatorName", "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test"),
                  ("SessionType", "Normal"), ("TargetName", "iqn.2026-11.org.prtarget:disk"),
                  ("AuthMethod", "None"))


def rx_seeds():
    s = {}
    lim8k = 0x70
    lim256k = 0xC0
    s["login"] = (lim8k, pdu(0x03, 0x87, LOGIN_KEYS, immediate=True))
    s["read10"] = (lim256k, pdu(0x01, 0xC1, fields=struct.pack(">IIII", 4096, 1, 1, 0x28000000)))
    write = pdu(0x01, 0xA1, bytes(range(256)) * 2, fields=struct.pack(">I", 8192))
    dout = b"".join(pdu(0x05, 0x80 if i == 3 else 0, bytes([i]) * 1536, itt=1) for i in range(4))
    s["write_immediate_and_data_out"] = (lim256k, write + dout)
    s["nop_ping_padding"] = (lim8k, pdu(0x00, 0x80, b"hello", itt=0xFFFFFFFF, immediate=True))
    s["ext_cdb_ahs"] = (lim256k, pdu(0x01, 0xC1, ahs=b"\x00\x05\x01\x00" + bytes(8)))
    s["max_ahs"] = (lim256k, pdu(0x01, 0xC1, ahs=bytes(1020)))
    s["too_long"] = (lim8k, pdu(0x05, 0x80, bytes(9000)))
    s["dsl_24bit_max"] = (0xF0, bytes([0x05, 0x80, 0, 0, 0, 0xFF, 0xFF, 0xFF]) + bytes(40))
    s["truncated_bhs"] = (lim8k, pdu(0x00, 0x80)[:30])
    s["truncated_data"] = (lim8k, pdu(0x04, 0x80, keys(("SendTargets", "All")))[:55])
    s["empty"] = (0, b"")
    # Digests on: the harness repairs them (flag 8) or the stream carries its own.
    s["digests_repaired"] = (lim256k | 0x0B, write + dout)
    s["digests_correct"] = (lim256k | 0x03, pdu(0x01, 0xA1, b"x" * 10, hd=True, dd=True)
                            + pdu(0x00, 0x80, b"", hd=True, dd=True))
    bad_hd = bytearray(pdu(0x00, 0x80, b"abc", hd=True))
    bad_hd[48] ^= 1
    s["header_digest_bad"] = (lim8k | 0x01, bytes(bad_hd))
    bad_dd = bytearray(pdu(0x00, 0x80, b"abcdefg", dd=True))
    bad_dd[50] ^= 0x20
    s["data_digest_bad"] = (lim8k | 0x02, bytes(bad_dd) + pdu(0x00, 0x80, b"ok", dd=True))
    s["zero_copy_mixed"] = (lim256k | 0x04, write + pdu(0x00, 0x80) + dout)
    s["header_digest_only"] = (lim8k | 0x09, pdu(0x06, 0x80) + pdu(0x04, 0x80, keys(("SendTargets", "All"))))
    s["data_digest_only"] = (lim8k | 0x0A, pdu(0x04, 0x80, keys(("SendTargets", "All"))) + pdu(0x00, 0x80))
    s["tiny_limit"] = (0x10, pdu(0x00, 0x80, b"a") + pdu(0x00, 0x80, b"ab"))
    s["zero_limit"] = (0x00, pdu(0x00, 0x80) + pdu(0x00, 0x80, b"a"))
    many = b"".join(pdu(0x00, 0x80, bytes([i]) * i, itt=i) for i in range(40))
    s["forty_nops"] = (lim256k, many)
    s["forty_nops_all_digests"] = (lim256k | 0x0F, many)
    s["snack_and_tmf"] = (lim8k, pdu(0x10, 0x80) + pdu(0x02, 0x81))
    s["logout"] = (lim8k, pdu(0x06, 0x80, immediate=True))
    s["text_continue"] = (lim8k, pdu(0x04, 0x40, b"SendTar") + pdu(0x04, 0x80, b"gets=All\0"))
    s["garbage"] = (0x7F, bytes((i * 97 + 13) & 0xFF for i in range(400)))
    out = {}
    for i, (name, (flags, stream)) in enumerate(sorted(s.items())):
        seed = struct.pack("<I", zlib.crc32(name.encode()) or 1)
        out[name] = bytes([flags]) + seed + stream
    return out


def keys_seeds():
    s = {}
    op = keys(("HeaderDigest", "CRC32C,None"), ("DataDigest", "CRC32C,None"),
              ("DefaultTime2Wait", "2"), ("DefaultTime2Retain", "0"), ("IFMarker", "No"), ("OFMarker", "No"),
              ("ErrorRecoveryLevel", "0"), ("InitialR2T", "No"), ("ImmediateData", "Yes"),
              ("MaxBurstLength", "262144"), ("FirstBurstLength", "262144"), ("MaxOutstandingR2T", "1"),
              ("MaxConnections", "1"), ("DataPDUInOrder", "Yes"), ("DataSequenceInOrder", "Yes"),
              ("MaxRecvDataSegmentLength", "262144"))
    s["libiscsi_login"] = (0x04, LOGIN_KEYS + op)
    s["open_iscsi_login"] = (0x04, keys(("InitiatorName", "iqn.2004-10.com.ubuntu:01:abc"),
                                        ("InitiatorAlias", "host"), ("SessionType", "Normal"),
                                        ("TargetName", "iqn.2026-11.org.prtarget:disk"),
                                        ("AuthMethod", "None")) + op + keys(("IFMarkInt", "2048~65535"),
                                                                            ("OFMarkInt", "2048~65535")))
    s["no_crc_allowed"] = (0x00, op)
    s["discovery"] = (0x05, keys(("InitiatorName", "iqn.x"), ("SessionType", "Discovery"),
                                 ("SendTargets", "All")) + op)
    s["ffp_text"] = (0x06, keys(("MaxRecvDataSegmentLength", "65536"), ("MaxBurstLength", "512"),
                                ("SendTargets", "iqn.2026-11.org.prtarget:disk")))
    s["hex_numbers"] = (0x04, keys(("MaxBurstLength", "0x40000"), ("FirstBurstLength", "0X200"),
                                   ("DefaultTime2Wait", "0xE10")))
    s["out_of_range"] = (0x04, keys(("MaxBurstLength", "511"), ("FirstBurstLength", "16777216"),
                                    ("MaxOutstandingR2T", "0"), ("ErrorRecoveryLevel", "3"),
                                    ("DefaultTime2Retain", "99999999999"), ("MaxConnections", "-1")))
    s["bad_booleans"] = (0x04, keys(("InitialR2T", "yes"), ("ImmediateData", "1"), ("DataPDUInOrder", "")))
    s["digest_lists"] = (0x04, keys(("HeaderDigest", "MD5,CRC32C"), ("DataDigest", "CRC32C,,None")))
    s["unknown_and_private"] = (0x04, keys(("X-com.example.Foo", "1"), ("X#NodeArchitecture", "Linux/6.1"),
                                           ("Bogus", "x"), ("RDMAExtensions", "Yes"),
                                           ("TaskReporting", "ResponseFence,RFC3720"),
                                           ("iSCSIProtocolLevel", "2")))
    s["duplicates"] = (0x04, keys(("MaxBurstLength", "65536"), ("MaxBurstLength", "512"),
                                  ("X-dup", "1"), ("X-dup", "2")))
    s["response_constants"] = (0x04, keys(("MaxBurstLength", "Reject"), ("InitialR2T", "Irrelevant"),
                                          ("HeaderDigest", "NotUnderstood")))
    s["first_burst_over_max"] = (0x04, keys(("FirstBurstLength", "262144"), ("MaxBurstLength", "4096")))
    s["chap"] = (0x14, keys(("AuthMethod", "CHAP,None"), ("CHAP_A", "5"), ("CHAP_N", "iqn.2026-11.org.fuzz:init"),
                            ("CHAP_R", "0x" + "00" * 16)))
    s["chap_mutual"] = (0x1C, keys(("CHAP_A", "7,5"), ("CHAP_N", "iqn.2026-11.org.fuzz:init"),
                                   ("CHAP_R", "0b" + "A" * 22 + "=="), ("CHAP_I", "7"),
                                   ("CHAP_C", "0x" + "ab" * 32)))
    s["chap_reflect"] = (0x1C, keys(("CHAP_A", "5"), ("CHAP_N", "iqn.2026-11.org.fuzz:init"),
                                    ("CHAP_R", "0x" + "11" * 16), ("CHAP_I", "11"),
                                    ("CHAP_C", "0x" + "".join("%02x" % ((i * 37 + 11) & 0xFF)
                                                              for i in range(1, 17)))))
    s["chap_no_md5"] = (0x10, keys(("CHAP_A", "6,7,0x80")))
    s["chap_out_of_order"] = (0x10, keys(("CHAP_R", "0x00"), ("CHAP_A", "5")))
    s["no_terminating_nul"] = (0x04, b"MaxBurstLength=512\0FirstBurstLength=512")
    s["no_equals"] = (0x04, b"JustAKey\0=novalue\0MaxBurstLength=1024\0")
    s["non_ascii"] = (0x04, "K\u00e9y=1\0InitiatorAlias=caf\u00e9\0".encode())
    s["control_chars"] = (0x04, b"InitiatorAlias=a\x01b\0Key\x7f=1\0")
    s["long_key"] = (0x04, b"K" * 64 + b"=1\0" + b"K" * 63 + b"=1\0")
    s["long_value"] = (0x04, b"InitiatorAlias=" + b"v" * 300 + b"\0" + b"CHAP_C=0x" + b"f" * 8200 + b"\0")
    s["stray_nuls"] = (0x04, b"\0\0MaxBurstLength=512\0\0\0")
    s["empty"] = (0x00, b"")
    s["only_flags_all"] = (0xFF, b"")
    s["long_list"] = (0x04, b"HeaderDigest=" + b",".join([b"None"] * 100) + b"\0")
    return s


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, blob in seeds.items():
        if isinstance(blob, tuple):
            blob = bytes([blob[0]]) + blob[1]
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(blob)
    return len(seeds)


if __name__ == "__main__":
    n = write("fuzz_rx", rx_seeds())
    m = write("fuzz_keys", keys_seeds())
    print("wrote %d fuzz_rx and %d fuzz_keys seeds" % (n, m))
