// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tdm_open() and tdm_close(): the library's entry. Opening makes the pin
 * root, takes the state lock, opens the pinned maps and, before anyone
 * reads or changes the state, recovers what a killed process left: the
 * journal's change, an apply, the records of gone devices. It sits above
 * every other file of the library (Documentation/architecture.rst).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "internal.h"
#include "bpf/entry.skel.h"

static char open_err[256];

const char *tdm_open_errmsg(void)
{
	return open_err;
}

/* tdm_open()'s message, kept after the context it was made in is gone */
static int open_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(open_err, sizeof(open_err), fmt, ap);
	va_end(ap);
	return -abs(err);
}

static int perm_hint(struct tdm_ctx *ctx, int err, const char *what)
{
	if (err == EPERM || err == EACCES)
		return tdm_err(ctx, err, "%s: permission denied (tandem needs root: CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN)",
			       what);
	return tdm_err(ctx, err, "%s: %s", what, strerror(err));
}

/* Are we in the machine's first mount namespace (not 'ip netns exec')? */
static bool initial_mount_ns(void)
{
	struct stat self, init;

	return !stat("/proc/self/ns/mnt", &self) &&
	       !stat("/proc/1/ns/mnt", &init) && self.st_ino == init.st_ino;
}

/*
 * Make sure the pin root's parent is a bpffs. A bpffs is mounted for the
 * user only where one is expected, /sys/fs/bpf, and only in the first
 * mount namespace: elsewhere (under 'ip netns exec', which remounts
 * /sys) it would be a private instance and the state would vanish with
 * the process. Nothing is made without the privileges to use it.
 */
static int prepare_pin_root(struct tdm_ctx *ctx, const char *root)
{
	char parent[PATH_MAX];
	struct statfs sfs;
	char *slash;
	int err;

	err = tdm_priv_check(ctx, false);
	if (err)
		return err;
	snprintf(parent, sizeof(parent), "%s", root);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return tdm_err(ctx, EINVAL, "pin root %s: must be a directory below a bpffs mount",
			       root);
	*slash = '\0';
	if (statfs(parent, &sfs))
		return perm_hint(ctx, errno, parent);
	if (sfs.f_type != BPF_FS_MAGIC) {
		if (strcmp(parent, "/sys/fs/bpf") || !initial_mount_ns())
			return tdm_err(ctx, ENOENT, "%s is not a bpffs: mount one there, or, under 'ip netns exec' (which hides the host's /sys/fs/bpf), run tandem with 'nsenter --net=/run/netns/NAME' instead",
				       parent);
		err = tdm_priv_check(ctx, true);
		if (err)
			return err;
		if (mount("bpf", parent, "bpf", 0, "mode=0700"))
			return perm_hint(ctx, errno, "mounting bpffs");
	}
	return 0;	/* tdm_pin_dir_open() makes the directory */
}

/*
 * libbpf speaks only when asked: its warnings (a verifier log, say) are
 * many lines, and a failed command's error is one line, the library's
 * message. TANDEM_DEBUG shows them all.
 */
static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (getenv("TANDEM_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* Stamp fresh pins with our ABI version; refuse pins of another. */
static int abi_check(struct tdm_ctx *ctx, struct tdm_entry *s)
{
	int fd = bpf_map__fd(s->maps.tdm_abi);
	struct tdm_abi abi = {};
	__u32 key = 0;

	if (bpf_map_lookup_elem(fd, &key, &abi))
		return tdm_err(ctx, errno, "reading the ABI stamp: %s",
			       strerror(errno));
	if (abi.version == TDM_ABI_VERSION)
		return 0;
	if (abi.version)
		return tdm_err(ctx, EPROTO, "the state pinned in %s is of tandem ABI %u, this tandem speaks %u: detach its devices and remove it with 'rm -r %s'",
			       tdm_pin_root(), abi.version, TDM_ABI_VERSION,
			       tdm_pin_root());
	abi.version = TDM_ABI_VERSION;
	if (bpf_map_update_elem(fd, &key, &abi, BPF_ANY))
		return tdm_err(ctx, errno, "writing the ABI stamp: %s",
			       strerror(errno));
	return 0;
}

/*
 * Take every map of the entry object from its pin, when all are pinned
 * and each is what the object declares (the checks libbpf's own reuse
 * makes: type, key and value size, max_entries, flags). Then the object
 * is never loaded: a load reads and parses the kernel's BTF (about 5 MiB)
 * for CO-RE and probes the kernel's features, though no program is
 * loaded, and costs each command several times what it does (a third of
 * a second under TCG). Internal maps (.rodata, .bss) are left out: only
 * programs use them. 0, or -ENOENT / -EINVAL when the object must be
 * loaded (pins to create, or a mismatch, which the load then reports).
 */
static int reuse_pins(struct tdm_entry *s)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct bpf_map *m;
	const char *path;
	int fd, err;

	bpf_object__for_each_map(m, s->obj) {
		if (bpf_map__is_internal(m))
			continue;
		path = bpf_map__pin_path(m);
		if (!path)
			return -EINVAL;
		fd = bpf_obj_get(path);
		if (fd < 0)
			return -ENOENT;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		err = bpf_obj_get_info_by_fd(fd, &info, &len);
		if (err || info.type != bpf_map__type(m) ||
		    info.key_size != bpf_map__key_size(m) ||
		    info.value_size != bpf_map__value_size(m) ||
		    info.max_entries != bpf_map__max_entries(m) ||
		    info.map_flags != bpf_map__map_flags(m)) {
			close(fd);
			return -EINVAL;
		}
		err = bpf_map__reuse_fd(m, fd);
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

static int open_maps(struct tdm_ctx *ctx)
{
	struct bpf_object_open_opts opts;
	struct tdm_entry *s;
	int err;

	tdm_skel_opts(&opts);
	s = tdm_entry__open_opts(&opts);
	if (!s)
		return tdm_err(ctx, errno, "opening the BPF object: %s",
			       strerror(errno));
	/* maps only: creates the pins on first use, else reuses them */
	bpf_program__set_autoload(s->progs.tdm_entry, false);
	err = reuse_pins(s) ? tdm_entry__load(s) : 0;
	if (err) {
		tdm_entry__destroy(s);
		if (err == -EPERM || err == -EACCES)
			return perm_hint(ctx, -err, "creating BPF maps");
		return tdm_err(ctx, err, "creating or reusing the maps pinned in %s failed (%s): a tandem of another version may have left incompatible pins; remove them with 'rm -r %s'",
			       tdm_pin_root(), strerror(-err), tdm_pin_root());
	}
	err = abi_check(ctx, s);
	if (err) {
		tdm_entry__destroy(s);
		return err;
	}
	ctx->maps = s;
	ctx->jmp_fd = bpf_map__fd(s->maps.tdm_jmp);
	ctx->devs_fd = bpf_map__fd(s->maps.tdm_devs);
	ctx->dev_stats_fd = bpf_map__fd(s->maps.tdm_dev_stats);
	ctx->flows_fd = bpf_map__fd(s->maps.tdm_steer_flows);
	ctx->lpm_fd = bpf_map__fd(s->maps.tdm_steer_lpm);
	ctx->pfx_fd = bpf_map__fd(s->maps.tdm_steer_pfx);
	ctx->srules_fd = bpf_map__fd(s->maps.tdm_steer_rules);
	ctx->nfs_fd = bpf_map__fd(s->maps.tdm_nfs);
	ctx->chains_fd = bpf_map__fd(s->maps.tdm_chains);
	ctx->nf_stats_fd = bpf_map__fd(s->maps.tdm_nf_stats);
	ctx->chain_stats_fd = bpf_map__fd(s->maps.tdm_chain_stats);
	ctx->journal_fd = bpf_map__fd(s->maps.tdm_journal);
	ctx->status_fd = bpf_map__fd(s->maps.tdm_status);
	ctx->apply_log_fd = bpf_map__fd(s->maps.tdm_apply_log);
	ctx->xsks_fd = bpf_map__fd(s->maps.tdm_xsks);
	ctx->nf_queues_fd = bpf_map__fd(s->maps.tdm_nf_queues);
	ctx->nf_cmds_fd = bpf_map__fd(s->maps.tdm_nf_cmds);
	return 0;
}

/*
 * In this order: no privileges, nothing made; a pin directory that is
 * not to be trusted is refused before we wait on its lock; pins are
 * judged under the lock (no tandem is making any) and before libbpf
 * opens one.
 */
/*
 * Before anyone reads or changes the state: finish or take back a change
 * that was cut short (journal.c), under the exclusive lock even for a
 * reader, and, for a change, forget what gone devices left.
 */
/* A test's step count from the environment (unset or empty: 0, never). */
static int env_count(struct tdm_ctx *ctx, const char *name,
		     unsigned long *out)
{
	const char *v = getenv(name);
	__u64 n;

	if (!v || !*v)
		return 0;
	if (tdm_parse_uint(v, 1, 0xffffffff, &n))
		return tdm_err(ctx, EINVAL,
			       "%s='%s': expected a decimal number 1-4294967295",
			       name, v);
	*out = n;
	return 0;
}

static int open_recover(struct tdm_ctx *ctx)
{
	unsigned int flags = ctx->open_flags;
	int err;

	err = env_count(ctx, "TANDEM_CRASH_AT", &ctx->crash_at) ?:
	      env_count(ctx, "TANDEM_FAIL_AT", &ctx->fail_at);
	if (err)
		return err;
	err = tdm_journal_pending(ctx);
	if (!err)
		err = tdm_apply_pending(ctx);
	if (err > 0 && (flags & TDM_OPEN_READONLY)) {
		ctx->open_flags &= ~TDM_OPEN_READONLY;
		err = tdm_relock(ctx);
		if (!err)
			err = tdm_journal_recover(ctx) ?: tdm_apply_recover(ctx);
		ctx->open_flags = flags;
		if (!err)
			err = tdm_relock(ctx);
	} else if (err > 0) {
		err = tdm_journal_recover(ctx) ?: tdm_apply_recover(ctx);
	}
	if (!err && !(flags & TDM_OPEN_READONLY))
		err = tdm_dev_gc(ctx);
	return err;
}

int tdm_open(struct tdm_ctx **ctxp, unsigned int flags)
{
	const char *root = tdm_pin_root();
	struct tdm_ctx *ctx;
	int err;

	libbpf_set_print(libbpf_quiet);
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return open_fail(ENOMEM, "out of memory");
	ctx->lock_fd = -1;
	ctx->sync_outer_fd = -1;
	ctx->sync_inner_fd = -1;
	ctx->open_flags = flags;
	ctx->journal_recover = tdm_journal_recover;

	err = prepare_pin_root(ctx, root);
	if (err)
		goto err_free;
	/* flock on the pin directory itself serialises all tandem users */
	ctx->lock_fd = tdm_pin_dir_open(ctx, root);
	if (ctx->lock_fd < 0) {
		err = ctx->lock_fd;
		goto err_free;
	}
	err = tdm_relock(ctx) ?: tdm_pins_check(ctx, ctx->lock_fd, root);
	if (err)
		goto err_close;
	ctx->ncpus = libbpf_num_possible_cpus();
	if (ctx->ncpus <= 0) {
		err = tdm_err(ctx, EINVAL, "cannot count possible CPUs");
		goto err_close;
	}
	err = open_maps(ctx);
	if (err)
		goto err_close;
	err = open_recover(ctx);
	if (err) {
		open_fail(err, "%s", ctx->err);
		tdm_close(ctx);
		return err;
	}
	*ctxp = ctx;
	return 0;

err_close:
	close(ctx->lock_fd);
err_free:
	open_fail(err, "%s", ctx->err);
	free(ctx);
	return err;
}

void tdm_close(struct tdm_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->sync_outer_fd >= 0)
		close(ctx->sync_outer_fd);
	if (ctx->sync_inner_fd >= 0)
		close(ctx->sync_inner_fd);
	free(ctx->srules);
	tdm_entry__destroy(ctx->maps);
	close(ctx->lock_fd);
	free(ctx);
}
