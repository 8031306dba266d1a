#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Hitless chain replace: while numbered datagrams flow, replace the chain
# 1,000 times, alternating between two chains of two counters each. Every
# datagram must arrive, and the counters prove that each packet ran one
# chain whole: a1 = a2, b1 = b2, a1 + b1 = packets sent.
# Then the same at millions of packets per second (live frames injected
# by xdp_blast), where a replace that is not atomic per packet would show.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 jq

REPLACES=${REPLACES:-1000}
ktap_plan 4
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
ring_base=$(veth0_tx_dropped)
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
ring=$(( $(veth0_tx_dropped) - ring_base ))
got=$(udp_count rr)
uniq=$(udp_count rr unique)
echo "# $REPLACES replaces in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')s while sending $sent datagrams; $arrived reached the UDP layer, the receiver read $got ($uniq unique)"
expect "every replace succeeded" "$fails" -eq 0
expect "generation" "$(tdm -j chain show live | jq '.[0].generation')" -eq "$REPLACES"
# the receiver may fall behind on a slow (emulated) CPU, and the veth
# ring may overflow before XDP sees a frame; the counters of the stack
# and of veth0 say what crossed XDP
[ "$ring" -gt 0 ] && echo "# $ring datagrams dropped by the veth ring, before XDP"
expect "every datagram reached XDP or overflowed the ring before it" $((arrived + ring)) -eq "$sent"
expect "no duplicates" "$uniq" -eq "$got"
case_end "replace_1000_times_under_traffic_loses_nothing"

a1=$(nf_stat a1 packets); a2=$(nf_stat a2 packets)
b1=$(nf_stat b1 packets); b2=$(nf_stat b2 packets)
echo "# a1=$a1 a2=$a2 b1=$b1 b2=$b2"
expect "a1 = a2 (no packet left chain a half way)" "$a1" -eq "$a2"
expect "b1 = b2 (no packet left chain b half way)" "$b1" -eq "$b2"
expect "every packet that reached XDP ran one chain and arrived" $((a1 + b1)) -eq "$arrived"
expect "both chains carried traffic" "$b1" -gt 0
expect "no missed tail calls" "$(chain_stat live missed)" -eq 0
case_end "every_packet_ran_one_whole_chain"

# at millions of packets per second: a1/a2 vs b1/b2 again, ending in drop
for n in x1 x2 y1 y2; do
	check "nf $n" tdm nf add $n counter
done
check "chain hot" tdm chain add hot x1 x2 then drop
check "steer 9001" tdm steer add veth1 proto udp dport 9001 chain hot
nsenter --net=/run/netns/"$NS_B" "$TOP/build/selftests/xdp_blast" veth1 9001 "${BLAST_SECONDS:-8}" > "$TMP/blast" &
blaster=$!
sleep 0.5
k=0
while kill -0 $blaster 2>/dev/null; do
	if [ $((k % 2)) -eq 0 ]; then
		tdm chain replace hot y1 y2 then drop || fails=$((fails + 1))
	else
		tdm chain replace hot x1 x2 then drop || fails=$((fails + 1))
	fi
	k=$((k + 1))
done
wait $blaster
blasted=$(cat "$TMP/blast")
x1=$(nf_stat x1 packets); x2=$(nf_stat x2 packets)
y1=$(nf_stat y1 packets); y2=$(nf_stat y2 packets)
echo "# $k replaces under $blasted injected frames: x1=$x1 x2=$x2 y1=$y1 y2=$y2"
expect "every replace succeeded" "$fails" -eq 0
expect "replaced at least 3 times" "$k" -ge 3
expect "x1 = x2" "$x1" -eq "$x2"
expect "y1 = y2" "$y1" -eq "$y2"
expect "every frame ran one chain" $((x1 + y1)) -eq "${blasted:-0}"
expect "every frame reached the end of its chain" "$(chain_stat hot dropped)" -eq "${blasted:-0}"
expect "no missed tail calls" "$(chain_stat hot missed)" -eq 0
case_end "replace_under_millions_of_packets_per_second"

ktap_finish
