"""Who is asking: a token to a member, in one place for the API, the CLI and the page.

A member holds a token (and the board's URL), never a password to the database. The store keeps
only the token's SHA-256, and the member of a request is always the one whose token it carries:
a name a request carries is never believed. Each front end gets the token its own way and asks
here who it belongs to:
- the CLI: `--token`, else FASTGROUP_TOKEN (`given`);
- the HTTP API: the `Authorization: Bearer TOKEN` header (`from_headers`, before a byte of the body);
- the page: the token typed into its form (`typed`; never a FASTGROUP_TOKEN set on the server).
Every refusal is one line (TokenRefused) that says what to do. A new way in (a login with GitHub,
say) is one more function here that ends in a Member, and one route or form that calls it.
"""

import hashlib
import hmac
import os
from dataclasses import dataclass

from sqlalchemy import select

from grader.board.refusals import TokenRefused
from grader.board.schema import members

NO_TOKEN = "no token: pass --token or set FASTGROUP_TOKEN to the token your organiser gave you"
NO_BEARER = ("no token: send the header `Authorization: Bearer TOKEN` with the token the organiser gave you "
             "(fastgroup submit --token, or FASTGROUP_TOKEN)")
NOT_TYPED = "Enter your token: the one the organiser gave you when they added you to the group."
NOT_A_MEMBER = ("the token is not an active member's token: copy it again from what the organiser sent you "
                "(a removed member's token stops working; the organiser can issue a new one)")


@dataclass(frozen=True)
class Member:
    """An active member, as a token (or another way in) proved them."""

    id: int
    name: str


def token_hash(token: str) -> str:
    """The stored form of a token; a token with bytes no token has is a one-line TokenRefused."""
    if not (token.isascii() and token.isprintable()):
        raise TokenRefused(
            "the token holds characters no token has (not plain text, or not UTF-8): copy it again "
            "from what the organiser sent you"
        )
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def member_of(conn, token: str) -> Member:
    """The active member whose token this is (inside a transaction of the store), or TokenRefused.

    The lookup is by the token's SHA-256 (what an attacker's timing could learn is about the
    hash, not the token), and the stored hash is compared again in constant time."""
    digest = token_hash(token or "")
    found = conn.execute(
        select(members.c.id, members.c.name, members.c.token_sha256).where(
            members.c.token_sha256 == digest, members.c.removed_at.is_(None)
        )
    ).first()
    if found is None or not token or not hmac.compare_digest(found.token_sha256, digest):
        raise TokenRefused(NOT_A_MEMBER)
    return Member(found.id, found.name)


def active(conn, who: Member | str) -> Member:
    """Inside a store's transaction: the member a write is for, still active as it is written; `who` is
    a token (looked up) or a Member a front end proved before (checked that it was not removed since)."""
    if isinstance(who, str):
        return member_of(conn, who)
    found = conn.execute(
        select(members.c.id).where(members.c.id == who.id, members.c.removed_at.is_(None))
    ).first()
    if found is None:
        raise TokenRefused(NOT_A_MEMBER)
    return who


def member(store, token: str) -> Member:
    """The active member whose token this is, read from the store, or TokenRefused."""
    return store.read(lambda conn: member_of(conn, token))


def given(token: str | None) -> str:
    """The CLI's token: --token, else FASTGROUP_TOKEN; a missing or garbled one refused in one line."""
    token = (token or os.environ.get("FASTGROUP_TOKEN") or "").strip()
    if not token:
        raise TokenRefused(NO_TOKEN)
    token_hash(token)  # a garbled token is refused before anything else
    return token


def typed(token: str) -> str:
    """The page's token, as typed in its form: never a FASTGROUP_TOKEN set on the server."""
    token = (token or "").strip()
    if not token:
        raise TokenRefused(NOT_TYPED)
    token_hash(token)
    return token


def bearer(authorization: str) -> str:
    """The token of an `Authorization: Bearer TOKEN` header, or TokenRefused."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise TokenRefused(NO_BEARER)
    return token


def from_headers(store, headers: dict[str, bytes]) -> Member:
    """The member an HTTP request's headers prove (lower-case names): its bearer token's."""
    return member(store, bearer(headers.get("authorization", b"").decode("latin-1")))
