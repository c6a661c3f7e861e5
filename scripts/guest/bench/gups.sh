# Sourced by bench-vm.sh: the GUPS hot set.  gups fills its array from the
# low end by first touch, with every mechanism off, so the fast node fills
# with data that then turns cold and the hot region, near the high end,
# lands on the slow node; 95% of the updates go to it, the rest uniformly
# over the whole array.  Operations are 8-byte read-modify-write updates.
gups_mib=$((FAST_MIB * 2)) gups_hot=$((FAST_MIB / 2))
gups_off=$((gups_mib - 2 * gups_hot))

wl_desc() {
	echo "gups: $gups_mib MiB array, $gups_hot MiB hot at $gups_off MiB" \
		"(95% of the updates), one thread"
}

# wl_start BIND: start gups paused after its fill; sets wl_pid and the
# hot data (the hot region gups names).
wl_start() {
	rm -f /tmp/hot
	$1 gups -s $gups_mib -t 1 -d 3600 -p hotset --hot-mib $gups_hot \
		--hot-offset $gups_off --hot-frac 95 --hot-addr-file /tmp/hot \
		--report-ms 2000 --pause-after-init < /dev/null > /tmp/gups.out 2>&1 &
	wl_pid=$!
	while [ ! -s /tmp/hot ]; do
		kill -0 $wl_pid 2>/dev/null || { cat /tmp/gups.out; return 1; }
		sleep 0.5
	done
	cp /tmp/hot /tmp/hot.ranges
	hot_span
}

wl_go() { kill -USR1 $wl_pid; }

# wl_stop: end the updates; the interval records to /tmp/ops.
wl_stop() {
	kill -USR2 $wl_pid
	wait $wl_pid
	awk -F'\t' '$1 == "progress" {
		printf "%.2f\t%.3f\t%d\t-\t-\n", $2, $2 - t, $3 - n; t = $2; n = $3 }' \
		/tmp/gups.out > /tmp/ops
	wl_check=$(awk -F'\t' '$1 == "gups" { print "verify=" $8 }' /tmp/gups.out)
}

wl_end() { :; }
