// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Module mode: tandem_sched.ko (Documentation/kmod.rst) weighs the
 * supervised process NFs from kernel events, and tandemd only tells it
 * which NFs there are, where their cgroup weight files are and which
 * process serves each.
 *
 * The device stays open for the daemon's lifetime: the module drops an
 * opener's NFs when its file is closed (an exit, kill -9 included), and
 * the datapath then decides backpressure by itself again. At start and
 * at each supervisor sync round km_detect() opens the device if it is
 * not open yet, or sees that it went away; procs.c switches between
 * polling and module mode on what it says. An NF whose registration
 * fails stays with the polling scheduler; each NF's error is logged
 * once, not every round.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "tandemd.h"

struct kreg {
	bool reg;			/* registered with the module */
	char name[TDM_NAME_LEN];	/* what it was registered as */
	__u64 cpus;
	unsigned int pinned;
	pid_t pid;			/* told to the module */
	int err;			/* the last error, logged once */
};

static struct {
	int fd;				/* /dev/tandem_sched; -1: none */
	int xsks_fd, queues_fd;		/* the pinned maps */
	int open_err;			/* the last open error, logged once */
	bool started;
	struct kreg nfs[TDM_MAX_NFS];
} km = { .fd = -1, .xsks_fd = -1, .queues_fd = -1 };

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Close the device: the module forgets every NF of ours at once. */
static void km_close(void)
{
	close_fd(&km.fd);
	close_fd(&km.xsks_fd);
	close_fd(&km.queues_fd);
	memset(km.nfs, 0, sizeof(km.nfs));
}

/* err for NF name, logged when it differs from the last one */
static void nf_err(struct kreg *k, const char *name, const char *what, int err)
{
	if (err && err != k->err)
		tlog(LOG_WARNING, "nf %s: tandem_sched: %s: %s%s", name, what,
		     strerror(-err), !strcmp(what, "register") ?
		     "; tandemd weighs it" : "");
	k->err = err;
}

bool km_detect(void)
{
	struct tdm_sched_info info;
	int fd, err;

	if (km.fd >= 0) {
		err = tdm_kmod_info(km.fd, &info);
		if (!err)
			return true;
		tlog(LOG_NOTICE, "tandem_sched: %s: back to polling",
		     strerror(-err));
		km_close();
		km.open_err = err;
		return false;
	}
	fd = tdm_kmod_open();
	if (fd < 0) {
		/* ENOENT: not loaded, the usual case, said at start only */
		if (fd != km.open_err && (fd != -ENOENT || !km.started))
			tlog(fd == -ENOENT ? LOG_INFO : LOG_WARNING,
			     "tandem_sched: %s: %s; tandemd polls the queues",
			     TDM_SCHED_DEV, strerror(-fd));
		km.open_err = fd;
		km.started = true;
		return false;
	}
	km.started = true;
	err = tdm_kmod_info(fd, &info);
	if (!err && info.version != TDM_SCHED_VERSION)
		err = -EPROTO;
	if (!err) {
		km.xsks_fd = tdm_pinned_map("tdm_xsks");
		km.queues_fd = tdm_pinned_map("tdm_nf_queues");
		err = km.xsks_fd < 0 ? km.xsks_fd :
		      km.queues_fd < 0 ? km.queues_fd : 0;
	}
	km.fd = fd;
	if (err) {
		if (err != km.open_err)
			tlog(LOG_WARNING, "tandem_sched: %s; tandemd polls the queues",
			     strerror(-err));
		km_close();
		km.open_err = err;
		return false;
	}
	tlog(LOG_NOTICE, "tandem_sched: loaded (interface %u): the module weighs the process NFs",
	     info.version);
	km.open_err = 0;
	return true;
}

bool km_active(void)
{
	return km.fd >= 0;
}

static void unregister(__u32 id)
{
	struct kreg *k = &km.nfs[id];
	int err;

	if (!k->reg)
		return;
	err = tdm_kmod_unregister(km.fd, id);
	if (err && err != -ENOENT)
		tlog(LOG_WARNING, "nf %s: tandem_sched: unregister: %s",
		     k->name, strerror(-err));
	memset(k, 0, sizeof(*k));
}

static void do_register(const struct km_nf *nf)
{
	struct kreg *k = &km.nfs[nf->id];
	struct tdm_sched_reg r = {
		.nf_id = nf->id,
		.xsks_fd = km.xsks_fd,
		.queues_fd = km.queues_fd,
		.weight_fd = -1,
		.pid = nf->pid,
		.weight = nf->pinned,
		.cpus = nf->cpus,
	};
	int kind, err;

	r.weight_fd = cg_weight_open(nf->name, &kind);
	if (r.weight_fd >= 0)
		r.weight_kind = kind == CG_V2 ? TDM_SCHED_WEIGHT_V2 :
						TDM_SCHED_WEIGHT_V1;
	else
		r.weight_fd = -1;	/* no cpu controller: backpressure only */
	err = tdm_kmod_register(km.fd, &r);
	if (r.weight_fd >= 0)
		close(r.weight_fd);	/* the module holds its own reference */
	nf_err(k, nf->name, "register", err);
	if (err)
		return;
	k->reg = true;
	snprintf(k->name, sizeof(k->name), "%s", nf->name);
	k->cpus = nf->cpus;
	k->pinned = nf->pinned;
	k->pid = nf->pid;
}

void km_sync(const struct km_nf *nfs, int n, bool retry)
{
	bool want[TDM_MAX_NFS] = {};
	int i, err;

	if (km.fd < 0)
		return;
	for (i = 0; i < n; i++) {
		const struct km_nf *nf = &nfs[i];
		struct kreg *k = &km.nfs[nf->id];

		want[nf->id] = true;
		/* another NF in the slot, or new parameters: again */
		if (k->reg && (strcmp(k->name, nf->name) ||
			       k->cpus != nf->cpus || k->pinned != nf->pinned))
			unregister(nf->id);
		if (!k->reg) {
			/* a failed one is tried again at sync rounds only;
			 * its cgroup is there once its process started */
			if ((k->err && !retry) || !nf->pid)
				continue;
			do_register(nf);
			continue;
		}
		if (k->pid == nf->pid)
			continue;
		err = tdm_kmod_set_pid(km.fd, nf->id, nf->pid);
		nf_err(k, nf->name, "set pid", err);
		if (!err)
			k->pid = nf->pid;
	}
	for (i = 0; i < TDM_MAX_NFS; i++)
		if (!want[i])
			unregister(i);
}

bool km_registered(__u32 id)
{
	return km.fd >= 0 && id < TDM_MAX_NFS && km.nfs[id].reg;
}

int km_get(__u32 id, struct tdm_sched_state *st)
{
	if (!km_registered(id))
		return -ENOENT;
	return tdm_kmod_get(km.fd, id, st);
}

void km_stop(void)
{
	km_close();
}
