#!/usr/bin/env bash
# bench-sampling-host.sh TSV: finish `make bench-sampling` on the host.
# Runs the guest's calibration GUPS run here too, appends the host's rate
# and the guest/host slowdown to TSV, and prints TSV.  The slowdown turns
# the guest's (TCG) ns per record into a rough native estimate, reported
# as an estimate.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=bench-sampling
tsv=$1
make -s -C "$HP_ROOT/tools/hyperplace/gups" OUT="$HP_BUILD/gups" CC="ccache gcc"
set -- $("$HP_BUILD/gups/gups" -s 64 -t 1 -n 4000000 -p uniform --seed 7 | tail -1)
host=$7
guest=$(awk -F'\t' '$1 == "calib" && $2 == "gups_mups_guest" {print $3}' "$tsv")
[ -n "$guest" ] || hp_die "no calibration line in $tsv (did the guest run fail?)"
{
	printf 'calib\tgups_mups_host\t%s\n' "$host"
	awk -v h="$host" -v g="$guest" 'BEGIN {printf "calib\tslowdown\t%.1f\n", h / g}'
	awk -F'\t' -v h="$host" -v g="$guest" '$1 == "pebs_consumer" {
		sub("ns_per_record", "est_native_ns_per_record", $2)
		printf "pebs_consumer\t%s\t%.1f\n", $2, $3 * g / h }' "$tsv"
} >> "$tsv"
cat "$tsv"
