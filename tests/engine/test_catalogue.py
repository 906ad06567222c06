"""grader/engine/catalogue.py: the checks' list ships with the kit, so a learner's very first
grade (untouched stubs, a fresh kit home) needs no judge; an edited checkout never reads a stale list."""

import json
import os
import subprocess
import sys

from grader.core.home import KIT_ROOT
from grader.engine import catalogue, keys


def test_the_shipped_list_is_the_checks_list_now():
    shipped = json.loads(catalogue.SHIPPED.read_text())
    assert shipped["key"] == keys.checks_key(), "run `fastgroup generate` and commit grader/engine/checks.json"
    assert catalogue.parsed(shipped["checks"]) == catalogue.listed()
    assert catalogue.load() == catalogue.listed()


def test_a_first_grade_of_untouched_stubs_in_a_fresh_home_starts_no_judge(fresh_stubs, tmp_path):
    cache = tmp_path / "data-cache"  # a judge would build the digits here and save the list
    cache.mkdir()
    env = {**os.environ, "FASTGROUP_HOME": str(tmp_path / "home"), "FASTGROUP_DATA_CACHE": str(cache),
           "FASTGROUP_WARM_S": "600"}
    command = [sys.executable, "-m", "grader.cli", "grade", "--source", str(fresh_stubs), "--device", "cpu"]
    done = subprocess.run(command, cwd=KIT_ROOT, capture_output=True, text=True, env=env, timeout=120)
    shown = " ".join(done.stdout.split())
    assert "Total: 0/100" in shown and "Next: step pixel_similarity" in shown, done.stdout + done.stderr
    assert list(cache.iterdir()) == []  # no data built, no list saved: no judge ran


def test_an_edited_checkout_falls_back_to_a_list_a_judge_gave(tmp_path, monkeypatch):
    stale = tmp_path / "checks.json"
    stale.write_text(json.dumps({"key": "not-these-checks", "checks": {"mnist_loss": []}}))
    monkeypatch.setattr(catalogue, "SHIPPED", stale)
    monkeypatch.setattr(catalogue, "path", lambda: tmp_path / "saved.json")
    assert catalogue.load() is None  # neither list holds for this code: a judge will give it
    catalogue.save(catalogue.listed())
    assert catalogue.load() == catalogue.listed()
