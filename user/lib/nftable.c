// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * An NF instance's own table: a hash map of the size its parameters
 * name, made when the NF is, pinned as <pin root>/<prefix><id> and put in
 * slot id of the NF type's map of maps, where the datapath finds it
 * (conntrack's flows, nat's bindings). Typed with the BTF of a BPF
 * object of ours, which defines every NF's key and value types, so that
 * bpftool prints the entries.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "internal.h"
#include "bpf/ct_egress.skel.h"

static void table_pin(const struct tdm_nf_table *t, __u32 id, char *buf,
		      size_t size)
{
	snprintf(buf, size, "%s/%s%u", tdm_pin_root(), t->pin_prefix, id);
}

/* A new map of size entries, typed; its fd or -errno with the error set */
static int table_make(struct tdm_ctx *ctx, const struct tdm_nf_table *t,
		      __u32 size)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	struct bpf_object_open_opts oopts;
	struct tdm_ct_egress *s;
	struct btf *btf;
	int key, val, fd, err;

	/* the smallest of our objects; its BTF has every NF's types */
	tdm_skel_opts(&oopts);
	s = tdm_ct_egress__open_opts(&oopts);
	if (!s)
		return tdm_err(ctx, errno, "%s: opening a BPF object: %s",
			       t->nf, strerror(errno));
	btf = bpf_object__btf(s->obj);
	/* an array's key is a __u32 (key_type NULL) */
	key = !btf ? -ENOENT :
	      t->key_type ? btf__find_by_name_kind(btf, t->key_type,
						   BTF_KIND_STRUCT) :
	      btf__find_by_name_kind(btf, "__u32", BTF_KIND_TYPEDEF);
	val = btf ? btf__find_by_name_kind(btf, t->value_type,
					   BTF_KIND_STRUCT) : -ENOENT;
	err = key <= 0 || val <= 0 ? -ENOENT : btf__load_into_kernel(btf);
	if (err) {
		tdm_ct_egress__destroy(s);
		return tdm_err(ctx, -err, "%s: the BTF of its table: %s",
			       t->nf, strerror(-err));
	}
	opts.btf_fd = btf__fd(btf);
	opts.map_flags = t->map_flags;
	opts.btf_key_type_id = key;
	opts.btf_value_type_id = val;
	fd = bpf_map_create(t->type, t->map_name, t->key_size, t->value_size,
			    size, &opts);
	if (fd < 0)
		fd = tdm_err(ctx, errno, "%s: making a table of %u entries: %s",
			     t->nf, size, strerror(errno));
	tdm_ct_egress__destroy(s);
	return fd;
}

int tdm_nf_table_fd(struct tdm_ctx *ctx, const struct tdm_nf_table *t,
		    __u32 id)
{
	int outer = tdm_map_fd(ctx, t->outer), fd;
	__u32 map_id = 0;

	if (outer < 0 || bpf_map_lookup_elem(outer, &id, &map_id) || !map_id)
		return -ENOENT;
	fd = bpf_map_get_fd_by_id(map_id);
	return fd < 0 ? -errno : fd;
}

void tdm_nf_table_destroy(struct tdm_ctx *ctx, const struct tdm_nf_table *t,
			  __u32 id)
{
	int outer = tdm_map_fd(ctx, t->outer);
	char pin[256];

	if (outer >= 0)
		bpf_map_delete_elem(outer, &id);
	table_pin(t, id, pin, sizeof(pin));
	unlink(pin);
}

/*
 * The table first, pinned, then in the map of maps (the datapath finds
 * it there). Whatever a kill leaves, the next create of this id
 * replaces and destroy takes away.
 */
int tdm_nf_table_create(struct tdm_ctx *ctx, const struct tdm_nf_table *t,
			__u32 id, __u32 size)
{
	int outer = tdm_map_fd(ctx, t->outer), fd, err = 0;
	char pin[256];

	tdm_nf_table_destroy(ctx, t, id);
	fd = table_make(ctx, t, size);
	if (fd < 0)
		return fd;
	table_pin(t, id, pin, sizeof(pin));
	if (bpf_obj_pin(fd, pin))
		err = tdm_err(ctx, errno, "%s: pinning %s: %s", t->nf, pin,
			      strerror(errno));
	else if (bpf_map_update_elem(outer, &id, &fd, BPF_ANY))
		err = tdm_err(ctx, errno, "%s: adding its table: %s", t->nf,
			      strerror(errno));
	close(fd);
	if (err)
		tdm_nf_table_destroy(ctx, t, id);
	return err;
}

/*
 * One pass: the next key is read before the current one is deleted (a
 * deleted key sends get_next_key back to the start: quadratic, and
 * endless while the datapath adds entries). What the datapath adds
 * during the pass may stay.
 */
int tdm_nf_table_flush(struct tdm_ctx *ctx, const struct tdm_nf_table *t,
		       __u32 id, const char *name)
{
	char key[128], next[128];
	int fd, err = 0;
	bool more;

	if (t->key_size > sizeof(key))
		return tdm_err(ctx, EINVAL, "%s: key too large", t->nf);
	fd = tdm_nf_table_fd(ctx, t, id);
	if (fd < 0)
		return tdm_err(ctx, -fd, "%s '%s' has no table: %s", t->nf,
			       name, strerror(-fd));
	more = !bpf_map_get_next_key(fd, NULL, key);
	while (more && !err) {
		more = !bpf_map_get_next_key(fd, key, next);
		if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
			err = tdm_err(ctx, errno, "flushing: %s",
				      strerror(errno));
		memcpy(key, next, t->key_size);
	}
	close(fd);
	return err;
}
