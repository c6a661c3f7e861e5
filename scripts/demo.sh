#!/usr/bin/env bash
# The main job: boot the two-tier guest and show, from inside, the fast and
# slow nodes, their memory tiers and the balloon, samples flowing into
# HyperPlace, and a GUPS hot set moving from the slow node to the fast one;
# from the host, the QEMU command that made them.  Then a second boot in
# which the host shrinks and grows both tiers live (HyperFlex).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=run
log=$HP_BUILD/vm-demo
mkdir -p "$log"

hp_log "kernel: Linux $(make -s -C "$HP_LINUX_SRC" kernelversion) (Debian $(cat "$HP_LINUX_SRC/.debian-version")); QEMU: $("$HP_QEMU_BIN" --version | head -1)"
"$HP_ROOT/scripts/vm.py" --print-cmd --mode cmd --cmd true --logdir "$log" |
	tr ' ' '\n' | grep -E '^(memory-backend|node,|hmat-lb|virtio-balloon|tcg|kvm)' |
	sed 's/^/  qemu: /'
"$HP_ROOT/scripts/vm.py" --mode cmd --logdir "$log" --timeout 900 --cmd '
echo "== guest $(uname -r): NUMA nodes"
for n in /sys/devices/system/node/node[0-9]*; do
	mem=$(awk "/MemTotal/ {print \$4 \" \" \$5}" $n/meminfo)
	cpus=$(cat $n/cpulist); echo "  ${n##*/}: memory $mem, cpus ${cpus:-none}"
done
echo "== memory tiers (a higher tier number is slower memory)"
for t in /sys/devices/virtual/memory_tiering/memory_tier*; do
	echo "  ${t##*/}: nodes $(cat $t/nodelist)"
done
echo "== demotion"
dmesg | grep -m1 "Demotion targets" | sed "s/^\[[^]]*\] /  /"
echo "  demotion_enabled: $(cat /sys/kernel/mm/numa/demotion_enabled)"
echo "== virtio devices"
for d in /sys/bus/virtio/devices/*; do
	echo "  ${d##*/}: device $(cat $d/device) driver $(basename $(readlink $d/driver))"
done
echo "== HyperPlace"
dmesg | grep -E "# hyperplace_[a-z_]*: pass:" | sed "s/^\[[^]]*\] *# /  KUnit at boot: /"
dmesg | grep -E "hyperplace: (sampling|PEBS source)" | sed "s/^\[[^]]*\] /  /"
hp=/sys/kernel/mm/hyperplace
src=$(cat $hp/active_source)
echo "  source: $(cat $hp/source) active: $src"
echo "== samples flowing ($src): memtouch holds 256 MiB and rewrites its first 32 MiB"
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
tr=/sys/kernel/tracing
echo 1 > $tr/events/hyperplace/hyperplace_batch/enable
echo 1 > $tr/events/hyperplace/hyperplace_abit_scan/enable
echo 1 > $tr/events/hyperplace/hyperplace_pebs_drain/enable
/hp/bin/memtouch 256 32 8 > /tmp/memtouch.out & mt=$!
sleep 7
grep -E -m3 "hyperplace_(abit_scan|pebs_drain)" $tr/trace | sed "s/^ */  trace: /"
grep "hyperplace_batch" $tr/trace | grep -m3 "pid=$mt" | sed "s/^ */  trace: /"
echo 0 > $tr/events/hyperplace/enable
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
echo "  ranges of memtouch (pid $mt), the 256 MiB mapping split by sample density:"
awk -v p="pid $mt " "index(\$0, p) == 1 {on = 1; print \"    \" \$0; next}
	/^pid / {on = 0} on && \$2 ~ /count/ {print \"    \" \$0}" \
	/sys/kernel/debug/hyperplace/ranges | awk "\$4 > 0 || NR == 1" | head -12
wait $mt
for c in received attributed outside exited dropped; do
	printf "  ${src}_%s: %s\n" $c $(cat $hp/stats/${src}_$c)
done
echo "== placement: a GUPS hot set moves from the slow node to the fast node"
/hp/placement-demo.sh 120
'
hp_log "HyperFlex: the host resizes both tiers of a running guest over QMP"
exec "$HP_ROOT/scripts/hyperflex-test.py" --demo --logdir "$HP_BUILD/vm-demo-hyperflex" --timeout 600
