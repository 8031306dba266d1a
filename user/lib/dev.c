// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Devices: the entry program attached with a bpf_link, pinned so that it
 * outlives the process that attached it, and the device's default chain.
 * The records themselves are devrec.c's; their writes, with the steering
 * counts, steer.c's.
 */
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/if_link.h>

#include "internal.h"
#include "bpf/entry.skel.h"

const char *tdm_mode_name(__u32 xdp_flags)
{
	if (xdp_flags & XDP_FLAGS_SKB_MODE)
		return "generic";
	if (xdp_flags & XDP_FLAGS_DRV_MODE)
		return "native";
	if (xdp_flags & XDP_FLAGS_HW_MODE)
		return "offload";
	return "?";
}

int tdm_entry_load(struct tdm_ctx *ctx, __u32 dev_slot)
{
	struct bpf_object_open_opts opts;
	struct tdm_entry *s;
	int fd, err;

	tdm_skel_opts(&opts);
	s = tdm_entry__open_opts(&opts);
	if (!s)
		return tdm_err(ctx, errno, "opening the entry program: %s",
			       strerror(errno));
	s->rodata->tdm_dev_slot = dev_slot;
	err = tdm_entry__load(s);
	if (err) {
		tdm_entry__destroy(s);
		return tdm_err(ctx, err, "loading the entry program: %s",
			       strerror(-err));
	}
	fd = fcntl(bpf_program__fd(s->progs.tdm_entry), F_DUPFD_CLOEXEC, 0);
	tdm_entry__destroy(s);
	if (fd < 0)
		return tdm_err(ctx, errno, "dup: %s", strerror(errno));
	return fd;
}

static int dev_new(struct tdm_ctx *ctx, __u32 ifindex, __u32 chain,
		   struct tdm_dev *d)
{
	return tdm_dev_init(ctx, ifindex, chain, d) ?: tdm_dev_write(ctx, d);
}

/*
 * Forget the records of devices that are gone: deleted while attached
 * (their link says ifindex 0), or known only by an ifindex of ours that
 * no longer exists. Nothing of theirs can ever apply again, and their
 * slots are free for new devices.
 */
int tdm_dev_gc(struct tdm_ctx *ctx)
{
	struct tdm_dev_status *v;
	int n, i, err = 0;

	if (tdm_dev_list(ctx, &v, &n))
		return -ENOMEM;
	for (i = 0; i < n && !err; i++) {
		if (v[i].state != TDM_DEV_GONE &&
		    !(v[i].state == TDM_DEV_DETACHED && !v[i].ifindex_now))
			continue;
		err = tdm_dev_forget(ctx, &v[i].dev);
		if (!err && ctx->ngone < TDM_MAX_DEVS)
			memcpy(ctx->gone[ctx->ngone++], v[i].dev.name,
			       sizeof(ctx->gone[0]));
	}
	free(v);
	return err;
}

int tdm_dev_register(struct tdm_ctx *ctx, __u32 ifindex, const char *chain,
		     __u32 *slot)
{
	char name[IF_NAMESIZE];
	__u32 chain_id = TDM_CHAIN_NONE;
	struct tdm_dev d;
	int id, err;

	if (chain) {
		id = tdm_chain_lookup(ctx, chain, NULL);
		if (id < 0)
			return id;
		chain_id = id;
	}
	if (!if_indextoname(ifindex, name))
		return tdm_err(ctx, ENODEV, "no device of ifindex %u", ifindex);
	err = tdm_dev_find(ctx, name, &d);
	if (err == -ENOENT)
		err = dev_new(ctx, ifindex, chain_id, &d);
	else if (!err) {
		d.default_chain = chain_id;
		err = tdm_dev_write(ctx, &d);
	}
	if (!err && slot)
		*slot = d.slot;
	return err;
}

/*
 * Remove the XDP program prog_id from ifindex. It is the one bpf_xdp_query
 * reported in our network namespace: ifindexes repeat across namespaces,
 * program ids do not, so a link is matched by both. Returns 1 if it was a
 * link (gone for good), 0 if a netlink attach (which can be restored).
 */
static int detach_foreign(struct tdm_ctx *ctx, const char *dev, __u32 ifindex,
			  __u32 prog_id, __u32 attach_mode)
{
	__u32 id = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.type == BPF_LINK_TYPE_XDP &&
		    info.xdp.ifindex == ifindex && info.prog_id == prog_id) {
			int err = bpf_link_detach(fd);

			close(fd);
			if (err)
				return tdm_err(ctx, errno,
					       "detaching the XDP link on %s: %s",
					       dev, strerror(errno));
			return 1;
		}
		close(fd);
	}
	if (bpf_xdp_detach(ifindex, attach_mode == XDP_ATTACHED_SKB ?
				    XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE,
			   NULL))
		return tdm_err(ctx, errno, "detaching the XDP program on %s: %s",
			       dev, strerror(errno));
	return 0;
}

static int link_create(struct tdm_ctx *ctx, const char *dev, int prog_fd,
		       __u32 ifindex, enum tdm_attach_mode mode,
		       __u32 *flags_out)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	int fd;

	if (mode != TDM_MODE_GENERIC) {
		opts.flags = XDP_FLAGS_DRV_MODE;
		fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
		if (fd >= 0) {
			*flags_out = XDP_FLAGS_DRV_MODE;
			return fd;
		}
		if (mode == TDM_MODE_NATIVE)
			return tdm_err(ctx, errno,
				       "attaching to %s in native mode failed: %s (try 'mode generic')",
				       dev, strerror(errno));
	}
	opts.flags = XDP_FLAGS_SKB_MODE;
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	if (fd < 0)
		return tdm_err(ctx, errno, "attaching to %s failed: %s", dev,
			       strerror(errno));
	*flags_out = XDP_FLAGS_SKB_MODE;
	return fd;
}

int tdm_dev_attach(struct tdm_ctx *ctx, const char *dev, const char *chain,
		   enum tdm_attach_mode mode, bool force)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct tdm_journal j = { .op = TDM_J_DEV_ATTACH };
	__u32 ifindex, chain_id = TDM_CHAIN_NONE, flags = 0, foreign_id = 0;
	int id, err, prog_fd, link_fd, foreign_fd = -1, was_link = 0;
	struct bpf_link_info li = {};
	struct bpf_prog_info pi = {};
	struct tdm_dev_status st;
	__u32 len = sizeof(li);
	char path[PATH_MAX];
	struct tdm_dev d;
	bool existed;

	err = tdm_ifindex(ctx, dev, &ifindex);
	if (err)
		return err;
	if (chain) {
		id = tdm_chain_lookup(ctx, chain, NULL);
		if (id < 0)
			return id;
		chain_id = id;
	}
	err = tdm_dev_lookup(ctx, dev, &st);
	if (err && err != -ENOENT)
		return err;
	existed = !err;
	if (existed && st.state == TDM_DEV_ATTACHED) {
		/* already ours: only the default chain changes */
		if ((mode == TDM_MODE_NATIVE && st.dev.mode != XDP_FLAGS_DRV_MODE) ||
		    (mode == TDM_MODE_GENERIC && st.dev.mode != XDP_FLAGS_SKB_MODE))
			return tdm_err(ctx, EBUSY,
				       "%s is attached in %s mode; detach it first to change the mode",
				       dev, tdm_mode_name(st.dev.mode));
		st.dev.default_chain = chain_id;
		return tdm_dev_write(ctx, &st.dev);
	}

	if (bpf_xdp_query(ifindex, 0, &q))
		return tdm_err(ctx, errno, "querying XDP on %s: %s", dev,
			       strerror(errno));
	if (q.attach_mode != XDP_ATTACHED_NONE) {
		__u32 plen = sizeof(pi);

		foreign_id = q.prog_id ? q.prog_id :
			     q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
		foreign_fd = bpf_prog_get_fd_by_id(foreign_id);
		if (foreign_fd >= 0)
			bpf_obj_get_info_by_fd(foreign_fd, &pi, &plen);
		if (!force) {
			if (foreign_fd >= 0)
				close(foreign_fd);
			return tdm_err(ctx, EBUSY,
				       "%s already has an XDP program attached (id %u, name '%s'); use --force to replace it",
				       dev, foreign_id, pi.name);
		}
	}

	/* the record first (not attached: the datapath does not see it) */
	if (existed) {
		d = st.dev;
		snprintf(d.name, sizeof(d.name), "%s", dev);
		d.ifindex = ifindex;
		d.default_chain = chain_id;
		d.link_id = 0;
	} else {
		err = tdm_dev_init(ctx, ifindex, chain_id, &d);
		if (err)
			goto err_foreign;
	}
	j.dev = d.slot;
	j.flag = !existed;
	err = tdm_journal_begin(ctx, &j);
	if (err)
		goto err_foreign;
	err = tdm_dev_put(ctx, &d);
	if (err)
		goto err_dev;
	/* everything that can fail before touching the device, first */
	prog_fd = tdm_entry_load(ctx, d.slot);
	if (prog_fd < 0) {
		err = prog_fd;
		goto err_dev;
	}
	if (foreign_id) {
		was_link = detach_foreign(ctx, dev, ifindex, foreign_id,
					  q.attach_mode);
		if (was_link < 0) {
			err = was_link;
			close(prog_fd);
			goto err_dev;
		}
		tdm_crash_point(ctx);
	}
	link_fd = link_create(ctx, dev, prog_fd, ifindex, mode, &flags);
	close(prog_fd);
	if (link_fd < 0) {
		err = link_fd;
		goto err_restore;
	}
	tdm_crash_point(ctx);	/* our death closes the link: detached */
	/*
	 * The record names the link before the pin makes it last: the
	 * datapath reads neither field, and recovery keeps the attach only
	 * if the pinned link is this one.
	 */
	bpf_obj_get_info_by_fd(link_fd, &li, &len);
	d.mode = flags;
	d.link_id = li.id;
	err = tdm_dev_put(ctx, &d);
	if (err) {
		close(link_fd);	/* detaches */
		goto err_restore;
	}
	tdm_dev_link_path(d.slot, path, sizeof(path));
	unlink(path);	/* a stale pin of a device that went away */
	if (bpf_obj_pin(link_fd, path)) {
		err = tdm_err(ctx, errno, "pinning the link at %s: %s", path,
			      strerror(errno));
		close(link_fd);	/* detaches */
		goto err_restore;
	}
	/* attached: the pin is what says so (tdm_dev_state()) */
	tdm_crash_point(ctx);
	close(link_fd);
	if (foreign_fd >= 0)
		close(foreign_fd);
	return tdm_journal_end(ctx);

err_restore:
	/* put the program we removed back, if it was not a link */
	if (foreign_id && !was_link && foreign_fd >= 0 &&
	    bpf_xdp_attach(ifindex, foreign_fd,
			   q.attach_mode == XDP_ATTACHED_SKB ?
			   XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE, NULL))
		snprintf(ctx->err + strlen(ctx->err),
			 sizeof(ctx->err) - strlen(ctx->err),
			 "; and restoring program %u failed", foreign_id);
	else if (foreign_id && was_link)
		snprintf(ctx->err + strlen(ctx->err),
			 sizeof(ctx->err) - strlen(ctx->err),
			 "; the XDP link of program %u was detached and cannot be restored",
			 foreign_id);
err_dev:
	/* the record as it was: none, or the detached one */
	if (!existed) {
		tdm_dev_route(ctx, d.slot, TDM_ROUTE_RECORD);
		bpf_map_delete_elem(ctx->devs_fd, &d.slot);
	} else
		tdm_dev_put(ctx, &st.dev);
	tdm_journal_end(ctx);
err_foreign:
	if (foreign_fd >= 0)
		close(foreign_fd);
	return err;
}

/*
 * Take slot's link away, if pinned: the pin first, so that our death
 * (which closes the fd) completes the detach; then detach it.
 */
static int link_unpin(struct tdm_ctx *ctx, __u32 slot)
{
	char path[PATH_MAX];
	int fd, err = 0;

	tdm_dev_link_path(slot, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	unlink(path);
	tdm_crash_point(ctx);
	/* the commit point: the device stops running the entry */
	if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL)
		err = tdm_err(ctx, errno, "detaching slot %u: %s", slot,
			      strerror(errno));
	close(fd);
	tdm_crash_point(ctx);
	return err;
}

/*
 * The record of slot says it has no link, and no default chain: the
 * next attach names one, and a detached device holds no chain.
 */
int tdm_dev_forget_unused(struct tdm_ctx *ctx, __u32 slot)
{
	struct tdm_dev d;
	int err;

	if (bpf_map_lookup_elem(ctx->devs_fd, &slot, &d))
		return 0;
	err = tdm_steer_summary(ctx, slot, &d);
	if (err || d.link_id || d.nflows || d.nrules)
		return err;
	return tdm_dev_forget(ctx, &d);
}

static int dev_unlinked(struct tdm_ctx *ctx, __u32 slot)
{
	struct tdm_dev d;

	if (bpf_map_lookup_elem(ctx->devs_fd, &slot, &d))
		return 0;
	d.link_id = 0;
	d.mode = 0;
	d.default_chain = TDM_CHAIN_NONE;
	return tdm_dev_put(ctx, &d);
}

int tdm_dev_detach_recover(struct tdm_ctx *ctx, __u32 slot, bool forget)
{
	struct tdm_dev d;
	int err = link_unpin(ctx, slot);

	if (err)
		return err;
	if (!forget)
		return dev_unlinked(ctx, slot);
	if (bpf_map_lookup_elem(ctx->devs_fd, &slot, &d))
		return 0;
	return tdm_dev_forget(ctx, &d);
}

/*
 * The attach is kept if its link got pinned and holds a device, wherever
 * that device is now and whichever namespace recovers: the record, with
 * the link's id and mode, was written before the pin.
 */
int tdm_dev_attach_recover(struct tdm_ctx *ctx, __u32 slot, bool created)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	struct tdm_dev d;
	bool linked;
	int fd;

	if (bpf_map_lookup_elem(ctx->devs_fd, &slot, &d))
		return link_unpin(ctx, slot);	/* no record to keep */
	tdm_dev_link_path(slot, path, sizeof(path));
	fd = bpf_obj_get(path);
	linked = fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) &&
		 info.type == BPF_LINK_TYPE_XDP && info.xdp.ifindex &&
		 info.id == d.link_id;
	if (fd >= 0)
		close(fd);
	return linked ? 0 : tdm_dev_detach_recover(ctx, slot, created);
}

/*
 * Detach the device called name (tdm_dev_lookup()). Its steering entries
 * stay while the device does, for the next attach; a device that moved
 * away or is gone is forgotten with them.
 */
/* keep: the record stays, even without steering entries (a re-attach
 * in another mode keeps the device's slot and counters) */
static int dev_detach(struct tdm_ctx *ctx, const char *dev, bool keep)
{
	struct tdm_journal j = { .op = TDM_J_DEV_DETACH };
	struct tdm_dev_status st;
	int err, i;

	err = tdm_dev_lookup(ctx, dev, &st);
	for (i = 0; err == -ENODEV && i < ctx->ngone; i++)
		if (!strncmp(ctx->gone[i], dev, sizeof(ctx->gone[i])))
			return 0;	/* gone, and forgotten as we opened */
	if (err)
		return err;
	if (st.state == TDM_DEV_DETACHED && st.ifindex_now)
		return tdm_err(ctx, ENOENT, "tandem is not attached to %s", dev);
	if (st.state == TDM_DEV_ATTACHED &&
	    (st.renamed || st.dev.ifindex != st.ifindex_now)) {
		/* detached, it is known by name and ifindex: the ones now */
		snprintf(st.dev.name, sizeof(st.dev.name), "%s", st.name_now);
		st.dev.ifindex = st.ifindex_now;
		err = tdm_dev_put(ctx, &st.dev);
		if (err)
			return err;
	}
	j.dev = st.dev.slot;
	j.flag = !keep && (st.state != TDM_DEV_ATTACHED ||
			   !(st.dev.nflows || st.dev.nrules));
	err = tdm_journal_begin(ctx, &j);
	if (!err)
		err = tdm_dev_detach_recover(ctx, st.dev.slot, j.flag);
	/* on error the journal stays: the next open finishes the detach */
	return err ?: tdm_journal_end(ctx);
}

int tdm_dev_detach(struct tdm_ctx *ctx, const char *dev)
{
	return dev_detach(ctx, dev, false);
}

int tdm_dev_detach_keep(struct tdm_ctx *ctx, const char *dev)
{
	return dev_detach(ctx, dev, true);
}
