// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The words of the commands that say what exists: nf add, rule add,
 * chain add, dev attach, steer add, and the address set's set add,
 * set element add, set load. The CLI runs them one at a time; a
 * policy file is a list of them (policy.c). One table each, so both read
 * the same words the same way.
 */
#include "grammar.h"

const char *const tdm_rule_actions[] = { "pass", "drop", NULL };

const char *const tdm_dev_modes[] = {
	"native", "generic", "drv", "skb", NULL,
};

const enum tdm_attach_mode tdm_dev_mode_of[] = {
	TDM_MODE_NATIVE, TDM_MODE_GENERIC, TDM_MODE_NATIVE, TDM_MODE_GENERIC,
};

const struct arg tdm_nf_add_args[] = {
	{ .meta = "NAME", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the NF's name: letters, digits, '-', '_', '.'; at most 31" },
	{ .meta = "TYPE", .type = ARG_NFTYPE, .flags = ARG_REQUIRED,
	  .help = "its type (see 'tandem nf types')" },
	{ .meta = "PARAM VALUE", .type = ARG_REST,
	  .help = "the type's parameters, each once (below)" },
	{}
};

const struct arg tdm_rule_add_args[] = {
	{ .meta = "NF", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the firewall NF" },
	{ "prio", NULL, "N", ARG_NUM, 0, 0, 0xffffffff, NULL,
	  "lower runs first; default 100" },
	MATCH_ARGS,
	{ "state", NULL, "STATES", ARG_MATCH, 0, 0, 0, NULL,
	  "conntrack states, e.g. established,related (a conntrack NF before)" },
	{ "action", NULL, "ACTION", ARG_ENUM, ARG_REQUIRED, 0, 0, tdm_rule_actions,
	  "what a matching packet gets" },
	{}
};

const struct arg tdm_chain_add_args[] = {
	{ .meta = "NAME", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the chain's name: letters, digits, '-', '_', '.'; at most 31" },
	{ .meta = "NF", .type = ARG_NAME, .flags = ARG_REQUIRED | ARG_MANY,
	  .help = "the NFs, in the order they run; each at most once" },
	{ "then", NULL, "ACTION", ARG_ACTION, 0, 0, 0, NULL,
	  "what a packet that passed every NF gets: pass (default), drop,\n"
	  "                     tx or redirect DEV", "action" },
	{}
};

const struct arg tdm_dev_attach_args[] = {
	{ .meta = "DEV", .type = ARG_DEV, .flags = ARG_REQUIRED,
	  .help = "the device" },
	{ "chain", NULL, "NAME", ARG_NAME, 0, 0, 0, NULL,
	  "the default chain: what packets no steering entry takes run" },
	{ "mode", NULL, "MODE", ARG_ENUM, 0, 0, 0, tdm_dev_modes,
	  "XDP mode; default native if the driver has it, else generic" },
	{ "force", "--force", NULL, ARG_FLAG, 0, 0, 0, NULL,
	  "replace another XDP program on DEV" },
	{}
};

const struct arg tdm_steer_add_args[] = {
	{ .meta = "DEV", .type = ARG_DEV, .flags = ARG_REQUIRED,
	  .help = "the receiving device" },
	{ "prio", NULL, "N", ARG_NUM, 0, 0, 0xffffffff, NULL,
	  "lower runs first; default 100; not for exact entries" },
	MATCH_ARGS,
	{ "chain", NULL, "NAME", ARG_NAME, ARG_REQUIRED, 0, 0, NULL,
	  "the chain a matching packet runs" },
	{}
};

const char *const tdm_set_types[] = { "ipv4", "ipv6", "inet", NULL };
const __u8 tdm_set_type_family[] = { 4, 6, 0 };
const char *const tdm_set_elem_ops[] = { "add", "del", NULL };

const struct arg tdm_set_add_args[] = {
	{ .meta = "NAME", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the set's name: letters, digits, '-', '_', '.'; at most 31" },
	{ "type", NULL, "TYPE", ARG_ENUM, ARG_REQUIRED, 0, 0, tdm_set_types,
	  "the family of its elements; inet: both" },
	{ "interval", NULL, NULL, ARG_FLAG, 0, 0, 0, NULL,
	  "its elements are prefixes (ADDR/LEN), not addresses" },
	{}
};

const struct arg tdm_set_element_args[] = {
	{ .meta = "add|del", .type = ARG_ENUM, .flags = ARG_REQUIRED,
	  .values = tdm_set_elem_ops, .help = "what to do with the elements",
	  .what = "operation" },
	{ .meta = "NAME", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the set" },
	{ .meta = "ELEM", .type = ARG_NAME, .flags = ARG_REQUIRED | ARG_MANY,
	  .help = "addresses; in an interval set, ADDR or ADDR/LEN" },
	{}
};

const struct arg tdm_set_load_args[] = {
	{ .meta = "NAME", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "the set" },
	{ .meta = "FILE", .type = ARG_NAME, .flags = ARG_REQUIRED,
	  .help = "one element a line; '#' starts a comment" },
	{}
};
