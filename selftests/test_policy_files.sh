#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Hostile policy files through the real CLI (selftests/lib/policy_fuzz.py):
# thousands of bad files made from a valid one with a fixed seed
# (FUZZ_SEED, FUZZ_COUNT to change), each broken on a known line. Each must
# fail with one line "tandem: FILE:LINE[:COL]: ..." naming that line, the
# same with -j (as JSON) and with --check, and leave 'tandem dump' and
# 'tandem -j stats' byte for byte as they were. Valid rewrites of the base
# must apply with no change. A policy that changes everything, failed on
# purpose at each change in turn, and one that fails by itself half way,
# must leave the state as it was.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3

GEN=$TOP/selftests/lib/policy_fuzz.py
SEED=${FUZZ_SEED:-7}
COUNT=${FUZZ_COUNT:-2000}

ktap_plan 5
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
# nothing may cross veth1 while the counters are compared: ns A sends no
# IPv6 router solicitations or MLD reports
ip netns exec "$NS_A" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1

# the generator makes the same files for the same seed
mkdir -p "$TMP/a" "$TMP/b"
n=$((COUNT < 300 ? COUNT : 300))
check "generator is deterministic" test \
	"$(python3 "$GEN" --dir "$TMP/a" --seed "$SEED" --count $n --write-only)" = \
	"$(python3 "$GEN" --dir "$TMP/b" --seed "$SEED" --count $n --write-only)"
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

# A policy that changes every kind of object, failed on purpose at each
# of its changes in turn (TANDEM_FAIL_AT=N; the last one is the commit,
# of no line): every failure takes all back.
cat > "$TMP/change.pol" <<'POL'
nf add fw firewall default pass
nf add fw6 firewall
nf add pol policer rate 20kpps burst 100
nf add bw policer rate 100mbit burst 64k per source
nf add cnt counter
nf add new1 counter
nf add new2 firewall default drop
rule add fw proto tcp dport 23 action pass
rule add fw src 10.0.0.0/8 prio 5 proto udp sport 53 action pass
rule add fw6 dst ::/0 proto icmpv6 action drop
rule add new2 proto udp action pass
chain add c1 fw new1
chain add c2 pol then drop
chain add c3 bw fw6 new2 then tx
chain add c4 new1 then redirect veth1
dev attach veth1 chain c4
steer add veth1 proto udp dport 53 chain c1
steer add veth1 src 10.0.0.1 dst 10.0.0.2 proto udp sport 1 dport 2 chain c2
steer add veth1 dst fd00::/64 prio 9 chain c3
steer add veth1 dst 10.5.0.0/16 chain c4
POL
snapshot()
{
	tdm dump && tdm -j stats
}
snapshot > "$TMP/before"
n=0
for at in $(seq 1 100); do
	TANDEM_FAIL_AT=$at tdm apply "$TMP/change.pol" > "$TMP/out" 2> "$TMP/err"
	rc=$?
	[ $rc -eq 0 ] && break
	n=$((n + 1))
	if [ "$(wc -l < "$TMP/err")" -ne 1 ] ||
	   ! grep -qE "^tandem: $TMP/change.pol(:[0-9]+)?: failed on purpose at change $at \(TANDEM_FAIL_AT\)" \
		"$TMP/err"; then
		echo "# check failed: change $at: exit $rc, stderr:"
		sed 's/^/#   /' "$TMP/err" | head -5
		case_failed=1
	fi
	snapshot > "$TMP/after"
	if ! cmp -s "$TMP/before" "$TMP/after"; then
		echo "# check failed: failed at change $at, the state is not as before:"
		diff "$TMP/before" "$TMP/after" | head -10 | sed 's/^/#   /'
		case_failed=1
		tdm apply "$TMP/base.pol" > /dev/null
	fi
done
echo "# $n changes failed on purpose"
expect "changes the policy makes" "$n" -ge 12
check "the policy applies after all" output_has ": 0 added, 0 changed, 0 deleted" \
	tdm apply "$TMP/change.pol"
check "the base applies again" tdm apply "$TMP/base.pol"
# and one that fails by itself half way: 17 steering rules would cover
# one destination (a limit of the datapath's tables, known only when
# they are written), after NFs, rules and chains were changed
{ grep -v '^steer' "$TMP/change.pol"
  for i in $(seq 1 17); do
	echo "steer add veth1 dst 10.0.0.0/8 proto udp dport $i chain c2"
  done; } > "$TMP/bucket.pol"
snapshot > "$TMP/before"
check_fail "17 rules covering one prefix" "^tandem: $TMP/bucket.pol:[0-9]*: more than 16 steering rules" \
	tdm apply "$TMP/bucket.pol"
snapshot > "$TMP/after"
check "nothing changed" cmp "$TMP/before" "$TMP/after"
case_end "a_failure_half_way_takes_every_change_back"

mkdir -p "$TMP/f"
t0=$(date +%s)
check "hostile policy files" nsenter --net=/run/netns/"$NS_B" \
	python3 "$GEN" --tandem "$TANDEM" --dir "$TMP/f" --seed "$SEED" \
	--count "$COUNT"
sed 's/^/#   /' "$TMP/check.out" | head -40
echo "# $COUNT files in $(($(date +%s) - t0)) s"
case_end "hostile_policy_files_fail_on_their_line_and_change_nothing"

ktap_finish
