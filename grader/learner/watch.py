"""`fastgroup watch`: regrade the step whose file you just saved (rustlings' loop).

File events come from watchfiles; `--poll` makes it poll the folder instead, for shared or
network drives where events never arrive.
"""

from pathlib import Path

from rich.console import Console

from grader.core.steps import ALL_IDS
from grader.engine.runner import resolve_source
from grader.learner.grade import grade


def changed_steps(changes) -> list[str]:
    """Step ids of the exercise files in a batch of watchfiles changes."""
    steps = {Path(path).stem for _, path in changes}
    return [s for s in ALL_IDS if s in steps]


def watch(source: Path | None = None, poll: bool = False) -> None:
    from watchfiles import watch as watch_files

    folder = resolve_source(source)
    console = Console()
    console.print(f"Watching {folder}: save an exercise file to grade its step (Ctrl-C to stop).")
    try:
        for changes in watch_files(folder, force_polling=poll, poll_delay_ms=500):
            steps = changed_steps(changes)
            if steps:
                console.rule(", ".join(steps))
                grade(steps=steps, source=folder)
    except KeyboardInterrupt:
        console.print("Stopped watching.")
