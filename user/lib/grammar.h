/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The command grammar as tables, shared by the CLI (a command line) and
 * policy files (a line of one): each command lists its words (positional,
 * then keywords in any order) with their value type, whether they are
 * required, and their help. One parser reads every command from its
 * table, so a check is written once and holds for the CLI and for policy
 * files alike. The tables of the commands a policy file may hold live
 * here; the CLI's others live with the CLI.
 */
#ifndef TANDEM_GRAMMAR_H
#define TANDEM_GRAMMAR_H

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

/* What a command said, by table entry. */
struct args {
	const struct arg *tab;		/* the command's table */
	const char *cmd;		/* "nf add": errors start with it */
	bool seen[ARGS_MAX_WORDS];
	const char *str[ARGS_MAX_WORDS];	/* the (first) value word */
	const char *str2[ARGS_MAX_WORDS];	/* ARG_ACTION: redirect DEV */
	unsigned long long num[ARGS_MAX_WORDS];	/* ARG_NUM, ARG_SECONDS,
						 * ARG_ENUM index, ARG_ACTION */
	int nwords[ARGS_MAX_WORDS];		/* ARG_MANY, ARG_REST */
	char **words[ARGS_MAX_WORDS];
	struct tdm_match m;			/* every ARG_MATCH word */
	struct tdm_match_parser mp;
	/* on error: the message ("'nf add': ...") and the index of the word
	 * it is about in argv, or -1 when it is about the whole command */
	int err_word;
	int cur;				/* the word being read */
	char err[1024];
};

static inline bool arg_is_end(const struct arg *d)
{
	return !d->meta && !d->name;
}

/*
 * Read argv[0..argc) (the words after the command's name) by table tab.
 * 0, or -EINVAL with a->err and a->err_word set. A table longer than
 * ARGS_MAX_WORDS is a bug: abort().
 */
int args_parse(struct args *a, const struct arg *tab, const char *cmd,
	       int argc, char **argv);

/* The entry of the table called name (keyword or meta); abort() if none. */
int arg_index(const struct args *a, const char *name);
bool arg_seen(const struct args *a, const char *name);
const char *arg_str(const struct args *a, const char *name);
unsigned long long arg_num(const struct args *a, const char *name,
			   unsigned long long dflt);
/* What a value of entry d must be, for errors and help: "a decimal
 * number 0-4294967295", "native, generic or skb". */
const char *arg_expect(const struct arg *d, char *buf, size_t size);

/*
 * A command an NF type adds to the front ends: `tandem OBJECT COMMAND`,
 * its words read by its table like every command's. It hands back a
 * JSON value the front end prints (-j) or shows as text.
 */
struct json_object;

struct tdm_nf_command {
	const char *name;
	const char *alias;		/* another spelling, or NULL */
	const struct arg *args;		/* ends with an entry without meta */
	const char *help;
	bool writes;			/* changes state (the lock, exclusive) */
	/* 0 and *out (NULL: nothing to show), or -errno with the error
	 * set in ctx */
	int (*run)(struct tdm_ctx *ctx, const struct args *a,
		   struct json_object **out);
	/* *out as text (NULL: nothing to print but the JSON) */
	void (*print)(struct json_object *out, FILE *f);
};

struct tdm_nf_object {
	const char *name;		/* the first word: "rule" */
	const char *summary;
	const char *notes;		/* help printed after the commands */
	const struct tdm_nf_command *cmds;	/* ends with an entry without name */
};

/* The object NF type t adds (NULL: none) */
const struct tdm_nf_object *tdm_nf_type_object(const struct tdm_nf_type *t);
/* The set object (address sets, user/lib/setcmd.c): no NF type's */
const struct tdm_nf_object *tdm_set_object(void);

/* ---- the commands a policy file may hold ---- */
#define RULE_PRIO_DEFAULT	100
#define STEER_PRIO_DEFAULT	100

extern const struct arg tdm_nf_add_args[];
extern const struct arg tdm_rule_add_args[];
extern const struct arg tdm_chain_add_args[];
extern const struct arg tdm_dev_attach_args[];
extern const struct arg tdm_steer_add_args[];
/* set add, set element add|del, set load (set element del is the CLI's) */
extern const struct arg tdm_set_add_args[];
extern const struct arg tdm_set_element_args[];
extern const struct arg tdm_set_load_args[];
/* set add's "type" values, and the family (0: inet) of each */
extern const char *const tdm_set_types[];
extern const __u8 tdm_set_type_family[];
/* rule add's "action" values: the index is the verdict (0 pass, 1 drop) */
extern const char *const tdm_rule_actions[];
/* dev attach's "mode" values, and the mode of each */
extern const char *const tdm_dev_modes[];
extern const enum tdm_attach_mode tdm_dev_mode_of[];

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

#endif /* TANDEM_GRAMMAR_H */
