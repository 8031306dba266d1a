// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdm-bench: per-packet cost of tandem's datapath, through
 * BPF_PROG_TEST_RUN with repeat (the kernel times the loop; no traffic).
 *
 * For chains of 1, 2, 4, 8 and 16 counter NFs it measures
 *   mono     one program doing the same work without tail calls (baseline)
 *   tandem   tandem's chain: the entry program, one tail call, and one hop
 *            program running every NF inline
 *   direct   the chain split into one hop per NF, hop-to-hop tail calls
 *            with constant indexes (JIT direct jumps)
 *   indirect the same split chain with runtime-index tail calls
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
#include <net/if.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "libtandem.h"
#include "internal.h"	/* tdm_maglev_fill(), tdm_lb_add() */
#include "bpf/bench_mono.skel.h"
#include "lib/pkt.h"

#define LO		1
#define MAX_RUNS	31

static const int chain_lens[] = { 1, 2, 4, 8, 16 };
#define NLENS	(int)(sizeof(chain_lens) / sizeof(chain_lens[0]))

static struct tdm_ctx *ctx;
static __u32 dev_slot;
static int repeat = 2000000, runs = 9;
static struct pkt pkt;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double min, median;
};

/*
 * ns per packet of one test run of prog_fd. live: the frames really go
 * where the verdict sends them (BPF_F_TEST_XDP_LIVE_FRAMES), received on
 * ifindex.
 */
static int run_once(int prog_fd, __u32 ifindex, bool live, __u32 verdict,
		    double *ns)
{
	struct xdp_md md = { .data_end = pkt.len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = pkt.buf, .data_size_in = pkt.len,
		.ctx_in = &md, .ctx_size_in = sizeof(md),
		.repeat = repeat,
		.flags = live ? BPF_F_TEST_XDP_LIVE_FRAMES : 0,
	);

	if (bpf_prog_test_run_opts(prog_fd, &o)) {
		fprintf(stderr, "tdm-bench: test run: %s\n", strerror(errno));
		return -1;
	}
	/* live mode reports no verdict */
	if (!live && o.retval != verdict) {
		fprintf(stderr, "tdm-bench: verdict %u, expected %u\n",
			o.retval, verdict);
		return -1;
	}
	*ns = o.duration;	/* ns per repetition */
	return 0;
}

static void summarize(double *v, struct result *r)
{
	qsort(v, runs, sizeof(v[0]), cmp_double);
	r->min = v[0];
	r->median = v[runs / 2];
}

/* min and median of prog_fd over runs */
static int measure_on(int prog_fd, __u32 ifindex, bool live, __u32 verdict,
		      struct result *r)
{
	double v[MAX_RUNS];
	int i;

	for (i = 0; i < runs; i++)
		if (run_once(prog_fd, ifindex, live, verdict, &v[i]))
			return -1;
	summarize(v, r);
	return 0;
}

static int measure(int prog_fd, struct result *r)
{
	return measure_on(prog_fd, LO, false, XDP_PASS, r);
}

static int empty_prog(int verdict)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = verdict },
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

/*
 * Chain NAME of counters c0..c(n-1) ending in action; made the default
 * chain of ifindex.
 */
static int make_chain(const char *name, int n, __u32 action, bool replace,
		      __u32 ifindex)
{
	struct tdm_chain_spec spec = { .nnfs = n, .action = action };
	static char names[TDM_MAX_CHAIN_NFS][16];
	int i, err;

	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		spec.nfs[i] = names[i];
	}
	err = replace ? tdm_chain_replace(ctx, name, &spec) :
			tdm_chain_add(ctx, name, &spec);
	if (err < 0)
		return err;
	return tdm_dev_register(ctx, ifindex, name, NULL);
}

/* Chain NAME of the NFs named in nfs ("a b c"), ending in pass. */
static int chain_of(const char *name, const char *nfs)
{
	struct tdm_chain_spec spec = { .action = TDM_ACT_PASS };
	char buf[256], *t;

	snprintf(buf, sizeof(buf), "%s", nfs);
	for (t = strtok(buf, " "); t && spec.nnfs < TDM_MAX_CHAIN_NFS;
	     t = strtok(NULL, " "))
		spec.nfs[spec.nnfs++] = t;
	return tdm_chain_add(ctx, name, &spec) < 0 ? -1 : 0;
}

/*
 * How the chains of the first table run: mono; tandem's chain inline;
 * split into one hop per NF with constant-index jumps, or runtime ones.
 */
enum layout { MONO, FUSED, DIRECT, INDIRECT, NLAYOUTS };

/* the chains each layout runs ("f4": the inline chain of 4 NFs) */
static const char *const layout_prefix[NLAYOUTS] = { "", "f", "d", "i" };

/*
 * Every chain length in every layout, measured in turns (one run of each,
 * then the next round), so that a disturbance of the machine spreads over
 * all of them instead of spoiling one.
 */
static int bench_chains(struct result r[NLAYOUTS][NLENS])
{
	static double v[NLAYOUTS][NLENS][MAX_RUNS];
	int mono[NLENS], entry[NLAYOUTS] = {}, i, l, k, err = -1;
	char name[16];

	for (i = 0; i < NLENS; i++)
		mono[i] = mono_prog(chain_lens[i]);
	for (i = 0; i < NLENS; i++)
		if (mono[i] < 0)
			goto out;
	for (l = FUSED; l < NLAYOUTS; l++) {
		tdm_set_hop_split(ctx, l == FUSED ? 0 : 1, l == INDIRECT);
		entry[l] = tdm_entry_load(ctx, dev_slot);
		if (entry[l] < 0)
			goto out;
		for (i = 0; i < NLENS; i++) {
			snprintf(name, sizeof(name), "%s%d", layout_prefix[l],
				 chain_lens[i]);
			if (make_chain(name, chain_lens[i], TDM_ACT_PASS, false,
				       LO))
				goto out;
		}
	}
	tdm_set_hop_split(ctx, 0, false);

	for (k = 0; k < runs; k++) {
		for (i = 0; i < NLENS; i++) {
			if (run_once(mono[i], LO, false, XDP_PASS,
				     &v[MONO][i][k]))
				goto out;
			for (l = FUSED; l < NLAYOUTS; l++) {
				snprintf(name, sizeof(name), "%s%d",
					 layout_prefix[l], chain_lens[i]);
				if (tdm_dev_register(ctx, LO, name, NULL) ||
				    run_once(entry[l], LO, false, XDP_PASS,
					     &v[l][i][k]))
					goto out;
			}
		}
	}
	for (l = 0; l < NLAYOUTS; l++)
		for (i = 0; i < NLENS; i++)
			summarize(v[l][i], &r[l][i]);
	err = 0;
out:
	if (err)
		fprintf(stderr, "tdm-bench: chains: %s\n", tdm_errmsg(ctx));
	tdm_set_hop_split(ctx, 0, false);
	for (i = 0; i < NLENS; i++)
		if (mono[i] >= 0)
			close(mono[i]);
	for (l = FUSED; l < NLAYOUTS; l++)
		if (entry[l] > 0)
			close(entry[l]);
	return err;
}

/*
 * Connection tracking's cost: the default chain [conntrack, firewall]
 * against [firewall] alone, the firewall with the classic host policy's
 * first rule (state established,related pass) or, alone, a rule of the
 * same shape without state; default pass, so both pass the packet. The
 * test packet is one flow: after the first run, each packet finds its
 * flow (the common case), and updates its timeout and counters.
 */
static int bench_conntrack(int fd, struct result *ct, struct result *fw)
{
	char *ct_args[] = { "size", "65536" }, *fw_args[] = { "default", "pass" };
	struct tdm_rule_spec r = { .prio = 10, .action = TDM_ACT_PASS };
	__u32 id;

	tdm_match_init(&r.m);
	r.m.ct_states = 1 << TDM_CT_ESTABLISHED | 1 << TDM_CT_RELATED;
	if (tdm_nf_add(ctx, "bct", "conntrack", 2, ct_args) < 0 ||
	    tdm_nf_add(ctx, "bctfw", "firewall", 2, fw_args) < 0 ||
	    tdm_nf_add(ctx, "bfw", "firewall", 2, fw_args) < 0 ||
	    tdm_rule_add(ctx, "bctfw", &r, &id))
		return -1;
	r.m.ct_states = 0;
	r.m.proto = IPPROTO_TCP;
	if (tdm_rule_add(ctx, "bfw", &r, &id))
		return -1;
	if (chain_of("ctfw", "bct bctfw") || chain_of("fw", "bfw"))
		return -1;
	return tdm_dev_register(ctx, LO, "ctfw", NULL) ?: measure(fd, ct) ?:
	       tdm_dev_register(ctx, LO, "fw", NULL) ?: measure(fd, fw);
}

/*
 * vlan's cost. A test run's repeats run on the same frame, so what one
 * run pushes the next would find: the chains give it back, a push then
 * a pop (the pair's cost), and a push, a modify of the tag and a pop.
 */
static int bench_vlan(int fd, struct result *pp, struct result *pmp)
{
	char *push[] = { "action", "push", "id", "100" };
	char *pop[] = { "action", "pop" };
	char *mod[] = { "action", "modify", "id", "200", "priority", "3" };

	if (tdm_nf_add(ctx, "bvpush", "vlan", 4, push) < 0 ||
	    tdm_nf_add(ctx, "bvpop", "vlan", 2, pop) < 0 ||
	    tdm_nf_add(ctx, "bvmod", "vlan", 6, mod) < 0 ||
	    chain_of("vpp", "bvpush bvpop") ||
	    chain_of("vpmp", "bvpush bvmod bvpop"))
		return -1;
	return tdm_dev_register(ctx, LO, "vpp", NULL) ?: measure(fd, pp) ?:
	       tdm_dev_register(ctx, LO, "vpmp", NULL) ?: measure(fd, pmp);
}

/*
 * nat's cost on a bound flow. A test run's repeats run on one frame, so
 * the chain gives it back: a dnat of 10.0.0.2 to 10.0.0.3, then one of
 * 10.0.0.3 to 10.0.0.2. After the first packet each finds its binding
 * (one lookup), rewrites the address and updates two checksums, and
 * pushes the binding's timeout on: what every packet of a flow through
 * a NAT costs, either way (snat and replies take the same path).
 */
static int bench_nat(int fd, struct result *nn)
{
	char *there[] = { "dnat", "10.0.0.3", "dst", "10.0.0.2" };
	char *back[] = { "dnat", "10.0.0.2", "dst", "10.0.0.3" };

	if (tdm_nf_add(ctx, "bnat", "nat", 4, there) < 0 ||
	    tdm_nf_add(ctx, "bnatback", "nat", 4, back) < 0 ||
	    chain_of("nn", "bnat bnatback"))
		return -1;
	return tdm_dev_register(ctx, LO, "nn", NULL) ?: measure(fd, nn);
}

/*
 * monitor's cost: each packet counted in its flow (one lookup, two
 * atomic adds), with no capture and with one copying 1 frame in 1,000
 * (a random draw a packet; 18,000 records fit its 4 MiB ring, so none
 * is lost for want of a reader).
 */
static int bench_monitor(int fd, struct result *mon, struct result *cap)
{
	struct tdm_capture *c;
	int err;

	if (tdm_nf_add(ctx, "bmon", "monitor", 0, NULL) < 0 ||
	    chain_of("mon", "bmon") || tdm_dev_register(ctx, LO, "mon", NULL) ||
	    measure(fd, mon))
		return -1;
	if (tdm_capture_open(ctx, "bmon", 64, 1000, 4u << 20, &c))
		return -1;
	err = measure(fd, cap);
	tdm_capture_close(c);
	return err;
}

/*
 * lb's cost on a bound flow, with 10 and with 1,000 backends (the
 * Maglev table of 65,537 and 100,003 slots): the chain gives the frame
 * back, an lb then a dnat of the backend its flow went to back to the
 * vip. The dnat's cost (half the nat pair's) is taken off.
 */
static int bench_lb_one(int fd, const char *name, int n, __u32 table,
			struct result *r)
{
	char tbl[16], *lbargs[] = { "vip", "10.0.0.2", "proto", "udp",
				    "table", tbl };
	char back[32], chain[32], addr[32], *dn[] = { "dnat", "10.0.0.2",
						      "dst", addr };
	struct pkt out;
	struct xdp_md md = { .data_end = pkt.len, .ingress_ifindex = LO };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt.buf,
		    .data_size_in = pkt.len, .data_out = out.buf,
		    .data_size_out = sizeof(out.buf), .ctx_in = &md,
		    .ctx_size_in = sizeof(md), .repeat = 1);
	int i;

	snprintf(tbl, sizeof(tbl), "%u", table);
	if (tdm_nf_add(ctx, name, "lb", 6, lbargs) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "10.9.%d.%d", i / 250, i % 250 + 1);
		if (tdm_lb_add(ctx, name, addr, 0, 1))
			return -1;
	}
	snprintf(chain, sizeof(chain), "%sonly", name);
	if (chain_of(chain, name) || tdm_dev_register(ctx, LO, chain, NULL) ||
	    bpf_prog_test_run_opts(fd, &o))
		return -1;
	/* the backend the test flow went to: the frame's destination */
	snprintf(addr, sizeof(addr), "%u.%u.%u.%u", out.buf[30], out.buf[31],
		 out.buf[32], out.buf[33]);
	snprintf(back, sizeof(back), "%sback", name);
	snprintf(chain, sizeof(chain), "%spair", name);
	if (tdm_nf_add(ctx, back, "nat", 4, dn) < 0)
		return -1;
	{
		char nfs[64];

		snprintf(nfs, sizeof(nfs), "%s %s", name, back);
		if (chain_of(chain, nfs))
			return -1;
	}
	return tdm_dev_register(ctx, LO, chain, NULL) ?: measure(fd, r);
}

/*
 * The share of Maglev slots that change backend when one of n goes
 * (user/lib/maglev.c: what the datapath's new flows follow), in %.
 */
static double maglev_moved(__u32 n, __u32 m)
{
	struct tdm_maglev_backend *b = calloc(n, sizeof(*b));
	__u32 *t = calloc(m, sizeof(*t)), *t2 = calloc(m, sizeof(*t2));
	__u32 i, moved = 0;

	if (!b || !t || !t2)
		return -1;
	for (i = 0; i < n; i++)
		b[i] = (struct tdm_maglev_backend){ .key = 0x0a090000ULL + i,
						    .weight = 1 };
	tdm_maglev_fill(t, m, b, n);
	b[n / 2].weight = 0;
	tdm_maglev_fill(t2, m, b, n);
	for (i = 0; i < m; i++)
		moved += t[i] != t2[i];
	free(b);
	free(t);
	free(t2);
	return 100.0 * moved / m;
}

/* k steering rules on lo: dst 10.x.y.z/32 for z = 0.. to chain len1 */
static int add_rules(int k, double *secs)
{
	struct tdm_steer_spec *sp = calloc(k, sizeof(*sp));
	struct timespec t0, t1;
	char err[256], addr[32];
	int i, ret;

	if (!sp)
		return -1;
	for (i = 0; i < k; i++) {
		char *argv[2] = { "dst", addr };

		snprintf(addr, sizeof(addr), "10.%d.%d.%d/32", (i >> 16) & 255,
			 (i >> 8) & 255, i & 255);
		tdm_match_init(&sp[i].m);
		if (tdm_parse_match(2, argv, &sp[i].m, err, sizeof(err)) != 2) {
			fprintf(stderr, "tdm-bench: %s\n", err);
			free(sp);
			return -1;
		}
		sp[i].prio = 100;
		sp[i].chain = "len1";
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = tdm_steer_add_many(ctx, "lo", sp, k, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*secs = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	free(sp);
	return ret;
}

/* One steering rule on lo, "dst PREFIX", to chain len1. */
static int add_rule(const char *prefix)
{
	char err[256], *argv[2] = { "dst", (char *)prefix };
	struct tdm_match m;

	tdm_match_init(&m);
	if (tdm_parse_match(2, argv, &m, err, sizeof(err)) != 2) {
		fprintf(stderr, "tdm-bench: %s\n", err);
		return -1;
	}
	return tdm_steer_add(ctx, "lo", 100, &m, "len1", NULL);
}

/*
 * Rules of more prefix lengths, and a packet that only the shortest
 * covers: with TDM_STEER_LENS lengths the hash's worst case (a lookup
 * for each), with one more the trie, which the device then uses.
 */
static int bench_lengths(int fd, struct result *hash8, struct result *trie,
			 struct result *trie32)
{
	struct pkt saved = pkt;
	char p[32];
	int l, err = 0;

	/* 100,000 /32 rules are there; 10.0.0.0/8 and 10.200.L.0/L */
	err = add_rule("10.0.0.0/8");
	for (l = 32 - (TDM_STEER_LENS - 2); l <= 31 && !err; l++) {
		snprintf(p, sizeof(p), "10.200.%d.0/%d", l, l);
		err = add_rule(p);
	}
	pkt_udp4(&pkt, "10.0.0.1", "10.99.0.1", 1000, 2000, 18);
	if (!err)
		err = measure(fd, hash8);
	if (!err)
		err = add_rule("10.201.0.0/25");
	if (!err)
		err = measure(fd, trie);
	pkt = saved;	/* to 10.0.0.2: a /32 leaf, deep in the trie */
	if (!err)
		err = measure(fd, trie32);
	if (err)
		fprintf(stderr, "tdm-bench: prefix lengths: %s\n",
			tdm_errmsg(ctx));
	pkt = saved;
	return err;
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
			"tdm-bench");
	if (f)
		fclose(f);
}

static int setup(void)
{
	stats_warn();
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

/* live frames into a veth: a 4-NF chain ending in drop, vs an empty drop */
static int bench_live(struct result *empty_live, struct result *chain_live)
{
	__u32 vidx, slot;
	int efd, fd, ret = -1;

	if (system("ip link add tdmb0 type veth peer name tdmb1 && "
		   "ip link set tdmb0 up && ip link set tdmb1 up")) {
		fprintf(stderr, "tdm-bench: cannot make a veth pair\n");
		return -1;
	}
	vidx = if_nametoindex("tdmb0");
	if (!vidx || tdm_dev_register(ctx, vidx, NULL, &slot) ||
	    make_chain("live4", 4, TDM_ACT_DROP, false, vidx))
		goto out;
	efd = empty_prog(XDP_DROP);
	fd = tdm_entry_load(ctx, slot);
	if (efd < 0 || fd < 0)
		goto out;
	ret = measure_on(efd, vidx, true, 0, empty_live) ||
	      measure_on(fd, vidx, true, 0, chain_live);
	close(efd);
	close(fd);
out:
	if (ret)
		fprintf(stderr, "tdm-bench: live frames: %s\n", tdm_errmsg(ctx));
	return ret;
}

/* Least-squares line through (chain length, min): ns per NF and at 0. */
static void fit(const struct result *r, double *slope, double *at0)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, n = NLENS;
	int i;

	for (i = 0; i < NLENS; i++) {
		sx += chain_lens[i];
		sy += r[i].min;
		sxx += (double)chain_lens[i] * chain_lens[i];
		sxy += chain_lens[i] * r[i].min;
	}
	*slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
	*at0 = (sy - *slope * sx) / n;
}

/* for %.1f: a difference within rounding of 0 prints as 0.0, not -0.0 */
static double tidy(double x)
{
	return x > -0.05 && x < 0.05 ? 0 : x;
}

static double mops(double ns)
{
	return ns > 0 ? 1e3 / ns : 0;	/* million packets per second */
}

/*
 * What follows BENCH_TAIL_MARK in the file being replaced: sections that
 * other benchmarks write and tdm-bench must keep. NULL if none.
 */
#define BENCH_TAIL_MARK	"<!-- kept by tdm-bench:"

static char *kept_tail(const char *path)
{
	char *buf = NULL, *mark, *tail;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n <= 0 || !(mark = strstr(buf, BENCH_TAIL_MARK))) {
		free(buf);
		return NULL;
	}
	tail = strdup(mark);
	free(buf);
	return tail;
}

int main(int argc, char **argv)
{
	struct result empty, entry, chains[NLAYOUTS][NLENS];
	struct result *mono = chains[MONO], *fused = chains[FUSED];
	struct result *direct = chains[DIRECT], *indirect = chains[INDIRECT];
	struct result rules1k, rules100k, hash8, trie, trie32;
	struct result empty_live, chain_live, ct, ctfw, vpp, vpmp, nn, lb10, lb1k;
	struct result mon, moncap;
	double add1k, add99k;
	const char *out_path = NULL;
	char *tail = NULL;
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

	fprintf(stderr, "tdm-bench: %d runs of %d packets each\n", runs, repeat);
	fd = empty_prog(XDP_PASS);
	if (fd < 0 || measure(fd, &empty))
		return 1;
	close(fd);
	fd = tdm_entry_load(ctx, dev_slot);
	if (fd < 0 || measure(fd, &entry))	/* no chain: steering alone */
		return 1;
	if (bench_chains(chains))
		return 1;
	/* the steering cases' chain: one counter */
	if (make_chain("len1", 1, TDM_ACT_PASS, false, LO))
		return fprintf(stderr, "tdm-bench: %s\n", tdm_errmsg(ctx)), 1;

	if (bench_conntrack(fd, &ct, &ctfw))
		return fprintf(stderr, "tdm-bench: conntrack: %s\n", tdm_errmsg(ctx)), 1;
	if (bench_vlan(fd, &vpp, &vpmp))
		return fprintf(stderr, "tdm-bench: vlan: %s\n", tdm_errmsg(ctx)), 1;
	if (bench_nat(fd, &nn))
		return fprintf(stderr, "tdm-bench: nat: %s\n", tdm_errmsg(ctx)), 1;
	if (bench_monitor(fd, &mon, &moncap))
		return fprintf(stderr, "tdm-bench: monitor: %s\n", tdm_errmsg(ctx)), 1;
	if (bench_lb_one(fd, "blb", 10, 65537, &lb10) ||
	    bench_lb_one(fd, "blbk", 1000, 100003, &lb1k))
		return fprintf(stderr, "tdm-bench: lb: %s\n", tdm_errmsg(ctx)), 1;
	/* steering rules: the packet (to 10.0.0.2) matches rule 10.0.0.2/32 */
	fprintf(stderr, "tdm-bench: adding 1,000 then 99,000 steering rules\n");
	if (!tdm_dev_register(ctx, LO, NULL, NULL) && !add_rules(1000, &add1k))
		measure(fd, &rules1k);
	else
		return fprintf(stderr, "tdm-bench: rules: %s\n", tdm_errmsg(ctx)), 1;
	if (add_rules(99000, &add99k) || measure(fd, &rules100k))
		return fprintf(stderr, "tdm-bench: rules: %s\n", tdm_errmsg(ctx)), 1;
	if (bench_lengths(fd, &hash8, &trie, &trie32))
		return 1;
	if (bench_live(&empty_live, &chain_live))
		return 1;


	uname(&u);
	cpu_model(cpu, sizeof(cpu));
	strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&now));
	/* sections other benchmarks write (tools/bench/kmod_react.sh) stay */
	if (out_path)
		tail = kept_tail(out_path);
	out = out_path ? fopen(out_path, "w") : stdout;
	if (!out) {
		perror(out_path);
		return 1;
	}
	fprintf(out, "<!-- written by tdm-bench (make bench); edit tools/bench/ instead -->\n"
		"# Benchmarks\n\n"
		"Measured %s on Linux %s, %s, %ld CPUs, with `make bench`:\n"
		"BPF_PROG_TEST_RUN, %d packets per run, **min / median of %d runs**,\n"
		"ns per packet, a 64-byte UDP/IPv4 packet. Every number in a table\n"
		"comes from the same run.\n\n",
		date, u.release, cpu, sysconf(_SC_NPROCESSORS_ONLN), repeat, runs);
	fprintf(out, "## Chains against one monolithic program\n\n"
		"- `mono`: one program doing the entry's work (parse, steer, count)\n"
		"  and N counter NFs, without tail calls: the baseline.\n"
		"- `tandem`: tandem's chain as it runs: the entry program, one tail\n"
		"  call into the chain, and one hop program that runs the N NFs\n"
		"  inline (their code and configuration are constants at load).\n"
		"- `direct`: the same chain split into one hop program per NF; each\n"
		"  hop's next-hop index is a load-time constant, which the JIT turns\n"
		"  into a direct jump.\n"
		"- `indirect`: the split chain with the index read at run time (an\n"
		"  indirect jump through the prog array).\n"
		"- per NF = (chain - mono) / N. Derived numbers use the minimums:\n"
		"  the run least disturbed by the rest of the machine.\n\n"
		"| NFs | mono | tandem | direct | indirect | tandem / mono | per NF, tandem | per NF, direct | per NF, indirect |\n"
		"|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < NLENS; i++) {
		int n = chain_lens[i];

		fprintf(out, "| %d | %.0f / %.0f | %.0f / %.0f | %.0f / %.0f | %.0f / %.0f | %.2f | %.1f | %.1f | %.1f |\n",
			n, mono[i].min, mono[i].median, fused[i].min,
			fused[i].median, direct[i].min,
			direct[i].median,
			indirect[i].min, indirect[i].median,
			fused[i].min / mono[i].min,
			(fused[i].min - mono[i].min) / n,
			(direct[i].min - mono[i].min) / n,
			(indirect[i].min - mono[i].min) / n);
	}
	{
		double m, m0, f, f0, d, d0, x, x0;

		fit(mono, &m, &m0);
		fit(fused, &f, &f0);
		fit(direct, &d, &d0);
		fit(indirect, &x, &x0);
		fprintf(out, "\nThe cost of one more NF: the slope of a least-squares line through\n"
			"the minimums of %d to %d NFs. mono %.1f ns, tandem %.1f ns, direct\n"
			"%.1f ns, indirect %.1f ns.\n\n"
			"- **Per-hop overhead of tandem: %.1f ns** over the same work inline:\n"
			"  tandem's cost of one more NF (a hop of the chain) minus mono's.\n"
			"- Once per packet, entering the chain (the entry program's tail\n"
			"  call into the chain's hop, where mono goes straight on) costs\n"
			"  %.1f ns: the difference of the two lines at 0 NFs.\n"
			"- Split into one program per NF, a hop would cost %.1f ns more than\n"
			"  the work inline with constant-index tail calls and %.1f ns more\n"
			"  with runtime ones: why tandem runs a chain's NFs inline, and keeps\n"
			"  constant indexes for the jumps it still makes.\n",
			chain_lens[0], chain_lens[NLENS - 1], m, f, d, x,
			tidy(f - m), f0 - m0, d - m, x - m);
	}
	fprintf(out, "\n## Steering\n\n"
		"The entry program alone, and with steering rules on the device\n"
		"(`dst 10.x.y.z/32` rules; the packet matches one; its chain is one\n"
		"counter). The chain of one counter as default chain, for comparison.\n"
		"A device whose rules have at most %d distinct destination prefix\n"
		"lengths finds the rules by hash, one lookup per length, longest\n"
		"first; with more, by the LPM trie. The last rows add rules of other\n"
		"lengths and send a packet only the shortest (`/8`) covers, or the\n"
		"packet of the rows above.\n\n"
		"| case | min | median |\n|---|---:|---:|\n"
		"| empty XDP program (test-run loop overhead) | %.0f | %.0f |\n"
		"| entry, no chain (parse, steer, to the stack) | %.0f | %.0f |\n"
		"| entry + default chain of 1 counter | %.0f | %.0f |\n"
		"| entry + 1,000 rules + chain of 1 counter | %.0f | %.0f |\n"
		"| entry + 100,000 rules + chain of 1 counter | %.0f | %.0f |\n"
		"| 100,000 rules of %d lengths, the packet at the shortest (%d hash lookups) | %.0f | %.0f |\n"
		"| 100,000 rules of %d lengths (the trie), the packet at the shortest | %.0f | %.0f |\n"
		"| 100,000 rules of %d lengths (the trie), the packet at a /32 | %.0f | %.0f |\n\n"
		"Adding the rules (one `tdm_steer_add_many` call each): 1,000 in %.2f s,\n"
		"99,000 more in %.2f s.\n",
		TDM_STEER_LENS,
		empty.min, empty.median, entry.min, entry.median,
		fused[0].min, fused[0].median, rules1k.min, rules1k.median,
		rules100k.min, rules100k.median,
		TDM_STEER_LENS, TDM_STEER_LENS, hash8.min, hash8.median,
		TDM_STEER_LENS + 1, trie.min, trie.median,
		TDM_STEER_LENS + 1, trie32.min, trie32.median, add1k, add99k);
	fprintf(out, "\n## Live frames into a veth\n\n"
		"BPF_F_TEST_XDP_LIVE_FRAMES: frames injected as if received on a veth,\n"
		"run through the entry program and a chain of 4 counters ending in\n"
		"`then drop`. Million packets per second on one CPU, from the minimum.\n\n"
		"| program | ns min / median | Mpps |\n|---|---:|---:|\n"
		"| empty XDP program returning XDP_DROP | %.0f / %.0f | %.2f |\n"
		"| entry + 4-NF chain, then drop | %.0f / %.0f | %.2f |\n",
		empty_live.min, empty_live.median, mops(empty_live.min),
		chain_live.min, chain_live.median, mops(chain_live.min));
	fprintf(out, "\n## Connection tracking\n\n"
		"The entry with a default chain of a conntrack and a firewall whose\n"
		"first rule is `state established,related action pass`, against the\n"
		"firewall alone with a rule of the same shape without state. One\n"
		"flow: each packet finds its flow's entry and updates it, the common\n"
		"case.\n\n"
		"| case | min | median |\n|---|---:|---:|\n"
		"| entry + firewall (1 rule) | %.0f | %.0f |\n"
		"| entry + conntrack + firewall (1 state rule) | %.0f | %.0f |\n\n"
		"**Conntrack costs %.0f ns per packet** (the difference of the\n"
		"minimums).\n",
		ctfw.min, ctfw.median, ct.min, ct.median, ct.min - ctfw.min);
	fprintf(out, "\n## VLAN tags\n\n"
		"The entry with a default chain of `vlan` NFs that give the frame\n"
		"back as it came (a test run's repeats run on one frame): a push of\n"
		"a tag then a pop, and a push, a modify of its VID and PCP, then a\n"
		"pop. The chain of one counter, for comparison: what is more is the\n"
		"NFs' work (moving the MAC addresses, bpf_xdp_adjust_head(), the\n"
		"metadata) and 1 or 2 more NFs' hop overhead.\n\n"
		"| case | min | median |\n|---|---:|---:|\n"
		"| entry + default chain of 1 counter | %.0f | %.0f |\n"
		"| entry + vlan push + vlan pop | %.0f | %.0f |\n"
		"| entry + vlan push + vlan modify + vlan pop | %.0f | %.0f |\n\n"
		"**A push and a pop cost %.0f ns together; a modify %.0f ns.**\n",
		fused[0].min, fused[0].median, vpp.min, vpp.median, vpmp.min,
		vpmp.median, vpp.min - fused[0].min, vpmp.min - vpp.min);
	fprintf(out, "\n## NAT\n\n"
		"The entry with a default chain of two `nat` NFs that give the frame\n"
		"back as it came: a dnat of its destination to another address, and\n"
		"one back. Each packet finds each NF's binding (one lookup), rewrites\n"
		"the address, updates the IPv4 and UDP checksums and the binding's\n"
		"timeout and counters: the path of every packet of a bound flow,\n"
		"either way. The chain of one counter, for comparison.\n\n"
		"| case | min | median |\n|---|---:|---:|\n"
		"| entry + default chain of 1 counter | %.0f | %.0f |\n"
		"| entry + nat + nat | %.0f | %.0f |\n\n"
		"**A nat costs %.0f ns per packet of a bound flow** (half the\n"
		"difference of the minimums, one NF's hop overhead included).\n",
		fused[0].min, fused[0].median, nn.min, nn.median,
		(nn.min - fused[0].min) / 2);
	fprintf(out, "\n## Load balancing\n\n"
		"The entry with a default chain of an `lb` and a `nat` that gives the\n"
		"frame back (a dnat of the backend the flow went to, back to the vip):\n"
		"each packet finds the lb's binding of its flow, as every packet of a\n"
		"flow after the first. The nat's share (half the pair above) is taken\n"
		"off.\n\n"
		"| case | min | median | lb alone |\n|---|---:|---:|---:|\n"
		"| entry + lb (10 backends, 65,537 slots) + nat | %.0f | %.0f | %.0f |\n"
		"| entry + lb (1,000 backends, 100,003 slots) + nat | %.0f | %.0f | %.0f |\n\n"
		"**An lb costs %.0f ns per packet of a bound flow with 10 backends,\n"
		"%.0f ns with 1,000**: a flow's packets follow its binding, not the\n"
		"table (a new flow adds one table read and two map updates).\n\n"
		"The share of new flows that move when one of N backends goes\n"
		"(Maglev's promise: about 1/N; the paper advises a table of at least\n"
		"100 N slots), from the table the library fills:\n\n"
		"| backends | slots | moved | 1/N |\n|---:|---:|---:|---:|\n"
		"| 10 | 65,537 | %.2f%% | 10.00%% |\n"
		"| 100 | 65,537 | %.2f%% | 1.00%% |\n"
		"| 1,000 | 65,537 | %.2f%% | 0.10%% |\n"
		"| 1,000 | 100,003 | %.2f%% | 0.10%% |\n",
		lb10.min, lb10.median, lb10.min - (nn.min - fused[0].min) / 2 - fused[0].min,
		lb1k.min, lb1k.median, lb1k.min - (nn.min - fused[0].min) / 2 - fused[0].min,
		lb10.min - (nn.min - fused[0].min) / 2 - fused[0].min,
		lb1k.min - (nn.min - fused[0].min) / 2 - fused[0].min,
		maglev_moved(10, 65537), maglev_moved(100, 65537),
		maglev_moved(1000, 65537), maglev_moved(1000, 100003));
	fprintf(out, "\n## Monitoring\n\n"
		"The entry with a default chain of one `monitor` (each packet counted\n"
		"in its flow: one lookup, two atomic adds), with no capture and with\n"
		"a capture copying 1 frame in 1,000 (64 bytes of it) into its ring.\n\n"
		"| case | min | median | monitor alone |\n|---|---:|---:|---:|\n"
		"| entry + default chain of 1 counter | %.0f | %.0f | |\n"
		"| entry + monitor | %.0f | %.0f | %.0f |\n"
		"| entry + monitor, capturing 1 in 1,000 | %.0f | %.0f | %.0f |\n\n"
		"**A monitor costs %.0f ns per packet** over a counter, %.0f with a\n"
		"sampling capture running.\n",
		fused[0].min, fused[0].median, mon.min, mon.median,
		mon.min - fused[0].min, moncap.min, moncap.median,
		moncap.min - fused[0].min, mon.min - fused[0].min,
		moncap.min - fused[0].min);
	fprintf(out, "\n## Reproduce\n\n```sh\nmake bench                          # writes this file\n"
		"build/tdm-bench -r 2000000 -n 9    # prints it\n```\n\n"
		"Numbers move with the machine's load; compare rows of one run, not\n"
		"runs. Timings in the TCG VM mean nothing (emulated CPU).\n");
	if (tail) {
		fprintf(out, "\n%s", tail);
		free(tail);
	}
	if (out_path)
		fclose(out);
	tdm_close(ctx);
	return 0;
}
