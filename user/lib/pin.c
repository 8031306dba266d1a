// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Trusting the pin directory: who may run tandem, which directories and
 * pins it accepts, and a bounded wait for the state lock (tdm_relock()
 * takes it again, tdm_unlock() lets it go).
 *
 * A bpffs mounted without mode= has a root of mode 1777: any user can
 * make the pin directory before root does, plant pins in it, hold its
 * flock, or delete the pins of a running firewall. So tandem accepts a
 * directory or pin only if it is root's (or the effective uid's, which
 * made it) and nobody else has any access to it; see pinned-maps.rst.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <linux/capability.h>
#include <linux/magic.h>

#include "internal.h"

#ifndef CAP_BPF
#define CAP_BPF	39
#endif

#define NEEDS_ROOT	"permission denied: tandem needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)"
#define LOCK_TIMEOUT_DEFAULT	10.0	/* seconds */
#define LOCK_POLL_MAX_NS	50000000L	/* 50 ms */

static bool cap_has(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1U << (cap % 32));
}

int tdm_priv_check(struct tdm_ctx *ctx, bool mount)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};
	const char *lack = NULL;

	if (syscall(SYS_capget, &hdr, d))
		return tdm_err(ctx, errno, "reading our capabilities: %s",
			       strerror(errno));
	/* CAP_SYS_ADMIN implies CAP_BPF (and CAP_PERFMON) in the kernel */
	if (!cap_has(d, CAP_NET_ADMIN))
		lack = "CAP_NET_ADMIN";
	else if (!cap_has(d, CAP_BPF) && !cap_has(d, CAP_SYS_ADMIN))
		lack = "CAP_BPF";
	else if (mount && !cap_has(d, CAP_SYS_ADMIN))
		lack = "CAP_SYS_ADMIN, to mount a bpffs";
	if (lack)
		return tdm_err(ctx, EPERM, NEEDS_ROOT "; this process lacks %s",
			       lack);
	return 0;
}

/* Only root, or the user we run as (who made it), may own what we use. */
static bool owner_ok(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

/*
 * The verdict on one directory or pin of ours at path: 0, or -EPERM with
 * a line naming what was found and the fix. Anybody but the owner with
 * read access to a directory can open it and hold its flock; with write
 * access, replace or delete pins; with access to a pin, read or write
 * the map (unprivileged BPF_OBJ_GET needs only the file's modes).
 */
static int trust_check(struct tdm_ctx *ctx, const char *path,
		       const struct stat *st)
{
	const char *what = S_ISDIR(st->st_mode) ? "directory" : "pin";
	unsigned int mode = st->st_mode & 07777;

	if (S_ISLNK(st->st_mode))
		return tdm_err(ctx, EPERM,
			       "%s is a symlink (owner uid %u): tandem follows none in its pin directory; remove it with 'rm %s' as root",
			       path, st->st_uid, path);
	if (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode))
		return tdm_err(ctx, EPERM,
			       "%s is not a directory or a pin (mode %06o); remove it with 'rm %s' as root",
			       path, st->st_mode, path);
	if (!owner_ok(st))
		return tdm_err(ctx, EPERM,
			       "%s %s is owned by uid %u (mode %04o), not by root: another user made it; remove it with 'rm %s%s' as root",
			       what, path, st->st_uid, mode,
			       S_ISDIR(st->st_mode) ? "-r " : "", path);
	if (mode & 077)
		return tdm_err(ctx, EPERM,
			       "%s %s has mode %04o: users other than its owner (uid %u) may use it; fix it with 'chmod go= %s' as root",
			       what, path, mode, st->st_uid, path);
	return 0;
}

/* Is the directory at fd on a bpffs? */
static int bpffs_check(struct tdm_ctx *ctx, int fd, const char *path)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs))
		return tdm_err(ctx, errno, "%s: %s", path, strerror(errno));
	if (sfs.f_type != BPF_FS_MAGIC)
		return tdm_err(ctx, EPERM, "%s is not on a bpffs", path);
	return 0;
}

/* path's parent, by name: for messages only */
static void parent_name(char *path)
{
	char *slash = strrchr(path, '/');

	if (slash && slash != path)
		*slash = '\0';
	else
		strcpy(path, slash ? "/" : ".");
}

/*
 * The directory the pin directory is made in, at fd, and those above it
 * up to the top of its bpffs: libbpf and the link code find pins by
 * path, so nobody else may be able to rename the pin directory away and
 * put theirs in its place. The sticky bit (a bpffs's default mode 1777)
 * is enough: it lets only the owner of an entry rename it.
 */
static int ancestors_check(struct tdm_ctx *ctx, int fd, const char *dir)
{
	char path[PATH_MAX];
	struct stat st, below;
	bool first = true;
	int up, err = 0;

	snprintf(path, sizeof(path), "%s", dir);
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	for (;; first = false) {
		if (fd < 0)
			return tdm_err(ctx, errno, "%s: %s", path,
				       strerror(errno));
		if (fstat(fd, &st)) {
			err = tdm_err(ctx, errno, "%s: %s", path,
				      strerror(errno));
			break;
		}
		if (!first) {
			/* past the bpffs's mount point, or at "/" */
			if (st.st_dev != below.st_dev ||
			    st.st_ino == below.st_ino)
				break;
			parent_name(path);
		}
		if (!owner_ok(&st) ||
		    ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))) {
			err = tdm_err(ctx, EPERM,
				      "%s, above the pin directory, is owned by uid %u with mode %04o: others could replace tandem's directory; make it root's and 'chmod go-w' or 'chmod +t' it",
				      path, st.st_uid, st.st_mode & 07777);
			break;
		}
		below = st;
		up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = up;
	}
	close(fd);
	return err;
}

/* Open path as a directory without following a symlink, and judge it. */
static int dir_open(struct tdm_ctx *ctx, int at, const char *name,
		    const char *path)
{
	struct stat st;
	int fd, err;

	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		/* ELOOP: a symlink; ENOTDIR: something else; say which */
		if ((err == ELOOP || err == ENOTDIR) &&
		    !fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW))
			return trust_check(ctx, path, &st) ?:
			       tdm_err(ctx, ENOTDIR, "%s is not a directory",
				       path);
		return tdm_err(ctx, err, "%s: %s", path, strerror(err));
	}
	if (fstat(fd, &st)) {
		err = tdm_err(ctx, errno, "%s: %s", path, strerror(errno));
		goto err_close;
	}
	err = trust_check(ctx, path, &st) ?: bpffs_check(ctx, fd, path);
	if (err)
		goto err_close;
	return fd;

err_close:
	close(fd);
	return err;
}

int tdm_pin_dir_open(struct tdm_ctx *ctx, const char *root)
{
	char parent[PATH_MAX];
	const char *base;
	char *slash;
	int pfd, fd;

	snprintf(parent, sizeof(parent), "%s", root);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent || !slash[1])
		return tdm_err(ctx, EINVAL, "pin root %s: must be a directory below a bpffs mount",
			       root);
	*slash = '\0';
	base = root + (slash - parent) + 1;
	/* the parent is given, not made: its path may hold symlinks */
	pfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return tdm_err(ctx, errno, "%s: %s", parent, strerror(errno));
	fd = bpffs_check(ctx, pfd, parent) ?:
	     ancestors_check(ctx, pfd, parent);
	/* whatever is there already (a symlink too) fails with EEXIST */
	if (!fd && mkdirat(pfd, base, 0700) && errno != EEXIST)
		fd = tdm_err(ctx, errno, "%s: %s", root, strerror(errno));
	if (!fd)
		fd = dir_open(ctx, pfd, base, root);
	close(pfd);
	return fd;
}

/* Judge every entry of the directory at fd (named path), but not below. */
static int entries_check(struct tdm_ctx *ctx, int fd, const char *path)
{
	char name[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int dfd, err = 0;
	DIR *dir;

	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	dir = dfd < 0 ? NULL : fdopendir(dfd);
	if (!dir) {
		err = tdm_err(ctx, errno, "reading %s: %s", path,
			      strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return err;
	}
	while (!err && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(name, sizeof(name), "%s/%s", path, de->d_name);
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			if (errno != ENOENT)	/* gone since readdir */
				err = tdm_err(ctx, errno, "%s: %s", name,
					      strerror(errno));
			continue;
		}
		err = trust_check(ctx, name, &st);
	}
	closedir(dir);
	return err;
}

int tdm_pins_check(struct tdm_ctx *ctx, int root_fd, const char *root)
{
	char path[PATH_MAX];
	int fd, err;

	/* made here, not at the first attach: it is checked like the rest */
	if (mkdirat(root_fd, "links", 0700) && errno != EEXIST)
		return tdm_err(ctx, errno, "%s/links: %s", root,
			       strerror(errno));
	snprintf(path, sizeof(path), "%s/links", root);
	fd = dir_open(ctx, root_fd, "links", path);
	if (fd < 0)
		return fd;
	err = entries_check(ctx, root_fd, root) ?:
	      entries_check(ctx, fd, path);
	close(fd);
	return err;
}

/* TANDEM_LOCK_TIMEOUT: seconds to wait for the lock, 0 for not at all. */
static int lock_timeout(struct tdm_ctx *ctx, double *secs)
{
	const char *s = getenv("TANDEM_LOCK_TIMEOUT");
	__u64 ms;

	*secs = LOCK_TIMEOUT_DEFAULT;
	if (!s || !*s)
		return 0;
	/* the one number reader: no blank, sign, 0x, exponent, inf */
	if (tdm_parse_millis(s, 1000000000ULL, &ms))
		return tdm_err(ctx, EINVAL,
			       "TANDEM_LOCK_TIMEOUT='%s': expected seconds from 0 to 1000000 (up to 3 decimals)",
			       s);
	*secs = ms / 1000.0;
	return 0;
}

/* The command name of pid, or "?" */
static void pid_comm(int pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(buf, size, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, size, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

#define MAX_HOLDERS	3	/* named in a message; the rest are "..." */

struct holders {
	char *buf;
	size_t size, len;
	int n;
};

/* Append to h's text; what does not fit is cut. */
static void __attribute__((format(printf, 2, 3)))
holders_printf(struct holders *h, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (h->len + 1 >= h->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(h->buf + h->len, h->size - h->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		h->len += (size_t)n < h->size - h->len ? (size_t)n :
			  h->size - h->len - 1;
}

static void holder_add(struct holders *h, int pid, const char *mode)
{
	char comm[64];

	if (h->n++ >= MAX_HOLDERS) {
		if (h->n == MAX_HOLDERS + 1)
			holders_printf(h, ", ...");
		return;
	}
	pid_comm(pid, comm, sizeof(comm));
	holders_printf(h, "%s pid %d (%s, %s)", h->n > 1 ? "," : "", pid,
		       comm, strcmp(mode, "READ") ? "exclusive" : "shared");
}

/* Does an fd of pid hold a flock whose /proc/locks line has id? */
static bool pid_holds(const char *pid, const char *id)
{
	char path[PATH_MAX], line[256];
	struct dirent *de;
	bool found = false;
	DIR *dir;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo", pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", pid,
			 de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (!found && fgets(line, sizeof(line), f))
			found = !strncmp(line, "lock:", 5) &&
				strstr(line, " FLOCK ") && strstr(line, id);
		fclose(f);
	}
	closedir(dir);
	return found;
}

/*
 * /proc/locks names the process that took a flock, which may have
 * exited and left the descriptor to a child ('flock DIR CMD' does):
 * then find who has it now, by the "lock:" lines of /proc/PID/fdinfo.
 */
static void heirs_add(struct holders *h, const char *id, const char *mode)
{
	struct dirent *de;
	int n = h->n;
	DIR *proc;

	proc = opendir("/proc");
	if (!proc)
		return;
	while ((de = readdir(proc)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
		    atoi(de->d_name) != getpid() &&
		    pid_holds(de->d_name, id))
			holder_add(h, atoi(de->d_name), mode);
	closedir(proc);
	if (h->n == n)
		holders_printf(h, "%s a process not visible here",
			       n ? "," : "");
}

/* " pid 123 (flock, exclusive)" for each holder of a flock on st's file
 * (not its blocked waiters, the "->" lines of /proc/locks). */
static void lock_holders(const struct stat *st, char *buf, size_t size)
{
	struct holders h = { buf, size, 0, 0 };
	char line[256], mode[16], id[64], comm[64];
	unsigned int maj, min;
	unsigned long ino;
	FILE *f;
	int pid;

	buf[0] = '\0';
	f = fopen("/proc/locks", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*d: FLOCK %*s %15s %d %x:%x:%lu", mode,
			   &pid, &maj, &min, &ino) != 5 ||
		    maj != major(st->st_dev) || min != minor(st->st_dev) ||
		    ino != st->st_ino)
			continue;
		snprintf(id, sizeof(id), " %d %02x:%02x:%lu ", pid, maj, min,
			 ino);
		pid_comm(pid, comm, sizeof(comm));
		if (pid > 0 && strcmp(comm, "?"))
			holder_add(&h, pid, mode);
		else
			heirs_add(&h, id, mode);
	}
	fclose(f);
}

static int lock_busy(struct tdm_ctx *ctx, int fd, double secs)
{
	char who[176];
	struct stat st;

	if (fstat(fd, &st))
		who[0] = '\0';
	else
		lock_holders(&st, who, sizeof(who));
	return tdm_err(ctx, ETIMEDOUT,
		       "%s is locked by%s; gave up after %g s (TANDEM_LOCK_TIMEOUT sets the wait)",
		       tdm_pin_root(), *who ? who : " another process",
		       secs);
}

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - t0->tv_sec + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * There is no timed flock(). A timer signal would interrupt a blocking
 * one, but a library must not take SIGALRM or the process's timer from
 * its application, so: try without blocking, and sleep between tries,
 * from 1 ms doubling to 50 ms (at most 20 wake-ups a second).
 */
int tdm_lock_wait(struct tdm_ctx *ctx, int fd, int op)
{
	struct timespec t0, nap = { 0, 1000000 };
	double secs, left;
	int err;

	err = lock_timeout(ctx, &secs);
	if (err)
		return err;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (!flock(fd, op | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return tdm_err(ctx, errno, "locking %s: %s",
				       tdm_pin_root(), strerror(errno));
		left = secs - since(&t0);
		if (left <= 0)
			return lock_busy(ctx, fd, secs);
		if (left < nap.tv_nsec / 1e9)
			nap.tv_nsec = left * 1e9 + 1;
		nanosleep(&nap, NULL);
		nap.tv_nsec = nap.tv_nsec * 2 > LOCK_POLL_MAX_NS ?
			      LOCK_POLL_MAX_NS : nap.tv_nsec * 2;
	}
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
