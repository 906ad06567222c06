"""grader/authoring/exercises.py: stubs generated from solutions/, and a learner's work never lost."""

import inspect
import shutil
import subprocess

import pytest

from grader.authoring.exercises import BACKUPS, generate, out_of_sync, reset_step, stub_source
from grader.core.steps import ALL_IDS
from grader.engine.loading import load_file
from tests.support.kit import KIT_ROOT, SOLUTIONS
from tests.support.stubs import public_names


@pytest.fixture
def kit_copy(tmp_path):
    """solutions/, exercises/ and course/ copied into a fresh git repo: a checkout of the kit."""
    for name in ("solutions", "exercises", "course"):
        shutil.copytree(KIT_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", BACKUPS))
    generate(root=tmp_path, force=True)  # in sync, whatever the learner did to the real exercises/
    git = ["git", "-c", "user.name=kit", "-c", "user.email=kit@example.invalid"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-qm", "kit"]):
        subprocess.run(git + command, cwd=tmp_path, check=True, capture_output=True)
    return tmp_path


def test_generate_check_passes_here_whatever_the_learner_did():
    run = subprocess.run(["fastgroup", "generate", "--check"], cwd=KIT_ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_check_reports_a_stale_stub_but_not_a_learners_edit(kit_copy):
    assert out_of_sync(kit_copy) == []
    (kit_copy / "exercises" / "mnist_loss.py").write_text("def mnist_loss(p, t):\n    return 0\n")
    assert out_of_sync(kit_copy) == []  # the learner's work, not a stale stub
    mine = kit_copy / "exercises" / "mnist_loss.py"
    subprocess.run(["git", "-c", "user.name=l", "-c", "user.email=l@example.invalid", "commit", "-qam", "mine"],
                   cwd=kit_copy, check=True)
    assert out_of_sync(kit_copy) == [] and "return 0" in mine.read_text()  # committed work is still theirs
    solution = kit_copy / "solutions" / "linear1.py"
    solution.write_text(solution.read_text().replace('"""', '"""Changed. ', 1))
    stale = out_of_sync(kit_copy)
    assert kit_copy / "exercises" / "linear1.py" in stale and kit_copy / "exercises" / "mnist_loss.py" not in stale
    generate(root=kit_copy)
    assert out_of_sync(kit_copy) == []


def test_a_learners_edit_survives_generate_and_force_keeps_a_backup(kit_copy):
    exercise = kit_copy / "exercises" / "mnist_loss.py"
    mine = exercise.read_text().replace('raise NotImplementedError("mnist_loss: write mnist_loss', "return 0  # (")
    exercise.write_text(mine)
    done = generate(root=kit_copy)
    assert done.kept == [exercise] and done.written == [] and exercise.read_text() == mine
    forced = generate(root=kit_copy, force=True)
    assert forced.written == [exercise]
    assert [b.read_text() for b in forced.backups] == [mine]
    assert forced.backups[0].parent == exercise.parent / BACKUPS
    assert exercise.read_text() == stub_source("mnist_loss", (SOLUTIONS / "mnist_loss.py").read_text())
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=kit_copy,
                            capture_output=True, text=True).stdout
    assert BACKUPS not in status  # `git add .` leaves the backups out (their own .gitignore)


def test_a_new_header_wording_is_not_mistaken_for_an_edit(kit_copy):
    exercise = kit_copy / "exercises" / "calc_grad.py"
    exercise.write_text("# an older header\n" + exercise.read_text().split("\n", 2)[2])
    done = generate(root=kit_copy)
    assert done.written == [exercise] and done.kept == []


def test_reset_gives_a_fresh_stub_and_backs_up_the_old_file(kit_copy):
    exercise = kit_copy / "exercises" / "linear1.py"
    exercise.write_text("# my attempt\n")
    path, saved = reset_step("linear1", kit_copy / "exercises", root=kit_copy)
    assert path == exercise and saved.read_text() == "# my attempt\n"
    assert "NotImplementedError" in exercise.read_text()
    assert reset_step("linear1", kit_copy / "exercises", root=kit_copy)[1] is None  # nothing to keep


def test_reset_from_the_command_line(tmp_path):
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "mnist_loss.py").write_text("mine\n")
    run = subprocess.run(
        ["fastgroup", "reset", "mnist_los", "--source", str(folder)], capture_output=True, text=True
    )
    assert run.returncode == 2 and "did you mean 'mnist_loss'?" in run.stderr
    run = subprocess.run(["fastgroup", "reset", "mnist_loss", "--source", str(folder)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "backed up your file to" in run.stdout
    assert "NotImplementedError" in (folder / "mnist_loss.py").read_text()


@pytest.mark.parametrize("step", ALL_IDS)
def test_stub_mirrors_solution(step, fresh_stubs):
    solution = load_file(SOLUTIONS / f"{step}.py", f"sol_{step}")
    exercise = load_file(fresh_stubs / f"{step}.py", f"ex_{step}")
    sol_names, ex_names = public_names(solution), public_names(exercise)
    assert sol_names.keys() == ex_names.keys()
    for name, obj in sol_names.items():
        assert inspect.signature(obj) == inspect.signature(ex_names[name]), name
        assert inspect.getdoc(obj) == inspect.getdoc(ex_names[name]), f"{name}: docstring not kept"
        assert inspect.getdoc(obj), f"{step}.{name} needs a docstring"
    assert "### BEGIN SOLUTION" not in (fresh_stubs / f"{step}.py").read_text()
    assert "solutions/" not in (fresh_stubs / f"{step}.py").read_text().split('"""')[0]  # the header


@pytest.mark.parametrize("step", [s for s in ALL_IDS if s not in ("my_learner",)])
def test_every_stub_raises_not_implemented_naming_the_step(step, fresh_stubs):
    exercise = load_file(fresh_stubs / f"{step}.py", f"ex_{step}")
    for obj in public_names(exercise).values():
        if inspect.isclass(obj):
            call = lambda obj=obj: obj([], 0.1)  # noqa: E731
        else:
            call = lambda obj=obj: obj(*[None] * len(inspect.signature(obj).parameters))  # noqa: E731
        with pytest.raises(NotImplementedError, match=f"{step}: write"):
            call()


def test_unbalanced_markers_are_refused():
    with pytest.raises(ValueError, match="never closed"):
        stub_source("x", "def f():\n    ### BEGIN SOLUTION\n    return 1\n")
    with pytest.raises(ValueError, match="without"):
        stub_source("x", "def f():\n    return 1\n    ### END SOLUTION\n")


@pytest.mark.parametrize("step", ALL_IDS)
def test_every_docstring_example_runs_as_written_against_the_reference(step):
    import doctest
    import importlib

    module = importlib.import_module(f"solutions.{step}")
    found = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert found.failed == 0


@pytest.mark.parametrize("step", ALL_IDS)
def test_a_stub_imports_torch_where_its_examples_or_the_books_code_use_it(step):
    stub = (KIT_ROOT / "exercises" / f"{step}.py").read_text()
    if "torch." in stub or step in ("simple_net", "calc_grad", "basic_optim"):
        assert "import torch" in stub
