// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What runs: the daemon that registered and the last policy apply, in
 * the pinned tdm_status record, for `tandem status`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

__u64 tdm_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Field 22 of /proc/PID/stat: start time in clock ticks since boot; 0 if
 * the process is gone, or a zombie nobody reaped yet. The command name
 * (field 2) may hold blanks and parentheses: fields are counted after
 * its last ')'. */
static __u64 proc_starttime(__u32 pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	size_t n;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* field 3, the state: a zombie (Z) or dead (X) process runs no more */
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	/* after ')' come fields 3, 4, ...: skip to field 22 */
	for (i = 3; i <= 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (p)
		v = strtoull(p + 1, NULL, 10);
	return v;
}

static int status_read(struct tdm_ctx *ctx, struct tdm_status *st)
{
	__u32 key = 0;

	if (bpf_map_lookup_elem(ctx->status_fd, &key, st))
		return tdm_err(ctx, errno, "reading the status record: %s",
			       strerror(errno));
	return 0;
}

static int status_write(struct tdm_ctx *ctx, const struct tdm_status *st)
{
	__u32 key = 0;

	if (bpf_map_update_elem(ctx->status_fd, &key, st, BPF_ANY))
		return tdm_err(ctx, errno, "writing the status record: %s",
			       strerror(errno));
	return 0;
}

int tdm_daemon_register(struct tdm_ctx *ctx, __u32 pid)
{
	struct tdm_status st;
	int err;

	err = status_read(ctx, &st);
	if (err)
		return err;
	st.daemon_pid = pid;
	st.daemon_start = tdm_realtime_ns();
	st.daemon_starttime = proc_starttime(pid);
	return status_write(ctx, &st);
}

int tdm_daemon_unregister(struct tdm_ctx *ctx, __u32 pid)
{
	struct tdm_status st;
	int err;

	err = status_read(ctx, &st);
	if (err || st.daemon_pid != pid)
		return err;	/* another daemon registered since: its record */
	st.daemon_pid = 0;
	st.daemon_start = 0;
	st.daemon_starttime = 0;
	st.sched_mode = TDM_SCHED_NONE;
	return status_write(ctx, &st);
}

int tdm_daemon_sched(struct tdm_ctx *ctx, __u32 pid, __u32 mode,
		     __u32 interval_us, __u32 cgroup)
{
	struct tdm_status st;
	int err;

	err = status_read(ctx, &st);
	if (err || st.daemon_pid != pid)
		return err;
	st.sched_mode = mode;
	st.sched_us = interval_us;
	st.sched_cgroup = cgroup;
	return status_write(ctx, &st);
}

int tdm_status_get(struct tdm_ctx *ctx, struct tdm_status *st,
		   bool *daemon_running)
{
	int err = status_read(ctx, st);

	if (err)
		return err;
	st->apply_file[sizeof(st->apply_file) - 1] = '\0';
	st->apply_msg[sizeof(st->apply_msg) - 1] = '\0';
	if (daemon_running)
		*daemon_running = st->daemon_pid &&
			proc_starttime(st->daemon_pid) == st->daemon_starttime;
	return 0;
}

/* The last apply's record: result 0 or -errno, its message, changes. */
static int apply_record(struct tdm_ctx *ctx, const char *file, int result,
			const char *msg, unsigned int changes)
{
	struct tdm_status st;
	int ret;

	ret = status_read(ctx, &st);
	if (ret)
		return ret;
	st.apply_time = tdm_realtime_ns();
	st.apply_result = result;
	st.apply_changes = changes;
	st.apply_pid = getpid();
	snprintf(st.apply_file, sizeof(st.apply_file), "%s", file);
	snprintf(st.apply_msg, sizeof(st.apply_msg), "%.255s", msg);
	return status_write(ctx, &st);
}

void tdm_status_record_apply(struct tdm_ctx *ctx, const char *file,
			     int result, unsigned int changes)
{
	apply_record(ctx, file, result, result ? ctx->err : "", changes);
}

int tdm_status_apply_failed(struct tdm_ctx *ctx, const char *file, int err,
			    const char *msg)
{
	return apply_record(ctx, file, err < 0 ? err : -EINVAL, msg, 0);
}
