"""grader/engine/checks/base.py: a check's time limit, and a training check's title and limit, come
from the step's entry in the manifest (grader/core/steps.toml), never from the check module."""

import importlib.util
import re

import pytest

from grader.core import steps
from grader.core.steps import MANIFEST, load_manifest
from grader.engine.checks import REGISTRY
from grader.engine.checks.base import check, training_check
from grader.engine.probes import PROBES
from tests.support.kit import KIT_ROOT

CHECKS = KIT_ROOT / "grader" / "engine" / "checks"


def edited_manifest(tmp_path, step: str, *edits: tuple[str, str]) -> dict[str, steps.Step]:
    """The manifest read from a copy in which each edit's old line became its new one in the
    entry of `step`."""
    entries = MANIFEST.read_text().split("[[step]]\n")
    at = next(i for i, e in enumerate(entries) if e.startswith(f'id = "{step}"\n'))
    for old, new in edits:
        assert old in entries[at], old
        entries[at] = entries[at].replace(old, new)
    copy = tmp_path / "steps.toml"
    copy.write_text("[[step]]\n".join(entries))
    return {s.id: s for s in load_manifest(copy)}


def declared_afresh(step: str, monkeypatch) -> list:
    """The checks a step's module declares when it runs again (the kit's own registry and probes
    are left as they were)."""
    monkeypatch.setitem(REGISTRY, step, [])
    probes = dict(PROBES)
    try:
        spec = importlib.util.spec_from_file_location(f"grader.engine.checks.{step}", CHECKS / f"{step}.py")
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    finally:
        PROBES.clear()
        PROBES.update(probes)
    return REGISTRY[step]


def test_a_training_steps_epochs_lr_and_limit_are_one_line_of_the_manifest(tmp_path, monkeypatch):
    before = {c.name: c.timeout for c in REGISTRY["train_epoch"]}
    assert before == {"one epoch changes the parameters like the reference": 20.0,
                      "20 epochs at lr 1.0 reach the accuracy threshold": 120.0}
    changed = edited_manifest(tmp_path, "train_epoch",
                              ("training = { epochs = 20, lr = 1.0,", "training = { epochs = 7, lr = 0.5,"),
                              ("limits = { training = 120 }", "limits = { checks = 25, training = 333 }"))
    monkeypatch.setitem(steps.BY_ID, "train_epoch", changed["train_epoch"])
    after = {c.name: (c.timeout, c.trains) for c in declared_afresh("train_epoch", monkeypatch)}
    assert after == {"one epoch changes the parameters like the reference": (25.0, False),
                     "7 epochs at lr 0.5 reach the accuracy threshold": (333.0, True)}


def test_a_unit_checks_limit_is_its_steps_default_or_the_one_it_names(tmp_path, monkeypatch):
    changed = edited_manifest(tmp_path, "my_learner", ("like_fastai = 180", "like_fastai = 90"))
    monkeypatch.setitem(steps.BY_ID, "my_learner", changed["my_learner"])
    limits = {c.name: c.timeout for c in declared_afresh("my_learner", monkeypatch)}
    assert limits["trains the chapter's models like fastai's Learner (same seed, same data)"] == 90.0
    assert limits["fit records one training loss, validation loss and metric per epoch"] == 20.0


def test_a_limit_the_manifest_lacks_is_refused_where_the_check_is_declared(monkeypatch):
    monkeypatch.setitem(REGISTRY, "mnist_loss", list(REGISTRY["mnist_loss"]))
    with pytest.raises(KeyError, match="no 'training' limit in steps.toml"):
        training_check("mnist_loss", "trains", 1)(lambda module, path, progress=None: None)
    with pytest.raises(KeyError, match="no 'slowest' limit in steps.toml"):
        check("mnist_loss", "x", 1, limit="slowest")


def test_a_title_that_names_a_fact_the_manifest_lacks_is_refused():
    with pytest.raises(KeyError, match="epochs"):  # pixel_similarity has no training settings
        training_check("pixel_similarity", "{epochs} epochs", 1)


def test_no_check_module_states_a_limit_or_restates_its_steps_training_settings():
    for path in CHECKS.glob("*.py"):
        text = path.read_text()
        assert "timeout=" not in text, path.name
        assert not re.search(r"@check\([^)]*trains=True", text), f"{path.name}: declare it with training_check"
    for step in steps.STEPS:
        if step.training is None:
            continue
        (trains,) = [c for c in REGISTRY[step.id] if c.trains]
        assert trains.timeout == step.limit("training")
        for fact in (f"{step.training.epochs} epochs", f"lr {step.training.lr}", f"lr={step.training.lr}"):
            if fact in trains.name:  # said in the title: then it is the manifest's, filled in
                source = (CHECKS / f"{step.id}.py").read_text()
                assert fact not in source, f"{step.id}: '{fact}' is written in the module, not taken from the manifest"
