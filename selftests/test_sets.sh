#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Address sets driven by the CLI on veth: a blocklist of SET_SIZE
# (default 100,000) addresses loaded from a file, datagrams from a
# blocked and an unblocked source over IPv4 and IPv6, an element
# deleted unblocks live, set del refused while a rule uses the set; then
# hundreds of generated bad commands, each one clear error that leaves
# the sets as they were. Then sets in policy files: a blocklist applied
# from a file, its elements changed live by another, dump -> apply a
# no-op, every change of an apply failed (TANDEM_FAIL_AT) or killed
# (TANDEM_CRASH_AT) leaving the old state or the new one whole, and bad
# set lines refused at their line with nothing changed.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 jq

SET_SIZE=${SET_SIZE:-100000}
# rounds of generated bad elements and rules (11 commands each; guests 1)
SET_BAD_ROUNDS=${SET_BAD_ROUNDS:-40}
# fail and kill every Nth change / crash point of a set apply (run_all's
# guest knobs, capped: an apply of sets has about 20 crash points)
SET_FAIL_STRIDE=$(( ${FAIL_STRIDE:-1} > 3 ? 3 : ${FAIL_STRIDE:-1} ))
SET_CRASH_STRIDE=$(( ${CRASH_STRIDE:-1} > 5 ? 5 : ${CRASH_STRIDE:-1} ))
ktap_plan 8
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
# a second source in ns A, which no set holds
in_a ip addr add 10.10.0.3/24 dev veth0
in_a ip -6 addr add fd00::3/64 dev veth0 nodad

# the blocklist: our first sources and SET_SIZE - 2 others
python3 - "$SET_SIZE" > "$TMP/block.txt" <<'PY'
import sys
n = int(sys.argv[1])
print("# the blocklist")
print("10.10.0.1")
print("fd00::1")
for i in range(n - 2):
    if i % 2:
        print("2001:db8:%x::%x" % (i >> 16, i & 0xffff))
    else:
        print("172.%d.%d.%d" % (16 + (i >> 16), (i >> 8) & 255, i & 255))
PY
check "set add" tdm set add block type inet
t0=$(date +%s.%N)
check "set load" tdm set load block "$TMP/block.txt"
t1=$(date +%s.%N)
echo "# $SET_SIZE addresses loaded in $(echo "$t1 - $t0" | bc 2>/dev/null || python3 -c "print(round($t1 - $t0, 2))") s"
s=$(tdm -j set show)
expect "set show: elements" "$(jq '.sets[0].elements' <<< "$s")" -eq "$SET_SIZE"
check "nf add fw" tdm nf add fw firewall default pass
check "rule src @block" tdm rule add fw src @block action drop
check "chain add" tdm chain add c fw then pass
check "attach" tdm dev attach veth1 chain c
output_has "src @block" tdm rule show fw
case_end "blocklist_loaded_from_a_file"

send_from()	# SRC DST PORT NAME: 50 datagrams from SRC, count in NAME
{
	udp_recv_start "$3" "$4"; local p=$!
	in_a $UDP send "$2" "$3" --src "$1" --count 50 --rate 2000 > /dev/null
	udp_recv_wait $p "$4"
}
send_from 10.10.0.1 10.10.0.2 7001 b4
send_from 10.10.0.3 10.10.0.2 7002 u4
send_from fd00::1 fd00::2 7003 b6
send_from fd00::3 fd00::2 7004 u6
expect "IPv4 blocked source" "$(udp_count b4)" -eq 0
expect "IPv4 other source" "$(udp_count u4)" -eq 50
expect "IPv6 blocked source" "$(udp_count b6)" -eq 0
expect "IPv6 other source" "$(udp_count u6)" -eq 50
case_end "blocked_sources_dropped_others_pass_ipv4_and_ipv6"

check "element del" tdm set element del block 10.10.0.1 fd00::1
send_from 10.10.0.1 10.10.0.2 7005 b4b
send_from fd00::1 fd00::2 7006 b6b
expect "IPv4 unblocked live" "$(udp_count b4b)" -eq 50
expect "IPv6 unblocked live" "$(udp_count b6b)" -eq 50
check "element add" tdm set element add block 10.10.0.1
send_from 10.10.0.1 10.10.0.2 7007 b4c
expect "IPv4 blocked again" "$(udp_count b4c)" -eq 0
check_fail "set del while used" "in use" tdm set del block
# the dump holds the set, its SET_SIZE elements and the rule: applied,
# it changes nothing, and the source stays blocked
tdm dump > "$TMP/dump.conf"
expect "dump exits 0" "$?" -eq 0
check "the dump applies with no change" output_has \
	": 0 added, 0 changed, 0 deleted" tdm apply "$TMP/dump.conf"
output_has "src @block" tdm rule show fw
send_from 10.10.0.1 10.10.0.2 7008 b4d
expect "IPv4 still blocked" "$(udp_count b4d)" -eq 0
# what set show prints reads back: IPv6's /0 is ::/0, not "any"
check "interval set" tdm set add all6 type ipv6 interval
check "::/0 in it" tdm set element add all6 ::/0
m=$(tdm -j set show all6 | jq -r '.sets[0].members[0]')
expect "::/0 shows as ::/0" "$m" = "::/0"
check "and reads back" tdm set element del all6 "$m"
# a count a killed command left behind never wraps below 0
TANDEM_CRASH_AT=1 nsenter --net=/run/netns/"$NS_B" "$TANDEM" set element add all6 ::/0 \
	> /dev/null 2>&1
check "element del after a killed add" tdm set element del all6 ::/0
expect "the count did not wrap" \
	"$(tdm -j set show all6 | jq '.sets[0].elements')" -eq 0
check "set del" tdm set del all6
case_end "element_changes_are_live_set_del_refused_while_used"

# bad commands: each fails with one line on stderr, sets unchanged
check "set add v4" tdm set add v4 type ipv4
check "set add v6i" tdm set add v6i type ipv6 interval
check "element v4" tdm set element add v4 192.0.2.1
before=$(tdm -j set show)
printf '192.0.2.9\n::1\n' > "$TMP/bad-family.txt"
printf '192.0.2.9\nnot-an-address\n' > "$TMP/bad-addr.txt"
printf '192.0.2.0/24\n' > "$TMP/bad-prefix.txt"
bad=0 n=0
# (the error is read by bash, not by a wc and a grep: a guest pays for
# every process)
run_bad()
{
	local err
	n=$((n + 1))
	if tdm "$@" > "$TMP/bad.out" 2> "$TMP/bad.err"; then
		echo "# succeeded: tandem $*"
		bad=$((bad + 1))
		return
	fi
	mapfile err < "$TMP/bad.err"
	if [ "${#err[@]}" -ne 1 ] || [[ ${err[0]} != "tandem: "*$'\n' ]]; then
		echo "# not one error line: tandem $*"
		sed 's/^/#   /' "$TMP/bad.err" | head -3
		bad=$((bad + 1))
	fi
}
names=("" "a b" "$(printf 'x%.0s' {1..40})" "a/b" "é" "a:b" "@v4")
for nm in "${names[@]}"; do
	run_bad set add "$nm" type ipv4
	run_bad set element add "$nm" 192.0.2.1
	run_bad set load "$nm" "$TMP/block.txt"
	run_bad set del "$nm"
	run_bad set show "$nm"
done
for ty in ipv5 IPV4 inet6 "" any 4; do
	run_bad set add newset type "$ty"
done
run_bad set add newset
run_bad set add newset type ipv4 interval extra
run_bad set add v4 type ipv4
for i in $(seq 1 "$SET_BAD_ROUNDS"); do
	run_bad set element add v4 "2001:db8::$i"
	run_bad set element add v4 "192.0.$i.0/24"
	run_bad set element add v4 192.0.2.$i "::$i"
	run_bad set element add v6i "192.0.2.$i"
	run_bad set element add v6i "2001:db8:$i::/200"
	run_bad set element del v4 "198.51.100.$i"
	run_bad set element add "nope$i" 192.0.2.1
	run_bad set element add v4 "192.0.2.$((i + 300))"
	run_bad rule add fw src "@nope$i" action drop
	run_bad rule add fw src @v4 dst "2001:db8::$i" action drop
	run_bad rule add fw src @v6i proto icmp action drop
done
run_bad set element add v4
run_bad set element frob v4 192.0.2.1
run_bad set load v4 "$TMP/bad-family.txt"
run_bad set load v4 "$TMP/bad-addr.txt"
run_bad set load v4 "$TMP/bad-prefix.txt"
run_bad set load v4 "$TMP/no-such-file"
run_bad steer add veth1 src @v4 chain c
run_bad set del nope
expect "bad commands refused ($n)" "$bad" -eq 0
expect "at least $((SET_BAD_ROUNDS * 11)) bad commands" "$n" -ge $((SET_BAD_ROUNDS * 11))
check_fail "load names FILE:LINE" "bad-family.txt:2" tdm set load v4 "$TMP/bad-family.txt"
after=$(tdm -j set show)
expect "set show unchanged" "$before" = "$after"
case_end "bad_commands_one_clear_error_nothing_changes"

# ---- sets in policy files ----
fail()
{
	echo "# $*"
	case_failed=1
}
# snapshot: the state as a policy, and the sets' counts
snap()
{
	{ tdm dump; tdm -j set show; } > "$1" 2>&1
}
printf '# nets\n192.0.2.0/24\n198.51.100.0/24\n' > "$TMP/nets.txt"
policy()	# BLOCKED...: the policy file, blocking those sources
{
	cat <<POL
set add pblock type inet
set element add pblock $*
set add pnets type ipv4 interval
set load pnets nets.txt
nf add fw firewall default pass
rule add fw src @pnets action drop
rule add fw prio 10 src @pblock proto udp action drop
chain add c fw then pass
dev attach veth1 chain c
POL
}
policy 10.10.0.3 fd00::3 > "$TMP/P1.conf"
check "apply P1" tdm apply "$TMP/P1.conf"
expect "the CLI's sets are gone" "$(tdm -j set show | jq '.sets | length')" -eq 2
send_from 10.10.0.3 10.10.0.2 7101 p1b4
send_from 10.10.0.1 10.10.0.2 7102 p1u4
send_from fd00::3 fd00::2 7103 p1b6
send_from fd00::1 fd00::2 7104 p1u6
expect "P1: IPv4 blocked source" "$(udp_count p1b4)" -eq 0
expect "P1: IPv4 other source" "$(udp_count p1u4)" -eq 50
expect "P1: IPv6 blocked source" "$(udp_count p1b6)" -eq 0
expect "P1: IPv6 other source" "$(udp_count p1u6)" -eq 50
check "P1 again changes nothing" output_has \
	": 0 added, 0 changed, 0 deleted" tdm apply "$TMP/P1.conf"
case_end "a_set_blocklist_from_a_policy_file_drops_blocked_sources"

# other elements: a changed set, the rules kept (their ids too)
rules1=$(tdm -j rule show fw)
policy 10.10.0.1 fd00::3 > "$TMP/P2.conf"
check "apply P2: one set changed" output_has \
	": 0 added, 1 changed, 0 deleted" tdm apply "$TMP/P2.conf"
expect "the rules are as they were" "$(tdm -j rule show fw)" = "$rules1"
send_from 10.10.0.3 10.10.0.2 7105 p2u4
send_from 10.10.0.1 10.10.0.2 7106 p2b4
send_from fd00::3 fd00::2 7107 p2b6
expect "P2: 10.10.0.3 passes now" "$(udp_count p2u4)" -eq 50
expect "P2: 10.10.0.1 blocked now" "$(udp_count p2b4)" -eq 0
expect "P2: fd00::3 still blocked" "$(udp_count p2b6)" -eq 0
expect "P2: the count" "$(tdm -j set show | jq '.sets[] | select(.name == "pblock") | .elements')" -eq 2
tdm dump > "$TMP/dumpP2.conf"
expect "dump exits 0" "$?" -eq 0
check "the dump has the elements" output_has "set element add pblock" cat "$TMP/dumpP2.conf"
check "dump -> apply is a no-op" output_has \
	": 0 added, 0 changed, 0 deleted" tdm apply "$TMP/dumpP2.conf"
check "apply --check of P1: one change" output_has \
	" 0 added, 1 changed, 0 deleted" tdm apply --check "$TMP/P1.conf"
case_end "an_apply_changes_a_sets_elements_live_dump_round_trips"

# P3 changes every kind of set change: a set added and used, elements
# added and deleted, a set and its rule deleted. Every change failed on
# purpose, then killed at every crash point: P2 or P3, whole.
cat > "$TMP/P3.conf" <<'POL'
set add pblock type inet
set element add pblock 10.10.0.3 fd00::3 2001:db8::1
set add pnew type ipv6
set element add pnew fd00::1
nf add fw firewall default pass
rule add fw prio 10 src @pblock proto udp action drop
rule add fw dst @pnew action drop
chain add c fw then pass
dev attach veth1 chain c
POL
snap "$TMP/snap2"
n=0
while :; do
	n=$((n + SET_FAIL_STRIDE))
	out=$(TANDEM_FAIL_AT=$n tdm apply "$TMP/P3.conf" 2>&1) && break
	grep -q "TANDEM_FAIL_AT" <<< "$out" || { fail "failure $n: $out"; break; }
	snap "$TMP/snapF"
	if ! diff "$TMP/snap2" "$TMP/snapF" > "$TMP/diffF"; then
		fail "failure at change $n left the state changed"
		head -10 "$TMP/diffF" | sed 's/^/# /'
		break
	fi
	[ $n -gt 50 ] && { fail "no end"; break; }
done
expect "P3 has changes to fail" "$n" -gt 3
# back and forth, the sets take other ids: compared by name below
ssnap()
{
	{ tdm dump | sort; tdm -j set show | jq -S '.sets | sort_by(.name)'; } \
		> "$1" 2>&1
}
ssnap "$TMP/snap3"
check "back to P2" tdm apply "$TMP/P2.conf"
ssnap "$TMP/snap2"
n=0 olds=0 news=0
while :; do
	n=$((n + SET_CRASH_STRIDE))
	TANDEM_CRASH_AT=$n tdm apply "$TMP/P3.conf" > "$TMP/killed" 2>&1
	rc=$?
	[ $rc -eq 0 ] && break
	[ $rc -ne 137 ] && { fail "killed at $n: exit $rc, $(cat "$TMP/killed")"; break; }
	ssnap "$TMP/snapK"
	if diff -q "$TMP/snap2" "$TMP/snapK" > /dev/null; then
		olds=$((olds + 1))
	elif diff -q "$TMP/snap3" "$TMP/snapK" > /dev/null; then
		news=$((news + 1))
		tdm apply "$TMP/P2.conf" > /dev/null || { fail "back to P2"; break; }
	else
		fail "killed at $n: neither P2 nor P3"
		diff "$TMP/snap2" "$TMP/snapK" | head -10 | sed 's/^/# /'
		break
	fi
	[ $n -gt 500 ] && { fail "no end"; break; }
done
echo "# killed at $((n / SET_CRASH_STRIDE - 1)) points (every ${SET_CRASH_STRIDE}th): $olds back to P2, $news on to P3"
expect "some kills rolled back" "$olds" -gt 0
# the deletions after the commit are the last points: a stride may miss them
[ "$SET_CRASH_STRIDE" -eq 1 ] && expect "some kills rolled forward" "$news" -gt 0
ssnap "$TMP/snapK"
check "at P3" diff "$TMP/snap3" "$TMP/snapK"
send_from fd00::3 fd00::2 7108 p3b6
send_from fd00::1 fd00::2 7109 p3p6
send_from 10.10.0.1 10.10.0.2 7110 p3u4
expect "P3: fd00::3 blocked" "$(udp_count p3b6)" -eq 0
expect "P3: 10.10.0.1 passes" "$(udp_count p3u4)" -eq 50
expect "P3: to fd00::2 from fd00::1 passes (dst @pnew is fd00::1)" "$(udp_count p3p6)" -eq 50
case_end "a_failed_or_killed_set_apply_leaves_the_old_or_new_state"

# bad set lines: each refused at its line (and the set file's), with
# --check too, and nothing changes; so is a set whose type changes
snap "$TMP/snap3"
printf 'fd00::1\n# a comment\nfd00::zz\n' > "$TMP/badset.txt"
printf 'fd00::1\n192.0.2.5\n' > "$TMP/famset.txt"
bad_line()	# LINE [SED]: P3 with line LINE of it replaced by SED's
{
	local n=$1
	shift
	sed "$n""c\\$*" "$TMP/P3.conf" > "$TMP/bad.conf"
	for c in "" --check; do
		if tdm apply $c "$TMP/bad.conf" > "$TMP/bad.out" 2> "$TMP/bad.err"; then
			fail "line $n '$*' applied"
		elif [ "$(wc -l < "$TMP/bad.err")" -ne 1 ] ||
		     ! grep -q "^tandem: $TMP/bad.conf:$n[:]" "$TMP/bad.err"; then
			fail "line $n '$*': not one error naming the line: $(cat "$TMP/bad.err")"
		fi
	done
}
bad_line 1 "set add pblock type ipv5"
bad_line 3 "set add pblock type ipv6"
bad_line 2 "set element add pblock 10.10.0.3 fd00::3 300.1.2.3"
bad_line 4 "set element add pnew 10.10.0.1"
bad_line 4 "set element add pnew fd00::/64"
bad_line 4 "set element add pnope fd00::1"
bad_line 4 "set element del pnew fd00::1"
bad_line 4 "set load pnew badset.txt"
check_fail "the set file's line" "badset.txt:3" tdm apply "$TMP/bad.conf"
bad_line 4 "set load pnew famset.txt"
bad_line 4 "set load pnew nosuch.txt"
bad_line 7 "rule add fw dst @pnope action drop"
bad_line 7 "rule add fw dst @pnew proto icmp action drop"
bad_line 6 "rule add fw prio 10 src @pnew dst 10.0.0.0/8 action drop"
# against the running state: pblock is inet, not inet interval
bad_line 1 "set add pblock type inet interval"
check_fail "a set's type cannot change" "type cannot change" tdm apply "$TMP/bad.conf"
snap "$TMP/snapB"
check "nothing changed" diff "$TMP/snap3" "$TMP/snapB"
case_end "bad_set_lines_refused_at_their_line_nothing_changes"

ktap_finish
