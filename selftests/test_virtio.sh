#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A chain on virtio_net in native mode (run in the VM, whose only NIC is a
# virtio_net device on qemu's restricted user network; skipped elsewhere).
# Traffic: ARP and ping to qemu's virtual gateway, which never leaves qemu.
source "$(dirname "$0")/lib.sh"
require ip ping

# Only in tools/vmtest's guest: never touch a real machine's NIC.
if ! grep -q 'vmtest' /proc/cmdline; then
	echo "1..0 # SKIP runs only in the tools/vmtest guest"
	exit $KSFT_SKIP
fi
dev=""
for d in /sys/class/net/*; do
	drv=$(basename "$(readlink "$d/device/driver" 2>/dev/null)" 2>/dev/null)
	if [ "$drv" = virtio_net ]; then
		dev=$(basename "$d")
		break
	fi
done
if [ -z "$dev" ]; then
	echo "1..0 # SKIP no virtio_net device here"
	exit $KSFT_SKIP
fi

ktap_plan 2
echo "# virtio_net device: $dev"
ip link set "$dev" up
ip addr add 10.0.2.15/24 dev "$dev" 2>/dev/null
T() { "$TANDEM" "$@"; }
check "nf" T nf add cnt counter
check "chain" T chain add vio cnt
check "attach native" T dev attach "$dev" chain vio mode native
check "native mode" output_has '"mode":"native"' T -j dev show
case_end "attach_native_on_virtio_net"

ping -c 3 -i 0.3 -W 1 10.0.2.2 > /dev/null 2>&1
n=$(json_get "$(T -j stats nf cnt)" packets)
echo "# the chain saw $n packets"
expect "the chain ran on received frames" "$n" -ge 1
check "detach" T dev detach "$dev"
expect "no XDP left" "$(ip -d link show dev "$dev" | grep -c 'prog/xdp')" -eq 0
case_end "chain_runs_on_virtio_net_rx"

ktap_finish
