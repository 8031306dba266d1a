/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The 5-tuple matcher shared by firewall rules and steering rules. */
#ifndef TANDEM_BPF_MATCH_H
#define TANDEM_BPF_MATCH_H

#include "maps.h"

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

/*
 * Is a (the packet's source or destination) an element of set set_id?
 * interval says which map holds the set (the rule's copy of the set's
 * flag: no read of its record). The packet's family is part of the key:
 * an inet set's IPv6 prefixes never cover IPv4 packets, nor its IPv4
 * elements IPv6 packets from ::ffff:a.b.c.d.
 */
static __always_inline bool tdm_set_has(__u32 set_id, bool interval,
					const struct tdm_meta *pm,
					const struct tdm_addr *a)
{
	__u8 fam = pm->flags & TDM_F_IPV4 ? 4 : 6;

	if (interval) {
		struct tdm_set_lpm_key k = {
			.prefixlen = 32 + 128,
			.set_id = bpf_htons(set_id),
			.family = fam,
			.addr = *a,
		};

		return bpf_map_lookup_elem(&tdm_set_prefixes, &k) != NULL;
	} else {
		struct tdm_set_addr_key k = {
			.set_id = set_id,
			.family = fam,
			.addr = *a,
		};

		return bpf_map_lookup_elem(&tdm_set_addrs, &k) != NULL;
	}
}

/*
 * Does packet pm match r? sets: r may name address sets and states
 * (firewall rules; steering rules never do, and pass false so that their
 * code has none of it).
 */
static __always_inline bool tdm_match(const struct tdm_match *r,
				      const struct tdm_meta *pm, bool sets)
{
	/* an IPv4 match never takes an IPv6 packet (nor ::ffff:a.b.c.d) */
	if (r->family == 4 && !(pm->flags & TDM_F_IPV4))
		return false;
	if (r->family == 6 && !(pm->flags & TDM_F_IPV6))
		return false;
	if (r->proto && r->proto != pm->l4_proto)
		return false;
	/* firewall rules only: what a conntrack NF before said */
	if (sets && r->ct_states && !(r->ct_states & (1U << pm->ct_state)))
		return false;
	if (r->src_len && !tdm_addr_match(&pm->saddr, &r->src, &r->smask))
		return false;
	if (r->dst_len && !tdm_addr_match(&pm->daddr, &r->dst, &r->dmask))
		return false;
	if (!tdm_port_match(pm, pm->sport, r->sport_lo, r->sport_hi))
		return false;
	if (!tdm_port_match(pm, pm->dport, r->dport_lo, r->dport_hi))
		return false;
	if (sets && r->src_set &&
	    !tdm_set_has(r->src_set, r->set_flags & TDM_MATCH_SRC_INTERVAL,
			 pm, &pm->saddr))
		return false;
	return !sets || !r->dst_set ||
	       tdm_set_has(r->dst_set, r->set_flags & TDM_MATCH_DST_INTERVAL,
			   pm, &pm->daddr);
}

#endif /* TANDEM_BPF_MATCH_H */
