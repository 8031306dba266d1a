// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmod_reg ID [PID]: register process NF ID (its process PID) with tandem_sched.ko as
 * tandemd would, without weights (backpressure only), then hold the
 * registration until SIGTERM or SIGINT (closing the device unregisters
 * it). Prints "registered" once done, and the module's view of the NF
 * ("crossings N backlog N congested N pid N") when told to stop. For
 * selftests/test_bp_modes.sh.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "libtandem.h"

int main(int argc, char **argv)
{
	struct tdm_sched_reg r = { .weight_fd = -1 };
	struct tdm_sched_state st;
	sigset_t set;
	int fd, err, sig;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: kmod_reg ID [PID]\n");
		return 2;
	}
	r.nf_id = atoi(argv[1]);
	r.pid = argc == 3 ? atoi(argv[2]) : 0;
	r.xsks_fd = tdm_pinned_map("tdm_xsks");
	r.queues_fd = tdm_pinned_map("tdm_nf_queues");
	fd = tdm_kmod_open();
	if (fd < 0 || r.xsks_fd < 0 || r.queues_fd < 0) {
		fprintf(stderr, "kmod_reg: %s\n", strerror(fd < 0 ? -fd : 2));
		return 1;
	}
	err = tdm_kmod_register(fd, &r);
	if (err) {
		fprintf(stderr, "kmod_reg: register: %s\n", strerror(-err));
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("registered\n");
	fflush(stdout);
	sigwait(&set, &sig);
	err = tdm_kmod_get(fd, r.nf_id, &st);
	if (err) {
		fprintf(stderr, "kmod_reg: get: %s\n", strerror(-err));
		return 1;
	}
	printf("crossings %llu backlog %u congested %u pid %u\n",
	       (unsigned long long)st.crossings, st.backlog, st.congested,
	       st.pid);
	return 0;
}
