"""The ordered steps of the chapter, read from the step manifest `steps.toml` beside this file.

Ids are stable: they key the store, the notebook cells and the exercise files. See
docs/architecture.md for what else a new step needs.
"""

import tomllib
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

from grader.core.errors import KitError

MANIFEST = Path(__file__).with_name("steps.toml")


@dataclass(frozen=True)
class Training:
    """How the kit trains a step: the same settings for the learner's code and the reference's."""

    epochs: int
    lr: float
    bs: int = 64
    why: str = ""  # where the settings differ from the book's, the reason


LANES = ("main", "fastai")
CHECKS, TRAINING = "checks", "training"  # the limits every step has: its checks' and its training check's


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    section: str  # the chapter section it comes from
    hints: tuple[str, ...] = ()  # from a nudge to nearly the answer (`fastgroup hint STEP`)
    trains: bool = False  # whether grading trains a model on the data set
    bonus: bool = False
    fastai: bool = False  # its checks import fastai (seconds): `grade --quick` leaves it out
    lane: str = "main"  # the judge process that runs its checks: "fastai" keeps fastai imported from the start
    book: float | None = None  # the book's accuracy for this step
    training: Training | None = None
    # CPU seconds of the learner's sandbox its checks may use (grader/engine/limits.py), by name:
    # "checks" (each check that names no other), "training" (the check that trains), or a check's own
    limits: tuple[tuple[str, float], ...] = ()

    def limit(self, name: str = CHECKS) -> float:
        """The time limit `name` of this step, in CPU seconds (steps.toml: its `limits`, else the
        manifest's own `limits` for every step)."""
        for key, seconds in self.limits:
            if key == name:
                return seconds
        raise KeyError(f"step {self.id} has no {name!r} limit in {MANIFEST.name}: add it to the step's `limits`")

    @property
    def fastai_lane(self) -> bool:
        """Whether its checks run in the fastai lane's judge (started only when such a step is graded)."""
        return self.lane == "fastai"

    def __post_init__(self):
        if self.lane not in LANES:
            raise TypeError(f"step {self.id}: lane must be one of {', '.join(LANES)}, not {self.lane!r}")
        if self.lane == "fastai" and not self.fastai:
            raise TypeError(f"step {self.id}: only a step that needs fastai runs in the fastai lane")


def load_manifest(path: Path = MANIFEST) -> tuple[Step, ...]:
    manifest = tomllib.loads(path.read_text())
    defaults = manifest.get("limits", {})  # every step's, unless the step says otherwise
    return tuple(
        Step(**{**entry, "hints": tuple(entry.get("hints", ())),
                "training": Training(**entry["training"]) if "training" in entry else None,
                "limits": tuple((name, float(s)) for name, s in {**defaults, **entry.get("limits", {})}.items())})
        for entry in manifest["step"]
    )


STEPS: tuple[Step, ...] = load_manifest()
STEP_IDS: tuple[str, ...] = tuple(s.id for s in STEPS if not s.bonus)
BONUS_IDS: tuple[str, ...] = tuple(s.id for s in STEPS if s.bonus)
ALL_IDS: tuple[str, ...] = STEP_IDS + BONUS_IDS
BY_ID: dict[str, Step] = {s.id: s for s in STEPS}


def get_step(step_id: str) -> Step:
    """The step with this id, or a KitError listing the valid ids and the closest one."""
    if step_id not in BY_ID:
        close = get_close_matches(step_id, ALL_IDS, n=1)
        guess = f"did you mean '{close[0]}'? " if close else ""
        raise KitError(
            f"unknown step '{step_id}': {guess}choose one of {', '.join(STEP_IDS)} "
            f"(bonus: {', '.join(BONUS_IDS)})"
        )
    return BY_ID[step_id]


def training(step_id: str) -> Training:
    """The training settings of a step that trains."""
    settings = BY_ID[step_id].training
    if settings is None:
        raise KeyError(f"step {step_id} has no training settings in {MANIFEST.name}")
    return settings
