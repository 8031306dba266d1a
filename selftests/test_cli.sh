#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Every bad input gets a one-line error naming the problem, a non-zero
# exit, and changes nothing; no privileges, no state; concurrent CLIs do
# not corrupt state; help on every level; JSON on every command.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 setpriv

ktap_plan 16
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }

check "nf fw" tdm nf add fw firewall
check "nf cnt" tdm nf add cnt counter
check "rule" tdm rule add fw proto tcp dport 22 action drop
check "chain" tdm chain add c1 fw cnt
check "steer" tdm steer add veth1 proto udp dport 53 chain c1
check "attach" tdm dev attach veth1 chain c1

# run_split ARGS...: tandem in ns B; stdout, stderr and the exit code
# apart, in $TMP/out, $TMP/err and $rc
run_split()
{
	nsenter --net=/run/netns/"$NS_B" "$TANDEM" "$@" > "$TMP/out" 2> "$TMP/err"
	rc=$?
}

# err_is DESC RC PATTERN ARGS...: exit RC, one stderr line saying PATTERN
err_is()
{
	local what=$1 want=$2 pat=$3
	shift 3
	run_split "$@"
	expect "$what: exit code" "$rc" -eq "$want" || sed 's/^/#   /' "$TMP/err"
	expect "$what: lines on stderr" "$(wc -l < "$TMP/err")" -eq 1
	check "$what: says '$pat'" grep -q -- "$pat" "$TMP/err"
}

# rule_json NF ID KEY: a field of rule ID in 'rule show NF'
rule_json()
{
	tdm -j rule show "$1" | python3 -c '
import json, sys
for r in json.load(sys.stdin)["rules"]:
    if r["id"] == int(sys.argv[1]):
        print(r[sys.argv[2]])' "$2" "$3"
}

# rule_text NF ID: the MATCH column of rule ID in 'rule show NF'
rule_text()
{
	tdm rule show "$1" | awk -v id="$2" '$1 == id { $1 = $2 = $NF = ""; gsub(/^ +| +$/, ""); print }'
}

# --- the examples of issue 6, part 5, each on its own ---
check "fw2" tdm nf add fw2 firewall
check "rule 1" tdm rule add fw2 proto udp action pass
err_is "a wrapped negative id" 2 "bad rule id ' -18446744073709551615'" \
	rule del fw2 ' -18446744073709551615'
check "rule 1 is still there" test "$(rule_json fw2 1 proto)" = udp
for n in '+1' ' 1' '1 ' '0x1' '01x' '4294967297' '18446744073709551617' '' '-0' '1e0'; do
	err_is "rule id '$n'" 2 "expected a decimal number 1-4294967295" rule del fw2 "$n"
done
err_is "prio with a blank" 2 "bad prio ' 5'" rule add fw2 prio ' 5' action drop
err_is "count with a sign" 2 "bad --count '+2'" stats --watch 1 --count +2
check "rule 1 is still there" test "$(rule_json fw2 1 proto)" = udp
check_fail "TANDEM_LOCK_TIMEOUT with a blank" "expected seconds" \
	env TANDEM_LOCK_TIMEOUT=' 5' nsenter --net=/run/netns/"$NS_B" "$TANDEM" nf show
check_fail "TANDEM_LOCK_TIMEOUT in hex" "expected seconds" \
	env TANDEM_LOCK_TIMEOUT=0x10 nsenter --net=/run/netns/"$NS_B" "$TANDEM" nf show
check "TANDEM_LOCK_TIMEOUT=0.5" env TANDEM_LOCK_TIMEOUT=0.5 nsenter --net=/run/netns/"$NS_B" "$TANDEM" nf show
case_end "numbers_are_digits_only_and_range_checked"

err_is "a match split by prio mixes families" 2 "mixes IPv4 and IPv6" \
	rule add fw2 src 10.0.0.0/8 prio 5 dst fd00::/8 action drop
err_is "proto twice, split" 2 "'proto' is given twice" \
	rule add fw2 proto tcp prio 5 proto udp action drop
err_is "ports before proto, split, wrong proto" 2 "need 'proto tcp'" \
	rule add fw2 dport 80 prio 5 proto gre action drop
err_is "icmp with an IPv6 prefix" 2 "mixes IPv4 and IPv6" \
	rule add fw2 dst fd00::/8 action drop proto icmp
err_is "icmpv6 with an IPv4 prefix" 2 "mixes IPv4 and IPv6" \
	rule add fw2 proto icmpv6 prio 3 src 10.0.0.0/8 action drop
err_is "icmpv6 after an IPv4 prefix" 2 "mixes IPv4 and IPv6" \
	steer add veth1 src 10.0.0.0/8 chain c1 proto icmpv6
err_is "prio twice" 2 "'prio' is given twice" \
	rule add fw2 prio 1 src 10.0.0.0/8 prio 2 action drop
err_is "action twice" 2 "'action' is given twice" \
	rule add fw2 action pass proto tcp action drop
err_is "chain twice" 2 "'chain' is given twice" \
	steer add veth1 chain c1 proto udp chain c1
err_is "a keyword twice in nf add" 1 "'rate' is given twice" \
	nf add p policer rate 10kpps rate 20kpps
err_is "a firewall parameter twice" 1 "firewall: 'default' is given twice" \
	nf add f firewall default drop unparsed pass default pass
err_is "a counter parameter" 1 "counter: unknown parameter 'x' (parameters: none)" \
	nf add c counter x 1
err_is "a policer's unknown parameter" 1 "parameters: rate, burst, per" \
	nf add p policer rate 10kpps brust 10
err_is "a policer parameter without value" 1 "policer: 'per' needs a value" \
	nf add p policer rate 10kpps per
# one meaning whatever the order: the same stored match
check "in one order" tdm rule add fw2 src 10.1.0.0/16 proto tcp dport 80 action drop
check "in another" tdm rule add fw2 dport 80 action drop prio 100 proto tcp src 10.1.0.0/16
for k in family src dst proto sport dport; do
	expect "same $k" "$(rule_json fw2 2 $k)" = "$(rule_json fw2 3 $k)"
done
expect "the family" "$(rule_json fw2 2 family)" = ipv4
case_end "a_match_is_one_whole_in_any_word_order"

err_is "an IPv4-mapped prefix" 2 "write it as IPv4: 10.3.0.0/16" \
	rule add fw2 src ::ffff:10.3.0.0/112 action drop
err_is "an IPv4-mapped host" 2 "write it as IPv4: 192.0.2.1/32" \
	steer add veth1 dst ::ffff:192.0.2.1 chain c1
check "::/0" tdm rule add fw2 dst ::/0 action drop
expect "::/0 shows as such" "$(rule_text fw2 4)" = "src ::/0"
expect "::/0 is IPv6 in JSON" "$(rule_json fw2 4 family)" = ipv6
check "0.0.0.0/0" tdm rule add fw2 src 0.0.0.0/0 action drop
expect "0.0.0.0/0 shows as such" "$(rule_text fw2 5)" = "src 0.0.0.0/0"
expect "0.0.0.0/0 is IPv4 in JSON" "$(rule_json fw2 5 family)" = ipv4
check "no prefix" tdm rule add fw2 proto tcp action drop
expect "both families" "$(rule_json fw2 6 family)" = any
# the text shown reads back to the same rule, for every rule so far
for id in 1 2 4 5 6; do
	# shellcheck disable=SC2046
	check "rule $id again from its text" tdm rule add fw2 $(rule_text fw2 $id) action pass
done
n=$(tdm -j rule show fw2 | python3 -c '
import json, sys
rs = json.load(sys.stdin)["rules"]
key = lambda r: tuple(r[k] for k in ("family", "src", "dst", "proto", "sport", "dport"))
orig = {r["id"]: key(r) for r in rs if r["id"] in (1, 2, 4, 5, 6)}
again = [key(r) for r in rs if r["id"] > 6]
print(sum(1 for k in orig.values() if k in again))')
expect "every shown rule reads back the same" "$n" -eq 5
check "an exact IPv4 steering entry" tdm steer add veth1 src 10.0.0.5 dst 10.0.0.6 proto tcp sport 1 dport 2 chain c1
f=$(tdm -j steer show veth1 | python3 -c 'import json,sys; print([e["family"] for e in json.load(sys.stdin) if e["exact"]][0])')
expect "it is shown as IPv4 only" "$f" = ipv4
id=$(tdm -j steer show veth1 | python3 -c 'import json,sys; print([e["id"] for e in json.load(sys.stdin) if e["exact"]][0])')
check "remove it" tdm steer del veth1 "$id"
case_end "display_says_what_matches"

err_is "a bit-rate burst below a frame" 1 "at least 1522 bytes" \
	nf add p policer rate 10mbit burst 100
err_is "one byte short" 1 "at least 1522 bytes" \
	nf add p policer rate 10mbit burst 1521
check "one full frame" tdm nf add pb policer rate 10mbit burst 1522
check "default burst" tdm nf add pb2 policer rate 10kbit
check "default burst is one frame at least" sh -c "nsenter --net=/run/netns/$NS_B $TANDEM nf show pb2 | grep -q 'burst 1522b'"
err_is "the same NF twice in a chain" 1 "names NF 'cnt' twice" chain add c3 cnt cnt
err_is "the same NF twice in a replaced chain" 1 "names NF 'fw' twice" \
	chain replace c1 fw cnt fw
check "c1 is unchanged" test "$(tdm -j chain show c1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["nfs"])')" = "['fw', 'cnt']"
case_end "policer_burst_and_one_nf_once_per_chain"

err_is "getopt stays quiet" 2 "unknown option '-x'" -x nf show
err_is "-h2 is no help" 2 "unknown option '-2'" -h2
err_is "a control byte is escaped" 1 'NF name .a\\x07b.' nf add $'a\ab' counter
check "no raw control byte" sh -c "! grep -q $'\a' $TMP/err"
err_is "a newline is escaped" 1 'a\\x0ab' nf add $'a\nb' counter
long=$(printf 'x%.0s' $(seq 200))
err_is "a long word is cut, the reason stays" 2 "xxxx\.\.\.': too long" rule add fw2 src "$long" action drop
expect "the line is short" "$(wc -c < "$TMP/err")" -lt 200
err_is "a longish word is cut" 2 "xxxx\.\.\.': not an IPv4" rule add fw2 src "${long:0:48}" action drop
err_is "a huge word" 2 "at most 256" nf add "$(printf 'y%.0s' $(seq 70000))" counter
run_split -j nf add $'\xff\xfe' counter
check "-j bad UTF-8 is JSON" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "\\xff" in d["error"], d' "$TMP/out"
expect "-j bad UTF-8: one line on stderr" "$(wc -l < "$TMP/err")" -eq 1
err_is "bare tandem" 2 "no OBJECT given"
check "bare tandem prints usage" grep -q "OBJECT :=" "$TMP/out"
err_is "tandem OBJECT" 2 "'tandem rule' needs a command" rule
check "tandem rule prints its usage" grep -q "Usage: tandem rule add" "$TMP/out"
for a in "" nf "nf bogus" "rule add" "rule del fw2 x"; do
	# shellcheck disable=SC2086
	run_split -j $a
	expect "-j $a: usage error" "$rc" -eq 2
	check "-j $a: JSON on stdout" python3 -c 'import json,sys; assert "error" in json.load(open(sys.argv[1]))' "$TMP/out"
	expect "-j $a: one line on stderr" "$(wc -l < "$TMP/err")" -eq 1
done
run_split -j -V
check "-j -V is JSON" python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["version"]' "$TMP/out"
for o in nf rule chain steer dev stats; do
	run_split -j $o help
	check "-j $o help is JSON" python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["commands"]' "$TMP/out"
	check "-j $o help has the whole text" python3 -c '
import json, subprocess, sys
t = subprocess.run([sys.argv[2], sys.argv[3], "help"], capture_output=True, text=True).stdout
assert json.load(open(sys.argv[1]))["usage"] == t' "$TMP/out" "$TANDEM" $o
done
case_end "errors_are_one_line_and_json_is_json"

check "nf gone" tdm nf add gone counter
nsenter --net=/run/netns/"$NS_B" "$TANDEM" -j stats nf gone --watch 0.2 \
	> "$TMP/gone.out" 2> "$TMP/gone.err" &
watch=$!
sleep 0.5
check "nf del during the watch" tdm nf del gone
for i in $(seq 50); do
	kill -0 $watch 2>/dev/null || break
	sleep 0.1
done
kill $watch 2>/dev/null
wait $watch
expect "the watch ends with an error" $? -eq 1
check "it says the NF is gone" grep -q "nf 'gone' is gone" "$TMP/gone.err"
check "every update is JSON" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
docs = [json.loads(l) for l in lines]
assert "error" in docs[-1] and len(docs) >= 2, docs' "$TMP/gone.out"
case_end "a_watched_nf_that_goes_away_is_reported"

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
bad "starts with '-'" nf add -q counter
bad "starts with '.'" chain add .. fw
bad "starts with '-'" set add -x type ipv4
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

# the firewall's lookup parameter: checked, shown, dumped, applied back
err_is "a bad lookup" 1 "bad lookup 'hash'" nf add fl firewall lookup hash
check "nf add lookup tuples" tdm nf add fl firewall default drop lookup tuples
check "nf show says it" output_has "default drop unparsed drop lookup tuples" tdm nf show fl
check "nf show: lookup auto by default" output_has "unparsed drop lookup auto" tdm nf show fw
check "a rule" tdm rule add fl proto udp dport 1000-1999 action pass
expect "rule show: mode tuples" "$(json_get "$(tdm -j rule show fl)" mode)" = tuples
tdm dump > "$TMP/fl.conf"
check "dump has it" grep -q "^nf add fl firewall default drop unparsed drop lookup tuples$" "$TMP/fl.conf"
check "its apply changes nothing" output_has "0 added, 0 changed, 0 deleted" \
	tdm apply "$TMP/fl.conf"
sed -i 's/lookup tuples/lookup linear/' "$TMP/fl.conf"
check "lookup linear applied" output_has "0 added, 1 changed, 0 deleted" \
	tdm apply "$TMP/fl.conf"
check "nf show: linear" output_has "lookup linear" tdm nf show fl
expect "rule show: mode linear" "$(json_get "$(tdm -j rule show fl)" mode)" = linear
check "nf del" tdm nf del fl
case_end "firewall_lookup_parameter_round_trips"

ktap_finish
