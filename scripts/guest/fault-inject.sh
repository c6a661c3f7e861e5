#!/bin/sh
# Fault injection in the debug guest (make check-debug): allocations made
# from HyperPlace's code fail at random (failslab and fail_page_alloc,
# limited by their stack-trace filter to that code) while a GUPS hot set
# is placed and processes are attached.  The guest must survive, the
# counters must say what failed, the workload's data must be intact, no
# state may be left for processes that are gone, and placement must work
# again once the failures stop.  TAP on stdout.
#   fault-inject.sh SECONDS   how long the failures last (60)
set -u
secs=${1:-60}
hp=/sys/kernel/mm/hyperplace
dbg=/sys/kernel/debug
n=0

ok() { # ok NAME CONDITION-STATUS [DIAG]
	n=$((n + 1))
	[ -n "${3:-}" ] && echo "# $3"
	if [ "$2" -eq 0 ]; then echo "ok $n $1"; else echo "not ok $n $1"; fi
}
stat() { cat $hp/stats/$1; }
# The managed count into $mms, read by this shell itself: a helper
# process (cat, a subshell, sleep) may be attached by the sampler
# (abit_interval_ms is 100), counted, and then be gone, a state that
# looks left behind.  The final check forks nothing.
read_mms() { read -r mms < $hp/stats/mms; }

# dead_states: how many states are listed, in $listed, how many of them
# name a process that is gone, in $dead, and their lines in $which;
# reads the list with builtins too.
dead_states() {
	local w p rest
	listed=0 dead=0 which=
	while read -r w p rest; do
		[ "$w" = pid ] || continue
		listed=$((listed + 1))
		case $p in ''|*[!0-9]*) ;; *) [ "$p" -gt 0 ] && [ -d /proc/$p ] && continue ;; esac
		dead=$((dead + 1))
		which="$which; pid $p $rest"
	done < $dbg/hyperplace/ranges
}
. /hp/faults.sh

echo "TAP version 13"
echo "1..6"
for k in enabled migrate; do echo 1 > $hp/$k; done
echo 4096 > $hp/abit_pages
echo 100 > $hp/abit_interval_ms
echo 500 > $hp/epoch_ms
# nap SECONDS: sleep without a process (busybox runs sleep as a child,
# which the sampler may attach): a read that times out on a FIFO.
mkfifo /tmp/fault-nap
nap() { read -r -t "$1" _ <> /tmp/fault-nap; }

# The count before, for the log only: the check compares the count with
# the listing, so it need not settle first.
read_mms
mms0=$mms

# A GUPS hot set on the slow node (placement's own test workload), with
# HyperPlace's allocations failing while it is being placed.
. /hp/hotset.sh
echo 0 > $hp/migrate
hotset_start /tmp/fault-gups.out
echo 1 > $hp/migrate
failed0=$(($(stat failed) + $(stat alloc_failures) + $(stat inject_outside)))
inject_faults hyperplace 30
kill -USR1 "$pid"

# Processes attached and gone while allocations fail: each inject either
# attaches its process or fails with ENOMEM and leaves nothing.  The
# sample goes to a process that holds its own memory (nodefill printed
# "holding"), not to one the shell just started, which may still share
# the shell's mm (vfork) and would attach that under the child's pid.
i=0 bad=0
while [ $i -lt 100 ]; do
	nodefill any 1 wait > /tmp/fault-held 2>&1 &
	c=$!
	until grep -q '^holding' /tmp/fault-held; do sleep 0.05; done
	addr=$(awk '/rw-p 00000000 00:00 0/ { print "0x" substr($1, 1, index($1, "-") - 1); exit }' /proc/$c/maps)
	echo "$c $addr any" > $dbg/hyperplace/inject 2> /tmp/inject.err ||
		grep -q 'Cannot allocate memory' /tmp/inject.err || bad=$((bad + 1))
	kill -USR1 "$c"
	wait "$c" || bad=$((bad + 1))
	i=$((i + 1))
done
sleep "$secs"
inject_faults hyperplace 0
during=$(hotset_pct "$fast")
counted=$(($(stat failed) + $(stat alloc_failures) + $(stat inject_outside) - failed0))
ok "failures_are_counted" $([ "$counted" -gt 0 ]; echo $?) \
	"failed + alloc_failures + inject_outside grew by $counted"
ok "inject_fails_only_with_enomem" "$bad" "$bad injects failed otherwise"

# Once the failures stop, placement works again.
i=0
while [ $i -lt 120 ] && ! awk -v p="$(hotset_pct "$fast")" 'BEGIN { exit !(p >= 90) }'; do
	sleep 2
	i=$((i + 1))
done
after=$(hotset_pct "$fast")
ok "placement_recovers" $(awk -v p="$after" 'BEGIN { exit !(p >= 90) }'; echo $?) \
	"hot set on the fast node: $during% -> $after%"
kill -USR2 "$pid"
wait "$pid"
rc=$?
ok "workload_data_intact" $([ $rc -eq 0 ] && grep -q '^verify.*ok' /tmp/fault-gups.out; echo $?) \
	"gups exit $rc: $(grep '^verify' /tmp/fault-gups.out)"

# No state for processes that are gone, and a managed count that is the
# number of processes listed (not the count before: a process of the
# system may be attached meanwhile).  Teardown may be deferred
# (mmput_async), so both conditions are polled together for up to 60 s;
# a leak lasts longer.
i=0
while :; do
	read_mms
	dead_states
	[ "$mms" = "$listed" ] && [ $dead -eq 0 ] && break
	[ $i -ge 300 ] && break
	nap 0.2
	i=$((i + 1))
done
ok "managed_count_is_listing" $([ "$mms" = "$listed" ]; echo $?) \
	"mms $mms0 before, $mms after, $listed listed"
ok "no_state_for_exited_processes" "$dead" "$dead states of exited processes$which"
