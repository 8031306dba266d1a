#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Hitless chain replace: while numbered datagrams flow, replace the chain
# 1,000 times, alternating between two chains of two counters each. Every
# datagram must arrive, and the counters prove that each packet ran one
# chain whole: a1 = a2, b1 = b2, a1 + b1 = packets sent.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3

REPLACES=${REPLACES:-1000}
ktap_plan 3
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }

for n in a1 a2 b1 b2; do
	check "nf $n" tdm nf add $n counter
done
check "chain" tdm chain add live a1 a2
check "steer the test port" tdm steer add veth1 proto udp dport 9000 chain live
check "attach" tdm dev attach veth1
case_end "two_alternative_chains_ready"

udp_recv_start 9000 rr 1; p=$!
base=$(udp_arrived_b)
rm -f "$TMP/stop"
in_a $UDP send 10.10.0.2 9000 --rate 3000 --stop "$TMP/stop" > "$TMP/sent.json" &
sender=$!
sleep 0.3
fails=0
start=$(date +%s.%N)
for i in $(seq "$REPLACES"); do
	if [ $((i % 2)) -eq 1 ]; then
		tdm chain replace live b1 b2 || fails=$((fails + 1))
	else
		tdm chain replace live a1 a2 || fails=$((fails + 1))
	fi
done
end=$(date +%s.%N)
sleep 0.3
touch "$TMP/stop"
wait $sender
udp_recv_wait $p rr
sent=$(json_get "$(cat "$TMP/sent.json")" sent)
arrived=$(( $(udp_arrived_b) - base ))
got=$(udp_count rr)
uniq=$(udp_count rr unique)
echo "# $REPLACES replaces in $(python3 -c "print(round($end - $start, 1))")s while sending $sent datagrams; $arrived reached the UDP layer, the receiver read $got ($uniq unique)"
expect "every replace succeeded" "$fails" -eq 0
expect "generation" "$(json_get "$(tdm -j chain show live | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]))')" generation)" -eq "$REPLACES"
# the receiver may fall behind on a slow (emulated) CPU; the stack's
# counters say what crossed XDP
expect "every datagram arrived" "$arrived" -eq "$sent"
expect "no duplicates" "$uniq" -eq "$got"
case_end "replace_1000_times_under_traffic_loses_nothing"

a1=$(nf_stat a1 packets); a2=$(nf_stat a2 packets)
b1=$(nf_stat b1 packets); b2=$(nf_stat b2 packets)
echo "# a1=$a1 a2=$a2 b1=$b1 b2=$b2"
expect "a1 = a2 (no packet left chain a half way)" "$a1" -eq "$a2"
expect "b1 = b2 (no packet left chain b half way)" "$b1" -eq "$b2"
expect "every packet ran one chain" $((a1 + b1)) -eq "$sent"
expect "both chains carried traffic" "$b1" -gt 0
expect "no missed tail calls" "$(chain_stat live missed)" -eq 0
case_end "every_packet_ran_one_whole_chain"

ktap_finish
