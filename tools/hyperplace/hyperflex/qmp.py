# SPDX-License-Identifier: GPL-2.0
"""A small QMP client for QEMU's monitor on a unix socket.

One command at a time: cmd() sends a command and returns its reply.
Events that arrive meanwhile are not lost: they are kept, in order, for
wait_event() and take_events().  Standard library only, so that
scripts/vm.py, scripts/hyperflex-test.py and
tools/hyperplace/hyperflex/hyperflex.py can use it on a bare host.
"""

import collections
import json
import socket
import time


class QMPError(Exception):
    """A command failed: QEMU's error class and description."""

    def __init__(self, command, error_class, desc):
        super().__init__(desc)
        self.command = command
        self.error_class = error_class
        self.desc = desc


class QMPProtocolError(Exception):
    """The peer sent something that is not QMP."""


class QMPConnectionClosed(EOFError):
    """QEMU closed the connection (it quit, or the socket was taken over)."""


class QMP:
    """A connected, capabilities-negotiated QMP session.

    @path: the unix socket (-qmp unix:PATH,server=on)
    @timeout: seconds to wait for the greeting and for each reply
    @connect_timeout: seconds to keep retrying the connection (QEMU may
        not have created the socket yet); defaults to @timeout
    @max_events: events kept for wait_event(); older ones are dropped
        first (counted in dropped_events), so a session that never reads
        its events does not grow without bound
    """

    def __init__(self, path, timeout=30, connect_timeout=None, max_events=4096):
        self.path = path
        self.timeout = timeout
        self.events = collections.deque()
        self.max_events = max_events
        self.dropped_events = 0
        self._buffer = b""
        self._last_id = 0
        self._sock = self._connect(path, timeout if connect_timeout is None
                                   else connect_timeout)
        try:
            self.greeting = self._receive(time.monotonic() + timeout)
            if self.greeting is None:
                # QEMU serves one QMP client at a time; a second one is
                # accepted by the kernel but never greeted.
                raise TimeoutError("no QMP greeting on %s within %g s "
                                   "(is another client connected?)"
                                   % (path, timeout))
            if "QMP" not in self.greeting:
                raise QMPProtocolError("%s: not a QMP greeting: %s"
                                       % (path, json.dumps(self.greeting)[:200]))
            self.execute("qmp_capabilities")
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _connect(path, connect_timeout):
        deadline = time.monotonic() + connect_timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
                return sock
            except OSError:
                sock.close()
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _receive(self, deadline):
        """The next message, or None once @deadline (time.monotonic(), or
        None for no limit) has passed without a whole message."""
        while True:
            while b"\n" not in self._buffer:
                if deadline is None:
                    self._sock.settimeout(None)
                else:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return None
                    self._sock.settimeout(remaining)
                try:
                    chunk = self._sock.recv(65536)
                except socket.timeout:
                    return None
                if not chunk:
                    raise QMPConnectionClosed("QMP connection closed")
                self._buffer += chunk
            line, self._buffer = self._buffer.split(b"\n", 1)
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError:
                raise QMPProtocolError("not JSON: %r" % line[:200]) from None
            if not isinstance(message, dict):
                raise QMPProtocolError("not a JSON object: %r" % line[:200])
            return message

    def _keep_event(self, event):
        if len(self.events) >= self.max_events:
            self.events.popleft()
            self.dropped_events += 1
        self.events.append(event)

    def cmd(self, name, arguments=None, **kwargs):
        """Run command @name and return QEMU's reply as it came:
        {"return": ...} or {"error": {"class": ..., "desc": ...}}.

        Arguments come from the @arguments dict (for names with a '-')
        and from keyword arguments.  Raises TimeoutError when no reply
        arrives within the session's timeout.
        """
        args = dict(arguments or {}, **kwargs)
        self._last_id += 1
        request_id = "hf-%d" % self._last_id
        request = {"execute": name, "id": request_id}
        if args:
            request["arguments"] = args
        self._sock.sendall(json.dumps(request).encode() + b"\n")
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline)
            if message is None:
                raise TimeoutError("no reply to %s within %g s" % (name, self.timeout))
            if "event" in message:
                self._keep_event(message)
                continue
            # QEMU echoes the id; only a request it could not parse gets
            # a reply without one, and that request was ours.
            if message.get("id", request_id) != request_id:
                continue
            message.pop("id", None)
            return message

    def execute(self, name, arguments=None, **kwargs):
        """Run command @name; return the value of its reply, or raise
        QMPError with QEMU's description."""
        reply = self.cmd(name, arguments, **kwargs)
        if "error" in reply:
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            raise QMPError(name, error.get("class", "GenericError"),
                           error.get("desc", json.dumps(reply["error"])))
        if "return" not in reply:
            raise QMPProtocolError("reply to %s without return or error: %s"
                                   % (name, json.dumps(reply)[:200]))
        return reply["return"]

    def take_events(self):
        """All events kept so far, oldest first; the queue is emptied."""
        taken = list(self.events)
        self.events.clear()
        return taken

    def wait_event(self, name=None, predicate=None, timeout=None):
        """The oldest event, kept or arriving within @timeout seconds
        (None: no limit), whose name is @name (None: any) and for which
        @predicate(event) is true.  It is taken out of the queue; other
        events stay queued.  The event is the whole message: "event",
        "data" (may be missing) and "timestamp".  Returns None on timeout.
        """
        def wanted(event):
            return ((name is None or event.get("event") == name) and
                    (predicate is None or predicate(event)))

        for event in self.events:
            if wanted(event):
                self.events.remove(event)
                return event
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            message = self._receive(deadline)
            if message is None:
                return None
            if "event" not in message:
                continue        # a late reply to a command that timed out
            if wanted(message):
                return message
            self._keep_event(message)
