#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Hostile policy files through the real CLI (selftests/lib/policy_fuzz.py):
# thousands of bad files made from a valid one with a fixed seed
# (FUZZ_SEED, FUZZ_COUNT to change), each broken on a known line. Each must
# fail with one line "tandem: FILE:LINE[:COL]: ..." naming that line, the
# same with -j (as JSON) and with --check, and leave 'tandem dump' and
# 'tandem -j stats' byte for byte as they were. Valid rewrites of the base
# must apply with no change.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3

GEN=$TOP/selftests/lib/policy_fuzz.py
SEED=${FUZZ_SEED:-7}
COUNT=${FUZZ_COUNT:-2000}

ktap_plan 4
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
# nothing may cross veth1 while the counters are compared: ns A sends no
# IPv6 router solicitations or MLD reports
ip netns exec "$NS_A" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1

# the generator makes the same files for the same seed
mkdir -p "$TMP/a" "$TMP/b"
check "generator is deterministic" test \
	"$(python3 "$GEN" --dir "$TMP/a" --seed "$SEED" --count 300 --write-only)" = \
	"$(python3 "$GEN" --dir "$TMP/b" --seed "$SEED" --count 300 --write-only)"
case_end "the_generator_is_deterministic_for_a_seed"

# the base applies, and once more changes nothing
python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import policy_fuzz as f
sys.stdout.buffer.write(f.render(f.Case("base", f.base_lines(), None),
                                 None, False)[0])' "$TOP/selftests/lib" > "$TMP/base.pol"
check "the base applies" tdm apply "$TMP/base.pol"
check "the base again changes nothing" output_has \
	": 0 added, 0 changed, 0 deleted" tdm apply "$TMP/base.pol"
case_end "the_base_policy_applies"

# the policy as tandem dump writes it changes nothing
tdm dump > "$TMP/dump.pol"
check "the dump applies with no change" output_has \
	": 0 added, 0 changed, 0 deleted" tdm apply "$TMP/dump.pol"
case_end "the_dump_applies_with_no_change"

mkdir -p "$TMP/f"
t0=$(date +%s)
check "hostile policy files" nsenter --net=/run/netns/"$NS_B" \
	python3 "$GEN" --tandem "$TANDEM" --dir "$TMP/f" --seed "$SEED" \
	--count "$COUNT"
sed 's/^/#   /' "$TMP/check.out" | head -40
echo "# $COUNT files in $(($(date +%s) - t0)) s"
case_end "hostile_policy_files_fail_on_their_line_and_change_nothing"

ktap_finish
