// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A hop of a chain: one program that runs NFs of the chain one after
 * another, counting each, then jumps to the next hop or carries out the
 * chain's terminal action. A chain is one hop unless make bench splits
 * it (one NF per hop, to measure what a tail call per NF would cost).
 *
 * The loader writes the hop's NFs (types, ids, parameters) into .rodata
 * before load. The loop below is unrolled, so each read of tdm_hop is a
 * constant to the verifier: it follows only the NF types present and
 * removes the rest, and the JIT emits the chain as straight-line code,
 * as one hand-written program would be. The jump to the next hop has a
 * constant index too, which the JIT turns into a direct jump.
 */
#include "lib/nf.h"
/* generated: every bpf/nf_*.bpf.c's run function */
#define TDM_NF_DATAPATH
#include "nf_list.h"
#undef TDM_NF_DATAPATH

#define TDM_NF_TYPE(name, id, params_t, ndrops)				\
	_Static_assert(__builtin_types_compatible_p(typeof(name##_run),	\
						    tdm_nf_run_t),	\
		       #name "_run() is not a tdm_nf_run_t");
TDM_NF_TYPES
#undef TDM_NF_TYPE

const volatile struct tdm_hop tdm_hop = {
	.next_slot = TDM_SLOT_NONE,
};

/*
 * The same next slot in writable .data: the verifier cannot know its
 * value, so a tail call through it is an indirect jump. Only make bench
 * uses it (tdm_hop.runtime_jump), to measure what the constant saves.
 */
__u32 tdm_next_slot_rt = TDM_SLOT_NONE;

static __always_inline struct tdm_chain_stats *chain_stats(void)
{
	__u32 key = tdm_hop.chain_id;

	return bpf_map_lookup_elem(&tdm_chain_stats, &key);
}

/*
 * A drop by NF nf_id. Its stats are looked up again here, off the fast
 * path, rather than kept in a register across the NFs that follow.
 */
static __always_inline int chain_drop(__u32 nf_id, int reason)
{
	struct tdm_chain_stats *cs = chain_stats();
	struct tdm_nf_stats *st;

	st = bpf_map_lookup_elem(&tdm_nf_stats, &nf_id);
	if (st && reason >= 0 && reason < TDM_NF_MAX_DROPS)
		st->drops[reason]++;
	if (cs) {
		cs->dropped++;
		if (reason == TDM_DROP_MISSED)
			cs->missed++;
	}
	return XDP_DROP;
}

/*
 * The chain's end: its terminal action. After a process NF
 * (tdm_hop.resumed) the frame is on the NF's veth end: 'tx' sends it out
 * of the device it came in on, 'pass' gives it to that device's stack
 * (process_deliver), 'redirect' is as always.
 */
static __always_inline int chain_end(struct xdp_md *ctx, struct tdm_meta *pm)
{
	struct tdm_chain_stats *cs = chain_stats();
	int ret;

	switch (tdm_hop.action) {
	case TDM_ACT_DROP:
		if (cs)
			cs->dropped++;
		return XDP_DROP;
	case TDM_ACT_TX:
		if (cs)
			cs->txed++;
		if (tdm_hop.resumed)
			return bpf_redirect(pm->ifindex, 0);
		return XDP_TX;
	case TDM_ACT_REDIRECT:
		/*
		 * Counts packets handed to the redirect: whether the device
		 * takes them is known only after the program returns (the
		 * kernel's xdp_redirect_err tracepoint counts failures).
		 */
		ret = bpf_redirect(tdm_hop.redirect_ifindex, 0);
		if (cs)
			cs->redirected++;
		return ret;
	default:
		if (cs)
			cs->passed++;
		if (tdm_hop.resumed)
			return process_deliver(ctx, pm);
		return XDP_PASS;
	}
}

/*
 * Hop 0: a process NF of the chain is congested: drop before any NF
 * runs, counted on the chain, and as load offered to every process NF
 * of the chain (the scheduler's arrivals).
 */
static __always_inline int backpressure_drop(void)
{
	struct tdm_chain_stats *cs = chain_stats();
	int i;

	if (cs)
		cs->backpressure++;
#pragma unroll
	for (i = 0; i < TDM_MAX_CHAIN_PROCS; i++) {
		if (i >= tdm_hop.nprocs)
			break;
		tdm_proc_entry_drop(tdm_hop.procs[i]);
	}
	return XDP_DROP;
}

/*
 * The packet leaves the hop alive: the work its NFs left for that
 * (<name>_leave(), bpf/lib/nf.h: a conntrack's new flow goes into its
 * table). Only the hop's NF types that have such work keep code.
 */
static __always_inline void hop_leave(struct tdm_meta *pm)
{
	int i;

#pragma unroll
	for (i = 0; i < TDM_MAX_CHAIN_NFS; i++) {
		if (i >= tdm_hop.nnfs)
			break;
#define TDM_NF_LEAVE(name, id)						\
		if (tdm_hop.nfs[i].type == id)				\
			name##_leave(pm, &tdm_hop.nfs[i]);
		TDM_NF_LEAVES
#undef TDM_NF_LEAVE
	}
}

/* Only the case of the hop's constant type survives verification. */
static __always_inline int run_nf(struct xdp_md *ctx, struct tdm_meta *pm,
				  const volatile struct tdm_hop_nf *nf)
{
	switch (nf->type) {
#define TDM_NF_TYPE(name, id, params_t, ndrops)				\
	case id:							\
		return name##_run(ctx, pm, nf);
	TDM_NF_TYPES
#undef TDM_NF_TYPE
	}
	return NF_CONTINUE;	/* the loader refuses unknown types */
}

/*
 * A hop. km: decide backpressure with tandem_sched.ko's kfuncs (the
 * program tdm_chain_km, loaded only when the module is there).
 */
static __always_inline int hop(struct xdp_md *ctx, bool km)
{
	struct tdm_meta *pm;
	bool congested = false;
	__u32 last = 0;
	int i, res;

	pm = tdm_meta_get();
	if (!pm)
		return XDP_ABORTED;

	/*
	 * hop 0 of a chain with process NFs: backpressure, at entry. Every
	 * NF's state is brought up to date, not only the first congested
	 * one's, so that each follows its own queue whatever the others do.
	 */
#pragma unroll
	for (i = 0; i < TDM_MAX_CHAIN_PROCS; i++) {
		if (i >= tdm_hop.nprocs)
			break;
		if (km)
			congested |= tdm_proc_congested_km(tdm_hop.procs[i]);
		else
			congested |= tdm_proc_congested(tdm_hop.procs[i]);
	}
	if (congested)
		return backpressure_drop();

#pragma unroll
	for (i = 0; i < TDM_MAX_CHAIN_NFS; i++) {
		__u32 key = tdm_hop.nfs[i].nf_id;
		struct tdm_nf_stats *st;

		if (i >= tdm_hop.nnfs)
			break;
		st = bpf_map_lookup_elem(&tdm_nf_stats, &key);
		if (st) {
			st->packets++;
			st->bytes += pm->pkt_len;
		}
		res = run_nf(ctx, pm, &tdm_hop.nfs[i]);
		if (res != NF_CONTINUE)
			return chain_drop(tdm_hop.nfs[i].nf_id, res);
		last = i;
		if (tdm_hop.handoff && i == tdm_hop.nnfs - 1) {
			res = process_handoff(ctx, pm, &tdm_hop.nfs[i],
					      tdm_hop.chain_id,
					      tdm_hop.first + i,
					      tdm_hop.handoff_ifindex,
					      tdm_hop.ran);
			if (res == PROCESS_DOWN)
				return chain_drop(tdm_hop.nfs[i].nf_id,
						  TDM_PROCESS_DROP_DOWN);
			if (res == PROCESS_OVERSIZE)
				return chain_drop(tdm_hop.nfs[i].nf_id,
						  TDM_PROCESS_DROP_OVERSIZE);
			if (res != PROCESS_BYPASS) {
				/* handed over: it left */
				hop_leave(pm);
				return res;
			}
			/* bypassed: on to the hop after the NF */
		}
	}

	if (tdm_hop.next_slot == TDM_SLOT_NONE) {
		if (tdm_hop.action != TDM_ACT_DROP)
			hop_leave(pm);
		return chain_end(ctx, pm);
	}
	hop_leave(pm);
	if (tdm_hop.runtime_jump)
		bpf_tail_call(ctx, &tdm_jmp, tdm_next_slot_rt);
	else
		bpf_tail_call(ctx, &tdm_jmp, tdm_hop.next_slot);
	/* only reached if the next hop's slot is empty: the hop's last NF */
	return chain_drop(tdm_hop.nfs[last].nf_id, TDM_DROP_MISSED);
}

/*
 * The variant that asks tandem_sched.ko is an object of its own
 * (chain_km.bpf.c): an object with kfunc externs makes libbpf read the
 * kernel's BTF, and search the modules', at every load of every hop.
 */
#ifdef TDM_CHAIN_KM
SEC("xdp")
int tdm_chain_km(struct xdp_md *ctx)
{
	return hop(ctx, true);
}
#else
SEC("xdp")
int tdm_chain(struct xdp_md *ctx)
{
	return hop(ctx, false);
}
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";
