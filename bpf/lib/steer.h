/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Steering: which chain runs a packet. First an exact 5-tuple match, then
 * the prefix/port rules (a longest-prefix lookup on the destination gives
 * the few rules that can match, already in priority order), then the
 * device's default chain.
 */
#ifndef TANDEM_BPF_STEER_H
#define TANDEM_BPF_STEER_H

#include "maps.h"
#include "match.h"

enum tdm_steer_by {
	TDM_STEER_NONE,
	TDM_STEER_FLOW,
	TDM_STEER_RULE,
	TDM_STEER_DEFAULT,
};

static __always_inline __u32 tdm_steer_flow(const struct tdm_meta *pm)
{
	struct tdm_flow_key key = {
		.dev = pm->dev,
		.proto = pm->l4_proto,
		.family = pm->flags & TDM_F_IPV4 ? 4 : 6,
		.sport = pm->sport,
		.dport = pm->dport,
		.saddr = pm->saddr,
		.daddr = pm->daddr,
	};
	struct tdm_flow_val *v;

	if (!(pm->flags & TDM_F_L4))
		return TDM_CHAIN_NONE;
	v = bpf_map_lookup_elem(&tdm_steer_flows, &key);
	return v ? v->chain_id : TDM_CHAIN_NONE;
}

/* The trie's answer: the leaf of the longest prefix holding pm's dst. */
static __always_inline struct tdm_steer_bucket *
tdm_steer_leaf_lpm(const struct tdm_meta *pm)
{
	struct tdm_steer_lpm_key key = {
		.prefixlen = 32 + 128,
		.dev = bpf_htonl(pm->dev),
		.dst = pm->daddr,
	};

	return bpf_map_lookup_elem(&tdm_steer_lpm, &key);
}

/*
 * The same leaf by hash, one lookup per prefix length the device's rules
 * use, longest first: for the few lengths of most rule sets, cheaper than
 * the trie's walk down its nodes.
 */
static __always_inline struct tdm_steer_bucket *
tdm_steer_leaf_hash(const struct tdm_meta *pm, const struct tdm_dev *dev)
{
	struct tdm_steer_pfx_key key = { .dev = pm->dev };
	struct tdm_steer_bucket *b;
	int i, w;

#pragma unroll
	for (i = 0; i < TDM_STEER_LENS; i++) {
		int len = dev->lens[i];

		if (i >= dev->nlens)
			break;
		key.len = len;
#pragma unroll
		for (w = 0; w < 4; w++) {
			int bits = len - 32 * w;
			__u32 m;

			if (bits >= 32)
				m = ~0U;
			else if (bits <= 0)
				m = 0;
			else
				m = ~0U << (32 - bits);
			key.dst.w[w] = pm->daddr.w[w] & bpf_htonl(m);
		}
		b = bpf_map_lookup_elem(&tdm_steer_pfx, &key);
		if (b)
			return b;
	}
	return NULL;
}

static __always_inline __u32 tdm_steer_rules_lookup(const struct tdm_meta *pm,
						    const struct tdm_dev *dev)
{
	struct tdm_steer_bucket *b;
	__u32 i, n;

	if (!(pm->flags & (TDM_F_IPV4 | TDM_F_IPV6)))
		return TDM_CHAIN_NONE;
	b = dev->nlens > TDM_STEER_LENS ? tdm_steer_leaf_lpm(pm) :
					  tdm_steer_leaf_hash(pm, dev);
	if (!b)
		return TDM_CHAIN_NONE;
	n = b->n;
	for (i = 0; i < TDM_STEER_BUCKET; i++) {
		struct tdm_steer_rule *r;
		__u32 idx;

		if (i >= n)
			break;
		idx = b->rule[i];
		r = bpf_map_lookup_elem(&tdm_steer_rules, &idx);
		if (r && r->id && tdm_match(&r->m, pm, false))
			return r->chain_id;
	}
	return TDM_CHAIN_NONE;
}

static __always_inline __u32 tdm_steer(const struct tdm_meta *pm,
				       const struct tdm_dev *dev, int *by)
{
	__u32 chain;

	/* the counts only skip lookups that cannot match */
	if (dev->nflows) {
		chain = tdm_steer_flow(pm);
		if (chain != TDM_CHAIN_NONE) {
			*by = TDM_STEER_FLOW;
			return chain;
		}
	}
	if (dev->nrules) {
		chain = tdm_steer_rules_lookup(pm, dev);
		if (chain != TDM_CHAIN_NONE) {
			*by = TDM_STEER_RULE;
			return chain;
		}
	}
	*by = dev->default_chain != TDM_CHAIN_NONE ? TDM_STEER_DEFAULT :
						     TDM_STEER_NONE;
	return dev->default_chain;
}

#endif /* TANDEM_BPF_STEER_H */
