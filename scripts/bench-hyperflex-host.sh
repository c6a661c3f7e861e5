#!/usr/bin/env bash
# bench-hyperflex-host.sh TSV: finish `make bench-hyperflex` on the host.
# TSV holds one row per run (scripts/hyperflex-test.py --bench): the time
# to take 1 GiB from the fast node with HyperFlex, the stock balloon and
# virtio-mem.  Prints the median of each, checks the issue's goals
# (HyperFlex >= 1 GiB/s and >= 2x the stock balloon) and plots every run
# to TSV's .png.  A missed goal is reported, not failed: this is a benchmark.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=bench-hyperflex
tsv=$1 png=${1%.tsv}.png
[ "$(wc -l < "$tsv")" -gt 1 ] || hp_die "no runs in $tsv"

median() { # median MECHANISM: median seconds of its runs
	awk -F'\t' -v m="$1" 'NR > 1 && $1 == m { print $3 }' "$tsv" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

printf '%-12s %5s %10s %10s\n' mechanism runs median_s MiB/s
for m in hyperflex balloon virtio-mem; do
	s=$(median $m)
	[ -n "$s" ] || continue
	printf '%-12s %5s %10s %10.0f\n' $m "$(awk -F'\t' -v m=$m '$1 == m' "$tsv" | wc -l)" "$s" \
		"$(awk -v s="$s" 'BEGIN { print 1024 / s }')"
done
hf=$(median hyperflex) bl=$(median balloon) vm=$(median virtio-mem)
awk -v hf="$hf" -v bl="$bl" -v vm="$vm" 'BEGIN {
	rate = 1024 / hf
	printf "goal rate: %.0f MiB/s (goal >= 1024: %s)\n", rate, (rate >= 1024 ? "met" : "missed")
	printf "goal vs stock balloon: %.1fx (goal >= 2x: %s)\n", bl / hf, (bl / hf >= 2 ? "met" : "missed")
	if (vm != "") printf "vs virtio-mem: %.1fx\n", vm / hf
}'

if command -v gnuplot >/dev/null; then
	gnuplot <<GP
set terminal pngcairo size 800,480
set output "$png"
set title "Taking 1 GiB from the fast node (TCG guest, every run)"
set ylabel "seconds, command to done"
set xtics ("hyperflex" 0, "stock balloon" 1, "virtio-mem" 2)
set xrange [-0.5:2.5]
set yrange [0:*]
set grid ytics
set key off
mech(s) = s eq "hyperflex" ? 0 : s eq "balloon" ? 1 : 2
plot "$tsv" every ::1 using (mech(strcol(1))):3 with points pointtype 7 pointsize 1.5
GP
	hp_log "plot: $png"
else
	hp_log "gnuplot not installed: no plot"
fi
