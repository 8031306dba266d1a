#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The policy parser under libFuzzer for a minute (FUZZ_TIME seconds),
# from the seed corpus selftests/fuzz/corpus with selftests/fuzz/policy.dict:
# a sanitizer's finding, a broken invariant of an accepted policy or a
# malformed error (see selftests/fuzz/policy_fuzz.c) fails it, naming the
# input that shows it (kept in build/fuzz/crashes/). Builds the target
# if needed; skips if clang's libFuzzer is missing. Needs no privileges.
# Host only: the parser reads no system state, a VM would test nothing more.
TOP=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
FUZZ_O=$TOP/$O/fuzz
BIN=$FUZZ_O/policy_fuzz
CRASHES=$FUZZ_O/crashes
RT=$(clang -print-resource-dir 2>/dev/null)/lib/linux/libclang_rt.fuzzer-x86_64.a

echo "KTAP version 1"
if ! [ -e "$RT" ]; then
	echo "1..0 # SKIP clang's libFuzzer is missing (package libclang-rt-14-dev)"
	exit 4
fi
echo "1..3"

failed=0
n=0
result()
{
	n=$((n + 1))
	if [ "$1" -ne 0 ]; then
		failed=$((failed + 1))
		echo "not ok $n $2"
	else
		echo "ok $n $2"
	fi
}

out=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$out" "$work"' EXIT

make -s -C "$TOP" -j2 O="$O" fuzz-build > "$out" 2>&1
rc=$?
[ $rc -ne 0 ] && sed 's/^/#   /' "$out" | tail -20
result $rc "the fuzz target builds"
[ $rc -ne 0 ] && { echo "# 0 passed, $failed failed"; exit 1; }

# every seed as it is: the valid ones pass every check, the bad ones fail
# with a well-formed error
"$BIN" -runs=0 "$TOP/selftests/fuzz/corpus" > "$out" 2>&1
rc=$?
[ $rc -ne 0 ] && sed 's/^/#   /' "$out" | tail -30
result $rc "every_seed_passes_the_checks"

# the run: new inputs go to a scratch directory, the seeds stay as they are
mkdir -p "$CRASHES"
t0=$(date +%s)
"$BIN" -max_total_time="${FUZZ_TIME:-60}" -rss_limit_mb=2048 -timeout=5 \
	-dict="$TOP/selftests/fuzz/policy.dict" -print_final_stats=1 \
	-artifact_prefix="$CRASHES/" "$work" "$TOP/selftests/fuzz/corpus" \
	> "$out" 2>&1
rc=$?
echo "# $(($(date +%s) - t0)) s, $(grep -E 'stat::number_of_executed_units' "$out" |
	awk '{ print $2 }') inputs"
if [ $rc -ne 0 ]; then
	# what broke, where in our code, and the input that shows it
	grep -E '^policy_fuzz:|ERROR: |SUMMARY: |runtime error' "$out" |
		head -10 | sed 's/^/#   /'
	grep -E '^    #[0-9]+ .* in .*\.c(:[0-9]+)?' "$out" |
		grep -vE 'sanitizer|fuzzer::|nptl/|signal/|stdlib/' | head -10 | sed 's/^/#   /'
	f=$(grep -oE 'Test unit written to .*' "$out" | sed 's/Test unit written to //')
	echo "#   input: $f"
	echo "#   replay: $BIN $f"
fi
result $rc "fuzzing_the_policy_parser_finds_nothing"

echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
