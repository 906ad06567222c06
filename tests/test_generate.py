"""grader/generate.py: exercises/ are the generated stubs of solutions/, and nothing else."""

import inspect
import subprocess

import pytest
from conftest import EXERCISES, KIT_ROOT, SOLUTIONS

from grader.generate import stub_source
from grader.sandbox import load_file
from grader.steps import STEP_IDS


def test_generate_check_is_clean():
    run = subprocess.run(["fastgroup", "generate", "--check"], cwd=KIT_ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_generate_check_fails_on_a_hand_edited_exercise(tmp_path):
    import shutil

    from grader.generate import generate

    for name in ("solutions", "exercises", "course"):
        shutil.copytree(KIT_ROOT / name, tmp_path / name)
    (tmp_path / "exercises" / "mnist_loss.py").write_text("# edited\n")
    assert generate(check=True, root=tmp_path) == [tmp_path / "exercises" / "mnist_loss.py"]
    generate(root=tmp_path)
    assert generate(check=True, root=tmp_path) == []


def public_names(module):
    return {
        name: obj
        for name, obj in vars(module).items()
        if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module.__name__
    }


@pytest.mark.parametrize("step", STEP_IDS)
def test_exercise_mirrors_solution(step):
    solution = load_file(SOLUTIONS / f"{step}.py", f"sol_{step}")
    exercise = load_file(EXERCISES / f"{step}.py", f"ex_{step}")
    sol_names, ex_names = public_names(solution), public_names(exercise)
    assert sol_names.keys() == ex_names.keys()
    for name, obj in sol_names.items():
        assert inspect.signature(obj) == inspect.signature(ex_names[name]), name
        assert inspect.getdoc(obj) == inspect.getdoc(ex_names[name]), f"{name}: docstring not kept"
        assert inspect.getdoc(obj), f"{step}.{name} needs a docstring"


@pytest.mark.parametrize("step", STEP_IDS)
def test_every_stub_raises_not_implemented_naming_the_step(step):
    source = (EXERCISES / f"{step}.py").read_text()
    assert "### BEGIN SOLUTION" not in source
    exercise = load_file(EXERCISES / f"{step}.py", f"ex_{step}")
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
