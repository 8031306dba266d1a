#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The lb NF driven by the CLI, with real clients and backends:
#
#   ns A (client)    veth0 10.0.0.2/24 fd00::2/64, default via ns B
#   ns B (balancer)  veth1 10.0.0.1 fd00::1; veth2 10.1.1.1 fd01:1::1;
#                    veth4 10.1.2.1 fd01:2::1        <- tandem runs here
#   ns C, ns D       backends 10.1.1.2 fd01:1::2 and 10.1.2.2 fd01:2::2
#
# TCP to vip 198.51.100.10:80 and UDP to [2001:db8:10::10]:9000 spread
# over both backends, whose servers see the client's own address and
# whose answers come back from the vip; an open connection outlives a
# drain of its backend, which takes no new one; a deleted backend's
# flows go to the other; bad commands change nothing.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 timeout jq

TCP_ECHO="$TOP/selftests/lib/tcp_echo.py"
UDP_ECHO="$TOP/selftests/lib/udp_echo.py"
NS_C=tdmC$$
NS_D=tdmD$$

ktap_plan 7

setup_lb()
{
	ip netns add "$NS_A" && ip netns add "$NS_B" && ip netns add "$NS_C" &&
		ip netns add "$NS_D" || return 1
	ip -n "$NS_A" link add veth0 type veth peer name veth1 netns "$NS_B" &&
	ip -n "$NS_C" link add veth3 type veth peer name veth2 netns "$NS_B" &&
	ip -n "$NS_D" link add veth5 type veth peer name veth4 netns "$NS_B" ||
		return 1
	ip -n "$NS_A" addr add 10.0.0.2/24 dev veth0
	ip -n "$NS_A" addr add fd00::2/64 dev veth0 nodad
	ip -n "$NS_B" addr add 10.0.0.1/24 dev veth1
	ip -n "$NS_B" addr add fd00::1/64 dev veth1 nodad
	ip -n "$NS_B" addr add 10.1.1.1/24 dev veth2
	ip -n "$NS_B" addr add fd01:1::1/64 dev veth2 nodad
	ip -n "$NS_B" addr add 10.1.2.1/24 dev veth4
	ip -n "$NS_B" addr add fd01:2::1/64 dev veth4 nodad
	ip -n "$NS_C" addr add 10.1.1.2/24 dev veth3
	ip -n "$NS_C" addr add fd01:1::2/64 dev veth3 nodad
	ip -n "$NS_D" addr add 10.1.2.2/24 dev veth5
	ip -n "$NS_D" addr add fd01:2::2/64 dev veth5 nodad
	for l in "$NS_A veth0" "$NS_B veth1" "$NS_B veth2" "$NS_B veth4" \
		 "$NS_C veth3" "$NS_D veth5"; do
		set -- $l
		ip -n "$1" link set lo up
		ip -n "$1" link set "$2" up
	done
	ip -n "$NS_A" route add default via 10.0.0.1 &&
	ip -n "$NS_A" -6 route add default via fd00::1 &&
	ip -n "$NS_C" route add default via 10.1.1.1 &&
	ip -n "$NS_C" -6 route add default via fd01:1::1 &&
	ip -n "$NS_D" route add default via 10.1.2.1 &&
	ip -n "$NS_D" -6 route add default via fd01:2::1 || return 1
	ip netns exec "$NS_B" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1
}

# talk ADDR PORT: a TCP connection from ns A, a line echoed
talk()
{
	ip netns exec "$NS_A" timeout 5 bash -c '
		exec 3<>"/dev/tcp/$0/$1" || exit 1
		echo "hello $0" >&3
		read -r -t 3 line <&3 && [ "$line" = "hello $0" ]' "$1" "$2"
}

# backend_json ADDR KEY: a field of lb show web's backend ADDR
backend_field()
{
	tdm -j lb show "$1" | jq -r --arg a "$2" --arg k "$3" \
		'.backends[] | select(.addr == $a) | .[$k]'
}

setup_lb || { echo "# netns setup failed"; exit $KSFT_FAIL; }
PIDS=""
for ns in "$NS_C" "$NS_D"; do
	ip netns exec "$ns" python3 "$TCP_ECHO" 80 "$TMP/$ns.tready" >> "$TMP/$ns.tcp" &
	PIDS="$PIDS $!"
	ip netns exec "$ns" python3 "$UDP_ECHO" serve 9000 "$TMP/$ns.uready" >> "$TMP/$ns.udp" &
	PIDS="$PIDS $!"
done
trap 'kill $PIDS 2>/dev/null; ip netns del "$NS_C" 2>/dev/null; ip netns del "$NS_D" 2>/dev/null; cleanup' EXIT
for i in $(seq 600); do
	[ -e "$TMP/$NS_C.tready" ] && [ -e "$TMP/$NS_D.tready" ] &&
		[ -e "$TMP/$NS_C.uready" ] && [ -e "$TMP/$NS_D.uready" ] && break
	sleep 0.05
done

check "nf add web" tdm nf add web lb vip 198.51.100.10 proto tcp port 80
check "nf add web6" tdm nf add web6 lb vip 2001:db8:10::10 proto udp port 9000 table 1009
check "chain add" tdm chain add front web web6
for d in veth1 veth2 veth4; do
	check "attach $d" tdm dev attach $d chain front
done
if talk 198.51.100.10 80 2>/dev/null; then
	echo "# check failed: a connection without a backend"
	case_failed=1
fi
check "lb add web 10.1.1.2" tdm lb add web 10.1.1.2
check "lb add web 10.1.2.2" tdm lb add web 10.1.2.2 weight 1
check "lb add web6 fd01:1::2" tdm lb add web6 fd01:1::2
check "lb add web6 fd01:2::2" tdm lb add web6 fd01:2::2
output_has "vip 198.51.100.10 proto tcp port 80 table 65537 size 65536" tdm nf show web
expect "web's backends share its table" \
	"$(($(backend_field web 10.1.1.2 slots) + $(backend_field web 10.1.2.2 slots)))" -eq 65537
case_end "lb_from_the_cli"

for i in $(seq 16); do
	check "TCP connection $i to the vip" talk 198.51.100.10 80
done
expect "16 UDP flows to the IPv6 vip" \
	"$(ip netns exec "$NS_A" python3 "$UDP_ECHO" ask 2001:db8:10::10 9000 --sport 30001 --count 16 | sort | uniq -c | tr -s ' ')" = " 16 echo"
nc=$(wc -l < "$TMP/$NS_C.tcp")
nd=$(wc -l < "$TMP/$NS_D.tcp")
expect "both backends got TCP connections ($nc, $nd)" "$nc" -ge 1
expect "... both ($nc, $nd)" "$nd" -ge 1
expect "... 16 in all" "$((nc + nd))" -eq 16
expect "the backends saw the client's own address" \
	"$(sort -u "$TMP/$NS_C.tcp" "$TMP/$NS_D.tcp")" = "::ffff:10.0.0.2"
uc=$(wc -l < "$TMP/$NS_C.udp")
ud=$(wc -l < "$TMP/$NS_D.udp")
expect "both backends got UDP flows ($uc, $ud)" "$uc" -ge 1
expect "... both ($uc, $ud)" "$ud" -ge 1
expect "lb show counts the flows" \
	"$(($(backend_field web6 fd01:1::2 flows) + $(backend_field web6 fd01:2::2 flows)))" -eq 16
case_end "flows_spread_over_the_backends_and_come_back_from_the_vip"

# an open connection; its backend drained; the connection goes on,
# new ones go to the other backend
nc=$(wc -l < "$TMP/$NS_C.tcp")
ip netns exec "$NS_A" python3 - 198.51.100.10 80 "$TMP/held" > "$TMP/held.out" 2>&1 <<'EOF' &
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b"one\n")
assert s.recv(64) == b"one\n"
open(sys.argv[3] + ".open", "w").close()
while not os.path.exists(sys.argv[3] + ".go"):
    time.sleep(0.05)
s.sendall(b"two\n")
print("held" if s.recv(64) == b"two\n" else "lost")
EOF
HELD=$!
for i in $(seq 200); do [ -e "$TMP/held.open" ] && break; sleep 0.05; done
# its backend: the one whose server saw one more connection
if [ "$(wc -l < "$TMP/$NS_C.tcp")" -gt "$nc" ]; then
	held=10.1.1.2 other=10.1.2.2 other_ns=$NS_D
else
	held=10.1.2.2 other=10.1.1.2 other_ns=$NS_C
fi
check "lb drain web $held" tdm lb drain web $held
expect "drained" "$(backend_field web $held state)" = draining
expect "no slot left to it" "$(backend_field web $held slots)" -eq 0
touch "$TMP/held.go"
wait $HELD
expect "the open connection outlives the drain" "$(cat "$TMP/held.out")" = held
before=$(wc -l < "$TMP/$other_ns.tcp")
for i in $(seq 6); do
	check "new connection $i" talk 198.51.100.10 80
done
expect "all six went to $other" "$(($(wc -l < "$TMP/$other_ns.tcp") - before))" -eq 6
check "lb enable web $held" tdm lb enable web $held
case_end "an_open_connection_outlives_a_drain"

# deleted: its flows go to the other backend
check "lb del web6 fd01:1::2" tdm lb del web6 fd01:1::2
before=$(wc -l < "$TMP/$NS_D.udp")
expect "16 UDP flows after the delete" \
	"$(ip netns exec "$NS_A" python3 "$UDP_ECHO" ask 2001:db8:10::10 9000 --sport 30001 --count 16 | sort | uniq -c | tr -s ' ')" = " 16 echo"
expect "every flow now at fd01:2::2" "$(($(wc -l < "$TMP/$NS_D.udp") - before))" -eq 16
expect "web6 has one backend" "$(tdm -j lb show web6 | jq '.backends | length')" -eq 1
case_end "a_deleted_backends_flows_go_to_the_others"

# bad commands: refused, nothing changed (user space alone: the VMs
# leave it to the host, USERSPACE_CASES=0)
if [ "${USERSPACE_CASES:-1}" = 0 ]; then
	case_skip "bad_commands_change_nothing" "user space alone: the host runs it"
else
state=$(tdm -j lb show web)
check_fail "a backend of another family" "IPv6" tdm lb add web fd01:1::9
check_fail "a bad address" "bad backend address" tdm lb add web 10.1.1.300
check_fail "twice" "already" tdm lb add web 10.1.1.2
for b in 127.0.0.1 0.0.0.0 224.0.0.5 255.255.255.255 198.51.100.10; do
	check_fail "backend $b" "cannot take flows" tdm lb add web $b
done
check_fail "backend ::1" "cannot take flows" tdm lb add web6 ::1
check_fail "backend ff02::1" "cannot take flows" tdm lb add web6 ff02::1
check_fail "weight 0" "weight" tdm lb add web 10.1.1.9 weight 0
check_fail "weight 1001" "weight" tdm lb add web 10.1.1.9 weight 1001
check_fail "no such backend" "no backend" tdm lb drain web 10.1.1.9
check_fail "no such NF" "nosuch" tdm lb show nosuch
check "nf add cnt" tdm nf add cnt counter
check_fail "not an lb" "not an lb" tdm lb add cnt 10.1.1.2
check_fail "a table not a prime" "prime" tdm nf add bad lb vip 10.9.9.9 proto tcp table 65536
check_fail "proto icmp" "tcp or udp" tdm nf add bad lb vip 10.9.9.9 proto icmp
check_fail "no vip" "vip" tdm nf add bad lb proto tcp
expect "web unchanged" "$(tdm -j lb show web)" = "$state"
case_end "bad_commands_change_nothing"
fi

# forward encap (direct server return): the backends decapsulate with
# the kernel's fallback tunnels (tunl0, ip6tnl0: modules the VMs'
# kernels have and this host's lacks), own the vip, and answer the
# client themselves
encap_backends()
{
	local ns
	modprobe -q ipip 2>/dev/null
	modprobe -q ip6_tunnel 2>/dev/null
	for ns in "$NS_C" "$NS_D"; do
		ip -n "$ns" link set tunl0 up 2>/dev/null &&
			ip -n "$ns" link set ip6tnl0 up 2>/dev/null || return 1
		ip -n "$ns" addr add 198.51.100.30/32 dev lo &&
			ip -n "$ns" addr add 2001:db8:30::30/128 dev lo nodad || return 1
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.tunl0.rp_filter=0 || return 1
		# servers bound to the vip: their answers leave from it (one
		# bound to any address would answer from the backend's own)
		for v in 198.51.100.30 2001:db8:30::30; do
			ip netns exec "$ns" python3 "$UDP_ECHO" serve 9100 \
				"$TMP/$ns.$v.ready" "$v" >> "$TMP/$ns.dsr" &
			PIDS="$PIDS $!"
		done
	done
	for i in $(seq 600); do
		[ "$(ls "$TMP" | grep -c '\.ready$')" -ge 4 ] && return 0
		sleep 0.05
	done
	return 1
}
if ! encap_backends; then
	case_skip "encap_backends_answer_the_client_directly" \
		"no ipip or ip6_tunnel in this kernel"
else
	# an outer source the balancer does not own: a forwarded packet
	# from its own address would need accept_local
	check "nf add dsr" tdm nf add dsr lb vip 198.51.100.30 proto udp port 9100 \
		forward encap source 192.0.2.1
	check "nf add dsr6" tdm nf add dsr6 lb vip 2001:db8:30::30 proto udp \
		forward encap source 2001:db8:ff::1
	check "its parameters" output_has "forward encap source 192.0.2.1" tdm nf show dsr
	for b in 10.1.1.2 10.1.2.2; do check "lb add dsr $b" tdm lb add dsr $b; done
	for b in fd01:1::2 fd01:2::2; do check "lb add dsr6 $b" tdm lb add dsr6 $b; done
	check_fail "a backend port" "encap" tdm lb add dsr 10.1.1.9 port 8080
	check "chain add" tdm chain add dsrchain dsr dsr6
	check "attach veth1" tdm dev attach veth1 chain dsrchain
	# 12 flows a family, one client process each (python's start
	# costs seconds in a TCG guest)
	expect "12 UDP flows to the encap vip" \
		"$(ip netns exec "$NS_A" python3 "$UDP_ECHO" ask 198.51.100.30 9100 --sport 31001 --count 12 | sort | uniq -c | tr -s ' ')" = " 12 echo"
	expect "12 UDP flows to the IPv6 encap vip" \
		"$(ip netns exec "$NS_A" python3 "$UDP_ECHO" ask 2001:db8:30::30 9100 --sport 31001 --count 12 | sort | uniq -c | tr -s ' ')" = " 12 echo"
	uc=$(wc -l < "$TMP/$NS_C.dsr")
	ud=$(wc -l < "$TMP/$NS_D.dsr")
	if [ $((uc + ud)) -ne 24 ]; then
		# where the datagrams went: the backends' tunnels, their UDP
		ip -n "$NS_C" -s link show tunl0 | sed 's/^/#   C tunl0: /'
		ip -n "$NS_C" -s link show ip6tnl0 | sed 's/^/#   C ip6tnl0: /'
		ip -n "$NS_C" -s link show veth3 | sed 's/^/#   C veth3: /'
		ip netns exec "$NS_C" cat /proc/net/snmp | grep -E "^(Ip|Udp):" | sed 's/^/#   C snmp: /'
		tdm -j stats nf dsr | sed 's/^/#   B dsr: /'
		ip netns exec "$NS_B" cat /proc/net/snmp | grep -E "^Ip:" | sed 's/^/#   B snmp: /'
	fi
	expect "both backends answered ($uc, $ud)" "$uc" -ge 1
	expect "... both ($uc, $ud)" "$ud" -ge 1
	expect "... all 24" "$((uc + ud))" -eq 24
	expect "the backends saw the client" \
		"$(cat "$TMP/$NS_C.dsr" "$TMP/$NS_D.dsr" | awk '{print $1}' | sort -u | tr '\n' ' ')" = "10.0.0.2 fd00::2 "
	expect "lb show counts its live flows" \
		"$(($(backend_field dsr 10.1.1.2 flows) + $(backend_field dsr 10.1.2.2 flows)))" -ge 1
	check "attach veth1 back" tdm dev attach veth1 chain front
	case_end "encap_backends_answer_the_client_directly"
fi

# deleted NF: nothing pinned
id=$(tdm -j nf show web6 | jq '.[0].id')
for d in veth1 veth2 veth4; do
	check "detach $d" tdm dev detach $d
done
check "chain del" tdm chain del front
check "nf del web6" tdm nf del web6
expect "no table left" "$(ls /sys/fs/bpf/tandem | grep -c "^tdm_lb_\(slots_\)\?$id\$")" -eq 0
if talk 198.51.100.10 80 2>/dev/null; then
	echo "# check failed: the vip answered after the detach"
	case_failed=1
fi
case_end "del_leaves_nothing"

ktap_finish
