"""Where the kit's folders are, and how a test asks for a service it needs."""

import os

import pytest

from grader.core.home import KIT_ROOT

SOLUTIONS = KIT_ROOT / "solutions"
EXERCISES = KIT_ROOT / "exercises"


def need_service(what: str, why_missing: str) -> None:
    """Skip (on a laptop) or fail (in CI) when a service a test needs is missing."""
    if os.environ.get("FASTGROUP_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required in CI but missing: {why_missing}")
    pytest.skip(f"{what} not available: {why_missing}")
