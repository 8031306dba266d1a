// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Process NFs in tandemd: which processes run, and their CPU weights.
 *
 * The supervisor (supervise.c) runs the command of every process NF
 * that has one, as the NF table says after each apply, reload and
 * sampling round. The scheduler polls the NFs' queue counters
 * (tdm_nf_queues, mapped: no syscall per poll) every sched interval
 * (1 ms by default) and sets the cgroup CPU weights of the NFs that
 * share a CPU set in proportion to arrival rate x cost per packet
 * (NFVNice's rule, weights.c). Rate and cost are smoothed with a time
 * constant of PROCS_TAU so one quiet millisecond does not swing a
 * weight; a weight is written only when it moves by PROCS_WRITE_PCT, as
 * each write costs a cgroup file write.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tandemd.h"

#define PROCS_TAU		0.010	/* s: NFVNice sets shares every 10 ms */
#define PROCS_WRITE_PCT		5
/*
 * A process whose queue holds frames and that has not finished a batch
 * (or an idle wakeup, every 100 ms) for this long is hung: its socket
 * stays open, so its chains would neither fail over nor drain. It is
 * killed; the supervisor starts it again.
 */
#define PROCS_HUNG_S		5.0

struct pnf {
	__u32 id;
	char name[TDM_NAME_LEN];
	__u64 cpus;			/* its CPU set: NFs of one set share */
	unsigned int pinned;		/* manual weight; 0: auto */
	bool supervised;		/* tandemd runs it (it has a command) */
	/* the scheduler's */
	__u64 handed, entry_drops, cpu_ns, consumed;
	double rate;			/* arrivals per s, smoothed */
	double cost;			/* CPU ns per packet, smoothed */
	unsigned int weight;		/* last written; 0: none yet */
	int werr;			/* last error writing it, logged once */
	bool primed;			/* counters read once */
};

static struct sup sup;
static struct tdm_nf_queue *queues;
static struct pnf pnfs[TDM_MAX_NFS];
static int npnfs;
static double interval, next_round, last_round;

/* Kill the supervised processes that hold frames and make no progress. */
static void hung_check(void)
{
	struct timespec ts;
	double now;
	int i;

	if (!queues)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec + ts.tv_nsec / 1e9;
	for (i = 0; i < npnfs; i++) {
		const struct tdm_nf_queue *q = &queues[pnfs[i].id];
		const struct sup_proc *sp = sup_find(&sup, pnfs[i].name);
		__u64 hb = __atomic_load_n(&q->heartbeat, __ATOMIC_RELAXED);
		struct tdm_nf_queue snap = *q;

		if (!pnfs[i].supervised || !sp || sp->state != SUP_RUNNING ||
		    !sp->pid || (pid_t)q->pid != sp->pid || !hb ||
		    now - hb / 1e9 < PROCS_HUNG_S ||
		    !tdm_nf_queue_backlog(&snap))
			continue;
		tlog(LOG_WARNING, "nf %s: pid %d hung (%llu frames waiting, no progress for %.0f s): killing it",
		     pnfs[i].name, sp->pid,
		     (unsigned long long)tdm_nf_queue_backlog(&snap),
		     now - hb / 1e9);
		kill(sp->pid, SIGKILL);
	}
}

/* Read the NF table: the process NFs, and what the supervisor should run. */
int procs_sync(void)
{
	static struct sup_spec specs[TDM_MAX_NFS];
	struct pnf old[TDM_MAX_NFS];
	int nold = npnfs, nspecs = 0, i, k;
	struct tdm_nf_info nf;
	struct tdm_ctx *ctx;
	__u32 id;

	if (tdm_open(&ctx, TDM_OPEN_READONLY)) {
		tlog(LOG_ERR, "process NFs: %s", tdm_open_errmsg());
		return -1;
	}
	if (!queues) {
		queues = tdm_nf_queues_map(ctx);
		if (!queues)
			tlog(LOG_ERR, "process NFs: %s: no CPU weights",
			     tdm_errmsg(ctx));
	}
	memcpy(old, pnfs, sizeof(old[0]) * nold);
	npnfs = 0;
	for (id = 0; id < TDM_MAX_NFS; id++) {
		struct sup_spec *sp = &specs[nspecs];
		struct pnf *p = &pnfs[npnfs];

		if (tdm_nf_get(ctx, id, &nf) || nf.type != TDM_NF_PROCESS)
			continue;
		memset(p, 0, sizeof(*p));
		/* the same NF (id and name) keeps its scheduler state */
		for (k = 0; k < nold; k++)
			if (old[k].id == id && !strcmp(old[k].name, nf.name))
				*p = old[k];
		p->id = id;
		snprintf(p->name, sizeof(p->name), "%s", nf.name);
		p->cpus = nf.params.process.cpus;
		p->pinned = nf.params.process.weight;
		if (tdm_nf_cmd_get(ctx, id, sp->cmd, sizeof(sp->cmd)))
			sp->cmd[0] = '\0';
		p->supervised = sp->cmd[0];
		if (p->supervised) {
			snprintf(sp->name, sizeof(sp->name), "%s", nf.name);
			sp->cpus = p->cpus;
			nspecs++;
		}
		npnfs++;
	}
	tdm_close(ctx);
	hung_check();
	i = sup_sync(&sup, specs, nspecs);
	if (i)
		tlog(LOG_ERR, "process NFs: cannot run them: %s", strerror(-i));
	return i;
}

/* Say how we schedule, for `tandem status` */
static void sched_record(void)
{
	struct tdm_ctx *ctx;

	if (tdm_open(&ctx, 0)) {
		tlog(LOG_WARNING, "%s", tdm_open_errmsg());
		return;
	}
	/* cg_mode(): CG_NONE, CG_V1, CG_V2 are status' 0, 1, 2 */
	if (tdm_daemon_sched(ctx, getpid(), TDM_SCHED_POLLING,
			     (__u32)(interval * 1e6 + 0.5), cg_mode()))
		tlog(LOG_WARNING, "%s", tdm_errmsg(ctx));
	tdm_close(ctx);
}

int procs_start(double sched_interval)
{
	cg_detect(NULL);
	sup_init(&sup, true);
	interval = sched_interval;
	last_round = mono_s();
	next_round = last_round + interval;
	sched_record();
	return procs_sync();
}

void procs_reap(void)
{
	sup_reap(&sup);
}

/* The supervisor's next deadline, or the scheduler's round if there are
 * process NFs to weigh; -1: nothing planned */
double procs_next_deadline(void)
{
	double d = sup_next_deadline(&sup);

	if (!npnfs || !queues)
		return d;
	return d < 0 || next_round < d ? next_round : d;
}

/* Smoothing over PROCS_TAU: the weight of a new sample dt s long. */
static double ewma(double old, double sample, double dt, bool first)
{
	double a = first ? 1 : 1 - exp(-dt / PROCS_TAU);

	return old + a * (sample - old);
}

/* Rate and cost of each NF since the last round. */
static void measure(double dt)
{
	int i;

	for (i = 0; i < npnfs; i++) {
		struct pnf *p = &pnfs[i];
		const struct tdm_nf_queue *q = &queues[p->id];
		__u64 h = __atomic_load_n(&q->handed, __ATOMIC_RELAXED);
		__u64 bp = __atomic_load_n(&q->entry_drops, __ATOMIC_RELAXED);
		__u64 cpu = __atomic_load_n(&q->cpu_ns, __ATOMIC_RELAXED);
		__u64 done = __atomic_load_n(&q->consumed, __ATOMIC_RELAXED);

		if (p->primed && h >= p->handed && bp >= p->entry_drops) {
			/* load: what reached it and what its chains were
			 * offered but dropped at entry (NFVNice's arrivals) */
			p->rate = ewma(p->rate, (h - p->handed +
					       bp - p->entry_drops) / dt, dt,
				       false);
			/*
			 * Cost: the process's CPU time per packet. The
			 * handler's TSC cycles count the time it was
			 * preempted by the NFs it shares the CPU with,
			 * which would flatten the weights (make bench).
			 */
			if (done > p->consumed && cpu >= p->cpu_ns)
				p->cost = ewma(p->cost, (double)(cpu - p->cpu_ns) /
					       (done - p->consumed), dt, !p->cost);
		}
		p->handed = h;
		p->entry_drops = bp;
		p->cpu_ns = cpu;
		p->consumed = done;
		p->primed = true;
	}
}

static void set_weight(struct pnf *p, unsigned int w)
{
	unsigned int old = p->weight;
	int err;

	if (old && w * 100 >= old * (100 - PROCS_WRITE_PCT) &&
	    w * 100 <= old * (100 + PROCS_WRITE_PCT))
		return;
	err = cg_set_weight(p->name, w);
	if (err) {
		/* once, not every millisecond */
		if (err != -EOPNOTSUPP && err != -ENOENT && err != p->werr)
			tlog(LOG_WARNING, "nf %s: cpu weight %u: %s", p->name,
			     w, strerror(-err));
		p->werr = err;
		return;
	}
	p->werr = 0;
	p->weight = w;
	__atomic_store_n(&queues[p->id].weight, w, __ATOMIC_RELAXED);
}

/* NFVNice's weights among the supervised NFs of each CPU set. */
static void weigh(void)
{
	struct wt_nf wt[TDM_MAX_NFS];
	int idx[TDM_MAX_NFS];
	bool done[TDM_MAX_NFS] = {};
	int i, k, n;

	for (i = 0; i < npnfs; i++) {
		if (done[i] || !pnfs[i].supervised ||
		    !sup_find(&sup, pnfs[i].name))
			continue;
		for (n = 0, k = i; k < npnfs; k++) {
			if (done[k] || !pnfs[k].supervised ||
			    pnfs[k].cpus != pnfs[i].cpus ||
			    !sup_find(&sup, pnfs[k].name))
				continue;
			done[k] = true;
			wt[n] = (struct wt_nf){ .rate = pnfs[k].rate,
						.cost = pnfs[k].cost,
						.pinned = pnfs[k].pinned };
			idx[n++] = k;
		}
		weights_compute(wt, n);
		for (k = 0; k < n; k++)
			set_weight(&pnfs[idx[k]], wt[k].weight);
	}
}

void procs_tick(double now)
{
	sup_tick(&sup, now);
	if (now < next_round)
		return;
	if (!queues || !npnfs) {
		/* nothing to weigh: no round is planned (deadline above) */
		last_round = now;
		next_round = now + interval;
		return;
	}
	measure(now - last_round);
	weigh();
	last_round = now;
	next_round += interval;
	if (next_round <= now)
		next_round = now + interval;	/* no catching up */
}

void procs_stop(void)
{
	sup_stop_all(&sup);
	cg_cleanup();
	tdm_nf_queues_unmap(queues);
	queues = NULL;
}
