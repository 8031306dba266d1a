// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A sample as Prometheus text, exposition format 0.0.4: for each metric
 * family a HELP and a TYPE line, then its samples. Names follow
 * Prometheus' naming practice: the prefix tandem_, counters end in
 * _total, units are base units (bytes, seconds), and a counter's sum
 * over its labels means something (drops over reasons are all drops).
 * The counter names are the keys of `tandem -j stats` (the fields of
 * struct tdm_*_stats), so one reads the other: Documentation/daemon.rst
 * lists them.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tandemd.h"

struct field {
	const char *name;		/* after tandem_KIND_, before _total */
	size_t off;			/* of a __u64 in the stats struct */
	const char *help;
};

#define F(type, f, h)	{ #f, offsetof(struct type, f), h }

static const struct field chain_fields[] = {
	F(tdm_chain_stats, packets, "Packets that entered the chain."),
	F(tdm_chain_stats, bytes, "Bytes of the packets that entered the chain."),
	F(tdm_chain_stats, passed, "Packets the chain passed to the stack."),
	F(tdm_chain_stats, dropped, "Packets dropped by an NF of the chain or its terminal action."),
	F(tdm_chain_stats, txed, "Packets the chain sent back out of the device (XDP_TX)."),
	F(tdm_chain_stats, redirected, "Packets handed to the chain's redirect."),
	F(tdm_chain_stats, missed, "Packets lost to failed tail calls in the chain."),
	F(tdm_chain_stats, backpressure, "Packets dropped at the chain's entry because a process NF in it was congested."),
};

static const struct field dev_fields[] = {
	F(tdm_dev_stats, packets, "Packets seen by the device's entry program."),
	F(tdm_dev_stats, bytes, "Bytes of the packets seen by the entry program."),
	F(tdm_dev_stats, steer_flow, "Packets steered by an exact 5-tuple entry."),
	F(tdm_dev_stats, steer_rule, "Packets steered by a prefix/port rule."),
	F(tdm_dev_stats, steer_default, "Packets that ran the device's default chain."),
	F(tdm_dev_stats, no_chain, "Packets no chain took: passed to the stack."),
	F(tdm_dev_stats, missed, "Packets whose chain slot was empty: passed."),
	F(tdm_dev_stats, truncated, "Packets with a header cut short."),
	F(tdm_dev_stats, malformed, "Packets with a malformed header."),
	F(tdm_dev_stats, fragments, "IP fragments."),
	F(tdm_dev_stats, unparsed, "Packets the parser could not classify."),
};

#undef F

static __u64 field_val(const void *st, const struct field *f)
{
	__u64 v;

	memcpy(&v, (const char *)st + f->off, sizeof(v));
	return v;
}

/* A label value as the format wants it: \\, \" and \n escaped. */
static void put_label(FILE *f, const char *name, const char *val, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (; *val; val++) {
		if (*val == '\\')
			fputs("\\\\", f);
		else if (*val == '"')
			fputs("\\\"", f);
		else if (*val == '\n')
			fputs("\\n", f);
		else
			fputc(*val, f);
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void nf_labels(FILE *f, const struct nf_sample *n)
{
	fputc('{', f);
	put_label(f, "nf", n->name, true);
	put_label(f, "type", n->type ? n->type : "unknown", false);
}

static void chain_labels(FILE *f, const struct chain_sample *c)
{
	fputc('{', f);
	put_label(f, "chain", c->name, true);
}

static void dev_labels(FILE *f, const struct dev_sample *d)
{
	fputc('{', f);
	put_label(f, "dev", d->name, true);
	put_label(f, "mode", d->mode, false);
	put_label(f, "state", d->state, false);
}

static void nf_metrics(FILE *f, const struct sample *s)
{
	int i, r;

	family(f, "tandem_nf_packets_total", "counter",
	       "Packets the NF saw.");
	for (i = 0; i < s->nnfs; i++) {
		fputs("tandem_nf_packets_total", f);
		nf_labels(f, &s->nfs[i]);
		fprintf(f, "} %llu\n", (unsigned long long)s->nfs[i].st.packets);
	}
	family(f, "tandem_nf_bytes_total", "counter",
	       "Bytes of the packets the NF saw.");
	for (i = 0; i < s->nnfs; i++) {
		fputs("tandem_nf_bytes_total", f);
		nf_labels(f, &s->nfs[i]);
		fprintf(f, "} %llu\n", (unsigned long long)s->nfs[i].st.bytes);
	}
	family(f, "tandem_nf_drops_total", "counter",
	       "Packets the NF dropped, by reason.");
	for (i = 0; i < s->nnfs; i++) {
		const char *reason;

		for (r = 0; (reason = tdm_nf_drop_name(s->nfs[i].type_id, r));
		     r++) {
			fputs("tandem_nf_drops_total", f);
			nf_labels(f, &s->nfs[i]);
			put_label(f, "reason", reason, false);
			fprintf(f, "} %llu\n",
				(unsigned long long)s->nfs[i].st.drops[r]);
		}
	}
	family(f, "tandem_nf_packets_per_second", "gauge",
	       "Packets per second the NF saw over the last interval.");
	for (i = 0; i < s->nnfs; i++) {
		fputs("tandem_nf_packets_per_second", f);
		nf_labels(f, &s->nfs[i]);
		fprintf(f, "} %.3f\n", s->nfs[i].pps);
	}
	family(f, "tandem_nf_bytes_per_second", "gauge",
	       "Bytes per second the NF saw over the last interval.");
	for (i = 0; i < s->nnfs; i++) {
		fputs("tandem_nf_bytes_per_second", f);
		nf_labels(f, &s->nfs[i]);
		fprintf(f, "} %.3f\n", s->nfs[i].bps);
	}
}

/* Process NFs' queues (struct tdm_nf_queue): only process NFs have them. */
#define Q(f)	offsetof(struct tdm_nf_queue, f)
static const struct qmetric {
	const char *name, *type, *help;
	size_t off;			/* a __u64 field; -1: computed */
} qmetrics[] = {
	{ "tandem_nf_queue_handed_total", "counter",
	  "Frames handed to the process NF's socket.", Q(handed) },
	{ "tandem_nf_queue_consumed_total", "counter",
	  "Frames the process NF took from its ring.", Q(consumed) },
	{ "tandem_nf_queue_ring_drops_total", "counter",
	  "Frames the kernel dropped from the process NF's ring.", Q(ring_drops) },
	{ "tandem_nf_process_passed_total", "counter",
	  "Packets the process NF passed on.", Q(passed) },
	{ "tandem_nf_process_dropped_total", "counter",
	  "Packets the process NF's verdict dropped.", Q(dropped) },
	{ "tandem_nf_bypassed_total", "counter",
	  "Packets that went on without the process NF while it was down (fail open).",
	  Q(bypassed) },
	{ "tandem_nf_backpressure_drops_total", "counter",
	  "Packets dropped at chain entry while the process NF was congested.",
	  Q(bp_drops) },
	{ "tandem_nf_process_cpu_seconds_total", "counter",
	  "CPU time the process NF's process spent serving its packets, seconds.",
	  (size_t)-7 },
	{ "tandem_nf_congestions_total", "counter",
	  "Times the process NF's queue reached its high watermark.",
	  Q(congestions) },
	{ "tandem_nf_stale_total", "counter",
	  "Packets back from the process NF that would have skipped an NF of their changed chain: dropped.",
	  Q(stale) },
	{ "tandem_nf_junk_total", "counter",
	  "Frames on the process NF's devices that no hop handed over: dropped.",
	  Q(junk) },
	{ "tandem_nf_queue_backlog", "gauge",
	  "Frames waiting in the process NF's queue.", (size_t)-1 },
	{ "tandem_nf_queue_ring", "gauge",
	  "The ring size of the process serving the NF, frames (0: none yet).", (size_t)-2 },
	{ "tandem_nf_congested", "gauge",
	  "1 while the process NF is congested (backpressure on).", (size_t)-3 },
	{ "tandem_nf_up", "gauge",
	  "1 while the process NF's process serves its socket.", (size_t)-4 },
	{ "tandem_nf_cpu_weight", "gauge",
	  "The CPU weight set for the process NF, by tandemd or tandem_sched.ko (cpu.weight units; 0: none).",
	  (size_t)-5 },
	{ "tandem_nf_cost_cycles", "gauge",
	  "TSC cycles per packet the process NF's handler took, on average.",
	  (size_t)-6 },
};
#undef Q

static double qvalue(const struct nf_sample *n, const struct qmetric *m)
{
	__u64 v;

	switch ((long)m->off) {
	case -1: return tdm_nf_queue_backlog(&n->q);
	case -2: return n->q.ring;
	case -3: return n->q.congested;
	case -4: return n->up;
	case -5: return n->has_sched && n->sched.module ? n->sched.weight :
			n->q.weight;
	case -6: return n->q.samples ? (double)n->q.cycles / n->q.samples : 0;
	case -7: return n->q.cpu_ns / 1e9;
	}
	memcpy(&v, (const char *)&n->q + m->off, sizeof(v));
	return v;
}

/* How tandemd or tandem_sched.ko weighs the process NFs tandemd runs */
static const struct smetric {
	const char *name, *type, *help;
	int what;
} smetrics[] = {
	{ "tandem_nf_sched_module", "gauge",
	  "1 while tandem_sched.ko weighs the process NF, 0 while tandemd does.", 0 },
	{ "tandem_nf_sched_cost_seconds", "gauge",
	  "CPU time per packet the scheduler weighs the process NF by, seconds (0: not known).", 1 },
	{ "tandem_nf_sched_reactions_total", "counter",
	  "Watermark crossings of the process NF answered by writing its CPU set's weights.", 2 },
	{ "tandem_nf_sched_reaction_seconds_total", "counter",
	  "Time from those crossings to the weights written, summed, seconds.", 3 },
	{ "tandem_nf_sched_reaction_last_seconds", "gauge",
	  "Time from the last answered crossing to its weights written, seconds.", 4 },
};

static double svalue(const struct nf_sched *n, int what)
{
	switch (what) {
	case 0: return n->module;
	case 1: return n->cost_s;
	case 2: return n->reactions;
	case 3: return n->react_s_sum;
	}
	return n->react_s_last;
}

static void sched_metrics(FILE *f, const struct sample *s)
{
	size_t k;
	int i;

	for (k = 0; k < ARRAY_SIZE(smetrics); k++) {
		family(f, smetrics[k].name, smetrics[k].type, smetrics[k].help);
		for (i = 0; i < s->nnfs; i++) {
			if (!s->nfs[i].process || !s->nfs[i].has_sched)
				continue;
			fputs(smetrics[k].name, f);
			nf_labels(f, &s->nfs[i]);
			fprintf(f, "} %.17g\n",
				svalue(&s->nfs[i].sched, smetrics[k].what));
		}
	}
}

static void queue_metrics(FILE *f, const struct sample *s)
{
	size_t k;
	int i;

	family(f, "tandem_nf_cpu_seconds_total", "counter",
	       "CPU time of the process NF's cgroup (tandemd runs it), seconds.");
	for (i = 0; i < s->nnfs; i++) {
		if (!s->nfs[i].process || !s->nfs[i].has_cpu)
			continue;
		fputs("tandem_nf_cpu_seconds_total", f);
		nf_labels(f, &s->nfs[i]);
		fprintf(f, "} %.9f\n", s->nfs[i].cpu_ns / 1e9);
	}

	sched_metrics(f, s);
	for (k = 0; k < sizeof(qmetrics) / sizeof(qmetrics[0]); k++) {
		family(f, qmetrics[k].name, qmetrics[k].type, qmetrics[k].help);
		for (i = 0; i < s->nnfs; i++) {
			if (!s->nfs[i].process)
				continue;
			fputs(qmetrics[k].name, f);
			nf_labels(f, &s->nfs[i]);
			fprintf(f, "} %.17g\n", qvalue(&s->nfs[i], &qmetrics[k]));
		}
	}
}

static void chain_metrics(FILE *f, const struct sample *s)
{
	char name[64];
	size_t k;
	int i;

	for (k = 0; k < ARRAY_SIZE(chain_fields); k++) {
		snprintf(name, sizeof(name), "tandem_chain_%s_total",
			 chain_fields[k].name);
		family(f, name, "counter", chain_fields[k].help);
		for (i = 0; i < s->nchains; i++) {
			fputs(name, f);
			chain_labels(f, &s->chains[i]);
			fprintf(f, "} %llu\n", (unsigned long long)
				field_val(&s->chains[i].st, &chain_fields[k]));
		}
	}
	family(f, "tandem_chain_packets_per_second", "gauge",
	       "Packets per second that entered the chain over the last interval.");
	for (i = 0; i < s->nchains; i++) {
		fputs("tandem_chain_packets_per_second", f);
		chain_labels(f, &s->chains[i]);
		fprintf(f, "} %.3f\n", s->chains[i].pps);
	}
	family(f, "tandem_chain_bytes_per_second", "gauge",
	       "Bytes per second that entered the chain over the last interval.");
	for (i = 0; i < s->nchains; i++) {
		fputs("tandem_chain_bytes_per_second", f);
		chain_labels(f, &s->chains[i]);
		fprintf(f, "} %.3f\n", s->chains[i].bps);
	}
}

static void dev_metrics(FILE *f, const struct sample *s)
{
	char name[64];
	size_t k;
	int i;

	for (k = 0; k < ARRAY_SIZE(dev_fields); k++) {
		snprintf(name, sizeof(name), "tandem_dev_%s_total",
			 dev_fields[k].name);
		family(f, name, "counter", dev_fields[k].help);
		for (i = 0; i < s->ndevs; i++) {
			fputs(name, f);
			dev_labels(f, &s->devs[i]);
			fprintf(f, "} %llu\n", (unsigned long long)
				field_val(&s->devs[i].st, &dev_fields[k]));
		}
	}
	family(f, "tandem_dev_packets_per_second", "gauge",
	       "Packets per second the entry program saw over the last interval.");
	for (i = 0; i < s->ndevs; i++) {
		fputs("tandem_dev_packets_per_second", f);
		dev_labels(f, &s->devs[i]);
		fprintf(f, "} %.3f\n", s->devs[i].pps);
	}
	family(f, "tandem_dev_bytes_per_second", "gauge",
	       "Bytes per second the entry program saw over the last interval.");
	for (i = 0; i < s->ndevs; i++) {
		fputs("tandem_dev_bytes_per_second", f);
		dev_labels(f, &s->devs[i]);
		fprintf(f, "} %.3f\n", s->devs[i].bps);
	}
}

static void daemon_metrics(FILE *f, const struct sample *s)
{
	const struct tdm_status *st = &s->status;

	family(f, "tandem_up", "gauge",
	       "1 if the last sample read the counters, else 0.");
	fprintf(f, "tandem_up %d\n", s->ok);
	family(f, "tandem_build_info", "gauge",
	       "tandemd's version and the datapath ABI it reads; always 1.");
	fputs("tandem_build_info{", f);
	put_label(f, "version", TANDEMD_VERSION, true);
	fprintf(f, ",abi=\"%d\"} 1\n", TDM_ABI_VERSION);
	family(f, "tandem_sample_timestamp_seconds", "gauge",
	       "When the last sample was taken, seconds since the epoch.");
	fprintf(f, "tandem_sample_timestamp_seconds %.3f\n", s->time);
	family(f, "tandem_sample_duration_seconds", "gauge",
	       "Seconds the last sample took.");
	fprintf(f, "tandem_sample_duration_seconds %.6f\n", s->duration);
	family(f, "tandem_sample_errors_total", "counter",
	       "Samples that failed since tandemd started.");
	fprintf(f, "tandem_sample_errors_total %llu\n", s->errors);
	/* by anyone: tandemd or the CLI; absent until the first apply */
	if (!s->ok || !st->apply_time)
		return;
	family(f, "tandem_last_apply_success", "gauge",
	       "1 if the last policy apply succeeded, else 0.");
	fprintf(f, "tandem_last_apply_success %d\n", st->apply_result == 0);
	family(f, "tandem_last_apply_timestamp_seconds", "gauge",
	       "When the last policy apply ended, seconds since the epoch.");
	fprintf(f, "tandem_last_apply_timestamp_seconds %.3f\n",
		st->apply_time / 1e9);
}

int metrics_format(const struct sample *s, char **buf, size_t *len)
{
	FILE *f;

	*buf = NULL;
	f = open_memstream(buf, len);
	if (!f)
		return -ENOMEM;
	daemon_metrics(f, s);
	if (s->ok) {
		nf_metrics(f, s);
		queue_metrics(f, s);
		chain_metrics(f, s);
		dev_metrics(f, s);
	}
	if (fclose(f)) {
		free(*buf);
		*buf = NULL;
		return -ENOMEM;
	}
	return 0;
}
