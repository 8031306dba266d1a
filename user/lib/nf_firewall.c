// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * firewall, the library half (bpf/nf_firewall.bpf.c): its parameters,
 * its two rulesets' setting up; its rules are firewall.c's.
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
