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
		tdm_tss_clear(ctx, key);
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

/* lookup auto: do rs's tuples, as compiled, cost less than its rules? */
static bool fw_worth(__u32 lookup, const struct tdm_fw_ruleset *rs)
{
	return lookup != TDM_FW_LOOKUP_AUTO ||
	       (__u64)rs->ntuples * TDM_FW_TUPLE_NS <
	       (__u64)rs->nrules * TDM_FW_RULE_NS;
}

static void fw_linear(struct tdm_fw_ruleset *rs)
{
	rs->mode = TDM_FW_MODE_LINEAR;
	rs->ntuples = 0;
	memset(rs->tuples, 0, sizeof(rs->tuples));
}

/*
 * Write the rules of in (nrules, rules[], default_action) to ruleset
 * key, compiled as lookup says: first take out the key's old tuple
 * entries (whatever a write cut short left), then the new ones, then
 * the ruleset, which says how to read them. No packet reads the key:
 * it is the inactive bank, and the switch that made it so waited for
 * a grace period (tdm_chains_rebuild_nf() reaps the old hops) before it
 * returned, or was finished at open. A ruleset that does not fit the
 * tuple tables (too many tuples, tdm_fw_tuples full) is written linear:
 * always right, at up to TDM_FW_MAX_RULES rules.
 */
static int fw_write(struct tdm_ctx *ctx, __u32 key, __u32 lookup,
		    const struct tdm_fw_ruleset *in)
{
	struct tdm_tss_entries e = {};
	struct tdm_fw_ruleset *rs;
	int err;

	rs = malloc(sizeof(*rs));
	if (!rs)
		return tdm_err(ctx, ENOMEM, "out of memory");
	*rs = *in;
	fw_linear(rs);
	err = tdm_tss_clear(ctx, key);
	if (err)
		goto out;
	if (fw_tuples(lookup, rs->nrules)) {
		err = tdm_tss_compile(rs, key, &e);
		if (!err && !fw_worth(lookup, rs))
			err = -E2BIG;
		if (!err) {
			err = tdm_tss_write(ctx, &e);
			tdm_crash_point(ctx);
			/* the map is full: what went in comes out */
			if (err == -E2BIG || err == -ENOMEM)
				err = tdm_tss_clear(ctx, key) ?: -E2BIG;
		}
		if (err == -E2BIG || err == -ENOMEM) {
			fw_linear(rs);
			err = 0;
		}
		if (err)
			goto out;
	}
	if (bpf_map_update_elem(tdm_fw_rules_fd(ctx), &key, rs, BPF_ANY))
		err = tdm_err(ctx, errno, "writing firewall rules: %s",
			      strerror(errno));
out:
	tdm_tss_free(&e);
	free(rs);
	return err;
}

/*
 * Write rs to the inactive bank (no chain reads it: a change cut short
 * was finished when the state was opened), compiled as the firewall's
 * lookup parameter in *info says, then, under the journal, switch every
 * chain of the firewall to it and record it.
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
	err = fw_write(ctx, key, fw_of(&next)->lookup, rs);
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

/* Firewall nf's record into *info and its active ruleset into *rs: its
 * id, or -errno with the error set */
static int active_rules(struct tdm_ctx *ctx, const char *nf,
			struct tdm_nf_info *info, struct tdm_fw_ruleset *rs)
{
	int id = firewall_lookup(ctx, nf, info);

	if (id < 0)
		return id;
	return ruleset_read(ctx, id, fw_of(info)->bank, rs) ?: id;
}

int tdm_rule_add(struct tdm_ctx *ctx, const char *nf,
		 const struct tdm_rule_spec *spec, __u32 *idp)
{
	struct tdm_fw_ruleset *rs;
	struct tdm_nf_info info;
	struct tdm_fw_rule r = {};
	__u32 i, pos;
	int id, err;

	rs = malloc(sizeof(*rs));
	if (!rs)
		return tdm_err(ctx, ENOMEM, "out of memory");
	err = id = active_rules(ctx, nf, &info, rs);
	if (id < 0)
		goto out;
	if (spec->action != TDM_ACT_PASS && spec->action != TDM_ACT_DROP) {
		err = tdm_err(ctx, EINVAL, "a firewall rule's action is pass or drop");
		goto out;
	}
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

	rs = malloc(sizeof(*rs));
	if (!rs)
		return tdm_err(ctx, ENOMEM, "out of memory");
	err = id = active_rules(ctx, nf, &info, rs);
	if (id < 0)
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
	int id = active_rules(ctx, nf, &info, rs);

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

static int rule_show_run(struct tdm_ctx *ctx, const struct args *a,
			 struct json_object **out)
{
	const char *nf = arg_str(a, "NF");
	struct json_object *arr;
	struct tdm_fw_ruleset *rs;
	char buf[256];
	__u32 i;
	int err;

	rs = malloc(sizeof(*rs));
	if (!rs)
		return tdm_err(ctx, ENOMEM, "out of memory");
	err = tdm_rule_list(ctx, nf, rs);
	if (err) {
		free(rs);
		return err;
	}
	*out = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(*out, "nf", json_object_new_string(nf));
	json_object_object_add(*out, "default", json_object_new_string(
		tdm_action_name(rs->default_action)));
	/* how the datapath looks them up: lookup auto picked, or a fallback */
	json_object_object_add(*out, "mode", json_object_new_string(
		rs->mode == TDM_FW_MODE_TUPLES ? "tuples" : "linear"));
	json_object_object_add(*out, "tuples", json_object_new_int64(
		rs->mode == TDM_FW_MODE_TUPLES ? rs->ntuples : 0));
	for (i = 0; i < rs->nrules; i++) {
		const struct tdm_fw_rule *r = &rs->rules[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_int64(r->id));
		json_object_object_add(o, "prio",
				       json_object_new_int64(r->prio));
		tdm_json_match(o, &r->m);
		/* and as the text shows it, which rule add reads back */
		json_object_object_add(o, "match", json_object_new_string(
			tdm_format_match(&r->m, buf, sizeof(buf))));
		json_object_object_add(o, "action", json_object_new_string(
			tdm_action_name(r->action)));
		json_object_array_add(arr, o);
	}
	json_object_object_add(*out, "rules", arr);
	free(rs);
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
	.object = &rule_object,
	.drops = firewall_drops,
};
