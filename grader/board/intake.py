"""Code (or quiz answers) in: stored as a queued submission, and its grading job queued.

The one way a submission enters the board, whoever sends it: the HTTP API (api.py), the page's
upload (page.py) and `fastgroup submit` on the organiser's own machine (submit.py). The store
takes it (queue.py: the member is the token's, the cooldown kept); on PostgreSQL it also gets
its procrastinate job (tasks.py), and a job that cannot be deferred now is given one later by a
worker's upkeep. On SQLite the local workers find it in the table themselves.

A submission keeps where it came from as a short label (`label`): the exercises folder's name or
the notebook's file name, never a path of the sender's machine.
"""

from pathlib import PureWindowsPath

from grader.board.clock import now
from grader.board.identity import Member
from grader.board.schema import MAX_SOURCE_LENGTH
from grader.board.store import Store
from grader.board.writes import Receipt


def label(source: str | None) -> str | None:
    """A source as the board keeps and shows it: the last part of its path ("exercises",
    "ch4.ipynb"), printable characters only, capped; None when nothing is left."""
    if not source:
        return None
    name = PureWindowsPath(str(source)).name  # either separator: C:\\Users\\ada\\ch4.ipynb or /home/ada/exercises
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:MAX_SOURCE_LENGTH] or None


def what(kind: str, files: dict[str, str]) -> str:
    """What a submission holds, in a few words."""
    return "quiz answers" if kind == "quiz" else f"{len(files)} step file(s)"


class Intake:
    """Takes submissions into one store, and queues their grading (opened once, used for many)."""

    def __init__(self, store: Store, log=None):
        self.store, self.log = store, log
        self.deferrer = None
        if not store.is_sqlite:
            from grader.board import tasks

            tasks.install(store)
            self.deferrer = tasks.Deferrer(store.url)

    def take(self, who: Member | str, kind: str, files: dict[str, str], source: str | None = None,
             via: str = "") -> Receipt:
        """Store one submission for a member (or a token's) and queue its grading; `via` names the
        front end in the organiser's log ("the page's upload")."""
        receipt = self.store.enqueue(who, kind, files, label(source))
        if self.deferrer is not None:
            self.deferrer.defer(receipt.submission_id, receipt.member_id)
        if self.log:
            came = ", ".join(w for w in (via, receipt.source and f"from {receipt.source}") if w)
            self.log(f"{now():%H:%M:%S} arrived #{receipt.submission_id} from {receipt.member}"
                     f"{f' ({came})' if came else ''}: {what(kind, files)}")
        return receipt

    def close(self) -> None:
        if self.deferrer is not None:
            self.deferrer.close()
            self.deferrer = None

    def __enter__(self) -> "Intake":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
