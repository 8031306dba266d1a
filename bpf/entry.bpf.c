// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The entry program, attached to a device: parse once, steer to a chain,
 * jump into it. Packets with no chain go to the stack untouched (fail
 * open: a broken policy must never lock the admin out).
 */
#include "lib/parse.h"
#include "lib/steer.h"

/* Set by the loader: this device's slot in tdm_dev_stats. */
const volatile __u32 tdm_dev_slot = 0;

SEC("xdp")
int tdm_entry(struct xdp_md *ctx)
{
	__u32 slot = tdm_dev_slot, ifindex = ctx->ingress_ifindex;
	struct tdm_chain_stats *cs;
	struct tdm_dev_stats *ds;
	struct tdm_dev *dev;
	struct tdm_meta *pm;
	int by = TDM_STEER_NONE;
	__u32 chain;

	pm = tdm_meta_get();
	if (!pm)
		return XDP_PASS;
	tdm_parse(ctx, pm);

	ds = bpf_map_lookup_elem(&tdm_dev_stats, &slot);
	if (ds) {
		ds->packets++;
		ds->bytes += pm->pkt_len;
		if (pm->flags & TDM_F_TRUNC)
			ds->truncated++;
		if (pm->flags & TDM_F_BAD)
			ds->malformed++;
		if (pm->flags & TDM_F_FRAG)
			ds->fragments++;
	}

	dev = bpf_map_lookup_elem(&tdm_devs, &ifindex);
	if (!dev)
		goto no_chain;
	chain = tdm_steer(pm, dev, &by);
	if (chain >= TDM_MAX_CHAINS)
		goto no_chain;

	pm->chain_id = chain;
	cs = bpf_map_lookup_elem(&tdm_chain_stats, &chain);
	if (cs) {
		cs->packets++;
		cs->bytes += pm->pkt_len;
	}
	if (ds) {
		if (by == TDM_STEER_FLOW)
			ds->steer_flow++;
		else if (by == TDM_STEER_RULE)
			ds->steer_rule++;
		else
			ds->steer_default++;
	}
	bpf_tail_call(ctx, &tdm_jmp, chain);

	/* the chain's slot is empty (deleted under us): fail open */
	if (cs)
		cs->missed++;
	if (ds)
		ds->missed++;
	return XDP_PASS;

no_chain:
	if (ds)
		ds->no_chain++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
