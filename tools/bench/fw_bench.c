// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdm-fw-bench: tandem's firewall against nftables, per frame, on the
 * same veth with the same frames, in one run (Documentation/
 * firewall-bench.md). A frame from a blocked source address is dropped:
 *
 *   tandem       the entry program and a chain of one firewall, in XDP:
 *                N "src ADDR/32 action drop" rules, the frame's address
 *                the last one (the rule walk's worst case)
 *   nft rules    XDP passes the frame to the stack; a netdev ingress
 *                chain on the veth holds the same N rules, "ip saddr ADDR
 *                drop", the frame's the last
 *   nft set      the same chain with one rule, "ip saddr @blocked drop",
 *                and the N addresses in a hash set: nftables' best form
 *
 *   floor        an XDP program that only drops: what a live frame
 *                costs before anyone filters it, paid both ways
 *
 * for N = 1, 64, 100, 1,000, 10,000, 100,000, IPv4 and IPv6. Frames are
 * injected with BPF_F_TEST_XDP_LIVE_FRAMES, as if received on the veth;
 * each figure is ns per frame, the minimum and the median over runs of
 * about 0.2 s each; "-": not measured (above -m).
 *
 *   tdm-fw-bench [-n RUNS] [-m MAX_RULES] [-o FILE.md] [-d FILE.dat]
 *
 * -d writes the figures for gnuplot (tools/bench/fw_bench.gp). Runs in
 * its own mount and network namespace with a private bpffs; needs nft.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "libtandem.h"
#include "lib/pkt.h"

#define MAX_RUNS	31
#define RUN_NS		200000000.0	/* one run: about 0.2 s of frames */
#define DEV		"tdmf0"

static const int sizes[] = { 1, 64, 100, 1000, 10000, 100000 };
#define NSIZES	(int)(sizeof(sizes) / sizeof(sizes[0]))

enum { TANDEM, NFT_RULES, NFT_SET, NWAYS };
static const char *const way_name[NWAYS] = { "tandem", "nft rules", "nft set" };

struct result {
	double min, median;	/* ns per frame; < 0: not measured */
};

static struct tdm_ctx *ctx;
static int runs = 7, max_rules = 100000;
static __u32 ifindex, slot;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ns per frame of prog_fd over repeat live frames of p */
static int run(int prog_fd, const struct pkt *p, int repeat, double *ns)
{
	struct xdp_md md = { .data_end = p->len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = p->buf, .data_size_in = p->len,
		.ctx_in = &md, .ctx_size_in = sizeof(md),
		.repeat = repeat,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
	);

	if (bpf_prog_test_run_opts(prog_fd, &o)) {
		fprintf(stderr, "tdm-fw-bench: test run: %s\n", strerror(errno));
		return -1;
	}
	*ns = o.duration;
	return 0;
}

/* min and median over runs, each about RUN_NS long */
static int measure(int prog_fd, const struct pkt *p, struct result *r)
{
	double v[MAX_RUNS], ns;
	int i, repeat;

	if (run(prog_fd, p, 1000, &ns))
		return -1;
	repeat = ns > 0 ? RUN_NS / ns : 1000000;
	if (repeat < 1000)
		repeat = 1000;
	if (repeat > 5000000)
		repeat = 5000000;
	for (i = 0; i < runs; i++)
		if (run(prog_fd, p, repeat, &v[i]))
			return -1;
	qsort(v, runs, sizeof(v[0]), cmp_double);
	r->min = v[0];
	r->median = v[runs / 2];
	return 0;
}

/* The i-th blocked source: 172.16.0.0/12 or fd00:b::/64 */
static void blocked(int family, int i, char *buf, size_t size)
{
	if (family == 4)
		snprintf(buf, size, "172.%d.%d.%d", 16 + (i >> 16),
			 (i >> 8) & 0xff, i & 0xff);
	else
		snprintf(buf, size, "fd00:b::%x:%x", i >> 16, i & 0xffff);
}

/* A 60-byte UDP frame (IPv6: 80) from the last of n blocked sources */
static void frame(int family, int n, struct pkt *p)
{
	char src[64];

	blocked(family, n - 1, src, sizeof(src));
	if (family == 4)
		pkt_udp4(p, src, "10.0.0.2", 1000, 2000, 18);
	else
		pkt_udp6(p, src, "fd00::2", 1000, 2000, 18);
}

static int nft_file(const char *text)
{
	char path[] = "/tmp/tdm-fw-bench.XXXXXX", cmd[128];
	FILE *f;
	int fd, ret;

	fd = mkstemp(path);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		return -1;
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "nft -f %s", path);
	ret = system(cmd);
	unlink(path);
	return ret ? -1 : 0;
}

/* The nftables ruleset of way (NFT_RULES or NFT_SET) for n sources */
static int nft_load(int way, int family, int n)
{
	const char *kw = family == 4 ? "ip saddr" : "ip6 saddr";
	size_t size = 256 + (size_t)n * 64, len = 0;
	char addr[64], *buf = malloc(size);
	int i, ret;

	if (!buf)
		return -1;
	len += snprintf(buf + len, size - len,
			"flush ruleset\ntable netdev tdmbench {\n");
	if (way == NFT_SET) {
		len += snprintf(buf + len, size - len,
				"  set blocked { type %s; elements = { ",
				family == 4 ? "ipv4_addr" : "ipv6_addr");
		for (i = 0; i < n; i++) {
			blocked(family, i, addr, sizeof(addr));
			len += snprintf(buf + len, size - len, "%s%s",
					i ? ", " : "", addr);
		}
		len += snprintf(buf + len, size - len, " } }\n");
	}
	len += snprintf(buf + len, size - len,
			"  chain in { type filter hook ingress device " DEV
			" priority 0; policy accept;\n");
	if (way == NFT_SET) {
		len += snprintf(buf + len, size - len, "    %s @blocked drop\n",
				kw);
	} else {
		for (i = 0; i < n; i++) {
			blocked(family, i, addr, sizeof(addr));
			len += snprintf(buf + len, size - len, "    %s %s drop\n",
					kw, addr);
		}
	}
	snprintf(buf + len, size - len, "  }\n}\n");
	ret = nft_file(buf);
	free(buf);
	return ret;
}

/*
 * tandem's firewall "fw" with n rules, the default chain of the veth: a
 * policy applied, as a user loads many rules (one commit; rule add
 * rewrites the ruleset each time).
 */
static int tandem_load(int family, int n)
{
	size_t size = 256 + (size_t)n * 64, len = 0;
	char addr[64], err[512], *buf = malloc(size);
	struct tdm_apply_result res;
	struct tdm_policy *pol = NULL;
	int i, ret;

	if (!buf)
		return -1;
	tdm_dev_register(ctx, ifindex, NULL, &slot);
	len += snprintf(buf + len, size - len, "nf add fw firewall\n");
	for (i = 0; i < n; i++) {
		blocked(family, i, addr, sizeof(addr));
		len += snprintf(buf + len, size - len,
				"rule add fw src %s action drop\n", addr);
	}
	snprintf(buf + len, size - len, "chain add fwc fw then pass\n");
	ret = tdm_policy_parse("fw_bench", buf, strlen(buf), &pol, err,
			       sizeof(err));
	free(buf);
	if (ret) {
		fprintf(stderr, "tdm-fw-bench: %s\n", err);
		return -1;
	}
	ret = tdm_policy_apply(ctx, pol, 0, &res);
	tdm_policy_free(pol);
	if (ret)
		return -1;
	return tdm_dev_register(ctx, ifindex, "fwc", &slot);
}

/* Did the firewall's rule drop every frame it saw? (a bench of the
 * wrong path would measure nothing) */
static int tandem_dropped_all(void)
{
	struct tdm_nf_stats st;
	struct tdm_nf_info info;
	int id = tdm_nf_lookup(ctx, "fw", &info);

	if (id < 0 || tdm_stats_nf(ctx, id, &st))
		return -1;
	if (!st.packets || st.drops[TDM_FIREWALL_DROP_RULE] != st.packets) {
		fprintf(stderr, "tdm-fw-bench: the firewall saw %llu frames, its rules dropped %llu\n",
			(unsigned long long)st.packets,
			(unsigned long long)st.drops[TDM_FIREWALL_DROP_RULE]);
		return -1;
	}
	return 0;
}

/*
 * What a live frame costs before anyone filters it: an XDP program that
 * only drops, per family (the frames of one family are the same size
 * whatever N). Both ways pay it; what each adds is above it.
 */
static struct result floor_ns[2];

static int bench(struct result r[2][NWAYS][NSIZES])
{
	int family, way, s, fd, pass_fd, drop_fd, ret;
	struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bpf_insn drop[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0,
		  .imm = XDP_DROP },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct pkt p;

	pass_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "tdm_fw_pass", "GPL",
				pass, 2, NULL);
	drop_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "tdm_fw_drop", "GPL",
				drop, 2, NULL);
	if (pass_fd < 0 || drop_fd < 0)
		return -1;
	for (family = 4; family <= 6; family += 2) {
		struct result (*rf)[NSIZES] = r[family == 6];

		nft_file("flush ruleset\n");
		frame(family, 1, &p);
		fprintf(stderr, "tdm-fw-bench: IPv%d, XDP drop alone\n", family);
		if (measure(drop_fd, &p, &floor_ns[family == 6]))
			return -1;
		for (s = 0; s < NSIZES; s++) {
			int n = sizes[s];

			frame(family, n, &p);
			for (way = 0; way < NWAYS; way++) {
				rf[way][s].min = rf[way][s].median = -1;
				if (n > max_rules)
					continue;
				fprintf(stderr, "tdm-fw-bench: IPv%d, %s, %d\n",
					family, way_name[way], n);
				if (way == TANDEM) {
					nft_file("flush ruleset\n");
					if (tandem_load(family, n))
						goto lib_err;
					fd = tdm_entry_load(ctx, slot);
					if (fd < 0)
						goto lib_err;
					ret = measure(fd, &p, &rf[way][s]) ?:
					      tandem_dropped_all();
					close(fd);
				} else {
					if (nft_load(way, family, n)) {
						fprintf(stderr, "tdm-fw-bench: nft failed\n");
						return -1;
					}
					ret = measure(pass_fd, &p, &rf[way][s]);
				}
				if (ret)
					return -1;
			}
		}
	}
	nft_file("flush ruleset\n");
	close(pass_fd);
	close(drop_fd);
	return 0;
lib_err:
	fprintf(stderr, "tdm-fw-bench: %s\n", tdm_errmsg(ctx));
	return -1;
}

/*
 * kernel.bpf_stats_enabled makes every program run read the clock twice
 * (for run_time_ns): 30 to 70 ns on every figure here. Say so.
 */
static void stats_warn(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	int on = 0;

	if (f && fscanf(f, "%d", &on) == 1 && on)
		fprintf(stderr, "%s: kernel.bpf_stats_enabled is 1: every program run also reads the clock twice; the figures will be high (sysctl -w kernel.bpf_stats_enabled=0)\n",
			"tdm-fw-bench");
	if (f)
		fclose(f);
}

static int setup(void)
{
	stats_warn();
	if (unshare(CLONE_NEWNS | CLONE_NEWNET) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		fprintf(stderr, "tdm-fw-bench: namespace setup: %s\n",
			strerror(errno));
		return -1;
	}
	setenv("TANDEM_PIN_ROOT", "/sys/fs/bpf/tandem", 1);
	if (system("ip link add " DEV " type veth peer name tdmf1 && "
		   "ip link set " DEV " up && ip link set tdmf1 up")) {
		fprintf(stderr, "tdm-fw-bench: cannot make a veth pair\n");
		return -1;
	}
	ifindex = if_nametoindex(DEV);
	if (tdm_open(&ctx, 0)) {
		fprintf(stderr, "tdm-fw-bench: %s\n", tdm_open_errmsg());
		return -1;
	}
	return 0;
}

static void cell(FILE *f, const struct result *r)
{
	if (r->min < 0)
		fprintf(f, " - |");
	else
		fprintf(f, " %.0f / %.0f |", r->min, r->median);
}

static void report(FILE *f, struct result r[2][NWAYS][NSIZES])
{
	char cpu[128] = "unknown CPU", line[256], date[32];
	time_t now = time(NULL);
	struct utsname u;
	FILE *c = fopen("/proc/cpuinfo", "r");
	int family, way, s;

	while (c && fgets(line, sizeof(line), c))
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			snprintf(cpu, sizeof(cpu), "%s", strchr(line, ':') + 2);
			cpu[strcspn(cpu, "\n")] = '\0';
			break;
		}
	if (c)
		fclose(c);
	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&now));
	fprintf(f, "# Firewall: tandem against nftables\n\n"
		"Written by `make bench` (tools/bench/fw_bench.c) on %s: %s,\n"
		"kernel %s. Numbers move with the machine's load: compare rows\n"
		"of one run, not runs.\n\n", date, cpu, u.release);
	fprintf(f,
		"A 60-byte UDP frame (IPv6: 80 bytes) from a blocked source is\n"
		"dropped; frames are injected into a veth as if received\n"
		"(BPF_F_TEST_XDP_LIVE_FRAMES), the same frames for each way.\n"
		"tandem drops it in XDP: the entry program and a chain of one\n"
		"firewall with N `src ADDR/32 action drop` rules, the frame's\n"
		"source the last. nftables drops it at the veth's netdev ingress\n"
		"hook, after XDP passed it to the stack: N `ip saddr ADDR drop`\n"
		"rules (the frame's the last), or one rule and the N addresses in\n"
		"a set. tandem's rules are loaded by a policy apply; N rules of\n"
		"one shape are one tuple, one hash lookup, and 1 rule is held\n"
		"by the chain's program as a constant (Documentation/\n"
		"architecture.rst, \"Classification\"). ns per frame, min /\n"
		"median of %d runs; `-`: not measured.\n\n"
		"A live frame costs something before anyone filters it: the\n"
		"floor is an XDP program that only drops it. \"nft best / tandem\"\n"
		"divides the totals; \"above the floor\" divides what each way\n"
		"adds to the floor (its minimum, nftables' best form).\n\n",
		runs);
	for (family = 4; family <= 6; family += 2) {
		const struct result *fl = &floor_ns[family == 6];

		fprintf(f, "## IPv%d\n\nThe floor (XDP drop alone): %.0f / %.0f ns.\n\n| rules |",
			family, fl->min, fl->median);
		for (way = 0; way < NWAYS; way++)
			fprintf(f, " %s |", way_name[way]);
		fprintf(f, " nft best / tandem | above the floor |\n|---:|");
		for (way = 0; way <= NWAYS + 1; way++)
			fprintf(f, "---:|");
		fprintf(f, "\n");
		for (s = 0; s < NSIZES; s++) {
			const struct result *rs = r[family == 6][NFT_SET] + s;
			const struct result *rr = r[family == 6][NFT_RULES] + s;
			const struct result *rt = r[family == 6][TANDEM] + s;
			double best = rs->min;

			if (rr->min >= 0 && (best < 0 || rr->min < best))
				best = rr->min;
			fprintf(f, "| %d |", sizes[s]);
			for (way = 0; way < NWAYS; way++)
				cell(f, &r[family == 6][way][s]);
			if (best >= 0 && rt->min > 0)
				fprintf(f, " %.1fx |", best / rt->min);
			else
				fprintf(f, " - |");
			if (best >= 0 && rt->min > fl->min && fl->min > 0)
				fprintf(f, " %.1fx |\n",
					(best - fl->min) / (rt->min - fl->min));
			else
				fprintf(f, " - |\n");
		}
		fprintf(f, "\n");
		/* the scaling goal: the most rules cost <= 2x one */
		for (s = NSIZES - 1; s > 0; s--)
			if (r[family == 6][TANDEM][s].min > 0)
				break;
		if (s > 0 && r[family == 6][TANDEM][0].min > 0)
			fprintf(f, "tandem at %d rules / at 1 rule: %.2fx (above the floor: %.2fx).\n\n",
				sizes[s], r[family == 6][TANDEM][s].min /
				r[family == 6][TANDEM][0].min,
				(r[family == 6][TANDEM][s].min - fl->min) /
				(r[family == 6][TANDEM][0].min - fl->min));
	}
	fprintf(f, "![ns per frame against rules](firewall-bench.png)\n\n"
		"## Reproduce\n\n```sh\nmake bench-fw\n"
		"build/tdm-fw-bench -n 7 -m 10000   # prints the tables\n```\n");
}

/* rules, then min ns of each way for IPv4 and IPv6 (-1: none) */
static void data(FILE *f, struct result r[2][NWAYS][NSIZES])
{
	int s, family, way;

	fprintf(f, "# rules tandem4 nftrules4 nftset4 tandem6 nftrules6 nftset6\n");
	for (s = 0; s < NSIZES; s++) {
		fprintf(f, "%d", sizes[s]);
		for (family = 0; family < 2; family++)
			for (way = 0; way < NWAYS; way++) {
				if (r[family][way][s].min < 0)
					fprintf(f, " NaN");
				else
					fprintf(f, " %.1f", r[family][way][s].min);
			}
		fprintf(f, "\n");
	}
}

int main(int argc, char **argv)
{
	static struct result r[2][NWAYS][NSIZES];
	const char *out_path = NULL, *dat_path = NULL;
	FILE *f;
	int c;

	while ((c = getopt(argc, argv, "n:m:o:d:h")) != -1) {
		switch (c) {
		case 'n':
			runs = atoi(optarg);
			break;
		case 'm':
			max_rules = atoi(optarg);
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'd':
			dat_path = optarg;
			break;
		default:
			fprintf(stderr, "usage: tdm-fw-bench [-n RUNS] [-m MAX_RULES] [-o FILE.md] [-d FILE.dat]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || max_rules < 1) {
		fprintf(stderr, "tdm-fw-bench: bad -n or -m (runs 1-%d)\n",
			MAX_RUNS);
		return 2;
	}
	if (system("nft --version > /dev/null 2>&1")) {
		fprintf(stderr, "tdm-fw-bench: needs nft (apt-get install nftables)\n");
		return 4;
	}
	if (setup() || bench(r))
		return 1;
	f = out_path ? fopen(out_path, "w") : stdout;
	if (!f)
		return perror(out_path), 1;
	report(f, r);
	if (out_path)
		fclose(f);
	if (dat_path) {
		f = fopen(dat_path, "w");
		if (!f)
			return perror(dat_path), 1;
		data(f, r);
		fclose(f);
	}
	return 0;
}
