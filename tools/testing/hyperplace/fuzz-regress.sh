#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fuzz-regress.sh FUZZER DIR: run the libFuzzer binary FUZZER once on every
# file of DIR (seeds and crash regressions), TAP output.  Exits non-zero if
# any input crashes.
set -u

bin=$1
dir=$2
set -- "$dir"/*
[ -e "$1" ] || set --
echo "1..$#"
n=0
failed=0
for f; do
	n=$((n + 1))
	if out=$("$bin" "$f" 2>&1); then
		echo "ok $n - fuzz-regress: ${f##*/}"
	else
		echo "not ok $n - fuzz-regress: ${f##*/}"
		printf '%s\n' "$out" | tail -n 40 | sed 's/^/# /'
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ] || { echo "# $failed of $n failed"; exit 1; }
