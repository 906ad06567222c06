"""What a check is, what it sees, and the helpers that turn a wrong answer into a named mistake."""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
import torch

from grader.core.steps import CHECKS, TRAINING, get_step
from grader.engine.loading import LazyReference
from grader.engine.probes import PROBES, probe  # noqa: F401  (checks define probes too)


class Fail(Exception):  # noqa: N818  (a verdict, not an error)
    """A check's verdict: wrong. `message` says what was seen, `mistake` names the likely cause."""

    def __init__(self, message: str, mistake: str | None = None, outcome: "Outcome | None" = None,
                 difference: dict | None = None):
        super().__init__(message)
        self.message = message
        self.mistake = mistake
        self.outcome = outcome
        self.difference = difference  # got against expected, as data (grader/engine/difference.py)


@dataclass
class Outcome:
    """What a training check reports besides pass/fail."""

    accuracy: float | None = None
    threshold: float | None = None
    curve: list[float] = field(default_factory=list)  # the learner's accuracy per epoch
    ref_curve: list[float] = field(default_factory=list)


@dataclass
class Context:
    """Everything a check (the judge) may use: the learner's code behind the sandbox's wall
    (`learner`: its functions return data; `learner.observe(probe, ...)` runs a probe on it),
    the reference module, the data as the sandbox sees it, the true labels, device and seed."""

    step: str
    learner: "object"
    ref: LazyReference  # the step's reference module, imported on first use (.load() gives it)
    data_spec: str
    data_path: Path  # the view: validation labels hidden (grader/engine/views.py)
    device: torch.device
    seed: int
    progress: Callable[[int, int, float | None], None] = lambda done, total, acc: None
    view: "object" = None  # views.View of data_path: its `truth` stays with the judge
    full_view: Callable[[], "object"] | None = None  # the 10-class digits' view, made on first use

    def reseed(self, offset: int = 0) -> None:
        seed_everything(self.seed + offset)




class LocalLearner:
    """`ctx.learner` where the learner's code runs in this process (the notebook's own feedback,
    where the learner and the kernel are the same person): the same interface as the sandbox's."""

    def __init__(self, module: ModuleType, seed: int):
        self._module, self._seed = module, seed
        self.output: list[str] = []

    def _isolated(self, call):
        state = random.getstate(), np.random.get_state()
        with torch.random.fork_rng(devices=[]):
            seed_everything(self._seed)
            try:
                return call()
            finally:
                random.setstate(state[0])
                np.random.set_state(state[1])

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        func = getattr(self._module, name)
        if not callable(func):
            return func

        def call(*args, **kwargs):
            return self._isolated(lambda: func(*args, **kwargs))

        return call

    def observe(self, probe_func, *args, on_progress=None, **kwargs):
        if probe_func.streams:
            progress = (lambda *m: on_progress(list(m))) if on_progress else (lambda *m: None)
            return self._isolated(lambda: probe_func(self._module, *args, progress=progress, **kwargs))
        return self._isolated(lambda: probe_func(self._module, *args, **kwargs))


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


def check(step: str, name: str, points: float, *, trains: bool = False, limit: str = CHECKS):
    """Register a check function for a step, in the order they are defined. Its time limit is the
    step's `limit` in the manifest (grader/core/steps.toml: `checks` unless the check names another)."""
    timeout = get_step(step).limit(limit)

    def register(func):
        REGISTRY.setdefault(step, []).append(Check(step, name, points, func, trains, timeout))
        return func

    return register


def training_check(step: str, title: str, points: float, *, run: Callable | None = None):
    """Declare a step's training check on its `recipe` (the run, a streaming probe): the check
    trains the learner's code with it and holds the result against the reference's run
    (`trained`; or `run(ctx, recipe)`, for a run that needs more than the device). The title's
    `{epochs}` and `{lr}` and the check's limit (`training`) come from the step's entry in the
    manifest (grader/core/steps.toml), never restated here. Returns the recipe, a probe."""
    facts = get_step(step).training
    name = title.format(**(vars(facts) if facts else {}))

    def declare(recipe):
        recipe = probe(recipe, streams=True)

        def trains(ctx: Context):
            return run(ctx, recipe) if run else trained(ctx, recipe, ctx.device.type)

        check(step, name, points, trains=True, limit=TRAINING)(trains)
        return recipe

    return declare


@probe
def loss_and_gradient(module, name: str, base, targets):
    """module.<name>(leaf inputs, targets) and d loss / d inputs when it has one (the loss steps)."""
    x = base.clone().requires_grad_()
    loss = getattr(module, name)(x, targets)
    if isinstance(loss, torch.Tensor) and loss.requires_grad and loss.numel() == 1:
        loss.backward()
    return {"loss": loss, "grad": x.grad}


def recording_loss(loss, params):
    """A loss function that keeps what each call is given (each argument's values and whether it
    carries a gradient) and returns `loss` of them, or, where that has no gradient, a zero that
    does (so the learner's backward() goes on): the evidence a diagnosis reads after a failure."""
    given = []
    params = list(params)

    def loss_func(a, b):
        if len(given) < 4:
            given.append([torch.as_tensor(a).detach().clone(), bool(getattr(a, "requires_grad", False)),
                          torch.as_tensor(b).detach().clone(), bool(getattr(b, "requires_grad", False))])
        value = loss(a, b)
        return value if value.requires_grad else sum((p * 0).sum() for p in params)

    return loss_func, given


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
    from grader.engine.wire import type_name

    if not isinstance(value, torch.Tensor):
        raise Fail(f"{what} should be a tensor, got {type_name(value)}")
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


def expect_tensor(got, want: torch.Tensor, what: str, variants: dict | None = None, atol=1e-5, given: str = ""):
    """Fail unless `got` matches `want`; name the mistake when it matches a known wrong variant
    (a variant is one tensor, or a tuple of the forms one mistake can take). Either way the
    message shows got against expected (grader/engine/difference.py); `given`, the input used."""
    from grader.engine.difference import compared

    got = as_tensor(got, what)
    if same(got, want, atol):
        return
    lines, data = compared(got, want, atol)
    data["given"] = given or what
    detail = "".join(f"\n  {line}" for line in ([f"given: {given}"] if given else []) + lines)
    fits = [mistake for mistake, wrong in (variants or {}).items()  # a mistake may have several forms
            if any(same(got, form, atol) for form in (wrong if isinstance(wrong, tuple) else (wrong,)))]
    if len(fits) == 1:  # a cause is named only when exactly one planted mistake explains the result
        raise Fail(f"{agrees(what, 'does', 'do')} not match the reference{detail}", mistake=fits[0], difference=data)
    if got.shape != want.shape:
        raise Fail(f"{agrees(what, 'has', 'have')} shape {tuple(got.shape)}, expected {tuple(want.shape)}{detail}",
                   difference=data)
    diff = (got.detach().float().cpu() - want.detach().float().cpu()).abs().max().item()
    raise Fail(f"{agrees(what, 'differs', 'differ')} from the reference (largest difference {diff:.4g}){detail}",
               difference=data)


# How far a correct run's final outputs may be from the reference's own run, relative to their
# scale. On a CPU the kit's alternatives and the book's code retrace it exactly (0.0); an epoch
# that never updates the bias ends 0.0073 away (bench/RESULTS.md). CUDA's non-deterministic
# kernels get more room.
RETRACE_TOLERANCE = {"cpu": 1e-3, "cuda": 2e-2}


def retraced(final, ref_final: torch.Tensor) -> float | None:
    """How far the learner's final logits are from the reference's own run on the same seed,
    relative to the logits' scale; None when they are not comparable (wrong shape, not a tensor,
    not finite: NaN is never within a tolerance)."""
    if not isinstance(final, torch.Tensor) or tuple(final.shape) != tuple(ref_final.shape):
        return None
    if not torch.isfinite(final.float()).all():
        return None
    scale = ref_final.abs().max().item() + 1.0
    return ((final.float() - ref_final).abs().max() / scale).item()


def trained(ctx: Context, recipe, *args, balanced: bool = False, view=None, on_last=None) -> Outcome:
    """Train the learner's code in the sandbox (the `recipe` probe returns its predictions on
    the validation images after every epoch), score them against the labels only the judge
    holds, and hold the final accuracy against the step's threshold. The reference runs the
    same recipe here, once per data, seed and device (cached). The threshold is a floor: the run
    must also retrace the reference's, since with the same seed, batches and starting weights
    correct code ends with the same outputs up to float noise; a run that only scrapes past the
    threshold (an update that skips the bias, say) fails too. `on_last(predictions)` is given the
    last epoch's predicted digits once they have the right shape (the confusion matrix's)."""
    from grader.engine import thresholds, views

    view = view or ctx.view

    def score(epochs) -> list[float]:
        if not isinstance(epochs, list | tuple):
            raise Fail(f"training returned {epochs!r:.80} instead of predictions")
        return [views.accuracy(p, view.truth, balanced) for p in epochs]

    def progress(message):
        done, total, predicted = (list(message) + [None, None, None])[:3]
        if isinstance(done, int) and isinstance(total, int):
            ctx.progress(done, total, views.accuracy(predicted, view.truth, balanced))

    run = ctx.learner.observe(recipe, str(view.path), *args, on_progress=progress)
    if not isinstance(run, dict):
        raise Fail(f"training returned {run!r:.80} instead of predictions")
    epochs, final = run.get("epochs"), run.get("final")
    curve = score(epochs)  # first: a stub fails before the reference trains
    if not curve:
        raise Fail("training produced no accuracy at all")
    last = epochs[-1]
    if not isinstance(last, torch.Tensor) or tuple(last.shape) != tuple(view.truth.shape):
        shape = tuple(last.shape) if isinstance(last, torch.Tensor) else type(last).__name__
        raise Fail(f"the trained model gave predictions of shape {shape} for {len(view.truth)} validation "
                   f"images: one prediction per image is needed")
    if on_last:
        on_last(last)

    def reference():
        module = ctx.ref.load()  # imported before the seed is set
        ctx.reseed()
        ran = recipe(module, str(view.path), *args, progress=lambda *m: None)
        return {"curve": score(ran["epochs"]), "final": view.to_source_order(ran["final"]).tolist()}

    ref = thresholds.reference_run(ctx.step, view.source, ctx.seed, ctx.device.type, reference)
    ref_final = view.to_view_order(torch.tensor(ref["final"]))
    ref_curve = ref["curve"]
    limit = thresholds.threshold(ctx.step, ctx.data_spec if view is ctx.view else "embedded", ref_curve)
    outcome = Outcome(accuracy=curve[-1], threshold=limit, curve=curve, ref_curve=ref_curve)
    if not curve[-1] >= limit:
        # A flat curve has many causes (no update, a zero or huge step, a dead net, a model that
        # ignores its input): say what was seen; the unit checks name a cause where one fits.
        flat = len(curve) > 1 and max(curve) - min(curve) < 0.01
        seen = f"; the accuracy stayed near {curve[0]:.4f} in all {len(curve)} epochs" if flat else ""
        raise Fail(
            f"reached accuracy {curve[-1]:.4f}, below the threshold {limit:.4f} "
            f"(the reference reaches {ref_curve[-1]:.4f}){seen}",
            outcome=outcome,
        )
    distance = retraced(final, ref_final)
    if distance is None or distance > RETRACE_TOLERANCE.get(ctx.device.type, 2e-2):
        differ = int((last != digits_of(ref_final, view.classes)).sum())
        how = "of another shape" if distance is None else f"off by {distance:.2%} of their scale"
        raise Fail(
            f"reached accuracy {curve[-1]:.4f} (the reference {ref_curve[-1]:.4f}), above the threshold {limit:.4f}, "
            "but the run does not retrace the reference's on the same seed, "
            f"batches and starting weights ({differ} of {len(view.truth)} predictions differ, final outputs {how}): "
            "the update, the loop or the model does something the chapter's does not",
            outcome=outcome,
        )
    if not torch.equal(last.to(torch.int64), digits_of(final.float(), view.classes)):  # both came from the sandbox
        raise Fail(f"the last epoch's predictions (accuracy {curve[-1]:.4f}; the threshold {limit:.4f}, the reference "
                   f"{ref_curve[-1]:.4f}) are not the digits its final outputs give: the run's report does not hold "
                   "together", outcome=outcome)
    return outcome


def digits_of(final: torch.Tensor, classes: tuple[str, ...]) -> torch.Tensor:
    """The digits a run's final outputs predict: one logit per class, a 3-vs-7 logit, or is_3's answers."""
    if final.dim() == 2 and final.shape[1] > 1:  # one logit per class
        return torch.tensor([int(c) for c in classes])[final.argmax(dim=1)]
    final = final.reshape(-1)  # a 3-vs-7 model's logits, (N, 1) or (N,)
    if final.dtype == torch.bool or ((final == 0) | (final == 1)).all():  # is_3's answers
        return torch.where(final.bool(), 3, 7)
    return torch.where(final > 0, 3, 7)
