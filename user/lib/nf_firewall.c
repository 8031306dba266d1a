// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * firewall, the library half (bpf/nf_firewall.bpf.c): its parameters,
 * its rulesets and its rules. A firewall has two rulesets (banks); a
 * change is written to the inactive bank, then every chain using the
 * firewall is rebuilt to read that bank (a hitless chain replace), so
 * each packet sees either the old ruleset or the new one, never a mix.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <json-c/json.h>

#include "internal.h"
#include "grammar.h"

static int perr(char *err, size_t errlen, const char *fmt, const char *a,
		const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return -EINVAL;
}

/*
 * default pass|drop: packets no rule matches (pass if not given);
 * unparsed pass|drop: packets the parser could not classify as the
 * kernel will (TDM_F_UNPARSED; drop if not given: passing them unread
 * would let them around every rule);
 * lookup auto|linear|tuples: how the rules are looked up (auto if not
 * given: linear up to TDM_FW_AUTO_LINEAR rules, above by tuples if they
 * cost less, see fw_worth()).
 */
static const struct tdm_nf_param firewall_params[] = {
	{ "default", "pass|drop" },
	{ "unparsed", "pass|drop" },
	{ "lookup", "auto|linear|tuples" },
	{}
};

static const char *const fw_lookups[] = {
	[TDM_FW_LOOKUP_AUTO] = "auto",
	[TDM_FW_LOOKUP_LINEAR] = "linear",
	[TDM_FW_LOOKUP_TUPLES] = "tuples",
};

static int fw_lookup_parse(const char *val, __u32 *lookup, char *err,
			   size_t errlen)
{
	__u32 i;

	if (!val)
		return 0;
	for (i = 0; i < ARRAY_SIZE(fw_lookups); i++)
		if (!strcmp(val, fw_lookups[i])) {
			*lookup = i;
			return 0;
		}
	return perr(err, errlen,
		    "firewall: bad lookup '%s' for '%s' (expected auto, linear or tuples)",
		    val, "lookup");
}

static const char *fw_lookup_name(__u32 lookup)
{
	return lookup < ARRAY_SIZE(fw_lookups) ? fw_lookups[lookup] : "?";
}

static int fw_action(const char *key, const char *val, __u32 *action,
		     char *err, size_t errlen)
{
	if (!val)
		return 0;
	if (!strcmp(val, "pass"))
		*action = TDM_ACT_PASS;
	else if (!strcmp(val, "drop"))
		*action = TDM_ACT_DROP;
	else
		return perr(err, errlen,
			    "firewall: bad action '%s' for '%s' (expected pass or drop)",
			    val, key);
	return 0;
}

static int firewall_parse(union tdm_nf_params *p, const char *const *vals,
			  char *err, size_t errlen)
{
	struct tdm_firewall_params *fp = TDM_NF_PARAMS(p, firewall);

	fp->default_action = TDM_ACT_PASS;
	fp->unparsed_action = TDM_ACT_DROP;
	fp->next_rule_id = 1;
	fp->lookup = TDM_FW_LOOKUP_AUTO;
	return fw_action("default", vals[0], &fp->default_action,
			 err, errlen) ?:
	       fw_action("unparsed", vals[1], &fp->unparsed_action,
			 err, errlen) ?:
	       fw_lookup_parse(vals[2], &fp->lookup, err, errlen);
}

static void firewall_format(const union tdm_nf_params *p, char *buf,
			    size_t size)
{
	const struct tdm_firewall_params *fp = TDM_NF_PARAMS(p, firewall);

	snprintf(buf, size, "default %s unparsed %s lookup %s",
		 tdm_action_name(fp->default_action),
		 tdm_action_name(fp->unparsed_action),
		 fw_lookup_name(fp->lookup));
}

static int fw_bank_clear(struct tdm_ctx *ctx, __u32 key);

/*
 * An empty ruleset in both banks, with the default action. The id may
 * be that of a firewall whose deletion was cut short (its record gone,
 * its banks not yet cleared): whatever its banks still hold comes out
 * first, or the new firewall's tuples would find the old entries.
 */
static int firewall_create(struct tdm_ctx *ctx, __u32 id,
			   union tdm_nf_params *p)
{
	struct tdm_fw_ruleset *rs = calloc(1, sizeof(*rs));
	const struct tdm_firewall_params *fp = TDM_NF_PARAMS(p, firewall);
	__u32 bank, key;
	int err = 0;

	if (!rs)
		return tdm_err(ctx, ENOMEM, "out of memory");
	rs->default_action = fp->default_action;
	for (bank = 0; bank < 2 && !err; bank++) {
		key = tdm_fw_ruleset_key(id, bank);
		err = fw_bank_clear(ctx, key);
		if (!err && bpf_map_update_elem(tdm_fw_rules_fd(ctx), &key, rs,
						BPF_ANY))
			err = tdm_err(ctx, errno, "writing firewall rules: %s",
				      strerror(errno));
	}
	free(rs);
	return err;
}

/*
 * A bank's header goes only once what it names is out: so entries are
 * never left without a header that finds them (the next create of this
 * id clears what a cut-short destroy left).
 */
static void firewall_destroy(struct tdm_ctx *ctx, __u32 id)
{
	__u32 bank, key;

	for (bank = 0; bank < 2; bank++) {
		key = tdm_fw_ruleset_key(id, bank);
		if (!fw_bank_clear(ctx, key))
			bpf_map_delete_elem(tdm_fw_rules_fd(ctx), &key);
	}
}

/* ---- rules ---- */

/* The parameters of firewall record nf */
static struct tdm_firewall_params *fw_of(struct tdm_nf_info *nf)
{
	return TDM_NF_PARAMS(&nf->params, firewall);
}

static int firewall_lookup(struct tdm_ctx *ctx, const char *nf,
			   struct tdm_nf_info *info)
{
	int id = tdm_nf_lookup(ctx, nf, info);

	if (id < 0)
		return id;
	if (info->type != TDM_NF_FIREWALL)
		return tdm_err(ctx, EINVAL,
			       "NF '%s' is a %s, rules belong to firewalls",
			       nf, tdm_nf_type_name(tdm_nf_type_by_id(info->type)));
	return id;
}

int tdm_fw_rules_push(struct tdm_fw_rules *rl, const struct tdm_fw_rule *r)
{
	if (rl->n == rl->cap) {
		__u32 cap = rl->cap ? rl->cap * 2 : 64;
		struct tdm_fw_rule *v = realloc(rl->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rl->v = v;
		rl->cap = cap;
	}
	rl->v[rl->n++] = *r;
	return 0;
}

void tdm_fw_rules_free(struct tdm_fw_rules *rl)
{
	free(rl->v);
	memset(rl, 0, sizeof(*rl));
}

/*
 * The ruleset of key: its header into *rs and its rules, from
 * tdm_fw_store, into *rl (whose v is reused). partial: a bank a write
 * or a clear cut short, whose header may name rules that are not
 * there: those are skipped. 0; -ENOENT if there is no ruleset (partial:
 * without an error message); -errno.
 */
static int ruleset_read(struct tdm_ctx *ctx, __u32 key,
			struct tdm_fw_ruleset *rs, struct tdm_fw_rules *rl,
			bool partial)
{
	struct tdm_fw_store_key k = { .ruleset = key };
	struct tdm_fw_rule r;
	int fd = tdm_fw_store_fd(ctx);

	rl->n = 0;
	if (bpf_map_lookup_elem(tdm_fw_rules_fd(ctx), &key, rs)) {
		if (partial && errno == ENOENT)
			return -ENOENT;
		return tdm_err(ctx, errno, "reading firewall rules: %s",
			       strerror(errno));
	}
	rl->default_action = rs->default_action;
	rl->mode = rs->mode;
	rl->ntuples = rs->mode == TDM_FW_MODE_TUPLES ? rs->ntuples : 0;
	for (k.index = 0; k.index < rs->nrules; k.index++) {
		if (bpf_map_lookup_elem(fd, &k, &r)) {
			if (partial && errno == ENOENT)
				continue;
			return tdm_err(ctx, errno,
				       "reading firewall rule %u of %u: %s",
				       k.index, rs->nrules, strerror(errno));
		}
		if (tdm_fw_rules_push(rl, &r))
			return tdm_err(ctx, ENOMEM, "out of memory");
	}
	return 0;
}

/*
 * Take out what ruleset key (an inactive bank) holds besides its header:
 * its tuple entries and its rules in tdm_fw_store. It may be what a
 * write or a clear cut short left: its header names every rule written
 * since (fw_write() writes the header first), and the tuple entries
 * are written only once all the rules are, so compiling the rules that
 * are there finds every entry that can be (the compile is
 * deterministic). 0 or -errno.
 */
static int fw_bank_clear(struct tdm_ctx *ctx, __u32 key)
{
	struct tdm_fw_ruleset *rs = malloc(sizeof(*rs));
	struct tdm_fw_rules rl = {};
	struct tdm_tss_entries e = {};
	struct tdm_fw_store_key *keys = NULL;
	__u32 i, n;
	int err;

	if (!rs)
		return tdm_err(ctx, ENOMEM, "out of memory");
	err = ruleset_read(ctx, key, rs, &rl, true);
	if (err) {
		err = err == -ENOENT ? 0 : err;
		goto out;
	}
	/*
	 * The entries first: the rules are what finds them. ntuples says
	 * whether any were written (fw_write() sets it before it writes
	 * them, and the final header of a linear ruleset clears it).
	 */
	if (rl.n && rs->ntuples) {
		err = tdm_tss_compile(rl.v, rl.n, rs, key, &e);
		if (err == -E2BIG)	/* written linear: no entries */
			err = 0;
		else if (err)
			err = tdm_err(ctx, -err, "compiling firewall rules: %s",
				      strerror(-err));
		else
			err = tdm_tss_delete(ctx, &e);
		if (err)
			goto out;
		tdm_crash_point(ctx);
	}
	n = rs->nrules;
	keys = malloc(n * sizeof(*keys) + 1);
	if (!keys) {
		err = tdm_err(ctx, ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		keys[i] = (struct tdm_fw_store_key){ key, i };
	err = tdm_map_delete_keys(ctx, tdm_fw_store_fd(ctx), keys,
				  sizeof(*keys), n, "firewall rules");
out:
	free(keys);
	tdm_tss_free(&e);
	tdm_fw_rules_free(&rl);
	free(rs);
	return err;
}

/* Write rl's rules to the store as ruleset key's: 0 or -errno */
static int fw_store_write(struct tdm_ctx *ctx, __u32 key,
			  const struct tdm_fw_rules *rl)
{
	struct tdm_fw_store_key *keys = malloc(rl->n * sizeof(*keys) + 1);
	__u32 i;
	int err;

	if (!keys)
		return tdm_err(ctx, ENOMEM, "out of memory");
	for (i = 0; i < rl->n; i++)
		keys[i] = (struct tdm_fw_store_key){ key, i };
	err = tdm_map_write(ctx, tdm_fw_store_fd(ctx), keys, sizeof(*keys),
			    rl->v, sizeof(rl->v[0]), rl->n, "firewall rules");
	if (err == -E2BIG || err == -ENOMEM)
		err = tdm_err(ctx, ENOSPC,
			      "the firewall rule store is full (%d rules in all, counting both banks of every firewall)",
			      TDM_FW_STORE_MAX);
	free(keys);
	return err;
}

static int fw_record(struct tdm_ctx *ctx, __u32 nf_id,
		     const struct tdm_nf_info *info)
{
	if (bpf_map_update_elem(ctx->nfs_fd, &nf_id, info, BPF_ANY))
		return tdm_err(ctx, errno, "writing NF '%s': %s", info->name,
			       strerror(errno));
	tdm_crash_point(ctx);
	return 0;
}

int tdm_fw_bank_finish(struct tdm_ctx *ctx, __u32 nf_id,
		       const struct tdm_nf_info *info)
{
	return tdm_chains_rebuild_nf(ctx, nf_id, info) ?:
	       fw_record(ctx, nf_id, info);
}

/*
 * Compile a ruleset of n rules to tuples, as parameter lookup says?
 * auto: only above TDM_FW_AUTO_LINEAR rules; then fw_worth() decides.
 */
static bool fw_tuples(__u32 lookup, __u32 n)
{
	switch (lookup) {
	case TDM_FW_LOOKUP_LINEAR:
		return false;
	case TDM_FW_LOOKUP_TUPLES:
		return true;
	default:
		return n > TDM_FW_AUTO_LINEAR;
	}
}

/* lookup auto: do rs's tuples, as compiled, cost less than n rules? */
static bool fw_worth(__u32 lookup, const struct tdm_fw_ruleset *rs, __u32 n)
{
	return lookup != TDM_FW_LOOKUP_AUTO ||
	       (__u64)rs->ntuples * TDM_FW_TUPLE_NS < (__u64)n * TDM_FW_RULE_NS;
}

static void fw_linear(struct tdm_fw_ruleset *rs, const struct tdm_fw_rules *rl)
{
	rs->mode = TDM_FW_MODE_LINEAR;
	rs->ntuples = 0;
	memset(rs->tuples, 0, sizeof(rs->tuples));
	memset(rs->rules, 0, sizeof(rs->rules));
	if (rl->n && rl->n <= TDM_FW_LINEAR_MAX)
		memcpy(rs->rules, rl->v, rl->n * sizeof(rl->v[0]));
}

/*
 * Compile rl to tuples into rs and write their entries. 0; 1 if the
 * ruleset is better (lookup auto) or only (the tuple tables are full)
 * looked up linearly, when it can be; -errno with the error set.
 */
static int fw_write_tuples(struct tdm_ctx *ctx, __u32 key, __u32 lookup,
			   const struct tdm_fw_rules *rl,
			   struct tdm_fw_ruleset *rs)
{
	bool linear_ok = rl->n <= TDM_FW_LINEAR_MAX;
	struct tdm_tss_entries e = {};
	int err;

	err = tdm_tss_compile(rl->v, rl->n, rs, key, &e);
	if (err == -E2BIG) {
		err = linear_ok ? 1 :
		      tdm_err(ctx, ENOSPC,
			      "these %u rules need more than %d tuples (mask shapes: family, protocol or not, prefix and port prefix lengths); a firewall of more than %d rules can have at most %d",
			      rl->n, TDM_FW_MAX_TUPLES, TDM_FW_LINEAR_MAX,
			      TDM_FW_MAX_TUPLES);
		goto out;
	}
	if (err == -EFBIG) {
		err = linear_ok ? 1 :
		      tdm_err(ctx, ENOSPC,
			      "these %u rules need more than %d tuple entries (a port range that is not a prefix takes up to 30, two up to 900)",
			      rl->n, TDM_FW_RULESET_ENTRIES);
		goto out;
	}
	if (err) {
		err = tdm_err(ctx, -err, "compiling firewall rules: %s",
			      strerror(-err));
		goto out;
	}
	if (linear_ok && !fw_worth(lookup, rs, rl->n)) {
		err = 1;
		goto out;
	}
	/* the header first: its ntuples tells a clear there are entries */
	if (bpf_map_update_elem(tdm_fw_rules_fd(ctx), &key, rs, BPF_ANY)) {
		err = tdm_err(ctx, errno, "writing firewall rules: %s",
			      strerror(errno));
		goto out;
	}
	tdm_crash_point(ctx);
	err = tdm_tss_write(ctx, &e);
	tdm_crash_point(ctx);
	if (err == -E2BIG || err == -ENOMEM) {
		/* full: what went in comes out */
		err = tdm_tss_delete(ctx, &e) ?:
		      linear_ok ? 1 :
		      tdm_err(ctx, ENOSPC,
			      "the firewall tuple table is full (%d entries in all)",
			      TDM_FW_MAX_ENTRIES);
	}
out:
	tdm_tss_free(&e);
	return err;
}

/*
 * Write the rules of rl (v[0..n) in (prio, id) order, default_action)
 * to ruleset key, compiled as lookup says. No packet reads the key: it
 * is the inactive bank, and the switch that made it so waited for a
 * grace period (tdm_chains_rebuild_nf() reaps the old hops) before it
 * returned, or was finished at open. In this order, so that a write or
 * clear cut short anywhere leaves what the next one can take out
 * (fw_bank_clear()): the bank's old rules and entries out; a header
 * naming the new rules (linear: the final one); the rules into
 * tdm_fw_store; then for tuples the header that says how to read them,
 * and their entries. A ruleset of at most
 * TDM_FW_LINEAR_MAX rules that does not fit the tuple tables (too many
 * tuples, tdm_fw_tuples full) is written linear; a larger one is
 * refused (ENOSPC).
 */
static int fw_write(struct tdm_ctx *ctx, __u32 key, __u32 lookup,
		    const struct tdm_fw_rules *rl)
{
	struct tdm_fw_ruleset *rs;
	int err;

	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return tdm_err(ctx, ENOMEM, "out of memory");
	err = fw_bank_clear(ctx, key);
	if (err)
		goto out;
	rs->nrules = rl->n;
	rs->default_action = rl->default_action;
	fw_linear(rs, rl);
	if (bpf_map_update_elem(tdm_fw_rules_fd(ctx), &key, rs, BPF_ANY)) {
		err = tdm_err(ctx, errno, "writing firewall rules: %s",
			      strerror(errno));
		goto out;
	}
	tdm_crash_point(ctx);
	err = fw_store_write(ctx, key, rl);
	if (err)
		goto out;
	tdm_crash_point(ctx);
	/*
	 * The linear header above is already the final one, and so is the
	 * tuples header fw_write_tuples() writes: only a fallback to linear
	 * after it writes again.
	 */
	if (!fw_tuples(lookup, rl->n) && rl->n <= TDM_FW_LINEAR_MAX)
		goto out;
	err = fw_write_tuples(ctx, key, lookup, rl, rs);
	if (err <= 0)
		goto out;
	fw_linear(rs, rl);
	err = 0;
	if (bpf_map_update_elem(tdm_fw_rules_fd(ctx), &key, rs, BPF_ANY))
		err = tdm_err(ctx, errno, "writing firewall rules: %s",
			      strerror(errno));
out:
	free(rs);
	return err;
}

/*
 * Write rl to the inactive bank (no chain reads it: a change cut short
 * was finished when the state was opened), compiled as the firewall's
 * lookup parameter in *info says, then, under the journal, switch every
 * chain of the firewall to it and record it.
 */
int tdm_fw_commit(struct tdm_ctx *ctx, __u32 id, struct tdm_nf_info *info,
		  const struct tdm_fw_rules *rl)
{
	struct tdm_nf_info next = *info;
	struct tdm_journal j = { .op = TDM_J_FW_BANK, .nf_id = id };
	__u32 key;
	int err;

	fw_of(&next)->bank ^= 1;
	key = tdm_fw_ruleset_key(id, fw_of(&next)->bank);
	err = fw_write(ctx, key, fw_of(&next)->lookup, rl);
	if (err)
		return err;
	tdm_crash_point(ctx);
	j.bank = fw_of(&next)->bank;
	j.next_rule_id = fw_of(&next)->next_rule_id;
	err = tdm_journal_begin(ctx, &j);
	if (err)
		return err;
	err = tdm_chains_rebuild_nf(ctx, id, &next);
	if (err) {
		/*
		 * The chains are back on the old bank: nothing to finish.
		 * If some could not be brought back, the journal stays: the
		 * next open moves them all to the new bank, complete as it is.
		 */
		if (!ctx->rebuild_half)
			tdm_journal_end(ctx);
		return err;
	}
	/* failing here leaves the journal: the next open finishes it */
	err = fw_record(ctx, id, &next);
	if (err)
		return err;
	*info = next;
	return tdm_journal_end(ctx);
}

/* Firewall nf's record into *info and its active rules into *rl: its
 * id, or -errno with the error set */
static int active_rules(struct tdm_ctx *ctx, const char *nf,
			struct tdm_nf_info *info, struct tdm_fw_rules *rl)
{
	struct tdm_fw_ruleset *rs;
	int id = firewall_lookup(ctx, nf, info), err;

	if (id < 0)
		return id;
	rs = malloc(sizeof(*rs));
	if (!rs)
		return tdm_err(ctx, ENOMEM, "out of memory");
	err = ruleset_read(ctx, tdm_fw_ruleset_key(id, fw_of(info)->bank),
			   rs, rl, false);
	free(rs);
	return err ?: id;
}

/*
 * The sets spec names (or, without names, m's set ids), into m: their
 * ids and interval flags, and the
 * family they imply, checked against the rest of the match as the
 * parser checks prefixes (an ipv4 set with an IPv6 prefix or icmpv6 is
 * refused; an inet set implies nothing). 0 or -errno with the error.
 */
static int fw_resolve_sets(struct tdm_ctx *ctx, const struct tdm_rule_spec *spec,
			   struct tdm_match *m)
{
	const char *names[2] = { spec->src_set, spec->dst_set };
	static const __u8 interval[2] = {
		TDM_MATCH_SRC_INTERVAL, TDM_MATCH_DST_INTERVAL,
	};
	struct tdm_set_info set;
	int side, id;

	__u16 ids[2] = { m->src_set, m->dst_set };
	int err;

	m->set_flags = 0;
	for (side = 0; side < 2; side++) {
		/* by name (the parser's), or by id (a rule read back) */
		if (!names[side][0] && !ids[side])
			continue;
		if (side ? m->dst_len : m->src_len)
			return tdm_err(ctx, EINVAL,
				       "the match has a prefix and a set for %s",
				       side ? "dst" : "src");
		if (names[side][0]) {
			id = tdm_set_lookup(ctx, names[side], &set);
		} else {
			id = ids[side];
			err = tdm_set_get(ctx, id, &set);
			if (err)
				return err == -ENOENT ?
				       tdm_err(ctx, ENOENT, "no set #%d", id) : err;
		}
		if (id < 0)
			return id;
		if (set.family && m->family && set.family != m->family)
			return tdm_err(ctx, EINVAL,
				       "the match mixes IPv4 and IPv6: set '%s' is %s, the rest of the match %s",
				       set.name, tdm_set_type_name(set.family),
				       m->family == 4 ? "IPv4" : "IPv6");
		if (set.family)
			m->family = set.family;
		if (side)
			m->dst_set = id;
		else
			m->src_set = id;
		if (set.flags & TDM_SET_INTERVAL)
			m->set_flags |= interval[side];
	}
	return 0;
}

int tdm_rule_add(struct tdm_ctx *ctx, const char *nf,
		 const struct tdm_rule_spec *spec, __u32 *idp)
{
	struct tdm_fw_rules rl = {};
	struct tdm_nf_info info;
	struct tdm_fw_rule r = {};
	__u32 pos;
	int id, err;

	err = id = active_rules(ctx, nf, &info, &rl);
	if (id < 0)
		goto out;
	if (spec->action != TDM_ACT_PASS && spec->action != TDM_ACT_DROP) {
		err = tdm_err(ctx, EINVAL, "a firewall rule's action is pass or drop");
		goto out;
	}
	if (rl.n >= TDM_FW_MAX_RULES) {
		err = tdm_err(ctx, ENOSPC, "firewall '%s' is full (%d rules)",
			      nf, TDM_FW_MAX_RULES);
		goto out;
	}
	r.m = spec->m;
	err = fw_resolve_sets(ctx, spec, &r.m);
	if (err)
		goto out;
	r.id = fw_of(&info)->next_rule_id++;
	r.prio = spec->prio;
	r.action = spec->action;
	/* keep (prio, id) order: after every rule of the same prio */
	for (pos = rl.n; pos > 0; pos--)
		if (rl.v[pos - 1].prio <= r.prio)
			break;
	if (tdm_fw_rules_push(&rl, &r)) {
		err = tdm_err(ctx, ENOMEM, "out of memory");
		goto out;
	}
	memmove(&rl.v[pos + 1], &rl.v[pos], (rl.n - 1 - pos) * sizeof(r));
	rl.v[pos] = r;
	err = tdm_fw_commit(ctx, id, &info, &rl);
	if (!err && idp)
		*idp = r.id;
out:
	tdm_fw_rules_free(&rl);
	return err;
}

int tdm_rule_del(struct tdm_ctx *ctx, const char *nf, __u32 rule_id)
{
	struct tdm_fw_rules rl = {};
	struct tdm_nf_info info;
	__u32 i;
	int id, err;

	err = id = active_rules(ctx, nf, &info, &rl);
	if (id < 0)
		goto out;
	for (i = 0; i < rl.n; i++)
		if (rl.v[i].id == rule_id)
			break;
	if (i == rl.n) {
		err = tdm_err(ctx, ENOENT, "firewall '%s' has no rule %u", nf,
			      rule_id);
		goto out;
	}
	memmove(&rl.v[i], &rl.v[i + 1], (rl.n - i - 1) * sizeof(rl.v[0]));
	rl.n--;
	err = tdm_fw_commit(ctx, id, &info, &rl);
out:
	tdm_fw_rules_free(&rl);
	return err;
}

int tdm_rule_list(struct tdm_ctx *ctx, const char *nf,
		  struct tdm_fw_rules *rl)
{
	struct tdm_nf_info info;
	int id = active_rules(ctx, nf, &info, rl);

	return id < 0 ? id : 0;
}

/* ---- its commands: tandem rule add|del|show ---- */

static int rule_add_run(struct tdm_ctx *ctx, const struct args *a,
			struct json_object **out)
{
	const char *nf = arg_str(a, "NF");
	struct tdm_rule_spec spec = {
		.prio = arg_num(a, "prio", RULE_PRIO_DEFAULT),
		/* the index in tdm_rule_actions[] is the verdict */
		.action = arg_num(a, "action", 0) ? TDM_ACT_DROP : TDM_ACT_PASS,
		.m = a->m,
	};
	__u32 id;
	int err;

	memcpy(spec.src_set, a->mp.sets[0], sizeof(spec.src_set));
	memcpy(spec.dst_set, a->mp.sets[1], sizeof(spec.dst_set));
	err = tdm_rule_add(ctx, nf, &spec, &id);
	if (err)
		return err;
	*out = json_object_new_object();
	json_object_object_add(*out, "nf", json_object_new_string(nf));
	json_object_object_add(*out, "id", json_object_new_int64(id));
	return 0;
}

static void rule_add_print(struct json_object *o, FILE *f)
{
	fprintf(f, "rule %" PRId64 " added to %s\n",
		json_object_get_int64(json_object_object_get(o, "id")),
		json_object_get_string(json_object_object_get(o, "nf")));
}

static int rule_del_run(struct tdm_ctx *ctx, const struct args *a,
			struct json_object **out)
{
	return tdm_rule_del(ctx, arg_str(a, "NF"), arg_num(a, "ID", 0));
}

/*
 * Does the hop hold these rules as constants (firewall_hop_rules())? A
 * linear ruleset of at most TDM_HOP_RULES rules, none on a set.
 */
static bool fw_in_program(__u32 mode, const struct tdm_fw_rule *v, __u32 n)
{
	__u32 i;

	if (mode != TDM_FW_MODE_LINEAR || n > TDM_HOP_RULES)
		return false;
	for (i = 0; i < n; i++)
		if (v[i].m.src_set || v[i].m.dst_set)
			return false;
	return true;
}

static int rule_show_run(struct tdm_ctx *ctx, const struct args *a,
			 struct json_object **out)
{
	const char *nf = arg_str(a, "NF");
	struct tdm_set_names *names = malloc(sizeof(*names));
	struct tdm_fw_rules rl = {};
	struct json_object *arr;
	char buf[256];
	__u32 i;
	int err;

	if (!names)
		return tdm_err(ctx, ENOMEM, "out of memory");
	err = tdm_rule_list(ctx, nf, &rl) ?: tdm_set_names(ctx, names);
	if (err) {
		tdm_fw_rules_free(&rl);
		free(names);
		return err;
	}
	*out = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(*out, "nf", json_object_new_string(nf));
	json_object_object_add(*out, "default", json_object_new_string(
		tdm_action_name(rl.default_action)));
	/* how the datapath looks them up: lookup auto picked, or a fallback */
	json_object_object_add(*out, "mode", json_object_new_string(
		rl.mode == TDM_FW_MODE_TUPLES ? "tuples" : "linear"));
	json_object_object_add(*out, "tuples", json_object_new_int64(rl.ntuples));
	/* firewall_hop_rules(): the rules are the hop's constants */
	json_object_object_add(*out, "in_program", json_object_new_boolean(
		fw_in_program(rl.mode, rl.v, rl.n)));
	for (i = 0; i < rl.n; i++) {
		const struct tdm_fw_rule *r = &rl.v[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_int64(r->id));
		json_object_object_add(o, "prio",
				       json_object_new_int64(r->prio));
		tdm_json_match_sets(o, &r->m, names);
		/* and as the text shows it, which rule add reads back */
		json_object_object_add(o, "match", json_object_new_string(
			tdm_format_match_sets(&r->m, names, buf, sizeof(buf))));
		json_object_object_add(o, "action", json_object_new_string(
			tdm_action_name(r->action)));
		json_object_array_add(arr, o);
	}
	json_object_object_add(*out, "rules", arr);
	tdm_fw_rules_free(&rl);
	free(names);
	return 0;
}

static const char *jget(struct json_object *o, const char *key)
{
	return json_object_get_string(json_object_object_get(o, key));
}

static void rule_show_print(struct json_object *o, FILE *f)
{
	struct json_object *arr = json_object_object_get(o, "rules");
	size_t i;

	fprintf(f, "%-5s %-6s %-60s %s\n", "ID", "PRIO", "MATCH", "ACTION");
	for (i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);

		fprintf(f, "%-5s %-6s %-60s %s\n", jget(r, "id"),
			jget(r, "prio"), jget(r, "match"), jget(r, "action"));
	}
	fprintf(f, "%-5s %-6s %-60s %s\n", "-", "-", "(default)",
		jget(o, "default"));
	/* how the datapath reads them (the firewall's lookup parameter
	 * asks; the ruleset decides, see rule show -j's mode) */
	if (!strcmp(jget(o, "mode"), "tuples"))
		fprintf(f, "looked up by tuples: %s\n", jget(o, "tuples"));
	else if (json_object_get_boolean(json_object_object_get(o,
							      "in_program")))
		fprintf(f, "looked up linearly, as constants of the chain's program\n");
	else
		fprintf(f, "looked up linearly\n");
}

static const struct arg rule_del_args[] = {
	{ .meta = "NF", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the firewall NF" },
	{ NULL, NULL, "ID", ARG_NUM, ARG_REQUIRED, 1, 0xffffffff, NULL,
	  "the rule's id, as 'rule show' prints it", "rule id" },
	{}
};

static const struct arg rule_show_args[] = {
	{ .meta = "NF", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the firewall NF" },
	{}
};

static const struct tdm_nf_command rule_cmds[] = {
	{ "add", NULL, tdm_rule_add_args, "add a rule to a firewall", true,
	  rule_add_run, rule_add_print },
	{ "del", "delete", rule_del_args, "delete a rule", true,
	  rule_del_run, NULL },
	{ "show", "list", rule_show_args,
	  "a firewall's rules, in the order they are tried", false,
	  rule_show_run, rule_show_print },
	{}
};

static const struct tdm_nf_object rule_object = {
	.name = "rule",
	.summary = "firewall rules",
	.cmds = rule_cmds,
	.notes = MATCH_NOTES
		 "\n"
		 "src @SET / dst @SET: the address is an element of the set\n"
		 "  (see 'tandem set help'); its family is the set's.\n"
		 "state STATES: what a conntrack NF earlier in the chain said,\n"
		 "  STATES := new|established|related|invalid|untracked[,...]\n"
		 "  (untracked: no conntrack ran, or it does not track the\n"
		 "  packet: non-IP, IPv6 neighbour discovery and MLD); a later\n"
		 "  fragment has its first fragment's state.\n"
		 "Rules are tried in (prio, id) order, lowest first; the first\n"
		 "match decides; no match takes the firewall's default.\n"
		 "sport/dport never match non-first fragments or truncated packets.\n",
};

/* ---- the type ---- */

/* The hop reads the ruleset of the bank its parameters name. */
static __u32 firewall_hop_state(__u32 id, const union tdm_nf_params *p)
{
	return tdm_fw_ruleset_key(id, TDM_NF_PARAMS(p, firewall)->bank);
}

/*
 * A linear ruleset of at most TDM_HOP_RULES rules, none on a set, goes
 * into the hop as constants: the bank the parameters name, as the datapath would read it
 * from tdm_fw_rules (no ruleset: left to the datapath, which passes).
 */
static int firewall_hop_rules(struct tdm_ctx *ctx, __u32 id,
			      const union tdm_nf_params *p,
			      struct tdm_hop_rules *hr)
{
	__u32 key = firewall_hop_state(id, p), i;
	struct tdm_fw_ruleset *rs;
	int err = 0;

	memset(hr, 0, sizeof(*hr));
	rs = malloc(sizeof(*rs));
	if (!rs)
		return tdm_err(ctx, ENOMEM, "out of memory");
	if (bpf_map_lookup_elem(tdm_fw_rules_fd(ctx), &key, rs)) {
		if (errno != ENOENT)
			err = tdm_err(ctx, errno, "reading firewall rules: %s",
				      strerror(errno));
		goto out;
	}
	if (!fw_in_program(rs->mode, rs->rules, rs->nrules))
		goto out;
	hr->on = 1;
	hr->n = rs->nrules;
	hr->default_action = rs->default_action;
	for (i = 0; i < rs->nrules; i++) {
		hr->r[i].m = rs->rules[i].m;
		hr->r[i].action = rs->rules[i].action;
	}
out:
	free(rs);
	return err;
}

static const char *const firewall_drops[TDM_FIREWALL_DROP_MAX] = {
	[TDM_FIREWALL_DROP_RULE] = "rule",
	[TDM_FIREWALL_DROP_DEFAULT] = "default",
	[TDM_FIREWALL_DROP_UNPARSED] = "unparsed",
};

const struct tdm_nf_ops tdm_nf_firewall = {
	.summary = "stateless ACL: ordered rules on prefixes, protocol and ports",
	.help = "firewall: its rules are 'tandem rule' commands\n"
		"  default pass|drop   packets no rule matches (default pass)\n"
		"  unparsed pass|drop  packets the parser could not read as the\n"
		"                      kernel will (default drop)\n"
		"  lookup auto|linear|tuples  rule after rule, or a hash lookup\n"
		"                      per mask shape (tuple space search); auto:\n"
		"                      tuples above 8 rules if they cost less\n"
		"                      (default auto)\n",
	.params = firewall_params,
	.parse = firewall_parse, .format = firewall_format,
	.create = firewall_create, .destroy = firewall_destroy,
	.hop_state = firewall_hop_state,
	.hop_rules = firewall_hop_rules,
	.object = &rule_object,
	.drops = firewall_drops,
};
