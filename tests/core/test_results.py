"""grader/core/results.py: every field a writer puts in a results file is declared."""

import pytest
from pydantic import ValidationError

from grader.core.results import ExtraData, Results


def test_undeclared_extra_data_is_refused():
    with pytest.raises(ValidationError, match="not_a_field"):
        ExtraData.model_validate({"kind": "grade", "not_a_field": 1})


def test_undeclared_top_level_field_is_refused_but_gradescopes_own_are_accepted():
    with pytest.raises(ValidationError, match="member"):
        Results.model_validate({"score": 1, "max_score": 2, "member": "ada"})
    ok = Results.model_validate({"score": 1, "max_score": 2, "output": "hi", "visibility": "visible"})
    assert ok.output == "hi"


def test_quiz_fields_are_typed():
    extra = ExtraData(kind="quiz", mode="file", duration_s=1.5, outcomes={"q01": "right"}, revisit=["q02"])
    assert extra.revisit == ["q02"]
    with pytest.raises(ValidationError):
        ExtraData(kind="quiz", mode="by carrier pigeon")
    with pytest.raises(ValidationError):
        ExtraData(kind="quiz", duration_s=-1)
