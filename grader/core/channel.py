"""The one channel between a judge and the sandboxed process it drives: JSON lines.

Requests go in on the process's stdin; messages come back on a pipe of their own (a descriptor
the process inherits), so nothing the learner's code prints mixes with them. The engine's
observer and the quiz's answer process both use it (values in grader/core/codec.py). The
sandboxed side can write anything on that pipe: `Inbox` skips lines that are not messages and
stops at the size cap; `Outbox` never sends a line over the cap, it sends `too_large` instead.
Torch-free.
"""

import contextlib
import json
import os
import select
import time

from grader.core.codec import MAX_BYTES


class ChannelClosed(Exception):  # noqa: N818
    """The other side closed the channel (it ended or crashed)."""


class ChannelTimeout(Exception):  # noqa: N818
    """Nothing came before the deadline."""


class ChannelFlooded(Exception):  # noqa: N818
    """The other side sent a line longer than the cap."""


def dumps(message: dict) -> bytes:
    return json.dumps(message, allow_nan=False, separators=(",", ":")).encode() + b"\n"


def loads(line: bytes, cap: int = MAX_BYTES) -> dict | None:
    """One message, or None for a line that is not one (too long, not JSON, too deep, not an object)."""
    if len(line) > cap:
        return None
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


class Outbox:
    """The sandboxed side's end: one message per line on descriptor `fd`."""

    def __init__(self, fd: int, cap: int = MAX_BYTES):
        self.fd, self.cap = fd, cap

    def send(self, message: dict) -> None:
        line = dumps(message)
        if len(line) > self.cap:
            line = dumps({"id": message.get("id"), "too_large": len(line)})
        view = memoryview(line)
        while view:
            view = view[os.write(self.fd, view):]


class Inbox:
    """The judge's end: messages read from descriptor `fd`, at most `cap` bytes a line."""

    def __init__(self, fd: int, cap: int = MAX_BYTES):
        self.fd, self.cap = fd, cap
        self.pending = b""

    def receive(self, deadline: float | None) -> dict:
        """The next message (lines that are not messages are skipped); ChannelTimeout after
        `deadline` (a time.monotonic() value; None waits for ever), ChannelClosed at the end,
        ChannelFlooded past the cap."""
        while True:
            complete = b"\n" in self.pending
            while not complete:
                wait = None if deadline is None else max(deadline - time.monotonic(), 0)
                ready, _, _ = select.select([self.fd], [], [], wait)
                if not ready:
                    raise ChannelTimeout()
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    raise ChannelClosed()
                self.pending += chunk
                complete = b"\n" in chunk  # only the new bytes need a look
                if not complete and len(self.pending) > self.cap + 1:
                    raise ChannelFlooded()
            line, self.pending = self.pending.split(b"\n", 1)
            message = loads(line, self.cap)
            if message is not None:
                return message

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)
