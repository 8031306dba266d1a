// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * make bench's baseline: one program doing the work of the entry program
 * plus a chain of n counters (parse, steer, count per NF and per chain),
 * with no tail calls. A chain's cost minus this is the cost of chaining.
 */
#include "lib/parse.h"
#include "lib/steer.h"

const volatile __u32 n_hops = 1;
const volatile __u32 nf_ids[TDM_MAX_CHAIN_NFS] = {};
const volatile __u32 tdm_dev_slot = 0;

SEC("xdp")
int tdm_bench_mono(struct xdp_md *ctx)
{
	__u32 slot = tdm_dev_slot, ifindex = ctx->ingress_ifindex;
	struct tdm_chain_stats *cs;
	struct tdm_dev_stats *ds;
	struct tdm_dev *dev;
	struct tdm_meta *pm;
	int by = TDM_STEER_NONE, i;
	__u32 chain;

	pm = tdm_meta_get();
	if (!pm)
		return XDP_PASS;
	tdm_parse(ctx, pm);
	ds = bpf_map_lookup_elem(&tdm_dev_stats, &slot);
	if (ds) {
		ds->packets++;
		ds->bytes += pm->pkt_len;
	}
	dev = bpf_map_lookup_elem(&tdm_devs, &ifindex);
	if (!dev)
		return XDP_PASS;
	chain = tdm_steer(pm, dev, &by);
	if (chain >= TDM_MAX_CHAINS)
		return XDP_PASS;
	pm->chain_id = chain;
	cs = bpf_map_lookup_elem(&tdm_chain_stats, &chain);
	if (cs) {
		cs->packets++;
		cs->bytes += pm->pkt_len;
	}
	if (ds)
		ds->steer_default++;

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
