#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A bond: in native mode the bond puts the entry program on its slaves,
# and packets arrive with the slave's ingress ifindex; the entry knows its
# device by the slot it was loaded for, so the bond's chain runs all the
# same. Generic mode too. Needs the bonding driver (a module in Debian's
# kernels: runs in the VM; skipped where the kernel has none).
source "$(dirname "$0")/lib.sh"
require ip nsenter ping python3

setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
if ! ip -n "$NS_B" link add bond0 type bond mode active-backup 2>/dev/null; then
	echo "1..0 # SKIP no bonding driver in this kernel"
	exit $KSFT_SKIP
fi
ktap_plan 3

# ns A: bva --- bvb (ns B), a slave of bond0
check "pair for the bond" ip -n "$NS_A" link add bva type veth peer name bvb netns "$NS_B"
check "enslave" ip -n "$NS_B" link set bvb master bond0
check "addresses" sh -c "ip -n $NS_A addr add 10.40.0.1/24 dev bva &&
	ip -n $NS_A link set bva up && ip -n $NS_B addr add 10.40.0.2/24 dev bond0 &&
	ip -n $NS_B link set bond0 up && ip -n $NS_B link set bvb up"
check "ping over the bond" in_a ping -c 2 -i 0.2 -W 5 10.40.0.2
check "nf" tdm nf add bc counter
check "nf drop" tdm nf add bfw firewall default pass
check "rule" tdm rule add bfw proto icmp action drop
check "chain" tdm chain add bchain bc bfw
case_end "bond_up"

for mode in native generic; do
	if ! tdm dev attach bond0 chain bchain mode $mode > "$TMP/attach.out" 2>&1; then
		echo "# check failed: attach bond0 mode $mode"
		sed 's/^/#   /' "$TMP/attach.out"
		case_failed=1
		case_end "bond_in_${mode}_mode_runs_its_chain"
		continue
	fi
	check "shown attached $mode" output_has "\"mode\":\"$mode\"" tdm -j dev show bond0
	c0=$(nf_stat bc packets)
	d0=$(json_get "$(tdm -j stats dev bond0)" no_chain)
	# the chain drops ICMP: pings fail, counted on the chain's NFs
	in_a ping -c 3 -i 0.2 -W 1 10.40.0.2 > /dev/null 2>&1
	expect "$mode: the chain saw the pings" "$(nf_stat bc packets)" -ge $((c0 + 3))
	expect "$mode: none went without a chain" \
		"$(json_get "$(tdm -j stats dev bond0)" no_chain)" -eq "$d0"
	check "$mode: detach" tdm dev detach bond0
	check "$mode: ping after detach" in_a ping -c 2 -i 0.2 -W 5 10.40.0.2
	case_end "bond_in_${mode}_mode_runs_its_chain"
done

ktap_finish
