// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tandem nf: network function instances. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void nf_help(void)
{
	const struct tdm_nf_type *t;
	int i;

	printf("Usage: tandem nf types\n"
	       "       tandem nf add NAME TYPE [PARAM VALUE]...\n"
	       "       tandem nf del NAME\n"
	       "       tandem nf show [NAME]\n"
	       "\nTYPE and its PARAMs:\n");
	for (i = 0; (t = tdm_nf_type_at(i)); i++)
		printf("  %-9s %s\n", tdm_nf_type_name(t), tdm_nf_type_usage(t));
	printf("\nRATE := NUM{pps|kpps|mpps|bit|kbit|mbit|gbit}\n"
	       "BURST := packets for a pps rate; bytes NUM[b|k|kb|m|mb] for a bit\n"
	       "         rate (k = 1024); default: 100 ms worth\n"
	       "Example: tandem nf add pol1 policer rate 1000pps burst 100\n");
}

static int nf_types(int argc, char **argv)
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
				json_object_new_string(tdm_nf_type_name(t)));
			json_object_object_add(o, "params",
				json_object_new_string(tdm_nf_type_usage(t)));
			json_object_object_add(o, "description",
				json_object_new_string(tdm_nf_type_summary(t)));
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

static int nf_add(int argc, char **argv)
{
	struct tdm_ctx *ctx;
	int id;

	if (argc < 2)
		return cli_usage("nf", "'nf add' needs NAME and TYPE");
	ctx = cli_ctx(false);
	id = tdm_nf_add(ctx, argv[0], argv[1], argc - 2, argv + 2);
	if (id < 0)
		return cli_lib_fail();
	if (json_mode) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(argv[0]));
		json_object_object_add(o, "id", json_object_new_int(id));
		cli_json_out(o);
	}
	return 0;
}

static int nf_del(int argc, char **argv)
{
	if (argc != 1)
		return cli_usage("nf", "'nf del' needs exactly one NAME");
	if (tdm_nf_del(cli_ctx(false), argv[0]))
		return cli_lib_fail();
	if (json_mode)
		cli_json_out(json_object_new_object());
	return 0;
}

static int nf_show(int argc, char **argv)
{
	struct tdm_ctx *ctx;
	json_object *arr = json_object_new_array();
	struct tdm_nf_info nf;
	char params[128];
	__u32 id;

	if (argc > 1)
		return cli_usage("nf", "'nf show' takes at most one NAME");
	ctx = cli_ctx(true);
	if (argc == 1 && tdm_nf_lookup(ctx, argv[0], NULL) < 0) {
		json_object_put(arr);
		return cli_lib_fail();
	}
	if (!json_mode)
		printf("%-4s %-20s %-10s %s\n", "ID", "NAME", "TYPE", "PARAMS");
	for (id = 0; id < TDM_MAX_NFS; id++) {
		if (tdm_nf_get(ctx, id, &nf))
			continue;
		if (argc == 1 && strcmp(nf.name, argv[0]))
			continue;
		tdm_nf_params_format(&nf, params, sizeof(params));
		if (json_mode) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "id", json_object_new_int(id));
			json_object_object_add(o, "name", json_object_new_string(nf.name));
			json_object_object_add(o, "type", json_object_new_string(
				tdm_nf_type_name(tdm_nf_type_by_id(nf.type))));
			json_object_object_add(o, "params", json_object_new_string(params));
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

int do_nf(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "types", nf_types }, { "add", nf_add }, { "del", nf_del },
		{ "delete", nf_del }, { "show", nf_show }, { "list", nf_show },
		{}
	};

	return cmd_dispatch("nf", cmds, argc, argv, nf_help);
}
