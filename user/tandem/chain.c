// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tandem chain: ordered NFs and a terminal action. */
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int chain_add_or_replace(struct args *a, bool replace)
{
	int i = arg_index(a, "NF"), t = arg_index(a, "then");
	const char *name = arg_str(a, "NAME");
	struct tdm_chain_spec spec = {
		.action = a->seen[t] ? a->num[t] : TDM_ACT_PASS,
		.redirect_dev = a->str2[t],
	};
	struct tdm_ctx *ctx;
	int ret;

	if (a->nwords[i] > TDM_MAX_CHAIN_NFS)
		return cli_usage("chain", "a chain has at most %d NFs",
				 TDM_MAX_CHAIN_NFS);
	for (spec.nnfs = 0; spec.nnfs < a->nwords[i]; spec.nnfs++)
		spec.nfs[spec.nnfs] = a->words[i][spec.nnfs];
	ctx = cli_ctx(false);
	ret = replace ? tdm_chain_replace(ctx, name, &spec) :
			tdm_chain_add(ctx, name, &spec);
	if (ret < 0)
		return cli_lib_fail();
	if (json_mode) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", jstr(name));
		cli_json_out(o);
	}
	return 0;
}

static int chain_add(struct args *a)
{
	return chain_add_or_replace(a, false);
}

static int chain_replace(struct args *a)
{
	return chain_add_or_replace(a, true);
}

static int chain_del(struct args *a)
{
	if (tdm_chain_del(cli_ctx(false), arg_str(a, "NAME")))
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

static int chain_show(struct args *a)
{
	const char *name = arg_str(a, "NAME");
	json_object *arr = json_object_new_array();
	struct tdm_chain_info ci;
	struct tdm_nf_info nf;
	struct tdm_ctx *ctx;
	char act[48], nfs_tmp[48], nfs[512];
	__u32 id, i;

	ctx = cli_ctx(true);
	if (name && tdm_chain_lookup(ctx, name, NULL) < 0) {
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
		if (name && strcmp(ci.name, name))
			continue;
		list = json_object_new_array();
		nfs[0] = '\0';
		for (i = 0; i < ci.nnfs; i++) {
			const char *name = tdm_nf_get(ctx, ci.nf_ids[i], &nf) ?
					   "?" : nf.name;

			json_object_array_add(list, jstr(name));
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
		json_object_object_add(o, "name", jstr(ci.name));
		json_object_object_add(o, "nfs", list);
		json_object_object_add(o, "then", jstr(act));
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


static const struct arg chain_name[] = {
	{ .meta = "NAME", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the chain" },
	{}
};

static const struct arg chain_show_args[] = {
	{ .meta = "NAME", .type = ARG_NAME, .help = "only this chain" },
	{}
};

static const struct command chain_cmds[] = {
	{ "add", NULL, chain_add, tdm_chain_add_args, "create a chain" },
	{ "replace", NULL, chain_replace, tdm_chain_add_args,
	  "change a chain, hitlessly" },
	{ "del", "delete", chain_del, chain_name,
	  "delete a chain no device or steering entry uses" },
	{ "show", "list", chain_show, chain_show_args, "list chains" },
	{}
};

const struct object chain_object = {
	.name = "chain",
	.summary = "ordered NFs with a terminal action",
	.cmds = chain_cmds,
	.notes = "ACTION := pass | drop | tx | redirect DEV   (default: pass)\n"
		 "  pass: to the kernel stack; tx: back out of the receiving device;\n"
		 "  redirect: out of DEV.\n"
		 "'replace' is hitless: every packet runs wholly the old chain or\n"
		 "wholly the new one. An NF runs at most once in a chain.\n",
};
