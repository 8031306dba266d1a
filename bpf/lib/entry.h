/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The entry program's work before the jump into a chain: parse, count on
 * the device, steer. Shared with make bench's monolithic baseline, so the
 * baseline does exactly the same work.
 */
#ifndef TANDEM_BPF_ENTRY_H
#define TANDEM_BPF_ENTRY_H

#include "parse.h"
#include "steer.h"

/*
 * Returns the chain to run (its metadata and stats already updated), or
 * TDM_CHAIN_NONE after counting the packet as passed without one.
 */
static __always_inline __u32 tdm_entry_steer(struct xdp_md *ctx, __u32 slot,
					     struct tdm_dev_stats **dsp,
					     struct tdm_chain_stats **csp)
{
	__u32 chain;
	struct tdm_chain_stats *cs;
	struct tdm_dev_stats *ds;
	struct tdm_dev_fast *fast;
	struct tdm_dev *dev;
	struct tdm_meta *pm;
	__u32 route;
	int by = TDM_STEER_NONE;

	*dsp = NULL;
	*csp = NULL;
	pm = tdm_meta_get();
	if (!pm)
		return TDM_CHAIN_NONE;
	tdm_parse(ctx, pm);
	pm->dev = slot;

	ds = bpf_map_lookup_elem(&tdm_dev_stats, &slot);
	*dsp = ds;
	if (ds) {
		ds->packets++;
		ds->bytes += pm->pkt_len;
		if (pm->flags & TDM_F_TRUNC)
			ds->truncated++;
		if (pm->flags & TDM_F_BAD)
			ds->malformed++;
		if (pm->flags & TDM_F_FRAG)
			ds->fragments++;
		if (pm->flags & TDM_F_UNPARSED)
			ds->unparsed++;
	}

	/*
	 * by slot: the ingress ifindex may be a bond slave's, or reused.
	 * The shortcut first: a device without steering entries needs only
	 * its default chain, one word of an array (no hash lookup).
	 */
	fast = bpf_map_lookup_elem(&tdm_dev_fast, &slot);
	route = fast ? READ_ONCE(fast->route) : TDM_ROUTE_RECORD;
	if (route != TDM_ROUTE_RECORD) {
		chain = route == TDM_ROUTE_PASS ? TDM_CHAIN_NONE :
			route - TDM_ROUTE_CHAIN;
		by = route == TDM_ROUTE_PASS ? TDM_STEER_NONE :
		     TDM_STEER_DEFAULT;
	} else {
		dev = bpf_map_lookup_elem(&tdm_devs, &slot);
		chain = dev ? tdm_steer(pm, dev, &by) : TDM_CHAIN_NONE;
	}
	if (chain >= TDM_MAX_CHAINS) {
		if (ds)
			ds->no_chain++;
		return TDM_CHAIN_NONE;
	}

	pm->chain_id = chain;
	cs = bpf_map_lookup_elem(&tdm_chain_stats, &chain);
	*csp = cs;
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
	return chain;
}

#endif /* TANDEM_BPF_ENTRY_H */
