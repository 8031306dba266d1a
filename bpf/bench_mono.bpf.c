// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * make bench's baseline: one program doing the work of the entry program
 * (the same tdm_entry_steer()) and of a chain of n counters, without tail
 * calls. A chain's cost minus this is the cost of chaining.
 */
#include "lib/entry.h"

const volatile __u32 n_hops = 1;
const volatile __u32 nf_ids[TDM_MAX_CHAIN_NFS] = {};
const volatile __u32 tdm_dev_slot = 0;

SEC("xdp")
int tdm_bench_mono(struct xdp_md *ctx)
{
	struct tdm_chain_stats *cs;
	struct tdm_dev_stats *ds;
	struct tdm_meta *pm;
	int i;

	if (tdm_entry_steer(ctx, tdm_dev_slot, &ds, &cs) == TDM_CHAIN_NONE)
		return XDP_PASS;
	pm = tdm_meta_get();
	if (!pm)
		return XDP_PASS;
	for (i = 0; i < TDM_MAX_CHAIN_NFS; i++) {
		__u32 key = nf_ids[i];
		struct tdm_nf_stats *st;

		if (i >= n_hops)
			break;
		st = bpf_map_lookup_elem(&tdm_nf_stats, &key);
		if (st) {
			st->packets++;
			st->bytes += pm->pkt_len;
		}
	}
	if (cs)
		cs->passed++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
