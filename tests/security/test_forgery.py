"""The judge scores only what it can check itself: forged training reports earn nothing.

The sandbox never learns a validation label (the view gives none away), and whatever a
training probe reports is learner-controlled: the judge holds it against the labels it keeps
and the reference's own run. These tests play the worst case, a sandbox that somehow knows every
label, straight against the judge's `trained()`.
"""

import statistics

import pytest
import torch

from grader.engine import data, views
from grader.engine.checks.base import Context, Fail, retraced, seed_everything, trained
from grader.engine.checks.train_epoch import recipe as linear_from_scratch
from grader.engine.data import SAMPLE_CLASSES
from grader.engine.loading import LazyReference, load_reference


@pytest.fixture(scope="module")
def source():
    return data.resolve("embedded")


def view_of(source, folder):
    folder.mkdir(exist_ok=True)
    return views.make_view(source, folder, SAMPLE_CLASSES)


def test_a_view_gives_no_label_away_by_names_sizes_times_or_counts(source, tmp_path):
    view = view_of(source, tmp_path)
    files = views.canonical_valid_files(view.path, SAMPLE_CLASSES)
    assert {f.stat().st_size for f in files} == {files[0].stat().st_size}
    assert {f.stat().st_mtime for f in files} == {files[0].stat().st_mtime}
    counts = [len(list((view.path / "valid" / c).glob("*.png"))) for c in SAMPLE_CLASSES]
    assert max(counts) - min(counts) <= 1
    folder_says = torch.tensor([int(f.parent.name) for f in files])
    assert 0.3 < (folder_says == view.truth).float().mean().item() < 0.7  # a coin toss, not a label
    by_name = sorted(range(len(files)), key=lambda i: files[i].name)
    first_half = view.truth[by_name[: len(files) // 2]]
    assert 0.3 < (first_half == 3).float().mean().item() < 0.7
    sizes = [f.stat().st_size for f in views.canonical_valid_files(source, SAMPLE_CLASSES)]
    assert statistics.pstdev(sizes) > 0  # the source's sizes do differ: the view evened them out


def test_every_grade_draws_a_new_order_and_new_names(source, tmp_path):
    one, two = view_of(source, tmp_path / "a"), view_of(source, tmp_path / "b")
    names = [{f.name for f in views.canonical_valid_files(v.path, SAMPLE_CLASSES)} for v in (one, two)]
    assert not names[0] & names[1]
    assert not torch.equal(one.source_index, two.source_index)
    x_one, _ = data.load_xy(one.path, "valid")
    x_source, _ = data.load_xy(source, "valid")
    assert torch.equal(x_one, x_source[one.source_index])  # the same images, padded files read as before


def test_non_finite_outputs_never_retrace():
    ref = torch.randn(50)
    for bad in (float("nan"), float("inf"), float("-inf")):
        final = ref.clone()
        final[7] = bad
        assert retraced(final, ref) is None
    assert views.accuracy(torch.full((50,), float("nan")), torch.zeros(50, dtype=torch.int64)) == 0.0


class KnowsEveryLabel:
    """A sandbox that somehow learned every label: it reports them as its predictions, with
    final outputs of its choosing."""

    output: list = []

    def __init__(self, view, final):
        self.view, self.final = view, final

    def observe(self, probe, path, *args, on_progress=None, **kwargs):
        return {"epochs": [self.view.truth.clone()], "final": self.final(self.view)}


def honest_final(view):
    """The outputs a correct train_epoch gives on this view: what a learner who did the step sends."""
    seed_everything(0)
    return linear_from_scratch(load_reference("train_epoch"), str(view.path), "cpu")["final"]


@pytest.mark.parametrize(
    "final, why",
    [
        (lambda v: torch.full((len(v.truth),), float("nan")), "does not retrace"),
        (lambda v: torch.full((len(v.truth),), float("inf")), "does not retrace"),
        (lambda v: torch.where(v.truth == 3, 10.0, -10.0), "does not retrace"),
        (honest_final, "does not hold together"),
    ],
    ids=["nan", "inf", "logits-from-the-labels", "perfect-predictions-with-real-outputs"],
)
def test_a_run_that_knows_every_label_still_fails(source, tmp_path, final, why):
    view = view_of(source, tmp_path)
    ctx = Context(step="train_epoch", learner=KnowsEveryLabel(view, final), ref=LazyReference("train_epoch"),
                  data_spec="embedded", data_path=view.path, device=torch.device("cpu"), seed=0, view=view)
    with pytest.raises(Fail) as verdict:
        trained(ctx, linear_from_scratch, "cpu")
    assert why in verdict.value.message
