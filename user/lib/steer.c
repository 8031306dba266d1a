// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Steering entries of a device. A fully specified 5-tuple goes into the
 * exact-match hash; any other match becomes a rule.
 *
 * Rules are found through an LPM trie keyed by (device, destination
 * prefix): each distinct rule destination is a leaf, and a leaf's bucket
 * lists every rule whose destination covers it, in (prio, id) order. The
 * datapath does one LPM lookup and checks at most TDM_STEER_BUCKET rules.
 *
 * Rule entries are immutable once written. A new rule is written before
 * any bucket names it; a deleted rule is unlinked from the buckets, and
 * its entry deleted only after a grace period. The rules live in a hash
 * keyed by index (bpftool lists only those that exist); the library
 * reads them into an array indexed the same way.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct rule_set {
	const struct tdm_steer_rule *r;	/* by index; id 0: no rule there */
	__u32 n;
};

#define RULES_BATCH	4096

/*
 * Every rule, into ctx->srules (TDM_MAX_STEER_RULES entries, by index),
 * with the kernel's batch lookup: 100,000 rules in a few dozen calls.
 */
static int rules_read(struct tdm_ctx *ctx, struct rule_set *rs)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct tdm_steer_rule *vals;
	__u32 in, out, count, i, *keys;
	bool first = true;
	int err;

	if (!ctx->srules) {
		ctx->srules = calloc(TDM_MAX_STEER_RULES, sizeof(*ctx->srules));
		if (!ctx->srules)
			return tdm_err(ctx, ENOMEM, "out of memory");
	}
	keys = calloc(RULES_BATCH, sizeof(*keys));
	vals = calloc(RULES_BATCH, sizeof(*vals));
	if (!keys || !vals) {
		err = tdm_err(ctx, ENOMEM, "out of memory");
		goto out;
	}
	memset(ctx->srules, 0, TDM_MAX_STEER_RULES * sizeof(*ctx->srules));
	do {
		count = RULES_BATCH;
		err = bpf_map_lookup_batch(ctx->srules_fd, first ? NULL : &in,
					   &out, keys, vals, &count, &opts);
		if (err && errno != ENOENT) {
			err = tdm_err(ctx, errno, "reading the steering rules: %s",
				      strerror(errno));
			goto out;
		}
		for (i = 0; i < count; i++)
			if (keys[i] < TDM_MAX_STEER_RULES)
				ctx->srules[keys[i]] = vals[i];
		in = out;
		first = false;
	} while (!err);
	err = 0;
	rs->r = ctx->srules;
	rs->n = TDM_MAX_STEER_RULES;
out:
	free(keys);
	free(vals);
	return err;
}

bool tdm_steer_is_exact(const struct tdm_match *m)
{
	return m->src_len == 128 && m->dst_len == 128 &&
	       (m->proto == IPPROTO_TCP || m->proto == IPPROTO_UDP ||
		m->proto == IPPROTO_SCTP) &&
	       m->sport_lo == m->sport_hi && m->dport_lo == m->dport_hi;
}

static void flow_key_of(__u32 slot, const struct tdm_match *m,
			struct tdm_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->dev = slot;
	k->proto = m->proto;
	k->family = m->family;
	k->sport = m->sport_lo;
	k->dport = m->dport_lo;
	k->saddr = m->src;
	k->daddr = m->dst;
}

static void match_of_flow(const struct tdm_flow_key *k, struct tdm_match *m)
{
	tdm_match_init(m);
	m->proto = k->proto;
	m->sport_lo = m->sport_hi = k->sport;
	m->dport_lo = m->dport_hi = k->dport;
	m->src = k->saddr;
	m->dst = k->daddr;
	memset(&m->smask, 0xff, sizeof(m->smask));
	memset(&m->dmask, 0xff, sizeof(m->dmask));
	m->src_len = m->dst_len = 128;
	m->family = k->family;
}

/* Is prefix (a, alen) inside prefix (b, blen)? */
static bool prefix_within(const struct tdm_addr *a, __u8 alen,
			  const struct tdm_addr *b, const struct tdm_addr *bmask,
			  __u8 blen)
{
	int i;

	if (alen < blen)
		return false;
	for (i = 0; i < 4; i++)
		if ((a->w[i] & bmask->w[i]) != b->w[i])
			return false;
	return true;
}

static int cmp_prio(const struct tdm_steer_rule *a,
		    const struct tdm_steer_rule *b)
{
	if (a->prio != b->prio)
		return a->prio < b->prio ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

struct leaf {
	struct tdm_steer_lpm_key key;
	struct tdm_steer_bucket b;
};

/* Order of rules by destination prefix: (length, address). */
static const struct tdm_steer_rule *sort_base;

static int cmp_dst(const struct tdm_steer_rule *a, __u8 len,
		   const struct tdm_addr *dst)
{
	if (a->m.dst_len != len)
		return a->m.dst_len < len ? -1 : 1;
	return memcmp(&a->m.dst, dst, sizeof(*dst));
}

static int cmp_idx_dst(const void *pa, const void *pb)
{
	const struct tdm_steer_rule *b = &sort_base[*(const __u32 *)pb];

	return cmp_dst(&sort_base[*(const __u32 *)pa], b->m.dst_len, &b->m.dst);
}

/* First position in sorted idx[0..n) whose rule has prefix (len, dst). */
static __u32 lower_bound(const struct tdm_steer_rule *r, const __u32 *idx,
			 __u32 n, __u8 len, const struct tdm_addr *dst)
{
	__u32 lo = 0, hi = n;

	while (lo < hi) {
		__u32 mid = lo + (hi - lo) / 2;

		if (cmp_dst(&r[idx[mid]], len, dst) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int bucket_add(struct tdm_ctx *ctx, const struct rule_set *rs,
		      struct leaf *l, __u32 ridx)
{
	struct tdm_steer_bucket *b = &l->b;
	char pfx[64];
	int k;

	if (b->n == TDM_STEER_BUCKET) {
		tdm_format_prefix(&l->key.dst, l->key.prefixlen - 32, pfx,
				  sizeof(pfx));
		return tdm_err(ctx, ENOSPC,
			       "more than %d steering rules would cover destination %s on one device",
			       TDM_STEER_BUCKET, pfx);
	}
	for (k = b->n; k > 0; k--) {
		if (cmp_prio(&rs->r[b->rule[k - 1]], &rs->r[ridx]) < 0)
			break;
		b->rule[k] = b->rule[k - 1];
	}
	b->rule[k] = ridx;
	b->n++;
	return 0;
}

/* Ids of one device: [lo, hi), and the sorted ids[0..n). */
struct id_set {
	__u32 lo, hi;
	const __u32 *ids;
	size_t n;
};

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static bool id_in(const struct id_set *set, __u32 id)
{
	return (id >= set->lo && id < set->hi) ||
	       (set->n && bsearch(&id, set->ids, set->n, sizeof(id), cmp_u32));
}

/*
 * The bucket of every leaf of slot inside prefix (scope): a leaf for
 * each distinct rule destination in the scope, holding the rules whose
 * destination covers it. Rules with ids in [skip_lo, skip_hi) are left
 * out (being deleted, or an add being taken back). With the device's
 * rules sorted by destination, the rules covering a leaf are found with
 * one binary search per distinct prefix length:
 * O(R log R + L * lengths * log R).
 */
static int leaves_compute(struct tdm_ctx *ctx, const struct rule_set *rs,
			  __u32 slot, const struct tdm_match *scope,
			  const struct id_set *skip, struct leaf **out,
			  int *nout)
{
	bool has_len[129] = {};
	struct leaf *lv = NULL;
	__u32 *idx, n = 0, i, j, nl = 0;
	int err = 0, len;

	idx = malloc(rs->n * sizeof(*idx));
	if (!idx)
		return tdm_err(ctx, ENOMEM, "out of memory");
	for (i = 0; i < rs->n; i++) {
		const struct tdm_steer_rule *r = &rs->r[i];

		if (r->id && r->dev == slot && !id_in(skip, r->id)) {
			idx[n++] = i;
			has_len[r->m.dst_len] = true;
		}
	}
	sort_base = rs->r;
	qsort(idx, n, sizeof(*idx), cmp_idx_dst);

	/* leaves: distinct destinations inside the scope */
	lv = calloc(n ? n : 1, sizeof(*lv));
	if (!lv) {
		free(idx);
		return tdm_err(ctx, ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		const struct tdm_steer_rule *r = &rs->r[idx[i]];

		if (i && !cmp_idx_dst(&idx[i - 1], &idx[i]))
			continue;
		if (!prefix_within(&r->m.dst, r->m.dst_len, &scope->dst,
				   &scope->dmask, scope->dst_len))
			continue;
		lv[nl].key.prefixlen = 32 + r->m.dst_len;
		lv[nl].key.dev = htonl(slot);
		lv[nl].key.dst = r->m.dst;
		nl++;
	}
	/* fill each leaf from every shorter-or-equal prefix covering it */
	for (i = 0; i < nl && !err; i++) {
		__u8 llen = lv[i].key.prefixlen - 32;

		for (len = 0; len <= llen && !err; len++) {
			struct tdm_addr mask, net;
			int w;

			if (!has_len[len])
				continue;
			tdm_prefix_mask(len, &mask);
			for (w = 0; w < 4; w++)
				net.w[w] = lv[i].key.dst.w[w] & mask.w[w];
			for (j = lower_bound(rs->r, idx, n, len, &net);
			     j < n && !cmp_dst(&rs->r[idx[j]], len, &net) && !err;
			     j++)
				err = bucket_add(ctx, rs, &lv[i], idx[j]);
		}
	}
	free(idx);
	if (err) {
		free(lv);
		return err;
	}
	*out = lv;
	*nout = nl;
	return 0;
}

struct leaf_set {
	__u32 slot;
	const struct tdm_match *scope;
	const struct leaf *lv;
	int n;
};

/*
 * Does a leaf of the set have this key? leaves_compute() makes them in
 * (length, dst) order, so a binary search: a bulk add of N rules checks
 * every key of the device, N log N, not N * N.
 */
static bool leaf_named(const struct leaf_set *ls,
		       const struct tdm_steer_lpm_key *key)
{
	int lo = 0, hi = ls->n;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2, c;
		const struct tdm_steer_lpm_key *k = &ls->lv[mid].key;

		c = k->prefixlen != key->prefixlen ?
			(k->prefixlen < key->prefixlen ? -1 : 1) :
			memcmp(&k->dst, &key->dst, sizeof(k->dst));
		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* A trie key of the device, inside the scope, that no leaf names. */
static bool leaf_stale(const void *k, const void *arg)
{
	const struct tdm_steer_lpm_key *key = k;
	const struct leaf_set *ls = arg;

	if (ntohl(key->dev) != ls->slot ||
	    !prefix_within(&key->dst, key->prefixlen - 32, &ls->scope->dst,
			   &ls->scope->dmask, ls->scope->dst_len))
		return false;
	return !leaf_named(ls, key);
}

/* The hash key of a leaf (see tdm_steer_leaf_hash() in bpf/lib/steer.h). */
static void pfx_key_of(const struct tdm_steer_lpm_key *k,
		       struct tdm_steer_pfx_key *pk)
{
	struct tdm_addr mask;
	int w;

	pk->dev = ntohl(k->dev);
	pk->len = k->prefixlen - 32;
	tdm_prefix_mask(pk->len, &mask);
	for (w = 0; w < 4; w++)
		pk->dst.w[w] = k->dst.w[w] & mask.w[w];
}

/* A hash key of the device, inside the scope, that no leaf names. */
static bool pfx_stale(const void *k, const void *arg)
{
	const struct tdm_steer_pfx_key *pk = k;
	struct tdm_steer_lpm_key key = {
		.prefixlen = 32 + pk->len,
		.dev = htonl(pk->dev),
		.dst = pk->dst,
	};

	return leaf_stale(&key, arg);
}

/*
 * Make the leaves of slot inside scope exactly lv[0..n), in the trie
 * and in the hash alike: the datapath reads one or the other, by the
 * device's number of prefix lengths (struct tdm_dev.nlens).
 */
static int leaves_apply(struct tdm_ctx *ctx, __u32 slot,
			const struct tdm_match *scope, const struct leaf *lv,
			int n)
{
	struct leaf_set ls = { slot, scope, lv, n };
	struct tdm_steer_pfx_key pk;
	int i, err;

	for (i = 0; i < n; i++) {
		pfx_key_of(&lv[i].key, &pk);
		if (bpf_map_update_elem(ctx->lpm_fd, &lv[i].key, &lv[i].b,
					BPF_ANY) ||
		    bpf_map_update_elem(ctx->pfx_fd, &pk, &lv[i].b, BPF_ANY))
			return tdm_err(ctx, errno, "writing a steering leaf: %s",
				       strerror(errno));
	}
	/* then drop leaves in scope that no rule names any more */
	err = tdm_map_delete_if(ctx, ctx->lpm_fd,
				sizeof(struct tdm_steer_lpm_key), leaf_stale,
				&ls);
	if (!err)
		err = tdm_map_delete_if(ctx, ctx->pfx_fd,
					sizeof(struct tdm_steer_pfx_key),
					pfx_stale, &ls);
	return err;
}

/* Next free id on slot, over both tables. */
static __u32 next_id(struct tdm_ctx *ctx, const struct rule_set *rs,
		     __u32 slot)
{
	struct tdm_flow_key k, *prev = NULL;
	struct tdm_flow_val v;
	__u32 max = 0, i;

	for (i = 0; i < rs->n; i++)
		if (rs->r[i].id && rs->r[i].dev == slot &&
		    rs->r[i].id > max)
			max = rs->r[i].id;
	while (!bpf_map_get_next_key(ctx->flows_fd, prev, &k)) {
		prev = &k;
		if (k.dev == slot &&
		    !bpf_map_lookup_elem(ctx->flows_fd, &k, &v) &&
		    v.rule_id > max)
			max = v.rule_id;
	}
	return max + 1;
}

static int steer_add_flow(struct tdm_ctx *ctx, __u32 slot, __u32 id,
			  const struct tdm_match *m, __u32 chain_id)
{
	struct tdm_flow_val v;
	struct tdm_flow_key k;

	flow_key_of(slot, m, &k);
	if (!bpf_map_lookup_elem(ctx->flows_fd, &k, &v))
		return tdm_err(ctx, EEXIST,
			       "the same 5-tuple is already steered (entry %u)",
			       v.rule_id);
	v.chain_id = chain_id;
	v.rule_id = id;
	if (bpf_map_update_elem(ctx->flows_fd, &k, &v, BPF_NOEXIST))
		return tdm_err(ctx, errno, "writing a steering entry: %s",
			       strerror(errno));
	return 0;
}

/*
 * Write n entries of slot, ids id0 on. Exact 5-tuples go into the hash;
 * rules are written first (invisible: no bucket names them), then the
 * buckets of the leaves they touch are recomputed and written. On error
 * the caller takes them out again (tdm_steer_take_out()).
 */
static int steer_add(struct tdm_ctx *ctx, __u32 slot,
		     const struct tdm_steer_spec *specs, int n, __u32 id0)
{
	struct id_set none = {};
	struct tdm_match scope;
	struct rule_set rs;
	struct leaf *lv;
	__u32 chain_id, free_idx = 0;
	int i, nr = 0, nl, err = 0;

	err = rules_read(ctx, &rs);
	if (err)
		return err;
	for (i = 0; i < n && !err; i++) {
		const struct tdm_steer_spec *sp = &specs[i];
		struct tdm_steer_rule r = {
			.id = id0 + i, .prio = sp->prio, .dev = slot,
			.m = sp->m,
		};
		int cid = tdm_chain_lookup(ctx, sp->chain, NULL);

		if (cid < 0)
			return cid;
		chain_id = cid;
		if (tdm_steer_is_exact(&sp->m)) {
			err = steer_add_flow(ctx, slot, id0 + i, &sp->m,
					     chain_id);
			tdm_crash_point(ctx);
			continue;
		}
		while (free_idx < rs.n && rs.r[free_idx].id)
			free_idx++;
		if (free_idx == rs.n)
			return tdm_err(ctx, ENOSPC, "no room for another steering rule (at most %d)",
				       TDM_MAX_STEER_RULES);
		r.chain_id = chain_id;
		if (bpf_map_update_elem(ctx->srules_fd, &free_idx, &r, BPF_ANY))
			return tdm_err(ctx, errno, "writing a steering rule: %s",
				       strerror(errno));
		ctx->srules[free_idx++] = r;	/* rs reads the same array */
		tdm_crash_point(ctx);
		nr++;
	}
	if (err || !nr)
		return err;

	/* one rule: only leaves inside its destination change */
	tdm_match_init(&scope);
	if (n == 1)
		scope = specs[0].m;
	err = leaves_compute(ctx, &rs, slot, &scope, &none, &lv, &nl);
	if (err)
		return err;
	err = leaves_apply(ctx, slot, &scope, lv, nl);
	free(lv);
	return err;
}

int tdm_steer_add_many(struct tdm_ctx *ctx, const char *dev,
		       const struct tdm_steer_spec *specs, int n,
		       __u32 *first_id)
{
	struct tdm_journal j = { .op = TDM_J_STEER };
	char msg[sizeof(ctx->err)];
	struct rule_set rs;
	struct tdm_dev d;
	bool created;
	__u32 id0;
	int err;

	/* entries may be added before the device is attached: it is taken */
	err = tdm_dev_take(ctx, dev, &d, &created);
	if (err)
		return err;
	err = rules_read(ctx, &rs);
	if (err)
		return err;
	id0 = next_id(ctx, &rs, d.slot);
	j.dev = d.slot;
	j.id_lo = id0;
	j.id_hi = id0 + n;
	j.flag = created;
	err = tdm_journal_begin(ctx, &j);
	if (err)
		return err;
	err = steer_add(ctx, d.slot, specs, n, id0);
	if (!err)
		err = tdm_dev_put(ctx, &d);	/* the counts: the commit */
	if (err) {
		snprintf(msg, sizeof(msg), "%s", ctx->err);
		if (!tdm_steer_take_out(ctx, d.slot, id0, id0 + n))
			tdm_journal_end(ctx);
		snprintf(ctx->err, sizeof(ctx->err), "%s", msg);
		return err;
	}
	err = tdm_journal_end(ctx);
	if (!err && first_id)
		*first_id = id0;
	return err;
}

int tdm_steer_add(struct tdm_ctx *ctx, const char *dev, __u32 prio,
		  const struct tdm_match *m, const char *chain, __u32 *idp)
{
	struct tdm_steer_spec spec = { .prio = prio, .m = *m, .chain = chain };

	return tdm_steer_add_many(ctx, dev, &spec, 1, idp);
}

struct flow_range {
	int fd;
	__u32 slot;
	const struct id_set *set;
};

/* Is this exact entry of the slot, with an id in the set? */
static bool flow_in_range(const void *key, const void *arg)
{
	const struct tdm_flow_key *k = key;
	const struct flow_range *fr = arg;
	struct tdm_flow_val v;

	return k->dev == fr->slot && !bpf_map_lookup_elem(fr->fd, k, &v) &&
	       id_in(fr->set, v.rule_id);
}

/* Remove slot's entries of the set: leaves, grace period, rules. */
static int take_out(struct tdm_ctx *ctx, __u32 slot, const struct id_set *set)
{
	struct flow_range fr = { ctx->flows_fd, slot, set };
	struct tdm_match scope;
	struct rule_set rs;
	struct leaf *lv;
	__u32 idx, n = 0, one = 0;
	int nl, err;

	err = tdm_map_delete_if(ctx, ctx->flows_fd, sizeof(struct tdm_flow_key),
				flow_in_range, &fr);
	tdm_crash_point(ctx);
	if (!err)
		err = rules_read(ctx, &rs);
	if (err)
		return err;
	for (idx = 0; idx < rs.n; idx++) {
		if (rs.r[idx].id && rs.r[idx].dev == slot &&
		    id_in(set, rs.r[idx].id)) {
			one = idx;
			n++;
		}
	}
	if (n) {
		/* buckets without them first, then a grace period, then them */
		tdm_match_init(&scope);
		if (n == 1)
			scope = rs.r[one].m;
		err = leaves_compute(ctx, &rs, slot, &scope, set, &lv, &nl);
		if (err)
			return err;
		err = leaves_apply(ctx, slot, &scope, lv, nl);
		free(lv);
		if (!err)
			err = tdm_sync(ctx);
		for (idx = 0; !err && idx < rs.n; idx++) {
			if (!rs.r[idx].id || rs.r[idx].dev != slot ||
			    !id_in(set, rs.r[idx].id))
				continue;
			if (bpf_map_delete_elem(ctx->srules_fd, &idx) &&
			    errno != ENOENT)
				err = tdm_err(ctx, errno,
					      "deleting a steering rule: %s",
					      strerror(errno));
			tdm_crash_point(ctx);
		}
	}
	return err;
}

int tdm_steer_take_out(struct tdm_ctx *ctx, __u32 slot, __u32 lo, __u32 hi)
{
	struct id_set set = { .lo = lo, .hi = hi };

	return take_out(ctx, slot, &set) ?: tdm_dev_refresh(ctx, slot);
}

int tdm_steer_take_out_ids(struct tdm_ctx *ctx, __u32 slot, __u32 *ids,
			   size_t n)
{
	struct id_set set = { .ids = ids, .n = n };

	qsort(ids, n, sizeof(*ids), cmp_u32);
	return take_out(ctx, slot, &set) ?: tdm_dev_refresh(ctx, slot);
}

/* Is there an entry id on slot, exact or rule? */
static bool steer_exists(struct tdm_ctx *ctx, __u32 slot, __u32 id)
{
	struct tdm_steer_entry *v;
	bool found = false;
	int n, i;

	if (tdm_steer_list_slot(ctx, slot, &v, &n))
		return false;
	for (i = 0; i < n; i++)
		found |= v[i].id == id;
	free(v);
	return found;
}

int tdm_steer_del(struct tdm_ctx *ctx, const char *dev, __u32 id)
{
	struct tdm_journal j = { .op = TDM_J_STEER };
	struct tdm_dev d;
	int err;

	err = tdm_dev_find(ctx, dev, &d);
	if (err)
		return err;
	if (!steer_exists(ctx, d.slot, id))
		return tdm_err(ctx, ENOENT, "%s has no steering entry %u", dev,
			       id);
	j.dev = d.slot;
	j.id_lo = id;
	j.id_hi = id + 1;
	err = tdm_journal_begin(ctx, &j);
	if (!err)
		err = tdm_steer_take_out(ctx, d.slot, id, id + 1);
	/* on error the journal stays: the next open finishes the delete */
	return err ? err : tdm_journal_end(ctx);
}

int tdm_steer_del_slot(struct tdm_ctx *ctx, __u32 slot, __u32 lo, __u32 hi)
{
	struct tdm_journal j = {
		.op = TDM_J_STEER, .dev = slot, .id_lo = lo, .id_hi = hi,
	};
	int err;

	err = tdm_journal_begin(ctx, &j);
	if (!err)
		err = tdm_steer_take_out(ctx, slot, lo, hi);
	return err ? err : tdm_journal_end(ctx);
}

int tdm_steer_flow_set(struct tdm_ctx *ctx, __u32 slot,
		       const struct tdm_match *m, __u32 chain_id)
{
	struct tdm_flow_val v;
	struct tdm_flow_key k;

	flow_key_of(slot, m, &k);
	if (bpf_map_lookup_elem(ctx->flows_fd, &k, &v))
		return tdm_err(ctx, errno, "reading a steering entry: %s",
			       strerror(errno));
	v.chain_id = chain_id;
	if (bpf_map_update_elem(ctx->flows_fd, &k, &v, BPF_EXIST))
		return tdm_err(ctx, errno, "writing a steering entry: %s",
			       strerror(errno));
	return 0;
}

int tdm_steer_flush(struct tdm_ctx *ctx, __u32 slot)
{
	struct id_set all = { .lo = 0, .hi = 0xffffffffU };

	return take_out(ctx, slot, &all);
}

int tdm_steer_summary(struct tdm_ctx *ctx, __u32 slot, struct tdm_dev *d)
{
	bool has_len[129] = {};
	struct tdm_steer_entry *v;
	int n, i, len;

	if (tdm_steer_list_slot(ctx, slot, &v, &n))
		return -EIO;
	d->nflows = d->nrules = d->nlens = 0;
	memset(d->lens, 0, sizeof(d->lens));
	for (i = 0; i < n; i++) {
		if (v[i].exact) {
			d->nflows++;
		} else {
			d->nrules++;
			has_len[v[i].m.dst_len] = true;
		}
	}
	free(v);
	/* longest first: the first leaf found is the longest match */
	for (len = 128; len >= 0; len--) {
		if (!has_len[len])
			continue;
		if (d->nlens < TDM_STEER_LENS)
			d->lens[d->nlens] = len;
		d->nlens++;	/* above TDM_STEER_LENS: the trie */
	}
	return 0;
}

/*
 * Device records with their steering counts: written here, where the
 * counts are known (devrec.c finds and takes records, dev.c attaches).
 */

/* What tdm_dev_fast says for record d (include/tandem/tandem.h). */
static __u32 dev_route(const struct tdm_dev *d)
{
	if (d->nflows || d->nrules)
		return TDM_ROUTE_RECORD;
	if (d->default_chain >= TDM_MAX_CHAINS)
		return TDM_ROUTE_PASS;
	return TDM_ROUTE_CHAIN + d->default_chain;
}

int tdm_dev_route(struct tdm_ctx *ctx, __u32 slot, __u32 route)
{
	struct tdm_dev_fast f = { .route = route };

	if (bpf_map_update_elem(tdm_map_fd(ctx, "tdm_dev_fast"), &slot, &f,
				BPF_ANY))
		return tdm_err(ctx, errno, "writing device slot %u's route: %s",
			       slot, strerror(errno));
	return 0;
}

/*
 * Write record *d with fresh steering counts: one hash update, which
 * the datapath sees whole (the old element is freed after RCU). Around
 * it, the device's shortcut goes to the record while it changes, then
 * to what it says: killed in between, the datapath reads the record.
 */
int tdm_dev_write(struct tdm_ctx *ctx, struct tdm_dev *d)
{
	int err = tdm_steer_summary(ctx, d->slot, d) ?:
		  tdm_dev_route(ctx, d->slot, TDM_ROUTE_RECORD);

	if (err)
		return err;
	if (bpf_map_update_elem(ctx->devs_fd, &d->slot, d, BPF_ANY))
		return tdm_err(ctx, errno, "writing device %s: %s", d->name,
			       strerror(errno));
	tdm_crash_point(ctx);
	return tdm_dev_route(ctx, d->slot, dev_route(d));
}

int tdm_dev_put(struct tdm_ctx *ctx, struct tdm_dev *d)
{
	int err = tdm_dev_write(ctx, d);

	if (!err)
		tdm_crash_point(ctx);
	return err;
}

/* Forget record d: its steering entries, then the record itself. */
int tdm_dev_forget(struct tdm_ctx *ctx, const struct tdm_dev *d)
{
	char path[PATH_MAX];
	int err;

	tdm_dev_link_path(d->slot, path, sizeof(path));
	unlink(path);
	err = tdm_steer_flush(ctx, d->slot) ?:
	      tdm_dev_route(ctx, d->slot, TDM_ROUTE_RECORD);
	if (!err && bpf_map_delete_elem(ctx->devs_fd, &d->slot) &&
	    errno != ENOENT)
		err = tdm_err(ctx, errno, "deleting device %s: %s", d->name,
			      strerror(errno));
	return err;
}

/*
 * Rewrite slot's record with fresh steering counts; a record left with
 * nothing (no link, no entries, no default chain) is forgotten: tandem
 * knew the device only for its steering entries.
 */
int tdm_dev_refresh(struct tdm_ctx *ctx, __u32 slot)
{
	struct tdm_dev_status st = {};
	int err;

	if (bpf_map_lookup_elem(ctx->devs_fd, &slot, &st.dev))
		return 0;
	err = tdm_dev_write(ctx, &st.dev);
	if (err || st.dev.nflows || st.dev.nrules ||
	    st.dev.default_chain != TDM_CHAIN_NONE ||
	    tdm_dev_state(&st.dev, &st) != TDM_DEV_DETACHED)
		return err;
	return tdm_dev_forget(ctx, &st.dev);
}

static int cmp_entry(const void *pa, const void *pb)
{
	const struct tdm_steer_entry *a = pa, *b = pb;

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->exact != b->exact)
		return a->exact ? -1 : 1;
	if (a->prio != b->prio)
		return a->prio < b->prio ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

int tdm_steer_list_slot(struct tdm_ctx *ctx, __u32 slot,
			struct tdm_steer_entry **out, int *nout)
{
	struct tdm_steer_entry *v = NULL, *p;
	struct tdm_flow_key k, *prev = NULL;
	struct tdm_flow_val fv;
	struct rule_set rs;
	int n = 0, err;
	__u32 i;

	err = rules_read(ctx, &rs);
	if (err)
		return err;
	while (!bpf_map_get_next_key(ctx->flows_fd, prev, &k)) {
		prev = &k;
		if ((slot != TDM_DEV_ANY && k.dev != slot) ||
		    bpf_map_lookup_elem(ctx->flows_fd, &k, &fv))
			continue;
		p = realloc(v, (n + 1) * sizeof(*v));
		if (!p)
			goto oom;
		v = p;
		memset(&v[n], 0, sizeof(v[n]));
		v[n].id = fv.rule_id;
		v[n].dev = k.dev;
		v[n].chain_id = fv.chain_id;
		v[n].exact = true;
		match_of_flow(&k, &v[n].m);
		n++;
	}
	for (i = 0; i < rs.n; i++) {
		const struct tdm_steer_rule *r = &rs.r[i];

		if (!r->id || (slot != TDM_DEV_ANY && r->dev != slot))
			continue;
		p = realloc(v, (n + 1) * sizeof(*v));
		if (!p)
			goto oom;
		v = p;
		memset(&v[n], 0, sizeof(v[n]));
		v[n].id = r->id;
		v[n].prio = r->prio;
		v[n].dev = r->dev;
		v[n].chain_id = r->chain_id;
		v[n].m = r->m;
		n++;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_entry);
	/* sorted by device: each device's name is looked up once */
	for (i = 0; i < (__u32)n; i++) {
		if (i && v[i].dev == v[i - 1].dev)
			memcpy(v[i].dev_name, v[i - 1].dev_name,
			       sizeof(v[i].dev_name));
		else
			tdm_dev_name(ctx, v[i].dev, v[i].dev_name,
				     sizeof(v[i].dev_name));
	}
	*out = v;
	*nout = n;
	return 0;
oom:
	free(v);
	return tdm_err(ctx, ENOMEM, "out of memory");
}

bool tdm_chain_in_use(struct tdm_ctx *ctx, __u32 chain_id, char *user,
		      size_t size)
{
	struct tdm_steer_entry *v;
	__u32 key, *prev = NULL;
	struct tdm_dev d;
	int n, i;

	while (!bpf_map_get_next_key(ctx->devs_fd, prev, &key)) {
		prev = &key;
		if (!bpf_map_lookup_elem(ctx->devs_fd, &key, &d) &&
		    d.default_chain == chain_id) {
			snprintf(user, size, "device %s (default chain)",
				 d.name);
			return true;
		}
	}
	if (tdm_steer_list_slot(ctx, TDM_DEV_ANY, &v, &n))
		return true;	/* cannot tell: refuse */
	for (i = 0; i < n; i++) {
		if (v[i].chain_id == chain_id) {
			snprintf(user, size, "steering entry %u of %s",
				 v[i].id, v[i].dev_name);
			free(v);
			return true;
		}
	}
	free(v);
	return false;
}

/* A chain is deleted here, where the devices and entries using it are seen. */
int tdm_chain_del(struct tdm_ctx *ctx, const char *name)
{
	struct tdm_chain_info ci;
	char user[64];
	int id;

	id = tdm_chain_lookup(ctx, name, &ci);
	if (id < 0)
		return id;
	if (tdm_chain_in_use(ctx, id, user, sizeof(user)))
		return tdm_err(ctx, EBUSY, "chain '%s' is used by %s", name,
			       user);
	return tdm_chain_remove(ctx, name, id, &ci);
}

int tdm_steer_list(struct tdm_ctx *ctx, const char *dev,
		   struct tdm_steer_entry **out, int *n)
{
	struct tdm_dev d;
	int err;

	if (!dev)
		return tdm_steer_list_slot(ctx, TDM_DEV_ANY, out, n);
	err = tdm_dev_find(ctx, dev, &d);
	if (err == -ENOENT) {
		/* a device tandem does not know has no entries */
		*out = NULL;
		*n = 0;
		return 0;
	}
	return err ? err : tdm_steer_list_slot(ctx, d.slot, out, n);
}
