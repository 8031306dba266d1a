/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the library's files share and its users do not see. */
#ifndef TANDEM_LIB_INTERNAL_H
#define TANDEM_LIB_INTERNAL_H

/*
 * The library's layers, bottom to top: a file calls functions of its own
 * and of the files listed before it, never of a file listed after it. A
 * lower file reaches up only through a function pointer (an NF type's
 * create and destroy, ctx->journal_recover). tools/check-layers, run by
 * make, reads this list and fails the build on a call that goes up; every
 * .c file of user/lib must be in it. See Documentation/architecture.rst.
 *
 * layers:
 *	parse.c		text to structs and back: prefixes, ports, matches
 *	maglev.c	Maglev hashing's lookup table
 *	json.c		JSON of the library's objects
 *	ctx.c		the context: errors, names, map helpers, ifindex
 *	pin.c		trusting the pin directory; the state lock
 *	journal.c	the change in progress: begin, end, crash points
 *	kmod.c		tandem_sched.ko: is it loaded, its ioctls
 *	status.c	the tdm_status record for `tandem status`
 *	nftable.c	an NF instance's own table (conntrack, nat)
 *	nf_process.c	process NFs: veth pair, queue, command line
 *	nf_counter.c	the NF types' library halves (bpf/lib/nf.h)
 *	nf_policer.c
 *	nftypes.c	the list of NF types; their parameters' words
 *	grammar.c	the one parser of commands, driven by tables
 *	commands.c	the tables of the commands that say what exists
 *	nf.c		NF instances: the tdm_nfs table
 *	chain.c		chains and their hops; deleting an NF
 *	devrec.c	device records: where a device is, find, take
 *	steer.c		steering entries; writing device records with
 *			their counts; deleting a chain
 *	dev.c		attaching and detaching devices, their gc
 *	tss.c		firewall rulesets compiled to tuples (tuple space
 *			search) and their entries in tdm_fw_tuples
 *	sets.c		address sets: records, elements, set load
 *	nf_firewall.c	firewall: parameters, rules, banks, the chains
 *			rebuilt to switch banks
 *	setcmd.c	set del (which reads the firewalls' rules); the
 *			set object's commands
 *	nf_*.c		any other NF type's library half (a pattern: a new
 *			NF's file needs no line here)
 *	recover.c	the journal's recovery: the finishers by kind
 *	policy.c	policy files: text to struct tdm_policy
 *	apply.c		the running state as a policy; applying one
 *	dump.c		the running state as a policy file
 *	stats.c		counters, summed
 *	open.c		tdm_open(), tdm_close(): the entry, and recovery
 */

#include <errno.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "libtandem.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct tdm_entry;			/* the entry skeleton: owns the maps */

struct tdm_ctx {
	struct tdm_entry *maps;		/* loaded without programs */
	int lock_fd;
	unsigned int open_flags;
	int sync_outer_fd;		/* map-in-map for tdm_sync() */
	int sync_inner_fd;
	int ncpus;
	/* make bench: NFs per hop (0: all in one) and indirect jumps */
	unsigned int nfs_per_hop;
	bool runtime_jump;
	bool pending[TDM_JMP_SLOTS];	/* retired slots, see chain.c */
	char err[1024];
	/* fds of the pinned maps, from the skeleton */
	int jmp_fd, devs_fd, dev_stats_fd, flows_fd, lpm_fd, pfx_fd, srules_fd;
	int nfs_fd, chains_fd, nf_stats_fd, chain_stats_fd;
	int journal_fd, status_fd;
	int apply_log_fd, xsks_fd, nf_queues_fd, nf_cmds_fd;
	/* TANDEM_CRASH_AT: SIGKILL at this crash point (tests); 0: never */
	unsigned long crash_at, crash_steps;
	/* TANDEM_FAIL_AT: the Nth step of a policy apply fails (tests) */
	unsigned long fail_at, fail_steps;
	bool rebuild_half;		/* see tdm_chains_rebuild_nf() */
	struct tdm_steer_rule *srules;	/* tdm_steer_rules, read by index */
	/* names of gone devices tdm_dev_gc() forgot: detach says done */
	char gone[TDM_MAX_DEVS][16];
	int ngone;
	/*
	 * The journal's recovery (tdm_journal_recover(), recover.c), which
	 * tdm_journal_begin() runs first. Set by tdm_open(): it calls the
	 * finishers of chain.c, steer.c, dev.c and nf_firewall.c, layers
	 * above the journal that begin their changes with it.
	 */
	int (*journal_recover)(struct tdm_ctx *ctx);
};

/* The netmask of a prefix length in the 128-bit address space. */
void tdm_prefix_mask(__u8 len, struct tdm_addr *mask);

/* Set ctx->err; returns -err so callers can `return tdm_err(...)`. */
int tdm_err(struct tdm_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Is name a valid name of an NF, chain or set: 1 to TDM_NAME_LEN - 1
 * letters, digits, '-', '_' and '.', not starting with '-' or '.'?
 * 0, or -EINVAL / -ENAMETOOLONG with the message in ctx.
 */
int tdm_name_check(struct tdm_ctx *ctx, const char *what, const char *name);
/*
 * The check for a name that looks an object up: made before names could
 * not start with '-' or '.', such an object can still be found (and
 * deleted, or renamed by a dump and apply).
 */
int tdm_name_known_check(struct tdm_ctx *ctx, const char *what,
			 const char *name);
/* The same check without a context: the message goes to err. */
int tdm_name_valid(const char *what, const char *name, char *err,
		   size_t errlen);

/*
 * Write n entries, keys[] and vals[] (arrays of the map's key and value
 * size), into hash map fd: one batch if the kernel has batch ops, else
 * one by one. 0; -E2BIG or -ENOMEM without an error message if the map
 * is full (what was written stays); other -errno with the error set
 * ("writing WHAT: ...").
 */
int tdm_map_write(struct tdm_ctx *ctx, int fd, const void *keys,
		  size_t key_size, const void *vals, size_t val_size,
		  size_t n, const char *what);
/*
 * Delete n keys (an array of the map's key size) from hash map fd,
 * those that are there: batches where the kernel has them. 0 or -errno
 * with the error set.
 */
int tdm_map_delete_keys(struct tdm_ctx *ctx, int fd, const void *keys,
			size_t key_size, size_t n, const char *what);
/* Delete every key of hash-like map fd for which match(key, arg) holds. */
int tdm_map_delete_if(struct tdm_ctx *ctx, int fd, size_t key_size,
		      bool (*match)(const void *key, const void *arg),
		      const void *arg);

/* Zero a per-CPU array entry (stats of a new NF, chain, or device). */
int tdm_percpu_zero(struct tdm_ctx *ctx, int fd, __u32 key, size_t size);
int tdm_percpu_sum(struct tdm_ctx *ctx, int fd, __u32 key, size_t size,
		   __u64 *sum);

/* The cookie of our network namespace (SO_NETNS_COOKIE), 0 if unknown */
__u64 tdm_netns_cookie(void);
/* ifindex of the device called dev in our namespace, or -ENODEV */
int tdm_ifindex(struct tdm_ctx *ctx, const char *dev, __u32 *ifindex);

/*
 * NF types (bpf/lib/nf.h): each is its BPF file and its library half,
 * user/lib/nf_<name>.c, which defines struct tdm_nf_ops tdm_nf_<name>;
 * nftypes.c lists them as the datapath does (nf_list.h).
 */
/* One "NAME VALUE" parameter of an NF type. */
struct tdm_nf_param {
	const char *name;
	const char *value;		/* the value in the usage: pass|drop */
	bool required;
};

#define TDM_NF_MAX_PARAMS	12

/* What an NF type's library half does. */
struct tdm_nf_ops {
	const char *summary;
	/* more on the parameters, for `tandem nf help` (may be NULL) */
	const char *help;
	/* the parameters, ending with one without name; the usage and the
	 * checks on the words (unknown, twice, missing) come from it */
	const struct tdm_nf_param *params;
	/* fill p from the values, vals[i] for params[i] (NULL: not given);
	 * 0 or -EINVAL with err */
	int (*parse)(union tdm_nf_params *p, const char *const *vals,
		     char *err, size_t errlen);
	void (*format)(const union tdm_nf_params *p, char *buf, size_t size);
	/* set up and tear down per-instance state (may be NULL) */
	int (*create)(struct tdm_ctx *ctx, __u32 id, union tdm_nf_params *p);
	void (*destroy)(struct tdm_ctx *ctx, __u32 id);
	/* the state the hop program reads for NF id with parameters p, as
	 * struct tdm_chain_info.nf_state records it (NULL: 0, none) */
	__u32 (*hop_state)(__u32 id, const union tdm_nf_params *p);
	/* what the hop holds as constants for NF id with parameters p
	 * (NULL: nothing): fills *r, or leaves r->on 0; 0 or -errno with
	 * the error set */
	int (*hop_rules)(struct tdm_ctx *ctx, __u32 id,
			 const union tdm_nf_params *p, struct tdm_hop_rules *r);
	/* add the NF's own counters, which the datapath does not count
	 * (NULL: none); 0 or -errno */
	int (*stats)(struct tdm_ctx *ctx, __u32 id, struct tdm_nf_stats *st);
	/* the names of drop reasons TDM_DROP_NF... (the BPF file's enum;
	 * TDM_<TYPE>_DROP_MAX entries, the first unused) */
	const char *const *drops;
	bool command;			/* takes "-- CMD ARGS..." */
	/* create() makes state from the parameters (a table of that size,
	 * a program on that device): an apply cannot change them */
	bool params_fixed;
	/* the commands it adds to the front ends (grammar.h; may be NULL) */
	const struct tdm_nf_object *object;
};

/* An NF type: its BPF file's declaration and its library half. */
struct tdm_nf_type {
	const char *name;
	__u32 id;			/* enum tdm_nf_type_id */
	__u32 ndrops;			/* drop reasons, TDM_DROP_NF + its own */
	const struct tdm_nf_ops *ops;
};

/*
 * Read "NAME VALUE..." words into p by t's parameter table; for a type
 * that takes a command, the words after "--" into cmd (TDM_NF_CMD_LEN
 * bytes; "" without one; may be NULL for other types).
 */
int tdm_nf_params_parse(const struct tdm_nf_type *t, union tdm_nf_params *p,
			char *cmd, int argc, char **argv, char *err,
			size_t errlen);

/* nf.c: add NF info (name, type, parsed params) with its command line
 * (NULL or "": none); its id or -errno */
int tdm_nf_create(struct tdm_ctx *ctx, const struct tdm_nf_info *info,
		  const char *cmd);

/*
 * maglev.c. A backend of a Maglev table: key, what its permutation is
 * hashed from (its address and port, as the caller packs them; stable
 * across refills, so that other backends' slots stay theirs), and its
 * weight (0: it takes no slot).
 */
struct tdm_maglev_backend {
	__u64 key;
	__u32 weight;
};

#define TDM_MAGLEV_NONE	0xffffffffU	/* a slot of no backend */

bool tdm_is_prime(__u32 m);
/*
 * Fill table[0..m) with backend indexes into b[0..n), each backend's
 * share its weight's (to within one slot a round), by Maglev's
 * population (Eisenbud et al., NSDI 2016, Pseudocode 1). m: prime, at
 * least 3. No weight: every slot TDM_MAGLEV_NONE. 0, -EINVAL (m not a
 * prime), -ENOMEM.
 */
int tdm_maglev_fill(__u32 *table, __u32 m,
		    const struct tdm_maglev_backend *b, __u32 n);

/*
 * nftable.c: an NF instance's own table (conntrack's flows, nat's
 * bindings): a map of type with key_size, value_size (typed by the BTF
 * structs key_type, value_type) of the size its parameters name, pinned
 * as <pin root>/<pin_prefix><id> and in slot id of map of maps outer.
 */
struct tdm_nf_table {
	const char *nf;			/* the NF type, for messages */
	const char *outer;		/* "tdm_ct_tables" */
	const char *pin_prefix;		/* "tdm_ct_" */
	const char *map_name;		/* the kernel's name, 15 chars */
	enum bpf_map_type type;
	const char *key_type, *value_type;	/* key_type NULL: __u32 */
	__u32 key_size, value_size;
	__u32 map_flags;		/* the template's (BPF_F_INNER_MAP) */
};

/* Make NF id's table of size entries (replacing any); 0 or -errno */
int tdm_nf_table_create(struct tdm_ctx *ctx, const struct tdm_nf_table *t,
			__u32 id, __u32 size);
void tdm_nf_table_destroy(struct tdm_ctx *ctx, const struct tdm_nf_table *t,
			  __u32 id);
/* NF id's table, an fd to close, or -errno (-ENOENT: none) */
int tdm_nf_table_fd(struct tdm_ctx *ctx, const struct tdm_nf_table *t,
		    __u32 id);
/* Delete every entry of NF id's table (name: for the message) */
int tdm_nf_table_flush(struct tdm_ctx *ctx, const struct tdm_nf_table *t,
		       __u32 id, const char *name);

/*
 * nf_lb.c: the backends of lb NF nf. Add addr (its vip's family; port 0:
 * the packet's) with weight 1-1000; set one's state (enum
 * tdm_lb_backend_state), or delete it (state -1: its flows are
 * forgotten and go elsewhere at their next packet). Each refills the
 * Maglev table. 0 or -errno with the error set: EEXIST, ENOENT, ENOSPC
 * (TDM_LB_MAX_BACKENDS), EINVAL.
 */
int tdm_lb_add(struct tdm_ctx *ctx, const char *nf, const char *addr,
	       __u16 port, __u32 weight);
int tdm_lb_set(struct tdm_ctx *ctx, const char *nf, const char *addr,
	       __u16 port, int state);

/* nf_process.c */
/* The ifindex of process NF id's chain end (tdmnf<id>a), or -ENODEV */
int tdm_proc_ifindex(struct tdm_ctx *ctx, __u32 id, __u32 *ifindex);
/* Set (or with "" or NULL delete) process NF id's command line */
int tdm_nf_cmd_set(struct tdm_ctx *ctx, __u32 id, const char *cmd);
/* An apply's change of the command: keep the old one (stash), put it
 * back (unstash: its undo), forget what was kept (the apply ended) */
int tdm_nf_cmd_stash(struct tdm_ctx *ctx, __u32 id);
int tdm_nf_cmd_unstash(struct tdm_ctx *ctx, __u32 id);
void tdm_nf_cmd_stash_drop(struct tdm_ctx *ctx);
/* Set process NF id's watermarks from pp (the queue's counters stay) */
int tdm_proc_watermarks(struct tdm_ctx *ctx, __u32 id,
			const struct tdm_process_params *pp);

/* The fd of pinned map name: an NF's private map (bpf/nf_*.bpf.c) or
 * any other; -1 if there is none */
/* ctx.c: CLOCK_MONOTONIC in ns, the clock of bpf_ktime_get_ns() */
__u64 tdm_mono_ns(void);
/* json.c: key's value of object o as text, "" if it has none */
struct json_object;
const char *tdm_json_str(struct json_object *o, const char *key);
int tdm_map_fd(struct tdm_ctx *ctx, const char *name);
/* nf_firewall.c: the fd of tdm_fw_rules */
#define tdm_fw_rules_fd(ctx)	tdm_map_fd(ctx, "tdm_fw_rules")
/* tss.c: the fd of tdm_fw_tuples */
#define tdm_fw_tuples_fd(ctx)	tdm_map_fd(ctx, "tdm_fw_tuples")
/* nf_firewall.c: the fd of tdm_fw_store */
#define tdm_fw_store_fd(ctx)	tdm_map_fd(ctx, "tdm_fw_store")

/* sets.c: take set id's elements out, then its record (set del) */
int tdm_set_destroy(struct tdm_ctx *ctx, __u32 id);

/*
 * sets.c: the elements of file (as tandem set load reads it) as
 * elements of set, appended to *el: 0, or -errno with "FILE:LINE: why"
 * or "FILE: why" in err; -E2BIG past max elements (repeats count).
 * Reads no state.
 */
int tdm_set_file_read(const struct tdm_set_info *set, const char *file,
		      size_t max, struct tdm_set_elems *el, char *err,
		      size_t errlen);
/* Sort el's elements and drop the repeats */
void tdm_set_elems_uniq(struct tdm_set_elems *el);

/*
 * sets.c, for a policy apply (apply.c), which changes a set's elements
 * in steps its log can take back or finish after a kill, whatever
 * their number (sets.c, "policy applies"). All return 0 or -errno with
 * the error set.
 *
 * tdm_set_stage: want[] (sorted, no repeats) into set id, whose
 *	elements are have[] (the same): those new marked with epoch and
 *	NEW, the kept ones with epoch; the set's epoch becomes epoch. The
 *	old elements stay. -ENOSPC if the new ones do not fit (some may be
 *	in: unstage takes them out).
 * tdm_set_unstage: take a stage of epoch back: its new elements out,
 *	its marks off, the record's epoch and count back to old_epoch
 *	and old_nelems. A set id that is not name's (any more) is left.
 * tdm_set_prune: finish a stage of epoch: every element it did not
 *	mark out, the count nelems. A set id not name's is left.
 */
static inline __u8 tdm_set_next_epoch(__u8 epoch)
{
	return epoch == 255 ? 1 : epoch + 1;
}
/*
 * Every set at once, in one pass over each elements map: info[id] its
 * record (name "" for no set id), el[id] its elements sorted, without
 * repeats (each el's v reused); both of TDM_MAX_SETS + 1 entries, [0]
 * unused.
 */
int tdm_set_elems_all(struct tdm_ctx *ctx, struct tdm_set_info *info,
		      struct tdm_set_elems *el);
int tdm_set_stage(struct tdm_ctx *ctx, __u32 id,
		  const struct tdm_set_elems *want,
		  const struct tdm_set_elems *have, __u8 epoch);
int tdm_set_unstage(struct tdm_ctx *ctx, __u32 id, const char *name,
		    __u8 epoch, __u8 old_epoch, __u32 old_nelems);
int tdm_set_prune(struct tdm_ctx *ctx, __u32 id, const char *name,
		  __u8 epoch, __u32 nelems);

/* ---- tss.c: tuple space search (bpf/nf_firewall.bpf.c) ---- */

/*
 * lookup auto: a ruleset of up to TDM_FW_AUTO_LINEAR rules is walked
 * linearly; a larger one by tuples if its tuples cost less than its
 * rules, at TDM_FW_TUPLE_NS a tuple and TDM_FW_RULE_NS a rule (the worst
 * case: a packet no rule matches tries every tuple of its family). From
 * make bench-fw-lookup (Documentation/firewall-lookup-bench.md and
 * architecture.rst, "Classification"; Linux 6.18, 2 shared vCPUs, JIT,
 * +-30 ns of noise): a rule costs 2-5 ns, a tuple (a call, a hash of a
 * 44-byte key and a compare) ~44 ns: one tuple beats the walk from
 * ~8-16 rules on, one tuple a rule never does.
 */
#define TDM_FW_AUTO_LINEAR	8
#define TDM_FW_RULE_NS		5
#define TDM_FW_TUPLE_NS		44

/* An aligned port prefix: ports value to value + 2^(16 - len) - 1. */
struct tdm_port_pfx {
	__u16 value;			/* host order, low 16 - len bits 0 */
	__u8 len;			/* 0 (every port) to 16 (one port) */
};

/* a 16-bit range splits into at most 2 * 16 - 2 aligned prefixes */
#define TDM_PORT_PFX_MAX	30

/*
 * Range [lo, hi] (lo <= hi, host order) as the fewest aligned prefixes,
 * ascending, into out[TDM_PORT_PFX_MAX]; returns how many (1 to 30).
 * The full range is one prefix of length 0.
 */
int tdm_port_prefixes(__u16 lo, __u16 hi, struct tdm_port_pfx *out);

struct tdm_tss_entry {
	struct tdm_fw_tuple_key key;
	struct tdm_fw_tuple_val val;
};

/* The entries a compile makes: v[0..n), sorted by key, no two alike. */
struct tdm_tss_entries {
	struct tdm_tss_entry *v;
	size_t n, cap;
};

/*
 * Compile rules[0..n), in (prio, id) order, for ruleset key rs_key:
 * fills rs's tuples[], ntuples and mode TDM_FW_MODE_TUPLES, and e with
 * the entries (one per rule and pair of its sport and dport prefixes;
 * of rules with one key in one tuple, the lowest (prio, id)'s), sorted
 * by key. The same rules give the same tuples and entries. Up to 30 x
 * 30 entries a rule. Returns 0; -E2BIG if the rules need more than
 * TDM_FW_MAX_TUPLES tuples, -EFBIG more than TDM_FW_RULESET_ENTRIES
 * entries (rs untouched either way); -ENOMEM. e is reused across
 * calls; tdm_tss_free() frees it.
 */
int tdm_tss_compile(const struct tdm_fw_rule *rules, __u32 n,
		    struct tdm_fw_ruleset *rs, __u32 rs_key,
		    struct tdm_tss_entries *e);
void tdm_tss_free(struct tdm_tss_entries *e);
/*
 * Of rules[0..n) in this order, the index of the first that needs a
 * tuple beyond TDM_FW_MAX_TUPLES, or an entry beyond
 * TDM_FW_RULESET_ENTRIES (*entries: which), or -1 if they all fit (a
 * ruleset of more than TDM_FW_LINEAR_MAX rules must). Pure: for policy
 * checks.
 */
long tdm_tss_overflow(const struct tdm_fw_rule *rules, __u32 n,
		      bool *entries);
/*
 * Delete e's keys from tdm_fw_tuples, those that are there (a batch if
 * the kernel has batch ops). 0 or -errno with the error set.
 */
int tdm_tss_delete(struct tdm_ctx *ctx, const struct tdm_tss_entries *e);
/*
 * Write e into tdm_fw_tuples (tdm_map_write()). Returns 0; -E2BIG or
 * -ENOMEM without an error message if the map is full (what was written
 * stays); other -errno with the error set.
 */
int tdm_tss_write(struct tdm_ctx *ctx, const struct tdm_tss_entries *e);

/*
 * pin.c: may the state be trusted. Each returns 0 (or an fd) or -errno
 * with a one-line message in ctx->err.
 *
 * tdm_priv_check: -EPERM unless we have the capabilities tandem needs
 * (CAP_NET_ADMIN, and CAP_BPF or CAP_SYS_ADMIN; CAP_SYS_ADMIN too if
 * mount, for a bpffs). Called before anything is made.
 *
 * tdm_pin_dir_open: an O_RDONLY fd of the pin directory root, made
 * (mode 0700) if missing and opened without following a symlink; -EPERM
 * unless it is a directory on a bpffs owned by root (or our euid) that
 * nobody else may use, in directories nobody else can rename it from
 * (checked before it is made).
 *
 * tdm_pins_check: make root/links if missing; -EPERM unless it, every
 * pin in root and every pin in root/links pass the same test.
 *
 * tdm_lock_wait: flock(fd, op) (LOCK_SH or LOCK_EX), waiting at most
 * TANDEM_LOCK_TIMEOUT seconds (default 10, 0: do not wait, fractions
 * allowed, at most 1000000); -ETIMEDOUT naming the holders from
 * /proc/locks, -EINVAL for a bad TANDEM_LOCK_TIMEOUT.
 */
int tdm_priv_check(struct tdm_ctx *ctx, bool mount);
int tdm_pin_dir_open(struct tdm_ctx *ctx, const char *root);
int tdm_pins_check(struct tdm_ctx *ctx, int root_fd, const char *root);
int tdm_lock_wait(struct tdm_ctx *ctx, int fd, int op);

/* Open options that make a skeleton share the pinned maps. */
void tdm_skel_opts(struct bpf_object_open_opts *opts);

/* chain.c: rebuild every chain that uses NF id with info *override. */
int tdm_chains_rebuild_nf(struct tdm_ctx *ctx, __u32 nf_id,
			  const struct tdm_nf_info *override);
bool tdm_nf_in_use(struct tdm_ctx *ctx, __u32 nf_id, char *chain,
		   size_t size);
/* chain.c: delete chain id (record *ci) that nothing uses */
int tdm_chain_remove(struct tdm_ctx *ctx, const char *name, int id,
		     const struct tdm_chain_info *ci);
/* steer.c: is chain_id a device's default chain or an entry's chain? */
bool tdm_chain_in_use(struct tdm_ctx *ctx, __u32 chain_id, char *user,
		      size_t size);

/* devrec.c: device records, the tdm_devs table */
/* The pin path of device slot's bpf_link (links/dev_SLOT) */
void tdm_dev_link_path(__u32 slot, char *buf, size_t size);
/* Where the device of record d is now, into *st (see devrec.c) */
enum tdm_dev_state tdm_dev_state(const struct tdm_dev *d,
				 struct tdm_dev_status *st);
/* The record of the device called name, with where it is now */
int tdm_dev_lookup(struct tdm_ctx *ctx, const char *name,
		   struct tdm_dev_status *out);
/* A new record for ifindex in a free slot, not written yet */
int tdm_dev_init(struct tdm_ctx *ctx, __u32 ifindex, __u32 chain,
		 struct tdm_dev *d);
/*
 * The record of the device called dev: the one of that name here now,
 * under whatever name tandem took it; or, when no device here has the
 * name, one tandem took under it that has moved away or is gone.
 * 0, -ENOENT (tandem does not know it) or -ENODEV, with the error set.
 */
int tdm_dev_find(struct tdm_ctx *ctx, const char *dev, struct tdm_dev *d);
/*
 * tdm_dev_find(), or else a new record for the device here (*created):
 * a free slot with zeroed counters, not written until tdm_dev_put().
 */
int tdm_dev_take(struct tdm_ctx *ctx, const char *dev, struct tdm_dev *d,
		 bool *created);
/* The name of slot's device now (or as taken, if not here), or "?" */
void tdm_dev_name(struct tdm_ctx *ctx, __u32 slot, char *buf, size_t size);

/* steer.c: write record *d with fresh steering counts (one atomic
 * update); _put() is a crash point too */
int tdm_dev_write(struct tdm_ctx *ctx, struct tdm_dev *d);
/* steer.c: set slot's tdm_dev_fast route (TDM_ROUTE_*): 0 or -errno */
int tdm_dev_route(struct tdm_ctx *ctx, __u32 slot, __u32 route);
int tdm_dev_put(struct tdm_ctx *ctx, struct tdm_dev *d);
/* steer.c: forget record d: its steering entries, then the record */
int tdm_dev_forget(struct tdm_ctx *ctx, const struct tdm_dev *d);
/* steer.c: rewrite slot's record (if any) with fresh steering counts. */
int tdm_dev_refresh(struct tdm_ctx *ctx, __u32 slot);

/* dev.c: forget the records of devices that are gone (see dev.c). */
int tdm_dev_gc(struct tdm_ctx *ctx);
/* tdm_dev_detach() that keeps the record (slot, counters) for a
 * re-attach in another mode */
int tdm_dev_detach_keep(struct tdm_ctx *ctx, const char *dev);
/* Forget slot's record if it has no link and no steering entries. */
int tdm_dev_forget_unused(struct tdm_ctx *ctx, __u32 slot);

/* steer.c: is m one 5-tuple (an entry of the exact table)? */
bool tdm_steer_is_exact(const struct tdm_match *m);
/* steer.c: take out slot's entries [lo, hi) under the journal (ids
 * that are not there are no error) */
int tdm_steer_del_slot(struct tdm_ctx *ctx, __u32 slot, __u32 lo, __u32 hi);
/* steer.c: take out slot's entries of ids[0..n) (sorted here) at once:
 * one leaf update and one grace period; no journal (the caller's log
 * must run it again if it is cut short) */
int tdm_steer_take_out_ids(struct tdm_ctx *ctx, __u32 slot, __u32 *ids,
			   size_t n);
/* steer.c: the exact entry of slot and m now runs chain_id (one write) */
int tdm_steer_flow_set(struct tdm_ctx *ctx, __u32 slot,
		       const struct tdm_match *m, __u32 chain_id);
/* steer.c: remove every steering entry of device slot */
int tdm_steer_flush(struct tdm_ctx *ctx, __u32 slot);
/*
 * steer.c: what the datapath needs to know of ifindex's steering entries,
 * into *d: how many exact entries and rules, and the rules' prefix lengths
 */
int tdm_steer_summary(struct tdm_ctx *ctx, __u32 slot, struct tdm_dev *d);
/* Entries of device slot (TDM_DEV_ANY: all), sorted; caller frees *out */
int tdm_steer_list_slot(struct tdm_ctx *ctx, __u32 slot,
			struct tdm_steer_entry **out, int *n);

/*
 * journal.c: the change in progress. begin() before a change's first
 * write the datapath sees, end() after its last; recover() at open
 * (recover.c).
 */
int tdm_journal_begin(struct tdm_ctx *ctx, const struct tdm_journal *j);
int tdm_journal_end(struct tdm_ctx *ctx);
int tdm_journal_recover(struct tdm_ctx *ctx);
/* 1 if a change was cut short, 0 if not, or -errno */
int tdm_journal_pending(struct tdm_ctx *ctx);
/* A step of a change, where a test may kill us (TANDEM_CRASH_AT). */
void tdm_crash_point(struct tdm_ctx *ctx);

/* nf_firewall.c: write rl (rules, default action) to firewall nf_id's
 * inactive bank and switch to it with record *info (params may change
 * too); *info is updated */
int tdm_fw_commit(struct tdm_ctx *ctx, __u32 nf_id, struct tdm_nf_info *info,
		  const struct tdm_fw_rules *rl);
/* apply.c: a policy apply cut short: take it back or finish it */
int tdm_apply_recover(struct tdm_ctx *ctx);
int tdm_apply_pending(struct tdm_ctx *ctx);

/* The journal's finishers, idempotent. */
/* nf_firewall.c: move every chain of firewall nf_id to info's bank, record it */
int tdm_fw_bank_finish(struct tdm_ctx *ctx, __u32 nf_id,
		       const struct tdm_nf_info *info);
/* chain.c: replace chain id by record *ci (NF ids, action, redirect
 * ifindex: no names), hitlessly, under the journal */
int tdm_chain_restore(struct tdm_ctx *ctx, __u32 id,
		      const struct tdm_chain_info *ci);
/* chain.c: build chain id from record *ci and write the record */
int tdm_chain_finish(struct tdm_ctx *ctx, __u32 id,
		     const struct tdm_chain_info *ci);
/* steer.c: remove device slot's entries of ids [lo, hi), leaves first */
int tdm_steer_take_out(struct tdm_ctx *ctx, __u32 slot, __u32 lo, __u32 hi);
/* dev.c: an attach of slot is kept if its link is pinned, else undone
 * (the record forgotten if the attach made it) */
int tdm_dev_attach_recover(struct tdm_ctx *ctx, __u32 slot, bool created);
/* dev.c: a detach of slot is finished (the record forgotten if asked) */
int tdm_dev_detach_recover(struct tdm_ctx *ctx, __u32 slot, bool forget);

/* status.c */
__u64 tdm_realtime_ns(void);
/* Record an apply of file for `tandem status`: result 0 or -errno (the
 * message is ctx->err), changes the objects changed. Best effort. */
void tdm_status_record_apply(struct tdm_ctx *ctx, const char *file,
			     int result, unsigned int changes);

#endif /* TANDEM_LIB_INTERNAL_H */
