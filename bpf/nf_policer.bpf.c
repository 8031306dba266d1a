// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * policer: a token bucket in its GCRA form. The state is one timestamp,
 * the theoretical arrival time (TAT); a packet conforms if, after adding
 * its cost to TAT, TAT is less than one burst ahead of now. One
 * compare-and-swap updates it, so CPUs share a bucket without a lock.
 */
#include "lib/nf.h"

#define NSEC_PER_SEC	1000000000ULL
#define CAS_TRIES	4

/* Set by the loader from the NF's parameters. */
const volatile struct tdm_policer_params params = {};

static __always_inline __u64 cost_ns(__u64 len)
{
	if (params.bits)
		return len * 8 * NSEC_PER_SEC / params.rate;
	return NSEC_PER_SEC / params.rate;
}

static __always_inline bool gcra_conform(struct tdm_policer_state *st,
					 __u64 now, __u64 cost, __u64 tau)
{
	int i;

	for (i = 0; i < CAS_TRIES; i++) {
		__u64 tat = st->tat, next;

		next = (tat > now ? tat : now) + cost;
		if (next - now > tau)
			return false;
		if (__sync_val_compare_and_swap(&st->tat, tat, next) == tat)
			return true;
	}
	/* lost the race CAS_TRIES times: others are being served */
	return false;
}

static __always_inline struct tdm_policer_state *
bucket_of(struct tdm_meta *pm, __u64 now)
{
	struct tdm_policer_src_key skey = {};
	struct tdm_policer_state init = { .tat = now }, *st;
	__u32 key = tdm_hop.nf_id;

	if (!params.per_source)
		return bpf_map_lookup_elem(&tdm_policer, &key);

	skey.nf_id = key;
	skey.addr = pm->saddr;
	st = bpf_map_lookup_elem(&tdm_policer_src, &skey);
	if (st)
		return st;
	bpf_map_update_elem(&tdm_policer_src, &skey, &init, BPF_NOEXIST);
	return bpf_map_lookup_elem(&tdm_policer_src, &skey);
}

static __always_inline int policer_run(struct xdp_md *ctx,
				       struct tdm_meta *pm)
{
	__u64 now = bpf_ktime_get_ns(), cost, tau;
	struct tdm_policer_state *st;

	if (!params.rate)
		return NF_CONTINUE;
	st = bucket_of(pm, now);
	if (!st)
		return NF_CONTINUE;
	cost = cost_ns(pm->pkt_len);
	/* a burst's worth of time: burst packets, or burst bytes */
	tau = params.bits ? params.burst * 8 * NSEC_PER_SEC / params.rate :
			    params.burst * (NSEC_PER_SEC / params.rate);
	return gcra_conform(st, now, cost, tau) ? NF_CONTINUE : TDM_DROP_RATE;
}

TDM_NF(tdm_nf_policer, policer_run)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
