#!/usr/bin/python3
"""Judge a test run from its logs.

Reads (K)TAP from result files (--tap) and from the guest's serial console
(--console: KUnit prints there, under printk timestamps), and the console
for kernel splats.  Prints one line per test (PASS/FAIL/SKIP), then
`RESULT passed=N failed=N skipped=N`.  Exits non-zero when a test failed,
a plan promised more results than arrived, an expected KUnit suite is
missing, or the kernel printed a warning, BUG, Oops, panic, KASAN, UBSAN or
lockdep report.
"""

import argparse
import re
import sys

STAMP = re.compile(r"^\[\s*\d+\.\d+\] ?")
RESULT = re.compile(r"^(\s*)(ok|not ok) (\d+)(?: (?:- )?([^#]*?))?\s*(?:#\s*(.*))?$")
PLAN = re.compile(r"^(\s*)1\.\.(\d+)\s*$")
SUBTEST = re.compile(r"^(\s*)# Subtest: (.*)$")
SPLAT = re.compile(
    r"(WARNING: |BUG: |kernel BUG at|Oops|Kernel panic|general protection fault"
    r"|UBSAN: |possible circular locking|possible recursive locking"
    r"|inconsistent lock state|suspicious RCU usage|Call Trace:"
    r"|------------\[ cut here \]------------)")


class Report:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.problems = []

    def test(self, status, name):
        print("%s %s" % (status, name))
        if status == "PASS":
            self.passed += 1
        elif status == "SKIP":
            self.skipped += 1
        else:
            self.failed += 1

    def problem(self, what):
        self.problems.append(what)
        self.test("FAIL", what)


def parse_tap(lines, source, rep):
    """Count leaf results of nested (K)TAP.  A parent result whose children
    all passed but that itself failed (a test program that crashed or exited
    non-zero after its subtests) counts as one more failure; a plan with
    fewer results than promised counts as one failure per block."""
    blocks = []           # stack of [indent, plan, results, names]
    found = 0

    def close_blocks(indent):
        # Blocks deeper than @indent are finished: check their plans.
        while blocks and blocks[-1][0] > indent:
            ind, plan, got, prefix = blocks.pop()
            if plan is not None and got != plan:
                rep.problem("%s: %s: %d of %d planned results" %
                            (source, prefix or "top level", got, plan))

    pending = {}          # indent -> list of child outcomes since last result
    subtest = {}
    for raw in lines:
        line = STAMP.sub("", raw.rstrip("\n"))
        m = SUBTEST.match(line)
        if m:
            subtest[len(m.group(1))] = m.group(2)
            continue
        m = PLAN.match(line)
        if m:
            ind = len(m.group(1))
            close_blocks(ind)
            if blocks and blocks[-1][0] == ind:
                blocks.pop()
            blocks.append([ind, int(m.group(2)), 0, subtest.get(ind, "")])
            continue
        m = RESULT.match(line)
        if not m:
            continue
        found += 1
        ind, ok, name = len(m.group(1)), m.group(2) == "ok", (m.group(4) or "").strip()
        directive = (m.group(5) or "").strip()
        close_blocks(ind)
        if blocks and blocks[-1][0] == ind:
            blocks[-1][2] += 1
        children = [c for i, c in list(pending.items()) if i > ind for c in c]
        for i in [i for i in pending if i > ind]:
            del pending[i]
        pending.setdefault(ind, []).append(ok)
        # "# Subtest: X" at indent N names the block of results at indent N.
        parents = [subtest[i] for i in sorted(subtest) if i <= ind]
        for i in [i for i in subtest if i > ind]:
            del subtest[i]
        full = "%s: %s" % (source, ": ".join(parents + [name]))
        skip = directive.upper().startswith("SKIP")
        if children:
            if not ok and not skip and all(children):
                rep.test("FAIL", "%s (%s)" % (full, directive or "failed"))
            continue
        rep.test("SKIP" if skip else ("PASS" if ok else "FAIL"), full)
    close_blocks(-1)
    return found


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tap", action="append", default=[], metavar="NAME=FILE")
    p.add_argument("--console", metavar="FILE")
    p.add_argument("--kunit", action="append", default=[],
                   help="KUnit suite that must have run (repeatable)")
    a = p.parse_args()
    rep = Report()
    for spec in a.tap:
        name, _, path = spec.rpartition("=")
        try:
            with open(path, errors="replace") as f:
                lines = f.readlines()
        except OSError as e:
            rep.problem("%s: cannot read %s (%s)" % (name or path, path, e.strerror))
            continue
        if parse_tap(lines, name or path, rep) == 0:
            rep.problem("%s: no test results in %s" % (name or path, path))
    if a.console:
        try:
            with open(a.console, errors="replace") as f:
                lines = f.readlines()
        except OSError as e:
            rep.problem("console: cannot read %s (%s)" % (a.console, e.strerror))
            lines = []
        ktap = [l for l in lines if RESULT.match(STAMP.sub("", l)) or
                PLAN.match(STAMP.sub("", l)) or SUBTEST.match(STAMP.sub("", l))]
        parse_tap(ktap, "kunit", rep)
        text = "".join(lines)
        for suite in a.kunit:
            if not re.search(r"# Subtest: %s\s*$" % re.escape(suite), text, re.M):
                rep.problem("kunit: suite %s did not run" % suite)
        for n, l in enumerate(lines, 1):
            m = SPLAT.search(l)
            if m:
                rep.problem("kernel: splat at %s:%d: %s" % (a.console, n, l.strip()))
                break
    print("RESULT passed=%d failed=%d skipped=%d" % (rep.passed, rep.failed, rep.skipped))
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
