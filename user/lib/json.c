// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * JSON values of the library's objects, for what NF commands hand back
 * (struct tdm_nf_command) and the front ends print.
 */
#include <json-c/json.h>

#include "internal.h"

void tdm_json_match(struct json_object *o, const struct tdm_match *m)
{
	tdm_json_match_sets(o, m, NULL);
}

void tdm_json_match_sets(struct json_object *o, const struct tdm_match *m,
			 const struct tdm_set_names *names)
{
	struct tdm_match_text t;

	tdm_match_text_sets(m, names, &t);
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
	json_object_object_add(o, "state", json_object_new_string(
		*t.state ? t.state : "any"));
}

const char *tdm_json_str(struct json_object *o, const char *key)
{
	struct json_object *v = json_object_object_get(o, key);

	return v ? json_object_get_string(v) : "";
}
