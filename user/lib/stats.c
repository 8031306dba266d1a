// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Statistics: per-CPU counters, summed. */
#include "internal.h"

int tdm_stats_nf(struct tdm_ctx *ctx, __u32 id, struct tdm_nf_stats *st)
{
	const struct tdm_nf_type *t;
	struct tdm_nf_info nf;
	int err;

	err = tdm_percpu_sum(ctx, ctx->nf_stats_fd, id, sizeof(*st),
			     (__u64 *)st);
	if (err || tdm_nf_get(ctx, id, &nf))
		return err;
	/* counters of the NF's own, which the datapath does not count */
	t = tdm_nf_type_by_id(nf.type);
	return t && t->ops->stats ? t->ops->stats(ctx, id, st) : 0;
}

int tdm_stats_chain(struct tdm_ctx *ctx, __u32 id, struct tdm_chain_stats *st)
{
	return tdm_percpu_sum(ctx, ctx->chain_stats_fd, id, sizeof(*st),
			      (__u64 *)st);
}

int tdm_stats_dev(struct tdm_ctx *ctx, __u32 slot, struct tdm_dev_stats *st)
{
	return tdm_percpu_sum(ctx, ctx->dev_stats_fd, slot, sizeof(*st),
			      (__u64 *)st);
}
