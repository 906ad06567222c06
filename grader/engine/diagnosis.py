"""A teacher's diagnosis: after a check fails, which of the chapter's known mistakes did the learner make?

Each step keeps a catalogue of the mistakes learners make (grader/engine/checks/mistakes/<step>.py):
each one the chapter's code with one change, written by the kit, run here in the judge and never in
the sandbox. While a check runs, a Witness keeps every call it made to the learner's code (the
function or probe, its inputs, what came back or what was raised). Only after a failure does the
judge run each catalogued mistake on those same inputs, and, where some fit, on one or two more
inputs it chooses (the catalogue's `MORE`), sent to the learner's code too. A mistake fits when its
outputs match the learner's, within rounding, on every input; a cause is named only when exactly
one fits. Where several fit, those are the causes the evidence leaves open, and the message lists
them without naming one. A passing check costs a list of references, nothing more.

What comes back from the sandbox is only compared here: a diagnosis names a cause, it never gives
or takes a point.
"""

import dataclasses
import importlib
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from grader.core.files import STEP_FILE_BYTES, read_inside

LIST_OPEN = 4  # at most this many open causes are listed
SWITCH = "FASTGROUP_DIAGNOSIS"  # "off": no diagnosis (bench/bench_diagnosis.py measures its cost against it)


@dataclass(frozen=True)
class Mistake:
    """One mistake learners make: `cause` in the kit's words, `source` where learners make it, and
    `changes`, the step's functions (or classes) as the mistake writes them, by name."""

    cause: str
    source: str
    changes: dict = field(default_factory=dict)
    made: str | None = None  # a pattern of the line that makes the wrong value, where one line can be told

    def module(self, reference) -> SimpleNamespace:
        """The reference's module with this mistake's functions in place of its own."""
        names = {k: getattr(reference, k) for k in dir(reference) if not k.startswith("__")}
        return SimpleNamespace(**{**names, **self.changes})


def mistake(cause: str, source: str, made: str | None = None, **changes) -> Mistake:
    return Mistake(cause, source, changes, made)


@dataclass(frozen=True)
class Raised:
    """What an exception looks like as evidence: its type and the first line of its message."""

    kind: str
    message: str

    @classmethod
    def of(cls, kind: str, message: str) -> "Raised":
        return cls(kind, (str(message).strip().splitlines() or [""])[0][:120])


@dataclass
class Call:
    target: object  # a function's name, or a probe (kit code run on the module)
    args: tuple
    kwargs: dict
    got: object = None


NOT_EVIDENCE = ("Crash", "TooLarge", "MemoryError", "SystemExit", "KeyboardInterrupt", "BadValue", "LearnerLoadError",
                "ObserverStopped")


class Witness:
    """ctx.learner as a check sees it, keeping each call and what it gave; nothing else changes."""

    def __init__(self, learner):
        self._learner = learner
        self.calls: list[Call] = []

    def _kept(self, target, args, kwargs, run):
        call = Call(target, args, dict(kwargs))
        self.calls.append(call)
        try:
            call.got = run()
        except Exception as err:  # noqa: BLE001  (kept as evidence, then raised as before)
            kind = getattr(err, "type_name", None) or type(err).__name__
            call.got = Raised.of(kind, getattr(err, "message", None) or str(err))
            raise
        return call.got

    def observe(self, probe, *args, on_progress=None, **kwargs):
        if getattr(probe, "streams", False):  # a training run: far too dear to replay per mistake
            return self._learner.observe(probe, *args, on_progress=on_progress, **kwargs)
        return self._kept(probe, args, kwargs, lambda: self._learner.observe(probe, *args, **kwargs))

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self._learner, name)
        if not callable(value):
            return value

        def call(*args, **kwargs):
            return self._kept(name, args, kwargs, lambda: value(*args, **kwargs))

        return call


def watched(ctx):
    """The context a check runs with: its learner behind a Witness."""
    return dataclasses.replace(ctx, learner=Witness(ctx.learner))


# ---------------------------------------------------------------- comparing outputs


def alike(a, b, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """The same output within rounding: tensors of one shape and close values (NaN matching NaN),
    numbers close, containers alike element by element, errors of one kind and first line."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or a.shape != b.shape:
            return False
        if a.is_complex() or b.is_complex() or a.requires_grad != b.requires_grad or a.is_leaf != b.is_leaf:
            return False
        x, y = a.detach().cpu().double(), b.detach().cpu().double()
        return bool(torch.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        if a != a and b != b:  # both NaN
            return True
        return abs(a - b) <= atol + rtol * abs(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(alike(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(alike(x, y, rtol, atol) for x, y in zip(a, b))
    if isinstance(a, Raised) and isinstance(b, Raised):
        return a.kind == b.kind and a.message[:60] == b.message[:60]
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001  (a learner's odd value is simply not alike)
        return False


def run_on(module, call: Call, seed: int = 0):
    """`call` run on `module` (a mistake's or the reference's), here in the judge, seeded as the
    sandbox seeds the learner's call: what it gives, or what it raises as evidence."""
    with torch.random.fork_rng(devices=[]):
        random.seed(seed)  # as checks/base.py's seed_everything, which the observer calls
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)
        try:
            if isinstance(call.target, str):
                return getattr(module, call.target)(*clone(call.args), **clone(call.kwargs))
            return call.target(module, *clone(call.args), **clone(call.kwargs))
        except Exception as err:  # noqa: BLE001  (a mistake may raise: that is its behaviour)
            return Raised.of(type(err).__name__, str(err))


def clone(value):
    """Inputs copied, so that no run changes what the next one is given."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, tuple):
        return tuple(clone(v) for v in value)
    if isinstance(value, list):
        return [clone(v) for v in value]
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------- the diagnosis


@dataclass
class Finding:
    fits: list  # the catalogued mistakes that give the learner's outputs on every input
    checked: bool  # whether the catalogue could be held against this failure at all

    @property
    def causes(self) -> list[str]:
        """The causes that fit, each once (a mistake written in two ways is one cause)."""
        return list(dict.fromkeys(m.cause for m in self.fits))

    @property
    def named(self) -> str | None:
        return self.causes[0] if len(self.causes) == 1 else None


def catalogue(step: str):
    """A step's catalogue module (grader/engine/checks/mistakes/<step>.py), or None."""
    try:
        return importlib.import_module(f"grader.engine.checks.mistakes.{step}")
    except ModuleNotFoundError:
        return None


def target_name(target) -> str:
    return target if isinstance(target, str) else getattr(target, "probe_name", getattr(target, "__name__", ""))


def diagnose(step: str, witness: Witness, reference, seed: int, catalogued=None) -> Finding:
    """Which catalogued mistakes of `step` give what the learner's code gave on every call the
    failing check made (`witness.calls`), and on the catalogue's further inputs."""
    book = catalogued or catalogue(step)
    calls = [c for c in witness.calls if not (isinstance(c.got, Raised) and c.got.kind in NOT_EVIDENCE)]
    if book is None or not calls or len(calls) != len(witness.calls):
        return Finding([], False)
    reference = reference.load() if hasattr(reference, "load") else reference
    if all(alike(c.got, run_on(reference, c, seed)) for c in calls):  # the values are right: the check failed on
        return Finding([], False)                                # something else (a type, a flag)
    fits = [m for m in book.MISTAKES if all(alike(c.got, run_on(m.module(reference), c, seed)) for c in calls)]
    if not fits:
        return Finding([], True)
    first = {}  # each function or probe the check called, with the inputs of its first call
    for c in calls:
        first.setdefault(target_name(c.target), c.args)
    more = [Call(target, tuple(args), {}) for name, given in first.items()
            for target, args in getattr(book, "MORE", {}).get(name, lambda seed, given: [])(seed, given)]
    for call in more:
        try:
            if isinstance(call.target, str):
                call.got = getattr(witness._learner, call.target)(*call.args)
            else:
                call.got = witness._learner.observe(call.target, *call.args)
        except Exception as err:  # noqa: BLE001
            kind = getattr(err, "type_name", None) or type(err).__name__
            if kind in NOT_EVIDENCE:
                continue
            call.got = Raised.of(kind, getattr(err, "message", None) or str(err))
        fits = [m for m in fits if alike(call.got, run_on(m.module(reference), call, seed))]
    return Finding(fits, True)


def made_at(found: "Finding", learner_file) -> str:
    """Where in the learner's file the named mistake makes its wrong value: said only when exactly one
    line of the file fits the mistake's pattern (read as the judge reads a step file: a plain file
    inside its folder, capped)."""
    pattern = next((m.made for m in found.fits if m.made), None)
    if not pattern or learner_file is None:
        return ""
    try:
        text = read_inside(Path(learner_file), Path(learner_file).parent, STEP_FILE_BYTES).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001  (no line rather than a wrong one)
        return ""
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if re.search(pattern, line)]
    if len(lines) != 1:
        return ""
    number, code = lines[0]
    return f"\n  the wrong value is made at {Path(learner_file).name}, line {number}: {code[:100]}"


def amend(result, step: str, ctx, own_mistake: str | None, learner_file=None) -> None:
    """After a failure: the catalogue's word on the cause (CheckResult.mistake), or the causes the
    evidence leaves open, listed in the message (and then none named, the check's own included).
    Where no catalogued mistake fits, the check's own cause, if any, stands."""
    witness = ctx.learner
    if not isinstance(witness, Witness) or os.environ.get(SWITCH) == "off":
        return
    try:
        book = catalogue(step)
        found = diagnose(step, witness, ctx.ref, ctx.seed, book) if book is not None else None
    except Exception:  # noqa: BLE001  (a diagnosis never costs the learner their result)
        return
    if found is None or not found.checked:
        return
    if found.named:
        result.mistake = found.named
        result.message += made_at(found, learner_file)
    elif len(found.causes) > 1:
        result.mistake = None
        shown = "; ".join(found.causes[:LIST_OPEN])
        result.message += (f"\n  {len(found.causes)} known mistakes give exactly what your code gave, so none is "
                           f"named: {shown}")
    # none fits: a cause the check named on its own evidence (a planted variant, the first batch where the
    # run left the reference's) stands
