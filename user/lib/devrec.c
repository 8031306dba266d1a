// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Device records: the tdm_devs table, a record per device tandem knows
 * (its slot, name, ifindex, namespace, default chain), and where each
 * device is now, from the bpf_link pinned at links/dev_SLOT. Finding,
 * naming and taking records is here; writing one, with its steering
 * counts, is in steer.c, and attaching and detaching in dev.c.
 */
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

const char *tdm_dev_state_name(enum tdm_dev_state s)
{
	switch (s) {
	case TDM_DEV_ATTACHED:
		return "attached";
	case TDM_DEV_DETACHED:
		return "detached";
	case TDM_DEV_MOVED:
		return "moved";
	case TDM_DEV_OTHER_NS:
		return "other-ns";
	default:
		return "gone";
	}
}

void tdm_dev_link_path(__u32 slot, char *buf, size_t size)
{
	snprintf(buf, size, "%s/links/dev_%u", tdm_pin_root(), slot);
}

/*
 * Where the device of record d is now, from the bpf_link that attaches
 * its entry program (pinned at links/dev_SLOT): the link follows the
 * device through renames and namespace moves, and says ifindex 0 once
 * the device is gone. The device is here if the XDP program on that
 * ifindex in our namespace is the link's.
 */
enum tdm_dev_state tdm_dev_state(const struct tdm_dev *d,
				 struct tdm_dev_status *st)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	st->ifindex_now = 0;
	st->name_now[0] = '\0';
	st->prog_id = 0;
	tdm_dev_link_path(d->slot, path, sizeof(path));
	fd = bpf_obj_get(path);
	memset(&info, 0, sizeof(info));
	if (fd >= 0 && (bpf_obj_get_info_by_fd(fd, &info, &len) ||
			info.type != BPF_LINK_TYPE_XDP)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		/*
		 * Not attached: no link to follow the device. It is here if
		 * its ifindex still has its name in the namespace it was in;
		 * another device that took the ifindex is not it.
		 */
		if (d->netns != tdm_netns_cookie())
			return TDM_DEV_OTHER_NS;
		if (if_indextoname(d->ifindex, st->name_now) &&
		    !strncmp(st->name_now, d->name, sizeof(d->name)))
			st->ifindex_now = d->ifindex;
		else
			st->name_now[0] = '\0';
		return TDM_DEV_DETACHED;
	}
	close(fd);
	st->link_id = info.id;
	st->prog_id = info.prog_id;
	if (!info.xdp.ifindex)
		return TDM_DEV_GONE;
	/* program ids are global: ours on that ifindex here is the device */
	if (!bpf_xdp_query(info.xdp.ifindex, 0, &q) &&
	    (q.prog_id == info.prog_id || q.drv_prog_id == info.prog_id ||
	     q.skb_prog_id == info.prog_id) &&
	    if_indextoname(info.xdp.ifindex, st->name_now)) {
		st->ifindex_now = info.xdp.ifindex;
		return TDM_DEV_ATTACHED;
	}
	return d->netns != tdm_netns_cookie() ? TDM_DEV_OTHER_NS : TDM_DEV_MOVED;
}

static int by_slot(const void *a, const void *b)
{
	const struct tdm_dev_status *x = a, *y = b;

	return (x->dev.slot > y->dev.slot) - (x->dev.slot < y->dev.slot);
}

/*
 * Every record, with where its device is now, in slot order (the hash
 * map's own order moves when a record is written again: a listing, a
 * dump, must not); caller frees *out.
 */
int tdm_dev_list(struct tdm_ctx *ctx, struct tdm_dev_status **out, int *n)
{
	struct tdm_dev_status *v = NULL;
	__u32 key, *prev = NULL;
	int cnt = 0;

	while (!bpf_map_get_next_key(ctx->devs_fd, prev, &key)) {
		struct tdm_dev_status st = {};
		void *p;

		prev = &key;
		if (bpf_map_lookup_elem(ctx->devs_fd, &key, &st.dev))
			continue;
		st.state = tdm_dev_state(&st.dev, &st);
		st.attached = st.state == TDM_DEV_ATTACHED;
		st.elsewhere = st.state == TDM_DEV_MOVED ||
			       st.state == TDM_DEV_OTHER_NS;
		st.renamed = st.name_now[0] &&
			     strncmp(st.name_now, st.dev.name,
				     sizeof(st.dev.name));
		p = realloc(v, (cnt + 1) * sizeof(*v));
		if (!p) {
			free(v);
			return tdm_err(ctx, ENOMEM, "out of memory");
		}
		v = p;
		v[cnt++] = st;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), by_slot);
	*out = v;
	*n = cnt;
	return 0;
}

/*
 * The record of the device called name: the device of that name here
 * now (under whatever name tandem took it), else, if no device here has
 * that name, the record of a device tandem took under that name that
 * has since moved away or gone. 0, or -ENOENT, -ENODEV with the error.
 */
int tdm_dev_lookup(struct tdm_ctx *ctx, const char *name,
		   struct tdm_dev_status *out)
{
	struct tdm_dev_status *v;
	__u32 ifindex = 0;
	int n, i, found = -1;

	if (!name || !*name)
		return tdm_err(ctx, EINVAL, "no device given");
	if (strlen(name) < IF_NAMESIZE)
		ifindex = if_nametoindex(name);
	if (tdm_dev_list(ctx, &v, &n))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct tdm_dev_status *st = &v[i];

		if (ifindex && st->ifindex_now == ifindex) {
			/* a record of the device attached wins a stale one */
			if (found < 0 || st->state == TDM_DEV_ATTACHED)
				found = i;
		} else if (found >= 0) {
			continue;
		}
		if (!ifindex && !st->ifindex_now &&
			 !strncmp(st->dev.name, name, sizeof(st->dev.name)) &&
			 st->state != TDM_DEV_OTHER_NS)
			found = i;
	}
	if (found >= 0)
		*out = v[found];
	free(v);
	if (found >= 0)
		return 0;
	if (!ifindex)
		return tdm_err(ctx, ENODEV, "device '%s' does not exist", name);
	return tdm_err(ctx, ENOENT, "tandem is not attached to %s", name);
}

int tdm_dev_find(struct tdm_ctx *ctx, const char *name, struct tdm_dev *d)
{
	struct tdm_dev_status st;
	int err = tdm_dev_lookup(ctx, name, &st);

	if (!err)
		*d = st.dev;
	return err;
}

void tdm_dev_name(struct tdm_ctx *ctx, __u32 slot, char *buf, size_t size)
{
	struct tdm_dev_status st = {};

	if (bpf_map_lookup_elem(ctx->devs_fd, &slot, &st.dev)) {
		snprintf(buf, size, "?");
		return;
	}
	tdm_dev_state(&st.dev, &st);
	snprintf(buf, size, "%s", st.name_now[0] ? st.name_now : st.dev.name);
}

static int dev_slot_alloc(struct tdm_ctx *ctx, __u32 *slot)
{
	struct tdm_dev d;
	__u32 i;

	for (i = 0; i < TDM_MAX_DEVS; i++) {
		if (bpf_map_lookup_elem(ctx->devs_fd, &i, &d)) {
			*slot = i;
			return 0;
		}
	}
	return tdm_err(ctx, ENOSPC, "no room for another device (at most %d)",
		       TDM_MAX_DEVS);
}

/*
 * A new record for ifindex in a free slot, with zeroed counters, not
 * written yet: the caller writes it (tdm_dev_put()) when it commits.
 */
int tdm_dev_init(struct tdm_ctx *ctx, __u32 ifindex, __u32 chain,
		 struct tdm_dev *d)
{
	char name[IF_NAMESIZE] = "";
	int err;

	memset(d, 0, sizeof(*d));
	err = dev_slot_alloc(ctx, &d->slot);
	if (err)
		return err;
	err = tdm_percpu_zero(ctx, ctx->dev_stats_fd, d->slot,
			      sizeof(struct tdm_dev_stats));
	if (err)
		return err;
	if_indextoname(ifindex, name);
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->ifindex = ifindex;
	d->netns = tdm_netns_cookie();
	d->default_chain = chain;
	return 0;
}

int tdm_dev_take(struct tdm_ctx *ctx, const char *name, struct tdm_dev *d,
		 bool *created)
{
	__u32 ifindex;
	int err;

	*created = false;
	err = tdm_dev_find(ctx, name, d);
	if (err != -ENOENT)
		return err;
	err = tdm_ifindex(ctx, name, &ifindex);
	if (err)
		return err;
	*created = true;
	return tdm_dev_init(ctx, ifindex, TDM_CHAIN_NONE, d);
}
