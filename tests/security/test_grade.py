"""Every class of attack through `fastgroup grade`, as a learner (or a stranger's code) runs it.

Each attack gets no point, changes no file outside the sandbox, leaves no process behind, and
the learner reads what went wrong in the report, never a traceback of the kit's. As root (CI)
the sandbox's own uid and dropped capabilities hold it; tests/security/test_as_a_user.py runs
the capability probes as a plain user too.
"""

import pytest

from tests.support.hostile import (
    TRAINING_STEPS,
    attacks,
    exercise_folder,
    fastgroup_grade,
    leftovers,
    postgres_socket,
    snapshot,
)
from tests.support.kit import SOLUTIONS

NAMES = list(attacks(__import__("pathlib").Path("/x"), "", ""))


@pytest.fixture
def canary(tmp_path):
    """A file outside the sandbox that an attack tries to write."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "canary.txt").write_text("untouched")
    return folder / "canary.txt"


@pytest.mark.parametrize("name", NAMES)
def test_an_attack_earns_nothing_changes_nothing_and_leaves_nothing(bwrap, name, tmp_path, fresh_stubs, canary,
                                                                    kit_home):
    store = kit_home / "fastgroup.db"
    store.write_bytes(b"a member's store")
    files, steps = attacks(canary, postgres_socket() or "/run/postgresql/.s.PGSQL.5432", str(store))[name]
    folder = exercise_folder(tmp_path / "exercises", fresh_stubs, files)
    watched = snapshot(folder, canary.parent, SOLUTIONS) | {str(store): store.read_bytes().hex()}
    results, printed = fastgroup_grade(folder, steps, tmp_path / "results.json", tmp_path / "scratch")
    scored = [(t["name"], t["score"], t.get("output", "")[:300]) for t in results["tests"] if t["score"]]
    assert not scored, scored
    assert snapshot(folder, canary.parent, SOLUTIONS) | {str(store): store.read_bytes().hex()} == watched
    assert leftovers(tmp_path / "scratch") == []
    assert "Traceback" not in printed, printed[-3000:]
    told = " ".join(t.get("output", "") for t in results["tests"])
    if name == "quotas":
        assert "filled the room grading gives it to write in" in told, told[:2000]
    if name == "too_large":
        assert "too large (about 800 MB" in told and "did not finish" not in told, told[:2000]
    if name == "forged_training":
        trained = {t["tags"][0] for t in results["tests"]}
        assert trained == set(TRAINING_STEPS)  # every training step was graded, and earned nothing


def test_the_postgresql_socket_is_there_to_attack(bwrap):
    """The sockets attack aims at a real server's socket (CI starts PostgreSQL)."""
    from tests.support.kit import need_service

    if postgres_socket() is None:
        need_service("PostgreSQL", "no server socket in /run/postgresql (.ci/start-postgres.sh starts one)")
