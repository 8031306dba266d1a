#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Every bad input gets a one-line error naming the problem, a non-zero
# exit, and changes nothing; no privileges, no state; concurrent CLIs do
# not corrupt state; help on every level; JSON on every command.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 setpriv

ktap_plan 9
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }

check "nf fw" tdm nf add fw firewall
check "nf cnt" tdm nf add cnt counter
check "rule" tdm rule add fw proto tcp dport 22 action drop
check "chain" tdm chain add c1 fw cnt
check "steer" tdm steer add veth1 proto udp dport 53 chain c1
check "attach" tdm dev attach veth1 chain c1

snapshot()
{
	local o
	for o in "nf show" "chain show" "steer show" "dev show" "rule show fw"; do
		tdm -j $o
	done
	bpftool map dump pinned /sys/fs/bpf/tandem/tdm_jmp 2>&1 | grep -c key
}
snapshot > "$TMP/before"

bad()	# bad PATTERN ARGS...: tandem ARGS must fail with PATTERN, one line
{
	local pat=$1
	shift
	check_fail "tandem $*" "$pat" tdm "$@" || return
	if [ "$(wc -l < "$TMP/check.out")" -ne 1 ]; then
		echo "# check failed: tandem $*: error is not one line:"
		sed 's/^/#   /' "$TMP/check.out"
		case_failed=1
	fi
}

bad "unknown NF type 'nat64'" nf add x nat64
bad "already exists" nf add fw counter
bad "bad rate '12parsecs'" nf add p policer rate 12parsecs
bad "'rate' is required" nf add p policer burst 10
bad "burst is a number of packets" nf add p policer rate 100pps burst 10k
bad "only letters" nf add 'a/b' counter
bad "longer than 31" nf add aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa counter
bad "bad prefix '10.0.0.300/8'" rule add fw src 10.0.0.300/8 action drop
bad "bad prefix '10.0.0.0/33'" rule add fw src 10.0.0.0/33 action drop
bad "host bits" rule add fw src 10.0.0.1/8 action drop
bad "bad prefix 'fd00::/129'" rule add fw dst fd00::/129 action drop
bad "mixes IPv4 and IPv6" rule add fw src 10.0.0.0/8 dst fd00::/8 action drop
bad "range is reversed" rule add fw proto tcp dport 200-100 action drop
bad "bad port range '70000'" rule add fw proto udp sport 70000 action drop
bad "need 'proto tcp'" rule add fw dport 80 action drop
bad "bad protocol 'foo'" rule add fw proto foo action drop
bad "'action ACTION' is required" rule add fw proto tcp
bad "rules belong to firewalls" rule add cnt proto tcp action drop
bad "no NF named 'nope'" rule add nope action drop
bad "has no rule 99" rule del fw 99
bad "bad rule id 'x'" rule del fw x
bad "names NF 'ghost', which does not exist" chain add c2 cnt ghost
bad "already exists" chain add c1 cnt
bad "bad action 'explode'" chain add c3 cnt then explode
bad "device 'nosuchdev' does not exist" chain add c3 cnt then redirect nosuchdev
bad "no chain named 'nope'" chain replace nope cnt
bad "is used by chain 'c1'" nf del fw
bad "is used by device veth1" chain del c1
bad "device 'nosuchdev' does not exist" dev attach nosuchdev chain c1
bad "no chain named 'nope'" dev attach veth1 chain nope
bad "bad mode 'turbo'" dev attach veth1 mode turbo
bad "device 'nosuchdev' does not exist" steer add nosuchdev proto udp chain c1
bad "no chain named 'nope'" steer add veth1 proto udp chain nope
bad "has no steering entry 42" steer del veth1 42
check "an exact entry" tdm steer add veth1 src 10.0.0.1 dst 10.0.0.2 proto udp sport 1 dport 2 chain c1
bad "the same 5-tuple is already steered" steer add veth1 src 10.0.0.1 dst 10.0.0.2 proto udp sport 1 dport 2 chain c1
bad "unknown command 'chain frobnicate'" chain frobnicate
bad "no NF named 'zzz'" stats nf zzz
case_end "bad_inputs_fail_with_a_clear_one_line_error"

# the exact entry added between the failures goes again before comparing
id=$(tdm -j steer show veth1 | python3 -c 'import json,sys; print([e["id"] for e in json.load(sys.stdin) if e["exact"]][0])')
check "remove the exact entry" tdm steer del veth1 "$id"
snapshot > "$TMP/after"
check "state unchanged by the failed commands" diff -u "$TMP/before" "$TMP/after"
case_end "failed_commands_change_nothing"

check_fail "unprivileged" "permission denied" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$TANDEM" nf show
check_fail "unprivileged add" "permission denied" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$TANDEM" nf add x counter
case_end "unprivileged_user_gets_a_clear_error"

pids=""
for i in $(seq 16); do
	tdm nf add par$i counter > "$TMP/par$i.out" 2>&1 &
	pids="$pids $!"
done
for p in $pids; do
	wait $p || { echo "# a parallel nf add failed"; case_failed=1; }
done
n=$(tdm -j nf show | python3 -c 'import json,sys; l=json.load(sys.stdin); print(len({e["id"] for e in l if e["name"].startswith("par")}))')
expect "16 NFs with 16 distinct ids" "$n" -eq 16
case_end "concurrent_cli_invocations_are_serialised"

# no bpffs where the state should be: refused, nothing mounted in secret
check_fail "ip netns exec hides the bpffs" "is not a bpffs" in_b "$TANDEM" nf show
mkdir -p "$TMP/x"
check_fail "a pin root on no bpffs" "is not a bpffs" env TANDEM_PIN_ROOT="$TMP/x/tandem" "$TANDEM" nf show
check "nothing mounted there" sh -c "! grep -q ' $TMP/x ' /proc/mounts"
case_end "no_bpffs_is_an_error_not_a_private_mount"

# pins of another ABI version are refused, whole
check "stamp a foreign ABI" bpftool map update pinned /sys/fs/bpf/tandem/tdm_abi key 0 0 0 0 value 99 0 0 0
check_fail "refused" "tandem ABI 99" tdm nf show
abi=$(sed -n 's/^#define TDM_ABI_VERSION[[:space:]]*\([0-9]*\)$/\1/p' \
	"$TOP/include/tandem/tandem.h")
check "stamp ours back" bpftool map update pinned /sys/fs/bpf/tandem/tdm_abi key 0 0 0 0 value "$abi" 0 0 0
check "accepted" tdm nf show
case_end "pins_of_another_abi_version_are_refused"

# a watch reads between pauses: writers do not wait for it to end (a
# writer that waited would return only when the watch ends, 30 s on)
# (not through tdm(), whose subshell would be what $! names and kill hits)
nsenter --net=/run/netns/"$NS_B" "$TANDEM" stats --watch 1 --count 30 \
	> "$TMP/watch.out" &
watch=$!
sleep 0.5
check "nf add during a watch" tdm nf add during_watch counter
check "the watch is still running" kill -0 $watch
for i in $(seq 300); do
	grep -q "pps" "$TMP/watch.out" && break
	sleep 0.1
done
kill $watch 2>/dev/null
wait $watch
check "the watch printed rates" grep -q "pps" "$TMP/watch.out"
case_end "stats_watch_does_not_block_writers"

for o in nf rule chain steer dev stats; do
	check "tandem $o help" output_has "Usage: tandem" "$TANDEM" $o help
done
check "tandem help" output_has "OBJECT :=" "$TANDEM" help
check "no args is a usage error" sh -c "! $TANDEM >/dev/null 2>&1"
case_end "help_on_every_level"

for c in "nf show" "nf types" "chain show" "steer show" "dev show" "stats" "stats nf" "stats chain c1" "stats dev veth1" "rule show fw"; do
	check "-j $c is JSON" sh -c "nsenter --net=/run/netns/$NS_B $TANDEM -j $c | python3 -m json.tool >/dev/null"
done
s=$(tdm -j stats nf fw)
for k in name type packets bytes drops; do
	check "stats nf has $k" python3 -c "import json,sys; assert '$k' in json.loads(sys.argv[1])" "$s"
done
check "errors are JSON too" sh -c "nsenter --net=/run/netns/$NS_B $TANDEM -j nf add x nat64 2>/dev/null | python3 -c 'import json,sys; assert \"error\" in json.load(sys.stdin)'"
case_end "json_output_on_every_command"

ktap_finish
