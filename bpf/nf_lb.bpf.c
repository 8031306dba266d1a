// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * lb: an L4 load balancer. Connections to a virtual address (vip, proto,
 * port) go to weighted backends chosen by Maglev hashing (Eisenbud et
 * al., NSDI 2016): a new flow's 5-tuple hash picks a slot of the NF's
 * lookup table, which the library fills (user/lib/maglev.c) whenever
 * the backends change; so when one of N backends goes, about 1/N of new
 * flows go elsewhere. A flow stays with its backend for its life: its
 * first packet makes a binding (bpf/lib/nat.h, in tdm_nat_tables[nf_id])
 * that every later packet follows, whatever the table says by then.
 *
 * Forwarding by destination NAT (forward dnat, the default): the
 * packet's destination becomes the backend's address (and port); the
 * backend answers the client, and its replies, through the same NF in
 * the chain of the device they come in at, get the vip back as their
 * source. ICMP errors and fragments as for nat.
 *
 * Or by encapsulation (forward encap), Katran's model for direct server
 * return: the packet, unchanged, goes into an outer header of its family
 * from the NF's source address to the backend's (IPv4 in IPv4, RFC
 * 2003; IPv6 in IPv6, RFC 2473), which the kernel then routes; the
 * backend decapsulates it, owns the vip, and answers the client
 * directly. The balancer sees one way of each flow; a binding of one
 * entry keeps a flow on its backend, a datagram's later fragments go
 * where its first went.
 */
#ifdef TDM_NF_DECLARATIONS
#define TDM_LB_DEFAULT_TABLE	65537	/* Maglev slots: a prime, >= 100 x backends */
#define TDM_LB_MAX_TABLE	1048573	/* the largest prime below 2^20 */
#define TDM_LB_MAX_BACKENDS	4096	/* of one NF */
#define TDM_LB_ALL_BACKENDS	65536	/* of every NF */

enum tdm_lb_mode {
	TDM_LB_DNAT = 0,
	TDM_LB_ENCAP,			/* IP in IP to the backend (DSR) */
};

#define TDM_LB_ENCAP_TTL	64	/* the outer header's TTL, hop limit */

struct tdm_lb_params {
	struct tdm_addr vip;		/* network order; IPv4 mapped */
	__u16 port;			/* host order; 0: every port */
	__u8 proto;			/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;			/* 4 or 6 */
	__u8 mode;			/* enum tdm_lb_mode */
	__u8 pad[3];
	__u32 table;			/* Maglev slots, a prime */
	__u32 size;			/* bindings table entries (two a flow) */
	struct tdm_addr source;		/* encap: the outer source address */
};

enum {
	TDM_LB_DROP_NO_BACKEND = TDM_DROP_NF,	/* no backend takes new flows */
	TDM_LB_DROP_BUSY,		/* the backend's reply tuple is taken */
	TDM_LB_DROP_TRUNC,		/* a field to rewrite is past the frame */
	TDM_LB_DROP_FRAG,		/* a later fragment to the vip, its
					 * first not seen */
	TDM_LB_DROP_TTL,		/* TTL or hop limit 1: the kernel's error
					 * would quote the backend's address */
	TDM_LB_DROP_ROOM,		/* encap: no headroom for the header */
	TDM_LB_DROP_MAX,
};

/* A slot of the Maglev table: where its flows go. 24 bytes. */
struct tdm_lb_slot {
	struct tdm_addr addr;		/* the backend; network order */
	__u16 port;			/* host order; 0: the packet's */
	__u16 pad;
	__u32 backend;			/* its index (library); ~0: none */
};

/*
 * A backend of NF nf_id (tdm_lb_backends): the library's record, which
 * the table is filled from. The datapath reads only the slots.
 */
struct tdm_lb_backend_key {
	__u32 nf_id;
	__u16 port;			/* host order; 0: the packet's */
	__u16 pad;
	struct tdm_addr addr;
};

enum tdm_lb_backend_state {
	TDM_LB_UP = 0,			/* takes new flows by its weight */
	TDM_LB_DRAINING,		/* keeps its flows, takes no new one */
};

struct tdm_lb_backend {
	__u32 weight;			/* 1-1000 */
	__u32 state;			/* enum tdm_lb_backend_state */
	__u32 index;			/* its slots' backend field */
	__u32 pad;
};

TDM_NF(lb, 8, struct tdm_lb_params, TDM_LB_DROP_MAX);
#endif /* TDM_NF_DECLARATIONS */

#ifdef TDM_NF_MAPS
/* Never read: the slot type in every object's BTF (see tdm_ct_types) */
const volatile struct tdm_lb_slot tdm_lb_types;

/* BPF_F_INNER_MAP: tables of other sizes fit in the map of maps */
struct tdm_lb_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, TDM_TEMPLATE_ENTRIES);
	__type(key, __u32);
	__type(value, struct tdm_lb_slot);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, TDM_MAX_NFS);
	__type(key, __u32);		/* nf_id */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct tdm_lb_table);
} tdm_lb_tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TDM_LB_ALL_BACKENDS);
	__type(key, struct tdm_lb_backend_key);
	__type(value, struct tdm_lb_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_lb_backends SEC(".maps");
#endif /* TDM_NF_MAPS */

#ifdef TDM_NF_DATAPATH
#include "lib/nat.h"

/* A flow's hash: both ends, the protocol; any good mix (a multiply-xor) */
static __always_inline __u32 lb_hash(const struct tdm_nat_key *k)
{
	__u64 h = 0x9e3779b97f4a7c15ULL ^ k->proto;
	int i;

	for (i = 0; i < 4; i++) {
		h = (h ^ k->saddr.w[i]) * 0xff51afd7ed558ccdULL;
		h = (h ^ k->daddr.w[i]) * 0xc4ceb9fe1a85ec53ULL;
	}
	h = (h ^ ((__u32)k->sport << 16 | k->dport)) * 0xff51afd7ed558ccdULL;
	return h ^ (h >> 32);
}

static __always_inline bool lb_is_vip(const struct tdm_meta *pm,
				      const volatile struct tdm_lb_params *p)
{
	return pm->daddr.w[0] == p->vip.w[0] && pm->daddr.w[1] == p->vip.w[1] &&
	       pm->daddr.w[2] == p->vip.w[2] && pm->daddr.w[3] == p->vip.w[3];
}

#define LB_L2_MAX	64	/* Ethernet and up to 8 tags: 46 bytes */

/*
 * Put the packet (its IP header at l3_off) into an outer header of its
 * family from p->source to backend, the L2 header moved to the front;
 * the metadata then describes the outer packet, for the NFs after.
 */
static __noinline int lb_encap(struct xdp_md *ctx, struct tdm_meta *pm,
			       const volatile struct tdm_lb_params *p,
			       const struct tdm_addr *backend)
{
	__u32 hl = p->family == 4 ? sizeof(struct iphdr) :
				    sizeof(struct ipv6hdr);
	__u32 l3 = pm->l3_off, i, sum = 0;
	__u8 l2[LB_L2_MAX];
	void *data, *end;

	if (l3 < 14 || l3 > LB_L2_MAX)		/* an Ethernet header at least */
		return TDM_LB_DROP_TRUNC;
	/* [1, LB_L2_MAX] by arithmetic: see monitor_sample() */
	l3 = ((l3 - 1) & (LB_L2_MAX - 1)) + 1;
	if (bpf_xdp_load_bytes(ctx, 0, l2, l3))
		return TDM_LB_DROP_TRUNC;
	if (bpf_xdp_adjust_head(ctx, -(int)hl))
		return TDM_LB_DROP_ROOM;
	if (bpf_xdp_store_bytes(ctx, 0, l2, l3))
		return TDM_LB_DROP_TRUNC;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (p->family == 4) {
		struct iphdr *o = data + l3, *in = data + l3 + sizeof(*o);
		__u16 *w = (__u16 *)o;

		if ((void *)(in + 1) > end)
			return TDM_LB_DROP_TRUNC;
		o->version = 4;
		o->ihl = 5;
		o->tos = in->tos;
		o->tot_len = bpf_htons(bpf_ntohs(in->tot_len) + sizeof(*o));
		/*
		 * DF as the inner's (RFC 2003 3.1: path MTU discovery works
		 * through the tunnel); an outer that may be fragmented gets
		 * an id of its own, since inner ids of many clients meet
		 * at one backend
		 */
		o->frag_off = in->frag_off & bpf_htons(0x4000);
		o->id = o->frag_off ? in->id : (__u16)bpf_get_prandom_u32();
		o->ttl = TDM_LB_ENCAP_TTL;
		o->protocol = IPPROTO_IPIP;
		o->check = 0;
		o->saddr = p->source.w[3];
		o->daddr = backend->w[3];
		for (i = 0; i < sizeof(*o) / 2; i++)
			sum += w[i];
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		o->check = ~sum & 0xffff;
		pm->l4_proto = IPPROTO_IPIP;
	} else {
		struct ipv6hdr *o = data + l3, *in = data + l3 + sizeof(*o);

		if ((void *)(in + 1) > end)
			return TDM_LB_DROP_TRUNC;
		/* version, traffic class and flow label: the inner's */
		*(__u32 *)o = *(__u32 *)in;
		o->payload_len = bpf_htons(bpf_ntohs(in->payload_len) +
					   sizeof(*in));
		o->nexthdr = IPPROTO_IPV6;
		o->hop_limit = TDM_LB_ENCAP_TTL;
		for (i = 0; i < 4; i++) {
			o->saddr.in6_u.u6_addr32[i] = p->source.w[i];
			o->daddr.in6_u.u6_addr32[i] = backend->w[i];
		}
		pm->l4_proto = IPPROTO_IPV6;
	}
	pm->pkt_len += hl;
	pm->l4_off = l3 + hl;
	pm->saddr = p->source;
	pm->daddr = *backend;
	pm->sport = 0;
	pm->dport = 0;
	pm->tcp_flags = 0;
	pm->flags &= ~(TDM_F_L4 | TDM_F_FRAG | TDM_F_FRAG_LATER |
		       TDM_F_IP_OPTS | TDM_F_EXTHDR | TDM_F_ICMP_ERR);
	return NF_CONTINUE;
}

/*
 * A packet (not an ICMP error, not a later fragment): its flow's binding,
 * or for a new flow to the vip, the backend of its slot.
 */
static __noinline int lb_eval(struct xdp_md *ctx, struct tdm_meta *pm,
			      __u32 nf_id,
			      const volatile struct tdm_lb_params *p, __u64 now)
{
	void *tab = bpf_map_lookup_elem(&tdm_nat_tables, &nf_id);
	void *slots = bpf_map_lookup_elem(&tdm_lb_tables, &nf_id);
	struct tdm_nat_scratch *sc;
	struct tdm_lb_slot *slot;
	struct tdm_nat_entry *e;
	__u32 zero = 0, i;
	int ret;

	if (!nat_has_ports(pm->l4_proto) || !(pm->flags & TDM_F_L4))
		return NF_CONTINUE;	/* ICMP echo to the vip: the stack's */
	sc = bpf_map_lookup_elem(&tdm_nat_scratch, &zero);
	if (!sc || !tab || !slots)
		return NF_CONTINUE;	/* not reached: made with the NF */
	nat_key(&sc->k, pm->flags & TDM_F_IPV4 ? 4 : 6, pm->l4_proto,
		&pm->saddr, &pm->daddr, pm->sport, pm->dport);
	e = bpf_map_lookup_elem(tab, &sc->k);
	if (e && nat_alive(tab, &sc->k, e, now)) {
		if (p->mode != TDM_LB_ENCAP && nat_ttl_expires(ctx, pm))
			return TDM_LB_DROP_TTL;
		nat_seen(tab, &sc->k, e, pm, now);
	} else {
		if (!lb_is_vip(pm, p) || pm->l4_proto != p->proto ||
		    (p->port && pm->dport != p->port))
			return NF_CONTINUE;
		if (p->mode != TDM_LB_ENCAP && nat_ttl_expires(ctx, pm))
			return TDM_LB_DROP_TTL;
		i = lb_hash(&sc->k) % p->table;
		slot = bpf_map_lookup_elem(slots, &i);
		if (!slot || slot->backend == ~0U)
			return TDM_LB_DROP_NO_BACKEND;
		nat_bind_init(sc, pm, now);
		e = &sc->fresh;
		e->daddr = slot->addr;
		if (slot->port)
			e->dport = slot->port;
		/* encap: no reply comes back this way, one entry */
		if (p->mode == TDM_LB_ENCAP)
			bpf_map_update_elem(tab, &sc->k, e, BPF_ANY);
		else if (!nat_bind_try(sc, tab, now))
			return TDM_LB_DROP_BUSY;
	}
	if (p->mode == TDM_LB_ENCAP) {
		if (pm->flags & TDM_F_FRAG)
			nat_frag_first(pm, &sc->k, e, nf_id, now);
		return lb_encap(ctx, pm, p, &e->daddr);
	}
	ret = nat_rewrite((void *)(long)ctx->data, (void *)(long)ctx->data_end,
			  pm->l3_off, pm->l4_off, sc->k.family, pm->l4_proto,
			  &e->saddr, &e->daddr, e->sport, e->dport, NULL);
	if (ret)
		return TDM_LB_DROP_TRUNC;
	if (pm->flags & TDM_F_FRAG)
		nat_frag_first(pm, &sc->k, e, nf_id, now);
	nat_meta(pm, e);
	return NF_CONTINUE;
}

/*
 * encap: an ICMP error about a backend's answer (the quote goes from the
 * vip to a client: a router on the way sends fragmentation needed, or
 * packet too big, to the vip, which routes here) goes to that backend,
 * as Katran does, so that its path MTU discovery works. Other errors
 * are the kernel's.
 */
static __noinline int lb_icmp_encap(struct xdp_md *ctx, struct tdm_meta *pm,
				    __u32 nf_id,
				    const volatile struct tdm_lb_params *p,
				    __u64 now)
{
	void *tab = bpf_map_lookup_elem(&tdm_nat_tables, &nf_id);
	struct tdm_nat_entry *e;
	struct tdm_nat_key k;
	struct tdm_addr to;

	if (!tab || !nat_has_ports(pm->inner_proto))
		return NF_CONTINUE;
	/* the flow the answer belongs to: client -> vip */
	nat_key(&k, p->family, pm->inner_proto, &pm->inner_daddr,
		&pm->inner_saddr, pm->inner_dport, pm->inner_sport);
	e = bpf_map_lookup_elem(tab, &k);
	if (!e || e->expires <= now)
		return NF_CONTINUE;
	to = e->daddr;
	return lb_encap(ctx, pm, p, &to);
}

/* A later fragment: as its datagram's first went, or dropped if to the vip */
static __noinline int lb_frag_later(struct xdp_md *ctx, struct tdm_meta *pm,
				    __u32 nf_id,
				    const volatile struct tdm_lb_params *p,
				    __u64 now)
{
	struct tdm_nat_frag *f;
	struct tdm_addr to;
	int ret;

	if (p->mode == TDM_LB_ENCAP) {
		f = nat_frag_find(pm, nf_id, now);
		if (!f)
			return lb_is_vip(pm, p) ? TDM_LB_DROP_FRAG : NF_CONTINUE;
		to = f->daddr;
		return lb_encap(ctx, pm, p, &to);
	}
	ret = nat_frag_follow(ctx, pm, nf_id, now);
	if (ret == NAT_FRAG_UNSEEN)
		return lb_is_vip(pm, p) ? TDM_LB_DROP_FRAG : NF_CONTINUE;
	return ret == NF_CONTINUE ? ret : TDM_LB_DROP_TRUNC;
}

static __always_inline int lb_run(struct xdp_md *ctx, struct tdm_meta *pm,
				  const volatile struct tdm_hop_nf *nf)
{
	const volatile struct tdm_lb_params *p = TDM_HOP_PARAMS(nf, lb);
	__u32 nf_id = nf->nf_id;
	__u64 now;
	int ret;

	if (!(pm->flags & (TDM_F_IPV4 | TDM_F_IPV6)) ||
	    (pm->flags & TDM_F_UNPARSED) ||
	    (pm->flags & TDM_F_IPV4 ? 4 : 6) != p->family)
		return NF_CONTINUE;
	now = bpf_ktime_get_ns();
	if (pm->flags & TDM_F_FRAG_LATER)
		return lb_frag_later(ctx, pm, nf_id, p, now);
	if ((pm->flags & TDM_F_ICMP_ERR) && p->mode == TDM_LB_ENCAP)
		return lb_icmp_encap(ctx, pm, nf_id, p, now);
	if (pm->flags & TDM_F_ICMP_ERR) {
		ret = nat_icmp_error(ctx, pm, nf_id, p->family, now);
		return ret == NF_CONTINUE || ret == NAT_ICMP_UNBOUND ?
		       NF_CONTINUE : TDM_LB_DROP_TRUNC;
	}
	return lb_eval(ctx, pm, nf_id, p, now);
}
#endif /* TDM_NF_DATAPATH */
