#!/usr/bin/env bash
# apply-series.sh TREE PATCHDIR
#
# Bring TREE to "pristine + the patches named in PATCHDIR/series", touching
# as few files as possible so that incremental builds stay incremental.
# The patches applied last time are kept in TREE/.hyperplace-series/; the
# longest unchanged prefix of the series stays, everything after it is
# reversed (from the saved copies) and the rest applied in order.  A patch
# that does not apply stops the build, names the patch, and leaves the
# tree as it was before that patch.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HP_STEP=${HP_STEP:-series}

tree=$1 pdir=$2
state=$tree/.hyperplace-series
mkdir -p "$state"
touch "$state/applied"

mapfile -t want < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$pdir/series" 2>/dev/null | grep -v '^$' || true)
mapfile -t have < "$state/applied"

for p in "${want[@]}"; do
	[ -f "$pdir/$p" ] || hp_die "series names $p but $pdir/$p does not exist"
done

keep=0
while [ $keep -lt ${#want[@]} ] && [ $keep -lt ${#have[@]} ] &&
      [ "${want[$keep]}" = "${have[$keep]}" ] &&
      cmp -s "$pdir/${want[$keep]}" "$state/$keep.patch"; do
	keep=$((keep + 1))
done

for ((i = ${#have[@]} - 1; i >= keep; i--)); do
	hp_log "reverting ${have[$i]}"
	patch -d "$tree" -p1 -R -s --batch --no-backup-if-mismatch < "$state/$i.patch" ||
		hp_die "cannot revert ${have[$i]}: $tree is not what the saved series says; remove it and rebuild (make distclean-src)"
	rm -f "$state/$i.patch"
	printf '%s\n' "${have[@]:0:$i}" | grep -v '^$' > "$state/applied" || : > "$state/applied"
done

for ((i = keep; i < ${#want[@]}; i++)); do
	p=${want[$i]}
	if ! out=$(patch -d "$tree" -p1 -N --dry-run --batch < "$pdir/$p" 2>&1); then
		printf '%s\n' "$out" >&2
		hp_die "patch $p does not apply to $(basename "$tree") (${HP_SERIES_BASE:-pristine + earlier patches})"
	fi
	hp_log "applying $p"
	patch -d "$tree" -p1 -N -s --batch --no-backup-if-mismatch < "$pdir/$p"
	cp "$pdir/$p" "$state/$i.patch"
	echo "$p" >> "$state/applied"
done
hp_log "$(wc -l < "$state/applied") patch(es) applied from $pdir/series"
