// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The library context: the bpffs pin root, the state lock, the pinned
 * maps, and the grace period primitive; errors, names, and the helpers
 * every layer uses (map walks, per-CPU counters, a device's ifindex,
 * our network namespace).
 */
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "internal.h"
#include "bpf/entry.skel.h"

static char open_err[256];

const char *tdm_pin_root(void)
{
	const char *root = getenv("TANDEM_PIN_ROOT");

	return root && *root ? root : TDM_PIN_ROOT_DEFAULT;
}

int tdm_err(struct tdm_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	return -abs(err);
}

const char *tdm_errmsg(const struct tdm_ctx *ctx)
{
	return ctx->err;
}

const char *tdm_open_errmsg(void)
{
	return open_err;
}

int tdm_name_valid(const char *what, const char *name, char *err,
		   size_t errlen)
{
	const char *p;

	if (!*name) {
		snprintf(err, errlen, "%s name is empty", what);
		return -EINVAL;
	}
	if (strlen(name) >= TDM_NAME_LEN) {
		snprintf(err, errlen, "%s name '%s' is longer than %d characters",
			 what, name, TDM_NAME_LEN - 1);
		return -ENAMETOOLONG;
	}
	for (p = name; *p; p++)
		if (!(*p == '-' || *p == '_' || *p == '.' ||
		      (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z'))) {
			snprintf(err, errlen,
				 "%s name '%s': only letters, digits, '-', '_' and '.' are allowed",
				 what, name);
			return -EINVAL;
		}
	return 0;
}

int tdm_name_check(struct tdm_ctx *ctx, const char *what, const char *name)
{
	return tdm_name_valid(what, name, ctx->err, sizeof(ctx->err));
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

void tdm_skel_opts(struct bpf_object_open_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->sz = sizeof(*opts);
	opts->pin_root_path = tdm_pin_root();
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
	err = tdm_entry__load(s);
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
	ctx->fw_rules_fd = bpf_map__fd(s->maps.tdm_fw_rules);
	ctx->policer_fd = bpf_map__fd(s->maps.tdm_policer);
	ctx->policer_src_fd = bpf_map__fd(s->maps.tdm_policer_src);
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

void tdm_unlock(struct tdm_ctx *ctx)
{
	flock(ctx->lock_fd, LOCK_UN);
}

int tdm_relock(struct tdm_ctx *ctx)
{
	return tdm_lock_wait(ctx, ctx->lock_fd,
			     ctx->open_flags & TDM_OPEN_READONLY ?
			     LOCK_SH : LOCK_EX);
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

/*
 * An RCU grace period, seen from userspace: the kernel waits for every
 * running BPF program to finish before an update of a map-in-map returns
 * (maybe_wait_bpf_programs()). XDP programs run inside RCU read sections,
 * so afterwards no packet still uses what we unlinked before the call.
 */
int tdm_sync(struct tdm_ctx *ctx)
{
	__u32 key = 0;

	if (ctx->sync_outer_fd < 0) {
		LIBBPF_OPTS(bpf_map_create_opts, o);

		ctx->sync_inner_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL,
						    4, 4, 1, NULL);
		if (ctx->sync_inner_fd < 0)
			return tdm_err(ctx, errno, "grace period map: %s",
				       strerror(errno));
		o.inner_map_fd = ctx->sync_inner_fd;
		ctx->sync_outer_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS,
						    NULL, 4, 4, 1, &o);
		if (ctx->sync_outer_fd < 0)
			return tdm_err(ctx, errno, "grace period map: %s",
				       strerror(errno));
	}
	if (bpf_map_update_elem(ctx->sync_outer_fd, &key, &ctx->sync_inner_fd,
				BPF_ANY))
		return tdm_err(ctx, errno, "grace period: %s", strerror(errno));
	return 0;
}

int tdm_map_delete_if(struct tdm_ctx *ctx, int fd, size_t key_size,
		      bool (*match)(const void *key, const void *arg),
		      const void *arg)
{
	char *keys = NULL, *key = malloc(key_size), *prev = NULL;
	size_t n = 0, cap = 0, i;
	int err = 0;

	if (!key)
		return tdm_err(ctx, ENOMEM, "out of memory");
	/* collect first: a delete during the walk would restart it */
	while (!bpf_map_get_next_key(fd, prev, key)) {
		prev = key;
		if (!match(key, arg))
			continue;
		if (n == cap) {
			char *p = realloc(keys, (cap = cap * 2 + 64) * key_size);

			if (!p) {
				err = tdm_err(ctx, ENOMEM, "out of memory");
				goto out;
			}
			keys = p;
		}
		memcpy(keys + n++ * key_size, key, key_size);
	}
	for (i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, keys + i * key_size) && !err &&
		    errno != ENOENT)
			err = tdm_err(ctx, errno, "deleting a map entry: %s",
				      strerror(errno));
out:
	free(keys);
	free(key);
	return err;
}

int tdm_percpu_zero(struct tdm_ctx *ctx, int fd, __u32 key, size_t size)
{
	size_t len = ((size + 7) & ~7UL) * ctx->ncpus;
	void *buf = calloc(1, len);
	int err = 0;

	if (!buf)
		return tdm_err(ctx, ENOMEM, "out of memory");
	if (bpf_map_update_elem(fd, &key, buf, BPF_ANY))
		err = tdm_err(ctx, errno, "clearing statistics: %s",
			      strerror(errno));
	free(buf);
	return err;
}

/* Sum a per-CPU value made of __u64 counters. */
int tdm_percpu_sum(struct tdm_ctx *ctx, int fd, __u32 key, size_t size,
		   __u64 *sum)
{
	size_t stride = (size + 7) & ~7UL, n = size / sizeof(__u64), i;
	char *buf = calloc(ctx->ncpus, stride);
	int cpu;

	if (!buf)
		return tdm_err(ctx, ENOMEM, "out of memory");
	if (bpf_map_lookup_elem(fd, &key, buf)) {
		free(buf);
		return tdm_err(ctx, errno, "reading statistics: %s",
			       strerror(errno));
	}
	memset(sum, 0, size);
	for (cpu = 0; cpu < ctx->ncpus; cpu++) {
		__u64 *v = (__u64 *)(buf + cpu * stride);

		for (i = 0; i < n; i++)
			sum[i] += v[i];
	}
	free(buf);
	return 0;
}

int tdm_ifindex(struct tdm_ctx *ctx, const char *dev, __u32 *ifindex)
{
	char name[IF_NAMESIZE];

	if (!dev || !*dev)
		return tdm_err(ctx, EINVAL, "no device given");
	if (strlen(dev) >= IF_NAMESIZE)
		return tdm_err(ctx, ENODEV, "device '%s' does not exist", dev);
	*ifindex = if_nametoindex(dev);
	if (!*ifindex)
		return tdm_err(ctx, ENODEV, "device '%s' does not exist", dev);
	/*
	 * A process NF's veth pair carries the chain's handoffs: a chain
	 * on it, or redirecting into it, would let frames in that no hop
	 * handed over (Documentation/process-nfs.rst).
	 */
	if (!if_indextoname(*ifindex, name) ||
	    !strncmp(name, TDM_PROC_DEV_PREFIX, strlen(TDM_PROC_DEV_PREFIX)))
		return tdm_err(ctx, EPERM,
			       "device '%s' is a process NF's (%s*): tandem does not attach to it or redirect into it",
			       dev, TDM_PROC_DEV_PREFIX);
	return 0;
}

/* The cookie of our network namespace (SO_NETNS_COOKIE, Linux 5.14). */
__u64 tdm_netns_cookie(void)
{
	static __u64 cookie;
	socklen_t len = sizeof(cookie);
	int fd;

	if (cookie)
		return cookie;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len);
		close(fd);
	}
	return cookie;
}
