// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * policer: a token bucket in its GCRA form. The state is one timestamp,
 * the theoretical arrival time (TAT); a packet conforms if, after adding
 * its cost to TAT, TAT is less than one burst ahead of now. One
 * compare-and-swap updates it, so CPUs share a bucket without a lock.
 */
#include "lib/nf.h"

#define POLICER_NSEC_PER_SEC	1000000000ULL
#define POLICER_CAS_TRIES	4
#define POLICER_BITS		1	/* policer_eval() flags */
#define POLICER_PER_SOURCE	2

static __always_inline bool policer_conform(struct tdm_policer_state *st,
					    __u64 now, __u64 cost, __u64 tau)
{
	int i;

	for (i = 0; i < POLICER_CAS_TRIES; i++) {
		__u64 tat = st->tat, next;

		next = (tat > now ? tat : now) + cost;
		if (next - now > tau)
			return false;
		if (__sync_val_compare_and_swap(&st->tat, tat, next) == tat)
			return true;
	}
	/* lost the race POLICER_CAS_TRIES times: others are being served */
	return false;
}

static __always_inline struct tdm_policer_state *
policer_bucket(const struct tdm_meta *pm, __u32 nf_id, bool per_source,
	       __u64 now)
{
	struct tdm_policer_src_key skey = {};
	struct tdm_policer_state init = { .tat = now }, *st;

	if (!per_source)
		return bpf_map_lookup_elem(&tdm_policer, &nf_id);

	skey.nf_id = nf_id;
	skey.addr = pm->saddr;
	st = bpf_map_lookup_elem(&tdm_policer_src, &skey);
	if (st)
		return st;
	bpf_map_update_elem(&tdm_policer_src, &skey, &init, BPF_NOEXIST);
	return bpf_map_lookup_elem(&tdm_policer_src, &skey);
}

/*
 * Out of line, like the firewall's rule walk: what stays inline in the
 * hop program is a call, so a chain's other NFs keep their registers.
 */
__noinline int policer_eval(const struct tdm_meta *pm, __u32 nf_id,
			    __u64 rate, __u64 burst, __u32 flags)
{
	struct tdm_policer_state *st;
	__u64 now, cost, tau;

	if (!pm || !rate)
		return NF_CONTINUE;
	now = bpf_ktime_get_ns();
	st = policer_bucket(pm, nf_id, flags & POLICER_PER_SOURCE, now);
	if (!st)
		return NF_CONTINUE;
	/* a packet's cost and a burst's worth of time */
	if (flags & POLICER_BITS) {
		cost = pm->pkt_len * 8 * POLICER_NSEC_PER_SEC / rate;
		tau = burst * 8 * POLICER_NSEC_PER_SEC / rate;
	} else {
		cost = POLICER_NSEC_PER_SEC / rate;
		tau = burst * cost;
	}
	return policer_conform(st, now, cost, tau) ? NF_CONTINUE :
						     TDM_DROP_RATE;
}

static __always_inline int policer_run(struct xdp_md *ctx,
				       struct tdm_meta *pm,
				       const volatile struct tdm_hop_nf *nf)
{
	__u32 flags = (nf->params.policer.bits ? POLICER_BITS : 0) |
		      (nf->params.policer.per_source ? POLICER_PER_SOURCE : 0);

	return policer_eval(pm, nf->nf_id, nf->params.policer.rate,
			    nf->params.policer.burst, flags);
}

TDM_NF(policer, TDM_NF_POLICER);
