# Sourced by bench-vm.sh: the sqlite3 shell (Debian's sqlite3) on an
# in-memory database, point lookups by primary key.  With every mechanism
# off, cold rows are inserted first, which fills the fast node by first
# touch, then hot rows, which land on the slow node; then batches of
# lookups of random hot rows run, each reading the whole 1000-byte value.
# Operations are lookups; the shell times each batch (ms resolution), so
# there are no per-lookup latencies.
sqlite_val=1000
# About 1.1 KiB of heap per row (4 rows a 4 KiB page, with the page
# cache's headers): as for redis.
sqlite_cold=$((FAST_MIB * 5 / 4 * 1024 * 10 / 11))
sqlite_hot=$((FAST_MIB / 2 * 1024 * 10 / 11))
sqlite_batch=20000
sql=/tmp/sql.in

wl_desc() {
	echo "sqlite: $sqlite_cold cold + $sqlite_hot hot rows of $sqlite_val" \
		"bytes in memory, batches of $sqlite_batch lookups of random hot rows"
}

# sql_wait WORD: wait until the shell has printed WORD.
sql_wait() {
	until grep -q "^$1\$" /tmp/sql.out; do
		kill -0 $wl_pid 2>/dev/null || { cat /tmp/sql.out; return 1; }
		sleep 0.5
	done
}

# wl_start BIND: sets wl_pid and the hot data (hot_found).
wl_start() {
	rm -f $sql
	mkfifo $sql
	exec 3<> $sql	# a writer that stays: the shell reads until EOF
	$1 sqlite3 -batch < $sql > /tmp/sql.out 2>&1 &
	wl_pid=$!
	cat >&3 <<SQL
CREATE TABLE kv(k INTEGER PRIMARY KEY, v BLOB);
INSERT INTO kv SELECT value, zeroblob($sqlite_val) FROM generate_series(1, $sqlite_cold);
SELECT 'cold';
SQL
	sql_wait cold || return 1
	hot_mark
	cat >&3 <<SQL
INSERT INTO kv SELECT value, zeroblob($sqlite_val)
	FROM generate_series($((sqlite_cold + 1)), $((sqlite_cold + sqlite_hot)));
SELECT 'hot';
SQL
	sql_wait hot || return 1
	hot_found || return 1
}

# wl_go: a writer keeps the shell busy with batches (the FIFO holds a few
# hundred).  instr() finds no 1 byte, so each lookup reads the whole
# value; "value * 0" ties the lookup to the series' row, or SQLite would
# run it once for all rows.
wl_go() {
	echo .timer on >&3
	(
		q="SELECT 'batch', sum((SELECT instr(v, x'01') FROM kv
			WHERE k = $((sqlite_cold + 1)) +
				(abs(random()) + value * 0) % $sqlite_hot))
			FROM generate_series(1, $sqlite_batch);"
		while :; do echo "$q"; done >&3
	) &
	load_pid=$!
}

# wl_stop: the shell times each batch: a batch's record is at the sum of
# the times so far (the batches run back to back).
wl_stop() {
	{ kill $load_pid; wait $load_pid; } 2>/dev/null
	kill -INT $wl_pid	# the shell stops the batch under way and exits
	wait $wl_pid
	exec 3>&-
	awk -v n=$sqlite_batch '/^batch\|/ { b = 1; next }
		b && /^Run Time: real/ { t += $4
			printf "%.3f\t%.3f\t%d\t-\t-\n", t, $4, n }
		{ b = 0 }' /tmp/sql.out > /tmp/ops
	wl_check=-
}

wl_end() { rm -f $sql; }
