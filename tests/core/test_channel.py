"""grader/core/channel.py: the one channel to a sandboxed process, fed what a hostile process could write."""

import contextlib
import os
import threading
import time

import pytest

from grader.core.channel import ChannelClosed, ChannelFlooded, ChannelTimeout, Inbox, Outbox, dumps


@pytest.fixture
def pipe():
    read, write = os.pipe()
    yield read, write
    for fd in (read, write):
        with contextlib.suppress(OSError):
            os.close(fd)


def test_junk_lines_are_skipped_and_the_message_comes_through(pipe):
    read, write = pipe
    os.write(write, b"not json\n[1, 2]\n{\"broken\": \n" + dumps({"id": "a", "ok": 1}))
    assert Inbox(read).receive(time.monotonic() + 5) == {"id": "a", "ok": 1}


def test_a_message_split_over_many_writes_is_put_together(pipe):
    read, write = pipe
    line = dumps({"ok": "x" * 300_000})

    def trickle():
        for i in range(0, len(line), 7000):
            os.write(write, line[i:i + 7000])

    writer = threading.Thread(target=trickle)
    writer.start()
    assert Inbox(read).receive(time.monotonic() + 10)["ok"] == "x" * 300_000
    writer.join()


def test_silence_times_out_and_an_end_is_closed(pipe):
    read, write = pipe
    inbox = Inbox(read)
    with pytest.raises(ChannelTimeout):
        inbox.receive(time.monotonic() + 0.2)
    os.close(write)
    with pytest.raises(ChannelClosed):
        inbox.receive(time.monotonic() + 5)


def test_a_line_past_the_cap_floods(pipe):
    read, write = pipe
    threading.Thread(target=lambda: os.write(write, b"x" * 5000), daemon=True).start()
    with pytest.raises(ChannelFlooded):
        Inbox(read, cap=1000).receive(time.monotonic() + 5)


def test_the_sending_side_sends_too_large_instead_of_an_over_cap_line(pipe):
    read, write = pipe
    Outbox(write, cap=1000).send({"id": "b", "ok": "x" * 5000})
    message = Inbox(read, cap=1000).receive(time.monotonic() + 5)
    assert message["id"] == "b" and message["too_large"] > 5000
