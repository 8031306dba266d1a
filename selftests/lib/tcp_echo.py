#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A TCP echo server for the selftests, IPv4 and IPv6 on one socket.

  tcp_echo.py PORT READY_FILE
      listen on [::]:PORT (and 0.0.0.0:PORT), create READY_FILE, then
      echo every connection's bytes back until it closes; runs until
      killed. Each accepted connection is one line on stdout: the peer.
"""
import socket
import sys
import threading


def echo(c):
    with c:
        while True:
            b = c.recv(4096)
            if not b:
                return
            c.sendall(b)


def main():
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", int(sys.argv[1])))
    s.listen(16)
    open(sys.argv[2], "w").close()
    while True:
        c, peer = s.accept()
        print(peer[0], flush=True)
        threading.Thread(target=echo, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
