// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Applying a policy: make the running state equal to it, all or nothing.
 *
 * The running state is read into a policy of its own (with ids) and
 * compared with the file object by object, by name (NFs, chains,
 * devices) or by what they match (rules, steering entries). What is the
 * same is not touched: it keeps its id, counters and state. The changes
 * are made in an order where every object exists before anything refers
 * to it and nothing is deleted before the commit:
 *
 *   sets added, set elements added (sets.c's stage: a set holds its old
 *   and its new elements until the commit), NFs added, NF parameters and
 *   firewall rulesets changed, chains added, chains changed (hitless
 *   replace), devices attached or changed, steering entries added or
 *   changed;  -- commit --
 *   steering entries, devices, chains, NFs deleted, the elements a set
 *   lost deleted (sets.c's prune), sets deleted.
 *
 * Every change before the commit first writes how to take it back to the
 * apply log (pinned map tdm_apply_log): a failure, or the next tdm_open()
 * after a kill, takes them back in reverse order, which restores the
 * state as it was (a firewall goes back to its old bank, whose ruleset
 * was never written over). At the commit the deletions are written to
 * the log; from then on they are finished, not taken back. Each step,
 * back or forward, is idempotent: a recovery cut short is run again.
 *
 * Not hitless: a device whose XDP mode changes is detached and attached
 * again. An NF or a set whose type changes is refused (give it another
 * name): a rule holds a set's id and its kind of lookup.
 *
 * For tests, TANDEM_FAIL_AT=N makes the Nth change of an apply fail.
 */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>

#include "policy.h"
#include "grammar.h"

/* ---- the apply log ---- */

static int log_read(struct tdm_ctx *ctx, __u32 key, struct tdm_apply_step *s)
{
	if (bpf_map_lookup_elem(ctx->apply_log_fd, &key, s)) {
		if (errno == ENOENT) {
			memset(s, 0, sizeof(*s));
			return 0;
		}
		return tdm_err(ctx, errno, "reading the apply log: %s",
			       strerror(errno));
	}
	return 0;
}

static int log_write(struct tdm_ctx *ctx, __u32 key,
		     const struct tdm_apply_step *s)
{
	if (bpf_map_update_elem(ctx->apply_log_fd, &key, s, BPF_ANY))
		return tdm_err(ctx, errno, "writing the apply log: %s",
			       strerror(errno));
	return 0;
}

static int log_header(struct tdm_ctx *ctx, __u32 phase, __u32 nsteps)
{
	struct tdm_apply_step h = {
		.op = TDM_AP_HEADER, .lo = phase, .hi = nsteps,
		.netns = tdm_netns_cookie(),
	};

	return log_write(ctx, 0, &h);
}

/* Empty the log: the header first, so a kill half way leaves no phase. */
static int log_clear(struct tdm_ctx *ctx, __u32 nsteps)
{
	__u32 k;
	int err = log_header(ctx, TDM_AP_IDLE, 0);

	for (k = 1; !err && k <= nsteps; k++)
		if (bpf_map_delete_elem(ctx->apply_log_fd, &k) &&
		    errno != ENOENT)
			err = tdm_err(ctx, errno, "clearing the apply log: %s",
				      strerror(errno));
	return err;
}

struct applier {
	struct tdm_ctx *ctx;
	const struct tdm_policy *p;	/* wanted */
	struct tdm_policy *cur;		/* running */
	__u32 nsteps;
	__u32 phase;
	struct tdm_apply_result res;
	int line;			/* of the change being made */
};

/* Append step s to the log before the change it describes. */
static int log_step(struct applier *ap, const struct tdm_apply_step *s)
{
	int err;

	if (ap->nsteps + 1 >= TDM_APPLY_MAX_STEPS)
		return tdm_err(ap->ctx, E2BIG, "more than %d changes in one apply",
			       TDM_APPLY_MAX_STEPS - 1);
	err = log_write(ap->ctx, ap->nsteps + 1, s);
	if (!err)
		err = log_header(ap->ctx, ap->phase, ap->nsteps + 1);
	if (!err)
		ap->nsteps++;
	tdm_crash_point(ap->ctx);
	return err;
}

/* Each change of an apply passes here: a test may fail or kill it. */
static int gate(struct applier *ap, int line)
{
	struct tdm_ctx *ctx = ap->ctx;

	ap->line = line;
	tdm_crash_point(ctx);
	if (ctx->fail_at && ++ctx->fail_steps == ctx->fail_at)
		return tdm_err(ctx, EIO, "failed on purpose at change %lu (TANDEM_FAIL_AT)",
			       ctx->fail_steps);
	return 0;
}

/* ---- steps back and forward (idempotent) ---- */

static int chain_name_of(struct tdm_ctx *ctx, __u32 id, char *buf,
			 size_t size)
{
	struct tdm_chain_info ci;

	if (id == TDM_CHAIN_NONE) {
		buf[0] = '\0';
		return 0;
	}
	if (tdm_chain_get(ctx, id, &ci))
		return tdm_err(ctx, ENOENT, "chain %u is gone", id);
	snprintf(buf, size, "%s", ci.name);
	return 0;
}

/*
 * Back to the chain's old NFs and action, by ids: no name is looked up,
 * so a device the chain redirected to that is gone since does not stop
 * the undo (the datapath redirects to the ifindex, as before).
 */
static int undo_chain(struct tdm_ctx *ctx, const struct tdm_apply_step *s)
{
	struct tdm_chain_info ci;
	int id;

	id = tdm_chain_lookup(ctx, s->name, &ci);
	if (id < 0)
		return 0;
	memset(ci.nf_ids, 0, sizeof(ci.nf_ids));
	memcpy(ci.nf_ids, s->nf_ids, sizeof(s->nf_ids));
	ci.nnfs = s->nnfs;
	ci.action = s->action;
	ci.redirect_ifindex = s->redirect_ifindex;
	return tdm_chain_restore(ctx, id, &ci);
}

static int undo_dev(struct tdm_ctx *ctx, const struct tdm_apply_step *s)
{
	enum tdm_attach_mode mode = s->mode == XDP_FLAGS_SKB_MODE ?
				    TDM_MODE_GENERIC : TDM_MODE_NATIVE;
	struct tdm_dev_status *v;
	char chain[TDM_NAME_LEN];
	bool here = false, same = false;
	int n, i, err;

	err = tdm_dev_list(ctx, &v, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		if (v[i].attached && !strcmp(v[i].name_now, s->name)) {
			here = true;
			same = v[i].dev.mode == s->mode;
		}
	free(v);
	err = chain_name_of(ctx, s->chain_id, chain, sizeof(chain));
	if (!err && here && !same)
		err = tdm_dev_detach_keep(ctx, s->name);
	if (!err)
		err = tdm_dev_attach(ctx, s->name, chain[0] ? chain : NULL,
				     mode, false);
	return err;
}

/* Entries [lo, hi) of device name out; its record too if they made it. */
static int undo_steer(struct tdm_ctx *ctx, const struct tdm_apply_step *s)
{
	struct tdm_dev d;
	int err = tdm_dev_find(ctx, s->name, &d);

	if (err == -ENOENT || err == -ENODEV)
		return 0;
	err = err ?: tdm_steer_del_slot(ctx, d.slot, s->lo, s->hi);
	if (!err && s->mode)
		err = tdm_dev_forget_unused(ctx, d.slot);
	return err;
}

/* Set name and its elements out, if it is there. */
static int set_gone(struct tdm_ctx *ctx, const char *name)
{
	struct tdm_set_info set;
	int id = tdm_set_lookup(ctx, name, &set);

	if (id == -ENOENT)
		return 0;
	return id < 0 ? id : tdm_set_destroy(ctx, id);
}

/* Take back step s (before the commit). */
static int step_undo(struct tdm_ctx *ctx, const struct tdm_apply_step *s)
{
	struct tdm_nf_info nf;

	switch (s->op) {
	case TDM_AP_NF_ADDED:
		if (tdm_nf_lookup(ctx, s->name, NULL) < 0)
			return 0;
		return tdm_nf_del(ctx, s->name);
	case TDM_AP_NF_CHANGED:
		/* chains back to the old bank and parameters, then the
		 * record: the old bank was never written over */
		if (tdm_nf_get(ctx, s->id, &nf) || nf.type != s->nf.type)
			return 0;
		if (nf.type == TDM_NF_PROCESS) {
			int err = tdm_nf_cmd_unstash(ctx, s->id) ?:
				  tdm_proc_watermarks(ctx, s->id,
						      TDM_NF_PARAMS(&s->nf.params, process));

			if (err)
				return err;
		}
		return tdm_fw_bank_finish(ctx, s->id, &s->nf);
	case TDM_AP_CHAIN_ADDED:
		if (tdm_chain_lookup(ctx, s->name, NULL) < 0)
			return 0;
		return tdm_chain_del(ctx, s->name);
	case TDM_AP_CHAIN_CHANGED:
		return undo_chain(ctx, s);
	case TDM_AP_DEV_ATTACHED: {
		int err = tdm_dev_detach(ctx, s->name);

		/* not attached (any more): nothing to take back */
		return err == -ENODEV || err == -ENOENT ? 0 : err;
	}
	case TDM_AP_DEV_CHANGED:
		return undo_dev(ctx, s);
	case TDM_AP_STEER_ADDED:
		return undo_steer(ctx, s);
	case TDM_AP_FLOW_CHANGED:
		return tdm_steer_flow_set(ctx, s->id, &s->m, s->chain_id);
	case TDM_AP_SET_ADDED:
		return set_gone(ctx, s->name);
	case TDM_AP_SET_CHANGED:
		return tdm_set_unstage(ctx, s->id, s->name, s->lo, s->mode,
				       s->hi);
	default:
		return 0;
	}
}

/* Finish step s (after the commit). */
static int step_finish(struct tdm_ctx *ctx, const struct tdm_apply_step *s)
{
	switch (s->op) {
	case TDM_AP_STEER_DEL: {
		__u32 id = s->lo;

		return tdm_steer_take_out_ids(ctx, s->id, &id, 1);
	}
	case TDM_AP_DEV_DETACH: {
		int err = tdm_dev_detach(ctx, s->name);

		return err == -ENODEV || err == -ENOENT ? 0 : err;
	}
	case TDM_AP_CHAIN_DEL:
		if (tdm_chain_lookup(ctx, s->name, NULL) < 0)
			return 0;
		return tdm_chain_del(ctx, s->name);
	case TDM_AP_NF_DEL:
		if (tdm_nf_lookup(ctx, s->name, NULL) < 0)
			return 0;
		return tdm_nf_del(ctx, s->name);
	case TDM_AP_SET_PRUNE:
		return tdm_set_prune(ctx, s->id, s->name, s->lo, s->hi);
	case TDM_AP_SET_DEL:
		return set_gone(ctx, s->name);
	default:
		return 0;
	}
}

/*
 * The steering deletions of one device that follow each other in the
 * log (the commit writes them so), from step *k on, at once: one leaf
 * update and one grace period, not one per entry. *k ends at the last.
 */
static int finish_steer_dels(struct tdm_ctx *ctx, __u32 *k, __u32 nsteps,
			     const struct tdm_apply_step *first)
{
	struct tdm_apply_step s;
	__u32 *ids, n = 0, cap = 1024;
	int err = 0;

	ids = malloc(cap * sizeof(*ids));
	if (!ids)
		return tdm_err(ctx, ENOMEM, "out of memory");
	ids[n++] = first->lo;
	while (*k < nsteps) {
		err = log_read(ctx, *k + 1, &s);
		if (err || s.op != TDM_AP_STEER_DEL || s.id != first->id)
			break;
		if (n == cap) {
			__u32 *q = realloc(ids, 2 * cap * sizeof(*ids));

			if (!q) {
				err = tdm_err(ctx, ENOMEM, "out of memory");
				break;
			}
			ids = q;
			cap *= 2;
		}
		ids[n++] = s.lo;
		(*k)++;
	}
	if (!err)
		err = tdm_steer_take_out_ids(ctx, first->id, ids, n);
	free(ids);
	return err;
}

/*
 * Run the log: before the commit, every step back in reverse order; after
 * it, every deletion. The log is cleared only when all went through, so
 * a failure leaves it for the next tdm_open() to run again.
 */
static int log_run(struct tdm_ctx *ctx)
{
	struct tdm_apply_step h, s;
	char msg[sizeof(ctx->err)];
	__u32 k;
	int err;

	/* a change of this apply cut short goes first, as at open */
	err = tdm_journal_recover(ctx) ?: log_read(ctx, 0, &h);
	if (err || h.op != TDM_AP_HEADER || h.lo == TDM_AP_IDLE)
		return err;
	/* its devices are named in its namespace: recovered only there */
	if (h.netns != tdm_netns_cookie())
		return tdm_err(ctx, EBUSY,
			       "a policy apply in another network namespace was cut short: run a tandem command there first");
	if (h.lo == TDM_AP_CHANGING) {
		for (k = h.hi; k >= 1; k--) {
			err = log_read(ctx, k, &s) ?: step_undo(ctx, &s);
			if (err)
				goto fail;
		}
	} else {
		for (k = 1; k <= h.hi; k++) {
			err = log_read(ctx, k, &s);
			if (!err && s.op == TDM_AP_STEER_DEL)
				err = finish_steer_dels(ctx, &k, h.hi, &s);
			else if (!err)
				err = step_finish(ctx, &s);
			if (err)
				goto fail;
		}
	}
	tdm_nf_cmd_stash_drop(ctx);
	return log_clear(ctx, h.hi);
fail:
	snprintf(msg, sizeof(msg), "%s", ctx->err);
	snprintf(ctx->err, sizeof(ctx->err), "%s a policy apply: %.900s",
		 h.lo == TDM_AP_CHANGING ? "taking back" : "finishing", msg);
	return err;
}

/* 1 if an apply of this network namespace was cut short; one of another
 * namespace waits for a command there (other commands go on) */
int tdm_apply_pending(struct tdm_ctx *ctx)
{
	struct tdm_apply_step h;
	int err = log_read(ctx, 0, &h);

	if (err)
		return err;
	return h.op == TDM_AP_HEADER && h.lo != TDM_AP_IDLE &&
	       h.netns == tdm_netns_cookie();
}

int tdm_apply_recover(struct tdm_ctx *ctx)
{
	return tdm_apply_pending(ctx) > 0 ? log_run(ctx) : 0;
}

/* ---- the running state as a policy ---- */

static int cur_nf_index(const struct tdm_policy *cur, __u32 id)
{
	int i;

	for (i = 0; i < cur->nnfs; i++)
		if (cur->nfs[i].id == id)
			return i;
	return -1;
}

static int cur_chain_index(const struct tdm_policy *cur, __u32 id)
{
	int i;

	for (i = 0; i < cur->nchains; i++)
		if (cur->chains[i].id == id)
			return i;
	return -1;
}

static int read_sets(struct tdm_ctx *ctx, struct tdm_policy *cur)
{
	struct tdm_set_elems *el;
	struct tdm_set_info *info;
	__u32 id;
	int err;

	info = calloc(TDM_MAX_SETS + 1, sizeof(*info));
	el = calloc(TDM_MAX_SETS + 1, sizeof(*el));
	err = info && el ? tdm_set_elems_all(ctx, info, el) :
			   tdm_err(ctx, ENOMEM, "out of memory");
	for (id = 1; !err && id <= TDM_MAX_SETS; id++) {
		if (!info[id].name[0])
			continue;
		if (GROW(cur, sets)) {
			err = tdm_err(ctx, ENOMEM, "out of memory");
			break;
		}
		/* the elements move to the policy */
		cur->sets[cur->nsets++] = (struct pol_set){
			.info = info[id], .elems = el[id], .id = id,
		};
		memset(&el[id], 0, sizeof(el[id]));
	}
	for (id = 0; el && id <= TDM_MAX_SETS; id++)
		tdm_set_elems_free(&el[id]);
	free(info);
	free(el);
	return err;
}

/* The name of the running set id into name ("" if there is none) */
static void cur_set_name(const struct tdm_policy *cur, __u32 id, char *name)
{
	int i;

	name[0] = '\0';
	for (i = 0; id && i < cur->nsets; i++)
		if (cur->sets[i].id == id)
			snprintf(name, TDM_NAME_LEN, "%s", cur->sets[i].info.name);
}

static int read_nfs(struct tdm_ctx *ctx, struct tdm_policy *cur)
{
	struct tdm_fw_rules rl = {};
	struct tdm_nf_info nf;
	__u32 id, i;
	int err;

	for (id = 0; id < TDM_MAX_NFS; id++) {
		err = tdm_nf_get(ctx, id, &nf);
		if (err == -ENOENT)
			continue;
		if (err || GROW(cur, nfs))
			goto fail;
		cur->nfs[cur->nnfs] = (struct pol_nf){ .info = nf, .id = id };
		if (nf.type == TDM_NF_PROCESS &&
		    (err = tdm_nf_cmd_get(ctx, id, cur->nfs[cur->nnfs].cmd,
					  sizeof(cur->nfs[0].cmd))))
			goto fail;
		cur->nnfs++;
		if (nf.type != TDM_NF_FIREWALL)
			continue;
		err = tdm_rule_list(ctx, nf.name, &rl);
		if (err)
			goto fail;
		for (i = 0; i < rl.n; i++) {
			if (GROW(cur, rules))
				goto fail;
			cur->rules[cur->nrules++] = (struct pol_rule){
				.nf = cur->nnfs - 1,
				.spec = {
					.prio = rl.v[i].prio,
					.action = rl.v[i].action,
					.m = rl.v[i].m,
				},
				.id = rl.v[i].id,
			};
			cur_set_name(cur, rl.v[i].m.src_set,
				     cur->rules[cur->nrules - 1].spec.src_set);
			cur_set_name(cur, rl.v[i].m.dst_set,
				     cur->rules[cur->nrules - 1].spec.dst_set);
		}
	}
	tdm_fw_rules_free(&rl);
	return 0;
fail:
	tdm_fw_rules_free(&rl);
	return err ? err : tdm_err(ctx, ENOMEM, "out of memory");
}

static int read_chains(struct tdm_ctx *ctx, struct tdm_policy *cur)
{
	struct tdm_chain_info ci;
	struct pol_chain *c;
	__u32 id, i;
	int err;

	for (id = 0; id < TDM_MAX_CHAINS; id++) {
		err = tdm_chain_get(ctx, id, &ci);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		if (GROW(cur, chains))
			return tdm_err(ctx, ENOMEM, "out of memory");
		c = &cur->chains[cur->nchains];
		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s", ci.name);
		c->id = id;
		c->nnfs = ci.nnfs;
		for (i = 0; i < ci.nnfs && i < TDM_MAX_CHAIN_NFS; i++)
			c->nfs[i] = cur_nf_index(cur, ci.nf_ids[i]);
		c->action = ci.action;
		c->redirect_ifindex = ci.redirect_ifindex;
		if (ci.action == TDM_ACT_REDIRECT &&
		    !if_indextoname(ci.redirect_ifindex, c->redirect))
			c->redirect[0] = '\0';
		cur->nchains++;
	}
	return 0;
}

/*
 * Devices here: attached ones, and detached ones that have steering
 * entries. Devices moved away, gone, or taken in another namespace are
 * not this namespace's policy: an apply leaves them alone.
 */
static int read_devs(struct tdm_ctx *ctx, struct tdm_policy *cur)
{
	struct tdm_steer_entry *e = NULL;
	struct tdm_dev_status *v = NULL;
	int n, ne, i, j, err;

	err = tdm_dev_list(ctx, &v, &n);
	if (err)
		return err;
	err = tdm_steer_list(ctx, NULL, &e, &ne);
	if (err)
		goto out;
	for (i = 0; i < n; i++) {
		struct tdm_dev_status *st = &v[i];
		bool here = st->state == TDM_DEV_ATTACHED ||
			    (st->state == TDM_DEV_DETACHED && !st->elsewhere);
		const char *name = st->attached ? st->name_now : st->dev.name;

		if (!here)
			continue;
		if (st->attached) {
			if (GROW(cur, devs)) {
				err = tdm_err(ctx, ENOMEM, "out of memory");
				goto out;
			}
			cur->devs[cur->ndevs++] = (struct pol_dev){
				.chain = st->dev.default_chain == TDM_CHAIN_NONE ?
					 -1 : cur_chain_index(cur, st->dev.default_chain),
				.mode = st->dev.mode == XDP_FLAGS_SKB_MODE ?
					TDM_MODE_GENERIC : TDM_MODE_NATIVE,
				.slot = st->dev.slot,
			};
			snprintf(cur->devs[cur->ndevs - 1].name, 16, "%s", name);
		}
		for (j = 0; j < ne; j++) {
			struct pol_steer *s;

			if (e[j].dev != st->dev.slot)
				continue;
			if (GROW(cur, steers)) {
				err = tdm_err(ctx, ENOMEM, "out of memory");
				goto out;
			}
			s = &cur->steers[cur->nsteers++];
			memset(s, 0, sizeof(*s));
			snprintf(s->dev, sizeof(s->dev), "%s", name);
			s->exact = e[j].exact;
			s->prio = e[j].exact ? 0 : e[j].prio;
			s->m = e[j].m;
			s->chain = cur_chain_index(cur, e[j].chain_id);
			s->id = e[j].id;
			s->slot = e[j].dev;
		}
	}
out:
	free(v);
	free(e);
	return err;
}

int tdm_policy_running(struct tdm_ctx *ctx, struct tdm_policy **out)
{
	struct tdm_policy *cur = calloc(1, sizeof(*cur));
	int err;

	if (!cur || !(cur->name = strdup("running state"))) {
		free(cur);
		return tdm_err(ctx, ENOMEM, "out of memory");
	}
	err = read_sets(ctx, cur) ?: read_nfs(ctx, cur) ?:
	      read_chains(ctx, cur) ?: read_devs(ctx, cur);
	if (err) {
		tdm_policy_free(cur);
		return err;
	}
	*out = cur;
	return 0;
}

/* ---- comparing ---- */

static const char *pchain_name(const struct tdm_policy *p, int i)
{
	return i >= 0 ? p->chains[i].name : "";
}

static bool nf_params_same(const struct tdm_nf_info *a,
			   const struct tdm_nf_info *b)
{
	char pa[256], pb[256];

	/* the text leaves out a firewall's bank and rule ids */
	tdm_nf_params_format(a, pa, sizeof(pa));
	tdm_nf_params_format(b, pb, sizeof(pb));
	return a->type == b->type && !strcmp(pa, pb);
}

static bool chain_same(const struct tdm_policy *p, const struct pol_chain *w,
		       const struct tdm_policy *cur, const struct pol_chain *c)
{
	int i;

	if (w->nnfs != c->nnfs || w->action != c->action)
		return false;
	for (i = 0; i < w->nnfs; i++)
		if (c->nfs[i] < 0 || strcmp(p->nfs[w->nfs[i]].info.name,
					    cur->nfs[c->nfs[i]].info.name))
			return false;
	return w->action != TDM_ACT_REDIRECT ||
	       !strcmp(w->redirect, c->redirect);
}

static bool match_same(const struct tdm_match *a, const struct tdm_match *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* (prio, id) order; in ruleset_build() id is first the file's order */
static int rule_cmp(const void *x, const void *y)
{
	const struct tdm_fw_rule *a = x, *b = y;

	if (a->prio != b->prio)
		return a->prio < b->prio ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/*
 * The new rules of firewall w (index in p) from the running ones (of
 * firewall c in cur, -1 if none), into *rl: rules stay in (prio, id)
 * order, so of the rules of one prio those that keep their ids are the
 * longest run at the head of the file's list that appears, in that
 * order, among the running ones; the rest get new ids, after every
 * running rule of that prio. *changed: do they differ from the running
 * ones. 0 or -ENOMEM.
 */
static int ruleset_build(const struct tdm_policy *p, int w,
			 const struct tdm_policy *cur, int c,
			 struct tdm_nf_info *info, struct tdm_fw_rules *rl,
			 bool *changed)
{
	struct tdm_fw_rules old = {};
	__u32 i, k, o, end, nw;
	int err = 0;

	rl->n = 0;
	for (i = 0; c >= 0 && i < (__u32)cur->nrules && !err; i++)
		if (cur->rules[i].nf == c)
			err = tdm_fw_rules_push(&old, &(struct tdm_fw_rule){
				.id = cur->rules[i].id,
				.prio = cur->rules[i].spec.prio,
				.action = cur->rules[i].spec.action,
				.m = cur->rules[i].spec.m,
			});
	/* the file's rules, id = their order in it for a stable sort */
	for (i = 0; i < (__u32)p->nrules && !err; i++)
		if (p->rules[i].nf == w)
			err = tdm_fw_rules_push(rl, &(struct tdm_fw_rule){
				.id = i,
				.prio = p->rules[i].spec.prio,
				.action = p->rules[i].spec.action,
				.m = p->rules[i].spec.m,
			});
	if (err)
		goto out;
	nw = rl->n;
	if (nw)
		qsort(rl->v, nw, sizeof(rl->v[0]), rule_cmp);
	/* per prio: the head of the file's rules that is a subsequence of
	 * the running ones (which are in (prio, id) order) keeps its ids */
	for (i = 0, o = 0; i < nw; i = end) {
		__u32 prio = rl->v[i].prio;

		for (end = i; end < nw && rl->v[end].prio == prio; end++)
			;
		while (o < old.n && old.v[o].prio < prio)
			o++;
		for (k = i; k < end; k++) {
			while (o < old.n && old.v[o].prio == prio &&
			       !(old.v[o].action == rl->v[k].action &&
				 match_same(&old.v[o].m, &rl->v[k].m)))
				o++;
			if (o == old.n || old.v[o].prio != prio)
				break;
			rl->v[k].id = old.v[o++].id;
		}
		for (; k < end; k++)
			rl->v[k].id = TDM_NF_PARAMS(&info->params, firewall)->next_rule_id++;
	}
	/* (prio, id) order: within a prio the kept ids come first */
	if (nw)
		qsort(rl->v, nw, sizeof(rl->v[0]), rule_cmp);
	rl->default_action = TDM_NF_PARAMS(&info->params, firewall)->default_action;
	*changed = nw != old.n;
	for (i = 0; !*changed && i < nw; i++)
		*changed = rl->v[i].id != old.v[i].id;
out:
	tdm_fw_rules_free(&old);
	return err;
}

/* ---- checks against the system, before the first change ---- */

static int line_err(struct applier *ap, int line, int err)
{
	char msg[sizeof(ap->ctx->err)];

	snprintf(msg, sizeof(msg), "%s", ap->ctx->err);
	if (line > 0)
		snprintf(ap->ctx->err, sizeof(ap->ctx->err), "%.200s:%d: %.800s",
			 ap->p->name, line, msg);
	else
		snprintf(ap->ctx->err, sizeof(ap->ctx->err), "%.200s: %.800s",
			 ap->p->name, msg);
	return err;
}

static int check(struct applier *ap)
{
	const struct tdm_policy *p = ap->p, *cur = ap->cur;
	struct tdm_ctx *ctx = ap->ctx;
	int i, c, nnfs = cur->nnfs, nchains = cur->nchains, err;
	int over = 0;		/* the line of the first one too many */
	__u32 ifindex;

	for (i = 0; i < p->nsets; i++) {
		const struct tdm_set_info *w = &p->sets[i].info, *o;

		c = tdm_policy_set(cur, w->name);
		if (c < 0)
			continue;
		o = &cur->sets[c].info;
		if (o->family != w->family || o->flags != w->flags)
			return line_err(ap, p->sets[i].line, tdm_err(ctx, EEXIST,
				"set '%s' is %s%s, the policy makes it %s%s: a set's type cannot change (its rules hold its id and kind); give it another name",
				w->name, tdm_set_type_name(o->family),
				o->flags & TDM_SET_INTERVAL ? " interval" : "",
				tdm_set_type_name(w->family),
				w->flags & TDM_SET_INTERVAL ? " interval" : ""));
	}
	for (i = 0; i < p->nnfs; i++) {
		c = tdm_policy_nf(cur, p->nfs[i].info.name);
		if (c < 0) {
			if (++nnfs > TDM_MAX_NFS && !over)
				over = p->nfs[i].line;
			continue;
		}
		if (cur->nfs[c].info.type != p->nfs[i].info.type)
			return line_err(ap, p->nfs[i].line, tdm_err(ctx, EEXIST,
				"NF '%s' is a %s, the policy makes it a %s: an NF's type cannot change; give it another name",
				p->nfs[i].info.name,
				tdm_nf_type_name(tdm_nf_type_by_id(cur->nfs[c].info.type)),
				tdm_nf_type_name(tdm_nf_type_by_id(p->nfs[i].info.type))));
		if (tdm_nf_type_fixed(tdm_nf_type_by_id(p->nfs[i].info.type)) &&
		    !nf_params_same(&cur->nfs[c].info, &p->nfs[i].info))
			return line_err(ap, p->nfs[i].line, tdm_err(ctx, EINVAL,
				"NF '%s': a %s's parameters cannot change in place (its create made state from them); give it another name",
				p->nfs[i].info.name,
				tdm_nf_type_name(tdm_nf_type_by_id(p->nfs[i].info.type))));
	}
	/* old and new live side by side until the commit */
	if (nnfs > TDM_MAX_NFS)
		return line_err(ap, over, tdm_err(ctx, ENOSPC,
			       "the apply needs %d NFs at once (the new ones are added before the old ones go), at most %d",
			       nnfs, TDM_MAX_NFS));
	over = 0;
	for (i = 0; i < p->nchains; i++) {
		if (tdm_policy_chain(cur, p->chains[i].name) < 0 &&
		    ++nchains > TDM_MAX_CHAINS && !over)
			over = p->chains[i].line;
		if (p->chains[i].action == TDM_ACT_REDIRECT &&
		    (err = tdm_ifindex(ctx, p->chains[i].redirect, &ifindex)))
			return line_err(ap, p->chains[i].line, err);
	}
	if (nchains > TDM_MAX_CHAINS)
		return line_err(ap, over, tdm_err(ctx, ENOSPC,
			       "the apply needs %d chains at once (the new ones are added before the old ones go), at most %d",
			       nchains, TDM_MAX_CHAINS));
	for (i = 0; i < p->ndevs; i++) {
		LIBBPF_OPTS(bpf_xdp_query_opts, q);
		bool ours = false;
		int k;

		if ((err = tdm_ifindex(ctx, p->devs[i].name, &ifindex)))
			return line_err(ap, p->devs[i].line, err);
		for (k = 0; k < cur->ndevs && !ours; k++)
			ours = !strcmp(cur->devs[k].name, p->devs[i].name);
		/* another XDP program: tdm_dev_attach() would refuse */
		if (!ours && !p->devs[i].force && !bpf_xdp_query(ifindex, 0, &q) &&
		    q.attach_mode != XDP_ATTACHED_NONE)
			return line_err(ap, p->devs[i].line, tdm_err(ctx, EBUSY,
				"%s already has an XDP program attached (id %u); add 'force' to replace it",
				p->devs[i].name, q.prog_id ? q.prog_id :
				q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id));
	}
	for (i = 0; i < p->nsteers; i++)
		if ((err = tdm_ifindex(ctx, p->steers[i].dev, &ifindex)))
			return line_err(ap, p->steers[i].line, err);
	return 0;
}

/*
 * The kernel knows a device by its name and by its alternative names
 * (ip link property add altname): the running state has the name, so
 * the plan uses it. A copy of p with every device written by its name;
 * it shares p's NFs and rules. Two lines that attach one device under
 * two names are refused.
 */
static int canon_dev(char *name)
{
	char buf[IF_NAMESIZE];
	__u32 ifindex = if_nametoindex(name);

	if (!ifindex || !if_indextoname(ifindex, buf))
		return 0;	/* missing: check() says so, at its line */
	if (strcmp(buf, name))
		snprintf(name, 16, "%s", buf);
	return 0;
}

static void canon_free(struct tdm_policy *w)
{
	if (!w)
		return;
	free(w->devs);
	free(w->steers);
	free(w->chains);
	free(w->sets);
	free(w->rules);
	free(w);
}

static struct tdm_policy *canon_copy(struct applier *ap,
				     const struct tdm_policy *p)
{
	struct tdm_policy *w = calloc(1, sizeof(*w));
	int i, k;

	if (!w)
		goto nomem;
	*w = *p;
	w->devs = malloc((p->ndevs + 1) * sizeof(*w->devs));
	w->steers = malloc((p->nsteers + 1) * sizeof(*w->steers));
	w->chains = malloc((p->nchains + 1) * sizeof(*w->chains));
	/* the sets' ids go into them (set_ids()); elements are shared */
	w->sets = malloc((p->nsets + 1) * sizeof(*w->sets));
	w->rules = malloc((p->nrules + 1) * sizeof(*w->rules));
	if (!w->devs || !w->steers || !w->chains || !w->sets || !w->rules)
		goto nomem;
	memcpy(w->sets, p->sets, p->nsets * sizeof(*w->sets));
	memcpy(w->rules, p->rules, p->nrules * sizeof(*w->rules));
	memcpy(w->devs, p->devs, p->ndevs * sizeof(*w->devs));
	memcpy(w->steers, p->steers, p->nsteers * sizeof(*w->steers));
	memcpy(w->chains, p->chains, p->nchains * sizeof(*w->chains));
	for (i = 0; i < w->ndevs; i++) {
		canon_dev(w->devs[i].name);
		for (k = 0; k < i; k++)
			if (!strcmp(w->devs[k].name, w->devs[i].name)) {
				line_err(ap, w->devs[i].line, tdm_err(ap->ctx, EEXIST,
					"device '%s' is the same device as '%s' (line %d)",
					p->devs[i].name, p->devs[k].name,
					w->devs[k].line));
				goto fail;
			}
	}
	for (i = 0; i < w->nsteers; i++)
		canon_dev(w->steers[i].dev);
	for (i = 0; i < w->nchains; i++)
		if (w->chains[i].action == TDM_ACT_REDIRECT)
			canon_dev(w->chains[i].redirect);
	return w;
nomem:
	tdm_err(ap->ctx, ENOMEM, "out of memory");
fail:
	canon_free(w);
	return NULL;
}

/* Set ids, as set_ids() gives them */
static void set_ids_rules(struct tdm_policy *w)
{
	int i, k;

	for (i = 0; i < w->nrules; i++) {
		struct tdm_rule_spec *sp = &w->rules[i].spec;

		if (sp->src_set[0] && (k = tdm_policy_set(w, sp->src_set)) >= 0)
			sp->m.src_set = w->sets[k].id;
		if (sp->dst_set[0] && (k = tdm_policy_set(w, sp->dst_set)) >= 0)
			sp->m.dst_set = w->sets[k].id;
	}
}

/*
 * The ids of w's sets, into them and into the matches of w's rules, so
 * that rules compare with the running ones: a running set's, and for a
 * new one the lowest id free, in the file's order, which is what
 * tdm_set_add() gives it (the sets an apply deletes go only after the
 * commit). ENOSPC at the line of the first set one too many.
 */
static int set_ids(struct applier *ap, struct tdm_policy *w)
{
	bool used[TDM_MAX_SETS + 1] = {};
	__u32 next = 1;
	int i, c;

	for (i = 0; i < ap->cur->nsets; i++)
		used[ap->cur->sets[i].id] = true;
	for (i = 0; i < w->nsets; i++) {
		c = tdm_policy_set(ap->cur, w->sets[i].info.name);
		if (c >= 0) {
			w->sets[i].id = ap->cur->sets[c].id;
			continue;
		}
		while (next <= TDM_MAX_SETS && used[next])
			next++;
		if (next > TDM_MAX_SETS)
			return line_err(ap, w->sets[i].line, tdm_err(ap->ctx, ENOSPC,
				"the apply needs more than %d sets at once (the new ones are added before the old ones go)",
				TDM_MAX_SETS));
		w->sets[i].id = next;
		used[next] = true;
	}
	set_ids_rules(w);
	return 0;
}

/*
 * A chain the policy deletes must not be in use by what the apply leaves
 * alone: devices (and their steering entries) that are not here.
 */
static int check_chain_users(struct applier *ap)
{
	struct tdm_ctx *ctx = ap->ctx;
	struct tdm_steer_entry *e = NULL;
	bool here[TDM_MAX_DEVS] = {};
	struct tdm_dev_status *v = NULL;
	struct tdm_chain_info ci;
	int n, ne, i, err;

	err = tdm_dev_list(ctx, &v, &n);
	if (!err)
		err = tdm_steer_list(ctx, NULL, &e, &ne);
	for (i = 0; !err && i < n; i++) {
		if (v[i].dev.slot < TDM_MAX_DEVS)
			here[v[i].dev.slot] = v[i].state == TDM_DEV_ATTACHED ||
				(v[i].state == TDM_DEV_DETACHED && !v[i].elsewhere);
		/* attached here: the policy's (read_devs() lists it) */
		if (v[i].state == TDM_DEV_ATTACHED ||
		    v[i].dev.default_chain == TDM_CHAIN_NONE ||
		    tdm_chain_get(ctx, v[i].dev.default_chain, &ci))
			continue;
		if (tdm_policy_chain(ap->p, ci.name) < 0)
			err = tdm_err(ctx, EBUSY,
				      "chain '%s' is the default chain of %s, which is not here (moved, or in another namespace) or not attached: the policy cannot delete it",
				      ci.name, v[i].dev.name);
	}
	for (i = 0; !err && i < ne; i++) {
		if (e[i].dev < TDM_MAX_DEVS && here[e[i].dev])
			continue;
		if (tdm_chain_get(ctx, e[i].chain_id, &ci))
			continue;
		if (tdm_policy_chain(ap->p, ci.name) < 0)
			err = tdm_err(ctx, EBUSY,
				      "chain '%s' is used by steering entry %u of %s, which is not here (moved, or in another namespace): the policy cannot delete it",
				      ci.name, e[i].id, e[i].dev_name);
	}
	free(v);
	free(e);
	return err;
}

/*
 * The datapath checks at most TDM_STEER_BUCKET rules per destination
 * (steer.c). During an apply a device holds its old rules and the new
 * ones at once (deletions come after the commit): count, for every
 * destination prefix of them, the rules that cover it, and refuse
 * before any change, at the line of a new rule that covers it.
 */
struct bucket_rule {
	struct tdm_addr dst;		/* masked to len */
	__u8 len;
	int line;			/* 0: a running rule */
};

static int cmp_bucket_rule(const void *pa, const void *pb)
{
	const struct bucket_rule *a = pa, *b = pb;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(&a->dst, &b->dst, sizeof(a->dst));
}

static int check_dev_buckets(struct applier *ap, const char *dev,
			     const int *keep, struct bucket_rule *r)
{
	const struct tdm_policy *p = ap->p, *cur = ap->cur;
	bool has_len[129] = {};
	int n = 0, i, j, len, lo, hi, mid, cnt, line;
	struct bucket_rule key;
	char pfx[64];

	for (i = 0; i < cur->nsteers; i++)
		if (!cur->steers[i].exact && !strcmp(cur->steers[i].dev, dev))
			r[n++] = (struct bucket_rule){ cur->steers[i].m.dst,
				cur->steers[i].m.dst_len, 0 };
	for (i = 0; i < p->nsteers; i++)
		if (keep[i] < 0 && !p->steers[i].exact &&
		    !strcmp(p->steers[i].dev, dev))
			r[n++] = (struct bucket_rule){ p->steers[i].m.dst,
				p->steers[i].m.dst_len, p->steers[i].line };
	for (i = 0; i < n; i++)
		has_len[r[i].len] = true;
	qsort(r, n, sizeof(*r), cmp_bucket_rule);
	for (i = 0; i < n; i++) {
		if (i && !cmp_bucket_rule(&r[i - 1], &r[i]))
			continue;
		cnt = 0;
		line = 0;
		for (len = 0; len <= r[i].len; len++) {
			struct tdm_addr mask;
			int w;

			if (!has_len[len])
				continue;
			tdm_prefix_mask(len, &mask);
			key.len = len;
			for (w = 0; w < 4; w++)
				key.dst.w[w] = r[i].dst.w[w] & mask.w[w];
			for (lo = 0, hi = n; lo < hi; ) {
				mid = lo + (hi - lo) / 2;
				if (cmp_bucket_rule(&r[mid], &key) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (j = lo; j < n && !cmp_bucket_rule(&r[j], &key); j++) {
				cnt++;
				if (r[j].line > line)
					line = r[j].line;
			}
		}
		if (cnt > TDM_STEER_BUCKET) {
			tdm_format_prefix(&r[i].dst, r[i].len, pfx, sizeof(pfx));
			return line_err(ap, line, tdm_err(ap->ctx, ENOSPC,
				"%d steering rules of %s would cover destination %s at once, at most %d (an apply adds the new rules before it deletes the old ones)",
				cnt, dev, pfx, TDM_STEER_BUCKET));
		}
	}
	return 0;
}

static int check_buckets(struct applier *ap, const int *keep)
{
	const struct tdm_policy *p = ap->p;
	const char *done[1024];
	struct bucket_rule *r;
	int i, j, ndone = 0, nflows = 0, nrules, err = 0;

	/* room for the old entries and the new ones at once */
	for (i = 0; i < ap->cur->nsteers; i++)
		nflows += ap->cur->steers[i].exact;
	nrules = ap->cur->nsteers - nflows;
	for (i = 0; i < p->nsteers; i++) {
		if (keep[i] >= 0)
			continue;
		if (p->steers[i].exact && ++nflows > TDM_MAX_STEER_FLOWS)
			return line_err(ap, p->steers[i].line, tdm_err(ap->ctx, ENOSPC,
				"more than %d exact steering entries at once (an apply adds the new ones before it deletes the old ones)",
				TDM_MAX_STEER_FLOWS));
		if (!p->steers[i].exact && ++nrules > TDM_MAX_STEER_RULES)
			return line_err(ap, p->steers[i].line, tdm_err(ap->ctx, ENOSPC,
				"more than %d steering rules at once (an apply adds the new ones before it deletes the old ones)",
				TDM_MAX_STEER_RULES));
	}
	r = malloc((ap->cur->nsteers + p->nsteers + 1) * sizeof(*r));
	if (!r)
		return tdm_err(ap->ctx, ENOMEM, "out of memory");
	/* each device with new rules once */
	for (i = 0; i < p->nsteers && !err; i++) {
		if (keep[i] >= 0 || p->steers[i].exact)
			continue;
		for (j = 0; j < ndone && strcmp(done[j], p->steers[i].dev); j++)
			;
		if (j < ndone)
			continue;
		if (ndone == (int)ARRAY_SIZE(done)) {
			err = tdm_err(ap->ctx, E2BIG, "steering entries of more than %zu devices",
				      ARRAY_SIZE(done));
			break;
		}
		done[ndone++] = p->steers[i].dev;
		err = check_dev_buckets(ap, p->steers[i].dev, keep, r);
	}
	free(r);
	return err;
}

/* ---- the changes ---- */

static bool set_elems_same(const struct pol_set *a, const struct pol_set *b)
{
	return a->elems.n == b->elems.n &&
	       (!a->elems.n || !memcmp(a->elems.v, b->elems.v,
				       a->elems.n * sizeof(*a->elems.v)));
}

/* New sets, with their elements: before any rule refers to them. */
static int add_sets(struct applier *ap)
{
	const struct tdm_policy *p = ap->p;
	struct tdm_set_elems none = {};
	int i, id, err;

	for (i = 0; i < p->nsets; i++) {
		const struct pol_set *w = &p->sets[i];
		struct tdm_apply_step s = { .op = TDM_AP_SET_ADDED };

		if (tdm_policy_set(ap->cur, w->info.name) >= 0)
			continue;
		snprintf(s.name, sizeof(s.name), "%s", w->info.name);
		err = gate(ap, w->line) ?: log_step(ap, &s);
		if (err)
			return err;
		id = tdm_set_add(ap->ctx, w->info.name, w->info.family,
				 w->info.flags);
		if (id < 0)
			return id;
		/* the rules were planned with it (set_ids()) */
		if ((__u32)id != w->id)
			return tdm_err(ap->ctx, EPROTO, "set '%s' got id %d, expected %u",
				       w->info.name, id, w->id);
		err = tdm_set_stage(ap->ctx, id, &w->elems, &none,
				    tdm_set_next_epoch(0));
		if (err)
			return err;
	}
	return 0;
}

/*
 * Sets whose elements change: the new ones in, the kept ones marked
 * (tdm_set_stage()); the gone ones go after the commit, when no rule
 * the apply takes back could want them.
 */
static int change_sets(struct applier *ap)
{
	const struct tdm_policy *p = ap->p, *cur = ap->cur;
	struct tdm_set_info info;
	int i, c, err;

	for (i = 0; i < p->nsets; i++) {
		const struct pol_set *w = &p->sets[i];
		struct tdm_apply_step s = { .op = TDM_AP_SET_CHANGED };

		c = tdm_policy_set(cur, w->info.name);
		if (c < 0 || set_elems_same(w, &cur->sets[c]))
			continue;
		err = tdm_set_get(ap->ctx, w->id, &info);
		if (err)
			return err == -ENOENT ?
			       tdm_err(ap->ctx, ENOENT, "set '%s' is gone",
				       w->info.name) : err;
		snprintf(s.name, sizeof(s.name), "%s", w->info.name);
		s.id = w->id;
		s.lo = tdm_set_next_epoch(info.epoch);
		s.mode = info.epoch;
		s.hi = info.nelems;
		err = gate(ap, w->line) ?: log_step(ap, &s) ?:
		      tdm_set_stage(ap->ctx, w->id, &w->elems,
				    &cur->sets[c].elems, s.lo);
		if (err)
			return err;
	}
	return 0;
}

static int add_nfs(struct applier *ap)
{
	const struct tdm_policy *p = ap->p;
	struct tdm_apply_step s = { .op = TDM_AP_NF_ADDED };
	int i, id, err;

	for (i = 0; i < p->nnfs; i++) {
		const struct pol_nf *nf = &p->nfs[i];

		if (tdm_policy_nf(ap->cur, nf->info.name) >= 0)
			continue;
		snprintf(s.name, sizeof(s.name), "%s", nf->info.name);
		err = gate(ap, nf->line) ?: log_step(ap, &s);
		if (err)
			return err;
		id = tdm_nf_create(ap->ctx, &nf->info, nf->cmd);
		if (id < 0)
			return id;
	}
	return 0;
}

/* Parameters and, for firewalls, rulesets: one switch per NF. */
static int change_nfs(struct applier *ap)
{
	const struct tdm_policy *p = ap->p;
	struct tdm_ctx *ctx = ap->ctx;
	struct tdm_apply_step s = { .op = TDM_AP_NF_CHANGED };
	struct tdm_fw_rules rl = {};
	struct tdm_nf_info info;
	int i, c, id, err = 0;
	bool changed, added;

	for (i = 0; i < p->nnfs && !err; i++) {
		const struct pol_nf *nf = &p->nfs[i];

		c = tdm_policy_nf(ap->cur, nf->info.name);
		added = c < 0;
		id = tdm_nf_lookup(ctx, nf->info.name, &info);
		if (id < 0) {
			err = id;
			break;
		}
		s.id = id;
		s.nf = info;
		changed = !added && !nf_params_same(&info, &nf->info);
		if (nf->info.type == TDM_NF_PROCESS) {
			/* a new command or parameters: tandemd restarts it */
			if (!added && strcmp(ap->cur->nfs[c].cmd, nf->cmd))
				changed = true;
			if (!changed)
				continue;
			info.params = nf->info.params;
			err = gate(ap, nf->line) ?: log_step(ap, &s) ?:
			      tdm_nf_cmd_stash(ctx, id) ?:
			      tdm_nf_cmd_set(ctx, id, nf->cmd) ?:
			      tdm_proc_watermarks(ctx, id, TDM_NF_PARAMS(&info.params, process)) ?:
			      tdm_fw_bank_finish(ctx, id, &info);
			continue;
		}
		if (nf->info.type != TDM_NF_FIREWALL) {
			if (!changed)
				continue;
			info.params = nf->info.params;
			err = gate(ap, nf->line) ?: log_step(ap, &s) ?:
			      tdm_fw_bank_finish(ctx, id, &info);
			continue;
		}
		TDM_NF_PARAMS(&info.params, firewall)->default_action =
			TDM_NF_PARAMS(&nf->info.params, firewall)->default_action;
		TDM_NF_PARAMS(&info.params, firewall)->unparsed_action =
			TDM_NF_PARAMS(&nf->info.params, firewall)->unparsed_action;
		TDM_NF_PARAMS(&info.params, firewall)->lookup =
			TDM_NF_PARAMS(&nf->info.params, firewall)->lookup;
		{
			bool rules_changed;

			if (ruleset_build(p, i, ap->cur, c, &info, &rl,
					  &rules_changed)) {
				err = tdm_err(ctx, ENOMEM, "out of memory");
				break;
			}
			changed |= rules_changed;
		}
		if (!changed)
			continue;
		err = gate(ap, nf->line) ?: (added ? 0 : log_step(ap, &s)) ?:
		      tdm_fw_commit(ctx, id, &info, &rl);
	}
	tdm_fw_rules_free(&rl);
	return err;
}

static void spec_of(const struct tdm_policy *p, const struct pol_chain *w,
		    struct tdm_chain_spec *spec)
{
	int i;

	memset(spec, 0, sizeof(*spec));
	spec->nnfs = w->nnfs;
	for (i = 0; i < w->nnfs; i++)
		spec->nfs[i] = p->nfs[w->nfs[i]].info.name;
	spec->action = w->action;
	spec->redirect_dev = w->action == TDM_ACT_REDIRECT ? w->redirect : NULL;
}

static int change_chains(struct applier *ap, bool adding)
{
	const struct tdm_policy *p = ap->p, *cur = ap->cur;
	struct tdm_ctx *ctx = ap->ctx;
	struct tdm_chain_spec spec;
	struct tdm_chain_info ci;
	int i, c, k, err;

	for (i = 0; i < p->nchains; i++) {
		const struct pol_chain *w = &p->chains[i];
		struct tdm_apply_step s = {};

		c = tdm_policy_chain(cur, w->name);
		if (adding != (c < 0))
			continue;
		if (!adding && chain_same(p, w, cur, &cur->chains[c]))
			continue;
		snprintf(s.name, sizeof(s.name), "%s", w->name);
		if (adding) {
			s.op = TDM_AP_CHAIN_ADDED;
		} else {
			err = tdm_chain_get(ctx, cur->chains[c].id, &ci);
			if (err)
				return err;
			s.op = TDM_AP_CHAIN_CHANGED;
			s.nnfs = ci.nnfs;
			for (k = 0; k < (int)ci.nnfs && k < TDM_MAX_CHAIN_NFS; k++)
				s.nf_ids[k] = ci.nf_ids[k];
			s.action = ci.action;
			s.redirect_ifindex = ci.redirect_ifindex;
		}
		spec_of(p, w, &spec);
		err = gate(ap, w->line) ?: log_step(ap, &s);
		if (err)
			return err;
		/* both return the chain's id */
		err = adding ? tdm_chain_add(ctx, w->name, &spec) :
			       tdm_chain_replace(ctx, w->name, &spec);
		if (err < 0)
			return err;
	}
	return 0;
}

static int change_devs(struct applier *ap)
{
	const struct tdm_policy *p = ap->p, *cur = ap->cur;
	struct tdm_ctx *ctx = ap->ctx;
	int i, c, err;

	for (i = 0; i < p->ndevs; i++) {
		const struct pol_dev *w = &p->devs[i];
		const char *chain = w->chain >= 0 ? p->chains[w->chain].name : NULL;
		struct tdm_apply_step s = {};
		bool remode = false;

		for (c = 0; c < cur->ndevs; c++)
			if (!strcmp(cur->devs[c].name, w->name))
				break;
		snprintf(s.name, sizeof(s.name), "%s", w->name);
		if (c == cur->ndevs) {
			s.op = TDM_AP_DEV_ATTACHED;
		} else {
			const struct pol_dev *d = &cur->devs[c];

			remode = w->mode != TDM_MODE_AUTO && w->mode != d->mode;
			if (!remode && !strcmp(chain ? chain : "",
					      pchain_name(cur, d->chain)))
				continue;
			s.op = TDM_AP_DEV_CHANGED;
			s.chain_id = d->chain >= 0 ? cur->chains[d->chain].id :
						     TDM_CHAIN_NONE;
			s.mode = d->mode == TDM_MODE_GENERIC ?
				 XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
		}
		err = gate(ap, w->line) ?: log_step(ap, &s);
		if (!err && remode)
			err = tdm_dev_detach_keep(ctx, w->name);
		if (!err)
			err = tdm_dev_attach(ctx, w->name, chain, w->mode,
					     w->force);
		if (err)
			return err;
	}
	return 0;
}

/* Steering entries in key order: device, kind, prio, match, then id. */
static int steer_cmp(const struct pol_steer *a, const struct pol_steer *b)
{
	int c = strcmp(a->dev, b->dev);

	if (c)
		return c;
	if (a->exact != b->exact)
		return a->exact ? -1 : 1;
	if (a->prio != b->prio)
		return a->prio < b->prio ? -1 : 1;
	return memcmp(&a->m, &b->m, sizeof(a->m));
}

static int cmp_cur(const void *pa, const void *pb, void *arg)
{
	const struct pol_steer *v = arg;
	int a = *(const int *)pa, b = *(const int *)pb;
	int c = steer_cmp(&v[a], &v[b]);

	if (c)
		return c;
	return v[a].id < v[b].id ? -1 : v[a].id > v[b].id;
}

/* The file's entries by (device, kind, prio), in file order in each. */
static int cmp_want(const void *pa, const void *pb, void *arg)
{
	const struct pol_steer *v = arg;
	int a = *(const int *)pa, b = *(const int *)pb;
	int c = strcmp(v[a].dev, v[b].dev);

	if (!c && v[a].exact != v[b].exact)
		c = v[a].exact ? -1 : 1;
	if (!c && v[a].prio != v[b].prio)
		c = v[a].prio < v[b].prio ? -1 : 1;
	return c ? c : a - b;
}

/* The first of idx[0..n) (sorted by cmp_cur) not before w's key. */
static int lower_bound(const struct pol_steer *cur, const int *idx, int n,
		       const struct pol_steer *w)
{
	int lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (steer_cmp(&cur[idx[mid]], w) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Which running entry each wanted steering entry keeps (*keep: index in
 * cur, or -1). Exact entries are keyed by their 5-tuple (a changed chain
 * is changed in place). Rules of one device and prio keep their ids as
 * firewall rules do: the head of the file's list that is, in order, a
 * subsequence of the running one (greedy: the lowest id that fits).
 * Sorted, so that a state of 100,000s of entries is planned in
 * O(n log n).
 */
static int steer_plan(struct applier *ap, int *keep, bool *used)
{
	const struct tdm_policy *p = ap->p, *cur = ap->cur;
	int *ci, *wi, i, g, k, j;

	ci = malloc((cur->nsteers + 1) * sizeof(*ci));
	wi = malloc((p->nsteers + 1) * sizeof(*wi));
	if (!ci || !wi) {
		free(ci);
		free(wi);
		return tdm_err(ap->ctx, ENOMEM, "out of memory");
	}
	for (i = 0; i < cur->nsteers; i++)
		ci[i] = i;
	for (i = 0; i < p->nsteers; i++) {
		wi[i] = i;
		keep[i] = -1;
	}
	qsort_r(ci, cur->nsteers, sizeof(*ci), cmp_cur, cur->steers);
	qsort_r(wi, p->nsteers, sizeof(*wi), cmp_want, p->steers);
	for (g = 0; g < p->nsteers; g = k) {
		const struct pol_steer *w0 = &p->steers[wi[g]];
		__u32 last = 0;
		bool broken = false;

		for (k = g; k < p->nsteers; k++) {
			const struct pol_steer *w = &p->steers[wi[k]];

			if (strcmp(w->dev, w0->dev) || w->exact != w0->exact ||
			    w->prio != w0->prio)
				break;
			if (broken)
				continue;
			j = lower_bound(cur->steers, ci, cur->nsteers, w);
			for (; j < cur->nsteers; j++) {
				const struct pol_steer *c = &cur->steers[ci[j]];

				if (steer_cmp(c, w)) {
					j = cur->nsteers;
					break;
				}
				if (used[ci[j]])
					continue;
				/* an exact entry keeps its id, whatever its
				 * chain; a rule only with its chain */
				if (w->exact)
					break;
				if (c->id > last &&
				    !strcmp(pchain_name(cur, c->chain),
					    pchain_name(p, w->chain)))
					break;
			}
			if (j == cur->nsteers) {
				broken = !w->exact;
				continue;
			}
			keep[wi[k]] = ci[j];
			used[ci[j]] = true;
			last = cur->steers[ci[j]].id;
		}
	}
	free(ci);
	free(wi);
	return 0;
}

static int change_steers(struct applier *ap, int *keep)
{
	const struct tdm_policy *p = ap->p, *cur = ap->cur;
	struct tdm_ctx *ctx = ap->ctx;
	struct tdm_steer_spec *specs;
	int i, j, n, err = 0;
	bool *done;
	__u32 first;

	specs = calloc(p->nsteers + 1, sizeof(*specs));
	done = calloc(p->nsteers + 1, sizeof(*done));
	if (!specs || !done) {
		free(specs);
		free(done);
		return tdm_err(ctx, ENOMEM, "out of memory");
	}
	/* exact entries whose chain changes: in place */
	for (i = 0; i < p->nsteers && !err; i++) {
		const struct pol_steer *w = &p->steers[i];
		const struct pol_steer *c;
		struct tdm_apply_step s = { .op = TDM_AP_FLOW_CHANGED };
		int cid;

		if (keep[i] < 0 || !w->exact)
			continue;
		c = &cur->steers[keep[i]];
		if (!strcmp(pchain_name(cur, c->chain), pchain_name(p, w->chain)))
			continue;
		cid = tdm_chain_lookup(ctx, pchain_name(p, w->chain), NULL);
		if (cid < 0) {
			err = cid;
			break;
		}
		s.id = c->slot;
		s.m = c->m;
		s.chain_id = cur->chains[c->chain].id;
		err = gate(ap, w->line) ?: log_step(ap, &s) ?:
		      tdm_steer_flow_set(ctx, c->slot, &w->m, cid);
	}
	/* new entries: all of a device at once */
	for (i = 0; i < p->nsteers && !err; i++) {
		const struct pol_steer *w = &p->steers[i];
		struct tdm_apply_step s = { .op = TDM_AP_STEER_ADDED };
		struct tdm_dev d;

		if (keep[i] != -1 || done[i])
			continue;
		for (n = 0, j = i; j < p->nsteers; j++) {
			if (keep[j] != -1 || strcmp(p->steers[j].dev, w->dev))
				continue;
			done[j] = true;
			specs[n].prio = p->steers[j].prio;
			specs[n].m = p->steers[j].m;
			specs[n].chain = pchain_name(p, p->steers[j].chain);
			n++;
		}
		/* the ids they get: the device's highest + 1 on (1 for a
		 * device new to tandem), logged before they are added */
		err = gate(ap, w->line);
		if (err)
			break;
		snprintf(s.name, sizeof(s.name), "%s", w->dev);
		err = tdm_dev_find(ctx, w->dev, &d);
		s.lo = 1;
		s.mode = err == -ENOENT || err == -ENODEV;
		if (!err) {
			struct tdm_steer_entry *v;
			int nv, k;

			err = tdm_steer_list_slot(ctx, d.slot, &v, &nv);
			if (err)
				break;
			for (k = 0; k < nv; k++)
				if (v[k].id >= s.lo)
					s.lo = v[k].id + 1;
			free(v);
		} else if (s.mode) {
			err = 0;
		}
		s.hi = s.lo + n;
		err = err ?: log_step(ap, &s) ?:
		      tdm_steer_add_many(ctx, w->dev, specs, n, &first);
		if (!err && first != s.lo)
			err = tdm_err(ctx, EPROTO, "steering ids %u..., expected %u...",
				      first, s.lo);
	}
	free(specs);
	free(done);
	return err;
}

/* The commit: every deletion into the log, then the phase. */
static int commit(struct applier *ap, const bool *used)
{
	const struct tdm_policy *p = ap->p, *cur = ap->cur;
	struct tdm_apply_step s;
	int i, err = 0;

	/* read_devs() lists the entries device by device */
	for (i = 0; i < cur->nsteers && !err; i++) {
		if (used[i])
			continue;
		s = (struct tdm_apply_step){ .op = TDM_AP_STEER_DEL,
			.id = cur->steers[i].slot, .lo = cur->steers[i].id };
		err = log_step(ap, &s);
	}
	for (i = 0; i < cur->ndevs && !err; i++) {
		int k;

		for (k = 0; k < p->ndevs; k++)
			if (!strcmp(p->devs[k].name, cur->devs[i].name))
				break;
		if (k < p->ndevs)
			continue;
		s = (struct tdm_apply_step){ .op = TDM_AP_DEV_DETACH };
		snprintf(s.name, sizeof(s.name), "%s", cur->devs[i].name);
		err = log_step(ap, &s);
	}
	for (i = 0; i < cur->nchains && !err; i++) {
		if (tdm_policy_chain(p, cur->chains[i].name) >= 0)
			continue;
		s = (struct tdm_apply_step){ .op = TDM_AP_CHAIN_DEL };
		snprintf(s.name, sizeof(s.name), "%s", cur->chains[i].name);
		err = log_step(ap, &s);
	}
	for (i = 0; i < cur->nnfs && !err; i++) {
		if (tdm_policy_nf(p, cur->nfs[i].info.name) >= 0)
			continue;
		s = (struct tdm_apply_step){ .op = TDM_AP_NF_DEL };
		snprintf(s.name, sizeof(s.name), "%s", cur->nfs[i].info.name);
		err = log_step(ap, &s);
	}
	/* sets last: no rule matches what goes (the firewalls that did
	 * are changed or deleted above) */
	for (i = 0; i < p->nsets && !err; i++) {
		struct tdm_set_info info;
		int c = tdm_policy_set(cur, p->sets[i].info.name);

		if (c < 0 || set_elems_same(&p->sets[i], &cur->sets[c]))
			continue;
		err = tdm_set_get(ap->ctx, p->sets[i].id, &info);
		if (err)
			break;
		s = (struct tdm_apply_step){ .op = TDM_AP_SET_PRUNE,
			.id = p->sets[i].id, .lo = info.epoch,
			.hi = p->sets[i].elems.n };
		snprintf(s.name, sizeof(s.name), "%s", p->sets[i].info.name);
		err = log_step(ap, &s);
	}
	for (i = 0; i < cur->nsets && !err; i++) {
		if (tdm_policy_set(p, cur->sets[i].info.name) >= 0)
			continue;
		s = (struct tdm_apply_step){ .op = TDM_AP_SET_DEL };
		snprintf(s.name, sizeof(s.name), "%s", cur->sets[i].info.name);
		err = log_step(ap, &s);
	}
	return err;
}

/* Objects the running state has and p does not. */
static unsigned int count_deleted(const struct tdm_policy *p,
				  const struct tdm_policy *cur,
				  const bool *used)
{
	unsigned int n = 0;
	int i, k;

	for (i = 0; i < cur->nsteers; i++)
		n += !used[i];
	for (i = 0; i < cur->ndevs; i++) {
		for (k = 0; k < p->ndevs; k++)
			if (!strcmp(p->devs[k].name, cur->devs[i].name))
				break;
		n += k == p->ndevs;
	}
	for (i = 0; i < cur->nchains; i++)
		n += tdm_policy_chain(p, cur->chains[i].name) < 0;
	for (i = 0; i < cur->nnfs; i++)
		n += tdm_policy_nf(p, cur->nfs[i].info.name) < 0;
	for (i = 0; i < cur->nsets; i++)
		n += tdm_policy_set(p, cur->sets[i].info.name) < 0;
	return n;
}

/* What the apply adds and changes (deletions: count_deleted()). */
static int count_changes(struct applier *ap, const int *keep)
{
	const struct tdm_policy *p = ap->p, *cur = ap->cur;
	struct tdm_fw_rules rl = {};
	struct tdm_nf_info info;
	int i, c;
	bool changed;

	for (i = 0; i < p->nsets; i++) {
		c = tdm_policy_set(cur, p->sets[i].info.name);
		if (c < 0) {
			ap->res.added++;
			continue;
		}
		changed = !set_elems_same(&p->sets[i], &cur->sets[c]);
		ap->res.changed += changed;
		ap->res.kept += !changed;
	}
	for (i = 0; i < p->nnfs; i++) {
		c = tdm_policy_nf(cur, p->nfs[i].info.name);
		if (c < 0) {
			ap->res.added++;
			continue;
		}
		info = cur->nfs[c].info;
		changed = !nf_params_same(&info, &p->nfs[i].info) ||
			  strcmp(cur->nfs[c].cmd, p->nfs[i].cmd);
		if (!changed && info.type == TDM_NF_FIREWALL &&
		    ruleset_build(p, i, cur, c, &info, &rl, &changed)) {
			tdm_fw_rules_free(&rl);
			return tdm_err(ap->ctx, ENOMEM, "out of memory");
		}
		ap->res.changed += changed;
		ap->res.kept += !changed;
	}
	tdm_fw_rules_free(&rl);
	for (i = 0; i < p->nchains; i++) {
		c = tdm_policy_chain(cur, p->chains[i].name);
		if (c < 0) {
			ap->res.added++;
			continue;
		}
		changed = !chain_same(p, &p->chains[i], cur, &cur->chains[c]);
		ap->res.changed += changed;
		ap->res.kept += !changed;
	}
	for (i = 0; i < p->ndevs; i++) {
		const struct pol_dev *w = &p->devs[i];

		for (c = 0; c < cur->ndevs; c++)
			if (!strcmp(cur->devs[c].name, w->name))
				break;
		if (c == cur->ndevs) {
			ap->res.added++;
			continue;
		}
		changed = (w->mode != TDM_MODE_AUTO &&
			   w->mode != cur->devs[c].mode) ||
			  strcmp(pchain_name(p, w->chain),
				 pchain_name(cur, cur->devs[c].chain));
		ap->res.changed += changed;
		ap->res.kept += !changed;
	}
	for (i = 0; i < p->nsteers; i++) {
		if (keep[i] < 0)
			ap->res.added++;
		else if (strcmp(pchain_name(p, p->steers[i].chain),
				pchain_name(cur, cur->steers[keep[i]].chain)))
			ap->res.changed++;
		else
			ap->res.kept++;
	}
	return 0;
}

static int changes(struct applier *ap, int *keep, bool *used)
{
	return add_sets(ap) ?: change_sets(ap) ?:
	       add_nfs(ap) ?: change_nfs(ap) ?: change_chains(ap, true) ?:
	       change_chains(ap, false) ?: change_devs(ap) ?:
	       change_steers(ap, keep);
}

int tdm_policy_apply(struct tdm_ctx *ctx, const struct tdm_policy *file,
		     unsigned int flags, struct tdm_apply_result *res)
{
	struct applier ap = { .ctx = ctx, .p = file };
	struct tdm_policy *p = NULL;
	char msg[sizeof(ctx->err)];
	bool *used = NULL;
	int *keep = NULL;
	int err;

	err = log_run(ctx) ?: tdm_policy_running(ctx, &ap.cur);
	if (err)
		goto out;
	p = canon_copy(&ap, file);
	if (!p) {
		err = -EINVAL;
		goto out;
	}
	ap.p = p;
	err = set_ids(&ap, p);
	if (err)
		goto out;
	keep = calloc(p->nsteers + 1, sizeof(*keep));
	used = calloc(ap.cur->nsteers + 1, sizeof(*used));
	if (!keep || !used) {
		err = tdm_err(ctx, ENOMEM, "out of memory");
		goto out;
	}
	err = check(&ap);
	if (!err && (err = check_chain_users(&ap)))
		line_err(&ap, 0, err);
	if (!err)
		err = steer_plan(&ap, keep, used) ?: check_buckets(&ap, keep);
	if (err)
		goto out;
	ap.res.deleted = count_deleted(p, ap.cur, used);
	err = count_changes(&ap, keep);
	if (err)
		goto out;
	if (flags & TDM_APPLY_CHECK)
		goto out;

	ap.phase = TDM_AP_CHANGING;
	err = log_header(ctx, ap.phase, 0);
	if (err)
		goto out;
	err = changes(&ap, keep, used);
	if (!err) {
		ap.line = 0;
		err = gate(&ap, 0) ?: commit(&ap, used);
	}
	if (err) {
		/* take everything back; the error is the change's */
		line_err(&ap, ap.line, err);
		snprintf(msg, sizeof(msg), "%s", ctx->err);
		if (log_run(ctx))
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
				 "; and taking it back failed: %.300s (the next tandem command retries)",
				 ctx->err);
		snprintf(ctx->err, sizeof(ctx->err), "%s", msg);
		goto out;
	}
	ap.phase = TDM_AP_COMMITTED;
	err = log_header(ctx, ap.phase, ap.nsteps);
	tdm_crash_point(ctx);
	if (!err)
		err = log_run(ctx);
out:
	if (res)
		*res = ap.res;
	if (!(flags & TDM_APPLY_CHECK))
		tdm_status_record_apply(ctx, file->name, err,
					ap.res.added + ap.res.changed +
					ap.res.deleted);
	free(keep);
	free(used);
	canon_free(p);
	tdm_policy_free(ap.cur);
	return err;
}
