"""`fastgroup worker`: grade the board's queued submissions until stopped.

On PostgreSQL it is a procrastinate worker (tasks.py): start one on any machine that reaches
the database. On SQLite (one machine) it takes the oldest submission it may grade straight from
the submissions table, and checks again after a short sleep when there is none; the only way to
hear about new rows in a SQLite file is to look. Either way the store is patient (PATIENCE_S):
a database that is away (restarting, its disk full) is waited for, said in one line, and the
grade in hand is stored once it is back. Each grade is logged in one line.
"""

import logging
import signal
import sys
import time

from grader.board.clock import now
from grader.board.grading import Marker, SubmissionError
from grader.board.queue import Claim
from grader.board.refusals import DatabaseAway
from grader.board.store import Store

IDLE_S = 0.5  # SQLite: look for new submissions this often
TRIES = 3  # the grading machinery failing (a judge process that does not start) is retried
BUSY_TRIES = 3  # a grade with checks a busy machine cut short (not graded) is graded again
BUSY_PAUSE_S = 30.0
PATIENCE_S = 600.0  # a worker waits this long for a database that is away before a grade is given up


def say(line: str) -> None:
    print(f"{now():%H:%M:%S} {line}", file=sys.stderr, flush=True)


class _Said(logging.Handler):
    """The grading service's own news (a judge replaced, and why) in the worker's log, one line each."""

    def emit(self, record: logging.LogRecord) -> None:
        say(self.format(record))


def run(db_url: str | None = None, device: str | None = None, data: str | None = None, once: bool = False) -> None:
    """Grade until SIGTERM / SIGINT (or, with `once`, until the queue is empty: SQLite only)."""
    logging.getLogger("fastgroup.judges").addHandler(_Said())
    marker = Marker(data, device)
    try:
        with Store.open(db_url, patience_s=PATIENCE_S) as store:
            if store.is_sqlite:
                _run_sqlite(store, marker, once)
            else:
                from grader.board import tasks

                tasks.install(store)
                tasks.run_worker(store.url, lambda submission_id: _grade_one(store, marker, store.start(submission_id)),
                                 say=say)
    finally:
        marker.close()


def _run_sqlite(store: Store, marker: Marker, once: bool) -> None:
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    while not stopping:
        try:
            store.requeue_dead()
            claim = store.claim_next()
        except DatabaseAway as err:  # waited PATIENCE_S already: say so, and keep looking
            say(f"worker: {err}")
            time.sleep(IDLE_S)
            continue
        if claim is None:
            if once:
                return
            time.sleep(IDLE_S)
            continue
        _grade_one(store, marker, claim)


def _grade_one(store: Store, marker: Marker, claim: Claim | None) -> None:
    """Grade one claimed submission and store the outcome (a no-op for one already finished)."""
    if claim is None:
        return
    started = time.monotonic()
    busy = 0
    for attempt in range(TRIES + BUSY_TRIES):
        try:
            results = marker.mark(claim.kind, claim.files)
        except SubmissionError as err:  # e.g. an answers file that does not parse: the member's to fix
            store.fail(claim, str(err))
            say(f"failed #{claim.submission_id} for {claim.member}: {str(err)[:120]}")
            return
        except Exception as err:  # noqa: BLE001 - the machinery's: retry, then say what, keep serving
            marker.reset()
            if attempt - busy == TRIES - 1:
                store.fail(claim, f"the grader failed ({type(err).__name__}: {str(err)[:200]}): tell the organiser")
                say(f"failed #{claim.submission_id}: the grader failed ({type(err).__name__})")
                return
            continue
        cut_short = results.extra_data.not_graded
        if cut_short:  # the machine's doing, not the member's: never stored as their result
            busy += 1
            if busy == BUSY_TRIES:
                store.fail(claim, f"the board's machine was too busy to grade it ({len(cut_short)} checks cut short "
                                  f"{BUSY_TRIES} times): nothing was counted; submit again later")
                say(f"failed #{claim.submission_id}: the machine was too busy ({', '.join(cut_short)} cut short)")
                return
            say(f"#{claim.submission_id}: {', '.join(cut_short)} cut short by a busy machine (not graded): "
                f"grading it again in {BUSY_PAUSE_S:.0f} s")
            time.sleep(BUSY_PAUSE_S)
            continue
        if store.finish(claim, results):
            say(f"graded #{claim.submission_id} for {claim.member} ({claim.kind}, attempt {claim.attempt}): "
                f"{results.score:g}/{results.max_score:g} in {time.monotonic() - started:.1f} s")
        return
