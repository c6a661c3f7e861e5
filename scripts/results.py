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
    non-zero after its subtests) counts as one more failure.  A plan, leading
    or trailing, that does not match the number of results in its block
    counts as one failure."""
    found = 0
    plans = {}            # indent -> (planned count, block name) awaiting results
    counts = {}           # indent -> results seen in the current block
    children = {}         # indent -> outcomes of results below it
    subtest = {}          # indent -> "# Subtest:" name of the block

    def close_deeper(ind):
        # A result at @ind ends every block indented deeper than it.
        for i in sorted([i for i in counts if i > ind], reverse=True):
            if i in plans and plans[i][0] != counts[i]:
                rep.problem("%s: %s: %d of %d planned results" %
                            (source, plans[i][1] or "top level", counts[i], plans[i][0]))
            plans.pop(i, None)
            del counts[i]
        for i in [i for i in plans if i > ind]:
            rep.problem("%s: %s: 0 of %d planned results" %
                        (source, plans[i][1] or "top level", plans[i][0]))
            del plans[i]

    for raw in lines:
        line = STAMP.sub("", raw.rstrip("\n"))
        m = SUBTEST.match(line)
        if m:
            subtest[len(m.group(1))] = m.group(2)
            continue
        m = PLAN.match(line)
        if m:
            ind, want = len(m.group(1)), int(m.group(2))
            got = counts.get(ind, 0)
            if got:               # trailing plan: the block is complete
                if got != want:
                    rep.problem("%s: %s: %d of %d planned results" %
                                (source, subtest.get(ind) or "top level", got, want))
            else:
                plans[ind] = (want, subtest.get(ind, ""))
                counts[ind] = 0
            continue
        m = RESULT.match(line)
        if not m:
            continue
        found += 1
        ind, ok, name = len(m.group(1)), m.group(2) == "ok", (m.group(4) or "").strip()
        directive = (m.group(5) or "").strip()
        close_deeper(ind)
        counts[ind] = counts.get(ind, 0) + 1
        kids = [c for i in [i for i in children if i > ind] for c in children.pop(i)]
        children.setdefault(ind, []).append(ok)
        # "# Subtest: X" at indent N names the block of results at indent N.
        parents = [subtest[i] for i in sorted(subtest) if i <= ind]
        for i in [i for i in subtest if i > ind]:
            del subtest[i]
        full = "%s: %s" % (source, ": ".join(parents + [name]))
        skip = directive.upper().startswith("SKIP")
        if kids:
            if not ok and not skip and all(kids):
                rep.test("FAIL", "%s (%s)" % (full, directive or "failed"))
            continue
        rep.test("SKIP" if skip else ("PASS" if ok else "FAIL"), full)
    close_deeper(-1)
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
