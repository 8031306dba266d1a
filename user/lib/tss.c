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
	       a->sport_len == b->sport_len && a->dport_len == b->dport_len &&
	       a->src_set == b->src_set && a->dst_set == b->dst_set &&
	       a->set_flags == b->set_flags && a->ct_states == b->ct_states;
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

/*
 * The tuple and the entry of rule with source port prefix sp and
 * destination port prefix dp (x.key.tuple left 0: the caller's).
 */
static void entry_of(const struct tdm_fw_rule *rule,
		     const struct tdm_port_pfx *sp, const struct tdm_port_pfx *dp,
		     __u32 rs_key, struct tdm_fw_tuple *t,
		     struct tdm_tss_entry *x)
{
	const struct tdm_match *m = &rule->m;
	__u32 i;

	memset(t, 0, sizeof(*t));
	tdm_prefix_mask(m->src_len, &t->smask);
	tdm_prefix_mask(m->dst_len, &t->dmask);
	t->sport_mask = port_mask(sp->len);
	t->dport_mask = port_mask(dp->len);
	t->need = (m->family == 4 ? TDM_F_IPV4 : m->family == 6 ? TDM_F_IPV6 : 0) |
		  (sp->len || dp->len ? TDM_F_L4 : 0);
	t->family = m->family;
	t->proto_mask = m->proto ? 0xff : 0;
	t->src_len = m->src_len;
	t->dst_len = m->dst_len;
	t->sport_len = sp->len;
	t->dport_len = dp->len;
	t->prio = rule->prio;
	t->id = rule->id;
	/* a set's side: mask and key address 0 (src_len is 0 there) */
	t->src_set = m->src_set;
	t->dst_set = m->dst_set;
	t->set_flags = m->set_flags;
	t->ct_states = m->ct_states;
	memset(x, 0, sizeof(*x));
	x->key.ruleset = rs_key;
	x->key.family = m->family;
	x->key.proto = m->proto;
	x->key.sport = sp->value;
	x->key.dport = dp->value;
	for (i = 0; i < 4; i++) {
		x->key.src.w[i] = m->src.w[i] & t->smask.w[i];
		x->key.dst.w[i] = m->dst.w[i] & t->dmask.w[i];
	}
	x->val = (struct tdm_fw_tuple_val){ rule->prio, rule->id, rule->action };
}

/* The index of t's shape in shapes[0..*nt), added if new; -1 if full. */
static int shape_index(struct tdm_fw_tuple *shapes, __u32 *nt,
		       const struct tdm_fw_tuple *t)
{
	__u32 i;

	for (i = 0; i < *nt; i++)
		if (tuple_same(&shapes[i], t)) {
			if (order(t->prio, t->id) <
			    order(shapes[i].prio, shapes[i].id)) {
				shapes[i].prio = t->prio;
				shapes[i].id = t->id;
			}
			return i;
		}
	if (*nt == TDM_FW_MAX_TUPLES)
		return -1;
	shapes[(*nt)++] = *t;
	return i;
}

long tdm_tss_overflow(const struct tdm_fw_rule *rules, __u32 n,
		      bool *entries)
{
	struct tdm_port_pfx sp[TDM_PORT_PFX_MAX], dp[TDM_PORT_PFX_MAX];
	struct tdm_fw_tuple shapes[TDM_FW_MAX_TUPLES], t;
	struct tdm_tss_entry x;
	__u32 nt = 0, r;
	size_t ne = 0;
	int ns, nd, a, b;

	*entries = false;
	for (r = 0; r < n; r++) {
		ns = tdm_port_prefixes(rules[r].m.sport_lo, rules[r].m.sport_hi, sp);
		nd = tdm_port_prefixes(rules[r].m.dport_lo, rules[r].m.dport_hi, dp);
		ne += ns * nd;
		if (ne > TDM_FW_RULESET_ENTRIES) {
			*entries = true;
			return r;
		}
		for (a = 0; a < ns; a++)
			for (b = 0; b < nd; b++) {
				entry_of(&rules[r], &sp[a], &dp[b], 0, &t, &x);
				if (shape_index(shapes, &nt, &t) < 0)
					return r;
			}
	}
	return -1;
}

int tdm_tss_compile(const struct tdm_fw_rule *rules, __u32 n,
		    struct tdm_fw_ruleset *rs, __u32 rs_key,
		    struct tdm_tss_entries *e)
{
	struct tdm_port_pfx sp[TDM_PORT_PFX_MAX], dp[TDM_PORT_PFX_MAX];
	struct tdm_fw_tuple t[TDM_FW_MAX_TUPLES], want;
	struct tdm_tss_entry x;
	__u16 remap[TDM_FW_MAX_TUPLES];
	__u32 i, nt = 0, r;
	size_t k, out;
	int ns, nd, a, b, err, ti;

	e->n = 0;
	for (r = 0; r < n; r++) {
		ns = tdm_port_prefixes(rules[r].m.sport_lo, rules[r].m.sport_hi, sp);
		nd = tdm_port_prefixes(rules[r].m.dport_lo, rules[r].m.dport_hi, dp);
		for (a = 0; a < ns; a++) {
			for (b = 0; b < nd; b++) {
				entry_of(&rules[r], &sp[a], &dp[b], rs_key,
					 &want, &x);
				ti = shape_index(t, &nt, &want);
				if (ti < 0)
					return -E2BIG;
				x.key.tuple = ti;
				if (e->n >= TDM_FW_RULESET_ENTRIES)
					return -EFBIG;
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

/* the keys of e, for the map calls */
static struct tdm_fw_tuple_key *entry_keys(const struct tdm_tss_entries *e)
{
	struct tdm_fw_tuple_key *keys = malloc(e->n * sizeof(*keys) + 1);
	size_t i;

	for (i = 0; keys && i < e->n; i++)
		keys[i] = e->v[i].key;
	return keys;
}

int tdm_tss_delete(struct tdm_ctx *ctx, const struct tdm_tss_entries *e)
{
	struct tdm_fw_tuple_key *keys = entry_keys(e);
	int err;

	if (!keys)
		return tdm_err(ctx, ENOMEM, "out of memory");
	err = tdm_map_delete_keys(ctx, tdm_fw_tuples_fd(ctx), keys,
				  sizeof(*keys), e->n, "firewall tuples");
	free(keys);
	return err;
}

int tdm_tss_write(struct tdm_ctx *ctx, const struct tdm_tss_entries *e)
{
	struct tdm_fw_tuple_key *keys = entry_keys(e);
	struct tdm_fw_tuple_val *vals = malloc(e->n * sizeof(*vals) + 1);
	size_t i;
	int err;

	if (!keys || !vals) {
		err = tdm_err(ctx, ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < e->n; i++)
		vals[i] = e->v[i].val;
	err = tdm_map_write(ctx, tdm_fw_tuples_fd(ctx), keys, sizeof(*keys),
			    vals, sizeof(*vals), e->n, "firewall tuples");
out:
	free(keys);
	free(vals);
	return err;
}
