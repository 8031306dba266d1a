// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nat, the library half (bpf/nf_nat.bpf.c): its parameters, its table
 * of bindings (pinned as tdm_nat_<id>), and `tandem nat show|flush`.
 *   snat ADDR[-ADDR]|masquerade [src PREFIX] [proto P] [ports LO-HI] [out DEV]
 *        [size N]
 *   dnat ADDR[-ADDR] [dst PREFIX] [proto P [dport PORT]] [ports PORT] [size N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <json-c/json.h>

#include "internal.h"
#include "grammar.h"

/* ports an snat allocates by default: below Linux's ephemeral ports
 * (net.ipv4.ip_local_port_range, 32768-60999), which the host's own
 * connections from the same address use and the NF does not see */
#define NAT_PORT_LO	1024
#define NAT_PORT_HI	32767

static const struct tdm_nf_table nat_table = {
	.nf = "nat", .outer = "tdm_nat_tables", .pin_prefix = "tdm_nat_",
	.map_name = "tdm_nat", .type = BPF_MAP_TYPE_LRU_HASH,
	.key_type = "tdm_nat_key", .value_type = "tdm_nat_entry",
	.key_size = sizeof(struct tdm_nat_key),
	.value_size = sizeof(struct tdm_nat_entry),
};

enum { P_SNAT, P_DNAT, P_SRC, P_DST, P_PROTO, P_DPORT, P_PORTS, P_OUT, P_SIZE };

static const struct tdm_nf_param nat_params[] = {
	[P_SNAT] = { "snat", "ADDR[-ADDR]|masquerade" },
	[P_DNAT] = { "dnat", "ADDR[-ADDR]" },
	[P_SRC] = { "src", "PREFIX" },
	[P_DST] = { "dst", "PREFIX" },
	[P_PROTO] = { "proto", "PROTO" },
	[P_DPORT] = { "dport", "PORT" },
	[P_PORTS] = { "ports", "LO[-HI]" },
	[P_OUT] = { "out", "DEV" },
	[P_SIZE] = { "size", "N" },
	{}
};

static int nerr(char *err, size_t errlen, const char *fmt, const char *a)
{
	snprintf(err, errlen, fmt, a);
	return -EINVAL;
}

/* ADDR or ADDR-ADDR: the first address, how many - 1, the family */
static int pool_parse(const char *what, const char *s,
		      struct tdm_nat_params *np, char *err, size_t errlen)
{
	struct tdm_addr hi;
	char buf[2 * INET6_ADDRSTRLEN + 2], *dash;
	int fam, fam2;
	__u32 lo32, hi32;

	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash++ = '\0';
	fam = tdm_parse_addr(buf, &np->addr);
	if (!fam)
		goto bad;
	np->family = fam;
	np->pool_last = 0;
	if (!dash)
		return 0;
	fam2 = tdm_parse_addr(dash, &hi);
	if (fam2 != fam)
		goto bad;
	lo32 = ntohl(np->addr.w[3]);
	hi32 = ntohl(hi.w[3]);
	if (memcmp(np->addr.w, hi.w, 12) || hi32 < lo32 ||
	    hi32 - lo32 >= TDM_NAT_MAX_POOL) {
		snprintf(err, errlen,
			 "nat: bad %s range '%s' (the last address must follow the first by at most %u, differing in the last 32 bits)",
			 what, s, TDM_NAT_MAX_POOL - 1);
		return -EINVAL;
	}
	np->pool_last = hi32 - lo32;
	return 0;
bad:
	snprintf(err, errlen,
		 "nat: bad %s address '%.80s' (expected ADDR or ADDR-ADDR, IPv4 or IPv6, both of one family)",
		 what, s);
	return -EINVAL;
}

static int nat_parse(union tdm_nf_params *p, const char *const *vals,
		     char *err, size_t errlen)
{
	struct tdm_nat_params *np = TDM_NF_PARAMS(p, nat);
	bool snat = vals[P_SNAT] != NULL;
	const char *match = snat ? vals[P_SRC] : vals[P_DST];
	struct tdm_addr mask;
	__u16 lo, hi;
	__u8 len, fam;
	__u64 v;
	int e;

	if (!vals[P_SNAT] == !vals[P_DNAT]) {
		snprintf(err, errlen,
			 "nat: give one of 'snat ADDR[-ADDR]' (rewrite sources) or 'dnat ADDR[-ADDR]' (rewrite destinations)");
		return -EINVAL;
	}
	np->action = snat ? TDM_NAT_SNAT : TDM_NAT_DNAT;
	if (snat && !strcmp(vals[P_SNAT], "masquerade")) {
		np->flags |= TDM_NAT_F_MASQUERADE;
		np->family = 0;		/* both, unless src says which */
	} else {
		e = pool_parse(snat ? "snat" : "dnat",
			       snat ? vals[P_SNAT] : vals[P_DNAT], np, err,
			       errlen);
		if (e)
			return e;
	}
	if (snat && vals[P_DST])
		return nerr(err, errlen,
			    "nat: snat binds by source ('src PREFIX'); 'dst %s' is for dnat",
			    vals[P_DST]);
	if (!snat && vals[P_SRC])
		return nerr(err, errlen,
			    "nat: dnat binds by destination ('dst PREFIX'); 'src %s' is for snat",
			    vals[P_SRC]);
	if (!snat && vals[P_OUT])
		return nerr(err, errlen,
			    "nat: 'out %s' is for snat (dnat rewrites before routing)",
			    vals[P_OUT]);
	/* the prefix bound: by default the whole family */
	np->match_len = np->family == 4 ? 96 : 0;
	memset(&np->match, 0, sizeof(np->match));
	if (np->family == 4)
		np->match.w[2] = htonl(0xffff);
	if (match) {
		e = tdm_parse_prefix(match, &np->match, &mask, &len, &fam,
				     err, errlen);
		if (e)
			return e;
		if (!np->family)
			np->family = fam;	/* masquerade from src */
		if (fam != np->family) {
			snprintf(err, errlen,
				 "nat: %s '%s' is IPv%u, the addresses translated to IPv%u (NAT46 is not done)",
				 snat ? "src" : "dst", match, fam, np->family);
			return -EINVAL;
		}
		np->match_len = len;
	}
	if (vals[P_PROTO]) {
		e = tdm_parse_proto(vals[P_PROTO], &np->proto, err, errlen);
		if (e)
			return e;
		if (np->family == 4 && np->proto == IPPROTO_ICMPV6)
			return nerr(err, errlen,
				    "nat: proto '%s' is IPv6's, the addresses IPv4",
				    vals[P_PROTO]);
		if (np->family == 6 && np->proto == IPPROTO_ICMP)
			return nerr(err, errlen,
				    "nat: proto '%s' is IPv4's, the addresses IPv6",
				    vals[P_PROTO]);
	}
	if (vals[P_DPORT]) {
		if (snat)
			return nerr(err, errlen,
				    "nat: 'dport %s' is for dnat (snat binds by source)",
				    vals[P_DPORT]);
		if (np->proto != IPPROTO_TCP && np->proto != IPPROTO_UDP)
			return nerr(err, errlen,
				    "nat: 'dport %s' needs 'proto tcp' or 'proto udp'",
				    vals[P_DPORT]);
		if (tdm_parse_uint(vals[P_DPORT], 1, 65535, &v))
			return nerr(err, errlen,
				    "nat: bad dport '%s' (a port, 1-65535)",
				    vals[P_DPORT]);
		np->dport = v;
	}
	if (snat) {
		np->port_lo = NAT_PORT_LO;
		np->port_hi = NAT_PORT_HI;
		if (vals[P_PORTS]) {
			e = tdm_parse_ports(vals[P_PORTS], &lo, &hi, err,
					    errlen);
			if (e)
				return e;
			if (!lo)
				return nerr(err, errlen,
					    "nat: bad ports '%s' (port 0 is no port; 1-65535)",
					    vals[P_PORTS]);
			np->port_lo = lo;
			np->port_hi = hi;
		}
	} else if (vals[P_PORTS]) {
		if (np->proto != IPPROTO_TCP && np->proto != IPPROTO_UDP)
			return nerr(err, errlen,
				    "nat: dnat 'ports %s' needs 'proto tcp' or 'proto udp'",
				    vals[P_PORTS]);
		if (tdm_parse_uint(vals[P_PORTS], 1, 65535, &v))
			return nerr(err, errlen,
				    "nat: bad dnat ports '%s' (the new destination port, 1-65535)",
				    vals[P_PORTS]);
		np->port_lo = np->port_hi = v;
	}
	if (vals[P_OUT]) {
		np->out_ifindex = if_nametoindex(vals[P_OUT]);
		if (!np->out_ifindex || strlen(vals[P_OUT]) >= IF_NAMESIZE)
			return nerr(err, errlen, "nat: no device '%s' (out DEV)",
				    vals[P_OUT]);
	}
	v = TDM_NAT_DEFAULT_SIZE;
	if (vals[P_SIZE] && tdm_parse_uint(vals[P_SIZE], 64, TDM_NAT_MAX_SIZE,
					   &v)) {
		snprintf(err, errlen,
			 "nat: bad size '%s' (expected entries, two a binding, 64-%u)",
			 vals[P_SIZE], TDM_NAT_MAX_SIZE);
		return -EINVAL;
	}
	np->size = v;
	return 0;
}

static void nat_format(const union tdm_nf_params *p, char *buf, size_t size)
{
	const struct tdm_nat_params *np = TDM_NF_PARAMS(p, nat);
	bool snat = np->action == TDM_NAT_SNAT;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], pool[100];
	char match[80] = "", proto[32] = "", dport[16] = "", ports[24] = "";
	char out[IF_NAMESIZE + 8] = "", dev[IF_NAMESIZE], num[8];
	struct tdm_addr last = np->addr;

	tdm_addr_str(&np->addr, np->family, a, sizeof(a));
	last.w[3] = htonl(ntohl(np->addr.w[3]) + np->pool_last);
	tdm_addr_str(&last, np->family, b, sizeof(b));
	if (np->flags & TDM_NAT_F_MASQUERADE)
		snprintf(pool, sizeof(pool), "masquerade");
	else if (np->pool_last)
		snprintf(pool, sizeof(pool), "%s-%s", a, b);
	else
		snprintf(pool, sizeof(pool), "%s", a);
	if (np->match_len != (np->family == 4 ? 96 : 0)) {
		tdm_addr_str(&np->match, np->family, a, sizeof(a));
		snprintf(match, sizeof(match), " %s %s/%u", snat ? "src" : "dst",
			 a, np->match_len - (np->family == 4 ? 96 : 0));
	}
	if (np->proto)
		snprintf(proto, sizeof(proto), " proto %s",
			 tdm_proto_name(np->proto, num, sizeof(num)));
	if (np->dport)
		snprintf(dport, sizeof(dport), " dport %u", np->dport);
	if (snat)
		snprintf(ports, sizeof(ports), " ports %u-%u", np->port_lo,
			 np->port_hi);
	else if (np->port_lo)
		snprintf(ports, sizeof(ports), " ports %u", np->port_lo);
	if (np->out_ifindex)
		snprintf(out, sizeof(out), " out %s",
			 if_indextoname(np->out_ifindex, dev) ? dev : "?");
	snprintf(buf, size, "%s %s%s%s%s%s%s size %u", snat ? "snat" : "dnat",
		 pool, match, proto, dport, ports, out, np->size);
}

static void nat_destroy(struct tdm_ctx *ctx, __u32 id)
{
	tdm_nf_table_destroy(ctx, &nat_table, id);
}

/*
 * Does this kernel's bpf_fib_lookup() give the source address
 * (BPF_FIB_LOOKUP_SRC, Linux 6.7)? An older one refuses the flag with
 * -EINVAL: a program that asks for it, run once on lo.
 */
static bool fib_lookup_src_works(void)
{
#define FIB_SZ	64			/* sizeof(struct bpf_fib_lookup) */
#define I(c, d, sr, of, im) \
	{ .code = (c), .dst_reg = (d), .src_reg = (sr), .off = (of), .imm = (im) }
	struct bpf_insn insns[] = {
		/* r0 = 0; the struct at fp-64 zeroed, AF_INET, ifindex 1 */
		I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
		I(BPF_STX | BPF_MEM | BPF_DW, 10, 0, -64, 0),
		I(BPF_STX | BPF_MEM | BPF_DW, 10, 0, -56, 0),
		I(BPF_STX | BPF_MEM | BPF_DW, 10, 0, -48, 0),
		I(BPF_STX | BPF_MEM | BPF_DW, 10, 0, -40, 0),
		I(BPF_STX | BPF_MEM | BPF_DW, 10, 0, -32, 0),
		I(BPF_STX | BPF_MEM | BPF_DW, 10, 0, -24, 0),
		I(BPF_STX | BPF_MEM | BPF_DW, 10, 0, -16, 0),
		I(BPF_STX | BPF_MEM | BPF_DW, 10, 0, -8, 0),
		I(BPF_ST | BPF_MEM | BPF_B, 10, 0, -64, AF_INET),
		I(BPF_ST | BPF_MEM | BPF_W, 10, 0, -56, 1),
		/* bpf_fib_lookup(ctx, fp - 64, 64, BPF_FIB_LOOKUP_SRC) */
		I(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
		I(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -64),
		I(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, FIB_SZ),
		I(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 1 << 4),
		I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_fib_lookup),
		I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
#undef I
	unsigned char data[64] = {};
	struct xdp_md md = { .data_end = sizeof(data), .ingress_ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data,
		    .data_size_in = sizeof(data), .ctx_in = &md,
		    .ctx_size_in = sizeof(md));
	int fd, ok;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "tdm_fib_src", "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), NULL);
	if (fd < 0)
		return false;
	ok = !bpf_prog_test_run_opts(fd, &o) && (int)o.retval != -EINVAL;
	close(fd);
	return ok;
#undef FIB_SZ
}

static int nat_create(struct tdm_ctx *ctx, __u32 id, union tdm_nf_params *p)
{
	const struct tdm_nat_params *np = TDM_NF_PARAMS(p, nat);

	if ((np->flags & TDM_NAT_F_MASQUERADE) && !fib_lookup_src_works())
		return tdm_err(ctx, EOPNOTSUPP,
			       "nat: masquerade needs Linux 6.7 or later (bpf_fib_lookup() choosing the source address), which this kernel lacks; give the address: snat ADDR");
	return tdm_nf_table_create(ctx, &nat_table, id,
				   np->size ?: TDM_NAT_DEFAULT_SIZE);
}

/* ---- its commands: tandem nat show|flush ---- */

static int nat_of(struct tdm_ctx *ctx, const char *name)
{
	struct tdm_nf_info info;
	int id = tdm_nf_lookup(ctx, name, &info);

	if (id < 0)
		return id;
	if (info.type != TDM_NF_NAT)
		return tdm_err(ctx, EINVAL, "NF '%s' is not a nat", name);
	return id;
}

static void tuple_json(struct json_object *o, const char *pre, __u8 family,
		       __u8 proto, const struct tdm_addr *s,
		       const struct tdm_addr *d, __u16 sp, __u16 dp)
{
	char as[INET6_ADDRSTRLEN], ad[INET6_ADDRSTRLEN], key[32];
	bool echo = proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;

	tdm_addr_str(s, family, as, sizeof(as));
	tdm_addr_str(d, family, ad, sizeof(ad));
	snprintf(key, sizeof(key), "%ssrc", pre);
	json_object_object_add(o, key, json_object_new_string(as));
	snprintf(key, sizeof(key), "%sdst", pre);
	json_object_object_add(o, key, json_object_new_string(ad));
	if (echo) {
		snprintf(key, sizeof(key), "%sid", pre);
		json_object_object_add(o, key, json_object_new_int(sp));
	} else if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		snprintf(key, sizeof(key), "%ssport", pre);
		json_object_object_add(o, key, json_object_new_int(sp));
		snprintf(key, sizeof(key), "%sdport", pre);
		json_object_object_add(o, key, json_object_new_int(dp));
	}
}

/*
 * One binding, from its first-way entry (k, e) and its reply entry (r,
 * NULL if the LRU evicted it): the tuple before and after, both ways'
 * packets, the later timeout.
 */
static struct json_object *binding_json(const struct tdm_nat_key *k,
					const struct tdm_nat_entry *e,
					const struct tdm_nat_entry *r,
					__u64 now)
{
	struct json_object *o = json_object_new_object();
	__u64 exp = r && r->expires > e->expires ? r->expires : e->expires;
	char num[8];

	json_object_object_add(o, "family", json_object_new_string(
		k->family == 4 ? "ipv4" : "ipv6"));
	json_object_object_add(o, "proto", json_object_new_string(
		tdm_proto_name(k->proto, num, sizeof(num))));
	tuple_json(o, "", k->family, k->proto, &k->saddr, &k->daddr,
		   k->sport, k->dport);
	tuple_json(o, "to_", k->family, k->proto, &e->saddr, &e->daddr,
		   e->sport, e->dport);
	json_object_object_add(o, "expires_s", json_object_new_int64(
		exp > now ? (exp - now) / 1000000000ULL : 0));
	json_object_object_add(o, "packets", json_object_new_int64(e->packets));
	json_object_object_add(o, "bytes", json_object_new_int64(e->bytes));
	json_object_object_add(o, "reply_packets",
			       json_object_new_int64(r ? r->packets : 0));
	json_object_object_add(o, "reply_bytes",
			       json_object_new_int64(r ? r->bytes : 0));
	return o;
}

/* The live bindings of NF name */
static int nat_show_run(struct tdm_ctx *ctx, const struct args *a,
			struct json_object **out)
{
	const char *name = arg_str(a, "NF");
	struct tdm_nat_key k, next, rk;
	struct tdm_nat_entry e, r;
	struct json_object *arr;
	void *prev = NULL;
	__u64 now;
	int id, fd;
	bool has_r;

	id = nat_of(ctx, name);
	if (id < 0)
		return id;
	fd = tdm_nf_table_fd(ctx, &nat_table, id);
	if (fd < 0)
		return tdm_err(ctx, -fd, "nat '%s' has no table: %s", name,
			       strerror(-fd));
	now = tdm_mono_ns();
	arr = json_object_new_array();
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &e) || e.dir)
			continue;
		memset(&rk, 0, sizeof(rk));
		rk.saddr = e.daddr;
		rk.daddr = e.saddr;
		rk.sport = e.dport;
		rk.dport = e.sport;
		rk.family = k.family;
		rk.proto = k.proto;
		has_r = !bpf_map_lookup_elem(fd, &rk, &r);
		if (e.expires <= now && (!has_r || r.expires <= now))
			continue;
		json_object_array_add(arr, binding_json(&k, &e,
							has_r ? &r : NULL, now));
	}
	close(fd);
	*out = json_object_new_object();
	json_object_object_add(*out, "nf", json_object_new_string(name));
	json_object_object_add(*out, "bindings", arr);
	return 0;
}

static void end_str(struct json_object *r, const char *pre, const char *which,
		    char *buf, size_t size)
{
	char key[32], port[32];
	bool v6 = !strcmp(tdm_json_str(r, "family"), "ipv6");

	snprintf(key, sizeof(key), "%s%s", pre, which);
	snprintf(port, sizeof(port), "%s%s", pre,
		 !strcmp(which, "src") ? "sport" : "dport");
	if (json_object_object_get(r, port))
		snprintf(buf, size, "%s%s%s:%s", v6 ? "[" : "", tdm_json_str(r, key),
			 v6 ? "]" : "", tdm_json_str(r, port));
	else
		snprintf(buf, size, "%s", tdm_json_str(r, key));
}

static void nat_show_print(struct json_object *o, FILE *f)
{
	struct json_object *arr = json_object_object_get(o, "bindings");
	size_t i;

	fprintf(f, "%-6s %-46s %-46s %8s %s\n", "PROTO", "ORIGINAL",
		"TRANSLATED", "EXPIRES", "PACKETS");
	for (i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);
		char s[64], d[64], ts[64], td[64], orig[140], to[140], exp[16];

		end_str(r, "", "src", s, sizeof(s));
		end_str(r, "", "dst", d, sizeof(d));
		end_str(r, "to_", "src", ts, sizeof(ts));
		end_str(r, "to_", "dst", td, sizeof(td));
		if (json_object_object_get(r, "id")) {
			snprintf(orig, sizeof(orig), "%s > %s id %s", s, d,
				 tdm_json_str(r, "id"));
			snprintf(to, sizeof(to), "%s > %s id %s", ts, td,
				 tdm_json_str(r, "to_id"));
		} else {
			snprintf(orig, sizeof(orig), "%s > %s", s, d);
			snprintf(to, sizeof(to), "%s > %s", ts, td);
		}
		snprintf(exp, sizeof(exp), "%ss", tdm_json_str(r, "expires_s"));
		fprintf(f, "%-6s %-46s %-46s %8s %s/%s\n", tdm_json_str(r, "proto"),
			orig, to, exp, tdm_json_str(r, "packets"),
			tdm_json_str(r, "reply_packets"));
	}
}

/* Forget every binding: their next packets bind anew (other ports) */
static int nat_flush_run(struct tdm_ctx *ctx, const struct args *a,
			 struct json_object **out)
{
	int id = nat_of(ctx, arg_str(a, "NF"));

	if (id < 0)
		return id;
	return tdm_nf_table_flush(ctx, &nat_table, id, arg_str(a, "NF"));
}

static const struct arg nat_nf_args[] = {
	{ .meta = "NF", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the nat NF" },
	{}
};

static const struct tdm_nf_command nat_cmds[] = {
	{ "show", "list", nat_nf_args,
	  "a nat's bindings: each tuple as it came and as it left, timeout, packets",
	  false, nat_show_run, nat_show_print },
	{ "flush", NULL, nat_nf_args, "forget every binding", true,
	  nat_flush_run, NULL },
	{}
};

static const struct tdm_nf_object nat_object = {
	.name = "nat",
	.summary = "network address translation bindings",
	.cmds = nat_cmds,
	.notes = "A binding shows as its first packet came (ORIGINAL) and left\n"
		 "(TRANSLATED); replies are translated back. PACKETS: both ways.\n",
};

static const char *const nat_drops[TDM_NAT_DROP_MAX] = {
	[TDM_NAT_DROP_NO_PORT] = "no_port",
	[TDM_NAT_DROP_TRUNC] = "truncated",
	[TDM_NAT_DROP_FRAG] = "fragment_untranslated",
	[TDM_NAT_DROP_UNTRANSLATABLE] = "untranslatable",
	[TDM_NAT_DROP_TTL] = "ttl_exceeded",
};

const struct tdm_nf_ops tdm_nf_nat = {
	.summary = "source and destination NAT (NAT44, NAT66), ports allocated",
	.help = "nat: put the same NF in the chains of both devices it joins;\n"
		"it translates what it binds one way and the replies back.\n"
		"  snat ADDR[-ADDR]  rewrite the sources of packets the kernel will\n"
		"                    forward to an address of the pool (one source\n"
		"                    keeps one), TCP/UDP ports and echo ids to free\n"
		"                    ones in 'ports' (default 1024-32767)\n"
		"  snat masquerade   to the address the route's device gives the\n"
		"                    host's own packets (bpf_fib_lookup() giving\n"
		"                    the source: Linux 6.7, Debian's 6.1)\n"
		"  dnat ADDR[-ADDR]  rewrite destinations (port forwarding), before\n"
		"                    routing; 'ports PORT' the new destination port\n"
		"  src PREFIX        snat: only these sources (default: all)\n"
		"  dst PREFIX        dnat: only these destinations (default: all)\n"
		"  proto P           only this protocol; dport PORT: dnat, this port\n"
		"  out DEV           snat: only packets routed out of DEV\n"
		"  size N            table entries, two a binding (default 65536)\n"
		"  Example: tandem nf add masq nat snat 198.51.100.7 src 10.0.0.0/24\n"
		"           tandem nf add web nat dnat 10.0.0.2 dst 198.51.100.7 \\\n"
		"                   proto tcp dport 8080 ports 80\n",
	.params = nat_params,
	.parse = nat_parse, .format = nat_format,
	.create = nat_create, .destroy = nat_destroy,
	.params_fixed = true,
	.object = &nat_object,
	.drops = nat_drops,
};
