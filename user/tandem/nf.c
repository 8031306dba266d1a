// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tandem nf: network function instances. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void nf_more_help(FILE *f)
{
	const struct tdm_nf_type *t;
	int i;

	fprintf(f, "\nTYPE and its PARAMs:\n");
	for (i = 0; (t = tdm_nf_type_at(i)); i++)
		fprintf(f, "  %-9s %s\n", tdm_nf_type_name(t),
			tdm_nf_type_usage(t));
	fprintf(f, "\nRATE := NUM{pps|kpps|mpps|bit|kbit|mbit|gbit}\n"
		"BURST := packets for a pps rate; bytes NUM[b|k|kb|m|mb] for a bit\n"
		"         rate (k = 1024), at least 1522 (one full frame);\n"
		"         default: 100 ms worth\n"
		"Example: tandem nf add pol1 policer rate 1000pps burst 100\n");
}

static int nf_types(struct args *a)
{
	const struct tdm_nf_type *t;
	json_object *arr = json_object_new_array();
	int i;

	if (!json_mode)
		printf("%-10s %-40s %s\n", "TYPE", "PARAMS", "DESCRIPTION");
	for (i = 0; (t = tdm_nf_type_at(i)); i++) {
		if (json_mode) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "type",
				jstr(tdm_nf_type_name(t)));
			json_object_object_add(o, "params",
				jstr(tdm_nf_type_usage(t)));
			json_object_object_add(o, "description",
				jstr(tdm_nf_type_summary(t)));
			json_object_array_add(arr, o);
		} else {
			printf("%-10s %-40s %s\n", tdm_nf_type_name(t),
			       *tdm_nf_type_usage(t) ? tdm_nf_type_usage(t) : "-",
			       tdm_nf_type_summary(t));
		}
	}
	if (json_mode)
		cli_json_out(arr);
	else
		json_object_put(arr);
	return 0;
}

static int nf_add(struct args *a)
{
	int i = arg_index(a, "PARAM VALUE");
	const char *name = arg_str(a, "NAME");
	struct tdm_ctx *ctx;
	int id;

	ctx = cli_ctx(false);
	id = tdm_nf_add(ctx, name, arg_str(a, "TYPE"), a->nwords[i],
			a->words[i]);
	if (id < 0)
		return cli_lib_fail();
	if (json_mode) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", jstr(name));
		json_object_object_add(o, "id", json_object_new_int(id));
		cli_json_out(o);
	}
	return 0;
}

static int nf_del(struct args *a)
{
	if (tdm_nf_del(cli_ctx(false), arg_str(a, "NAME")))
		return cli_lib_fail();
	if (json_mode)
		cli_json_out(json_object_new_object());
	return 0;
}

static int nf_show(struct args *a)
{
	const char *name = arg_str(a, "NAME");
	struct tdm_ctx *ctx;
	json_object *arr = json_object_new_array();
	struct tdm_nf_info nf;
	char params[128];
	__u32 id;

	ctx = cli_ctx(true);
	if (name && tdm_nf_lookup(ctx, name, NULL) < 0) {
		json_object_put(arr);
		return cli_lib_fail();
	}
	if (!json_mode)
		printf("%-4s %-20s %-10s %s\n", "ID", "NAME", "TYPE", "PARAMS");
	for (id = 0; id < TDM_MAX_NFS; id++) {
		if (tdm_nf_get(ctx, id, &nf))
			continue;
		if (name && strcmp(nf.name, name))
			continue;
		tdm_nf_params_format(&nf, params, sizeof(params));
		if (json_mode) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "id", json_object_new_int(id));
			json_object_object_add(o, "name", jstr(nf.name));
			json_object_object_add(o, "type", jstr(
				tdm_nf_type_name(tdm_nf_type_by_id(nf.type))));
			json_object_object_add(o, "params", jstr(params));
			json_object_array_add(arr, o);
		} else {
			printf("%-4u %-20s %-10s %s\n", id, nf.name,
			       tdm_nf_type_name(tdm_nf_type_by_id(nf.type)),
			       params);
		}
	}
	if (json_mode)
		cli_json_out(arr);
	else
		json_object_put(arr);
	return 0;
}

static const struct arg nf_name[] = {
	{ .meta = "NAME", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the NF's name: letters, digits, '-', '_', '.'; at most 31" },
	{}
};


static const struct arg nf_show_args[] = {
	{ .meta = "NAME", .type = ARG_NAME, .help = "only this NF" },
	{}
};

static const struct arg no_args[] = { {} };

static const struct command nf_cmds[] = {
	{ "types", NULL, nf_types, no_args, "the NF types and their parameters" },
	{ "add", NULL, nf_add, tdm_nf_add_args, "create an NF" },
	{ "del", "delete", nf_del, nf_name,
	  "delete an NF that no chain uses" },
	{ "show", "list", nf_show, nf_show_args, "list NFs" },
	{}
};

const struct object nf_object = {
	.name = "nf",
	.summary = "network function instances (counter, firewall, policer)",
	.cmds = nf_cmds,
	.more_help = nf_more_help,
};
