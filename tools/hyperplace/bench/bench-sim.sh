#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-sim.sh BIN_DIR OUT_DIR: generate every workload, run every policy on it,
# print the TSV (and keep it in OUT_DIR/bench-sim.tsv), plot OUT_DIR/bench/<wl>.png.
# Sizes: 256 MiB per workload, 20 M accesses at 1 M accesses per trace second (20 s),
# about 5 s of CPU per workload on this machine.
set -euo pipefail

BIN=$1
OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
ACC=${BENCH_ACCESSES:-20000000}
mkdir -p "$OUT/bench"
TSV=$OUT/bench-sim.tsv

# name | tracegen arguments
WORKLOADS='
uniform|-w uniform
hotset|-w hotset -H 32
hotset-move|-w hotset -H 32 --move-at 10
zipf|-w zipf --theta 0.99
scatter|-w scatter --regions 32 --region-kib 1024
multi|-w multi --procs 4 -N 64 -H 32 -F 40
'

header=1
: >"$TSV"
: >"$OUT/bench/hpsim.log"
echo "$WORKLOADS" | while IFS='|' read -r name args; do
	[ -n "$name" ] || continue
	# shellcheck disable=SC2086
	"$BIN/tracegen" $args -a "$ACC" -s 1 |
		"$BIN/hpsim" -n "$name" -t "$OUT/bench/$name.timeline" \
			$( [ $header = 1 ] || echo -H ) - 2>>"$OUT/bench/hpsim.log" |
		tee -a "$TSV"
	header=0
	gnuplot -e "in='$OUT/bench/$name.timeline'; out='$OUT/bench/$name.png'; name='$name'" \
		"$HERE/plot.gp"
done
# The issue's goals, checked on this run's numbers (a report, not a test).
awk -F'\t' -f "$HERE/goals.awk" "$TSV" | tee "$OUT/bench-sim-goals.txt" >&2
echo "bench-sim: $TSV, plots in $OUT/bench/*.png" >&2
