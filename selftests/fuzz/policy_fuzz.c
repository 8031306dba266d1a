// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target of the policy parser: the bytes are a policy file.
 *
 * tdm_policy_parse() reads no system state, so this needs no BPF and no
 * privileges. Besides the sanitizers' findings (built with
 * -fsanitize=fuzzer,address,undefined), it abort()s when
 *
 *  - a policy it accepted breaks an invariant apply.c relies on: every
 *    reference is an index in range to an object defined on an earlier
 *    line, counts are within tandem.h's limits, names are NUL-terminated
 *    and valid, no name twice; and the policy written back as text (as
 *    tandem dump writes it) parses to the same policy;
 *  - an error is not one line "NAME:LINE:COL: MESSAGE" with LINE a line
 *    of the input and COL within that line.
 *
 *   make fuzz                      # FUZZ_TIME=600 seconds
 *   build/fuzz/policy_fuzz CRASH   # replay one input
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "grammar.h"

#define NAME	"fuzz.pol"

static void fail(const char *what, const char *err)
{
	fprintf(stderr, "policy_fuzz: %s%s%s\n", what, err ? ": " : "",
		err ? err : "");
	abort();
}

#define CHECK(cond, what) do { if (!(cond)) fail(what, NULL); } while (0)

static bool nul_in(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static bool name_valid(const char *s, size_t size)
{
	char msg[256];

	return nul_in(s, size) && !tdm_name_valid("x", s, msg, sizeof(msg));
}

/* A device name as a policy can hold it: one word, not a comment. */
static bool dev_valid(const char *s, size_t size)
{
	return nul_in(s, size) && *s && *s != '#' && strcmp(s, ".") &&
	       strcmp(s, "..") && !strpbrk(s, "/: \t\n");
}

static bool match_valid(const struct tdm_match *m)
{
	return (m->family == 0 || m->family == 4 || m->family == 6) &&
	       m->sport_lo <= m->sport_hi && m->dport_lo <= m->dport_hi &&
	       m->src_len <= 128 && m->dst_len <= 128;
}

/* Every invariant of a policy the parser accepted from nlines lines. */
static void check_policy(const struct tdm_policy *p, int nlines)
{
	int i, j, n;

	CHECK(p->name && !strcmp(p->name, NAME), "policy name");
	CHECK(p->nnfs >= 0 && p->nnfs <= TDM_MAX_NFS &&
	      p->nnfs <= p->cap_nfs, "NF count");
	CHECK(p->nchains >= 0 && p->nchains <= TDM_MAX_CHAINS &&
	      p->nchains <= p->cap_chains, "chain count");
	CHECK(p->ndevs >= 0 && p->ndevs <= TDM_MAX_DEVS &&
	      p->ndevs <= p->cap_devs, "device count");
	CHECK(p->nrules >= 0 && p->nrules <= TDM_MAX_NFS * TDM_FW_MAX_RULES &&
	      p->nrules <= p->cap_rules, "rule count");
	CHECK(p->nsteers >= 0 && p->nsteers <= p->cap_steers, "steer count");

	CHECK(p->nsets >= 0 && p->nsets <= TDM_MAX_SETS &&
	      p->nsets <= p->cap_sets, "set count");
	for (i = 0; i < p->nsets; i++) {
		const struct pol_set *set = &p->sets[i];
		size_t k;

		CHECK(name_valid(set->info.name, sizeof(set->info.name)),
		      "set name");
		CHECK(set->info.family == 0 || set->info.family == 4 ||
		      set->info.family == 6, "set family");
		CHECK(!(set->info.flags & ~TDM_SET_INTERVAL), "set flags");
		CHECK(set->line >= 1 && set->line <= nlines, "set line");
		CHECK(set->id == 0, "set id set by the parser");
		for (j = 0; j < i; j++)
			CHECK(strcmp(p->sets[j].info.name, set->info.name),
			      "set name twice");
		for (k = 0; k < set->elems.n; k++) {
			const struct tdm_set_elem *e = &set->elems.v[k];

			CHECK(e->family == 4 || e->family == 6, "element family");
			CHECK(!set->info.family ||
			      e->family == set->info.family,
			      "element of the other family");
			CHECK(e->len <= 128 && (e->len == 128 ||
			      (set->info.flags & TDM_SET_INTERVAL)),
			      "prefix in a plain set");
			CHECK(!k ||
			      memcmp(&set->elems.v[k - 1], e, sizeof(*e)) < 0,
			      "elements not sorted, or repeated");
		}
	}
	for (i = 0; i < p->nnfs; i++) {
		const struct pol_nf *nf = &p->nfs[i];

		CHECK(name_valid(nf->info.name, sizeof(nf->info.name)),
		      "NF name");
		CHECK(tdm_nf_type_by_id(nf->info.type), "NF type");
		CHECK(nf->line >= 1 && nf->line <= nlines, "NF line");
		CHECK(nf->id == 0, "NF id set by the parser");
		for (j = 0; j < i; j++)
			CHECK(strcmp(p->nfs[j].info.name, nf->info.name),
			      "NF name twice");
	}
	for (i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = &p->rules[i];

		CHECK(r->nf >= 0 && r->nf < p->nnfs, "rule's NF index");
		CHECK(p->nfs[r->nf].info.type == TDM_NF_FIREWALL,
		      "rule of a non-firewall");
		CHECK(p->nfs[r->nf].line < r->line && r->line <= nlines,
		      "rule line");
		CHECK(r->spec.action == TDM_ACT_PASS ||
		      r->spec.action == TDM_ACT_DROP, "rule action");
		CHECK(match_valid(&r->spec.m), "rule match");
		CHECK(!r->spec.m.src_set && !r->spec.m.dst_set,
		      "set ids set by the parser");
		for (n = 0; n < 2; n++) {
			const char *set = n ? r->spec.dst_set : r->spec.src_set;

			CHECK(nul_in(set, TDM_NAME_LEN), "rule's set name");
			if (!*set)
				continue;
			for (j = 0; j < p->nsets; j++)
				if (!strcmp(p->sets[j].info.name, set))
					break;
			CHECK(j < p->nsets && p->sets[j].line < r->line,
			      "rule's set not defined above it");
		}
		for (n = 0, j = 0; j < p->nrules; j++)
			n += p->rules[j].nf == r->nf;
		CHECK(n <= TDM_FW_MAX_RULES, "rules in one firewall");
	}
	for (i = 0; i < p->nchains; i++) {
		const struct pol_chain *c = &p->chains[i];

		CHECK(name_valid(c->name, sizeof(c->name)), "chain name");
		CHECK(c->nnfs >= 1 && c->nnfs <= TDM_MAX_CHAIN_NFS,
		      "chain length");
		CHECK(c->line >= 1 && c->line <= nlines, "chain line");
		for (j = 0; j < c->nnfs; j++) {
			CHECK(c->nfs[j] >= 0 && c->nfs[j] < p->nnfs,
			      "chain's NF index");
			CHECK(p->nfs[c->nfs[j]].line < c->line,
			      "chain's NF defined below it");
			for (n = 0; n < j; n++)
				CHECK(c->nfs[n] != c->nfs[j], "NF twice in chain");
		}
		CHECK(c->action <= TDM_ACT_REDIRECT, "chain action");
		CHECK(nul_in(c->redirect, sizeof(c->redirect)),
		      "redirect not NUL-terminated");
		CHECK(c->action == TDM_ACT_REDIRECT ?
		      dev_valid(c->redirect, sizeof(c->redirect)) :
		      !c->redirect[0], "redirect device");
		for (j = 0; j < i; j++)
			CHECK(strcmp(p->chains[j].name, c->name),
			      "chain name twice");
	}
	for (i = 0; i < p->ndevs; i++) {
		const struct pol_dev *d = &p->devs[i];

		CHECK(dev_valid(d->name, sizeof(d->name)), "device name");
		CHECK(d->chain >= -1 && d->chain < p->nchains,
		      "device's chain index");
		CHECK(d->chain < 0 || p->chains[d->chain].line < d->line,
		      "device's chain defined below it");
		CHECK(d->mode == TDM_MODE_AUTO || d->mode == TDM_MODE_NATIVE ||
		      d->mode == TDM_MODE_GENERIC, "device mode");
		CHECK(d->line >= 1 && d->line <= nlines, "device line");
		for (j = 0; j < i; j++)
			CHECK(strcmp(p->devs[j].name, d->name),
			      "device twice");
	}
	for (i = 0; i < p->nsteers; i++) {
		const struct pol_steer *s = &p->steers[i];

		CHECK(dev_valid(s->dev, sizeof(s->dev)), "steer device");
		CHECK(s->chain >= 0 && s->chain < p->nchains,
		      "steer's chain index");
		CHECK(p->chains[s->chain].line < s->line && s->line <= nlines,
		      "steer line");
		CHECK(match_valid(&s->m), "steer match");
		CHECK(s->exact == tdm_steer_is_exact(&s->m), "steer exact");
		CHECK(!s->exact || !s->prio, "exact entry with a prio");
		for (j = 0; j < i; j++)
			CHECK(strcmp(p->steers[j].dev, s->dev) ||
			      p->steers[j].exact != s->exact ||
			      (!s->exact && p->steers[j].prio != s->prio) ||
			      memcmp(&p->steers[j].m, &s->m, sizeof(s->m)),
			      "steering entry twice");
	}
}

/*
 * p as text, every object in its array's order: a policy file. Each line
 * ends in a blank: a word may end in "\\" (a device "x\\"), which right
 * before the newline would join the next line to it.
 */
static char *format_policy(const struct tdm_policy *p, size_t *len)
{
	static const char *const modes[] = {
		[TDM_MODE_AUTO] = "", [TDM_MODE_NATIVE] = " mode native",
		[TDM_MODE_GENERIC] = " mode generic",
	};
	static struct tdm_set_names names;
	char buf[512], *text = NULL;
	FILE *f = open_memstream(&text, len);
	int i, k;

	if (!f)
		return NULL;
	memset(&names, 0, sizeof(names));
	for (i = 0; i < p->nsets; i++) {
		const struct pol_set *set = &p->sets[i];
		size_t e;

		fprintf(f, "set add %s type %s%s\n", set->info.name,
			tdm_set_type_name(set->info.family),
			set->info.flags & TDM_SET_INTERVAL ? " interval" : "");
		/* one element a line: a line holds 64 words */
		for (e = 0; e < set->elems.n; e++) {
			tdm_set_elem_format(&set->elems.v[e], buf, sizeof(buf));
			fprintf(f, "set element add %s %s\n", set->info.name, buf);
		}
		names.v[i + 1].family = set->info.family;
		names.v[i + 1].flags = set->info.flags;
		snprintf(names.v[i + 1].name, TDM_NAME_LEN, "%s", set->info.name);
	}
	for (i = 0; i < p->nnfs; i++) {
		tdm_nf_params_format(&p->nfs[i].info, buf, sizeof(buf));
		fprintf(f, "nf add %s %s %s \n", p->nfs[i].info.name,
			tdm_nf_type_name(tdm_nf_type_by_id(p->nfs[i].info.type)),
			strcmp(buf, "-") ? buf : "");
	}
	for (i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = &p->rules[i];

		struct tdm_match m = r->spec.m;

		/* the sets by their index + 1, as ids for the names */
		for (k = 0; k < p->nsets; k++) {
			if (!strcmp(p->sets[k].info.name, r->spec.src_set))
				m.src_set = k + 1;
			if (!strcmp(p->sets[k].info.name, r->spec.dst_set))
				m.dst_set = k + 1;
		}
		tdm_format_match_sets(&m, &names, buf, sizeof(buf));
		fprintf(f, "rule add %s prio %u %s action %s\n",
			p->nfs[r->nf].info.name, r->spec.prio,
			strcmp(buf, "any") ? buf : "",
			tdm_action_name(r->spec.action));
	}
	for (i = 0; i < p->nchains; i++) {
		const struct pol_chain *c = &p->chains[i];

		fprintf(f, "chain add %s", c->name);
		for (k = 0; k < c->nnfs; k++)
			fprintf(f, " %s", p->nfs[c->nfs[k]].info.name);
		fprintf(f, " then %s %s \n", tdm_action_name(c->action),
			c->redirect);
	}
	for (i = 0; i < p->ndevs; i++) {
		const struct pol_dev *d = &p->devs[i];

		fprintf(f, "dev attach %s%s%s%s%s \n", d->name,
			d->chain >= 0 ? " chain " : "",
			d->chain >= 0 ? p->chains[d->chain].name : "",
			modes[d->mode], d->force ? " force" : "");
	}
	for (i = 0; i < p->nsteers; i++) {
		const struct pol_steer *s = &p->steers[i];

		tdm_format_match(&s->m, buf, sizeof(buf));
		fprintf(f, "steer add %s prio %u %s chain %s\n", s->dev,
			s->prio, strcmp(buf, "any") ? buf : "",
			p->chains[s->chain].name);
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static bool nf_same(const struct pol_nf *a, const struct pol_nf *b)
{
	char pa[256], pb[256];

	tdm_nf_params_format(&a->info, pa, sizeof(pa));
	tdm_nf_params_format(&b->info, pb, sizeof(pb));
	return !strcmp(a->info.name, b->info.name) &&
	       a->info.type == b->info.type && !strcmp(pa, pb);
}

/* What the text of p says, read back, is p (lines aside). */
static void check_round_trip(const struct tdm_policy *p)
{
	struct tdm_policy *q;
	char err[1100], *text;
	size_t len;
	int i;

	text = format_policy(p, &len);
	if (!text)
		return;		/* out of memory: not the parser's fault */
	if (tdm_policy_parse(NAME, text, len, &q, err, sizeof(err))) {
		fprintf(stderr, "%s", text);
		fail("the policy as text does not parse", err);
	}
	CHECK(q->nsets == p->nsets, "round trip: sets");
	for (i = 0; i < p->nsets; i++) {
		const struct pol_set *a = &p->sets[i], *b = &q->sets[i];

		CHECK(!strcmp(a->info.name, b->info.name) &&
		      a->info.family == b->info.family &&
		      a->info.flags == b->info.flags &&
		      a->elems.n == b->elems.n &&
		      (!a->elems.n || !memcmp(a->elems.v, b->elems.v,
					      a->elems.n * sizeof(*a->elems.v))),
		      "round trip: set");
	}
	CHECK(q->nnfs == p->nnfs && q->nrules == p->nrules &&
	      q->nchains == p->nchains && q->ndevs == p->ndevs &&
	      q->nsteers == p->nsteers, "round trip: counts");
	for (i = 0; i < p->nnfs; i++)
		CHECK(nf_same(&p->nfs[i], &q->nfs[i]), "round trip: NF");
	for (i = 0; i < p->nrules; i++)
		CHECK(p->rules[i].nf == q->rules[i].nf &&
		      !memcmp(&p->rules[i].spec, &q->rules[i].spec,
			      sizeof(p->rules[i].spec)), "round trip: rule");
	for (i = 0; i < p->nchains; i++) {
		const struct pol_chain *a = &p->chains[i], *b = &q->chains[i];

		CHECK(!strcmp(a->name, b->name) && a->nnfs == b->nnfs &&
		      !memcmp(a->nfs, b->nfs, sizeof(a->nfs[0]) * a->nnfs) &&
		      a->action == b->action &&
		      !strcmp(a->redirect, b->redirect), "round trip: chain");
	}
	for (i = 0; i < p->ndevs; i++) {
		const struct pol_dev *a = &p->devs[i], *b = &q->devs[i];

		CHECK(!strcmp(a->name, b->name) && a->chain == b->chain &&
		      a->mode == b->mode && a->force == b->force,
		      "round trip: device");
	}
	for (i = 0; i < p->nsteers; i++) {
		const struct pol_steer *a = &p->steers[i], *b = &q->steers[i];

		CHECK(!strcmp(a->dev, b->dev) && a->prio == b->prio &&
		      a->exact == b->exact && a->chain == b->chain &&
		      !memcmp(&a->m, &b->m, sizeof(a->m)), "round trip: steer");
	}
	tdm_policy_free(q);
	free(text);
}

/*
 * An error: "NAME:LINE:COL: MESSAGE" on one line, LINE one of the
 * input's lines, COL a byte of it or just past its end.
 */
static void check_error(const char *err, int ret, const char *data,
			size_t size, int nlines)
{
	const char *s = err + strlen(NAME ":"), *start, *end;
	int line, col, n, i;

	if (ret == -ENOMEM)
		return;
	if (ret != -EINVAL)
		fail("error is not -EINVAL", err);
	if (!*err || strchr(err, '\n'))
		fail("error is not one line", err);
	if (strncmp(err, NAME ":", strlen(NAME ":")))
		fail("error does not start with the file name", err);
	if (sscanf(s, "%d:%d: %n", &line, &col, &n) != 2 || !n)
		fail("error has no LINE:COL:", err);
	if (!s[n])
		fail("error has no message", err);
	if (line < 1 || line > nlines)
		fail("error names a line the input does not have", err);
	for (start = data, i = 1; i < line; i++)
		start = memchr(start, '\n', data + size - start) + 1;
	end = memchr(start, '\n', data + size - start);
	if (!end)
		end = data + size;
	if (col < 1 || col > end - start + 1)
		fail("error names a column the line does not have", err);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *text = (const char *)data;
	struct tdm_policy *p;
	char err[1100];
	int nlines = 1, ret;
	size_t i;

	for (i = 0; i < size; i++)
		nlines += text[i] == '\n';
	err[0] = '\0';
	ret = tdm_policy_parse(NAME, text, size, &p, err, sizeof(err));
	if (ret) {
		if (p)
			fail("a failed parse returned a policy", err);
		check_error(err, ret, text, size, nlines);
		return 0;
	}
	check_policy(p, nlines);
	check_round_trip(p);
	tdm_policy_free(p);
	return 0;
}
