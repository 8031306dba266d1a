// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tandem dev: attach to devices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int dev_attach(struct args *a)
{
	int m = arg_index(a, "mode");

	if (tdm_dev_attach(cli_ctx(false), arg_str(a, "DEV"),
			   arg_str(a, "chain"),
			   a->seen[m] ? tdm_dev_mode_of[a->num[m]] : TDM_MODE_AUTO,
			   arg_seen(a, "force")))
		return cli_lib_fail();
	if (json_mode)
		cli_json_out(json_object_new_object());
	return 0;
}

static int dev_detach(struct args *a)
{
	if (tdm_dev_detach(cli_ctx(false), arg_str(a, "DEV")))
		return cli_lib_fail();
	if (json_mode)
		cli_json_out(json_object_new_object());
	return 0;
}

/* The name a device goes by now, or the one tandem took it under. */
static const char *dev_name(const struct tdm_dev_status *st)
{
	return st->name_now[0] ? st->name_now : st->dev.name;
}

static int dev_show(struct args *a)
{
	const char *name = arg_str(a, "DEV");
	json_object *arr = json_object_new_array();
	struct tdm_dev_status *v;
	struct tdm_chain_info ci;
	struct tdm_ctx *ctx;
	int n, i;

	ctx = cli_ctx(true);
	if (tdm_dev_list(ctx, &v, &n)) {
		json_object_put(arr);
		return cli_lib_fail();
	}
	if (name) {
		for (i = 0; i < n && strcmp(name, dev_name(&v[i])); i++)
			;
		if (i == n) {
			free(v);
			json_object_put(arr);
			return cli_fail("tandem is not attached to %s", name);
		}
	}
	if (!json_mode)
		printf("%-16s %-8s %-8s %-9s %-16s %-8s %s\n", "DEV", "IFINDEX",
		       "MODE", "STATE", "TAKEN AS", "PROG", "DEFAULT CHAIN");
	for (i = 0; i < n; i++) {
		const char *chain = v[i].dev.default_chain == TDM_CHAIN_NONE ?
				    "-" : tdm_chain_get(ctx, v[i].dev.default_chain,
							&ci) ? "?" : ci.name;
		const char *state = tdm_dev_state_name(v[i].state);

		if (name && strcmp(name, dev_name(&v[i])))
			continue;
		if (json_mode) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "dev", jstr(dev_name(&v[i])));
			json_object_object_add(o, "taken_as", jstr(v[i].dev.name));
			json_object_object_add(o, "ifindex", json_object_new_int64(v[i].ifindex_now));
			json_object_object_add(o, "mode", jstr(
				tdm_mode_name(v[i].dev.mode)));
			json_object_object_add(o, "state", jstr(state));
			json_object_object_add(o, "attached", json_object_new_boolean(v[i].attached));
			json_object_object_add(o, "other_netns", json_object_new_boolean(v[i].elsewhere));
			json_object_object_add(o, "renamed", json_object_new_boolean(v[i].renamed));
			json_object_object_add(o, "link_id", json_object_new_int64(v[i].link_id));
			json_object_object_add(o, "prog_id", json_object_new_int64(v[i].prog_id));
			json_object_object_add(o, "default_chain",
				v[i].dev.default_chain == TDM_CHAIN_NONE ? NULL :
				jstr(chain));
			json_object_array_add(arr, o);
		} else {
			printf("%-16s %-8u %-8s %-9s %-16s %-8u %s\n",
			       dev_name(&v[i]), v[i].ifindex_now,
			       tdm_mode_name(v[i].dev.mode), state,
			       v[i].renamed || !v[i].name_now[0] ?
			       v[i].dev.name : "-", v[i].prog_id, chain);
		}
	}
	free(v);
	if (json_mode)
		cli_json_out(arr);
	else
		json_object_put(arr);
	return 0;
}


static const struct arg dev_only[] = {
	{ .meta = "DEV", .type = ARG_DEV, .flags = ARG_REQUIRED,
	  .help = "the device" },
	{}
};

static const struct arg dev_show_args[] = {
	{ .meta = "DEV", .type = ARG_DEV, .help = "only this device" },
	{}
};

static const struct command dev_cmds[] = {
	{ "attach", NULL, dev_attach, tdm_dev_attach_args,
	  "run tandem on a device, or change its default chain" },
	{ "detach", NULL, dev_detach, dev_only, "stop running tandem on a device" },
	{ "show", "list", dev_show, dev_show_args, "devices tandem runs on" },
	{}
};

const struct object dev_object = {
	.name = "dev",
	.summary = "attach tandem to a device with a default chain",
	.cmds = dev_cmds,
	.notes = "attach loads the entry program on DEV with a bpf_link (native mode if\n"
		 "the driver has it, else generic, unless 'mode' says which) and sets the\n"
		 "default chain: packets no steering entry matches run it; without one\n"
		 "they go to the stack. On a device tandem already holds, attach only\n"
		 "changes the default chain. A device held by another XDP program is\n"
		 "refused unless force is given.\n",
};
