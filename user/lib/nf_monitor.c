// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * monitor, the library half (bpf/nf_monitor.bpf.c): its flow table (an
 * LRU hash of the size its parameters name, in tdm_monitor_tables[id],
 * pinned as tdm_monitor_<id>), the flows read for `tandem top`, a
 * capture's ring for `tandem capture`, and `tandem monitor show|flush`.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "internal.h"
#include "grammar.h"

static const struct tdm_nf_param monitor_params[] = {
	{ "size", "N" },
	{}
};

static int monitor_parse(union tdm_nf_params *p, const char *const *vals,
			 char *err, size_t errlen)
{
	struct tdm_monitor_params *mp = TDM_NF_PARAMS(p, monitor);
	__u64 v = TDM_MONITOR_DEFAULT_SIZE;

	if (vals[0] && tdm_parse_uint(vals[0], 64, TDM_MONITOR_MAX_SIZE, &v)) {
		snprintf(err, errlen,
			 "monitor: bad size '%s' (expected flows, 64-%u)",
			 vals[0], TDM_MONITOR_MAX_SIZE);
		return -EINVAL;
	}
	mp->size = v;
	return 0;
}

static void monitor_format(const union tdm_nf_params *p, char *buf,
			   size_t size)
{
	snprintf(buf, size, "size %u", TDM_NF_PARAMS(p, monitor)->size);
}

static const struct tdm_nf_table monitor_table = {
	.nf = "monitor", .outer = "tdm_monitor_tables",
	.pin_prefix = "tdm_monitor_", .map_name = "tdm_monitor",
	.type = BPF_MAP_TYPE_LRU_HASH,
	.key_type = "tdm_monitor_key", .value_type = "tdm_monitor_flow",
	.key_size = sizeof(struct tdm_monitor_key),
	.value_size = sizeof(struct tdm_monitor_flow),
};

static int monitor_create(struct tdm_ctx *ctx, __u32 id,
			  union tdm_nf_params *p)
{
	const struct tdm_monitor_params *mp = TDM_NF_PARAMS(p, monitor);

	return tdm_nf_table_create(ctx, &monitor_table, id,
				   mp->size ?: TDM_MONITOR_DEFAULT_SIZE);
}

/* The NF's capture ends with it: its reader sees the ring gone. */
static void monitor_destroy(struct tdm_ctx *ctx, __u32 id)
{
	struct tdm_monitor_capture c = {};
	__u64 zero = 0;

	bpf_map_delete_elem(tdm_map_fd(ctx, "tdm_monitor_rings"), &id);
	bpf_map_update_elem(tdm_map_fd(ctx, "tdm_monitor_beats"), &id, &zero,
			    BPF_ANY);
	bpf_map_update_elem(tdm_map_fd(ctx, "tdm_monitor_captures"), &id, &c,
			    BPF_ANY);
	tdm_nf_table_destroy(ctx, &monitor_table, id);
}

/* id of the monitor NF called name, or -errno with the error set */
static int monitor_of(struct tdm_ctx *ctx, const char *name)
{
	struct tdm_nf_info info;
	int id = tdm_nf_lookup(ctx, name, &info);

	if (id < 0)
		return id;
	if (info.type != TDM_NF_MONITOR)
		return tdm_err(ctx, EINVAL, "NF '%s' is not a monitor", name);
	return id;
}

/* ---- flows ---- */

/* Append the flows of monitor id to *v (*n of *cap entries) */
static int flows_read(struct tdm_ctx *ctx, __u32 id, const char *name,
		      struct tdm_flow **v, size_t *n, size_t *cap)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), count, batch, i;
	struct tdm_monitor_key *keys = NULL;
	struct tdm_monitor_flow *vals = NULL;
	bool first = true;
	int fd, err = 0;

	fd = tdm_nf_table_fd(ctx, &monitor_table, id);
	if (fd < 0)
		return tdm_err(ctx, -fd, "monitor '%s' has no table: %s", name,
			       strerror(-fd));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = tdm_err(ctx, errno, "monitor '%s': its table: %s", name,
			      strerror(errno));
		goto out;
	}
	/* a batch ends at a bucket's end: room for the whole table */
	keys = calloc(info.max_entries, sizeof(*keys));
	vals = calloc(info.max_entries, sizeof(*vals));
	if (!keys || !vals) {
		err = tdm_err(ctx, ENOMEM, "monitor '%s': %s", name,
			      strerror(ENOMEM));
		goto out;
	}
	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		int r;

		count = info.max_entries;
		r = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch,
					 keys, vals, &count, &opts);
		if (r && errno != ENOENT) {
			err = tdm_err(ctx, errno, "monitor '%s': reading its flows: %s",
				      name, strerror(errno));
			break;
		}
		first = false;
		if (*n + count > *cap) {
			size_t nc = (*n + count) * 2;
			struct tdm_flow *nv = realloc(*v, nc * sizeof(*nv));

			if (!nv) {
				err = tdm_err(ctx, ENOMEM, "monitor '%s': %s",
					      name, strerror(ENOMEM));
				break;
			}
			*v = nv;
			*cap = nc;
		}
		for (i = 0; i < count; i++) {
			(*v)[*n].nf_id = id;
			(*v)[*n].key = keys[i];
			(*v)[*n].flow = vals[i];
			(*n)++;
		}
		if (r)		/* ENOENT: that was the last batch */
			break;
	}
out:
	free(keys);
	free(vals);
	close(fd);
	return err;
}

int tdm_monitor_flows(struct tdm_ctx *ctx, const char *name,
		      struct tdm_flow **flows, size_t *n)
{
	struct tdm_nf_info info;
	size_t cap = 0;
	int id, err = 0;

	*flows = NULL;
	*n = 0;
	if (name) {
		id = monitor_of(ctx, name);
		err = id < 0 ? id : flows_read(ctx, id, name, flows, n, &cap);
	} else {
		for (id = 0; id < TDM_MAX_NFS && !err; id++)
			if (!tdm_nf_get(ctx, id, &info) &&
			    info.type == TDM_NF_MONITOR)
				err = flows_read(ctx, id, info.name, flows, n,
						 &cap);
	}
	if (err) {
		free(*flows);
		*flows = NULL;
		*n = 0;
	}
	return err;
}

/* ---- captures ---- */

struct tdm_capture {
	struct tdm_ctx *ctx;
	__u32 nf_id;
	int ring_fd;
	__u32 ring_id;			/* the kernel's id of our ring */
	struct ring_buffer *rb;
	tdm_capture_fn *fn;
	void *arg;
	bool stop;			/* fn asked to stop */
	int handled;			/* records handed to fn this poll */
	__u64 bad;			/* records too short for their header */
	__u64 sampled, lost;		/* the counts, as last read */
	__u32 rings_id;			/* tdm_monitor_rings' id: still pinned? */
};

/* Records one poll hands over at most: it returns, and beats, between */
#define CAPTURE_ROUND	4096

/* The id of the ring in NF id's slot (0: none) */
static __u32 slot_ring(int rings, __u32 id)
{
	__u32 ring_id = 0;

	if (bpf_map_lookup_elem(rings, &id, &ring_id))
		return 0;
	return ring_id;
}

/* The kernel's id of the map fd refers to; 0 if none */
static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id : 0;
}

/* Is the state we opened still the pinned one (not removed, rm -rf)? */
static bool state_pinned(const struct tdm_capture *cap)
{
	char path[512];
	bool same;
	int fd;

	snprintf(path, sizeof(path), "%s/tdm_monitor_rings", tdm_pin_root());
	fd = bpf_obj_get(path);
	same = map_id(fd) == cap->rings_id;
	if (fd >= 0)
		close(fd);
	return same;
}

/* now, in NF id's heartbeat: its reader lives */
static void beat(struct tdm_ctx *ctx, __u32 id)
{
	__u64 now = tdm_mono_ns();

	bpf_map_update_elem(tdm_map_fd(ctx, "tdm_monitor_beats"), &id, &now,
			    BPF_ANY);
}

static int on_record(void *arg, void *data, size_t size)
{
	struct tdm_capture *cap = arg;
	const struct tdm_monitor_sample *s = data;

	if (size < sizeof(*s) || s->caplen > size - sizeof(*s)) {
		cap->bad++;
		return 0;
	}
	cap->handled++;
	if (cap->fn(cap->arg, s, s + 1))
		cap->stop = true;
	/*
	 * Negative ends libbpf's round at once, this record consumed (a
	 * positive value does not, and under steady traffic the round
	 * would never end)
	 */
	return cap->stop || cap->handled >= CAPTURE_ROUND ? -ECANCELED : 0;
}

int tdm_capture_open(struct tdm_ctx *ctx, const char *name, __u32 snaplen,
		     __u32 sample, __u32 ring_bytes, struct tdm_capture **capp)
{
	int rings = tdm_map_fd(ctx, "tdm_monitor_rings");
	int caps = tdm_map_fd(ctx, "tdm_monitor_captures");
	int beats = tdm_map_fd(ctx, "tdm_monitor_beats");
	struct tdm_monitor_capture c = {};
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct tdm_capture *cap;
	__u64 last = 0;
	int id, err;

	*capp = NULL;
	/* room for two records of snaplen bytes (and 8 of the ring's own) */
	if (!snaplen || snaplen > TDM_MONITOR_SNAPLEN_MAX || !sample ||
	    (ring_bytes & (ring_bytes - 1)) ||
	    ring_bytes < 2 * (sizeof(struct tdm_monitor_sample) + snaplen + 8) ||
	    ring_bytes < 4096)
		return tdm_err(ctx, EINVAL,
			       "capture: snaplen 1-%u, sample 1 or more, a ring of a power of 2 bytes from 4096 that holds two frames",
			       TDM_MONITOR_SNAPLEN_MAX);
	id = monitor_of(ctx, name);
	if (id < 0)
		return id;
	if (rings < 0 || caps < 0 || beats < 0)
		return tdm_err(ctx, ENOENT, "capture: the monitor maps are missing");
	/*
	 * Another reader, alive: it beat within TDM_MONITOR_STALE_NS and
	 * its process is there (one killed is taken over at once; one
	 * stopped, or in another pid namespace, after 2 s)
	 */
	if (slot_ring(rings, id) && !bpf_map_lookup_elem(beats, &id, &last) &&
	    tdm_mono_ns() - last < TDM_MONITOR_STALE_NS &&
	    !bpf_map_lookup_elem(caps, &id, &c) &&
	    (!c.pid || !kill(c.pid, 0) || errno != ESRCH))
		return tdm_err(ctx, EBUSY,
			       "monitor '%s' is being captured already (pid %u)",
			       name, c.pid);
	cap = calloc(1, sizeof(*cap));
	if (!cap)
		return tdm_err(ctx, ENOMEM, "capture: %s", strerror(ENOMEM));
	cap->ctx = ctx;
	cap->nf_id = id;
	cap->ring_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "tdm_capture", 0,
				      0, ring_bytes, NULL);
	if (cap->ring_fd < 0) {
		err = tdm_err(ctx, errno, "capture: making a ring of %u bytes: %s",
			      ring_bytes, strerror(errno));
		goto fail;
	}
	if (bpf_obj_get_info_by_fd(cap->ring_fd, &info, &len)) {
		err = tdm_err(ctx, errno, "capture: its ring: %s",
			      strerror(errno));
		goto fail;
	}
	cap->ring_id = info.id;
	cap->rings_id = map_id(rings);
	cap->rb = ring_buffer__new(cap->ring_fd, on_record, cap, NULL);
	if (!cap->rb) {
		err = tdm_err(ctx, errno, "capture: mapping its ring: %s",
			      strerror(errno));
		goto fail;
	}
	/* the settings first: the datapath reads them once it sees a ring */
	memset(&c, 0, sizeof(c));
	c.snaplen = snaplen;
	c.sample = sample;
	c.pid = getpid();
	beat(ctx, id);
	if (bpf_map_update_elem(caps, &id, &c, BPF_ANY) ||
	    bpf_map_update_elem(rings, &id, &cap->ring_fd, BPF_ANY)) {
		err = tdm_err(ctx, errno, "capture: starting on '%s': %s", name,
			      strerror(errno));
		goto fail;
	}
	*capp = cap;
	return 0;
fail:
	if (cap->rb)
		ring_buffer__free(cap->rb);
	if (cap->ring_fd >= 0)
		close(cap->ring_fd);
	free(cap);
	return err;
}

/* The counts, while the NF's slot is ours (after, they are another's) */
static void counts_read(struct tdm_capture *cap, int rings)
{
	struct tdm_monitor_capture c;

	if (slot_ring(rings, cap->nf_id) == cap->ring_id &&
	    !bpf_map_lookup_elem(tdm_map_fd(cap->ctx, "tdm_monitor_captures"),
				 &cap->nf_id, &c)) {
		cap->sampled = c.sampled;
		cap->lost = c.lost;
	}
}

int tdm_capture_poll(struct tdm_capture *cap, int timeout_ms,
		     tdm_capture_fn *fn, void *arg)
{
	int rings = tdm_map_fd(cap->ctx, "tdm_monitor_rings"), r;

	cap->fn = fn;
	cap->arg = arg;
	cap->stop = false;
	cap->handled = 0;
	if (slot_ring(rings, cap->nf_id) == cap->ring_id)
		beat(cap->ctx, cap->nf_id);
	counts_read(cap, rings);
	r = ring_buffer__poll(cap->rb, timeout_ms);
	if (r == -ECANCELED || r == -EINTR)	/* fn, a full round, a signal */
		r = cap->handled;
	if (r < 0)
		return tdm_err(cap->ctx, -r, "capture: reading its ring: %s",
			       strerror(-r));
	if (cap->stop)
		return r;
	/* the NF went (its slot emptied), another took its place, or the
	 * whole state was removed */
	if (slot_ring(rings, cap->nf_id) != cap->ring_id ||
	    !state_pinned(cap)) {
		/* what it wrote before it went */
		cap->handled = 0;
		while (!cap->stop && ring_buffer__consume(cap->rb) == -ECANCELED)
			cap->handled = 0;
		return tdm_err(cap->ctx, ENOENT,
			       "capture: the monitor was deleted (or the whole state), or another capture took it over");
	}
	return r;
}

int tdm_capture_counts(struct tdm_capture *cap, __u64 *sampled, __u64 *lost)
{
	counts_read(cap, tdm_map_fd(cap->ctx, "tdm_monitor_rings"));
	*sampled = cap->sampled;
	*lost = cap->lost + cap->bad;
	return 0;
}

void tdm_capture_close(struct tdm_capture *cap)
{
	int rings;

	if (!cap)
		return;
	rings = tdm_map_fd(cap->ctx, "tdm_monitor_rings");
	/* only ours: the NF may have gone and its id been taken again */
	if (slot_ring(rings, cap->nf_id) == cap->ring_id)
		bpf_map_delete_elem(rings, &cap->nf_id);
	ring_buffer__free(cap->rb);
	close(cap->ring_fd);
	free(cap);
}

/* ---- its commands: tandem monitor show|flush ---- */

void tdm_flow_key_json(struct json_object *o, const struct tdm_monitor_key *k)
{
	char buf[INET6_ADDRSTRLEN + 8], num[8];
	int family = k->l3_proto == 0x0800 ? 4 : k->l3_proto == 0x86dd ? 6 : 0;

	if (!family) {
		snprintf(buf, sizeof(buf), "0x%04x", k->l3_proto);
		json_object_object_add(o, "ethertype",
				       json_object_new_string(buf));
		return;
	}
	json_object_object_add(o, "family", json_object_new_string(
		family == 4 ? "ipv4" : "ipv6"));
	json_object_object_add(o, "proto", json_object_new_string(
		tdm_proto_name(k->proto, num, sizeof(num))));
	tdm_addr_str(&k->saddr, family, buf, sizeof(buf));
	json_object_object_add(o, "src", json_object_new_string(buf));
	tdm_addr_str(&k->daddr, family, buf, sizeof(buf));
	json_object_object_add(o, "dst", json_object_new_string(buf));
	if (k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6) {
		json_object_object_add(o, "type",
				       json_object_new_int(k->icmp_type));
		/* echo request, reply: RFC 792, RFC 4443 */
		if (k->proto == IPPROTO_ICMP ? k->icmp_type == 8 ||
					       k->icmp_type == 0 :
					       k->icmp_type == 128 ||
					       k->icmp_type == 129)
			json_object_object_add(o, "id",
					       json_object_new_int(k->sport));
	} else if (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP ||
		   k->proto == IPPROTO_SCTP) {
		json_object_object_add(o, "sport", json_object_new_int(k->sport));
		json_object_object_add(o, "dport", json_object_new_int(k->dport));
	}
}

struct json_object *tdm_flow_json(struct tdm_ctx *ctx,
				  const struct tdm_flow *f, __u64 now)
{
	struct json_object *o = json_object_new_object();
	struct tdm_nf_info info;
	char dev[IF_NAMESIZE];

	json_object_object_add(o, "nf", json_object_new_string(
		tdm_nf_get(ctx, f->nf_id, &info) ? "?" : info.name));
	tdm_flow_key_json(o, &f->key);
	json_object_object_add(o, "packets",
			       json_object_new_int64(f->flow.packets));
	json_object_object_add(o, "bytes", json_object_new_int64(f->flow.bytes));
	json_object_object_add(o, "dev", json_object_new_string(
		if_indextoname(f->flow.ifindex, dev) ?: "?"));
	json_object_object_add(o, "idle_s", json_object_new_double(
		now > f->flow.last ? (now - f->flow.last) / 1e9 : 0));
	json_object_object_add(o, "age_s", json_object_new_double(
		now > f->flow.first ? (now - f->flow.first) / 1e9 : 0));
	return o;
}

static int monitor_show_run(struct tdm_ctx *ctx, const struct args *a,
			    struct json_object **out)
{
	const char *name = arg_str(a, "NF");
	struct tdm_flow *v;
	struct json_object *arr;
	__u64 now;
	size_t n, i;
	int err;

	err = tdm_monitor_flows(ctx, name, &v, &n);
	if (err)
		return err;
	now = tdm_mono_ns();
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, tdm_flow_json(ctx, &v[i], now));
	free(v);
	*out = json_object_new_object();
	json_object_object_add(*out, "nf", json_object_new_string(name));
	json_object_object_add(*out, "flows", arr);
	return 0;
}

static void monitor_show_print(struct json_object *o, FILE *f)
{
	struct json_object *arr = json_object_object_get(o, "flows");
	size_t i;

	fprintf(f, "%-6s %-47s %-47s %10s %12s\n", "PROTO", "SOURCE",
		"DESTINATION", "PACKETS", "BYTES");
	for (i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);
		char s[80], d[80];

		tdm_flow_ends(r, s, sizeof(s), d, sizeof(d));
		fprintf(f, "%-6s %-47s %-47s %10s %12s\n",
			json_object_object_get(r, "proto") ?
			tdm_json_str(r, "proto") : tdm_json_str(r, "ethertype"),
			s, d, tdm_json_str(r, "packets"),
			tdm_json_str(r, "bytes"));
	}
}

void tdm_flow_ends(struct json_object *r, char *s, size_t ssize, char *d,
		   size_t dsize)
{
	bool v6 = !strcmp(tdm_json_str(r, "family"), "ipv6");

	if (!json_object_object_get(r, "family")) {
		snprintf(s, ssize, "-");
		snprintf(d, dsize, "-");
	} else if (json_object_object_get(r, "sport")) {
		snprintf(s, ssize, "%s%s%s:%s", v6 ? "[" : "",
			 tdm_json_str(r, "src"), v6 ? "]" : "",
			 tdm_json_str(r, "sport"));
		snprintf(d, dsize, "%s%s%s:%s", v6 ? "[" : "",
			 tdm_json_str(r, "dst"), v6 ? "]" : "",
			 tdm_json_str(r, "dport"));
	} else if (json_object_object_get(r, "id")) {
		snprintf(s, ssize, "%s id %s", tdm_json_str(r, "src"),
			 tdm_json_str(r, "id"));
		snprintf(d, dsize, "%s", tdm_json_str(r, "dst"));
	} else if (json_object_object_get(r, "type")) {
		snprintf(s, ssize, "%s type %s", tdm_json_str(r, "src"),
			 tdm_json_str(r, "type"));
		snprintf(d, dsize, "%s", tdm_json_str(r, "dst"));
	} else {
		snprintf(s, ssize, "%s", tdm_json_str(r, "src"));
		snprintf(d, dsize, "%s", tdm_json_str(r, "dst"));
	}
}

static int monitor_flush_run(struct tdm_ctx *ctx, const struct args *a,
			     struct json_object **out)
{
	int id = monitor_of(ctx, arg_str(a, "NF"));

	if (id < 0)
		return id;
	return tdm_nf_table_flush(ctx, &monitor_table, id, arg_str(a, "NF"));
}

static const struct arg monitor_nf_args[] = {
	{ .meta = "NF", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the monitor NF" },
	{}
};

static const struct tdm_nf_command monitor_cmds[] = {
	{ "show", "list", monitor_nf_args,
	  "a monitor's flows: tuple, packets and bytes since each began",
	  false, monitor_show_run, monitor_show_print },
	{ "flush", NULL, monitor_nf_args, "forget every flow (counts start again)",
	  true, monitor_flush_run, NULL },
	{}
};

static const struct tdm_nf_object monitor_object = {
	.name = "monitor",
	.summary = "the flows a monitor NF counts",
	.cmds = monitor_cmds,
	.notes = "A flow is one way of a connection. `tandem top` shows the busiest,\n"
		 "with their rates; `tandem capture` copies their frames.\n",
};

static const char *const monitor_drops[TDM_MONITOR_DROP_MAX] = {};

const struct tdm_nf_ops tdm_nf_monitor = {
	.summary = "counts flows (tandem top), copies frames (tandem capture)",
	.help = "monitor: counts the packets and bytes of each flow (one way of\n"
		"a connection) in an LRU table, and copies frames to `tandem\n"
		"capture` while one runs. It never drops or changes a frame.\n"
		"  size N            flows in its table (default 65536); the least\n"
		"                    recently seen goes when it is full\n"
		"  Example: tandem nf add mon monitor\n"
		"           tandem top mon; tandem capture mon count 10 -w a.pcap\n",
	.params = monitor_params,
	.parse = monitor_parse, .format = monitor_format,
	.create = monitor_create, .destroy = monitor_destroy,
	.params_fixed = true,
	.object = &monitor_object,
	.drops = monitor_drops,
};
