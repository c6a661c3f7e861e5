#!/usr/bin/env bash
# make-series.sh [--check] [--base-only] [linux] [qemu]
#
# Turn the tree into upstream-style patch series (`make series`): one for
# Linux, one for QEMU, each described by a manifest in patches/upstream/
# (format: patches/upstream/README).  For each:
#
#   1. a cached base git repository of the source we build on:
#      build/series/base-linux (Debian's linux-source-6.12 tarball, one
#      commit, tag v<kernelversion>-debian) and build/series/base-qemu
#      (Debian's QEMU source package as dpkg-source unpacks it, i.e. with
#      debian/patches applied, debian/ and .pc/ dropped; tag
#      v<version>-debian).  Rebuilt only when the Debian version changes.
#   2. scripts/series.py builds the series' commits on top of the base
#      (git plumbing, the base's worktree is never touched), checks that
#      every quilt patch and every overlay file is in the series or listed
#      as not submitted, that the last commit's tree equals the build tree
#      (build/linux, build/qemu), runs git format-patch, the tree's own
#      checkpatch.pl on every patch and get_maintainer.pl for recipients,
#      and fills the cover letter.
#
# Output: build/series/{linux,qemu}/*.patch, build/series/checkpatch.txt,
# build/series/{linux,qemu}/recipients.txt.  Fails if anything does not
# add up or checkpatch reports an error, a warning or a CHECK that
# patches/upstream/checkpatch-allow does not justify.
#
# --check: the quick mode for `make check`: TAP on stdout (one line per
# patch that it applies to the pristine base, one per patch that it is
# checkpatch-clean, one per series that its tree equals the build tree...),
# progress on stderr; exit status non-zero if any test failed.
#
# Expects build/linux prepared (make linux-src) and build/qemu unpacked
# (make qemu-src); `make series` sees to both.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=series

mode=make base_only=
kinds=()
for a in "$@"; do
	case $a in
	--check) mode=check ;;
	--base-only) base_only=1 ;;
	linux|qemu) kinds+=("$a") ;;
	*) hp_die "usage: $0 [--check] [--base-only] [linux] [qemu]" ;;
	esac
done
[ ${#kinds[@]} -gt 0 ] || kinds=(linux qemu)
# --check: stdout is for TAP only; progress (hp_log) goes to stderr.
if [ "$mode" = check ]; then exec 3>&1 1>&2; else exec 3>&1; fi

out=$HP_BUILD/series
mkdir -p "$out"
# Bump when the way a base is made changes, so that old caches are redone.
base_format=1

# Quiet, hook-free, conversion-free git for the bases.
bgit() {
	git -c core.autocrlf=false -c core.safecrlf=false -c core.hooksPath=/dev/null \
	    -c gc.auto=0 -c core.fsync=none -c core.looseCompression=1 \
	    -c advice.detachedHead=false -c init.defaultBranch=base "$@"
}

# make_base DIR TAG STAMP DESCRIPTION: DIR.tmp holds the unpacked source;
# make it a one-commit repository with a reproducible commit (fixed
# identity and date, so the base-commit of the series is the same on every
# machine) and move it to DIR.
make_base() {
	local dir=$1 tag=$2 stamp=$3 desc=$4 t0
	t0=$(date +%s)
	(
		cd "$dir.tmp"
		bgit init -q .
		bgit add -A -f .
		GIT_AUTHOR_NAME="HyperPlace series base" GIT_AUTHOR_EMAIL="base@hyperplace.invalid" \
		GIT_COMMITTER_NAME="HyperPlace series base" GIT_COMMITTER_EMAIL="base@hyperplace.invalid" \
		GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
			bgit commit -q --no-verify -m "$desc"
		bgit tag "$tag"
		# checkpatch.pl writes its CamelCase cache into the tree it runs in.
		echo '.checkpatch-camelcase.*' >> .git/info/exclude
		echo "$stamp" > .git/hyperplace-base
	)
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
	hp_log "base $(basename "$dir") ($desc) made in $(( $(date +%s) - t0 )) s, tag $tag"
}

base_ok() { # DIR STAMP
	[ "$(cat "$1/.git/hyperplace-base" 2>/dev/null)" = "$2" ]
}

ensure_base_linux() {
	[ -f "$HP_LINUX_TARBALL" ] || hp_die "$HP_LINUX_TARBALL missing: run scripts/host-deps.sh"
	local deb_ver kver dir=$out/base-linux stamp
	deb_ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	stamp="$base_format linux-source-6.12 $deb_ver"
	if ! base_ok "$dir" "$stamp"; then
		hp_log "making the Linux base: unpacking linux-source-6.12 $deb_ver (once per Debian version)"
		rm -rf "$dir.tmp" "$out/work-linux"   # series-build's worktree of the old base
		mkdir -p "$dir.tmp"
		tar -xf "$HP_LINUX_TARBALL" -C "$dir.tmp" --strip-components=1
		kver=$(make -s -C "$dir.tmp" kernelversion)
		make_base "$dir" "v$kver-debian" "$stamp" \
			"Linux $kver (Debian linux-source-6.12 $deb_ver)"
	fi
	LINUX_TAG=$(git -C "$dir" describe --tags --exact-match base 2>/dev/null || git -C "$dir" tag | head -1)
	LINUX_DESC=$(git -C "$dir" log -1 --format=%s "$LINUX_TAG")
}

ensure_base_qemu() {
	local ver dsc dir=$out/base-qemu stamp up
	ver=$(cat "$HP_QEMU_SRC/.debian-version" 2>/dev/null) ||
		hp_die "$HP_QEMU_SRC is not unpacked: run make qemu-src (scripts/build-qemu.sh --source-only)"
	up=${ver#*:}
	dsc=$HP_BUILD/dl/qemu_$up.dsc
	stamp="$base_format qemu $ver"
	if ! base_ok "$dir" "$stamp"; then
		[ -f "$dsc" ] || hp_die "$dsc missing: run make qemu-src"
		hp_log "making the QEMU base: dpkg-source -x qemu $ver (once per Debian version)"
		rm -rf "$dir.tmp"
		dpkg-source --no-check -x "$dsc" "$dir.tmp" >/dev/null
		rm -rf "$dir.tmp/debian" "$dir.tmp/.pc"
		make_base "$dir" "v${up%%+*}-debian" "$stamp" \
			"QEMU ${up%%+*} (Debian source package qemu $ver, debian/patches applied)"
	fi
	QEMU_TAG=$(git -C "$dir" tag | head -1)
	QEMU_DESC=$(git -C "$dir" log -1 --format=%s "$QEMU_TAG")
}

for k in "${kinds[@]}"; do
	case $k in
	linux) ensure_base_linux ;;
	qemu) ensure_base_qemu ;;
	esac
done
[ -z "$base_only" ] || exit 0

# Who signs the series off: the checkout's git identity.
name=$(git -C "$HP_ROOT" config user.name || true)
email=$(git -C "$HP_ROOT" config user.email || true)
if [ -z "$name" ] || [ -z "$email" ]; then
	name="HyperPlace developers" email="hyperplace@example.org"
	hp_log "WARNING: no git user.name/user.email in $HP_ROOT; signing off as $name <$email>" >&2
fi
# Commit dates: the checkout's HEAD, so that a rerun makes the same commits.
date=$(git -C "$HP_ROOT" log -1 --format=%cI 2>/dev/null || echo 2000-01-01T00:00:00Z)

args=(--identity "$name <$email>" --date "$date")
[ "$mode" = check ] && args+=(--tap)
for k in "${kinds[@]}"; do
	case $k in
	linux) args+=(--linux-base "$LINUX_TAG" --linux-base-desc "$LINUX_DESC") ;;
	qemu) args+=(--qemu-base "$QEMU_TAG" --qemu-base-desc "$QEMU_DESC") ;;
	esac
done
exec python3 -B "$HP_ROOT/scripts/series.py" "${args[@]}" "${kinds[@]}" >&3 3>&-
