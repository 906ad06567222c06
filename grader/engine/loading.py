"""Loading a learner's module and running their code without letting it hurt the grader.

The learner's file is loaded only inside the sandboxed observer (grader/engine/judges/observer.py);
the judge loads the reference solutions with the same function. Exceptions become messages
trimmed to the learner's own file, printing is capped. Infinite loops are the runner's
business: it kills the judge, and its sandbox with it, after the check's time limit.
"""

import ast
import contextlib
import importlib.util
import io
import sys
import traceback
import warnings
from pathlib import Path
from types import ModuleType

from grader.core.home import KIT_ROOT

OUTPUT_CAP = 2000  # characters of learner output kept per check

# Warnings the libraries raise on their own (fastai calls torch.jit.script when it is imported,
# pandas deprecates an option fastai sets): never the learner's doing, so never "your code printed".
LIBRARY_WARNINGS = ("`torch.jit.script` is deprecated", "The 'mode.chained_assignment' option is deprecated")


def ignore_library_warnings() -> None:
    """For this process: the judge (which imports fastai to train the kit's own runs) and the
    sandboxed observer (which imports it for the learner's code)."""
    for message in LIBRARY_WARNINGS:
        warnings.filterwarnings("ignore", message=message)

# Exceptions whose text identifies a chapter mistake.
KNOWN_ERRORS = {
    "is not a Module subclass": (
        "nn.Sequential needs module instances: nn.ReLU() - not nn.ReLU and not F.relu"
    ),
}

# Errors that several mistakes raise: explained, never pinned on one of them.
OFFLINE = (
    "your code tried to download something, and grading runs without a network: every step works "
    "offline (ResNet-18 starts from random weights: pretrained=False)"
)
GRAD_NONE = (  # what is true of every cause; the diagnosis lists the ones the evidence leaves open
    "a .grad is None: it stays None until a backward() fills it, and a tensor made by `p = p - ...` "
    "never gets one (update p.data in place)"
)
FULL = (
    "your code filled the room grading gives it to write in (the work folder holds 128 MB, /tmp and "
    "/dev/shm 64 MB each, one file 256 MB): keep data in memory, or write less"
)
EXPLAINED_ERRORS = {
    "No space left on device": FULL,
    "File too large": FULL,
    # p -= ..., p.zero_() where p.grad.zero_() was meant, t *= std after requires_grad_(): all raise it
    "a leaf Variable that requires grad is being used in an in-place operation": (
        "an in-place operation (-=, *=, .zero_() ...) changed a tensor that requires grad, which PyTorch "
        "allows only inside torch.no_grad(): an update goes through p.data or torch.no_grad(), "
        "zeroing is for p.grad and not p, and new weights are scaled before requires_grad_()"
    ),
    "urlopen error": OFFLINE,
    "Temporary failure in name resolution": OFFLINE,
    "Network is unreachable": OFFLINE,
    # What is true whatever the cause; which causes the evidence leaves open is the diagnosis's to say
    # (grader/engine/diagnosis.py: arguments swapped, .detach(), .data, torch.no_grad() ... told apart by
    # what the loss was given)
    "element 0 of tensors does not require grad": (
        "backward() found nothing to backpropagate to: the value it was called on does not depend on any "
        "tensor that requires grad"
    ),
    # .zero_() and .data on None: in the chapter's loops that is a parameter's .grad
    "'NoneType' object has no attribute 'zero_'": GRAD_NONE,
    "'NoneType' object has no attribute 'data'": GRAD_NONE,
}


class ModuleLoadError(Exception):
    """The learner's file does not import (syntax error, import error, error at top level)."""


def parse(code: str | bytes) -> ast.Module:
    """A learner's code as a syntax tree, without running it. Code nested too deeply to read (a
    RecursionError or MemoryError inside the parser) is a SyntaxError like any other, so no reader
    of learner code crashes on it."""
    try:
        return ast.parse(code)
    except (RecursionError, MemoryError):
        raise SyntaxError("nested too deeply to read") from None


def missing(path: Path) -> str:
    return f"{path} is missing: `fastgroup reset {Path(path).stem}` writes a fresh stub there (or restore your file)"


def load_file(path: Path, name: str) -> ModuleType:
    """Import a file as a fresh module (never cached in sys.modules: every grade re-reads it)."""
    if not path.exists():
        raise ModuleLoadError(missing(path))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        with captured_output():
            spec.loader.exec_module(module)
    except SyntaxError as err:
        raise ModuleLoadError(
            f"{path.name} line {err.lineno}: SyntaxError: {err.msg} - fix it and grade again"
        ) from None
    except BaseException as err:  # noqa: BLE001  (anything at import time fails this step only)
        raise ModuleLoadError(f"{path.name} does not import: {describe_exception(err, path)}") from None
    return module


_REFERENCES: dict[str, ModuleType] = {}


def load_reference(step: str) -> ModuleType:
    """The reference solution module of a step (cached: it never changes during a run)."""
    if step not in _REFERENCES:
        _REFERENCES[step] = load_file(KIT_ROOT / "solutions" / f"{step}.py", f"fastgroup_ref_{step}")
    return _REFERENCES[step]


class LazyReference:
    """A step's reference module, imported on first use: a judge whose runs of the reference
    are cached never imports it (for learner and resnet18 that is fastai, seconds of CPU)."""

    def __init__(self, step: str):
        self._step = step

    def load(self) -> ModuleType:
        return load_reference(self._step)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.load(), name)


def describe_exception(err: BaseException, learner_file: Path | None) -> str:
    """One readable paragraph: the error, and where in the learner's file it came from."""
    frames = [
        f"{Path(fs.filename).name}, line {fs.lineno}, in {fs.name}: {(fs.line or '').strip()}"
        for fs in traceback.extract_tb(err.__traceback__)
        if learner_file is not None and Path(fs.filename).resolve() == learner_file.resolve()
    ]
    text = f"{type(err).__name__}: {err}".strip()
    if len(text) > 500:
        text = text[:500] + "..."
    where = ("\n  at " + "\n  at ".join(frames[-3:])) if frames else ""
    return text + where


def known_mistake(err: BaseException) -> str | None:
    """The one chapter mistake an error's text identifies, if exactly one does."""
    text = str(err)
    return next((mistake for pattern, mistake in KNOWN_ERRORS.items() if pattern in text), None)


def explained(err: BaseException) -> str:
    """What an error that several mistakes raise usually means (empty when none applies)."""
    text = str(err)
    return next((f"\n{why}" for pattern, why in EXPLAINED_ERRORS.items() if pattern in text), "")


class CappedWriter(io.TextIOBase):
    """A stdout stand-in that keeps the first OUTPUT_CAP characters and counts the rest."""

    def __init__(self, cap: int = OUTPUT_CAP):
        self.cap, self.kept, self.dropped = cap, [], 0
        self.size = 0

    def write(self, text: str) -> int:
        room = self.cap - self.size
        if room > 0:
            self.kept.append(text[:room])
            self.size += len(text[:room])
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def text(self) -> str:
        out = "".join(self.kept)
        return out + (f"\n[... {self.dropped} more characters of output cut]" if self.dropped else "")


@contextlib.contextmanager
def captured_output():
    """Send the learner's prints to a capped buffer instead of the terminal."""
    writer = CappedWriter()
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = writer
    try:
        yield writer
    finally:
        sys.stdout, sys.stderr = old_out, old_err


KIT_PACKAGES = ("grader", "solutions", "quiz")  # the kit's implementations, checks and answers


def kit_imports(code: str) -> list[str]:
    """The kit's modules a step's code imports by name (read with ast, never run). Learner code
    that reaches them another way (importlib, sys.modules) still only reaches the kit's drivers and
    recipes, which grade nothing: the judge checks every figure against its own reference."""
    import ast

    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # the observer reports the syntax error itself
    found = []
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
        found += [n for n in names if n.split(".")[0] in KIT_PACKAGES]
    return sorted(set(found))


def raised_by_a_stub(err: BaseException) -> bool:
    """A NotImplementedError raised by a stub's own `raise NotImplementedError` line: the step is not
    started. One that PyTorch raises (an operation not implemented for a dtype) is a real error."""
    import linecache

    if not isinstance(err, NotImplementedError):
        return False
    last = err.__traceback__
    while last is not None and last.tb_next is not None:
        last = last.tb_next
    if last is None:
        return True  # raised with no frame to look at: as a stub does
    line = linecache.getline(last.tb_frame.f_code.co_filename, last.tb_lineno).strip()
    return not line or line.startswith("raise NotImplementedError")  # no source to read (exec'd code): a stub
