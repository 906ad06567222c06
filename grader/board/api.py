"""The board's HTTP API (FastAPI): a member sends code or quiz answers with a token, and follows them.

A member holds the board's URL and their token, never the database's password: every request
that is a member's carries `Authorization: Bearer TOKEN`, and the member is always the token's
(identity.py, as for the CLI and the page). What is sent goes through the same checks as
`fastgroup submit` (grader/board/code.py) into the board's one intake (intake.py), so the API,
the page's upload and the organiser's own `submit` store and queue alike. The routes are
module-level functions on `router`, each naming what it needs as a dependency (current_member,
store_of, intake_of); make_api puts the router, the Gate and the refusals together. A new way in
(a login) is a function in identity.py and a route here.
Every refusal is one line in `detail`, with the status code that says who must act: 400 what was
sent, 401 the token, 404 not the member's submission, 413 too large, 422 not the API's shape,
429 the cooldown (Retry-After), 500 the board's own fault, 503 the database (nothing stored).
The token is checked before a byte of the body is read, and the body is counted while it streams
(Gate). The OpenAPI document is FastAPI's, from this code (/api/v1/openapi.json).
"""

import json
import os
import sys
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from grader.board import code, identity
from grader.board.identity import Member
from grader.board.intake import Intake
from grader.board.queries import SubmissionRow
from grader.board.refusals import DatabaseAway, NotFound, TokenRefused, TooSoon
from grader.board.store import Store
from grader.core.errors import KitError
from grader.core.version import __version__

PREFIX = "/api/v1"
MAX_REQUEST_BYTES = 2 * code.MAX_TOTAL_BYTES  # the code's own cap, with room for JSON's escapes
STATUS = {TokenRefused: 401, NotFound: 404, TooSoon: 429, DatabaseAway: 503}
MAX_ID = 2**31 - 1  # the store's ids are INTEGER (32-bit on PostgreSQL): a larger one never reaches it
MEMBERS_ONLY = (f"{PREFIX}/submissions", f"{PREFIX}/me")  # paths that take a token (and the only ones with a body)
TOO_LARGE = (f"the request is over {MAX_REQUEST_BYTES:,} bytes: send only your step modules "
             f"(each under {code.MAX_FILE_BYTES:,} bytes)")


class NewSubmission(BaseModel):
    """Code to grade (step modules by name) or quiz answers (one .toml or .json file)."""

    kind: Literal["grade", "quiz"] = "grade"
    files: dict[str, str] = Field(description="file name -> its text: mnist_loss.py, ... or answers.toml")
    source: str | None = Field(None, max_length=1000,
                               description='where it came from: "exercises", "ch4.ipynb" (kept as its last part)')


class StepPoints(BaseModel):
    points: float
    max_points: float


class Submission(BaseModel):
    """A submission as its member sees it: its state, and its results once graded."""

    id: int
    kind: str
    state: Literal["queued", "grading", "graded", "failed"]
    origin: str
    source: str | None = Field(None, description='where it came from: "exercises", "ch4.ipynb"')
    reason: str | None = Field(None, description="failed: why, in one line")
    attempts: int
    created_at: datetime
    graded_at: datetime | None = None
    score: float | None = None
    max_score: float | None = None
    queue_position: int | None = Field(None, description="queued: submissions ahead of it")
    steps: dict[str, StepPoints] | None = Field(None, description="graded code: points per step")
    results: dict | None = Field(None, description="the results JSON, once graded")


class Me(BaseModel):
    member: str
    best_grade: float | None
    best_quiz: float | None
    submissions: list[Submission]


class BoardRow(BaseModel):
    rank: int
    name: str
    points: int | None
    max_points: int | None
    steps_completed: int
    steps_total: int
    best_accuracy: float | None
    quiz: int | None
    submissions: int
    last_activity: datetime | None


class Board(BaseModel):
    members: list[BoardRow]
    queued: int
    grading: int


bearer = HTTPBearer(auto_error=False, description="the token the organiser gave you")


def current_member(request: Request, _shown: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Member:
    """The member this request is: the Gate proved it from the headers (identity.py) before any body
    byte was read; `_shown` puts the bearer scheme in the OpenAPI document."""
    who = getattr(request.state, "member", None)
    if who is None:
        raise TokenRefused(identity.NO_BEARER)
    return who


def store_of(request: Request) -> Store:
    return request.app.state.store


def intake_of(request: Request) -> Intake:
    return request.app.state.intake


Who = Annotated[Member, Depends(current_member)]
Opened = Annotated[Store, Depends(store_of)]
router = APIRouter(prefix=PREFIX)


@router.post("/submissions", status_code=202, response_model=Submission)
def submit(body: NewSubmission, who: Who, store: Opened, intake: Annotated[Intake, Depends(intake_of)]) -> Submission:
    """Queue code or quiz answers for grading; the member is the token's."""
    files = code.from_request(body.kind, body.files)
    receipt = intake.take(who, body.kind, files, body.source, via="the API")
    return _submission(store, store.submission(receipt.submission_id)[0], None)


@router.get("/submissions/{submission_id}", response_model=Submission)
def one(submission_id: Annotated[int, Path(ge=1, le=MAX_ID)], who: Who, store: Opened) -> Submission:
    """One of the member's submissions: its state, the reason it failed, its results once graded."""
    found = store.submission(submission_id, member_id=who.id)
    if found is None:
        raise NotFound(f"no submission #{submission_id} of yours: `fastgroup status` lists them")
    return _submission(store, *found)


@router.get("/me", response_model=Me)
def me(who: Who, store: Opened) -> Me:
    """The member's submissions (newest first) and their best verified scores."""
    rows = store.history(who.id)
    best = {kind: max((r.score for r in rows if r.kind == kind and _verified(r)), default=None)
            for kind in ("grade", "quiz")}
    return Me(member=who.name, best_grade=best["grade"], best_quiz=best["quiz"],
              submissions=[_submission(store, r, None) for r in rows])


@router.get("/board", response_model=Board)
def board(store: Opened) -> Board:
    """The public board: every member's rank (ties share one), points and steps; no token needed."""
    waiting = store.waiting()
    rows = [
        BoardRow(rank=r.rank, name=r.name, points=_whole(r.points), max_points=_whole(r.max_points),
                 steps_completed=r.steps_completed, steps_total=r.steps_total, best_accuracy=r.best_accuracy,
                 quiz=_whole(r.quiz), submissions=r.submissions, last_activity=r.last_activity)
        for r in store.leaderboard()
    ]
    return Board(members=rows, queued=waiting["queued"], grading=waiting["grading"])


async def kit_error(_request, err: KitError):
    return _kit_refusal(err)


async def not_our_shape(_request, err: RequestValidationError):
    first = err.errors()[0] if err.errors() else {}
    if first.get("loc", ("body",))[0] == "path":
        return _refusal(422, f"no such submission id ({str(first.get('input'))[:40]}): a submission's id is a "
                             f"whole number from 1 to {MAX_ID}; `fastgroup status` lists yours")
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "the body"
    return _refusal(422, f"the request is not what this API takes ({where}: {first.get('msg', 'invalid')}): "
                         'send JSON {"kind": "grade" or "quiz", "files": {"NAME": "TEXT"}}')


async def broken(_request, err: Exception):  # a fault of the board's, still one line of JSON
    return _refusal(500, f"the board failed ({type(err).__name__}): tell the organiser; nothing was stored")


def make_api(db_url: str | None = None, log=print) -> FastAPI:
    """The API on the store at db_url (else FASTGROUP_DB_URL); `log` gets one line per arrival."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.store = Store.open(db_url)
        app.state.intake = Intake(app.state.store, log)
        try:
            yield
        finally:
            app.state.intake.close()
            app.state.store.close()

    api = FastAPI(
        title="fastgroup board",
        version=__version__,
        description="Send chapter 4 code or quiz answers to the group's board, and follow their grading.",
        lifespan=lifespan,
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
    )
    api.add_middleware(Gate)
    api.add_exception_handler(KitError, kit_error)
    api.add_exception_handler(RequestValidationError, not_our_shape)
    api.add_exception_handler(Exception, broken)
    api.include_router(router)
    return api


def from_environment() -> FastAPI:
    """uvicorn's factory (`fastgroup leaderboard` starts it): the store at FASTGROUP_DB_URL."""
    return make_api(os.environ.get("FASTGROUP_DB_URL"), log=lambda line: print(line, file=sys.stdout, flush=True))


def _submission(store: Store, row: SubmissionRow, payload: str | None) -> Submission:
    results = json.loads(payload) if payload else None
    steps = None
    if results and row.kind == "grade":
        steps = {}
        for test in results.get("tests", []):
            step = (test.get("tags") or ["?"])[0]
            got = steps.setdefault(step, StepPoints(points=0, max_points=0))
            got.points += test.get("score") or 0
            got.max_points += test.get("max_score") or 0
    return Submission(
        id=row.submission_id, kind=row.kind, state=row.state, origin=row.origin, source=row.source, reason=row.reason,
        attempts=row.attempts, created_at=row.created_at, graded_at=row.graded_at, score=row.score,
        max_score=row.max_score, queue_position=store.ahead_of(row.submission_id) if row.state == "queued" else None,
        steps=steps, results=results,
    )  # fmt: skip


def _verified(row: SubmissionRow) -> bool:
    return row.state == "graded" and row.origin == "verified"


def _whole(value: float | None) -> int | None:
    return None if value is None else round(value)


class Gate:
    """The door every request passes before FastAPI sees it (a pure ASGI middleware): the token of a
    member's path is checked from the headers before one byte of the body is read, then the body is
    read here, counted as it streams (chunked or not, whatever Content-Length claims), and refused
    with 413 as soon as it passes MAX_REQUEST_BYTES; never more than that is held. What a refused
    client still sends, uvicorn reads and drops (its response is complete), keeping nothing.

    FastAPI reads and parses a body before it runs an endpoint's dependencies, so a dependency
    cannot be the door."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v for k, v in scope["headers"]}
        if scope["path"].startswith(MEMBERS_ONLY):
            try:
                store = scope["app"].state.store  # the lifespan opened it
                scope.setdefault("state", {})["member"] = await run_in_threadpool(identity.from_headers, store, headers)
            except KitError as err:
                return await _kit_refusal(err)(scope, receive, send)
        length = headers.get("content-length", b"0")
        if not length.isdigit() or int(length) > MAX_REQUEST_BYTES:
            return await _refusal(413, TOO_LARGE)(scope, receive, send)
        whole, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None  # the client went away: nothing to answer
            whole += message.get("body", b"")
            more = message.get("more_body", False)
            if len(whole) > MAX_REQUEST_BYTES:
                return await _refusal(413, TOO_LARGE)(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()  # a disconnect, in time
            replayed = True
            return {"type": "http.request", "body": bytes(whole), "more_body": False}

        return await self.app(scope, replay, send)


def _kit_refusal(err: KitError) -> JSONResponse:
    """A KitError as the API answers it: the status that says who acts, and its one line."""
    status = next((s for kind, s in STATUS.items() if isinstance(err, kind)), 400)
    headers = {"Retry-After": str(err.retry_after)} if isinstance(err, TooSoon) else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return _refusal(status, str(err), headers)


def _refusal(status: int, line: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"detail": line.splitlines()[0] if line else "refused"}, status_code=status, headers=headers)
