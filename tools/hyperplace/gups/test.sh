#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# test.sh GUPS TMP_DIR [SAN_GUPS...]: tests of gups, TAP output.
# GUPS is the static binary the guest runs; each SAN_GUPS (sanitizer builds of
# the same source) gets a shorter run of the checks that exercise the threads.
# Builds are the Makefile's job. Exits non-zero if any test fails.
set -u

GUPS=$1
TMP=$2
shift 2
SANS=$*		# paths without blanks; the positional parameters get reused
mkdir -p "$TMP"
n=0
failed=0

ok() {	# ok CONDITION-EXIT-STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		sed 's/^/# /' "$TMP/out" "$TMP/err" 2>/dev/null | tail -20
	fi
}

# run ARGS...: gups with ARGS, stdout in $TMP/out, stderr in $TMP/err, status in $rc
run() {
	"$BIN" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
}

# tsv N: column N of the final TSV line (1 = "gups")
tsv() {
	awk -F'\t' -v k="$1" '$1 == "gups" { v = $k } END { print v }' "$TMP/out"
}

# summary KEY FIELD: field FIELD of the summary line "gups: KEY ..."
summary() {
	awk -v key="$1" -v f="$2" '$1 == "gups:" && $2 == key { print $f }' "$TMP/out"
}

checksum() { summary checksum 3; }

verified() {	# ran, printed "verify: ok" and an "ok" TSV line
	[ "$rc" -eq 0 ] && grep -qx 'verify: ok' "$TMP/out" && [ "$(tsv 8)" = ok ]
}

# wait_out RE: wait (up to 10 s) for a line matching RE in $TMP/out
wait_out() {
	i=0
	while ! grep -q "$1" "$TMP/out" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# hot_pct: the percentage printed by --count-hot
hot_pct() {
	sed -n 's/^gups: hot: .*(\([0-9.]*\)%).*/\1/p' "$TMP/out"
}

between() {	# between X LO HI: LO <= X <= HI (decimals)
	awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x != "" && x >= lo && x <= hi) }'
}

# --- the static binary ----------------------------------------------------------
BIN=$GUPS

readelf -lW "$BIN" >"$TMP/elf" 2>&1 && ! grep -q INTERP "$TMP/elf"
ok $? "the binary is static (no ELF interpreter): it runs in the busybox guest"

run --help
[ "$rc" -eq 0 ] && grep -q -- '--hot-addr-file' "$TMP/out" && ! grep -q -- '--corrupt' "$TMP/out"
ok $? "--help exits 0, lists the options, hides --corrupt"

# 8 MiB = 2^20 elements, default 4 x elements updates
for p in uniform hotset zipf; do
	for t in 1 4; do
		run -s 8 -t "$t" -p "$p" --seed 7
		verified && [ "$(tsv 5)" = 4194304 ] && [ "$(tsv 2)" = "$p" ] &&
			[ "$(tsv 3)" = 8 ] && [ "$(tsv 4)" = "$t" ]
		ok $? "$p, $t thread(s): verify ok, TSV line complete (4 x elements updates)"
		eval "sum_${p}_$t=\$(checksum)"
	done
	eval "[ -n \"\$sum_${p}_1\" ] && [ \"\$sum_${p}_1\" = \"\$sum_${p}_4\" ]"
	ok $? "$p: same seed, same checksum with 1 and 4 threads"
done

run -s 8 -t 2 -p uniform --seed 8
verified && [ "$(checksum)" != "$sum_uniform_1" ]
ok $? "another seed gives another checksum"

run -s 8 -t 3 -p zipf --seed 7 --prefetch 0
verified && [ "$(checksum)" = "$sum_zipf_1" ]
ok $? "--prefetch 0 updates the same elements (same checksum)"

run -s 8 -t 4 -n 100001
verified && [ "$(tsv 5)" = 100001 ]
ok $? "-n not a multiple of the chunk size: exactly that many updates, verified"
sed -n 's#^gups: per thread (updates/chunks):##p' "$TMP/out" | tr ' /' '\n ' |
	awk 'NF { s += $1; c += $2 } END { exit !(s == 100001 && c == 2) }'
ok $? "work stealing: the threads' updates add up to the total, 2 chunks in all"

run -s 8 -t 4 --corrupt
[ "$rc" -eq 1 ] && grep -q '^verify: FAILED expected 0x[0-9a-f]* got 0x[0-9a-f]*$' "$TMP/out" &&
	[ "$(tsv 8)" = FAILED ]
ok $? "one corrupted element fails verification (exit 1)"

run -s 8 -t 2 -p hotset --no-verify
[ "$rc" -eq 0 ] && [ "$(tsv 8)" = off ] && ! grep -q '^verify:' "$TMP/out"
ok $? "--no-verify: verify column 'off'"

# --- duration and progress ------------------------------------------------------
run -s 8 -t 2 -d 0.4 --report-ms 100
u=$(tsv 5)
verified && [ "$u" -gt 0 ] && [ $((u % 65536)) -eq 0 ] && between "$(tsv 6)" 0.35 3
ok $? "-d 0.4: runs about 0.4 s of whole chunks, verified"
awk -F'\t' '$1 == "progress" { if (NF != 4 || $3 < last || $2 <= t) bad = 1; last = $3; t = $2; k++ }
	END { exit bad || k < 2 }' "$TMP/out"
ok $? "--report-ms 100: progress lines, 4 columns, updates never decrease"

run -s 8 -t 2 -d 100 -n 200000
verified && [ "$(tsv 5)" = 200000 ] && between "$(tsv 6)" 0 10
ok $? "-d with -n: whichever ends first (here -n)"

# --- patterns: where the updates go ----------------------------------------------
run -s 16 -t 2 -p hotset --count-hot
verified && between "$(hot_pct)" 85 95
ok $? "hotset defaults: >= 85% of the updates in the hot region ($(hot_pct)%)"

run -s 16 -t 2 -p hotset --hot-mib 1 --hot-frac 50 --count-hot
between "$(hot_pct)" 50 56
ok $? "hotset --hot-frac 50, 1 of 16 MiB: 50% + 50%/16 hot ($(hot_pct)%)"

run -s 16 -t 2 -p hotset --hot-frac 100 --hot-offset 8 --count-hot
verified && [ "$(hot_pct)" = 100.00 ]
ok $? "hotset --hot-frac 100: every update in the hot region"

run -s 16 -t 2 -p zipf --count-hot
verified && between "$(hot_pct)" 5 100
ok $? "zipf 0.99: the hottest of 4096 buckets gets >= 5% ($(hot_pct)%)"

run -s 16 -t 2 -p zipf --zipf-s 0 --count-hot
between "$(hot_pct)" 0 0.1
ok $? "zipf 0: no bucket stands out ($(hot_pct)%)"

# --- the hot region's addresses --------------------------------------------------
# hot_file_is FILE LO_OFFSET LEN: FILE holds "START END" = array start + LO_OFFSET, + LEN
hot_file_is() {
	set -- $(cat "$1") "$2" "$3" $(summary array 3) $(summary array 4)
	[ $# -eq 6 ] || return 1
	[ $(($1)) -eq $(($5 + $3)) ] && [ $(($2)) -eq $(($1 + $4)) ] &&
		[ $(($2)) -le $(($6)) ] && [ $(($5 % 2097152)) -eq 0 ]
}

run -s 16 -t 1 -n 1000 -p hotset --hot-offset 4 --hot-mib 2 --hot-addr-file "$TMP/hot"
verified && hot_file_is "$TMP/hot" 4194304 2097152
ok $? "hot-addr-file: --hot-offset 4 --hot-mib 2 lie inside the (2 MiB aligned) array"

run -s 16 -t 1 -n 1000 -p hotset --hot-addr-file "$TMP/hot"
hot_file_is "$TMP/hot" 0 1675264
ok $? "hot-addr-file: default hot region is 10% of the array, in whole pages"

run -s 16 -t 1 -n 1000 -p zipf --hot-addr-file "$TMP/hot"
start=$(cut -d' ' -f1 "$TMP/hot")
hot_file_is "$TMP/hot" $((start - $(summary array 3))) 4096
ok $? "hot-addr-file: zipf writes its hottest bucket (4 KiB of 16 MiB)"

run -s 16 -t 1 -n 1000 --hot-addr-file "$TMP/hot"
hot_file_is "$TMP/hot" 0 16777216
ok $? "hot-addr-file: uniform writes the whole array"

# --- pausing after init ------------------------------------------------------------
rm -f "$TMP/hot"
"$BIN" -s 16 -t 2 -p hotset --hot-offset 8 --hot-mib 2 --hot-addr-file "$TMP/hot" \
	--pause-after-init >"$TMP/out" 2>"$TMP/err" </dev/null &
pid=$!
wait_out '^paused'
grep -q "^paused	$pid\$" "$TMP/out" && [ -s "$TMP/hot" ]
ok $? "--pause-after-init: prints 'paused<TAB>PID' once the hot-addr-file is written"
# mapped START END PID: one mapping of PID holds [START, END)
mapped() {
	while read -r range rest; do
		[ $((0x${range%-*})) -le $(($1)) ] && [ $(($2)) -le $((0x${range#*-})) ] &&
			return 0
	done <"/proc/$3/maps"
	return 1
}
mapped $(cat "$TMP/hot") "$pid"
ok $? "--pause-after-init: the hot region is mapped while paused (/proc/PID/maps)"
sleep 0.3
kill -0 "$pid" 2>/dev/null && ! grep -q 'updates in' "$TMP/out"
ok $? "--pause-after-init: waits (stdin at EOF does not start it)"
kill -USR1 "$pid"
wait "$pid"
rc=$?
verified
ok $? "--pause-after-init: SIGUSR1 starts the updates, verify ok"

printf '\n' | "$BIN" -s 8 -t 2 -n 300000 --pause-after-init >"$TMP/out" 2>"$TMP/err"
rc=$?
verified && grep -q '^paused' "$TMP/out"
ok $? "--pause-after-init: a newline on stdin starts the updates"

# --- stopping early ---------------------------------------------------------------
"$BIN" -s 8 -t 2 -d 600 >"$TMP/out" 2>"$TMP/err" </dev/null &
pid=$!
wait_out '^gups: init'
sleep 0.3
kill -USR2 "$pid"
wait "$pid"
rc=$?
verified && [ "$(tsv 5)" -gt 0 ]
ok $? "SIGUSR2 ends a -d 600 run early, its updates verified ($(tsv 5) updates)"

# --- bad arguments: exit 2 with a message -----------------------------------------------
bad() {	# bad NAME ARGS...
	name=$1
	shift
	run "$@"
	[ "$rc" -eq 2 ] && grep -q '^gups: ' "$TMP/err" && ! grep -q '^gups	' "$TMP/out"
	ok $? "bad arguments exit 2: $name ($(head -1 "$TMP/err"))"
}
bad "zero threads"               -t 0
bad "too many threads"           -t 100000
bad "unknown pattern"            -p gauss
bad "hot region > array"         -s 4 -p hotset --hot-mib 5
bad "hot region past the end"    -s 4 -p hotset --hot-mib 2 --hot-offset 3
bad "hot offset past the end"    -s 4 -p hotset --hot-offset 4
bad "zero hot-mib"               -s 4 -p hotset --hot-mib 0
bad "hot-frac over 100"          -p hotset --hot-frac 101
bad "hot option without hotset"  -p zipf --hot-mib 1
bad "zipf-s without zipf"        --zipf-s 1
bad "negative zipf-s"            -p zipf --zipf-s -1
bad "element size 4"             --element 4
bad "zero size"                  -s 0
bad "non-numeric size"           -s 8M
bad "negative updates"           -n -5
bad "zero updates"               -n 0
bad "zero duration"              -d 0
bad "duration not a number"      -d soon
bad "zero report-ms"             --report-ms 0
bad "prefetch not a power of 2"  --prefetch 3
bad "unknown option"             --frobnicate
bad "missing argument"           -s
bad "stray argument"             -s 8 extra

# --- sanitizer builds -----------------------------------------------------------
for BIN in $SANS; do
	tag=$(basename "$(dirname "$BIN")")
	for p in uniform hotset zipf; do
		run -s 4 -t 4 -p "$p" -n 700000 --seed 3 --count-hot
		verified && ! grep -q 'Sanitizer' "$TMP/err"
		ok $? "$tag: $p, 4 threads, verify ok, sanitizer clean"
	done
	run -s 4 -t 3 -d 0.3 --report-ms 50 -p hotset
	verified && ! grep -q 'Sanitizer' "$TMP/err"
	ok $? "$tag: -d with progress reports, sanitizer clean"
	run -s 4 -t 2 -n 200000 --corrupt
	[ "$rc" -eq 1 ] && [ "$(tsv 8)" = FAILED ] && ! grep -q 'Sanitizer' "$TMP/err"
	ok $? "$tag: --corrupt fails verification, sanitizer clean"
done

echo "1..$n"
[ "$failed" -eq 0 ] || { echo "# $failed of $n failed"; exit 1; }
