"""intake.py: a submission stored and queued in one place, with the name of the source it came from."""

import pytest
from sqlalchemy import text

from grader.board.intake import Intake, label
from grader.board.store import Store
from tests.support.cli import fastgroup
from tests.support.services import db_url  # noqa: F401
from tests.support.worker import submitted_id

STUB = {"linear1.py": "def linear1(xb, weights, bias):\n    raise NotImplementedError\n"}


@pytest.mark.parametrize("source, shown", [
    ("/home/ada/work/ch4.ipynb", "ch4.ipynb"),
    ("C:\\Users\\ada\\exercises", "exercises"),
    ("exercises/", "exercises"),
    ("ch4\u202e.ipynb\n", "ch4.ipynb"),  # a bidirectional override and a newline: dropped
    ("x" * 300, "x" * 100),
    ("", None),
    (None, None),
    ("/", None),
])
def test_a_source_is_kept_as_its_name_never_its_path(source, shown):
    assert label(source) == shown


def test_a_submission_is_stored_queued_and_given_its_job(db_url):  # noqa: F811
    said = []
    with Store.open(db_url) as store, Intake(store, log=said.append) as intake:
        token = store.add_member("ada")
        receipt = intake.take(token, "grade", STUB, "/home/ada/ch4.ipynb", via="a test")
        row, payload = store.submission(receipt.submission_id)
        assert (receipt.member, receipt.source) == ("ada", "ch4.ipynb")
        assert (row.state, row.origin, row.source, payload) == ("queued", "verified", "ch4.ipynb", None)
        assert [q.source for q in store.queue()] == ["ch4.ipynb"]
        if not store.is_sqlite:  # PostgreSQL: procrastinate's job, under the member's lock
            jobs = store.read(lambda conn: conn.execute(text(
                "SELECT lock, args ->> 'submission_id' FROM procrastinate_jobs")).all())
            assert [tuple(j) for j in jobs] == [(f"member-{receipt.member_id}", str(receipt.submission_id))]
    assert len(said) == 1
    assert f"arrived #{receipt.submission_id} from ada (a test, from ch4.ipynb): 1 step file" in said[0]


def test_fastgroup_submit_records_the_folder_it_came_from(tmp_path):
    url = f"sqlite:///{tmp_path / 'board.db'}"
    token = fastgroup("members", "add", "ada", "--db", url).stdout.strip().splitlines()[-1]
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "linear1.py").write_text(STUB["linear1.py"])
    sent = fastgroup("submit", "--source", str(folder), "--token", token, "--db", url)
    assert "Queued 1 exercise file(s) from exercises for ada" in sent.stdout, sent.stderr
    with Store.open(url) as store:
        assert store.submission(submitted_id(sent))[0].source == "exercises"  # not the path of the folder
