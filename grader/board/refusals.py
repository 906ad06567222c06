"""The board's refusals that a front end answers apart from a plain KitError.

A plain KitError is something the sender must fix in what they sent (HTTP 400). These say who
must act and when: the token (401), the cooldown (429, with when to try again), the database
(503: the organiser's to fix, nothing was stored). The HTTP API maps each to its status code;
the terminal prints them as any KitError.
"""

from grader.core.errors import KitError


class TokenRefused(KitError):
    """No token, or not an active member's."""


class NotFound(KitError):
    """No such submission of this member's (another member's is not found either)."""


class TooSoon(KitError):
    """A submission inside the organiser's cooldown; `retry_after` seconds until the next may come."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class DatabaseAway(KitError):
    """The database did not answer (stopped, restarting, unreachable, or its disk full)."""
