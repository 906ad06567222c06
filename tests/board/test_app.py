"""leaderboard_app.py run by Streamlit's AppTest against a real SQLite store."""

import json
import re
import time

import pytest
from streamlit.testing.v1 import AppTest

from grader.board.store import Store
from grader.core.steps import STEP_IDS
from tests.support.kit import KIT_ROOT
from tests.support.services import grade_results, quiz_results

APP = KIT_ROOT / "leaderboard_app.py"
EVIL = "<b>bold</b><script>alert(1)</script>"


@pytest.fixture
def url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'board.db'}"
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


def upload(at: AppTest, token: str, name: str, content: bytes) -> AppTest:
    at.text_input[0].input(token)
    at.file_uploader[0].set_value((name, content, "application/json"))
    at.button[0].click()
    return at.run()


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
    store.submit(ada, json.dumps(grade_results(passed=STEP_IDS[:5], accuracies={"train_epoch": 0.9})))
    store.submit(ada, json.dumps(grade_results(passed=["pixel_similarity"])))
    store.submit(ada, json.dumps(quiz_results(31)))
    store.submit(grace, json.dumps(grade_results(passed=STEP_IDS[:2])))

    table = board(run_app())
    assert list(table["Member"]) == ["ada", "grace", "idle"]
    ada_row = table.iloc[0]
    assert (ada_row["Points"], ada_row["Max"], ada_row["Steps"]) == (20.0, 52.0, 5)
    assert (ada_row["Best accuracy"], ada_row["Quiz"], ada_row["Submissions"]) == (0.9, 31.0, 3)
    assert table.iloc[1]["Steps"] == 2
    assert table.iloc[2]["Submissions"] == 0


def test_new_submission_shows_within_seconds(store):
    token = store.add_member("ada")
    at = run_app()
    assert board(at).iloc[0]["Submissions"] == 0
    store.submit(token, json.dumps(grade_results()))  # as `fastgroup submit` would, elsewhere
    time.sleep(3.5)  # the cache's time to live
    assert board(at.run()).iloc[0]["Submissions"] == 1


def test_upload_flow(store):
    token = store.add_member("ada")
    at = run_app()
    at = upload(at, token, "results.json", json.dumps(grade_results(passed=STEP_IDS[:3])).encode())
    assert not at.error
    assert "Submitted grade result 12/52 for ada" in at.success[0].value.replace("\\", "")
    row = board(at).iloc[0]  # the table shows it at once (the cache was cleared)
    assert (row["Member"], row["Points"], row["Steps"]) == ("ada", 12.0, 3)
    assert store.counts()["submissions"] == 1


@pytest.mark.parametrize(
    "token, content, message",
    [
        ("wrong-token", json.dumps(grade_results()).encode(), "not a member's token"),
        ("", json.dumps(grade_results()).encode(), "Enter your token"),
        ("TOKEN", b"{not json", "not valid JSON"),
        ("TOKEN", json.dumps(grade_results(passed=["nope"])).encode(), "unknown step"),
        ("TOKEN", b" " * 1_000_001, "byte limit"),
        ("TOKEN", json.dumps(grade_results(name="grace")).encode(), "taken from the token"),
    ],
    ids=["wrong-token", "no-token", "corrupt", "unknown-step", "too-big", "as-someone-else"],
)
def test_upload_errors_shown_nothing_stored(store, monkeypatch, token, content, message):
    real = store.add_member("ada")
    monkeypatch.setenv("FASTGROUP_TOKEN", real)  # the server's own token is never a fallback
    at = upload(run_app(), real if token == "TOKEN" else token, "r.json", content)
    assert len(at.error) == 1
    assert message in at.error[0].value.replace("\\", "")
    assert store.counts()["submissions"] == 0


def test_html_in_names_and_payloads_is_text(store):
    token = store.add_member(EVIL)
    doc = grade_results(failed=["linear1"])
    doc["tests"][-1]["output"] = "<img src=x onerror=alert(2)>"
    store.submit(token, json.dumps(doc))
    at = run_app()
    assert list(board(at)["Member"]) == [EVIL]  # a dataframe cell: text
    assert at.selectbox[0].options == [EVIL]
    failing = at.dataframe[2].value
    assert "<img src=x onerror=alert(2)>" in list(failing["output"])
    # Every element that renders markdown shows the name escaped, never as a tag.
    for element in [*at.markdown, *at.caption, *at.success, *at.error, *at.info]:
        assert "<b>" not in element.value and "<script>" not in element.value
    at = upload(at, token, "<i>r</i>.json", json.dumps(grade_results()).encode())
    message = at.success[0].value
    assert "<b>" not in message and re.sub(r"\\(.)", r"\1", message).endswith(f"for {EVIL} (submission #2).")


def test_the_app_never_renders_html():
    source = APP.read_text()
    for risky in ["unsafe_allow_html", "st.html", "components.html", "st.markdown("]:
        assert risky not in source


def test_member_page(store):
    ada = store.add_member("ada")
    store.add_member("grace")
    store.submit(ada, json.dumps(grade_results(passed=["init_params"], failed=["linear1"])))
    at = run_app()
    at.selectbox[0].select("ada")
    at.run()
    steps = at.dataframe[1].value
    status = dict(zip(steps["Step"], steps["Status"]))
    # the words of `fastgroup list`
    assert status["init_params"].endswith("done") and status["linear1"].endswith("failing")
    assert status["calc_grad"].endswith("not started")
    failing = at.dataframe[2].value
    assert list(failing["number"]) == ["linear1.1", "linear1.2"]
    assert at.dataframe[3].value["Kind"].tolist() == ["grade"]
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
