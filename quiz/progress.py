"""Between quiz runs: an unfinished quiz's answers so far (`--resume`), and what the last result
missed (`--missed`).

An interactive quiz writes each answer here as it is given, so stopping loses nothing: the next
`fastgroup quiz --resume` asks only the questions left, in the same shuffled order, and the
answers so far are also written as an answers file that `fastgroup quiz --answers` takes.
A `--missed` run is kept the same way, with the last result's marks of the questions it does
not ask again (`kept`), so its --resume asks only the misses still left. A finished quiz
removes them. Only a finished quiz is a result (grader/core/home.py's latest).
"""

import json
from pathlib import Path

from pydantic import ValidationError

from grader.core.errors import KitError
from grader.core.files import write_atomic
from grader.core.home import kit_home, latest_results_path, subdir
from grader.core.results import Results
from quiz.marking import Marking
from quiz.model import Quiz


def progress_path() -> Path:
    return kit_home() / "quiz-progress.json"


def so_far_path() -> Path:
    """The answers so far as an answers file (JSON, the shape `--answers` reads)."""
    return subdir("results") / "quiz-answers-so-far.json"


def write_json(path: Path, value) -> None:
    write_atomic(path, json.dumps(value, indent=2))


def save(seed: int, answers: dict, kept: dict[str, Marking] | None = None) -> None:
    """The unfinished quiz: its seed (the order its choices were shown in), every answer so far
    (None: skipped) and, for a --missed run, the last result's marks it keeps."""
    saved = {"seed": seed, "answers": answers}
    if kept is not None:
        saved["kept"] = {qid: {"score": m.score, "feedback": m.feedback} for qid, m in kept.items()}
    write_json(progress_path(), saved)


def load(quiz: Quiz) -> tuple[int, dict, dict[str, Marking] | None]:
    """The unfinished quiz's seed, answers and kept marks (None unless a --missed run); a one-line
    error when there is none to resume."""
    try:
        saved = json.loads(progress_path().read_text(encoding="utf-8"))
        seed, answers = int(saved["seed"]), dict(saved["answers"])
        kept = saved.get("kept")
        kept = None if kept is None else {
            qid: Marking(float(m["score"]), True, str(m["feedback"])) for qid, m in dict(kept).items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise KitError("no unfinished quiz to resume: `fastgroup quiz` starts one") from None
    known = {q.id for q in quiz.questions}
    answers = {qid: answer for qid, answer in answers.items() if qid in known}
    return seed, answers, None if kept is None else {qid: m for qid, m in kept.items() if qid in known}


def keep_answers_file(answers: dict) -> Path:
    """The answers so far, as a file `fastgroup quiz --answers` grades (skipped ones left out)."""
    path = so_far_path()
    write_json(path, {"answers": {qid: answer for qid, answer in answers.items() if answer is not None}})
    return path


def clear() -> None:
    """A finished quiz: nothing left to resume."""
    progress_path().unlink(missing_ok=True)


def missed_last_time(quiz: Quiz) -> tuple[list[str], dict[str, Marking]]:
    """The questions the latest quiz result did not get right, and the others' markings (kept)."""
    try:
        last = Results.model_validate_json(latest_results_path("quiz").read_text(encoding="utf-8"))
    except (OSError, ValueError, ValidationError):
        raise KitError("no quiz result yet: take the whole quiz first (`fastgroup quiz`)") from None
    by_id = {t.tags[1]: t for t in last.tests if len(t.tags) > 1}
    missed = [q.id for q in quiz.questions if q.id not in by_id or by_id[q.id].status != "passed"]
    kept = {qid: Marking(t.score, True, t.output) for qid, t in by_id.items() if qid not in missed}
    return missed, kept
