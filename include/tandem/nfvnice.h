/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * NFVNice's two decisions, written once for the three places that make
 * them: the datapath (bpf/lib/proc.h), tandem_sched.ko (kmod/) and
 * tandemd's polling scheduler (user/tandemd/procs.c). Integer
 * arithmetic only, no I/O, no allocation: it compiles as BPF, kernel
 * and userspace C, and the same inputs give the same answers everywhere
 * (selftests/test_sup.c tests them).
 *
 * Kulkarni et al., "NFVnice: Dynamic Backpressure and Scheduling for NFV
 * Service Chains", SIGCOMM 2017: section 4.3 (backpressure, watermarks)
 * and 4.2 (CPU shares).
 */
#ifndef TANDEM_NFVNICE_H
#define TANDEM_NFVNICE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * Backpressure with hysteresis: is an NF whose RX backlog is now
 * `backlog` frames congested, given that it was (`congested`)? Marked
 * at the high watermark, cleared at the low one (frames, low < high).
 */
static inline int tdm_bp_next(int congested, __u64 backlog, __u32 high,
			      __u32 low)
{
	if (congested)
		return backlog > low;
	return backlog >= high;
}

#define TDM_WT_DEFAULT		100	/* cpu.weight's default */
#define TDM_WT_MIN		1	/* and its range */
#define TDM_WT_MAX		10000
#define TDM_WT_FLOOR_PCT	1

/* One NF of a CPU set, for tdm_weights_compute(). 24 bytes. */
struct tdm_wt {
	__u64 rate;			/* arrivals, drops included, per s */
	__u64 cost;			/* per packet, any unit; 0: not known */
	__u32 pinned;			/* a manual weight; 0: NFVNice's */
	__u32 weight;			/* out: cpu.weight, 1..10000 */
};

static inline __u32 tdm_wt_clamp(__u64 w)
{
	return w < TDM_WT_MIN ? TDM_WT_MIN :
	       w > TDM_WT_MAX ? TDM_WT_MAX : (__u32)w;
}

/*
 * CPU weights of the n NFs that share a CPU set, by NFVNice's rule
 *
 *	share_i = N * W * load_i * cost_i / sum_j(load_j * cost_j)
 *
 * with W = 100, cpu.weight's default (the paper's 1024 is cpu.shares'):
 * N NFs of equal load and cost all get the default. What the paper
 * leaves open, decided here:
 *   - a manual weight stays as it is; its NF is not one of the N and not
 *     in the sum (the automatic NFs share N * W among themselves);
 *   - an NF with no load gets a floor, 1% of N * W (at least 1), taken
 *     from what the loaded ones share: it can still wake up and drain
 *     what comes;
 *   - a cost not known yet (0) is the mean of the known costs, or 1 if
 *     none is known (then the rates alone decide);
 *   - no load at all: every NF gets W;
 *   - results are rounded to nearest and clamped to 1..10000.
 * n <= 128; rate * cost must fit 57 bits (1e9 pps at 1e8 units each).
 */
static inline void tdm_weights_compute(struct tdm_wt *nfs, int n)
{
	__u64 cost_sum = 0, mean_cost, sum = 0, total, floor, share, c;
	int i, nauto = 0, ncost = 0, nidle = 0, shift = 0;

	for (i = 0; i < n; i++) {
		if (nfs[i].pinned) {
			nfs[i].weight = nfs[i].pinned;
			continue;
		}
		nauto++;
		if (nfs[i].cost) {
			cost_sum += nfs[i].cost;
			ncost++;
		}
	}
	if (!nauto)
		return;
	mean_cost = ncost ? cost_sum / ncost : 1;
	if (!mean_cost)
		mean_cost = 1;
	for (i = 0; i < n; i++) {
		if (nfs[i].pinned)
			continue;
		if (nfs[i].rate)
			sum += nfs[i].rate * (nfs[i].cost ?: mean_cost);
		else
			nidle++;
	}
	total = (__u64)nauto * TDM_WT_DEFAULT;
	if (!sum) {
		for (i = 0; i < n; i++)
			if (!nfs[i].pinned)
				nfs[i].weight = TDM_WT_DEFAULT;
		return;
	}
	floor = total * TDM_WT_FLOOR_PCT / 100;
	if (floor < TDM_WT_MIN)
		floor = TDM_WT_MIN;
	share = total - (nidle * floor < total ? nidle * floor : total);
	/* only with about 100 NFs on a CPU: the loaded ones keep a floor */
	if (share < floor)
		share = floor;
	/* share * rate * cost must not overflow: share < 2^21 */
	while ((sum >> shift) >= (1ULL << 42))
		shift++;
	for (i = 0; i < n; i++) {
		if (nfs[i].pinned)
			continue;
		if (!nfs[i].rate) {
			nfs[i].weight = tdm_wt_clamp(floor);
			continue;
		}
		c = (nfs[i].rate * (nfs[i].cost ?: mean_cost)) >> shift;
		nfs[i].weight = tdm_wt_clamp((share * c + (sum >> shift) / 2) /
					     (sum >> shift));
	}
}

#endif /* TANDEM_NFVNICE_H */
