"""`fastgroup submit` and `fastgroup members`: the library functions and the real CLI.

Code and quiz answers are queued to be graded; `--results` (self-reported) only where the
organiser accepts it."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from grader.board.store import Store
from grader.board.submit import submit_results
from grader.core.errors import KitError
from grader.core.home import latest_results_path
from grader.core.steps import STEP_IDS
from tests.support.cli import fastgroup, one_line_error
from tests.support.kit import KIT_ROOT
from tests.support.reaper import die_with_pytest
from tests.support.services import db_url, free_port, grade_results, quiz_results, stop_group, write_json  # noqa: F401

UNREACHABLE = "postgresql+psycopg://x:y@127.0.0.1:1/none"


def test_submit_defaults_to_the_newer_latest_result(kit_home, monkeypatch):
    with Store.open(None, create=True) as store:
        token = store.add_member("ada")
        store.set_accept_self_reported(True)
    with pytest.raises(KitError, match="run `fastgroup grade` or `fastgroup quiz` first"):
        submit_results(token=token)
    grade = write_json(latest_results_path("grade"), grade_results())
    quiz = write_json(latest_results_path("quiz"), quiz_results(12))
    os.utime(grade, (1_000_000_000, 1_000_000_000))  # the quiz is newer
    monkeypatch.setenv("FASTGROUP_TOKEN", token)
    assert submit_results().startswith("Submitted quiz result 12/37 for ada (submission #1, self-reported")
    os.utime(quiz, (900_000_000, 900_000_000))  # now the grade is newer
    assert submit_results().startswith("Submitted grade result 8/100 for ada")
    with Store.open(None) as store:
        assert store.counts()["submissions"] == 2


def test_submit_errors_name_problem_and_fix(tmp_path, kit_home):
    with Store.open(None, create=True) as store:
        token = store.add_member("ada")
    good = write_json(tmp_path / "good.json", grade_results())
    with pytest.raises(KitError, match="no token: pass --token or set FASTGROUP_TOKEN"):
        submit_results(good)
    with pytest.raises(KitError, match="not found"):
        submit_results(tmp_path / "missing.json", token=token)
    (tmp_path / "corrupt.json").write_bytes(b'{"score": 3, "max_')
    with pytest.raises(KitError, match="corrupt.json: results file is not valid JSON"):
        submit_results(tmp_path / "corrupt.json", token=token)
    with pytest.raises(KitError, match="is a folder"):
        submit_results(tmp_path, token=token)
    with pytest.raises(KitError, match="127.0.0.1:1.*FASTGROUP_DB_URL"):
        submit_results(good, token=token, db_url=UNREACHABLE)
    with Store.open(None) as store:
        assert store.counts()["submissions"] == 0


def test_cli_members_and_submit(db_url, tmp_path):  # noqa: F811
    added = fastgroup("members", "add", "ada", "--db", db_url)
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip().splitlines()[-1]
    assert "ada" in added.stdout and len(token) >= 40
    assert fastgroup("members", "add", "grace", "--db", db_url).returncode == 0
    listed = fastgroup("members", "list", "--db", db_url)
    assert listed.stdout.split() == ["ada", "grace"]

    results = write_json(tmp_path / "r.json", grade_results(passed=["linear1", "mnist_loss"]))
    refused = fastgroup("submit", "--results", str(results), "--db", db_url, env={"FASTGROUP_TOKEN": token})
    assert "ranks only what it grades itself" in one_line_error(refused)  # the default
    assert "accepted" in fastgroup("board", "--accept-self-reported", "--db", db_url).stdout
    ok = fastgroup("submit", "--results", str(results), "--db", db_url, env={"FASTGROUP_TOKEN": token})
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().splitlines()[-1] == (
        "Submitted grade result 14/100 for ada (submission #1, self-reported: shown apart, not ranked)."
    )
    assert ok.stdout.startswith("Sending: grade 14/100 points")

    wrong = fastgroup("submit", "--results", str(results), "--token", "nope", "--db", db_url)
    assert "token" in one_line_error(wrong)
    bad = write_json(tmp_path / "bad.json", grade_results(passed=["no_such_step"]))
    invalid = fastgroup("submit", "--results", str(bad), "--token", token, "--db", db_url)
    assert "unknown step 'no_such_step'" in one_line_error(invalid)
    (tmp_path / "big.json").write_bytes(b" " * 1_000_001)
    big = fastgroup("submit", "--results", str(tmp_path / "big.json"), "--token", token, "--db", db_url)
    assert "over the 1,000,000-byte limit" in one_line_error(big)

    assert fastgroup("members", "remove", "grace", "--db", db_url).returncode == 0
    assert "no member named 'grace'" in one_line_error(fastgroup("members", "remove", "grace", "--db", db_url))
    with Store.open(db_url) as store:
        assert store.counts()["submissions"] == 1
        assert store.member_names() == ["ada"]


def test_cli_uses_fastgroup_db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    assert fastgroup("members", "add", "ada", env={"FASTGROUP_DB_URL": url}).returncode == 0
    with Store.open(url) as store:
        assert store.member_names() == ["ada"]


def test_cli_unreachable_database(tmp_path):
    results = write_json(tmp_path / "r.json", grade_results())
    line = one_line_error(fastgroup("submit", "--results", str(results), "--token", "t", "--db", UNREACHABLE))
    assert "127.0.0.1:1" in line and "FASTGROUP_DB_URL" in line and "y@" not in line
    line = one_line_error(fastgroup("members", "add", "ada", "--db", UNREACHABLE))
    assert "127.0.0.1:1" in line
    assert "invalid database URL" in one_line_error(fastgroup("members", "list", "--db", "nonsense"))


def test_leaderboard_command_refuses_a_bad_database():
    line = one_line_error(fastgroup("leaderboard", "--db", UNREACHABLE, "--port", "1"))
    assert "127.0.0.1:1" in line


def test_payload_text_is_stored_canonical(tmp_path, kit_home):
    """What the store keeps is the validated document, not the bytes as sent."""
    with Store.open(None, create=True) as store:
        token = store.add_member("ada")
        store.set_accept_self_reported(True)
    doc = grade_results()
    (tmp_path / "r.json").write_text(json.dumps(doc, indent=4))
    submit_results(tmp_path / "r.json", token=token)
    with Store.open(None) as store:
        stored = json.loads(store.submission(1)[1])
    assert stored["tests"] == [dict(t) for t in doc["tests"]]


def test_a_token_that_is_not_text_is_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    assert fastgroup("members", "add", "ada", "--db", url).returncode == 0
    results = write_json(tmp_path / "r.json", grade_results())
    for token in ("\udcff\udcfeabc", "tab\there"):  # bytes 0xff 0xfe as Python passes them on; a control
        line = one_line_error(fastgroup("submit", "--results", str(results), "--token", token, "--db", url))
        assert "token" in line


def test_submit_a_notebook_sends_its_definitions_never_its_outputs(tmp_path, kit_home):
    from grader.engine.service import Request, Service
    from grader.engine.settings import Settings
    from tests.support.notebooks import BOOK_FLOW, write_notebook

    with Store.open(None, create=True) as store:
        token = store.add_member("ada")
    notebook = write_notebook(tmp_path / "ch4.ipynb", BOOK_FLOW, output_bytes=200_000)
    sent = fastgroup("submit", "--source", str(notebook), "--token", token)
    assert sent.returncode == 0, sent.stderr
    assert "Sending the chapter definitions found in" in sent.stdout and "not its outputs" in sent.stdout
    assert "from ch4.ipynb for ada" in sent.stdout  # the board keeps the notebook's name (issue 38), never its path
    with Store.open(None) as store:
        assert store.submission(1)[0].source == "ch4.ipynb" and [q.source for q in store.queue()] == ["ch4.ipynb"]
        claim = store.claim_next()
    assert set(claim.files) == {f"{s}.py" for s in STEP_IDS}
    assert not any("image/png" in text or "iVBOR" in text for text in claim.files.values())
    quick = Settings(device="cpu", quick=True)
    with Service(quick, fastai=False) as service:  # the board's service, as its worker runs it
        results = service.grade(Request(source=claim.files, steps=["mnist_loss", "linear1"], settings=quick)).results
    assert results.score == results.max_score


def test_submit_a_file_that_is_not_a_notebook_is_one_line(tmp_path, kit_home):
    with Store.open(None, create=True) as store:
        token = store.add_member("ada")
    (tmp_path / "notes.ipynb").write_text("my notes, not JSON")
    line = one_line_error(fastgroup("submit", "--source", str(tmp_path / "notes.ipynb"), "--token", token))
    assert "not a Jupyter notebook" in line
    with Store.open(None) as store:
        assert store.counts()["submissions"] == 0


def two_free_ports() -> int:
    """A port P with P + 1 free too: the page's and, beside it, where `fastgroup leaderboard` puts the API."""
    import socket

    for _ in range(50):
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    pytest.skip("no two adjacent free ports on 127.0.0.1")


def start_page(db: str, port: int, log) -> subprocess.Popen:
    """The board's page alone (`streamlit run leaderboard_app.py`, as `fastgroup leaderboard` starts it)."""
    page = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(KIT_ROOT / "leaderboard_app.py"), "--server.address",
         "127.0.0.1", "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        env={**os.environ, "FASTGROUP_DB_URL": db}, stdout=open(log, "a"), stderr=subprocess.STDOUT,  # noqa: SIM115
        start_new_session=True, preexec_fn=die_with_pytest,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not answers_ok(f"http://127.0.0.1:{port}/_stcore/health"):
        if page.poll() is not None or time.monotonic() > deadline:
            stop_group(page)
            pytest.fail(f"the page did not start: {Path(log).read_text()}")
        time.sleep(0.3)
    return page


def answers_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).text == "ok"
    except httpx.HTTPError:
        return False


def test_submit_to_the_pages_address_finds_the_api_beside_it_or_says_where_it_is(tmp_path):
    """A member pastes the address of the page they see in their browser into --board."""
    from tests.support.api import start_api

    db = f"sqlite:///{tmp_path / 'board.db'}"
    with Store.open(db, create=True) as store:
        token = store.add_member("ada")
    answers = tmp_path / "answers.toml"
    answers.write_text('[answers]\nq01 = "c"\n', encoding="utf-8")
    port = two_free_ports()
    page_url, api_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
    send = ("submit", "--quiz", "--answers", str(answers), "--board", page_url, "--token", token, "--no-wait")
    page = start_page(db, port, tmp_path / "page.log")
    api = None
    try:
        alone = one_line_error(fastgroup(*send))  # the organiser put the API elsewhere (--api-port)
        assert "HTTP 405" not in alone
        assert alone == (f"error: {page_url} is the board's page, not its API, and no API answers at {api_url} "
                         "(the page's port + 1, where `fastgroup leaderboard` puts it unless --api-port): use --board "
                         "http://host:PORT with the API's address that `fastgroup leaderboard` printed (ask the "
                         "organiser)")
        api, _ = start_api(db, tmp_path / "api.log", port=port + 1)
        sent = fastgroup(*send)
        assert sent.returncode == 0, sent.stderr
        assert (f"{page_url} is the board's page; its API answered at {api_url}, so it went there: use --board "
                f"{api_url} (or FASTGROUP_BOARD_URL) next time.") in sent.stdout
        assert f"Sent as submission #1 to {api_url}." in sent.stdout
        status = fastgroup("status", "--board", page_url, "--token", token)
        assert status.returncode == 0, status.stderr
        assert status.stdout.splitlines()[1] == f"ada on {api_url}: best nothing graded yet"
    finally:
        stop_group(page)
        if api is not None:
            stop_group(api)
    with Store.open(db) as store:
        assert store.counts()["submissions"] == 1  # the page stored nothing; the API stored it once
