// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Devices: the entry program attached with a bpf_link, pinned so that it
 * outlives the process that attached it, and the device's default chain.
 */
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_link.h>

#include "internal.h"
#include "bpf/entry.skel.h"

int tdm_ifindex(struct tdm_ctx *ctx, const char *dev, __u32 *ifindex)
{
	if (!dev || !*dev)
		return tdm_err(ctx, EINVAL, "no device given");
	if (strlen(dev) >= IF_NAMESIZE)
		return tdm_err(ctx, ENODEV, "device '%s' does not exist", dev);
	*ifindex = if_nametoindex(dev);
	if (!*ifindex)
		return tdm_err(ctx, ENODEV, "device '%s' does not exist", dev);
	return 0;
}

/* The cookie of our network namespace (SO_NETNS_COOKIE, Linux 5.14). */
static __u64 netns_cookie(void)
{
	__u64 cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len);
		close(fd);
	}
	return cookie;
}

/*
 * ifindex of dev, refusing a device whose record belongs to another
 * network namespace: ifindexes repeat across namespaces, and one pin
 * directory serves one namespace.
 */
int tdm_dev_ifindex(struct tdm_ctx *ctx, const char *dev, __u32 *ifindex)
{
	struct tdm_dev d;
	int err;

	err = tdm_ifindex(ctx, dev, ifindex);
	if (err)
		return err;
	if (!bpf_map_lookup_elem(ctx->devs_fd, ifindex, &d) && d.netns &&
	    d.netns != netns_cookie())
		return tdm_err(ctx, EBUSY,
			       "ifindex %u is tandem's device '%s' in another network namespace; one pin directory serves one namespace (see TANDEM_PIN_ROOT)",
			       *ifindex, d.name);
	return 0;
}

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

static void link_pin_path(__u32 ifindex, char *buf, size_t size)
{
	snprintf(buf, size, "%s/links/dev_%u", tdm_pin_root(), ifindex);
}

/* fd of our pinned link for ifindex if it is live on the device, else -1 */
static int our_link(__u32 ifindex, __u32 *prog_id)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	link_pin_path(ifindex, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    info.type != BPF_LINK_TYPE_XDP || info.xdp.ifindex != ifindex) {
		close(fd);
		return -1;
	}
	if (prog_id)
		*prog_id = info.prog_id;
	return fd;
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

static int dev_slot_alloc(struct tdm_ctx *ctx, __u32 *slot)
{
	bool used[TDM_MAX_DEVS] = {};
	struct tdm_dev d;
	__u32 key, *prev = NULL, i;

	while (!bpf_map_get_next_key(ctx->devs_fd, prev, &key)) {
		if (!bpf_map_lookup_elem(ctx->devs_fd, &key, &d) &&
		    d.slot < TDM_MAX_DEVS)
			used[d.slot] = true;
		prev = &key;
	}
	for (i = 0; i < TDM_MAX_DEVS; i++) {
		if (!used[i]) {
			*slot = i;
			return 0;
		}
	}
	return tdm_err(ctx, ENOSPC, "no room for another device (at most %d)",
		       TDM_MAX_DEVS);
}

/* Write the device record; a new device gets a slot and fresh counters. */
static int dev_write(struct tdm_ctx *ctx, __u32 ifindex, __u32 chain,
		     __u32 mode, struct tdm_dev *out)
{
	struct tdm_dev d = {};
	char name[IF_NAMESIZE] = "";
	int err;

	if (bpf_map_lookup_elem(ctx->devs_fd, &ifindex, &d)) {
		memset(&d, 0, sizeof(d));
		err = dev_slot_alloc(ctx, &d.slot);
		if (err)
			return err;
		err = tdm_percpu_zero(ctx, ctx->dev_stats_fd, d.slot,
				      sizeof(struct tdm_dev_stats));
		if (err)
			return err;
	}
	if_indextoname(ifindex, name);
	snprintf(d.name, sizeof(d.name), "%s", name);
	d.ifindex = ifindex;
	d.netns = netns_cookie();
	d.default_chain = chain;
	if (mode)
		d.mode = mode;
	err = tdm_steer_summary(ctx, ifindex, &d);
	if (err)
		return err;
	/* a hash update replaces the element atomically for the datapath */
	if (bpf_map_update_elem(ctx->devs_fd, &ifindex, &d, BPF_ANY))
		return tdm_err(ctx, errno, "writing device %s: %s", name,
			       strerror(errno));
	if (out)
		*out = d;
	return 0;
}

int tdm_dev_refresh(struct tdm_ctx *ctx, __u32 ifindex)
{
	struct tdm_dev d;

	if (bpf_map_lookup_elem(ctx->devs_fd, &ifindex, &d))
		return 0;	/* not attached: counted when it is */
	return dev_write(ctx, ifindex, d.default_chain, 0, NULL);
}

int tdm_dev_register(struct tdm_ctx *ctx, __u32 ifindex, const char *chain,
		     __u32 *slot)
{
	__u32 chain_id = TDM_CHAIN_NONE;
	struct tdm_dev d;
	int id, err;

	if (chain) {
		id = tdm_chain_lookup(ctx, chain, NULL);
		if (id < 0)
			return id;
		chain_id = id;
	}
	err = dev_write(ctx, ifindex, chain_id, 0, &d);
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
	__u32 ifindex, chain_id = TDM_CHAIN_NONE, flags = 0, foreign_id = 0;
	int id, err, fd, prog_fd, link_fd, foreign_fd = -1, was_link = 0;
	struct bpf_prog_info pi = {};
	char path[PATH_MAX];
	struct tdm_dev d;
	bool existed;

	err = tdm_dev_ifindex(ctx, dev, &ifindex);
	if (err)
		return err;
	if (chain) {
		id = tdm_chain_lookup(ctx, chain, NULL);
		if (id < 0)
			return id;
		chain_id = id;
	}

	fd = our_link(ifindex, NULL);
	if (fd >= 0) {
		/* already ours: only the default chain changes */
		close(fd);
		if (!bpf_map_lookup_elem(ctx->devs_fd, &ifindex, &d) &&
		    ((mode == TDM_MODE_NATIVE && d.mode != XDP_FLAGS_DRV_MODE) ||
		     (mode == TDM_MODE_GENERIC && d.mode != XDP_FLAGS_SKB_MODE)))
			return tdm_err(ctx, EBUSY,
				       "%s is attached in %s mode; detach it first to change the mode",
				       dev, tdm_mode_name(d.mode));
		return dev_write(ctx, ifindex, chain_id, 0, NULL);
	}

	if (bpf_xdp_query(ifindex, 0, &q))
		return tdm_err(ctx, errno, "querying XDP on %s: %s", dev,
			       strerror(errno));
	if (q.attach_mode != XDP_ATTACHED_NONE) {
		__u32 len = sizeof(pi);

		foreign_id = q.prog_id ? q.prog_id :
			     q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
		foreign_fd = bpf_prog_get_fd_by_id(foreign_id);
		if (foreign_fd >= 0)
			bpf_obj_get_info_by_fd(foreign_fd, &pi, &len);
		if (!force) {
			if (foreign_fd >= 0)
				close(foreign_fd);
			return tdm_err(ctx, EBUSY,
				       "%s already has an XDP program attached (id %u, name '%s'); use --force to replace it",
				       dev, foreign_id, pi.name);
		}
	}

	existed = !bpf_map_lookup_elem(ctx->devs_fd, &ifindex, &d);
	err = dev_write(ctx, ifindex, chain_id, 0, &d);
	if (err)
		goto err_foreign;
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
	}
	link_fd = link_create(ctx, dev, prog_fd, ifindex, mode, &flags);
	close(prog_fd);
	if (link_fd < 0) {
		err = link_fd;
		goto err_restore;
	}
	snprintf(path, sizeof(path), "%s/links", tdm_pin_root());
	mkdir(path, 0700);
	link_pin_path(ifindex, path, sizeof(path));
	unlink(path);	/* a stale pin of a device that went away */
	if (bpf_obj_pin(link_fd, path)) {
		err = tdm_err(ctx, errno, "pinning the link at %s: %s", path,
			      strerror(errno));
		close(link_fd);	/* detaches */
		goto err_restore;
	}
	close(link_fd);
	if (foreign_fd >= 0)
		close(foreign_fd);
	d.mode = flags;
	return dev_write(ctx, ifindex, chain_id, flags, NULL);

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
	if (!existed)
		bpf_map_delete_elem(ctx->devs_fd, &ifindex);
err_foreign:
	if (foreign_fd >= 0)
		close(foreign_fd);
	return err;
}

/* The record of a device that no longer exists, found by its old name. */
static int gone_dev_ifindex(struct tdm_ctx *ctx, const char *dev,
			    __u32 *ifindex)
{
	__u32 key, *prev = NULL;
	struct tdm_dev d;

	while (!bpf_map_get_next_key(ctx->devs_fd, prev, &key)) {
		prev = &key;
		if (!bpf_map_lookup_elem(ctx->devs_fd, &key, &d) &&
		    !strncmp(d.name, dev, sizeof(d.name)) &&
		    (!d.netns || d.netns == netns_cookie())) {
			*ifindex = key;
			return 0;
		}
	}
	return -ENOENT;
}

int tdm_dev_detach(struct tdm_ctx *ctx, const char *dev)
{
	char path[PATH_MAX];
	__u32 ifindex;
	struct tdm_dev d;
	bool gone;
	int err, fd;

	err = tdm_dev_ifindex(ctx, dev, &ifindex);
	if (err == -EBUSY)
		return err;
	gone = err;
	/* the name may now belong to a new device: try the old record */
	if (!err && bpf_map_lookup_elem(ctx->devs_fd, &ifindex, &d) &&
	    !gone_dev_ifindex(ctx, dev, &ifindex))
		gone = true;
	else if (err && gone_dev_ifindex(ctx, dev, &ifindex))
		return err;
	link_pin_path(ifindex, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0 && bpf_map_lookup_elem(ctx->devs_fd, &ifindex, &d))
		return tdm_err(ctx, ENOENT, "tandem is not attached to %s", dev);
	if (fd >= 0) {
		bpf_link_detach(fd);
		close(fd);
		unlink(path);
	}
	bpf_map_delete_elem(ctx->devs_fd, &ifindex);
	/* a removed device's steering entries can never apply again */
	return gone ? tdm_steer_flush(ctx, ifindex) : 0;
}

int tdm_dev_list(struct tdm_ctx *ctx, struct tdm_dev_status **out, int *n)
{
	struct tdm_dev_status *v = NULL;
	__u32 key, *prev = NULL;
	int cnt = 0;

	while (!bpf_map_get_next_key(ctx->devs_fd, prev, &key)) {
		struct tdm_dev_status st = {};
		void *p;
		int fd;

		prev = &key;
		if (bpf_map_lookup_elem(ctx->devs_fd, &key, &st.dev))
			continue;
		fd = our_link(key, &st.prog_id);
		st.attached = fd >= 0;
		st.elsewhere = st.dev.netns && st.dev.netns != netns_cookie();
		if (fd >= 0)
			close(fd);
		p = realloc(v, (cnt + 1) * sizeof(*v));
		if (!p) {
			free(v);
			return tdm_err(ctx, ENOMEM, "out of memory");
		}
		v = p;
		v[cnt++] = st;
	}
	*out = v;
	*n = cnt;
	return 0;
}
