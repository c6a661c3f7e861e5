#!/usr/bin/python3
"""HyperFlex tests, host side.

Boots the two-tier guest running scripts/guest/hyperflex-test.sh and drives
it: at each "HF-STEP NAME key=value..." the guest prints, this resizes the
tiers over QMP, checks what the host sees (QMP replies and events, the QEMU
process's resident memory per memory backend) and what the guest measured,
then answers "go NAME" on the hp.ctl port.  Writes the results as TAP.

  hyperflex-test.py --logdir DIR --tap FILE [--plain | --faults]
  hyperflex-test.py --logdir DIR --bench TSV [--rounds N] [--mechs LIST]
  hyperflex-test.py --logdir DIR --demo

--plain boots an old machine type (pc-i440fx-9.2: the feature is off by the
compat tables) and checks that the stock balloon behaves as before.
--faults (the debug kernel) shrinks the fast tier while the guest's balloon
allocations fail at random, and checks that it gets there, reports the
failures in its statistics, and that the data the guest holds is intact.
--bench times taking 1 GiB from a 2 GiB fast node with HyperFlex (command
to event) and the stock balloon (command until query-balloon shows it), in
turns, then boots the same layout with the fast node made of 1 GiB of boot
memory and a 1 GiB virtio-mem device and times virtio-mem (command until
its size reads 0).  virtio-mem needs its own boot: a tier balloon may only
take the memory the host gave the tier's backend, and on a node shared
with virtio-mem the guest could not tell the two apart.  Writes one TSV
row per run.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools", "hyperplace", "hyperflex"))
from qmp import QMP  # noqa: E402

MIB = 1 << 20
FAST_MIB, SLOW_MIB = 1024, 2048
EVENT_TIMEOUT = 180
STEP = re.compile(r"^HF-STEP (\S+)(.*)$")


class Results:
    def __init__(self):
        self.items = []

    def check(self, name, ok, diag=""):
        self.items.append((name, bool(ok), diag))
        print("%s %s %s" % ("ok" if ok else "FAIL", name, diag), flush=True)
        return ok

    def write(self, path):
        with open(path, "w") as f:
            f.write("TAP version 13\n1..%d\n" % len(self.items))
            for i, (name, ok, diag) in enumerate(self.items, 1):
                if diag:
                    f.write("# %s\n" % diag)
                f.write("%s %d %s\n" % ("ok" if ok else "not ok", i, name))


def backend_rss_kib(pid, size_mib):
    """Resident KiB of the QEMU mapping that backs a memory backend of
    size_mib (the backends differ in size, so the size tells them apart)."""
    want = size_mib * 1024
    best = None
    size = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            if line.startswith("Size:"):
                size = int(line.split()[1])
            elif line.startswith("Rss:") and size is not None:
                rss = int(line.split()[1])
                if want <= size <= want + 4096:
                    best = rss if best is None else max(best, rss)
                size = None
    if best is None:
        raise RuntimeError("no mapping of %d MiB in QEMU %d" % (size_mib, pid))
    return best


class Driver:
    def __init__(self, a, mechs=()):
        self.a = a
        self.mechs = mechs
        self.r = Results()
        self.qmp = None
        self.ctl = None
        self.pid = None
        self.base = {}
        self.rss = {}
        self.rejected = None
        self.sizes = {"fast": FAST_MIB, "slow": SLOW_MIB}
        self.rows = []
        if a.bench:
            self.sizes["fast"] = 2048
        elif a.variant == "debug":
            # The debug kernel keeps about 400 MiB more on node 0 (KASAN's
            # shadow among it): with 1 GiB there, the steps that shrink the
            # fast tier by 512 MiB run out of free pages.  Not 2 GiB: the
            # backends' sizes must differ (backend_rss_kib).
            self.sizes["fast"] = 1536
        self.fast, self.slow = self.sizes["fast"], self.sizes["slow"]
        self.nodes = {"fast": 0, "slow": 1}

    # -- QMP helpers ---------------------------------------------------
    def tiers(self):
        r = self.qmp.cmd("query-balloon-tiers")
        return {t["tier"]: t for t in r["return"]["tiers"]}, r["return"]

    def set(self, **mib):
        """Set tier sizes (MiB kept); return the reply and the events that
        arrived before it."""
        self.qmp.events.clear()
        r = self.qmp.cmd("balloon-tiers", **{k: v * MIB for k, v in mib.items()})
        before = list(self.qmp.events)
        return r, before

    def wait(self, tier, status="settled"):
        return self.qmp.wait_event(
            "BALLOON_TIER_CHANGE",
            lambda e: e["data"]["tier"] == tier and e["data"]["status"] == status,
            EVENT_TIMEOUT)

    def resize(self, name, stop=True, **mib):
        """Set tiers, check the command did not wait for the guest (with
        @stop), wait for each tier's event and check the host's accounting."""
        if not stop:
            r, before = self.set(**mib)
            self.r.check("%s_command_accepted" % name, "return" in r, json.dumps(r))
            self.await_tiers(name, mib)
            return
        # With the vCPUs stopped the guest can do nothing, so a command that
        # waited for it would never return: it must return at once, the new
        # targets taken and nothing moved yet.
        self.qmp.cmd("stop")
        try:
            t0, _ = self.tiers()
            r, before = self.set(**mib)
            t1, _ = self.tiers()
        finally:
            self.qmp.cmd("cont")
        self.r.check("%s_command_accepted" % name, "return" in r, json.dumps(r))
        self.r.check("%s_returns_before_completion" % name,
                     all(t1[x]["target"] == want * MIB and t1[x]["status"] == "moving" and
                         t1[x]["actual"] == t0[x]["actual"] for x, want in mib.items()) and
                     not [e for e in before if e.get("event") == "BALLOON_TIER_CHANGE" and
                          e["data"]["status"] == "settled"],
                     "with the guest stopped: %s; events: %s" %
                     (json.dumps({x: t1[x] for x in mib}), json.dumps(before)))
        self.await_tiers(name, mib)

    def await_tiers(self, name, mib):
        """Wait for each tier's settled event; check both counts of it."""
        for tier in mib:
            ev = self.wait(tier)
            self.r.check("%s_%s_event" % (name, tier), ev is not None,
                         json.dumps(ev) if ev else "no settled event in %d s" % EVENT_TIMEOUT)
        # The guest writes its own count after the host has seen the
        # pages: give it a moment to catch up.
        for _ in range(300):
            t, _ = self.tiers()
            if all(t[x]["guest-actual"] == t[x]["actual"] for x in mib):
                break
            time.sleep(0.1)
        for tier, want in mib.items():
            self.r.check("%s_%s_actual" % (name, tier),
                         t[tier]["actual"] == want * MIB and
                         t[tier]["guest-actual"] == want * MIB,
                         "want %d MiB: %s" % (want, json.dumps(t[tier])))

    # -- steps -----------------------------------------------------------
    def step_begin(self, f):
        self.base = {"fast": int(f["node0"]), "slow": int(f["node1"])}
        t, _ = self.tiers()
        for tier in ("fast", "slow"):
            x = t.get(tier, {})
            self.r.check("query_%s_tier" % tier,
                         x.get("node") == self.nodes[tier] and
                         x.get("size") == self.sizes[tier] * MIB and
                         x.get("target") == x.get("size") and
                         x.get("actual") == x.get("size") and
                         x.get("status") == "settled", json.dumps(x))
        bad = [("no_tier_given", {}, "Specify"),
               ("zero", {"fast": 0}, "0"),
               ("larger_than_tier", {"fast": (self.fast + 4) * MIB}, "larger"),
               ("slow_larger_than_tier", {"slow": (self.slow + 1) * MIB}, "larger")]
        # Negative, non-numeric and unknown arguments are refused by QAPI's
        # input visitor, before our code runs: not our tests.
        for name, args, says in bad:
            r = self.qmp.cmd("balloon-tiers", **args)
            err = r.get("error", {}).get("desc", "")
            self.r.check("error_" + name, says in err, json.dumps(r))
        t2, _ = self.tiers()
        self.r.check("errors_change_nothing",
                     all(t2[x]["target"] == t[x]["target"] for x in t),
                     json.dumps(t2))

    def shrink(self, tier, f, mib):
        self.base[tier] = int(f["node"])
        self.rss[tier] = backend_rss_kib(self.pid, self.sizes[tier])
        self.resize("shrink_" + tier, **{tier: self.sizes[tier] - mib})
        after = backend_rss_kib(self.pid, self.sizes[tier])
        drop = (self.rss[tier] - after) // 1024
        self.r.check("shrink_%s_host_rss_drops" % tier,
                     0.8 * mib <= drop <= 1.2 * mib,
                     "%s backend RSS %d -> %d MiB (drop %d, want about %d)" %
                     (tier, self.rss[tier] // 1024, after // 1024, drop, mib))
        self.rss[tier] = after

    def grow(self, tier, f, mib):
        node = int(f["node"])
        self.r.check("shrink_%s_guest_total_drops" % tier,
                     node == self.base[tier] - mib * 1024,
                     "node MemTotal %d -> %d kB, want -%d MiB" %
                     (self.base[tier], node, mib))
        self.resize("grow_" + tier, **{tier: self.sizes[tier]})

    def refilled(self, tier, f, mib):
        self.r.check("grow_%s_guest_total_back" % tier,
                     int(f["node"]) == self.base[tier],
                     "node MemTotal %s kB, want %d" % (f["node"], self.base[tier]))
        # The guest wrote all its free memory but `untouched` MiB, which
        # may all be returned memory: at least the rest must be resident.
        rss = backend_rss_kib(self.pid, self.sizes[tier])
        want = mib - int(f["untouched"])
        self.r.check("grow_%s_host_rss_back_when_used" % tier,
                     (rss - self.rss[tier]) // 1024 >= 0.8 * want,
                     "%s backend RSS %d -> %d MiB after the guest used it "
                     "again, want %d MiB more" %
                     (tier, self.rss[tier] // 1024, rss // 1024, int(0.8 * want)))

    def check_totals(self, name, f, fast_mib=0, slow_mib=0):
        """Both nodes' MemTotal, as the guest reported them, are the
        baseline less the given MiB."""
        self.r.check(name, int(f["node0"]) == self.base["fast"] - fast_mib * 1024 and
                     int(f["node1"]) == self.base["slow"] - slow_mib * 1024,
                     json.dumps(f))

    def step_shrink_both(self, f):
        self.base = {"fast": int(f["node0"]), "slow": int(f["node1"])}
        self.resize("shrink_both", fast=self.fast - 256, slow=self.slow - 512)

    def step_grow_both(self, f):
        self.check_totals("shrink_both_guest_totals", f, 256, 512)
        self.resize("grow_both", fast=self.fast, slow=self.slow)

    def step_grown_both(self, f):
        self.check_totals("grow_both_guest_totals", f)

    def step_gups_shrink(self, f):
        self.gups = f
        self.resize("gups_shrink", fast=self.fast - 256)

    def step_gups_grow(self, f):
        g = self.gups
        self.r.check("gups_shrink_guest_total_drops",
                     int(f["node"]) == int(g["node"]) - 256 * 1024, json.dumps(f))
        self.r.check("gups_hot_set_stays_on_fast_node", float(f["hot"]) >= 90,
                     "hot set on node 0: %s%% before the shrink, %s%% after" %
                     (g["hot"], f["hot"]))
        self.r.check("gups_shrink_demotes_cold_pages",
                     int(f["demoted"]) > int(g["demoted"]),
                     "pgdemote_hyperplace %s -> %s" % (g["demoted"], f["demoted"]))
        self.r.check("gups_checksum_after_shrink", f["verify"] == "1", json.dumps(f))
        self.resize("gups_grow", fast=self.fast)

    def step_hostile_begin(self, f):
        self.resize("hostile_setup", fast=self.fast - 256)
        self.rejected = self.tiers()[1]["rejected"]

    def step_hostile_done(self, f):
        t, info = self.tiers()
        rej = info["rejected"]
        d = {k: rej[k] - self.rejected[k] for k in rej}
        for key, least in (("outside-tier", 2), ("duplicate", 1),
                           ("not-ballooned", 1), ("malformed", 1),
                           ("throttled", 1)):
            self.r.check("hostile_counts_" + key.replace("-", "_"),
                         d.get(key, 0) >= least, "rejected: %s" % json.dumps(d))
        st = self.qmp.cmd("query-status")
        self.r.check("hostile_qemu_still_running",
                     st.get("return", {}).get("status") == "running", json.dumps(st))
        self.r.check("hostile_host_accounting_unchanged",
                     t["fast"]["actual"] == (self.fast - 256) * MIB and
                     t["slow"]["actual"] == self.slow * MIB, json.dumps(t))
        self.r.check("hostile_guest_data_intact_fast_node", f.get("fast") == "1", json.dumps(f))
        self.r.check("hostile_guest_data_intact_slow_node", f.get("slow") == "1", json.dumps(f))

    def step_stall(self, f):
        self.set(fast=self.fast - 512)
        ev = self.wait("fast", "stalled")
        self.r.check("stall_event", ev is not None,
                     json.dumps(ev) if ev else "no stalled event")
        t, _ = self.tiers()
        self.r.check("stall_in_query", t["fast"]["status"] == "stalled",
                     json.dumps(t["fast"]))

    def step_resume(self, f):
        ev = self.wait("fast")
        self.r.check("stall_resumes", ev is not None, json.dumps(ev))
        self.resize("after_stall", fast=self.fast)

    def step_oom_setup(self, f):
        # Not stopped around: with a QMP stop/cont here the OOM deflate took
        # fast-tier pages while the slow tier still had some (3 of 3 runs;
        # see the HyperFlex hardening issue).  The other resizes check that
        # the command returns at once.
        self.resize("oom_setup", stop=False, fast=self.fast - 256, slow=self.slow - 1024)

    def step_oom_done(self, f):
        self.r.check("oom_workload_survives", f["rc"] == "0" and f["sum"] == "1",
                     json.dumps(f))
        t, _ = self.tiers()
        s, q = t["slow"].get("guest-stats", {}), t["fast"].get("guest-stats", {})
        self.r.check("oom_deflates_slow_tier_first",
                     s.get("oom-deflated", 0) > 0 and
                     (q.get("oom-deflated", 0) == 0 or
                      t["slow"]["actual"] == self.slow * MIB),
                     "slow %s fast %s" % (json.dumps(t["slow"]), json.dumps(t["fast"])))
        self.resize("oom_restore", stop=False, fast=self.fast, slow=self.slow)

    def step_end(self, f):
        self.check_totals("end_guest_totals_restored", f)

    # -- bench -------------------------------------------------------------
    def poll(self, done, what):
        t_end = time.monotonic() + EVENT_TIMEOUT
        while not done():
            if time.monotonic() > t_end:
                raise RuntimeError("%s: not done in %d s" % (what, EVENT_TIMEOUT))
            time.sleep(0.01)

    def balloon_actual(self):
        return self.qmp.cmd("query-balloon")["return"]["actual"]

    def vmem_size(self):
        return self.qmp.cmd("qom-get", path="/machine/peripheral/vmem0",
                            property="size")["return"]

    def vm_rss_mib(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
        raise RuntimeError("no VmRSS for QEMU %d" % self.pid)

    def step_bench(self, f):
        mech, total = f["mech"], (self.sizes["fast"] + self.sizes["slow"]) * MIB
        rss = self.vm_rss_mib()
        t0 = time.monotonic()
        if mech == "hyperflex":
            self.set(fast=self.sizes["fast"] - 1024)
            if not self.wait("fast"):
                raise RuntimeError("no settled event")
            dt = time.monotonic() - t0
            freed = rss - self.vm_rss_mib()
            self.set(fast=self.sizes["fast"])
            self.wait("fast")
        elif mech == "balloon":
            self.qmp.cmd("balloon", value=total - 1024 * MIB)
            self.poll(lambda: self.balloon_actual() <= total - 1024 * MIB, mech)
            dt = time.monotonic() - t0
            freed = rss - self.vm_rss_mib()
            self.qmp.cmd("balloon", value=total)
            self.poll(lambda: self.balloon_actual() == total, mech + " back")
        else:
            self.qmp.cmd("qom-set", path="/machine/peripheral/vmem0",
                         property="requested-size", value=0)
            self.poll(lambda: self.vmem_size() == 0, mech)
            dt = time.monotonic() - t0
            freed = rss - self.vm_rss_mib()
            self.qmp.cmd("qom-set", path="/machine/peripheral/vmem0",
                         property="requested-size", value=1024 * MIB)
            self.poll(lambda: self.vmem_size() == 1024 * MIB, mech + " back")
        row = (mech, f["round"], "%.3f" % dt, "%.0f" % (1024 / dt), str(freed))
        self.rows.append(row)
        print("bench\t" + "\t".join(row), flush=True)

    # -- demo (make run) -----------------------------------------------------
    def show(self):
        t, _ = self.tiers()
        for tier in ("fast", "slow"):
            x = t[tier]
            print("  host:  %s tier: %s, keeps %d of %d MiB (guest says %d); QEMU RSS of its"
                  " backend %d MiB" % (tier, x["status"], x["actual"] // MIB,
                                       x["size"] // MIB, x["guest-actual"] // MIB,
                                       backend_rss_kib(self.pid, self.sizes[tier]) // 1024),
                  flush=True)

    def demo_resize(self, fast, slow):
        print("  host:  -> balloon-tiers fast=%dM slow=%dM" % (fast, slow), flush=True)
        t0 = time.monotonic()
        r, _ = self.set(fast=fast, slow=slow)
        print("  host:  <- %s after %.3f s" % (json.dumps(r), time.monotonic() - t0), flush=True)
        for tier in ("fast", "slow"):
            ev = self.wait(tier)
            print("  host:  event %s" % json.dumps(ev["data"]) if ev else
                  "  host:  no event for the %s tier" % tier, flush=True)
            self.r.check("demo_%s_event" % tier, ev is not None)
        print("  host:  both tiers settled %.3f s after the command" %
              (time.monotonic() - t0), flush=True)
        self.show()

    def step_demo_shrink(self, f):
        self.show()
        self.demo_resize(self.fast - 256, self.slow - 512)

    def step_demo_grow(self, f):
        self.demo_resize(self.fast, self.slow)

    def step_demo_end(self, f):
        pass

    # -- slow tier (x-access-delay-ns) -----------------------------------
    def misses(self):
        """Accesses QEMU has delayed so far, for each node's backend."""
        return [self.qmp.cmd("qom-get", path="/objects/m%d" % n,
                             property="x-access-delay-misses")["return"]
                for n in (0, 1)]

    def step_slowtier_begin(self, f):
        self.delay = self.qmp.cmd("qom-get", path="/objects/m1",
                                  property="x-access-delay-ns")["return"]
        self.before = self.misses()

    def step_slowtier_node0(self, f):
        m = self.misses()
        d1 = m[1] - self.before[1]
        # Writing node 0 may touch some node-1 lines (kernel data; on the
        # debug kernel also kmemleak's scans, 3684 for 16384 pages once),
        # but a write counted on the wrong node would be one per page.
        self.r.check("slow_tier_node0_not_delayed",
                     m[0] == 0 and d1 < int(f["pages"]) // 2,
                     "delay %s ns; node 0 misses %d, node 1 +%d while %s node-0 "
                     "pages were written" % (self.delay, m[0], d1, f["pages"]))
        self.before = m

    def step_slowtier_node1(self, f):
        m = self.misses()
        d1 = m[1] - self.before[1]
        # Every page is cleared, written and read back after 64 MiB more:
        # at least one miss per page; none when the delay is off.
        want = int(f["pages"]) if self.delay else 0
        ok = d1 >= want if self.delay else d1 == 0
        self.r.check("slow_tier_node1_delayed", m[0] == 0 and ok,
                     "delay %s ns; node 0 misses %d, node 1 +%d while %s node-1 "
                     "pages were written (want >= %d)" %
                     (self.delay, m[0], d1, f["pages"], want))

    # -- faults (debug kernel) ---------------------------------------------
    def step_fault_shrink(self, f):
        self.base["fast"] = int(f["node"])
        self.resize("fault_shrink", stop=False, fast=self.fast - 256)
        # The guest sends its statistics soon after a failure.
        for _ in range(100):
            t, _ = self.tiers()
            fails = t["fast"].get("guest-stats", {}).get("alloc-failures", 0)
            if fails:
                break
            time.sleep(0.1)
        self.r.check("fault_shrink_alloc_failures_reported", fails > 0,
                     "fast tier: %s" % json.dumps(t["fast"]))

    def step_fault_grow(self, f):
        self.r.check("fault_shrink_guest_total_drops",
                     int(f["node"]) == self.base["fast"] - 256 * 1024,
                     "node MemTotal %d -> %s kB, want -256 MiB" %
                     (self.base["fast"], f["node"]))
        self.resize("fault_grow", stop=False, fast=self.fast)

    def step_fault_done(self, f):
        self.r.check("fault_grow_guest_total_back",
                     int(f["node"]) == self.base["fast"],
                     "node MemTotal %s kB, want %d" % (f["node"], self.base["fast"]))
        self.r.check("fault_data_intact", f.get("intact") == "1",
                     "256 MiB written before the shrink and held (on the fast "
                     "node or demoted), checked page by page: %s" %
                     ("intact" if f.get("intact") == "1" else "lost or changed"))
        self.r.check("fault_churned_data_intact",
                     f.get("churn_bad") == "0" and int(f.get("churn_ok", 0)) > 0,
                     "32 MiB written and checked on the fast node over and over "
                     "during the shrink and grow: %s rounds intact, %s not" %
                     (f.get("churn_ok"), f.get("churn_bad")))

    # -- plain (feature off) ---------------------------------------------
    def step_plain_shrink(self, f):
        self.all0 = int(f["all"])
        for c, args in (("balloon-tiers", {"fast": 512 * MIB}),
                        ("query-balloon-tiers", {})):
            r = self.qmp.cmd(c, **args)
            self.r.check("plain_%s_refused" % c.replace("-", "_"),
                         "error" in r, json.dumps(r))
        r = self.qmp.cmd("balloon", value=(self.fast + self.slow - 256) * MIB)
        self.r.check("plain_balloon_accepted", "return" in r, json.dumps(r))

    def step_plain_grow(self, f):
        self.r.check("plain_balloon_shrinks_guest", int(f["all"]) == self.all0 - 262144,
                     "MemTotal %d -> %s kB" % (self.all0, f["all"]))
        r = self.qmp.cmd("query-balloon")
        self.r.check("plain_query_balloon", r.get("return", {}).get("actual") ==
                     (self.fast + self.slow - 256) * MIB, json.dumps(r))
        self.qmp.cmd("balloon", value=(self.fast + self.slow) * MIB)

    def step_plain_done(self, f):
        self.r.check("plain_balloon_grows_back", int(f["all"]) == self.all0, json.dumps(f))
        self.r.check("plain_guest_has_no_tiers", f["tiers_driver"] == "0", json.dumps(f))

    def handler(self, name):
        for tier, mib in (("fast", 256), ("slow", 512)):
            if name == "shrink-" + tier:
                return lambda f: self.shrink(tier, f, mib)
            if name == "grow-" + tier:
                return lambda f: self.grow(tier, f, mib)
            if name == "refilled-" + tier:
                return lambda f: self.refilled(tier, f, mib)
        return getattr(self, "step_" + name.replace("-", "_"), None)

    # -- the run -----------------------------------------------------------
    def run(self):
        a = self.a
        mode = "demo" if a.demo else "plain" if a.plain else \
            "faults" if a.faults else "full"
        if a.bench:
            mode = "bench %d %s" % (a.rounds, " ".join(self.mechs))
        cmd = [os.path.join(ROOT, "scripts", "vm.py"), "--mode", "cmd",
               "--timeout", str(a.timeout), "--logdir", a.logdir, "--ctl",
               "--variant", a.variant,
               "--cmd", "sh /hp/hyperflex-test.sh %s" % mode]
        if a.bench and "virtio-mem" in self.mechs:
            cmd += ["--fast-mem", "1G", "--virtio-mem", "1G",
                    "--append", "memhp_default_state=online_movable"]
        elif self.sizes["fast"] != FAST_MIB:
            cmd += ["--fast-mem", "%dM" % self.sizes["fast"]]
        if a.plain:
            cmd += ["--machine", "pc-i440fx-9.2"]
        elif not a.bench:
            # A rate any guest's flood exceeds, however slow its kernel
            # (the debug kernel's flood stayed under the default 4000/s).
            cmd += ["--balloon-opts", "deflate-on-oom=on,tier-stall-ms=3000,tier-rate=500"]
        os.makedirs(a.logdir, exist_ok=True)
        out = os.path.join(a.logdir, "output.log")
        vm = subprocess.Popen(cmd, stdout=open(os.path.join(a.logdir, "vm.out"), "w"),
                              stderr=subprocess.STDOUT)
        pos, buf, seen = 0, "", 0
        try:
            while vm.poll() is None:
                time.sleep(0.2)
                try:
                    with open(out, errors="replace") as fo:
                        fo.seek(pos)
                        chunk = fo.read()
                        pos = fo.tell()
                except FileNotFoundError:
                    continue
                buf += chunk
                while "\n" in buf:
                    line, buf = buf.split("\n", 1)
                    m = STEP.match(line.strip())
                    if not m:
                        if a.demo and line.startswith("  guest:"):
                            print(line, flush=True)
                        continue
                    name = m.group(1)
                    facts = dict(kv.split("=", 1) for kv in m.group(2).split() if "=" in kv)
                    self.connect()
                    h = self.handler(name)
                    if h is None:
                        self.r.check("step_" + name, False, "no host handler")
                    else:
                        try:
                            h(facts)
                        except Exception as e:      # one broken step fails, the run goes on
                            self.r.check("step_" + name, False, "%s: %s" % (type(e).__name__, e))
                    seen += 1
                    self.ctl.sendall(("go %s\n" % name).encode())
            vm.wait()
        finally:
            if vm.poll() is None:
                vm.kill()
        self.r.check("guest_script_finished", vm.returncode == 0 and seen > 0,
                     "vm.py exited %s after %d steps; see %s" % (vm.returncode, seen, out))
        if a.bench:
            with open(a.bench, "a") as f:
                for row in self.rows:
                    f.write("\t".join(row) + "\n")
            bad = [x for x in self.r.items if not x[1]]
            for name, _, diag in bad:
                print("bench: %s: %s" % (name, diag), file=sys.stderr)
            return 1 if bad or not self.rows else 0
        self.r.write(a.tap)
        return 0 if all(ok for _, ok, _ in self.r.items) else 1

    def connect(self):
        if self.qmp:
            return
        self.qmp = QMP(os.path.join(self.a.logdir, "qmp.sock"))
        self.ctl = socket.socket(socket.AF_UNIX)
        self.ctl.connect(os.path.join(self.a.logdir, "ctl.sock"))
        with open(os.path.join(self.a.logdir, "qemu.pid")) as f:
            self.pid = int(f.read())


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--logdir", required=True)
    p.add_argument("--tap")
    p.add_argument("--plain", action="store_true")
    p.add_argument("--faults", action="store_true",
                   help="balloon allocations fail at random (debug kernel)")
    p.add_argument("--demo", action="store_true",
                   help="show a live resize of both tiers (make run)")
    p.add_argument("--bench", metavar="TSV")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--mechs", default="hyperflex,balloon,virtio-mem",
                   help="bench only these (comma-separated)")
    p.add_argument("--variant", default="guest")
    p.add_argument("--timeout", type=int, default=1500)
    a = p.parse_args()
    if not a.tap and not a.bench and not a.demo:
        p.error("--tap, --bench or --demo is needed")
    if a.demo:
        a.tap = os.path.join(a.logdir, "demo.tap")
    if not a.bench:
        return Driver(a).run()
    with open(a.bench, "w") as f:
        f.write("mechanism\tround\tseconds\tmib_per_s\thost_rss_freed_mib\n")
    rc = 0
    wanted = set(a.mechs.split(","))
    for mechs in (("hyperflex", "balloon"), ("virtio-mem",)):
        if not set(mechs) & wanted:
            continue
        d = Driver(a, [m for m in mechs if m in wanted])
        if d.run() and not d.rows:
            # TCG with a virtio-mem device sometimes aborts at boot
            # (iotlb_to_section assertion, upstream): one more boot.
            print("bench: no run finished, booting again; %s" %
                  os.path.join(a.logdir, "qemu.stderr"), file=sys.stderr)
            d = Driver(a, d.mechs)
            d.run()
        rc |= 0 if d.rows and all(ok for _, ok, _ in d.r.items) else 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
