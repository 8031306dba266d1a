#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Frames forged by A (10.10.0.1) for B (10.10.0.2), sent on IFACE.

  ct_forge.py IFACE syn SPORT DPORT
      a TCP SYN from A:SPORT to B:DPORT
  ct_forge.py IFACE icmperr TYPE CODE SPORT DPORT [rev]
      an ICMP error from A to B quoting a SYN from A:SPORT to B:DPORT
      (with rev: from B:DPORT to A:SPORT), then bytes of A's choosing
"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from craft import csum  # noqa: E402

SM, DM = bytes.fromhex("020000000a01"), bytes.fromhex("020000000a02")
A, B = socket.inet_aton("10.10.0.1"), socket.inet_aton("10.10.0.2")


def ip4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64,
                    proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def syn(src, dst, sp, dp):
    hdr = struct.pack("!HHIIBBHHH", sp, dp, 0x1000, 0, 5 << 4, 0x02, 64240,
                      0, 0)
    c = csum(src + dst + struct.pack("!xBH", 6, len(hdr)) + hdr)
    return ip4(src, dst, 6, hdr[:16] + struct.pack("!H", c) + hdr[18:])


def main():
    iface, cmd = sys.argv[1], sys.argv[2]
    if cmd == "syn":
        frame = syn(A, B, int(sys.argv[3]), int(sys.argv[4]))
    else:
        t, c, sp, dp = map(int, sys.argv[3:7])
        rev = sys.argv[7:] == ["rev"]
        quote = (syn(B, A, dp, sp) if rev else syn(A, B, sp, dp))[:28]
        gw = A if t == 5 else b"\0" * 4      # a redirect's new gateway
        icmp = struct.pack("!BBH", t, c, 0) + gw + quote + b"forged" * 8
        icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
        frame = ip4(A, B, 1, icmp)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.send(DM + SM + b"\x08\x00" + frame)


if __name__ == "__main__":
    main()
