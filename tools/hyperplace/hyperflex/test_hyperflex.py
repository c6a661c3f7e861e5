#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""TAP tests of hyperflex.py and qmp.py that need no VM.

The QMP client and the subcommands talk to FakeQMP, a scripted QMP server
on a unix socket in a temporary directory.  Exits non-zero if a test fails.
"""

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback

sys.dont_write_bytecode = True      # keep __pycache__ out of the checkout
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hyperflex  # noqa: E402
import qmp  # noqa: E402

GREETING = {"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 10},
                                "package": ""}, "capabilities": ["oob"]}}
MiB = 1 << 20
GiB = 1 << 30


class FakeQMP(threading.Thread):
    """A scripted QMP server for one client.

    @handlers: {command: function(server, arguments)} returning the
        command's value, or raising FakeError for an error reply.  A
        handler may call server.event() before it returns, so that the
        event reaches the client ahead of the reply.
    @greet: send the greeting (False: a server that never speaks)
    @listen_after: seconds to wait before the socket exists
    """

    def __init__(self, path, handlers=None, greet=True, listen_after=0):
        super().__init__(daemon=True)
        self.path = path
        self.handlers = handlers or {}
        self.greet = greet
        self.listen_after = listen_after
        self.received = []
        self.conn = None
        self.stopping = False
        self.connected = threading.Event()
        self.send_lock = threading.Lock()
        self.listener = None
        if not listen_after:
            self._listen()
        self.start()

    def _listen(self):
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(1)

    def send(self, message, chunks=1):
        """Send @message, cut into @chunks writes (to test reassembly)."""
        data = json.dumps(message).encode() + b"\r\n"
        step = max(1, len(data) // chunks)
        with self.send_lock:
            for i in range(0, len(data), step):
                self.conn.sendall(data[i:i + step])
                if chunks > 1:
                    time.sleep(0.01)

    def event(self, name, data=None, when=None):
        when = time.time() if when is None else when
        message = {"event": name, "timestamp": {
            "seconds": int(when), "microseconds": int((when % 1) * 1e6)}}
        if data is not None:
            message["data"] = data
        self.send(message)

    def later(self, delay, fn, *args):
        """Run @fn(*args) in @delay seconds, from another thread."""
        def quietly():
            try:
                fn(*args)
            except OSError:
                if not self.stopping:   # after the test, nobody listens
                    raise
        timer = threading.Timer(delay, quietly)
        timer.daemon = True
        timer.start()

    def event_later(self, delay, name, data=None):
        self.later(delay, self.event, name, data)

    def run(self):
        if self.listen_after:
            time.sleep(self.listen_after)
            self._listen()
        # Clients one after the other, as QEMU's monitor serves them.
        while not self.stopping:
            try:
                self.conn, _ = self.listener.accept()
            except OSError:
                return                  # stop() closed the listener
            self.connected.set()
            try:
                self._serve()
            except OSError:
                pass                    # the client went away
            self.conn.close()

    def _serve(self):
        if self.greet:
            self.send(GREETING)
        buffer = b""
        while True:
            chunk = self.conn.recv(65536)
            if not chunk:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                self._answer(json.loads(line))

    def _answer(self, request):
        self.received.append(request)
        name = request.get("execute")
        if name == "qmp_capabilities":
            reply = {"return": {}}
        elif name in self.handlers:
            try:
                reply = {"return": self.handlers[name](self, request.get("arguments", {}))}
            except FakeError as e:
                reply = {"error": {"class": e.error_class, "desc": str(e)}}
        else:
            reply = {"error": {"class": "CommandNotFound",
                               "desc": "The command %s has not been found" % name}}
        if "id" in request:
            reply["id"] = request["id"]
        self.send(reply)

    def stop(self):
        self.stopping = True
        for s in (self.conn, self.listener):
            if s is not None:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()


class FakeError(Exception):
    def __init__(self, desc, error_class="GenericError"):
        super().__init__(desc)
        self.error_class = error_class


class FakeBalloon:
    """The QMP side of a tiered balloon device, as the protocol brief
    describes it: a 1 GiB fast and a 2 GiB slow tier."""

    def __init__(self, settle_after=None, stall_first=False, late_event=None,
                 deliver_after=0):
        self.settle_after = settle_after        # None: never settles
        # Delivery delay of the settled event, as the monitor's rate
        # limit delays it; its timestamp stays that of the settling.
        self.deliver_after = deliver_after
        self.stall_first = stall_first
        self.late_event = late_event            # sent ahead of the next reply
        self.tiers = {"fast": self._tier("fast", 0, GiB), "slow": self._tier("slow", 1, 2 * GiB)}

    @staticmethod
    def _tier(name, node, size):
        return {"tier": name, "node": node, "size": size, "target": size, "actual": size,
                "guest-actual": size, "status": "settled", "inflated": 0, "deflated": 0}

    def handlers(self):
        return {"balloon-tiers": self.balloon_tiers,
                "query-balloon-tiers": self.query}

    def balloon_tiers(self, server, args):
        if self.late_event:
            server.event(hyperflex.EVENT, self.late_event)
            self.late_event = None
        if not args:
            raise FakeError("Parameter 'fast' or 'slow' is missing")
        for name, value in args.items():
            tier = self.tiers[name]
            if value > tier["size"]:
                raise FakeError("'%s' is larger than the tier (%d MiB)"
                                % (name, tier["size"] // MiB))
        for name, value in args.items():
            tier = self.tiers[name]
            balloon = (tier["size"] - value) // 4096 * 4096
            tier["target"] = tier["size"] - balloon
            if tier["target"] != tier["actual"]:
                tier["status"] = "moving"
                if self.stall_first:
                    server.event_later(0.05, hyperflex.EVENT, dict(
                        tier=name, status="stalled", target=tier["target"],
                        actual=tier["actual"]))
                if self.settle_after is not None:
                    server.later(self.settle_after, self._settle, server, name)
        return {}

    def _settle(self, server, name):
        tier = self.tiers[name]
        tier["actual"] = tier["guest-actual"] = tier["target"]
        tier["status"] = "settled"
        when = time.time()
        time.sleep(self.deliver_after)
        server.event(hyperflex.EVENT, dict(tier=name, status="settled",
                                           target=tier["target"], actual=tier["actual"]),
                     when)

    def query(self, server, args):
        return {"tiers": [dict(self.tiers[t]) for t in hyperflex.TIERS],
                "rejected": {"malformed": 1, "outside-tier": 2, "duplicate": 3,
                             "not-ballooned": 4, "throttled": 5}}


# --- harness -------------------------------------------------------------

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Failed(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise Failed(what)


def expect_eq(got, want, what):
    if got != want:
        raise Failed("%s: got %r, want %r" % (what, got, want))


@contextlib.contextmanager
def socket_dir():
    path = tempfile.mkdtemp(prefix="hf-test-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def fake_server(handlers=None, **kw):
    with socket_dir() as d:
        server = FakeQMP(os.path.join(d, "qmp.sock"), handlers, **kw)
        try:
            yield server
        finally:
            server.stop()


def run_main(argv):
    """hyperflex.main(@argv): (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = hyperflex.main(argv, out, err)
        except SystemExit as e:         # argparse's usage errors
            status = e.code
    return status, out.getvalue(), err.getvalue()


# --- SIZE ------------------------------------------------------------------

@test
def size_accepts_bytes_and_suffixes():
    good = {"1048576": 1048576, "768M": 768 * MiB, "1G": GiB, "1g": GiB, "4K": 4096,
            "4k": 4096, "2T": 2 << 40, "768MiB": 768 * MiB, "1GiB": GiB, "4096B": 4096,
            "0768M": 768 * MiB, "1": 1, "18446744073709551615": (1 << 64) - 1}
    for text, want in good.items():
        expect_eq(hyperflex.parse_size(text), want, "parse_size(%r)" % text)


@test
def size_refuses_bad_input():
    bad = ["", "0", "0M", "000G", "-1G", "+1G", "1.5G", "1MB", "1gb", "G", "12X", " 1G",
           "1G ", "1 G", "1G\n", "1_000", "\u0661\u0662", "0x100", "1e9", "16777216T",
           "18446744073709551616", "9" * 5000, "1KiBB"]
    for text in bad:
        try:
            value = hyperflex.parse_size(text)
        except ValueError as e:
            expect("invalid SIZE" in str(e), "reason for %r: %s" % (text, e))
        else:
            raise Failed("parse_size(%r) accepted it: %r" % (text, value))


@test
def size_is_printed_exactly():
    for n, want in ((0, "0 B"), (1, "1 B"), (4096, "4 KiB"), (768 * MiB, "768 MiB"),
                    (GiB, "1 GiB"), (3 * GiB + 4096, "3145732 KiB"), (1 << 40, "1 TiB")):
        expect_eq(hyperflex.format_size(n), want, "format_size(%d)" % n)


# --- arguments -------------------------------------------------------------

@test
def bad_arguments_exit_2_with_usage():
    cases = [
        ([], "required"),
        (["frobnicate"], "invalid choice"),
        (["set"], "give --fast SIZE, --slow SIZE or both"),
        (["set", "--fast", "12X"], "invalid SIZE '12X'"),
        (["set", "--slow", "0"], "must be more than 0"),
        (["set", "--fast", "1G", "--timeout", "5"], "--timeout needs --wait"),
        (["set", "--fast", "1G", "--wait", "--timeout", "0"], "more than 0"),
        (["set", "--fast", "1G", "--wait", "--timeout", "nan"], "more than 0"),
        (["query", "--bogus"], "unrecognized arguments"),
        (["watch", "--timeout", "-1"], "more than 0"),
    ]
    for argv, message in cases:
        status, out, err = run_main(argv)
        expect_eq(status, 2, "exit status of %s" % argv)
        expect("usage:" in err, "usage printed for %s: %r" % (argv, err))
        expect(message in err, "%r in the error for %s: %r" % (message, argv, err))
        expect_eq(out, "", "stdout for %s" % argv)


@test
def missing_socket_is_a_clear_error():
    with socket_dir() as d:
        path = os.path.join(d, "none.sock")
        status, out, err = run_main(["--qmp", path, "--connect-timeout", "0.2", "query"])
    expect_eq(status, 1, "exit status")
    expect(err.startswith("hyperflex: cannot connect to %s: " % path), repr(err))
    expect("is the VM running?" in err, repr(err))


@test
def qmp_option_works_after_the_subcommand():
    balloon = FakeBalloon()
    with fake_server(balloon.handlers()) as server:
        status, out, err = run_main(["query", "--qmp", server.path])
    expect_eq((status, err), (0, ""), "exit status and stderr")
    expect("fast" in out, repr(out))


# --- the QMP client --------------------------------------------------------

@test
def client_negotiates_capabilities():
    with fake_server() as server:
        with qmp.QMP(server.path, timeout=5) as client:
            expect_eq(client.greeting, GREETING, "greeting kept")
        time.sleep(0.05)
        expect_eq([r["execute"] for r in server.received], ["qmp_capabilities"],
                  "commands the server saw")


@test
def client_command_error_is_raised_and_returned():
    def fails(server, args):
        raise FakeError("No balloon device with tiers")
    with fake_server({"balloon-tiers": fails}) as server:
        with qmp.QMP(server.path, timeout=5) as client:
            try:
                client.execute("balloon-tiers", fast=GiB)
            except qmp.QMPError as e:
                expect_eq((e.command, e.error_class, e.desc),
                          ("balloon-tiers", "GenericError", "No balloon device with tiers"),
                          "error fields")
            else:
                raise Failed("execute() did not raise")
            reply = client.cmd("balloon-tiers", {"fast": GiB})
            expect_eq(reply, {"error": {"class": "GenericError",
                                        "desc": "No balloon device with tiers"}}, "raw reply")
            expect_eq(server.received[-1].get("arguments"), {"fast": GiB}, "arguments sent")


@test
def client_keeps_events_that_come_between_replies():
    def noisy(server, args):
        server.event("FIRST", {"n": 1})
        server.event("SECOND", {"n": 2})
        return {"answer": args["n"]}
    with fake_server({"noisy": noisy}) as server:
        with qmp.QMP(server.path, timeout=5) as client:
            expect_eq(client.execute("noisy", n=1), {"answer": 1}, "first reply")
            expect_eq(client.execute("noisy", n=2), {"answer": 2}, "second reply")
            names = [(e["event"], e["data"]["n"]) for e in client.events]
            expect_eq(names, [("FIRST", 1), ("SECOND", 2), ("FIRST", 1), ("SECOND", 2)],
                      "events kept in order")
            # A predicate picks one; the others stay, in order.
            got = client.wait_event("SECOND", timeout=0)
            expect_eq(got["data"], {"n": 2}, "wait_event by name")
            expect_eq([e["event"] for e in client.events], ["FIRST", "FIRST", "SECOND"],
                      "left in the queue")
            got = client.wait_event(predicate=lambda e: e["event"] == "SECOND", timeout=0)
            expect(got is not None, "wait_event by predicate")
            expect_eq([e["event"] for e in client.take_events()], ["FIRST", "FIRST"],
                      "take_events")
            expect_eq(len(client.events), 0, "queue empty after take_events")


@test
def client_skips_replies_to_other_requests():
    def stale(server, args):
        server.send({"return": {"stale": True}, "id": "someone-else"})
        return {"fresh": True}
    with fake_server({"stale": stale}) as server:
        with qmp.QMP(server.path, timeout=5) as client:
            expect_eq(client.execute("stale"), {"fresh": True}, "the matching reply")


@test
def client_reassembles_split_messages():
    def split(server, args):
        server.send({"event": "SPLIT", "data": {"x": "y" * 300}}, chunks=7)
        return "whole"
    with fake_server({"split": split}) as server:
        with qmp.QMP(server.path, timeout=5) as client:
            expect_eq(client.execute("split"), "whole", "reply after a split event")
            expect_eq(client.wait_event("SPLIT", timeout=0)["data"]["x"], "y" * 300,
                      "split event")


@test
def wait_event_blocks_until_the_event_arrives():
    with fake_server() as server:
        with qmp.QMP(server.path, timeout=5) as client:
            server.event_later(0.2, "OTHER", {})
            server.event_later(0.3, "LATE", {"ok": True})
            began = time.monotonic()
            got = client.wait_event("LATE", timeout=5)
            took = time.monotonic() - began
            expect(got is not None and got["data"] == {"ok": True}, repr(got))
            expect(0.25 <= took < 3, "waited %.2f s" % took)
            expect_eq([e["event"] for e in client.events], ["OTHER"],
                      "the other event kept")


@test
def wait_event_times_out():
    with fake_server() as server:
        with qmp.QMP(server.path, timeout=5) as client:
            server.event("NOT_THIS", {})
            began = time.monotonic()
            got = client.wait_event("NEVER", timeout=0.3)
            took = time.monotonic() - began
            expect(got is None, "no event expected, got %r" % got)
            expect(0.3 <= took < 2, "timed out after %.2f s" % took)
            expect_eq([e["event"] for e in client.events], ["NOT_THIS"], "queue")
            # The session is still usable after a timeout.
            expect_eq(client.execute("qmp_capabilities"), {}, "command after timeout")


@test
def client_retries_until_the_socket_exists():
    with fake_server(listen_after=0.3) as server:
        began = time.monotonic()
        with qmp.QMP(server.path, timeout=5):
            took = time.monotonic() - began
        expect(0.25 <= took < 4, "connected after %.2f s" % took)


@test
def client_without_greeting_times_out():
    with fake_server(greet=False) as server:
        try:
            qmp.QMP(server.path, timeout=0.3)
        except TimeoutError as e:
            expect("no QMP greeting" in str(e), str(e))
        else:
            raise Failed("connected to a silent server")


@test
def client_reports_closed_connection():
    def bye(server, args):
        server.stop()
        return {}
    with fake_server({"quit-now": bye}) as server:
        with qmp.QMP(server.path, timeout=5) as client:
            try:
                client.cmd("quit-now")
            except qmp.QMPConnectionClosed:
                pass
            else:
                raise Failed("no QMPConnectionClosed")


@test
def client_drops_oldest_events_beyond_its_limit():
    def burst(server, args):
        for i in range(10):
            server.event("E", {"i": i})
        return {}
    with fake_server({"burst": burst}) as server:
        with qmp.QMP(server.path, timeout=5, max_events=4) as client:
            client.execute("burst")
            expect_eq([e["data"]["i"] for e in client.events], [6, 7, 8, 9], "kept")
            expect_eq(client.dropped_events, 6, "dropped")


@test
def vm_py_uses_the_shared_client():
    scripts = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))),
                           "scripts")
    sys.path.insert(0, scripts)
    try:
        import vm
    finally:
        sys.path.remove(scripts)
    expect(vm.QMP is qmp.QMP, "vm.QMP is not the shared qmp.QMP")


# --- subcommands against a fake device ---------------------------------------

@test
def query_prints_a_table_and_raw_json():
    balloon = FakeBalloon()
    balloon.tiers["fast"]["guest-stats"] = {
        "free": 512 * MiB, "total": 768 * MiB, "inflated": 65536, "deflated": 0,
        "oom-deflated": 0, "alloc-failures": 3}
    with fake_server(balloon.handlers()) as server:
        status, out, err = run_main(["--qmp", server.path, "query"])
        expect_eq((status, err), (0, ""), "exit status and stderr")
        lines = out.splitlines()
        expect(lines[0].split()[:4] == ["tier", "node", "size", "target"], lines[0])
        expect(lines[1].split()[:4] == ["fast", "0", "1", "GiB"], lines[1])
        expect(lines[2].split()[:4] == ["slow", "1", "2", "GiB"], lines[2])
        expect("guest-reported:" in lines, "guest stats shown: %r" % out)
        expect(any(l.split()[:1] == ["fast"] and "65536" in l and l.rstrip().endswith("3")
                   for l in lines[4:]), "guest stats row: %r" % out)
        expect_eq(lines[-1], "rejected: malformed 1, outside-tier 2, duplicate 3, "
                  "not-ballooned 4, throttled 5", "rejected line")
        status, out, err = run_main(["--qmp", server.path, "query", "--json"])
        expect_eq(status, 0, "exit status with --json")
        expect_eq(json.loads(out), balloon.query(server, {}), "raw reply")


@test
def qmp_error_is_printed_with_exit_1():
    def none(server, args):
        raise FakeError("No balloon device with tiers")
    with fake_server({"balloon-tiers": none}) as server:
        status, out, err = run_main(["--qmp", server.path, "set", "--fast", "768M"])
    expect_eq((status, out, err), (1, "", "hyperflex: No balloon device with tiers\n"),
              "status, stdout, stderr")


@test
def set_sends_bytes_without_waiting():
    balloon = FakeBalloon()
    with fake_server(balloon.handlers()) as server:
        status, out, err = run_main(["--qmp", server.path, "set", "--fast", "768M",
                                     "--slow", "1048576"])
        expect_eq((status, out, err), (0, "", ""), "status, stdout, stderr")
        sent = [r for r in server.received if r["execute"] == "balloon-tiers"]
        expect_eq([r["arguments"] for r in sent], [{"fast": 768 * MiB, "slow": MiB}],
                  "arguments")
        expect(not any(r["execute"] == "query-balloon-tiers" for r in server.received),
               "no query without --wait")


@test
def set_wait_reports_settling_time():
    # A settled event of an older target, delivered late, must not end the wait.
    older = {"tier": "fast", "status": "settled", "target": 900 * MiB, "actual": 900 * MiB}
    balloon = FakeBalloon(settle_after=0.3, stall_first=True, late_event=older)
    with fake_server(balloon.handlers()) as server:
        status, out, err = run_main(["--qmp", server.path, "set", "--fast", "768M",
                                     "--wait", "--timeout", "10"])
    expect_eq(status, 0, "exit status (stderr %r)" % err)
    lines = out.splitlines()
    expect_eq(len(lines), 1, "one line: %r" % out)
    head, _, seconds = lines[0].rpartition(" after ")
    expect_eq(head, "fast: settled at 768 MiB", "settled line")
    took = float(seconds.rstrip(" s"))
    expect(0.25 <= took < 5, "elapsed %.2f s" % took)
    expect_eq(err, "hyperflex: fast: stalled at 1 GiB (target 768 MiB), still waiting\n",
              "the stall is reported")


@test
def set_wait_times_from_the_event_stamp():
    balloon = FakeBalloon(settle_after=0.1, deliver_after=0.8)
    with fake_server(balloon.handlers()) as server:
        status, out, err = run_main(["--qmp", server.path, "set", "--fast", "512M",
                                     "--wait", "--timeout", "10"])
    expect_eq((status, err), (0, ""), "exit status and stderr")
    took = float(out.rpartition(" after ")[2].rstrip().rstrip(" s"))
    expect(0.05 <= took < 0.6, "elapsed %.2f s, want the stamped ~0.1 s" % took)


@test
def set_wait_on_both_tiers_and_already_settled():
    balloon = FakeBalloon(settle_after=0.1)
    with fake_server(balloon.handlers()) as server:
        # slow: the size it has already, so it is settled at once.
        status, out, err = run_main(["--qmp", server.path, "set", "--fast", "1000M",
                                     "--slow", "2G", "--wait", "--timeout", "10"])
    expect_eq((status, err), (0, ""), "exit status and stderr")
    tiers = sorted(l.split(":")[0] for l in out.splitlines())
    expect_eq(tiers, ["fast", "slow"], "both tiers reported: %r" % out)
    expect("slow: settled at 2 GiB after" in out, repr(out))
    expect("fast: settled at 1000 MiB after" in out, repr(out))


@test
def set_wait_times_out_with_exit_1():
    balloon = FakeBalloon(settle_after=None)
    with fake_server(balloon.handlers()) as server:
        began = time.monotonic()
        status, out, err = run_main(["--qmp", server.path, "set", "--slow", "1G",
                                     "--wait", "--timeout", "0.3"])
        took = time.monotonic() - began
    expect_eq(status, 1, "exit status")
    expect_eq(out, "", "stdout")
    expect_eq(err, "hyperflex: slow: not settled after 0.3 s: actual 2 GiB, "
              "target 1 GiB, moving\n", "stderr")
    expect(took < 5, "gave up after %.2f s" % took)


@test
def watch_prints_one_line_per_event():
    with fake_server() as server:
        server.event_later(0.1, hyperflex.EVENT, {"tier": "slow", "status": "stalled",
                                                  "target": GiB, "actual": 1536 * MiB})
        server.event_later(0.2, "BALLOON_CHANGE", {"actual": 3 * GiB})
        status, out, err = run_main(["--qmp", server.path, "watch", "--timeout", "0.6"])
    expect_eq((status, err), (0, ""), "exit status and stderr")
    lines = out.splitlines()
    expect_eq(len(lines), 2, "lines: %r" % out)
    expect(lines[0].endswith(" BALLOON_TIER_CHANGE slow stalled target 1 GiB "
                             "actual 1536 MiB"), lines[0])
    expect(lines[1].endswith(' BALLOON_CHANGE {"actual": 3221225472}'), lines[1])


@test
def watch_json_prints_raw_events():
    with fake_server() as server:
        server.event_later(0.1, "X", {"a": 1})
        status, out, err = run_main(["--qmp", server.path, "watch", "--json",
                                     "--timeout", "0.4"])
    expect_eq(status, 0, "exit status")
    events = [json.loads(l) for l in out.splitlines()]
    expect_eq([(e["event"], e["data"]) for e in events], [("X", {"a": 1})], "events")


@test
def watch_ends_with_exit_1_when_qemu_goes_away():
    def stop_once_connected(server):
        server.connected.wait(5)
        server.stop()
    with fake_server() as server:
        server.later(0.2, stop_once_connected, server)
        status, out, err = run_main(["--qmp", server.path, "watch", "--timeout", "5"])
    expect_eq(status, 1, "exit status")
    expect("QMP connection closed" in err, repr(err))


def main():
    # A hung test must not hang `make unit`.
    signal.signal(signal.SIGALRM, lambda *_: (print("Bail out! timed out"),
                                              sys.stdout.flush(), os._exit(1)))
    signal.alarm(120)
    print("TAP version 13")
    print("1..%d" % len(TESTS))
    failed = 0
    for number, fn in enumerate(TESTS, 1):
        name = fn.__name__
        try:
            fn()
        except Exception as e:          # a failed check or a crash
            failed += 1
            print("not ok %d - %s" % (number, name))
            detail = str(e) if isinstance(e, Failed) else traceback.format_exc()
            for line in detail.splitlines():
                print("# " + line)
        else:
            print("ok %d - %s" % (number, name))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
