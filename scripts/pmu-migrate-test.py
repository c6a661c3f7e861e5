#!/usr/bin/env python3
"""Live-migrate a TCG guest while QEMU's emulated PMU writes PEBS records.

Boots the test guest (vm.py's command line, emulated PMU and slow tier)
running `pebs-test --soak ROUNDS`, which samples loads of a node-1 buffer
round after round.  After the first rounds it migrates the VM over a
unix socket to a second QEMU started with `-incoming defer` on the same
command line, which runs the rest.  TAP on --tap: the migration
completed, the destination went on writing records (its CPU's
x-tcg-pmu-pebs-records), some rounds ran there, and the guest's own
checks (every round sampled, the buffer's data intact, a counter that
counted every round alike) passed.

  pmu-migrate-test.py --logdir DIR --tap FILE [--rounds N] [--timeout S]
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools", "hyperplace", "hyperflex"))
from qmp import QMP  # noqa: E402

ROUND = re.compile(r"^# soak round (\d+):", re.M)


class Results:
    """TAP results, written at the end."""

    def __init__(self):
        self.items = []

    def check(self, name, ok, diag=""):
        self.items.append((name, bool(ok), diag))

    def write(self, path):
        with open(path, "w") as f:
            f.write("TAP version 13\n1..%d\n" % len(self.items))
            for i, (name, ok, diag) in enumerate(self.items, 1):
                f.write("%sok %d %s\n" % ("" if ok else "not ", i, name))
                if diag:
                    f.write("# %s\n" % diag)


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_for(what, cond, deadline, procs):
    """Poll cond() until it is true; False at the deadline or if a
    process in procs exited."""
    while time.time() < deadline:
        if cond():
            return True
        if any(p.poll() is not None for p in procs):
            return cond()
        time.sleep(0.2)
    print("pmu-migrate: timed out waiting for %s" % what, file=sys.stderr)
    return False


def qemu_cmd(a, logdir):
    """vm.py's command line for the soak guest, written for logdir."""
    out = subprocess.check_output(
        [os.path.join(ROOT, "scripts", "vm.py"), "--print-cmd", "--mode", "cmd",
         "--tcg-pmu", "--variant", a.variant, "--logdir", logdir,
         "--cmd", "/hp/bin/pebs-test --soak %d" % a.rounds])
    return shlex.split(out.decode().strip().splitlines()[-1])


def records(qmp):
    """PEBS records the vCPUs of this QEMU have written."""
    total = 0
    for cpu in qmp.cmd("query-cpus-fast").get("return", []):
        total += qmp.cmd("qom-get", path=cpu["qom-path"],
                         property="x-tcg-pmu-pebs-records").get("return", 0)
    return total


def run(a, r):
    src_dir, dst_dir = os.path.join(a.logdir, "src"), os.path.join(a.logdir, "dst")
    for d in (src_dir, dst_dir):
        os.makedirs(d, exist_ok=True)
        for f in ("output.log", "console.log", "qmp.sock", "qemu.pid"):
            if os.path.exists(os.path.join(d, f)):
                os.unlink(os.path.join(d, f))
    src_cmd = qemu_cmd(a, src_dir)
    # The destination: the same machine, its files in dst_dir.
    dst_cmd = [c.replace(src_dir, dst_dir) for c in src_cmd] + ["-incoming", "defer"]
    initrd = src_cmd[src_cmd.index("-initrd") + 1]
    if initrd.startswith(src_dir):
        shutil.copy(initrd, initrd.replace(src_dir, dst_dir))
    mig = os.path.join(a.logdir, "migrate.sock")
    deadline = time.time() + a.timeout
    src = subprocess.Popen(src_cmd, stdin=subprocess.DEVNULL,
                           stderr=open(os.path.join(src_dir, "qemu.stderr"), "w"))
    dst = None
    try:
        src_out = os.path.join(src_dir, "output.log")
        started = wait_for("two soak rounds on the source",
                           lambda: len(ROUND.findall(read(src_out))) >= 2,
                           deadline, [src])
        r.check("soak_started_on_source", started,
                "see %s" % os.path.join(src_dir, "console.log"))
        if not started:
            return
        dst = subprocess.Popen(dst_cmd, stdin=subprocess.DEVNULL,
                               stderr=open(os.path.join(dst_dir, "qemu.stderr"), "w"))
        dst_qmp_path = os.path.join(dst_dir, "qmp.sock")
        wait_for("the destination's QMP socket",
                 lambda: os.path.exists(dst_qmp_path), deadline, [dst])
        dst_qmp = QMP(dst_qmp_path)
        src_qmp = QMP(os.path.join(src_dir, "qmp.sock"))
        dst_qmp.execute("migrate-incoming", uri="unix:" + mig)
        src_records = records(src_qmp)
        src_qmp.execute("migrate", uri="unix:" + mig)
        status = {}

        def done():
            status.update(src_qmp.cmd("query-migrate").get("return", {}))
            return status.get("status") in ("completed", "failed", "cancelled")
        wait_for("the migration", done, deadline, [src])
        r.check("migration_completed", status.get("status") == "completed",
                "status %s after %d source rounds; %s records on the source" %
                (status.get("status"), len(ROUND.findall(read(src_out))),
                 src_records))
        try:
            src_qmp.cmd("quit")
        except (EOFError, OSError):
            pass            # it quit before answering
        src.wait(timeout=30)
        dst_out = os.path.join(dst_dir, "output.log")
        # Read the destination's record count while the guest runs: QEMU
        # exits when the guest powers off, which may be any time after.
        seen = {"records": None}

        def finished():
            if "HP-EXIT " in read(dst_out):
                return True
            try:
                seen["records"] = records(dst_qmp)
            except (EOFError, OSError):
                pass
            return False
        finished = wait_for("the guest on the destination", finished,
                            deadline, [dst])
        dst_records = seen["records"]
        dst_rounds = len(ROUND.findall(read(dst_out)))
        r.check("soak_finished_on_destination", finished,
                "see %s" % os.path.join(dst_dir, "console.log"))
        r.check("destination_ran_soak_rounds", dst_rounds >= 2,
                "%d of %d rounds after the migration" % (dst_rounds, a.rounds))
        r.check("destination_wrote_pebs_records", (dst_records or 0) > 0,
                "x-tcg-pmu-pebs-records on the destination: %s" % dst_records)
        # The guest's TAP, across both output files, as our own checks.
        text = read(src_out) + read(dst_out)
        for m in re.finditer(r"^(not )?ok \d+ (.*)$\n(?:# (.*)$)?", text, re.M):
            r.check("guest: " + m.group(2), not m.group(1), m.group(3) or "")
    finally:
        for p in (src, dst):
            if p and p.poll() is None:
                p.kill()
                p.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--logdir", required=True)
    p.add_argument("--tap", required=True)
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--variant", default="guest")
    p.add_argument("--timeout", type=int, default=600)
    a = p.parse_args()
    os.makedirs(a.logdir, exist_ok=True)
    r = Results()
    try:
        run(a, r)
    except Exception as e:      # a failed step is a failed check, with why
        r.check("migration_test_ran", False, "%s: %s" % (type(e).__name__, e))
    r.write(a.tap)
    return 0 if r.items and all(ok for _, ok, _ in r.items) else 1


if __name__ == "__main__":
    sys.exit(main())
