// SPDX-License-Identifier: GPL-2.0-only
/*
 * vm_hold: in a tools/vmtest guest, keep still the kernel code that the
 * tests would otherwise have the kernel patch while the other vCPU runs
 * it. For selftests/run_all; selftests/test_vm_quiet.sh checks it.
 *
 *   vm_hold [drv:]IFNAME...
 *	1. attach a program of its own (XDP_PASS, loaded once per device,
 *	   so each is a distinct program) to each device in generic (SKB)
 *	   mode, or driver mode if its name says drv:;
 *	2. leave a process behind (it lives until the guest powers off)
 *	   holding a socket with SO_TIMESTAMP on, and two do-nothing BPF
 *	   probes on each of the sched_switch and sched_process_exit
 *	   tracepoints;
 *	and exit 0 if all of it worked.
 *
 * Why: the kernel patches its own code with text_poke_bp() (an int3,
 * then IPIs to every CPU) when a static call or a static key changes.
 * Under TCG that cross-modification of code another vCPU is running
 * crashed guests (an int3 oops at bpf_dispatcher_xdp_func+0xa on 6.12)
 * and hung them (soft lockups on 6.1). What the tests do all the time
 * changed three of them:
 *  - the XDP dispatcher (kernel/bpf/dispatcher.c): every XDP program
 *    attached in driver or generic mode, and every program that
 *    BPF_PROG_TEST_RUN runs with repeat > 1, is added to it, which
 *    rewrites its image and re-points bpf_dispatcher_xdp_func. It has
 *    BPF_DISPATCHER_MAX (48) slots; once they are full, a program added
 *    gets none (the image calls it indirectly) and nothing is patched.
 *    Hence more devices than slots (64 in run_all).
 *  - generic_xdp_needed_key (net/core/dev.c), flipped when the first
 *    generic-mode program comes or the last goes: the attachments of 1
 *    keep it on.
 *  - netstamp_needed_key (net/core/dev.c), flipped when the first
 *    socket asks for receive timestamps (ping does) or the last one
 *    goes: the socket of 2 keeps it on.
 *  - the static key and static call of a tracepoint, switched as its
 *    probes go from 0 to 1 to 2 and back (kernel/tracepoint.c):
 *    tandem_sched.ko's probes on sched_switch and sched_process_exit,
 *    and the tests' own holds of them (kmod_hold in lib.sh), which
 *    patched __schedule() when they came and went. With two probes
 *    held from the start, nothing a test adds or removes patches.
 * run_all holds two more itself: bpf_master_redirect_enabled_key,
 * flipped by the first and last XDP program on a bond (a bond with a
 * program given here in driver mode), and ingress_needed_key and
 * egress_needed_key, by the first and last clsact qdisc or tcx program
 * (a clsact qdisc on a device of its own), and on 6.12
 * tcf_sw_enabled_key, by the first and last software tc filter (a
 * matchall filter on that qdisc).
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int hold_dispatcher(int n, char **names)
{
	struct bpf_insn insns[] = {
		/* r0 = XDP_PASS; exit */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	unsigned int ifindex;
	int i, fd, e, bad = 0;

	for (i = 0; i < n; i++) {
		const char *name = names[i];
		__u32 mode = XDP_FLAGS_SKB_MODE;

		if (!strncmp(name, "drv:", 4)) {
			name += 4;
			mode = XDP_FLAGS_DRV_MODE;
		}
		ifindex = if_nametoindex(name);
		if (!ifindex) {
			fprintf(stderr, "vm_hold: %s: %s\n", name, strerror(errno));
			bad = 1;
			continue;
		}
		fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "vm_hold", "GPL", insns, 2, NULL);
		if (fd < 0) {
			fprintf(stderr, "vm_hold: loading: %s\n", strerror(-fd));
			return 1;
		}
		e = bpf_xdp_attach(ifindex, fd, mode, NULL);
		close(fd);	/* the attachment holds the program */
		if (e) {
			fprintf(stderr, "vm_hold: %s: %s\n", name, strerror(-e));
			bad = 1;
		}
	}
	return bad;
}

#define HOLD_TPS	2
static const char *const hold_tps[HOLD_TPS] = {
	"sched_switch", "sched_process_exit",
};

/*
 * A child that holds, until it is killed, a socket with SO_TIMESTAMP
 * and two probes on each of hold_tps[]
 */
static int hold_forever(void)
{
	struct bpf_insn insns[] = {
		/* r0 = 0; exit */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int one = 1, fd, pfd, links[2 * HOLD_TPS], i;
	pid_t pid;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof(one))) {
		fprintf(stderr, "vm_hold: SO_TIMESTAMP: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < 2 * HOLD_TPS; i++) {
		pfd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "vm_hold",
				    "GPL", insns, 2, NULL);
		links[i] = pfd < 0 ? pfd :
			   bpf_raw_tracepoint_open(hold_tps[i / 2], pfd);
		if (pfd >= 0)
			close(pfd);	/* the attachment holds the program */
		if (links[i] < 0) {
			fprintf(stderr, "vm_hold: a probe on %s: %s\n",
				hold_tps[i / 2], strerror(-links[i]));
			return 1;
		}
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "vm_hold: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		/* out of the caller's session; no fd but the socket */
		setsid();
		signal(SIGHUP, SIG_IGN);
		for (i = 0; i < 3; i++)
			close(i);
		for (;;)
			pause();
	}
	close(fd);
	for (i = 0; i < 2 * HOLD_TPS; i++)
		close(links[i]);
	return 0;
}

int main(int argc, char **argv)
{
	int bad;

	if (argc < 2) {
		fprintf(stderr, "usage: vm_hold IFNAME...\n");
		return 2;
	}
	bad = hold_dispatcher(argc - 1, argv + 1);
	bad |= hold_forever();
	return bad;
}
