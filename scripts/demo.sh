#!/usr/bin/env bash
# The main job at this stage: boot the two-tier guest and show, from inside,
# the fast and slow nodes, their memory tiers and the balloon, and from the
# host, the QEMU command that made them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=run
log=$HP_BUILD/vm-demo
mkdir -p "$log"

hp_log "kernel: Linux $(make -s -C "$HP_LINUX_SRC" kernelversion) (Debian $(cat "$HP_LINUX_SRC/.debian-version")); QEMU: $("$HP_QEMU_BIN" --version | head -1)"
"$HP_ROOT/scripts/vm.py" --print-cmd --mode cmd --cmd true --logdir "$log" |
	tr ' ' '\n' | grep -E '^(memory-backend|node,|hmat-lb|virtio-balloon|tcg|kvm)' |
	sed 's/^/  qemu: /'
exec "$HP_ROOT/scripts/vm.py" --mode cmd --logdir "$log" --timeout 600 --cmd '
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
ls /sys/kernel/debug/hyperplace 2>/dev/null | sed "s/^/  debugfs: /"
dmesg | grep -E "# hyperplace_[a-z_]*: pass:" | sed "s/^\[[^]]*\] *# /  KUnit at boot: /"
'
