/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tandem_sched.ko's kfuncs (include/tandem/sched.h says what they do).
 * Weak: an object that declares them loads without the module, as long
 * as the programs that call them are not loaded (libbpf leaves an
 * unresolved weak kfunc unpatched; the verifier would refuse it). The
 * library loads tdm_chain_km instead of tdm_chain only when the module's
 * BTF is there (user/lib/chain.c).
 */
#ifndef TANDEM_BPF_SCHED_H
#define TANDEM_BPF_SCHED_H

#include <bpf/bpf_helpers.h>

extern int tdm_sched_nf_backlog(__u32 nf_id) __weak __ksym;
extern int tdm_sched_nf_congested(__u32 nf_id) __weak __ksym;

#endif /* TANDEM_BPF_SCHED_H */
