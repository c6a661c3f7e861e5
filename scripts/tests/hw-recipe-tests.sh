#!/usr/bin/env bash
# Tests of scripts/hw-recipe.sh (the recipe for a real Intel host with
# PEBS) against fake sysroots: HP_SYSROOT is put before every /proc, /sys
# and /dev path it reads, HP_KMSG_FILE gives it the kernel log.  TAP.
# shellcheck disable=SC2317 # the helpers are called through check and run
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scripts=$(dirname "$here")
hw=$scripts/hw-recipe.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# Both keep the output of the command in $tmp/out for the checks after them
# (a check that only reads $tmp/out leaves it as it was).
# has, lacks and count_is read $tmp/out and leave it too.
run() {
	"$@" >"$tmp/cur" 2>&1
	local rc=$?
	case $1 in has|lacks|count_is) ;; *) case " $* " in *" $tmp/out "*) ;; *) cp "$tmp/cur" "$tmp/out" ;; esac ;; esac
	return $rc
}
check() { local name=$1; shift; if run "$@"; then ok "$name"; else not_ok "$name"; sed 's/^/# /' "$tmp/cur"; fi; }
check_fails() { local name=$1; shift; if run "$@"; then not_ok "$name (succeeded)"; sed 's/^/# /' "$tmp/cur"; else ok "$name"; fi; }
# check_rc NAME RC CMD...: CMD exits with status RC.
check_rc() {
	local name=$1 want=$2 rc
	shift 2
	run "$@"
	rc=$?
	if [ "$rc" = "$want" ]; then ok "$name"; else not_ok "$name (exit $rc, not $want)"; sed 's/^/# /' "$tmp/cur"; fi
}
has() { grep -q -- "$1" "$tmp/out"; }
lacks() { ! grep -q -- "$1" "$tmp/out"; }
count_is() { # N PATTERN: N lines of $tmp/out match PATTERN
	local c
	c=$(grep -cE -- "$2" "$tmp/out")
	[ "$c" -eq "$1" ] || { echo "$c lines match '$2', not $1"; cat "$tmp/out"; return 1; }
}

echo "TAP version 13"

# --- fake sysroots ----------------------------------------------------------
# mk_cpu ROOT VENDOR MODEL FLAGS [PMU_NAME [PMU_DIR]]
mk_cpu() {
	local r=$1
	rm -rf "$r"
	mkdir -p "$r/proc/sys/kernel" "$r/sys/bus/event_source/devices" \
		"$r/sys/devices/system/node" "$r/sys/module" "$r/dev" "$r/var/log"
	printf 'processor\t: 0\nvendor_id\t: %s\ncpu family\t: 6\nmodel\t\t: %s\nmodel name\t: Fake %s CPU\nflags\t\t: fpu msr %s\n\n' \
		"$2" "$3" "$2" "$4" > "$r/proc/cpuinfo"
	echo 6.1.0-fake-amd64 > "$r/proc/sys/kernel/osrelease"
	if [ -n "${5:-}" ]; then
		mkdir -p "$r/sys/bus/event_source/devices/${6:-cpu}/caps"
		echo "$5" > "$r/sys/bus/event_source/devices/${6:-cpu}/caps/pmu_name"
	fi
	: > "$r/kmsg"
}
# mk_kmsg ROOT PEBS_PART: the kernel's boot line about the PMU
mk_kmsg() {
	printf '[    0.000000] Linux version 6.1.0-fake\n[    0.301234] Performance Events: %s AnyThread deprecated, Icelake events, 32-deep LBR, full-width counters, Intel PMU driver.\n' \
		"$2" > "$1/kmsg"
}
# mk_node ROOT N MEM_KB CPULIST [READ_LATENCY_NS]
mk_node() {
	local d=$1/sys/devices/system/node/node$2
	mkdir -p "$d"
	printf 'Node %s MemTotal:       %s kB\nNode %s MemFree:        %s kB\n' "$2" "$3" "$2" "$3" > "$d/meminfo"
	echo "$4" > "$d/cpulist"
	if [ -n "${5:-}" ]; then
		mkdir -p "$d/access0/initiators"
		echo "$5" > "$d/access0/initiators/read_latency"
	fi
}
# mk_kvm ROOT ADAPTIVE_PEBS (Y, N, or none: the parameter does not exist)
mk_kvm() {
	: > "$1/dev/kvm"
	mkdir -p "$1/sys/module/kvm/parameters" "$1/sys/module/kvm_intel/parameters"
	echo Y > "$1/sys/module/kvm/parameters/enable_pmu"
	[ "$2" = none ] || echo "$2" > "$1/sys/module/kvm_intel/parameters/adaptive_pebs"
}
# mk_msr ROOT HEXVALUE: /dev/cpu/0/msr with IA32_PERF_CAPABILITIES at 0x345
mk_msr() {
	local v=$2 i esc=''
	mkdir -p "$1/dev/cpu/0"
	for i in 0 1 2 3 4 5 6 7; do esc+=$(printf '\\x%02x' $(((v >> (8 * i)) & 255))); done
	{ head -c $((0x345)) /dev/zero; printf '%b' "$esc"; } > "$1/dev/cpu/0/msr"
}
# An Ice Lake server (Xeon, model 0x6a) ready for HyperPlace: fmt4+baseline,
# VMX, KVM with the patched parameter on, DRAM on node 0, CPU-less slow
# memory on node 1 with HMAT latencies.
mk_icx() {
	mk_cpu "$1" GenuineIntel 106 "ds_cpl vmx pebs pdcm arch_perfmon" icelake
	mk_kmsg "$1" "PEBS fmt4+-baseline, "
	mk_kvm "$1" "${2:-Y}"
	mk_node "$1" 0 16777216 0-3 80
	mk_node "$1" 1 33554432 "" 250
}
hw_in() { local r=$1; shift; env HP_SYSROOT="$r" HP_KMSG_FILE="$r/kmsg" "$hw" "$@"; }

# --- usage errors: exit 64 with a message naming the problem -----------------
mk_icx "$tmp/icx"
check_rc "usage: no subcommand exits 64" 64 "$hw"
check "usage: ... says the subcommand is missing" has 'no subcommand'
check_rc "usage: unknown subcommand exits 64" 64 "$hw" frobnicate
check "usage: ... names it" has "unknown subcommand 'frobnicate'"
check_rc "usage: help exits 0" 0 "$hw" help
check "usage: ... lists the subcommands" has 'host-kernel'
check_rc "usage: unknown option of check exits 64" 64 hw_in "$tmp/icx" check --bogus
check "usage: ... names it" has "unknown option '--bogus'"
check_rc "usage: unknown option of guest exits 64" 64 hw_in "$tmp/icx" guest --frob
check "usage: ... names it" has "unknown option '--frob'"
check_rc "usage: unknown option of host-kernel exits 64" 64 "$hw" host-kernel --fast
check "usage: ... names it" has "unknown option '--fast'"
check_rc "usage: --fast-node without a value exits 64" 64 hw_in "$tmp/icx" guest --fast-node
check "usage: ... says it needs a value" has '\--fast-node needs a value'
check_rc "usage: --slow-mem followed by an option exits 64" 64 hw_in "$tmp/icx" guest --slow-mem --dry-run
check "usage: ... says it needs a value" has '\--slow-mem needs a value'
check_rc "usage: --fast-node= (empty) exits 64" 64 hw_in "$tmp/icx" guest --fast-node= --dry-run
check_rc "usage: non-numeric node exits 64" 64 hw_in "$tmp/icx" guest --fast-node x1 --dry-run
check "usage: ... says it is not a node number" has "'x1' is not a node number"
check_rc "usage: node that does not exist exits 64" 64 hw_in "$tmp/icx" guest --slow-node 7 --dry-run
check "usage: ... names the node and the path" has "host node 7 does not exist.*node/node7"
mkdir -p "$tmp/icx/sys/devices/system/node/node2"
printf 'Node 2 MemTotal:       0 kB\n' > "$tmp/icx/sys/devices/system/node/node2/meminfo"
check_rc "usage: node without memory exits 64" 64 hw_in "$tmp/icx" guest --slow-node 2 --dry-run
check "usage: ... says it has no memory" has "host node 2 has no memory"
rm -rf "$tmp/icx/sys/devices/system/node/node2"
check_rc "usage: bad size 12X exits 64" 64 hw_in "$tmp/icx" guest --fast-mem 12X --dry-run
check "usage: ... names the option and the size" has "\--fast-mem: '12X' is not a size"
check_rc "usage: size without a unit exits 64 (QEMU would read bytes)" 64 hw_in "$tmp/icx" guest --slow-mem 1024 --dry-run
check_rc "usage: zero size exits 64" 64 hw_in "$tmp/icx" guest --slow-mem 0G --dry-run
check_rc "usage: fast == slow exits 64" 64 hw_in "$tmp/icx" guest --fast-node 1 --slow-node 1 --dry-run
check "usage: ... says both are node 1" has 'both 1'
check_rc "usage: more memory than the node has exits 64" 64 hw_in "$tmp/icx" guest --fast-mem 17G --dry-run
check "usage: ... names the node's size" has "more than host node 0 has (16.0 GiB)"
check_rc "usage: bench with a bad node exits 64" 64 hw_in "$tmp/icx" bench --fast-node abc
check_rc "usage: host-kernel --config of a missing file exits 64" 64 "$hw" host-kernel --config "$tmp/nonexistent"

# --- check: not supported (exit 2) ------------------------------------------
mk_cpu "$tmp/amd" AuthenticAMD 17 "svm" ""
mk_node "$tmp/amd" 0 16777216 0-3
check_rc "check: AMD CPU exits 2" 2 hw_in "$tmp/amd" check
check "check: ... verdict not supported" has '^verdict: not supported:'
check "check: ... because it is not Intel" has "not an Intel CPU (vendor_id 'AuthenticAMD'"
check "check: ... and says what it needs" has 'needs an Intel Ice Lake or newer host'

mk_cpu "$tmp/nopebs" GenuineIntel 106 "vmx pdcm" icelake
mk_kvm "$tmp/nopebs" Y
mk_node "$tmp/nopebs" 0 16777216 0-3
mk_node "$tmp/nopebs" 1 16777216 4-7
check_rc "check: Intel without the pebs flag exits 2" 2 hw_in "$tmp/nopebs" check
check "check: ... not supported: no PEBS, naming the flag" \
	has "^verdict: not supported: this CPU has no PEBS (no 'pebs' flag in /proc/cpuinfo)"
check "check: ... the PEBS line is a FAIL line" has "^FAIL: PEBS: no 'pebs' flag"

mk_cpu "$tmp/skl" GenuineIntel 85 "vmx pebs pdcm" skylake
mk_kmsg "$tmp/skl" "PEBS fmt3+, "
mk_kvm "$tmp/skl" Y
mk_node "$tmp/skl" 0 16777216 0-3
mk_node "$tmp/skl" 1 16777216 4-7
check_rc "check: PEBS fmt3 (Skylake, no baseline) exits 2" 2 hw_in "$tmp/skl" check
check "check: ... not supported: format 3 without baseline" \
	has "^verdict: not supported:.*PEBS is format 3 without the baseline bit"
check "check: ... names the kernel log line" has "kernel log.*'PEBS fmt3+'"
check "check: ... and the PMU generation" has "older than Ice Lake"

mk_cpu "$tmp/icl" GenuineIntel 126 "vmx pebs pdcm" icelake
mk_kmsg "$tmp/icl" "PEBS fmt4+-baseline, "
mk_kvm "$tmp/icl" Y
mk_node "$tmp/icl" 0 16777216 0-3
mk_node "$tmp/icl" 1 16777216 ""
check_rc "check: client Ice Lake (model 0x7e) exits 2" 2 hw_in "$tmp/icl" check
check "check: ... KVM passes no PEBS to guests there" has "client Ice Lake-generation CPU (model 0x7e)"

mk_cpu "$tmp/adl" GenuineIntel 151 "vmx pebs pdcm" alderlake_hybrid cpu_core
mk_kmsg "$tmp/adl" "PEBS fmt4+-baseline, "
mk_kvm "$tmp/adl" Y
mk_node "$tmp/adl" 0 16777216 0-3
mk_node "$tmp/adl" 1 16777216 ""
check_rc "check: hybrid CPU exits 2" 2 hw_in "$tmp/adl" check
check "check: ... KVM gives hybrid CPUs no vPMU" has "hybrid CPU (alderlake_hybrid)"

# --- check: ready (exit 0) ----------------------------------------------------
check_rc "check: Ice Lake server, fmt4+-baseline, adaptive_pebs=Y exits 0" 0 hw_in "$tmp/icx" check
check "check: ... verdict ready" has '^verdict: ready: '
check "check: ... no FAIL line" lacks '^FAIL'
check "check: ... no warning" lacks '^warn'
check "check: ... ok: Intel CPU" has '^ok: CPU: GenuineIntel, family 6 model 106 (0x6a)'
check "check: ... ok: PMU" has '^ok: PMU: '
check "check: ... ok: pebs flag" has "^ok: PEBS: 'pebs' flag"
check "check: ... ok: format 4 with baseline from the kernel log" has "^ok: PEBS format 4 with baseline.*'PEBS fmt4+-baseline'"
check "check: ... ok: Ice Lake server" has '^ok: PMU generation: icelake, model 0x6a'
check "check: ... ok: vmx" has "^ok: VMX"
check "check: ... ok: /dev/kvm" has '^ok: KVM: /dev/kvm present'
check "check: ... ok: adaptive_pebs=Y" has '^ok: HyperPlace KVM: kvm_intel.adaptive_pebs=Y'
check "check: ... ok: two memory nodes" has '^ok: memory nodes: node 0 (16.0 GiB, CPUs 0-3), node 1 (32.0 GiB, no CPUs)'
check "check: ... ok: node 1 is slower by HMAT" has '^ok: slow node: 1, fast node: 0 (by HMAT read latency: node 0 80 ns, node 1 250 ns)'
check "check: ... eleven checks, one line each" count_is 11 '^(ok|FAIL|warn): '

# The PEBS format from IA32_PERF_CAPABILITIES when the log has no PMU line.
mk_icx "$tmp/msr"
: > "$tmp/msr/kmsg"
mk_msr "$tmp/msr" 0x44c4   # format 4 (bits 11:8), baseline (bit 14)
check_rc "check: format read from MSR 0x345 when the log has no line" 0 hw_in "$tmp/msr" check
check "check: ... ok: format 4 with baseline from the MSR" has '^ok: PEBS format 4 with baseline.*MSR 0x345) = 0x00000000000044c4'
mk_msr "$tmp/msr" 0x33c3   # format 3, no baseline
check_rc "check: MSR says format 3: exits 2" 2 hw_in "$tmp/msr" check
check "check: ... not supported: format 3" has '^verdict: not supported:.*format 3 without the baseline bit'
rm -rf "$tmp/msr/dev/cpu"
check_rc "check: no log line and no MSR: exits 1" 1 hw_in "$tmp/msr" check
check "check: ... says how to read it" has '^verdict: not ready: cannot read the PEBS format.*modprobe msr'

# Sapphire Rapids: ready, but HyperPlace's own PEBS source does not run there.
mk_icx "$tmp/spr"
mk_cpu "$tmp/spr" GenuineIntel 143 "vmx pebs pdcm" sapphire_rapids
mk_kmsg "$tmp/spr" "PEBS fmt4+-baseline, "
mk_kvm "$tmp/spr" Y
mk_node "$tmp/spr" 0 16777216 0-3 80
mk_node "$tmp/spr" 1 33554432 "" 250
check_rc "check: Sapphire Rapids exits 0" 0 hw_in "$tmp/spr" check
check "check: ... with a warning about HyperPlace's source" has "^warn: HyperPlace's PEBS source does not run on Sapphire/Emerald Rapids"
check "check: ... verdict ready with 1 warning" has '^verdict: ready, with 1 warning'

# --- check: not ready (exit 1) -----------------------------------------------
mk_icx "$tmp/stock" none
check_rc "check: no adaptive_pebs parameter (stock host kernel) exits 1" 1 hw_in "$tmp/stock" check
check "check: ... FAIL line names the running kernel" has '^FAIL: HyperPlace KVM: the running kernel (6.1.0-fake-amd64) has no kvm_intel.adaptive_pebs'
check "check: ... verdict: boot the patched host kernel" has '^verdict: not ready: .*build, install and boot the patched host kernel (scripts/hw-recipe.sh host-kernel)'
mk_icx "$tmp/off" N
check_rc "check: adaptive_pebs=N exits 1" 1 hw_in "$tmp/off" check
check "check: ... verdict says how to turn it on" has "^verdict: not ready: .*options kvm_intel adaptive_pebs=1"
mk_icx "$tmp/nokvm"
rm -rf "$tmp/nokvm/dev/kvm" "$tmp/nokvm/sys/module/kvm_intel"
check_rc "check: kvm_intel not loaded exits 1" 1 hw_in "$tmp/nokvm" check
check "check: ... says to load it" has '^verdict: not ready: no /dev/kvm: load KVM (sudo modprobe kvm_intel)'
mk_icx "$tmp/one"
rm -rf "$tmp/one/sys/devices/system/node/node1"
check_rc "check: one memory node exits 1" 1 hw_in "$tmp/one" check
check "check: ... says the slow tier needs a second node" has '^verdict: not ready: only one NUMA node has memory'

# Which node is slower, without HMAT.
mk_icx "$tmp/tier"
rm -rf "$tmp/tier"/sys/devices/system/node/node*/access0
mk_node "$tmp/tier" 0 16777216 0-3
mk_node "$tmp/tier" 1 16777216 4-7
mkdir -p "$tmp/tier/sys/devices/virtual/memory_tiering/memory_tier4" \
	"$tmp/tier/sys/devices/virtual/memory_tiering/memory_tier22"
echo 1 > "$tmp/tier/sys/devices/virtual/memory_tiering/memory_tier4/nodelist"
echo 0 > "$tmp/tier/sys/devices/virtual/memory_tiering/memory_tier22/nodelist"
check_rc "check: slow node from the memory tiers" 0 hw_in "$tmp/tier" check
check "check: ... node 0 is in the lower tier" has '^ok: slow node: 0, fast node: 1 (by memory tier: node 1 in memory_tier4, node 0 in memory_tier22)'
rm -rf "$tmp/tier/sys/devices/virtual/memory_tiering"
check_rc "check: two sockets, nothing tells them apart: still ready" 0 hw_in "$tmp/tier" check
check "check: ... a warning says node 1 is a guess" has '^warn: slow node: a guess: .*node 0 is taken as fast and node 1'
mk_icx "$tmp/cxl"
rm -rf "$tmp/cxl"/sys/devices/system/node/node*/access0
check_rc "check: CPU-less node without HMAT" 0 hw_in "$tmp/cxl" check
check "check: ... is the slow node" has '^ok: slow node: 1, fast node: 0 (node 1 has no CPUs'

# --- check: this machine -----------------------------------------------------
if grep -qw pebs /proc/cpuinfo; then
	skip "check: this machine has no PMU: not supported" "this machine's /proc/cpuinfo has 'pebs'"
	skip "check: ... verdict says so" "this machine's /proc/cpuinfo has 'pebs'"
else
	check_rc "check: this machine has no PMU: not supported" 2 env -u HP_SYSROOT -u HP_KMSG_FILE "$hw" check
	check "check: ... verdict says so" has '^verdict: not supported: '
fi

# --- guest -------------------------------------------------------------------
check "guest: --dry-run on a two-node host" hw_in "$tmp/icx" guest --dry-run
check "guest: ... binds the tiers to the detected nodes" has 'HP_FAST_HOST_NODE=0 HP_SLOW_HOST_NODE=1 '
check "guest: ... runs QEMU on the fast node's CPUs" has 'taskset -c 0-3 '
check "guest: ... through scripts/vm.py --pebs with the default sizes" has 'scripts/vm.py --pebs --fast-mem 1G --slow-mem 2G$'
# shellcheck disable=SC2016 # expanded by that sh
check "guest: ... prints one command on stdout (how the nodes were picked goes to stderr)" \
	sh -c 'test "$(HP_SYSROOT=$1 "$0" guest --dry-run 2>/dev/null | wc -l)" -eq 1' "$hw" "$tmp/icx"
check "guest: explicit nodes and sizes, vm.py options after --" \
	hw_in "$tmp/icx" guest --fast-node=1 --slow-node 0 --fast-mem 4g --slow-mem=512M --dry-run -- --mode cmd --cmd 'echo hi'
check "guest: ... uses the given nodes" has 'HP_FAST_HOST_NODE=1 HP_SLOW_HOST_NODE=0 '
check "guest: ... no pinning to a CPU-less node" lacks 'taskset'
check "guest: ... sizes as QEMU takes them, extra options passed on" has "vm.py --pebs --fast-mem 4G --slow-mem 512M --mode cmd --cmd echo\\\\ hi$"
check "guest: only --fast-node given: the other detected node is slow" hw_in "$tmp/icx" guest --fast-node 1 --dry-run
check "guest: ... node 0" has 'HP_FAST_HOST_NODE=1 HP_SLOW_HOST_NODE=0 '
mk_icx "$tmp/rev"
mk_node "$tmp/rev" 0 16777216 0-3 300
mk_node "$tmp/rev" 1 16777216 4-7 90
check "guest: HMAT says node 0 is slower" hw_in "$tmp/rev" guest --dry-run
check "guest: ... so node 1 is fast" has 'HP_FAST_HOST_NODE=1 HP_SLOW_HOST_NODE=0 taskset -c 4-7 '
check_rc "guest: one memory node and no nodes given: exits 1" 1 hw_in "$tmp/one" guest --dry-run
check "guest: ... says there is no slow node" has 'fewer than two memory nodes (0)'

# --- host-kernel, verify, bench ------------------------------------------------
check "host-kernel: prints the steps" "$hw" host-kernel --config "$tmp/icx/proc/cpuinfo"
check "host-kernel: ... make linux-src" has 'linux-src$'
check "host-kernel: ... the host config copied into build/obj/linux-host" has "cp $tmp/icx/proc/cpuinfo .*/build/obj/linux-host/.config"
check "host-kernel: ... scripts/config enables KVM_INTEL" has 'scripts/config --file .*-m KVM_INTEL'
check "host-kernel: ... modules_install install" has 'O=.*/build/obj/linux-host modules_install install'
check "host-kernel: ... the modprobe option" has "options kvm_intel adaptive_pebs=1' | .*tee /etc/modprobe.d/hyperplace-kvm.conf"
check "host-kernel: ... the kernel command line alternative" has 'kvm_intel.adaptive_pebs=1'
check "verify: prints the in-guest steps" "$hw" verify
check "verify: ... the dmesg line to expect" has 'PEBS fmt4+-baseline'
check "verify: ... active_source and the PEBS counters" has 'active_source.*pebs'
check "verify: ... perf record with ldlat" has 'perf record -e cpu/mem-loads,ldlat=30/P -d'
check "verify: ... perf report --mem-mode" has 'perf report .*--mem-mode'
check "verify: ... says the outputs are not measured" has 'NOT been observed'
check "verify: --script prints a guest script" "$hw" verify --script
cp "$tmp/out" "$tmp/guest.sh"
check "verify: ... that sh can parse" sh -n "$tmp/guest.sh"
if [ -x /bin/busybox ]; then
	check "verify: ... and busybox sh too" /bin/busybox sh -n "$tmp/guest.sh"
else
	skip "verify: ... and busybox sh too" "no /bin/busybox"
fi
check "verify: ... reads the PEBS decoder counters" grep -q 'hpstat pebs_records' "$tmp/guest.sh"
check "bench: prints the benchmarks" hw_in "$tmp/icx" bench
check "bench: ... make bench-vm PEBS=1 bound to the nodes" has 'HP_FAST_HOST_NODE=0 HP_SLOW_HOST_NODE=1 taskset -c 0-3 make -C .* bench-vm PEBS=1'
check "bench: ... bench-sampling and bench-hyperflex" has 'bench-hyperflex PEBS=1'
check "bench: ... where the TSVs land" has 'build/bench/vm.tsv'

check "hw-recipe.sh, its tests and the guest script pass shellcheck (when installed)" \
	sh -c "! command -v shellcheck >/dev/null || { shellcheck -x -P SCRIPTDIR '$hw' '$0' && shellcheck -s sh '$tmp/guest.sh'; }"

echo "1..$n"
exit $((failed > 0))
