#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Attaching and detaching: the chain outlives the CLI process (pinned
# link and prog array), detach leaves the device clean, and a device held
# by another XDP program is refused without --force.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 bpftool jq

PASS_OBJ=$TOP/build/selftests/xdp_pass.bpf.o
ktap_plan 12
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }

ifindex_of()	# DEV's ifindex in ns B
{
	ip -n "$NS_B" -j link show dev "$1" |
		jq '.[0].ifindex'
}

xdp_prog_of()	# the XDP program id on DEV (veth1), or nothing
{
	ip -n "$NS_B" -d -j link show dev "${1:-veth1}" |
		jq -r '.[0].xdp.prog.id // empty'
}

check "nf" tdm nf add c counter
check "chain" tdm chain add all c
check "attach" tdm dev attach veth1 chain all
id=$(xdp_prog_of)
expect "an XDP program is on veth1" "${id:-0}" -gt 0
check "the program on veth1 is tandem's entry" output_has '"name":"tdm_entry"' bpftool -j prog show id "${id:-0}"
check "dev show lists veth1 attached" output_has '"attached":true' tdm -j dev show
case_end "attach_with_a_bpf_link"

# every CLI process has exited: the pinned state must carry the chain
check "ping through the chain" in_a ping -c 3 -i 0.2 -W 2 10.10.0.2
expect "counter saw the pings" "$(nf_stat c packets)" -ge 3
check "prog array pinned" test -e /sys/fs/bpf/tandem/tdm_jmp
check "link pinned" sh -c "ls /sys/fs/bpf/tandem/links/ | grep -q dev_"
case_end "chain_works_after_the_cli_exits"

check "detach" tdm dev detach veth1
expect "no XDP program left on veth1" "$(xdp_prog_of)" = ""
check "no pinned link left" sh -c "! ls /sys/fs/bpf/tandem/links/ | grep -q ."
before=$(nf_stat c packets)
check "ping after detach" in_a ping -c 2 -i 0.2 -W 2 10.10.0.2
expect "counter no longer counts" "$(nf_stat c packets)" -eq "$before"
check_fail "detach twice" "not attached" tdm dev detach veth1
case_end "detach_leaves_the_device_clean"

check "foreign program" ip -n "$NS_B" link set dev veth1 xdpgeneric obj "$PASS_OBJ" sec xdp
foreign=$(xdp_prog_of)
check_fail "attach refused" "already has an XDP program" tdm dev attach veth1 chain all
expect "foreign program still there" "$(xdp_prog_of)" = "$foreign"
check "attach --force" tdm dev attach veth1 chain all --force
expect "ours replaced it" "$(xdp_prog_of)" != "$foreign"
check "ping with ours" in_a ping -c 2 -i 0.2 -W 2 10.10.0.2
check "detach" tdm dev detach veth1
case_end "foreign_xdp_program_needs_force"

# --force that then fails to attach puts the foreign program back
check "a bridge: no native XDP" ip -n "$NS_B" link add br0 type bridge
check "foreign program on br0" ip -n "$NS_B" link set dev br0 xdpgeneric obj "$PASS_OBJ" sec xdp
foreign=$(xdp_prog_of br0)
check_fail "native attach fails" "native mode failed" tdm dev attach br0 mode native --force
expect "the foreign program is back" "$(xdp_prog_of br0)" = "$foreign"
check_fail "no record of br0" "not attached" tdm dev show br0
case_end "failed_force_attach_restores_the_foreign_program"

check "attach generic" tdm dev attach veth1 chain all mode generic
check "mode shown" output_has '"mode":"generic"' tdm -j dev show
check_fail "mode change refused" "detach it first" tdm dev attach veth1 mode native
check "re-attach changes only the chain" tdm dev attach veth1
check "no default chain now" output_has '"default_chain":null' tdm -j dev show
check "detach" tdm dev detach veth1
check "attach native" tdm dev attach veth1 chain all mode native
check "mode shown" output_has '"mode":"native"' tdm -j dev show
check "ping native" in_a ping -c 2 -i 0.2 -W 2 10.10.0.2
case_end "generic_and_native_modes"

# another namespace with a device of the same ifindex as veth1: each
# device is its own record, whatever its ifindex, and runs its own chain
NS_C=tdmC$$
idx=$(ifindex_of veth1)
check "nf cc" tdm nf add cc counter
check "chain of ns C" tdm chain add cchain cc
check "veth1 attached" tdm dev attach veth1 chain all
check "ns C" ip netns add "$NS_C"
check "same ifindex in ns C" ip -n "$NS_C" link add name twin index "$idx" type veth peer name twinp index $((idx + 100))
check "attach in ns C" nsenter --net=/run/netns/"$NS_C" "$TANDEM" dev attach twin chain cchain
check "veth1 still attached" output_has '"state":"attached"' tdm -j dev show veth1
check "twin shown as another namespace's" output_has 'twin .* other-ns' tdm dev show
c0=$(nf_stat c packets)
cc0=$(nf_stat cc packets)
check "ping veth1" in_a ping -c 3 -i 0.2 -W 2 10.10.0.2
expect "veth1 ran its own chain" "$(nf_stat c packets)" -ge $((c0 + 3))
expect "not twin's" "$(nf_stat cc packets)" -eq "$cc0"
check "detach in ns C" nsenter --net=/run/netns/"$NS_C" "$TANDEM" dev detach twin
check "veth1 still attached" output_has '"state":"attached"' tdm -j dev show veth1
ip netns del "$NS_C"
case_end "same_ifindex_in_another_namespace_is_another_device"

# renamed: the record follows the device; its old name is free
check "rename veth1 to veth9" sh -c "ip -n $NS_B link set veth1 down &&
	ip -n $NS_B link set veth1 name veth9 && ip -n $NS_B link set veth9 up"
check "a new device named veth1" ip -n "$NS_B" link add veth1 type veth peer name veth1p
check "shown renamed" output_has 'veth9 .* attached *veth1 ' tdm dev show
check "JSON says so" output_has '"renamed":true' tdm -j dev show veth9
check_fail "the new veth1 is not attached" "not attached to veth1" tdm dev detach veth1
check "veth9 still attached" output_has '"state":"attached"' tdm -j dev show veth9
c0=$(nf_stat c packets)
check "ping the renamed device" in_a ping -c 3 -i 0.2 -W 2 10.10.0.2
expect "its chain still runs" "$(nf_stat c packets)" -ge $((c0 + 3))
check "steer on veth9" tdm steer add veth9 proto udp dport 53 chain all
check "listed under veth9" output_has '"dev":"veth9"' tdm -j steer show
check "nothing on the new veth1" output_has '^\[\]$' tdm -j steer show veth1
check "detach veth9 by its name now" tdm dev detach veth9
expect "no XDP program left on veth9" "$(xdp_prog_of veth9)" = ""
check "steering stays for the next attach" output_has '"dev":"veth9"' tdm -j steer show veth9
check "attach veth9 again" tdm dev attach veth9 chain all
check "its entry is on it again" output_has '"dev":"veth9"' tdm -j steer show veth9
check "delete the new veth1" ip -n "$NS_B" link del veth1
check "rename veth9 back" sh -c "ip -n $NS_B link set veth9 down &&
	ip -n $NS_B link set veth9 name veth1 && ip -n $NS_B link set veth1 up"
check "its steering entry follows it" output_has '"dev":"veth1"' tdm -j steer show veth1
check "flush steering" tdm steer del veth1 1
case_end "a_renamed_device_keeps_its_record"

# a device tandem knows only by its steering entries (no link) moves
# away, and another device gets its ifindex: that one is not it, and
# the next change forgets the one that went
NS_C=tdmC$$
check "ns C" ip netns add "$NS_C"
check "xx" ip -n "$NS_B" link add xx index 77 type veth peer name xxp
check "steer on xx, never attached" tdm steer add xx dst 10.8.0.0/16 chain all
check "xx moves to C" ip -n "$NS_B" link set xx netns "$NS_C"
check "yy takes its ifindex" ip -n "$NS_B" link add yy index 77 type veth peer name yyp
check "yy has no entries" output_has '^\[\]$' tdm -j steer show yy
check "and no record" sh -c "! nsenter --net=/run/netns/$NS_B $TANDEM dev show | grep -q yy"
check "xx still listed by its name" output_has '"dev":"xx"' tdm -j steer show
check "yy attaches fresh" tdm dev attach yy
check "yy still has no entries" output_has '^\[\]$' tdm -j steer show yy
# no link followed xx: the change forgot it, rather than guess
check "xx is forgotten" output_has '^\[\]$' tdm -j steer show
check "detach yy" tdm dev detach yy
ip netns del "$NS_C"
case_end "a_detached_device_is_known_by_name_and_ifindex"

# moved to another namespace, where its ifindex is taken: its packets
# still run its own chain, never the chain of the device whose ifindex
# it now has
NS_C=tdmC$$
check "nf cm" tdm nf add cm counter
check "chain of the moving device" tdm chain add mchain cm
check "a pair A-B" ip -n "$NS_A" link add mva type veth peer name mvb netns "$NS_B"
check "attach mvb" tdm dev attach mvb chain mchain
check "ns C" ip netns add "$NS_C"
i=$(ifindex_of mvb)
check "C holds mvb's ifindex" ip -n "$NS_C" link add hold index "$i" type veth peer name holdp index $((i + 50))
check "move mvb to C" ip -n "$NS_B" link set mvb netns "$NS_C"
newidx=$(ip -n "$NS_C" -j link show dev mvb | jq '.[0].ifindex')
echo "# mvb: ifindex $newidx in ns C; veth1 is $(ifindex_of veth1) in ns B"
check "addresses" sh -c "ip -n $NS_A addr add 10.30.0.1/24 dev mva && ip -n $NS_A link set mva up &&
	ip -n $NS_C addr add 10.30.0.2/24 dev mvb && ip -n $NS_C link set mvb up"
check "shown moved" output_has 'mvb .* moved' tdm dev show
c0=$(nf_stat c packets)
m0=$(nf_stat cm packets)
# 10 pings: veth1 may take a few packets of its own meanwhile (IPv6
# router solicitations and MLD reports after its link came up)
check "ping the moved device" in_a ping -c 10 -i 0.1 -W 2 10.30.0.2
expect "its own chain ran" "$(nf_stat cm packets)" -ge $((m0 + 10))
expect "veth1's did not take the pings" "$(nf_stat c packets)" -lt $((c0 + 10))
check "detach the moved device by its name" tdm dev detach mvb
check "no record left" sh -c "! nsenter --net=/run/netns/$NS_B $TANDEM dev show | grep -q mvb"
expect "no XDP program left on mvb" "$(ip -n "$NS_C" -d -j link show dev mvb | jq -r '.[0].xdp.prog.id // empty')" = ""
# a device taken in ns C comes here, and ns C goes: it is ours to manage
check "attach mvb from ns C" nsenter --net=/run/netns/"$NS_C" "$TANDEM" dev attach mvb chain mchain
check "shown as ns C's" output_has 'mvb .* other-ns' tdm dev show
check "mvb comes to B" ip -n "$NS_C" link set mvb netns "$NS_B"
ip netns del "$NS_C"
check "shown attached here" output_has '"state":"attached"' tdm -j dev show mvb
check "detached from here" tdm dev detach mvb
expect "no XDP program left on mvb" "$(xdp_prog_of mvb)" = ""
case_end "a_moved_device_runs_its_own_chain"

# the device goes away under an attached chain: shown as gone, and the
# next change forgets it, its steering entries and all
check "a second pair" ip -n "$NS_B" link add tmp0 type veth peer name tmp1
check "attach tmp0" tdm dev attach tmp0 chain all
check "steering on tmp0" tdm steer add tmp0 proto udp dport 53 chain all
check "exact steering on tmp0" tdm steer add tmp0 src 10.0.0.1 dst 10.0.0.2 proto tcp sport 1 dport 2 chain all
check "delete tmp0" ip -n "$NS_B" link del tmp0
check "shown as gone" output_has 'tmp0 .* gone' tdm dev show
check "detach the gone device" tdm dev detach tmp0
check "no record left" sh -c "! nsenter --net=/run/netns/$NS_B $TANDEM dev show | grep -q tmp0"
check "its steering entries went with it" output_has '^\[\]$' tdm -j steer show
# and when a new device took the old name meanwhile: the name is the new one's
check "a third pair" ip -n "$NS_B" link add tmp0 type veth peer name tmp1
check "attach tmp0" tdm dev attach tmp0 chain all
check "steering on tmp0" tdm steer add tmp0 proto udp dport 53 chain all
check "delete tmp0" ip -n "$NS_B" link del tmp0
check "a new tmp0" ip -n "$NS_B" link add tmp0 type veth peer name tmp1
check_fail "the new tmp0 is not attached" "not attached to tmp0" tdm dev detach tmp0
check "the gone one is forgotten" sh -c "! nsenter --net=/run/netns/$NS_B $TANDEM dev show | grep -q tmp0"
check "with its steering entries" output_has '^\[\]$' tdm -j steer show
check "detach veth1" tdm dev detach veth1
check "chain deletable now" tdm chain del all
case_end "device_removed_while_attached"

# devices are listed in the order tandem took them (their slots), however
# often their records are written again: the map's own order would move
check "chains a and b" sh -c "nsenter --net=/run/netns/$NS_B $TANDEM nf add oc counter &&
	nsenter --net=/run/netns/$NS_B $TANDEM chain add oa oc &&
	nsenter --net=/run/netns/$NS_B $TANDEM chain add ob oc"
# (ORDER_DEVS devices, 8 by default; the guests, where each attach costs
# a second or two, take 4 and do one round of re-attaching)
ORDER_DEVS=${ORDER_DEVS:-8}
devs=$(seq 0 $((ORDER_DEVS - 1)))
for i in $devs; do
	ip -n "$NS_B" link add ord$i type veth peer name ordp$i &&
		ip -n "$NS_B" link set ord$i up && ip -n "$NS_B" link set ordp$i up
	check "attach ord$i" tdm dev attach ord$i chain oa mode generic
done
order()
{
	tdm -j dev show | jq -r '[.[] | select(.dev | startswith("ord")) | .dev] | join(" ")'
}
want=$(for i in $devs; do printf 'ord%d ' $i; done)
want=${want% }
o=$(order)
expect "in the order attached: $o" "$o" = "$want"
for round in $(seq "${ORDER_ROUNDS:-3}"); do
	for i in 7 3 5 1 6 0 2 4; do
		[ $i -lt "$ORDER_DEVS" ] || continue
		check "re-attach ord$i" tdm dev attach ord$i chain \
			$([ $((round % 2)) = 1 ] && echo ob || echo oa) mode generic
	done
	o=$(order)
	expect "after round $round: $o" "$o" = "$want"
done
check "and in dump" sh -c "nsenter --net=/run/netns/$NS_B $TANDEM dump |
	grep -o 'dev attach ord[0-9]' | tr '\n' ' ' | grep -q '^dev attach ord0 dev attach ord1 dev attach ord2'"
for i in $devs; do
	check "detach ord$i" tdm dev detach ord$i
done
case_end "devices_list_in_the_order_taken"

ktap_finish
