// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The library context: the bpffs pin root, the pinned maps' fds, and the
 * grace period primitive; errors, names, and the helpers every layer
 * uses (map walks, per-CPU counters, a device's ifindex, our network
 * namespace). Opening and closing it is open.c's.
 */
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "internal.h"
#include "bpf/entry.skel.h"

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

/* The rule names of old had: 1 to 31 of letters, digits, '-', '_', '.' */
static int name_chars_valid(const char *what, const char *name, char *err,
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

int tdm_name_valid(const char *what, const char *name, char *err,
		   size_t errlen)
{
	int ret = name_chars_valid(what, name, err, errlen);

	/*
	 * "-j" would read as an option on every command line that names
	 * it, "." and ".." as paths: made in a policy file, such an object
	 * could not be shown or deleted from the CLI
	 */
	if (!ret && (*name == '-' || *name == '.')) {
		snprintf(err, errlen, "%s name '%s' starts with '%c': a name starts with a letter, digit or '_'",
			 what, name, *name);
		return -EINVAL;
	}
	return ret;
}

int tdm_name_check(struct tdm_ctx *ctx, const char *what, const char *name)
{
	return tdm_name_valid(what, name, ctx->err, sizeof(ctx->err));
}

int tdm_name_known_check(struct tdm_ctx *ctx, const char *what,
			 const char *name)
{
	return name_chars_valid(what, name, ctx->err, sizeof(ctx->err));
}

int tdm_map_fd(struct tdm_ctx *ctx, const char *name)
{
	struct bpf_map *m;

	m = bpf_object__find_map_by_name(ctx->maps->obj, name);
	return m ? bpf_map__fd(m) : -1;
}

void tdm_skel_opts(struct bpf_object_open_opts *opts)
{
	const char *debug = getenv("TANDEM_DEBUG");

	memset(opts, 0, sizeof(*opts));
	opts->sz = sizeof(*opts);
	opts->pin_root_path = tdm_pin_root();
	/* TANDEM_DEBUG=stats: the verifier's statistics of every load
	 * (instructions processed, time, stack), which libbpf prints */
	if (debug && !strcmp(debug, "stats"))
		opts->kernel_log_level = 4;
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

int tdm_map_write(struct tdm_ctx *ctx, int fd, const void *keys,
		  size_t key_size, const void *vals, size_t val_size,
		  size_t n, const char *what)
{
	const char *k = keys, *v = vals;
	size_t i;
	__u32 count;

	while (n) {
		count = n > UINT32_MAX ? UINT32_MAX : n;
		if (!bpf_map_update_batch(fd, k, v, &count, NULL)) {
			k += count * key_size;
			v += count * val_size;
			n -= count;
			continue;
		}
		if (errno == E2BIG || errno == ENOMEM)
			return -errno;	/* full */
		/* count: how many went in before the one that failed (or
		 * untouched, n, if the kernel has no batch ops) */
		if (count >= n)
			count = 0;
		k += count * key_size;
		v += count * val_size;
		n -= count;
		break;
	}
	/* no batch ops, or a batch that failed: one by one, again */
	for (i = 0; i < n; i++) {
		if (!bpf_map_update_elem(fd, k + i * key_size,
					 v + i * val_size, BPF_ANY))
			continue;
		if (errno == E2BIG || errno == ENOMEM)
			return -errno;
		return tdm_err(ctx, errno, "writing %s: %s", what,
			       strerror(errno));
	}
	return 0;
}

int tdm_map_delete_keys(struct tdm_ctx *ctx, int fd, const void *keys,
			size_t key_size, size_t n, const char *what)
{
	const char *k = keys;
	__u32 count;

	while (n) {
		count = n > UINT32_MAX ? UINT32_MAX : n;
		if (!bpf_map_delete_batch(fd, k, &count, NULL)) {
			n -= count;
			k += count * key_size;
			continue;
		}
		if (count >= n)
			count = 0;
		if (errno == ENOENT) {
			/* the batch stopped at a key not there: skip it */
			k += (count + 1) * key_size;
			n -= count + 1;
			continue;
		}
		/* no batch ops, or another error: one by one, which says */
		k += count * key_size;
		n -= count;
		break;
	}
	for (; n; n--, k += key_size)
		if (bpf_map_delete_elem(fd, k) && errno != ENOENT)
			return tdm_err(ctx, errno, "deleting %s: %s", what,
				       strerror(errno));
	return 0;
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

__u64 tdm_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
