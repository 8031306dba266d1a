// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The journal: what makes every change survive kill -9.
 *
 * A change that takes several map writes (a firewall's bank switch over
 * all its chains, a steering entry's rule and leaves, a device's record
 * and link) writes its intent to tdm_journal before the first write the
 * datapath can see, and clears it after the last. A process killed in
 * between leaves the intent behind; the next tdm_open() finds it, under
 * the exclusive lock, and finishes the change or takes it back. Each
 * recovery is idempotent: a recovery killed half way is recovered again.
 *
 * What is finished and what taken back: a firewall's bank switch and a
 * chain replace are finished (their new state was complete before the
 * journal named it); steering entries being added are taken back and
 * those being deleted are taken out, by the same step; a device attach
 * is kept if its link got pinned, else undone; a detach is finished.
 *
 * For tests, TANDEM_CRASH_AT=N kills the process (SIGKILL, as kill -9)
 * at its Nth crash point: every step of every change can be cut short
 * on purpose (selftests/test_crash.sh).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

void tdm_crash_point(struct tdm_ctx *ctx)
{
	if (ctx->crash_at && ++ctx->crash_steps == ctx->crash_at)
		kill(getpid(), SIGKILL);
}

int tdm_journal_begin(struct tdm_ctx *ctx, const struct tdm_journal *j)
{
	__u32 key = 0;
	int err;

	/* a change of this ctx that failed half way goes first */
	err = ctx->journal_recover(ctx);
	if (err)
		return err;
	if (bpf_map_update_elem(ctx->journal_fd, &key, j, BPF_ANY))
		return tdm_err(ctx, errno, "writing the journal: %s",
			       strerror(errno));
	tdm_crash_point(ctx);
	return 0;
}

int tdm_journal_end(struct tdm_ctx *ctx)
{
	struct tdm_journal none = {};
	__u32 key = 0;

	tdm_crash_point(ctx);
	if (bpf_map_update_elem(ctx->journal_fd, &key, &none, BPF_ANY))
		return tdm_err(ctx, errno, "clearing the journal: %s",
			       strerror(errno));
	return 0;
}

int tdm_journal_pending(struct tdm_ctx *ctx)
{
	struct tdm_journal j;
	__u32 key = 0;

	if (bpf_map_lookup_elem(ctx->journal_fd, &key, &j))
		return tdm_err(ctx, errno, "reading the journal: %s",
			       strerror(errno));
	return j.op != TDM_J_NONE;
}
