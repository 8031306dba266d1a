// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdm-bench: per-packet cost of tandem's datapath, through
 * BPF_PROG_TEST_RUN with repeat (the kernel times the loop; no traffic).
 *
 * For chains of 1, 2, 4 and 8 counter NFs it measures
 *   mono     one program doing the same work without tail calls (baseline)
 *   direct   tandem's chain: hop-to-hop tail calls with constant indexes
 *            (JIT direct jumps)
 *   indirect the same chain with runtime-index tail calls
 * and the entry program alone (steering with no chain). Each figure is the
 * min and median over several runs, all measured in this run.
 *
 *   tdm-bench [-r REPEAT] [-n RUNS] [-o FILE.md]
 *
 * Runs in its own mount and network namespace with a private bpffs.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "libtandem.h"
#include "bpf/bench_mono.skel.h"
#include "lib/pkt.h"

#define LO		1
#define MAX_RUNS	31

static const int chain_lens[] = { 1, 2, 4, 8 };
#define NLENS	(int)(sizeof(chain_lens) / sizeof(chain_lens[0]))

static struct tdm_ctx *ctx;
static __u32 dev_slot;
static int repeat = 2000000, runs = 7;
static struct pkt pkt;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double min, median;
};

/* ns per packet of prog_fd, min and median over runs */
static int measure(int prog_fd, struct result *r)
{
	struct xdp_md md = { .data_end = pkt.len, .ingress_ifindex = LO };
	double v[MAX_RUNS];
	int i;

	for (i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o,
			.data_in = pkt.buf, .data_size_in = pkt.len,
			.ctx_in = &md, .ctx_size_in = sizeof(md),
			.repeat = repeat,
		);
		if (bpf_prog_test_run_opts(prog_fd, &o)) {
			fprintf(stderr, "tdm-bench: test run: %s\n", strerror(errno));
			return -1;
		}
		if (o.retval != XDP_PASS) {
			fprintf(stderr, "tdm-bench: verdict %u, expected XDP_PASS\n",
				o.retval);
			return -1;
		}
		v[i] = o.duration;	/* ns per repetition */
	}
	qsort(v, runs, sizeof(v[0]), cmp_double);
	r->min = v[0];
	r->median = v[runs / 2];
	return 0;
}

static int empty_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "tdm_bench_empty", "GPL",
			     insns, 2, NULL);
}

static int mono_prog(int n)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts,
		.pin_root_path = tdm_pin_root());
	struct tdm_bench_mono *s;
	int i, fd;

	s = tdm_bench_mono__open_opts(&opts);
	if (!s)
		return -1;
	s->rodata->n_hops = n;
	s->rodata->tdm_dev_slot = dev_slot;
	for (i = 0; i < n; i++) {
		char name[16];

		snprintf(name, sizeof(name), "c%d", i);
		s->rodata->nf_ids[i] = tdm_nf_lookup(ctx, name, NULL);
	}
	if (tdm_bench_mono__load(s)) {
		tdm_bench_mono__destroy(s);
		return -1;
	}
	fd = dup(bpf_program__fd(s->progs.tdm_bench_mono));
	tdm_bench_mono__destroy(s);
	return fd;
}

/* chain "lenN" of counters c0..c(N-1), as LO's default chain */
static int make_chain(int n, bool replace)
{
	struct tdm_chain_spec spec = { .nnfs = n, .action = TDM_ACT_PASS };
	static char names[TDM_MAX_CHAIN_NFS][16];
	char chain[16];
	int i, err;

	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		spec.nfs[i] = names[i];
	}
	snprintf(chain, sizeof(chain), "len%d", n);
	err = replace ? tdm_chain_replace(ctx, chain, &spec) :
			tdm_chain_add(ctx, chain, &spec);
	if (err < 0)
		return err;
	return tdm_dev_register(ctx, LO, chain, NULL);
}

static int setup(void)
{
	char name[16];
	int i;

	if (unshare(CLONE_NEWNS | CLONE_NEWNET) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		fprintf(stderr, "tdm-bench: namespace setup: %s\n", strerror(errno));
		return -1;
	}
	setenv("TANDEM_PIN_ROOT", "/sys/fs/bpf/tandem", 1);
	if (tdm_open(&ctx, 0)) {
		fprintf(stderr, "tdm-bench: %s\n", tdm_open_errmsg());
		return -1;
	}
	for (i = 0; i < TDM_MAX_CHAIN_NFS; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		if (tdm_nf_add(ctx, name, "counter", 0, NULL) < 0)
			goto err;
	}
	if (tdm_dev_register(ctx, LO, NULL, &dev_slot))
		goto err;
	pkt_udp4(&pkt, "10.0.0.1", "10.0.0.2", 1000, 2000, 18);	/* 64 B */
	return 0;
err:
	fprintf(stderr, "tdm-bench: %s\n", tdm_errmsg(ctx));
	return -1;
}

static void cpu_model(char *buf, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, size, "unknown CPU");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			snprintf(buf, size, "%s", c + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	struct result empty, entry, mono[NLENS], direct[NLENS], indirect[NLENS];
	const char *out_path = NULL;
	char cpu[128], date[32];
	struct utsname u;
	FILE *out;
	int c, i, fd;
	time_t now = time(NULL);

	while ((c = getopt(argc, argv, "r:n:o:h")) != -1) {
		switch (c) {
		case 'r':
			repeat = atoi(optarg);
			break;
		case 'n':
			runs = atoi(optarg);
			break;
		case 'o':
			out_path = optarg;
			break;
		default:
			fprintf(stderr, "usage: tdm-bench [-r REPEAT] [-n RUNS] [-o FILE.md]\n");
			return 2;
		}
	}
	if (repeat < 1 || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "tdm-bench: bad -r or -n (runs 1-%d)\n", MAX_RUNS);
		return 2;
	}
	if (setup())
		return 1;

	fprintf(stderr, "measuring: %d runs of %d packets each\n", runs, repeat);
	fd = empty_prog();
	if (fd < 0 || measure(fd, &empty))
		return 1;
	close(fd);
	fd = tdm_entry_load(ctx, dev_slot);
	if (fd < 0 || measure(fd, &entry))	/* no chain: steering alone */
		return 1;
	for (i = 0; i < NLENS; i++) {
		int m = mono_prog(chain_lens[i]);

		if (m < 0 || measure(m, &mono[i]) || make_chain(chain_lens[i], false) ||
		    measure(fd, &direct[i])) {
			fprintf(stderr, "tdm-bench: chain of %d: %s\n",
				chain_lens[i], tdm_errmsg(ctx));
			return 1;
		}
		close(m);
	}
	tdm_set_runtime_jump(ctx, true);
	for (i = 0; i < NLENS; i++) {
		if (make_chain(chain_lens[i], true) ||
		    measure(fd, &indirect[i])) {
			fprintf(stderr, "tdm-bench: chain of %d: %s\n",
				chain_lens[i], tdm_errmsg(ctx));
			return 1;
		}
	}

	uname(&u);
	cpu_model(cpu, sizeof(cpu));
	strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&now));
	out = out_path ? fopen(out_path, "w") : stdout;
	if (!out) {
		perror(out_path);
		return 1;
	}
	fprintf(out, "<!-- written by tdm-bench (make bench); edit tools/bench/ instead -->\n"
		"# Benchmarks\n\n"
		"Measured %s on Linux %s, %s, with `make bench`\n"
		"(BPF_PROG_TEST_RUN, %d packets per run, min / median of %d runs;\n"
		"a 64-byte UDP/IPv4 packet; ns per packet).\n\n",
		date, u.release, cpu, repeat, runs);
	fprintf(out, "## Chains against one monolithic program\n\n"
		"`mono`: one program doing the entry's work and N counters without tail\n"
		"calls. `direct`: tandem's chain, next-hop index a load-time constant\n"
		"(JIT direct jump). `indirect`: the same chain, next-hop index read at\n"
		"run time (indirect jump). Per-hop overhead = (chain - mono) / N.\n\n"
		"| NFs | mono | direct | indirect | direct/mono | per-hop direct | per-hop indirect |\n"
		"|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < NLENS; i++) {
		int n = chain_lens[i];

		fprintf(out, "| %d | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f | %.2f | %.2f | %.2f |\n",
			n, mono[i].min, mono[i].median, direct[i].min,
			direct[i].median, indirect[i].min, indirect[i].median,
			direct[i].median / mono[i].median,
			(direct[i].median - mono[i].median) / n,
			(indirect[i].median - mono[i].median) / n);
	}
	fprintf(out, "\n## Floors\n\n"
		"| program | min | median |\n|---|---:|---:|\n"
		"| empty XDP program (test-run loop overhead) | %.1f | %.1f |\n"
		"| entry: parse + steer, no chain (to the stack) | %.1f | %.1f |\n",
		empty.min, empty.median, entry.min, entry.median);
	fprintf(out, "\n## Reproduce\n\n```sh\nmake bench          # writes this file\n"
		"build/tdm-bench -r 2000000 -n 7   # prints the tables\n```\n\n"
		"Timings in the TCG VM mean nothing (emulated CPU); run on the host.\n");
	if (out_path)
		fclose(out);
	tdm_close(ctx);
	return 0;
}
