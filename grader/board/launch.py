"""`fastgroup leaderboard`: serve leaderboard_app.py with Streamlit on this machine, the board's
HTTP API (api.py, with uvicorn) on the next port, and local grading workers (`fastgroup worker`
processes) beside them: one per two cores unless told. Both listen on 127.0.0.1 only: a reverse
proxy (README) gives members HTTPS. Their lines (arrivals, grades) go to this terminal."""

import os
import signal
import subprocess
import sys

from grader.board.store import Store
from grader.core.errors import KitError
from grader.core.home import KIT_ROOT

APP = KIT_ROOT / "leaderboard_app.py"


def default_workers() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


def launch(db_url: str | None = None, port: int = 8501, api_port: int | None = None, workers: int | None = None,
           device: str = "auto") -> int:
    """Run `streamlit run leaderboard_app.py` on 127.0.0.1 and return its exit code.

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
    return serve(command, env, [api, *graders])


def serve(command: list[str], env: dict, helpers: list[list[str]] = ()) -> int:
    """Run the server (and helper processes) as children; SIGTERM or SIGINT to us stops them all,
    and we wait for the server to exit.

    Without this, `kill PID` on `fastgroup leaderboard` would leave Streamlit serving the port.
    """
    child = subprocess.Popen(command, env=env)
    others = [subprocess.Popen(h, env=env) for h in helpers]

    def forward(signum, _frame):
        for process in (child, *others):
            if process.poll() is None:
                process.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = child.wait()  # a forwarded signal does not end the wait (PEP 475): the child's exit does
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for process in (child, *others):  # never leave one behind
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else code
