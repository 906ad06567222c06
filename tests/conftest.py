"""Fixtures for every kit test. Helpers live in the tests.support package, not here.

Services (PostgreSQL, Chromium) skip cleanly on a laptop without them, but fail when
FASTGROUP_REQUIRE_SERVICES=1 (set by .ci/run).
"""

import os
import tempfile

import pytest

# fresh_stubs, warm_service; and nothing a test starts outlives pytest (Ctrl-C, SIGTERM, SIGKILL)
pytest_plugins = ["tests.support.stubs", "tests.support.planting", "tests.support.reaper"]


def pytest_configure(config):
    """Before any fixture of any scope runs: a temporary kit home, no database URL, no token.

    The user's real kit home (FASTGROUP_HOME or ~/.fastgroup) is never read or written by a
    test; tests/test_isolation.py proves it.
    """
    session_home = tempfile.mkdtemp(prefix="fastgroup-test-home-")
    os.environ["FASTGROUP_HOME"] = session_home
    os.environ["FASTGROUP_DATA_CACHE"] = tempfile.mkdtemp(prefix="fastgroup-test-data-")  # shared, built once
    for name in ("FASTGROUP_DB_URL", "FASTGROUP_TOKEN", "FASTGROUP_DATA"):
        os.environ.pop(name, None)
    # Judges end with their command: hundreds of grades would otherwise leave as many judges
    # waiting. tests/engine/test_warm.py turns keeping on where it is tested.
    os.environ["FASTGROUP_WARM_S"] = "0"


@pytest.fixture(autouse=True)
def kit_home(tmp_path_factory, monkeypatch):
    """Every test gets its own kit home, so no test sees another's state or database.

    The embedded data cache is shared (building it is slow and it is read-only once built).
    """
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("FASTGROUP_HOME", str(home))
    monkeypatch.setenv("FASTGROUP_DATA_CACHE", os.environ["FASTGROUP_DATA_CACHE"])
    monkeypatch.delenv("FASTGROUP_DB_URL", raising=False)
    monkeypatch.delenv("FASTGROUP_TOKEN", raising=False)
    return home


@pytest.fixture
def bwrap():
    """Tests of the real sandbox: skip on a laptop without bubblewrap, fail in CI."""
    from grader.core import sandbox
    from tests.support.kit import need_service

    if sandbox.isolation() != "bubblewrap":
        need_service("bubblewrap", "bwrap is missing or cannot create namespaces here (apt-get install bubblewrap)")


# The slow tier (`pytest -m slow`; README's command runs `-m "not slow"`, .ci/run both). Whole
# modules and tests carry `pytest.mark.slow` themselves; besides those, a test is slow when it
# needs a service (the `service` marker: PostgreSQL or Chromium), uses one of these fixtures, or
# is one of these cases of a parametrised test whose other cases stay fast.
SLOW_FIXTURES = {
    "pg_url": "a PostgreSQL schema",
    "chromium": "a browser",
}
SLOW_CASES = {  # node id pattern (fnmatch) -> why
}


def pytest_collection_modifyitems(config, items):
    import fnmatch

    for item in items:
        why = next((f"uses {SLOW_FIXTURES[name]}" for name in getattr(item, "fixturenames", ())
                    if name in SLOW_FIXTURES), None)
        why = why or ("needs a service" if item.get_closest_marker("service") else None)
        why = why or next((reason for pattern, reason in SLOW_CASES.items()
                           if fnmatch.fnmatchcase(item.nodeid, pattern)), None)
        if why and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow(reason=why))


def pytest_sessionfinish(session, exitstatus):
    """No tests ran is a failure, never a quiet success."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
