#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Process NFs (Documentation/process-nfs.rst) driven by the CLI on veth:
# a chain mixing XDP NFs and processes passes, drops and counts; scan
# drops what matches; a stopped process's chain follows its fail
# setting; a descheduled (SIGSTOPped) NF's chain is dropped at entry by
# backpressure while other chains go on; forged frames on the return
# path get nowhere. The NFs are started by hand here (test_tandemd.sh
# has tandemd run them).
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 ethtool jq
BURN=$TOP/build/tandem-nf-burn
SCAN=$TOP/build/tandem-nf-scan
[ -x "$BURN" ] && [ -x "$SCAN" ] || { echo "1..0 # SKIP no process NFs built"; exit $KSFT_SKIP; }

ktap_plan 11
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
# A local socket's datagrams leave a veth with the checksum left to do
# (CHECKSUM_PARTIAL); XDP redirect loses that mark, so make the sender
# finish it, as a NIC's frames always are.
in_a ethtool -K veth0 tx off > /dev/null
NFPIDS="" TDM_PID=""
trap 'kill -CONT $NFPIDS 2>/dev/null; kill $NFPIDS $TDM_PID 2>/dev/null; wait; cleanup' EXIT

# nf_start NAME CMD...: run a process NF in ns B; NFPID
nf_start()
{
	local name=$1
	shift
	nsenter --net=/run/netns/"$NS_B" "$@" --nf "$name" &
	NFPID=$!
	NFPIDS="$NFPIDS $NFPID"
}

# proc_get NAME KEY: a field of 'tandem -j nf show NAME'
proc_get()
{
	# (quiet: a wait may start before tandemd has added the NF)
	nf_field "$1" "$2"
}

# wait_proc NAME KEY VALUE: until the field is VALUE (20 s)
wait_proc()
{
	local i
	for i in $(seq 400); do
		[ "$(proc_get "$1" "$2")" = "$3" ] && return 0
		sleep 0.05
	done
	echo "# $1: $2 is $(proc_get "$1" "$2"), not $3"
	return 1
}

# send_recv PORT COUNT [DST [udp.py send options]]: datagrams received
send_recv()
{
	local port=$1 count=$2 dst=${3:-10.10.0.2} p
	shift 3 2>/dev/null || shift $#
	udp_recv_start "$port" "r$port" || return 1
	p=$!
	in_a $UDP send "$dst" "$port" --count "$count" --rate 2000 "$@" > /dev/null
	udp_recv_wait $p "r$port"
	udp_count "r$port"
}

# ---- 1: fw (XDP) -> c1 (XDP) -> p (process) -> c2 (XDP) -> pass
check "nf add fw" tdm nf add fw firewall
check "rule: drop udp 5001" tdm rule add fw proto udp dport 5001 action drop
check "nf add c1" tdm nf add c1 counter
check "nf add p" tdm nf add p process ring 256 -- "$BURN" 0
check "nf add c2" tdm nf add c2 counter
check "chain add" tdm chain add web fw c1 p c2 then pass
# only the test's UDP runs web: the peer's own ICMPv6 (router
# solicitations, MLD reports) would make its counts race the test's
check "attach" tdm dev attach veth1
check "steer udp to web" tdm steer add veth1 prio 200 proto udp chain web
check "the command is kept" output_has "command: $BURN 0" tdm nf show p
check "p's veth pair is there" in_b ip link show tdmnf2a
nf_start p "$BURN" 0
wait_proc p up true
expect "v4 through the process NF" "$(send_recv 5002 100)" -eq 100
expect "v6 through the process NF" "$(send_recv 5002 100 fd00::2)" -eq 100
expect "fw's drops never reach the process" "$(send_recv 5001 50)" -eq 0
# the peer's own packets (IPv6 router solicitations, MLD) may be on
# their way through p: take the counters when they agree, then check
# them against what the NFs before p saw
for i in $(seq 100); do
	handed=$(proc_get p handed); consumed=$(proc_get p consumed)
	passed=$(proc_get p passed); c2=$(nf_stat c2 packets)
	cpassed=$(chain_stat web passed); c1=$(nf_stat c1 packets)
	[ "$consumed $passed $c2 $cpassed $c1" = "$handed $handed $handed $handed $handed" ] && break
	sleep 0.05
done
expect "p was handed what c1 passed" "$handed" -eq "$c1"
expect "p consumed what it was handed" "$consumed" -eq "$handed"
expect "p passed what it consumed" "$passed" -eq "$handed"
expect "c2 ran after p on all of it" "$c2" -eq "$handed"
expect "the chain passed them" "$cpassed" -eq "$handed"
expect "p saw at least the test's 200" "$handed" -ge 200
expect "the chain passed them" "$(chain_stat web passed)" -eq "$handed"
tdm dump > "$TMP/dump"
grep -q "^nf add p process weight auto fail closed ring 256 high 80 low 60 -- $BURN 0$" "$TMP/dump" ||
	{ echo "# dump line:"; grep "nf add p" "$TMP/dump"; case_failed=1; }
check "applying the dump changes nothing" output_has "0 added, 0 changed, 0 deleted" tdm apply "$TMP/dump"
case_end "a_chain_mixing_xdp_and_process_nfs_passes_v4_v6"

# ---- 2: scan drops payloads that match
check "nf add s" tdm nf add s process
check "chain replace" tdm chain replace web fw c1 s c2 then pass
nf_start s "$SCAN" 'EVIL[0-9]+'
SCANPID=$NFPID
wait_proc s up true
expect "matching payloads dropped" "$(send_recv 5003 50 10.10.0.2 --payload xxEVIL42xx)" -eq 0
expect "other payloads pass" "$(send_recv 5004 50 10.10.0.2 --payload harmless)" -eq 50
expect "v6 matching dropped" "$(send_recv 5003 20 fd00::2 --payload EVIL7)" -eq 0
expect "scan counted its drops" "$(proc_get s dropped)" -eq 70
expect "tandem stats has them as verdict drops" "$(tdm -j stats nf s |
	jq '.drop_reasons.verdict')" -eq 70
case_end "scan_drops_what_matches"

# ---- 3: a process that is down: fail closed (default) and fail open
kill $SCANPID; wait $SCANPID 2>/dev/null
wait_proc s up false
# (the peer's own packets may run the chain too: compare with its counts)
d0=$(json_get "$(tdm -j stats nf s)" drops); x0=$(chain_stat web dropped)
expect "fail closed: nothing passes" "$(send_recv 5005 20)" -eq 0
d1=$(json_get "$(tdm -j stats nf s)" drops)
expect "counted as nf_down" "$((d1 - d0))" -ge 20
expect "as the chain's drops" "$((d1 - d0))" -eq "$(( $(chain_stat web dropped) - x0 ))"
check "nf add o (fail open)" tdm nf add o process fail open
check "chain replace" tdm chain replace web c1 o c2 then pass
c2a=$(nf_stat c2 packets)
expect "fail open: all pass" "$(send_recv 5006 20)" -eq 20
by=$(proc_get o bypassed)
expect "counted as bypassed" "$by" -ge 20
expect "c2 ran after the bypassed NF" "$(( $(nf_stat c2 packets) - c2a ))" -eq "$by"
# a frame too large for the NF's pair is dropped, even failing open: it
# would be a way around an inspecting NF
ip -n "$NS_A" link set veth0 mtu 3400 && ip -n "$NS_B" link set veth1 mtu 3400 ||
	case_failed=1
expect "fail open, 3000-byte datagrams: none pass" "$(send_recv 5012 5 10.10.0.2 --size 3000)" -eq 0
expect "counted as oversize" "$(tdm -j stats nf o |
	jq '.drop_reasons.oversize')" -eq 5
expect "small ones still pass" "$(send_recv 5013 5)" -eq 5
ip -n "$NS_A" link set veth0 mtu 1500; ip -n "$NS_B" link set veth1 mtu 1500
case_end "a_down_process_nf_fails_closed_or_open"

# ---- 4: backpressure: p is descheduled (SIGSTOP); its chain is dropped
# at entry, before any NF; a chain without it goes on. A chain replace
# while p holds packets: they go on in the chain as it is now.
check "nf add c3" tdm nf add c3 counter
check "chain plain" tdm chain add plain c3 then pass
check "steer 6000 to plain" tdm steer add veth1 prio 100 proto udp dport 6000 chain plain
check "chain replace" tdm chain replace web c1 p c2 then pass
kill -STOP $(echo $NFPIDS | awk '{print $1}')
p0=$(chain_stat web packets); b0=$(chain_stat web backpressure)
c0=$(nf_stat c1 packets)
send_recv 5007 400 > /dev/null
expect "the other chain is untouched" "$(send_recv 6000 100)" -eq 100
expect "p is congested" "$(proc_get p congested)" = true
entered=$(( $(chain_stat web packets) - p0 ))
bp=$(( $(chain_stat web backpressure) - b0 ))
expect "all but a ring's high watermark dropped at entry" "$bp" -ge $((400 - $(proc_get p high)))
expect "c1 (the first NF) saw only the rest" "$(( $(nf_stat c1 packets) - c0 ))" -eq $((entered - bp))
expect "p's backlog is at its high watermark" "$(proc_get p backlog)" -ge "$(proc_get p high)"
expect "p counted its backpressure drops" "$(proc_get p bp_drops)" -ge "$bp"
# the chain changes while its packets wait in p: they go on in the new one
check "nf add c4" tdm nf add c4 counter
check "replace while p holds packets" tdm chain replace web p c4 then pass
queued=$(proc_get p backlog)
c2b=$(nf_stat c2 packets)
kill -CONT $(echo $NFPIDS | awk '{print $1}')
wait_proc p backlog 0
for i in $(seq 100); do
	[ "$(nf_stat c4 packets)" -ge "$queued" ] && break
	sleep 0.05
done
expect "the queued packets ran the new chain after p" "$(nf_stat c4 packets)" -eq "$queued"
expect "and not the old one" "$(nf_stat c2 packets)" -eq "$c2b"
expect "after it drains, all pass again" "$(send_recv 5008 100)" -eq 100
expect "no longer congested" "$(proc_get p congested)" = false
expect "one congestion" "$(proc_get p congestions)" -ge 1
# a replace that puts an NF before p while packets wait in it: they did
# not run that NF, so they must not go on after p (stale, dropped)
kill -STOP $(echo $NFPIDS | awk '{print $1}')
send_recv 5011 50 > /dev/null
queued=$(proc_get p backlog)
check "replace: c1 now before p" tdm chain replace web c1 p c4 then pass
c4a=$(nf_stat c4 packets); st0=$(proc_get p stale)
kill -CONT $(echo $NFPIDS | awk '{print $1}')
wait_proc p backlog 0
# (consumed, they are still on their way back: wait for them)
for i in $(seq 100); do
	[ "$(( $(proc_get p stale) - st0 ))" -ge "$queued" ] && break
	sleep 0.05
done
expect "queued packets that skipped c1 are dropped" "$(( $(proc_get p stale) - st0 ))" -eq "$queued"
expect "none of them ran c4" "$(nf_stat c4 packets)" -eq "$c4a"
expect "(there were some)" "$queued" -ge 50
check "nf add, backpressure off" tdm nf add nobp process backpressure off
expect "no watermark: never congested" "$(proc_get nobp high)" -eq 0
check "nf del nobp" tdm nf del nobp
case_end "backpressure_drops_at_chain_entry_while_congested"

# ---- 5: forged frames on p's return path get nowhere, a right one does
ifb=$(in_b cat /sys/class/net/veth1/ifindex)
pid=$(tdm -j nf show p | jq '.[0].id')
web=$(tdm -j chain show web | jq '.[0].id')
forge()
{
	nsenter --net=/run/netns/"$NS_B" python3 "$TOP/selftests/lib/handoff.py" \
		tdmnf${pid}b --ifindex "$ifb" --dmac 02:00:00:00:0a:02 \
		--src 10.10.0.1 --dst 10.10.0.2 --dport 5009 --pos 1 "$@"
}
udp_recv_start 5009 forged; rp=$!
check "forge: bad magic" forge --nf "$pid" --chain "$web" --magic 0x1234 --count 10
check "forge: another NF's id" forge --nf $((pid + 1)) --chain "$web" --count 10
check "forge: a chain without p" forge --nf "$pid" --chain "$(tdm -j chain show plain | jq '.[0].id')" --count 10
check "forge: no such chain" forge --nf "$pid" --chain 77 --count 10
udp_recv_wait $rp forged
expect "no forged frame reached the stack" "$(udp_count forged)" -eq 0
udp_recv_start 5009 right; rp=$!
check "a well-formed frame" forge --nf "$pid" --chain "$web" --count 3
udp_recv_wait $rp right
expect "the well-formed frames arrive (the test can see)" "$(udp_count right)" -eq 3
# into the NF's receive side: only what a hop handed over
h0=$(proc_get p handed); j0=$(proc_get p junk)
nsenter --net=/run/netns/"$NS_B" python3 "$TOP/selftests/lib/handoff.py" \
	tdmnf${pid}a --ifindex "$ifb" --dmac 02:00:00:00:0a:02 --src 10.10.0.1 \
	--dst 10.10.0.2 --dport 5009 --pos 1 --nf "$pid" --chain "$web" \
	--magic 0x99 --count 10
expect "junk is not handed to the NF" "$(proc_get p handed)" -eq "$h0"
expect "it is counted as junk" "$(( $(proc_get p junk) - j0 ))" -eq 10
# a local user's datagrams bound to the pair go nowhere (TC egress)
check "a datagram bound to the pair" nsenter --net=/run/netns/"$NS_B" setpriv \
	--reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'tdmnf${pid}a')
for i in range(20):
    s.sendto(b'x' * 64, ('255.255.255.255', 9))"
expect "none reached the NF" "$(proc_get p handed)" -eq "$h0"
expect "nor its receive program" "$(proc_get p junk)" -eq $((j0 + 10))
check_fail "no chain on the pair" "process NF" tdm dev attach tdmnf${pid}a
check_fail "no redirect into it" "process NF" tdm chain add into c1 then redirect tdmnf${pid}b
case_end "forged_frames_on_the_return_path_are_dropped"

# ---- 6: bad words change nothing
if [ "${PROCESS_USERSPACE:-1}" = 1 ]; then
	tdm dump > "$TMP/before"
	ndev=$(ip -n "$NS_B" -o link show | grep -c tdmnf)
	# (a CPU this machine lacks: the last one below 64, if there is one)
	nocpu=$(python3 -c 'import os; n = os.cpu_count(); print("cpu 63" if n < 64 else "cpu 64")')
	for bad in "ring 100" "ring 8192" "cpu 64" "$nocpu" "cpu 3-1" "cpu 1," "weight 0" \
		   "weight 10001" "fail maybe" "high 0" "high 101" "low 80 high 80" \
		   "low 100" "--" "-- a#b" "-- a\\b" "ring" "cpu 1 cpu 2"; do
		check_fail "nf add x process $bad" "process\\|needs\\|given twice" tdm nf add x process $bad
	done
	check_fail "a counter takes no command" "for process NFs only" tdm nf add x counter -- /bin/true
	check_fail "a blank in a command word" "blank" tdm nf add x process -- "/bin/echo a"
	check_fail "an empty command word" "empty command word" tdm nf add x process -- /bin/echo ""
	tdm dump > "$TMP/after"
	check "state unchanged" cmp "$TMP/before" "$TMP/after"
	expect "no stray device" "$(ip -n "$NS_B" -o link show | grep -c tdmnf)" -eq "$ndev"
	case_end "bad_process_nf_words_change_nothing"
else
	case_skip "bad_process_nf_words_change_nothing" "user space alone: the host runs it (PROCESS_USERSPACE=0)"
fi

# ---- 7: apply changes a process NF in place (command, parameters,
# watermarks), or, failing at any step after, takes it all back
if [ "${PROCESS_USERSPACE:-1}" = 1 ]; then
	sed 's/^\(nf add p process\) weight auto fail closed ring 256 \(.*\) -- .*/\1 weight auto fail open ring 512 \2 -- \/bin\/true x/;
	     s/^\(chain add plain c3\)$/\1 then drop/' "$TMP/after" > "$TMP/changed"
	check "the change is what the test means" bash -c "grep -q 'ring 512.*-- /bin/true x' $TMP/changed && grep -q 'plain c3 then drop' $TMP/changed"
	for n in 1 2; do
		check_fail "fail at step $n" "TANDEM_FAIL_AT" env TANDEM_FAIL_AT=$n \
			nsenter --net=/run/netns/"$NS_B" "$TANDEM" apply "$TMP/changed"
		tdm dump > "$TMP/after2"
		check "step $n: nothing changed" cmp "$TMP/after" "$TMP/after2"
		expect "step $n: the old watermark" "$(proc_get p high)" -eq 204
	done
	check "the apply" output_has "2 changed" tdm apply "$TMP/changed"
	tdm dump > "$TMP/after3"
	check "dump is the file" bash -c "grep -v '^#' $TMP/changed | cmp - <(grep -v '^#' $TMP/after3)"
	expect "the new watermark (512 frames)" "$(proc_get p high)" -eq 409
	check "and back" output_has "2 changed" tdm apply "$TMP/after"
	expect "the old watermark again" "$(proc_get p high)" -eq 204
	case_end "apply_changes_a_process_nf_in_place_or_not_at_all"
else
	case_skip "apply_changes_a_process_nf_in_place_or_not_at_all" "user space alone: the host runs it (PROCESS_USERSPACE=0)"
fi

# ---- 8: nf del takes its veth pair and links with it
kill $NFPIDS 2>/dev/null
check "chain del" tdm chain replace web c1 c2 then pass
check "nf del p" tdm nf del p
check "p's devices are gone" bash -c "! ip -n $NS_B link show tdmnf${pid}a 2>/dev/null"
check "p's links are unpinned" bash -c "! ls /sys/fs/bpf/tandem/links/ | grep -q proc_${pid}_"
expect "traffic still flows" "$(send_recv 5010 20)" -eq 20
# a process serving a deleted NF stops (it would serve nothing, and
# write into the counters of the next NF given the id)
check "nf add gone" tdm nf add gone process
nf_start gone "$BURN" 0
wait_proc gone up true
check "nf del gone" tdm nf del gone
for i in $(seq 100); do
	kill -0 $NFPID 2>/dev/null || break
	sleep 0.05
done
check "its process ended" bash -c "! kill -0 $NFPID 2>/dev/null"
case_end "nf_del_removes_the_veth_pair"

# ---- 9: 'tx' after a process NF sends the packet back out of the
# device it came in on (veth0's NAPI takes XDP frames with GRO on)
in_a ethtool -K veth0 gro on > /dev/null
check "nf add t" tdm nf add t process
check "chain back" tdm chain add back t then tx
check "steer 7100 to back" tdm steer add veth1 prio 10 proto udp dport 7100 chain back
nf_start t "$BURN" 0
wait_proc t up true
rx0=$(ip -n "$NS_A" -s -j link show dev veth0 | jq '.[0].stats64.rx.packets')
expect "none reached ns B's socket" "$(send_recv 7100 50)" -eq 0
rx1=$(ip -n "$NS_A" -s -j link show dev veth0 | jq '.[0].stats64.rx.packets')
expect "they came back to veth0" "$((rx1 - rx0))" -ge 50
expect "counted as txed" "$(chain_stat back txed)" -ge 50
kill $NFPID
case_end "tx_after_a_process_nf_sends_it_back"

# ---- 10: on a device in generic mode the chain treats a process NF
# as down: the stack's XDP hook would run the chain again on what the
# NF passed when it is handed to that device's stack, over and over
check "nf add g" tdm nf add g process
check "chain gen" tdm chain add gen g then pass
check "detach veth1" tdm dev detach veth1
check "veth1 in generic mode" tdm dev attach veth1 mode generic
check "steer 7200 to gen" tdm steer add veth1 prio 10 proto udp dport 7200 chain gen
nf_start g "$BURN" 0
wait_proc g up true
expect "fail closed: nothing passes" "$(send_recv 7200 10)" -eq 0
sleep 0.5
expect "nothing was handed to g" "$(proc_get g handed)" -eq 0
expect "counted as nf_down" "$(tdm -j stats nf g |
	jq '.drop_reasons.nf_down')" -ge 10
kill $NFPID
check "back to native" tdm dev detach veth1
case_end "a_generic_mode_device_treats_the_nf_as_down"

# ---- 11: tandemd runs the process NFs of its policy file: in their
# cgroups, on their CPUs, restarted when killed, weighted by rate x cost,
# stopped when deleted
if [ "${PROCESS_USERSPACE:-1}" = 1 ]; then
	cat > "$TMP/tandem.conf" <<-EOF
	nf add lo process cpu 0 -- $BURN 100000
	nf add hi process cpu 0 -- $BURN 400000
	nf add pin process cpu 0 weight 300 -- $BURN 0
	nf add c5 counter
	chain add heavy c5 lo hi pin then pass
	dev attach veth1
	steer add veth1 prio 50 proto udp dport 7000-7999 chain heavy
	EOF
	PORT=$(nsenter --net=/run/netns/"$NS_B" python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	nsenter --net=/run/netns/"$NS_B" "$TOP/build/tandemd" --config "$TMP/tandem.conf" \
		--metrics 127.0.0.1:$PORT --interval 0.2 2>> "$TMP/tandemd.log" &
	TDM_PID=$!
	wait_proc lo up true && wait_proc hi up true && wait_proc pin up true ||
		{ sed 's/^/#   /' "$TMP/tandemd.log" | tail -5; case_failed=1; }
	lo=$(proc_get lo pid)
	check "status: tandemd polls" output_has "^scheduling *polling every 1000 us" tdm status
	check "lo runs on CPU 0" grep -q "^Cpus_allowed_list:[[:space:]]*0$" /proc/$lo/status
	# its group: tandem/NETNS-NAME (the inode of tandemd's netns)
	NETNS=$(nsenter --net=/run/netns/"$NS_B" stat -L -c %i /proc/self/ns/net)
	check "lo is in its cgroup" grep -q ":/tandem/$NETNS-lo$" /proc/$lo/cgroup
	# the same arrivals, 4 times the cost: about 4 times the weight, while
	# the traffic lasts (idle NFs go back to equal weights)
	udp_recv_start 7001 r7001 || case_failed=1
	rp=$!
	in_a $UDP send 10.10.0.2 7001 --count 1500 --rate 500 > /dev/null &
	sp=$!
	sleep 1.5
	wlo=$(proc_get lo weight); whi=$(proc_get hi weight)
	wait $sp
	udp_recv_wait $rp r7001
	expect "through both" "$(udp_count r7001)" -eq 1500 ||
		{ sed 's/^/#   /' "$TMP/tandemd.log" | tail -5; tdm stats | sed 's/^/#   /'; }
	echo "# CPU weights: lo $wlo, hi $whi (costs $(proc_get lo cost_ns), $(proc_get hi cost_ns) ns of CPU a packet)"
	expect "lo has a weight" "$wlo" -gt 0
	expect "pin keeps the weight it was given" "$(proc_get pin weight)" -eq 300
	# (about 4 on an idle machine; the cycles a handler takes include the
	# time it is preempted, which a loaded or emulated machine adds)
	expect "hi's weight is 1.5 to 20 times lo's" "$((whi * 10))" -ge $((wlo * 15))
	expect "(at most 20 times)" "$((whi * 10))" -le $((wlo * 200))
	# the cgroup holds the weight tandemd shows (v1 cpu.shares, v2
	# cpu.weight; read until they agree: weights move with the rates)
	for f in /sys/fs/cgroup/cpu/tandem/$NETNS-hi/cpu.shares /sys/fs/cgroup/tandem/$NETNS-hi/cpu.weight; do
		[ -e "$f" ] || continue
		for i in $(seq 20); do
			w=$(proc_get hi weight)
			case $f in
			*shares) want=$((w * 1024 / 100)) ;;
			*) want=$w ;;
			esac
			[ "$(cat $f)" = "$want" ] && break
		done
		expect "$f holds the weight" "$(cat $f)" -eq "$want"
	done
	sleep 0.5	# a sampling round after the traffic
	nsenter --net=/run/netns/"$NS_B" curl -sf http://127.0.0.1:$PORT/metrics > "$TMP/metrics"
	check "metrics: lo is up" grep -q '^tandem_nf_up{nf="lo",type="process"} 1$' "$TMP/metrics"
	# the cgroups' CPU time checks the library's cycles: hi spent more
	cpu_of() { sed -n "s/^tandem_nf_cpu_seconds_total{nf=\"$1\",type=\"process\"} //p" "$TMP/metrics"; }
	echo "# cgroup CPU time: lo $(cpu_of lo) s, hi $(cpu_of hi) s"
	check "hi's cgroup used more CPU than lo's" python3 -c "import sys; sys.exit(not float('$(cpu_of hi)') > 1.5 * float('$(cpu_of lo)'))"
	kill -9 "$lo"
	for i in $(seq 200); do
		[ "$(proc_get lo up)" = true ] && [ "$(proc_get lo pid)" != "$lo" ] && break
		sleep 0.05
	done
	expect "lo was restarted" "$(proc_get lo pid)" -ne "$lo"
	expect "and serves again" "$(send_recv 7002 50)" -eq 50
	# a hung process (stopped, its socket open) with frames waiting: killed
	# and started again after 5 s without progress
	lo=$(proc_get lo pid)
	kill -STOP "$lo"
	send_recv 7003 20 > /dev/null
	for i in $(seq 300); do
		[ "$(proc_get lo up)" = true ] && [ "$(proc_get lo pid)" != "$lo" ] && break
		sleep 0.05
	done
	expect "a hung lo was restarted" "$(proc_get lo pid)" -ne "$lo"
	check "and logged" grep -q "nf lo: pid $lo hung" "$TMP/tandemd.log"
	expect "and serves again" "$(send_recv 7004 50)" -eq 50
	lo2=$(proc_get lo pid)
	check "chain without lo" tdm chain replace heavy c5 hi pin then pass
	check "nf del lo" tdm nf del lo
	for i in $(seq 100); do
		kill -0 "$lo2" 2>/dev/null || break
		sleep 0.05
	done
	check "tandemd stopped lo's process" bash -c "! kill -0 $lo2 2>/dev/null"
	hi=$(proc_get hi pid)
	kill $TDM_PID; wait $TDM_PID
	check "tandemd stopped hi's process when it stopped" bash -c "! kill -0 $hi 2>/dev/null"
	check "status: nobody schedules" output_has "^scheduling *none" tdm status
	check "and removed the cgroups" bash -c "! ls -d /sys/fs/cgroup/cpu/tandem/$NETNS-hi /sys/fs/cgroup/tandem/$NETNS-hi 2>/dev/null"
	TDM_PID=""
	case_end "tandemd_runs_restarts_weighs_and_stops_process_nfs"
else
	case_skip "tandemd_runs_restarts_weighs_and_stops_process_nfs" "tandemd: the host runs it; test_supervise.sh covers cgroup v2 here (PROCESS_USERSPACE=0)"
fi

ktap_finish
