"""The board's reads: the leaderboard, charts' series and a member's page.

Every query reads the covering indexes and the per-step rows, never the (large) payloads,
except the latest grade and quiz payloads a member page shows. The ranking counts verified,
graded results only; self-reported ones have a list of their own. A step never completed whose
file is still its stub in the member's latest grade is "not started", as `fastgroup list` says,
never "attempted".
"""

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import and_, case, func, select

from grader.board.clock import as_utc
from grader.board.db import Transactions
from grader.board.schema import members, submission_steps, submissions
from grader.core import steps
from grader.core.errors import KitError
from grader.core.results import Results


@dataclass(frozen=True)
class BoardRow:
    """One member's line on the leaderboard."""

    name: str
    points: float | None  # best grade submission's score
    max_points: float | None  # ... and its maximum
    steps_completed: int  # core steps completed in any grade submission
    steps_total: int
    best_accuracy: float | None  # highest accuracy over the training steps
    accuracies: dict[str, float]  # training step -> best accuracy
    quiz: float | None  # best quiz score (out of the quiz's size)
    submissions: int
    last_activity: datetime | None
    rank: int = 0  # 1 for the best; members tied on points and steps share a rank (1, 1, 3)


@dataclass(frozen=True)
class StepStatus:
    step_id: str
    title: str
    status: str  # 'completed' | 'attempted' | 'not started' (never graded, or still its stub)
    best_accuracy: float | None


@dataclass(frozen=True)
class SubmissionRow:
    submission_id: int
    kind: str
    score: float | None  # None until graded
    max_score: float | None
    kit_version: str | None
    created_at: datetime
    state: str = "graded"
    origin: str = "verified"
    reason: str | None = None
    attempts: int = 0
    graded_at: datetime | None = None
    source: str | None = None  # where the code came from: "exercises", "ch4.ipynb" (a label, never a path)


@dataclass(frozen=True)
class QueueRow:
    """A submission waiting or being graded: the page's queue view."""

    submission_id: int
    member: str
    kind: str
    state: str  # queued | grading
    created_at: datetime
    started_at: datetime | None  # the latest attempt's start (grading)
    attempts: int
    worker: str | None
    source: str | None = None  # "exercises", "ch4.ipynb"


@dataclass(frozen=True)
class SelfReportedRow:
    """A member's best self-reported result of one kind: shown apart, never ranked."""

    name: str
    kind: str
    score: float
    max_score: float
    last: datetime | None


@dataclass(frozen=True)
class MemberDetail:
    name: str
    steps: list[StepStatus]
    history: list[SubmissionRow]  # newest first
    latest_grade_payload: str | None  # the JSON text as submitted (validated), for display
    latest_quiz_payload: str | None = None  # the latest verified quiz result's JSON text



# A SubmissionRow's columns, in its fields' order.
ROW_COLUMNS = (
    submissions.c.id,
    submissions.c.kind,
    submissions.c.score,
    submissions.c.max_score,
    submissions.c.kit_version,
    submissions.c.created_at,
    submissions.c.state,
    submissions.c.origin,
    submissions.c.reason,
    submissions.c.attempts,
    submissions.c.graded_at,
    submissions.c.source,
)
VERIFIED = and_(submissions.c.state == "graded", submissions.c.origin == "verified")


class Queries(Transactions):
    """The board's reads (a part of Store)."""

    def member_names(self) -> list[str]:
        query = select(members.c.name).where(members.c.removed_at.is_(None)).order_by(members.c.name)
        return self.read(lambda conn: list(conn.execute(query).scalars()))

    def member_id(self, name: str) -> int:
        query = select(members.c.id).where(members.c.name == name)
        return self.read(lambda conn: conn.execute(query).scalar_one())

    def counts(self) -> dict[str, int]:
        """How many rows each table holds (tests check that a refusal wrote nothing)."""

        def work(conn):
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (members, submissions, submission_steps)
            }

        return self.read(work)

    def leaderboard(self) -> list[BoardRow]:
        """One row per active member, best points first."""
        core = [s.id for s in steps.STEPS if not s.bonus]
        training = [s.id for s in steps.STEPS if s.trains]
        active = members.c.removed_at.is_(None)

        ranked = (
            select(
                submissions.c.member_id,
                submissions.c.score,
                submissions.c.max_score,
                func.row_number()
                .over(
                    partition_by=submissions.c.member_id,
                    order_by=(submissions.c.score.desc(), submissions.c.id.desc()),
                )
                .label("rank"),
            )
            .where(submissions.c.kind == "grade", VERIFIED)
            .subquery()
        )
        best_grade = select(ranked.c.member_id, ranked.c.score, ranked.c.max_score).where(ranked.c.rank == 1)
        activity = select(
            submissions.c.member_id,
            func.count().label("n"),
            func.max(submissions.c.created_at).label("last"),
            func.max(case((and_(submissions.c.kind == "quiz", VERIFIED), submissions.c.score))).label("quiz"),
        ).group_by(submissions.c.member_id)
        completed = (
            select(
                submission_steps.c.member_id,
                func.count(submission_steps.c.step_id.distinct()).label("n"),
            )
            .where(submission_steps.c.completed.is_(True), submission_steps.c.step_id.in_(core))
            .group_by(submission_steps.c.member_id)
        )
        accuracy = (
            select(
                submission_steps.c.member_id,
                submission_steps.c.step_id,
                func.max(submission_steps.c.accuracy).label("acc"),
            )
            .where(submission_steps.c.accuracy.is_not(None), submission_steps.c.step_id.in_(training))
            .group_by(submission_steps.c.member_id, submission_steps.c.step_id)
        )

        def work(conn):
            people = conn.execute(select(members.c.id, members.c.name).where(active)).all()
            best = {r.member_id: r for r in conn.execute(best_grade)}
            acts = {r.member_id: r for r in conn.execute(activity)}
            done = {r.member_id: r.n for r in conn.execute(completed)}
            accs: dict[int, dict[str, float]] = defaultdict(dict)
            for r in conn.execute(accuracy):
                accs[r.member_id][r.step_id] = r.acc
            return people, best, acts, done, accs

        people, best, acts, done, accs = self.read(work)
        rows = []
        for person in people:
            grade, act = best.get(person.id), acts.get(person.id)
            member_accs = {s: accs[person.id][s] for s in training if s in accs.get(person.id, {})}
            rows.append(
                BoardRow(
                    name=person.name,
                    points=grade.score if grade else None,
                    max_points=grade.max_score if grade else None,
                    steps_completed=done.get(person.id, 0),
                    steps_total=len(core),
                    best_accuracy=max(member_accs.values()) if member_accs else None,
                    accuracies=member_accs,
                    quiz=act.quiz if act else None,
                    submissions=act.n if act else 0,
                    last_activity=as_utc(act.last) if act else None,
                )
            )
        rows.sort(key=lambda r: (-(r.points or 0), -r.steps_completed, -(r.quiz or 0), r.name))
        return with_ranks(rows)

    def points_over_time(self) -> list[tuple[str, datetime, float]]:
        """(member, time, best grade score so far) at each grade submission of active members."""
        query = (
            select(members.c.name, submissions.c.created_at, submissions.c.score)
            .join(members, members.c.id == submissions.c.member_id)
            .where(submissions.c.kind == "grade", VERIFIED, members.c.removed_at.is_(None))
            .order_by(members.c.name, submissions.c.id)
        )
        rows = self.read(lambda conn: conn.execute(query).all())
        out, best = [], {}
        for name, created_at, score in rows:
            best[name] = max(best.get(name, score), score)
            out.append((name, as_utc(created_at), best[name]))
        return out

    def step_completion(self) -> list[tuple[str, int]]:
        """(step id, number of active members who completed it), in chapter order."""
        query = (
            select(
                submission_steps.c.step_id,
                func.count(submission_steps.c.member_id.distinct()),
            )
            .join(members, members.c.id == submission_steps.c.member_id)
            .where(submission_steps.c.completed.is_(True), members.c.removed_at.is_(None))
            .group_by(submission_steps.c.step_id)
        )
        counts = dict(self.read(lambda conn: conn.execute(query).all()))
        return [(step.id, counts.get(step.id, 0)) for step in steps.STEPS]

    def quiz_scores(self) -> list[float]:
        """Each active member's best quiz score (members who never took it are left out)."""
        query = (
            select(func.max(submissions.c.score))
            .join(members, members.c.id == submissions.c.member_id)
            .where(submissions.c.kind == "quiz", VERIFIED, members.c.removed_at.is_(None))
            .group_by(submissions.c.member_id)
        )
        return self.read(lambda conn: list(conn.execute(query).scalars()))

    def member_detail(self, name: str) -> MemberDetail:
        """A member's per-step status and submission history."""
        done = func.max(case((submission_steps.c.completed.is_(True), 1), else_=0))

        def work(conn):
            member_id = conn.execute(
                select(members.c.id).where(members.c.name == name, members.c.removed_at.is_(None))
            ).scalar()
            if member_id is None:
                raise KitError(f"no member named '{name}'")
            per_step = conn.execute(
                select(
                    submission_steps.c.step_id,
                    done.label("done"),
                    func.max(submission_steps.c.accuracy).label("acc"),
                )
                .where(submission_steps.c.member_id == member_id)
                .group_by(submission_steps.c.step_id)
            ).all()
            history = conn.execute(
                select(*ROW_COLUMNS)
                .where(submissions.c.member_id == member_id)
                .order_by(submissions.c.id.desc())
            ).all()
            latest = {
                kind: conn.execute(
                    select(submissions.c.payload)
                    .where(submissions.c.member_id == member_id, submissions.c.kind == kind, VERIFIED)
                    .order_by(submissions.c.id.desc())
                    .limit(1)
                ).scalar()
                for kind in ("grade", "quiz")
            }
            return per_step, history, latest

        per_step, history, latest = self.read(work)
        seen = {r.step_id: r for r in per_step}
        stubs = untouched_steps(latest["grade"])
        statuses = []
        for step in steps.STEPS:
            row = seen.get(step.id)
            status = "completed" if row is not None and row.done else \
                "not started" if row is None or step.id in stubs else "attempted"
            statuses.append(StepStatus(step.id, step.title, status, row.acc if row else None))
        return MemberDetail(
            name=name,
            steps=statuses,
            history=[_submission_row(r) for r in history],
            latest_grade_payload=latest["grade"],
            latest_quiz_payload=latest["quiz"],
        )

    def self_reported(self) -> list[SelfReportedRow]:
        """Each active member's best self-reported result per kind, best first: the list apart."""
        query = (
            select(
                members.c.name,
                submissions.c.kind,
                func.max(submissions.c.score),
                func.max(submissions.c.max_score),
                func.max(submissions.c.created_at),
            )
            .join(members, members.c.id == submissions.c.member_id)
            .where(submissions.c.origin == "self-reported", members.c.removed_at.is_(None))
            .group_by(members.c.name, submissions.c.kind)
        )
        rows = [SelfReportedRow(n, k, s, m, as_utc(t)) for n, k, s, m, t in self.read(lambda c: c.execute(query).all())]
        return sorted(rows, key=lambda r: (r.kind, -r.score, r.name))

    def waiting(self) -> dict[str, int]:
        """How many submissions are queued and grading (the page's line about the queue)."""
        query = (
            select(submissions.c.state, func.count())
            .where(submissions.c.state.in_(("queued", "grading")))
            .group_by(submissions.c.state)
        )
        found = dict(self.read(lambda conn: conn.execute(query).all()))
        return {"queued": found.get("queued", 0), "grading": found.get("grading", 0)}

    def submission(self, submission_id: int, member_id: int | None = None) -> tuple[SubmissionRow, str | None] | None:
        """One submission's row and its results JSON (once graded): what its member sees.

        With `member_id`, only that member's submission (another's is None, as a missing one)."""
        query = select(*ROW_COLUMNS, submissions.c.payload).where(submissions.c.id == submission_id)
        if member_id is not None:
            query = query.where(submissions.c.member_id == member_id)
        row = self.read(lambda conn: conn.execute(query).first())
        if row is None:
            return None
        return _submission_row(row), row[len(ROW_COLUMNS)]

    def history(self, member_id: int) -> list[SubmissionRow]:
        """A member's submissions, newest first."""
        query = select(*ROW_COLUMNS).where(submissions.c.member_id == member_id).order_by(submissions.c.id.desc())
        return [_submission_row(r) for r in self.read(lambda conn: conn.execute(query).all())]

    def ahead_of(self, submission_id: int) -> int:
        """How many queued submissions were sent before this one (its place in the queue)."""
        query = select(func.count()).where(submissions.c.state == "queued", submissions.c.id < submission_id)
        return self.read(lambda conn: conn.execute(query).scalar_one())

    def queue(self) -> list[QueueRow]:
        """Every submission queued or grading, oldest first: who waits, since when, on which worker."""
        query = (
            select(
                submissions.c.id,
                members.c.name,
                submissions.c.kind,
                submissions.c.state,
                submissions.c.created_at,
                submissions.c.started_at,
                submissions.c.attempts,
                submissions.c.worker,
                submissions.c.source,
            )
            .join(members, members.c.id == submissions.c.member_id)
            .where(submissions.c.state.in_(("queued", "grading")))
            .order_by(submissions.c.id)
        )
        rows = self.read(lambda conn: conn.execute(query).all())
        return [QueueRow(r[0], r[1], r[2], r[3], as_utc(r[4]), as_utc(r[5]), r[6], r[7], r[8]) for r in rows]


class GroupReads(Transactions):
    """What the next meetup's agenda (agenda.py) reads: each member's latest verified payloads and
    the steps each has completed."""

    def latest_payloads(self, kind: str) -> dict[str, str]:
        """Active member name -> the results JSON of their latest verified submission of `kind`."""
        ranked = (
            select(
                members.c.name,
                submissions.c.payload,
                func.row_number()
                .over(partition_by=submissions.c.member_id, order_by=submissions.c.id.desc())
                .label("newest"),
            )
            .join(members, members.c.id == submissions.c.member_id)
            .where(submissions.c.kind == kind, VERIFIED, members.c.removed_at.is_(None))
            .subquery()
        )
        query = select(ranked.c.name, ranked.c.payload).where(ranked.c.newest == 1)
        return dict(self.read(lambda conn: conn.execute(query).all()))

    def completed_steps(self) -> dict[str, set[str]]:
        """Active member name -> the steps they completed in any verified grade (members with none: empty)."""
        query = (
            select(members.c.name, submission_steps.c.step_id)
            .join(members, members.c.id == submission_steps.c.member_id)
            .where(submission_steps.c.completed.is_(True), members.c.removed_at.is_(None))
            .distinct()
        )
        active = select(members.c.name).where(members.c.removed_at.is_(None))

        def work(conn):
            return list(conn.execute(active).scalars()), conn.execute(query).all()

        names, done = self.read(work)
        found: dict[str, set[str]] = {name: set() for name in names}
        for name, step in done:
            found[name].add(step)
        return found


def untouched_steps(payload: str | None) -> set[str]:
    """The steps a grade's payload reports as not started (the file still its stub): every check
    of the step is one the judge found not started (Results.not_started_checks)."""
    try:
        results = Results.model_validate_json(payload or "{}")
    except ValueError:
        return set()
    stubs, by_step = results.not_started_checks(), defaultdict(list)
    for test in results.tests:
        by_step[test.tags[0] if test.tags else None].append(test.number in stubs)
    return {step for step, stub in by_step.items() if step and stub and all(stub)}


def with_ranks(rows: list[BoardRow]) -> list[BoardRow]:
    """Competition ranks over sorted rows: equal points and steps completed share a rank."""
    ranked, previous = [], None
    for place, row in enumerate(rows, start=1):
        key = (row.points or 0, row.steps_completed)
        rank = ranked[-1].rank if key == previous else place
        ranked.append(replace(row, rank=rank))
        previous = key
    return ranked


def _submission_row(r) -> SubmissionRow:
    """A SubmissionRow from a row that starts with ROW_COLUMNS."""
    n = len(ROW_COLUMNS)
    values = list(r[:n])
    values[5], values[10] = as_utc(values[5]), as_utc(values[10])
    return SubmissionRow(*values)
