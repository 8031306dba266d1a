#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Address sets driven by the CLI on veth: a blocklist of SET_SIZE
# (default 100,000) addresses loaded from a file, datagrams from a
# blocked and an unblocked source over IPv4 and IPv6, an element
# deleted unblocks live, set del refused while a rule uses the set; then
# hundreds of generated bad commands, each one clear error that leaves
# the sets as they were.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 jq

SET_SIZE=${SET_SIZE:-100000}
# rounds of generated bad elements and rules (11 commands each; guests 1)
SET_BAD_ROUNDS=${SET_BAD_ROUNDS:-40}
ktap_plan 4
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
# a second source in ns A, which no set holds
in_a ip addr add 10.10.0.3/24 dev veth0
in_a ip -6 addr add fd00::3/64 dev veth0 nodad

# the blocklist: our first sources and SET_SIZE - 2 others
python3 - "$SET_SIZE" > "$TMP/block.txt" <<'PY'
import sys
n = int(sys.argv[1])
print("# the blocklist")
print("10.10.0.1")
print("fd00::1")
for i in range(n - 2):
    if i % 2:
        print("2001:db8:%x::%x" % (i >> 16, i & 0xffff))
    else:
        print("172.%d.%d.%d" % (16 + (i >> 16), (i >> 8) & 255, i & 255))
PY
check "set add" tdm set add block type inet
t0=$(date +%s.%N)
check "set load" tdm set load block "$TMP/block.txt"
t1=$(date +%s.%N)
echo "# $SET_SIZE addresses loaded in $(echo "$t1 - $t0" | bc 2>/dev/null || python3 -c "print(round($t1 - $t0, 2))") s"
s=$(tdm -j set show)
expect "set show: elements" "$(jq '.sets[0].elements' <<< "$s")" -eq "$SET_SIZE"
check "nf add fw" tdm nf add fw firewall default pass
check "rule src @block" tdm rule add fw src @block action drop
check "chain add" tdm chain add c fw then pass
check "attach" tdm dev attach veth1 chain c
output_has "src @block" tdm rule show fw
case_end "blocklist_loaded_from_a_file"

send_from()	# SRC DST PORT NAME: 50 datagrams from SRC, count in NAME
{
	udp_recv_start "$3" "$4"; local p=$!
	in_a $UDP send "$2" "$3" --src "$1" --count 50 --rate 2000 > /dev/null
	udp_recv_wait $p "$4"
}
send_from 10.10.0.1 10.10.0.2 7001 b4
send_from 10.10.0.3 10.10.0.2 7002 u4
send_from fd00::1 fd00::2 7003 b6
send_from fd00::3 fd00::2 7004 u6
expect "IPv4 blocked source" "$(udp_count b4)" -eq 0
expect "IPv4 other source" "$(udp_count u4)" -eq 50
expect "IPv6 blocked source" "$(udp_count b6)" -eq 0
expect "IPv6 other source" "$(udp_count u6)" -eq 50
case_end "blocked_sources_dropped_others_pass_ipv4_and_ipv6"

check "element del" tdm set element del block 10.10.0.1 fd00::1
send_from 10.10.0.1 10.10.0.2 7005 b4b
send_from fd00::1 fd00::2 7006 b6b
expect "IPv4 unblocked live" "$(udp_count b4b)" -eq 50
expect "IPv6 unblocked live" "$(udp_count b6b)" -eq 50
check "element add" tdm set element add block 10.10.0.1
send_from 10.10.0.1 10.10.0.2 7007 b4c
expect "IPv4 blocked again" "$(udp_count b4c)" -eq 0
check_fail "set del while used" "in use" tdm set del block
# policy files cannot hold set rules yet: an apply, which would delete
# the rule, is refused (the dump says so too), and nothing changes
tdm dump > "$TMP/dump.conf" 2> /dev/null
check_fail "apply refused while a rule matches a set" "matches an address set" \
	tdm apply "$TMP/dump.conf"
check_fail "apply --check too" "matches an address set" \
	tdm apply --check "$TMP/dump.conf"
output_has "src @block" tdm rule show fw
send_from 10.10.0.1 10.10.0.2 7008 b4d
expect "IPv4 still blocked" "$(udp_count b4d)" -eq 0
# what set show prints reads back: IPv6's /0 is ::/0, not "any"
check "interval set" tdm set add all6 type ipv6 interval
check "::/0 in it" tdm set element add all6 ::/0
m=$(tdm -j set show all6 | jq -r '.sets[0].members[0]')
expect "::/0 shows as ::/0" "$m" = "::/0"
check "and reads back" tdm set element del all6 "$m"
# a count a killed command left behind never wraps below 0
TANDEM_CRASH_AT=1 nsenter --net=/run/netns/"$NS_B" "$TANDEM" set element add all6 ::/0 \
	> /dev/null 2>&1
check "element del after a killed add" tdm set element del all6 ::/0
expect "the count did not wrap" \
	"$(tdm -j set show all6 | jq '.sets[0].elements')" -eq 0
check "set del" tdm set del all6
case_end "element_changes_are_live_set_del_refused_while_used"

# bad commands: each fails with one line on stderr, sets unchanged
check "set add v4" tdm set add v4 type ipv4
check "set add v6i" tdm set add v6i type ipv6 interval
check "element v4" tdm set element add v4 192.0.2.1
before=$(tdm -j set show)
printf '192.0.2.9\n::1\n' > "$TMP/bad-family.txt"
printf '192.0.2.9\nnot-an-address\n' > "$TMP/bad-addr.txt"
printf '192.0.2.0/24\n' > "$TMP/bad-prefix.txt"
bad=0 n=0
# (the error is read by bash, not by a wc and a grep: a guest pays for
# every process)
run_bad()
{
	local err
	n=$((n + 1))
	if tdm "$@" > "$TMP/bad.out" 2> "$TMP/bad.err"; then
		echo "# succeeded: tandem $*"
		bad=$((bad + 1))
		return
	fi
	mapfile err < "$TMP/bad.err"
	if [ "${#err[@]}" -ne 1 ] || [[ ${err[0]} != "tandem: "*$'\n' ]]; then
		echo "# not one error line: tandem $*"
		sed 's/^/#   /' "$TMP/bad.err" | head -3
		bad=$((bad + 1))
	fi
}
names=("" "a b" "$(printf 'x%.0s' {1..40})" "a/b" "é" "a:b" "@v4")
for nm in "${names[@]}"; do
	run_bad set add "$nm" type ipv4
	run_bad set element add "$nm" 192.0.2.1
	run_bad set load "$nm" "$TMP/block.txt"
	run_bad set del "$nm"
	run_bad set show "$nm"
done
for ty in ipv5 IPV4 inet6 "" any 4; do
	run_bad set add newset type "$ty"
done
run_bad set add newset
run_bad set add newset type ipv4 interval extra
run_bad set add v4 type ipv4
for i in $(seq 1 "$SET_BAD_ROUNDS"); do
	run_bad set element add v4 "2001:db8::$i"
	run_bad set element add v4 "192.0.$i.0/24"
	run_bad set element add v4 192.0.2.$i "::$i"
	run_bad set element add v6i "192.0.2.$i"
	run_bad set element add v6i "2001:db8:$i::/200"
	run_bad set element del v4 "198.51.100.$i"
	run_bad set element add "nope$i" 192.0.2.1
	run_bad set element add v4 "192.0.2.$((i + 300))"
	run_bad rule add fw src "@nope$i" action drop
	run_bad rule add fw src @v4 dst "2001:db8::$i" action drop
	run_bad rule add fw src @v6i proto icmp action drop
done
run_bad set element add v4
run_bad set element frob v4 192.0.2.1
run_bad set load v4 "$TMP/bad-family.txt"
run_bad set load v4 "$TMP/bad-addr.txt"
run_bad set load v4 "$TMP/bad-prefix.txt"
run_bad set load v4 "$TMP/no-such-file"
run_bad steer add veth1 src @v4 chain c
run_bad set del nope
expect "bad commands refused ($n)" "$bad" -eq 0
expect "at least $((SET_BAD_ROUNDS * 11)) bad commands" "$n" -ge $((SET_BAD_ROUNDS * 11))
check_fail "load names FILE:LINE" "bad-family.txt:2" tdm set load v4 "$TMP/bad-family.txt"
after=$(tdm -j set show)
expect "set show unchanged" "$before" = "$after"
case_end "bad_commands_one_clear_error_nothing_changes"

ktap_finish
