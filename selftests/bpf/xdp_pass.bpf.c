// SPDX-License-Identifier: GPL-2.0-only
/* A foreign XDP program for the tests: tandem must not displace it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
