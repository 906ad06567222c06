"""The next meetup's agenda, from verified grades in a real store (SQLite and PostgreSQL)."""

import json

from grader.board.agenda import agenda_markdown, plan
from grader.board.store import Store
from grader.core.steps import STEP_IDS
from tests.support.cli import fastgroup
from tests.support.services import db_url, grade_results, graded, quiz_results  # noqa: F401


def with_mistake(doc: dict, step: str, mistake: str) -> dict:
    for test in doc["tests"]:
        if test["tags"] == [step] and test["status"] == "failed":
            test["output"] = f"loss differs\nLikely mistake: {mistake}"
    return doc


def test_the_agenda_counts_where_members_are_stuck_what_failed_and_who_can_pair(db_url):  # noqa: F811
    calc = STEP_IDS.index("calc_grad")
    with Store.open(db_url) as store:
        tokens = {n: store.add_member(n) for n in ("ana", "bo", "cy", "dee", "eve")}
        for name, mistake in (("ana", "the mean is missing"), ("bo", "the mean is missing"), ("cy", "sign flipped")):
            doc = grade_results(passed=STEP_IDS[:calc], failed=["calc_grad"])
            graded(store, tokens[name], json.dumps(with_mistake(doc, "calc_grad", mistake)))
        graded(store, tokens["dee"], json.dumps(grade_results(passed=STEP_IDS[: calc + 1], failed=["train_epoch"])))
        # eve never sent a grade: not counted as stuck anywhere
        graded(store, tokens["ana"], json.dumps(quiz_results(30)))  # misses questions 31-37
        graded(store, tokens["bo"], json.dumps(quiz_results(35)))  # misses 36-37
        agenda = plan(store)
        text = agenda_markdown(store)
    assert (agenda.members, agenda.graded) == (5, 4)
    stuck = {s.step_id: s for s in agenda.steps}
    assert list(stuck) == ["calc_grad", "train_epoch"]  # chapter order
    assert stuck["calc_grad"].stuck == ["ana", "bo", "cy"] and stuck["calc_grad"].solved == ["dee"]
    assert stuck["calc_grad"].mistakes == {"the mean is missing": 2, "sign flipped": 1}
    assert stuck["train_epoch"].stuck == ["dee"] and stuck["train_epoch"].solved == []
    assert [q.question_id for q in agenda.questions] == ["q36", "q37"] + [f"q{n}" for n in range(31, 36)]
    assert all(q.topic for q in agenda.questions)
    assert "the mean is missing (2); sign flipped (1)" in text
    assert "- Solved it, to pair with: dee" in text and "(missed by 2 of 2)" in text


def test_board_agenda_prints_markdown_and_member_names_stay_text(tmp_path):
    url = f"sqlite:///{tmp_path / 'board.db'}"
    with Store.open(url, create=True) as store:
        token = store.add_member("[x](http://evil) *me*")
        graded(store, token, json.dumps(grade_results(passed=STEP_IDS[:1], failed=STEP_IDS[1:2])))
    shown = fastgroup("board", "--agenda", "--db", url)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("# Next meetup")
    assert r"\[x\](http://evil) \*me\*" in shown.stdout  # not a link, not emphasis
