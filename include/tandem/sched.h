/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tandem_sched.ko's interface (Documentation/kmod.rst): the misc device
 * /dev/tandem_sched and its ioctls, shared by the module (kmod/) and
 * tandemd (user/tandemd/kmod.c). Every struct has a fixed size and no
 * holes; reserved fields must be zero (EINVAL otherwise), so that later
 * versions can give them a meaning.
 *
 * An NF is registered by the open file that registered it; closing the
 * file (tandemd's exit, a crash included) unregisters all of its NFs,
 * and the datapath then falls back to its own counters (bpf/lib/proc.h).
 */
#ifndef TANDEM_SCHED_H
#define TANDEM_SCHED_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define TDM_SCHED_DEV		"/dev/tandem_sched"
#define TDM_SCHED_NAME		"tandem_sched"
#define TDM_SCHED_VERSION	1	/* of this interface */
#define TDM_SCHED_MAX_NFS	128	/* NF ids 0..127, as TDM_MAX_NFS */

/* What file the module writes an NF's CPU weight to */
enum tdm_sched_weight_kind {
	TDM_SCHED_WEIGHT_NONE = 0,	/* no weights for this NF */
	TDM_SCHED_WEIGHT_V2 = 1,	/* cgroup2 cpu.weight, 1..10000 */
	TDM_SCHED_WEIGHT_V1 = 2,	/* cgroup v1 cpu.shares, weight*1024/100 */
};

/*
 * TDM_SCHED_IOC_REGISTER: take charge of process NF nf_id. 64 bytes.
 *
 * xsks_fd: the pinned tdm_xsks (an XSKMAP); the NF's socket is its
 *	element nf_id, whatever process holds it now. The module reads
 *	the socket's RX ring there (its backlog, exactly).
 * queues_fd: the pinned tdm_nf_queues (an array of struct
 *	tdm_nf_queue); the module reads there the NF's watermarks (high,
 *	low: the library sets them, in both modes) and the load the
 *	datapath counts (handed + entry_drops).
 * weight_fd: the NF's cgroup file, open for writing: cpu.weight
 *	(weight_kind V2) or cpu.shares (V1), on a cgroup file system;
 *	-1 with weight_kind NONE.
 * pid: the NF's process (its thread group id, in the caller's pid
 *	namespace); 0: none yet (TDM_SCHED_IOC_SET_PID later).
 * weight: a manual weight (1..10000), or 0 for NFVNice's.
 * cpus: the NF's CPU set (CPUs 0..63; 0: all); NFs with the same set
 *	share N * 100 of weight.
 *
 * Errors: EINVAL (a field out of range, reserved not zero, a map of
 * the wrong type or size), EBADF (a bad fd), EEXIST (nf_id taken, by
 * any opener), ESRCH (no such pid), ENOMEM, EPERM (not CAP_NET_ADMIN).
 */
struct tdm_sched_reg {
	__u32 nf_id;
	__s32 xsks_fd;
	__s32 queues_fd;
	__s32 weight_fd;
	__u32 weight_kind;		/* enum tdm_sched_weight_kind */
	__u32 pid;
	__u32 weight;
	__u32 flags;			/* 0 */
	__u64 cpus;
	__u64 reserved[3];
};

/* TDM_SCHED_IOC_SET_PID: the NF's process was (re)started. 8 bytes. */
struct tdm_sched_pid {
	__u32 nf_id;
	__u32 pid;			/* 0: none */
};

/*
 * TDM_SCHED_IOC_GET: the module's view of NF nf_id (set nf_id, the rest
 * is output). 128 bytes. Times in ns (CLOCK_MONOTONIC).
 */
struct tdm_sched_state {
	__u32 nf_id;
	__u32 backlog;			/* frames in its RX ring now */
	__u32 congested;		/* 1 from high watermark to low */
	__u32 weight;			/* last weight written; 0: none yet */
	__u64 crossings;		/* watermark crossings, both ways */
	__u64 load_pps;			/* arrivals per s, drops included */
	__u64 cost_ns;			/* CPU time per packet, smoothed */
	__u64 cpu_ns;			/* its tasks' time on CPU */
	__u64 consumed;			/* frames its process took */
	__u64 events;			/* weight recomputations asked for:
					 * crossings, load and cost moves */
	__u64 writes;			/* weights written */
	__s32 write_err;		/* last write's error, 0 or -errno */
	__u32 pid;			/* its process, in the caller's ns */
	__u64 reactions;		/* crossings answered by weights
					 * written (several crossings before
					 * one write count once) */
	__u64 react_ns_sum;		/* oldest crossing -> weight written */
	__u64 react_ns_last;
	__u64 reserved[3];
};

/* TDM_SCHED_IOC_INFO: the module itself. 64 bytes. */
struct tdm_sched_info {
	__u32 version;			/* TDM_SCHED_VERSION */
	__u32 nfs;			/* registered, by every opener */
	__u64 allocs;			/* the module's live allocations */
	__u32 ring_consumer_off;	/* where it reads an RX ring's */
	__u32 ring_producer_off;	/* indices (XDP_MMAP_OFFSETS) */
	__u64 switches;			/* sched_switch events of NF tasks */
	__u64 reserved[4];
};

#define TDM_SCHED_IOC_MAGIC	0xe7
#define TDM_SCHED_IOC_REGISTER	_IOW(TDM_SCHED_IOC_MAGIC, 1, struct tdm_sched_reg)
#define TDM_SCHED_IOC_UNREGISTER _IOW(TDM_SCHED_IOC_MAGIC, 2, __u32)
#define TDM_SCHED_IOC_SET_PID	_IOW(TDM_SCHED_IOC_MAGIC, 3, struct tdm_sched_pid)
#define TDM_SCHED_IOC_GET	_IOWR(TDM_SCHED_IOC_MAGIC, 4, struct tdm_sched_state)
#define TDM_SCHED_IOC_INFO	_IOR(TDM_SCHED_IOC_MAGIC, 5, struct tdm_sched_info)

/*
 * The kfuncs, for XDP programs (BPF_PROG_TYPE_XDP). Declared __weak
 * __ksym in bpf/lib/sched.h: an object using them loads without the
 * module as long as the programs calling them are not loaded.
 *
 * int tdm_sched_nf_backlog(__u32 nf_id)
 *	frames in NF nf_id's RX ring now, or -ENOENT (not registered),
 *	-ENODEV (no socket in its XSKMAP slot).
 * int tdm_sched_nf_congested(__u32 nf_id)
 *	NFVNice's backpressure decision for one packet offered to nf_id's
 *	chain: 1 congested, 0 not, by tdm_bp_next() over its RX ring;
 *	a crossing asks for new weights. -ENOENT: not registered, the
 *	program decides by itself; a socket missing: 0 (not congested).
 */

#endif /* TANDEM_SCHED_H */
