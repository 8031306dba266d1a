// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tandem stats: counters of NFs, chains and devices, once or watched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define MAX_COLS	12

enum kind { K_NF, K_CHAIN, K_DEV, K_MAX };

struct row {
	char name[TDM_NAME_LEN];
	const char *type;		/* NF type, or NULL */
	__u32 type_id;
	__u64 v[MAX_COLS];		/* v[0] packets, v[1] bytes */
	__u64 drop_reason[TDM_NF_MAX_DROPS];
};

struct table {
	struct row rows[TDM_MAX_NFS > TDM_MAX_CHAINS ? TDM_MAX_NFS : TDM_MAX_CHAINS];
	int n;
};

static const char *const kind_name[K_MAX] = { "nf", "chain", "dev" };

/* Column names after packets and bytes. */
static const char *const cols[K_MAX][MAX_COLS] = {
	[K_NF] = { "packets", "bytes", "drops" },
	[K_CHAIN] = { "packets", "bytes", "passed", "dropped", "txed",
		      "redirected", "missed", "backpressure" },
	[K_DEV] = { "packets", "bytes", "steer_flow", "steer_rule",
		    "steer_default", "no_chain", "missed", "truncated",
		    "malformed", "fragments", "unparsed" },
};

/* rows are filled by copying the stats structs */
_Static_assert(sizeof(struct tdm_dev_stats) <= MAX_COLS * sizeof(__u64) &&
	       sizeof(struct tdm_chain_stats) == 8 * sizeof(__u64) &&
	       sizeof(struct tdm_chain_stats) <= MAX_COLS * sizeof(__u64),
	       "struct row's columns cannot hold the stats");

static int ncols(enum kind k)
{
	int n = 0;

	while (n < MAX_COLS && cols[k][n])
		n++;
	return n;
}

static int collect(struct tdm_ctx *ctx, enum kind k, const char *name,
		   struct table *t)
{
	struct row *r;
	__u32 id;
	int i;

	t->n = 0;
	if (k == K_NF) {
		struct tdm_nf_info nf;
		struct tdm_nf_stats st;

		for (id = 0; id < TDM_MAX_NFS; id++) {
			if (tdm_nf_get(ctx, id, &nf) ||
			    (name && strcmp(name, nf.name)))
				continue;
			if (tdm_stats_nf(ctx, id, &st))
				return -1;
			r = &t->rows[t->n++];
			memset(r, 0, sizeof(*r));
			snprintf(r->name, sizeof(r->name), "%s", nf.name);
			r->type = tdm_nf_type_name(tdm_nf_type_by_id(nf.type));
			r->type_id = nf.type;
			r->v[0] = st.packets;
			r->v[1] = st.bytes;
			for (i = 0; i < TDM_NF_MAX_DROPS; i++) {
				r->drop_reason[i] = st.drops[i];
				r->v[2] += st.drops[i];
			}
		}
	} else if (k == K_CHAIN) {
		struct tdm_chain_info ci;
		struct tdm_chain_stats st;

		for (id = 0; id < TDM_MAX_CHAINS; id++) {
			if (tdm_chain_get(ctx, id, &ci) ||
			    (name && strcmp(name, ci.name)))
				continue;
			if (tdm_stats_chain(ctx, id, &st))
				return -1;
			r = &t->rows[t->n++];
			memset(r, 0, sizeof(*r));
			snprintf(r->name, sizeof(r->name), "%s", ci.name);
			memcpy(r->v, &st, sizeof(st));
		}
	} else {
		struct tdm_dev_status *v;
		struct tdm_dev_stats st;
		int n;

		if (tdm_dev_list(ctx, &v, &n))
			return -1;
		for (i = 0; i < n && t->n < (int)ARRAY_SIZE(t->rows); i++) {
			if (name && strcmp(name, v[i].dev.name))
				continue;
			if (tdm_stats_dev(ctx, v[i].dev.slot, &st)) {
				free(v);
				return -1;
			}
			r = &t->rows[t->n++];
			memset(r, 0, sizeof(*r));
			snprintf(r->name, sizeof(r->name), "%s", v[i].dev.name);
			memcpy(r->v, &st, sizeof(st));
		}
		free(v);
	}
	return 0;
}

/* Per-second rate of a counter; 0 if it went backwards (NF re-created). */
static double rate(__u64 cur, __u64 prev, double secs)
{
	return cur >= prev && secs > 0 ? (cur - prev) / secs : 0;
}

static json_object *row_json(enum kind k, const struct row *r,
			     const struct row *prev, double secs)
{
	json_object *o = json_object_new_object();
	int i;

	json_object_object_add(o, "name", jstr(r->name));
	if (r->type)
		json_object_object_add(o, "type", jstr(r->type));
	for (i = 0; i < ncols(k); i++)
		json_object_object_add(o, cols[k][i], json_u64(r->v[i]));
	if (k == K_NF) {
		json_object *dr = json_object_new_object();
		const char *reason;

		for (i = 0; (reason = tdm_nf_drop_name(r->type_id, i)); i++)
			json_object_object_add(dr, reason,
					       json_u64(r->drop_reason[i]));
		json_object_object_add(o, "drop_reasons", dr);
	}
	if (prev) {
		json_object_object_add(o, "pps", json_object_new_double(
			rate(r->v[0], prev->v[0], secs)));
		json_object_object_add(o, "bps", json_object_new_double(
			rate(r->v[1], prev->v[1], secs) * 8));
	}
	return o;
}

static const struct row *find_prev(const struct table *prev,
				   const struct row *r)
{
	int i;

	if (!prev)
		return NULL;
	for (i = 0; i < prev->n; i++)
		if (!strcmp(prev->rows[i].name, r->name))
			return &prev->rows[i];
	return NULL;
}

static void human_rate(double v, const char *unit, char *buf, size_t size)
{
	if (v >= 1e9)
		snprintf(buf, size, "%.2fG%s", v / 1e9, unit);
	else if (v >= 1e6)
		snprintf(buf, size, "%.2fM%s", v / 1e6, unit);
	else if (v >= 1e3)
		snprintf(buf, size, "%.2fk%s", v / 1e3, unit);
	else
		snprintf(buf, size, "%.0f%s", v, unit);
}

static void print_table(enum kind k, const struct table *t,
			const struct table *prev, double secs)
{
	int i, c;

	printf("%-20s", k == K_NF ? "NF" : k == K_CHAIN ? "CHAIN" : "DEV");
	if (k == K_NF)
		printf(" %-9s", "TYPE");
	for (c = 0; c < ncols(k); c++)
		printf(" %*s", c < 2 ? 14 : 11, cols[k][c]);
	if (prev)
		printf(" %12s %12s", "pps", "bit/s");
	printf("\n");
	for (i = 0; i < t->n; i++) {
		const struct row *r = &t->rows[i], *p = find_prev(prev, r);

		printf("%-20s", r->name);
		if (k == K_NF)
			printf(" %-9s", r->type);
		for (c = 0; c < ncols(k); c++)
			printf(" %*llu", c < 2 ? 14 : 11,
			       (unsigned long long)r->v[c]);
		if (prev) {
			char a[32], b[32];

			human_rate(p ? rate(r->v[0], p->v[0], secs) : 0, "", a,
				   sizeof(a));
			human_rate(p ? rate(r->v[1], p->v[1], secs) * 8 : 0, "",
				   b, sizeof(b));
			printf(" %12s %12s", a, b);
		}
		printf("\n");
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Each named row must still be there: a watched NF may be deleted. */
static int check_named(const struct table *cur, const bool *kinds,
		       const char *name, bool watching)
{
	int k;

	for (k = 0; k < K_MAX; k++)
		if (kinds[k] && !cur[k].n)
			return cli_fail(watching ? "%s '%s' is gone (%s)" :
					"no %s named '%s'%s", kind_name[k],
					name, !watching ? "" : k == K_DEV ?
					"detached" : "deleted");
	return 0;
}

static int run_stats(const bool *kinds, const char *name, double interval,
		     long count)
{
	static struct table cur[K_MAX], prev[K_MAX];
	double t_prev = 0, t_cur;
	int i, k, n;
	struct tdm_ctx *ctx;

	ctx = cli_ctx(true);
	t_cur = now_s();
	for (k = 0; k < K_MAX; k++)
		if (kinds[k] && collect(ctx, k, name, &cur[k]))
			return cli_lib_fail();
	if (name && check_named(cur, kinds, name, false))
		return EXIT_RUNTIME;
	for (n = 0; ; n++) {
		bool watching = n > 0;
		double secs = t_cur - t_prev;

		if (!json_mode) {
			if (interval)
				printf("%s--- %s every %.1fs\n", n ? "\n" : "",
				       watching ? "rates" : "counters", interval);
			for (k = 0; k < K_MAX; k++) {
				if (!kinds[k])
					continue;
				print_table(k, &cur[k], watching ? &prev[k] : NULL,
					    secs);
			}
			fflush(stdout);
		} else {
			json_object *top = NULL;

			for (k = 0; k < K_MAX; k++) {
				json_object *arr;

				if (!kinds[k])
					continue;
				if (name) {
					top = row_json(k, &cur[k].rows[0],
						       watching ? find_prev(&prev[k],
						       &cur[k].rows[0]) : NULL, secs);
					break;
				}
				arr = json_object_new_array();
				for (i = 0; i < cur[k].n; i++)
					json_object_array_add(arr, row_json(k,
						&cur[k].rows[i], watching ?
						find_prev(&prev[k], &cur[k].rows[i]) :
						NULL, secs));
				if (kinds[0] && kinds[1]) {
					if (!top)
						top = json_object_new_object();
					json_object_object_add(top, kind_name[k], arr);
				} else {
					top = arr;
				}
			}
			cli_json_out(top);
		}
		if (!interval || (count >= 0 && n + 1 >= count))
			break;
		memcpy(prev, cur, sizeof(cur));
		t_prev = t_cur;
		/* writers must not wait for a watch to end */
		tdm_unlock(ctx);
		usleep(interval * 1e6);
		if (tdm_relock(ctx))
			return cli_lib_fail();
		t_cur = now_s();
		for (k = 0; k < K_MAX; k++)
			if (kinds[k] && collect(ctx, k, name, &cur[k]))
				return cli_lib_fail();
		if (name && check_named(cur, kinds, name, true))
			return EXIT_RUNTIME;
	}
	return 0;
}

static int stats_kind(struct args *a, int kind)
{
	bool kinds[K_MAX] = { true, true, true };
	int k;

	if (kind >= 0)
		for (k = 0; k < K_MAX; k++)
			kinds[k] = k == kind;
	if (arg_seen(a, "--count") && !arg_seen(a, "--watch"))
		return cli_usage("stats", "--count needs --watch");
	return run_stats(kinds, kind >= 0 ? arg_str(a, "NAME") : NULL,
			 arg_num(a, "--watch", 0) / 1000.0,
			 arg_seen(a, "--count") ? (long)arg_num(a, "--count", 0) : -1);
}

static int stats_all(struct args *a)
{
	return stats_kind(a, -1);
}

static int stats_nf(struct args *a)
{
	return stats_kind(a, K_NF);
}

static int stats_chain(struct args *a)
{
	return stats_kind(a, K_CHAIN);
}

static int stats_dev(struct args *a)
{
	return stats_kind(a, K_DEV);
}

#define WATCH_ARGS							\
	{ "--watch", "-w", "SECONDS", ARG_SECONDS, 0, 100, 3600000, NULL, \
	  "print every SECONDS, with packet and bit rates", "interval" },		\
	{ "--count", "-c", "N", ARG_NUM, 0, 1, 0xffffffff, NULL,	\
	  "stop after N updates (with --watch)" }

static const struct arg stats_all_args[] = {
	WATCH_ARGS,
	{}
};

static const struct arg stats_nf_args[] = {
	{ .meta = "NAME", .type = ARG_NAME, .help = "only this NF" },
	WATCH_ARGS,
	{}
};

static const struct arg stats_chain_args[] = {
	{ .meta = "NAME", .type = ARG_NAME, .help = "only this chain" },
	WATCH_ARGS,
	{}
};

static const struct arg stats_dev_args[] = {
	{ .meta = "NAME", .type = ARG_DEV, .help = "only this device" },
	WATCH_ARGS,
	{}
};

static const struct command stats_cmds[] = {
	{ "nf", NULL, stats_nf, stats_nf_args, "counters of NFs" },
	{ "chain", NULL, stats_chain, stats_chain_args, "counters of chains" },
	{ "dev", NULL, stats_dev, stats_dev_args, "counters of devices" },
	{}
};

static const struct command stats_default = {
	"", NULL, stats_all, stats_all_args, "counters of everything",
};

const struct object stats_object = {
	.name = "stats",
	.summary = "counters of NFs, chains and devices",
	.cmds = stats_cmds,
	.default_cmd = &stats_default,
	.notes = "Counters are summed over CPUs. --watch prints them every SECONDS\n"
		 "(0.1 to 3600, up to 3 decimals) with packet and bit rates (one JSON\n"
		 "document per update with -j); --count stops after N updates. A\n"
		 "watched NF, chain or device that goes away ends the watch with an\n"
		 "error.\n",
};
