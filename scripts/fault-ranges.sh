#!/usr/bin/env bash
# fault-ranges.sh KOBJ: for scripts/guest/fault-inject.sh, the text of
# HyperPlace (mm/hyperplace) and of the tier balloon driver in the kernel
# built in KOBJ, as "NAME FIRST-SYMBOL END-SYMBOL" lines.  The guest looks
# the symbols up in /proc/kallsyms (KASLR moves them) and gives the range
# to the fault injectors' require-start/require-end: an allocation fails
# only when that code is on the stack.  END-SYMBOL is the first symbol
# after the range.  Fails if the code is not one contiguous block; __init
# code and the parts GCC splits off (.cold, .part) are left out.
set -euo pipefail
kobj=$1
map=$kobj/System.map

range() { # range NAME OBJECT...
	local name=$1
	shift
	nm --defined-only "$@" | awk '$2 ~ /^[tT]$/ && $3 !~ /\./ && $3 !~ /^_sub_[ID]_/ { print $3 }' | sort -u |
	awk -v name="$name" '
		NR == FNR { ours[$1] = 1; next }
		$3 == "_sinittext" { init = 1 }
		$3 == "_einittext" { init = 0 }
		# Padding, static-call trampolines, split-off parts (.part, .cold),
		# the per-object constructors KASAN adds and __init code: elsewhere
		init || $2 !~ /^[tT]$/ || $3 ~ /^__(pfx|SCT)_/ || $3 ~ /^_sub_[ID]_/ || $3 ~ /\./ { next }
		{ seen[$3]++ }
		$3 in ours { if (end) gap = $3; if (!first) first = $3; next }
		first && !end { end = $3 }
		END {
			if (!first || !end) { print name ": no text found" > "/dev/stderr"; exit 1 }
			if (gap) { print name ": not contiguous (" gap " after " end ")" > "/dev/stderr"; exit 1 }
			if (seen[first] > 1 || seen[end] > 1) {
				print name ": " first " or " end " is not unique" > "/dev/stderr"; exit 1
			}
			print name, first, end
		}' - "$map"
}

range hyperplace "$kobj"/mm/hyperplace/*.o
range balloon_tiers "$kobj"/drivers/virtio/virtio_balloon_tiers*.o
