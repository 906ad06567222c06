"""The learner's latest grade: one result per step, each from the most recent run that graded it.

`fastgroup grade STEP`, `--quick` and every watch regrade update only the steps they graded;
the others keep their last full result. Each step records when it was graded and whether its
training was skipped (--quick), so `fastgroup submit` can say exactly what it sends. Each source
keeps its own latest grade (the exercises folder, a notebook by its path, a kernel): grading a
notebook never changes the exercises' record, and back at the exercises their record goes on.
`grade-latest.json` is a copy of the one graded last (what `fastgroup submit` sends).
"""

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from grader.core.files import write_atomic
from grader.core.home import latest_results_path
from grader.core.results import ExtraData, Results, StepRun, TestResult
from grader.core.steps import ALL_IDS, BY_ID
from grader.engine import totals

NOT_RUN = "not run (--quick skips training)"


def source_marker() -> Path:
    """Beside the latest grade: which exercises folder it belongs to (kept out of the payload)."""
    return latest_results_path("grade").with_suffix(".source")


def source_results_path(source: Path) -> Path:
    """Where the latest grade of one source is kept: a file per source, named by its path's hash."""
    key = hashlib.sha256(str(source).encode()).hexdigest()[:16]
    return latest_results_path("grade").with_name(f"grade-{key}.json")


def load_latest(source: Path) -> Results | None:
    """The latest grade of this source, or None (none yet, damaged)."""
    try:
        return Results.model_validate_json(source_results_path(source).read_text())
    except (OSError, ValueError, ValidationError):
        pass
    try:  # a kit home from before sources were kept apart: its one latest grade, if it is this source's
        if source_marker().read_text() != str(source):
            return None
        return Results.model_validate_json(latest_results_path("grade").read_text())
    except (OSError, ValueError, ValidationError):
        return None


def merge(previous: Results | None, current: Results, quick: bool, codes: dict[str, str] | None = None,
          when: datetime | None = None) -> Results:
    """`previous` with every step that `current` graded replaced by this run's result. A `quick`
    run never lowers what a full grade established for the same code (`codes`: each step's
    fingerprint): that grade's training checks are kept; for changed code they stay listed at 0
    points ("not run"), so the total's maximum never shrinks. A step with a check the busy machine
    cut short ("not graded") keeps what was recorded for it."""
    when = when or datetime.now(UTC)
    codes = codes or {}
    before = previous.tests if previous else []
    old_runs = previous.extra_data.step_runs if previous else {}
    # a step a busy machine cut short (engine/limits.py) keeps the result it had, if it had one
    cut_short = {t.tags[0] for t in current.tests if t.number in current.extra_data.not_graded}
    standing = cut_short & {t.tags[0] for t in before}
    current = drop_steps(current, standing)
    graded = {t.tags[0] for t in current.tests}
    keep = [t for t in before if t.tags[0] not in graded]
    runs = {s: r for s, r in old_runs.items() if s not in graded}
    accuracies = {s: a for s, a in (previous.extra_data.accuracies if previous else {}).items() if s not in graded}
    accuracies.update(current.extra_data.accuracies)
    for step in graded:
        skipped = quick and BY_ID[step].trains
        if skipped:
            ran = {t.number for t in current.tests}
            training = [t for t in before if t.tags[0] == step and t.number not in ran]
            old = old_runs.get(step)
            if training and old and not old.quick and old.code is not None and old.code == codes.get(step):
                keep += training  # the same code's full grade still stands
                runs[step] = old
                if step in previous.extra_data.accuracies:
                    accuracies[step] = previous.extra_data.accuracies[step]
                continue
            keep += [not_run(t) for t in training]
        runs[step] = StepRun(graded_at=when.isoformat(timespec="seconds"), quick=skipped, code=codes.get(step))
    tests = sorted(keep + list(current.tests), key=lambda t: (ALL_IDS.index(t.tags[0]), _number(t.number)))
    sums = totals(tests)
    merged_fields = {"accuracies", "quick", "step_runs", "bonus_score", "bonus_max_score", "differences",
                     "not_graded", "not_started"}
    stubs = previous.not_started_checks() if previous else set()
    extra = current.extra_data.model_dump(exclude=merged_fields)
    return Results(
        score=sums["score"],
        max_score=sums["max_score"],
        execution_time=current.execution_time,
        tests=tests,
        extra_data=ExtraData(
            **extra,
            accuracies=accuracies,
            differences={**{n: d for n, d in (previous.extra_data.differences if previous else {}).items()
                            if n.rsplit(".", 1)[0] not in graded}, **current.extra_data.differences},
            not_graded=current.extra_data.not_graded,
            not_started=sorted({t.number for t in keep if t.number in stubs} | current.not_started_checks()),
            quick=any(r.quick for r in runs.values()),
            step_runs=dict(sorted(runs.items(), key=lambda item: ALL_IDS.index(item[0]))),
            **sums["bonus"],
        ),
    )


def drop_steps(results: Results, steps: set[str]) -> Results:
    """`results` without the tests, accuracies, differences and cut-short checks of `steps`."""
    if not steps:
        return results
    numbers = {t.number for t in results.tests if t.tags[0] in steps}
    extra = results.extra_data.model_copy(update={
        "accuracies": {s: a for s, a in results.extra_data.accuracies.items() if s not in steps},
        "differences": {n: d for n, d in results.extra_data.differences.items() if n not in numbers},
        "not_graded": [n for n in results.extra_data.not_graded if n not in numbers],
        "not_started": sorted(results.not_started_checks() - numbers),
    })
    return results.model_copy(update={"tests": [t for t in results.tests if t.tags[0] not in steps],
                                       "extra_data": extra})


def not_run(test: TestResult) -> TestResult:
    """A training check a --quick grade of changed code left out: listed, at 0 points."""
    step = test.tags[0]
    return test.model_copy(update={"score": 0.0, "status": "failed",
                                   "output": f"{NOT_RUN}: the code changed since it last ran; "
                                             f"`fastgroup grade {step}` runs it"})


def save_latest(current: Results, source: Path, quick: bool, codes: dict[str, str] | None = None) -> Results:
    """Merge this run into the latest grade of `source` and write it; the merged result."""
    merged = merge(load_latest(source), current, quick, codes)
    text = merged.model_dump_json(indent=2)
    write_atomic(source_results_path(source), text)
    write_atomic(latest_results_path("grade"), text)  # what `fastgroup submit` sends: the source graded last
    write_atomic(source_marker(), str(source))
    return merged


def _number(number: str) -> int:
    tail = number.rsplit(".", 1)[-1]
    return int(tail) if tail.isdigit() else 0
