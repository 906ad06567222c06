"""grader/core/codec.py: values cross the wall as data, and nothing malformed or oversized gets through."""

import math

import numpy as np
import pytest

from grader.core import codec


@pytest.mark.parametrize(
    "value",
    [None, True, 3, -2.5, "text", [1, [2, 3]], (1, "a"), {"a": 1, 2: (3,)}, np.arange(6).reshape(2, 3),
     np.float32(1.5), np.int64(7)],
    ids=["none", "bool", "int", "float", "str", "list", "tuple", "dict", "ndarray", "npfloat", "npint"],
)
def test_plain_values_come_back_as_they_went(value):
    back = codec.decode(codec.encode(value))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    else:
        assert back == value


def test_non_finite_numbers_survive_and_objects_become_opaque():
    back = codec.decode(codec.encode([float("nan"), float("inf"), object()]))
    assert math.isnan(back[0]) and back[1] == math.inf
    assert isinstance(back[2], codec.Opaque) and codec.type_name(back[2]) == "object"


def test_a_value_over_the_budget_is_refused_before_it_is_built():
    with pytest.raises(codec.TooLarge) as refused:
        codec.encode(np.zeros(10_000_000), budget=codec.Budget(1_000_000))
    assert refused.value.size > 1_000_000
    with pytest.raises(codec.TooLarge):
        codec.encode(["x" * 1000] * 2000, budget=codec.Budget(1_000_000))


@pytest.mark.parametrize(
    "data",
    [{}, {"dict": [[1]]}, {"dict": [[[1], 2]]}, {"ndarray": [1], "dtype": "object", "shape": [1]},
     {"ndarray": [1, 2], "dtype": "int64", "shape": [3]}, {"what": 1}, {"tuple": 5}],
    ids=["empty", "short-pair", "unhashable-key", "object-array", "wrong-shape", "unknown", "bad-tuple"],
)
def test_malformed_data_is_a_codec_error(data):
    with pytest.raises(codec.CodecError):
        codec.decode(data)


def test_nesting_past_the_cap_is_refused_both_ways():
    deep = []
    for _ in range(codec.MAX_DEPTH + 5):
        deep = [deep]
    assert "opaque" in str(codec.encode(deep))
    nested = [[]]
    for _ in range(codec.MAX_DEPTH + 5):
        nested = [nested]
    with pytest.raises(codec.CodecError):
        codec.decode(nested)
