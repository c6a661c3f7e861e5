#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""hyperflex: resize the per-tier balloons of a running VM (HyperFlex).

Talks QMP to the VM's QEMU (a virtio-balloon device with tiers, see
Documentation/virt/hyperflex.rst).  A SIZE is what the guest keeps in that
tier: bytes, or a whole number with a suffix K, M, G or T (1024-based,
optionally followed by "iB"), e.g. 1073741824, 768M, 1G.

  set     give a tier (or both) a new size; --wait waits until each tier
          that was set has settled and prints how long it took
  query   the state of both tiers and the device's reject counters
  watch   print QMP events as they arrive, one line each

Exit status: 0 success, 1 QMP or connection error or --wait timeout,
2 bad arguments.
"""

import argparse
import datetime
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from qmp import QMP, QMPConnectionClosed, QMPError, QMPProtocolError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
# The socket scripts/vm.py creates (it honours HP_BUILD the same way).
DEFAULT_QMP = os.path.join(os.environ.get("HP_BUILD", os.path.join(ROOT, "build")),
                           "vm", "qmp.sock")
TIERS = ("fast", "slow")
EVENT = "BALLOON_TIER_CHANGE"
UINT64_MAX = (1 << 64) - 1

_SIZE_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
# [0-9] rather than \d: \d also matches other scripts' digits.
_SIZE_RE = re.compile(r"([0-9]+)(B|[KMGT](?:iB)?)?", re.IGNORECASE)


def parse_size(text):
    """Bytes from "1048576", "768M", "1G", "1GiB", "4096B"; ValueError
    with the reason otherwise.  0 is refused: a tier cannot be emptied."""
    match = _SIZE_RE.fullmatch(text)
    if not match:
        raise ValueError("invalid SIZE %r: use bytes, or a whole number with "
                         "K, M, G or T (1024-based), e.g. 768M" % text)
    if len(match.group(1).lstrip("0")) > 20:      # beyond any uint64
        raise ValueError("invalid SIZE %r: larger than 2^64 - 1 bytes" % text)
    unit = (match.group(2) or "")[:1].upper()
    value = int(match.group(1)) * _SIZE_UNITS[unit]
    if value == 0:
        raise ValueError("invalid SIZE %r: must be more than 0" % text)
    if value > UINT64_MAX:
        raise ValueError("invalid SIZE %r: larger than 2^64 - 1 bytes" % text)
    return value


def _size_arg(text):
    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _seconds_arg(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("invalid seconds %r" % text) from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("seconds must be more than 0: %r" % text)
    return value


def format_size(n):
    """Exact and short: the largest binary unit that divides @n."""
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n and n % (1 << shift) == 0:
            return "%d %s" % (n >> shift, unit)
    return "%d B" % n


def format_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
                     for r in [header] + rows)


def format_query(info):
    """query-balloon-tiers as tables."""
    tiers = info.get("tiers", [])
    out = [format_table(
        ("tier", "node", "size", "target", "actual", "guest-actual", "status",
         "inflated", "deflated"),
        [(t["tier"], t["node"], format_size(t["size"]), format_size(t["target"]),
          format_size(t["actual"]), format_size(t["guest-actual"]), t["status"],
          format_size(t["inflated"]), format_size(t["deflated"])) for t in tiers])]
    with_stats = [t for t in tiers if "guest-stats" in t]
    if with_stats:
        # free and total are bytes; the counters are 4 KiB pages, as the
        # guest reports them.
        out += ["", "guest-reported:", format_table(
            ("tier", "free", "total", "inflated-pages", "deflated-pages",
             "oom-deflated-pages", "alloc-failures"),
            [(t["tier"], format_size(s["free"]), format_size(s["total"]),
              s["inflated"], s["deflated"], s["oom-deflated"], s["alloc-failures"])
             for t in with_stats for s in [t["guest-stats"]]])]
    rejected = info.get("rejected", {})
    out += ["", "rejected: " + ", ".join(
        "%s %d" % (k, rejected[k]) for k in
        ("malformed", "outside-tier", "duplicate", "not-ballooned", "throttled")
        if k in rejected)]
    return "\n".join(out)


def _event_time(event):
    stamp = event.get("timestamp") or {}
    try:
        return stamp["seconds"] + stamp["microseconds"] / 1e6
    except (KeyError, TypeError):
        return None


def format_event(event):
    """One line: local time, name, and the data."""
    when = _event_time(event)
    stamp = (datetime.datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
             if when is not None else "-")
    data = event.get("data", {})
    if event.get("event") == EVENT:
        return "%s %s %s %s target %s actual %s" % (
            stamp, EVENT, data.get("tier"), data.get("status"),
            format_size(data.get("target", 0)), format_size(data.get("actual", 0)))
    return "%s %s %s" % (stamp, event.get("event"), json.dumps(data, sort_keys=True))


def _tier_info(info, tier):
    for t in info.get("tiers", []):
        if t.get("tier") == tier:
            return t
    raise QMPProtocolError("query-balloon-tiers has no %s tier" % tier)


def do_set(qmp, a, out, err):
    sizes = {t: getattr(a, t) for t in TIERS if getattr(a, t) is not None}
    started = time.time()
    qmp.execute("balloon-tiers", sizes)
    if not a.wait:
        return 0
    deadline = time.monotonic() + a.timeout
    # The device rounds the balloon to whole pages: wait for the target it
    # chose, not the number we sent.
    info = qmp.execute("query-balloon-tiers")
    target = {t: _tier_info(info, t)["target"] for t in sizes}
    pending = set(sizes)
    for tier in TIERS:
        t = _tier_info(info, tier)
        # Already there (e.g. the same size again): no event will come.
        if tier in pending and t["status"] == "settled" and t["actual"] == t["target"]:
            print("%s: settled at %s after %.2f s" % (tier, format_size(t["actual"]),
                                                       time.time() - started), file=out)
            pending.discard(tier)

    def ours(event):
        data = event.get("data", {})
        return data.get("tier") in pending and data.get("target") == target[data["tier"]]

    while pending:
        event = qmp.wait_event(EVENT, ours, max(0.0, deadline - time.monotonic()))
        if event is None:
            info = qmp.execute("query-balloon-tiers")
            for tier in sorted(pending, key=TIERS.index):
                t = _tier_info(info, tier)
                print("hyperflex: %s: not settled after %g s: actual %s, target %s, %s"
                      % (tier, a.timeout, format_size(t["actual"]),
                         format_size(t["target"]), t["status"]), file=err)
            return 1
        data = event["data"]
        if data.get("status") == "settled":
            # QEMU stamps an event when it happens, even if the monitor's
            # rate limit delivers it later.
            when = _event_time(event) or time.time()
            print("%s: settled at %s after %.2f s" % (
                data["tier"], format_size(data["actual"]), max(0.0, when - started)),
                file=out)
            pending.discard(data["tier"])
        elif data.get("status") == "stalled":
            # A stall can clear (the guest frees memory), so keep waiting.
            print("hyperflex: %s: stalled at %s (target %s), still waiting" % (
                data["tier"], format_size(data["actual"]), format_size(data["target"])),
                file=err)
        out.flush()
    return 0


def do_query(qmp, a, out, err):
    info = qmp.execute("query-balloon-tiers")
    if a.json:
        print(json.dumps(info, indent=2, sort_keys=True), file=out)
    else:
        print(format_query(info), file=out)
    return 0


def do_watch(qmp, a, out, err):
    deadline = None if a.timeout is None else time.monotonic() + a.timeout
    try:
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            event = qmp.wait_event(timeout=remaining)
            if event is None:
                return 0
            print(json.dumps(event, sort_keys=True) if a.json else format_event(event),
                  file=out)
            out.flush()
    except KeyboardInterrupt:
        return 0


def build_parser():
    qmp_help = "QMP unix socket (default: %s)" % DEFAULT_QMP
    p = argparse.ArgumentParser(
        prog="hyperflex", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--qmp", default=DEFAULT_QMP, metavar="PATH", help=qmp_help)
    p.add_argument("--connect-timeout", type=_seconds_arg, default=5, metavar="S",
                   help="seconds to retry connecting (default 5)")
    # The same option after the subcommand; SUPPRESS keeps it from
    # overwriting a value given before the subcommand.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--qmp", default=argparse.SUPPRESS, metavar="PATH", help=qmp_help)
    sub = p.add_subparsers(dest="command", metavar="{set,query,watch}")
    sub.required = True

    s = sub.add_parser("set", parents=[common], help="set the size of a tier or both")
    s.add_argument("--fast", type=_size_arg, metavar="SIZE",
                   help="bytes the guest keeps in the fast tier")
    s.add_argument("--slow", type=_size_arg, metavar="SIZE",
                   help="bytes the guest keeps in the slow tier")
    s.add_argument("--wait", action="store_true",
                   help="wait until each tier set has settled; print the time taken")
    s.add_argument("--timeout", type=_seconds_arg, metavar="S",
                   help="with --wait: give up after S seconds (default 300)")

    q = sub.add_parser("query", parents=[common], help="show both tiers")
    q.add_argument("--json", action="store_true", help="print the raw reply")

    w = sub.add_parser("watch", parents=[common], help="print events until Ctrl-C")
    w.add_argument("--timeout", type=_seconds_arg, metavar="S",
                   help="stop after S seconds")
    w.add_argument("--json", action="store_true", help="print each event as JSON")
    return p, {"set": s}


def main(argv=None, out=None, err=None):
    out = out or sys.stdout
    err = err or sys.stderr
    parser, subparsers = build_parser()
    a = parser.parse_args(argv)
    if a.command == "set":
        if a.fast is None and a.slow is None:
            subparsers["set"].error("give --fast SIZE, --slow SIZE or both")
        if a.timeout is not None and not a.wait:
            subparsers["set"].error("--timeout needs --wait")
        if a.timeout is None:
            a.timeout = 300.0
    action = {"set": do_set, "query": do_query, "watch": do_watch}[a.command]
    try:
        qmp = QMP(a.qmp, timeout=10, connect_timeout=a.connect_timeout)
    except KeyboardInterrupt:
        return 130
    except OSError as e:
        # TimeoutError is an OSError too: keep its own message.
        why = str(e) if isinstance(e, TimeoutError) else (e.strerror or str(e))
        if isinstance(e, (FileNotFoundError, ConnectionRefusedError)):
            why += " (is the VM running?)"
        print("hyperflex: cannot connect to %s: %s" % (a.qmp, why), file=err)
        return 1
    except (QMPError, QMPProtocolError, EOFError) as e:
        print("hyperflex: %s: %s" % (a.qmp, e), file=err)
        return 1
    with qmp:
        try:
            return action(qmp, a, out, err)
        except QMPError as e:
            print("hyperflex: %s" % e.desc, file=err)
        except QMPConnectionClosed:
            print("hyperflex: QMP connection closed (did the VM exit?)", file=err)
        except (QMPProtocolError, TimeoutError, OSError) as e:
            print("hyperflex: %s" % e, file=err)
        except KeyboardInterrupt:
            return 130
        return 1


if __name__ == "__main__":
    sys.exit(main())
