// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tandem capture: the frames a monitor NF sees, copied by the datapath
 * into a BPF ring buffer (user/lib/nf_monitor.c), printed one a line or
 * written as a pcap file with libpcap (nanosecond timestamps, Ethernet
 * link type), which tcpdump -r and Wireshark read.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>

#include <pcap/pcap.h>

#include "cli.h"

#define CAPTURE_RING_BYTES	(4u << 20)	/* room for ~1000 full frames */
#define CAPTURE_POLL_MS		200		/* how soon a deleted NF is seen */

static volatile sig_atomic_t stopping;

struct capture_out {
	pcap_dumper_t *dump;		/* -w, or NULL: text or JSON lines */
	__u64 realtime_off;		/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	__u64 written, max;		/* max 0: no limit */
	bool failed;			/* writing the output failed */
};

static void on_signal(int sig)
{
	stopping = 1;
}

static __u64 clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void print_frame(const struct capture_out *o,
			const struct tdm_monitor_sample *s, const void *frame)
{
	__u64 t = s->tstamp + o->realtime_off;
	char when[32], dev[IF_NAMESIZE], src[80], dst[80];
	time_t sec = t / 1000000000ull;
	json_object *j = json_object_new_object();
	struct tm tm;

	tdm_flow_key_json(j, &s->key);
	if (!if_indextoname(s->ifindex, dev))
		snprintf(dev, sizeof(dev), "if%u", s->ifindex);
	if (json_mode) {
		const unsigned char *b = frame;
		char *hex = malloc(2 * s->caplen + 1);
		__u32 i;

		if (!hex)
			abort();
		for (i = 0; i < s->caplen; i++)
			sprintf(hex + 2 * i, "%02x", b[i]);
		hex[2 * s->caplen] = 0;
		json_object_object_add(j, "time", json_object_new_double(t / 1e9));
		json_object_object_add(j, "time_ns", json_u64(t));
		json_object_object_add(j, "dev", jstr(dev));
		json_object_object_add(j, "len", json_u64(s->len));
		json_object_object_add(j, "caplen", json_u64(s->caplen));
		json_object_object_add(j, "data", json_object_new_string(hex));
		free(hex);
		cli_json_out(j);
		return;
	}
	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	tdm_flow_ends(j, src, sizeof(src), dst, sizeof(dst));
	if (json_object_object_get(j, "proto"))
		printf("%s.%09llu %s %s %s %s > %s, length %u\n", when,
		       t % 1000000000ull, dev,
		       json_object_get_string(json_object_object_get(j, "family")),
		       json_object_get_string(json_object_object_get(j, "proto")),
		       src, dst, s->len);
	else
		printf("%s.%09llu %s ethertype %s, length %u\n", when,
		       t % 1000000000ull, dev,
		       json_object_get_string(json_object_object_get(j, "ethertype")),
		       s->len);
	fflush(stdout);
	json_object_put(j);
}

static int on_frame(void *arg, const struct tdm_monitor_sample *s,
		    const void *frame)
{
	struct capture_out *o = arg;
	__u64 t = s->tstamp + o->realtime_off;

	if (o->dump) {
		struct pcap_pkthdr h = {
			/* a nanosecond file: tv_usec holds nanoseconds */
			.ts.tv_sec = t / 1000000000ull,
			.ts.tv_usec = t % 1000000000ull,
			.caplen = s->caplen,
			.len = s->len,
		};

		pcap_dump((u_char *)o->dump, &h, frame);
	} else {
		print_frame(o, s, frame);
	}
	/* a full disk: no use going on; the pipe's reader gone (tcpdump
	 * -c N): done (at the first frame after: a pipe says so only to a
	 * write) */
	if (ferror(o->dump ? pcap_dump_file(o->dump) : stdout)) {
		if (errno == EPIPE)
			stopping = 1;
		else
			o->failed = true;
	} else {
		o->written++;
	}
	return stopping || o->failed || (o->max && o->written >= o->max);
}

static int capture_run(struct args *a)
{
	const char *name = arg_str(a, "NF"), *file = arg_str(a, "-w");
	__u32 snaplen = arg_num(a, "snaplen", TDM_MONITOR_SNAPLEN_MAX);
	__u32 sample = arg_num(a, "sample", 1);
	struct capture_out o = { .max = arg_num(a, "count", 0) };
	/* SA_RESTART: a write to a pipe goes on; the wait for frames
	 * (epoll) ends at a signal whatever the flag */
	struct sigaction sa = { .sa_handler = on_signal,
				.sa_flags = SA_RESTART };
	__u64 sampled = 0, lost = 0;
	struct tdm_capture *cap;
	struct tdm_ctx *ctx;
	pcap_t *pd = NULL;
	int r = 0, code = 0;
	sigset_t sigs;

	ctx = cli_ctx(false);
	if (tdm_capture_open(ctx, name, snaplen, sample, CAPTURE_RING_BYTES,
			     &cap))
		return cli_lib_fail();
	/* the file once the capture is ours: a refused one leaves it be */
	if (file) {
		pd = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, snaplen,
						PCAP_TSTAMP_PRECISION_NANO);
		/* "-": standard output, as tcpdump -w - */
		o.dump = pd ? pcap_dump_open(pd, file) : NULL;
		if (!o.dump) {
			code = cli_fail("capture: %s",
					pd ? pcap_geterr(pd) : "libpcap: no handle");
			tdm_capture_close(cap);
			if (pd)
				pcap_close(pd);
			return code;
		}
	}
	/* the lock is for changes: a capture may run for hours */
	tdm_unlock(ctx);
	/*
	 * cli_ctx() held off the signals that end a command for the
	 * change that started the capture; they now end the capture, and
	 * so does a reader of our pipe that went (SIGPIPE).
	 */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	sigprocmask(SIG_UNBLOCK, &sigs, NULL);
	o.realtime_off = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	fprintf(stderr, "capturing on %s: snaplen %u, 1 frame in %u%s\n", name,
		snaplen, sample, o.max ? "" : "; Ctrl-C stops");
	while (!stopping && !o.failed && !(o.max && o.written >= o.max)) {
		r = tdm_capture_poll(cap, CAPTURE_POLL_MS, on_frame, &o);
		if (r < 0)
			break;
		/* each round out at once, for a reader of the pipe */
		if (r > 0 && o.dump && pcap_dump_flush(o.dump)) {
			if (errno == EPIPE)
				stopping = 1;
			else
				o.failed = true;
		}
	}
	/* what stops it now waits for the ring to leave the NF */
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if (r < 0)
		code = cli_lib_fail();
	tdm_capture_counts(cap, &sampled, &lost);
	/* its ring leaves the NF's slot under the lock, as it came in */
	if (tdm_relock(ctx) && !code)
		code = cli_lib_fail();
	tdm_capture_close(cap);
	if (o.dump && pcap_dump_flush(o.dump) && errno != EPIPE)
		o.failed = true;
	if (o.failed && !code)
		code = cli_fail("capture: writing %s: %s", file ? file : "the frames",
				strerror(errno));
	fprintf(stderr, "%llu frames captured, %llu sampled, %llu lost\n",
		(unsigned long long)o.written, (unsigned long long)sampled,
		(unsigned long long)lost);
	if (o.dump)
		pcap_dump_close(o.dump);
	if (pd)
		pcap_close(pd);
	return code;
}

static const struct arg capture_args[] = {
	{ .meta = "NF", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the monitor NF whose frames are copied" },
	{ "count", NULL, "N", ARG_NUM, 0, 1, 0xffffffff, NULL,
	  "stop after N frames (default: when interrupted)" },
	{ "snaplen", NULL, "N", ARG_NUM, 0, 1, TDM_MONITOR_SNAPLEN_MAX, NULL,
	  "copy the first N bytes of each frame (default and most: 4096)" },
	{ "sample", NULL, "N", ARG_NUM, 0, 1, 0xffffffff, NULL,
	  "copy 1 frame in N, at random (default 1: every frame)" },
	{ "-w", "--write", "FILE", ARG_NAME, 0, 0, 0, NULL,
	  "write a pcap file, not lines ('-': standard output)" },
	{}
};

static const struct command capture_cmds[] = {
	{}
};

static const struct command capture_default = {
	"", NULL, capture_run, capture_args,
	"copy the frames a monitor NF sees to a pcap file or the screen",
};

const struct object capture_object = {
	.name = "capture",
	.summary = "copy a monitor NF's frames (pcap, as tcpdump -w)",
	.cmds = capture_cmds,
	.default_cmd = &capture_default,
	.notes = "The frames as they are at the monitor's place in its chain, with the\n"
		 "device they came in at. One capture per monitor at a time. When the ring\n"
		 "is full frames are lost, not delayed: the count is printed at the end\n"
		 "(on standard error, with the frames captured). With -j and no -w: one\n"
		 "JSON object a frame, its bytes in hex.\n",
};
