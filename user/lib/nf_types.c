// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The NF types tandem knows. Adding an NF: write bpf/nf_<type>.bpf.c (see
 * bpf/lib/nf.h; the build inlines it into the hop program), give it an
 * id and its parameters in include/tandem/tandem.h, and add one entry to
 * nf_types[] below: its parameter table (names, values, required), how
 * to read their values and how to print them. The words themselves
 * (unknown, twice, missing) are checked by tdm_nf_params_parse() from
 * the table, for every type alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "nf_list.h"	/* generated: TDM_NF_TYPES, the datapath's NFs */

static int perr(char *err, size_t errlen, const char *fmt, const char *a,
		const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return -EINVAL;
}

/* ---- counter ---- */
static const struct tdm_nf_param counter_params[] = { {} };

static int counter_parse(union tdm_nf_params *p, const char *const *vals,
			 char *err, size_t errlen)
{
	return 0;
}

static void counter_format(const union tdm_nf_params *p, char *buf,
			   size_t size)
{
	snprintf(buf, size, "-");
}

/* ---- firewall ---- */

/*
 * default pass|drop: packets no rule matches (pass if not given);
 * unparsed pass|drop: packets the parser could not classify as the
 * kernel will (TDM_F_UNPARSED; drop if not given: passing them unread
 * would let them around every rule).
 */
static const struct tdm_nf_param firewall_params[] = {
	{ "default", "pass|drop" },
	{ "unparsed", "pass|drop" },
	{}
};

static int fw_action(const char *key, const char *val, __u32 *action,
		     char *err, size_t errlen)
{
	if (!val)
		return 0;
	if (!strcmp(val, "pass"))
		*action = TDM_ACT_PASS;
	else if (!strcmp(val, "drop"))
		*action = TDM_ACT_DROP;
	else
		return perr(err, errlen,
			    "firewall: bad action '%s' for '%s' (expected pass or drop)",
			    val, key);
	return 0;
}

static int firewall_parse(union tdm_nf_params *p, const char *const *vals,
			  char *err, size_t errlen)
{
	p->firewall.default_action = TDM_ACT_PASS;
	p->firewall.unparsed_action = TDM_ACT_DROP;
	p->firewall.next_rule_id = 1;
	return fw_action("default", vals[0], &p->firewall.default_action,
			 err, errlen) ?:
	       fw_action("unparsed", vals[1], &p->firewall.unparsed_action,
			 err, errlen);
}

static void firewall_format(const union tdm_nf_params *p, char *buf,
			    size_t size)
{
	snprintf(buf, size, "default %s unparsed %s",
		 tdm_action_name(p->firewall.default_action),
		 tdm_action_name(p->firewall.unparsed_action));
}

/* An empty ruleset in both banks, with the default action. */
static int firewall_create(struct tdm_ctx *ctx, __u32 id,
			   union tdm_nf_params *p)
{
	struct tdm_fw_ruleset *rs = calloc(1, sizeof(*rs));
	__u32 bank, key;
	int err = 0;

	if (!rs)
		return tdm_err(ctx, ENOMEM, "out of memory");
	rs->default_action = p->firewall.default_action;
	for (bank = 0; bank < 2 && !err; bank++) {
		key = tdm_fw_ruleset_key(id, bank);
		if (bpf_map_update_elem(ctx->fw_rules_fd, &key, rs, BPF_ANY))
			err = tdm_err(ctx, errno, "writing firewall rules: %s",
				      strerror(errno));
	}
	free(rs);
	return err;
}

static void firewall_destroy(struct tdm_ctx *ctx, __u32 id)
{
	__u32 bank, key;

	for (bank = 0; bank < 2; bank++) {
		key = tdm_fw_ruleset_key(id, bank);
		bpf_map_delete_elem(ctx->fw_rules_fd, &key);
	}
}

/* ---- policer ---- */
/*
 * The largest frame the datapath commonly sees on a 1500-byte MTU: what
 * XDP gets (no FCS) is 14 bytes of Ethernet header, two VLAN tags (QinQ)
 * and 1500 bytes of IP. More tags or a larger MTU need a larger burst,
 * which tandem cannot know when the NF is added: the docs say so.
 */
#define POLICER_MIN_BURST	1522
#define POLICER_MIN_BURST_STR	"1522"

static int scaled(const char *s, const char *const *sfx,
		  const unsigned long long *mul, int n, unsigned long long *v,
		  int *which)
{
	const char *end;
	__u64 x;
	int i;

	if (tdm_parse_digits(s, &x, &end))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!strcmp(end, sfx[i])) {
			if (x > ~0ULL / mul[i])
				return -ERANGE;
			*v = x * mul[i];
			*which = i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const rate_sfx[] = {
	"pps", "kpps", "mpps", "bit", "kbit", "mbit", "gbit",
};
static const unsigned long long rate_mul[] = {
	1, 1000, 1000000, 1, 1000, 1000000, 1000000000,
};
static const char *const size_sfx[] = { "", "b", "k", "kb", "m", "mb" };
static const unsigned long long size_mul[] = {
	1, 1, 1024, 1024, 1024 * 1024, 1024 * 1024,
};

static const struct tdm_nf_param policer_params[] = {
	{ "rate", "RATE", true },
	{ "burst", "BURST" },
	{ "per", "nf|source" },
	{}
};

static int policer_parse(union tdm_nf_params *p, const char *const *vals,
			 char *err, size_t errlen)
{
	struct tdm_policer_params *pp = &p->policer;
	const char *rate = vals[0], *burst = vals[1], *per = vals[2];
	unsigned long long v;
	int which;

	if (scaled(rate, rate_sfx, rate_mul, ARRAY_SIZE(rate_sfx), &v,
		   &which) || !v)
		return perr(err, errlen,
			    "policer: bad rate '%s' (expected e.g. 1000pps, 10kpps, 100mbit, 1gbit)",
			    rate, NULL);
	pp->rate = v;
	pp->bits = which >= 3;
	if (per && !strcmp(per, "source"))
		pp->per_source = 1;
	else if (per && strcmp(per, "nf"))
		return perr(err, errlen,
			    "policer: bad 'per %s' (expected per source or per nf)",
			    per, NULL);
	/*
	 * A packet's cost is whole nanoseconds: keep it at 10 ns or more
	 * (100 Mpps; a 64-byte frame at 50 Gbit/s), so rounding stays
	 * within 10%.
	 */
	if (pp->rate > (pp->bits ? 50000000000ULL : 100000000ULL))
		return perr(err, errlen, "policer: rate above %s%s",
			    pp->bits ? "50gbit" : "100mpps", "");
	if (!burst) {
		/* 100 ms worth, at least one packet or one full frame */
		pp->burst = pp->bits ? pp->rate / 80 : pp->rate / 10;
		if (pp->burst < (pp->bits ? POLICER_MIN_BURST : 1))
			pp->burst = pp->bits ? POLICER_MIN_BURST : 1;
		if (pp->burst > 1000000000ULL)
			pp->burst = 1000000000ULL;
		return 0;
	}
	if (!pp->bits) {
		if (scaled(burst, size_sfx, size_mul, 1, &v, &which) || !v)
			return perr(err, errlen,
				    "policer: bad burst '%s' (a pps policer's burst is a number of packets)",
				    burst, NULL);
	} else if (scaled(burst, size_sfx, size_mul, ARRAY_SIZE(size_sfx),
			  &v, &which) || !v) {
		return perr(err, errlen,
			    "policer: bad burst '%s' (a bit rate policer's burst is in bytes, e.g. 1500, 64k, 1m)",
			    burst, NULL);
	}
	if (v > 1000000000ULL)
		return perr(err, errlen, "policer: burst '%s' is above 10^9%s",
			    burst, "");
	/*
	 * A frame costs its length out of the burst: one larger than the
	 * burst never conforms, and a policer that drops everything is
	 * refused rather than silently raised.
	 */
	if (pp->bits && v < POLICER_MIN_BURST)
		return perr(err, errlen,
			    "policer: burst '%s' is below one full frame: a bit rate policer's burst is at least "
			    POLICER_MIN_BURST_STR " bytes%s", burst, "");
	pp->burst = v;
	return 0;
}

static void policer_format(const union tdm_nf_params *p, char *buf,
			   size_t size)
{
	const struct tdm_policer_params *pp = &p->policer;

	snprintf(buf, size, "rate %llu%s burst %llu%s per %s",
		 (unsigned long long)pp->rate, pp->bits ? "bit" : "pps",
		 (unsigned long long)pp->burst, pp->bits ? "b" : "",
		 pp->per_source ? "source" : "nf");
}

static int policer_create(struct tdm_ctx *ctx, __u32 id,
			  union tdm_nf_params *p)
{
	struct tdm_policer_state st = {};

	if (bpf_map_update_elem(ctx->policer_fd, &id, &st, BPF_ANY))
		return tdm_err(ctx, errno, "resetting the policer: %s",
			       strerror(errno));
	return 0;
}

static bool src_of_policer(const void *key, const void *id)
{
	return ((const struct tdm_policer_src_key *)key)->nf_id ==
	       *(const __u32 *)id;
}

/* Forget the per-source buckets of a deleted policer. */
static void policer_destroy(struct tdm_ctx *ctx, __u32 id)
{
	tdm_map_delete_if(ctx, ctx->policer_src_fd,
			  sizeof(struct tdm_policer_src_key), src_of_policer,
			  &id);
}

static const struct tdm_nf_type nf_types[] = {
	{
		.name = "counter", .id = TDM_NF_COUNTER,
		.summary = "counts packets and bytes",
		.params = counter_params,
		.parse = counter_parse, .format = counter_format,
	},
	{
		.name = "firewall", .id = TDM_NF_FIREWALL,
		.summary = "stateless ACL: ordered rules on prefixes, protocol and ports",
		.params = firewall_params,
		.parse = firewall_parse, .format = firewall_format,
		.create = firewall_create, .destroy = firewall_destroy,
	},
	{
		.name = "policer", .id = TDM_NF_POLICER,
		.summary = "token bucket rate limit, for the NF or per source address",
		.params = policer_params,
		.parse = policer_parse, .format = policer_format,
		.create = policer_create,
		.destroy = policer_destroy,
	},
	{
		.name = "process", .id = TDM_NF_PROCESS,
		.summary = "a process on an AF_XDP socket (tandemd runs CMD)",
		.params = tdm_process_params,
		.parse = tdm_process_parse, .format = tdm_process_format,
		.create = tdm_process_create, .destroy = tdm_process_destroy,
		.command = true,
	},
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

bool tdm_nf_type_in_datapath(__u32 id)
{
	switch (id) {
#define TDM_NF_TYPE(name, type_id)					\
	case type_id:							\
		return true;
	TDM_NF_TYPES
#undef TDM_NF_TYPE
	}
	return false;
}

const char *tdm_nf_type_name(const struct tdm_nf_type *t)
{
	return t ? t->name : "?";
}

const char *tdm_nf_type_summary(const struct tdm_nf_type *t)
{
	return t->summary;
}

/* The usage line, from the parameter table: "rate RATE [burst BURST]" */
const char *tdm_nf_type_usage(const struct tdm_nf_type *t)
{
	static char usage[ARRAY_SIZE(nf_types)][160];
	char *buf = usage[t - nf_types];
	const struct tdm_nf_param *q;
	size_t len = 0;

	if (buf[0] || !t->params[0].name)
		return buf;
	for (q = t->params; q->name && len < sizeof(usage[0]); q++)
		len += snprintf(buf + len, sizeof(usage[0]) - len,
				q->required ? "%s%s %s" : "%s[%s %s]",
				len ? " " : "", q->name, q->value);
	if (t->command && len < sizeof(usage[0]))
		snprintf(buf + len, sizeof(usage[0]) - len,
			 " [-- CMD ARG...]");
	return buf;
}

static void param_names(const struct tdm_nf_type *t, char *buf, size_t size)
{
	const struct tdm_nf_param *q;
	size_t len = 0;

	snprintf(buf, size, "none");
	for (q = t->params; q->name && len < size; q++)
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
		if (!t->command)
			return perr(err, errlen,
				    "%s: '--' (a command) is for process NFs only%s",
				    t->name, "");
		err2 = command_join(cmd, argc - i - 1, argv + i + 1, err,
				    errlen);
		if (err2)
			return err2;
		argc = i;
	}
	for (i = 0; i < argc; i += 2) {
		for (k = 0; t->params[k].name; k++)
			if (!strcmp(t->params[k].name, argv[i]))
				break;
		if (!t->params[k].name) {
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
	for (k = 0; t->params[k].name; k++)
		if (t->params[k].required && !vals[k])
			return perr(err, errlen, "%s: '%s' is required",
				    t->name, t->params[k].name);
	return t->parse(p, vals, err, errlen);
}

void tdm_nf_params_format(const struct tdm_nf_info *nf, char *buf,
			  size_t size)
{
	const struct tdm_nf_type *t = tdm_nf_type_by_id(nf->type);

	if (t)
		t->format(&nf->params, buf, size);
	else
		snprintf(buf, size, "?");
}
