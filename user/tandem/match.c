// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Showing a 5-tuple match, in text and in JSON: the library's words. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

const char *fmt_match(const struct tdm_match *m, char *buf, size_t size)
{
	return tdm_format_match(m, buf, size);
}

/* The same words as the text, "any" for the parts not set, and the family. */
void json_add_match(json_object *o, const struct tdm_match *m)
{
	struct tdm_match_text t;

	tdm_match_text(m, &t);
	json_object_object_add(o, "family", json_object_new_string(t.family));
	json_object_object_add(o, "src", json_object_new_string(
		*t.src ? t.src : "any"));
	json_object_object_add(o, "dst", json_object_new_string(
		*t.dst ? t.dst : "any"));
	json_object_object_add(o, "proto", json_object_new_string(
		*t.proto ? t.proto : "any"));
	json_object_object_add(o, "sport", json_object_new_string(
		*t.sport ? t.sport : "any"));
	json_object_object_add(o, "dport", json_object_new_string(
		*t.dport ? t.dport : "any"));
}
