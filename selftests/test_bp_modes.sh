#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Backpressure decided by tandem_sched.ko (Documentation/kmod.rst) is the
# same as without it. One scripted queue history (a process NF stopped
# and resumed while frames come: filled past its high watermark, drained,
# filled again with other watermarks) runs three times on the same
# chain: the datapath deciding by itself; the module deciding, from the
# NF's RX ring, through the chain's tdm_chain_km variant; and that
# variant again after the module lost the NF (it decides by itself
# again). Every count of every step must be equal, and equal to what the
# watermarks say. Needs the module: a VM test (the host skips).
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 ethtool bpftool jq
BURN=$TOP/build/tandem-nf-burn
REG=$TOP/build/selftests/kmod_reg
[ -x "$BURN" ] && [ -x "$REG" ] || { echo "1..0 # SKIP not built"; exit $KSFT_SKIP; }
require_kmod

ktap_plan 3
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
in_a ethtool -K veth0 tx off > /dev/null
NFPID="" REGPID=""

# The module goes when the last program calling its kfuncs does: the
# chain's, pinned in this test's bpffs and attached in ns B.
unload()
{
	local i
	ip netns del "$NS_B" 2>/dev/null
	rm -rf /sys/fs/bpf/tandem
	for i in $(seq 100); do
		[ -e /sys/module/tandem_sched ] || return 0
		rmmod tandem_sched 2>/dev/null && return 0
		sleep 0.1
	done
	echo "# tandem_sched stays loaded"
	return 1
}
trap 'kill -CONT $NFPID 2>/dev/null; kill $NFPID $REGPID 2>/dev/null; wait; unload; cleanup' EXIT

nf_get()
{
	nf_field "$1" "$2"
}

wait_backlog0()
{
	local i
	for i in $(seq 400); do
		[ "$(nf_get p backlog)" = 0 ] && return 0
		sleep 0.05
	done
	return 1
}

# received PORT COUNT: datagrams of COUNT sent that arrived
received()
{
	local p
	udp_recv_start "$1" "r$1" || return 1
	p=$!
	in_a $UDP send 10.10.0.2 "$1" --count "$2" --rate 2000 > /dev/null
	udp_recv_wait $p "r$1"
	udp_count "r$1"
}

# fill PORT COUNT: send while the NF is stopped (no receiver: nothing
# passes the NF until it runs, and then the port is closed)
fill()
{
	in_a $UDP send 10.10.0.2 "$1" --count "$2" --rate 2000 > /dev/null
}

# snap STEP [RECEIVED]: the counters of one step, as deltas since the
# last snap, then congestion, backlog and what arrived
LAST=""
snap()
{
	local now line
	local a b
	# (a jq and bash's arithmetic, not two python3s: see nf_field)
	now=$(tdm -j nf show p | jq -r '.[0] | "\(.handed) \(.bp_drops) \(.congestions) \(.congested) \(.backlog)"')
	now="$now $(chain_stat web backpressure) $(nf_stat c1 packets)"
	if [ -n "$LAST" ]; then
		read -r -a a <<< "$LAST"
		read -r -a b <<< "$now"
		line="$((b[0] - a[0])) $((b[1] - a[1])) $((b[2] - a[2])) $((b[5] - a[5])) $((b[6] - a[6])) ${b[3]} ${b[4]}"
		echo "$1: $line $2"
	fi
	LAST=$now
}

# history: the scripted steps; one line per step:
#   STEP: handed bp_drops congestions backpressure c1 congested backlog received
history()
{
	LAST=""
	snap start
	kill -STOP $NFPID
	fill 7001 100
	snap fill1
	kill -CONT $NFPID
	wait_backlog0 || echo "# p did not drain"
	snap drain1
	snap after1 "$(received 7002 30)"
	check "watermarks 32/16" tdm apply "$TMP/low.policy" > /dev/null
	kill -STOP $NFPID
	fill 7003 60
	snap fill2
	kill -CONT $NFPID
	wait_backlog0 || echo "# p did not drain"
	snap drain2
	snap after2 "$(received 7004 10)"
	check "watermarks back" tdm apply "$TMP/high.policy" > /dev/null
}

check "nf add p" tdm nf add p process ring 64 -- "$BURN" 0
check "nf add c1" tdm nf add c1 counter
check "chain add" tdm chain add web c1 p then pass
check "attach" tdm dev attach veth1
check "steer udp to web" tdm steer add veth1 prio 200 proto udp chain web
nsenter --net=/run/netns/"$NS_B" "$BURN" 0 --nf p &
NFPID=$!
for i in $(seq 400); do [ "$(nf_get p up)" = true ] && break; sleep 0.05; done
ID=$(nf_get p id)
high=$(nf_get p high)
# the second fill's watermarks come through apply, as a user changes them
tdm dump > "$TMP/high.policy"
sed 's/ high 80 low 60 / high 50 low 25 /' "$TMP/high.policy" > "$TMP/low.policy"
check "the change is what the test means" grep -q "high 50 low 25" "$TMP/low.policy"

# ---- 1: the datapath alone
history > "$TMP/alone"
sed 's/^/# /' "$TMP/alone"
expect "filled to the high watermark ($high), the rest dropped at entry" \
	"$(grep ^fill1: "$TMP/alone" | cut -d' ' -f2-6)" = "$high $((100 - high)) 1 $((100 - high)) $high"
expect "congested, the backlog at the high watermark" \
	"$(grep ^fill1: "$TMP/alone" | cut -d' ' -f7-8)" = "true $high"
expect "after draining, not congested, all through" \
	"$(grep ^after1: "$TMP/alone" | cut -d' ' -f2,3,7,9)" = "30 0 false 30"
expect "the new watermarks rule the second fill" \
	"$(grep ^fill2: "$TMP/alone" | cut -d' ' -f2,3)" = "32 28"
case_end "the_datapath_alone_follows_the_watermarks"

# ---- 2: the module decides
check "insmod" insmod "$KO"
"$REG" "$ID" > "$TMP/reg" 2>&1 &
REGPID=$!
for i in $(seq 100); do grep -q registered "$TMP/reg" && break; sleep 0.05; done
check "registered" grep -q registered "$TMP/reg"
check "a chain loaded now asks the module" tdm chain replace web c1 p then pass
check "hop 0 is tdm_chain_km" bash -c "bpftool prog show name tdm_chain_km | grep -q xdp"
history > "$TMP/module.raw"
kill $REGPID; wait $REGPID; REGPID=""
sed 's/^/# /' "$TMP/module.raw" "$TMP/reg"
expect "the module saw the crossings" "$(awk '/^crossings/ {print $2}' "$TMP/reg")" -ge 2
check "every step the same as without the module" diff "$TMP/alone" "$TMP/module.raw"
case_end "the_module_decides_the_same"

# ---- 3: the module lost the NF (tandemd gone): the chain decides alone
history > "$TMP/lost"
check "every step the same again" diff "$TMP/alone" "$TMP/lost"
case_end "without_a_registration_the_chain_decides_alone"
ktap_finish
