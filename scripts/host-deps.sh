#!/usr/bin/env bash
# Install what HyperPlace needs on a Debian 12 (bookworm) host, and nothing more.
#
# Idempotent: when every package is already installed it does not touch apt,
# so a second `make check` pays nothing here.  Apt sources it adds:
#   - bookworm-backports (binary): meson >= 1.5 for QEMU 10.0, taken explicitly;
#     backports are NotAutomatic, so nothing else is upgraded from them.
#   - trixie (deb-src only): Debian's QEMU 10.0 source package.  No binary
#     trixie entry is added, and a pin keeps any trixie binary out anyway.
set -euo pipefail

# Package groups, by what needs them.
kernel_pkgs=(build-essential bc bison flex libelf-dev libssl-dev cpio ccache
	     xz-utils kmod busybox-static linux-source-6.12 python3 rsync sparse)
qemu_pkgs=(ninja-build pkg-config libglib2.0-dev libpixman-1-dev libslirp-dev
	   libnuma-dev libfdt-dev zlib1g-dev dpkg-dev python3-venv seabios qemu-system-data
	   ipxe-qemu)
bench_pkgs=(gnuplot-nox)
# scripts/docs-check.sh: the kernel's Sphinx setup (alabaster theme, bundled
# with Sphinx); graphviz because kfigure warns at start-up without dot(1).
docs_pkgs=(python3-sphinx graphviz)
# make fuzz: clang-14 and its libFuzzer runtime.
fuzz_pkgs=(clang libclang-rt-14-dev)
backport_pkgs=(meson)

sources=/etc/apt/sources.list.d/hyperplace.sources
pin=/etc/apt/preferences.d/hyperplace-trixie

sudo_() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${kernel_pkgs[@]}" "${qemu_pkgs[@]}" "${bench_pkgs[@]}" "${docs_pkgs[@]}" \
	 "${fuzz_pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing+=("$p")
done
meson_ok=0
if command -v /usr/bin/meson >/dev/null &&
   dpkg --compare-versions "$(dpkg-query -W -f='${Version}' meson 2>/dev/null)" ge 1.5; then
	meson_ok=1
fi

if [ ! -f "$sources" ] || [ ! -f "$pin" ]; then
	echo "host-deps: adding apt sources (bookworm-backports, trixie deb-src) and trixie pin"
	sudo_ tee "$sources" >/dev/null <<'SRC'
# Added by HyperPlace scripts/host-deps.sh
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	sudo_ tee "$pin" >/dev/null <<'PIN'
# Added by HyperPlace scripts/host-deps.sh: only QEMU's *source* comes from
# trixie; never install or upgrade a binary package from it.
Package: *
Pin: release n=trixie
Pin-Priority: -10
PIN
	need_update=1
else
	need_update=0
fi

if [ ${#missing[@]} -eq 0 ] && [ $meson_ok -eq 1 ] && [ $need_update -eq 0 ]; then
	echo "host-deps: all host packages present"
	exit 0
fi

# The trixie source index is needed later by fetch-qemu.sh, so update whenever
# we install anything at all.
echo "host-deps: apt-get update"
sudo_ apt-get update -q
if [ ${#missing[@]} -gt 0 ]; then
	echo "host-deps: installing ${missing[*]}"
	sudo_ apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ $meson_ok -eq 0 ]; then
	echo "host-deps: installing meson from bookworm-backports"
	sudo_ apt-get install -y -q --no-install-recommends -t bookworm-backports "${backport_pkgs[@]}"
fi
echo "host-deps: done"
