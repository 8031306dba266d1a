/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every map of the datapath, declared once. Each program object includes
 * this header; the loader gives all objects the same pin root, so the maps
 * are created by the first load and shared (LIBBPF_PIN_BY_NAME) by all.
 * Documentation/pinned-maps.rst describes each of them.
 */
#ifndef TANDEM_BPF_MAPS_H
#define TANDEM_BPF_MAPS_H

#include "common.h"
#include "nf_list.h"	/* generated: every NF's declarations */

/*
 * The jump table. Slot c < TDM_MAX_CHAINS is chain c's first hop; the
 * other slots hold later hops. No BTF key/value: libbpf would retry the
 * map creation without BTF for a typed prog array.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, TDM_JMP_SLOTS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_jmp SEC(".maps");

/* The ABI stamp of whoever created the pins: control plane only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tdm_abi);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_abi SEC(".maps");

/* What runs (struct tdm_status): control plane only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tdm_status);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_status SEC(".maps");

/* A policy apply in progress (struct tdm_apply_step): control plane only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TDM_APPLY_MAX_STEPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);		/* 0: header, 1...: steps */
	__type(value, struct tdm_apply_step);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_apply_log SEC(".maps");

/* The change in progress (struct tdm_journal): control plane only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tdm_journal);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_journal SEC(".maps");

/* Per-packet metadata: XDP runs to completion on one CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tdm_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_scratch SEC(".maps");

/*
 * The hashes the datapath reads while the library replaces elements are
 * not preallocated: a preallocated hash recycles a replaced element at
 * once, under a reader that may still hold it; these free it after RCU.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TDM_MAX_DEVS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);		/* struct tdm_dev.slot */
	__type(value, struct tdm_dev);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_devs SEC(".maps");

/* struct tdm_dev_fast: how to steer a device's packets, in one word */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TDM_MAX_DEVS);
	__type(key, __u32);		/* struct tdm_dev.slot */
	__type(value, struct tdm_dev_fast);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_dev_fast SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TDM_MAX_DEVS);
	__type(key, __u32);		/* struct tdm_dev.slot */
	__type(value, struct tdm_dev_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_dev_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TDM_MAX_STEER_FLOWS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tdm_flow_key);
	__type(value, struct tdm_flow_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_steer_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, TDM_MAX_STEER_LEAVES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tdm_steer_lpm_key);
	__type(value, struct tdm_steer_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_steer_lpm SEC(".maps");

/* The trie's leaves again, for devices with few prefix lengths */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TDM_MAX_STEER_LEAVES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tdm_steer_pfx_key);
	__type(value, struct tdm_steer_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_steer_pfx SEC(".maps");

/*
 * Sparse tables are hashes, so that bpftool map dump lists what exists,
 * not every free slot: the steering rules (few of 131072 in use), NFs,
 * chains and firewall rule sets. Counters and the per-packet state of
 * NFs stay arrays: one array lookup per packet is the cheapest there is.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TDM_MAX_STEER_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);		/* index, as buckets name it */
	__type(value, struct tdm_steer_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_steer_rules SEC(".maps");

/*
 * tdm_nfs's value as BTF shows it (bpftool map dump): struct tdm_nf_info
 * with the parameters by type.
 */
struct tdm_nf_record {
	char name[TDM_NAME_LEN];
	__u32 type;			/* enum tdm_nf_type_id, 0: free */
	__u32 pad;
	union {
#define TDM_NF_TYPE(name, id, params_t, ndrops) params_t name;
		TDM_NF_TYPES
#undef TDM_NF_TYPE
		__u8 raw[TDM_NF_PARAMS_SIZE];
	} params;
};
_Static_assert(sizeof(struct tdm_nf_record) == sizeof(struct tdm_nf_info),
	       "struct tdm_nf_record is struct tdm_nf_info");

/* Control state: names and configuration, read by the library only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TDM_MAX_NFS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);		/* nf_id */
	__type(value, struct tdm_nf_record);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_nfs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TDM_MAX_CHAINS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);		/* chain_id */
	__type(value, struct tdm_chain_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_chains SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TDM_MAX_NFS);
	__type(key, __u32);		/* nf_id */
	__type(value, struct tdm_nf_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_nf_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TDM_MAX_CHAINS);
	__type(key, __u32);		/* chain_id */
	__type(value, struct tdm_chain_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_chain_stats SEC(".maps");

/*
 * Process NFs: the AF_XDP socket of each (key nf_id; the NF's process
 * puts it here, the kernel takes it out when the socket closes), and its
 * queue counters, which the process maps and writes (BPF_F_MMAPABLE).
 */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, TDM_MAX_NFS);
	__uint(key_size, sizeof(__u32));	/* nf_id */
	__uint(value_size, sizeof(__u32));	/* socket fd, on update */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TDM_MAX_NFS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);		/* nf_id */
	__type(value, struct tdm_nf_queue);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_nf_queues SEC(".maps");

/*
 * A process NF's command line: control plane only. Key nf_id +
 * TDM_MAX_NFS holds the one a policy apply in progress replaced (its
 * undo); "" for none.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TDM_MAX_NFS * 2);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);		/* nf_id */
	__type(value, struct tdm_nf_cmd);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_nf_cmds SEC(".maps");

/*
 * Address sets (struct tdm_set_info): names and types, control plane
 * only. The elements: full addresses of plain sets in a hash (one
 * lookup), prefixes of interval sets in an LPM trie, each sized for a
 * million elements in all. Neither is preallocated (elements come and
 * go under readers), but the hash's buckets are: 16 MiB from the start.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TDM_MAX_SETS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);		/* set id, 1..TDM_MAX_SETS */
	__type(value, struct tdm_set_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_sets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TDM_SET_MAX_ELEMS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tdm_set_addr_key);
	__type(value, __u32);		/* 1; the datapath reads nothing */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_set_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, TDM_SET_MAX_ELEMS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tdm_set_lpm_key);
	/* the prefix length, 0..128: tells the library a leaf from a
	 * prefix that covers it (the datapath reads nothing) */
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_set_prefixes SEC(".maps");

/*
 * max_entries of an NF's inner map template (tdm_*_table): the library
 * makes each NF's own table at the size its parameters give, and the
 * kernel does not compare max_entries when a map joins a map of maps
 * (bpf_map_meta_equal()). libbpf makes the template at every load and
 * frees it after: a small one costs nothing (65,536 preallocated LRU
 * entries took 50-80 ms a map under TCG, on every command that made
 * the state). A ring buffer's smallest size is a page.
 */
#define TDM_TEMPLATE_ENTRIES	64
#define TDM_TEMPLATE_RING	4096

/* Every NF's private maps (bpf/nf_*.bpf.c) */
#define TDM_NF_MAPS
#include "nf_list.h"
#undef TDM_NF_MAPS

static __always_inline struct tdm_meta *tdm_meta_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&tdm_scratch, &zero);
}

#endif /* TANDEM_BPF_MAPS_H */
