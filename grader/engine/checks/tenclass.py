"""Shared by the bonus checks that train on all ten digits (not a step: registers nothing).

`trained_ten` is `trained()` on the embedded 10-class digits, whatever --data says, plus the
confusion matrix of the learner's trained model's predictions: the report draws it (grader/learner/plots.py) and
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


def trained_ten(ctx: Context, recipe) -> TenClassOutcome:
    """`trained()` on the 10-class digits' view with `recipe(module, path, seed, device)`, plus
    the confusion matrix of the trained model's predictions against the judge's labels."""
    view = ctx.full_view()
    last = []
    try:
        outcome = trained(ctx, recipe, ctx.seed, ctx.device.type, view=view, on_last=last.append)
    except Fail as verdict:
        if verdict.outcome is not None:
            verdict.outcome = with_confusion(verdict.outcome, view, last)
        raise
    return with_confusion(outcome, view, last)


def with_confusion(outcome: Outcome, view, last: list) -> TenClassOutcome:
    """The outcome with the confusion matrix of the last epoch's predictions (`last` holds them
    once training returned predictions of the right shape)."""
    result = TenClassOutcome(**dataclasses.asdict(outcome))
    if not last:
        return result
    predicted = last[0]
    counts = ten_digits.confusion(predicted, view.truth)
    a, b, n = ten_digits.most_confused(counts)
    result.confusion = counts
    both = sum(counts[a]) + sum(counts[b])
    result.note = f"the digits your model confuses most: {a} and {b} ({n} of the {both} validation images of those two)"
    return result
