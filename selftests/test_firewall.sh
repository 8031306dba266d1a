#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A firewall -> counter chain on veth, driven by the CLI: a port blocked
# over IPv4 and IPv6, the rest passes, and the counters say so; then the
# same chain with a firewall looked up by tuples (tuple space search);
# then a policy file that adds a firewall of FW_BIG_RULES rules (default
# 100,000; guests 10,000) to the chain.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 ping

ktap_plan 6
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }

check "nf add fw" tdm nf add fw firewall default pass
check "nf add cnt" tdm nf add cnt counter
check "rule v4/v6 udp 5001" tdm rule add fw proto udp dport 5001 action drop
check "chain add" tdm chain add web fw cnt then pass
check "attach" tdm dev attach veth1 chain web
case_end "firewall_chain_attached_by_cli"

# 100 datagrams to each of 5001 (blocked) and 5002, over IPv4 and IPv6
for fam in 10.10.0.2 fd00::2; do
	udp_recv_start 5001 r5001; p1=$!
	udp_recv_start 5002 r5002; p2=$!
	in_a $UDP send $fam 5001 --count 100 --rate 2000 > /dev/null
	in_a $UDP send $fam 5002 --count 100 --rate 2000 > /dev/null
	udp_recv_wait $p1 r5001
	udp_recv_wait $p2 r5002
	expect "$fam: port 5001 received" "$(udp_count r5001)" -eq 0
	expect "$fam: port 5002 received" "$(udp_count r5002)" -eq 100
done
# a ruleset this small is held by the chain's program as constants
expect "rule show: in the chain's program" \
	"$(tdm -j rule show fw | jq -r .in_program)" = true
check "ping v4 passes the firewall" in_a ping -c 2 -i 0.2 -W 2 10.10.0.2
check "ping v6 passes the firewall" in_a ping -6 -c 2 -i 0.2 -W 2 fd00::2
case_end "udp_5001_blocked_on_ipv4_and_ipv6_5002_passes"

# The peer's own traffic (IPv6 neighbour discovery, MLD) can arrive
# between two reads: take fw, cnt, fw again until fw did not move.
for try in 1 2 3 4 5 6 7 8 9 10; do
	s=$(tdm -j stats nf fw)
	cnt=$(nf_stat cnt packets)
	[ "$(nf_stat fw packets)" = "$(json_get "$s" packets)" ] && break
done
expect "fw rule drops" "$(json_get "$s" drops)" -eq 200
pk=$(json_get "$s" packets)
expect "fw saw all test packets" "$pk" -ge 404
expect "cnt saw what fw passed" "$cnt" -eq $((pk - 200))
case_end "stats_count_drops_by_rule"

# a later rule change applies to traffic: unblock 5001 by deleting rule 1
check "rule del" tdm rule del fw 1
udp_recv_start 5001 r5001b; p1=$!
in_a $UDP send 10.10.0.2 5001 --count 50 --rate 2000 > /dev/null
udp_recv_wait $p1 r5001b
expect "after rule del: 5001 received" "$(udp_count r5001b)" -eq 50
case_end "rule_delete_takes_effect_on_live_traffic"

# lookup tuples: a port range from our prefixes, and before it (prio)
# a pass rule for one port of the range; other ports pass by default
check "nf add fwt" tdm nf add fwt firewall default pass lookup tuples
check "rule v4 range" tdm rule add fwt src 10.10.0.0/24 proto udp dport 6000-6007 action drop
check "rule v6 range" tdm rule add fwt src fd00::/64 proto udp dport 6000-6007 action drop
check "rule pass first" tdm rule add fwt prio 10 proto udp dport 6006 action pass
check "rule other source" tdm rule add fwt src 10.99.0.0/16 proto udp dport 6008 action drop
check "chain replace" tdm chain replace web fwt cnt
expect "nf show: lookup tuples" "$(tdm nf show fwt | grep -c 'lookup tuples')" -eq 1
r=$(tdm -j rule show fwt)
expect "rule show: mode tuples" "$(json_get "$r" mode)" = tuples
expect "rule show: not in the program" "$(jq -r .in_program <<< "$r")" = false
expect "rule show: 4 tuples (4 mask shapes)" "$(json_get "$r" tuples)" -eq 4
for fam in 10.10.0.2 fd00::2; do
	for port in 6000 6006 6007 6008; do
		udp_recv_start $port r$port; pids[$port]=$!
	done
	for port in 6000 6006 6007 6008; do
		in_a $UDP send $fam $port --count 50 --rate 2000 > /dev/null
	done
	for port in 6000 6006 6007 6008; do
		udp_recv_wait ${pids[$port]} r$port
	done
	expect "$fam: 6000 (range) received" "$(udp_count r6000)" -eq 0
	expect "$fam: 6006 (pass rule first) received" "$(udp_count r6006)" -eq 50
	expect "$fam: 6007 (range) received" "$(udp_count r6007)" -eq 0
	expect "$fam: 6008 (other source) received" "$(udp_count r6008)" -eq 50
done
s=$(tdm -j stats nf fwt)
expect "fwt rule drops" "$(json_get "$s" drops)" -eq 200
case_end "lookup_tuples_drops_and_passes_as_the_rules_say"

# FW_BIG_RULES source rules, half IPv4 /32, half IPv6 /128, and among
# them one of each for ns A's addresses and UDP port 7000, added by
# apply to the running state (its dump) in front of the chain
n=${FW_BIG_RULES:-100000}
{
	echo "nf add fwbig firewall default pass"
	tdm dump | sed 's/^chain add web /chain add web fwbig /'
	awk -v n="$n" 'BEGIN {
		for (i = 0; i < n - 2; i++) {
			if (i % 2)
				printf "rule add fwbig src 10.%d.%d.%d action drop\n",
				       100 + int(i / 65536), int(i / 256) % 256, i % 256
			else
				printf "rule add fwbig src fd00:20::%x:%x action drop\n",
				       int(i / 65536), i % 65536
			if (i == int(n / 2)) {
				print "rule add fwbig src 10.10.0.1 proto udp dport 7000 action drop"
				print "rule add fwbig src fd00::1 proto udp dport 7000 action drop"
			}
		}
	}'
} > "$TMP/big.conf"
expect "policy lines" "$(grep -c '^rule add fwbig' "$TMP/big.conf")" -eq "$n"
t0=$(date +%s.%N)
check "apply $n rules" tdm apply "$TMP/big.conf"
echo "# $n rules applied in $(echo "$(date +%s.%N) - $t0" | bc) s"
r=$(tdm -j rule show fwbig)
expect "rule show: $n rules" "$(jq '.rules | length' <<< "$r")" -eq "$n"
expect "rule show: mode tuples" "$(jq -r .mode <<< "$r")" = tuples
for fam in 10.10.0.2 fd00::2; do
	udp_recv_start 7000 r7000; p1=$!
	udp_recv_start 7001 r7001; p2=$!
	in_a $UDP send $fam 7000 --count 50 --rate 2000 > /dev/null
	in_a $UDP send $fam 7001 --count 50 --rate 2000 > /dev/null
	udp_recv_wait $p1 r7000
	udp_recv_wait $p2 r7001
	expect "$fam: 7000 (a rule among $n) received" "$(udp_count r7000)" -eq 0
	expect "$fam: 7001 received" "$(udp_count r7001)" -eq 50
done
expect "fwbig rule drops" "$(json_get "$(tdm -j stats nf fwbig)" drops)" -eq 100
t0=$(date +%s.%N)
check "apply again: nothing changes" output_has "0 added, 0 changed, 0 deleted" tdm apply "$TMP/big.conf"
echo "# the same file again in $(echo "$(date +%s.%N) - $t0" | bc) s"
expect "dump: $n rules" "$(tdm dump | grep -c '^rule add fwbig')" -eq "$n"
case_end "a_policy_of_${n}_rules_applies_and_filters"

ktap_finish
