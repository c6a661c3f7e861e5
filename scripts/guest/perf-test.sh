#!/bin/sh
# Runs in the test guest (busybox sh) with QEMU's emulated PMU
# (x-tcg-pmu) and the perf initramfs (Debian's perf, unmodified):
#  - perf stat counts the user instructions of a loop that retires a known
#    number, and as many cycles (the emulation's cycle is an instruction);
#  - perf record of the load-latency event (cpu/mem-loads,ldlat=64/uP)
#    on a program that reads one buffer attributes the samples' data
#    addresses to that buffer, and perf report reads the file back;
#  - a plain perf record takes its default event, precise cycles (PEBS),
#    and samples a loop where it runs.
# TAP on stdout.  Exit: 0 if every check passed, 1 otherwise.
# Debian's programs are in /usr/bin, which init leaves out of PATH.
export PATH=$PATH:/usr/bin
failed=0
n=0

# result OK NAME DETAIL
result() {
	n=$((n + 1))
	if [ "$1" = 1 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=1
	fi
	echo "# $3"
}

echo "TAP version 13"
echo "1..6"
# HyperPlace's PEBS counters would hold counters and LD_LAT; the choice
# file reads "[auto] pebs abit".
source=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/hyperplace/source)
echo abit > /sys/kernel/mm/hyperplace/source
# Under TCG a PMI takes milliseconds; perf's throttling is not under test.
echo 0 > /proc/sys/kernel/perf_cpu_time_max_percent

loops=10000000
stat=$(perf stat -x, -e instructions:u,cycles:u -- \
	/hp/bin/perf-target spin $loops 2>&1 >/dev/null)
insns=$(echo "$stat" | awk -F, '$3 == "instructions:u" { print $1 }')
cycles=$(echo "$stat" | awk -F, '$3 == "cycles:u" { print $1 }')
# The loop's 2 * loops, plus the program's start and exit.
ok=$(awk -v i="${insns:-0}" -v l=$loops 'BEGIN { i += 0; print (i >= 2 * l && i <= 2 * l + 200000) }')
result "$ok" "perf stat counts a loop's user instructions" \
	"instructions:u $insns for $((2 * loops)) in the loop; perf said: $(echo $stat)"
ok=$(awk -v c="${cycles:-0}" -v i="${insns:-0}" 'BEGIN { print (c + 0 > 0 && c + 0 == i + 0) }')
result "$ok" "perf stat counts a cycle per instruction" \
	"cycles:u $cycles, instructions:u $insns"

perf record -q -e cpu/mem-loads,ldlat=64/uP -c 997 -d -o /tmp/perf.data -- \
	/hp/bin/perf-target loads 16 4 > /tmp/target.out 2> /tmp/record.err
rc=$?
set -- $(grep '^buffer ' /tmp/target.out)
lo=$2 hi=$3
perf script -i /tmp/perf.data -F addr 2> /tmp/script.err > /tmp/addrs
samples=$(wc -l < /tmp/addrs)
# Addresses compare as 16-digit hex strings (busybox awk has no strtonum).
in=$(awk -v lo="$lo" -v hi="$hi" '
	function h(s) { sub(/^ *(0x)?/, "", s); while (length(s) < 16) s = "0" s; return tolower(s) }
	BEGIN { l = h(lo); u = h(hi) }
	{ a = h($1); if (a >= l && a < u) n++ }
	END { print n + 0 }' /tmp/addrs)
# 16 MiB read 4 times a line at a time: 1M loads, about 1050 samples.
ok=$([ "$rc" = 0 ] && [ "$samples" -ge 500 ] && echo 1)
result "${ok:-0}" "perf record takes load-latency samples" \
	"perf record exit $rc, $samples samples; $(head -c 300 /tmp/record.err /tmp/script.err | tr '\n' ' ')"
ok=$(awk -v s="$samples" -v i="$in" 'BEGIN { print (s > 0 && i >= s * 0.95) }')
result "$ok" "the samples' data addresses are in the loaded buffer" \
	"$in of $samples in $lo-$hi"
report=$(perf report -i /tmp/perf.data --stdio --sort=sym 2>&1)
ok=$(echo "$report" | grep -v '^#' | grep -q '\[\.\] loads *$' && echo 1)
result "${ok:-0}" "perf report puts the samples in the reading function" \
	"$(echo "$report" | grep -v '^#' | grep -v '^$' | head -3 | tr '\n' ' ')"

perf record -q -o /tmp/plain.data -- /hp/bin/perf-target spin 50000000 \
	> /dev/null 2> /tmp/plain.err
rc=$?
# Without a PMU perf falls back to cpu-clock: the event must be precise
# cycles, that is PEBS.
event=$(perf evlist -v -i /tmp/plain.data 2> /dev/null | grep -o '^[a-z-]*:\|precise_ip: [0-9]' | tr -d '\n')
# Of the user-space samples: the kernel's share is the kernel's (the
# debug kernel spends half the run in its slow interrupt handlers).
report=$(perf report -i /tmp/plain.data --stdio --sort=dso 2>&1)
share=$(echo "$report" | awk '/^#/ || NF < 2 { next }
	{ sub(/%/, "", $1) }
	$2 == "[kernel.kallsyms]" { next }
	{ user += $1 }
	$2 == "perf-target" { own = $1 }
	END { printf "%.1f\n", (user > 0 ? 100 * own / user : 0) }')
ok=$(awk -v rc="$rc" -v s="${share:-0}" -v e="$event" 'BEGIN { print (rc == 0 && s + 0 >= 90 && e ~ /^cycles:precise_ip: [1-3]$/) }')
result "$ok" "a plain perf record samples the loop where it runs" \
	"perf record exit $rc, event $event, ${share:-0}% of the user-space samples in perf-target; $(echo "$report" | grep -v '^#' | grep -v '^$' | head -3 | tr '\n' ' ') $(head -c 200 /tmp/plain.err)"

echo "${source:-auto}" > /sys/kernel/mm/hyperplace/source
exit $failed
