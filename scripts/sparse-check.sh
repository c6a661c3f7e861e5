#!/usr/bin/env bash
# sparse-check.sh [VARIANT]: run sparse over HyperPlace's own kernel C files
# as the guest kernel (build/obj/linux-VARIANT) builds them, and print TAP:
# one result per file, "not ok" if sparse reports anything in it.  Also
# checks the PEBS consumer hook that patches/linux/0004 adds to ds.c (only
# its own lines: ds.c has upstream's sparse warnings too).
#
# make C=2 checks a file even when its object is up to date, and with the
# same make variables as build-linux.sh nothing is rebuilt.
#
# One kind of finding is not ours to fix: sparse cannot follow the RCU
# read lock that pte_offset_map() takes inside the page-table helpers, so
# it reports "context imbalance ... unexpected unlock" at every
# pte_unmap_unlock() whose lock it did not see taken.
# Upstream mm has the same report at the same calls (mm/migrate.c
# add_folio_for_migration(), mm/madvise.c madvise_cold_or_pageout_pte_range()
# in 6.12), so such a report at such a line is noted, not failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=sparse
variant=${1:-guest}
obj=$HP_LINUX_OBJ-${variant//\//-}

command -v sparse >/dev/null || hp_die "sparse is missing: run scripts/host-deps.sh"
[ -f "$obj/vmlinux" ] || hp_die "$obj has no kernel: run scripts/build-linux.sh $variant"

# The overlay's C files that this configuration builds (an object exists).
files=()
while IFS= read -r f; do
	[ -f "$obj/${f%.c}.o" ] && files+=("$f")
done < <(cd "$HP_ROOT" && git ls-files 'mm/hyperplace/*.c' 'arch/x86/*.c' 'drivers/virtio/*.c' | sort)

# Of sparse's findings in ds.c (stdin), those in the consumer hook: from
# the pebs_consumer pointer to the drain that calls the hook.
hook_only() {
	local first last
	first=$(grep -n '^static const struct x86_pebs_consumer __rcu \*pebs_consumer;' "$1" | cut -d: -f1)
	last=$(grep -n '^static void intel_pmu_drain_pebs_icl' "$1" | cut -d: -f1)
	[ -n "$first" ] && [ -n "$last" ] || { echo "the consumer hook is not in $1"; return; }
	awk -F: -v a="$first" -v b="$last" '$2 >= a && $2 < b'
}

# Of sparse's findings in file $1 (stdin), the context imbalances reported
# at a pte_unmap_unlock() line.
pte_helper_imbalance() {
	local line n
	while IFS= read -r line; do
		[[ $line == *"context imbalance"*"unexpected unlock"* ]] || continue
		n=$(cut -d: -f2 <<<"$line")
		sed -n "${n}p" "$1" | grep -Eq 'pte_unmap_unlock\(' &&
			printf '%s\n' "$line"
	done
}

# The consumer hook in ds.c, where this configuration builds ds.c.
[ -f "$obj/arch/x86/events/intel/ds.o" ] && files+=(arch/x86/events/intel/ds.c)

log=$obj/sparse.log
: > "$log"
echo "TAP version 13"
echo "1..${#files[@]}"
n=0
for f in "${files[@]}"; do
	n=$((n + 1))
	out=$(make -C "$HP_LINUX_SRC" O="$obj" CC="ccache gcc" HOSTCC="ccache gcc" \
		KBUILD_BUILD_USER=hyperplace KBUILD_BUILD_HOST=build \
		KBUILD_BUILD_TIMESTAMP='1970-01-01' C=2 "${f%.c}.o" 2>&1)
	printf '%s\n' "$out" >> "$log"
	# sparse's findings name the file; ds.c's are ours only in the hook.
	found=$(grep -E "(^|/)$f:[0-9]+:[0-9]+: (warning|error):" <<<"$out")
	if [ "$f" = arch/x86/events/intel/ds.c ]; then
		found=$(hook_only "$HP_LINUX_SRC/$f" <<<"$found")
	fi
	excused=$(pte_helper_imbalance "$HP_LINUX_SRC/$f" <<<"$found")
	[ -n "$excused" ] && sed 's/^/# excused (page-table helper): /' <<<"$excused"
	found=$(grep -vxF -f <(printf '%s\n' "$excused") <<<"$found")
	if grep -q 'Error [0-9]' <<<"$out"; then
		found="make failed: $(grep -m3 -E 'error|Error' <<<"$out" | tr '\n' ' ')"
	fi
	if [ -z "$found" ]; then
		echo "ok $n sparse: $f"
	else
		sed 's/^/# /' <<<"$found"
		echo "not ok $n sparse: $f"
	fi
done
