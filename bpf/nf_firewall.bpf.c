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
#include "lib/nf.h"
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
			return r->action == TDM_ACT_DROP ? TDM_DROP_RULE :
							   NF_CONTINUE;
	}
	return rs->default_action == TDM_ACT_DROP ? TDM_DROP_DEFAULT :
						    NF_CONTINUE;
}

static __always_inline int firewall_run(struct xdp_md *ctx,
					struct tdm_meta *pm,
					const volatile struct tdm_hop_nf *nf)
{
	if (pm->flags & TDM_F_UNPARSED)
		return nf->params.firewall.unparsed_action == TDM_ACT_PASS ?
		       NF_CONTINUE : TDM_DROP_UNPARSED;
	if (pm->l3_proto != ETH_P_IP && pm->l3_proto != ETH_P_IPV6)
		return NF_CONTINUE;
	return firewall_eval(pm, tdm_fw_ruleset_key(nf->nf_id,
						   nf->params.firewall.bank));
}

TDM_NF(firewall, TDM_NF_FIREWALL);
