"""`fastgroup submit`: send a grade or quiz result to the group's store.

The leaderboard's upload tab calls submit_payload too, so both paths validate alike.
"""

import os
from datetime import UTC, datetime
from pathlib import Path

from grader.board.payload import MAX_PAYLOAD_BYTES, parse_payload
from grader.board.store import Store
from grader.board.writes import token_hash
from grader.core.errors import KitError
from grader.core.files import read_capped
from grader.core.home import latest_results_path
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
    points: dict[str, list[float]] = {}
    for test in results.tests:
        got, out_of = points.setdefault(test.tags[0], [0.0, 0.0])
        points[test.tags[0]] = [got + test.score, out_of + test.max_score]
    for step, (got, out_of) in points.items():
        run = runs.get(step)
        when = f"graded {_when(run.graded_at)}" if run else ""
        quick = " (--quick: training not run yet)" if run and run.quick else ""
        lines.append(f"  {step:<18} {got:g}/{out_of:g}  {when}{quick}".rstrip())
    missing = [s for s in STEP_IDS if s not in points]
    if missing:
        lines.append(f"  not graded yet: {', '.join(missing)}")
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
    """Validate and store one payload for the member whose token it is."""
    token = (token or os.environ.get("FASTGROUP_TOKEN") or "").strip()
    if not token:
        raise KitError("no token: pass --token or set FASTGROUP_TOKEN to the token your organiser gave you")
    token_hash(token)  # a garbled token is refused before anything else
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
        f"for {receipt.member} (submission #{receipt.submission_id})."
    )


def _when(stamp: str) -> str:
    """'2026-11-24 09:53 UTC' from an ISO 8601 time; the text as given when it is not one."""
    try:
        return datetime.fromisoformat(stamp).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return stamp
