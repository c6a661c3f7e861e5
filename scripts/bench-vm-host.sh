#!/usr/bin/env bash
# bench-vm-host.sh TSV: finish `make bench-vm` on the host.  TSV holds the
# guest's series/summary lines (scripts/guest/bench-vm.sh).  Prints the
# summary as a table, checks it against the issue's goals (HyperPlace
# reaches 90% of the hot set at least 5x sooner than TPP and DAMON, with
# less CPU) and plots the hot-set fraction over time to TSV's .png.
# A goal that is missed is reported, not failed: this is a benchmark.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=bench-vm
tsv=$1 png=${1%.tsv}.png
grep -q '^summary' "$tsv" || hp_die "no summary line in $tsv (did the guest run fail?)"

printf '%-16s %9s %8s %9s %9s %9s %8s %9s %9s %s\n' mechanism to_90%_s hot_end% mech_cpu kswapd gups_sys mups promoted demoted verify
awk -F'\t' '$1 == "summary" {
	printf "%-16s %9s %8s %9s %9s %9s %8s %9s %9s %s\n", $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }' "$tsv"

# Goals: time to 90% (a run that never got there counts as its whole
# length) and CPU (mechanism threads + kswapd + the workload's system time).
awk -F'\t' '
$1 == "series" { last[$2] = $4 > last[$2] ? $4 : last[$2]; len[$2] = $3 }
$1 == "summary" { t[$2] = $3 < 0 ? len[$2] + 2 : $3; miss[$2] = $3 < 0
	cpu[$2] = $5 + $6 + $7 }
END {
	for (h in t) {
		if (h !~ /^hyperplace/) continue
		for (o in t) {
			if (o != "tpp" && o != "damon") continue
			ratio = t[h] > 0 ? t[o] / t[h] : 0
			printf "goal %s vs %s: 90%% in %s s vs %s%s s (%.1fx sooner, goal 5x: %s); CPU %.2f s vs %.2f s (%s)\n",
				h, o, t[h], miss[o] ? ">" : "", t[o], ratio,
				(ratio >= 5 ? "met" : "missed"), cpu[h], cpu[o],
				(cpu[h] < cpu[o] ? "less: met" : "not less: missed")
		}
	}
}' "$tsv" | sort

if command -v gnuplot >/dev/null; then
	dat=$HP_BUILD/bench/vm-series.dat
	: > "$dat"
	for m in $(awk -F'\t' '$1 == "summary" { print $2 }' "$tsv"); do
		echo "\"$m\"" >> "$dat"
		awk -F'\t' -v m="$m" '$1 == "series" && $2 == m { print $3, $4 }' "$tsv" >> "$dat"
		printf '\n\n' >> "$dat"
	done
	gnuplot <<GP
set terminal pngcairo size 900,540
set output "$png"
set title "GUPS hot set (128 MiB) on the fast node, two-tier TCG guest"
set xlabel "seconds since the mechanism was switched on"
set ylabel "% of the hot set on the fast node"
set yrange [0:105]
set key bottom right
set grid
plot for [i=0:*] "$dat" index i using 1:2 with linespoints pointsize 0.5 title columnheader(1)
GP
	hp_log "plot: $png"
else
	hp_log "gnuplot not installed: no plot"
fi
