// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * firewall: a stateless ACL. Rules are tried in (prio, id) order; the
 * first match decides; no match takes the default action. The ruleset is
 * double-buffered: the loader names the bank this hop reads in tdm_hop, so
 * a rule change is a chain replace and every packet sees one ruleset.
 *
 * It filters IP: frames of other ethertypes (ARP, LLDP, ...) pass, as
 * they pass iptables and nftables' inet tables, so a default-drop
 * firewall does not cut a host off its neighbours. IP packets too
 * malformed to parse meet the rules (no port rule can match them) and
 * the default action.
 */
#include "lib/nf.h"
#include "lib/match.h"

static __always_inline int firewall_run(struct xdp_md *ctx,
					struct tdm_meta *pm)
{
	__u32 key = tdm_hop.fw_ruleset;
	struct tdm_fw_ruleset *rs;
	__u32 i, n;

	if (pm->l3_proto != ETH_P_IP && pm->l3_proto != ETH_P_IPV6)
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

TDM_NF(tdm_nf_firewall, firewall_run)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
