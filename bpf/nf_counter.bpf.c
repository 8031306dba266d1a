// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* counter: counts packets and bytes (the hop program counts for every NF). */
#ifdef TDM_NF_DECLARATIONS
struct tdm_counter_params {
};

enum {
	TDM_COUNTER_DROP_MAX = TDM_DROP_NF,	/* it never drops */
};

TDM_NF(counter, 1, struct tdm_counter_params, TDM_COUNTER_DROP_MAX);
#endif /* TDM_NF_DECLARATIONS */

#ifdef TDM_NF_DATAPATH
static __always_inline int counter_run(struct xdp_md *ctx,
				       struct tdm_meta *pm,
				       const volatile struct tdm_hop_nf *nf)
{
	return NF_CONTINUE;
}
#endif /* TDM_NF_DATAPATH */
