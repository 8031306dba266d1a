// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vlan, the library half (bpf/nf_vlan.bpf.c): tc act_vlan's words.
 *   action push id VID [protocol 802.1q|802.1ad] [priority PCP]
 *   action pop
 *   action modify id VID [protocol 802.1q|802.1ad] [priority PCP]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>

#include "internal.h"

#define VLAN_VID_MAX	4094	/* 4095 is reserved (IEEE 802.1Q 9.6) */

static const struct tdm_nf_param vlan_params[] = {
	{ "action", "push|pop|modify", true },
	{ "id", "VID" },
	{ "protocol", "802.1q|802.1ad" },
	{ "priority", "0-7" },
	{}
};

static int verr(char *err, size_t errlen, const char *fmt, const char *a)
{
	snprintf(err, errlen, fmt, a);
	return -EINVAL;
}

static int vlan_parse(union tdm_nf_params *p, const char *const *vals,
		      char *err, size_t errlen)
{
	struct tdm_vlan_params *vp = TDM_NF_PARAMS(p, vlan);
	const char *action = vals[0], *id = vals[1], *proto = vals[2],
		   *prio = vals[3];
	__u64 v;

	if (!strcmp(action, "push"))
		vp->action = TDM_VLAN_PUSH;
	else if (!strcmp(action, "pop"))
		vp->action = TDM_VLAN_POP;
	else if (!strcmp(action, "modify"))
		vp->action = TDM_VLAN_MODIFY;
	else
		return verr(err, errlen,
			    "vlan: bad action '%s' (expected push, pop or modify)",
			    action);
	if (vp->action == TDM_VLAN_POP) {
		if (id || proto || prio)
			return verr(err, errlen,
				    "vlan: pop takes no %s (it removes the outer tag, whatever it is)",
				    id ? "id" : proto ? "protocol" : "priority");
		return 0;
	}
	if (!id)
		return verr(err, errlen, "vlan: %s needs 'id VID'", action);
	if (tdm_parse_uint(id, 0, VLAN_VID_MAX, &v))
		return verr(err, errlen,
			    "vlan: bad id '%s' (a VID is 0 to 4094)", id);
	vp->id = v;
	if (!proto)
		vp->tpid = vp->action == TDM_VLAN_PUSH ? ETH_P_8021Q : 0;
	else if (!strcmp(proto, "802.1q"))
		vp->tpid = ETH_P_8021Q;
	else if (!strcmp(proto, "802.1ad"))
		vp->tpid = ETH_P_8021AD;
	else
		return verr(err, errlen,
			    "vlan: bad protocol '%s' (expected 802.1q or 802.1ad)",
			    proto);
	if (prio) {
		if (tdm_parse_uint(prio, 0, 7, &v))
			return verr(err, errlen,
				    "vlan: bad priority '%s' (a PCP is 0 to 7)",
				    prio);
		vp->priority = v;
		vp->flags |= TDM_VLAN_F_PRIORITY;
	}
	return 0;
}

static void vlan_format(const union tdm_nf_params *p, char *buf, size_t size)
{
	const struct tdm_vlan_params *vp = TDM_NF_PARAMS(p, vlan);
	const char *proto = vp->tpid == ETH_P_8021AD ? " protocol 802.1ad" :
			    vp->tpid == ETH_P_8021Q ? " protocol 802.1q" : "";
	char prio[16] = "";

	if (vp->action == TDM_VLAN_POP) {
		snprintf(buf, size, "action pop");
		return;
	}
	if (vp->flags & TDM_VLAN_F_PRIORITY)
		snprintf(prio, sizeof(prio), " priority %u", vp->priority);
	snprintf(buf, size, "action %s id %u%s%s",
		 vp->action == TDM_VLAN_PUSH ? "push" : "modify", vp->id,
		 proto, prio);
}

static const char *const vlan_drops[TDM_VLAN_DROP_MAX] = {
	[TDM_VLAN_DROP_DEPTH] = "too_many_tags",
	[TDM_VLAN_DROP_ROOM] = "no_headroom",
};

const struct tdm_nf_ops tdm_nf_vlan = {
	.summary = "pushes, pops or modifies the outer 802.1Q/802.1ad tag",
	.help = "push puts a tag of VID id (protocol 802.1q by default, priority 0) outside any others;\n"
		"pop removes the outer tag; modify sets its VID (and protocol, priority if given).\n"
		"Untagged packets pass pop and modify unchanged; a push onto 8 tags drops the packet.",
	.params = vlan_params,
	.parse = vlan_parse, .format = vlan_format,
	.drops = vlan_drops,
};
