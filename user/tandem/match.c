// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Showing a 5-tuple match, in text and in JSON. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static bool any_port(__u16 lo, __u16 hi)
{
	return lo == 0 && hi == 0xffff;
}

static void fmt_ports(char *buf, size_t size, __u16 lo, __u16 hi)
{
	if (lo == hi)
		snprintf(buf, size, "%u", lo);
	else
		snprintf(buf, size, "%u-%u", lo, hi);
}

const char *fmt_match(const struct tdm_match *m, char *buf, size_t size)
{
	char a[64], p[16];
	size_t len = 0;

	buf[0] = '\0';
	if (m->src_len) {
		tdm_format_prefix(&m->src, m->src_len, a, sizeof(a));
		len += snprintf(buf + len, size - len, "src %s ", a);
	}
	if (m->dst_len && len < size) {
		tdm_format_prefix(&m->dst, m->dst_len, a, sizeof(a));
		len += snprintf(buf + len, size - len, "dst %s ", a);
	}
	if (m->proto && len < size)
		len += snprintf(buf + len, size - len, "proto %s ",
				tdm_proto_name(m->proto, p, sizeof(p)));
	if (!any_port(m->sport_lo, m->sport_hi) && len < size) {
		fmt_ports(p, sizeof(p), m->sport_lo, m->sport_hi);
		len += snprintf(buf + len, size - len, "sport %s ", p);
	}
	if (!any_port(m->dport_lo, m->dport_hi) && len < size) {
		fmt_ports(p, sizeof(p), m->dport_lo, m->dport_hi);
		len += snprintf(buf + len, size - len, "dport %s ", p);
	}
	if (len == 0)
		snprintf(buf, size, "any");
	else if (len < size)
		buf[len - 1] = '\0';
	return buf;
}

void json_add_match(json_object *o, const struct tdm_match *m)
{
	char a[64], p[16];

	tdm_format_prefix(&m->src, m->src_len, a, sizeof(a));
	json_object_object_add(o, "src", json_object_new_string(a));
	tdm_format_prefix(&m->dst, m->dst_len, a, sizeof(a));
	json_object_object_add(o, "dst", json_object_new_string(a));
	json_object_object_add(o, "proto", json_object_new_string(
		tdm_proto_name(m->proto, p, sizeof(p))));
	fmt_ports(p, sizeof(p), m->sport_lo, m->sport_hi);
	json_object_object_add(o, "sport", json_object_new_string(
		any_port(m->sport_lo, m->sport_hi) ? "any" : p));
	fmt_ports(p, sizeof(p), m->dport_lo, m->dport_hi);
	json_object_object_add(o, "dport", json_object_new_string(
		any_port(m->dport_lo, m->dport_hi) ? "any" : p));
}
