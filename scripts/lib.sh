# Shared settings for the HyperPlace build scripts.  Sourced, not run.
# shellcheck shell=bash

HP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HP_BUILD=${HP_BUILD:-$HP_ROOT/build}
HP_JOBS=${HP_JOBS:-$(nproc)}

# Kernel: Debian's linux-source-6.12, unpacked and prepared under build/.
HP_LINUX_TARBALL=/usr/src/linux-source-6.12.tar.xz
HP_LINUX_SRC=$HP_BUILD/linux
HP_LINUX_OBJ=$HP_BUILD/obj/linux

# QEMU: Debian's source package, patched and built under build/.
HP_QEMU_SRC=$HP_BUILD/qemu
HP_QEMU_OBJ=$HP_BUILD/obj/qemu
HP_QEMU_BIN=$HP_QEMU_OBJ/qemu-system-x86_64

# Repository directories laid over the kernel tree (new files only).
HP_KERNEL_OVERLAY_DIRS=(mm arch drivers include kernel virt Documentation tools)

# ccache: one cache for all checkouts of the project on this machine, with
# paths made relative to the checkout so that another clone hits it too.
export CCACHE_BASEDIR=$HP_ROOT
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-6G}
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-time_macros,include_file_mtime,include_file_ctime}

hp_log() { printf '[%s] %s\n' "${HP_STEP:-hyperplace}" "$*"; }
hp_die() { printf '[%s] ERROR: %s\n' "${HP_STEP:-hyperplace}" "$*" >&2; exit 1; }

# hp_qemu_build OBJ TARGET CONFIGURE-ARGS...: configure build/qemu into OBJ
# (again only when the arguments or the Debian version changed), then
# build TARGET there with ninja; the logs stay in OBJ.
hp_qemu_build() {
	local obj=$1 target=$2 hash
	shift 2
	hash=$(printf '%s\n' "$@" "$(cat "$HP_QEMU_SRC/.debian-version")" | sha256sum | cut -d' ' -f1)
	if [ "$(cat "$obj/.hyperplace-conf-hash" 2>/dev/null)" != "$hash" ]; then
		hp_log "configuring: $*"
		rm -rf "$obj"
		mkdir -p "$obj"
		(cd "$obj" && "$HP_QEMU_SRC/configure" "$@" > configure.log 2>&1) ||
			{ tail -30 "$obj/configure.log" >&2; hp_die "QEMU configure failed; log: $obj/configure.log"; }
		echo "$hash" > "$obj/.hyperplace-conf-hash"
	fi
	hp_log "building $target (log $obj/build.log)"
	if ! ninja -C "$obj" -j"$HP_JOBS" "$target" > "$obj/build.log" 2>&1; then
		grep -E 'error|FAILED' "$obj/build.log" | head -40 >&2
		hp_die "$target build failed; log: $obj/build.log"
	fi
}
