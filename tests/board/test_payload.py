"""What the store still accepts from a member's machine adds up: the kit's checks, points and totals."""

import json

import pytest

from grader.board.payload import PayloadError, parse_payload
from grader.engine.checks import CORE_POINTS
from tests.support.services import grade_results, quiz_results


def self_reported(doc) -> None:
    parse_payload(json.dumps(doc), self_reported=True)


def test_a_file_the_kit_wrote_is_accepted():
    self_reported(grade_results(passed=["mnist_loss", "linear1"], failed=["calc_grad"]))


def edited(change):
    doc = grade_results(passed=["mnist_loss"], failed=["linear1"])
    change(doc)
    return doc


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda d: d.update(score=1e308, max_score=1e308), "kit's total"),
        (lambda d: d.update(score=100.0, max_score=100.0, tests=[]), "add up to 0"),
        (lambda d: d.update(score=CORE_POINTS), "add up to"),  # 100/100 with tests failed
        (lambda d: d.update(max_score=CORE_POINTS + 1), "kit's total"),
        (lambda d: d["tests"][0].update(number="mnist_loss.99"), "not one of the kit's checks"),
        (lambda d: d["tests"][0].update(tags=["linear1"]), "not one of the kit's checks"),
        (lambda d: d["tests"].append(dict(d["tests"][0])), "appears twice"),
        (lambda d: d["tests"][0].update(max_score=50.0, score=50.0), "is worth"),
    ],
)
def test_hand_written_grades_are_refused(change, words):
    with pytest.raises(PayloadError, match=words) as info:
        self_reported(edited(change))
    assert "\n" not in str(info.value)


def test_the_quiz_maximum_is_the_quiz_size():
    doc = quiz_results(30)
    doc["max_score"] = 30.0
    with pytest.raises(PayloadError, match="expected 37"):
        parse_payload(json.dumps(doc))
    doc = quiz_results(30)
    doc["score"] = 37.0
    with pytest.raises(PayloadError, match="sum of its questions"):
        parse_payload(json.dumps(doc))


def test_deeply_nested_json_is_one_line():
    with pytest.raises(PayloadError, match="not valid JSON") as info:
        parse_payload("[" * 200_000)
    assert "\n" not in str(info.value)
