# SPDX-License-Identifier: GPL-2.0-only
# Sourced: count the kernel's patches of its own running code, by kprobes
# on its two ways to patch text that other CPUs may be running
# (text_poke_bp() and text_poke_queue(), arch/x86/kernel/alternative.c),
# each counted in a tracefs instance of its own, with the call chains.
# For the tools/vmtest guests, where such patches crashed and hung
# guests under TCG (selftests/vm_hold.c).

POKES_TR=/sys/kernel/tracing

# pokes_on NAME: start counting in instance NAME (fails without kprobe
# events)
pokes_on()
{
	local i=$POKES_TR/instances/$1 e

	[ -w $POKES_TR/kprobe_events ] || return 1
	for e in bp queue; do
		[ -d $POKES_TR/events/tdm_pokes/poke_$e ] ||
			echo "p:tdm_pokes/poke_$e text_poke_$e" >> $POKES_TR/kprobe_events ||
			return 1
	done
	mkdir -p "$i" || return 1
	for e in bp queue; do
		echo stacktrace > "$i/events/tdm_pokes/poke_$e/trigger" || return 1
	done
	echo 1 > "$i/events/tdm_pokes/enable" && echo > "$i/trace"
}

# pokes_report NAME: print how many patches instance NAME counted and
# their call chains (each on one line, counted); start again from 0.
# Fails if there were any.
pokes_report()
{
	local i=$POKES_TR/instances/$1 n

	n=$(grep -c ' poke_\(bp\|queue\):' "$i/trace")
	echo "# kernel text patched $n times"
	[ "$n" -eq 0 ] || grep -v '^#' "$i/trace" | awk '
		/ poke_(bp|queue):/ { if (c != "") print c; c = ""; next }
		/=>/ && $2 !~ /^(kprobe_|0x|text_poke_)/ { c = c (c == "" ? "" : " < ") $2 }
		END { if (c != "") print c }' | sort | uniq -c | sort -rn |
		head -20 | sed 's/^/#   /'
	echo > "$i/trace"
	[ "$n" -eq 0 ]
}

# pokes_off NAME: stop counting in instance NAME
pokes_off()
{
	local i=$POKES_TR/instances/$1

	[ -d "$i" ] || return 0
	echo 0 > "$i/events/tdm_pokes/enable"
	echo '!stacktrace' > "$i/events/tdm_pokes/poke_bp/trigger"
	echo '!stacktrace' > "$i/events/tdm_pokes/poke_queue/trigger"
	rmdir "$i"
}
