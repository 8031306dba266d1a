/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The CLI's objects and commands. Each command's words are a table of
 * the library's grammar (grammar.h), read by its one parser; the help
 * is printed from the same tables.
 */
#ifndef TANDEM_ARGS_H
#define TANDEM_ARGS_H

#include <stdbool.h>
#include <stdio.h>
#include "grammar.h"

struct command {
	const char *name;
	const char *alias;
	int (*fn)(struct args *a);
	const struct arg *args;		/* ends with an entry without meta */
	const char *help;
	/* a command an NF type adds (fn is NULL): run by nf_command_run() */
	const struct tdm_nf_command *nf;
};

struct object {
	const char *name;
	const char *summary;
	const struct command *cmds;	/* ends with an entry without name */
	/* run when the first word is no command, if it starts with '-' */
	const struct command *default_cmd;
	const char *notes;		/* printed after the commands */
	void (*more_help)(FILE *f);	/* and this, if set */
};

/* Run "OBJECT ARGS...": help, or the command; returns the exit code. */
int object_run(const struct object *obj, int argc, char **argv);

/* Help, from the tables: of one object, or of every object. */
void object_help(const struct object *obj, FILE *f);
/* Every object: tandem's and those the NF types add, NULL-terminated */
extern const struct object *objects[];

/* nfcmd.c: the objects NF types add, as CLI objects: *n of them */
const struct object *nf_objects(int *n);
/* Run a command an NF type added, with its words read into a */
int nf_command_run(const struct tdm_nf_command *c, struct args *a);

#endif /* TANDEM_ARGS_H */
