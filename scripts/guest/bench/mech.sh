# Sourced by bench-vm.sh: the placement mechanisms compared, one at a time
# in the same guest.
#   allfast           the workload bound to the fast node (membind): the
#                     upper bound; the fast node is not shrunk for it
#   allslow           bound to the slow node: the lower bound
#   none              first touch, nothing moves
#   hyperplace-abit   HyperPlace, Accessed-bit sampler
#   hyperplace-pebs   HyperPlace, PEBS source (under TCG, the records of
#                     QEMU's emulated PMU, x-tcg-pmu)
#   tpp               NUMA balancing in tiering mode (numa_balancing=2)
#                     with demotion enabled
#   damon             DAMON (paddr) migrate_hot to the fast node and
#                     migrate_cold to the slow node
# A setting is a word KEY=VALUE[,KEY=VALUE...] ("-": none), printed with
# each result; mech_settings lists those a run tries.
damon=/sys/kernel/mm/damon/admin
nb=/sys/kernel/debug/sched/numa_balancing
rate_limit=/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps
hugepages=/sys/devices/system/node/node$fast/hugepages/hugepages-2048kB/nr_hugepages

# mech_settings MECH SWEEP: the settings to run MECH with.  The first is
# what the mechanism's documentation recommends for tiered memory.  The
# guest runs under TCG, 20-50x slower than hardware, so each page is
# touched that much less often per second: SWEEP=1 adds a setting with
# the time constants scaled to that, SWEEP=2 one more variant.
mech_settings() {
	case $1 in
	tpp)
		# numa_balancing_promote_rate_limit_MBps: "less than 1/10 of the
		# PMEM node write bandwidth" (sysctl/kernel.rst): the HMAT says
		# 5 GB/s for node 1.  hot_threshold_ms: 1000 is the default.
		echo rate=500,hot=1000
		# Without CONFIG_SCHED_DEBUG the threshold cannot be set.
		[ $2 -ge 1 ] && [ -e $nb/hot_threshold_ms ] && echo rate=500,hot=10000
		[ $2 -ge 2 ] && echo rate=65536,hot=1000	# the kernel's defaults
		;;
	damon)
		# samples/damon/mtier.c (Linux 6.16): 5 ms sampling, 100 ms
		# aggregation, 200 MiB/s quota per scheme, applied every second.
		echo sample=5,aggr=100,quota=200
		[ $2 -ge 1 ] && echo sample=100,aggr=2000,quota=200
		[ $2 -ge 2 ] && echo sample=100,aggr=2000,quota=50
		;;
	hyperplace-abit)
		# Sample harder and end epochs sooner than the defaults, as the
		# tests do under TCG.
		echo epoch=500,abit_pages=4096,abit_ms=100 ;;
	hyperplace-pebs)
		# The default sample periods, and with SWEEP=1 a tenth of them:
		# TCG runs the workload's loads that much slower.
		echo epoch=500,load=10007,store=100003
		[ $2 -ge 1 ] && echo epoch=500,load=1009,store=10007
		;;
	allfast) echo membind=$fast ;;
	allslow) echo membind=$slow ;;
	*) echo - ;;
	esac
	return 0
}

# setting KEY SETTING: the value of KEY in SETTING.
setting() { echo ",$2," | sed -n "s/.*,$1=\([^,]*\),.*/\1/p"; }

# Membind prefix of the workload's command for MECH.
mech_bind() {
	case $1 in
	allfast) echo "membind $fast" ;;
	allslow) echo "membind $slow" ;;
	esac
}

# The fast node a workload sees: about FAST_MIB free (the rest is held as
# hugetlb pages, which nothing migrates) except for allfast, whose data
# must fit there whole.
fast_shrink() {
	local n
	echo 1 > /proc/sys/vm/compact_memory
	n=$((($(node_free_mib $fast) - FAST_MIB) / 2))
	[ $n -gt 0 ] || n=0
	echo $n > $hugepages
	echo "# fast node $fast: $(cat $hugepages) hugetlb pages held," \
		"$(node_free_mib $fast) MiB free"
}
fast_restore() { echo 0 > $hugepages; }

# Physical range "START END" of node $1's memory blocks.
node_range() {
	local bs first
	bs=$((0x$(cat /sys/devices/system/memory/block_size_bytes)))
	set -- $(ls -d /sys/devices/system/node/node$1/memory[0-9]* |
		sed 's/.*memory//' | sort -n)
	first=$1
	shift $(($# - 1))
	echo $((first * bs)) $((($1 + 1) * bs))	# not awk: 32-bit %d
}

# damon_ctx K NODE ACTION TARGET SETTING: kdamond K watches the physical
# memory of NODE and applies ACTION (migrate_hot or migrate_cold) moving
# to TARGET, as samples/damon/mtier.c sets up each of its two contexts.
# Linux 6.12 has no quota goals on a node's free memory (6.16 does), so
# instead the cold scheme takes only regions idle for at least 5 s.  The
# hugetlb pages fast_shrink holds are idle regions of node 0 too: DAMON
# moves none of them (they are on no LRU list), but trying them counts
# against the cold scheme's quota, as free pages do.
damon_ctx() {
	local k=$damon/kdamonds/$1 c=$damon/kdamonds/$1/contexts/0 s
	local sample=$(setting sample $5) aggr=$(setting aggr $5)
	echo 1 > $k/contexts/nr_contexts
	echo paddr > $c/operations
	echo $((sample * 1000)) > $c/monitoring_attrs/intervals/sample_us
	echo $((aggr * 1000)) > $c/monitoring_attrs/intervals/aggr_us
	echo 60000000 > $c/monitoring_attrs/intervals/update_us
	echo 10 > $c/monitoring_attrs/nr_regions/min
	echo 1000 > $c/monitoring_attrs/nr_regions/max
	echo 1 > $c/targets/nr_targets
	echo 1 > $c/targets/0/regions/nr_regions
	set -- "$@" $(node_range $2)
	echo $6 > $c/targets/0/regions/0/start
	echo $7 > $c/targets/0/regions/0/end
	echo 1 > $c/schemes/nr_schemes
	s=$c/schemes/0
	echo $3 > $s/action
	echo $4 > $s/target_nid
	echo 1000000 > $s/apply_interval_us
	echo 4096 > $s/access_pattern/sz/min
	echo 18446744073709551615 > $s/access_pattern/sz/max
	echo 4294967295 > $s/access_pattern/age/max
	echo 1 > $s/filters/nr_filters
	echo young > $s/filters/0/type
	if [ $3 = migrate_hot ]; then
		echo 1 > $s/access_pattern/nr_accesses/min
		echo 4294967295 > $s/access_pattern/nr_accesses/max
		echo 0 > $s/access_pattern/age/min
		echo N > $s/filters/0/matching	# filter out pages not young
	else
		echo 0 > $s/access_pattern/nr_accesses/min
		echo 0 > $s/access_pattern/nr_accesses/max
		echo $(((5000 + aggr - 1) / aggr)) > $s/access_pattern/age/min
		echo Y > $s/filters/0/matching	# filter out young pages
	fi
	echo $(($(setting quota $5) << 20)) > $s/quotas/bytes
	echo 1000 > $s/quotas/reset_interval_ms
	echo 0 > $s/quotas/weights/sz_permil
	echo 100 > $s/quotas/weights/nr_accesses_permil
	echo 100 > $s/quotas/weights/age_permil
}

damon_on() {
	echo 2 > $damon/kdamonds/nr_kdamonds
	damon_ctx 0 $slow migrate_hot $fast $1
	damon_ctx 1 $fast migrate_cold $slow $1
	echo on > $damon/kdamonds/0/state
	echo on > $damon/kdamonds/1/state
}

# damon_applied ACTION: bytes the scheme with ACTION has moved so far.
damon_applied() {
	local k s
	[ -d $damon/kdamonds/1 ] || { echo 0; return; }
	for k in 0 1; do
		echo update_schemes_stats > $damon/kdamonds/$k/state 2>/dev/null
	done
	for k in 0 1; do
		s=$damon/kdamonds/$k/contexts/0/schemes/0
		[ "$(cat $s/action 2>/dev/null)" = $1 ] && cat $s/stats/sz_applied
	done | awk '{ s += $1 } END { print s + 0 }'
}

# Every mechanism off, and every knob a setting changes back at its default.
mech_off() {
	local k
	echo 0 > $hp/enabled
	echo auto > $hp/source
	echo 10007 > $hp/pebs_load_period
	echo 100003 > $hp/pebs_store_period
	echo 0 > /proc/sys/kernel/numa_balancing
	echo 0 > /sys/kernel/mm/numa/demotion_enabled
	echo 65536 > $rate_limit
	[ -e $nb/hot_threshold_ms ] && echo 1000 > $nb/hot_threshold_ms
	for k in $damon/kdamonds/[0-9]*; do
		[ -d $k ] && echo off > $k/state 2>/dev/null
	done
	return 0
}

# mech_on MECH SETTING
mech_on() {
	case $1 in
	hyperplace-abit|hyperplace-pebs)
		echo $(setting epoch $2) > $hp/epoch_ms
		echo 1 > $hp/migrate
		if [ $1 = hyperplace-abit ]; then
			echo abit > $hp/source
			echo $(setting abit_pages $2) > $hp/abit_pages
			echo $(setting abit_ms $2) > $hp/abit_interval_ms
		else
			echo pebs > $hp/source
			echo $(setting load $2) > $hp/pebs_load_period
			echo $(setting store $2) > $hp/pebs_store_period
		fi
		echo 1 > $hp/enabled ;;
	tpp)
		echo $(setting rate $2) > $rate_limit
		[ -e $nb/hot_threshold_ms ] && echo $(setting hot $2) > $nb/hot_threshold_ms
		echo 1 > /sys/kernel/mm/numa/demotion_enabled
		echo 2 > /proc/sys/kernel/numa_balancing ;;
	damon)
		damon_on $2 ;;
	esac
}

# Comm patterns of the threads that do MECH's work.  NUMA balancing works
# in the faulting task (its cost is in the workload's system time) and
# demotion by reclaim in kswapd, which is counted for every mechanism.
# PEBS records are drained at context switch, in the workload's system
# time, and written by the (emulated) CPU in its user time.
mech_threads() {
	case $1 in
	hyperplace-*) echo "khyperplaced" ;;
	damon) echo "kdamond.*" ;;
	esac
}
mech_cpu() {
	local t=0 c
	for c in $(mech_threads $1); do t=$((t + $(cpu_of "$c"))); done
	echo $t
}
# PIDs of MECH's threads that run now (kdamonds exist only once it is on).
mech_pids() {
	local c
	for c in $(mech_threads $1); do pids_of "$c"; done
}
