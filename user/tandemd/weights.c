// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * CPU weights of the process NFs that share a CPU, by NFVNice's rule:
 * the polling scheduler's entry to include/tandem/nfvnice.h, which says
 * what the rule is and what the paper leaves open.
 */
#include <math.h>
#include "tandemd.h"
#include <tandem/nfvnice.h>

/*
 * The rule itself is include/tandem/nfvnice.h's, which tandem_sched.ko
 * runs too: the same inputs give the same weights with and without the
 * module. Rates (pps) and costs (cycles) go in as integers, costs in
 * sixteenths so that a cost under one cycle still weighs.
 */
void weights_compute(struct wt_nf *nfs, int n)
{
	struct tdm_wt wt[TDM_MAX_NFS];
	int i;

	if (n > TDM_MAX_NFS)
		n = TDM_MAX_NFS;
	/* (capped so that rate * cost stays within 57 bits: 268 Mpps, and
	 * 33 million cycles a packet in sixteenths) */
	for (i = 0; i < n; i++)
		wt[i] = (struct tdm_wt){
			.rate = nfs[i].rate > 0 ?
				(__u64)fmin(nfs[i].rate + 0.5, 0x1p28) : 0,
			.cost = nfs[i].cost > 0 ?
				(__u64)fmin(nfs[i].cost * 16 + 0.5, 0x1p29) : 0,
			.pinned = nfs[i].pinned,
		};
	tdm_weights_compute(wt, n);
	for (i = 0; i < n; i++)
		nfs[i].weight = wt[i].weight;
}
