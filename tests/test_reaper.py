"""tests/support/reaper.py: pytest stopped by Ctrl-C, SIGTERM or SIGKILL leaves no server behind.

A real pytest runs two small tests: the first takes SIGINT and SIGTERM over, as the board's worker
does when a test runs it in process; the second starts the board's API as the board's tests do
(tests/support/api.py) and a bare process in a session of its own (as a kept judge is), then
waits. That pytest is sent the signal; it must end, and both processes with it.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support.kit import KIT_ROOT
from tests.support.reaper import die_with_pytest

INNER = '''
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from grader.board.store import Store
from tests.support.api import start_api


def test_a_worker_in_process_takes_the_signals_over():
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)


def test_serves_until_stopped(tmp_path):
    url = f"sqlite:///{tmp_path / 'board.db'}"
    Store.open(url, create=True).close()
    api, _url = start_api(url, tmp_path / "api.log")
    bare = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    Path(os.environ["SERVER_PIDS"]).write_text(f"{api.pid} {bare.pid}")
    time.sleep(600)
'''


def running(pid: int) -> bool:
    """Alive and not a zombie (one whose parent is gone waits for init to reap it)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the watchdog reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_pytest_ended_by_a_signal_leaves_no_server_behind(tmp_path, sig):
    (tmp_path / "test_inner.py").write_text(INNER)
    pid_file, log = tmp_path / "pids", tmp_path / "inner.log"
    env = {**os.environ, "SERVER_PIDS": str(pid_file), "PYTHONPATH": str(KIT_ROOT)}
    with log.open("w") as out:
        inner = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "tests.support.reaper", "-p", "no:cacheprovider", "-q",
             "test_inner.py"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_pytest,  # SIGINT at its default even where this pytest runs as a background job
        )  # fmt: skip
    servers = []
    try:
        while not (pid_file.exists() and pid_file.read_text()):  # the API answers, the bare process runs
            assert inner.poll() is None, log.read_text()
            time.sleep(0.2)
        servers = [int(pid) for pid in pid_file.read_text().split()]
        assert all(running(pid) for pid in servers)
        time.sleep(0.5)  # pytest is in the test's sleep
        inner.send_signal(sig)  # to pytest alone, as `kill PID` does (a terminal's Ctrl-C, to its group)
        inner.wait(timeout=60)  # at once: a backstop against a pytest that ignores the signal
        deadline = time.monotonic() + 30  # the watchdog's SIGTERM, then SIGKILL 2 s later: a backstop
        while any(running(pid) for pid in servers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in servers if running(pid)], log.read_text()
        if sig == signal.SIGINT:  # pytest lived to tell: the session's end named what it stopped
            assert "2 process(es) that tests left running were stopped" in log.read_text(), log.read_text()
    finally:
        for pid in [inner.pid, *servers]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        inner.wait()
