"""`fastgroup submit` + `fastgroup worker`, for real: the organiser's side grades what members send.

On SQLite the worker is the local loop; on PostgreSQL a procrastinate worker. Grading is real
(the engine on the solutions, the quiz on an answer key), and so is every process.
"""

import json
import os
import signal
import time

from grader.board.store import Store
from grader.engine.checks import CORE_POINTS
from quiz.model import load_quiz
from tests.support.cli import fastgroup
from tests.support.kit import KIT_ROOT
from tests.support.services import db_url  # noqa: F401
from tests.support.worker import GRADE_LIMIT_S, member_rows, start_worker, stop, submitted_id, wait_until_settled


def answer_key(path) -> None:
    """Every right answer, as an answers file gives it (a two-part question: its code and choice)."""
    answers = {q.id: q.reference() if hasattr(q, "reference") else q.answer for q in load_quiz().questions}
    path.write_text(json.dumps({"answers": answers}))


def test_solutions_and_the_answer_key_are_graded_to_full_marks_and_verified(db_url, tmp_path):  # noqa: F811
    token = fastgroup("members", "add", "ada", "--db", db_url).stdout.strip().splitlines()[-1]
    answer_key(tmp_path / "answers.json")
    code = submitted_id(fastgroup("submit", "--source", str(KIT_ROOT / "solutions"), "--token", token, "--db", db_url))
    quiz = submitted_id(
        fastgroup("submit", "--quiz", "--answers", str(tmp_path / "answers.json"), "--token", token, "--db", db_url)
    )
    log = tmp_path / "worker.log"
    worker = start_worker(db_url, log.open("w"))
    try:
        rows = wait_until_settled(db_url, [code, quiz], log=log)
    finally:
        stop(worker)
    assert [(r.state, r.origin) for r in rows] == [("graded", "verified")] * 2, [r.reason for r in rows]
    assert (rows[0].score, rows[0].max_score) == (CORE_POINTS, CORE_POINTS)
    quiz_size = len(load_quiz().questions)
    assert (rows[1].score, rows[1].max_score) == (quiz_size, quiz_size)
    with Store.open(db_url) as store:
        row = store.leaderboard()[0]
        assert (row.name, row.points, row.quiz, row.steps_completed) == ("ada", CORE_POINTS, quiz_size, 13)
        assert store.self_reported() == []


def test_ctrl_c_in_the_workers_terminal_lets_the_submission_being_graded_finish(db_url, tmp_path):  # noqa: F811
    """Ctrl-C reaches the worker and its judges alike: the worker stops after the submission it is
    grading, and that submission's points are the ones its code earns, not crashes of killed judges."""
    token = fastgroup("members", "add", "ada", "--db", db_url).stdout.strip().splitlines()[-1]
    code = submitted_id(fastgroup("submit", "--source", str(KIT_ROOT / "solutions"), "--token", token, "--db", db_url))
    log = tmp_path / "worker.log"
    worker = start_worker(db_url, log.open("w"))
    try:
        deadline = time.monotonic() + GRADE_LIMIT_S
        with Store.open(db_url) as store:
            while store.submission(code)[0].state == "queued" and time.monotonic() < deadline:
                time.sleep(0.2)
        time.sleep(3)  # the judges are running checks now
        os.killpg(worker.pid, signal.SIGINT)
        worker.wait(GRADE_LIMIT_S)
    finally:
        stop(worker)
    rows = wait_until_settled(db_url, [code], limit=5, log=log)
    assert (rows[0].state, rows[0].score, rows[0].max_score) == ("graded", CORE_POINTS, CORE_POINTS), (
        rows[0].reason, log.read_text()[-2000:])


HOSTILE = '''
import os, pathlib
import torch
import grader.engine.checks.base as base

for checks in base.REGISTRY.values():  # every check passes, if the judge ran in this process
    for check in checks:
        check.func = lambda ctx: None
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
for home in (os.environ.get("FASTGROUP_HOME"), os.path.expanduser("~/.fastgroup"), {kit_home!r}):
    try:
        pathlib.Path(home, "written-by-a-submission").write_text("x")
    except (OSError, TypeError):
        pass


def mnist_loss(predictions, targets):
    return 0
'''


def test_a_hostile_submission_gets_no_points_and_changes_nothing_else(bwrap, db_url, tmp_path, kit_home, fresh_stubs):  # noqa: F811
    """The sandbox issue's probes in a submitted file: no point for it, nothing written, the next
    member's grade untouched; on SQLite (local worker) and PostgreSQL (procrastinate)."""
    mallory = fastgroup("members", "add", "mallory", "--db", db_url).stdout.strip().splitlines()[-1]
    ada = fastgroup("members", "add", "ada", "--db", db_url).stdout.strip().splitlines()[-1]
    members_before = member_rows(db_url)
    hostile_dir, honest_dir = tmp_path / "mallory", tmp_path / "ada"
    hostile_dir.mkdir()
    honest_dir.mkdir()
    (hostile_dir / "mnist_loss.py").write_text(HOSTILE.replace("{kit_home!r}", repr(str(kit_home))))
    (honest_dir / "linear1.py").write_text((fresh_stubs / "linear1.py").read_text())  # not exercises/
    before = sorted(p.name for p in kit_home.iterdir())
    hostile = submitted_id(fastgroup("submit", "--source", str(hostile_dir), "--token", mallory, "--db", db_url))
    honest = submitted_id(fastgroup("submit", "--source", str(honest_dir), "--token", ada, "--db", db_url))
    log = tmp_path / "worker.log"
    worker = start_worker(db_url, log.open("w"))
    try:
        rows = wait_until_settled(db_url, [hostile, honest], log=log)
    finally:
        stop(worker)
    assert [r.state for r in rows] == ["graded", "graded"], [r.reason for r in rows]
    assert [r.score for r in rows] == [0, 0]  # a stub earns nothing, whatever came before it
    assert sorted(p.name for p in kit_home.iterdir()) == before
    assert member_rows(db_url) == members_before  # no token hash replaced, no member added
