"""The board's HTTP API for real: uvicorn serving grader.board.api on a free port of 127.0.0.1."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.reaper import die_with_pytest
from tests.support.services import free_port, stop_group


def start_api(db_url: str, log_path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """uvicorn as `fastgroup leaderboard` starts it; (process, base URL) once it answers."""
    port = port or free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "grader.board.api:from_environment", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        env={**os.environ, "FASTGROUP_DB_URL": db_url},
        stdout=open(log_path, "a"),  # noqa: SIM115 - the child holds it
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_pytest,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/v1/board", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            stop_group(server)
            pytest.fail(f"the API did not start: {Path(log_path).read_text()}")
        time.sleep(0.2)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def post(url: str, token: str, files: dict, kind: str = "grade") -> httpx.Response:
    return httpx.post(f"{url}/api/v1/submissions", json={"kind": kind, "files": files}, headers=bearer(token),
                      timeout=60)
