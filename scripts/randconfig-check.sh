#!/usr/bin/env bash
# randconfig-check.sh [NAME...]: build the guest kernel with HyperPlace under
# the hostile configurations of configs/hostile/ (all, or the NAMEs given):
# guest.config plus one fragment that takes away what HyperPlace could
# wrongly assume (THP and hugetlb, memory cgroups and cpusets, debugfs,
# Intel PEBS, memory hotplug and the balloon).  Each is a full bzImage build
# in build/obj/linux-hostile-NAME, with every option the fragment sets
# checked in the result (build-linux.sh), then sparse over our files as
# that configuration builds them (sparse-check.sh).
#
# TAP, two results per configuration: it builds, and sparse is clean.
# Too long for `make check` (see README: one cold build is a full kernel
# build); `make randconfig-check` runs it.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=randconfig

if [ $# -eq 0 ]; then
	set -- $(cd "$HP_ROOT/configs/hostile" && ls *.config | sed 's/\.config$//')
fi
logs=$HP_BUILD/randconfig
mkdir -p "$logs"
echo "TAP version 13"
echo "1..$(( 2 * $# ))"
n=0
for name; do
	t0=$(date +%s)
	log=$logs/$name.log
	n=$((n + 1))
	if "$HP_ROOT/scripts/build-linux.sh" "hostile/$name" > "$log" 2>&1; then
		echo "ok $n randconfig: $name: builds"
		built=1
	else
		grep -E 'error|asked|ERROR' "$log" | head -10 | sed 's/^/# /'
		echo "not ok $n randconfig: $name: builds (log: $log)"
		built=0
	fi
	n=$((n + 1))
	if [ $built = 1 ] &&
	   "$HP_ROOT/scripts/sparse-check.sh" "hostile/$name" > "$logs/$name.sparse.tap" 2>&1 &&
	   ! grep -q '^not ok' "$logs/$name.sparse.tap"; then
		echo "# $(grep -c '^ok' "$logs/$name.sparse.tap") files, $(grep -c '^# excused' "$logs/$name.sparse.tap") page-table-helper reports excused"
		echo "ok $n randconfig: $name: sparse clean"
	else
		grep -E '^# |^not ok' "$logs/$name.sparse.tap" 2>/dev/null | grep -v '^# excused' | head -10 | sed 's/^\([^#]\)/# \1/'
		echo "not ok $n randconfig: $name: sparse clean"
	fi
	echo "# $name: $(( $(date +%s) - t0 )) s"
done
