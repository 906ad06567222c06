"""The chapter quiz: the data file, scoring, the code sandbox, answers files and the terminal UI.

Everything runs for real: the CLI in a subprocess, code answers in the sandbox, the interactive
mode in a pseudo-terminal (stdlib pty). The tests build the answer key from quiz/ch4.toml itself.
"""

import ast
import fcntl
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from grader.core.errors import KitError
from grader.core.home import latest_results_path
from grader.core.results import Results
from quiz.answers import MAX_ANSWERS_BYTES, read_answers_file
from quiz.marking import mark, normalise
from quiz.model import (
    QUIZ_FILE,
    CodeQuestion,
    MultipleQuestion,
    NumericQuestion,
    OrderQuestion,
    Quiz,
    SingleQuestion,
    load_quiz,
    tomllib,
)
from quiz.session import run_quiz, shuffled_keys
from quiz.snippets import run_code

QUIZ = load_quiz()

TOPICS = [
    "how images are stored as numbers",
    "the MNIST_SAMPLE folder layout and why it is split",
    "how the pixel-similarity baseline classifies",
    "list comprehensions",
    "rank-3 tensors",
    "rank versus shape",
    "RMSE and the L1 norm",
    "vectorised computation versus Python loops",
    "creating and slicing a tensor",
    "broadcasting",
    "which data set metrics are computed on",
    "what SGD is",
    "why mini-batches",
    "the seven steps of SGD, in order",
    "initialising weights",
    "what a loss is",
    "why the learning rate cannot just be large",
    "what a gradient is",
    "whether gradients are derived by hand",
    "why accuracy cannot be the loss",
    "the sigmoid's shape and why it is used",
    "loss versus metric",
    "the update rule with the learning rate",
    "what a DataLoader does",
    "one epoch of SGD in pseudocode",
    "pairing inputs and labels with zip",
    "what view does",
    "why a bias is needed",
    "the @ operator",
    "what backward does",
    "why gradients are zeroed",
    "what a fastai Learner needs",
    "a training loop in pseudocode",
    "ReLU and its values on [-2, 2]",
    "what an activation function is",
    "F.relu versus nn.ReLU",
    "why deeper models",
]


# --- helpers ------------------------------------------------------------------------------------


def fastgroup(*args: str) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess (the installed console script, else the module)."""
    exe = shutil.which("fastgroup")
    cmd = [exe, *args] if exe else [sys.executable, "-m", "grader.cli", *args]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def toml_value(value) -> str:
    """Enough of a TOML writer for answers: strings, numbers, lists of strings."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def answers_toml(answers: dict) -> str:
    return "[answers]\n" + "".join(f"{qid} = {toml_value(v)}\n" for qid, v in answers.items())


def right_answer(q):
    """A question's right answer in the form an answers file gives it."""
    return q.reference() if isinstance(q, CodeQuestion) else q.answer


def key() -> dict:
    """The full answer key, straight from the data file."""
    return {q.id: right_answer(q) for q in QUIZ.questions}


def wrong_answer(q):
    """A plausible wrong answer of the right type for any question."""
    if isinstance(q, CodeQuestion):
        name = next(n.name for n in ast.walk(ast.parse(q.answer)) if isinstance(n, ast.FunctionDef))
        code = f"def {name}(*args):\n    return None\n"
        return code if q.then is None else {"code": code, "choice": q.then.answer}  # right choice, wrong code
    if isinstance(q, NumericQuestion):
        return q.answer + 10 * q.tolerance + 1
    if isinstance(q, OrderQuestion):
        swapped = list(q.answer)
        swapped[1], swapped[2] = swapped[2], swapped[1]
        return swapped
    if isinstance(q, MultipleQuestion):
        return q.answer[:-1]  # one right choice missing: all or nothing
    return next(k for k in q.choice_keys() if k != q.answer)


# --- the data file ------------------------------------------------------------------------------


def test_data_file_validates_against_its_schema():
    with open(QUIZ_FILE, "rb") as f:
        quiz = Quiz.model_validate(tomllib.load(f))
    assert len(quiz.questions) == 37
    assert quiz.max_score == 37


def test_every_topic_once_in_order_with_explanation_and_section():
    assert [q.topic for q in QUIZ.questions] == TOPICS
    assert [q.id for q in QUIZ.questions] == [f"q{n:02d}" for n in range(1, 38)]
    for q in QUIZ.questions:
        assert len(q.explanation) > 40, q.id
        assert q.section and q.prompt, q.id


def test_question_types_cover_what_a_machine_can_grade():
    by_id = {q.id: q.type for q in QUIZ.questions}
    assert {i for i, t in by_id.items() if t == "code"} == {"q04", "q07", "q09", "q21", "q26", "q34"}
    assert [q.id for q in QUIZ.questions if getattr(q, "then", None)] == ["q21", "q26"]
    assert by_id["q14"] == "order"
    assert QUIZ.get("q14").answer == ["init", "predict", "loss", "gradient", "step", "repeat", "stop"]
    assert {"single", "multiple", "numeric"} <= set(by_id.values())


def test_a_broken_data_file_is_rejected_naming_the_problem(tmp_path):
    text = QUIZ_FILE.read_text(encoding="utf-8").replace('answer = "b"', 'answer = "z"', 1)
    broken = tmp_path / "broken.toml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(KitError, match=r"broken.toml: .*answer 'z' is not a choice key"):
        load_quiz(broken)


# --- the book's questions, restored (issue 14, section 4) ----------------------------------------


def verdict_of(qid: str, answer):
    q = QUIZ.get(qid)
    return mark(q, normalise(q, answer))


def test_q06_asks_rank_against_shape_and_how_to_get_the_rank():
    q = QUIZ.get("q06")
    assert isinstance(q, MultipleQuestion)
    right = {q.text_of(k) for k in q.answer}
    assert any("len(t.shape)" in t for t in right) and any("length of each" in t for t in right)
    assert not verdict_of("q06", [k for k in q.answer if "len(" not in q.text_of(k)]).right  # shape alone
    assert not verdict_of("q06", [k for k in q.answer if "len(" in q.text_of(k)]).right  # rank alone


def test_q07_asks_for_both_rmse_and_the_l1_norm_to_full_precision():
    q = QUIZ.get("q07")
    assert isinstance(q, CodeQuestion)
    rmse_only = "import math\ndef rmse(a, b):\n    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)) / len(a))\n"
    assert verdict_of("q07", rmse_only).feedback == "wrong: define a function named l1(a, b)"
    rounded = rmse_only + "def l1(a, b):\n    return round(sum(abs(x - y) for x, y in zip(a, b)) / len(a), 2)\n"
    assert "l1([1.0, -2.0, 2.0], [0.0, 0.0, 0.0]) returned 1.67, expected 1.6667" in verdict_of("q07", rounded).feedback
    summed = rmse_only + "def l1(a, b):\n    return sum(abs(x - y) for x, y in zip(a, b))\n"
    assert not verdict_of("q07", summed).right


def test_q08_asks_how_not_why():
    q = QUIZ.get("q08")
    assert q.prompt.startswith("How ") and "tensor expression" not in q.prompt
    assert "array" in q.text_of(q.answer) and "tensor" in q.text_of(q.answer)


def test_q09_has_the_learner_create_the_tensor_double_it_and_select():
    q = QUIZ.get("q09")
    assert "t is a 3x3" not in q.prompt
    given = "def steps(t):\n    return t, t * 2, (t * 2)[1:, 1:]\n"  # the old question: the array handed in
    assert not verdict_of("q09", given).right
    typed = "import numpy as np\ndef steps():\n    t = np.arange(1, 10).reshape(3, 3)\n"
    typed += "    return t, t * 2, np.array([[10, 12], [16, 18]])\n"
    assert verdict_of("q09", typed).feedback == "wrong: compute the doubled numbers, don't type them in"
    torch_style = "import numpy as np\ndef steps():\n    t = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])\n"
    torch_style += "    d = t + t\n    return t, d, d[-2:, -2:]\n"
    assert verdict_of("q09", torch_style).right


def test_q16_q26_q34_do_not_give_the_answer_in_the_prompt():
    assert "lower when" not in QUIZ.get("q16").prompt and "1 - p" not in QUIZ.get("q16").prompt
    assert isinstance(QUIZ.get("q16"), MultipleQuestion)
    q26 = QUIZ.get("q26").prompt
    assert "[(1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')]" in q26 and "dset" not in q26 and "label" not in q26
    q34 = QUIZ.get("q34").prompt.lower()
    assert "what is relu?" in q34
    assert not any(w in q34 for w in ("max", "positive", "negative", "otherwise", "zero", " 0 "))


@pytest.mark.parametrize("qid", ["q21", "q26"])
def test_two_part_code_questions_need_the_code_and_the_choice(qid):
    q = QUIZ.get(qid)
    wrong_choice = next(k for k in q.then.choice_keys() if k != q.then.answer)
    both = verdict_of(qid, {"code": q.answer, "choice": q.then.answer})
    assert both.right
    choice_wrong = verdict_of(qid, {"code": q.answer, "choice": wrong_choice})
    assert not choice_wrong.right
    assert choice_wrong.feedback == f"wrong: the choice: answered {wrong_choice}; the answer is {q.then.answer}"
    code_wrong = verdict_of(qid, wrong_answer(q))
    assert not code_wrong.right and code_wrong.feedback.startswith("wrong: the code: ")


def test_two_part_feedback_says_which_part_was_wrong_in_words(tmp_path):
    q21, q26 = QUIZ.get("q21"), QUIZ.get("q26")
    wrong_choice = next(k for k in q21.then.choice_keys() if k != q21.then.answer)
    answers = {
        "q21": {"code": q21.answer, "choice": wrong_choice},
        "q26": {"code": "def pair_up(a, b):\n    return zip(a, b)\n", "choice": q26.then.answer},
    }
    path = tmp_path / "two-part.toml"
    path.write_text(answers_toml(answers), encoding="utf-8")
    shown = flat(fastgroup("quiz", "--answers", str(path)).stdout)
    q21_shown = shown[shown.index("Question 21/37") : shown.index("Question 22/37")]
    assert "Wrong. Your code passed the check. Your choice was not the right one." in q21_shown
    assert flat(q21.then.text_of(q21.then.answer)) in q21_shown
    q26_shown = shown[shown.index("Question 26/37") : shown.index("Question 27/37")]
    assert "Wrong. The check said: return a list, not a zip. Your choice was right." in q26_shown


def test_q21_draws_the_sigmoid_and_rejects_its_look_alikes():
    tanh = "import math\ndef sigmoid(x):\n    return math.tanh(x)\n"
    ramp = "def sigmoid(x):\n    return min(max(x / 4 + 0.5, 0.01), 0.99)\n"
    choice = QUIZ.get("q21").then.answer
    assert "stays strictly between 0 and 1" in verdict_of("q21", {"code": tanh, "choice": choice}).feedback
    assert "rises all the way" in verdict_of("q21", {"code": ramp, "choice": choice}).feedback
    special = QUIZ.get("q21").then.text_of(choice)
    assert "0 to 1" in special


def test_q32_does_not_require_an_optimizer_and_q30_says_leaf_tensors():
    q32 = QUIZ.get("q32")
    assert not any("optimizer" in q32.text_of(k) for k in q32.answer)
    assert any("optimizer" in c.text for c in q32.choices) and "Adam" in q32.explanation
    q30 = QUIZ.get("q30")
    assert "leaf tensor" in q30.text_of(q30.answer) and "leaf" in q30.explanation


@pytest.mark.parametrize("q", [q for q in QUIZ.questions if isinstance(q, NumericQuestion)], ids=lambda q: q.id)
def test_numeric_tolerances_are_within_the_precision_the_answer_is_written_in(q):
    decimals = len(f"{q.answer:g}".partition(".")[2])
    unit = 10.0**-decimals
    assert mark(q, q.answer).right
    assert not mark(q, q.answer + unit).right and not mark(q, q.answer - unit).right


# --- choices that do not give the answer away ----------------------------------------------------

# Every place a learner picks one choice: single-choice questions and the choice after a code answer.
PICKS = [q for q in QUIZ.questions if isinstance(q, SingleQuestion) or getattr(q, "then", None)]


def strategy_answers(pick) -> dict:
    """An answers file that answers every one-choice pick with `pick(choices)` and nothing else."""
    answers = {}
    for q in PICKS:
        if isinstance(q, CodeQuestion):
            answers[q.id] = {"code": q.answer, "choice": pick(q.then.choices)}
        else:
            answers[q.id] = pick(q.choices)
    return answers


STRATEGIES = {
    "the longest choice": lambda choices: max(choices, key=lambda c: len(c.text)).key,
    "the shortest choice": lambda choices: min(choices, key=lambda c: len(c.text)).key,
    "the first key": lambda choices: choices[0].key,
    "the last key": lambda choices: choices[-1].key,
}


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_answering_by_length_or_by_position_scores_near_chance(tmp_path, strategy):
    assert len(PICKS) == 24
    path = tmp_path / "strategy.json"
    path.write_text(json.dumps({"answers": strategy_answers(STRATEGIES[strategy])}), encoding="utf-8")
    result = run_quiz(answers=path, json_path=None, seed=0)
    assert result.score <= len(PICKS) / 3, f"picking {strategy} scores {result.score:g} of {len(PICKS)}"


def test_right_keys_are_spread_over_the_positions():
    keys = [(q.then if isinstance(q, CodeQuestion) else q).answer for q in PICKS]
    assert {k: keys.count(k) for k in "abcd"} == {"a": 6, "b": 6, "c": 6, "d": 6}
    multiples = [q for q in QUIZ.questions if isinstance(q, MultipleQuestion)]
    first_letters = [q.id for q in multiples if sorted(q.answer) == q.choice_keys()[: len(q.answer)]]
    assert len(first_letters) <= len(multiples) / 3, first_letters


# --- scoring ------------------------------------------------------------------------------------


@pytest.mark.parametrize("q", QUIZ.questions, ids=lambda q: q.id)
def test_each_question_scores_its_key_and_rejects_a_wrong_answer(q):
    assert mark(q, normalise(q, right_answer(q))).score == q.points
    wrong = mark(q, normalise(q, wrong_answer(q)))
    assert (wrong.score, wrong.right, wrong.answered) == (0, False, True)
    assert wrong.feedback.startswith("wrong")
    assert mark(q, None).feedback == "unanswered"


def test_choices_can_also_be_given_by_their_text():
    q1 = QUIZ.get("q01")
    assert normalise(q1, q1.text_of(q1.answer)) == q1.answer


def test_full_key_through_the_cli_scores_37_of_37(tmp_path, kit_home):
    answers = tmp_path / "key.toml"
    answers.write_text(answers_toml(key()), encoding="utf-8")
    out = tmp_path / "out.json"
    done = fastgroup("quiz", "--answers", str(answers), "--json", str(out), "--seed", "7")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Score 37/37" in done.stdout
    result = Results.model_validate_json(out.read_text())
    assert (result.score, result.max_score) == (37, 37)
    assert result.extra_data.kind == "quiz" and result.extra_data.seed == 7
    assert result.extra_data.outcomes["q14"] == "right"
    assert result.execution_time > 0
    t14 = result.tests[13]
    assert (t14.name, t14.number, t14.status, t14.tags) == (
        "q14: the seven steps of SGD, in order",
        "quiz.14",
        "passed",
        ["quiz", "q14"],
    )
    latest = latest_results_path("quiz")
    assert latest.is_relative_to(kit_home)
    assert Results.model_validate_json(latest.read_text()) == result


def test_one_wrong_answer_loses_exactly_that_questions_points(tmp_path):
    answers = key()
    answers["q23"] = 0.7  # the gradient added instead of subtracted
    path = tmp_path / "one-wrong.toml"
    path.write_text(answers_toml(answers), encoding="utf-8")
    result = run_quiz(answers=path, json_path=None, seed=1)
    assert result.score == 36
    assert [t.number for t in result.tests if t.status == "failed"] == ["quiz.23"]
    assert result.extra_data.revisit == ["q23"]


def test_missing_answers_count_as_unanswered(tmp_path):
    path = tmp_path / "partial.toml"
    path.write_text(answers_toml({"q01": QUIZ.get("q01").answer, "q14": QUIZ.get("q14").answer}), encoding="utf-8")
    result = run_quiz(answers=path, json_path=None, seed=None)
    assert result.score == 2
    assert result.tests[1].output == "unanswered"
    assert isinstance(result.extra_data.seed, int)


def test_answers_files_do_not_depend_on_the_seed(tmp_path):
    path = tmp_path / "key.json"
    path.write_text(json.dumps({"answers": key()}), encoding="utf-8")
    scores = {run_quiz(answers=path, json_path=None, seed=s).score for s in (0, 1, 12345)}
    assert scores == {37}
    q = QUIZ.get("q10")
    orders = {tuple(shuffled_keys(q, s)) for s in range(20)}
    assert len(orders) > 1 and shuffled_keys(q, 3) == shuffled_keys(q, 3)
    q14 = QUIZ.get("q14")
    assert all(shuffled_keys(q14, s) != q14.answer for s in range(50))


# --- bad answers files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[answers]\nq01 = \n", r"bad.toml: not valid TOML \(.*line 2"),
        ('[answers]\nq99 = "a"\n', r"bad.toml: unknown question 'q99'; ids run from q01 to q37"),
        ('[answers]\nq14 = "init"\n', r"bad.toml: q14 must be a list of 7 step names, got a string"),
        ('[answers]\nq14 = ["init", "loss"]\n', r"bad.toml: q14 must list each of the 7 step names once"),
        ("[answers]\nq01 = 3\n", r"bad.toml: q01 must be one choice key \(a, b, c, d\), got a number"),
        ('[answers]\nq01 = "z"\n', r"bad.toml: q01 has no choice 'z'"),
        ('[answers]\nq02 = "a"\n', r"bad.toml: q02 must be a list of choice keys"),
        ('[answers]\nq23 = "0.3"\n', r"bad.toml: q23 must be a number, got a string"),
        ("[answers]\nq23 = true\n", r"bad.toml: q23 must be a number, got true/false"),
        ("[answers]\nq26 = 'def pair_up(a, b): pass'\n", r"bad.toml: q26 has two parts: write it as \{ code = "),
        ('[answers]\nq21 = { code = "x = 1", choice = "z" }\n', r"bad.toml: q21 has no choice 'z': use one of a, b"),
        ("[answers]\nq04 = 5\n", r"bad.toml: q04 must be a string of Python code, got a number"),
        ('q01 = "a"\n', r"bad.toml: no \[answers\] table"),
        ('seed = 3\n[answers]\nq01 = "a"\n', r"bad.toml: unexpected top-level key 'seed'"),
    ],
)
def test_bad_answers_files_give_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(KitError, match=message) as err:
        read_answers_file(path, QUIZ)
    assert "\n" not in str(err.value)


def test_bad_answers_file_through_the_cli_exits_2_with_one_line(tmp_path):
    path = tmp_path / "answers.toml"
    path.write_text('[answers]\nq14 = "init, predict"\n', encoding="utf-8")
    done = fastgroup("quiz", "--answers", str(path))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: {path}: q14 must be a list of 7 step names, got a string"]
    assert not latest_results_path("quiz").exists()
    missing = fastgroup("quiz", "--answers", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "no such answers file" in missing.stderr


def flat(text: str) -> str:
    """Terminal output with rich's panel borders and line wrapping taken out."""
    return " ".join(text.replace("│", " ").replace("╭", " ").replace("╰", " ").split())


def q03_wrong_and_q05_left_out(tmp_path) -> tuple[dict, Path]:
    """An answers file: every answer right but q03 (wrong) and q05 (not answered)."""
    answers = key()
    answers["q03"] = wrong_answer(QUIZ.get("q03"))
    del answers["q05"]
    path = tmp_path / "answers.toml"
    path.write_text(answers_toml(answers), encoding="utf-8")
    return answers, path


def test_answers_file_mode_shows_feedback_and_every_answered_questions_explanation(tmp_path):
    answers, path = q03_wrong_and_q05_left_out(tmp_path)
    done = fastgroup("quiz", "--answers", str(path))
    assert done.returncode == 1, done.stderr
    shown = flat(done.stdout)
    for q in QUIZ.questions:
        assert (flat(q.explanation) in shown) == (q.id != "q05"), q.id
    assert shown.count("Right!") == 35
    q3 = shown[shown.index("Question 3/37") : shown.index("Question 4/37")]
    q03 = QUIZ.get("q03")
    assert "Wrong." in q3 and f"The answer: ({q03.answer}) {flat(q03.text_of(q03.answer))}" in q3
    assert f"Yours: ({answers['q03']}) {flat(q03.text_of(answers['q03']))}" in q3
    q5 = shown[shown.index("Question 5/37") : shown.index("Question 6/37")]
    assert "Not answered." in q5
    assert "Score 35/37" in shown


def test_a_half_filled_answers_file_grades_what_it_answers_and_keeps_the_rest_hidden_unless_asked(tmp_path):
    """A learner grades the first ten questions they answered: the other 27 are not spoiled."""
    path = tmp_path / "first-ten.toml"
    first_ten = {q.id: right_answer(q) for q in QUIZ.questions[:9]}
    first_ten["q10"] = wrong_answer(QUIZ.get("q10"))
    path.write_text(answers_toml(first_ten), encoding="utf-8")
    done = fastgroup("quiz", "--answers", str(path))
    assert done.returncode == 1, done.stderr
    shown = flat(done.stdout)
    assert "Score 9/37" in shown and shown.count("Right!") == 9 and shown.count("Wrong.") == 1
    for q in QUIZ.questions[10:]:
        assert flat(q.explanation) not in shown, q.id
        if isinstance(q, SingleQuestion):
            assert f"The answer: ({q.answer}) {flat(q.text_of(q.answer))}" not in shown, q.id
    assert shown.count("Not answered. Its answer stays hidden until you answer it (or pass --reveal).") == 27
    revisit = shown[shown.index("Topics to revisit:") : shown.index("Not answered (27):")]
    assert "q10 broadcasting" in revisit and "q11" not in revisit  # wrong, apart from unanswered
    assert f"`fastgroup quiz --answers {path} --reveal`" in shown
    result = Results.model_validate_json(latest_results_path("quiz").read_text())
    assert result.extra_data.outcomes["q10"] == "wrong" and result.extra_data.outcomes["q11"] == "unanswered"

    revealed = flat(fastgroup("quiz", "--answers", str(path), "--reveal").stdout)
    q37 = QUIZ.get("q37")
    assert flat(q37.explanation) in revealed
    assert f"The answer: ({q37.answer}) {flat(q37.text_of(q37.answer))}" in revealed
    assert "--reveal`" not in revealed
    alone = fastgroup("quiz", "--reveal")
    assert alone.returncode == 2 and alone.stderr.strip().splitlines() == [
        "error: --reveal shows the answers an answers file leaves out: pass --answers FILE too"]


def test_an_oversized_answers_file_is_refused_in_one_line_without_reading_it(tmp_path):
    path = tmp_path / "huge.toml"
    with open(path, "wb") as f:
        f.write(b"[answers]\n# ")
        f.truncate(200 * 1024 * 1024)  # 200 MB (sparse): the size the issue graded
    started = time.monotonic()
    done = fastgroup("quiz", "--answers", str(path))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: {path}: over the 1 MB limit for an answers file"]
    assert time.monotonic() - started < 30
    assert not latest_results_path("quiz").exists()
    just_under = tmp_path / "padded.toml"
    just_under.write_text('[answers]\nq01 = "a"\n#' + "x" * (MAX_ANSWERS_BYTES - 30) + "\n", encoding="utf-8")
    assert read_answers_file(just_under, QUIZ) == {"q01": "a"}


def test_json_null_reads_as_no_answer(tmp_path):
    q01 = QUIZ.get("q01")
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"answers": {"q01": None, "q02": QUIZ.get("q02").answer}}), encoding="utf-8")
    assert read_answers_file(path, QUIZ) == {"q02": sorted(QUIZ.get("q02").answer)}
    result = run_quiz(answers=path, json_path=None, seed=1)
    assert result.tests[0].output == "unanswered" and result.extra_data.outcomes[q01.id] == "unanswered"
    assert result.score == 1


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_a_utf8_byte_order_mark_is_accepted(tmp_path, suffix):
    q01 = QUIZ.get("q01")
    body = f'[answers]\nq01 = "{q01.answer}"\n' if suffix == ".toml" else json.dumps({"answers": {"q01": q01.answer}})
    path = tmp_path / f"answers{suffix}"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    assert read_answers_file(path, QUIZ) == {"q01": q01.answer}


# --- the code sandbox ---------------------------------------------------------------------------

RELU_TEST = QUIZ.get("q34").test
RELU = "def relu(x):\n    return max(x, 0.0)\n"
HOSTILE = {
    "endless loop": "while True:\n    pass\n",
    "sys.exit(0)": "import sys\nsys.exit(0)\n" + RELU,
    "os._exit(0)": "import os\nos._exit(0)\n" + RELU,
    "flood of output": "while True:\n    print('x' * 10_000)\n",
    "reads /etc/passwd": "print(open('/etc/passwd').read())\n" + RELU,
    "frees a file descriptor first": "import os\nos.close(0)\nprint(open('/etc/passwd').read())\n" + RELU,
    "eats memory": "hog = bytearray(50 * 1024**3)\n" + RELU,
    "prints a fake verdict": (
        "import sys\nnonce = sys.stdin.read()\n"
        'print(\'PASS\'); print(nonce, \'{"passed": true, "message": "all checks passed"}\')\n'
        "def relu(x):\n    return x\n"
    ),
    "patches builtins": (
        "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.max = lambda *a: 7\n"
        "def relu(x):\n    return 7\n"
    ),
}


def test_sandbox_passes_a_right_answer_and_explains_a_wrong_one():
    assert run_code(RELU, RELU_TEST).passed
    wrong = run_code("def relu(x):\n    return abs(x)\n", RELU_TEST)
    assert not wrong.passed and wrong.message == "relu(-2.0) returned 2.0, expected 0.0"
    assert "syntax error on line 1" in run_code("def relu(x) return x", RELU_TEST).message


BRIGHT_TEST = QUIZ.get("q04").test
CHEATS = {
    # q04: a list comprehension that is there to be seen, while something else does the work
    "q04: decoy comprehension, map and filter": (
        BRIGHT_TEST,
        "def bright(pixels):\n    [p for p in pixels if p]\n"
        "    return list(map(lambda p: p / 255, filter(None, pixels)))\n",
    ),
    "q04: decoy comprehension, a loop": (
        BRIGHT_TEST,
        "def bright(pixels):\n    unused = [p for p in pixels if p]\n    out = []\n"
        "    for p in pixels:\n        if p:\n            out.append(p / 255)\n    return out\n",
    ),
    "q04: decoy comprehension, recursion": (
        BRIGHT_TEST,
        "def bright(pixels):\n    if not pixels:\n        return [p for p in pixels if p]\n"
        "    return ([pixels[0] / 255] if pixels[0] else []) + bright(pixels[1:])\n",
    ),
    # q34: False for the negatives, which equals 0 but is not a number's value
    "q34: x > 0 and x": (RELU_TEST, "def relu(x):\n    return x > 0 and x\n"),
}
HONEST = {
    "q04: the comprehension returned": (
        BRIGHT_TEST,
        "def bright(pixels):\n    return [p / 255 for p in pixels if p]\n",
    ),
    "q04: named, then returned": (
        BRIGHT_TEST,
        "def bright(values):\n    kept = [v / 255 for v in values if v > 0]\n    return kept\n",
    ),
    "q34: max": (RELU_TEST, "def relu(x):\n    return max(x, 0)\n"),
    "q34: conditional": (RELU_TEST, "def relu(x):\n    return x if x > 0 else 0.0\n"),
    "q34: times a comparison": (RELU_TEST, "def relu(x):\n    return x * (x > 0)\n"),
}


@pytest.mark.parametrize(("test", "snippet"), CHEATS.values(), ids=list(CHEATS))
def test_checker_holes_are_closed(test, snippet):
    verdict = run_code(snippet, test)
    assert not verdict.passed, verdict
    assert verdict.message != "all checks passed"


@pytest.mark.parametrize(("test", "snippet"), HONEST.values(), ids=list(HONEST))
def test_honest_variants_still_pass(test, snippet):
    verdict = run_code(snippet, test)
    assert (verdict.passed, verdict.message) == (True, "all checks passed")


@pytest.mark.parametrize("snippet", HOSTILE.values(), ids=list(HOSTILE))
def test_sandbox_contains_hostile_code(snippet):
    started = time.monotonic()
    verdict = run_code(snippet, RELU_TEST, time_limit=2.0)
    assert not verdict.passed
    assert "root:" not in verdict.message
    assert time.monotonic() - started < 10


ISSUE_PROBES = {
    # raise the soft open-files limit back up, then read a file: the limit is hard now
    "raises RLIMIT_NOFILE": (
        "import resource\nresource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))\n"
        "SECRET = open('/etc/passwd').read()\ndef relu(x):\n    raise ValueError(SECRET)\n"
    ),
    # the verdict's caller is not in this process: there is no frame, nonce or check to reach
    "inspects the caller's frame": (
        "import sys\ndef relu(x):\n    f = sys._getframe(1)\n    return f.f_locals.get('want', max(x, 0.0)) * 0 - 1\n"
    ),
    "patches __main__.check": (
        "import sys\nsys.modules['__main__'].check = lambda *a: None\n"
        "globals()['check'] = lambda *a: None\ndef relu(x):\n    return abs(x)\n"
    ),
    "connects to 127.0.0.1": (
        "import socket\ns = socket.socket()\ns.settimeout(1)\ns.connect(('127.0.0.1', 5432))\n" + RELU
    ),
}


@pytest.mark.parametrize("snippet", ISSUE_PROBES.values(), ids=list(ISSUE_PROBES))
def test_sandbox_judges_outside_so_hostile_answers_score_nothing(snippet):
    verdict = run_code(snippet, RELU_TEST, time_limit=2.0)
    assert not verdict.passed, verdict
    assert "root:" not in verdict.message


def test_sandbox_does_not_leak_the_environment(monkeypatch):
    monkeypatch.setenv("FASTGROUP_TOKEN", "secret-token-123")
    leak = "import os\ndef relu(x):\n    raise ValueError(str(dict(os.environ)))\n"
    verdict = run_code(leak, RELU_TEST)
    assert not verdict.passed and "secret-token-123" not in verdict.message


def test_hostile_answers_through_the_cli_cost_only_their_question(tmp_path):
    answers = key()
    answers["q04"] = "while True:\n    pass\n"
    answers["q09"] = "import sys\nsys.exit(0)\n"
    answers["q26"] = {
        "code": "print('PASS')\nprint('{\"passed\": true}')\ndef pair_up(a, b):\n    return []\n",
        "choice": QUIZ.get("q26").then.answer,
    }
    answers["q34"] = "print(open('/etc/passwd').read())\n" + RELU
    path = tmp_path / "hostile.toml"
    path.write_text(answers_toml(answers), encoding="utf-8")
    out = tmp_path / "out.json"
    done = fastgroup("quiz", "--answers", str(path), "--json", str(out))
    assert done.returncode == 1, done.stderr
    assert "Score 33/37" in done.stdout
    result = Results.model_validate_json(out.read_text())
    failed = {t.number for t in result.tests if t.status == "failed"}
    assert failed == {"quiz.4", "quiz.9", "quiz.26", "quiz.34"}
    # /etc/passwd's first line, "root:x:0:0:..." (the explanations, now printed, say "square root:")
    assert not re.search(r"root:[^:\s]*:0:", out.read_text() + done.stdout + done.stderr)


# --- the interactive mode, in a pseudo-terminal -------------------------------------------------

ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\r")


class Terminal:
    """A command running on a pseudo-terminal, with pexpect-style expect() and send()."""

    def __init__(self, args: list[str]):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 200, 0, 0))
        env = dict(os.environ, TERM="xterm-256color", COLUMNS="200", LINES="60")
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.master, self.raw, self.pos = master, b"", 0

    @property
    def text(self) -> str:
        return ANSI.sub(b"", self.raw).decode("utf-8", errors="replace")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        self.raw += data
        return bool(data)

    def expect(self, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while (found := self.text.find(what, self.pos)) < 0:
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                raise AssertionError(f"no {what!r} in the terminal; it shows:\n{self.text[-3000:]}")
        self.pos = found + len(what)

    def send(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(0.2):
            pass
        code = self.proc.wait(timeout=max(1, deadline - time.monotonic()))
        os.close(self.master)
        return code


def typed_answer(q, seed: int, right: bool = True) -> list[str]:
    """What a learner types for a question, given how this seed shuffled its choices."""
    answer = right_answer(q) if right else wrong_answer(q)
    if isinstance(q, CodeQuestion):
        code = answer if q.then is None else answer["code"]
        lines = code.strip("\n").splitlines() + ["."]  # blank lines inside are kept
        if q.then is not None:
            lines.append(str(shuffled_keys(q, seed).index(answer["choice"]) + 1))
        return lines
    if isinstance(q, NumericQuestion):
        return [f"{answer}"]
    order = shuffled_keys(q, seed)
    picks = answer if isinstance(answer, list) else [answer]
    return [" ".join(str(order.index(k) + 1) for k in picks)]


def quiz_in_terminal(*args: str) -> Terminal:
    exe = shutil.which("fastgroup")
    cmd = [exe, "quiz", *args] if exe else [sys.executable, "-m", "grader.cli", "quiz", *args]
    return Terminal(cmd)


def test_interactive_quiz_end_to_end_in_a_pseudo_terminal():
    seed = 11
    term = quiz_in_terminal("--seed", str(seed))
    for n, q in enumerate(QUIZ.questions, start=1):
        term.expect(f"Question {n}/37")
        term.expect(">>> " if isinstance(q, CodeQuestion) else "Your answer")
        if n == 5:
            term.send("9")  # not a choice: asked again
            term.expect("'9' is not one of the numbers 1 to 4")
            term.expect("Your answer")
        for line in typed_answer(q, seed, right=n != 3):
            term.send(line)
        term.expect("Wrong." if n == 3 else "Right!")
        term.expect(q.explanation[:40])
    term.expect("Score 36/37")
    term.expect("Topics to revisit:")
    term.expect("q03 how the pixel-similarity baseline classifies")
    assert term.finish() == 1
    result = Results.model_validate_json(latest_results_path("quiz").read_text())
    assert result.score == 36 and result.extra_data.seed == seed
    assert result.extra_data.mode == "interactive"


def test_a_stopped_quiz_is_no_result_but_keeps_its_answers_to_resume_or_grade_as_a_file():
    term = quiz_in_terminal("--seed", "3")
    term.expect("Question 1/37")
    term.expect("Your answer")
    term.send(typed_answer(QUIZ.get("q01"), 3)[0])
    term.expect("Right!")
    term.expect("Question 2/37")
    term.expect("Your answer")
    term.send("skip")
    term.expect("Skipped.")
    term.expect("Question 3/37")
    term.expect("Your answer")
    os.write(term.master, b"\x04")  # Ctrl-D: end of input
    term.expect("Stopped at question 3: your 2 answers so far are kept. `fastgroup quiz --resume` goes on")
    assert term.finish() == 1
    assert not latest_results_path("quiz").exists()  # three questions in is not a 1/37 result

    term = quiz_in_terminal("--resume")  # the same seed: the choices in the order first shown
    term.expect("Resuming: 2 of 37 questions answered already.")
    term.expect("Question 3/37")  # questions 1 and 2 are not asked again
    term.expect("Your answer")
    term.send(typed_answer(QUIZ.get("q03"), 3)[0])
    term.expect("Right!")
    term.expect("Question 4/37")
    os.write(term.master, b"\x04")
    term.expect("Stopped at question 4: your 3 answers so far are kept")
    assert term.finish() == 1
    so_far = latest_results_path("quiz").with_name("quiz-answers-so-far.json")
    assert json.loads(so_far.read_text())["answers"] == {"q01": QUIZ.get("q01").answer, "q03": QUIZ.get("q03").answer}
    graded = fastgroup("quiz", "--answers", str(so_far))
    assert "Score 2/37" in graded.stdout  # the answers so far, graded as they are


def test_missed_asks_only_what_the_last_result_missed_and_keeps_the_rest(tmp_path):
    _, path = q03_wrong_and_q05_left_out(tmp_path)
    assert "Score 35/37" in fastgroup("quiz", "--answers", str(path)).stdout
    term = quiz_in_terminal("--missed", "--seed", "4")
    term.expect("Retaking the 2 questions your last result missed: q03, q05.")
    for n in (3, 5):
        term.expect(f"Question {n}/37")
        term.expect("Your answer")
        term.send(typed_answer(QUIZ.get(f"q0{n}"), 4)[0])
        term.expect("Right!")
    term.expect("Score 37/37")
    assert term.finish() == 0
    assert "Question 1/37" not in term.text and "Question 4/37" not in term.text
    assert Results.model_validate_json(latest_results_path("quiz").read_text()).score == 37


def test_a_missed_run_stopped_with_ctrl_d_keeps_its_answer_and_resume_goes_on_from_there(tmp_path):
    _, path = q03_wrong_and_q05_left_out(tmp_path)
    assert "Score 35/37" in fastgroup("quiz", "--answers", str(path)).stdout
    term = quiz_in_terminal("--missed", "--seed", "4")
    term.expect("Retaking the 2 questions your last result missed: q03, q05.")
    term.expect("Ctrl-D to stop (your answers so far are kept)")
    term.expect("Question 3/37")
    term.expect("Your answer")
    term.send(typed_answer(QUIZ.get("q03"), 4)[0])
    term.expect("Right!")
    term.expect("Question 5/37")
    term.expect("Your answer")
    os.write(term.master, b"\x04")  # Ctrl-D
    term.expect("Stopped at question 5: your 1 answer so far is kept. `fastgroup quiz --resume` goes on from here")
    assert term.finish() == 1
    assert "nothing saved" not in term.text
    assert Results.model_validate_json(latest_results_path("quiz").read_text()).score == 35  # the last result stands

    term = quiz_in_terminal("--resume")
    term.expect("Resuming the retake of what your last result missed: 1 answered, 1 left.")
    term.expect("Question 5/37")  # q03 is not asked again, nor any question the last result got right
    term.expect("Your answer")
    term.send(typed_answer(QUIZ.get("q05"), 4)[0])
    term.expect("Right!")
    term.expect("Score 37/37")
    assert term.finish() == 0
    assert "Question 3/37" not in term.text and "Question 1/37" not in term.text
    assert Results.model_validate_json(latest_results_path("quiz").read_text()).score == 37
    done = fastgroup("quiz", "--resume")  # a finished run leaves nothing to resume
    assert done.returncode == 2 and "no unfinished quiz to resume" in done.stderr


def ctrl_d_at(term: Terminal, n: int, said: str) -> None:
    """Ctrl-D when question `n` asks for its answer; the quiz says `said` and ends."""
    term.expect(f"Question {n}/37")
    term.expect("Your answer")
    os.write(term.master, b"\x04")
    term.expect(said)
    assert term.finish() == 1


def test_a_quiz_stopped_before_any_answer_can_still_be_resumed_and_a_new_start_keeps_it():
    term = quiz_in_terminal("--seed", "8")
    ctrl_d_at(term, 1, "Stopped at question 1, before any answer: `fastgroup quiz --resume` goes on from here.")
    term = quiz_in_terminal("--resume")
    term.expect("Resuming: 0 of 37 questions answered already.")
    term.expect("Seed 8.")  # the choices in the order first shown
    term.expect("Question 1/37")
    term.expect("Your answer")
    term.send(typed_answer(QUIZ.get("q01"), 8)[0])
    term.expect("Right!")
    ctrl_d_at(term, 2, "your 1 answer so far is kept")

    term = quiz_in_terminal("--seed", "9")  # the learner forgot --resume
    term.expect("You have a stopped quiz (1 answered): Ctrl-D now and `fastgroup quiz --resume` goes on with it")
    ctrl_d_at(term, 1, "before any answer: your earlier stopped quiz is kept; `fastgroup quiz --resume` goes on")
    term = quiz_in_terminal("--resume")
    term.expect("Resuming: 1 of 37 questions answered already.")
    term.expect("Seed 8.")
    ctrl_d_at(term, 2, "your 1 answer so far is kept")


def test_a_code_answer_may_hold_blank_lines_and_a_syntax_error_is_asked_again():
    seed = 5
    term = quiz_in_terminal("--seed", str(seed))
    for n in (1, 2, 3):
        term.expect(f"Question {n}/37")
        term.expect("Your answer")
        term.send("skip")
    term.expect("Question 4/37")
    term.expect("a line with just . to end it")
    term.expect(">>> ")
    for line in ("def bright(pixels)", "    return []", "."):  # no colon
        term.send(line)
    term.expect("Syntax error on line 1: expected ':'. Type the code again, or skip.")
    term.expect(">>> ")
    typed = ("def bright(pixels):", "", "    kept = [p / 255 for p in pixels if p != 0]", "", "    return kept", ".")
    for line in typed:
        term.send(line)
    term.expect("Right!")
    term.expect("Question 5/37")  # the blank lines stayed inside question 4
    term.expect("Your answer")
    os.write(term.master, b"\x04")
    term.expect("Stopped at question 5: your 4 answers so far are kept")
    assert term.finish() == 1


def test_interactive_mode_without_a_terminal_says_what_to_do():
    done = fastgroup("quiz")  # stdin is not a terminal under pytest
    assert done.returncode == 2
    assert "pass --answers FILE" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_tip_after_an_answers_file_names_the_command_that_sends_those_answers(tmp_path, capsys):
    path = tmp_path / "mine.toml"
    path.write_text('[answers]\nq01 = "a"\n', encoding="utf-8")
    run_quiz(answers=path, json_path=None, seed=0)
    shown = " ".join(capsys.readouterr().out.split())
    assert f"`fastgroup submit --quiz --answers {path}` sends your answers" in shown


def test_q08_is_worded_in_our_own_words():
    book = ("how can you apply a calculation on thousands of numbers at once, many thousands of times faster than a "
            "python loop?")
    words = lambda text: text.lower().replace("?", " ").replace(",", " ").split()  # noqa: E731
    grams = lambda w: {tuple(w[i:i + 5]) for i in range(len(w) - 4)}  # noqa: E731
    assert not grams(words(QUIZ.get("q08").prompt)) & grams(words(book))


def test_the_template_holds_every_question_its_choices_and_what_to_write():
    from quiz.answers import template_text

    quiz = load_quiz()
    text = template_text(quiz)
    assert tomllib.loads(text) == {"answers": {}}  # answers nothing
    for q in quiz.questions:
        first_line = q.prompt.strip().splitlines()[0]
        assert f"#   {first_line}" in text, q.id  # the prompt itself, not only the topic
    assert "#   A weight is 0.5, its gradient is 2.0 and the learning rate is 0.1." in text  # q23: something to compute
    assert "#   write: def bright(pixels)" in text and "#   write: def pair_up(a, b)" in text
    order = next(q for q in quiz.questions if q.type == "order")
    block = text.split(f"# {order.id} (")[1].split("\n\n")[0]
    keys = {c.key for c in order.choices}
    listed = [key for line in block.splitlines() if (key := line.removeprefix("#   ").split(":")[0]) in keys]
    assert sorted(listed) == listed and listed != list(order.answer)  # by key, never in the answer's order


def test_a_choice_over_several_lines_keeps_its_lines_in_the_template():
    from quiz.answers import commented

    assert commented("first line\nsecond line", "#   a: ", "#      ") == ["#   a: first line", "#      second line"]


def test_a_missed_answer_names_the_right_choices_and_which_of_yours_were_wrong():
    from quiz.session import missed_lines

    multiple = next(q for q in QUIZ.questions if isinstance(q, MultipleQuestion))
    wrong = next(c.key for c in multiple.choices if c.key not in multiple.answer)
    picked = [multiple.answer[0], wrong]  # one right, one wrong, the rest missed
    order = [c.key for c in multiple.choices][::-1]  # the numbers this attempt showed
    lines = missed_lines(multiple, picked, order)
    right = [f"  ({order.index(k) + 1}, {k}) {multiple.text_of(k)}" for k in multiple.answer]
    assert lines[1:1 + len(right)] == right
    assert f"Not right, yet you picked: ({order.index(wrong) + 1}, {wrong}) {multiple.text_of(wrong)}" in lines
    assert [line for line in lines if line.startswith("Missed: ")] == \
        [f"Missed: ({order.index(k) + 1}, {k}) {multiple.text_of(k)}" for k in multiple.answer[1:]]

    ordering = next(q for q in QUIZ.questions if isinstance(q, OrderQuestion))
    swapped = list(ordering.answer)
    swapped[2], swapped[3] = swapped[3], swapped[2]
    lines = missed_lines(ordering, swapped)
    assert lines[1] == f"  1. ({ordering.answer[0]}) {ordering.text_of(ordering.answer[0])}"
    assert lines[-1].endswith(f"from position 3 on it differs ({swapped[2]} where {ordering.answer[2]} goes)")

    numeric = next(q for q in QUIZ.questions if isinstance(q, NumericQuestion))
    expected = f"The answer: {numeric.answer:g} (within {numeric.tolerance:g})"
    assert missed_lines(numeric, 0.7) == [expected, "Yours: 0.7"] and missed_lines(numeric, None) == [expected]
