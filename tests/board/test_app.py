"""The page (grader/board/page.py, behind leaderboard_app.py) run by Streamlit's AppTest against a real SQLite store."""

import io
import json
import re
import sys
import time
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from grader.authoring.exercises import stub_source
from grader.board.store import Store
from grader.core.steps import STEP_IDS
from tests.support.kit import KIT_ROOT
from tests.support.services import grade_results, graded, quiz_results, step_points

APP = KIT_ROOT / "leaderboard_app.py"
PAGE = KIT_ROOT / "grader" / "board" / "page.py"
EVIL = "<b>bold</b><script>alert(1)</script>"


@pytest.fixture(autouse=True)
def main_module_restored(monkeypatch):
    """AppTest leaves the app in sys.modules as __main__: put the real one back for later tests."""
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])


@pytest.fixture
def url(tmp_path, monkeypatch):
    """A new, empty store (as `fastgroup members add` creates it) that the app reads."""
    url = f"sqlite:///{tmp_path / 'board.db'}"
    Store.open(url, create=True).close()
    monkeypatch.setenv("FASTGROUP_DB_URL", url)
    return url


@pytest.fixture
def store(url):
    with Store.open(url) as opened:
        yield opened


def run_app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def board(at: AppTest):
    return at.dataframe[0].value


def upload(at: AppTest, token: str, files: list[tuple[str, bytes]], what: str = "Exercise files") -> AppTest:
    at.text_input[0].input(token)
    at.radio[0].set_value(next(o for o in at.radio[0].options if o.startswith(what)))
    at.file_uploader[0].set_value([(name, content, "application/octet-stream") for name, content in files])
    at.button[0].click()
    return at.run()


def stub(step: str) -> tuple[str, bytes]:
    """A fresh stub (never exercises/: a learner, or CI's solved checkout, may have filled it in)."""
    return f"{step}.py", stub_source(step, (KIT_ROOT / "solutions" / f"{step}.py").read_text()).encode()


def test_no_members_yet(url):
    at = run_app()
    assert "fastgroup members add" in at.info[0].value


def test_one_member_is_one_member_and_empty_values_are_blank(store):
    store.add_member("ada")
    at = run_app()
    assert any(c.value.startswith("1 member,") for c in at.caption)
    at.selectbox[0].select("ada")
    at.run()
    assert [m.value for m in at.metric][0] == ""  # no grade yet: blank, not a dash


def test_table_shows_best_scores(store):
    ada, grace = store.add_member("ada"), store.add_member("grace")
    store.add_member("idle")
    graded(store, ada, json.dumps(grade_results(passed=STEP_IDS[:5], accuracies={"train_epoch": 0.9})))
    graded(store, ada, json.dumps(grade_results(passed=["pixel_similarity"])))
    graded(store, ada, json.dumps(quiz_results(31)))
    graded(store, grace, json.dumps(grade_results(passed=STEP_IDS[:2])))

    table = board(run_app())
    assert list(table["Member"]) == ["ada", "grace", "idle"]
    ada_row = table.iloc[0]
    assert (ada_row["Points"], ada_row["Steps"]) == (f"{step_points(*STEP_IDS[:5]):.0f}/100", 5)
    assert (ada_row["Best accuracy"], ada_row["Quiz"], ada_row["Submissions"]) == ("90.0%", "31/37", 3)
    assert "None" not in table.to_string() and ".0/" not in table.to_string()
    assert table.iloc[1]["Steps"] == 2
    assert table.iloc[2]["Submissions"] == 0


def test_new_submission_shows_within_seconds(store):
    token = store.add_member("ada")
    at = run_app()
    assert board(at).iloc[0]["Submissions"] == 0
    graded(store, token, json.dumps(grade_results()))  # as `fastgroup submit` would, elsewhere
    time.sleep(3.5)  # the cache's time to live
    assert board(at.run()).iloc[0]["Submissions"] == 1


def test_upload_flow_from_queued_to_graded(store, url):
    from grader.board.worker import run

    token = store.add_member("ada")
    at = upload(run_app(), token, [stub("init_params"), solution("mnist_loss")])
    assert not at.error
    assert "Queued 2 exercise file(s) for ada as submission #1" in at.success[0].value.replace("\\", "")
    assert "Submission #1: queued" in at.info[0].value
    run(url, device="cpu", once=True)  # a local worker grades the queue
    at.run()
    assert "Submission #1: graded, 8/100, verified" in at.success[-1].value
    row = board(at).iloc[0]
    assert (row["Member"], row["Points"], row["Steps"]) == ("ada", "8/100", 1)
    at.selectbox[0].select("ada")
    at.run()
    latest = at.dataframe[2].value
    assert dict(zip(latest["Step"], latest["Points"]))["mnist_loss"] == "8/8"


def damaged_zip() -> bytes:
    """A zip whose one step module fails its CRC: a byte of the stored data flipped."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("exercises/mnist_loss.py", "def mnist_loss(predictions, targets):\n    return 0\n")
    raw = bytearray(buffer.getvalue())
    raw[raw.index(b"def mnist_loss")] ^= 1
    return bytes(raw)


def zip_with_a_name_not_utf8() -> bytes:
    """A zip that flags its names as UTF-8 but holds one that is not."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mnist_lo\u00e9.py", "x = 1\n")
    return buffer.getvalue().replace("mnist_lo\u00e9".encode(), b"mnist_lo\xff\xfe")


def solution(step: str) -> tuple[str, bytes]:
    return f"{step}.py", (KIT_ROOT / "solutions" / f"{step}.py").read_bytes()


@pytest.mark.parametrize(
    "token, files, message",
    [
        ("wrong-token", [("mnist_loss.py", b"x = 1")], "not an active member's token"),
        ("", [("mnist_loss.py", b"x = 1")], "Enter your token"),
        ("TOKEN", [("notes.py", b"x = 1")], "no step module"),
        ("TOKEN", [("mnist_loss.py", b"\xff\xfe")], "not UTF-8"),
        ("TOKEN", [("ex.zip", b"PK not a zip")], "not a zip file"),
        ("TOKEN", [("mnist_loss.py", b"#" * 100_001)], "over 100,000 bytes"),
        ("TOKEN", [("ex.zip", damaged_zip())], "mnist_loss.py is damaged in the zip"),
        ("TOKEN", [("ex.zip", zip_with_a_name_not_utf8())], "a file name that is not UTF-8"),
    ],
    ids=["wrong-token", "no-token", "no-step", "not-utf8", "bad-zip", "too-big", "bad-crc", "name-not-utf8"],
)
def test_upload_errors_shown_nothing_stored(store, monkeypatch, token, files, message):
    real = store.add_member("ada")
    monkeypatch.setenv("FASTGROUP_TOKEN", real)  # the server's own token is never a fallback
    at = upload(run_app(), real if token == "TOKEN" else token, files)
    assert len(at.error) == 1
    assert message in at.error[0].value.replace("\\", "")
    assert store.counts()["submissions"] == 0


def test_a_zip_of_the_exercises_folder(store, tmp_path):
    token = store.add_member("ada")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for step in ("linear1", "init_params"):
            archive.writestr(f"exercises/{step}.py", stub(step)[1])
        archive.writestr("exercises/README.md", "not sent")
    at = upload(run_app(), token, [("mine.zip", buffer.getvalue())])
    assert "Queued 2 exercise file(s)" in at.success[0].value.replace("\\", "")


def test_quiz_answers_are_queued_and_a_broken_file_refused_at_once(store):
    token = store.add_member("ada")
    at = upload(run_app(), token, [("answers.toml", b'[answers]\nq01 = "a"\n')], "Quiz answers")
    assert "Queued quiz answers from answers.toml for ada as submission #1" in at.success[0].value.replace("\\", "")
    at = upload(run_app(), token, [("answers.toml", b"[answers\nq01 = ")], "Quiz answers")
    assert "not valid TOML" in at.error[0].value.replace("\\", "")
    assert store.counts()["submissions"] == 1


def test_self_reported_only_where_the_organiser_allows(store):
    token = store.add_member("ada")
    at = run_app()
    assert not any(o.startswith("Results file") for o in at.radio[0].options)  # the default: not offered
    store.set_accept_self_reported(True)
    at = upload(run_app(), token, [("r.json", json.dumps(grade_results(passed=STEP_IDS[:3])).encode())], "Results")
    assert "self-reported: shown apart, not ranked" in at.success[0].value.replace("\\", "")
    assert board(at).iloc[0]["Points"] == ""  # not ranked
    apart = at.dataframe[1].value  # after the ranking, on the board tab
    assert list(apart["Member"]) == ["ada"] and list(apart["Best score"]) == [f"{step_points(*STEP_IDS[:3]):.0f}/100"]


def test_html_in_names_and_payloads_is_text(store):
    token = store.add_member(EVIL)
    doc = grade_results(failed=["linear1"])
    doc["tests"][-1]["output"] = "<img src=x onerror=alert(2)>"
    graded(store, token, json.dumps(doc))
    at = run_app()
    assert list(board(at)["Member"]) == [EVIL]  # a dataframe cell: text
    assert at.selectbox[0].options == [EVIL]
    failing = at.dataframe[3].value
    assert "<img src=x onerror=alert(2)>" in list(failing["output"])
    # Every element that renders markdown shows the name escaped, never as a tag.
    for element in [*at.markdown, *at.caption, *at.success, *at.error, *at.info]:
        assert "<b>" not in element.value and "<script>" not in element.value
    at = upload(at, token, [stub("linear1")])
    message = at.success[0].value
    assert "<b>" not in message and f"for {EVIL} as submission #2:" in re.sub(r"\\(.)", r"\1", message)


def test_the_app_never_renders_html():
    source = PAGE.read_text() + APP.read_text()
    for risky in ["unsafe_allow_html", "st.html", "components.html"]:
        assert risky not in source
    # Markdown is rendered once: the agenda, whose names and topics agenda.py escapes.
    assert source.count("st.markdown(") == 1 and "st.markdown(text)" in source


def test_member_page(store):
    ada = store.add_member("ada")
    store.add_member("grace")
    doc = grade_results(passed=["init_params"], failed=["linear1", "mnist_loss"])
    for test in doc["tests"]:
        if test["tags"] == ["mnist_loss"]:  # the file still its stub, as the engine reports it
            test["output"] = "not started yet: write mnist_loss"
    graded(store, ada, json.dumps(doc))
    quiz = quiz_results(13)
    for test in quiz["tests"][15:]:
        test["output"] = "unanswered"  # q14, q15 wrong; the other 22 not answered
    graded(store, ada, json.dumps(quiz))
    at = run_app()
    at.selectbox[0].select("ada")
    at.run()
    steps = at.dataframe[1].value
    status = dict(zip(steps["Step"], steps["Status"]))
    # the words of `fastgroup list`: an untouched stub is not started, never failing
    assert status["init_params"].endswith("done") and status["linear1"].endswith("failing")
    assert status["calc_grad"].endswith("not started") and status["mnist_loss"] == "not started"
    failing = at.dataframe[3].value
    assert list(failing["number"]) == ["linear1.1", "linear1.2"]
    captions = [c.value for c in at.caption]
    assert "Not started in the latest grade (the file is still its stub): mnist_loss" in captions
    assert "Latest quiz: 13 right, 2 missed (answered wrongly), 22 not answered yet." in captions
    history = at.dataframe[4].value
    assert history["Kind"].tolist() == ["quiz", "grade"] and history["Origin"].tolist() == ["verified"] * 2
    at.selectbox[0].select("grace")
    at.run()
    assert not at.exception
    assert len(at.dataframe) == 2  # steps table only: grace has no submissions


def test_unreachable_database_is_one_error(monkeypatch):
    monkeypatch.setenv("FASTGROUP_DB_URL", "postgresql+psycopg://x:y@127.0.0.1:1/none")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "127.0.0.1:1" in at.error[0].value.replace("\\", "")
    assert not at.tabs


def test_the_queue_and_a_members_submissions_show_the_source_they_came_from(store):
    token = store.add_member("ada")
    store.enqueue(token, "grade", {"linear1.py": "x = 1\n"}, source="ch4.ipynb")
    store.enqueue(token, "grade", {"linear1.py": "x = 2\n"})  # a kernel's, or an older kit's: blank
    at = run_app()
    queue = at.dataframe[1].value
    assert queue["Source"].tolist() == ["ch4.ipynb", ""]
    at.selectbox[0].select("ada")
    at.run()
    history = at.dataframe[-1].value
    assert history["Source"].tolist() == ["", "ch4.ipynb"]
