#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""UDP echo, and its client, for the selftests; IPv4 and IPv6.

  udp_echo.py serve PORT READY_FILE [ADDR]
      echo every datagram on [::]:PORT (and 0.0.0.0:PORT; with ADDR,
      that address alone: its answers leave from it, as a direct server
      return backend's must) back to its sender, after creating
      READY_FILE; each is one line on stdout: "ADDR PORT" of the sender
      (one it cannot answer too); runs until killed
  udp_echo.py ask ADDR PORT [--size N] [--sport P] [--count C]
      send one datagram of N bytes (default 32) from a connected socket
      and wait 3 s for it to come back; prints "echo", "refused" (an
      ICMP port unreachable reached the socket) or "timeout"; exit 0
      only for "echo" with the same bytes. --count: C flows one after
      the other (source ports P, P+1, ...; one interpreter start, which
      costs seconds in a TCG guest), a line each; exit 0 if all echo
"""
import socket
import sys


def serve(port, ready, addr=None):
    if addr and ":" not in addr:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, port))
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        if not addr:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind((addr or "::", port))
    open(ready, "w").close()
    while True:
        b, peer = s.recvfrom(65535)
        addr = peer[0]
        if addr.startswith("::ffff:"):
            addr = addr[7:]
        print(addr, peer[1], flush=True)
        try:
            s.sendto(b, peer)
        except OSError:
            pass        # no route back: the test sees no echo


def ask(addr, port, size, sport):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if sport:
        s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", sport))
    s.settimeout(3)
    s.connect((addr, port))
    data = bytes((i * 7) & 0xff for i in range(size))
    s.send(data)
    try:
        b = s.recv(65535)
    except ConnectionRefusedError:
        print("refused")
        return 1
    except socket.timeout:
        print("timeout")
        return 1
    print("echo" if b == data else "garbled")
    return 0 if b == data else 1


def main():
    a = sys.argv[1:]
    if a[:1] == ["serve"]:
        serve(int(a[1]), a[2], a[3] if len(a) > 3 else None)
        return 0
    size = int(a[a.index("--size") + 1]) if "--size" in a else 32
    sport = int(a[a.index("--sport") + 1]) if "--sport" in a else 0
    count = int(a[a.index("--count") + 1]) if "--count" in a else 1
    rc = 0
    for i in range(count):
        rc |= ask(a[1], int(a[2]), size, sport + i if sport else 0)
    return rc


if __name__ == "__main__":
    sys.exit(main())
