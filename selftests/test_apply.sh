#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Policy files: tandem apply makes the running state what the file says,
# all or nothing. Two policies, A and B, differ in every way an apply can
# change a state. Checked with packets (the receiving kernel's counters),
# with the state as tandem shows it, and by failing (TANDEM_FAIL_AT) and
# killing (TANDEM_CRASH_AT) an apply at every step.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 jq

STRIDE=${CRASH_STRIDE:-1}	# kill at every STRIDE-th crash point
# The two guests share the failures and the kills of A -> B, as they
# share test_crash's crash points (KILL_STRIDE 2): the first kernel
# (KILL_FIRST 1) fails changes, the second kills applies; the host, and
# a run of one kernel, do both. Both cases undo or finish the same
# kernel operations an apply makes, which every kernel runs in the other
# cases; what differs is the journal and the rollback, user space.
FAILS=1 KILLS=1
if [ "${KILL_STRIDE:-1}" -gt 1 ]; then
	if [ "${KILL_FIRST:-1}" -eq 1 ]; then KILLS=0; else FAILS=0; fi
fi
FSTRIDE=${FAIL_STRIDE:-1}	# fail every FSTRIDE-th change
LARGE=${APPLY_LARGE:-5000}	# steering rules, and as many exact entries
ktap_plan 11
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
peer_start || exit $KSFT_FAIL
# more devices in ns B: veth pairs (the kernel may lack dummy)
for d in dum0 dum1 dum2; do
	ip -n "$NS_B" link add $d type veth peer name ${d}p &&
	ip -n "$NS_B" link set $d up && ip -n "$NS_B" link set ${d}p up
done

cat > "$TMP/A.conf" <<'EOF'
# policy A
nf add fw firewall default pass
rule add fw proto udp dport 9001 action drop
rule add fw src fd00::1 proto udp dport 9003 action drop
rule add fw prio 50 proto tcp dport 22 action pass
nf add cnt counter
nf add cnt2 counter
nf add pol policer rate 100000pps burst 1000
nf add gone counter
chain add main fw cnt pol
chain add sink cnt2 then drop
chain add old gone
nf add dc counter
chain add dumchain dc
dev attach veth1 chain main
dev attach dum0 chain dumchain mode generic
dev attach dum2 mode generic
steer add veth1 proto udp dport 9002 chain sink
steer add veth1 src 10.10.0.1 dst 10.10.0.2 proto udp sport 5000 dport 9004 \
	chain sink
steer add veth1 proto udp dport 9005 chain old
EOF

# B: rules kept, added and deleted; a policer changed; NFs, chains and
# devices added, changed and deleted; steering entries kept, added,
# changed in place and deleted
cat > "$TMP/B.conf" <<'EOF'
nf add fw firewall default pass
rule add fw proto udp dport 9001 action drop
rule add fw proto udp dport 9006 action drop
rule add fw prio 50 proto tcp dport 22 action pass
nf add cnt counter
nf add cnt2 counter
nf add pol policer rate 50000pps burst 1000
nf add new counter
chain add main fw cnt pol new
chain add sink cnt2 then drop
chain add fresh new then drop
nf add dc counter
chain add dumchain dc
chain add dumchain2 dc then drop
dev attach veth1 chain main
dev attach dum0 chain dumchain2 mode generic
dev attach dum1 chain dumchain mode generic
steer add veth1 proto udp dport 9002 chain sink
steer add veth1 src 10.10.0.1 dst 10.10.0.2 proto udp sport 5000 dport 9004 chain fresh
steer add veth1 proto udp dport 9007 chain fresh
EOF

# The state as tandem shows it, ids included, in one file: what the
# kernel re-creates on its own (program and link ids, a chain's
# replace generation) left out. Counters of the NFs of steered chains
# only: the default chain also sees what the kernel sends on its own.
# (one jq for the three filtered listings: in a guest a process is dear)
snap()
{
	local nfs
	nfs=$(tdm -j nf show 2>&1)
	{
		tdm dump
		echo "$nfs"
		for fw in $(jq -r '.[] | select(.type == "firewall") | .name' <<< "$nfs"); do
			tdm -j rule show "$fw"
		done
		tdm -j steer show
		{ tdm -j chain show; tdm -j dev show; tdm -j stats; } |
			jq -cs '(.[0][] | del(.generation)), (.[1][] | del(.prog_id, .link_id)),
				(.[2].nf[] | select(.name == "cnt2" or .name == "gone"))'
	} > "$1" 2>&1
}

# reset_A: A made from nothing, so its ids are always the same, and 20
# datagrams through chain sink (counted by cnt2)
reset_A()
{
	: > "$TMP/empty.conf"
	tdm apply "$TMP/empty.conf" > /dev/null && tdm apply "$TMP/A.conf" > /dev/null &&
		[ "$(udp_delta 9002 20)" -eq 0 ]
}

fail()
{
	echo "# check failed: $1"
	case_failed=1
}

# UDP datagrams ns B's stack took in, to a socket or to no port: read
# in bash from ns B's /proc/net through PEER_PID, with no process
udp_in_b()
{
	local hdr val i n=0
	{
		while read -r -a hdr && [ "${hdr[0]}" != Udp: ]; do :; done
		read -r -a val
	} < /proc/"$PEER_PID"/net/snmp
	for i in "${!hdr[@]}"; do
		case ${hdr[i]} in
		InDatagrams|NoPorts|RcvbufErrors) n=$((n + val[i])) ;;
		esac
	done
	echo $n
}

# udp_delta PORT COUNT [SPORT]: datagrams to PORT that reached ns B's stack
udp_delta()
{
	local before
	before=$(udp_in_b)
	in_a $UDP send 10.10.0.2 "$1" --count "$2" --sport "${3:-0}" > /dev/null
	sleep 0.2
	echo $(( $(udp_in_b) - before ))
}

check "apply A" output_has "$TMP/A.conf: 16 added, 0 changed, 0 deleted" \
	tdm apply "$TMP/A.conf"
expect "9000 passes" "$(udp_delta 9000 20)" -eq 20
expect "9001: the firewall drops" "$(udp_delta 9001 20)" -eq 0
expect "9002: steered to a chain that drops" "$(udp_delta 9002 20)" -eq 0
expect "9005: steered to chain old, which passes" "$(udp_delta 9005 20)" -eq 20
expect "9004 from port 5000: the exact entry, to sink" "$(udp_delta 9004 20 5000)" -eq 0
expect "9006 passes under A" "$(udp_delta 9006 20)" -eq 20
expect "cnt2 counted the sink's 40" "$(nf_stat cnt2 packets)" -eq 40
case_end "a_policy_file_brings_the_datapath_up"

snap "$TMP/snapA"
tdm dump > "$TMP/dumpA.conf"
check "apply of the dump" output_has "0 added, 0 changed, 0 deleted" \
	tdm apply "$TMP/dumpA.conf"
check "apply A again" output_has "0 added, 0 changed, 0 deleted" \
	tdm apply "$TMP/A.conf"
snap "$TMP/snapA2"
check "the state did not change" diff "$TMP/snapA" "$TMP/snapA2"
check "--check" output_has "would have 5 added, 5 changed, 4 deleted" \
	tdm apply --check "$TMP/B.conf"
snap "$TMP/snapA3"
check "--check changed nothing" diff "$TMP/snapA" "$TMP/snapA3"
case_end "dump_round_trip_and_check_change_nothing"

# a bad line anywhere: nothing changes, the error names file and line
printf 'nf add x counter\nchain add y x\nrule add x action drop\n' > "$TMP/bad1.conf"
check_fail "a rule for a counter" "bad1.conf:3:10: NF 'x' is a counter" \
	tdm apply "$TMP/bad1.conf"
{ cat "$TMP/B.conf"; echo "dev attach nosuchdev chain main"; } > "$TMP/bad2.conf"
check_fail "a missing device" "bad2.conf:21: device 'nosuchdev' does not exist" \
	tdm apply "$TMP/bad2.conf"
sed 's/^nf add pol policer.*/nf add pol firewall/' "$TMP/B.conf" > "$TMP/bad3.conf"
check_fail "a type change" "bad3.conf:7: NF 'pol' is a policer, the policy makes it a firewall" \
	tdm apply "$TMP/bad3.conf"
snap "$TMP/snapA4"
check "nothing changed" diff "$TMP/snapA" "$TMP/snapA4"
case_end "a_bad_file_changes_nothing"

# every change of A -> B fails once on purpose: the state is A again
if [ "$FAILS" -eq 0 ]; then
	case_skip "a_failure_at_every_change_restores_the_state" "the other guest fails changes (KILL_FIRST=${KILL_FIRST:-1})"
else
check "reset to A" reset_A
snap "$TMP/snapA"
n=0
while :; do
	n=$((n + FSTRIDE))
	out=$(TANDEM_FAIL_AT=$n tdm apply "$TMP/B.conf" 2>&1) && break
	[ $n -eq 1 ] && echo "# $out"
	if ! grep -q "TANDEM_FAIL_AT" <<< "$out"; then
		fail "failure $n: $out"
		break
	fi
	snap "$TMP/snapF"
	if ! diff "$TMP/snapA" "$TMP/snapF" > "$TMP/diffF"; then
		fail "failure at change $n left the state changed"
		head -20 "$TMP/diffF" | sed 's/^/# /'
		break
	fi
	[ $n -gt 200 ] && { fail "no end"; break; }
done
echo "# A -> B failed at change 1 to $((n - FSTRIDE)) (every ${FSTRIDE}th): each left A as it was"
expect "there were changes to fail" "$n" -gt 10
snap "$TMP/snapB"
check "back to A" tdm apply "$TMP/A.conf"
case_end "a_failure_at_every_change_restores_the_state"
fi

# a fresh B, for comparison: A -> B once more (without the failures, the
# A and B compared with later)
check "reset to A" reset_A
snap "$TMP/snapA5"
if [ "$FAILS" -eq 1 ]; then
	check "back at A" diff "$TMP/snapA" "$TMP/snapA5"
else
	cp "$TMP/snapA5" "$TMP/snapA"
fi
check "A -> B" tdm apply "$TMP/B.conf"
snap "$TMP/snapB2"
if [ "$FAILS" -eq 1 ]; then
	check "B is B" diff "$TMP/snapB" "$TMP/snapB2"
else
	cp "$TMP/snapB2" "$TMP/snapB"
fi
expect "9001 still dropped" "$(udp_delta 9001 20)" -eq 0
expect "9006 now dropped" "$(udp_delta 9006 20)" -eq 0
expect "9005 no longer steered: the default chain passes it" "$(udp_delta 9005 20)" -eq 20
expect "9007 steered to fresh, which drops" "$(udp_delta 9007 20)" -eq 0
expect "9004 from 5000: the exact entry now runs fresh" "$(udp_delta 9004 20 5000)" -eq 0
expect "cnt2 kept its counts" "$(nf_stat cnt2 packets)" -eq 20
expect "new counted 9007 and 9004" "$(nf_stat new packets)" -ge 40
case_end "b_applied_keeps_what_it_does_not_change"

# kill -9 at every step of A -> B: the next command finds A or B whole
if [ "$KILLS" -eq 0 ]; then
	case_skip "kill_9_at_every_step_leaves_a_or_b" "the other guest kills applies (KILL_FIRST=${KILL_FIRST:-1})"
else
check "reset to A" reset_A
snap "$TMP/snapA"
n=0; olds=0; news=0
while :; do
	n=$((n + STRIDE))
	TANDEM_CRASH_AT=$n tdm apply "$TMP/B.conf" > "$TMP/killed" 2>&1
	rc=$?
	[ $rc -eq 0 ] && break
	if [ $rc -ne 137 ]; then
		fail "killed at $n: exit $rc, $(cat "$TMP/killed")"
		break
	fi
	snap "$TMP/snapK"
	if diff -q "$TMP/snapA" "$TMP/snapK" > /dev/null; then
		olds=$((olds + 1))
	elif diff "$TMP/snapB" "$TMP/snapK" > "$TMP/diffK"; then
		news=$((news + 1))
		reset_A || { fail "back to A after $n"; break; }
	else
		fail "killed at step $n: neither A nor B"
		head -20 "$TMP/diffK" | sed 's/^/# /'
		break
	fi
	[ $n -gt 5000 ] && { fail "no end"; break; }
done
echo "# killed at $((n / STRIDE - 1)) points (every ${STRIDE}th): $olds recovered to A, $news to B"
expect "some kills rolled back" "$olds" -gt 0
# the deletions after the commit are the last steps: a stride may miss them
[ "$STRIDE" -eq 1 ] && expect "some kills rolled forward" "$news" -gt 0
case_end "kill_9_at_every_step_leaves_a_or_b"
fi

# a changed chain is replaced hitlessly while traffic flows
check "at A" tdm apply "$TMP/A.conf"
udp_recv_start 9000 live 1; p=$!
base=$(udp_arrived_b)
ring_base=$(veth0_tx_dropped)
rm -f "$TMP/stop"
in_a $UDP send 10.10.0.2 9000 --rate 2000 --stop "$TMP/stop" > "$TMP/sent.json" &
sender=$!
sleep 0.3
fails=0
for i in $(seq "${APPLIES:-10}"); do
	tdm apply "$TMP/B.conf" > /dev/null || fails=$((fails + 1))
	tdm apply "$TMP/A.conf" > /dev/null || fails=$((fails + 1))
done
sleep 0.3
touch "$TMP/stop"
wait $sender
udp_recv_wait $p live
sent=$(json_get "$(cat "$TMP/sent.json")" sent)
arrived=$(( $(udp_arrived_b) - base ))
ring=$(( $(veth0_tx_dropped) - ring_base ))
echo "# $((2 * ${APPLIES:-10})) applies while sending $sent datagrams to 9000: $arrived arrived, $ring dropped by the veth ring"
expect "every apply succeeded" "$fails" -eq 0
expect "every datagram arrived" $((arrived + ring)) -eq "$sent"
case_end "applies_under_traffic_lose_nothing"

# a large state: 100 NFs, 40 firewalls of 64 rules, 100 chains, 10,000
# steering entries; its dump applies to no change
if [ "$LARGE" -eq 0 ]; then
	case_skip "a_large_state_round_trips" "APPLY_LARGE=0"
else
python3 - "$TMP/large.conf" "$LARGE" <<'EOF'
import sys
n = int(sys.argv[2])
out = []
for i in range(40):
    out.append("nf add fw%d firewall default %s" % (i, "drop" if i % 2 else "pass"))
    for r in range(64):
        if r % 2:
            out.append("rule add fw%d prio %d src 10.%d.%d.0/24 proto udp dport %d action drop" % (i, r % 7, i, r, 1000 + r))
        else:
            out.append("rule add fw%d dst fd00:%x::/64 proto tcp sport %d-%d action pass" % (i, r, r, r + 10))
for i in range(60):
    out.append("nf add c%d counter" % i)
for i in range(100):
    nfs = ["c%d" % (i % 60)] + (["fw%d" % (i % 40)] if i % 3 else [])
    out.append("chain add ch%d %s%s" % (i, " ".join(nfs), " then drop" if i % 5 == 0 else ""))
out.append("dev attach veth1 chain ch1")
for i in range(n):
    out.append("steer add veth1 prio %d dst 10.%d.%d.0/24 proto udp dport %d chain ch%d" % (i % 9, i // 256, i % 256, i, i % 100))
for i in range(n):
    out.append("steer add veth1 src 10.20.%d.%d dst 10.10.0.2 proto tcp sport %d dport 80 chain ch%d" % (i // 256, i % 256, 1024 + i, i % 97))
open(sys.argv[1], "w").write("\n".join(out) + "\n")
EOF
check "apply the large state" tdm apply "$TMP/large.conf"
tdm dump > "$TMP/large.dump"
check "apply its dump" output_has "0 added, 0 changed, 0 deleted" \
	tdm apply "$TMP/large.dump"
tdm dump > "$TMP/large.dump2"
check "the dump is the same" diff "$TMP/large.dump" "$TMP/large.dump2"
check "the file applies to no change" output_has "0 added, 0 changed, 0 deleted" \
	tdm apply "$TMP/large.conf"
expect "$((2 * LARGE)) steering entries" "$(grep -c '^steer add' "$TMP/large.dump")" -eq $((2 * LARGE))
expect "2560 rules" "$(grep -c '^rule add' "$TMP/large.dump")" -eq 2560
check "and back to A" tdm apply "$TMP/A.conf"
case_end "a_large_state_round_trips"
fi

# a device moved away is not this namespace's: its chain stays
cat > "$TMP/M.conf" <<'EOF'
nf add mc counter
chain add moving mc
dev attach dum2 chain moving mode generic
EOF
check "attach dum2 by policy" tdm apply "$TMP/M.conf"
check "move dum2 to ns A" ip -n "$NS_B" link set dum2 netns "$NS_A"
snap "$TMP/snapM"
check_fail "its chain cannot go" "empty.conf: chain 'moving' is the default chain of dum2, which is not here" \
	tdm apply "$TMP/empty.conf"
snap "$TMP/snapM2"
check "nothing changed" diff "$TMP/snapM" "$TMP/snapM2"
head -2 "$TMP/M.conf" > "$TMP/M2.conf"
check "a policy that keeps its chain applies" output_has "0 added, 0 changed, 0 deleted" \
	tdm apply "$TMP/M2.conf"
check "dum2 back to ns B" ip -n "$NS_A" link set dum2 netns "$NS_B"
ip -n "$NS_B" link set dum2 up
check "here again, it is the policy's" output_has "0 added, 0 changed, 0 deleted" \
	tdm apply "$TMP/M.conf"
case_end "a_device_moved_away_keeps_its_chain"

# a device's altname is the device; a name a policy line cannot hold
# makes the dump fail; a chain redirecting to a device gone since is
# taken back; a killed apply is recovered in its own namespace only
check "reset to A" reset_A
check "an altname" ip -n "$NS_B" link property add dev dum0 altname dumalt
sed 's/^dev attach dum0 /dev attach dumalt /' "$TMP/A.conf" > "$TMP/alt.conf"
check "A with dum0 by its altname changes nothing" \
	output_has "0 added, 0 changed, 0 deleted" tdm apply "$TMP/alt.conf"
{ cat "$TMP/A.conf"; echo "dev attach dumalt chain dumchain mode generic"; } \
	> "$TMP/alt2.conf"
check_fail "one device under two names" "is the same device as .dum0. (line 16)" tdm apply "$TMP/alt2.conf"

# (down first: before 6.2 a running device cannot be renamed)
ip -n "$NS_B" link set dum1 down
check "a device named #h" ip -n "$NS_B" link set dum1 name '#h'
ip -n "$NS_B" link set '#h' up
check "attach it" tdm dev attach '#h' mode generic
check_fail "the dump says it cannot write it" "device '#h'" tdm dump
check "and has it as a comment" output_has "^# dev attach #h" sh -c \
	"nsenter --net=/run/netns/$NS_B $TANDEM dump 2>/dev/null; true"
check "detach it" tdm dev detach '#h'
ip -n "$NS_B" link set '#h' down
check "its name back" ip -n "$NS_B" link set '#h' name dum1
ip -n "$NS_B" link set dum1 up

check "a target" ip -n "$NS_B" link add rtgt type veth peer name rtgtp
{ cat "$TMP/A.conf"; echo "chain add redir dc then redirect rtgt"; } > "$TMP/R.conf"
check "a chain redirecting to it" tdm apply "$TMP/R.conf"
snap "$TMP/snapR"
check "the target goes" ip -n "$NS_B" link del rtgt
sed 's/^chain add redir dc then redirect rtgt$/chain add redir dc then redirect dum1p/' \
	"$TMP/R.conf" > "$TMP/R2.conf"
check_fail "an apply that changes the chain fails" "TANDEM_FAIL_AT" \
	env TANDEM_FAIL_AT=2 nsenter --net=/run/netns/"$NS_B" "$TANDEM" apply "$TMP/R2.conf"
check "and was taken back" output_has "chain add redir dc then redirect ?" sh -c \
	"nsenter --net=/run/netns/$NS_B $TANDEM dump 2>/dev/null; true"
check "the next apply works" tdm apply "$TMP/R2.conf"

check "reset to A" reset_A
TANDEM_CRASH_AT=30 tdm apply "$TMP/B.conf" > /dev/null 2>&1
expect "killed half way" $? -eq 137
check_fail "an apply in ns A waits for ns B" "a policy apply in another network namespace was cut short" \
	nsenter --net=/run/netns/"$NS_A" "$TANDEM" apply "$TMP/empty.conf"
check "other commands in ns A go on" nsenter --net=/run/netns/"$NS_A" "$TANDEM" nf show
snap "$TMP/snapK2"
if ! diff -q "$TMP/snapA" "$TMP/snapK2" > /dev/null &&
   ! diff -q "$TMP/snapB" "$TMP/snapK2" > /dev/null; then
	fail "ns B recovered to neither A nor B"
fi
case_end "altnames_unwritable_names_gone_redirects_other_namespaces"

# a device's mode changes: detached and attached again, in its slot;
# failed half way it is back in its old mode
check "reset to A" reset_A
snap "$TMP/snapA"
sed 's/^dev attach dum0 chain dumchain mode generic$/dev attach dum0 chain dumchain mode native/' \
	"$TMP/A.conf" > "$TMP/N.conf"
for at in 1 2; do
	check_fail "mode change, failed at $at" "TANDEM_FAIL_AT" \
		env TANDEM_FAIL_AT=$at nsenter --net=/run/netns/"$NS_B" "$TANDEM" apply "$TMP/N.conf"
	snap "$TMP/snapN"
	check "back in generic mode" diff "$TMP/snapA" "$TMP/snapN"
done
check "the mode changes" output_has "0 added, 1 changed, 0 deleted" tdm apply "$TMP/N.conf"
check "native now" output_has '"mode":"native"' tdm -j dev show dum0
case_end "a_mode_change_is_taken_back_whole"

ktap_finish
