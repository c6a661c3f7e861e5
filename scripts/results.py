#!/usr/bin/python3
"""Judge a test run from its logs.

Reads (K)TAP from result files (--tap) and from the guest's serial console
(--console: KUnit prints there, under printk timestamps), and the console
for kernel splats.  --splats reads a console for splats only: a second boot
of the same kernel prints the same KUnit results, which are counted once,
from the --console of the test boot.  Prints one line per test
(PASS/FAIL/SKIP), one `SOURCE name passed=N failed=N skipped=N` line per
source, then `RESULT passed=N failed=N skipped=N`.

A run fails when a test failed, a block of results has no plan or a plan
that does not match its results, a source has no results, an expected
KUnit suite is missing, or the kernel printed a warning, BUG, Oops, panic,
KASAN, UBSAN, kmemleak or lockdep report.  With --no-skip a SKIP is a
failure too: in our own test guest every precondition is ours to meet.
With --alloc-failures-ok the stack of an allocation-failure report is not
a splat (fault injection fails allocations on purpose); anything else is.
With --known-races FILE a KCSAN report of a race the file lists (races in
code that is not ours, each with its reason) is noted, not failed.

  results.py --expect FILE --counts FILE
compares per-source result counts (lines "name count" in both; FILE of
counts as written from the SOURCE lines) with the checked-in expected
ones: a source with fewer results than expected, or missing, fails; one
with more says the file needs updating, and fails too, so that the next
drop cannot hide behind a stale figure.  A source the file does not list
(a kernel splat, an unreadable file: failures already) is only noted.
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
    r"|------------\[ cut here \]------------"
    r"|unreferenced object 0x|kmemleak: \d+ new suspected memory leaks"
    # kmemleak off (e.g. its own allocation failed): leaks would go unseen
    r"|kmemleak: Kernel memory leak detector disabled)")


class Report:
    def __init__(self, no_skip=False):
        self.passed = self.failed = self.skipped = 0
        self.problems = []
        self.no_skip = no_skip
        self.sources = {}     # name -> [passed, failed, skipped], in order

    def test(self, status, name):
        if status == "SKIP" and self.no_skip:
            status, name = "FAIL", name + " (SKIP, and nothing may skip here)"
        print("%s %s" % (status, name))
        source = name.split(":", 1)[0]
        counts = self.sources.setdefault(source, [0, 0, 0])
        if status == "PASS":
            self.passed += 1
            counts[0] += 1
        elif status == "SKIP":
            self.skipped += 1
            counts[2] += 1
        else:
            self.failed += 1
            counts[1] += 1

    def problem(self, what):
        self.problems.append(what)
        self.test("FAIL", what)


def parse_tap(lines, source, rep):
    """Count leaf results of nested (K)TAP.  A parent result whose children
    all passed but that itself failed (a test program that crashed or exited
    non-zero after its subtests) counts as one more failure.  A block of
    results without a plan, or whose plan (leading or trailing) does not
    match the number of results in it, counts as one failure: a stream cut
    short must not pass."""
    found = 0
    plans = {}            # indent -> (planned count, block name) awaiting results
    counts = {}           # indent -> results seen in the current block
    trailing = set()      # indents whose block ended with a matching plan
    children = {}         # indent -> outcomes of results below it
    subtest = {}          # indent -> "# Subtest:" name of the block

    def close_deeper(ind):
        # A result at @ind ends every block indented deeper than it.
        for i in sorted([i for i in counts if i > ind], reverse=True):
            name = (plans[i][1] if i in plans else subtest.get(i)) or "top level"
            if i in plans and plans[i][0] != counts[i]:
                rep.problem("%s: %s: %d of %d planned results" %
                            (source, name, counts[i], plans[i][0]))
            elif i not in plans and i not in trailing and counts[i]:
                rep.problem("%s: %s: %d results and no plan" % (source, name, counts[i]))
            plans.pop(i, None)
            trailing.discard(i)
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
                trailing.add(ind)
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


# The kernel's report of a failed allocation (warn_alloc()): a header, then
# a stack within a few lines.  Expected where failures are injected.
ALLOC_FAILURE = re.compile(r"(page allocation failure: |vmalloc error: )")
ALLOC_FAILURE_LINES = 6
# A WARN's "cut here" marker comes a few lines before its WARNING line.
CUT_HERE_LINES = 5


# A KCSAN report: its title, then the accesses, up to a line of '='.
KCSAN_TITLE = re.compile(r"BUG: KCSAN: data-race in (.*?)\s*$")
KCSAN_UNKNOWN = "race at unknown origin"
KCSAN_END = re.compile(r"^={20,}\s*$")
KCSAN_FOOTER = "Reported by Kernel Concurrency Sanitizer on:"
KCSAN_LINES = 150     # two stacks of up to 64 frames, and the rest
# What the title adds to a function's name: an offset, a clone's suffix.
KCSAN_NAME = re.compile(r"^(.*?)(\.(isra|constprop|part|cold)(\.\d+)?)*(\+0x[0-9a-f]+/0x[0-9a-f]+)?$")


def read_known_races(path):
    """[(functions, unknown_origin_only)] from lines "f [/ g] [unknown-origin]"
    ('#' starts a comment): KCSAN reports that are not ours to fix."""
    known = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            unknown = words[-1] == "unknown-origin"
            if unknown:
                words = words[:-1]
            # "f", or "f / g"; a race of unknown origin has one side only
            if not (len(words) == 1 or (len(words) == 3 and words[1] == "/"
                                        and not unknown)) or \
                    any("/" in w for w in words[::2]):
                sys.exit("%s:%d: want \"f [unknown-origin]\" or \"f / g\"" % (path, n))
            known.append((tuple(sorted(words[::2])), unknown))
    return known


def known_race(title, block, known):
    """Whether the KCSAN report titled @title (its @block of lines) is on
    the @known list: the same functions, and an unknown origin where the
    entry asks for one."""
    funcs = tuple(sorted(KCSAN_NAME.match(f.strip()).group(1)
                         for f in title.split(" / ")))
    unknown = any(KCSAN_UNKNOWN in l for l in block)
    return any(funcs == k and (unknown or not k_unknown) for k, k_unknown in known)


def find_splat(path, lines, rep, alloc_failures_ok=False, known_races=()):
    """The first kernel splat in a console log is one failure.  With
    @alloc_failures_ok, the stack of an allocation-failure report is not
    one: fault injection makes allocations fail on purpose.  A KCSAN
    report on the @known_races list is noted; only its title is passed
    over, so that nothing printed inside it goes unseen."""
    report_at = -ALLOC_FAILURE_LINES - 1
    for n, l in enumerate(lines, 1):
        if alloc_failures_ok and ALLOC_FAILURE.search(l):
            report_at = n
            continue
        m = SPLAT.search(l)
        if not m:
            continue
        if m.group(0) == "Call Trace:" and n - report_at <= ALLOC_FAILURE_LINES:
            continue
        title = KCSAN_TITLE.search(l)
        if title and known_races:
            block, ended = [], False
            for b in lines[n:n + KCSAN_LINES]:
                if KCSAN_END.match(STAMP.sub("", b)):
                    ended = True
                    break
                block.append(b)
            # A report cut short (its end line may be the next one's start)
            # is not excused.
            whole = ended and any(KCSAN_FOOTER in b for b in block)
            if whole and known_race(title.group(1), block, known_races):
                print("note: %s:%d: a known race, not ours (configs/kcsan-known-races): %s"
                      % (path, n, title.group(1)))
                continue
        what = l.strip()
        if m.group(0).startswith("------------[ cut here"):
            # Name the warning or BUG that the marker opens.
            for b in lines[n:n + CUT_HERE_LINES]:
                if re.search(r"WARNING: |kernel BUG at|BUG: ", b):
                    what += " ... " + STAMP.sub("", b).strip()
                    break
        rep.problem("kernel: splat at %s:%d: %s" % (path, n, what))
        return


def read_counts(path):
    """{name: count} from lines "name count" ('#' starts a comment)."""
    counts = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) != 2 or not words[1].isdigit():
                raise ValueError("%s:%d: expected 'NAME COUNT', got %r" % (path, n, line.strip()))
            counts[words[0]] = int(words[1])
    return counts


def compare_counts(expect_path, counts_path):
    """One test per expected source: its result count is the expected one."""
    rep = Report()
    try:
        want, got = read_counts(expect_path), read_counts(counts_path)
    except (OSError, ValueError) as e:
        rep.problem("counts: %s" % e)
        return rep
    for name, n in want.items():
        have = got.get(name)
        if have is None:
            rep.test("FAIL", "counts: %s: no results at all (expected %d)" % (name, n))
        elif have < n:
            rep.test("FAIL", "counts: %s: %d results, %d expected: tests were lost" %
                     (name, have, n))
        elif have > n:
            rep.test("FAIL", "counts: %s: %d results, %d expected: update %s" %
                     (name, have, n, expect_path))
        else:
            rep.test("PASS", "counts: %s: %d results" % (name, n))
    for name in got:
        if name not in want:
            print("note: %s: %d results from a source %s does not list" %
                  (name, got[name], expect_path))
    return rep


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tap", action="append", default=[], metavar="NAME=FILE")
    p.add_argument("--console", metavar="FILE",
                   help="serial console: KUnit results and splats")
    p.add_argument("--splats", action="append", default=[], metavar="FILE",
                   help="serial console of another boot: splats only")
    p.add_argument("--kunit", action="append", default=[],
                   help="KUnit suite that must have run (repeatable)")
    p.add_argument("--no-skip", action="store_true",
                   help="a skipped test is a failure")
    p.add_argument("--alloc-failures-ok", action="store_true",
                   help="allocation-failure reports are not splats (fault injection)")
    p.add_argument("--known-races", metavar="FILE",
                   help="KCSAN reports that are not failures (not ours to fix)")
    p.add_argument("--expect", metavar="FILE",
                   help="expected result count per source (with --counts)")
    p.add_argument("--counts", metavar="FILE", help="result count per source")
    a = p.parse_args()
    if bool(a.expect) != bool(a.counts):
        p.error("--expect and --counts go together")
    if a.expect:
        rep = compare_counts(a.expect, a.counts)
        print("RESULT passed=%d failed=%d skipped=%d" % (rep.passed, rep.failed, rep.skipped))
        return 1 if rep.failed else 0
    rep = Report(a.no_skip)
    known = read_known_races(a.known_races) if a.known_races else []
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
        find_splat(a.console, lines, rep, a.alloc_failures_ok, known)
    for path in a.splats:
        try:
            with open(path, errors="replace") as f:
                find_splat(path, f.readlines(), rep, a.alloc_failures_ok, known)
        except OSError as e:
            rep.problem("console: cannot read %s (%s)" % (path, e.strerror))
    for name, (np, nf, ns) in rep.sources.items():
        print("SOURCE %s passed=%d failed=%d skipped=%d" % (name, np, nf, ns))
    print("RESULT passed=%d failed=%d skipped=%d" % (rep.passed, rep.failed, rep.skipped))
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
