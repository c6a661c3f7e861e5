#!/usr/bin/env bash
# abi-sysfs-check.sh GUEST-OUTPUT [ABI-FILE]
#
# Check that the What: lines of the sysfs ABI file
# (Documentation/ABI/testing/sysfs-kernel-mm-hyperplace by default) name
# exactly the files and directories that a running HyperPlace kernel has
# under /sys/kernel/mm/hyperplace.  The test guest lists them before its
# tests as "HP-SYSFS PATH" lines (directories end in "/"; scripts/guest/init),
# so the check reads the kernel itself rather than parsing sysfs.c.
#
# TAP on stdout, one result; exit 1 if a file is undocumented, a What: names
# no file, or the guest output has no listing.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

if [ $# -lt 1 ] || [ $# -gt 2 ]; then hp_die "usage: $0 GUEST-OUTPUT [ABI-FILE]"; fi
output=$1
abi=${2:-$HP_ROOT/Documentation/ABI/testing/sysfs-kernel-mm-hyperplace}
name="abi: the What: lines of ${abi#"$HP_ROOT"/} are the files the guest kernel has"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "TAP version 13"
echo "1..1"
fail() {
	echo "not ok 1 - $name"
	printf '# %s\n' "$@"
	exit 1
}
[ -r "$output" ] || fail "no guest output $output"
[ -r "$abi" ] || fail "no ABI file $abi"
# Console output may carry carriage returns.
tr -d '\r' < "$output" | sed -n 's/^HP-SYSFS \(\/.*\)$/\1/p' | sort -u > "$tmp/kernel"
sed -n 's/^What:[[:space:]]*\([^[:space:]]*\)[[:space:]]*$/\1/p' "$abi" | sort -u > "$tmp/abi"
[ -s "$tmp/kernel" ] || fail "the guest listed no file of /sys/kernel/mm/hyperplace (HP-SYSFS lines)"
[ -s "$tmp/abi" ] || fail "$abi has no What: line"

problems=()
while read -r f; do
	problems+=("missing: the kernel has $f, the ABI file no What: for it")
done < <(comm -23 "$tmp/kernel" "$tmp/abi")
while read -r f; do
	problems+=("extra: the ABI file has What: $f, the kernel no such file")
done < <(comm -13 "$tmp/kernel" "$tmp/abi")
[ ${#problems[@]} -eq 0 ] || fail "${problems[@]}"
echo "ok 1 - $name"
echo "# $(wc -l < "$tmp/kernel") files and directories, each with a What:"
