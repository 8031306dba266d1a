// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Recovery: the journal's change that a killed process left, finished or
 * taken back by the finisher of its kind (journal.c says which). The
 * finishers live with what they change, in the layers below this file;
 * tdm_open() and a policy apply call tdm_journal_recover().
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int recover_fw_bank(struct tdm_ctx *ctx, const struct tdm_journal *j)
{
	struct tdm_nf_info info;
	int err;

	err = tdm_nf_get(ctx, j->nf_id, &info);
	if (err == -ENOENT || (!err && info.type != TDM_NF_FIREWALL))
		return 0;	/* nothing left to finish */
	if (err)
		return err;
	TDM_NF_PARAMS(&info.params, firewall)->bank = j->bank;
	TDM_NF_PARAMS(&info.params, firewall)->next_rule_id = j->next_rule_id;
	return tdm_fw_bank_finish(ctx, j->nf_id, &info);
}

static int recover(struct tdm_ctx *ctx, const struct tdm_journal *j)
{
	switch (j->op) {
	case TDM_J_FW_BANK:
		return recover_fw_bank(ctx, j);
	case TDM_J_CHAIN:
		return tdm_chain_finish(ctx, j->chain_id, &j->chain);
	case TDM_J_STEER:
		return tdm_steer_take_out(ctx, j->dev, j->id_lo, j->id_hi);
	case TDM_J_DEV_ATTACH:
		return tdm_dev_attach_recover(ctx, j->dev, j->flag);
	case TDM_J_DEV_DETACH:
		return tdm_dev_detach_recover(ctx, j->dev, j->flag);
	default:
		return 0;
	}
}

int tdm_journal_recover(struct tdm_ctx *ctx)
{
	struct tdm_journal j;
	__u32 key = 0;
	int err;

	if (bpf_map_lookup_elem(ctx->journal_fd, &key, &j))
		return tdm_err(ctx, errno, "reading the journal: %s",
			       strerror(errno));
	if (j.op == TDM_J_NONE)
		return 0;
	err = recover(ctx, &j);
	if (err)
		return err;
	return tdm_journal_end(ctx);
}
