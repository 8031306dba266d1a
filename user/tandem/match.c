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
	tdm_json_match(o, m);
}
