/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What an NF is: one file, bpf/nf_<name>.bpf.c, in three parts, and its
 * library half user/lib/nf_<name>.c (struct tdm_nf_type tdm_nf_<name>:
 * parsing, printing, setting up its state). tools/gen-nf-list includes
 * each part where it belongs and fails the build when the two lists of
 * NFs differ.
 *
 *   #ifdef TDM_NF_DECLARATIONS	in the datapath and the library
 *	struct tdm_<name>_params { ... };	at most TDM_NF_PARAMS_SIZE
 *	enum { TDM_<NAME>_DROP_x = TDM_DROP_NF, ..., TDM_<NAME>_DROP_MAX };
 *	(types of its maps' keys and values, limits)
 *	TDM_NF(<name>, <id>, struct tdm_<name>_params, TDM_<NAME>_DROP_MAX);
 *   #endif
 *   #ifdef TDM_NF_MAPS		its private maps, pinned by name: every
 *				object has them (bpf/lib/maps.h), so the
 *				library creates them with the others
 *   #endif
 *   #ifdef TDM_NF_DATAPATH	inlined into the hop program (chain.bpf.c)
 *	static __always_inline int <name>_run(struct xdp_md *ctx,
 *					      struct tdm_meta *pm,
 *					      const volatile struct tdm_hop_nf *nf)
 *	and, if it has work left for a packet that leaves the hop alive
 *	(passed, sent, redirected, handed to a process NF or to the next
 *	hop; not dropped by an NF after it), at the start of a line:
 *	static __always_inline void <name>_leave(struct tdm_meta *pm,
 *					const volatile struct tdm_hop_nf *nf)
 *   #endif
 *
 * The run function reads the parsed packet in *pm (never the headers
 * again) and its instance's id and parameters in *nf (TDM_HOP_PARAMS()),
 * and returns NF_CONTINUE or one of its drop reasons (TDM_DROP_NF on,
 * never 0, the hop's own "missed"). Counting, running
 * the next NF, the jump to the next hop and the chain's terminal action
 * are the hop program's. Keep an NF's own helpers and constants prefixed
 * with its name: every NF is compiled into one program.
 */
#ifndef TANDEM_BPF_NF_H
#define TANDEM_BPF_NF_H

#include "maps.h"

enum nf_result {
	NF_CONTINUE = -1,		/* go on along the chain */
	/* otherwise: drop, with this reason (TDM_DROP_NF...) */
};

typedef int tdm_nf_run_t(struct xdp_md *ctx, struct tdm_meta *pm,
			 const volatile struct tdm_hop_nf *nf);

/* NF type name's parameters in the hop's .rodata: constants */
#define TDM_HOP_PARAMS(nf, name)					\
	((const volatile struct tdm_##name##_params *)(nf)->params.raw)

#endif /* TANDEM_BPF_NF_H */
