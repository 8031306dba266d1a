// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vlan: push, pop or modify the outermost 802.1Q / 802.1ad tag, as tc's
 * act_vlan does (its action names). The packet moves by 4 bytes
 * (bpf_xdp_adjust_head()); the metadata moves with it, so the NFs after
 * this one see the packet as it now is: offsets, length, tags.
 *
 * Untagged packets pass a pop or a modify unchanged, as in act_vlan. A
 * push onto TDM_MAX_VLAN tags is dropped: the next parser would not see
 * the IP header behind them (parsing.rst).
 */
#ifdef TDM_NF_DECLARATIONS
enum tdm_vlan_action {
	TDM_VLAN_PUSH = 1,
	TDM_VLAN_POP,
	TDM_VLAN_MODIFY,
};

enum tdm_vlan_flags {
	TDM_VLAN_F_PRIORITY = 1,	/* modify: set the PCP too */
};

struct tdm_vlan_params {
	__u8 action;			/* enum tdm_vlan_action */
	__u8 priority;			/* PCP, 0 to 7 */
	__u8 flags;			/* enum tdm_vlan_flags */
	__u8 pad;
	__u16 id;			/* VID, 0 to 4094 */
	__u16 tpid;			/* ETH_P_8021Q or ETH_P_8021AD, host
					 * order; modify: 0 keeps the tag's */
};

enum {
	TDM_VLAN_DROP_DEPTH = TDM_DROP_NF,	/* push onto TDM_MAX_VLAN tags */
	TDM_VLAN_DROP_ROOM,			/* no headroom for a tag */
	TDM_VLAN_DROP_MAX,
};

TDM_NF(vlan, 6, struct tdm_vlan_params, TDM_VLAN_DROP_MAX);
#endif /* TDM_NF_DECLARATIONS */

#ifdef TDM_NF_DATAPATH
#define VLAN_ETH_ADDRS		12	/* destination and source MAC */
#define VLAN_TAG		4	/* TPID, TCI */
#define VLAN_VID_MASK		0x0fff
#define VLAN_DEI		0x1000

/*
 * Push: the MAC addresses move 4 bytes to the front, the new tag goes
 * where they ended; what followed them (the old outer TPID, or the
 * ethertype) now follows the new tag.
 */
static __always_inline int vlan_push(struct xdp_md *ctx, struct tdm_meta *pm,
				     const volatile struct tdm_vlan_params *p)
{
	__u32 addrs[3];
	__be16 *tag;
	void *data, *end;

	if (pm->vlan_depth >= TDM_MAX_VLAN)
		return TDM_VLAN_DROP_DEPTH;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(struct ethhdr) > end)
		return NF_CONTINUE;	/* no Ethernet header: not a frame */
	__builtin_memcpy(addrs, data, VLAN_ETH_ADDRS);
	if (bpf_xdp_adjust_head(ctx, -VLAN_TAG))
		return TDM_VLAN_DROP_ROOM;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + VLAN_ETH_ADDRS + VLAN_TAG > end)
		return TDM_VLAN_DROP_ROOM;	/* not reached */
	__builtin_memcpy(data, addrs, VLAN_ETH_ADDRS);
	tag = data + VLAN_ETH_ADDRS;
	tag[0] = bpf_htons(p->tpid);
	tag[1] = bpf_htons((p->priority << 13) | p->id);

	pm->pkt_len += VLAN_TAG;
	if (pm->l3_off)
		pm->l3_off += VLAN_TAG;
	if (pm->l4_off)
		pm->l4_off += VLAN_TAG;
	pm->vlan_id[1] = pm->vlan_id[0];
	pm->vlan_id[0] = p->id;
	pm->vlan_depth++;
	pm->flags |= TDM_F_VLAN;
	return NF_CONTINUE;
}

/*
 * Pop: the MAC addresses move 4 bytes back over the outer tag; the
 * second tag (or the ethertype) now follows them.
 */
static __always_inline int vlan_pop(struct xdp_md *ctx, struct tdm_meta *pm)
{
	__u32 addrs[3];
	__be16 *tci2;
	void *data, *end;

	if (!pm->vlan_depth)
		return NF_CONTINUE;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + VLAN_ETH_ADDRS + VLAN_TAG > end)
		return NF_CONTINUE;	/* not reached: the parser saw the tag */
	__builtin_memcpy(addrs, data, VLAN_ETH_ADDRS);
	if (bpf_xdp_adjust_head(ctx, VLAN_TAG))
		return TDM_VLAN_DROP_ROOM;	/* not reached */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + VLAN_ETH_ADDRS > end)
		return TDM_VLAN_DROP_ROOM;	/* not reached */
	__builtin_memcpy(data, addrs, VLAN_ETH_ADDRS);

	pm->pkt_len -= VLAN_TAG;
	if (pm->l3_off)
		pm->l3_off -= VLAN_TAG;
	if (pm->l4_off)
		pm->l4_off -= VLAN_TAG;
	pm->vlan_depth--;
	pm->vlan_id[0] = pm->vlan_id[1];
	pm->vlan_id[1] = 0;
	/* the new second tag, if any: the old third */
	tci2 = data + VLAN_ETH_ADDRS + VLAN_TAG + 2;
	if (pm->vlan_depth >= 2 && (void *)(tci2 + 1) <= end)
		pm->vlan_id[1] = bpf_ntohs(*tci2) & VLAN_VID_MASK;
	if (!pm->vlan_depth)
		pm->flags &= ~TDM_F_VLAN;
	return NF_CONTINUE;
}

/* Modify: the outer tag's VID, and its PCP and TPID if asked, in place. */
static __always_inline int vlan_modify(struct xdp_md *ctx,
				       struct tdm_meta *pm,
				       const volatile struct tdm_vlan_params *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__be16 *tag = data + VLAN_ETH_ADDRS;
	__u16 tci;

	if (!pm->vlan_depth || (void *)(tag + 2) > end)
		return NF_CONTINUE;
	tci = bpf_ntohs(tag[1]);
	if (p->flags & TDM_VLAN_F_PRIORITY)
		tci = (p->priority << 13) | (tci & VLAN_DEI);
	else
		tci &= ~VLAN_VID_MASK;
	tag[1] = bpf_htons(tci | p->id);
	if (p->tpid)
		tag[0] = bpf_htons(p->tpid);
	pm->vlan_id[0] = p->id;
	return NF_CONTINUE;
}

static __always_inline int vlan_run(struct xdp_md *ctx, struct tdm_meta *pm,
				    const volatile struct tdm_hop_nf *nf)
{
	const volatile struct tdm_vlan_params *p = TDM_HOP_PARAMS(nf, vlan);

	switch (p->action) {
	case TDM_VLAN_PUSH:
		return vlan_push(ctx, pm, p);
	case TDM_VLAN_POP:
		return vlan_pop(ctx, pm);
	case TDM_VLAN_MODIFY:
		return vlan_modify(ctx, pm, p);
	}
	return NF_CONTINUE;
}
#endif /* TDM_NF_DATAPATH */
