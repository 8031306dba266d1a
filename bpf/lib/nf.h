/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What every NF program shares: the hop configuration set at load time,
 * the per-NF statistics, and tdm_nf_done(), which counts the verdict and
 * jumps to the next hop or carries out the chain's terminal action.
 *
 * An NF is a function   enum nf_result nf_run(ctx, meta, stats)
 * wrapped by TDM_NF(name, fn) into an XDP program.
 */
#ifndef TANDEM_BPF_NF_H
#define TANDEM_BPF_NF_H

#include "maps.h"

/*
 * Set by the loader before load (.rodata is frozen): the verifier then
 * knows next_slot, so the tail call is JIT-ed as a direct jump, and it
 * prunes the terminal actions this hop does not have.
 */
const volatile struct tdm_hop tdm_hop = {
	.next_slot = TDM_SLOT_NONE,
};

/*
 * The same next slot in writable .data: the verifier cannot know its
 * value, so a tail call through it is an indirect jump. Only make bench
 * uses it (tdm_hop.runtime_jump), to measure what the constant saves.
 */
__u32 tdm_next_slot_rt = TDM_SLOT_NONE;

enum nf_result {
	NF_CONTINUE = -1,		/* go on along the chain */
	/* otherwise: drop, with this enum tdm_drop_reason */
};

static __always_inline struct tdm_chain_stats *tdm_chain_stats_get(void)
{
	__u32 key = tdm_hop.chain_id;

	return bpf_map_lookup_elem(&tdm_chain_stats, &key);
}

static __always_inline int tdm_chain_drop(int reason)
{
	struct tdm_chain_stats *cs = tdm_chain_stats_get();

	if (cs) {
		cs->dropped++;
		if (reason == TDM_DROP_MISSED)
			cs->missed++;
	}
	return XDP_DROP;
}

/* The chain's end: its terminal action. */
static __always_inline int tdm_chain_end(void)
{
	struct tdm_chain_stats *cs = tdm_chain_stats_get();
	int ret;

	switch (tdm_hop.action) {
	case TDM_ACT_DROP:
		if (cs)
			cs->dropped++;
		return XDP_DROP;
	case TDM_ACT_TX:
		if (cs)
			cs->txed++;
		return XDP_TX;
	case TDM_ACT_REDIRECT:
		/*
		 * Counts packets handed to the redirect: whether the device
		 * takes them is known only after the program returns (the
		 * kernel's xdp_redirect_err tracepoint counts failures).
		 */
		ret = bpf_redirect(tdm_hop.redirect_ifindex, 0);
		if (cs)
			cs->redirected++;
		return ret;
	default:
		if (cs)
			cs->passed++;
		return XDP_PASS;
	}
}

static __always_inline int tdm_nf_done(struct xdp_md *ctx,
				       struct tdm_nf_stats *st, int res)
{
	if (res != NF_CONTINUE) {
		if (st && res >= 0 && res < TDM_DROP_MAX)
			st->drops[res]++;
		return tdm_chain_drop(res);
	}
	if (tdm_hop.next_slot == TDM_SLOT_NONE)
		return tdm_chain_end();

	if (tdm_hop.runtime_jump)
		bpf_tail_call(ctx, &tdm_jmp, tdm_next_slot_rt);
	else
		bpf_tail_call(ctx, &tdm_jmp, tdm_hop.next_slot);
	/* only reached if the next hop's slot is empty */
	if (st)
		st->drops[TDM_DROP_MISSED]++;
	return tdm_chain_drop(TDM_DROP_MISSED);
}

#define TDM_NF(name, fn)						\
SEC("xdp")								\
int name(struct xdp_md *ctx)						\
{									\
	__u32 key = tdm_hop.nf_id;					\
	struct tdm_nf_stats *st;					\
	struct tdm_meta *pm;						\
	int res = NF_CONTINUE;						\
									\
	pm = tdm_meta_get();						\
	if (!pm)							\
		return XDP_ABORTED;					\
	st = bpf_map_lookup_elem(&tdm_nf_stats, &key);			\
	if (st) {							\
		st->packets++;						\
		st->bytes += pm->pkt_len;				\
	}								\
	res = fn(ctx, pm);						\
	return tdm_nf_done(ctx, st, res);				\
}

#endif /* TANDEM_BPF_NF_H */
