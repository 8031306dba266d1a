// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * conntrack: connection tracking. It tells every packet's state (struct
 * tdm_meta.ct_state: new, established, related, invalid or untracked)
 * for the NFs after it; a firewall's rules match it (`state ...`). It
 * never drops.
 *
 * A flow is one entry of the NF's own LRU hash (tdm_ct_tables[nf_id],
 * created with the NF at its size): keyed by both ends in a canonical
 * order, so that a packet and its reply find the same entry with one
 * lookup, and the entry says which end opened the flow. The states and
 * timeouts are those of the kernel's nf_conntrack (TCP: SYN sent, SYN
 * received, established, FIN wait, time wait, close; UDP and ICMP echo:
 * replied or not), simplified: TCP sequence windows are not tracked,
 * only the exact places a RST or FIN may change a flow (RFC 5961).
 *
 * XDP sees what comes in. What the host sends out on a device is seen by
 * the NF's TC egress program (bpf/ct_egress.bpf.c) on that device, so
 * that a connection the host opens is known when its reply comes in.
 */
#ifdef TDM_NF_DECLARATIONS
#define TDM_CT_DEFAULT_SIZE	65536	/* flows in an NF's table */
#define TDM_CT_MAX_SIZE		(1 << 22)	/* an LRU hash is preallocated: ~176 bytes a flow (memlock) */

struct tdm_conntrack_params {
	__u32 size;			/* flows in its table (LRU) */
	__u32 pad;
	char egress[16];		/* device whose egress it tracks, or "" */
};

enum {
	TDM_CONNTRACK_DROP_MAX = TDM_DROP_NF,	/* it never drops */
};

/* A TCP flow's state (struct tdm_ct_entry.state), as the kernel's. */
enum tdm_ct_tcp_state {
	TDM_CT_TCP_NONE = 0,		/* not TCP */
	TDM_CT_TCP_SYN_SENT,
	TDM_CT_TCP_SYN_RECV,
	TDM_CT_TCP_ESTABLISHED,
	TDM_CT_TCP_FIN_WAIT,		/* one end sent FIN */
	TDM_CT_TCP_TIME_WAIT,		/* both ends did */
	TDM_CT_TCP_CLOSE,		/* after a RST */
};

/*
 * A flow's key: its two ends, lower first (the four address words as
 * numbers, then the port), so both directions build the same key. For
 * ICMP echo both ports are the identifier. 40 bytes, no padding holes.
 */
struct tdm_ct_key {
	struct tdm_addr addr[2];	/* network order; IPv4 mapped */
	__u16 port[2];			/* host order */
	__u8 family;			/* 4 or 6 */
	__u8 proto;			/* IPPROTO_* */
	__u16 pad;
};

/* A flow. Directions: 0 the one that opened it (orig), 1 the reply. */
struct tdm_ct_entry {
	__u64 expires;			/* ns, CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 packets[2];		/* by direction */
	__u64 bytes[2];
	__u8 orig;			/* the key's end that opened it: 0 or 1 */
	__u8 state;			/* enum tdm_ct_tcp_state */
	__u8 replied;			/* 1: a packet went the reply way */
	__u8 fin;			/* TCP: bit d set when direction d sent FIN */
	/*
	 * Where the first packet was seen: a reply never comes back the
	 * way its flow went (in at the same device, or out of it).
	 */
	__u32 orig_ifindex;
	__u8 orig_hook;			/* enum tdm_ct_hook */
	__u8 pad;
	/*
	 * Was the first packet's outer VLAN. Not part of "where": the
	 * sender chooses it (a tag on a frame the stack then drops).
	 */
	__u16 pad2;
	/*
	 * TCP, against blind resets (RFC 5961): the sequence number the
	 * opener's SYN had, and, by direction, the one the other end
	 * acknowledged last (bit d of acked: next_seq[d] is known).
	 */
	__u32 syn_seq;
	__u32 next_seq[2];
	__u8 acked;
	__u8 pad3[3];
};

/* Where conntrack_eval() sees a packet. */
enum tdm_ct_hook {
	TDM_CT_HOOK_XDP = 0,		/* coming in: pm->ifindex */
	TDM_CT_HOOK_EGRESS,		/* going out (bpf/ct_egress.bpf.c) */
};

/*
 * Timeouts in seconds: the kernel's defaults (nf_conntrack_proto_tcp.c
 * tcp_timeouts[], nf_conntrack_proto_udp.c, nf_conntrack_proto_icmp.c,
 * nf_conntrack_proto_generic.c).
 */
#define TDM_CT_TO_SYN_SENT	120
#define TDM_CT_TO_SYN_RECV	60
#define TDM_CT_TO_ESTABLISHED	432000
#define TDM_CT_TO_FIN_WAIT	120
#define TDM_CT_TO_TIME_WAIT	120
#define TDM_CT_TO_CLOSE		10
#define TDM_CT_TO_UDP		30	/* no reply yet */
#define TDM_CT_TO_UDP_REPLIED	120
#define TDM_CT_TO_ICMP		30
#define TDM_CT_TO_GENERIC	600

/*
 * A fragmented datagram, for its later fragments (which have no ports):
 * they take the state its first fragment was given, as they would
 * after the kernel's reassembly. Key: the datagram's identity (RFC 791,
 * RFC 8200 section 4.5) in conntrack nf_id.
 */
#define TDM_CT_FRAGS		8192	/* datagrams in flight, all NFs */
#define TDM_CT_TO_FRAG		30	/* s: the kernel's ipfrag_time */

struct tdm_ct_frag_key {
	__u32 nf_id;
	__u32 id;			/* IPv4 id or IPv6 fragment id, host order */
	__u8 family;			/* 4 or 6 */
	__u8 proto;
	__u16 pad;
	struct tdm_addr saddr;
	struct tdm_addr daddr;
};

struct tdm_ct_frag {
	__u64 expires;			/* ns, CLOCK_MONOTONIC */
	__u32 ct_state;			/* enum tdm_ct_state of its first fragment */
	__u32 pad;
};

/*
 * A flow seen coming in, made by its first packet but not yet in the
 * table: written there only if that packet leaves the hop alive
 * (conntrack_leave()), as the kernel confirms a conntrack only when its
 * packet is accepted. Else every packet a firewall after the conntrack
 * drops (a SYN flood to closed ports) would take a place in the LRU
 * table and push out flows that wait for their first reply.
 */
struct tdm_ct_pending {
	struct tdm_ct_key key;
	struct tdm_ct_entry entry;
};

TDM_NF(conntrack, 5, struct tdm_conntrack_params, TDM_CONNTRACK_DROP_MAX);
#endif /* TDM_NF_DECLARATIONS */

#ifdef TDM_NF_MAPS
/*
 * Never read: a variable of the tables' key and value types, so that
 * every object's BTF defines them. Clang 14 leaves a type that only an
 * inner map's definition names (two pointers deep) a forward
 * declaration, which libbpf cannot size; and the library types the
 * tables it makes from the same BTF (bpftool prints them).
 */
const volatile struct {
	struct tdm_ct_key key;
	struct tdm_ct_entry entry;
} tdm_ct_types;

/*
 * The shape of every NF's table; the library makes each at its size.
 * Typed like them: 6.1's bpf_map_meta_equal() compares timer_off, which
 * a map with BTF and one without set differently, and refuses a table
 * that differs from the template.
 */
struct tdm_ct_table {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TDM_TEMPLATE_ENTRIES);
	__type(key, struct tdm_ct_key);
	__type(value, struct tdm_ct_entry);
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TDM_CT_FRAGS);
	__type(key, struct tdm_ct_frag_key);
	__type(value, struct tdm_ct_frag);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_ct_frags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, TDM_MAX_NFS);
	__type(key, __u32);		/* nf_id */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct tdm_ct_table);
} tdm_ct_tables SEC(".maps");

/* per CPU: a packet runs its hop on one CPU, start to end */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TDM_MAX_NFS);
	__type(key, __u32);		/* nf_id */
	__type(value, struct tdm_ct_pending);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_ct_pending SEC(".maps");
#endif /* TDM_NF_MAPS */

#ifdef TDM_NF_DATAPATH
#define CT_NSEC		1000000000ULL

#define CT_FIN		0x01
#define CT_SYN		0x02
#define CT_RST		0x04
#define CT_ACK		0x10

/* -1, 0, 1: the order of two ends, any total order both sides agree on */
static __always_inline int ct_end_cmp(const struct tdm_addr *x, __u16 xp,
				      const struct tdm_addr *y, __u16 yp)
{
	int j;

	for (j = 0; j < 4; j++)
		if (x->w[j] != y->w[j])
			return x->w[j] < y->w[j] ? -1 : 1;
	return xp < yp ? -1 : xp > yp;
}

static __always_inline bool ct_addr_eq(const struct tdm_addr *x,
				       const struct tdm_addr *y)
{
	return x->w[0] == y->w[0] && x->w[1] == y->w[1] &&
	       x->w[2] == y->w[2] && x->w[3] == y->w[3];
}

/* The key of a packet from (s, sp) to (d, dp); the sender's end */
static __always_inline __u8 ct_key(struct tdm_ct_key *k, __u8 family,
				   __u8 proto, const struct tdm_addr *s,
				   __u16 sp, const struct tdm_addr *d, __u16 dp)
{
	__u8 end = ct_end_cmp(s, sp, d, dp) > 0;

	k->family = family;
	k->proto = proto;
	k->pad = 0;
	/* constant indexes: the verifier refuses a pointer made by OR */
	if (end) {
		k->addr[1] = *s;
		k->port[1] = sp;
		k->addr[0] = *d;
		k->port[0] = dp;
	} else {
		k->addr[0] = *s;
		k->port[0] = sp;
		k->addr[1] = *d;
		k->port[1] = dp;
	}
	return end;
}

static __always_inline void ct_set_timeout(struct tdm_ct_entry *e, __u64 now,
					   __u64 sec)
{
	e->expires = now + sec * CT_NSEC;
}

static __always_inline __u64 ct_tcp_timeout(__u8 state)
{
	switch (state) {
	case TDM_CT_TCP_SYN_SENT:
		return TDM_CT_TO_SYN_SENT;
	case TDM_CT_TCP_SYN_RECV:
		return TDM_CT_TO_SYN_RECV;
	case TDM_CT_TCP_ESTABLISHED:
		return TDM_CT_TO_ESTABLISHED;
	case TDM_CT_TCP_FIN_WAIT:
		return TDM_CT_TO_FIN_WAIT;
	case TDM_CT_TCP_TIME_WAIT:
		return TDM_CT_TO_TIME_WAIT;
	default:
		return TDM_CT_TO_CLOSE;
	}
}

/*
 * May a RST or FIN from direction dir change the flow's state? One the
 * host sends (egress) may; one that came in must sit exactly where the
 * other end's last acknowledgment says (RFC 5961 section 3.2), when that
 * is known. Otherwise a blind attacker who knows the ports could close
 * any flow: the host's stack ignores a RST out of place (it answers with
 * a challenge ACK), and so does the flow here.
 */
static __always_inline bool ct_seq_ok(const struct tdm_ct_entry *e, __u8 dir,
				      __u32 seq, __u32 hook)
{
	return hook == TDM_CT_HOOK_EGRESS || !(e->acked & (1 << dir)) ||
	       seq == e->next_seq[dir & 1];
}

/*
 * TCP: the packet's state, and the flow's next. dir: 0 from the end that
 * opened the flow. A SYN opens (or, after a close, reopens) a flow; a
 * segment without SYN and without a flow that expects it is invalid, as
 * a stray ACK is; a SYN-ACK must acknowledge the SYN, and a RST in
 * answer to a SYN too (RFC 793 section 3.4).
 */
static __always_inline int ct_tcp(struct tdm_ct_entry *e, __u8 dir,
				  const struct tdm_meta *pm, __u32 hook,
				  __u64 now)
{
	__u8 st = e->state, flags = pm->tcp_flags;
	int res = TDM_CT_ESTABLISHED;

	if (flags & CT_RST) {
		if (st == TDM_CT_TCP_CLOSE)
			return TDM_CT_INVALID;
		if (st == TDM_CT_TCP_SYN_SENT) {
			if (dir && (!(flags & CT_ACK) ||
				    pm->tcp_ack != e->syn_seq + 1))
				return TDM_CT_INVALID;
		} else if (!ct_seq_ok(e, dir, pm->tcp_seq, hook)) {
			/* out of place: the flow goes on, as the stack's */
			return TDM_CT_ESTABLISHED;
		}
		/* a refused SYN, or a reset flow: it is over */
		res = dir || e->replied ? TDM_CT_ESTABLISHED : TDM_CT_NEW;
		st = TDM_CT_TCP_CLOSE;
	} else if ((flags & (CT_SYN | CT_ACK)) == CT_SYN) {
		if (dir || st != TDM_CT_TCP_SYN_SENT)
			return TDM_CT_INVALID;
		res = TDM_CT_NEW;		/* a retransmitted SYN */
	} else if (flags & CT_SYN) {
		/* SYN-ACK: the reply to the SYN, or its retransmission */
		if (!dir || (st != TDM_CT_TCP_SYN_SENT &&
			     st != TDM_CT_TCP_SYN_RECV) ||
		    pm->tcp_ack != e->syn_seq + 1)
			return TDM_CT_INVALID;
		st = TDM_CT_TCP_SYN_RECV;
	} else if (!(flags & CT_ACK)) {
		return TDM_CT_INVALID;		/* only a SYN or a RST lacks ACK */
	} else {
		switch (st) {
		case TDM_CT_TCP_SYN_RECV:
			if (!dir)
				st = TDM_CT_TCP_ESTABLISHED;
			break;
		case TDM_CT_TCP_ESTABLISHED:
		case TDM_CT_TCP_FIN_WAIT:
		case TDM_CT_TCP_TIME_WAIT:
			break;
		default:
			/* nothing came back yet (SYN sent), or it was reset */
			return TDM_CT_INVALID;
		}
		if ((flags & CT_FIN) && ct_seq_ok(e, dir, pm->tcp_seq, hook)) {
			e->fin |= 1 << dir;
			st = e->fin == 3 ? TDM_CT_TCP_TIME_WAIT :
					   TDM_CT_TCP_FIN_WAIT;
		}
	}
	/* what this end acknowledges is where the other end is */
	if (flags & CT_ACK) {
		if (dir)
			e->next_seq[0] = pm->tcp_ack;
		else
			e->next_seq[1] = pm->tcp_ack;
		e->acked |= 1 << !dir;
	}
	if (dir)
		e->replied = 1;
	e->state = st;
	ct_set_timeout(e, now, ct_tcp_timeout(st));
	return res;
}

/* UDP, ICMP echo and the rest: new until a reply, then established. */
static __always_inline int ct_other(struct tdm_ct_entry *e, __u8 dir,
				    __u8 proto, __u64 now)
{
	__u64 to;

	if (dir)
		e->replied = 1;
	if (proto == IPPROTO_UDP)
		to = e->replied ? TDM_CT_TO_UDP_REPLIED : TDM_CT_TO_UDP;
	else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6)
		to = TDM_CT_TO_ICMP;
	else
		to = TDM_CT_TO_GENERIC;
	ct_set_timeout(e, now, to);
	return e->replied ? TDM_CT_ESTABLISHED : TDM_CT_NEW;
}

/*
 * What the packet may open when no flow has it: a TCP SYN, a UDP
 * datagram, an echo request, or a packet of another protocol; not a
 * reply (an echo reply, a SYN-ACK) nor any other TCP segment.
 */
static __always_inline bool ct_may_open(const struct tdm_meta *pm)
{
	switch (pm->l4_proto) {
	case IPPROTO_TCP:
		return (pm->tcp_flags & (CT_SYN | CT_ACK | CT_RST | CT_FIN)) ==
		       CT_SYN;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return tdm_icmp_is_echo(pm->l4_proto, pm->icmp_type) &&
		       !tdm_icmp_is_echo_reply(pm->l4_proto, pm->icmp_type);
	default:
		return true;
	}
}

/*
 * IPv6 neighbour discovery and MLD (RFC 4861, RFC 3810): not flows; the
 * kernel leaves them untracked (nf_conntrack_proto_icmpv6.c,
 * noct_valid_new[]).
 */
static __always_inline bool ct_icmpv6_untracked(__u8 type)
{
	return (type >= 130 && type <= 137) || type == 143;
}

static __always_inline void ct_frag_key(struct tdm_ct_frag_key *k,
					const struct tdm_meta *pm, __u32 nf_id)
{
	k->nf_id = nf_id;
	k->id = pm->frag_id;
	k->family = pm->flags & TDM_F_IPV4 ? 4 : 6;
	/* RFC 8200's fragment identity has no protocol: a later
	 * fragment's next header is the fragmentable part's first */
	k->proto = pm->flags & TDM_F_IPV4 ? pm->l4_proto : 0;
	k->pad = 0;
	k->saddr = pm->saddr;
	k->daddr = pm->daddr;
}

/* The state of a packet or first fragment (conntrack_eval()). */
static __always_inline void ct_classify(struct tdm_meta *pm, __u32 nf_id,
					__u32 hook, __u32 ifindex)
{
	struct tdm_ct_entry *e, fresh = {};
	struct tdm_ct_key k;
	__u64 now;
	void *tab;
	__u8 family, proto, end, dir;
	__u16 sp, dp;

	pm->ct_state = TDM_CT_UNTRACKED;
	if (!(pm->flags & (TDM_F_IPV4 | TDM_F_IPV6)) ||
	    (pm->flags & TDM_F_FRAG_LATER))
		return;
	if (pm->flags & TDM_F_UNPARSED) {
		pm->ct_state = TDM_CT_INVALID;
		return;
	}
	tab = bpf_map_lookup_elem(&tdm_ct_tables, &nf_id);
	if (!tab)
		return;
	family = pm->flags & TDM_F_IPV4 ? 4 : 6;
	proto = pm->l4_proto;
	now = bpf_ktime_get_ns();

	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		if (pm->flags & TDM_F_ICMP_ERR) {
			/*
			 * Related to the flow of the packet it quotes, if
			 * it goes back to that packet's sender (as the
			 * kernel's nf_conntrack_inet_error() checks) and
			 * the flow carried packets that way. Else anyone
			 * could open a flow to a blocked port (its entry is
			 * made though a firewall drops the packet) and
			 * send the host errors quoting it, related.
			 */
			end = ct_key(&k, family, pm->inner_proto,
				     &pm->inner_saddr, pm->inner_sport,
				     &pm->inner_daddr, pm->inner_dport);
			e = bpf_map_lookup_elem(tab, &k);
			pm->ct_state = TDM_CT_INVALID;
			if (e && e->expires > now &&
			    ct_addr_eq(&pm->daddr, &pm->inner_saddr) &&
			    (end != e->orig ? e->packets[1] : e->packets[0]))
				pm->ct_state = TDM_CT_RELATED;
			return;
		}
		if (proto == IPPROTO_ICMPV6 &&
		    ct_icmpv6_untracked(pm->icmp_type))
			return;
		if (!tdm_icmp_is_echo(proto, pm->icmp_type)) {
			pm->ct_state = TDM_CT_INVALID;
			return;
		}
		sp = dp = pm->icmp_id;
	} else {
		sp = pm->sport;
		dp = pm->dport;
	}

	end = ct_key(&k, family, proto, &pm->saddr, sp, &pm->daddr, dp);
	e = bpf_map_lookup_elem(tab, &k);
	if (e && e->expires <= now)
		e = NULL;			/* over: as if never seen */
	/* a SYN after a close or time wait opens the flow again */
	if (e && proto == IPPROTO_TCP &&
	    (pm->tcp_flags & (CT_SYN | CT_ACK | CT_RST)) == CT_SYN &&
	    (e->state == TDM_CT_TCP_CLOSE || e->state == TDM_CT_TCP_TIME_WAIT))
		e = NULL;
	if (!e) {
		if (!ct_may_open(pm)) {
			pm->ct_state = TDM_CT_INVALID;
			return;
		}
		fresh.orig = end;
		fresh.orig_ifindex = ifindex;
		fresh.orig_hook = hook;
		fresh.syn_seq = pm->tcp_seq;
		fresh.state = proto == IPPROTO_TCP ? TDM_CT_TCP_SYN_SENT :
						     TDM_CT_TCP_NONE;
		fresh.packets[0] = 1;
		fresh.bytes[0] = pm->pkt_len;
		ct_set_timeout(&fresh, now,
			       proto == IPPROTO_TCP ? TDM_CT_TO_SYN_SENT :
			       proto == IPPROTO_UDP ? TDM_CT_TO_UDP :
			       proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 ?
			       TDM_CT_TO_ICMP : TDM_CT_TO_GENERIC);
		pm->ct_state = TDM_CT_NEW;
		/* coming in: in the table once the packet leaves alive */
		if (hook == TDM_CT_HOOK_XDP) {
			struct tdm_ct_pending *p;

			p = bpf_map_lookup_elem(&tdm_ct_pending, &nf_id);
			if (p) {
				p->key = k;
				p->entry = fresh;
				pm->flags |= TDM_F_CT_NEW;
			}
			return;
		}
		/* going out: it leaves (as a reopened flow, it replaces) */
		bpf_map_update_elem(tab, &k, &fresh, BPF_ANY);
		return;
	}
	dir = end != e->orig;
	/*
	 * Echo: the end that opened the flow asks, the other answers (the
	 * kernel's ICMP tuple holds the type). Else, while the host pings
	 * a peer, that peer's echo requests with the same id would be
	 * established.
	 */
	if ((proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) &&
	    tdm_icmp_is_echo_reply(proto, pm->icmp_type) != dir) {
		pm->ct_state = TDM_CT_INVALID;
		return;
	}
	/*
	 * A reply that arrives where its flow's first packet arrived (or
	 * leaves where it left) is forged: a host's replies go out, a
	 * router's come in at the other device. Without this, a datagram
	 * and a forged reply from the host's own address, both sent from
	 * outside, would make the next datagram established. The VLAN is
	 * not part of "where": a sender on the link tags its frames as it
	 * likes (a first packet on VLAN 5, which the host drops, and an
	 * untagged forged reply). So a router on a stick (in and out on one
	 * device, by VLAN) cannot use one conntrack for both ways.
	 */
	if (dir && e->orig_hook == hook && e->orig_ifindex == ifindex) {
		pm->ct_state = TDM_CT_INVALID;
		return;
	}
	if (proto == IPPROTO_TCP)
		pm->ct_state = ct_tcp(e, dir, pm, hook, now);
	else
		pm->ct_state = ct_other(e, dir, proto, now);
	if (pm->ct_state != TDM_CT_INVALID) {
		if (dir) {
			__sync_fetch_and_add(&e->packets[1], 1);
			__sync_fetch_and_add(&e->bytes[1], pm->pkt_len);
		} else {
			__sync_fetch_and_add(&e->packets[0], 1);
			__sync_fetch_and_add(&e->bytes[0], pm->pkt_len);
		}
	}
	return;
}

/*
 * The state of packet pm in NF nf_id's table, into pm->ct_state, and the
 * flow's update; 0. hook: enum tdm_ct_hook; ifindex: the device it came
 * in at or goes out of. A global function: the verifier checks it once
 * for every conntrack of a chain, and the TC egress program calls it too.
 * A later fragment takes its first fragment's state (invalid if that was
 * not seen: the kernel could not reassemble it either).
 */
__noinline int conntrack_eval(struct tdm_meta *pm, __u32 nf_id, __u32 hook,
			      __u32 ifindex)
{
	struct tdm_ct_frag_key fk;
	struct tdm_ct_frag fv = {}, *f;
	__u64 now;

	if (!pm)
		return 0;
	/*
	 * Coming in: no record of an earlier packet (one that an NF after
	 * this one dropped) may stay for this packet's leave to commit
	 */
	if (hook == TDM_CT_HOOK_XDP) {
		struct tdm_ct_pending *p;

		p = bpf_map_lookup_elem(&tdm_ct_pending, &nf_id);
		if (p)
			p->key.family = 0;
	}
	if (!(pm->flags & TDM_F_FRAG) ||
	    !(pm->flags & (TDM_F_IPV4 | TDM_F_IPV6))) {
		ct_classify(pm, nf_id, hook, ifindex);
		return 0;
	}
	ct_frag_key(&fk, pm, nf_id);
	now = bpf_ktime_get_ns();
	if (pm->flags & TDM_F_FRAG_LATER) {
		f = bpf_map_lookup_elem(&tdm_ct_frags, &fk);
		pm->ct_state = f && f->expires > now && f->ct_state < TDM_CT_STATES ?
			       f->ct_state : TDM_CT_INVALID;
		return 0;
	}
	ct_classify(pm, nf_id, hook, ifindex);
	fv.expires = now + TDM_CT_TO_FRAG * CT_NSEC;
	fv.ct_state = pm->ct_state;
	bpf_map_update_elem(&tdm_ct_frags, &fk, &fv, BPF_ANY);
	return 0;
}

/*
 * The packet of a new flow left the hop alive (passed, sent, redirected,
 * handed to a process NF or to the next hop): its flow goes into the
 * table as it was when the packet came in (a nat or lb after the
 * conntrack may have rewritten the packet since). The record is this
 * packet's: conntrack_eval() cleared it before the packet's
 * classification, on this CPU, in this hop. Not inlined: its frame is
 * its own, not the hop's. As when flows went in at classification,
 * another CPU's first packet of the flow may write the entry too.
 */
static __noinline void conntrack_commit(__u32 nf_id)
{
	struct tdm_ct_pending *p;
	void *tab;

	p = bpf_map_lookup_elem(&tdm_ct_pending, &nf_id);
	tab = bpf_map_lookup_elem(&tdm_ct_tables, &nf_id);
	if (!p || !tab || !p->key.family)
		return;
	/* BPF_ANY: a SYN after a close or time wait replaces the old flow */
	bpf_map_update_elem(tab, &p->key, &p->entry, BPF_ANY);
	p->key.family = 0;		/* committed: not again */
}

static __always_inline void conntrack_leave(struct tdm_meta *pm,
				const volatile struct tdm_hop_nf *nf)
{
	if (pm->flags & TDM_F_CT_NEW)
		conntrack_commit(nf->nf_id);
}

static __always_inline int conntrack_run(struct xdp_md *ctx,
					 struct tdm_meta *pm,
					 const volatile struct tdm_hop_nf *nf)
{
	conntrack_eval(pm, nf->nf_id, TDM_CT_HOOK_XDP, pm->ifindex);
	return NF_CONTINUE;
}
#endif /* TDM_NF_DATAPATH */
