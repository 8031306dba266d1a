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

#include "internal.h"

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
 * would let them around every rule).
 */
static const struct tdm_nf_param firewall_params[] = {
	{ "default", "pass|drop" },
	{ "unparsed", "pass|drop" },
	{}
};

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
	return fw_action("default", vals[0], &fp->default_action,
			 err, errlen) ?:
	       fw_action("unparsed", vals[1], &fp->unparsed_action,
			 err, errlen);
}

static void firewall_format(const union tdm_nf_params *p, char *buf,
			    size_t size)
{
	const struct tdm_firewall_params *fp = TDM_NF_PARAMS(p, firewall);

	snprintf(buf, size, "default %s unparsed %s",
		 tdm_action_name(fp->default_action),
		 tdm_action_name(fp->unparsed_action));
}

/* An empty ruleset in both banks, with the default action. */
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
		if (bpf_map_update_elem(tdm_fw_rules_fd(ctx), &key, rs, BPF_ANY))
			err = tdm_err(ctx, errno, "writing firewall rules: %s",
				      strerror(errno));
	}
	free(rs);
	return err;
}

static void firewall_destroy(struct tdm_ctx *ctx, __u32 id)
{
	__u32 bank, key;

	for (bank = 0; bank < 2; bank++) {
		key = tdm_fw_ruleset_key(id, bank);
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

static int ruleset_read(struct tdm_ctx *ctx, __u32 id, __u32 bank,
			struct tdm_fw_ruleset *rs)
{
	__u32 key = tdm_fw_ruleset_key(id, bank);

	if (bpf_map_lookup_elem(tdm_fw_rules_fd(ctx), &key, rs))
		return tdm_err(ctx, errno, "reading firewall rules: %s",
			       strerror(errno));
	return 0;
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
 * Write rs to the inactive bank (no chain reads it: a change cut short
 * was finished when the state was opened), then, under the journal,
 * switch every chain of the firewall to it and record it.
 */
int tdm_fw_commit(struct tdm_ctx *ctx, __u32 id, struct tdm_nf_info *info,
		  const struct tdm_fw_ruleset *rs)
{
	struct tdm_nf_info next = *info;
	struct tdm_journal j = { .op = TDM_J_FW_BANK, .nf_id = id };
	__u32 key;
	int err;

	fw_of(&next)->bank ^= 1;
	key = tdm_fw_ruleset_key(id, fw_of(&next)->bank);
	if (bpf_map_update_elem(tdm_fw_rules_fd(ctx), &key, rs, BPF_ANY))
		return tdm_err(ctx, errno, "writing firewall rules: %s",
			       strerror(errno));
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

int tdm_rule_add(struct tdm_ctx *ctx, const char *nf,
		 const struct tdm_rule_spec *spec, __u32 *idp)
{
	struct tdm_fw_ruleset *rs;
	struct tdm_nf_info info;
	struct tdm_fw_rule r = {};
	__u32 i, pos;
	int id, err;

	id = firewall_lookup(ctx, nf, &info);
	if (id < 0)
		return id;
	if (spec->action != TDM_ACT_PASS && spec->action != TDM_ACT_DROP)
		return tdm_err(ctx, EINVAL, "a firewall rule's action is pass or drop");
	rs = malloc(sizeof(*rs));
	if (!rs)
		return tdm_err(ctx, ENOMEM, "out of memory");
	err = ruleset_read(ctx, id, fw_of(&info)->bank, rs);
	if (err)
		goto out;
	if (rs->nrules >= TDM_FW_MAX_RULES) {
		err = tdm_err(ctx, ENOSPC, "firewall '%s' is full (%d rules)",
			      nf, TDM_FW_MAX_RULES);
		goto out;
	}
	r.id = fw_of(&info)->next_rule_id++;
	r.prio = spec->prio;
	r.action = spec->action;
	r.m = spec->m;
	/* keep (prio, id) order: after every rule of the same prio */
	for (pos = 0; pos < rs->nrules; pos++)
		if (rs->rules[pos].prio > r.prio)
			break;
	for (i = rs->nrules; i > pos; i--)
		rs->rules[i] = rs->rules[i - 1];
	rs->rules[pos] = r;
	rs->nrules++;
	err = tdm_fw_commit(ctx, id, &info, rs);
	if (!err && idp)
		*idp = r.id;
out:
	free(rs);
	return err;
}

int tdm_rule_del(struct tdm_ctx *ctx, const char *nf, __u32 rule_id)
{
	struct tdm_fw_ruleset *rs;
	struct tdm_nf_info info;
	__u32 i;
	int id, err;

	id = firewall_lookup(ctx, nf, &info);
	if (id < 0)
		return id;
	rs = malloc(sizeof(*rs));
	if (!rs)
		return tdm_err(ctx, ENOMEM, "out of memory");
	err = ruleset_read(ctx, id, fw_of(&info)->bank, rs);
	if (err)
		goto out;
	for (i = 0; i < rs->nrules; i++)
		if (rs->rules[i].id == rule_id)
			break;
	if (i == rs->nrules) {
		err = tdm_err(ctx, ENOENT, "firewall '%s' has no rule %u", nf,
			      rule_id);
		goto out;
	}
	for (; i + 1 < rs->nrules; i++)
		rs->rules[i] = rs->rules[i + 1];
	rs->nrules--;
	memset(&rs->rules[rs->nrules], 0, sizeof(rs->rules[0]));
	err = tdm_fw_commit(ctx, id, &info, rs);
out:
	free(rs);
	return err;
}

int tdm_rule_list(struct tdm_ctx *ctx, const char *nf,
		  struct tdm_fw_ruleset *rs)
{
	struct tdm_nf_info info;
	int id;

	id = firewall_lookup(ctx, nf, &info);
	if (id < 0)
		return id;
	return ruleset_read(ctx, id, fw_of(&info)->bank, rs);
}

/* ---- the type ---- */

/* The hop reads the ruleset of the bank its parameters name. */
static __u32 firewall_hop_state(__u32 id, const union tdm_nf_params *p)
{
	return tdm_fw_ruleset_key(id, TDM_NF_PARAMS(p, firewall)->bank);
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
		"                      kernel will (default drop)\n",
	.params = firewall_params,
	.parse = firewall_parse, .format = firewall_format,
	.create = firewall_create, .destroy = firewall_destroy,
	.hop_state = firewall_hop_state,
	.drops = firewall_drops,
};
