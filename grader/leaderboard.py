"""`fastgroup leaderboard`: serve leaderboard_app.py with Streamlit on this machine."""

import os
import subprocess
import sys

from grader.errors import KitError
from grader.home import KIT_ROOT
from grader.store import Store

APP = KIT_ROOT / "leaderboard_app.py"


def launch(db_url: str | None = None, port: int = 8501) -> int:
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
        "--server.maxUploadSize", "1",  # MB: the browser refuses bigger results files
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    print(f"Leaderboard on http://127.0.0.1:{port} (Ctrl+C to stop)", flush=True)
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0
