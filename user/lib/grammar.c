// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The one parser of tandem's commands, driven by the tables in
 * grammar.h: a command line of the CLI and a line of a policy file are
 * read by the same code. A command is: the positional words in table
 * order, then keywords with their values, in any order, each at most
 * once. The checks that involve several words (a match's family, ports
 * without tcp/udp/sctp, required keywords) run after the last word is
 * read, so that word order never changes what a command means.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grammar.h"

/* The keyword entry word names, or -1. */
static int find_keyword(const struct arg *tab, const char *word)
{
	int i;

	for (i = 0; !arg_is_end(&tab[i]); i++) {
		const struct arg *d = &tab[i];

		if (d->name && (!strcmp(d->name, word) ||
				(d->alias && !strcmp(d->alias, word))))
			return i;
	}
	return -1;
}

static void keyword_list(const struct arg *tab, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; !arg_is_end(&tab[i]) && len < size; i++)
		if (tab[i].name)
			len += snprintf(buf + len, size - len, "%s%s",
					len ? ", " : "", tab[i].name);
	if (!len)
		snprintf(buf, size, "none");
}

static int usage(struct args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage(struct args *a, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(a->err, sizeof(a->err), "'%.64s': %s", a->cmd, msg);
	a->err_word = a->cur;
	return -EINVAL;
}

const char *arg_expect(const struct arg *d, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	switch (d->type) {
	case ARG_NUM:
		snprintf(buf, size, "a decimal number %llu-%llu", d->min,
			 d->max);
		break;
	case ARG_SECONDS:
		snprintf(buf, size, "seconds %llu.%03llu-%llu",
			 d->min / 1000, d->min % 1000, d->max / 1000);
		break;
	case ARG_ENUM:
		for (i = 0; d->values[i] && len < size; i++)
			len += snprintf(buf + len, size - len, "%s%s",
					i ? (d->values[i + 1] ? ", " : " or ") :
					"", d->values[i]);
		break;
	default:
		snprintf(buf, size, "%s", d->meta);
	}
	return buf;
}

/* Read the value of entry i from argv[*pos...]; advances *pos. */
static int parse_value(struct args *a, int i, int argc, char **argv,
		       int *pos)
{
	const struct arg *d = &a->tab[i];
	const char *what = d->what ? d->what : d->name ? d->name : d->meta;
	const char *v = argv[*pos];
	char exp[128], err[256];
	__u64 ms;
	__u32 act;
	int k;

	a->cur = *pos;
	switch (d->type) {
	case ARG_NUM:
		if (tdm_parse_uint(v, d->min, d->max, &a->num[i]))
			goto bad;
		break;
	case ARG_SECONDS:
		if (tdm_parse_millis(v, d->max, &ms) || ms < d->min)
			goto bad;
		a->num[i] = ms;
		break;
	case ARG_ENUM:
		for (k = 0; d->values[k] && strcmp(d->values[k], v); k++)
			;
		if (!d->values[k])
			goto bad;
		a->num[i] = k;
		break;
	case ARG_NFTYPE:
		if (!tdm_nf_type_by_name(v))
			return usage(a, "unknown NF type '%s' (see 'tandem nf types')",
				     v);
		break;
	case ARG_MATCH:
		if (tdm_match_word(&a->m, &a->mp, d->name, v, err,
				   sizeof(err)))
			return usage(a, "%s", err);
		break;
	case ARG_ACTION:
		if (tdm_parse_action(v, &act))
			return usage(a, "bad %s '%s': expected pass, drop, tx or redirect DEV",
				     what, v);
		a->num[i] = act;
		if (act == TDM_ACT_REDIRECT) {
			if (*pos + 1 >= argc)
				return usage(a, "'redirect' needs a device");
			a->str2[i] = argv[++*pos];
		}
		break;
	default:
		break;
	}
	a->str[i] = v;
	(*pos)++;
	return 0;
bad:
	return usage(a, "bad %s '%s': expected %s", what, v,
		     arg_expect(d, exp, sizeof(exp)));
}

static int parse_positionals(struct args *a, int argc, char **argv,
			     int *pos)
{
	const struct arg *tab = a->tab;
	int i, ret;

	for (i = 0; !arg_is_end(&tab[i]); i++) {
		const struct arg *d = &tab[i];

		a->cur = *pos < argc ? *pos : -1;

		if (d->name)
			continue;
		if (d->type == ARG_REST) {
			a->words[i] = argv + *pos;
			a->nwords[i] = argc - *pos;
			a->seen[i] = a->nwords[i] > 0;
			*pos = argc;
			continue;
		}
		if (d->flags & ARG_MANY) {
			a->words[i] = argv + *pos;
			while (*pos < argc && find_keyword(tab, argv[*pos]) < 0) {
				a->nwords[i]++;
				(*pos)++;
			}
		} else if (*pos < argc && find_keyword(tab, argv[*pos]) < 0 &&
			   ((d->flags & ARG_REQUIRED) || argv[*pos][0] != '-')) {
			ret = parse_value(a, i, argc, argv, pos);
			if (ret)
				return ret;
			a->nwords[i] = 1;
		}
		a->seen[i] = a->nwords[i] > 0;
		if ((d->flags & ARG_REQUIRED) && !a->seen[i])
			return usage(a, *pos < argc ? "needs %s before '%s'" :
				     "needs %s%s", d->meta,
				     *pos < argc ? argv[*pos] : "");
	}
	return 0;
}

static int parse_keywords(struct args *a, int argc, char **argv, int *pos)
{
	const struct arg *tab = a->tab;
	char list[256];
	int i, ret;

	while (*pos < argc) {
		const char *w = argv[*pos];

		a->cur = *pos;
		i = find_keyword(tab, w);
		if (i < 0) {
			keyword_list(tab, list, sizeof(list));
			return usage(a, "unexpected '%s' (keywords: %s)", w,
				     list);
		}
		if (a->seen[i])
			return usage(a, "'%s' is given twice", tab[i].name);
		a->seen[i] = true;
		(*pos)++;
		if (tab[i].type == ARG_FLAG)
			continue;
		if (*pos >= argc)
			return usage(a, "'%s' needs %s", tab[i].name,
				     tab[i].meta);
		ret = parse_value(a, i, argc, argv, pos);
		if (ret)
			return ret;
	}
	return 0;
}

/* The checks across words, once every word is read. */
static int parse_end(struct args *a)
{
	const struct arg *tab = a->tab;
	char err[256];
	int i;

	a->cur = -1;
	for (i = 0; !arg_is_end(&tab[i]); i++)
		if ((tab[i].flags & ARG_REQUIRED) && !a->seen[i])
			return usage(a, "'%s %s' is required", tab[i].name,
				     tab[i].meta);
	if (tdm_match_end(&a->m, &a->mp, err, sizeof(err)))
		return usage(a, "%s", err);
	/* the library resolves set names in firewall rules only */
	if ((a->mp.sets[0][0] || a->mp.sets[1][0]) &&
	    a->tab != tdm_rule_add_args)
		return usage(a, "address sets (@%s) are for firewall rules only, not for steering",
			     a->mp.sets[0][0] ? a->mp.sets[0] : a->mp.sets[1]);
	if (a->m.ct_states && a->tab != tdm_rule_add_args)
		return usage(a, "'state' is for firewall rules only, not for steering");
	return 0;
}

int args_parse(struct args *a, const struct arg *tab, const char *cmd,
	       int argc, char **argv)
{
	int pos = 0, ret, n;

	memset(a, 0, sizeof(*a));
	a->tab = tab;
	a->cmd = cmd;
	a->err_word = -1;
	/* struct args has room for ARGS_MAX_WORDS entries: a longer table
	 * is a bug, caught by any use of the command */
	for (n = 0; !arg_is_end(&a->tab[n]); n++)
		;
	if (n > ARGS_MAX_WORDS) {
		fprintf(stderr, "tandem: internal error: '%s' has %d words\n",
			a->cmd, n);
		abort();
	}
	tdm_match_begin(&a->m, &a->mp);
	ret = parse_positionals(a, argc, argv, &pos);
	if (!ret)
		ret = parse_keywords(a, argc, argv, &pos);
	if (!ret)
		ret = parse_end(a);
	return ret;
}

int arg_index(const struct args *a, const char *name)
{
	const struct arg *d;
	int i;

	for (i = 0; !arg_is_end(&a->tab[i]); i++) {
		d = &a->tab[i];
		if (!strcmp(d->name ? d->name : d->meta, name))
			return i;
	}
	/* a name not in the table is a bug in the caller */
	fprintf(stderr, "tandem: internal error: no argument '%s'\n", name);
	abort();
}

bool arg_seen(const struct args *a, const char *name)
{
	return a->seen[arg_index(a, name)];
}

const char *arg_str(const struct args *a, const char *name)
{
	int i = arg_index(a, name);

	return a->seen[i] ? a->str[i] : NULL;
}

unsigned long long arg_num(const struct args *a, const char *name,
			   unsigned long long dflt)
{
	int i = arg_index(a, name);

	return a->seen[i] ? a->num[i] : dflt;
}

