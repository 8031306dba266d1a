// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tuple space search for the firewall (Srinivasan, Suri, Varghese,
 * "Packet classification using tuple space search", SIGCOMM 1999): a
 * ruleset compiled to tuples, each a mask shape, and to the entries of
 * tdm_fw_tuples, one per rule and pair of port prefixes. The tuples are
 * sorted by their best rule, so that the datapath stops early as Open
 * vSwitch's classifier does (Pfaff et al., NSDI 2015). The compiler is
 * pure; the map writes take a context.
 *
 * The entries give the verdict of tdm_match() exactly: a tuple names the
 * family (0, 4, 6), whether the protocol is exact, the prefix lengths of
 * the addresses in the 128-bit space and of the ports; a port range
 * other than 0-65535 becomes prefixes of length 1 to 16 (which need
 * TDM_F_L4), the full range the one prefix of length 0 (which does not).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int tdm_port_prefixes(__u16 lo, __u16 hi, struct tdm_port_pfx *out)
{
	__u32 a = lo, b = hi;
	int n = 0, len;

	while (a <= b) {
		/* the largest aligned block at a that ends by b */
		for (len = 0; len < 16; len++) {
			__u32 size = 1U << (16 - len);

			if (!(a & (size - 1)) && a + size - 1 <= b)
				break;
		}
		out[n].value = a;
		out[n].len = len;
		n++;
		a += 1U << (16 - len);
	}
	return n;
}

static __u16 port_mask(__u8 len)
{
	return len ? (__u16)(0xffff << (16 - len)) : 0;
}

/* The shape of a tuple: what two entries share to be in one tuple. */
static bool tuple_same(const struct tdm_fw_tuple *a,
		       const struct tdm_fw_tuple *b)
{
	return a->family == b->family && a->proto_mask == b->proto_mask &&
	       a->src_len == b->src_len && a->dst_len == b->dst_len &&
	       a->sport_len == b->sport_len && a->dport_len == b->dport_len;
}

static __u64 order(__u32 prio, __u32 id)
{
	return (__u64)prio << 32 | id;
}

static int entry_cmp(const void *x, const void *y)
{
	const struct tdm_tss_entry *a = x, *b = y;
	int c = memcmp(&a->key, &b->key, sizeof(a->key));

	if (c)
		return c;
	return order(a->val.prio, a->val.id) < order(b->val.prio, b->val.id) ?
	       -1 : order(a->val.prio, a->val.id) > order(b->val.prio, b->val.id);
}

static int tuple_cmp(const void *x, const void *y)
{
	const struct tdm_fw_tuple *a = x, *b = y;
	__u64 oa = order(a->prio, a->id), ob = order(b->prio, b->id);

	return oa < ob ? -1 : oa > ob;
}

static int entry_add(struct tdm_tss_entries *e, const struct tdm_tss_entry *x)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 256;
		struct tdm_tss_entry *p = realloc(e->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		e->v = p;
		e->cap = cap;
	}
	e->v[e->n++] = *x;
	return 0;
}

void tdm_tss_free(struct tdm_tss_entries *e)
{
	free(e->v);
	memset(e, 0, sizeof(*e));
}

int tdm_tss_compile(struct tdm_fw_ruleset *rs, __u32 rs_key,
		    struct tdm_tss_entries *e)
{
	struct tdm_port_pfx sp[TDM_PORT_PFX_MAX], dp[TDM_PORT_PFX_MAX];
	struct tdm_fw_tuple t[TDM_FW_MAX_TUPLES];
	__u16 remap[TDM_FW_MAX_TUPLES];
	__u32 i, nt = 0, r;
	size_t k, out;
	int ns, nd, a, b, err;

	e->n = 0;
	for (r = 0; r < rs->nrules && r < TDM_FW_MAX_RULES; r++) {
		const struct tdm_fw_rule *rule = &rs->rules[r];
		const struct tdm_match *m = &rule->m;
		struct tdm_addr smask, dmask;

		tdm_prefix_mask(m->src_len, &smask);
		tdm_prefix_mask(m->dst_len, &dmask);
		ns = tdm_port_prefixes(m->sport_lo, m->sport_hi, sp);
		nd = tdm_port_prefixes(m->dport_lo, m->dport_hi, dp);
		for (a = 0; a < ns; a++) {
			for (b = 0; b < nd; b++) {
				struct tdm_fw_tuple want = {
					.smask = smask, .dmask = dmask,
					.sport_mask = port_mask(sp[a].len),
					.dport_mask = port_mask(dp[b].len),
					.need = (m->family == 4 ? TDM_F_IPV4 :
						 m->family == 6 ? TDM_F_IPV6 : 0) |
						(sp[a].len || dp[b].len ?
						 TDM_F_L4 : 0),
					.family = m->family,
					.proto_mask = m->proto ? 0xff : 0,
					.src_len = m->src_len,
					.dst_len = m->dst_len,
					.sport_len = sp[a].len,
					.dport_len = dp[b].len,
					.prio = rule->prio, .id = rule->id,
				};
				struct tdm_tss_entry x = {
					.key = {
						.ruleset = rs_key,
						.family = m->family,
						.proto = m->proto,
						.sport = sp[a].value,
						.dport = dp[b].value,
					},
					.val = { rule->prio, rule->id,
						 rule->action },
				};

				for (i = 0; i < 4; i++) {
					x.key.src.w[i] = m->src.w[i] & smask.w[i];
					x.key.dst.w[i] = m->dst.w[i] & dmask.w[i];
				}
				for (i = 0; i < nt; i++)
					if (tuple_same(&t[i], &want))
						break;
				if (i == nt) {
					if (nt == TDM_FW_MAX_TUPLES)
						return -E2BIG;
					t[nt++] = want;
				} else if (order(want.prio, want.id) <
					   order(t[i].prio, t[i].id)) {
					t[i].prio = want.prio;
					t[i].id = want.id;
				}
				x.key.tuple = i;
				err = entry_add(e, &x);
				if (err)
					return err;
			}
		}
	}

	/* tuples by their best rule; entries renumbered to match */
	for (i = 0; i < nt; i++)
		t[i].pad = i;		/* the old index, for the remap */
	qsort(t, nt, sizeof(t[0]), tuple_cmp);
	for (i = 0; i < nt; i++) {
		remap[t[i].pad] = i;
		t[i].pad = 0;
	}
	for (k = 0; k < e->n; k++)
		e->v[k].key.tuple = remap[e->v[k].key.tuple];

	/* one entry per key: the best rule's (the first, sorted so) */
	qsort(e->v, e->n, sizeof(e->v[0]), entry_cmp);
	for (k = 0, out = 0; k < e->n; k++)
		if (!out || memcmp(&e->v[out - 1].key, &e->v[k].key,
				   sizeof(e->v[k].key)))
			e->v[out++] = e->v[k];
	e->n = out;

	rs->mode = TDM_FW_MODE_TUPLES;
	rs->ntuples = nt;
	memset(rs->tuples, 0, sizeof(rs->tuples));
	memcpy(rs->tuples, t, nt * sizeof(t[0]));
	return 0;
}

static bool of_ruleset(const void *key, const void *arg)
{
	const struct tdm_fw_tuple_key *k = key;

	return k->ruleset == *(const __u32 *)arg;
}

int tdm_tss_clear(struct tdm_ctx *ctx, __u32 rs_key)
{
	return tdm_map_delete_if(ctx, tdm_fw_tuples_fd(ctx),
				 sizeof(struct tdm_fw_tuple_key), of_ruleset,
				 &rs_key);
}

int tdm_tss_write(struct tdm_ctx *ctx, const struct tdm_tss_entries *e)
{
	int fd = tdm_fw_tuples_fd(ctx);
	struct tdm_fw_tuple_key *keys;
	struct tdm_fw_tuple_val *vals;
	size_t i;
	__u32 count = e->n;
	int err = 0;

	if (!e->n)
		return 0;
	keys = malloc(e->n * sizeof(*keys));
	vals = malloc(e->n * sizeof(*vals));
	if (!keys || !vals) {
		err = tdm_err(ctx, ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < e->n; i++) {
		keys[i] = e->v[i].key;
		vals[i] = e->v[i].val;
	}
	if (!bpf_map_update_batch(fd, keys, vals, &count, NULL))
		goto out;
	if (errno == E2BIG || errno == ENOMEM) {
		err = -errno;		/* full: the caller goes linear */
		goto out;
	}
	/* no batch ops (or a partial one): one by one, from the start */
	for (i = 0; i < e->n; i++) {
		if (!bpf_map_update_elem(fd, &keys[i], &vals[i], BPF_ANY))
			continue;
		if (errno == E2BIG || errno == ENOMEM)
			err = -errno;
		else
			err = tdm_err(ctx, errno, "writing firewall tuples: %s",
				      strerror(errno));
		break;
	}
out:
	free(keys);
	free(vals);
	return err;
}
