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
#include <unistd.h>

#include "cli.h"

#define TANDEM_VERSION "0.1.0"

bool json_mode;
static bool json_pretty;
static struct tdm_ctx *ctx;
static int all_argc;
static char **all_argv;

/* tandem's own objects, after nf those the NF types add (nfcmd.c) */
static const struct object *const own_objects[] = {
	&chain_object, &steer_object, &dev_object, &stats_object,
	&apply_object, &dump_object, &status_object, &top_object,
	&capture_object,
};

#define MAX_OBJECTS	32
const struct object *objects[MAX_OBJECTS + 1];

static void objects_init(void)
{
	const struct object *nf;
	int i, k = 0, n;

	objects[k++] = &nf_object;
	nf = nf_objects(&n);
	if (n > MAX_OBJECTS - 1 - (int)ARRAY_SIZE(own_objects)) {
		fprintf(stderr, "tandem: more objects than %d\n", MAX_OBJECTS);
		exit(EXIT_RUNTIME);
	}
	for (i = 0; i < n; i++)
		objects[k++] = &nf[i];
	for (i = 0; i < (int)ARRAY_SIZE(own_objects); i++)
		objects[k++] = own_objects[i];
	objects[k] = NULL;
	/* an NF's object must not hide another's (a bug of the NF) */
	for (i = 0; i < k; i++)
		for (n = i + 1; n < k; n++)
			if (!strcmp(objects[i]->name, objects[n]->name)) {
				fprintf(stderr, "tandem: two objects are called '%s'\n",
					objects[i]->name);
				exit(EXIT_RUNTIME);
			}
}

static void usage(FILE *f)
{
	int i, len;

	fprintf(f, "Usage: tandem [OPTIONS] OBJECT COMMAND [ARGS]...\n"
		"       tandem help | tandem OBJECT help\n"
		"\n"
		"OBJECT := {");
	for (i = 0, len = 11; objects[i]; i++) {
		if (len + strlen(objects[i]->name) + 3 > 72) {
			fprintf(f, "\n           ");
			len = 11;
		}
		len += fprintf(f, " %s%s", objects[i]->name,
			       objects[i + 1] ? " |" : " }\n");
	}
	for (i = 0; objects[i]; i++)
		fprintf(f, "  %-7s %s\n", objects[i]->name, objects[i]->summary);
	fprintf(f, "\n"
		"OPTIONS (before OBJECT):\n"
		"  -j, --json      JSON output\n"
		"  -p, --pretty    pretty-printed JSON output (implies -j)\n"
		"  -V, --version   print the version\n"
		"  -h, --help      this help\n"
		"\n"
		"Numbers are decimal digits. Exit status: 0 done, 1 the command\n"
		"failed, 2 the command line is wrong; an error is one line on stderr.\n"
		"State lives in BPF maps pinned under %s (see tandem(8)).\n",
		tdm_pin_root());
}

/* Length of the UTF-8 sequence at s, or 0 if it is not one. */
static int utf8_len(const unsigned char *s)
{
	int n, i;

	if (*s < 0x80)
		return 1;
	if (*s >= 0xc2 && *s <= 0xdf)
		n = 2;
	else if (*s >= 0xe0 && *s <= 0xef)
		n = 3;
	else if (*s >= 0xf0 && *s <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* no overlong forms, surrogates or code points above U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

static void escape(const char *in, char *out, size_t size, bool controls)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t len = 0;
	int n;

	while (*s && len + 8 < size) {
		n = utf8_len(s);
		if (n == 1 && (!controls || (*s >= 0x20 && *s != 0x7f &&
					     *s != '\\'))) {
			out[len++] = *s++;
		} else if (n == 1 && *s == '\\') {
			len += snprintf(out + len, size - len, "\\\\");
			s++;
		} else if (n > 1) {
			memcpy(out + len, s, n);
			len += n;
			s += n;
		} else {
			len += snprintf(out + len, size - len, "\\x%02x", *s++);
		}
	}
	out[len] = '\0';
}

void cli_escape(const char *s, char *out, size_t size)
{
	escape(s, out, size, true);
}

json_object *jstr(const char *s)
{
	/* each byte becomes at most 4 ("\\xNN"); +8 for escape()'s margin */
	size_t size = strlen(s) * 4 + 9;
	json_object *o;
	char *buf;

	buf = malloc(size);
	if (!buf)
		return json_object_new_string("");
	escape(s, buf, size, false);
	o = json_object_new_string(buf);
	free(buf);
	return o;
}

/*
 * Echoed words longer than this are cut, so that the reason after them
 * stays on the screen. Words are the command line's: the library quotes
 * them whole.
 */
#define ECHO_MAX	40

static void shorten_words(char *msg, size_t size)
{
	char *p, tail[4096];
	size_t wl;
	int i;

	for (i = 0; i < all_argc; i++) {
		wl = strlen(all_argv[i]);
		/* a file's path (a policy file) is named whole */
		if (wl <= ECHO_MAX + 3 || !access(all_argv[i], F_OK))
			continue;
		while ((p = strstr(msg, all_argv[i]))) {
			snprintf(tail, sizeof(tail), "%s", p + wl);
			snprintf(p + ECHO_MAX, size - (p + ECHO_MAX - msg),
				 "...%s", tail);
		}
	}
}

/* The one error line on stderr: long words cut, bytes escaped (in line). */
static void error_line(const char *raw, char *line, size_t size)
{
	char msg[4096];

	snprintf(msg, sizeof(msg), "%s", raw);
	shorten_words(msg, sizeof(msg));
	cli_escape(msg, line, size);
	fprintf(stderr, "tandem: %s\n", line);
}

/* The one error line, and in JSON mode the one document on stdout. */
static int report(int code, const char *raw)
{
	char line[4096];
	json_object *o;

	error_line(raw, line, sizeof(line));
	if (json_mode) {
		o = json_object_new_object();
		json_object_object_add(o, "error", jstr(line));
		cli_json_out(o);
	}
	return code;
}

int cli_fail(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return report(EXIT_RUNTIME, msg);
}

int cli_lib_fail(void)
{
	return cli_fail("%s", tdm_errmsg(ctx));
}

int cli_usage(const char *object, const char *fmt, ...)
{
	char msg[4096];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = strlen(msg);
	snprintf(msg + len, sizeof(msg) - len, " (see 'tandem %s%shelp')",
		 object ? object : "", object ? " " : "");
	return report(EXIT_USAGE, msg);
}

static char *help_text(const struct object *obj)
{
	char *text = NULL;
	size_t len;
	FILE *f;

	f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	if (obj)
		object_help(obj, f);
	else
		usage(f);
	fclose(f);
	return text;
}

static json_object *help_json(const struct object *obj, const char *text)
{
	json_object *o = json_object_new_object(), *cmds;
	const struct command *c;
	const struct arg *d;

	json_object_object_add(o, "usage", jstr(text ? text : ""));
	if (!obj)
		return o;
	json_object_object_add(o, "object", jstr(obj->name));
	cmds = json_object_new_array();
	for (c = obj->cmds; c->name; c++) {
		json_object *jc = json_object_new_object();
		json_object *ja = json_object_new_array();

		json_object_object_add(jc, "command", jstr(c->name));
		if (c->alias)
			json_object_object_add(jc, "alias", jstr(c->alias));
		for (d = c->args; d->name || d->meta; d++) {
			json_object *jd = json_object_new_object();
			int i;

			if (d->name)
				json_object_object_add(jd, "keyword", jstr(d->name));
			if (d->alias)
				json_object_object_add(jd, "alias", jstr(d->alias));
			if (d->meta)
				json_object_object_add(jd, "value", jstr(d->meta));
			json_object_object_add(jd, "required", json_object_new_boolean(
				d->flags & ARG_REQUIRED));
			if (d->values) {
				json_object *jv = json_object_new_array();

				for (i = 0; d->values[i]; i++)
					json_object_array_add(jv, jstr(d->values[i]));
				json_object_object_add(jd, "values", jv);
			}
			json_object_array_add(ja, jd);
		}
		json_object_object_add(jc, "args", ja);
		json_object_array_add(cmds, jc);
	}
	json_object_object_add(o, "commands", cmds);
	return o;
}

int cli_help(const struct object *obj)
{
	char *text = help_text(obj);

	if (json_mode)
		cli_json_out(help_json(obj, text));
	else
		printf("%s", text ? text : "");
	free(text);
	return 0;
}

/* Usage on stdout (in JSON mode: {"usage", "error"}), one error line. */
static int usage_error(const struct object *obj, const char *msg)
{
	char *text = help_text(obj), line[4096];
	json_object *o;

	error_line(msg, line, sizeof(line));
	if (json_mode) {
		o = help_json(obj, text);
		json_object_object_add(o, "error", jstr(line));
		cli_json_out(o);
	} else {
		printf("%s", text ? text : "");
	}
	free(text);
	return EXIT_USAGE;
}

int cli_usage_help(const struct object *obj, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return usage_error(obj, msg);
}

struct tdm_ctx *cli_ctx_try(void)
{
	if (!ctx && tdm_open(&ctx, 0))
		ctx = NULL;
	return ctx;
}

struct tdm_ctx *cli_ctx(bool readonly)
{
	sigset_t set;

	if (ctx)
		return ctx;
	/* signals still end it here: a wait for the lock is no change */
	if (tdm_open(&ctx, readonly ? TDM_OPEN_READONLY : 0)) {
		cli_fail("%s", tdm_open_errmsg());
		exit(EXIT_RUNTIME);
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

/* No word tandem reads is this long: refuse it before it hides a reason. */
static int check_lengths(int argc, char **argv)
{
	char msg[128];
	int i;

	for (i = 1; i < argc; i++) {
		if (strlen(argv[i]) <= ARG_MAX_LEN)
			continue;
		snprintf(msg, sizeof(msg), "word %d is %zu bytes long, at most %d are allowed",
			 i, strlen(argv[i]), ARG_MAX_LEN);
		return cli_usage(NULL, "%s", msg);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char msg[128];
	int c, i, ret, act = 0;

	objects_init();
	all_argc = argc;
	all_argv = argv;
	/* tandem's own line is the only error line */
	opterr = 0;
	/*
	 * Options before OBJECT only: later ones belong to commands. All
	 * are read before any is acted on: "-h2" is an error, not help.
	 */
	while ((c = getopt_long(argc, argv, "+jpVh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json_mode = true;
			break;
		case 'p':
			json_mode = json_pretty = true;
			break;
		case 'V':
		case 'h':
			act = c;
			break;
		default:
			if (check_lengths(argc, argv))
				return EXIT_USAGE;
			if (optopt && strncmp(argv[optind - 1], "--", 2))
				snprintf(msg, sizeof(msg), "-%c", optopt);
			else
				snprintf(msg, sizeof(msg), "%s", argv[optind - 1]);
			return cli_usage(NULL, "unknown option '%s'", msg);
		}
	}
	if (act && optind < argc)
		return cli_usage(NULL, "unexpected '%s' after -%c",
				 argv[optind], act);
	if (act == 'V' && json_mode) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "version", jstr(TANDEM_VERSION));
		cli_json_out(o);
		return 0;
	}
	if (act == 'V') {
		printf("tandem %s\n", TANDEM_VERSION);
		return 0;
	}
	if (act == 'h')
		return cli_help(NULL);
	if (check_lengths(argc, argv))
		return EXIT_USAGE;
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage_error(NULL, "no OBJECT given");
	if (!strcmp(argv[0], "help")) {
		if (argc > 1)
			return cli_usage(NULL, "unexpected '%s' after help",
					 argv[1]);
		return cli_help(NULL);
	}
	for (i = 0; objects[i]; i++) {
		if (!strcmp(objects[i]->name, argv[0])) {
			ret = object_run(objects[i], argc - 1, argv + 1);
			tdm_close(ctx);
			return ret;
		}
	}
	return cli_usage(NULL, "unknown object '%s'", argv[0]);
}
