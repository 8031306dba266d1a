// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tandem rule: firewall rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int rule_add(struct args *a)
{
	const char *nf = arg_str(a, "NF");
	struct tdm_rule_spec spec = {
		.prio = arg_num(a, "prio", RULE_PRIO_DEFAULT),
		/* the index in rule_actions[] is the verdict */
		.action = arg_num(a, "action", 0) ? TDM_ACT_DROP : TDM_ACT_PASS,
		.m = a->m,
	};
	__u32 id;

	if (tdm_rule_add(cli_ctx(false), nf, &spec, &id))
		return cli_lib_fail();
	if (json_mode) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "nf", jstr(nf));
		json_object_object_add(o, "id", json_object_new_int64(id));
		cli_json_out(o);
	} else {
		printf("rule %u added to %s\n", id, nf);
	}
	return 0;
}

static int rule_del(struct args *a)
{
	if (tdm_rule_del(cli_ctx(false), arg_str(a, "NF"), arg_num(a, "ID", 0)))
		return cli_lib_fail();
	if (json_mode)
		cli_json_out(json_object_new_object());
	return 0;
}

static void rule_show_json(const char *nf, const struct tdm_fw_ruleset *rs)
{
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	__u32 i;

	json_object_object_add(o, "nf", jstr(nf));
	json_object_object_add(o, "default",
			       jstr(tdm_action_name(rs->default_action)));
	for (i = 0; i < rs->nrules; i++) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "id", json_object_new_int64(rs->rules[i].id));
		json_object_object_add(r, "prio", json_object_new_int64(rs->rules[i].prio));
		json_add_match(r, &rs->rules[i].m);
		json_object_object_add(r, "action",
				       jstr(tdm_action_name(rs->rules[i].action)));
		json_object_array_add(arr, r);
	}
	json_object_object_add(o, "rules", arr);
	cli_json_out(o);
}

static int rule_show(struct args *a)
{
	const char *nf = arg_str(a, "NF");
	struct tdm_fw_ruleset *rs;
	char buf[256];
	__u32 i;

	rs = malloc(sizeof(*rs));
	if (!rs)
		return cli_fail("out of memory");
	if (tdm_rule_list(cli_ctx(true), nf, rs)) {
		free(rs);
		return cli_lib_fail();
	}
	if (json_mode) {
		rule_show_json(nf, rs);
	} else {
		printf("%-5s %-6s %-60s %s\n", "ID", "PRIO", "MATCH", "ACTION");
		for (i = 0; i < rs->nrules; i++)
			printf("%-5u %-6u %-60s %s\n", rs->rules[i].id,
			       rs->rules[i].prio,
			       fmt_match(&rs->rules[i].m, buf, sizeof(buf)),
			       tdm_action_name(rs->rules[i].action));
		printf("%-5s %-6s %-60s %s\n", "-", "-", "(default)",
		       tdm_action_name(rs->default_action));
	}
	free(rs);
	return 0;
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

static const struct command rule_cmds[] = {
	{ "add", NULL, rule_add, tdm_rule_add_args, "add a rule to a firewall" },
	{ "del", "delete", rule_del, rule_del_args, "delete a rule" },
	{ "show", "list", rule_show, rule_show_args,
	  "a firewall's rules, in the order they are tried" },
	{}
};

const struct object rule_object = {
	.name = "rule",
	.summary = "firewall rules",
	.cmds = rule_cmds,
	.notes = MATCH_NOTES
		 "\n"
		 "Rules are tried in (prio, id) order, lowest first; the first\n"
		 "match decides; no match takes the firewall's default.\n"
		 "sport/dport never match non-first fragments or truncated packets.\n",
};
