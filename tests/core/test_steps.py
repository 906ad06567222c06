"""grader/core/steps.py: the manifest is the one place a step's facts live, and the checks agree."""

import pytest

from grader.core.errors import KitError
from grader.core.steps import ALL_IDS, BONUS_IDS, BY_ID, STEP_IDS, STEPS, get_step, load_manifest
from grader.engine.checks import CORE_POINTS, REGISTRY, step_points
from tests.support.kit import KIT_ROOT, SOLUTIONS


def test_every_step_has_checks_and_every_check_a_step():
    assert set(REGISTRY) == set(ALL_IDS)


@pytest.mark.parametrize("step", ALL_IDS)
def test_a_steps_points_are_its_checks_points_and_every_check_is_worth_some(step):
    assert step_points(step) == sum(c.points for c in REGISTRY[step]) > 0
    assert all(c.points > 0 for c in REGISTRY[step])


def test_points_are_declared_in_the_checks_alone():
    with pytest.raises(TypeError, match="points"):
        load_manifest_text('[[step]]\nid = "x"\ntitle = "X"\nsection = "S"\npoints = 1\n')


@pytest.mark.parametrize("step", ALL_IDS)
def test_every_step_has_hints_from_a_nudge_to_nearly_the_answer(step):
    assert len(BY_ID[step].hints) >= 3 and all(h.strip() for h in BY_ID[step].hints)


@pytest.mark.parametrize("step", ALL_IDS)
def test_manifest_says_a_step_trains_exactly_when_a_check_trains(step):
    assert BY_ID[step].trains == any(c.trains for c in REGISTRY[step])


@pytest.mark.parametrize("step", ALL_IDS)
def test_a_step_that_trains_a_model_has_settings_and_one_that_does_not_has_none(step):
    s = BY_ID[step]
    # pixel similarity "trains" nothing: its check measures the mean-image baseline.
    if s.trains and step != "pixel_similarity":
        assert s.training is not None and s.training.epochs > 0 and s.training.lr > 0
    else:
        assert s.training is None


def test_a_steps_limits_are_the_manifests_defaults_unless_it_says_otherwise():
    a, b = load_manifest_text('limits = { checks = 20 }\n'
                              '[[step]]\nid = "a"\ntitle = "A"\nsection = "S"\n'
                              '[[step]]\nid = "b"\ntitle = "B"\nsection = "S"\n'
                              'limits = { checks = 45, training = 90 }\n')
    assert (a.limit(), b.limit(), b.limit("training")) == (20.0, 45.0, 90.0)
    with pytest.raises(KeyError, match="step a has no 'training' limit"):
        a.limit("training")


@pytest.mark.parametrize("step", ALL_IDS)
def test_a_step_that_trains_has_a_training_limit_and_every_limit_it_names_is_used(step):
    s = BY_ID[step]
    assert s.limit() > 0 and (s.limit("training") > 0 if s.trains else "training" not in dict(s.limits))
    source = (KIT_ROOT / "grader" / "engine" / "checks" / f"{step}.py").read_text()
    for name in dict(s.limits).keys() - {"checks", "training"}:
        assert f'limit="{name}"' in source, f"{step}: no check of it uses its limit {name!r}"


def test_the_chapter_is_worth_100_points_and_the_book_figures_are_accuracies():
    assert CORE_POINTS == 100
    assert all(0.5 < s.book < 1 for s in STEPS if s.book is not None)
    assert all(s.book is None for s in STEPS if s.bonus)  # the book has no figure for them


def test_every_step_has_a_solution_module():
    assert all((SOLUTIONS / f"{step}.py").is_file() for step in ALL_IDS)


def test_core_steps_come_first_then_the_bonus():
    assert ALL_IDS == STEP_IDS + BONUS_IDS and [s.id for s in STEPS] == list(ALL_IDS)


def test_unknown_step_lists_bonus_ids_and_suggests_the_closest():
    with pytest.raises(KitError) as err:
        get_step("mnist_los")
    assert "did you mean 'mnist_loss'?" in str(err.value)
    assert "multiclass_net" in str(err.value)


def test_a_manifest_with_an_unknown_field_is_refused(tmp_path):
    bad = tmp_path / "steps.toml"
    bad.write_text('[[step]]\nid = "x"\ntitle = "X"\nsection = "S"\npionts = 2\n')
    with pytest.raises(TypeError, match="pionts"):
        load_manifest(bad)


@pytest.mark.parametrize(("field", "message"), [
    ('lane = "fastia"', "lane must be one of main, fastai"),
    ('lane = "fastai"', "only a step that needs fastai"),
])
def test_a_step_in_an_unknown_or_unfit_lane_is_refused(tmp_path, field, message):
    bad = tmp_path / "steps.toml"
    bad.write_text(f'[[step]]\nid = "x"\ntitle = "X"\nsection = "S"\n{field}\n')
    with pytest.raises(TypeError, match=message):
        load_manifest(bad)


def test_only_resnet18_is_in_the_fastai_lane_the_other_fastai_steps_run_beside_the_small_ones():
    assert [s.id for s in STEPS if s.lane == "fastai"] == ["resnet18"]
    assert [s.id for s in STEPS if s.fastai] == ["learner", "resnet18", "my_learner"]


def load_manifest_text(text: str):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "steps.toml"
        path.write_text(text)
        return load_manifest(path)
