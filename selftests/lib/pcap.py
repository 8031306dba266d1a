#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A pcap file as JSON, read without libpcap: the file format itself
(https://www.tcpdump.org/manpages/pcap-savefile.5.html), so that the
test checks what tandem capture wrote, not what a library makes of it.

  pcap.py FILE
      {"precision": "nano"|"micro", "linktype": N, "snaplen": N,
       "frames": [{"time": S, "caplen": N, "len": N, "data": HEX}, ...]}
Exits 1 on a malformed file (a bad magic, a record cut short).
"""
import json
import struct
import sys


def main():
    data = open(sys.argv[1], "rb").read()
    if len(data) < 24:
        sys.exit("pcap.py: %d bytes: no file header" % len(data))
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0xA1B23C4D:
        precision, div = "nano", 1e9
    elif magic == 0xA1B2C3D4:
        precision, div = "micro", 1e6
    else:
        sys.exit("pcap.py: bad magic %#x" % magic)
    major, minor, _, _, snaplen, linktype = struct.unpack("<HHiIII",
                                                          data[4:24])
    if (major, minor) != (2, 4):
        sys.exit("pcap.py: version %d.%d" % (major, minor))
    frames = []
    at = 24
    while at < len(data):
        if at + 16 > len(data):
            sys.exit("pcap.py: a record header cut short at %d" % at)
        sec, frac, caplen, length = struct.unpack("<IIII", data[at:at + 16])
        at += 16
        if caplen > snaplen or caplen > length or at + caplen > len(data):
            sys.exit("pcap.py: record at %d: caplen %d, len %d, snaplen %d"
                     % (at - 16, caplen, length, snaplen))
        frames.append({"time": sec + frac / div, "caplen": caplen,
                       "len": length, "data": data[at:at + caplen].hex()})
        at += caplen
    print(json.dumps({"precision": precision, "linktype": linktype,
                      "snaplen": snaplen, "frames": frames}))


if __name__ == "__main__":
    main()
