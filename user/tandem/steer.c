// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tandem steer: which chain a packet runs. */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int steer_add(struct args *a)
{
	const char *dev = arg_str(a, "DEV");
	__u32 id;

	if (tdm_steer_add(cli_ctx(false), dev,
			  arg_num(a, "prio", STEER_PRIO_DEFAULT), &a->m,
			  arg_str(a, "chain"), &id))
		return cli_lib_fail();
	if (json_mode) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "dev", jstr(dev));
		json_object_object_add(o, "id", json_object_new_int64(id));
		cli_json_out(o);
	} else {
		printf("steering entry %u added to %s\n", id, dev);
	}
	return 0;
}

static int steer_del(struct args *a)
{
	if (tdm_steer_del(cli_ctx(false), arg_str(a, "DEV"),
			  arg_num(a, "ID", 0)))
		return cli_lib_fail();
	if (json_mode)
		cli_json_out(json_object_new_object());
	return 0;
}

static int steer_show(struct args *a)
{
	const char *name = arg_str(a, "DEV");
	json_object *arr = json_object_new_array();
	struct tdm_steer_entry *v;
	struct tdm_chain_info ci;
	struct tdm_ctx *ctx;
	char buf[256];
	int n, i;

	ctx = cli_ctx(true);
	if (tdm_steer_list(ctx, name, &v, &n)) {
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

			json_object_object_add(o, "dev", jstr(dev));
			json_object_object_add(o, "id", json_object_new_int64(v[i].id));
			json_object_object_add(o, "exact", json_object_new_boolean(v[i].exact));
			if (!v[i].exact)
				json_object_object_add(o, "prio",
						       json_object_new_int64(v[i].prio));
			json_add_match(o, &v[i].m);
			json_object_object_add(o, "chain", jstr(chain));
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


static const struct arg steer_del_args[] = {
	{ .meta = "DEV", .type = ARG_DEV, .flags = ARG_REQUIRED,
	  .help = "the receiving device" },
	{ NULL, NULL, "ID", ARG_NUM, ARG_REQUIRED, 1, 0xffffffff, NULL,
	  "the entry's id, as 'steer show' prints it", "entry id" },
	{}
};

static const struct arg steer_show_args[] = {
	{ .meta = "DEV", .type = ARG_DEV, .help = "only this device's entries" },
	{}
};

static const struct command steer_cmds[] = {
	{ "add", NULL, steer_add, tdm_steer_add_args, "add a steering entry" },
	{ "del", "delete", steer_del, steer_del_args,
	  "delete a steering entry" },
	{ "show", "list", steer_show, steer_show_args,
	  "steering entries, in the order they are tried" },
	{}
};

const struct object steer_object = {
	.name = "steer",
	.summary = "which chain a packet runs: 5-tuple and prefix/port rules",
	.cmds = steer_cmds,
	.notes = MATCH_NOTES
		 "\n"
		 "A packet arriving on DEV runs the chain of, in this order:\n"
		 "  1. the entry matching its exact 5-tuple (host src and dst,\n"
		 "     tcp/udp/sctp, single ports: prio does not apply);\n"
		 "  2. the first matching rule in (prio, id) order, lowest first;\n"
		 "  3. the device's default chain ('tandem dev attach DEV chain NAME');\n"
		 "  4. none: the packet goes to the kernel stack untouched.\n",
};
