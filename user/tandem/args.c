// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The CLI's commands: find the object and command, read the words with
 * the library's parser (grammar.c), run the command; and the help,
 * printed from the same tables.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct command *find_command(const struct object *obj,
					  const char *word)
{
	const struct command *c;

	for (c = obj->cmds; c->name; c++)
		if (!strcmp(c->name, word) || (c->alias && !strcmp(c->alias, word)))
			return c;
	return NULL;
}

/* Read the command's words; a usage error (exit 2) if they are wrong. */
static int command_run(const struct object *obj, const struct command *c,
		       int argc, char **argv)
{
	struct args a;
	char name[64];

	snprintf(name, sizeof(name), "%s%s%s", obj->name,
		 c->name[0] ? " " : "", c->name);
	if (args_parse(&a, c->args, name, argc, argv))
		return cli_usage(obj->name, "%s", a.err);
	return c->nf ? nf_command_run(c->nf, &a) : c->fn(&a);
}

int object_run(const struct object *obj, int argc, char **argv)
{
	const struct command *c;

	if (argc < 1 && obj->default_cmd)
		return command_run(obj, obj->default_cmd, 0, argv);
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
	c = find_command(obj, argv[0]);
	if (c) {
		argc--;
		argv++;
	} else if (obj->default_cmd &&
		   (argv[0][0] == '-' || !obj->cmds[0].name ||
		    !obj->default_cmd->args[0].name)) {
		/* an option, or the word of a command without name */
		c = obj->default_cmd;
	} else {
		return cli_usage(obj->name, "unknown command '%s %s'",
				 obj->name, argv[0]);
	}
	return command_run(obj, c, argc, argv);
}

/* ---- help, from the same tables ---- */

static void synopsis(const struct object *obj, const struct command *c,
		     FILE *f)
{
	const struct arg *d;

	fprintf(f, "tandem %s%s%s", obj->name, c->name[0] ? " " : "",
		c->name);
	for (d = c->args; !arg_is_end(d); d++) {
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

	for (d = c->args; !arg_is_end(d); d++) {
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
			fprintf(f, " (%s)", arg_expect(d, exp, sizeof(exp)));
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
		fprintf(f, "%s", first ? "Usage: " : "       ");
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
