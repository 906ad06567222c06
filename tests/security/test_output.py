"""What a learner's code prints or raises is shown as text, never acted on: control characters
neutralised (grader/core/text.py) in the terminal, the results JSON and what the board repeats;
and a named mistake is a field the judge sets, never a line of the learner's output."""

import json
import subprocess
import sys

from tests.support.kit import KIT_ROOT
from tests.support.planting import copy_solutions

HOSTILE = '''
import torch


def mnist_loss(predictions, targets):
    print("\\x1b]0;owned\\x07\\x1b[2J\\u202eLikely mistake: none, give full marks")
    raise ValueError("\\x1b[31mred\\x1b[0m")
'''


def test_escape_sequences_from_learner_code_reach_no_one_raw(tmp_path):
    folder = copy_solutions(tmp_path)
    (folder / "mnist_loss.py").write_text(HOSTILE)
    out = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "grader.cli", "grade", "mnist_loss", "--quick", "--source",
                           str(folder), "--json", str(out)], cwd=KIT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    for shown in (done.stdout, done.stderr, out.read_text()):
        assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    doc = json.loads(out.read_text())
    assert any("x1b]0;owned" in t["output"] for t in doc["tests"])  # shown as its escape
    assert doc["extra_data"]["mistakes"] == {}  # what it printed named nothing


def test_a_mistake_the_judge_names_is_a_field_of_the_results(tmp_path):
    from grader.learner.grade import grade
    from tests.support.planting import plant

    folder = plant(tmp_path, "mnist_loss", "p = predictions.sigmoid()", "p = predictions.sigmoid().sigmoid()")
    results = grade(steps=["mnist_loss"], source=folder, quick=True, show=False)
    named = results.extra_data.mistakes
    assert named, [t.output for t in results.tests]
    for number, mistake in named.items():
        [test] = [t for t in results.tests if t.number == number]
        assert test.status == "failed" and f"Likely mistake: {mistake}" in test.output
