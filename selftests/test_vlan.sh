#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The vlan NF on veth, driven by the CLI, checked by the receiving
# kernel's counters, IPv4 and IPv6. ns B has no VLAN device (the host's
# kernel may lack 8021q): its stack takes untagged frames and priority
# tags (VID 0), and drops frames of any other VID as for another host.
#   pop:    A's frames tagged VID 100 -> B's stack takes them
#   push:   A's untagged frames, VID 200 pushed -> B's stack drops them;
#           VID 0 priority 5 pushed -> B's stack takes them
#   modify: A's frames tagged VID 300, set to VID 0 -> B takes them
# Without the NF, the pops and modifies are the ones dropped.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3

ktap_plan 5
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
peer_start || exit $KSFT_FAIL
CRAFT="python3 $TOP/selftests/lib/craft.py"
N=20

# took CASE...: per CASE, the datagrams of it B's stack took in
# (craft.py sends each case's frame, then waits for its marker)
took()
{
	local c out

	out=$(in_a $CRAFT run veth0 "$PEER_PID" "$@") || { echo "# craft.py failed" >&2; return 1; }
	for c in "$@"; do
		echo -n "$(json_get "$out" "$c") "
	done
}

# udp_in FAMILY: datagrams B's UDP took in, to a socket or not
udp_in()
{
	if [ "$1" = 4 ]; then
		in_b awk '/^Udp:/ && !h { for (i = 2; i <= NF; i++) c[$i] = i; h = 1; next }
			/^Udp:/ { print $c["InDatagrams"] + $c["NoPorts"] }' /proc/net/snmp
	else
		in_b awk '/^Udp6InDatagrams|^Udp6NoPorts/ { n += $2 } END { print n }' /proc/net/snmp6
	fi
}

# sent: N datagrams from A's stack (untagged) to B, v4 then v6; prints
# how many B's UDP took in of each
sent()
{
	local a4 a6

	a4=$(udp_in 4)
	a6=$(udp_in 6)
	in_a $UDP send 10.10.0.2 7000 --count $N --duration 5 > /dev/null
	in_a $UDP send fd00::2 7000 --count $N --duration 5 > /dev/null
	sleep 0.2
	echo "$(($(udp_in 4) - a4)) $(($(udp_in 6) - a6))"
}

check "nf add vpop" tdm nf add vpop vlan action pop
check "nf add vpush" tdm nf add vpush vlan action push id 200
check "nf add vprio" tdm nf add vprio vlan action push id 0 priority 5
check "nf add vmod" tdm nf add vmod vlan action modify id 0
for c in pop push prio mod; do
	check "chain c$c" tdm chain add c$c v$c
done
check "shown as given" output_has 'vprio .*action push id 0 protocol 802.1q priority 5' tdm nf show
check_fail "pop takes no id" "pop takes no id" tdm nf add bad vlan action pop id 3
check_fail "VID 4095 is reserved" "a VID is 0 to 4094" tdm nf add bad vlan action push id 4095
check_fail "push needs an id" "needs 'id VID'" tdm nf add bad vlan action push
case_end "vlan_nfs_added_from_the_cli"

POP="v4-udp-tags1-vid100-dport7000 v6-udp-tags1-vid100-dport7000"
MOD="v4-udp-tags1-vid300-dport7000 v6-udp-tags1-vid300-dport7000"
set -- $(took $POP $MOD v4-udp-dport7000)
expect "no pop: VID 100 dropped, IPv4" "$1" -eq 0
expect "no pop: VID 100 dropped, IPv6" "$2" -eq 0
expect "no modify: VID 300 dropped, IPv4" "$3" -eq 0
expect "no modify: VID 300 dropped, IPv6" "$4" -eq 0
expect "untagged: taken" "$5" -eq 1
set -- $(sent)
expect "no push: all taken, IPv4" "$1" -eq $N
expect "no push: all taken, IPv6" "$2" -eq $N
case_end "without_the_nf_tagged_frames_are_dropped"

check "attach, pop" tdm dev attach veth1 chain cpop
set -- $(took $POP)
expect "popped: taken, IPv4" "$1" -eq 1
expect "popped: taken, IPv6" "$2" -eq 1
expect "the NF saw them" "$(nf_stat vpop packets)" -ge 2
case_end "pop_delivers_tagged_frames_untagged_v4_v6"

check "chain push 200" tdm dev attach veth1 chain cpush
set -- $(sent)
expect "pushed VID 200: dropped by B, IPv4" "$1" -eq 0
expect "pushed VID 200: dropped by B, IPv6" "$2" -eq 0
expect "the NF saw them" "$(nf_stat vpush packets)" -ge $((2 * N))
check "chain push priority tag" tdm dev attach veth1 chain cprio
set -- $(sent)
expect "pushed VID 0: taken, IPv4" "$1" -eq $N
expect "pushed VID 0: taken, IPv6" "$2" -eq $N
case_end "push_tags_frames_the_receiving_stack_sees_tagged_v4_v6"

check "chain modify" tdm dev attach veth1 chain cmod
set -- $(took $MOD)
expect "modified to VID 0: taken, IPv4" "$1" -eq 1
expect "modified to VID 0: taken, IPv6" "$2" -eq 1
check "detach" tdm dev detach veth1
set -- $(took $MOD)
expect "detached: dropped again" "$(($1 + $2))" -eq 0
case_end "modify_rewrites_the_vid_v4_v6"

ktap_finish
