"""grader/board/launch.py: `fastgroup leaderboard` serves the page and the API and grades what
arrives, logging each arrival and grade; stopping it stops its Streamlit server, its API and its
grading workers too."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx

from tests.board.test_api import member_cli
from tests.support.kit import SOLUTIONS
from tests.support.services import free_port, start_leaderboard, stop_group


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


def child_of(parent: int, word: str) -> int | None:
    """The live child of `parent` whose command line holds `word` (read from /proc)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(fields[1]) == parent and fields[0] != "Z" and word in command:
                return int(entry)
    return None


def gone(pid: int) -> bool:
    """True once `pid` is no more, not even a zombie: its parent reaped it."""
    return not Path(f"/proc/{pid}").exists()


def dead(pid: int) -> bool:
    """Gone, or a zombie nobody has reaped yet (an orphan's, in a container whose init does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


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


def test_an_api_or_worker_that_dies_is_started_again_with_one_line_and_the_api_answers_again(tmp_path):
    server, _url, api = start_leaderboard(tmp_path, f"sqlite:///{tmp_path / 'board.db'}")
    log = tmp_path / "streamlit.log"
    try:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pid = child_of(server.pid, "uvicorn")
            assert pid, log.read_text()
            os.kill(pid, sig)
            deadline = time.monotonic() + 60
            while True:
                new = child_of(server.pid, "uvicorn")
                with contextlib.suppress(httpx.HTTPError):
                    if new not in (None, pid) and httpx.get(f"{api}/api/v1/board", timeout=5).status_code == 200:
                        break
                assert time.monotonic() < deadline, f"the API did not answer again after {sig.name}: {log.read_text()}"
                time.sleep(0.3)
            assert gone(pid), f"the API killed by {sig.name} was left a zombie"
            said = [line for line in log.read_text().splitlines() if f"(pid {pid}) stopped" in line]
            assert len(said) == 1, log.read_text()
            assert said[0].split(" ", 1)[1].startswith("the API (uvicorn)") and f"started again as pid {new}" in said[0]
            if sig is signal.SIGKILL:
                assert "(killed by SIGKILL)" in said[0]
        assert server.poll() is None and listening(_url)  # the page went on all along
        worker = child_of(server.pid, "grader.cli worker")
        os.kill(worker, signal.SIGTERM)  # a local grading worker is watched too
        deadline = time.monotonic() + 60
        while not (new := child_of(server.pid, "grader.cli worker")) or new == worker or not gone(worker):
            assert time.monotonic() < deadline, f"the worker was not started again: {log.read_text()}"
            time.sleep(0.3)
        said = [line for line in log.read_text().splitlines() if f"(pid {worker}) stopped" in line]
        assert len(said) == 1 and "grading worker 1" in said[0] and f"started again as pid {new}" in said[0]
    finally:
        stop_group(server)
    assert group_members(server.pid) == []


def test_an_api_that_keeps_dying_ends_the_board_with_one_line_and_leaves_no_process(tmp_path):
    """The API's port is taken: uvicorn exits at every start; the board ends, non-zero, in one line."""
    from grader.board.store import Store

    db = f"sqlite:///{tmp_path / 'board.db'}"
    Store.open(db, create=True).close()
    port, api_port = free_port(), free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", api_port))
        taken.listen()
        board = subprocess.Popen(
            [sys.executable, "-m", "grader.cli", "leaderboard", "--port", str(port), "--api-port", str(api_port),
             "--workers", "0"],
            env={**os.environ, "FASTGROUP_DB_URL": db}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=tmp_path, start_new_session=True,
        )  # fmt: skip
        try:
            out, err = board.communicate(timeout=300)
        finally:
            stop_group(board)
    restarts = [line for line in out.splitlines() if "the API (uvicorn)" in line and "started again" in line]
    ended = [line for line in err.splitlines() if line.startswith("error:")]
    assert board.returncode == 2, out + err
    assert len(restarts) == 5 and len(ended) == 1, out + err
    assert "the API (uvicorn) stopped 6 times in a row" in ended[0] and "exit code" in ended[0]
    deadline = time.monotonic() + 10
    while group_members(board.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert group_members(board.pid) == [], "a child outlived fastgroup leaderboard"
    assert not listening(f"http://127.0.0.1:{port}"), "the page still serves its port"


def test_the_board_killed_with_sigkill_takes_its_children_with_it(tmp_path):
    """Its page, API and workers die with it (what a SIGKILLed worker's own judges do is the engine's)."""
    server, url, api = start_leaderboard(tmp_path, f"sqlite:///{tmp_path / 'board.db'}")
    try:
        children = [child_of(server.pid, word) for word in ("streamlit", "uvicorn", "grader.cli worker")]
        assert all(children), children
        server.send_signal(signal.SIGKILL)  # no chance to stop them itself
        server.wait(timeout=30)
        deadline = time.monotonic() + 30
        while (listening(url) or listening(api) or not all(map(dead, children))) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not listening(url) and not listening(api), "a child outlived fastgroup leaderboard's SIGKILL"
        assert all(map(dead, children)), "a child outlived fastgroup leaderboard's SIGKILL"
    finally:
        stop_group(server)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
