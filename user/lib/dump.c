// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tandem dump: the running state (tdm_policy_running(), apply.c) as a
 * policy file that an apply reads back to the same state; what cannot be
 * written so is printed as a comment, and the dump says so.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "grammar.h"

static void dump_match(FILE *f, const struct tdm_match *m,
		       const struct tdm_set_names *names)
{
	char buf[256];

	tdm_format_match_sets(m, names, buf, sizeof(buf));
	if (strcmp(buf, "any"))
		fprintf(f, " %s", buf);
}

/* What a dump could not write so that it reads back the same. */
struct dump_err {
	char what[128];
};

static void __attribute__((format(printf, 2, 3)))
dump_bad(struct dump_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e->what[0])
		return;
	va_start(ap, fmt);
	vsnprintf(e->what, sizeof(e->what), fmt, ap);
	va_end(ap);
}

/*
 * Can a policy file hold this NF's, chain's or set's name? A record
 * written by hand or torn, or made before names could not start with
 * '-' or '.', may hold any. If not, the dump says so.
 */
static bool dump_name_ok(struct dump_err *e, const char *what,
			 const char *name)
{
	char buf[256];

	if (!tdm_name_valid(what, name, buf, sizeof(buf)))
		return true;
	dump_bad(e, "%s '%s' has a name a policy file cannot hold: rename it (delete it and add it anew)",
		 what, name);
	return false;
}

/* Elements a dump writes on one line: a line holds 64 words */
#define DUMP_ELEMS_PER_LINE	48

/*
 * The sets, each with its elements written out (set element add), not
 * as a file: a dump is one file that reads back the same, whatever the
 * size of the sets (a million IPv6 addresses are about 40 MB of text,
 * inside a policy's 64 MiB).
 */
static void dump_sets(FILE *f, const struct tdm_policy *p, struct dump_err *e)
{
	char buf[256];
	const char *c;
	size_t k;
	int i;

	for (i = 0; i < p->nsets; i++) {
		const struct pol_set *set = &p->sets[i];

		c = dump_name_ok(e, "set", set->info.name) ? "" : "# ";
		fprintf(f, "%sset add %s type %s%s\n", c, set->info.name,
			tdm_set_type_name(set->info.family),
			set->info.flags & TDM_SET_INTERVAL ? " interval" : "");
		for (k = 0; k < set->elems.n; k++) {
			if (k % DUMP_ELEMS_PER_LINE == 0)
				fprintf(f, "%sset element add %s", c,
					set->info.name);
			tdm_set_elem_format(&set->elems.v[k], buf, sizeof(buf));
			fprintf(f, " %s", buf);
			if ((k + 1) % DUMP_ELEMS_PER_LINE == 0 ||
			    k + 1 == set->elems.n)
				fprintf(f, "\n");
		}
	}
}

static void dump_nfs(FILE *f, const struct tdm_policy *p,
		     const struct tdm_set_names *names, struct dump_err *e)
{
	const struct tdm_nf_type *t;
	char params[256];
	int i, k;

	for (i = 0; i < p->nnfs; i++) {
		dump_name_ok(e, "NF", p->nfs[i].info.name);
		t = tdm_nf_type_by_id(p->nfs[i].info.type);
		tdm_nf_params_format(&p->nfs[i].info, params, sizeof(params));
		if (!strcmp(params, "-"))	/* none */
			params[0] = '\0';
		fprintf(f, "nf add %s %s%s%s%s%s\n", p->nfs[i].info.name,
			tdm_nf_type_name(t), *params ? " " : "", params,
			p->nfs[i].cmd[0] ? " -- " : "", p->nfs[i].cmd);
		for (k = 0; k < p->nrules; k++) {
			const struct pol_rule *r = &p->rules[k];

			/* a set id whose record is gone: "@#ID" reads back
			 * as nothing */
			const struct tdm_rule_spec *sp = &r->spec;
			bool lost = (sp->m.src_set && !sp->src_set[0]) ||
				    (sp->m.dst_set && !sp->dst_set[0]);

			if (r->nf != i)
				continue;
			if (lost)
				dump_bad(e, "firewall '%s' has a rule that matches a set that is gone",
					 p->nfs[i].info.name);
			fprintf(f, "%srule add %s", lost ? "# " : "",
				p->nfs[i].info.name);
			if (r->spec.prio != RULE_PRIO_DEFAULT)
				fprintf(f, " prio %u", r->spec.prio);
			dump_match(f, &r->spec.m, names);
			fprintf(f, " action %s\n", tdm_action_name(r->spec.action));
		}
	}
}

/* Is word a keyword (or alias) of table tab? */
static bool is_keyword(const struct arg *tab, const char *word)
{
	for (; !arg_is_end(tab); tab++)
		if (tab->name && (!strcmp(tab->name, word) ||
				  (tab->alias && !strcmp(tab->alias, word))))
			return true;
	return false;
}

/*
 * Can device name dev be written in a policy file, in a command of table
 * tab? The kernel allows names that a line cannot hold: one starting
 * with '#' (a comment), one ending in '\' (at a line's end it joins the
 * next), one that is a keyword of the command.
 */
static bool dev_writable(const char *dev, const struct arg *tab)
{
	size_t n = strlen(dev);

	return n && dev[0] != '#' && dev[n - 1] != '\\' &&
	       !is_keyword(tab, dev);
}

static void dump_chains(FILE *f, const struct tdm_policy *p,
			struct dump_err *e, bool *unwritten)
{
	int i, k;

	for (i = 0; i < p->nchains; i++) {
		const struct pol_chain *c = &p->chains[i];
		bool redir = c->action == TDM_ACT_REDIRECT;
		bool gone = redir && !c->redirect[0];
		bool bad = redir && !gone &&
			   !dev_writable(c->redirect, tdm_chain_add_args);

		dump_name_ok(e, "chain", c->name);
		if (gone)
			dump_bad(e, "chain '%s' redirects to a device that is gone", c->name);
		if (bad)
			dump_bad(e, "chain '%s' redirects to a device whose name a policy file cannot hold", c->name);
		unwritten[i] = gone || bad;
		fprintf(f, "%schain add %s", unwritten[i] ? "# " : "", c->name);
		for (k = 0; k < c->nnfs; k++)
			fprintf(f, " %s", c->nfs[k] >= 0 ?
				p->nfs[c->nfs[k]].info.name : "?");
		if (gone)
			fprintf(f, " then redirect ?  # ifindex %u is gone",
				c->redirect_ifindex);
		else if (redir)
			fprintf(f, " then redirect %s", c->redirect);
		else if (c->action != TDM_ACT_PASS)
			fprintf(f, " then %s", tdm_action_name(c->action));
		fprintf(f, "\n");
	}
}

static void dump_devs(FILE *f, const struct tdm_policy *p,
		      struct dump_err *e, const bool *unwritten)
{
	bool bad;
	int i;

	for (i = 0; i < p->ndevs; i++) {
		const struct pol_dev *d = &p->devs[i];

		bad = !dev_writable(d->name, tdm_dev_attach_args) ||
		      (d->chain >= 0 && unwritten[d->chain]);
		if (bad)
			dump_bad(e, "device '%s' (its name, or its chain) cannot be written in a policy file", d->name);
		fprintf(f, "%sdev attach %s", bad ? "# " : "", d->name);
		if (d->chain >= 0)
			fprintf(f, " chain %s", p->chains[d->chain].name);
		fprintf(f, " mode %s\n",
			d->mode == TDM_MODE_GENERIC ? "generic" : "native");
	}
	for (i = 0; i < p->nsteers; i++) {
		const struct pol_steer *s = &p->steers[i];

		bad = !dev_writable(s->dev, tdm_steer_add_args) ||
		      s->chain < 0 || unwritten[s->chain];
		if (bad)
			dump_bad(e, "a steering entry of '%s' (its device's name, or its chain) cannot be written in a policy file", s->dev);
		fprintf(f, "%ssteer add %s", bad ? "# " : "", s->dev);
		if (!s->exact && s->prio != STEER_PRIO_DEFAULT)
			fprintf(f, " prio %u", s->prio);
		dump_match(f, &s->m, NULL);
		fprintf(f, " chain %s\n", s->chain >= 0 ?
			p->chains[s->chain].name : "?");
	}
}

int tdm_policy_dump(struct tdm_ctx *ctx, FILE *f)
{
	struct tdm_set_names *names;
	struct dump_err e = {};
	struct tdm_policy *p;
	bool *unwritten;
	int err;

	err = tdm_policy_running(ctx, &p);
	if (err)
		return err;
	unwritten = calloc(p->nchains + 1, sizeof(*unwritten));
	names = malloc(sizeof(*names));
	if (!unwritten || !names) {
		tdm_policy_free(p);
		free(unwritten);
		free(names);
		return tdm_err(ctx, ENOMEM, "out of memory");
	}
	err = tdm_set_names(ctx, names);
	if (err) {
		tdm_policy_free(p);
		free(unwritten);
		free(names);
		return err;
	}
	fprintf(f, "# tandem policy: the running state (tandem dump)\n");
	dump_sets(f, p, &e);
	dump_nfs(f, p, names, &e);
	dump_chains(f, p, &e, unwritten);
	dump_devs(f, p, &e, unwritten);
	tdm_policy_free(p);
	free(unwritten);
	free(names);
	if (fflush(f) || ferror(f))
		return tdm_err(ctx, EIO, "writing the policy: %s",
			       strerror(errno));
	/* all of it is printed, its lines that cannot be as comments; an
	 * apply of it would not give this state: say so */
	if (e.what[0])
		return tdm_err(ctx, EINVAL, "%s: the dump has it as a comment",
			       e.what);
	return 0;
}
