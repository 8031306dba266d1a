// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Sampling: one round reads every NF's, chain's and device's counters
 * and the status record through libtandem, and rates against the round
 * before. The state lock is taken (shared) for the round only and
 * dropped right after, so a CLI command never waits behind the daemon
 * for longer than one round.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tandemd.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Per-second rate of a counter over secs; 0 if it went backwards (the
 * object was deleted and another took its id and name).
 */
static double rate(__u64 cur, __u64 prev, double secs)
{
	return cur >= prev && secs > 0 ? (cur - prev) / secs : 0;
}

static int read_nfs(struct tdm_ctx *ctx, struct sample *s)
{
	struct tdm_nf_info nf;
	struct nf_sample *n;
	__u32 id;
	int err;

	for (id = 0; id < TDM_MAX_NFS; id++) {
		if (tdm_nf_get(ctx, id, &nf))
			continue;	/* a free id */
		n = &s->nfs[s->nnfs];
		memset(n, 0, sizeof(*n));
		err = tdm_stats_nf(ctx, id, &n->st);
		if (err)
			return err;
		n->id = id;
		snprintf(n->name, sizeof(n->name), "%s", nf.name);
		n->type = tdm_nf_type_name(tdm_nf_type_by_id(nf.type));
		n->type_id = nf.type;
		if (nf.type == TDM_NF_PROCESS) {
			err = tdm_nf_queue_get(ctx, id, &n->q);
			if (err)
				return err;
			n->process = true;
			n->up = tdm_nf_queue_up(&n->q);
			n->has_cpu = !cg_cpu_usage_ns(n->name, &n->cpu_ns);
			n->has_sched = !procs_sched_get(id, &n->sched);
		}
		s->nnfs++;
	}
	return 0;
}

static int read_chains(struct tdm_ctx *ctx, struct sample *s)
{
	struct tdm_chain_info ci;
	struct chain_sample *c;
	__u32 id;
	int err;

	for (id = 0; id < TDM_MAX_CHAINS; id++) {
		if (tdm_chain_get(ctx, id, &ci))
			continue;
		c = &s->chains[s->nchains];
		memset(c, 0, sizeof(*c));
		err = tdm_stats_chain(ctx, id, &c->st);
		if (err)
			return err;
		c->id = id;
		snprintf(c->name, sizeof(c->name), "%s", ci.name);
		s->nchains++;
	}
	return 0;
}

static int read_devs(struct tdm_ctx *ctx, struct sample *s)
{
	struct tdm_dev_status *v;
	struct dev_sample *d;
	int i, n, err;

	err = tdm_dev_list(ctx, &v, &n);
	if (err)
		return err;
	for (i = 0; i < n && s->ndevs < (int)ARRAY_SIZE(s->devs); i++) {
		d = &s->devs[s->ndevs];
		memset(d, 0, sizeof(*d));
		err = tdm_stats_dev(ctx, v[i].dev.slot, &d->st);
		if (err)
			break;
		d->slot = v[i].dev.slot;
		snprintf(d->name, sizeof(d->name), "%s", v[i].dev.name);
		d->mode = tdm_mode_name(v[i].dev.mode);
		d->state = tdm_dev_state_name(v[i].state);
		s->ndevs++;
	}
	free(v);
	return err;
}

/* Rates of cur's rows against the rows of prev with the same id and name. */
static void rates(struct sample *cur, const struct sample *prev)
{
	double secs = cur->mono - prev->mono;
	int i, j;

	for (i = 0; i < cur->nnfs; i++) {
		struct nf_sample *a = &cur->nfs[i];

		for (j = 0; j < prev->nnfs; j++) {
			const struct nf_sample *b = &prev->nfs[j];

			if (a->id != b->id || strcmp(a->name, b->name))
				continue;
			a->pps = rate(a->st.packets, b->st.packets, secs);
			a->bps = rate(a->st.bytes, b->st.bytes, secs);
		}
	}
	for (i = 0; i < cur->nchains; i++) {
		struct chain_sample *a = &cur->chains[i];

		for (j = 0; j < prev->nchains; j++) {
			const struct chain_sample *b = &prev->chains[j];

			if (a->id != b->id || strcmp(a->name, b->name))
				continue;
			a->pps = rate(a->st.packets, b->st.packets, secs);
			a->bps = rate(a->st.bytes, b->st.bytes, secs);
		}
	}
	for (i = 0; i < cur->ndevs; i++) {
		struct dev_sample *a = &cur->devs[i];

		for (j = 0; j < prev->ndevs; j++) {
			const struct dev_sample *b = &prev->devs[j];

			if (a->slot != b->slot || strcmp(a->name, b->name))
				continue;
			a->pps = rate(a->st.packets, b->st.packets, secs);
			a->bps = rate(a->st.bytes, b->st.bytes, secs);
		}
	}
}

int sample_take(struct sample *cur, const struct sample *prev, char *err,
		size_t errlen)
{
	struct tdm_ctx *ctx;
	int ret;

	cur->ok = false;
	cur->nnfs = cur->nchains = cur->ndevs = 0;
	cur->errors = prev ? prev->errors : 0;
	cur->time = clock_s(CLOCK_REALTIME);
	cur->mono = clock_s(CLOCK_MONOTONIC);
	ret = tdm_open(&ctx, TDM_OPEN_READONLY);
	if (ret) {
		snprintf(err, errlen, "%s", tdm_open_errmsg());
		goto out;
	}
	ret = read_nfs(ctx, cur);
	if (!ret)
		ret = read_chains(ctx, cur);
	if (!ret)
		ret = read_devs(ctx, cur);
	if (!ret)
		ret = tdm_status_get(ctx, &cur->status, NULL);
	if (ret)
		snprintf(err, errlen, "%s", tdm_errmsg(ctx));
	tdm_close(ctx);
out:
	cur->duration = clock_s(CLOCK_MONOTONIC) - cur->mono;
	if (ret) {
		cur->errors++;
		return ret;
	}
	cur->ok = true;
	if (prev && prev->ok)
		rates(cur, prev);
	return 0;
}
