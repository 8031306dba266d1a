// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * monitor: counts each flow's packets and bytes, for top talkers
 * (`tandem top`), and copies frames to user space while a capture runs
 * (`tandem capture`). It never drops and never changes a byte.
 *
 * A flow is one entry of the NF's own LRU hash (tdm_monitor_tables
 * [nf_id], made at its size), keyed by the packet's tuple as the parser
 * gave it, one way: a connection is two flows, as in sFlow or NetFlow.
 * When the table is full the least recently used flow goes.
 *
 * A capture is a BPF ring buffer its reader makes and puts in
 * tdm_monitor_rings[nf_id] (BPF_MAP_TYPE_RINGBUF, Linux 5.8; one per NF,
 * so two captures of two NFs do not take each other's frames), with its
 * snap length and sampling rate in tdm_monitor_captures[nf_id]. No ring:
 * one map lookup a packet, nothing copied.
 */
#ifdef TDM_NF_DECLARATIONS
#define TDM_MONITOR_DEFAULT_SIZE	65536	/* flows in an NF's table */
#define TDM_MONITOR_MAX_SIZE		(1 << 22)	/* ~120 bytes a flow (memlock) */
#define TDM_MONITOR_SNAPLEN_MAX		4096	/* bytes of a frame a capture copies */
/*
 * A capture's reader writes its heartbeat (tdm_monitor_beats[nf_id])
 * at least every TDM_MONITOR_BEAT_NS; one silent for TDM_MONITOR_STALE_NS
 * is taken for dead (killed with SIGKILL, stopped): the datapath copies
 * nothing into its ring, and a new capture may take the NF over.
 */
#define TDM_MONITOR_BEAT_NS		200000000ULL
#define TDM_MONITOR_STALE_NS		2000000000ULL

struct tdm_monitor_params {
	__u32 size;			/* flows in its table (LRU) */
};

enum {
	TDM_MONITOR_DROP_MAX = TDM_DROP_NF,	/* it never drops */
};

/*
 * A flow: the packet's tuple one way. IPv4 mapped into the 128-bit
 * addresses; ICMP and ICMPv6: the type, and for echo both ports are the
 * identifier; other protocols without ports: 0; frames that are not IP:
 * zero addresses, l3_proto tells them apart. 40 bytes, no padding holes.
 */
struct tdm_monitor_key {
	struct tdm_addr saddr;		/* network order */
	struct tdm_addr daddr;
	__u16 sport, dport;		/* host order */
	__u16 l3_proto;			/* ETH_P_*, host order */
	__u8 proto;			/* IPPROTO_*, 0: none */
	__u8 icmp_type;			/* ICMP, ICMPv6: the type; else 0 */
};

/* A flow's counters. 40 bytes. */
struct tdm_monitor_flow {
	__u64 packets;
	__u64 bytes;			/* frames' bytes as the NF sees them */
	__u64 first;			/* ns, CLOCK_MONOTONIC: its first packet */
	__u64 last;			/* ... its last */
	__u32 ifindex;			/* its last packet's ingress device */
	__u32 pad;
};

/*
 * NF nf_id's capture, set by its reader before it puts the ring in
 * tdm_monitor_rings[nf_id]. 32 bytes.
 */
struct tdm_monitor_capture {
	__u32 snaplen;			/* bytes copied of a frame, 1..SNAPLEN_MAX */
	__u32 sample;			/* 1 frame in sample, at random; 1: all */
	__u64 sampled;			/* frames chosen since it began */
	__u64 lost;			/* ... that found the ring full */
	__u32 pid;			/* the reader, for messages */
	__u32 pad;
};

/*
 * A record of the ring: this header, then caplen bytes of the frame
 * from its first (Ethernet) byte. 64 bytes; a record is at most
 * 64 + TDM_MONITOR_SNAPLEN_MAX.
 */
struct tdm_monitor_sample {
	__u64 tstamp;			/* ns, CLOCK_MONOTONIC */
	__u32 ifindex;			/* ingress device */
	__u32 len;			/* the frame's bytes */
	__u32 caplen;			/* bytes that follow */
	__u32 flags;			/* enum tdm_meta_flags */
	struct tdm_monitor_key key;	/* its flow, as the parser saw it */
};

TDM_NF(monitor, 9, struct tdm_monitor_params, TDM_MONITOR_DROP_MAX);
#endif /* TDM_NF_DECLARATIONS */

#ifdef TDM_NF_MAPS
/* Never read: defines the table's types in every object's BTF (see
 * tdm_ct_types in nf_conntrack.bpf.c). */
const volatile struct {
	struct tdm_monitor_key key;
	struct tdm_monitor_flow flow;
	struct tdm_monitor_sample sample;
} tdm_monitor_types;

struct tdm_monitor_table {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TDM_TEMPLATE_ENTRIES);
	__type(key, struct tdm_monitor_key);
	__type(value, struct tdm_monitor_flow);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, TDM_MAX_NFS);
	__type(key, __u32);		/* nf_id */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct tdm_monitor_table);
} tdm_monitor_tables SEC(".maps");

/* A capture's ring; its reader makes each at the size it wants. */
struct tdm_monitor_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TDM_TEMPLATE_RING);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, TDM_MAX_NFS);
	__type(key, __u32);		/* nf_id */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct tdm_monitor_ring);
} tdm_monitor_rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TDM_MAX_NFS);
	__type(key, __u32);		/* nf_id */
	__type(value, struct tdm_monitor_capture);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_monitor_captures SEC(".maps");

/* nf_id -> its capture reader's last heartbeat: ns, CLOCK_MONOTONIC */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TDM_MAX_NFS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_monitor_beats SEC(".maps");

/* A record being made, per CPU: too big for the stack */
struct tdm_monitor_record {
	struct tdm_monitor_sample hdr;
	__u8 data[TDM_MONITOR_SNAPLEN_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tdm_monitor_record);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_monitor_scratch SEC(".maps");
#endif /* TDM_NF_MAPS */

#ifdef TDM_NF_DATAPATH
_Static_assert(!(TDM_MONITOR_SNAPLEN_MAX & (TDM_MONITOR_SNAPLEN_MAX - 1)),
	       "monitor_sample() bounds the length with a mask");

static __always_inline void monitor_key(struct tdm_monitor_key *k,
					const struct tdm_meta *pm)
{
	k->saddr = pm->saddr;
	k->daddr = pm->daddr;
	k->sport = pm->sport;
	k->dport = pm->dport;
	k->icmp_type = 0;
	if ((pm->l4_proto == IPPROTO_ICMP || pm->l4_proto == IPPROTO_ICMPV6) &&
	    (pm->flags & TDM_F_L4)) {
		k->icmp_type = pm->icmp_type;
		if (tdm_icmp_is_echo(pm->l4_proto, pm->icmp_type)) {
			k->sport = pm->icmp_id;
			k->dport = pm->icmp_id;
		}
	}
	k->l3_proto = pm->l3_proto;
	k->proto = pm->l4_proto;
}

/*
 * Count the packet in its flow of NF nf_id's table. Not inlined, the key
 * on its own stack: the hop inlines its NFs, and a frame of the hop's
 * shares the verifier's 512 bytes with nat's calls.
 */
static __noinline void monitor_count(const struct tdm_meta *pm, __u32 nf_id)
{
	void *tab = bpf_map_lookup_elem(&tdm_monitor_tables, &nf_id);
	struct tdm_monitor_flow *f, fresh = {};
	__u64 now = bpf_ktime_get_ns();
	struct tdm_monitor_key k;

	if (!tab)
		return;
	monitor_key(&k, pm);
	f = bpf_map_lookup_elem(tab, &k);
	if (!f) {
		fresh.packets = 1;
		fresh.bytes = pm->pkt_len;
		fresh.first = now;
		fresh.last = now;
		fresh.ifindex = pm->ifindex;
		if (!bpf_map_update_elem(tab, &k, &fresh, BPF_NOEXIST))
			return;
		/* another CPU made it first */
		f = bpf_map_lookup_elem(tab, &k);
		if (!f)
			return;
	}
	__sync_fetch_and_add(&f->packets, 1);
	__sync_fetch_and_add(&f->bytes, pm->pkt_len);
	f->last = now;
	f->ifindex = pm->ifindex;
}

/* Copy the frame into NF nf_id's capture ring, if it is sampled */
static __noinline void monitor_sample(struct xdp_md *ctx,
				      const struct tdm_meta *pm, __u32 nf_id,
				      void *ring)
{
	struct tdm_monitor_capture *c;
	struct tdm_monitor_record *r;
	__u64 now = bpf_ktime_get_ns(), *beat;
	__u32 zero = 0, len;

	/* a reader gone without taking its ring back: nobody reads */
	beat = bpf_map_lookup_elem(&tdm_monitor_beats, &nf_id);
	if (!beat || (__s64)(now - *beat) > (__s64)TDM_MONITOR_STALE_NS)
		return;
	c = bpf_map_lookup_elem(&tdm_monitor_captures, &nf_id);
	r = bpf_map_lookup_elem(&tdm_monitor_scratch, &zero);
	if (!c || !r)
		return;
	if (c->sample > 1 && bpf_get_prandom_u32() % c->sample)
		return;
	__sync_fetch_and_add(&c->sampled, 1);
	len = pm->pkt_len;
	if (len > c->snaplen)
		len = c->snaplen;
	if (len < 1 || len > TDM_MONITOR_SNAPLEN_MAX) {
		__sync_fetch_and_add(&c->lost, 1);
		return;
	}
	/*
	 * The same value, its range [1, SNAPLEN_MAX] made by arithmetic:
	 * 6.1's verifier does not carry a bound checked on one register
	 * to its 32-bit copy, and the helper takes no 0.
	 */
	len = ((len - 1) & (TDM_MONITOR_SNAPLEN_MAX - 1)) + 1;
	if (bpf_xdp_load_bytes(ctx, 0, r->data, len)) {
		__sync_fetch_and_add(&c->lost, 1);
		return;
	}
	r->hdr.tstamp = now;
	r->hdr.ifindex = pm->ifindex;
	r->hdr.len = pm->pkt_len;
	r->hdr.caplen = len;
	r->hdr.flags = pm->flags;
	monitor_key(&r->hdr.key, pm);
	if (bpf_ringbuf_output(ring, r, sizeof(r->hdr) + len, 0))
		__sync_fetch_and_add(&c->lost, 1);
}

static __always_inline int monitor_run(struct xdp_md *ctx,
				       struct tdm_meta *pm,
				       const volatile struct tdm_hop_nf *nf)
{
	__u32 nf_id = nf->nf_id;
	void *ring;

	monitor_count(pm, nf_id);
	ring = bpf_map_lookup_elem(&tdm_monitor_rings, &nf_id);
	if (ring)
		monitor_sample(ctx, pm, nf_id, ring);
	return NF_CONTINUE;
}
#endif /* TDM_NF_DATAPATH */
