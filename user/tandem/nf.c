// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tandem nf: network function instances. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Each type's parameters, and what each type says of them. */
static void nf_more_help(FILE *f)
{
	const struct tdm_nf_type *t;
	int i;

	fprintf(f, "\nTYPE and its PARAMs:\n");
	for (i = 0; (t = tdm_nf_type_at(i)); i++)
		fprintf(f, "  %-9s %s\n", tdm_nf_type_name(t),
			tdm_nf_type_usage(t));
	for (i = 0; (t = tdm_nf_type_at(i)); i++)
		if (*tdm_nf_type_help(t))
			fprintf(f, "\n%s", tdm_nf_type_help(t));
}

static int nf_types(struct args *a)
{
	const struct tdm_nf_type *t;
	json_object *arr = json_object_new_array();
	const char *reason;
	int i, r;

	if (!json_mode)
		printf("%-10s %-40s %s\n", "TYPE", "PARAMS", "DESCRIPTION");
	for (i = 0; (t = tdm_nf_type_at(i)); i++) {
		if (json_mode) {
			json_object *o = json_object_new_object();
			json_object *dr = json_object_new_array();

			for (r = 0; (reason = tdm_nf_drop_name(
					tdm_nf_type_id(t), r)); r++)
				json_object_array_add(dr, jstr(reason));
			json_object_object_add(o, "drop_reasons", dr);

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

/*
 * A process NF's command, process and queue: into JSON object o, or
 * printed under its line.
 */
static int process_show(struct tdm_ctx *ctx, __u32 id,
			const struct tdm_nf_info *nf, json_object *o)
{
	const struct tdm_process_params *pp = TDM_NF_PARAMS(&nf->params, process);
	struct tdm_nf_queue q;
	char cmd[TDM_NF_CMD_LEN];
	double cost;
	bool up;

	if (tdm_nf_cmd_get(ctx, id, cmd, sizeof(cmd)) ||
	    tdm_nf_queue_get(ctx, id, &q))
		return -1;
	up = tdm_nf_queue_up(&q);
	cost = q.samples ? (double)q.cycles / q.samples : 0;
	if (!o) {
		printf("     command: %s\n", cmd[0] ? cmd : "(none: run by hand)");
		printf("     process: %s", up ? "up" : "down");
		if (up)
			printf(", pid %u", q.pid);
		printf(", queue %llu of %u (high %u, low %u)%s, weight ",
		       (unsigned long long)tdm_nf_queue_backlog(&q), pp->ring,
		       q.high, q.low, q.congested ? ", congested" : "");
		if (q.weight)
			printf("%u\n", q.weight);
		else
			printf("-\n");
		printf("     handed %llu consumed %llu passed %llu dropped %llu ring_drops %llu\n"
		       "     bypassed %llu bp_drops %llu congestions %llu stale %llu junk %llu\n"
		       "     cost %.0f cycles/packet in its handler, %.0f ns/packet of CPU\n",
		       (unsigned long long)q.handed,
		       (unsigned long long)q.consumed,
		       (unsigned long long)q.passed,
		       (unsigned long long)q.dropped,
		       (unsigned long long)q.ring_drops,
		       (unsigned long long)q.bypassed,
		       (unsigned long long)q.bp_drops,
		       (unsigned long long)q.congestions,
		       (unsigned long long)q.stale, (unsigned long long)q.junk,
		       cost, q.consumed ? (double)q.cpu_ns / q.consumed : 0);
		return 0;
	}
#define U64(k, v) json_object_object_add(o, k, json_object_new_int64((int64_t)(v)))
	json_object_object_add(o, "command", jstr(cmd));
	json_object_object_add(o, "up", json_object_new_boolean(up));
	U64("pid", up ? q.pid : 0);
	U64("backlog", tdm_nf_queue_backlog(&q));
	U64("ring", pp->ring);
	U64("high", q.high);
	U64("low", q.low);
	json_object_object_add(o, "congested",
			       json_object_new_boolean(q.congested));
	U64("weight", q.weight);
	U64("handed", q.handed);
	U64("consumed", q.consumed);
	U64("passed", q.passed);
	U64("dropped", q.dropped);
	U64("ring_drops", q.ring_drops);
	U64("bypassed", q.bypassed);
	U64("bp_drops", q.bp_drops);
	U64("congestions", q.congestions);
	U64("stale", q.stale);
	U64("junk", q.junk);
	json_object_object_add(o, "cost_cycles", json_object_new_double(cost));
	U64("cpu_ns", q.cpu_ns);
	json_object_object_add(o, "cost_ns", json_object_new_double(
		q.consumed ? (double)q.cpu_ns / q.consumed : 0));
#undef U64
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
			if (nf.type == TDM_NF_PROCESS &&
			    process_show(ctx, id, &nf, o))
				return cli_lib_fail();
			json_object_array_add(arr, o);
		} else {
			printf("%-4u %-20s %-10s %s\n", id, nf.name,
			       tdm_nf_type_name(tdm_nf_type_by_id(nf.type)),
			       params);
			if (nf.type == TDM_NF_PROCESS &&
			    process_show(ctx, id, &nf, NULL))
				return cli_lib_fail();
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
	.summary = "network function instances (tandem nf types lists their types)",
	.cmds = nf_cmds,
	.more_help = nf_more_help,
};
