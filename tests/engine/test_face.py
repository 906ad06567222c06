"""grader/engine/__init__.py: the engine's face gives every name it lists, and only those."""

import subprocess
import sys

import pytest

import grader.engine as engine


def test_every_name_the_face_lists_resolves():
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name
    assert engine.make_settings(seed=3).seed == 3
    assert engine.step_points("mnist_loss") > 0


def test_a_room_is_not_part_of_the_face():
    with pytest.raises(AttributeError, match="__all__"):
        engine.Judges  # noqa: B018 (the runner's class stays inside the engine)


def test_loading_one_engine_module_does_not_load_the_service():
    """The sandboxed observer loads only what it needs: the face imports a name on first use."""
    code = "import sys, grader.engine.wire; print('grader.engine.service' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.stdout.strip() == "False", run.stderr
