#!/usr/bin/env bash
# overlay.sh TREE DIR...
#
# Symlink every file of the repository's DIRs (relative to $HP_OVERLAY_BASE,
# the checkout's top by default) into TREE at the same path,
# so that the kernel (or QEMU) build sees the project's new files in place
# and an edit in the checkout is picked up by the next incremental build.
# The overlay only adds files: one that would hide an upstream file is an
# error (edits to upstream files belong in the patch series).  Links that
# a previous run made for files since removed from the repository are
# removed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=${HP_STEP:-overlay}

tree=$1
shift
manifest=$tree/.hyperplace-overlay
new=$(mktemp)
trap 'rm -f "$new"' EXIT

base=${HP_OVERLAY_BASE:-$HP_ROOT}
(cd "$base" && for d in "$@"; do if [ -d "$d" ]; then find "$d" -type f; fi; done) | sort > "$new"

while read -r f; do
	dst=$tree/$f
	if [ -e "$dst" ] && [ ! -L "$dst" ]; then
		hp_die "$f exists upstream; change it through a patch in the series, not the overlay"
	fi
	if [ "$(readlink "$dst" 2>/dev/null)" != "$base/$f" ]; then
		mkdir -p "$(dirname "$dst")"
		ln -sfn "$base/$f" "$dst"
	fi
done < "$new"

if [ -f "$manifest" ]; then
	comm -23 <(sort "$manifest") "$new" | while read -r f; do
		[ -L "$tree/$f" ] && rm -f "$tree/$f" && hp_log "removed stale link $f"
	done
fi
mv "$new" "$manifest"
trap - EXIT
hp_log "$(wc -l < "$manifest") project file(s) laid over $(basename "$tree")"
