// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmod_get ID: tandem_sched.ko's view of NF ID (TDM_SCHED_IOC_GET), one
 * "key value" a line; exits 3 if the module has no such NF (ENOENT),
 * 1 on another error. For selftests/test_sched_mode.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "libtandem.h"

int main(int argc, char **argv)
{
	struct tdm_sched_state st;
	int fd, err;

	if (argc != 2) {
		fprintf(stderr, "usage: kmod_get ID\n");
		return 2;
	}
	fd = tdm_kmod_open();
	if (fd < 0) {
		fprintf(stderr, "kmod_get: %s: %s\n", TDM_SCHED_DEV, strerror(-fd));
		return 1;
	}
	err = tdm_kmod_get(fd, atoi(argv[1]), &st);
	if (err) {
		fprintf(stderr, "kmod_get: %s\n", strerror(-err));
		return err == -ENOENT ? 3 : 1;
	}
	printf("pid %u\nweight %u\nwrites %llu\nwrite_err %d\n"
	       "crossings %llu\nevents %llu\ncost_ns %llu\nload_pps %llu\n"
	       "reactions %llu\nreact_ns_sum %llu\nreact_ns_last %llu\n",
	       st.pid, st.weight, (unsigned long long)st.writes, st.write_err,
	       (unsigned long long)st.crossings,
	       (unsigned long long)st.events,
	       (unsigned long long)st.cost_ns,
	       (unsigned long long)st.load_pps,
	       (unsigned long long)st.reactions,
	       (unsigned long long)st.react_ns_sum,
	       (unsigned long long)st.react_ns_last);
	close(fd);
	return 0;
}
