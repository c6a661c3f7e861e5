#!/bin/sh
# In the guest: a GUPS hot set that starts on the slow node, and HyperPlace
# moving it to the fast node.  GUPS fills an array larger than the fast node
# from its low end with migration off, so the fast node fills with data that
# turns cold and the hot 128 MiB near the high end lands on the slow node;
# then migration is switched on and the updates start.  Prints where the
# hot set and the cold part are before, every 5 s, and after, plus the
# counters that show the work.
#   placement-demo.sh [SECONDS]   watch for at most SECONDS (default 120)
set -u
secs=${1:-120}
. /hp/hotset.sh

counters() {
	for c in promoted demoted exchanged failed; do
		printf "%s %s  " $c "$(cat $hp/stats/$c)"
	done
	echo
}

# The TCG guest is 20-50x slower than hardware: sample harder and end
# epochs sooner than the defaults, so that this takes a minute, not ten.
echo 4096 > $hp/abit_pages
echo 100 > $hp/abit_interval_ms
echo 500 > $hp/epoch_ms
echo 0 > $hp/migrate
hotset_start /tmp/gups.out
echo "  gups: $size MiB array (fast node $fast_mib MiB), hot $hot MiB at $off MiB, 95% of the updates"
echo "  before: hot set $(hotset_pct $fast)% on node $fast;" \
	"cold part below it $(hotset_pct $fast $lo $hs)% on node $fast"
echo "  counters: $(counters)"
echo 1 > $hp/migrate
kill -USR1 $pid
t=0
while [ $t -lt "$secs" ]; do
	sleep 5
	t=$((t + 5))
	p=$(hotset_pct $fast)
	echo "  ${t}s: hot set ${p}% on node $fast"
	awk -v p="$p" 'BEGIN { exit !(p >= 95) }' && break
done
echo "  after:  hot set $(hotset_pct $fast)% on node $fast;" \
	"cold part below it $(hotset_pct $fast $lo $hs)% on node $fast"
echo "  counters: $(counters)"
grep -E "^pg(promote|demote)_hyperplace" /proc/vmstat | sed 's/^/  vmstat: /'
kill -USR2 $pid
wait $pid
grep -E "^(gups: checksum|verify)" /tmp/gups.out | sed 's/^/  /'
