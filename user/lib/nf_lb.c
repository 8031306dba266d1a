// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * lb, the library half (bpf/nf_lb.bpf.c): its parameters, its two
 * tables (the flows' bindings, pinned as tdm_lb_<id>, in tdm_nat_tables;
 * the Maglev slots, tdm_lb_slots_<id>, in tdm_lb_tables), its backends
 * (records in tdm_lb_backends), and `tandem lb add|del|drain|enable|
 * show`. Every change of the backends fills the slots again.
 *   vip ADDR proto tcp|udp [port PORT] [table PRIME] [size N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <json-c/json.h>

#include "internal.h"
#include "grammar.h"

#define LB_MAX_WEIGHT	1000

static const struct tdm_nf_table lb_flows = {
	.nf = "lb", .outer = "tdm_nat_tables", .pin_prefix = "tdm_lb_",
	.map_name = "tdm_lb_flows", .type = BPF_MAP_TYPE_LRU_HASH,
	.key_type = "tdm_nat_key", .value_type = "tdm_nat_entry",
	.key_size = sizeof(struct tdm_nat_key),
	.value_size = sizeof(struct tdm_nat_entry),
};

static const struct tdm_nf_table lb_slots = {
	.nf = "lb", .outer = "tdm_lb_tables", .pin_prefix = "tdm_lb_slots_",
	.map_name = "tdm_lb_slots", .type = BPF_MAP_TYPE_ARRAY,
	.key_type = NULL, .value_type = "tdm_lb_slot",
	.key_size = sizeof(__u32), .value_size = sizeof(struct tdm_lb_slot),
	.map_flags = BPF_F_INNER_MAP,	/* of its own size */
};

enum { P_VIP, P_PROTO, P_PORT, P_TABLE, P_SIZE, P_FORWARD, P_SOURCE };

static const struct tdm_nf_param lb_params[] = {
	[P_VIP] = { "vip", "ADDR", true },
	[P_PROTO] = { "proto", "tcp|udp", true },
	[P_PORT] = { "port", "PORT" },
	[P_TABLE] = { "table", "PRIME" },
	[P_SIZE] = { "size", "N" },
	[P_FORWARD] = { "forward", "dnat|encap" },
	[P_SOURCE] = { "source", "ADDR" },
	{}
};

static int lerr(char *err, size_t errlen, const char *fmt, const char *a)
{
	snprintf(err, errlen, fmt, a);
	return -EINVAL;
}

/*
 * Not unspecified, loopback, multicast or broadcast: an address a packet
 * may leave from or be routed to, for sources and backends
 */
static bool lb_unicast(const struct tdm_addr *a, int family)
{
	const __u8 *b = (const __u8 *)a->w;

	if (family == 4)	/* 0/8, 127/8, 224/4 and above */
		return b[12] && b[12] != 127 && b[12] < 224;
	if (!a->w[0] && !a->w[1] && !a->w[2] && a->w[3] == htonl(1))
		return false;	/* ::1 */
	return b[0] != 0xff && (a->w[0] || a->w[1] || a->w[2] || a->w[3]);
}

static int lb_parse(union tdm_nf_params *p, const char *const *vals,
		    char *err, size_t errlen)
{
	struct tdm_lb_params *lp = TDM_NF_PARAMS(p, lb);
	__u64 v;

	lp->family = tdm_parse_addr(vals[P_VIP], &lp->vip);
	if (!lp->family)
		return lerr(err, errlen,
			    "lb: bad vip '%s' (an IPv4 or IPv6 address)",
			    vals[P_VIP]);
	if (!strcmp(vals[P_PROTO], "tcp"))
		lp->proto = IPPROTO_TCP;
	else if (!strcmp(vals[P_PROTO], "udp"))
		lp->proto = IPPROTO_UDP;
	else
		return lerr(err, errlen,
			    "lb: bad proto '%s' (tcp or udp: the balanced flows have ports)",
			    vals[P_PROTO]);
	if (vals[P_PORT] && tdm_parse_uint(vals[P_PORT], 1, 65535, &v))
		return lerr(err, errlen, "lb: bad port '%s' (1-65535)",
			    vals[P_PORT]);
	lp->port = vals[P_PORT] ? v : 0;
	v = TDM_LB_DEFAULT_TABLE;
	if (vals[P_TABLE] &&
	    (tdm_parse_uint(vals[P_TABLE], 3, TDM_LB_MAX_TABLE, &v) ||
	     !tdm_is_prime(v))) {
		snprintf(err, errlen,
			 "lb: bad table '%s' (Maglev's slots: a prime, 3-%u; at least 100 x the backends)",
			 vals[P_TABLE], TDM_LB_MAX_TABLE);
		return -EINVAL;
	}
	lp->table = v;
	v = TDM_NAT_DEFAULT_SIZE;
	if (vals[P_SIZE] && tdm_parse_uint(vals[P_SIZE], 64, TDM_NAT_MAX_SIZE,
					   &v)) {
		snprintf(err, errlen,
			 "lb: bad size '%s' (expected entries, two a flow, 64-%u)",
			 vals[P_SIZE], TDM_NAT_MAX_SIZE);
		return -EINVAL;
	}
	lp->size = v;
	lp->mode = TDM_LB_DNAT;
	if (vals[P_FORWARD] && !strcmp(vals[P_FORWARD], "encap"))
		lp->mode = TDM_LB_ENCAP;
	else if (vals[P_FORWARD] && strcmp(vals[P_FORWARD], "dnat"))
		return lerr(err, errlen,
			    "lb: bad forward '%s' (dnat, or encap: IP in IP to the backend)",
			    vals[P_FORWARD]);
	if (lp->mode == TDM_LB_ENCAP && !vals[P_SOURCE])
		return lerr(err, errlen,
			    "lb: forward encap needs 'source ADDR', the outer header's source%s",
			    "");
	if (lp->mode != TDM_LB_ENCAP && vals[P_SOURCE])
		return lerr(err, errlen,
			    "lb: 'source %s' is for forward encap",
			    vals[P_SOURCE]);
	if (vals[P_SOURCE] &&
	    (tdm_parse_addr(vals[P_SOURCE], &lp->source) != lp->family ||
	     !lb_unicast(&lp->source, lp->family)))
		return lerr(err, errlen,
			    "lb: bad source '%s' (a unicast address of the vip's family)",
			    vals[P_SOURCE]);
	return 0;
}

static void lb_format(const union tdm_nf_params *p, char *buf, size_t size)
{
	const struct tdm_lb_params *lp = TDM_NF_PARAMS(p, lb);
	char a[INET6_ADDRSTRLEN], port[16] = "";
	int n;

	tdm_addr_str(&lp->vip, lp->family, a, sizeof(a));
	if (lp->port)
		snprintf(port, sizeof(port), " port %u", lp->port);
	n = snprintf(buf, size, "vip %s proto %s%s table %u size %u", a,
		     lp->proto == IPPROTO_TCP ? "tcp" : "udp", port, lp->table,
		     lp->size);
	if (lp->mode == TDM_LB_ENCAP && n > 0 && (size_t)n < size) {
		tdm_addr_str(&lp->source, lp->family, a, sizeof(a));
		snprintf(buf + n, size - n, " forward encap source %s", a);
	}
}

/* ---- backends ---- */

struct lb_backend {
	struct tdm_lb_backend_key k;
	struct tdm_lb_backend v;
};

static int by_addr(const void *x, const void *y)
{
	const struct lb_backend *a = x, *b = y;
	int c = memcmp(&a->k.addr, &b->k.addr, sizeof(a->k.addr));

	return c ? c : (int)a->k.port - (int)b->k.port;
}

/* NF id's backends, sorted by address and port; their count or -errno */
static int backends_of(struct tdm_ctx *ctx, __u32 id, struct lb_backend **out)
{
	int fd = tdm_map_fd(ctx, "tdm_lb_backends"), n = 0;
	struct tdm_lb_backend_key k, next;
	struct lb_backend *b;
	void *prev = NULL;

	*out = NULL;
	if (fd < 0)
		return fd;
	b = calloc(TDM_LB_MAX_BACKENDS + 1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (k.nf_id != id || n > TDM_LB_MAX_BACKENDS)
			continue;
		b[n].k = k;
		if (!bpf_map_lookup_elem(fd, &k, &b[n].v))
			n++;
	}
	qsort(b, n, sizeof(*b), by_addr);
	*out = b;
	return n;
}

/* Maglev's key of a backend: FNV-1a of its address and port */
static __u64 backend_key(const struct tdm_lb_backend_key *k)
{
	const unsigned char *p = (const void *)&k->addr;
	__u64 h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < sizeof(k->addr); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h = (h ^ (k->port & 0xff)) * 0x100000001b3ULL;
	return (h ^ (k->port >> 8)) * 0x100000001b3ULL;
}

/*
 * Fill NF id's slots from its backends: Maglev over those up (a
 * draining one has weight 0 there), every slot written at once.
 */
static int slots_fill(struct tdm_ctx *ctx, __u32 id,
		      const struct tdm_lb_params *lp)
{
	struct tdm_maglev_backend *mb = NULL;
	struct tdm_lb_slot *slots = NULL;
	struct lb_backend *b = NULL;
	__u32 *table = NULL, *keys = NULL, i, count;
	int n, fd = -1, err;

	n = backends_of(ctx, id, &b);
	if (n < 0)
		return tdm_err(ctx, -n, "lb: reading the backends: %s",
			       strerror(-n));
	mb = calloc(n + 1, sizeof(*mb));
	table = calloc(lp->table, sizeof(*table));
	slots = calloc(lp->table, sizeof(*slots));
	keys = calloc(lp->table, sizeof(*keys));
	if (!mb || !table || !slots || !keys) {
		err = tdm_err(ctx, ENOMEM, "lb: out of memory");
		goto out;
	}
	for (i = 0; i < (__u32)n; i++) {
		mb[i].key = backend_key(&b[i].k);
		mb[i].weight = b[i].v.state == TDM_LB_UP ? b[i].v.weight : 0;
	}
	err = tdm_maglev_fill(table, lp->table, mb, n);
	if (err) {
		err = tdm_err(ctx, -err, "lb: filling the table: %s",
			      strerror(-err));
		goto out;
	}
	for (i = 0; i < lp->table; i++) {
		keys[i] = i;
		slots[i].backend = ~0U;
		if (table[i] == TDM_MAGLEV_NONE)
			continue;
		slots[i].addr = b[table[i]].k.addr;
		slots[i].port = b[table[i]].k.port;
		slots[i].backend = b[table[i]].v.index;
	}
	fd = tdm_nf_table_fd(ctx, &lb_slots, id);
	if (fd < 0) {
		err = tdm_err(ctx, -fd, "lb: its table: %s", strerror(-fd));
		goto out;
	}
	count = lp->table;
	err = bpf_map_update_batch(fd, keys, slots, &count, NULL);
	for (i = err ? 0 : lp->table; i < lp->table; i++)
		if (bpf_map_update_elem(fd, &keys[i], &slots[i], BPF_ANY))
			break;
	err = i < lp->table ? tdm_err(ctx, errno, "lb: writing its table: %s",
				      strerror(errno)) : 0;
out:
	if (fd >= 0)
		close(fd);
	free(mb);
	free(table);
	free(slots);
	free(keys);
	free(b);
	return err;
}

/*
 * Delete the flows of NF id that go to (or come from) backend bk. One
 * pass: the next key is read before the current one goes (a deleted key
 * would send get_next_key back to the start).
 */
static void flows_forget(struct tdm_ctx *ctx, __u32 id,
			 const struct tdm_lb_backend_key *bk)
{
	struct tdm_nat_key k, next;
	struct tdm_nat_entry e;
	int fd = tdm_nf_table_fd(ctx, &lb_flows, id);
	bool more;

	if (fd < 0)
		return;
	more = !bpf_map_get_next_key(fd, NULL, &k);
	while (more) {
		more = !bpf_map_get_next_key(fd, &k, &next);
		if (!bpf_map_lookup_elem(fd, &k, &e) &&
		    ((!e.dir && !memcmp(&e.daddr, &bk->addr, sizeof(e.daddr)) &&
		      (!bk->port || e.dport == bk->port)) ||
		     (e.dir && !memcmp(&k.saddr, &bk->addr, sizeof(k.saddr)) &&
		      (!bk->port || k.sport == bk->port))))
			bpf_map_delete_elem(fd, &k);
		k = next;
	}
	close(fd);
}

static void lb_destroy(struct tdm_ctx *ctx, __u32 id)
{
	struct lb_backend *b;
	int n = backends_of(ctx, id, &b), fd = tdm_map_fd(ctx, "tdm_lb_backends");

	while (fd >= 0 && n-- > 0)
		bpf_map_delete_elem(fd, &b[n].k);
	free(b);
	tdm_nf_table_destroy(ctx, &lb_slots, id);
	tdm_nf_table_destroy(ctx, &lb_flows, id);
}

static int lb_create(struct tdm_ctx *ctx, __u32 id, union tdm_nf_params *p)
{
	const struct tdm_lb_params *lp = TDM_NF_PARAMS(p, lb);
	int err;

	lb_destroy(ctx, id);
	err = tdm_nf_table_create(ctx, &lb_flows, id,
				  lp->size ?: TDM_NAT_DEFAULT_SIZE) ?:
	      tdm_nf_table_create(ctx, &lb_slots, id,
				  lp->table ?: TDM_LB_DEFAULT_TABLE) ?:
	      slots_fill(ctx, id, lp);
	if (err)
		lb_destroy(ctx, id);
	return err;
}

/* ---- its commands: tandem lb add|del|drain|enable|show ---- */

/* NF name, an lb: its id, params into *lp */
static int lb_of(struct tdm_ctx *ctx, const char *name,
		 struct tdm_lb_params *lp)
{
	struct tdm_nf_info info;
	int id = tdm_nf_lookup(ctx, name, &info);

	if (id < 0)
		return id;
	if (info.type != TDM_NF_LB)
		return tdm_err(ctx, EINVAL, "NF '%s' is not an lb", name);
	*lp = *TDM_NF_PARAMS(&info.params, lb);
	return id;
}

/* Backend addr (port) of lb NF nf: its key, the NF's id or -errno */
static int backend_key_of(struct tdm_ctx *ctx, const char *nf,
			  const char *addr, __u16 port,
			  struct tdm_lb_backend_key *k,
			  struct tdm_lb_params *lp)
{
	int id = lb_of(ctx, nf, lp), fam;

	if (id < 0)
		return id;
	memset(k, 0, sizeof(*k));
	k->nf_id = id;
	fam = tdm_parse_addr(addr, &k->addr);
	if (!fam)
		return tdm_err(ctx, EINVAL,
			       "lb: bad backend address '%s' (IPv4 or IPv6)",
			       addr);
	if (fam != lp->family)
		return tdm_err(ctx, EINVAL,
			       "lb: backend %s is IPv%d, the vip IPv%u",
			       addr, fam, lp->family);
	k->port = port;
	return id;
}

int tdm_lb_add(struct tdm_ctx *ctx, const char *nf, const char *addr,
	       __u16 port, __u32 weight)
{
	int fd = tdm_map_fd(ctx, "tdm_lb_backends"), id, n, err;
	struct tdm_lb_backend v = { .weight = weight };
	struct tdm_lb_backend_key k;
	struct tdm_lb_params lp;
	struct lb_backend *b;
	__u32 i;

	id = backend_key_of(ctx, nf, addr, port, &k, &lp);
	if (id < 0)
		return id;
	if (weight < 1 || weight > LB_MAX_WEIGHT)
		return tdm_err(ctx, EINVAL, "lb: bad weight %u (1-%u)", weight,
			       LB_MAX_WEIGHT);
	if (!lb_unicast(&k.addr, lp.family) ||
	    !memcmp(&k.addr, &lp.vip, sizeof(k.addr)))
		return tdm_err(ctx, EINVAL,
			       "lb: backend %s cannot take flows (unspecified, loopback, multicast, broadcast or the vip)",
			       addr);
	if (port && lp.mode == TDM_LB_ENCAP)
		return tdm_err(ctx, EINVAL,
			       "lb '%s' forwards by encap: the packet is not changed, a backend has no port of its own",
			       nf);
	n = backends_of(ctx, id, &b);
	if (n < 0)
		return tdm_err(ctx, -n, "lb: reading the backends: %s",
			       strerror(-n));
	/* the lowest index no backend of the NF has */
	for (v.index = 0; ; v.index++) {
		for (i = 0; i < (__u32)n && b[i].v.index != v.index; i++)
			;
		if (i == (__u32)n)
			break;
	}
	for (i = 0; i < (__u32)n; i++)
		if (!memcmp(&b[i].k, &k, sizeof(k)))
			break;
	free(b);
	if (i < (__u32)n)
		return tdm_err(ctx, EEXIST, "lb '%s' has backend %s%s already",
			       nf, addr, port ? " (that port)" : "");
	if (n >= TDM_LB_MAX_BACKENDS)
		return tdm_err(ctx, ENOSPC, "lb '%s' has %d backends, the most",
			       nf, TDM_LB_MAX_BACKENDS);
	if (fd < 0 || bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST))
		return tdm_err(ctx, errno, "lb: adding the backend: %s",
			       strerror(errno));
	err = slots_fill(ctx, id, &lp);
	if (err)
		bpf_map_delete_elem(fd, &k);	/* the table stays as it was */
	return err;
}

int tdm_lb_set(struct tdm_ctx *ctx, const char *nf, const char *addr,
	       __u16 port, int state)
{
	int fd = tdm_map_fd(ctx, "tdm_lb_backends"), id, err;
	struct tdm_lb_backend_key k;
	struct tdm_lb_backend v, old;
	struct tdm_lb_params lp;

	id = backend_key_of(ctx, nf, addr, port, &k, &lp);
	if (id < 0)
		return id;
	if (fd < 0 || bpf_map_lookup_elem(fd, &k, &v))
		return tdm_err(ctx, ENOENT, "lb '%s' has no backend %s%s",
			       nf, addr, port ? " (that port)" : "");
	old = v;
	if (state < 0) {
		if (bpf_map_delete_elem(fd, &k))
			return tdm_err(ctx, errno, "lb: deleting: %s",
				       strerror(errno));
		err = slots_fill(ctx, id, &lp);
		if (err) {
			bpf_map_update_elem(fd, &k, &old, BPF_NOEXIST);
			return err;
		}
		/* its flows go elsewhere with their next packet */
		flows_forget(ctx, id, &k);
		return 0;
	}
	v.state = state;
	if (bpf_map_update_elem(fd, &k, &v, BPF_EXIST))
		return tdm_err(ctx, errno, "lb: %s", strerror(errno));
	err = slots_fill(ctx, id, &lp);
	if (err)
		bpf_map_update_elem(fd, &k, &old, BPF_EXIST);
	return err;
}

static int lb_add_run(struct tdm_ctx *ctx, const struct args *a,
		      struct json_object **out)
{
	return tdm_lb_add(ctx, arg_str(a, "NF"), arg_str(a, "ADDR"),
			  arg_num(a, "port", 0), arg_num(a, "weight", 1));
}

static int lb_del_run(struct tdm_ctx *ctx, const struct args *a,
		      struct json_object **out)
{
	return tdm_lb_set(ctx, arg_str(a, "NF"), arg_str(a, "ADDR"),
			  arg_num(a, "port", 0), -1);
}

static int lb_drain_run(struct tdm_ctx *ctx, const struct args *a,
			struct json_object **out)
{
	return tdm_lb_set(ctx, arg_str(a, "NF"), arg_str(a, "ADDR"),
			  arg_num(a, "port", 0), TDM_LB_DRAINING);
}

static int lb_enable_run(struct tdm_ctx *ctx, const struct args *a,
			 struct json_object **out)
{
	return tdm_lb_set(ctx, arg_str(a, "NF"), arg_str(a, "ADDR"),
			  arg_num(a, "port", 0), TDM_LB_UP);
}

/* Backends with their slots and live flows */
static int lb_show_run(struct tdm_ctx *ctx, const struct args *a,
		       struct json_object **out)
{
	const char *name = arg_str(a, "NF");
	struct json_object *arr;
	struct tdm_lb_params lp;
	struct tdm_lb_slot slot;
	struct lb_backend *b;
	__u32 *slots_of = NULL, *flows_of = NULL, i, j;
	struct tdm_nat_key k, next;
	struct tdm_nat_entry e;
	void *prev = NULL;
	int id, n, fd;
	__u64 now;

	id = lb_of(ctx, name, &lp);
	if (id < 0)
		return id;
	n = backends_of(ctx, id, &b);
	if (n < 0)
		return tdm_err(ctx, -n, "lb: reading the backends: %s",
			       strerror(-n));
	slots_of = calloc(TDM_LB_MAX_BACKENDS + 1, sizeof(*slots_of));
	flows_of = calloc(n + 1, sizeof(*flows_of));
	if (!slots_of || !flows_of) {
		free(b);
		free(slots_of);
		free(flows_of);
		return tdm_err(ctx, ENOMEM, "out of memory");
	}
	fd = tdm_nf_table_fd(ctx, &lb_slots, id);
	for (i = 0; fd >= 0 && i < lp.table; i++)
		if (!bpf_map_lookup_elem(fd, &i, &slot) &&
		    slot.backend < TDM_LB_MAX_BACKENDS)
			slots_of[slot.backend]++;
	if (fd >= 0)
		close(fd);
	now = tdm_mono_ns();
	fd = tdm_nf_table_fd(ctx, &lb_flows, id);
	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &e) || e.dir ||
		    e.expires <= now)
			continue;
		for (j = 0; j < (__u32)n; j++)
			if (!memcmp(&e.daddr, &b[j].k.addr, sizeof(e.daddr)) &&
			    (!b[j].k.port || e.dport == b[j].k.port))
				break;
		flows_of[j]++;
	}
	if (fd >= 0)
		close(fd);
	arr = json_object_new_array();
	for (i = 0; i < (__u32)n; i++) {
		struct json_object *o = json_object_new_object();
		char s[INET6_ADDRSTRLEN];

		tdm_addr_str(&b[i].k.addr, lp.family, s, sizeof(s));
		json_object_object_add(o, "addr", json_object_new_string(s));
		if (b[i].k.port)
			json_object_object_add(o, "port",
					       json_object_new_int(b[i].k.port));
		json_object_object_add(o, "weight",
				       json_object_new_int(b[i].v.weight));
		json_object_object_add(o, "state", json_object_new_string(
			b[i].v.state == TDM_LB_DRAINING ? "draining" : "up"));
		json_object_object_add(o, "slots", json_object_new_int64(
			b[i].v.index < TDM_LB_MAX_BACKENDS ?
			slots_of[b[i].v.index] : 0));
		json_object_object_add(o, "flows",
				       json_object_new_int64(flows_of[i]));
		json_object_array_add(arr, o);
	}
	*out = json_object_new_object();
	json_object_object_add(*out, "nf", json_object_new_string(name));
	json_object_object_add(*out, "table", json_object_new_int64(lp.table));
	json_object_object_add(*out, "backends", arr);
	free(b);
	free(slots_of);
	free(flows_of);
	return 0;
}

static void lb_show_print(struct json_object *o, FILE *f)
{
	struct json_object *arr = json_object_object_get(o, "backends");
	size_t i;

	fprintf(f, "%-40s %6s %6s %-9s %8s %8s\n", "BACKEND", "PORT", "WEIGHT",
		"STATE", "SLOTS", "FLOWS");
	for (i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);

		fprintf(f, "%-40s %6s %6s %-9s %8s %8s\n", tdm_json_str(r, "addr"),
			json_object_object_get(r, "port") ? tdm_json_str(r, "port") : "-",
			tdm_json_str(r, "weight"), tdm_json_str(r, "state"), tdm_json_str(r, "slots"),
			tdm_json_str(r, "flows"));
	}
}

static const struct arg lb_nf_args[] = {
	{ .meta = "NF", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the lb NF" },
	{}
};

static const struct arg lb_add_args[] = {
	{ .meta = "NF", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the lb NF" },
	{ .meta = "ADDR", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the backend's address, of the vip's family",
	  .what = "backend address" },
	{ .name = "port", .meta = "PORT", .type = ARG_NUM, .min = 1,
	  .max = 65535, .help = "its port (default: the packet's)" },
	{ .name = "weight", .meta = "W", .type = ARG_NUM, .min = 1,
	  .max = LB_MAX_WEIGHT, .help = "its share of new flows (default 1)" },
	{}
};

static const struct arg lb_backend_args[] = {
	{ .meta = "NF", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the lb NF" },
	{ .meta = "ADDR", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the backend's address", .what = "backend address" },
	{ .name = "port", .meta = "PORT", .type = ARG_NUM, .min = 1,
	  .max = 65535, .help = "its port, if it was added with one" },
	{}
};

static const struct tdm_nf_command lb_cmds[] = {
	{ "add", NULL, lb_add_args, "add a backend: new flows go to it",
	  true, lb_add_run, NULL },
	{ "del", "delete", lb_backend_args,
	  "delete a backend: its flows go to others at their next packet",
	  true, lb_del_run, NULL },
	{ "drain", NULL, lb_backend_args,
	  "no new flows to a backend; its flows stay", true, lb_drain_run,
	  NULL },
	{ "enable", NULL, lb_backend_args,
	  "new flows to a drained backend again", true, lb_enable_run, NULL },
	{ "show", "list", lb_nf_args,
	  "an lb's backends: weight, state, slots of the table, live flows",
	  false, lb_show_run, lb_show_print },
	{}
};

static const struct tdm_nf_object lb_object = {
	.name = "lb",
	.summary = "load balancer backends",
	.cmds = lb_cmds,
	.notes = "New flows pick a backend by Maglev hashing; a flow keeps its\n"
		 "backend while it lives, even when the backends change.\n",
};

static const char *const lb_drops[TDM_LB_DROP_MAX] = {
	[TDM_LB_DROP_NO_BACKEND] = "no_backend",
	[TDM_LB_DROP_BUSY] = "tuple_busy",
	[TDM_LB_DROP_TRUNC] = "truncated",
	[TDM_LB_DROP_FRAG] = "fragment_untranslated",
	[TDM_LB_DROP_TTL] = "ttl_exceeded",
	[TDM_LB_DROP_ROOM] = "no_headroom",
};

const struct tdm_nf_ops tdm_nf_lb = {
	.summary = "L4 load balancer: Maglev hashing, destination NAT or IP in IP (DSR)",
	.help = "lb: put the same NF in the chains of the devices clients and\n"
		"backends are on; add backends with 'tandem lb add NF ADDR'.\n"
		"  vip ADDR        the virtual address clients connect to\n"
		"  proto tcp|udp   the protocol balanced\n"
		"  port PORT       its port (default: every port)\n"
		"  table PRIME     Maglev's slots (default 65537; at least\n"
		"                  100 x the backends, a prime)\n"
		"  size N          flow table entries, two a flow (default 65536)\n"
		"  forward dnat    rewrite the destination to the backend's; the\n"
		"                  replies come back through the NF (default)\n"
		"  forward encap   IP in IP (IPv6 in IPv6) to the backend, which\n"
		"                  decapsulates it and answers the client itself\n"
		"                  (direct server return)\n"
		"  source ADDR     encap: the outer header's source\n"
		"  Example: tandem nf add web lb vip 198.51.100.10 proto tcp port 80\n"
		"           tandem lb add web 10.0.1.1 weight 2\n"
		"           tandem nf add dsr lb vip 198.51.100.11 proto udp \\\n"
		"                   forward encap source 10.0.0.1\n",
	.params = lb_params,
	.parse = lb_parse, .format = lb_format,
	.create = lb_create, .destroy = lb_destroy,
	.params_fixed = true,
	.object = &lb_object,
	.drops = lb_drops,
};
