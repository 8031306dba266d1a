/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Crafting test packets: a builder appends headers to a buffer. Checksums
 * are left zero: XDP programs here never verify them. The IP header's
 * length field (IPv4 total length, IPv6 payload length) follows what is
 * appended after it; a test that shortens p->len by hand makes a frame
 * shorter than its datagram, as a truncated one is.
 */
#ifndef TANDEM_PKT_H
#define TANDEM_PKT_H

#include <arpa/inet.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <netinet/in.h>

struct pkt {
	unsigned char buf[2048];
	unsigned int len;
	unsigned int l3_off;		/* where the IP header starts */
	int l3;				/* 4, 6, or 0: no IP header yet */
};

static inline void *pkt_put(struct pkt *p, unsigned int n)
{
	void *at = p->buf + p->len;

	memset(at, 0, n);
	p->len += n;
	if (p->l3 == 4)
		((struct iphdr *)(p->buf + p->l3_off))->tot_len =
			htons(p->len - p->l3_off);
	else if (p->l3 == 6)
		((struct ipv6hdr *)(p->buf + p->l3_off))->payload_len =
			htons(p->len - p->l3_off - sizeof(struct ipv6hdr));
	return at;
}

/* Starts a new packet. */
static inline void pkt_eth(struct pkt *p, __u16 proto)
{
	struct ethhdr *e;

	p->len = 0;
	p->l3 = 0;
	e = pkt_put(p, sizeof(*e));

	memcpy(e->h_dest, "\x02\x00\x00\x00\x00\x02", 6);
	memcpy(e->h_source, "\x02\x00\x00\x00\x00\x01", 6);
	e->h_proto = htons(proto);
}

static inline void pkt_vlan(struct pkt *p, __u16 vid, __u16 inner_proto)
{
	__u16 *tag = pkt_put(p, 4);

	tag[0] = htons(vid);
	tag[1] = htons(inner_proto);
}

static inline struct iphdr *pkt_ip4(struct pkt *p, const char *src,
				    const char *dst, __u8 proto, int optlen)
{
	struct iphdr *ip;

	p->l3_off = p->len;
	p->l3 = 4;
	ip = pkt_put(p, sizeof(*ip) + optlen);
	ip->version = 4;
	ip->ihl = (sizeof(*ip) + optlen) / 4;
	ip->ttl = 64;
	ip->protocol = proto;
	inet_pton(AF_INET, src, &ip->saddr);
	inet_pton(AF_INET, dst, &ip->daddr);
	if (optlen)	/* NOPs, then end of options */
		memset(ip + 1, 1, optlen - 1);
	return ip;
}

static inline struct ipv6hdr *pkt_ip6(struct pkt *p, const char *src,
				      const char *dst, __u8 nexthdr)
{
	struct ipv6hdr *ip6;

	p->l3_off = p->len;
	p->l3 = 6;
	ip6 = pkt_put(p, sizeof(*ip6));
	ip6->version = 6;
	ip6->nexthdr = nexthdr;
	ip6->hop_limit = 64;
	inet_pton(AF_INET6, src, &ip6->saddr);
	inet_pton(AF_INET6, dst, &ip6->daddr);
	return ip6;
}

/* A generic extension header of (hdrlen + 1) * 8 bytes. */
static inline void pkt_ip6_opt(struct pkt *p, __u8 nexthdr, __u8 hdrlen)
{
	__u8 *h = pkt_put(p, (hdrlen + 1) * 8);

	h[0] = nexthdr;
	h[1] = hdrlen;
}

static inline void pkt_ip6_frag(struct pkt *p, __u8 nexthdr, __u16 offset8,
				int more)
{
	__u8 *h = pkt_put(p, 8);

	h[0] = nexthdr;
	*(__u16 *)(h + 2) = htons((offset8 << 3) | (more ? 1 : 0));
}

static inline void pkt_udp(struct pkt *p, __u16 sport, __u16 dport,
			   int payload)
{
	struct udphdr *u = pkt_put(p, sizeof(*u));

	u->source = htons(sport);
	u->dest = htons(dport);
	u->len = htons(sizeof(*u) + payload);
	pkt_put(p, payload);
}

static inline void pkt_tcp(struct pkt *p, __u16 sport, __u16 dport)
{
	struct tcphdr *t = pkt_put(p, sizeof(*t));

	t->source = htons(sport);
	t->dest = htons(dport);
	t->doff = 5;
	t->syn = 1;
}

static inline void pkt_icmp(struct pkt *p, __u8 type)
{
	__u8 *h = pkt_put(p, 8);

	h[0] = type;
}

/* Whole packets most cases need. */
static inline void pkt_udp4(struct pkt *p, const char *src, const char *dst,
			    __u16 sport, __u16 dport, int payload)
{
	p->len = 0;
	pkt_eth(p, ETH_P_IP);
	pkt_ip4(p, src, dst, IPPROTO_UDP, 0);
	pkt_udp(p, sport, dport, payload);
}

static inline void pkt_udp6(struct pkt *p, const char *src, const char *dst,
			    __u16 sport, __u16 dport, int payload)
{
	p->len = 0;
	pkt_eth(p, ETH_P_IPV6);
	pkt_ip6(p, src, dst, IPPROTO_UDP);
	pkt_udp(p, sport, dport, payload);
}

#endif
