"""What a check is, what it sees, and the helpers that turn a wrong answer into a named mistake."""

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
import torch


class Fail(Exception):  # noqa: N818  (a verdict, not an error)
    """A check's verdict: wrong. `message` says what was seen, `mistake` names the likely cause."""

    def __init__(self, message: str, mistake: str | None = None, outcome: "Outcome | None" = None):
        super().__init__(message)
        self.message = message
        self.mistake = mistake
        self.outcome = outcome


@dataclass
class Outcome:
    """What a training check reports besides pass/fail."""

    accuracy: float | None = None
    threshold: float | None = None
    curve: list[float] = field(default_factory=list)  # the learner's accuracy per epoch
    ref_curve: list[float] = field(default_factory=list)


@dataclass
class Context:
    """Everything a check may use: the learner's module, the reference, data, device, seed."""

    step: str
    learner: ModuleType
    ref: ModuleType
    data_spec: str
    data_path: Path
    device: torch.device
    seed: int
    progress: Callable[[int, int, float | None], None] = lambda done, total, acc: None

    def ref_module(self, step: str) -> ModuleType:
        """Another step's reference module: checks feed one step with the others' references."""
        from grader.engine.loading import load_reference

        return load_reference(step)

    def reseed(self, offset: int = 0) -> None:
        seed_everything(self.seed + offset)


@dataclass
class Check:
    step: str
    name: str
    points: float
    func: Callable[[Context], Outcome | None]
    trains: bool = False
    timeout: float = 20.0

    @property
    def number(self) -> str:
        index = [c.name for c in REGISTRY[self.step]].index(self.name) + 1
        return f"{self.step}.{index}"


REGISTRY: dict[str, list[Check]] = {}


def check(step: str, name: str, points: float, *, trains: bool = False, timeout: float = 20.0):
    """Register a check function for a step, in the order they are defined."""

    def register(func):
        REGISTRY.setdefault(step, []).append(Check(step, name, points, func, trains, timeout))
        return func

    return register


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# ---------------------------------------------------------------- comparing with the reference


def accuracy_list(got, n: int, call: str) -> list[float]:
    """The learner's per-epoch accuracies as floats, or a Fail when it is not a list of n."""
    if isinstance(got, torch.Tensor):
        got = got.tolist()
    if not isinstance(got, list | tuple) or len(got) != n:
        raise Fail(f"{call} returned {got!r:.80}, expected a list of {n} accuracies")
    return [float(a) for a in got]


def as_tensor(value, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise Fail(f"{what} should be a tensor, got {type(value).__name__}")
    return value


def same(a, b, atol: float = 1e-5) -> bool:
    """Equal shapes and values (within atol); False rather than an error on a mismatch."""
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
        return False
    if a.shape != b.shape:
        return False
    return bool(torch.allclose(a.detach().float().cpu(), b.detach().float().cpu(), atol=atol))


def agrees(what: str, singular: str, plural: str) -> str:
    """`what` with the verb form that agrees with it: "parameters ... do", "mnist_loss ... does"."""
    head = what.split()[0] if what.split() else what
    many = head.isalpha() and head.endswith("s") and not head.endswith("ss")
    return f"{what} {plural if many else singular}"


def expect_tensor(got, want: torch.Tensor, what: str, variants: dict | None = None, atol=1e-5):
    """Fail unless `got` matches `want`; name the mistake when it matches a known wrong variant."""
    got = as_tensor(got, what)
    if same(got, want, atol):
        return
    for mistake, wrong in (variants or {}).items():
        if same(got, wrong, atol):
            raise Fail(f"{agrees(what, 'does', 'do')} not match the reference", mistake=mistake)
    if got.shape != want.shape:
        raise Fail(f"{agrees(what, 'has', 'have')} shape {tuple(got.shape)}, expected {tuple(want.shape)}")
    diff = (got.detach().float().cpu() - want.detach().float().cpu()).abs().max().item()
    raise Fail(f"{agrees(what, 'differs', 'differ')} from the reference (largest difference {diff:.4g})")


@contextlib.contextmanager
def on_device(ctx: Context):
    """Run the block with the step's device as the default for new tensors."""
    with torch.device(ctx.device):
        yield


def trained(ctx: Context, train_learner, train_reference) -> Outcome:
    """Train the learner's code and hold its final accuracy against the step's threshold."""
    from grader.engine import thresholds

    def reference():
        ctx.reseed()
        return train_reference()

    ctx.reseed()
    curve = [float(a) for a in train_learner()]  # first: a stub fails before the reference trains
    if not curve:
        raise Fail("training produced no accuracy at all")
    ref_curve = thresholds.reference_curve(
        ctx.step, ctx.data_path, ctx.seed, ctx.device.type, reference
    )
    limit = thresholds.threshold(ctx.step, ctx.data_spec, ref_curve)
    outcome = Outcome(accuracy=curve[-1], threshold=limit, curve=curve, ref_curve=ref_curve)
    if not curve[-1] >= limit:
        stuck = max(curve) - min(curve) < 0.01
        raise Fail(
            f"reached accuracy {curve[-1]:.4f}, below the threshold {limit:.4f} "
            f"(the reference reaches {ref_curve[-1]:.4f})",
            mistake="accuracy never moved: the parameters are not being updated" if stuck else None,
            outcome=outcome,
        )
    return outcome
