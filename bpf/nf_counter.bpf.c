// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* counter: counts packets and bytes (the hop program counts for every NF). */
#include "lib/nf.h"

static __always_inline int counter_run(struct xdp_md *ctx,
				       struct tdm_meta *pm,
				       const volatile struct tdm_hop_nf *nf)
{
	return NF_CONTINUE;
}

TDM_NF(counter, TDM_NF_COUNTER);
