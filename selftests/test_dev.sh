#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Attaching and detaching: the chain outlives the CLI process (pinned
# link and prog array), detach leaves the device clean, and a device held
# by another XDP program is refused without --force.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 bpftool

PASS_OBJ=$TOP/build/selftests/xdp_pass.bpf.o
ktap_plan 8
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }

xdp_prog_of()	# the XDP program id on DEV (veth1), or nothing
{
	ip -n "$NS_B" -d -j link show dev "${1:-veth1}" |
		python3 -c 'import json,sys; l=json.load(sys.stdin)[0]; print(l.get("xdp",{}).get("prog",{}).get("id",""))'
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

# another namespace with a device of the same ifindex as veth1: one pin
# directory serves one namespace, so tandem refuses it
NS_C=tdmC$$
idx=$(ip -n "$NS_B" -j link show dev veth1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])')
check "veth1 attached" tdm dev attach veth1 chain all
check "ns C" ip netns add "$NS_C"
check "same ifindex in ns C" ip -n "$NS_C" link add name twin index "$idx" type veth peer name twinp index $((idx + 100))
check_fail "attach in ns C refused" "another network namespace" nsenter --net=/run/netns/"$NS_C" "$TANDEM" dev attach twin chain all
check_fail "detach in ns C refused" "another network namespace" nsenter --net=/run/netns/"$NS_C" "$TANDEM" dev detach twin
check "veth1 still ours and attached" output_has '"attached":true' tdm -j dev show veth1
check "shown as elsewhere from ns C" output_has 'other-ns' nsenter --net=/run/netns/"$NS_C" "$TANDEM" dev show
ip netns del "$NS_C"
case_end "a_device_of_another_namespace_is_refused"

# the device goes away under an attached chain: shown as gone, and
# detach by its old name cleans up so the chain can be deleted
check "a second pair" ip -n "$NS_B" link add tmp0 type veth peer name tmp1
check "attach tmp0" tdm dev attach tmp0 chain all
check "steering on tmp0" tdm steer add tmp0 proto udp dport 53 chain all
check "exact steering on tmp0" tdm steer add tmp0 src 10.0.0.1 dst 10.0.0.2 proto tcp sport 1 dport 2 chain all
check "delete tmp0" ip -n "$NS_B" link del tmp0
check "shown as gone" output_has 'tmp0 .* gone' tdm dev show
check "detach the gone device" tdm dev detach tmp0
check "no record left" sh -c "! nsenter --net=/run/netns/$NS_B $TANDEM dev show | grep -q tmp0"
check "its steering entries went with it" output_has '^\[\]$' tdm -j steer show
# and when a new device took the old name meanwhile
check "a third pair" ip -n "$NS_B" link add tmp0 type veth peer name tmp1
check "attach tmp0" tdm dev attach tmp0 chain all
check "delete tmp0" ip -n "$NS_B" link del tmp0
check "a new tmp0" ip -n "$NS_B" link add tmp0 type veth peer name tmp1
check "detach the old tmp0 by name" tdm dev detach tmp0
check "no record left" sh -c "! nsenter --net=/run/netns/$NS_B $TANDEM dev show | grep -q tmp0"
check "detach veth1" tdm dev detach veth1
check "chain deletable now" tdm chain del all
case_end "device_removed_while_attached"

ktap_finish
