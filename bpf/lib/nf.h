/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What an NF is: one function
 *
 *	static __always_inline int <name>_run(struct xdp_md *ctx,
 *					      struct tdm_meta *pm,
 *					      const volatile struct tdm_hop_nf *nf)
 *
 * in bpf/nf_<name>.bpf.c, followed by the line
 *
 *	TDM_NF(<name>, <enum tdm_nf_type_id>);
 *
 * It reads the parsed packet in *pm (never the headers again) and its
 * instance's id and parameters in *nf, and returns NF_CONTINUE or a drop
 * reason. Counting, running the next NF, the jump to the next hop and
 * the chain's terminal action are the hop program's (bpf/chain.bpf.c), which inlines every NF
 * file: keep an NF's own helpers and constants prefixed with its name.
 */
#ifndef TANDEM_BPF_NF_H
#define TANDEM_BPF_NF_H

#include "maps.h"

enum nf_result {
	NF_CONTINUE = -1,		/* go on along the chain */
	/* otherwise: drop, with this enum tdm_drop_reason */
};

typedef int tdm_nf_run_t(struct xdp_md *ctx, struct tdm_meta *pm,
			 const volatile struct tdm_hop_nf *nf);

/*
 * Declares NF <name> of type id. The build collects these lines from
 * bpf/nf_*.bpf.c into the hop program's list of NFs (tools/gen-nf-list);
 * here they only check the run function's type.
 */
#define TDM_NF(name, id)						\
	_Static_assert(__builtin_types_compatible_p(typeof(name##_run),	\
						    tdm_nf_run_t) &&	\
		       (id) > 0, #name "_run() is not a tdm_nf_run_t")

#endif /* TANDEM_BPF_NF_H */
