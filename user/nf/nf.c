// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libtandem-nf: the process side of a process NF (include/tandem/nf.h).
 *
 * The chain's hop writes struct tdm_handoff in front of each frame and
 * redirects it into the NF's veth pair; bpf/proc.bpf.c puts it on the
 * RX ring of the socket opened here (tdmnf<id>b, queue 0, copy mode:
 * veth has no zero-copy). A frame the handler passes is sent back on the
 * same socket as it came, header included: the far end reads the header
 * to go on along the chain. Frames are never copied here: a passed frame
 * is transmitted from where it was received, and its UMEM frame goes back
 * to the fill ring when the kernel completes the send.
 *
 * Counters are published into the NF's entry of the mmapped map
 * tdm_nf_queues after every batch, with relaxed atomic stores (the
 * datapath reads them for backpressure, tandemd for the scheduler).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <x86intrin.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include <tandem/nf.h>
#include "nf_list.h"	/* generated: struct tdm_process_params */

#define NF_BATCH		64	/* frames per RX batch */
#define NF_FRAME_SIZE		XSK_UMEM__DEFAULT_FRAME_SIZE	/* 4096 */
#define NF_STATS_NS		1000000	/* XDP_STATISTICS read every 1 ms */
#define NF_POLL_MS		100	/* idle wakeups: heartbeat, stop */

struct tdm_nf {
	char name[TDM_NAME_LEN];
	__u32 id;
	__u32 ring;
	void *umem_area;
	size_t umem_size;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	__u32 tx_outstanding;		/* sent, not yet completed */
	int xsks_fd;
	struct tdm_nf_queue *q;		/* the mmapped entry */
	void *queues;			/* the whole mmapped map */
	size_t queues_size;
	__u64 drops_base;		/* ring drops of earlier sockets */
	__u64 cpu_base;			/* CPU time of earlier processes */
	__u64 next_stats;		/* ns */
	__u64 next_check;		/* ns: is our device still there? */
	char dev[IFNAMSIZ];
	unsigned int ifindex;
	volatile sig_atomic_t stop;
};

static struct tdm_nf *signal_nf;

static int nf_err(char *err, size_t errlen, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int nf_err(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = e;
	return -e;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int pin_get(const char *map, char *err, size_t errlen)
{
	const char *root = getenv("TANDEM_PIN_ROOT");
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s",
		 root && *root ? root : "/sys/fs/bpf/tandem", map);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return nf_err(err, errlen, errno, "%s: %s%s", path,
			      strerror(errno),
			      errno == ENOENT ? " (is tandem set up?)" : "");
	return fd;
}

/* Find process NF name in tdm_nfs: its id and ring size. */
static int nf_find(struct tdm_nf *nf, const char *name, char *err,
		   size_t errlen)
{
	struct tdm_nf_info info;
	__u32 key, *prev = NULL;
	int fd, ret = -ENOENT;

	fd = pin_get("tdm_nfs", err, errlen);
	if (fd < 0)
		return fd;
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &info) ||
		    strncmp(info.name, name, sizeof(info.name)))
			continue;
		if (info.type != TDM_NF_PROCESS) {
			ret = nf_err(err, errlen, EINVAL,
				     "NF '%s' is not a process NF", name);
			break;
		}
		nf->id = key;
		nf->ring = TDM_NF_PARAMS(&info.params, process)->ring;
		ret = 0;
		break;
	}
	close(fd);
	if (ret == -ENOENT)
		nf_err(err, errlen, ENOENT, "no process NF named '%s'", name);
	return ret;
}

static int queues_map(struct tdm_nf *nf, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd;

	fd = pin_get("tdm_nf_queues", err, errlen);
	if (fd < 0)
		return fd;
	nf->queues_size = (TDM_MAX_NFS * sizeof(struct tdm_nf_queue) +
			   page - 1) / page * page;
	nf->queues = mmap(NULL, nf->queues_size, PROT_READ | PROT_WRITE,
			  MAP_SHARED, fd, 0);
	close(fd);
	if (nf->queues == MAP_FAILED) {
		nf->queues = NULL;
		return nf_err(err, errlen, errno, "mapping tdm_nf_queues: %s",
			      strerror(errno));
	}
	nf->q = (struct tdm_nf_queue *)nf->queues + nf->id;
	return 0;
}

#define PUB(field, v)	__atomic_store_n(&nf->q->field, (v), __ATOMIC_RELAXED)
#define GET(field)	__atomic_load_n(&nf->q->field, __ATOMIC_RELAXED)

static int socket_open(struct tdm_nf *nf, char *err, size_t errlen)
{
	struct xsk_umem_config ucfg = {
		.fill_size = nf->ring * 2,
		.comp_size = nf->ring,
		.frame_size = NF_FRAME_SIZE,
		.frame_headroom = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = nf->ring,
		.tx_size = nf->ring,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,	/* veth: no zero-copy */
	};
	__u32 nframes = nf->ring * 2, idx, i;
	char dev[IFNAMSIZ];
	int ret;

	nf->umem_size = (size_t)nframes * NF_FRAME_SIZE;
	nf->umem_area = mmap(NULL, nf->umem_size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (nf->umem_area == MAP_FAILED) {
		nf->umem_area = NULL;
		return nf_err(err, errlen, errno, "UMEM of %u frames: %s",
			      nframes, strerror(errno));
	}
	ret = xsk_umem__create(&nf->umem, nf->umem_area, nf->umem_size,
			       &nf->fill, &nf->comp, &ucfg);
	if (ret)
		return nf_err(err, errlen, -ret, "creating the UMEM: %s",
			      strerror(-ret));
	snprintf(dev, sizeof(dev), TDM_PROC_DEV_NF, nf->id);
	snprintf(nf->dev, sizeof(nf->dev), "%s", dev);
	nf->ifindex = if_nametoindex(dev);
	ret = xsk_socket__create(&nf->xsk, dev, 0, nf->umem, &nf->rx, &nf->tx,
				 &scfg);
	if (ret)
		return nf_err(err, errlen, -ret,
			      "AF_XDP socket on %s queue 0: %s%s", dev,
			      strerror(-ret),
			      ret == -EBUSY ? " (another process serves this NF)" :
			      ret == -EPERM ? " (needs CAP_NET_RAW)" : "");
	/* every frame starts on the fill ring: it holds them all */
	if (xsk_ring_prod__reserve(&nf->fill, nframes, &idx) != nframes)
		return nf_err(err, errlen, ENOMEM, "fill ring too small");
	for (i = 0; i < nframes; i++)
		*xsk_ring_prod__fill_addr(&nf->fill, idx + i) =
			(__u64)i * NF_FRAME_SIZE;
	xsk_ring_prod__submit(&nf->fill, nframes);
	return 0;
}

struct tdm_nf *tdm_nf_open(const char *name, char *err, size_t errlen)
{
	struct tdm_nf *nf;
	int e;

	if (!name)
		name = getenv("TANDEM_NF");
	if (!name || !*name) {
		nf_err(err, errlen, EINVAL,
		       "no NF name given and TANDEM_NF is not set");
		return NULL;
	}
	nf = calloc(1, sizeof(*nf));
	if (!nf) {
		nf_err(err, errlen, ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(nf->name, sizeof(nf->name), "%s", name);
	nf->xsks_fd = -1;
	if (nf_find(nf, name, err, errlen) || queues_map(nf, err, errlen) ||
	    socket_open(nf, err, errlen))
		goto fail;
	nf->xsks_fd = pin_get("tdm_xsks", err, errlen);
	if (nf->xsks_fd < 0)
		goto fail;
	/* the ring is empty: whatever was handed before is consumed or lost */
	nf->drops_base = GET(ring_drops);
	{
		struct timespec ts = {};

		/* go on from the last process's total, without our start */
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		nf->cpu_base = GET(cpu_ns) -
			(ts.tv_sec * 1000000000ULL + ts.tv_nsec);
	}
	PUB(consumed, GET(handed) - nf->drops_base);
	PUB(pid, getpid());
	PUB(ring, nf->ring);
	return nf;
fail:
	e = errno;
	tdm_nf_close(nf);
	errno = e;
	return NULL;
}

void tdm_nf_close(struct tdm_nf *nf)
{
	if (!nf)
		return;
	if (signal_nf == nf)
		signal_nf = NULL;
	/* closing the socket takes it out of tdm_xsks */
	if (nf->xsk)
		xsk_socket__delete(nf->xsk);
	if (nf->umem)
		xsk_umem__delete(nf->umem);
	if (nf->umem_area)
		munmap(nf->umem_area, nf->umem_size);
	if (nf->q && GET(pid) == (__u32)getpid())
		PUB(pid, 0);
	if (nf->queues)
		munmap(nf->queues, nf->queues_size);
	if (nf->xsks_fd >= 0)
		close(nf->xsks_fd);
	free(nf);
}

void tdm_nf_stop(struct tdm_nf *nf)
{
	nf->stop = 1;
}

static void on_signal(int sig)
{
	if (signal_nf)
		tdm_nf_stop(signal_nf);
}

const char *tdm_nf_name(const struct tdm_nf *nf)
{
	return nf->name;
}

__u32 tdm_nf_id(const struct tdm_nf *nf)
{
	return nf->id;
}

const struct tdm_nf_queue *tdm_nf_counters(const struct tdm_nf *nf)
{
	return nf->q;
}

/* Frames back to the fill ring (it has room for every frame there is). */
static void recycle(struct tdm_nf *nf, const __u64 *addrs, __u32 n)
{
	__u32 idx, i;

	if (!n)
		return;
	while (xsk_ring_prod__reserve(&nf->fill, n, &idx) != n)
		;	/* cannot happen: the fill ring holds all frames */
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&nf->fill, idx + i) = addrs[i];
	xsk_ring_prod__submit(&nf->fill, n);
}

/* Completed sends: their frames back to the fill ring. */
static void complete(struct tdm_nf *nf)
{
	__u64 addrs[NF_BATCH];
	__u32 idx, n, i;

	while ((n = xsk_ring_cons__peek(&nf->comp, NF_BATCH, &idx))) {
		for (i = 0; i < n; i++)
			addrs[i] = *xsk_ring_cons__comp_addr(&nf->comp, idx + i);
		xsk_ring_cons__release(&nf->comp, n);
		recycle(nf, addrs, n);
		nf->tx_outstanding -= n;
	}
}

/*
 * Copy mode sends at most 32 frames per sendto() (the kernel's
 * TX_BATCH_SIZE): kick until the TX ring is taken or the kernel says no.
 */
static int kick(struct tdm_nf *nf)
{
	int fd = xsk_socket__fd(nf->xsk), tries;

	for (tries = 0; nf->tx_outstanding && tries < 64; tries++) {
		if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS &&
		    errno != ENETDOWN)
			return -errno;
		complete(nf);
	}
	return 0;
}

static void ring_stats(struct tdm_nf *nf, __u64 now)
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);

	nf->next_stats = now + NF_STATS_NS;
	if (getsockopt(xsk_socket__fd(nf->xsk), SOL_XDP, XDP_STATISTICS,
		       &st, &len))
		return;
	PUB(ring_drops, nf->drops_base + st.rx_dropped + st.rx_ring_full);
}

/* One RX batch: verdicts, sends, recycling; returns frames handled. */
static int batch(struct tdm_nf *nf, tdm_nf_handler_t fn, void *arg)
{
	__u64 drops[NF_BATCH], t0, t1;
	__u32 idx_rx, idx_tx, n, i, npass = 0, ndrop = 0;
	struct tdm_nf_pkt pkt;

	n = xsk_ring_cons__peek(&nf->rx, NF_BATCH, &idx_rx);
	if (!n)
		return 0;
	/* the TX ring is as large as the RX ring: make room, then reserve */
	while (xsk_ring_prod__reserve(&nf->tx, n, &idx_tx) != n) {
		if (kick(nf) < 0)
			return -errno;
		if (nf->stop)
			return 0;	/* the frames stay on the ring */
	}
	t0 = __rdtsc();
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d =
			xsk_ring_cons__rx_desc(&nf->rx, idx_rx + i);
		struct tdm_handoff *h = xsk_umem__get_data(nf->umem_area,
							   d->addr);
		int v = TDM_NF_DROP;

		if (d->len >= sizeof(*h) && h->magic == TDM_HANDOFF_MAGIC) {
			pkt.data = (__u8 *)(h + 1);
			pkt.len = d->len - sizeof(*h);
			pkt.meta = &h->meta;
			pkt.chain_id = h->chain_id;
			pkt.pos = h->pos;
			v = fn(&pkt, arg);
		}
		if (v == TDM_NF_PASS) {
			struct xdp_desc *t =
				xsk_ring_prod__tx_desc(&nf->tx, idx_tx + npass);

			t->addr = d->addr;
			t->len = d->len;
			t->options = 0;
			npass++;
		} else {
			drops[ndrop++] = d->addr;
		}
	}
	t1 = __rdtsc();
	xsk_ring_cons__release(&nf->rx, n);
	/* give back the unused reservation: submit only what passed */
	nf->tx.cached_prod -= n - npass;
	xsk_ring_prod__submit(&nf->tx, npass);
	nf->tx_outstanding += npass;
	recycle(nf, drops, ndrop);

	PUB(consumed, GET(consumed) + n);
	PUB(passed, GET(passed) + npass);
	PUB(dropped, GET(dropped) + ndrop);
	PUB(cycles, GET(cycles) + (t1 - t0));
	PUB(samples, GET(samples) + n);
	return kick(nf) < 0 ? -errno : (int)n;
}

/*
 * The thread's CPU time since open, published after each batch: the
 * cost the scheduler weighs by. Unlike the handler's TSC cycles it does
 * not count the time the process was preempted by the NFs it shares
 * its CPU with, and it counts the library's and the system calls' part.
 */
static void cpu_time(struct tdm_nf *nf)
{
	struct timespec ts;
	__u64 ns;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return;
	ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	PUB(cpu_ns, nf->cpu_base + ns);
}

int tdm_nf_run(struct tdm_nf *nf, tdm_nf_handler_t fn, void *arg)
{
	struct pollfd pfd = { .fd = xsk_socket__fd(nf->xsk), .events = POLLIN };
	struct sigaction sa = { .sa_handler = on_signal };
	int n, key = nf->id, fd = xsk_socket__fd(nf->xsk);
	__u64 now;

	if (!getenv("TDM_NF_NO_SIGNALS")) {
		signal_nf = nf;
		sigaction(SIGTERM, &sa, NULL);	/* no SA_RESTART: poll ends */
		sigaction(SIGINT, &sa, NULL);
	}
	/* from here the chain hands it packets */
	if (bpf_map_update_elem(nf->xsks_fd, &key, &fd, BPF_ANY))
		return -errno;
	while (!nf->stop) {
		n = batch(nf, fn, arg);
		if (n < 0)
			return n;
		if (n)
			cpu_time(nf);
		now = now_ns();
		if (now >= nf->next_stats)
			ring_stats(nf, now);
		PUB(heartbeat, now);
		if (n)
			continue;
		/*
		 * Deleted (nf del takes its veth pair): stop, or this process
		 * would serve nothing forever, and write into the counters of
		 * the next NF that gets the id.
		 */
		if (now >= nf->next_check) {
			nf->next_check = now + 1000000000ULL;
			if (if_nametoindex(nf->dev) != nf->ifindex) {
				bpf_map_delete_elem(nf->xsks_fd, &key);
				return -ENODEV;
			}
		}
		/* sends the kernel did not take yet: try again soon */
		if (nf->tx_outstanding && kick(nf) < 0)
			return -errno;
		if (poll(&pfd, 1, nf->tx_outstanding ? 1 : NF_POLL_MS) < 0 &&
		    errno != EINTR)
			return -errno;
	}
	bpf_map_delete_elem(nf->xsks_fd, &key);
	ring_stats(nf, now_ns());
	return 0;
}
