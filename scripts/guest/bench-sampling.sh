#!/bin/sh
# Runs in the test guest (busybox sh).  Measures the sampling pipeline:
#  1. the PEBS consumer's cost per record, through the real decoder and
#     channel code with synthetic records (debugfs pebs_bench);
#  2. the Accessed-bit sampler's CPU time at its default period and
#     budget while one process holds SIZE_MIB of memory with a hot part.
# Prints TSV lines "bench<TAB>metric<TAB>value".
set -e
SIZE_MIB=${1:-1536}
HOT_MIB=${2:-256}
SECS=${3:-30}
hp=/sys/kernel/mm/hyperplace
dbg=/sys/kernel/debug/hyperplace
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true

printf 'bench\tmetric\tvalue\n'
for records in 1 16 256 4096; do
	echo "$records 200" > $dbg/pebs_bench
	set -- $(cat $dbg/pebs_bench)
	printf 'pebs_consumer\tns_per_record_%s\t%s\n' "$records" "$8"
done

# CPU time of khyperplaced, in clock ticks, from /proc/PID/stat.
kpid=
for c in /proc/[0-9]*/comm; do
	[ "$(cat "$c" 2>/dev/null)" = khyperplaced ] && kpid=${c#/proc/} && kpid=${kpid%/comm}
done
ticks() { awk '{print $14 + $15}' /proc/$kpid/stat; }
hz=100
cat $hp/abit_interval_ms $hp/abit_pages > /dev/null
/hp/bin/memtouch "$SIZE_MIB" "$HOT_MIB" $((SECS + 10)) > /tmp/memtouch.out &
sleep 5
ns0=$(cat $hp/stats/abit_ns); t0=$(ticks); scans0=$(cat $hp/stats/abit_scans)
up0=$(cut -d' ' -f1 /proc/uptime)
sleep "$SECS"
ns1=$(cat $hp/stats/abit_ns); t1=$(ticks); scans1=$(cat $hp/stats/abit_scans)
up1=$(cut -d' ' -f1 /proc/uptime)
wait
awk -v ns=$((ns1 - ns0)) -v t=$((t1 - t0)) -v hz=$hz -v a="$up0" -v b="$up1" \
    -v scans=$((scans1 - scans0)) -v size="$SIZE_MIB" \
    -v iv="$(cat $hp/abit_interval_ms)" -v pages="$(cat $hp/abit_pages)" 'BEGIN {
	wall = b - a
	printf "abit\tprocess_mib\t%d\n", size
	printf "abit\tinterval_ms\t%d\n", iv
	printf "abit\tpages_per_interval\t%d\n", pages
	printf "abit\tscans\t%d\n", scans
	printf "abit\tscan_cpu_pct\t%.3f\n", 100 * ns / 1e9 / wall
	printf "abit\tus_per_scan\t%.1f\n", scans ? ns / 1e3 / scans : 0
	printf "abit\tkhyperplaced_cpu_pct\t%.3f\n", 100 * t / hz / wall
}'
printf 'abit\tyoung\t%s\n' "$(cat $hp/stats/abit_young)"
printf 'abit\tchecked\t%s\n' "$(cat $hp/stats/abit_checked)"

# Calibration: the same GUPS run here and on the host gives how much
# slower this guest runs code than the host (TCG), for estimates.
set -- $(/hp/bin/gups -s 64 -t 1 -n 4000000 -p uniform --seed 7 | tail -1)
printf 'calib\tgups_mups_guest\t%s\n' "$7"
