"""How much the notebook track costs: `nbgrader autograde` of the reference notebook against
`fastgroup grade --source solutions`, the same checks on the same solutions, in one run.

Both commands run as subprocesses with the same fresh kit home and data cache. A first,
untimed `fastgroup grade` builds the embedded digits and the reference curves, so that
neither timed command pays for them (--cold skips it: the first command then pays).

    python bench/bench_notebook.py
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.core.home import KIT_ROOT


def timed(cmd: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # 1: fastgroup grade found a failing check
        sys.exit(f"{' '.join(cmd)} failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="no warm-up run: caches start empty")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-notebook-"))
    env = {k: v for k, v in os.environ.items() if k not in ("FASTGROUP_DB_URL", "FASTGROUP_TOKEN")}
    env.update(FASTGROUP_HOME=str(work / "home"), FASTGROUP_DATA_CACHE=str(work / "cache"))
    course = work / "course"
    course.mkdir()
    shutil.copy(KIT_ROOT / "course" / "nbgrader_config.py", course)
    shutil.copytree(KIT_ROOT / "course" / "source", course / "source")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    timed([*nbgrader, "generate_assignment", "ch4", "--force"], course, env)
    submitted = course / "submitted" / "bench" / "ch4"
    submitted.mkdir(parents=True)
    shutil.copy(course / "source" / "ch4" / "ch4.ipynb", submitted)
    results = work / "results.json"
    grade = [sys.executable, "-m", "grader.cli", "grade", "--source", str(KIT_ROOT / "solutions"), "--device", "cpu"]
    grade += ["--json", str(results)]
    if not args.cold:
        timed(grade, KIT_ROOT, env)
    t_grade = timed(grade, KIT_ROOT, env)
    t_nb = timed([*nbgrader, "autograde", "ch4", "--force"], course, env)

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission("ch4", "bench")
        score, max_score = sub.score, sub.max_score
    graded = json.loads(results.read_text())
    bonus = graded["extra_data"].get("bonus_score", 0), graded["extra_data"].get("bonus_max_score", 0)
    print(f"fastgroup grade --source solutions : {t_grade:7.1f} s  ({graded['score']:g}/{graded['max_score']:g} "
          f"points, bonus {bonus[0]:g}/{bonus[1]:g})")
    print(f"nbgrader autograde ch4             : {t_nb:7.1f} s  ({score:g}/{max_score:g} points)")
    print(f"ratio autograde / grade            : {t_nb / t_grade:7.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
