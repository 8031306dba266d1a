// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Applying a policy: stub until the diff lands. */
#include <stdio.h>
#include "internal.h"

int tdm_policy_apply(struct tdm_ctx *ctx, const struct tdm_policy *p,
		     unsigned int flags, struct tdm_apply_result *res)
{
	return tdm_err(ctx, ENOSYS, "tdm_policy_apply: not yet");
}

int tdm_policy_dump(struct tdm_ctx *ctx, FILE *f)
{
	return tdm_err(ctx, ENOSYS, "tdm_policy_dump: not yet");
}

int tdm_policy_parse(const char *name, const char *text, size_t len,
		     struct tdm_policy **out, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: policy files: not yet", name);
	return -ENOSYS;
}

int tdm_policy_load(const char *path, struct tdm_policy **out, char *err,
		    size_t errlen)
{
	snprintf(err, errlen, "%s: policy files: not yet", path);
	return -ENOSYS;
}

void tdm_policy_free(struct tdm_policy *p)
{
}
