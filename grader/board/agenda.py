"""The next meetup, planned from the group's verified grades: where members are stuck, what
the group's code got wrong there, the quiz questions most missed, and who can pair with whom.

A member is at the first core step (chapter order) they have not completed in any verified
grade, once they have sent one: stuck there when their latest grade attempted it, not started
when its file is still the stub (as `fastgroup list` says). For each of the steps where most
members are, the failures of the stuck members' latest grades are counted: the mistakes the kit
named, and the checks that failed. A quiz question counts as missed only when answered wrongly;
those answered wrongly by at least half of the members who answered them are listed with their
topics, and the questions most left unanswered apart. Everything here is counted, nothing
guessed. Names are the members' own text: escaped for Markdown.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from grader.board.queries import untouched_steps
from grader.core.steps import STEPS
from grader.core.text import neutral

MOST_STUCK = 5  # steps on the agenda, at most
MISSED_SHARE = 0.5  # a quiz question most of the group missed
MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>|#$~])")  # what would turn a name into markup, a link or maths


@dataclass
class StuckStep:
    step_id: str
    title: str
    section: str
    stuck: list[str]  # members whose first unfinished core step this is, attempted in their latest grade
    solved: list[str]  # members who completed it: the ones to pair with
    not_started: list[str] = field(default_factory=list)  # ... whose file there is still the stub
    mistakes: Counter = field(default_factory=Counter)  # named by the kit, across the stuck members
    failures: Counter = field(default_factory=Counter)  # failing checks, across the stuck members


@dataclass
class MissedQuestion:
    question_id: str
    topic: str
    missed: int  # answered wrongly
    answered: int  # answered at all
    took: int  # members who sent the quiz

    @property
    def unanswered(self) -> int:
        return self.took - self.answered


@dataclass
class Agenda:
    members: int
    graded: int  # members with a verified grade
    steps: list[StuckStep]
    questions: list[MissedQuestion]  # missed by most of those who answered them
    unanswered: list[MissedQuestion] = field(default_factory=list)  # left unanswered by most who sent the quiz


def plan(store) -> Agenda:
    """The agenda from the store's reads (Store.completed_steps, latest_payloads)."""
    completed = store.completed_steps()
    grades = store.latest_payloads("grade")
    core = [s for s in STEPS if not s.bonus]
    at: dict[str, list[str]] = {}
    for name in sorted(grades):
        first = next((s for s in core if s.id not in completed.get(name, set())), None)
        if first is not None:
            at.setdefault(first.id, []).append(name)
    order = {s.id: i for i, s in enumerate(core)}
    chosen = sorted(at, key=lambda step: (-len(at[step]), order[step]))[:MOST_STUCK]
    steps = []
    for step in sorted(chosen, key=order.get):
        facts = next(s for s in core if s.id == step)
        fresh = [n for n in at[step] if step in untouched_steps(grades[n])]
        item = StuckStep(step, facts.title, facts.section, [n for n in at[step] if n not in fresh],
                         sorted(n for n, done in completed.items() if step in done), fresh)
        for name in item.stuck:
            _count_failures(item, grades[name])
        steps.append(item)
    questions = _quiz_questions(store.latest_payloads("quiz"))
    missed = sorted((q for q in questions if q.missed and q.missed / q.answered >= MISSED_SHARE),
                    key=lambda m: (-m.missed, m.question_id))
    unanswered = [q for q in questions if q.unanswered / q.took >= MISSED_SHARE]
    return Agenda(len(completed), len(grades), steps, missed, unanswered)


def _count_failures(item: StuckStep, payload: str) -> None:
    """One member's latest grade: each mistake named counts once per member, each failing check once."""
    named = set()
    doc = json.loads(payload)
    judged = (doc.get("extra_data") or {}).get("mistakes") or {}  # the judge's field, never the output's text
    for test in doc.get("tests", []):
        if (test.get("tags") or [None])[0] != item.step_id or test.get("status") == "passed":
            continue
        if isinstance(judged.get(test.get("number")), str):
            named.add(neutral(judged[test["number"]]))
        item.failures[neutral(test.get("name", "").partition(": ")[2] or test.get("number", "?"))] += 1
    item.mistakes.update(named)


def quiz_words(payload: str) -> dict[str, str]:
    """Question id -> right | wrong | unanswered, from a quiz result's JSON: the words the quiz
    wrote (extra_data.outcomes), else each test's status, "unanswered" by its output."""
    from quiz.model import load_quiz

    ids = {f"quiz.{q.number}": q.id for q in load_quiz().questions}
    doc = json.loads(payload)
    written = (doc.get("extra_data") or {}).get("outcomes") or {}
    words = {}
    for test in doc.get("tests", []):
        qid = ids.get(test.get("number"))
        if qid is None:
            continue
        said = "right" if test.get("status") == "passed" else \
            "unanswered" if test.get("output") == "unanswered" else "wrong"
        words[qid] = written.get(qid) if written.get(qid) in ("right", "wrong", "unanswered") else said
    return words


def _quiz_questions(quizzes: dict[str, str]) -> list[MissedQuestion]:
    """Every question some member sent the quiz for: how many answered it, and answered it wrongly."""
    from quiz.model import load_quiz

    words = [quiz_words(payload) for payload in quizzes.values()]
    took = len(words)
    found = []
    for q in load_quiz().questions:
        said = [w.get(q.id, "unanswered") for w in words]
        answered = sum(1 for w in said if w != "unanswered")
        found.append(MissedQuestion(q.id, q.topic, said.count("wrong"), answered, took))
    return found if took else []


def agenda_markdown(store) -> str:
    """The agenda as Markdown: `fastgroup board --agenda`, and the page's Next meetup tab."""
    agenda = plan(store)
    lines = ["# Next meetup", "",
             f"{agenda.graded} of {agenda.members} members have a verified grade; the steps below are where "
             "most of them are (their first core step not yet completed): stuck there, or not started.", ""]
    if not agenda.steps:
        lines.append("Nobody is stuck: every member with a grade has completed the core steps." if agenda.graded
                     else "No verified grade yet: members send their code with `fastgroup submit --board URL`.")
    for item in agenda.steps:
        fresh = f", {len(item.not_started)} not started" if item.not_started else ""
        lines += [f"## {item.title} (`{item.step_id}`): {len(item.stuck)} stuck{fresh}", "",
                  f"Chapter section: *{item.section}*", ""]
        if item.mistakes:
            named = item.mistakes.most_common()
            lines.append("Mistakes the kit named: " + "; ".join(f"{_md(m)} ({n})" for m, n in named))
        if item.failures:
            lines.append("Checks failing: " + "; ".join(f"{_md(c)} ({n})" for c, n in item.failures.most_common(5)))
        lines.append("")
        if item.stuck:
            lines.append(f"- Stuck: {', '.join(_md(n) for n in item.stuck)}")
        if item.not_started:
            names = ", ".join(_md(n) for n in item.not_started)
            lines.append(f"- Not started yet (the file is still its stub): {names}")
        lines += [f"- Solved it, to pair with: {', '.join(_md(n) for n in item.solved) or 'nobody yet'}", ""]
    lines += ["## Quiz questions most of the group missed", ""]
    if not agenda.questions:
        lines.append("None answered wrongly by half of those who answered it, or nobody sent the quiz yet.")
    for q in agenda.questions:
        left = f"; {q.unanswered} left it unanswered" if q.unanswered else ""
        lines.append(f"- {q.question_id}: {_md(q.topic)} (missed by {q.missed} of the {q.answered} who "
                     f"answered it{left})")
    if agenda.unanswered:
        ids = ", ".join(q.question_id for q in agenda.unanswered)
        lines += ["", f"Left unanswered by half or more of those who sent the quiz ({len(agenda.unanswered)}, "
                      f"not counted as missed): {ids}"]
    return "\n".join(lines).rstrip() + "\n"


def _md(text: str) -> str:
    return MARKDOWN_SPECIALS.sub(r"\\\1", text)
