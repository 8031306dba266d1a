#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Numbered UDP datagrams for the selftests.

  udp.py send DST PORT --count N [--rate PPS] [--sport P] [--duration S]
             [--times FILE] [--payload TEXT]
      send N datagrams (or until DURATION or until the file STOP exists),
      each carrying its sequence number; prints {"sent": N, "seconds": T};
      --times writes each datagram's send time (CLOCK_MONOTONIC ns, the
      clock of bpf_ktime_get_ns()) to FILE, one a line; --payload puts
      TEXT after the sequence number instead of SIZE - 8 zero bytes
  udp.py recv PORT [--idle S] [--ready FILE] [--stop FILE]
      count datagrams until FILE exists and none came for IDLE seconds
      (without --stop: until none came for IDLE seconds); prints
      {"received": N, "unique": U, "dups": D}
"""
import argparse
import json
import os
import socket
import struct
import sys
import time


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def send(a):
    s = socket.socket(family_of(a.dst), socket.SOCK_DGRAM)
    # --src: send from that one of our addresses (a set's member or not)
    if a.sport or a.src:
        s.bind((a.src or ("::" if ":" in a.dst else "0.0.0.0"), a.sport))
    pad = a.payload.encode() if a.payload else b"\0" * max(0, a.size - 8)
    gap = 1.0 / a.rate if a.rate else 0
    start = time.monotonic()
    sent = 0
    times = []
    while a.count == 0 or sent < a.count:
        if a.duration and time.monotonic() - start >= a.duration:
            break
        if a.stop and sent % 64 == 0 and os.path.exists(a.stop):
            break
        try:
            t = time.monotonic_ns()
            s.sendto(struct.pack("!Q", sent) + pad, (a.dst, a.port))
            times.append(t)
        except OSError:
            # the local stack refused it (e.g. ENOBUFS): retry, never lose
            time.sleep(0.001)
            continue
        sent += 1
        if gap:
            # pace against the start so the rate holds on average
            ahead = start + sent * gap - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    elapsed = time.monotonic() - start
    if a.times:
        with open(a.times, "w") as f:
            f.write("".join("%d\n" % t for t in times))
    print(json.dumps({"sent": sent, "seconds": round(elapsed, 4)}))


def recv(a):
    fam = socket.AF_INET6
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("::", a.port))
    if a.ready:
        open(a.ready, "w").close()
    seen = set()
    total = 0
    last = time.monotonic()
    s.settimeout(0.1)
    while True:
        try:
            data = s.recv(65536)
        except socket.timeout:
            idle = time.monotonic() - last
            if idle >= a.idle and (not a.stop or os.path.exists(a.stop)):
                break
            continue
        last = time.monotonic()
        total += 1
        if len(data) >= 8:
            seen.add(struct.unpack("!Q", data[:8])[0])
    print(json.dumps({"received": total, "unique": len(seen),
                      "dups": total - len(seen)}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    ps = sub.add_parser("send")
    ps.add_argument("dst")
    ps.add_argument("port", type=int)
    ps.add_argument("--count", type=int, default=0)
    ps.add_argument("--rate", type=float, default=0)
    ps.add_argument("--sport", type=int, default=0)
    ps.add_argument("--src")
    ps.add_argument("--size", type=int, default=64)
    ps.add_argument("--payload")
    ps.add_argument("--duration", type=float, default=0)
    ps.add_argument("--stop")
    ps.add_argument("--times")
    pr = sub.add_parser("recv")
    pr.add_argument("port", type=int)
    pr.add_argument("--idle", type=float, default=1.0)
    pr.add_argument("--stop")
    pr.add_argument("--ready")
    a = p.parse_args()
    send(a) if a.cmd == "send" else recv(a)


if __name__ == "__main__":
    sys.exit(main())
