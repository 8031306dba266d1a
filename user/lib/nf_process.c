// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Process NFs, the control side (Documentation/process-nfs.rst): the
 * parameters, the veth pair tdmnf<id>a/tdmnf<id>b each one gets with the
 * programs of bpf/proc.bpf.c on it, its queue's watermarks and its
 * command line. The process itself is tandemd's (or the user's) to run;
 * it opens its socket with libtandem-nf (user/nf/).
 */
#include <fcntl.h>
#include <signal.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "internal.h"
#include "bpf/proc.skel.h"

#define PROC_RING_DEFAULT	1024
#define PROC_RING_MIN		64
#define PROC_RING_MAX		4096
#define PROC_HIGH_DEFAULT	80	/* NFVNice's watermarks */
#define PROC_LOW_DEFAULT	60
#define PROC_WEIGHT_MAX		10000	/* cgroup v2 cpu.weight's range */

static int perr(char *err, size_t errlen, const char *fmt, const char *a)
{
	snprintf(err, errlen, fmt, a);
	return -EINVAL;
}

/* "0", "0-3", "0,2-3": CPUs below 64, as a mask. */
static int cpu_list(const char *s, __u64 *mask)
{
	const char *p = s;
	__u64 lo, hi;

	*mask = 0;
	for (;;) {
		if (tdm_parse_digits(p, &lo, &p) || lo > 63)
			return -EINVAL;
		hi = lo;
		if (*p == '-' &&
		    (tdm_parse_digits(p + 1, &hi, &p) || hi > 63 || hi < lo))
			return -EINVAL;
		for (; lo <= hi; lo++)
			*mask |= 1ULL << lo;
		if (!*p)
			return 0;
		if (*p++ != ',')
			return -EINVAL;
	}
}

/* The mask as a list of ranges: "0-2,5" */
static void cpu_list_format(__u64 mask, char *buf, size_t size)
{
	size_t len = 0;
	int i, j;

	buf[0] = 0;
	for (i = 0; i < 64 && len < size; i++) {
		if (!(mask & (1ULL << i)))
			continue;
		for (j = i; j + 1 < 64 && (mask & (1ULL << (j + 1))); j++)
			;
		len += snprintf(buf + len, size - len, j > i ? "%s%d-%d" :
				"%s%d", len ? "," : "", i, j);
		i = j;
	}
}

static const struct tdm_nf_param process_params[] = {
	{ "cpu", "LIST" },
	{ "weight", "auto|N" },
	{ "fail", "open|closed" },
	{ "ring", "N" },
	{ "high", "PCT" },
	{ "low", "PCT" },
	{ "backpressure", "on|off" },
	{}
};

static int process_parse(union tdm_nf_params *p, const char *const *vals,
			 char *err, size_t errlen)
{
	struct tdm_process_params *pp = TDM_NF_PARAMS(p, process);
	const char *cpu = vals[0], *weight = vals[1], *fail = vals[2];
	const char *ring = vals[3], *high = vals[4], *low = vals[5];
	const char *bp = vals[6];
	int ncpus;
	__u64 v;

	pp->ring = PROC_RING_DEFAULT;
	pp->high = PROC_HIGH_DEFAULT;
	pp->low = PROC_LOW_DEFAULT;
	/* an inspecting NF that is down must not become a hole */
	pp->fail = TDM_ACT_DROP;
	if (cpu && cpu_list(cpu, &pp->cpus))
		return perr(err, errlen,
			    "process: bad cpu list '%s' (expected e.g. 1, 0-3 or 0,2; CPUs 0 to 63)",
			    cpu);
	/* a CPU this machine lacks: tandemd could never start it */
	ncpus = libbpf_num_possible_cpus();
	if (pp->cpus && ncpus > 0 && ncpus < 64 && (pp->cpus >> ncpus))
		return perr(err, errlen,
			    "process: cpu list '%s' names a CPU this machine does not have",
			    cpu);
	if (weight && strcmp(weight, "auto")) {
		if (tdm_parse_uint(weight, 1, PROC_WEIGHT_MAX, &v))
			return perr(err, errlen,
				    "process: bad weight '%s' (expected auto or 1 to 10000)",
				    weight);
		pp->weight = v;
	}
	if (fail && !strcmp(fail, "open"))
		pp->fail = TDM_ACT_PASS;
	else if (fail && strcmp(fail, "closed"))
		return perr(err, errlen,
			    "process: bad 'fail %s' (expected open or closed)",
			    fail);
	if (ring) {
		if (tdm_parse_uint(ring, PROC_RING_MIN, PROC_RING_MAX, &v) ||
		    (v & (v - 1)))
			return perr(err, errlen,
				    "process: bad ring '%s' (expected a power of 2, 64 to 4096 frames)",
				    ring);
		pp->ring = v;
	}
	if (high) {
		if (tdm_parse_uint(high, 1, 100, &v))
			return perr(err, errlen,
				    "process: bad high watermark '%s' (expected 1 to 100, %% of the ring)",
				    high);
		pp->high = v;
		if (!low && pp->low >= pp->high)
			pp->low = pp->high - 1;
	}
	if (low) {
		if (tdm_parse_uint(low, 0, 99, &v))
			return perr(err, errlen,
				    "process: bad low watermark '%s' (expected 0 to 99, %% of the ring)",
				    low);
		pp->low = v;
	}
	if (pp->low >= pp->high)
		return perr(err, errlen,
			    "process: the low watermark must be below the high one%s",
			    "");
	if (bp && !strcmp(bp, "off"))
		pp->no_backpressure = 1;
	else if (bp && strcmp(bp, "on"))
		return perr(err, errlen,
			    "process: bad 'backpressure %s' (expected on or off)",
			    bp);
	return 0;
}

static void process_format(const union tdm_nf_params *p, char *buf,
			   size_t size)
{
	const struct tdm_process_params *pp = TDM_NF_PARAMS(p, process);
	char cpus[192] = "", weight[16] = "auto";

	if (pp->cpus) {
		memcpy(cpus, "cpu ", 4);
		cpu_list_format(pp->cpus, cpus + 4, sizeof(cpus) - 5);
		strcat(cpus, " ");
	}
	if (pp->weight)
		snprintf(weight, sizeof(weight), "%u", pp->weight);
	snprintf(buf, size, "%sweight %s fail %s ring %u high %u low %u%s",
		 cpus, weight, pp->fail == TDM_ACT_PASS ? "open" : "closed",
		 pp->ring, pp->high, pp->low,
		 pp->no_backpressure ? " backpressure off" : "");
}

static void dev_names(__u32 id, char *a, char *b)
{
	snprintf(a, IFNAMSIZ, TDM_PROC_DEV_CHAIN, id);
	snprintf(b, IFNAMSIZ, TDM_PROC_DEV_NF, id);
}

static void link_pin(__u32 id, const char *end, char *buf, size_t size)
{
	snprintf(buf, size, "%s/links/proc_%u_%s", tdm_pin_root(), id, end);
}

static struct nl_sock *nl_open(struct tdm_ctx *ctx)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk) {
		tdm_err(ctx, ENOMEM, "out of memory");
		return NULL;
	}
	if (nl_connect(sk, NETLINK_ROUTE)) {
		nl_socket_free(sk);
		tdm_err(ctx, EIO, "cannot open rtnetlink");
		return NULL;
	}
	return sk;
}

/* Delete the pair (deleting one end deletes both); 0 if it is gone. */
static int veth_del(struct nl_sock *sk, const char *a)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int err;

	if (!l)
		return -ENOMEM;
	rtnl_link_set_name(l, a);
	err = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	return err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND ? 0 : err;
}

static void sysctl_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;		/* no IPv6 in this kernel: nothing to silence */
	/* best effort: the programs drop strays anyway */
	if (write(fd, val, strlen(val)) < 0)
		errno = 0;
	close(fd);
}

/* Make tdmnf<id>a and tdmnf<id>b, without IPv6 (no neighbour
 * discovery of their own), up. */
static int veth_make(struct tdm_ctx *ctx, struct nl_sock *sk, __u32 id)
{
	char a[IFNAMSIZ], b[IFNAMSIZ], path[128];
	struct rtnl_link *l, *peer, *orig, *chg;
	const char *names[2] = { a, b };
	int err, i;

	dev_names(id, a, b);
	l = rtnl_link_veth_alloc();
	if (!l)
		return tdm_err(ctx, ENOMEM, "out of memory");
	rtnl_link_set_name(l, a);
	rtnl_link_set_mtu(l, TDM_PROC_MTU);
	peer = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(peer, b);
	rtnl_link_set_mtu(peer, TDM_PROC_MTU);
	rtnl_link_put(peer);
	err = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	if (err == -NLE_EXIST) {
		/* left by an NF of this id that was not cleaned up */
		veth_del(sk, a);
		err = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	}
	rtnl_link_put(l);
	if (err)
		return tdm_err(ctx, EIO, "creating the veth pair %s/%s: %s", a,
			       b, nl_geterror(err));
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path),
			 "/proc/sys/net/ipv6/conf/%s/disable_ipv6", names[i]);
		sysctl_write(path, "1");
		err = rtnl_link_get_kernel(sk, 0, names[i], &orig);
		if (err)
			break;
		chg = rtnl_link_alloc();
		if (!chg) {
			rtnl_link_put(orig);
			err = -NLE_NOMEM;
			break;
		}
		rtnl_link_set_flags(chg, IFF_UP);
		err = rtnl_link_change(sk, orig, chg, 0);
		rtnl_link_put(chg);
		rtnl_link_put(orig);
		if (err)
			break;
	}
	if (err) {
		veth_del(sk, a);
		return tdm_err(ctx, EIO, "setting up %s/%s: %s", a, b,
			       nl_geterror(err));
	}
	return 0;
}

/* Attach prog to ifindex in native mode and pin the link at path. */
static int xdp_link(struct tdm_ctx *ctx, int prog_fd, const char *dev,
		    const char *path)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
	__u32 ifindex = if_nametoindex(dev);
	int fd, err = 0;

	if (!ifindex)
		return tdm_err(ctx, errno, "%s: %s", dev, strerror(errno));
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	if (fd < 0)
		return tdm_err(ctx, errno, "attaching to %s: %s", dev,
			       strerror(errno));
	unlink(path);
	if (bpf_obj_pin(fd, path))
		err = tdm_err(ctx, errno, "pinning %s: %s", path,
			      strerror(errno));
	close(fd);
	return err;
}

static int tc_attach(struct tdm_ctx *ctx, int prog_fd, const char *dev,
		     enum bpf_tc_attach_point where)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	int err;

	hook.ifindex = if_nametoindex(dev);
	if (!hook.ifindex)
		return tdm_err(ctx, errno, "%s: %s", dev, strerror(errno));
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return tdm_err(ctx, -err, "adding clsact to %s: %s", dev,
			       strerror(-err));
	opts.prog_fd = prog_fd;
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		return tdm_err(ctx, -err, "attaching the TC program to %s: %s",
			       dev, strerror(-err));
	return 0;
}

/* Load bpf/proc.bpf.c for NF id and put its programs on the pair. */
static int progs_attach(struct tdm_ctx *ctx, __u32 id)
{
	char a[IFNAMSIZ], b[IFNAMSIZ], rx[256], ret[256];
	struct bpf_object_open_opts opts;
	struct tdm_proc *s;
	int err;

	dev_names(id, a, b);
	link_pin(id, "rx", rx, sizeof(rx));
	link_pin(id, "ret", ret, sizeof(ret));
	tdm_skel_opts(&opts);
	s = tdm_proc__open_opts(&opts);
	if (!s)
		return tdm_err(ctx, errno, "opening the process NF programs: %s",
			       strerror(errno));
	s->rodata->tdm_proc_nf_id = id;
	err = tdm_proc__load(s);
	if (err) {
		err = tdm_err(ctx, err, "loading the process NF programs: %s",
			      strerror(-err));
		goto out;
	}
	err = xdp_link(ctx, bpf_program__fd(s->progs.tdm_proc_rx), b, rx) ?:
	      xdp_link(ctx, bpf_program__fd(s->progs.tdm_proc_return), a, ret) ?:
	      tc_attach(ctx, bpf_program__fd(s->progs.tdm_proc_deliver), a,
			BPF_TC_INGRESS) ?:
	      tc_attach(ctx, bpf_program__fd(s->progs.tdm_proc_egress), a,
			BPF_TC_EGRESS) ?:
	      tc_attach(ctx, bpf_program__fd(s->progs.tdm_proc_egress), b,
			BPF_TC_EGRESS);
out:
	tdm_proc__destroy(s);
	return err;
}

/* The watermarks of pp in frames; high 0: never congested (bpf/lib/proc.h) */
static void watermarks(const struct tdm_process_params *pp, __u32 *high,
		       __u32 *low)
{
	*high = *low = 0;
	if (pp && !pp->no_backpressure) {
		*high = pp->ring * pp->high / 100 ?: 1;
		*low = pp->ring * pp->low / 100;
	}
}

static void queue_reset(struct tdm_ctx *ctx, __u32 id,
			const struct tdm_process_params *pp)
{
	struct tdm_nf_queue q = {};

	watermarks(pp, &q.high, &q.low);
	bpf_map_update_elem(ctx->nf_queues_fd, &id, &q, BPF_ANY);
}

static void process_destroy(struct tdm_ctx *ctx, __u32 id)
{
	char a[IFNAMSIZ], b[IFNAMSIZ], path[256];
	struct nl_sock *sk;

	bpf_map_delete_elem(ctx->xsks_fd, &id);
	dev_names(id, a, b);
	sk = nl_open(ctx);
	if (sk) {
		veth_del(sk, a);
		nl_socket_free(sk);
	}
	link_pin(id, "rx", path, sizeof(path));
	unlink(path);
	link_pin(id, "ret", path, sizeof(path));
	unlink(path);
	bpf_map_delete_elem(ctx->nf_cmds_fd, &id);
	queue_reset(ctx, id, NULL);
}

static int process_create(struct tdm_ctx *ctx, __u32 id,
			  union tdm_nf_params *p)
{
	struct nl_sock *sk = nl_open(ctx);
	int err;

	if (!sk)
		return -EIO;
	err = veth_make(ctx, sk, id);
	nl_socket_free(sk);
	if (err)
		return err;
	queue_reset(ctx, id, TDM_NF_PARAMS(p, process));
	err = progs_attach(ctx, id);
	if (err) {
		char msg[sizeof(ctx->err)];

		snprintf(msg, sizeof(msg), "%s", ctx->err);
		process_destroy(ctx, id);
		snprintf(ctx->err, sizeof(ctx->err), "%s", msg);
	}
	return err;
}


int tdm_proc_ifindex(struct tdm_ctx *ctx, __u32 id, __u32 *ifindex)
{
	char a[IFNAMSIZ], b[IFNAMSIZ];

	dev_names(id, a, b);
	*ifindex = if_nametoindex(a);
	if (!*ifindex)
		return tdm_err(ctx, ENODEV,
			       "process NF %u: its device %s is gone (delete the NF and add it again)",
			       id, a);
	return 0;
}

int tdm_nf_cmd_set(struct tdm_ctx *ctx, __u32 id, const char *cmd)
{
	struct tdm_nf_cmd c = {};

	if (!cmd || !*cmd) {
		bpf_map_delete_elem(ctx->nf_cmds_fd, &id);
		return 0;
	}
	snprintf(c.line, sizeof(c.line), "%s", cmd);
	if (bpf_map_update_elem(ctx->nf_cmds_fd, &id, &c, BPF_ANY))
		return tdm_err(ctx, errno, "writing the command of NF %u: %s",
			       id, strerror(errno));
	return 0;
}

int tdm_nf_cmd_get(struct tdm_ctx *ctx, __u32 id, char *buf, size_t size)
{
	struct tdm_nf_cmd c;

	if (bpf_map_lookup_elem(ctx->nf_cmds_fd, &id, &c)) {
		if (size)
			buf[0] = 0;
		return errno == ENOENT ? 0 : -errno;
	}
	c.line[sizeof(c.line) - 1] = 0;
	if (strlen(c.line) >= size)
		return -ENOSPC;
	strcpy(buf, c.line);
	return 0;
}

int tdm_nf_queue_get(struct tdm_ctx *ctx, __u32 id, struct tdm_nf_queue *q)
{
	if (id >= TDM_MAX_NFS)
		return -ENOENT;
	if (bpf_map_lookup_elem(ctx->nf_queues_fd, &id, q))
		return tdm_err(ctx, errno, "reading the queue of NF %u: %s",
			       id, strerror(errno));
	return 0;
}

__u64 tdm_nf_queue_backlog(const struct tdm_nf_queue *q)
{
	__u64 gone = q->consumed + q->ring_drops;

	return q->handed > gone ? q->handed - gone : 0;
}

bool tdm_nf_queue_up(const struct tdm_nf_queue *q)
{
	/* a process killed with -9 never cleared its pid: ask the kernel */
	return q->pid && (!kill(q->pid, 0) || errno == EPERM);
}

static size_t queues_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return (TDM_MAX_NFS * sizeof(struct tdm_nf_queue) + page - 1) /
	       page * page;
}

struct tdm_nf_queue *tdm_nf_queues_map(struct tdm_ctx *ctx)
{
	void *p = mmap(NULL, queues_size(), PROT_READ | PROT_WRITE,
		       MAP_SHARED, ctx->nf_queues_fd, 0);

	if (p == MAP_FAILED) {
		tdm_err(ctx, errno, "mapping tdm_nf_queues: %s",
			strerror(errno));
		return NULL;
	}
	return p;
}

void tdm_nf_queues_unmap(struct tdm_nf_queue *q)
{
	if (q)
		munmap(q, queues_size());
}

/*
 * A policy apply's change of process NF id's command: the old one is
 * kept under id + TDM_MAX_NFS ("" for none) until the apply ends, so
 * that its undo, here or at the next open after a kill, can put it back.
 */
int tdm_nf_cmd_stash(struct tdm_ctx *ctx, __u32 id)
{
	struct tdm_nf_cmd c = {};
	__u32 key = id + TDM_MAX_NFS;

	if (bpf_map_lookup_elem(ctx->nf_cmds_fd, &key, &c) == 0)
		return 0;	/* kept already: the first is the old one */
	if (bpf_map_lookup_elem(ctx->nf_cmds_fd, &id, &c) && errno != ENOENT)
		return tdm_err(ctx, errno, "reading the command of NF %u: %s",
			       id, strerror(errno));
	if (bpf_map_update_elem(ctx->nf_cmds_fd, &key, &c, BPF_ANY))
		return tdm_err(ctx, errno, "keeping the command of NF %u: %s",
			       id, strerror(errno));
	return 0;
}

int tdm_nf_cmd_unstash(struct tdm_ctx *ctx, __u32 id)
{
	struct tdm_nf_cmd c;
	__u32 key = id + TDM_MAX_NFS;
	int err;

	if (bpf_map_lookup_elem(ctx->nf_cmds_fd, &key, &c))
		return 0;	/* never changed */
	c.line[sizeof(c.line) - 1] = '\0';
	err = tdm_nf_cmd_set(ctx, id, c.line);
	if (!err)
		bpf_map_delete_elem(ctx->nf_cmds_fd, &key);
	return err;
}

void tdm_nf_cmd_stash_drop(struct tdm_ctx *ctx)
{
	__u32 key;

	for (key = TDM_MAX_NFS; key < 2 * TDM_MAX_NFS; key++)
		bpf_map_delete_elem(ctx->nf_cmds_fd, &key);
}

/*
 * Process NF id's watermarks from its parameters, in place: the queue's
 * counters are the datapath's and the process's, written concurrently,
 * so only these two fields are stored (through the mapped array).
 */
int tdm_proc_watermarks(struct tdm_ctx *ctx, __u32 id,
			const struct tdm_process_params *pp)
{
	struct tdm_nf_queue *qs = tdm_nf_queues_map(ctx);
	__u32 high, low;

	if (!qs)
		return -errno ?: -EIO;
	watermarks(pp, &high, &low);
	__atomic_store_n(&qs[id].low, low, __ATOMIC_RELAXED);
	__atomic_store_n(&qs[id].high, high, __ATOMIC_RELAXED);
	tdm_nf_queues_unmap(qs);
	return 0;
}

/* The process's own drops, from its queue: the datapath never sees them. */
static int process_stats(struct tdm_ctx *ctx, __u32 id,
			 struct tdm_nf_stats *st)
{
	struct tdm_nf_queue q;
	int err = tdm_nf_queue_get(ctx, id, &q);

	if (!err) {
		st->drops[TDM_PROCESS_DROP_VERDICT] = q.dropped;
		st->drops[TDM_PROCESS_DROP_RING] = q.ring_drops;
	}
	return err;
}

static const char *const process_drops[TDM_PROCESS_DROP_MAX] = {
	[TDM_PROCESS_DROP_DOWN] = "nf_down",
	[TDM_PROCESS_DROP_OVERSIZE] = "oversize",
	[TDM_PROCESS_DROP_VERDICT] = "verdict",
	[TDM_PROCESS_DROP_RING] = "ring",
};

const struct tdm_nf_ops tdm_nf_process = {
	.summary = "a process on an AF_XDP socket (tandemd runs CMD)",
	.help = "process: runs as a process on an AF_XDP socket, in the chain like\n"
		"any NF (Documentation/process-nfs.rst); tandemd runs CMD:\n"
		"  cpu LIST      CPUs it may run on: 1, 0-3, 0,2 (default: any)\n"
		"  weight auto|N CPU weight 1..10000 (cgroup cpu.weight units), or\n"
		"                auto: arrival rate x cost per packet (default)\n"
		"  fail open|closed  while its process is down, the chain goes on\n"
		"                without it, or drops (default closed)\n"
		"  ring N        its socket's RX ring, frames, power of 2, 64..4096\n"
		"                (default 1024)\n"
		"  high/low PCT  backpressure: its chains drop at entry from high %\n"
		"                of the ring until back at low % (default 80, 60)\n"
		"  backpressure on|off  off: never congested, for experiments\n"
		"                (default on)\n"
		"  -- CMD ARG... the command (no blanks, '#' or '\\' in a word)\n"
		"  Example: tandem nf add dpi1 process cpu 1 -- /usr/local/lib/tandem/tandem-nf-scan -f /etc/tandem/dpi.rules\n",
	.params = process_params,
	.parse = process_parse, .format = process_format,
	.create = process_create, .destroy = process_destroy,
	.stats = process_stats,
	.drops = process_drops,
	.command = true,
};
