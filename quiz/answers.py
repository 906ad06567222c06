"""The quiz's answers without a terminal: read from a file's bytes, marked, and turned into a result.

`fastgroup quiz --answers FILE` (quiz/session.py) and the board's worker (grader/board) both use
this module, so a member's answers are read and scored alike on either side. The file refers to
choices by their stable keys; the format is in quiz/session.py's docstring and README.
"""

import json
from pathlib import Path

from grader.core.errors import KitError
from grader.core.files import read_capped
from grader.core.results import ExtraData, Results, TestResult
from grader.core.version import __version__
from quiz.marking import Marking, mark, normalise
from quiz.model import QUIZ_FILE, CodeQuestion, Quiz, load_quiz, tomllib

MAX_ANSWERS_BYTES = 1_000_000  # 37 answers; a few KB is plenty


def mark_all(quiz: Quiz, given: dict) -> dict[str, Marking]:
    """Every question marked; one left out scores 0."""
    return {q.id: mark(q, given.get(q.id)) for q in quiz.questions}


# --- answers from a file ------------------------------------------------------------------------


def read_answers_file(path: Path, quiz: Quiz) -> dict:
    """The answers in a TOML or JSON file, normalised; any problem is a one-line KitError."""
    if not path.exists() and not path.is_symlink():
        raise KitError(f"{path}: no such answers file")
    raw = read_capped(path, MAX_ANSWERS_BYTES, "answers file", "pass the TOML or JSON file you filled in")
    return read_answers(raw, str(path), path.suffix, quiz)


def read_answers(raw: bytes, name: str, suffix: str, quiz: Quiz) -> dict:
    """Answers from a file's bytes (`suffix` .json: JSON, else TOML), normalised; else a one-line KitError.

    The board grades submitted answers with this too, so both sides read them alike.
    """
    if len(raw) > MAX_ANSWERS_BYTES:
        raise KitError(f"{name}: over the {MAX_ANSWERS_BYTES // 1_000_000} MB limit for an answers file")
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark, as some editors write, is fine
    except UnicodeDecodeError as err:
        raise KitError(f"{name}: cannot read it as UTF-8 text ({err})") from None
    is_json = suffix.lower() == ".json"
    try:
        data = json.loads(text) if is_json else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError, RecursionError) as err:  # JSONDecodeError is a ValueError
        kind = "JSON" if is_json else "TOML"
        reason = "nested too deeply" if isinstance(err, RecursionError) else str(err).splitlines()[0][:120]
        raise KitError(f"{name}: not valid {kind} ({reason})") from None
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
        raise KitError(f'{name}: no [answers] table; write "[answers]" then one line per question, e.g. q01 = "a"')
    for key in data:
        if key != "answers":
            raise KitError(f"{name}: unexpected top-level key '{key}'; put every answer under [answers]")
    given = {}
    for qid, value in data["answers"].items():
        question = quiz.get(qid)
        if question is None:
            last = quiz.questions[-1].id
            raise KitError(f"{name}: unknown question '{qid}'; ids run from q01 to {last}")
        if value is None:  # JSON null: no answer, like leaving the question out
            continue
        try:
            given[qid] = normalise(question, value)
        except ValueError as err:
            raise KitError(f"{name}: {err}") from None
    return given


# --- the result ---------------------------------------------------------------------------------


def build_results(quiz: Quiz, outcomes: dict[str, Marking], seed: int, duration: float, mode: str) -> Results:
    """One Gradescope test per question, and what `fastgroup submit` and the leaderboard need."""
    tests = [
        TestResult(
            name=f"{q.id}: {q.topic}",
            number=f"quiz.{q.number}",
            score=outcomes[q.id].score,
            max_score=q.points,
            status="passed" if outcomes[q.id].right else "failed",
            output=outcomes[q.id].feedback,
            tags=["quiz", q.id],
        )
        for q in quiz.questions
    ]
    extra = ExtraData(
        kind="quiz",
        kit_version=__version__,
        data=QUIZ_FILE.name,
        seed=seed,
        mode=mode,
        duration_s=round(duration, 3),
        outcomes={qid: outcome_word(o) for qid, o in outcomes.items()},
        revisit=[q.id for q in quiz.questions if not outcomes[q.id].right],
    )
    return Results(
        score=sum(t.score for t in tests),
        max_score=quiz.max_score,
        execution_time=round(duration, 3),
        tests=tests,
        extra_data=extra,
    )


def outcome_word(outcome: Marking) -> str:
    return "right" if outcome.right else ("wrong" if outcome.answered else "unanswered")


# --- a template to fill in ----------------------------------------------------------------------

EXAMPLES = {
    "single": '"key"',
    "multiple": '["key", "key"]',
    "numeric": "0.0",
    "order": '["key", "key", ...]   (every key, in order)',
    "code": "a triple-quoted string of Python",
    "code and choice": '{ code = "a triple-quoted string of Python", choice = "key" }',
}


def template_text(quiz: Quiz) -> str:
    """An answers file with every question as comments (its prompt, its choices with their keys,
    the function to write, the answer's form) and no answers. An order question's choices are
    listed by key, never in the answer's order."""
    lines = [
        f"# {quiz.title}: answers for `fastgroup quiz --answers FILE`.",
        "# Write each answer after its '=' and remove the '# '; a question left out scores 0.",
        "",
        "[answers]",
    ]
    for q in quiz.questions:
        lines += ["", f"# {q.id} ({q.type}, {q.points:g} point{'s' if q.points != 1 else ''}): {q.topic}"]
        lines += commented(q.prompt, "#   ")
        then = q.then if isinstance(q, CodeQuestion) else None
        if isinstance(q, CodeQuestion):
            lines.append(f"#   write: {function_line(q.answer)}")
        if then is not None:
            lines += commented(f"then: {then.prompt}", "#   ")
        choices = list(getattr(then or q, "choices", []))
        if q.type == "order":
            choices.sort(key=lambda c: c.key)
            lines.append("#   (listed by key; put every key in your order)")
        for c in choices:
            lines += commented(c.text, f"#   {c.key}: ", "#      ")
        example = EXAMPLES["code and choice"] if then is not None else EXAMPLES[q.type]
        lines.append(f"# {q.id} = {example}")
    return "\n".join(lines) + "\n"


def commented(text: str, first: str, rest: str | None = None) -> list[str]:
    """`text` as comment lines, its own line breaks kept, each line after the first under `rest`."""
    rest = first if rest is None else rest
    return [f"{first if n == 0 else rest}{line}".rstrip() for n, line in enumerate(text.strip().splitlines())]


def function_line(answer: str) -> str:
    """The `def` line of a code question's answer: the name and arguments the learner writes."""
    found = [line.strip().rstrip(":") for line in answer.splitlines() if line.startswith("def ")]
    return found[0] if found else "the code the question asks for"


def write_template(path: Path) -> str:
    """Write the template (never over an existing file: it may hold answers); a one-line note."""
    if path.exists():
        raise KitError(f"{path} already exists: choose another name, or delete it first")
    path.write_text(template_text(load_quiz()), encoding="utf-8")
    return f"Wrote {path}: fill in the answers, then `fastgroup quiz --answers {path}`."
