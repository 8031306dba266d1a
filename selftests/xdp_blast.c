// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdp_blast DEV DPORT SECONDS: inject UDP frames (to 10.10.0.2:DPORT) into tandem's entry program as
 * if DEV had received them (BPF_PROG_TEST_RUN with live frames), as fast
 * as the CPU allows, for SECONDS; prints the number of frames.
 *
 * A traffic source of a few million packets per second for the hitless
 * replace test: at that rate a replace that is not atomic per packet
 * would show up in the counters. It holds tandem's lock only while it
 * loads the entry program, so the CLI can work while it runs.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "libtandem.h"
#include "lib/pkt.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct tdm_dev_status *v;
	unsigned long long sent = 0;
	struct tdm_ctx *ctx;
	struct pkt p;
	__u32 ifindex;
	double end;
	int i, n, fd = -1;

	if (argc != 4) {
		fprintf(stderr, "usage: xdp_blast DEV DPORT SECONDS\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex || tdm_open(&ctx, 0)) {
		fprintf(stderr, "xdp_blast: no device %s or no tandem state\n",
			argv[1]);
		return 1;
	}
	if (tdm_dev_list(ctx, &v, &n))
		return 1;
	for (i = 0; i < n; i++)
		if (v[i].dev.ifindex == ifindex)
			fd = tdm_entry_load(ctx, v[i].dev.slot);
	free(v);
	if (fd < 0) {
		fprintf(stderr, "xdp_blast: %s is not attached\n", argv[1]);
		return 1;
	}
	tdm_unlock(ctx);

	p.len = 0;
	pkt_eth(&p, ETH_P_IP);
	pkt_ip4(&p, "10.10.0.1", "10.10.0.2", IPPROTO_UDP, 0);
	pkt_udp(&p, 40000, atoi(argv[2]), 18);
	end = now() + atof(argv[3]);
	while (now() < end) {
		struct xdp_md md = { .data_end = p.len, .ingress_ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, o,
			.data_in = p.buf, .data_size_in = p.len,
			.ctx_in = &md, .ctx_size_in = sizeof(md),
			.repeat = 20000,
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		);

		if (bpf_prog_test_run_opts(fd, &o)) {
			fprintf(stderr, "xdp_blast: %s\n", strerror(errno));
			return 1;
		}
		sent += 20000;
	}
	printf("%llu\n", sent);
	close(fd);
	tdm_close(ctx);
	return 0;
}
