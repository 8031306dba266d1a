#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A policer holds its rate on live traffic: 2000 pps offered to a 500 pps
# policer for 2 s. What it passes is compared with an exact model of the
# policer fed the real send times (a sender that stalls and catches up
# offers bursts, which a policer must cut), and with rate * time + burst;
# every packet is accounted for as passed or dropped, and every passed
# one arrives.
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
out=$(in_a $UDP send 10.10.0.2 6000 --rate 2000 --duration 2 --times "$TMP/times")
udp_recv_wait $p rp
sent=$(json_get "$out" sent)
secs=$(json_get "$out" seconds)
got=$(udp_count rp)
s=$(tdm -j stats nf pol)
passed=$(($(json_get "$s" packets) - $(json_get "$s" drops)))
model=$(python3 "$TOP/selftests/lib/gcra.py" "$TMP/times" $RATE $BURST)
ceiling=$(python3 -c "print(int($RATE * $secs + $BURST))")
echo "# sent $sent in ${secs}s; the policer passed $passed, the model of it $model; $got arrived"
expect "policer saw every packet sent" "$(json_get "$s" packets)" -eq "$sent"
expect "every passed packet arrived" "$got" -eq "$passed"
# send times are taken just before the send, the policer's a little
# later: allow a few decisions either way
slack=$((model / 20 + 3))
expect "passed as the model: at least" "$passed" -ge $((model - slack))
expect "passed as the model: at most" "$passed" -le $((model + slack))
expect "never above rate * time + burst" "$passed" -le $((ceiling + 3))
case_end "policer_holds_500pps_under_2000pps"

ktap_finish
