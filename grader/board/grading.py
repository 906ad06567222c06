"""The organiser's side grades a submission: the engine on the submitted code, or the quiz on the
submitted answers, on the organiser's data, seed and device. What comes out is the same results
JSON `fastgroup grade` writes, stored as verified.

Each submission gets engine worker processes of its own, so nothing one submission's code does
to its process (a patched check, a monkeypatched torch) can reach the next member's grade; the
next submission's processes start as soon as one is done, so their imports (torch, fastai)
overlap the wait for it.
"""

import contextlib
import tempfile
import time
from pathlib import Path

from grader.core.errors import KitError
from grader.core.steps import ALL_IDS, STEP_IDS
from grader.engine.runner import Workers, run_checks
from grader.engine.scoring import to_results

SEED = 0  # the organiser's seed: every member is graded alike


class SubmissionError(KitError):
    """The submission itself cannot be graded (answers that do not parse): the member's to fix."""


class Quiet:
    """run_checks' ui: nobody watches a worker's terminal."""

    @contextlib.contextmanager
    def running(self, check):
        yield lambda *args: None

    def finished(self, check, result):
        pass


class Grader:
    """Grades submissions one after another, each with fresh, pre-started engine workers."""

    def __init__(self, data: str = "embedded", device: str = "auto"):
        self.data, self.device = data, device
        self.workers: Workers | None = Workers(data, device, fastai=True)  # warm before the first one

    def grade(self, kind: str, files: dict[str, str]) -> str:
        """The results JSON of one submission."""
        return (self._quiz if kind == "quiz" else self._code)(files)

    def _code(self, files: dict[str, str]) -> str:
        steps = [s for s in ALL_IDS if s in STEP_IDS or f"{s}.py" in files]  # the core always counts
        if self.workers is None:
            self.workers = Workers(self.data, self.device, fastai=True)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="fastgroup-submission-") as tmp:
            folder = Path(tmp)
            for name, text in files.items():
                (folder / name).write_text(text, encoding="utf-8")
            try:
                ready = self.workers.ready()
                graded = run_checks(steps, folder, SEED, False, Quiet(), self.workers)
            finally:
                self.workers.close()
                self.workers = Workers(self.data, self.device, fastai=True)  # for the next one
        results = to_results(graded, time.perf_counter() - start, ready.device, self.data, SEED, False)
        return results.model_dump_json()

    def _quiz(self, files: dict[str, str]) -> str:
        from quiz.grading import grade
        from quiz.model import load_quiz
        from quiz.session import build_results, read_answers

        ((name, text),) = files.items()
        quiz = load_quiz()
        start = time.monotonic()
        try:
            given = read_answers(text.encode("utf-8"), name, Path(name).suffix, quiz)
        except KitError as err:
            raise SubmissionError(str(err)) from None
        outcomes = {q.id: grade(q, given.get(q.id)) for q in quiz.questions}
        return build_results(quiz, outcomes, SEED, time.monotonic() - start, "file").model_dump_json()

    def reset(self) -> None:
        """After a failure of the grading machinery itself: fresh worker processes for the retry."""
        self.close()

    def close(self) -> None:
        if self.workers is not None:
            self.workers.close()
            self.workers = None
