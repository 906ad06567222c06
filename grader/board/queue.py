"""The grading queue in the submissions table: enqueue, claim, finish, fail.

The rules live in these conditional updates, whichever engine hands out the work:
- a member has at most one submission `grading`; their later ones wait `queued`, never lost;
- a submission is finished at most once: `finish` only moves a row that is still `grading`
  under the same attempt, so a worker that was presumed dead and comes back changes nothing;
- a worker that died mid-grade leaves its row `grading`; `start` (PostgreSQL, the job retried
  by procrastinate) or `requeue_dead` (local workers on SQLite) takes it up again;
- a submission is taken at most MAX_ATTEMPTS times: one whose grading stopped that often
  (its workers died, or the database went away each time) ends `failed` with the reason;
- where the organiser set a cooldown, a member's next submission waits that long (TooSoon).
"""

import hashlib
import json
import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.orm import aliased

from grader.board.clock import as_utc, now
from grader.board.db import Transactions
from grader.board.identity import Member, active
from grader.board.payload import Payload
from grader.board.refusals import TooSoon
from grader.board.schema import members, submissions
from grader.board.writes import Receipt, cooldown_s, record_steps
from grader.core.results import Results

MAX_ATTEMPTS = 3


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Claim:
    """A submission a worker is grading: what to grade, and which attempt this is."""

    submission_id: int
    member_id: int
    kind: str
    files: dict[str, str]
    attempt: int
    member: str = ""  # the member's name, for the organiser's log


def code_hash(files: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode("utf-8")).hexdigest()


class Queue(Transactions):
    """The queue's writes (a part of Store)."""

    def enqueue(self, who: Member | str, kind: str, files: dict[str, str], source: str | None = None) -> Receipt:
        """Store code (or quiz answers) to be graded, for a member (or the member whose token this is);
        `source` is where it came from, a short label (intake.py makes it)."""

        def work(conn):
            member = active(conn, who)
            _check_cooldown(conn, member.id)
            submission_id = conn.execute(
                insert(submissions)
                .values(
                    member_id=member.id,
                    kind=kind,
                    origin="verified",
                    state="queued",
                    attempts=0,
                    code=json.dumps(files, sort_keys=True),
                    code_sha256=code_hash(files),
                    source=source,
                    created_at=now(),
                )
                .returning(submissions.c.id)
            ).scalar_one()
            return Receipt(submission_id, member.name, kind, None, None, member_id=member.id, source=source)

        return self.write(work)

    def claim_next(self, worker: str | None = None) -> Claim | None:
        """The oldest queued submission of a member with nothing in grading, now `grading` (SQLite's local workers)."""
        busy = aliased(submissions)
        candidate = (
            select(submissions.c.id)
            .where(
                submissions.c.state == "queued",
                ~exists().where(and_(busy.c.member_id == submissions.c.member_id, busy.c.state == "grading")),
            )
            .order_by(submissions.c.id)
            .limit(1)
        )

        def work(conn):
            found = conn.execute(candidate).scalar()
            return None if found is None else _take(conn, found, worker or this_worker())

        return self.write(work)

    def start(self, submission_id: int, worker: str | None = None) -> Claim | None:
        """Take up one submission (a procrastinate job's); None when it is already finished."""
        return self.write(lambda conn: _take(conn, submission_id, worker or this_worker()))

    def finish(self, claim: Claim, results: Results | str) -> bool:
        """Store the verified results of a claim (the worker's, graded by the kit: a typed value, not
        JSON to read back); False (nothing changed) if it was finished already. A results JSON text
        (tests/support's `graded` stores fixtures so) is read as the kit's Results first."""
        payload = Payload.of(results if isinstance(results, Results) else Results.model_validate_json(results))

        def work(conn):
            done = conn.execute(
                _still_mine(claim).values(
                    state="graded",
                    payload=payload.text,
                    score=payload.score,
                    max_score=payload.max_score,
                    kit_version=payload.kit_version,
                    graded_at=now(),
                    reason=None,
                )
            )
            if done.rowcount != 1:
                return False
            record_steps(conn, claim.submission_id, claim.member_id, payload)
            return True

        return self.write(work)

    def fail(self, claim: Claim, reason: str) -> bool:
        """The submission could not be graded (not the learner's mistakes: those are results)."""

        def work(conn):
            line = reason.splitlines()[0][:500] if reason else "failed"
            done = conn.execute(_still_mine(claim).values(state="failed", reason=line, graded_at=now()))
            return done.rowcount == 1

        return self.write(work)

    def requeue_dead(self, alive=None) -> int:
        """Put back in the queue what a dead local worker (this host, pid gone) was grading."""
        host = socket.gethostname()
        alive = alive or _pid_alive

        def work(conn):
            rows = conn.execute(
                select(submissions.c.id, submissions.c.worker).where(submissions.c.state == "grading")
            ).all()
            dead = [r.id for r in rows if (r.worker or "").rpartition(":")[0] == host and not alive(r.worker)]
            if dead:
                conn.execute(update(submissions).where(submissions.c.id.in_(dead)).values(state="queued", worker=None))
            return len(dead)

        return self.write(work)


def _check_cooldown(conn, member_id: int) -> None:
    wait = cooldown_s(conn)
    if not wait:
        return
    last = conn.execute(
        select(submissions.c.created_at)
        .where(submissions.c.member_id == member_id, submissions.c.origin == "verified")
        .order_by(submissions.c.id.desc())
        .limit(1)
    ).scalar()
    if last is None:
        return
    ready = as_utc(last) + timedelta(seconds=wait)
    left = (ready - now()).total_seconds()
    if left > 0:
        raise TooSoon(
            f"too soon: this board takes one submission every {wait} s per member; "
            f"try again in {int(left) + 1} s (at {ready:%H:%M:%S} UTC)",
            int(left) + 1,
        )


def _still_mine(claim: Claim):
    """An update of the claimed row only while this attempt still holds it."""
    return update(submissions).where(
        submissions.c.id == claim.submission_id,
        submissions.c.state == "grading",
        submissions.c.attempts == claim.attempt,
    )


def _take(conn, submission_id: int, worker: str) -> Claim | None:
    """The row, now `grading` by `worker` (one more attempt); None when finished, or when it has
    had its MAX_ATTEMPTS (then it is `failed`, with the reason)."""
    spent = conn.execute(
        update(submissions)
        .where(
            submissions.c.id == submission_id,
            submissions.c.state.in_(("queued", "grading")),
            submissions.c.attempts >= MAX_ATTEMPTS,
        )
        .values(
            state="failed",
            graded_at=now(),
            reason=f"grading stopped {MAX_ATTEMPTS} times before it finished (a worker died or the database "
            "went away each time): tell the organiser, then send it again",
        )
    )
    if spent.rowcount:
        return None
    row = conn.execute(
        update(submissions)
        .where(submissions.c.id == submission_id, submissions.c.state.in_(("queued", "grading")))
        .values(state="grading", attempts=submissions.c.attempts + 1, worker=worker, started_at=now())
        .returning(submissions.c.member_id, submissions.c.kind, submissions.c.code, submissions.c.attempts)
    ).first()
    if row is None:
        return None
    name = conn.execute(select(members.c.name).where(members.c.id == row.member_id)).scalar()
    return Claim(submission_id, row.member_id, row.kind, json.loads(row.code or "{}"), row.attempts, name or "")


def _pid_alive(worker: str) -> bool:
    try:
        os.kill(int(worker.rpartition(":")[2]), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True
