"""A member's side of the board's HTTP API (api.py): the board's URL and a token, nothing else.

`fastgroup submit --board URL`, `fastgroup status` and the notebook's grader.submit() and
grader.status() talk to the board through this. Whatever goes wrong is one KitError line: the
board's own refusal as it worded it, or what to check when it does not answer.

A member often pastes the page's address, not the API's: `fastgroup leaderboard` serves them on
two ports (the API on the page's port + 1 unless --api-port). When an answer is not the API's
(JSON) and the address is the board's page (Streamlit's health check answers), the client looks
for the API on the page's port + 1 and goes on there (`moved_from` says so), or says in one line
that this is the page and where its API should be.
"""

import os
import time
from dataclasses import dataclass

import httpx

from grader.core.errors import KitError

API = "/api/v1"
TIMEOUT_S = 30.0
POLL_S = 1.0
WAIT_LIMIT_S = 1800.0  # a grade waits its turn; after this, `fastgroup status` follows it
BOARD_HINT = "pass --board URL or set FASTGROUP_BOARD_URL to the address the organiser gave you"
PAGE_HEALTH = "/_stcore/health"  # Streamlit's own health check: "ok" on the board's page
API_BESIDE_PAGE = 1  # `fastgroup leaderboard` serves the API on the page's port + this, unless --api-port


def board_url(url: str | None) -> str | None:
    """The board's address: the one given, else FASTGROUP_BOARD_URL, else None (no board)."""
    url = (url or os.environ.get("FASTGROUP_BOARD_URL") or "").strip().rstrip("/")
    if url and not url.startswith(("http://", "https://")):
        raise KitError(f"the board's address must start with http:// or https:// (got {url[:60]!r}): {BOARD_HINT}")
    return url or None


@dataclass
class BoardClient:
    url: str
    token: str
    moved_from: str | None = None  # the page's address, when the API was found beside it

    def submit(self, kind: str, files: dict[str, str], source: str | None = None) -> dict:
        """Send code or quiz answers (and where they came from: "exercises", "ch4.ipynb"); the new
        submission as the board stored it."""
        body = {"kind": kind, "files": files} | ({"source": source} if source else {})
        return self._call("POST", "/submissions", json=body)

    def submission(self, submission_id: int) -> dict:
        return self._call("GET", f"/submissions/{submission_id}")

    def me(self) -> dict:
        return self._call("GET", "/me")

    def wait(self, submission_id: int, progress=None, limit_s: float = WAIT_LIMIT_S) -> dict:
        """Poll until the submission is graded or failed; `progress(line)` gets each new state."""
        deadline, said = time.monotonic() + limit_s, None
        while True:
            found = self.submission(submission_id)
            if found["state"] in ("graded", "failed"):
                return found
            line = describe_waiting(found)
            if progress and line != said:
                progress(line)
                said = line
            if time.monotonic() > deadline:
                raise KitError(f"submission #{submission_id} is still {found['state']} after {limit_s:.0f} s: "
                               "`fastgroup status` follows it; the organiser can see the queue on the board's page")
            time.sleep(POLL_S)

    def moved_line(self) -> str | None:
        """The line that tells the member the address to use next time, when the page's was given."""
        if self.moved_from is None:
            return None
        return (f"{self.moved_from} is the board's page; its API answered at {self.url}, so it went there: "
                f"use --board {self.url} (or FASTGROUP_BOARD_URL) next time.")

    def _call(self, method: str, path: str, **kwargs) -> dict:
        answer = self._request(method, path, **kwargs)
        if not from_api(answer) and self.moved_from is None:
            api = api_beside_page(self.url)  # the page does not take a submission: nothing was stored there
            if api is not None:
                self.moved_from, self.url = self.url, api
                answer = self._request(method, path, **kwargs)
        if answer.status_code >= 400:
            raise KitError(f"the board refused (HTTP {answer.status_code}): {_detail(answer)}")
        try:
            return answer.json()
        except ValueError:
            raise KitError(f"{self.url} answered, but not as a fastgroup board does: {BOARD_HINT}") from None

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            return httpx.request(method, f"{self.url}{API}{path}", headers=headers, timeout=TIMEOUT_S, **kwargs)
        except httpx.TimeoutException:
            raise KitError(f"the board at {self.url} did not answer in {TIMEOUT_S:.0f} s: try again, or ask the "
                           "organiser whether it runs (`fastgroup status` shows what it holds)") from None
        except httpx.HTTPError as err:
            raise KitError(f"cannot reach the board at {self.url} ({type(err).__name__}): {BOARD_HINT}, "
                           "and check that the organiser's board runs") from None


def from_api(answer: httpx.Response) -> bool:
    """Every answer of the board's API, a refusal included, is JSON; the page's are not."""
    return answer.headers.get("content-type", "").startswith("application/json")


def api_beside_page(url: str) -> str | None:
    """The API's address when `url` is the board's page and the API answers on the page's port + 1;
    None when `url` is not the page; a one-line KitError naming where the API should be otherwise."""
    try:
        health = httpx.get(f"{url}{PAGE_HEALTH}", timeout=TIMEOUT_S)
    except httpx.HTTPError:
        return None
    if health.status_code != 200 or health.text.strip() != "ok":
        return None
    page = httpx.URL(url)
    port = page.port or (443 if page.scheme == "https" else 80)
    guess = str(page.copy_with(port=port + API_BESIDE_PAGE)).rstrip("/")
    try:
        board = httpx.get(f"{guess}{API}/board", timeout=TIMEOUT_S)
        if board.status_code == 200 and from_api(board):
            return guess
    except httpx.HTTPError:
        pass
    raise KitError(f"{url} is the board's page, not its API, and no API answers at {guess} (the page's port + 1, "
                   "where `fastgroup leaderboard` puts it unless --api-port): use --board http://host:PORT with the "
                   "API's address that `fastgroup leaderboard` printed (ask the organiser)")


def describe_waiting(found: dict) -> str:
    if found["state"] == "queued":
        ahead = found.get("queue_position") or 0
        return f"#{found['id']} queued" + (f", {ahead} ahead of it" if ahead else ", next in line")
    attempt = found.get("attempts") or 1
    return f"#{found['id']} being graded" + (f" (attempt {attempt})" if attempt > 1 else "")


def _detail(answer: httpx.Response) -> str:
    try:
        detail = answer.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, str) and detail:
        return detail.splitlines()[0]
    return f"{answer.reason_phrase or 'no reason given'}: {BOARD_HINT}"
