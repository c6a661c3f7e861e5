#!/bin/sh
# In the guest: how much slower node 1 is than node 0.  GUPS (uniform
# random 8-byte read-modify-write updates, one thread) over an array bound
# to each node in turn; the array is far larger than QEMU's 1 MiB cache
# model, so nearly every update misses it.  The nodes alternate, ROUNDS
# times, and each node's best run counts, so that a burst of host load
# hurts neither side alone.
#   calibrate.sh [MIB [SECONDS [ROUNDS]]]   (default 256 MiB, 10 s, 2)
# Output (TSV): calibrate NODE MUPS (best), then ratio NODE0/NODE1.
set -u
mib=${1:-256} secs=${2:-10} rounds=${3:-2}
# Nothing may move the array while it is measured.
echo 0 > /sys/kernel/mm/hyperplace/enabled
echo 0 > /proc/sys/kernel/numa_balancing
: > /tmp/calibrate
r=0
while [ $r -lt "$rounds" ]; do
	for n in 0 1; do
		membind $n gups -s $mib -t 1 -d $secs -p uniform --no-verify \
			> /tmp/calibrate-run 2>&1 || { cat /tmp/calibrate-run >&2; exit 1; }
		awk -F'\t' -v n=$n '$1 == "gups" { print n, $7 }' /tmp/calibrate-run >> /tmp/calibrate
	done
	r=$((r + 1))
done
awk '$2 > best[$1] { best[$1] = $2 }
END {
	printf "calibrate\t0\t%s\ncalibrate\t1\t%s\n", best[0], best[1]
	printf "ratio\t%.2f\n", (best[1] > 0 ? best[0] / best[1] : 0)
}' /tmp/calibrate
