"""`fastgroup leaderboard`: serve leaderboard_app.py with Streamlit on this machine, the board's
HTTP API (api.py, with uvicorn) on the next port, and local grading workers (`fastgroup worker`
processes) beside them: one per two cores unless told. Both listen on 127.0.0.1 only: a reverse
proxy (README) gives members HTTPS. Their lines (arrivals, grades) go to this terminal. The
command watches what it started (Supervisor): a child that dies is started again, in one line."""

import os
import signal
import subprocess
import sys
import time

from grader.board.clock import now
from grader.board.store import Store
from grader.core.errors import KitError
from grader.core.home import KIT_ROOT
from grader.core.sandbox import die_with_parent

APP = KIT_ROOT / "leaderboard_app.py"
RESTARTS = 5  # a child that stops more often than this in a row...
WINDOW_S = 60.0  # ...each stop within this long of the last, ends the whole board, with one line
POLL_S = 0.2  # how often the children are looked at (and the dead reaped)
STOP_S = 10.0  # stopping: how long the children get before they are killed


def default_workers() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


def launch(db_url: str | None = None, port: int = 8501, api_port: int | None = None, workers: int | None = None,
           device: str = "auto") -> int:
    """Run `streamlit run leaderboard_app.py`, the API and the workers on 127.0.0.1 until stopped (0).

    The store is opened once first, so a wrong URL fails here with one line instead of
    inside the page; the app reads the URL from FASTGROUP_DB_URL.
    """
    if not APP.is_file():
        raise KitError(f"{APP} is missing: reinstall the kit from its checkout (pip install -e .)")
    with Store.open(db_url) as store:
        url = store.url
    env = dict(os.environ, FASTGROUP_DB_URL=url)
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.maxUploadSize", "1",  # MB (Streamlit's smallest): code.py caps each file at 100 kB
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    api_port = port + 1 if api_port is None else api_port
    if api_port == port:
        raise KitError(f"the page and the API need two ports: --api-port {port} is the page's; leave it out")
    api = [
        sys.executable, "-m", "uvicorn", "grader.board.api:from_environment", "--factory",
        "--host", "127.0.0.1", "--port", str(api_port), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    count = default_workers() if workers is None else max(0, workers)
    graders = [[sys.executable, "-m", "grader.cli", "worker", "--device", device]] * count
    print(f"Board page on http://127.0.0.1:{port}\n"
          f"API for members on http://127.0.0.1:{api_port} (they run: fastgroup submit --board URL; "
          f"its OpenAPI document: /api/v1/docs)\n"
          f"{count} grading worker(s). Ctrl+C stops them all.", flush=True)
    children = [("the page (Streamlit)", command), ("the API (uvicorn)", api)]
    children += [(f"grading worker {n}", grader) for n, grader in enumerate(graders, 1)]
    return Supervisor(children, env).run()


class Supervisor:
    """The children of `fastgroup leaderboard` (page, API, local workers), watched: one that exits
    while the board runs is reaped and started again, with one line saying which and why; one that
    stops more than RESTARTS times in a row, each stop within WINDOW_S of the one before (a crash
    loop, however slowly it starts), ends the board (every other child stopped) with one line.
    SIGTERM or SIGINT to us stops them all, and nothing is restarted after it.

    Without this, a dead API stayed a zombie while the page answered and every member's submit failed;
    and `kill PID` on `fastgroup leaderboard` would leave Streamlit serving the port."""

    def __init__(self, children: list[tuple[str, list[str]]], env: dict, say=None):
        self.children = [Child(name, command) for name, command in children]
        self.env = env
        self.say = say or (lambda line: print(f"{now():%H:%M:%S} {line}", flush=True))
        self.stopping = False

    def run(self) -> int:
        """Start every child and watch them until we are told to stop (0) or one keeps dying (KitError)."""
        previous = {sig: signal.signal(sig, self._forward) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for child in self.children:
                child.start(self.env)
            while not self.stopping:
                for child in self.children:
                    if self.stopping or child.process.poll() is None:  # poll() reaps a dead child
                        continue
                    self._restart(child)
                time.sleep(POLL_S)
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._stop_all()

    def _restart(self, child: "Child") -> None:
        how, pid = exit_words(child.process.returncode), child.process.pid
        clock = time.monotonic()
        child.stops = [*(child.stops if child.stops and clock - child.stops[-1] < WINDOW_S else []), clock]
        if len(child.stops) > RESTARTS:
            raise KitError(f"{child.name} stopped {len(child.stops)} times in a row, each within {WINDOW_S:.0f} s "
                           f"of the last (the last time: {how}; its own lines are above): the board is stopped")
        child.start(self.env)
        self.say(f"{child.name} (pid {pid}) stopped ({how}): started again as pid {child.process.pid} "
                 f"(restart {len(child.stops)}; {RESTARTS + 1} stops in a row end the board)")

    def _forward(self, signum, _frame) -> None:
        self.stopping = True
        for child in self.children:
            if child.process is not None and child.process.poll() is None:
                child.process.send_signal(signum)

    def _stop_all(self) -> None:
        """Every child ended and reaped: asked first, killed after STOP_S."""
        running = [c.process for c in self.children if c.process is not None]
        for process in running:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_S
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Child:
    """One process the board runs: its name in the log, its command, its current process."""

    def __init__(self, name: str, command: list[str]):
        self.name, self.command = name, command
        self.process: subprocess.Popen | None = None
        self.stops: list[float] = []  # when it stopped (time.monotonic()), each within WINDOW_S of the last

    def start(self, env: dict) -> None:
        """Start it; it dies with us (Linux), even when we are killed with SIGKILL and cannot stop it."""
        self.process = subprocess.Popen(self.command, env=env, preexec_fn=die_with_parent)


def exit_words(code: int) -> str:
    """A child's exit status in words: "exit code 1", "killed by SIGKILL"."""
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"
