#!/usr/bin/env bash
# Unpack Debian's linux-source-6.12 into build/linux (once per Debian
# version), apply patches/linux/series and lay the project's files over it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=linux-src

[ -f "$HP_LINUX_TARBALL" ] || hp_die "$HP_LINUX_TARBALL missing: run scripts/host-deps.sh"
deb_ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)

if [ "$(cat "$HP_LINUX_SRC/.debian-version" 2>/dev/null)" != "$deb_ver" ]; then
	hp_log "unpacking linux-source-6.12 $deb_ver into $HP_LINUX_SRC"
	rm -rf "$HP_LINUX_SRC" "$HP_LINUX_SRC.tmp"
	mkdir -p "$HP_LINUX_SRC.tmp"
	tar -xf "$HP_LINUX_TARBALL" -C "$HP_LINUX_SRC.tmp" --strip-components=1
	echo "$deb_ver" > "$HP_LINUX_SRC.tmp/.debian-version"
	mv "$HP_LINUX_SRC.tmp" "$HP_LINUX_SRC"
fi

kver=$(make -s -C "$HP_LINUX_SRC" kernelversion)
HP_SERIES_BASE="Linux $kver (Debian linux-source-6.12 $deb_ver)" \
	HP_STEP=linux-series "$HP_ROOT/scripts/apply-series.sh" "$HP_LINUX_SRC" "$HP_ROOT/patches/linux"
HP_STEP=linux-overlay "$HP_ROOT/scripts/overlay.sh" "$HP_LINUX_SRC" "${HP_KERNEL_OVERLAY_DIRS[@]}"
hp_log "kernel source: Linux $kver from Debian linux-source-6.12 $deb_ver"
