#!/usr/bin/env bash
# Build qemu-fuzz-x86_64, QEMU's libFuzzer binary (tests/qtest/fuzz), from
# the patched source in build/qemu with clang, ASan and UBSan, in
# build/obj/qemu-fuzz.  The regular QEMU build is left alone: this one is
# instrumented and several times slower.  A first build compiles about
# 1600 files; ccache makes later ones incremental.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=qemu-fuzz

obj=$HP_BUILD/obj/qemu-fuzz
"$HP_ROOT/scripts/build-qemu.sh" --source-only
command -v clang >/dev/null || hp_die "clang missing: run scripts/host-deps.sh"

# The devices the fuzz targets need, nothing else: no KVM, no tools.
conf=(--target-list=x86_64-softmmu --without-default-features
      --enable-tcg --enable-numa --enable-fuzzing --enable-asan --enable-ubsan
      --disable-docs --disable-werror --disable-install-blobs
      --python=/usr/bin/python3 --cc="ccache clang" --host-cc="ccache clang"
      --cxx="ccache clang++")
hp_qemu_build "$obj" qemu-fuzz-x86_64 "${conf[@]}"

# Debian's source has no firmware blobs and the fuzz binary takes no -L:
# link Debian's where a binary run from the build tree looks for them.
fw=$obj/qemu-bundle/usr/local/share/qemu
mkdir -p "$fw"
for f in /usr/share/seabios/*.bin /usr/share/qemu/*.bin /usr/share/qemu/*.rom \
	 /usr/lib/ipxe/qemu/*.rom; do
	[ -e "$f" ] && [ ! -e "$fw/${f##*/}" ] && ln -s "$f" "$fw/"
done
hp_log "built $obj/qemu-fuzz-x86_64"
