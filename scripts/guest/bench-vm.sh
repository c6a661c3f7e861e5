#!/bin/sh
# In the guest: how fast each tiering mechanism brings a GUPS hot set from
# the slow node to the fast node, and what CPU it spends doing so.  Same VM,
# same workload, one mechanism at a time:
#   none              no tiering
#   hyperplace-abit   HyperPlace with the Accessed-bit sampler
#   hyperplace-pebs   HyperPlace fed PEBS-like samples (hp-inject) instead
#   tpp               NUMA balancing in tiering mode (numa_balancing=2) with
#                     demotion enabled
#   damon             DAMON (paddr) schemes migrate_hot to node 0 and
#                     migrate_cold to node 1
# Each run: gups fills an array larger than the fast node with every
# mechanism off (so the hot 128 MiB near its end lands on the slow node),
# then the mechanism is switched on and the updates start.
# Output (TSV on stdout):
#   series MECH SECONDS HOT_PCT_ON_FAST
#   summary MECH SECS_TO_90 HOT_PCT_END MECH_CPU_S KSWAPD_CPU_S GUPS_SYS_S MUPS PROMOTED DEMOTED VERIFY
# SECS_TO_90 is -1 when 90% was not reached.  MECH_CPU_S is the CPU time
# of the mechanism's own threads (khyperplaced plus hp-inject, kdamond);
# NUMA balancing works in the faulting task, so its cost is in GUPS_SYS_S.
# PROMOTED and DEMOTED are the vmstat pgpromote_success and pgdemote_*
# deltas: DAMON's moves are not counted there (reason MR_DAMON), so for
# DAMON the run prints its schemes' own statistics as comments.
#   bench-vm.sh [SECONDS [MECH...]]   (default 90 s, all mechanisms)
set -u
secs=${1:-90}
shift 2>/dev/null
mechs=${*:-none hyperplace-abit hyperplace-pebs tpp damon}
damon=/sys/kernel/mm/damon/admin
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
. /hp/hotset.sh
# CPU seconds (user + system) of the processes whose comm matches $1.
cpu_of() {
	t=0
	for s in /proc/[0-9]*/stat; do
		c=$(sed -n 's/^[0-9]* (\([^)]*\)).*/\1/p' "$s" 2>/dev/null)
		case $c in $1) ;; *) continue ;; esac
		v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$s" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo $t
}
sys_of() { awk '{ sub(/^.*\) /, ""); print $13 }' /proc/$1/stat; }
secs_of() { awk -v t="$1" -v hz=$hz 'BEGIN { printf "%.2f", t / hz }'; }
vmstat_sum() {
	awk -v k="$1" '$1 ~ k { s += $2 } END { print s + 0 }' /proc/vmstat
}

damon_set() {	# damon_set on|off
	if [ "$1" = off ]; then
		[ -d $damon/kdamonds/0 ] && echo off > $damon/kdamonds/0/state 2>/dev/null
		return 0
	fi
	echo 1 > $damon/kdamonds/nr_kdamonds
	k=$damon/kdamonds/0
	echo 1 > $k/contexts/nr_contexts
	c=$k/contexts/0
	echo paddr > $c/operations
	echo 5000 > $c/monitoring_attrs/intervals/sample_us
	echo 100000 > $c/monitoring_attrs/intervals/aggr_us
	echo 1000000 > $c/monitoring_attrs/intervals/update_us
	echo 10 > $c/monitoring_attrs/nr_regions/min
	echo 1000 > $c/monitoring_attrs/nr_regions/max
	echo 1 > $c/targets/nr_targets
	# A paddr target monitors the regions it is given: the largest
	# System RAM range (it spans both nodes here).
	best=0
	while IFS= read -r line; do
		case $line in " "*) continue ;; *": System RAM") ;; *) continue ;; esac
		r=${line%% :*} s=$((0x${r%-*})) e=$((0x${r#*-} + 1))
		[ $((e - s)) -gt $best ] && best=$((e - s)) rs=$s re=$e
	done < /proc/iomem
	echo 1 > $c/targets/0/regions/nr_regions
	echo $rs > $c/targets/0/regions/0/start
	echo $re > $c/targets/0/regions/0/end
	echo 2 > $c/schemes/nr_schemes
	# Hot: accessed in >= 25% of the samples of an aggregation interval.
	# Cold: not accessed for 5 s.  Both at most 256 MiB/s, as HyperPlace.
	for i in 0 1; do
		s=$c/schemes/$i
		if [ $i = 0 ]; then
			echo migrate_hot > $s/action; echo $fast > $s/target_nid
			echo 5 > $s/access_pattern/nr_accesses/min
			echo 20 > $s/access_pattern/nr_accesses/max
			echo 0 > $s/access_pattern/age/min
		else
			echo migrate_cold > $s/action; echo $slow > $s/target_nid
			echo 0 > $s/access_pattern/nr_accesses/min
			echo 0 > $s/access_pattern/nr_accesses/max
			echo 50 > $s/access_pattern/age/min
		fi
		echo 4096 > $s/access_pattern/sz/min
		echo 1099511627776 > $s/access_pattern/sz/max
		echo 4294967295 > $s/access_pattern/age/max
		echo 268435456 > $s/quotas/bytes
		echo 1000 > $s/quotas/reset_interval_ms
	done
	echo on > $k/state
}

all_off() {
	echo 0 > $hp/enabled
	echo 0 > /proc/sys/kernel/numa_balancing
	echo 0 > /sys/kernel/mm/numa/demotion_enabled
	damon_set off
}

mech_on() {
	case $1 in
	none) ;;
	hyperplace-abit|hyperplace-pebs)
		# The TCG guest runs 20-50x slower than hardware: sample harder
		# and end epochs sooner than the defaults (as the tests do).
		echo 500 > $hp/epoch_ms
		echo 1 > $hp/migrate
		if [ $1 = hyperplace-abit ]; then
			echo 4096 > $hp/abit_pages
			echo 100 > $hp/abit_interval_ms
		else
			# Only injected samples: the sampler checks one page a minute.
			echo 1 > $hp/abit_pages
			echo 60000 > $hp/abit_interval_ms
		fi
		echo 1 > $hp/enabled ;;
	tpp)
		echo 1 > /sys/kernel/mm/numa/demotion_enabled
		echo 2 > /proc/sys/kernel/numa_balancing ;;
	damon)
		damon_set on ;;
	esac
}

mech_threads() {
	case $1 in
	hyperplace-*) echo "khyperplaced hp-inject" ;;
	damon) echo "kdamond.*" ;;
	*) echo "" ;;
	esac
}

run_one() {
	m=$1
	all_off
	hotset_start /tmp/gups-$m.out
	mcpu0=0
	for t in $(mech_threads $m); do mcpu0=$((mcpu0 + $(cpu_of "$t"))); done
	k0=$(cpu_of "kswapd*") g0=$(sys_of $pid)
	p0=$(vmstat_sum '^pgpromote_success$') d0=$(vmstat_sum '^pgdemote_')
	mech_on $m
	inj=
	if [ $m = hyperplace-pebs ]; then
		hp-inject $pid $lo $hi $hs $he 4000 95 & inj=$!
	fi
	kill -USR1 $pid
	t=0 t90=-1 pct=0
	while [ $t -le "$secs" ]; do
		pct=$(hotset_pct $fast)
		printf 'series\t%s\t%d\t%s\n' $m $t $pct
		[ $t90 -lt 0 ] && awk -v p=$pct 'BEGIN { exit !(p >= 90) }' && t90=$t
		sleep 2
		t=$((t + 2))
	done
	mcpu=0
	for t in $(mech_threads $m); do mcpu=$((mcpu + $(cpu_of "$t"))); done
	k=$(cpu_of "kswapd*") g=$(sys_of $pid)
	p=$(vmstat_sum '^pgpromote_success$') d=$(vmstat_sum '^pgdemote_')
	if [ $m = damon ]; then
		# What DAMON's schemes did, from its own statistics.
		echo update_schemes_stats > $damon/kdamonds/0/state
		for i in 0 1; do
			st=$damon/kdamonds/0/contexts/0/schemes/$i
			echo "# damon scheme $(cat $st/action): tried $(cat $st/stats/nr_tried) regions ($(cat $st/stats/sz_tried) bytes), applied $(cat $st/stats/sz_applied) bytes"
		done
	fi
	kill -USR2 $pid
	wait $pid
	[ -n "$inj" ] && wait $inj
	all_off
	mups=$(awk -F'\t' '$1 == "gups" { print $7 }' /tmp/gups-$m.out)
	verify=$(awk -F'\t' '$1 == "gups" { print $8 }' /tmp/gups-$m.out)
	printf 'summary\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $m $t90 $pct \
		$(secs_of $((mcpu - mcpu0))) $(secs_of $((k - k0))) \
		$(secs_of $((g - g0))) "${mups:-0}" $((p - p0)) $((d - d0)) \
		"${verify:-none}"
}

echo "# bench-vm: gups $size MiB, hot $hot MiB at $off MiB (95% of the updates), fast node $fast ($fast_mib MiB), slow node $slow, $secs s per mechanism"
for m in $mechs; do
	run_one $m
done
