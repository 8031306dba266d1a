/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Types shared by the datapath (bpf/) and the control library (user/lib):
 * per-packet metadata, map keys and values, limits. Everything here is the
 * ABI of the maps pinned under /sys/fs/bpf/tandem: change a struct and the
 * pinned maps of an older version will be refused as incompatible.
 *
 * All addresses are stored as 128 bits in network byte order; IPv4 is kept
 * IPv4-mapped (::ffff:a.b.c.d) so that one matcher serves both families.
 */
#ifndef TANDEM_TANDEM_H
#define TANDEM_TANDEM_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * Bumped whenever the meaning of pinned state changes; the library
 * refuses pins stamped with another version (libbpf itself only checks
 * map types and sizes).
 */
#define TDM_ABI_VERSION		11

struct tdm_abi {
	__u32 version;			/* TDM_ABI_VERSION of the creator */
};

/* Limits: sizes of the pinned maps. */
#define TDM_MAX_NFS		128	/* NF instances */
#define TDM_MAX_CHAINS		128	/* chains; also the chain entry slots */
#define TDM_MAX_CHAIN_NFS	16	/* NFs in one chain (tail call limit 33) */
#define TDM_JMP_SLOTS		4096	/* prog array: chain entries + later hops */
#define TDM_MAX_DEVS		64	/* attached devices */
#define TDM_MAX_STEER_FLOWS	65536	/* exact 5-tuple steering entries */
#define TDM_MAX_STEER_RULES	131072	/* prefix/port steering rules */
#define TDM_MAX_STEER_LEAVES	131072	/* distinct (dev, dst prefix) */
#define TDM_STEER_BUCKET	16	/* rules that may cover one dst prefix */
#define TDM_STEER_LENS		4	/* dst prefix lengths probed by hash */
#define TDM_NAME_LEN		32
#define TDM_MAX_CHAIN_PROCS	4	/* process NFs in one chain */
#define TDM_NF_CMD_LEN		1024	/* a process NF's command line */
#define TDM_MAX_SETS		256	/* address sets: ids 1..TDM_MAX_SETS */
/* elements of all plain sets, and of all interval sets (each map) */
#define TDM_SET_MAX_ELEMS	(1 << 20)

#define TDM_CHAIN_NONE		0xffffffffU
#define TDM_SLOT_NONE		0xffffffffU
#define TDM_DEV_ANY		0xffffffffU	/* every device, in lookups */

/* Per-packet metadata, written once by the entry parser. */
enum tdm_meta_flags {
	TDM_F_VLAN	= 1 << 0,	/* at least one VLAN tag */
	TDM_F_IPV4	= 1 << 1,
	TDM_F_IPV6	= 1 << 2,
	TDM_F_L4	= 1 << 3,	/* ports or ICMP type/code valid */
	TDM_F_FRAG	= 1 << 4,	/* IP fragment (first or not) */
	TDM_F_FRAG_LATER = 1 << 5,	/* non-first fragment: no L4 header */
	TDM_F_TRUNC	= 1 << 6,	/* a header ran past the frame or datagram */
	TDM_F_BAD	= 1 << 7,	/* malformed: bad IHL, version, ... */
	TDM_F_IP_OPTS	= 1 << 8,	/* IPv4 options present */
	TDM_F_EXTHDR	= 1 << 9,	/* IPv6 extension headers present */
	/*
	 * The parser could not see what the kernel's stack will: no L3
	 * header, or no ports (ICMP type) in a packet or first fragment
	 * that needs them, or more VLAN tags or IPv6 extension headers
	 * than it follows. Firewalls apply their 'unparsed' action.
	 */
	TDM_F_UNPARSED	= 1 << 10,
	/*
	 * An ICMP or ICMPv6 error (destination unreachable, time exceeded,
	 * parameter problem, packet too big, source quench, redirect)
	 * whose quoted IP header and first 4 bytes of L4 were read into
	 * the inner_* fields.
	 */
	TDM_F_ICMP_ERR	= 1 << 11,
	/*
	 * A conntrack of this hop made a new flow, which goes into its
	 * table when the packet leaves the hop alive (conntrack_leave()).
	 */
	TDM_F_CT_NEW	= 1 << 12,
};

/*
 * What connection tracking says of a packet (struct tdm_meta.ct_state),
 * as nftables' ct state: set by a conntrack NF earlier in the chain;
 * untracked when none ran, or for what it does not track (non-IP, IPv6
 * neighbour discovery and MLD, as the kernel's nf_conntrack_proto_icmpv6.c
 * leaves them). A later fragment takes its first fragment's state. A
 * rule's state match is a mask of 1 << state.
 */
enum tdm_ct_state {
	TDM_CT_UNTRACKED = 0,
	TDM_CT_NEW,			/* opens a flow, or no reply seen yet */
	TDM_CT_ESTABLISHED,		/* of a flow seen both ways */
	TDM_CT_RELATED,			/* an ICMP error quoting a tracked flow */
	TDM_CT_INVALID,			/* fits no flow: a stray ACK, ... */
	TDM_CT_STATES,
};

struct tdm_addr {
	__u32 w[4];			/* network byte order */
};

/*
 * How deep the parser looks. The kernel strips any number of VLAN tags
 * of VID 0 (priority tags) and follows any number of IPv6 extension
 * headers; tandem follows this many and flags deeper packets
 * TDM_F_UNPARSED (a firewall drops them by default).
 */
#define TDM_MAX_VLAN		8
#define TDM_MAX_EXTHDR		8

struct tdm_meta {
	__u32 flags;			/* enum tdm_meta_flags */
	__u32 pkt_len;			/* data_end - data at entry */
	__u32 ifindex;			/* ingress device (a bond's slave...) */
	__u32 dev;			/* tandem's device: the entry's slot */
	__u32 chain_id;			/* chain being run */
	__u16 l3_off;			/* offsets from data */
	__u16 l4_off;
	__u16 l3_proto;			/* ETH_P_*, host order */
	__u16 vlan_id[2];		/* outer two tags; host order */
	__u8 vlan_depth;		/* tags, up to 8 */
	__u8 l4_proto;			/* IPPROTO_*, 0 if none */
	__u16 sport;			/* host order; 0 without ports */
	__u16 dport;			/* host order */
	__u8 icmp_type;
	__u8 icmp_code;
	struct tdm_addr saddr;
	struct tdm_addr daddr;
	__u16 icmp_id;			/* ICMP(v6) echo identifier, host order */
	__u8 tcp_flags;			/* TCP: byte 13 of the header (FIN 0x01...) */
	__u8 ct_state;			/* enum tdm_ct_state */
	/* TDM_F_ICMP_ERR: the quoted packet (ports: echo id for ICMP) */
	__u8 inner_proto;
	__u8 inner_hlen;		/* its IP header's bytes (IPv6: 40); it
					 * starts at l4_off + 8 */
	__u16 inner_sport, inner_dport;	/* host order */
	struct tdm_addr inner_saddr;
	struct tdm_addr inner_daddr;
	__u32 frag_id;			/* TDM_F_FRAG: the datagram's IP id */
	__u32 tcp_seq;			/* TCP: sequence number, host order */
	__u32 tcp_ack;			/* TCP: acknowledgment number */
};

/*
 * A match on the 5-tuple, used by firewall rules and steering rules alike.
 * A zero mask matches any address; proto 0 matches any protocol; a port
 * range [0, 65535] matches packets without ports too.
 */
struct tdm_match {
	struct tdm_addr src;		/* already masked */
	struct tdm_addr smask;
	struct tdm_addr dst;
	struct tdm_addr dmask;
	__u16 sport_lo, sport_hi;	/* host order, inclusive */
	__u16 dport_lo, dport_hi;
	__u8 proto;			/* 0: any */
	__u8 src_len;			/* prefix lengths, 128-bit space */
	__u8 dst_len;
	__u8 family;			/* 0 any, 4 or 6: packets of that family only */
	/*
	 * Address sets (firewall rules only): the source (destination) must
	 * be an element of set src_set (dst_set); 0: no set. The prefix of
	 * that side is then empty (len 0). set_flags copies each set's
	 * interval flag, so that the datapath knows which map to look in
	 * without reading the set's record.
	 */
	__u16 src_set, dst_set;		/* 1..TDM_MAX_SETS; 0: none */
	__u8 set_flags;			/* enum tdm_match_set_flags */
	/* firewall rules: 1 << enum tdm_ct_state of the states taken; 0 any */
	__u8 ct_states;
	__u8 pad[2];
};

enum tdm_match_set_flags {
	TDM_MATCH_SRC_INTERVAL = 1 << 0,	/* src_set is in tdm_set_prefixes */
	TDM_MATCH_DST_INTERVAL = 1 << 1,
};

/* ---- address sets ---- */

/*
 * An address set (tdm_sets, key: its id, 1..TDM_MAX_SETS): a named,
 * global collection of addresses (plain) or prefixes (interval) that
 * firewall rules match with src @NAME / dst @NAME. Elements change live:
 * the rules name the set's id, not its elements. Control plane only.
 */
enum tdm_set_flags {
	TDM_SET_INTERVAL = 1 << 0,	/* prefixes, in tdm_set_prefixes */
};

struct tdm_set_info {
	char name[TDM_NAME_LEN];
	__u8 family;			/* 0 inet (both), 4 or 6 */
	__u8 epoch;			/* of the last policy apply that
					 * changed its elements (sets.c) */
	__u16 flags;			/* enum tdm_set_flags */
	__u32 nelems;			/* elements, as the library wrote them */
};

/*
 * An element of a plain set (tdm_set_addrs): one address. family is the
 * element's (4: addr is IPv4-mapped; 6), which is the packet's at lookup:
 * an IPv6 packet from ::ffff:a.b.c.d never meets an IPv4 element of an
 * inet set.
 */
struct tdm_set_addr_key {
	__u16 set_id;
	__u8 family;			/* 4 or 6 */
	__u8 pad;
	struct tdm_addr addr;		/* network order, 128-bit space */
};

/*
 * An element of an interval set (tdm_set_prefixes, an LPM trie):
 * prefixlen is 32 + the prefix length in the 128-bit space (an IPv4
 * /N is 96 + N): the set id and the family are always matched whole,
 * so that an IPv6 prefix (::/0) of an inet set never covers IPv4
 * packets, stored IPv4-mapped.
 */
struct tdm_set_lpm_key {
	__u32 prefixlen;		/* 32 + 0..128 */
	__be16 set_id;			/* network order: the trie's bits */
	__u8 family;			/* 4 or 6 */
	__u8 pad;
	struct tdm_addr addr;		/* masked to the prefix */
};

enum tdm_verdict {
	TDM_ACT_PASS = 0,
	TDM_ACT_DROP = 1,
	TDM_ACT_TX = 2,
	TDM_ACT_REDIRECT = 3,
};

/*
 * Why a packet was dropped: each NF has TDM_NF_MAX_DROPS counters
 * (struct tdm_nf_stats). Counter TDM_DROP_MISSED is the hop program's own
 * (the tail call to the next hop failed: counted on the hop's last NF);
 * TDM_DROP_NF on are the NF type's reasons, in the order its file
 * declares them (TDM_NF()), so that adding an NF or a reason never
 * changes a pinned layout.
 */
#define TDM_NF_MAX_DROPS	16
enum {
	TDM_DROP_MISSED = 0,
	TDM_DROP_NF = 1,		/* an NF type's first reason */
};

/* ---- NF instances (control state) ---- */

/*
 * An NF's parameters: its type's own struct, declared in its file
 * bpf/nf_<type>.bpf.c, at most TDM_NF_PARAMS_SIZE bytes. BTF shows them
 * by type (bpf/lib/maps.h); code reads them with TDM_NF_PARAMS().
 */
#define TDM_NF_PARAMS_SIZE	64
union tdm_nf_params {
	__u8 raw[TDM_NF_PARAMS_SIZE];
	__u64 align;
};

/* The parameters of NF type name in p (a union tdm_nf_params *) */
#define TDM_NF_PARAMS(p, name)						\
	((struct tdm_##name##_params *)(void *)(p)->raw)

/*
 * Declares NF type name, in the declarations of its file (see
 * bpf/lib/nf.h): its id (for ever: pinned records hold it), its
 * parameters' struct and how many drop reasons it has, counting from
 * TDM_DROP_NF (its enum's end). tools/gen-nf-list reads this line.
 */
#define TDM_NF(name, id, params_t, ndrops)				\
	_Static_assert(sizeof(params_t) <= TDM_NF_PARAMS_SIZE &&	\
		       (int)(ndrops) >= (int)TDM_DROP_NF &&		\
		       (int)(ndrops) <= TDM_NF_MAX_DROPS && (id) > 0,	\
		       #name ": parameters above TDM_NF_PARAMS_SIZE or "	\
		       "drop reasons past TDM_NF_MAX_DROPS")

struct tdm_nf_info {
	char name[TDM_NAME_LEN];
	__u32 type;			/* enum tdm_nf_type_id, 0: free */
	__u32 pad;
	union tdm_nf_params params;
};

struct tdm_nf_stats {
	__u64 packets;
	__u64 bytes;
	__u64 drops[TDM_NF_MAX_DROPS];	/* by reason, as above */
};

/* ---- chains ---- */
struct tdm_chain_info {
	char name[TDM_NAME_LEN];
	__u32 in_use;
	__u32 nnfs;
	__u32 action;			/* terminal: enum tdm_verdict */
	__u32 redirect_ifindex;
	__u32 generation;		/* bumped by every replace */
	__u32 nhops;			/* programs the NFs are split into */
	__u32 nf_ids[TDM_MAX_CHAIN_NFS];
	/* prog array slot of each hop; hop 0 lives in slot chain_id */
	__u32 slots[TDM_MAX_CHAIN_NFS];
	/* the state each NF's hop reads, as its type says (a firewall:
	 * the tdm_fw_rules key of its bank); 0: none */
	__u32 nf_state[TDM_MAX_CHAIN_NFS];
	/* the index of each hop's first NF: a packet back from the process
	 * NF at position p goes on in the hop whose first NF is p + 1 */
	__u32 first[TDM_MAX_CHAIN_NFS];
};

struct tdm_chain_stats {
	__u64 packets;			/* entered the chain */
	__u64 bytes;
	__u64 passed;			/* terminal action counts */
	__u64 dropped;			/* by an NF or the terminal */
	__u64 txed;
	__u64 redirected;		/* handed to the redirect */
	__u64 missed;			/* failed tail calls */
	__u64 backpressure;		/* dropped at entry: a process NF congested */
};

/*
 * The journal: the change in progress, if any. A change of several map
 * writes writes its intent here before the first write the datapath can
 * see and clears it after the last; tdm_open() finds a change that a
 * crash or kill -9 cut short and finishes it, or takes it back, before
 * anything reads the state (user/lib/journal.c). Control plane only.
 */
enum tdm_journal_op {
	TDM_J_NONE = 0,
	TDM_J_FW_BANK,		/* firewall nf_id moves to bank: finish it */
	TDM_J_CHAIN,		/* chain chain_id becomes chain: finish it */
	TDM_J_STEER,		/* dev's entries id_lo..id_hi - 1: take out */
	TDM_J_DEV_ATTACH,	/* dev: keep if its link is pinned, else undo */
	TDM_J_DEV_DETACH,	/* dev: finish the detach */
};

struct tdm_journal {
	__u32 op;			/* enum tdm_journal_op */
	__u32 nf_id;			/* TDM_J_FW_BANK */
	__u32 bank;
	__u32 next_rule_id;
	__u32 dev;			/* TDM_J_STEER, TDM_J_DEV_*: slot */
	__u32 id_lo;			/* TDM_J_STEER: ids, [lo, hi) */
	__u32 id_hi;
	__u32 flag;			/* ATTACH: a new record; DETACH: forget it */
	__u32 chain_id;			/* TDM_J_CHAIN */
	__u32 pad;
	struct tdm_chain_info chain;	/* TDM_J_CHAIN: the record to build */
};

/*
 * What runs, for `tandem status` (one entry): the daemon that registered
 * and the last policy apply. Control plane only. Times are
 * CLOCK_REALTIME in ns; the daemon's /proc starttime (clock ticks since
 * boot) tells it from another process that got its pid.
 */
struct tdm_status {
	__u32 daemon_pid;		/* 0: no daemon registered */
	__u32 apply_changes;		/* objects the last apply changed */
	__u64 daemon_start;		/* ns */
	__u64 daemon_starttime;		/* ticks, field 22 of /proc/PID/stat */
	__u64 apply_time;		/* ns; 0: never applied */
	__s32 apply_result;		/* 0 or -errno */
	__u32 apply_pid;		/* who applied */
	char apply_file[256];		/* the policy file, as given */
	char apply_msg[256];		/* its error, or "" */
	/* how the daemon schedules process NFs (enum tdm_sched_mode) */
	__u32 sched_mode;
	__u32 sched_us;			/* polling interval, microseconds */
	__u32 sched_cgroup;		/* 0 none, 1 v1 cpu.shares, 2 v2 */
	__u32 pad;
};

enum tdm_sched_mode {
	TDM_SCHED_NONE = 0,		/* no daemon: no restarts, no weights */
	TDM_SCHED_POLLING,		/* tandemd polls the queues */
	TDM_SCHED_MODULE,		/* tandem_sched.ko reacts to events */
};

/*
 * The apply log: a policy apply in progress (user/lib/apply.c). Key 0 is
 * the header (op TDM_AP_HEADER): hi is the number of steps, lo the phase.
 * Before the commit each step says how to take back a change made (it
 * is written before the change); at the commit the deletions left are
 * written, and the phase says to finish them. tdm_open() of a state with
 * a log left by a killed apply takes back the changes in reverse order,
 * or after the commit finishes the deletions: in the network namespace
 * of the apply (devices are named in it). Control plane only.
 */
enum tdm_apply_phase {
	TDM_AP_IDLE = 0,
	TDM_AP_CHANGING,		/* steps are undone on failure */
	TDM_AP_COMMITTED,		/* steps (deletions) are finished */
};

enum tdm_apply_op {
	TDM_AP_NONE = 0,
	TDM_AP_HEADER,
	/* before the commit: how to take a change back */
	TDM_AP_NF_ADDED,		/* name: delete it */
	TDM_AP_NF_CHANGED,		/* id: back to record nf (bank, params) */
	TDM_AP_CHAIN_ADDED,		/* name: delete it */
	TDM_AP_CHAIN_CHANGED,		/* name: back to chain's NFs, action */
	TDM_AP_DEV_ATTACHED,		/* name: detach it */
	TDM_AP_DEV_CHANGED,		/* name: back to chain_id, mode */
	TDM_AP_STEER_ADDED,		/* slot id: take out entries [lo, hi) */
	TDM_AP_FLOW_CHANGED,		/* slot id, match: back to chain_id */
	/* after the commit: what is left to delete */
	TDM_AP_STEER_DEL,		/* slot id: entry lo */
	TDM_AP_DEV_DETACH,		/* name */
	TDM_AP_CHAIN_DEL,		/* name */
	TDM_AP_NF_DEL,			/* name */
	/* address sets: before the commit */
	TDM_AP_SET_ADDED,		/* name: delete it */
	TDM_AP_SET_CHANGED,		/* id, name: unstage epoch lo, back to
					 * hi elements, epoch mode */
	/* after the commit */
	TDM_AP_SET_PRUNE,		/* id, name: all but epoch lo out, hi
					 * elements */
	TDM_AP_SET_DEL,			/* name */
};

struct tdm_apply_step {
	__u32 op;			/* enum tdm_apply_op */
	__u32 id;			/* NF id, device slot */
	__u32 lo, hi;			/* steering ids; header: phase, steps */
	__u32 chain_id;			/* DEV_CHANGED, FLOW_CHANGED */
	__u32 mode;			/* DEV_CHANGED: XDP_FLAGS_*_MODE */
	char name[TDM_NAME_LEN];	/* NF, chain or device */
	struct tdm_nf_info nf;		/* NF_CHANGED */
	struct tdm_match m;		/* FLOW_CHANGED */
	__u32 nnfs;			/* CHAIN_CHANGED */
	__u32 action;
	__u32 redirect_ifindex;
	__u32 nf_ids[TDM_MAX_CHAIN_NFS];
	__u64 netns;			/* header: cookie of the applier's netns */
};

#define TDM_APPLY_MAX_STEPS	(1 << 20)

/* ---- process NFs ---- */

/*
 * In front of every frame the chain hands to a process NF, in the frame
 * (XDP metadata holds at most 32 bytes): who handed it and the parsed
 * packet, so that the chain goes on after the NF without parsing again.
 * The NF sends it back unchanged in front of the frame it passes.
 */
#define TDM_HANDOFF_MAGIC	0x74646d31U	/* "tdm1" */

struct tdm_handoff {
	__u32 magic;			/* TDM_HANDOFF_MAGIC */
	__u32 nf_id;			/* the process NF */
	__u32 chain_id;
	__u32 pos;			/* the NF's index in the chain */
	/*
	 * The NFs the packet ran before this one, bit n for nf_id n: it
	 * goes on after the NF only if it ran every NF before the NF in
	 * the chain as it is when it comes back.
	 */
	__u32 ran[TDM_MAX_NFS / 32];
	struct tdm_meta meta;
};

/*
 * The queue of process NF nf_id, key nf_id of the mmapable array
 * tdm_nf_queues: the datapath writes the first cache line, the NF's
 * process (user/nf/) the second. Its backlog, in frames, is
 * handed - consumed - ring_drops: frames given to the socket's RX ring
 * minus those the NF took or the kernel dropped. The datapath counts
 * what it hands even while the NF is descheduled and reports nothing.
 */
struct tdm_nf_queue {
	/* the datapath's */
	__u64 handed;			/* redirected to the NF's socket */
	__u64 bypassed;			/* passed on while down (fail open) */
	__u64 bp_drops;			/* dropped at chain entry for it */
	__u64 congestions;		/* times it was marked congested */
	__u32 congested;		/* 1 from high watermark to low */
	__u32 high;			/* watermarks in frames, set by */
	__u32 low;			/* the library */
	__u32 weight;			/* CPU weight tandemd set; 0: none */
	__u64 stale;			/* back after its chain changed so that
					 * it would skip an NF: dropped */
	__u64 junk;			/* frames on its devices that are not
					 * the chain's: dropped */
	/* the NF process's (user/nf/nf.c) */
	__u64 consumed;			/* taken from the RX ring */
	__u64 passed;			/* sent back to the chain */
	__u64 dropped;			/* its verdict: drop */
	__u64 ring_drops;		/* XDP_STATISTICS rx_dropped+rx_ring_full */
	__u64 cycles;			/* TSC cycles in the NF's handler... */
	__u64 samples;			/* ...over this many packets */
	__u64 heartbeat;		/* CLOCK_MONOTONIC ns of its last batch */
	__u32 pid;			/* the process holding the socket */
	__u32 ring;			/* its RX ring, frames */
	/* the NF process's: what its packets cost */
	__u64 cpu_ns;			/* its thread's CPU time serving them */
	/*
	 * The datapath's: packets of its chains dropped at entry because
	 * it or another process NF of the chain was congested. With
	 * handed, the load the chain offered it (NFVNice's arrivals).
	 */
	__u64 entry_drops;
	/* the datapath's: when it last crossed a watermark, either way
	 * (bpf_ktime_get_ns(), CLOCK_MONOTONIC ns): reaction times */
	__u64 crossed_ns;
	__u64 pad1[5];
};

/* The veth pair of process NF id: the chain's end and the NF's end. */
#define TDM_PROC_DEV_CHAIN	"tdmnf%ua"
#define TDM_PROC_DEV_NF		"tdmnf%ub"
#define TDM_PROC_DEV_PREFIX	"tdmnf"		/* no other device's name */
/* The pair's MTU: a 1500-byte MTU's frames and struct tdm_handoff, below
 * the largest a veth with XDP takes without multi-buffer (~3500) */
#define TDM_PROC_MTU		3000

/* A process NF's command line: arguments joined by single spaces. */
struct tdm_nf_cmd {
	char line[TDM_NF_CMD_LEN];
};

/*
 * A small ruleset held by the hop itself (a firewall's, when it is read
 * rule after rule and has at most TDM_HOP_RULES rules): the loader copies
 * it from the bank the NF's parameters name, so the verifier sees every
 * field as a constant and keeps only the checks the rules make, and the
 * datapath reads no map for it (bpf/nf_firewall.bpf.c). The same rules,
 * in the same (prio, id) order, as that bank's; a rule change reloads
 * the hop whichever way it reads them.
 */
#define TDM_HOP_RULES	4

struct tdm_hop_rule {
	struct tdm_match m;
	__u32 action;			/* TDM_ACT_PASS or TDM_ACT_DROP */
};

struct tdm_hop_rules {
	__u32 on;			/* 1: the NF reads these, not its maps */
	__u32 n;			/* rules in r[], 0 to TDM_HOP_RULES */
	__u32 default_action;		/* when none matches */
	struct tdm_hop_rule r[TDM_HOP_RULES];
};

/* One NF of a hop, as the hop program's .rodata holds it. */
struct tdm_hop_nf {
	__u32 type;			/* enum tdm_nf_type_id */
	__u32 nf_id;
	union tdm_nf_params params;	/* as the NF's record has them */
	struct tdm_hop_rules rules;	/* on = 0 unless the type fills it */
};

/*
 * Read-only configuration of one hop: a program running NFs of a chain
 * one after another (all of them, unless make bench splits the chain),
 * then jumping to the next hop or carrying out the terminal action. The
 * loader sets it in .rodata, so the verifier sees constants: it keeps
 * only the inline code of these NFs, and the tail call to the next hop
 * has a constant index, which the JIT turns into a direct jump.
 */
struct tdm_hop {
	__u32 chain_id;
	__u32 next_slot;		/* TDM_SLOT_NONE: last hop */
	__u32 action;			/* terminal action */
	__u32 redirect_ifindex;
	__u32 runtime_jump;		/* make bench only: see chain.bpf.c */
	/*
	 * 1: the last NF is a process NF: the hop hands the packet to it
	 * (to handoff_ifindex); next_slot then runs after the NF.
	 */
	__u32 handoff;
	__u32 handoff_ifindex;
	/* 1: runs after a process NF: see the terminal actions in chain.bpf.c */
	__u32 resumed;
	/* hop 0: the chain's process NFs, whose congestion drops at entry */
	__u32 nprocs;
	__u32 procs[TDM_MAX_CHAIN_PROCS];
	__u32 first;			/* chain index of the hop's first NF */
	/* handoff: the NFs before the process NF (struct tdm_handoff) */
	__u32 ran[TDM_MAX_NFS / 32];
	__u32 nnfs;
	struct tdm_hop_nf nfs[TDM_MAX_CHAIN_NFS];
};

/* ---- devices and steering ---- */

/*
 * A device tandem knows, keyed in tdm_devs by its slot: the id every
 * steering entry of the device names, and the index of its counters.
 * The entry program is loaded for one slot (.rodata) and finds its
 * record by it, not by the packet's ingress ifindex, which is a bond's
 * slave's, or another device's after the device moved to a namespace
 * where its ifindex is taken. The record is the device's for the
 * device's lifetime: ifindex, netns and name as they were when tandem
 * took the device, and the id of the bpf_link that attaches the entry
 * program (0: not attached), which follows the device wherever it goes
 * and says where it is now (see user/lib/devrec.c).
 */
struct tdm_dev {
	char name[16];			/* when tandem took it */
	__u32 ifindex;			/* when tandem took it */
	__u32 slot;			/* the key; index into tdm_dev_stats */
	__u32 default_chain;		/* TDM_CHAIN_NONE: pass */
	__u32 mode;			/* XDP_FLAGS_DRV_MODE/SKB_MODE */
	/* steering entries of the device: lets the datapath skip empty tables */
	__u32 nflows;
	__u32 nrules;
	/*
	 * The distinct destination prefix lengths of the device's rules,
	 * longest first: the datapath looks the packet's destination up in
	 * tdm_steer_pfx once per length. More than TDM_STEER_LENS: it walks
	 * the trie tdm_steer_lpm instead (which holds the same leaves).
	 */
	__u32 nlens;
	__u8 lens[TDM_STEER_LENS];
	__u64 netns;			/* cookie of the device's namespace */
	__u32 link_id;			/* bpf_link id; 0: not attached */
	__u32 pad;
};

/*
 * The entry program's shortcut for device slot: tdm_dev_fast[slot]. Most
 * devices steer every packet to their default chain (no exact flows, no
 * rules); for them the entry reads this one word, not the device record
 * (a hash lookup that was most of the entry's cost). route:
 *   TDM_ROUTE_RECORD (0)  read the record in tdm_devs: the device has
 *                         steering entries, or is being changed (0 is
 *                         what a fresh slot holds: always right)
 *   TDM_ROUTE_PASS        no chain: to the stack
 *   TDM_ROUTE_CHAIN + id  chain id, the device's default
 * The library sets it to 0 before it writes or deletes a record, and to
 * what the record says after (tdm_dev_route()), so a writer killed in
 * between leaves 0. One __u32: the datapath never reads half of it.
 */
#define TDM_ROUTE_RECORD	0U
#define TDM_ROUTE_PASS		1U
#define TDM_ROUTE_CHAIN		2U

struct tdm_dev_fast {
	__u32 route;
};

struct tdm_dev_stats {
	__u64 packets;
	__u64 bytes;
	__u64 steer_flow;		/* chosen by exact 5-tuple */
	__u64 steer_rule;		/* by a prefix/port rule */
	__u64 steer_default;		/* by the device default */
	__u64 no_chain;			/* passed to the stack */
	__u64 missed;			/* chain slot empty: passed */
	__u64 truncated;
	__u64 malformed;
	__u64 fragments;
	__u64 unparsed;			/* TDM_F_UNPARSED */
};

struct tdm_flow_key {
	__u32 dev;			/* struct tdm_dev.slot */
	__u8 proto;
	__u8 family;			/* 4 or 6: never the other's packets */
	__u16 sport;			/* host order */
	__u16 dport;
	__u16 pad2;
	struct tdm_addr saddr;
	struct tdm_addr daddr;
};

struct tdm_flow_val {
	__u32 chain_id;
	__u32 rule_id;
};

/* Rule entries are immutable once written; freed after a grace period. */
struct tdm_steer_rule {
	__u32 id;			/* 0: free slot */
	__u32 prio;
	__u32 dev;			/* struct tdm_dev.slot */
	__u32 chain_id;
	struct tdm_match m;
	__u32 pad;			/* a multiple of 8: mmap stride */
};

/* LPM key: the device (always matched whole) then the destination. */
struct tdm_steer_lpm_key {
	__u32 prefixlen;		/* 32 + dst prefix length */
	__u32 dev;			/* slot, network byte order for the trie */
	struct tdm_addr dst;
};

/* The same leaf, keyed for a hash lookup: one per (dev, length, dst). */
struct tdm_steer_pfx_key {
	__u32 dev;			/* struct tdm_dev.slot */
	__u32 len;			/* dst prefix length, 0 to 128 */
	struct tdm_addr dst;		/* masked to len */
};

/* All rules whose dst prefix covers a leaf, in (prio, id) order. */
struct tdm_steer_bucket {
	__u32 n;
	__u32 rule[TDM_STEER_BUCKET];	/* indexes into tdm_steer_rules */
};

#endif /* TANDEM_TANDEM_H */
