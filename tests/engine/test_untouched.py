"""grader/engine/untouched.py: a stub the learner has not started is known from the file alone."""

import pytest

from grader.core.steps import ALL_IDS
from grader.engine.untouched import untouched
from tests.support.kit import SOLUTIONS


@pytest.mark.parametrize("step", ALL_IDS)
def test_every_fresh_stub_is_untouched_with_its_own_message(fresh_stubs, step):
    message = untouched(fresh_stubs / f"{step}.py")
    assert message is not None and message.startswith(f"{step}: write ")


@pytest.mark.parametrize("step", ALL_IDS)
def test_no_solution_is_untouched(step):
    assert untouched(SOLUTIONS / f"{step}.py") is None


def edited(fresh_stubs, tmp_path, step: str, old: str, new: str):
    text = (fresh_stubs / f"{step}.py").read_text()
    assert old in text
    path = tmp_path / f"{step}.py"
    path.write_text(text.replace(old, new, 1))
    return path


def test_one_written_function_is_enough_to_be_graded(fresh_stubs, tmp_path):
    raise_line = '    raise NotImplementedError("linear1: write make_dataset'
    path = edited(fresh_stubs, tmp_path, "linear1", raise_line, "    return threes, sevens\n" + raise_line)
    assert untouched(path) is None


def test_a_written_method_is_enough_to_be_graded(fresh_stubs, tmp_path):
    raise_line = '        raise NotImplementedError("basic_optim: write BasicOptim.__init__'
    written = "        self.params = list(params)\n#" + raise_line[1:]  # the raise left as a comment
    written = "        self.params = list(params)\n#" + raise_line[1:]  # the raise left as a comment
    path = edited(fresh_stubs, tmp_path, "basic_optim", raise_line, written)
    assert untouched(path) is None


@pytest.mark.parametrize("extra", ["print('hello')\n", "THRESHOLD = 0.5\n", "if True:\n    pass\n",
                                   "@staticmethod\ndef helper():\n    raise NotImplementedError('x')\n"])
def test_code_outside_the_stubs_functions_is_graded(fresh_stubs, tmp_path, extra):
    path = tmp_path / "mnist_loss.py"
    path.write_text((fresh_stubs / "mnist_loss.py").read_text() + "\n" + extra)
    assert untouched(path) is None


def test_edited_docstrings_and_comments_still_read_as_not_started(fresh_stubs, tmp_path):
    notes = '    # my notes\n    """My own words: mean'
    notes = '    # my notes\n    """My own words: mean'
    path = edited(fresh_stubs, tmp_path, "mnist_loss", '    """Mean distance', notes)
    assert untouched(path).startswith("mnist_loss: write mnist_loss")


@pytest.mark.parametrize("text", ["def mnist_loss(:\n", "", "\xff\xfe not utf-8"])
def test_a_file_that_cannot_be_read_as_a_stub_is_graded(tmp_path, text):
    path = tmp_path / "mnist_loss.py"
    path.write_bytes(text.encode("latin-1"))
    assert untouched(path) is None
    assert untouched(tmp_path / "missing.py") is None


def test_code_nested_too_deeply_for_the_parser_is_graded_not_a_crash(tmp_path):
    path = tmp_path / "mnist_loss.py"
    path.write_text("x = " + "-" * 200_000 + "1\n")  # MemoryError inside Python's parser
    assert untouched(path) is None
