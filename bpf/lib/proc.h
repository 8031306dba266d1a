/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Process NFs, the datapath's side (Documentation/process-nfs.rst): the
 * handoff to the NF's socket, its queue and backpressure, and the way a
 * packet the NF passed reaches the stack of the device it came in on.
 */
#ifndef TANDEM_BPF_PROC_H
#define TANDEM_BPF_PROC_H

#include "maps.h"
#include "sched.h"
#include <tandem/nfvnice.h>

/*
 * XDP metadata of a frame a chain passes after a process NF: the frame
 * is on the NF's veth end, and the TC program there hands it to the
 * stack of the device it came in on (bpf/proc.bpf.c).
 */
#define TDM_DELIVER_MAGIC	0x74646d64U	/* "tdmd" */

struct tdm_deliver {
	__u32 magic;
	__u32 ifindex;			/* where the stack should see it */
};

/*
 * The largest frame with its handoff header the pair carries: its MTU
 * (user/lib/nf_process.c) and an Ethernet header. The veth drops larger
 * ones without a count: the hop does not hand them over.
 */
#define TDM_PROC_MAX_FRAME	(TDM_PROC_MTU + 14)

/* Is the NF's process serving its socket? (The kernel takes a closed
 * socket out of the XSKMAP.) */
static __always_inline bool tdm_proc_up(__u32 nf_id)
{
	return bpf_map_lookup_elem(&tdm_xsks, &nf_id) != NULL;
}

/* Record NF q's decision c for one packet: its state, a crossing, a drop */
static __always_inline bool proc_record(struct tdm_nf_queue *q, int c)
{
	if (c != (int)q->congested) {
		q->congested = c;
		q->crossed_ns = bpf_ktime_get_ns();
		if (c)
			__sync_fetch_and_add(&q->congestions, 1);
	}
	if (c)
		__sync_fetch_and_add(&q->bp_drops, 1);
	return c;
}

/*
 * NFVNice's backpressure: is NF nf_id congested, so that a packet of a
 * chain holding it should be dropped at the chain's entry, before any
 * NF spends a cycle on it? Marked when its backlog reaches the high
 * watermark, cleared when it is back at the low one. The backlog is
 * what the datapath handed minus what the NF consumed or the kernel
 * dropped from its ring, so a descheduled NF, which reports nothing,
 * still fills up. A down NF is never congested: its fail setting rules.
 */
static __always_inline bool tdm_proc_congested(__u32 nf_id)
{
	struct tdm_nf_queue *q = bpf_map_lookup_elem(&tdm_nf_queues, &nf_id);
	__u64 gone, backlog;
	int c;

	if (!q || !q->high || !tdm_proc_up(nf_id))
		return false;
	gone = READ_ONCE(q->consumed) + READ_ONCE(q->ring_drops);
	backlog = READ_ONCE(q->handed);
	backlog = backlog > gone ? backlog - gone : 0;
	c = tdm_bp_next(q->congested, backlog, q->high, q->low);
	return proc_record(q, c);
}

/*
 * The same decision made by tandem_sched.ko, over the NF's RX ring as
 * the kernel sees it (kmod/kfunc.c), where a crossing changes the CPU
 * weights at once. Its result is mirrored into tdm_nf_queues, so that
 * `tandem nf show` reads the same fields in both modes. An NF the
 * module does not know (tandemd has not registered it, or has exited)
 * is decided here, as without the module.
 */
static __always_inline bool tdm_proc_congested_km(__u32 nf_id)
{
	struct tdm_nf_queue *q;
	int c = tdm_sched_nf_congested(nf_id);

	if (c < 0)
		return tdm_proc_congested(nf_id);
	q = bpf_map_lookup_elem(&tdm_nf_queues, &nf_id);
	if (!q)
		return c;
	return proc_record(q, c);
}

/*
 * A packet dropped at the entry of a chain for backpressure was offered
 * to every process NF of the chain: their load, for the CPU weights.
 */
static __always_inline void tdm_proc_entry_drop(__u32 nf_id)
{
	struct tdm_nf_queue *q = bpf_map_lookup_elem(&tdm_nf_queues, &nf_id);

	if (q)
		__sync_fetch_and_add(&q->entry_drops, 1);
}

#endif /* TANDEM_BPF_PROC_H */
