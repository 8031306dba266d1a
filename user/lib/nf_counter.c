// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * counter, the library half (bpf/nf_counter.bpf.c): no parameters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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

static const char *const counter_drops[TDM_COUNTER_DROP_MAX] = {};

const struct tdm_nf_ops tdm_nf_counter = {
	.summary = "counts packets and bytes",
	.params = counter_params,
	.parse = counter_parse, .format = counter_format,
	.drops = counter_drops,
};
