// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The entry program, attached to a device: parse once, steer to a chain,
 * jump into it. Packets with no chain go to the stack untouched (fail
 * open: a broken policy must never lock the admin out).
 */
#include "lib/entry.h"

/* Set by the loader: this device's slot in tdm_dev_stats. */
const volatile __u32 tdm_dev_slot = 0;

SEC("xdp")
int tdm_entry(struct xdp_md *ctx)
{
	struct tdm_chain_stats *cs;
	struct tdm_dev_stats *ds;
	__u32 chain;

	chain = tdm_entry_steer(ctx, tdm_dev_slot, &ds, &cs);
	if (chain == TDM_CHAIN_NONE)
		return XDP_PASS;
	/*
	 * A runtime index: an indirect jump. A switch of constant-index
	 * tail calls would be a direct one, 1-5 ns cheaper, but then every
	 * chain replace would patch this program's code while packets run
	 * through it (text_poke), and that crashed a 6.12 guest under qemu
	 * TCG (Oops: int3). Hops never jump to a slot that changes while
	 * they run: a chain's later hops are always fresh slots.
	 */
	bpf_tail_call(ctx, &tdm_jmp, chain);

	/* the chain's slot is empty (deleted under us): fail open */
	if (cs)
		cs->missed++;
	if (ds)
		ds->missed++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
