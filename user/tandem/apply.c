// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tandem apply, tandem dump: policy files. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static void result_out(const char *file, const struct tdm_apply_result *r,
		       bool check)
{
	json_object *o;

	if (!json_mode) {
		printf("%s: %s%u added, %u changed, %u deleted\n", file,
		       check ? "would have " : "", r->added, r->changed,
		       r->deleted);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "file", jstr(file));
	json_object_object_add(o, "check", json_object_new_boolean(check));
	json_object_object_add(o, "added", json_object_new_int64(r->added));
	json_object_object_add(o, "changed", json_object_new_int64(r->changed));
	json_object_object_add(o, "deleted", json_object_new_int64(r->deleted));
	cli_json_out(o);
}

static int apply_file(struct args *a, bool check)
{
	const char *file = arg_str(a, "FILE");
	struct tdm_apply_result r = {};
	struct tdm_policy *p;
	char err[1100];
	int ret;

	/* the text first: a bad file is refused before anything changes;
	 * `tandem status` says so (the record is all that is written) */
	ret = tdm_policy_load(file, &p, err, sizeof(err));
	if (ret) {
		struct tdm_ctx *ctx = check ? NULL : cli_ctx_try();

		if (ctx)
			tdm_status_apply_failed(ctx, file, ret, err);
		return cli_fail("%s", err);
	}
	ret = tdm_policy_apply(cli_ctx(check), p,
			       check ? TDM_APPLY_CHECK : 0, &r);
	tdm_policy_free(p);
	if (ret)
		return cli_lib_fail();
	result_out(file, &r, check);
	return 0;
}

static int apply(struct args *a)
{
	return apply_file(a, arg_seen(a, "--check"));
}

static int apply_check(struct args *a)
{
	return apply_file(a, true);
}

static int dump(struct args *a)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	f = open_memstream(&text, &len);
	if (!f)
		return cli_fail("out of memory");
	ret = tdm_policy_dump(cli_ctx(true), f);
	fclose(f);
	if (ret) {
		/* what could be written, and why the rest could not */
		if (!json_mode && text)
			fwrite(text, 1, len, stdout);
		free(text);
		return cli_lib_fail();
	}
	if (json_mode) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "policy", jstr(text));
		cli_json_out(o);
	} else {
		fwrite(text, 1, len, stdout);
	}
	free(text);
	return 0;
}

static const struct arg apply_args[] = {
	{ .meta = "FILE", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the policy file ('-': standard input)" },
	{ "--check", "-c", NULL, ARG_FLAG, 0, 0, 0, NULL,
	  "check the file against the system, change nothing" },
	{}
};

static const struct arg file_only[] = {
	{ .meta = "FILE", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the policy file ('-': standard input)" },
	{}
};

static const struct arg no_args[] = { {} };

static const struct command none[] = { {} };

static const struct command apply_cmds[] = {
	{ "--check", "-c", apply_check, file_only,
	  "check FILE against the system, change nothing" },
	{}
};

static const struct command apply_cmd = {
	"", NULL, apply, apply_args,
	"make the running state what FILE says, all or nothing",
};

static const struct command dump_cmd = {
	"", NULL, dump, no_args,
	"the running state as a policy file",
};

const struct object apply_object = {
	.name = "apply",
	.summary = "make the running state what a policy file says",
	.cmds = apply_cmds,
	.default_cmd = &apply_cmd,
	.notes = "A policy file holds set add, set element add, set load, nf add, rule add,\n"
		 "chain add, dev attach and steer add lines, as on the command line\n"
		 "without 'tandem' (set load's relative FILE is the policy file's\n"
		 "directory's); '#' starts a comment,\n"
		 "'\\' at a line's end continues it. What the file leaves out is deleted;\n"
		 "what it does not change keeps its ids, counters and state. A bad file\n"
		 "changes nothing; a failure half way takes every change back\n"
		 "(Documentation/policy.rst).\n",
};

const struct object dump_object = {
	.name = "dump",
	.summary = "print the running state as a policy file",
	.cmds = none,
	.default_cmd = &dump_cmd,
	.notes = "'tandem apply' of the dump changes nothing. Sets are written with their\n"
		 "elements.\n",
};
