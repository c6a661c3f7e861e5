#!/usr/bin/env bash
# hw-recipe.sh SUBCOMMAND [OPTIONS]: HyperPlace with guest PEBS on a real
# Intel host (Ice Lake server or newer) with CXL.mem, PMEM or a second
# socket as the slow tier.  HARDWARE.md walks through it step by step.
#
#   check        can this host give a guest adaptive PEBS?  One line per
#                check ("ok: ...", "FAIL: ...", "warn: ..."), then a verdict
#   host-kernel  print (--run: do) the build and install of the patched
#                host kernel and the kvm_intel.adaptive_pebs=1 option
#   guest        boot the two-tier guest with PEBS (scripts/vm.py --pebs),
#                each tier bound to a host node
#   verify       what to run in the guest to see PEBS records with data
#                addresses (--script: the same as one guest script)
#   bench        print (--run: do) the benchmarks with KVM + PEBS
#
# Exit status: 0 done (check: ready), 1 failure (check: not ready, something
# to fix), 2 check: not supported (this hardware cannot do it), 64 usage.
#
# Test hooks: HP_SYSROOT is put before every /proc, /sys and /dev path
# read; HP_KMSG_FILE names a file holding the kernel log (else: dmesg,
# /var/log/kern.log, journalctl -k; with HP_SYSROOT set, only
# $HP_SYSROOT/var/log/kern.log).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=hw-recipe
SYS=${HP_SYSROOT:-}
NODES=$SYS/sys/devices/system/node
ME=scripts/hw-recipe.sh

usage() {
	cat <<EOF
usage: $ME SUBCOMMAND [OPTIONS]

  check                       check this host for guest PEBS (exit 0 ready,
                              1 not ready, 2 not supported)
  host-kernel [--run] [--config FILE]
                              print (--run: do) the patched host kernel's
                              build and install (FILE: the running kernel's
                              config, default /boot/config-\$(uname -r))
  guest [--fast-node N] [--slow-node N] [--fast-mem SIZE] [--slow-mem SIZE]
        [--dry-run] [-- VM.PY-OPTIONS...]
                              boot the two-tier guest with PEBS; nodes default
                              to the fastest and slowest host memory nodes,
                              sizes to 1G and 2G (SIZE: a number with M or G)
  verify [--script]           how to check, in the guest, that PEBS records
                              with data addresses arrive
  bench [--fast-node N] [--slow-node N] [--run]
                              print (--run: do) the benchmarks with KVM + PEBS
  help                        this text

See HARDWARE.md.
EOF
}

usage_error() {
	printf '[%s] usage error: %s\n' "$HP_STEP" "$*" >&2
	printf "[%s] run '%s help' for the subcommands and their options\n" "$HP_STEP" "$ME" >&2
	exit 64
}

# need_value OPT [VALUE...]: OPT must be followed by a value.
need_value() {
	if [ $# -lt 2 ] || [ -z "$2" ] || [[ $2 == -* ]]; then
		usage_error "$1 needs a value"
	fi
}

q() { printf '%q' "$1"; }

join() { # SEP WORD...: the words joined by SEP
	local sep=$1 out=${2:-}
	shift
	[ $# -eq 0 ] || shift
	while [ $# -gt 0 ]; do out+="$sep$1"; shift; done
	echo "$out"
}

# step COMMENT COMMAND: print the step, or with RUN=1 run it.
RUN=0
step() {
	if [ $RUN = 1 ]; then
		hp_log "$1"
		printf '+ %s\n' "$2"
		eval "$2" || hp_die "this step failed: $2"
	else
		printf '\n# %s\n%s\n' "$1" "$2"
	fi
}

# --- host nodes -----------------------------------------------------------

node_mem_kb() { # N: MemTotal of host node N in kB (0 if unknown)
	local v
	v=$(awk '/MemTotal:/ { print $4; exit }' "$NODES/node$1/meminfo" 2>/dev/null || true)
	echo "${v:-0}"
}

node_cpus() { # N: the node's CPU list, empty for a CPU-less node
	local c=
	[ -r "$NODES/node$1/cpulist" ] && c=$(tr -d ' \n' < "$NODES/node$1/cpulist")
	echo "$c"
}

gib() { awk -v k="$1" 'BEGIN { printf "%.1f GiB", k / 1048576 }'; }

mem_nodes() { # the host nodes that have memory, in order
	local d n
	for d in "$NODES"/node[0-9]*; do
		[ -d "$d" ] || continue
		n=${d##*/node}
		if [ "$(node_mem_kb "$n")" -gt 0 ]; then
			echo "$n"
		fi
	done | sort -n
}

expand_list() { # "0-2,5" -> 0 1 2 5
	local part out=() parts i
	IFS=, read -ra parts <<< "$1"
	for part in "${parts[@]}"; do
		if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then
			for ((i = BASH_REMATCH[1]; i <= BASH_REMATCH[2]; i++)); do out+=("$i"); done
		elif [[ $part =~ ^[0-9]+$ ]]; then
			out+=("$part")
		fi
	done
	echo "${out[*]}"
}

# extremes: read "NODE VALUE" lines (VALUE may be missing or not a
# number: skipped); print "LOW-NODE LOW HIGH-NODE HIGH", or nothing.
extremes() {
	awk '$2 ~ /^[0-9]+$/ {
		v = $2 + 0
		if (lo == "" || v < lo) { lo = v; lon = $1 }
		if (hi == "" || v > hi) { hi = v; hin = $1 }
	}
	END { if (lo != "") print lon, lo, hin, hi }'
}

# pick_nodes: set PICK_FAST, PICK_SLOW and PICK_HOW (how they were told
# apart) from the host's memory nodes; PICK_SURE=0 when it is a guess.
# Returns 1 with fewer than two memory nodes.
pick_nodes() {
	local nodes=() n lo='' hi='' lon='' hin='' t id
	local -A tier=()
	mapfile -t nodes < <(mem_nodes)
	PICK_FAST='' PICK_SLOW='' PICK_HOW='' PICK_SURE=1
	[ ${#nodes[@]} -ge 2 ] || return 1
	# 1. HMAT: the latency from the node's nearest initiator.
	read -r lon lo hin hi < <(for n in "${nodes[@]}"; do
		echo "$n $(cat "$NODES/node$n/access0/initiators/read_latency" 2>/dev/null || true)"
	done | extremes) || true
	if [ -n "$lo" ] && [ "$hi" -gt "$lo" ]; then
		PICK_FAST=$lon PICK_SLOW=$hin
		PICK_HOW="by HMAT read latency: node $lon $lo ns, node $hin $hi ns"
		return 0
	fi
	# 2. Memory tiers: a higher memory_tierN is slower memory.
	for t in "$SYS"/sys/devices/virtual/memory_tiering/memory_tier[0-9]*; do
		[ -r "$t/nodelist" ] || continue
		id=${t##*memory_tier}
		for n in $(expand_list "$(cat "$t/nodelist")"); do
			tier[$n]=$id
		done
	done
	lo='' hi=''
	read -r lon lo hin hi < <(for n in "${nodes[@]}"; do
		echo "$n ${tier[$n]:-}"
	done | extremes) || true
	if [ -n "$lo" ] && [ "$hi" -gt "$lo" ]; then
		PICK_FAST=$lon PICK_SLOW=$hin
		PICK_HOW="by memory tier: node $lon in memory_tier$lo, node $hin in memory_tier$hi"
		return 0
	fi
	# 3. CXL.mem and PMEM nodes have no CPUs.
	lon='' hin=''
	for n in "${nodes[@]}"; do
		if [ -n "$(node_cpus "$n")" ]; then
			[ -n "$lon" ] || lon=$n
		else
			[ -n "$hin" ] || hin=$n
		fi
	done
	if [ -n "$lon" ] && [ -n "$hin" ]; then
		PICK_FAST=$lon PICK_SLOW=$hin
		PICK_HOW="node $hin has no CPUs (CXL.mem or PMEM), node $lon has"
		return 0
	fi
	# 4. A guess: two sockets, the guest runs on the first one.
	PICK_FAST=${nodes[0]} PICK_SLOW=${nodes[1]} PICK_SURE=0
	PICK_HOW="a guess: no HMAT latencies, one memory tier and no CPU-less node, so node ${nodes[0]} is taken as fast and node ${nodes[1]} (a remote socket?) as slow; pass --fast-node/--slow-node if that is wrong"
	return 0
}

# check_node OPT N: N names a host node with memory (a usage error if not);
# sets NODE to its number.
check_node() {
	[[ $2 =~ ^[0-9]{1,5}$ ]] || usage_error "$1: '$2' is not a node number"
	NODE=$((10#$2))
	[ -d "$NODES/node$NODE" ] ||
		usage_error "$1: host node $NODE does not exist (no $NODES/node$NODE; nodes: $(mem_nodes | paste -sd ' ' -))"
	[ "$(node_mem_kb "$NODE")" -gt 0 ] || usage_error "$1: host node $NODE has no memory"
}

# check_size OPT SIZE: sets MIB and SIZE_NORM (the size as QEMU gets it).
check_size() {
	[[ $2 =~ ^([0-9]{1,7})([MmGg])$ ]] ||
		usage_error "$1: '$2' is not a size (a whole number with M or G, e.g. 512M or 4G)"
	MIB=$((10#${BASH_REMATCH[1]}))
	[ "$MIB" -gt 0 ] || usage_error "$1: '$2' is zero"
	case ${BASH_REMATCH[2]} in [Gg]) MIB=$((MIB * 1024)) ;; esac
	SIZE_NORM=$((10#${BASH_REMATCH[1]}))${BASH_REMATCH[2]^^}
}

# resolve_nodes FAST SLOW: fill in the nodes not given (FAST_NODE and
# SLOW_NODE are set on return).
resolve_nodes() {
	FAST_NODE=$1 SLOW_NODE=$2
	if [ -z "$FAST_NODE" ] || [ -z "$SLOW_NODE" ]; then
		pick_nodes || hp_die "this host has fewer than two memory nodes ($(mem_nodes | paste -sd ' ' -)): there is no slow node to bind the slow tier to (run '$ME check')"
		if [ -z "$FAST_NODE" ]; then
			FAST_NODE=$PICK_FAST
			[ "$FAST_NODE" != "$SLOW_NODE" ] || FAST_NODE=$PICK_SLOW
		fi
		if [ -z "$SLOW_NODE" ]; then
			SLOW_NODE=$PICK_SLOW
			[ "$SLOW_NODE" != "$FAST_NODE" ] || SLOW_NODE=$PICK_FAST
		fi
		hp_log "host nodes: fast $FAST_NODE, slow $SLOW_NODE ($PICK_HOW)" >&2
	fi
	[ "$FAST_NODE" != "$SLOW_NODE" ] ||
		usage_error "--fast-node and --slow-node are both $FAST_NODE: the two tiers need two different host nodes"
}

# --- check ------------------------------------------------------------------

cpu_field() { # NAME: the first value of NAME in /proc/cpuinfo
	awk -v k="$1" '{ key = $0; sub(/[ \t]*:.*$/, "", key) }
		key == k { v = $0; sub(/^[^:]*:[ \t]*/, "", v); print v; exit }' "$SYS/proc/cpuinfo"
}

# The kernel's "Performance Events:" boot line, and where it came from.
kmsg_pe_line() {
	local src out
	if [ -n "${HP_KMSG_FILE:-}" ]; then
		out=$(grep 'Performance Events:' "$HP_KMSG_FILE" 2>/dev/null | tail -1 || true)
		[ -z "$out" ] || echo "$HP_KMSG_FILE|$out"
		return 0
	fi
	if [ -n "$SYS" ]; then
		out=$(grep 'Performance Events:' "$SYS/var/log/kern.log" 2>/dev/null | tail -1 || true)
		[ -z "$out" ] || echo "$SYS/var/log/kern.log|$out"
		return 0
	fi
	for src in dmesg kern.log journalctl; do
		case $src in
		dmesg) out=$(dmesg 2>/dev/null | grep 'Performance Events:' | tail -1 || true) ;;
		kern.log) out=$(grep 'Performance Events:' /var/log/kern.log 2>/dev/null | tail -1 || true) ;;
		journalctl) out=$(journalctl -k -b 0 --no-pager 2>/dev/null | grep 'Performance Events:' | tail -1 || true) ;;
		esac
		if [ -n "$out" ]; then
			echo "$src|$out"
			return 0
		fi
	done
}

cmd_check() {
	[ $# -eq 0 ] || case $1 in
		-*) usage_error "check: unknown option '$1'" ;;
		*) usage_error "check: unexpected argument '$1'" ;;
	esac
	[ -r "$SYS/proc/cpuinfo" ] || hp_die "cannot read $SYS/proc/cpuinfo"
	local unsupported=() notready=() warnings=0
	ok() { printf 'ok: %s\n' "$1"; }
	warn() { printf 'warn: %s\n' "$1"; warnings=$((warnings + 1)); }
	no() { printf 'FAIL: %s\n' "$1"; [ -z "${2:-}" ] || unsupported+=("$2"); }
	todo() { printf 'FAIL: %s\n' "$1"; notready+=("$2"); }

	local vendor family model mhex name flags intel=0
	vendor=$(cpu_field vendor_id)
	family=$(cpu_field 'cpu family')
	model=$(cpu_field model)
	name=$(cpu_field 'model name')
	flags=" $(cpu_field flags) "
	[[ $model =~ ^[0-9]+$ ]] || model=0
	mhex=$(printf '0x%x' "$model")
	if [ "$vendor" = GenuineIntel ]; then
		intel=1
		ok "CPU: GenuineIntel, family ${family:-?} model $model ($mhex): ${name:-unknown}"
	else
		no "CPU: vendor '${vendor:-unknown}' is not Intel (${name:-unknown})" \
			"this CPU is not an Intel CPU (vendor_id '${vendor:-unknown}' in /proc/cpuinfo)"
	fi

	# PMU.
	local pmu=
	for p in cpu cpu_core; do
		if [ -d "$SYS/sys/bus/event_source/devices/$p" ]; then
			pmu=$SYS/sys/bus/event_source/devices/$p
			break
		fi
	done
	if [ -n "$pmu" ]; then
		ok "PMU: perf drives the CPU's PMU (${pmu#"$SYS"})"
	else
		no "PMU: none (no $SYS/sys/bus/event_source/devices/cpu or cpu_core)" \
			"perf found no CPU PMU (no /sys/bus/event_source/devices/cpu or cpu_core; in a VM the hypervisor gives it none)"
	fi

	# PEBS.
	local pebs=0
	if [[ $flags == *" pebs "* ]]; then
		pebs=1
		ok "PEBS: 'pebs' flag in /proc/cpuinfo"
	else
		no "PEBS: no 'pebs' flag in /proc/cpuinfo" \
			"this CPU has no PEBS (no 'pebs' flag in /proc/cpuinfo)"
	fi

	# PEBS format and baseline: the kernel's boot line, else the MSR.
	local pe src='' fmt='' base='' how='' msr=$SYS/dev/cpu/0/msr v
	pe=$(kmsg_pe_line)
	if [ -n "$pe" ]; then
		src=${pe%%|*} pe=${pe#*|}
		pe=${pe#*Performance Events: }
		if [[ $pe =~ (no )?PEBS\ fmt([0-9]+)([+-])(-baseline)? ]]; then
			if [ -n "${BASH_REMATCH[1]}" ]; then
				fmt=unknown:${BASH_REMATCH[2]}
			else
				fmt=${BASH_REMATCH[2]}
				base=0
				[ -z "${BASH_REMATCH[4]}" ] || base=1
			fi
			how="kernel log ($src): '${BASH_REMATCH[0]}'"
		fi
	fi
	if [ -z "$fmt" ] && [ -r "$msr" ]; then
		v=$(dd if="$msr" bs=8 count=1 skip=$((0x345)) iflag=skip_bytes status=none 2>/dev/null |
			od -An -t x8 --endian=little | tr -d ' \n' || true)
		if [[ $v =~ ^[0-9a-f]{16}$ ]]; then
			fmt=$(((16#$v >> 8) & 15))
			base=$(((16#$v >> 14) & 1))
			how="IA32_PERF_CAPABILITIES (MSR 0x345) = 0x$v: bits 11:8 = $fmt, bit 14 = $base"
		fi
	fi
	if [[ $fmt == unknown:* ]]; then
		todo "PEBS format: ${fmt#unknown:}, which this kernel does not know ($how)" \
			"the running kernel does not know this CPU's PEBS format ${fmt#unknown:}: the patched 6.12 host kernel may be too old for this CPU"
	elif [ -n "$fmt" ] && [ "$fmt" -ge 4 ] && [ "$base" = 1 ]; then
		ok "PEBS format $fmt with baseline: adaptive PEBS ($how)"
	elif [ -n "$fmt" ]; then
		local what="format $fmt without the baseline bit"
		no "PEBS $what, not adaptive PEBS ($how)" \
			"its PEBS is $what, not adaptive PEBS (format 4 or later with baseline)"
	elif [ $pebs = 0 ]; then
		# shellcheck disable=SC2016 # the quotes are part of the message
		no "PEBS format: none${pe:+ (kernel log: '$pe')}"
	else
		todo "PEBS format: unknown: no 'PEBS fmt' in the kernel log and $msr not readable" \
			"cannot read the PEBS format: run the check as root (dmesg may need it), or 'sudo modprobe msr' so that MSR 0x345 can be read"
	fi

	# PMU generation: perf's pmu_name, and the model for Ice Lake.
	if [ $intel = 1 ]; then
		local pname=
		[ -z "$pmu" ] || pname=$(cat "$pmu/caps/pmu_name" 2>/dev/null || true)
		case $pname in
		'') warn "PMU generation: no caps/pmu_name under ${pmu:-/sys/bus/event_source/devices/cpu}: relying on the PEBS format" ;;
		icelake)
			if [ "$model" = 106 ] || [ "$model" = 108 ]; then
				ok "PMU generation: icelake, model $mhex: Ice Lake server (KVM passes PEBS to guests)"
			else
				no "PMU generation: icelake, model $mhex: a client part (Ice Lake, Tiger Lake, Rocket Lake)" \
					"this is a client Ice Lake-generation CPU (model $mhex), on which KVM does not pass PEBS to guests (no PEBS-via-EPT; Ice Lake server, models 0x6a and 0x6c, and later Xeons have it)"
			fi ;;
		sapphire_rapids)
			ok "PMU generation: sapphire_rapids (Sapphire or Emerald Rapids): KVM passes PEBS to guests"
			warn "HyperPlace's PEBS source does not run on Sapphire/Emerald Rapids yet (its load-latency event needs an auxiliary event): the guest gets adaptive PEBS (perf works) but HyperPlace samples Accessed bits" ;;
		granite_rapids)
			ok "PMU generation: granite_rapids: KVM passes PEBS to guests" ;;
		*_hybrid)
			no "PMU generation: $pname: a hybrid CPU" \
				"this is a hybrid CPU ($pname), for which KVM offers guests no PMU at all" ;;
		core|core2|nehalem|westmere|sandybridge|ivybridge|haswell|broadwell|skylake|knights-landing|bonnell|silvermont|goldmont|goldmont_plus)
			no "PMU generation: $pname: older than Ice Lake" \
				"its PMU ($pname) is older than Ice Lake" ;;
		Tremont|tremont|gracemont|crestmont|darkmont)
			ok "PMU generation: $pname (Atom cores)"
			warn "HyperPlace's PEBS source does not run on Atom cores ($pname): the guest gets adaptive PEBS but HyperPlace samples Accessed bits" ;;
		*) warn "PMU generation: '$pname' is not known to this script: relying on the PEBS format" ;;
		esac
	fi

	# KVM.
	if [[ $flags == *" vmx "* ]]; then
		ok "VMX: 'vmx' flag in /proc/cpuinfo"
	else
		todo "VMX: no 'vmx' flag in /proc/cpuinfo" \
			"no VT-x ('vmx' flag): turn it on in the firmware setup (in a VM: nested VT-x)"
	fi
	if [ -e "$SYS/dev/kvm" ]; then
		ok "KVM: /dev/kvm present"
	else
		todo "KVM: no /dev/kvm" "no /dev/kvm: load KVM (sudo modprobe kvm_intel)"
	fi
	local kp=$SYS/sys/module/kvm/parameters/enable_pmu
	if [ -r "$kp" ]; then
		if [ "$(cat "$kp")" = Y ] || [ "$(cat "$kp")" = 1 ]; then
			ok "KVM: kvm.enable_pmu=$(cat "$kp")"
		else
			todo "KVM: kvm.enable_pmu=$(cat "$kp"): guests get no PMU" \
				"kvm.enable_pmu is off: remove enable_pmu=0 from the kvm module options or kernel command line"
		fi
	else
		warn "KVM: cannot read kvm.enable_pmu (kvm module not loaded?)"
	fi
	local osrel ap=$SYS/sys/module/kvm_intel/parameters/adaptive_pebs
	osrel=$(cat "$SYS/proc/sys/kernel/osrelease" 2>/dev/null || echo unknown)
	if [ ! -d "$SYS/sys/module/kvm_intel" ]; then
		todo "HyperPlace KVM: kvm_intel is not loaded, so kvm_intel.adaptive_pebs cannot be read" \
			"kvm_intel is not loaded: sudo modprobe kvm_intel, then run this check again"
	elif [ -r "$ap" ]; then
		local val
		val=$(cat "$ap")
		if [ "$val" = Y ] || [ "$val" = 1 ]; then
			ok "HyperPlace KVM: kvm_intel.adaptive_pebs=$val (kernel $osrel): guests are offered adaptive PEBS, memory-info and GP groups only"
		else
			todo "HyperPlace KVM: kvm_intel.adaptive_pebs=$val (kernel $osrel): off" \
				"kvm_intel.adaptive_pebs is off: put 'options kvm_intel adaptive_pebs=1' in /etc/modprobe.d/hyperplace-kvm.conf and reload kvm_intel with no VM running (sudo modprobe -r kvm_intel && sudo modprobe kvm_intel)"
		fi
	else
		todo "HyperPlace KVM: the running kernel ($osrel) has no kvm_intel.adaptive_pebs parameter" \
			"the running kernel ($osrel) has no kvm_intel.adaptive_pebs: build, install and boot the patched host kernel ($ME host-kernel)"
	fi

	# Memory nodes.
	local nodes=() desc=() n c
	mapfile -t nodes < <(mem_nodes)
	for n in "${nodes[@]}"; do
		c=$(node_cpus "$n")
		desc+=("node $n ($(gib "$(node_mem_kb "$n")"), ${c:+CPUs }${c:-no CPUs})")
	done
	if [ ${#nodes[@]} -ge 2 ]; then
		ok "memory nodes: $(join ', ' "${desc[@]}")"
		pick_nodes
		if [ "$PICK_SURE" = 1 ]; then
			ok "slow node: $PICK_SLOW, fast node: $PICK_FAST ($PICK_HOW)"
		else
			warn "slow node: $PICK_HOW"
		fi
	else
		todo "memory nodes: $(join ', ' "${desc[@]:-none}"): only one" \
			"only one NUMA node has memory: the slow tier needs a second one (CXL.mem or PMEM onlined as system RAM, e.g. 'daxctl reconfigure-device --mode=system-ram', or a second socket)"
	fi

	if [ ${#unsupported[@]} -gt 0 ]; then
		echo "verdict: not supported: $(join '; ' "${unsupported[@]}"); HyperPlace's PEBS path needs an Intel Ice Lake or newer host (a Xeon; see HARDWARE.md)"
		return 2
	fi
	if [ ${#notready[@]} -gt 0 ]; then
		echo "verdict: not ready: $(join '; ' "${notready[@]}")"
		return 1
	fi
	if [ $warnings -gt 0 ]; then
		echo "verdict: ready, with $warnings warning(s) above: this host gives guests adaptive PEBS (next: $ME guest)"
	else
		echo "verdict: ready: this host gives guests adaptive PEBS (next: $ME guest)"
	fi
	return 0
}

# --- host-kernel ------------------------------------------------------------

cmd_host_kernel() {
	local config=
	while [ $# -gt 0 ]; do
		case $1 in
		--*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
		--run) RUN=1; shift ;;
		--config) need_value "$@"; config=$2; shift 2 ;;
		-*) usage_error "host-kernel: unknown option '$1'" ;;
		*) usage_error "host-kernel: unexpected argument '$1'" ;;
		esac
	done
	if [ -n "$config" ]; then
		[ -f "$config" ] || usage_error "--config: no such file '$config'"
	else
		config=/boot/config-$(uname -r)
	fi
	local src=$HP_LINUX_SRC obj=$HP_BUILD/obj/linux-host sudo=
	[ "$(id -u)" = 0 ] || sudo="sudo "
	local kmake
	kmake="make -C $(q "$src") O=$(q "$obj")"

	if [ $RUN = 1 ]; then
		[ -f "$config" ] || hp_die "$config does not exist: pass --config FILE (e.g. zcat /proc/config.gz > host.config)"
	else
		echo "# The patched host kernel: Debian's linux-source-6.12 + patches/linux (0009 is"
		echo "# the KVM change) in $src, built with this host's configuration in"
		echo "# $obj.  '$ME host-kernel --run' runs these steps."
		[ -f "$config" ] || echo "# NOTE: $config does not exist here: pass --config FILE."
	fi
	step "1. the kernel source with HyperPlace's series (installs build dependencies)" \
		"make -C $(q "$HP_ROOT") linux-src"
	step "2. start from the running kernel's configuration" \
		"mkdir -p $(q "$obj") && cp $(q "$config") $(q "$obj/.config")"
	step "3. KVM for Intel as modules, perf with the Intel PMU; no HyperPlace placement on the host itself (it would move QEMU's guest memory); without Debian's trusted-key files (not in this tree) and without debug info and BTF (BTF needs pahole)" \
		"$(q "$src/scripts/config") --file $(q "$obj/.config") -m KVM -m KVM_INTEL -e PERF_EVENTS -e CPU_SUP_INTEL -d HYPERPLACE -d KVM_PEBS_KUNIT_TEST --set-str LOCALVERSION -hyperplace --set-str SYSTEM_TRUSTED_KEYS '' --set-str SYSTEM_REVOCATION_KEYS '' -d DEBUG_INFO_BTF -d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -d DEBUG_INFO_DWARF4 -d DEBUG_INFO_DWARF5 -e DEBUG_INFO_NONE"
	step "4. resolve the rest of the configuration; KVM_INTEL must be m or y" \
		"$kmake olddefconfig && grep -E '(^|# )CONFIG_(KVM|KVM_INTEL|PERF_EVENTS|CPU_SUP_INTEL|HYPERPLACE)[= ]' $(q "$obj/.config"); grep -qE '^CONFIG_KVM_INTEL=[ym]\$' $(q "$obj/.config")"
	step "5. build (a distribution configuration builds far more than the guest kernel; not timed here)" \
		"$kmake -j$HP_JOBS"
	step "6. install the modules and the kernel (Debian: installkernel makes the initramfs and updates GRUB)" \
		"${sudo}$kmake modules_install install"
	step "7. turn the parameter on when kvm_intel loads (it is read-only afterwards)" \
		"echo 'options kvm_intel adaptive_pebs=1' | ${sudo}tee /etc/modprobe.d/hyperplace-kvm.conf && ${sudo}update-initramfs -u -k \"\$($kmake -s kernelrelease)\""
	if [ $RUN = 1 ]; then
		hp_log "installed $($kmake -s kernelrelease): reboot into it, then run '$ME check'"
		return 0
	fi
	cat <<EOF

# Instead of step 7, for a kernel with KVM built in: add kvm_intel.adaptive_pebs=1
# to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, then 'sudo update-grub'.
# With Secure Boot on, sign the kernel and modules with your MOK or turn it off.

# 8. reboot into it (GRUB boots the newest kernel by default; else pick the
#    "...-hyperplace" entry under "Advanced options")
${sudo}reboot

# 9. after the reboot
uname -r                                            # 6.12.<N>-hyperplace
cat /sys/module/kvm_intel/parameters/adaptive_pebs  # Y
$ME check                             # verdict: ready
EOF
}

# --- guest ------------------------------------------------------------------

cmd_guest() {
	local fast='' slow='' fast_mem=1G slow_mem=2G dry=0 extra=()
	while [ $# -gt 0 ]; do
		case $1 in
		--*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
		--fast-node) need_value "$@"; fast=$2; shift 2 ;;
		--slow-node) need_value "$@"; slow=$2; shift 2 ;;
		--fast-mem) need_value "$@"; fast_mem=$2; shift 2 ;;
		--slow-mem) need_value "$@"; slow_mem=$2; shift 2 ;;
		--dry-run) dry=1; shift ;;
		--) shift; extra=("$@"); break ;;
		-*) usage_error "guest: unknown option '$1'" ;;
		*) usage_error "guest: unexpected argument '$1' (vm.py options go after --)" ;;
		esac
	done
	local fast_mib slow_mib
	check_size --fast-mem "$fast_mem"; fast_mib=$MIB fast_mem=$SIZE_NORM
	check_size --slow-mem "$slow_mem"; slow_mib=$MIB slow_mem=$SIZE_NORM
	[ -z "$fast" ] || { check_node --fast-node "$fast"; fast=$NODE; }
	[ -z "$slow" ] || { check_node --slow-node "$slow"; slow=$NODE; }
	resolve_nodes "$fast" "$slow"
	fast=$FAST_NODE slow=$SLOW_NODE
	local kb
	kb=$(node_mem_kb "$fast")
	[ $((fast_mib * 1024)) -le "$kb" ] ||
		usage_error "--fast-mem $fast_mem is more than host node $fast has ($(gib "$kb"))"
	kb=$(node_mem_kb "$slow")
	[ $((slow_mib * 1024)) -le "$kb" ] ||
		usage_error "--slow-mem $slow_mem is more than host node $slow has ($(gib "$kb"))"

	# The vCPUs run on the fast node's CPUs, so that it is the near memory.
	local cmd=(env "HP_FAST_HOST_NODE=$fast" "HP_SLOW_HOST_NODE=$slow") cpus
	cpus=$(node_cpus "$fast")
	[ -z "$cpus" ] || cmd+=(taskset -c "$cpus")
	cmd+=("$HP_ROOT/scripts/vm.py" --pebs --fast-mem "$fast_mem" --slow-mem "$slow_mem" "${extra[@]}")
	if [ $dry = 1 ]; then
		local w out=
		for w in "${cmd[@]}"; do out+="${out:+ }$(q "$w")"; done
		echo "$out"
		return 0
	fi
	hp_log "guest: fast tier $fast_mem on host node $fast, slow tier $slow_mem on host node $slow${cpus:+, vCPUs on CPUs $cpus}"
	exec "${cmd[@]}"
}

# --- verify -----------------------------------------------------------------

# The checks, as one script for the guest's busybox sh.
guest_script() {
	cat <<'EOF'
# HyperPlace: does this guest get PEBS records with data addresses?
PATH=$PATH:/hp/bin
hp=/sys/kernel/mm/hyperplace
tr=/sys/kernel/tracing
ev=$tr/events/hyperplace/hyperplace_sample
fail=0
pass() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
dmesg | grep -i -e 'Performance Events' -e pebs -e 'hyperplace: '
if dmesg | grep -q 'PEBS fmt[4-9][+-]-baseline'; then
	pass "the guest kernel found adaptive PEBS (PEBS fmt4 with -baseline)"
else
	bad "no 'PEBS fmt4+-baseline' in dmesg: the host offers no adaptive PEBS (kvm_intel.adaptive_pebs=1? scripts/vm.py --pebs?)"
fi
src=$(cat $hp/active_source)
if [ "$src" = pebs ]; then
	pass "active_source: pebs"
else
	bad "active_source: $src, not pebs (the 'hyperplace:' lines above say why)"
fi
hpstat() { cat "$hp/stats/$1"; }
r0=$(hpstat pebs_records) s0=$(hpstat pebs_received) a0=$(hpstat pebs_attributed)
gups -s 512 -t 1 -d 10 -p uniform > /tmp/gups.out 2>&1
r1=$(hpstat pebs_records) s1=$(hpstat pebs_received) a1=$(hpstat pebs_attributed)
echo "pebs_records $r0 -> $r1, pebs_received $s0 -> $s1, pebs_attributed $a0 -> $a1," \
	"pebs_zero_addr $(hpstat pebs_zero_addr), pebs_kernel_addr $(hpstat pebs_kernel_addr)," \
	"pebs_bad_format $(hpstat pebs_bad_format), pebs_dropped $(hpstat pebs_dropped)"
if [ "$r1" -gt "$r0" ]; then pass "PEBS records arrive ($((r1 - r0)) in 10 s of GUPS)"; else bad "no PEBS record in 10 s of GUPS"; fi
if [ "$a1" -gt "$a0" ]; then pass "records with user-space data addresses were filed into GUPS's ranges ($((a1 - a0)))"; else bad "no PEBS sample was filed into a range"; fi
if [ "$(hpstat pebs_bad_format)" = 0 ]; then pass "pebs_bad_format: 0"; else bad "pebs_bad_format: $(hpstat pebs_bad_format) (see dmesg)"; fi
echo > $tr/trace
echo 'source == 0' > $ev/filter
echo 1 > $ev/enable
gups -s 256 -t 1 -d 3 -p uniform > /dev/null 2>&1
echo 0 > $ev/enable
echo 0 > $ev/filter
grep -m 5 'source=pebs' $tr/trace
n=$(grep -c 'source=pebs' $tr/trace)
if [ "${n:-0}" -gt 0 ]; then pass "$n PEBS samples traced, each with its data address"; else bad "no hyperplace_sample event with source=pebs"; fi
if command -v perf > /dev/null 2>&1; then
	# One load-latency threshold MSR per CPU: perf's ldlat must match HyperPlace's.
	old=$(cat $hp/pebs_ldlat)
	echo 30 > $hp/pebs_ldlat
	perf record -e cpu/mem-loads,ldlat=30/P -d -o /tmp/perf.data -- gups -s 256 -t 1 -d 5 > /dev/null 2> /tmp/perf.err
	echo "$old" > $hp/pebs_ldlat
	perf report -i /tmp/perf.data --mem-mode --stdio 2> /dev/null | head -25
	perf script -i /tmp/perf.data -F addr 2> /dev/null | head -5
	n=$(perf script -i /tmp/perf.data -F addr 2> /dev/null | grep -cv '^ *0$')
	if [ "${n:-0}" -gt 0 ]; then pass "perf: $n samples with a data address"; else bad "perf: no sample with a data address ($(tail -1 /tmp/perf.err))"; fi
else
	echo "# perf is not in this guest: perf check skipped (HARDWARE.md says how to add it)"
fi
if [ $fail = 0 ]; then echo "verify: PASS"; else echo "verify: FAIL"; fi
exit $fail
EOF
}

cmd_verify() {
	local script=0
	while [ $# -gt 0 ]; do
		case $1 in
		--script) script=1; shift ;;
		-*) usage_error "verify: unknown option '$1'" ;;
		*) usage_error "verify: unexpected argument '$1'" ;;
		esac
	done
	if [ $script = 1 ]; then
		guest_script
		return 0
	fi
	cat <<EOF
In the guest ($ME guest, or make vm PEBS=1), as root.  Expected outputs
below are what the code should print; they have NOT been observed (no
machine of this project has a PMU).

1. The guest kernel found adaptive PEBS, and HyperPlace uses it:

   dmesg | grep -i -e 'Performance Events' -e pebs -e 'hyperplace: '

   expected:
     Performance Events: PEBS fmt4+-baseline, ... Intel PMU driver.
     hyperplace: fast node 0, slow node 1
     hyperplace: sampling with the PEBS source
   On a stock host kernel (or kvm_intel.adaptive_pebs=0) the PEBS part reads
   "PEBS fmt4+," without "-baseline", and HyperPlace says
     hyperplace: PEBS source unavailable: no adaptive PEBS (format 4 with baseline)
     hyperplace: sampling with the Accessed-bit source

2. The PEBS source runs and its counters grow under a workload:

   cat /sys/kernel/mm/hyperplace/active_source       # expected: pebs
   grep . /sys/kernel/mm/hyperplace/stats/pebs_*     # note the values
   gups -s 512 -t 1 -d 10 -p uniform
   grep . /sys/kernel/mm/hyperplace/stats/pebs_*

   expected: pebs_records, pebs_received and pebs_attributed grew;
   pebs_bad_format stays 0 (a record layout the decoder does not know).
   Once drained: pebs_records = pebs_received + pebs_zero_addr
   + pebs_kernel_addr + pebs_bad_format.

3. Each sample carries its data address (tracepoint; source 0 is pebs):

   cd /sys/kernel/tracing/events/hyperplace/hyperplace_sample
   echo 'source == 0' > filter; echo 1 > enable
   gups -s 256 -t 1 -d 3 -p uniform > /dev/null
   echo 0 > enable; grep -m 5 source=pebs /sys/kernel/tracing/trace

   expected: lines like
     hyperplace_sample: source=pebs pid=PID addr=0x7f... access=load weight=LATENCY attributed=1

4. With perf in the guest (the test initramfs has none; see HARDWARE.md):

   echo 30 > /sys/kernel/mm/hyperplace/pebs_ldlat   # one threshold MSR per CPU: match perf's
   perf record -e cpu/mem-loads,ldlat=30/P -d -o /tmp/perf.data -- gups -s 256 -t 1 -d 5
   perf report -i /tmp/perf.data --mem-mode --stdio | head -25
   perf script -i /tmp/perf.data -F addr | head

   expected: --mem-mode shows data symbols and memory levels (L1, LFB, L3,
   RAM, remote RAM); perf script prints non-zero data addresses.

All of it at once, from the host (PASS/FAIL per line, "verify: PASS" last):

   $ME guest -- --mode cmd --cmd "\$($ME verify --script)"
EOF
}

# --- bench ------------------------------------------------------------------

cmd_bench() {
	local fast='' slow=''
	while [ $# -gt 0 ]; do
		case $1 in
		--*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
		--fast-node) need_value "$@"; fast=$2; shift 2 ;;
		--slow-node) need_value "$@"; slow=$2; shift 2 ;;
		--run) RUN=1; shift ;;
		-*) usage_error "bench: unknown option '$1'" ;;
		*) usage_error "bench: unexpected argument '$1'" ;;
		esac
	done
	[ -z "$fast" ] || { check_node --fast-node "$fast"; fast=$NODE; }
	[ -z "$slow" ] || { check_node --slow-node "$slow"; slow=$NODE; }
	resolve_nodes "$fast" "$slow"
	local pre cpus b=$HP_BUILD/bench
	pre="env HP_FAST_HOST_NODE=$FAST_NODE HP_SLOW_HOST_NODE=$SLOW_NODE"
	cpus=$(node_cpus "$FAST_NODE")
	[ -z "$cpus" ] || pre+=" taskset -c $cpus"
	local m
	m="make -C $(q "$HP_ROOT")"

	[ $RUN = 1 ] || cat <<EOF
# Benchmarks with KVM + PEBS, guest tiers bound to host nodes $FAST_NODE (fast)
# and $SLOW_NODE (slow), QEMU on the fast node's CPUs.  '$ME bench --run' runs them.
# With PEBS=1 the guest has the host's PEBS: row hyperplace-pebs samples with
# it, row hyperplace-abit with Accessed bits (each forces its source); runs
# without PEBS=1 (still KVM) have no PEBS row.  Each run overwrites its TSV:
# copy it first.
EOF
	step "1. GUPS, redis and sqlite3 with their hot data starting on the slow node, BENCH_SECS (60) s per run: allfast, allslow, none, HyperPlace (row hyperplace-abit: the Accessed-bit sampler; row hyperplace-pebs: PEBS; each forces its source), TPP, DAMON (swept) -> $b/vm.tsv, vm-sweep.tsv, vm-WORKLOAD.png, kept as vm-pebs.tsv, vm-sweep-pebs.tsv, vm-pebs-WORKLOAD.png" \
		"$pre $m bench-vm PEBS=1 && cp $(q "$b/vm.tsv") $(q "$b/vm-pebs.tsv") && cp $(q "$b/vm-sweep.tsv") $(q "$b/vm-sweep-pebs.tsv") && { for w in gups redis sqlite; do cp $(q "$b")/vm-\$w.png $(q "$b")/vm-pebs-\$w.png; done 2>/dev/null || true; }"
	step "2. the same without PEBS (KVM, Accessed-bit sampler) -> $b/vm.tsv" \
		"$pre $m bench-vm"
	step "3. sampling cost: the PEBS consumer's ns/record (synthetic records through the real decoder and channel; under KVM the guest/host 'slowdown' line should be near 1, so est_native is close to the guest figure) -> $b/sampling.tsv; its abit rows stay 0 while PEBS runs" \
		"$pre $m bench-sampling PEBS=1 && cp $(q "$b/sampling.tsv") $(q "$b/sampling-pebs.tsv")"
	step "4. the Accessed-bit sampler's CPU share on KVM (no PEBS, so it runs) -> $b/sampling.tsv" \
		"$pre $m bench-sampling"
	step "5. HyperFlex: time to take 1 GiB from the fast node vs the stock balloon and virtio-mem, BENCH_ROUNDS (3) runs each -> $b/hyperflex.tsv, hyperflex.png (guest logs in $b/hyperflex-vm)" \
		"$pre $m bench-hyperflex PEBS=1"
	[ $RUN = 1 ] || cat <<EOF

# Results: $b/vm-pebs.tsv and vm.tsv (a row per workload and mechanism,
# goals printed by scripts/bench-vm-host.sh), $b/sampling-pebs.tsv and
# sampling.tsv, $b/hyperflex.tsv; PNG plots beside them when gnuplot is
# installed; guest logs in build/vm/ (console.log, output.log).
EOF
}

# --- main -------------------------------------------------------------------

[ $# -gt 0 ] || { usage >&2; usage_error "no subcommand given"; }
sub=$1
shift
case $sub in
check) cmd_check "$@" ;;
host-kernel) cmd_host_kernel "$@" ;;
guest) cmd_guest "$@" ;;
verify) cmd_verify "$@" ;;
bench) cmd_bench "$@" ;;
help|-h|--help) usage ;;
-*) usage_error "unknown option '$sub' (the subcommand comes first)" ;;
*) usage_error "unknown subcommand '$sub'" ;;
esac
