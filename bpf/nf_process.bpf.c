// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * process: an NF that runs as a process on an AF_XDP socket. Its hop
 * ends with it: process_handoff() writes struct tdm_handoff in front of
 * the frame and redirects it into the NF's veth pair, at whose far end
 * the NF's socket is (bpf/proc.bpf.c); what the NF passes comes back
 * and runs the chain's next hop. While the process is down, the chain
 * goes on without it (fail open) or drops (fail closed).
 */
#ifdef TDM_NF_DECLARATIONS
/*
 * Documentation/process-nfs.rst: the chain hands its packets over a veth
 * pair of its own, tdmnf<id>a -> tdmnf<id>b, to the process's AF_XDP
 * socket on tdmnf<id>b queue 0; the process sends what it passes back
 * the same way, and the chain goes on from tdmnf<id>a. Its maps (the
 * sockets, queues and command lines) are in bpf/lib/maps.h: the program
 * at the pair's end (proc.bpf.c) and tandem_sched.ko read them too.
 */
struct tdm_process_params {
	__u64 cpus;			/* bit n: may run on CPU n; 0: any */
	__u32 ring;			/* RX ring, frames: power of 2 */
	__u16 weight;			/* CPU weight 1..10000; 0: auto */
	__u8 high;			/* congested at this % of ring... */
	__u8 low;			/* ...until back at this % */
	__u8 fail;			/* down: TDM_ACT_PASS or _DROP */
	__u8 no_backpressure;		/* 1: never congested (tests) */
	__u8 pad[2];
};

enum {
	TDM_PROCESS_DROP_DOWN = TDM_DROP_NF,	/* down, fail closed */
	TDM_PROCESS_DROP_OVERSIZE,	/* too large for the NF's pair */
	/*
	 * The process's own drops: the library adds them from its queue
	 * (struct tdm_nf_queue), the datapath never counts them.
	 */
	TDM_PROCESS_DROP_VERDICT,	/* the process said drop */
	TDM_PROCESS_DROP_RING,		/* the kernel's, ring full */
	TDM_PROCESS_DROP_MAX,
};

TDM_NF(process, 4, struct tdm_process_params, TDM_PROCESS_DROP_MAX);
#endif /* TDM_NF_DECLARATIONS */

#ifdef TDM_NF_DATAPATH
#include "lib/proc.h"

/* The work is the hop's: see process_handoff(). */
static __always_inline int process_run(struct xdp_md *ctx,
				       struct tdm_meta *pm,
				       const volatile struct tdm_hop_nf *nf)
{
	return NF_CONTINUE;
}

/* Did the packet come in on a device attached in generic mode? */
static __always_inline bool process_generic(const struct tdm_meta *pm)
{
	__u32 slot = pm->dev;
	struct tdm_dev *d = bpf_map_lookup_elem(&tdm_devs, &slot);

	return !d || (d->mode & XDP_FLAGS_SKB_MODE);
}

enum process_handoff_result {
	PROCESS_BYPASS = -1,		/* down, fail open: go on */
	PROCESS_DOWN = -2,		/* down, fail closed: drop */
	PROCESS_OVERSIZE = -3,		/* too large for the pair: drop */
};

/*
 * Hand the packet to process NF *nf at chain index pos, out of ifindex
 * (its veth end): an XDP action, or an enum process_handoff_result.
 */
static __always_inline int process_handoff(struct xdp_md *ctx,
					   struct tdm_meta *pm,
					   const volatile struct tdm_hop_nf *nf,
					   __u32 chain_id, __u32 pos,
					   __u32 ifindex,
					   const volatile __u32 *ran)
{
	__u32 id = nf->nf_id;
	struct tdm_nf_queue *q;
	struct tdm_handoff *h;
	void *end;

	/*
	 * A frame the pair cannot carry (its MTU) cannot be inspected:
	 * dropped whatever the fail setting, or a large frame would be a
	 * way around an inspecting NF that fails open.
	 */
	if (pm->pkt_len + sizeof(*h) > TDM_PROC_MAX_FRAME)
		return PROCESS_OVERSIZE;
	/*
	 * As if it were down: one from a device in generic (skb) mode,
	 * whose XDP hook would run the chain again on the packet the NF
	 * passed when the TC program hands it to that device's stack: over
	 * and over.
	 */
	if (!tdm_proc_up(id) || process_generic(pm)) {
		if (TDM_HOP_PARAMS(nf, process)->fail == TDM_ACT_DROP)
			return PROCESS_DOWN;
		q = bpf_map_lookup_elem(&tdm_nf_queues, &id);
		if (q)
			__sync_fetch_and_add(&q->bypassed, 1);
		return PROCESS_BYPASS;
	}
	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*h)))
		return PROCESS_DOWN;	/* no headroom: cannot hand over */
	h = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if ((void *)(h + 1) > end)
		return PROCESS_DOWN;
	h->magic = TDM_HANDOFF_MAGIC;
	h->nf_id = id;
	h->chain_id = chain_id;
	h->pos = pos;
	h->ran[0] = ran[0];
	h->ran[1] = ran[1];
	h->ran[2] = ran[2];
	h->ran[3] = ran[3];
	__builtin_memcpy(&h->meta, pm, sizeof(h->meta));
	return bpf_redirect(ifindex, 0);
}

/*
 * 'pass' after a process NF: the frame may be on the NF's veth end; the
 * TC program there gives it to the stack of the device it came in on.
 * (Reached on the device itself, when the NF was bypassed, the metadata
 * is ignored and the stack gets the frame right there.)
 */
static __always_inline int process_deliver(struct xdp_md *ctx,
					   struct tdm_meta *pm)
{
	struct tdm_deliver *d;
	void *data;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*d)))
		return XDP_PASS;
	d = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(d + 1) > data)
		return XDP_PASS;
	d->magic = TDM_DELIVER_MAGIC;
	d->ifindex = pm->ifindex;
	return XDP_PASS;
}
#endif /* TDM_NF_DATAPATH */
