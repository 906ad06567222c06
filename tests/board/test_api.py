"""The board's HTTP API over real HTTP (uvicorn on 127.0.0.1), on SQLite and PostgreSQL.

A member's side holds the board's URL and a token, nothing else: the CLI runs here without
FASTGROUP_DB_URL, as on a member's laptop.
"""

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from grader.board.store import Store
from tests.support.api import bearer, post, start_api
from tests.support.kit import SOLUTIONS
from tests.support.services import db_url, stop_group  # noqa: F401
from tests.support.worker import start_worker, stop

STUB = {"mnist_loss.py": "def mnist_loss(predictions, targets):\n    raise NotImplementedError\n"}


def members(url: str, names) -> dict[str, str]:
    with Store.open(url) as store:
        return {name: store.add_member(name) for name in names}


@pytest.fixture
def served(db_url, tmp_path):  # noqa: F811
    """The API's uvicorn process and its base URL."""
    server, url = start_api(db_url, tmp_path / "api.log")
    yield server, url
    stop_group(server)


@pytest.fixture
def api(served):
    return served[1]


def member_cli(*args, home, token=None, board=None) -> subprocess.CompletedProcess:
    """`fastgroup ...` as a member runs it: no database URL in sight."""
    env = {k: v for k, v in os.environ.items() if k != "FASTGROUP_DB_URL"}
    env.update(FASTGROUP_HOME=str(home), FASTGROUP_TOKEN=token or "", FASTGROUP_BOARD_URL=board or "")
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_a_member_submits_waits_and_reads_the_grade_with_only_a_url_and_a_token(db_url, api, tmp_path):  # noqa: F811
    token = members(db_url, ["ada"])["ada"]
    code = tmp_path / "mine"
    code.mkdir()
    for step in ("mnist_loss", "linear1"):
        (code / f"{step}.py").write_text((SOLUTIONS / f"{step}.py").read_text())
    log = tmp_path / "worker.log"
    worker = start_worker(db_url, log.open("w"))
    try:
        sent = member_cli("submit", "--source", str(code), home=tmp_path / "home", token=token, board=api)
    finally:
        stop(worker)
    assert sent.returncode == 0, sent.stderr + log.read_text()
    assert "Graded #1 (grade from mine, verified by the board)" in sent.stdout  # the folder's name, not its path
    lines = dict(line.split(None, 1) for line in sent.stdout.splitlines() if line.startswith("  "))
    assert lines["mnist_loss"].strip() == "8/8" and lines["linear1"].strip() == "6/6"
    assert lines["train_epoch"].strip() == "0/10"  # not sent: graded as missing

    shown = member_cli("status", home=tmp_path / "home", token=token, board=api)
    assert shown.returncode == 0, shown.stderr
    assert "ada on" in shown.stdout and "#1" in shown.stdout and "graded" in shown.stdout and "14/100" in shown.stdout
    assert "from mine" in shown.stdout and str(tmp_path) not in shown.stdout

    board = httpx.get(f"{api}/api/v1/board").json()
    assert [(r["name"], r["points"], r["rank"]) for r in board["members"]] == [("ada", 14, 1)]
    one = httpx.get(f"{api}/api/v1/submissions/1", headers=bearer(token)).json()
    assert one["state"] == "graded" and one["steps"]["mnist_loss"] == {"points": 8.0, "max_points": 8.0}
    assert one["results"]["extra_data"]["kind"] == "grade"


def test_no_wait_returns_at_once_and_status_shows_it_queued(db_url, api, tmp_path):  # noqa: F811
    token = members(db_url, ["ada"])["ada"]
    answers = tmp_path / "answers.toml"
    answers.write_text('[answers]\nq01 = "a"\n')
    sent = member_cli("submit", "--quiz", "--answers", str(answers), "--no-wait", home=tmp_path, token=token,
                      board=api)
    assert sent.returncode == 0, sent.stderr
    assert "Sent as submission #1" in sent.stdout and "fastgroup status" in sent.stdout
    shown = member_cli("status", home=tmp_path, token=token, board=api)
    assert "#1" in shown.stdout and "quiz" in shown.stdout and "queued" in shown.stdout


@pytest.mark.parametrize(
    "case, body, status, words",
    [
        ("unknown file", {"files": {"notes.txt": "hi"}}, 400, "is not a step module"),
        ("a file over its cap", {"files": {"mnist_loss.py": "x" * 100_001}}, 400, "over 100,000 bytes"),
        ("not UTF-8", '{"files": {"mnist_loss.py": "\\ud800"}}', 400, "not UTF-8"),
        ("no files", {"files": {}}, 400, "no step module"),
        ("corrupt answers", {"kind": "quiz", "files": {"a.toml": "[[[ no"}}, 400, "not valid TOML"),
        ("two answer files", {"kind": "quiz", "files": {"a.toml": "", "b.toml": ""}}, 400, "one file"),
        ("unknown kind", {"kind": "exam", "files": STUB}, 422, "not what this API takes"),
        ("not JSON", "{not json", 422, "not what this API takes"),
    ],
)
def test_what_cannot_be_graded_is_refused_in_one_line_and_nothing_is_stored(db_url, api, case, body, status, words):  # noqa: F811
    token = members(db_url, ["ada"])["ada"]
    with Store.open(db_url) as store:
        before = store.counts()
    content = body if isinstance(body, str) else None
    answer = httpx.post(f"{api}/api/v1/submissions", headers={**bearer(token), "content-type": "application/json"},
                        content=content, json=None if content else body, timeout=30)
    assert answer.status_code == status, (case, answer.text)
    detail = answer.json()["detail"]
    assert words in detail and "\n" not in detail, case
    with Store.open(db_url) as store:
        assert store.counts() == before, case


def test_an_oversized_request_is_refused_before_it_is_read(db_url, api):  # noqa: F811
    token = members(db_url, ["ada"])["ada"]
    answer = post(api, token, {f"{s}.py": "x" * 99_000 for s in ("mnist_loss", "linear1")} | {"z": "x" * 2_100_000})
    assert answer.status_code == 413 and "over 2,000,000 bytes" in answer.json()["detail"]


def test_a_wrong_or_missing_token_is_401_and_another_members_submission_is_not_found(db_url, api, tmp_path):  # noqa: F811
    tokens = members(db_url, ["ada", "bo"])
    for headers in ({}, bearer("not-a-token"), {"Authorization": "Bearer é".encode("latin-1")}):
        answer = httpx.post(f"{api}/api/v1/submissions", json={"files": STUB}, headers=headers)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
        assert "token" in answer.json()["detail"]
    ada = post(api, tokens["ada"], STUB).json()["id"]
    assert httpx.get(f"{api}/api/v1/submissions/{ada}", headers=bearer(tokens["bo"])).status_code == 404
    assert httpx.get(f"{api}/api/v1/submissions/{ada}", headers=bearer(tokens["ada"])).status_code == 200
    refused = member_cli("status", home=tmp_path, token="not-a-token", board=api)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: the board refused (HTTP 401): the token is not an active member's")


def test_a_submission_says_the_source_it_came_from_by_name_never_its_path(db_url, api):  # noqa: F811
    token = members(db_url, ["ada"])["ada"]
    sent = httpx.post(f"{api}/api/v1/submissions", headers=bearer(token), timeout=30,
                      json={"files": STUB, "source": "/home/ada/notes/ch4.ipynb"})
    assert sent.status_code == 202 and sent.json()["source"] == "ch4.ipynb"
    plain = post(api, token, STUB).json()
    assert plain["source"] is None  # a sender that does not say (an older kit, a kernel)
    mine = httpx.get(f"{api}/api/v1/me", headers=bearer(token)).json()["submissions"]
    assert [s["source"] for s in mine] == [None, "ch4.ipynb"]
    with Store.open(db_url) as store:
        assert store.submission(sent.json()["id"])[0].source == "ch4.ipynb"


def test_the_cooldown_answers_429_with_when_to_try_again(db_url, api, tmp_path):  # noqa: F811
    tokens = members(db_url, ["ada", "bo"])
    set_it = subprocess.run([sys.executable, "-m", "grader.cli", "board", "--cooldown", "60", "--db", db_url],
                            capture_output=True, text=True)
    assert set_it.returncode == 0 and "cooldown between a member's submissions: 60 s" in set_it.stdout
    assert post(api, tokens["ada"], STUB).status_code == 202
    again = post(api, tokens["ada"], STUB)
    assert again.status_code == 429
    assert 55 <= int(again.headers["retry-after"]) <= 61
    assert "one submission every 60 s" in again.json()["detail"] and "try again in" in again.json()["detail"]
    assert post(api, tokens["bo"], STUB).status_code == 202  # per member
    code = tmp_path / "mine"
    code.mkdir()
    (code / "mnist_loss.py").write_text(STUB["mnist_loss.py"])
    sent = member_cli("submit", "--source", str(code), home=tmp_path, token=tokens["ada"], board=api)
    assert sent.returncode == 2 and "HTTP 429" in sent.stderr and "try again in" in sent.stderr
    with Store.open(db_url) as store:
        assert store.counts()["submissions"] == 2


def test_50_concurrent_submissions_from_20_members_are_each_stored_once(db_url, api):  # noqa: F811
    tokens = list(members(db_url, [f"member {i:02d}" for i in range(20)]).values())
    senders = [tokens[i % 20] for i in range(50)]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda token: post(api, token, STUB), senders))
    assert [a.status_code for a in answers] == [202] * 50
    ids = [a.json()["id"] for a in answers]
    assert len(set(ids)) == 50
    for token in tokens:
        mine = httpx.get(f"{api}/api/v1/me", headers=bearer(token)).json()["submissions"]
        sent = [i for i, t in zip(ids, senders) if t == token]
        assert sorted(s["id"] for s in mine) == sorted(sent)
    with Store.open(db_url) as store:
        assert store.counts()["submissions"] == 50


def test_the_openapi_document_comes_from_the_code(api):
    document = httpx.get(f"{api}/api/v1/openapi.json").json()
    assert set(document["paths"]) == {
        "/api/v1/submissions", "/api/v1/submissions/{submission_id}", "/api/v1/me", "/api/v1/board"}
    assert "bearer" in str(document["components"]["securitySchemes"]).lower()


def test_the_api_killed_mid_upload_stores_nothing_and_the_resend_is_stored_once(db_url, tmp_path):  # noqa: F811
    token = members(db_url, ["ada"])["ada"]
    server, url = start_api(db_url, tmp_path / "api.log")
    port = int(url.rpartition(":")[2])
    try:
        body = b'{"kind": "grade", "files": {"mnist_loss.py": "' + b"#" * 50_000 + b'"}}'
        with socket.create_connection(("127.0.0.1", port)) as half:
            half.sendall(b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                         + body[: len(body) // 2])
            os.killpg(server.pid, signal.SIGKILL)  # mid-upload
            server.wait(10)
        with Store.open(db_url) as store:
            assert store.counts()["submissions"] == 0
        server, url = start_api(db_url, tmp_path / "api.log", port=port)
        assert post(url, token, STUB).status_code == 202
        with Store.open(db_url) as store:
            assert store.counts()["submissions"] == 1
    finally:
        stop_group(server)


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB file system (tmpfs, mounted as root: CI) the test can fill up."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        from tests.support.kit import need_service

        need_service("a small file system to fill", "mounting a tmpfs needs root")
    where = tmp_path / "small"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(where)], check=True)
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_is_503_in_one_line_and_loses_nothing(small_disk, tmp_path):
    url = f"sqlite:///{small_disk / 'board.db'}"
    Store.open(url, create=True).close()
    token = members(url, ["ada"])["ada"]
    server, api = start_api(url, tmp_path / "api.log")
    try:
        assert post(api, token, STUB).status_code == 202
        filler = small_disk / "filler"
        with filler.open("wb") as out, contextlib.suppress(OSError):
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        refused = post(api, token, {"mnist_loss.py": "x = 1\n" * 2000})
        assert refused.status_code == 503, refused.text
        assert "free some disk space" in refused.json()["detail"] and "nothing was stored" in refused.json()["detail"]
        filler.unlink()
        assert post(api, token, STUB).status_code == 202
        mine = httpx.get(f"{api}/api/v1/me", headers=bearer(token)).json()["submissions"]
        assert len(mine) == 2 and mine[-1]["id"] == 1  # the first kept, the refused one never stored
    finally:
        stop_group(server)
    with Store.open(url) as store:
        assert store.counts()["submissions"] == 2


MB = 1 << 20


def rss_mb(pid: int) -> float:
    """A process's resident memory (VmRSS), in MB."""
    line = next(li for li in Path(f"/proc/{pid}/status").read_text().splitlines() if li.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def open_request(url: str, headers: dict) -> socket.socket:
    """A POST to /api/v1/submissions whose head is sent, its body not yet."""
    port = int(url.rpartition(":")[2])
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = "".join(f"{name}: {value}\r\n" for name, value in {"Host": "x", **headers}.items())
    sock.sendall(f"POST /api/v1/submissions HTTP/1.1\r\n{head}\r\n".encode())
    return sock


def answered(sock: socket.socket) -> bool:
    return bool(select.select([sock], [], [], 0)[0])


def read_answer(sock: socket.socket, wait_s: float = 30) -> tuple[int, dict]:
    """The status and JSON body of the answer on `sock`, read as it comes (no Content-Length trust)."""
    sock.settimeout(wait_s)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed without an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(li.split(b":")[1]) for li in head.split(b"\r\n") if li.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split()[1]), json.loads(body[:length])


def send_chunks(sock: socket.socket, total: int, chunk: int = 256 * 1024, until_answered: bool = False) -> int:
    """Send `total` bytes as chunks of a chunked body (never its end); how many went before an answer
    came (with until_answered) or the server stopped taking them."""
    sent, piece = 0, f"{chunk:x}\r\n".encode() + b"x" * chunk + b"\r\n"
    with contextlib.suppress(OSError):  # the server may close its side: what matters is its answer
        while sent < total and not (until_answered and answered(sock)):
            sock.sendall(piece)
            sent += chunk
    return sent


def test_a_body_without_a_token_is_refused_before_it_is_read_and_costs_no_memory(db_url, served):  # noqa: F811
    """A 50 MB chunked body with no token: the 401 comes after its first MB, and the API's memory stays."""
    server, url = served
    members(db_url, ["ada"])
    assert httpx.post(f"{url}/api/v1/submissions", json={"files": STUB}).status_code == 401  # warm
    before = rss_mb(server.pid)
    sock = open_request(url, {"Transfer-Encoding": "chunked", "Content-Type": "application/json"})
    with sock:
        send_chunks(sock, MB)
        started = time.monotonic()
        status, doc = read_answer(sock)  # while the body is still on its way
        took = time.monotonic() - started
        assert status == 401 and doc["detail"].startswith("no token") and "\n" not in doc["detail"]
        send_chunks(sock, 49 * MB)  # the rest comes anyway: read and dropped
        with contextlib.suppress(OSError):
            sock.sendall(b"0\r\n\r\n")
    assert httpx.get(f"{url}/api/v1/board", timeout=30).status_code == 200  # it got through the 50 MB
    grew = rss_mb(server.pid) - before
    print(f"401 after the first MB in {took:.3f} s; the API's RSS grew {grew:.1f} MB over 50 MB sent")
    assert grew < 20, f"the API grew {grew:.0f} MB reading a body it should have refused"
    with Store.open(db_url) as store:
        assert store.counts()["submissions"] == 0


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_no_token_is_answered_before_a_huge_declared_body(db_url, api, token):  # noqa: F811
    members(db_url, ["ada"])
    headers = {"Content-Length": str(150 * MB)} | ({"Authorization": f"Bearer {token}"} if token else {})
    with open_request(api, headers) as sock:
        status, doc = read_answer(sock)  # not one byte of the body sent
    assert status == 401 and "token" in doc["detail"]


def test_an_over_cap_body_with_a_valid_token_is_413_while_it_streams(db_url, served):  # noqa: F811
    server, url = served
    token = members(db_url, ["ada"])["ada"]
    assert post(url, token, STUB).status_code == 202  # warm
    before = rss_mb(server.pid)
    with open_request(url, {"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked"}) as sock:
        sent = send_chunks(sock, 200 * MB, until_answered=True)  # never its end: the answer must not wait for it
        status, doc = read_answer(sock)
    grew = rss_mb(server.pid) - before
    print(f"413 after {sent / MB:.1f} MB sent; the API's RSS grew {grew:.1f} MB")
    assert status == 413 and "over 2,000,000 bytes" in doc["detail"] and "\n" not in doc["detail"]
    assert sent < 200 * MB and grew < 30
    with open_request(url, {"Authorization": f"Bearer {token}", "Content-Length": str(2_000_001)}) as sock:
        assert read_answer(sock)[0] == 413  # a declared length over the cap: at once, nothing read
    with Store.open(db_url) as store:
        assert store.counts()["submissions"] == 1


@pytest.mark.parametrize("sid, status", [(10**30, 422), (2**31, 422), (0, 422), (-1, 422), ("abc", 422),
                                         (2**31 - 1, 404), (99, 404)])
def test_a_bad_or_huge_id_is_one_line_of_json(db_url, api, sid, status):  # noqa: F811
    token = members(db_url, ["ada"])["ada"]
    answer = httpx.get(f"{api}/api/v1/submissions/{sid}", headers=bearer(token), timeout=30)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and "submission" in detail
    assert httpx.get(f"{api}/api/v1/submissions/{sid}", timeout=30).status_code == 401  # the token first
