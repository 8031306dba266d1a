/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libtandem: every operation on tandem's pinned state. The CLI and the
 * daemon are thin front ends over these calls.
 *
 * Conventions: functions return 0 or a negative errno; on error a one-line
 * message naming what is wrong is in tdm_errmsg(). A failed call changes
 * nothing. A struct tdm_ctx holds the state lock from tdm_open() to
 * tdm_close(), so concurrent users are serialised.
 */
#ifndef TANDEM_LIBTANDEM_H
#define TANDEM_LIBTANDEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <tandem/tandem.h>
#include <tandem/sched.h>
#include "nf_list.h"	/* generated: the NF types' declarations */

#define TDM_PIN_ROOT_DEFAULT	"/sys/fs/bpf/tandem"

struct tdm_ctx;

/* ---- context ---- */
enum tdm_open_flags {
	/* a shared lock: for commands that only read. The pins are still
	 * created if missing (an empty state). */
	TDM_OPEN_READONLY = 1 << 0,
};

/*
 * Open the state in the pin directory (tdm_pin_root()), making it and
 * its maps on first use, and take its lock: shared with
 * TDM_OPEN_READONLY, else exclusive. Errors (message in
 * tdm_open_errmsg()): -EPERM without the capabilities tandem needs (then
 * nothing was made), or for a pin directory, a directory above it or a
 * pin that is not root's or that others may use (see tandem(8), PIN
 * DIRECTORY); -ETIMEDOUT if the lock is still held by others after
 * TANDEM_LOCK_TIMEOUT seconds (default 10), naming them; -EINVAL for a
 * bad TANDEM_LOCK_TIMEOUT; -EPROTO for pins of another ABI version.
 */
int tdm_open(struct tdm_ctx **ctxp, unsigned int flags);
void tdm_close(struct tdm_ctx *ctx);
/* Let others at the state for a while (a long-running reader between
 * reads), and take the lock again as tdm_open() took it, with the same
 * bounded wait and errors (-ETIMEDOUT, -EINVAL). */
void tdm_unlock(struct tdm_ctx *ctx);
int tdm_relock(struct tdm_ctx *ctx);
const char *tdm_errmsg(const struct tdm_ctx *ctx);
/* Error message for a failed tdm_open (no context exists then). */
const char *tdm_open_errmsg(void);
const char *tdm_pin_root(void);
/* Wait until no program still runs with map contents older than now. */
int tdm_sync(struct tdm_ctx *ctx);

/* ---- text <-> structs (no context needed) ---- */
/*
 * Every number: decimal digits only (no blank, sign or 0x), no overflow.
 * tdm_parse_uint wants the whole string and min <= value <= max (-ERANGE
 * if not); tdm_parse_digits reads the leading digits and points *end
 * past them, for numbers with a unit.
 */
int tdm_parse_uint(const char *s, __u64 min, __u64 max, __u64 *v);
int tdm_parse_digits(const char *s, __u64 *v, const char **end);
/* Seconds as decimal digits with up to three decimals ("0.1", "10"),
 * in milliseconds, at most max_ms (-ERANGE if more). */
int tdm_parse_millis(const char *s, __u64 max_ms, __u64 *ms);
/*
 * A prefix is IPv4 (a.b.c.d[/N], stored as ::ffff:a.b.c.d/96+N, family 4)
 * or IPv6 (family 6, also for ::/0). One inside ::ffff:0:0/96 is refused:
 * an IPv4 rule is written in IPv4.
 */
int tdm_parse_prefix(const char *s, struct tdm_addr *net,
		     struct tdm_addr *mask, __u8 *len, __u8 *family,
		     char *err, size_t errlen);
/*
 * One address, no prefix: IPv4 (stored mapped, ::ffff:a.b.c.d) or IPv6;
 * its family, 4 or 6, or 0 if s is no address (or an IPv6 one inside
 * ::ffff:0:0/96: an IPv4 address is written in IPv4).
 */
int tdm_parse_addr(const char *s, struct tdm_addr *a);
/* a as text (family 4: its mapped IPv4 address), INET6_ADDRSTRLEN bytes */
void tdm_addr_str(const struct tdm_addr *a, __u8 family, char *buf,
		  size_t size);
int tdm_parse_ports(const char *s, __u16 *lo, __u16 *hi, char *err,
		    size_t errlen);
int tdm_parse_proto(const char *s, __u8 *proto, char *err, size_t errlen);

/*
 * A match is read as one whole: tdm_match_begin, then tdm_match_word for
 * each "KEY VALUE" (src, dst, proto, sport, dport; each once, in any
 * order, other words may come between), then tdm_match_end, which does
 * the checks across words (ports need tcp/udp/sctp; one family) and sets
 * the family. All return 0 or -EINVAL with a message in err.
 */
struct tdm_match_parser {
	__u8 fam[2];			/* of src and dst */
	unsigned int seen;		/* keywords given */
	/*
	 * src @NAME, dst @NAME: the address sets named (without the '@'),
	 * "" for none. The parser has no state to look them up in: the
	 * match's fields on that side stay empty, and whoever takes the
	 * match resolves the names (tdm_rule_add(), struct tdm_rule_spec)
	 * or refuses them (steering).
	 */
	char sets[2][TDM_NAME_LEN];	/* of src and dst */
};
bool tdm_match_keyword(const char *key);
void tdm_match_begin(struct tdm_match *m, struct tdm_match_parser *mp);
int tdm_match_word(struct tdm_match *m, struct tdm_match_parser *mp,
		   const char *key, const char *val, char *err, size_t errlen);
int tdm_match_end(struct tdm_match *m, struct tdm_match_parser *mp,
		  char *err, size_t errlen);
/* All of argv[] from the start that are match words, as one match;
 * returns how many words it used, or -EINVAL (also for a set, @NAME:
 * use tdm_match_word() to take those). */
int tdm_parse_match(int argc, char **argv, struct tdm_match *m, char *err,
		    size_t errlen);
/*
 * A match as text, the words tdm_parse_match reads back to the same
 * struct (family included: a family set by a zero-length prefix shows as
 * src ::/0). Empty fields are "", family is "ipv4", "ipv6" or "any".
 */
struct tdm_match_text {
	char src[64], dst[64], proto[16], sport[16], dport[16];
	char state[48];			/* "new,established"; "" any */
	const char *family;
};
void tdm_match_text(const struct tdm_match *m, struct tdm_match_text *t);
/* A mask of 1 << enum tdm_ct_state as "new,established" ("" for 0) */
void tdm_format_states(__u8 mask, char *buf, size_t size);
/* "src P dst P proto X sport A-B dport C-D", only the parts set; "any" */
const char *tdm_format_match(const struct tdm_match *m, char *buf,
			     size_t size);
/*
 * The names and families of the address sets, by id (v[0] unused), for
 * formatting matches that name sets: tdm_set_names() fills it from the
 * state. A set not in it (name "") shows as @#ID, which no command
 * reads back. About 9 KiB: allocate it.
 */
struct tdm_set_names {
	struct {
		char name[TDM_NAME_LEN];	/* "": no such set */
		__u8 family;			/* 0 inet, 4, 6 */
		__u16 flags;			/* enum tdm_set_flags */
	} v[TDM_MAX_SETS + 1];
};
/* As above, with the sets of m named from names (NULL: as @#ID) */
void tdm_match_text_sets(const struct tdm_match *m,
			 const struct tdm_set_names *names,
			 struct tdm_match_text *t);
const char *tdm_format_match_sets(const struct tdm_match *m,
				  const struct tdm_set_names *names,
				  char *buf, size_t size);
void tdm_match_init(struct tdm_match *m);
int tdm_format_prefix(const struct tdm_addr *a, __u8 len, char *buf,
		      size_t size);
const char *tdm_proto_name(__u8 proto, char *buf, size_t size);
const char *tdm_action_name(__u32 action);
int tdm_parse_action(const char *s, __u32 *action);

/* ---- NF types ---- */
struct tdm_nf_type;
const struct tdm_nf_type *tdm_nf_type_by_name(const char *name);
const struct tdm_nf_type *tdm_nf_type_by_id(__u32 id);
const struct tdm_nf_type *tdm_nf_type_at(int i);	/* NULL past end */
const char *tdm_nf_type_name(const struct tdm_nf_type *t);
const char *tdm_nf_type_summary(const struct tdm_nf_type *t);
/* Its parameters cannot change once it is added (an apply refuses) */
bool tdm_nf_type_fixed(const struct tdm_nf_type *t);
const char *tdm_nf_type_usage(const struct tdm_nf_type *t);
__u32 tdm_nf_type_id(const struct tdm_nf_type *t);	/* enum tdm_nf_type_id */
/* More on the type's parameters, for help: lines ending in '\n', or "" */
const char *tdm_nf_type_help(const struct tdm_nf_type *t);
/*
 * The name of drop reason (index into struct tdm_nf_stats.drops) of an
 * NF of type: "missed" for TDM_DROP_MISSED, the type's own from
 * TDM_DROP_NF on; NULL past the type's last. Loop until NULL.
 */
const char *tdm_nf_drop_name(__u32 type, int reason);
/* JSON of match m into object o: family, src, dst, proto, sport, dport,
 * as the text has them ("any" where not set) */
struct json_object;
void tdm_json_match(struct json_object *o, const struct tdm_match *m);
/* The same, src and dst of a set as "@NAME" (names: see above) */
void tdm_json_match_sets(struct json_object *o, const struct tdm_match *m,
			 const struct tdm_set_names *names);
/* "rate 1000pps burst 100"-style description of an instance's params */
void tdm_nf_params_format(const struct tdm_nf_info *nf, char *buf,
			  size_t size);

/* ---- NF instances ---- */
int tdm_nf_add(struct tdm_ctx *ctx, const char *name, const char *type,
	       int argc, char **argv);
int tdm_nf_del(struct tdm_ctx *ctx, const char *name);
/* id of the NF called name, or -ENOENT */
int tdm_nf_lookup(struct tdm_ctx *ctx, const char *name,
		  struct tdm_nf_info *info);
int tdm_nf_get(struct tdm_ctx *ctx, __u32 id, struct tdm_nf_info *info);

/* ---- process NFs (user/lib/nf_process.c) ---- */
/*
 * The command line of process NF id (its arguments joined by single
 * spaces), into buf ("" if it has none): 0, -ENOSPC (buf too small) or
 * -errno.
 */
int tdm_nf_cmd_get(struct tdm_ctx *ctx, __u32 id, char *buf, size_t size);
/* The queue counters of process NF id (struct tdm_nf_queue): 0 or -errno */
int tdm_nf_queue_get(struct tdm_ctx *ctx, __u32 id, struct tdm_nf_queue *q);
/* A queue's backlog in frames: handed - consumed - ring drops, >= 0 */
__u64 tdm_nf_queue_backlog(const struct tdm_nf_queue *q);
/* Is the process that last opened the NF's socket alive? (q->pid) */
bool tdm_nf_queue_up(const struct tdm_nf_queue *q);
/*
 * Map the queues of all process NFs (tdm_nf_queues, TDM_MAX_NFS entries
 * indexed by nf_id) read-write into memory, for a scheduler that reads
 * them every millisecond without a syscall; the mapping outlives ctx.
 * NULL on error (message in ctx). Write only the weight field, with
 * __atomic_store_n: the datapath and the NF processes write the rest.
 */
struct tdm_nf_queue *tdm_nf_queues_map(struct tdm_ctx *ctx);
void tdm_nf_queues_unmap(struct tdm_nf_queue *q);

/* ---- monitor NFs: flows and captures (user/lib/nf_monitor.c) ---- */
/* A flow of monitor NF nf_id: one way of a connection (tdm_monitor_key) */
struct tdm_flow {
	__u32 nf_id;
	struct tdm_monitor_key key;
	struct tdm_monitor_flow flow;	/* packets, bytes, first/last seen */
};
/*
 * Every flow of monitor name (NULL: of every monitor NF), in no order,
 * into *flows (free() it; NULL when there are none) and *n. 0 or -errno:
 * ENOENT (no such NF), EINVAL (not a monitor), ENOMEM.
 */
int tdm_monitor_flows(struct tdm_ctx *ctx, const char *name,
		      struct tdm_flow **flows, size_t *n);
/* Flow f as JSON: nf, family, proto, src, dst, sport/dport or id (or
 * ethertype for frames that are not IP), packets, bytes, dev (of its
 * last packet), idle_s and age_s at now (ns, CLOCK_MONOTONIC) */
struct json_object *tdm_flow_json(struct tdm_ctx *ctx,
				  const struct tdm_flow *f, __u64 now);
/* The fields of key k alone, added to object o */
void tdm_flow_key_json(struct json_object *o, const struct tdm_monitor_key *k);
/* Its two ends as text: "10.0.0.1:5000", "[2001:db8::1]:53",
 * "10.0.0.1 id 7"; "-" for frames that are not IP */
void tdm_flow_ends(struct json_object *flow, char *src, size_t ssize,
		   char *dst, size_t dsize);

/*
 * A capture of monitor name's frames: a BPF ring of ring_bytes (a power
 * of 2, at least 4096, room for two frames of snaplen) the datapath
 * copies 1 frame in sample (at random; 1: all) into, snaplen bytes of
 * each (1-TDM_MONITOR_SNAPLEN_MAX). One capture an NF at a time: EBUSY
 * while another reader beats (polls at least every 2 s,
 * TDM_MONITOR_STALE_NS); one silent longer is taken over, and the
 * datapath copies nothing for it meanwhile. Needs the exclusive lock to
 * start and to close; polling does not (a reader may tdm_unlock() in
 * between). 0 or -errno (ENOENT, EINVAL, EBUSY, ENOMEM, and the
 * kernel's for the ring).
 */
struct tdm_capture;
/* Called with each record and the frame's first s->caplen bytes;
 * nonzero: that frame is the last this poll hands over */
typedef int tdm_capture_fn(void *arg, const struct tdm_monitor_sample *s,
			   const void *frame);
int tdm_capture_open(struct tdm_ctx *ctx, const char *name, __u32 snaplen,
		     __u32 sample, __u32 ring_bytes, struct tdm_capture **cap);
/*
 * Wait up to timeout_ms (-1: for ever) for frames, fn for each, at most
 * 4096 a call: the number handled, or -errno (ENOENT: the NF was
 * deleted or another capture took it over; its last frames were handed
 * first). A signal ends the wait early.
 */
int tdm_capture_poll(struct tdm_capture *cap, int timeout_ms,
		     tdm_capture_fn *fn, void *arg);
/* Frames chosen so far, and those lost (the ring full, or unreadable),
 * as last read while the capture held the NF */
int tdm_capture_counts(struct tdm_capture *cap, __u64 *sampled, __u64 *lost);
/* Stop: the datapath copies no more (its ring leaves the NF's slot) */
void tdm_capture_close(struct tdm_capture *cap);

/* ---- firewall rules ---- */
/*
 * A firewall rule to add: m as the parser gave it; src_set and dst_set
 * the names of the address sets the rule matches (a match word's
 * src @NAME, struct tdm_match_parser's sets), "" for none.
 * tdm_rule_add() looks them up (ENOENT if one does not exist), fills
 * m's set fields and checks the sets' families against the rest of the
 * match (EINVAL if they mix IPv4 and IPv6).
 */
struct tdm_rule_spec {
	__u32 prio;
	__u32 action;
	struct tdm_match m;
	char src_set[TDM_NAME_LEN];
	char dst_set[TDM_NAME_LEN];
};
int tdm_rule_add(struct tdm_ctx *ctx, const char *nf,
		 const struct tdm_rule_spec *spec, __u32 *id);
int tdm_rule_del(struct tdm_ctx *ctx, const char *nf, __u32 id);

/*
 * A firewall's rules as the library hands them out and takes them in:
 * v[0..n) in (prio, id) order (up to TDM_FW_MAX_RULES), the default
 * action, and how the datapath looks them up (mode: enum tdm_fw_mode;
 * ntuples: its tuples in TDM_FW_MODE_TUPLES). Zero it before first
 * use; tdm_fw_rules_free() frees v.
 */
struct tdm_fw_rules {
	struct tdm_fw_rule *v;
	__u32 n, cap;
	__u32 default_action;
	__u32 mode, ntuples;
};
/* Append r: 0 or -ENOMEM */
int tdm_fw_rules_push(struct tdm_fw_rules *rl, const struct tdm_fw_rule *r);
void tdm_fw_rules_free(struct tdm_fw_rules *rl);
/* Firewall nf's active rules into *rl (its old v is reused): 0 or -errno */
int tdm_rule_list(struct tdm_ctx *ctx, const char *nf,
		  struct tdm_fw_rules *rl);

/* ---- address sets (user/lib/sets.c, setcmd.c) ---- */
/*
 * Sets are global (no NF owns one): ids 1..TDM_MAX_SETS, names as NF
 * names. A plain set holds addresses, an interval set prefixes; a set's
 * family is 4 (ipv4), 6 (ipv6) or 0 (inet: both). Elements of all sets
 * share two maps of TDM_SET_MAX_ELEMS entries each (plain, interval).
 * All return -errno with the error set in ctx on failure.
 */
/* "ipv4", "ipv6" or "inet" */
const char *tdm_set_type_name(__u8 family);
/* Add set name, empty: its id; -EEXIST, -ENOSPC (TDM_MAX_SETS), -EINVAL */
int tdm_set_add(struct tdm_ctx *ctx, const char *name, __u8 family,
		__u16 flags);
/* Delete set name and its elements; -EBUSY while a firewall's active
 * rules match it, naming the firewall and rule */
int tdm_set_del(struct tdm_ctx *ctx, const char *name);
/* The id of set name and its record into *info; -ENOENT ("no set 'X'") */
int tdm_set_lookup(struct tdm_ctx *ctx, const char *name,
		   struct tdm_set_info *info);
/* Set id's record: 0, -ENOENT (no error message), -errno */
int tdm_set_get(struct tdm_ctx *ctx, __u32 id, struct tdm_set_info *info);
/* Every set's name and family, by id, for formatting matches */
int tdm_set_names(struct tdm_ctx *ctx, struct tdm_set_names *names);

/* An element: an address (len 128) or a prefix, in the 128-bit space
 * (IPv4 mapped, len 96 + N), of family 4 or 6. No padding: compared
 * with memcmp. */
struct tdm_set_elem {
	struct tdm_addr addr;		/* network order, masked to len */
	__u8 len;			/* 0..128 */
	__u8 family;			/* 4 or 6 */
	__u8 pad[2];
};
/* A list of elements: v[0..n). Zero it before use; free with
 * tdm_set_elems_free(). */
struct tdm_set_elems {
	struct tdm_set_elem *v;
	size_t n, cap;
};
int tdm_set_elems_push(struct tdm_set_elems *el, const struct tdm_set_elem *e);
void tdm_set_elems_free(struct tdm_set_elems *el);
/*
 * Text s (ADDR, or ADDR/LEN in an interval set) as an element of set:
 * 0, or -EINVAL with the message in err (a bad address, the other
 * family, a prefix in a plain set).
 */
int tdm_set_elem_parse(const struct tdm_set_info *set, const char *s,
		       struct tdm_set_elem *e, char *err, size_t errlen);
/* e as text that tdm_set_elem_parse() reads back (::/0, never "any") */
void tdm_set_elem_format(const struct tdm_set_elem *e, char *buf,
			 size_t size);
/*
 * Add (add true) or delete words[0..n) in set name, live. All are
 * checked before any is written: a bad one, or (delete) one not in the
 * set, changes nothing (-EINVAL, -ENOENT). Adding one already there is
 * no change. -ENOSPC if they do not fit (nothing changed).
 */
int tdm_set_elems_change(struct tdm_ctx *ctx, const char *name, bool add,
			 int n, char *const *words);
/*
 * Make set name's elements exactly those of file (one a line; '#' to the
 * end of a line is a comment; blank lines are skipped): what is new is
 * added first, then what is gone deleted, so an element in both is never
 * missing. The whole file is checked first: a bad line (-EINVAL,
 * "FILE:LINE: why") changes nothing. Plain sets are written in batches:
 * a million elements take a few seconds.
 */
int tdm_set_load(struct tdm_ctx *ctx, const char *name, const char *file);
/* Set name's record into *info and its elements, sorted, into *el (its
 * v reused): the set's id or -errno */
int tdm_set_elems_list(struct tdm_ctx *ctx, const char *name,
		       struct tdm_set_info *info, struct tdm_set_elems *el);

/* ---- chains ---- */
struct tdm_chain_spec {
	int nnfs;
	const char *nfs[TDM_MAX_CHAIN_NFS];
	__u32 action;
	const char *redirect_dev;
};
int tdm_chain_add(struct tdm_ctx *ctx, const char *name,
		  const struct tdm_chain_spec *spec);
int tdm_chain_replace(struct tdm_ctx *ctx, const char *name,
		      const struct tdm_chain_spec *spec);
int tdm_chain_del(struct tdm_ctx *ctx, const char *name);
int tdm_chain_lookup(struct tdm_ctx *ctx, const char *name,
		     struct tdm_chain_info *info);
int tdm_chain_get(struct tdm_ctx *ctx, __u32 id, struct tdm_chain_info *info);

/* ---- steering ---- */
struct tdm_steer_entry {
	__u32 id;
	__u32 prio;
	__u32 dev;			/* the device's slot */
	char dev_name[16];		/* its name now (as taken, if gone) */
	__u32 chain_id;
	bool exact;			/* in the 5-tuple table */
	struct tdm_match m;
};
int tdm_steer_add(struct tdm_ctx *ctx, const char *dev, __u32 prio,
		  const struct tdm_match *m, const char *chain, __u32 *id);
/* Many at once, all or nothing; their ids are *first_id, +1, ... */
struct tdm_steer_spec {
	__u32 prio;
	struct tdm_match m;
	const char *chain;
};
int tdm_steer_add_many(struct tdm_ctx *ctx, const char *dev,
		       const struct tdm_steer_spec *specs, int n,
		       __u32 *first_id);
int tdm_steer_del(struct tdm_ctx *ctx, const char *dev, __u32 id);
/* All entries of device dev (NULL: every device), sorted by device,
 * exact first, then (prio, id); caller frees *out. */
int tdm_steer_list(struct tdm_ctx *ctx, const char *dev,
		   struct tdm_steer_entry **out, int *n);

/* ---- devices ---- */
enum tdm_attach_mode {
	TDM_MODE_AUTO = 0,		/* native, else generic */
	TDM_MODE_NATIVE,
	TDM_MODE_GENERIC,
};
int tdm_dev_attach(struct tdm_ctx *ctx, const char *dev, const char *chain,
		   enum tdm_attach_mode mode, bool force);
int tdm_dev_detach(struct tdm_ctx *ctx, const char *dev);
/*
 * Where a device tandem knows is now. Its bpf_link (pinned at
 * links/dev_SLOT) follows the device through renames and namespace
 * moves and says when it is gone.
 */
enum tdm_dev_state {
	TDM_DEV_ATTACHED,		/* here, under name_now */
	TDM_DEV_DETACHED,		/* known (steering entries), no link */
	TDM_DEV_MOVED,			/* attached, moved to another netns */
	TDM_DEV_GONE,			/* attached when it was deleted */
	TDM_DEV_OTHER_NS,		/* taken in another netns: theirs */
};
struct tdm_dev_status {
	struct tdm_dev dev;		/* the record: name etc. as taken */
	enum tdm_dev_state state;
	char name_now[16];		/* "" unless here */
	__u32 ifindex_now;		/* 0 unless here */
	__u32 link_id;
	__u32 prog_id;
	bool attached;			/* state == TDM_DEV_ATTACHED */
	bool elsewhere;			/* taken in or moved to another netns */
	bool renamed;			/* here under another name */
};
int tdm_dev_list(struct tdm_ctx *ctx, struct tdm_dev_status **out, int *n);
const char *tdm_mode_name(__u32 xdp_flags);
/* "attached", "detached", "moved", "gone", "other-ns": dev show's words */
const char *tdm_dev_state_name(enum tdm_dev_state s);

/* ---- statistics (summed over CPUs) ---- */
int tdm_stats_nf(struct tdm_ctx *ctx, __u32 id, struct tdm_nf_stats *st);
int tdm_stats_chain(struct tdm_ctx *ctx, __u32 id,
		    struct tdm_chain_stats *st);
int tdm_stats_dev(struct tdm_ctx *ctx, __u32 slot, struct tdm_dev_stats *st);

/* ---- policy files (policy.c: text; apply.c: the change) ---- */
/*
 * A policy file is the CLI's grammar, one command per line without the
 * leading "tandem": set add, set element add, set load (a relative file
 * is the policy file's directory's), nf add, rule add, chain add, dev
 * attach, steer add.
 * "#" starts a comment (at the start of a word), a "\" at the end of a
 * line continues it. It says what should exist; tdm_policy_apply() makes
 * the running state equal to it. Documentation/policy.rst.
 */
struct tdm_policy;

/* Limits of a policy text: bigger ones are refused (-EFBIG). */
#define TDM_POLICY_MAX_BYTES	(64u << 20)
#define TDM_POLICY_MAX_WORDS	64	/* in one command */

/*
 * Read a policy from text[0..len) (need not end in NUL; a NUL byte is an
 * error). name is the file's name in errors. 0, or -EINVAL (-ENOMEM,
 * -EFBIG) with one line in err: "NAME:LINE:COL: 'WORD': PROBLEM". Only
 * the text is checked: names, numbers, references between lines,
 * duplicates, limits. Nothing is read from the system.
 */
int tdm_policy_parse(const char *name, const char *text, size_t len,
		     struct tdm_policy **out, char *err, size_t errlen);
/* tdm_policy_parse() of the file at path ("-": stdin); -errno if it
 * cannot be read. */
int tdm_policy_load(const char *path, struct tdm_policy **out, char *err,
		    size_t errlen);
void tdm_policy_free(struct tdm_policy *p);
/* Does p hold no command (an empty file, or only comments)? */
bool tdm_policy_empty(const struct tdm_policy *p);

/*
 * What an apply did (or, with TDM_APPLY_CHECK, would do), in objects: NFs
 * (a firewall's rules count with it), chains, devices, steering entries.
 * kept: those it left as they were.
 */
struct tdm_apply_result {
	unsigned int added, changed, deleted, kept;
};

enum tdm_apply_flags {
	TDM_APPLY_CHECK = 1 << 0,	/* check against the system, change nothing */
};

/*
 * Make the running state equal to p, all or nothing: objects p does not
 * change keep their ids, counters and state; changed chains are replaced
 * hitlessly. A failure restores the previous state (ids and counters
 * included); a process killed half way is rolled back, or forward if all
 * that was left were deletions, by the next tdm_open(). The error names
 * the policy line it comes from. Records the result for tdm_status_get()
 * (not with TDM_APPLY_CHECK). 0 or -errno.
 */
int tdm_policy_apply(struct tdm_ctx *ctx, const struct tdm_policy *p,
		     unsigned int flags, struct tdm_apply_result *res);
/* The running state as a policy text that applies to no change. */
int tdm_policy_dump(struct tdm_ctx *ctx, FILE *f);

/* ---- status (what runs) ---- */
/* The daemon: register at start (pid, start time), unregister at exit. */
int tdm_daemon_register(struct tdm_ctx *ctx, __u32 pid);
int tdm_daemon_unregister(struct tdm_ctx *ctx, __u32 pid);
/*
 * tandem_sched.ko (user/lib/kmod.c, Documentation/kmod.rst). The
 * wrappers return 0 or -errno, the module's errors as
 * include/tandem/sched.h lists them; tdm_kmod_open() gives an fd (or
 * -ENOENT without the module). NFs registered through an fd are the
 * fd's: closing it unregisters them.
 */
bool tdm_kmod_loaded(void);
/* An fd of the pinned map NAME (tdm_xsks, tdm_nf_queues...), or -errno:
 * what a registration hands the module */
int tdm_pinned_map(const char *name);
int tdm_kmod_open(void);
int tdm_kmod_register(int fd, const struct tdm_sched_reg *reg);
int tdm_kmod_unregister(int fd, __u32 nf_id);
int tdm_kmod_set_pid(int fd, __u32 nf_id, __u32 pid);
int tdm_kmod_get(int fd, __u32 nf_id, struct tdm_sched_state *st);
int tdm_kmod_info(int fd, struct tdm_sched_info *info);
/* Re-load the chains whose backpressure variant does not match whether
 * the module is loaded now; returns how many, or -errno */
int tdm_chains_sched_sync(struct tdm_ctx *ctx);

/* The registered daemon pid schedules process NFs so (enum
 * tdm_sched_mode, interval in us, cgroup 0 none, 1 v1, 2 v2) */
int tdm_daemon_sched(struct tdm_ctx *ctx, __u32 pid, __u32 mode,
		     __u32 interval_us, __u32 cgroup);
/* Record a policy file that could not be read or was refused before
 * any change as the last apply: err (-errno) and msg, for `tandem
 * status`. tdm_policy_apply() records its own result. */
int tdm_status_apply_failed(struct tdm_ctx *ctx, const char *file, int err,
			    const char *msg);
/* The record; *daemon_running says whether the registered daemon still
 * runs (same pid and /proc starttime). */
int tdm_status_get(struct tdm_ctx *ctx, struct tdm_status *st,
		   bool *daemon_running);

/* ---- for tests and benchmarks ---- */
/* Load an entry program for dev slot (not attached); returns its fd. */
int tdm_entry_load(struct tdm_ctx *ctx, __u32 dev_slot);
/*
 * How chains built from now on are split into programs: nfs_per_hop NFs
 * in each (0, the default: the whole chain in one), and whether the tail
 * call to the next hop takes a runtime index instead of a constant one.
 * make bench compares them.
 */
void tdm_set_hop_split(struct tdm_ctx *ctx, unsigned int nfs_per_hop,
		       bool runtime_jump);
/* Register ifindex as a device with a default chain, without attaching. */
int tdm_dev_register(struct tdm_ctx *ctx, __u32 ifindex, const char *chain,
		     __u32 *slot);

#endif /* TANDEM_LIBTANDEM_H */
