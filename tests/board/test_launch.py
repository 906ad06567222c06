"""grader/board/launch.py: `fastgroup leaderboard` serves the page and the API and grades what
arrives, logging each arrival and grade; stopping it stops its Streamlit server, its API and its
grading workers too."""

import contextlib
import os
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

from tests.board.test_api import member_cli
from tests.support.kit import SOLUTIONS
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


def test_a_member_submits_to_the_api_it_serves_and_the_organiser_sees_one_line_each(tmp_path):
    from grader.board.store import Store

    db = f"sqlite:///{tmp_path / 'board.db'}"
    server, _url, api = start_leaderboard(tmp_path, db)
    try:
        with Store.open(db) as store:
            token = store.add_member("ada")
        code = tmp_path / "mine"
        code.mkdir()
        (code / "mnist_loss.py").write_text((SOLUTIONS / "mnist_loss.py").read_text())
        sent = member_cli("submit", "--source", str(code), home=tmp_path / "home", token=token, board=api)
        assert sent.returncode == 0, sent.stderr
        assert "Graded #1" in sent.stdout and "mnist_loss         8/8" in sent.stdout
    finally:
        stop_group(server)
    log = (tmp_path / "streamlit.log").read_text()
    assert f"API for members on {api}" in log
    arrived = [line for line in log.splitlines() if "arrived #1 from ada" in line]
    graded = [line for line in log.splitlines() if "graded #1 for ada" in line]
    assert len(arrived) == 1 and len(graded) == 1 and "8/100" in graded[0], log


def test_sigterm_to_the_command_stops_the_server_and_leaves_no_process(tmp_path):
    server, url, api = start_leaderboard(tmp_path, f"sqlite:///{tmp_path / 'board.db'}")
    try:
        assert listening(url) and listening(api)
        assert len(group_members(server.pid)) >= 4  # fastgroup, its Streamlit child, the API, a grading worker
        server.send_signal(signal.SIGTERM)  # to fastgroup alone, as `kill PID` does
        server.wait(timeout=30)
        deadline = time.monotonic() + 10
        while (listening(url) or listening(api) or group_members(server.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not listening(url), "Streamlit still serves the port"
        assert not listening(api), "the API still serves its port"
        assert group_members(server.pid) == [], "a child outlived fastgroup leaderboard"
    finally:
        stop_group(server)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
