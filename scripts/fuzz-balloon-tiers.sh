#!/usr/bin/env bash
# fuzz-balloon-tiers.sh [--regress]
#
# libFuzzer on QEMU's virtio-balloon tier queues: builds qemu-fuzz-x86_64
# (clang, ASan, UBSan; scripts/build-qemu-fuzz.sh) and runs its
# virtio-balloon-tiers-fuzz target for FUZZ_SECS seconds (60) on one core,
# or until FUZZ_RUNS inputs ran if that comes first (FUZZ_SECS=0: no limit).
# FUZZ_JOBS=N: N fuzzer processes on one shared corpus (libFuzzer -jobs),
# FUZZ_RUNS inputs among them, FUZZ_SECS each.  Inputs stay within
# FUZZ_MAX_LEN bytes (1024: 128 actions, or a request of 60 ranges): left
# to itself libFuzzer grew them to 4 KiB, at a quarter of the speed.
# Seeds come from scripts/balloon-tiers-fuzz-seeds.py, new inputs go to
# build/fuzz/balloon-tiers/corpus, crashes to build/fuzz/balloon-tiers/.
# Crashes once found and fixed are kept in
# tools/testing/hyperplace/balloon-tiers-corpus/ and replayed first.
#
# --regress: run each seed and kept crash once instead, TAP.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=fuzz-balloon-tiers

target=virtio-balloon-tiers-fuzz
dir=$HP_BUILD/fuzz/balloon-tiers
kept=$HP_ROOT/tools/testing/hyperplace/balloon-tiers-corpus
secs=${FUZZ_SECS:-60}
runs=${FUZZ_RUNS:--1}
jobs=${FUZZ_JOBS:-1}
max_len=${FUZZ_MAX_LEN:-1024}
number() { # number NAME VALUE MIN: VALUE must be a whole number >= MIN
	[[ $2 =~ ^-?[0-9]+$ ]] && [ "$2" -ge "$3" ] ||
		hp_die "$1 must be a whole number from $3 up, not '$2'"
}
number FUZZ_SECS "$secs" 0
number FUZZ_RUNS "$runs" -1
number FUZZ_JOBS "$jobs" 1
number FUZZ_MAX_LEN "$max_len" 1
# QEMU's --enable-ubsan recovers from what it finds: stop at the first.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

"$HP_ROOT/scripts/build-qemu-fuzz.sh"
# The binary takes its target from its name after "-target-".
bin=$HP_BUILD/obj/qemu-fuzz/qemu-fuzz-x86_64-target-$target
ln -sfn qemu-fuzz-x86_64 "$bin"
mkdir -p "$dir/corpus"
rm -rf "$dir/seeds"
"$HP_ROOT/scripts/balloon-tiers-fuzz-seeds.py" "$dir/seeds"
cp "$kept"/* "$dir/seeds/" 2>/dev/null || true

if [ "${1:-}" = --regress ]; then
	exec "$HP_ROOT/tools/testing/hyperplace/fuzz-regress.sh" "$bin" "$dir/seeds"
fi

# run LOG ARGS...: the fuzzer; a crash, leak or sanitizer report fails
run() {
	local log=$1
	shift
	# The machine's RAM is guest memory of this process: allow for it.
	if ! "$bin" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix="$dir/" "$@" > "$log" 2>&1; then
		grep -A30 -m1 'ERROR\|runtime error\|deadly signal' "$log" >&2 || tail -30 "$log" >&2
		hp_die "$target found a crash or leak: input in $dir/ (crash-*, leak-*), log $log"
	fi
}

hp_log "fuzzing $target for $secs s, $runs inputs (-1: no limit; 0 s: no time limit), $jobs job(s); log $dir/fuzz.log"
# Leak checks after every input that allocated more than it freed would
# scan all of QEMU's memory, ten times slower: the corpus is checked
# for leaks below, once per input that brought new coverage.
args=(-detect_leaks=0 -max_total_time="$secs" -max_len="$max_len" "$dir/corpus" "$dir/seeds")
rm -f "$dir"/fuzz.log "$dir"/fuzz-[0-9]*.log
if [ "$jobs" -eq 1 ]; then
	run "$dir/fuzz.log" -runs="$runs" "${args[@]}"
	logs=("$dir/fuzz.log")
else
	# Each job writes fuzz-J.log in the working directory and shares the
	# corpus with the others (it reloads the directory as it goes).  A
	# job that finds a crash stops; the others go on to their limits.
	[ "$runs" -lt 0 ] || runs=$(( (runs + jobs - 1) / jobs ))
	(cd "$dir" && run "$dir/fuzz.log" -jobs="$jobs" -workers="$jobs" -runs="$runs" "${args[@]}")
	shopt -s nullglob
	logs=("$dir"/fuzz-[0-9]*.log)
	shopt -u nullglob
	[ ${#logs[@]} -eq "$jobs" ] ||
		hp_die "$jobs jobs ran, but ${#logs[@]} logs are in $dir (fuzz-J.log); see $dir/fuzz.log"
fi
for stat in number_of_executed_units average_exec_per_sec new_units_added peak_rss_mb; do
	sed -n "s/^stat::$stat: *//p" "${logs[@]}" | tr '\n' ' ' |
		sed "s/^/[$HP_STEP] $stat: /; s/ \$//"
	echo
done
total=$(sed -n 's/^stat::number_of_executed_units: *//p' "${logs[@]}" | awk '{ n += $1 } END { print n + 0 }')
hp_log "$total inputs in all"
hp_log "leak check of the corpus, $(find "$dir/corpus" -type f | wc -l) inputs (log $dir/leaks.log)"
run "$dir/leaks.log" -detect_leaks=1 -runs=0 "$dir/corpus" "$dir/seeds"
