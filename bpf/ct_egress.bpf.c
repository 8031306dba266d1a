// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A conntrack NF's eyes on what the host sends: a TC egress program on
 * the device its parameters name (egress DEV), loaded for that NF (its
 * id in .rodata). It parses each packet with the entry's parser and
 * updates the NF's flows as the NF itself does for what comes in, so
 * that the reply to a connection the host opened is established, and a
 * connection the host accepted goes on past its SYN. It never drops.
 */
#define TDM_PARSE_CTX struct __sk_buff
#include "lib/parse.h"
#include "lib/nf.h"
#define TDM_NF_DATAPATH
#include "nf_list.h"
#undef TDM_NF_DATAPATH

#define TC_ACT_OK	0

const volatile __u32 tdm_ct_nf_id;

SEC("tc")
int tdm_ct_egress(struct __sk_buff *skb)
{
	struct tdm_meta m;

	/*
	 * The host builds its packets' headers in the linear part, which
	 * the parser reads. No bpf_skb_pull_data(): it would copy the
	 * headers of every clone TCP keeps for retransmission. A packet
	 * whose headers are not all there is parsed as truncated, and not
	 * tracked.
	 */
	tdm_parse(skb, &m);
	conntrack_eval(&m, tdm_ct_nf_id, TDM_CT_HOOK_EGRESS, skb->ifindex);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
