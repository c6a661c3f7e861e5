#!/usr/bin/env bash
# Host-side tests of the build and test machinery itself: the patch series
# mechanism, the overlay, the result parser and the command archive.  TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scripts=$(dirname "$here")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
# Both keep the output of the command in $tmp/out for the checks after them
# (a check that only reads $tmp/out leaves it as it was).
run() { "$@" >"$tmp/cur" 2>&1; local rc=$?; case " $* " in *" $tmp/out "*) ;; *) cp "$tmp/cur" "$tmp/out" ;; esac; return $rc; }
check() { local name=$1; shift; if run "$@"; then ok "$name"; else not_ok "$name"; sed 's/^/# /' "$tmp/cur"; fi; }
check_fails() { local name=$1; shift; if run "$@"; then not_ok "$name (succeeded)"; sed 's/^/# /' "$tmp/cur"; else ok "$name"; fi; }

echo "TAP version 13"

# --- apply-series.sh -------------------------------------------------------
mk_tree() {
	rm -rf "$tmp/tree" "$tmp/p"
	mkdir -p "$tmp/tree" "$tmp/p"
	printf 'one\ntwo\nthree\n' > "$tmp/tree/a.txt"
	printf 'alpha\nbeta\n' > "$tmp/tree/b.txt"
}
mk_patch() { # FILE OLD NEW > patch
	local f=$1 old=$2 new=$3
	mkdir -p "$tmp/x/a" "$tmp/x/b"
	cp "$tmp/tree/$f" "$tmp/x/a/$f"
	sed "s/^$old\$/$new/" "$tmp/tree/$f" > "$tmp/x/b/$f"
	(cd "$tmp/x" && diff -u "a/$f" "b/$f")
	rm -rf "$tmp/x"
}
mk_tree
mk_patch a.txt two TWO > "$tmp/p/0001-a.patch"
mk_patch b.txt beta BETA > "$tmp/p/0002-b.patch"
printf '0001-a.patch\n# a comment\n0002-b.patch\n' > "$tmp/p/series"
check "series: applies in order" "$scripts/apply-series.sh" "$tmp/tree" "$tmp/p"
check "series: tree has both changes" grep -qx TWO "$tmp/tree/a.txt"
check "series: second patch applied" grep -qx BETA "$tmp/tree/b.txt"
touch -d '2000-01-01' "$tmp/tree/a.txt" "$tmp/tree/b.txt"
check "series: rerun with nothing changed" "$scripts/apply-series.sh" "$tmp/tree" "$tmp/p"
check "series: rerun touches no file" test -z "$(find "$tmp/tree" -name '*.txt' -newermt '2001-01-01')"
# Change the second patch: only b.txt is reverted and re-patched.
(cd "$tmp" && sed -i 's/^+BETA$/+Beta/' p/0002-b.patch)
check "series: changed patch re-applied" "$scripts/apply-series.sh" "$tmp/tree" "$tmp/p"
check "series: new content of changed patch" grep -qx Beta "$tmp/tree/b.txt"
check "series: untouched earlier patch stays untouched" test -z "$(find "$tmp/tree" -name a.txt -newermt '2001-01-01')"
# A patch that does not apply fails loudly, names itself, changes nothing.
printf -- '--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-zwei\n+ZWEI\n three\n' > "$tmp/p/0003-bad.patch"
echo 0003-bad.patch >> "$tmp/p/series"
cp -a "$tmp/tree" "$tmp/tree.before"
check_fails "series: broken patch fails the build" "$scripts/apply-series.sh" "$tmp/tree" "$tmp/p"
check "series: error names the broken patch" grep -q '0003-bad.patch does not apply' "$tmp/out"
check "series: broken patch leaves the tree unchanged" diff -r -x .hyperplace-series "$tmp/tree.before" "$tmp/tree"
echo missing.patch > "$tmp/p/series"
check_fails "series: missing patch file is an error" "$scripts/apply-series.sh" "$tmp/tree" "$tmp/p"
# Removing everything from the series restores the pristine tree.
: > "$tmp/p/series"
check "series: empty series reverts all" "$scripts/apply-series.sh" "$tmp/tree" "$tmp/p"
check "series: pristine again" grep -qx two "$tmp/tree/a.txt"

# --- overlay.sh -------------------------------------------------------------
mk_tree
mkdir -p "$tmp/repo/sub"
echo new > "$tmp/repo/sub/new.c"
check "overlay: links new files" env HP_OVERLAY_BASE="$tmp/repo" "$scripts/overlay.sh" "$tmp/tree" sub
check "overlay: link points at the checkout" test "$(readlink "$tmp/tree/sub/new.c")" = "$tmp/repo/sub/new.c"
rm "$tmp/repo/sub/new.c"
echo x > "$tmp/repo/sub/other.c"
check "overlay: rerun after a removal" env HP_OVERLAY_BASE="$tmp/repo" "$scripts/overlay.sh" "$tmp/tree" sub
check "overlay: stale link removed" test ! -e "$tmp/tree/sub/new.c" -a ! -L "$tmp/tree/sub/new.c"
echo upstream > "$tmp/tree/sub/up.c"
echo ours > "$tmp/repo/sub/up.c"
check_fails "overlay: refuses to hide an upstream file" env HP_OVERLAY_BASE="$tmp/repo" "$scripts/overlay.sh" "$tmp/tree" sub
check "overlay: error says to use a patch" grep -q 'through a patch' "$tmp/out"

# --- results.py -------------------------------------------------------------
r() { python3 "$scripts/results.py" "$@"; }
cat > "$tmp/good.tap" <<'T'
TAP version 13
1..2
# selftests: hyperplace: topology_test
    TAP version 13
    1..2
    ok 1 topo.a
    ok 2 topo.b # SKIP no balloon
ok 1 selftests: hyperplace: topology_test
ok 2 plain
T
check "results: passing run exits 0" r --tap g="$tmp/good.tap"
check "results: counts leaves only" grep -qx 'RESULT passed=2 failed=0 skipped=1' "$tmp/out"
sed 's/^    ok 1 topo.a/    not ok 1 topo.a/; s/^ok 1 selftests/not ok 1 selftests/' "$tmp/good.tap" > "$tmp/fail.tap"
check_fails "results: failed subtest fails the run" r --tap f="$tmp/fail.tap"
check "results: failed subtest named" grep -q '^FAIL f: topo.a' "$tmp/out"
sed 's/^ok 1 selftests.*/not ok 1 selftests: hyperplace: topology_test # exit=139/' "$tmp/good.tap" > "$tmp/crash.tap"
check_fails "results: program failing after passing subtests fails" r --tap c="$tmp/crash.tap"
sed '/topo.b/d' "$tmp/good.tap" > "$tmp/short.tap"
check_fails "results: missing result against the plan fails" r --tap s="$tmp/short.tap"
check "results: missing result reported" grep -q '1 of 2 planned' "$tmp/out"
printf 'ok 1 - a\nok 2 - b\n1..2\n' > "$tmp/trail.tap"
check "results: trailing plan accepted" r --tap t="$tmp/trail.tap"
printf 'ok 1 - a\nok 2 - b\n1..3\n' > "$tmp/trail.tap"
check_fails "results: trailing plan with a missing result fails" r --tap t="$tmp/trail.tap"
: > "$tmp/empty.tap"
check_fails "results: no results at all fails" r --tap e="$tmp/empty.tap"
cat > "$tmp/console.log" <<'T'
[    1.000000] KTAP version 1
[    1.000001] 1..1
[    1.000002]     KTAP version 1
[    1.000003]     # Subtest: hyperplace_demo
[    1.000004]     1..1
[    1.000005]     ok 1 demo_case
[    1.000006] ok 1 hyperplace_demo
T
check "results: KUnit from a console log" r --console "$tmp/console.log" --kunit hyperplace_demo
check "results: KUnit case counted" grep -q '^PASS kunit: hyperplace_demo: demo_case' "$tmp/out"
check_fails "results: missing KUnit suite fails" r --console "$tmp/console.log" --kunit hyperplace_other
for splat in 'WARNING: CPU: 0 PID: 1 at mm/x.c:1 f+0x0/0x10' 'BUG: KASAN: slab-use-after-free in f' \
	     'Kernel panic - not syncing: x' 'Oops: 0000 [#1] SMP' 'UBSAN: shift-out-of-bounds in x' \
	     'WARNING: possible circular locking dependency detected'; do
	{ cat "$tmp/console.log"; echo "[    2.000000] $splat"; } > "$tmp/splat.log"
	check_fails "results: splat '${splat%% *}...' fails the run" r --console "$tmp/splat.log"
done

{ cat "$tmp/console.log"; echo "[    2.000000] unreferenced object 0xffff888003e4c000 (size 64):"; } > "$tmp/splat.log"
check_fails "results: a kmemleak report fails the run" r --console "$tmp/splat.log"
{ cat "$tmp/console.log"; echo "[    2.000000] kmemleak: Kernel memory leak detector disabled"; } > "$tmp/kmemleak-off.log"
check_fails "results: kmemleak turning itself off fails the run" r --alloc-failures-ok --console "$tmp/kmemleak-off.log"
{ cat "$tmp/console.log"; printf '[    2.0] sh: vmalloc error: size 24576, vm_struct allocation failed\n[    2.1] CPU: 1 UID: 0 PID: 128 Comm: sh\n[    2.2] Call Trace:\n'; } > "$tmp/alloc.log"
check_fails "results: an allocation-failure report is a splat by default" r --console "$tmp/alloc.log"
check "results: ... but not with --alloc-failures-ok" r --alloc-failures-ok --console "$tmp/alloc.log"
check_fails "results: --alloc-failures-ok still fails on a real splat" r --alloc-failures-ok --console "$tmp/splat.log"
{ cat "$tmp/console.log"; printf '[    2.0] ------------[ cut here ]------------\n[    2.1] hyperplace: deliberate warning\n[    2.2] WARNING: CPU: 0 PID: 1 at mm/hyperplace/debug.c:45 selftest_warn_write+0x6b/0x80\n'; } > "$tmp/warn.log"
check_fails "results: a WARN fails the run" r --console "$tmp/warn.log"
check "results: ... and the failure names the warning after its cut-here line" \
	grep -q 'splat at .*cut here.* WARNING: CPU: 0 PID: 1 at mm/hyperplace/debug.c:45' "$tmp/out"
# KCSAN: a report fails unless configs/kcsan-known-races-style lists it
kcsan() { # kcsan TITLE ORIGIN-LINE: a console with one KCSAN report
	cat "$tmp/console.log"
	printf '[    3.0] ==================================================================\n'
	printf '[    3.1] BUG: KCSAN: data-race in %s\n[    3.2] \n[    3.3] %s\n' "$1" "$2"
	printf '[    3.4]  f+0x1/0x2\n[    3.5] \n[    3.6] value changed: 0x00c5 -> 0x00c6\n'
	printf '[    3.65] Reported by Kernel Concurrency Sanitizer on:\n'
	printf '[    3.7] ==================================================================\n'
}
printf '# why\nvq_get unknown-origin\nhp_a / hp_b\n' > "$tmp/known"
kcsan 'vq_get+0x24e/0x530' 'race at unknown origin, with read to 0xff of 2 bytes by task 141 on cpu 1:' > "$tmp/kcsan.log"
check_fails "results: a KCSAN report fails the run" r --console "$tmp/kcsan.log"
check "results: ... but not one --known-races lists" r --console "$tmp/kcsan.log" --known-races "$tmp/known"
check "results: ... and it is noted" grep -q 'note: .*a known race.*vq_get' "$tmp/out"
{ cat "$tmp/kcsan.log"; echo "[    4.0] BUG: KASAN: slab-use-after-free in f"; } > "$tmp/kcsan2.log"
check_fails "results: a splat after a known race still fails" r --console "$tmp/kcsan2.log" --known-races "$tmp/known"
kcsan 'vq_get+0x24e/0x530' 'race at unknown origin, with read to 0xff of 2 bytes by task 141 on cpu 1:' |
	sed '/value changed/a [    3.65] WARNING: CPU: 0 PID: 1 at mm/x.c:1 f+0x0/0x10' > "$tmp/kcsan2.log"
check_fails "results: a warning printed inside a known race's report fails" r --console "$tmp/kcsan2.log" --known-races "$tmp/known"
kcsan 'vq_get+0x24e/0x530' 'race at unknown origin, with read to 0xff of 2 bytes by task 141 on cpu 1:' |
	sed '/value changed/,$d' > "$tmp/kcsan2.log"
check_fails "results: a known race whose report does not end fails" r --console "$tmp/kcsan2.log" --known-races "$tmp/known"
{ kcsan 'vq_get+0x24e/0x530' 'race at unknown origin, with read to 0xff of 2 bytes by task 141 on cpu 1:' |
	sed '/value changed/,$d'; kcsan 'vq_get+0x24e/0x530' 'race at unknown origin' | sed -n '/=====/,$p'; } > "$tmp/kcsan2.log"
check_fails "results: a known race cut short by the next report fails" r --console "$tmp/kcsan2.log" --known-races "$tmp/known"
kcsan 'vq_get.isra.0+0x24e/0x530' 'race at unknown origin, with read to 0xff of 2 bytes by task 141 on cpu 1:' > "$tmp/kcsan2.log"
check "results: a compiler clone's suffix is not part of the name" r --console "$tmp/kcsan2.log" --known-races "$tmp/known"
printf 'hp_e\n' > "$tmp/known2"
kcsan 'hp_e / hp_e' 'write to 0xff of 8 bytes by task 1 on cpu 0:' > "$tmp/kcsan2.log"
check_fails "results: a one-function entry does not excuse a race of that function with itself" r --console "$tmp/kcsan2.log" --known-races "$tmp/known2"
kcsan 'vq_get / hp_c' 'write to 0xff of 8 bytes by task 1 on cpu 0:' > "$tmp/kcsan.log"
check_fails "results: a known unknown-origin race seen with a writer fails" r --console "$tmp/kcsan.log" --known-races "$tmp/known"
kcsan 'vq_get' 'write to 0xff of 8 bytes by task 1 on cpu 0:' > "$tmp/kcsan.log"
check_fails "results: an unknown-origin entry needs an unknown origin" r --console "$tmp/kcsan.log" --known-races "$tmp/known"
kcsan 'hp_b / hp_a' 'write to 0xff of 8 bytes by task 1 on cpu 0:' > "$tmp/kcsan.log"
check "results: a listed two-sided race in either order" r --console "$tmp/kcsan.log" --known-races "$tmp/known"
kcsan 'hp_a / hp_d' 'write to 0xff of 8 bytes by task 1 on cpu 0:' > "$tmp/kcsan.log"
check_fails "results: a race of other functions fails" r --console "$tmp/kcsan.log" --known-races "$tmp/known"
for bad in 'a / b / c' 'a b' 'a / b unknown-origin' 'a/b'; do
	echo "$bad" > "$tmp/bad-known"
	check_fails "results: a known-races line '$bad' is refused" r --console "$tmp/kcsan.log" --known-races "$tmp/bad-known"
done
printf 'TAP version 13\nok 1 - a\nok 2 - b\n' > "$tmp/noplan.tap"
check_fails "results: a stream without a plan fails" r --tap n="$tmp/noplan.tap"
check "results: ... and says so" grep -q 'n: top level: 2 results and no plan' "$tmp/out"
sed '/^    1\.\.2$/d' "$tmp/good.tap" > "$tmp/noplan2.tap"
check_fails "results: a subtest block without a plan fails" r --tap n="$tmp/noplan2.tap"
check "results: ... naming the block" grep -q 'no plan' "$tmp/out"
check "results: SKIP is a skip by default" r --tap g="$tmp/good.tap"
check_fails "results: --no-skip makes a SKIP fail" r --no-skip --tap g="$tmp/good.tap"
check "results: ... named as a skip" grep -q '^FAIL g: topo.b (SKIP' "$tmp/out"
printf 'ok 1 - a\nok 2 - b\n1..2\n' > "$tmp/trail.tap"
check "results: per-source counts" r --tap g="$tmp/good.tap" --tap t="$tmp/trail.tap"
check "results: ... one SOURCE line per source" \
	bash -c "grep -qx 'SOURCE g passed=2 failed=0 skipped=1' '$tmp/out' && grep -q '^SOURCE t passed=2 ' '$tmp/out'"
check "results: --splats does not count KUnit again" r --tap t="$tmp/trail.tap" --splats "$tmp/console.log"
check "results: ... only the TAP is counted" grep -qx 'RESULT passed=2 failed=0 skipped=0' "$tmp/out"
check_fails "results: --splats still finds a splat" r --tap t="$tmp/trail.tap" --splats "$tmp/splat.log"
printf '# expected\ng 3\nt 2\n' > "$tmp/expect"
printf 'g 3\nt 2\n' > "$tmp/counts"
check "results: counts as expected pass" r --expect "$tmp/expect" --counts "$tmp/counts"
printf 'g 2\nt 2\n' > "$tmp/counts"
check_fails "results: a source with fewer results fails" r --expect "$tmp/expect" --counts "$tmp/counts"
check "results: ... saying tests were lost" grep -q 'g: 2 results, 3 expected: tests were lost' "$tmp/out"
printf 't 2\n' > "$tmp/counts"
check_fails "results: a missing source fails" r --expect "$tmp/expect" --counts "$tmp/counts"
printf 'g 4\nt 2\n' > "$tmp/counts"
check_fails "results: more results than expected asks for an update" r --expect "$tmp/expect" --counts "$tmp/counts"
printf 'g three\n' > "$tmp/counts"
check_fails "results: a malformed counts file fails" r --expect "$tmp/expect" --counts "$tmp/counts"

# --- vm.py command archive ---------------------------------------------------
check "vm: command archive is a valid newc cpio" bash -c "
	python3 -c 'import sys; sys.path.insert(0, \"$scripts\"); import vm
sys.stdout.buffer.write(vm.cpio_newc({\"hp\": (0o40755, b\"\"), \"hp/cmd\": (0o100644, b\"echo hi\\n\")}))' > '$tmp/c.cpio' &&
	cd '$tmp' && mkdir -p x && cd x && cpio -id --quiet < ../c.cpio && test \"\$(cat hp/cmd)\" = 'echo hi'"

# --- vm.py --pebs --------------------------------------------------------------
mk_pebs_root() { # DIR CPUFLAGS [ADAPTIVE_PEBS]
	mkdir -p "$1/proc" "$1/sys/module/kvm_intel/parameters"
	printf 'processor\t: 0\nflags\t\t: fpu %s\n' "$2" > "$1/proc/cpuinfo"
	[ -z "${3:-}" ] || echo "$3" > "$1/sys/module/kvm_intel/parameters/adaptive_pebs"
}
vmcmd() { "$scripts/vm.py" --qemu /bin/true --kernel /bin/true --initrd /bin/true \
	--logdir "$tmp/vmlog" --print-cmd "$@"; }
mk_pebs_root "$tmp/icx" "vmx pebs" Y
mk_pebs_root "$tmp/nopebs" "vmx" Y
mk_pebs_root "$tmp/stock" "vmx pebs"
HP_ACCEL=kvm HP_SYSROOT=$tmp/icx check "vm: --pebs on a KVM host with PEBS" vmcmd --pebs
check "vm: ... uses -cpu host,migratable=off,pmu=on" grep -q -- '-cpu host,migratable=off,pmu=on ' "$tmp/out"
HP_ACCEL=kvm HP_PEBS=1 HP_SYSROOT=$tmp/icx check "vm: HP_PEBS=1 (make PEBS=1) means --pebs" vmcmd
check "vm: ... and gives the PEBS CPU" grep -q -- 'migratable=off,pmu=on' "$tmp/out"
HP_ACCEL=kvm HP_PEBS=0 check "vm: without --pebs, KVM gets plain -cpu host" vmcmd
check "vm: ... -cpu host" grep -q -- '-cpu host -' "$tmp/out"
HP_ACCEL=tcg check "vm: --pebs under TCG is QEMU's emulated PEBS" vmcmd --pebs
check "vm: ... on the CPU with the emulated PMU" grep -q -- '-cpu Icelake-Server-v4,pmu=on,x-tcg-pmu=on ' "$tmp/out"
HP_ACCEL=tcg check_fails "vm: --pebs --no-tcg-pmu under TCG is refused" vmcmd --pebs --no-tcg-pmu
check "vm: ... with a message naming --no-tcg-pmu" grep -q 'emulated PEBS, which --no-tcg-pmu turns off' "$tmp/out"
HP_ACCEL=kvm HP_SYSROOT=$tmp/nopebs check_fails "vm: --pebs on a CPU without PEBS is refused" vmcmd --pebs
check "vm: ... naming the missing flag" grep -q "no PEBS ('pebs' missing" "$tmp/out"
HP_ACCEL=kvm HP_SYSROOT=$tmp/stock check "vm: --pebs on a stock host kernel warns and goes on" vmcmd --pebs
check "vm: ... the warning names the missing parameter" grep -q 'adaptive_pebs.*without data addresses' "$tmp/out"

# --- vm.py: the slow tier (x-access-delay-ns) -----------------------------------
HP_ACCEL=tcg check "vm: under TCG node 1 is made slower by default" vmcmd
check "vm: ... with a delay on node 1's backend" grep -q -- 'id=m1,size=[^ ]*,x-access-delay-ns=[1-9]' "$tmp/out"
check_fails "vm: ... and none on node 0's" grep -q -- 'id=m0,[^ ]*x-access-delay' "$tmp/out"
HP_ACCEL=tcg HP_SLOW_DELAY=0 check "vm: HP_SLOW_DELAY=0 turns the slow tier off" vmcmd
check_fails "vm: ... no delay anywhere" grep -q -- 'x-access-delay' "$tmp/out"
HP_ACCEL=kvm check "vm: under KVM the host's memory decides" vmcmd
check_fails "vm: ... no delay is set" grep -q -- 'x-access-delay' "$tmp/out"
HP_ACCEL=tcg HP_SLOW_DELAY=fast check_fails "vm: a bad HP_SLOW_DELAY is refused" vmcmd
check "vm: ... with a message" grep -q 'not a number of ns' "$tmp/out"
HP_ACCEL=tcg check "vm: under TCG the emulated PMU is the default" vmcmd
check "vm: ... -cpu Icelake-Server-v4 with x-tcg-pmu" grep -q -- '-cpu Icelake-Server-v4,pmu=on,x-tcg-pmu=on ' "$tmp/out"
check "vm: ... booted with mitigations=off (TCG does not speculate)" grep -q -- '-append [^ ]* .*mitigations=off' "$tmp/out"
HP_ACCEL=tcg check "vm: --no-tcg-pmu under TCG" vmcmd --no-tcg-pmu
check "vm: ... gives -cpu max" grep -q -- '-cpu max ' "$tmp/out"
HP_ACCEL=tcg HP_TCG_PMU=0 check "vm: HP_TCG_PMU=0 means --no-tcg-pmu" vmcmd
check "vm: ... -cpu max too" grep -q -- '-cpu max ' "$tmp/out"
HP_ACCEL=tcg check "vm: --tcg-pmu under TCG" vmcmd --tcg-pmu
check "vm: ... gives the CPU with QEMU's emulated PMU" grep -q -- '-cpu Icelake-Server-v4,pmu=on,x-tcg-pmu=on ' "$tmp/out"
HP_ACCEL=kvm check_fails "vm: --tcg-pmu under KVM is refused" vmcmd --tcg-pmu
HP_ACCEL=tcg HP_SLOW_DELAY=-5 check_fails "vm: a negative HP_SLOW_DELAY is refused" vmcmd
HP_ACCEL=tcg HP_SLOW_DELAY=1234 check "vm: HP_SLOW_DELAY sets node 1's delay" vmcmd
check "vm: ... to that many ns" grep -q -- 'id=m1,size=[^ ]*,x-access-delay-ns=1234[, ]' "$tmp/out"

# --- series.py (make series): manifest and completeness checks, on a toy tree --
st=$tmp/series
mkdir -p "$st/repo/patches/linux" "$st/repo/patches/upstream" "$st/repo/mm/toy" "$st/base"
printf 'one\ntwo\nthree\n' > "$st/base/a.txt"
printf 'alpha\nbeta\n' > "$st/base/b.txt"
printf 'List of maintainers\n\nMaintainers List\n\nAAA ENTRY\nM:\tA <a@example.org>\nS:\tMaintained\nF:\ta.txt\n\nZZZ ENTRY\nM:\tZ <z@example.org>\nS:\tMaintained\nF:\tb.txt\n' > "$st/base/MAINTAINERS"
git -C "$st/base" init -q . && git -C "$st/base" add -A &&
	git -C "$st/base" -c user.name=t -c user.email=t@example.org commit -qm base && git -C "$st/base" tag base
cp -r "$st/base" "$st/build" && rm -rf "$st/build/.git"
mk_toy_patch() { # FILE OLD NEW
	mkdir -p "$st/x/a" "$st/x/b"
	cp "$st/base/$1" "$st/x/a/$1"
	sed "s/^$2\$/$3/" "$st/base/$1" > "$st/x/b/$1"
	(cd "$st/x" && diff -u "a/$1" "b/$1")
	rm -rf "$st/x"
}
{ printf 'From: t <t@example.org>\nSubject: [PATCH] toy: change a and b\n\nWhy a and b change.\n\n---\n'
  mk_toy_patch a.txt two TWO; mk_toy_patch b.txt beta BETA; } > "$st/repo/patches/linux/0001-toy.patch"
echo 0001-toy.patch > "$st/repo/patches/linux/series"
echo 'int toy;' > "$st/repo/mm/toy/toy.c"
echo 'int tool;' > "$st/repo/mm/toy/tool.c"
echo 'The toy file.' > "$st/repo/patches/upstream/toy.txt"
cat > "$st/repo/patches/upstream/t.series" <<'T'
tree linux
cover cover.txt
not-submitted mm/toy/tool.c: a tool, not kernel code
[@quilt]
body quilt
quilt 0001-toy.patch
[toy: add the toy]
body toy.txt
add mm/toy/toy.c
maintainers-new MMM TOY ENTRY
	M: @signoff
	S: Maintained
maintainers MMM TOY ENTRY: mm/toy/toy.c
T
cp "$st/repo/patches/upstream/t.series" "$st/t.series.good"
"$scripts/apply-series.sh" "$st/build" "$st/repo/patches/linux" >/dev/null 2>&1
HP_OVERLAY_BASE=$st/repo "$scripts/overlay.sh" "$st/build" mm >/dev/null 2>&1
cat > "$st/cfg.json" <<T
{"linux": {"root": "$st/repo", "manifest": "$st/repo/patches/upstream/t.series",
  "upstream_dir": "$st/repo/patches/upstream", "quilt_dir": "$st/repo/patches/linux",
  "overlay_base": "$st/repo", "overlay_dirs": ["mm"], "build_tree": "$st/build",
  "base_git": "$st/base", "out": "$st/out"}}
T
ser() { python3 -B "$scripts/series.py" --config "$st/cfg.json" --linux-base base \
	--identity 'T Tester <t@example.org>' "$@" linux; }
check "make-series: toy manifest lints" ser --lint
check "make-series: toy series built, its tree equals the build tree" ser --no-format
check "make-series: two commits, subject taken from the quilt patch" \
	test "$(git -C "$st/base" log --format=%s base..series | tr '\n' '|')" = "toy: add the toy|toy: change a and b|"
check "make-series: quilt body and sign-off in the commit message" \
	bash -c "git -C '$st/base' log -1 --format=%B series~1 | grep -qx 'Why a and b change.' &&
		 git -C '$st/base' log -1 --format=%B series | grep -qx 'Signed-off-by: T Tester <t@example.org>'"
check "make-series: new MAINTAINERS entry placed between its neighbours" \
	bash -c "git -C '$st/base' show series:MAINTAINERS | grep -A5 '^AAA' | grep -q '^MMM TOY ENTRY'"
echo 'int extra;' > "$st/repo/mm/toy/extra.c"
check_fails "make-series: an overlay file in no patch fails" ser --lint
check "make-series: ... and is named" grep -q 'mm/toy/extra.c: neither in the series nor listed as not submitted' "$tmp/out"
rm "$st/repo/mm/toy/extra.c"
sed -i 's/^quilt 0001-toy.patch$/quilt 0001-toy.patch a.txt/' "$st/repo/patches/upstream/t.series"
check_fails "make-series: a quilt change in no patch fails" ser --lint
check "make-series: ... naming the patch and the file" grep -q '0001-toy.patch: its change to b.txt is in no patch' "$tmp/out"
cp "$st/t.series.good" "$st/repo/patches/upstream/t.series"
sed -i 's/^add mm\/toy\/toy.c$/add mm\/toy\/toy.c\nadd mm\/toy\/tool.c/' "$st/repo/patches/upstream/t.series"
check_fails "make-series: a file both submitted and not fails" ser --lint
check "make-series: ... and is named" grep -q 'mm/toy/tool.c: in the series and listed as not submitted' "$tmp/out"
printf 'tree linux\n[x]\nbody toy.txt\nadd\nfrobnicate mm/toy/toy.c\n' > "$st/repo/patches/upstream/t.series"
check_fails "make-series: manifest syntax errors fail" ser --lint
check "make-series: ... with file and line" grep -q 't.series:5: unknown directive "frobnicate"' "$tmp/out"
check "make-series: ... every error reported" grep -q 't.series:4: add GLOB' "$tmp/out"
cp "$st/t.series.good" "$st/repo/patches/upstream/t.series"
echo changed >> "$st/build/b.txt"
check_fails "make-series: a build tree that differs fails" ser --no-format
check "make-series: ... naming the file" grep -q 'b.txt: differs between the series and the build tree' "$tmp/out"
sed -i '$d' "$st/build/b.txt"
sed -i '1a X-Note: changed' "$st/repo/patches/linux/0001-toy.patch"
check_fails "make-series: a quilt patch changed since the build tree was prepared fails" ser --no-format
check "make-series: ... saying the build tree is not current" grep -q 'is not current (changed since applied: 0001-toy.patch)' "$tmp/out"

# --- abi-sysfs-check.sh: the ABI file against the guest's sysfs listing ------
ab=$tmp/abi
mkdir -p "$ab"
printf 'What:\t\t/sys/kernel/mm/toy/\nDescription:\tdir\n\nWhat:\t\t/sys/kernel/mm/toy/a\nWhat:\t\t/sys/kernel/mm/toy/b\nDescription:\tfiles\n' > "$ab/abi"
printf 'HP-READY 6.12\r\nHP-SYSFS /sys/kernel/mm/toy/\r\nHP-SYSFS /sys/kernel/mm/toy/a\nHP-SYSFS /sys/kernel/mm/toy/b\nok 1 - x\n' > "$ab/out"
check "abi-sysfs: listing and What: lines agree" "$scripts/abi-sysfs-check.sh" "$ab/out" "$ab/abi"
grep -v 'toy/b' "$ab/out" > "$ab/out-less"
check_fails "abi-sysfs: a What: for a file the kernel lacks fails" "$scripts/abi-sysfs-check.sh" "$ab/out-less" "$ab/abi"
check "abi-sysfs: ... naming it as extra" grep -q 'extra: .*What: /sys/kernel/mm/toy/b' "$tmp/out"
printf 'HP-SYSFS /sys/kernel/mm/toy/c\n' >> "$ab/out"
check_fails "abi-sysfs: an undocumented file fails" "$scripts/abi-sysfs-check.sh" "$ab/out" "$ab/abi"
check "abi-sysfs: ... naming it as missing" grep -q 'missing: the kernel has /sys/kernel/mm/toy/c' "$tmp/out"
check_fails "abi-sysfs: no listing in the guest output fails" "$scripts/abi-sysfs-check.sh" "$ab/abi" "$ab/abi"
check "abi-sysfs: ... saying so" grep -q 'listed no file' "$tmp/out"

echo "1..$n"
exit $((failed > 0))
