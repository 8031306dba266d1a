// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * policer: a token bucket in its GCRA form. The state is one timestamp,
 * the theoretical arrival time (TAT); a packet conforms if, after adding
 * its cost to TAT, TAT is less than one burst ahead of now. One
 * compare-and-swap updates it, so CPUs share a bucket without a lock.
 */
#ifdef TDM_NF_DECLARATIONS
#define TDM_POLICER_SOURCES	65536	/* per-source buckets, in all */

struct tdm_policer_params {
	__u64 rate;			/* packets/s or bits/s */
	__u64 burst;			/* packets or bytes */
	__u32 bits;			/* 1: rate is bits/s */
	__u32 per_source;		/* 1: one bucket per source address */
};

enum {
	TDM_POLICER_DROP_RATE = TDM_DROP_NF,	/* out of profile */
	TDM_POLICER_DROP_MAX,
};

struct tdm_policer_state {
	__u64 tat;			/* ns, bpf_ktime_get_ns() clock */
};

struct tdm_policer_src_key {
	__u32 nf_id;
	struct tdm_addr addr;
};

TDM_NF(policer, 3, struct tdm_policer_params, TDM_POLICER_DROP_MAX);
#endif /* TDM_NF_DECLARATIONS */

#ifdef TDM_NF_MAPS
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TDM_MAX_NFS);
	__type(key, __u32);		/* nf_id */
	__type(value, struct tdm_policer_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_policer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TDM_POLICER_SOURCES);
	__type(key, struct tdm_policer_src_key);
	__type(value, struct tdm_policer_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_policer_src SEC(".maps");
#endif /* TDM_NF_MAPS */

#ifdef TDM_NF_DATAPATH
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
						     TDM_POLICER_DROP_RATE;
}

static __always_inline int policer_run(struct xdp_md *ctx,
				       struct tdm_meta *pm,
				       const volatile struct tdm_hop_nf *nf)
{
	const volatile struct tdm_policer_params *p =
		TDM_HOP_PARAMS(nf, policer);
	__u32 flags = (p->bits ? POLICER_BITS : 0) |
		      (p->per_source ? POLICER_PER_SOURCE : 0);

	return policer_eval(pm, nf->nf_id, p->rate, p->burst, flags);
}
#endif /* TDM_NF_DATAPATH */
