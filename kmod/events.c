// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel events to CPU weights. The sched_switch tracepoint measures the
 * CPU time NF processes spend and the frames they take meanwhile (their
 * cost per packet); the kfuncs (kfunc.c) report watermark crossings and
 * load or cost moves; a work item then recomputes NFVNice's weights of
 * the NFs sharing a CPU set (include/tandem/nfvnice.h) and writes them
 * to their cgroups' cpu.weight or cpu.shares files, which tandemd
 * opened: the kernel offers no other way to change a group's weight
 * (sched_group_set_shares is not exported), and a path looked up from
 * a kworker would resolve in init's mount namespace.
 *
 * The probe only adds up; it never queues work: waking a kworker from
 * inside the scheduler, under the runqueue lock, would deadlock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>
#include <linux/percpu.h>
#include <linux/fs.h>
#include <linux/timekeeping.h>
#include <tandem/nfvnice.h>
#include "tdm_sched.h"

/* What runs on this CPU, if it is an NF's task: since when, and where
 * its ring's consumer index was then */
struct tdm_run {
	u32 nf;				/* id + 1; 0: not an NF */
	u32 cons;
	bool cons_ok;			/* cons was read from a ring */
	u64 since;
};

/* Frames a slice can have consumed: an RX ring's largest size */
#define TDM_SLICE_FRAMES_MAX	(1U << 20)
static DEFINE_PER_CPU(struct tdm_run, tdm_run);

/* The registered ids, for the probe: a snapshot replaced under RCU */
struct tdm_ids {
	struct rcu_head rcu;
	int n;
	u8 ids[TDM_SCHED_MAX_NFS];
};
static struct tdm_ids __rcu *tdm_ids;

static struct tracepoint *tp_switch, *tp_exit;
static bool tp_switch_on, tp_exit_on;

static void weigh_fn(struct work_struct *w);
static DECLARE_WORK(tdm_weigh_work, weigh_fn);
static void exit_fn(struct work_struct *w);
static DECLARE_WORK(tdm_exit_work, exit_fn);

static struct tdm_snf *nf_of(struct task_struct *t)
{
	struct tdm_ids *ids = tdm_deref(tdm_ids);
	struct pid *tgid = task_tgid(t);
	struct tdm_snf *nf;
	int i;

	if (!ids)
		return NULL;
	for (i = 0; i < ids->n; i++) {
		nf = tdm_deref(tdm_nfs[ids->ids[i]]);
		if (nf && READ_ONCE(nf->pid) == tgid)
			return nf;
	}
	return NULL;
}

static void probe_switch(void *data, bool preempt, struct task_struct *prev,
			 struct task_struct *next, unsigned int prev_state)
{
	struct tdm_run *run;
	struct tdm_snf *nf;
	u64 now;
	u32 cons;
	bool ok;

	if (!atomic_read(&tdm_nr_nfs))
		return;
	run = this_cpu_ptr(&tdm_run);
	now = ktime_get_mono_fast_ns();
	if (run->nf) {
		nf = tdm_deref(tdm_nfs[run->nf - 1]);
		/* the same NF still, and still its process running */
		if (nf && READ_ONCE(nf->pid) == task_tgid(prev)) {
			atomic64_add(now - run->since, &nf->cpu_ns);
			cons = tdm_snf_consumer(nf, &ok);
			/* not across a socket that came, went or changed */
			if (ok && run->cons_ok &&
			    cons - run->cons <= TDM_SLICE_FRAMES_MAX)
				atomic64_add(cons - run->cons, &nf->consumed);
		}
		run->nf = 0;
	}
	nf = nf_of(next);
	if (nf) {
		atomic64_inc(&tdm_switches);
		run->nf = nf->id + 1;
		run->since = now;
		run->cons = tdm_snf_consumer(nf, &ok);
		run->cons_ok = ok;
	}
}

/*
 * sched_process_exit: the last thread of a registered NF's process is
 * leaving. Its struct pid is let go from a work item (a grace period
 * must pass, and a probe must not sleep); GET then says pid 0 until
 * tandemd sets the restarted process's.
 */
static void probe_exit(void *data, struct task_struct *p)
{
	struct tdm_snf *nf;

	if (!atomic_read(&tdm_nr_nfs) || atomic_read(&p->signal->live))
		return;
	nf = nf_of(p);
	if (nf && !cmpxchg(&nf->exited, NULL, task_tgid(p)))
		queue_work(system_wq, &tdm_exit_work);
}

static void exit_fn(struct work_struct *w)
{
	static struct pid *gone[TDM_SCHED_MAX_NFS];	/* under tdm_lock */
	struct tdm_snf *nf;
	struct pid *x;
	int i, n = 0;

	mutex_lock(&tdm_lock);
	for (i = 0; i < TDM_SCHED_MAX_NFS; i++) {
		nf = rcu_dereference_protected(tdm_nfs[i],
					       lockdep_is_held(&tdm_lock));
		if (!nf || !(x = xchg(&nf->exited, NULL)))
			continue;
		/* not if tandemd has set the next process's meanwhile */
		if (nf->pid == x) {
			WRITE_ONCE(nf->pid, NULL);
			gone[n++] = x;
		}
	}
	if (n)
		synchronize_rcu();	/* the probes compared the old value */
	for (i = 0; i < n; i++)
		put_pid(gone[i]);
	mutex_unlock(&tdm_lock);
}

/* Under tdm_lock: tdm_nfs changed; give the probe the new id list. */
void tdm_nfs_changed(void)
{
	struct tdm_ids *ids = NULL, *old;
	int i;

	old = rcu_dereference_protected(tdm_ids, lockdep_is_held(&tdm_lock));
	/* no NF, no list: allocs goes back to 0 (a leak shows there) */
	if (atomic_read(&tdm_nr_nfs)) {
		ids = kzalloc(sizeof(*ids), GFP_KERNEL);
		if (!ids)
			/* keep the old list: a new NF goes unmeasured until
			 * the next change; a gone one is skipped by nf_of() */
			return;
		atomic64_inc(&tdm_allocs);
		for (i = 0; i < TDM_SCHED_MAX_NFS; i++)
			if (rcu_access_pointer(tdm_nfs[i]))
				ids->ids[ids->n++] = i;
	}
	rcu_assign_pointer(tdm_ids, ids);
	if (old) {
		kfree_rcu(old, rcu);
		atomic64_dec(&tdm_allocs);
	}
}

/*
 * Ask for new weights: nf crossed a watermark, or its load or cost
 * moved. From the kfuncs, in softirq: queue_work() is fine there. The
 * oldest unanswered crossing's time stays, for the reaction time.
 */
void tdm_event(struct tdm_snf *nf, u64 now, bool crossing)
{
	atomic64_inc(&nf->events);
	if (crossing)
		cmpxchg(&nf->cross_ns, 0, now);
	cmpxchg(&nf->event_ns, 0, now);
	queue_work(system_highpri_wq, &tdm_weigh_work);
}

static int write_weight(struct tdm_snf *nf, u32 w)
{
	char buf[16];
	loff_t pos = 0;
	ssize_t n;
	int len;

	if (nf->wkind == TDM_SCHED_WEIGHT_V1)	/* cpu.shares: 1024 = 100 */
		len = snprintf(buf, sizeof(buf), "%u\n",
			       max_t(u32, 2, w * 1024 / 100));
	else
		len = snprintf(buf, sizeof(buf), "%u\n", w);
	n = kernel_write(nf->wfile, buf, len, &pos);
	return n < 0 ? n : n == len ? 0 : -EIO;
}

/* NFVNice's weights among the registered NFs whose CPU set is cpus */
static void weigh_set(u64 cpus)
{
	/* under tdm_lock, off the stack */
	static struct tdm_snf *nfs[TDM_SCHED_MAX_NFS];
	static struct tdm_wt wt[TDM_SCHED_MAX_NFS];
	struct tdm_snf *nf;
	u64 ev, t;
	int i, n = 0;

	for (i = 0; i < TDM_SCHED_MAX_NFS; i++) {
		nf = rcu_dereference_protected(tdm_nfs[i],
					       lockdep_is_held(&tdm_lock));
		if (!nf || nf->cpus != cpus ||
		    nf->wkind == TDM_SCHED_WEIGHT_NONE)
			continue;
		wt[n] = (struct tdm_wt){ .rate = READ_ONCE(nf->load_pps),
					 .cost = READ_ONCE(nf->cost_ns),
					 .pinned = nf->pinned };
		nfs[n++] = nf;
	}
	tdm_weights_compute(wt, n);
	for (i = 0; i < n; i++) {
		nf = nfs[i];
		nf->write_err = write_weight(nf, wt[i].weight);
		if (!nf->write_err) {
			nf->weight = wt[i].weight;
			nf->writes++;
		}
		WRITE_ONCE(nf->load_used, wt[i].rate);
		WRITE_ONCE(nf->cost_used, wt[i].cost);
		xchg(&nf->event_ns, 0);
		ev = xchg(&nf->cross_ns, 0);
		if (ev && !nf->write_err) {
			t = ktime_get_mono_fast_ns();
			nf->react_ns_last = t > ev ? t - ev : 0;
			nf->react_ns_sum += nf->react_ns_last;
			nf->reactions++;
		}
	}
}

static void weigh_fn(struct work_struct *w)
{
	struct tdm_snf *nf;
	static u64 done[TDM_SCHED_MAX_NFS];	/* under tdm_lock */
	int i, k, ndone = 0;

	mutex_lock(&tdm_lock);
	for (i = 0; i < TDM_SCHED_MAX_NFS; i++) {
		nf = rcu_dereference_protected(tdm_nfs[i],
					       lockdep_is_held(&tdm_lock));
		if (!nf || !READ_ONCE(nf->event_ns))
			continue;
		for (k = 0; k < ndone && done[k] != nf->cpus; k++)
			;
		if (k < ndone)
			continue;
		done[ndone++] = nf->cpus;
		if (nf->wkind == TDM_SCHED_WEIGHT_NONE) {
			xchg(&nf->event_ns, 0);
			xchg(&nf->cross_ns, 0);
		}
		weigh_set(nf->cpus);
	}
	mutex_unlock(&tdm_lock);
}

static void find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_switch"))
		tp_switch = tp;
	else if (!strcmp(tp->name, "sched_process_exit"))
		tp_exit = tp;
}

int tdm_events_init(void)
{
	int err;

	/* the tracepoints' symbols are not exported: look them up by name */
	for_each_kernel_tracepoint(find_tp, NULL);
	if (!tp_switch || !tp_exit) {
		pr_err("no sched_switch or sched_process_exit tracepoint\n");
		return -ENOENT;
	}
	err = tracepoint_probe_register(tp_switch, probe_switch, NULL);
	if (err)
		return err;
	tp_switch_on = true;
	err = tracepoint_probe_register(tp_exit, probe_exit, NULL);
	if (err) {
		tdm_events_exit();
		return err;
	}
	tp_exit_on = true;
	return 0;
}

/* Module exit: no NF is registered any more (no opener is left). */
void tdm_events_exit(void)
{
	struct tdm_ids *ids;

	if (tp_switch_on)
		tracepoint_probe_unregister(tp_switch, probe_switch, NULL);
	if (tp_exit_on)
		tracepoint_probe_unregister(tp_exit, probe_exit, NULL);
	tp_switch_on = tp_exit_on = false;
	tracepoint_synchronize_unregister();
	cancel_work_sync(&tdm_weigh_work);
	cancel_work_sync(&tdm_exit_work);
	ids = rcu_dereference_protected(tdm_ids, true);
	RCU_INIT_POINTER(tdm_ids, NULL);
	synchronize_rcu();
	if (ids) {
		kfree(ids);
		atomic64_dec(&tdm_allocs);
	}
	rcu_barrier();			/* the kfree_rcu()s of old id lists */
}
