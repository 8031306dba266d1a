#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The docs keep up with the command tables (as the kernel's
# test_bpftool_synctypes.py does for bpftool): every object, command,
# alias, keyword and keyword value of 'tandem -j OBJECT help' is named
# in tandem.8 and in cli.rst, and cli.rst's command reference is the
# synopsis the help prints. Needs no privileges and no state.
TOP=$(cd "$(dirname "$0")/.." && pwd)
TANDEM=${TANDEM:-$TOP/build/tandem}
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 4; }

echo "KTAP version 1"
echo "1..2"
python3 - "$TANDEM" "$TOP/Documentation" <<'PY'
import json, re, subprocess, sys

tandem, docs = sys.argv[1], sys.argv[2]
man = open(docs + "/tandem.8").read()
# groff to words: font escapes, \- and \(aq go
man = re.sub(r"\\f[BIRP]", "", man).replace("\\-", "-").replace("\\(aq", "'")
rst = open(docs + "/cli.rst").read()
# every object, tandem's and those the NF types add: from the help
usage = json.loads(subprocess.run([tandem, "-j", "help"], capture_output=True,
                                  check=True).stdout)["usage"]
objects = re.search(r"OBJECT := \{([^}]*)\}", usage).group(1)
objects = [o.strip() for o in objects.split("|")]
assert len(objects) >= 9 and "rule" in objects, objects

def words(obj):
    h = json.loads(subprocess.run([tandem, "-j", obj, "help"],
                                  capture_output=True, check=True).stdout)
    w = {obj}
    for c in h["commands"]:
        w.add(c["command"])
        w.update([c["alias"]] if "alias" in c else [])
        for a in c["args"]:
            for k in ("keyword", "alias"):
                if k in a:
                    w.add(a[k])
            w.update(a.get("values", []))
    return w

def named(text, w):
    return re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", text)

fails = {"tandem.8": [], "cli.rst": []}
for obj in objects:
    for w in sorted(words(obj)):
        for doc, text in (("tandem.8", man), ("cli.rst", rst)):
            if not named(text, w):
                fails[doc].append("%s: %s" % (obj, w))
n = 1
for doc in ("tandem.8", "cli.rst"):
    for f in fails[doc]:
        print("# %s does not name %s" % (doc, f))
# cli.rst's reference lists exactly the synopsis lines of the help
syn = []
for obj in objects:
    out = subprocess.run([tandem, obj, "help"], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        m = re.match(r"^(?:Usage: |       )(tandem .*)$", line)
        if m:
            syn.append(m.group(1))
missing = [s for s in syn if "   " + s + "\n" not in rst]
for s in missing:
    print("# cli.rst's command reference lacks: " + s)
ok1 = not fails["tandem.8"] and not fails["cli.rst"]
print(("ok" if ok1 else "not ok") + " 1 docs_name_every_command_and_keyword")
print(("ok" if not missing else "not ok") + " 2 cli_rst_reference_is_the_help_synopsis")
print("# %d passed, %d failed" % (ok1 + (not missing), 2 - ok1 - (not missing)))
sys.exit(0 if ok1 and not missing else 1)
PY
