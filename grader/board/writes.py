"""Writing to the store: members and their tokens, and results that arrive already graded.

The member of a submission is always the one whose token hashes to the stored SHA-256; a name
carried by a request is never trusted. A self-reported result (computed on the member's machine)
is stored only where the organiser allows it (`fastgroup board --accept-self-reported`), and
apart from the verified ones; code to be graded goes through queue.py instead.
"""

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from grader.board.clock import now
from grader.board.db import Transactions
from grader.board.identity import Member, active, token_hash
from grader.board.payload import Payload, parse_payload
from grader.board.schema import MAX_NAME_LENGTH, members, settings, submission_steps, submissions
from grader.core.errors import KitError


@dataclass(frozen=True)
class Receipt:
    """What a stored submission looked like, for the confirmation line."""

    submission_id: int
    member: str
    kind: str
    score: float | None  # None while queued
    max_score: float | None
    origin: str = "verified"
    member_id: int | None = None
    source: str | None = None  # where the code came from ("exercises", "ch4.ipynb")


class Writes(Transactions):
    """The store's writes (a part of Store)."""

    def add_member(self, name: str) -> str:
        """Add a member (or bring back a removed one) and return their new token."""
        name = _clean_name(name)
        token = secrets.token_urlsafe(32)
        digest = token_hash(token)

        def work(conn):
            row = conn.execute(select(members.c.id, members.c.removed_at).where(members.c.name == name)).first()
            if row is None:
                conn.execute(insert(members).values(name=name, token_sha256=digest, created_at=now()))
            elif row.removed_at is None:
                raise KitError(
                    f"member '{name}' already exists: choose another name, or "
                    f"`fastgroup members remove` then `add` to issue a new token"
                )
            else:
                conn.execute(update(members).where(members.c.id == row.id).values(token_sha256=digest, removed_at=None))

        self.write(work)
        return token

    def remove_member(self, name: str) -> None:
        """Remove a member: their token stops working, their submissions are kept."""

        def work(conn):
            done = conn.execute(
                update(members).where(members.c.name == name, members.c.removed_at.is_(None)).values(removed_at=now())
            )
            if done.rowcount != 1:
                raise KitError(f"no member named '{name}': see `fastgroup members list` for the names")

        self.write(work)

    def submit(self, who: Member | str, raw: bytes | str | Payload) -> Receipt:
        """Store a self-reported results payload for the member whose token this is.

        Refused unless the organiser accepts self-reported results; shown apart when stored.
        """
        payload = raw if isinstance(raw, Payload) else parse_payload(raw, self_reported=True)

        def work(conn):
            member = active(conn, who)
            if not _accepts_self_reported(conn):
                raise KitError(
                    "this board ranks only what it grades itself: send your code with `fastgroup submit` "
                    "(answers: --quiz), or ask the organiser for `fastgroup board --accept-self-reported`"
                )
            return _insert_submission(conn, member, payload, "self-reported")

        return self.write(work)

    def set_accept_self_reported(self, accept: bool) -> None:
        """The organiser's choice: whether `submit --results` grades are stored (apart) at all."""

        def work(conn):
            conn.execute(delete(settings).where(settings.c.key == SELF_REPORTED_KEY))
            conn.execute(insert(settings).values(key=SELF_REPORTED_KEY, value="yes" if accept else "no"))

        self.write(work)

    def accepts_self_reported(self) -> bool:
        return self.read(_accepts_self_reported)

    def set_cooldown(self, seconds: int) -> None:
        """The organiser's choice: how long a member waits between two submissions (0: no wait)."""
        if seconds < 0:
            raise KitError("the cooldown is a number of seconds, 0 or more: e.g. --cooldown 60")

        def work(conn):
            conn.execute(delete(settings).where(settings.c.key == COOLDOWN_KEY))
            conn.execute(insert(settings).values(key=COOLDOWN_KEY, value=str(int(seconds))))

        self.write(work)

    def cooldown(self) -> int:
        return self.read(cooldown_s)

    def submit_as_member(self, name: str, raw: bytes | str | Payload) -> Receipt | None:
        """Organiser side only: store a payload for the member called `name`, without a token.

        For grades the organiser computed centrally (`fastgroup nbgrader import`), never for a
        request from a learner. Returns None, storing nothing, when the member already has a
        submission with exactly this payload, so that importing twice is harmless.
        """
        payload = raw if isinstance(raw, Payload) else parse_payload(raw)

        def work(conn):
            member = conn.execute(
                select(members.c.id, members.c.name).where(members.c.name == name, members.c.removed_at.is_(None))
            ).first()
            if member is None:
                raise KitError(f"no member named '{name}': add them with `fastgroup members add {name}`")
            seen = conn.execute(
                select(submissions.c.id).where(
                    submissions.c.member_id == member.id, submissions.c.payload == payload.text
                )
            ).first()
            return None if seen else _insert_submission(conn, member, payload, "verified")

        return self.write(work)


SELF_REPORTED_KEY = "accept_self_reported"
COOLDOWN_KEY = "cooldown_s"


def cooldown_s(conn) -> int:
    """Seconds between a member's submissions; default 0 (none)."""
    value = conn.execute(select(settings.c.value).where(settings.c.key == COOLDOWN_KEY)).scalar()
    return int(value) if value and value.isdigit() else 0


def _accepts_self_reported(conn) -> bool:
    """Default: not accepted (the board ranks what it graded itself)."""
    return conn.execute(select(settings.c.value).where(settings.c.key == SELF_REPORTED_KEY)).scalar() == "yes"


def _insert_submission(conn, member, payload: Payload, origin: str) -> Receipt:
    """Append one validated, already graded submission (and, when verified, its per-step rows)."""
    stamp = now()
    submission_id = conn.execute(
        insert(submissions)
        .values(
            member_id=member.id,
            kind=payload.kind,
            origin=origin,
            state="graded",
            attempts=0,
            payload=payload.text,
            score=payload.score,
            max_score=payload.max_score,
            kit_version=payload.kit_version,
            created_at=stamp,
            graded_at=stamp,
        )
        .returning(submissions.c.id)
    ).scalar_one()
    if origin == "verified":
        record_steps(conn, submission_id, member.id, payload)
    return Receipt(submission_id, member.name, payload.kind, payload.score, payload.max_score, origin)


def record_steps(conn, submission_id: int, member_id: int, payload: Payload) -> None:
    """The per-step rows the board counts completed steps from (verified results only)."""
    if payload.steps:
        conn.execute(
            insert(submission_steps),
            [
                {
                    "submission_id": submission_id,
                    "step_id": s.step_id,
                    "member_id": member_id,
                    "completed": s.completed,
                    "accuracy": s.accuracy,
                }
                for s in payload.steps
            ],
        )


def _clean_name(name: str) -> str:
    """Names are shown to everyone: one printable line, not too long."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise KitError(f"a member name must be 1 to {MAX_NAME_LENGTH} printable characters on one line")
    return name


