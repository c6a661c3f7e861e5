# Sourced by placement-demo.sh and the guest tests (stress, fault
# injection, HyperFlex): the GUPS hot-set run they use.  The array is
# larger than the fast node and filled from its low end by first touch,
# so the fast node fills with data that turns cold and the
# hot 128 MiB near the high end lands on the slow node.
#   hotset_start OUT   start gups paused after its fill, output in OUT; sets
#                      pid, hs/he (hot region) and lo/hi (the array's VMA)
# Also sets fast, slow, fast_mib, size, hot, off.
hp=/sys/kernel/mm/hyperplace
fast=$(cat $hp/fast_node) slow=$(cat $hp/slow_node)
fast_mib=$(awk '/MemTotal/ {print int($4 / 1024)}' \
	/sys/devices/system/node/node$fast/meminfo)
size=$((fast_mib + 512)) hot=128
off=$((size - 2 * hot))

hotset_start() {
	rm -f /tmp/hot
	gups -s $size -t 1 -d 3600 -p hotset --hot-mib $hot --hot-offset $off \
		--hot-frac 95 --hot-addr-file /tmp/hot --pause-after-init \
		< /dev/null > "$1" 2>&1 &
	pid=$!
	while [ ! -s /tmp/hot ]; do sleep 0.5; done
	read -r hs he < /tmp/hot
	lo= hi=
	while read -r range rest; do
		s=${range%-*} e=${range#*-}
		if [ $((0x$s)) -le $((hs)) ] && [ $((hs)) -lt $((0x$e)) ]; then
			lo=$s hi=$e
		fi
	done < /proc/$pid/maps
}

# hotset_pct NODE [START END]: percent of the present pages of the hot
# region (or of [START, END)) on NODE
hotset_pct() {
	nodeof $pid ${2:-$hs} ${3:-$he} | awk -v n="$1" \
		'{ printf "%.1f", $2 ? 100 * $(3 + n) / $2 : 0 }'
}
