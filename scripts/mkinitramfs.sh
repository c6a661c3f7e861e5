#!/usr/bin/env bash
# Build the test guest's initramfs: static busybox, our init, the static
# kselftests of tools/testing/selftests/hyperplace (built with the kselftest
# lib.mk against this kernel's exported headers) and the test programs.
#   mkinitramfs.sh [VARIANT]         build/initramfs/initramfs.cpio
#   mkinitramfs.sh VARIANT bench     build/initramfs/initramfs-bench.cpio:
#       the above plus make bench-vm's programs from Debian (redis, sqlite3)
#       and scripts; only the benchmark boots it, so the test guest and
#       make check do not change
#   mkinitramfs.sh VARIANT perf      build/initramfs/initramfs-perf.cpio:
#       the above plus Debian's perf, for make check's perf boot only
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=initramfs
variant=${1:-guest}
kobj=$HP_LINUX_OBJ-$variant
stage=$HP_BUILD/initramfs/root
cpio_out=$HP_BUILD/initramfs/initramfs.cpio
ksobj=$HP_BUILD/obj/selftests

# Debian's programs for the guest: each PROGRAM (PATH[:NAME], PATH in the
# packages unpacked in DEBS by scripts/guest-debs.sh) goes to STAGE's
# /usr/bin with the shared libraries it needs and the dynamic loader.
# Debian's loader, run directly, lists what each program needs from the
# unpacked packages only; anything found elsewhere is an error.
#   stage_debian_programs DEBS STAGE PROGRAM...
stage_debian_programs() {
	local debs=$1 bstage=$2 lib=usr/lib/x86_64-linux-gnu ld bin name path
	shift 2
	mkdir -p "$bstage"/{usr/bin,$lib,lib64}
	ld=$debs/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
	[ -x "$ld" ] || hp_die "no dynamic loader in $debs (libc6)"
	install -m 0755 "$ld" "$bstage/lib64/ld-linux-x86-64.so.2"
	for bin in "$@"; do
		name=${bin#*:}
		name=${name##*/}
		bin=$debs/${bin%%:*}
		[ -x "$bin" ] || hp_die "no $bin in the unpacked packages"
		install -m 0755 "$bin" "$bstage/usr/bin/$name"
		"$ld" --library-path "$debs/lib/x86_64-linux-gnu:$debs/$lib" --list "$bin" |
			awk '$2 == "=>" && $1 !~ /^\// { print $1, $3 }' |
		while read -r name path; do
			case $path in "$debs"/*) ;; *) hp_die "$bin: $name is not in the unpacked packages ($path)" ;; esac
			cp -L "$path" "$bstage/$lib/$name"
		done
	done
}

# OUT: the test initramfs with STAGE appended (the kernel unpacks
# concatenated archives in turn).
#   append_stage STAGE OUT
append_stage() {
	[ -s "$cpio_out" ] || hp_die "no $cpio_out: build the initramfs first"
	{ cat "$cpio_out"
	  (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet)
	} > "$2.tmp"
	mv "$2.tmp" "$2"
	hp_log "$(du -sh "$1" | cut -f1) of Debian programs and scripts; $(du -h "$2" | cut -f1) $2"
}

# The benchmark's archive: redis and sqlite3 from Debian, and the scripts
# of scripts/guest/bench*.
bench_initramfs() {
	local debs=$HP_BUILD/guest-debs bstage=$HP_BUILD/initramfs/bench-root
	"$HP_ROOT/scripts/guest-debs.sh" "$debs" redis-tools sqlite3
	rm -rf "$bstage"
	# redis-server is redis-check-rdb under another name (argv[0] decides).
	stage_debian_programs "$debs" "$bstage" usr/bin/redis-check-rdb:redis-server \
		usr/bin/redis-benchmark usr/bin/redis-cli usr/bin/sqlite3
	mkdir -p "$bstage/hp/bench"
	install -m 0755 "$HP_ROOT/scripts/guest/bench-vm.sh" "$bstage/hp/"
	install -m 0644 "$HP_ROOT/scripts/guest/bench/"*.sh "$bstage/hp/bench/"
	append_stage "$bstage" "$HP_BUILD/initramfs/initramfs-bench.cpio"
}

# make check's perf boot: Debian's perf (linux-perf), unmodified, and
# scripts/guest/perf-test.sh.
perf_initramfs() {
	local debs=$HP_BUILD/guest-debs-perf pstage=$HP_BUILD/initramfs/perf-root
	"$HP_ROOT/scripts/guest-debs.sh" "$debs" linux-perf
	rm -rf "$pstage"
	stage_debian_programs "$debs" "$pstage" usr/bin/perf
	mkdir -p "$pstage/hp"
	install -m 0755 "$HP_ROOT/scripts/guest/perf-test.sh" "$pstage/hp/"
	append_stage "$pstage" "$HP_BUILD/initramfs/initramfs-perf.cpio"
}

case ${2:-} in
bench) bench_initramfs; exit 0 ;;
perf) perf_initramfs; exit 0 ;;
esac

[ -d "$kobj/usr-headers/include" ] || hp_die "no exported headers in $kobj: build the kernel first"
# busybox-static's binary; the dynamic "busybox" package would not run here.
busybox=/bin/busybox
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' ||
	hp_die "busybox-static is not installed: run scripts/host-deps.sh"

rm -rf "$stage"
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,hp/bin,hp/selftest,hp/kselftests}
cp "$busybox" "$stage/bin/busybox"
install -m 0755 "$HP_ROOT/scripts/guest/init" "$stage/init"
install -m 0755 "$HP_ROOT/scripts/guest/selftest/"* "$stage/hp/selftest/"
install -m 0755 "$HP_ROOT/scripts/guest/bench-sampling.sh" \
	"$HP_ROOT/scripts/guest/placement-demo.sh" "$HP_ROOT/scripts/guest/hotset.sh" \
	"$HP_ROOT/scripts/guest/hyperflex-test.sh" \
	"$HP_ROOT/scripts/guest/fault-inject.sh" "$HP_ROOT/scripts/guest/faults.sh" \
	"$HP_ROOT/scripts/guest/stress.sh" \
	"$HP_ROOT/scripts/guest/calibrate.sh" "$stage/hp/"
# Where HyperPlace's and the balloon's code is, for fault injection's
# stack filter (the debug kernel has fault injection).
if [ "$variant" = debug ]; then
	"$HP_ROOT/scripts/fault-ranges.sh" "$kobj" > "$stage/hp/fault-ranges" ||
		hp_die "cannot find the text of HyperPlace or the tier balloon in $kobj"
fi
# Programs the tests and benchmarks run in the guest.
for tool in memtouch pingpong; do
	ccache gcc -static -O2 -Wall -Wextra -Werror -o "$stage/hp/bin/$tool" \
		"$HP_ROOT/tools/hyperplace/$tool/$tool.c"
done
for tool in nodeof/nodeof nodefill/nodefill membind/membind \
	    pmutest/pmu-test pmutest/pebs-test pmutest/pmu-msr-test \
	    pmutest/perf-target policy/hp-policy; do
	# Against this kernel's uapi headers, as the kselftests are built.
	ccache gcc -static -O2 -Wall -Wextra -Werror \
		-isystem "$kobj/usr-headers/include" \
		-o "$stage/hp/bin/${tool#*/}" "$HP_ROOT/tools/hyperplace/$tool.c"
done
make -s -C "$HP_ROOT/tools/hyperplace/gups" OUT="$HP_BUILD/gups" CC="ccache gcc"
install -m 0755 "$HP_BUILD/gups/gups" "$stage/hp/bin/gups"

for t in "$HP_LINUX_SRC"/tools/testing/selftests/hyperplace; do
	name=$(basename "$t")
	hp_log "kselftests: $name"
	mkdir -p "$ksobj/$name"
	make -s -C "$t" OUTPUT="$ksobj/$name" CC="ccache gcc" LDFLAGS=-static \
	     KHDR_INCLUDES="-isystem $kobj/usr-headers/include" all
	make -s -C "$t" OUTPUT="$ksobj/$name" CC="ccache gcc" LDFLAGS=-static \
	     KHDR_INCLUDES="-isystem $kobj/usr-headers/include" \
	     INSTALL_PATH="$stage/hp/kselftests/$name" install >/dev/null
	cp "$t/settings" "$stage/hp/kselftests/$name/" 2>/dev/null || true
	# What kselftest itself would run (not TEST_GEN_PROGS_EXTENDED).
	make -s -C "$t" OUTPUT="$ksobj/$name" emit_tests | sed 's/.*://' \
		> "$stage/hp/kselftests/$name/run-list"
done

(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) > "$cpio_out.tmp"
mv "$cpio_out.tmp" "$cpio_out"
hp_log "$(cat "$stage"/hp/kselftests/*/run-list | wc -l) kselftest program(s) run, $(find "$stage/hp/kselftests" -type f -perm -u+x | wc -l) installed; $(du -h "$cpio_out" | cut -f1) $cpio_out"
