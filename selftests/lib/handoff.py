#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Send forged frames into a process NF's return path, as if its process
had passed them: struct tdm_handoff (include/tandem/tandem.h) and an
IPv4 UDP datagram, out of DEV (tdmnf<id>b) with a packet socket; or,
out of tdmnf<id>a, into its receive side.

  handoff.py DEV --nf ID --chain ID --pos N --ifindex I --dmac MAC
             --src IP --dst IP --dport P [--magic X] [--count N]
"""
import argparse
import os
import re
import socket
import struct
import subprocess

from craft import csum

MAGIC = 0x74646D31  # TDM_HANDOFF_MAGIC, "tdm1"


def meta_len():
    """sizeof(struct tdm_meta), from the BTF of the built entry object:
    the struct grows with the parser, and a stale number here made every
    frame a forgery."""
    top = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    obj = os.path.join(top, "build", "bpf", "entry.bpf.o")
    out = subprocess.run(["bpftool", "btf", "dump", "file", obj],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"STRUCT 'tdm_meta' size=(\d+)", out)
    if not m:
        raise SystemExit("handoff.py: no struct tdm_meta in " + obj)
    return int(m.group(1))


META_LEN = meta_len()


def frame(a, seq):
    payload = struct.pack("!Q", seq) + b"forged"
    udp = struct.pack("!HHHH", 40000, a.dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), seq & 0xFFFF, 0,
                     64, socket.IPPROTO_UDP, 0, socket.inet_aton(a.src),
                     socket.inet_aton(a.dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = bytes.fromhex(a.dmac.replace(":", "")) + b"\x02\0\0\0\0\x99" + \
        struct.pack("!H", 0x0800)
    # struct tdm_meta: flags, pkt_len, ifindex, then zeros
    # (host byte order, as the datapath writes it)
    meta = struct.pack("=III", 1 << 1, 14 + len(ip) + len(udp), a.ifindex)
    meta += b"\0" * (META_LEN - len(meta))
    # ran[4]: every NF, as if the packet had run all before the NF
    hdr = struct.pack("=IIII", a.magic, a.nf, a.chain, a.pos) + \
        b"\xff" * 16 + meta
    return hdr + eth + ip + udp


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dev")
    for k in ("--nf", "--chain", "--pos", "--ifindex", "--dport"):
        p.add_argument(k, type=int, required=True)
    p.add_argument("--dmac", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--magic", type=lambda s: int(s, 0), default=MAGIC)
    p.add_argument("--count", type=int, default=1)
    a = p.parse_args()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    # straight to the device, as the NF's AF_XDP sends go: the TC egress
    # filter on the pair stops only what goes through the qdisc layer
    s.setsockopt(263, 20, 1)  # SOL_PACKET, PACKET_QDISC_BYPASS
    s.bind((a.dev, 0))
    for i in range(a.count):
        s.send(frame(a, i))


main()
