"""The GitHub Classroom template: a workflow that runs `pytest exercises/<step>.py` per step,
each worth the step's points (its checks' points). Generated (by `fastgroup generate`) so that
the points can never drift from the checks; a teacher copies
classroom/.github/workflows/classroom.yml into the assignment repository.
"""

from pathlib import Path

from grader.core.steps import STEPS

WORKFLOW = Path("classroom/.github/workflows/classroom.yml")

HEAD = """\
# GitHub Classroom autograding for fastgroup (Chapter 4 of the fastai book).
# Generated from grader/core/steps.toml and the checks by `fastgroup generate`: do not edit by hand.
# Copy this file to .github/workflows/classroom.yml in the assignment repository (a copy of the
# kit). Each step is one test worth its points; it passes when every check of the step passes.
name: Autograding Tests
on: [push, workflow_dispatch, repository_dispatch]
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - name: Checkout code
        uses: actions/checkout@v4
      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install the kit
        run: pip install -e .
"""

STEP = """\
      - name: {id}
        id: {id}
        uses: classroom-resources/autograding-command-grader@v1
        with:
          test-name: {id}
          setup-command: ""
          command: python -m pytest exercises/{id}.py -q -p no:cacheprovider --fastgroup-device cpu
          timeout: 10
          max-score: {points}
"""

REPORTER = """\
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
{env}
        with:
          runners: {runners}
"""


def workflow_text() -> str:
    """The workflow: one graded test per core step (the bonus steps are not part of the grade)."""
    from grader.engine import step_points

    steps = [s for s in STEPS if not s.bonus]
    body = "".join(STEP.format(id=s.id, points=int(step_points(s.id))) for s in steps)
    env = "\n".join(f'          {s.id.upper()}_RESULTS: "${{{{steps.{s.id}.outputs.result}}}}"' for s in steps)
    return HEAD + body + REPORTER.format(env=env, runners=",".join(s.id for s in steps))


def classroom_files(root: Path) -> dict[Path, str]:
    return {root / WORKFLOW: workflow_text()}
