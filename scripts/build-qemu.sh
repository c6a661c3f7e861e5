#!/usr/bin/env bash
# Fetch Debian's QEMU 10.0 source package (trixie deb-src), unpack it into
# build/qemu once per Debian version, apply qemu/patches/series, lay the
# files under qemu/ (other than patches/) over it, and build
# qemu-system-x86_64 in build/obj/qemu with ccache.
#
# --source-only (make qemu-src): stop once build/qemu is the patched,
# overlaid source; configure and build nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=qemu
source_only=
case ${1:-} in
--source-only) source_only=1 ;;
"") ;;
*) hp_die "usage: $0 [--source-only]" ;;
esac

dl=$HP_BUILD/dl
mkdir -p "$dl"
stamp_ver=$(cat "$HP_QEMU_SRC/.debian-version" 2>/dev/null || true)
# The version trixie offers now; reuse what we have when apt cannot tell.
want_ver=$(apt-cache showsrc qemu 2>/dev/null | sed -n 's/^Version: \(1:10\.0\..*\)/\1/p' | sort -V | tail -1)
want_ver=${want_ver:-$stamp_ver}
[ -n "$want_ver" ] || hp_die "no QEMU 10.0 source in apt: run scripts/host-deps.sh (it adds the trixie deb-src entry)"

if [ "$stamp_ver" != "$want_ver" ]; then
	up=${want_ver#*:}
	dsc=$dl/qemu_$up.dsc
	if [ ! -f "$dsc" ]; then
		hp_log "downloading Debian source qemu $want_ver"
		(cd "$dl" && apt-get source -q --download-only "qemu=$want_ver" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
		[ -f "$dsc" ] || hp_die "apt-get source qemu=$want_ver failed"
	fi
	hp_log "unpacking qemu $want_ver into $HP_QEMU_SRC"
	rm -rf "$HP_QEMU_SRC" "$HP_QEMU_SRC.tmp" "$HP_QEMU_OBJ"
	dpkg-source --no-check -x "$dsc" "$HP_QEMU_SRC.tmp" >/dev/null
	echo "$want_ver" > "$HP_QEMU_SRC.tmp/.debian-version"
	mv "$HP_QEMU_SRC.tmp" "$HP_QEMU_SRC"
fi

HP_SERIES_BASE="QEMU $want_ver (Debian source)" HP_STEP=qemu-series \
	"$HP_ROOT/scripts/apply-series.sh" "$HP_QEMU_SRC" "$HP_ROOT/qemu/patches"
mapfile -t qdirs < <(cd "$HP_ROOT/qemu" && find . -mindepth 1 -maxdepth 1 -type d ! -name patches -printf '%P\n')
HP_OVERLAY_BASE=$HP_ROOT/qemu HP_STEP=qemu-overlay \
	"$HP_ROOT/scripts/overlay.sh" "$HP_QEMU_SRC" "${qdirs[@]}"
if [ -n "$source_only" ]; then
	hp_log "QEMU source: Debian qemu $want_ver with qemu/patches in $HP_QEMU_SRC"
	exit 0
fi

conf=(--target-list=x86_64-softmmu --without-default-features
      --enable-tcg --enable-kvm --enable-numa
      --disable-docs --disable-werror --disable-install-blobs
      --python=/usr/bin/python3 --cc="ccache gcc" --host-cc="ccache gcc"
      --cxx="ccache g++")
hp_qemu_build "$HP_QEMU_OBJ" qemu-system-x86_64 "${conf[@]}"
hp_log "$("$HP_QEMU_BIN" --version | head -1)"
