// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * policer, the library half (bpf/nf_policer.bpf.c): rates and bursts
 * with their units, the buckets' reset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int perr(char *err, size_t errlen, const char *fmt, const char *a,
		const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return -EINVAL;
}

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
	struct tdm_policer_params *pp = TDM_NF_PARAMS(p, policer);
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
	const struct tdm_policer_params *pp = TDM_NF_PARAMS(p, policer);

	snprintf(buf, size, "rate %llu%s burst %llu%s per %s",
		 (unsigned long long)pp->rate, pp->bits ? "bit" : "pps",
		 (unsigned long long)pp->burst, pp->bits ? "b" : "",
		 pp->per_source ? "source" : "nf");
}

static int policer_create(struct tdm_ctx *ctx, __u32 id,
			  union tdm_nf_params *p)
{
	struct tdm_policer_state st = {};

	if (bpf_map_update_elem(tdm_map_fd(ctx, "tdm_policer"), &id, &st, BPF_ANY))
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
	tdm_map_delete_if(ctx, tdm_map_fd(ctx, "tdm_policer_src"),
			  sizeof(struct tdm_policer_src_key), src_of_policer,
			  &id);
}

static const char *const policer_drops[TDM_POLICER_DROP_MAX] = {
	[TDM_POLICER_DROP_RATE] = "rate",
};

const struct tdm_nf_ops tdm_nf_policer = {
	.summary = "token bucket rate limit, for the NF or per source address",
	.help = "policer:\n"
		"  RATE := NUM{pps|kpps|mpps|bit|kbit|mbit|gbit}\n"
		"  BURST := packets for a pps rate; bytes NUM[b|k|kb|m|mb] for a bit\n"
		"           rate (k = 1024), at least 1522 (one full frame);\n"
		"           default: 100 ms worth\n"
		"  per nf|source  one bucket for the NF, or one per source address\n"
		"  Example: tandem nf add pol1 policer rate 1000pps burst 100\n",
	.params = policer_params,
	.parse = policer_parse, .format = policer_format,
	.create = policer_create,
	.destroy = policer_destroy,
	.drops = policer_drops,
};
