// SPDX-License-Identifier: GPL-2.0-only
/*
 * tandem_sched.ko's kfuncs from an XDP program, for selftests/kmod_probe
 * (BPF_PROG_TEST_RUN): both are called unconditionally for the NF id in
 * kk.nf_id, and what they returned is left in kk. Without the
 * module the program must not load (the weak kfuncs stay unresolved and
 * the verifier refuses the call).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "lib/sched.h"

/* in .data (initialized), one struct: kmod_probe finds it at offset 0 */
struct {
	__u32 nf_id;
	int backlog;
	int congested;
	__u32 runs;
} kk = { .nf_id = 0xffffffff, .backlog = 1234567, .congested = 1234567 };

SEC("xdp")
int kmod_kfunc(struct xdp_md *ctx)
{
	kk.backlog = tdm_sched_nf_backlog(kk.nf_id);
	kk.congested = tdm_sched_nf_congested(kk.nf_id);
	kk.runs++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
