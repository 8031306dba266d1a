/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Crafting test packets: a builder appends headers to a buffer. Checksums
 * are left zero (the parser never verifies them) until pkt_csum() fills
 * them in, for tests that compare the bytes an NF rewrote. The IP header's
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
	unsigned int l4_off;		/* where the UDP, TCP or ICMP header starts */
	__u8 l4;			/* its IPPROTO_*, 0: none yet */
	unsigned int ifindex;		/* where it comes in; 0: the test's default */
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
	p->l4 = 0;
	p->ifindex = 0;
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
	struct udphdr *u;

	p->l4_off = p->len;
	p->l4 = IPPROTO_UDP;
	u = pkt_put(p, sizeof(*u));

	u->source = htons(sport);
	u->dest = htons(dport);
	u->len = htons(sizeof(*u) + payload);
	pkt_put(p, payload);
}

static inline void pkt_tcp(struct pkt *p, __u16 sport, __u16 dport)
{
	struct tcphdr *t;

	p->l4_off = p->len;
	p->l4 = IPPROTO_TCP;
	t = pkt_put(p, sizeof(*t));

	t->source = htons(sport);
	t->dest = htons(dport);
	t->doff = 5;
	t->syn = 1;
}

static inline void pkt_icmp(struct pkt *p, __u8 type)
{
	__u8 *h;

	p->l4_off = p->len;
	p->l4 = p->l3 == 6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	h = pkt_put(p, 8);

	h[0] = type;
}

/* The 16-bit one's complement sum of n bytes (RFC 1071), added to sum. */
static inline __u32 pkt_sum16(__u32 sum, const void *d, unsigned int n)
{
	const unsigned char *b = d;
	unsigned int i;

	for (i = 0; i + 1 < n; i += 2)
		sum += b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += b[n - 1] << 8;
	return sum;
}

static inline __u16 pkt_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/*
 * Fill in the checksums the builder left zero, as a sender would: the
 * IPv4 header's, and the L4 header's (TCP, UDP, ICMP; over the IPv4 or
 * IPv6 pseudo-header, RFC 768, 793, 8200 section 8.1, except ICMP for
 * IPv4) from p->l4_off to the end of the datagram. A UDP sum of 0 is sent
 * as 0xffff (0 means none). Padding after the datagram is left out.
 */
static inline void pkt_csum(struct pkt *p)
{
	unsigned char *l3 = p->buf + p->l3_off, *l4 = p->buf + p->l4_off;
	unsigned int end, len, at;
	__u32 sum = 0;
	__u16 c;

	if (p->l3 == 4) {
		struct iphdr *ip = (struct iphdr *)l3;

		ip->check = 0;
		ip->check = htons(~pkt_fold(pkt_sum16(0, ip, ip->ihl * 4)) &
				  0xffff);
		end = p->l3_off + ntohs(ip->tot_len);
		if (p->l4 != IPPROTO_ICMP) {
			sum = pkt_sum16(sum, &ip->saddr, 8);
			sum += p->l4;
			sum += end - p->l4_off;
		}
	} else if (p->l3 == 6) {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)l3;

		end = p->l3_off + sizeof(*ip6) + ntohs(ip6->payload_len);
		sum = pkt_sum16(sum, &ip6->saddr, 32);
		sum += end - p->l4_off;
		sum += p->l4;
	} else {
		return;
	}
	if (end > p->len)
		end = p->len;
	switch (p->l4) {
	case IPPROTO_TCP:
		at = 16;
		break;
	case IPPROTO_UDP:
		at = 6;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		at = 2;
		break;
	default:
		return;
	}
	len = end - p->l4_off;
	if (len < at + 2)
		return;
	l4[at] = l4[at + 1] = 0;
	c = ~pkt_fold(pkt_sum16(sum, l4, len)) & 0xffff;
	if (p->l4 == IPPROTO_UDP && !c)
		c = 0xffff;
	l4[at] = c >> 8;
	l4[at + 1] = c & 0xff;
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
