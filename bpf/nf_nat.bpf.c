// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nat: source NAT (snat, to an address or a pool, with port allocation)
 * and destination NAT (dnat, port forwarding), IPv4 and IPv6 (NAT66:
 * the same machinery on 128-bit addresses), with incremental checksum
 * updates (RFC 1624).
 *
 * A binding is two entries of the NF's own LRU hash (tdm_nat_tables
 * [nf_id], made at its size), as nf_conntrack's tuplehash[2]: one keyed
 * by the tuple its first packet had, one by the tuple its replies have,
 * each holding the tuple the packet is rewritten to. So the same NF put
 * in the chains of both devices of a router translates both ways: what
 * matches neither a binding nor the rule passes unchanged.
 *
 * snat binds what the kernel would forward (bpf_fib_lookup(): a packet
 * for the router itself is left alone, as POSTROUTING never sees it),
 * out of device out_ifindex if set. dnat binds before routing, as
 * PREROUTING does; the kernel then routes the new destination.
 *
 * TCP and UDP ports and ICMP echo identifiers are translated; other
 * protocols by address only. ICMP errors quoting a translated packet are
 * translated (outer and quoted headers, every checksum), as the kernel's
 * nf_nat_icmp_reply_translation() does. A datagram's later fragments
 * take its first fragment's translation.
 */
#ifdef TDM_NF_DECLARATIONS
#define TDM_NAT_DEFAULT_SIZE	65536	/* bindings x 2 entries in its table */
#define TDM_NAT_MAX_SIZE	(1 << 22)
#define TDM_NAT_MAX_POOL	65536	/* addresses in a pool */
#define TDM_NAT_PORT_TRIES	16	/* free ports looked for per binding */

enum tdm_nat_action {
	TDM_NAT_SNAT = 1,
	TDM_NAT_DNAT,
};

struct tdm_nat_params {
	__u8 action;			/* enum tdm_nat_action */
	__u8 family;			/* 4 or 6; 0: both (masquerade) */
	__u8 proto;			/* IPPROTO_* matched, 0: any */
	__u8 match_len;			/* prefix length, 128-bit space */
	struct tdm_addr match;		/* snat: sources, dnat: destinations
					 * bound (masked; IPv4 mapped) */
	struct tdm_addr addr;		/* the first address translated to */
	__u16 pool_last;		/* addresses in the pool - 1 */
	__u16 port_lo, port_hi;		/* snat: ports (echo ids) allocated;
					 * dnat: port_lo the new port, 0: kept */
	__u16 dport;			/* dnat: destination port bound, 0: any */
	__u32 size;			/* entries in its table */
	__u32 out_ifindex;		/* snat: only routed out of it; 0: any */
	__u8 flags;			/* enum tdm_nat_flags */
	__u8 pad[3];
};

enum tdm_nat_flags {
	/*
	 * snat to the address the kernel would give a packet of its own
	 * out of the device the route takes (bpf_fib_lookup()'s
	 * BPF_FIB_LOOKUP_SRC, Linux 6.7): nftables' masquerade. addr and
	 * pool_last are unused; family 0 unless src is given: both.
	 */
	TDM_NAT_F_MASQUERADE = 1 << 0,
};

enum {
	TDM_NAT_DROP_NO_PORT = TDM_DROP_NF,	/* no free port in TDM_NAT_PORT_TRIES */
	TDM_NAT_DROP_TRUNC,		/* a field to rewrite is past the frame */
	TDM_NAT_DROP_FRAG,		/* a later fragment of an untranslated
					 * datagram the rule covers */
	TDM_NAT_DROP_UNTRANSLATABLE,	/* snat covers it, nothing binds it */
	TDM_NAT_DROP_TTL,		/* TTL or hop limit 1: the kernel's error
					 * would quote it untranslated */
	TDM_NAT_DROP_MAX,
};

/*
 * A packet's tuple as it is on the wire; ICMP echo: both ports are the
 * identifier; protocols without ports: 0. 40 bytes.
 */
struct tdm_nat_key {
	struct tdm_addr saddr;		/* network order; IPv4 mapped */
	struct tdm_addr daddr;
	__u16 sport, dport;		/* host order */
	__u8 family;			/* 4 or 6 */
	__u8 proto;
	__u16 pad;
};

/* What a packet with that tuple becomes. 64 bytes. */
struct tdm_nat_entry {
	__u64 expires;			/* ns, CLOCK_MONOTONIC */
	struct tdm_addr saddr;		/* the new tuple */
	struct tdm_addr daddr;
	__u16 sport, dport;
	__u8 dir;			/* 0: the binding's first packet's way, 1: reply */
	__u8 fin;			/* TCP: a FIN went this way */
	__u16 pad;
	__u64 packets;			/* this way */
	__u64 bytes;
};

/*
 * Timeouts in seconds: TCP established as RFC 5382 REQ-5 asks (2 h 4
 * min), the rest the kernel's (nf_conntrack_proto_*.c). A binding lives
 * while either of its entries does.
 */
#define TDM_NAT_TO_TCP_SYN	120
#define TDM_NAT_TO_TCP		7440
#define TDM_NAT_TO_TCP_FIN	120
#define TDM_NAT_TO_TCP_RST	10
#define TDM_NAT_TO_UDP_FIRST	30
#define TDM_NAT_TO_UDP		120
#define TDM_NAT_TO_ICMP		30
#define TDM_NAT_TO_OTHER	600

/* A fragmented datagram's translation, for its later fragments */
#define TDM_NAT_FRAGS		8192
#define TDM_NAT_TO_FRAG		30	/* s: the kernel's ipfrag_time */

struct tdm_nat_frag_key {
	__u32 nf_id;
	__u32 id;			/* IP id or IPv6 fragment id, host order */
	__u8 family;
	__u8 proto;
	__u16 pad;
	struct tdm_addr saddr;		/* as it came */
	struct tdm_addr daddr;
};

struct tdm_nat_frag {
	__u64 expires;			/* ns, CLOCK_MONOTONIC */
	struct tdm_addr saddr;		/* as it leaves */
	struct tdm_addr daddr;
};

TDM_NF(nat, 7, struct tdm_nat_params, TDM_NAT_DROP_MAX);
#endif /* TDM_NF_DECLARATIONS */

#ifdef TDM_NF_MAPS
/* Never read: defines the table's types in every object's BTF (see
 * tdm_ct_types in nf_conntrack.bpf.c). */
const volatile struct {
	struct tdm_nat_key key;
	struct tdm_nat_entry entry;
} tdm_nat_types;

struct tdm_nat_table {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TDM_TEMPLATE_ENTRIES);
	__type(key, struct tdm_nat_key);
	__type(value, struct tdm_nat_entry);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, TDM_MAX_NFS);
	__type(key, __u32);		/* nf_id */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct tdm_nat_table);
} tdm_nat_tables SEC(".maps");

/*
 * The bigger locals of a packet's translation, per CPU: the hop, the NF
 * and the binding's functions together would pass the 512 bytes of
 * stack the verifier allows a chain of calls.
 */
struct tdm_nat_scratch {
	struct tdm_nat_key k;		/* the packet's tuple */
	struct tdm_nat_entry fresh;	/* a new binding's first way */
	struct tdm_nat_key rk;		/* ... and its reply's */
	struct tdm_nat_entry r;
	struct tdm_addr masq_src;	/* masquerade: the route's source */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tdm_nat_scratch);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_nat_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TDM_NAT_FRAGS);
	__type(key, struct tdm_nat_frag_key);
	__type(value, struct tdm_nat_frag);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_nat_frags SEC(".maps");
#endif /* TDM_NF_MAPS */

#ifdef TDM_NF_DATAPATH
#include "lib/nat.h"

/* The n-th address of the pool */
static __always_inline void nat_pool_addr(struct tdm_addr *a,
					  const volatile struct tdm_nat_params *p,
					  __u32 n)
{
	a->w[0] = p->addr.w[0];
	a->w[1] = p->addr.w[1];
	a->w[2] = p->addr.w[2];
	a->w[3] = bpf_htonl(bpf_ntohl(p->addr.w[3]) + n);
}

/* The same end gets the same pool address (RFC 4787 REQ-2, paired) */
static __always_inline __u32 nat_pool_pick(const struct tdm_addr *a,
					   const volatile struct tdm_nat_params *p)
{
	__u32 h = (a->w[0] ^ a->w[1] ^ a->w[2] ^ a->w[3]) * 0x9e3779b1U;

	return (h >> 16) % ((__u32)p->pool_last + 1);
}

/* Does the rule cover this packet (the route aside)? */
static __always_inline bool nat_rule_match(const struct tdm_meta *pm,
					   const volatile struct tdm_nat_params *p)
{
	const struct tdm_addr *a = p->action == TDM_NAT_SNAT ? &pm->saddr :
							       &pm->daddr;
	__u32 len = p->match_len, j;

	if (p->proto && p->proto != pm->l4_proto)
		return false;
	for (j = 0; j < 4; j++) {
		__u32 mask, bits = len > 32 * j ? len - 32 * j : 0;

		mask = bits >= 32 ? ~0U : bits ? ~0U << (32 - bits) : 0;
		if ((bpf_ntohl(a->w[j]) & mask) != bpf_ntohl(p->match.w[j]))
			return false;
	}
	if (p->action == TDM_NAT_DNAT && p->dport &&
	    (!nat_has_ports(pm->l4_proto) || (pm->flags & TDM_F_FRAG_LATER) ||
	     pm->dport != p->dport))
		return false;
	return true;
}

/* A route lookup's family and ends: from s to d (IPv4 mapped or IPv6) */
static __always_inline void nat_fib_addrs(struct bpf_fib_lookup *fib, bool v4,
					  const struct tdm_addr *s,
					  const struct tdm_addr *d)
{
	if (v4) {
		fib->family = NAT_AF_INET;
		fib->ipv4_src = s->w[3];
		fib->ipv4_dst = d->w[3];
	} else {
		fib->family = NAT_AF_INET6;
		__builtin_memcpy(fib->ipv6_src, s->w, 16);
		__builtin_memcpy(fib->ipv6_dst, d->w, 16);
	}
}

/*
 * Would the kernel forward this packet (out of p->out_ifindex, if set)?
 * snat binds only those: a packet for this host is not translated.
 * Masquerade: the source the kernel would choose for that route, into
 * *src.
 */
static __noinline bool nat_forwarded(struct xdp_md *ctx,
				     const struct tdm_meta *pm,
				     const volatile struct tdm_nat_params *p,
				     struct tdm_addr *src)
{
	struct bpf_fib_lookup fib = {};
	bool masq = p->flags & TDM_NAT_F_MASQUERADE;
	bool v4 = pm->flags & TDM_F_IPV4;
	int ret;

	/*
	 * No tot_len: the MTU is the kernel's business (it fragments, or
	 * says the packet is too big), not a reason not to translate.
	 */
	fib.l4_protocol = pm->l4_proto;
	fib.sport = bpf_htons(pm->sport);
	fib.dport = bpf_htons(pm->dport);
	fib.ifindex = pm->ifindex;
	nat_fib_addrs(&fib, v4, &pm->saddr, &pm->daddr);
	ret = bpf_fib_lookup(ctx, &fib, sizeof(fib),
			     masq ? NAT_FIB_LOOKUP_SRC : 0);
	if (ret != BPF_FIB_LKUP_RET_SUCCESS &&
	    ret != BPF_FIB_LKUP_RET_NO_NEIGH)
		return false;
	if (p->out_ifindex && fib.ifindex != p->out_ifindex)
		return false;
	if (masq) {
		if (v4) {
			src->w[0] = 0;
			src->w[1] = 0;
			src->w[2] = bpf_htonl(0xffff);
			src->w[3] = fib.ipv4_src;
		} else {
			__builtin_memcpy(src->w, fib.ipv6_src, 16);
		}
	}
	/*
	 * Strict reverse path (rp_filter 1): the source must be routed
	 * back through the device the packet came in at. Else anyone
	 * outside could send packets "from" inside addresses and bind
	 * every port (the kernel's own rp_filter comes after XDP).
	 */
	__builtin_memset(&fib, 0, sizeof(fib));
	fib.ifindex = pm->ifindex;
	nat_fib_addrs(&fib, v4, &pm->daddr, &pm->saddr);
	ret = bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_OUTPUT);
	return (ret == BPF_FIB_LKUP_RET_SUCCESS ||
		ret == BPF_FIB_LKUP_RET_NO_NEIGH) && fib.ifindex == pm->ifindex;
}

/*
 * A packet snat covers (source, route) that nothing can translate: an
 * ICMP message other than an echo or an error about a binding, a packet
 * the parser could not read. Passed, it would leave with the address
 * the rule hides: TDM_NAT_DROP_UNTRANSLATABLE; else NF_CONTINUE.
 */
static __noinline int nat_untranslatable(struct xdp_md *ctx,
					 struct tdm_meta *pm,
					 const volatile struct tdm_nat_params *p)
{
	struct tdm_nat_scratch *sc;
	__u32 zero = 0;

	if (p->action != TDM_NAT_SNAT || !nat_rule_match(pm, p))
		return NF_CONTINUE;
	sc = bpf_map_lookup_elem(&tdm_nat_scratch, &zero);
	if (!sc || !nat_forwarded(ctx, pm, p, &sc->masq_src))
		return NF_CONTINUE;
	return TDM_NAT_DROP_UNTRANSLATABLE;
}

/*
 * A new binding for the packet with tuple sc->k, by the rule: snat, to
 * the pool's address and a free port (the packet's own if the range has
 * it and it is free, then random ones); dnat, to the pool's address and
 * port. The new tuple into sc->fresh. 0 or a drop reason.
 */
static __noinline int nat_bind(struct tdm_nat_scratch *sc, void *tab,
			       const struct tdm_meta *pm,
			       const volatile struct tdm_nat_params *p)
{
	const struct tdm_nat_key *k = &sc->k;
	struct tdm_nat_entry *e = &sc->fresh;
	__u64 now = bpf_ktime_get_ns();
	__u32 n = 1, start = 0, range = 0, i;
	bool ported = nat_has_ports(k->proto) ||
		      k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6;

	nat_bind_init(sc, pm, now);
	if (p->action == TDM_NAT_SNAT) {
		if (p->flags & TDM_NAT_F_MASQUERADE)
			e->saddr = sc->masq_src;
		else
			nat_pool_addr(&e->saddr, p, nat_pool_pick(&k->saddr, p));
		if (ported) {
			range = (__u32)p->port_hi - p->port_lo + 1;
			start = bpf_get_prandom_u32() % range;
			n = TDM_NAT_PORT_TRIES;
		}
	} else {
		nat_pool_addr(&e->daddr, p, nat_pool_pick(&k->saddr, p));
		if (p->port_lo && nat_has_ports(k->proto))
			e->dport = p->port_lo;
	}
	for (i = 0; i < TDM_NAT_PORT_TRIES && i < n; i++) {
		if (range) {
			__u16 sp = k->sport;

			if (i || sp < p->port_lo || sp > p->port_hi)
				sp = p->port_lo + (start + i) % range;
			e->sport = sp;
			if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
				e->dport = sp;	/* echo: one identifier */
		}
		if (nat_bind_try(sc, tab, now))
			return 0;
	}
	return TDM_NAT_DROP_NO_PORT;
}

/*
 * A later fragment: as its first fragment was translated. One nobody
 * translated passes, unless the rule covers it: then it would leave
 * with the address the rule hides, and is dropped.
 */
static __always_inline int nat_frag_later(struct xdp_md *ctx,
					  struct tdm_meta *pm, __u32 nf_id,
					  const volatile struct tdm_nat_params *p,
					  __u64 now)
{
	int ret = nat_frag_follow(ctx, pm, nf_id, now);

	if (ret != NAT_FRAG_UNSEEN)
		return ret;
	return nat_rule_match(pm, p) ? TDM_NAT_DROP_FRAG : NF_CONTINUE;
}

/* A packet (not an ICMP error, not a later fragment) */
static __noinline int nat_eval(struct xdp_md *ctx, struct tdm_meta *pm,
			       __u32 nf_id,
			       const volatile struct tdm_nat_params *p,
			       __u64 now)
{
	void *tab = bpf_map_lookup_elem(&tdm_nat_tables, &nf_id);
	struct tdm_nat_scratch *sc;
	struct tdm_nat_entry *e;
	struct tdm_nat_key *k;
	__u32 zero = 0;
	__u8 family = pm->flags & TDM_F_IPV4 ? 4 : 6, proto = pm->l4_proto;
	__u16 sp = pm->sport, dp = pm->dport;
	int ret;

	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		/* ND, MLD: the link's (never forwarded); the rest: no id */
		if (!tdm_icmp_is_echo(proto, pm->icmp_type))
			return nat_untranslatable(ctx, pm, p);
		sp = dp = pm->icmp_id;
	} else if (!(pm->flags & TDM_F_L4) && nat_has_ports(proto)) {
		return NF_CONTINUE;	/* not reached: unparsed */
	}
	sc = bpf_map_lookup_elem(&tdm_nat_scratch, &zero);
	if (!sc || !tab)
		return NF_CONTINUE;	/* not reached; a table is made first */
	k = &sc->k;
	nat_key(k, family, proto, &pm->saddr, &pm->daddr, sp, dp);
	e = bpf_map_lookup_elem(tab, k);
	if (e && nat_alive(tab, k, e, now)) {
		if (nat_ttl_expires(ctx, pm))
			return TDM_NAT_DROP_TTL;
		nat_seen(tab, k, e, pm, now);
	} else {
		/* a reply or an echo answer never opens a binding */
		if ((proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) &&
		    tdm_icmp_is_echo_reply(proto, pm->icmp_type))
			return NF_CONTINUE;
		if (!nat_rule_match(pm, p))
			return NF_CONTINUE;
		if (p->action == TDM_NAT_SNAT &&
		    !nat_forwarded(ctx, pm, p, &sc->masq_src))
			return NF_CONTINUE;
		if (nat_ttl_expires(ctx, pm))
			return TDM_NAT_DROP_TTL;
		ret = nat_bind(sc, tab, pm, p);
		if (ret)
			return ret;
		e = &sc->fresh;
	}
	ret = nat_rewrite((void *)(long)ctx->data, (void *)(long)ctx->data_end,
			  pm->l3_off, pm->l4_off, family, proto, &e->saddr,
			  &e->daddr, e->sport, e->dport, NULL);
	if (ret)
		return ret;
	if (pm->flags & TDM_F_FRAG)
		nat_frag_first(pm, k, e, nf_id, now);
	nat_meta(pm, e);
	return NF_CONTINUE;
}

/*
 * Each case a function of its own (static: verified where it is called,
 * with the hop's constant parameters), not inlined: a hop has up to 16
 * NFs, each inlined with its own stack.
 */
static __always_inline int nat_run(struct xdp_md *ctx, struct tdm_meta *pm,
				   const volatile struct tdm_hop_nf *nf)
{
	const volatile struct tdm_nat_params *p = TDM_HOP_PARAMS(nf, nat);
	__u32 nf_id = nf->nf_id;
	__u64 now;
	int ret;

	if (!(pm->flags & (TDM_F_IPV4 | TDM_F_IPV6)) ||
	    (p->family && (pm->flags & TDM_F_IPV4 ? 4 : 6) != p->family))
		return NF_CONTINUE;
	if (pm->flags & TDM_F_UNPARSED)
		return nat_untranslatable(ctx, pm, p);
	now = bpf_ktime_get_ns();
	if (pm->flags & TDM_F_FRAG_LATER)
		return nat_frag_later(ctx, pm, nf_id, p, now);
	if (pm->flags & TDM_F_ICMP_ERR) {
		ret = nat_icmp_error(ctx, pm, nf_id,
				     pm->flags & TDM_F_IPV4 ? 4 : 6, now);
		/* about no binding: the rest's rule */
		return ret == NAT_ICMP_UNBOUND ? nat_untranslatable(ctx, pm, p) :
						 ret;
	}
	return nat_eval(ctx, pm, nf_id, p, now);
}
#endif /* TDM_NF_DATAPATH */
