// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tdm_chain_km: the hop of chain.bpf.c that decides backpressure with
 * tandem_sched.ko's kfuncs (bpf/lib/sched.h), loaded for hop 0 of a
 * chain with process NFs while the module is loaded (user/lib/chain.c).
 */
#define TDM_CHAIN_KM
#include "chain.bpf.c"
