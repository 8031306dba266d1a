// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The NF types tandem knows: every bpf/nf_<type>.bpf.c with its library
 * half user/lib/nf_<type>.c (bpf/lib/nf.h says what each holds). The
 * words of an NF's parameters (unknown, twice, missing) are checked here
 * by tdm_nf_params_parse() from the type's table, for every type alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "grammar.h"

static int perr(char *err, size_t errlen, const char *fmt, const char *a,
		const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return -EINVAL;
}

/*
 * Every NF type, in the datapath's order: name, id and drop reasons from
 * its BPF file (nf_list.h), the rest from its library half.
 */
#define TDM_NF_TYPE(name, id, params_t, ndrops)			\
	extern const struct tdm_nf_ops tdm_nf_##name;
TDM_NF_TYPES
#undef TDM_NF_TYPE

static const struct tdm_nf_type nf_types[] = {
#define TDM_NF_TYPE(name, id, params_t, ndrops)			\
	{ #name, id, ndrops, &tdm_nf_##name },
	TDM_NF_TYPES
#undef TDM_NF_TYPE
};

const struct tdm_nf_type *tdm_nf_type_at(int i)
{
	return i >= 0 && i < (int)ARRAY_SIZE(nf_types) ? &nf_types[i] : NULL;
}

const struct tdm_nf_type *tdm_nf_type_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(nf_types); i++)
		if (!strcmp(nf_types[i].name, name))
			return &nf_types[i];
	return NULL;
}

const struct tdm_nf_type *tdm_nf_type_by_id(__u32 id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(nf_types); i++)
		if (nf_types[i].id == id)
			return &nf_types[i];
	return NULL;
}

const char *tdm_nf_type_name(const struct tdm_nf_type *t)
{
	return t ? t->name : "?";
}

bool tdm_nf_type_fixed(const struct tdm_nf_type *t)
{
	return t && t->ops->params_fixed;
}

const char *tdm_nf_type_summary(const struct tdm_nf_type *t)
{
	return t->ops->summary;
}

__u32 tdm_nf_type_id(const struct tdm_nf_type *t)
{
	return t->id;
}

const struct tdm_nf_object *tdm_nf_type_object(const struct tdm_nf_type *t)
{
	return t->ops->object;
}

const char *tdm_nf_type_help(const struct tdm_nf_type *t)
{
	return t->ops->help ?: "";
}

const char *tdm_nf_drop_name(__u32 type, int reason)
{
	const struct tdm_nf_type *t = tdm_nf_type_by_id(type);

	if (reason == TDM_DROP_MISSED)
		return "missed";
	if (!t || reason < TDM_DROP_NF || reason >= (int)t->ndrops)
		return NULL;
	/* a reason its library half did not name: counted all the same
	 * (test_unit checks every type names all) */
	return t->ops->drops && t->ops->drops[reason] ?
	       t->ops->drops[reason] : "unnamed";
}

/* The usage line, from the parameter table: "rate RATE [burst BURST]" */
const char *tdm_nf_type_usage(const struct tdm_nf_type *t)
{
	static char usage[ARRAY_SIZE(nf_types)][160];
	char *buf = usage[t - nf_types];
	const struct tdm_nf_param *q;
	size_t len = 0;

	if (buf[0] || !t->ops->params[0].name)
		return buf;
	for (q = t->ops->params; q->name && len < sizeof(usage[0]); q++)
		len += snprintf(buf + len, sizeof(usage[0]) - len,
				q->required ? "%s%s %s" : "%s[%s %s]",
				len ? " " : "", q->name, q->value);
	if (t->ops->command && len < sizeof(usage[0]))
		snprintf(buf + len, sizeof(usage[0]) - len,
			 " [-- CMD ARG...]");
	return buf;
}

static void param_names(const struct tdm_nf_type *t, char *buf, size_t size)
{
	const struct tdm_nf_param *q;
	size_t len = 0;

	snprintf(buf, size, "none");
	for (q = t->ops->params; q->name && len < size; q++)
		len += snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
				q->name);
}

/*
 * The words after '--' as one command line, joined by single spaces:
 * what tandemd runs. Each word must read back as itself from a policy
 * file (no blanks, '#', backslash or control characters); a command
 * that needs them belongs in a script.
 */
static int command_join(char *cmd, int argc, char **argv, char *err,
			size_t errlen)
{
	size_t len = 0, n;
	const char *c;
	int i;

	if (!argc)
		return perr(err, errlen, "%s: '--' needs a command after it%s",
			    "process", "");
	for (i = 0; i < argc; i++) {
		if (!argv[i][0])
			return perr(err, errlen,
				    "%s: an empty command word%s (it would not read back)",
				    "process", "");
		for (c = argv[i]; *c; c++)
			if ((unsigned char)*c <= ' ' || *c == '#' ||
			    *c == '\\' || *c == 0x7f)
				return perr(err, errlen,
					    "process: the command word '%s' holds a blank, '#', '\\' or a control character%s (put the command in a script)",
					    argv[i], "");
		n = strlen(argv[i]);
		if (len + n + 1 >= TDM_NF_CMD_LEN)
			return perr(err, errlen,
				    "process: the command is longer than %s bytes%s",
				    "1023", "");
		len += sprintf(cmd + len, "%s%s", i ? " " : "", argv[i]);
	}
	return 0;
}

/*
 * Every NF type's words are read here, by its table: each parameter once,
 * with a value, known to the type, required ones given; the type reads
 * the values once all are known (a policer's burst depends on the unit
 * of its rate).
 */
int tdm_nf_params_parse(const struct tdm_nf_type *t, union tdm_nf_params *p,
			char *cmd, int argc, char **argv, char *err,
			size_t errlen)
{
	const char *vals[TDM_NF_MAX_PARAMS] = {};
	char names[128];
	int i, k, err2;

	if (cmd)
		cmd[0] = 0;
	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			break;
	if (i < argc) {
		if (!t->ops->command)
			return perr(err, errlen,
				    "%s: '--' (a command) is for process NFs only%s",
				    t->name, "");
		err2 = command_join(cmd, argc - i - 1, argv + i + 1, err,
				    errlen);
		if (err2)
			return err2;
		argc = i;
	}
	for (k = 0; t->ops->params[k].name; k++)
		if (k >= TDM_NF_MAX_PARAMS)
			return perr(err, errlen,
				    "%s: more parameters in its table than TDM_NF_MAX_PARAMS%s",
				    t->name, "");
	for (i = 0; i < argc; i += 2) {
		for (k = 0; t->ops->params[k].name; k++)
			if (!strcmp(t->ops->params[k].name, argv[i]))
				break;
		if (!t->ops->params[k].name) {
			param_names(t, names, sizeof(names));
			snprintf(err, errlen,
				 "%s: unknown parameter '%s' (parameters: %s)",
				 t->name, argv[i], names);
			return -EINVAL;
		}
		if (vals[k])
			return perr(err, errlen, "%s: '%s' is given twice",
				    t->name, argv[i]);
		if (i + 1 >= argc)
			return perr(err, errlen, "%s: '%s' needs a value",
				    t->name, argv[i]);
		vals[k] = argv[i + 1];
	}
	for (k = 0; t->ops->params[k].name; k++)
		if (t->ops->params[k].required && !vals[k])
			return perr(err, errlen, "%s: '%s' is required",
				    t->name, t->ops->params[k].name);
	return t->ops->parse(p, vals, err, errlen);
}

void tdm_nf_params_format(const struct tdm_nf_info *nf, char *buf,
			  size_t size)
{
	const struct tdm_nf_type *t = tdm_nf_type_by_id(nf->type);

	if (t)
		t->ops->format(&nf->params, buf, size);
	else
		snprintf(buf, size, "?");
}
