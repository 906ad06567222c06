"""`fastgroup worker`: grade the board's queued submissions until stopped.

On PostgreSQL it is a procrastinate worker (tasks.py): start one on any machine that reaches
the database. On SQLite (one machine) it takes the oldest submission it may grade straight from
the submissions table, and checks again after a short sleep when there is none; the only way to
hear about new rows in a SQLite file is to look.
"""

import signal
import time

from grader.board.grading import Grader, SubmissionError
from grader.board.queue import Claim
from grader.board.store import Store

IDLE_S = 0.5  # SQLite: look for new submissions this often
TRIES = 3  # the grading machinery failing (a judge process that does not start) is retried


def run(db_url: str | None = None, device: str | None = None, data: str | None = None, once: bool = False) -> None:
    """Grade until SIGTERM / SIGINT (or, with `once`, until the queue is empty: SQLite only)."""
    grader = Grader(data, device)
    try:
        with Store.open(db_url) as store:
            if store.is_sqlite:
                _run_sqlite(store, grader, once)
            else:
                from grader.board import tasks

                tasks.install(store)
                url = store.url
                tasks.run_worker(url, lambda submission_id: _grade_one(store, grader, store.start(submission_id)))
    finally:
        grader.close()


def _run_sqlite(store: Store, grader: Grader, once: bool) -> None:
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    while not stopping:
        store.requeue_dead()
        claim = store.claim_next()
        if claim is None:
            if once:
                return
            time.sleep(IDLE_S)
            continue
        _grade_one(store, grader, claim)


def _grade_one(store: Store, grader: Grader, claim: Claim | None) -> None:
    """Grade one claimed submission and store the outcome (a no-op for one already finished)."""
    if claim is None:
        return
    for attempt in range(TRIES):
        try:
            raw = grader.grade(claim.kind, claim.files)
        except SubmissionError as err:  # e.g. an answers file that does not parse: the member's to fix
            store.fail(claim, str(err))
            return
        except Exception as err:  # noqa: BLE001 - the machinery's: retry, then say what, keep serving
            grader.reset()
            if attempt == TRIES - 1:
                store.fail(claim, f"the grader failed ({type(err).__name__}: {str(err)[:200]}): tell the organiser")
                return
            continue
        store.finish(claim, raw)
        return
