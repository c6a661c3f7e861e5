# SPDX-License-Identifier: GPL-2.0
# Summarise bench-sim.tsv against the goals of issue 3 (awk -F'\t' -f goals.awk TSV).
NR == 1 { next }
{
	hit[$1, $2] = $4; orc[$1] = $5; mib[$1, $2] = $7; nps[$1, $2] = $8
	if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
	if ($2 != "oracle" && (minrate == "" || $13 + 0 < minrate + 0)) {
		minrate = $13; slow = $1 "/" $2
	}
	if ($2 != "oracle" && $2 != "hyperplace" && (!(($1) in best) || $4 > best[$1])) {
		best[$1] = $4; who[$1] = $2
	}
}
END {
	printf "goal: slowest replay %s M accesses/s (%s); parse rate in bench/hpsim.log\n",
		minrate, slow
	for (i = 1; i <= n; i++) {
		w = order[i]; h = hit[w, "hyperplace"]
		printf "goal: %-12s hyperplace %.4f, best other %s %.4f: %s; %.1f points below oracle; %s ns/sample\n",
			w, h, who[w], best[w], (h >= best[w] ? "highest" : "NOT highest"),
			100 * (orc[w] - h), nps[w, "hyperplace"]
	}
	if (("hotset", "hyperplace") in hit)
		printf "goal: hotset MiB moved: hyperplace %s, demeter %s: %s\n",
			mib["hotset", "hyperplace"], mib["hotset", "demeter"],
			(mib["hotset", "hyperplace"] + 0 < mib["hotset", "demeter"] + 0 ? "fewer" : "NOT fewer")
}
