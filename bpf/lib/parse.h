/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one packet parser of tandem. The entry program calls tdm_parse() once
 * per packet; every NF reads the resulting struct tdm_meta and never looks
 * at headers again.
 *
 * Parsing never fails: what could not be read is flagged (TDM_F_TRUNC,
 * TDM_F_BAD) and the fields stay zero, so steering and NFs still see a
 * consistent, if partial, view of the packet. A packet whose rule-relevant
 * fields tandem cannot see the way the kernel's stack will (the L3
 * header, or the ports or ICMP type of a packet or first fragment) is
 * also TDM_F_UNPARSED: no rule that names a field it lacks can match it,
 * and a firewall gives it its own verdict, never the rules'.
 */
#ifndef TANDEM_BPF_PARSE_H
#define TANDEM_BPF_PARSE_H

#include "common.h"

/*
 * The context the parser reads: XDP's, or a TC program's (struct
 * __sk_buff has data, data_end and ingress_ifindex too), which defines
 * it before including this header.
 */
#ifndef TDM_PARSE_CTX
#define TDM_PARSE_CTX struct xdp_md
#endif

/*
 * Where the parser is. end is data_end, which the verifier knows; limit
 * is the end of what the next header may use, as an offset from data:
 * the frame at first, then the IP datagram, whose total or payload
 * length cuts off Ethernet padding and trailing bytes as the kernel does
 * (pskb_trim_rcsum() in ip_rcv_core() and ipv6_rcv()).
 */
struct tdm_cursor {
	void *pos;
	void *data;
	void *end;
	__u32 limit;
};

static __always_inline __u32 tdm_off(const struct tdm_cursor *c)
{
	return (__u32)(c->pos - c->data);
}

/*
 * True if [pos, pos + len) lies inside the frame (for the verifier) and
 * inside the datagram (for the meaning).
 */
#define tdm_has(c, len)							\
	((c)->pos + (len) <= (c)->end && tdm_off(c) + (len) <= (c)->limit)

/* What could not be parsed: the packet is TDM_F_UNPARSED too. */
static __always_inline void tdm_give_up(struct tdm_meta *m, __u32 why)
{
	m->flags |= why | TDM_F_UNPARSED;
}

static __always_inline void tdm_addr_from_v4(struct tdm_addr *a, __be32 v4)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = bpf_htonl(0x0000ffff);
	a->w[3] = v4;
}

static __always_inline bool tdm_addr_v4_mapped(const struct tdm_addr *a)
{
	return !a->w[0] && !a->w[1] && a->w[2] == bpf_htonl(0x0000ffff);
}

static __always_inline void tdm_addr_from_v6(struct tdm_addr *a,
					     const struct in6_addr *v6)
{
	a->w[0] = v6->in6_u.u6_addr32[0];
	a->w[1] = v6->in6_u.u6_addr32[1];
	a->w[2] = v6->in6_u.u6_addr32[2];
	a->w[3] = v6->in6_u.u6_addr32[3];
}

static __always_inline bool tdm_eth_is_vlan(__u16 proto)
{
	return proto == ETH_P_8021Q || proto == ETH_P_8021AD;
}

/*
 * Ethernet and up to TDM_MAX_VLAN tags (802.1Q or 802.1ad, in any
 * order, as the kernel accepts them); returns the L3 ethertype, or 0
 * when it cannot be known (then the packet is TDM_F_UNPARSED: it may
 * be IP).
 */
static __always_inline __u16 tdm_parse_eth(struct tdm_cursor *c,
					   struct tdm_meta *m)
{
	struct ethhdr *eth = c->pos;
	__u16 proto;
	int i;

	if (!tdm_has(c, sizeof(*eth))) {
		tdm_give_up(m, TDM_F_TRUNC);
		return 0;
	}
	proto = bpf_ntohs(eth->h_proto);
	c->pos += sizeof(*eth);

#pragma unroll
	for (i = 0; i < TDM_MAX_VLAN; i++) {
		struct vlan_hdr *vh = c->pos;

		if (!tdm_eth_is_vlan(proto))
			break;
		if (!tdm_has(c, sizeof(*vh))) {
			tdm_give_up(m, TDM_F_TRUNC);
			return 0;
		}
		if (i < 2)
			m->vlan_id[i] = bpf_ntohs(vh->h_vlan_TCI) & 0x0fff;
		m->vlan_depth = i + 1;
		m->flags |= TDM_F_VLAN;
		proto = bpf_ntohs(vh->h_vlan_encapsulated_proto);
		c->pos += sizeof(*vh);
	}
	if (tdm_eth_is_vlan(proto)) {
		/* more tags than we follow: what is behind may be IP */
		m->flags |= TDM_F_UNPARSED;
		return 0;
	}
	m->l3_off = tdm_off(c);
	m->l3_proto = proto;
	return proto;
}

#define TDM_IPOPT_END		0
#define TDM_IPOPT_NOOP		1
#define TDM_IPOPT_LSRR		0x83
#define TDM_IPOPT_SSRR		0x89
#define TDM_IPOPT_MAX		40	/* bytes of options at most */

/* Where tdm_ipv4_srr()'s walk is: option bytes [at, end) of the packet. */
struct tdm_srr_walk {
	TDM_PARSE_CTX *ctx;
	__u32 at;
	__u32 end;
	int ret;
};

/* One option of the walk; 1 ends it. */
static long tdm_srr_step(__u32 k, void *arg)
{
	struct tdm_srr_walk *w = arg;
	void *data = (void *)(long)w->ctx->data;
	void *end = (void *)(long)w->ctx->data_end;
	__u32 at = w->at;
	__u8 *p, type, len;

	if (at >= w->end)
		return 1;
	/* at: inside a header that ends at most 256 + 60 bytes in */
	if (at > 512)
		goto broken;
	p = data + at;
	if ((void *)(p + 2) > end)
		goto broken;
	type = p[0];
	if (type == TDM_IPOPT_END)
		return 1;
	if (type == TDM_IPOPT_NOOP) {
		w->at = at + 1;
		return 0;
	}
	len = p[1];
	if (len < 2 || type == TDM_IPOPT_LSRR || type == TDM_IPOPT_SSRR)
		goto broken;
	w->at = at + len;
	return 0;
broken:
	w->ret = 1;
	return 1;
}

/*
 * Does the IPv4 header at offset off (hlen bytes) carry a source route
 * (LSRR, SSRR), or options too broken to walk? With accept_source_route
 * on, ip_options_rcv_srr() delivers the packet to the route's next hop
 * when that is a local address: the destination the rules would see is
 * not the one the stack uses. 1 if so, else 0.
 *
 * The walk of up to 40 option bytes is a bpf_loop() (kernel 5.17): its
 * step is verified once. As an unrolled or bounded loop, each offset it
 * could reach was a state of its own, 130,000 instructions processed.
 */
static __always_inline int tdm_ipv4_srr(TDM_PARSE_CTX *ctx, __u32 off,
					__u32 hlen)
{
	struct tdm_srr_walk w = {
		.ctx = ctx,
		.at = off + sizeof(struct iphdr),
		.end = off + hlen,
	};

	if (hlen > 60)
		return 1;
	/* options have 1 byte at least: 40 steps walk them all */
	if (bpf_loop(TDM_IPOPT_MAX, tdm_srr_step, &w, 0) < 0)
		return 1;
	return w.ret;
}

/*
 * IPv4 header with options; returns the L4 protocol if an L4 header
 * follows in this packet (not a later fragment), else 0. The datagram
 * is what the kernel keeps of it: total length bytes, no more; one that
 * claims more than the frame holds, or less than its header, is dropped
 * by ip_rcv_core() and flagged here.
 */
static __always_inline __u8 tdm_parse_ipv4(TDM_PARSE_CTX *ctx,
					   struct tdm_cursor *c,
					   struct tdm_meta *m)
{
	struct iphdr *iph = c->pos;
	__u32 hlen, tot;

	if (!tdm_has(c, sizeof(*iph))) {
		tdm_give_up(m, TDM_F_TRUNC);
		return 0;
	}
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (iph->version != 4 || hlen < sizeof(*iph) || tot < hlen) {
		tdm_give_up(m, TDM_F_BAD);
		return 0;
	}
	if (tdm_off(c) + tot > c->limit) {
		tdm_give_up(m, TDM_F_TRUNC);
		return 0;
	}
	c->limit = tdm_off(c) + tot;
	if (c->pos + hlen > c->end) {	/* not reached: for the verifier */
		tdm_give_up(m, TDM_F_TRUNC);
		return 0;
	}
	m->flags |= TDM_F_IPV4;
	if (hlen > sizeof(*iph)) {
		m->flags |= TDM_F_IP_OPTS;
		/* the stack may deliver it to another address than daddr */
		if (tdm_ipv4_srr(ctx, tdm_off(c), hlen)) {
			tdm_addr_from_v4(&m->saddr, iph->saddr);
			tdm_addr_from_v4(&m->daddr, iph->daddr);
			m->flags |= TDM_F_UNPARSED;
			return 0;
		}
	}
	tdm_addr_from_v4(&m->saddr, iph->saddr);
	tdm_addr_from_v4(&m->daddr, iph->daddr);
	m->l4_proto = iph->protocol;
	c->pos += hlen;

	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
		m->flags |= TDM_F_FRAG;
		m->frag_id = bpf_ntohs(iph->id);
		if (iph->frag_off & bpf_htons(IP_OFFSET)) {
			m->flags |= TDM_F_FRAG_LATER;
			return 0;
		}
	}
	return iph->protocol;
}

static __always_inline bool tdm_ipv6_is_ext(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_AH ||
	       nexthdr == IPPROTO_FRAGMENT;
}

/*
 * IPv6 and up to TDM_MAX_EXTHDR extension headers; returns the
 * upper-layer protocol if its header follows in this packet, else 0.
 * The datagram ends where the payload length says (ipv6_rcv() trims the
 * rest), except for a payload length of 0 before a hop-by-hop header:
 * ipv6_rcv() then keeps the whole frame (a jumbogram's length would come
 * from its option, which ipv6_hop_jumbo() refuses below 64 KiB; without
 * the option the packet is delivered as it is). A routing header with
 * segments left may send the packet on, or, for SRv6 and RPL where
 * enabled, deliver it to another address than daddr: unparsed.
 */
static __always_inline __u8 tdm_parse_ipv6(struct tdm_cursor *c,
					   struct tdm_meta *m)
{
	struct ipv6hdr *ip6h = c->pos;
	__u32 plen;
	__u8 nexthdr;
	int i;

	if (!tdm_has(c, sizeof(*ip6h))) {
		tdm_give_up(m, TDM_F_TRUNC);
		return 0;
	}
	if (ip6h->version != 6) {
		tdm_give_up(m, TDM_F_BAD);
		return 0;
	}
	plen = bpf_ntohs(ip6h->payload_len);
	if (tdm_off(c) + sizeof(*ip6h) + plen > c->limit) {
		tdm_give_up(m, TDM_F_TRUNC);
		return 0;
	}
	if (plen || ip6h->nexthdr != IPPROTO_HOPOPTS)
		c->limit = tdm_off(c) + sizeof(*ip6h) + plen;
	m->flags |= TDM_F_IPV6;
	tdm_addr_from_v6(&m->saddr, &ip6h->saddr);
	tdm_addr_from_v6(&m->daddr, &ip6h->daddr);
	/*
	 * An IPv4-mapped address (::ffff:0:0/96) must not be on the wire
	 * (RFC 4291 section 2.5.5.2), yet a dual-stack socket takes such a
	 * packet as if from the IPv4 peer, which an IPv4 rule never sees:
	 * it is unparsed, and a firewall drops it unless told otherwise.
	 */
	if (tdm_addr_v4_mapped(&m->saddr) || tdm_addr_v4_mapped(&m->daddr))
		m->flags |= TDM_F_UNPARSED;
	nexthdr = ip6h->nexthdr;
	c->pos += sizeof(*ip6h);

#pragma unroll
	for (i = 0; i < TDM_MAX_EXTHDR; i++) {
		struct ipv6_opt_hdr *oh = c->pos;
		struct frag_hdr *fh = c->pos;

		switch (nexthdr) {
		case IPPROTO_ROUTING:
			/* type, then segments left: 0 means this host */
			if (!tdm_has(c, 4)) {
				tdm_give_up(m, TDM_F_TRUNC);
				return 0;
			}
			if (((__u8 *)c->pos)[3]) {
				m->flags |= TDM_F_EXTHDR | TDM_F_UNPARSED;
				return 0;
			}
			/* fall through */
		case IPPROTO_HOPOPTS:
		case IPPROTO_DSTOPTS:
			if (!tdm_has(c, sizeof(*oh))) {
				tdm_give_up(m, TDM_F_TRUNC);
				return 0;
			}
			m->flags |= TDM_F_EXTHDR;
			nexthdr = oh->nexthdr;
			c->pos += (oh->hdrlen + 1) * 8;
			break;
		case IPPROTO_AH:
			if (!tdm_has(c, sizeof(*oh))) {
				tdm_give_up(m, TDM_F_TRUNC);
				return 0;
			}
			m->flags |= TDM_F_EXTHDR;
			nexthdr = oh->nexthdr;
			c->pos += (oh->hdrlen + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if (!tdm_has(c, sizeof(*fh))) {
				tdm_give_up(m, TDM_F_TRUNC);
				return 0;
			}
			m->flags |= TDM_F_EXTHDR | TDM_F_FRAG;
			m->frag_id = bpf_ntohl(fh->identification);
			nexthdr = fh->nexthdr;
			c->pos += sizeof(*fh);
			if (fh->frag_off & bpf_htons(IP6_OFFSET)) {
				m->l4_proto = nexthdr;
				m->flags |= TDM_F_FRAG_LATER;
				return 0;
			}
			break;
		default:
			goto out;
		}
	}
	if (tdm_ipv6_is_ext(nexthdr)) {
		/* more extension headers than we follow */
		m->flags |= TDM_F_UNPARSED;
		return 0;
	}
out:
	/* the last extension header claims more than the datagram has */
	if (c->pos > c->end || tdm_off(c) > c->limit) {
		tdm_give_up(m, TDM_F_TRUNC);
		return 0;
	}
	m->l4_proto = nexthdr;
	return nexthdr;
}

/* The source and destination ports, the first 4 bytes of the header. */
static __always_inline bool tdm_parse_ports(struct tdm_cursor *c,
					    struct tdm_meta *m)
{
	__be16 *ports = c->pos;

	if (!tdm_has(c, 4))
		return false;
	m->sport = bpf_ntohs(ports[0]);
	m->dport = bpf_ntohs(ports[1]);
	return true;
}

/*
 * The quoted packet of an ICMP error at c (its header is 8 bytes): its
 * addresses, protocol and the first 4 bytes of its L4 header (ports; an
 * echo's identifier). What is missing (a quote cut short, IPv6
 * extension headers) leaves TDM_F_ICMP_ERR unset: connection tracking
 * then finds no flow for it.
 */
static __always_inline void tdm_parse_icmp_inner(struct tdm_cursor *c,
						 struct tdm_meta *m)
{
	struct tdm_cursor ic = *c;
	__u32 hlen;
	__u8 *l4;
	__u8 proto;

	ic.pos += 8;
	if (m->flags & TDM_F_IPV4) {
		struct iphdr *iph = ic.pos;

		if (!tdm_has(&ic, sizeof(*iph)) || iph->version != 4)
			return;
		hlen = (iph->ihl & 0xf) * 4;
		if (hlen < sizeof(*iph))
			return;
		tdm_addr_from_v4(&m->inner_saddr, iph->saddr);
		tdm_addr_from_v4(&m->inner_daddr, iph->daddr);
		proto = iph->protocol;
		ic.pos += hlen;
	} else {
		struct ipv6hdr *ip6h = ic.pos;

		if (!tdm_has(&ic, sizeof(*ip6h)) || ip6h->version != 6)
			return;
		tdm_addr_from_v6(&m->inner_saddr, &ip6h->saddr);
		tdm_addr_from_v6(&m->inner_daddr, &ip6h->daddr);
		proto = ip6h->nexthdr;
		hlen = sizeof(*ip6h);
		ic.pos += hlen;
	}
	l4 = ic.pos;
	if (!tdm_has(&ic, 8))
		return;
	m->inner_proto = proto;
	m->inner_hlen = hlen;
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		if (!tdm_icmp_is_echo(proto, l4[0]))
			return;
		m->inner_sport = bpf_ntohs(*(__be16 *)(l4 + 4));
		m->inner_dport = m->inner_sport;
	} else {
		m->inner_sport = bpf_ntohs(*(__be16 *)l4);
		m->inner_dport = bpf_ntohs(*(__be16 *)(l4 + 2));
	}
	m->flags |= TDM_F_ICMP_ERR;
}

/*
 * The L4 fields rules read: ports of TCP, UDP and SCTP, type and code
 * of ICMP, from the header's first bytes wherever they are, as in a
 * first fragment too short for the whole header (RFC 1858 section 3.2:
 * a fragment may cut the header anywhere; the kernel reassembles it).
 * A packet or first fragment whose datagram cannot hold them is
 * TDM_F_UNPARSED: the rules cannot see what the stack would. A whole
 * (unfragmented) packet with a short header is TDM_F_TRUNC too: the
 * stack drops it, but its ports were read and rules meet it.
 */
static __always_inline void tdm_parse_l4(struct tdm_cursor *c,
					 struct tdm_meta *m, __u8 proto)
{
	bool frag = m->flags & TDM_F_FRAG;

	m->l4_off = tdm_off(c);

	switch (proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = c->pos;

		if (!tdm_parse_ports(c, m))
			goto unparsed;
		if (tdm_has(c, sizeof(*th))) {
			if (th->doff < 5)
				m->flags |= TDM_F_BAD;
			m->tcp_flags = ((__u8 *)th)[13];
			m->tcp_seq = bpf_ntohl(th->seq);
			m->tcp_ack = bpf_ntohl(th->ack_seq);
		} else if (!frag) {
			m->flags |= TDM_F_TRUNC;
		}
		break;
	}
	case IPPROTO_UDP:
		if (!tdm_parse_ports(c, m))
			goto unparsed;
		if (!frag && !tdm_has(c, sizeof(struct udphdr)))
			m->flags |= TDM_F_TRUNC;
		break;
	case IPPROTO_SCTP:
		/* the common header: ports, tag, checksum */
		if (!tdm_parse_ports(c, m))
			goto unparsed;
		if (!frag && !tdm_has(c, 12))
			m->flags |= TDM_F_TRUNC;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		/* type and code; ports stay 0 */
		__u8 *ih = c->pos;

		if (!tdm_has(c, 2))
			goto unparsed;
		m->icmp_type = ih[0];
		m->icmp_code = ih[1];
		if (!tdm_has(c, 8)) {
			if (!frag)
				m->flags |= TDM_F_TRUNC;
			break;
		}
		if (tdm_icmp_is_echo(proto, ih[0]))
			m->icmp_id = bpf_ntohs(*(__be16 *)(ih + 4));
		else if (tdm_icmp_is_error(proto, ih[0]))
			tdm_parse_icmp_inner(c, m);
		break;
	}
	default:
		return;
	}
	m->flags |= TDM_F_L4;
	return;
unparsed:
	tdm_give_up(m, TDM_F_TRUNC);
}

/*
 * The parser's joints: the cursor's offset, written to m by the part
 * before and read back from memory by the part after (READ_ONCE: the
 * compiler must not pass on the value it wrote). A value read from a
 * map is unknown to the verifier (the entry's metadata is a map value;
 * the TC egress program's is on its stack, where the verifier tracks
 * only 8-byte aligned spills, and l3_off and l4_off are not: should a
 * kernel track them, that program only verifies slower), so every way
 * of reaching a joint (each count of VLAN tags, each chain of IPv6
 * extension headers) leaves the same state there, and the verifier
 * checks what follows once; carried in a register, each offset was a
 * state of its own, and the entry program took 690,000 instructions to
 * verify (0.8 s an attach here, seconds in a TCG guest). Global functions would do the same, at the
 * price of a call and a return per packet, about 9 ns each on a CPU
 * with return-thunk mitigations (AMD's SRSO "Safe RET").
 *
 * Returns a cursor at the offset read back, or false when it lies past
 * 32 KiB (the verifier's packet offsets end at 64 KiB; no XDP frame has
 * a header there): the packet is unparsed.
 */
static __always_inline bool tdm_joint(TDM_PARSE_CTX *ctx, struct tdm_meta *m,
				      const __u16 *off, struct tdm_cursor *c)
{
	__u32 o = READ_ONCE(*off);

	if (o > 0x7fff) {
		tdm_give_up(m, TDM_F_TRUNC);
		return false;
	}
	/*
	 * the mask for the verifier, which may not see the test above
	 * (the compiler may test a copy); the asm keeps the compiler from
	 * dropping it as implied
	 */
	asm volatile("" : "+r"(o));
	c->data = (void *)(long)ctx->data;
	c->end = (void *)(long)ctx->data_end;
	c->pos = c->data + (o & 0x7fff);
	return true;
}

/* Fill *m from the packet in ctx. */
static __always_inline void tdm_parse(TDM_PARSE_CTX *ctx, struct tdm_meta *m)
{
	struct tdm_cursor c = {
		.data = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	__u16 l3;
	__u8 l4 = 0;

	__builtin_memset(m, 0, sizeof(*m));
	c.pos = c.data;
	m->pkt_len = c.end - c.data;
	c.limit = m->pkt_len;
	m->ifindex = ctx->ingress_ifindex;

	l3 = tdm_parse_eth(&c, m);		/* sets m->l3_off */
	if (l3 != ETH_P_IP && l3 != ETH_P_IPV6)
		return;
	if (!tdm_joint(ctx, m, &m->l3_off, &c))
		return;
	if (l3 == ETH_P_IP)
		l4 = tdm_parse_ipv4(ctx, &c, m);
	else
		l4 = tdm_parse_ipv6(&c, m);
	if (!l4)
		return;
	m->l4_off = tdm_off(&c);
	if (tdm_joint(ctx, m, &m->l4_off, &c))
		tdm_parse_l4(&c, m, l4);
}

#endif /* TANDEM_BPF_PARSE_H */
