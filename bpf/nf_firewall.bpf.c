// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * firewall: a stateless ACL. Rules are tried in (prio, id) order; the
 * first match decides; no match takes the default action. The ruleset is
 * double-buffered: the loader names the bank this NF reads in its hop's
 * .rodata, so a rule change is a chain replace and every packet sees one
 * ruleset.
 *
 * It filters IP: frames of other ethertypes (ARP, LLDP, ...) pass, as
 * they pass iptables and nftables' inet tables, so a default-drop
 * firewall does not cut a host off its neighbours. A packet the parser
 * could not see as the kernel will (TDM_F_UNPARSED: it may be IP, or its
 * ports are missing) never meets the rules: a rule that skipped it for
 * a field it lacks would let a later rule or the default pass it. It
 * takes the firewall's unparsed action instead, drop unless set.
 *
 * Classification (Documentation/architecture.rst, "Classification"): a
 * ruleset is looked up either linearly, rule after rule, or by tuple
 * space search (Srinivasan, Suri, Varghese, SIGCOMM 1999): the rules are
 * grouped by mask shape (a tuple) and each tuple is one hash lookup of
 * the packet's fields under its masks, in tdm_fw_tuples. Tuples are
 * sorted by the best (prio, id) of their rules, and the search stops
 * when the next tuple cannot beat the match found (Open vSwitch's
 * priority-sorted tuples, Pfaff et al., NSDI 2015): the cost is the
 * number of tuples tried, whatever the number of rules. Both give the
 * same verdict for every packet; the library picks one per ruleset.
 */
#ifdef TDM_NF_DECLARATIONS
#define TDM_FW_MAX_RULES	(1 << 18)	/* rules in one firewall */
#define TDM_FW_LINEAR_MAX	64	/* rules of a ruleset looked up linearly */
#define TDM_FW_MAX_TUPLES	64	/* tuples of one ruleset (tuples mode) */
/*
 * Entries of tdm_fw_tuples and tdm_fw_store, all firewalls and banks.
 * The maps are not preallocated, but a hash map's buckets are: 16 bytes
 * each, so 32 MiB and 16 MiB of kernel memory from the start.
 */
#define TDM_FW_MAX_ENTRIES	(1 << 21)
#define TDM_FW_STORE_MAX	(1 << 20)
/*
 * Entries of one ruleset, at most: a quarter of tdm_fw_tuples, so that
 * a firewall that holds them can still be changed (its two banks hold
 * the old and the new at once) next to others.
 */
#define TDM_FW_RULESET_ENTRIES	(TDM_FW_MAX_ENTRIES / 4)

/* The lookup parameter: how the library compiles the rulesets. */
enum tdm_fw_lookup {
	TDM_FW_LOOKUP_AUTO = 0,		/* by rules and tuples (the library) */
	TDM_FW_LOOKUP_LINEAR,
	TDM_FW_LOOKUP_TUPLES,		/* linear if it does not fit the tables */
};

struct tdm_firewall_params {
	__u32 default_action;		/* TDM_ACT_PASS or TDM_ACT_DROP */
	__u32 bank;			/* active ruleset bank, 0 or 1 */
	__u32 next_rule_id;
	__u32 unparsed_action;		/* for TDM_F_UNPARSED packets */
	__u32 lookup;			/* enum tdm_fw_lookup */
};

enum {
	TDM_FIREWALL_DROP_RULE = TDM_DROP_NF,	/* a rule said drop */
	TDM_FIREWALL_DROP_DEFAULT,		/* the default action */
	TDM_FIREWALL_DROP_UNPARSED,		/* a TDM_F_UNPARSED packet */
	TDM_FIREWALL_DROP_MAX,
};

struct tdm_fw_rule {
	__u32 id;			/* stable, for `rule del` */
	__u32 prio;			/* lower first, then id */
	__u32 action;			/* TDM_ACT_PASS or TDM_ACT_DROP */
	__u32 pad;
	struct tdm_match m;
};

/* How a ruleset is looked up: what the datapath reads (its mode). */
enum tdm_fw_mode {
	TDM_FW_MODE_LINEAR = 0,		/* rules[], in order */
	TDM_FW_MODE_TUPLES,		/* tuples[], then tdm_fw_tuples */
};

/*
 * A tuple: one mask shape. Its rules' entries in tdm_fw_tuples are keyed
 * by their fields under these masks; a packet's key is its fields under
 * the same masks. A port mask other than 0 needs TDM_F_L4 (a prefix of
 * length 0 is the full range, the only one that takes packets without
 * ports). The lengths are there for people (bpftool); the datapath
 * reads the masks, and need: one test where family and ports would be
 * three branches for the verifier to walk per tuple.
 */
struct tdm_fw_tuple {
	struct tdm_addr smask;		/* network order, 128-bit space */
	struct tdm_addr dmask;
	/* the flags a packet needs: its family's, TDM_F_L4 for ports */
	__u32 need;			/* enum tdm_meta_flags */
	__u16 sport_mask;		/* host order */
	__u16 dport_mask;
	__u8 family;			/* 0 any, 4, 6: as the rules' */
	__u8 proto_mask;		/* 0xff: the rules name one; 0: any */
	__u8 src_len, dst_len;		/* 0 to 128 */
	__u8 sport_len, dport_len;	/* 0 to 16 */
	__u16 pad;
	__u32 prio, id;			/* the best (lowest) rule in it */
	/*
	 * Address sets (struct tdm_match's): part of the shape. The key's
	 * address on a set's side is 0 (its mask is): the datapath checks
	 * the packet's address is in the set, then looks the key up.
	 */
	__u16 src_set, dst_set;		/* 0: none */
	__u8 set_flags;			/* enum tdm_match_set_flags */
	/* conntrack states (struct tdm_match's): part of the shape too */
	__u8 ct_states;
	__u8 pad2[2];
};

/*
 * An entry of tdm_fw_tuples: the fields of a rule (one prefix of each
 * of its port ranges) under the masks of tuple `tuple` of ruleset
 * `ruleset`. No padding: the datapath builds it field by field.
 */
struct tdm_fw_tuple_key {
	__u32 ruleset;			/* tdm_fw_ruleset_key() */
	__u16 tuple;			/* index in the ruleset's tuples[] */
	__u8 family;			/* the tuple's: 0, 4 or 6 */
	__u8 proto;			/* 0 if the tuple takes any */
	__u16 sport;			/* host order, masked */
	__u16 dport;
	struct tdm_addr src;		/* network order, masked */
	struct tdm_addr dst;
};

/* The best rule with that key in that tuple: lowest (prio, id). */
struct tdm_fw_tuple_val {
	__u32 prio;
	__u32 id;
	__u32 action;			/* TDM_ACT_PASS or TDM_ACT_DROP */
};

/*
 * Two rulesets per firewall (double buffer): key nf_id * 2 + bank. All
 * nrules rules, in (prio, id) order, are in tdm_fw_store (rule show, the
 * next change); mode says what the datapath reads: tuples[], sorted by
 * (prio, id) of each tuple's best rule, ascending, and their entries; or
 * rules[], a copy of the store's, when there are at most
 * TDM_FW_LINEAR_MAX.
 */
struct tdm_fw_ruleset {
	__u32 nrules;
	__u32 default_action;
	__u32 mode;			/* enum tdm_fw_mode */
	__u32 ntuples;			/* TDM_FW_MODE_TUPLES: used tuples[] */
	struct tdm_fw_tuple tuples[TDM_FW_MAX_TUPLES];
	struct tdm_fw_rule rules[TDM_FW_LINEAR_MAX];	/* TDM_FW_MODE_LINEAR */
};

/* A rule of a ruleset in tdm_fw_store: its position in (prio, id) order. */
struct tdm_fw_store_key {
	__u32 ruleset;			/* tdm_fw_ruleset_key() */
	__u32 index;			/* 0 to nrules - 1 */
};

/* The tdm_fw_rules key of bank (0 or 1) of firewall nf_id. */
static inline __u32 tdm_fw_ruleset_key(__u32 nf_id, __u32 bank)
{
	return nf_id * 2 + bank;
}

TDM_NF(firewall, 2, struct tdm_firewall_params, TDM_FIREWALL_DROP_MAX);
#endif /* TDM_NF_DECLARATIONS */

#ifdef TDM_NF_MAPS
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TDM_MAX_NFS * 2);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);		/* tdm_fw_ruleset_key() */
	__type(value, struct tdm_fw_ruleset);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_fw_rules SEC(".maps");

/* The rules of every ruleset; the datapath never reads them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TDM_FW_STORE_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tdm_fw_store_key);
	__type(value, struct tdm_fw_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_fw_store SEC(".maps");

/* The tuples' entries of every ruleset in TDM_FW_MODE_TUPLES. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TDM_FW_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tdm_fw_tuple_key);
	__type(value, struct tdm_fw_tuple_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_fw_tuples SEC(".maps");
#endif /* TDM_NF_MAPS */

#ifdef TDM_NF_DATAPATH
#include "lib/match.h"

static __always_inline __u64 fw_order(__u32 prio, __u32 id)
{
	return (__u64)prio << 32 | id;
}

/*
 * One tuple: the packet's fields under its masks, one hash lookup. 1 and
 * the entry in *out, or 0 when the packet cannot match the tuple or no
 * entry has its key. A global function: the verifier checks it once,
 * not once per turn of fw_tuples()' loop (inlined, a hop of one
 * firewall took 80,000 verified instructions; now 27,000).
 */
__noinline int fw_tuple_lookup(const struct tdm_meta *pm,
			       const struct tdm_fw_tuple *t, __u32 key,
			       __u32 i, struct tdm_fw_tuple_val *out)
{
	struct tdm_fw_tuple_key k;
	struct tdm_fw_tuple_val *v;
	__u32 j;

	if (!pm || !t || !out || (pm->flags & t->need) != t->need)
		return 0;
	if (t->ct_states && !(t->ct_states & (1U << pm->ct_state)))
		return 0;
	/* membership first: a set's side is not in the key */
	if (t->src_set &&
	    !tdm_set_has(t->src_set, t->set_flags & TDM_MATCH_SRC_INTERVAL,
			 pm, &pm->saddr))
		return 0;
	if (t->dst_set &&
	    !tdm_set_has(t->dst_set, t->set_flags & TDM_MATCH_DST_INTERVAL,
			 pm, &pm->daddr))
		return 0;
	k.ruleset = key;
	k.tuple = i;
	k.family = t->family;
	k.proto = pm->l4_proto & t->proto_mask;
	k.sport = pm->sport & t->sport_mask;
	k.dport = pm->dport & t->dport_mask;
	for (j = 0; j < 4; j++) {
		k.src.w[j] = pm->saddr.w[j] & t->smask.w[j];
		k.dst.w[j] = pm->daddr.w[j] & t->dmask.w[j];
	}
	v = bpf_map_lookup_elem(&tdm_fw_tuples, &k);
	if (!v)
		return 0;
	*out = *v;
	return 1;
}

/*
 * Tuple space search: one hash lookup per tuple the packet can match,
 * in the order of the tuples' best rules; once a rule matched, it stops
 * at the first tuple whose best rule is not better, which none of its
 * rules nor those of the tuples after it can beat. Returns the action
 * of the best rule, or -1 if none matches.
 */
static __always_inline int fw_tuples(const struct tdm_meta *pm, __u32 key,
				     const struct tdm_fw_ruleset *rs)
{
	struct tdm_fw_tuple_val v;
	__u64 best = ~0ULL;
	int action = -1;
	__u32 i, n;

	n = rs->ntuples;
	for (i = 0; i < TDM_FW_MAX_TUPLES; i++) {
		const struct tdm_fw_tuple *t = &rs->tuples[i];

		if (i >= n || (action >= 0 && fw_order(t->prio, t->id) >= best))
			break;
		if (fw_tuple_lookup(pm, t, key, i, &v) &&
		    fw_order(v.prio, v.id) < best) {
			best = fw_order(v.prio, v.id);
			action = v.action;
		}
	}
	return action;
}

/*
 * The rule walk is a global function: the verifier checks it once, on
 * its own, not once per firewall of a chain (inlined, a chain of 16
 * firewalls of 64 rules is more than the verifier will explore). The
 * call costs a few instructions per firewall, not per rule.
 */
__noinline int firewall_eval(const struct tdm_meta *pm, __u32 key)
{
	struct tdm_fw_ruleset *rs;
	__u32 i, n;
	int action;

	if (!pm)
		return NF_CONTINUE;
	rs = bpf_map_lookup_elem(&tdm_fw_rules, &key);
	if (!rs)
		return NF_CONTINUE;
	if (rs->mode == TDM_FW_MODE_TUPLES) {
		action = fw_tuples(pm, key, rs);
		if (action >= 0)
			return action == TDM_ACT_DROP ?
			       TDM_FIREWALL_DROP_RULE : NF_CONTINUE;
		return rs->default_action == TDM_ACT_DROP ?
		       TDM_FIREWALL_DROP_DEFAULT : NF_CONTINUE;
	}
	n = rs->nrules;
	for (i = 0; i < TDM_FW_LINEAR_MAX; i++) {
		struct tdm_fw_rule *r = &rs->rules[i];

		if (i >= n)
			break;
		if (tdm_match(&r->m, pm, true))
			return r->action == TDM_ACT_DROP ?
			       TDM_FIREWALL_DROP_RULE : NF_CONTINUE;
	}
	return rs->default_action == TDM_ACT_DROP ?
	       TDM_FIREWALL_DROP_DEFAULT : NF_CONTINUE;
}

/*
 * A ruleset the hop holds (struct tdm_hop_rules): the same first match
 * as firewall_eval()'s linear walk, on constants. A static subprogram:
 * the verifier checks it at each call with the hop's constant argument,
 * so for each rule it keeps only the checks the rule makes, and no map
 * is read (the ruleset's lookup and the global call were most of a
 * small firewall's cost). Not inlined: inlined into each of a hop's NF
 * slots it took the hop's frame past what nat's calls leave of 512.
 */
static __noinline int firewall_consts(const struct tdm_meta *pm,
				const volatile struct tdm_hop_rules *hr)
{
	int i;

#pragma unroll
	for (i = 0; i < TDM_HOP_RULES; i++) {
		const struct tdm_match *m;

		if (i >= hr->n)
			break;
		/*
		 * Through a pointer the compiler cannot trace to the
		 * constant object, it reads the values set at load (not the
		 * object file's zeros), as a volatile read would, without
		 * making tdm_match()'s every read volatile.
		 */
		m = (const struct tdm_match *)&hr->r[i].m;
		barrier_var(m);
		/* no sets here (the loader keeps those rulesets in the map:
		 * a set lookup's key on the hop's stack would leave too
		 * little of it for nat's calls); states, as tdm_match() */
		if (m->ct_states && !(m->ct_states & (1U << pm->ct_state)))
			continue;
		if (tdm_match(m, pm, false))
			return hr->r[i].action == TDM_ACT_DROP ?
			       TDM_FIREWALL_DROP_RULE : NF_CONTINUE;
	}
	return hr->default_action == TDM_ACT_DROP ?
	       TDM_FIREWALL_DROP_DEFAULT : NF_CONTINUE;
}

static __always_inline int firewall_run(struct xdp_md *ctx,
					struct tdm_meta *pm,
					const volatile struct tdm_hop_nf *nf)
{
	const volatile struct tdm_firewall_params *p =
		TDM_HOP_PARAMS(nf, firewall);

	if (pm->flags & TDM_F_UNPARSED)
		return p->unparsed_action == TDM_ACT_PASS ?
		       NF_CONTINUE : TDM_FIREWALL_DROP_UNPARSED;
	if (pm->l3_proto != ETH_P_IP && pm->l3_proto != ETH_P_IPV6)
		return NF_CONTINUE;
	if (nf->rules.on)
		return firewall_consts(pm, &nf->rules);
	return firewall_eval(pm, tdm_fw_ruleset_key(nf->nf_id, p->bank));
}
#endif /* TDM_NF_DATAPATH */
