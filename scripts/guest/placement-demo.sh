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
hp=/sys/kernel/mm/hyperplace
secs=${1:-120}
fast=$(cat $hp/fast_node) slow=$(cat $hp/slow_node)
fast_mib=$(awk '/MemTotal/ {print int($4 / 1024)}' \
	/sys/devices/system/node/node$fast/meminfo)
size=$((fast_mib + 512)) hot=128
off=$((size - 2 * hot))

# pct PID START END NODE: percent of the present pages on NODE
pct() {
	nodeof "$1" "$2" "$3" | awk -v n="$4" \
		'{ printf "%.1f", $2 ? 100 * $(3 + n) / $2 : 0 }'
}
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
rm -f /tmp/hot
gups -s $size -t 1 -d 3600 -p hotset --hot-mib $hot --hot-offset $off \
	--hot-frac 95 --hot-addr-file /tmp/hot --pause-after-init \
	< /dev/null > /tmp/gups.out 2>&1 &
pid=$!
while [ ! -s /tmp/hot ]; do sleep 0.5; done
read -r hs he < /tmp/hot
lo=
while read -r range rest; do
	s=${range%-*} e=${range#*-}
	[ $((0x$s)) -le $((hs)) ] && [ $((hs)) -lt $((0x$e)) ] && lo=$s
done < /proc/$pid/maps
echo "  gups: $size MiB array (fast node $fast_mib MiB), hot $hot MiB at $off MiB, 95% of the updates"
echo "  before: hot set $(pct $pid $hs $he $fast)% on node $fast;" \
	"cold part below it $(pct $pid $lo $hs $fast)% on node $fast"
echo "  counters: $(counters)"
echo 1 > $hp/migrate
kill -USR1 $pid
t=0
while [ $t -lt "$secs" ]; do
	sleep 5
	t=$((t + 5))
	p=$(pct $pid $hs $he $fast)
	echo "  ${t}s: hot set ${p}% on node $fast"
	awk -v p="$p" 'BEGIN { exit !(p >= 95) }' && break
done
echo "  after:  hot set $(pct $pid $hs $he $fast)% on node $fast;" \
	"cold part below it $(pct $pid $lo $hs $fast)% on node $fast"
echo "  counters: $(counters)"
grep -E "^pg(promote|demote)_hyperplace" /proc/vmstat | sed 's/^/  vmstat: /'
kill -USR2 $pid
wait $pid
grep -E "^(gups: checksum|verify)" /tmp/gups.out | sed 's/^/  /'
