"""Where a hung step was stopped: the line of the learner's code that was running.

The runner kills a judge whose check runs past its time limit; the learner's code runs in the
judge's sandboxed observer, which the kill takes with it. Just before that moment the observer
dumps its stack with faulthandler into its private folder (`arm`), and the runner reads it from
there before the folder goes (`where`). The dump is learner-controlled data: only a line number
in the step's file is taken from it, the source line comes from the learner's file outside the
sandbox, and it only words a message that was a failure anyway.
"""

import faulthandler
import re
import time
from pathlib import Path

DUMP = "stack-when-stopped.txt"  # in the observer's private folder
AHEAD_S = 0.4  # the dump is written this long before the runner's deadline
READ_LIMIT = 64 * 1024


def arm(dump, stop_at: float) -> None:
    """Observer side: dump every thread's stack into `dump` (an open file) shortly before
    `stop_at` (time.monotonic(), shared by the processes of one machine), unless disarmed."""
    dump.seek(0)
    dump.truncate()
    if stop_at > 0:
        faulthandler.dump_traceback_later(max(0.05, stop_at - AHEAD_S - time.monotonic()), file=dump)


def disarm() -> None:
    faulthandler.cancel_dump_traceback_later()


def where(scratch: str | Path | None, step: str, learner_file: Path) -> str:
    """Runner side: ' It was stopped at STEP.py, line N: `source`.' or '' when not known."""
    if not scratch:
        return ""
    frame = re.compile(rf'File "(?:[^"]*/)?{re.escape(step)}\.py", line (\d+)')
    for dump in sorted(Path(scratch).glob(f"*/{DUMP}")):
        try:
            with dump.open("rb") as f:
                text = f.read(READ_LIMIT).decode(errors="replace")
        except OSError:
            continue
        found = frame.search(text)  # faulthandler lists the most recent call first
        if found:
            number = int(found.group(1))
            return f" It was stopped at {learner_file.name}, line {number}{_source(learner_file, number)}."
    return ""


def _source(path: Path, number: int) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    if not 1 <= number <= len(lines):
        return ""
    line = lines[number - 1].strip()
    line = line if len(line) <= 100 else line[:97] + "..."
    return f": `{line}`" if line else ""
