#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Every change survives kill -9. Each kind of change (rule add/del, steer
# add/del of a rule and of an exact 5-tuple, dev attach/detach, chain
# replace) is killed at each of its steps in turn (TANDEM_CRASH_AT=N: the
# library sends itself SIGKILL at its Nth crash point), then at random
# times; after every kill, what 'show' lists must be what the datapath
# does to real packets (the receiving kernel's UDP counters say whether a
# datagram got through).
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 jq bpftool

CRAFT="python3 $TOP/selftests/lib/craft.py"
RANDOM_KILLS=${RANDOM_KILLS:-8}
# kill at crash points KILL_FIRST, KILL_FIRST + KILL_STRIDE, ... (every
# one by default; the two guests take the odd and the even ones)
KILL_FIRST=${KILL_FIRST:-1}
KILL_STRIDE=${KILL_STRIDE:-1}
ktap_plan 8
[ "$KILL_STRIDE" -gt 1 ] &&
	echo "# killed at crash points $KILL_FIRST, $((KILL_FIRST + KILL_STRIDE)), ... only"
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
peer_start || exit $KSFT_FAIL

# one craft.py for every probe (craft.py serve), on fds 7 (cases) and 8
# (answers): a python3 per probe cost a guest 1 to 2 s each
mkfifo "$TMP/craft.in" "$TMP/craft.out" || exit $KSFT_FAIL
ip netns exec "$NS_A" $CRAFT serve veth0 "$PEER_PID" < "$TMP/craft.in" > "$TMP/craft.out" &
CRAFT_PID=$!
exec 7> "$TMP/craft.in" 8< "$TMP/craft.out"
trap 'exec 7>&- 8<&-; kill $PEER_PID $CRAFT_PID 2>/dev/null; cleanup' EXIT

# passes PORT [SPORT]: 1 if a UDP datagram to PORT got through veth1, else 0
passes()
{
	local c=v4-udp-dport$1${2:+-sport$2} r
	echo "$c" >&7 && read -r -t 60 r <&8 || return 1
	json_get "$r" "$c"
}

# the crash points to kill at, up to past the last step of any change
steps()
{
	seq "$KILL_FIRST" "$KILL_STRIDE" 60
}

# crash_run N CMD...: CMD with a kill at crash point N; 0 if it got
# killed, 1 if it ran to its end (N is past its last step), 2 on error
crash_run()
{
	local n=$1 rc
	shift
	TANDEM_CRASH_AT=$n "$@" > "$TMP/crash.out" 2>&1
	rc=$?
	[ $rc -eq 137 ] && return 0
	[ $rc -eq 0 ] && return 1
	echo "# crash point $n: $* failed (exit $rc):"
	sed 's/^/#   /' "$TMP/crash.out"
	return 2
}

# random_kill ARGS...: tandem ARGS in ns B, killed -9 after a random
# 0-40 ms. nsenter execs tandem: $! is tandem itself (a shell function
# in the background would be a subshell, and the kill would miss it)
random_kill()
{
	nsenter --net=/run/netns/"$NS_B" "$TANDEM" "$@" > /dev/null 2>&1 &
	local pid=$!
	sleep "0.0$((RANDOM % 40))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
}

# agree WHAT LISTED PASSES: a listed drop must drop, an unlisted one pass
agree()
{
	if ! [[ $2 =~ ^[01]$ && $3 =~ ^[01]$ ]]; then
		# a listing or a probe that failed says neither
		echo "# check failed: $1: listed='$2' passes='$3', not 0 or 1"
		case_failed=1
	elif [ "$2" -eq "$3" ]; then
		echo "# check failed: $1: listed=$2 but passes=$3"
		case_failed=1
	fi
	kills=$((kills + 1))
}

# The listings below are read in bash, not by a jq each (a quarter of a
# second in a guest, several per kill): tandem -j prints one line of
# flat objects, the keys in a fixed order. A listing that failed or is
# not JSON says nothing (agree() fails on it).

# listed JSON PATTERN: 1 if the object list JSON has an object matching
# the bash regex PATTERN (within one object), else 0
listed()
{
	[[ $1 == [\[{]* ]] || return 1
	[[ $1 =~ \{[^{}]*$2 ]] && echo 1 || echo 0
}

# json_id JSON PORT: the id of the first object whose dport is PORT
json_id()
{
	[[ $1 =~ \{[^{}]*\"id\":([0-9]+),[^{}]*\"dport\":\"$2\" ]] || return 1
	echo "${BASH_REMATCH[1]}"
}

listed_rule()	# PORT: 1 if fw lists a rule for it
{
	local j
	j=$(tdm -j rule show fw) && listed "$j" "\"dport\":\"$1\""
}

listed_steer()	# PORT: 1 if veth1 lists a steering entry for it
{
	local j
	j=$(tdm -j steer show veth1) && listed "$j" "\"dport\":\"$1\""
}

rule_id()	# PORT: the id of fw's rule for it
{
	local j
	j=$(tdm -j rule show fw) && json_id "$j" "$1"
}

steer_id()	# PORT
{
	local j
	j=$(tdm -j steer show veth1) && json_id "$j" "$1"
}

check "nf fw" tdm nf add fw firewall default pass
check "nf fw2" tdm nf add fw2 firewall default pass
check "fw2 drops 5999" tdm rule add fw2 proto udp dport 5999 action drop
check "nf drop" tdm nf add dcnt counter
check "chain edge" tdm chain add edge fw
check "chain dropper" tdm chain add dropper dcnt then drop
check "attach" tdm dev attach veth1 chain edge
expect "udp passes" "$(passes 6000)" -eq 1

# each_step WHAT BASE PREP OP LISTED [SPORT]: for N = 1, 2, ... until
# OP runs to its end: PREP PORT (if given), then OP N PORT (a crash_run
# of the change for PORT = BASE + N, killed at crash point N), then what
# LISTED PORT says must be what a datagram to PORT (from SPORT) meets
each_step()
{
	local what=$1 base=$2 prep=$3 op=$4 listed=$5 sport=${6:-} n port rc

	for n in $(steps); do
		port=$((base + n))
		[ -n "$prep" ] && $prep $port
		$op $n $port
		rc=$?
		[ $rc -eq 2 ] && { case_failed=1; break; }
		agree "$what killed at $n" "$($listed $port)" \
			"$(passes $port $sport)"
		[ $rc -eq 1 ] && break
	done
}

# at_random WHAT BASE LISTED ARGS...: tandem ARGS (@ is the port) killed
# at random times, RANDOM_KILLS times
at_random()
{
	local what=$1 base=$2 listed=$3 i port
	shift 3
	for i in $(seq "$RANDOM_KILLS"); do
		port=$((base + i))
		random_kill "${@//@/$port}"
		agree "$what killed at random" "$($listed $port)" "$(passes $port)"
	done
}

rule_add()	{ crash_run $1 tdm rule add fw proto udp dport $2 action drop; }
rule_made()	{ check "rule to delete" tdm rule add fw proto udp dport $1 action drop; }
rule_del()	{ crash_run $1 tdm rule del fw "$(rule_id $2)"; }
steer_add()	{ crash_run $1 tdm steer add veth1 proto udp dport $2 chain dropper; }
steer_made()	{ check "entry to delete" tdm steer add veth1 proto udp dport $1 chain dropper; }
steer_del()	{ crash_run $1 tdm steer del veth1 "$(steer_id $2)"; }
FLOW="src 10.10.0.1 dst 10.10.0.2 proto udp sport 4000"
flow_add()	{ crash_run $1 tdm steer add veth1 $FLOW dport $2 chain dropper; }
flow_made()	{ check "exact entry to delete" tdm steer add veth1 $FLOW dport $1 chain dropper; }

kills=0
each_step "rule add" 6000 "" rule_add listed_rule
each_step "rule del" 6100 rule_made rule_del listed_rule
at_random "rule add" 6200 listed_rule rule add fw proto udp dport @ action drop
echo "# $kills kills of rule add and rule del"
case_end "rule_add_and_del_killed_at_every_step"

kills=0
each_step "steer add" 7000 "" steer_add listed_steer
each_step "steer del" 7100 steer_made steer_del listed_steer
at_random "steer add" 7200 listed_steer steer add veth1 proto udp dport @ chain dropper
echo "# $kills kills of steer add and steer del (rules)"
case_end "steer_rule_add_and_del_killed_at_every_step"

kills=0
each_step "exact steer add" 7300 "" flow_add listed_steer 4000
each_step "exact steer del" 7400 flow_made steer_del listed_steer 4000
echo "# $kills kills of steer add and steer del (exact)"
case_end "steer_exact_add_and_del_killed_at_every_step"

# chain replace: edge runs fw (passes 5999) or fw2 (drops it)
kills=0
listed_fw2()
{
	local j
	j=$(tdm -j chain show) && listed "$j" '"name":"edge","nfs":\["fw2"\]'
}
for n in $(steps); do
	to=fw2
	[ "$(listed_fw2)" -eq 1 ] && to=fw
	crash_run $n tdm chain replace edge $to
	rc=$?
	[ $rc -eq 2 ] && { case_failed=1; break; }
	agree "chain replace killed at $n" "$(listed_fw2)" "$(passes 5999)"
	[ $rc -eq 1 ] && break
done
for i in $(seq "$RANDOM_KILLS"); do
	to=fw2
	[ "$(listed_fw2)" -eq 1 ] && to=fw
	random_kill chain replace edge $to
	agree "chain replace killed at random" "$(listed_fw2)" "$(passes 5999)"
done
check "edge back to fw2" tdm chain replace edge fw2
echo "# $kills kills of chain replace"
case_end "chain_replace_killed_at_every_step"

# dev detach and attach: attached (listed) drops 5999, detached passes it
kills=0
listed_attached()
{
	local j
	j=$(tdm -j dev show) && listed "$j" '"dev":"veth1",[^{}]*"state":"attached"'
}
for n in $(steps); do
	crash_run $n tdm dev detach veth1
	rc=$?
	[ $rc -eq 2 ] && { case_failed=1; break; }
	agree "dev detach killed at $n" "$(listed_attached)" "$(passes 5999)"
	[ $rc -eq 1 ] && break
	[ "$(listed_attached)" -eq 1 ] || check "attach again" tdm dev attach veth1 chain edge
done
for n in $(steps); do
	[ "$(listed_attached)" -eq 1 ] && check "detach" tdm dev detach veth1
	crash_run $n tdm dev attach veth1 chain edge
	rc=$?
	[ $rc -eq 2 ] && { case_failed=1; break; }
	# the first command after the kill runs in another namespace
	nsenter --net=/run/netns/"$NS_A" "$TANDEM" dev show > /dev/null
	agree "dev attach killed at $n" "$(listed_attached)" "$(passes 5999)"
	[ $rc -eq 1 ] && break
done
for i in $(seq "$RANDOM_KILLS"); do
	if [ "$(listed_attached)" -eq 1 ]; then
		random_kill dev detach veth1
	else
		random_kill dev attach veth1 chain edge
	fi
	agree "dev attach/detach killed at random" "$(listed_attached)" "$(passes 5999)"
done
echo "# $kills kills of dev attach and dev detach"
case_end "dev_attach_and_detach_killed_at_every_step"

# a recovery killed half way is recovered again
[ "$(listed_attached)" -eq 1 ] || check "attach" tdm dev attach veth1 chain edge
check "edge runs fw" tdm chain replace edge fw
crash_run 3 tdm rule add fw proto udp dport 6500 action drop
for n in 1 2 3; do
	crash_run $n tdm nf show
done
agree "recovery killed, then recovered" "$(listed_rule 6500)" "$(passes 6500)"
journal=$(bpftool -j map dump pinned /sys/fs/bpf/tandem/tdm_journal 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["formatted"]["value"]["op"])')
expect "the journal is empty" "${journal:-1}" -eq 0
case_end "a_killed_recovery_is_recovered"

# nf del of a firewall killed at every step: what its banks held never
# stays for the next firewall of its id (the lowest free) to find, and
# never leaks
fw_entries()
{
	echo "$(bpftool -j map dump pinned /sys/fs/bpf/tandem/tdm_fw_store | jq length)" \
	     "$(bpftool -j map dump pinned /sys/fs/bpf/tandem/tdm_fw_tuples | jq length)"
}
before=$(fw_entries)
kills=0
for n in $(steps); do
	tdm nf add fwx firewall lookup tuples > /dev/null &&
	tdm rule add fwx src 10.10.0.0/16 proto udp dport 6600-6603 action pass > /dev/null &&
	tdm rule add fwx proto udp dport 6604 action drop > /dev/null ||
		{ check "firewall to delete" false; break; }
	crash_run $n tdm nf del fwx
	rc=$?
	[ $rc -eq 2 ] && { check "nf del killed at $n" false; break; }
	kills=$((kills + (rc == 0)))
	tdm nf del fwx > /dev/null 2>&1	# killed before it was gone
	tdm nf add fwy firewall lookup tuples > /dev/null &&
	tdm rule add fwy proto udp dport 6605 action drop > /dev/null
	# its one rule, in its one bank written
	set -- $before
	expect "nf del killed at $n: the next firewall holds only its own" \
		"$(fw_entries)" = "$(($1 + 1)) $(($2 + 1))"
	tdm nf del fwy > /dev/null
	[ $rc -eq 1 ] && break
done
echo "# $kills kills of nf del"
expect "nothing of the firewalls is left" "$(fw_entries)" = "$before"
case_end "a_firewall_deleted_killed_at_every_step_leaves_nothing"

# and every state reached is one the CLI accepts: all of it can go
check "detach" tdm dev detach veth1
check "steering flushed by hand" sh -c "for id in \$(nsenter --net=/run/netns/$NS_B $TANDEM -j steer show |
	python3 -c 'import json,sys; print(\" \".join(str(e[\"id\"]) for e in json.load(sys.stdin)))'); do
	nsenter --net=/run/netns/$NS_B $TANDEM steer del veth1 \$id || exit 1; done"
check "chain del" tdm chain del edge
check "chain del" tdm chain del dropper
check "nf del" tdm nf del fw
case_end "what_is_left_can_be_removed"

ktap_finish
