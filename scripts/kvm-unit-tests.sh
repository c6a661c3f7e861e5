#!/usr/bin/env bash
# kvm-unit-tests.sh KUT_DIR: upstream's PMU tests (x86/pmu, x86/pmu_pebs)
# under TCG on our QEMU with the emulated PMU (x-tcg-pmu).  KUT_DIR is a
# kvm-unit-tests checkout, which Debian does not package, so make check
# cannot run this: it is for developers who have one.  Builds the two
# tests there, runs each, prints its SUMMARY line; exit 0 if both pass.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=kvm-unit-tests
[ $# -eq 1 ] && [ -f "$1/x86/pmu.c" ] || hp_die "usage: kvm-unit-tests.sh KUT_DIR (a kvm-unit-tests checkout)"
kut=$(cd "$1" && pwd)
qemu=$HP_BUILD/obj/qemu/qemu-system-x86_64
[ -x "$qemu" ] || hp_die "no $qemu: run make qemu first"
logs=$HP_BUILD/kvm-unit-tests
mkdir -p "$logs"
(cd "$kut" && { [ -f config.mak ] || ./configure; } && make -s x86/pmu.flat x86/pmu_pebs.flat) > "$logs/build.log" 2>&1 ||
	hp_die "kvm-unit-tests did not build; see $logs/build.log"

rc=0
for t in pmu pmu_pebs; do
	# kvm-unit-tests' own device set (x86/run), with TCG and our CPU.
	set +e
	timeout 900 "$qemu" -L /usr/share/seabios -L /usr/share/qemu -nodefaults \
		-machine accel=tcg -cpu Icelake-Server-v4,pmu=on,x-tcg-pmu=on -m 256 \
		-device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4 \
		-device pci-testdev -display none -serial stdio \
		-kernel "$kut/x86/$t.flat" > "$logs/$t.log" 2>&1
	status=$?
	set -e
	# isa-debug-exit: status 1 is the test's exit code 0.
	summary=$(grep '^SUMMARY' "$logs/$t.log" || echo "no SUMMARY (exit $status)")
	echo "$t: $summary"
	grep '^FAIL' "$logs/$t.log" | sed 's/^/  /' || true
	[ "$status" -eq 1 ] || rc=1
done
exit $rc
