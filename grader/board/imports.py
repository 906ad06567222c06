"""Record grades computed on the organiser's side (the nbgrader track's autograde) in the store.

Students map to members by name: nbgrader's student id is the fastgroup member name. The
organiser adds the members first (`fastgroup members add NAME`); a batch with a student who
is not a member is refused as a whole, so that nothing is half imported. Importing the same
grades twice adds nothing (the store skips a payload the member already has).
"""

from grader.board.store import Store
from grader.core.errors import KitError
from grader.core.results import Results


def check_members(students, db_url: str | None = None) -> None:
    """Refuse the batch in one line when a student is not a member (nothing is half imported)."""
    with Store.open(db_url) as store:
        unknown = sorted(set(students) - set(store.member_names()))
    if unknown:
        raise KitError(
            f"nbgrader students who are not members: {', '.join(unknown)}: add each with "
            "`fastgroup members add NAME` (the member name is the nbgrader student id), then import again"
        )


def import_results(results: dict[str, Results], what: str, db_url: str | None = None) -> str:
    """Store each member's results as an organiser-side submission; a one-line summary.

    `what` names the results in that line, e.g. "nbgrader result(s) of 'ch4'".
    """
    check_members(results, db_url)
    with Store.open(db_url) as store:
        added = sum(
            store.submit_as_member(name, payload.model_dump_json()) is not None
            for name, payload in sorted(results.items())
        )
    skipped = len(results) - added
    return f"Imported {added} {what} into the store" + (
        f" ({skipped} already there)." if skipped else "."
    )
