"""Learner code can never break the grader: it is reported, and grading goes on."""

import subprocess

from tests.support.kit import KIT_ROOT
from tests.support.planting import grade_step, plant, replace_body


def test_infinite_loop_fails_that_check_names_its_line_costs_one_limit_and_grading_goes_on(tmp_path):
    """The limit is the real one (20 CPU seconds), spent once: the step's later checks are skipped,
    not waited for again (on a busy machine the 20 s take longer by the clock)."""
    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", "n = 0\nwhile n >= 0:\n    n += 1")
    line = (folder / "mnist_loss.py").read_text().splitlines().index("    while n >= 0:") + 1
    from grader.learner.grade import grade

    results = grade(steps=["mnist_loss", "batch_accuracy"], source=folder, quick=True, show=False)
    first, *rest = [t for t in results.tests if t.tags == ["mnist_loss"]]
    assert first.status == "failed" and "did not finish within its limit of 20 s of computing" in first.output
    assert f"It was stopped at mnist_loss.py, line {line + 1}: `n += 1`." in first.output or (
        f"It was stopped at mnist_loss.py, line {line}: `while n >= 0:`." in first.output), first.output
    assert rest and all(t.status == "failed" and t.output.startswith(
        f"skipped: the step did not finish within its limit (in {first.number})")
                        for t in rest)  # the step's later checks are not waited for again
    assert all(t.status == "passed" for t in results.tests if t.tags == ["batch_accuracy"])


def test_exception_is_reported_with_a_traceback_trimmed_to_the_learners_file(tmp_path):
    folder = plant(tmp_path, "linear1", "return xb @ weights + bias", "return xb @ weights.T + bias")
    _, tests = grade_step(folder, "linear1", quick=True)
    failed = [t for t in tests if t.status == "failed"]
    assert failed
    out = failed[0].output
    assert "your code raised RuntimeError" in out
    assert "linear1.py, line" in out and "return xb @ weights.T + bias" in out
    assert "site-packages" not in out and "grader/" not in out


def test_syntax_error_fails_that_step_only(tmp_path):
    folder = replace_body(tmp_path, "batch_accuracy", "def batch_accuracy(xb_preds, yb):\n    return (\n")
    from grader.learner.grade import grade

    results = grade(steps=["mnist_loss", "batch_accuracy", "validate_epoch"], source=folder, quick=True, show=False)
    by_step = {}
    for t in results.tests:
        by_step.setdefault(t.tags[0], []).append(t)
    assert all(t.status == "failed" and "SyntaxError" in t.output for t in by_step["batch_accuracy"])
    assert all(t.status == "passed" for t in by_step["mnist_loss"] + by_step["validate_epoch"])


def test_import_error_at_top_level_fails_that_step_only(tmp_path):
    folder = replace_body(tmp_path, "calc_grad", "import not_a_real_module\n")
    _, tests = grade_step(folder, "calc_grad", quick=True)
    assert tests and all("does not import" in t.output and "ModuleNotFoundError" in t.output for t in tests)


def test_a_flood_of_output_is_capped(tmp_path):
    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()",
                   "print('x' * 1_000_000)\np = predictions.sigmoid()")
    results, tests = grade_step(folder, "mnist_loss", quick=True)
    assert results.score == results.max_score
    for t in tests:
        assert len(t.output) < 3000 and "more characters of output cut" in t.output


def test_garbage_return_values_are_reported(tmp_path):
    folder = replace_body(tmp_path, "mnist_loss", "def mnist_loss(predictions, targets):\n    return 'a loss'\n")
    _, tests = grade_step(folder, "mnist_loss", quick=True)
    assert all(t.status == "failed" for t in tests)
    assert any("should be a tensor, got str" in t.output for t in tests)
    folder = replace_body(tmp_path / "b", "linear1",
                          "import torch\ndef make_dataset(t, s):\n    return None\n"
                          "def linear1(xb, w, b):\n    return torch.zeros(3, 3)\n")
    _, tests = grade_step(folder, "linear1", quick=True)
    assert "should return (x, y)" in tests[0].output
    assert "has shape (1, 1), expected" in tests[1].output or "shape (3, 3)" in tests[1].output


def test_exit_and_hard_crash_in_learner_code_do_not_stop_grading(tmp_path):
    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", "import os\nos._exit(3)")
    from grader.learner.grade import grade

    results = grade(steps=["mnist_loss", "batch_accuracy"], source=folder, quick=True, show=False)
    assert all("crashed the Python process" in t.output for t in results.tests if t.tags == ["mnist_loss"])
    assert all(t.status == "passed" for t in results.tests if t.tags == ["batch_accuracy"])
    folder = plant(tmp_path / "b", "mnist_loss", "p = predictions.sigmoid()", "import sys\nsys.exit(0)")
    results = grade(steps=["mnist_loss"], source=folder, quick=True, show=False)
    assert all("stopped the grader: SystemExit" in t.output for t in results.tests)


def test_missing_exercise_file_is_one_clear_failure(tmp_path):
    folder = replace_body(tmp_path, "mnist_loss", "")
    (folder / "mnist_loss.py").unlink()
    _, tests = grade_step(folder, "mnist_loss", quick=True)
    assert all("mnist_loss.py is missing" in t.output for t in tests)


def test_cli_usage_errors_are_one_line_with_exit_2(tmp_path):
    cases = [
        (["grade", "not_a_step"], "unknown step 'not_a_step'"),
        (["grade", "--device", "tpu"], "unknown device 'tpu'"),
        (["grade", "--source", str(tmp_path / "nowhere")], "exercises folder"),
        (["grade", "--data", str(tmp_path)], "lacks PNG images"),
        (["hint", "nope"], "unknown step 'nope'"),
    ]
    for args, words in cases:
        run = subprocess.run(["fastgroup", *args], cwd=KIT_ROOT, capture_output=True, text=True)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], (args, run.stderr)


def test_a_step_file_too_deep_for_pythons_parser_fails_its_step_and_grading_goes_on(tmp_path):
    folder = replace_body(tmp_path, "mnist_loss", "x = " + "-" * 200_000 + "1\n")
    from grader.learner.grade import grade

    results = grade(steps=["mnist_loss", "batch_accuracy"], source=folder, quick=True, show=False)
    assert all(t.status == "failed" for t in results.tests if t.tags == ["mnist_loss"])
    assert all(t.status == "passed" for t in results.tests if t.tags == ["batch_accuracy"])


def test_pytorchs_own_not_implemented_error_is_a_failure_not_a_stub(tmp_path):
    """A NotImplementedError raised from inside a library (PyTorch lacks an operation for a dtype:
    thrown here from a frame of the learner's line, as C code's errors surface) is the learner's
    error to read, not "not started": only a stub's own `raise NotImplementedError` means that."""
    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()",
                   "(_ for _ in ()).throw(NotImplementedError(\"Could not run 'aten::x' with 'Long'\"))\n"
                   "p = predictions.sigmoid()")
    from grader.learner.grade import grade

    results = grade(steps=["mnist_loss"], source=folder, quick=True, show=False)
    assert results.tests and all("not started" not in t.output for t in results.tests), results.tests[0].output
    assert all("NotImplementedError" in t.output for t in results.tests)


def test_a_nan_never_passes_for_a_number(tmp_path):
    """NaN compares false with everything: a check that fails only when a difference is too large
    would let it through. validate_epoch returning NaN loses its value check."""
    folder = replace_body(tmp_path, "validate_epoch",
                          "def validate_epoch(model, valid_dl, metric):\n    return float('nan')\n")
    _, tests = grade_step(folder, "validate_epoch", quick=True)
    value = next(t for t in tests if "matches the reference" in t.name)
    assert value.status == "failed", value.output
