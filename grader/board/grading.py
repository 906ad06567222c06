"""The organiser's side marks a submission: the grading service on the submitted code, or the
quiz on the submitted answers, on the organiser's data, seed and device. What comes out is the
kit's own Results (what `fastgroup grade` writes as JSON), handed to the store as it is and
stored as verified: every point in it was derived by the judge or the quiz, never by the sandbox.

One grading service (its judge processes) serves one submission after another, as the learner's
own commands keep theirs: a judge never runs member code, and every submission gets a new sandbox
and a new view of the data (Service.refresh), so nothing one submission's code does to its
process (a patched check, a monkeypatched torch) can reach the next member's grade, and a small
submission costs about its own checks, not torch's and fastai's imports again.
"""

import time
from pathlib import Path

from grader.core.errors import KitError
from grader.core.results import Results
from grader.core.steps import ALL_IDS, STEP_IDS
from grader.engine import ALL_OF_FASTAI, DEFAULT_SEED, Request, Service
from grader.engine import make_settings as settings

SEED = DEFAULT_SEED  # the organiser's seed: every member is graded alike


class SubmissionError(KitError):
    """The submission itself cannot be graded (answers that do not parse): the member's to fix."""


class Marker:
    """Marks the board's submissions one after another: code through one pre-started grading service
    (each submission in fresh sandboxes), quiz answers against the quiz."""

    def __init__(self, data: str | None = None, device: str | None = None):
        self.settings = settings(data, device, SEED)
        self.service: Service | None = self.fresh()  # warm before the first one

    def fresh(self) -> Service:
        """A member may send a notebook's definitions, which import fastai in every step module:
        every sandbox imports it at start, before any member's check is timed."""
        return Service(self.settings, main_first=ALL_OF_FASTAI)

    def mark(self, kind: str, files: dict[str, str]) -> Results:
        """The results of one submission."""
        return (self._quiz if kind == "quiz" else self._code)(files)

    def _code(self, files: dict[str, str]) -> Results:
        steps = [s for s in ALL_IDS if s in STEP_IDS or f"{s}.py" in files]  # the core always counts
        if self.service is None:
            self.service = self.fresh()
        done = None
        try:
            self.service.fastai_ready(files)
            done = self.service.grade(Request(source=files, steps=steps, settings=self.settings))
        finally:
            if done is None:  # the machinery failed: reset() gives the retry a new service
                self.close()
            elif done.ran_code:  # new sandboxes and views before the next member's code: the main
                self.service.refresh(fastai=False)  # one without fastai, which most code never needs
        return done.results

    def _quiz(self, files: dict[str, str]) -> Results:
        from quiz.answers import build_results, mark_all, read_answers
        from quiz.model import load_quiz

        ((name, text),) = files.items()
        quiz = load_quiz()
        start = time.monotonic()
        try:
            given = read_answers(text.encode("utf-8"), name, Path(name).suffix, quiz)
        except KitError as err:
            raise SubmissionError(str(err)) from None
        outcomes = mark_all(quiz, given)
        return build_results(quiz, outcomes, SEED, time.monotonic() - start, "file")

    def reset(self) -> None:
        """After a failure of the grading machinery itself: a fresh grading service for the retry."""
        self.close()

    def close(self) -> None:
        if self.service is not None:
            self.service.close()
            self.service = None
