"""`fastgroup submit`: send code (or quiz answers) to be graded by the organiser's side.

A member sends to the board's URL with their token (`--board URL` or FASTGROUP_BOARD_URL: the
HTTP API, client.py) and follows the grade until it is done; only the organiser's own machine,
which holds the database, queues straight into the store (`queue_submission`, also the page's
upload). `submit_results` is the old self-reported path (`--results FILE`), stored apart and
only where the organiser accepts it. Either way the member is the token's, never a name.
"""

from datetime import UTC, datetime
from pathlib import Path

from grader.board import code, identity
from grader.board.client import BoardClient, board_url
from grader.board.intake import Intake, label
from grader.board.payload import MAX_PAYLOAD_BYTES, parse_payload
from grader.board.store import Store
from grader.board.writes import Receipt
from grader.core.errors import KitError
from grader.core.files import read_capped
from grader.core.home import default_source, latest_results_path
from grader.core.results import Results
from grader.core.steps import STEP_IDS


def default_results_path() -> Path:
    """The newer of the latest grade and quiz results."""
    found = [p for p in (latest_results_path("grade"), latest_results_path("quiz")) if p.is_file()]
    if not found:
        raise KitError(
            "no results to submit yet: run `fastgroup grade` or `fastgroup quiz` first, or pass --results FILE"
        )
    return max(found, key=lambda p: p.stat().st_mtime)


def describe(payload) -> list[str]:
    """What a payload holds, one line per step (points, when graded), for the learner to see first."""
    results = Results.model_validate_json(payload.text)
    if payload.kind == "quiz":
        return [f"Sending: quiz result {results.score:g}/{results.max_score:g}."]
    lines = [f"Sending: grade {results.score:g}/{results.max_score:g} points, step by step:"]
    runs = results.extra_data.step_runs
    points = results.step_points()
    for step, (got, out_of) in points.items():
        run = runs.get(step)
        when = f"graded {_when(run.graded_at)}" if run else ""
        quick = " (--quick: training not run yet)" if run and run.quick else ""
        lines.append(f"  {step:<18} {got:g}/{out_of:g}  {when}{quick}".rstrip())
    missing = [s for s in STEP_IDS if s not in points]
    if missing:
        lines.append(f"  not graded yet: {', '.join(missing)}")
    return lines


def queue_submission(files: dict[str, str], kind: str, token: str | None, db_url: str | None = None,
                     source: str | None = None) -> tuple[str, int]:
    """Queue code or answers for grading on the organiser's machine, through the board's intake:
    (a one-line confirmation, the submission's number)."""
    token = identity.given(token)
    with Store.open(db_url) as store, Intake(store) as intake:
        receipt = intake.take(token, kind, files, source)
    return confirmation(receipt, files), receipt.submission_id


def confirmation(receipt: Receipt, files: dict[str, str]) -> str:
    """The line that says a submission is queued (the CLI's and the page's)."""
    what = "quiz answers" if receipt.kind == "quiz" else f"{len(files)} exercise file(s)"
    came = f" from {receipt.source}" if receipt.source else ""
    return (
        f"Queued {what}{came} for {receipt.member} as submission #{receipt.submission_id}: the board grades it "
        "and shows it as verified (the Member tab shows its state)."
    )


def submit_code(source: Path | None = None, token: str | None = None, db_url: str | None = None, announce=print,
                board: str | None = None, wait: bool = True) -> str:
    """Send the step modules of the exercises folder (default: ./exercises or the kit's), or the
    chapter definitions of a notebook or script, to be graded."""
    folder = Path(source) if source else default_source()
    files = code.from_notebook(folder) if folder.is_file() else code.from_folder(folder)
    identity.given(token)
    if announce and folder.is_file():
        announce(f"Sending the chapter definitions found in {folder} for {len(files)} step(s) "
                 f"(none of it run, and not its outputs): {', '.join(sorted(f[:-3] for f in files))}")
    elif announce:
        announce(f"Sending {len(files)} file(s) from {folder}: {', '.join(sorted(files))}")
    return send(files, "grade", token, db_url, board, wait, announce, source=str(folder.resolve()))


def submit_quiz(answers: Path, token: str | None = None, db_url: str | None = None, board: str | None = None,
                wait: bool = True, announce=print) -> str:
    """Send a quiz answers file (the one `fastgroup quiz --answers` reads) to be graded."""
    raw = read_capped(Path(answers), code.MAX_FILE_BYTES, "answers file", "pass the TOML or JSON file you filled in")
    return send(code.answers(Path(answers).name, raw), "quiz", token, db_url, board, wait, announce,
                source=Path(answers).name)


def send(files: dict[str, str], kind: str, token: str | None, db_url: str | None, board: str | None, wait: bool,
         announce=print, source: str | None = None) -> str:
    """To the board's URL when there is one (a member), else straight into the store (the organiser's
    machine); with `wait`, follow the submission until it is graded. The last line to show. `source`
    is where it came from (a folder or a notebook): the board keeps its name, never the path."""
    url = board_url(board)
    if url is None:
        return queue_submission(files, kind, token, db_url, source)[0]
    if db_url:
        raise KitError("--board sends over HTTP and --db writes the database: give one (members: --board)")
    client = BoardClient(url, identity.given(token))
    sent = client.submit(kind, files, label(source))
    if announce and client.moved_line():
        announce(client.moved_line())
    line = f"Sent as submission #{sent['id']} to {client.url}."
    if not wait:
        return f"{line} `fastgroup status --board {client.url}` shows how it went." if client.moved_from else \
            f"{line} `fastgroup status` shows how it went."
    if announce:
        announce(f"{line} Waiting for its grade (Ctrl-C stops waiting, not the grading)...")
    return "\n".join(outcome(client.wait(sent["id"], progress=announce)))


def outcome(found: dict) -> list[str]:
    """A finished submission in lines: its points per step, or why it failed."""
    if found["state"] == "failed":
        raise KitError(f"submission #{found['id']} could not be graded: {found.get('reason') or 'no reason given'}")
    what = "quiz" if found["kind"] == "quiz" else "grade"
    came = f" from {found['source']}" if found.get("source") else ""
    lines = [f"Graded #{found['id']} ({what}{came}, verified by the board): {found['score']:g}/{found['max_score']:g}"]
    for step, got in (found.get("steps") or {}).items():
        lines.append(f"  {step:<18} {got['points']:g}/{got['max_points']:g}")
    return lines


def status(token: str | None = None, board: str | None = None) -> list[str]:
    """The member's submissions on the board, newest first, and their best."""
    url = board_url(board)
    if url is None:
        raise KitError("`fastgroup status` asks the board: pass --board URL or set FASTGROUP_BOARD_URL")
    client = BoardClient(url, identity.given(token))
    me = client.me()
    best = ", ".join(f"{k} {v:g}" for k, v in (("grade", me["best_grade"]), ("quiz", me["best_quiz"])) if v is not None)
    lines = [client.moved_line()] if client.moved_from else []
    lines.append(f"{me['member']} on {client.url}: best {best or 'nothing graded yet'}")
    for row in me["submissions"]:
        points = f"{row['score']:g}/{row['max_score']:g}" if row.get("score") is not None else ""
        when = _when(row["created_at"])
        extra = row.get("reason") or (f"{row['queue_position']} ahead" if row["state"] == "queued" else "")
        came = f"from {row['source']}  " if row.get("source") else ""
        lines.append(f"  #{row['id']:<5} {row['kind']:<6} {row['state']:<8} {points:<9} {when}  {came}{extra}".rstrip())
    if not me["submissions"]:
        lines.append("  no submission yet: `fastgroup submit --board URL` sends your exercises")
    return lines


def submit_results(
    results_path: Path | None = None, token: str | None = None, db_url: str | None = None, announce=print
) -> str:
    """Submit a results file (default: the latest one) and return a one-line confirmation.

    `announce` is given what the file holds (per step: points, when graded) before anything is sent.
    """
    path = Path(results_path) if results_path else default_results_path()
    raw = read_capped(path, MAX_PAYLOAD_BYTES, "results file", "run `fastgroup grade` or pass --results FILE")
    return submit_payload(raw, token=token, db_url=db_url, source=str(path), announce=announce)


def submit_payload(
    raw: bytes, token: str | None = None, db_url: str | None = None, source: str = "upload", announce=None
) -> str:
    """Validate and store one self-reported payload for the member whose token it is."""
    token = identity.given(token)
    try:
        payload = parse_payload(raw, self_reported=True)
    except KitError as err:
        raise KitError(f"{source}: {err}") from None
    if announce:
        announce("\n".join(describe(payload)))
    with Store.open(db_url) as store:
        receipt = store.submit(token, payload)
    return (
        f"Submitted {receipt.kind} result {receipt.score:g}/{receipt.max_score:g} "
        f"for {receipt.member} (submission #{receipt.submission_id}, self-reported: shown apart, not ranked)."
    )


def _when(stamp: str) -> str:
    """'2026-11-24 09:53 UTC' from an ISO 8601 time; the text as given when it is not one."""
    try:
        return datetime.fromisoformat(stamp).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return stamp
