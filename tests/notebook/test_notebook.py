"""The notebook track: the generated nbgrader notebook, the in-notebook checks, and the real
nbgrader commands (release, validate, autograde, feedback) on a copy of course/, then the
import of the gradebook into a real SQLite store.

The nbgrader part trains every step of two submissions (one with all solutions, one with a
planted mistake) in a single `nbgrader autograde` run shared by the module's tests.
"""

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest

from grader.authoring.notebook import NOTEBOOK, notebook_files
from grader.board.store import Store
from grader.core.errors import KitError
from grader.core.steps import ALL_IDS, STEP_IDS
from grader.engine.checks import REGISTRY
from grader.notebook.gradebook import results_by_student
from grader.notebook.inline import check_step
from tests.support.kit import KIT_ROOT

NO_SIGMOID = ("p = predictions.sigmoid()", "p = predictions")
AUTOGRADE_TIMEOUT = 1800  # two submissions, every step trained, on a slow shared CPU


def nbgrader_test(func):
    """Slow, and allowed the time of the shared fixture's autograde run (whichever test is first)."""
    return pytest.mark.slow(pytest.mark.timeout(AUTOGRADE_TIMEOUT + 600)(func))


def points(step: str) -> float:
    return sum(c.points for c in REGISTRY[step])


def solution_namespace(step: str, old: str = "", new: str = "") -> dict:
    """What a notebook's globals() holds after running the step's (maybe planted) solution cell."""
    source = (KIT_ROOT / "solutions" / f"{step}.py").read_text()
    assert old in source
    namespace: dict = {}
    exec(compile(source.replace(old, new), f"<cell {step}>", "exec"), namespace)
    return namespace


# ---------------------------------------------------------------- the generated notebook


def test_committed_notebook_is_current():
    """course/source/ch4/ch4.ipynb is what `fastgroup generate` writes from solutions/."""
    (path, text), = notebook_files(KIT_ROOT).items()
    assert path == KIT_ROOT / NOTEBOOK
    assert path.read_text() == text, "run `fastgroup generate`"
    assert notebook_files(KIT_ROOT)[path] == text  # deterministic


def test_notebook_cells():
    nb = nbformat.reads((KIT_ROOT / NOTEBOOK).read_text(), as_version=4)
    nbformat.validate(nb)
    meta = {c.id: c.metadata.get("nbgrader") for c in nb.cells}
    assert meta["setup"]["locked"] and not meta["setup"]["grade"]
    steps = [c.id for c in nb.cells if (c.metadata.get("nbgrader") or {}).get("grade")]
    assert steps == [s for s in ALL_IDS if (KIT_ROOT / "solutions" / f"{s}.py").exists()]
    assert steps[: len(STEP_IDS)] == list(STEP_IDS)
    for step in steps:
        test, code = meta[step], meta[f"{step}_code"]
        assert test["grade_id"] == step and test["locked"] and not test["solution"]
        assert test["points"] == points(step)
        assert code["solution"] and not code["grade"] and not code["locked"]
        source = next(c.source for c in nb.cells if c.id == step)
        assert f'check_step("{step}", globals())' in source and "### BEGIN HIDDEN TESTS" in source
    assert not any("# noqa" in c.source for c in nb.cells)


# ---------------------------------------------------------------- check_step, in-process


def test_check_step_passes_the_reference(capsys):
    score = check_step("mnist_loss", solution_namespace("mnist_loss"))
    assert score == points("mnist_loss")
    out = capsys.readouterr()
    assert "mnist_loss: 8/8 points" in out.out and out.err == ""


def test_check_step_names_the_mistake(capsys):
    with pytest.raises(AssertionError, match="Likely mistake: the sigmoid is missing"):
        check_step("mnist_loss", solution_namespace("mnist_loss", *NO_SIGMOID))
    assert "FAIL mnist_loss.1" in capsys.readouterr().out


def test_check_step_skips_training_after_a_failure(capsys):
    """A step that fails a quick check does not spend a minute training."""
    namespace = solution_namespace("train_epoch", "p.data -= p.grad * lr", "p.data += p.grad * lr")
    with pytest.raises(AssertionError, match="uphill"):
        check_step("train_epoch", namespace)
    assert "FAIL train_epoch.2" in capsys.readouterr().out


def test_check_step_missing_function():
    with pytest.raises(AssertionError, match="mnist_loss not defined: run the cell"):
        check_step("mnist_loss", {})


def test_check_step_keeps_stderr_quiet(capsys, monkeypatch):
    """nbgrader gives no points to a test cell that writes to stderr: prints and warnings of
    the learner's code go into the report instead."""

    def show_on_stderr(message, category, filename, lineno, file=None, line=None):  # as in a kernel
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    monkeypatch.setattr(warnings, "showwarning", show_on_stderr)
    namespace = solution_namespace("mnist_loss")
    reference = namespace["mnist_loss"]

    def noisy(predictions, targets):
        print("debugging", file=sys.stderr)
        warnings.warn("a learner's warning", UserWarning, stacklevel=1)
        return reference(predictions, targets)

    namespace["mnist_loss"] = noisy
    assert check_step("mnist_loss", namespace) == points("mnist_loss")
    assert capsys.readouterr().err == ""


def test_check_step_not_started():
    namespace = solution_namespace("linear1", "return xb @ weights + bias", "raise NotImplementedError()")
    with pytest.raises(AssertionError, match="not started yet"):
        check_step("linear1", namespace)


# ---------------------------------------------------------------- the organiser's store method


def test_submit_as_member(tmp_path):
    from grader.notebook.gradebook import gradebook_results

    with Store.open(f"sqlite:///{tmp_path / 'store.db'}", create=True) as store:
        payload = gradebook_results("ch4", "2024-01-01T00:00:00", {"mnist_loss": (8.0, 8.0)}).model_dump_json()
        with pytest.raises(KitError, match="no member named 'ada'"):
            store.submit_as_member("ada", payload)
        store.add_member("ada")
        receipt = store.submit_as_member("ada", payload)
        assert (receipt.member, receipt.score, receipt.max_score) == ("ada", 8.0, 8.0)
        assert store.submit_as_member("ada", payload) is None  # the same payload again
        assert store.counts()["submissions"] == 1


def test_import_missing_gradebook(tmp_path):
    with pytest.raises(KitError, match="not found: run `nbgrader autograde ch4` first"):
        results_by_student(tmp_path / "gradebook.db")


# ---------------------------------------------------------------- real nbgrader


def nbgrader(course: Path, env: dict, *args: str, timeout: float = 600) -> str:
    """Run one nbgrader command in the course folder; its output, or a failure showing it."""
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{output[-5000:]}"
    return output


def submit(course: Path, student: str, notebook: dict) -> None:
    folder = course / "submitted" / student / "ch4"
    folder.mkdir(parents=True)
    (folder / "ch4.ipynb").write_text(json.dumps(notebook))


def planted(notebook: dict, cell_id: str, old: str, new: str) -> dict:
    notebook = json.loads(json.dumps(notebook))
    cell = next(c for c in notebook["cells"] if c["id"] == cell_id)
    source = "".join(cell["source"])
    assert old in source
    cell["source"] = source.replace(old, new).splitlines(keepends=True)
    return notebook


def patched_checks(notebook: dict) -> dict:
    """The released stubs, untouched, with one cell of the student's before the test cells that
    replaces the check they call: every test cell passes in the student's kernel."""
    notebook = json.loads(json.dumps(notebook))
    at = next(i for i, c in enumerate(notebook["cells"]) if c.get("id") == "setup") + 1
    notebook["cells"].insert(at, {"cell_type": "code", "id": "mine", "metadata": {}, "execution_count": None,
                                  "outputs": [], "source": ["import grader.notebook.inline as inline\n",
                                                            "inline.check_step = lambda *args, **kwargs: 0\n"]})
    return notebook


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of course/ taken through release, validation, two submissions, autograde."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(KIT_ROOT / "course" / "nbgrader_config.py", root)
    shutil.copytree(KIT_ROOT / "course" / "source", root / "source")
    env = {k: v for k, v in os.environ.items() if k not in ("FASTGROUP_DB_URL", "FASTGROUP_TOKEN")}
    env["FASTGROUP_HOME"] = str(tmp_path_factory.mktemp("home"))
    env["FASTGROUP_DATA_CACHE"] = os.environ["FASTGROUP_DATA_CACHE"]
    logs = {"release": nbgrader(root, env, "generate_assignment", "ch4", "--force")}
    logs["validate"] = nbgrader(root, env, "validate", "--invert", "release/ch4/ch4.ipynb")
    source = json.loads((root / "source" / "ch4" / "ch4.ipynb").read_text())
    submit(root, "alice", source)
    submit(root, "bob", planted(source, "mnist_loss_code", *NO_SIGMOID))
    submit(root, "mallory", patched_checks(json.loads((root / "release" / "ch4" / "ch4.ipynb").read_text())))
    logs["autograde"] = nbgrader(root, env, "autograde", "ch4", timeout=AUTOGRADE_TIMEOUT)
    logs["feedback"] = nbgrader(root, env, "generate_feedback", "ch4")
    return root, logs


def gradebook_scores(course: Path, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission("ch4", student)
        return {g.name: g.score for nb in submission.notebooks for g in nb.grades}


@nbgrader_test
def test_release_hides_solutions_and_hidden_tests(course):
    root, _ = course
    text = (root / "release" / "ch4" / "ch4.ipynb").read_text()
    assert "### BEGIN SOLUTION" not in text and "p.data -= p.grad * lr" not in text
    assert "raise NotImplementedError()" in text
    assert "### BEGIN HIDDEN TESTS" not in text and "seed=1" not in text
    assert 'check_step(\\"mnist_loss\\", globals())' in text


@nbgrader_test
def test_released_notebook_passes_no_test(course):
    _, logs = course
    assert "Success! The notebook does not pass any tests." in logs["validate"]


@nbgrader_test
def test_full_solutions_get_full_marks(course):
    root, _ = course
    scores = gradebook_scores(root, "alice")
    assert scores == {step: points(step) for step in scores}
    assert set(scores) == {s for s in ALL_IDS if (KIT_ROOT / "solutions" / f"{s}.py").exists()}


@nbgrader_test
def test_planted_mistake_loses_exactly_that_cell(course):
    root, _ = course
    scores = gradebook_scores(root, "bob")
    assert scores["mnist_loss"] == 0
    assert {s: v for s, v in scores.items() if s != "mnist_loss"} == {
        s: points(s) for s in scores if s != "mnist_loss"
    }


@nbgrader_test
def test_feedback_html(course):
    root, _ = course
    alice = (root / "feedback" / "alice" / "ch4" / "ch4.html").read_text()
    bob = (root / "feedback" / "bob" / "ch4" / "ch4.html").read_text()
    assert "mnist_loss: 8/8 points" in alice
    assert "the sigmoid is missing" in bob


@nbgrader_test
def test_import_into_store_records_the_sandboxed_grade_not_the_kernels(course, tmp_path):
    """`fastgroup nbgrader import` as the organiser runs it: each submitted notebook graded again in
    the sandbox; mallory's patched checks fooled nbgrader's test cells, not the import."""
    from tests.support.cli import fastgroup, one_line_error

    root, _ = course
    assert sum(gradebook_scores(root, "mallory").values()) > 0  # nbgrader was fooled
    db = f"sqlite:///{tmp_path / 'store.db'}"
    args = ("nbgrader", "import", "--gradebook", str(root / "gradebook.db"), "--db", db)
    with Store.open(db, create=True) as store:
        assert "not members: alice, bob, mallory" in one_line_error(fastgroup(*args))
        assert store.counts()["submissions"] == 0
        for name in ("alice", "bob", "mallory", "carol"):  # carol handed nothing in
            store.add_member(name)
    done = fastgroup(*args, timeout=AUTOGRADE_TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Imported 3 nbgrader result(s) of 'ch4' into the store." in done.stdout
    assert "mallory: verified 0/" in done.stdout and "nbgrader's test cells said" in done.stdout
    with Store.open(db) as store:
        board = {row.name: row for row in store.leaderboard()}
        payload = json.loads(store.member_detail("mallory").latest_grade_payload)
        bobs = json.loads(store.member_detail("bob").latest_grade_payload)
    total = sum(points(s) for s in STEP_IDS)  # bonus steps are counted apart
    assert board["alice"].points == total == board["alice"].max_points
    # the sandboxed grade, as `fastgroup grade --source` gives it: the mistake's step loses points
    # (later steps that call the notebook's own loss may too)
    his = [t for t in bobs["tests"] if t["tags"] == ["mnist_loss"]]
    assert his and sum(t["score"] for t in his) < sum(t["max_score"] for t in his) == points("mnist_loss")
    assert board["bob"].points < total
    assert board["mallory"].points == 0 and board["carol"].submissions == 0
    assert payload["extra_data"]["nbgrader_score"] > 0 and payload["score"] == 0
