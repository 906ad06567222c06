"""grader/engine/difference.py: got against expected, and the one relation that fits, if any."""

import pytest
import torch

from grader.engine.difference import compared, relation, shown

EXPECTED = torch.tensor([[0.2], [0.7], [-0.4], [0.9]])


@pytest.mark.parametrize(("got", "said"), [
    (EXPECTED * 2, "yours is 2x the expected"),
    (-EXPECTED, "yours is the expected with the sign flipped"),
    (1 - EXPECTED, "yours equals 1 - expected"),
    (EXPECTED ** 2, "yours is the expected value squared"),
    (torch.full_like(EXPECTED, 0.35), "yours is the same for every item (0.35)"),
    (EXPECTED + 0.5, "yours is the expected plus 0.5"),
    (EXPECTED.view(-1), "yours has the expected values in shape (4,), expected (4, 1)"),
])
def test_each_relation_is_said_when_it_alone_fits(got, said):
    assert relation(got, EXPECTED) == said


def test_the_square_root_is_said_for_values_that_are_not_negative():
    assert relation(EXPECTED.abs().sqrt(), EXPECTED.abs()) == "yours is the square root of the expected"


@pytest.mark.parametrize("got", [
    torch.tensor([[0.3], [0.1], [0.8], [-0.2]]),  # no simple relation
    torch.full((4, 1), float("nan")),  # not finite: nothing to say
    torch.zeros(2, 3),  # another shape with other values
])
def test_no_relation_is_made_up(got):
    assert relation(got, EXPECTED) is None


def test_a_single_number_has_no_relation_since_several_would_fit():
    assert relation(torch.tensor(0.2), torch.tensor(0.4)) is None  # 0.5x and minus 0.2 both fit


def test_the_lines_show_the_positions_that_differ_most_side_by_side():
    got = EXPECTED.clone()
    got[2, 0], got[0, 0] = 1.6, 0.25
    lines, data = compared(got, EXPECTED)
    assert lines[:2] == ["at [2, 0]: yours 1.6, expected -0.4", "at [0, 0]: yours 0.25, expected 0.2"]
    assert [p["index"] for p in data["positions"]] == [[2, 0], [0, 0]]  # only where they differ
    assert data["got"] == {"shape": [4, 1], "dtype": "float32"}


def test_another_shape_or_dtype_is_said_first():
    lines, data = compared(EXPECTED.view(-1).double(), EXPECTED)
    assert lines[0] == "yours: shape (4,), float64; expected: shape (4, 1), float32"
    assert data["relation"] == "yours has the expected values in shape (4,), expected (4, 1)"


def test_inputs_are_shown_in_a_few_words():
    assert shown(torch.tensor([1.0, 0.5])) == "tensor([1.0, 0.5])"
    assert shown(torch.zeros(64, 1)) == "a (64, 1) tensor"
