"""Nothing a test starts outlives pytest, however pytest ends: Ctrl-C, SIGTERM or SIGKILL.

A pytest plugin (tests/conftest.py loads it) with three guards:

- The session marks its environment (FASTGROUP_TEST_SESSION, a random token), so every process a
  test starts carries the mark, and so do their children: a leaderboard's page, API and workers,
  a worker's judges, a kept judge in a session of its own. A watchdog (tests/support/watchdog.py),
  in a session of its own so a terminal's Ctrl-C does not reach it, waits for pytest to end and
  then stops every process that carries the mark. At the session's end pytest waits for it, and
  names on stderr what the tests left running; after a SIGKILL of pytest it sees pytest go.
  A sandbox's processes have a clean environment: bubblewrap kills them as it goes
  (--die-with-parent).
- die_with_pytest: the preexec_fn of the servers and workers tests start (tests/support); they
  get SIGKILL the moment pytest's process ends (Linux's PR_SET_PDEATHSIG), before the watchdog
  even looks.
- A test that installs its own SIGINT or SIGTERM handler (grader.board.worker.run does, in
  process) has pytest's handed back when it ends, so Ctrl-C and SIGTERM work for every later test.
"""

import ctypes
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

MARK = "FASTGROUP_TEST_SESSION"
WATCHDOG = Path(__file__).with_name("watchdog.py")
PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
_PYTEST_PID = os.getpid()  # the process that loaded the plugin; a forked child still sees its parent's
_watchdog: dict = {}


def die_with_pytest() -> None:
    """preexec_fn for a child a test starts: SIGKILL when pytest's process ends (Linux), and SIGINT
    at its default (a shell's background job, pytest run with `&`, ignores it, and its children
    would inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != _PYTEST_PID:  # pytest ended before prctl took hold
            os._exit(1)


def pytest_configure(config):
    token = uuid.uuid4().hex
    os.environ[MARK] = token
    read, write = os.pipe()  # not inheritable: pytest alone holds the write end, the lifeline
    env = {k: v for k, v in os.environ.items() if k != MARK}  # the watchdog is not marked itself
    process = subprocess.Popen([sys.executable, "-S", str(WATCHDOG), str(os.getpid()), token], stdin=read,
                               stdout=subprocess.PIPE, env=env, start_new_session=True)
    os.close(read)
    _watchdog.update(process=process, lifeline=write, config=config)


def pytest_unconfigure(config):
    """The session is over (passed, failed or interrupted): what its tests left running is stopped
    now, and named."""
    if _watchdog.get("config") is not config:
        return
    process, lifeline = _watchdog["process"], _watchdog["lifeline"]
    _watchdog.clear()
    tracker = sys.modules.get("multiprocessing.resource_tracker")  # pytest's own helper (spawned pools'
    stop_tracker = getattr(getattr(tracker, "_resource_tracker", None), "_stop", None)  # bookkeeping):
    if stop_tracker is not None:  # it ends here as it would at pytest's exit, not as a leftover
        stop_tracker()
    os.close(lifeline)
    try:
        report = process.communicate(timeout=60)[0].decode(errors="replace").strip()
    except subprocess.TimeoutExpired:
        process.kill()
        report = "fastgroup tests: the watchdog did not finish its cleanup in 60 s"
    if report:
        sys.stderr.write(f"\n{report}\n")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """pytest's SIGINT and SIGTERM handlers are handed back after each test."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return (yield)
    finally:
        for sig, handler in saved.items():
            if handler is not None and signal.getsignal(sig) is not handler:
                signal.signal(sig, handler)
