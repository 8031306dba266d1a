#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The nat NF on a router, driven by the CLI, IPv4 and IPv6:
#
#   ns A (client)  veth0 10.20.0.2/24 fd20::2/64, default via the router
#   ns B (router)  veth1 10.20.0.1/24 fd20::1/64      <- tandem runs here
#                  veth2 198.51.100.1/24 2001:db8:5::1/64
#   ns S (server)  veth3 198.51.100.2/24 2001:db8:5::2/64, no route back
#
# The same nat NFs run in the chains of both router devices. Clients
# behind snat reach the server (TCP, UDP, fragmented UDP, ping, and the
# ICMP errors come back) though it has no route to them; its servers see
# the router's address. dnat forwards a router port to the client. Every
# sender computes its checksums (tx offload off), so the receiving
# kernels check each rewritten one. Without the NFs nothing gets through.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 timeout ethtool jq

TCP_ECHO="$TOP/selftests/lib/tcp_echo.py"
UDP_ECHO="$TOP/selftests/lib/udp_echo.py"
NS_S=tdmS$$

ktap_plan 11

setup_router()
{
	ip netns add "$NS_A" && ip netns add "$NS_B" && ip netns add "$NS_S" ||
		return 1
	ip -n "$NS_A" link add veth0 type veth peer name veth1 netns "$NS_B" &&
	ip -n "$NS_S" link add veth3 type veth peer name veth2 netns "$NS_B" ||
		return 1
	ip -n "$NS_A" addr add 10.20.0.2/24 dev veth0
	ip -n "$NS_A" addr add fd20::2/64 dev veth0 nodad
	ip -n "$NS_B" addr add 10.20.0.1/24 dev veth1
	ip -n "$NS_B" addr add fd20::1/64 dev veth1 nodad
	ip -n "$NS_B" addr add 198.51.100.1/24 dev veth2
	ip -n "$NS_B" addr add 2001:db8:5::1/64 dev veth2 nodad
	ip -n "$NS_S" addr add 198.51.100.2/24 dev veth3
	ip -n "$NS_S" addr add 2001:db8:5::2/64 dev veth3 nodad
	for l in "$NS_A veth0" "$NS_B veth1" "$NS_B veth2" "$NS_S veth3"; do
		set -- $l
		ip -n "$1" link set lo up
		ip -n "$1" link set "$2" up
		# the stack computes every checksum: the receiver checks them
		ip netns exec "$1" ethtool -K "$2" tx off > /dev/null || return 1
	done
	ip -n "$NS_A" route add default via 10.20.0.1 || return 1
	ip -n "$NS_A" -6 route add default via fd20::1 || return 1
	ip netns exec "$NS_B" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 || return 1
	# snat to the router's own address: the kernel then forwards a
	# packet whose source is its own (Documentation/cli.rst, "NAT")
	ip netns exec "$NS_B" sysctl -qw net.ipv4.conf.veth1.accept_local=1
}

in_s()
{
	ip netns exec "$NS_S" "$@"
}

# talk NS ADDR PORT: connect from NS, send a line, read it back
talk()
{
	ip netns exec "$1" timeout 5 bash -c '
		exec 3<>"/dev/tcp/$0/$1" || exit 1
		echo "hello $0" >&3
		read -r -t 3 line <&3 && [ "$line" = "hello $0" ]' "$2" "$3"
}

# ask NS ADDR PORT [ARGS]: udp_echo.py ask's answer (echo, refused, ...)
ask()
{
	local ns=$1
	shift
	ip netns exec "$ns" python3 "$UDP_ECHO" ask "$@"
}

# bindings NF: how many 'nat show' lists
bindings()
{
	tdm -j nat show "$1" | jq '.bindings | length'
}

# csum_errors NS: checksum errors its stack counted (IP, TCP, UDP, ICMP)
csum_errors()
{
	ip netns exec "$1" cat /proc/net/snmp /proc/net/snmp6 | awk '
		/^(Ip|Tcp|Udp|Icmp):/ && !h[$1] { for (i = 2; i <= NF; i++) c[$1, i] = $i; h[$1] = 1; next }
		/^(Ip|Tcp|Udp|Icmp):/ { for (i = 2; i <= NF; i++) if (c[$1, i] ~ /CsumErrors/) n += $i }
		/CsumErrors/ && NF == 2 { n += $2 }
		END { print n + 0 }'
}

setup_router || { echo "# netns setup failed"; exit $KSFT_FAIL; }
# not through a function: $! must be the server ('ip netns exec' execs)
ip netns exec "$NS_S" python3 "$TCP_ECHO" 8000 "$TMP/s.ready" > "$TMP/s.tcp" &
PIDS="$!"
ip netns exec "$NS_S" python3 "$UDP_ECHO" serve 9000 "$TMP/su.ready" >> "$TMP/s.udp" &
PIDS="$PIDS $!"
ip netns exec "$NS_A" python3 "$TCP_ECHO" 8000 "$TMP/a.ready" > "$TMP/a.tcp" &
PIDS="$PIDS $!"
ip netns exec "$NS_A" python3 "$UDP_ECHO" serve 9000 "$TMP/au.ready" >> "$TMP/a.udp" &
PIDS="$PIDS $!"
trap 'kill $PIDS 2>/dev/null; ip netns del "$NS_S" 2>/dev/null; cleanup' EXIT
for i in $(seq 600); do
	[ -e "$TMP/s.ready" ] && [ -e "$TMP/su.ready" ] &&
		[ -e "$TMP/a.ready" ] && [ -e "$TMP/au.ready" ] && break
	sleep 0.05
done

# without translation the server cannot answer: it has no route back
if talk "$NS_A" 198.51.100.2 8000 2>/dev/null; then
	echo "# check failed: the client reached the server without NAT"
	case_failed=1
fi
expect "no UDP echo without NAT" "$(ask "$NS_A" 2001:db8:5::2 9000)" = timeout
: > "$TMP/s.udp"
check "nf add masq" tdm nf add masq nat snat 198.51.100.1 src 10.20.0.0/24 out veth2
check "nf add masq6" tdm nf add masq6 nat snat 2001:db8:5::1 src fd20::/64 ports 2000-2999
check "nf add fwd" tdm nf add fwd nat dnat 10.20.0.2 dst 198.51.100.1 proto tcp dport 8080 ports 8000
# port 2500: in masq6's range, so that a client's own port may be it
check "nf add fwd6" tdm nf add fwd6 nat dnat fd20::2 dst 2001:db8:5::1 proto udp dport 2500 ports 9000
# each nat's bindings come before another's rule: inside, a dnat first
# (a reply from a forwarded port is its); outside, an snat first (a
# reply to a client is its, whatever port a dnat forwards)
check "chain add in" tdm chain add in fwd fwd6 masq masq6
check "chain add out" tdm chain add out masq masq6 fwd fwd6
check "attach veth1" tdm dev attach veth1 chain in
check "attach veth2" tdm dev attach veth2 chain out
output_has "snat 198.51.100.1 src 10.20.0.0/24 ports 1024-32767 out veth2 size 65536" \
	tdm nf show masq
case_end "nat_from_the_cli"

for a in 198.51.100.2 2001:db8:5::2; do
	check "TCP to $a:8000 and its echo" talk "$NS_A" $a 8000
	check "ping $a" in_a ping -c 2 -i 0.2 -W 2 $a
	expect "UDP echo from $a" "$(ask "$NS_A" $a 9000)" = echo
done
expect "the server's TCP peers are the router" \
	"$(sort "$TMP/s.tcp" | tr '\n' ' ')" = "2001:db8:5::1 ::ffff:198.51.100.1 "
expect "the server's UDP peers are the router" \
	"$(cut -d' ' -f1 "$TMP/s.udp" | sort | tr '\n' ' ')" = "198.51.100.1 2001:db8:5::1 "
port6=$(awk '$1 == "2001:db8:5::1" { print $2 }' "$TMP/s.udp")
expect "masq6 took a port of its range ($port6)" "$port6" -ge 2000
expect "... not above it" "$port6" -le 2999
# TCP, ICMP, UDP each
expect "masq has 3 bindings" "$(bindings masq)" -eq 3
expect "masq6 has 3 bindings" "$(bindings masq6)" -eq 3
j=$(tdm -j nat show masq)
expect "a binding's translated source" \
	"$(jq -r '[.bindings[] | select(.proto == "udp")][0].to_src' <<< "$j")" = 198.51.100.1
expect "... and its replies counted" \
	"$(jq -r '[.bindings[] | select(.proto == "tcp")][0].reply_packets' <<< "$j")" -ge 2
case_end "clients_behind_snat_reach_a_server_with_no_route_to_them"

for a in 198.51.100.2 2001:db8:5::2; do
	# 3000 bytes: fragments both ways, the later ones without ports
	expect "a 3000-byte UDP echo from $a" "$(ask "$NS_A" $a 9000 --size 3000)" = echo
done
case_end "fragmented_datagrams_are_translated_both_ways"

for a in 198.51.100.2 2001:db8:5::2; do
	# the server's port unreachable quotes the translated datagram
	expect "ICMP port unreachable from $a reaches the socket" \
		"$(ask "$NS_A" $a 9001)" = refused
done
case_end "icmp_errors_about_translated_packets_come_back"

check "the server connects to the router's port 8080" talk "$NS_S" 198.51.100.1 8080
expect "the client's TCP server saw the server" "$(cat "$TMP/a.tcp")" = "::ffff:198.51.100.2"
expect "UDP to [2001:db8:5::1]:2500 reaches the client's port 9000" \
	"$(ask "$NS_S" 2001:db8:5::1 2500)" = echo
expect "the client's UDP server saw the server" \
	"$(cut -d' ' -f1 "$TMP/a.udp")" = "2001:db8:5::2"
if talk "$NS_S" 198.51.100.1 8081 2>/dev/null; then
	echo "# check failed: port 8081 was forwarded"
	case_failed=1
fi
expect "fwd has 1 binding" "$(bindings fwd)" -eq 1
# a client whose source port is the one fwd6 forwards (masq6 keeps
# it): the server's answer is masq6's to translate, not fwd6's
expect "UDP from port 2500 behind masq6" \
	"$(ask "$NS_A" 2001:db8:5::2 9000 --sport 2500)" = echo
case_end "dnat_forwards_a_port_to_the_client"

for ns in "$NS_A" "$NS_B" "$NS_S"; do
	expect "no checksum errors in $ns" "$(csum_errors "$ns")" -eq 0
done
case_end "every_rewritten_checksum_is_right"

# the router's own address is not forwarded: not translated
n=$(bindings masq)
check "ping the router" in_a ping -c 1 -W 2 10.20.0.1
expect "no binding for a packet to the router" "$(bindings masq)" -eq "$n"
check "nat flush masq" tdm nat flush masq
expect "flushed" "$(bindings masq)" -eq 0
check "TCP again after the flush" talk "$NS_A" 198.51.100.2 8000
check_fail "nat show of no such NF" "nosuch" tdm nat show nosuch
check "nf add cnt" tdm nf add cnt counter
check_fail "nat show of an NF of another type" "not a nat" tdm nat show cnt
case_end "only_forwarded_packets_bind_and_flush_forgets"

# masquerade: the source the route out of veth2 gives, which follows
# the device's address; refused where bpf_fib_lookup() cannot give it
# (before 6.7, unless backported: Debian's 6.1 has it)
IFS=. read -r kmaj kmin _ <<< "$(uname -r)"
if ! tdm nf add mq nat snat masquerade out veth2 > "$TMP/mq.out" 2>&1; then
	expect "the refusal says why" "$(grep -c "needs Linux 6.7" "$TMP/mq.out")" -eq 1
	expect "only before 6.7 ($(uname -r))" \
		"$([ "$kmaj" -lt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -lt 7 ]; } && echo old)" = old
	expect "no NF mq" "$(tdm -j nf show | jq '[.[] | select(.name == "mq")] | length')" -eq 0
else
	check "chain replace in" tdm chain replace in fwd fwd6 mq
	check "chain replace out" tdm chain replace out mq fwd fwd6
	ip -n "$NS_B" addr del 198.51.100.1/24 dev veth2
	ip -n "$NS_B" addr add 198.51.100.4/24 dev veth2
	check "TCP to the server, masqueraded" talk "$NS_A" 198.51.100.2 8000
	expect "the server saw the device's new address" \
		"$(tail -n 1 "$TMP/s.tcp")" = "::ffff:198.51.100.4"
	expect "UDP echo over IPv6" "$(ask "$NS_A" 2001:db8:5::2 9000)" = echo
	expect "the server saw the device's IPv6 address" \
		"$(tail -n 1 "$TMP/s.udp" | cut -d' ' -f1)" = "2001:db8:5::1"
	ip -n "$NS_B" addr del 198.51.100.4/24 dev veth2
	ip -n "$NS_B" addr add 198.51.100.1/24 dev veth2
	check "chain replace in" tdm chain replace in fwd fwd6 masq masq6
	check "chain replace out" tdm chain replace out masq masq6 fwd fwd6
	check "nf del mq" tdm nf del mq
fi
case_end "masquerade_takes_the_address_of_the_route"

# bad parameters: each refused with a message naming the fault, and no
# NF made. Every parameter's bad values, on an otherwise good line.
# User space alone: the VMs leave it to the host (USERSPACE_CASES=0).
if [ "${USERSPACE_CASES:-1}" = 0 ]; then
	case_skip "bad_parameters_are_refused_and_change_nothing" "user space alone: the host runs it"
else
n=$(tdm -j nf show | jq length)
bad=0
while IFS='|' read -r params msg; do
	[ -n "$params" ] || continue
	if out=$(tdm nf add bad nat $params 2>&1); then
		echo "# check failed: 'nf add bad nat $params' was taken"
		bad=$((bad + 1))
	elif ! grep -qF -- "$msg" <<< "$out"; then
		echo "# check failed: 'nf add bad nat $params' said '$out', not '$msg'"
		bad=$((bad + 1))
	fi
done <<'EOF'
|give one of
snat 1.2.3.4 dnat 1.2.3.5|give one of
snat 1.2.3.400|bad snat address
snat 1.2.3.4/24|bad snat address
snat ::ffff:1.2.3.4|bad snat address
snat host.example|bad snat address
snat 1.2.3.4-|bad snat address
snat -1.2.3.4|bad snat address
snat 1.2.3.4-2001:db8::1|bad snat address
snat 1.2.3.9-1.2.3.4|bad snat range
snat 10.0.0.0-10.1.0.0|bad snat range
snat 2001:db8::1-2001:db9::1|bad snat range
dnat 1.2.3.4 src 10.0.0.0/8|is for snat
snat 1.2.3.4 dst 10.0.0.0/8|is for dnat
dnat 1.2.3.4 out veth1|is for snat
snat 1.2.3.4 src fd00::/64|is IPv6
snat 2001:db8::1 src 10.0.0.0/8|is IPv4
snat 1.2.3.4 src 10.0.0.0/33|10.0.0.0/33
snat 1.2.3.4 proto icmpv6|is IPv6's
snat 2001:db8::1 proto icmp|is IPv4's
snat 1.2.3.4 proto bogus|bogus
snat 1.2.3.4 dport 80|is for dnat
dnat 1.2.3.4 dport 80|needs 'proto tcp'
dnat 1.2.3.4 proto icmp dport 80|needs 'proto tcp'
dnat 1.2.3.4 proto tcp dport 0|bad dport
dnat 1.2.3.4 proto tcp dport 65536|bad dport
dnat 1.2.3.4 proto tcp dport 8o|bad dport
dnat 1.2.3.4 ports 80|needs 'proto tcp'
dnat 1.2.3.4 proto tcp ports 80-90|bad dnat ports
dnat 1.2.3.4 proto tcp ports 0|bad dnat ports
snat 1.2.3.4 ports 0-100|port 0 is no port
snat 1.2.3.4 ports 100-50|reversed
snat 1.2.3.4 ports 70000|bad port range
snat 1.2.3.4 ports x|bad port range
snat 1.2.3.4 out nosuchdev0|no device
snat 1.2.3.4 out aaaaaaaaaaaaaaaaaaaaaaaa|no device
snat 1.2.3.4 size 63|bad size
snat 1.2.3.4 size 4194305|bad size
snat 1.2.3.4 size -5|bad size
snat 1.2.3.4 size 1e3|bad size
snat masquerade -- x|process NFs only
dnat masquerade|bad dnat address
snat masquerade src 10.0.0.0/8 proto icmpv6|is IPv6's
snat 1.2.3.4 snat 1.2.3.5|twice
snat 1.2.3.4 colour blue|colour
snat|snat
EOF
expect "every bad line refused as it should be" "$bad" -eq 0
expect "no NF made" "$(tdm -j nf show | jq length)" -eq "$n"
case_end "bad_parameters_are_refused_and_change_nothing"
fi

# A stateful NAT router (cli.rst's layout): a conntrack inside of the
# nat on each device, and on the outside a firewall that passes only
# established and related packets (and untracked ICMPv6: neighbour
# discovery). The client's connections out work, their replies being
# established though the conntrack kept each flow as it came in, before
# the snat rewrote it; the server's connection to the forwarded port is
# new from outside, and dropped.
check "nf add rct" tdm nf add rct conntrack size 4096
check "nf add rfw" tdm nf add rfw firewall default drop
check "rule established,related" tdm rule add rfw prio 10 state established,related action pass
check "rule untracked icmpv6" tdm rule add rfw prio 20 state untracked proto icmpv6 action pass
check "chain replace in" tdm chain replace in rct fwd fwd6 masq masq6
check "chain replace out" tdm chain replace out masq masq6 fwd fwd6 rct rfw
for a in 198.51.100.2 2001:db8:5::2; do
	check "stateful: TCP to $a:8000 and its echo" talk "$NS_A" $a 8000
	check "stateful: ping $a" in_a ping -c 2 -i 0.2 -W 2 $a
	expect "stateful: UDP echo from $a" "$(ask "$NS_A" $a 9000)" = echo
done
if talk "$NS_S" 198.51.100.1 8080 2>/dev/null; then
	echo "# check failed: the server's new connection to the forwarded port passed"
	case_failed=1
fi
j=$(tdm -j conntrack show rct)
expect "the flows as the client sent them, replied" \
	"$(jq '[.flows[] | select((.src == "10.20.0.2" or .src == "fd20::2") and .replied)] | length' <<< "$j")" -ge 6
expect "rfw dropped the server's SYNs" "$(tdm -j stats nf rfw | jq '.drops')" -ge 1
check "chain replace in" tdm chain replace in fwd fwd6 masq masq6
check "chain replace out" tdm chain replace out masq masq6 fwd fwd6
case_end "a_stateful_nat_router_passes_replies_drops_new_from_outside"

# the state as a policy applies back unchanged; a deleted NF leaves
# nothing pinned; without the NFs the client cannot reach the server
tdm dump > "$TMP/dump.policy"
check "the dump applies back" tdm apply "$TMP/dump.policy"
expect "... with no change" "$(tdm dump | diff - "$TMP/dump.policy" | wc -l)" -eq 0
id=$(tdm -j nf show masq6 | jq '.[0].id')
check "detach veth1" tdm dev detach veth1
check "detach veth2" tdm dev detach veth2
if talk "$NS_A" 198.51.100.2 8000 2>/dev/null; then
	echo "# check failed: the client reached the server after the detach"
	case_failed=1
fi
check "chain del in" tdm chain del in
check "chain del out" tdm chain del out
check "nf del masq6" tdm nf del masq6
expect "its table is unpinned" "$(ls /sys/fs/bpf/tandem | grep -c "^tdm_nat_$id\$")" -eq 0
case_end "dump_applies_back_and_del_leaves_nothing"

ktap_finish
