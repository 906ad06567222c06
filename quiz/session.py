"""`fastgroup quiz`: ask the 37 questions in a terminal, or take the answers from a file.

Interactive mode shows each question with its choices shuffled (from the seed), gives feedback
and the explanation right away, and ends with the score and the topics to revisit. Ctrl-D or
Ctrl-C stops any run, `--missed` included: only a finished quiz is a result, but the run is kept
(quiz/progress.py) for `--resume`, and its answers as an answers file; `--missed` asks again only
what the last result missed. A code answer may hold blank lines: a line with just a full stop
(.) ends it; one that does not parse is asked again, with the syntax error in one line.

Answers-file mode (--answers FILE) is for scripts and tests, and prints the same feedback and
explanations, question by question, for the questions the file answers; a question it leaves
out (or answers with JSON null) scores 0 and is listed as not answered, its answer and
explanation shown only with `--reveal` (a half-filled file must not spoil the rest). Reading,
marking and the result are quiz/answers.py's (the board uses them too), this module is the
terminal. The file refers to choices by their stable keys, so it works with any seed. It may be
at most MAX_ANSWERS_BYTES long, UTF-8 with or without a byte-order mark:

    [answers]
    q01 = "a"                        # single: a choice key
    q02 = ["a", "b", "c"]            # multiple: every right key (all or nothing)
    q23 = 0.3                        # numeric
    q14 = ["init", "predict", ...]   # order: all seven step names, in order
    q04 = '''
    def bright(pixels):
        return [p / 255 for p in pixels if p != 0]
    '''                              # code: Python source
    q26 = { code = '''
    def pair_up(a, b):
        return list(zip(a, b))
    ''', choice = "c" }               # code, then a choice about it: both parts

A .json file with the same shape ({"answers": {...}}) works too. Either way the result (Gradescope
schema) goes to --json FILE if given, and always to the kit home for `fastgroup submit`.
"""

import ast
import random
import secrets
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from grader.core import sandbox
from grader.core.errors import KitError
from grader.core.files import write_atomic
from grader.core.home import latest_results_path
from grader.core.results import Results
from quiz import progress
from quiz.answers import build_results, mark_all, read_answers_file
from quiz.marking import Marking, mark
from quiz.model import (
    CodeQuestion,
    MultipleQuestion,
    NumericQuestion,
    OrderQuestion,
    Quiz,
    load_quiz,
)

CODE_END = "."  # the line that ends a code answer typed in the terminal


def run_quiz(answers: Path | None = None, json_path: Path | None = None, seed: int | None = None,
             resume: bool = False, missed: bool = False, reveal: bool = False) -> Results | None:
    """Take the quiz (interactively when `answers` is None), write the result, return it.

    `resume`: go on with a stopped run (quiz/progress.py); `missed`: ask only the questions the
    last result missed, keeping the others' marks; `reveal`: an answers file's unanswered
    questions show their answers too. None when the learner stopped before the end: an
    unfinished quiz is never a result, but the run is kept for --resume.
    """
    quiz = load_quiz()
    if resume and answers is None:
        seed = progress.load(quiz)[0]  # the order its choices were shown in
    seed = secrets.randbelow(1_000_000) if seed is None else seed
    console = Console(highlight=False)
    if sandbox.isolation() != "bubblewrap":
        console.print(f"[dim]Note: {sandbox.NOT_ISOLATED}.[/dim]", soft_wrap=True)
    started = time.monotonic()
    if answers is None:
        if not sys.stdin.isatty():
            raise KitError("no terminal to ask the questions in: run `fastgroup quiz` in one, or pass --answers FILE")
        outcomes = ask_interactively(quiz, seed, console, resume, missed)
        if outcomes is None:
            return None
    else:
        given = read_answers_file(Path(answers), quiz)
        outcomes = mark_all(quiz, given)
        show_all_feedback(quiz, given, outcomes, console, reveal)
    mode = "interactive" if answers is None else "file"
    results = build_results(quiz, outcomes, seed, time.monotonic() - started, mode)
    paths = [latest_results_path("quiz")] + ([Path(json_path)] if json_path else [])
    for path in paths:
        _write(results, path)
    if answers is None:
        progress.clear()
    print_summary(console, quiz, outcomes, results, paths, answers, reveal)
    return results


def ask_interactively(quiz: Quiz, seed: int, console: Console, resume: bool, missed: bool) -> dict | None:
    """Every question's marking: asked now, resumed from the run kept so far, or kept from the
    last result (--missed); None when the learner stopped (the run is kept for --resume)."""
    so_far: dict = {}
    retake: dict[str, Marking] | None = None  # a --missed run's marks kept from the last result
    if resume:
        seed, so_far, retake = progress.load(quiz)
        left = len(quiz.questions) - len(retake or {}) - len(so_far)
        if retake is None:
            console.print(f"Resuming: {len(so_far)} of {len(quiz.questions)} questions answered already.")
        else:
            console.print(f"Resuming the retake of what your last result missed: {len(so_far)} answered, "
                          f"{left} left.")
    earlier = False if resume else _say_an_unfinished_run_waits(quiz, console)
    if missed and not resume:
        ids, retake = progress.missed_last_time(quiz)
        if not ids:
            console.print("Your last quiz result missed nothing: full marks already.")
        else:
            console.print(f"Retaking the {len(ids)} question{'s' if len(ids) > 1 else ''} your last result missed: "
                          f"{', '.join(ids)}.", soft_wrap=True)
    kept = {**(retake or {}), **{qid: mark(quiz.get(qid), answer) for qid, answer in so_far.items()}}
    asked = [q for q in quiz.questions if q.id not in kept]

    def answered(qid: str, answer) -> None:
        so_far[qid] = answer
        progress.save(seed, so_far, retake)

    try:
        outcomes = ask_all(quiz, seed, console, asked, answered) if asked else {}
    except (QuizStopped, KeyboardInterrupt) as stop:
        where = f" at question {stop.args[0]}" if isinstance(stop, QuizStopped) else ""
        if earlier and not so_far:  # nothing answered here: the stopped run from before stays as it was
            console.print(f"\nStopped{where}, before any answer: your earlier stopped quiz is kept; "
                          "`fastgroup quiz --resume` goes on with it.", soft_wrap=True)
            return None
        progress.save(seed, so_far, retake)
        console.print(f"\n{stopped_line(where, so_far, retake is not None)}", soft_wrap=True)
        return None
    return {**kept, **outcomes}


def _say_an_unfinished_run_waits(quiz: Quiz, console: Console) -> bool:
    """Starting anew while a stopped run is kept: say how to go on with it instead (True)."""
    try:
        answered = len(progress.load(quiz)[1])
    except KitError:
        return False
    console.print(f"You have a stopped quiz ({answered} answered): Ctrl-D now and `fastgroup quiz --resume` goes on "
                  "with it; your first answer here starts over.", soft_wrap=True)
    return True


def stopped_line(where: str, so_far: dict, retake: bool) -> str:
    """What a stopped run kept, and the commands that go on with it."""
    resume = "`fastgroup quiz --resume` goes on from here"
    if not so_far:
        return f"Stopped{where}, before any answer: {resume}."
    n = len(so_far)
    kept = f"Stopped{where}: your {n} answer{'s' if n != 1 else ''} so far {'are' if n != 1 else 'is'} kept."
    if retake:
        return f"{kept} {resume}, with the questions of your retake still left."
    path = progress.keep_answers_file(so_far)
    return f"{kept} {resume}; `fastgroup quiz --answers {path}` grades them as they are."


# --- answers from the terminal ------------------------------------------------------------------


def shuffled_keys(question, seed: int) -> list[str]:
    """The order in which this attempt shows a question's choices; never the answer's own order."""
    asked = question.then if isinstance(question, CodeQuestion) and question.then else question
    keys = [c.key for c in getattr(asked, "choices", [])]
    random.Random(f"{seed}:{question.id}").shuffle(keys)
    if isinstance(question, OrderQuestion) and keys == question.answer:
        keys.reverse()
    return keys


class QuizStopped(Exception):  # noqa: N818  (the learner's choice, not an error)
    """The learner stopped before the end: the run so far is kept for --resume."""


def ask_all(quiz: Quiz, seed: int, console: Console, asked=None, answered=None) -> dict[str, Marking]:
    """Ask the questions in turn (`asked`: these only), with feedback; `answered(id, answer)` hears
    of each answer as it is given. Ctrl-D stops the quiz (QuizStopped). Every question left
    unasked is unanswered."""
    total = len(quiz.questions)
    asked = quiz.questions if asked is None else asked
    console.print(f"[bold]{escape(quiz.title)}[/]: {len(asked)} of {total} questions, 1 point each. Seed {seed}.")
    console.print("Type 'skip' to leave a question unanswered, Ctrl-D to stop (your answers so far are kept).")
    outcomes = {}
    for question in asked:
        n = quiz.questions.index(question) + 1
        console.print()
        console.rule(f"Question {n}/{total}: {escape(question.topic)}")
        console.print(f"[dim]{escape(question.section)}[/]")
        try:
            answer = ask(question, shuffled_keys(question, seed), console)
        except EOFError:
            raise QuizStopped(n) from None
        if answered:
            answered(question.id, answer)
        outcomes[question.id] = mark(question, answer)
        show_feedback(question, answer, outcomes[question.id], console, order=shuffled_keys(question, seed))
    return {q.id: outcomes.get(q.id, mark(q, None)) for q in quiz.questions if q in asked}


def ask(question, order: list[str], console: Console):
    """Show one question and read a valid answer in its stable form (None when skipped)."""
    console.print(escape(question.prompt))
    if isinstance(question, CodeQuestion):
        end = f"then a line with just {CODE_END} to end it"
        console.print(f"[dim]Type your code (blank lines are fine), {end}; or skip.[/]")
        code = _read_code(console)
        if code is None or question.then is None:
            return code
        console.print(escape(question.then.prompt))
        choice = _ask_choice(question.then, order, console)
        return None if choice is None else {"code": code, "choice": choice}
    return _ask_choice(question, order, console)


def _ask_choice(question, order: list[str], console: Console):
    """Show the choices (if any) in this attempt's order; read a number, several, or skip."""
    if hasattr(question, "choices"):
        for pos, key in enumerate(order, start=1):
            label = f"{key}: " if isinstance(question, OrderQuestion) else ""
            text = question.text_of(key).replace("\n", "\n     ")
            console.print(f"  {pos}. {escape(label + text)}")
    hint = _input_hint(question, len(order))
    while True:
        raw = console.input(f"[bold]Your answer[/] ({hint}, or skip): ").strip()
        if raw.lower() == "skip":
            return None
        try:
            return _parse(question, raw, order)
        except ValueError as err:
            console.print(f"[red]{escape(str(err))}[/]")


def _input_hint(question, n: int) -> str:
    if isinstance(question, NumericQuestion):
        return "a number"
    if isinstance(question, MultipleQuestion):
        return f"every right number from 1 to {n}, e.g. 1 3; all or nothing"
    if isinstance(question, OrderQuestion):
        return f"all {n} numbers in the right order, e.g. 3 1 2 ..."
    return f"1 to {n}"


def _parse(question, raw: str, order: list[str]):
    """Turn typed text into the stable answer; ValueError says what to type instead."""
    if isinstance(question, NumericQuestion):
        try:
            return float(raw)
        except ValueError:
            raise ValueError("type a number, like 0.5") from None
    tokens = raw.replace(",", " ").split()
    picks = []
    for token in tokens:
        if token.isdigit() and 1 <= int(token) <= len(order):
            picks.append(order[int(token) - 1])
        elif isinstance(question, OrderQuestion) and token in order:
            picks.append(token)
        else:
            raise ValueError(f"'{token}' is not one of the numbers 1 to {len(order)}")
    if len(set(picks)) != len(picks):
        raise ValueError("each number at most once")
    if isinstance(question, OrderQuestion):
        if len(picks) != len(order):
            raise ValueError(f"give all {len(order)} numbers, in order")
        return picks
    if isinstance(question, MultipleQuestion):
        if not picks:
            raise ValueError("pick at least one number")
        return sorted(picks)
    if len(picks) != 1:
        raise ValueError(f"pick exactly one number from 1 to {len(order)}")
    return picks[0]


def _read_code(console: Console) -> str | None:
    """Lines up to one holding just CODE_END; code that does not parse is asked for again."""
    while True:
        lines = []
        while (line := console.input("... " if lines else ">>> ")).strip() != CODE_END:
            if not lines and line.strip().lower() == "skip":
                return None
            if lines or line.strip():
                lines.append(line)
        code = "\n".join(lines).rstrip() + "\n"
        if not code.strip():
            console.print(f"[red]No code yet: type it, then {CODE_END} on a line of its own (or skip).[/]")
            continue
        try:
            ast.parse(code, filename="<your answer>")
        except SyntaxError as err:
            where = f"Syntax error on line {err.lineno}: {escape(err.msg)}."
            console.print(f"[red]{where} Type the code again, or skip.[/]")
            continue
        return code


def show_all_feedback(quiz: Quiz, given: dict, outcomes: dict[str, Marking], console: Console,
                      reveal: bool = False) -> None:
    """Answers-file mode: each question's feedback and explanation, as the terminal shows them; a
    question the file leaves out only says so, unless `reveal`."""
    total = len(quiz.questions)
    for n, question in enumerate(quiz.questions, start=1):
        console.print()
        console.rule(f"Question {n}/{total}: {escape(question.topic)}")
        if outcomes[question.id].answered or reveal:
            show_feedback(question, given.get(question.id), outcomes[question.id], console, "Not answered.")
        else:
            console.print("[yellow]Not answered.[/] [dim]Its answer stays hidden until you answer it "
                          "(or pass --reveal).[/]")


def show_feedback(question, answer, outcome: Marking, console: Console, unanswered: str = "Skipped.",
                  order: list[str] | None = None) -> None:
    """Right or wrong; when missed, the right answer with its keys (and the numbers this attempt
    showed, `order`) and texts, and which of the learner's picks were wrong; the explanation either way."""
    if outcome.right:
        console.print("[bold green]Right![/]")
    else:
        head = "[bold red]Wrong.[/]" if outcome.answered else f"[yellow]{unanswered}[/]"
        if isinstance(question, CodeQuestion) and outcome.answered:
            head += _code_verdict(question, answer, outcome)
        console.print(head)
        for line in missed_lines(question, answer if outcome.answered else None, order):
            console.print(escape(line), soft_wrap=True)
    console.print(Panel(escape(question.explanation), border_style="dim"))


def missed_lines(question, answer, order: list[str] | None = None) -> list[str]:
    """The right answer, choice by choice, and what was wrong in `answer` (None: not answered)."""
    if isinstance(question, CodeQuestion):
        return [f"The answer: {_answer_text(question)}"]
    if isinstance(question, NumericQuestion):
        lines = [f"The answer: {question.answer:g} (within {question.tolerance:g})"]
        return lines + ([f"Yours: {answer:g}"] if answer is not None else [])

    def choice(key: str) -> str:
        number = f"{order.index(key) + 1}, " if order and key in order else ""
        text = question.text_of(key).replace("\n", "\n     ")
        return f"({number}{key}) {text}"

    if isinstance(question, OrderQuestion):
        lines = ["The answer, in order:"] + [f"  {n}. {choice(k)}" for n, k in enumerate(question.answer, 1)]
        if answer is not None:
            pairs = enumerate(zip(answer, question.answer, strict=False))
            first = next((n for n, (mine, right) in pairs if mine != right), None)
            where = f"; from position {first + 1} on it differs ({answer[first]} where {question.answer[first]} goes)" \
                if first is not None else ""
            lines.append(f"Yours: {' > '.join(answer)}{where}")
        return lines
    if isinstance(question, MultipleQuestion):
        lines = ["The answer (all of these, and no other):"] + [f"  {choice(k)}" for k in question.answer]
        if answer is not None:
            lines += [f"Not right, yet you picked: {choice(k)}" for k in answer if k not in question.answer]
            lines += [f"Missed: {choice(k)}" for k in question.answer if k not in answer]
        return lines
    lines = [f"The answer: {choice(question.answer)}"]
    return lines + ([f"Yours: {choice(answer)}"] if answer is not None else [])


def _code_verdict(question: CodeQuestion, answer, outcome: Marking) -> str:
    """What went wrong with a code answer, in words (the choice part by its text, not its key)."""
    said = outcome.feedback.removeprefix("wrong: ")
    if question.then is None:
        return f" The check said: {escape(said)}"
    chose_right = answer["choice"] == question.then.answer
    if not chose_right:
        said = said.rpartition("the choice: ")[0].removesuffix("; ")
    said = said.removeprefix("the code: ").rstrip(".")
    parts = [f"The check said: {escape(said)}."] if said else ["Your code passed the check."]
    parts.append("Your choice was right." if chose_right else "Your choice was not the right one.")
    return " " + " ".join(parts)


def _answer_text(question: CodeQuestion) -> str:
    then = "" if question.then is None else "\n" + question.then.text_of(question.then.answer)
    return "\n" + question.answer.strip("\n") + then


def _write(results: Results, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, results.model_dump_json(indent=2) + "\n")
    except OSError as err:
        raise KitError(f"cannot write the result to {path}: {err.strerror}") from None


def _points(x: float) -> str:
    return f"{x:g}"


def print_summary(
    console: Console, quiz: Quiz, outcomes: dict[str, Marking], results: Results, paths: list[Path],
    answers: Path | None = None, reveal: bool = False,
) -> None:
    """The score, the topics to revisit (with their sections), the questions not answered (apart),
    where the result went, and the command that sends it to the board."""
    console.print()
    console.print(f"[bold]Score {_points(results.score)}/{_points(results.max_score)}[/]")
    wrong = [q for q in quiz.questions if outcomes[q.id].answered and not outcomes[q.id].right]
    unanswered = [q for q in quiz.questions if not outcomes[q.id].answered]
    if wrong:
        console.print("Topics to revisit:")
        for q in wrong:
            console.print(f"  {q.id} {escape(q.topic)} [dim](wrong; section: {escape(q.section)})[/]")
    if unanswered:
        console.print(f"Not answered ({len(unanswered)}):")
        for q in unanswered:
            console.print(f"  {q.id} {escape(q.topic)} [dim](section: {escape(q.section)})[/]")
        if answers is not None and not reveal:
            console.print(f"Answer them in {escape(str(answers))} and grade it again, or see their answers: "
                          f"`fastgroup quiz --answers {escape(str(answers))} --reveal`.", soft_wrap=True)
    if not wrong and not unanswered:
        console.print("Full marks: nothing to revisit.")
    console.print(f"Result written to {escape(', '.join(map(str, paths)))}.")
    if answers is not None:
        console.print(f"`fastgroup submit --quiz --answers {escape(str(answers))}` sends your answers to the "
                      "group's board, which grades them itself.", soft_wrap=True)
    else:
        console.print("`fastgroup submit --results` sends this result to the group's board, where your organiser "
                      "accepts self-reported results; or save your answers in a file (`fastgroup quiz --template "
                      "FILE`) and send them with `fastgroup submit --quiz --answers FILE`.", soft_wrap=True)
