#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run.sh BIN_DIR TMP_DIR: parser and simulator tests of hpsim/tracegen, TAP output.
# Exits non-zero if any test fails. Meant for the ASan+UBSan build.
set -u

BIN=$1
TMP=$2
HPSIM=$BIN/hpsim
GEN=$BIN/tracegen
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
	fi
}

# Column of a policy's row: col FILE POLICY COLUMN-NAME
col() {
	awk -F'\t' -v p="$2" -v c="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i }
		NR > 1 && $2 == p { print $k }' "$1"
}

# bad NAME LINE TEXT: hpsim must fail and name the line, both when the line is near
# the end of the input and when a long tail follows it (the parser's fast path)
PAD='# ......................................................................\n'
bad() {
	printf '%b' "$3" >"$TMP/bad.trace"
	"$HPSIM" -p static "$TMP/bad.trace" >/dev/null 2>"$TMP/bad.err"
	rc=$?
	printf '%b' "$3$PAD$PAD" >"$TMP/bad.trace"
	"$HPSIM" -p static "$TMP/bad.trace" >/dev/null 2>"$TMP/bad2.err"
	rc2=$?
	[ $rc -ne 0 ] && grep -q "bad.trace:$2: " "$TMP/bad.err" &&
		[ $rc2 -ne 0 ] && grep -q "bad.trace:$2: " "$TMP/bad2.err"
	ok $? "malformed: $1 (line $2, exit $rc)"
}

H='# fast_pages=4\n'
M='0 1 m 10000 4000\n'
bad "bad time"            3 "$H$M"'x1 1 r 10000\n'
bad "negative time"       3 "$H$M"'-5 1 r 10000\n'
bad "bad pid"             3 "$H$M"'10 z r 10000\n'
bad "pid over 2^32"       3 "$H$M"'10 4294967296 r 10000\n'
bad "unknown event"       3 "$H$M"'10 1 q 10000\n'
bad "two-letter event"    3 "$H$M"'10 1 rw 10000\n'
bad "missing event"       3 "$H$M"'10 1\n'
bad "access without addr" 3 "$H$M"'10 1 r\n'
bad "bad hex address"     3 "$H$M"'10 1 w 10g00\n'
bad "hex over 64 bits"    3 "$H$M"'10 1 r 10000000000000000\n'
bad "extra field"         3 "$H$M"'10 1 r 10000 5\n'
bad "map without length"  2 "$H"'0 1 m 10000\n'
bad "map unaligned"       2 "$H"'0 1 m 10001 1000\n'
bad "map zero length"     2 "$H"'0 1 m 10000 0\n'
bad "map wraps around"    2 "$H"'0 1 m fffffffffffff000 2000\n'
bad "unmap unaligned"     3 "$H$M"'5 1 u 10008 1000\n'
bad "exit with argument"  3 "$H$M"'5 1 x 7\n'
bad "time goes backwards" 4 "$H$M"'20 1 r 10000\n10 1 r 10000\n'
bad "event before fast_pages" 1 '0 1 m 10000 4000\n'
bad "header after event"  3 "$H$M"'# cpus=2\n'
bad "bad header value"    1 '# fast_pages=many\n'
bad "zero fast_pages"     1 '# fast_pages=0\n'
bad "page_size not 2^n"   1 '# page_size=5000\n'
bad "cpus out of range"   2 "$H"'# cpus=100000\n'
bad "error after blanks"  5 "$H"'\n#c\n'"$M"'10 1 r\n'
bad "backwards after many" 5 "$H$M"'20 1 r 10000\n30 1 w 0x10008\n10 1 r 10000\n'
bad "hex of 17 digits"    3 "$H$M"'10 1 r 00000000000010000\n'
bad "tab then garbage"    3 "$H$M"'10 1 r 10000\tz\n'

printf '# just a comment\n' >"$TMP/nofast.trace"
"$HPSIM" "$TMP/nofast.trace" >/dev/null 2>"$TMP/nofast.err"
[ $? -ne 0 ] && grep -q "missing required header" "$TMP/nofast.err"
ok $? "malformed: no fast_pages header at all fails"

printf "$H$M"'10 1 r\n11 1 x 9\n12 1 r 10000\n' >"$TMP/two.trace"
"$HPSIM" "$TMP/two.trace" >/dev/null 2>"$TMP/two.err"
[ $? -ne 0 ] && grep -q "two.trace:3: " "$TMP/two.err" && grep -q "two.trace:4: " "$TMP/two.err"
ok $? "malformed: every bad line is reported, not only the first"

# --- well-formed input -----------------------------------------------------------
# fast_pages=2; pages A B C D first touched in order: A, B fast; C, D slow.
cat >"$TMP/tiny.trace" <<'T'
# a tiny trace: a comment, the headers, a blank line, CRLF on one line
# page_size=4096
# fast_pages=2
# cpus=1
# tool=handmade

0 7 m 0x100000 4000
0 7 m 101000 3000
1 7 r 100000
2 7 w 101008
3 7 r 0x102000
4 7 w 103ff8
5 7 r 100010
6 7 r 101000
7 7 r 102000
8 7 r 103000
9 7 r 200000
T
printf '10 7 u 100000 1000\r\n11 7 m 300000 1000\n12 7 r 300000\n13 7 r 300000\n14 7 x\n' \
	>>"$TMP/tiny.trace"
"$HPSIM" -p oracle,static "$TMP/tiny.trace" >"$TMP/tiny.tsv" 2>"$TMP/tiny.err"
ok $? "well-formed tiny trace with comments, blank line, 0x, CRLF is accepted"
# accesses: A B C D A B C D E E = 10 (one unmapped); static hits: A B A B E E = 6
[ "$(col "$TMP/tiny.tsv" static accesses)" = 10 ]
ok $? "accesses counts every mapped access"
[ "$(col "$TMP/tiny.tsv" static unmapped)" = 1 ]
ok $? "an access outside every mapping is counted and ignored"
[ "$(col "$TMP/tiny.tsv" static hit_ratio)" = 0.6000 ]
ok $? "static: exact first-touch hit ratio (6/10; munmap frees a fast page)"
# one 1 s interval: counts A2 B2 C2 D2 E2, best 2 pages = 4 of 10
[ "$(col "$TMP/tiny.tsv" oracle hit_ratio)" = 0.4000 ]
ok $? "oracle: exact per-interval best placement (4/10)"
head -1 "$TMP/tiny.tsv" | grep -q "$(printf '^trace\tpolicy\taccesses\thit_ratio\toracle_hit_ratio\tt90_s\tmigrated_mib\tns_per_sample\t')"
ok $? "TSV header starts with the required columns in order"

"$HPSIM" -p oracle,static - <"$TMP/tiny.trace" >"$TMP/stdin.tsv" 2>/dev/null &&
	cut -f2- "$TMP/stdin.tsv" | cut -f1-8 >"$TMP/a" && cut -f2- "$TMP/tiny.tsv" | cut -f1-8 >"$TMP/b" &&
	cmp -s "$TMP/a" "$TMP/b"
ok $? "stdin (-) gives the same result as the file"

printf '# page_size=8192\n# fast_pages=1\n0 1 m 0 8000\n1 1 r 0\n2 1 r 1000\n3 1 r 4000\n' \
	>"$TMP/ps.trace"
"$HPSIM" -p static "$TMP/ps.trace" >"$TMP/ps.tsv" 2>"$TMP/ps.err" &&
	[ "$(col "$TMP/ps.tsv" static hit_ratio)" = 0.6667 ] && grep -q " 4 pages" "$TMP/ps.err"
ok $? "page_size header: 8 KiB pages (4 pages, 2 of 3 accesses on the first)"

# the fast path must agree with the general one on every well-formed variant
{
	printf '# fast_pages=1\n0 1 m 0 2000\n'
	printf '1 1 r 0\n2 1 r 0x1000\n3  1\tr 1008\n4 1 w 0X0\n5 1 r 1000\r\n'
	printf '18446744073709551615 1 w 0000000000000000\n'
	printf '# ......................................................................\n'
} >"$TMP/var.trace"
"$HPSIM" -i 10000000000000 "$TMP/var.trace" >"$TMP/var.tsv" 2>/dev/null &&
	[ "$(col "$TMP/var.tsv" static accesses)" = 6 ] && [ "$(col "$TMP/var.tsv" static hit_ratio)" = 0.5000 ]
ok $? "well-formed variants (0x, 0X, tabs, CRLF, 20-digit time) parse alike, all policies run"

# --- simulator on generated traces -------------------------------------------------
gen=0
for w in hotset zipf scatter multi uniform; do
	"$GEN" -w "$w" -N 32 -F 8 -H 4 --regions 8 --region-kib 256 -a 300000 --rate 100000 \
		-s 3 -o "$TMP/$w.trace" || gen=1
done
ok $gen "tracegen: every workload is generated"
"$GEN" -w hotset -N 32 -F 8 -H 4 -a 300000 --rate 100000 -s 3 -o "$TMP/again.trace" &&
	cmp -s "$TMP/hotset.trace" "$TMP/again.trace"
ok $? "tracegen is deterministic for a seed"

for w in hotset zipf scatter multi uniform; do
	"$HPSIM" -s 20 -t "$TMP/$w.tl" "$TMP/$w.trace" >"$TMP/$w.tsv" 2>"$TMP/$w.err"
	ok $? "$w: all policies run (sanitizers clean)"
	awk -F'\t' 'NR > 1 && $4 > $5 + 1e-9 { bad = 1 } END { exit bad }' "$TMP/$w.tsv"
	ok $? "$w: oracle_hit_ratio >= hit_ratio of every policy"
done
# mapping churn: partial unmaps, holes, remaps, exit and pid reuse, under every policy
awk 'BEGIN {
	print "# fast_pages=64"; t = 0; srand(7)
	for (round = 0; round < 6; round++) {
		for (p = 1; p <= 2; p++)
			printf "%d %d m %x %x\n", t, p, 1048576 * p, 1048576
		for (i = 0; i < 40000; i++) {
			p = 1 + int(rand() * 2); a = 1048576 * p + int(rand() * 256) * 4096
			if (rand() < 0.8) a = 1048576 * p + int(rand() * 16) * 4096
			printf "%d %d %s %x\n", t, p, (rand() < 0.3 ? "w" : "r"), a
			t += 2000
		}
		printf "%d 1 u %x %x\n", t, 1048576 + 65536, 131072
		printf "%d 2 u %x %x\n", t, 2097152, 65536
		printf "%d 1 m %x %x\n", t, 1048576 + 65536, 65536
		if (round % 2) printf "%d 2 x\n", t
	}
}' >"$TMP/churn.trace"
"$HPSIM" -s 10 -i 20 "$TMP/churn.trace" >"$TMP/churn.tsv" 2>"$TMP/churn.err" &&
	[ "$(awk -F'\t' 'NR > 1' "$TMP/churn.tsv" | wc -l)" -eq 7 ]
ok $? "mapping churn (holes, remaps, exit, pid reuse): every policy runs clean"
awk -F'\t' 'NR > 1 && $4 > $5 + 1e-9 { bad = 1 } END { exit bad }' "$TMP/churn.tsv"
ok $? "mapping churn: oracle_hit_ratio >= hit_ratio of every policy"

rows=$(wc -l <"$TMP/hotset.tl")
[ "$rows" -eq 5 ] && head -1 "$TMP/hotset.tl" | grep -q "^t_s	oracle	static"
ok $? "timeline: a header and one row per interval (4 s of trace)"

# rate limit: 3 s of trace at 1 MiB/s may move at most 1 s banked + 3 s = 4 MiB
"$HPSIM" -s 20 -r 1 "$TMP/hotset.trace" >"$TMP/rate.tsv" 2>/dev/null &&
	awk -F'\t' 'NR > 1 && $2 != "oracle" && $7 > 4.0 { bad = 1 } END { exit bad }' "$TMP/rate.tsv"
ok $? "rate limit: no policy moves more than the budget (1 MiB/s)"
"$HPSIM" -s 20 -r 0 "$TMP/hotset.trace" >"$TMP/rate0.tsv" 2>/dev/null &&
	awk -F'\t' 'NR > 1 && $2 != "oracle" && $7 != 0.0 { bad = 1 } END { exit bad }' "$TMP/rate0.tsv"
ok $? "rate limit 0: nothing moves"

# no pipes: a pipeline's status is the last command's, not hpsim's
"$HPSIM" -s 20 "$TMP/zipf.trace" >"$TMP/r1.tsv" 2>/dev/null &&
	"$HPSIM" -s 20 "$TMP/zipf.trace" >"$TMP/r2.tsv" 2>/dev/null &&
	cut -f1-7,9-11 "$TMP/r1.tsv" >"$TMP/r1" && cut -f1-7,9-11 "$TMP/r2.tsv" >"$TMP/r2" &&
	cmp -s "$TMP/r1" "$TMP/r2"
ok $? "hpsim is deterministic (all columns but timings)"

rm -f "$TMP/zipf.cache"
"$HPSIM" -s 20 -C "$TMP/zipf.cache" "$TMP/zipf.trace" >"$TMP/c1.tsv" 2>/dev/null &&
	"$HPSIM" -s 20 -C "$TMP/zipf.cache" "$TMP/zipf.trace" >"$TMP/c2.tsv" 2>"$TMP/c2.err" &&
	cut -f1-7,9-11 "$TMP/c1.tsv" >"$TMP/c1" && cut -f1-7,9-11 "$TMP/c2.tsv" >"$TMP/c2" &&
	cmp -s "$TMP/c1" "$TMP/r1" && cmp -s "$TMP/c2" "$TMP/r1" && grep -q "loaded from the cache" "$TMP/c2.err"
ok $? "binary cache: written, then loaded, same results"

printf '# fast_pages=1\n0 1 m 0 1000\n1 1 r 0\n100000000000000000 1 r 0\n' >"$TMP/span.trace"
"$HPSIM" -p static "$TMP/span.trace" >/dev/null 2>"$TMP/span.err"
[ $? -ne 0 ] && grep -q "raise --interval-ms" "$TMP/span.err"
ok $? "a time span of too many intervals is refused with advice, not an OOM"

"$HPSIM" -p nosuch "$TMP/tiny.trace" >/dev/null 2>&1
[ $? -ne 0 ]
ok $? "unknown policy is refused"

echo "1..$n"
[ "$failed" -eq 0 ] || { echo "# $failed of $n failed"; exit 1; }
