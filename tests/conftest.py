"""Shared fixtures for the kit's own tests.

Services (PostgreSQL, Chromium) skip cleanly on a laptop without them, but fail when
FASTGROUP_REQUIRE_SERVICES=1 (set by .ci/run).
"""

import os
from pathlib import Path

import pytest

KIT_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = KIT_ROOT / "solutions"
EXERCISES = KIT_ROOT / "exercises"


def need_service(what: str, why_missing: str) -> None:
    """Skip (on a laptop) or fail (in CI) when a service a test needs is missing."""
    if os.environ.get("FASTGROUP_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required in CI but missing: {why_missing}")
    pytest.skip(f"{what} not available: {why_missing}")


@pytest.fixture(autouse=True)
def kit_home(tmp_path_factory, monkeypatch):
    """Every test gets its own kit home, so no test sees another's state or database.

    The embedded data cache is shared (building it is slow and it is read-only once built).
    """
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("FASTGROUP_HOME", str(home))
    monkeypatch.setenv("FASTGROUP_DATA_CACHE", str(shared_data_cache(tmp_path_factory)))
    monkeypatch.delenv("FASTGROUP_DB_URL", raising=False)
    monkeypatch.delenv("FASTGROUP_TOKEN", raising=False)
    return home


_DATA_CACHE: list[Path] = []


def shared_data_cache(tmp_path_factory) -> Path:
    if not _DATA_CACHE:
        _DATA_CACHE.append(tmp_path_factory.mktemp("data-cache"))
    return _DATA_CACHE[0]


def pytest_sessionfinish(session, exitstatus):
    """No tests ran is a failure, never a quiet success."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
