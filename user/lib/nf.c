// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * NF instances: the tdm_nfs table of names, types and parameters.
 * Deleting one (tdm_nf_del()) is in chain.c, which sees the chains.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int tdm_nf_get(struct tdm_ctx *ctx, __u32 id, struct tdm_nf_info *info)
{
	if (id >= TDM_MAX_NFS)
		return -ENOENT;
	if (bpf_map_lookup_elem(ctx->nfs_fd, &id, info)) {
		if (errno == ENOENT)
			return -ENOENT;
		return tdm_err(ctx, errno, "reading NF %u: %s", id,
			       strerror(errno));
	}
	return info->type ? 0 : -ENOENT;
}

int tdm_nf_lookup(struct tdm_ctx *ctx, const char *name,
		  struct tdm_nf_info *info)
{
	struct tdm_nf_info tmp;
	__u32 id;

	if (!info)
		info = &tmp;
	for (id = 0; id < TDM_MAX_NFS; id++) {
		int err = tdm_nf_get(ctx, id, info);

		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		if (!strncmp(info->name, name, TDM_NAME_LEN))
			return id;
	}
	return tdm_err(ctx, ENOENT, "no NF named '%s'", name);
}

int tdm_nf_create(struct tdm_ctx *ctx, const struct tdm_nf_info *nf,
		  const char *cmd)
{
	const struct tdm_nf_type *t = tdm_nf_type_by_id(nf->type);
	struct tdm_nf_info info = *nf, cur;
	__u32 id, free_id = TDM_MAX_NFS;
	int err;

	err = tdm_name_check(ctx, "NF", info.name);
	if (err)
		return err;
	if (!t)
		return tdm_err(ctx, EINVAL, "unknown NF type %u", nf->type);
	for (id = 0; id < TDM_MAX_NFS; id++) {
		err = tdm_nf_get(ctx, id, &cur);
		if (err == -ENOENT) {
			if (free_id == TDM_MAX_NFS)
				free_id = id;
			continue;
		}
		if (err)
			return err;
		if (!strcmp(cur.name, info.name))
			return tdm_err(ctx, EEXIST, "NF '%s' already exists",
				       info.name);
	}
	if (free_id == TDM_MAX_NFS)
		return tdm_err(ctx, ENOSPC, "no room for another NF (at most %d)",
			       TDM_MAX_NFS);
	/* state and counters first, the name last: no half-made NF shows */
	if (t->ops->create) {
		err = t->ops->create(ctx, free_id, &info.params);
		if (err)
			return err;
	}
	if (t->ops->command) {
		err = tdm_nf_cmd_set(ctx, free_id, cmd);
		if (err) {
			t->ops->destroy(ctx, free_id);
			return err;
		}
	}
	err = tdm_percpu_zero(ctx, ctx->nf_stats_fd, free_id,
			      sizeof(struct tdm_nf_stats));
	if (!err && bpf_map_update_elem(ctx->nfs_fd, &free_id, &info, BPF_ANY))
		err = tdm_err(ctx, errno, "writing NF '%s': %s", info.name,
			      strerror(errno));
	if (err) {
		if (t->ops->destroy)
			t->ops->destroy(ctx, free_id);
		return err;
	}
	return free_id;
}

int tdm_nf_add(struct tdm_ctx *ctx, const char *name, const char *type,
	       int argc, char **argv)
{
	const struct tdm_nf_type *t = tdm_nf_type_by_name(type);
	struct tdm_nf_info info = {};
	char cmd[TDM_NF_CMD_LEN];
	int err;

	err = tdm_name_check(ctx, "NF", name);
	if (err)
		return err;
	if (!t)
		return tdm_err(ctx, EINVAL,
			       "unknown NF type '%s' (see 'tandem nf types')",
			       type);
	snprintf(info.name, sizeof(info.name), "%s", name);
	info.type = t->id;
	err = tdm_nf_params_parse(t, &info.params, cmd, argc, argv, ctx->err,
				  sizeof(ctx->err));
	if (err)
		return err;
	return tdm_nf_create(ctx, &info, cmd);
}
