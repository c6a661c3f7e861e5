#!/usr/bin/env bash
# series-build.sh [FIRST]  (`make series-build`)
#
# Build every commit of the Linux upstream series in turn, as a maintainer
# bisecting it would: each commit must build on its own.  The series is
# refs/heads/series of build/series/base-linux (`make series` makes it);
# FIRST (a number, 1 = the first patch) starts later, e.g. to resume after
# fixing a failure.
#
# - source: a git worktree of the base repository, build/series/work-linux,
#   checked out at each commit in turn (only the files a commit changes
#   are touched, so each build after the first is incremental);
# - objects: build/obj/series-linux;
# - configuration: the guest kernel's (build/obj/linux-guest/.config, made
#   with `scripts/build-linux.sh guest --config-only` if missing), copied
#   before every commit and completed with olddefconfig, so a commit that
#   lacks some HyperPlace option simply builds without it;
# - ccache, -j$HP_JOBS (default 2 here);
# - a log per commit: build/series/build-linux/NN-<subject>.log.
#
# Stops at the first commit that does not build, naming it and its log.
# Compiler warnings in files the series adds or changes are listed after
# each commit (they do not stop the run).  Takes long: the first commit is
# a full kernel build (from ccache if the guest kernel was built before).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=series-build
HP_JOBS=${HP_JOBS_SERIES:-2}

first=${1:-1}
[[ $first =~ ^[1-9][0-9]*$ ]] || hp_die "usage: $0 [FIRST-PATCH-NUMBER]"
base=$HP_BUILD/series/base-linux
work=$HP_BUILD/series/work-linux
obj=$HP_BUILD/obj/series-linux
logs=$HP_BUILD/series/build-linux
guest_config=$HP_BUILD/obj/linux-guest/.config

git -C "$base" rev-parse -q --verify refs/heads/series >/dev/null ||
	hp_die "no series in $base: run make series first"
tag=$(git -C "$base" tag | head -1)
mapfile -t commits < <(git -C "$base" rev-list --reverse "$tag..refs/heads/series")
[ ${#commits[@]} -gt 0 ] || hp_die "the series is empty"
[ "$first" -le ${#commits[@]} ] || hp_die "the series has ${#commits[@]} commits, not $first"

if [ ! -f "$guest_config" ]; then
	hp_log "no guest kernel configuration yet: making it (configuration only)"
	"$HP_ROOT/scripts/build-linux.sh" guest --config-only
fi

# (Re)create the worktree when missing, or left from a base made before.
if ! git -C "$work" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	hp_log "creating the worktree $work (once per base)"
	rm -rf "$work"
	git -C "$base" worktree prune
	git -c core.hooksPath=/dev/null -C "$base" worktree add -q --detach "$work" "$tag"
fi
mkdir -p "$obj" "$logs"
rm -f "$logs"/*.log

kmake() {
	make -C "$work" O="$obj" -j"$HP_JOBS" CC="ccache gcc" HOSTCC="ccache gcc" \
	     KBUILD_BUILD_USER=hyperplace KBUILD_BUILD_HOST=build \
	     KBUILD_BUILD_TIMESTAMP='1970-01-01' "$@"
}

n=${#commits[@]}
t_all=$(date +%s)
for ((i = first - 1; i < n; i++)); do
	c=${commits[$i]}
	num=$(printf '%02d' $((i + 1)))
	subj=$(git -C "$base" log -1 --format=%s "$c")
	slug=$(printf '%s' "$subj" | tr -c 'A-Za-z0-9' '-' | tr -s '-' | cut -c1-50 | sed 's/-$//')
	log=$logs/$num-$slug.log
	hp_log "$num/$n $subj"
	t0=$(date +%s)
	git -c core.hooksPath=/dev/null -C "$work" checkout -q --detach --force "$c"
	cp "$guest_config" "$obj/.config"
	if ! { kmake olddefconfig && kmake all; } > "$log" 2>&1; then
		grep -E 'error:|Error [0-9]|\*\*\*|undefined reference' "$log" | head -30 >&2
		hp_die "patch $num/$n ($(git -C "$base" log -1 --format=%h "$c") \"$subj\") does not build; log: $log"
	fi
	# Warnings in the files this series touches, up to and including this commit.
	mapfile -t touched < <(git -C "$base" diff --name-only "$tag" "$c" | grep -vx MAINTAINERS)
	if [ ${#touched[@]} -gt 0 ]; then
		grep -F -f <(printf '%s:\n' "${touched[@]}") "$log" | grep -E 'warning:' | sort -u | sed 's/^/  /' || true
	fi
	hp_log "$num/$n built in $(( $(date +%s) - t0 )) s; log: $log"
done
hp_log "all $n commits of the series build ($(( $(date +%s) - t_all )) s); worktree at the last one: $work"
