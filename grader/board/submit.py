"""`fastgroup submit`: send a grade or quiz result to the group's store.

The leaderboard's upload tab calls submit_payload too, so both paths validate alike.
"""

import os
from pathlib import Path

from grader.board.payload import MAX_PAYLOAD_BYTES, parse_payload
from grader.board.store import Store
from grader.core.errors import KitError
from grader.core.home import latest_results_path


def default_results_path() -> Path:
    """The newer of the latest grade and quiz results."""
    found = [p for p in (latest_results_path("grade"), latest_results_path("quiz")) if p.is_file()]
    if not found:
        raise KitError(
            "no results to submit yet: run `fastgroup grade` or `fastgroup quiz` first, or pass --results FILE"
        )
    return max(found, key=lambda p: p.stat().st_mtime)


def submit_results(results_path: Path | None = None, token: str | None = None, db_url: str | None = None) -> str:
    """Submit a results file (default: the latest one) and return a one-line confirmation."""
    path = Path(results_path) if results_path else default_results_path()
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_PAYLOAD_BYTES + 1)  # enough to tell it is too big
    except FileNotFoundError:
        raise KitError(f"results file {path} not found: run `fastgroup grade` or pass --results FILE") from None
    except OSError as err:
        raise KitError(f"cannot read results file {path} ({err.strerror}): check the path") from None
    return submit_payload(raw, token=token, db_url=db_url, source=str(path))


def submit_payload(raw: bytes, token: str | None = None, db_url: str | None = None, source: str = "upload") -> str:
    """Validate and store one payload for the member whose token it is."""
    token = (token or os.environ.get("FASTGROUP_TOKEN") or "").strip()
    if not token:
        raise KitError("no token: pass --token or set FASTGROUP_TOKEN to the token your organiser gave you")
    try:
        payload = parse_payload(raw)
    except KitError as err:
        raise KitError(f"{source}: {err}") from None
    with Store.open(db_url) as store:
        receipt = store.submit(token, payload)
    return (
        f"Submitted {receipt.kind} result {receipt.score:g}/{receipt.max_score:g} "
        f"for {receipt.member} (submission #{receipt.submission_id})."
    )
