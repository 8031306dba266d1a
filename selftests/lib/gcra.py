#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""What an exact packets-per-second policer lets through.

  gcra.py TIMES RATE BURST
      TIMES: a file of arrival times (ns, one a line, as udp.py --times
      writes them). Prints how many of these packets a GCRA policer of
      RATE packets/s and BURST packets passes: the same arithmetic as
      bpf/nf_policer.bpf.c, starting from an empty state, so a test can
      compare the real policer with the timing it was really offered,
      whatever pauses the sender took.
"""
import sys


def passes(times, rate, burst):
    cost = 10**9 // rate
    tau = burst * cost
    tat = 0
    n = 0
    for now in times:
        nxt = max(tat, now) + cost
        if nxt - now <= tau:
            tat = nxt
            n += 1
    return n


def main():
    with open(sys.argv[1]) as f:
        times = [int(line) for line in f if line.strip()]
    print(passes(times, int(sys.argv[2]), int(sys.argv[3])))


if __name__ == "__main__":
    sys.exit(main())
