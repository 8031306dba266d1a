// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tandem rule: firewall rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define RULE_PRIO_DEFAULT	100

static void rule_help(void)
{
	printf("Usage: tandem rule add NF [prio N] [MATCH] action pass|drop\n"
	       "       tandem rule del NF ID\n"
	       "       tandem rule show NF\n"
	       "\n"
	       "MATCH := [src PREFIX] [dst PREFIX] [proto PROTO]\n"
	       "         [sport P[-Q]] [dport P[-Q]]\n"
	       "PROTO := tcp | udp | sctp | icmp | icmpv6 | gre | esp | NUM\n"
	       "sport/dport need proto tcp, udp or sctp.\n"
	       "PREFIX := an IPv4 or IPv6 address, with an optional /LEN\n"
	       "\n"
	       "Rules are tried in (prio, id) order, lowest first (default prio %d);\n"
	       "the first match decides; no match takes the firewall's default.\n"
	       "sport/dport never match non-first fragments or truncated packets.\n",
	       RULE_PRIO_DEFAULT);
}

/*
 * Parse [prio N] MATCH action A into spec; words in any order, each once.
 * Shared with 'steer add', which ends in "chain NAME" instead of action.
 */
static int rule_parse(int argc, char **argv, struct tdm_rule_spec *spec)
{
	bool have_action = false;
	char err[256];
	int i = 0, used;

	spec->prio = RULE_PRIO_DEFAULT;
	tdm_match_init(&spec->m);
	while (i < argc) {
		if (!strcmp(argv[i], "prio") && i + 1 < argc) {
			spec->prio = parse_u32_or_die("rule", "priority",
						      argv[i + 1]);
			i += 2;
		} else if (!strcmp(argv[i], "action") && i + 1 < argc) {
			if (tdm_parse_action(argv[i + 1], &spec->action) ||
			    spec->action > 1)
				return cli_usage("rule",
						 "bad action '%s': a rule's action is pass or drop",
						 argv[i + 1]);
			have_action = true;
			i += 2;
		} else {
			used = tdm_parse_match(argc - i, argv + i, &spec->m,
					       err, sizeof(err));
			if (used < 0)
				return cli_usage("rule", "%s", err);
			if (used == 0)
				return cli_usage("rule", "unexpected '%s'",
						 argv[i]);
			i += used;
		}
	}
	if (!have_action)
		return cli_usage("rule", "a rule needs 'action pass' or 'action drop'");
	return 0;
}

static int rule_add(int argc, char **argv)
{
	struct tdm_rule_spec spec = {};
	__u32 id;
	int ret;

	if (argc < 1)
		return cli_usage("rule", "'rule add' needs an NF name");
	ret = rule_parse(argc - 1, argv + 1, &spec);
	if (ret)
		return ret;
	if (tdm_rule_add(cli_ctx(false), argv[0], &spec, &id))
		return cli_lib_fail();
	if (json_mode) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "nf", json_object_new_string(argv[0]));
		json_object_object_add(o, "id", json_object_new_int64(id));
		cli_json_out(o);
	} else {
		printf("rule %u added to %s\n", id, argv[0]);
	}
	return 0;
}

static int rule_del(int argc, char **argv)
{
	__u32 id;

	if (argc != 2)
		return cli_usage("rule", "'rule del' needs NF and ID");
	id = parse_u32_or_die("rule", "rule id", argv[1]);
	if (tdm_rule_del(cli_ctx(false), argv[0], id))
		return cli_lib_fail();
	if (json_mode)
		cli_json_out(json_object_new_object());
	return 0;
}

static int rule_show(int argc, char **argv)
{
	struct tdm_fw_ruleset *rs;
	char buf[256];
	__u32 i;

	if (argc != 1)
		return cli_usage("rule", "'rule show' needs one NF name");
	rs = malloc(sizeof(*rs));
	if (!rs)
		return cli_fail("out of memory");
	if (tdm_rule_list(cli_ctx(true), argv[0], rs)) {
		free(rs);
		return cli_lib_fail();
	}
	if (json_mode) {
		json_object *o = json_object_new_object();
		json_object *arr = json_object_new_array();

		json_object_object_add(o, "nf", json_object_new_string(argv[0]));
		json_object_object_add(o, "default", json_object_new_string(
			tdm_action_name(rs->default_action)));
		for (i = 0; i < rs->nrules; i++) {
			json_object *r = json_object_new_object();

			json_object_object_add(r, "id", json_object_new_int64(rs->rules[i].id));
			json_object_object_add(r, "prio", json_object_new_int64(rs->rules[i].prio));
			json_add_match(r, &rs->rules[i].m);
			json_object_object_add(r, "action", json_object_new_string(
				tdm_action_name(rs->rules[i].action)));
			json_object_array_add(arr, r);
		}
		json_object_object_add(o, "rules", arr);
		cli_json_out(o);
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

int do_rule(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add", rule_add }, { "del", rule_del }, { "delete", rule_del },
		{ "show", rule_show }, { "list", rule_show },
		{}
	};

	return cmd_dispatch("rule", cmds, argc, argv, rule_help);
}
