"""A PNG per training step (the learner's accuracy per epoch beside the reference's) and a confusion
matrix per 10-class step.

They are drawn in a thread as each check's result comes, while the other checks still run, so the
plots are ready when the last check ends instead of adding a second or two after it; the thread
runs at the lowest priority, on the CPU that training leaves. Only matplotlib's object API is
used (no pyplot and its global state), from that one thread.
"""

import contextlib
import functools
import hashlib
import json
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from grader.core.home import kit_home, subdir
from grader.core.steps import ALL_IDS

CONFUSION = " (confusion matrix)"


class Plots:
    """Takes each check's outcome as it comes (`add`, from any thread); `finish` gives {name: png}
    in chapter order, the curves first, then the confusion matrices. A plot whose data and
    drawing code are those of the PNG already there is not drawn again (a regrade of unchanged
    steps draws nothing and never imports matplotlib)."""

    def __init__(self):
        self.pool: ThreadPoolExecutor | None = None
        self.jobs: dict[str, Future] = {}

    def add_result(self, step: str, result) -> None:
        """Never raises (it runs in the runner's threads): a plot that cannot be made is reported
        by `finish`, and the grade's results are saved all the same."""
        try:
            self.add(step, result.outcome)
        except Exception as err:  # noqa: BLE001  (an unwritable plots folder, say)
            self.jobs[step] = Future()
            self.jobs[step].set_exception(err)

    def add(self, step: str, outcome: dict) -> None:
        if len(outcome.get("curve") or []) > 1:
            data = {k: outcome[k] for k in ("curve", "ref_curve", "threshold")}
            self.submit(step, draw_curve, subdir("plots") / f"{step}.png", step, data)
        if outcome.get("confusion"):
            self.submit(step + CONFUSION, draw_confusion, subdir("plots") / f"{step}-confusion.png", step,
                        outcome["confusion"])

    def submit(self, name: str, draw, path: Path, step: str, data) -> None:
        key = plot_key(draw, step, data)
        if path.is_file() and path.stat().st_size and read_key(path) == key:
            self.jobs[name] = Future()
            self.jobs[name].set_result(path)
            return
        if self.pool is None:  # matplotlib is imported only once something is drawn
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fastgroup-plots",
                                           initializer=lowest_priority)
        self.jobs[name] = self.pool.submit(drawn, draw, path, step, data, key)

    def finish(self) -> tuple[dict[str, Path], list[str]]:
        """({name: png} of the plots made, one line for each that could not be)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        names = sorted(self.jobs, key=lambda n: (n.endswith(CONFUSION), ALL_IDS.index(n.removesuffix(CONFUSION))))
        made, problems = {}, []
        for name in names:
            try:
                made[name] = self.jobs[name].result()
            except Exception as err:  # noqa: BLE001
                problems.append(f"the plot for {name} was not saved ({type(err).__name__}: {err}): "
                                f"check that {kit_home() / 'plots'} is a folder you can write to")
        return made, problems


def plot_key(draw, step: str, data) -> str:
    """What a plot is drawn from: its data, and this module's code."""
    text = json.dumps([draw.__name__, step, data], sort_keys=True) + drawing_code()
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def drawing_code() -> str:
    return Path(__file__).read_text()


def key_file(path: Path) -> Path:
    return path.with_name(f".{path.name}.key")


def read_key(path: Path) -> str | None:
    try:
        return key_file(path).read_text()
    except OSError:
        return None


def drawn(draw, path: Path, step: str, data, key: str) -> Path:
    key_file(path).unlink(missing_ok=True)  # a PNG half written is never taken for a good one
    draw(path, step, data)
    key_file(path).write_text(key)
    return path


def lowest_priority() -> None:
    """Linux gives each thread its own nice value: this one yields to the grading processes."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def draw_curve(path: Path, step: str, o: dict) -> None:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.plot(range(1, len(o["curve"]) + 1), o["curve"], marker="o", label="your code")
    ax.plot(range(1, len(o["ref_curve"]) + 1), o["ref_curve"], linestyle="--", label="reference")
    ax.axhline(o["threshold"], color="grey", linewidth=1, label=f"threshold {o['threshold']:.4f}")
    ax.set(xlabel="epoch", ylabel="validation accuracy", title=f"{step}: accuracy per epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def draw_confusion(path: Path, step: str, counts: list[list[int]]) -> None:
    from matplotlib.figure import Figure

    n = len(counts)
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    ax.imshow(counts, cmap="Blues")
    top = max(max(row) for row in counts) or 1
    for i in range(n):
        for j in range(n):
            if counts[i][j]:
                colour = "white" if counts[i][j] > top / 2 else "black"
                ax.text(j, i, str(counts[i][j]), ha="center", va="center", fontsize=7, color=colour)
    ax.set(xticks=range(n), yticks=range(n), xlabel="predicted digit", ylabel="true digit",
           title=f"{step}: confusion matrix (validation)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
