#!/bin/sh
# In the guest: make bench-vm.  Each workload (bench/<name>.sh) runs once
# per mechanism and setting (bench/mech.sh) in this guest: it fills its
# data with every mechanism off, so that its hot data starts on the slow
# node, then the mechanism is switched on and the measured load runs for
# SECONDS.  bench-vm-host.sh turns the output into build/bench/vm.tsv.
#   bench-vm.sh [SECONDS]   (default 60)
# Environment: BENCH_WORKLOADS (gups redis sqlite), BENCH_MECHS (allfast
# allslow none hyperplace-abit hyperplace-pebs tpp damon), BENCH_SWEEP
# (0: each peer's recommended setting only; 1, the default: also one
# scaled to TCG; 2: one more, see mech_settings), FAST_MIB (256: MiB left
# free on the fast node, see fast_shrink).
# Output (TSV on stdout; W M S = workload, mechanism, setting):
#   hot W M S T PCT            T s after the switch-on: PCT% of the hot
#                              data's present pages on the fast node
#   ops W M S T DUR OPS P50 P99   OPS operations in the DUR s up to T;
#                              latency percentiles in us ("-": none)
#   cost W M S T THR KSW SYS MOVED   T s after the switch-on: CPU ticks
#                              since it of the mechanism's threads, of
#                              kswapd and the workload's system time, and
#                              pages moved (for bench-vm-host.sh's warm-up
#                              and steady-state figures)
#   run W M S KEY=VALUE...     the run's totals: secs, mech_cpu_s (the
#                              mechanism's threads), kswapd_s, wl_sys_s
#                              (the workload's system time), promoted_mib,
#                              demoted_mib, hot_start, hot_end, check
# and "#" comments.
set -u
export PATH=$PATH:/usr/bin
secs=${1:-60}
workloads=${BENCH_WORKLOADS:-gups redis sqlite}
mechs=${BENCH_MECHS:-allfast allslow none hyperplace-abit hyperplace-pebs tpp damon}
sweep=${BENCH_SWEEP:-1}
FAST_MIB=${FAST_MIB:-256}
tick=3
. /hp/bench/lib.sh
. /hp/bench/mech.sh

# cost_now M MPIDS KPIDS: CPU ticks of M's threads, of kswapd and of the
# workload's system time, and pages moved so far, tab-separated.
cost_now() {
	local moved
	moved=$(($(vmstat_sum '^pgpromote_(success|hyperplace)$') + \
		$(vmstat_sum '^pgdemote_')))
	[ $1 = damon ] && moved=$((moved + ($(damon_applied migrate_hot) + \
		$(damon_applied migrate_cold)) / 4096))
	printf '%s\t%s\t%s\t%s' $(ticks_of $2) $(ticks_of $3) \
		$(sys_of $wl_pid) $moved
}
# backoff_now M: HyperPlace's back-off factor now ("-" for the others).
backoff_now() {
	case $1 in
	hyperplace-*) cat $hp/stats/backoff ;;
	*) echo - ;;
	esac
}
# abit_ns_now: nanoseconds HyperPlace's Accessed-bit passes took so far.
abit_ns_now() { cat $hp/stats/abit_ns; }
# cost_since BEFORE NOW: NOW - BEFORE, field by field.
cost_since() {
	echo "$1	$2" | awk -F'\t' -v OFS='\t' \
		'{ print $5 - $1, $6 - $2, $7 - $3, $8 - $4 }'
}

# run_one W M S: one measured run; its records on stdout.
run_one() {
	local w=$1 m=$2 s=$3 t t0 t_setup left hot0 hot1 wl_sys
	local c0 k0 s0 p0 d0 c k p d dh dc mp kp cost0 a0 pass
	mech_off
	[ $m = allfast ] || fast_shrink
	t_setup=$(now)
	if ! wl_start "$(mech_bind $m)"; then
		echo "# $w $m $s: the workload did not start"
		fast_restore
		return
	fi
	echo "# $w $m $s: set up in $(elapsed $t_setup) s, hot data $(hot_mib) MiB"
	hot0=$(hot_pct $fast)
	c0=$(mech_cpu $m) k0=$(cpu_of "kswapd*") s0=$(sys_of $wl_pid)
	p0=$(vmstat_sum '^pgpromote_(success|hyperplace)$') d0=$(vmstat_sum '^pgdemote_')
	a0=$(abit_ns_now)
	mech_on $m $s
	t0=$(now)
	mp=$(mech_pids $m) kp=$(pids_of "kswapd*")
	cost0=$(cost_now $m "$mp" "$kp")
	wl_go
	t=0
	while :; do
		printf 'hot\t%s\t%s\t%s\t%s\t%s\n' $w $m $s $t $(hot_pct $fast)
		printf 'cost\t%s\t%s\t%s\t%s\t%s\t%s\n' $w $m $s $t \
			"$(cost_since "$cost0" "$(cost_now $m "$mp" "$kp")")" \
			"$(backoff_now $m)"
		wl_sys=$(sys_of $wl_pid)
		left=$(awk -v s=$secs -v t=$(elapsed $t0) 'BEGIN { print int(s - t) }')
		[ $left -gt 0 ] || break
		sleep $((left < tick ? left : tick))
		t=$(elapsed $t0)
	done
	hot1=$(hot_pct $fast)
	c=$(mech_cpu $m) k=$(cpu_of "kswapd*")
	p=$(vmstat_sum '^pgpromote_(success|hyperplace)$') d=$(vmstat_sum '^pgdemote_')
	# DAMON's migrations are not in vmstat's promote/demote items; its
	# schemes count from zero each time they are switched on.
	dh=0 dc=0
	if [ $m = damon ]; then
		dh=$(damon_applied migrate_hot) dc=$(damon_applied migrate_cold)
	fi
	pass=-
	case $m in
	hyperplace-*) pass=$(awk -v a=$a0 -v b=$(abit_ns_now) \
		'BEGIN { printf "%.2f", (b - a) / 1e9 }') ;;
	esac
	t=$(elapsed $t0)
	wl_stop
	mech_off
	wl_end
	fast_restore
	awk -v w=$w -v m=$m -v s=$s '{ print "ops", w, m, s, $0 }' OFS='\t' /tmp/ops
	printf 'run\t%s\t%s\t%s\tsecs=%s\tmech_cpu_s=%s\tkswapd_s=%s\twl_sys_s=%s\tpromoted_mib=%s\tdemoted_mib=%s\thot_start=%s\thot_end=%s\tcheck=%s\tabit_pass_s=%s\n' \
		$w $m $s $t $(secs_of $((c - c0))) $(secs_of $((k - k0))) \
		$(secs_of $((wl_sys - s0))) \
		$(((p - p0) / 256 + (dh >> 20))) $(((d - d0) / 256 + (dc >> 20))) \
		$hot0 $hot1 "${wl_check:--}" $pass
}

echo "# bench-vm: fast node $fast ($(node_free_mib $fast) MiB free, shrunk to" \
	"about $FAST_MIB MiB but for allfast), slow node $slow" \
	"($(node_free_mib $slow) MiB free), $secs s per run, sweep $sweep"
for w in $workloads; do
	. /hp/bench/$w.sh
	echo "# $(wl_desc)"
	for m in $mechs; do
		for s in $(mech_settings $m $sweep); do
			run_one $w $m $s
		done
	done
done
