"""The next meetup, planned from the group's verified grades: where members are stuck, what
the group's code got wrong there, the quiz questions most missed, and who can pair with whom.

A member is stuck at the first core step (chapter order) they have not completed in any
verified grade, once they have sent one. For each of the steps where most members are stuck,
the failures of those members' latest grades are counted: the mistakes the kit named, and the
checks that failed. The quiz questions missed by at least half of those who sent the quiz are
listed with their topics. Everything here is counted, nothing guessed. Names are the members'
own text: escaped for Markdown.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from grader.core.steps import STEPS

MOST_STUCK = 5  # steps on the agenda, at most
MISSED_SHARE = 0.5  # a quiz question most of the group missed
MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>|#])")  # what would turn a name into markup or a link


@dataclass
class StuckStep:
    step_id: str
    title: str
    section: str
    stuck: list[str]  # members whose first unfinished core step this is
    solved: list[str]  # members who completed it: the ones to pair with
    mistakes: Counter = field(default_factory=Counter)  # named by the kit, across the stuck members
    failures: Counter = field(default_factory=Counter)  # failing checks, across the stuck members


@dataclass
class MissedQuestion:
    question_id: str
    topic: str
    missed: int
    took: int


@dataclass
class Agenda:
    members: int
    graded: int  # members with a verified grade
    steps: list[StuckStep]
    questions: list[MissedQuestion]


def plan(store) -> Agenda:
    """The agenda from the store's reads (Store.completed_steps, latest_payloads)."""
    completed = store.completed_steps()
    grades = store.latest_payloads("grade")
    core = [s for s in STEPS if not s.bonus]
    stuck_at: dict[str, list[str]] = {}
    for name in sorted(grades):
        first = next((s for s in core if s.id not in completed.get(name, set())), None)
        if first is not None:
            stuck_at.setdefault(first.id, []).append(name)
    order = {s.id: i for i, s in enumerate(core)}
    chosen = sorted(stuck_at, key=lambda step: (-len(stuck_at[step]), order[step]))[:MOST_STUCK]
    steps = []
    for step in sorted(chosen, key=order.get):
        facts = next(s for s in core if s.id == step)
        item = StuckStep(step, facts.title, facts.section, stuck_at[step],
                         sorted(n for n, done in completed.items() if step in done))
        for name in item.stuck:
            _count_failures(item, grades[name])
        steps.append(item)
    return Agenda(len(completed), len(grades), steps, _missed_questions(store.latest_payloads("quiz")))


def _count_failures(item: StuckStep, payload: str) -> None:
    """One member's latest grade: each mistake named counts once per member, each failing check once."""
    named = set()
    for test in json.loads(payload).get("tests", []):
        if (test.get("tags") or [None])[0] != item.step_id or test.get("status") == "passed":
            continue
        output = test.get("output") or ""
        named.update(line.removeprefix("Likely mistake: ") for line in output.splitlines()
                     if line.startswith("Likely mistake: "))
        item.failures[test.get("name", "").partition(": ")[2] or test.get("number", "?")] += 1
    item.mistakes.update(named)


def _missed_questions(quizzes: dict[str, str]) -> list[MissedQuestion]:
    from quiz.model import load_quiz

    questions = {f"quiz.{q.number}": q for q in load_quiz().questions}
    missed: Counter = Counter()
    for payload in quizzes.values():
        for test in json.loads(payload).get("tests", []):
            if test.get("status") != "passed" and test.get("number") in questions:
                missed[test["number"]] += 1
    took = len(quizzes)
    found = [MissedQuestion(questions[k].id, questions[k].topic, n, took) for k, n in missed.items()
             if n / took >= MISSED_SHARE]
    return sorted(found, key=lambda m: (-m.missed, m.question_id))


def agenda_markdown(store) -> str:
    """The agenda as Markdown: `fastgroup board --agenda`, and the page's Next meetup tab."""
    agenda = plan(store)
    lines = ["# Next meetup", "",
             f"{agenda.graded} of {agenda.members} members have a verified grade; the steps below are where "
             "most of them are stuck (their first core step not yet completed).", ""]
    if not agenda.steps:
        lines.append("Nobody is stuck: every member with a grade has completed the core steps." if agenda.graded
                     else "No verified grade yet: members send their code with `fastgroup submit --board URL`.")
    for item in agenda.steps:
        lines += [f"## {item.title} (`{item.step_id}`): {len(item.stuck)} stuck", "",
                  f"Chapter section: *{item.section}*", ""]
        if item.mistakes:
            named = item.mistakes.most_common()
            lines.append("Mistakes the kit named: " + "; ".join(f"{_md(m)} ({n})" for m, n in named))
        if item.failures:
            lines.append("Checks failing: " + "; ".join(f"{_md(c)} ({n})" for c, n in item.failures.most_common(5)))
        lines += ["", f"- Stuck: {', '.join(_md(n) for n in item.stuck)}",
                  f"- Solved it, to pair with: {', '.join(_md(n) for n in item.solved) or 'nobody yet'}", ""]
    lines += ["## Quiz questions most of the group missed", ""]
    if not agenda.questions:
        lines.append("None missed by half of those who sent the quiz, or nobody sent it yet.")
    for q in agenda.questions:
        lines.append(f"- {q.question_id}: {_md(q.topic)} (missed by {q.missed} of {q.took})")
    return "\n".join(lines).rstrip() + "\n"


def _md(text: str) -> str:
    return MARKDOWN_SPECIALS.sub(r"\\\1", text)
