# Sourced by bench-vm.sh: redis-server driven by redis-benchmark (Debian's
# redis-tools), over a unix socket.  With every mechanism off a cold key
# space is written first, which fills the fast node by first touch, then a
# hot one, which lands on the slow node; redis-benchmark then GETs random
# hot keys.  Operations are GETs of 1000-byte values, 4 clients, each
# with 32 requests in flight (redis-benchmark -P).  One request at a
# time ran at 4-5 k/s under TCG on either node (system calls and context
# switches dominate); pipelined, 20 k/s on node 0 and 13 k/s on node 1,
# so the key lookups count.  Latencies are per request, so they include
# the wait behind the requests before it in the pipeline.
redis_val=1000
redis_pipeline=32
# About 1.1 KiB of memory per key: cold keys overfill the fast node by
# a quarter, the hot keys take about half of it.
redis_cold=$((FAST_MIB * 5 / 4 * 1024 * 10 / 11))
redis_hot=$((FAST_MIB / 2 * 1024 * 10 / 11))
redis_sock=/tmp/redis.sock
rcli() { redis-cli -s $redis_sock "$@"; }

wl_desc() {
	echo "redis: $redis_cold cold + $redis_hot hot keys of $redis_val bytes," \
		"GET of random hot keys, redis-benchmark -c 4 -P $redis_pipeline"
}

# redis_fill PREFIX N: keys PREFIX:000000000000... as redis-benchmark's
# __rand_int__ writes them, in one server-side script (a client would
# take minutes under TCG).  The cold keys, which are never read, come
# from DEBUG POPULATE, which is faster still.
redis_fill() {
	rcli eval "local v = string.rep('x', $redis_val)
		for i = 0, $2 - 1 do
			redis.call('SET', string.format('$1:%012d', i), v)
		end" 0 > /dev/null
}
# wl_start BIND: sets wl_pid and the hot data (hot_found).
wl_start() {
	rm -f $redis_sock
	$1 redis-server --port 0 --unixsocket $redis_sock --save '' \
		--appendonly no --enable-debug-command local > /tmp/redis.log 2>&1 &
	wl_pid=$!
	until rcli ping > /dev/null 2>&1; do
		kill -0 $wl_pid 2>/dev/null || { cat /tmp/redis.log; return 1; }
		sleep 0.5
	done
	rcli debug populate $redis_cold cold $redis_val > /dev/null
	hot_mark
	redis_fill hot $redis_hot
	hot_found || return 1
	redis_chunk=5000
}

# wl_go: runs of redis-benchmark until the run's time is up, each about
# 3 s long, one record each in /tmp/ops.
wl_go() {
	: > /tmp/ops
	(
		while [ "$(elapsed $t0 | cut -d. -f1)" -lt $secs ]; do
			redis-benchmark -s $redis_sock -c 4 -P $redis_pipeline -n $redis_chunk \
				-r $redis_hot --csv GET hot:__rand_int__ \
				> /tmp/rb.csv 2>&1 || { cat /tmp/rb.csv; break; }
			t=$(elapsed $t0)
			# CSV: test, rps, avg, min, p50, p95, p99, max (ms).
			awk -F'"' -v t=$t -v n=$redis_chunk '$2 ~ /^GET/ {
				printf "%s\t%.3f\t%d\t%d\t%d\n", t, n / $4, n,
					$10 * 1000, $14 * 1000 }' /tmp/rb.csv >> /tmp/ops
			redis_chunk=$(awk -F'"' '$2 ~ /^GET/ {
				n = int($4 * 3); print n < 2000 ? 2000 : n }' /tmp/rb.csv)
		done
	) &
	load_pid=$!
}

wl_stop() {
	wait $load_pid
	wl_check="keys=$(rcli dbsize)/$((redis_cold + redis_hot))"
}

wl_end() {
	rcli shutdown nosave > /dev/null 2>&1
	wait $wl_pid
}
