#!/usr/bin/env bash
# build-linux.sh [guest|debug|kcsan|hostile/NAME] [--config-only]
#
# Configure (x86_64_defconfig + configs/guest.config [+ configs/VARIANT.config])
# and build the guest bzImage in build/obj/linux-VARIANT with ccache
# (hostile/NAME: configs/hostile/NAME.config, in build/obj/linux-hostile-NAME;
# scripts/randconfig-check.sh builds them).  The
# configuration is regenerated only when a fragment changes, and every
# option a fragment asks for is checked in the result: an option that
# Kconfig silently dropped (unmet dependency, typo) fails the build.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
variant=${1:-guest}
config_only=${2:-}
HP_STEP=linux-$variant

frags=("$HP_ROOT/configs/guest.config")
case $variant in
guest) ;;
debug|kcsan) frags+=("$HP_ROOT/configs/$variant.config") ;;
hostile/*) [ -f "$HP_ROOT/configs/$variant.config" ] ||
		hp_die "no configs/$variant.config"
	frags+=("$HP_ROOT/configs/$variant.config") ;;
*) hp_die "unknown variant '$variant' (guest, debug, kcsan or hostile/NAME)" ;;
esac
obj=$HP_LINUX_OBJ-${variant//\//-}
mkdir -p "$obj"

kmake() {
	make -C "$HP_LINUX_SRC" O="$obj" -j"$HP_JOBS" CC="ccache gcc" HOSTCC="ccache gcc" \
	     KBUILD_BUILD_USER=hyperplace KBUILD_BUILD_HOST=build \
	     KBUILD_BUILD_TIMESTAMP='1970-01-01' "$@"
}

cfg_hash=$(cat "${frags[@]}" "$HP_LINUX_SRC/.debian-version" "$HP_LINUX_SRC/.hyperplace-series/applied" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$obj/.hyperplace-config-hash" 2>/dev/null)" != "$cfg_hash" ] || [ ! -f "$obj/.config" ]; then
	hp_log "configuring: x86_64_defconfig + ${frags[*]##*/}"
	kmake -s x86_64_defconfig
	(cd "$obj" && "$HP_LINUX_SRC/scripts/kconfig/merge_config.sh" -m -O "$obj" .config "${frags[@]}" >/dev/null)
	kmake -s olddefconfig
	# Every option the fragments set must have that value in the result
	# (the last fragment that sets an option decides, as in the merge).
	bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=n) opt=${line%%=*}
			grep -qx "$opt=[ym]" "$obj/.config" && { echo "  $opt: asked n, got $(grep "^$opt=" "$obj/.config")"; bad=1; } ;;
		CONFIG_*=*) grep -qxF "$line" "$obj/.config" ||
			{ echo "  ${line%%=*}: asked ${line#*=}, got $(grep -E "^(# )?${line%%=*}[= ]" "$obj/.config" || echo unset)"; bad=1; } ;;
		esac
	done < <(cat "${frags[@]}" | sed -e 's/[[:space:]]*#.*//' | grep '^CONFIG_' |
		 awk -F= '!($1 in v) { order[n++] = $1 } { v[$1] = $0 } END { for (i = 0; i < n; i++) print v[order[i]] }')
	[ $bad -eq 0 ] || hp_die "the configuration above did not come out as the fragments ask"
	echo "$cfg_hash" > "$obj/.hyperplace-config-hash"
fi

if [ "$config_only" = --config-only ]; then
	hp_log "configuration complete: every option the fragments ask for is set"
	exit 0
fi
hp_log "building bzImage (Linux $(kmake -s kernelversion), Debian $(cat "$HP_LINUX_SRC/.debian-version"))"
log=$obj/build.log
if ! kmake bzImage > "$log" 2>&1; then
	grep -E 'error|Error|\*\*\*' "$log" | head -40 >&2
	hp_die "kernel build failed; full log: $log"
fi
grep -E 'warning:' "$log" | head -20 || true
hp_log "headers for the selftests"
kmake -s headers_install INSTALL_HDR_PATH="$obj/usr-headers" >/dev/null
ls -l "$obj/arch/x86/boot/bzImage" | awk '{print "['"$HP_STEP"'] bzImage: " $5 " bytes"}'
