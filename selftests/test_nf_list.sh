#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# An NF is one BPF file and one library file (bpf/lib/nf.h): the build
# fails, naming the file, when the two lists differ or a declaration is
# wrong (tools/gen-nf-list); and a new NF made of just those two files
# builds, and the command line knows it. Needs no privileges and no
# state: it builds a copy of the tree.
TOP=$(cd "$(dirname "$0")/.." && pwd)
GEN=$TOP/tools/gen-nf-list
TMP=$(mktemp -d /tmp/tandem-nflist.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
ktap_count=0
ktap_failed=0
case_failed=0

echo "KTAP version 1"
echo "1..3"

fail()
{
	echo "# check failed: $1"
	case_failed=1
}

case_end()
{
	ktap_count=$((ktap_count + 1))
	if [ $case_failed -eq 0 ]; then
		echo "ok $ktap_count $1"
	else
		echo "not ok $ktap_count $1"
		ktap_failed=$((ktap_failed + 1))
	fi
	case_failed=0
}

# gen_fails WHAT MESSAGE ARGS...: gen-nf-list fails and says MESSAGE
gen_fails()
{
	local what=$1 msg=$2
	shift 2
	if "$GEN" "$@" > "$TMP/out" 2> "$TMP/err"; then
		fail "$what: the list was made"
	elif ! grep -qF -- "$msg" "$TMP/err"; then
		fail "$what: said '$(cat "$TMP/err")', not '$msg'"
	fi
}

cd "$TOP" || exit 1
BPF=$(ls bpf/nf_*.bpf.c)
LIB=$(ls user/lib/nf_*.c)

# the tree itself: every NF in both lists, each once in TDM_NF_TYPES
"$GEN" $BPF -- $LIB > "$TMP/nf_list.h" || fail "the tree's NFs"
for f in $BPF; do
	n=$(basename "$f" .bpf.c); n=${n#nf_}
	grep -q "TDM_NF_TYPE($n, " "$TMP/nf_list.h" || fail "$n is not listed"
done
[ "$(grep -c 'TDM_NF_TYPE(' "$TMP/nf_list.h")" -eq "$(echo $BPF | wc -w)" ] ||
	fail "the list has another count of NFs than bpf/"
case_end "the_tree_lists_every_nf_once"

mkdir -p "$TMP/bpf" "$TMP/lib"
cp $BPF "$TMP/bpf/"
first=$(echo $BPF | awk '{print $1}')
gen_fails "a BPF file without its library half" "differ" \
	$BPF -- $(echo $LIB | tr ' ' '\n' | grep -v nf_counter)
gen_fails "a library file without its BPF file" "differ" \
	$(echo $BPF | tr ' ' '\n' | grep -v nf_policer) -- $LIB
sed '/^TDM_NF(/d' "$first" > "$TMP/bpf/$(basename "$first")"
gen_fails "no TDM_NF() line" "needs exactly one line" \
	"$TMP/bpf/$(basename "$first")" -- "$(echo $LIB | awk '{print $1}')"
cp $BPF "$TMP/bpf/"
sed 's/^TDM_NF(policer, [0-9]*,/TDM_NF(policer, 2,/' bpf/nf_policer.bpf.c \
	> "$TMP/bpf/nf_policer.bpf.c"
gen_fails "two NFs with one id" "two NFs have id 2" \
	$(echo $BPF | sed "s|bpf/nf_policer.bpf.c|$TMP/bpf/nf_policer.bpf.c|") -- $LIB
sed 's/^TDM_NF(policer,/TDM_NF(police,/' bpf/nf_policer.bpf.c \
	> "$TMP/bpf/nf_policer.bpf.c"
gen_fails "a name not the file's" "declares NF 'police'" \
	$(echo $BPF | sed "s|bpf/nf_policer.bpf.c|$TMP/bpf/nf_policer.bpf.c|") -- $LIB
sed 's/^TDM_NF(policer, [0-9]*,/TDM_NF(policer, 0,/' bpf/nf_policer.bpf.c \
	> "$TMP/bpf/nf_policer.bpf.c"
gen_fails "id 0" "(id: 1, 2, ...)" \
	$(echo $BPF | sed "s|bpf/nf_policer.bpf.c|$TMP/bpf/nf_policer.bpf.c|") -- $LIB
sed 's/^TDM_NF(policer, \([0-9]*\), struct tdm_policer_params,/TDM_NF(policer, \1, struct tdm_policer_state,/' \
	bpf/nf_policer.bpf.c > "$TMP/bpf/nf_policer.bpf.c"
gen_fails "parameters of another struct" "are struct tdm_policer_params" \
	$(echo $BPF | sed "s|bpf/nf_policer.bpf.c|$TMP/bpf/nf_policer.bpf.c|") -- $LIB
case_end "a_wrong_list_fails_naming_the_file"

# A new NF, 'minlen' (drops frames shorter than a minimum), written as
# two files in a copy of the tree: it builds, tandem lists it with its
# parameters and drop reason, and its command is tandem's.
if [ "${NF_LIST_BUILD:-1}" = 0 ]; then
	echo "# NF_LIST_BUILD=0: not building a copy"
else
	git ls-files -z | (cd "$TMP" && mkdir tree && cd tree &&
		xargs -0 -I{} sh -c 'mkdir -p "$(dirname "{}")" && cp "'"$TOP"'/{}" "{}"' ) ||
		fail "copying the tree"
	cat > "$TMP/tree/bpf/nf_minlen.bpf.c" <<'EOF'
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* minlen: a test NF (selftests/test_nf_list.sh) */
#ifdef TDM_NF_DECLARATIONS
struct tdm_minlen_params {
	__u32 min;
};

enum {
	TDM_MINLEN_DROP_SHORT = TDM_DROP_NF,
	TDM_MINLEN_DROP_MAX,
};

TDM_NF(minlen, 99, struct tdm_minlen_params, TDM_MINLEN_DROP_MAX);
#endif

#ifdef TDM_NF_MAPS
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TDM_MAX_NFS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tdm_minlen_seen SEC(".maps");
#endif

#ifdef TDM_NF_DATAPATH
static __always_inline int minlen_run(struct xdp_md *ctx,
					struct tdm_meta *pm,
					const volatile struct tdm_hop_nf *nf)
{
	return pm->pkt_len < TDM_HOP_PARAMS(nf, minlen)->min ?
	       TDM_MINLEN_DROP_SHORT : NF_CONTINUE;
}
#endif
EOF
	cat > "$TMP/tree/user/lib/nf_minlen.c" <<'EOF'
// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <json-c/json.h>
#include "internal.h"
#include "grammar.h"

static const struct tdm_nf_param minlen_params[] = {
	{ "min", "N", true },
	{}
};

static int minlen_parse(union tdm_nf_params *p, const char *const *vals,
			  char *err, size_t errlen)
{
	TDM_NF_PARAMS(p, minlen)->min = atoi(vals[0]);
	return 0;
}

static void minlen_format(const union tdm_nf_params *p, char *buf,
			    size_t size)
{
	snprintf(buf, size, "min %u", TDM_NF_PARAMS(p, minlen)->min);
}

static const char *const minlen_drops[TDM_MINLEN_DROP_MAX] = {
	[TDM_MINLEN_DROP_SHORT] = "short",
};

/* a command of its own: tandem minlen check LEN MIN */
static const struct arg minlen_check_args[] = {
	{ .meta = "LEN", .type = ARG_NUM, .flags = ARG_REQUIRED, .max = 65535,
	  .help = "a frame length" },
	{ .meta = "MIN", .type = ARG_NUM, .flags = ARG_REQUIRED, .max = 65535,
	  .help = "the NF's min" },
	{}
};

static int minlen_check(struct tdm_ctx *ctx, const struct args *a,
			struct json_object **out)
{
	*out = json_object_new_boolean(arg_num(a, "LEN", 0) <
				       arg_num(a, "MIN", 0));
	return 0;
}

static void minlen_check_print(struct json_object *o, FILE *f)
{
	fprintf(f, "%s\n", json_object_get_boolean(o) ? "dropped" : "passed");
}

static const struct tdm_nf_command minlen_cmds[] = {
	{ "check", NULL, minlen_check_args, "would a frame be dropped",
	  false, minlen_check, minlen_check_print },
	{}
};

static const struct tdm_nf_object minlen_object = {
	.name = "minlen", .summary = "the minlen NF's commands",
	.cmds = minlen_cmds,
};

const struct tdm_nf_ops tdm_nf_minlen = {
	.summary = "drops frames shorter than min bytes",
	.params = minlen_params,
	.parse = minlen_parse, .format = minlen_format,
	.drops = minlen_drops,
	.object = &minlen_object,
};
EOF
	# its own build: not the caller's make flags (O=, -j) nor its build dir;
	# the layer check too, which must place the new file by itself
	if ! env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -C "$TMP/tree" -j2 O=build \
		build/tandem build/layers.ok > "$TMP/build.log" 2>&1; then
		fail "the tree with minlen does not build"
		grep -E "error|Error" "$TMP/build.log" | head -10 | sed 's/^/# /'
	else
		"$TMP/tree/build/tandem" -j nf types > "$TMP/types.json"
		python3 - "$TMP/types.json" <<'PY' || fail "tandem nf types lacks minlen"
import json, sys
t = [x for x in json.load(open(sys.argv[1])) if x["type"] == "minlen"]
assert t, "not listed"
assert t[0]["params"] == "min N", t[0]
assert t[0]["drop_reasons"] == ["missed", "short"], t[0]
PY
		grep -q tdm_minlen_seen "$TMP/tree/build/bpf/entry.skel.h" ||
			fail "its private map is not among the maps the library makes"
		# its command, in the CLI that never heard of it
		"$TMP/tree/build/tandem" help | grep -q "minlen .*the minlen NF's commands" ||
			fail "tandem help lacks the minlen object"
		# run, in a private bpffs (it opens the state, as every command)
		tm()
		{
			unshare -m sh -c 'mount -t bpf bpf /sys/fs/bpf && exec "$0" "$@"' \
				"$TMP/tree/build/tandem" "$@" 2>&1
		}
		if [ "$(id -u)" -eq 0 ]; then
			[ "$(tm minlen check 60 64)" = dropped ] ||
				fail "tandem minlen check 60 64: $(tm minlen check 60 64)"
			[ "$(tm -j minlen check 100 64)" = false ] ||
				fail "tandem -j minlen check 100 64: $(tm -j minlen check 100 64)"
		else
			echo "# not root: its command is not run"
		fi
		"$TMP/tree/build/tandem" minlen check 60 > /dev/null 2>&1
		[ $? -eq 2 ] || fail "a missing word is not a usage error"
	fi
fi
case_end "a_new_nf_is_two_files"

echo "# $((ktap_count - ktap_failed)) passed, $ktap_failed failed"
[ $ktap_failed -eq 0 ]
