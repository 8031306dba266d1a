// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Statistics: per-CPU counters, summed. */
#include "internal.h"

int tdm_stats_nf(struct tdm_ctx *ctx, __u32 id, struct tdm_nf_stats *st)
{
	struct tdm_nf_queue q;
	struct tdm_nf_info nf;
	int err;

	err = tdm_percpu_sum(ctx, ctx->nf_stats_fd, id, sizeof(*st),
			     (__u64 *)st);
	if (err || tdm_nf_get(ctx, id, &nf) || nf.type != TDM_NF_PROCESS)
		return err;
	/* a process NF's own drops are in its queue, not the datapath's */
	err = tdm_nf_queue_get(ctx, id, &q);
	if (!err) {
		st->drops[TDM_DROP_VERDICT] = q.dropped;
		st->drops[TDM_DROP_RING] = q.ring_drops;
	}
	return err;
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
