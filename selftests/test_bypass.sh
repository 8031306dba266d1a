#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# No firewall bypass by what the parser cannot classify. Hand-made frames
# to port 23 (TCP SYNs, UDP datagrams) behind IPv6 destination options,
# VLAN priority tags, cut into 8-byte IPv4 fragments or followed by
# trailing bytes: first the receiving kernel shows it takes every one of
# them (its own TCP and UDP counters), then a firewall that drops port 23
# must keep every one of them from it. Frames deeper than tandem follows
# (9 tags, 9 or 12 extension headers) take the firewall's unparsed action.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3

CRAFT="python3 $TOP/selftests/lib/craft.py"

# within tandem's depth, and beyond it (unparsed)
DEEP_OK="v6-tcp-opts7 v6-udp-opts8 v4-udp-tags3 v4-udp-tags4 v6-tcp-tags8"
DEEP_NO="v6-tcp-opts9 v6-tcp-opts12 v4-udp-tags9 v6-udp-tags4-opts9"
OTHER="v4-tcp v6-tcp v4-tcp-frag8 v4-udp-frag8 v6-udp-frag8 v6-tcp-frag24
	v6-udp-opts3-frag8 v4-udp-pad30 v4-tcp-tags2-pad10 v6-udp-pad20"
CASES=$(echo $DEEP_OK $DEEP_NO $OTHER)
# the same frames to port 80: the firewall must let them be
CONTROL=$(for c in $DEEP_OK $OTHER; do echo -n "$c-dport80 "; done)

ktap_plan 5
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
# a process in ns B: craft.py reads the counters of its namespace
in_b sleep 1000 &
disown
PEER_PID=
for i in $(seq 100); do
	PEER_PID=$(pgrep -n -x -f "sleep 1000")
	[ -n "$PEER_PID" ] && [ "$(readlink /proc/$PEER_PID/ns/net)" != \
		"$(readlink /proc/self/ns/net)" ] && break
	sleep 0.1
done
trap 'kill $PEER_PID 2>/dev/null; cleanup' EXIT

# delivered CASES...: {"case": segments ns B's TCP/UDP took in, ...}
delivered()
{
	in_a $CRAFT run veth0 "$PEER_PID" "$@" > "$TMP/craft.json"
}

# each CASE took in N segments, per $TMP/craft.json
expect_each()
{
	local what=$1 n=$2 c got
	shift 2
	for c in "$@"; do
		got=$(json_get "$(cat "$TMP/craft.json")" "$c")
		expect "$what: $c" "$got" -eq "$n"
	done
}

check "craft and send (no tandem)" delivered $CASES $CONTROL
expect_each "the kernel takes it" 1 $CASES $CONTROL
case_end "the_kernel_takes_every_crafted_frame"

check "nf add fw" tdm nf add fw firewall default pass
check "rule tcp 23" tdm rule add fw proto tcp dport 23 action drop
check "rule udp 23" tdm rule add fw proto udp dport 23 action drop
check "chain add" tdm chain add edge fw then pass
check "attach" tdm dev attach veth1 chain edge
u0=$(json_get "$(tdm -j stats dev veth1)" unparsed)
check "send through the firewall" delivered $CASES $CONTROL
expect_each "a default-pass firewall dropping port 23" 0 $CASES
expect_each "port 80 passes" 1 $CONTROL
s=$(tdm -j stats nf fw)
n_deep_no=$(echo $DEEP_NO | wc -w)
expect "unparsed drops" "$(python3 -c 'import json,sys
print(json.loads(sys.argv[1])["drop_reasons"]["unparsed"])' "$s")" -eq "$n_deep_no"
expect "device counted them unparsed" \
	"$(json_get "$(tdm -j stats dev veth1)" unparsed)" -eq $((u0 + n_deep_no))
case_end "default_pass_firewall_drops_port_23_however_disguised"

check "nf add fwd" tdm nf add fwd firewall default drop
check "marker passes" tdm rule add fwd proto icmp action pass
check "chain replace" tdm chain replace edge fwd then pass
check "send through default drop" delivered $CASES
expect_each "a default-drop firewall" 0 $CASES
case_end "default_drop_firewall_drops_them_tagged_or_not"

check "nf add fwu" tdm nf add fwu firewall default pass unparsed pass
check "rule tcp 23" tdm rule add fwu proto tcp dport 23 action drop
check "rule udp 23" tdm rule add fwu proto udp dport 23 action drop
check "chain replace" tdm chain replace edge fwu then pass
check "send with unparsed pass" delivered $DEEP_OK $DEEP_NO
expect_each "rules still see what the parser follows" 0 $DEEP_OK
expect_each "'unparsed pass' lets the rest be" 1 $DEEP_NO
case_end "unparsed_pass_is_the_admins_choice"

check "nf show says it" output_has "unparsed pass" tdm nf show fwu
check "nf show default" output_has "unparsed drop" tdm nf show fw
case_end "nf_show_names_the_unparsed_action"

ktap_finish
