// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Chains: an ordered list of NFs and a terminal action.
 *
 * A chain runs as hops: programs (bpf/chain.bpf.c) loaded with their NFs'
 * configuration in .rodata, so the verifier keeps only these NFs' code
 * and the jump to the next hop is a tail call with a constant index. A
 * chain is one hop, all its NFs inline, unless make bench splits it.
 * Slot chain_id of tdm_jmp holds hop 0; the other hops get free slots
 * above TDM_MAX_CHAINS.
 *
 * Replacing a chain never edits slots a packet may be using: the new hops
 * are loaded into fresh slots, then one atomic update of slot chain_id
 * switches to the new hop 0 (a packet that entered before runs the old
 * hops to the end), then after a grace period the old slots are cleared.
 */
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "bpf/chain.skel.h"
#include "bpf/chain_km.skel.h"

int tdm_chain_get(struct tdm_ctx *ctx, __u32 id, struct tdm_chain_info *info)
{
	if (id >= TDM_MAX_CHAINS)
		return -ENOENT;
	if (bpf_map_lookup_elem(ctx->chains_fd, &id, info)) {
		if (errno == ENOENT)
			return -ENOENT;
		return tdm_err(ctx, errno, "reading chain %u: %s", id,
			       strerror(errno));
	}
	return info->in_use ? 0 : -ENOENT;
}

int tdm_chain_lookup(struct tdm_ctx *ctx, const char *name,
		     struct tdm_chain_info *info)
{
	struct tdm_chain_info tmp;
	__u32 id;
	int err;

	if (!info)
		info = &tmp;
	for (id = 0; id < TDM_MAX_CHAINS; id++) {
		err = tdm_chain_get(ctx, id, info);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		if (!strncmp(info->name, name, TDM_NAME_LEN))
			return id;
	}
	return tdm_err(ctx, ENOENT, "no chain named '%s'", name);
}

bool tdm_nf_in_use(struct tdm_ctx *ctx, __u32 nf_id, char *chain,
		   size_t size)
{
	struct tdm_chain_info ci;
	__u32 id, i;

	for (id = 0; id < TDM_MAX_CHAINS; id++) {
		if (tdm_chain_get(ctx, id, &ci))
			continue;
		for (i = 0; i < ci.nnfs; i++) {
			if (ci.nf_ids[i] == nf_id) {
				snprintf(chain, size, "%s", ci.name);
				return true;
			}
		}
	}
	return false;
}

/* An NF is deleted here, where the chains that may use it are seen. */
int tdm_nf_del(struct tdm_ctx *ctx, const char *name)
{
	struct tdm_nf_info info;
	const struct tdm_nf_type *t;
	char chain[TDM_NAME_LEN];
	int id;

	id = tdm_nf_lookup(ctx, name, &info);
	if (id < 0)
		return id;
	if (tdm_nf_in_use(ctx, id, chain, sizeof(chain)))
		return tdm_err(ctx, EBUSY, "NF '%s' is used by chain '%s'",
			       name, chain);
	if (bpf_map_delete_elem(ctx->nfs_fd, &id))
		return tdm_err(ctx, errno, "deleting NF '%s': %s", name,
			       strerror(errno));
	t = tdm_nf_type_by_id(info.type);
	if (t && t->ops->destroy)
		t->ops->destroy(ctx, id);
	return 0;
}

/* Mark the slots that any chain's current hops occupy. */
static void slots_in_use(struct tdm_ctx *ctx, bool *used)
{
	struct tdm_chain_info ci;
	__u32 id, i;

	memset(used, 0, TDM_JMP_SLOTS * sizeof(*used));
	for (id = 0; id < TDM_MAX_CHAINS; id++) {
		used[id] = true;	/* chain entry slots are never hops */
		if (tdm_chain_get(ctx, id, &ci))
			continue;
		for (i = 1; i < ci.nhops && i < TDM_MAX_CHAIN_NFS; i++)
			if (ci.slots[i] < TDM_JMP_SLOTS)
				used[ci.slots[i]] = true;
	}
	for (i = 0; i < TDM_JMP_SLOTS; i++)
		used[i] |= ctx->pending[i];
}

static int nf_of(struct tdm_ctx *ctx, __u32 nf_id,
		 const struct tdm_nf_info *override, __u32 override_id,
		 struct tdm_nf_info *info)
{
	int err;

	if (override && nf_id == override_id) {
		*info = *override;
		return 0;
	}
	err = tdm_nf_get(ctx, nf_id, info);
	if (err == -ENOENT)
		return tdm_err(ctx, ENOENT, "NF %u is gone", nf_id);
	return err;
}

static void clear_slots(struct tdm_ctx *ctx, const __u32 *slots, int n)
{
	int i;

	for (i = 0; i < n; i++)
		bpf_map_delete_elem(ctx->jmp_fd, &slots[i]);
}

/*
 * Open skeleton S (tdm_chain or tdm_chain_km: one source, the same
 * .rodata and .data), set hop h, load it and return a new fd of program
 * P, or -errno.
 */
#define HOP_LOAD(S, P, h) ({						\
	struct bpf_object_open_opts opts;				\
	struct S *s;							\
	int fd, err;							\
									\
	tdm_skel_opts(&opts);						\
	s = S##__open_opts(&opts);					\
	if (s) {							\
		s->rodata->tdm_hop = *(h);				\
		s->data->tdm_next_slot_rt = (h)->next_slot;		\
		err = S##__load(s);					\
		fd = err ? err :					\
		     fcntl(bpf_program__fd(s->progs.P), F_DUPFD_CLOEXEC, 0); \
		if (fd < 0 && !err)					\
			fd = -errno;					\
		S##__destroy(s);					\
	} else {							\
		fd = -errno;						\
	}								\
	fd;								\
})

/*
 * Load one hop program; returns its fd or -errno. A hop that decides
 * backpressure (hop 0 of a chain with process NFs) asks tandem_sched.ko
 * when the module is loaded (tdm_chain_km, an object of its own: its
 * kfunc externs make libbpf read the kernel's BTF at each load), else
 * decides by itself (tdm_chain): the variant is chosen here, at load.
 */
static int hop_load(const struct tdm_hop *hop)
{
	if (hop->nprocs && tdm_kmod_loaded())
		return HOP_LOAD(tdm_chain_km, tdm_chain_km, hop);
	return HOP_LOAD(tdm_chain, tdm_chain, hop);
}

/* The NFs of *ci as hops see them: type, id, parameters. */
static int chain_nfs(struct tdm_ctx *ctx, struct tdm_chain_info *ci,
		     const struct tdm_nf_info *override, __u32 override_id,
		     struct tdm_hop_nf *nfs)
{
	const struct tdm_nf_type *t;
	struct tdm_nf_info nf;
	__u32 i;
	int err;

	for (i = 0; i < ci->nnfs; i++) {
		err = nf_of(ctx, ci->nf_ids[i], override, override_id, &nf);
		if (err)
			return err;
		t = tdm_nf_type_by_id(nf.type);
		if (!t)
			return tdm_err(ctx, EINVAL, "NF '%s' has unknown type %u",
				       nf.name, nf.type);
		nfs[i].type = nf.type;
		nfs[i].nf_id = ci->nf_ids[i];
		nfs[i].params = nf.params;
		ci->nf_state[i] = t->ops->hop_state ?
				  t->ops->hop_state(ci->nf_ids[i], &nf.params) : 0;
		if (t->ops->hop_rules) {
			err = t->ops->hop_rules(ctx, ci->nf_ids[i], &nf.params,
						&nfs[i].rules);
			if (err)
				return err;
		}
	}
	return 0;
}

/*
 * Where *ci's hops begin (ci->first, ci->nhops): a hop ends after a
 * process NF (it hands the packet over; what comes back runs the next
 * hop, empty if the NF was the chain's last) and, in make bench, after
 * per NFs. Fills hop 0's list of process NFs for backpressure.
 */
static int chain_plan(struct tdm_ctx *ctx, struct tdm_chain_info *ci,
		      const struct tdm_hop_nf *nfs, __u32 per,
		      struct tdm_hop *hop0)
{
	__u32 i, start = 0, n = 0;

	hop0->nprocs = 0;
	for (i = 0; i < ci->nnfs; i++) {
		if (nfs[i].type == TDM_NF_PROCESS) {
			if (hop0->nprocs == TDM_MAX_CHAIN_PROCS)
				return tdm_err(ctx, E2BIG,
					       "chain '%s' has more than %d process NFs",
					       ci->name, TDM_MAX_CHAIN_PROCS);
			hop0->procs[hop0->nprocs++] = nfs[i].nf_id;
		}
		if (i > start && (i - start == per ||
				  nfs[i - 1].type == TDM_NF_PROCESS)) {
			if (n == TDM_MAX_CHAIN_NFS)
				goto too_many;
			ci->first[n++] = start;
			start = i;
		}
	}
	if (n == TDM_MAX_CHAIN_NFS)
		goto too_many;
	ci->first[n++] = start;
	if (ci->nnfs && nfs[ci->nnfs - 1].type == TDM_NF_PROCESS) {
		if (n == TDM_MAX_CHAIN_NFS)
			goto too_many;
		ci->first[n++] = ci->nnfs;
	}
	ci->nhops = n;
	return 0;
too_many:
	return tdm_err(ctx, E2BIG, "chain '%s' needs more than %d programs",
		       ci->name, TDM_MAX_CHAIN_NFS);
}

/*
 * Load the hops of *ci for chain chain_id into free slots (filled into
 * ci->slots) and switch slot chain_id to the new hop 0. On error nothing
 * has changed. The caller releases the old hops' slots after a grace
 * period.
 */
static int chain_build(struct tdm_ctx *ctx, __u32 chain_id,
		       struct tdm_chain_info *ci,
		       const struct tdm_nf_info *override, __u32 override_id)
{
	struct tdm_hop_nf nfs[TDM_MAX_CHAIN_NFS] = {};
	struct tdm_hop hop0 = {};
	bool used[TDM_JMP_SLOTS];
	__u32 slot = TDM_MAX_CHAINS, written[TDM_MAX_CHAIN_NFS];
	int per = ctx->nfs_per_hop ? ctx->nfs_per_hop : TDM_MAX_CHAIN_NFS;
	int h, n, nwritten = 0, fd = -1, err;
	bool resumed;

	err = chain_nfs(ctx, ci, override, override_id, nfs) ?:
	      chain_plan(ctx, ci, nfs, per, &hop0);
	if (err)
		return err;
	n = ci->nhops;
	slots_in_use(ctx, used);
	ci->slots[0] = chain_id;
	for (h = 1; h < n; h++) {
		while (slot < TDM_JMP_SLOTS && used[slot])
			slot++;
		if (slot == TDM_JMP_SLOTS)
			return tdm_err(ctx, ENOSPC,
				       "no free jump table slots (%d in all)",
				       TDM_JMP_SLOTS);
		ci->slots[h] = slot++;
	}

	/* last hop first, so every hop's successor exists when it lands */
	for (h = n - 1; h >= 0; h--) {
		struct tdm_hop hop = {
			.chain_id = chain_id,
			.next_slot = h + 1 < n ? ci->slots[h + 1] : TDM_SLOT_NONE,
			.action = ci->action,
			.redirect_ifindex = ci->redirect_ifindex,
			.runtime_jump = ctx->runtime_jump,
		};
		__u32 first = ci->first[h], i;

		hop.first = first;
		hop.nnfs = (h + 1 < n ? ci->first[h + 1] : ci->nnfs) - first;
		memcpy(hop.nfs, &nfs[first], hop.nnfs * sizeof(nfs[0]));
		if (hop.nnfs && hop.nfs[hop.nnfs - 1].type == TDM_NF_PROCESS) {
			hop.handoff = 1;
			/* what a packet handed over has run: the NFs before */
			for (i = 0; i < first + hop.nnfs - 1; i++)
				hop.ran[ci->nf_ids[i] / 32] |=
					1U << (ci->nf_ids[i] % 32);
			err = tdm_proc_ifindex(ctx, hop.nfs[hop.nnfs - 1].nf_id,
					       &hop.handoff_ifindex);
			if (err)
				goto err_clear;
		}
		for (resumed = false, i = 0; i < first; i++)
			resumed |= nfs[i].type == TDM_NF_PROCESS;
		hop.resumed = resumed;
		if (h == 0) {
			hop.nprocs = hop0.nprocs;
			memcpy(hop.procs, hop0.procs, sizeof(hop.procs));
		}
		fd = hop_load(&hop);
		if (fd < 0) {
			err = tdm_err(ctx, fd, "loading chain '%s' failed: %s",
				      ci->name, strerror(-fd));
			goto err_clear;
		}
		if (bpf_map_update_elem(ctx->jmp_fd, &ci->slots[h], &fd,
					BPF_ANY)) {
			err = tdm_err(ctx, errno, "jump table update: %s",
				      strerror(errno));
			close(fd);
			goto err_clear;
		}
		close(fd);
		if (h > 0)
			written[nwritten++] = ci->slots[h];
		tdm_crash_point(ctx);
	}
	return 0;

err_clear:
	clear_slots(ctx, written, nwritten);
	return err;
}

void tdm_set_hop_split(struct tdm_ctx *ctx, unsigned int nfs_per_hop,
		       bool runtime_jump)
{
	ctx->nfs_per_hop = nfs_per_hop;
	ctx->runtime_jump = runtime_jump;
}

/* The old hops of a replaced chain: cleared after the next grace period. */
static void chain_retire(struct tdm_ctx *ctx, const struct tdm_chain_info *old)
{
	__u32 i;

	for (i = 1; i < old->nhops && i < TDM_MAX_CHAIN_NFS; i++)
		if (old->slots[i] < TDM_JMP_SLOTS)
			ctx->pending[old->slots[i]] = true;
}

/* Wait for a grace period, then clear the retired slots. */
static int chain_reap(struct tdm_ctx *ctx)
{
	__u32 slot;
	int err;

	err = tdm_sync(ctx);
	if (err)
		return err;	/* keep them pending: leaked, never reused */
	for (slot = 0; slot < TDM_JMP_SLOTS; slot++) {
		if (!ctx->pending[slot])
			continue;
		bpf_map_delete_elem(ctx->jmp_fd, &slot);
		ctx->pending[slot] = false;
	}
	return 0;
}

/* Turn a spec (names) into a chain record (ids). */
static int chain_resolve(struct tdm_ctx *ctx, const char *name,
			 const struct tdm_chain_spec *spec,
			 struct tdm_chain_info *ci)
{
	int i, j, id, err;

	err = tdm_name_known_check(ctx, "chain", name);
	if (err)
		return err;
	if (spec->nnfs < 1)
		return tdm_err(ctx, EINVAL, "chain '%s' needs at least one NF",
			       name);
	if (spec->nnfs > TDM_MAX_CHAIN_NFS)
		return tdm_err(ctx, E2BIG, "chain '%s' has %d NFs, at most %d are allowed",
			       name, spec->nnfs, TDM_MAX_CHAIN_NFS);
	memset(ci, 0, sizeof(*ci));
	snprintf(ci->name, sizeof(ci->name), "%s", name);
	ci->in_use = 1;
	ci->nnfs = spec->nnfs;
	ci->action = spec->action;
	for (i = 0; i < spec->nnfs; i++) {
		id = tdm_nf_lookup(ctx, spec->nfs[i], NULL);
		if (id < 0)
			return tdm_err(ctx, ENOENT,
				       "chain '%s' names NF '%s', which does not exist",
				       name, spec->nfs[i]);
		/* twice in one chain would count twice, police twice */
		for (j = 0; j < i; j++)
			if (ci->nf_ids[j] == (__u32)id)
				return tdm_err(ctx, EINVAL,
					       "chain '%s' names NF '%s' twice: an NF runs at most once in a chain",
					       name, spec->nfs[i]);
		ci->nf_ids[i] = id;
	}
	if (spec->action == TDM_ACT_REDIRECT) {
		err = tdm_ifindex(ctx, spec->redirect_dev,
				  &ci->redirect_ifindex);
		if (err)
			return err;
	} else if (spec->action > TDM_ACT_REDIRECT) {
		return tdm_err(ctx, EINVAL, "bad terminal action %u",
			       spec->action);
	}
	return 0;
}

static int chain_write(struct tdm_ctx *ctx, __u32 id,
		       const struct tdm_chain_info *ci)
{
	if (bpf_map_update_elem(ctx->chains_fd, &id, ci, BPF_ANY))
		return tdm_err(ctx, errno, "writing chain '%s': %s", ci->name,
			       strerror(errno));
	return 0;
}

int tdm_chain_add(struct tdm_ctx *ctx, const char *name,
		  const struct tdm_chain_spec *spec)
{
	struct tdm_chain_info ci, cur;
	__u32 id, free_id = TDM_MAX_CHAINS;
	int err;

	err = tdm_name_check(ctx, "chain", name) ?:
	      chain_resolve(ctx, name, spec, &ci);
	if (err)
		return err;
	for (id = 0; id < TDM_MAX_CHAINS; id++) {
		err = tdm_chain_get(ctx, id, &cur);
		if (err == -ENOENT) {
			if (free_id == TDM_MAX_CHAINS)
				free_id = id;
			continue;
		}
		if (err)
			return err;
		if (!strcmp(cur.name, name))
			return tdm_err(ctx, EEXIST,
				       "chain '%s' already exists (use 'chain replace')",
				       name);
	}
	if (free_id == TDM_MAX_CHAINS)
		return tdm_err(ctx, ENOSPC, "no room for another chain (at most %d)",
			       TDM_MAX_CHAINS);

	err = tdm_percpu_zero(ctx, ctx->chain_stats_fd, free_id,
			      sizeof(struct tdm_chain_stats));
	if (err)
		return err;
	err = chain_build(ctx, free_id, &ci, NULL, 0);
	if (err)
		return err;
	err = chain_write(ctx, free_id, &ci);
	if (err) {
		bpf_map_delete_elem(ctx->jmp_fd, &free_id);
		chain_retire(ctx, &ci);
		chain_reap(ctx);
	}
	return err ? err : (int)free_id;
}

static int chain_replace(struct tdm_ctx *ctx, __u32 id,
			 struct tdm_chain_info *ci,
			 const struct tdm_chain_info *old);

int tdm_chain_replace(struct tdm_ctx *ctx, const char *name,
		      const struct tdm_chain_spec *spec)
{
	struct tdm_chain_info ci, old;
	int id, err;

	err = chain_resolve(ctx, name, spec, &ci);
	if (err)
		return err;
	id = tdm_chain_lookup(ctx, name, &old);
	if (id < 0)
		return id;
	return chain_replace(ctx, id, &ci, &old);
}

int tdm_chain_restore(struct tdm_ctx *ctx, __u32 id,
		      const struct tdm_chain_info *ci)
{
	struct tdm_chain_info c = *ci, old;
	int err;

	err = tdm_chain_get(ctx, id, &old);
	if (err)
		return err;
	err = chain_replace(ctx, id, &c, &old);
	return err < 0 ? err : 0;
}

/* Replace chain id (record *old) by *ci: build, flip, record. */
static int chain_replace(struct tdm_ctx *ctx, __u32 id,
			 struct tdm_chain_info *ci,
			 const struct tdm_chain_info *old)
{
	struct tdm_journal j = { .op = TDM_J_CHAIN };
	int err;

	ci->generation = old->generation + 1;
	/* the flip and the record, under the journal */
	j.chain_id = id;
	j.chain = *ci;
	err = tdm_journal_begin(ctx, &j);
	if (err)
		return err;
	err = chain_build(ctx, id, ci, NULL, 0);
	if (err) {
		tdm_journal_end(ctx);	/* nothing changed */
		return err;
	}
	err = chain_write(ctx, id, ci);
	if (err)
		return err;	/* the next open writes it */
	err = tdm_journal_end(ctx);
	if (err)
		return err;
	chain_retire(ctx, old);
	return chain_reap(ctx);
}

/*
 * The journal's chain replace, finished: build the chain again from the
 * record it was to have (the flip may or may not have happened), write
 * the record. Hops of the old chain in slots above TDM_MAX_CHAINS (make
 * bench's split chains only) stay taken: leaked, never run.
 */
int tdm_chain_finish(struct tdm_ctx *ctx, __u32 id,
		     const struct tdm_chain_info *ci)
{
	struct tdm_chain_info c = *ci;
	int err;

	if (id >= TDM_MAX_CHAINS)
		return 0;
	err = chain_build(ctx, id, &c, NULL, 0);
	return err ? err : chain_write(ctx, id, &c);
}

/*
 * Delete chain id called name, of record *ci, that nothing uses
 * (tdm_chain_del() in steer.c asks): its record and entry slot now, its
 * other hops after a grace period.
 */
int tdm_chain_remove(struct tdm_ctx *ctx, const char *name, int id,
		     const struct tdm_chain_info *ci)
{
	if (bpf_map_delete_elem(ctx->chains_fd, &id))
		return tdm_err(ctx, errno, "deleting chain '%s': %s", name,
			       strerror(errno));
	bpf_map_delete_elem(ctx->jmp_fd, &id);
	chain_retire(ctx, ci);
	return chain_reap(ctx);
}

/*
 * Re-load every chain that uses nf_id, with *override as that NF's info
 * (a firewall whose rules moved to the other bank). All or nothing: on
 * error the chains already rebuilt are rebuilt back; if that fails too,
 * ctx->rebuild_half says some chains run the override.
 */
int tdm_chains_rebuild_nf(struct tdm_ctx *ctx, __u32 nf_id,
			  const struct tdm_nf_info *override)
{
	struct tdm_chain_info old[TDM_MAX_CHAINS], ci;
	__u32 ids[TDM_MAX_CHAINS], id, i;
	char msg[sizeof(ctx->err)];
	int n = 0, k, err = 0;

	ctx->rebuild_half = false;
	for (id = 0; id < TDM_MAX_CHAINS; id++) {
		if (tdm_chain_get(ctx, id, &ci))
			continue;
		for (i = 0; i < ci.nnfs; i++)
			if (ci.nf_ids[i] == nf_id)
				break;
		if (i == ci.nnfs)
			continue;
		old[n] = ci;
		ci.generation++;
		err = chain_build(ctx, id, &ci, override, nf_id);
		if (!err)
			err = chain_write(ctx, id, &ci);
		if (err)
			break;
		tdm_crash_point(ctx);
		chain_retire(ctx, &old[n]);
		ids[n++] = id;
	}
	if (err) {
		snprintf(msg, sizeof(msg), "%s", ctx->err);
		for (k = 0; k < n; k++) {
			struct tdm_chain_info back = old[k], now;

			if (tdm_chain_get(ctx, ids[k], &now))
				continue;
			back.generation = now.generation + 1;
			if (!chain_build(ctx, ids[k], &back, NULL, 0) &&
			    !chain_write(ctx, ids[k], &back))
				chain_retire(ctx, &now);
			else
				ctx->rebuild_half = true;
		}
	}
	if (n) {
		int rerr = chain_reap(ctx);

		if (rerr && !err)
			return rerr;
	}
	if (err)
		snprintf(ctx->err, sizeof(ctx->err), "%s", msg);
	return err;
}

/* The name of the program in slot of the prog array, or "" */
static void slot_prog_name(struct tdm_ctx *ctx, __u32 slot, char *name)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), prog_id;
	int fd;

	name[0] = '\0';
	if (bpf_map_lookup_elem(ctx->jmp_fd, &slot, &prog_id))
		return;
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(name, BPF_OBJ_NAME_LEN, "%s", info.name);
	close(fd);
}

/*
 * tandem_sched.ko came or went: re-load (hitless, as a replace) each
 * chain with process NFs whose hop 0 is not the variant hop_load() would
 * pick now, so that its backpressure asks the module exactly while the
 * module is there. Returns how many chains were re-loaded, or -errno
 * (those before the error stay re-loaded: each is whole either way).
 */
int tdm_chains_sched_sync(struct tdm_ctx *ctx)
{
	bool km = tdm_kmod_loaded();
	struct tdm_chain_info ci;
	struct tdm_nf_info nf;
	char name[BPF_OBJ_NAME_LEN];
	int id, i, n = 0, err;

	for (id = 0; id < TDM_MAX_CHAINS; id++) {
		if (tdm_chain_get(ctx, id, &ci))
			continue;
		for (i = 0; i < (int)ci.nnfs; i++)
			if (!tdm_nf_get(ctx, ci.nf_ids[i], &nf) &&
			    nf.type == TDM_NF_PROCESS)
				break;
		if (i == (int)ci.nnfs)
			continue;
		slot_prog_name(ctx, id, name);
		if (!strcmp(name, km ? "tdm_chain_km" : "tdm_chain"))
			continue;
		err = tdm_chain_restore(ctx, id, &ci);
		if (err)
			return err;
		n++;
	}
	return n;
}
