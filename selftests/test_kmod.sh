#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tandem_sched.ko (Documentation/kmod.rst) itself: built with BTF for
# the running kernel, it loads, its device is root's, its kfuncs are
# registered; its ioctls hold against valid and generated hostile input
# (selftests/kmod_probe.c); an XDP program calling its kfuncs loads only
# with it, and reads a stopped NF's RX ring to the frame; 100 cycles of
# insmod, register, kfunc call, unregister, rmmod disturb no traffic
# crossing a tandem chain; and the kernel complains of nothing. Needs to
# load modules: a VM test (the host, which cannot, skips).
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 ethtool readelf jq
PROBE=$TOP/build/selftests/kmod_probe
OBJ=$TOP/build/selftests/kmod_kfunc.bpf.o
BURN=$TOP/build/tandem-nf-burn
CYCLES=${KMOD_CYCLES:-100}
[ -x "$PROBE" ] && [ -f "$OBJ" ] && [ -x "$BURN" ] ||
	{ echo "1..0 # SKIP not built (make)"; exit $KSFT_SKIP; }
require_kmod

ktap_plan 11
NFPID="" SENDPID="" RECVPID=""
DMESG0=$(dmesg | wc -l)
trap 'kill -CONT $NFPID 2>/dev/null; kill $NFPID $SENDPID $RECVPID 2>/dev/null; wait
      ip netns del "$NS_B" 2>/dev/null; rm -rf /sys/fs/bpf/tandem; rmmod tandem_sched 2>/dev/null
      cleanup' EXIT

# dmesg since the test started
new_dmesg()
{
	dmesg | tail -n +$((DMESG0 + 1))
}

nf_get()
{
	nf_field "$1" "$2"
}

# ---- the module as built
check "has a .BTF section" bash -c "readelf -SW '$KO' | grep -q ' \.BTF '"
check "has .BTF_ids (its kfunc set)" bash -c "readelf -SW '$KO' | grep -q ' \.BTF_ids '"
check "built for $(uname -r)" bash -c "modinfo -F vermagic '$KO' | grep -q '^$(uname -r) '"
case_end "built_with_btf_for_this_kernel"

check "insmod" insmod "$KO"
check "in /sys/module" test -d /sys/module/tandem_sched
case_end "insmod"

check "a character device" test -c /dev/tandem_sched
expect "mode 0600" "$(stat -c %a /dev/tandem_sched)" = 600
expect "root's" "$(stat -c %u:%g /dev/tandem_sched)" = 0:0
case_end "device_is_root_only"

check "/sys/kernel/btf/tandem_sched" test -e /sys/kernel/btf/tandem_sched
if new_dmesg | grep -q "missing module BTF"; then
	echo "# dmesg: missing module BTF"
	case_failed=1
fi
case_end "module_btf_registered"

# ---- the device, against its interface (seeded: the seed is printed)
"$PROBE" ioctl ${KMOD_SEED:-} > "$TMP/probe" 2>&1
rc=$?
sed 's/^/# /' "$TMP/probe"
expect "kmod_probe ioctl exits 0" $rc -eq 0
check "kmod_probe ioctl: no case failed" bash -c "! grep -q '^not ok' '$TMP/probe'"
case_end "kmod_probe_ioctls"

"$PROBE" kfunc "$OBJ" > "$TMP/kfunc" 2>&1
rc=$?
sed 's/^/# /' "$TMP/kfunc"
expect "kmod_probe kfunc exits 0" $rc -eq 0
check "kmod_probe kfunc: no case failed" bash -c "! grep -q '^not ok' '$TMP/kfunc'"
case_end "kfuncs_from_xdp"

# ---- without the module: the kfunc program does not load, tandem does
check "rmmod" rmmod tandem_sched
check "the kfunc program does not load" "$PROBE" noload "$OBJ"
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
in_a ethtool -K veth0 tx off > /dev/null
# a chain loaded now is tdm_chain, not tdm_chain_km: it holds no
# reference to the module, which can come and go under it
check "nf add p" tdm nf add p process ring 256 -- "$BURN" 0
check "nf add c1" tdm nf add c1 counter
check "chain add" tdm chain add web c1 p then pass
check "attach" tdm dev attach veth1
check "steer udp to web" tdm steer add veth1 prio 200 proto udp chain web
check "not the module's variant" bash -c "! bpftool prog show name tdm_chain_km 2>/dev/null | grep -q xdp"
nsenter --net=/run/netns/"$NS_B" "$BURN" 0 --nf p &
NFPID=$!
for i in $(seq 400); do [ "$(nf_get p up)" = true ] && break; sleep 0.05; done
expect "p is up" "$(nf_get p up)" = true
ID=$(nf_get p id)
case_end "without_the_module_only_the_kfunc_program_fails"

# ---- a stopped NF's RX ring, read by the kfunc to the frame
N=37
check "insmod again" insmod "$KO"
kill -STOP $NFPID
h0=$(nf_get p handed)
udp_recv_start 7001 r7001 && RECVPID=$!
in_a $UDP send 10.10.0.2 7001 --count $N --rate 2000 > /dev/null
for i in $(seq 200); do [ "$(nf_get p handed)" -ge $((h0 + N)) ] && break; sleep 0.05; done
handed=$(nf_get p handed)
consumed=$(nf_get p consumed)
out=$("$PROBE" backlog "$OBJ" "$ID" 2>&1)
echo "# handed $handed consumed $consumed; kmod_probe: $out"
expect "handed the $N frames" "$handed" -eq $((h0 + N))
expect "the kfunc's backlog is handed - consumed" \
	"$(awk '{print $2}' <<< "$out")" = "$((handed - consumed))"
expect "that is the $N frames" "$((handed - consumed))" -eq $N
expect "GET's backlog too" "$(awk '{print $4}' <<< "$out")" = $N
expect "below the high watermark: not congested" "$(awk '{print $6}' <<< "$out")" = 0
kill -CONT $NFPID
udp_recv_wait $RECVPID r7001
RECVPID=""
expect "all $N arrive once it runs" "$(udp_count r7001)" -eq $N
check "rmmod" rmmod tandem_sched
case_end "kfunc_backlog_is_the_rx_ring"

# ---- load, use, unload, over and over, while traffic crosses the chain
t0=$(date +%s)
snap()
{
	echo "$(chain_stat web packets) $(chain_stat web dropped) $(chain_stat web backpressure) $(chain_stat web missed) $(udp_arrived_b)"
}
before=$(snap)
udp_recv_start 7002 r7002 && RECVPID=$!
rm -f "$TMP/send.stop"
in_a $UDP send 10.10.0.2 7002 --count 100000000 --rate 300 --stop "$TMP/send.stop" > "$TMP/send.json" &
SENDPID=$!
# (kmod_probe cycles: insmod, register, get, both kfuncs from XDP,
# unregister, rmmod; in one process, as libbpf's loads were too slow.
# It holds probes of its own on the module's tracepoints, so that the
# module's come and go patch no kernel text: see hold_tracepoints())
"$PROBE" cycles "$KO" "$CYCLES" "$ID" > "$TMP/cycles" 2>&1
bad=$?
sed 's/^/# /' "$TMP/cycles"
touch "$TMP/send.stop"
wait $SENDPID
SENDPID=""
sleep 0.5
udp_recv_wait $RECVPID r7002
RECVPID=""
after=$(snap)
sent=$(json_get "$(cat "$TMP/send.json")" sent)
read -r p0 d0 b0 m0 a0 <<< "$before"
read -r p1 d1 b1 m1 a1 <<< "$after"
echo "# $CYCLES cycles in $(($(date +%s) - t0)) s; sent $sent, chain: packets $((p1 - p0)) dropped $((d1 - d0)) backpressure $((b1 - b0)) missed $((m1 - m0)); arrived $((a1 - a0)), received $(udp_count r7002)"
expect "every cycle worked" $bad -eq 0
expect "traffic flowed" "$sent" -gt 100
expect "every datagram crossed the chain" $((p1 - p0)) -eq "$sent"
expect "all arrived but what the chain dropped" $((a1 - a0)) -eq $((sent - (d1 - d0) - (b1 - b0) - (m1 - m0)))
expect "the chain dropped none (pass)" $((d1 - d0 + b1 - b0 + m1 - m0)) -eq 0
case_end "load_use_unload_${CYCLES}_times_under_traffic"

# ---- what the kernel said
if new_dmesg | grep -E "BUG|WARNING|Oops|refcount|leak" > "$TMP/dmesg.bad"; then
	echo "# dmesg:"
	sed 's/^/#   /' "$TMP/dmesg.bad" | head -40
	case_failed=1
fi
case_end "dmesg_clean"

KML=/sys/kernel/debug/kmemleak
if [ -w "$KML" ]; then
	echo scan > "$KML"; sleep 1; echo scan > "$KML"
	if grep -B2 -A20 tandem_sched "$KML" > "$TMP/kml"; then
		sed 's/^/#   /' "$TMP/kml" | head -40
		case_failed=1
	fi
	case_end "kmemleak_names_nothing_of_tandem_sched"
else
	case_skip "kmemleak_names_nothing_of_tandem_sched" "no $KML (CONFIG_DEBUG_KMEMLEAK)"
fi
ktap_finish
