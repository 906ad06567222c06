"""The learner's latest grade: one result per step, each from the most recent run that graded it.

`fastgroup grade STEP`, `--quick` and every watch regrade update only the steps they graded;
the others keep their last full result. Each step records when it was graded and whether its
training was skipped (--quick), so `fastgroup submit` can say exactly what it sends. A grade of
another folder (`--source solutions`, say) starts a new latest grade instead of mixing the two.
"""

from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from grader.core.home import latest_results_path
from grader.core.results import ExtraData, Results, StepRun
from grader.core.steps import ALL_IDS, BY_ID
from grader.engine.scoring import totals


def source_marker() -> Path:
    """Beside the latest grade: which exercises folder it belongs to (kept out of the payload)."""
    return latest_results_path("grade").with_suffix(".source")


def load_latest(source: Path) -> Results | None:
    """The latest grade of this exercises folder, or None (none yet, another folder, damaged)."""
    path = latest_results_path("grade")
    try:
        if source_marker().read_text() != str(source):
            return None
        return Results.model_validate_json(path.read_text())
    except (OSError, ValueError, ValidationError):
        return None


def merge(previous: Results | None, current: Results, quick: bool, when: datetime | None = None) -> Results:
    """`previous` with every step that `current` graded replaced by this run's result."""
    when = when or datetime.now(UTC)
    graded = {t.tags[0] for t in current.tests}
    keep = [t for t in (previous.tests if previous else []) if t.tags[0] not in graded]
    tests = sorted(keep + list(current.tests), key=lambda t: (ALL_IDS.index(t.tags[0]), _number(t.number)))
    runs = {s: r for s, r in (previous.extra_data.step_runs if previous else {}).items() if s not in graded}
    for step in graded:
        runs[step] = StepRun(graded_at=when.isoformat(timespec="seconds"), quick=quick and BY_ID[step].trains)
    accuracies = {s: a for s, a in (previous.extra_data.accuracies if previous else {}).items() if s not in graded}
    accuracies.update(current.extra_data.accuracies)
    sums = totals(tests)
    merged_fields = {"accuracies", "quick", "step_runs", "bonus_score", "bonus_max_score"}
    extra = current.extra_data.model_dump(exclude=merged_fields)
    return Results(
        score=sums["score"],
        max_score=sums["max_score"],
        execution_time=current.execution_time,
        tests=tests,
        extra_data=ExtraData(
            **extra,
            accuracies=accuracies,
            quick=any(r.quick for r in runs.values()),
            step_runs=dict(sorted(runs.items(), key=lambda item: ALL_IDS.index(item[0]))),
            **sums["bonus"],
        ),
    )


def save_latest(current: Results, source: Path, quick: bool) -> Results:
    """Merge this run into the latest grade of `source` and write it; the merged result."""
    merged = merge(load_latest(source), current, quick)
    latest_results_path("grade").write_text(merged.model_dump_json(indent=2))
    source_marker().write_text(str(source))
    return merged


def _number(number: str) -> int:
    tail = number.rsplit(".", 1)[-1]
    return int(tail) if tail.isdigit() else 0
