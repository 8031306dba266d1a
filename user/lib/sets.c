// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Address sets: named, global collections of addresses (plain sets, in
 * the hash tdm_set_addrs) or prefixes (interval sets, in the LPM trie
 * tdm_set_prefixes) that firewall rules match with src @NAME and
 * dst @NAME. A rule holds the set's id, never its elements, so an
 * element change is live: no rule is rewritten, no chain rebuilt.
 *
 * Every change validates all its elements before it writes any, and
 * adds what is new before it deletes what goes, so that a set being
 * replaced (set load) never lacks an element both old and new have. A
 * change that does not fit takes out what it added.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "internal.h"

#define tdm_sets_fd(ctx)	tdm_map_fd(ctx, "tdm_sets")
#define tdm_set_addrs_fd(ctx)	tdm_map_fd(ctx, "tdm_set_addrs")
#define tdm_set_prefixes_fd(ctx) tdm_map_fd(ctx, "tdm_set_prefixes")

/*
 * An element's value, which the datapath never reads: its base (1 in a
 * plain set, the prefix length in an interval set) in the low 16 bits,
 * and the marks of a policy apply above: the epoch of the apply that
 * last wrote it (0: none, a command did) and whether that apply added
 * it (NEW). See "Policy applies" below.
 */
#define SET_VAL_BASE		0xffffU
#define SET_VAL_EPOCH(e)	((__u32)(e) << 16)
#define SET_VAL_EPOCH_OF(v)	(((v) >> 16) & 0xff)
#define SET_VAL_NEW		(1U << 24)

const char *tdm_set_type_name(__u8 family)
{
	return family == 4 ? "ipv4" : family == 6 ? "ipv6" : "inet";
}

int tdm_set_get(struct tdm_ctx *ctx, __u32 id, struct tdm_set_info *info)
{
	if (!id || id > TDM_MAX_SETS)
		return -ENOENT;
	if (bpf_map_lookup_elem(tdm_sets_fd(ctx), &id, info)) {
		if (errno == ENOENT)
			return -ENOENT;
		return tdm_err(ctx, errno, "reading set %u: %s", id,
			       strerror(errno));
	}
	return 0;
}

int tdm_set_lookup(struct tdm_ctx *ctx, const char *name,
		   struct tdm_set_info *info)
{
	__u32 id;
	int err;

	err = tdm_name_known_check(ctx, "set", name);
	if (err)
		return err;
	for (id = 1; id <= TDM_MAX_SETS; id++) {
		err = tdm_set_get(ctx, id, info);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		if (!strncmp(info->name, name, TDM_NAME_LEN))
			return id;
	}
	return tdm_err(ctx, ENOENT, "no set '%s'", name);
}

int tdm_set_names(struct tdm_ctx *ctx, struct tdm_set_names *names)
{
	struct tdm_set_info info;
	__u32 id;
	int err;

	memset(names, 0, sizeof(*names));
	for (id = 1; id <= TDM_MAX_SETS; id++) {
		err = tdm_set_get(ctx, id, &info);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		memcpy(names->v[id].name, info.name, TDM_NAME_LEN);
		names->v[id].name[TDM_NAME_LEN - 1] = '\0';
		names->v[id].family = info.family;
		names->v[id].flags = info.flags;
	}
	return 0;
}

int tdm_set_add(struct tdm_ctx *ctx, const char *name, __u8 family,
		__u16 flags)
{
	struct tdm_set_info info = {}, old;
	__u32 id, free_id = 0;
	int err;

	err = tdm_name_check(ctx, "set", name);
	if (err)
		return err;
	if (family != 0 && family != 4 && family != 6)
		return tdm_err(ctx, EINVAL, "a set's type is ipv4, ipv6 or inet");
	if (flags & ~TDM_SET_INTERVAL)
		return tdm_err(ctx, EINVAL, "bad set flags %#x", flags);
	for (id = 1; id <= TDM_MAX_SETS; id++) {
		err = tdm_set_get(ctx, id, &old);
		if (err == -ENOENT) {
			free_id = free_id ?: id;
			continue;
		}
		if (err)
			return err;
		if (!strncmp(old.name, name, TDM_NAME_LEN))
			return tdm_err(ctx, EEXIST, "set '%s' exists", name);
	}
	if (!free_id)
		return tdm_err(ctx, ENOSPC, "there are %d sets already, the most there can be",
			       TDM_MAX_SETS);
	snprintf(info.name, sizeof(info.name), "%s", name);
	info.family = family;
	info.flags = flags;
	if (bpf_map_update_elem(tdm_sets_fd(ctx), &free_id, &info, BPF_NOEXIST))
		return tdm_err(ctx, errno, "writing set '%s': %s", name,
			       strerror(errno));
	return free_id;
}

/* ---- elements ---- */

static int elem_cmp(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(struct tdm_set_elem));
}

/* Sort v[0..*n) and drop the repeats */
static void elems_uniq(struct tdm_set_elem *v, size_t *n)
{
	size_t i, out = 0;

	if (!*n)
		return;		/* v may be NULL */
	qsort(v, *n, sizeof(v[0]), elem_cmp);
	for (i = 0; i < *n; i++)
		if (!out || elem_cmp(&v[out - 1], &v[i]))
			v[out++] = v[i];
	*n = out;
}

int tdm_set_elem_parse(const struct tdm_set_info *set, const char *s,
		       struct tdm_set_elem *e, char *err, size_t errlen)
{
	struct tdm_addr mask;
	char msg[200];

	memset(e, 0, sizeof(*e));
	if (tdm_parse_prefix(s, &e->addr, &mask, &e->len, &e->family, msg,
			     sizeof(msg))) {
		snprintf(err, errlen, "%s", msg);
		return -EINVAL;
	}
	if (set->family && e->family != set->family) {
		snprintf(err, errlen, "set '%.31s' is %s: '%s' is %s",
			 set->name, tdm_set_type_name(set->family), s,
			 e->family == 4 ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	if (!(set->flags & TDM_SET_INTERVAL) && e->len != 128) {
		snprintf(err, errlen,
			 "set '%.31s' holds addresses: '%s' is a prefix (a set of prefixes is added with 'interval')",
			 set->name, s);
		return -EINVAL;
	}
	return 0;
}

void tdm_set_elem_format(const struct tdm_set_elem *e, char *buf,
			 size_t size)
{
	/* IPv4's /0 is ::ffff:0:0/96 and prints as 0.0.0.0/0; only IPv6's
	 * has length 0, which tdm_format_prefix() calls "any" */
	if (!e->len)
		snprintf(buf, size, "::/0");
	else
		tdm_format_prefix(&e->addr, e->len, buf, size);
}

int tdm_set_elems_push(struct tdm_set_elems *el, const struct tdm_set_elem *e)
{
	if (el->n == el->cap) {
		size_t cap = el->cap ? el->cap * 2 : 256;
		struct tdm_set_elem *v = realloc(el->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		el->v = v;
		el->cap = cap;
	}
	el->v[el->n++] = *e;
	return 0;
}

void tdm_set_elems_free(struct tdm_set_elems *el)
{
	free(el->v);
	memset(el, 0, sizeof(*el));
}

static void addr_key(__u32 id, const struct tdm_set_elem *e,
		     struct tdm_set_addr_key *k)
{
	memset(k, 0, sizeof(*k));
	k->set_id = id;
	k->family = e->family;
	k->addr = e->addr;
}

static void lpm_key(__u32 id, const struct tdm_set_elem *e,
		    struct tdm_set_lpm_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = 32 + e->len;
	k->set_id = htons(id);
	k->family = e->family;
	k->addr = e->addr;
}

/*
 * Is e in set id? 1, 0, or -errno with the error set. The trie's lookup
 * gives the longest prefix that covers e, which is e itself exactly when
 * its length is e's: each leaf's value is its length.
 */
static int elem_has(struct tdm_ctx *ctx, __u32 id,
		    const struct tdm_set_info *set, const struct tdm_set_elem *e)
{
	struct tdm_set_addr_key ak;
	struct tdm_set_lpm_key lk;
	__u32 v;
	int ret;

	if (set->flags & TDM_SET_INTERVAL) {
		lpm_key(id, e, &lk);
		ret = bpf_map_lookup_elem(tdm_set_prefixes_fd(ctx), &lk, &v);
	} else {
		addr_key(id, e, &ak);
		ret = bpf_map_lookup_elem(tdm_set_addrs_fd(ctx), &ak, &v);
	}
	if (!ret)
		return !(set->flags & TDM_SET_INTERVAL) ||
		       (v & SET_VAL_BASE) == e->len;
	if (errno == ENOENT)
		return 0;
	return tdm_err(ctx, errno, "reading set '%s': %s", set->name,
		       strerror(errno));
}

/*
 * The elements of set id into *el (appended), and with vals their
 * values into (*vals)[0..el->n) (realloc()ed, the old n kept): 0 or
 * -errno.
 */
static int elems_read_vals(struct tdm_ctx *ctx, __u32 id,
			   const struct tdm_set_info *set,
			   struct tdm_set_elems *el, __u32 **vals)
{
	bool interval = set->flags & TDM_SET_INTERVAL;
	int fd = interval ? tdm_set_prefixes_fd(ctx) : tdm_set_addrs_fd(ctx);
	union {
		struct tdm_set_addr_key a;
		struct tdm_set_lpm_key l;
	} k, next;
	struct tdm_set_elem e;
	void *prev = NULL;
	size_t vcap = 0;

	/* one pass over every set's elements: the maps are not by set */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		memset(&e, 0, sizeof(e));
		if (interval) {
			if (ntohs(k.l.set_id) != id)
				continue;
			e.family = k.l.family;
			e.len = k.l.prefixlen - 32;
			e.addr = k.l.addr;
		} else {
			if (k.a.set_id != id)
				continue;
			e.family = k.a.family;
			e.len = 128;
			e.addr = k.a.addr;
		}
		if (tdm_set_elems_push(el, &e))
			return tdm_err(ctx, ENOMEM, "out of memory");
		if (!vals)
			continue;
		if (vcap < el->cap) {
			__u32 *q = realloc(*vals, el->cap * sizeof(**vals));

			if (!q)
				return tdm_err(ctx, ENOMEM, "out of memory");
			*vals = q;
			vcap = el->cap;
		}
		/* gone since its key was read: not an element any more */
		if (bpf_map_lookup_elem(fd, &k, &(*vals)[el->n - 1])) {
			if (errno != ENOENT)
				return tdm_err(ctx, errno, "reading set '%s': %s",
					       set->name, strerror(errno));
			el->n--;
		}
	}
	if (errno != ENOENT)
		return tdm_err(ctx, errno, "reading set '%s': %s", set->name,
			       strerror(errno));
	return 0;
}

static int elems_read(struct tdm_ctx *ctx, __u32 id,
		      const struct tdm_set_info *set, struct tdm_set_elems *el)
{
	return elems_read_vals(ctx, id, set, el, NULL);
}

static bool map_full(int err)
{
	return err == E2BIG || err == ENOMEM || err == ENOSPC;
}

/* Take v[0..n) out of set id; those not there are no error */
static int elems_delete(struct tdm_ctx *ctx, __u32 id,
			const struct tdm_set_info *set,
			const struct tdm_set_elem *v, size_t n)
{
	struct tdm_set_addr_key *keys;
	struct tdm_set_lpm_key lk;
	size_t i;
	int err;

	if (set->flags & TDM_SET_INTERVAL) {
		/* a trie has no batch ops */
		for (i = 0; i < n; i++) {
			lpm_key(id, &v[i], &lk);
			if (bpf_map_delete_elem(tdm_set_prefixes_fd(ctx), &lk) &&
			    errno != ENOENT)
				return tdm_err(ctx, errno, "deleting from set '%s': %s",
					       set->name, strerror(errno));
		}
		return 0;
	}
	keys = malloc(n * sizeof(*keys) + 1);
	if (!keys)
		return tdm_err(ctx, ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		addr_key(id, &v[i], &keys[i]);
	err = tdm_map_delete_keys(ctx, tdm_set_addrs_fd(ctx), keys,
				  sizeof(*keys), n, "set elements");
	free(keys);
	return err;
}

/*
 * Put v[0..n) into set id, their values tagged with tag (SET_VAL_*;
 * one there already gets the new value): 0; -ENOSPC without a message
 * if the map is full (some may be in); -errno with the error.
 */
static int elems_write(struct tdm_ctx *ctx, __u32 id,
		       const struct tdm_set_info *set,
		       const struct tdm_set_elem *v, size_t n, __u32 tag)
{
	struct tdm_set_addr_key *keys;
	struct tdm_set_lpm_key lk;
	__u32 *vals, len;
	size_t i;
	int err;

	if (set->flags & TDM_SET_INTERVAL) {
		for (i = 0; i < n; i++) {
			lpm_key(id, &v[i], &lk);
			len = v[i].len | tag;
			if (!bpf_map_update_elem(tdm_set_prefixes_fd(ctx), &lk,
						 &len, BPF_ANY))
				continue;
			if (map_full(errno))
				return -ENOSPC;
			return tdm_err(ctx, errno, "writing set '%s': %s",
				       set->name, strerror(errno));
		}
		return 0;
	}
	keys = malloc(n * sizeof(*keys) + 1);
	vals = malloc(n * sizeof(*vals) + 1);
	if (!keys || !vals) {
		err = tdm_err(ctx, ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		addr_key(id, &v[i], &keys[i]);
		vals[i] = 1 | tag;
	}
	err = tdm_map_write(ctx, tdm_set_addrs_fd(ctx), keys, sizeof(*keys),
			    vals, sizeof(*vals), n, "set elements");
	if (err < 0 && map_full(-err))
		err = -ENOSPC;
out:
	free(keys);
	free(vals);
	return err;
}

/*
 * The one change of a set's elements: add[] (none in the set) in, then
 * del[] (all in it) out, then the count. Adding first: an element that
 * stays is never missing. If add[] does not fit, what went in comes
 * out and nothing changed (ENOSPC).
 */
static int set_change(struct tdm_ctx *ctx, __u32 id, struct tdm_set_info *set,
		      const struct tdm_set_elem *add, size_t nadd,
		      const struct tdm_set_elem *del, size_t ndel)
{
	int err;

	err = elems_write(ctx, id, set, add, nadd, 0);
	if (err == -ENOSPC) {
		return elems_delete(ctx, id, set, add, nadd) ?:
		       tdm_err(ctx, ENOSPC,
			       "set '%s': the %s elements of all sets fill their map (%d; a change adds the new elements before it takes out the old, so it needs room for both)",
			       set->name,
			       set->flags & TDM_SET_INTERVAL ? "interval" : "plain",
			       TDM_SET_MAX_ELEMS);
	}
	if (err)
		return err;
	tdm_crash_point(ctx);
	err = elems_delete(ctx, id, set, del, ndel);
	if (err)
		return err;
	/* a count a killed command left behind must not wrap (set load
	 * counts afresh) */
	set->nelems = set->nelems + nadd >= ndel ?
		      set->nelems + nadd - ndel : 0;
	if (bpf_map_update_elem(tdm_sets_fd(ctx), &id, set, BPF_EXIST))
		return tdm_err(ctx, errno, "writing set '%s': %s", set->name,
			       strerror(errno));
	return 0;
}

int tdm_set_elems_change(struct tdm_ctx *ctx, const char *name, bool add,
			 int n, char *const *words)
{
	struct tdm_set_elems el = {}, todo = {};
	struct tdm_set_info set;
	struct tdm_set_elem e;
	char msg[512];
	size_t i;
	int id, err, has;

	err = id = tdm_set_lookup(ctx, name, &set);
	if (id < 0)
		return id;
	if (n <= 0)
		return tdm_err(ctx, EINVAL, "no element given");
	/* every element checked before the first is written */
	for (i = 0; i < (size_t)n; i++) {
		if (tdm_set_elem_parse(&set, words[i], &e, msg, sizeof(msg))) {
			err = tdm_err(ctx, EINVAL, "%s", msg);
			goto out;
		}
		if (tdm_set_elems_push(&el, &e)) {
			err = tdm_err(ctx, ENOMEM, "out of memory");
			goto out;
		}
	}
	elems_uniq(el.v, &el.n);
	for (i = 0; i < el.n; i++) {
		has = elem_has(ctx, id, &set, &el.v[i]);
		if (has < 0) {
			err = has;
			goto out;
		}
		if (!add && !has) {
			char buf[64];

			tdm_set_elem_format(&el.v[i], buf, sizeof(buf));
			err = tdm_err(ctx, ENOENT, "set '%s' has no element %s",
				      name, buf);
			goto out;
		}
		/* adding what is there already is no change */
		if ((add && !has) || !add) {
			if (tdm_set_elems_push(&todo, &el.v[i])) {
				err = tdm_err(ctx, ENOMEM, "out of memory");
				goto out;
			}
		}
	}
	err = add ? set_change(ctx, id, &set, todo.v, todo.n, NULL, 0) :
		    set_change(ctx, id, &set, NULL, 0, todo.v, todo.n);
out:
	tdm_set_elems_free(&el);
	tdm_set_elems_free(&todo);
	return err;
}

/* One line of a set file: its element into *e; 0 for a blank or comment
 * line, 1 for an element, -EINVAL with the message in msg */
static int load_line(const struct tdm_set_info *set, char *line,
		     struct tdm_set_elem *e, char *msg, size_t size)
{
	char *p = line, *end, *hash = strchr(line, '#');

	if (hash)
		*hash = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	if (!*p)
		return 0;
	if (strpbrk(p, " \t")) {
		snprintf(msg, size, "one element a line, not '%.64s'", p);
		return -EINVAL;
	}
	return tdm_set_elem_parse(set, p, e, msg, size) ?: 1;
}

void tdm_set_elems_uniq(struct tdm_set_elems *el)
{
	elems_uniq(el->v, &el->n);
}

int tdm_set_file_read(const struct tdm_set_info *set, const char *file,
		      size_t max, struct tdm_set_elems *el, char *err,
		      size_t errlen)
{
	struct tdm_set_elem e;
	char line[512], msg[512];
	size_t lineno = 0, n = 0;
	FILE *f;
	int ret = 0;

	f = fopen(file, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%zu: the line is too long",
				 file, lineno);
			ret = -EINVAL;
			break;
		}
		ret = load_line(set, line, &e, msg, sizeof(msg));
		if (ret < 0) {
			snprintf(err, errlen, "%s:%zu: %s", file, lineno, msg);
			break;
		}
		if (ret && ++n > max) {
			snprintf(err, errlen, "%s: more than %zu elements",
				 file, max);
			ret = -E2BIG;
			break;
		}
		if (ret && tdm_set_elems_push(el, &e)) {
			snprintf(err, errlen, "out of memory");
			ret = -ENOMEM;
			break;
		}
		ret = 0;
	}
	if (!ret && ferror(f)) {
		snprintf(err, errlen, "reading %s failed", file);
		ret = -EIO;
	}
	fclose(f);
	return ret;
}

int tdm_set_load(struct tdm_ctx *ctx, const char *name, const char *file)
{
	struct tdm_set_elems want = {}, have = {}, add = {}, del = {};
	struct tdm_set_info set;
	char msg[1024];
	size_t i, j;
	int id, err, c, ret;

	err = id = tdm_set_lookup(ctx, name, &set);
	if (id < 0)
		return id;
	/* the whole file is read and checked before anything changes */
	err = tdm_set_file_read(&set, file, SIZE_MAX, &want, msg,
				sizeof(msg));
	if (err) {
		err = tdm_err(ctx, -err, "%s", msg);
		goto out;
	}
	elems_uniq(want.v, &want.n);
	err = elems_read(ctx, id, &set, &have);
	if (err)
		goto out;
	elems_uniq(have.v, &have.n);
	/* the two sorted lists, merged: new ones to add, gone ones to delete */
	for (i = 0, j = 0; i < want.n || j < have.n;) {
		c = i == want.n ? 1 : j == have.n ? -1 :
		    elem_cmp(&want.v[i], &have.v[j]);
		if (c < 0)
			ret = tdm_set_elems_push(&add, &want.v[i++]);
		else if (c > 0)
			ret = tdm_set_elems_push(&del, &have.v[j++]);
		else
			ret = (i++, j++, 0);
		if (ret) {
			err = tdm_err(ctx, ENOMEM, "out of memory");
			goto out;
		}
	}
	/* the count from what is there, whatever an earlier kill left */
	set.nelems = have.n;
	err = set_change(ctx, id, &set, add.v, add.n, del.v, del.n);
out:
	tdm_set_elems_free(&want);
	tdm_set_elems_free(&have);
	tdm_set_elems_free(&add);
	tdm_set_elems_free(&del);
	return err;
}

int tdm_set_elems_list(struct tdm_ctx *ctx, const char *name,
		       struct tdm_set_info *info, struct tdm_set_elems *el)
{
	int id = tdm_set_lookup(ctx, name, info), err;

	if (id < 0)
		return id;
	el->n = 0;
	err = elems_read(ctx, id, info, el);
	if (err)
		return err;
	elems_uniq(el->v, &el->n);
	return id;
}

int tdm_set_destroy(struct tdm_ctx *ctx, __u32 id)
{
	struct tdm_set_elems el = {};
	struct tdm_set_info set;
	int err;

	err = tdm_set_get(ctx, id, &set);
	if (err)
		return err == -ENOENT ? 0 : err;
	/* the elements first: a set id is reused only once it has none */
	err = elems_read(ctx, id, &set, &el) ?:
	      elems_delete(ctx, id, &set, el.v, el.n);
	tdm_set_elems_free(&el);
	if (err)
		return err;
	tdm_crash_point(ctx);
	if (bpf_map_delete_elem(tdm_sets_fd(ctx), &id) && errno != ENOENT)
		return tdm_err(ctx, errno, "deleting set '%s': %s", set.name,
			       strerror(errno));
	return 0;
}

/* ---- policy applies ---- */

/*
 * An apply (apply.c) changes a set's elements in steps its log takes
 * back or finishes after a kill whatever their number: a log entry per
 * element would not do for a million. It marks every element it wants
 * with an epoch of its own, the set's last + 1, and those it adds NEW.
 * An element holds the set's epoch or 0 (stage marks, unstage clears
 * its own marks, prune deletes every other epoch), so the new epoch is
 * on none of them:
 *
 *   stage (before the commit): the new elements in, the kept ones
 *     marked; until the commit the set holds the old and the new ones,
 *     never less than either;
 *   unstage (taking it back): its NEW ones out, its marks off, the
 *     record as it was;
 *   prune (after the commit): every element not of the epoch out.
 *
 * Each is idempotent, so a recovery cut short is run again.
 */

/*
 * The elements of every set of one kind (interval or plain), each into
 * el[its set id], in one pass over the kind's map (the maps are not by
 * set: a pass per set would be one over a million elements each).
 */
static int elems_read_kind(struct tdm_ctx *ctx, bool interval,
			   const struct tdm_set_info *info,
			   struct tdm_set_elems *el)
{
	int fd = interval ? tdm_set_prefixes_fd(ctx) : tdm_set_addrs_fd(ctx);
	union {
		struct tdm_set_addr_key a;
		struct tdm_set_lpm_key l;
	} k, next;
	struct tdm_set_elem e;
	void *prev = NULL;
	__u32 id;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		memset(&e, 0, sizeof(e));
		if (interval) {
			id = ntohs(k.l.set_id);
			e.family = k.l.family;
			e.len = k.l.prefixlen - 32;
			e.addr = k.l.addr;
		} else {
			id = k.a.set_id;
			e.family = k.a.family;
			e.len = 128;
			e.addr = k.a.addr;
		}
		/* of a set of this kind that is there */
		if (!id || id > TDM_MAX_SETS || !info[id].name[0] ||
		    !(info[id].flags & TDM_SET_INTERVAL) != !interval)
			continue;
		if (tdm_set_elems_push(&el[id], &e))
			return tdm_err(ctx, ENOMEM, "out of memory");
	}
	if (errno != ENOENT)
		return tdm_err(ctx, errno, "reading the sets' elements: %s",
			       strerror(errno));
	return 0;
}

int tdm_set_elems_all(struct tdm_ctx *ctx, struct tdm_set_info *info,
		      struct tdm_set_elems *el)
{
	__u32 id;
	int err;

	for (id = 0; id <= TDM_MAX_SETS; id++) {
		memset(&info[id], 0, sizeof(info[id]));
		el[id].n = 0;
		err = id ? tdm_set_get(ctx, id, &info[id]) : -ENOENT;
		if (err == -ENOENT) {
			info[id].name[0] = '\0';
			continue;
		}
		if (err)
			return err;
		/* a record's name may fill its field: "" means none */
		info[id].name[TDM_NAME_LEN - 1] = '\0';
		if (!info[id].name[0])
			info[id].name[0] = '?';
	}
	err = elems_read_kind(ctx, false, info, el) ?:
	      elems_read_kind(ctx, true, info, el);
	for (id = 1; !err && id <= TDM_MAX_SETS; id++)
		elems_uniq(el[id].v, &el[id].n);
	return err;
}

/* Set id's record, if it is still set name's: 1, 0 (gone), -errno */
static int set_still(struct tdm_ctx *ctx, __u32 id, const char *name,
		     struct tdm_set_info *set)
{
	int err = tdm_set_get(ctx, id, set);

	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	return !strncmp(set->name, name, TDM_NAME_LEN);
}

static int set_record_write(struct tdm_ctx *ctx, __u32 id,
			    const struct tdm_set_info *set)
{
	if (bpf_map_update_elem(tdm_sets_fd(ctx), &id, set, BPF_EXIST))
		return tdm_err(ctx, errno, "writing set '%s': %s", set->name,
			       strerror(errno));
	return 0;
}

int tdm_set_stage(struct tdm_ctx *ctx, __u32 id,
		  const struct tdm_set_elems *want,
		  const struct tdm_set_elems *have, __u8 epoch)
{
	struct tdm_set_elems add = {}, kept = {};
	struct tdm_set_info set;
	size_t i, j;
	int err, c;

	err = tdm_set_get(ctx, id, &set);
	if (err)
		return err == -ENOENT ? tdm_err(ctx, ENOENT, "set %u is gone", id) :
		       err;
	/* the two sorted lists, merged: new ones, kept ones */
	for (i = 0, j = 0; i < want->n && !err;) {
		c = j == have->n ? -1 : elem_cmp(&want->v[i], &have->v[j]);
		if (c < 0)
			err = tdm_set_elems_push(&add, &want->v[i++]);
		else if (c > 0)
			j++;
		else
			err = (j++, tdm_set_elems_push(&kept, &want->v[i++]));
	}
	if (err) {
		err = tdm_err(ctx, ENOMEM, "out of memory");
		goto out;
	}
	err = elems_write(ctx, id, &set, add.v, add.n,
			  SET_VAL_EPOCH(epoch) | SET_VAL_NEW);
	if (err == -ENOSPC)
		err = tdm_err(ctx, ENOSPC,
			      "set '%s': the %s elements of all sets fill their map (%d; an apply adds the new elements before it takes out the old, so it needs room for both)",
			      set.name,
			      set.flags & TDM_SET_INTERVAL ? "interval" : "plain",
			      TDM_SET_MAX_ELEMS);
	if (err)
		goto out;
	tdm_crash_point(ctx);
	err = elems_write(ctx, id, &set, kept.v, kept.n, SET_VAL_EPOCH(epoch));
	if (err == -ENOSPC)
		err = tdm_err(ctx, ENOSPC, "set '%s': its map is full",
			      set.name);
	if (err)
		goto out;
	set.epoch = epoch;
	set.nelems = have->n + add.n;
	err = set_record_write(ctx, id, &set);
out:
	tdm_set_elems_free(&add);
	tdm_set_elems_free(&kept);
	return err;
}

/*
 * Set id's elements with their values, split by the epoch's marks:
 * into out[0] those that pass keep(), the rest into out[1].
 */
static int elems_split(struct tdm_ctx *ctx, __u32 id,
		       const struct tdm_set_info *set,
		       bool (*keep)(__u32 val, __u8 epoch), __u8 epoch,
		       struct tdm_set_elems out[2])
{
	struct tdm_set_elems el = {};
	__u32 *vals = NULL;
	size_t i;
	int err;

	err = elems_read_vals(ctx, id, set, &el, &vals);
	for (i = 0; !err && i < el.n; i++)
		if (tdm_set_elems_push(&out[!keep(vals[i], epoch)], &el.v[i]))
			err = tdm_err(ctx, ENOMEM, "out of memory");
	tdm_set_elems_free(&el);
	free(vals);
	return err;
}

/* unstage: out[0] the apply added, out[1] marked or not */
static bool added_in(__u32 val, __u8 epoch)
{
	return SET_VAL_EPOCH_OF(val) == epoch && (val & SET_VAL_NEW);
}

int tdm_set_unstage(struct tdm_ctx *ctx, __u32 id, const char *name,
		    __u8 epoch, __u8 old_epoch, __u32 old_nelems)
{
	struct tdm_set_elems el[2] = {}, marked = {};
	struct tdm_set_info set;
	__u32 *vals = NULL;
	size_t i;
	int err;

	err = set_still(ctx, id, name, &set);
	if (err <= 0)
		return err;
	err = elems_split(ctx, id, &set, added_in, epoch, el) ?:
	      elems_delete(ctx, id, &set, el[0].v, el[0].n);
	/* the marks of the kept ones off: back to what a command writes */
	if (!err)
		err = elems_read_vals(ctx, id, &set, &marked, &vals);
	for (i = 0, el[1].n = 0; !err && i < marked.n; i++)
		if (SET_VAL_EPOCH_OF(vals[i]) == epoch &&
		    tdm_set_elems_push(&el[1], &marked.v[i]))
			err = tdm_err(ctx, ENOMEM, "out of memory");
	if (!err)
		err = elems_write(ctx, id, &set, el[1].v, el[1].n, 0);
	if (err == -ENOSPC)
		err = tdm_err(ctx, ENOSPC, "set '%s': its map is full", name);
	if (!err) {
		set.epoch = old_epoch;
		set.nelems = old_nelems;
		err = set_record_write(ctx, id, &set);
	}
	tdm_set_elems_free(&el[0]);
	tdm_set_elems_free(&el[1]);
	tdm_set_elems_free(&marked);
	free(vals);
	return err;
}

/* prune: out[0] of the epoch, out[1] the rest */
static bool of_epoch(__u32 val, __u8 epoch)
{
	return SET_VAL_EPOCH_OF(val) == epoch;
}

int tdm_set_prune(struct tdm_ctx *ctx, __u32 id, const char *name,
		  __u8 epoch, __u32 nelems)
{
	struct tdm_set_elems el[2] = {};
	struct tdm_set_info set;
	int err;

	err = set_still(ctx, id, name, &set);
	if (err <= 0)
		return err;
	err = elems_split(ctx, id, &set, of_epoch, epoch, el) ?:
	      elems_delete(ctx, id, &set, el[1].v, el[1].n);
	if (!err) {
		set.nelems = nelems;
		err = set_record_write(ctx, id, &set);
	}
	tdm_set_elems_free(&el[0]);
	tdm_set_elems_free(&el[1]);
	return err;
}
