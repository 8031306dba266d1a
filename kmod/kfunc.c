// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kfuncs the datapath calls (include/tandem/sched.h): an NF's RX
 * backlog read from its socket's ring, and NFVNice's backpressure
 * decision made here, where a crossing turns at once into new weights.
 * They run in XDP, under RCU, on any CPU at once: no locks, no sleeping.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/timekeeping.h>
#include <linux/math64.h>
#include <net/xdp_sock.h>
#include <tandem/nfvnice.h>
#include "tdm_sched.h"

/* The RX ring of nf's socket, or NULL; under RCU */
static struct tdm_xsk_queue *snf_rx(struct tdm_snf *nf)
{
	struct xsk_map *m = container_of(nf->xsks, struct xsk_map, map);
	struct xdp_sock *xs = tdm_deref(m->xsk_map[nf->id]);

	/* in the map means bound: rx is set and lives as long as xs,
	 * which is freed after a grace period (SOCK_RCU_FREE) */
	return xs ? (struct tdm_xsk_queue *)READ_ONCE(xs->rx) : NULL;
}

/*
 * Frames in nf's RX ring: what the kernel put there (cached_prod, ahead
 * of the producer index userspace sees until the flush at the end of
 * the NAPI poll) minus what the process took (consumer). Under RCU.
 * *err: 0, or -ENODEV without a socket.
 */
u32 tdm_snf_backlog(struct tdm_snf *nf, int *err)
{
	struct tdm_xsk_queue *rx = snf_rx(nf);

	*err = 0;
	if (!rx) {
		*err = -ENODEV;
		return 0;
	}
	return READ_ONCE(rx->cached_prod) - smp_load_acquire(&rx->ring->consumer);
}

/* The consumer index of nf's RX ring (frames taken, mod 2^32) */
u32 tdm_snf_consumer(struct tdm_snf *nf, bool *ok)
{
	struct tdm_xsk_queue *rx = snf_rx(nf);

	*ok = rx != NULL;
	return rx ? smp_load_acquire(&rx->ring->consumer) : 0;
}

static bool moved(u64 now, u64 used, u64 min)
{
	u64 d = now > used ? now - used : used - now;

	return d >= min && d * TDM_MOVE_DIV > used;
}

/*
 * Every TDM_WIN_NS, on the packet that finds the window over (one CPU
 * wins the cmpxchg): the NF's load (what the datapath handed it plus
 * what it dropped at entry for it, NFVNice's arrivals) and its cost
 * (CPU time over frames consumed, from the sched_switch probe). New
 * weights if either moved.
 */
static void roll_window(struct tdm_snf *nf, u64 now)
{
	u64 start = READ_ONCE(nf->win_start);
	u64 load, cpu, cons, pps;

	if (now - start < TDM_WIN_NS || cmpxchg(&nf->win_start, start, now) != start)
		return;
	load = READ_ONCE(nf->q->handed) + READ_ONCE(nf->q->entry_drops);
	cpu = atomic64_read(&nf->cpu_ns);
	cons = atomic64_read(&nf->consumed);
	if (!start) {			/* the first window starts here */
		nf->win_load = load;
		nf->win_cpu = cpu;
		nf->win_cons = cons;
		return;
	}
	/* (a counter that went back, the map reused: no load, not 2^64) */
	pps = load > nf->win_load ?
	      mul_u64_u64_div_u64(load - nf->win_load, NSEC_PER_SEC, now - start) : 0;
	pps = min_t(u64, pps, TDM_LOAD_MAX);
	nf->win_load = load;
	/* smoothed over about 4 windows, as tandemd's polling does */
	WRITE_ONCE(nf->load_pps, (3 * nf->load_pps + pps) / 4);
	if (cons - nf->win_cons >= TDM_COST_MIN_FRAMES) {
		u64 c = min_t(u64, div64_u64(cpu - nf->win_cpu,
					     cons - nf->win_cons), TDM_COST_MAX);

		/* smoothed as the load, from its first measure on */
		WRITE_ONCE(nf->cost_ns, nf->cost_ns ? (3 * nf->cost_ns + c) / 4 : c);
		nf->win_cpu = cpu;
		nf->win_cons = cons;
	}
	if ((moved(nf->load_pps, READ_ONCE(nf->load_used), TDM_MOVE_MIN_PPS) ||
	     moved(nf->cost_ns, READ_ONCE(nf->cost_used), TDM_MOVE_MIN_NS)) &&
	    now - nf->move_ns >= TDM_MOVE_GAP_NS) {
		nf->move_ns = now;
		tdm_event(nf, now, false);
	}
}

__bpf_kfunc int tdm_sched_nf_backlog(u32 nf_id)
{
	struct tdm_snf *nf;
	u32 backlog;
	int err;

	if (nf_id >= TDM_SCHED_MAX_NFS)
		return -ENOENT;
	nf = tdm_deref(tdm_nfs[nf_id]);
	if (!nf)
		return -ENOENT;
	backlog = tdm_snf_backlog(nf, &err);
	return err ?: (int)min_t(u32, backlog, INT_MAX);
}

__bpf_kfunc int tdm_sched_nf_congested(u32 nf_id)
{
	struct tdm_snf *nf;
	int err, was, c;
	u64 backlog, now;
	u32 high, low;

	if (nf_id >= TDM_SCHED_MAX_NFS)
		return -ENOENT;
	nf = tdm_deref(tdm_nfs[nf_id]);
	if (!nf)
		return -ENOENT;
	now = ktime_get_mono_fast_ns();
	roll_window(nf, now);
	/* the watermarks the library set, as the datapath reads them */
	high = READ_ONCE(nf->q->high);
	low = READ_ONCE(nf->q->low);
	backlog = tdm_snf_backlog(nf, &err);
	if (err || !high)
		return 0;		/* down, or no backpressure */
	was = READ_ONCE(nf->congested);
	c = tdm_bp_next(was, backlog, high, low);
	if (c != was && cmpxchg(&nf->congested, was, c) == was) {
		atomic64_inc(&nf->crossings);
		tdm_event(nf, now, true);
	}
	return c;
}

TDM_KFUNCS_START(tdm_kfunc_ids)
BTF_ID_FLAGS(func, tdm_sched_nf_backlog)
BTF_ID_FLAGS(func, tdm_sched_nf_congested)
TDM_KFUNCS_END(tdm_kfunc_ids)

static const struct btf_kfunc_id_set tdm_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &tdm_kfunc_ids,
};

int tdm_kfuncs_init(void)
{
	/* 0 also without module BTF: the kernel logs it, and a program
	 * calling them does not load (Documentation/kmod.rst) */
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP, &tdm_kfunc_set);
}
