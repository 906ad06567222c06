"""End to end: `fastgroup leaderboard` (a real `streamlit run leaderboard_app.py` and its local
grading worker), in Chromium.

A member uploads the solutions' files through the page, watches the submission go from queued to
graded, and sees their verified row. The page is saved to test-artifacts/leaderboard.png for a
human to look at.
"""

import contextlib
import json
import re
from pathlib import Path

import pytest

from grader.board.store import Store
from grader.core.steps import STEP_IDS
from tests.support.kit import KIT_ROOT, need_service
from tests.support.services import (
    chromium_path,
    grade_results,
    graded,
    quiz_results,
    start_leaderboard,
    stop_group,
)

ARTIFACTS = KIT_ROOT / "test-artifacts"
TIMEOUT_MS = 30_000
GRADE_TIMEOUT_MS = 300_000  # the worker starts, imports torch and fastai, grades every step


@pytest.fixture
def board_server(tmp_path):
    """`fastgroup leaderboard` on a free port with a fresh SQLite store: yields (url, db_url)."""
    db_url = f"sqlite:///{tmp_path / 'board.db'}"
    server, url, _api = start_leaderboard(tmp_path, db_url)
    try:
        yield url, db_url
    finally:
        stop_group(server)


@contextlib.contextmanager
def page_at(chromium: str, url: str):
    """A Chromium page open at url, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            page.goto(url)
            yield page
        finally:
            browser.close()


@pytest.fixture
def chromium() -> str:
    """Checked before the server starts, so a laptop without Chromium skips at once."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        need_service("Playwright", "the playwright Python package is not installed")
    return chromium_path()


@pytest.mark.service
def test_upload_code_watch_it_graded_see_the_verified_row(chromium, board_server, tmp_path):
    from playwright.sync_api import expect

    url, db_url = board_server
    with Store.open(db_url) as store:  # the organiser's part
        token = store.add_member("ada")
        grace = store.add_member("grace <b>not bold</b>")
        graded(store, grace, json.dumps(grade_results(passed=STEP_IDS[:2])))
        graded(store, grace, json.dumps(quiz_results(29)))
    files = sorted((KIT_ROOT / "solutions").glob("*.py"))  # __init__.py is not a step: left out by the page

    with page_at(chromium, url) as page:
        table = page.get_by_test_id("stDataFrame").first
        # The grid draws on a canvas; its accessible (visually hidden) table holds the text.
        ada = table.locator("tr").filter(has=page.locator("td", has_text=re.compile("^ada$")))
        expect(ada.locator("td").nth(6)).to_have_text("0", timeout=TIMEOUT_MS)
        expect(table).to_contain_text("grace <b>not bold</b>")  # as text, not markup

        page.get_by_role("tab", name="Upload").click()
        page.get_by_label("Your token").fill(token)
        page.locator("input[type=file]").set_input_files(files)
        page.get_by_role("button", name="Submit", exact=True).click()
        # The message went through markdown escaping: it must read as plain text.
        queued = f"Queued {len(files) - 1} exercise file(s) for ada as submission #3"
        expect(page.get_by_text(queued)).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.get_by_text(re.compile(r"Submission #3: (queued|grading)"))).to_be_visible()
        graded_line = page.get_by_text("Submission #3: graded, 100/100, verified")
        expect(graded_line).to_be_visible(timeout=GRADE_TIMEOUT_MS)

        page.get_by_role("tab", name="Leaderboard").click()
        cells = ada.locator("td")
        expect(cells.nth(2)).to_have_text("100/100", timeout=TIMEOUT_MS)
        expect(cells.nth(3)).to_have_text(str(len(STEP_IDS)))  # Steps completed
        expect(cells.nth(6)).to_have_text("1")  # Submissions
        expect(table.locator("tr").nth(1).locator("td").nth(1)).to_have_text("ada")  # now first
        page.wait_for_timeout(1000)  # let the charts finish drawing
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "leaderboard.png"), full_page=True)
    with Store.open(db_url) as store:
        row, _ = store.submission(3)
        assert (row.state, row.origin, row.score) == ("graded", "verified", 100.0)
    assert Path(ARTIFACTS / "leaderboard.png").stat().st_size > 10_000


@pytest.mark.service
def test_the_organisers_views_ties_the_queue_a_stalled_row_a_members_address_and_the_agenda(
    chromium, board_server
):
    from playwright.sync_api import expect
    from sqlalchemy import text

    url, db_url = board_server
    with Store.open(db_url) as store:
        tokens = {name: store.add_member(name) for name in ("ana", "bo", "cy", "dee")}
        for name in ("ana", "bo", "cy"):  # a three-way tie
            doc = grade_results(passed=STEP_IDS[:2], failed=STEP_IDS[2:3])
            if name == "cy":  # cy never opened the third step's file: the engine says so
                for test in doc["tests"]:
                    test["output"] = f"not started yet: write {test['tags'][0]}" if test["status"] == "failed" else ""
            graded(store, tokens[name], json.dumps(doc))
        quiz = quiz_results(1)  # q01 right, q02 wrong, the rest not answered
        for test in quiz["tests"][2:]:
            test["output"] = "unanswered"
        graded(store, tokens["ana"], json.dumps(quiz))
        graded(store, tokens["dee"], json.dumps(grade_results(passed=STEP_IDS[:1])))
        stuck = store.enqueue(tokens["dee"], "grade", {"linear1.py": "x = 1\n"}).submission_id
        store.start(stuck, worker="another-host:4242")  # its worker lost, on a machine this one cannot see
        store.write(lambda conn: conn.execute(text(
            "UPDATE submissions SET started_at = :t WHERE id = :id"), {"t": "2026-01-01 10:00:00", "id": stuck}))
        waiting = store.enqueue(tokens["dee"], "grade", {"linear1.py": "y = 2\n"}).submission_id  # behind it

    with page_at(chromium, url) as page:
        board = page.get_by_test_id("stDataFrame").first
        for name in ("ana", "bo", "cy"):
            row = board.locator("tr").filter(has=page.locator("td", has_text=re.compile(f"^{name}$")))
            expect(row.locator("td").nth(0)).to_have_text("1", timeout=TIMEOUT_MS)  # tied: rank 1 each
        dee = board.locator("tr").filter(has=page.locator("td", has_text=re.compile("^dee$")))
        expect(dee.locator("td").nth(0)).to_have_text("4")
        queue = page.get_by_test_id("stDataFrame").nth(1)
        expect(queue).to_contain_text("STALLED", timeout=TIMEOUT_MS)
        expect(queue).to_contain_text("another-host:4242")
        expect(queue).to_contain_text(str(waiting))

        third = STEP_IDS[2]
        page.goto(f"{url}/?member=cy")  # a member's own address opens their page
        expect(page.get_by_text("Best: each step in any verified grade")).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.get_by_role("combobox", name="Member")).to_have_value("cy")
        steps = page.get_by_role("tabpanel", name="Member").get_by_test_id("stDataFrame").first
        row = steps.locator("tr").filter(has=page.locator("td", has_text=re.compile(f"^{third}$")))
        expect(row.locator("td").nth(2)).to_have_text("not started", timeout=TIMEOUT_MS)  # as `fastgroup list` says

        page.get_by_role("tab", name="Next meetup").click()
        agenda = page.get_by_role("tabpanel", name="Next meetup")
        expect(agenda.get_by_role("heading", name="Next meetup")).to_be_visible(timeout=TIMEOUT_MS)  # rendered
        expect(agenda).to_contain_text(f"{third}): 2 stuck, 1 not started")
        expect(agenda).to_contain_text("Stuck: ana, bo")
        expect(agenda).to_contain_text("Not started yet (the file is still its stub): cy")
        topic = "q02: the MNIST_SAMPLE folder layout and why it is split (missed by 1 of the 1 who answered it)"
        expect(agenda.get_by_text(topic)).to_be_visible()  # no escapes showing
        expect(agenda).not_to_contain_text("q03: ")  # not answered is not missed
        with page.expect_download() as download:
            agenda.get_by_role("button", name="Download the agenda (Markdown)").click()
        markdown = Path(download.value.path()).read_text()
        assert markdown.startswith("# Next meetup") and r"MNIST\_SAMPLE" in markdown
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "agenda.png"), full_page=True)
