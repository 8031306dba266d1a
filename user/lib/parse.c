// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Text to structs and back: prefixes, ports, protocols, actions. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "internal.h"

static int perr(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return -EINVAL;
}

/* Parse a decimal number in [0, max]; the whole string must be used. */
static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (!*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno || *end || *v > max)
		return -EINVAL;
	return 0;
}

void tdm_prefix_mask(__u8 len, struct tdm_addr *mask)
{
	int i;

	for (i = 0; i < 4; i++) {
		int bits = len > 32 * i ? len - 32 * i : 0;

		if (bits >= 32)
			mask->w[i] = 0xffffffff;
		else if (bits == 0)
			mask->w[i] = 0;
		else
			mask->w[i] = htonl(~0U << (32 - bits));
	}
}

int tdm_parse_prefix(const char *s, struct tdm_addr *net,
		     struct tdm_addr *mask, __u8 *len, __u8 *family,
		     char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	struct in6_addr a6;
	struct in_addr a4;
	unsigned long plen;
	int i, v6;

	if (strlen(s) >= sizeof(buf))
		return perr(err, errlen, "bad prefix '%s'", s);
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';

	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		v6 = 0;
		net->w[2] = htonl(0xffff);
		net->w[3] = a4.s_addr;
	} else if (inet_pton(AF_INET6, buf, &a6) == 1) {
		v6 = 1;
		memcpy(net->w, &a6, 16);
	} else {
		return perr(err, errlen,
			    "bad prefix '%s': not an IPv4 or IPv6 address", s);
	}
	if (slash) {
		if (parse_uint(slash, v6 ? 128 : 32, &plen))
			return perr(err, errlen,
				    "bad prefix '%s': the length must be 0-32 for IPv4, 0-128 for IPv6",
				    s);
	} else {
		plen = v6 ? 128 : 32;
	}
	*len = v6 ? plen : plen + 96;
	*family = v6 ? 6 : 4;
	tdm_prefix_mask(*len, mask);
	for (i = 0; i < 4; i++) {
		if (net->w[i] & ~mask->w[i])
			return perr(err, errlen,
				    "bad prefix '%s': host bits are set beyond the prefix length",
				    s);
	}
	return 0;
}

int tdm_format_prefix(const struct tdm_addr *a, __u8 len, char *buf,
		      size_t size)
{
	char tmp[INET6_ADDRSTRLEN];
	bool v4 = len >= 96 && !a->w[0] && !a->w[1] &&
		  a->w[2] == htonl(0xffff);

	if (len == 0)
		return snprintf(buf, size, "any");
	if (v4) {
		inet_ntop(AF_INET, &a->w[3], tmp, sizeof(tmp));
		if (len == 128)
			return snprintf(buf, size, "%s", tmp);
		return snprintf(buf, size, "%s/%u", tmp, len - 96);
	}
	inet_ntop(AF_INET6, a->w, tmp, sizeof(tmp));
	if (len == 128)
		return snprintf(buf, size, "%s", tmp);
	return snprintf(buf, size, "%s/%u", tmp, len);
}

int tdm_parse_ports(const char *s, __u16 *lo, __u16 *hi, char *err,
		    size_t errlen)
{
	char buf[32], *dash;
	unsigned long a, b;

	if (strlen(s) >= sizeof(buf))
		return perr(err, errlen, "bad port range '%s'", s);
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash++ = '\0';
	if (parse_uint(buf, 65535, &a) || (dash && parse_uint(dash, 65535, &b)))
		return perr(err, errlen,
			    "bad port range '%s': expected P or P-Q with ports 0-65535",
			    s);
	if (!dash)
		b = a;
	if (a > b)
		return perr(err, errlen,
			    "bad port range '%s': the range is reversed", s);
	*lo = a;
	*hi = b;
	return 0;
}

static const struct {
	const char *name;
	__u8 proto;
} protos[] = {
	{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
	{ "icmp", IPPROTO_ICMP }, { "icmpv6", IPPROTO_ICMPV6 },
	{ "sctp", IPPROTO_SCTP }, { "gre", IPPROTO_GRE },
	{ "esp", IPPROTO_ESP },
};

int tdm_parse_proto(const char *s, __u8 *proto, char *err, size_t errlen)
{
	unsigned long v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		if (!strcmp(s, protos[i].name)) {
			*proto = protos[i].proto;
			return 0;
		}
	}
	if (parse_uint(s, 255, &v) || v == 0)
		return perr(err, errlen,
			    "bad protocol '%s': expected tcp, udp, sctp, icmp, icmpv6, gre, esp or a number 1-255",
			    s);
	*proto = v;
	return 0;
}

const char *tdm_proto_name(__u8 proto, char *buf, size_t size)
{
	size_t i;

	if (!proto)
		return "any";
	for (i = 0; i < ARRAY_SIZE(protos); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	snprintf(buf, size, "%u", proto);
	return buf;
}

void tdm_match_init(struct tdm_match *m)
{
	memset(m, 0, sizeof(*m));
	m->sport_hi = 0xffff;
	m->dport_hi = 0xffff;
}

static bool has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP;
}

/* The family a match implies: from its prefixes and an icmp protocol. */
static int match_family(const struct tdm_match *m, __u8 src_fam, __u8 dst_fam,
			char *err, size_t errlen)
{
	__u8 proto_fam = m->proto == IPPROTO_ICMP ? 4 :
			 m->proto == IPPROTO_ICMPV6 ? 6 : 0;
	__u8 fams[3] = { src_fam, dst_fam, proto_fam }, fam = 0;
	int i;

	for (i = 0; i < 3; i++) {
		if (!fams[i])
			continue;
		if (fam && fams[i] != fam) {
			snprintf(err, errlen,
				 "the match mixes IPv4 and IPv6 (prefixes, icmp/icmpv6)");
			return -EINVAL;
		}
		fam = fams[i];
	}
	return fam;
}

int tdm_parse_match(int argc, char **argv, struct tdm_match *m, char *err,
		    size_t errlen)
{
	__u8 src_fam = 0, dst_fam = 0;
	bool ports = false;
	int i, fam;

	for (i = 0; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		int ret;

		if (!strcmp(k, "src")) {
			ret = tdm_parse_prefix(v, &m->src, &m->smask,
					       &m->src_len, &src_fam, err, errlen);
		} else if (!strcmp(k, "dst")) {
			ret = tdm_parse_prefix(v, &m->dst, &m->dmask,
					       &m->dst_len, &dst_fam, err, errlen);
		} else if (!strcmp(k, "proto")) {
			ret = tdm_parse_proto(v, &m->proto, err, errlen);
		} else if (!strcmp(k, "sport")) {
			ret = tdm_parse_ports(v, &m->sport_lo, &m->sport_hi,
					      err, errlen);
			ports = true;
		} else if (!strcmp(k, "dport")) {
			ret = tdm_parse_ports(v, &m->dport_lo, &m->dport_hi,
					      err, errlen);
			ports = true;
		} else {
			break;
		}
		if (ret)
			return ret;
	}
	if (i < argc && i + 1 == argc &&
	    (!strcmp(argv[i], "src") || !strcmp(argv[i], "dst") ||
	     !strcmp(argv[i], "proto") || !strcmp(argv[i], "sport") ||
	     !strcmp(argv[i], "dport"))) {
		snprintf(err, errlen, "'%s' needs a value", argv[i]);
		return -EINVAL;
	}
	if (ports && !has_ports(m->proto)) {
		snprintf(err, errlen,
			 "sport/dport need 'proto tcp', 'proto udp' or 'proto sctp'");
		return -EINVAL;
	}
	fam = match_family(m, src_fam, dst_fam, err, errlen);
	if (fam < 0)
		return fam;
	m->family = fam;
	return i;
}

static const char *const action_names[] = {
	[TDM_ACT_PASS] = "pass", [TDM_ACT_DROP] = "drop",
	[TDM_ACT_TX] = "tx", [TDM_ACT_REDIRECT] = "redirect",
};

const char *tdm_action_name(__u32 action)
{
	return action < ARRAY_SIZE(action_names) ? action_names[action] : "?";
}

int tdm_parse_action(const char *s, __u32 *action)
{
	__u32 i;

	for (i = 0; i < ARRAY_SIZE(action_names); i++) {
		if (!strcmp(s, action_names[i])) {
			*action = i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const drop_names[TDM_DROP_MAX] = {
	[TDM_DROP_RULE] = "rule", [TDM_DROP_DEFAULT] = "default",
	[TDM_DROP_RATE] = "rate", [TDM_DROP_MISSED] = "missed",
	[TDM_DROP_UNPARSED] = "unparsed",
};

const char *tdm_drop_reason_name(int reason)
{
	return reason >= 0 && reason < TDM_DROP_MAX ? drop_names[reason] : "?";
}
