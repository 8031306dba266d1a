// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tandem steer: which chain a packet runs. */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define STEER_PRIO_DEFAULT	100

static void steer_help(void)
{
	printf("Usage: tandem steer add DEV [prio N] [MATCH] chain NAME\n"
	       "       tandem steer del DEV ID\n"
	       "       tandem steer show [DEV]\n"
	       "\n"
	       "MATCH := [src PREFIX] [dst PREFIX] [proto PROTO]\n"
	       "         [sport P[-Q]] [dport P[-Q]]\n"
	       "PROTO := tcp | udp | sctp | icmp | icmpv6 | gre | esp | NUM\n"
	       "sport/dport need proto tcp, udp or sctp.\n"
	       "\n"
	       "A packet arriving on DEV runs the chain of, in this order:\n"
	       "  1. the entry matching its exact 5-tuple (host src and dst,\n"
	       "     tcp/udp/sctp, single ports: prio does not apply);\n"
	       "  2. the first matching rule in (prio, id) order, lowest first\n"
	       "     (default prio %d);\n"
	       "  3. the device's default chain ('tandem dev attach DEV chain NAME');\n"
	       "  4. none: the packet goes to the kernel stack untouched.\n",
	       STEER_PRIO_DEFAULT);
}

static int steer_add(int argc, char **argv)
{
	const char *chain = NULL;
	struct tdm_match m;
	__u32 prio = STEER_PRIO_DEFAULT, id;
	char err[256];
	int i = 1, used;

	if (argc < 1)
		return cli_usage("steer", "'steer add' needs a device");
	tdm_match_init(&m);
	while (i < argc) {
		if (!strcmp(argv[i], "prio") && i + 1 < argc) {
			prio = parse_u32_or_die("steer", "priority", argv[i + 1]);
			i += 2;
		} else if (!strcmp(argv[i], "chain") && i + 1 < argc) {
			chain = argv[i + 1];
			i += 2;
		} else {
			used = tdm_parse_match(argc - i, argv + i, &m, err,
					       sizeof(err));
			if (used < 0)
				return cli_usage("steer", "%s", err);
			if (used == 0)
				return cli_usage("steer", "unexpected '%s'", argv[i]);
			i += used;
		}
	}
	if (!chain)
		return cli_usage("steer", "'steer add' needs 'chain NAME'");
	if (tdm_steer_add(cli_ctx(false), argv[0], prio, &m, chain, &id))
		return cli_lib_fail();
	if (json_mode) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "dev", json_object_new_string(argv[0]));
		json_object_object_add(o, "id", json_object_new_int64(id));
		cli_json_out(o);
	} else {
		printf("steering entry %u added to %s\n", id, argv[0]);
	}
	return 0;
}

static int steer_del(int argc, char **argv)
{
	__u32 id;

	if (argc != 2)
		return cli_usage("steer", "'steer del' needs DEV and ID");
	id = parse_u32_or_die("steer", "entry id", argv[1]);
	if (tdm_steer_del(cli_ctx(false), argv[0], id))
		return cli_lib_fail();
	if (json_mode)
		cli_json_out(json_object_new_object());
	return 0;
}

static int steer_show(int argc, char **argv)
{
	json_object *arr = json_object_new_array();
	struct tdm_steer_entry *v;
	struct tdm_chain_info ci;
	struct tdm_ctx *ctx;
	char buf[256];
	int n, i;

	if (argc > 1)
		return cli_usage("steer", "'steer show' takes at most one DEV");
	ctx = cli_ctx(true);
	if (tdm_steer_list(ctx, argc ? argv[0] : NULL, &v, &n)) {
		json_object_put(arr);
		return cli_lib_fail();
	}
	if (!json_mode)
		printf("%-12s %-5s %-6s %-60s %s\n", "DEV", "ID", "PRIO",
		       "MATCH", "CHAIN");
	for (i = 0; i < n; i++) {
		const char *dev = v[i].dev_name;
		char prio[16] = "exact";
		const char *chain = tdm_chain_get(ctx, v[i].chain_id, &ci) ?
				    "?" : ci.name;

		if (!v[i].exact)
			snprintf(prio, sizeof(prio), "%u", v[i].prio);
		if (json_mode) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "dev", json_object_new_string(dev));
			json_object_object_add(o, "id", json_object_new_int64(v[i].id));
			json_object_object_add(o, "exact", json_object_new_boolean(v[i].exact));
			if (!v[i].exact)
				json_object_object_add(o, "prio",
						       json_object_new_int64(v[i].prio));
			json_add_match(o, &v[i].m);
			json_object_object_add(o, "chain", json_object_new_string(chain));
			json_object_array_add(arr, o);
		} else {
			printf("%-12s %-5u %-6s %-60s %s\n", dev, v[i].id, prio,
			       fmt_match(&v[i].m, buf, sizeof(buf)), chain);
		}
	}
	free(v);
	if (json_mode)
		cli_json_out(arr);
	else
		json_object_put(arr);
	return 0;
}

int do_steer(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add", steer_add }, { "del", steer_del },
		{ "delete", steer_del }, { "show", steer_show },
		{ "list", steer_show },
		{}
	};

	return cmd_dispatch("steer", cmds, argc, argv, steer_help);
}
