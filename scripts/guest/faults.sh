# Fault injection helpers for the debug guest, sourced by fault-inject.sh
# and hyperflex-test.sh: make allocations fail only while a given part of
# the kernel (a line of /hp/fault-ranges, from scripts/fault-ranges.sh)
# is on the stack.
dbg=/sys/kernel/debug

# addr SYMBOL: its address now (KASLR), from /proc/kallsyms
addr() { awk -v s="$1" '$3 == s { print "0x" $1; exit }' /proc/kallsyms; }

# inject_faults NAME PERCENT [MIN_ORDER]: fail PERCENT of the allocations
# made with NAME's code (a line of /hp/fault-ranges) on the stack, page
# allocations from order MIN_ORDER up (1, the kernel's default); 0 stops it
inject_faults() {
	min_order=${3:-1}
	set -- "$1" "$2" $(awk -v n="$1" '$1 == n { print $2, $3 }' /hp/fault-ranges)
	for f in failslab fail_page_alloc; do
		d=$dbg/$f
		echo 0 > $d/probability
		[ "$2" = 0 ] && continue
		echo N > $d/task-filter
		echo "$(addr "$3")" > $d/require-start
		echo "$(addr "$4")" > $d/require-end
		echo 32 > $d/stacktrace-depth
		echo -1 > $d/times
		echo 1 > $d/interval
		echo 0 > $d/space
		# Reports would be splats; the counters tell what failed.
		echo 0 > $d/verbose
		echo N > $d/ignore-gfp-wait
		echo "$2" > $d/probability
	done
	echo N > $dbg/fail_page_alloc/ignore-gfp-highmem
	echo "$min_order" > $dbg/fail_page_alloc/min-order
}
