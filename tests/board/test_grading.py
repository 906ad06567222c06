"""The board's Marker: one grading service for submission after submission, each in a fresh sandbox."""

from grader.board.grading import Marker
from grader.core.results import Results
from tests.support.kit import SOLUTIONS

CORRECT = (SOLUTIONS / "mnist_loss.py").read_text()
MARKS_TORCH = CORRECT + "\nimport torch\ntorch.left_by_the_last_member = True\n"
FAILS_IF_MARKED = CORRECT.replace(
    "    p = predictions.sigmoid()",
    "    assert not hasattr(torch, 'left_by_the_last_member'), 'another member left this'\n"
    "    p = predictions.sigmoid()",
)


def mnist_loss_points(results: Results) -> tuple[float, float]:
    tests = [t for t in results.tests if t.tags == ["mnist_loss"]]
    return sum(t.score for t in tests), sum(t.max_score for t in tests)


def test_the_next_submission_reuses_the_judges_but_nothing_the_last_members_code_did(bwrap):
    marker = Marker()
    try:
        first = marker.mark("code", {"mnist_loss.py": MARKS_TORCH})
        judge = marker.service.judges.main.process.pid
        second = marker.mark("code", {"mnist_loss.py": FAILS_IF_MARKED})
        assert marker.service.judges.main.process.pid == judge  # no new judge: torch is not imported again
    finally:
        marker.close()
    got, most = mnist_loss_points(first)
    assert got == most > 0
    assert mnist_loss_points(second) == (most, most), second  # the mark went with the last sandbox


def test_a_submission_that_uses_fastai_gets_a_sandbox_that_imported_it_first(bwrap):
    """After a grade the main judge's next sandbox imports torch only; code that names fastai gets
    one with fastai imported before its checks are timed, and is graded as usual."""
    marker = Marker()
    try:
        marker.mark("code", {"mnist_loss.py": CORRECT})
        assert not marker.service.judges.main_sandbox_has_fastai()  # the lean one, for the next member
        with_fastai = "from fastai.vision.all import *  # noqa\n" + CORRECT
        results = marker.mark("code", {"mnist_loss.py": with_fastai})
    finally:
        marker.close()
    got, most = mnist_loss_points(results)
    assert got == most > 0
