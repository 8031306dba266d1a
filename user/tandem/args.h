/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The command line grammar as tables: each object lists its commands,
 * each command its words (positional, then keywords in any order) with
 * their value type, whether they are required, and their help. One
 * parser reads every command from the tables and the help is printed
 * from them, so a check is written once and holds for every command.
 */
#ifndef TANDEM_ARGS_H
#define TANDEM_ARGS_H

#include <stdbool.h>
#include <stdio.h>
#include "libtandem.h"

#define ARGS_MAX_WORDS	16	/* entries of a command's table */
#define ARG_MAX_LEN	256	/* longer words are refused outright */

enum arg_type {
	ARG_NAME,		/* a name: NF, chain; the library checks it */
	ARG_DEV,		/* a network device name */
	ARG_NUM,		/* decimal digits, in [min, max] */
	ARG_SECONDS,		/* decimal seconds, up to 3 decimals, in
				 * [min, max] milliseconds */
	ARG_ENUM,		/* one of values[] */
	ARG_NFTYPE,		/* an NF type the library knows */
	ARG_MATCH,		/* src/dst PREFIX, proto PROTO, s/dport PORTS */
	ARG_ACTION,		/* pass | drop | tx | redirect DEV */
	ARG_FLAG,		/* a keyword without value */
	ARG_REST,		/* every word left: PARAM VALUE pairs */
};

enum arg_flags {
	ARG_REQUIRED	= 1 << 0,
	ARG_MANY	= 1 << 1,	/* positional: one or more words */
};

struct arg {
	const char *name;		/* keyword; NULL for a positional */
	const char *alias;		/* another spelling, or NULL */
	const char *meta;		/* the value in help: NAME, N, PREFIX */
	enum arg_type type;
	unsigned int flags;
	unsigned long long min, max;	/* ARG_NUM, ARG_SECONDS */
	const char *const *values;	/* ARG_ENUM, NULL-terminated */
	const char *help;
	const char *what;		/* in errors, if not name or meta */
};

struct args;

struct command {
	const char *name;
	const char *alias;
	int (*fn)(struct args *a);
	const struct arg *args;		/* ends with an entry without meta */
	const char *help;
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

/* What a command line said, by table entry. */
struct args {
	const struct object *obj;
	const struct command *cmd;
	bool seen[ARGS_MAX_WORDS];
	const char *str[ARGS_MAX_WORDS];	/* the (first) value word */
	const char *str2[ARGS_MAX_WORDS];	/* ARG_ACTION: redirect DEV */
	unsigned long long num[ARGS_MAX_WORDS];	/* ARG_NUM, ARG_SECONDS,
						 * ARG_ENUM index, ARG_ACTION */
	int nwords[ARGS_MAX_WORDS];		/* ARG_MANY, ARG_REST */
	char **words[ARGS_MAX_WORDS];
	struct tdm_match m;			/* every ARG_MATCH word */
	struct tdm_match_parser mp;
};

/* Run "OBJECT ARGS...": help, or the command; returns the exit code. */
int object_run(const struct object *obj, int argc, char **argv);

/* The entry of the command's table called name (keyword or meta). */
int arg_index(const struct args *a, const char *name);
bool arg_seen(const struct args *a, const char *name);
const char *arg_str(const struct args *a, const char *name);
unsigned long long arg_num(const struct args *a, const char *name,
			   unsigned long long dflt);

/* Help, from the tables: of one object, or of every object. */
void object_help(const struct object *obj, FILE *f);
void objects_help(FILE *f);
/* The object tables, for the help and the docs test */
extern const struct object *const objects[];

#endif /* TANDEM_ARGS_H */

/* The words of a 5-tuple match, for rule add and steer add. */
#define MATCH_ARGS							\
	{ "src", NULL, "PREFIX", ARG_MATCH, 0, 0, 0, NULL,		\
	  "source prefix, IPv4 or IPv6" },				\
	{ "dst", NULL, "PREFIX", ARG_MATCH, 0, 0, 0, NULL,		\
	  "destination prefix, IPv4 or IPv6" },				\
	{ "proto", NULL, "PROTO", ARG_MATCH, 0, 0, 0, NULL,		\
	  "the IP protocol" },						\
	{ "sport", NULL, "PORTS", ARG_MATCH, 0, 0, 0, NULL,		\
	  "source port or range P-Q (needs proto tcp, udp or sctp)" },	\
	{ "dport", NULL, "PORTS", ARG_MATCH, 0, 0, 0, NULL,		\
	  "destination port or range P-Q (needs proto tcp, udp or sctp)" }

#define MATCH_NOTES							\
	"PREFIX := an IPv4 (a.b.c.d[/N]) or IPv6 (x:x::x[/N]) prefix.\n" \
	"  An IPv4 prefix matches only IPv4 packets, an IPv6 one only IPv6\n" \
	"  (::/0 is every IPv6 packet, 0.0.0.0/0 every IPv4 one); without\n" \
	"  src and dst a match takes both. IPv4-mapped IPv6 prefixes\n"	\
	"  (::ffff:a.b.c.d) are refused: write them as IPv4.\n"		\
	"PROTO := tcp | udp | sctp | icmp | icmpv6 | gre | esp | 1-255\n" \
	"  (icmp is IPv4 only, icmpv6 IPv6 only)\n"			\
	"PORTS := P | P-Q, ports 0-65535\n"				\
	"The match words come in any order, each once.\n"
