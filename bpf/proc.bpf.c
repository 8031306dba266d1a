// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The veth pair of a process NF (Documentation/process-nfs.rst):
 *
 *	chain hop --redirect--> tdmnf<id>a ==veth==> tdmnf<id>b
 *	                                          tdm_proc_rx: into the socket
 *	NF process: verdict; what passes is sent on its socket
 *	tdmnf<id>a <==veth== tdmnf<id>b
 *	tdm_proc_return: back into the chain, after the NF
 *	  ...the chain's 'pass': XDP_PASS here, then tdm_proc_deliver (TC)
 *	  hands the skb to the stack of the device the packet came in on.
 *
 * One copy of these programs per NF, loaded with its id in .rodata.
 */
#include "lib/proc.h"

const volatile __u32 tdm_proc_nf_id = 0;

/*
 * tdmnf<id>b, XDP: into the NF's socket, counted for its backlog. Only
 * what a hop handed over: anything else would take the NF's ring and
 * time (and, filling it, drop its chains' traffic at entry).
 */
SEC("xdp")
int tdm_proc_rx(struct xdp_md *ctx)
{
	struct tdm_handoff *h = (void *)(long)ctx->data;
	__u32 id = tdm_proc_nf_id;
	struct tdm_nf_queue *q;

	q = bpf_map_lookup_elem(&tdm_nf_queues, &id);
	if ((void *)(h + 1) > (void *)(long)ctx->data_end ||
	    h->magic != TDM_HANDOFF_MAGIC || h->nf_id != id) {
		if (q)
			__sync_fetch_and_add(&q->junk, 1);
		return XDP_DROP;
	}
	/* gone since the hop looked: nobody counts on this frame */
	if (!tdm_proc_up(id))
		return XDP_DROP;
	if (q)
		__sync_fetch_and_add(&q->handed, 1);
	return bpf_redirect_map(&tdm_xsks, id, XDP_DROP);
}

/* Did the packet run NF nf_id before it was handed over? ran: a copy of
 * the header's (a packet read at a variable offset loses its bounds) */
static __always_inline bool ran_nf(const __u32 *ran, __u32 nf_id)
{
	__u32 w = nf_id / 32;

	if (w >= TDM_MAX_NFS / 32)
		return false;
	return ran[w] & (1U << (nf_id % 32));
}

/*
 * tdmnf<id>a, XDP: a frame the NF passed. It runs the hop after the NF
 * in the chain as the chain is now: a replace while the packet was in
 * the NF's queue moved the hops (and maybe the NF). Only if it ran
 * every NF before the NF in the chain as it is now: a replace that put
 * a firewall before it, or a chain deleted and added again under the
 * same id, must not let waiting packets around that firewall.
 */
SEC("xdp")
int tdm_proc_return(struct xdp_md *ctx)
{
	__u32 id = tdm_proc_nf_id, chain, slot = TDM_SLOT_NONE, pos = 0;
	struct tdm_chain_stats *cs;
	struct tdm_nf_queue *q;
	struct tdm_chain_info *ci;
	__u32 ran[TDM_MAX_NFS / 32];
	bool stale = false;
	struct tdm_handoff *h;
	struct tdm_meta *pm;
	bool found = false;
	void *end;
	int i;

	h = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	q = bpf_map_lookup_elem(&tdm_nf_queues, &id);
	if ((void *)(h + 1) > end || h->magic != TDM_HANDOFF_MAGIC ||
	    h->nf_id != id) {
		if (q)			/* not from the NF's socket */
			__sync_fetch_and_add(&q->junk, 1);
		return XDP_DROP;
	}
	chain = h->chain_id;
	ran[0] = h->ran[0];
	ran[1] = h->ran[1];
	ran[2] = h->ran[2];
	ran[3] = h->ran[3];
	ci = bpf_map_lookup_elem(&tdm_chains, &chain);
	if (!ci)
		goto stale;		/* the chain is gone */
#pragma unroll
	for (i = 0; i < TDM_MAX_CHAIN_NFS; i++) {
		if (i < ci->nnfs && ci->nf_ids[i] == id) {
			pos = i;
			found = true;
		}
	}
#pragma unroll
	for (i = 0; i < TDM_MAX_CHAIN_NFS; i++)
		if (found && i < pos && !ran_nf(ran, ci->nf_ids[i]))
			stale = true;
	if (!found || stale)
		goto stale;		/* the NF left, or would skip an NF */
#pragma unroll
	for (i = 0; i < TDM_MAX_CHAIN_NFS; i++)
		if (i < ci->nhops && ci->first[i] == pos + 1)
			slot = ci->slots[i];

	pm = tdm_meta_get();
	if (!pm)
		return XDP_DROP;
	__builtin_memcpy(pm, &h->meta, sizeof(*pm));
	pm->chain_id = chain;
	if (bpf_xdp_adjust_head(ctx, (int)sizeof(*h)))
		return XDP_DROP;
	bpf_tail_call(ctx, &tdm_jmp, slot);

	cs = bpf_map_lookup_elem(&tdm_chain_stats, &chain);
	if (cs) {
		cs->missed++;
		cs->dropped++;
	}
	return XDP_DROP;
stale:
	if (q)
		__sync_fetch_and_add(&q->stale, 1);
	return XDP_DROP;
}

/*
 * tdmnf<id>a, TC ingress: a frame the chain passed after the NF goes to
 * the stack as if it had just arrived on its device (BPF_F_INGRESS).
 * Nothing else is expected here.
 */
SEC("tc")
int tdm_proc_deliver(struct __sk_buff *skb)
{
	struct tdm_deliver *d = (void *)(long)skb->data_meta;

	if ((void *)(d + 1) > (void *)(long)skb->data ||
	    d->magic != TDM_DELIVER_MAGIC || d->ifindex == skb->ifindex)
		return TC_ACT_SHOT;
	return bpf_redirect(d->ifindex, BPF_F_INGRESS);
}

/*
 * Both ends, TC egress: the stack sends nothing on the pair (a local
 * user's datagram bound to it, say). The hop's redirect and the NF's
 * AF_XDP sends do not pass here.
 */
SEC("tc")
int tdm_proc_egress(struct __sk_buff *skb)
{
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
