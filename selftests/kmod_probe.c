// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmod_probe: tandem_sched.ko's device and kfuncs against their interface
 * (include/tandem/sched.h). KTAP. For selftests/test_kmod.sh (in a VM,
 * the module loaded).
 *
 *   kmod_probe ioctl [SEED [CASES]]
 *	valid cycles (register, get, set_pid, unregister; EEXIST; another
 *	opener's EPERM; close unregisters), then CASES (default 4000)
 *	generated hostile calls from a seeded PRNG (the seed is printed):
 *	each must fail with the errno the header documents and leave
 *	TDM_SCHED_IOC_INFO's nfs and allocs as they were; then callers
 *	without CAP_NET_ADMIN. allocs must end where they started.
 *   kmod_probe kfunc OBJ
 *	OBJ (selftests/bpf/kmod_kfunc.bpf.c) loads; its kfuncs say -ENOENT
 *	for an NF not registered, -ENODEV and 0 for one without a socket;
 *	the module's ring offsets are an AF_XDP socket's XDP_MMAP_OFFSETS.
 *   kmod_probe backlog OBJ ID
 *	register NF ID with tandem's pinned maps, run OBJ's program for it
 *	and print "backlog B get G congested C", unregister. Exit 0 if all
 *	calls worked.
 *   kmod_probe cycles KO N ID
 *	N times: load KO, register NF ID with tandem's pinned maps, GET it,
 *	call both kfuncs from a program built here (libbpf's load of OBJ
 *	parses vmlinux's BTF each time: too slow for 100 cycles under
 *	TCG), unregister, unload; meanwhile two probes of its own are
 *	held on the module's tracepoints (hold_tracepoints()). Exit 0 if
 *	every step of every cycle worked.
 *   kmod_probe noload OBJ
 *	exit 0 if OBJ fails to load (no module), 1 if it loads.
 *   kmod_probe hold PID
 *	hold two probes on each of the module's tracepoints while PID
 *	lives (hold_tracepoints()); prints "held" once they are.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include "libtandem.h"
#include <tandem/sched.h>

/* weight: 1..10000 (cpu.weight's range), 0 for NFVNice's */
#define TDM_WT_MAX_ 10000

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

static int ktap_n, ktap_failed, case_bad;

static void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

#define fail(...) do { case_bad = 1; diag(__VA_ARGS__); } while (0)

static void case_end(const char *name)
{
	ktap_n++;
	if (case_bad) {
		ktap_failed++;
		printf("not ok %d %s\n", ktap_n, name);
	} else {
		printf("ok %d %s\n", ktap_n, name);
	}
	fflush(stdout);
	case_bad = 0;
}

static int finish(void)
{
	printf("# %d passed, %d failed\n", ktap_n - ktap_failed, ktap_failed);
	return ktap_failed ? 1 : 0;
}

/* xorshift64*: the cases are a function of the seed */
static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static uint32_t rnd_below(uint32_t n)
{
	return rnd() % n;
}

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? errno : 0;
}

static int info(int fd, struct tdm_sched_info *in)
{
	memset(in, 0, sizeof(*in));
	return xioctl(fd, TDM_SCHED_IOC_INFO, in);
}

static int reg(int fd, const struct tdm_sched_reg *r)
{
	struct tdm_sched_reg c = *r;

	return xioctl(fd, TDM_SCHED_IOC_REGISTER, &c);
}

static int unreg(int fd, uint32_t id)
{
	return xioctl(fd, TDM_SCHED_IOC_UNREGISTER, &id);
}

static int set_pid(int fd, uint32_t id, uint32_t pid)
{
	struct tdm_sched_pid sp = { .nf_id = id, .pid = pid };

	return xioctl(fd, TDM_SCHED_IOC_SET_PID, &sp);
}

static int get(int fd, uint32_t id, struct tdm_sched_state *st)
{
	memset(st, 0, sizeof(*st));
	st->nf_id = id;
	return xioctl(fd, TDM_SCHED_IOC_GET, st);
}

static int open_dev(void)
{
	int fd = open(TDM_SCHED_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("1..0 # SKIP %s: %s\n", TDM_SCHED_DEV, strerror(errno));
		exit(4);
	}
	return fd;
}

static int map_create(enum bpf_map_type type, uint32_t vsize, uint32_t n)
{
	int fd = bpf_map_create(type, NULL, 4, vsize, n, NULL);

	if (fd < 0) {
		printf("Bail out! bpf_map_create(%d): %s\n", type, strerror(errno));
		exit(1);
	}
	return fd;
}

/* ---- the file descriptors the cases use ---- */

static int xsk128, xsk4, q128, q4, q_vsize, q_percpu, hashm, pipe_r, pipe_w;
static int wfd = -1, wfd_ro = -1, wfake = -1, wother = -1, wshares = -1;
static int closed_fd;
static char cgdir[256];
static pid_t dead_pid, thread_tid;

/* The cgroup2 mount, if any; "" if none */
static void find_cgroup2(char *dir, size_t len)
{
	char line[512], dev[128], mnt[256], type[64];
	FILE *f = fopen("/proc/self/mounts", "r");

	*dir = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %255s %63s", dev, mnt, type) == 3 &&
		    !strcmp(type, "cgroup2")) {
			snprintf(dir, len, "%s", mnt);
			break;
		}
	}
	if (f)
		fclose(f);
}

static void write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, s, strlen(s)) < 0)
			diag("%s: %s", path, strerror(errno));
		close(fd);
	}
}

/* A cgroup of our own under cgroup2, with cpu.weight; or explain why not */
static void setup_cgroup(void)
{
	char mnt[256], path[512];

	find_cgroup2(mnt, sizeof(mnt));
	if (!*mnt) {
		diag("no cgroup2 mount: weights not tested");
		return;
	}
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", mnt);
	write_str(path, "+cpu");
	snprintf(cgdir, sizeof(cgdir), "%s/tdm_probe.%d", mnt, getpid());
	if (mkdir(cgdir, 0755) && errno != EEXIST) {
		diag("mkdir %s: %s", cgdir, strerror(errno));
		*cgdir = 0;
		return;
	}
	snprintf(path, sizeof(path), "%s/cpu.weight", cgdir);
	wfd = open(path, O_WRONLY | O_CLOEXEC);
	wfd_ro = open(path, O_RDONLY | O_CLOEXEC);
	if (wfd < 0)
		diag("%s: %s: weights not tested", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/cpu.max", cgdir);
	wother = open(path, O_WRONLY | O_CLOEXEC);
	if (wother < 0) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", cgdir);
		wother = open(path, O_WRONLY | O_CLOEXEC);
	}
	/* cgroup v1's cpu.shares, where there is one (the host) */
	wshares = open("/sys/fs/cgroup/cpu/cpu.shares", O_WRONLY | O_CLOEXEC);
}

static void *thread_fn(void *arg)
{
	thread_tid = syscall(SYS_gettid);
	pause();
	return NULL;
}

static void setup_fds(void)
{
	int p[2];
	pid_t c;
	pthread_t t;
	int k;
	char path[] = "build/kmod_probe.XXXXXX";
	char fake[sizeof(path) + 16];

	xsk128 = map_create(BPF_MAP_TYPE_XSKMAP, 4, TDM_SCHED_MAX_NFS);
	xsk4 = map_create(BPF_MAP_TYPE_XSKMAP, 4, 4);
	q128 = map_create(BPF_MAP_TYPE_ARRAY, sizeof(struct tdm_nf_queue), TDM_SCHED_MAX_NFS);
	q4 = map_create(BPF_MAP_TYPE_ARRAY, sizeof(struct tdm_nf_queue), 4);
	q_vsize = map_create(BPF_MAP_TYPE_ARRAY, sizeof(struct tdm_nf_queue) + 8, TDM_SCHED_MAX_NFS);
	q_percpu = map_create(BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(struct tdm_nf_queue), TDM_SCHED_MAX_NFS);
	hashm = map_create(BPF_MAP_TYPE_HASH, sizeof(struct tdm_nf_queue), TDM_SCHED_MAX_NFS);
	if (pipe(p)) {
		printf("Bail out! pipe\n");
		exit(1);
	}
	pipe_r = p[0];
	pipe_w = p[1];
	setup_cgroup();
	/* a writable file named cpu.weight, not on a cgroup file system */
	if (!mkdtemp(path)) {
		snprintf(path, sizeof(path), "/tmp");
	}
	snprintf(fake, sizeof(fake), "%s/cpu.weight", path);
	wfake = open(fake, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	unlink(fake);
	rmdir(path);
	/* an fd number that was open and is not, above those in use:
	 * the next open() does not take it */
	k = open("/dev/null", O_RDONLY);
	closed_fd = fcntl(k, F_DUPFD, 900);
	close(k);
	close(closed_fd);
	/* a pid that was a process, reaped; a thread that is not a leader */
	c = fork();
	if (!c)
		_exit(0);
	waitpid(c, NULL, 0);
	dead_pid = c;
	pthread_create(&t, NULL, thread_fn, NULL);
	while (!__atomic_load_n(&thread_tid, __ATOMIC_SEQ_CST))
		usleep(1000);
}

static struct tdm_sched_reg valid_reg(uint32_t id)
{
	struct tdm_sched_reg r = {
		.nf_id = id, .xsks_fd = xsk128, .queues_fd = q128,
		.weight_fd = -1, .weight_kind = TDM_SCHED_WEIGHT_NONE,
	};

	if (wfd >= 0 && rnd_below(2)) {
		r.weight_fd = wfd;
		r.weight_kind = TDM_SCHED_WEIGHT_V2;
	}
	r.pid = rnd_below(2) ? getpid() : 0;
	r.weight = rnd_below(3) ? rnd_below(TDM_WT_MAX_ + 1) : 0;
	r.cpus = rnd();
	return r;
}

/* ---- valid cycles ---- */

static int held_id = -1;	/* registered by fd during the hostile cases */

static void check_info(int fd, const struct tdm_sched_info *want, const char *when)
{
	struct tdm_sched_info in;
	int e = info(fd, &in);

	if (e)
		fail("%s: INFO: %s", when, strerror(e));
	else if (in.nfs != want->nfs || in.allocs != want->allocs)
		fail("%s: nfs %u allocs %llu, expected %u %llu", when, in.nfs,
		     (unsigned long long)in.allocs, want->nfs,
		     (unsigned long long)want->allocs);
}

static void valid_cycles(int fd, const struct tdm_sched_info *base)
{
	struct tdm_sched_info one = *base, in;
	struct tdm_sched_state st;
	struct tdm_sched_reg r;
	int fd2 = open_dev(), fd3, e, i, k;
	uint32_t id, ids[3];

	one.nfs = 0;		/* INFO with one NF: after the first */
	e = info(fd, &in);
	if (e || in.version != TDM_SCHED_VERSION)
		fail("INFO: %s, version %u", strerror(e), in.version);
	for (i = 0; i < 10; i++) {
		id = (i * 37 + rnd_below(4)) % TDM_SCHED_MAX_NFS;
		r = valid_reg(id);
		if (i == 0 && wfd >= 0) {	/* once each way at least */
			r.weight_fd = wfd;
			r.weight_kind = TDM_SCHED_WEIGHT_V2;
			r.pid = getpid();
		} else if (i == 1) {
			r.weight_fd = -1;
			r.weight_kind = TDM_SCHED_WEIGHT_NONE;
			r.pid = 0;
		}
		e = reg(fd, &r);
		if (e) {
			fail("register %u (kind %u pid %u weight %u): %s", id,
			     r.weight_kind, r.pid, r.weight, strerror(e));
			continue;
		}
		if (!one.nfs) {
			/* per NF and maybe shared: more, that is all we know */
			if ((e = info(fd, &one)) || one.nfs != base->nfs + 1 ||
			    one.allocs <= base->allocs)
				fail("registered: nfs %u allocs %llu, start %u %llu",
				     one.nfs, (unsigned long long)one.allocs, base->nfs,
				     (unsigned long long)base->allocs);
		}
		check_info(fd, &one, "registered");
		e = get(fd, id, &st);
		if (e || st.nf_id != id || st.pid != r.pid || st.backlog ||
		    st.reserved[0] || st.reserved[1] || st.reserved[2])
			fail("get %u: %s, nf_id %u pid %u (%u) backlog %u", id,
			     strerror(e), st.nf_id, st.pid, r.pid, st.backlog);
		if ((e = reg(fd, &r)) != EEXIST)
			fail("register %u twice: %s, not EEXIST", id, strerror(e));
		r.nf_id = id;
		if ((e = reg(fd2, &r)) != EEXIST)
			fail("register %u from another opener: %s, not EEXIST", id, strerror(e));
		check_info(fd, &one, "after EEXIST");
		if ((e = set_pid(fd, id, 0)) || get(fd, id, &st) || st.pid)
			fail("set_pid %u 0: %s, pid %u", id, strerror(e), st.pid);
		if ((e = set_pid(fd, id, getpid())) || get(fd, id, &st) ||
		    st.pid != (uint32_t)getpid())
			fail("set_pid %u self: %s, pid %u", id, strerror(e), st.pid);
		if ((e = set_pid(fd, id, dead_pid)) != ESRCH)
			fail("set_pid %u to a dead pid: %s, not ESRCH", id, strerror(e));
		if ((e = unreg(fd2, id)) != EPERM)
			fail("another opener's unregister of %u: %s, not EPERM", id, strerror(e));
		if ((e = set_pid(fd2, id, 0)) != EPERM)
			fail("another opener's set_pid of %u: %s, not EPERM", id, strerror(e));
		if ((e = get(fd2, id, &st)) || st.nf_id != id)
			fail("another opener's get of %u: %s", id, strerror(e));
		check_info(fd, &one, "after another opener's calls");
		if ((e = unreg(fd, id)))
			fail("unregister %u: %s", id, strerror(e));
		check_info(fd, base, "unregistered");
		if ((e = get(fd, id, &st)) != ENOENT)
			fail("get %u unregistered: %s, not ENOENT", id, strerror(e));
		if ((e = unreg(fd, id)) != ENOENT)
			fail("unregister %u twice: %s, not ENOENT", id, strerror(e));
	}
	/* closing the file unregisters what it registered, and only that */
	fd3 = open_dev();
	r = valid_reg(99);
	if ((e = reg(fd2, &r)))
		fail("register 99: %s", strerror(e));
	for (k = 0; k < 3; k++) {
		ids[k] = 10 + 50 * k;
		r = valid_reg(ids[k]);
		if ((e = reg(fd3, &r)))
			fail("register %u: %s", ids[k], strerror(e));
	}
	e = info(fd, &in);
	if (e || in.nfs != base->nfs + 4 || in.allocs < base->allocs + 4)
		fail("4 registered: nfs %u allocs %llu", in.nfs, (unsigned long long)in.allocs);
	close(fd3);
	check_info(fd, &one, "the opener of 3 closed");
	for (k = 0; k < 3; k++)
		if ((e = get(fd, ids[k], &st)) != ENOENT)
			fail("get %u after close: %s, not ENOENT", ids[k], strerror(e));
	if ((e = get(fd, 99, &st)))
		fail("get 99, another opener's: %s", strerror(e));
	close(fd2);
	check_info(fd, base, "both closed");
	case_end("valid_cycles");
}

/* ---- hostile input ---- */

enum { C_CMD, C_FIELD, C_MULTI, C_RANDOM, C_UNREG, C_SETPID, C_GET, C_FAULT, C_N };
static const char *const cname[C_N] = {
	"unknown_cmds_enotty", "register_one_bad_field", "register_several_bad_fields",
	"register_random_bytes", "unregister_random", "set_pid_random",
	"get_random", "bad_pointers_efault",
};
static unsigned int ccount[C_N], cfailed[C_N];

static bool is_valid_cmd(uint32_t cmd)
{
	return cmd == TDM_SCHED_IOC_REGISTER || cmd == TDM_SCHED_IOC_UNREGISTER ||
	       cmd == TDM_SCHED_IOC_SET_PID || cmd == TDM_SCHED_IOC_GET ||
	       cmd == TDM_SCHED_IOC_INFO;
}

/* ioctls the VFS answers before the driver (do_vfs_ioctl) */
static bool vfs_cmd(uint32_t cmd)
{
	uint32_t type = _IOC_TYPE(cmd);

	return type == 0 || type == 'T' || type == 'X' || type == 'f' ||
	       type == 0x94 || type == 0x15;
}

static uint32_t bad_pid(void)
{
	switch (rnd_below(4)) {
	case 0:
		return dead_pid;
	case 1:
		return thread_tid;
	case 2:
		return 0x400000 + rnd_below(0x7fc00000);	/* above pid_max */
	default:
		return 0x80000000u | rnd();			/* negative */
	}
}

static int bad_fd_number(void)
{
	switch (rnd_below(3)) {
	case 0:
		return closed_fd;
	case 1:
		return 1000 + rnd_below(1 << 20);
	default:
		return 0x7fffff00 + rnd_below(0xff);
	}
}

static int any_neg(void)
{
	return rnd_below(2) ? -1 - (int)rnd_below(100) : (int)(0x80000000u | rnd());
}

/* Apply one fault to r; its errno */
static int mutate(struct tdm_sched_reg *r, int fd2_for_exist)
{
	int wrong[8], n = 0;

	switch (rnd_below(16)) {
	case 0:
		r->nf_id = TDM_SCHED_MAX_NFS + rnd_below(0xffffffffu - TDM_SCHED_MAX_NFS);
		return EINVAL;
	case 1:
		r->flags = 1u << rnd_below(32) | rnd();
		return EINVAL;
	case 2:
		r->reserved[rnd_below(3)] = 1ull << rnd_below(64) | rnd();
		return EINVAL;
	case 3:
		r->weight = TDM_WT_MAX_ + 1 + rnd_below(0xffffffffu - TDM_WT_MAX_ - 1);
		return EINVAL;
	case 4:
		r->weight_kind = 3 + rnd_below(0xfffffff0u);
		return EINVAL;
	case 5:
		r->weight_kind = TDM_SCHED_WEIGHT_NONE;
		do
			r->weight_fd = rnd_below(2) ? (int)rnd_below(64) : (int)rnd();
		while (r->weight_fd == -1);
		return EINVAL;
	case 6:
		r->weight_kind = rnd_below(2) ? TDM_SCHED_WEIGHT_V1 : TDM_SCHED_WEIGHT_V2;
		r->weight_fd = any_neg();
		return EBADF;
	case 7:
		r->xsks_fd = rnd_below(2) ? any_neg() : bad_fd_number();
		return EBADF;
	case 8:
		r->queues_fd = rnd_below(2) ? any_neg() : bad_fd_number();
		return EBADF;
	case 9:
		r->weight_kind = rnd_below(2) ? TDM_SCHED_WEIGHT_V1 : TDM_SCHED_WEIGHT_V2;
		r->weight_fd = bad_fd_number();
		return EBADF;
	case 10:	/* not an XSKMAP of at least nf_id + 1 */
		wrong[n++] = pipe_r;
		wrong[n++] = hashm;
		wrong[n++] = q128;
		wrong[n++] = q_percpu;
		wrong[n++] = wfake;
		if (r->nf_id >= 4)
			wrong[n++] = xsk4;
		r->xsks_fd = wrong[rnd_below(n)];
		return EINVAL;
	case 11:	/* not an array of struct tdm_nf_queue of nf_id + 1 */
		wrong[n++] = pipe_w;
		wrong[n++] = hashm;
		wrong[n++] = xsk128;
		wrong[n++] = q_vsize;
		wrong[n++] = q_percpu;
		if (r->nf_id >= 4)
			wrong[n++] = q4;
		r->queues_fd = wrong[rnd_below(n)];
		return EINVAL;
	case 12:	/* not a writable cgroup file of the kind said */
		r->weight_kind = TDM_SCHED_WEIGHT_V2;
		wrong[n++] = wfake;
		wrong[n++] = pipe_w;
		wrong[n++] = q128;
		if (wfd_ro >= 0)
			wrong[n++] = wfd_ro;
		if (wother >= 0)
			wrong[n++] = wother;
		if (wshares >= 0)
			wrong[n++] = wshares;
		r->weight_fd = wrong[rnd_below(n)];
		if (wfd >= 0 && rnd_below(3) == 0) {
			r->weight_kind = TDM_SCHED_WEIGHT_V1;
			r->weight_fd = wfd;
		}
		return EINVAL;
	case 13:
	case 14:
		r->pid = bad_pid();
		return ESRCH;
	default:
		if (held_id < 0)
			return mutate(r, fd2_for_exist);
		r->nf_id = held_id;
		return EEXIST;
	}
}

static bool in_set(int e, const int *set, int n)
{
	for (int i = 0; i < n; i++)
		if (set[i] == e)
			return true;
	return false;
}

/* One rejected call: the errno is one of want[], and nothing changed */
static void rejected(int c, int fd, int e, const int *want, int n,
		     const struct tdm_sched_info *before, const char *what)
{
	struct tdm_sched_info in;
	int ie = info(fd, &in);

	ccount[c]++;
	if (ie || in.nfs != before->nfs || in.allocs != before->allocs) {
		if (cfailed[c]++ < 5)
			diag("%s: %s; then nfs %u allocs %llu, before %u %llu",
			     cname[c], what, in.nfs, (unsigned long long)in.allocs,
			     before->nfs, (unsigned long long)before->allocs);
		return;
	}
	if (!in_set(e, want, n) && cfailed[c]++ < 5)
		diag("%s: %s: %s (%d), expected %s", cname[c], what,
		     e ? strerror(e) : "success", e, strerror(want[0]));
}

static char *unmapped;		/* a page, unmapped */
static char *edge;		/* a page followed by an unmapped one */
static char *ro;		/* a read-only page */

static void fault_case(int fd, const struct tdm_sched_info *before)
{
	static const unsigned long cmds[] = {
		TDM_SCHED_IOC_REGISTER, TDM_SCHED_IOC_UNREGISTER,
		TDM_SCHED_IOC_SET_PID, TDM_SCHED_IOC_GET, TDM_SCHED_IOC_INFO,
	};
	unsigned long cmd = cmds[rnd_below(5)];
	size_t size = _IOC_SIZE(cmd);
	struct tdm_sched_reg r = valid_reg(rnd_below(TDM_SCHED_MAX_NFS));
	char what[96];
	void *p;
	int want = EFAULT, e;

	if ((int)r.nf_id == held_id)
		r.nf_id = (r.nf_id + 1) % TDM_SCHED_MAX_NFS;
	switch (rnd_below(4)) {
	case 0:
		p = NULL;
		break;
	case 1:
		p = unmapped + rnd_below(4096 - size);
		break;
	case 2:		/* the struct's last bytes are unmapped */
		p = edge + 4096 - size + 1 + rnd_below(size);
		if (cmd == TDM_SCHED_IOC_GET && held_id >= 0)
			/* an NF that is there: GET gets to write back */
			memcpy(p, &held_id, edge + 4096 - (char *)p < 4 ?
			       (size_t)(edge + 4096 - (char *)p) : 4);
		else if (size > 4)	/* what fits: a valid start */
			memcpy(p, &r, edge + 4096 - (char *)p);
		else
			memcpy(p, &r.nf_id, edge + 4096 - (char *)p);
		break;
	default:	/* read-only: for the calls that write back */
		if (cmd != TDM_SCHED_IOC_GET && cmd != TDM_SCHED_IOC_INFO)
			cmd = TDM_SCHED_IOC_INFO;
		p = ro;
		if (cmd == TDM_SCHED_IOC_GET && held_id < 0)
			cmd = TDM_SCHED_IOC_INFO;
		break;
	}
	e = xioctl(fd, cmd, p);
	snprintf(what, sizeof(what), "ioctl %#lx at %p", cmd, p);
	rejected(C_FAULT, fd, e, &want, 1, before, what);
}

static void hostile(int fd, const struct tdm_sched_info *base, int cases)
{
	struct tdm_sched_info before;
	struct tdm_sched_reg r;
	struct tdm_sched_state st;
	char what[160], buf[4096] = {};
	int fd2 = open_dev(), e, want[4], n, i, k;
	uint32_t cmd, id, pid;

	/* PROT_NONE, not unmapped: no later mmap() takes their place */
	unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	edge = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(edge + 4096, 4096, PROT_NONE);
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	held_id = 42;
	*(uint32_t *)ro = held_id;	/* GET's nf_id */
	mprotect(ro, 4096, PROT_READ);

	/* one NF stays registered, by fd: EEXIST and EPERM have a target */
	r = valid_reg(held_id);
	if ((e = reg(fd, &r))) {
		diag("register %d: %s", held_id, strerror(e));
		held_id = -1;
	}

	for (i = 0; i < cases; i++) {
		int c = rnd_below(C_N);

		info(fd, &before);

		switch (c) {
		case C_CMD:
			do {
				switch (rnd_below(3)) {
				case 0:
					cmd = rnd();
					break;
				case 1:	/* ours, but another size or direction */
					cmd = _IOC(rnd_below(4), TDM_SCHED_IOC_MAGIC,
						   1 + rnd_below(5), rnd_below(256));
					break;
				default: /* our magic, another number */
					cmd = _IOC(rnd_below(4), TDM_SCHED_IOC_MAGIC,
						   rnd_below(256), rnd_below(1 << 14));
				}
			} while (is_valid_cmd(cmd) || vfs_cmd(cmd));
			want[0] = ENOTTY;
			e = xioctl(fd, cmd, buf);
			snprintf(what, sizeof(what), "cmd %#x", cmd);
			rejected(c, fd, e, want, 1, &before, what);
			break;
		case C_FIELD:
		case C_MULTI:
			id = rnd_below(TDM_SCHED_MAX_NFS);
			if ((int)id == held_id)
				id = (id + 1) % TDM_SCHED_MAX_NFS;
			r = valid_reg(id);
			n = c == C_FIELD ? 1 : 2 + rnd_below(2);
			for (k = 0; k < n; k++)
				want[k] = mutate(&r, fd2);
			e = reg(rnd_below(4) ? fd : fd2, &r);
			snprintf(what, sizeof(what),
				 "register id %u xsks %d queues %d wfd %d kind %u pid %u weight %u flags %#x res %llx/%llx/%llx",
				 r.nf_id, r.xsks_fd, r.queues_fd, r.weight_fd, r.weight_kind,
				 r.pid, r.weight, r.flags, (unsigned long long)r.reserved[0],
				 (unsigned long long)r.reserved[1], (unsigned long long)r.reserved[2]);
			rejected(c, fd, e, want, n, &before, what);
			if (!e && r.nf_id < TDM_SCHED_MAX_NFS)
				unreg(fd, r.nf_id), unreg(fd2, r.nf_id);
			break;
		case C_RANDOM:
			for (k = 0; k < (int)sizeof(r); k++)
				((uint8_t *)&r)[k] = rnd();
			if (rnd_below(2)) {	/* past the first checks */
				r.nf_id %= TDM_SCHED_MAX_NFS;
				r.flags = 0;
				memset(r.reserved, 0, sizeof(r.reserved));
				r.weight %= TDM_WT_MAX_ + 1;
				r.weight_kind %= 3;
				r.xsks_fd = rnd_below(2) ? xsk128 : (int)rnd_below(40);
				r.queues_fd = rnd_below(2) ? q128 : (int)rnd_below(40);
				r.weight_fd = (int)rnd_below(40);
			}
			want[0] = EINVAL;
			want[1] = EBADF;
			want[2] = ESRCH;
			want[3] = EEXIST;
			e = reg(fd, &r);
			snprintf(what, sizeof(what), "random register id %u xsks %d queues %d wfd %d kind %u pid %u",
				 r.nf_id, r.xsks_fd, r.queues_fd, r.weight_fd,
				 r.weight_kind, r.pid);
			if (!e) {	/* valid by chance? undo and note it */
				diag("%s: accepted", what);
				unreg(fd, r.nf_id);
				ccount[c]++;
				break;
			}
			rejected(c, fd, e, want, 4, &before, what);
			break;
		case C_UNREG:
			id = rnd_below(2) ? rnd() : rnd_below(TDM_SCHED_MAX_NFS);
			k = rnd_below(2);
			if (k && held_id >= 0 && rnd_below(4) == 0)
				id = held_id;
			if ((int)id == held_id && !k)	/* ours: would succeed */
				id = TDM_SCHED_MAX_NFS + id;
			want[0] = id >= TDM_SCHED_MAX_NFS ? EINVAL :
				  (int)id == held_id ? EPERM : ENOENT;
			e = unreg(k ? fd2 : fd, id);
			snprintf(what, sizeof(what), "unregister %u by %s", id, k ? "another" : "the owner");
			rejected(c, fd, e, want, 1, &before, what);
			break;
		case C_SETPID:
			id = rnd_below(2) ? rnd() : rnd_below(TDM_SCHED_MAX_NFS);
			k = rnd_below(3);
			pid = k == 0 ? bad_pid() : k == 1 ? 0 : (uint32_t)getpid();
			/* the pid is looked up first */
			want[0] = k == 0 ? ESRCH : id >= TDM_SCHED_MAX_NFS ? EINVAL :
				  (int)id == held_id ? EPERM : ENOENT;
			/* ours would succeed: another opener's call */
			e = set_pid((int)id == held_id ? fd2 : fd, id, pid);
			snprintf(what, sizeof(what), "set_pid %u %u", id, pid);
			rejected(c, fd, e, want, 1, &before, what);
			break;
		case C_GET:
			id = rnd_below(2) ? rnd() : rnd_below(TDM_SCHED_MAX_NFS);
			if ((int)id == held_id)
				id = ~id;
			want[0] = id >= TDM_SCHED_MAX_NFS ? EINVAL : ENOENT;
			e = get(rnd_below(2) ? fd : fd2, id, &st);
			snprintf(what, sizeof(what), "get %u", id);
			rejected(c, fd, e, want, 1, &before, what);
			break;
		default:
			fault_case(rnd_below(2) ? fd : fd2, &before);
		}
	}
	if (held_id >= 0) {
		if ((e = unreg(fd, held_id)))
			diag("unregister %d: %s", held_id, strerror(e));
		held_id = -1;
	}
	close(fd2);
	for (i = 0; i < C_N; i++) {
		diag("%s: %u cases, %u wrong", cname[i], ccount[i], cfailed[i]);
		case_bad = cfailed[i] != 0 || ccount[i] == 0;
		case_end(cname[i]);
	}
	check_info(fd, base, "after the hostile cases");
	case_end("hostile_cases_leave_nothing");
}

/* ---- without CAP_NET_ADMIN ---- */

static int drop_net_admin(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
	d[CAP_NET_ADMIN / 32].permitted &= ~(1u << (CAP_NET_ADMIN % 32));
	d[CAP_NET_ADMIN / 32].inheritable &= ~(1u << (CAP_NET_ADMIN % 32));
	return syscall(SYS_capset, &h, d);
}

static void unprivileged(int fd, const struct tdm_sched_info *base)
{
	struct tdm_sched_info want = *base;
	struct tdm_sched_reg r = valid_reg(7);
	int how, e, st;

	r.pid = 0;
	if ((e = reg(fd, &r))) {
		fail("register 7: %s", strerror(e));
		case_end("without_cap_net_admin_eperm");
		return;
	}
	info(fd, &want);
	for (how = 0; how < 2; how++) {
		pid_t c = fork();

		if (!c) {
			struct tdm_sched_info in;
			struct tdm_sched_state gs;
			struct tdm_sched_reg r2 = valid_reg(8);
			int bad = 0;

			if (how == 0 ? drop_net_admin() : setuid(65534)) {
				printf("# %s: %s\n", how ? "setuid" : "capset", strerror(errno));
				_exit(2);
			}
			bad |= info(fd, &in) != EPERM;
			bad |= reg(fd, &r2) != EPERM;
			bad |= unreg(fd, 7) != EPERM;
			bad |= set_pid(fd, 7, 0) != EPERM;
			bad |= get(fd, 7, &gs) != EPERM;
			_exit(bad);
		}
		waitpid(c, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail("%s: not EPERM for every call (status %#x)",
			     how ? "setuid nobody" : "without CAP_NET_ADMIN", st);
		check_info(fd, &want, "after the unprivileged calls");
	}
	if ((e = unreg(fd, 7)))
		fail("unregister 7: %s", strerror(e));
	check_info(fd, base, "unregistered");
	case_end("without_cap_net_admin_eperm");
}

static int cmd_ioctl(int argc, char **argv)
{
	struct tdm_sched_info base, in;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) :
			(uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	int cases = argc > 3 ? atoi(argv[3]) : 4000;
	int fd = open_dev(), e;

	printf("KTAP version 1\n1..%d\n", 1 + C_N + 1 + 1 + 1);
	diag("seed %#llx (kmod_probe ioctl %#llx %d repeats this run)",
	     (unsigned long long)seed, (unsigned long long)seed, cases);
	rng = seed ? seed : 1;
	setup_fds();
	if ((e = info(fd, &base))) {
		printf("Bail out! INFO: %s\n", strerror(e));
		return 1;
	}
	diag("start: nfs %u allocs %llu", base.nfs, (unsigned long long)base.allocs);
	valid_cycles(fd, &base);
	hostile(fd, &base, cases);
	unprivileged(fd, &base);
	close(fd);
	fd = open_dev();
	e = info(fd, &in);
	if (e || in.allocs != base.allocs || in.nfs != base.nfs)
		fail("end: nfs %u allocs %llu, start %u %llu", in.nfs,
		     (unsigned long long)in.allocs, base.nfs,
		     (unsigned long long)base.allocs);
	case_end("allocs_end_where_they_started");
	close(wfd);
	close(wfd_ro);
	close(wother);
	if (*cgdir && rmdir(cgdir))
		diag("rmdir %s: %s", cgdir, strerror(errno));
	return finish();
}

/* ---- the kfuncs ---- */

struct kk {
	uint32_t nf_id;
	int backlog;
	int congested;
	uint32_t runs;
};

/* kk is a copy of the program's .data (libbpf 1.1 maps it for
 * skeletons only): kprog_run() writes it in and reads it back */
struct kprog {
	struct bpf_object *obj;
	int prog_fd, data_fd;
	struct kk *kk, copy;
};

static int libbpf_silent(enum libbpf_print_level l, const char *f, va_list ap)
{
	return 0;
}

static int kprog_load(const char *path, struct kprog *kp, bool quiet)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	size_t sz;
	int err;

	if (quiet)
		libbpf_set_print(libbpf_silent);
	kp->obj = bpf_object__open_file(path, NULL);
	if (!kp->obj)
		return -errno;
	err = bpf_object__load(kp->obj);
	if (err) {
		bpf_object__close(kp->obj);
		return err;
	}
	prog = bpf_object__find_program_by_name(kp->obj, "kmod_kfunc");
	kp->prog_fd = bpf_program__fd(prog);
	kp->kk = NULL;
	bpf_object__for_each_map(map, kp->obj) {
		const char *n = bpf_map__name(map);

		if (strlen(n) > 5 && !strcmp(n + strlen(n) - 5, ".data") &&
		    bpf_map__initial_value(map, &sz) && sz == sizeof(struct kk)) {
			kp->data_fd = bpf_map__fd(map);
			kp->kk = &kp->copy;
		}
	}
	if (!kp->kk || bpf_map_lookup_elem(kp->data_fd, &(uint32_t){ 0 }, kp->kk))
		return -ENOENT;
	return 0;
}

static int kprog_run(struct kprog *kp, uint32_t id)
{
	char pkt[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = 1);
	uint32_t runs = kp->kk->runs;

	kp->kk->nf_id = id;
	kp->kk->backlog = kp->kk->congested = 1234567;
	if (bpf_map_update_elem(kp->data_fd, &(uint32_t){ 0 }, kp->kk, 0) ||
	    bpf_prog_test_run_opts(kp->prog_fd, &o) ||
	    bpf_map_lookup_elem(kp->data_fd, &(uint32_t){ 0 }, kp->kk))
		return -errno;
	if (o.retval != 2 /* XDP_PASS */ || kp->kk->runs != runs + 1) {
		diag("test run: retval %u, runs %u then %u", o.retval, runs,
		     kp->kk->runs);
		return -EIO;
	}
	return 0;
}

static int cmd_kfunc(const char *obj)
{
	struct xdp_mmap_offsets off = {};
	socklen_t len = sizeof(off);
	struct tdm_sched_info in;
	struct tdm_sched_state st;
	struct tdm_sched_reg r;
	struct kprog kp;
	int fd = open_dev(), e, s, ring = 64;
	uint32_t id = 77;

	printf("KTAP version 1\n1..4\n");
	rng = 1;
	xsk128 = map_create(BPF_MAP_TYPE_XSKMAP, 4, TDM_SCHED_MAX_NFS);
	q128 = map_create(BPF_MAP_TYPE_ARRAY, sizeof(struct tdm_nf_queue), TDM_SCHED_MAX_NFS);
	e = kprog_load(obj, &kp, false);
	if (e) {
		fail("%s does not load: %s", obj, strerror(-e));
		case_end("loads_with_the_module");
		return finish();
	}
	case_end("loads_with_the_module");

	if (get(fd, id, &st) != ENOENT)
		fail("NF %u is registered already", id);
	if ((e = kprog_run(&kp, id)) || kp.kk->backlog != -ENOENT || kp.kk->congested != -ENOENT)
		fail("id %u: run %d, backlog %d congested %d, not -ENOENT", id, e,
		     kp.kk->backlog, kp.kk->congested);
	if ((e = kprog_run(&kp, 1000)) || kp.kk->backlog != -ENOENT || kp.kk->congested != -ENOENT)
		fail("id 1000: run %d, backlog %d congested %d, not -ENOENT", e,
		     kp.kk->backlog, kp.kk->congested);
	if ((e = kprog_run(&kp, 0xffffffff)) || kp.kk->backlog != -ENOENT || kp.kk->congested != -ENOENT)
		fail("id 2^32-1: run %d, backlog %d congested %d, not -ENOENT", e,
		     kp.kk->backlog, kp.kk->congested);
	case_end("not_registered_enoent");

	r = (struct tdm_sched_reg){ .nf_id = id, .xsks_fd = xsk128, .queues_fd = q128,
				    .weight_fd = -1 };
	if ((e = reg(fd, &r)))
		fail("register %u: %s", id, strerror(e));
	if ((e = kprog_run(&kp, id)) || kp.kk->backlog != -ENODEV || kp.kk->congested != 0)
		fail("id %u, no socket: run %d, backlog %d congested %d, not -ENODEV 0", id, e,
		     kp.kk->backlog, kp.kk->congested);
	if ((e = unreg(fd, id)))
		fail("unregister %u: %s", id, strerror(e));
	if ((e = kprog_run(&kp, id)) || kp.kk->backlog != -ENOENT)
		fail("id %u unregistered: backlog %d", id, kp.kk->backlog);
	case_end("no_socket_enodev_not_congested");

	s = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s < 0 || setsockopt(s, SOL_XDP, XDP_RX_RING, &ring, sizeof(ring)) ||
	    getsockopt(s, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len) || info(fd, &in))
		fail("AF_XDP socket: %s", strerror(errno));
	else if (in.ring_consumer_off != off.rx.consumer ||
		 in.ring_producer_off != off.rx.producer)
		fail("ring offsets: the module's consumer %u producer %u, the socket's %llu %llu",
		     in.ring_consumer_off, in.ring_producer_off,
		     (unsigned long long)off.rx.consumer, (unsigned long long)off.rx.producer);
	else
		diag("ring offsets: consumer %u producer %u", in.ring_consumer_off,
		     in.ring_producer_off);
	case_end("ring_offsets_are_xdp_mmap_offsets");
	bpf_object__close(kp.obj);
	return finish();
}

static int cmd_backlog(const char *obj, uint32_t id)
{
	struct tdm_sched_reg r = { .nf_id = id, .weight_fd = -1 };
	struct tdm_sched_state st;
	struct kprog kp;
	int fd = open_dev(), e;

	r.xsks_fd = tdm_pinned_map("tdm_xsks");
	r.queues_fd = tdm_pinned_map("tdm_nf_queues");
	if (r.xsks_fd < 0 || r.queues_fd < 0) {
		fprintf(stderr, "kmod_probe: pinned maps: %s\n", strerror(errno));
		return 1;
	}
	if ((e = reg(fd, &r))) {
		fprintf(stderr, "kmod_probe: register %u: %s\n", id, strerror(e));
		return 1;
	}
	if ((e = get(fd, id, &st))) {
		fprintf(stderr, "kmod_probe: get %u: %s\n", id, strerror(e));
		return 1;
	}
	if ((e = kprog_load(obj, &kp, false)) || (e = kprog_run(&kp, id))) {
		fprintf(stderr, "kmod_probe: %s: %s\n", obj, strerror(-e));
		return 1;
	}
	printf("backlog %d get %u congested %d\n", kp.kk->backlog, st.backlog,
	       kp.kk->congested);
	bpf_object__close(kp.obj);
	if ((e = unreg(fd, id))) {
		fprintf(stderr, "kmod_probe: unregister %u: %s\n", id, strerror(e));
		return 1;
	}
	close(fd);
	return 0;
}

/* tandem_sched's BTF: its fd, and the ids of its two kfuncs */
static int kmod_btf(struct btf *vmlinux, int *backlog_id, int *congested_id)
{
	struct bpf_btf_info bi;
	char name[64];
	__u32 id = 0, len;
	struct btf *btf;
	int fd;

	while (!bpf_btf_get_next_id(id, &id)) {
		fd = bpf_btf_get_fd_by_id(id);
		if (fd < 0)
			continue;
		memset(&bi, 0, sizeof(bi));
		bi.name = (__u64)(uintptr_t)name;
		bi.name_len = sizeof(name);
		len = sizeof(bi);
		if (bpf_obj_get_info_by_fd(fd, &bi, &len) || strcmp(name, TDM_SCHED_NAME)) {
			close(fd);
			continue;
		}
		btf = btf__load_from_kernel_by_id_split(id, vmlinux);
		if (!btf) {
			close(fd);
			return -errno;
		}
		*backlog_id = btf__find_by_name_kind(btf, "tdm_sched_nf_backlog", BTF_KIND_FUNC);
		*congested_id = btf__find_by_name_kind(btf, "tdm_sched_nf_congested", BTF_KIND_FUNC);
		btf__free(btf);
		if (*backlog_id < 0 || *congested_id < 0) {
			close(fd);
			return -ENOENT;
		}
		return fd;
	}
	return -ENOENT;
}

#define INSN(c, d, s_, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), \
	.src_reg = (s_), .off = (o), .imm = (i) })

/* An XDP program: out[0] = backlog(id), out[1] = congested(id) */
static int kfunc_prog(int btf_fd, int backlog_id, int congested_id, int out_fd, uint32_t id)
{
	int fds[2] = { -1, btf_fd };
	struct bpf_insn insns[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, id),
		INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 1, backlog_id),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, id),
		INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 1, congested_id),
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_2, BPF_PSEUDO_MAP_VALUE, 0, out_fd),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_STX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_6, 0, 0),
		INSN(BPF_STX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_0, 4, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 2 /* XDP_PASS */),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .fd_array = fds);

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "kmod_cycle", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), &o);
}

/*
 * Hold two do-nothing BPF raw tracepoint probes on each tracepoint the
 * module probes, for the cycles. Linux (kernel/tracepoint.c,
 * tracepoint_update_call()) points a tracepoint's static call straight
 * at its probe while it has one, and at the iterator from two on; a
 * static key guards it from one on. Each change rewrites kernel text
 * (text_poke_bp(): int3, IPIs) at call sites every CPU runs, such as
 * __schedule()'s. With two probes held, the module's register and
 * unregister move the count between 2 and 3 and patch nothing. Under
 * TCG, cross-CPU patching of code the other vCPU runs now and then hung
 * the guest (a soft lockup in rmmod while the other vCPU looped in
 * exc_int3): what this test is about is the module, not qemu's
 * handling of cross-modified code. fds[] gets 2 per tracepoint; 0 or
 * -errno.
 */
#define HOLD_TPS	2
static int hold_tracepoints(int fds[2 * HOLD_TPS])
{
	static const char *const names[HOLD_TPS] = {
		"sched_switch", "sched_process_exit",
	};
	struct bpf_insn insns[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	int i, pfd;

	for (i = 0; i < 2 * HOLD_TPS; i++) {
		pfd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "kmod_hold",
				    "GPL", insns, 2, NULL);
		if (pfd < 0)
			return pfd;
		fds[i] = bpf_raw_tracepoint_open(names[i / 2], pfd);
		close(pfd);		/* the attachment holds the program */
		if (fds[i] < 0)
			return fds[i];
	}
	return 0;
}

/*
 * Hold the probes of hold_tracepoints() while process pid (a test)
 * lives, so that every insmod and rmmod of the test patches no kernel
 * text. Not the test's child: a test's bare `wait` would wait for it.
 * Prints "held" once the probes are in place.
 */
static int cmd_hold(int pid)
{
	int held[2 * HOLD_TPS];
	int e;

	if (pid <= 1 || kill(pid, 0))
		return 1;
	e = hold_tracepoints(held);
	if (e) {
		printf("# hold sched_switch, sched_process_exit: %s\n", strerror(-e));
		return 1;
	}
	printf("held\n");
	fflush(stdout);
	while (!kill(pid, 0))
		usleep(200000);
	return 0;
}

static int cmd_cycles(const char *ko, int n, uint32_t id)
{
	struct tdm_sched_reg r = { .nf_id = id, .weight_fd = -1 };
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct tdm_sched_state st;
	int i, k, e, kfd, dfd, bfd, pfd, out, bid = 0, cid = 0, bad = 0;
	int held[2 * HOLD_TPS];
	int32_t res[2];
	char pkt[64] = {};

	e = hold_tracepoints(held);
	if (e) {
		printf("# hold sched_switch, sched_process_exit: %s\n", strerror(-e));
		return 1;
	}
	r.xsks_fd = tdm_pinned_map("tdm_xsks");
	r.queues_fd = tdm_pinned_map("tdm_nf_queues");
	out = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 8, 1, NULL);
	if (!vmlinux || r.xsks_fd < 0 || r.queues_fd < 0 || out < 0) {
		printf("# vmlinux BTF, pinned maps: %s\n", strerror(errno));
		return 1;
	}
	for (i = 1; i <= n && !bad; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt,
			    .data_size_in = sizeof(pkt), .repeat = 1);

		kfd = open(ko, O_RDONLY | O_CLOEXEC);
		if (kfd < 0 || syscall(SYS_finit_module, kfd, "", 0)) {
			printf("# cycle %d: load %s: %s\n", i, ko, strerror(errno));
			return 1;
		}
		close(kfd);
		dfd = open(TDM_SCHED_DEV, O_RDWR | O_CLOEXEC);
		if (dfd < 0 || (e = reg(dfd, &r)) || (e = get(dfd, id, &st))) {
			printf("# cycle %d: open, register, get: %s\n", i,
			       strerror(dfd < 0 ? errno : e));
			bad = 1;
		}
		bfd = kmod_btf(vmlinux, &bid, &cid);
		pfd = bfd < 0 ? bfd : kfunc_prog(bfd, bid, cid, out, id);
		memset(res, 0x55, sizeof(res));
		if (pfd < 0 || bpf_map_update_elem(out, &(uint32_t){ 0 }, res, 0) ||
		    bpf_prog_test_run_opts(pfd, &t) || t.retval != 2 ||
		    bpf_map_lookup_elem(out, &(uint32_t){ 0 }, res)) {
			printf("# cycle %d: kfunc program: %s\n", i, strerror(errno));
			bad = 1;
		} else if (!bad && (res[0] < 0 || (uint32_t)res[0] != st.backlog ||
				    (res[1] != 0 && res[1] != 1))) {
			/* the ring may move between GET and the run; not by
			 * much at the test's rate */
			if (res[0] < 0 || res[1] < 0 || res[1] > 1 ||
			    abs(res[0] - (int)st.backlog) > 64) {
				printf("# cycle %d: backlog %d congested %d, GET's backlog %u\n",
				       i, res[0], res[1], st.backlog);
				bad = 1;
			}
		}
		if (pfd >= 0)
			close(pfd);
		if (bfd >= 0)
			close(bfd);
		if (dfd >= 0 && !bad && (e = unreg(dfd, id))) {
			printf("# cycle %d: unregister: %s\n", i, strerror(e));
			bad = 1;
		}
		if (dfd >= 0)
			close(dfd);
		/* the program lets go of the module after a grace period */
		for (k = 0; k < 500; k++) {
			if (!syscall(SYS_delete_module, TDM_SCHED_NAME, O_NONBLOCK))
				break;
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EBUSY) {
				printf("# cycle %d: unload: %s\n", i, strerror(errno));
				return 1;
			}
			usleep(10000);
		}
		if (k == 500) {
			printf("# cycle %d: tandem_sched stays loaded\n", i);
			return 1;
		}
	}
	printf("# %d cycles%s\n", i - 1, bad ? ", the last one failed" : "");
	return bad;
}

static int cmd_noload(const char *obj)
{
	struct kprog kp;
	int e = kprog_load(obj, &kp, true);

	if (!e) {
		printf("%s loaded without the module\n", obj);
		bpf_object__close(kp.obj);
		return 1;
	}
	printf("%s does not load: %s\n", obj, strerror(-e));
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "ioctl"))
		return cmd_ioctl(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "kfunc"))
		return cmd_kfunc(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "backlog"))
		return cmd_backlog(argv[2], strtoul(argv[3], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return cmd_hold(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "cycles"))
		return cmd_cycles(argv[2], atoi(argv[3]), strtoul(argv[4], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "noload"))
		return cmd_noload(argv[2]);
	fprintf(stderr, "usage: kmod_probe ioctl [SEED [CASES]] | kfunc OBJ | backlog OBJ ID | cycles KO N ID | noload OBJ | hold PID\n");
	return 2;
}
