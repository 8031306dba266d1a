// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * conntrack, the library half (bpf/nf_conntrack.bpf.c): its table (an
 * LRU hash of the size its parameters name, in tdm_ct_tables[id] and
 * pinned as tdm_ct_<id>), its TC egress program (bpf/ct_egress.bpf.c)
 * on the device it tracks the host's packets on, and `tandem conntrack
 * show|flush`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <json-c/json.h>

#include "internal.h"
#include "grammar.h"
#include "bpf/ct_egress.skel.h"

/*
 * The TC filter of NF id on its egress device: priority CT_TC_PRIO + id
 * (unique per NF, so that two conntracks share a device), handle 1.
 */
#define CT_TC_PRIO	0xc000
#define CT_TC_HANDLE	1

static const struct tdm_nf_param conntrack_params[] = {
	{ "size", "N" },
	{ "egress", "DEV" },
	{}
};

static int conntrack_parse(union tdm_nf_params *p, const char *const *vals,
			   char *err, size_t errlen)
{
	struct tdm_conntrack_params *cp = TDM_NF_PARAMS(p, conntrack);
	__u64 v = TDM_CT_DEFAULT_SIZE;

	if (vals[0] && tdm_parse_uint(vals[0], 64, TDM_CT_MAX_SIZE, &v)) {
		snprintf(err, errlen,
			 "conntrack: bad size '%s' (expected flows, 64-%u)",
			 vals[0], TDM_CT_MAX_SIZE);
		return -EINVAL;
	}
	cp->size = v;
	if (vals[1]) {
		if (!*vals[1] || strlen(vals[1]) >= sizeof(cp->egress) ||
		    strpbrk(vals[1], "/: \t") || !strcmp(vals[1], ".") ||
		    !strcmp(vals[1], "..")) {
			snprintf(err, errlen,
				 "conntrack: bad egress device '%s' (a device name has 1 to 15 characters)",
				 vals[1]);
			return -EINVAL;
		}
		snprintf(cp->egress, sizeof(cp->egress), "%s", vals[1]);
	}
	return 0;
}

static void conntrack_format(const union tdm_nf_params *p, char *buf,
			     size_t size)
{
	const struct tdm_conntrack_params *cp = TDM_NF_PARAMS(p, conntrack);
	int n;

	n = snprintf(buf, size, "size %u", cp->size);
	if (cp->egress[0] && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - n, " egress %.16s", cp->egress);
}

static const struct tdm_nf_table ct_table = {
	.nf = "conntrack", .outer = "tdm_ct_tables", .pin_prefix = "tdm_ct_",
	.map_name = "tdm_ct", .type = BPF_MAP_TYPE_LRU_HASH,
	.key_type = "tdm_ct_key", .value_type = "tdm_ct_entry",
	.key_size = sizeof(struct tdm_ct_key),
	.value_size = sizeof(struct tdm_ct_entry),
};

/* Take NF id's egress filter off every device that has it. */
static void egress_detach_all(__u32 id)
{
	struct if_nameindex *ifs = if_nameindex(), *i;

	for (i = ifs; i && i->if_index; i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = i->if_index,
			    .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = CT_TC_HANDLE,
			    .priority = CT_TC_PRIO + id);

		bpf_tc_detach(&hook, &opts);
	}
	if (ifs)
		if_freenameindex(ifs);
}

/* Load bpf/ct_egress.bpf.c for NF id and put it on dev's egress. */
static int egress_attach(struct tdm_ctx *ctx, __u32 id, const char *dev)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = CT_TC_HANDLE,
		    .priority = CT_TC_PRIO + id);
	struct bpf_object_open_opts oopts;
	struct tdm_ct_egress *s;
	int err;

	hook.ifindex = if_nametoindex(dev);
	if (!hook.ifindex)
		return tdm_err(ctx, ENODEV, "conntrack: egress device '%s': %s",
			       dev, strerror(errno));
	tdm_skel_opts(&oopts);
	s = tdm_ct_egress__open_opts(&oopts);
	if (!s)
		return tdm_err(ctx, errno,
			       "conntrack: opening its egress program: %s",
			       strerror(errno));
	s->rodata->tdm_ct_nf_id = id;
	err = tdm_ct_egress__load(s);
	if (err) {
		err = tdm_err(ctx, err,
			      "conntrack: loading its egress program: %s",
			      strerror(-err));
		goto out;
	}
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		err = tdm_err(ctx, -err, "conntrack: adding clsact to %s: %s",
			      dev, strerror(-err));
		goto out;
	}
	opts.prog_fd = bpf_program__fd(s->progs.tdm_ct_egress);
	opts.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		err = tdm_err(ctx, -err,
			      "conntrack: attaching to the egress of %s: %s",
			      dev, strerror(-err));
out:
	tdm_ct_egress__destroy(s);
	return err;
}

static void conntrack_destroy(struct tdm_ctx *ctx, __u32 id)
{
	egress_detach_all(id);
	tdm_nf_table_destroy(ctx, &ct_table, id);
}

/* The table first (the datapath finds it), then the egress program */
static int conntrack_create(struct tdm_ctx *ctx, __u32 id,
			    union tdm_nf_params *p)
{
	const struct tdm_conntrack_params *cp = TDM_NF_PARAMS(p, conntrack);
	int err;

	egress_detach_all(id);
	err = tdm_nf_table_create(ctx, &ct_table, id,
				  cp->size ?: TDM_CT_DEFAULT_SIZE);
	if (!err && cp->egress[0])
		err = egress_attach(ctx, id, cp->egress);
	if (err)
		conntrack_destroy(ctx, id);
	return err;
}

/* ---- its commands: tandem conntrack show|flush ---- */

static const char *const tcp_states[] = {
	[TDM_CT_TCP_NONE] = "-",
	[TDM_CT_TCP_SYN_SENT] = "syn_sent",
	[TDM_CT_TCP_SYN_RECV] = "syn_recv",
	[TDM_CT_TCP_ESTABLISHED] = "established",
	[TDM_CT_TCP_FIN_WAIT] = "fin_wait",
	[TDM_CT_TCP_TIME_WAIT] = "time_wait",
	[TDM_CT_TCP_CLOSE] = "close",
};

static int conntrack_of(struct tdm_ctx *ctx, const char *name)
{
	struct tdm_nf_info info;
	int id = tdm_nf_lookup(ctx, name, &info);

	if (id < 0)
		return id;
	if (info.type != TDM_NF_CONNTRACK)
		return tdm_err(ctx, EINVAL, "NF '%s' is not a conntrack", name);
	return id;
}

static struct json_object *flow_json(const struct tdm_ct_key *k,
				     const struct tdm_ct_entry *e, __u64 now)
{
	struct json_object *o = json_object_new_object();
	__u8 o_end = e->orig & 1, r_end = !o_end;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], num[8];
	bool echo = k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6;

	tdm_addr_str(&k->addr[o_end], k->family, src, sizeof(src));
	tdm_addr_str(&k->addr[r_end], k->family, dst, sizeof(dst));
	json_object_object_add(o, "family", json_object_new_string(
		k->family == 4 ? "ipv4" : "ipv6"));
	json_object_object_add(o, "proto", json_object_new_string(
		tdm_proto_name(k->proto, num, sizeof(num))));
	json_object_object_add(o, "src", json_object_new_string(src));
	json_object_object_add(o, "dst", json_object_new_string(dst));
	if (echo) {
		json_object_object_add(o, "id",
				       json_object_new_int(k->port[0]));
	} else {
		json_object_object_add(o, "sport",
				       json_object_new_int(k->port[o_end]));
		json_object_object_add(o, "dport",
				       json_object_new_int(k->port[r_end]));
	}
	json_object_object_add(o, "state", json_object_new_string(
		e->state < ARRAY_SIZE(tcp_states) ? tcp_states[e->state] : "?"));
	json_object_object_add(o, "replied", json_object_new_boolean(e->replied));
	json_object_object_add(o, "expires_s", json_object_new_int64(
		(e->expires - now) / 1000000000ULL));
	json_object_object_add(o, "packets", json_object_new_int64(e->packets[0]));
	json_object_object_add(o, "bytes", json_object_new_int64(e->bytes[0]));
	json_object_object_add(o, "reply_packets",
			       json_object_new_int64(e->packets[1]));
	json_object_object_add(o, "reply_bytes",
			       json_object_new_int64(e->bytes[1]));
	return o;
}

/* The live flows of NF name (expired ones are left out) */
static int conntrack_show_run(struct tdm_ctx *ctx, const struct args *a,
			      struct json_object **out)
{
	const char *name = arg_str(a, "NF");
	struct tdm_ct_key k, next;
	struct tdm_ct_entry e;
	struct json_object *arr;
	void *prev = NULL;
	__u64 now;
	int id, fd;

	id = conntrack_of(ctx, name);
	if (id < 0)
		return id;
	fd = tdm_nf_table_fd(ctx, &ct_table, id);
	if (fd < 0)
		return tdm_err(ctx, -fd, "conntrack '%s' has no table: %s",
			       name, strerror(-fd));
	now = tdm_mono_ns();
	arr = json_object_new_array();
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &e) || e.expires <= now)
			continue;
		json_object_array_add(arr, flow_json(&k, &e, now));
	}
	close(fd);
	*out = json_object_new_object();
	json_object_object_add(*out, "nf", json_object_new_string(name));
	json_object_object_add(*out, "flows", arr);
	return 0;
}

static void conntrack_show_print(struct json_object *o, FILE *f)
{
	struct json_object *arr = json_object_object_get(o, "flows");
	size_t i;

	fprintf(f, "%-6s %-40s %-40s %-12s %8s %s\n", "PROTO", "ORIG",
		"REPLY", "STATE", "EXPIRES", "PACKETS");
	for (i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);
		bool echo = json_object_object_get(r, "id") != NULL;
		char src[64], dst[64], exp[16];
		const char *fam = tdm_json_str(r, "family");
		const char *lb = strcmp(fam, "ipv6") ? "" : "[";
		const char *rb = strcmp(fam, "ipv6") ? "" : "]";

		if (echo) {
			snprintf(src, sizeof(src), "%s id %s", tdm_json_str(r, "src"),
				 tdm_json_str(r, "id"));
			snprintf(dst, sizeof(dst), "%s", tdm_json_str(r, "dst"));
		} else {
			snprintf(src, sizeof(src), "%s%s%s:%s", lb,
				 tdm_json_str(r, "src"), rb, tdm_json_str(r, "sport"));
			snprintf(dst, sizeof(dst), "%s%s%s:%s", lb,
				 tdm_json_str(r, "dst"), rb, tdm_json_str(r, "dport"));
		}
		snprintf(exp, sizeof(exp), "%ss", tdm_json_str(r, "expires_s"));
		fprintf(f, "%-6s %-40s %-40s %-12s %8s %s/%s\n",
			tdm_json_str(r, "proto"), src, dst,
			strcmp(tdm_json_str(r, "state"), "-") ? tdm_json_str(r, "state") :
			json_object_get_boolean(json_object_object_get(r, "replied")) ?
			"replied" : "unreplied",
			exp, tdm_json_str(r, "packets"), tdm_json_str(r, "reply_packets"));
	}
}

/* Forget every flow of NF name: they are new again, or invalid. */
static int conntrack_flush_run(struct tdm_ctx *ctx, const struct args *a,
			       struct json_object **out)
{
	int id = conntrack_of(ctx, arg_str(a, "NF"));

	if (id < 0)
		return id;
	return tdm_nf_table_flush(ctx, &ct_table, id, arg_str(a, "NF"));
}

static const struct arg conntrack_nf_args[] = {
	{ .meta = "NF", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the conntrack NF" },
	{}
};

static const struct tdm_nf_command conntrack_cmds[] = {
	{ "show", "list", conntrack_nf_args,
	  "a conntrack's flows: ends as opened, state, timeout, packets",
	  false, conntrack_show_run, conntrack_show_print },
	{ "flush", NULL, conntrack_nf_args, "forget every flow", true,
	  conntrack_flush_run, NULL },
	{}
};

static const struct tdm_nf_object conntrack_object = {
	.name = "conntrack",
	.summary = "connection tracking tables",
	.cmds = conntrack_cmds,
	.notes = "A flow shows as its first packet went (ORIG: source,\n"
		 "REPLY: destination); PACKETS counts both ways (orig/reply).\n",
};

static const char *const conntrack_drops[TDM_CONNTRACK_DROP_MAX] = {};

const struct tdm_nf_ops tdm_nf_conntrack = {
	.summary = "connection tracking: tells new, established, related, invalid",
	.help = "conntrack: before a firewall whose rules match 'state'\n"
		"  size N      flows in its table, least recently used go first\n"
		"              (default 65536, 64-4194304; about 176 bytes\n"
		"              a flow, allocated at once)\n"
		"  egress DEV  track what the host sends out of DEV, where the\n"
		"              chain is attached: needed for the host's own\n"
		"              connections, in and out\n"
		"  Example: tandem nf add ct conntrack egress eth0\n",
	.params = conntrack_params,
	.parse = conntrack_parse, .format = conntrack_format,
	.create = conntrack_create, .destroy = conntrack_destroy,
	.params_fixed = true,
	.object = &conntrack_object,
	.drops = conntrack_drops,
};
