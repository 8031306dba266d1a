/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The 5-tuple matcher shared by firewall rules and steering rules. */
#ifndef TANDEM_BPF_MATCH_H
#define TANDEM_BPF_MATCH_H

#include "common.h"

static __always_inline bool tdm_addr_match(const struct tdm_addr *a,
					   const struct tdm_addr *net,
					   const struct tdm_addr *mask)
{
	return ((a->w[0] & mask->w[0]) == net->w[0]) &
	       ((a->w[1] & mask->w[1]) == net->w[1]) &
	       ((a->w[2] & mask->w[2]) == net->w[2]) &
	       ((a->w[3] & mask->w[3]) == net->w[3]);
}

/*
 * A port range other than "any" needs an L4 header: non-first fragments
 * and truncated packets never match a port rule (as in iptables).
 */
static __always_inline bool tdm_port_match(const struct tdm_meta *pm,
					   __u16 port, __u16 lo, __u16 hi)
{
	if (lo == 0 && hi == 0xffff)
		return true;
	if (!(pm->flags & TDM_F_L4))
		return false;
	return port >= lo && port <= hi;
}

static __always_inline bool tdm_match(const struct tdm_match *r,
				      const struct tdm_meta *pm)
{
	/* an IPv4 match never takes an IPv6 packet (nor ::ffff:a.b.c.d) */
	if (r->family == 4 && !(pm->flags & TDM_F_IPV4))
		return false;
	if (r->family == 6 && !(pm->flags & TDM_F_IPV6))
		return false;
	if (r->proto && r->proto != pm->l4_proto)
		return false;
	if (r->src_len && !tdm_addr_match(&pm->saddr, &r->src, &r->smask))
		return false;
	if (r->dst_len && !tdm_addr_match(&pm->daddr, &r->dst, &r->dmask))
		return false;
	if (!tdm_port_match(pm, pm->sport, r->sport_lo, r->sport_hi))
		return false;
	return tdm_port_match(pm, pm->dport, r->dport_lo, r->dport_hi);
}

#endif /* TANDEM_BPF_MATCH_H */
