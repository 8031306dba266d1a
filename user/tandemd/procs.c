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
 *
 * A watermark crossing (the datapath's crossed_ns moves) is an event:
 * the round that sees it writes the weights of the NF's CPU set even
 * if they did not move, and counts a reaction, the time from the
 * crossing to that write. With tandem_sched.ko loaded (kmod.c) the
 * module does this from kernel events instead, for every NF it took:
 * tandemd then only measures, for the metrics.
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
	/* watermark crossings, and the time to the weights they caused */
	bool crossed_init;		/* crossed_seen was read once */
	__u64 crossed_seen;		/* crossed_ns of the last round */
	__u64 event_ns;			/* a crossing not answered yet; 0 */
	__u64 reactions, react_ns_sum, react_ns_last;
};

static struct sup sup;
static struct tdm_nf_queue *queues;
static struct pnf pnfs[TDM_MAX_NFS];
static int npnfs;
static double interval, next_round, last_round;
static bool module_mode;

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

static void sched_record(void);
static void kmod_sync(bool sync);

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
		p->cpus = TDM_NF_PARAMS(&nf.params, process)->cpus;
		p->pinned = TDM_NF_PARAMS(&nf.params, process)->weight;
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
	kmod_sync(true);
	return i;
}

/*
 * The module came: a chain loaded before it decides backpressure by
 * itself (its hop 0 is tdm_chain, not tdm_chain_km) and would never
 * tell the module of a crossing. Re-load those (hitless, as a replace).
 */
static void chains_sched_sync(void)
{
	struct tdm_ctx *ctx;
	int n;

	if (tdm_open(&ctx, 0)) {
		tlog(LOG_ERR, "process NFs: chains: %s", tdm_open_errmsg());
		return;
	}
	n = tdm_chains_sched_sync(ctx);
	if (n < 0)
		tlog(LOG_ERR, "process NFs: re-loading chains for tandem_sched: %s",
		     tdm_errmsg(ctx));
	else if (n)
		tlog(LOG_NOTICE, "process NFs: %d chain%s re-loaded to ask tandem_sched",
		     n, n == 1 ? "" : "s");
	tdm_close(ctx);
}

/*
 * Module mode (kmod.c): with sync (a supervisor round) look for the
 * module and switch modes if it came or went; tell it the supervised
 * NFs and their processes (each tick: a restart's new pid at once).
 */
static void kmod_sync(bool sync)
{
	struct km_nf nfs[TDM_MAX_NFS];
	struct tdm_sched_state st;
	bool on = module_mode;
	int i, n = 0;

	if (sync)
		on = km_detect();
	if (on != module_mode) {
		module_mode = on;
		tlog(LOG_NOTICE, "process NFs: scheduling: %s",
		     on ? "module" : "polling");
		/* polling again: write every weight, take crossings anew */
		for (i = 0; i < npnfs; i++) {
			pnfs[i].weight = 0;
			pnfs[i].crossed_init = false;
			pnfs[i].event_ns = 0;
		}
		sched_record();
		if (on)
			chains_sched_sync();
	}
	if (!module_mode)
		return;
	for (i = 0; i < npnfs; i++) {
		const struct sup_proc *sp = sup_find(&sup, pnfs[i].name);

		if (!pnfs[i].supervised || !sp)
			continue;
		nfs[n++] = (struct km_nf){
			.id = pnfs[i].id, .name = pnfs[i].name,
			.cpus = pnfs[i].cpus, .pinned = pnfs[i].pinned,
			.pid = sp->state == SUP_RUNNING ? sp->pid : 0,
		};
	}
	km_sync(nfs, n, sync);
	if (!sync || !queues)
		return;
	/* the weight the module wrote, for `tandem nf show` */
	for (i = 0; i < npnfs; i++)
		if (!km_get(pnfs[i].id, &st))
			__atomic_store_n(&queues[pnfs[i].id].weight, st.weight,
					 __ATOMIC_RELAXED);
}

int procs_sched_get(__u32 id, struct nf_sched *out)
{
	struct tdm_sched_state st;
	const struct pnf *p = NULL;
	int i;

	for (i = 0; i < npnfs; i++)
		if (pnfs[i].id == id)
			p = &pnfs[i];
	if (!p || !p->supervised)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	if (!km_get(id, &st)) {
		out->module = true;
		out->weight = st.weight;
		out->cost_s = st.cost_ns / 1e9;
		out->reactions = st.reactions;
		out->react_s_sum = st.react_ns_sum / 1e9;
		out->react_s_last = st.react_ns_last / 1e9;
		return 0;
	}
	out->weight = p->weight;
	out->cost_s = p->cost / 1e9;
	out->reactions = p->reactions;
	out->react_s_sum = p->react_ns_sum / 1e9;
	out->react_s_last = p->react_ns_last / 1e9;
	return 0;
}

/* Say how we schedule, for `tandem status` */
static void sched_record(void)
{
	__u32 mode = module_mode ? TDM_SCHED_MODULE : TDM_SCHED_POLLING;
	struct tdm_ctx *ctx;

	if (tdm_open(&ctx, 0)) {
		tlog(LOG_WARNING, "%s", tdm_open_errmsg());
		return;
	}
	/* cg_mode(): CG_NONE, CG_V1, CG_V2 are status' 0, 1, 2 */
	if (tdm_daemon_sched(ctx, getpid(), mode,
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

/* force: write it even if it moved less than PROCS_WRITE_PCT (an event) */
static void set_weight(struct pnf *p, unsigned int w, bool force)
{
	unsigned int old = p->weight;
	struct timespec ts;
	__u64 now;
	int err;

	if (!force && old && w * 100 >= old * (100 - PROCS_WRITE_PCT) &&
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
	if (!p->event_ns)
		return;
	/* the crossing's answer: the datapath's clock is CLOCK_MONOTONIC */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	p->react_ns_last = now > p->event_ns ? now - p->event_ns : 0;
	p->react_ns_sum += p->react_ns_last;
	p->reactions++;
	p->event_ns = 0;
}

/* Has p's queue crossed a watermark since the last round? */
static bool crossed(struct pnf *p)
{
	__u64 c = __atomic_load_n(&queues[p->id].crossed_ns, __ATOMIC_RELAXED);

	if (!p->crossed_init || c == p->crossed_seen) {
		p->crossed_init = true;
		p->crossed_seen = c;
		return false;
	}
	p->crossed_seen = c;
	if (!p->event_ns)		/* the oldest unanswered one stays */
		p->event_ns = c;
	return true;
}

/* Weighed by tandemd (not the module) this round */
static bool polled(const struct pnf *p)
{
	return p->supervised && !km_registered(p->id) &&
	       sup_find(&sup, p->name);
}

/* NFVNice's weights among the supervised NFs of each CPU set. */
static void weigh(void)
{
	struct wt_nf wt[TDM_MAX_NFS];
	int idx[TDM_MAX_NFS];
	bool done[TDM_MAX_NFS] = {};
	bool event;
	int i, k, n;

	for (i = 0; i < npnfs; i++) {
		if (done[i] || !polled(&pnfs[i]))
			continue;
		event = false;
		for (n = 0, k = i; k < npnfs; k++) {
			if (done[k] || pnfs[k].cpus != pnfs[i].cpus ||
			    !polled(&pnfs[k]))
				continue;
			done[k] = true;
			if (crossed(&pnfs[k]))
				event = true;
			wt[n] = (struct wt_nf){ .rate = pnfs[k].rate,
						.cost = pnfs[k].cost,
						.pinned = pnfs[k].pinned };
			idx[n++] = k;
		}
		weights_compute(wt, n);
		for (k = 0; k < n; k++)
			set_weight(&pnfs[idx[k]], wt[k].weight, event);
	}
}

void procs_tick(double now)
{
	sup_tick(&sup, now);
	if (module_mode)
		kmod_sync(false);	/* a restart's pid */
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
	km_stop();
	cg_cleanup();
	tdm_nf_queues_unmap(queues);
	queues = NULL;
}
