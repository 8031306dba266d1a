// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tandem: the command line front end of libtandem.
 *
 *   tandem [-j|--json] [-p|--pretty] OBJECT COMMAND [ARGS]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define TANDEM_VERSION "0.1.0"

bool json_mode;
static bool json_pretty;
static struct tdm_ctx *ctx;

static void usage(void)
{
	printf("Usage: tandem [OPTIONS] OBJECT COMMAND [ARGS]...\n"
	       "       tandem help | tandem OBJECT help\n"
	       "\n"
	       "OBJECT := { nf | rule | chain | steer | dev | stats }\n"
	       "  nf      network function instances (counter, firewall, policer)\n"
	       "  rule    firewall rules\n"
	       "  chain   ordered NFs with a terminal action\n"
	       "  steer   which chain a packet runs: 5-tuple and prefix/port rules\n"
	       "  dev     attach tandem to a device with a default chain\n"
	       "  stats   counters of NFs, chains and devices\n"
	       "\n"
	       "OPTIONS:\n"
	       "  -j, --json      JSON output\n"
	       "  -p, --pretty    pretty-printed JSON output (implies -j)\n"
	       "  -V, --version   print the version\n"
	       "  -h, --help      this help\n"
	       "\n"
	       "State lives in BPF maps pinned under %s (see tandem(8)).\n",
	       tdm_pin_root());
}

int cli_fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "tandem: %s\n", msg);
	if (json_mode) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "error", json_object_new_string(msg));
		cli_json_out(o);
	}
	return 1;
}

int cli_lib_fail(void)
{
	return cli_fail("%s", tdm_errmsg(ctx));
}

int cli_usage(const char *object, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_fail("%s (see 'tandem %s help')", msg, object);
	return 2;
}

struct tdm_ctx *cli_ctx(bool readonly)
{
	sigset_t set;

	if (ctx)
		return ctx;
	/* signals still end it here: a wait for the lock is no change */
	if (tdm_open(&ctx, readonly ? TDM_OPEN_READONLY : 0)) {
		cli_fail("%s", tdm_open_errmsg());
		exit(1);
	}
	if (readonly)
		return ctx;
	/*
	 * A change is a series of map updates: Ctrl-C or a plain kill
	 * half way through would leave it half applied. They wait until
	 * the command ends (SIGKILL cannot be held off).
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return ctx;
}

void cli_json_out(json_object *o)
{
	/* prefixes stay readable: 10.0.0.0/8, not 10.0.0.0\/8 */
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (json_pretty ? JSON_C_TO_STRING_PRETTY |
				   JSON_C_TO_STRING_SPACED :
				   JSON_C_TO_STRING_PLAIN);

	printf("%s\n", json_object_to_json_string_ext(o, flags));
	json_object_put(o);
	fflush(stdout);
}

json_object *json_u64(__u64 v)
{
	return json_object_new_uint64(v);
}

int cmd_dispatch(const char *object, const struct cmd *cmds, int argc,
		 char **argv, void (*help)(void))
{
	const struct cmd *c;

	if (argc < 1 || !strcmp(argv[0], "help") || !strcmp(argv[0], "-h") ||
	    !strcmp(argv[0], "--help")) {
		help();
		return argc < 1 ? 2 : 0;
	}
	for (c = cmds; c->name; c++)
		if (!strcmp(c->name, argv[0]))
			return c->fn(argc - 1, argv + 1);
	return cli_usage(object, "unknown command '%s %s'", object, argv[0]);
}

__u32 parse_u32_or_die(const char *object, const char *what, const char *s)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 0xffffffffUL || *s == '-') {
		cli_usage(object, "bad %s '%s': expected a number", what, s);
		exit(2);
	}
	return v;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} objects[] = {
	{ "nf", do_nf }, { "rule", do_rule }, { "chain", do_chain },
	{ "steer", do_steer }, { "dev", do_dev }, { "stats", do_stats },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	size_t i;
	int c, ret;

	/* options before OBJECT only: later ones belong to commands */
	while ((c = getopt_long(argc, argv, "+jpVh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json_mode = true;
			break;
		case 'p':
			json_mode = json_pretty = true;
			break;
		case 'V':
			printf("tandem %s\n", TANDEM_VERSION);
			return 0;
		case 'h':
			usage();
			return 0;
		default:
			cli_fail("bad option (see 'tandem help')");
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage();
		return 2;
	}
	if (!strcmp(argv[0], "help")) {
		usage();
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(objects); i++) {
		if (!strcmp(objects[i].name, argv[0])) {
			ret = objects[i].fn(argc - 1, argv + 1);
			tdm_close(ctx);
			return ret;
		}
	}
	cli_fail("unknown object '%s' (see 'tandem help')", argv[0]);
	return 2;
}
