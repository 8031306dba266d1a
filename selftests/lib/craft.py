#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Hand-made frames for the bypass selftest: TCP SYNs and UDP datagrams
behind VLAN tags and IPv6 destination options, cut into fragments, with
trailing bytes; checksums right, so the receiving kernel takes what its
parser accepts.

  craft.py run IFACE PEER_PID CASE...
      For each CASE, send its frames on IFACE (AF_PACKET), then a marker
      (an IPv4 echo request), wait until the marker reached the stack of
      PEER_PID's network namespace (the frames before it on the same
      queue did too), and print how many of the case's segments or
      datagrams that stack took in. One JSON object: {"CASE": N, ...}.
  craft.py serve IFACE PEER_PID
      The same for each CASE read from stdin, one a line, answering each
      on its own line ({"CASE": N}) as it comes: one python3 for many
      probes (under TCG each python3 costs 0.7 to 2 s).

A CASE is words joined by '-': v4|v6, tcp|udp, then any of tagsN
(N priority tags, VID 0), vidN (the outermost tag of VID N; needs
tagsN), optsN (N destination options headers), fragN (fragments of N bytes of payload), padN (N trailing bytes after
the datagram), dportN (the destination port, 23 if not given), sportN
(the source port; else one of this process), jumbo0 (IPv6: a payload
length of 0 and a hop-by-hop header first, which ipv6_rcv() delivers
whole), lsrr (IPv4: a loose source route through 10.10.9.9, where the
datagram is delivered if the receiver accepts source routes and has
that address), ack (TCP: a bare ACK instead of a SYN, which a stack
answers with a RST), synack (TCP: a SYN-ACK), rev (from B to A: the
addresses and ports swapped, as forged by A; the Ethernet header stays
A's to B's). Example: v6-tcp-opts7.
"""
import json
import os
import socket
import struct
import sys
import time

SRC_MAC = bytes.fromhex("020000000a01")
DST_MAC = bytes.fromhex("020000000a02")
SRC4, DST4 = socket.inet_aton("10.10.0.1"), socket.inet_aton("10.10.0.2")
SRR4 = socket.inet_aton("10.10.9.9")
SRC6 = socket.inet_pton(socket.AF_INET6, "fd00::1")
DST6 = socket.inet_pton(socket.AF_INET6, "fd00::2")
DPORT = 23
IDENT = os.getpid() & 0xffff


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def l4(proto, v6, sport, dport, payload=b"", dst4=None, flags=0x02):
    """A TCP segment with these flags (a SYN unless told) or a UDP
    datagram with its checksum (to dst4 for IPv4: the final destination,
    for a source-routed datagram)."""
    dst4 = dst4 or DST4
    if proto == "tcp":
        hdr = struct.pack("!HHIIBBHHH", sport, dport, 0x1000,
                          0x2000 if flags & 0x10 else 0, 5 << 4,
                          flags, 64240, 0, 0)
        num = socket.IPPROTO_TCP
    else:
        hdr = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
        num = socket.IPPROTO_UDP
    seg = hdr + payload
    if v6:
        pseudo = SRC6 + DST6 + struct.pack("!I3xB", len(seg), num)
    else:
        pseudo = SRC4 + dst4 + struct.pack("!xBH", num, len(seg))
    c = csum(pseudo + seg) or 0xffff
    off = 16 if proto == "tcp" else 6
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:], num


def eth(tags, ethertype, vid=0):
    """Ethernet with tags priority tags (VID 0), 802.1Q and 802.1ad; the
    outermost of VID vid."""
    if not tags:
        return DST_MAC + SRC_MAC + struct.pack("!H", ethertype)
    tpids = [0x8100 if i % 2 == 0 else 0x88a8 for i in range(tags)]
    out = DST_MAC + SRC_MAC + struct.pack("!H", tpids[0])
    for i in range(tags):
        inner = tpids[i + 1] if i + 1 < tags else ethertype
        out += struct.pack("!HH", vid if i == 0 else 0, inner)
    return out


def ip4(num, payload, ident=0, frag=0, more=False, totlen=None, opts=b""):
    hl = 20 + len(opts)
    tot = hl + len(payload) if totlen is None else totlen
    flags = (0x2000 if more else 0) | frag
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, tot, ident, flags,
                    64, num, 0, SRC4, DST4) + opts
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def ip6(nexthdr, payload, plen=None):
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 6 << 28, plen, nexthdr, 64,
                       SRC6, DST6) + payload


def dstopts(n, nexthdr):
    """n destination options headers of 8 bytes (a PadN option each)."""
    out = b""
    for i in range(n):
        nh = 60 if i + 1 < n else nexthdr
        out += struct.pack("!BB", nh, 0) + b"\x01\x04\0\0\0\0"
    return out


def frames(case):
    """The case's frames; with 'rev', as if from B: addresses and ports
    swapped (the Ethernet header stays A's to B's)."""
    global SRC4, DST4, SRC6, DST6
    if "-rev" not in case:
        return frames_fwd(case)
    SRC4, DST4, SRC6, DST6 = DST4, SRC4, DST6, SRC6
    try:
        return frames_fwd(case)
    finally:
        SRC4, DST4, SRC6, DST6 = DST4, SRC4, DST6, SRC6


def frames_fwd(case):
    words = case.split("-")
    v6, proto = words[0] == "v6", words[1]
    opt = {"tags": 0, "vid": 0, "opts": 0, "frag": 0, "pad": 0, "dport": DPORT,
           "sport": 40000 + (os.getpid() % 20000), "jumbo0": 0, "lsrr": 0,
           "ack": 0, "synack": 0, "rev": 0}
    for w in words[2:]:
        for k in opt:
            if w in ("jumbo0", "lsrr", "ack", "synack", "rev"):
                opt[w] = 1
            elif w.startswith(k):
                opt[k] = int(w[len(k):])
    if opt["vid"] and not opt["tags"]:
        raise ValueError("%s: vidN needs tagsN" % case)
    if opt["rev"]:
        opt["sport"], opt["dport"] = opt["dport"], opt["sport"]
    # a source route: NOP, LSRR of length 7, pointer 4, one hop
    srr = b"\x01\x83\x07\x04" + SRR4 if opt["lsrr"] else b""
    seg, num = l4(proto, v6, opt["sport"], opt["dport"],
                  b"x" * 8 if proto == "udp" else b"",
                  SRR4 if srr else DST4,
                  0x12 if opt["synack"] else 0x10 if opt["ack"] else 0x02)
    chunks = [seg]
    if opt["frag"]:
        n = opt["frag"]
        chunks = [seg[i:i + n] for i in range(0, len(seg), n)]
    out = []
    # a datagram of its own: a dropped first fragment leaves the others
    # waiting in the reassembly queue of (addresses, protocol, id)
    global IDENT
    IDENT = (IDENT + 1) & 0xffff
    ident = IDENT
    for i, chunk in enumerate(chunks):
        more = i + 1 < len(chunks)
        off = i * opt["frag"] if opt["frag"] else 0
        if v6:
            if opt["frag"]:
                fh = struct.pack("!BBHI", num, 0, off | int(more), ident)
                body = dstopts(opt["opts"], 44) + fh + chunk
                first = 60 if opt["opts"] else 44
            else:
                body = dstopts(opt["opts"], num) + chunk
                first = 60 if opt["opts"] else num
            if opt["jumbo0"]:
                # hop-by-hop (a PadN option) first, payload length 0
                body = struct.pack("!BB", first, 0) + b"\x01\x04\0\0\0\0" + body
                pkt = eth(opt["tags"], 0x86DD, opt["vid"]) + ip6(0, body, plen=0)
            else:
                pkt = eth(opt["tags"], 0x86DD, opt["vid"]) + ip6(first, body)
        else:
            pkt = eth(opt["tags"], 0x0800, opt["vid"]) + \
                ip4(num, chunk, ident, off // 8, more, opts=srr)
        out.append(pkt + b"\xa5" * opt["pad"])
    return out


def marker():
    echo = struct.pack("!BBHHH", 8, 0, 0, os.getpid() & 0xffff, 1) + b"mark"
    echo = echo[:2] + struct.pack("!H", csum(echo)) + echo[4:]
    return eth(0, 0x0800) + ip4(socket.IPPROTO_ICMP, echo)


def snmp(pid):
    """The counters of PID's namespace: TCP segments sent (SYN-ACK or RST:
    TCP took a segment in), UDP and UDP6 datagrams taken in."""
    vals = {}
    with open("/proc/%d/net/snmp" % pid) as f:
        lines = f.read().splitlines()
    for head, val in zip(lines[::2], lines[1::2]):
        k, v = head.split(), val.split()
        for name, x in zip(k[1:], v[1:]):
            vals[k[0] + name] = int(x)
    with open("/proc/%d/net/snmp6" % pid) as f:
        for line in f:
            name, x = line.split()
            vals[name] = int(x)
    return {
        "marker": vals["Icmp:InEchos"],
        "tcp": vals["Tcp:OutSegs"],
        "udp": vals["Udp:InDatagrams"] + vals["Udp:NoPorts"],
        "udp6": vals["Udp6InDatagrams"] + vals["Udp6NoPorts"],
    }


def one(s, pid, case):
    """What PID's stack took in of CASE's frames sent on socket S, or
    None when the marker did not come."""
    key = "tcp" if "-tcp" in case else ("udp6" if case.startswith("v6") else "udp")
    before = snmp(pid)
    for f in frames(case):
        s.send(f)
    s.send(marker())
    deadline = time.monotonic() + 30
    while True:
        now = snmp(pid)
        if now["marker"] > before["marker"]:
            break
        if time.monotonic() > deadline:
            print("# marker lost after %s" % case, file=sys.stderr)
            return None
        time.sleep(0.01)
    return now[key] - before[key]


def packet_socket(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    return s


def run(iface, pid, cases):
    s = packet_socket(iface)
    res = {}
    for case in cases:
        n = one(s, pid, case)
        if n is None:
            return 1
        res[case] = n
    print(json.dumps(res))
    return 0


def serve(iface, pid):
    s = packet_socket(iface)
    while True:
        case = sys.stdin.readline()
        if not case:
            return 0
        case = case.strip()
        n = one(s, pid, case)
        if n is None:
            return 1
        print(json.dumps({case: n}), flush=True)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        return serve(sys.argv[2], int(sys.argv[3]))
    if len(sys.argv) < 4 or sys.argv[1] != "run":
        print(__doc__, file=sys.stderr)
        return 2
    return run(sys.argv[2], int(sys.argv[3]), sys.argv[4:])


if __name__ == "__main__":
    sys.exit(main())
