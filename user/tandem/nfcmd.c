// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The commands NF types add (struct tdm_nf_object, user/lib/grammar.h),
 * and the library's set object, which is built the same way: made CLI
 * objects at start, run like every command. The NF's library
 * half does the work and hands back JSON; printed as is (-j) or as the
 * NF's text.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const struct object *nf_objects(int *n)
{
	static struct object *objs;
	static int nobjs = -1;
	const struct tdm_nf_object *no;
	const struct tdm_nf_type *t;
	struct command *cmds;
	int i, k, ncmds;

	if (nobjs >= 0)
		goto out;
	nobjs = 1;	/* the set object */
	for (i = 0; (t = tdm_nf_type_at(i)); i++)
		nobjs += tdm_nf_type_object(t) != NULL;
	objs = calloc(nobjs + 1, sizeof(*objs));
	if (!objs)
		abort();
	for (i = 0, k = 0; k < nobjs; i++) {
		t = tdm_nf_type_at(i);
		no = t ? tdm_nf_type_object(t) : tdm_set_object();
		if (!no)
			continue;
		for (ncmds = 0; no->cmds[ncmds].name; ncmds++)
			;
		cmds = calloc(ncmds + 1, sizeof(*cmds));
		if (!cmds)
			abort();
		for (ncmds = 0; no->cmds[ncmds].name; ncmds++)
			cmds[ncmds] = (struct command){
				.name = no->cmds[ncmds].name,
				.alias = no->cmds[ncmds].alias,
				.args = no->cmds[ncmds].args,
				.help = no->cmds[ncmds].help,
				.nf = &no->cmds[ncmds],
			};
		objs[k++] = (struct object){
			.name = no->name,
			.summary = no->summary,
			.cmds = cmds,
			.notes = no->notes,
		};
	}
out:
	*n = nobjs;
	return objs;
}

int nf_command_run(const struct tdm_nf_command *c, struct args *a)
{
	json_object *out = NULL;

	if (c->run(cli_ctx(!c->writes), a, &out))
		return cli_lib_fail();
	if (json_mode) {
		cli_json_out(out ?: json_object_new_object());
		return 0;
	}
	if (out && c->print)
		c->print(out, stdout);
	json_object_put(out);
	return 0;
}
