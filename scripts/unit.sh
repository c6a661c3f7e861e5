#!/usr/bin/env bash
# unit.sh OUTDIR: the tests that need no VM, each writing OUTDIR/NAME.tap:
#   host      the build/test machinery (scripts/tests/host-tests.sh)
#   harness   the range classifier harness, ASan+UBSan (tools/testing/hyperplace)
#   fuzz-regress  the range fuzzer's seeds and crash regressions, replayed once
#   hpsim     trace parser and simulator tests (tools/hyperplace)
#   gups      the GUPS workload (tools/hyperplace/gups)
#   hyperflex the HyperFlex QMP helper and client, against a fake QMP server
#             (tools/hyperplace/hyperflex)
#   hw-recipe the real-host PEBS recipe, against fake sysroots
#             (scripts/tests/hw-recipe-tests.sh)
# Exits non-zero if any of them failed; scripts/results.py judges the TAP.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=unit
out=${1:-$HP_BUILD/unit-results}
mkdir -p "$out"
rc=0

hp_log "host-side tests"
"$HP_ROOT/scripts/tests/host-tests.sh" > "$out/host.tap" 2>&1 || rc=1
hp_log "hardware recipe tests"
"$HP_ROOT/scripts/tests/hw-recipe-tests.sh" > "$out/hw-recipe.tap" 2>&1 || rc=1

if [ -f "$HP_ROOT/tools/testing/hyperplace/Makefile" ]; then
	hp_log "range classifier harness (ASan+UBSan)"
	make -s -C "$HP_ROOT/tools/testing/hyperplace" OUT="$HP_BUILD/unit" \
	     KSRC="$HP_LINUX_SRC" run > "$out/harness.tap" 2>&1 || rc=1
	hp_log "range fuzzer regressions (libFuzzer, ASan+UBSan)"
	make -s -C "$HP_ROOT/tools/testing/hyperplace" OUT="$HP_BUILD/unit" \
	     KSRC="$HP_LINUX_SRC" fuzz-regress > "$out/fuzz-regress.tap" 2>&1 || rc=1
fi
if [ -f "$HP_ROOT/tools/hyperplace/Makefile" ]; then
	hp_log "trace parser and simulator tests"
	make -s -C "$HP_ROOT/tools/hyperplace" OUT="$HP_BUILD/sim" \
	     KSRC="$HP_LINUX_SRC" test > "$out/hpsim.tap" 2>&1 || rc=1
fi
if [ -f "$HP_ROOT/tools/hyperplace/gups/Makefile" ]; then
	hp_log "gups workload tests"
	make -s -C "$HP_ROOT/tools/hyperplace/gups" OUT="$HP_BUILD/gups" \
	     test > "$out/gups.tap" 2>&1 || rc=1
fi
if [ -f "$HP_ROOT/tools/hyperplace/hyperflex/test_hyperflex.py" ]; then
	hp_log "hyperflex QMP helper tests"
	python3 -B "$HP_ROOT/tools/hyperplace/hyperflex/test_hyperflex.py" \
		> "$out/hyperflex.tap" 2>&1 || rc=1
fi
exit $rc
