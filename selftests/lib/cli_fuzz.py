#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""
Hostile command lines for tandem, made by mutating valid ones so that
each is wrong (a bad number, prefix, family mix, a keyword twice, a
word missing or extra, control bytes, bad UTF-8, very long words,
unknown objects and commands, options in the wrong place), with and
without -j. For each: a non-zero exit, exactly one line on stderr,
valid JSON on stdout with -j, and the state unchanged (compared every
--every commands; on a change the batch is replayed one by one on a
fresh state to name the culprit).

  cli_fuzz.py --tandem PATH --pin-root DIR [--seed N] [--count N]

Runs in the test's network namespace (veth1 exists there). Prints KTAP
comment lines; exits 0 if every command behaved, 1 if not.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys

# The state the mutations run against: every object kind, in use.
SETUP = [
    "nf add fw firewall default drop",
    "nf add fw6 firewall",
    "nf add pol policer rate 10kpps burst 100",
    "nf add bw policer rate 100mbit burst 64k per source",
    "nf add cnt counter",
    "nf add spare counter",
    "nf add mon monitor size 1024",
    "rule add fw proto tcp dport 22 action pass",
    "rule add fw src 10.0.0.0/8 prio 5 proto udp sport 53 action pass",
    "rule add fw6 dst ::/0 proto icmpv6 action drop",
    "rule add fw6 src 0.0.0.0/0 action pass",
    "rule add fw6 dst fd00::/16 proto sctp dport 1-1024 prio 7 action drop",
    "chain add c1 fw cnt",
    "chain add c2 pol then drop",
    "chain add c3 bw fw6 then tx",
    "chain add cspare cnt then redirect veth1",
    "dev attach veth1 chain c1",
    "steer add veth1 proto udp dport 53 chain c2",
    "steer add veth1 src 10.0.0.1 dst 10.0.0.2 proto udp sport 1 dport 2 chain c3",
    "steer add veth1 dst fd00::/64 prio 9 chain c3",
]

SNAPSHOT = ["nf show", "chain show", "rule show fw", "rule show fw6",
            "steer show", "dev show"]

# Valid commands, each word typed: what a mutation may do to it.
# k keyword, n number, P ports, p prefix, r proto, a name/value,
# q a required positional, R a rate, B a burst
BASES = [
    "nf:o add:c newnf:q counter:q",
    "nf:o add:c np:q policer:q rate:k 10mbit:R burst:k 64k:B per:k source:a",
    "nf:o add:c np2:q policer:q rate:k 1000pps:R burst:k 10:b",
    "nf:o add:c nfw:q firewall:q default:k drop:a",
    "nf:o del:c spare:q",
    "rule:o add:c fw:q prio:k 5:n src:k 10.0.0.0/8:p proto:k tcp:r dport:k 22-80:P action:k drop:a",
    "rule:o add:c fw6:q dst:k fd00::/16:p proto:k udp:r sport:k 53:P action:k pass:a",
    "rule:o add:c fw:q proto:k icmp:r dst:k 192.168.0.0/16:p action:k drop:a",
    "rule:o del:c fw:q 1:n",
    "rule:o del:c fw6:q 2:n",
    "chain:o add:c cx:a cnt:a fw:a then:k drop:a",
    "chain:o replace:c c2:a pol:a cnt:a then:k redirect:a veth1:a",
    "chain:o del:c cspare:q",
    "steer:o add:c veth1:q prio:k 3:n dst:k 10.9.0.0/16:p proto:k udp:r dport:k 53:P chain:k c2:a",
    "steer:o add:c veth1:q src:k 10.0.0.7:p dst:k 10.0.0.8:p proto:k tcp:r sport:k 1000:P dport:k 2000:P chain:k c1:a",
    "steer:o add:c veth1:q dst:k ::/0:p chain:k c3:a",
    "steer:o del:c veth1:q 1:n",
    "dev:o attach:c veth1:q chain:k c2:a",
    "dev:o detach:c veth1:q",
    "nf:o show:c fw:a",
    "rule:o show:c fw:q",
    "chain:o show:c c1:a",
    "stats:o nf:c fw:a --count:k 1:n --watch:k 1:w",
    "nf:o add:c nmon:q monitor:q size:k 4096:n",
    "monitor:o show:c mon:q",
    "monitor:o flush:c mon:q",
    "top:o mon:a --count:k 1:n --interval:k 0.1:w --limit:k 5:n --sort:k pps:a",
]

BAD_NUMBERS = [" 1", "1 ", "+1", "-1", " -18446744073709551615",
               "-18446744073709551615", "0x10", "0X1", "1e2", "1.5", "",
               "18446744073709551617", "4294967297", "99999999999999999999999",
               "\u0663", "1\n", "\t7", "1_000", "0b1", "1,000"]
BAD_SECONDS = [" 1", "0.05", "3601", "1.0001", "+1", "-1", "1e0", ".5",
               "1.", "0x1", "", "1 ", "1,5", "nan", "inf"]
BAD_PORTS = ["80-22", "0-70000", "70000", "22,80", "22-", "-22", "22- 80",
             " 22", "+22", "22-0x50", "-1-5", "1--2", "1-2-3"]
BAD_PREFIXES = ["10.0.0.0/33", "10.0.0.1/8", "::ffff:10.3.0.0/112",
                "::ffff:0:0/96", "::ffff:1.2.3.4", "10.0.0.0/ 8",
                "10.0.0.0/+8", "10.0.0.0/-0", "10.0.0/8", "fd00::/129",
                "fd00::/0x10", " 10.0.0.0/8", "10.0.0.0/8 ", "any", "",
                "10.0.0.0/08x", "10.0.0.0//8", "1.2.3.4.5", "fd00:::1",
                "010.0.0.1", "10.0.0.0/8/8", "0.0.0.0/-1"]
BAD_PROTOS = ["0", "256", "-6", " tcp", "TCP", "tcp6", "0x6", "+6", ""]
BAD_RATES = [" 10mbit", "+10mbit", "0x10mbit", "10 mbit", "-10mbit",
             "99999999999999999999mbit", "10mbits", "0mbit", "10Mbit",
             "1.5mbit", "100gbit"]
BAD_BURSTS = [" 64k", "+64k", "0x40k", "-1", "64kk", "0", "100", "1521",
              "99999999999999999999", "64 k", "1.5k"]
BAD_PPS_BURSTS = [" 10", "+10", "0x1", "-1", "0", "10k", "1.5", "10 ",
                  "99999999999999999999", "10b", "1000000001"]
EXTRAS = ["extra", "0", "src", "proto", "x y", "-j", "--json", "help",
          "then", "prio", "1", "-", "--", "chain"]
UNKNOWN = ["ad", "ADD", "adds", "remove", "frob", "", "sh", "a", "de",
           "show2", "nfs", "NF", "rules", "-h2", "stat", "link", "\x00x"[1:]]
CONTROL = ["\x07", "\x1b[31m", "\n", "\r", "\x7f", "\t", "\x01"]
BAD_UTF8 = [b"\xff", b"\xfe\xfe", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80",
            b"\xc0\xaf", b"\xf5\x80\x80\x80"]


def parse_base(s):
    return [tuple(w.rsplit(":", 1)) for w in s.split(" ")]


def words(base):
    return [w for w, _ in base]


def pairs(base):
    """Indexes of keyword words (followed by their value)."""
    return [i for i, (w, t) in enumerate(base) if t == "k"]


class Mutator:
    def __init__(self, rnd):
        self.rnd = rnd

    def pick(self, seq):
        return self.rnd.choice(seq)

    def typed(self, base, types, bads):
        idx = [i for i, (_, t) in enumerate(base) if t in types]
        if not idx:
            return None
        i = self.pick(idx)
        w = words(base)
        w[i] = self.pick(bads)
        return w

    def bad_number(self, base):
        return self.typed(base, "n", BAD_NUMBERS)

    def bad_seconds(self, base):
        return self.typed(base, "w", BAD_SECONDS)

    def bad_ports(self, base):
        return self.typed(base, "P", BAD_PORTS + BAD_NUMBERS[:-1])

    def bad_prefix(self, base):
        return self.typed(base, "p", BAD_PREFIXES)

    def bad_proto(self, base):
        return self.typed(base, "r", BAD_PROTOS)

    def bad_rate(self, base):
        return self.typed(base, "R", BAD_RATES)

    def bad_burst(self, base):
        return self.typed(base, "B", BAD_BURSTS)

    def bad_pps_burst(self, base):
        return self.typed(base, "b", BAD_PPS_BURSTS)

    def insert_pair(self, base, pair):
        """Insert a keyword pair at a keyword boundary: splits matches."""
        w = words(base)
        ks = pairs(base)
        if not ks:
            return None
        at = self.pick(ks + [len(w)])
        return w[:at] + pair + w[at:]

    def mixed_family(self, base):
        w = words(base)
        if base[0][0] not in ("rule", "steer") or base[1][0] != "add":
            return None
        if "src" in w or "dst" in w:
            i = w.index("src") if "src" in w else w.index("dst")
            v4 = ":" not in w[i + 1]
            other = "dst" if w[i] == "src" else "src"
            if other in w:
                w[w.index(other) + 1] = self.pick(
                    ["fd00::/8", "::/0", "2001:db8::1"] if v4 else
                    ["10.0.0.0/8", "0.0.0.0/0", "192.0.2.1"])
                return w
            pair = [other, self.pick(["fd00::/8", "::/0"] if v4 else
                                     ["10.0.0.0/8", "0.0.0.0/0"])]
            if self.rnd.random() < 0.3 and "proto" not in w:
                pair = ["proto", "icmpv6" if v4 else "icmp"]
            return self.insert_pair(base, pair)
        return None

    def ports_without_l4(self, base):
        w = words(base)
        if "proto" not in w or not ("sport" in w or "dport" in w):
            return None
        w[w.index("proto") + 1] = self.pick(["icmp", "gre", "esp", "47"])
        return w

    def duplicate(self, base):
        ks = pairs(base)
        if not ks:
            return None
        i = self.pick(ks)
        w = words(base)
        pair = [w[i]] if base[i][0] in ("--force", "force") else w[i:i + 2]
        if w[i] == "then" and w[i + 1] == "redirect":
            pair = w[i:i + 3]
        return self.insert_pair(base, pair)

    def drop_value(self, base):
        ks = pairs(base)
        if not ks:
            return None
        i = self.pick(ks)
        w = words(base)
        n = 2 if w[i] == "then" and w[i + 1] == "redirect" else 1
        if self.rnd.random() < 0.5 and n == 1:
            # the keyword goes, its value stays: an unexpected word
            return w[:i] + w[i + 1:]
        return w[:i + 1] + w[i + 1 + n:]

    def drop_required(self, base):
        req = [i for i, (_, t) in enumerate(base) if t == "q"]
        w = words(base)
        for k in ("action", "chain"):
            if k in w and base[0][0] in ("rule", "steer") and \
               base[1][0] == "add":
                req.append(w.index(k))
        if not req:
            return None
        i = self.pick(req)
        if base[i][1] == "k":
            return w[:i] + w[i + 2:]
        return w[:i] + w[i + 1:]

    def extra(self, base):
        w = words(base)
        return w + [self.pick(EXTRAS)]

    def unknown(self, base):
        w = words(base)
        i = self.pick([0, 1])
        w[i] = self.pick(UNKNOWN)
        return w

    def option_late(self, base):
        w = words(base)
        at = self.rnd.randint(1, len(w))
        return w[:at] + [self.pick(["-j", "-p", "--json", "-V", "-h",
                                    "--help=x", "-x"])] + w[at:]

    def bad_option(self, base):
        return [self.pick(["-x", "--bogus", "-jx", "--json=1", "-",
                           "--pretty=no", "-J"])] + words(base)

    def control(self, base):
        w = words(base)
        i = self.rnd.randrange(len(w))
        at = self.rnd.randint(0, len(w[i]))
        w[i] = w[i][:at] + self.pick(CONTROL) + w[i][at:]
        return w

    def bad_utf8(self, base):
        w = [x.encode() for x in words(base)]
        i = self.rnd.randrange(len(w))
        at = self.rnd.randint(0, len(w[i]))
        w[i] = w[i][:at] + self.pick(BAD_UTF8) + w[i][at:]
        return w

    def long_word(self, base):
        w = words(base)
        i = self.rnd.randrange(len(w))
        n = self.pick([60, 100, 257, 300, 5000, 60000])
        w[i] = w[i] + self.pick(["a", "1", "\u00e9", "/"]) * n
        return w

    def bare(self, base):
        # 'tandem stats' alone is a command: every counter; so is
        # 'tandem top' (every monitor's flows)
        return self.pick([[]] + ([[base[0][0]]]
                                 if base[0][0] not in ("stats", "top")
                                 else []))

    def all(self):
        return [m for m in dir(self) if not m.startswith("_") and
                callable(getattr(self, m)) and
                m not in ("pick", "typed", "insert_pair", "all")]


def run(tandem, argv, json_mode):
    args = [tandem] + (["-j"] if json_mode else []) + argv
    args = [a if isinstance(a, bytes) else a.encode("utf-8", "surrogateescape")
            for a in args]
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=20)
    return p.returncode, p.stdout, p.stderr


def show(argv):
    return " ".join(repr(a) if isinstance(a, bytes) or a != a.strip() or
                    not a or any(ord(c) < 32 or ord(c) > 126 for c in a) or
                    " " in a else a for a in argv)[:300]


def problems(rc, out, err, json_mode):
    bad = []
    if rc == 0:
        bad.append("exit 0")
    elif rc < 0:
        bad.append("killed by signal %d" % -rc)
    elif rc not in (1, 2):
        bad.append("exit %d" % rc)
    if err.count(b"\n") != 1 or not err.endswith(b"\n"):
        bad.append("stderr is %d lines: %r" % (err.count(b"\n"), err[:200]))
    elif not err.startswith(b"tandem: "):
        bad.append("stderr %r" % err[:100])
    elif any(c < 0x20 or c == 0x7f for c in err[:-1]):
        bad.append("control bytes on stderr: %r" % err[:200])
    else:
        try:
            err.decode("utf-8")
        except UnicodeDecodeError:
            bad.append("stderr is not UTF-8: %r" % err[:200])
    if json_mode:
        try:
            doc = json.loads(out.decode("utf-8"))
            if "error" not in doc:
                bad.append("JSON without error: %r" % out[:100])
        except (ValueError, UnicodeDecodeError, TypeError) as e:
            bad.append("stdout is not JSON (%s): %r" % (e, out[:200]))
    return bad


class Fuzz:
    def __init__(self, opts):
        self.opts = opts
        self.failures = 0
        self.bisects = 0

    def tdm(self, line):
        rc, out, err = run(self.opts.tandem, line.split(), False)
        if rc:
            print("# setup failed: tandem %s: %s" % (line, err.decode()))
            sys.exit(1)

    def setup(self):
        for line in SETUP:
            self.tdm(line)

    def reset(self):
        run(self.opts.tandem, ["dev", "detach", "veth1"], False)
        shutil.rmtree(self.opts.pin_root, ignore_errors=True)
        self.setup()

    def state(self):
        return b"".join(run(self.opts.tandem, ["-j"] + s.split(), False)[1]
                        for s in SNAPSHOT)

    def fail(self, msg):
        self.failures += 1
        if self.failures <= 30:
            print("# " + msg.replace("\n", "\\n"))

    def culprit(self, batch):
        """State changed in batch: replay it on a fresh state."""
        self.reset()
        # (a fresh state has new program ids: compare with itself)
        before = self.state()
        for argv, json_mode in batch:
            run(self.opts.tandem, argv, json_mode)
            if self.state() != before:
                self.fail("changed the state: tandem %s%s" %
                          ("-j " if json_mode else "", show(argv)))
                self.reset()
                before = self.state()

    def go(self):
        rnd = random.Random(self.opts.seed)
        mut = Mutator(rnd)
        names = mut.all()
        bases = [parse_base(b) for b in BASES]
        # every base is valid as written: the mutations are what fails
        self.setup()
        before = self.state()
        counts = {}
        batch = []
        n = 0
        while n < self.opts.count:
            name = rnd.choice(names)
            argv = getattr(mut, name)(rnd.choice(bases))
            if argv is None:
                continue
            n += 1
            json_mode = rnd.random() < 0.4
            counts[name] = counts.get(name, 0) + 1
            rc, out, err = run(self.opts.tandem, argv, json_mode)
            bad = problems(rc, out, err, json_mode)
            if bad:
                self.fail("tandem %s%s: %s" % ("-j " if json_mode else "",
                                                show(argv), "; ".join(bad)))
            batch.append((argv, json_mode))
            if len(batch) >= self.opts.every or n == self.opts.count:
                if self.state() != before:
                    self.fail("state changed in commands %d-%d" %
                              (n - len(batch) + 1, n))
                    self.bisects += 1
                    if self.bisects <= 3:
                        self.culprit(batch)
                    else:
                        self.reset()
                    before = self.state()
                batch = []
                # a badly broken tandem: enough said, and quickly
                if self.failures >= 100:
                    print("# stopping after %d commands" % n)
                    break
        print("# %d hostile command lines (seed %d): %s" %
              (n, self.opts.seed, ", ".join("%s %d" % kv for kv in
                                            sorted(counts.items()))))
        print("# %d failures" % self.failures)
        return 1 if self.failures else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tandem", required=True)
    ap.add_argument("--pin-root", required=True)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--count", type=int, default=4000)
    ap.add_argument("--every", type=int, default=50)
    sys.exit(Fuzz(ap.parse_args()).go())


if __name__ == "__main__":
    main()
