// SPDX-License-Identifier: GPL-2.0-only
/*
 * udp-blast: a UDP/IPv4 traffic source for the process NF benchmarks
 * (tools/bench/process_bench.sh). selftests/lib/udp.py sends some
 * thousands of datagrams a second; this sends hundreds of thousands,
 * with sendmmsg(), 64 datagrams a call.
 *
 *	udp-blast [-r PPS] [-t SECONDS] [-s BYTES] DST PORT...
 *
 * PPS 0 (the default) sends as fast as it can; otherwise it keeps to
 * the rate on CLOCK_MONOTONIC, sleeping until a batch of 64 is due. The datagrams go to the
 * ports in turn, so N ports get equal shares. It prints the count sent
 * (datagrams the kernel took), the seconds it took and its CPU time in
 * ns (CLOCK_PROCESS_CPUTIME_ID: the softirq work its sends start on its
 * CPU, the receiving veth's XDP included, runs in its context and is
 * charged to it unless ksoftirqd takes it), as one JSON line.
 * Pin it with taskset: on veth, the receiving device's XDP runs in the
 * sender's softirq, on the sender's CPU.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH		64
#define MAX_PORTS	16

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr, "Usage: udp-blast [-r PPS] [-t SECONDS] [-s BYTES] DST PORT...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct sockaddr_in dst[MAX_PORTS];
	static struct mmsghdr msgs[BATCH];
	static struct iovec iov[BATCH];
	static char payload[1472];
	unsigned long long sent = 0, errors = 0, cpu0;
	double rate = 0, secs = 1, start, end, t;
	int c, i, fd, nports, size = 18, port = 0;

	while ((c = getopt(argc, argv, "r:t:s:")) != -1) {
		switch (c) {
		case 'r':
			rate = atof(optarg);
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 's':
			size = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	nports = argc - optind - 1;
	if (nports < 1 || nports > MAX_PORTS || size < 1 ||
	    size > (int)sizeof(payload) || secs <= 0 || rate < 0)
		usage();
	for (i = 0; i < nports; i++) {
		dst[i].sin_family = AF_INET;
		dst[i].sin_port = htons(atoi(argv[optind + 1 + i]));
		if (inet_pton(AF_INET, argv[optind], &dst[i].sin_addr) != 1)
			usage();
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	memset(payload, 'x', sizeof(payload));

	cpu0 = cpu_ns();
	start = now();
	end = start + secs;
	for (;;) {
		int n = BATCH, r;

		t = now();
		if (t >= end)
			break;
		if (rate > 0) {
			double due = (t - start) * rate - sent;

			if (due < BATCH) {
				/*
				 * Sleep until a whole batch is due, rather
				 * than spin: the CPU time it reports is then
				 * the sending's, not the waiting's.
				 */
				struct timespec ts = { 0, (long)((BATCH - due) / rate * 1e9) };

				nanosleep(&ts, NULL);
				continue;
			}
		}
		for (i = 0; i < n; i++) {
			iov[i].iov_base = payload;
			iov[i].iov_len = size;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &dst[port];
			msgs[i].msg_hdr.msg_namelen = sizeof(dst[port]);
			port = (port + 1) % nports;
		}
		r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			if (errno != ENOBUFS && errno != EAGAIN) {
				perror("sendmmsg");
				return 1;
			}
			errors++;
			continue;
		}
		sent += r;
	}
	printf("{\"sent\": %llu, \"seconds\": %.6f, \"errors\": %llu, \"cpu_ns\": %llu}\n",
	       sent, now() - start, errors, cpu_ns() - cpu0);
	close(fd);
	return 0;
}
