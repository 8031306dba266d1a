// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tandem status: what runs: the datapath, its devices, the daemon, the
 * last policy apply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* "2026-11-30 12:00:00 UTC" of a CLOCK_REALTIME time in ns */
static const char *fmt_time(__u64 ns, char *buf, size_t size)
{
	time_t t = ns / 1000000000ull;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

static const char *fmt_duration(__u64 s, char *buf, size_t size)
{
	if (s >= 86400)
		snprintf(buf, size, "%llud %lluh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, size, "%lluh %llum", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, size, "%llum %llus", s / 60, s % 60);
	else
		snprintf(buf, size, "%llus", s);
	return buf;
}

static const char *dev_name(const struct tdm_dev_status *d)
{
	return d->name_now[0] ? d->name_now : d->dev.name;
}

/* How process NFs are scheduled (Documentation/process-nfs.rst) */
static const char *sched_name(__u32 mode)
{
	return mode == TDM_SCHED_POLLING ? "polling" :
	       mode == TDM_SCHED_MODULE ? "module" : "none";
}

static const char *cgroup_name(__u32 cg)
{
	return cg == 1 ? "cgroup v1 cpu.shares" :
	       cg == 2 ? "cgroup v2 cpu.weight" : "none (no cpu controller)";
}

static void print_plain(const struct tdm_status *st, bool running,
			const struct tdm_dev_status *v, int n)
{
	char buf[64], esc[1024];
	int i;

	printf("%-15s %d\n", "datapath ABI", TDM_ABI_VERSION);
	printf("%-15s %s\n", "pin directory", tdm_pin_root());
	if (!n)
		printf("%-15s none\n", "devices");
	for (i = 0; i < n; i++)
		printf("%-15s %s: %s, %s, prog %u\n", i ? "" : "devices",
		       dev_name(&v[i]), tdm_dev_state_name(v[i].state),
		       tdm_mode_name(v[i].dev.mode), v[i].prog_id);
	if (!st->daemon_pid)
		printf("%-15s not running\n", "daemon");
	else if (running)
		printf("%-15s pid %u, running, up %s\n", "daemon",
		       st->daemon_pid, fmt_duration((now_ns() -
		       st->daemon_start) / 1000000000ull, buf, sizeof(buf)));
	else
		printf("%-15s not running (pid %u registered and gone)\n",
		       "daemon", st->daemon_pid);
	if (!running || st->sched_mode == TDM_SCHED_NONE)
		printf("%-15s none: no daemon restarts process NFs or sets their CPU weights\n",
		       "scheduling");
	else
		printf("%-15s %s every %u us, CPU weights %s\n", "scheduling",
		       sched_name(st->sched_mode), st->sched_us,
		       cgroup_name(st->sched_cgroup));
	if (!st->apply_time) {
		printf("%-15s never\n", "last apply");
		return;
	}
	cli_escape(st->apply_file, esc, sizeof(esc));
	printf("%-15s %s, %s, by pid %u\n", "last apply", esc,
	       fmt_time(st->apply_time, buf, sizeof(buf)), st->apply_pid);
	cli_escape(st->apply_msg, esc, sizeof(esc));
	if (st->apply_result)
		printf("%-15s failed: %s\n", "", esc);
	else
		printf("%-15s ok, %u changes\n", "", st->apply_changes);
}

static json_object *status_json(const struct tdm_status *st, bool running,
				const struct tdm_dev_status *v, int n)
{
	json_object *o = json_object_new_object(), *devs, *d;
	int i;

	json_object_object_add(o, "abi", json_object_new_int(TDM_ABI_VERSION));
	json_object_object_add(o, "pin_dir", jstr(tdm_pin_root()));
	devs = json_object_new_array();
	for (i = 0; i < n; i++) {
		d = json_object_new_object();
		json_object_object_add(d, "dev", jstr(dev_name(&v[i])));
		json_object_object_add(d, "state", jstr(tdm_dev_state_name(v[i].state)));
		json_object_object_add(d, "mode", jstr(tdm_mode_name(v[i].dev.mode)));
		json_object_object_add(d, "prog_id", json_object_new_int64(v[i].prog_id));
		json_object_array_add(devs, d);
	}
	json_object_object_add(o, "devices", devs);
	d = NULL;
	if (st->daemon_pid) {
		d = json_object_new_object();
		json_object_object_add(d, "pid", json_object_new_int64(st->daemon_pid));
		json_object_object_add(d, "running", json_object_new_boolean(running));
		/* seconds since the epoch, as tandemd's metrics give times */
		json_object_object_add(d, "start", json_u64(st->daemon_start / 1000000000ull));
		json_object_object_add(d, "uptime", json_u64(running ?
			(now_ns() - st->daemon_start) / 1000000000ull : 0));
	}
	json_object_object_add(o, "daemon", d);
	d = json_object_new_object();
	json_object_object_add(d, "mode", jstr(running ?
			       sched_name(st->sched_mode) : "none"));
	json_object_object_add(d, "interval_us", json_u64(running ?
			       st->sched_us : 0));
	json_object_object_add(d, "cpu_weights", jstr(running ?
			       cgroup_name(st->sched_cgroup) : "none"));
	json_object_object_add(o, "scheduling", d);
	d = NULL;
	if (st->apply_time) {
		d = json_object_new_object();
		json_object_object_add(d, "file", jstr(st->apply_file));
		json_object_object_add(d, "time", json_u64(st->apply_time / 1000000000ull));
		json_object_object_add(d, "ok", json_object_new_boolean(!st->apply_result));
		json_object_object_add(d, "error", jstr(st->apply_msg));
		json_object_object_add(d, "changes", json_u64(st->apply_changes));
		json_object_object_add(d, "pid", json_object_new_int64(st->apply_pid));
	}
	json_object_object_add(o, "last_apply", d);
	return o;
}

static int status_show(struct args *a)
{
	struct tdm_dev_status *v;
	struct tdm_status st;
	struct tdm_ctx *ctx;
	bool running;
	int n;

	ctx = cli_ctx(true);
	if (tdm_status_get(ctx, &st, &running) || tdm_dev_list(ctx, &v, &n))
		return cli_lib_fail();
	if (json_mode)
		cli_json_out(status_json(&st, running, v, n));
	else
		print_plain(&st, running, v, n);
	free(v);
	return 0;
}

static const struct arg status_args[] = {
	{}
};

static const struct command status_cmds[] = {
	{ "show", NULL, status_show, status_args,
	  "the datapath, its devices, the daemon and the last apply" },
	{}
};

static const struct command status_default = {
	"", NULL, status_show, status_args, "the same as status show",
};

const struct object status_object = {
	.name = "status",
	.summary = "what runs: datapath, devices, daemon, last apply",
	.cmds = status_cmds,
	.default_cmd = &status_default,
	.notes = "The daemon is tandemd (tandemd(8)): its pid, whether that process still\n"
		 "runs, and for how long. The last apply is the last policy file applied,\n"
		 "by tandemd or anyone: when, by which pid, and its result. Times in JSON\n"
		 "are seconds since the epoch.\n",
};
