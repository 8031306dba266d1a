#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Connection tracking on veth, driven by the CLI: the classic host
# policy (established and related pass, new ssh-like connections to one
# port pass, the rest drops) on ns B's veth1, over IPv4 and IPv6. The
# host's own connections out work both ways; an unsolicited SYN and a
# stray ACK are dropped before B's stack sees them (B's TCP counters);
# ICMP errors about B's flows reach it (related); conntrack show lists
# the flows; bad parameters change nothing.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 timeout tc

CRAFT="python3 $TOP/selftests/lib/craft.py"
FORGE="python3 $TOP/selftests/lib/ct_forge.py"
ECHO="$TOP/selftests/lib/tcp_echo.py"

ktap_plan 11
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
peer_start || exit $KSFT_FAIL

# echo servers: in A (for B's connections out) and in B on the open port
ip netns exec "$NS_A" python3 "$ECHO" 8000 "$TMP/a.ready" > "$TMP/a.peers" &
ECHO_A=$!
ip netns exec "$NS_B" python3 "$ECHO" 2222 "$TMP/b.ready" > "$TMP/b.peers" &
ECHO_B=$!
trap 'kill $PEER_PID $ECHO_A $ECHO_B 2>/dev/null; cleanup' EXIT
for i in $(seq 600); do
	[ -e "$TMP/a.ready" ] && [ -e "$TMP/b.ready" ] && break
	sleep 0.05
done

# snmp NS FILE FIELD: a counter of ns NS's stack (/proc/net/snmp's
# "Proto: Name" pairs, or snmp6's one per line)
snmp()
{
	if [ "$2" = snmp6 ]; then
		ip netns exec "$1" awk -v k="$3" '$1 == k { print $2 }' /proc/net/snmp6
	else
		ip netns exec "$1" awk -v k="$3" '
			{ split(k, p, ":") }
			$1 == p[1] ":" && !h { for (i = 2; i <= NF; i++) c[$i] = i; h = 1; next }
			$1 == p[1] ":" { print $c[p[2]]; exit }' /proc/net/snmp
	fi
}

# talk NS ADDR PORT [SECONDS]: connect from NS, send a line, read it
# back, all within SECONDS (default 5)
talk()
{
	ip netns exec "$1" timeout "${4:-5}" bash -c '
		exec 3<>"/dev/tcp/$0/$1" || exit 1
		echo "hello $0" >&3
		read -r -t 3 line <&3 && [ "$line" = "hello $0" ]' "$2" "$3"
}

check "nf add ct" tdm nf add ct conntrack size 4096 egress veth1
check "nf add fw" tdm nf add fw firewall default drop
check "rule established,related" tdm rule add fw prio 10 state established,related action pass
check "rule untracked" tdm rule add fw prio 20 state untracked proto icmpv6 action pass
check "rule new tcp 2222" tdm rule add fw prio 30 state new proto tcp dport 2222 action pass
check "rule new icmp" tdm rule add fw prio 40 state new proto icmp action pass
check "chain add" tdm chain add host ct fw then pass
check "attach" tdm dev attach veth1 chain host
output_has "tdm_ct_egress" tc -n "$NS_B" filter show dev veth1 egress
output_has "state established,related" tdm rule show fw
case_end "classic_host_policy_from_the_cli"

for a in 10.10.0.1 fd00::1; do
	check "B connects out to $a:8000 and gets its echo" talk "$NS_B" $a 8000
	check "B pings $a" in_b ping -c 2 -i 0.2 -W 2 $a
done
expect "A's server saw both connections" "$(wc -l < "$TMP/a.peers")" -eq 2
case_end "the_hosts_connections_out_work_both_ways"

for a in 10.10.0.2 fd00::2; do
	check "A connects to B's open port at $a:2222" talk "$NS_A" $a 2222
	if talk "$NS_A" $a 8000 2; then
		echo "# check failed: A connected to B's port 8000 at $a"
		case_failed=1
	fi
done
expect "B's server on 2222 saw both" "$(wc -l < "$TMP/b.peers")" -eq 2
# raw segments from A; what B's TCP answered (a SYN-ACK or RST each)
r=$(in_a $CRAFT run veth0 $PEER_PID v4-tcp-dport8001 v6-tcp-dport8001 \
	v4-tcp-dport2222 v6-tcp-dport2222)
expect "v4 unsolicited SYN to 8001 reached B" "$(json_get "$r" v4-tcp-dport8001)" -eq 0
expect "v6 unsolicited SYN to 8001 reached B" "$(json_get "$r" v6-tcp-dport8001)" -eq 0
expect "v4 SYN to the open port reached B" "$(json_get "$r" v4-tcp-dport2222)" -eq 1
expect "v6 SYN to the open port reached B" "$(json_get "$r" v6-tcp-dport2222)" -eq 1
# a flow is kept only when its first packet passes: the dropped SYNs
# (A's connects to 8000, the raw ones to 8001) left nothing behind
j=$(tdm -j conntrack show ct)
expect "no flow to 8000 or 8001 kept" \
	"$(jq '[.flows[] | select(.dport == 8000 or .dport == 8001) | select(.src == "10.10.0.1" or .src == "fd00::1")] | length' <<< "$j")" -eq 0
expect "the connections to 2222 kept" \
	"$(jq '[.flows[] | select(.dport == 2222)] | length' <<< "$j")" -ge 2
case_end "unsolicited_syn_dropped_the_open_port_answers"

drops=$(nf_stat fw drops)
r=$(in_a $CRAFT run veth0 $PEER_PID v4-tcp-ack-dport2222 v6-tcp-ack-dport2222 \
	v4-tcp-ack-dport8001 v6-tcp-ack-dport8001)
for c in v4-tcp-ack-dport2222 v6-tcp-ack-dport2222 v4-tcp-ack-dport8001 v6-tcp-ack-dport8001; do
	expect "stray ACK $c reached B (its RST would show)" "$(json_get "$r" $c)" -eq 0
done
expect "the firewall dropped the 4 stray ACKs" "$(nf_stat fw drops)" -ge $((drops + 4))
case_end "a_stray_ack_is_invalid_and_dropped"

# A forges B's replies: a datagram (or SYN) to a closed port, the reply
# "from B" sent by A, then the flow's next packet. The forged reply comes
# in where the flow's first packet did: invalid, so the flow stays new
# and its next packet is dropped (B's stack would count it, or answer
# the ACK with a RST).
r=$(in_a $CRAFT run veth0 $PEER_PID \
	v4-udp-dport5353-sport40001 v4-udp-rev-dport5353-sport40001 v4-udp-dport5353-sport40001 \
	v6-udp-dport5353-sport40001 v6-udp-rev-dport5353-sport40001 v6-udp-dport5353-sport40001 \
	v4-tcp-dport8001-sport40002 v4-tcp-rev-synack-dport8001-sport40002 v4-tcp-ack-dport8001-sport40002 \
	v6-tcp-dport8001-sport40002 v6-tcp-rev-synack-dport8001-sport40002 v6-tcp-ack-dport8001-sport40002)
for c in v4-udp-dport5353-sport40001 v6-udp-dport5353-sport40001 \
	 v4-tcp-ack-dport8001-sport40002 v6-tcp-ack-dport8001-sport40002; do
	expect "after a forged reply, $c reached B" "$(json_get "$r" $c)" -eq 0
done
# The same with a VLAN tag (VID 5, which B's stack drops) on the first
# packet or on the forged reply: the sender picks tags as it likes
r=$(in_a $CRAFT run veth0 $PEER_PID \
	v4-udp-tags1-vid5-dport5353-sport40003 v4-udp-rev-dport5353-sport40003 v4-udp-dport5353-sport40003 \
	v6-udp-tags1-vid5-dport5353-sport40003 v6-udp-rev-dport5353-sport40003 v6-udp-dport5353-sport40003 \
	v4-udp-dport5353-sport40005 v4-udp-rev-tags1-vid5-dport5353-sport40005 v4-udp-tags1-dport5353-sport40005 \
	v4-tcp-tags1-vid5-dport8001-sport40004 v4-tcp-rev-synack-dport8001-sport40004 v4-tcp-ack-dport8001-sport40004 \
	v6-tcp-tags1-vid5-dport8001-sport40004 v6-tcp-rev-synack-dport8001-sport40004 v6-tcp-ack-dport8001-sport40004)
for c in v4-udp-dport5353-sport40003 v6-udp-dport5353-sport40003 v4-udp-tags1-dport5353-sport40005 \
	 v4-tcp-ack-dport8001-sport40004 v6-tcp-ack-dport8001-sport40004; do
	expect "after a forged reply and a VLAN tag, $c reached B" "$(json_get "$r" $c)" -eq 0
done
case_end "a_forged_reply_from_outside_establishes_nothing"

# B's datagrams to a closed port of A: A's port unreachable comes back
u4=$(snmp "$NS_B" snmp Icmp:InDestUnreachs)
u6=$(snmp "$NS_B" snmp6 Icmp6InDestUnreachs)
in_b bash -c 'exec 3<>/dev/udp/10.10.0.1/9; echo x >&3' 2>/dev/null
in_b bash -c 'exec 3<>/dev/udp/fd00::1/9; echo x >&3' 2>/dev/null
for i in $(seq 50); do
	[ "$(snmp "$NS_B" snmp Icmp:InDestUnreachs)" -gt "$u4" ] &&
	[ "$(snmp "$NS_B" snmp6 Icmp6InDestUnreachs)" -gt "$u6" ] && break
	sleep 0.1
done
expect "v4 port unreachable (related) reached B" "$(snmp "$NS_B" snmp Icmp:InDestUnreachs)" -gt "$u4"
expect "v6 port unreachable (related) reached B" "$(snmp "$NS_B" snmp6 Icmp6InDestUnreachs)" -gt "$u6"
case_end "icmp_errors_about_the_hosts_flows_are_related"

# A's SYN to a blocked port makes a flow (the firewall drops the SYN
# after conntrack saw it); errors A sends B quoting that flow, either
# way, a redirect too, are not related: B sent nothing in it. Then B's
# own unreachable (as above) marks that A's frames went through.
m4=$(snmp "$NS_B" snmp Icmp:InMsgs)
r4=$(snmp "$NS_B" snmp Icmp:InRedirects)
u4=$(snmp "$NS_B" snmp Icmp:InDestUnreachs)
in_a $FORGE veth0 syn 41001 8001
in_a $FORGE veth0 icmperr 3 3 41001 8001
in_a $FORGE veth0 icmperr 3 3 41001 8001 rev
in_a $FORGE veth0 icmperr 5 1 41001 8001 rev
in_b bash -c 'exec 3<>/dev/udp/10.10.0.1/9; echo x >&3' 2>/dev/null
for i in $(seq 50); do
	[ "$(snmp "$NS_B" snmp Icmp:InDestUnreachs)" -gt "$u4" ] && break
	sleep 0.1
done
expect "B's own unreachable came back" "$(snmp "$NS_B" snmp Icmp:InDestUnreachs)" -eq $((u4 + 1))
expect "none of A's forged errors reached B" "$(snmp "$NS_B" snmp Icmp:InMsgs)" -eq $((m4 + 1))
expect "A's forged redirect did not reach B" "$(snmp "$NS_B" snmp Icmp:InRedirects)" -eq "$r4"
case_end "icmp_errors_quoting_a_flow_the_sender_opened_are_not_related"

j=$(tdm -j conntrack show ct)
n=$(jq '[.flows[] | select(.proto == "tcp" and .dport == 8000 and .src == "10.10.0.2" and .replied)] | length' <<< "$j")
expect "show: B's v4 connection to 8000, opened by B, replied" "$n" -eq 1
n=$(jq '[.flows[] | select(.proto == "tcp" and .dport == 8000 and .src == "fd00::2" and .family == "ipv6")] | length' <<< "$j")
expect "show: B's v6 connection to 8000" "$n" -eq 1
n=$(jq '[.flows[] | select(.proto == "icmp" and .src == "10.10.0.2" and .replied)] | length' <<< "$j")
expect "show: B's ping, replied" "$n" -ge 1
output_has "[[]fd00::2[]]:" tdm conntrack show ct
# B closed its connections to 8000 and so did A's server: FINs both ways
n=$(jq '[.flows[] | select(.dport == 8000 and .state == "time_wait")] | length' <<< "$j")
expect "show: both closed connections in time wait" "$n" -eq 2
id=$(tdm -j nf show | jq '.[] | select(.name == "ct") | .id')
check "bpftool prints the table's fields" output_has '"expires":' \
	bpftool map dump pinned /sys/fs/bpf/tandem/tdm_ct_$id
check "flush" tdm conntrack flush ct
expect "no flow after flush" "$(tdm -j conntrack show ct | jq '.flows | length')" -eq 0
case_end "conntrack_show_lists_the_flows_and_flush_empties_it"

before=$(tdm -j nf show)
check_fail "size too small" "bad size" tdm nf add c2 conntrack size 10
check_fail "no such egress device" "egress device 'nosuch0'" tdm nf add c2 conntrack egress nosuch0
check_fail "bad device name" "bad egress device" tdm nf add c2 conntrack egress a/b
check_fail "bad state" "bad state" tdm rule add fw state bogus action drop
check_fail "state twice" "bad state" tdm rule add fw state new,new action drop
check_fail "state in steering" "unexpected .state." tdm steer add veth1 proto tcp state new chain host
check_fail "show of a firewall" "not a conntrack" tdm conntrack show fw
expect "nothing changed" "$(tdm -j nf show)" = "$before"
case_end "bad_parameters_change_nothing"

# the same state in a policy file: dump, apply back, a changed size
tdm dump > "$TMP/p.conf"
output_has "conntrack size 4096 egress veth1" cat "$TMP/p.conf"
output_has "state established,related" cat "$TMP/p.conf"
output_has "0 added, 0 changed, 0 deleted" tdm apply "$TMP/p.conf"
sed 's/size 4096/size 8192/' "$TMP/p.conf" > "$TMP/p2.conf"
before=$(tdm -j nf show)
check_fail "a changed size is refused" "cannot change in place" tdm apply "$TMP/p2.conf"
expect "nothing changed" "$(tdm -j nf show)" = "$before"
case_end "policy_files_hold_conntracks_and_states"

check "detach" tdm dev detach veth1
check "chain del" tdm chain del host
check "nf del ct" tdm nf del ct
if tc -n "$NS_B" filter show dev veth1 egress | grep -q .; then
	echo "# check failed: nf del left the egress program"
	case_failed=1
fi
expect "its table's pin is gone" "$(ls /sys/fs/bpf/tandem | grep -c '^tdm_ct_[0-9]')" -eq 0
case_end "nf_del_takes_its_table_and_egress_program_away"

ktap_finish
