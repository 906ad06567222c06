"""The terminal side of grading: progress while checks run, a table of steps at the end.

Progress shows wherever the grade runs: on a terminal, a live line per check (a spinner, or an
epoch bar with the accuracy); anywhere else (a CI log, a notebook, a pipe), one plain line per
finished step and per finished training run, each flushed at once, so a long grade is never
silent until its end.
"""

import contextlib
import time
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from grader.core.steps import BY_ID

KERNEL = "this kernel"  # the source a kernel's grade names (grader/kernel.py): its suggestions are Python calls


class Report:
    def __init__(self, show: bool = True, verbose: bool = False, quick: bool = False):
        """`verbose`: every failing check of a step in its row, not only the first; `quick`: a
        --quick grade (its progress lines say so)."""
        self.console = Console(quiet=not show, highlight=False)
        self.verbose = verbose
        self.quick = quick
        self.started = time.monotonic()
        self.step: str | None = None  # the step whose checks run now
        self.done: list = []  # its finished checks: (check, result)

    @contextlib.contextmanager
    def running(self, check):
        """Show a spinner (unit check) or an epoch bar (training check) while a check runs.

        Off a terminal (a log, CI, a notebook) nothing moves while a check runs: a line says each
        step as it ends (the checks come in chapter order: a new step means the last one ended).
        """
        if check.step != self.step:
            self.step_ended()
            self.step = check.step
        if not self.console.is_terminal:
            yield lambda *args: None
            return
        columns = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[acc]}")]
        with Progress(*columns, TimeElapsedColumn(), console=self.console, transient=True) as bar:
            task = bar.add_task(f"{check.step}: {check.name}", total=None, acc="")

            def on_progress(done, total, acc=None):
                shown = f"accuracy {acc:.4f}" if acc is not None else ""
                bar.update(task, completed=done, total=total, acc=shown)

            yield on_progress

    def finished(self, check, result) -> None:
        """Off a terminal, one line per training check that really trained (not a stub's)."""
        self.done.append((check, result))
        if check.trains and not self.console.is_terminal and not result.not_started:
            self.plain(f"trained: {check.step}: {check.name} ({result.seconds:.0f} s)")

    def step_ended(self) -> None:
        """Off a terminal, the step that just ended in one plain line; on one, the live line said it."""
        if self.step is not None and not self.console.is_terminal:
            took = time.monotonic() - self.started
            self.plain(f"[{int(took // 60)}:{int(took % 60):02d}] {step_line(self.step, self.done, self.quick)}")
        self.step, self.done = None, []

    def plain(self, line: str) -> None:
        """One line, out at once: a pipe's buffer would otherwise hold it until the grade ends."""
        self.console.print(escape(line), soft_wrap=True)
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.console.file.flush()

    def summary(self, graded, results, plots, quick=False, skipped=(), source=None, problems=(), used=None,
                latest=None):
        """The table of steps and the totals. `latest`: the merged latest grade, whose full results a
        --quick run's rows show beside their quick checks."""
        from grader.core import sandbox

        self.step_ended()

        if sandbox.isolation() != "bubblewrap":
            self.console.print(f"[dim]Note: {sandbox.NOT_ISOLATED}.[/dim]", soft_wrap=True)
        by_step = defaultdict(list)
        for g in graded:
            by_step[g.step].append(g)
        table = Table(title="fastgroup grade", show_lines=False)
        for column in ("step", "points", "accuracy / threshold", "first problem and what to do"):
            table.add_column(column, overflow="fold")
        points = results.step_points()
        partial = []  # steps whose training checks this --quick run left out
        for step, rows in by_step.items():
            name = f"{step}\n[dim](reused)[/]" if rows[0].reused else step
            full = full_cell(step, results, latest) if quick and latest is not None else ""
            partial += [step] if full else []
            table.add_row(name, points_cell(*points[step]) + full, accuracy_cell(rows),
                          problem_cell(step, rows, bool(used), self.verbose))
        self.console.print(table)
        if partial:
            self.console.print("[dim]quick: this run's unit checks only; \"full\" is the last full grade of the same "
                               "code, the points `fastgroup list` and `fastgroup submit` use (`fastgroup grade "
                               f"{' '.join(partial)}` runs it in full).[/dim]", soft_wrap=True)
        reused = [step for step, rows in by_step.items() if rows[0].reused]
        if reused:
            self.console.print(f"[dim]{len(reused)} step{'s' if len(reused) > 1 else ''} (reused) kept their last "
                               "result: their code and settings have not changed. `--fresh` grades them again.[/dim]",
                               soft_wrap=True)
        if used:  # a notebook or a script: which of its definitions each step graded
            self.console.print(f"From {escape(str(source))} (found, never run):", soft_wrap=True)
            for step in by_step:
                lines = used.get(step) or ["not found"]
                self.console.print(f"  [bold]{step}[/]: " + escape("; ".join(lines)), soft_wrap=True)
        for step, path in plots.items():
            self.console.print(f"[dim]plot for {step}: {escape(str(path))}[/dim]", soft_wrap=True)
        for problem in problems:
            self.console.print(f"[yellow]{escape(problem)}[/yellow]", soft_wrap=True)
        for g in graded:
            if g.result.outcome.get("note"):
                self.console.print(f"{g.step}: {escape(g.result.outcome['note'])}")
        total = f"{results.score:g}/{results.max_score:g}"
        colour = "green" if results.score == results.max_score else "yellow"
        note = " (--quick: training checks skipped)" if quick else ""
        bonus = [g for g in graded if BY_ID[g.step].bonus]
        if len(bonus) < len(graded):
            self.console.print(f"[bold {colour}]Total: {total} points{note}[/] in {results.execution_time:.0f} s")
        if bonus:
            extra = results.extra_data
            got, most = extra.bonus_score, extra.bonus_max_score
            shade = "green" if got == most else "yellow"
            when = "" if len(bonus) < len(graded) else f" in {results.execution_time:.0f} s"
            self.console.print(f"[bold {shade}]Bonus: {got:g}/{most:g} points{note}[/] (beyond the chapter, "
                               f"counted apart from the total){when}")
        if skipped:
            names = " ".join(skipped)
            rerun = f"grader.check({list(skipped)!r}, quick=True)" if str(source) == KERNEL else \
                f"fastgroup grade {names} --quick"
            self.console.print(f"[dim]--quick left out {', '.join(skipped)}: their checks need fastai, which takes "
                               f"seconds to import; `{escape(rerun)}` runs them.[/dim]")
        nxt = next((s for s, rows in by_step.items() if any(not g.result.passed for g in rows)), None)
        if nxt:
            notebook = bool(used) and source is not None  # a notebook, a script or a kernel
            where = escape(str(source if notebook else (source or Path("exercises")) / f"{nxt}.py"))
            ask = f'grader.hint("{nxt}")' if str(source) == KERNEL else f"fastgroup hint {nxt}"
            self.console.print(f"Next: step [bold]{nxt}[/] ({BY_ID[nxt].title}) in {where}; "
                               f"`{escape(ask)}` if you are stuck.", soft_wrap=True)


def step_line(step: str, done: list, quick: bool = False) -> str:
    """A finished step in words: its points and checks, or that it was not started or kept."""
    if not done:
        return f"{step}: unchanged since its last grade, its result kept (reused)"
    if all(result.not_started for _, result in done):
        return f"{step}: not started"
    got = sum(check.points for check, result in done if result.passed)
    most = sum(check.points for check, _ in done)
    passed = sum(1 for _, result in done if result.passed)
    kind = "quick checks" if quick and BY_ID[step].trains else "checks"
    return f"{step}: {got:g}/{most:g} points, {passed} of {len(done)} {kind} passed"


def full_cell(step: str, current, latest) -> str:
    """Beside a --quick row whose training checks did not run: the full result recorded for the
    same code (latest.py keeps it), or that there is none yet."""
    ran = {t.number for t in current.tests if t.tags[0] == step}
    full = [t for t in latest.tests if t.tags[0] == step]
    if all(t.number in ran for t in full):
        return ""  # the quick run was the whole step
    run = latest.extra_data.step_runs.get(step)
    if run is not None and not run.quick:
        got, most = sum(t.score for t in full), sum(t.max_score for t in full)
        return f" quick · [dim]full {got:g}/{most:g} recorded[/]"
    return " quick · [dim]full: not run yet[/]"


def points_cell(got: float, most: float) -> str:
    colour = "green" if got == most else ("red" if got == 0 else "yellow")
    return f"[{colour}]{got:g}/{most:g}[/]"


def accuracy_cell(rows) -> str:
    for g in rows:
        o = g.result.outcome
        if o.get("accuracy") is not None:
            return f"{o['accuracy']:.4f} / {o['threshold']:.4f}"
    return ""


def problem_cell(step, rows, notebook: bool = False, verbose: bool = False) -> str:
    failing = [g for g in rows if not g.result.passed]
    started = [g for g in failing if not g.result.not_started]
    if not failing:
        return "[green]all checks passed[/]"
    g = started[0] if notebook and started else failing[0]  # a notebook: what went wrong beats what is missing
    if g.result.not_started and not notebook:
        return f"not started: write {step}.py"  # short, so the table never splits the name
    return "\n".join(problem_text(g) for g in (started if verbose else [g]))


def problem_text(g) -> str:
    text = escape(f"{g.name}: {g.result.message}")
    if g.result.mistake:
        text += f"\n[bold]Likely mistake:[/] {escape(g.result.mistake)}"
    return text
