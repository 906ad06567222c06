"""identity.py: a token to a member, the one way for the API, the CLI and the page."""

import pytest

from grader.board import identity
from grader.board.identity import Member
from grader.board.refusals import TokenRefused
from grader.board.store import Store
from tests.support.cli import fastgroup, one_line_error
from tests.support.services import db_url  # noqa: F401


@pytest.fixture
def store(db_url):  # noqa: F811
    with Store.open(db_url) as opened:
        yield opened


def test_a_token_is_its_member_and_nothing_else_is(store):
    token = store.add_member("ada")
    store.add_member("bo")
    ada = identity.member(store, token)
    assert ada == Member(store.member_id("ada"), "ada")
    for wrong in ("", "not-a-token", identity.token_hash(token), token + "x", "' OR '1'='1"):
        with pytest.raises(TokenRefused) as refused:
            identity.member(store, wrong)
        assert "\n" not in str(refused.value) and "token" in str(refused.value)


def test_a_removed_member_is_refused_by_token_and_as_a_member_proved_before(store):
    token = store.add_member("ada")
    ada = identity.member(store, token)
    store.remove_member("ada")
    with pytest.raises(TokenRefused, match="not an active member's token"):
        identity.member(store, token)
    with pytest.raises(TokenRefused, match="not an active member's token"):  # proved before, removed since
        store.enqueue(ada, "grade", {"linear1.py": "x = 1\n"})
    assert store.counts()["submissions"] == 0


def test_the_cli_takes_its_option_then_the_environment(monkeypatch):
    monkeypatch.setenv("FASTGROUP_TOKEN", " from-the-environment ")
    assert identity.given("given") == "given"
    assert identity.given(None) == "from-the-environment"
    monkeypatch.delenv("FASTGROUP_TOKEN")
    with pytest.raises(TokenRefused, match="no token: pass --token or set FASTGROUP_TOKEN"):
        identity.given(None)
    with pytest.raises(TokenRefused, match="characters no token has"):
        identity.given("tab\there")


def test_the_page_never_falls_back_on_the_servers_token(monkeypatch):
    monkeypatch.setenv("FASTGROUP_TOKEN", "the-organisers")
    with pytest.raises(TokenRefused, match="Enter your token"):
        identity.typed("  ")
    assert identity.typed(" mine ") == "mine"


def test_the_api_takes_a_bearer_token_only():
    assert identity.bearer("Bearer abc ") == "abc"
    assert identity.bearer("bearer abc") == "abc"
    for header in ("", "Bearer ", "Basic abc", "abc"):
        with pytest.raises(TokenRefused, match="Authorization: Bearer TOKEN"):
            identity.bearer(header)


def test_a_wrong_token_is_one_line_in_the_terminal(tmp_path):
    url = f"sqlite:///{tmp_path / 'board.db'}"
    assert fastgroup("members", "add", "ada", "--db", url).returncode == 0
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "linear1.py").write_text("x = 1\n")
    line = one_line_error(fastgroup("submit", "--source", str(folder), "--token", "wrong", "--db", url))
    assert "not an active member's token" in line
