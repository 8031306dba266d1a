// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * CPU weights of the process NFs that share a CPU, by NFVNice's rule
 * (Kulkarni et al., "NFVnice: Dynamic Backpressure and Scheduling for
 * NFV Service Chains", SIGCOMM 2017, section 4.2, "CPU scheduling"):
 *
 *	share_i = N * 1024 * load_i * cost_i / sum_j(load_j * cost_j)
 *
 * over the N NFs of one core, with load the arrivals (drops included:
 * what the NF should have handled, not what it managed) and cost the
 * per-packet cycles. 1024 is cpu.shares' default; tandem writes
 * cpu.weight, whose default is 100 (cgroup.c converts for v1), so here
 * W = 100: N NFs of equal load and cost all get the default weight.
 *
 * What the paper leaves open, decided here:
 *   - a manual weight stays as it is; its NF is not one of the N and not
 *     in the sum (the automatic NFs share N * W among themselves);
 *   - an NF with no load gets a floor, 1% of the N * W (at least 1),
 *     taken from what the loaded ones share: it can still wake up and
 *     drain what comes, and the sum stays N * W;
 *   - a cost not known yet (0, no packet sampled) is the mean of the
 *     known costs, or 1 if none is known (then the rates alone decide);
 *   - no load at all on the CPU: every NF gets W;
 *   - results are clamped to cpu.weight's 1..10000.
 * Pure arithmetic, no I/O: selftests/test_sup.c tests it.
 */
#include "tandemd.h"

#define W		CG_WEIGHT_DEFAULT
#define FLOOR_PCT	1

static unsigned int clamp_weight(double w)
{
	if (w < CG_WEIGHT_MIN)
		return CG_WEIGHT_MIN;
	if (w > CG_WEIGHT_MAX)
		return CG_WEIGHT_MAX;
	return (unsigned int)(w + 0.5);
}

void weights_compute(struct wt_nf *nfs, int n)
{
	double cost_sum = 0, mean_cost, sum = 0, total, floor, share, c;
	int i, nauto = 0, ncost = 0, nidle = 0;

	for (i = 0; i < n; i++) {
		if (nfs[i].pinned) {
			nfs[i].weight = nfs[i].pinned;
			continue;
		}
		nauto++;
		if (nfs[i].cost > 0) {
			cost_sum += nfs[i].cost;
			ncost++;
		}
	}
	if (!nauto)
		return;
	mean_cost = ncost ? cost_sum / ncost : 1;
	for (i = 0; i < n; i++) {
		if (nfs[i].pinned)
			continue;
		if (nfs[i].rate > 0)
			sum += nfs[i].rate *
			       (nfs[i].cost > 0 ? nfs[i].cost : mean_cost);
		else
			nidle++;
	}
	total = (double)nauto * W;
	if (sum <= 0) {
		for (i = 0; i < n; i++)
			if (!nfs[i].pinned)
				nfs[i].weight = W;
		return;
	}
	floor = total * FLOOR_PCT / 100;
	if (floor < CG_WEIGHT_MIN)
		floor = CG_WEIGHT_MIN;
	share = total - nidle * floor;
	/* only with about 100 NFs on a CPU: the loaded ones keep a floor */
	if (share < floor)
		share = floor;
	for (i = 0; i < n; i++) {
		if (nfs[i].pinned)
			continue;
		c = nfs[i].cost > 0 ? nfs[i].cost : mean_cost;
		if (nfs[i].rate > 0)
			nfs[i].weight = clamp_weight(share * nfs[i].rate * c / sum);
		else
			nfs[i].weight = clamp_weight(floor);
	}
}
