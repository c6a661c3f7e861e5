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
