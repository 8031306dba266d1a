/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tandem_sched.ko's own declarations: a registered NF and what the
 * three parts of the module (core.c: device and registry; kfunc.c: the
 * datapath's calls; events.c: scheduler hooks and weights) share.
 */
#ifndef TDM_KMOD_SCHED_H
#define TDM_KMOD_SCHED_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/bpf.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include "compat.h"
#include <tandem/tandem.h>
#include <tandem/sched.h>

/* Load and cost are measured over windows of this length (ns) */
#define TDM_WIN_NS		(1000 * 1000)
/* New weights when load or cost moved by more than 1/TDM_MOVE_DIV */
#define TDM_MOVE_DIV		4
/* ...and by at least this much (pps; ns): noise is not an event */
#define TDM_MOVE_MIN_PPS	1000
#define TDM_MOVE_MIN_NS		50
/* ...and at most once per this (ns): NFVNice's period for shares */
#define TDM_MOVE_GAP_NS		(10 * 1000 * 1000)
/* Load and cost are capped here (pps; ns): tdm_weights_compute() wants
 * rate * cost within 57 bits, and the counters come from userspace */
#define TDM_LOAD_MAX		(1ULL << 32)
#define TDM_COST_MAX		(1ULL << 24)
/* Cost is measured over at least this many frames */
#define TDM_COST_MIN_FRAMES	32

/*
 * A registered process NF. Published in tdm_nfs[id] under tdm_lock,
 * read under RCU by the kfuncs (XDP) and the sched_switch probe, freed
 * after a grace period.
 */
struct tdm_snf {
	u32 id;
	struct file *owner;		/* the opener that registered it */
	struct bpf_map *xsks;		/* XSKMAP, a reference held */
	struct bpf_map *queues;		/* tdm_nf_queues, a reference held */
	struct tdm_nf_queue *q;		/* its element of queues */
	struct file *wfile;		/* cpu.weight or cpu.shares */
	u32 wkind;			/* enum tdm_sched_weight_kind */
	u32 pinned;			/* manual weight, 0: NFVNice's */
	u64 cpus;			/* CPU set, the weights' domain */
	struct pid *pid;		/* its process; compared, not used */
	struct pid *exited;		/* pid, once its last thread exited */

	/* the datapath's side (kfunc.c) */
	int congested;
	atomic64_t crossings;
	u64 event_ns;			/* oldest unanswered event, 0: none */
	u64 cross_ns;			/* oldest unanswered crossing, 0: none */
	u64 move_ns;			/* the last load or cost move event */
	atomic64_t events;
	u64 win_start;			/* load and cost windows */
	u64 win_load, win_cpu, win_cons;
	u64 load_pps, cost_ns;		/* smoothed */
	u64 load_used, cost_used;	/* what the last weights used */

	/* the scheduler's side (events.c) */
	atomic64_t cpu_ns;		/* its tasks' time on CPU */
	atomic64_t consumed;		/* RX frames taken while on CPU */

	/* the weights (events.c, under tdm_lock) */
	u32 weight;
	s32 write_err;
	u64 writes, reactions, react_ns_sum, react_ns_last;

};

/* XDP runs with BH off, tracepoints with preemption off: RCU readers */
#define tdm_deref(p)	rcu_dereference_check(p, rcu_read_lock_held() || \
					      rcu_read_lock_bh_held() || \
					      rcu_read_lock_sched_held())

extern struct tdm_snf __rcu *tdm_nfs[TDM_SCHED_MAX_NFS];
extern struct mutex tdm_lock;
extern atomic_t tdm_nr_nfs;
extern atomic64_t tdm_allocs;
extern atomic64_t tdm_switches;

/* kfunc.c */
int tdm_kfuncs_init(void);
u32 tdm_snf_backlog(struct tdm_snf *nf, int *err);
u32 tdm_snf_consumer(struct tdm_snf *nf, bool *ok);
__bpf_kfunc int tdm_sched_nf_backlog(u32 nf_id);
__bpf_kfunc int tdm_sched_nf_congested(u32 nf_id);

/* events.c */
int tdm_events_init(void);
void tdm_events_exit(void);
void tdm_event(struct tdm_snf *nf, u64 now, bool crossing);
void tdm_nfs_changed(void);

#endif /* TDM_KMOD_SCHED_H */
