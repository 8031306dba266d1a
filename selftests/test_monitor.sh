#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The monitor NF driven by the CLI on veth1 (lib.sh's pair): tandem top
# counts each flow as B's own kernel counted it, orders and limits them,
# gives idle flows no rate; tandem capture writes pcap files that
# tcpdump reads and whose bytes are the datagrams sent, prints a line or
# a JSON object a frame, samples 1 in N; one capture a monitor at a time,
# a dead one's taken over, none outlives its monitor; bad words fail
# with one line and change nothing; a policy file makes a monitor and
# its dump applies back.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 timeout jq tcpdump bpftool

PCAP="python3 $TOP/selftests/lib/pcap.py"
PIN=/sys/fs/bpf/tandem

ktap_plan 6

# snmp_b FILE FIELD: a counter of ns B's /proc/net/snmp (Udp: InDatagrams)
# or /proc/net/snmp6 (Udp6InDatagrams)
snmp_b()
{
	if [ "$1" = snmp6 ]; then
		in_b awk -v f="$2" '$1 == f { print $2 }' /proc/net/snmp6
	else
		in_b cat /proc/net/snmp | awk -v f="$2" '
			/^Udp:/ && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
			/^Udp:/ { print $col[f] }'
	fi
}

icmp_in_echos_b()
{
	in_b cat /proc/net/snmp | awk '
		/^Icmp:/ && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		/^Icmp:/ { print $col["InEchos"] }'
}

# flow_field JSON SRC SPORT KEY: KEY of the flow from SRC:SPORT in a
# top's or a show's JSON ("" if there is none)
flow_field()
{
	jq -r --arg s "$2" --argjson p "$3" --arg k "$4" \
		'.flows[] | select(.src == $s and .sport == $p) | .[$k]' <<< "$1"
}

# capture_start NAME ARGS...: tandem capture in the background, its
# standard error in $TMP/NAME.err, its pid in CAP_PID; returns once it
# is capturing
capture_start()
{
	local name=$1 i
	shift
	# nsenter execs tandem: $! is the capture, which signals reach
	nsenter --net=/run/netns/"$NS_B" "$TANDEM" "$@" 2> "$TMP/$name.err" &
	CAP_PID=$!
	for i in $(seq 600); do
		grep -q "^capturing on" "$TMP/$name.err" && return 0
		kill -0 $CAP_PID 2>/dev/null || break
		sleep 0.05
	done
	echo "# capture $name did not start:"
	sed 's/^/#   /' "$TMP/$name.err"
	return 1
}

# capture_wait: wait (30 s at most) for the capture to end; its status
capture_wait()
{
	local i
	for i in $(seq 600); do
		kill -0 $CAP_PID 2>/dev/null || break
		sleep 0.05
	done
	kill $CAP_PID 2>/dev/null
	wait $CAP_PID
}

# rings_used: slots of tdm_monitor_rings holding a ring
rings_used()
{
	bpftool -j map dump pinned $PIN/tdm_monitor_rings | jq length
}

setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
# no router solicitations from A among the frames counted and captured
in_a sysctl -qw net.ipv6.conf.veth0.router_solicitations=0

# ---- 1: top ----
check "nf add" tdm nf add mon monitor size 4096
check "chain add" tdm nf add cnt counter
check "chain add" tdm chain add c mon cnt
check "dev attach" tdm dev attach veth1 chain c
u4=$(snmp_b snmp InDatagrams)
u6=$(( $(snmp_b snmp6 Udp6InDatagrams) + $(snmp_b snmp6 Udp6NoPorts) ))
e4=$(icmp_in_echos_b)
udp_recv_start 17000 r4 || case_failed=1
rpid=$!
in_a $UDP send 10.10.0.2 17000 --sport 5001 --count 300 > /dev/null
in_a $UDP send fd00::2 17001 --sport 5002 --count 50 --size 200 > /dev/null
in_a ping -q -c 3 -i 0.2 10.10.0.2 > /dev/null
udp_recv_wait $rpid r4
u4=$(( $(snmp_b snmp InDatagrams) - u4 ))
u6=$(( $(snmp_b snmp6 Udp6InDatagrams) + $(snmp_b snmp6 Udp6NoPorts) - u6 ))
e4=$(( $(icmp_in_echos_b) - e4 ))
j=$(tdm -j top mon --interval 0.2 --count 1 --limit 100)
echo "$j" > "$TMP/top.json"
expect "B's kernel took the UDP datagrams" "$u4" -eq 300
expect "UDP over IPv4: B's kernel's count" "$(flow_field "$j" 10.10.0.1 5001 packets)" -eq "$u4"
expect "... its bytes (106 a frame)" "$(flow_field "$j" 10.10.0.1 5001 bytes)" -eq $((u4 * 106))
expect "UDP over IPv6: B's kernel's count" "$(flow_field "$j" fd00::1 5002 packets)" -eq "$u6"
expect "... its bytes" "$(flow_field "$j" fd00::1 5002 bytes)" -eq $((u6 * (14 + 40 + 8 + 200)))
expect "echo requests: B's kernel's count" "$(jq '[.flows[] | select(.proto == "icmp" and .src == "10.10.0.1") | .packets] | add' <<< "$j")" -eq "$e4"
expect "echo requests" "$e4" -eq 3
# (A's own IPv6 router solicitations may come at any time: only the
# test's flows are checked)
ours='select(.src == "10.10.0.1" or .src == "fd00::1")'
expect "idle flows have no rate" "$(jq "[.flows[] | $ours | select(.pps != 0)] | length" <<< "$j")" -eq 0 ||
	jq -c '.flows[] | select(.pps != 0)' <<< "$j" | sed 's/^/#   /' 
expect "every flow is there" "$(jq .flows_total <<< "$j")" -ge 3
j=$(tdm -j top mon --sort packets --limit 1 --interval 0.1)
expect "--limit 1" "$(jq '.flows | length' <<< "$j")" -eq 1
expect "--sort packets: the busiest first" "$(jq -r '.flows[0].sport' <<< "$j")" -eq 5001
j=$(tdm -j top mon --sort bytes --limit 1 --interval 0.1)
expect "--sort bytes: the biggest first (300 x 106 > 50 x 262)" "$(jq -r '.flows[0].sport' <<< "$j")" -eq 5001
# a flow that runs has a rate; the others none, and it goes first
in_a $UDP send 10.10.0.2 17009 --sport 5009 --rate 200 --duration 4 > /dev/null &
spid=$!
sleep 1
j=$(tdm -j top --interval 1 --count 1)
wait $spid
expect "a running flow has a rate" "$(jq -r '.flows[0].pps > 0' <<< "$j" | grep -c true)" -eq 1
expect "... and goes first" "$(jq -r '.flows[0].sport' <<< "$j")" -eq 5009
expect "... bits = 8 x bytes" "$(jq -r '.flows[0] | (.bps / .pps / 8 - 106 | fabs) < 1' <<< "$j" | grep -c true)" -eq 1
expect "... the others none" "$(jq "[.flows[1:][] | $ours | select(.pps != 0)] | length" <<< "$j")" -eq 0 ||
	jq -c '.flows[] | select(.pps != 0)' <<< "$j" | sed 's/^/#   /' 
check "top as text" output_has "udp .*10.10.0.1:5001 .*10.10.0.2:17000" \
	tdm top mon --count 1 --interval 0.1
check "two refreshes" test "$(tdm top mon -c 2 -i 0.1 | grep -c '^tandem top: mon')" -eq 2
check "monitor show" output_has "10.10.0.1:5001" tdm monitor show mon
check "monitor flush" tdm monitor flush mon
expect "flushed" "$(tdm -j monitor show mon | jq '[.flows[] | select(.sport == 5001)] | length')" -eq 0
case_end "top_counts_each_flow_as_the_receiver_does"

# ---- 2: pcap files ----
capture_start a capture mon count 20 -w "$TMP/a.pcap" || case_failed=1
in_a $UDP send 10.10.0.2 17002 --sport 5003 --count 10 --payload tandem-capture-v4 > /dev/null
in_a $UDP send fd00::2 17002 --sport 5004 --count 10 --payload tandem-capture-v6 > /dev/null
check "capture ends after 20 frames" capture_wait
check "it says so" grep -q "^20 frames captured, 20 sampled, 0 lost" "$TMP/a.err"
tcpdump -nn -r "$TMP/a.pcap" > "$TMP/a.txt" 2> /dev/null
expect "tcpdump reads the IPv4 datagrams" "$(grep -c '10.10.0.1.5003 > 10.10.0.2.17002: UDP, length 25' "$TMP/a.txt")" -eq 10
expect "... and the IPv6 ones" "$(grep -c 'fd00::1.5004 > fd00::2.17002: UDP, length 25' "$TMP/a.txt")" -eq 10
$PCAP "$TMP/a.pcap" > "$TMP/a.json" || case_failed=1
check "nanosecond times, Ethernet" test "$(jq -r '"\(.precision) \(.linktype) \(.snaplen)"' "$TMP/a.json")" = "nano 1 4096"
# each frame whole, its datagram's bytes: sequence number, then the text
v4=$(printf tandem-capture-v4 | od -An -tx1 | tr -d ' \n')
v6=$(printf tandem-capture-v6 | od -An -tx1 | tr -d ' \n')
for i in $(seq 0 9); do
	seq=$(printf %016x "$i")
	expect "IPv4 frame $i: its bytes" "$(jq -r --arg t "$seq$v4" --argjson i "$i" \
		'[.frames[] | select(.data | endswith($t))] | map(select(.caplen == .len and .len == 14 + 20 + 8 + 25)) | length' "$TMP/a.json")" -eq 1
	expect "IPv6 frame $i: its bytes" "$(jq -r --arg t "$seq$v6" \
		'[.frames[] | select(.data | endswith($t))] | map(select(.caplen == .len and .len == 14 + 40 + 8 + 25)) | length' "$TMP/a.json")" -eq 1
done
expect "in the order sent, times rising" "$(jq '[.frames[].time] | . == sort' "$TMP/a.json" | grep -c true)" -eq 1
expect "... within the last minute" "$(jq --argjson now "$(date +%s)" '[.frames[].time | select(. > $now - 60 and . <= $now + 1)] | length' "$TMP/a.json")" -eq 20
# snaplen: the first 42 bytes, the length as it was
capture_start b capture mon count 4 snaplen 42 -w "$TMP/b.pcap" || case_failed=1
in_a $UDP send 10.10.0.2 17002 --sport 5003 --count 4 --size 500 > /dev/null
check "snaplen capture ends" capture_wait
$PCAP "$TMP/b.pcap" > "$TMP/b.json" || case_failed=1
expect "snaplen 42: 42 bytes of each, its length" "$(jq '[.frames[] | select(.caplen == 42 and .len == 14 + 20 + 8 + 500)] | length' "$TMP/b.json")" -eq 4
check "tcpdump reads it" tcpdump -nn -r "$TMP/b.pcap"
# -w -: the file on standard output
capture_start c capture mon count 2 -w - > "$TMP/c.pcap" || case_failed=1
in_a $UDP send fd00::2 17002 --sport 5004 --count 2 > /dev/null
check "-w - ends" capture_wait
check "-w -: tcpdump reads standard output's file" output_has "fd00::1.5004 > fd00::2.17002: UDP" \
	tcpdump -nn -r "$TMP/c.pcap"
case_end "capture_writes_a_pcap_that_tcpdump_reads"

# ---- 3: lines, JSON, sampling ----
# count 3 of a burst of 50: 3, though the ring holds them all at once
capture_start l capture mon count 3 > "$TMP/l.txt" || case_failed=1
in_a $UDP send 10.10.0.2 17003 --sport 5005 --count 50 > /dev/null
check "line capture ends" capture_wait
expect "a line a frame, 3 of them" "$(grep -cE '^[0-9:]{8}\.[0-9]{9} veth1 ipv4 udp 10\.10\.0\.1:5005 > 10\.10\.0\.2:17003, length 106$' "$TMP/l.txt")" -eq 3
expect "... and nothing else" "$(wc -l < "$TMP/l.txt")" -eq 3
check "it says 3" grep -q "^3 frames captured" "$TMP/l.err"
capture_start j -j capture mon count 2 > "$TMP/j.txt" || case_failed=1
in_a $UDP send fd00::2 17003 --sport 5006 --count 2 --payload json-capture > /dev/null
check "JSON capture ends" capture_wait
t=$(printf json-capture | od -An -tx1 | tr -d ' \n')
expect "a JSON object a frame, its bytes in hex" "$(jq -c --arg t "$t" 'select(.family == "ipv6" and .sport == 5006 and .dport == 17003 and .dev == "veth1" and .len == 82 and .caplen == 82 and (.data | endswith($t)) and (.data | length) == 164)' "$TMP/j.txt" | wc -l)" -eq 2
capture_start s capture mon sample 10 -w "$TMP/s.pcap" || case_failed=1
in_a $UDP send 10.10.0.2 17004 --sport 5007 --count 1000 > /dev/null
sleep 0.3
kill -INT $CAP_PID
check "a capture ends at Ctrl-C" capture_wait
# (a here-string: a guest's /dev has no /dev/fd for <(...))
read -r got _ _ sampled _ lost _ <<< "$(grep "frames captured" "$TMP/s.err")"
[ -n "$got" ] || sed 's/^/#   its stderr: /' "$TMP/s.err"
# 1 in 10 of 1000 (and a few others): 100, sd 9.5
expect "1 in 10 sampled" "$sampled" -ge 50
expect "... not more" "$sampled" -le 170
expect "captured = sampled - lost" "$got" -eq $((sampled - lost))
expect "the file has them" "$($PCAP "$TMP/s.pcap" | jq '.frames | length')" -eq "$got"
case_end "capture_prints_lines_json_and_samples"

# ---- 4: one capture at a time; none outlives its monitor ----
capture_start o1 capture mon -w "$TMP/o1.pcap" || case_failed=1
p1=$CAP_PID
in_a $UDP send 10.10.0.2 17005 --count 3 > /dev/null
check_fail "a second capture" "being captured already (pid $p1)" tdm capture mon count 1 -w "$TMP/o1.pcap"
expect "... leaves the first's file be" "$(stat -c %s "$TMP/o1.pcap")" -ge 24
kill -9 $p1
wait $p1 2>/dev/null
expect "a killed capture leaves its ring" "$(rings_used)" -eq 1
capture_start o2 capture mon count 1 -w "$TMP/o2.pcap" || case_failed=1
in_a $UDP send 10.10.0.2 17005 --count 1 > /dev/null
check "a dead one's is taken over" capture_wait
expect "... and none left when it ends" "$(rings_used)" -eq 0
capture_start o3 capture mon -w /dev/null || case_failed=1
kill -TERM $CAP_PID
check "SIGTERM ends a capture" capture_wait
expect "... leaving no ring" "$(rings_used)" -eq 0
# a pipe whose reader goes (tcpdump -c N): done, no error, no ring
in_a $UDP send 10.10.0.2 17005 --rate 100 --duration 3 > /dev/null &
spid=$!
tdm capture mon -w - 2> "$TMP/o5.err" | head -c 200 > /dev/null
expect "a capture into a closed pipe ends well" "${PIPESTATUS[0]}" -eq 0
wait $spid
expect "... quietly" "$(grep -vc -e '^capturing on' -e 'frames captured' "$TMP/o5.err")" -eq 0
expect "... leaving no ring" "$(rings_used)" -eq 0
id=$(tdm -j nf show mon | jq '.[0].id')
s0=$(bpftool -j map lookup pinned $PIN/tdm_monitor_captures key $id 0 0 0 | jq '.formatted.value.sampled')
in_a $UDP send 10.10.0.2 17005 --count 5 > /dev/null
expect "no frame is copied without a capture" \
	"$(bpftool -j map lookup pinned $PIN/tdm_monitor_captures key $id 0 0 0 | jq '.formatted.value.sampled')" -eq "$s0"
check "a second monitor" tdm nf add mon2 monitor
capture_start o4 capture mon2 -w /dev/null || case_failed=1
check "nf del" tdm nf del mon2
capture_wait
expect "a capture of a deleted monitor fails" $? -eq 1
check "... saying so" grep -q "the monitor was deleted" "$TMP/o4.err"
expect "... leaving no ring" "$(rings_used)" -eq 0
# the whole state removed (rm -rf of the pin directory): it ends too
TANDEM_PIN_ROOT=/sys/fs/bpf/other tdm nf add m monitor > /dev/null
TANDEM_PIN_ROOT=/sys/fs/bpf/other capture_start o6 capture m -w /dev/null ||
	case_failed=1
rm -rf /sys/fs/bpf/other
capture_wait
expect "a capture of a removed state fails" $? -eq 1
check "... saying so" grep -q "the monitor was deleted" "$TMP/o6.err"
case_end "one_capture_at_a_time_and_none_outlives_its_monitor"

# ---- 5: bad words ----
# User space alone: the VMs leave it to the host (USERSPACE_CASES=0).
if [ "${USERSPACE_CASES:-1}" = 0 ]; then
	case_skip "bad_words_fail_with_one_line_and_change_nothing" \
		"user space alone: the host runs it"
else
tdm dump > "$TMP/before"
n=0
bad=0
try_bad()
{
	local rc
	n=$((n + 1))
	timeout 10 nsenter --net=/run/netns/"$NS_B" "$TANDEM" "$@" \
		> "$TMP/bad.out" 2> "$TMP/bad.err" < /dev/null
	rc=$?
	if [ $rc -ne 1 ] && [ $rc -ne 2 ] || [ "$(wc -l < "$TMP/bad.err")" -ne 1 ] ||
	   ! grep -q "^tandem: " "$TMP/bad.err"; then
		[ $bad -lt 5 ] && echo "# '$*': exit $rc, stderr: $(head -3 "$TMP/bad.err")"
		bad=$((bad + 1))
	fi
}
NUMS=("" 0 -1 " 1" "1 " +1 0x10 1.5 1e2 x 4294967296 99999999999999999999)
for v in "${NUMS[@]}" 4097; do
	try_bad capture mon snaplen "$v"
done
for v in "${NUMS[@]}"; do
	try_bad capture mon count "$v"
	try_bad capture mon sample "$v"
	try_bad top mon --limit "$v"
	try_bad top mon --count "$v"
	try_bad nf add m2 monitor size "$v"
done
for v in "" 0 0.05 3601 -1 x 1e0 nan; do
	try_bad top mon --interval "$v"
done
for v in "" BPS rate foo 1; do
	try_bad top mon --sort "$v"
done
for w in "" nosuch cnt "$(printf 'a\tb')" "$(head -c 300 /dev/zero | tr '\0' x)"; do
	try_bad capture "$w"
	try_bad top "$w"
	try_bad monitor show "$w"
	try_bad monitor flush "$w"
done
try_bad capture
try_bad capture mon extra
try_bad capture mon count
try_bad capture mon -w
try_bad capture mon count 1 count 2
try_bad capture mon -w "$TMP/no/such/dir/x.pcap"
try_bad capture mon -w "$TMP"
try_bad top mon mon2
try_bad top mon --frob
try_bad monitor show
try_bad monitor frob mon
try_bad nf add m2 monitor size 10
try_bad nf add m2 monitor frob 1
try_bad nf add m2 monitor size
try_bad -j capture nosuch
echo "# $n bad command lines"
expect "each failed with one line on stderr" "$bad" -eq 0
tdm dump > "$TMP/after"
check "the state is as it was" diff "$TMP/before" "$TMP/after"
expect "... no ring" "$(rings_used)" -eq 0
expect "... no stray file" "$(ls "$TMP" | grep -c '^x.pcap$')" -eq 0
case_end "bad_words_fail_with_one_line_and_change_nothing"
fi

# ---- 6: policy files ----
check "detach" tdm dev detach veth1
cat > "$TMP/p.policy" <<EOF
nf add pm monitor size 2048
chain add pc pm
dev attach veth1 chain pc
EOF
check "apply" tdm apply "$TMP/p.policy"
check "its size" output_has "monitor  *size 2048" tdm nf show pm
in_a $UDP send 10.10.0.2 17006 --sport 5010 --count 7 > /dev/null
expect "it counts" "$(flow_field "$(tdm -j monitor show pm)" 10.10.0.1 5010 packets)" -eq 7
tdm dump > "$TMP/dump.policy"
check "the dump has it" grep -q "^nf add pm monitor size 2048$" "$TMP/dump.policy"
check "the dump applies back" tdm apply "$TMP/dump.policy"
expect "... with no change" "$(tdm dump | diff - "$TMP/dump.policy" | wc -l)" -eq 0
expect "... its flows kept" "$(flow_field "$(tdm -j monitor show pm)" 10.10.0.1 5010 packets)" -eq 7
case_end "a_policy_file_makes_a_monitor_and_its_dump_applies_back"

ktap_finish
