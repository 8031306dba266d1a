/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the tandem CLI's object files share. */
#ifndef TANDEM_CLI_H
#define TANDEM_CLI_H

#include <stdbool.h>
#include <json-c/json.h>
#include "libtandem.h"
#include "args.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Exit codes */
#define EXIT_RUNTIME	1	/* the command was understood and failed */
#define EXIT_USAGE	2	/* the command line is wrong */

extern bool json_mode;

/* The library context, opened on first use, closed at exit. */
struct tdm_ctx *cli_ctx(bool readonly);
/* The context for a change, or NULL (no message) if it cannot be had. */
struct tdm_ctx *cli_ctx_try(void);

/*
 * Errors: exactly one line on stderr, "tandem: MESSAGE", with control
 * bytes and bad UTF-8 escaped and long echoed words shortened; in JSON
 * mode also {"error": MESSAGE} on stdout.
 */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report the library's error for a failed call; returns 1. */
int cli_lib_fail(void);
/* A usage error: the message and a pointer to help; returns 2. */
int cli_usage(const char *object, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A usage error that prints the object's usage too; returns 2. */
int cli_usage_help(const struct object *obj, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The object's help (NULL: tandem's), as text or JSON; returns 0. */
int cli_help(const struct object *obj);

/* Emit a JSON value as the command's output (takes ownership). */
void cli_json_out(json_object *o);
json_object *json_u64(__u64 v);
/* A JSON string of s with bytes that are not UTF-8 escaped as \xNN. */
json_object *jstr(const char *s);
/* s made printable: control bytes and bad UTF-8 as \xNN, \ as \\. */
void cli_escape(const char *s, char *out, size_t size);
const char *fmt_match(const struct tdm_match *m, char *buf, size_t size);
void json_add_match(json_object *o, const struct tdm_match *m);

/* The objects */
extern const struct object nf_object, chain_object,
	steer_object, dev_object, stats_object, apply_object, dump_object,
	status_object, top_object, capture_object;

#endif /* TANDEM_CLI_H */
