#!/bin/sh
# HyperFlex tests, guest side.  The host (scripts/hyperflex-test.py) drives
# the run: this script prints "HF-STEP NAME key=value..." with what it
# measured, then waits for the host's "go NAME" on the hp.ctl port before
# it goes on; the host resizes the tiers over QMP in between and makes
# every assertion.  Sizes are in KiB, as meminfo gives them.
#   hyperflex-test.sh full    every test (the two-tier VM with the feature)
#   hyperflex-test.sh plain   the stock balloon only (feature off)
#   hyperflex-test.sh faults  the debug kernel: the fast tier's balloon
#                             inflates while its allocations fail
#   hyperflex-test.sh bench ROUNDS MECH...  time taking 1 GiB from the fast
#                             node with each MECH (hyperflex, balloon,
#                             virtio-mem)
set -u
hp=/sys/kernel/mm/hyperplace
inject=/sys/kernel/debug/virtio_balloon_tiers/inject

ctl=
for d in /sys/class/virtio-ports/*; do
	[ "$(cat "$d/name" 2>/dev/null)" = hp.ctl ] && ctl=/dev/${d##*/}
done
[ -n "$ctl" ] || { echo "HF-ERROR no hp.ctl port"; exit 1; }

# step NAME [key=value...]: report, then wait for the host's go
step() {
	echo "HF-STEP $*"
	# The port reads end-of-file until the host has connected.
	reply=
	while [ -z "$reply" ]; do
		read -r reply < "$ctl" || sleep 0.2
	done
	[ "$reply" = "go $1" ] || { echo "HF-ERROR expected 'go $1', got '$reply'"; exit 1; }
}

total_kb() { # total_kb NODE|all
	if [ "$1" = all ]; then
		awk '/^MemTotal/ { print $2 }' /proc/meminfo
	else
		awk '/MemTotal/ { print $4 }' /sys/devices/system/node/node$1/meminfo
	fi
}

free_mib() {
	awk '/MemFree/ { print int($4 / 1024) }' /sys/devices/system/node/node$1/meminfo
}

# wait_total NODE KB: wait (at most 120 s) until NODE's MemTotal is KB
wait_total() {
	i=0
	while [ "$(total_kb "$1")" != "$2" ] && [ $i -lt 1200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# wait_both KB0 KB1: wait until nodes 0 and 1 are KB0 and KB1 below $b0, $b1
wait_both() {
	wait_total 0 $((b0 - $1))
	wait_total 1 $((b1 - $2))
}

# touch NODE: write all but $untouched MiB of the node's free memory, so
# that it is resident on the host and a balloon taking it shows in the
# host's RSS.  Which free pages stay untouched is the allocator's choice:
# after a grow, up to $untouched MiB of the returned memory may.
untouched=96
touch_node() {
	n=$(( $(free_mib "$1") - untouched ))
	[ $n -gt 0 ] && nodefill "$1" $n > /dev/null
}

vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }

plain() {
	all0=$(total_kb all)
	step plain-shrink all=$all0
	wait_total all $((all0 - 262144))
	step plain-grow all=$(total_kb all)
	wait_total all "$all0"
	step plain-done all=$(total_kb all) \
		tiers_driver=$(dmesg | grep -c ' tier: node ')
}

resize() { # resize NAME NODE MIB: shrink a tier by MIB, then grow it back
	base=$(total_kb "$2")
	touch_node "$2"
	step "shrink-$1" node=$base
	wait_total "$2" $((base - $3 * 1024))
	step "grow-$1" node=$(total_kb "$2")
	wait_total "$2" "$base"
	touch_node "$2"
	step "refilled-$1" node=$(total_kb "$2") untouched=$untouched
}

both() {
	b0=$(total_kb 0) b1=$(total_kb 1)
	step shrink-both node0=$b0 node1=$b1
	wait_both 262144 524288
	step grow-both node0=$(total_kb 0) node1=$(total_kb 1)
	wait_both 0 0
	step grown-both node0=$(total_kb 0) node1=$(total_kb 1)
}

# A GUPS hot set placed by HyperPlace; the fast tier shrinks under it.
gups_shrink() {
	. /hp/hotset.sh
	echo 4096 > $hp/abit_pages
	echo 100 > $hp/abit_interval_ms
	echo 500 > $hp/epoch_ms
	echo 0 > $hp/migrate
	hotset_start /tmp/gups.out
	echo 1 > $hp/migrate
	kill -USR1 $pid
	i=0
	while [ $i -lt 60 ] && ! awk -v p="$(hotset_pct $fast)" 'BEGIN { exit !(p >= 95) }'; do
		sleep 2
		i=$((i + 1))
	done
	base=$(total_kb $fast)
	step gups-shrink node=$base hot=$(hotset_pct $fast) \
		demoted=$(vmstat pgdemote_hyperplace)
	wait_total $fast $((base - 262144))
	sleep 5
	hot=$(hotset_pct $fast) demoted=$(vmstat pgdemote_hyperplace)
	kill -USR2 $pid
	wait $pid
	verify=$(grep -c '^verify.*ok' /tmp/gups.out)
	step gups-grow node=$(total_kb $fast) hot=$hot demoted=$demoted \
		verify=$verify
	wait_total $fast "$base"
}

# Take memory back from the balloons: the OOM notifier must deflate the
# slow tier's balloon first and the workload must survive.
oom() {
	step oom-setup
	# Let the workload allocate beyond what is free, as a real one would.
	echo 1 > /proc/sys/vm/overcommit_memory
	avail=$(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)
	need=$((avail + 384))
	out=$(nodefill any $need 1 2>&1)
	rc=$?
	step oom-done rc=$rc need=$need sum=$(echo "$out" | grep -c '^filled') \
		kills=$(vmstat oom_kill)
	echo 0 > /proc/sys/vm/overcommit_memory
}

# hold NODE MIB FILE: write MIB on NODE and keep it until SIGUSR1 (then
# nodefill checks every page); sets $held to its pid once it holds
hold() {
	nodefill "$1" "$2" wait > "$3" 2>&1 &
	held=$!
	i=0
	while ! grep -q '^holding' "$3" && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# release PID FILE: let the holder check its data; $intact is 1 if it is
# all there (not in a subshell: only this shell can wait for the holder)
release() {
	intact=0
	kill -USR1 "$1"
	wait "$1" && grep -q '^filled' "$2" && intact=1
}

# Crafted requests while the guest holds data on both nodes: the device
# must refuse them all, and no page of that data may change.
hostile() {
	step hostile-begin
	hold 0 $(( $(free_mib 0) - 96 )) /tmp/hold0
	h0=$held
	hold 1 512 /tmp/hold1
	h1=$held
	for c in outside other-tier duplicate not-ballooned malformed "flood 20000"; do
		echo "$c" > $inject 2> /tmp/inject.err ||
			echo "HF-NOTE inject '$c': $(cat /tmp/inject.err)"
	done
	release $h0 /tmp/hold0
	fast=$intact
	release $h1 /tmp/hold1
	step hostile-done fast=$fast slow=$intact
	echo "pause 1" > $inject
	step stall
	echo "pause 0" > $inject
	step resume
}

# slowtier: the host counts the accesses QEMU delayed (x-access-delay-ns on
# node 1's backend) while 64 MiB of each node is written and read back
slowtier() {
	step slowtier-begin
	nodefill 0 64 > /dev/null
	step slowtier-node0 pages=16384
	nodefill 1 64 > /dev/null
	step slowtier-node1 pages=16384
}

# faults: the host shrinks the fast tier by 256 MiB while 30% of the
# allocations made by the balloon's code fail (the debug kernel's
# failslab and fail_page_alloc, single pages included: the balloon falls
# back to them), and grows it back once they stop.  The balloon must get
# there all the same and say what failed.  Data written before and held
# throughout must come back intact, and so must data written again and
# again on the node while the balloon inflates and deflates: a page the
# balloon let go of in an error path but the host still discards would
# lose it.
faults() {
	. /hp/faults.sh
	b0=$(total_kb 0)
	hold 0 256 /tmp/hold-faults
	h=$held
	: > /tmp/churn
	rm -f /tmp/churn-stop
	(while [ ! -e /tmp/churn-stop ]; do
		if nodefill 0 32 > /dev/null 2>&1; then echo ok; else echo bad; fi >> /tmp/churn
	done) &
	churn=$!
	inject_faults balloon_tiers 30 0
	step fault-shrink node=$b0
	wait_total 0 $((b0 - 262144))
	inject_faults balloon_tiers 0
	step fault-grow node=$(total_kb 0)
	wait_total 0 "$b0"
	touch /tmp/churn-stop
	wait $churn
	release $h /tmp/hold-faults
	step fault-done node=$(total_kb 0) intact=$intact \
		churn_ok=$(grep -c ok /tmp/churn) churn_bad=$(grep -c bad /tmp/churn)
}

# Before each round the fast node's free memory is written, so that every
# mechanism gives back resident memory.
bench() {
	rounds=$1
	shift
	r=1
	while [ $r -le "$rounds" ]; do
		for m; do
			touch_node 0
			step bench mech=$m round=$r node=$(total_kb 0)
		done
		r=$((r + 1))
	done
}

# `make run`: what the guest sees while the host resizes its tiers.
demo() {
	sizes() {
		echo "  guest: node 0 (fast) MemTotal $(( $(total_kb 0) / 1024 )) MiB," \
			"node 1 (slow) MemTotal $(( $(total_kb 1) / 1024 )) MiB"
	}
	dmesg | grep ' tier: node ' | sed 's/^\[[^]]*\] /  guest: /'
	sizes
	touch_node 0
	touch_node 1
	b0=$(total_kb 0) b1=$(total_kb 1)
	step demo-shrink
	wait_both 262144 524288
	sizes
	step demo-grow
	wait_both 0 0
	sizes
	step demo-end
}

case ${1:-full} in
demo)
	demo
	;;
bench)
	shift
	bench "$@"
	;;
plain)
	plain
	;;
faults)
	faults
	;;
full)
	step begin node0=$(total_kb 0) node1=$(total_kb 1)
	slowtier
	resize fast 0 256
	resize slow 1 512
	both
	gups_shrink
	hostile
	oom
	step end node0=$(total_kb 0) node1=$(total_kb 1)
	;;
esac
