#!/bin/sh
# Runs in the test guest (busybox sh).  Measures the sampling pipeline:
#  1. the PEBS consumer's cost per record, through the real decoder and
#     channel code with synthetic records (debugfs pebs_bench);
#  2. each source (the Accessed-bit sampler, then PEBS if the CPU has it:
#     under TCG, QEMU's emulated PEBS) at its default settings while one
#     process holds SIZE_MIB of memory with a hot part: samples taken,
#     khyperplaced's CPU time, and for PEBS the records drained;
#  3. khyperplaced's wakeups per second in the idle guest: enabled,
#     enabled with no process placed (scope opted_in, none opted in: the
#     source is parked), and disabled;
#  4. what sampling costs the workload: a memory-bound GUPS run with
#     HyperPlace off, then sampling (migration off) with each source;
#  5. what a context switch between two processes costs (pingpong) with
#     HyperPlace off, with each source on, and with PEBS chosen but parked
#     because no process is placed (pebs_parked), the modes taking turns for
#     CTX_ROUNDS rounds: the median of each, its ratio to off, and the
#     spread of off's rounds, which is the noise.
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
hp_stat() { cat $hp/stats/$1; }

# source_run SRC: SECS of memtouch sampled by SRC; its TSV lines.
source_run() {
	local src=$1 ns0=0 ns1=0 r0 r1 t0 t1 up0 up1
	echo "$src" > $hp/source
	/hp/bin/memtouch "$SIZE_MIB" "$HOT_MIB" $((SECS + 10)) > /tmp/memtouch.out &
	sleep 5
	[ $src = abit ] && ns0=$(hp_stat abit_ns)
	r0=$(hp_stat ${src}_received); t0=$(ticks)
	up0=$(cut -d' ' -f1 /proc/uptime)
	sleep "$SECS"
	[ $src = abit ] && ns1=$(hp_stat abit_ns)
	r1=$(hp_stat ${src}_received); t1=$(ticks)
	up1=$(cut -d' ' -f1 /proc/uptime)
	wait
	awk -v src=$src -v ns=$((ns1 - ns0)) -v t=$((t1 - t0)) -v hz=$hz \
	    -v r=$((r1 - r0)) -v a="$up0" -v b="$up1" -v size="$SIZE_MIB" 'BEGIN {
		wall = b - a
		printf "%s\tprocess_mib\t%d\n", src, size
		printf "%s\tsamples_per_s\t%.0f\n", src, r / wall
		if (src == "abit")
			printf "abit\tscan_cpu_pct\t%.3f\n", 100 * ns / 1e9 / wall
		printf "%s\tkhyperplaced_cpu_pct\t%.3f\n", src, 100 * t / hz / wall
	}'
}

echo 1 > $hp/enabled
echo 0 > $hp/migrate
scans0=$(hp_stat abit_scans)
source_run abit
printf 'abit\tinterval_ms\t%s\n' "$(cat $hp/abit_interval_ms)"
printf 'abit\tpages_per_interval\t%s\n' "$(cat $hp/abit_pages)"
printf 'abit\tscans\t%s\n' $(($(hp_stat abit_scans) - scans0))
pebs=0
if echo pebs > $hp/source 2>/dev/null; then
	pebs=1
	rec0=$(hp_stat pebs_records)
	source_run pebs
	printf 'pebs\tload_period\t%s\n' "$(cat $hp/pebs_load_period)"
	printf 'pebs\tstore_period\t%s\n' "$(cat $hp/pebs_store_period)"
	printf 'pebs\trecords\t%s\n' $(($(hp_stat pebs_records) - rec0))
	printf 'pebs\tbad_format\t%s\n' "$(hp_stat pebs_bad_format)"
else
	printf 'pebs\tavailable\t0\n'
fi

# Idle cost: how often khyperplaced is switched in (each time it wakes)
# per second, over IDLE_SECS with nothing running: enabled, enabled with
# no process placed, and disabled.
IDLE_SECS=${IDLE_SECS:-10}
switches() { awk '/ctxt_switches/ { n += $2 } END { print n }' /proc/$kpid/status; }
for state in enabled nothing_placed disabled; do
	case $state in
	enabled) echo 1 > $hp/enabled ;;
	nothing_placed) echo opted_in > $hp/scope ;;
	disabled) echo all > $hp/scope; echo 0 > $hp/enabled ;;
	esac
	sleep 2
	w0=$(switches)
	sleep "$IDLE_SECS"
	w1=$(switches)
	awk -v n=$((w1 - w0)) -v s="$IDLE_SECS" -v st=$state 'BEGIN {
		printf "idle\twakeups_per_s_%s\t%.1f\n", st, n / s
	}'
	if [ $state = nothing_placed ]; then
		printf 'idle\tparked_source\t%s\n' "$(cat $hp/active_source)"
	fi
done

# The cost to the workload: GUPS updates per second (MUPS), best of 3.
gups_mups() {
	local best=0 i
	for i in 1 2 3; do
		set -- $(/hp/bin/gups -s 256 -t 1 -n 4000000 -p uniform --seed 7 | tail -1)
		best=$(awk -v a=$best -v b=$7 'BEGIN { print (b > a ? b : a) }')
	done
	echo $best
}
echo 0 > $hp/enabled
off=$(gups_mups)
printf 'cost\tgups_mups_off\t%s\n' "$off"
echo 1 > $hp/enabled
for src in abit pebs; do
	[ $src = pebs ] && [ $pebs = 0 ] && continue
	echo $src > $hp/source
	on=$(gups_mups)
	printf 'cost\tgups_mups_%s\t%s\n' $src "$on"
	awk -v s=$src -v off="$off" -v on="$on" \
		'BEGIN { printf "cost\tslowdown_pct_%s\t%.1f\n", s, 100 * (1 - on / off) }'
done
echo auto > $hp/source
echo 1 > $hp/migrate

# Context switches: HyperPlace off, then each source sampling (migration
# off).  The modes take turns, so that a slow stretch of the host hits
# them all alike.
CTX_ROUNDS=${CTX_ROUNDS:-7}
ctx_modes="off abit"
[ $pebs = 1 ] && ctx_modes="$ctx_modes pebs pebs_parked"
echo 0 > $hp/migrate
: > /tmp/ctx
for round in $(seq "$CTX_ROUNDS"); do
	for mode in $ctx_modes; do
		echo all > $hp/scope
		case $mode in
		off) echo 0 > $hp/enabled ;;
		pebs_parked)
			echo pebs > $hp/source
			echo 1 > $hp/enabled
			echo opted_in > $hp/scope ;;
		*)
			echo $mode > $hp/source
			echo 1 > $hp/enabled ;;
		esac
		# The sources start, stop or park in the background, and
		# perf turns its context-switch hooks off 1 s after the
		# last event that wanted them is gone.
		sleep 2
		set -- $(/hp/bin/pingpong 20000 0)
		echo "$mode $4" >> /tmp/ctx
	done
done
echo all > $hp/scope
echo auto > $hp/source
echo 1 > $hp/enabled
echo 1 > $hp/migrate
for mode in $ctx_modes; do
	awk -v m=$mode '$1 == m { print $2 }' /tmp/ctx | sort -n |
		awk -v m=$mode '{ v[NR] = $1 } END {
			printf "ctxsw\tns_per_switch_%s\t%s\n", m, v[int((NR + 1) / 2)]
			if (m == "off")
				printf "ctxsw\tnoise_pct_off\t%.1f\n", 100 * (v[NR] - v[1]) / v[int((NR + 1) / 2)]
		}'
done > /tmp/ctx.tsv
cat /tmp/ctx.tsv
awk -F'\t' '$2 == "ns_per_switch_off" { off = $3 }
	$2 ~ /^ns_per_switch_/ && $2 != "ns_per_switch_off" {
		m = substr($2, 15); r[m] = $3 }
	END { for (m in r) printf "ctxsw\tratio_%s_to_off\t%.3f\n", m, r[m] / off }' /tmp/ctx.tsv

# Calibration: the same GUPS run here and on the host gives how much
# slower this guest runs code than the host (TCG), for estimates.
echo 0 > $hp/enabled
set -- $(/hp/bin/gups -s 64 -t 1 -n 4000000 -p uniform --seed 7 | tail -1)
printf 'calib\tgups_mups_guest\t%s\n' "$7"
echo 1 > $hp/enabled
