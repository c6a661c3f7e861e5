# HyperPlace build driver.  Every target installs what it needs on a fresh
# Debian 12 machine (scripts/host-deps.sh) and builds incrementally under
# build/ (git-ignored) with ccache.  `make help` lists the targets.

SHELL := /bin/bash
S := scripts
VARIANT ?= guest
BENCH_SECS ?= 60
BENCH_SWEEP ?= 1
BENCH_WORKLOADS ?= gups redis sqlite
BENCH_MECHS ?= allfast allslow none hyperplace-abit hyperplace-pebs tpp damon
BENCH_ROUNDS ?= 3
# PEBS=1: guests get the host's PEBS (KVM only; see HARDWARE.md).
PEBS ?= 0
export HP_PEBS := $(PEBS)

.PHONY: all deps linux-src kernel debug-kernel qemu initramfs check unit vm run \
	bench-sim bench-sampling bench-vm bench-hyperflex calibrate docs qemu-src series series-build kvm-unit-tests \
	check-debug check-kcsan randconfig-check fuzz fuzz-range fuzz-balloon-tiers clean distclean help

all: kernel qemu initramfs ## build the guest kernel, QEMU and the initramfs

deps: ## install the Debian packages and apt sources the project needs
	@$(S)/host-deps.sh

linux-src: deps ## unpack linux-source-6.12, apply patches/linux, overlay our files
	@$(S)/prepare-linux.sh

kernel: linux-src ## build the guest bzImage (VARIANT=guest|debug|kcsan)
	@$(S)/build-linux.sh $(VARIANT)

debug-kernel: linux-src ## the debug variant (KASAN, lockdep, DEBUG_VM)
	@$(S)/build-linux.sh debug

qemu: deps ## build qemu-system-x86_64 from Debian's 10.0 source + qemu/patches
	@$(S)/build-qemu.sh

qemu-src: deps ## fetch and unpack Debian's QEMU 10.0 source, apply qemu/patches, overlay qemu/
	@$(S)/build-qemu.sh --source-only

initramfs: kernel ## busybox + init + static kselftests
	@$(S)/mkinitramfs.sh $(VARIANT)

check: ## everything: build, unit tests, guest tests, runner self-tests (VARIANT=debug|kcsan: on that kernel)
	@HP_VARIANT=$(VARIANT) $(S)/check.sh

kvm-unit-tests: qemu ## upstream's x86/pmu and x86/pmu_pebs under TCG on the emulated PMU (KUT=a kvm-unit-tests checkout)
	@$(S)/kvm-unit-tests.sh "$(KUT)"

check-debug: ## make check on the debug kernel (KASAN, lockdep, kmemleak, ...) plus fault injection and stress
	@HP_VARIANT=debug $(S)/check.sh

check-kcsan: ## make check on the KCSAN kernel (data races) plus stress
	@HP_VARIANT=kcsan $(S)/check.sh

randconfig-check: linux-src ## build the kernel under configs/hostile/*.config (no THP, no memcg, ...), sparse each; HOSTILE=names
	@$(S)/randconfig-check.sh $(HOSTILE)

unit: linux-src ## userspace and host-side tests, no VM (ASan+UBSan harness)
	@$(S)/unit.sh $(CURDIR)/build/unit-results; rc=$$?; \
	 $(S)/results.py $$(for t in build/unit-results/*.tap; do n=$${t##*/}; echo --tap $${n%.tap}=$$t; done) \
	   | tail -1 | sed -e 's/RESULT passed=\([0-9]*\) failed=\([0-9]*\) skipped=\([0-9]*\)/\1 passed, \2 failed, \3 skipped/'; \
	 exit $$rc

vm: all ## boot the two-tier guest; CMD='...' runs one command and exits with its status
	@if [ -n "$$CMD" ]; then $(S)/vm.py --variant $(VARIANT) --mode cmd --cmd "$$CMD" --timeout 600; \
	 else $(S)/vm.py --variant $(VARIANT) --mode shell; fi

run: all ## the main job: boot the two-tier guest and show its tiers and HyperPlace
	@$(S)/demo.sh

bench-sim: linux-src ## trace-replay simulator: every policy on every workload (TSV + PNG)
	@$(MAKE) -s -C tools/hyperplace OUT=$(CURDIR)/build/sim KSRC=$(CURDIR)/build/linux bench-sim

fuzz: fuzz-range fuzz-balloon-tiers ## every fuzzer in turn on one core, FUZZ_SECS=60 seconds each (FUZZ_RUNS=N: or N inputs)

# FUZZ_SECS and FUZZ_RUNS reach the sub-make from the command line through MAKEFLAGS.
fuzz-range: linux-src ## libFuzzer on the range classifier (crashes: build/unit/fuzz-range/)
	@$(MAKE) -s -C tools/testing/hyperplace OUT=$(CURDIR)/build/unit KSRC=$(CURDIR)/build/linux fuzz

# The first run builds an ASan QEMU for fuzzing (about 1600 files).
fuzz-balloon-tiers: deps ## libFuzzer on QEMU's virtio-balloon tier queues, FUZZ_JOBS=N processes (crashes: build/fuzz/balloon-tiers/)
	@$(S)/fuzz-balloon-tiers.sh

bench-sampling: all ## in the guest: PEBS consumer ns/record; each source's samples/s and CPU; the cost to GUPS (TSV)
	@mkdir -p build/bench
	@$(S)/vm.py --variant $(VARIANT) --mode cmd --timeout 900 \
	   --cmd /hp/bench-sampling.sh > build/bench/sampling.tsv
	@$(S)/bench-sampling-host.sh build/bench/sampling.tsv

# The guest's hard limit allows for 40 runs of set-up plus BENCH_SECS.
bench-vm: all ## in the guest: GUPS, redis, sqlite3 under allfast/allslow/none/HyperPlace/TPP/DAMON, peers swept (TSV + PNG)
	@$(S)/mkinitramfs.sh $(VARIANT) bench
	@mkdir -p build/bench
	@$(S)/vm.py --variant $(VARIANT) --mode cmd --initrd build/initramfs/initramfs-bench.cpio \
	   --timeout $$((1800 + 40 * ($(BENCH_SECS) + 100))) \
	   --cmd "BENCH_SWEEP=$(BENCH_SWEEP) BENCH_WORKLOADS='$(BENCH_WORKLOADS)' BENCH_MECHS='$(BENCH_MECHS)' /hp/bench-vm.sh $(BENCH_SECS)" \
	   > build/bench/vm-raw.tsv
	@$(S)/bench-vm-host.sh build/bench/vm-raw.tsv

calibrate: all ## TCG: how much slower node 1 is than node 0 (GUPS on each); DELAYS='NS...' tries delays
	@$(S)/calibrate.sh $(DELAYS)

bench-hyperflex: all ## time taking 1 GiB from the fast node: HyperFlex vs the stock balloon vs virtio-mem (TSV + PNG)
	@mkdir -p build/bench
	@$(S)/hyperflex-test.py --variant $(VARIANT) --logdir build/bench/hyperflex-vm \
	   --bench build/bench/hyperflex.tsv --rounds $(BENCH_ROUNDS)
	@$(S)/bench-hyperflex-host.sh build/bench/hyperflex.tsv

docs: linux-src ## build the HyperPlace documents and ABI file with the kernel's Sphinx setup (warnings are errors)
	@$(S)/docs-check.sh

series: linux-src qemu-src ## upstream patch series for Linux and QEMU, checkpatch'ed (build/series/)
	@$(S)/make-series.sh

series-build: series ## build every commit of the Linux series in turn (long)
	@$(S)/series-build.sh

clean: ## remove build products, keep sources, downloads and ccache
	rm -rf build/obj build/initramfs build/guest-debs build/guest-debs-perf build/check build/vm build/unit build/unit-results build/sim build/docs

distclean: clean ## also remove the unpacked kernel and QEMU trees and downloads
	rm -rf build

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16
