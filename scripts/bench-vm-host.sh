#!/usr/bin/env bash
# bench-vm-host.sh RAW: finish `make bench-vm` on the host.  RAW holds the
# guest's hot/ops/run records (scripts/guest/bench-vm.sh).  Writes, next
# to RAW:
#   vm.tsv         one row per workload and mechanism, the columns below;
#                  for a peer swept over several settings, its best one
#   vm-sweep.tsv   the same for every run (every setting tried)
#   vm-series.tsv  the time series: workload mechanism setting kind t_s
#                  value, kind one of ops_per_s, p99_us, hot_pct, backoff
#                  (HyperPlace's stats/backoff: how many times slower
#                  than its knobs it samples and ends epochs)
#   vm-WORKLOAD.png   throughput and hot data on the fast node over time
# prints vm.tsv as a table and reports the issue's goals (a missed goal is
# reported, not failed: this is a benchmark).
#
# Columns of vm.tsv ("-" where one does not apply):
#   t90_s              seconds from the mechanism's switch-on until 90% of
#                      the hot data (the memory the hot region or key
#                      space was written into, which starts on the slow
#                      node) is on the fast node, as first seen by the
#                      3-second samples; "-" if never in the run
#   steady_ops_per_s   operations per second over the last third of the
#                      run (the steady state; the first two thirds are the
#                      warm-up, visible in vm-series.tsv)
#   steady_vs_allfast  steady_ops_per_s / that of allfast, same workload
#   p99_us, p50_us     mean of the per-interval percentiles over the last
#                      third (redis-benchmark's; none for GUPS and sqlite)
#   mech_cpu_s         CPU the mechanism cost in the run: its threads
#                      (khyperplaced, kdamond) plus the
#                      kswapd time and the workload's system time beyond
#                      what the same workload costs with `none` (per second
#                      and per operation), which is where TPP's hint faults
#                      and migrations and reclaim's demotions are counted
#   promoted_mib, demoted_mib   pages moved (vmstat pgpromote_success (TPP),
#                      pgpromote_hyperplace and
#                      pgdemote_*; DAMON's schemes' own counts)
#   setting            the mechanism's setting (scripts/guest/bench/mech.sh)
#   hot_end_pct        % of the hot data on the fast node at the end
#   threads_s, kswapd_s, wl_sys_s   the raw CPU times mech_cpu_s is made of
#   check              the workload's own check (GUPS verify, redis keys)
#   warm_cpu_pct, steady_cpu_pct   the mechanism's CPU (as mech_cpu_s is
#                      made up) over the warm-up (the first two thirds) and
#                      the steady state (the last third), in % of one vCPU
#   steady_moves_mib_s pages promoted and demoted per second in the
#                      steady state, in MiB/s
#   abit_pass_s        seconds HyperPlace's Accessed-bit passes took in the
#                      run (stats/abit_ns), part of mech_cpu_s
#   steady_backoff     HyperPlace's mean back-off factor (stats/backoff)
#                      over the steady state
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=bench-vm
raw=$1 dir=$(dirname "$1")
tsv=$dir/vm.tsv sweep=$dir/vm-sweep.tsv series=$dir/vm-series.tsv
grep -q '^run' "$raw" || hp_die "no run record in $raw (did the guest run fail?)"

# Every run, one row each (vm-sweep.tsv).
awk -F'\t' -v OFS='\t' '
function kv(rec, key,   n, i, f, a) {
	n = split(rec, f, "\t")
	for (i = 5; i <= n; i++) {
		split(f[i], a, "=")
		if (a[1] == key)
			return substr(f[i], length(key) + 2)
	}
	return "-"
}
$1 == "ops" { k = $2 SUBSEP $3 SUBSEP $4; n = ++nops[k]
	ot[k, n] = $5; od[k, n] = $6; oo[k, n] = $7; o50[k, n] = $8; o99[k, n] = $9 }
$1 == "hot" { k = $2 SUBSEP $3 SUBSEP $4
	if (!(k in t90) && $6 >= 90) t90[k] = $5 }
$1 == "cost" { k = $2 SUBSEP $3 SUBSEP $4; n = ++ncost[k]
	ct[k, n] = $5; cthr[k, n] = $6; cksw[k, n] = $7; csys[k, n] = $8; cmov[k, n] = $9
	cbo[k, n] = $10 }
$1 == "run" { k = $2 SUBSEP $3 SUBSEP $4; runs[++nrun] = k; rec[k] = $0
	wl[k] = $2; me[k] = $3; se[k] = $4 }
# Operations of run k finished in (a, b] seconds.
function ops_in(k, a, b,   i, s) {
	for (i = 1; i <= nops[k]; i++)
		if (ot[k, i] > a && ot[k, i] <= b) s += oo[k, i]
	return s
}
# The mechanism CPU of run k between its cost records i and j, in % of
# one vCPU (threads, plus kswapd and system time beyond none'"'"'s), and
# sets win_mib_s to the MiB/s moved meanwhile.
function win_cpu(k, i, j,   dt, ek, es, c) {
	dt = ct[k, j] - ct[k, i]
	if (dt <= 0) { win_mib_s = "-"; return "-" }
	win_mib_s = sprintf("%.2f", (cmov[k, j] - cmov[k, i]) / 256 / dt)
	c = cthr[k, j] - cthr[k, i]
	if (!bound) {
		ek = cksw[k, j] - cksw[k, i] - base_k[wl[k]] * hz * dt
		es = csys[k, j] - csys[k, i] - base_s[wl[k]] * hz * ops_in(k, ct[k, i], ct[k, j])
		c += (ek > 0 ? ek : 0) + (es > 0 ? es : 0)
	}
	return sprintf("%.2f", 100 * c / hz / dt)
}
# Mean back-off factor of run k over its cost records i..j ("-" if none).
function mean_backoff(k, i, j,   n, sum) {
	for (; i <= j; i++)
		if (cbo[k, i] != "" && cbo[k, i] != "-") { sum += cbo[k, i]; n++ }
	return n ? sprintf("%.1f", sum / n) : "-"
}
END {
	for (r = 1; r <= nrun; r++) {
		k = runs[r]; secs = kv(rec[k], "secs")
		ops = dur = all = 0; n50 = n99 = s50 = s99 = 0
		for (i = 1; i <= nops[k]; i++) {
			all += oo[k, i]
			if (ot[k, i] <= secs * 2 / 3) continue
			ops += oo[k, i]; dur += od[k, i]
			if (o50[k, i] != "-") { s50 += o50[k, i]; n50++ }
			if (o99[k, i] != "-") { s99 += o99[k, i]; n99++ }
		}
		steady[k] = dur > 0 ? ops / dur : 0
		total[k] = all
		p50[k] = n50 ? sprintf("%.0f", s50 / n50) : "-"
		p99[k] = n99 ? sprintf("%.0f", s99 / n99) : "-"
		thr[k] = kv(rec[k], "mech_cpu_s"); ksw[k] = kv(rec[k], "kswapd_s")
		sys[k] = kv(rec[k], "wl_sys_s"); len[k] = secs
		if (me[k] == "none") {
			base_k[wl[k]] = ksw[k] / secs
			base_s[wl[k]] = all > 0 ? sys[k] / all : 0
			has_base[wl[k]] = 1
		}
		if (me[k] == "allfast") fastops[wl[k]] = steady[k]
	}
	print "workload", "mechanism", "t90_s", "steady_ops_per_s", "steady_vs_allfast",
		"p99_us", "mech_cpu_s", "promoted_mib", "demoted_mib", "setting",
		"p50_us", "hot_end_pct", "threads_s", "kswapd_s", "wl_sys_s", "check",
		"warm_cpu_pct", "steady_cpu_pct", "steady_moves_mib_s", "abit_pass_s",
		"steady_backoff"
	for (r = 1; r <= nrun; r++) {
		k = runs[r]; w = wl[k]; m = me[k]
		bound = m == "allfast" || m == "allslow" || m == "none"
		# The cost record that starts the steady state (last third).
		for (mid = 1; mid < ncost[k] && ct[k, mid] < len[k] * 2 / 3; mid++) ;
		warm = bound || !ncost[k] ? "-" : win_cpu(k, 1, mid)
		stc = bound || !ncost[k] ? "-" : win_cpu(k, mid, ncost[k])
		moves = bound || !ncost[k] ? "-" : win_mib_s
		bo = bound || !ncost[k] ? "-" : mean_backoff(k, mid, ncost[k])
		pass = kv(rec[k], "abit_pass_s")
		if (bound)
			cpu = "-"
		else if (has_base[w]) {
			ek = ksw[k] - base_k[w] * len[k]
			es = sys[k] - base_s[w] * total[k]
			cpu = sprintf("%.2f", thr[k] + (ek > 0 ? ek : 0) + (es > 0 ? es : 0))
		} else
			cpu = sprintf("%.2f", thr[k] + ksw[k] + sys[k])
		t = (k in t90) ? t90[k] : "-"
		vs = fastops[w] > 0 ? sprintf("%.3f", steady[k] / fastops[w]) : "-"
		pr = bound ? "-" : kv(rec[k], "promoted_mib")
		de = bound ? "-" : kv(rec[k], "demoted_mib")
		print w, m, t, sprintf("%.0f", steady[k]), vs, p99[k], cpu, pr, de,
			se[k], p50[k], kv(rec[k], "hot_end"), thr[k], ksw[k], sys[k],
			kv(rec[k], "check"), warm, stc, moves, pass, bo
	}
}' hz="$(getconf CLK_TCK)" "$raw" > "$sweep"

# The best setting of each mechanism (highest steady throughput).
awk -F'\t' -v OFS='\t' 'NR == 1 { print; next }
{ k = $1 SUBSEP $2
  if (!(k in best) || $4 + 0 > best[k] + 0) { best[k] = $4; row[k] = $0 }
  if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
END { for (i = 1; i <= n; i++) print row[order[i]] }' "$sweep" > "$tsv"

# The time series, for plots and for anyone who wants the warm-up.
awk -F'\t' -v OFS='\t' 'BEGIN { print "workload", "mechanism", "setting", "kind", "t_s", "value" }
$1 == "ops" { print $2, $3, $4, "ops_per_s", $5, ($6 > 0 ? sprintf("%.1f", $7 / $6) : 0)
	if ($9 != "-") print $2, $3, $4, "p99_us", $5, $9 }
$1 == "hot" { print $2, $3, $4, "hot_pct", $5, $6 }
$1 == "cost" && $10 != "" && $10 != "-" { print $2, $3, $4, "backoff", $5, $10 }' "$raw" > "$series"

grep '^#' "$raw" | grep -v 'set up in' || true
# Anything else the guest printed is an error message: show it.
grep -Ev '^(hot|ops|cost|run|#)' "$raw" | sed 's/^/guest: /' || true
awk -F'\t' '{ printf "%-7s %-16s %6s %9s %7s %7s %8s %8s %8s %7s %7s  %s\n",
	$1, $2, $3, $4, $5, $6, $7, $8, $9, $18, $19, $10 }' "$tsv"
if awk -F'\t' '$2 == "hyperplace-pebs"' "$tsv" | grep -q .; then
	echo "hyperplace-pebs: PEBS records of QEMU's emulated PMU (x-tcg-pmu) under TCG, of the host's CPU under KVM with PEBS=1"
fi
tries=$(awk -F'\t' 'NR > 1 && ($2 == "tpp" || $2 == "damon")' "$sweep" | wc -l)
[ "$tries" -eq 0 ] || echo "peers: best of $tries runs, every setting in $sweep"

# Goals (issue 16), reported per workload.
awk -F'\t' '
NR == 1 { next }
{ k = $1 SUBSEP $2; ops[k] = $4; cpu[k] = $7; w[$1] = 1; m[$2] = 1 }
END {
	f = "gups" SUBSEP "allfast"; s = "gups" SUBSEP "allslow"
	if ((f in ops) && (s in ops) && ops[f] > 0)
		printf "goal gups allslow <= 0.5x allfast: %.2fx (%s)\n", ops[s] / ops[f],
			(ops[s] <= 0.5 * ops[f] ? "met" : "missed: is the slow node slower? make calibrate")
	for (x in w) for (h in m) {
		k = x SUBSEP h; f = x SUBSEP "allfast"
		if (h !~ /^hyperplace/ || !(k in ops)) continue
		if ((f in ops) && ops[f] > 0) {
			r = ops[k] / ops[f]
			printf "goal %s %s steady >= 0.9x allfast: %.2fx (%s)\n", x, h, r,
				(r >= 0.9 ? "met" : "missed")
		}
		for (o in m) {
			p = x SUBSEP o
			if ((o != "tpp" && o != "damon") || !(p in ops)) continue
			printf "goal %s %s ahead of %s: %s vs %s ops/s (%s); mechanism CPU %s vs %s s (%s)\n",
				x, h, o, ops[k], ops[p], (ops[k] + 0 > ops[p] + 0 ? "met" : "missed"),
				cpu[k], cpu[p], (cpu[k] + 0 < cpu[p] + 0 ? "met" : "missed")
		}
	}
}' "$tsv" | sort
# Goals (issue 19): what HyperPlace costs once the hot set is placed.
awk -F'\t' '
NR == 1 { next }
{ k = $1 SUBSEP $2; cpu[k] = $18; mov[k] = $19; w[$1] = 1; m[$2] = 1 }
END {
	for (x in w) for (h in m) {
		k = x SUBSEP h
		if (h !~ /^hyperplace/ || !(k in cpu) || cpu[k] == "-") continue
		printf "goal %s %s steady CPU < 2%% of a vCPU: %s%% (%s)\n", x, h,
			cpu[k], (cpu[k] + 0 < 2 ? "met" : "missed")
		printf "goal %s %s steady moves < 1 MiB/s: %s MiB/s (%s)\n", x, h,
			mov[k], (mov[k] + 0 < 1 ? "met" : "missed")
		for (o in m) {
			p = x SUBSEP o
			if ((o != "tpp" && o != "damon") || !(p in cpu)) continue
			printf "goal %s %s steady CPU below %s: %s%% vs %s%% (%s)\n",
				x, h, o, cpu[k], cpu[p], (cpu[k] + 0 < cpu[p] + 0 ? "met" : "missed")
		}
	}
}' "$tsv" | sort
hp_log "wrote $tsv, $sweep, $series"

if ! command -v gnuplot >/dev/null; then
	hp_log "gnuplot not installed: no plots"
	exit 0
fi
# One plot per workload: throughput (top) and hot data on the fast node
# (bottom) over time, one line per mechanism at its best setting; the
# bounds (allfast, allslow) dashed.
for w in $(awk -F'\t' 'NR > 1 { print $1 }' "$tsv" | uniq); do
	dat=$dir/vm-$w.dat png=$dir/vm-$w.png
	ops=() hot=() i=0
	while IFS=$'\t' read -r m s; do
		for kind in ops_per_s hot_pct; do
			awk -F'\t' -v w="$w" -v m="$m" -v s="$s" -v k=$kind \
				'$1 == w && $2 == m && $3 == s && $4 == k { print $5, $6 }' "$series"
			printf '\n\n'
		done
		dt=1
		case $m in all*) dt=2 ;; esac
		ops+=("\"$dat\" index $((2 * i)) using 1:2 with linespoints pointsize 0.4 lt $((i + 1)) dt $dt title \"$m\"")
		hot+=("\"$dat\" index $((2 * i + 1)) using 1:2 with linespoints pointsize 0.4 lt $((i + 1)) dt $dt title \"$m\"")
		i=$((i + 1))
	done < <(awk -F'\t' -v w="$w" 'NR > 1 && $1 == w { print $2 "\t" $10 }' "$tsv") > "$dat"
	gnuplot <<GP
set terminal pngcairo size 900,800
set output "$png"
set multiplot layout 2,1 title "$w in the two-tier TCG guest, each mechanism at its best setting"
set xlabel "seconds since the mechanism was switched on"
set grid
set key outside right
set ylabel "operations per second"
set yrange [0:*]
plot $(IFS=,; echo "${ops[*]}")
set ylabel "% of the hot data on the fast node"
set yrange [0:105]
plot $(IFS=,; echo "${hot[*]}")
unset multiplot
GP
	rm -f "$dat"
	hp_log "plot: $png"
done
