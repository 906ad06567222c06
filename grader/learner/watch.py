"""`fastgroup watch`: regrade the step whose file you just saved (rustlings' loop).

The grading service stays warm between saves (torch and fastai are imported once, the
references and data stay loaded), and file events are handled 50 ms after they settle, so a
step that trains nothing is regraded in well under a second. File events come from watchfiles;
`--poll` makes it poll the folder instead, for shared or network drives where events never arrive.
A notebook or a script is watched the same way: each save regrades the steps whose definitions
changed (their step modules, as grader/engine/sources makes them, differ from the last save's).
"""

from pathlib import Path

from rich.console import Console

from grader.core.errors import KitError
from grader.core.steps import ALL_IDS
from grader.engine import ALL_OF_FASTAI, Service, extract, read_cells, resolve_source
from grader.engine import make_settings as settings
from grader.learner.grade import grade

DEBOUNCE_MS = 50  # watchfiles waits this long for a burst of events to end (its default: 1,600)


def changed_steps(changes) -> list[str]:
    """Step ids of the exercise files in a batch of watchfiles changes."""
    steps = {Path(path).stem for _, path in changes}
    return [s for s in ALL_IDS if s in steps]


def notebook_steps(path: Path) -> dict[str, str]:
    """The step modules a notebook's or script's definitions make now (none when it cannot be read)."""
    try:
        return extract(read_cells(path), path.name).files
    except KitError:
        return {}


class NotebookChanges:
    """Which steps a save of the notebook changed, against the last save."""

    def __init__(self, path: Path):
        self.path, self.last = path, notebook_steps(path)

    def __call__(self, changes) -> list[str]:
        if not any(Path(p).resolve() == self.path for _, p in changes):
            return []
        now = notebook_steps(self.path)
        changed = {name[:-3] for name in set(now) | set(self.last) if now.get(name) != self.last.get(name)}
        self.last = now
        return [s for s in ALL_IDS if s in changed]


def watch(source: Path | None = None, poll: bool = False, data: str | None = None, device: str | None = None) -> None:
    from watchfiles import watch as watch_files

    target = resolve_source(source)
    folder = target.parent if target.is_file() else target
    steps_of = NotebookChanges(target) if target.is_file() else changed_steps
    what = f"save {target.name} to grade the steps you changed" if target.is_file() else \
        "save an exercise file to grade its step"
    console = Console()
    wanted = settings(data, device)
    with Service(wanted, fastai=True, main_first=ALL_OF_FASTAI if target.is_file() else ()) as service:
        console.print(f"Watching {target}: starting the grader (PyTorch and fastai load once; on a busy "
                      "machine this takes a while)...")
        service.all_ready()
        console.print(f"Grader ready: {what} (Ctrl-C to stop).")
        try:
            for changes in watch_files(folder, force_polling=poll, poll_delay_ms=100, debounce=DEBOUNCE_MS, step=10):
                steps = steps_of(changes)
                if steps:
                    console.rule(", ".join(steps))
                    try:
                        grade(steps=steps, source=target, data=wanted.data, device=wanted.device, service=service)
                    except KitError as err:  # keep watching: the next save may fix it
                        console.print(f"[red]error:[/] {err}")
        except KeyboardInterrupt:
            service.interrupt()  # a regrade in progress is dropped, not waited for
            console.print("Stopped watching.")
