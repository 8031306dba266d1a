#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A policer holds its rate on live traffic: 2000 pps offered to a 500 pps
# policer for 2 s; what arrives is the rate times the time plus the burst,
# and every packet is accounted for as passed or dropped.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3

ktap_plan 2
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }

RATE=500
BURST=20
check "nf add" tdm nf add pol policer rate ${RATE}pps burst $BURST
check "chain" tdm chain add limited pol
check "steer udp 6000 to the policer" tdm steer add veth1 proto udp dport 6000 chain limited
check "attach" tdm dev attach veth1
case_end "policer_chain_steered_by_port"

udp_recv_start 6000 rp; p=$!
out=$(in_a $UDP send 10.10.0.2 6000 --rate 2000 --duration 2)
udp_recv_wait $p rp
sent=$(json_get "$out" sent)
secs=$(json_get "$out" seconds)
got=$(udp_count rp)
# a slow sender (an emulated CPU) may offer less than the policer allows
want=$(python3 -c "print(min($sent, int($RATE * $secs + $BURST)))")
echo "# sent $sent in ${secs}s, received $got, expected about $want"
expect "received at least 85% of rate*time+burst" "$got" -ge $((want * 85 / 100))
expect "received at most 115% of rate*time+burst" "$got" -le $((want * 115 / 100))
s=$(tdm -j stats nf pol)
expect "policer saw every packet sent" "$(json_get "$s" packets)" -eq "$sent"
expect "passed + dropped = sent" $((got + $(json_get "$s" drops))) -eq "$sent"
case_end "policer_holds_500pps_under_2000pps"

ktap_finish
