#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tandemd's two ways of weighing process NFs (Documentation/daemon.rst,
# "The scheduler" and "Module mode"). A process NF stopped (SIGSTOP)
# under traffic crosses its high watermark, and resumed its low one;
# the CPU weights answer the crossings, and the metrics count the
# reactions. 1: polling, tandemd
# writes the weights (wherever tandem_sched.ko is not loaded: the
# host), until the module is loaded (VMs: tandemd switches). 2: with
# tandem_sched.ko (VMs only: the host cannot load modules), tandemd
# says "module", registers its NFs with their pids, unregisters one
# deleted, the module writes the cgroup's cpu.weight and answers the
# crossing; a tandemd killed with -9 leaves the module without its NFs
# and the chain still passes.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 ethtool curl jq
BURN=$TOP/build/tandem-nf-burn
GET=$TOP/build/selftests/kmod_get
REG=$TOP/build/selftests/kmod_reg
[ -x "$BURN" ] && [ -x "$GET" ] || { echo "1..0 # SKIP not built"; exit $KSFT_SKIP; }
if [ -e /sys/module/tandem_sched ]; then
	echo "1..0 # SKIP tandem_sched is loaded already"
	exit $KSFT_SKIP
fi

# the module comes and goes below (VMs): hold its tracepoints first
[ -f "$KO" ] && kmod_hold
ktap_plan 3
TDM_PID="" NFP="" NFQ="" REGPID="" LOADED=""

# The NF's process outlives a tandemd killed with -9: kill it, drop its
# cgroup, and the state; the module goes with the last program using it.
reset()
{
	local i
	[ -n "$TDM_PID" ] && { kill "$TDM_PID"; wait "$TDM_PID"; } 2>/dev/null
	[ -n "$REGPID" ] && { kill "$REGPID"; wait "$REGPID"; } 2>/dev/null
	[ -n "$NFP" ] && { kill -CONT "$NFP"; kill -9 "$NFP"; } 2>/dev/null
	[ -n "$NFQ" ] && kill -9 "$NFQ" 2>/dev/null
	TDM_PID="" NFP="" NFQ="" REGPID=""
	rmdir /sys/fs/cgroup/tandem/*-[pq] /sys/fs/cgroup/cpu/tandem/*-[pq] \
		/sys/fs/cgroup/tandem /sys/fs/cgroup/cpu/tandem 2>/dev/null
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf /sys/fs/bpf/tandem
	[ -n "$LOADED" ] || return 0
	for i in $(seq 100); do
		rmmod tandem_sched 2>/dev/null && { LOADED=""; return 0; }
		sleep 0.1
	done
	echo "# tandem_sched stays loaded"
}
trap 'reset; cleanup' EXIT

proc_get()
{
	nf_field "$1" "$2"
}

# pair: a fresh pair of namespaces, and the policy
pair()
{
	setup_pair || return 1
	in_a ethtool -K veth0 tx off > /dev/null
	cat > "$TMP/tandem.conf" <<-EOF
	nf add p process cpu 0 ring 256 -- $BURN 20000
	nf add q process -- $BURN 0
	nf add c counter
	chain add web c p then pass
	dev attach veth1
	steer add veth1 prio 50 proto udp dport 7000-7999 chain web
	EOF
}

# daemon: tandemd running the policy: p (a process NF) in chain web, q
daemon()
{
	local i
	PORT=$(nsenter --net=/run/netns/"$NS_B" python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	nsenter --net=/run/netns/"$NS_B" "$TOP/build/tandemd" --config "$TMP/tandem.conf" \
		--metrics 127.0.0.1:$PORT --interval 0.2 2>> "$TMP/tandemd.log" &
	TDM_PID=$!
	for i in $(seq 400); do
		[ "$(proc_get p up)" = true ] && [ "$(proc_get q up)" = true ] &&
			NFP=$(proc_get p pid) && NFQ=$(proc_get q pid) && return 0
		sleep 0.05
	done
	echo "# p is not up"
	sed 's/^/#   /' "$TMP/tandemd.log" | tail -5
	return 1
}

start()
{
	pair && daemon
}

# cross: p stopped under traffic until it is congested (past its high
# watermark), then resumed, the traffic still on (under its low one),
# and a sampling round after. Briefly: tandemd kills an NF that holds
# frames and makes no progress for 5 s, and an emulated VM's python
# can take seconds to start.
cross()
{
	local i h sp
	rm -f "$TMP/stop"
	in_a $UDP send 10.10.0.2 7001 --count 100000 --rate 1000 --duration 30 \
		--stop "$TMP/stop" > /dev/null &
	sp=$!
	h=$(proc_get p handed) c=$(proc_get p congestions)
	for i in $(seq 200); do
		[ "$(proc_get p handed)" -gt "${h:-0}" ] 2>/dev/null && break
		sleep 0.05
	done
	# a 256-frame ring's high watermark (204) fills in 0.2 s
	kill -STOP "$NFP"
	sleep 1
	kill -CONT "$NFP"
	expect "p was congested" "$(proc_get p congestions)" -gt "${c:-0}"
	sleep 0.3
	touch "$TMP/stop"
	wait $sp
	for i in $(seq 200); do
		[ "$(proc_get p backlog)" = 0 ] && break
		sleep 0.05
	done
	sleep 0.5
}

scrape()
{
	nsenter --net=/run/netns/"$NS_B" curl -sf http://127.0.0.1:$PORT/metrics > "$TMP/metrics"
}

# metric NAME: its value for p in the last scrape
metric()
{
	sed -n "s/^$1{nf=\"p\",type=\"process\"} //p" "$TMP/metrics"
}

# delivered PORT COUNT: datagrams of COUNT sent that arrived
delivered()
{
	local p
	udp_recv_start "$1" "r$1" || return 1
	p=$!
	in_a $UDP send 10.10.0.2 "$1" --count "$2" --rate 1000 > /dev/null
	udp_recv_wait $p "r$1"
	udp_count "r$1"
}

# ---- 1: polling: tandemd answers a crossing with the weights
start || case_failed=1
check "status: polling" output_has "^scheduling *polling" tdm status
scrape
r0=$(metric tandem_nf_sched_reactions_total)
cross
scrape
check "metrics: tandemd weighs p" grep -q '^tandem_nf_sched_module{nf="p",type="process"} 0$' "$TMP/metrics"
expect "reactions counted" "$(metric tandem_nf_sched_reactions_total)" -gt "${r0:-0}"
echo "# polling: $(metric tandem_nf_sched_reactions_total) reactions, $(metric tandem_nf_sched_reaction_seconds_total) s in all, last $(metric tandem_nf_sched_reaction_last_seconds) s"
check "their time is under a second" python3 -c "import sys; v = float('$(metric tandem_nf_sched_reaction_seconds_total)'); sys.exit(not 0 < v < $(metric tandem_nf_sched_reactions_total))"
# the module loaded while tandemd runs (VMs): it takes over at the next
# supervisor round, and that is logged once
if [ -f "$KO" ] && insmod "$KO" 2>/dev/null; then
	LOADED=1
	for i in $(seq 50); do
		tdm status | grep -q "^scheduling *module" && break
		sleep 0.1
	done
	check "status: module once it is loaded" output_has "^scheduling *module" tdm status
	check "the module has p" "$GET" "$(proc_get p id)"
	sleep 0.5
	expect "the switch logged once" "$(grep -c 'scheduling: module' "$TMP/tandemd.log")" -eq 1
fi
reset
case_end "polling_answers_a_crossing_until_the_module_comes"

# ---- 2: module mode
if [ ! -f "$KO" ]; then
	case_skip "module_weighs_answers_and_forgets_a_killed_tandemd" "no tandem_sched.ko for $(uname -r) (make kmod-vm)"
elif ! err=$(insmod "$KO" 2>&1); then
	case_skip "module_weighs_answers_and_forgets_a_killed_tandemd" "cannot load modules here: $err"
else
	LOADED=1
	start || case_failed=1
	check "status: module" output_has "^scheduling *module" tdm status
	expect "status -j: module" "$(tdm -j status | jq -r '.scheduling.mode')" = module
	check "the module has p" "$GET" "$(proc_get p id)"
	"$GET" "$(proc_get p id)" > "$TMP/get"
	expect "with its pid" "$(awk '$1 == "pid" {print $2}' "$TMP/get")" -eq "$NFP"
	# an NF deleted leaves the module at the next supervisor round
	qid=$(proc_get q id)
	check "the module has q" "$GET" "$qid"
	check "nf del q" tdm nf del q
	for i in $(seq 100); do
		"$GET" "$qid" > /dev/null 2>&1
		[ $? = 3 ] && break
		sleep 0.05
	done
	"$GET" "$qid" > /dev/null 2>&1
	expect "a deleted NF is gone from the module" "$?" -eq 3
	NFQ=""
	scrape
	r0=$(metric tandem_nf_sched_reactions_total)
	cross
	"$GET" "$(proc_get p id)" > "$TMP/get"
	sed 's/^/#   /' "$TMP/get" | paste -sd ' '
	expect "the module wrote weights" "$(awk '$1 == "writes" {print $2}' "$TMP/get")" -gt 0
	NETNS=$(nsenter --net=/run/netns/"$NS_B" stat -L -c %i /proc/self/ns/net)
	expect "p's cpu.weight is the module's" "$(cat /sys/fs/cgroup/tandem/$NETNS-p/cpu.weight)" -eq \
		"$(awk '$1 == "weight" {print $2}' "$TMP/get")"
	scrape
	check "metrics: the module weighs p" grep -q '^tandem_nf_sched_module{nf="p",type="process"} 1$' "$TMP/metrics"
	expect "reactions counted" "$(metric tandem_nf_sched_reactions_total)" -gt "${r0:-0}"
	echo "# module: $(metric tandem_nf_sched_reactions_total) reactions, $(metric tandem_nf_sched_reaction_seconds_total) s in all, last $(metric tandem_nf_sched_reaction_last_seconds) s"
	expect "metrics: the module's weight" "$(metric tandem_nf_cpu_weight)" -eq \
		"$(awk '$1 == "weight" {print $2}' "$TMP/get")"
	id=$(proc_get p id)
	kill -9 "$TDM_PID"; wait "$TDM_PID" 2>/dev/null
	TDM_PID=""
	"$GET" "$id" > /dev/null 2>&1
	expect "a killed tandemd's NF is gone from the module" "$?" -eq 3
	expect "and the chain passes" "$(delivered 7002 50)" -eq 50
	reset
	case_end "module_weighs_answers_and_forgets_a_killed_tandemd"
fi

# ---- 3: p's slot in the module taken (kmod_reg holds it): tandemd's
# registration fails, is logged once, and tandemd weighs p; once the
# slot is free, a supervisor round registers p
if [ ! -f "$KO" ]; then
	case_skip "a_failed_registration_leaves_the_nf_to_polling" "no tandem_sched.ko for $(uname -r) (make kmod-vm)"
elif ! err=$(insmod "$KO" 2>&1); then
	case_skip "a_failed_registration_leaves_the_nf_to_polling" "cannot load modules here: $err"
else
	LOADED=1
	pair || case_failed=1
	check "apply" tdm apply "$TMP/tandem.conf"
	id=$(proc_get p id)
	"$REG" "$id" > "$TMP/reg" 2>&1 &
	REGPID=$!
	for i in $(seq 100); do
		grep -q registered "$TMP/reg" && break
		sleep 0.05
	done
	check "kmod_reg holds p's slot" grep -q registered "$TMP/reg"
	: > "$TMP/tandemd.log"
	daemon || case_failed=1
	check "status: module" output_has "^scheduling *module" tdm status
	sleep 1		# a few supervisor rounds
	expect "the failure logged once" "$(grep -c "nf p: tandem_sched: register: File exists" "$TMP/tandemd.log")" -eq 1
	scrape
	r0=$(metric tandem_nf_sched_reactions_total)
	cross
	scrape
	check "metrics: tandemd weighs p" grep -q '^tandem_nf_sched_module{nf="p",type="process"} 0$' "$TMP/metrics"
	expect "tandemd answered the crossing" "$(metric tandem_nf_sched_reactions_total)" -gt "${r0:-0}"
	kill "$REGPID"; wait "$REGPID" 2>/dev/null
	REGPID=""
	for i in $(seq 100); do
		[ "$("$GET" "$id" 2>/dev/null | awk '$1 == "pid" {print $2}')" = "$NFP" ] && break
		sleep 0.05
	done
	"$GET" "$id" > "$TMP/get" 2>&1
	expect "then the module has p" "$(awk '$1 == "pid" {print $2}' "$TMP/get")" = "$NFP"
	reset
	case_end "a_failed_registration_leaves_the_nf_to_polling"
fi

ktap_finish
