"""Every class of attack submitted to the board and graded by `fastgroup worker`, for real.

Each attacker is a member of their own; an honest member's verified result is recorded first.
Afterwards every attack is graded with no point, the honest result, the members and the files
outside the sandbox are as they were, and no process is left behind. On SQLite (the local
worker, whose store is a file the cross-member attack aims at) and PostgreSQL (procrastinate,
whose socket the sockets attack aims at).
"""

from grader.board.store import Store
from tests.support.cli import fastgroup
from tests.support.hostile import attacks, exercise_folder, leftovers, postgres_socket, snapshot
from tests.support.kit import SOLUTIONS
from tests.support.services import db_url  # noqa: F401
from tests.support.worker import member_rows, start_worker, stop, submitted_id, wait_until_settled

FORGED_STEPS = ("pixel_similarity", "train_epoch", "my_learner")  # the baseline, a 3-vs-7 run, ten digits


def member(db: str, name: str) -> str:
    return fastgroup("members", "add", name, "--db", db).stdout.strip().splitlines()[-1]


def submit(db: str, token: str, folder) -> int:
    return submitted_id(fastgroup("submit", "--source", str(folder), "--token", token, "--db", db))


def test_every_attack_through_the_worker_earns_nothing_and_touches_no_one_else(bwrap, db_url, tmp_path, fresh_stubs,  # noqa: F811
                                                                                monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "scratch"))  # the worker's engines keep their folders here
    (tmp_path / "scratch").mkdir()
    canary = tmp_path / "outside" / "canary.txt"
    canary.parent.mkdir()
    canary.write_text("untouched")
    store = db_url.removeprefix("sqlite:///") if db_url.startswith("sqlite") else "/nonexistent.db"
    honest = tmp_path / "ada"
    honest.mkdir()
    (honest / "mnist_loss.py").write_text((SOLUTIONS / "mnist_loss.py").read_text())
    ada = member(db_url, "ada")
    first = submit(db_url, ada, honest)
    worker = start_worker(db_url, (tmp_path / "worker-1.log").open("w"))
    try:
        [before] = wait_until_settled(db_url, [first], log=tmp_path / "worker-1.log")
    finally:
        stop(worker)
    assert (before.state, before.score) == ("graded", 8)

    submissions = {}
    for name, (files, _steps) in attacks(canary, postgres_socket() or "/run/postgresql/.s.PGSQL.5432", store).items():
        if name == "forged_training":
            files = {f"{step}.py": files[f"{step}.py"] for step in FORGED_STEPS}
        folder = exercise_folder(tmp_path / "attacks" / name, fresh_stubs, files)
        for stub in folder.glob("*.py"):  # a submission holds the attack's files only
            if stub.name not in files:
                stub.unlink()
        submissions[name] = submit(db_url, member(db_url, name), folder)
    members_before = member_rows(db_url)
    watched = snapshot(canary.parent, SOLUTIONS)
    log = tmp_path / "worker-2.log"
    worker = start_worker(db_url, log.open("w"))
    try:
        rows = wait_until_settled(db_url, list(submissions.values()), limit=900, log=log)
    finally:
        stop(worker)
    graded = {name: row for name, row in zip(submissions, rows)}
    assert {name: (row.state, row.score) for name, row in graded.items()} == {
        name: ("graded", 0) for name in submissions
    }, {name: row.reason for name, row in graded.items()}
    with Store.open(db_url) as opened:
        after = opened.submission(first)[0]
    assert (after.state, after.score, after.reason) == (before.state, before.score, before.reason)
    assert member_rows(db_url) == members_before
    assert snapshot(canary.parent, SOLUTIONS) == watched
    assert leftovers(tmp_path / "scratch") == []
