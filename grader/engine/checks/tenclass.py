"""Shared by the bonus checks that train on all ten digits (not a step: registers nothing).

`trained_ten` is `trained()` on the embedded 10-class digits, whatever --data says, plus the
confusion matrix of the learner's trained model: the report draws it (grader/learner/plots.py) and
names the two digits the model mixes up most.
"""

import dataclasses
from dataclasses import dataclass, field

from grader.engine.checks.base import Context, Fail, Outcome, trained
from grader.engine.recipes import ten_digits


@dataclass
class TenClassOutcome(Outcome):
    confusion: list[list[int]] = field(default_factory=list)  # rows: true digit, columns: predicted
    note: str = ""  # shown with the check's result, passed or failed


def trained_ten(ctx: Context, train_learner, train_reference) -> TenClassOutcome:
    """Train the learner's code (`train_learner(keep)` stores its model in `keep['model']`)
    and hold it against the step's threshold on the 10-class digits."""
    ten = dataclasses.replace(ctx, data_spec="embedded", data_path=ten_digits.full_path())
    keep: dict = {}
    try:
        outcome = trained(ten, lambda: train_learner(keep), train_reference)
    except Fail as verdict:
        if verdict.outcome is not None:
            verdict.outcome = with_confusion(verdict.outcome, keep.get("model"), ctx)
        raise
    return with_confusion(outcome, keep.get("model"), ctx)


def with_confusion(outcome: Outcome, model, ctx: Context) -> TenClassOutcome:
    result = TenClassOutcome(**dataclasses.asdict(outcome))
    if model is None:
        return result
    try:
        counts = ten_digits.confusion(model, ctx.device)
    except Exception:  # noqa: BLE001  (a broken model already failed the accuracy check)
        return result
    a, b, n = ten_digits.most_confused(counts)
    result.confusion = counts
    both = sum(counts[a]) + sum(counts[b])
    result.note = f"the digits your model confuses most: {a} and {b} ({n} of the {both} validation images of those two)"
    return result
