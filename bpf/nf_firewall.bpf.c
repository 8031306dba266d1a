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
 */
#ifdef TDM_NF_DECLARATIONS
#define TDM_FW_MAX_RULES	64	/* rules in one firewall */

struct tdm_firewall_params {
	__u32 default_action;		/* TDM_ACT_PASS or TDM_ACT_DROP */
	__u32 bank;			/* active ruleset bank, 0 or 1 */
	__u32 next_rule_id;
	__u32 unparsed_action;		/* for TDM_F_UNPARSED packets */
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

/* Two rulesets per firewall (double buffer): key nf_id * 2 + bank. */
struct tdm_fw_ruleset {
	__u32 nrules;
	__u32 default_action;
	struct tdm_fw_rule rules[TDM_FW_MAX_RULES];
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
#endif /* TDM_NF_MAPS */

#ifdef TDM_NF_DATAPATH
#include "lib/match.h"


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

	if (!pm)
		return NF_CONTINUE;
	rs = bpf_map_lookup_elem(&tdm_fw_rules, &key);
	if (!rs)
		return NF_CONTINUE;
	n = rs->nrules;
	for (i = 0; i < TDM_FW_MAX_RULES; i++) {
		struct tdm_fw_rule *r = &rs->rules[i];

		if (i >= n)
			break;
		if (tdm_match(&r->m, pm))
			return r->action == TDM_ACT_DROP ?
			       TDM_FIREWALL_DROP_RULE : NF_CONTINUE;
	}
	return rs->default_action == TDM_ACT_DROP ?
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
	return firewall_eval(pm, tdm_fw_ruleset_key(nf->nf_id, p->bank));
}
#endif /* TDM_NF_DATAPATH */
