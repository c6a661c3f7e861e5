#!/usr/bin/env bash
# Build the test guest's initramfs: static busybox, our init, the static
# kselftests of tools/testing/selftests/hyperplace (built with the kselftest
# lib.mk against this kernel's exported headers) and the test programs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=initramfs
variant=${1:-guest}
kobj=$HP_LINUX_OBJ-$variant
stage=$HP_BUILD/initramfs/root
cpio_out=$HP_BUILD/initramfs/initramfs.cpio
ksobj=$HP_BUILD/obj/selftests

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
	"$HP_ROOT/scripts/guest/bench-vm.sh" "$HP_ROOT/scripts/guest/hyperflex-test.sh" \
	"$HP_ROOT/scripts/guest/fault-inject.sh" "$HP_ROOT/scripts/guest/stress.sh" "$stage/hp/"
# Where HyperPlace's and the balloon's code is, for fault injection's
# stack filter (the debug kernel has fault injection).
if [ "$variant" = debug ]; then
	"$HP_ROOT/scripts/fault-ranges.sh" "$kobj" > "$stage/hp/fault-ranges" ||
		hp_die "cannot find the text of HyperPlace or the tier balloon in $kobj"
fi
# Programs the tests and benchmarks run in the guest.
ccache gcc -static -O2 -Wall -Wextra -Werror -o "$stage/hp/bin/memtouch" \
	"$HP_ROOT/tools/hyperplace/memtouch/memtouch.c"
for tool in nodeof/nodeof inject/hp-inject nodefill/nodefill; do
	ccache gcc -static -O2 -Wall -Wextra -Werror \
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
done

(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) > "$cpio_out.tmp"
mv "$cpio_out.tmp" "$cpio_out"
hp_log "$(find "$stage/hp/kselftests" -type f -perm -u+x | wc -l) kselftest program(s); $(du -h "$cpio_out" | cut -f1) $cpio_out"
