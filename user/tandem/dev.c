// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tandem dev: attach to devices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void dev_help(void)
{
	printf("Usage: tandem dev attach DEV [chain NAME] [mode native|generic] [--force]\n"
	       "       tandem dev detach DEV\n"
	       "       tandem dev show [DEV]\n"
	       "\n"
	       "attach loads the entry program on DEV with a bpf_link (native mode if\n"
	       "the driver has it, else generic, unless 'mode' says which) and sets the\n"
	       "default chain: packets no steering entry matches run it; without one\n"
	       "they go to the stack. On a device tandem already holds, attach only\n"
	       "changes the default chain. A device held by another XDP program is\n"
	       "refused unless --force is given.\n");
}

static int dev_attach(int argc, char **argv)
{
	enum tdm_attach_mode mode = TDM_MODE_AUTO;
	const char *chain = NULL;
	bool force = false;
	int i;

	if (argc < 1)
		return cli_usage("dev", "'dev attach' needs a device");
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "force")) {
			force = true;
		} else if (!strcmp(argv[i], "chain") && i + 1 < argc) {
			chain = argv[++i];
		} else if (!strcmp(argv[i], "mode") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "native") || !strcmp(argv[i], "drv"))
				mode = TDM_MODE_NATIVE;
			else if (!strcmp(argv[i], "generic") || !strcmp(argv[i], "skb"))
				mode = TDM_MODE_GENERIC;
			else
				return cli_usage("dev", "bad mode '%s': expected native or generic",
						 argv[i]);
		} else {
			return cli_usage("dev", "unexpected '%s'", argv[i]);
		}
	}
	if (tdm_dev_attach(cli_ctx(false), argv[0], chain, mode, force))
		return cli_lib_fail();
	if (json_mode)
		cli_json_out(json_object_new_object());
	return 0;
}

static int dev_detach(int argc, char **argv)
{
	if (argc != 1)
		return cli_usage("dev", "'dev detach' needs exactly one DEV");
	if (tdm_dev_detach(cli_ctx(false), argv[0]))
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

static const char *dev_state_name(enum tdm_dev_state s)
{
	switch (s) {
	case TDM_DEV_ATTACHED:
		return "attached";
	case TDM_DEV_DETACHED:
		return "detached";
	case TDM_DEV_MOVED:
		return "moved";
	case TDM_DEV_OTHER_NS:
		return "other-ns";
	default:
		return "gone";
	}
}

static int dev_show(int argc, char **argv)
{
	json_object *arr = json_object_new_array();
	struct tdm_dev_status *v;
	struct tdm_chain_info ci;
	struct tdm_ctx *ctx;
	int n, i;

	if (argc > 1)
		return cli_usage("dev", "'dev show' takes at most one DEV");
	ctx = cli_ctx(true);
	if (tdm_dev_list(ctx, &v, &n)) {
		json_object_put(arr);
		return cli_lib_fail();
	}
	if (argc == 1) {
		for (i = 0; i < n && strcmp(argv[0], dev_name(&v[i])); i++)
			;
		if (i == n) {
			free(v);
			json_object_put(arr);
			return cli_fail("tandem is not attached to %s", argv[0]);
		}
	}
	if (!json_mode)
		printf("%-16s %-8s %-8s %-9s %-16s %-8s %s\n", "DEV", "IFINDEX",
		       "MODE", "STATE", "TAKEN AS", "PROG", "DEFAULT CHAIN");
	for (i = 0; i < n; i++) {
		const char *chain = v[i].dev.default_chain == TDM_CHAIN_NONE ?
				    "-" : tdm_chain_get(ctx, v[i].dev.default_chain,
							&ci) ? "?" : ci.name;
		const char *state = dev_state_name(v[i].state);

		if (argc == 1 && strcmp(argv[0], dev_name(&v[i])))
			continue;
		if (json_mode) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "dev", json_object_new_string(dev_name(&v[i])));
			json_object_object_add(o, "taken_as", json_object_new_string(v[i].dev.name));
			json_object_object_add(o, "ifindex", json_object_new_int64(v[i].ifindex_now));
			json_object_object_add(o, "mode", json_object_new_string(
				tdm_mode_name(v[i].dev.mode)));
			json_object_object_add(o, "state", json_object_new_string(state));
			json_object_object_add(o, "attached", json_object_new_boolean(v[i].attached));
			json_object_object_add(o, "other_netns", json_object_new_boolean(v[i].elsewhere));
			json_object_object_add(o, "renamed", json_object_new_boolean(v[i].renamed));
			json_object_object_add(o, "link_id", json_object_new_int64(v[i].link_id));
			json_object_object_add(o, "prog_id", json_object_new_int64(v[i].prog_id));
			json_object_object_add(o, "default_chain",
				v[i].dev.default_chain == TDM_CHAIN_NONE ? NULL :
				json_object_new_string(chain));
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

int do_dev(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "attach", dev_attach }, { "detach", dev_detach },
		{ "show", dev_show }, { "list", dev_show },
		{}
	};

	return cmd_dispatch("dev", cmds, argc, argv, dev_help);
}
