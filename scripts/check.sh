#!/usr/bin/env bash
# `make check`: install what is missing, build the guest kernel, QEMU and
# the initramfs, then run every test: the userspace harness and host-side
# tests, the two-tier guest (kselftests, KUnit, QMP checks), and the
# runner's own self-tests (it must notice a failing test, a kernel warning
# and a hung guest).  Ends with one line "N passed, N failed, N skipped"
# and exits non-zero if anything failed.  HP_VARIANT=debug (make
# check-debug) runs the same tests on the KASAN/lockdep/DEBUG_VM kernel,
# plus fault injection and stress; HP_VARIANT=kcsan (make check-kcsan) on
# the KCSAN kernel, plus stress.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=check
variant=${HP_VARIANT:-guest}
out=$HP_BUILD/check
rm -rf "$out"
mkdir -p "$out"
passed=0 failed=0 skipped=0 own_n=0
t0=$(date +%s)

add() { # add PASSED FAILED SKIPPED
	passed=$((passed + $1)) failed=$((failed + $2)) skipped=$((skipped + $3))
}
summary() {
	hp_log "done in $(( $(date +%s) - t0 )) s; logs in $out"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit
}
# The result parser; KCSAN reports of races that are not ours are noted, not failed.
results() {
	"$HP_ROOT/scripts/results.py" --known-races "$HP_ROOT/configs/kcsan-known-races" "$@"
}
judge() { # judge NAME RC results.py-args...: run the parser, add its counts
	# RC is the exit status of the step that wrote the results: a step
	# that failed without a failing result (it crashed, or stopped early
	# and its plan was lost with it) is one more failure.
	local name=$1 rc=$2 r p f s
	shift 2
	results "$@" > "$out/$name.results" 2>&1
	sed 's/^/  /' "$out/$name.results" | grep -v '^  RESULT \|^  SOURCE '
	sed -n 's/^SOURCE \([^ ]*\) passed=\([0-9]*\) failed=\([0-9]*\) skipped=\([0-9]*\)$/\1 \2 \3 \4/p' \
		"$out/$name.results" | awk '{ print $1, $2 + $3 + $4 }' >> "$out/counts"
	r=$(grep '^RESULT ' "$out/$name.results" | tail -1)
	if [ -z "$r" ]; then
		echo "  FAIL $name: result parser crashed (see $out/$name.results)"
		add 0 1 0
		return
	fi
	p=$(sed 's/.*passed=\([0-9]*\).*/\1/' <<<"$r")
	f=$(sed 's/.*failed=\([0-9]*\).*/\1/' <<<"$r")
	s=$(sed 's/.*skipped=\([0-9]*\).*/\1/' <<<"$r")
	add "$p" "$f" "$s"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "  FAIL $name: exited $rc, yet no result failed (see $out/$name.log)"
		add 0 1 0
	fi
}
# own NAME OK [DIAG]: a result of this script's own (the runner's
# self-tests, the configuration check); judged with the others at the end.
own() {
	own_n=$((own_n + 1))
	[ -n "${3:-}" ] && printf '# %s\n' "$3" >> "$out/own.tap.body"
	if [ "$2" = 1 ]; then
		echo "ok $own_n $1" >> "$out/own.tap.body"
	else
		echo "not ok $own_n $1" >> "$out/own.tap.body"
	fi
}
step() { # step NAME COMMAND...: a build step; its failure ends the run
	local name=$1
	shift
	hp_log "$name"
	if ! "$@" 2>&1 | tee "$out/$name.log"; then
		echo "  FAIL build: $name (log: $out/$name.log)"
		add 0 1 0
		summary
	fi
}
selftest() { # selftest NAME EXPECT-REGEX results.py-args...: must FAIL
	local name=$1 want=$2
	shift 2
	if results "$@" > "$out/$name.results" 2>&1; then
		own "$name" 0 "the run was judged good"
	elif grep -Eq "$want" "$out/$name.results"; then
		own "$name" 1
	else
		own "$name" 0 "failed for another reason: $(grep -v '^RESULT\|^SOURCE' "$out/$name.results" | tr '\n' ' ')"
	fi
}

step host-deps "$HP_ROOT/scripts/host-deps.sh"
step linux-src "$HP_ROOT/scripts/prepare-linux.sh"
step linux "$HP_ROOT/scripts/build-linux.sh" "$variant"
step qemu "$HP_ROOT/scripts/build-qemu.sh"
step initramfs "$HP_ROOT/scripts/mkinitramfs.sh" "$variant"

hp_log "config: the debug and KCSAN variants' fragments apply in full"
for v in debug kcsan; do
	if "$HP_ROOT/scripts/build-linux.sh" $v --config-only > "$out/$v-config.log" 2>&1; then
		own "config: $v.config merges with nothing dropped" 1
	else
		own "config: $v.config merges with nothing dropped" 0 \
			"$(grep -E 'asked|ERROR' "$out/$v-config.log" | head -5 | tr '\n' ' ')"
	fi
done

hp_log "unit: userspace and host-side tests"
"$HP_ROOT/scripts/unit.sh" "$out/unit" > "$out/unit.log" 2>&1
rc=$?
unit_args=()
for tap in "$out"/unit/*.tap; do
	[ -e "$tap" ] && unit_args+=(--tap "$(basename "$tap" .tap)=$tap")
done
judge unit $rc "${unit_args[@]}"

hp_log "docs: our documents and the ABI file through the kernel's Sphinx setup, warnings fatal"
"$HP_ROOT/scripts/docs-check.sh" > "$out/docs.tap" 2> "$out/docs.log"
judge docs $? --tap "docs=$out/docs.tap"

hp_log "series: the upstream series apply to the pristine bases and pass checkpatch"
"$HP_ROOT/scripts/series-check.sh" > "$out/series.tap" 2> "$out/series.log"
judge series $? --tap "series=$out/series.tap"

hp_log "sparse: HyperPlace's kernel files as the $variant kernel builds them"
"$HP_ROOT/scripts/sparse-check.sh" "$variant" > "$out/sparse.tap" 2> "$out/sparse.log"
judge sparse $? --tap "sparse=$out/sparse.tap"

hp_log "guest: kselftests, KUnit and QMP checks in the two-tier VM"
vm=$out/vm
"$HP_ROOT/scripts/vm.py" --variant "$variant" --mode tests --timeout 1500 --logdir "$vm" \
	--qmp-checks "$vm/qmp.tap" > "$out/guest.log" 2>&1
rc=$?
[ $rc -eq 0 ] || echo "  vm.py exited $rc (status: $(cat "$vm/status" 2>/dev/null)); console: $vm/console.log"
kunit_args=()
for s in $(sed 's/#.*//' "$HP_ROOT/configs/kunit-suites"); do
	kunit_args+=(--kunit "$s")
done
# Our own guest: every precondition of every test is ours, so nothing skips.
judge guest $rc --no-skip --tap "kselftest=$vm/output.log" --tap "qmp=$vm/qmp.tap" \
	--console "$vm/console.log" "${kunit_args[@]}"
if [ "$variant" = kcsan ]; then
	# A detector that cannot see a race would pass every run: its boot
	# self-test (CONFIG_KCSAN_SELFTEST) must have passed in this boot.
	kt=$out/kcsan-selftest.tap
	{
		echo "TAP version 13"; echo "1..1"
		if grep -Eq 'kcsan: selftest: ([0-9]+)/\1 tests passed' "$vm/console.log"; then
			echo "ok 1 kcsan: the boot self-test passed"
		else
			echo "# $(grep 'kcsan:' "$vm/console.log" | head -3 | tr '\n' ' ')"
			echo "not ok 1 kcsan: the boot self-test passed"
		fi
	} > "$kt"
	judge kcsan-selftest 0 --tap "kcsan-selftest=$kt"
fi
"$HP_ROOT/scripts/abi-sysfs-check.sh" "$vm/output.log" > "$out/abi-sysfs.tap" 2>&1
judge abi-sysfs $? --tap "abi-sysfs=$out/abi-sysfs.tap"

hp_log "topology 2+2: two fast and two slow nodes; hot pages go near the task; a slow node removed and added"
tp=$out/topology-2+2
"$HP_ROOT/scripts/vm.py" --variant "$variant" --topology 2+2 --mode tests --timeout 1200 \
	--logdir "$tp" --append "hp.only=tiers_test,hotplug_test" > "$tp.log" 2>&1
rc=$?
[ $rc -eq 0 ] || echo "  vm.py (topology 2+2) exited $rc; console: $tp/console.log"
judge topology-2+2 $rc --no-skip --tap "topology-2+2=$tp/output.log" --splats "$tp/console.log"

hp_log "cpu-rings: a CPU first online after boot (maxcpus=1) gets its sample rings"
cr=$out/cpu-rings
"$HP_ROOT/scripts/vm.py" --variant "$variant" --mode tests --timeout 600 --logdir "$cr" \
	--append "maxcpus=1 hp.only=sampling_test hp.test=cpu_online_later_gets_rings" \
	> "$cr.log" 2>&1
rc=$?
[ $rc -eq 0 ] || echo "  vm.py (maxcpus=1) exited $rc; console: $cr/console.log"
judge cpu-rings $rc --no-skip --tap "cpu-rings=$cr/output.log" --splats "$cr/console.log"

hp_log "hyperflex: per-tier balloons resized over QMP in a live guest"
for mode in full plain; do
	hf=$out/hyperflex-$mode
	args=()
	[ $mode = plain ] && args=(--plain)
	"$HP_ROOT/scripts/hyperflex-test.py" --variant "$variant" --logdir "$hf" \
		--tap "$hf.tap" --timeout 1200 "${args[@]}" > "$hf.log" 2>&1
	rc=$?
	[ $rc -eq 0 ] || echo "  hyperflex-test.py ($mode) exited $rc; log: $hf.log"
	# The same kernel as the guest run: its KUnit results are not counted again.
	judge hyperflex-$mode $rc --no-skip --tap "hyperflex-$mode=$hf.tap" --splats "$hf/console.log"
done

if [ "$variant" != guest ]; then
	hp_log "concurrency stress (and, on the debug kernel, fault injection) on the $variant kernel"
	# Allocations fail there on purpose (injected; memory offlined from a
	# full node): the kernel's reports of that are not splats.  Fault
	# injection needs the debug kernel's CONFIG_FAULT_INJECTION.
	runs=("stress ${HP_STRESS_SECS:-120}")
	[ "$variant" = debug ] && runs=("fault-inject ${HP_FAULT_SECS:-60}" "${runs[@]}")
	for t in "${runs[@]}"; do
		set -- $t
		"$HP_ROOT/scripts/vm.py" --variant "$variant" --mode cmd --timeout 1500 \
			--logdir "$out/$1" --cmd "sh /hp/$1.sh $2" > "$out/$1.tap" 2> "$out/$1.log"
		judge "$1" $? --no-skip --alloc-failures-ok --tap "$1=$out/$1.tap" \
			--splats "$out/$1/console.log"
	done
fi
if [ "$variant" = debug ]; then
	hp_log "hyperflex-faults: the fast tier's balloon inflates while its allocations fail"
	hf=$out/hyperflex-faults
	"$HP_ROOT/scripts/hyperflex-test.py" --variant debug --faults --logdir "$hf" \
		--tap "$hf.tap" --timeout 1200 > "$hf.log" 2>&1
	judge hyperflex-faults $? --no-skip --alloc-failures-ok --tap "hyperflex-faults=$hf.tap" \
		--splats "$hf/console.log"
fi

hp_log "pmu, pmu-msr, pebs: QEMU's emulated PMU (x-tcg-pmu) counts, interrupts, keeps the MSR rules and writes PEBS records"
for t in pmu pmu-msr pebs; do
	"$HP_ROOT/scripts/vm.py" --variant "$variant" --tcg-pmu --mode cmd --timeout 600 \
		--logdir "$out/$t" --cmd "/hp/bin/$t-test" > "$out/$t.tap" 2> "$out/$t.log"
	judge $t $? --no-skip --tap "$t=$out/$t.tap" --splats "$out/$t/console.log"
done
hp_log "perf: Debian's perf stat, record and report on the emulated PMU"
"$HP_ROOT/scripts/mkinitramfs.sh" "$variant" perf > "$out/perf-initramfs.log" 2>&1 &&
"$HP_ROOT/scripts/vm.py" --variant "$variant" --tcg-pmu --mode cmd --timeout 600 \
	--initrd "$HP_BUILD/initramfs/initramfs-perf.cpio" --logdir "$out/perf" \
	--cmd "sh /hp/perf-test.sh" > "$out/perf.tap" 2> "$out/perf.log"
judge perf $? --no-skip --tap "perf=$out/perf.tap" --splats "$out/perf/console.log"
hp_log "pmu-migrate: live migration while the emulated PMU writes PEBS records"
pm=$out/pmu-migrate
"$HP_ROOT/scripts/pmu-migrate-test.py" --variant "$variant" --logdir "$pm" \
	--tap "$pm.tap" > "$pm.log" 2>&1
judge pmu-migrate $? --no-skip --tap "pmu-migrate=$pm.tap" \
	--splats "$pm/src/console.log" --splats "$pm/dst/console.log"

hp_log "runner self-tests: a failing test, a kernel warning and a hung guest must fail a run"
"$HP_ROOT/scripts/vm.py" --variant "$variant" --mode tests --timeout 300 --logdir "$out/vm-fail" \
	--append hp.selftest=fail > /dev/null 2>&1
selftest detects-failing-test 'FAIL kselftest: .*deliberate_failure' \
	--tap "kselftest=$out/vm-fail/output.log" --console "$out/vm-fail/console.log"
"$HP_ROOT/scripts/vm.py" --variant "$variant" --mode tests --timeout 300 --logdir "$out/vm-warn" \
	--append hp.selftest=warn > /dev/null 2>&1
# The deliberate warning itself, not another report of that boot.
selftest detects-kernel-warning 'FAIL kernel: splat .*WARNING: .* selftest_warn_write' \
	--tap "kselftest=$out/vm-warn/output.log" --console "$out/vm-warn/console.log"
"$HP_ROOT/scripts/vm.py" --variant "$variant" --mode tests --timeout 20 --logdir "$out/vm-hang" \
	--append hp.selftest=hang > /dev/null 2>&1
rc=$?
if [ $rc -eq 124 ] && grep -qx timeout "$out/vm-hang/status"; then
	own detects-hung-guest 1
else
	own detects-hung-guest 0 "vm.py exited $rc"
fi

{ echo "TAP version 13"; echo "1..$own_n"; cat "$out/own.tap.body"; } > "$out/own.tap"
judge runner 0 --tap "runner=$out/own.tap"

hp_log "counts: every source gave as many results as configs/expected-counts says"
cat "$HP_ROOT/configs/expected-counts" > "$out/expected-counts"
[ -f "$HP_ROOT/configs/expected-counts.$variant" ] &&
	cat "$HP_ROOT/configs/expected-counts.$variant" >> "$out/expected-counts"
judge counts 0 --expect "$out/expected-counts" --counts "$out/counts"

summary
