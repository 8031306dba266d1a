// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The set object: tandem set add|del|show|element|load, run by the
 * front ends like the commands NF types add (struct tdm_nf_object), and
 * set del, which is here, above the firewall, because it reads every
 * firewall's rules: a set a rule matches is not deleted (EBUSY), or the
 * rule would match an empty set, then whatever set takes its id.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "internal.h"
#include "grammar.h"

int tdm_set_del(struct tdm_ctx *ctx, const char *name)
{
	struct tdm_fw_rules rl = {};
	struct tdm_set_info set;
	struct tdm_nf_info nf;
	__u32 nf_id, i;
	int id, err = 0;

	id = tdm_set_lookup(ctx, name, &set);
	if (id < 0)
		return id;
	/* the active rules of every firewall: the datapath's */
	for (nf_id = 0; nf_id < TDM_MAX_NFS && !err; nf_id++) {
		err = tdm_nf_get(ctx, nf_id, &nf);
		if (err == -ENOENT) {
			err = 0;
			continue;
		}
		if (err || nf.type != TDM_NF_FIREWALL)
			continue;
		err = tdm_rule_list(ctx, nf.name, &rl);
		for (i = 0; !err && i < rl.n; i++)
			if (rl.v[i].m.src_set == id || rl.v[i].m.dst_set == id)
				err = tdm_err(ctx, EBUSY,
					      "set '%s' is in use: rule %u of firewall '%s' matches it",
					      name, rl.v[i].id, nf.name);
	}
	tdm_fw_rules_free(&rl);
	return err ?: tdm_set_destroy(ctx, id);
}

/* ---- the commands ---- */

static int set_add_run(struct tdm_ctx *ctx, const struct args *a,
		       struct json_object **out)
{
	const char *name = arg_str(a, "NAME");
	int id;

	id = tdm_set_add(ctx, name, tdm_set_type_family[arg_num(a, "type", 0)],
			 arg_seen(a, "interval") ? TDM_SET_INTERVAL : 0);
	if (id < 0)
		return id;
	*out = json_object_new_object();
	json_object_object_add(*out, "set", json_object_new_string(name));
	json_object_object_add(*out, "id", json_object_new_int64(id));
	return 0;
}

static int set_del_run(struct tdm_ctx *ctx, const struct args *a,
		       struct json_object **out)
{
	return tdm_set_del(ctx, arg_str(a, "NAME"));
}

static struct json_object *set_json(const struct tdm_set_info *s)
{
	struct json_object *o = json_object_new_object();
	char name[TDM_NAME_LEN];

	snprintf(name, sizeof(name), "%.*s", TDM_NAME_LEN - 1, s->name);
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "type", json_object_new_string(
		tdm_set_type_name(s->family)));
	json_object_object_add(o, "interval", json_object_new_boolean(
		s->flags & TDM_SET_INTERVAL));
	json_object_object_add(o, "elements",
			       json_object_new_int64(s->nelems));
	return o;
}

/*
 * {"sets": [{name, type, interval, elements (the count)}, ...]}, by id;
 * with NAME that set only, and its "members" (the elements as text,
 * sorted).
 */
static int set_show_run(struct tdm_ctx *ctx, const struct args *a,
			struct json_object **out)
{
	const char *name = arg_str(a, "NAME");
	struct json_object *arr = json_object_new_array(), *o, *mem;
	struct tdm_set_elems el = {};
	struct tdm_set_info s;
	char buf[64];
	__u32 id;
	size_t i;
	int err;

	if (name) {
		err = tdm_set_elems_list(ctx, name, &s, &el);
		if (err < 0)
			goto fail;
		o = set_json(&s);
		mem = json_object_new_array();
		for (i = 0; i < el.n; i++) {
			tdm_set_elem_format(&el.v[i], buf, sizeof(buf));
			json_object_array_add(mem, json_object_new_string(buf));
		}
		json_object_object_add(o, "members", mem);
		json_object_array_add(arr, o);
		tdm_set_elems_free(&el);
	} else {
		for (id = 1; id <= TDM_MAX_SETS; id++) {
			err = tdm_set_get(ctx, id, &s);
			if (err == -ENOENT)
				continue;
			if (err)
				goto fail;
			json_object_array_add(arr, set_json(&s));
		}
	}
	*out = json_object_new_object();
	json_object_object_add(*out, "sets", arr);
	return 0;
fail:
	tdm_set_elems_free(&el);
	json_object_put(arr);
	return err;
}

static const char *jget(struct json_object *o, const char *key)
{
	return json_object_get_string(json_object_object_get(o, key));
}

static void set_show_print(struct json_object *o, FILE *f)
{
	struct json_object *arr = json_object_object_get(o, "sets"), *s, *mem;
	size_t i, k;

	fprintf(f, "%-31s %-5s %-9s %s\n", "NAME", "TYPE", "INTERVAL",
		"ELEMENTS");
	for (i = 0; i < json_object_array_length(arr); i++) {
		s = json_object_array_get_idx(arr, i);
		fprintf(f, "%-31s %-5s %-9s %s\n", jget(s, "name"),
			jget(s, "type"),
			json_object_get_boolean(json_object_object_get(
				s, "interval")) ? "yes" : "no",
			jget(s, "elements"));
		mem = json_object_object_get(s, "members");
		for (k = 0; mem && k < json_object_array_length(mem); k++)
			fprintf(f, "  %s\n", json_object_get_string(
				json_object_array_get_idx(mem, k)));
	}
}

static int set_element_run(struct tdm_ctx *ctx, const struct args *a,
			   struct json_object **out)
{
	int i = arg_index(a, "ELEM");

	return tdm_set_elems_change(ctx, arg_str(a, "NAME"),
				    arg_num(a, "add|del", 0) == 0,
				    a->nwords[i], a->words[i]);
}

static int set_load_run(struct tdm_ctx *ctx, const struct args *a,
			struct json_object **out)
{
	return tdm_set_load(ctx, arg_str(a, "NAME"), arg_str(a, "FILE"));
}

static const struct arg set_name_args[] = {
	{ .meta = "NAME", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the set" },
	{}
};

static const struct arg set_show_args[] = {
	{ .meta = "NAME", .type = ARG_NAME,
	  .help = "this set only, with its elements" },
	{}
};

static const struct tdm_nf_command set_cmds[] = {
	{ "add", NULL, tdm_set_add_args, "add an empty set", true,
	  set_add_run, NULL },
	{ "del", "delete", set_name_args,
	  "delete a set (not while a firewall rule matches it)", true,
	  set_del_run, NULL },
	{ "show", "list", set_show_args, "the sets, or one and its elements",
	  false, set_show_run, set_show_print },
	{ "element", NULL, tdm_set_element_args,
	  "add or delete elements, live (no rule is reloaded)", true,
	  set_element_run, NULL },
	{ "load", NULL, tdm_set_load_args,
	  "make a set's elements those of FILE, live", true,
	  set_load_run, NULL },
	{}
};

static const struct tdm_nf_object set_object = {
	.name = "set",
	.summary = "address sets that firewall rules match (src @NAME)",
	.cmds = set_cmds,
	.notes =
		"A set is global: firewall rules of any firewall match it with\n"
		"src @NAME or dst @NAME, and its family is the rule's. A change\n"
		"of its elements takes effect on the next packet, no rule reload.\n"
		"A plain set holds addresses, an interval set prefixes (an\n"
		"address is in it if any of them covers it).\n"
		"Elements of the wrong family or prefixes in a plain set are\n"
		"refused; a command with a bad element changes nothing.\n"
		"set load adds what FILE has new before it deletes what it lacks.\n",
};

const struct tdm_nf_object *tdm_set_object(void)
{
	return &set_object;
}
