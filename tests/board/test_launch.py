"""grader/board/launch.py: stopping `fastgroup leaderboard` stops its Streamlit server and its
grading workers too."""

import contextlib
import os
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

from tests.support.services import start_leaderboard, stop_group


def group_members(pgid: int) -> list[int]:
    """PIDs still alive in a process group (read from /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(entry))
    return pids


def listening(url: str) -> bool:
    parsed = urlparse(url)
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((parsed.hostname, parsed.port)) == 0


def test_sigterm_to_the_command_stops_the_server_and_leaves_no_process(tmp_path):
    server, url = start_leaderboard(tmp_path, f"sqlite:///{tmp_path / 'board.db'}")
    try:
        assert listening(url)
        assert len(group_members(server.pid)) >= 3  # fastgroup, its Streamlit child, a grading worker
        server.send_signal(signal.SIGTERM)  # to fastgroup alone, as `kill PID` does
        server.wait(timeout=30)
        deadline = time.monotonic() + 10
        while (listening(url) or group_members(server.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not listening(url), "Streamlit still serves the port"
        assert group_members(server.pid) == [], "a child outlived fastgroup leaderboard"
    finally:
        stop_group(server)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
