"""A PNG per training step (the learner's accuracy per epoch beside the reference's) and a confusion
matrix per 10-class step.

They are drawn in a thread as each check's result comes, while the other checks still run, so the
plots are ready when the last check ends instead of adding a second or two after it; the thread
runs at the lowest priority, on the CPU that training leaves. Only matplotlib's object API is
used (no pyplot and its global state), from that one thread.
"""

import contextlib
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from grader.core.home import subdir
from grader.core.steps import ALL_IDS

CONFUSION = " (confusion matrix)"


class Plots:
    """Takes each check's outcome as it comes (`add`, from any thread); `finish` gives {name: png}
    in chapter order, the curves first, then the confusion matrices."""

    def __init__(self):
        self.pool: ThreadPoolExecutor | None = None
        self.jobs: dict[str, Future] = {}

    def add_result(self, step: str, result) -> None:
        self.add(step, result.outcome)

    def add(self, step: str, outcome: dict) -> None:
        if len(outcome.get("curve") or []) > 1:
            self.submit(step, draw_curve, step, outcome)
        if outcome.get("confusion"):
            self.submit(step + CONFUSION, draw_confusion, step, outcome["confusion"])

    def submit(self, name: str, draw, *args) -> None:
        if self.pool is None:  # matplotlib is imported only once something trained
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fastgroup-plots",
                                           initializer=lowest_priority)
        self.jobs[name] = self.pool.submit(draw, *args)

    def finish(self) -> dict[str, Path]:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        names = sorted(self.jobs, key=lambda n: (n.endswith(CONFUSION), ALL_IDS.index(n.removesuffix(CONFUSION))))
        return {name: self.jobs[name].result() for name in names}


def lowest_priority() -> None:
    """Linux gives each thread its own nice value: this one yields to the grading processes."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def draw_curve(step: str, o: dict) -> Path:
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
    path = subdir("plots") / f"{step}.png"
    fig.savefig(path, dpi=90)
    return path


def draw_confusion(step: str, counts: list[list[int]]) -> Path:
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
    path = subdir("plots") / f"{step}-confusion.png"
    fig.savefig(path, dpi=90)
    return path
