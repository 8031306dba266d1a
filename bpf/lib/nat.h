/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Address translation's datapath, shared by the NFs that rewrite
 * addresses (bpf/nf_nat.bpf.c, bpf/nf_lb.bpf.c): incremental checksum
 * updates (RFC 1624), a packet's rewrite, bindings (two entries of an
 * NF's table in tdm_nat_tables, one per way: see nf_nat.bpf.c), later
 * fragments, ICMP errors quoting a translated packet. Included in the
 * datapath part of those NFs' files, after every NF's declarations and
 * maps.
 */
#ifndef TANDEM_BPF_NAT_H
#define TANDEM_BPF_NAT_H

#define NAT_NSEC	1000000000ULL
#define NAT_AF_INET	2
#define NAT_AF_INET6	10
#define NAT_TCP_FIN	0x01
#define NAT_TCP_SYN	0x02
#define NAT_TCP_RST	0x04
#define NAT_TCP_ACK	0x10
#define NAT_OFF_MASK	0x7fff	/* offsets in the metadata: < 32 KiB */
#define NAT_FIB_LOOKUP_SRC	(1U << 4)	/* uapi BPF_FIB_LOOKUP_SRC, 6.7 */

/* ---- checksums: RFC 1071 sums, RFC 1624 incremental updates ---- */

/* Add the change of n 32-bit words from old to new to sum acc */
static __always_inline __u64 nat_csum_words(__u64 acc, const __u32 *old,
					    const __u32 *new, int n)
{
	int i;

	for (i = 0; i < n; i++)
		acc += (__u32)~old[i] + (__u64)new[i];
	return acc;
}

/*
 * Write n words of new at dst, adding the change to sum acc. Word by
 * word: loading all before storing any would spill them to the stack.
 */
static __always_inline __u64 nat_set_words(__u64 acc, __u32 *dst,
					   const __u32 *new, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		__u32 o = dst[i], v = new[i];

		acc += (__u32)~o + (__u64)v;
		dst[i] = v;
	}
	return acc;
}

static __always_inline __u64 nat_csum_16(__u64 acc, __u16 old, __u16 new)
{
	return acc + (__u16)~old + new;
}

static __always_inline __u16 nat_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s;
}

/* A checksum field after a change that adds acc: HC' = ~(~HC + acc) */
static __always_inline __u16 nat_csum_apply(__u16 hc, __u64 acc)
{
	return ~nat_fold((__u16)~hc + acc);
}

/* The same, on a field in the packet; the change it made added to *out */
static __always_inline void nat_csum_fix(__u16 *field, __u64 acc,
					 __u64 *out, bool udp)
{
	__u16 old = *field, new;

	if (udp && !old)
		return;			/* IPv4 UDP without checksum */
	new = nat_csum_apply(old, acc);
	if (udp && !new)
		new = 0xffff;		/* RFC 768: 0 means none */
	*field = new;
	if (out)
		*out = nat_csum_16(*out, old, new);
}

/* Offset of the L4 checksum in a header of protocol proto, or -1 */
static __always_inline int nat_csum_off(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 16;
	case IPPROTO_UDP:
		return 6;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 2;
	}
	return -1;
}

/* Does protocol proto's checksum cover the IP addresses? */
static __always_inline bool nat_pseudo(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_ICMPV6;
}

static __always_inline bool nat_has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

static __always_inline bool nat_addr_eq(const struct tdm_addr *x,
					const struct tdm_addr *y)
{
	return x->w[0] == y->w[0] && x->w[1] == y->w[1] &&
	       x->w[2] == y->w[2] && x->w[3] == y->w[3];
}

/*
 * Rewrite the IP and L4 headers of the packet at l3 (family, protocol
 * proto, L4 header at l4 or 0 for none) to addresses s, d and ports sp,
 * dp (host order; ICMP echo: sp the identifier), updating every checksum
 * that covers them. csum_l4: the L4 checksum may be updated (not in a
 * later fragment). The change made to the bytes of the packet from l3
 * on, as an RFC 1624 sum, is added to *icmp_acc if not NULL: an ICMP
 * error's own checksum covers its quote. 0, or TDM_NAT_DROP_TRUNC.
 */
static __always_inline int nat_rewrite(void *data, void *end, __u32 l3,
				       __u32 l4, __u8 family, __u8 proto,
				       const struct tdm_addr *s,
				       const struct tdm_addr *d, __u16 sp,
				       __u16 dp, __u64 *icmp_acc)
{
	__u64 addr_acc = 0, port_acc = 0;
	__u16 *ports, *csum;
	int coff;

	l3 &= NAT_OFF_MASK;
	if (family == 4) {
		struct iphdr *iph = data + l3;

		if ((void *)(iph + 1) > end)
			return TDM_NAT_DROP_TRUNC;
		addr_acc = nat_set_words(addr_acc, &iph->saddr, &s->w[3], 1);
		addr_acc = nat_set_words(addr_acc, &iph->daddr, &d->w[3], 1);
		nat_csum_fix(&iph->check, addr_acc, icmp_acc, false);
	} else {
		struct ipv6hdr *ip6h = data + l3;

		if ((void *)(ip6h + 1) > end)
			return TDM_NAT_DROP_TRUNC;
		addr_acc = nat_set_words(addr_acc, (__u32 *)&ip6h->saddr,
					 s->w, 4);
		addr_acc = nat_set_words(addr_acc, (__u32 *)&ip6h->daddr,
					 d->w, 4);
	}
	if (icmp_acc)
		*icmp_acc += addr_acc;
	if (!l4)
		return 0;
	l4 &= NAT_OFF_MASK;
	ports = data + l4;
	if (nat_has_ports(proto)) {
		if ((void *)(ports + 2) > end)
			return TDM_NAT_DROP_TRUNC;
		port_acc = nat_csum_16(port_acc, ports[0], bpf_htons(sp));
		port_acc = nat_csum_16(port_acc, ports[1], bpf_htons(dp));
		ports[0] = bpf_htons(sp);
		ports[1] = bpf_htons(dp);
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		/* only an echo gets here: its identifier, 4 bytes in */
		if ((void *)(ports + 3) > end)
			return TDM_NAT_DROP_TRUNC;
		port_acc = nat_csum_16(port_acc, ports[2], bpf_htons(sp));
		ports[2] = bpf_htons(sp);
	}
	if (icmp_acc)
		*icmp_acc += port_acc;
	coff = nat_csum_off(proto);
	if (coff < 0)
		return 0;
	csum = data + l4 + coff;
	if ((void *)(csum + 1) > end) {
		/* an ICMP error may quote fewer bytes: nothing to fix */
		return icmp_acc ? 0 : TDM_NAT_DROP_TRUNC;
	}
	if (nat_pseudo(proto))
		port_acc += addr_acc;
	nat_csum_fix(csum, port_acc, icmp_acc,
		     proto == IPPROTO_UDP && family == 4);
	return 0;
}

/* ---- bindings ---- */

static __always_inline void nat_key(struct tdm_nat_key *k, __u8 family,
				    __u8 proto, const struct tdm_addr *s,
				    const struct tdm_addr *d, __u16 sp,
				    __u16 dp)
{
	k->saddr = *s;
	k->daddr = *d;
	k->sport = sp;
	k->dport = dp;
	k->family = family;
	k->proto = proto;
	k->pad = 0;
}

/* The key of the other direction's entry: e's new tuple, reversed */
static __always_inline void nat_peer_key(struct tdm_nat_key *pk,
					 const struct tdm_nat_key *k,
					 const struct tdm_nat_entry *e)
{
	nat_key(pk, k->family, k->proto, &e->daddr, &e->saddr, e->dport,
		e->sport);
}

/* Is e's binding alive: e's or its peer's timeout still ahead? */
static __always_inline bool nat_alive(void *tab, const struct tdm_nat_key *k,
				      const struct tdm_nat_entry *e, __u64 now)
{
	struct tdm_nat_entry *pe;
	struct tdm_nat_key pk;

	if (e->expires > now)
		return true;
	nat_peer_key(&pk, k, e);
	pe = bpf_map_lookup_elem(tab, &pk);
	return pe && pe->expires > now;
}

static __always_inline __u64 nat_timeout(__u8 proto, __u8 tcp_flags,
					 const struct tdm_nat_entry *e)
{
	switch (proto) {
	case IPPROTO_TCP:
		if (tcp_flags & NAT_TCP_RST)
			return TDM_NAT_TO_TCP_RST;
		if (e->fin)
			return TDM_NAT_TO_TCP_FIN;
		if ((tcp_flags & (NAT_TCP_SYN | NAT_TCP_ACK)) == NAT_TCP_SYN)
			return TDM_NAT_TO_TCP_SYN;
		return TDM_NAT_TO_TCP;
	case IPPROTO_UDP:
		return TDM_NAT_TO_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return TDM_NAT_TO_ICMP;
	}
	return TDM_NAT_TO_OTHER;
}

/* A packet went through e: count it, push its timeout on */
static __always_inline void nat_seen(void *tab, const struct tdm_nat_key *k,
				     struct tdm_nat_entry *e,
				     const struct tdm_meta *pm, __u64 now)
{
	__u64 to;

	__sync_fetch_and_add(&e->packets, 1);
	__sync_fetch_and_add(&e->bytes, pm->pkt_len);
	if (k->proto == IPPROTO_TCP && (pm->tcp_flags & NAT_TCP_FIN))
		e->fin = 1;
	to = nat_timeout(k->proto, pm->tcp_flags, e);
	/*
	 * A RST shortens this way's entry only: the binding lives while
	 * the other way's does. A blind RST from outside (no sequence
	 * check here) cannot end an idle binding.
	 */
	e->expires = now + to * NAT_NSEC;
}

/*
 * A new binding's first-way entry for the packet of tuple k, its new
 * tuple still k's (the caller changes it), and its reply entry's
 * common fields: timeouts from now, the packet counted.
 */
static __always_inline void nat_bind_init(struct tdm_nat_scratch *sc,
					  const struct tdm_meta *pm, __u64 now)
{
	const struct tdm_nat_key *k = &sc->k;
	struct tdm_nat_entry *e = &sc->fresh, *r = &sc->r;

	__builtin_memset(e, 0, sizeof(*e));
	e->saddr = k->saddr;
	e->daddr = k->daddr;
	e->sport = k->sport;
	e->dport = k->dport;
	e->expires = now + (k->proto == IPPROTO_UDP ? TDM_NAT_TO_UDP_FIRST :
			    nat_timeout(k->proto, pm->tcp_flags, e)) * NAT_NSEC;
	e->packets = 1;
	e->bytes = pm->pkt_len;
	__builtin_memset(r, 0, sizeof(*r));
	r->expires = e->expires;
	r->dir = 1;
	/* the reply becomes the reverse of the packet's tuple */
	r->saddr = k->daddr;
	r->daddr = k->saddr;
	r->sport = k->dport;
	r->dport = k->sport;
}

/*
 * Try to bind sc->k to sc->fresh's tuple: the reply entry first, added
 * only if no live binding has that tuple (BPF_NOEXIST claims a port
 * between CPUs), then the packet's own. true if bound.
 */
static __always_inline bool nat_bind_try(struct tdm_nat_scratch *sc,
					 void *tab, __u64 now)
{
	struct tdm_nat_entry *old;

	nat_peer_key(&sc->rk, &sc->k, &sc->fresh);
	if (bpf_map_update_elem(tab, &sc->rk, &sc->r, BPF_NOEXIST)) {
		old = bpf_map_lookup_elem(tab, &sc->rk);
		if (!old || nat_alive(tab, &sc->rk, old, now) ||
		    bpf_map_update_elem(tab, &sc->rk, &sc->r, BPF_ANY))
			return false;
	}
	bpf_map_update_elem(tab, &sc->k, &sc->fresh, BPF_ANY);
	return true;
}

/*
 * Will the kernel find the packet's TTL (hop limit) spent? It would
 * answer with an ICMP error quoting the translated packet, which no XDP
 * hook sees leave: a dnat's inside address would reach the outside.
 */
static __always_inline bool nat_ttl_expires(struct xdp_md *ctx,
					    const struct tdm_meta *pm)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *ttl = data + (pm->l3_off & NAT_OFF_MASK) +
		    (pm->flags & TDM_F_IPV4 ? 8 : 7);

	return (void *)(ttl + 1) <= end && *ttl <= 1;
}

/* Put the packet's new tuple into the metadata, for the NFs after */
static __always_inline void nat_meta(struct tdm_meta *pm,
				     const struct tdm_nat_entry *e)
{
	pm->saddr = e->saddr;
	pm->daddr = e->daddr;
	if (pm->l4_proto == IPPROTO_ICMP || pm->l4_proto == IPPROTO_ICMPV6) {
		pm->icmp_id = e->sport;
	} else if (nat_has_ports(pm->l4_proto)) {
		pm->sport = e->sport;
		pm->dport = e->dport;
	}
}

/*
 * A later fragment: rewritten as its first fragment was (addresses
 * only; the L4 checksum was updated in the first). NF_CONTINUE when
 * done, NAT_FRAG_UNSEEN when no first fragment of nf_id's was
 * translated, or a drop reason.
 */
#define NAT_FRAG_UNSEEN	(-2)

/* The live record of a later fragment's datagram in NF nf_id, or NULL */
static __always_inline struct tdm_nat_frag *
nat_frag_find(const struct tdm_meta *pm, __u32 nf_id, __u64 now)
{
	__u8 family = pm->flags & TDM_F_IPV4 ? 4 : 6;
	struct tdm_nat_frag_key fk = {};
	struct tdm_nat_frag *f;

	fk.nf_id = nf_id;
	fk.id = pm->frag_id;
	fk.family = family;
	/* RFC 8200's fragment identity has no protocol: a later
	 * fragment's next header is the fragmentable part's first */
	fk.proto = family == 4 ? pm->l4_proto : 0;
	fk.saddr = pm->saddr;
	fk.daddr = pm->daddr;
	f = bpf_map_lookup_elem(&tdm_nat_frags, &fk);
	return f && f->expires > now ? f : NULL;
}

static __noinline int nat_frag_follow(struct xdp_md *ctx, struct tdm_meta *pm,
				      __u32 nf_id, __u64 now)
{
	__u8 family = pm->flags & TDM_F_IPV4 ? 4 : 6;
	struct tdm_nat_frag *f = nat_frag_find(pm, nf_id, now);
	int ret;

	if (!f)
		return NAT_FRAG_UNSEEN;
	ret = nat_rewrite((void *)(long)ctx->data, (void *)(long)ctx->data_end,
			  pm->l3_off, 0, family, pm->l4_proto, &f->saddr,
			  &f->daddr, 0, 0, NULL);
	if (ret)
		return ret;
	pm->saddr = f->saddr;
	pm->daddr = f->daddr;
	return NF_CONTINUE;
}

static __noinline void nat_frag_first(const struct tdm_meta *pm,
					   const struct tdm_nat_key *k,
					   const struct tdm_nat_entry *e,
					   __u32 nf_id, __u64 now)
{
	struct tdm_nat_frag_key fk = {};
	struct tdm_nat_frag f = {};

	fk.nf_id = nf_id;
	fk.id = pm->frag_id;
	fk.family = k->family;
	fk.proto = k->family == 4 ? k->proto : 0;
	fk.saddr = k->saddr;
	fk.daddr = k->daddr;
	f.expires = now + TDM_NAT_TO_FRAG * NAT_NSEC;
	f.saddr = e->saddr;
	f.daddr = e->daddr;
	bpf_map_update_elem(&tdm_nat_frags, &fk, &f, BPF_ANY);
}

/*
 * An ICMP error about a packet that went the other way: its quote is
 * that packet, whose reply is this error's way, so the quote reversed
 * is the key of the entry for this way. The quote becomes the other
 * way's new tuple (e's, reversed); the outer header gets e's change of
 * source or destination, as the kernel's nf_nat_icmp_reply_translation().
 */
#define NAT_ICMP_UNBOUND	(-3)	/* nat_icmp_error(): the quote is no binding's */

static __noinline int nat_icmp_error(struct xdp_md *ctx, struct tdm_meta *pm,
				     __u32 nf_id, __u8 family, __u64 now)
{
	void *tab = bpf_map_lookup_elem(&tdm_nat_tables, &nf_id);
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct tdm_addr os = pm->saddr, od = pm->daddr;
	struct tdm_nat_entry *e;
	struct tdm_nat_key k;
	__u32 l4 = pm->l4_off & NAT_OFF_MASK, il3, il4;
	__u64 acc = 0;
	__u16 *csum;
	int ret;

	if (!tab)
		return NF_CONTINUE;
	nat_key(&k, family, pm->inner_proto, &pm->inner_daddr,
		&pm->inner_saddr, pm->inner_dport, pm->inner_sport);
	e = bpf_map_lookup_elem(tab, &k);
	if (!e || !nat_alive(tab, &k, e, now))
		return NAT_ICMP_UNBOUND;
	il3 = l4 + 8;
	il4 = il3 + (pm->inner_hlen & 0x3f);
	/* the quote, with every checksum in it */
	ret = nat_rewrite(data, end, il3, il4, family, pm->inner_proto,
			  &e->daddr, &e->saddr, e->dport, e->sport, &acc);
	if (ret)
		return ret;
	/* the outer header: e's change, and ICMPv6's pseudo-header */
	if (!nat_addr_eq(&e->saddr, &k.saddr))
		os = e->saddr;
	if (!nat_addr_eq(&e->daddr, &k.daddr))
		od = e->daddr;
	if (family == 6) {
		acc = nat_csum_words(acc, pm->saddr.w, os.w, 4);
		acc = nat_csum_words(acc, pm->daddr.w, od.w, 4);
	}
	ret = nat_rewrite(data, end, pm->l3_off, 0, family, pm->l4_proto,
			  &os, &od, 0, 0, NULL);
	if (ret)
		return ret;
	csum = data + l4 + 2;
	if ((void *)(csum + 1) > end)
		return TDM_NAT_DROP_TRUNC;
	*csum = nat_csum_apply(*csum, acc);
	__sync_fetch_and_add(&e->packets, 1);
	__sync_fetch_and_add(&e->bytes, pm->pkt_len);
	pm->saddr = os;
	pm->daddr = od;
	pm->inner_saddr = e->daddr;
	pm->inner_daddr = e->saddr;
	pm->inner_sport = e->dport;
	pm->inner_dport = e->sport;
	return NF_CONTINUE;
}

#endif /* TANDEM_BPF_NAT_H */
