/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A policy as the library holds it: what should exist, read from a
 * policy file (policy.c) or from the running state (apply.c), and
 * compared object by object when it is applied. References between
 * objects are indices into the policy's own arrays.
 */
#ifndef TANDEM_POLICY_H
#define TANDEM_POLICY_H

#include "internal.h"

struct pol_nf {
	struct tdm_nf_info info;	/* name, type, params (no bank/ids) */
	__u32 id;			/* running state: its id */
	int line;			/* where it is said; 0: running state */
	char cmd[TDM_NF_CMD_LEN];	/* process NFs: "" or the command */
	int nrules;			/* firewalls: rules the file gives it */
};

/*
 * An address set. A file's elements come from its set element add and
 * set load lines; the parser sorts them and drops repeats, as a
 * running set's are (tdm_set_elems_all()).
 */
struct pol_set {
	struct tdm_set_info info;	/* name, family, flags (no count) */
	struct tdm_set_elems elems;	/* sorted, without repeats */
	__u32 id;			/* running state: its id; a file's:
					 * set by the apply */
	int line;
};

struct pol_rule {
	int nf;				/* index in nfs[] */
	/* the names of the sets it matches in src_set, dst_set; in m
	 * their ids (a file's: 0 until the apply knows them), the family
	 * they imply and their interval flags */
	struct tdm_rule_spec spec;
	__u32 id;			/* running state: its id */
	int line;
};

struct pol_chain {
	char name[TDM_NAME_LEN];
	int nnfs;
	int nfs[TDM_MAX_CHAIN_NFS];	/* indices in nfs[] */
	__u32 action;			/* enum tdm_verdict */
	char redirect[16];		/* device of TDM_ACT_REDIRECT */
	__u32 redirect_ifindex;		/* running state */
	__u32 id;			/* running state */
	int line;
};

struct pol_dev {
	char name[16];
	int chain;			/* index in chains[], or -1: none */
	enum tdm_attach_mode mode;	/* running state: as attached */
	bool force;
	__u32 slot;			/* running state */
	int line;
};

struct pol_steer {
	char dev[16];
	__u32 prio;			/* not for exact entries */
	bool exact;
	struct tdm_match m;
	int chain;			/* index in chains[] */
	__u32 id;			/* running state */
	__u32 slot;			/* running state */
	int line;
};

struct tdm_policy {
	char *name;			/* file name, for errors */
	struct pol_set *sets;
	struct pol_nf *nfs;
	struct pol_rule *rules;
	struct pol_chain *chains;
	struct pol_dev *devs;
	struct pol_steer *steers;
	int nsets, nnfs, nrules, nchains, ndevs, nsteers;
	int cap_sets, cap_nfs, cap_rules, cap_chains, cap_devs, cap_steers;
};

/* The running state as a policy, with ids (apply.c); 0 or -errno. */
int tdm_policy_running(struct tdm_ctx *ctx, struct tdm_policy **out);
/* Index of the set / NF / chain called name in p, or -1. */
int tdm_policy_set(const struct tdm_policy *p, const char *name);
int tdm_policy_nf(const struct tdm_policy *p, const char *name);
int tdm_policy_chain(const struct tdm_policy *p, const char *name);
/* Room for one more in an array of p: 0 or -ENOMEM. */
int tdm_policy_grow(void **arr, int n, int *cap, size_t size);
/* Room for one more in array field what of policy p (nfs, rules, ...) */
#define GROW(p, what) \
	tdm_policy_grow((void **)&(p)->what, (p)->n##what, &(p)->cap_##what, \
			sizeof(*(p)->what))

#endif /* TANDEM_POLICY_H */
