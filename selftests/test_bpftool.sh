#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A sysadmin reads the state with bpftool: every map has BTF (but the
# prog array, which cannot), and the sparse tables (steering rules, NFs,
# chains, firewall rule sets) list exactly what exists, not free slots.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 bpftool

PIN=/sys/fs/bpf/tandem
ktap_plan 3
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }

check "nf fw" tdm nf add fw firewall default pass
check "nf fw2" tdm nf add fw2 firewall default drop
check "nf cnt" tdm nf add cnt counter
check "rule" tdm rule add fw proto udp dport 53 action drop
check "chain a" tdm chain add a fw cnt
check "chain b" tdm chain add b fw2
for p in 1 2 3 4 5; do
	check "steer rule $p" tdm steer add veth1 proto udp dport $((1000 + p)) chain b
done
check "steer exact" tdm steer add veth1 src 10.10.0.1 dst 10.10.0.2 proto udp sport 1 dport 2 chain b
check "attach" tdm dev attach veth1 chain a
case_end "state_made"

# entries MAP: how many entries bpftool lists
entries()
{
	bpftool -j map dump pinned "$PIN/$1" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

expect "steering rules: the 5 rules" "$(entries tdm_steer_rules)" -eq 5
expect "exact entries: the one" "$(entries tdm_steer_flows)" -eq 1
expect "NFs: the 3" "$(entries tdm_nfs)" -eq 3
expect "chains: the 2" "$(entries tdm_chains)" -eq 2
expect "firewall rule sets: 2 per firewall" "$(entries tdm_fw_rules)" -eq 4
expect "devices: the 1" "$(entries tdm_devs)" -eq 1
check "a rule reads as a rule" output_has '"dport_lo": 1003' \
	bpftool map dump pinned "$PIN/tdm_steer_rules"
check "an NF reads by name" output_has '"name": "fw2"' \
	bpftool map dump pinned "$PIN/tdm_nfs"
check "default chain b" tdm dev attach veth1 chain b
check "chain del" tdm chain del a
check "nf del" tdm nf del cnt
expect "NFs after a delete" "$(entries tdm_nfs)" -eq 2
expect "chains after a delete" "$(entries tdm_chains)" -eq 1
check "steer del" tdm steer del veth1 3
expect "steering rules after a delete" "$(entries tdm_steer_rules)" -eq 4
case_end "sparse_tables_list_what_exists"

# every map but the prog array, the XSKMAP and the conntracks' array of
# tables (fd maps: the kernel refuses BTF for them, map_check_no_btf)
# has BTF: bpftool prints named fields (each conntrack's own table,
# tdm_ct_<id>, too: test_conntrack.sh)
nobtf=$(for m in "$PIN"/tdm_*; do
	bpftool -j map show pinned "$m" | python3 -c 'import json,sys
m = json.load(sys.stdin)
if not m.get("btf_id") and m["type"] not in ("prog_array", "xskmap", "array_of_maps"): print(m["name"])'
done)
expect "maps without BTF: '$nobtf'" "$(echo -n "$nobtf" | wc -w)" -eq 0
# an NF's parameters read as its type's struct (bpf/lib/maps.h), its
# private maps (declared in its BPF file) are pinned with the others
check "a policer" tdm nf add pol policer rate 2500pps burst 7
check "its rate reads by name" output_has '"rate": 2500' \
	bpftool map dump pinned "$PIN/tdm_nfs"
check "its burst too" output_has '"burst": 7' \
	bpftool map dump pinned "$PIN/tdm_nfs"
check "a firewall's parameters" output_has '"unparsed_action": 1' \
	bpftool map dump pinned "$PIN/tdm_nfs"
for m in tdm_fw_rules tdm_policer tdm_policer_src; do
	check "NF map $m is pinned" test -e "$PIN/$m"
done
case_end "every_map_has_btf"

ktap_finish
