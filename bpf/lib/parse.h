/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one packet parser of tandem. The entry program calls tdm_parse() once
 * per packet; every NF reads the resulting struct tdm_meta and never looks
 * at headers again.
 *
 * Parsing never fails: what could not be read is flagged (TDM_F_TRUNC,
 * TDM_F_BAD) and the fields stay zero, so steering and NFs still see a
 * consistent, if partial, view of the packet.
 */
#ifndef TANDEM_BPF_PARSE_H
#define TANDEM_BPF_PARSE_H

#include "common.h"

#define TDM_MAX_VLAN		2
#define TDM_MAX_EXTHDR		6

struct tdm_cursor {
	void *pos;
	void *data;
	void *end;
};

/* True if [pos, pos + len) lies inside the packet. */
#define tdm_has(c, len)		((c)->pos + (len) <= (c)->end)

static __always_inline __u16 tdm_off(struct tdm_cursor *c)
{
	return (__u16)(c->pos - c->data);
}

static __always_inline void tdm_addr_from_v4(struct tdm_addr *a, __be32 v4)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = bpf_htonl(0x0000ffff);
	a->w[3] = v4;
}

static __always_inline void tdm_addr_from_v6(struct tdm_addr *a,
					     const struct in6_addr *v6)
{
	a->w[0] = v6->in6_u.u6_addr32[0];
	a->w[1] = v6->in6_u.u6_addr32[1];
	a->w[2] = v6->in6_u.u6_addr32[2];
	a->w[3] = v6->in6_u.u6_addr32[3];
}

/* Ethernet and up to two VLAN tags; returns the L3 ethertype or 0. */
static __always_inline __u16 tdm_parse_eth(struct tdm_cursor *c,
					   struct tdm_meta *m)
{
	struct ethhdr *eth = c->pos;
	__u16 proto;
	int i;

	if (!tdm_has(c, sizeof(*eth))) {
		m->flags |= TDM_F_TRUNC;
		return 0;
	}
	proto = bpf_ntohs(eth->h_proto);
	c->pos += sizeof(*eth);

#pragma unroll
	for (i = 0; i < TDM_MAX_VLAN; i++) {
		struct vlan_hdr *vh = c->pos;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if (!tdm_has(c, sizeof(*vh))) {
			m->flags |= TDM_F_TRUNC;
			return 0;
		}
		m->vlan_id[i] = bpf_ntohs(vh->h_vlan_TCI) & 0x0fff;
		m->vlan_depth = i + 1;
		m->flags |= TDM_F_VLAN;
		proto = bpf_ntohs(vh->h_vlan_encapsulated_proto);
		c->pos += sizeof(*vh);
	}
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		/* a third tag: we do not look further */
		m->flags |= TDM_F_BAD;
		return 0;
	}
	m->l3_off = tdm_off(c);
	m->l3_proto = proto;
	return proto;
}

/* IPv4 header with options; returns the L4 protocol or 0 if none follows. */
static __always_inline __u8 tdm_parse_ipv4(struct tdm_cursor *c,
					   struct tdm_meta *m)
{
	struct iphdr *iph = c->pos;
	__u32 hlen;

	if (!tdm_has(c, sizeof(*iph))) {
		m->flags |= TDM_F_TRUNC;
		return 0;
	}
	if (iph->version != 4 || iph->ihl < 5) {
		m->flags |= TDM_F_BAD;
		return 0;
	}
	hlen = iph->ihl * 4;
	if (c->pos + hlen > c->end) {
		m->flags |= TDM_F_TRUNC;
		return 0;
	}
	m->flags |= TDM_F_IPV4;
	if (hlen > sizeof(*iph))
		m->flags |= TDM_F_IP_OPTS;
	tdm_addr_from_v4(&m->saddr, iph->saddr);
	tdm_addr_from_v4(&m->daddr, iph->daddr);
	m->l4_proto = iph->protocol;
	c->pos += hlen;

	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
		m->flags |= TDM_F_FRAG;
		if (iph->frag_off & bpf_htons(IP_OFFSET)) {
			m->flags |= TDM_F_FRAG_LATER;
			return 0;
		}
	}
	return iph->protocol;
}

/* IPv6 and its extension headers; returns the upper-layer protocol or 0. */
static __always_inline __u8 tdm_parse_ipv6(struct tdm_cursor *c,
					   struct tdm_meta *m)
{
	struct ipv6hdr *ip6h = c->pos;
	__u8 nexthdr;
	int i;

	if (!tdm_has(c, sizeof(*ip6h))) {
		m->flags |= TDM_F_TRUNC;
		return 0;
	}
	if (ip6h->version != 6) {
		m->flags |= TDM_F_BAD;
		return 0;
	}
	m->flags |= TDM_F_IPV6;
	tdm_addr_from_v6(&m->saddr, &ip6h->saddr);
	tdm_addr_from_v6(&m->daddr, &ip6h->daddr);
	nexthdr = ip6h->nexthdr;
	c->pos += sizeof(*ip6h);

#pragma unroll
	for (i = 0; i < TDM_MAX_EXTHDR; i++) {
		struct ipv6_opt_hdr *oh = c->pos;
		struct frag_hdr *fh = c->pos;

		switch (nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (!tdm_has(c, sizeof(*oh))) {
				m->flags |= TDM_F_TRUNC;
				return 0;
			}
			m->flags |= TDM_F_EXTHDR;
			nexthdr = oh->nexthdr;
			c->pos += (oh->hdrlen + 1) * 8;
			break;
		case IPPROTO_AH:
			if (!tdm_has(c, sizeof(*oh))) {
				m->flags |= TDM_F_TRUNC;
				return 0;
			}
			m->flags |= TDM_F_EXTHDR;
			nexthdr = oh->nexthdr;
			c->pos += (oh->hdrlen + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if (!tdm_has(c, sizeof(*fh))) {
				m->flags |= TDM_F_TRUNC;
				return 0;
			}
			m->flags |= TDM_F_EXTHDR | TDM_F_FRAG;
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
	/* more extension headers than we follow */
	if (nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	    nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_AH ||
	    nexthdr == IPPROTO_FRAGMENT) {
		m->flags |= TDM_F_BAD;
		return 0;
	}
out:
	if (c->pos > c->end) {
		m->flags |= TDM_F_TRUNC;
		return 0;
	}
	m->l4_proto = nexthdr;
	return nexthdr;
}

static __always_inline void tdm_parse_l4(struct tdm_cursor *c,
					 struct tdm_meta *m, __u8 proto)
{
	m->l4_off = tdm_off(c);

	switch (proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = c->pos;

		if (!tdm_has(c, sizeof(*th))) {
			m->flags |= TDM_F_TRUNC;
			return;
		}
		if (th->doff < 5) {
			m->flags |= TDM_F_BAD;
			return;
		}
		m->sport = bpf_ntohs(th->source);
		m->dport = bpf_ntohs(th->dest);
		break;
	}
	case IPPROTO_UDP:
	case IPPROTO_SCTP: {
		/* both start with source and destination port */
		struct udphdr *uh = c->pos;

		if (!tdm_has(c, sizeof(*uh))) {
			m->flags |= TDM_F_TRUNC;
			return;
		}
		m->sport = bpf_ntohs(uh->source);
		m->dport = bpf_ntohs(uh->dest);
		break;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		/* type and code; ports stay 0 */
		__u8 *ih = c->pos;

		if (!tdm_has(c, 4)) {
			m->flags |= TDM_F_TRUNC;
			return;
		}
		m->icmp_type = ih[0];
		m->icmp_code = ih[1];
		break;
	}
	default:
		return;
	}
	m->flags |= TDM_F_L4;
}

/* A cheap mix of the 5-tuple; the same flow always gets the same hash. */
static __always_inline __u32 tdm_flow_hash(const struct tdm_meta *m)
{
	__u32 h = 0x9e3779b9 ^ m->l4_proto;
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		h ^= m->saddr.w[i];
		h *= 0x85ebca6b;
		h ^= m->daddr.w[i];
		h = (h << 13) | (h >> 19);
	}
	h ^= ((__u32)m->sport << 16) | m->dport;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* Fill *m from the packet in ctx. */
static __always_inline void tdm_parse(struct xdp_md *ctx, struct tdm_meta *m)
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
	m->ifindex = ctx->ingress_ifindex;

	l3 = tdm_parse_eth(&c, m);
	if (l3 == ETH_P_IP)
		l4 = tdm_parse_ipv4(&c, m);
	else if (l3 == ETH_P_IPV6)
		l4 = tdm_parse_ipv6(&c, m);
	if (l4)
		tdm_parse_l4(&c, m, l4);
	m->hash = tdm_flow_hash(m);
}

#endif /* TANDEM_BPF_PARSE_H */
