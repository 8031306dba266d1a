// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tandem chain: ordered NFs and a terminal action. */
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void chain_help(void)
{
	printf("Usage: tandem chain add NAME NF [NF...] [then ACTION]\n"
	       "       tandem chain replace NAME NF [NF...] [then ACTION]\n"
	       "       tandem chain del NAME\n"
	       "       tandem chain show [NAME]\n"
	       "\n"
	       "ACTION := pass | drop | tx | redirect DEV   (default: pass)\n"
	       "  pass: to the kernel stack; tx: back out of the receiving device;\n"
	       "  redirect: out of DEV.\n"
	       "'replace' is hitless: every packet runs wholly the old chain or\n"
	       "wholly the new one.\n");
}

static int chain_parse(int argc, char **argv, struct tdm_chain_spec *spec)
{
	int i;

	memset(spec, 0, sizeof(*spec));
	spec->action = TDM_ACT_PASS;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "then")) {
			if (i + 1 >= argc)
				return cli_usage("chain", "'then' needs an action");
			if (tdm_parse_action(argv[i + 1], &spec->action))
				return cli_usage("chain",
						 "bad action '%s': expected pass, drop, tx or redirect DEV",
						 argv[i + 1]);
			if (spec->action == TDM_ACT_REDIRECT) {
				if (i + 2 >= argc)
					return cli_usage("chain", "'redirect' needs a device");
				spec->redirect_dev = argv[i + 2];
				i++;
			}
			if (i + 2 < argc)
				return cli_usage("chain", "unexpected '%s' after the action",
						 argv[i + 2]);
			break;
		}
		if (spec->nnfs == TDM_MAX_CHAIN_NFS)
			return cli_usage("chain", "a chain has at most %d NFs",
					 TDM_MAX_CHAIN_NFS);
		spec->nfs[spec->nnfs++] = argv[i];
	}
	if (!spec->nnfs)
		return cli_usage("chain", "a chain needs at least one NF");
	return 0;
}

static int chain_add_or_replace(int argc, char **argv, bool replace)
{
	struct tdm_chain_spec spec;
	struct tdm_ctx *ctx;
	int ret;

	if (argc < 2)
		return cli_usage("chain", "'chain %s' needs NAME and NFs",
				 replace ? "replace" : "add");
	ret = chain_parse(argc - 1, argv + 1, &spec);
	if (ret)
		return ret;
	ctx = cli_ctx(false);
	ret = replace ? tdm_chain_replace(ctx, argv[0], &spec) :
			tdm_chain_add(ctx, argv[0], &spec);
	if (ret < 0)
		return cli_lib_fail();
	if (json_mode) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(argv[0]));
		cli_json_out(o);
	}
	return 0;
}

static int chain_add(int argc, char **argv)
{
	return chain_add_or_replace(argc, argv, false);
}

static int chain_replace(int argc, char **argv)
{
	return chain_add_or_replace(argc, argv, true);
}

static int chain_del(int argc, char **argv)
{
	if (argc != 1)
		return cli_usage("chain", "'chain del' needs exactly one NAME");
	if (tdm_chain_del(cli_ctx(false), argv[0]))
		return cli_lib_fail();
	if (json_mode)
		cli_json_out(json_object_new_object());
	return 0;
}

static const char *action_str(const struct tdm_chain_info *ci, char *buf,
			      size_t size)
{
	char dev[IF_NAMESIZE] = "?";

	if (ci->action != TDM_ACT_REDIRECT)
		return tdm_action_name(ci->action);
	if (!if_indextoname(ci->redirect_ifindex, dev))
		snprintf(dev, sizeof(dev), "ifindex %u", ci->redirect_ifindex);
	snprintf(buf, size, "redirect %s", dev);
	return buf;
}

static int chain_show(int argc, char **argv)
{
	json_object *arr = json_object_new_array();
	struct tdm_chain_info ci;
	struct tdm_nf_info nf;
	struct tdm_ctx *ctx;
	char act[48], nfs_tmp[48], nfs[512];
	__u32 id, i;

	if (argc > 1)
		return cli_usage("chain", "'chain show' takes at most one NAME");
	ctx = cli_ctx(true);
	if (argc == 1 && tdm_chain_lookup(ctx, argv[0], NULL) < 0) {
		json_object_put(arr);
		return cli_lib_fail();
	}
	if (!json_mode)
		printf("%-4s %-20s %-4s %-24s %s\n", "ID", "NAME", "GEN",
		       "THEN", "NFS");
	for (id = 0; id < TDM_MAX_CHAINS; id++) {
		json_object *o, *list;
		size_t len = 0;

		if (tdm_chain_get(ctx, id, &ci))
			continue;
		if (argc == 1 && strcmp(ci.name, argv[0]))
			continue;
		list = json_object_new_array();
		nfs[0] = '\0';
		for (i = 0; i < ci.nnfs; i++) {
			const char *name = tdm_nf_get(ctx, ci.nf_ids[i], &nf) ?
					   "?" : nf.name;

			json_object_array_add(list, json_object_new_string(name));
			len += snprintf(nfs + len, sizeof(nfs) - len, "%s%s",
					i ? " -> " : "", name);
			if (len >= sizeof(nfs))
				len = sizeof(nfs) - 1;
		}
		snprintf(act, sizeof(act), "%s", action_str(&ci, nfs_tmp, sizeof(nfs_tmp)));
		if (!json_mode) {
			printf("%-4u %-20s %-4u %-24s %s\n", id, ci.name,
			       ci.generation, act, nfs);
			json_object_put(list);
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int(id));
		json_object_object_add(o, "name", json_object_new_string(ci.name));
		json_object_object_add(o, "nfs", list);
		json_object_object_add(o, "then", json_object_new_string(act));
		json_object_object_add(o, "generation",
				       json_object_new_int64(ci.generation));
		json_object_array_add(arr, o);
	}
	if (json_mode)
		cli_json_out(arr);
	else
		json_object_put(arr);
	return 0;
}

int do_chain(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add", chain_add }, { "replace", chain_replace },
		{ "del", chain_del }, { "delete", chain_del },
		{ "show", chain_show }, { "list", chain_show },
		{}
	};

	return cmd_dispatch("chain", cmds, argc, argv, chain_help);
}
