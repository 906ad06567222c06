"""`fastgroup watch`: regrade the step whose file you just saved (rustlings' loop).

The grading service stays warm between saves (torch and fastai are imported once, the
references and data stay loaded), and file events are handled 50 ms after they settle, so a
step that trains nothing is regraded in well under a second. File events come from watchfiles;
`--poll` makes it poll the folder instead, for shared or network drives where events never arrive.
"""

from pathlib import Path

from rich.console import Console

from grader.core.errors import KitError
from grader.core.steps import ALL_IDS
from grader.engine.service import Service, resolve_source
from grader.engine.settings import settings
from grader.learner.grade import grade

DEBOUNCE_MS = 50  # watchfiles waits this long for a burst of events to end (its default: 1,600)


def changed_steps(changes) -> list[str]:
    """Step ids of the exercise files in a batch of watchfiles changes."""
    steps = {Path(path).stem for _, path in changes}
    return [s for s in ALL_IDS if s in steps]


def watch(source: Path | None = None, poll: bool = False, data: str | None = None, device: str | None = None) -> None:
    from watchfiles import watch as watch_files

    folder = resolve_source(source)
    console = Console()
    wanted = settings(data, device)
    with Service(wanted, fastai=True) as service:
        service.ready()
        console.print(f"Watching {folder}: save an exercise file to grade its step (Ctrl-C to stop). Grader ready.")
        try:
            for changes in watch_files(folder, force_polling=poll, poll_delay_ms=100, debounce=DEBOUNCE_MS, step=10):
                steps = changed_steps(changes)
                if steps:
                    console.rule(", ".join(steps))
                    try:
                        grade(steps=steps, source=folder, data=wanted.data, device=wanted.device, service=service)
                    except KitError as err:  # keep watching: the next save may fix it
                        console.print(f"[red]error:[/] {err}")
        except KeyboardInterrupt:
            service.interrupt()  # a regrade in progress is dropped, not waited for
            console.print("Stopped watching.")
