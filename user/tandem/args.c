// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The one parser of tandem's command lines, driven by the tables in
 * args.h. A command line is: the positional words in table order, then
 * keywords with their values, in any order, each at most once. The
 * checks that involve several words (a match's family, ports without
 * tcp/udp/sctp, required keywords) run after the last word is read, so
 * that word order never changes what a command means.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static bool is_end(const struct arg *d)
{
	return !d->meta && !d->name;
}

/* The keyword entry word names, or -1. */
static int find_keyword(const struct command *c, const char *word)
{
	int i;

	for (i = 0; !is_end(&c->args[i]); i++) {
		const struct arg *d = &c->args[i];

		if (d->name && (!strcmp(d->name, word) ||
				(d->alias && !strcmp(d->alias, word))))
			return i;
	}
	return -1;
}

static void keyword_list(const struct command *c, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; !is_end(&c->args[i]) && len < size; i++)
		if (c->args[i].name)
			len += snprintf(buf + len, size - len, "%s%s",
					len ? ", " : "", c->args[i].name);
	if (!len)
		snprintf(buf, size, "none");
}

static int usage(const struct args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage(const struct args *a, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cli_usage(a->obj->name, "'%s%s%s': %s", a->obj->name,
			 a->cmd->name[0] ? " " : "", a->cmd->name, msg);
}

static const char *type_expect(const struct arg *d, char *buf, size_t size)
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
	const struct arg *d = &a->cmd->args[i];
	const char *what = d->what ? d->what : d->name ? d->name : d->meta;
	const char *v = argv[*pos];
	char exp[128], err[256];
	__u64 ms;
	__u32 act;
	int k;

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
		     type_expect(d, exp, sizeof(exp)));
}

static int parse_positionals(struct args *a, int argc, char **argv,
			     int *pos)
{
	const struct command *c = a->cmd;
	int i, ret;

	for (i = 0; !is_end(&c->args[i]); i++) {
		const struct arg *d = &c->args[i];

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
			while (*pos < argc && find_keyword(c, argv[*pos]) < 0) {
				a->nwords[i]++;
				(*pos)++;
			}
		} else if (*pos < argc && find_keyword(c, argv[*pos]) < 0 &&
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
	const struct command *c = a->cmd;
	char list[256];
	int i, ret;

	while (*pos < argc) {
		const char *w = argv[*pos];

		i = find_keyword(c, w);
		if (i < 0) {
			keyword_list(c, list, sizeof(list));
			return usage(a, "unexpected '%s' (keywords: %s)", w,
				     list);
		}
		if (a->seen[i])
			return usage(a, "'%s' is given twice", c->args[i].name);
		a->seen[i] = true;
		(*pos)++;
		if (c->args[i].type == ARG_FLAG)
			continue;
		if (*pos >= argc)
			return usage(a, "'%s' needs %s", c->args[i].name,
				     c->args[i].meta);
		ret = parse_value(a, i, argc, argv, pos);
		if (ret)
			return ret;
	}
	return 0;
}

/* The checks across words, once every word is read. */
static int parse_end(struct args *a)
{
	const struct command *c = a->cmd;
	char err[256];
	int i;

	for (i = 0; !is_end(&c->args[i]); i++)
		if ((c->args[i].flags & ARG_REQUIRED) && !a->seen[i])
			return usage(a, "'%s %s' is required", c->args[i].name,
				     c->args[i].meta);
	if (tdm_match_end(&a->m, &a->mp, err, sizeof(err)))
		return usage(a, "%s", err);
	return 0;
}

static int command_parse(struct args *a, int argc, char **argv)
{
	int pos = 0, ret, n;

	/* struct args has room for ARGS_MAX_WORDS entries: a longer table
	 * is a bug, caught by any use of the command */
	for (n = 0; !is_end(&a->cmd->args[n]); n++)
		;
	if (n > ARGS_MAX_WORDS) {
		fprintf(stderr, "tandem: internal error: '%s %s' has %d words\n",
			a->obj->name, a->cmd->name, n);
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

	for (i = 0; !is_end(&a->cmd->args[i]); i++) {
		d = &a->cmd->args[i];
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

static const struct command *find_command(const struct object *obj,
					  const char *word)
{
	const struct command *c;

	for (c = obj->cmds; c->name; c++)
		if (!strcmp(c->name, word) || (c->alias && !strcmp(c->alias, word)))
			return c;
	return NULL;
}

int object_run(const struct object *obj, int argc, char **argv)
{
	struct args a = { .obj = obj };

	if (argc < 1 && obj->default_cmd) {
		a.cmd = obj->default_cmd;
		return command_parse(&a, 0, argv) ? EXIT_USAGE : a.cmd->fn(&a);
	}
	if (argc < 1)
		return cli_usage_help(obj, "'tandem %s' needs a command",
				      obj->name);
	if (!strcmp(argv[0], "help") || !strcmp(argv[0], "-h") ||
	    !strcmp(argv[0], "--help")) {
		if (argc > 1)
			return cli_usage(obj->name, "unexpected '%s' after help",
					 argv[1]);
		return cli_help(obj);
	}
	a.cmd = find_command(obj, argv[0]);
	if (a.cmd) {
		argc--;
		argv++;
	} else if (obj->default_cmd && argv[0][0] == '-') {
		a.cmd = obj->default_cmd;
	} else {
		return cli_usage(obj->name, "unknown command '%s %s'",
				 obj->name, argv[0]);
	}
	if (command_parse(&a, argc, argv))
		return EXIT_USAGE;
	return a.cmd->fn(&a);
}

/* ---- help, from the same tables ---- */

static void synopsis(const struct object *obj, const struct command *c,
		     FILE *f)
{
	const struct arg *d;

	fprintf(f, "tandem %s%s%s", obj->name, c->name[0] ? " " : "",
		c->name);
	for (d = c->args; !is_end(d); d++) {
		bool opt = !(d->flags & ARG_REQUIRED);

		if (!d->name) {
			if (d->type == ARG_REST)
				fprintf(f, " [%s]...", d->meta);
			else if (d->flags & ARG_MANY)
				fprintf(f, " %s [%s]...", d->meta, d->meta);
			else
				fprintf(f, opt ? " [%s]" : " %s", d->meta);
		} else if (d->type == ARG_FLAG) {
			fprintf(f, opt ? " [%s]" : " %s", d->name);
		} else {
			fprintf(f, opt ? " [%s %s]" : " %s %s", d->name,
				d->meta);
		}
	}
	fprintf(f, "\n");
}

static void keyword_help(const struct command *c, FILE *f)
{
	const struct arg *d;
	char exp[128], word[48];

	for (d = c->args; !is_end(d); d++) {
		if (!d->help)
			continue;
		if (d->type == ARG_FLAG)
			snprintf(word, sizeof(word), "%s%s%s", d->name,
				 d->alias ? ", " : "", d->alias ? d->alias : "");
		else
			snprintf(word, sizeof(word), "%s%s%s",
				 d->name ? d->name : "", d->name ? " " : "",
				 d->meta);
		fprintf(f, "  %-18s %s", word, d->help);
		if (d->alias && d->type != ARG_FLAG)
			fprintf(f, "; also %s", d->alias);
		if (d->type == ARG_NUM || d->type == ARG_SECONDS ||
		    d->type == ARG_ENUM)
			fprintf(f, " (%s)", type_expect(d, exp, sizeof(exp)));
		fprintf(f, "\n");
	}
}

void object_help(const struct object *obj, FILE *f)
{
	const struct command *c;
	bool first = true;

	for (c = obj->cmds; c->name; c++) {
		fprintf(f, "%s", first ? "Usage: " : "       ");
		synopsis(obj, c, f);
		first = false;
	}
	if (obj->default_cmd) {
		fprintf(f, "       ");
		synopsis(obj, obj->default_cmd, f);
	}
	for (c = obj->cmds; c->name; c++) {
		fprintf(f, "\n%s %s%s%s: %s\n", obj->name, c->name,
			c->alias ? " | " : "", c->alias ? c->alias : "",
			c->help);
		keyword_help(c, f);
	}
	if (obj->default_cmd) {
		fprintf(f, "\n%s: %s\n", obj->name, obj->default_cmd->help);
		keyword_help(obj->default_cmd, f);
	}
	if (obj->notes)
		fprintf(f, "\n%s", obj->notes);
	if (obj->more_help)
		obj->more_help(f);
}
