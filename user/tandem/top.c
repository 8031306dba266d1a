// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tandem top: the busiest flows of monitor NFs (bpf/nf_monitor.bpf.c),
 * refreshed like top(1): rates from the difference between two reads of
 * their tables, sorted, the first N shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

enum top_sort { SORT_BPS, SORT_PPS, SORT_BYTES, SORT_PACKETS };
static const char *const sort_names[] = { "bps", "pps", "bytes", "packets",
					  NULL };

/* A flow with its rates over the last interval */
struct row {
	const struct tdm_flow *f;
	double pps, bps;
};

static enum top_sort sort_by;

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* flows by (nf_id, key): to find a flow's previous counts */
static int flow_cmp(const void *a, const void *b)
{
	const struct tdm_flow *x = a, *y = b;

	if (x->nf_id != y->nf_id)
		return x->nf_id < y->nf_id ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static double row_val(const struct row *r)
{
	switch (sort_by) {
	case SORT_PPS:
		return r->pps;
	case SORT_BYTES:
		return r->f->flow.bytes;
	case SORT_PACKETS:
		return r->f->flow.packets;
	default:
		return r->bps;
	}
}

/* the biggest first; ties in a fixed order (the flows') */
static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	double vx = row_val(x), vy = row_val(y);

	if (vx != vy)
		return vx > vy ? -1 : 1;
	return flow_cmp(x->f, y->f);
}

/* 1234567 -> "1.23M" (SI, as iftop and nload print rates) */
static const char *si(double v, char *buf, size_t size)
{
	static const char units[] = " kMGTP";
	int u = 0;

	while (v >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	if (!u)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.*f%c", v < 10 ? 2 : v < 100 ? 1 : 0, v,
			 units[u]);
	return buf;
}

static void print_text(struct tdm_ctx *ctx, const struct row *rows, size_t n,
		       size_t total, const char *name, double interval,
		       bool tty)
{
	char s[80], d[80], pps[16], bps[16], pk[16], by[16];
	__u64 now = mono_ns();
	size_t i;

	if (tty)
		printf("\033[H\033[2J");
	printf("tandem top: %s, %zu flows, rates over %.1fs, by %s\n",
	       name ? name : "every monitor", total, interval,
	       sort_names[sort_by]);
	printf("%-12s %-6s %-45s %-45s %8s %8s %8s %8s\n", "NF", "PROTO",
	       "SOURCE", "DESTINATION", "PPS", "BPS", "PACKETS", "BYTES");
	for (i = 0; i < n; i++) {
		json_object *o = tdm_flow_json(ctx, rows[i].f, now);

		tdm_flow_ends(o, s, sizeof(s), d, sizeof(d));
		printf("%-12s %-6s %-45s %-45s %8s %8s %8s %8s\n",
		       json_object_get_string(json_object_object_get(o, "nf")),
		       json_object_object_get(o, "proto") ?
		       json_object_get_string(json_object_object_get(o, "proto")) :
		       json_object_get_string(json_object_object_get(o, "ethertype")),
		       s, d, si(rows[i].pps, pps, sizeof(pps)),
		       si(rows[i].bps, bps, sizeof(bps)),
		       si(rows[i].f->flow.packets, pk, sizeof(pk)),
		       si(rows[i].f->flow.bytes, by, sizeof(by)));
		json_object_put(o);
	}
	fflush(stdout);
}

static void print_json(struct tdm_ctx *ctx, const struct row *rows, size_t n,
		       size_t total, double interval)
{
	json_object *o = json_object_new_object(), *arr, *f;
	__u64 now = mono_ns();
	size_t i;

	json_object_object_add(o, "interval_s", json_object_new_double(interval));
	json_object_object_add(o, "flows_total", json_u64(total));
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		f = tdm_flow_json(ctx, rows[i].f, now);
		json_object_object_add(f, "pps", json_object_new_double(rows[i].pps));
		json_object_object_add(f, "bps", json_object_new_double(rows[i].bps));
		json_object_array_add(arr, f);
	}
	json_object_object_add(o, "flows", arr);
	cli_json_out(o);
}

static int top_run(struct args *a)
{
	const char *name = arg_str(a, "NF");
	double interval = arg_num(a, "--interval", 1000) / 1000.0;
	long count = arg_seen(a, "--count") ? (long)arg_num(a, "--count", 1) :
		     json_mode || !isatty(STDOUT_FILENO) ? 1 : -1;
	size_t limit = arg_num(a, "--limit", 20), nprev, ncur, i;
	bool tty = !json_mode && isatty(STDOUT_FILENO);
	struct tdm_flow *prev, *cur, *p;
	struct tdm_ctx *ctx = cli_ctx(true);
	struct row *rows;
	__u64 t_prev, t_cur;
	long round;

	sort_by = arg_num(a, "--sort", SORT_BPS);
	if (tdm_monitor_flows(ctx, name, &prev, &nprev))
		return cli_lib_fail();
	t_prev = mono_ns();
	qsort(prev, nprev, sizeof(*prev), flow_cmp);
	for (round = 0; count < 0 || round < count; round++) {
		/* writers must not wait for a top to end */
		tdm_unlock(ctx);
		usleep(interval * 1e6);
		if (tdm_relock(ctx) || tdm_monitor_flows(ctx, name, &cur, &ncur)) {
			free(prev);
			return cli_lib_fail();
		}
		t_cur = mono_ns();
		rows = calloc(ncur ?: 1, sizeof(*rows));
		if (!rows)
			abort();
		for (i = 0; i < ncur; i++) {
			double secs = (t_cur - t_prev) / 1e9;
			__u64 dp = cur[i].flow.packets, db = cur[i].flow.bytes;

			p = bsearch(&cur[i], prev, nprev, sizeof(*prev), flow_cmp);
			/* not there before, or evicted and back: all of it new */
			if (p && p->flow.packets <= dp && p->flow.bytes <= db) {
				dp -= p->flow.packets;
				db -= p->flow.bytes;
			}
			rows[i] = (struct row){ &cur[i], dp / secs, db * 8 / secs };
		}
		qsort(rows, ncur, sizeof(*rows), row_cmp);
		if (json_mode)
			print_json(ctx, rows, ncur < limit ? ncur : limit, ncur,
				   interval);
		else
			print_text(ctx, rows, ncur < limit ? ncur : limit, ncur,
				   name, interval, tty);
		free(rows);
		free(prev);
		qsort(cur, ncur, sizeof(*cur), flow_cmp);
		prev = cur;
		nprev = ncur;
		t_prev = t_cur;
		if (!tty && count != 1 && round + 1 != count)
			printf("\n");
	}
	free(prev);
	return 0;
}

static const struct arg top_args[] = {
	{ .meta = "NF", .type = ARG_NAME,
	  .help = "only this monitor NF (default: every one)" },
	{ "--sort", "-s", "KEY", ARG_ENUM, 0, 0, 0, sort_names,
	  "order by bps (default), pps, or bytes or packets since each began" },
	{ "--limit", "-n", "N", ARG_NUM, 0, 1, 1000000, NULL,
	  "show the first N flows (default 20)" },
	{ "--interval", "-i", "SECONDS", ARG_SECONDS, 0, 100, 3600000, NULL,
	  "read the tables every SECONDS (default 1): rates over that time" },
	{ "--count", "-c", "N", ARG_NUM, 0, 1, 0xffffffff, NULL,
	  "stop after N refreshes (default: 1 with -j or not on a terminal)" },
	{}
};

static const struct command top_cmds[] = {
	{}
};

static const struct command top_default = {
	"", NULL, top_run, top_args, "the busiest flows of monitor NFs, refreshed",
};

const struct object top_object = {
	.name = "top",
	.summary = "the busiest flows of monitor NFs (top talkers)",
	.cmds = top_cmds,
	.default_cmd = &top_default,
	.notes = "A flow is one way of a connection, as a monitor NF counts it (nf add NAME\n"
		 "monitor). PPS and BPS (bits) are rates over the last interval; PACKETS\n"
		 "and BYTES count since the flow began. The first rates come one\n"
		 "interval after the start. With -j each refresh is one JSON document.\n",
};
