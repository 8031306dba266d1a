#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The pin directory and its lock are trustworthy: on a bpffs mounted
# without mode= (1777, like lib.sh's), a pin directory or pin another user
# made or may use is refused with one line, a symlink too; the lock wait
# is bounded and names the holder; an unprivileged run creates nothing.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 setpriv flock bpftool

PIN=/sys/fs/bpf/tandem
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"
holders=""

ktap_plan 9

trap 'stop_holders; cleanup' EXIT

# refused PATTERN CMD...: CMD fails with exactly one line saying PATTERN
refused()
{
	local pat=$1
	shift
	check_fail "$*" "$pat" "$@" || return 1
	if [ "$(wc -l < "$TMP/check.out")" -ne 1 ]; then
		echo "# check failed: $*: error is not one line:"
		sed 's/^/#   /' "$TMP/check.out"
		case_failed=1
		return 1
	fi
}

# the bpffs's tree (owners, modes) and our mounts
snapshot()
{
	find /sys/fs/bpf -printf '%p %u %m %y\n' | sort
	awk '{ print $5, $9 }' /proc/self/mountinfo
}

# empty DIR: nothing was made in DIR
empty()
{
	[ -z "$(ls -A "$1")" ] || { ls -la "$1"; return 1; }
}

# hold [-s]: hold the lock on $PIN from another process; its pid in $h.
# -o: the lock stays with flock(1), not with its sleep
hold()
{
	flock -o "$@" "$PIN" sleep 60 &
	h=$!
	holders="$holders $h"
	wait_lock "$h"
}

# wait_lock PID: until /proc/locks shows PID's flock
wait_lock()
{
	local i
	for i in $(seq 200); do
		grep -q "FLOCK .* $1 " /proc/locks && return 0
		sleep 0.05
	done
	echo "# pid $1 did not take the lock"
	return 1
}

stop_holders()
{
	local p
	for p in $holders; do
		pkill -P "$p" 2>/dev/null
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	holders=""
}

ms_since()
{
	echo $((($(date +%s%N) - $1) / 1000000))
}

expect "a bpffs mounted without mode= is 1777" "$(stat -c %a /sys/fs/bpf)" = 1777
snapshot > "$TMP/before"
refused "needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)" $NOBODY "$TANDEM" nf show
refused "needs root" $NOBODY "$TANDEM" nf add x counter
# JSON mode: the line on stderr, and {"error": ...} on stdout
check_fail "unprivileged -j" "needs root" $NOBODY "$TANDEM" -j nf show
$NOBODY "$TANDEM" -j nf show 2> "$TMP/err" > "$TMP/out"
expect "one line on stderr" "$(wc -l < "$TMP/err")" -eq 1
check "the error in JSON" grep -q '^{"error":"permission denied: tandem needs root' "$TMP/out"
refused "lacks CAP_NET_ADMIN" setpriv --bounding-set=-net_admin "$TANDEM" nf show
snapshot > "$TMP/after"
check "no directory, no pin, no mount made" diff -u "$TMP/before" "$TMP/after"
case_end "unprivileged_run_creates_nothing"

check "nobody makes the pin directory first" $NOBODY mkdir "$PIN"
refused "directory $PIN is owned by uid 65534 (mode 0755).*rm -r $PIN" "$TANDEM" nf show
refused "owned by uid 65534" "$TANDEM" nf add x counter
check "nothing made in it" empty "$PIN"
rm -r "$PIN"
mkdir -m 0700 "$PIN" && chown 65534 "$PIN"
refused "owned by uid 65534 (mode 0700)" "$TANDEM" nf show
check "nothing made in it" empty "$PIN"
rmdir "$PIN"
case_end "a_pin_directory_another_user_made_is_refused"

# tandem makes 0700: any access for others is loose (read: open it and
# hold its flock; write: replace pins)
for mode in 0777 0755 0750 0711 0770; do
	mkdir -m "$mode" "$PIN"
	refused "directory $PIN has mode $mode.*chmod go= $PIN" "$TANDEM" nf show
	check "nothing made in a $mode directory" empty "$PIN"
	rmdir "$PIN"
done
mkdir -m 0700 /sys/fs/bpf/real
ln -s /sys/fs/bpf/real "$PIN"
refused "$PIN is a symlink" "$TANDEM" nf show
check "nothing made where it points" empty /sys/fs/bpf/real
rm "$PIN"
check "nobody plants a symlink" $NOBODY ln -s /sys/fs/bpf/real "$PIN"
refused "$PIN is a symlink (owner uid 65534)" "$TANDEM" nf show
check "nothing made where it points" empty /sys/fs/bpf/real
rm "$PIN"
rmdir /sys/fs/bpf/real
case_end "a_loose_pin_directory_or_a_symlink_is_refused"

# one others may write to without the sticky bit: they could rename ours
mkdir -m 0777 /sys/fs/bpf/open
refused "/sys/fs/bpf/open, above the pin directory, is owned by uid 0 with mode 0777" env TANDEM_PIN_ROOT=/sys/fs/bpf/open/tandem "$TANDEM" nf show
check "no pin directory made" empty /sys/fs/bpf/open
chmod 1777 /sys/fs/bpf/open
check "sticky: accepted" env TANDEM_PIN_ROOT=/sys/fs/bpf/open/tandem "$TANDEM" nf show
check "made 0700, root's" test "$(stat -c '%a %u' /sys/fs/bpf/open/tandem)" = "700 0"
rm -r /sys/fs/bpf/open
case_end "a_pin_directory_others_can_rename_is_refused"

setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }
check "nf" tdm nf add c counter
check "chain" tdm chain add all c
check "attach" tdm dev attach veth1 chain all
check "made 0700, root's" test "$(stat -c '%a %u' "$PIN")" = "700 0"
check "links/ too" test "$(stat -c '%a %u' "$PIN/links")" = "700 0"
link=$(ls "$PIN/links")
check "a link pin" test -n "$link"
for p in tdm_jmp tdm_abi "links/$link"; do
	chown 65534 "$PIN/$p"
	refused "pin $PIN/$p is owned by uid 65534.*rm $PIN/$p" tdm nf show
	chown 0 "$PIN/$p"
	chmod 0644 "$PIN/$p"
	refused "pin $PIN/$p has mode 0644" tdm nf show
	chmod 0600 "$PIN/$p"
done
chown 65534 "$PIN/links"
refused "directory $PIN/links is owned by uid 65534" tdm nf show
chown 0 "$PIN/links"
chmod 0755 "$PIN/links"
refused "directory $PIN/links has mode 0755" tdm nf show
chmod 0700 "$PIN/links"
ln -s ../tdm_jmp "$PIN/links/dev_999"
refused "$PIN/links/dev_999 is a symlink" tdm nf show
rm "$PIN/links/dev_999"
bpftool map create "$PIN/planted" type array key 4 value 4 entries 1 name planted
chown 65534 "$PIN/planted"
refused "pin $PIN/planted is owned by uid 65534" tdm nf show
rm "$PIN/planted"
check "all put back: accepted" tdm nf show
check "the chain still runs" in_a ping -c 1 -W 2 10.10.0.2
case_end "a_pin_of_another_user_or_loose_mode_is_refused"

# what makes the checks above enough: the kernel keeps others out of a
# root-owned 0700 directory
check "others cannot plant a directory" sh -c "! $NOBODY mkdir $PIN/x 2>/dev/null"
check "nor a symlink" sh -c "! $NOBODY ln -s /tmp $PIN/x 2>/dev/null"
check "nor delete a pin" sh -c "! $NOBODY rm -f $PIN/tdm_jmp 2>/dev/null"
check "nor rename one" sh -c "! $NOBODY mv $PIN/tdm_jmp $PIN/x 2>/dev/null"
check "nor open a pin" sh -c "! $NOBODY bpftool map show pinned $PIN/tdm_jmp 2>/dev/null"
check "nor open the directory to hold its lock" sh -c "! $NOBODY flock -n $PIN true 2>/dev/null"
check "nor rename the directory (sticky bpffs root)" sh -c "! $NOBODY mv $PIN /sys/fs/bpf/x 2>/dev/null"
check "state intact" tdm nf show
case_end "others_cannot_touch_a_root_pin_directory"

hold
t0=$(date +%s%N)
refused "$PIN is locked by pid $h (flock, exclusive); gave up after 1 s" env TANDEM_LOCK_TIMEOUT=1 timeout 20 "$TANDEM" nf show
ms=$(ms_since "$t0")
expect "waited 1 s ($ms ms)" "$ms" -ge 950
expect "and not much more ($ms ms)" "$ms" -lt 6000
t0=$(date +%s%N)
refused "locked by pid $h (flock, exclusive); gave up after 0 s" env TANDEM_LOCK_TIMEOUT=0 timeout 20 "$TANDEM" nf add x counter
ms=$(ms_since "$t0")
expect "0: no wait ($ms ms)" "$ms" -lt 3000
refused "TANDEM_LOCK_TIMEOUT='soon': expected seconds" env TANDEM_LOCK_TIMEOUT=soon "$TANDEM" nf show
refused "TANDEM_LOCK_TIMEOUT='-1'" env TANDEM_LOCK_TIMEOUT=-1 "$TANDEM" nf show
# a writer waiting for the lock still ends on SIGTERM
t0=$(date +%s%N)
TANDEM_LOCK_TIMEOUT=20 "$TANDEM" nf add x counter > /dev/null 2>&1 &
w=$!
sleep 0.5
kill -TERM "$w"
wait "$w"
expect "killed by SIGTERM" "$?" -eq 143
ms=$(ms_since "$t0")
expect "while it waited ($ms ms)" "$ms" -lt 5000
stop_holders
check_fail "nothing added meanwhile" "no NF named 'x'" tdm stats nf x
case_end "the_lock_wait_is_bounded_and_names_the_holder"

# flock(1) without -o: its child inherits the lock and outlives it
flock "$PIN" sleep 60 &
f=$!
holders="$holders $f"
wait_lock "$f"
child=""
for i in $(seq 200); do	# flock(1) locks, then forks
	child=$(pgrep -P "$f") && break
	sleep 0.05
done
expect "flock(1) has a child" "${child:-0}" -gt 0
kill "$f"
wait "$f" 2>/dev/null
refused "locked by pid $child (sleep, exclusive)" env TANDEM_LOCK_TIMEOUT=0.3 "$TANDEM" nf show
kill "$child"
check "released: accepted" "$TANDEM" nf show
# a shared holder: readers go on, writers wait
hold -s
check "a reader shares the lock" env TANDEM_LOCK_TIMEOUT=1 "$TANDEM" nf show
refused "locked by pid $h (flock, shared)" env TANDEM_LOCK_TIMEOUT=0.5 "$TANDEM" nf add x counter
stop_holders
# a writer that waits gets the lock once it is released
flock -o "$PIN" sleep 1 &
holders="$holders $!"
wait_lock "$!"
check "a writer waits for a short holder" env TANDEM_LOCK_TIMEOUT=20 "$TANDEM" nf add w counter
stop_holders
case_end "shared_holders_let_readers_in_and_heirs_are_named"

# A command takes the maps from their pins without loading the BPF
# object (user/lib/open.c, reuse_pins()): it must still refuse a pin of
# another layout as the load does (here only the value size differs),
# and make a missing one
rm -rf "$PIN"
check "nf add" "$TANDEM" nf add c counter
rm "$PIN/tdm_nf_cmds"
check "a map of another value size in its place" \
	bpftool map create "$PIN/tdm_nf_cmds" type hash key 4 value 4 entries 256 name tdm_nf_cmds flags 1
refused "incompatible pins.*rm -r $PIN" "$TANDEM" nf show
refused "incompatible pins" "$TANDEM" nf add d counter
rm "$PIN/tdm_nf_cmds"
check "a missing pin is made again" "$TANDEM" nf show
check "... a map of the declared layout" \
	bash -c "bpftool -j map show pinned '$PIN/tdm_nf_cmds' | grep -q '\"bytes_value\":[1-9][0-9]'"
check "nothing else changed" output_has '"name":"c"' "$TANDEM" -j nf show
check "d was not added" bash -c "! '$TANDEM' nf show d"
rm -rf "$PIN"
case_end "pins_of_another_layout_are_refused_missing_ones_made"

# ... which needs every map of the object pinned: one that is not (two
# per-CPU scratch maps were not, for two releases) makes every command
# load the object, probing features and making or reusing each map,
# which cost a command 30 times its work (a third of a second in a TCG
# guest). libbpf says when a load made or reused a map.
loads="created successfully\|reused pinned map"
check "the state made" "$TANDEM" nf add c counter
expect "the next command loads nothing" \
	"$(TANDEM_DEBUG=1 "$TANDEM" nf show 2>&1 | grep -c "$loads")" -eq 0
expect "the first did (the check can fail)" \
	"$(rm -rf "$PIN"; TANDEM_DEBUG=1 "$TANDEM" nf show 2>&1 | grep -c "$loads")" -ge 1
rm -rf "$PIN"
case_end "a_command_on_made_state_loads_no_object"

ktap_finish
