#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""
Hostile policy files for tandem apply, made by mutating a valid one so
that one known line is wrong: a bad number, prefix, port, protocol,
rate or burst; an unknown word or command; a value or a required word
missing; a keyword or a line twice; references to NFs or chains that
are not defined, or only below; a bad line among hundreds of good ones;
words and lines too long, NUL bytes, bad UTF-8, control bytes; a file
cut off in a keyword; devices that do not exist; an NF whose type
changes; limits exceeded (rules in a firewall, NFs in a chain, NFs,
chains, devices, words in a line); address sets: a bad type, a set
twice, elements of the other family, prefixes in a plain set, bad
addresses, files that cannot be read, rules that match a set not
added above or of the other family. Each is written with random
decoration that changes nothing (comments, blank lines, blanks, CR LF,
"\\" continuations).

For each bad file:
  - tandem apply FILE exits 1 (or 2), with exactly one line on stderr,
    "tandem: FILE:LINE[:COL]: ...", LINE one of the broken command's;
  - tandem -j apply FILE prints one JSON document with "error", which
    names the same line;
  - tandem apply --check FILE fails the same way;
  - tandem dump and tandem -j stats are byte for byte as before
    (compared every --every files; a batch that changed them is
    replayed one by one on the base state to name the file).
Some files are valid rewrites of the base (keywords reordered, other
blanks, comments, continuations, CR LF, the same value spelled another
way): they apply with "0 added, 0 changed, 0 deleted".

  policy_fuzz.py --tandem PATH --dir DIR [--seed N] [--count N]
  policy_fuzz.py --dir DIR --seed N --count N --write-only

The files depend only on the seed and the count. Runs in the test's
network namespace (veth1 exists there); prints KTAP comment lines and
exits 0 if every file behaved, 1 if not. --write-only writes the files
and prints a digest of them, without running tandem.
"""
import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_fuzz  # noqa: E402  (its lists of bad values)

# The base policy, each word typed: what a mutation may do to it.
# o object, c command, D a name defined here, N a reference to an NF,
# C a reference to a chain, T an NF type, k keyword, f flag, a value,
# n number, P ports, p prefix, r proto, R rate, B burst (bytes),
# b burst (packets), d device
BASE = [
    "nf:o add:c fw:D firewall:T default:k drop:a",
    "nf:o add:c fw6:D firewall:T",
    "nf:o add:c pol:D policer:T rate:k 10kpps:R burst:k 100:b",
    "nf:o add:c bw:D policer:T rate:k 100mbit:R burst:k 64k:B per:k source:a",
    "nf:o add:c cnt:D counter:T",
    "nf:o add:c spare:D counter:T",
    "rule:o add:c fw:N proto:k tcp:r dport:k 22:P action:k pass:a",
    "rule:o add:c fw:N src:k 10.0.0.0/8:p prio:k 5:n proto:k udp:r sport:k 53:P action:k pass:a",
    "rule:o add:c fw6:N dst:k ::/0:p proto:k icmpv6:r action:k drop:a",
    "rule:o add:c fw6:N dst:k fd00::/16:p proto:k sctp:r dport:k 1-1024:P prio:k 7:n action:k drop:a",
    "chain:o add:c c1:D fw:N cnt:N",
    "chain:o add:c c2:D pol:N then:k drop:a",
    "chain:o add:c c3:D bw:N fw6:N then:k tx:a",
    "chain:o add:c cspare:D cnt:N then:k redirect:a veth1:d",
    "dev:o attach:c veth1:d chain:k c1:C",
    "steer:o add:c veth1:d proto:k udp:r dport:k 53:P chain:k c2:C",
    "steer:o add:c veth1:d src:k 10.0.0.1:p dst:k 10.0.0.2:p proto:k udp:r sport:k 1:P dport:k 2:P chain:k c3:C",
    "steer:o add:c veth1:d dst:k fd00::/64:p prio:k 9:n chain:k c3:C",
]

# Spellings of the same value: a file using them changes nothing.
SAME = {
    "tcp": ["6"], "udp": ["17"], "sctp": ["132"], "icmpv6": ["58"],
    "22": ["22-22"], "53": ["53-53"], "1": ["1-1"], "2": ["2-2"],
    "10.0.0.1": ["10.0.0.1/32"], "10.0.0.2": ["10.0.0.2/32"],
    "::/0": ["0::/0", "::0/0"], "fd00::/16": ["fd00:0::/16"],
    "fd00::/64": ["fd00:0:0:0::/64"],
    "64k": ["64kb", "65536", "65536b"], "10kpps": ["10000pps"],
    "100mbit": ["100000kbit", "100000000bit"],
}

UNKNOWN = [w for w in cli_fuzz.UNKNOWN if w] + ["del", "replace", "show"]
CLI_ONLY = ["nf del spare", "rule del fw 1", "chain replace c1 fw",
            "chain del c2", "dev detach veth1", "steer del veth1 1",
            "nf show", "stats", "nf types", "help", "apply x", "dump",
            "tandem nf add x counter", "-j nf add x counter"]
CONTROL = ["\x07", "\x1b[31m", "\x7f", "\x01", "\x0b", "\x0c", "\r", "\x1f"]
BAD_UTF8 = cli_fuzz.BAD_UTF8
BAD_NAMES = ["a" * 32, "a/", "x:y", "é", "a*", "$x",
             "n" * 300, "a,b", "a'b", '"q"', "a\\b"]
BAD_DEVS = ["a" * 16, "x/y", "x:y", ".", ".."]
MISSING_DEVS = ["nosuch0", "veth9", "VETH1", "veth1.5", "lo0"]


def ok_word(v):
    """A value that stays one word in a policy file."""
    return (v and not any(c in v for c in " \t\n\r\\\x00") and
            not v.startswith("#"))


def parse_base(s):
    return [tuple(w.rsplit(":", 1)) for w in s.split(" ")]


class Line:
    """A command (words, types) or a raw line (comment, blank)."""

    def __init__(self, words=None, types=None, raw=None):
        self.words = list(words) if words is not None else None
        self.types = list(types) if types is not None else None
        self.raw = raw

    def copy(self):
        return Line(self.words, self.types, self.raw)


def base_lines():
    out = []
    for s in BASE:
        b = parse_base(s)
        out.append(Line([w for w, _ in b], [t for _, t in b]))
    return out


def defines(ln):
    """(kind, name) a command defines, or None."""
    if ln.words is None or len(ln.words) < 3:
        return None
    if ln.words[:2] == ["nf", "add"]:
        return ("nf", ln.words[2])
    if ln.words[:2] == ["chain", "add"]:
        return ("chain", ln.words[2])
    return None


def refs(ln):
    """(kind, name) a command refers to."""
    if ln.words is None:
        return []
    return [("nf" if t == "N" else "chain", w)
            for w, t in zip(ln.words, ln.types) if t in "NC"]


class Case:
    def __init__(self, kind, lines, bad, valid=False, final_nl=True):
        self.kind = kind
        self.lines = lines
        self.bad = bad		# index in lines of the line to be named
        self.valid = valid
        self.final_nl = final_nl


class Mutator:
    def __init__(self, rnd):
        self.rnd = rnd

    def pick(self, seq):
        return self.rnd.choice(seq)

    def cmd_lines(self, lines, pred=lambda ln: True):
        return [i for i, ln in enumerate(lines)
                if ln.words is not None and pred(ln)]

    def typed(self, lines, types, bads, kind):
        cand = [(i, k) for i, ln in enumerate(lines) if ln.words
                for k, t in enumerate(ln.types) if t in types]
        if not cand:
            return None
        i, k = self.pick(cand)
        lines[i].words[k] = self.pick([b for b in bads if ok_word(b) and
                                       b != lines[i].words[k]])
        return Case(kind, lines, i)

    # ---- one bad value ----
    def bad_number(self, lines):
        return self.typed(lines, "n", cli_fuzz.BAD_NUMBERS, "bad_number")

    def bad_ports(self, lines):
        return self.typed(lines, "P", cli_fuzz.BAD_PORTS +
                          cli_fuzz.BAD_NUMBERS[:-1], "bad_ports")

    def bad_prefix(self, lines):
        return self.typed(lines, "p", cli_fuzz.BAD_PREFIXES, "bad_prefix")

    def bad_proto(self, lines):
        return self.typed(lines, "r", cli_fuzz.BAD_PROTOS, "bad_proto")

    def bad_rate(self, lines):
        return self.typed(lines, "R", cli_fuzz.BAD_RATES, "bad_rate")

    def bad_burst(self, lines):
        return self.typed(lines, "B", cli_fuzz.BAD_BURSTS, "bad_burst")

    def bad_pps_burst(self, lines):
        return self.typed(lines, "b", cli_fuzz.BAD_PPS_BURSTS,
                          "bad_pps_burst")

    def bad_value(self, lines):
        return self.typed(lines, "a", ["dorp", "Pass", "0", "sources",
                                       "redirect", "-", "then", "ok"],
                          "bad_value")

    def bad_type(self, lines):
        return self.typed(lines, "T", ["countr", "Firewall", "nat", "-",
                                       "policers", "0"], "bad_type")

    def bad_name(self, lines):
        cand = [(i, k) for i, ln in enumerate(lines) if ln.words
                for k, t in enumerate(ln.types) if t == "D"]
        i, k = self.pick(cand)
        lines[i].words[k] = self.pick([b for b in BAD_NAMES if ok_word(b)])
        return Case("bad_name", lines, i)

    def bad_device_name(self, lines):
        return self.typed(lines, "d", BAD_DEVS, "bad_device_name")

    def mixed_family(self, lines):
        cand = self.cmd_lines(lines, lambda ln: ln.words[0] in
                              ("rule", "steer") and ln.words[1] == "add")
        i = self.pick(cand)
        ln = lines[i]
        fam6 = any(":" in w for w, t in zip(ln.words, ln.types) if t == "p")
        fam4 = any(t == "p" and ":" not in w
                   for w, t in zip(ln.words, ln.types))
        if fam6 or fam4:
            # a prefix of the other family, as the missing src or dst
            key = "dst" if "src" in ln.words else "src"
            if key in ln.words:
                return None
            val = self.pick(["10.0.0.0/8", "0.0.0.0/0"] if fam6 else
                            ["fd00::/8", "::/0"])
            pair = [(key, "k"), (val, "p")]
        else:
            return None
        self.insert_pair(ln, pair)
        return Case("mixed_family", lines, i)

    def ports_without_l4(self, lines):
        cand = self.cmd_lines(lines, lambda ln: "proto" in ln.words and
                              ("sport" in ln.words or "dport" in ln.words))
        i = self.pick(cand)
        ln = lines[i]
        ln.words[ln.words.index("proto") + 1] = self.pick(
            ["icmp", "gre", "esp", "47", "icmpv6", "1"])
        return Case("ports_without_l4", lines, i)

    # ---- words ----
    def insert_pair(self, ln, pair):
        ks = [k for k, t in enumerate(ln.types) if t == "k"]
        at = self.pick(ks + [len(ln.words)])
        ln.words[at:at] = [w for w, _ in pair]
        ln.types[at:at] = [t for _, t in pair]

    def unknown_word(self, lines):
        i = self.pick(self.cmd_lines(lines))
        ln = lines[i]
        k = self.pick([0, 1, len(ln.words)])
        w = self.pick(UNKNOWN)
        if k == len(ln.words):
            # an unknown keyword at the end (not an NF's: those are
            # PARAM VALUE pairs, and a chain takes names)
            if ln.words[0] in ("nf", "chain"):
                k = 0
            else:
                ln.words.append(w)
                ln.types.append("a")
                return Case("unknown_word", lines, i)
        ln.words[k] = w
        return Case("unknown_word", lines, i)

    def cli_only(self, lines):
        i = self.rnd.randint(0, len(lines))
        w = self.pick(CLI_ONLY).split()
        lines.insert(i, Line(w, ["a"] * len(w)))
        return Case("cli_only", lines, i)

    def missing_value(self, lines):
        cand = [(i, k) for i, ln in enumerate(lines) if ln.words
                for k, t in enumerate(ln.types)
                if t == "k" and ln.types[k + 1:k + 2] != ["f"]]
        i, k = self.pick(cand)
        ln = lines[i]
        n = 2 if ln.words[k + 1:k + 2] == ["redirect"] else 1
        if self.rnd.random() < 0.5 and ln.words[0] != "nf":
            # the keyword goes, its value stays: an unexpected word
            del ln.words[k], ln.types[k]
        else:
            del ln.words[k + 1:k + 1 + n], ln.types[k + 1:k + 1 + n]
        return Case("missing_value", lines, i)

    def missing_required(self, lines):
        i = self.pick(self.cmd_lines(lines))
        ln = lines[i]
        req = [k for k, t in enumerate(ln.types) if t in "DTd"]
        req += [k for k, w in enumerate(ln.words)
                if w in ("action", "rate") or
                (w == "chain" and ln.words[0] == "steer")]
        if ln.words[0] == "chain":
            # every NF of the chain
            ks = [k for k, t in enumerate(ln.types) if t == "N"]
            del ln.words[ks[0]:ks[-1] + 1], ln.types[ks[0]:ks[-1] + 1]
            return Case("missing_required", lines, i)
        k = self.pick(req)
        n = 2 if ln.types[k] == "k" else 1
        del ln.words[k:k + n], ln.types[k:k + n]
        return Case("missing_required", lines, i)

    def keyword_twice(self, lines):
        cand = [(i, k) for i, ln in enumerate(lines) if ln.words
                for k, t in enumerate(ln.types) if t == "k"]
        i, k = self.pick(cand)
        ln = lines[i]
        n = 3 if ln.words[k + 1:k + 2] == ["redirect"] else 2
        pair = list(zip(ln.words[k:k + n], ln.types[k:k + n]))
        if ln.words[0] == "nf":
            ln.words += [w for w, _ in pair]
            ln.types += [t for _, t in pair]
        else:
            self.insert_pair(ln, pair)
        return Case("keyword_twice", lines, i)

    def extra_word(self, lines):
        i = self.pick(self.cmd_lines(lines, lambda ln: ln.words[0] != "chain"))
        ln = lines[i]
        w = self.pick(["extra", "0", "src", "proto", "-j", "--json",
                       "help", "then", "prio", "1", "-", "--"])
        if ln.words[0] == "nf" and len(ln.words) % 2 == 0:
            w = "rate"	# a parameter without a value, or unknown
        ln.words.append(w)
        ln.types.append("a")
        return Case("extra_word", lines, i)

    # ---- lines and references ----
    def line_twice(self, lines):
        i = self.pick(self.cmd_lines(lines, lambda ln: ln.words[0] != "rule"))
        at = self.rnd.randint(i + 1, len(lines))
        lines.insert(at, lines[i].copy())
        return Case("line_twice", lines, at)

    def undefined_ref(self, lines):
        cand = [(i, k) for i, ln in enumerate(lines) if ln.words
                for k, t in enumerate(ln.types) if t in "NC"]
        i, k = self.pick(cand)
        lines[i].words[k] = self.pick(["nosuch", "fw7", "c9", "FW", "cnt2",
                                       "c1.", "spare_"])
        return Case("undefined_ref", lines, i)

    def forward_ref(self, lines):
        """A definition moved below its first use."""
        cand = [i for i, ln in enumerate(lines) if defines(ln) and
                any(defines(ln) in refs(x) for x in lines[i + 1:])]
        i = self.pick(cand)
        d = defines(lines[i])
        first = min(j for j in range(i + 1, len(lines))
                    if d in refs(lines[j]))
        at = self.rnd.randint(first + 1, len(lines))
        lines.insert(at, lines.pop(i))
        return Case("forward_ref", lines, first - 1)

    def rule_on_non_firewall(self, lines):
        i = self.pick(self.cmd_lines(lines, lambda ln: ln.words[0] == "rule"))
        lines[i].words[2] = self.pick(["cnt", "pol", "bw", "spare"])
        return Case("rule_on_non_firewall", lines, i)

    def nf_twice_in_chain(self, lines):
        i = self.pick(self.cmd_lines(lines, lambda ln: ln.words[0] == "chain"))
        ln = lines[i]
        ks = [k for k, t in enumerate(ln.types) if t == "N"]
        k = self.pick(ks)
        at = self.pick(ks) + 1
        ln.words.insert(at, ln.words[k])
        ln.types.insert(at, "N")
        return Case("nf_twice_in_chain", lines, i)

    def steer_twice(self, lines):
        i = self.pick(self.cmd_lines(lines, lambda ln: ln.words[0] == "steer"))
        ln = lines[i].copy()
        # the same entry, to another chain: still the same key
        ln.words = [("c1" if w != "c1" else "c2") if t == "C" else w
                    for w, t in zip(ln.words, ln.types)]
        at = self.rnd.randint(i + 1, len(lines))
        lines.insert(at, ln)
        return Case("steer_twice", lines, at)

    def steer_twice_in_many(self, lines):
        """One entry twice among a thousand (the parser's set grows)."""
        at = max(i for i, ln in enumerate(lines) if ln.words and
                 ln.words[:2] == ["steer", "add"]) + 1
        n = self.pick([600, 1100])
        new = []
        for k in range(n):
            if k % 2:
                w = ["steer", "add", "veth1", "dst", "10.%d.%d.0/24" %
                     (k // 256, k % 256), "prio", str(k % 7), "chain", "c2"]
                t = ["o", "c", "d", "k", "p", "k", "n", "k", "C"]
            else:
                w = ["steer", "add", "veth1", "src", "10.0.0.1", "dst",
                     "10.0.0.2", "proto", "udp", "sport", str(k),
                     "dport", "9", "chain", "c3"]
                t = ["o", "c", "d", "k", "p", "k", "p", "k", "r", "k", "P",
                     "k", "P", "k", "C"]
            new.append(Line(w, t))
        dup = self.pick(new[:-1]).copy()
        dup.words[-1] = self.pick(["c1", "c2", "c3"])
        new.append(dup)
        lines[at:at] = new
        return Case("steer_twice_in_many", lines, at + n)

    def type_change(self, lines):
        """An NF of the running state with another type."""
        i = self.pick(self.cmd_lines(lines, lambda ln: ln.words[:2] ==
                                     ["nf", "add"]))
        name = lines[i].words[2]
        old = lines[i].words[3]
        new = self.pick([t for t in ("counter", "firewall", "policer")
                         if t != old])
        w = ["nf", "add", name, new] + (["rate", "1000pps"]
                                        if new == "policer" else [])
        lines[i] = Line(w, ["o", "c", "D", "T"] + ["k", "R"][:len(w) - 4])
        # rules of a firewall that is one no more fail first, in the text
        if new != "firewall":
            for j in range(i + 1, len(lines)):
                if lines[j].words and lines[j].words[:2] == ["rule", "add"] \
                   and lines[j].words[2] == name:
                    return Case("type_change", lines, j)
        return Case("type_change", lines, i)

    def missing_device(self, lines):
        return self.typed(lines, "d", MISSING_DEVS, "missing_device")

    # ---- bytes ----
    def in_word(self, lines, what, kind):
        i = self.pick(self.cmd_lines(lines))
        ln = lines[i]
        k = self.rnd.randrange(len(ln.words))
        w = ln.words[k]
        if isinstance(w, str):
            w = w.encode()
        if len(w) < 2:
            at = len(w) if k == 0 else 0
            w = w + what if at else what + w
            if k == 0:
                w = b"x" + w
        else:
            at = self.rnd.randint(1, len(w) - 1)
            w = w[:at] + what + w[at:]
        ln.words[k] = w
        return Case(kind, lines, i)

    def nul_byte(self, lines):
        if self.rnd.random() < 0.3:
            i = self.rnd.randint(0, len(lines))
            lines.insert(i, Line(raw=b"# a comment \x00 with a NUL"))
            return Case("nul_byte", lines, i)
        return self.in_word(lines, b"\x00", "nul_byte")

    def bad_utf8(self, lines):
        return self.in_word(lines, self.pick(BAD_UTF8), "bad_utf8")

    def control(self, lines):
        return self.in_word(lines, self.pick(CONTROL).encode(), "control")

    def long_word(self, lines):
        i = self.pick(self.cmd_lines(lines))
        ln = lines[i]
        k = self.rnd.randrange(len(ln.words))
        n = self.pick([32, 60, 257, 300, 5000, 70000])
        ln.words[k] = ln.words[k] + self.pick(["a", "1", "\u00e9", "/"]) * n
        return Case("long_word", lines, i)

    def long_line(self, lines):
        """More than 64 words in one command."""
        i = self.pick(self.cmd_lines(lines))
        ln = lines[i]
        n = self.pick([65, 66, 100, 1000])
        ln.words += ["w%d" % k for k in range(n - len(ln.words))]
        ln.types += ["a"] * (n - len(ln.types))
        return Case("long_line", lines, i)

    def truncated(self, lines):
        """The file ends inside or right after a keyword."""
        cand = [(i, k) for i, ln in enumerate(lines) if ln.words
                for k, t in enumerate(ln.types) if t in "kfoc"]
        i, k = self.pick(cand)
        ln = lines[i]
        w = ln.words[k]
        t = ln.types[k]
        if t in "oc" or (t == "f") or self.rnd.random() < 0.5:
            cut = self.rnd.randint(1, len(w) - 1)
            if t == "c" and ln.words[0] in ("nf", "rule", "chain",
                                            "steer", "dev"):
                cut = self.rnd.randint(0, len(w) - 1)
            w = w[:cut]
        # a cut "add" leaves "nf" alone: still wrong
        ln.words = ln.words[:k] + ([w] if w else [])
        ln.types = ln.types[:len(ln.words)]
        del lines[i + 1:]
        return Case("truncated", lines, i, final_nl=False)

    # ---- limits ----
    def too_many_tuples(self, lines):
        """A firewall of more than 64 rules whose rules need more than 64
        tuples (mask shapes): 81 rules of 81 shapes (IPv6 source and
        destination prefix lengths 1-9) right after the firewall's nf
        add, so the 65th of them is the first that does not fit."""
        fw = self.pick(["fw", "fw6"])
        at = min(i for i, ln in enumerate(lines) if ln.words and
                 ln.words[:3] == ["nf", "add", fw]) + 1
        extra = []
        for k in range(81):
            w = ["rule", "add", fw, "src", "::/%d" % (1 + k // 9),
                 "dst", "::/%d" % (1 + k % 9), "action",
                 self.pick(["pass", "drop"])]
            extra.append(Line(w, ["o", "c", "N", "k", "p", "k", "p", "k",
                                  "a"]))
        lines[at:at] = extra
        return Case("too_many_tuples", lines, at + 64)

    def too_many_in_chain(self, lines):
        at = max(i for i, ln in enumerate(lines) if ln.words and
                 ln.words[:2] == ["nf", "add"]) + 1
        n = self.pick([17, 18, 40])
        new = [Line(["nf", "add", "x%d" % k, "counter"], ["o", "c", "D", "T"])
               for k in range(n)]
        lines[at:at] = new
        chain = Line(["chain", "add", "long"] + ["x%d" % k for k in range(n)],
                     ["o", "c", "D"] + ["N"] * n)
        ci = self.rnd.randint(at + n, len(lines))
        lines.insert(ci, chain)
        return Case("too_many_in_chain", lines, ci)

    def too_many_nfs(self, lines):
        have = sum(1 for ln in lines if ln.words and
                   ln.words[:2] == ["nf", "add"])
        at = max(i for i, ln in enumerate(lines) if ln.words and
                 ln.words[:2] == ["nf", "add"]) + 1
        new = [Line(["nf", "add", "x%d" % k, "counter"], ["o", "c", "D", "T"])
               for k in range(129 - have)]
        lines[at:at] = new
        return Case("too_many_nfs", lines, at + len(new) - 1)

    def too_many_chains(self, lines):
        have = sum(1 for ln in lines if ln.words and
                   ln.words[:2] == ["chain", "add"])
        at = max(i for i, ln in enumerate(lines) if ln.words and
                 ln.words[:2] == ["chain", "add"]) + 1
        new = [Line(["chain", "add", "y%d" % k, "cnt"], ["o", "c", "D", "N"])
               for k in range(129 - have)]
        lines[at:at] = new
        return Case("too_many_chains", lines, at + len(new) - 1)

    def too_many_at_once(self, lines):
        """Within the limits, but not with the old ones still there.

        The new NFs and chains are added before the old ones go: a
        policy that drops one and adds enough new ones needs one more
        than the limit at once (apply-time, named at the first one too
        many).
        """
        kind = self.pick(["nf", "chain"])
        old = "spare" if kind == "nf" else "cspare"
        i = [k for k, ln in enumerate(lines) if ln.words and
             ln.words[:3] == [kind, "add", old]][0]
        del lines[i]
        have = sum(1 for ln in lines if ln.words and
                   ln.words[:2] == [kind, "add"])
        at = max(k for k, ln in enumerate(lines) if ln.words and
                 ln.words[:2] == [kind, "add"]) + 1
        if kind == "nf":
            new = [Line(["nf", "add", "x%d" % k, "counter"],
                        ["o", "c", "D", "T"]) for k in range(128 - have)]
        else:
            new = [Line(["chain", "add", "y%d" % k, "cnt"],
                        ["o", "c", "D", "N"]) for k in range(128 - have)]
        lines[at:at] = new
        return Case("too_many_at_once", lines, at + len(new) - 1)

    def too_many_devices(self, lines):
        at = max(i for i, ln in enumerate(lines) if ln.words and
                 ln.words[:2] == ["dev", "attach"]) + 1
        new = [Line(["dev", "attach", "d%d" % k], ["o", "c", "d"])
               for k in range(64)]
        lines[at:at] = new
        return Case("too_many_devices", lines, at + len(new) - 1)

    def bad_in_many(self, lines):
        """One bad line among hundreds of good ones."""
        big = []
        for ln in lines:
            big.append(ln)
            if ln.words and ln.words[:3] == ["nf", "add", "spare"]:
                for k in range(100):
                    big.append(Line(["nf", "add", "m%d" % k, "counter"],
                                    ["o", "c", "D", "T"]))
                    if k % 10 == 0:
                        big.append(Line(raw=b"# counters %d-%d" % (k, k + 9)))
            if ln.words and ln.words[:2] == ["chain", "add"] and \
               ln.words[2] == "cspare":
                for k in range(100):
                    big.append(Line(["chain", "add", "mc%d" % k, "m%d" % k,
                                     "cnt"], ["o", "c", "D", "N", "N"]))
        lines[:] = big
        simple = [self.bad_number, self.bad_ports, self.bad_prefix,
                  self.bad_proto, self.bad_value, self.undefined_ref,
                  self.unknown_word, self.missing_value, self.nul_byte,
                  self.control, self.bad_name, self.keyword_twice]
        c = self.pick(simple)(lines)
        if c:
            c.kind = "bad_in_many"
        return c

    # ---- address sets ----
    def _set_block(self, lines, bad):
        """Sets s4 (ipv4), s6 (ipv6 interval), si (inet) with elements,
        a rule on each, and bad: (line words, index in the block to put
        it at, or None to append) whose line is the one to name."""
        block = [
            "set add s4 type ipv4",
            "set element add s4 192.0.2.1 192.0.2.2",
            "set add s6 type ipv6 interval",
            "set element add s6 fd00::/16 2001:db8::1",
            "set add si type inet",
            "set element add si 192.0.2.9 fd00::9",
            "rule add fw src @s4 action drop",
            "rule add fw6 dst @s6 action drop",
            "rule add fw src @si proto udp action drop",
        ]
        words, at = bad
        at = len(block) if at is None else at
        block.insert(at, words)
        new = [Line(b.split(), ["a"] * len(b.split())) for b in block]
        lines.extend(new)
        return len(lines) - len(new) + at

    def bad_set(self, lines):
        """A bad set add among good set lines."""
        bads = [
            # a bad type, a set twice, a bad name, words missing or extra
            ("set add sx type %s" % self.pick(
                ["ipv5", "IPV4", "inet6", "any", "4", "ip", "interval"]), 0),
            ("set add s4 type ipv6", 2),
            ("set add %s type inet" % self.pick(
                [b for b in BAD_NAMES if ok_word(b)]), None),
            ("set add sx", None),
            ("set add sx type ipv4 interval extra", None),
            ("set add", None),
        ]
        words, at = self.pick(bads)
        return Case("bad_set", lines, self._set_block(lines, (words, at)))

    def bad_set_element(self, lines):
        """An element of the other family, a prefix in a plain set, a bad
        address, of a set not added (above), deleted, none."""
        bads = [
            ("set element add s4 192.0.2.3 %s" % self.pick(
                ["2001:db8::1", "::1", "fd00::/8"]), 2),
            ("set element add s6 %s" % self.pick(
                ["10.0.0.0/8", "192.0.2.1", "0.0.0.0/0"]), 4),
            ("set element add s4 %s" % self.pick(
                ["192.0.2.0/24", "0.0.0.0/0", "10.0.0.0/8"]), 2),
            ("set element add si %s" % self.pick(
                ["300.1.1.1", "fd00::g", "1.2.3", "192.0.2.1/33",
                 "fd00::/129", "-", "@s4", "any", "192.0.2.1-2",
                 "1.2.3.4.5", "192.0.2.01x", "::ffff:1.2.3.4/200"]), 6),
            ("set element add %s 192.0.2.1" % self.pick(
                ["nosuch", "S4", "s"]), 2),
            ("set element add s6 fd00::1", 0),
            ("set element del s4 192.0.2.1", 2),
            ("set element add s4", 2),
            ("set element s4 192.0.2.1", 2),
        ]
        words, at = self.pick(bads)
        return Case("bad_set_element", lines,
                    self._set_block(lines, (words, at)))

    def bad_set_file(self, lines):
        """set load of a file that is not there, not a file, or has a bad
        line; set lines that only the command line has."""
        bads = [
            ("set load s4 %s" % self.pick(
                ["nosuch.txt", "/nonexistent/x", "/dev/null/x", "/proc",
                 "/etc/passwd"]),
             2),
            ("set del s4", 2),
            ("set show", 2),
        ]
        words, at = self.pick(bads)
        return Case("bad_set_file", lines,
                    self._set_block(lines, (words, at)))

    def bad_set_rule(self, lines):
        """A rule that matches a set not added above, or of the other
        family, among good set lines."""
        bads = [
            ("rule add fw src @%s action drop" % self.pick(
                ["nosuch", "S4", "s4x", "fw"]), None),
            ("rule add fw src @s4 action drop", 0),
            ("rule add fw src @s4 dst fd00::/8 action drop", None),
            ("rule add fw6 src @s6 proto icmp action drop", None),
            ("rule add fw src @s4 dst @s6 action drop", None),
            ("rule add fw src @ action drop", None),
        ]
        words, at = self.pick(bads)
        return Case("bad_set_rule", lines,
                    self._set_block(lines, (words, at)))

    # ---- valid rewrites ----
    def valid_rewrite(self, lines):
        for ln in lines:
            if not ln.words:
                continue
            if self.rnd.random() < 0.5:
                self.reorder(ln)
            if self.rnd.random() < 0.3:
                for k, w in enumerate(ln.words):
                    if w in SAME and ln.types[k] not in "DNCd" and \
                       self.rnd.random() < 0.5:
                        ln.words[k] = self.pick(SAME[w])
        return Case("valid_rewrite", lines, None, valid=True)

    def reorder(self, ln):
        """Keyword groups in another order (a chain's NFs stay)."""
        head = 0
        while head < len(ln.types) and ln.types[head] != "k":
            head += 1
        groups = []
        for k in range(head, len(ln.words)):
            if ln.types[k] == "k":
                groups.append([])
            groups[-1].append((ln.words[k], ln.types[k]))
        self.rnd.shuffle(groups)
        flat = [x for g in groups for x in g]
        ln.words[head:] = [w for w, _ in flat]
        ln.types[head:] = [t for _, t in flat]

    def all(self):
        return [m for m in dir(self) if not m.startswith("_") and
                callable(getattr(self, m)) and m not in
                ("pick", "typed", "insert_pair", "all", "cmd_lines",
                 "in_word", "reorder")]


def render(case, rnd, decorate):
    """The file's bytes and, per line of case.lines, its lines in it."""
    out = []
    spans = []
    line = 1
    eol = b"\r\n" if decorate and rnd.random() < 0.2 else b"\n"
    if decorate and rnd.random() < 0.5:
        out.append(b"# tandem policy" + eol)
        line += 1
    for ln in case.lines:
        if decorate and rnd.random() < 0.1:
            out.append(rnd.choice([b"", b"# comment", b"   ", b"\t# x \\"])
                       + eol)
            line += 1
        first = line
        if ln.raw is not None:
            text = ln.raw
        else:
            ws = [w if isinstance(w, bytes) else w.encode() for w in ln.words]
            text = b""
            for k, w in enumerate(ws):
                if k:
                    sep = b" "
                    if decorate and rnd.random() < 0.1:
                        sep = rnd.choice([b"  ", b"\t", b" \t "])
                    if decorate and rnd.random() < 0.04:
                        sep = b" \\" + eol + rnd.choice([b"", b"  ", b"\t"])
                        line += 1
                    text += sep
                text += w
            if decorate and rnd.random() < 0.1:
                text = rnd.choice([b" ", b"\t"]) + text
            if decorate and rnd.random() < 0.1:
                text += rnd.choice([b" ", b"  # trailing comment", b"\t"])
        out.append(text + eol)
        line += 1
        spans.append((first, line - 1))
    data = b"".join(out)
    if not case.final_nl:
        data = data[:-len(eol)]
    return data, spans


def run(tandem, args, timeout=30):
    p = subprocess.run([tandem] + args, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


ERR_RE = re.compile(rb"^tandem: (.*?):(\d+)(?::\d+)?: (.+)\n$", re.S)


def problems(path, rc, out, err, lines, json_mode):
    bad = []
    if rc == 0:
        bad.append("exit 0")
    elif rc < 0:
        bad.append("killed by signal %d" % -rc)
    elif rc not in (1, 2):
        bad.append("exit %d" % rc)
    m = ERR_RE.match(err)
    if err.count(b"\n") != 1 or not m:
        bad.append("stderr is not one 'tandem: FILE:LINE: ...' line: %r" %
                   err[:300])
    elif m.group(1) != path.encode():
        bad.append("stderr names file %r: %r" % (m.group(1), err[:300]))
    elif not lines[0] <= int(m.group(2)) <= lines[1]:
        bad.append("stderr names line %s, not %s: %r" %
                   (m.group(2), "%d" % lines[0] if lines[0] == lines[1]
                    else "%d-%d" % lines, err[:300]))
    if json_mode:
        try:
            doc = json.loads(out.decode("utf-8"))
            if "error" not in doc:
                bad.append("JSON without error: %r" % out[:100])
            elif not doc["error"].startswith("%s:%s" %
                                             (path, m.group(2).decode()
                                              if m else "")):
                bad.append("JSON error %r" % doc["error"][:200])
        except (ValueError, UnicodeDecodeError, TypeError) as e:
            bad.append("stdout is not one JSON document (%s): %r" %
                       (e, out[:200]))
    return bad


def generate(seed, count):
    """The cases, as (name, kind, bytes, span or None), for a seed."""
    rnd = random.Random(seed)
    mut = Mutator(rnd)
    names = mut.all()
    cases = []
    while len(cases) < count:
        name = rnd.choice(names)
        lines = base_lines()
        c = getattr(mut, name)(lines)
        if c is None:
            continue
        data, spans = render(c, rnd, rnd.random() < 0.7)
        span = None if c.valid else spans[c.bad]
        cases.append(("%04d.pol" % len(cases), c.kind, data, span))
    return cases


class Fuzz:
    def __init__(self, opts):
        self.opts = opts
        self.failures = 0

    def fail(self, msg):
        self.failures += 1
        if self.failures <= 30:
            print("# " + msg.replace("\n", "\\n"))

    def state(self):
        t = self.opts.tandem
        return run(t, ["dump"])[1] + run(t, ["-j", "stats"])[1]

    def base_file(self):
        path = os.path.join(self.opts.dir, "base.pol")
        with open(path, "wb") as f:
            f.write(render(Case("base", base_lines(), None), None, False)[0])
        return path

    def reset(self):
        rc, out, err = run(self.opts.tandem, ["apply", self.base_file()])
        if rc:
            print("# applying the base failed: %s" % err.decode())
            sys.exit(1)

    def one(self, path, kind, span):
        t = self.opts.tandem
        if span is None:
            rc, out, err = run(t, ["apply", path])
            if rc or out != b"%s: 0 added, 0 changed, 0 deleted\n" % \
               path.encode() or err:
                self.fail("%s (%s, valid): exit %d: %r %r" %
                          (path, kind, rc, out[:200], err[:300]))
            return
        for args, jm in ((["apply", path], False),
                         (["-j", "apply", path], True),
                         (["apply", "--check", path], False)):
            rc, out, err = run(t, args)
            bad = problems(path, rc, out, err, span, jm)
            if bad:
                self.fail("tandem %s (%s): %s" % (" ".join(args), kind,
                                                  "; ".join(bad)))

    def culprit(self, batch):
        self.reset()
        before = self.state()
        for path, kind, span in batch:
            self.one(path, kind, span)
            if self.state() != before:
                self.fail("%s (%s) changed the state" % (path, kind))
                self.reset()
                before = self.state()

    def go(self):
        cases = generate(self.opts.seed, self.opts.count)
        for name, kind, data, span in cases:
            with open(os.path.join(self.opts.dir, name), "wb") as f:
                f.write(data)
        if self.opts.write_only:
            h = hashlib.sha256()
            for name, kind, data, span in cases:
                h.update(name.encode() + kind.encode() + data +
                         repr(span).encode())
            print(h.hexdigest())
            return 0
        self.reset()
        before = self.state()
        counts = {}
        batch = []
        bisects = 0
        for n, (name, kind, data, span) in enumerate(cases, 1):
            path = os.path.join(self.opts.dir, name)
            counts[kind] = counts.get(kind, 0) + 1
            self.one(path, kind, span)
            batch.append((path, kind, span))
            if len(batch) < self.opts.every and n < len(cases):
                continue
            if self.state() != before:
                self.fail("state changed in files %d-%d" %
                          (n - len(batch) + 1, n))
                bisects += 1
                if bisects <= 3:
                    self.culprit(batch)
                else:
                    self.reset()
                before = self.state()
            batch = []
            if self.failures >= 100:
                print("# stopping after %d files" % n)
                break
        print("# %d policy files (seed %d): %s" %
              (len(cases), self.opts.seed,
               ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
        print("# %d failures" % self.failures)
        return 1 if self.failures else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tandem")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--every", type=int, default=25)
    ap.add_argument("--write-only", action="store_true")
    opts = ap.parse_args()
    if not opts.write_only and not opts.tandem:
        ap.error("--tandem is needed")
    sys.exit(Fuzz(opts).go())


if __name__ == "__main__":
    main()
