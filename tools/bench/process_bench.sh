#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The process NF experiments (Documentation/process-nfs-bench.md): a
# private bpffs and a pair of network namespaces (selftests/lib.sh),
# then tools/bench/process_bench.py runs the experiments in them.
#
#   tools/bench/process_bench.sh [-o FILE.md] [EXPERIMENT...]
#
# EXPERIMENT: detour, wasted, weights (default: all three, in that
# order). Root; 2 CPUs or more (the NFs on CPU 0, the sender on CPU 1).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export TANDEM=$ROOT/build/tandem
source "$ROOT/selftests/lib.sh"
TOP=$ROOT
require ip nsenter python3 ethtool bpftool taskset
for b in tandem tandemd tandem-nf-burn udp-blast; do
	[ -x "$ROOT/build/$b" ] || { echo "build/$b is missing: make" >&2; exit 1; }
done
setup_pair || { echo "netns setup failed" >&2; exit 1; }
# a local socket's datagrams leave with CHECKSUM_PARTIAL, which XDP
# redirect loses (Documentation/process-nfs.rst): finish them here
in_a ethtool -K veth0 tx off > /dev/null
# run_time_ns/run_cnt of the programs; put back as it was at the end
STATS=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
trap 'sysctl -qw kernel.bpf_stats_enabled=$STATS; cleanup' EXIT
# Debian's python3, where python3-matplotlib is, for the plot; the
# experiments need only the standard library
PY=python3
/usr/bin/python3 -c "import matplotlib" 2>/dev/null && PY=/usr/bin/python3
NS_A=$NS_A NS_B=$NS_B ROOT=$ROOT TMP=$TMP $PY "$ROOT/tools/bench/process_bench.py" "$@"
