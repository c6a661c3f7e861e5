#!/usr/bin/env bash
# guest-debs.sh ROOT PKG...: unpack Debian packages PKG, and the library
# packages they depend on, into ROOT for the benchmark guest.  Nothing is
# installed on the host and no service starts: the .debs are fetched with
# `apt-get download` into build/dl/NAME, NAME being ROOT's, and unpacked
# with `dpkg-deb -x`.  Each ROOT has its own download directory, since
# each run removes the .debs its own set no longer needs.
#
# The package set is worked out from apt's metadata at each run, so a new
# version (a bookworm point release, a changed library soname) is fetched
# and unpacked on its own; when nothing changed this costs a few apt-cache
# calls.  Only dependencies in section "libs" are followed: the programs
# need their shared libraries, not adduser, init scripts or debconf.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=guest-debs
[ $# -ge 2 ] || hp_die "usage: guest-debs.sh ROOT PKG..."
root=$1
shift
dl=$HP_BUILD/dl/$(basename "$root")
mkdir -p "$dl"

sudo_() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Direct Depends/PreDepends of the packages given, one name a line.  A
# virtual package (<name>) or an alternative's other choices are skipped:
# the first real choice is what a bookworm system installs.
depends() {
	apt-cache depends --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "$@" |
		awk '/^  \|?(Pre)?Depends: [^<]/ { print $2 }' | sed 's/:any$//'
}

# Of the packages given, those in section "libs" (libc6, zlib1g, ...).
libs_only() {
	[ $# -gt 0 ] || return 0
	apt-cache show --no-all-versions "$@" |
		awk '/^Package:/ { p = $2 } /^Section: libs$/ { print p }'
}

# The packages and their library closure, breadth first.
closure() {
	local want=("$@") seen=" " next p
	while [ ${#want[@]} -gt 0 ]; do
		for p in "${want[@]}"; do seen+="$p "; done
		next=()
		for p in $(depends "${want[@]}" | sort -u); do
			case $seen in *" $p "*) continue ;; esac
			next+=("$p")
		done
		mapfile -t want < <(libs_only "${next[@]+"${next[@]}"}")
	done
	echo "$seen"
}

# The .deb file name apt-get download gives each package's candidate.
deb_names() {
	apt-cache show --no-all-versions "$@" | awk '
		/^Package:/ { p = $2 } /^Version:/ { v = $2 }
		/^Architecture:/ { a = $2 }
		/^$/ && p { gsub(/:/, "%3a", v); print p "_" v "_" a ".deb"; p = "" }
		END { if (p) { gsub(/:/, "%3a", v); print p "_" v "_" a ".deb" } }'
}

# The .debs to have, in debs[].  apt-cache takes about a second a call
# here, so the list is kept in $plan until the package index, the request
# or this script changes.  An index that lacks a package (a fresh machine
# whose lists were removed) is refreshed once.
plan=$dl/.plan
make_plan() {
	local key
	key="$* $(cat "$0" - < <(ls -l --time-style=+%s /var/lib/apt/lists/*_Packages* 2>/dev/null) | md5sum)"
	if [ "$(head -1 "$plan" 2>/dev/null)" != "$key" ]; then
		if ! apt-cache show "$@" >/dev/null 2>&1; then
			hp_log "apt-get update (the package lists lack one of: $*)"
			sudo_ apt-get update -q >/dev/null
			apt-cache show "$@" >/dev/null 2>&1 || hp_die "not in apt: $*"
			key="$* $(cat "$0" - < <(ls -l --time-style=+%s /var/lib/apt/lists/*_Packages*) | md5sum)"
		fi
		# shellcheck disable=SC2046
		{ echo "$key"; deb_names $(closure "$@"); } > "$plan.tmp"
		mv "$plan.tmp" "$plan"
	fi
	mapfile -t debs < <(tail -n +2 "$plan")
}

# Fetch the .debs not yet in $dl; returns non-zero if apt-get failed.
fetch() {
	local d missing=()
	for d in "${debs[@]}"; do
		[ -s "$dl/$d" ] || missing+=("${d%%_*}")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	hp_log "downloading ${missing[*]}"
	(cd "$dl" && apt-get download -q "${missing[@]}" >/dev/null 2>&1)
}

make_plan "$@"
if ! fetch; then
	# A stale index names versions the mirror no longer has.
	hp_log "apt-get update (a download failed)"
	sudo_ apt-get update -q >/dev/null
	make_plan "$@"
	fetch || hp_die "apt-get download failed; try: cd $dl && apt-get download ${debs[*]%%_*}"
fi
# Older versions are no longer needed.
for f in "$dl"/*.deb; do
	case " ${debs[*]} " in *" ${f##*/} "*) ;; *) rm -f "$f" ;; esac
done

# Unpack again only when the set of .debs changed.
stamp=$root/.debs
if [ "$(cat "$stamp" 2>/dev/null)" != "${debs[*]}" ]; then
	rm -rf "$root"
	mkdir -p "$root"
	for d in "${debs[@]}"; do
		[ -s "$dl/$d" ] || hp_die "apt-get download did not give $d"
		dpkg-deb -x "$dl/$d" "$root"
	done
	echo "${debs[*]}" > "$stamp"
	hp_log "unpacked ${#debs[@]} package(s) into $root"
fi
