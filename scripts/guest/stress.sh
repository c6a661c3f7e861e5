#!/bin/sh
# Concurrency stress in the debug and KCSAN guests (make check-debug, make
# check-kcsan): while a GUPS hot set is being placed, knob writes, a storm
# of short processes that map, fill, check and unmap memory, samples
# injected for them, processes that keep changing their placement policy
# (prctl), CPU 1 going offline and online, and memory blocks of the slow
# node going offline and online all race placement.  Lockdep, KASAN and
# kmemleak (debug) or KCSAN watch the kernel (the runner fails the run on
# any report); this checks the data and that every storm really ran.  TAP
# on stdout.
#   stress.sh SECONDS   how long the storms last (120)
set -u
secs=${1:-120}
hp=/sys/kernel/mm/hyperplace
n=0

ok() { # ok NAME CONDITION-STATUS [DIAG]
	n=$((n + 1))
	[ -n "${3:-}" ] && echo "# $3"
	if [ "$2" -eq 0 ]; then echo "ok $n $1"; else echo "not ok $n $1"; fi
}
until_end() { [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; }

knobs() {
	i=0
	while until_end; do
		case $((i % 6)) in
		0) echo 0 > $hp/migrate; echo 1 > $hp/migrate ;;
		1) echo 0 > $hp/enabled; echo 1 > $hp/enabled ;;
		2) echo opted_in > $hp/scope; echo all > $hp/scope ;;
		3) echo $((200 + i % 800)) > $hp/epoch_ms ;;
		4) echo $((64 + i % 512)) > $hp/rate_limit_mibps ;;
		5) echo $((1024 + i % 8192)) > $hp/abit_pages ;;
		esac
		i=$((i + 1))
	done
	echo "$i" > /tmp/stress.knobs
}

# Short processes: each maps, fills, checks and unmaps 4-16 MiB (nodefill
# exits non-zero if a page changed), and gets samples injected.
storm() {
	i=0 bad=0
	while until_end; do
		nodefill any $((4 + i % 13)) > /dev/null 2>&1 &
		c=$!
		echo "$c 0x400000 any" > /sys/kernel/debug/hyperplace/inject 2> /dev/null
		wait "$c" || bad=$((bad + 1))
		i=$((i + 1))
	done
	echo "$i $bad" > /tmp/stress.storm.$1
}

# Processes that flip their prctl policy (default, exclude, include)
# every 2 ms for a second or more while they touch their data, so that
# the sampler finds them and placement runs; each checks its pages at
# exit.
policies() {
	i=0 bad=0
	while until_end; do
		hp-policy flip 500 8 2>> /tmp/stress.policies.err || bad=$((bad + 1))
		i=$((i + 1))
	done
	echo "$i $bad" > /tmp/stress.policies
}

cpus() {
	i=0
	while until_end; do
		echo 0 > /sys/devices/system/cpu/cpu1/online && i=$((i + 1))
		echo 1 > /sys/devices/system/cpu/cpu1/online
	done
	echo "$i" > /tmp/stress.cpus
}

# Memory blocks of the slow node that will go: offline then online again.
# Blocks holding unmovable pages refuse (EBUSY), so count both outcomes.
memory() {
	i=0 refused=0
	while until_end; do
		for b in /sys/devices/system/node/node1/memory*; do
			until_end || break
			if echo offline > "$b/state" 2> /dev/null; then
				i=$((i + 1))
				echo online > "$b/state"
			else
				refused=$((refused + 1))
			fi
		done
	done
	echo "$i $refused" > /tmp/stress.memory
}

echo "TAP version 13"
echo "1..6"
for k in enabled migrate; do echo 1 > $hp/$k; done
echo 500 > $hp/epoch_ms
. /hp/hotset.sh
hotset_start /tmp/stress-gups.out
kill -USR1 "$pid"

end=$(( $(cut -d. -f1 /proc/uptime) + secs ))
knobs & p1=$!
storm a & p2=$!
storm b & p3=$!
cpus & p4=$!
memory & p5=$!
policies & p6=$!
wait $p1 $p2 $p3 $p4 $p5 $p6
echo 1 > /sys/devices/system/cpu/cpu1/online

kill -USR2 "$pid"
wait "$pid"
rc=$?
ok "workload_data_intact" $([ $rc -eq 0 ] && grep -q '^verify.*ok' /tmp/stress-gups.out; echo $?) \
	"gups exit $rc: $(grep '^verify' /tmp/stress-gups.out)"
read -r na bada < /tmp/stress.storm.a
read -r nb badb < /tmp/stress.storm.b
ok "storm_processes_kept_their_data" $((bada + badb)) \
	"$((na + nb)) processes, $((bada + badb)) found a page changed or failed"
read -r np badp < /tmp/stress.policies
ok "policy_flips_kept_their_data" $([ "$np" -gt 0 ] && [ "$badp" -eq 0 ]; echo $?) \
	"$np processes flipped their policy 500 times each, $badp failed: $(head -c 300 /tmp/stress.policies.err 2>/dev/null)"
ok "knob_writes_ran" $([ "$(cat /tmp/stress.knobs)" -gt 0 ]; echo $?) \
	"$(cat /tmp/stress.knobs) knob changes"
ok "cpu_hotplug_ran" $([ "$(cat /tmp/stress.cpus)" -gt 0 ]; echo $?) \
	"$(cat /tmp/stress.cpus) offline/online cycles of CPU 1"
read -r off refused < /tmp/stress.memory
ok "slow_node_memory_offline_ran" $([ "$off" -gt 0 ]; echo $?) \
	"$off blocks offlined and onlined again, $refused refusals"
