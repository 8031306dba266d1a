#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Steering two flows to two chains: an exact 5-tuple entry and port/prefix
# rules (IPv4 and IPv6), with everything else on the default chain.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3

ktap_plan 3
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }

check "nfs" tdm nf add k1 counter
check "nfs" tdm nf add k2 counter
check "nfs" tdm nf add kd counter
check "chain one" tdm chain add one k1
check "chain two" tdm chain add two k2
check "chain dflt" tdm chain add dflt kd
check "exact flow" tdm steer add veth1 src 10.10.0.1 dst 10.10.0.2 proto udp sport 40001 dport 7001 chain one
check "port rule" tdm steer add veth1 proto udp dport 7002 chain two
check "v6 prefix rule" tdm steer add veth1 dst fd00::/64 proto udp dport 7003 chain two
check "attach" tdm dev attach veth1 chain dflt
tdm steer show veth1 | sed 's/^/# /'
case_end "steering_entries_added"

for port in 7001 7002 7003 7004; do
	udp_recv_start $port r$port
	eval p$port=$!
done
in_a $UDP send 10.10.0.2 7001 --sport 40001 --count 50 --rate 2000 > /dev/null
in_a $UDP send 10.10.0.2 7001 --sport 40002 --count 5 --rate 2000 > /dev/null
in_a $UDP send 10.10.0.2 7002 --count 70 --rate 2000 > /dev/null
in_a $UDP send fd00::2 7003 --count 30 --rate 2000 > /dev/null
in_a $UDP send 10.10.0.2 7004 --count 20 --rate 2000 > /dev/null
for port in 7001 7002 7003 7004; do
	eval udp_recv_wait \$p$port r$port
done
expect "7001 arrived" "$(udp_count r7001)" -eq 55
expect "k1: the exact flow only" "$(nf_stat k1 packets)" -eq 50
expect "k2: udp 7002 over v4 and 7003 over v6" "$(nf_stat k2 packets)" -eq 100
expect "kd: the rest" "$(nf_stat kd packets)" -ge 25
s=$(tdm -j stats dev veth1)
expect "dev steer_flow" "$(json_get "$s" steer_flow)" -eq 50
expect "dev steer_rule" "$(json_get "$s" steer_rule)" -eq 100
case_end "two_flows_on_two_chains_rest_on_default"

check "del the exact entry" tdm steer del veth1 1
check_fail "chain in use by steering" "used by steering" tdm chain del two
udp_recv_start 7001 r7001b; p=$!
in_a $UDP send 10.10.0.2 7001 --sport 40001 --count 10 --rate 2000 > /dev/null
udp_recv_wait $p r7001b
expect "k1 unchanged after del" "$(nf_stat k1 packets)" -eq 50
case_end "steer_del_moves_flow_to_default"

ktap_finish
