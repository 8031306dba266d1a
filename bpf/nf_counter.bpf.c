// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* counter: counts packets and bytes (done for every NF by TDM_NF). */
#include "lib/nf.h"

static __always_inline int counter_run(struct xdp_md *ctx,
				       struct tdm_meta *pm)
{
	return NF_CONTINUE;
}

TDM_NF(tdm_nf_counter, counter_run)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
