// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The entry program, attached to a device: parse once, steer to a chain,
 * jump into it. Packets with no chain go to the stack untouched (fail
 * open: a broken policy must never lock the admin out).
 */
#include "lib/entry.h"

/* Set by the loader: this device's slot in tdm_dev_stats. */
const volatile __u32 tdm_dev_slot = 0;

/* make bench only: jump with the runtime index, to measure the switch */
const volatile __u32 tdm_runtime_jump = 0;

/*
 * Jump into chain c. A tail call with a runtime index is an indirect
 * jump, a retpoline on most x86 machines; so instead a switch, which
 * clang lowers to a binary search of 7 compares, ends in one of
 * TDM_MAX_CHAINS tail calls, each with a constant index that the JIT
 * turns into a direct jump. bpf_tail_call_static() keeps clang from
 * merging them back into one call with a variable index. Returns only
 * if slot c is empty.
 */
#define JUMP_1(n)							\
	case (n):							\
		bpf_tail_call_static(ctx, &tdm_jmp, (n));		\
		break;
#define JUMP_2(n)	JUMP_1(n) JUMP_1((n) + 1)
#define JUMP_4(n)	JUMP_2(n) JUMP_2((n) + 2)
#define JUMP_8(n)	JUMP_4(n) JUMP_4((n) + 4)
#define JUMP_16(n)	JUMP_8(n) JUMP_8((n) + 8)
#define JUMP_32(n)	JUMP_16(n) JUMP_16((n) + 16)
#define JUMP_64(n)	JUMP_32(n) JUMP_32((n) + 32)
#define JUMP_128(n)	JUMP_64(n) JUMP_64((n) + 64)

_Static_assert(TDM_MAX_CHAINS == 128, "JUMP_128 must cover every chain");

static __always_inline void jump_to_chain(struct xdp_md *ctx, __u32 c)
{
	switch (c) {
	JUMP_128(0)
	}
}

SEC("xdp")
int tdm_entry(struct xdp_md *ctx)
{
	struct tdm_chain_stats *cs;
	struct tdm_dev_stats *ds;
	__u32 chain;

	chain = tdm_entry_steer(ctx, tdm_dev_slot, &ds, &cs);
	if (chain == TDM_CHAIN_NONE)
		return XDP_PASS;
	if (tdm_runtime_jump)
		bpf_tail_call(ctx, &tdm_jmp, chain);
	else
		jump_to_chain(ctx, chain);

	/* the chain's slot is empty (deleted under us): fail open */
	if (cs)
		cs->missed++;
	if (ds)
		ds->missed++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
