// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Policy files: text to struct tdm_policy.
 *
 * A line is a command of the CLI's grammar without the leading "tandem":
 * the words are read by the same tables and parser (grammar.c) as a
 * command line, so a line means what the command means. Only commands
 * that say what exists may appear. Everything is checked here that the
 * text alone can tell (names, numbers, references to objects defined
 * above, duplicates, limits), so that a bad file is refused before
 * anything changes; tdm_policy_apply() checks the rest against the
 * system (devices) before its first change.
 *
 * Address sets are said by set add, their elements by set element add
 * (the words) and set load (a file, as the command reads it; a
 * relative path is the policy file's directory's): all of a set's
 * lines together are its elements, read and checked here, so that a
 * million-element set is refused at its bad line before anything
 * changes.
 *
 * Words are separated by blanks (space, tab). "#" at the start of a word
 * starts a comment that runs to the end of the line; "\" at the end of a
 * line joins the next one to it (as in ip -batch and nft -f). A CR
 * before a line's end is ignored. There is no quoting: no word tandem
 * reads contains a blank.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "grammar.h"

/*
 * The steering entries read so far, by key (open addressing): a policy
 * may hold TDM_MAX_STEER_RULES + TDM_MAX_STEER_FLOWS of them, too many
 * to compare each new one with every one before it.
 */
struct steer_set {
	int *slot;			/* index in p->steers + 1; 0: empty */
	size_t size;			/* a power of 2, or 0 */
	size_t n;
};

/* Where the parser is, for errors. */
struct reader {
	struct tdm_policy *p;
	struct steer_set steers;
	const char *name;
	const char *dir;		/* of the file, for set load; NULL: . */
	int line;			/* of the command's first word */
	char **words;
	int *cols;			/* 1-based column of each word */
	int *lines;			/* line of each word (continuations) */
	int nwords;
	char *err;
	size_t errlen;
};

static int rerr(struct reader *r, int word, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * "NAME:LINE:COL: MESSAGE", the position of word (or of the command's
 * first word if word < 0). A message that does not quote the word gets
 * "(at 'WORD')".
 */
static int rerr(struct reader *r, int word, const char *fmt, ...)
{
	char msg[1024], at[300] = "";
	int w = word >= 0 && word < r->nwords ? word : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (word >= 0 && word < r->nwords) {
		snprintf(at, sizeof(at), "'%s'", r->words[word]);
		if (strstr(msg, at))
			at[0] = '\0';
		else
			snprintf(at, sizeof(at), " (at '%s')", r->words[word]);
	}
	snprintf(r->err, r->errlen, "%s:%d:%d: %s%s", r->name,
		 r->nwords ? r->lines[w] : r->line, r->nwords ? r->cols[w] : 1,
		 msg, at);
	return -EINVAL;
}

int tdm_policy_grow(void **arr, int n, int *cap, size_t size)
{
	void *q;
	int ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	q = realloc(*arr, (size_t)ncap * size);
	if (!q)
		return -ENOMEM;
	*arr = q;
	*cap = ncap;
	return 0;
}

int tdm_policy_set(const struct tdm_policy *p, const char *name)
{
	int i;

	for (i = 0; i < p->nsets; i++)
		if (!strcmp(p->sets[i].info.name, name))
			return i;
	return -1;
}

int tdm_policy_nf(const struct tdm_policy *p, const char *name)
{
	int i;

	for (i = 0; i < p->nnfs; i++)
		if (!strcmp(p->nfs[i].info.name, name))
			return i;
	return -1;
}

int tdm_policy_chain(const struct tdm_policy *p, const char *name)
{
	int i;

	for (i = 0; i < p->nchains; i++)
		if (!strcmp(p->chains[i].name, name))
			return i;
	return -1;
}

/* A device name as the kernel allows it (dev_valid_name()). */
static int dev_name_check(struct reader *r, int word, const char *dev)
{
	if (!*dev || strlen(dev) >= 16 || !strcmp(dev, ".") ||
	    !strcmp(dev, "..") || strchr(dev, '/') || strchr(dev, ':'))
		return rerr(r, word, "'%s' is not a device name", dev);
	return 0;
}

/* The index in r->words of a's value word for entry name, for errors. */
static int word_of(struct reader *r, const struct args *a, const char *name)
{
	const char *v = arg_str(a, name);
	int i;

	for (i = 0; v && i < r->nwords; i++)
		if (r->words[i] == v)
			return i;
	return -1;
}

static int name_ok(struct reader *r, const struct args *a, const char *meta,
		   const char *what)
{
	char msg[256];

	if (tdm_name_valid(what, arg_str(a, meta), msg, sizeof(msg)))
		return rerr(r, word_of(r, a, meta), "%s", msg);
	return 0;
}

static int nf_ref(struct reader *r, const char *name, int word)
{
	int i = tdm_policy_nf(r->p, name);

	if (i < 0)
		return rerr(r, word, "no NF '%s' is added above this line",
			    name);
	return i;
}

static int set_ref(struct reader *r, const char *name, int word)
{
	int i = tdm_policy_set(r->p, name);

	if (i < 0)
		return rerr(r, word, "no set '%s' is added above this line",
			    name);
	return i;
}

static int chain_ref(struct reader *r, const char *name, int word)
{
	int i = tdm_policy_chain(r->p, name);

	if (i < 0)
		return rerr(r, word, "no chain '%s' is added above this line",
			    name);
	return i;
}

/*
 * The word of an NF's parameters an error is about: the first the
 * message quotes ('10xpps'), else dflt.
 */
static int param_word(struct reader *r, char **words, int n,
		      const char *msg, int dflt)
{
	char q[ARG_MAX_LEN + 3];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(q, sizeof(q), "'%s'", words[i]);
		if (strstr(msg, q))
			return (int)(words + i - r->words);
	}
	return dflt;
}

static int line_nf_add(struct reader *r, struct args *a)
{
	struct tdm_policy *p = r->p;
	const char *name = arg_str(a, "NAME");
	const struct tdm_nf_type *t = tdm_nf_type_by_name(arg_str(a, "TYPE"));
	int k = arg_index(a, "PARAM VALUE"), i;
	struct pol_nf *nf;
	char msg[256];

	if (name_ok(r, a, "NAME", "NF"))
		return -EINVAL;
	i = tdm_policy_nf(p, name);
	if (i >= 0)
		return rerr(r, word_of(r, a, "NAME"),
			    "NF '%s' is already added at line %d", name,
			    p->nfs[i].line);
	if (p->nnfs >= TDM_MAX_NFS)
		return rerr(r, -1, "more than %d NFs", TDM_MAX_NFS);
	if (GROW(p, nfs))
		return -ENOMEM;
	nf = &p->nfs[p->nnfs];
	memset(nf, 0, sizeof(*nf));
	snprintf(nf->info.name, sizeof(nf->info.name), "%s", name);
	nf->info.type = t->id;
	nf->line = r->line;
	if (tdm_nf_params_parse(t, &nf->info.params, nf->cmd, a->nwords[k],
				a->words[k], msg, sizeof(msg)))
		return rerr(r, param_word(r, a->words[k], a->nwords[k], msg,
					  word_of(r, a, "TYPE")),
			    "'nf add': %s", msg);
	p->nnfs++;
	return 0;
}

/* The index of the word @name of a match, for errors; -1 if none. */
static int set_word(struct reader *r, const char *name)
{
	int i;

	for (i = 0; i < r->nwords; i++)
		if (r->words[i][0] == '@' && !strcmp(r->words[i] + 1, name))
			return i;
	return -1;
}

/*
 * The sets a rule matches: defined above, their names into spec, the
 * family they imply and their interval flags into its match, as
 * tdm_rule_add() does; the ids are the apply's to fill in.
 */
static int rule_sets(struct reader *r, const struct args *a,
		     struct tdm_rule_spec *spec)
{
	static const __u8 interval[2] = {
		TDM_MATCH_SRC_INTERVAL, TDM_MATCH_DST_INTERVAL,
	};
	struct tdm_match *m = &spec->m;
	const struct tdm_set_info *set;
	int side, i;

	for (side = 0; side < 2; side++) {
		const char *name = a->mp.sets[side];

		if (!name[0])
			continue;
		i = set_ref(r, name, set_word(r, name));
		if (i < 0)
			return i;
		set = &r->p->sets[i].info;
		if (set->family && m->family && set->family != m->family)
			return rerr(r, set_word(r, name),
				    "the match mixes IPv4 and IPv6: set '%s' is %s, the rest of the match %s",
				    name, tdm_set_type_name(set->family),
				    m->family == 4 ? "IPv4" : "IPv6");
		if (set->family)
			m->family = set->family;
		if (set->flags & TDM_SET_INTERVAL)
			m->set_flags |= interval[side];
		snprintf(side ? spec->dst_set : spec->src_set,
			 TDM_NAME_LEN, "%s", name);
	}
	return 0;
}

static int line_rule_add(struct reader *r, struct args *a)
{
	struct tdm_policy *p = r->p;
	int nf = nf_ref(r, arg_str(a, "NF"), word_of(r, a, "NF")), err;
	struct pol_rule *ru;

	if (nf < 0)
		return nf;
	if (p->nfs[nf].info.type != TDM_NF_FIREWALL)
		return rerr(r, word_of(r, a, "NF"),
			    "NF '%s' is a %s, rules belong to firewalls",
			    arg_str(a, "NF"), tdm_nf_type_name(
				tdm_nf_type_by_id(p->nfs[nf].info.type)));
	if (p->nfs[nf].nrules >= TDM_FW_MAX_RULES)
		return rerr(r, -1, "firewall '%s' would have more than %d rules",
			    arg_str(a, "NF"), TDM_FW_MAX_RULES);
	if (GROW(p, rules))
		return -ENOMEM;
	ru = &p->rules[p->nrules];
	memset(ru, 0, sizeof(*ru));
	ru->nf = nf;
	ru->spec.prio = arg_num(a, "prio", RULE_PRIO_DEFAULT);
	ru->spec.action = arg_num(a, "action", 0) ? TDM_ACT_DROP : TDM_ACT_PASS;
	ru->spec.m = a->m;
	err = rule_sets(r, a, &ru->spec);
	if (err)
		return err;
	ru->line = r->line;
	p->nrules++;
	p->nfs[nf].nrules++;
	return 0;
}

static int line_chain_add(struct reader *r, struct args *a)
{
	struct tdm_policy *p = r->p;
	const char *name = arg_str(a, "NAME");
	int k = arg_index(a, "NF"), t = arg_index(a, "then"), i, j, nf;
	struct pol_chain *c;

	if (name_ok(r, a, "NAME", "chain"))
		return -EINVAL;
	i = tdm_policy_chain(p, name);
	if (i >= 0)
		return rerr(r, word_of(r, a, "NAME"),
			    "chain '%s' is already added at line %d", name,
			    p->chains[i].line);
	if (p->nchains >= TDM_MAX_CHAINS)
		return rerr(r, -1, "more than %d chains", TDM_MAX_CHAINS);
	if (a->nwords[k] > TDM_MAX_CHAIN_NFS)
		return rerr(r, -1, "a chain has at most %d NFs",
			    TDM_MAX_CHAIN_NFS);
	if (GROW(p, chains))
		return -ENOMEM;
	c = &p->chains[p->nchains];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	for (i = 0; i < a->nwords[k]; i++) {
		int w = (int)(a->words[k] + i - r->words);

		nf = nf_ref(r, a->words[k][i], w);
		if (nf < 0)
			return nf;
		for (j = 0; j < i; j++)
			if (c->nfs[j] == nf)
				return rerr(r, w, "NF '%s' is twice in the chain",
					    a->words[k][i]);
		c->nfs[i] = nf;
	}
	c->nnfs = a->nwords[k];
	c->action = a->seen[t] ? a->num[t] : TDM_ACT_PASS;
	if (c->action == TDM_ACT_REDIRECT) {
		int w;

		for (w = 0; w < r->nwords && r->words[w] != a->str2[t]; w++)
			;
		if (dev_name_check(r, w, a->str2[t]))
			return -EINVAL;
		snprintf(c->redirect, sizeof(c->redirect), "%s", a->str2[t]);
	}
	c->line = r->line;
	p->nchains++;
	return 0;
}

static int line_dev_attach(struct reader *r, struct args *a)
{
	struct tdm_policy *p = r->p;
	const char *dev = arg_str(a, "DEV"), *chain = arg_str(a, "chain");
	int m = arg_index(a, "mode"), i;
	struct pol_dev *d;

	if (dev_name_check(r, word_of(r, a, "DEV"), dev))
		return -EINVAL;
	for (i = 0; i < p->ndevs; i++)
		if (!strcmp(p->devs[i].name, dev))
			return rerr(r, word_of(r, a, "DEV"),
				    "device '%s' is already attached at line %d",
				    dev, p->devs[i].line);
	if (p->ndevs >= TDM_MAX_DEVS)
		return rerr(r, -1, "more than %d devices", TDM_MAX_DEVS);
	if (GROW(p, devs))
		return -ENOMEM;
	d = &p->devs[p->ndevs];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", dev);
	d->chain = -1;
	if (chain) {
		d->chain = chain_ref(r, chain, word_of(r, a, "chain"));
		if (d->chain < 0)
			return d->chain;
	}
	d->mode = a->seen[m] ? tdm_dev_mode_of[a->num[m]] : TDM_MODE_AUTO;
	d->force = arg_seen(a, "force");
	d->line = r->line;
	p->ndevs++;
	return 0;
}

static bool same_steer_key(const struct pol_steer *a,
			   const struct pol_steer *b)
{
	return !strcmp(a->dev, b->dev) && a->exact == b->exact &&
	       (a->exact || a->prio == b->prio) &&
	       !memcmp(&a->m, &b->m, sizeof(a->m));
}

/* FNV-1a of what same_steer_key() compares */
static size_t steer_hash(const struct pol_steer *s)
{
	const unsigned char *m = (const unsigned char *)&s->m;
	__u32 prio = s->exact ? 0 : s->prio;
	__u64 h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; s->dev[i]; i++)
		h = (h ^ (unsigned char)s->dev[i]) * 1099511628211ULL;
	h = (h ^ s->exact) * 1099511628211ULL;
	h = (h ^ prio) * 1099511628211ULL;
	for (i = 0; i < sizeof(s->m); i++)
		h = (h ^ m[i]) * 1099511628211ULL;
	return h;
}

static size_t steer_slot(const struct tdm_policy *p,
			 const struct steer_set *set,
			 const struct pol_steer *s)
{
	size_t k, mask = set->size - 1;

	for (k = steer_hash(s) & mask; set->slot[k]; k = (k + 1) & mask)
		if (same_steer_key(&p->steers[set->slot[k] - 1], s))
			break;
	return k;
}

/*
 * The index of the entry in p with the key of p->steers[i] in *dup (-1:
 * none, then i is added to the set); 0 or -ENOMEM.
 */
static int steer_dup(struct reader *r, int i, int *dup)
{
	struct steer_set *set = &r->steers, bigger;
	size_t k;

	if (2 * (set->n + 1) > set->size) {
		bigger.size = set->size ? set->size * 2 : 1024;
		bigger.n = set->n;
		bigger.slot = calloc(bigger.size, sizeof(*bigger.slot));
		if (!bigger.slot)
			return -ENOMEM;
		for (k = 0; k < set->size; k++) {
			int x = set->slot[k];

			if (x)
				bigger.slot[steer_slot(r->p, &bigger,
						       &r->p->steers[x - 1])] = x;
		}
		free(set->slot);
		*set = bigger;
	}
	k = steer_slot(r->p, set, &r->p->steers[i]);
	*dup = set->slot[k] - 1;
	if (*dup < 0) {
		set->slot[k] = i + 1;
		set->n++;
	}
	return 0;
}

static int line_steer_add(struct reader *r, struct args *a)
{
	struct tdm_policy *p = r->p;
	const char *dev = arg_str(a, "DEV");
	struct pol_steer *s;
	int i, err;

	if (dev_name_check(r, word_of(r, a, "DEV"), dev))
		return -EINVAL;
	if (GROW(p, steers))
		return -ENOMEM;
	s = &p->steers[p->nsteers];
	memset(s, 0, sizeof(*s));
	snprintf(s->dev, sizeof(s->dev), "%s", dev);
	s->m = a->m;
	s->exact = tdm_steer_is_exact(&s->m);
	s->prio = s->exact ? 0 : arg_num(a, "prio", STEER_PRIO_DEFAULT);
	s->chain = chain_ref(r, arg_str(a, "chain"), word_of(r, a, "chain"));
	if (s->chain < 0)
		return s->chain;
	s->line = r->line;
	/* a second entry of the same match could never be reached */
	err = steer_dup(r, p->nsteers, &i);
	if (err)
		return err;
	if (i >= 0)
		return rerr(r, -1,
			    "the same steering entry is already added at line %d",
			    p->steers[i].line);
	p->nsteers++;
	return 0;
}

static int line_set_add(struct reader *r, struct args *a)
{
	struct tdm_policy *p = r->p;
	const char *name = arg_str(a, "NAME");
	struct pol_set *set;
	int i;

	if (name_ok(r, a, "NAME", "set"))
		return -EINVAL;
	i = tdm_policy_set(p, name);
	if (i >= 0)
		return rerr(r, word_of(r, a, "NAME"),
			    "set '%s' is already added at line %d", name,
			    p->sets[i].line);
	if (p->nsets >= TDM_MAX_SETS)
		return rerr(r, -1, "more than %d sets", TDM_MAX_SETS);
	if (GROW(p, sets))
		return -ENOMEM;
	set = &p->sets[p->nsets];
	memset(set, 0, sizeof(*set));
	snprintf(set->info.name, sizeof(set->info.name), "%s", name);
	set->info.family = tdm_set_type_family[arg_num(a, "type", 0)];
	set->info.flags = arg_seen(a, "interval") ? TDM_SET_INTERVAL : 0;
	set->line = r->line;
	p->nsets++;
	return 0;
}

/*
 * The elements of all sets, at most what the two maps hold: without a
 * limit a file could ask for far more memory than they could ever take.
 */
#define POLICY_MAX_ELEMS	(2 * (size_t)TDM_SET_MAX_ELEMS)

/* How many more elements the policy may have */
static size_t elems_left(struct reader *r)
{
	size_t n = 0;
	int i;

	for (i = 0; i < r->p->nsets; i++)
		n += r->p->sets[i].elems.n;
	return n < POLICY_MAX_ELEMS ? POLICY_MAX_ELEMS - n : 0;
}

static int elems_too_many(struct reader *r)
{
	return rerr(r, -1, "more than %zu elements in all sets",
		    POLICY_MAX_ELEMS);
}

static int line_set_element(struct reader *r, struct args *a)
{
	int k = arg_index(a, "ELEM"), i, s, w;
	struct pol_set *set;
	struct tdm_set_elem e;
	char msg[512];

	/* a policy says what a set holds: deleting is the CLI's */
	if (arg_num(a, "add|del", 0) != 0)
		return rerr(r, 2, "'set element del': a policy lists what a set holds (set element add); what it leaves out is deleted");
	s = set_ref(r, arg_str(a, "NAME"), word_of(r, a, "NAME"));
	if (s < 0)
		return s;
	set = &r->p->sets[s];
	if ((size_t)a->nwords[k] > elems_left(r))
		return elems_too_many(r);
	for (i = 0; i < a->nwords[k]; i++) {
		w = (int)(a->words[k] + i - r->words);
		if (tdm_set_elem_parse(&set->info, a->words[k][i], &e, msg,
				       sizeof(msg)))
			return rerr(r, w, "'set element add': %s", msg);
		if (tdm_set_elems_push(&set->elems, &e))
			return -ENOMEM;
	}
	return 0;
}

static int line_set_load(struct reader *r, struct args *a)
{
	const char *file = arg_str(a, "FILE");
	struct pol_set *set;
	char path[4096], msg[1024];
	struct stat st;
	int s, err;

	s = set_ref(r, arg_str(a, "NAME"), word_of(r, a, "NAME"));
	if (s < 0)
		return s;
	set = &r->p->sets[s];
	if (file[0] == '/' || !r->dir)
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%s/%s", r->dir, file);
	/* a FIFO or a device would block the parse, or never end */
	if (!stat(path, &st) && !S_ISREG(st.st_mode))
		return rerr(r, word_of(r, a, "FILE"),
			    "'set load': %s is not a regular file", path);
	err = tdm_set_file_read(&set->info, path, elems_left(r),
				&set->elems, msg, sizeof(msg));
	if (err == -ENOMEM)
		return err;
	if (err == -E2BIG)
		return elems_too_many(r);
	if (err)
		return rerr(r, word_of(r, a, "FILE"), "'set load': %s", msg);
	return 0;
}

static const struct policy_cmd {
	const char *obj, *cmd;
	const struct arg *tab;
	int (*fn)(struct reader *r, struct args *a);
} policy_cmds[] = {
	{ "nf", "add", tdm_nf_add_args, line_nf_add },
	{ "rule", "add", tdm_rule_add_args, line_rule_add },
	{ "chain", "add", tdm_chain_add_args, line_chain_add },
	{ "dev", "attach", tdm_dev_attach_args, line_dev_attach },
	{ "steer", "add", tdm_steer_add_args, line_steer_add },
	{ "set", "add", tdm_set_add_args, line_set_add },
	{ "set", "element", tdm_set_element_args, line_set_element },
	{ "set", "load", tdm_set_load_args, line_set_load },
};

static int command(struct reader *r)
{
	const struct policy_cmd *pc = NULL;
	struct args a;
	char name[64];
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(policy_cmds); i++)
		if (!strcmp(r->words[0], policy_cmds[i].obj) &&
		    r->nwords > 1 && !strcmp(r->words[1], policy_cmds[i].cmd))
			pc = &policy_cmds[i];
	if (!pc)
		return rerr(r, 0, "'%s%s%s': a policy line is one of set add, set element add, set load, nf add, rule add, chain add, dev attach, steer add; an object a policy leaves out is deleted",
			    r->words[0], r->nwords > 1 ? " " : "",
			    r->nwords > 1 ? r->words[1] : "");
	snprintf(name, sizeof(name), "%s %s", pc->obj, pc->cmd);
	err = args_parse(&a, pc->tab, name, r->nwords - 2, r->words + 2);
	if (err)
		return rerr(r, a.err_word >= 0 ? a.err_word + 2 : -1, "%s",
			    a.err);
	return pc->fn(r, &a);
}

/* Words longer than the CLI's ARG_MAX_LEN are refused, as on the CLI. */
static int words_check(struct reader *r)
{
	int i;

	for (i = 0; i < r->nwords; i++)
		if (strlen(r->words[i]) > ARG_MAX_LEN)
			return rerr(r, i, "a word of %zu bytes, at most %d are allowed",
				    strlen(r->words[i]), ARG_MAX_LEN);
	return 0;
}

/*
 * The length of the line end at buf[i]: LF, CR LF, or a CR that ends the
 * text (the last line need not end in a newline: it means the same); 0
 * if none is there.
 */
static size_t eol_at(const char *buf, size_t i, size_t len)
{
	if (i >= len)
		return 0;
	if (buf[i] == '\n')
		return 1;
	if (buf[i] == '\r' && (i + 1 == len || buf[i + 1] == '\n'))
		return i + 1 == len ? 1 : 2;
	return 0;
}

/*
 * Split the text into commands and read each. buf is a copy of the
 * text the words point into (blanks become NULs).
 */
static int read_all(struct reader *r, char *buf, size_t len)
{
	char *words[TDM_POLICY_MAX_WORDS];
	int cols[TDM_POLICY_MAX_WORDS], lines[TDM_POLICY_MAX_WORDS];
	bool comment = false, in_word = false;
	int line = 1, col = 1, err;
	size_t i = 0, eol;

	r->words = words;
	r->cols = cols;
	r->lines = lines;
	r->nwords = 0;
	r->line = 1;
	while (i <= len) {
		char c = i < len ? buf[i] : '\n';

		/* a line ends in LF or CR LF, or where the text does */
		eol = i == len ? 1 : eol_at(buf, i, len);
		/* "\" right before a line's end joins the next line to it */
		if (c == '\\' && !comment &&
		    (i + 1 == len || eol_at(buf, i + 1, len))) {
			eol = eol_at(buf, i + 1, len);
			memset(buf + i, 0, 1 + eol);
			i += 1 + eol;
			line++;
			col = 1;
			in_word = false;
			continue;
		}
		if (eol) {
			if (i < len)
				memset(buf + i, 0, eol);
			if (r->nwords) {
				err = words_check(r) ?: command(r);
				if (err)
					return err;
			}
			r->nwords = 0;
			comment = in_word = false;
			i += eol;
			line++;
			col = 1;
			continue;
		}
		if (c == '\0') {
			r->nwords = 0;
			snprintf(r->err, r->errlen, "%s:%d:%d: a NUL byte",
				 r->name, line, col);
			return -EINVAL;
		}
		if (comment || c == ' ' || c == '\t') {
			if (!comment)
				buf[i] = '\0';
			in_word = false;
		} else if (!in_word && c == '#') {
			comment = true;
		} else if (!in_word) {
			if (!r->nwords)
				r->line = line;
			if (r->nwords == TDM_POLICY_MAX_WORDS) {
				snprintf(r->err, r->errlen,
					 "%s:%d:%d: more than %d words in one command",
					 r->name, line, col,
					 TDM_POLICY_MAX_WORDS);
				r->nwords = 0;
				return -EINVAL;
			}
			words[r->nwords] = buf + i;
			cols[r->nwords] = col;
			lines[r->nwords] = line;
			r->nwords++;
			in_word = true;
		}
		i++;
		col++;
	}
	return 0;
}

/*
 * A firewall of more than TDM_FW_LINEAR_MAX rules is looked up by tuples
 * only, so its rules must fit in TDM_FW_MAX_TUPLES of them, or the
 * apply would fail (ENOSPC). The error names the first rule, in the
 * file's order, that does not fit.
 */
static int fw_tuples_check(struct reader *r)
{
	struct tdm_policy *p = r->p;
	struct tdm_fw_rules rl = {};
	int f, i, err = 0;
	bool entries;
	long bad;

	for (f = 0; f < p->nnfs && !err; f++) {
		if (p->nfs[f].info.type != TDM_NF_FIREWALL ||
		    p->nfs[f].nrules <= TDM_FW_LINEAR_MAX)
			continue;
		rl.n = 0;
		for (i = 0; i < p->nrules && !err; i++)
			if (p->rules[i].nf == f)
				err = tdm_fw_rules_push(&rl, &(struct tdm_fw_rule){
					.id = i,
					.prio = p->rules[i].spec.prio,
					.action = p->rules[i].spec.action,
					.m = p->rules[i].spec.m,
				});
		if (err)
			break;
		bad = tdm_tss_overflow(rl.v, rl.n, &entries);
		if (bad < 0)
			continue;
		r->nwords = 0;
		r->line = p->rules[rl.v[bad].id].line;
		if (entries)
			err = rerr(r, -1,
				   "firewall '%s': its rules up to this one need more than %d tuple entries (a port range that is not a prefix takes up to 30, two up to 900)",
				   p->nfs[f].info.name, TDM_FW_RULESET_ENTRIES);
		else
			err = rerr(r, -1,
				   "firewall '%s' has more than %d rules, which must fit in %d tuples (mask shapes: family, protocol or any, prefix lengths, port prefix lengths); this rule needs one more",
				   p->nfs[f].info.name, TDM_FW_LINEAR_MAX,
				   TDM_FW_MAX_TUPLES);
	}
	tdm_fw_rules_free(&rl);
	return err;
}

bool tdm_policy_empty(const struct tdm_policy *p)
{
	return !p->nsets && !p->nnfs && !p->nrules && !p->nchains &&
	       !p->ndevs && !p->nsteers;
}

void tdm_policy_free(struct tdm_policy *p)
{
	int i;

	if (!p)
		return;
	for (i = 0; i < p->nsets; i++)
		tdm_set_elems_free(&p->sets[i].elems);
	free(p->name);
	free(p->sets);
	free(p->nfs);
	free(p->rules);
	free(p->chains);
	free(p->devs);
	free(p->steers);
	free(p);
}

int tdm_policy_parse(const char *name, const char *text, size_t len,
		     struct tdm_policy **out, char *err, size_t errlen)
{
	struct reader r = { .name = name, .err = err, .errlen = errlen };
	char *buf, *dir = NULL, *slash;
	int ret, i;

	*out = NULL;
	if (len > TDM_POLICY_MAX_BYTES) {
		snprintf(err, errlen, "%s: %zu bytes, at most %u are allowed",
			 name, len, TDM_POLICY_MAX_BYTES);
		return -EFBIG;
	}
	r.p = calloc(1, sizeof(*r.p));
	buf = malloc(len + 1);
	if (!r.p || !buf || !(r.p->name = strdup(name))) {
		snprintf(err, errlen, "%s: out of memory", name);
		ret = -ENOMEM;
		goto out;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	/* set load's relative paths are the file's directory's */
	slash = strrchr(name, '/');
	if (slash) {
		dir = strndup(name, slash == name ? 1 : slash - name);
		if (!dir) {
			snprintf(err, errlen, "%s: out of memory", name);
			ret = -ENOMEM;
			goto out;
		}
		r.dir = dir;
	}
	ret = read_all(&r, buf, len) ?: fw_tuples_check(&r);
	for (i = 0; !ret && i < r.p->nsets; i++)
		tdm_set_elems_uniq(&r.p->sets[i].elems);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", name);
out:
	free(buf);
	free(dir);
	free(r.steers.slot);
	if (ret)
		tdm_policy_free(r.p);
	else
		*out = r.p;
	return ret;
}

int tdm_policy_load(const char *path, struct tdm_policy **out, char *err,
		    size_t errlen)
{
	struct stat st0 = {}, st1;
	char *text = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, ret;

	*out = NULL;
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0 || fstat(fd, &st0)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd > 0)
			close(fd);
		return ret;
	}
	for (;;) {
		if (len == cap) {
			char *q;

			if (cap > TDM_POLICY_MAX_BYTES) {
				snprintf(err, errlen, "%s: more than %u bytes",
					 path, TDM_POLICY_MAX_BYTES);
				ret = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 65536;
			q = realloc(text, cap);
			if (!q) {
				snprintf(err, errlen, "%s: out of memory", path);
				ret = -ENOMEM;
				goto out;
			}
			text = q;
		}
		n = read(fd, text + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (!n)
			break;
		len += n;
	}
	/* a file rewritten in place while we read it may be half old,
	 * half new, or cut short: refuse it */
	if (fd > 0 && S_ISREG(st0.st_mode) &&
	    (fstat(fd, &st1) || st1.st_size != st0.st_size ||
	     (off_t)len != st0.st_size ||
	     st1.st_mtim.tv_sec != st0.st_mtim.tv_sec ||
	     st1.st_mtim.tv_nsec != st0.st_mtim.tv_nsec)) {
		snprintf(err, errlen,
			 "%s changed while it was read: write a new file and rename it over the old one",
			 path);
		ret = -EAGAIN;
		goto out;
	}
	ret = tdm_policy_parse(path, text, len, out, err, errlen);
out:
	if (fd > 0)
		close(fd);
	free(text);
	return ret;
}
