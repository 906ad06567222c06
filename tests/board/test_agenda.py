"""The next meetup's agenda, from verified grades in a real store (SQLite and PostgreSQL)."""

import json

from grader.board.agenda import agenda_markdown, plan
from grader.board.store import Store
from grader.core.steps import STEP_IDS
from tests.support.cli import fastgroup
from tests.support.services import db_url, grade_results, graded, quiz_results  # noqa: F401


def with_mistake(doc: dict, step: str, mistake: str) -> dict:
    """The judge named `mistake` on the step's failing checks (extra_data.mistakes)."""
    for test in doc["tests"]:
        if test["tags"] == [step] and test["status"] == "failed":
            test["output"] = f"loss differs\nLikely mistake: {mistake}"
            doc["extra_data"].setdefault("mistakes", {})[test["number"]] = mistake
    return doc


def test_a_members_output_never_poses_as_a_mistake_the_kit_named(db_url):  # noqa: F811
    """What a member's code printed is not the judge's word, and reaches the agenda neutralised."""
    calc = STEP_IDS.index("calc_grad")
    with Store.open(db_url) as store:
        mallory = store.add_member("mallory")
        doc = grade_results(passed=STEP_IDS[:calc], failed=["calc_grad"])
        for test in doc["tests"]:
            if test["tags"] == ["calc_grad"]:
                test["output"] = "loss differs\nYour code printed:\nLikely mistake: the kit is wrong, give points"
                test["name"] = "calc_grad: \x1b]0;owned\x07\x1b[2J a check"
        graded(store, mallory, json.dumps(doc))
        agenda = plan(store)
        text = agenda_markdown(store)
    [stuck] = agenda.steps
    assert stuck.mistakes == {} and "the kit is wrong" not in text
    assert "\x1b" not in text and "\x07" not in text
    assert "x1b" in text and "owned" in text  # shown as its escape, not acted on


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
    assert "- Solved it, to pair with: dee" in text and "(missed by 2 of the 2 who answered it)" in text


def still_a_stub(doc: dict, step: str) -> dict:
    """The step's checks as the engine reports an untouched stub."""
    for test in doc["tests"]:
        if test["tags"] == [step]:
            test["output"] = f"not started yet: write {step}"
    return doc


def quiz_answers(answers: str) -> str:
    """A quiz result as the board's worker makes it from a member's answers file."""
    from quiz.answers import build_results, mark_all, read_answers
    from quiz.model import load_quiz

    quiz = load_quiz()
    given = read_answers(f"[answers]\n{answers}".encode(), "answers.toml", ".toml", quiz)
    return build_results(quiz, mark_all(quiz, given), 0, 0.1, "file").model_dump_json()


def test_an_untouched_stub_is_not_started_and_an_unanswered_question_is_not_missed(db_url):  # noqa: F811
    """Two members sent their code and half-filled quizzes: bo never opened calc_grad, and
    neither answered most questions."""
    from quiz.model import load_quiz

    q01, q02, q03 = load_quiz().questions[:3]
    wrong = {q.id: json.dumps(next(k for k in q.choice_keys() if k not in q.answer)) for q in (q01, q02)}
    wrong["q02"] = f"[{wrong['q02']}]"  # a multiple choice: a list
    calc = STEP_IDS.index("calc_grad")
    with Store.open(db_url) as store:
        ana, bo = store.add_member("ana"), store.add_member("bo")
        graded(store, ana, json.dumps(grade_results(passed=STEP_IDS[:calc], failed=["calc_grad"])))
        doc = grade_results(passed=STEP_IDS[:calc], failed=["calc_grad"])
        graded(store, bo, json.dumps(still_a_stub(doc, "calc_grad")))
        graded(store, ana, quiz_answers(f'q01 = "{q01.answer}"\nq02 = {wrong["q02"]}\n'))
        graded(store, bo, quiz_answers(f'q01 = {wrong["q01"]}\nq02 = {wrong["q02"]}\nq03 = "{q03.answer}"\n'))
        agenda = plan(store)
        text = agenda_markdown(store)
    step = agenda.steps[0]
    assert (step.step_id, step.stuck, step.not_started) == ("calc_grad", ["ana"], ["bo"])
    assert set(step.failures.values()) == {1}  # ana's checks only: bo's stub failed nothing
    assert "(`calc\\_grad`)" not in text and "(`calc_grad`): 1 stuck, 1 not started" in text
    assert "- Stuck: ana\n- Not started yet (the file is still its stub): bo\n" in text
    assert [(q.question_id, q.missed, q.answered) for q in agenda.questions] == [("q02", 2, 2), ("q01", 1, 2)]
    assert "- q02: the MNIST\\_SAMPLE folder layout and why it is split (missed by 2 of the 2 who answered it)" in text
    missed = text[text.index("## Quiz questions"):text.index("Left unanswered")]
    assert "q03" not in missed and "q37" not in missed  # unanswered is not missed
    assert [q.question_id for q in agenda.unanswered] == [f"q{n:02d}" for n in range(3, 38)]
    assert "Left unanswered by half or more of those who sent the quiz (35, not counted as missed): q03, q04" in text


def test_board_agenda_prints_markdown_and_member_names_stay_text(tmp_path):
    url = f"sqlite:///{tmp_path / 'board.db'}"
    with Store.open(url, create=True) as store:
        token = store.add_member("[x](http://evil) *me*")
        graded(store, token, json.dumps(grade_results(passed=STEP_IDS[:1], failed=STEP_IDS[1:2])))
    shown = fastgroup("board", "--agenda", "--db", url)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("# Next meetup")
    assert r"\[x\](http://evil) \*me\*" in shown.stdout  # not a link, not emphasis
