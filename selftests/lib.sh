# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the shell selftests: KTAP output, a private bpffs, and a pair
# of network namespaces joined by veth.
#
#   ns A (tdmA<pid>)  veth0 10.10.0.1/24 fd00::1/64
#   ns B (tdmB<pid>)  veth1 10.10.0.2/24 fd00::2/64   <- tandem runs here
#
# Traffic from A to B crosses veth1's XDP hook.

TOP=$(cd "$(dirname "$0")/.." && pwd)
TANDEM=${TANDEM:-$TOP/build/tandem}
UDP="python3 $TOP/selftests/lib/udp.py"
KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

# A private mount namespace with its own bpffs: tests never touch (or see)
# the machine's /sys/fs/bpf/tandem.
if [ -z "${TDM_TEST_PRIVATE:-}" ]; then
	export TDM_TEST_PRIVATE=1
	exec unshare -m --propagation private "$0" "$@"
fi
mount -t bpf bpf /sys/fs/bpf || { echo "# cannot mount bpffs"; exit $KSFT_SKIP; }

NS_A=tdmA$$
NS_B=tdmB$$
TMP=$(mktemp -d /tmp/tandem-test.XXXXXX)
ktap_count=0
ktap_failed=0
case_failed=0
# when the current case began (bash's SECONDS): each case says what it
# took, so that a slow suite shows where its time goes
case_t0=$SECONDS

ktap_plan()
{
	echo "KTAP version 1"
	echo "1..$1"
}

# check DESCRIPTION CMD...: run CMD; a failure fails the current case.
check()
{
	local what=$1
	shift
	if ! "$@" > "$TMP/check.out" 2>&1; then
		echo "# check failed: $what"
		sed 's/^/#   /' "$TMP/check.out" | head -20
		case_failed=1
		return 1
	fi
	return 0
}

# check_fail DESCRIPTION PATTERN CMD...: CMD must fail, saying PATTERN.
check_fail()
{
	local what=$1 pat=$2
	shift 2
	if "$@" > "$TMP/check.out" 2>&1; then
		echo "# check failed: $what: succeeded but should fail"
		case_failed=1
		return 1
	fi
	if ! grep -qi -- "$pat" "$TMP/check.out"; then
		echo "# check failed: $what: error does not say '$pat':"
		sed 's/^/#   /' "$TMP/check.out" | head -5
		case_failed=1
		return 1
	fi
	return 0
}

# expect DESCRIPTION A OP B (integers, test(1) operators)
expect()
{
	if ! [ "$2" "$3" "$4" ] 2>/dev/null; then
		echo "# check failed: $1: expected $2 $3 $4"
		case_failed=1
		return 1
	fi
}

case_end()
{
	ktap_count=$((ktap_count + 1))
	if [ "$case_failed" -ne 0 ]; then
		ktap_failed=$((ktap_failed + 1))
		echo "not ok $ktap_count $1"
	else
		echo "ok $ktap_count $1"
	fi
	echo "# $1: $((SECONDS - case_t0)) s"
	case_failed=0
	case_t0=$SECONDS
}

case_skip()
{
	ktap_count=$((ktap_count + 1))
	echo "ok $ktap_count $1 # SKIP $2"
	case_t0=$SECONDS
}

ktap_finish()
{
	echo "# $((ktap_count - ktap_failed)) passed, $ktap_failed failed"
	[ "$ktap_failed" -eq 0 ] && exit $KSFT_PASS
	exit $KSFT_FAIL
}

cleanup()
{
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

require()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 && continue
		echo "1..0 # SKIP $c is not installed"
		exit $KSFT_SKIP
	done
}

setup_pair()
{
	ip netns add "$NS_A" && ip netns add "$NS_B" || return 1
	ip -n "$NS_A" link add veth0 type veth peer name veth1 netns "$NS_B" || return 1
	ip -n "$NS_A" link set lo up
	ip -n "$NS_B" link set lo up
	ip -n "$NS_A" link set veth0 address 02:00:00:00:0a:01
	ip -n "$NS_B" link set veth1 address 02:00:00:00:0a:02
	ip -n "$NS_A" addr add 10.10.0.1/24 dev veth0
	ip -n "$NS_B" addr add 10.10.0.2/24 dev veth1
	ip -n "$NS_A" addr add fd00::1/64 dev veth0 nodad
	ip -n "$NS_B" addr add fd00::2/64 dev veth1 nodad
	ip -n "$NS_A" link set veth0 up
	ip -n "$NS_B" link set veth1 up
	# static neighbours: no ARP/ND racing the first packets
	ip -n "$NS_A" neigh add 10.10.0.2 lladdr 02:00:00:00:0a:02 dev veth0 nud permanent
	ip -n "$NS_B" neigh add 10.10.0.1 lladdr 02:00:00:00:0a:01 dev veth1 nud permanent
	ip -n "$NS_A" neigh add fd00::2 lladdr 02:00:00:00:0a:02 dev veth0 nud permanent
	ip -n "$NS_B" neigh add fd00::1 lladdr 02:00:00:00:0a:01 dev veth1 nud permanent
}

# tandem in ns B. nsenter switches only the network namespace: the CLI
# keeps our bpffs ('ip netns exec' would remount /sys and hide it).
tdm()
{
	nsenter --net=/run/netns/"$NS_B" "$TANDEM" "$@"
}

# peer_start: a process in ns B, PEER_PID, for craft.py to read ns B's
# counters through /proc/PEER_PID/net; it ends with the test. 'ip netns
# exec' execs the command: $! is the sleep itself.
peer_start()
{
	local i ns

	ip netns exec "$NS_B" sleep 100000 &
	PEER_PID=$!
	disown
	trap 'kill $PEER_PID 2>/dev/null; cleanup' EXIT
	ns=$(ip netns exec "$NS_B" readlink /proc/self/ns/net)
	for i in $(seq 100); do
		[ "$(readlink /proc/$PEER_PID/ns/net)" = "$ns" ] && return 0
		sleep 0.1
	done
	echo "# no process in $NS_B"
	return 1
}

in_a()
{
	ip netns exec "$NS_A" "$@"
}

in_b()
{
	ip netns exec "$NS_B" "$@"
}

# json_get JSON KEY: a top-level number or string of a JSON object;
# fails when KEY is not there. A flat object (no nested object or list,
# no escape: the counts udp.py and craft.py print) is read here, without
# a process: under TCG a jq costs a quarter of a second, a python3 with
# json two. Anything else goes to jq.
json_get()
{
	local j=$1 k=$2 v

	if [[ $j == \{* && ${j:1} != *[\{\[\\]* && $j == *"\"$k\":"* ]]; then
		v=${j#*"\"$k\":"}
		v=${v#"${v%%[![:space:]]*}"}
		if [[ $v == \"* ]]; then
			v=${v:1}
			v=${v%%\"*}
		else
			v=${v%%[,\}]*}
			v=${v%"${v##*[![:space:]]}"}
		fi
		echo "$v"
		return 0
	fi
	jq -er --arg k "$k" '.[$k] | if type == "number" or type == "string" then . else error("not a number or string") end' <<< "$j"
}

# nf_stat NAME KEY: a counter from 'tandem -j stats nf NAME'
nf_stat()
{
	json_get "$(tdm -j stats nf "$1")" "$2"
}

chain_stat()
{
	json_get "$(tdm -j stats chain "$1")" "$2"
}

# nf_field NAME KEY: a field of 'tandem -j nf show NAME', as python's
# str(v).lower() printed it (true, false, numbers); nothing without such
# an NF or field. A jq: a python3 that imports json costs a guest 1 to
# 2 s, a jq a quarter of one.
nf_field()
{
	tdm -j nf show "$1" 2>/dev/null | jq -r --arg k "$2" \
		'.[0] | select(type == "object" and has($k)) | .[$k] | tostring | ascii_downcase' 2>/dev/null
}

# udp_recv_start PORT NAME [IDLE]: a receiver in ns B; it ends after
# udp_recv_wait and IDLE seconds (default 0.5) without datagrams.
# The result is in $TMP/NAME.json.
udp_recv_start()
{
	rm -f "$TMP/$2.ready" "$TMP/$2.stop"
	in_b $UDP recv "$1" --idle "${3:-0.5}" --ready "$TMP/$2.ready" \
		--stop "$TMP/$2.stop" > "$TMP/$2.json" &
	local i
	# python starts slowly on an emulated CPU: allow it 30 s
	for i in $(seq 600); do
		[ -e "$TMP/$2.ready" ] && return 0
		sleep 0.05
	done
	echo "# receiver on port $1 did not start"
	return 1
}

# udp_recv_wait PID NAME: let the receiver finish and wait for it. Call
# it directly (not inside $(...)): only this shell can wait for PID.
udp_recv_wait()
{
	touch "$TMP/$2.stop"
	wait "$1" 2>/dev/null
}

udp_count()
{
	json_get "$(cat "$TMP/$1.json")" "${2:-received}"
}

# output_has PATTERN CMD...: CMD succeeds and prints PATTERN
output_has()
{
	local pat=$1 out
	shift
	out=$("$@") || return 1
	grep -q -- "$pat" <<< "$out" && return 0
	echo "output lacks '$pat':"
	echo "$out"
	return 1
}

# udp_arrived_b: UDP datagrams ns B's stack took in, kept or not: what
# crossed XDP, even if a slow receiver's socket buffer overflowed
udp_arrived_b()
{
	in_b cat /proc/net/snmp | awk '
		/^Udp:/ && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		/^Udp:/ { print $col["InDatagrams"] + $col["RcvbufErrors"] }'
}

# veth0_tx_dropped: frames veth0 could not hand to veth1 (its ring full)
veth0_tx_dropped()
{
	ip -n "$NS_A" -s -j link show dev veth0 | jq '.[0].stats64.tx.dropped'
}

# The module built for this kernel (make kmod-vm), loaded or not
KO=$TOP/build/kmod/$(uname -r)/tandem_sched.ko

# require_kmod: skip the whole test unless tandem_sched.ko can be loaded
# here (the host cannot load modules: the VMs run these tests). Leaves
# it unloaded.
# kmod_hold: until this test ends, hold two probes of our own on the
# module's tracepoints (kmod_probe hold), so that loading and unloading
# tandem_sched.ko patches no kernel text that the other CPUs run: under
# TCG that hung guests (a soft lockup in insmod or rmmod while the other
# vCPU looped on a breakpoint). See hold_tracepoints() in kmod_probe.c.
kmod_hold()
{
	local i

	[ -x "$TOP/build/selftests/kmod_probe" ] || return 0
	# not a child of the test: a trap's bare `wait` would wait for it
	( "$TOP/build/selftests/kmod_probe" hold $$ > "$TMP/kmod_hold" 2>&1 & )
	for i in $(seq 300); do
		grep -q '^held$' "$TMP/kmod_hold" 2>/dev/null && return 0
		sleep 0.2
	done
	echo "# kmod_probe hold: $(cat "$TMP/kmod_hold" 2>/dev/null)"
}

require_kmod()
{
	local err
	[ -f "$KO" ] || { echo "1..0 # SKIP no tandem_sched.ko for $(uname -r) (make kmod)"; exit $KSFT_SKIP; }
	kmod_hold
	if [ -e /sys/module/tandem_sched ]; then
		echo "1..0 # SKIP tandem_sched is loaded already"
		exit $KSFT_SKIP
	fi
	if ! err=$(insmod "$KO" 2>&1); then
		echo "1..0 # SKIP cannot load modules here: $err"
		exit $KSFT_SKIP
	fi
	rmmod tandem_sched
}
