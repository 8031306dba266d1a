/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the tandem CLI's object files share. */
#ifndef TANDEM_CLI_H
#define TANDEM_CLI_H

#include <stdbool.h>
#include <json-c/json.h>
#include "libtandem.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

extern bool json_mode;

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

/* Run the command argv[0] of an object's table; "help" prints help(). */
int cmd_dispatch(const char *object, const struct cmd *cmds, int argc,
		 char **argv, void (*help)(void));

/* The library context, opened on first use, closed at exit. */
struct tdm_ctx *cli_ctx(bool readonly);

/* Errors: one line on stderr (and {"error": ...} in JSON mode); exit 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report the library's error for a failed call; returns 1. */
int cli_lib_fail(void);
/* A usage error: the message and a pointer to help; returns 2. */
int cli_usage(const char *object, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Emit a JSON value as the command's output (takes ownership). */
void cli_json_out(json_object *o);
json_object *json_u64(__u64 v);
const char *fmt_match(const struct tdm_match *m, char *buf, size_t size);
void json_add_match(json_object *o, const struct tdm_match *m);
__u32 parse_u32_or_die(const char *object, const char *what, const char *s);

/* The objects */
int do_nf(int argc, char **argv);
int do_rule(int argc, char **argv);
int do_chain(int argc, char **argv);
int do_steer(int argc, char **argv);
int do_dev(int argc, char **argv);
int do_stats(int argc, char **argv);

#endif /* TANDEM_CLI_H */
