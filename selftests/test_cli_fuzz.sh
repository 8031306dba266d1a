#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Thousands of hostile command lines, generated from valid ones with a
# fixed seed (FUZZ_SEED, FUZZ_COUNT to change): each must fail with one
# line on stderr, JSON on stdout with -j, and leave the state as it was.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3

ktap_plan 2
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }

# the bases, unmutated, succeed: a mutation is what makes them fail
check "bases are valid" nsenter --net=/run/netns/"$NS_B" python3 -c '
import sys, subprocess, shutil
sys.path.insert(0, sys.argv[2])
import cli_fuzz as f
t = sys.argv[1]
for line in f.SETUP:
    subprocess.run([t] + line.split(), check=True)
for b in f.BASES:
    argv = f.words(f.parse_base(b))
    p = subprocess.run([t] + argv, capture_output=True)
    if p.returncode:
        sys.exit("base fails: %s: %s" % (" ".join(argv), p.stderr.decode()))
    subprocess.run([t, "dev", "detach", "veth1"], capture_output=True)
    shutil.rmtree("/sys/fs/bpf/tandem", ignore_errors=True)
    for line in f.SETUP:
        subprocess.run([t] + line.split(), check=True)
' "$TANDEM" "$TOP/selftests/lib"
case_end "every_base_command_line_is_valid"

# a fresh state for the fuzzer
nsenter --net=/run/netns/"$NS_B" "$TANDEM" dev detach veth1 >/dev/null 2>&1
rm -rf /sys/fs/bpf/tandem
check "hostile command lines" nsenter --net=/run/netns/"$NS_B" \
	python3 "$TOP/selftests/lib/cli_fuzz.py" --tandem "$TANDEM" \
	--pin-root /sys/fs/bpf/tandem --seed "${FUZZ_SEED:-6}" \
	--count "${FUZZ_COUNT:-4000}"
sed 's/^/#   /' "$TMP/check.out" | head -40
case_end "hostile_command_lines_fail_cleanly_and_change_nothing"

ktap_finish
