// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Text to structs and back: prefixes, ports, protocols, actions. */
#include <arpa/inet.h>
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

/*
 * Every number tandem reads goes through here: decimal digits only (no
 * blank, no sign, no 0x: strtoul would take " -1" and wrap it), no
 * overflow. Returns the first byte after the digits in *end, so that a
 * caller can read a unit suffix; tdm_parse_uint() wants none.
 */
int tdm_parse_digits(const char *s, __u64 *v, const char **end)
{
	__u64 x = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (x > (~0ULL - (*p - '0')) / 10)
			return -ERANGE;
		x = x * 10 + (*p - '0');
	}
	if (p == s)
		return -EINVAL;
	*v = x;
	*end = p;
	return 0;
}

int tdm_parse_uint(const char *s, __u64 min, __u64 max, __u64 *v)
{
	const char *end;
	__u64 x;
	int err;

	err = tdm_parse_digits(s, &x, &end);
	if (err)
		return err;
	if (*end)
		return -EINVAL;
	if (x < min || x > max)
		return -ERANGE;
	*v = x;
	return 0;
}

int tdm_parse_millis(const char *s, __u64 max_ms, __u64 *ms)
{
	const char *end, *frac;
	__u64 whole, part = 0;
	int err, ndec;

	err = tdm_parse_digits(s, &whole, &end);
	if (err)
		return err;
	if (*end == '.') {
		frac = end + 1;
		if (tdm_parse_digits(frac, &part, &end) || end - frac > 3)
			return -EINVAL;
		for (ndec = end - frac; ndec < 3; ndec++)
			part *= 10;
	}
	if (*end)
		return -EINVAL;
	if (whole > max_ms / 1000 || whole * 1000 + part > max_ms)
		return -ERANGE;
	*ms = whole * 1000 + part;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	__u64 x;

	if (tdm_parse_uint(s, 0, max, &x))
		return -EINVAL;
	*v = x;
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

/* Does prefix (a, len) lie inside ::ffff:0:0/96, where IPv4 lives? */
static bool is_mapped(const struct tdm_addr *a, __u8 len)
{
	return len >= 96 && !a->w[0] && !a->w[1] && a->w[2] == htonl(0xffff);
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
		return perr(err, errlen, "bad prefix '%s': too long", s);
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
	/*
	 * An IPv4 rule is written in IPv4: ::ffff:a.b.c.d/N would read as
	 * IPv4 but match only IPv6 packets, so it is refused, with the
	 * prefix to write instead.
	 */
	if (v6 && is_mapped(net, *len)) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &net->w[3], a, sizeof(a));
		snprintf(err, errlen,
			 "bad prefix '%s': an IPv4-mapped IPv6 prefix; write it as IPv4: %s/%u",
			 s, a, *len - 96);
		return -EINVAL;
	}
	return 0;
}

int tdm_parse_addr(const char *s, struct tdm_addr *a)
{
	struct in_addr v4;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &v4) == 1) {
		a->w[2] = htonl(0xffff);
		a->w[3] = v4.s_addr;
		return 4;
	}
	if (inet_pton(AF_INET6, s, a->w) == 1 &&
	    !(!a->w[0] && !a->w[1] && a->w[2] == htonl(0xffff)))
		return 6;
	return 0;
}

void tdm_addr_str(const struct tdm_addr *a, __u8 family, char *buf,
		  size_t size)
{
	if (family == 4)
		inet_ntop(AF_INET, &a->w[3], buf, size);
	else
		inet_ntop(AF_INET6, a->w, buf, size);
}

int tdm_format_prefix(const struct tdm_addr *a, __u8 len, char *buf,
		      size_t size)
{
	char tmp[INET6_ADDRSTRLEN];
	bool v4 = is_mapped(a, len);

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
		return perr(err, errlen, "bad port range '%s': too long", s);
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
static int match_family(const struct tdm_match *m, const __u8 *pfx_fam,
			char *err, size_t errlen)
{
	__u8 proto_fam = m->proto == IPPROTO_ICMP ? 4 :
			 m->proto == IPPROTO_ICMPV6 ? 6 : 0;
	__u8 fams[3] = { pfx_fam[0], pfx_fam[1], proto_fam }, fam = 0;
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

static const char *const match_keys[] = {
	"src", "dst", "proto", "sport", "dport", "state",
};

/* enum tdm_ct_state's names, as nftables' ct state spells them */
static const char *const ct_state_names[TDM_CT_STATES] = {
	[TDM_CT_UNTRACKED] = "untracked", [TDM_CT_NEW] = "new",
	[TDM_CT_ESTABLISHED] = "established", [TDM_CT_RELATED] = "related",
	[TDM_CT_INVALID] = "invalid",
};

/* "new,established": a mask of 1 << enum tdm_ct_state; 0 or -EINVAL */
static int parse_states(const char *val, __u8 *mask, char *err,
			size_t errlen)
{
	const char *p = val;
	__u8 m = 0;
	int i;

	while (*p) {
		size_t len = strcspn(p, ",");

		for (i = 0; i < TDM_CT_STATES; i++)
			if (strlen(ct_state_names[i]) == len &&
			    !strncmp(p, ct_state_names[i], len))
				break;
		if (i == TDM_CT_STATES || (m & (1U << i)))
			break;
		m |= 1U << i;
		p += len;
		if (*p == ',' && *++p == '\0')
			break;
	}
	if (*p || !m)
		return perr(err, errlen,
			    "bad state '%s' (expected new, established, related, invalid or untracked, comma separated, each once)",
			    val);
	*mask = m;
	return 0;
}

void tdm_format_states(__u8 mask, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < TDM_CT_STATES && len < size; i++)
		if (mask & (1U << i))
			len += snprintf(buf + len, size - len, "%s%s",
					len ? "," : "", ct_state_names[i]);
}

bool tdm_match_keyword(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(match_keys); i++)
		if (!strcmp(key, match_keys[i]))
			return true;
	return false;
}

void tdm_match_begin(struct tdm_match *m, struct tdm_match_parser *mp)
{
	tdm_match_init(m);
	memset(mp, 0, sizeof(*mp));
}

int tdm_match_word(struct tdm_match *m, struct tdm_match_parser *mp,
		   const char *key, const char *val, char *err, size_t errlen)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(match_keys); k++)
		if (!strcmp(key, match_keys[k]))
			break;
	if (k == ARRAY_SIZE(match_keys))
		return perr(err, errlen, "'%s' is not a match keyword", key);
	if (mp->seen & (1U << k))
		return perr(err, errlen, "'%s' is given twice", key);
	mp->seen |= 1U << k;
	/* an address set: its name, looked up by whoever takes the match */
	if (k < 2 && val[0] == '@') {
		if (!val[1] || strlen(val + 1) >= TDM_NAME_LEN)
			return perr(err, errlen,
				    "bad set '%s': a set's name has 1 to 31 characters",
				    val);
		snprintf(mp->sets[k], sizeof(mp->sets[k]), "%s", val + 1);
		return 0;
	}
	switch (k) {
	case 0:
		return tdm_parse_prefix(val, &m->src, &m->smask, &m->src_len,
					&mp->fam[0], err, errlen);
	case 1:
		return tdm_parse_prefix(val, &m->dst, &m->dmask, &m->dst_len,
					&mp->fam[1], err, errlen);
	case 2:
		return tdm_parse_proto(val, &m->proto, err, errlen);
	case 3:
		return tdm_parse_ports(val, &m->sport_lo, &m->sport_hi, err,
				       errlen);
	case 5:
		return parse_states(val, &m->ct_states, err, errlen);
	default:
		return tdm_parse_ports(val, &m->dport_lo, &m->dport_hi, err,
				       errlen);
	}
}

/* The checks across words: only once every word of the match is read. */
int tdm_match_end(struct tdm_match *m, struct tdm_match_parser *mp,
		  char *err, size_t errlen)
{
	int fam;

	if ((mp->seen & (3U << 3)) && !has_ports(m->proto)) {
		snprintf(err, errlen,
			 "sport/dport need 'proto tcp', 'proto udp' or 'proto sctp'");
		return -EINVAL;
	}
	fam = match_family(m, mp->fam, err, errlen);
	if (fam < 0)
		return fam;
	m->family = fam;
	return 0;
}

int tdm_parse_match(int argc, char **argv, struct tdm_match *m, char *err,
		    size_t errlen)
{
	struct tdm_match_parser mp;
	int i, ret;

	tdm_match_begin(m, &mp);
	for (i = 0; i < argc && tdm_match_keyword(argv[i]); i += 2) {
		if (i + 1 >= argc)
			return perr(err, errlen, "'%s' needs a value", argv[i]);
		ret = tdm_match_word(m, &mp, argv[i], argv[i + 1], err, errlen);
		if (ret)
			return ret;
		if (mp.sets[0][0] || mp.sets[1][0])
			return perr(err, errlen,
				    "'%s': address sets are for firewall rules only",
				    argv[i + 1]);
		if (m->ct_states)
			return perr(err, errlen,
				    "'state %s': states are for firewall rules only",
				    argv[i + 1]);
	}
	ret = tdm_match_end(m, &mp, err, errlen);
	return ret ? ret : i;
}

static bool any_port(__u16 lo, __u16 hi)
{
	return lo == 0 && hi == 0xffff;
}

static void fmt_ports(char *buf, size_t size, __u16 lo, __u16 hi)
{
	buf[0] = '\0';
	if (any_port(lo, hi))
		return;
	if (lo == hi)
		snprintf(buf, size, "%u", lo);
	else
		snprintf(buf, size, "%u-%u", lo, hi);
}

/* The family of set id, as names says (0 if inet or unknown) */
static __u8 set_family(const struct tdm_set_names *names, __u16 id)
{
	return names && id <= TDM_MAX_SETS ? names->v[id].family : 0;
}

/* Which family do the printed words of m say, without help? */
static __u8 shown_family(const struct tdm_match *m,
			 const struct tdm_set_names *names)
{
	__u8 fam = m->proto == IPPROTO_ICMP ? 4 :
		   m->proto == IPPROTO_ICMPV6 ? 6 : 0;

	if (m->src_len)
		fam = is_mapped(&m->src, m->src_len) ? 4 : 6;
	else if (m->dst_len)
		fam = is_mapped(&m->dst, m->dst_len) ? 4 : 6;
	if (!fam && m->src_set)
		fam = set_family(names, m->src_set);
	if (!fam && m->dst_set)
		fam = set_family(names, m->dst_set);
	return fam;
}

static void fmt_set(char *buf, size_t size, const struct tdm_set_names *names,
		    __u16 id)
{
	if (names && id <= TDM_MAX_SETS && names->v[id].name[0])
		snprintf(buf, size, "@%s", names->v[id].name);
	else
		snprintf(buf, size, "@#%u", id);
}

void tdm_match_text(const struct tdm_match *m, struct tdm_match_text *t)
{
	tdm_match_text_sets(m, NULL, t);
}

void tdm_match_text_sets(const struct tdm_match *m,
			 const struct tdm_set_names *names,
			 struct tdm_match_text *t)
{
	memset(t, 0, sizeof(*t));
	if (m->src_set)
		fmt_set(t->src, sizeof(t->src), names, m->src_set);
	else if (m->src_len)
		tdm_format_prefix(&m->src, m->src_len, t->src, sizeof(t->src));
	if (m->dst_set)
		fmt_set(t->dst, sizeof(t->dst), names, m->dst_set);
	else if (m->dst_len)
		tdm_format_prefix(&m->dst, m->dst_len, t->dst, sizeof(t->dst));
	/*
	 * A family that nothing else shows came from a zero-length
	 * prefix: print it, or the text would match both families.
	 * (0.0.0.0/0 is stored as ::ffff:0:0/96, so only ::/0 gets here.)
	 * On a side without a set: the prefix was there.
	 */
	if (m->family && shown_family(m, names) != m->family) {
		char *side = !m->src_set ? t->src : t->dst;

		snprintf(side, sizeof(t->src), "%s",
			 m->family == 6 ? "::/0" : "0.0.0.0/0");
	}
	if (m->proto) {
		char num[8];

		snprintf(t->proto, sizeof(t->proto), "%s",
			 tdm_proto_name(m->proto, num, sizeof(num)));
	}
	fmt_ports(t->sport, sizeof(t->sport), m->sport_lo, m->sport_hi);
	fmt_ports(t->dport, sizeof(t->dport), m->dport_lo, m->dport_hi);
	tdm_format_states(m->ct_states, t->state, sizeof(t->state));
	t->family = m->family == 4 ? "ipv4" : m->family == 6 ? "ipv6" : "any";
}

const char *tdm_format_match(const struct tdm_match *m, char *buf,
			     size_t size)
{
	return tdm_format_match_sets(m, NULL, buf, size);
}

const char *tdm_format_match_sets(const struct tdm_match *m,
				  const struct tdm_set_names *names,
				  char *buf, size_t size)
{
	const char *words[ARRAY_SIZE(match_keys)];
	struct tdm_match_text t;
	size_t i, len = 0;

	tdm_match_text_sets(m, names, &t);
	words[0] = t.src;
	words[1] = t.dst;
	words[2] = t.proto;
	words[3] = t.sport;
	words[4] = t.dport;
	words[5] = t.state;
	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(words) && len < size; i++) {
		if (!*words[i])
			continue;
		len += snprintf(buf + len, size - len, "%s%s %s",
				len ? " " : "", match_keys[i], words[i]);
	}
	if (!len)
		snprintf(buf, size, "any");
	return buf;
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
