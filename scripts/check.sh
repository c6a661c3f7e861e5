#!/usr/bin/env bash
# `make check`: install what is missing, build the guest kernel, QEMU and
# the initramfs, then run every test: the userspace harness and host-side
# tests, the two-tier guest (kselftests, KUnit, QMP checks), and the
# runner's own self-tests (it must notice a failing test, a kernel warning
# and a hung guest).  Ends with one line "N passed, N failed, N skipped"
# and exits non-zero if anything failed.  HP_VARIANT=debug (make check
# VARIANT=debug) runs the same tests on the KASAN/lockdep/DEBUG_VM kernel.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=check
variant=${HP_VARIANT:-guest}
out=$HP_BUILD/check
rm -rf "$out"
mkdir -p "$out"
passed=0 failed=0 skipped=0
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
judge() { # judge NAME results.py-args...: run the parser, add its counts
	local name=$1 r p f s
	shift
	"$HP_ROOT/scripts/results.py" "$@" > "$out/$name.results" 2>&1
	sed 's/^/  /' "$out/$name.results" | grep -v '^  RESULT '
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
	if "$HP_ROOT/scripts/results.py" "$@" > "$out/$name.results" 2>&1; then
		echo "  FAIL runner: $name: the run was judged good"
		add 0 1 0
	elif grep -Eq "$want" "$out/$name.results"; then
		echo "  PASS runner: $name"
		add 1 0 0
	else
		echo "  FAIL runner: $name: failed for another reason:"
		sed 's/^/    /' "$out/$name.results"
		add 0 1 0
	fi
}

step host-deps "$HP_ROOT/scripts/host-deps.sh"
step linux-src "$HP_ROOT/scripts/prepare-linux.sh"
step linux "$HP_ROOT/scripts/build-linux.sh" "$variant"
step qemu "$HP_ROOT/scripts/build-qemu.sh"
step initramfs "$HP_ROOT/scripts/mkinitramfs.sh" "$variant"

hp_log "config: the debug variant's fragments apply in full"
if "$HP_ROOT/scripts/build-linux.sh" debug --config-only > "$out/debug-config.log" 2>&1; then
	echo "  PASS config: debug.config (KASAN, lockdep, DEBUG_VM) merges with nothing dropped"
	add 1 0 0
else
	echo "  FAIL config: debug.config: $(grep -E 'asked|ERROR' "$out/debug-config.log" | head -5)"
	add 0 1 0
fi

hp_log "unit: userspace and host-side tests"
"$HP_ROOT/scripts/unit.sh" "$out/unit" > "$out/unit.log" 2>&1
unit_args=()
for tap in "$out"/unit/*.tap; do
	[ -e "$tap" ] && unit_args+=(--tap "$(basename "$tap" .tap)=$tap")
done
judge unit "${unit_args[@]}"

hp_log "docs: our documents and the ABI file through the kernel's Sphinx setup, warnings fatal"
"$HP_ROOT/scripts/docs-check.sh" > "$out/docs.tap" 2> "$out/docs.log"
judge docs --tap "docs=$out/docs.tap"

hp_log "series: the upstream series apply to the pristine bases and pass checkpatch"
"$HP_ROOT/scripts/series-check.sh" > "$out/series.tap" 2> "$out/series.log"
judge series --tap "series=$out/series.tap"

hp_log "guest: kselftests, KUnit and QMP checks in the two-tier VM"
vm=$out/vm
"$HP_ROOT/scripts/vm.py" --variant "$variant" --mode tests --timeout 1500 --logdir "$vm" \
	--qmp-checks "$vm/qmp.tap" || echo "  vm.py exited $? (status: $(cat "$vm/status" 2>/dev/null))"
kunit_args=()
for s in $(cat "$HP_ROOT/configs/kunit-suites" 2>/dev/null | sed 's/#.*//'); do
	kunit_args+=(--kunit "$s")
done
judge guest --tap "kselftest=$vm/output.log" --tap "qmp=$vm/qmp.tap" \
	--console "$vm/console.log" "${kunit_args[@]}"
grep -q 'HP-DONE' "$vm/output.log" 2>/dev/null ||
	{ echo "  FAIL guest: did not finish (status: $(cat "$vm/status" 2>/dev/null)); console: $vm/console.log"; add 0 1 0; }
"$HP_ROOT/scripts/abi-sysfs-check.sh" "$vm/output.log" > "$out/abi-sysfs.tap" 2>&1
judge abi-sysfs --tap "abi-sysfs=$out/abi-sysfs.tap"

hp_log "hyperflex: per-tier balloons resized over QMP in a live guest"
for mode in full plain; do
	hf=$out/hyperflex-$mode
	args=()
	[ $mode = plain ] && args=(--plain)
	"$HP_ROOT/scripts/hyperflex-test.py" --variant "$variant" --logdir "$hf" \
		--tap "$hf.tap" --timeout 1200 "${args[@]}" > "$hf.log" 2>&1 ||
		echo "  hyperflex-test.py ($mode) exited $?; log: $hf.log"
	judge hyperflex-$mode --tap "hyperflex-$mode=$hf.tap" --console "$hf/console.log"
done

hp_log "runner self-tests: a failing test, a kernel warning and a hung guest must fail a run"
"$HP_ROOT/scripts/vm.py" --variant "$variant" --mode tests --timeout 300 --logdir "$out/vm-fail" \
	--append hp.selftest=fail > /dev/null 2>&1
selftest detects-failing-test 'FAIL kselftest: .*deliberate_failure' \
	--tap "kselftest=$out/vm-fail/output.log" --console "$out/vm-fail/console.log"
"$HP_ROOT/scripts/vm.py" --variant "$variant" --mode tests --timeout 300 --logdir "$out/vm-warn" \
	--append hp.selftest=warn > /dev/null 2>&1
selftest detects-kernel-warning 'FAIL kernel: splat' \
	--tap "kselftest=$out/vm-warn/output.log" --console "$out/vm-warn/console.log"
"$HP_ROOT/scripts/vm.py" --variant "$variant" --mode tests --timeout 20 --logdir "$out/vm-hang" \
	--append hp.selftest=hang > /dev/null 2>&1
rc=$?
if [ $rc -eq 124 ] && grep -qx timeout "$out/vm-hang/status"; then
	echo "  PASS runner: detects-hung-guest"
	add 1 0 0
else
	echo "  FAIL runner: detects-hung-guest: vm.py exited $rc"
	add 0 1 0
fi

summary
